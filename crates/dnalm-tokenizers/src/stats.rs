//! Token statistics: how a tokenizer uses its vocabulary on a corpus.
//!
//! [`TokenCounter`] accumulates id counts (merge counters from rayon workers
//! with [`TokenCounter::merge`]); [`TokenStats::compute`] turns them into
//! vocabulary usage, token lengths and imbalance measures, as TSV, Markdown
//! or JSON (serde). Special tokens are excluded from every figure.
//!
//! ```
//! use dnalm_tokenizers::stats::{TokenCounter, TokenStats};
//! use dnalm_tokenizers::Vocab;
//!
//! let vocab = Vocab::with_specials(["A", "C", "AC", "ACG"]).unwrap();
//! let mut counter = TokenCounter::new();
//! // "ACGAC" encoded as ACG + AC, "AAC" as A + AC; [CLS] (id 2) is ignored.
//! counter.add_sequence(&[2, 8, 7], 5);
//! counter.add_sequence(&[5, 7], 3);
//! let stats = TokenStats::compute(&vocab, &counter).unwrap();
//! assert_eq!(stats.total_tokens, 4);
//! assert_eq!(stats.used_tokens, 3);
//! assert_eq!(stats.nucleotides_per_token, Some(2.0));
//! assert!(stats.frequency_tsv().starts_with("rank\ttoken\tid\tlength\tcount\tfrequency\n1\tAC\t7\t2\t2\t0.5\n"));
//! ```

use std::fmt::Write as _;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::{Result, TokError};
use crate::vocab::Vocab;

/// Ids below this are counted in a dense array; larger ids (never produced by
/// dnalm's own vocabularies) go to a map, so a stray huge id cannot make the
/// counter allocate gigabytes.
const DENSE_IDS: usize = 1 << 22;

/// Accumulated token-id counts, plus the number of sequences and nucleotides
/// they came from. Counts every id, specials included; [`TokenStats`] filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenCounter {
    dense: Vec<u64>,
    sparse: FxHashMap<u32, u64>,
    sequences: u64,
    nucleotides: u64,
}

impl TokenCounter {
    /// An empty counter.
    pub fn new() -> TokenCounter {
        TokenCounter::default()
    }

    /// An empty counter with room for ids `0..vocab_len` (saves regrowing).
    pub fn with_vocab_len(vocab_len: usize) -> TokenCounter {
        TokenCounter {
            dense: vec![0; vocab_len.min(DENSE_IDS)],
            ..TokenCounter::default()
        }
    }

    /// Count the ids of one encoded piece, without counting a sequence.
    pub fn add(&mut self, ids: &[u32]) {
        for &id in ids {
            let i = id as usize;
            if i < DENSE_IDS {
                if i >= self.dense.len() {
                    self.dense.resize(i + 1, 0);
                }
                self.dense[i] += 1;
            } else {
                *self.sparse.entry(id).or_insert(0) += 1;
            }
        }
    }

    /// Count one encoded sequence of `nt` nucleotides.
    pub fn add_sequence(&mut self, ids: &[u32], nt: usize) {
        self.add(ids);
        self.sequences += 1;
        self.nucleotides += nt as u64;
    }

    /// Add `other`'s counts to this one (the reduce step of a parallel count).
    pub fn merge(&mut self, other: TokenCounter) {
        if other.dense.len() > self.dense.len() {
            self.dense.resize(other.dense.len(), 0);
        }
        for (a, b) in self.dense.iter_mut().zip(&other.dense) {
            *a += b;
        }
        for (id, c) in other.sparse {
            *self.sparse.entry(id).or_insert(0) += c;
        }
        self.sequences += other.sequences;
        self.nucleotides += other.nucleotides;
    }

    /// How often `id` was seen.
    pub fn count(&self, id: u32) -> u64 {
        match self.dense.get(id as usize) {
            Some(&c) => c,
            None => self.sparse.get(&id).copied().unwrap_or(0),
        }
    }

    /// Sequences counted with [`TokenCounter::add_sequence`].
    pub fn sequences(&self) -> u64 {
        self.sequences
    }

    /// Nucleotides counted with [`TokenCounter::add_sequence`].
    pub fn nucleotides(&self) -> u64 {
        self.nucleotides
    }

    /// Every id seen at least once with its count, by id.
    fn nonzero(&self) -> Vec<(u32, u64)> {
        let mut out: Vec<(u32, u64)> = self
            .dense
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &c)| (i as u32, c))
            .chain(self.sparse.iter().map(|(&i, &c)| (i, c)))
            .collect();
        out.sort_unstable();
        out
    }
}

/// One row of the frequency table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenFrequency {
    /// 1-based rank by count (desc), ties by id (asc); unused tokens last.
    pub rank: usize,
    pub token: String,
    pub id: u32,
    /// Length of the token string in bytes (nucleotides for DNA tokens).
    pub length: usize,
    pub count: u64,
    /// `count / total_tokens` (0 when nothing was counted).
    pub frequency: f64,
}

/// Vocabulary tokens and occurrences of one token length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LengthBin {
    /// Token length in nucleotides.
    pub length: usize,
    /// Non-special vocabulary tokens of this length.
    pub vocab_tokens: usize,
    /// How many of them occur at least once.
    pub used_tokens: usize,
    /// Occurrences of tokens of this length in the corpus.
    pub occurrences: u64,
}

/// Statistics of a tokenized corpus over one vocabulary. Special tokens are
/// excluded everywhere: from the vocabulary size, the counts and the measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenStats {
    /// Non-special token occurrences, `N = Σ_t c_t`.
    pub total_tokens: u64,
    /// Special-token occurrences that were left out.
    pub special_occurrences: u64,
    /// Sequences counted.
    pub sequences: u64,
    /// Nucleotides of the counted sequences.
    pub total_nucleotides: u64,
    /// Non-special vocabulary tokens, `V`.
    pub vocab_size: usize,
    /// Non-special tokens with `c_t > 0`, `U`.
    pub used_tokens: usize,
    /// `U / V` (0 for an empty vocabulary).
    pub vocab_used_fraction: f64,
    /// Mean length of the used tokens, each counted once: `Σ_{c_t>0} len_t / U`.
    /// `None` when no token was used.
    pub mean_token_length_used: Option<f64>,
    /// Frequency-weighted mean token length, `Σ_t c_t len_t / N`.
    /// `None` when `N = 0`.
    pub mean_token_length_weighted: Option<f64>,
    /// Total nucleotides per token, `total_nucleotides / N`. Equals the
    /// weighted mean length for non-overlapping tokenizers and is about 1 for
    /// overlapping k-mers. `None` when `N = 0` or no nucleotides were recorded.
    pub nucleotides_per_token: Option<f64>,
    /// Normalised Shannon entropy of the frequencies of the used tokens,
    /// `H / ln U` with `H = -Σ p_t ln p_t`, `p_t = c_t / N`: 1 when every used
    /// token is equally frequent. `None` when `U < 2` (`ln U = 0`).
    pub entropy_normalized: Option<f64>,
    /// Gini coefficient of the counts over the whole vocabulary (unused
    /// tokens count as 0): with `x_1 <= ... <= x_V` sorted ascending,
    /// `G = 2 Σ_i i x_i / (V Σ_i x_i) - (V + 1) / V`. 0 = all equal, towards 1
    /// = all occurrences on one token. `None` when `N = 0`.
    pub gini: Option<f64>,
    /// `max_t c_t / median_{c_t>0} c_t` (the median of an even number of
    /// counts is the mean of the middle two). `None` when no token was used.
    pub max_median_ratio: Option<f64>,
    /// Token-length distribution, by length ascending.
    pub length_distribution: Vec<LengthBin>,
    /// Every non-special vocabulary token, in rank order.
    #[serde(skip)]
    pub frequencies: Vec<TokenFrequency>,
}

impl TokenStats {
    /// The statistics of `counter` over `vocab`. A counted non-special id
    /// outside the vocabulary is an error ([`TokError::UnknownId`]).
    pub fn compute(vocab: &Vocab, counter: &TokenCounter) -> Result<TokenStats> {
        let mut special_occurrences = 0u64;
        for (id, c) in counter.nonzero() {
            if vocab.is_special(id) {
                special_occurrences += c;
            } else if id as usize >= vocab.len() {
                return Err(TokError::UnknownId {
                    id,
                    size: vocab.len(),
                });
            }
        }

        let mut rows: Vec<TokenFrequency> = vocab
            .tokens()
            .iter()
            .enumerate()
            .filter(|&(id, _)| !vocab.is_special(id as u32))
            .map(|(id, token)| TokenFrequency {
                rank: 0,
                token: token.clone(),
                id: id as u32,
                length: token.len(),
                count: counter.count(id as u32),
                frequency: 0.0,
            })
            .collect();
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));

        let total: u64 = rows.iter().map(|r| r.count).sum();
        for (i, r) in rows.iter_mut().enumerate() {
            r.rank = i + 1;
            r.frequency = if total > 0 {
                r.count as f64 / total as f64
            } else {
                0.0
            };
        }
        let vocab_size = rows.len();
        let used: Vec<&TokenFrequency> = rows.iter().filter(|r| r.count > 0).collect();
        let n_used = used.len();

        let mut bins: std::collections::BTreeMap<usize, LengthBin> = Default::default();
        for r in &rows {
            let bin = bins.entry(r.length).or_insert(LengthBin {
                length: r.length,
                vocab_tokens: 0,
                used_tokens: 0,
                occurrences: 0,
            });
            bin.vocab_tokens += 1;
            bin.used_tokens += usize::from(r.count > 0);
            bin.occurrences += r.count;
        }

        let mean_token_length_used =
            (n_used > 0).then(|| used.iter().map(|r| r.length as f64).sum::<f64>() / n_used as f64);
        let weighted_len: f64 = used.iter().map(|r| r.count as f64 * r.length as f64).sum();
        let mean_token_length_weighted = (total > 0).then(|| weighted_len / total as f64);
        let nucleotides_per_token = (total > 0 && counter.nucleotides() > 0)
            .then(|| counter.nucleotides() as f64 / total as f64);

        let entropy_normalized = (n_used >= 2).then(|| {
            let h: f64 = used
                .iter()
                .map(|r| {
                    let p = r.count as f64 / total as f64;
                    -p * p.ln()
                })
                .sum();
            h / (n_used as f64).ln()
        });

        let gini = (total > 0).then(|| {
            // `rows` is sorted descending, so ascending position i (1-based) of
            // the j-th row (0-based) is V - j.
            let v = vocab_size as f64;
            let weighted: f64 = rows
                .iter()
                .enumerate()
                .map(|(j, r)| (vocab_size - j) as f64 * r.count as f64)
                .sum();
            2.0 * weighted / (v * total as f64) - (v + 1.0) / v
        });

        let max_median_ratio = (n_used > 0).then(|| {
            // `used` is sorted descending; the median does not care.
            let mid = n_used / 2;
            let median = if n_used % 2 == 1 {
                used[mid].count as f64
            } else {
                (used[mid - 1].count as f64 + used[mid].count as f64) / 2.0
            };
            used[0].count as f64 / median
        });

        Ok(TokenStats {
            total_tokens: total,
            special_occurrences,
            sequences: counter.sequences(),
            total_nucleotides: counter.nucleotides(),
            vocab_size,
            used_tokens: n_used,
            vocab_used_fraction: if vocab_size > 0 {
                n_used as f64 / vocab_size as f64
            } else {
                0.0
            },
            mean_token_length_used,
            mean_token_length_weighted,
            nucleotides_per_token,
            entropy_normalized,
            gini,
            max_median_ratio,
            length_distribution: bins.into_values().collect(),
            frequencies: rows,
        })
    }

    /// Counts of the used tokens, largest first (input of a rank-frequency plot).
    pub fn counts_desc(&self) -> Vec<u64> {
        self.frequencies
            .iter()
            .map(|r| r.count)
            .take_while(|&c| c > 0)
            .collect()
    }

    /// `(length, occurrences)` per token length (input of a length plot).
    pub fn length_occurrences(&self) -> Vec<(usize, u64)> {
        self.length_distribution
            .iter()
            .map(|b| (b.length, b.occurrences))
            .collect()
    }

    /// The frequency table as TSV: header
    /// `rank\ttoken\tid\tlength\tcount\tfrequency`, by count desc then id asc,
    /// unused tokens last with count 0.
    pub fn frequency_tsv(&self) -> String {
        let mut s = String::from("rank\ttoken\tid\tlength\tcount\tfrequency\n");
        for r in &self.frequencies {
            let _ = writeln!(
                s,
                "{}\t{}\t{}\t{}\t{}\t{}",
                r.rank,
                tsv_field(&r.token),
                r.id,
                r.length,
                r.count,
                r.frequency
            );
        }
        s
    }

    /// The scalar measures as `(metric, value)`; undefined values are `NA`.
    fn metrics(&self) -> Vec<(&'static str, String)> {
        let opt = |v: Option<f64>| v.map_or_else(|| "NA".to_string(), |x| x.to_string());
        vec![
            ("total_tokens", self.total_tokens.to_string()),
            ("special_occurrences", self.special_occurrences.to_string()),
            ("sequences", self.sequences.to_string()),
            ("total_nucleotides", self.total_nucleotides.to_string()),
            ("vocab_size", self.vocab_size.to_string()),
            ("used_tokens", self.used_tokens.to_string()),
            ("vocab_used_fraction", self.vocab_used_fraction.to_string()),
            ("mean_token_length_used", opt(self.mean_token_length_used)),
            (
                "mean_token_length_weighted",
                opt(self.mean_token_length_weighted),
            ),
            ("nucleotides_per_token", opt(self.nucleotides_per_token)),
            ("entropy_normalized", opt(self.entropy_normalized)),
            ("gini", opt(self.gini)),
            ("max_median_ratio", opt(self.max_median_ratio)),
        ]
    }

    /// The scalar measures as TSV with header `metric\tvalue`; undefined
    /// values are written `NA`.
    pub fn summary_tsv(&self) -> String {
        let mut s = String::from("metric\tvalue\n");
        for (m, v) in self.metrics() {
            let _ = writeln!(s, "{m}\t{v}");
        }
        s
    }

    /// The scalar measures and the length distribution as Markdown tables.
    pub fn summary_markdown(&self) -> String {
        let mut s = String::from("| metric | value |\n|---|---:|\n");
        for (m, v) in self.metrics() {
            let _ = writeln!(s, "| {m} | {v} |");
        }
        s.push_str(
            "\n| length | vocab_tokens | used_tokens | occurrences |\n|---:|---:|---:|---:|\n",
        );
        for b in &self.length_distribution {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                b.length, b.vocab_tokens, b.used_tokens, b.occurrences
            );
        }
        s
    }
}

/// Imported vocabularies may hold any string; keep one token per TSV field.
fn tsv_field(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['\t', '\n', '\r', '\\']) {
        token
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .into()
    } else {
        token.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_merges_dense_and_sparse() {
        let mut a = TokenCounter::new();
        a.add_sequence(&[5, 6, 6], 4);
        let mut b = TokenCounter::with_vocab_len(3);
        b.add_sequence(&[6, u32::MAX], 2);
        a.merge(b);
        assert_eq!(a.count(6), 3);
        assert_eq!(a.count(5), 1);
        assert_eq!(a.count(u32::MAX), 1);
        assert_eq!(a.count(7), 0);
        assert_eq!((a.sequences(), a.nucleotides()), (2, 6));
        assert_eq!(a.nonzero(), vec![(5, 1), (6, 3), (u32::MAX, 1)]);
    }

    #[test]
    fn tsv_field_escapes_separators() {
        assert_eq!(tsv_field("AC"), "AC");
        assert_eq!(tsv_field("a\tb\nc\\"), "a\\tb\\nc\\\\");
    }
}
