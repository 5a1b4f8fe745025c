//! Classification metrics: accuracy, precision, recall, F1, Matthews
//! correlation and AUROC for binary tasks; top-k accuracy for many classes;
//! mean and standard deviation over repeats.

use serde::Serialize;

/// Binary-classification metrics at a 0.5 threshold (AUROC from the scores).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BinaryMetrics {
    pub n: usize,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub mcc: f64,
    pub auroc: f64,
}

impl BinaryMetrics {
    /// `scores[i]` is P(label 1) of example i, `labels[i]` its label (0/1).
    pub fn compute(scores: &[f64], labels: &[u8]) -> BinaryMetrics {
        assert_eq!(scores.len(), labels.len(), "one score per label");
        let (mut tp, mut fp, mut tn, mut fn_) = (0f64, 0f64, 0f64, 0f64);
        for (&s, &l) in scores.iter().zip(labels) {
            match (s >= 0.5, l == 1) {
                (true, true) => tp += 1.0,
                (true, false) => fp += 1.0,
                (false, false) => tn += 1.0,
                (false, true) => fn_ += 1.0,
            }
        }
        let n = scores.len();
        let div = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
        let precision = div(tp, tp + fp);
        let recall = div(tp, tp + fn_);
        let denom = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
        BinaryMetrics {
            n,
            accuracy: div(tp + tn, n as f64),
            precision,
            recall,
            f1: div(2.0 * precision * recall, precision + recall),
            mcc: div(tp * tn - fp * fn_, denom),
            auroc: auroc(scores, labels),
        }
    }
}

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative (ties count one half). NaN without both classes.
pub fn auroc(scores: &[f64], labels: &[u8]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Mann-Whitney U with mid-ranks for ties.
    let (mut rank_sum, mut pos) = (0f64, 0f64);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] == 1 {
                rank_sum += mid;
                pos += 1.0;
            }
        }
        i = j + 1;
    }
    let neg = scores.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Top-1 and top-5 accuracy from per-example class rankings: `ranked[i]`
/// lists example i's best classes, best first.
pub fn topk_accuracy(ranked: &[Vec<u32>], labels: &[u32], k: usize) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let hits = ranked
        .iter()
        .zip(labels)
        .filter(|(r, l)| r.iter().take(k).any(|c| c == *l))
        .count();
    hits as f64 / labels.len() as f64
}

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() == 1 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_metrics_by_hand() {
        // tp 2, fp 1, tn 3, fn 1.
        let scores = [0.9, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1];
        let labels = [1, 1, 0, 1, 0, 0, 0];
        let m = BinaryMetrics::compute(&scores, &labels);
        assert!((m.accuracy - 5.0 / 7.0).abs() < 1e-12);
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-12);
        let mcc = (2.0 * 3.0 - 1.0) / (3.0f64 * 3.0 * 4.0 * 4.0).sqrt();
        assert!((m.mcc - mcc).abs() < 1e-12);
        // Positives rank above 11 of the 12 (positive, negative) pairs.
        assert!((m.auroc - 11.0 / 12.0).abs() < 1e-12, "{}", m.auroc);
    }

    #[test]
    fn auroc_edges() {
        assert_eq!(auroc(&[0.1, 0.9], &[0, 1]), 1.0);
        assert_eq!(auroc(&[0.9, 0.1], &[0, 1]), 0.0);
        assert_eq!(auroc(&[0.5, 0.5], &[0, 1]), 0.5);
        assert!(auroc(&[0.5, 0.7], &[1, 1]).is_nan());
    }

    #[test]
    fn topk_and_spread() {
        let ranked = vec![vec![3, 1, 2], vec![0, 2, 1]];
        assert_eq!(topk_accuracy(&ranked, &[3, 1], 1), 0.5);
        assert_eq!(topk_accuracy(&ranked, &[3, 1], 3), 1.0);
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0]);
        assert_eq!((m, s), (2.0, 1.0));
        assert_eq!(mean_sd(&[4.0]), (4.0, 0.0));
    }
}
