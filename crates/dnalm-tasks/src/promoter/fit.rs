//! Training a predictor ([`dnalm_model::Predictor`]) on encodings with
//! binary cross-entropy and Adam, as DNABERT-Prom trains its CNN, RNN,
//! LSTM and Transformer: seeded initialisation and shuffles, mini-batches
//! cut into row shards that run forward and backward in parallel
//! ([`dnalm_train::shard`]), then probabilities for the test rows.

use burn::module::Module;
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use dnalm_model::{BatchInput, Device, DeviceBatch, Predictor, PredictorConfig, PredictorKind};
use dnalm_train::{AdamW, AdamWConfig, GradBuffer, TrainError};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::features::Features;
use crate::error::{Result, TaskError};

/// Predictor training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam learning rate (constant).
    pub lr: f64,
    /// Features inside the predictor.
    pub hidden: usize,
    /// Row shards per update, run in parallel.
    pub shards: usize,
    pub seed: u64,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            epochs: 5,
            batch_size: 64,
            lr: 1e-3,
            hidden: 64,
            shards: 2,
            seed: 42,
        }
    }
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

/// Train a `kind` predictor on rows `train` of `feats` (labels by row) and
/// return P(label 1) of every row of `test`.
pub fn fit_predict(
    kind: PredictorKind,
    feats: &Features,
    labels: &[u8],
    train: &[usize],
    test: &[usize],
    cfg: &FitConfig,
    on_step: &mut dyn FnMut(u64, u64, f64),
) -> Result<Vec<f64>> {
    if train.is_empty() || test.is_empty() {
        return Err(TaskError::Config(format!(
            "{} training and {} test rows: both must be non-empty",
            train.len(),
            test.len()
        )));
    }
    if cfg.epochs == 0 || cfg.batch_size == 0 || cfg.shards == 0 {
        return Err(TaskError::Config(
            "predictor epochs, batch size and shards must be at least 1".into(),
        ));
    }
    let device = Device::flex().autodiff();
    let mut pc = PredictorConfig::new(kind, feats.dim);
    pc.hidden = cfg.hidden;
    pc.max_len = feats.max_positions().max(1);
    let mut model = dnalm_model::seeded(cfg.seed, || Predictor::new(&pc, &device))?;
    let mut opt = AdamW::new(AdamWConfig {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        hf_decay_groups: false,
    })?;
    let total = (train.len().div_ceil(cfg.batch_size) * cfg.epochs) as u64;
    let mut step = 0u64;
    for epoch in 0..cfg.epochs {
        let mut order = train.to_vec();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(
            dnalm_seq::mix64(cfg.seed, epoch as u64),
        ));
        for chunk in order.chunks(cfg.batch_size) {
            let (x, mask, t) = padded(feats, chunk);
            let b = chunk.len();
            let batch = batch_input(mask, b, t);
            let y: Vec<f32> = chunk.iter().map(|&i| labels[i] as f32).collect();
            let d = feats.dim;
            let mut grads = GradBuffer::default();
            let parts = dnalm_train::shard::backward_sharded(
                &model,
                &batch,
                cfg.shards,
                dnalm_seq::mix64(cfg.seed ^ 0x9E0, step),
                &device,
                &mut grads,
                |r| r.len() as f64 / b as f64,
                |m, db, r| {
                    let n = r.len();
                    let xs = Tensor::<3>::from_data(
                        TensorData::new(x[r.start * t * d..r.end * t * d].to_vec(), [n, t, d]),
                        &device,
                    );
                    let ys = Tensor::<1>::from_data(
                        TensorData::new(y[r.clone()].to_vec(), [n]),
                        &device,
                    );
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
            let loss: f64 = parts.iter().sum();
            if !loss.is_finite() {
                return Err(TaskError::Train(TrainError::Diverged { step, loss }));
            }
            model = opt.step(model, grads, cfg.lr, None).0;
            step += 1;
            on_step(step, total, loss);
        }
    }
    let model = model.valid();
    let inner = Device::flex();
    let mut probs = Vec::with_capacity(test.len());
    for chunk in test.chunks(256) {
        let (x, mask, t) = padded(feats, chunk);
        let b = chunk.len();
        let xs = Tensor::<3>::from_data(TensorData::new(x, [b, t, feats.dim]), &inner);
        let batch = batch_input(mask, b, t);
        let db = DeviceBatch::new(&batch, &inner);
        let z = model.forward(xs, &db, &batch.attention_mask)?;
        let p: Vec<f32> = sigmoid(z)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 probabilities");
        probs.extend(p.into_iter().map(f64::from));
    }
    Ok(probs)
}

#[cfg(test)]
mod tests {
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
            shards: 2,
            seed: 1,
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
}
