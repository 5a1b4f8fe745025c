//! Variable-length k-mers (DNAVec): non-overlapping tokens whose lengths are
//! drawn at random, seeded per sequence.

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Result, TokError};
use crate::kmer::{all_kmers, KmerOrder};
use crate::vocab::{Vocab, SPECIAL_TOKENS};
use crate::Tokenizer;

/// Largest allowed `max_k`: 4 + 16 + ... + 4^10 = 1.4 M tokens.
const MAX_K: usize = 10;

/// Variable-length k-mer tokenizer (DNAVec).
///
/// Vocabulary: the five specials, then every k-mer for k in
/// `min_k..=max_k`, ordered by length and then lexicographically (A,C,G,T).
/// For the defaults 3..=8 that is 87,365 tokens.
///
/// Encoding walks the sequence left to right without overlap. At each token
/// it draws k uniformly from the lengths that still let the rest of the
/// sequence be covered exactly: k <= remaining, and the remainder after
/// taking k is 0 or a length that some run of `min_k..=max_k` tokens can
/// fill. Whenever `max_k >= 2 * min_k - 1` (the defaults included) any
/// length >= `min_k` can be filled, so the rule reads simply "the remainder
/// is 0 or at least `min_k`"; with narrower ranges (say 4..=4) some lengths
/// cannot be covered at all and encoding them is an error.
///
/// Randomness: each sequence gets its own `ChaCha8Rng`, seeded from the
/// tokenizer seed mixed with a stable 64-bit hash (FNV-1a) of the sequence
/// bytes. A sequence therefore always gets the same tokens for the same seed,
/// whatever order sequences are encoded in and on however many threads,
/// which keeps parallel corpus building reproducible. The price: identical
/// copies of a sequence are always cut identically.
#[derive(Clone)]
pub struct VarKmerTokenizer {
    min_k: usize,
    max_k: usize,
    seed: u64,
    /// Id of the first k-mer of length `min_k + i`.
    offsets: Vec<u32>,
    vocab: Vocab,
}

impl fmt::Debug for VarKmerTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VarKmerTokenizer")
            .field("min_k", &self.min_k)
            .field("max_k", &self.max_k)
            .field("seed", &self.seed)
            .field("vocab_len", &self.vocab.len())
            .finish()
    }
}

impl VarKmerTokenizer {
    /// The published shortest token length.
    pub const DEFAULT_MIN_K: usize = 3;
    /// The published longest token length.
    pub const DEFAULT_MAX_K: usize = 8;

    /// A tokenizer for token lengths `min_k..=max_k`, with
    /// 1 <= `min_k` <= `max_k` <= 10.
    pub fn new(min_k: usize, max_k: usize, seed: u64) -> Result<Self> {
        if !(1 <= min_k && min_k <= max_k && max_k <= MAX_K) {
            return Err(TokError::Param(format!(
                "variable k-mer lengths {min_k}..={max_k} are invalid: need 1 <= min_k <= max_k <= {MAX_K}"
            )));
        }
        let mut offsets = Vec::with_capacity(max_k - min_k + 1);
        let mut next = SPECIAL_TOKENS.len() as u32;
        for k in min_k..=max_k {
            offsets.push(next);
            next += 1u32 << (2 * k);
        }
        let bases = KmerOrder::Lexicographic.bases();
        let vocab = Vocab::with_specials((min_k..=max_k).flat_map(|k| all_kmers(k, bases)))?;
        Ok(VarKmerTokenizer {
            min_k,
            max_k,
            seed,
            offsets,
            vocab,
        })
    }

    /// Shortest token length.
    pub fn min_k(&self) -> usize {
        self.min_k
    }

    /// Longest token length.
    pub fn max_k(&self) -> usize {
        self.max_k
    }

    /// The seed every per-sequence generator is derived from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether `len` bases can be cut exactly into tokens of
    /// `min_k..=max_k`: m tokens cover any length in [m*min_k, m*max_k], and
    /// the fewest tokens that could reach `len` is ceil(len / max_k).
    fn coverable(&self, len: usize) -> bool {
        len == 0 || len.div_ceil(self.max_k) * self.min_k <= len
    }

    /// The seed of the generator for one sequence.
    fn sequence_seed(&self, seq: &[u8]) -> u64 {
        splitmix64(self.seed ^ splitmix64(fnv1a64(seq)))
    }
}

/// FNV-1a, 64 bit: stable across platforms and releases, unlike std's hasher.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64 finaliser: spreads every input bit over the output.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Tokenizer for VarKmerTokenizer {
    fn kind(&self) -> &'static str {
        "varkmer"
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// On error `out` is left as it was.
    fn encode_into(&self, seq: &[u8], out: &mut Vec<u32>) -> Result<()> {
        let n = seq.len();
        if n < self.min_k {
            return Err(TokError::Param(format!(
                "sequence of length {n} is shorter than the shortest token length {}",
                self.min_k
            )));
        }
        if !self.coverable(n) {
            return Err(TokError::Param(format!(
                "a sequence of length {n} cannot be cut exactly into tokens of length {}..={}",
                self.min_k, self.max_k
            )));
        }
        crate::check_acgt(seq)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.sequence_seed(seq));
        out.reserve(n / self.min_k);
        let mut allowed = [0usize; MAX_K];
        let mut pos = 0;
        while pos < n {
            let rem = n - pos;
            let mut n_allowed = 0;
            for k in self.min_k..=self.max_k.min(rem) {
                if self.coverable(rem - k) {
                    allowed[n_allowed] = k;
                    n_allowed += 1;
                }
            }
            // `rem` is coverable, so the first token of any exact cover of it
            // is allowed; an empty set would mean a bug in `coverable`.
            if n_allowed == 0 {
                return Err(TokError::Param(format!(
                    "no token length fits the {rem} bases left at position {pos}"
                )));
            }
            let k = allowed[rng.random_range(0..n_allowed)];
            let code = seq[pos..pos + k].iter().fold(0u32, |c, &b| {
                (c << 2) | u32::from(crate::base_code(b).unwrap_or(0))
            });
            out.push(self.offsets[k - self.min_k] + code);
            pos += k;
        }
        Ok(())
    }

    /// Concatenation of the tokens; special tokens are skipped.
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for &id in ids {
            if !self.vocab.is_special(id) {
                out.extend_from_slice(self.vocab.token(id)?.as_bytes());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    // Both globs export a `Rng`; name the one the generator uses.
    use rand::Rng;

    /// A reproducible pseudo-random A/C/G/T sequence.
    fn random_dna(n: usize, seed: u64) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| b"ACGT"[rng.random_range(0..4)]).collect()
    }

    fn lengths(tok: &VarKmerTokenizer, ids: &[u32]) -> Vec<usize> {
        ids.iter()
            .map(|&i| tok.vocab().token(i).unwrap().len())
            .collect()
    }

    #[test]
    fn default_vocab_size_and_order() {
        let tok = VarKmerTokenizer::new(3, 8, 0).unwrap();
        assert_eq!(tok.vocab().len(), 87_365);
        assert_eq!(tok.kind(), "varkmer");
        let v = tok.vocab();
        assert_eq!(v.token(5).unwrap(), "AAA");
        assert_eq!(v.token(5 + 63).unwrap(), "TTT");
        assert_eq!(v.token(5 + 64).unwrap(), "AAAA");
        assert_eq!(v.tokens().last().unwrap(), "TTTTTTTT");
        // Ids computed during encoding agree with the vocabulary strings.
        let seq = random_dna(500, 1);
        let ids = tok.encode(&seq).unwrap();
        let mut pos = 0;
        for &id in &ids {
            let t = v.token(id).unwrap();
            assert_eq!(t.as_bytes(), &seq[pos..pos + t.len()]);
            pos += t.len();
        }
        assert_eq!(pos, seq.len());
    }

    #[test]
    fn lengths_are_drawn_uniformly_in_the_interior() {
        let tok = VarKmerTokenizer::new(3, 8, 7).unwrap();
        let seq = random_dna(200_000, 2);
        let ids = tok.encode(&seq).unwrap();
        let mut counts = [0usize; 9];
        for l in lengths(&tok, &ids) {
            counts[l] += 1;
        }
        let mean = ids.len() as f64 / 6.0;
        for (k, &c) in counts.iter().enumerate().skip(3) {
            let dev = (c as f64 - mean).abs() / mean;
            assert!(dev < 0.05, "k={k}: {c} tokens vs mean {mean:.0}");
        }
    }

    #[test]
    fn seeds_and_sequences_change_the_cut() {
        let seq = random_dna(1000, 3);
        let a = VarKmerTokenizer::new(3, 8, 1).unwrap();
        let b = VarKmerTokenizer::new(3, 8, 2).unwrap();
        assert_ne!(a.encode(&seq).unwrap(), b.encode(&seq).unwrap());
        // Encoding other sequences first does not change the result.
        let first = a.encode(&seq).unwrap();
        a.encode(&random_dna(700, 4)).unwrap();
        assert_eq!(a.encode(&seq).unwrap(), first);
    }

    #[test]
    fn bad_parameters_and_uncoverable_lengths() {
        for (lo, hi) in [(0, 3), (4, 3), (3, 11)] {
            let err = VarKmerTokenizer::new(lo, hi, 0).unwrap_err();
            assert!(
                err.to_string().contains("1 <= min_k <= max_k <= 10"),
                "{err}"
            );
        }
        let tok = VarKmerTokenizer::new(3, 8, 0).unwrap();
        assert!(tok.encode(b"AC").is_err());
        assert!(matches!(
            tok.encode(b"ACGTNA").unwrap_err(),
            TokError::InvalidBase { byte: b'N', pos: 4 }
        ));
        let narrow = VarKmerTokenizer::new(3, 4, 0).unwrap();
        assert!(
            narrow.encode(b"ACGTA").is_err(),
            "5 is not a sum of 3s and 4s"
        );
        assert_eq!(
            lengths(&narrow, &narrow.encode(b"ACGTACG").unwrap())
                .iter()
                .sum::<usize>(),
            7
        );
        let fixed = VarKmerTokenizer::new(4, 4, 0).unwrap();
        assert_eq!(fixed.encode(b"ACGTACGT").unwrap().len(), 2);
        assert!(fixed.encode(b"ACGTACGTA").is_err());
        assert!(tok.decode(&[87_365]).is_err());
    }

    fn acgt(lo: usize, hi: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(b"ACGT".to_vec()), lo..hi)
    }

    proptest! {
        #[test]
        fn tokens_cover_the_input(seq in acgt(3, 400), seed in any::<u64>()) {
            let tok = VarKmerTokenizer::new(3, 8, seed).unwrap();
            let ids = tok.encode(&seq).unwrap();
            for l in lengths(&tok, &ids) {
                prop_assert!((3..=8).contains(&l));
            }
            prop_assert_eq!(tok.decode(&ids).unwrap(), seq.clone());
            let again = VarKmerTokenizer::new(3, 8, seed).unwrap();
            prop_assert_eq!(again.encode(&seq).unwrap(), ids);
        }

        #[test]
        fn any_range_covers_every_coverable_length(seq in acgt(1, 120), lo in 1usize..=4, extra in 0usize..=3, seed in any::<u64>()) {
            let tok = VarKmerTokenizer::new(lo, lo + extra, seed).unwrap();
            // Brute force: which lengths are sums of tokens in lo..=lo+extra.
            let mut ok = vec![false; seq.len() + 1];
            ok[0] = true;
            for n in 1..=seq.len() {
                ok[n] = (lo..=lo + extra).any(|k| k <= n && ok[n - k]);
            }
            match tok.encode(&seq) {
                Ok(ids) => {
                    prop_assert!(ok[seq.len()]);
                    for l in lengths(&tok, &ids) {
                        prop_assert!((lo..=lo + extra).contains(&l));
                    }
                    prop_assert_eq!(tok.decode(&ids).unwrap(), seq);
                }
                Err(_) => prop_assert!(!ok[seq.len()]),
            }
        }
    }
}
