//! The statistics of the attention analyses: the hypergeometric upper tail
//! in log space (motif enrichment, as DNABERT tests it), Benjamini-Hochberg
//! adjusted p-values, and Spearman's rank correlation (the DNAVec tf-idf
//! check). Small and exact, with tests against values computed by hand and
//! with scipy.

use crate::error::{Result, TaskError};

/// `ln(i!)` for `i` in `0..=n`, summed once.
#[derive(Debug, Clone)]
pub struct LnFactorials(Vec<f64>);

impl LnFactorials {
    pub fn new(n: usize) -> Self {
        let mut v = Vec::with_capacity(n + 1);
        v.push(0.0);
        let mut acc = 0.0f64;
        for i in 1..=n {
            acc += (i as f64).ln();
            v.push(acc);
        }
        Self(v)
    }

    /// `ln(n!)`; `n` must be at most the size given to [`Self::new`].
    pub fn ln_fact(&self, n: usize) -> f64 {
        self.0[n]
    }

    /// `ln C(n, k)` (minus infinity when `k > n`).
    pub fn ln_choose(&self, n: usize, k: usize) -> f64 {
        if k > n {
            f64::NEG_INFINITY
        } else {
            self.0[n] - self.0[k] - self.0[n - k]
        }
    }

    /// The largest `n` this table covers.
    pub fn max(&self) -> usize {
        self.0.len() - 1
    }
}

/// `P(X >= x)` for `X ~ Hypergeometric(total, successes, draws)`: drawing
/// `draws` of `total` items of which `successes` are marked, at least `x`
/// marked come out (scipy: `hypergeom.sf(x - 1, total, successes, draws)`).
/// Summed in log space so that tiny tails (1e-300 and below) stay exact
/// instead of rounding to zero too early. Errors when `successes` or
/// `draws` exceed `total`, or `lf` does not cover `total`.
pub fn hypergeom_sf(
    lf: &LnFactorials,
    x: usize,
    total: usize,
    successes: usize,
    draws: usize,
) -> Result<f64> {
    if successes > total || draws > total {
        return Err(TaskError::Data(format!(
            "hypergeometric test: {successes} marked and {draws} drawn of only {total} items"
        )));
    }
    if total > lf.max() {
        return Err(TaskError::Config(format!(
            "hypergeometric test: {total} items, but the factorial table stops at {}",
            lf.max()
        )));
    }
    let lo = x.max((successes + draws).saturating_sub(total));
    let hi = successes.min(draws);
    if lo > hi {
        return Ok(0.0);
    }
    let denom = lf.ln_choose(total, draws);
    let terms: Vec<f64> = (lo..=hi)
        .map(|i| lf.ln_choose(successes, i) + lf.ln_choose(total - successes, draws - i) - denom)
        .collect();
    let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = terms.iter().map(|t| (t - m).exp()).sum();
    Ok((m + s.ln()).exp().min(1.0))
}

/// Benjamini-Hochberg adjusted p-values (q-values), in the input order.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let n = p.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut q = vec![0.0; n];
    let mut running = 1.0f64;
    for (r, &i) in order.iter().enumerate() {
        let rank = n - r;
        running = running.min(p[i] * n as f64 / rank as f64);
        q[i] = running.min(1.0);
    }
    q
}

/// Ranks 1..=n, ties sharing their mean rank.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            r[o] = mean;
        }
        i = j + 1;
    }
    r
}

/// Pearson's correlation; NaN when either side is constant or there are
/// fewer than two pairs. Errors when `x` and `y` differ in length.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<f64> {
    if x.len() != y.len() {
        return Err(TaskError::Data(format!(
            "correlation of {} values with {}: they must pair up",
            x.len(),
            y.len()
        )));
    }
    let n = x.len() as f64;
    if x.len() < 2 {
        return Ok(f64::NAN);
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return Ok(f64::NAN);
    }
    Ok(sxy / (sxx * syy).sqrt())
}

/// Spearman's rank correlation (Pearson on tie-averaged ranks, as scipy).
/// Errors when `x` and `y` differ in length.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<f64> {
    pearson(&ranks(x), &ranks(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn hypergeometric_tail_by_hand_and_scipy() {
        let lf = LnFactorials::new(2000);
        // 10 items, 4 marked, draw 3: P(X >= 2) = (C(4,2)C(6,1) + C(4,3)) / C(10,3)
        // = (36 + 4) / 120.
        assert!(close(
            hypergeom_sf(&lf, 2, 10, 4, 3).unwrap(),
            40.0 / 120.0,
            1e-12
        ));
        assert!(close(hypergeom_sf(&lf, 0, 10, 4, 3).unwrap(), 1.0, 1e-12));
        assert_eq!(hypergeom_sf(&lf, 4, 10, 4, 3).unwrap(), 0.0);
        // Exact sums of binomial products in Python (fractions.Fraction and
        // math.comb, one-off): P(X >= 30) for (2000, 100, 200) and P(X >= 12)
        // for (500, 40, 60); scipy's hypergeom.sf(x - 1, ...) is the same.
        let p = hypergeom_sf(&lf, 30, 2000, 100, 200).unwrap();
        assert!(close(p, 7.588049020306438e-09, 1e-9), "{p:e}");
        let p = hypergeom_sf(&lf, 12, 500, 40, 60).unwrap();
        assert!(close(p, 0.001164385485500275, 1e-9), "{p:e}");
        // All 20 marked items among 20 draws of 2000 = 1 / C(2000, 20), a
        // term a product of factorials would overflow on the way.
        let p = hypergeom_sf(&lf, 20, 2000, 20, 20).unwrap();
        assert!(close(p.ln(), -lf.ln_choose(2000, 20), 1e-9), "{p:e}");
    }

    #[test]
    fn bh_by_hand() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.5), "BH") = 0.04 0.05333 0.05333 0.5
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]);
        let want = [0.04, 0.04 * 4.0 / 3.0, 0.04 * 4.0 / 3.0, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!(close(*a, b, 1e-12), "{q:?}");
        }
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn spearman_with_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
        assert!(close(
            spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap(),
            1.0,
            1e-12
        ));
        assert!(close(
            spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(),
            -1.0,
            1e-12
        ));
        // scipy.stats.spearmanr([1,2,3,4,5], [2,1,4,3,5]).statistic = 0.8
        assert!(close(
            spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap(),
            0.8,
            1e-12
        ));
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).unwrap().is_nan());
    }

    #[test]
    fn bad_sizes_are_errors_not_panics() {
        let lf = LnFactorials::new(10);
        for (total, marked, drawn) in [(10, 11, 3), (10, 4, 11), (11, 4, 3)] {
            assert!(hypergeom_sf(&lf, 1, total, marked, drawn).is_err());
        }
        let err = pearson(&[1.0, 2.0, 3.0], &[1.0, 2.0]).unwrap_err();
        assert!(err.to_string().contains("3 values with 2"), "{err}");
        assert!(spearman(&[1.0], &[]).is_err());
        assert!(pearson(&[], &[]).unwrap().is_nan());
    }
}
