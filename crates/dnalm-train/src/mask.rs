//! Masking collators for masked-language-model pre-training.
//!
//! A [`MaskCollator`] turns a batch of token-id sequences (no specials, as
//! the corpus stores them) into model input: each row is framed as
//! `[CLS] ids [SEP]`, truncated to `max_len`, padded with `[PAD]`, and some
//! positions are selected for the loss by a [`MaskStrategy`]:
//!
//! - `Random { prob }`: every token independently (BPE, variable k-mers).
//! - `KmerSpan { k, centre_prob }`: DNABERT's contiguous masking for
//!   overlapping k-mers. Centres are drawn with `centre_prob`, and each
//!   masks the centre plus DNABERT's offsets
//!   `{3: [-1,+1], 4: [-1,+1,+2], 5: [-2,-1,+1,+2], 6: [-2,-1,+1,+2,+3]}`,
//!   clipped to the sequence, so a masked k-mer cannot be read off its
//!   overlapping neighbours.
//! - `Hybrid { k, centre_prob, bpe_prob }`: span masking on the leading
//!   k-mer part of each row (spans never leak into the BPE part), random
//!   masking on the BPE part.
//!
//! Selected positions then get the usual 80/10/10 replacement: `[MASK]`, a
//! random non-special token, or unchanged. `labels` hold the original id at
//! selected positions and -100 (PyTorch's `ignore_index`) elsewhere.
//! Specials are never selected.
//!
//! Rules worth knowing:
//! - **At least one per row.** A row in which nothing was selected gets one
//!   uniformly chosen position (a span centre on k-mer positions), so every
//!   row contributes to the loss. This is included in `n_masked`, in the
//!   effective fraction and in [`MaskStrategy::expected_masked`]; for a
//!   300-token row at the defaults it happens with probability ~5e-4.
//! - **Truncation** keeps the start of the sequence. For hybrid rows the k-mer
//!   part and the BPE part keep the same fraction of their tokens (each at
//!   least one when both exist), so both still cover about the same leading
//!   stretch of bases and the row stays "k-mers, then BPE".
//! - **Centre probability, not masked fraction.** DNABERT's 0.025 masks about
//!   14% of 6-mers. The hybrid publication's "p = 0.15" used as a centre
//!   probability masks about 1 - 0.85^6 = 62%; this module takes the
//!   centre probability literally and reports the effective fraction
//!   (`n_masked / n_maskable`) so that mistake is visible in the logs.
//! - **Determinism.** Row `r` of micro-batch `m` at step `s` draws from a
//!   ChaCha8 stream keyed by `(seed, s, m)`, stream `r`: a resumed run masks
//!   exactly as an uninterrupted one, and rows do not depend on each other.
//!
//! ```
//! use dnalm_train::mask::{Example, MaskCollator, MaskStrategy};
//!
//! let collator = MaskCollator::builder(MaskStrategy::kmer_span(6), 4101)
//!     .max_len(16)
//!     .seed(42)
//!     .build()
//!     .unwrap();
//! let a: Vec<u32> = (5..25).collect();
//! let b: Vec<u32> = (5..10).collect();
//! let batch = collator.collate(&[Example::new(&a), Example::new(&b)], 0, 0).unwrap();
//! assert_eq!((batch.batch_size, batch.seq_len), (2, 16));
//! assert_eq!(batch.input_ids[0], 2); // [CLS]
//! assert!(batch.n_masked >= 2); // at least one per row
//! assert_eq!(batch.n_maskable, 14 + 5);
//! ```

use rand_chacha::ChaCha8Rng;

use dnalm_tokenizers::Specials;

use crate::batch::{below, domain, keyed_rng, unit_f64};
use crate::corpus::TokenCorpus;
use crate::error::{Result, TrainError};

mod stats;
mod strategy;

pub use stats::{measure_masked_fraction, MaskStats};
use strategy::span_offsets;
pub use strategy::MaskStrategy;

/// The label of positions without loss (PyTorch's `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// One input row: ids without specials, and for hybrid rows the number of
/// leading k-mer tokens ([`TokenCorpus::first_part_len`]).
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    pub ids: &'a [u32],
    pub first_part_len: usize,
}

impl<'a> Example<'a> {
    pub fn new(ids: &'a [u32]) -> Example<'a> {
        Example {
            ids,
            first_part_len: 0,
        }
    }
    pub fn hybrid(ids: &'a [u32], first_part_len: usize) -> Example<'a> {
        Example {
            ids,
            first_part_len,
        }
    }
}

/// A collated batch, row-major `[batch_size, seq_len]`, as i64 (the dtype
/// burn and PyTorch take for ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub input_ids: Vec<i64>,
    /// 1 for real tokens (specials included), 0 for padding.
    pub attention_mask: Vec<i64>,
    /// Original id where selected, [`IGNORE_INDEX`] elsewhere.
    pub labels: Vec<i64>,
    pub batch_size: usize,
    pub seq_len: usize,
    /// Positions selected for the loss.
    pub n_masked: usize,
    /// Non-special positions that could have been selected.
    pub n_maskable: usize,
    /// Rows that were cut to `max_len`.
    pub n_truncated: usize,
}

impl Batch {
    /// `n_masked / n_maskable` (0 for an all-empty batch).
    pub fn effective_masked_fraction(&self) -> f64 {
        if self.n_maskable == 0 {
            0.0
        } else {
            self.n_masked as f64 / self.n_maskable as f64
        }
    }
}

/// Settings for a [`MaskCollator`]; [`MaskCollatorBuilder::build`] validates.
#[derive(Debug, Clone)]
pub struct MaskCollatorBuilder {
    strategy: MaskStrategy,
    vocab_size: usize,
    specials: Specials,
    max_len: usize,
    pad_to_max: bool,
    seed: u64,
    mask_token_prob: f64,
    random_token_prob: f64,
    at_least_one: bool,
}

impl MaskCollatorBuilder {
    /// Special-token ids (default: dnalm's [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3
    /// [MASK]=4; pass `tokenizer.vocab().specials()` for imported ones).
    pub fn specials(mut self, specials: Specials) -> Self {
        self.specials = specials;
        self
    }
    /// Longest row, `[CLS]` and `[SEP]` included (default 512, BERT's
    /// position limit).
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }
    /// Pad every batch to `max_len` instead of to its longest row.
    pub fn pad_to_max(mut self, yes: bool) -> Self {
        self.pad_to_max = yes;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Of the selected positions, the share replaced by `[MASK]` and by a
    /// random token (default 0.8 and 0.1; the rest stay unchanged).
    pub fn replacement(mut self, mask_token_prob: f64, random_token_prob: f64) -> Self {
        self.mask_token_prob = mask_token_prob;
        self.random_token_prob = random_token_prob;
        self
    }
    /// Give a row with no selected position one (default on).
    pub fn at_least_one(mut self, yes: bool) -> Self {
        self.at_least_one = yes;
        self
    }

    pub fn build(self) -> Result<MaskCollator> {
        self.strategy.validate()?;
        let s = self.specials;
        let mut ids = [s.pad, s.unk, s.cls, s.sep, s.mask];
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(TrainError::param(format!(
                "special token ids must be distinct: {s:?}"
            )));
        }
        if ids[4] as usize >= self.vocab_size {
            return Err(TrainError::param(format!(
                "special token id {} is outside the vocabulary (size {})",
                ids[4], self.vocab_size
            )));
        }
        if self.vocab_size <= ids.len() || u32::try_from(self.vocab_size - 1).is_err() {
            return Err(TrainError::param(format!(
                "vocabulary size {} leaves no ordinary token to mask or draw (or exceeds u32 ids)",
                self.vocab_size
            )));
        }
        if self.max_len < 3 {
            return Err(TrainError::param(format!(
                "max length {} cannot hold [CLS], one token and [SEP]",
                self.max_len
            )));
        }
        let (m, r) = (self.mask_token_prob, self.random_token_prob);
        if !(m >= 0.0 && r >= 0.0 && m + r <= 1.0) {
            return Err(TrainError::param(format!(
                "replacement shares [MASK] {m} + random {r} must be >= 0 and sum to at most 1"
            )));
        }
        Ok(MaskCollator {
            spans: match self.strategy {
                MaskStrategy::Random { .. } => &[],
                MaskStrategy::KmerSpan { k, .. } | MaskStrategy::Hybrid { k, .. } => {
                    span_offsets(k)?
                }
            },
            sorted_specials: ids,
            settings: self,
        })
    }
}

/// Builds [`Batch`]es; immutable, cheap to share across threads.
#[derive(Debug, Clone)]
pub struct MaskCollator {
    settings: MaskCollatorBuilder,
    spans: &'static [isize],
    sorted_specials: [u32; 5],
}

/// One framed row before padding, and what its expectation needs.
struct Row {
    ids: Vec<u32>,
    labels: Vec<i64>,
    n_masked: usize,
    n_maskable: usize,
    content: usize,
    first: usize,
    truncated: bool,
}

impl MaskCollator {
    pub fn builder(strategy: MaskStrategy, vocab_size: usize) -> MaskCollatorBuilder {
        MaskCollatorBuilder {
            strategy,
            vocab_size,
            specials: Specials::DNALM,
            max_len: 512,
            pad_to_max: false,
            seed: 0,
            mask_token_prob: 0.8,
            random_token_prob: 0.1,
            at_least_one: true,
        }
    }

    pub fn strategy(&self) -> MaskStrategy {
        self.settings.strategy
    }
    pub fn max_len(&self) -> usize {
        self.settings.max_len
    }

    /// Refuse a strategy that does not fit how `corpus` was tokenized:
    /// k-mer spans need an overlapping k-mer corpus, hybrid masking a hybrid
    /// corpus of the same k (its first-part lengths say where the k-mers
    /// end). Random masking fits any corpus.
    pub fn check_corpus(&self, corpus: &TokenCorpus) -> Result<()> {
        let kind = corpus.tokenizer_kind();
        let fits = match (self.settings.strategy, corpus.hybrid_layout()) {
            (MaskStrategy::Random { .. }, _) => true,
            (MaskStrategy::KmerSpan { .. }, None) => kind == "kmer",
            (MaskStrategy::Hybrid { k, .. }, Some(h)) => h.k == k,
            _ => false,
        };
        if !fits {
            return Err(TrainError::param(format!(
                "{}: masking {:?} does not fit a {kind} corpus{}",
                corpus.path().display(),
                self.settings.strategy,
                corpus
                    .hybrid_layout()
                    .map(|h| format!(" (k = {})", h.k))
                    .unwrap_or_default()
            )));
        }
        if corpus.vocab_size() != self.settings.vocab_size {
            return Err(TrainError::param(format!(
                "{}: the corpus vocabulary has {} tokens, the collator {}",
                corpus.path().display(),
                corpus.vocab_size(),
                self.settings.vocab_size
            )));
        }
        Ok(())
    }

    /// Collate micro-batch `micro` of step `step`. The masks are a pure
    /// function of `(seed, step, micro, row)`.
    pub fn collate(&self, examples: &[Example<'_>], step: u64, micro: u64) -> Result<Batch> {
        self.collate_keyed(examples, domain::MASK, step, micro)
            .map(|(b, _)| b)
    }

    /// Read `indices` from `corpus` and collate them.
    pub fn collate_corpus(
        &self,
        corpus: &TokenCorpus,
        indices: &[usize],
        step: u64,
        micro: u64,
    ) -> Result<Batch> {
        let rows = read_rows(corpus, indices)?;
        let examples: Vec<Example<'_>> = rows
            .iter()
            .map(|(ids, f)| Example::hybrid(ids, *f))
            .collect();
        self.collate(&examples, step, micro)
    }

    fn collate_keyed(
        &self,
        examples: &[Example<'_>],
        dom: u64,
        a: u64,
        b: u64,
    ) -> Result<(Batch, f64)> {
        if examples.is_empty() {
            return Err(TrainError::param("cannot collate an empty batch"));
        }
        let set = &self.settings;
        let mut rows = Vec::with_capacity(examples.len());
        let mut expected = 0.0;
        for (r, ex) in examples.iter().enumerate() {
            let mut rng = keyed_rng(dom, set.seed, a, b);
            rng.set_stream(r as u64);
            let row = self.row(r, ex, &mut rng)?;
            expected += set
                .strategy
                .expected_masked(row.content, row.first, set.at_least_one);
            rows.push(row);
        }
        let longest = rows.iter().map(|r| r.ids.len()).max().unwrap_or(0);
        let seq_len = if set.pad_to_max { set.max_len } else { longest };
        let n = rows.len() * seq_len;
        let mut batch = Batch {
            input_ids: Vec::with_capacity(n),
            attention_mask: Vec::with_capacity(n),
            labels: Vec::with_capacity(n),
            batch_size: rows.len(),
            seq_len,
            n_masked: 0,
            n_maskable: 0,
            n_truncated: 0,
        };
        let pad = i64::from(set.specials.pad);
        for row in rows {
            let real = row.ids.len();
            batch
                .input_ids
                .extend(row.ids.iter().map(|&i| i64::from(i)));
            batch
                .input_ids
                .resize(batch.input_ids.len() + seq_len - real, pad);
            batch
                .attention_mask
                .extend((0..seq_len).map(|i| i64::from(i < real)));
            batch.labels.extend_from_slice(&row.labels);
            batch
                .labels
                .resize(batch.labels.len() + seq_len - real, IGNORE_INDEX);
            batch.n_masked += row.n_masked;
            batch.n_maskable += row.n_maskable;
            batch.n_truncated += usize::from(row.truncated);
        }
        Ok((batch, expected))
    }

    /// Frame, truncate and mask one row.
    fn row(&self, r: usize, ex: &Example<'_>, rng: &mut ChaCha8Rng) -> Result<Row> {
        let set = &self.settings;
        let sp = set.specials;
        if let Some(pos) = ex.ids.iter().position(|&i| i as usize >= set.vocab_size) {
            return Err(TrainError::BatchToken {
                row: r,
                position: pos,
                id: ex.ids[pos],
                vocab_size: set.vocab_size,
            });
        }
        let hybrid = matches!(set.strategy, MaskStrategy::Hybrid { .. });
        let first = if hybrid { ex.first_part_len } else { 0 };
        if first > ex.ids.len() {
            return Err(TrainError::param(format!(
                "batch row {r}: first part length {first} exceeds the row's {} tokens",
                ex.ids.len()
            )));
        }
        let (keep_first, keep_rest) = truncate(first, ex.ids.len() - first, set.max_len - 2);
        let mut ids = Vec::with_capacity(keep_first + keep_rest + 2);
        ids.push(sp.cls);
        ids.extend_from_slice(&ex.ids[..keep_first]);
        ids.extend_from_slice(&ex.ids[first..first + keep_rest]);
        ids.push(sp.sep);
        let content = keep_first + keep_rest;
        // Content position i sits at row position i + 1.
        let maskable: Vec<bool> = ids[1..=content].iter().map(|&i| !sp.contains(i)).collect();
        let n_maskable = maskable.iter().filter(|&&m| m).count();
        let mut selected = vec![false; content];

        let mark_span = |sel: &mut [bool], centre: usize, end: usize| {
            for &o in self.spans {
                let j = centre as isize + o;
                if (0..end as isize).contains(&j) && maskable[j as usize] {
                    sel[j as usize] = true;
                }
            }
        };
        // Span part: the whole row for KmerSpan, the first part for Hybrid;
        // the rest (all of a Random row, the BPE part of a Hybrid row) is
        // selected token by token.
        let (span_end, centre_prob, prob_rest) = match set.strategy {
            MaskStrategy::Random { prob } => (0, 0.0, prob),
            MaskStrategy::KmerSpan { centre_prob, .. } => (content, centre_prob, 0.0),
            MaskStrategy::Hybrid {
                centre_prob,
                bpe_prob,
                ..
            } => (keep_first, centre_prob, bpe_prob),
        };
        for (i, &m) in maskable.iter().enumerate() {
            if !m {
                continue;
            }
            if i < span_end {
                if unit_f64(rng) < centre_prob {
                    mark_span(&mut selected, i, span_end);
                }
            } else if unit_f64(rng) < prob_rest {
                selected[i] = true;
            }
        }
        if set.at_least_one && n_maskable > 0 && !selected.iter().any(|&s| s) {
            let candidates: Vec<usize> = (0..content).filter(|&i| maskable[i]).collect();
            let i = candidates[below(rng, candidates.len() as u64) as usize];
            if i < span_end {
                mark_span(&mut selected, i, span_end);
            } else {
                selected[i] = true;
            }
        }

        let mut labels = vec![IGNORE_INDEX; ids.len()];
        let mut n_masked = 0;
        let n_draw = (set.vocab_size - self.sorted_specials.len()) as u64;
        for (i, _) in selected.iter().enumerate().filter(|(_, &s)| s) {
            let pos = i + 1;
            labels[pos] = i64::from(ids[pos]);
            n_masked += 1;
            let u = unit_f64(rng);
            if u < set.mask_token_prob {
                ids[pos] = sp.mask;
            } else if u < set.mask_token_prob + set.random_token_prob {
                ids[pos] = self.skip_specials(below(rng, n_draw) as u32);
            }
        }
        Ok(Row {
            ids,
            labels,
            n_masked,
            n_maskable,
            content,
            first: keep_first,
            truncated: content < ex.ids.len(),
        })
    }

    /// Map a draw from `0..vocab - 5` onto the non-special ids.
    fn skip_specials(&self, mut id: u32) -> u32 {
        for &s in &self.sorted_specials {
            if id >= s {
                id += 1;
            }
        }
        id
    }
}

/// How many k-mer and BPE tokens to keep within `budget` content tokens.
/// Plain rows keep their start. Hybrid rows keep the same fraction of each
/// part (at least one of each), so both parts still spell about the same
/// leading bases.
fn truncate(first: usize, rest: usize, budget: usize) -> (usize, usize) {
    let n = first + rest;
    if n <= budget {
        return (first, rest);
    }
    if first == 0 || rest == 0 || budget < 2 {
        let f = first.min(budget);
        return (f, (budget - f).min(rest));
    }
    let f = ((first as u128 * budget as u128) / n as u128) as usize;
    let f = f.clamp(1, budget - 1).min(first);
    (f, (budget - f).min(rest))
}

fn read_rows(corpus: &TokenCorpus, indices: &[usize]) -> Result<Vec<(Vec<u32>, usize)>> {
    indices
        .iter()
        .map(|&i| Ok((corpus.get(i)?, corpus.first_part_len(i)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) const V: usize = 4101; // 5 specials + 4^6 6-mers

    pub(crate) fn collator(strategy: MaskStrategy, max_len: usize, seed: u64) -> MaskCollator {
        MaskCollator::builder(strategy, V)
            .max_len(max_len)
            .seed(seed)
            .build()
            .unwrap()
    }

    /// Rows of `len` ordinary ids, different per row.
    pub(crate) fn rows(n: usize, len: usize) -> Vec<Vec<u32>> {
        (0..n)
            .map(|r| {
                (0..len)
                    .map(|i| 5 + ((r * 7919 + i * 31) % (V - 5)) as u32)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn builder_validates() {
        let ok = |s| MaskCollator::builder(s, V).build().is_ok();
        assert!(ok(MaskStrategy::random()));
        assert!(ok(MaskStrategy::hybrid()));
        for k in 3..=6 {
            assert!(ok(MaskStrategy::kmer_span(k)));
        }
        for k in [0, 2, 7] {
            let e = MaskCollator::builder(MaskStrategy::kmer_span(k), V)
                .build()
                .unwrap_err();
            assert!(e.to_string().contains("3..=6"), "{e}");
        }
        for p in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(!ok(MaskStrategy::Random { prob: p }), "{p}");
            assert!(!ok(MaskStrategy::Hybrid {
                k: 6,
                centre_prob: 0.025,
                bpe_prob: p
            }));
        }
        let b = || MaskCollator::builder(MaskStrategy::random(), V);
        assert!(b().max_len(2).build().is_err());
        assert!(b().replacement(0.9, 0.2).build().is_err());
        assert!(b().replacement(-0.1, 0.2).build().is_err());
        assert!(MaskCollator::builder(MaskStrategy::random(), 5)
            .build()
            .is_err());
        let dup = Specials {
            mask: 0,
            ..Specials::DNALM
        };
        assert!(b().specials(dup).build().is_err());
        let far = Specials {
            mask: V as u32,
            ..Specials::DNALM
        };
        assert!(b().specials(far).build().is_err());
    }

    #[test]
    fn framing_padding_and_lengths() {
        let c = collator(MaskStrategy::random(), 6, 1);
        let (a, b) = (vec![10, 11, 12, 13, 14, 15], vec![20]);
        let batch = c
            .collate(&[Example::new(&a), Example::new(&b)], 0, 0)
            .unwrap();
        assert_eq!((batch.batch_size, batch.seq_len), (2, 6));
        assert_eq!((batch.n_truncated, batch.n_maskable), (1, 5));
        assert_eq!(batch.input_ids[0], 2);
        assert_eq!(batch.input_ids[5], 3); // truncated to [CLS] 4 ids [SEP]
        assert_eq!(&batch.attention_mask[6..], &[1, 1, 1, 0, 0, 0]);
        assert_eq!(&batch.input_ids[9..], &[0, 0, 0]);
        assert_eq!(&batch.labels[9..], &[IGNORE_INDEX; 3]);
        // The short row alone pads to its own length, or to max_len if asked.
        let one = c.collate(&[Example::new(&b)], 0, 0).unwrap();
        assert_eq!(one.seq_len, 3);
        let fixed = MaskCollator::builder(MaskStrategy::random(), V)
            .max_len(8)
            .pad_to_max(true)
            .build()
            .unwrap();
        assert_eq!(fixed.collate(&[Example::new(&b)], 0, 0).unwrap().seq_len, 8);
    }

    #[test]
    fn bad_rows_are_errors() {
        let c = collator(MaskStrategy::hybrid(), 16, 0);
        assert!(c.collate(&[], 0, 0).is_err());
        let e = c
            .collate(&[Example::new(&[5, V as u32])], 0, 0)
            .unwrap_err();
        assert!(
            matches!(
                e,
                TrainError::BatchToken {
                    row: 0,
                    position: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(c.collate(&[Example::hybrid(&[5, 6], 3)], 0, 0).is_err());
    }

    #[test]
    fn deterministic_per_seed_step_micro_and_row() {
        let rs = rows(4, 200);
        let ex: Vec<Example<'_>> = rs.iter().map(|r| Example::new(r)).collect();
        let c = collator(MaskStrategy::kmer_span(6), 512, 9);
        let a = c.collate(&ex, 3, 1).unwrap();
        assert_eq!(a, c.collate(&ex, 3, 1).unwrap());
        assert_eq!(
            a,
            collator(MaskStrategy::kmer_span(6), 512, 9)
                .collate(&ex, 3, 1)
                .unwrap()
        );
        assert_ne!(a.labels, c.collate(&ex, 4, 1).unwrap().labels);
        assert_ne!(a.labels, c.collate(&ex, 3, 0).unwrap().labels);
        assert_ne!(
            a.labels,
            collator(MaskStrategy::kmer_span(6), 512, 10)
                .collate(&ex, 3, 1)
                .unwrap()
                .labels
        );
        // A row's mask does not depend on the other rows.
        let other = [ex[0], Example::new(&rs[3][..50])];
        let b = c.collate(&other, 3, 1).unwrap();
        assert_eq!(a.labels[..a.seq_len], b.labels[..b.seq_len]);
    }

    #[test]
    fn replacement_is_80_10_10() {
        let c = collator(MaskStrategy::random(), 512, 16);
        let rs = rows(16, 500);
        let ex: Vec<Example<'_>> = rs.iter().map(|r| Example::new(r)).collect();
        let (mut mask, mut same, mut other, mut total) = (0usize, 0usize, 0usize, 0usize);
        for s in 0..60 {
            let b = c.collate(&ex, s, 0).unwrap();
            for (&inp, &lab) in b.input_ids.iter().zip(&b.labels) {
                if lab == IGNORE_INDEX {
                    continue;
                }
                total += 1;
                if inp == 4 {
                    mask += 1;
                } else if inp == lab {
                    same += 1;
                } else {
                    assert!(
                        (5..V as i64).contains(&inp),
                        "random replacement {inp} is special"
                    );
                    other += 1;
                }
            }
        }
        let f = |x: usize| x as f64 / total as f64;
        assert!(total > 50_000);
        assert!((f(mask) - 0.8).abs() < 0.01, "{}", f(mask));
        assert!((f(same) - 0.1).abs() < 0.01, "{}", f(same));
        assert!((f(other) - 0.1).abs() < 0.01, "{}", f(other));
    }

    #[test]
    fn every_row_gets_at_least_one() {
        let s = MaskStrategy::Random { prob: 1e-12 };
        let rs = rows(50, 3);
        let ex: Vec<Example<'_>> = rs.iter().map(|r| Example::new(r)).collect();
        let b = collator(s, 16, 17).collate(&ex, 0, 0).unwrap();
        assert_eq!(b.n_masked, 50);
        assert!((s.expected_masked(3, 0, true) - 1.0).abs() < 1e-9);
        assert!(s.expected_masked(3, 0, false) < 1e-9);
        let off = MaskCollator::builder(s, V)
            .at_least_one(false)
            .build()
            .unwrap();
        assert_eq!(off.collate(&ex, 0, 0).unwrap().n_masked, 0);
        // A fallback centre on k-mers masks a whole (clipped) span.
        let k = MaskStrategy::KmerSpan {
            k: 6,
            centre_prob: 1e-12,
        };
        let b = collator(k, 64, 18)
            .collate(&[Example::new(&rs[0])], 0, 0)
            .unwrap();
        assert_eq!(b.n_masked, 3);
    }

    #[test]
    fn random_tokens_skip_any_special_layout() {
        let sp = Specials {
            pad: 10,
            unk: 11,
            cls: 12,
            sep: 13,
            mask: 14,
        };
        let c = MaskCollator::builder(MaskStrategy::random(), 20)
            .specials(sp)
            .build()
            .unwrap();
        let got: Vec<u32> = (0..15).map(|d| c.skip_specials(d)).collect();
        assert_eq!(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19]);
    }

    #[test]
    fn truncation_rule() {
        assert_eq!(truncate(300, 99, 510), (300, 99));
        assert_eq!(truncate(300, 99, 398), (299, 99));
        assert_eq!(truncate(300, 99, 100), (75, 25));
        assert_eq!(truncate(0, 10, 4), (0, 4));
        assert_eq!(truncate(10, 0, 4), (4, 0));
        assert_eq!(truncate(1, 100, 10), (1, 9));
        assert_eq!(truncate(100, 1, 10), (9, 1));
    }

    proptest! {
        #[test]
        fn truncation_keeps_both_parts(first in 0usize..500, rest in 0usize..500, budget in 1usize..600) {
            let (f, r) = truncate(first, rest, budget);
            prop_assert!(f <= first && r <= rest);
            prop_assert_eq!(f + r, (first + rest).min(budget));
            if first > 0 && rest > 0 && budget >= 2 {
                prop_assert!(f >= 1 && r >= 1);
            }
        }

        /// Specials are never selected, labels are -100 exactly where
        /// nothing was selected, and unselected inputs are untouched.
        #[test]
        fn labels_and_specials(
            rows in proptest::collection::vec(proptest::collection::vec(0u32..40, 0..40), 1..6),
            firsts in proptest::collection::vec(0usize..40, 6),
            which in 0usize..3,
            seed: u64,
        ) {
            let strategy = [MaskStrategy::random(), MaskStrategy::KmerSpan { k: 6, centre_prob: 0.2 }, MaskStrategy::hybrid()][which];
            let c = MaskCollator::builder(strategy, 40).max_len(64).seed(seed).build().unwrap();
            let ex: Vec<Example<'_>> = rows.iter().zip(&firsts).map(|(r, &f)| Example::hybrid(r, f.min(r.len()))).collect();
            let b = c.collate(&ex, 1, 2).unwrap();
            let (mut masked, mut maskable) = (0, 0);
            for (r, row) in rows.iter().enumerate() {
                let at = r * b.seq_len;
                let framed: Vec<u32> = std::iter::once(2).chain(row.iter().copied()).chain([3]).collect();
                let mut row_masked = 0;
                for j in 0..b.seq_len {
                    let (inp, lab, att) = (b.input_ids[at + j], b.labels[at + j], b.attention_mask[at + j]);
                    let Some(&orig) = framed.get(j) else {
                        prop_assert_eq!((inp, lab, att), (0, IGNORE_INDEX, 0));
                        continue;
                    };
                    prop_assert_eq!(att, 1);
                    let special = orig < 5;
                    maskable += usize::from(!special);
                    if lab == IGNORE_INDEX {
                        prop_assert_eq!(inp, i64::from(orig));
                    } else {
                        prop_assert!(!special);
                        prop_assert_eq!(lab, i64::from(orig));
                        prop_assert!(inp == 4 || inp >= 5);
                        row_masked += 1;
                    }
                }
                if row.iter().any(|&i| i >= 5) {
                    prop_assert!(row_masked >= 1);
                }
                masked += row_masked;
            }
            prop_assert_eq!((b.n_masked, b.n_maskable), (masked, maskable));
        }
    }
}
