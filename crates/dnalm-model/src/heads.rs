//! Models with heads: masked-LM (HF `BertForMaskedLM`, decoder tied to the
//! word embeddings, optional LSTM before the head) and sequence
//! classification ([CLS] or mean pooling).

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::bert::{BatchInput, BertModel, DeviceBatch, EncoderOutput, Pooler, Want};
use crate::config::BertConfig;
use crate::error::{ModelError, Result};
use crate::layers::{Activation, LayerNorm, Linear};
use crate::lstm::Lstm;

/// Labels that carry no loss (HF's `ignore_index`).
pub const IGNORE_LABEL: i64 = -100;

/// HF: `cls.predictions.transform`.
#[derive(Module, Debug)]
pub struct Transform {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    #[module(skip)]
    pub act: Activation,
}

/// HF: `cls.predictions`. The decoder weight is the word-embedding matrix.
#[derive(Module, Debug)]
pub struct Predictions {
    pub transform: Transform,
    pub bias: Param<Tensor<1>>,
}

#[derive(Module, Debug)]
pub struct Cls {
    pub predictions: Predictions,
}

/// BERT (+ optional LSTM) with the masked-LM head.
#[derive(Module, Debug)]
pub struct BertForMaskedLm {
    pub bert: BertModel,
    pub lstm: Option<Lstm>,
    pub cls: Cls,
}

/// The result of a language-model loss on one batch (masked or causal).
#[derive(Debug, Clone)]
pub struct MlmOutput {
    /// Mean cross-entropy over the labelled positions (a 1-element tensor).
    /// For the causal LM, a labelled position is one with a next-token target.
    pub loss: Tensor<1>,
    /// How many labelled positions the loss averages over.
    pub n_labels: usize,
    /// How many of them the model ranks first.
    pub n_correct: usize,
}

impl BertForMaskedLm {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            bert: BertModel::new(config, device),
            lstm: (config.dnalm_lstm_layers > 0)
                .then(|| Lstm::new(h, config.dnalm_lstm_layers, device)),
            cls: Cls {
                predictions: Predictions {
                    transform: Transform {
                        dense: Linear::new(h, h, config.initializer_range, device),
                        layer_norm: LayerNorm::new(h, config.layer_norm_eps, device),
                        act: Activation::from_name(&config.hidden_act),
                    },
                    bias: Param::from_tensor(Tensor::zeros([config.vocab_size], device)),
                },
            },
        }
    }

    pub fn vocab_size(&self) -> usize {
        self.bert.embeddings.word_embeddings.weight.dims()[0]
    }

    /// Check ids against the vocabulary and lengths against the positions.
    pub fn check_input(&self, batch: &BatchInput) -> Result<()> {
        check_batch(&self.bert, batch)
    }

    /// Encoder (+ LSTM) output: `[B, T, H]`, plus what `want` asks for.
    pub fn encode(&self, batch: &DeviceBatch, want: Want) -> EncoderOutput {
        let mut out = self.bert.forward(batch, want);
        if let Some(lstm) = &self.lstm {
            out.last_hidden_state = lstm.forward(out.last_hidden_state);
        }
        out
    }

    /// Vocabulary logits for hidden states `[..., H] -> [..., V]`.
    pub fn head<const D: usize>(&self, hidden: Tensor<D>) -> Tensor<D> {
        let t = &self.cls.predictions.transform;
        let x = t.layer_norm.forward(t.act.forward(t.dense.forward(hidden)));
        let decoder = self.bert.embeddings.word_embeddings.weight.val();
        burn::tensor::module::linear(
            x,
            decoder.transpose(),
            Some(self.cls.predictions.bias.val()),
        )
    }

    /// Logits `[B, T, V]` for every position.
    pub fn logits(&self, batch: &DeviceBatch) -> Tensor<3> {
        self.head(self.encode(batch, Want::default()).last_hidden_state)
    }

    /// [`Self::logits`] with the rows cut into `shards` shards run in
    /// parallel (the flex backend runs element-wise work on one thread per
    /// pass); the same numbers for any thread count.
    pub fn logits_sharded(&self, batch: &BatchInput, shards: usize, device: &Device) -> Tensor<3> {
        use rayon::prelude::*;
        let parts: Vec<Tensor<3>> = batch
            .shard_ranges(shards)
            .par_iter()
            .map(|r| self.logits(&DeviceBatch::new(&batch.rows(r), device)))
            .collect();
        Tensor::cat(parts, 0)
    }

    /// Masked-LM loss. The head runs only on labelled positions (about 15%
    /// of them), which gives the same loss as HF's full-vocabulary logits at a
    /// fraction of the cost. `labels` is `[B*T]` with [`IGNORE_LABEL`] where
    /// there is no loss; at least one label must be set.
    pub fn mlm_loss(&self, batch: &DeviceBatch, labels: &[i64]) -> Result<MlmOutput> {
        let hidden = self.encode(batch, Want::default()).last_hidden_state;
        let [b, t, h] = hidden.dims();
        if labels.len() != b * t {
            return Err(ModelError::Input(format!(
                "{} labels for a batch of {b} x {t} tokens",
                labels.len()
            )));
        }
        let vocab = self.vocab_size() as i64;
        let mut rows = Vec::new();
        let mut targets = Vec::new();
        for (i, &l) in labels.iter().enumerate() {
            if l == IGNORE_LABEL {
                continue;
            }
            if !(0..vocab).contains(&l) {
                return Err(ModelError::Input(format!(
                    "label {l} at position {i} is outside the vocabulary (0..{vocab})"
                )));
            }
            rows.push(i as i64);
            targets.push(l);
        }
        if rows.is_empty() {
            return Err(ModelError::Input(
                "no labelled position in the batch: nothing to learn from".into(),
            ));
        }
        Ok(loss_at_rows(
            hidden.reshape([b * t, h]),
            rows,
            targets,
            |x| self.head(x),
        ))
    }
}

/// Mean cross-entropy of `head(hidden[rows])` (`hidden` is `[N, H]`)
/// against `targets`, and how many of those rows the model ranks first: the
/// part the masked-LM and the causal-LM losses share. `rows` is not empty.
pub(crate) fn loss_at_rows(
    hidden: Tensor<2>,
    rows: Vec<i64>,
    targets: Vec<i64>,
    head: impl Fn(Tensor<2>) -> Tensor<2>,
) -> MlmOutput {
    let m = rows.len();
    let device = hidden.device();
    let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [m]), &device);
    let targets_t = Tensor::<2, Int>::from_data(TensorData::new(targets.clone(), [m, 1]), &device);
    let logits = head(hidden.select(0, rows));
    let logp = log_softmax(logits.clone(), 1);
    let loss = logp.gather(1, targets_t).mean().neg();
    let predicted: Vec<i64> = logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("argmax gives integers");
    let n_correct = predicted
        .iter()
        .zip(&targets)
        .filter(|(p, t)| p == t)
        .count();
    MlmOutput {
        loss: loss.reshape([1]),
        n_labels: m,
        n_correct,
    }
}

pub(crate) fn check_batch(bert: &BertModel, batch: &BatchInput) -> Result<()> {
    check_batch_sizes(
        bert.embeddings.word_embeddings.weight.dims()[0],
        bert.embeddings.position_embeddings.weight.dims()[0],
        batch,
    )
}

/// Ids within `vocab`, at most `max_pos` tokens, sizes that agree.
pub(crate) fn check_batch_sizes(vocab: usize, max_pos: usize, batch: &BatchInput) -> Result<()> {
    let vocab = vocab as i64;
    let n = batch.batch_size * batch.seq_len;
    if batch.input_ids.len() != n || batch.attention_mask.len() != n {
        return Err(ModelError::Input(format!(
            "batch of {} x {} needs {n} ids and mask values, got {} and {}",
            batch.batch_size,
            batch.seq_len,
            batch.input_ids.len(),
            batch.attention_mask.len()
        )));
    }
    if batch.seq_len > max_pos {
        return Err(ModelError::Input(format!(
            "sequence of {} tokens is longer than the model's {max_pos} positions",
            batch.seq_len
        )));
    }
    if let Some((i, id)) = batch
        .input_ids
        .iter()
        .enumerate()
        .find(|(_, &id)| !(0..vocab).contains(&id))
    {
        return Err(ModelError::Input(format!(
            "token id {id} (sequence {}, position {}) is outside the model's vocabulary of {vocab}",
            i / batch.seq_len.max(1),
            i % batch.seq_len.max(1)
        )));
    }
    Ok(())
}

/// How a classifier turns token states into one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The first token's state ([CLS]).
    Cls,
    /// The mean over real (non-padding) tokens.
    Mean,
}

/// BERT (+ optional LSTM) with dropout and a linear classifier on a pooled
/// vector.
#[derive(Module, Debug)]
pub struct BertForSequenceClassification {
    pub bert: BertModel,
    pub lstm: Option<Lstm>,
    pub dropout: Dropout,
    pub classifier: Linear,
    #[module(skip)]
    pub pooling: Pooling,
}

impl BertForSequenceClassification {
    /// A fresh classifier; [CLS] pooling gets HF's pooler (dense + tanh).
    pub fn new(config: &BertConfig, num_labels: usize, pooling: Pooling, device: &Device) -> Self {
        let mut bert = BertModel::new(config, device);
        if pooling == Pooling::Cls {
            bert.pooler = Some(Pooler::new(config, device));
        }
        Self {
            bert,
            lstm: (config.dnalm_lstm_layers > 0)
                .then(|| Lstm::new(config.hidden_size, config.dnalm_lstm_layers, device)),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            classifier: Self::classifier(config, num_labels, device),
            pooling,
        }
    }

    /// The linear layer from the pooled vector to the labels' logits.
    fn classifier(config: &BertConfig, num_labels: usize, device: &Device) -> Linear {
        Linear::new(
            config.hidden_size,
            num_labels,
            config.initializer_range,
            device,
        )
    }

    /// Start from a pre-trained masked-LM model's body (the head is dropped)
    /// and a new classifier (and, for [CLS] pooling, a new pooler unless the
    /// body has one) drawn with `seed` ([`crate::seeded`]).
    pub fn from_pretrained(
        mlm: BertForMaskedLm,
        config: &BertConfig,
        num_labels: usize,
        pooling: Pooling,
        seed: u64,
        device: &Device,
    ) -> Self {
        let (pooler, classifier) = crate::seeded(seed, || {
            (
                (pooling == Pooling::Cls).then(|| Pooler::new(config, device)),
                Self::classifier(config, num_labels, device),
            )
        });
        let mut bert = mlm.bert;
        if bert.pooler.is_none() {
            bert.pooler = pooler;
        }
        Self {
            bert,
            lstm: mlm.lstm,
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            classifier,
            pooling,
        }
    }

    pub fn check_input(&self, batch: &BatchInput) -> Result<()> {
        check_batch(&self.bert, batch)
    }

    /// Token states `[B, T, H]` the classifier pools: the last hidden layer
    /// (after the LSTM, if the model has one).
    pub fn token_states(&self, batch: &DeviceBatch) -> Tensor<3> {
        let x = self.bert.forward(batch, Want::default()).last_hidden_state;
        match &self.lstm {
            Some(lstm) => lstm.forward(x),
            None => x,
        }
    }

    /// Pooled vectors `[B, H]`; `attention_mask` is the host mask of `batch`.
    /// [CLS] pooling goes through the pooler when the model has one (as HF's
    /// `BertForSequenceClassification`); older classifiers read [CLS] as is.
    pub fn pooled(&self, batch: &DeviceBatch, attention_mask: &[i64]) -> Tensor<2> {
        let states = self.token_states(batch);
        match (&self.bert.pooler, self.pooling) {
            (Some(pooler), Pooling::Cls) => pooler.forward(states),
            _ => pool(states, attention_mask, self.pooling),
        }
    }

    /// Class logits `[B, num_labels]`.
    pub fn forward(&self, batch: &DeviceBatch, attention_mask: &[i64]) -> Tensor<2> {
        self.classifier.forward(crate::layers::dropout(
            &self.dropout,
            self.pooled(batch, attention_mask),
            batch,
        ))
    }
}

/// Pool token states `[B, T, H]` into `[B, H]`.
pub fn pool(x: Tensor<3>, attention_mask: &[i64], pooling: Pooling) -> Tensor<2> {
    let [b, t, h] = x.dims();
    match pooling {
        Pooling::Cls => x.slice([0..b, 0..1, 0..h]).reshape([b, h]),
        Pooling::Mean => {
            let device = x.device();
            let m: Vec<f32> = attention_mask
                .iter()
                .map(|&v| (v != 0) as u8 as f32)
                .collect();
            let mask = Tensor::<3>::from_data(TensorData::new(m, [b, t, 1]), &device);
            let counts = mask.clone().sum_dim(1).clamp_min(1.0);
            (x * mask).sum_dim(1).div(counts).reshape([b, h])
        }
    }
}
