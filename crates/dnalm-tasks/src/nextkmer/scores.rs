//! From a predictor's probabilities to a results row: top-1 and top-5
//! accuracy and cross-entropy in bits per base, for every k at once.
//!
//! Models predict the `4^kmax` continuations of the largest k asked for;
//! a shorter k's probabilities are sums over the trailing bases (classes
//! put the first base most significant, so the continuations of one
//! k-prefix are a contiguous run of `4^(kmax-k)` classes). One fit then
//! serves every k, and every k is scored from the same model.

use serde::Serialize;

use super::{FitSummary, NextKmerData, SplitIndex};
use crate::error::{Result, TaskError};

/// Probabilities of the `4^kmax` continuations of each test window, in
/// class order, in the order of the split's test windows.
#[derive(Debug, Clone)]
pub struct Scores {
    pub kmax: usize,
    pub probs: Vec<Vec<f32>>,
}

/// One row of the results table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextKmerResult {
    pub split: String,
    pub k: usize,
    pub predictor: String,
    /// Training windows the predictor was fitted on (for the base-level
    /// language model: training bases).
    pub train: usize,
    pub test: usize,
    pub accuracy: f64,
    pub top5_accuracy: f64,
    /// Mean -log2 P(true k-mer) / k over the test windows (2 = chance).
    pub bits_per_base: f64,
    pub chance: f64,
    /// Epochs run and the one kept (models only).
    pub epochs: Option<usize>,
    pub best_epoch: Option<usize>,
    /// Wall time of fitting and scoring.
    pub seconds: f64,
    /// Training tokens per second (models only).
    pub tokens_per_s: Option<f64>,
    /// How the predictor was set up (e.g. the n-gram's validated order).
    pub note: String,
}

/// Probabilities of the `4^k` k-prefixes from those of the `4^kmax`
/// continuations.
pub fn marginal(p: &[f32], kmax: usize, k: usize) -> Vec<f64> {
    let run = 1usize << (2 * (kmax - k));
    p.chunks(run)
        .map(|c| c.iter().map(|&v| v as f64).sum())
        .collect()
}

/// The `n` best classes of a probability vector, best first (ties: the
/// smaller class). One pass with a sorted list of `n`: k = 5 has 1,024
/// classes and the n-gram's validation scores ~10^6 vectors.
pub fn top_classes<T: Copy + PartialOrd>(p: &[T], n: usize) -> Vec<u32> {
    let mut best: Vec<u32> = Vec::with_capacity(n + 1);
    // `a` ranks before `b`: larger, or equal and smaller class.
    let before = |a: u32, b: u32| {
        let (x, y) = (p[a as usize], p[b as usize]);
        x > y || (x == y && a < b)
    };
    for c in 0..p.len() as u32 {
        if best.len() == n && !best.last().is_some_and(|&w| before(c, w)) {
            continue;
        }
        let at = best
            .iter()
            .position(|&b| before(c, b))
            .unwrap_or(best.len());
        best.insert(at, c);
        best.truncate(n);
    }
    best
}

/// Accuracy, top-5 accuracy and bits per base of k-mer probabilities
/// against their labels. A zero probability counts as 2^-60.
pub fn score(probs: &[Vec<f64>], labels: &[u32], k: usize) -> (f64, f64, f64) {
    let (mut top1, mut top5, mut bits) = (0usize, 0usize, 0f64);
    for (p, &l) in probs.iter().zip(labels) {
        let best = top_classes(p, 5);
        top1 += usize::from(best.first() == Some(&l));
        top5 += usize::from(best.contains(&l));
        bits -= p[l as usize].max(2f64.powi(-60)).log2();
    }
    let n = labels.len().max(1) as f64;
    (top1 as f64 / n, top5 as f64 / n, bits / n / k as f64)
}

/// One row per k of `ks` from a model's scores of `split`'s test windows.
pub fn rows_from_scores(
    data: &NextKmerData,
    split: &SplitIndex,
    scores: &Scores,
    ks: &[usize],
    fit: &FitSummary,
) -> Result<Vec<NextKmerResult>> {
    if scores.probs.len() != split.test.len() {
        return Err(TaskError::Data(format!(
            "{}: {} scored windows for {} test windows",
            fit.predictor,
            scores.probs.len(),
            split.test.len()
        )));
    }
    ks.iter()
        .map(|&k| {
            if k > scores.kmax {
                return Err(TaskError::Config(format!(
                    "k = {k} is above the {} the model predicts",
                    scores.kmax
                )));
            }
            let probs: Vec<Vec<f64>> = scores
                .probs
                .iter()
                .map(|p| marginal(p, scores.kmax, k))
                .collect();
            let labels: Vec<u32> = split.test.iter().map(|&i| data.label(i, k)).collect();
            let (accuracy, top5_accuracy, bits_per_base) = score(&probs, &labels, k);
            Ok(NextKmerResult {
                split: split.mode.clone(),
                k,
                predictor: fit.predictor.clone(),
                train: fit.train,
                test: split.test.len(),
                accuracy,
                top5_accuracy,
                bits_per_base,
                chance: 1.0 / 4f64.powi(k as i32),
                epochs: fit.epochs,
                best_epoch: fit.best_epoch,
                seconds: fit.seconds,
                tokens_per_s: fit.tokens_per_s,
                note: fit.note.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marginals_sum_trailing_bases() {
        // kmax = 2: 16 classes; the prefix "C" (class 1 at k = 1) holds
        // classes 4..8 ("CA".."CT").
        let mut p = vec![0f32; 16];
        p[5] = 0.5; // CC
        p[6] = 0.25; // CG
        p[0] = 0.25; // AA
        let m = marginal(&p, 2, 1);
        assert_eq!(m, vec![0.25, 0.75, 0.0, 0.0]);
        assert_eq!(marginal(&p, 2, 2).len(), 16);
    }

    #[test]
    fn scores_by_hand() {
        let probs = vec![vec![0.5, 0.25, 0.125, 0.125], vec![0.25, 0.25, 0.25, 0.25]];
        // Right at rank 1, then a tie broken to the smaller class (0), so
        // label 3 is rank 4: top-5 holds it.
        let (a, t5, bits) = score(&probs, &[0, 3], 1);
        assert_eq!((a, t5), (0.5, 1.0));
        assert!((bits - 1.5).abs() < 1e-12, "{bits}");
        assert_eq!(top_classes(&[0.1f32, 0.3, 0.3, 0.2], 3), vec![1, 2, 3]);
    }
}
