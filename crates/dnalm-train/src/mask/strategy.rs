//! Masking strategies: which positions of a row are selected, and the exact
//! expected number selected (so logs can show expected beside effective).

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// Which positions of a row are selected for the loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MaskStrategy {
    Random {
        prob: f64,
    },
    KmerSpan {
        k: usize,
        centre_prob: f64,
    },
    Hybrid {
        k: usize,
        centre_prob: f64,
        bpe_prob: f64,
    },
}

impl MaskStrategy {
    /// 15% of tokens at random (BERT's default).
    pub const fn random() -> MaskStrategy {
        MaskStrategy::Random { prob: 0.15 }
    }

    /// DNABERT's contiguous masking: centres with p = 0.025.
    pub const fn kmer_span(k: usize) -> MaskStrategy {
        MaskStrategy::KmerSpan {
            k,
            centre_prob: 0.025,
        }
    }

    /// The hybrid system with DNABERT's centre probability on 6-mers and 15%
    /// on BPE tokens.
    pub const fn hybrid() -> MaskStrategy {
        MaskStrategy::Hybrid {
            k: 6,
            centre_prob: 0.025,
            bpe_prob: 0.15,
        }
    }

    /// Probabilities in (0, 1]; k in 3..=6 (DNABERT defines spans for those).
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, p: f64| {
            if p > 0.0 && p <= 1.0 {
                Ok(())
            } else {
                Err(TrainError::param(format!("{name} {p} is not in (0, 1]")))
            }
        };
        match *self {
            MaskStrategy::Random { prob } => check("masking probability", prob),
            MaskStrategy::KmerSpan { k, centre_prob } => {
                span_offsets(k)?;
                check("centre probability", centre_prob)
            }
            MaskStrategy::Hybrid {
                k,
                centre_prob,
                bpe_prob,
            } => {
                span_offsets(k)?;
                check("centre probability", centre_prob)?;
                check("BPE masking probability", bpe_prob)
            }
        }
    }

    /// The exact expected number of selected positions in a row of
    /// `n_content` non-special tokens whose first `first_part_len` are
    /// k-mers (hybrid only), including span clipping and, when
    /// `at_least_one`, the one-per-row fallback.
    pub fn expected_masked(
        &self,
        n_content: usize,
        first_part_len: usize,
        at_least_one: bool,
    ) -> f64 {
        if n_content == 0 {
            return 0.0;
        }
        let n = n_content;
        // (expected without the fallback, P(nothing selected), expected
        // size of the fallback selection).
        let (sel, p_none, fallback) = match *self {
            MaskStrategy::Random { prob } => (n as f64 * prob, (1.0 - prob).powf(n as f64), 1.0),
            MaskStrategy::KmerSpan { k, centre_prob } => {
                let (sel, p_none, spans) = span_expectation(k, centre_prob, n);
                (sel, p_none, spans / n as f64)
            }
            MaskStrategy::Hybrid {
                k,
                centre_prob,
                bpe_prob,
            } => {
                let f = first_part_len.min(n);
                let b = n - f;
                let (sel, p_none_k, spans) = span_expectation(k, centre_prob, f);
                (
                    sel + b as f64 * bpe_prob,
                    p_none_k * (1.0 - bpe_prob).powf(b as f64),
                    (spans + b as f64) / n as f64,
                )
            }
        };
        if at_least_one {
            sel + p_none * fallback
        } else {
            sel
        }
    }
}

/// DNABERT's span offsets for `k`, the centre (0) included.
pub(crate) fn span_offsets(k: usize) -> Result<&'static [isize]> {
    match k {
        3 => Ok(&[-1, 0, 1]),
        4 => Ok(&[-1, 0, 1, 2]),
        5 => Ok(&[-2, -1, 0, 1, 2]),
        6 => Ok(&[-2, -1, 0, 1, 2, 3]),
        _ => Err(TrainError::param(format!(
            "k-mer span masking is defined for k = 3..=6 (DNABERT's spans), not k = {k}"
        ))),
    }
}

/// For span masking over `n` positions: (expected selected without the
/// fallback, P(no centre), total span size over all centres).
fn span_expectation(k: usize, c: f64, n: usize) -> (f64, f64, f64) {
    let Ok(offsets) = span_offsets(k) else {
        return (0.0, 1.0, 0.0);
    };
    let mut sel = 0.0;
    let mut spans = 0.0;
    for j in 0..n as isize {
        // Centres that cover j, and positions the centre j covers, are the
        // same count mirrored; both are clipped to [0, n).
        let covers = offsets
            .iter()
            .filter(|&&o| (0..n as isize).contains(&(j - o)))
            .count();
        let covered = offsets
            .iter()
            .filter(|&&o| (0..n as isize).contains(&(j + o)))
            .count();
        sel += 1.0 - (1.0 - c).powf(covers as f64);
        spans += covered as f64;
    }
    (sel, (1.0 - c).powf(n as f64), spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::domain;
    use crate::mask::tests::{collator, rows};
    use crate::mask::{Example, MaskCollator, IGNORE_INDEX};

    /// Masked and maskable totals over `batches` batches of `rows`.
    fn totals(
        c: &MaskCollator,
        rows: &[Vec<u32>],
        first: usize,
        batches: u64,
    ) -> (usize, usize, f64) {
        let ex: Vec<Example<'_>> = rows.iter().map(|r| Example::hybrid(r, first)).collect();
        let (mut m, mut n, mut e) = (0, 0, 0.0);
        for s in 0..batches {
            let (b, exp) = c.collate_keyed(&ex, domain::MASK, s, 0).unwrap();
            m += b.n_masked;
            n += b.n_maskable;
            e += exp;
        }
        (m, n, e)
    }

    #[test]
    fn kmer_span_k6_masks_about_14_percent() {
        let c = collator(MaskStrategy::kmer_span(6), 512, 11);
        let (m, n, e) = totals(&c, &rows(16, 510), 0, 200);
        let (eff, exp) = (m as f64 / n as f64, e / n as f64);
        // Interior positions: 1 - 0.975^6 = 0.1409; the clipped ends lower it slightly.
        assert!((0.1395..0.1409).contains(&exp), "expected {exp}");
        assert!(
            (eff - exp).abs() < 0.003,
            "effective {eff} vs expected {exp}"
        );
    }

    #[test]
    fn spec_trap_centre_prob_015_masks_62_percent_of_6mers() {
        // The hybrid publication's "p = 0.15" read as a centre probability.
        let s = MaskStrategy::KmerSpan {
            k: 6,
            centre_prob: 0.15,
        };
        let c = collator(s, 512, 12);
        let (m, n, e) = totals(&c, &rows(8, 510), 0, 100);
        let (eff, exp) = (m as f64 / n as f64, e / n as f64);
        assert!((exp - (1.0 - 0.85f64.powi(6))).abs() < 0.003, "{exp}");
        assert!(
            (eff - exp).abs() < 0.005,
            "effective {eff} vs expected {exp}"
        );
        assert!(eff > 0.6);
    }

    #[test]
    fn random_masks_about_15_percent() {
        let c = collator(MaskStrategy::random(), 512, 13);
        let (m, n, e) = totals(&c, &rows(16, 400), 0, 100);
        let (eff, exp) = (m as f64 / n as f64, e / n as f64);
        assert!((exp - 0.15).abs() < 1e-9);
        assert!((eff - 0.15).abs() < 0.003, "{eff}");
    }

    #[test]
    fn hybrid_spans_stay_in_the_kmer_part() {
        // Certain centres on the k-mer part; BPE selection all but impossible.
        let s = MaskStrategy::Hybrid {
            k: 6,
            centre_prob: 1.0,
            bpe_prob: 1e-12,
        };
        let c = collator(s, 512, 14);
        let r: Vec<u32> = (5..105).collect();
        let b = c.collate(&[Example::hybrid(&r, 60)], 0, 0).unwrap();
        assert!(b.labels[1..61].iter().all(|&l| l != IGNORE_INDEX));
        assert!(b.labels[61..].iter().all(|&l| l == IGNORE_INDEX));
        // The published defaults: the expectation combines both parts.
        let c = collator(MaskStrategy::hybrid(), 512, 15);
        let (m, n, e) = totals(&c, &rows(16, 399), 300, 150);
        let (eff, exp) = (m as f64 / n as f64, e / n as f64);
        let want = (300.0 * 0.1408 + 99.0 * 0.15) / 399.0;
        assert!((exp - want).abs() < 0.002, "{exp} vs {want}");
        assert!(
            (eff - exp).abs() < 0.004,
            "effective {eff} vs expected {exp}"
        );
    }
}
