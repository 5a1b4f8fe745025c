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

/// A model that maps a padded batch of token ids to class logits `[B, C]`:
/// BERT with a classification head, or a small network on bases
/// ([`dnalm_model::KmerCnn`]). [`finetune`], [`finetune_validated`] and
/// [`predict`] train and run any of them the same way.
pub trait Classifier: Module + Sync + Clone {
    /// Logits `[B, C]`; `attention_mask` is the host mask of `batch`.
    fn class_logits(&self, batch: &DeviceBatch, attention_mask: &[i64]) -> Tensor<2>;
    /// The number of classes C.
    fn num_classes(&self) -> usize;
    /// Check ids and lengths before a batch goes in.
    fn check_batch(&self, batch: &BatchInput) -> std::result::Result<(), dnalm_model::ModelError>;
}

impl Classifier for BertForSequenceClassification {
    fn class_logits(&self, batch: &DeviceBatch, attention_mask: &[i64]) -> Tensor<2> {
        self.forward(batch, attention_mask)
    }
    fn num_classes(&self) -> usize {
        self.classifier.weight.dims()[0]
    }
    fn check_batch(&self, batch: &BatchInput) -> std::result::Result<(), dnalm_model::ModelError> {
        self.check_input(batch)
    }
}

impl Classifier for dnalm_model::KmerCnn {
    fn class_logits(&self, batch: &DeviceBatch, _attention_mask: &[i64]) -> Tensor<2> {
        self.forward(batch)
    }
    fn num_classes(&self) -> usize {
        self.classes()
    }
    fn check_batch(&self, batch: &BatchInput) -> std::result::Result<(), dnalm_model::ModelError> {
        self.check_input(batch)
    }
}

fn check<M: Classifier>(model: &M, train: &[ClassExample], cfg: &ClassifyConfig) -> Result<usize> {
    let n = model.num_classes();
    if train.is_empty() {
        return Err(TrainError::Config("no training example".into()));
    }
    if let Some(e) = train.iter().find(|e| e.label as usize >= n) {
        return Err(TrainError::Config(format!(
            "label {} is outside the classifier's {n} classes",
            e.label
        )));
    }
    if cfg.batch_size == 0 || cfg.epochs == 0 || cfg.shards == 0 {
        return Err(TrainError::Config(
            "batch size, epochs and shards must be at least 1".into(),
        ));
    }
    Ok(n)
}

/// The settings, optimiser, schedule and step counter of one fine-tuning run.
struct Run<'a> {
    cfg: &'a ClassifyConfig,
    pad_id: u32,
    device: &'a Device,
    opt: AdamW,
    schedule: LinearSchedule,
    clip: Option<f64>,
    step: u64,
    total: u64,
}

impl<'a> Run<'a> {
    fn new(train: usize, cfg: &'a ClassifyConfig, pad_id: u32, device: &'a Device) -> Result<Self> {
        let per_epoch = train.div_ceil(cfg.batch_size) as u64;
        let total = per_epoch * cfg.epochs as u64;
        Ok(Run {
            cfg,
            pad_id,
            device,
            opt: AdamW::new(AdamWConfig {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: cfg.weight_decay,
                hf_decay_groups: true,
            })?,
            schedule: LinearSchedule::with_warmup_ratio(cfg.lr, cfg.warmup_ratio, total)?,
            clip: (cfg.max_grad_norm > 0.0).then_some(cfg.max_grad_norm),
            step: 0,
            total,
        })
    }

    /// One shuffled pass over `train`; returns the model and the mean loss
    /// of its updates.
    fn epoch<M: Classifier>(
        &mut self,
        mut model: M,
        train: &[ClassExample],
        epoch: usize,
        losses: &mut Vec<f64>,
        on_step: &mut dyn FnMut(&ClassifyStep),
    ) -> Result<M> {
        let (cfg, pad_id, device) = (self.cfg, self.pad_id, self.device);
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(dnalm_seq::mix64(cfg.seed, epoch as u64));
        order.shuffle(&mut rng);
        for chunk in order.chunks(cfg.batch_size) {
            let examples: Vec<&ClassExample> = chunk.iter().map(|&i| &train[i]).collect();
            let (batch, labels) = to_batch(&examples, pad_id);
            let rows = batch.batch_size as f64;
            let lr = self.schedule.lr_at(self.step);
            let mut grads = GradBuffer::default();
            let parts = crate::shard::backward_sharded(
                &model,
                &batch,
                cfg.shards,
                dnalm_seq::mix64(cfg.seed ^ 0xC1A5, self.step),
                device,
                &mut grads,
                |r| r.len() as f64 / rows,
                |m, db, r| {
                    let mask =
                        &batch.attention_mask[r.start * batch.seq_len..r.end * batch.seq_len];
                    let logits = m.class_logits(db, mask);
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
                return Err(TrainError::Diverged {
                    step: self.step,
                    loss,
                });
            }
            let (m, _) = self.opt.step(model, grads, lr, self.clip);
            model = m;
            losses.push(loss);
            self.step += 1;
            on_step(&ClassifyStep {
                step: self.step,
                total: self.total,
                loss,
                lr,
            });
        }
        Ok(model)
    }
}

/// Fine-tune `model` (on an autodiff `device`) on `train` for `cfg.epochs`
/// epochs. Returns the model and the training loss of every update.
pub fn finetune<M: Classifier>(
    mut model: M,
    train: &[ClassExample],
    cfg: &ClassifyConfig,
    pad_id: u32,
    device: &Device,
    on_step: &mut dyn FnMut(&ClassifyStep),
) -> Result<(M, Vec<f64>)> {
    check(&model, train, cfg)?;
    let mut run = Run::new(train.len(), cfg, pad_id, device)?;
    let mut losses = Vec::with_capacity(run.total as usize);
    for epoch in 0..cfg.epochs {
        model = run.epoch(model, train, epoch, &mut losses, on_step)?;
    }
    Ok((model, losses))
}

/// One epoch of [`finetune_validated`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochLog {
    pub epoch: usize,
    /// Mean training loss of the epoch's updates (nats).
    pub train_loss: f64,
    /// Mean cross-entropy on the validation examples (nats).
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    /// Wall time of the epoch, validation included.
    pub seconds: f64,
}

/// What [`finetune_validated`] returns.
#[derive(Debug, Clone)]
pub struct Validated<M> {
    /// The inference copy (no autodiff) of the epoch with the lowest
    /// validation loss.
    pub model: M,
    pub best_epoch: usize,
    pub epochs: Vec<EpochLog>,
    /// Training examples seen (epochs run x training examples).
    pub examples_seen: usize,
}

/// Fine-tune for up to `cfg.epochs` epochs, scoring `valid` after each
/// (mean cross-entropy and accuracy, on `inner`, a device without
/// autodiff); stop when `patience` epochs in a row have not lowered the
/// validation loss, and return the best epoch's model.
#[allow(clippy::too_many_arguments)]
pub fn finetune_validated<M: Classifier>(
    mut model: M,
    train: &[ClassExample],
    valid: &[ClassExample],
    cfg: &ClassifyConfig,
    patience: usize,
    pad_id: u32,
    device: &Device,
    inner: &Device,
    on_step: &mut dyn FnMut(&ClassifyStep),
) -> Result<Validated<M>> {
    check(&model, train, cfg)?;
    if valid.is_empty() {
        return Err(TrainError::Config(
            "no validation example: early stopping needs some".into(),
        ));
    }
    check(&model, valid, cfg)?;
    if patience == 0 {
        return Err(TrainError::Config(
            "patience must be at least 1 epoch".into(),
        ));
    }
    let mut run = Run::new(train.len(), cfg, pad_id, device)?;
    let mut losses = Vec::new();
    let mut epochs = Vec::new();
    let mut best: Option<(f64, usize, M)> = None;
    for epoch in 0..cfg.epochs {
        let started = std::time::Instant::now();
        let before = losses.len();
        model = run.epoch(model, train, epoch, &mut losses, on_step)?;
        let copy = model.clone().valid();
        let probs = predict(&copy, valid, 256, pad_id, inner)?;
        let (valid_loss, valid_accuracy) = loss_and_accuracy(&probs, valid);
        let n = (losses.len() - before).max(1);
        epochs.push(EpochLog {
            epoch: epoch + 1,
            train_loss: losses[before..].iter().sum::<f64>() / n as f64,
            valid_loss,
            valid_accuracy,
            seconds: started.elapsed().as_secs_f64(),
        });
        if best.as_ref().is_none_or(|b| valid_loss < b.0) {
            best = Some((valid_loss, epoch + 1, copy));
        }
        let best_epoch = best.as_ref().map_or(0, |b| b.1);
        if epoch + 1 - best_epoch >= patience {
            break;
        }
    }
    let (_, best_epoch, model) = best.expect("at least one epoch ran");
    let examples_seen = epochs.len() * train.len();
    Ok(Validated {
        model,
        best_epoch,
        epochs,
        examples_seen,
    })
}

/// Mean cross-entropy (nats; a zero probability counts as 1e-30) and
/// accuracy of class probabilities against the examples' labels.
pub fn loss_and_accuracy(probs: &[Vec<f32>], examples: &[ClassExample]) -> (f64, f64) {
    let mut loss = 0f64;
    let mut right = 0usize;
    for (p, e) in probs.iter().zip(examples) {
        let l = e.label as usize;
        loss -= (p[l] as f64).max(1e-30).ln();
        let best = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map_or(0, |(i, _)| i);
        right += usize::from(best == l);
    }
    let n = examples.len().max(1) as f64;
    (loss / n, right as f64 / n)
}

/// Class probabilities of every example in eval mode (no dropout), in
/// batches of `batch_size`, shards in parallel. `model` lives on a device
/// without autodiff (`trained.valid()`).
pub fn predict<M: Classifier>(
    model: &M,
    examples: &[ClassExample],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(batch_size.max(1)) {
        let refs: Vec<&ClassExample> = chunk.iter().collect();
        let (batch, _) = to_batch(&refs, pad_id);
        model.check_batch(&batch).map_err(TrainError::Model)?;
        let parts: Vec<Vec<Vec<f32>>> = batch
            .shard_ranges(2)
            .par_iter()
            .map(|r| {
                let rows = batch.rows(r);
                let db = DeviceBatch::new(&rows, device);
                let p = softmax(model.class_logits(&db, &rows.attention_mask), 1);
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
