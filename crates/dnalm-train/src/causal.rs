//! Training the GPT-2 causal LM ([`dnalm_model::Gpt2LmHeadModel`]) on
//! token-id sequences: seeded windows cut from the sequences, next-token
//! loss, AdamW ([`crate::optim`]) with a linear warm-up and decay
//! ([`LinearSchedule`]), global-norm clipping, and micro-batches run as
//! parallel row shards ([`crate::shard`]). Every random choice (which
//! sequence, where the window starts, dropout) is a function of
//! `(seed, step)`, so a run repeats byte for byte.
//!
//! This is the foundation of the genome book (SPEC section 4); the corpus
//! mix (DNA, protein, English) and the CLI belong to later steps.

use std::ops::Range;

use burn::module::Module;
use burn::tensor::ElementConversion;
use dnalm_model::{causal_labels, BatchInput, Device, DeviceBatch, Gpt2LmHeadModel, IGNORE_LABEL};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::error::{Result, TrainError};
use crate::optim::{AdamW, AdamWConfig, GradBuffer};
use crate::schedule::LinearSchedule;
use crate::shard::{backward_sharded, MicroResult};

/// Causal-LM training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CausalConfig {
    /// Peak learning rate.
    pub lr: f64,
    /// Updates spent warming up to `lr`.
    pub warmup_steps: u64,
    /// Optimiser updates in all.
    pub steps: u64,
    /// Windows per update.
    pub batch_size: usize,
    /// Tokens per window (at most the model's `n_positions`).
    pub context: usize,
    /// GPT-2's AdamW settings by default: betas (0.9, 0.95), eps 1e-8,
    /// weight decay 0.1, no decay on biases and LayerNorm.
    pub adamw: AdamWConfig,
    /// Global gradient-norm clip (0 = none).
    pub max_grad_norm: f64,
    /// Row shards per update, run in parallel.
    pub shards: usize,
    pub seed: u64,
}

impl Default for CausalConfig {
    fn default() -> Self {
        Self {
            lr: 6e-4,
            warmup_steps: 100,
            steps: 1000,
            batch_size: 16,
            context: 256,
            adamw: AdamWConfig {
                beta1: 0.9,
                beta2: 0.95,
                eps: 1e-8,
                weight_decay: 0.1,
                hf_decay_groups: true,
            },
            max_grad_norm: 1.0,
            shards: 2,
            seed: 42,
        }
    }
}

/// Progress of a training run, after each update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CausalStep {
    /// Updates done (1-based).
    pub step: u64,
    pub total: u64,
    /// Mean next-token loss of this update's batch.
    pub loss: f64,
    pub lr: f64,
    pub grad_norm: f64,
    /// Next-token targets in this batch.
    pub targets: usize,
}

/// Loss of a model over held-out sequences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CausalEval {
    /// Mean next-token cross-entropy (nats).
    pub loss: f64,
    /// Next-token targets it averages over.
    pub targets: usize,
    /// Share of targets the model ranks first.
    pub accuracy: f64,
}

impl CausalEval {
    pub fn perplexity(&self) -> f64 {
        self.loss.exp()
    }
}

/// Right-pad rows of ids into a batch (attention mask 0 on padding).
pub fn pad_rows(rows: &[&[u32]], pad_id: u32) -> BatchInput {
    let t = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
    let mut ids = Vec::with_capacity(rows.len() * t);
    let mut mask = Vec::with_capacity(rows.len() * t);
    for r in rows {
        ids.extend(r.iter().map(|&i| i as i64));
        ids.extend(std::iter::repeat_n(pad_id as i64, t - r.len()));
        mask.extend(std::iter::repeat_n(1i64, r.len()));
        mask.extend(std::iter::repeat_n(0i64, t - r.len()));
    }
    BatchInput {
        input_ids: ids,
        attention_mask: mask,
        token_type_ids: None,
        batch_size: rows.len(),
        seq_len: t,
    }
}

/// The windows of update `step`: `batch_size` rows, each a uniformly chosen
/// sequence of at least 2 tokens, cut to a window of `context` tokens at a
/// uniform offset (shorter sequences whole), right-padded. A function of
/// `(seed, step)` alone.
pub fn sample_windows(
    sequences: &[Vec<u32>],
    batch_size: usize,
    context: usize,
    pad_id: u32,
    seed: u64,
    step: u64,
) -> Result<BatchInput> {
    let usable: Vec<&Vec<u32>> = sequences.iter().filter(|s| s.len() >= 2).collect();
    if usable.is_empty() {
        return Err(TrainError::Config(format!(
            "none of the {} sequences has the 2 tokens a next-token target needs",
            sequences.len()
        )));
    }
    if context < 2 {
        return Err(TrainError::Config(format!(
            "context {context} is too short: a next-token target needs 2 tokens"
        )));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(dnalm_seq::mix64(seed, step));
    let rows: Vec<&[u32]> = (0..batch_size)
        .map(|_| {
            let s = usable[rng.random_range(0..usable.len())];
            let w = s.len().min(context);
            let start = rng.random_range(0..=s.len() - w);
            &s[start..start + w]
        })
        .collect();
    Ok(pad_rows(&rows, pad_id))
}

/// Next-token targets of each row of `labels` (`[B*T]`, from [`causal_labels`]).
fn targets_in(labels: &[i64], t: usize, rows: &Range<usize>) -> usize {
    rows.clone()
        .map(|r| {
            labels[r * t + 1..(r + 1) * t]
                .iter()
                .filter(|&&l| l != IGNORE_LABEL)
                .count()
        })
        .sum()
}

/// Forward and backward of one batch in `shards` parallel row shards on the
/// autodiff `device`; the gradients of the batch's mean next-token loss are
/// added to `grads` (one micro-batch counted). The shard count does not
/// change the result beyond rounding: each shard's loss is weighted by its
/// share of the targets.
pub fn causal_backward(
    model: &Gpt2LmHeadModel,
    batch: &BatchInput,
    shards: usize,
    dropout_seed: u64,
    device: &Device,
    grads: &mut GradBuffer,
) -> Result<MicroResult> {
    model.check_input(batch)?;
    let t = batch.seq_len;
    let labels = causal_labels(batch);
    let total = targets_in(&labels, t, &(0..batch.batch_size));
    if total == 0 {
        return Err(TrainError::Model(dnalm_model::ModelError::Input(
            "no next-token target in the batch: nothing to learn from".into(),
        )));
    }
    let parts = backward_sharded(
        model,
        batch,
        shards,
        dropout_seed,
        device,
        grads,
        |r| targets_in(&labels, t, r) as f64 / total as f64,
        |m, db, r| {
            let out = m.lm_loss(db, &labels[r.start * t..r.end * t])?;
            let loss: f64 = out.loss.clone().into_scalar::<f32>().elem();
            let share = out.n_labels as f64 / total as f64;
            Ok((out.loss, (loss * share, out.n_labels, out.n_correct)))
        },
    )?;
    let mut out = MicroResult::default();
    for (loss, n, c) in parts {
        out.loss += loss;
        out.n_labels += n;
        out.n_correct += c;
    }
    Ok(out)
}

fn check(model: &Gpt2LmHeadModel, cfg: &CausalConfig, pad_id: u32) -> Result<()> {
    if cfg.batch_size == 0 || cfg.steps == 0 || cfg.shards == 0 {
        return Err(TrainError::Config(
            "batch size, steps and shards must be at least 1".into(),
        ));
    }
    if cfg.context > model.n_positions() {
        return Err(TrainError::Config(format!(
            "context {} is longer than the model's {} positions",
            cfg.context,
            model.n_positions()
        )));
    }
    if pad_id as usize >= model.vocab_size() {
        return Err(TrainError::Config(format!(
            "padding id {pad_id} is outside the model's vocabulary of {}",
            model.vocab_size()
        )));
    }
    Ok(())
}

/// Train `model` (on the autodiff `device`) on `sequences` for `cfg.steps`
/// updates. Returns the model and each update's batch loss; `on_step` hears
/// of every update.
pub fn train_causal(
    mut model: Gpt2LmHeadModel,
    sequences: &[Vec<u32>],
    cfg: &CausalConfig,
    pad_id: u32,
    device: &Device,
    on_step: &mut dyn FnMut(&CausalStep),
) -> Result<(Gpt2LmHeadModel, Vec<f64>)> {
    check(&model, cfg, pad_id)?;
    let schedule = LinearSchedule::new(cfg.lr, cfg.warmup_steps, cfg.steps)?;
    let mut opt = AdamW::new(cfg.adamw)?;
    let clip = (cfg.max_grad_norm > 0.0).then_some(cfg.max_grad_norm);
    let mut losses = Vec::with_capacity(cfg.steps as usize);
    for step in 0..cfg.steps {
        let batch = sample_windows(
            sequences,
            cfg.batch_size,
            cfg.context,
            pad_id,
            cfg.seed,
            step,
        )?;
        let lr = schedule.lr_at(step);
        let mut grads = GradBuffer::default();
        let dropout_seed = dnalm_seq::mix64(cfg.seed ^ 0xCA05A1, step);
        let out = causal_backward(&model, &batch, cfg.shards, dropout_seed, device, &mut grads)?;
        if !out.loss.is_finite() {
            return Err(TrainError::Diverged {
                step,
                loss: out.loss,
            });
        }
        let (m, info) = opt.step(model, grads, lr, clip);
        model = m;
        losses.push(out.loss);
        on_step(&CausalStep {
            step: step + 1,
            total: cfg.steps,
            loss: out.loss,
            lr,
            grad_norm: info.grad_norm,
            targets: out.n_labels,
        });
    }
    Ok((model, losses))
}

/// Mean next-token loss over `sequences` in eval mode (no dropout, no
/// autodiff: `model` on a plain device, e.g. `trained.valid()`), each
/// sequence cut into consecutive windows of `context` tokens, `batch_size`
/// windows at a time, two shards in parallel.
pub fn eval_causal(
    model: &Gpt2LmHeadModel,
    sequences: &[Vec<u32>],
    context: usize,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<CausalEval> {
    if context < 2 || context > model.n_positions() {
        return Err(TrainError::Config(format!(
            "context {context} must be in 2..={}",
            model.n_positions()
        )));
    }
    let windows: Vec<&[u32]> = sequences
        .iter()
        .flat_map(|s| s.chunks(context))
        .filter(|w| w.len() >= 2)
        .collect();
    if windows.is_empty() {
        return Err(TrainError::Config(
            "no held-out window of 2 tokens or more".into(),
        ));
    }
    let (mut sum, mut n, mut correct) = (0.0, 0usize, 0usize);
    for chunk in windows.chunks(batch_size.max(1)) {
        let batch = pad_rows(chunk, pad_id);
        model.check_input(&batch)?;
        let labels = causal_labels(&batch);
        let t = batch.seq_len;
        let parts: Vec<Result<(f64, usize, usize)>> = batch
            .shard_ranges(2)
            .par_iter()
            .map(|r| {
                let out = model.lm_loss(
                    &DeviceBatch::new(&batch.rows(r), device),
                    &labels[r.start * t..r.end * t],
                )?;
                let loss: f64 = out.loss.into_scalar::<f32>().elem();
                Ok((loss * out.n_labels as f64, out.n_labels, out.n_correct))
            })
            .collect();
        for p in parts {
            let (l, k, c) = p?;
            sum += l;
            n += k;
            correct += c;
        }
    }
    Ok(CausalEval {
        loss: sum / n as f64,
        targets: n,
        accuracy: correct as f64 / n as f64,
    })
}

/// The inference copy of a trained model.
pub fn eval_model(model: &Gpt2LmHeadModel) -> Gpt2LmHeadModel {
    model.clone().valid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_model::Gpt2Config;

    /// A small "language": mostly `next = 3 * prev + 1 (mod 16)`, one token
    /// in ten uniform. Its entropy is about 0.57 nats per token, against
    /// ln 16 = 2.77 for a model that knows nothing.
    fn markov(n: usize, seed: u64) -> Vec<Vec<u32>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let len = rng.random_range(20..48);
                let mut s = vec![rng.random_range(0..16u32)];
                while s.len() < len {
                    let prev = *s.last().unwrap();
                    s.push(if rng.random_bool(0.9) {
                        (3 * prev + 1) % 16
                    } else {
                        rng.random_range(0..16)
                    });
                }
                s
            })
            .collect()
    }

    fn tiny_model(device: &Device) -> Gpt2LmHeadModel {
        let mut c = Gpt2Config::preset("tiny", Some(17)).unwrap();
        c.n_embd = 32;
        c.n_positions = 32;
        dnalm_model::seeded(3, || Gpt2LmHeadModel::new(&c, device))
    }

    fn quick(steps: u64) -> CausalConfig {
        CausalConfig {
            lr: 3e-3,
            warmup_steps: steps / 10,
            steps,
            batch_size: 8,
            context: 16,
            shards: 2,
            seed: 11,
            ..CausalConfig::default()
        }
    }

    #[test]
    fn loss_falls_on_generated_sequences() {
        let device = dnalm_model::device(dnalm_model::Backend::Cpu)
            .unwrap()
            .autodiff();
        let (train, held_out) = (markov(60, 1), markov(12, 2));
        let model = tiny_model(&device);
        let before = eval_causal(
            &eval_model(&model),
            &held_out,
            16,
            8,
            16,
            &device.clone().inner(),
        )
        .unwrap();
        let mut seen = 0;
        let (model, losses) = train_causal(model, &train, &quick(80), 16, &device, &mut |s| {
            assert_eq!(s.total, 80);
            assert!(s.targets >= 8 * 15);
            seen += 1;
        })
        .unwrap();
        assert_eq!((seen, losses.len()), (80, 80));
        let after = eval_causal(
            &eval_model(&model),
            &held_out,
            16,
            8,
            16,
            &device.clone().inner(),
        )
        .unwrap();
        eprintln!(
            "held-out loss {:.3} -> {:.3} (perplexity {:.2} -> {:.2}), accuracy {:.2} -> {:.2}",
            before.loss,
            after.loss,
            before.perplexity(),
            after.perplexity(),
            before.accuracy,
            after.accuracy
        );
        assert!(before.loss > 2.3, "an untrained model should be near ln 16");
        assert!(after.loss < before.loss - 1.0, "{before:?} -> {after:?}");
        assert!(after.accuracy > 0.6, "{after:?}");
        let first: f64 = losses[..5].iter().sum::<f64>() / 5.0;
        let last: f64 = losses[75..].iter().sum::<f64>() / 5.0;
        assert!(last < first - 1.0, "training loss {first} -> {last}");
    }

    #[test]
    fn same_seed_same_run_for_any_thread_count() {
        let device = dnalm_model::device(dnalm_model::Backend::Cpu)
            .unwrap()
            .autodiff();
        let data = markov(20, 5);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let (m, losses) = train_causal(
                    tiny_model(&device),
                    &data,
                    &quick(4),
                    16,
                    &device,
                    &mut |_| {},
                )
                .unwrap();
                let w = dnalm_model::weights::state_dict(&m);
                (losses, w)
            })
        };
        let (l1, w1) = run(1);
        let (l2, w2) = run(2);
        assert_eq!(l1, l2);
        assert_eq!(w1, w2);
        let mut other = quick(4);
        other.seed = 12;
        let (_, l3) =
            train_causal(tiny_model(&device), &data, &other, 16, &device, &mut |_| {}).unwrap();
        assert_ne!(l1, l3, "another seed should draw other windows");
    }

    #[test]
    fn windows_are_seeded_and_fit_the_context() {
        let data = vec![vec![1, 2], vec![5; 40], vec![7], vec![]];
        let a = sample_windows(&data, 6, 10, 0, 9, 3).unwrap();
        assert_eq!(a, sample_windows(&data, 6, 10, 0, 9, 3).unwrap());
        assert_ne!(a, sample_windows(&data, 6, 10, 0, 9, 4).unwrap());
        assert_eq!(a.batch_size, 6);
        assert!(a.seq_len <= 10);
        for r in 0..6 {
            let mask = &a.attention_mask[r * a.seq_len..(r + 1) * a.seq_len];
            let real = mask.iter().filter(|&&m| m == 1).count();
            // Only the sequences of 2 and of 40 tokens are usable.
            assert!(real == 2 || real == 10, "row {r}: {real} tokens");
            // Right padding: real tokens first.
            assert!(mask[..real].iter().all(|&m| m == 1));
        }
        let e = sample_windows(&[vec![1], vec![]], 2, 10, 0, 1, 0).unwrap_err();
        assert!(e.to_string().contains("2 tokens"), "{e}");
        assert!(sample_windows(&data, 2, 1, 0, 1, 0).is_err());
    }

    #[test]
    fn bad_settings_are_refused() {
        let device = dnalm_model::device(dnalm_model::Backend::Cpu)
            .unwrap()
            .autodiff();
        let data = markov(4, 1);
        let mut cfg = quick(2);
        cfg.context = 33;
        let e =
            train_causal(tiny_model(&device), &data, &cfg, 16, &device, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("32 positions"), "{e}");
        let e = train_causal(
            tiny_model(&device),
            &data,
            &quick(2),
            17,
            &device,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("padding id 17"), "{e}");
        let bad = vec![vec![1, 2, 30]];
        let e = train_causal(
            tiny_model(&device),
            &bad,
            &quick(2),
            16,
            &device,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("token id 30"), "{e}");
    }
}
