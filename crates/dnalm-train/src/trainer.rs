//! The pre-training loop, top to bottom: data, model, optimiser, then for
//! each update: micro-batches -> loss -> gradients -> clip -> AdamW ->
//! log / evaluate / checkpoint. Resume re-enters the same loop at the saved
//! step; because every random draw of a step is keyed by `(seed, step)`, a
//! resumed run computes exactly what the uninterrupted run would have.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use dnalm_model::weights::{self, mlm_state_dict, StateDict};
use dnalm_model::{BatchInput, BertConfig, BertForMaskedLm, Device};
use serde::{Deserialize, Serialize};

use crate::batch::{BatchSampler, Split};
use crate::checkpoint::{self, Checkpoint, TrainState};
use crate::config::TrainConfig;
use crate::corpus::TokenCorpus;
use crate::error::{Result, TrainError};
use crate::mask::{Batch, MaskCollator};
use crate::optim::{AdamW, AdamWConfig, GradBuffer};
use crate::schedule::LinearSchedule;

/// The data of a run.
#[derive(Debug)]
pub struct PretrainData<'a> {
    pub train: &'a TokenCorpus,
    /// A separate evaluation corpus; without one, `eval_fraction` of `train`
    /// is held out (seeded).
    pub eval: Option<&'a TokenCorpus>,
    /// k of an overlapping k-mer tokenizer (for span masking).
    pub kmer_k: Option<usize>,
}

/// What the loop reports as it goes (the CLI draws progress from these).
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        start_step: u64,
        max_steps: u64,
        parameters: usize,
        train_sequences: usize,
        eval_sequences: usize,
        expected_mask_fraction: f64,
    },
    Step(Metrics),
    Eval(EvalMetrics),
    Checkpoint {
        step: u64,
        dir: PathBuf,
    },
}

/// One metrics line (`metrics.jsonl`, `"kind": "train"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metrics {
    pub step: u64,
    pub loss: f64,
    pub masked_accuracy: f64,
    pub lr: f64,
    pub grad_norm: f64,
    pub effective_mask_fraction: f64,
    pub tokens_seen: u64,
    pub tokens_per_second: f64,
    pub elapsed_seconds: f64,
}

/// One evaluation line (`"kind": "eval"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalMetrics {
    pub step: u64,
    pub eval_loss: f64,
    pub perplexity: f64,
    pub masked_accuracy: f64,
    pub masked_tokens: usize,
    pub is_best: bool,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Summary {
    pub steps: u64,
    pub first_eval: Option<EvalMetrics>,
    pub last_eval: Option<EvalMetrics>,
    pub best_step: Option<u64>,
    pub best_eval_loss: Option<f64>,
    pub model_dir: PathBuf,
    pub model_config: BertConfig,
}

/// Run switches that do not change what is computed.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue from the newest checkpoint in the output folder.
    pub resume: bool,
    /// Stop after this many updates of this invocation (for tests and
    /// time-boxed runs); the run can be resumed later.
    pub stop_after: Option<u64>,
}

const METRICS_FILE: &str = "metrics.jsonl";
pub const RUN_CONFIG_FILE: &str = "run.toml";

/// The model config of a run for a corpus of `vocab_size` tokens.
pub fn model_config(cfg: &TrainConfig, vocab_size: usize) -> Result<BertConfig> {
    let mut c = BertConfig::preset(&cfg.preset, Some(vocab_size)).map_err(TrainError::Model)?;
    if let Some(l) = cfg.lstm_layers {
        c.dnalm_lstm_layers = l;
    }
    if let Some(d) = cfg.dropout {
        c.hidden_dropout_prob = d;
        c.attention_probs_dropout_prob = d;
    }
    if cfg.max_len > c.max_position_embeddings {
        return Err(TrainError::Config(format!(
            "max_len {} is more than the model's {} positions",
            cfg.max_len, c.max_position_embeddings
        )));
    }
    c.validate().map_err(TrainError::Model)?;
    Ok(c)
}

fn mix(seed: u64, a: u64, b: u64) -> u64 {
    dnalm_seq::mix64(dnalm_seq::mix64(seed, a), b)
}

fn to_input(b: &Batch) -> BatchInput {
    BatchInput {
        input_ids: b.input_ids.clone(),
        attention_mask: b.attention_mask.clone(),
        token_type_ids: None,
        batch_size: b.batch_size,
        seq_len: b.seq_len,
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |e| TrainError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let mut f =
        dnalm_seq::AtomicFile::create(path).map_err(|e| TrainError::Checkpoint(e.to_string()))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.commit()
        .map_err(|e| TrainError::Checkpoint(e.to_string()))
}

/// Keep the metrics lines of steps `<= step` (a resumed run rewrites what
/// came after its checkpoint).
fn truncate_metrics(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("step").and_then(|s| s.as_u64()))
                .is_some_and(|s| s <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    write_atomic(path, &kept)
}

/// Evaluate on fixed held-out batches (masks keyed by the batch number, not
/// the step, so every evaluation sees the same masked positions).
fn evaluate(
    model: &BertForMaskedLm,
    corpus: &TokenCorpus,
    indices: &[u32],
    collator: &MaskCollator,
    batch_size: usize,
    shards: usize,
    device: &Device,
) -> Result<(f64, f64, usize)> {
    let (mut loss_sum, mut correct, mut n) = (0.0f64, 0usize, 0usize);
    for (i, chunk) in indices.chunks(batch_size).enumerate() {
        let idx: Vec<usize> = chunk.iter().map(|&x| x as usize).collect();
        let batch = collator.collate_corpus(corpus, &idx, u64::MAX, i as u64)?;
        let input = to_input(&batch);
        let (loss, labels, right) =
            crate::shard::mlm_eval(model, &input, &batch.labels, shards, device)?;
        loss_sum += loss;
        correct += right;
        n += labels;
    }
    if n == 0 {
        return Err(TrainError::Config(
            "the evaluation set has no maskable token".into(),
        ));
    }
    Ok((loss_sum / n as f64, correct as f64 / n as f64, n))
}

/// Pre-train a masked-LM on `data` into `out`. See the module doc for the
/// layout of `out`.
pub fn pretrain(
    cfg: &TrainConfig,
    data: &PretrainData<'_>,
    out: &Path,
    opts: &RunOptions,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Summary> {
    cfg.validate()?;
    let corpus = data.train;
    let vocab = corpus.vocab_size();
    if let Some(e) = data.eval {
        if e.vocab_size() != vocab || e.tokenizer_kind() != corpus.tokenizer_kind() {
            return Err(TrainError::Config(format!(
                "the eval corpus {} ({} tokens, {}) was made with another tokenizer than {} ({} tokens, {})",
                e.path().display(),
                e.vocab_size(),
                e.tokenizer_kind(),
                corpus.path().display(),
                vocab,
                corpus.tokenizer_kind()
            )));
        }
    }
    let model_cfg = model_config(cfg, vocab)?;
    let run_toml = cfg.to_toml();
    let strategy = cfg.mask_strategy(corpus.tokenizer_kind(), data.kmer_k)?;
    let collator = MaskCollator::builder(strategy, vocab)
        .max_len(cfg.max_len)
        .seed(cfg.seed)
        .build()?;
    collator.check_corpus(corpus)?;

    // Held-out data.
    let (train_idx, eval_idx): (Vec<u32>, Vec<u32>) = match data.eval {
        Some(e) => (
            (0..corpus.len() as u32).collect(),
            (0..e.len() as u32).collect(),
        ),
        None => {
            let split = Split::by_fraction(corpus.len(), cfg.eval_fraction, cfg.seed)?;
            (split.train, split.eval)
        }
    };
    let eval_corpus = data.eval.unwrap_or(corpus);
    let mut eval_idx = eval_idx;
    if cfg.eval_max_sequences > 0 {
        eval_idx.truncate(cfg.eval_max_sequences);
    }
    if eval_idx.is_empty() {
        return Err(TrainError::Config(
            "no held-out sequence to evaluate on: raise eval_fraction or pass an eval corpus"
                .into(),
        ));
    }
    let mut sampler = BatchSampler::new(train_idx.clone(), cfg.batch_size, cfg.seed)?;

    // Output folder: a fresh run never overwrites an earlier one.
    std::fs::create_dir_all(out).map_err(io(out))?;
    let previous = checkpoint::latest(out)?;
    if previous.is_some() && !opts.resume {
        return Err(TrainError::Config(format!(
            "{} already holds checkpoints: pass --resume to continue that run, or choose another output folder",
            out.display()
        )));
    }

    let inner = dnalm_model::device(dnalm_model::Backend::Cpu).map_err(TrainError::Model)?;
    let device = inner.clone().autodiff();
    let mut model = dnalm_model::seeded(cfg.seed, || BertForMaskedLm::new(&model_cfg, &device));
    let mut opt = AdamW::new(AdamWConfig {
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        eps: cfg.eps,
        weight_decay: cfg.weight_decay,
        hf_decay_groups: true,
    })?;
    let mut state = TrainState {
        step: 0,
        tokens_seen: 0,
        best_eval_loss: None,
        best_step: None,
        run_config: run_toml.clone(),
    };
    if opts.resume {
        if let Some(ck) = previous {
            if ck.state.run_config != run_toml {
                return Err(TrainError::Config(format!(
                    "--resume: the run config differs from the one saved in {} (see {}/{RUN_CONFIG_FILE}); \
                     resume with the same settings or start a new output folder",
                    ck.dir.display(),
                    out.display()
                )));
            }
            let tensors: StateDict = ck
                .model
                .into_iter()
                .filter(|(k, _)| !k.starts_with("cls.predictions.decoder."))
                .collect();
            let (m, _) =
                weights::load_state_dict(model, &tensors, &ck.dir.join(checkpoint::MODEL_FILE))
                    .map_err(TrainError::Model)?;
            model = m;
            opt.load_state_dict(&ck.optimizer, ck.state.step, &inner)?;
            state = ck.state;
        }
    }
    write_atomic(&out.join(RUN_CONFIG_FILE), &run_toml)?;
    write_atomic(&out.join(checkpoint::CONFIG_FILE), &model_cfg.to_json())?;
    let metrics_path = out.join(METRICS_FILE);
    truncate_metrics(&metrics_path, state.step)?;
    let mut metrics_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&metrics_path)
        .map_err(io(&metrics_path))?;

    let schedule = LinearSchedule::new(cfg.lr, cfg.warmup_steps, cfg.max_steps)?;
    let clip = (cfg.max_grad_norm > 0.0).then_some(cfg.max_grad_norm);
    on_event(&Event::Started {
        start_step: state.step,
        max_steps: cfg.max_steps,
        parameters: model_cfg.parameter_count(),
        train_sequences: train_idx.len(),
        eval_sequences: eval_idx.len(),
        expected_mask_fraction: crate::mask::measure_masked_fraction(
            &collator, corpus, 256, cfg.seed,
        )?
        .expected_fraction(),
    });

    let save =
        |model: &BertForMaskedLm, opt: &AdamW, state: &TrainState, best: bool| -> Result<PathBuf> {
            let sd = mlm_state_dict(model);
            let osd = opt.state_dict();
            let ck = Checkpoint {
                model: &sd,
                optimizer: &osd,
                state,
                model_config_json: &model_cfg.to_json(),
            };
            if best {
                checkpoint::save_best(out, &ck)
            } else {
                checkpoint::save(out, &ck, cfg.keep_checkpoints)
            }
        };

    let started = Instant::now();
    let start_step = state.step;
    let mut first_eval = None;
    let mut last_eval = None;
    let (mut loss_acc, mut correct_acc, mut labels_acc, mut masked_acc, mut maskable_acc) =
        (0.0f64, 0usize, 0usize, 0usize, 0usize);
    let mut micro_count = 0usize;
    let mut tokens_window = 0u64;
    let mut window_start = Instant::now();
    while state.step < cfg.max_steps {
        if opts
            .stop_after
            .is_some_and(|n| state.step - start_step >= n)
        {
            // A time-boxed stop keeps its work: checkpoint where it stands.
            if !state.step.is_multiple_of(cfg.save_every) {
                let dir = save(&model, &opt, &state, false)?;
                on_event(&Event::Checkpoint {
                    step: state.step,
                    dir,
                });
            }
            break;
        }
        let step = state.step;
        let lr = schedule.lr_at(step);
        let mut grads = GradBuffer::default();
        for micro in 0..cfg.grad_accum as u64 {
            let idx = sampler.batch(step * cfg.grad_accum as u64 + micro);
            let batch = collator.collate_corpus(corpus, &idx, step, micro)?;
            let real: u64 = batch.attention_mask.iter().map(|&m| m as u64).sum();
            let input = to_input(&batch);
            // Dropout masks are keyed by (seed, step, micro-batch, shard).
            let out = crate::shard::mlm_backward(
                &model,
                &input,
                &batch.labels,
                cfg.shards,
                mix(cfg.seed, step, micro),
                &device,
                &mut grads,
            )?;
            let loss_value = out.loss;
            if !loss_value.is_finite() {
                return Err(TrainError::Diverged {
                    step,
                    loss: loss_value,
                });
            }
            loss_acc += loss_value;
            micro_count += 1;
            correct_acc += out.n_correct;
            labels_acc += out.n_labels;
            masked_acc += batch.n_masked;
            maskable_acc += batch.n_maskable;
            state.tokens_seen += real;
            tokens_window += real;
        }
        let (m, info) = opt.step(model, grads, lr, clip);
        model = m;
        state.step += 1;

        if state.step.is_multiple_of(cfg.log_every) || state.step == cfg.max_steps {
            let n_micro = micro_count.max(1) as f64;
            let elapsed = window_start.elapsed().as_secs_f64().max(1e-9);
            let metrics = Metrics {
                step: state.step,
                loss: loss_acc / n_micro,
                masked_accuracy: correct_acc as f64 / labels_acc.max(1) as f64,
                lr,
                grad_norm: info.grad_norm,
                effective_mask_fraction: masked_acc as f64 / maskable_acc.max(1) as f64,
                tokens_seen: state.tokens_seen,
                tokens_per_second: tokens_window as f64 / elapsed,
                elapsed_seconds: started.elapsed().as_secs_f64(),
            };
            let mut line = serde_json::to_value(&metrics).expect("metrics serialise");
            line["kind"] = "train".into();
            writeln!(metrics_file, "{line}").map_err(io(&metrics_path))?;
            on_event(&Event::Step(metrics));
            (loss_acc, correct_acc, labels_acc, masked_acc, maskable_acc) = (0.0, 0, 0, 0, 0);
            micro_count = 0;
            tokens_window = 0;
            window_start = Instant::now();
        }
        let at_end = state.step == cfg.max_steps;
        if state.step.is_multiple_of(cfg.eval_every) || at_end {
            let (loss, acc, n) = evaluate(
                &model.valid(),
                eval_corpus,
                &eval_idx,
                &collator,
                cfg.eval_batch_size,
                cfg.shards,
                &inner,
            )?;
            let is_best = state.best_eval_loss.is_none_or(|b| loss < b);
            if is_best {
                state.best_eval_loss = Some(loss);
                state.best_step = Some(state.step);
            }
            let ev = EvalMetrics {
                step: state.step,
                eval_loss: loss,
                perplexity: loss.exp(),
                masked_accuracy: acc,
                masked_tokens: n,
                is_best,
            };
            let mut line = serde_json::to_value(&ev).expect("metrics serialise");
            line["kind"] = "eval".into();
            writeln!(metrics_file, "{line}").map_err(io(&metrics_path))?;
            on_event(&Event::Eval(ev.clone()));
            if first_eval.is_none() {
                first_eval = Some(ev.clone());
            }
            last_eval = Some(ev);
            if is_best {
                save(&model, &opt, &state, true)?;
            }
        }
        if state.step.is_multiple_of(cfg.save_every) || at_end {
            let dir = save(&model, &opt, &state, false)?;
            on_event(&Event::Checkpoint {
                step: state.step,
                dir,
            });
        }
    }
    metrics_file.flush().map_err(io(&metrics_path))?;

    // The final model is the best one seen (HF's load_best_model_at_end).
    let model_dir = out.join("model");
    let best_dir = out.join("best");
    if state.step == cfg.max_steps && best_dir.join(checkpoint::MODEL_FILE).is_file() {
        std::fs::create_dir_all(&model_dir).map_err(io(&model_dir))?;
        for f in [checkpoint::MODEL_FILE, checkpoint::CONFIG_FILE] {
            let to = model_dir.join(f);
            let bytes = std::fs::read(best_dir.join(f)).map_err(io(&best_dir))?;
            let mut af = dnalm_seq::AtomicFile::create(&to)
                .map_err(|e| TrainError::Checkpoint(e.to_string()))?;
            af.write_all(&bytes).map_err(io(&to))?;
            af.commit()
                .map_err(|e| TrainError::Checkpoint(e.to_string()))?;
        }
    }
    Ok(Summary {
        steps: state.step,
        first_eval,
        last_eval,
        best_step: state.best_step,
        best_eval_loss: state.best_eval_loss,
        model_dir,
        model_config: model_cfg,
    })
}

/// Read metrics lines back (for plots and reports).
pub fn read_metrics(out: &Path) -> Result<Vec<serde_json::Value>> {
    let path = out.join(METRICS_FILE);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Loss-curve series from metrics lines: train loss and eval loss by step.
pub fn loss_series(lines: &[serde_json::Value]) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut train = Vec::new();
    let mut eval = Vec::new();
    for l in lines {
        let step = l.get("step").and_then(|v| v.as_f64());
        match (l.get("kind").and_then(|k| k.as_str()), step) {
            (Some("train"), Some(s)) => {
                if let Some(v) = l.get("loss").and_then(|v| v.as_f64()) {
                    train.push((s, v));
                }
            }
            (Some("eval"), Some(s)) => {
                if let Some(v) = l.get("eval_loss").and_then(|v| v.as_f64()) {
                    eval.push((s, v));
                }
            }
            _ => {}
        }
    }
    let mut out = vec![("train loss".to_string(), train)];
    if !eval.is_empty() {
        out.push(("eval loss".to_string(), eval));
    }
    out
}
