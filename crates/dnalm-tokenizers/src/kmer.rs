//! Fixed-length k-mer tokenizers: overlapping (DNABERT, stride 1) and
//! non-overlapping (Nucleotide Transformer, stride k).
//!
//! Both compute ids arithmetically from a rolling 2-bit code, so encoding
//! never looks a string up in the vocabulary.

use std::fmt;
use std::str::FromStr;

use crate::error::{Result, TokError};
use crate::vocab::{Vocab, SPECIAL_TOKENS};
use crate::Tokenizer;

/// Number of special tokens in front of every k-mer vocabulary.
const N_SPECIALS: u32 = SPECIAL_TOKENS.len() as u32;

/// Largest k: 4^12 = 16.8 M k-mers still fits comfortably in `u32` ids, and
/// the vocabulary (all k-mers as strings) stays under a few GB.
const MAX_K: usize = 12;

/// Marks a byte that is not an upper-case A/C/G/T in the lookup tables.
const INVALID: u8 = 4;

/// The order in which the four bases count as base-4 digits, which fixes the
/// order of the k-mers in the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KmerOrder {
    /// A, C, G, T: k-mers sorted alphabetically.
    #[default]
    Lexicographic,
    /// A, T, C, G: the order of DNABERT's published `vocab.txt`, so that ids
    /// match DNABERT checkpoints.
    Dnabert,
}

impl KmerOrder {
    /// The bases in digit order (digit 0 first).
    pub fn bases(self) -> [u8; 4] {
        match self {
            KmerOrder::Lexicographic => *b"ACGT",
            KmerOrder::Dnabert => *b"ATCG",
        }
    }

    /// Short name as accepted by [`FromStr`]: `lex` or `dnabert`.
    pub fn name(self) -> &'static str {
        match self {
            KmerOrder::Lexicographic => "lex",
            KmerOrder::Dnabert => "dnabert",
        }
    }

    /// Byte -> digit table; every other byte maps to [`INVALID`].
    fn digit_table(self) -> &'static [u8; 256] {
        match self {
            KmerOrder::Lexicographic => &LEX_TABLE,
            KmerOrder::Dnabert => &DNABERT_TABLE,
        }
    }
}

const fn make_digit_table(bases: [u8; 4]) -> [u8; 256] {
    let mut t = [INVALID; 256];
    let mut d = 0;
    while d < 4 {
        t[bases[d] as usize] = d as u8;
        d += 1;
    }
    t
}

static LEX_TABLE: [u8; 256] = make_digit_table(*b"ACGT");
static DNABERT_TABLE: [u8; 256] = make_digit_table(*b"ATCG");

impl fmt::Display for KmerOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KmerOrder {
    type Err = TokError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "lex" | "lexicographic" => Ok(KmerOrder::Lexicographic),
            "dnabert" => Ok(KmerOrder::Dnabert),
            _ => Err(TokError::Param(format!(
                "unknown k-mer order {s:?} (expected \"lex\" or \"dnabert\")"
            ))),
        }
    }
}

fn check_k(k: usize) -> Result<()> {
    if (1..=MAX_K).contains(&k) {
        Ok(())
    } else {
        Err(TokError::Param(format!(
            "k-mer length k = {k} is outside the allowed range 1..={MAX_K}"
        )))
    }
}

/// All 4^k k-mers, k-mer i spelling the base-4 digits of i (most
/// significant first) with `bases` as the digits.
pub(crate) fn all_kmers(k: usize, bases: [u8; 4]) -> impl Iterator<Item = String> {
    (0..1u64 << (2 * k)).map(move |rank| {
        (0..k)
            .rev()
            .map(|i| char::from(bases[((rank >> (2 * i)) & 3) as usize]))
            .collect()
    })
}

/// Output ids per block of [`encode_overlapping`]. Its three byte buffers
/// (1.5 kB) stay in L1 cache and are zeroed on every call: at 4096 ids
/// (12 kB) the zeroing took longer than encoding a 305-nt segment, and
/// segments ran at 0.7 GB/s on one thread instead of 1.7 (bench_bpe).
const BLOCK: usize = 512;

/// Ids of the overlapping k-mers of `seq` (upper-case A/C/G/T only, at least
/// k bases), appended to `out`.
///
/// A rolling 2-bit code is one serial chain of operations per base and
/// tops out near 0.8 GB/s on a 2 GHz core. Instead, per block: the digit of
/// every base, then the codes of every 2-mer and 4-mer (one byte each), and
/// each k-mer is assembled from at most four of those pieces. Every step is
/// an element-wise loop over byte slices, which the compiler vectorises.
fn encode_overlapping(seq: &[u8], k: usize, order: KmerOrder, out: &mut Vec<u32>) {
    let n_out = seq.len() + 1 - k;
    out.reserve(n_out);
    let mut d = [0u8; BLOCK + MAX_K];
    let mut p2 = [0u8; BLOCK + MAX_K];
    let mut p4 = [0u8; BLOCK + MAX_K];
    let mut start = 0;
    while start < n_out {
        let m = (n_out - start).min(BLOCK);
        let len = m + k - 1;
        let src = &seq[start..start + len];
        // Digits by arithmetic on the ASCII codes (A=0x41 C=0x43 G=0x47
        // T=0x54), valid because the input was checked: bits 1-2 give
        // A0 C1 G3 T2; xor with bits 2-3 gives A0 C1 G2 T3; swapping the two
        // bits of the first gives DNABERT's A0 T1 C2 G3.
        match order {
            KmerOrder::Lexicographic => {
                for (x, &b) in d.iter_mut().zip(src) {
                    *x = ((b >> 1) ^ (b >> 2)) & 3;
                }
            }
            KmerOrder::Dnabert => {
                for (x, &b) in d.iter_mut().zip(src) {
                    let y = (b >> 1) & 3;
                    *x = ((y & 1) << 1) | (y >> 1);
                }
            }
        }
        if k >= 2 {
            let l = len - 1;
            for (x, (a, b)) in p2[..l].iter_mut().zip(d[..l].iter().zip(&d[1..=l])) {
                *x = (a << 2) | b;
            }
        }
        if k >= 4 {
            let l = len - 3;
            for (x, (a, b)) in p4[..l].iter_mut().zip(p2[..l].iter().zip(&p2[2..l + 2])) {
                *x = (a << 4) | b;
            }
        }
        // The k-mer at i = 4-mers at i, i+4, ..., then a 2-mer and/or a base.
        let mut pieces: [(&[u8], u32); 4] = [(&[], 0); 4];
        let mut n_pieces = 0;
        let mut covered = 0;
        let widths = std::iter::repeat_n(4, k / 4)
            .chain((k % 4 >= 2).then_some(2))
            .chain((k % 2 == 1).then_some(1));
        for width in widths {
            let codes: &[u8] = match width {
                4 => &p4,
                2 => &p2,
                _ => &d,
            };
            pieces[n_pieces] = (
                &codes[covered..covered + m],
                2 * (k - covered - width) as u32,
            );
            covered += width;
            n_pieces += 1;
        }
        let [(a, sa), (b, sb), (c, sc), (e, se)] = pieces;
        let w = |x: u8, s: u32| u32::from(x) << s;
        match n_pieces {
            1 => out.extend(a.iter().map(|&x| N_SPECIALS + w(x, sa))),
            2 => out.extend(
                a.iter()
                    .zip(b)
                    .map(|(&x, &y)| N_SPECIALS + (w(x, sa) | w(y, sb))),
            ),
            3 => out.extend(
                a.iter()
                    .zip(b)
                    .zip(c)
                    .map(|((&x, &y), &z)| N_SPECIALS + (w(x, sa) | w(y, sb) | w(z, sc))),
            ),
            _ => out.extend(a.iter().zip(b).zip(c).zip(e).map(|(((&x, &y), &z), &v)| {
                N_SPECIALS + (w(x, sa) | w(y, sb) | w(z, sc) | w(v, se))
            })),
        }
        start += m;
    }
}

/// Whether every byte is an upper-case A/C/G/T, without a branch per byte.
fn all_acgt(seq: &[u8]) -> bool {
    seq.chunks(256).all(|chunk| {
        chunk.iter().fold(0u8, |bad, &b| {
            bad | u8::from(b != b'A' && b != b'C' && b != b'G' && b != b'T')
        }) == 0
    })
}

/// First position in `seq` whose byte the table marks invalid.
fn invalid_base(seq: &[u8], table: &[u8; 256]) -> TokError {
    let pos = seq
        .iter()
        .position(|&b| table[b as usize] == INVALID)
        .unwrap_or(0);
    TokError::InvalidBase {
        byte: seq.get(pos).copied().unwrap_or(0),
        pos,
    }
}

/// Overlapping k-mers with stride 1, as DNABERT: a sequence of length n gives
/// n - k + 1 tokens. Vocabulary: the five specials, then all 4^k k-mers in
/// [`KmerOrder`], so a k-mer's id is 5 + its rank.
#[derive(Clone)]
pub struct KmerTokenizer {
    k: usize,
    order: KmerOrder,
    vocab: Vocab,
}

impl fmt::Debug for KmerTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmerTokenizer")
            .field("k", &self.k)
            .field("order", &self.order)
            .field("vocab_len", &self.vocab.len())
            .finish()
    }
}

impl KmerTokenizer {
    /// A tokenizer for k in 1..=12. The vocabulary holds every k-mer as a
    /// string, so large k costs memory (k = 12: 16.8 M strings).
    pub fn new(k: usize, order: KmerOrder) -> Result<Self> {
        check_k(k)?;
        let vocab = Vocab::with_specials(all_kmers(k, order.bases()))?;
        Ok(KmerTokenizer { k, order, vocab })
    }

    /// The k-mer length.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The digit order of the vocabulary.
    pub fn order(&self) -> KmerOrder {
        self.order
    }

    /// The id of one k-mer, or `None` if it has the wrong length or a byte
    /// other than upper-case A/C/G/T.
    pub fn kmer_id(&self, kmer: &[u8]) -> Option<u32> {
        if kmer.len() != self.k {
            return None;
        }
        let mut code = 0u32;
        for &b in kmer {
            let d = self.order.digit_table()[b as usize];
            if d == INVALID {
                return None;
            }
            code = (code << 2) | u32::from(d);
        }
        Some(N_SPECIALS + code)
    }
}

impl Tokenizer for KmerTokenizer {
    fn kind(&self) -> &'static str {
        "kmer"
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// On error `out` is left as it was.
    fn encode_into(&self, seq: &[u8], out: &mut Vec<u32>) -> Result<()> {
        let k = self.k;
        if seq.len() < k {
            return Err(TokError::Param(format!(
                "sequence of length {} is shorter than k = {k}",
                seq.len()
            )));
        }
        // Validate first in a branch-free pass the compiler vectorises, so
        // the encoder below carries no validity bookkeeping.
        if !all_acgt(seq) {
            return Err(invalid_base(seq, self.order.digit_table()));
        }
        encode_overlapping(seq, k, self.order, out);
        Ok(())
    }

    /// DNABERT's kmer2seq: the first k-mer, then the last base of each later
    /// one. Consecutive k-mers must overlap by k - 1 bases.
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let k = self.k;
        let bases = self.order.bases();
        let n_kmers = 1u32 << (2 * k);
        let suffix_mask = (1u32 << (2 * (k - 1))) - 1;
        let mut out = Vec::with_capacity(ids.len() + k);
        let mut prev: Option<u32> = None;
        for (pos, &id) in ids.iter().enumerate() {
            if self.vocab.is_special(id) {
                continue;
            }
            let code = match id.checked_sub(N_SPECIALS) {
                Some(c) if c < n_kmers => c,
                _ => {
                    return Err(TokError::UnknownId {
                        id,
                        size: self.vocab.len(),
                    })
                }
            };
            match prev {
                None => out.extend(
                    (0..k)
                        .rev()
                        .map(|i| bases[((code >> (2 * i)) & 3) as usize]),
                ),
                Some(p) => {
                    if p & suffix_mask != code >> 2 {
                        return Err(TokError::Decode(format!(
                            "k-mer {} at position {pos} does not overlap the k-mer before it ({}) by {} bases",
                            self.vocab.token(id)?,
                            self.vocab.token(N_SPECIALS + p)?,
                            k - 1
                        )));
                    }
                    out.push(bases[(code & 3) as usize]);
                }
            }
            prev = Some(code);
        }
        Ok(out)
    }
}

/// Non-overlapping k-mers with stride k (Nucleotide Transformer style); the
/// last `len % k` bases become single-base tokens so every base is kept.
/// Vocabulary: the five specials, the 4^k k-mers in lexicographic order, then
/// (for k > 1) the single bases A, C, G, T.
#[derive(Clone)]
pub struct NonOverlappingKmerTokenizer {
    k: usize,
    vocab: Vocab,
}

impl fmt::Debug for NonOverlappingKmerTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonOverlappingKmerTokenizer")
            .field("k", &self.k)
            .field("vocab_len", &self.vocab.len())
            .finish()
    }
}

impl NonOverlappingKmerTokenizer {
    /// A tokenizer for k in 1..=12.
    pub fn new(k: usize) -> Result<Self> {
        check_k(k)?;
        let bases = KmerOrder::Lexicographic.bases();
        let singles = (k > 1)
            .then(|| bases.iter().map(|&b| char::from(b).to_string()))
            .into_iter()
            .flatten();
        let vocab = Vocab::with_specials(all_kmers(k, bases).chain(singles))?;
        Ok(NonOverlappingKmerTokenizer { k, vocab })
    }

    /// The k-mer length.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Id of the single-base token with the given digit.
    fn single_base_id(&self, digit: u8) -> u32 {
        if self.k == 1 {
            N_SPECIALS + u32::from(digit)
        } else {
            N_SPECIALS + (1u32 << (2 * self.k)) + u32::from(digit)
        }
    }
}

impl Tokenizer for NonOverlappingKmerTokenizer {
    fn kind(&self) -> &'static str {
        "kmer-nonoverlap"
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// On error `out` is left as it was. An empty sequence gives no ids.
    fn encode_into(&self, seq: &[u8], out: &mut Vec<u32>) -> Result<()> {
        let k = self.k;
        let table = KmerOrder::Lexicographic.digit_table();
        let chunks = seq.chunks_exact(k);
        let tail = chunks.remainder();
        out.reserve(seq.len() / k + tail.len());
        let start = out.len();
        // OR of every looked-up digit: only INVALID sets that bit, so one
        // check at the end replaces a branch per base (an invalid byte
        // garbles its id, but then the call fails and the ids are dropped).
        let mut bad = 0u8;
        out.extend(chunks.map(|chunk| {
            let code = chunk.iter().fold(0u32, |c, &b| {
                let d = table[b as usize];
                bad |= d;
                c.wrapping_mul(4).wrapping_add(u32::from(d))
            });
            N_SPECIALS + code
        }));
        for &b in tail {
            let d = table[b as usize];
            bad |= d;
            out.push(self.single_base_id(d & 3));
        }
        if bad & INVALID != 0 {
            out.truncate(start);
            return Err(invalid_base(seq, table));
        }
        Ok(())
    }

    /// Concatenation of the tokens; special tokens are skipped.
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * self.k);
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

    fn words(tok: &dyn Tokenizer, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&i| tok.vocab().token(i).unwrap().to_string())
            .collect()
    }

    #[test]
    fn spec_example_k3() {
        let tok = KmerTokenizer::new(3, KmerOrder::Lexicographic).unwrap();
        let ids = tok.encode(b"ATGGCT").unwrap();
        assert_eq!(words(&tok, &ids), ["ATG", "TGG", "GGC", "GCT"]);
        assert_eq!(tok.decode(&ids).unwrap(), b"ATGGCT");
        assert_eq!(tok.vocab().len(), 5 + 64);
        assert_eq!(tok.kind(), "kmer");
    }

    #[test]
    fn ids_are_rank_plus_five_in_both_orders() {
        let lex = KmerTokenizer::new(2, KmerOrder::Lexicographic).unwrap();
        let dnab = KmerTokenizer::new(2, KmerOrder::Dnabert).unwrap();
        assert_eq!(lex.kmer_id(b"AA"), Some(5));
        assert_eq!(lex.kmer_id(b"AC"), Some(6));
        assert_eq!(lex.kmer_id(b"TT"), Some(20));
        assert_eq!(dnab.kmer_id(b"AT"), Some(6));
        assert_eq!(dnab.kmer_id(b"AC"), Some(7));
        assert_eq!(dnab.kmer_id(b"GG"), Some(20));
        for tok in [&lex, &dnab] {
            for id in 5..tok.vocab().len() as u32 {
                let t = tok.vocab().token(id).unwrap();
                assert_eq!(tok.kmer_id(t.as_bytes()), Some(id), "{t}");
            }
        }
        assert_eq!(lex.kmer_id(b"A"), None);
        assert_eq!(lex.kmer_id(b"AN"), None);
        assert_eq!(lex.kmer_id(b"ac"), None);
    }

    #[test]
    fn dnabert_order_first_tokens() {
        let tok = KmerTokenizer::new(3, KmerOrder::Dnabert).unwrap();
        let first: Vec<&str> = tok.vocab().tokens()[..13]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(
            first,
            [
                "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "AAA", "AAT", "AAC", "AAG", "ATA",
                "ATT", "ATC", "ATG"
            ]
        );
        assert_eq!(tok.vocab().tokens().last().unwrap(), "GGG");
    }

    #[test]
    fn bad_parameters_and_input() {
        for k in [0, 13] {
            let err = KmerTokenizer::new(k, KmerOrder::Lexicographic).unwrap_err();
            assert!(err.to_string().contains("1..=12"), "{err}");
            assert!(NonOverlappingKmerTokenizer::new(k).is_err());
        }
        let tok = KmerTokenizer::new(4, KmerOrder::Lexicographic).unwrap();
        let err = tok.encode(b"ACG").unwrap_err();
        assert!(err.to_string().contains("length 3"), "{err}");
        let mut out = vec![99];
        let err = tok.encode_into(b"ACGTNACGT", &mut out).unwrap_err();
        assert!(
            matches!(err, TokError::InvalidBase { byte: b'N', pos: 4 }),
            "{err}"
        );
        assert_eq!(out, vec![99], "output left untouched on error");
        assert!(matches!(
            tok.encode(b"acgt").unwrap_err(),
            TokError::InvalidBase { byte: b'a', pos: 0 }
        ));
        assert!("xyz".parse::<KmerOrder>().is_err());
        assert_eq!("dnabert".parse::<KmerOrder>().unwrap(), KmerOrder::Dnabert);
        assert_eq!(
            "lex".parse::<KmerOrder>().unwrap(),
            KmerOrder::Lexicographic
        );
    }

    #[test]
    fn decode_rejects_inconsistent_overlap_and_skips_specials() {
        let tok = KmerTokenizer::new(3, KmerOrder::Lexicographic).unwrap();
        let atg = tok.kmer_id(b"ATG").unwrap();
        let tgg = tok.kmer_id(b"TGG").unwrap();
        let ccc = tok.kmer_id(b"CCC").unwrap();
        assert_eq!(tok.decode(&[2, atg, tgg, 3, 0]).unwrap(), b"ATGG");
        let err = tok.decode(&[atg, tgg, ccc]).unwrap_err();
        assert!(matches!(err, TokError::Decode(_)));
        assert!(err.to_string().contains("position 2"), "{err}");
        assert!(matches!(
            tok.decode(&[69]).unwrap_err(),
            TokError::UnknownId { id: 69, .. }
        ));
        assert_eq!(tok.decode(&[]).unwrap(), b"");
    }

    #[test]
    fn nonoverlapping_tail_and_vocab() {
        let tok = NonOverlappingKmerTokenizer::new(3).unwrap();
        assert_eq!(tok.vocab().len(), 5 + 64 + 4);
        assert_eq!(tok.kind(), "kmer-nonoverlap");
        let ids = tok.encode(b"ATGGCTAC").unwrap();
        assert_eq!(words(&tok, &ids), ["ATG", "GCT", "A", "C"]);
        assert_eq!(tok.decode(&ids).unwrap(), b"ATGGCTAC");
        assert_eq!(tok.encode(b"").unwrap(), Vec::<u32>::new());
        let one = NonOverlappingKmerTokenizer::new(1).unwrap();
        assert_eq!(one.vocab().len(), 9);
        assert_eq!(words(&one, &one.encode(b"GAT").unwrap()), ["G", "A", "T"]);
        let mut out = Vec::new();
        assert!(matches!(
            tok.encode_into(b"ATGGCTAN", &mut out).unwrap_err(),
            TokError::InvalidBase { byte: b'N', pos: 7 }
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn block_encoder_matches_naive_codes_for_every_k() {
        // Lengths around the block size, so k-mers straddle block edges.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let seq: Vec<u8> = (0..3 * BLOCK + 17)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b"ACGT"[(state >> 40) as usize & 3]
            })
            .collect();
        for order in [KmerOrder::Lexicographic, KmerOrder::Dnabert] {
            let table = order.digit_table();
            for k in 1..=MAX_K {
                for len in [k, k + 1, BLOCK + k - 1, BLOCK + k, 2 * BLOCK + 3, seq.len()] {
                    let s = &seq[..len];
                    let mut got = vec![7];
                    encode_overlapping(s, k, order, &mut got);
                    let want: Vec<u32> = std::iter::once(7)
                        .chain(s.windows(k).map(|w| {
                            N_SPECIALS
                                + w.iter()
                                    .fold(0, |c, &b| (c << 2) | u32::from(table[b as usize]))
                        }))
                        .collect();
                    assert_eq!(got, want, "k={k} len={len} {order}");
                }
            }
        }
    }

    fn acgt(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(b"ACGT".to_vec()), 0..max)
    }

    proptest! {
        #[test]
        fn kmer_count_and_roundtrip(seq in acgt(300), k in 1usize..=8, dnabert in any::<bool>()) {
            let order = if dnabert { KmerOrder::Dnabert } else { KmerOrder::Lexicographic };
            let tok = KmerTokenizer::new(k, order).unwrap();
            match tok.encode(&seq) {
                Ok(ids) => {
                    prop_assert_eq!(ids.len(), seq.len() - k + 1);
                    for (i, &id) in ids.iter().enumerate() {
                        prop_assert_eq!(tok.vocab().token(id).unwrap().as_bytes(), &seq[i..i + k]);
                    }
                    prop_assert_eq!(tok.decode(&ids).unwrap(), seq);
                }
                Err(_) => prop_assert!(seq.len() < k),
            }
        }

        #[test]
        fn nonoverlapping_roundtrip(seq in acgt(300), k in 1usize..=8) {
            let tok = NonOverlappingKmerTokenizer::new(k).unwrap();
            let ids = tok.encode(&seq).unwrap();
            prop_assert_eq!(ids.len(), seq.len() / k + seq.len() % k);
            prop_assert_eq!(tok.decode(&ids).unwrap(), seq);
        }

        #[test]
        fn invalid_byte_is_reported_where_it_is(seq in acgt(100), at in any::<prop::sample::Index>(), bad in any::<u8>()) {
            prop_assume!(!b"ACGT".contains(&bad) && !seq.is_empty());
            let mut seq = seq;
            let pos = at.index(seq.len());
            seq[pos] = bad;
            let tok = KmerTokenizer::new(1, KmerOrder::Lexicographic).unwrap();
            let err = tok.encode(&seq).unwrap_err();
            let reported = matches!(err, TokError::InvalidBase { byte, pos: p } if byte == bad && p == pos);
            prop_assert!(reported);
        }
    }
}
