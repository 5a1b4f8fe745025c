//! Per-position encodings that the predictors read: one-hot bases (4
//! features per base), or the last hidden layer of a BERT encoder (one
//! vector per token, [CLS] and [SEP] included), computed in eval mode (no
//! dropout) in batches whose row shards run in parallel.

use burn::tensor::Device;
use dnalm_model::{BertForSequenceClassification, DeviceBatch};
use dnalm_tokenizers::AnyTokenizer;
use dnalm_train::classify::{to_batch, ClassExample};
use rayon::prelude::*;

use crate::error::{Result, TaskError};
use crate::model::frame;

/// Encodings of a set of sequences: row `i` holds `len_i * dim` values,
/// position-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub dim: usize,
    pub rows: Vec<Vec<f32>>,
}

impl Features {
    /// Positions of row `i`.
    pub fn positions(&self, i: usize) -> usize {
        self.rows[i].len() / self.dim
    }

    /// The longest row, in positions.
    pub fn max_positions(&self) -> usize {
        (0..self.rows.len())
            .map(|i| self.positions(i))
            .max()
            .unwrap_or(0)
    }
}

/// One-hot A, C, G, T (N and anything else: all zero).
pub fn one_hot(seqs: &[&[u8]]) -> Features {
    let rows = seqs
        .iter()
        .map(|s| {
            let mut v = vec![0f32; s.len() * 4];
            for (i, b) in s.iter().enumerate() {
                let c = match b {
                    b'A' => Some(0),
                    b'C' => Some(1),
                    b'G' => Some(2),
                    b'T' => Some(3),
                    _ => None,
                };
                if let Some(c) = c {
                    v[i * 4 + c] = 1.0;
                }
            }
            v
        })
        .collect();
    Features { dim: 4, rows }
}

/// `[CLS] tokens [SEP]` of every sequence (cut to `max_len`).
pub fn examples(
    tok: &AnyTokenizer,
    seqs: &[&[u8]],
    labels: &[u8],
    max_len: usize,
) -> Result<Vec<ClassExample>> {
    seqs.iter()
        .zip(labels)
        .map(|(s, &l)| {
            Ok(ClassExample {
                ids: frame(tok, s, max_len)?,
                label: l as u32,
            })
        })
        .collect()
}

/// The token states of `model` (inference copy on a device without
/// autodiff) for every example, `batch_size` rows at a time.
pub fn encode(
    model: &BertForSequenceClassification,
    examples: &[ClassExample],
    pad_id: u32,
    batch_size: usize,
    device: &Device,
    on_batch: &mut dyn FnMut(usize),
) -> Result<Features> {
    let dim = model.classifier.weight.dims()[1];
    let mut rows = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(batch_size.max(1)) {
        let refs: Vec<&ClassExample> = chunk.iter().collect();
        let (batch, _) = to_batch(&refs, pad_id);
        model.check_input(&batch).map_err(TaskError::Model)?;
        let parts: Vec<Vec<Vec<f32>>> = batch
            .shard_ranges(2)
            .par_iter()
            .map(|r| {
                let sub = batch.rows(r);
                let db = DeviceBatch::new(&sub, device);
                let x = model.token_states(&db);
                let [b, t, h] = x.dims();
                let v: Vec<f32> = x
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .expect("f32 states");
                (0..b)
                    .map(|i| {
                        let real = sub.attention_mask[i * t..(i + 1) * t]
                            .iter()
                            .filter(|&&m| m != 0)
                            .count();
                        v[i * t * h..(i * t + real) * h].to_vec()
                    })
                    .collect()
            })
            .collect();
        rows.extend(parts.into_iter().flatten());
        on_batch(rows.len());
    }
    Ok(Features { dim, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_marks_one_base_per_position() {
        let f = one_hot(&[b"ACGTN"]);
        assert_eq!(f.dim, 4);
        assert_eq!(f.positions(0), 5);
        assert_eq!(&f.rows[0][8..12], &[0.0, 0.0, 1.0, 0.0]);
        assert!(f.rows[0][16..20].iter().all(|&v| v == 0.0));
    }
}
