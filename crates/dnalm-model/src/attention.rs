//! Scaled dot-product attention over split heads, shared by the BERT encoder
//! (padding mask only) and the GPT-2 decoder (padding mask plus a causal
//! mask). It owns the choice between burn's fused kernel (inference without
//! attention maps) and the explicit softmax path (training, dropout on the
//! probabilities, attention maps), so both models mask the same way HF does:
//! a very large negative number added to the scores of keys a query must
//! not see.

use burn::nn::Dropout;
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Tensor, TensorData};

use crate::batch::DeviceBatch;
pub use crate::batch::MASKED_SCORE;

/// The causal mask of a length-`t` sequence as a score bias `[1, 1, T, T]`:
/// 0 where key `j <= query i`, [`MASKED_SCORE`] for later keys.
pub fn causal_bias(t: usize, device: &Device) -> Tensor<4> {
    let v: Vec<f32> = (0..t * t)
        .map(|k| if k % t > k / t { MASKED_SCORE } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(v, [1, 1, t, t]), device)
}

/// `softmax(q k^T * scale + masks) v` for `q, k, v` of shape `[B, heads, T, d]`,
/// with `batch`'s padding mask on the keys and, when `causal` is given (the
/// bias of [`causal_bias`]), no look at later keys. `dropout` acts on the
/// probabilities (training only). Returns the context `[B, heads, T, d]` and,
/// when asked, the probabilities `[B, heads, T, T]`.
///
/// Rows whose every visible key is padding (only a left-padded query can be
/// in that case) are the one place the two paths differ: the fused kernel
/// gives a zero context, the explicit path HF's (uniform over the masked
/// keys). Real tokens never look at such rows.
pub fn scaled_dot_product(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    batch: &DeviceBatch,
    causal: Option<&Tensor<4>>,
    dropout: &Dropout,
    want_probs: bool,
) -> (Tensor<4>, Option<Tensor<4>>) {
    let [b, heads, t, d] = q.dims();
    let scale = 1.0 / (d as f64).sqrt();
    // The fused kernel has no dropout and no autodiff of its own, so it
    // serves inference; training and attention maps take the explicit path.
    if !want_probs && !q.is_autodiff() {
        let mask: Tensor<4, Bool> = batch.mask_pad.clone().expand([b, heads, t, t]);
        let options = AttentionModuleOptions {
            scale: Some(scale),
            softcap: None,
            is_causal: causal.is_some(),
        };
        return (attention(q, k, v, Some(mask), None, options), None);
    }
    let bias = match causal {
        // A padded later key would get the large negative number twice
        // (-inf in f32): keep it at one.
        Some(c) => (batch.mask_bias.clone() + c.clone()).clamp_min(MASKED_SCORE),
        None => batch.mask_bias.clone(),
    };
    let scores = q.matmul(k.transpose()).mul_scalar(scale) + bias;
    let probs = softmax(scores, 3);
    let ctx = crate::layers::dropout(dropout, probs.clone(), batch).matmul(v);
    (ctx, want_probs.then_some(probs))
}

/// The explicit softmax path with an arbitrary additive score bias: `bias`
/// (`[1 | B, 1 | heads, T, T]`, 0 where a query may see a key,
/// [`MASKED_SCORE`] where it may not) replaces the causal mask, and
/// `batch`'s padding mask still applies. For masks the fused kernel cannot
/// express, such as the prefix tree of [`crate::Gpt2LmHeadModel::logits_with_bias`].
pub fn biased_dot_product(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    batch: &DeviceBatch,
    bias: &Tensor<4>,
    dropout: &Dropout,
    want_probs: bool,
) -> (Tensor<4>, Option<Tensor<4>>) {
    let [_, _, _, d] = q.dims();
    let scale = 1.0 / (d as f64).sqrt();
    let bias = (batch.mask_bias.clone() + bias.clone()).clamp_min(MASKED_SCORE);
    let scores = q.matmul(k.transpose()).mul_scalar(scale) + bias;
    let probs = softmax(scores, 3);
    let ctx = crate::layers::dropout(dropout, probs.clone(), batch).matmul(v);
    (ctx, want_probs.then_some(probs))
}
