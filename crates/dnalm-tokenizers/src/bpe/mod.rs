//! Byte-pair encoding on DNA, GROVER style.
//!
//! Training starts from the four bases as tokens. Each cycle counts every
//! adjacent token pair over the corpus, merges the most frequent pair into a
//! new token everywhere (left to right), and adds the token to the
//! vocabulary. Merges never cross a segment boundary (one corpus line, or one
//! A/C/G/T run: callers split at N and IUPAC codes first).
//!
//! Rules, fixed so that results are reproducible:
//! - **Tie-break.** Among pairs with the same count, the pair whose left
//!   token has the smaller id wins, then the smaller right id. Ids follow
//!   creation order (A < C < G < T < first merge < second merge ...), so
//!   older tokens win ties.
//! - **Counts.** A pair's count is its number of adjacent occurrences (as
//!   Hugging Face and sentencepiece count); for a pair of equal tokens in a
//!   run (`AAA`) this overcounts what can be merged, so every merge also
//!   records how many merges it really applied.
//! - **Unique tokens.** A pair whose concatenation already exists as a token
//!   (say `A`+`AT` after `AA`+`T` made `AAT`) is skipped for good and left
//!   unmerged. Every merge therefore creates a new token, the vocabulary is
//!   4 + N tokens (+ 5 specials), and encoding by merge rank, in dnalm and in
//!   Hugging Face `tokenizers`, reproduces the trainer's own segmentation.
//! - **Running out.** Asking for more merges than the corpus allows (no pair
//!   left) is an error that says how many were possible.

mod backtrack;
mod chunk;
mod counts;
mod model;
#[cfg(test)]
mod reference;
mod shard;
mod trainer;

pub use model::BpeModel;
pub use trainer::{BpeCorpus, BpeTrainer, BpeTraining, MergeStat};

/// Id of the first base token (`A`) in every BPE vocabulary dnalm builds:
/// the five specials come first.
pub(crate) const FIRST_BASE_ID: u32 = 5;
