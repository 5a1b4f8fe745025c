//! The n-gram baseline's neural successor: a GPT-2 causal language model over
//! single bases (tokens A, C, G, T = 0..3), trained on the training side of a
//! genome ([`train_base_lm`]), that gives the exact probability of every one
//! of the 4^k continuations of an input ([`score_continuations`]) as the
//! product of its next-base probabilities.
//!
//! Scoring runs one forward pass per window, not one per continuation: the
//! input is followed by every node of the continuation's prefix tree of
//! depths 1..k-1 (4 + 16 + 64 + 256 = 340 nodes for k = 5), each at the
//! position it would have in its own sequence, with an attention bias that
//! lets a token see only its ancestors and itself. The logits at the last
//! input base and at every node are the next-base distributions the chain
//! rule multiplies.

use std::time::{Duration, Instant};

use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Tensor, TensorData};
use dnalm_model::batch::MASKED_SCORE;
use dnalm_model::{BatchInput, Device, DeviceBatch, Gpt2Config, Gpt2LmHeadModel};
use dnalm_train::causal::{causal_backward, eval_causal, sample_windows};
use dnalm_train::optim::{AdamW, AdamWConfig, GradBuffer};
use dnalm_train::schedule::LinearSchedule;
use rayon::prelude::*;

use crate::error::{Result, TaskError};

/// The bases in token order: A, C, G, T = 0..3 (the order of
/// [`crate::ngram::kmer_code`], so continuation codes are its classes).
pub const BASES: &[u8; 4] = b"ACGT";
/// The longest continuation [`score_continuations`] scores (4^6 = 4096 classes,
/// 1,364 tree nodes).
pub const MAX_KMAX: usize = 6;
/// The token the trainer pads short windows with. Padding is masked out of
/// attention and loss, so it needs no token of its own.
const PAD_ID: u32 = 0;

/// The token of a base, or `None` for anything but A/C/G/T.
fn token(b: u8) -> Option<u32> {
    BASES.iter().position(|&x| x == b).map(|i| i as u32)
}

/// The tokens of an A/C/G/T sequence; `what` names it in the error.
pub fn encode_bases(seq: &[u8], what: &str) -> Result<Vec<u32>> {
    seq.iter()
        .enumerate()
        .map(|(i, &b)| {
            token(b).ok_or_else(|| {
                TaskError::Data(format!(
                    "{what}: base {:?} at position {i} is not A, C, G or T",
                    b as char
                ))
            })
        })
        .collect()
}

/// Tree nodes of depths 1..=`depth`: 4 + 16 + ... + 4^depth.
fn nodes_up_to(depth: usize) -> usize {
    (1..=depth).map(|d| 1usize << (2 * d)).sum()
}

/// The layout of one scoring pass: `input_len` input tokens, then the tree
/// nodes of depth 1..kmax-1, depth by depth, each depth in code order (the
/// node of depth d and code c is the d-base prefix whose
/// [`crate::ngram::kmer_code`] is c).
#[derive(Debug, Clone, PartialEq)]
struct TreeLayout {
    input_len: usize,
    kmax: usize,
    /// Position id of every token: `i` for input `i`, `input_len - 1 + d`
    /// for a node of depth `d`.
    positions: Vec<i64>,
    /// `[T, T]` row-major: 0 where query `i` may see key `j` (an ancestor or
    /// itself), [`MASKED_SCORE`] elsewhere.
    bias: Vec<f32>,
}

impl TreeLayout {
    fn new(input_len: usize, kmax: usize) -> Self {
        let n = input_len + nodes_up_to(kmax - 1);
        let mut positions: Vec<i64> = (0..input_len as i64).collect();
        let mut bias = vec![MASKED_SCORE; n * n];
        for i in 0..input_len {
            bias[i * n..=i * n + i].fill(0.0);
        }
        for d in 1..kmax {
            for c in 0..1usize << (2 * d) {
                let i = Self::node_index(input_len, d, c);
                positions.push((input_len - 1 + d) as i64);
                let row = &mut bias[i * n..(i + 1) * n];
                row[..input_len].fill(0.0);
                for a in 1..=d {
                    row[Self::node_index(input_len, a, c >> (2 * (d - a)))] = 0.0;
                }
            }
        }
        Self {
            input_len,
            kmax,
            positions,
            bias,
        }
    }

    fn node_index(input_len: usize, depth: usize, code: usize) -> usize {
        input_len + nodes_up_to(depth - 1) + code
    }

    fn len(&self) -> usize {
        self.positions.len()
    }

    /// The token ids of one window: its input, then each node's last base.
    fn tokens(&self, input: &[u32], out: &mut Vec<i64>) {
        out.extend(input.iter().map(|&t| t as i64));
        for d in 1..self.kmax {
            out.extend((0..1i64 << (2 * d)).map(|c| c & 3));
        }
    }

    /// Log-probabilities of all 4^kmax continuations from `rows`: the
    /// next-base log-probabilities `[T - input_len + 1, 4]` at the last input
    /// base and at every node, in sequence order.
    fn continuations(&self, rows: &[f32]) -> Vec<f32> {
        // prefix[c] = log P(prefix c) for the prefixes of the current depth.
        let mut prefix = vec![0.0f32];
        for d in 0..self.kmax {
            let mut next = Vec::with_capacity(prefix.len() * 4);
            for (c, &lp) in prefix.iter().enumerate() {
                let row = if d == 0 {
                    0
                } else {
                    Self::node_index(self.input_len, d, c) - self.input_len + 1
                };
                next.extend(rows[row * 4..row * 4 + 4].iter().map(|&x| lp + x));
            }
            prefix = next;
        }
        prefix
    }
}

/// Natural-log probabilities of all 4^`kmax` continuations of each input
/// (A/C/G/T, all the same length), per window in class-code order (A, C, G,
/// T = 0..3, first base most significant, as [`crate::ngram::kmer_code`]):
/// one forward pass per window, `batch` windows at a time, in two row shards
/// side by side. `model` should be an inference copy (`model.valid()`) on
/// `device`; when its vocabulary is larger than the four bases (a padding
/// token), the next-base distribution is renormalised over A/C/G/T.
/// `progress` hears the number of windows done after each batch.
pub fn score_continuations(
    model: &Gpt2LmHeadModel,
    inputs: &[&[u8]],
    kmax: usize,
    batch: usize,
    device: &Device,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Vec<f32>>> {
    if !(1..=MAX_KMAX).contains(&kmax) {
        return Err(TaskError::Config(format!(
            "continuations of {kmax} bases: kmax must be in 1..={MAX_KMAX}"
        )));
    }
    if batch == 0 {
        return Err(TaskError::Config(
            "scoring batch size must be at least 1".into(),
        ));
    }
    if model.vocab_size() < 4 {
        return Err(TaskError::Config(format!(
            "a vocabulary of {} tokens cannot hold the four bases",
            model.vocab_size()
        )));
    }
    let Some(first) = inputs.first() else {
        return Ok(Vec::new());
    };
    let input_len = first.len();
    if input_len == 0 {
        return Err(TaskError::Data("input windows are empty".into()));
    }
    let tokens: Vec<Vec<u32>> = inputs
        .iter()
        .enumerate()
        .map(|(w, s)| {
            if s.len() != input_len {
                return Err(TaskError::Data(format!(
                    "input window {w} has {} bases, window 0 has {input_len}: all must be equally long",
                    s.len()
                )));
            }
            encode_bases(s, &format!("input window {w}"))
        })
        .collect::<Result<_>>()?;
    if input_len + kmax - 1 > model.n_positions() {
        return Err(TaskError::Config(format!(
            "an input of {input_len} bases and continuations of {kmax} need {} positions; \
             the model has {}",
            input_len + kmax - 1,
            model.n_positions()
        )));
    }
    let layout = TreeLayout::new(input_len, kmax);
    let t = layout.len();
    let bias: Tensor<4> =
        Tensor::from_data(TensorData::new(layout.bias.clone(), [1, 1, t, t]), device);
    let rows_per_window = t - input_len + 1;
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in tokens.chunks(batch) {
        let mut ids = Vec::with_capacity(chunk.len() * t);
        for w in chunk {
            layout.tokens(w, &mut ids);
        }
        let all = BatchInput::unpadded(ids, chunk.len(), t);
        let parts: Vec<Result<Vec<f32>>> = all
            .shard_ranges(2)
            .par_iter()
            .map(|r| {
                let db = DeviceBatch::new(&all.rows(r), device);
                let logits = model.logits_with_bias(&db, &layout.positions, &bias)?;
                let b = r.len();
                let lp = log_softmax(logits.slice([0..b, input_len - 1..t, 0..4]), 2);
                lp.into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .map_err(|e| TaskError::Data(format!("reading log-probabilities: {e:?}")))
            })
            .collect();
        for part in parts {
            for rows in part?.chunks(rows_per_window * 4) {
                out.push(layout.continuations(rows));
            }
        }
        progress(out.len());
    }
    Ok(out)
}

/// Settings of [`train_base_lm`].
#[derive(Debug, Clone, PartialEq)]
pub struct BaseLmConfig {
    /// Transformer blocks.
    pub layers: usize,
    /// Width of the residual stream (`n_embd`).
    pub hidden: usize,
    /// Attention heads (must divide `hidden`).
    pub heads: usize,
    /// Bases per training window, and the model's positions: at least the
    /// input length plus kmax - 1 of the scoring to come (50 + 4 = 54).
    pub context: usize,
    /// Peak learning rate (AdamW, linear warm-up then linear decay to 0 at
    /// `max_steps`).
    pub lr: f64,
    /// Updates spent warming up to `lr`.
    pub warmup: u64,
    /// Windows per update.
    pub batch_size: usize,
    /// Row shards per update, run side by side (2 for 2 cores).
    pub shards: usize,
    /// Seeds the weights, the windows drawn and nothing else.
    pub seed: u64,
    /// Stop after this much wall-clock training (checked after each update;
    /// the one knob that makes a run depend on the machine).
    pub time_budget: Option<Duration>,
    /// Updates at most; also the length of the learning-rate decay.
    pub max_steps: u64,
    /// Held-out evaluation after every this many updates (and at the end).
    pub eval_every: u64,
    /// Stop after this many evaluations in a row without a new best held-out
    /// loss (0: never stop early).
    pub patience: usize,
    /// Windows per held-out evaluation batch.
    pub eval_batch: usize,
}

impl Default for BaseLmConfig {
    /// A model that trains at a few updates a second on 2 CPU cores (2 x
    /// 128 at 3e-3 reached a lower held-out loss than 4 x 128 at 2e-3 in the
    /// same 13 minutes).
    fn default() -> Self {
        Self {
            layers: 2,
            hidden: 128,
            heads: 4,
            context: 64,
            lr: 3e-3,
            warmup: 200,
            batch_size: 32,
            shards: 2,
            seed: 42,
            time_budget: None,
            max_steps: 4000,
            eval_every: 250,
            patience: 4,
            eval_batch: 64,
        }
    }
}

impl BaseLmConfig {
    /// The model these settings train: GPT-2 over the four bases, no dropout
    /// (a genome is far larger than what a CPU run reads once).
    pub fn model_config(&self) -> Result<Gpt2Config> {
        let mut c = Gpt2Config::preset("tiny", Some(4))?;
        c.n_layer = self.layers;
        c.n_embd = self.hidden;
        c.n_head = self.heads;
        c.n_positions = self.context;
        c.resid_pdrop = 0.0;
        c.embd_pdrop = 0.0;
        c.attn_pdrop = 0.0;
        c.dnalm_preset = None;
        c.validate()?;
        Ok(c)
    }

    fn check(&self) -> Result<()> {
        let bad = |m: String| Err(TaskError::Config(m));
        if self.layers == 0 || self.hidden == 0 || self.heads == 0 {
            return bad("layers, hidden and heads must be at least 1".into());
        }
        if self.context < 2 {
            return bad(format!(
                "context {} is too short: a next-base target needs 2 bases",
                self.context
            ));
        }
        if self.batch_size == 0 || self.shards == 0 || self.eval_batch == 0 {
            return bad("batch size, shards and eval batch must be at least 1".into());
        }
        if self.max_steps == 0 || self.eval_every == 0 {
            return bad("max steps and eval every must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("learning rate {} must be positive", self.lr));
        }
        Ok(())
    }
}

/// Progress after each update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaseLmStep {
    /// Updates done (1-based).
    pub step: u64,
    pub max_steps: u64,
    /// Wall-clock seconds since training began.
    pub seconds: f64,
    /// Mean next-base loss of this update's batch (nats).
    pub loss: f64,
    pub lr: f64,
    /// Held-out bits per base, when this update was followed by an evaluation.
    pub valid_bits: Option<f64>,
}

/// One held-out evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    pub step: u64,
    pub seconds: f64,
    /// Mean training loss (nats per base) of the updates since the previous
    /// evaluation.
    pub train_loss: f64,
    /// Held-out cross-entropy in bits per base.
    pub valid_bits: f64,
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    MaxSteps,
    TimeBudget,
    /// `patience` evaluations in a row without a new best.
    NoImprovement,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::MaxSteps => "max steps",
            StopReason::TimeBudget => "time budget",
            StopReason::NoImprovement => "no improvement (patience)",
        })
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct BaseLmRun {
    /// The weights of the best held-out evaluation, as an inference copy
    /// (plain device, no autodiff).
    pub model: Gpt2LmHeadModel,
    pub config: Gpt2Config,
    /// Every evaluation, in order.
    pub curve: Vec<CurvePoint>,
    pub stop: StopReason,
    /// The update whose weights `model` holds, and its held-out bits per base.
    pub best_step: u64,
    pub best_valid_bits: f64,
    /// Updates done and wall-clock seconds spent.
    pub steps: u64,
    pub seconds: f64,
}

fn to_tokens(segments: &[Vec<u8>], what: &str) -> Result<Vec<Vec<u32>>> {
    segments
        .iter()
        .enumerate()
        .map(|(i, s)| encode_bases(s, &format!("{what} segment {i}")))
        .collect()
}

/// Train a base-level GPT-2 on `train` (A/C/G/T segments, cut by the
/// caller from the genome's training blocks) with windows of
/// `cfg.context` bases drawn by `(seed, step)`, AdamW with warm-up and
/// linear decay (dnalm-train's causal step), held-out evaluation on
/// `valid` (consecutive windows) every `cfg.eval_every` updates, and
/// three stops: `max_steps`, `time_budget`, `patience`. Returns the best
/// held-out weights. Same seed and no time budget: the same weights,
/// byte for byte.
pub fn train_base_lm(
    train: &[Vec<u8>],
    valid: &[Vec<u8>],
    cfg: &BaseLmConfig,
    progress: &mut dyn FnMut(&BaseLmStep),
) -> Result<BaseLmRun> {
    cfg.check()?;
    let config = cfg.model_config()?;
    let train = to_tokens(train, "training")?;
    let valid = to_tokens(valid, "validation")?;
    if !valid.iter().any(|s| s.len() >= 2) {
        return Err(TaskError::Data(
            "no validation segment of 2 bases or more: early stopping needs held-out sequence"
                .into(),
        ));
    }
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?.autodiff();
    let plain = device.clone().inner();
    let mut model = dnalm_model::seeded(cfg.seed, || Gpt2LmHeadModel::new(&config, &device));
    let schedule = LinearSchedule::new(cfg.lr, cfg.warmup.min(cfg.max_steps), cfg.max_steps)?;
    let mut opt = AdamW::new(AdamWConfig {
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weight_decay: 0.1,
        hf_decay_groups: true,
    })?;
    let evaluate = |m: &Gpt2LmHeadModel| -> Result<(f64, Gpt2LmHeadModel)> {
        let inference = m.clone().valid();
        let e = eval_causal(
            &inference,
            &valid,
            cfg.context,
            cfg.eval_batch,
            PAD_ID,
            &plain,
        )?;
        Ok((e.loss / std::f64::consts::LN_2, inference))
    };
    let start = Instant::now();
    let mut curve = Vec::new();
    let mut best: Option<(f64, u64, Gpt2LmHeadModel)> = None;
    let mut since_best = 0usize;
    let (mut loss_sum, mut loss_n) = (0.0, 0usize);
    let mut step = 0u64;
    let stop = loop {
        let batch = sample_windows(&train, cfg.batch_size, cfg.context, PAD_ID, cfg.seed, step)?;
        let lr = schedule.lr_at(step);
        let mut grads = GradBuffer::default();
        let out = causal_backward(&model, &batch, cfg.shards, cfg.seed, &device, &mut grads)?;
        if !out.loss.is_finite() {
            return Err(dnalm_train::TrainError::Diverged {
                step,
                loss: out.loss,
            }
            .into());
        }
        model = opt.step(model, grads, lr, Some(1.0)).0;
        step += 1;
        loss_sum += out.loss;
        loss_n += 1;
        let seconds = start.elapsed().as_secs_f64();
        let stop = if step >= cfg.max_steps {
            Some(StopReason::MaxSteps)
        } else if cfg.time_budget.is_some_and(|b| start.elapsed() >= b) {
            Some(StopReason::TimeBudget)
        } else {
            None
        };
        let mut valid_bits = None;
        let mut stop_now = stop;
        if step.is_multiple_of(cfg.eval_every) || stop.is_some() {
            let (bits, inference) = evaluate(&model)?;
            valid_bits = Some(bits);
            curve.push(CurvePoint {
                step,
                seconds,
                train_loss: loss_sum / loss_n as f64,
                valid_bits: bits,
            });
            (loss_sum, loss_n) = (0.0, 0);
            if best.as_ref().is_none_or(|b| bits < b.0) {
                best = Some((bits, step, inference));
                since_best = 0;
            } else {
                since_best += 1;
                if cfg.patience > 0 && since_best >= cfg.patience && stop_now.is_none() {
                    stop_now = Some(StopReason::NoImprovement);
                }
            }
        }
        progress(&BaseLmStep {
            step,
            max_steps: cfg.max_steps,
            seconds,
            loss: out.loss,
            lr,
            valid_bits,
        });
        if let Some(s) = stop_now {
            break s;
        }
    };
    let (best_valid_bits, best_step, model) =
        best.expect("the last update is always evaluated, so there is a best");
    Ok(BaseLmRun {
        model,
        config,
        curve,
        stop,
        best_step,
        best_valid_bits,
        steps: step,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests;
