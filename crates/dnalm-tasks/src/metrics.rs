//! Classification metrics: accuracy, precision, recall, F1, Matthews
//! correlation at a threshold, AUROC and AUPRC (average precision) for
//! binary tasks, the threshold that maximises MCC, bootstrap 95 % intervals;
//! top-k accuracy for many classes; mean and standard deviation over
//! repeats.

use serde::{Deserialize, Serialize};

/// Binary-classification metrics at a threshold (AUROC and AUPRC from the
/// scores alone).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    pub n: usize,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub mcc: f64,
    pub auroc: f64,
    pub auprc: f64,
    /// A score at or above this counts as label 1.
    pub threshold: f64,
}

impl BinaryMetrics {
    /// `scores[i]` is P(label 1) of example i, `labels[i]` its label (0/1);
    /// threshold 0.5. Extra scores or labels beyond the shorter list are
    /// ignored.
    pub fn compute(scores: &[f64], labels: &[u8]) -> BinaryMetrics {
        Self::at(scores, labels, 0.5)
    }

    /// The metrics with `threshold` as the decision threshold.
    pub fn at(scores: &[f64], labels: &[u8], threshold: f64) -> BinaryMetrics {
        let n = scores.len().min(labels.len());
        let (scores, labels) = (&scores[..n], &labels[..n]);
        let (mut tp, mut fp, mut tn, mut fn_) = (0f64, 0f64, 0f64, 0f64);
        for (&s, &l) in scores.iter().zip(labels) {
            match (s >= threshold, l == 1) {
                (true, true) => tp += 1.0,
                (true, false) => fp += 1.0,
                (false, false) => tn += 1.0,
                (false, true) => fn_ += 1.0,
            }
        }
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
            auprc: auprc(scores, labels),
            threshold,
        }
    }
}

/// Matthews correlation from a confusion table.
fn mcc_of(tp: f64, fp: f64, tn: f64, fn_: f64) -> f64 {
    let denom = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
    if denom == 0.0 {
        0.0
    } else {
        (tp * tn - fp * fn_) / denom
    }
}

/// The decision threshold that maximises MCC on (`scores`, `labels`): the
/// midpoint between the two scores where the best cut falls (0.5 when there
/// is nothing to choose from, as with one class).
pub fn best_mcc_threshold(scores: &[f64], labels: &[u8]) -> f64 {
    let n = scores.len().min(labels.len());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = labels[..n].iter().filter(|&&l| l == 1).count() as f64;
    let neg = n as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    // Walk down the scores: everything above the cut is called 1.
    let (mut tp, mut fp) = (0f64, 0f64);
    let (mut best, mut best_t) = (f64::NEG_INFINITY, 0.5);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && scores[idx[j]] == scores[idx[i]] {
            if labels[idx[j]] == 1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            j += 1;
        }
        let m = mcc_of(tp, fp, neg - fp, pos - tp);
        if m > best {
            best = m;
            let here = scores[idx[i]];
            best_t = if j < n {
                (here + scores[idx[j]]) / 2.0
            } else {
                here
            };
        }
        i = j;
    }
    best_t
}

/// Area under the precision-recall curve as average precision (the mean,
/// over positives, of the precision at each positive's rank; tied scores
/// enter together). NaN without a positive.
pub fn auprc(scores: &[f64], labels: &[u8]) -> f64 {
    let n = scores.len().min(labels.len());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = labels[..n].iter().filter(|&&l| l == 1).count() as f64;
    if pos == 0.0 {
        return f64::NAN;
    }
    let (mut tp, mut seen, mut ap) = (0f64, 0f64, 0f64);
    let mut i = 0;
    while i < n {
        let mut j = i;
        let mut new_tp = 0f64;
        while j < n && scores[idx[j]] == scores[idx[i]] {
            new_tp += (labels[idx[j]] == 1) as u8 as f64;
            j += 1;
        }
        tp += new_tp;
        seen += (j - i) as f64;
        ap += new_tp / pos * (tp / seen);
        i = j;
    }
    ap
}

/// A 95 % percentile-bootstrap interval of each of MCC, AUROC, AUPRC,
/// accuracy and F1 (at `threshold`): `rounds` resamples of the rows with
/// replacement, seeded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Intervals {
    pub mcc: (f64, f64),
    pub auroc: (f64, f64),
    pub auprc: (f64, f64),
    pub accuracy: (f64, f64),
    pub f1: (f64, f64),
}

/// Bootstrap intervals of the metrics of (`scores`, `labels`) at `threshold`.
pub fn bootstrap(
    scores: &[f64],
    labels: &[u8],
    threshold: f64,
    rounds: usize,
    seed: u64,
) -> Intervals {
    use rand::{Rng, SeedableRng};
    let n = scores.len().min(labels.len());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut cols: [Vec<f64>; 5] = Default::default();
    let (mut s, mut l) = (vec![0f64; n], vec![0u8; n]);
    for _ in 0..rounds {
        if n == 0 {
            break;
        }
        for k in 0..n {
            let i = rng.random_range(0..n);
            s[k] = scores[i];
            l[k] = labels[i];
        }
        let m = BinaryMetrics::at(&s, &l, threshold);
        for (c, v) in cols
            .iter_mut()
            .zip([m.mcc, m.auroc, m.auprc, m.accuracy, m.f1])
        {
            if v.is_finite() {
                c.push(v);
            }
        }
    }
    let ci = |c: &mut Vec<f64>| -> (f64, f64) {
        if c.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        c.sort_by(f64::total_cmp);
        let q = |p: f64| c[((p * (c.len() - 1) as f64).round() as usize).min(c.len() - 1)];
        (q(0.025), q(0.975))
    };
    Intervals {
        mcc: ci(&mut cols[0]),
        auroc: ci(&mut cols[1]),
        auprc: ci(&mut cols[2]),
        accuracy: ci(&mut cols[3]),
        f1: ci(&mut cols[4]),
    }
}

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative (ties count one half). NaN without both classes.
/// Extra scores or labels beyond the shorter list are ignored.
pub fn auroc(scores: &[f64], labels: &[u8]) -> f64 {
    let n = scores.len().min(labels.len());
    let (scores, labels) = (&scores[..n], &labels[..n]);
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
    fn auprc_threshold_and_bootstrap() {
        // Ranked 1, 0, 1, 0: precision 1 at the first positive, 2/3 at the second.
        let (s, l) = ([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]);
        assert!((auprc(&s, &l) - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(auprc(&[0.9, 0.8], &[1, 1]), 1.0);
        assert!(auprc(&[0.9], &[0]).is_nan());
        // All positives score 0.3-0.4, negatives below: 0.5 calls none,
        // the chosen threshold separates them.
        let s = [0.4, 0.35, 0.3, 0.2, 0.1, 0.05];
        let l = [1, 1, 1, 0, 0, 0];
        let t = best_mcc_threshold(&s, &l);
        assert!((t - 0.25).abs() < 1e-12, "{t}");
        assert_eq!(BinaryMetrics::at(&s, &l, t).mcc, 1.0);
        assert_eq!(BinaryMetrics::compute(&s, &l).mcc, 0.0);
        assert_eq!(best_mcc_threshold(&[0.2, 0.7], &[1, 1]), 0.5);
        let ci = bootstrap(&s, &l, t, 200, 1);
        assert_eq!(ci.auroc, (1.0, 1.0));
        let noisy: Vec<f64> = (0..200).map(|i| ((i * 37) % 100) as f64 / 100.0).collect();
        let nl: Vec<u8> = (0..200).map(|i| (i % 2) as u8).collect();
        let ci = bootstrap(&noisy, &nl, 0.5, 300, 2);
        let point = BinaryMetrics::at(&noisy, &nl, 0.5).auroc;
        assert!(ci.auroc.0 < point && point < ci.auroc.1, "{ci:?} {point}");
        assert_eq!(ci, bootstrap(&noisy, &nl, 0.5, 300, 2));
    }

    #[test]
    fn auroc_edges() {
        assert_eq!(auroc(&[0.1, 0.9], &[0, 1]), 1.0);
        assert_eq!(auroc(&[0.9, 0.1], &[0, 1]), 0.0);
        assert_eq!(auroc(&[0.5, 0.5], &[0, 1]), 0.5);
        assert!(auroc(&[0.5, 0.7], &[1, 1]).is_nan());
        // Lists of different lengths: the extra entries are left out, as in
        // every metric here (this used to index past the labels).
        assert_eq!(auroc(&[0.1, 0.9, 0.0], &[0, 1]), 1.0);
        assert_eq!(auroc(&[0.1, 0.9], &[0, 1, 0]), 1.0);
        let m = BinaryMetrics::compute(&[0.1, 0.9, 0.8], &[0, 1]);
        assert_eq!((m.n, m.accuracy, m.auroc), (2, 1.0, 1.0));
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
