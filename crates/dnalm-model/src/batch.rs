//! A batch of token ids and masks: on the host ([`BatchInput`]) and as
//! device tensors ([`DeviceBatch`]) that the encoder layers and the
//! attention read. Its own file so that `attention` and `bert` both depend
//! on it and not on each other.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// What HF puts on the scores of a key a query must not see
/// (`torch.finfo(float32).min`).
pub const MASKED_SCORE: f32 = f32::MIN;

/// Token ids and masks of a batch, on the host. `attention_mask` is 1 for a
/// real token and 0 for padding; `token_type_ids` default to zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInput {
    pub input_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub token_type_ids: Option<Vec<i64>>,
    pub batch_size: usize,
    pub seq_len: usize,
}

impl BatchInput {
    /// A batch with every token real.
    pub fn unpadded(input_ids: Vec<i64>, batch_size: usize, seq_len: usize) -> Self {
        let attention_mask = vec![1; input_ids.len()];
        Self {
            input_ids,
            attention_mask,
            token_type_ids: None,
            batch_size,
            seq_len,
        }
    }
}

impl BatchInput {
    /// Row ranges of `shards` shards of this batch: shard `i` holds rows
    /// `i*B/S .. (i+1)*B/S`; fewer shards when there are fewer rows, never an
    /// empty one.
    pub fn shard_ranges(&self, shards: usize) -> Vec<std::ops::Range<usize>> {
        let rows = self.batch_size;
        let s = shards.clamp(1, rows.max(1));
        (0..s)
            .map(|i| (i * rows / s)..((i + 1) * rows / s))
            .filter(|r| !r.is_empty())
            .collect()
    }

    /// Rows `r` of this batch.
    pub fn rows(&self, r: &std::ops::Range<usize>) -> BatchInput {
        let t = self.seq_len;
        let cut = |v: &Vec<i64>| v[r.start * t..r.end * t].to_vec();
        BatchInput {
            input_ids: cut(&self.input_ids),
            attention_mask: cut(&self.attention_mask),
            token_type_ids: self.token_type_ids.as_ref().map(cut),
            batch_size: r.len(),
            seq_len: t,
        }
    }
}

/// The batch as device tensors.
#[derive(Debug)]
pub struct DeviceBatch {
    pub input_ids: Tensor<2, Int>,
    pub token_type_ids: Option<Tensor<2, Int>>,
    /// `[B, 1, 1, T]`: 0 for a real key, a large negative number for padding,
    /// added to the attention scores (HF's "extended attention mask").
    pub mask_bias: Tensor<4>,
    /// `[B, 1, 1, T]`: true where the key is padding.
    pub mask_pad: Tensor<4, Bool>,
    /// Where training-mode dropout masks come from: `Some(seed)` makes the
    /// masks of one forward pass a function of the seed alone (the k-th
    /// dropout call of the pass uses `mix64(seed, k)`), so passes can run
    /// on several threads at once and stay reproducible; `None` draws each
    /// mask's seed from the device's generator.
    pub dropout_seed: Option<u64>,
    dropout_calls: std::sync::atomic::AtomicU64,
}

impl Clone for DeviceBatch {
    fn clone(&self) -> Self {
        Self {
            input_ids: self.input_ids.clone(),
            token_type_ids: self.token_type_ids.clone(),
            mask_bias: self.mask_bias.clone(),
            mask_pad: self.mask_pad.clone(),
            dropout_seed: self.dropout_seed,
            dropout_calls: std::sync::atomic::AtomicU64::new(
                self.dropout_calls
                    .load(std::sync::atomic::Ordering::Relaxed),
            ),
        }
    }
}

impl DeviceBatch {
    pub fn new(batch: &BatchInput, device: &Device) -> Self {
        let (b, t) = (batch.batch_size, batch.seq_len);
        let ids = Tensor::from_data(TensorData::new(batch.input_ids.clone(), [b, t]), device);
        let token_type_ids = batch
            .token_type_ids
            .as_ref()
            .map(|tt| Tensor::from_data(TensorData::new(tt.clone(), [b, t]), device));
        let bias: Vec<f32> = batch
            .attention_mask
            .iter()
            .map(|&m| if m == 0 { MASKED_SCORE } else { 0.0 })
            .collect();
        let pad: Vec<bool> = batch.attention_mask.iter().map(|&m| m == 0).collect();
        Self {
            input_ids: ids,
            token_type_ids,
            mask_bias: Tensor::from_data(TensorData::new(bias, [b, 1, 1, t]), device),
            mask_pad: Tensor::from_data(TensorData::new(pad, [b, 1, 1, t]), device),
            dropout_seed: None,
            dropout_calls: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Key this pass's dropout masks by `seed` (see [`Self::dropout_seed`]).
    pub fn with_dropout_seed(mut self, seed: u64) -> Self {
        self.dropout_seed = Some(seed);
        self
    }

    /// The seed of the next dropout mask of this pass, if the pass has one.
    pub(crate) fn next_dropout_seed(&self) -> Option<u64> {
        self.dropout_seed.map(|s| {
            let k = self
                .dropout_calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            dnalm_seq::mix64(s, k)
        })
    }
}
