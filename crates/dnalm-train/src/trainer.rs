//! The pre-training loop, top to bottom: data, model, optimiser, then for
//! each update: micro-batches -> loss -> gradients -> clip -> AdamW ->
//! log / evaluate / checkpoint. Resume re-enters the same loop at the saved
//! step; because every random draw of a step is keyed by `(seed, step)`, a
//! resumed run computes exactly what the uninterrupted run would have.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::module::Module;
use dnalm_model::weights::{self, mlm_state_dict, StateDict};
use dnalm_model::{BatchInput, BertConfig, BertForMaskedLm, Device};
use serde::{Deserialize, Serialize};

use crate::batch::{BatchSampler, Split};
use crate::budget::{self, Patience, Plan, Probe, StopReason};
use crate::checkpoint::{self, Checkpoint, TrainState};
use crate::config::TrainConfig;
use crate::corpus::TokenCorpus;
use crate::error::{Result, TrainError};
use crate::mask::{Batch, MaskCollator};
use crate::metrics::{io, write_atomic, MetricsLog, RunSummary};
pub use crate::metrics::{loss_series, read_metrics};
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
    /// The first updates of this invocation were timed (after
    /// [`budget::PROBE_UPDATES`] updates or [`budget::PROBE_SECONDS`]);
    /// with a budget, the run was fitted to it.
    Measured(Measured),
    /// The loop ended (the last evaluation and checkpoint are written).
    Stopped {
        step: u64,
        reason: StopReason,
    },
}

/// What the first updates showed, and the run's plan from there on.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Updates done when the probe ended.
    pub step: u64,
    pub seconds_per_update: f64,
    /// With a budget the probe ends with an evaluation, timed here.
    pub seconds_per_eval: Option<f64>,
    /// Seconds of this invocation so far.
    pub elapsed_seconds: f64,
    /// The budget's fit (`None` without a budget).
    pub plan: Option<Plan>,
    /// The schedule and intervals from here on (fitted where asked).
    pub max_steps: u64,
    pub warmup_steps: u64,
    /// The warm-up the probe's updates ran with, when fitting changed it.
    pub probe_warmup_steps: Option<u64>,
    pub eval_every: u64,
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
    /// Wall seconds of this invocation when the evaluation ended.
    #[serde(default)]
    pub elapsed_seconds: f64,
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
    pub stop_reason: StopReason,
    /// The schedule's length (fitted to the budget when it was).
    pub max_steps: u64,
    /// Wall seconds of this invocation's training loop.
    pub seconds: f64,
    pub seconds_per_update: Option<f64>,
}

/// Run switches that do not change what is computed.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue from the newest checkpoint in the output folder.
    pub resume: bool,
    /// Stop after this many updates of this invocation (for tests and
    /// time-boxed runs); the run can be resumed later.
    pub stop_after: Option<u64>,
    /// Stop when this invocation's training loop has run this long (its
    /// last evaluation and checkpoint included, as far as the measured
    /// times tell). The run is finished: the best model goes to `model/`.
    pub time_budget: Option<Duration>,
    /// With a budget: what to set from the speed of the first updates.
    pub fit: Fit,
    /// Stop after this many evaluations in a row without an improvement of
    /// [`budget::MIN_DELTA`] in held-out loss.
    pub patience: Option<u32>,
}

/// The settings a budgeted run sets from its measured speed (the rest stay
/// as configured). The fitted values are written to `run.toml`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fit {
    /// `max_steps`: the updates the budget holds, so the learning rate
    /// decays to zero as time runs out; warm-up is capped at a tenth of it.
    pub max_steps: bool,
    /// `eval_every`: about [`budget::TARGET_EVALUATIONS`] evaluations.
    pub eval_every: bool,
    /// `log_every`: about 100 train-loss lines.
    pub log_every: bool,
}

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
    check_options(opts)?;
    // A budget may refit the schedule and intervals: the loop's own copy.
    let mut cfg = cfg.clone();
    let corpus = data.train;
    let prep = prepare(&cfg, data)?;
    let train_sequences = prep.train_idx.len();
    let sampler = BatchSampler::new(prep.train_idx.clone(), cfg.batch_size, cfg.seed)?;
    let previous = open_out_dir(out, opts)?;

    let inner = dnalm_model::device(dnalm_model::Backend::Cpu).map_err(TrainError::Model)?;
    let device = inner.clone().autodiff();
    let resume_from = previous.filter(|_| opts.resume);
    let (mut model, mut opt, mut state) = start(
        &cfg,
        &prep.model_cfg,
        &prep.run_toml,
        resume_from,
        out,
        &inner,
        &device,
    )?;
    prep.write_run_files(out)?;
    let mut sinks = Sinks {
        log: MetricsLog::open(out, state.step)?,
        saver: Saver::new(cfg.keep_checkpoints, out, &prep.model_cfg),
    };

    let mut schedule = LinearSchedule::new(cfg.lr, cfg.warmup_steps, cfg.max_steps)?;
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
    let evaluator = Evaluator {
        set: EvalSet::new(data.eval.unwrap_or(corpus), &prep.eval_idx),
        collator: &prep.collator,
        batch_size: cfg.eval_batch_size,
        shards: cfg.shards,
        device: &inner,
    };

    let budget = opts.time_budget.map(|d| d.as_secs_f64());
    let mut track = Track::new(opts, &state, budget);
    let start_step = state.step;
    let mut window = Window::new();
    let reason = loop {
        if state.step >= cfg.max_steps {
            break StopReason::MaxSteps;
        }
        if opts
            .stop_after
            .is_some_and(|n| state.step - start_step >= n)
        {
            break StopReason::StopAfter;
        }
        if track.out_of_time() {
            break StopReason::Budget;
        }
        let update_started = Instant::now();
        let lr = schedule.lr_at(state.step);
        let grads = feed.gradients(&model, &cfg, &mut state, &device, &mut window)?;
        let (m, info) = opt.step(model, grads, lr, clip);
        model = m;
        state.step += 1;
        track.last_update = update_started.elapsed().as_secs_f64();

        if let Some(per_update) = track.probe.add(track.last_update) {
            let per_eval = match budget {
                Some(_) => {
                    let t = Instant::now();
                    track.evaluate(&evaluator, &model, &opt, &mut state, &mut sinks, on_event)?;
                    Some(t.elapsed().as_secs_f64())
                }
                None => None,
            };
            let measured = refit(
                &mut cfg, opts, &mut state, &track, per_update, per_eval, out,
            )?;
            schedule = LinearSchedule::new(cfg.lr, cfg.warmup_steps, cfg.max_steps)?;
            track.seconds_per_update = Some(per_update);
            track.seconds_per_eval = per_eval;
            track.plan = measured.plan;
            on_event(&Event::Measured(measured));
        }
        let at_end = state.step == cfg.max_steps;
        if state.step.is_multiple_of(cfg.log_every) || at_end {
            let metrics = window.metrics(&state, lr, info.grad_norm, &track.started);
            sinks.log.write("train", &metrics)?;
            on_event(&Event::Step(metrics));
            window = Window::new();
        }
        let mut patience_says_stop = false;
        if (state.step.is_multiple_of(cfg.eval_every) || at_end)
            && track.evaluated_at != Some(state.step)
        {
            patience_says_stop =
                track.evaluate(&evaluator, &model, &opt, &mut state, &mut sinks, on_event)?;
        }
        // A budgeted run saves nothing before its fit: run.toml changes then.
        let fitting = budget.is_some() && track.seconds_per_update.is_none();
        if (state.step.is_multiple_of(cfg.save_every) || at_end) && !fitting {
            sinks.saver.checkpoint(&model, &opt, &state, on_event)?;
            track.saved_at = Some(state.step);
        }
        if patience_says_stop {
            break StopReason::Patience;
        }
    };
    // Whatever stopped the run keeps its work: the last update is evaluated
    // (a budget stop) and checkpointed, so --resume can continue it.
    if state.step > start_step {
        if reason == StopReason::Budget && track.evaluated_at != Some(state.step) {
            track.evaluate(&evaluator, &model, &opt, &mut state, &mut sinks, on_event)?;
        }
        if track.saved_at != Some(state.step) {
            sinks.saver.checkpoint(&model, &opt, &state, on_event)?;
        }
    }
    sinks.log.flush()?;
    let model_dir = publish_best(out, reason.finished())?;
    crate::metrics::write_curve(out)?;
    let seconds = track.started.elapsed().as_secs_f64();
    RunSummary {
        stop_reason: reason,
        stop_detail: reason.describe().to_string(),
        steps: state.step,
        max_steps: cfg.max_steps,
        warmup_steps: cfg.warmup_steps,
        eval_every: cfg.eval_every,
        seconds,
        time_budget_seconds: budget,
        seconds_per_update: track.seconds_per_update,
        seconds_per_eval: track.seconds_per_eval,
        plan: track.plan,
        patience: opts.patience,
        evaluations: track.evaluations,
        best_step: state.best_step,
        best_eval_loss: state.best_eval_loss,
        model_dir: (reason.finished() && model_dir.join(checkpoint::MODEL_FILE).is_file())
            .then(|| model_dir.clone()),
    }
    .write(out)?;
    on_event(&Event::Stopped {
        step: state.step,
        reason,
    });
    Ok(Summary {
        steps: state.step,
        first_eval: track.first_eval,
        last_eval: track.last_eval,
        best_step: state.best_step,
        best_eval_loss: state.best_eval_loss,
        model_dir,
        model_config: prep.model_cfg,
        stop_reason: reason,
        max_steps: cfg.max_steps,
        seconds,
        seconds_per_update: track.seconds_per_update,
    })
}

/// A budget of zero or a patience of zero cannot mean anything.
fn check_options(opts: &RunOptions) -> Result<()> {
    if opts.time_budget.is_some_and(|d| d.is_zero()) {
        return Err(TrainError::Config(
            "the time budget must be more than zero".into(),
        ));
    }
    if opts.patience == Some(0) {
        return Err(TrainError::Config(
            "patience 0 would stop at the first evaluation: give 1 or more".into(),
        ));
    }
    Ok(())
}

/// After the probe: fit `cfg` to the budget where `opts.fit` asks, keep
/// `run.toml` and the checkpoint state in step with it, and say what was
/// measured and planned.
fn refit(
    cfg: &mut TrainConfig,
    opts: &RunOptions,
    state: &mut TrainState,
    track: &Track,
    per_update: f64,
    per_eval: Option<f64>,
    out: &Path,
) -> Result<Measured> {
    let elapsed = track.started.elapsed().as_secs_f64();
    let plan = match (track.budget, per_eval) {
        (Some(b), Some(e)) => Some(budget::fit(b, state.step, elapsed, per_update, e)?),
        _ => None,
    };
    let mut probe_warmup_steps = None;
    if let Some(plan) = plan {
        let before = cfg.to_toml();
        if opts.fit.max_steps {
            cfg.max_steps = plan.max_steps.max(state.step);
            let cap = cfg.max_steps / 10;
            if cfg.warmup_steps > cap {
                probe_warmup_steps = Some(cfg.warmup_steps);
                cfg.warmup_steps = cap;
            }
        }
        let horizon = cfg.max_steps.min(plan.max_steps).max(1);
        if opts.fit.eval_every {
            cfg.eval_every = horizon.div_ceil(plan.evaluations.max(1)).max(1);
        }
        if opts.fit.log_every {
            cfg.log_every = (horizon / 100).max(1);
        }
        cfg.validate()?;
        let after = cfg.to_toml();
        if after != before {
            write_atomic(&out.join(RUN_CONFIG_FILE), &after)?;
            state.run_config = after;
        }
    }
    Ok(Measured {
        step: state.step,
        seconds_per_update: per_update,
        seconds_per_eval: per_eval,
        elapsed_seconds: elapsed,
        plan,
        max_steps: cfg.max_steps,
        warmup_steps: cfg.warmup_steps,
        probe_warmup_steps,
        eval_every: cfg.eval_every,
    })
}

/// The log and the checkpoint writer of a run.
struct Sinks<'a> {
    log: MetricsLog,
    saver: Saver<'a>,
}

/// The held-out set and how to score it.
struct Evaluator<'a> {
    set: EvalSet<'a>,
    collator: &'a MaskCollator,
    batch_size: usize,
    shards: usize,
    device: &'a Device,
}

/// What the loop keeps track of besides the training state: time, the
/// probe, evaluations and patience.
struct Track {
    started: Instant,
    budget: Option<f64>,
    probe: Probe,
    last_update: f64,
    eval_seconds: Option<f64>,
    seconds_per_update: Option<f64>,
    seconds_per_eval: Option<f64>,
    plan: Option<Plan>,
    patience: Option<Patience>,
    evaluated_at: Option<u64>,
    saved_at: Option<u64>,
    evaluations: u64,
    first_eval: Option<EvalMetrics>,
    last_eval: Option<EvalMetrics>,
}

impl Track {
    fn new(opts: &RunOptions, state: &TrainState, budget: Option<f64>) -> Self {
        // A short budget is probed for a tenth of it at most.
        let probe_seconds = budget.map_or(budget::PROBE_SECONDS, |b| {
            budget::PROBE_SECONDS.min(b / 10.0)
        });
        Self {
            started: Instant::now(),
            budget,
            probe: Probe::with_seconds(probe_seconds),
            last_update: 0.0,
            eval_seconds: None,
            seconds_per_update: None,
            seconds_per_eval: None,
            plan: None,
            patience: opts
                .patience
                .map(|p| Patience::new(p, state.best_eval_loss)),
            evaluated_at: None,
            saved_at: None,
            evaluations: 0,
            first_eval: None,
            last_eval: None,
        }
    }

    /// With a budget: would one more update and the evaluation after it
    /// run past it?
    fn out_of_time(&self) -> bool {
        let Some(b) = self.budget else {
            return false;
        };
        let eval = self.eval_seconds.unwrap_or(0.0);
        self.started.elapsed().as_secs_f64() + self.last_update + eval > b
    }

    /// Evaluate after update `state.step`: log it, keep the best model,
    /// and return whether patience has run out.
    fn evaluate(
        &mut self,
        ev: &Evaluator,
        model: &BertForMaskedLm,
        opt: &AdamW,
        state: &mut TrainState,
        sinks: &mut Sinks,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<bool> {
        let t = Instant::now();
        let (loss, acc, n) = evaluate(
            &model.valid(),
            ev.set.corpus,
            ev.set.indices,
            ev.collator,
            ev.batch_size,
            ev.shards,
            ev.device,
        )?;
        let mut m = record_eval(state, loss, acc, n);
        m.elapsed_seconds = self.started.elapsed().as_secs_f64();
        sinks.log.write("eval", &m)?;
        on_event(&Event::Eval(m.clone()));
        if m.is_best {
            sinks.saver.save(model, opt, state, true)?;
        }
        self.eval_seconds = Some(t.elapsed().as_secs_f64());
        self.evaluated_at = Some(state.step);
        self.evaluations += 1;
        self.first_eval.get_or_insert_with(|| m.clone());
        self.last_eval = Some(m);
        Ok(self.patience.as_mut().is_some_and(|p| p.observe(loss)))
    }
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
    keep: usize,
    out: &'a Path,
    model_config_json: String,
}

impl<'a> Saver<'a> {
    fn new(keep: usize, out: &'a Path, model_cfg: &BertConfig) -> Self {
        Self {
            keep,
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
            checkpoint::save(self.out, &ck, self.keep)
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
        elapsed_seconds: 0.0,
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
