//! tf-idf of k-mers over a corpus of documents (one document = one sequence).
//!
//! The formula (SPEC.md, system "dnavec"), for k-mer `t`, document `d` and
//! `n` documents:
//!
//! - `tf(t, d) = f(t, d) / Σ_t' f(t', d)`, with `f` the overlapping k-mer count;
//! - `idf(t) = ln((1 + n) / (1 + df(t))) + 1`, `df(t)` = documents holding `t`;
//! - `w(t, d) = tf(t, d) · idf(t)`, and each document's vector `w(·, d)` is
//!   L2-normalised.
//!
//! This equals scikit-learn's default `TfidfVectorizer` (`smooth_idf=True`,
//! `norm="l2"`, raw-count tf): dividing by `Σ f` scales a whole document
//! vector, which the L2 normalisation cancels. The code therefore weights raw
//! counts. A document without any k-mer counts towards `n` and has a zero
//! vector, as in scikit-learn.
//!
//! The corpus score of a k-mer is `Σ_d ŵ(t, d)`, the sum of its normalised
//! weights over all documents (and the mean, that sum over `n`): the score a
//! word cloud of the top 100 k-mers is drawn from. It rewards k-mers that are
//! both frequent within documents and not present everywhere.
//!
//! Normalising needs idf, which needs the whole corpus, so there are two
//! passes with bounded memory (`4^k` entries at most):
//!
//! ```
//! use dnalm_tokenizers::tfidf::TfIdfBuilder;
//!
//! let docs: [&[&[u8]]; 2] = [&[b"ACGT", b"AC"], &[b"AAAA"]];
//! let mut builder = TfIdfBuilder::new(2).unwrap();
//! for runs in docs {
//!     builder.count_df(runs).unwrap();
//! }
//! let mut scorer = builder.finish_df().unwrap();
//! for runs in docs {
//!     scorer.score(runs).unwrap();
//! }
//! let report = scorer.finish(10).unwrap();
//! assert_eq!(report.top[0].kmer, "AA"); // the only k-mer of document 2
//! assert!((report.top[0].sum_tfidf - 1.0).abs() < 1e-12);
//! ```

use std::fmt::Write as _;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::{Result, TokError};
use crate::{base_code, check_acgt};

/// Largest k whose tables are dense arrays of `4^k` entries (16 MiB per
/// `u64` table at k = 10); above, hash maps hold only the k-mers seen.
const MAX_DENSE_K: usize = 10;
/// Largest k accepted.
pub const MAX_K: usize = 12;

/// Per-k-mer state, dense (indexed by the 2-bit code) or sparse.
#[derive(Debug)]
enum Table<T> {
    Dense(Vec<T>),
    Sparse(FxHashMap<u64, T>),
}

impl<T: Default + Clone> Table<T> {
    fn new(k: usize, dense: bool) -> Table<T> {
        if dense {
            Table::Dense(vec![T::default(); 1usize << (2 * k)])
        } else {
            Table::Sparse(FxHashMap::default())
        }
    }

    fn entry(&mut self, code: u64) -> &mut T {
        match self {
            Table::Dense(v) => &mut v[code as usize],
            Table::Sparse(m) => m.entry(code).or_default(),
        }
    }

    fn get(&self, code: u64) -> Option<&T> {
        match self {
            Table::Dense(v) => v.get(code as usize),
            Table::Sparse(m) => m.get(&code),
        }
    }

    /// Every entry with its code, in code order.
    fn sorted(self) -> Vec<(u64, T)> {
        match self {
            Table::Dense(v) => v
                .into_iter()
                .enumerate()
                .map(|(c, t)| (c as u64, t))
                .collect(),
            Table::Sparse(m) => {
                let mut v: Vec<(u64, T)> = m.into_iter().collect();
                v.sort_unstable_by_key(|&(c, _)| c);
                v
            }
        }
    }
}

/// Calls `f` with the 2-bit code (A,C,G,T order) of every overlapping k-mer of
/// every run; k-mers never span two runs.
fn for_each_kmer(k: usize, runs: &[&[u8]], mut f: impl FnMut(u64)) -> Result<()> {
    let mask = (1u64 << (2 * k)) - 1;
    for run in runs {
        check_acgt(run)?;
        if run.len() < k {
            continue;
        }
        let mut code = 0u64;
        for (i, &b) in run.iter().enumerate() {
            // `check_acgt` passed, so every byte has a code.
            code = ((code << 2) | u64::from(base_code(b).unwrap_or(0))) & mask;
            if i + 1 >= k {
                f(code);
            }
        }
    }
    Ok(())
}

/// The k-mer string of a 2-bit code.
fn decode_kmer(code: u64, k: usize) -> String {
    (0..k)
        .rev()
        .map(|i| char::from(b"ACGT"[((code >> (2 * i)) & 3) as usize]))
        .collect()
}

/// Pass 1: document frequencies.
#[derive(Debug)]
pub struct TfIdfBuilder {
    k: usize,
    /// (df, 1 + index of the last document that counted it)
    df: Table<(u64, u64)>,
    documents: u64,
}

impl TfIdfBuilder {
    /// A builder for k-mers of length `k` (1..=12).
    pub fn new(k: usize) -> Result<TfIdfBuilder> {
        TfIdfBuilder::with_storage(k, k <= MAX_DENSE_K)
    }

    fn with_storage(k: usize, dense: bool) -> Result<TfIdfBuilder> {
        if !(1..=MAX_K).contains(&k) {
            return Err(TokError::Param(format!(
                "tf-idf k must be in 1..={MAX_K}, got {k}"
            )));
        }
        Ok(TfIdfBuilder {
            k,
            df: Table::new(k, dense),
            documents: 0,
        })
    }

    /// Count one document, given as its A/C/G/T runs.
    /// A byte other than upper-case A/C/G/T is [`TokError::InvalidBase`].
    pub fn count_df(&mut self, runs: &[&[u8]]) -> Result<()> {
        // Validate all runs first so a bad document leaves the counts untouched.
        for run in runs {
            check_acgt(run)?;
        }
        let stamp = self.documents + 1;
        let df = &mut self.df;
        for_each_kmer(self.k, runs, |code| {
            let e = df.entry(code);
            if e.1 != stamp {
                e.1 = stamp;
                e.0 += 1;
            }
        })?;
        self.documents = stamp;
        Ok(())
    }

    /// Documents counted so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// End pass 1: fix the idf of every k-mer. An empty corpus is an error.
    pub fn finish_df(self) -> Result<TfIdfScorer> {
        if self.documents == 0 {
            return Err(TokError::Param(
                "tf-idf needs at least one document".to_string(),
            ));
        }
        let n = self.documents;
        let dense = matches!(self.df, Table::Dense(_));
        let mut entries: Table<Entry> = match &self.df {
            Table::Dense(v) => Table::Dense(vec![Entry::default(); v.len()]),
            Table::Sparse(m) => Table::Sparse(FxHashMap::with_capacity_and_hasher(
                m.len(),
                Default::default(),
            )),
        };
        for (code, (df, _)) in self.df.sorted() {
            if df > 0 {
                *entries.entry(code) = Entry {
                    df,
                    idf: idf(n, df),
                    ..Entry::default()
                };
            }
        }
        Ok(TfIdfScorer {
            k: self.k,
            n,
            entries,
            scored: 0,
            doc: DocCounts::new(self.k, dense),
        })
    }
}

/// `ln((1 + n) / (1 + df)) + 1`.
fn idf(n: u64, df: u64) -> f64 {
    ((1 + n) as f64 / (1 + df) as f64).ln() + 1.0
}

/// Pass-2 state of one k-mer.
#[derive(Debug, Clone, Default)]
struct Entry {
    df: u64,
    idf: f64,
    /// Documents of pass 2 that held the k-mer, to check both passes saw the
    /// same corpus.
    df_seen: u64,
    sum: f64,
}

/// Raw counts of the current document, reusable across documents.
#[derive(Debug)]
struct DocCounts {
    counts: Table<u64>,
    /// Codes with a non-zero count, in first-seen order.
    touched: Vec<u64>,
}

impl DocCounts {
    fn new(k: usize, dense: bool) -> DocCounts {
        DocCounts {
            counts: Table::new(k, dense),
            touched: Vec::new(),
        }
    }
}

/// Pass 2: normalised tf-idf weights summed per k-mer.
#[derive(Debug)]
pub struct TfIdfScorer {
    k: usize,
    n: u64,
    entries: Table<Entry>,
    scored: u64,
    doc: DocCounts,
}

impl TfIdfScorer {
    /// Number of documents of pass 1.
    pub fn documents(&self) -> u64 {
        self.n
    }

    /// The idf of `kmer`, if pass 1 saw it.
    pub fn idf(&self, kmer: &[u8]) -> Option<f64> {
        if kmer.len() != self.k {
            return None;
        }
        let mut code = None;
        for_each_kmer(self.k, &[kmer], |c| code = Some(c)).ok()?;
        self.entries.get(code?).filter(|e| e.df > 0).map(|e| e.idf)
    }

    /// Score one document of the pass-1 corpus (any order), given as its runs.
    /// A k-mer that pass 1 never saw means the corpus changed: an error.
    pub fn score(&mut self, runs: &[&[u8]]) -> Result<()> {
        for run in runs {
            check_acgt(run)?;
        }
        let DocCounts { counts, touched } = &mut self.doc;
        for_each_kmer(self.k, runs, |code| {
            let c = counts.entry(code);
            if *c == 0 {
                touched.push(code);
            }
            *c += 1;
        })?;
        // Sorted so the norm is summed in the same order however the
        // document's k-mers arrived (dense and sparse agree bit for bit).
        touched.sort_unstable();

        let mut weights = Vec::with_capacity(touched.len());
        let mut unseen = None;
        for &code in touched.iter() {
            let f = std::mem::take(counts.entry(code));
            match self.entries.get(code).filter(|e| e.df > 0) {
                Some(e) => weights.push(f as f64 * e.idf),
                None => {
                    unseen.get_or_insert(code);
                    weights.push(0.0);
                }
            }
        }
        if let Table::Sparse(m) = counts {
            m.clear();
        }
        if let Some(code) = unseen {
            touched.clear();
            return Err(TokError::Param(format!(
                "k-mer {} was not seen in the document-frequency pass; \
                 pass 2 must score the same documents as pass 1",
                decode_kmer(code, self.k)
            )));
        }

        let norm = weights.iter().map(|w| w * w).sum::<f64>().sqrt();
        for (&code, w) in touched.iter().zip(&weights) {
            let e = self.entries.entry(code);
            e.df_seen += 1;
            e.sum += w / norm;
        }
        touched.clear();
        self.scored += 1;
        Ok(())
    }

    /// End pass 2 and rank the k-mers: the `top` largest sums (ties by k-mer,
    /// ascending). Pass 2 must have scored exactly the documents of pass 1.
    pub fn finish(self, top: usize) -> Result<TfIdfReport> {
        if self.scored != self.n {
            return Err(TokError::Param(format!(
                "pass 1 counted {} documents but pass 2 scored {}",
                self.n, self.scored
            )));
        }
        let k = self.k;
        let n = self.n;
        let mut scores = Vec::new();
        for (code, e) in self.entries.sorted() {
            if e.df == 0 {
                continue;
            }
            if e.df_seen != e.df {
                return Err(TokError::Param(format!(
                    "k-mer {} is in {} documents in pass 1 but {} in pass 2; \
                     both passes must see the same documents",
                    decode_kmer(code, k),
                    e.df,
                    e.df_seen
                )));
            }
            scores.push((code, e));
        }
        let distinct_kmers = scores.len();
        // Codes compare like the k-mer strings (A < C < G < T, fixed length).
        scores.sort_by(|a, b| b.1.sum.total_cmp(&a.1.sum).then(a.0.cmp(&b.0)));
        scores.truncate(top);
        let top = scores
            .into_iter()
            .map(|(code, e)| KmerScore {
                kmer: decode_kmer(code, k),
                df: e.df,
                idf: e.idf,
                sum_tfidf: e.sum,
                mean_tfidf: e.sum / n as f64,
            })
            .collect();
        Ok(TfIdfReport {
            k,
            documents: n,
            distinct_kmers,
            top,
        })
    }
}

/// The corpus figures of one k-mer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmerScore {
    pub kmer: String,
    /// Documents holding the k-mer.
    pub df: u64,
    /// `ln((1 + n) / (1 + df)) + 1`.
    pub idf: f64,
    /// `Σ_d ŵ(t, d)`: the L2-normalised weights summed over documents.
    pub sum_tfidf: f64,
    /// `sum_tfidf / n`.
    pub mean_tfidf: f64,
}

/// The result of a tf-idf run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TfIdfReport {
    pub k: usize,
    /// `n`, documents in the corpus.
    pub documents: u64,
    /// k-mers seen in at least one document.
    pub distinct_kmers: usize,
    /// The highest-scoring k-mers, by `sum_tfidf` desc then k-mer asc.
    pub top: Vec<KmerScore>,
}

impl TfIdfReport {
    /// The table as TSV, header `rank\tkmer\tdf\tidf\tsum_tfidf\tmean_tfidf`.
    pub fn to_tsv(&self) -> String {
        let mut s = String::from("rank\tkmer\tdf\tidf\tsum_tfidf\tmean_tfidf\n");
        for (i, r) in self.top.iter().enumerate() {
            let _ = writeln!(
                s,
                "{}\t{}\t{}\t{}\t{}\t{}",
                i + 1,
                r.kmer,
                r.df,
                r.idf,
                r.sum_tfidf,
                r.mean_tfidf
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn run(k: usize, dense: bool, docs: &[Vec<Vec<u8>>]) -> TfIdfReport {
        let mut b = TfIdfBuilder::with_storage(k, dense).unwrap();
        for d in docs {
            let runs: Vec<&[u8]> = d.iter().map(Vec::as_slice).collect();
            b.count_df(&runs).unwrap();
        }
        let mut s = b.finish_df().unwrap();
        // Pass 2 in reverse order, the same for both storages, so their sums
        // run in the same order and must agree exactly.
        for d in docs.iter().rev() {
            let runs: Vec<&[u8]> = d.iter().map(Vec::as_slice).collect();
            s.score(&runs).unwrap();
        }
        s.finish(usize::MAX).unwrap()
    }

    #[test]
    fn dense_and_sparse_tables_agree() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let docs: Vec<Vec<Vec<u8>>> = (0..40)
            .map(|_| {
                (0..rng.random_range(1..4))
                    .map(|_| {
                        let len = rng.random_range(0..60);
                        (0..len).map(|_| b"ACGT"[rng.random_range(0..4)]).collect()
                    })
                    .collect()
            })
            .collect();
        for k in [1, 3, 5] {
            let d = run(k, true, &docs);
            let s = run(k, false, &docs);
            assert_eq!(d.distinct_kmers, s.distinct_kmers);
            assert_eq!(d, s, "k={k}");
        }
    }

    #[test]
    fn kmer_codes_round_trip() {
        let mut codes = Vec::new();
        for_each_kmer(3, &[b"ACGTT", b"GA", b"TGC"], |c| codes.push(c)).unwrap();
        let kmers: Vec<String> = codes.iter().map(|&c| decode_kmer(c, 3)).collect();
        assert_eq!(kmers, ["ACG", "CGT", "GTT", "TGC"]);
    }
}
