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
    let prep = prepare(cfg, data)?;
    let train_sequences = prep.train_idx.len();
    let sampler = BatchSampler::new(prep.train_idx.clone(), cfg.batch_size, cfg.seed)?;
    let previous = open_out_dir(out, opts)?;

    let inner = dnalm_model::device(dnalm_model::Backend::Cpu).map_err(TrainError::Model)?;
    let device = inner.clone().autodiff();
    let resume_from = previous.filter(|_| opts.resume);
    let (mut model, mut opt, mut state) = start(
        cfg,
        &prep.model_cfg,
        &prep.run_toml,
        resume_from,
        out,
        &inner,
        &device,
    )?;
    prep.write_run_files(out)?;
    let mut log = MetricsLog::open(out, state.step)?;

    let schedule = LinearSchedule::new(cfg.lr, cfg.warmup_steps, cfg.max_steps)?;
    let clip = (cfg.max_grad_norm > 0.0).then_some(cfg.max_grad_norm);
    on_event(&Event::Started {
        start_step: state.step,
        max_steps: cfg.max_steps,
        parameters: prep.model_cfg.parameter_count(),
        train_sequences,
        eval_sequences: prep.eval_idx.len(),
        expected_mask_fraction: expected_mask_fraction(&prep.collator, corpus, cfg.seed)?,
    });
    let mut feed = Feed::new(corpus, &prep.collator, sampler);
    let eval = EvalSet::new(data.eval.unwrap_or(corpus), &prep.eval_idx);
    let saver = Saver::new(cfg, out, &prep.model_cfg);

    let started = Instant::now();
    let start_step = state.step;
    let (mut first_eval, mut last_eval) = (None, None);
    let mut window = Window::new();
    while state.step < cfg.max_steps {
        let stop_now = opts
            .stop_after
            .is_some_and(|n| state.step - start_step >= n);
        if stop_now {
            // A time-boxed stop keeps its work: checkpoint where it stands.
            if !state.step.is_multiple_of(cfg.save_every) {
                saver.checkpoint(&model, &opt, &state, on_event)?;
            }
            break;
        }
        let lr = schedule.lr_at(state.step);
        let grads = feed.gradients(&model, cfg, &mut state, &device, &mut window)?;
        let (m, info) = opt.step(model, grads, lr, clip);
        model = m;
        state.step += 1;

        if state.step.is_multiple_of(cfg.log_every) || state.step == cfg.max_steps {
            let metrics = window.metrics(&state, lr, info.grad_norm, &started);
            log.write("train", &metrics)?;
            on_event(&Event::Step(metrics));
            window = Window::new();
        }
        let at_end = state.step == cfg.max_steps;
        if state.step.is_multiple_of(cfg.eval_every) || at_end {
            let ev = evaluate_at(&model, &eval, &prep.collator, cfg, &inner, &mut state)?;
            log.write("eval", &ev)?;
            on_event(&Event::Eval(ev.clone()));
            if ev.is_best {
                saver.save(&model, &opt, &state, true)?;
            }
            first_eval.get_or_insert_with(|| ev.clone());
            last_eval = Some(ev);
        }
        if state.step.is_multiple_of(cfg.save_every) || at_end {
            saver.checkpoint(&model, &opt, &state, on_event)?;
        }
    }
    log.flush()?;
    let model_dir = publish_best(out, state.step == cfg.max_steps)?;
    Ok(Summary {
        steps: state.step,
        first_eval,
        last_eval,
        best_step: state.best_step,
        best_eval_loss: state.best_eval_loss,
        model_dir,
        model_config: prep.model_cfg,
    })
}

/// What a run is made of before it touches the output folder.
struct Prepared {
    model_cfg: BertConfig,
    run_toml: String,
    collator: MaskCollator,
    train_idx: Vec<u32>,
    eval_idx: Vec<u32>,
}

impl Prepared {
    /// `run.toml` and the model's `config.json` in the output folder.
    fn write_run_files(&self, out: &Path) -> Result<()> {
        write_atomic(&out.join(RUN_CONFIG_FILE), &self.run_toml)?;
        write_atomic(
            &out.join(checkpoint::CONFIG_FILE),
            &self.model_cfg.to_json(),
        )
    }
}

/// Check the data against the config and make the model config, the
/// masking and the held-out split.
fn prepare(cfg: &TrainConfig, data: &PretrainData<'_>) -> Result<Prepared> {
    let corpus = data.train;
    check_eval_corpus(data)?;
    let model_cfg = model_config(cfg, corpus.vocab_size())?;
    let run_toml = cfg.to_toml();
    let strategy = cfg.mask_strategy(corpus.tokenizer_kind(), data.kmer_k)?;
    let collator = MaskCollator::builder(strategy, corpus.vocab_size())
        .max_len(cfg.max_len)
        .seed(cfg.seed)
        .build()?;
    collator.check_corpus(corpus)?;
    let (train_idx, eval_idx) = held_out(cfg, data)?;
    Ok(Prepared {
        model_cfg,
        run_toml,
        collator,
        train_idx,
        eval_idx,
    })
}

/// The share of tokens the masking selects, measured on 256 sequences.
fn expected_mask_fraction(collator: &MaskCollator, corpus: &TokenCorpus, seed: u64) -> Result<f64> {
    Ok(crate::mask::measure_masked_fraction(collator, corpus, 256, seed)?.expected_fraction())
}

/// A separate eval corpus must share the training corpus's tokenizer.
fn check_eval_corpus(data: &PretrainData<'_>) -> Result<()> {
    let (corpus, vocab) = (data.train, data.train.vocab_size());
    match data.eval {
        Some(e) if e.vocab_size() != vocab || e.tokenizer_kind() != corpus.tokenizer_kind() => {
            Err(TrainError::Config(format!(
                "the eval corpus {} ({} tokens, {}) was made with another tokenizer than {} ({} tokens, {})",
                e.path().display(),
                e.vocab_size(),
                e.tokenizer_kind(),
                corpus.path().display(),
                vocab,
                corpus.tokenizer_kind()
            )))
        }
        _ => Ok(()),
    }
}

/// The training and evaluation sequence indices: all of `train` and the
/// eval corpus, or a seeded held-out share of `train`.
fn held_out(cfg: &TrainConfig, data: &PretrainData<'_>) -> Result<(Vec<u32>, Vec<u32>)> {
    let corpus = data.train;
    let (train_idx, mut eval_idx): (Vec<u32>, Vec<u32>) = match data.eval {
        Some(e) => (
            (0..corpus.len() as u32).collect(),
            (0..e.len() as u32).collect(),
        ),
        None => {
            let split = Split::by_fraction(corpus.len(), cfg.eval_fraction, cfg.seed)?;
            (split.train, split.eval)
        }
    };
    if cfg.eval_max_sequences > 0 {
        eval_idx.truncate(cfg.eval_max_sequences);
    }
    if eval_idx.is_empty() {
        return Err(TrainError::Config(
            "no held-out sequence to evaluate on: raise eval_fraction or pass an eval corpus"
                .into(),
        ));
    }
    Ok((train_idx, eval_idx))
}

/// Create the output folder and return its newest checkpoint: a fresh run
/// never overwrites an earlier one.
fn open_out_dir(out: &Path, opts: &RunOptions) -> Result<Option<checkpoint::Loaded>> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let previous = checkpoint::latest(out)?;
    if previous.is_some() && !opts.resume {
        return Err(TrainError::Config(format!(
            "{} already holds checkpoints: pass --resume to continue that run, or choose another output folder",
            out.display()
        )));
    }
    Ok(previous)
}

/// The seeded model, the optimiser and the run state at step 0, or as a
/// checkpoint of the same run config left them.
fn start(
    cfg: &TrainConfig,
    model_cfg: &BertConfig,
    run_toml: &str,
    resume_from: Option<checkpoint::Loaded>,
    out: &Path,
    inner: &Device,
    device: &Device,
) -> Result<(BertForMaskedLm, AdamW, TrainState)> {
    let model = dnalm_model::seeded(cfg.seed, || BertForMaskedLm::new(model_cfg, device));
    let mut opt = AdamW::new(AdamWConfig {
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        eps: cfg.eps,
        weight_decay: cfg.weight_decay,
        hf_decay_groups: true,
    })?;
    let state = TrainState {
        step: 0,
        tokens_seen: 0,
        best_eval_loss: None,
        best_step: None,
        run_config: run_toml.to_string(),
    };
    let Some(ck) = resume_from else {
        return Ok((model, opt, state));
    };
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
    let (model, _) =
        weights::load_state_dict(model, &tensors, &ck.dir.join(checkpoint::MODEL_FILE))
            .map_err(TrainError::Model)?;
    opt.load_state_dict(&ck.optimizer, ck.state.step, inner)?;
    Ok((model, opt, ck.state))
}

/// Saves checkpoints (the newest `keep_checkpoints`, and the best) into
/// the output folder.
struct Saver<'a> {
    cfg: &'a TrainConfig,
    out: &'a Path,
    model_config_json: String,
}

impl<'a> Saver<'a> {
    fn new(cfg: &'a TrainConfig, out: &'a Path, model_cfg: &BertConfig) -> Self {
        Self {
            cfg,
            out,
            model_config_json: model_cfg.to_json(),
        }
    }

    fn save(
        &self,
        model: &BertForMaskedLm,
        opt: &AdamW,
        state: &TrainState,
        best: bool,
    ) -> Result<PathBuf> {
        let sd = mlm_state_dict(model);
        let osd = opt.state_dict();
        let ck = Checkpoint {
            model: &sd,
            optimizer: &osd,
            state,
            model_config_json: &self.model_config_json,
        };
        if best {
            checkpoint::save_best(self.out, &ck)
        } else {
            checkpoint::save(self.out, &ck, self.cfg.keep_checkpoints)
        }
    }

    /// Save a step checkpoint and say so.
    fn checkpoint(
        &self,
        model: &BertForMaskedLm,
        opt: &AdamW,
        state: &TrainState,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<()> {
        let dir = self.save(model, opt, state, false)?;
        on_event(&Event::Checkpoint {
            step: state.step,
            dir,
        });
        Ok(())
    }
}

/// What the updates read: the training corpus, its masking and the batch
/// order.
struct Feed<'a> {
    corpus: &'a TokenCorpus,
    collator: &'a MaskCollator,
    sampler: BatchSampler,
}

impl<'a> Feed<'a> {
    fn new(corpus: &'a TokenCorpus, collator: &'a MaskCollator, sampler: BatchSampler) -> Self {
        Self {
            corpus,
            collator,
            sampler,
        }
    }

    /// The gradients of update `state.step`, summed over its
    /// micro-batches; counts their real tokens in `state.tokens_seen`.
    fn gradients(
        &mut self,
        model: &BertForMaskedLm,
        cfg: &TrainConfig,
        state: &mut TrainState,
        device: &Device,
        window: &mut Window,
    ) -> Result<GradBuffer> {
        let step = state.step;
        let mut grads = GradBuffer::default();
        for micro in 0..cfg.grad_accum as u64 {
            let idx = self.sampler.batch(step * cfg.grad_accum as u64 + micro);
            let batch = self
                .collator
                .collate_corpus(self.corpus, &idx, step, micro)?;
            let out = micro_step(model, &batch, cfg, step, micro, device, &mut grads)?;
            state.tokens_seen += window.add(&out, &batch);
        }
        Ok(grads)
    }
}

/// The held-out sequences every evaluation scores.
struct EvalSet<'a> {
    corpus: &'a TokenCorpus,
    indices: &'a [u32],
}

impl<'a> EvalSet<'a> {
    fn new(corpus: &'a TokenCorpus, indices: &'a [u32]) -> Self {
        Self { corpus, indices }
    }
}

/// Evaluate the model after update `state.step` and update the best loss
/// and step.
fn evaluate_at(
    model: &BertForMaskedLm,
    eval: &EvalSet,
    collator: &MaskCollator,
    cfg: &TrainConfig,
    inner: &Device,
    state: &mut TrainState,
) -> Result<EvalMetrics> {
    let (loss, acc, n) = evaluate(
        &model.valid(),
        eval.corpus,
        eval.indices,
        collator,
        cfg.eval_batch_size,
        cfg.shards,
        inner,
    )?;
    Ok(record_eval(state, loss, acc, n))
}

/// `metrics.jsonl`, opened for appending after the lines of steps up to
/// the run's current `step`.
struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    fn open(out: &Path, step: u64) -> Result<Self> {
        let path = out.join(METRICS_FILE);
        truncate_metrics(&path, step)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        Ok(Self { path, file })
    }

    /// One line: the metrics' fields and `"kind": kind`.
    fn write(&mut self, kind: &str, metrics: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_value(metrics).expect("metrics serialise");
        line["kind"] = kind.into();
        writeln!(self.file, "{line}").map_err(io(&self.path))
    }

    fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(io(&self.path))
    }
}

/// One micro-batch's forward and backward pass, added to `grads`; a
/// non-finite loss stops the run.
fn micro_step(
    model: &BertForMaskedLm,
    batch: &Batch,
    cfg: &TrainConfig,
    step: u64,
    micro: u64,
    device: &Device,
    grads: &mut GradBuffer,
) -> Result<crate::shard::MicroResult> {
    let input = to_input(batch);
    // Dropout masks are keyed by (seed, step, micro-batch, shard).
    let out = crate::shard::mlm_backward(
        model,
        &input,
        &batch.labels,
        cfg.shards,
        mix(cfg.seed, step, micro),
        device,
        grads,
    )?;
    if !out.loss.is_finite() {
        return Err(TrainError::Diverged {
            step,
            loss: out.loss,
        });
    }
    Ok(out)
}

/// Sums over the micro-batches since the last metrics line.
struct Window {
    loss: f64,
    correct: usize,
    labels: usize,
    masked: usize,
    maskable: usize,
    micro_batches: usize,
    tokens: u64,
    started: Instant,
}

impl Window {
    fn new() -> Self {
        Self {
            loss: 0.0,
            correct: 0,
            labels: 0,
            masked: 0,
            maskable: 0,
            micro_batches: 0,
            tokens: 0,
            started: Instant::now(),
        }
    }

    /// Add one micro-batch; returns its real (non-padding) tokens.
    fn add(&mut self, out: &crate::shard::MicroResult, batch: &Batch) -> u64 {
        let real: u64 = batch.attention_mask.iter().map(|&m| m as u64).sum();
        self.loss += out.loss;
        self.micro_batches += 1;
        self.correct += out.n_correct;
        self.labels += out.n_labels;
        self.masked += batch.n_masked;
        self.maskable += batch.n_maskable;
        self.tokens += real;
        real
    }

    /// The metrics line of the window ending at `state.step`; `run_started`
    /// is when this invocation began.
    fn metrics(
        &self,
        state: &TrainState,
        lr: f64,
        grad_norm: f64,
        run_started: &Instant,
    ) -> Metrics {
        let n_micro = self.micro_batches.max(1) as f64;
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        Metrics {
            step: state.step,
            loss: self.loss / n_micro,
            masked_accuracy: self.correct as f64 / self.labels.max(1) as f64,
            lr,
            grad_norm,
            effective_mask_fraction: self.masked as f64 / self.maskable.max(1) as f64,
            tokens_seen: state.tokens_seen,
            tokens_per_second: self.tokens as f64 / elapsed,
            elapsed_seconds: run_started.elapsed().as_secs_f64(),
        }
    }
}

/// The evaluation line of `state.step`, updating the best loss and step.
fn record_eval(state: &mut TrainState, loss: f64, acc: f64, n: usize) -> EvalMetrics {
    let is_best = state.best_eval_loss.is_none_or(|b| loss < b);
    if is_best {
        state.best_eval_loss = Some(loss);
        state.best_step = Some(state.step);
    }
    EvalMetrics {
        step: state.step,
        eval_loss: loss,
        perplexity: loss.exp(),
        masked_accuracy: acc,
        masked_tokens: n,
        is_best,
    }
}

/// The final model is the best one seen (HF's load_best_model_at_end):
/// copy `best/` to `model/` when the run `finished`. Returns `model/`.
fn publish_best(out: &Path, finished: bool) -> Result<PathBuf> {
    let model_dir = out.join("model");
    let best_dir = out.join("best");
    if finished && best_dir.join(checkpoint::MODEL_FILE).is_file() {
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
    Ok(model_dir)
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
