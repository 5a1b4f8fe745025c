//! The tf-idf + linear baseline: each sequence becomes the tf-idf vector of
//! its overlapping k-mers (idf fitted on the training rows with
//! [`dnalm_tokenizers::tfidf`], the scikit-learn formula; raw counts times
//! idf, L2-normalised), and a logistic regression (L2 penalty, full-batch
//! gradient descent, deterministic) separates the classes.

use dnalm_tokenizers::tfidf::TfIdfBuilder;
use rustc_hash::FxHashMap;

use crate::error::Result;

/// Sparse tf-idf rows: (k-mer code, weight), codes sorted.
type Sparse = Vec<(u32, f64)>;

fn kmer_counts(seq: &[u8], k: usize) -> FxHashMap<u32, f64> {
    let mut out = FxHashMap::default();
    for run in dnalm_seq::acgt_runs(seq) {
        let s = &seq[run];
        for w in s.windows(k) {
            let mut c = 0u32;
            for &b in w {
                c = (c << 2)
                    | match b {
                        b'A' => 0,
                        b'C' => 1,
                        b'G' => 2,
                        _ => 3,
                    };
            }
            *out.entry(c).or_default() += 1.0;
        }
    }
    out
}

fn kmer_of(code: u32, k: usize) -> Vec<u8> {
    (0..k)
        .rev()
        .map(|i| b"ACGT"[((code >> (2 * i)) & 3) as usize])
        .collect()
}

/// Fit on `train` (sequences, labels) and return P(label 1) of `test`.
pub fn tfidf_logistic(
    train: &[&[u8]],
    labels: &[u8],
    test: &[&[u8]],
    k: usize,
    l2: f64,
    iterations: usize,
) -> Result<Vec<f64>> {
    let mut builder = TfIdfBuilder::new(k)?;
    for s in train {
        let runs: Vec<&[u8]> = dnalm_seq::acgt_runs(s).into_iter().map(|r| &s[r]).collect();
        builder.count_df(&runs)?;
    }
    let scorer = builder.finish_df()?;
    let mut idf: FxHashMap<u32, f64> = FxHashMap::default();
    let vectorise = |s: &[u8], idf: &mut FxHashMap<u32, f64>| -> Sparse {
        let mut v: Sparse = kmer_counts(s, k)
            .into_iter()
            .filter_map(|(c, n)| {
                let w = *idf
                    .entry(c)
                    .or_insert_with(|| scorer.idf(&kmer_of(c, k)).unwrap_or(0.0));
                (w > 0.0).then_some((c, n * w))
            })
            .collect();
        v.sort_unstable_by_key(|&(c, _)| c);
        let norm = v.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        v
    };
    let xs: Vec<Sparse> = train.iter().map(|s| vectorise(s, &mut idf)).collect();
    let dim = 1usize << (2 * k);
    let (mut w, mut b) = (vec![0f64; dim], 0f64);
    let n = xs.len() as f64;
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    // Gradient descent with a step the loss's smoothness allows: rows are
    // unit vectors, so the logistic loss is (1/4 + l2)-smooth.
    let lr = 1.0 / (0.25 + l2);
    let mut g = vec![0f64; dim];
    for _ in 0..iterations {
        g.iter_mut().zip(&w).for_each(|(g, w)| *g = l2 * w);
        let mut gb = 0.0;
        for (x, &y) in xs.iter().zip(labels) {
            let z = b + x.iter().map(|&(c, v)| w[c as usize] * v).sum::<f64>();
            let e = (sig(z) - y as f64) / n;
            for &(c, v) in x {
                g[c as usize] += e * v;
            }
            gb += e;
        }
        w.iter_mut().zip(&g).for_each(|(w, g)| *w -= lr * g);
        b -= lr * gb;
    }
    Ok(test
        .iter()
        .map(|s| {
            let x = vectorise(s, &mut idf);
            sig(b + x.iter().map(|&(c, v)| w[c as usize] * v).sum::<f64>())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_sequences_by_their_kmers() {
        let pos: Vec<Vec<u8>> = (0..20)
            .map(|i| format!("GGGCGC{}", "AT".repeat(i % 5 + 2)).into_bytes())
            .collect();
        let neg: Vec<Vec<u8>> = (0..20)
            .map(|i| format!("TTTATA{}", "AT".repeat(i % 5 + 2)).into_bytes())
            .collect();
        let train: Vec<&[u8]> = pos[..15]
            .iter()
            .chain(&neg[..15])
            .map(|s| s.as_slice())
            .collect();
        let labels: Vec<u8> = (0..30).map(|i| (i < 15) as u8).collect();
        let test: Vec<&[u8]> = pos[15..]
            .iter()
            .chain(&neg[15..])
            .map(|s| s.as_slice())
            .collect();
        let p = tfidf_logistic(&train, &labels, &test, 3, 1e-3, 200).unwrap();
        assert!(p[..5].iter().all(|&v| v > 0.5), "{p:?}");
        assert!(p[5..].iter().all(|&v| v < 0.5), "{p:?}");
    }
}
