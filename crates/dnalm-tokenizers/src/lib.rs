//! DNA tokenizers for dnalm.
//!
//! Owns the [`Tokenizer`] trait and every DNA tokenizer: overlapping and
//! non-overlapping k-mers, variable-length k-mers, byte-pair encoding (a
//! trainer that holds corpus statistics, and an immutable model), and the
//! hybrid k-mer + BPE scheme; vocabularies with the five special tokens;
//! Hugging Face `tokenizer.json` / `vocab.txt` import and export; token
//! statistics and tf-idf.
//!
//! Every encoder takes an upper-case A/C/G/T run. Splitting records at N and
//! IUPAC codes, upper-casing and windowing belong to `dnalm_seq`.
//!
//! ```
//! use dnalm_tokenizers::{KmerTokenizer, KmerOrder, Tokenizer};
//!
//! let tok = KmerTokenizer::new(3, KmerOrder::Lexicographic).unwrap();
//! let ids = tok.encode(b"ATGGCT").unwrap();
//! let words: Vec<&str> = ids.iter().map(|&i| tok.vocab().token(i).unwrap()).collect();
//! assert_eq!(words, ["ATG", "TGG", "GGC", "GCT"]);
//! assert_eq!(tok.decode(&ids).unwrap(), b"ATGGCT");
//! ```

pub mod bpe;
pub mod error;
pub mod hf;
pub mod hybrid;
pub mod kmer;
pub mod plot;
pub mod spec;
pub mod stats;
pub mod tfidf;
pub mod varkmer;
pub mod vocab;

pub use bpe::{BpeCorpus, BpeModel, BpeTrainer, BpeTraining, MergeStat};
pub use error::{Result, TokError};
pub use hybrid::{HybridParts, HybridTokenizer};
pub use kmer::{KmerOrder, KmerTokenizer, NonOverlappingKmerTokenizer};
pub use spec::{AnyTokenizer, TokenizerSpec};
pub use varkmer::VarKmerTokenizer;
pub use vocab::{Encoding, Framing, Specials, Vocab, SPECIAL_TOKENS};

/// A DNA tokenizer: an immutable, serialisable artefact that maps an
/// upper-case A/C/G/T sequence to token ids of its [`Vocab`] and back.
pub trait Tokenizer: Send + Sync + std::fmt::Debug {
    /// Short name of the scheme: `kmer`, `kmer-nonoverlap`, `varkmer`, `bpe`, `hybrid`.
    fn kind(&self) -> &'static str;

    fn vocab(&self) -> &Vocab;

    /// Append the ids of `seq` (no special tokens) to `out`.
    /// `seq` must be upper-case A/C/G/T only, or [`TokError::InvalidBase`].
    fn encode_into(&self, seq: &[u8], out: &mut Vec<u32>) -> Result<()>;

    /// The ids of `seq` (no special tokens).
    fn encode(&self, seq: &[u8]) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        self.encode_into(seq, &mut out)?;
        Ok(out)
    }

    /// The sequence the ids stand for; special tokens are skipped.
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>>;
}

/// 2-bit code of an upper-case base in A,C,G,T order, or `None`.
#[inline]
pub fn base_code(b: u8) -> Option<u8> {
    match b {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

/// Check that `seq` is upper-case A/C/G/T only.
pub fn check_acgt(seq: &[u8]) -> Result<()> {
    match seq.iter().position(|&b| base_code(b).is_none()) {
        None => Ok(()),
        Some(pos) => Err(TokError::InvalidBase {
            byte: seq[pos],
            pos,
        }),
    }
}
