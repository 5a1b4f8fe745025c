//! `dnalm pretrain`, `dnalm export-hf`, `dnalm inspect`: wiring for the
//! model and training crates.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dnalm_model::finetuned::load_classifier;
use dnalm_model::pretrained::{load_mlm, CONFIG_FILE, WEIGHTS_FILE};
use dnalm_model::weights::{
    mlm_state_dict, safetensors_index, save_logits_sample, save_safetensors, HostTensor,
};
use dnalm_model::{BatchInput, BertConfig, DeviceBatch, Pooling};
use dnalm_tasks::model::{find_run_tokenizer, RUN_TOKENIZER};
use dnalm_tokenizers::{AnyTokenizer, Tokenizer};
use dnalm_train::budget::format_seconds;
use dnalm_train::corpus::TokenCorpus;
use dnalm_train::trainer::{loss_series, read_metrics};
use dnalm_train::{
    pretrain as run_pretrain, Event, Fit, Measured, PretrainData, RunOptions, TokenCorpusBuilder,
    TrainConfig, TrainError,
};
use rand::{Rng, SeedableRng};
use tracing::{info, warn};

use crate::args::{ExportHfArgs, InspectArgs, PretrainArgs};
use crate::files::{create_dir, write_file};
use crate::input::show_path;

fn apply_overrides(c: &mut TrainConfig, a: &PretrainArgs) {
    macro_rules! set {
        ($($f:ident),*) => { $( if let Some(v) = a.$f.clone() { c.$f = v; } )* };
    }
    set!(
        preset,
        max_steps,
        warmup_steps,
        lr,
        batch_size,
        grad_accum,
        shards,
        max_len,
        masking,
        mask_prob,
        centre_prob,
        eval_every,
        eval_fraction,
        log_every,
        save_every,
        keep_checkpoints,
        seed
    );
    if a.lstm_layers.is_some() {
        c.lstm_layers = a.lstm_layers;
    }
    if a.dropout.is_some() {
        c.dropout = a.dropout;
    }
}

/// Tokenize a sequence file into a token corpus (atomically), with progress.
pub fn build_corpus(tok: &AnyTokenizer, input: &Path, out: &Path) -> Result<TokenCorpus> {
    let size = std::fs::metadata(input)
        .with_context(|| format!("cannot read {}", show_path(input)))?
        .len();
    let pb = crate::progress::bar(size, "tokenizing");
    let mut writer = TokenCorpusBuilder::for_any(tok)
        .progress(|p| pb.set_position(p.bytes))
        .build()?;
    let meta = writer.write_file(input, out)?;
    pb.finish_and_clear();
    info!(
        "token corpus: {} sequences, {} tokens -> {}",
        meta.n_sequences,
        meta.n_tokens,
        out.display()
    );
    Ok(TokenCorpus::open(out)?)
}

fn open_or_build(tok: &AnyTokenizer, input: &Path, out: &Path, reuse: bool) -> Result<TokenCorpus> {
    let is_tok = {
        use std::io::Read;
        let mut head = [0u8; 8];
        std::fs::File::open(input)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
            && head == dnalm_train::corpus::MAGIC
    };
    let corpus = if is_tok {
        TokenCorpus::open(input)?
    } else if reuse && out.is_file() {
        info!("reusing the token corpus {}", out.display());
        TokenCorpus::open(out)?
    } else {
        build_corpus(tok, input, out)?
    };
    if corpus.vocab_size() != tok.vocab().len() {
        bail!(
            "{} was tokenized with a vocabulary of {} tokens, the tokenizer has {}",
            corpus.path().display(),
            corpus.vocab_size(),
            tok.vocab().len()
        );
    }
    Ok(corpus)
}

/// The shortest `--time-budget`: the probe of the first updates, one
/// evaluation and the last checkpoint need a few seconds even for `tiny`.
const MIN_BUDGET_SECONDS: f64 = 10.0;

/// Past this estimate a run without a budget gets a warning.
const LONG_RUN_SECONDS: f64 = 3.0 * 3600.0;

/// Patience of a budgeted run unless --patience says otherwise.
const BUDGET_PATIENCE: u32 = 3;

/// `--time-budget` and `--patience`, checked before anything is written.
fn budget_options(a: &PretrainArgs) -> Result<(Option<std::time::Duration>, Option<u32>)> {
    let budget = match &a.time_budget {
        Some(t) => {
            let zero = t.trim().parse::<f64>().is_ok_and(|v| v == 0.0);
            let d = match zero {
                true => std::time::Duration::ZERO,
                false => crate::duration::parse_duration(t, "--time-budget")?,
            };
            if d.is_zero() {
                bail!("--time-budget {t}: the budget must be more than zero");
            }
            if d.as_secs_f64() < MIN_BUDGET_SECONDS {
                bail!(
                    "--time-budget {t} is too short: a budgeted run needs at least {MIN_BUDGET_SECONDS:.0}s \
                     to time its first updates, evaluate and save the model"
                );
            }
            Some(d)
        }
        None => None,
    };
    if a.patience == Some(0) {
        bail!("--patience 0 would stop at the first evaluation: give 1 or more");
    }
    let patience = a.patience.or(budget.map(|_| BUDGET_PATIENCE));
    Ok((budget, patience))
}

/// The keys a --config file sets (a budget fits only what is not set).
fn config_keys(text: &str) -> Vec<String> {
    toml::from_str::<toml::Table>(text)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// What a budget may fit: the schedule and intervals nobody set.
fn budget_fit(a: &PretrainArgs, keys: &[String]) -> Fit {
    let set = |flag: bool, key: &str| flag || keys.iter().any(|k| k == key);
    Fit {
        max_steps: !set(a.max_steps.is_some(), "max_steps"),
        eval_every: !set(a.eval_every.is_some(), "eval_every"),
        log_every: !set(a.log_every.is_some(), "log_every"),
    }
}

/// A resumed budgeted run keeps the schedule its first invocation fitted
/// (saved in OUT/run.toml): the budget then only limits this invocation.
fn keep_fitted(cfg: &mut TrainConfig, out: &Path, fit: &mut Fit) -> Result<()> {
    let path = out.join(dnalm_train::trainer::RUN_CONFIG_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let saved = TrainConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?;
    if fit.max_steps {
        cfg.max_steps = saved.max_steps;
        cfg.warmup_steps = saved.warmup_steps;
    }
    if fit.eval_every {
        cfg.eval_every = saved.eval_every;
    }
    if fit.log_every {
        cfg.log_every = saved.log_every;
    }
    *fit = Fit::default();
    Ok(())
}

pub fn pretrain(a: PretrainArgs) -> Result<()> {
    if a.print_config {
        let preset = a.preset.as_deref().unwrap_or("tiny");
        print!("{}", TrainConfig::for_preset(preset).to_toml());
        return Ok(());
    }
    let (Some(input), Some(tok_path)) = (a.input.as_ref(), a.tokenizer.as_ref()) else {
        bail!("INPUT and --tokenizer are required");
    };
    let (budget, patience) = budget_options(&a)?;
    let (mut cfg, keys) = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let cfg =
                TrainConfig::from_toml(&text).with_context(|| format!("in {}", p.display()))?;
            (cfg, config_keys(&text))
        }
        None => (
            TrainConfig::for_preset(a.preset.as_deref().unwrap_or("tiny")),
            Vec::new(),
        ),
    };
    apply_overrides(&mut cfg, &a);
    let out = &a.out_dir;
    let mut fit = match budget {
        Some(_) => budget_fit(&a, &keys),
        None => Fit::default(),
    };
    if a.resume && budget.is_some() {
        keep_fitted(&mut cfg, out, &mut fit)?;
    }
    cfg.validate()?;
    let tok = AnyTokenizer::load(tok_path)?;
    // Check the model config before any work is done or written.
    dnalm_train::trainer::model_config(&cfg, tok.vocab().len())?;
    // Refuse before writing anything: a fresh run never touches an old one.
    if !a.resume && !dnalm_train::checkpoint::list_steps(out)?.is_empty() {
        bail!(
            "{} already holds checkpoints: pass --resume to continue that run, or choose another --out-dir",
            out.display()
        );
    }
    let fresh = !out.exists();
    let result = run(&a, &cfg, &tok, input, budget, patience, fit);
    if let Err(e) = &result {
        // A budget found too short after timing the first updates: the run
        // folder this invocation made holds nothing worth keeping.
        let too_short = e
            .chain()
            .any(|c| matches!(c.downcast_ref::<TrainError>(), Some(TrainError::Budget(_))));
        if too_short && fresh {
            let _ = std::fs::remove_dir_all(out);
        }
    }
    result
}

/// The run itself, once every input checked out.
fn run(
    a: &PretrainArgs,
    cfg: &TrainConfig,
    tok: &AnyTokenizer,
    input: &Path,
    budget: Option<std::time::Duration>,
    patience: Option<u32>,
    fit: Fit,
) -> Result<()> {
    let (out, tok_path) = (&a.out_dir, a.tokenizer.as_deref().unwrap_or(Path::new("")));
    create_dir(out)?;
    let data_dir = out.join("data");
    create_dir(&data_dir)?;
    let train = open_or_build(tok, input, &data_dir.join("train.tok"), a.resume)?;
    let eval = match &a.eval {
        Some(e) => Some(open_or_build(tok, e, &data_dir.join("eval.tok"), a.resume)?),
        None => None,
    };
    let run_tok = out.join(RUN_TOKENIZER);
    if a.resume && run_tok.is_file() {
        let saved = AnyTokenizer::load(&run_tok)?;
        if saved.to_json(None) != tok.to_json(None) {
            bail!(
                "--resume: {} is not the tokenizer this run was started with ({})",
                tok_path.display(),
                run_tok.display()
            );
        }
    } else {
        write_file(&run_tok, tok.to_json(None).as_bytes())?;
    }
    let kmer_k = match tok {
        AnyTokenizer::Kmer(k) => Some(k.k()),
        _ => None,
    };

    let pb = crate::progress::bar(cfg.max_steps, "pre-training");
    let budget_text = a.time_budget.clone().unwrap_or_default();
    let mut on_event = |e: &Event| match e {
        Event::Started {
            start_step,
            parameters,
            train_sequences,
            eval_sequences,
            expected_mask_fraction,
            ..
        } => {
            pb.set_position(*start_step);
            pb.reset_eta();
            info!(
                "model {} ({} parameters); {} training and {} held-out sequences; expected masked fraction {:.1}%{}",
                cfg.preset,
                parameters,
                train_sequences,
                eval_sequences,
                100.0 * expected_mask_fraction,
                if *start_step > 0 { format!("; resuming at step {start_step}") } else { String::new() }
            );
        }
        Event::Step(m) => {
            pb.set_position(m.step);
            pb.set_message(format!(
                "loss {:.3}  acc {:.1}%  lr {:.2e}  {:.0} tok/s",
                m.loss,
                100.0 * m.masked_accuracy,
                m.lr,
                m.tokens_per_second
            ));
            if pb.is_hidden() {
                info!(
                    "step {}: loss {:.4}, masked accuracy {:.2}%, lr {:.3e}, grad norm {:.3}, masked {:.1}%, {:.0} tokens/s",
                    m.step,
                    m.loss,
                    100.0 * m.masked_accuracy,
                    m.lr,
                    m.grad_norm,
                    100.0 * m.effective_mask_fraction,
                    m.tokens_per_second
                );
            }
        }
        Event::Eval(ev) => {
            pb.suspend(|| {
                info!(
                    "step {}: eval loss {:.4}, perplexity {:.2}, masked accuracy {:.2}% over {} tokens{}",
                    ev.step,
                    ev.eval_loss,
                    ev.perplexity,
                    100.0 * ev.masked_accuracy,
                    ev.masked_tokens,
                    if ev.is_best { " (best)" } else { "" }
                )
            });
        }
        Event::Measured(m) => {
            pb.set_length(m.max_steps);
            pb.suspend(|| report_measured(m, &budget_text, fit));
        }
        Event::Checkpoint { .. } | Event::Stopped { .. } => {}
    };
    let summary = run_pretrain(
        cfg,
        &PretrainData {
            train: &train,
            eval: eval.as_ref(),
            kmer_k,
        },
        out,
        &RunOptions {
            resume: a.resume,
            stop_after: a.stop_after,
            time_budget: budget,
            fit,
            patience,
        },
        &mut on_event,
    )?;
    pb.finish_and_clear();
    write_loss_svg(out)?;
    report_end(&summary);
    Ok(())
}

/// Say what the first updates measured, and what a budget made of it or
/// how long the run will be.
fn report_measured(m: &Measured, budget: &str, fit: Fit) {
    let rate = format!(
        "measured {:.2} s/update over the first {} updates",
        m.seconds_per_update, m.step
    );
    let Some(plan) = m.plan else {
        let left = m.max_steps.saturating_sub(m.step) as f64 * m.seconds_per_update;
        let total = m.elapsed_seconds + left;
        if total > LONG_RUN_SECONDS {
            warn!(
                "this run is about {} on this machine at {:.2} s/update ({} updates): \
                 give --time-budget or fewer --max-steps",
                format_seconds(total),
                m.seconds_per_update,
                m.max_steps
            );
        } else {
            info!(
                "{rate}: the {} updates take about {}",
                m.max_steps,
                format_seconds(total)
            );
        }
        return;
    };
    let evals = format!(
        "evaluation every {} updates ({} of {:.1} s)",
        m.eval_every,
        m.max_steps.min(plan.max_steps).div_ceil(m.eval_every),
        m.seconds_per_eval.unwrap_or(0.0)
    );
    if fit.max_steps {
        info!(
            "{rate}: the {budget} budget fits ~{} updates; schedule set to that (warm-up {}{}), {evals}",
            thousands(plan.max_steps),
            m.warmup_steps,
            m.probe_warmup_steps
                .map(|w| format!(", a tenth of the run; the first {} updates warmed up over {w}", m.step))
                .unwrap_or_default()
        );
    } else if plan.max_steps < m.max_steps {
        warn!(
            "{rate}: the {budget} budget fits ~{} of the {} updates; the run will stop there \
             before its learning rate has decayed (leave out --max-steps to fit the schedule), {evals}",
            thousands(plan.max_steps),
            thousands(m.max_steps)
        );
    } else {
        info!(
            "{rate}: the {} updates fit the {budget} budget, {evals}",
            thousands(m.max_steps)
        );
    }
}

/// Why and where the run stopped, and where the model is.
fn report_end(summary: &dnalm_train::Summary) {
    let reason = summary.stop_reason;
    if !reason.finished() {
        info!(
            "stopped at step {} of {}; continue with --resume",
            summary.steps, summary.max_steps
        );
        return;
    }
    let best = match (summary.best_eval_loss, summary.best_step) {
        (Some(best), Some(step)) => format!(
            "; best eval loss {:.4} (perplexity {:.2}) at step {step}; model in {}",
            best,
            best.exp(),
            summary.model_dir.display()
        ),
        _ => String::new(),
    };
    info!(
        "done: {} steps in {} ({}){best}",
        summary.steps,
        format_seconds(summary.seconds),
        reason.describe()
    );
}

/// 4280 -> "4,280".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `OUT/loss.svg` from `OUT/metrics.jsonl`.
pub fn write_loss_svg(out: &Path) -> Result<()> {
    let lines = read_metrics(out)?;
    let series = loss_series(&lines);
    if series.iter().any(|(_, p)| !p.is_empty()) {
        dnalm_tokenizers::plot::line_chart_svg(
            &out.join("loss.svg"),
            "masked-LM loss",
            "step",
            "cross-entropy (nats)",
            &series,
        )?;
    }
    Ok(())
}

/// The folder holding `config.json` + `model.safetensors` for MODEL.
fn model_dir(p: &Path) -> Result<PathBuf> {
    for cand in [p.join("model"), p.join("best"), p.to_path_buf()] {
        if cand.join(WEIGHTS_FILE).is_file() && cand.join(CONFIG_FILE).is_file() {
            return Ok(cand);
        }
    }
    bail!(
        "{}: no model here (expected config.json and model.safetensors, or a pretrain folder with model/ or best/)",
        p.display()
    )
}

/// Random A/C/G/T sequences of `len` bases, seeded.
fn random_sequences(n: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..len).map(|_| b"ACGT"[rng.random_range(0..4)]).collect())
        .collect()
}

/// Frame with [CLS]/[SEP], cut to `max_len`, pad to the longest.
fn frame(tok: &AnyTokenizer, seqs: &[Vec<u8>], max_len: usize) -> Result<BatchInput> {
    let sp = tok.vocab().specials();
    let mut rows = Vec::new();
    for s in seqs {
        let mut ids: Vec<i64> = vec![sp.cls as i64];
        ids.extend(
            tok.encode(s)?
                .into_iter()
                .take(max_len - 2)
                .map(|i| i as i64),
        );
        ids.push(sp.sep as i64);
        rows.push(ids);
    }
    let t = rows.iter().map(Vec::len).max().unwrap_or(2);
    let mut input_ids = Vec::new();
    let mut mask = Vec::new();
    for r in &rows {
        mask.extend(std::iter::repeat_n(1, r.len()).chain(std::iter::repeat_n(0, t - r.len())));
        input_ids.extend(
            r.iter()
                .copied()
                .chain(std::iter::repeat_n(sp.pad as i64, t - r.len())),
        );
    }
    Ok(BatchInput {
        input_ids,
        attention_mask: mask,
        token_type_ids: None,
        batch_size: rows.len(),
        seq_len: t,
    })
}

pub fn export_hf(a: ExportHfArgs) -> Result<()> {
    let dir = model_dir(a.model())?;
    let tok_path = match &a.tokenizer {
        Some(t) => t.clone(),
        None => find_run_tokenizer(&dir).with_context(|| {
            format!(
                "no {RUN_TOKENIZER} found beside {}: pass --tokenizer",
                dir.display()
            )
        })?,
    };
    let tok = AnyTokenizer::load(&tok_path)?;
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    if is_classifier(&dir)? {
        return export_classifier(&a, &dir, &tok, &tok_path, &device);
    }
    let p = load_mlm(&dir, &device)?;
    if p.config.vocab_size != tok.vocab().len() {
        bail!(
            "the model has a vocabulary of {} tokens, the tokenizer {} has {}",
            p.config.vocab_size,
            tok_path.display(),
            tok.vocab().len()
        );
    }
    if p.config.dnalm_lstm_layers > 0 {
        warn!(
            "this model has {} LSTM layer(s) before its MLM head: transformers' BertForMaskedLM has no LSTM, \
             so it will report the lstm.* tensors as unexpected and its logits will differ; \
             the LSTM weights are in PyTorch nn.LSTM layout for your own model class",
            p.config.dnalm_lstm_layers
        );
    }
    create_dir(&a.out_dir)?;
    let mut config = p.config.clone();
    config.architectures = vec!["BertForMaskedLM".into()];
    write_file(&a.out_dir.join(CONFIG_FILE), config.to_json().as_bytes())?;
    save_safetensors(&a.out_dir.join(WEIGHTS_FILE), &mlm_state_dict(&p.model))?;
    for (name, text) in tok.hf_files(config.max_position_embeddings) {
        write_file(&a.out_dir.join(name), text.as_bytes())?;
    }
    if let Some(n) = a.sample {
        write_sample(&a, n, &tok, config.max_position_embeddings, |batch| {
            p.model.check_input(batch)?;
            let logits = p.model.logits(&DeviceBatch::new(batch, &device));
            Ok(HostTensor::from_tensor(logits))
        })?;
    }
    info!(
        "exported {} ({} parameters) with {} to {}",
        dir.display(),
        config.parameter_count(),
        tok_path.display(),
        a.out_dir.display()
    );
    Ok(())
}

/// `export-hf --sample N`: N random 120-nt inputs (seeded), framed for the
/// model, and the logits `forward` gives them, in dnalm_sample.safetensors.
fn write_sample(
    a: &ExportHfArgs,
    n: usize,
    tok: &AnyTokenizer,
    max_len: usize,
    forward: impl Fn(&BatchInput) -> dnalm_model::Result<HostTensor>,
) -> Result<()> {
    let seqs = random_sequences(n.max(1), 120.min(max_len), a.seed);
    let batch = frame(tok, &seqs, max_len)?;
    let logits = forward(&batch)?;
    save_logits_sample(
        &a.out_dir.join("dnalm_sample.safetensors"),
        &batch.input_ids,
        &batch.attention_mask,
        &logits,
    )?;
    Ok(())
}

/// A folder whose config.json has `num_labels`: a fine-tuned classifier.
fn is_classifier(dir: &Path) -> Result<bool> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    Ok(json.get("num_labels").is_some())
}

/// `export-hf` of a fine-tuned classifier: `BertForSequenceClassification`
/// with its pooler and classifier weights, which `transformers` runs as is.
fn export_classifier(
    a: &ExportHfArgs,
    dir: &Path,
    tok: &AnyTokenizer,
    tok_path: &Path,
    device: &dnalm_model::Device,
) -> Result<()> {
    let f = load_classifier(dir, device)?;
    let what = dir.display();
    if f.config.vocab_size != tok.vocab().len() {
        bail!(
            "the classifier has a vocabulary of {} tokens, the tokenizer {} has {}",
            f.config.vocab_size,
            tok_path.display(),
            tok.vocab().len()
        );
    }
    if f.model.lstm.is_some() {
        bail!(
            "{what}: this classifier has an LSTM between BERT and its head; transformers' \
             BertForSequenceClassification has none, so it cannot run it"
        );
    }
    if f.model.pooling != Pooling::Cls {
        bail!(
            "{what}: this classifier averages the token states; transformers' \
             BertForSequenceClassification reads [CLS] through its pooler"
        );
    }
    if f.model.bert.pooler.is_none() {
        bail!(
            "{what}: this classifier was saved before dnalm classifiers had BERT's pooler (no {}), \
             so transformers would run it with a random one; fine-tune it again with this version",
            dnalm_model::finetuned::POOLER_WEIGHT
        );
    }
    create_dir(&a.out_dir)?;
    let path = dir.join(CONFIG_FILE);
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let obj = json
        .as_object_mut()
        .with_context(|| format!("{}: not a JSON object", path.display()))?;
    obj.insert(
        "architectures".into(),
        serde_json::json!(["BertForSequenceClassification"]),
    );
    obj.insert("problem_type".into(), "single_label_classification".into());
    let mut text = serde_json::to_string_pretty(&json)?;
    text.push('\n');
    write_file(&a.out_dir.join(CONFIG_FILE), text.as_bytes())?;
    save_safetensors(
        &a.out_dir.join(WEIGHTS_FILE),
        &dnalm_model::weights::state_dict(&f.model),
    )?;
    for (name, text) in tok.hf_files(f.config.max_position_embeddings) {
        write_file(&a.out_dir.join(name), text.as_bytes())?;
    }
    if let Some(n) = a.sample {
        let model = dnalm_train::classify::eval_model(&f.model);
        write_sample(a, n, tok, f.config.max_position_embeddings, |batch| {
            model.check_input(batch)?;
            let logits = model.forward(&DeviceBatch::new(batch, device), &batch.attention_mask);
            Ok(HostTensor::from_tensor(logits))
        })?;
    }
    info!(
        "exported the classifier {} ({} labels: {}) with {} to {} as BertForSequenceClassification",
        what,
        f.labels.len(),
        f.labels.join(", "),
        tok_path.display(),
        a.out_dir.display()
    );
    Ok(())
}

fn describe_config(md: &mut String, c: &BertConfig) -> Result<()> {
    writeln!(
        md,
        "model: BERT {} layers, hidden {}, {} heads, FFN {}, vocabulary {}, {} positions{}{}",
        c.num_hidden_layers,
        c.hidden_size,
        c.num_attention_heads,
        c.intermediate_size,
        c.vocab_size,
        c.max_position_embeddings,
        if c.dnalm_lstm_layers > 0 {
            format!(", LSTM x{}", c.dnalm_lstm_layers)
        } else {
            String::new()
        },
        c.dnalm_preset
            .as_ref()
            .map(|p| format!(" (preset {p})"))
            .unwrap_or_default()
    )?;
    writeln!(md, "parameters: {}", c.parameter_count())?;
    Ok(())
}

fn describe_weights(md: &mut String, path: &Path, verbose: bool) -> Result<()> {
    let (tensors, meta) = safetensors_index(path)?;
    let params: usize = tensors
        .iter()
        .filter(|t| !t.name.starts_with("cls.predictions.decoder."))
        .map(|t| t.shape.iter().product::<usize>())
        .sum();
    writeln!(
        md,
        "{}: {} tensors, {} values (tied decoder copies not counted){}",
        path.display(),
        tensors.len(),
        params,
        if meta.is_empty() {
            String::new()
        } else {
            format!(", metadata {meta:?}")
        }
    )?;
    if verbose {
        for t in &tensors {
            writeln!(md, "  {}\t{}\t{:?}", t.name, t.dtype, t.shape)?;
        }
    }
    Ok(())
}

pub fn inspect(a: InspectArgs, verbose: u8) -> Result<()> {
    let p = a.model();
    let mut md = String::new();
    if p.is_file() {
        describe_weights(&mut md, p, true)?;
        print!("{md}");
        return Ok(());
    }
    if !p.is_dir() {
        bail!("{}: no such file or folder", p.display());
    }
    let run_toml = p.join(dnalm_train::trainer::RUN_CONFIG_FILE);
    if run_toml.is_file() {
        writeln!(md, "run folder: {}", p.display())?;
        let steps = dnalm_train::checkpoint::list_steps(p)?;
        writeln!(
            md,
            "checkpoints: {}",
            if steps.is_empty() {
                "none".to_string()
            } else {
                steps
                    .iter()
                    .map(|(s, _)| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )?;
        if let Ok(lines) = read_metrics(p) {
            if let Some(ev) = lines.iter().rev().find(|l| l["kind"] == "eval") {
                writeln!(md, "last evaluation: {ev}")?;
            }
        }
    }
    let dir = model_dir(p).ok();
    let state = p.join(dnalm_train::checkpoint::STATE_FILE);
    if state.is_file() {
        let text = std::fs::read_to_string(&state)?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not JSON", state.display()))?;
        writeln!(
            md,
            "checkpoint: step {}, {} tokens seen, best eval loss {} at step {}",
            v["step"], v["tokens_seen"], v["best_eval_loss"], v["best_step"]
        )?;
    }
    match dir {
        Some(d) => {
            let c = BertConfig::load(&d.join(CONFIG_FILE))?;
            describe_config(&mut md, &c)?;
            describe_weights(&mut md, &d.join(WEIGHTS_FILE), verbose > 0)?;
        }
        None if run_toml.is_file() => writeln!(md, "no model written yet")?,
        None => bail!(
            "{}: not a run, checkpoint or model folder (no config.json + model.safetensors, no run.toml)",
            p.display()
        ),
    }
    if run_toml.is_file() && verbose > 0 {
        writeln!(md, "\n{}", std::fs::read_to_string(&run_toml)?)?;
    }
    print!("{md}");
    Ok(())
}
