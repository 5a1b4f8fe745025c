//! Training a predictor ([`dnalm_model::Predictor`]) on encodings with
//! binary cross-entropy and AdamW: seeded initialisation and shuffles,
//! mini-batches cut into row shards that run forward and backward in
//! parallel ([`dnalm_train::shard`]), the validation rows scored after every
//! epoch, early stopping when their AUROC has not improved for `patience`
//! epochs, and the best epoch's weights kept. Then probabilities for any
//! rows ([`predict`]).

use std::time::Instant;

use burn::module::Module;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use dnalm_model::{BatchInput, Device, DeviceBatch, Predictor, PredictorConfig, PredictorKind};
use dnalm_train::{AdamW, AdamWConfig, GradBuffer, TrainError};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use super::features::Features;
use crate::error::{Result, TaskError};
use crate::metrics::auroc;

/// Predictor training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitConfig {
    /// Most passes over the training rows.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation AUROC (0 = never).
    pub patience: usize,
    pub batch_size: usize,
    /// AdamW peak learning rate.
    pub lr: f64,
    /// Cosine decay of the learning rate from `lr` to 5 % of it over
    /// `epochs` (false: constant).
    pub cosine: bool,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Features inside the pooled predictors; LSTM width per direction of `deepromoter`.
    pub hidden: usize,
    /// Convolution filters of the position-aware predictors.
    pub filters: usize,
    /// Dense layer of the position-aware predictors.
    pub dense: usize,
    /// Dropout of the position-aware predictors and the Transformer.
    pub dropout: f64,
    /// Row shards per update, run in parallel.
    pub shards: usize,
    pub seed: u64,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            epochs: 8,
            patience: 2,
            batch_size: 64,
            lr: 1e-3,
            cosine: true,
            weight_decay: 1e-2,
            hidden: 64,
            filters: 32,
            dense: 128,
            dropout: 0.2,
            shards: 2,
            seed: 42,
        }
    }
}

impl FitConfig {
    /// The predictor of `kind` these settings build for `feats`.
    pub fn predictor_config(&self, kind: PredictorKind, feats: &Features) -> PredictorConfig {
        let mut pc = PredictorConfig::new(kind, feats.dim);
        pc.hidden = self.hidden;
        pc.filters = self.filters;
        pc.dense = self.dense;
        pc.dropout = self.dropout;
        pc.max_len = feats.max_positions().max(1);
        pc.positions = feats.max_positions();
        pc
    }
}

/// One epoch of training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    /// NaN without validation rows.
    pub valid_auroc: f64,
    pub valid_loss: f64,
    pub seconds: f64,
}

/// A trained predictor (inference copy) and how it got there.
#[derive(Debug)]
pub struct Fitted {
    pub model: Predictor,
    pub config: PredictorConfig,
    /// 1-based epoch whose weights were kept.
    pub best_epoch: usize,
    pub history: Vec<EpochLog>,
    /// P(label 1) of the validation rows under the kept weights.
    pub valid_probs: Vec<f64>,
    pub seconds: f64,
    pub train_rows: usize,
}

/// Rows `idx` of `feats` as one zero-padded batch: values `[B, T, dim]`
/// and the host mask `[B * T]`.
fn padded(feats: &Features, idx: &[usize]) -> (Vec<f32>, Vec<i64>, usize) {
    let t = idx
        .iter()
        .map(|&i| feats.positions(i))
        .max()
        .unwrap_or(1)
        .max(1);
    let d = feats.dim;
    let mut x = vec![0f32; idx.len() * t * d];
    let mut mask = vec![0i64; idx.len() * t];
    for (r, &i) in idx.iter().enumerate() {
        let row = &feats.rows[i];
        x[r * t * d..r * t * d + row.len()].copy_from_slice(row);
        mask[r * t..r * t + row.len() / d].fill(1);
    }
    (x, mask, t)
}

fn batch_input(mask: Vec<i64>, b: usize, t: usize) -> BatchInput {
    BatchInput {
        input_ids: vec![0; b * t],
        attention_mask: mask,
        token_type_ids: None,
        batch_size: b,
        seq_len: t,
    }
}

/// Batches of training rows (in a seeded order) that set the batch-norm
/// statistics of an inference copy.
const CALIBRATION_ROWS: usize = 4096;

fn calibrated(
    model: Predictor,
    feats: &Features,
    train: &[usize],
    cfg: &FitConfig,
    device: &Device,
) -> Result<Predictor> {
    if model.norms.is_empty() {
        return Ok(model);
    }
    let mut order = train.to_vec();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(
        dnalm_seq::mix64(cfg.seed, 0xCA1),
    ));
    order.truncate(CALIBRATION_ROWS);
    let batches: Vec<(Tensor<3>, Vec<i64>)> = order
        .chunks(cfg.batch_size.max(32))
        .map(|chunk| {
            let (x, mask, t) = padded(feats, chunk);
            let xs =
                Tensor::<3>::from_data(TensorData::new(x, [chunk.len(), t, feats.dim]), device);
            (xs, mask)
        })
        .collect();
    let batch = batch_input(vec![1; 1], 1, 1);
    let db = DeviceBatch::new(&batch, device);
    Ok(model.calibrate(&batches, &db)?)
}

/// The sigmoid of a logit, in f64: in f32 every logit above ~17 gives
/// exactly 1.0, and a scan could no longer rank its strongest calls.
pub fn probability(logit: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(logit)).exp())
}

/// P(label 1) of rows `idx` of `feats` under `model` (an inference copy),
/// 256 rows per forward pass.
pub fn predict(model: &Predictor, feats: &Features, idx: &[usize]) -> Result<Vec<f64>> {
    let inner = Device::flex();
    let mut probs = Vec::with_capacity(idx.len());
    for chunk in idx.chunks(256) {
        let (x, mask, t) = padded(feats, chunk);
        let b = chunk.len();
        let xs = Tensor::<3>::from_data(TensorData::new(x, [b, t, feats.dim]), &inner);
        let batch = batch_input(mask, b, t);
        let db = DeviceBatch::new(&batch, &inner);
        let z: Vec<f32> = model
            .forward(xs, &db, &batch.attention_mask)?
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| TaskError::Config(format!("predictor output: {e:?}")))?;
        probs.extend(z.into_iter().map(probability));
    }
    Ok(probs)
}

/// Mean binary cross-entropy (nats) of probabilities against labels.
fn bce(p: &[f64], labels: &[u8]) -> f64 {
    let n = p.len().max(1) as f64;
    p.iter()
        .zip(labels)
        .map(|(&p, &l)| {
            let p = p.clamp(1e-7, 1.0 - 1e-7);
            if l == 1 {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum::<f64>()
        / n
}

fn check_fit(train: &[usize], cfg: &FitConfig) -> Result<()> {
    if train.is_empty() {
        return Err(TaskError::Config(
            "no training rows for the predictor".into(),
        ));
    }
    if cfg.epochs == 0 || cfg.batch_size == 0 || cfg.shards == 0 {
        return Err(TaskError::Config(
            "predictor epochs, batch size and shards must be at least 1".into(),
        ));
    }
    Ok(())
}

/// The learning rate of update `step` of `total`: constant, or cosine
/// decay to 5 % of `cfg.lr`.
fn lr_at(cfg: &FitConfig, step: u64, total: u64) -> f64 {
    if cfg.cosine {
        let f = step as f64 / total.max(1) as f64;
        cfg.lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * f).cos()))
    } else {
        cfg.lr
    }
}

/// Gradients of the binary cross-entropy on rows `chunk` (one batch),
/// with each shard's share of the loss.
fn backward(
    model: &Predictor,
    feats: &Features,
    labels: &[u8],
    chunk: &[usize],
    cfg: &FitConfig,
    step: u64,
    device: &Device,
) -> Result<(GradBuffer, Vec<f64>)> {
    let (x, mask, t) = padded(feats, chunk);
    let b = chunk.len();
    let batch = batch_input(mask, b, t);
    let y: Vec<f32> = chunk.iter().map(|&i| labels[i] as f32).collect();
    let d = feats.dim;
    let mut grads = GradBuffer::default();
    let parts = dnalm_train::shard::backward_sharded(
        model,
        &batch,
        cfg.shards,
        dnalm_seq::mix64(cfg.seed ^ 0x9E0, step),
        device,
        &mut grads,
        |r| r.len() as f64 / b as f64,
        |m, db, r| {
            let n = r.len();
            let xs = Tensor::<3>::from_data(
                TensorData::new(x[r.start * t * d..r.end * t * d].to_vec(), [n, t, d]),
                device,
            );
            let ys = Tensor::<1>::from_data(TensorData::new(y[r.clone()].to_vec(), [n]), device);
            let z = m
                .forward(xs, db, &batch.attention_mask[r.start * t..r.end * t])
                .map_err(TrainError::Model)?;
            // Binary cross-entropy on logits: -(y log s(z) + (1-y) log s(-z)).
            let loss = (ys.clone() * log_sigmoid(z.clone())
                + (ys.neg() + 1.0) * log_sigmoid(z.neg()))
            .mean()
            .neg();
            let v: f64 = loss.clone().into_scalar::<f32>().elem();
            Ok((loss.reshape([1]), v * n as f64 / b as f64))
        },
    )?;
    Ok((grads, parts))
}

/// Validation AUROC, loss and probabilities (NaN and empty without
/// validation rows).
fn validate(
    copy: &Predictor,
    feats: &Features,
    valid: &[usize],
    valid_labels: &[u8],
) -> Result<(f64, f64, Vec<f64>)> {
    if valid.is_empty() {
        return Ok((f64::NAN, f64::NAN, Vec::new()));
    }
    let p = predict(copy, feats, valid)?;
    Ok((auroc(&p, valid_labels), bce(&p, valid_labels), p))
}

/// Train a `kind` predictor on rows `train` of `feats` (labels by row),
/// scoring rows `valid` after every epoch; keeps the epoch with the best
/// validation AUROC (the last one when `valid` is empty).
/// `on_step(step, total, loss)` reports every update.
pub fn fit(
    kind: PredictorKind,
    feats: &Features,
    labels: &[u8],
    train: &[usize],
    valid: &[usize],
    cfg: &FitConfig,
    on_step: &mut dyn FnMut(u64, u64, f64),
) -> Result<Fitted> {
    let started = Instant::now();
    check_fit(train, cfg)?;
    let device = Device::flex().autodiff();
    let pc = cfg.predictor_config(kind, feats);
    let mut model = dnalm_model::seeded(cfg.seed, || Predictor::new(&pc, &device))?;
    let mut opt = AdamW::new(AdamWConfig {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: cfg.weight_decay,
        hf_decay_groups: false,
    })?;
    let valid_labels: Vec<u8> = valid.iter().map(|&i| labels[i]).collect();
    let total = (train.len().div_ceil(cfg.batch_size) * cfg.epochs) as u64;
    let mut step = 0u64;
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, Predictor, Vec<f64>)> = None;
    let inner = Device::flex();
    for epoch in 0..cfg.epochs {
        let epoch_start = Instant::now();
        let mut order = train.to_vec();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(
            dnalm_seq::mix64(cfg.seed, epoch as u64),
        ));
        let (mut loss_sum, mut loss_rows) = (0f64, 0usize);
        for chunk in order.chunks(cfg.batch_size) {
            let b = chunk.len();
            let (grads, parts) = backward(&model, feats, labels, chunk, cfg, step, &device)?;
            let loss: f64 = parts.iter().sum();
            if !loss.is_finite() {
                return Err(TaskError::Train(TrainError::Diverged { step, loss }));
            }
            loss_sum += loss * b as f64;
            loss_rows += b;
            model = opt.step(model, grads, lr_at(cfg, step, total), None).0;
            step += 1;
            on_step(step, total, loss);
        }
        let copy = calibrated(model.valid(), feats, train, cfg, &inner)?;
        let (valid_auroc, valid_loss, probs) = validate(&copy, feats, valid, &valid_labels)?;
        history.push(EpochLog {
            epoch: epoch + 1,
            train_loss: loss_sum / loss_rows.max(1) as f64,
            valid_auroc,
            valid_loss,
            seconds: epoch_start.elapsed().as_secs_f64(),
        });
        // NaN (no validation, or one class) never beats a number: keep the last.
        let better = match &best {
            None => true,
            Some((a, ..)) => valid_auroc > *a || (a.is_nan() && valid.is_empty()),
        };
        if better {
            best = Some((valid_auroc, epoch + 1, copy, probs));
        }
        let best_epoch = best.as_ref().map_or(0, |b| b.1);
        if cfg.patience > 0 && !valid.is_empty() && epoch + 1 - best_epoch >= cfg.patience {
            break;
        }
    }
    let (_, best_epoch, model, valid_probs) = best.expect("at least one epoch ran");
    Ok(Fitted {
        model,
        config: pc,
        best_epoch,
        history,
        valid_probs,
        seconds: started.elapsed().as_secs_f64(),
        train_rows: train.len(),
    })
}

/// Train on `train` without validation and return P(label 1) of `test`
/// (the fixed-epoch protocol).
pub fn fit_predict(
    kind: PredictorKind,
    feats: &Features,
    labels: &[u8],
    train: &[usize],
    test: &[usize],
    cfg: &FitConfig,
    on_step: &mut dyn FnMut(u64, u64, f64),
) -> Result<Vec<f64>> {
    if test.is_empty() {
        return Err(TaskError::Config("no test rows for the predictor".into()));
    }
    let f = fit(kind, feats, labels, train, &[], cfg, on_step)?;
    predict(&f.model, feats, test)
}

#[cfg(test)]
mod tests {
    use super::probability;

    #[test]
    fn strong_logits_keep_their_order() {
        let p: Vec<f64> = [0.0f32, 17.0, 20.0, 30.0]
            .iter()
            .map(|&z| probability(z))
            .collect();
        assert_eq!(p[0], 0.5);
        assert!(p[1] < p[2] && p[2] < p[3] && p[3] < 1.0, "{p:?}");
        // What f32 would have given: no order left.
        let f32_sigmoid = |z: f32| 1.0 / (1.0 + (-z).exp());
        assert_eq!(f32_sigmoid(20.0), f32_sigmoid(30.0));
    }

    use super::*;
    use crate::metrics::BinaryMetrics;

    /// Positives hold a G at position 5, negatives a C: every predictor
    /// must learn it from one-hot bases.
    #[test]
    fn predictors_learn_a_planted_base_and_repeat_bit_for_bit() {
        use rand::Rng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let mut seqs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..160 {
            let mut s: Vec<u8> = (0..12).map(|_| b"AT"[rng.random_range(0..2)]).collect();
            let l = (i % 2) as u8;
            s[5] = if l == 1 { b'G' } else { b'C' };
            seqs.push(s);
            labels.push(l);
        }
        let refs: Vec<&[u8]> = seqs.iter().map(|s| s.as_slice()).collect();
        let feats = super::super::features::one_hot(&refs);
        let train: Vec<usize> = (0..120).collect();
        let test: Vec<usize> = (120..160).collect();
        let cfg = FitConfig {
            epochs: 15,
            batch_size: 16,
            lr: 5e-3,
            hidden: 8,
            filters: 8,
            dense: 16,
            dropout: 0.0,
            shards: 2,
            seed: 1,
            ..FitConfig::default()
        };
        for kind in PredictorKind::ALL {
            let p = fit_predict(
                kind,
                &feats,
                &labels,
                &train,
                &test,
                &cfg,
                &mut |_, _, _| {},
            )
            .unwrap();
            let l: Vec<u8> = test.iter().map(|&i| labels[i]).collect();
            let m = BinaryMetrics::compute(&p, &l);
            assert!(m.accuracy >= 0.9, "{kind:?}: accuracy {}", m.accuracy);
            if kind == PredictorKind::Cnn {
                let again = fit_predict(
                    kind,
                    &feats,
                    &labels,
                    &train,
                    &test,
                    &cfg,
                    &mut |_, _, _| {},
                )
                .unwrap();
                assert_eq!(p, again);
            }
        }
    }

    /// Every row holds the same motif once, at offset 12 in positives and
    /// offset 44 in negatives, in random background: composition and local
    /// words say nothing, only where the motif sits. A max-pooled CNN
    /// (translation-invariant) cannot learn it; the position-aware
    /// predictors must.
    #[test]
    fn only_position_aware_predictors_learn_where_a_motif_sits() {
        use rand::Rng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let motif = b"TATAAAGG";
        let (mut seqs, mut labels) = (Vec::new(), Vec::new());
        for i in 0..480 {
            let mut s: Vec<u8> = (0..64).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
            let l = (i % 2) as u8;
            let at = if l == 1 { 12 } else { 44 };
            s[at..at + motif.len()].copy_from_slice(motif);
            seqs.push(s);
            labels.push(l);
        }
        let refs: Vec<&[u8]> = seqs.iter().map(|s| s.as_slice()).collect();
        let feats = super::super::features::one_hot(&refs);
        let train: Vec<usize> = (0..320).collect();
        let valid: Vec<usize> = (320..400).collect();
        let test: Vec<usize> = (400..480).collect();
        let l: Vec<u8> = test.iter().map(|&i| labels[i]).collect();
        let cfg = FitConfig {
            epochs: 12,
            patience: 0,
            batch_size: 16,
            lr: 3e-3,
            hidden: 8,
            filters: 8,
            dense: 16,
            dropout: 0.0,
            seed: 3,
            ..FitConfig::default()
        };
        for kind in [
            PredictorKind::Cnn,
            PredictorKind::Deepromoter,
            PredictorKind::CnnDense,
        ] {
            let f = fit(
                kind,
                &feats,
                &labels,
                &train,
                &valid,
                &cfg,
                &mut |_, _, _| {},
            )
            .unwrap();
            let p = predict(&f.model, &feats, &test).unwrap();
            let m = BinaryMetrics::compute(&p, &l);
            if kind.is_positional() {
                assert!(m.accuracy >= 0.9, "{kind:?}: accuracy {}", m.accuracy);
                assert!(f.best_epoch >= 1 && f.history.len() == 12);
                assert_eq!(f.valid_probs.len(), valid.len());
            } else {
                assert!(
                    m.accuracy <= 0.65,
                    "{kind:?} pooled: accuracy {}",
                    m.accuracy
                );
            }
        }
    }

    #[test]
    fn early_stopping_keeps_the_best_epoch() {
        use rand::Rng;
        // Labels are noise: validation AUROC wanders, so training stops
        // `patience` epochs after its best and keeps that epoch.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let seqs: Vec<Vec<u8>> = (0..200)
            .map(|_| (0..16).map(|_| b"ACGT"[rng.random_range(0..4)]).collect())
            .collect();
        let labels: Vec<u8> = (0..200).map(|_| rng.random_range(0..2)).collect();
        let refs: Vec<&[u8]> = seqs.iter().map(|s| s.as_slice()).collect();
        let feats = super::super::features::one_hot(&refs);
        let train: Vec<usize> = (0..150).collect();
        let valid: Vec<usize> = (150..200).collect();
        let cfg = FitConfig {
            epochs: 40,
            patience: 2,
            batch_size: 32,
            hidden: 8,
            filters: 4,
            dense: 8,
            seed: 1,
            ..FitConfig::default()
        };
        let f = fit(
            PredictorKind::CnnDense,
            &feats,
            &labels,
            &train,
            &valid,
            &cfg,
            &mut |_, _, _| {},
        )
        .unwrap();
        let run = f.history.len();
        assert!(run < 40, "never stopped");
        assert_eq!(run, f.best_epoch + 2);
        let best = f.history[f.best_epoch - 1].valid_auroc;
        assert!(f.history.iter().all(|h| h.valid_auroc <= best));
        let vl: Vec<u8> = valid.iter().map(|&i| labels[i]).collect();
        assert!((crate::metrics::auroc(&f.valid_probs, &vl) - best).abs() < 1e-12);
    }
}
