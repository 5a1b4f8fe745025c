//! Fine-tuning a sequence classifier (BERT + a linear head on the pooled
//! [CLS] or mean vector) with cross-entropy, as DNABERT's fine-tuning does:
//! AdamW, linear warm-up over a share of the steps then linear decay,
//! dropout, gradient clipping, shuffled epochs. Micro-batches run as
//! parallel row shards ([`crate::shard`]); every random choice is keyed by
//! the seed, so a run repeats byte for byte.

use burn::module::Module;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use dnalm_model::{BatchInput, BertForSequenceClassification, Device, DeviceBatch};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

use crate::error::{Result, TrainError};
use crate::optim::{AdamW, AdamWConfig, GradBuffer};
use crate::schedule::LinearSchedule;

/// One labelled sequence: token ids already framed ([CLS] ... [SEP]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassExample {
    pub ids: Vec<u32>,
    pub label: u32,
}

/// Fine-tuning settings (DNABERT's published values as defaults, sized for
/// a CPU by `epochs`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyConfig {
    /// Peak learning rate (DNABERT: 2e-4 for k = 3, 5, 6; 3e-4 for k = 4).
    pub lr: f64,
    /// Share of the updates spent warming up (DNABERT: 6%).
    pub warmup_ratio: f64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Sequences per update (DNABERT: 64).
    pub batch_size: usize,
    pub weight_decay: f64,
    /// Global gradient-norm clip (0 = none).
    pub max_grad_norm: f64,
    /// Row shards per update, run in parallel.
    pub shards: usize,
    pub seed: u64,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        Self {
            lr: 2e-4,
            warmup_ratio: 0.06,
            epochs: 1,
            batch_size: 64,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            shards: 2,
            seed: 42,
        }
    }
}

/// A padded batch of examples and its labels.
pub fn to_batch(examples: &[&ClassExample], pad_id: u32) -> (BatchInput, Vec<i64>) {
    let t = examples
        .iter()
        .map(|e| e.ids.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut ids = Vec::with_capacity(examples.len() * t);
    let mut mask = Vec::with_capacity(examples.len() * t);
    for e in examples {
        ids.extend(e.ids.iter().map(|&i| i as i64));
        ids.extend(std::iter::repeat_n(pad_id as i64, t - e.ids.len()));
        mask.extend(std::iter::repeat_n(1i64, e.ids.len()));
        mask.extend(std::iter::repeat_n(0i64, t - e.ids.len()));
    }
    let labels = examples.iter().map(|e| e.label as i64).collect();
    (
        BatchInput {
            input_ids: ids,
            attention_mask: mask,
            token_type_ids: None,
            batch_size: examples.len(),
            seq_len: t,
        },
        labels,
    )
}

/// Progress of a fine-tuning run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifyStep {
    pub step: u64,
    pub total: u64,
    pub loss: f64,
    pub lr: f64,
}

fn check(model: &BertForSequenceClassification, train: &[ClassExample]) -> Result<usize> {
    let n = model.classifier.weight.dims()[0];
    if train.is_empty() {
        return Err(TrainError::Config("no training example".into()));
    }
    if let Some(e) = train.iter().find(|e| e.label as usize >= n) {
        return Err(TrainError::Config(format!(
            "label {} is outside the classifier's {n} classes",
            e.label
        )));
    }
    Ok(n)
}

/// Fine-tune `model` (on an autodiff `device`) on `train`. Returns the model
/// and the training loss of every update.
pub fn finetune(
    mut model: BertForSequenceClassification,
    train: &[ClassExample],
    cfg: &ClassifyConfig,
    pad_id: u32,
    device: &Device,
    on_step: &mut dyn FnMut(&ClassifyStep),
) -> Result<(BertForSequenceClassification, Vec<f64>)> {
    check(&model, train)?;
    if cfg.batch_size == 0 || cfg.epochs == 0 || cfg.shards == 0 {
        return Err(TrainError::Config(
            "batch size, epochs and shards must be at least 1".into(),
        ));
    }
    let per_epoch = train.len().div_ceil(cfg.batch_size) as u64;
    let total = per_epoch * cfg.epochs as u64;
    let schedule = LinearSchedule::with_warmup_ratio(cfg.lr, cfg.warmup_ratio, total)?;
    let mut opt = AdamW::new(AdamWConfig {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: cfg.weight_decay,
        hf_decay_groups: true,
    })?;
    let clip = (cfg.max_grad_norm > 0.0).then_some(cfg.max_grad_norm);
    let mut losses = Vec::with_capacity(total as usize);
    let mut step = 0u64;
    for epoch in 0..cfg.epochs {
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(dnalm_seq::mix64(cfg.seed, epoch as u64));
        order.shuffle(&mut rng);
        for chunk in order.chunks(cfg.batch_size) {
            let examples: Vec<&ClassExample> = chunk.iter().map(|&i| &train[i]).collect();
            let (batch, labels) = to_batch(&examples, pad_id);
            let rows = batch.batch_size as f64;
            let lr = schedule.lr_at(step);
            let mut grads = GradBuffer::default();
            let parts = crate::shard::backward_sharded(
                &model,
                &batch,
                cfg.shards,
                dnalm_seq::mix64(cfg.seed ^ 0xC1A5, step),
                device,
                &mut grads,
                |r| r.len() as f64 / rows,
                |m, db, r| {
                    let mask =
                        &batch.attention_mask[r.start * batch.seq_len..r.end * batch.seq_len];
                    let logits = m.forward(db, mask);
                    let lab = Tensor::<2, Int>::from_data(
                        TensorData::new(labels[r.clone()].to_vec(), [r.len(), 1]),
                        device,
                    );
                    let loss = log_softmax(logits, 1).gather(1, lab).mean().neg();
                    let v: f64 = loss.clone().into_scalar::<f32>().elem();
                    Ok((loss.reshape([1]), v * r.len() as f64 / rows))
                },
            )?;
            let loss: f64 = parts.iter().sum();
            if !loss.is_finite() {
                return Err(TrainError::Diverged { step, loss });
            }
            let (m, _) = opt.step(model, grads, lr, clip);
            model = m;
            losses.push(loss);
            step += 1;
            on_step(&ClassifyStep {
                step,
                total,
                loss,
                lr,
            });
        }
    }
    Ok((model, losses))
}

/// Class probabilities of every example in eval mode (no dropout), in
/// batches of `batch_size`, shards in parallel. `model` lives on a device
/// without autodiff (`trained.valid()`).
pub fn predict(
    model: &BertForSequenceClassification,
    examples: &[ClassExample],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(batch_size.max(1)) {
        let refs: Vec<&ClassExample> = chunk.iter().collect();
        let (batch, _) = to_batch(&refs, pad_id);
        model.check_input(&batch).map_err(TrainError::Model)?;
        let parts: Vec<Vec<Vec<f32>>> = batch
            .shard_ranges(2)
            .par_iter()
            .map(|r| {
                let rows = batch.rows(r);
                let db = DeviceBatch::new(&rows, device);
                let p = softmax(model.forward(&db, &rows.attention_mask), 1);
                let [b, c] = p.dims();
                let v: Vec<f32> = p
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .expect("f32 probabilities");
                (0..b).map(|i| v[i * c..(i + 1) * c].to_vec()).collect()
            })
            .collect();
        out.extend(parts.into_iter().flatten());
    }
    Ok(out)
}

/// The inference copy of a fine-tuned model.
pub fn eval_model(model: &BertForSequenceClassification) -> BertForSequenceClassification {
    model.clone().valid()
}
