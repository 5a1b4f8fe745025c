//! Data parallelism inside one micro-batch: its rows are cut into a fixed
//! number of shards that run forward and backward at the same time.
//!
//! Why: on the flex backend only matrix products use several threads; the
//! element-wise work (GELU, softmax, LayerNorm, dropout, adds) runs on the
//! calling thread, so one pass leaves the second core idle for a third of a
//! step. Shards run those parts side by side. Each shard gets its own
//! replica of the parameters (fresh autodiff leaves over the same weights),
//! because burn merges graphs that share a leaf and runs their backward
//! passes one at a time under that graph's lock.
//!
//! What is computed does not depend on the thread count: the shard count
//! is part of the run config, shard `s` holds rows `s*B/S .. (s+1)*B/S`, its
//! dropout masks are keyed by `(seed, s)`, its loss is weighted by its share
//! of the labelled positions (so the sum is the micro-batch's mean loss), and
//! the shards' gradients are added in shard order.

use std::ops::Range;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{ElementConversion, Tensor};
use dnalm_model::{BatchInput, BertForMaskedLm, Device, DeviceBatch, IGNORE_LABEL};
use rayon::prelude::*;

use crate::error::{Result, TrainError};
use crate::optim::GradBuffer;

struct FreshLeaves;

impl ModuleMapper for FreshLeaves {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|p| {
            let require_grad = p.is_require_grad();
            let t = Tensor::<D>::from_inner(p.inner());
            if require_grad {
                t.require_grad()
            } else {
                t
            }
        })
    }
}

/// The same weights behind new autodiff leaves: a backward pass through the
/// replica builds a graph of its own.
pub fn replica<M: Module>(model: &M) -> M {
    model.clone().map(&mut FreshLeaves)
}

/// What one micro-batch gave.
#[derive(Debug, Default)]
pub struct MicroResult {
    /// Mean cross-entropy over the labelled positions.
    pub loss: f64,
    pub n_labels: usize,
    pub n_correct: usize,
}

fn count_labels(labels: &[i64]) -> usize {
    labels.iter().filter(|&&l| l != IGNORE_LABEL).count()
}

/// Forward and backward of one micro-batch in `shards` parallel shards on
/// the autodiff `device`; gradients are added to `grads` (one micro-batch
/// counted). Dropout masks are keyed by `dropout_seed`.
pub fn mlm_backward(
    model: &BertForMaskedLm,
    batch: &BatchInput,
    labels: &[i64],
    shards: usize,
    dropout_seed: u64,
    device: &Device,
    grads: &mut GradBuffer,
) -> Result<MicroResult> {
    let t = batch.seq_len;
    let total = count_labels(labels);
    if total == 0 {
        return Err(TrainError::Model(dnalm_model::ModelError::Input(
            "no labelled position in the batch: nothing to learn from".into(),
        )));
    }
    let parts: Vec<Range<usize>> = batch
        .shard_ranges(shards)
        .into_iter()
        .filter(|r| count_labels(&labels[r.start * t..r.end * t]) > 0)
        .collect();
    let run = |(s, r): (usize, &Range<usize>)| -> Result<(GradBuffer, f64, usize, usize)> {
        let lab = &labels[r.start * t..r.end * t];
        let input = batch.rows(r);
        let db = DeviceBatch::new(&input, device)
            .with_dropout_seed(dnalm_seq::mix64(dropout_seed, s as u64));
        let m = replica(model);
        let out = m.mlm_loss(&db, lab).map_err(TrainError::Model)?;
        let loss: f64 = out.loss.clone().into_scalar::<f32>().elem();
        let weight = out.n_labels as f64 / total as f64;
        let g = out.loss.mul_scalar(weight).backward();
        let mut buf = GradBuffer::default();
        buf.accumulate(&m, &g);
        Ok((buf, loss * weight, out.n_labels, out.n_correct))
    };
    let results: Vec<Result<(GradBuffer, f64, usize, usize)>> = if parts.len() > 1 {
        parts.par_iter().enumerate().map(run).collect()
    } else {
        parts.iter().enumerate().map(run).collect()
    };
    let mut out = MicroResult::default();
    for r in results {
        let (buf, loss, n, c) = r?;
        grads.add(buf);
        out.loss += loss;
        out.n_labels += n;
        out.n_correct += c;
    }
    grads.count_micro_batch();
    Ok(out)
}

/// The general form of [`mlm_backward`]: `loss` gives a shard's mean loss
/// (and whatever the caller wants back from it) for a replica, the shard's
/// device batch and its row range; `weight` gives the shard's share of the
/// micro-batch's mean (its rows over all rows for a per-sequence loss). The
/// weighted losses are back-propagated in parallel, their gradients added to
/// `grads` in shard order, one micro-batch counted.
#[allow(clippy::too_many_arguments)]
pub fn backward_sharded<M, S, L, W>(
    model: &M,
    batch: &BatchInput,
    shards: usize,
    dropout_seed: u64,
    device: &Device,
    grads: &mut GradBuffer,
    weight: W,
    loss: L,
) -> Result<Vec<S>>
where
    M: Module + Sync,
    S: Send,
    L: Fn(&M, &DeviceBatch, &Range<usize>) -> Result<(Tensor<1>, S)> + Sync,
    W: Fn(&Range<usize>) -> f64 + Sync,
{
    let parts: Vec<Range<usize>> = batch
        .shard_ranges(shards)
        .into_iter()
        .filter(|r| weight(r) > 0.0)
        .collect();
    let run = |(s, r): (usize, &Range<usize>)| -> Result<(GradBuffer, S)> {
        let input = batch.rows(r);
        let db = DeviceBatch::new(&input, device)
            .with_dropout_seed(dnalm_seq::mix64(dropout_seed, s as u64));
        let m = replica(model);
        let (l, extra) = loss(&m, &db, r)?;
        let g = l.mul_scalar(weight(r)).backward();
        let mut buf = GradBuffer::default();
        buf.accumulate(&m, &g);
        Ok((buf, extra))
    };
    let results: Vec<Result<(GradBuffer, S)>> = if parts.len() > 1 {
        parts.par_iter().enumerate().map(run).collect()
    } else {
        parts.iter().enumerate().map(run).collect()
    };
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        let (buf, extra) = r?;
        grads.add(buf);
        out.push(extra);
    }
    grads.count_micro_batch();
    Ok(out)
}

/// Masked-LM loss of one batch in eval mode (no autodiff), sharded the same
/// way: (sum of per-position losses, labelled positions, correct).
pub fn mlm_eval(
    model: &BertForMaskedLm,
    batch: &BatchInput,
    labels: &[i64],
    shards: usize,
    device: &Device,
) -> Result<(f64, usize, usize)> {
    let t = batch.seq_len;
    let parts: Vec<Range<usize>> = batch
        .shard_ranges(shards)
        .into_iter()
        .filter(|r| count_labels(&labels[r.start * t..r.end * t]) > 0)
        .collect();
    let results: Vec<Result<(f64, usize, usize)>> = parts
        .par_iter()
        .map(|r| {
            let input = batch.rows(r);
            let out = model
                .mlm_loss(
                    &DeviceBatch::new(&input, device),
                    &labels[r.start * t..r.end * t],
                )
                .map_err(TrainError::Model)?;
            let loss: f64 = out.loss.into_scalar::<f32>().elem();
            Ok((loss * out.n_labels as f64, out.n_labels, out.n_correct))
        })
        .collect();
    let mut sum = (0.0, 0, 0);
    for r in results {
        let (l, n, c) = r?;
        sum.0 += l;
        sum.1 += n;
        sum.2 += c;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_row_once() {
        for rows in 0..20 {
            let b = BatchInput::unpadded(vec![5; rows * 3], rows, 3);
            for s in 1..6 {
                let parts = b.shard_ranges(s);
                let covered: Vec<usize> = parts.iter().flat_map(|r| r.clone()).collect();
                assert_eq!(
                    covered,
                    (0..rows).collect::<Vec<_>>(),
                    "{rows} rows, {s} shards"
                );
                assert!(parts.len() <= s);
            }
        }
        let b = BatchInput::unpadded((0..16 * 2).collect(), 16, 2);
        assert_eq!(b.shard_ranges(2), vec![0..8, 8..16]);
        assert_eq!(b.rows(&(8..16)).input_ids, (16..32).collect::<Vec<i64>>());
        assert_eq!(
            BatchInput::unpadded(vec![5], 1, 1).shard_ranges(4),
            vec![0..1]
        );
    }
}
