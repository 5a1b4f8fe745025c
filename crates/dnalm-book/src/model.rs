//! What the book needs from a language model and its tokenizer.
//!
//! The book's algorithms (boundaries, grouping, titles, the dictionary, the
//! evaluation) only ever ask these questions, so they are written and tested
//! against these traits; `dnalm-tasks::book` answers them with a GPT-2 and a
//! joint DNA + English BPE tokenizer.

use std::ops::Range;

use crate::Result;

/// One DNA token of a run of A/C/G/T, with the bases it covers, counted from
/// the start of the run (half-open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnaToken {
    pub id: u32,
    pub span: Range<usize>,
}

/// The tokenizer shared by DNA and English.
pub trait BookTokenizer {
    /// Number of token ids (ids are `0..vocab_size`).
    fn vocab_size(&self) -> usize;
    /// The text of a token id, `None` when out of range.
    fn token(&self, id: u32) -> Option<&str>;
    /// The id of a token text, `None` when it is not in the vocabulary.
    fn id(&self, token: &str) -> Option<u32>;
    /// Encodes one run of upper-case A/C/G/T (no N, no header) into tokens
    /// whose spans tile the run exactly.
    fn encode_dna(&self, run: &[u8]) -> Result<Vec<DnaToken>>;
    /// Encodes English text, normalised the way the model was trained.
    fn encode_text(&self, text: &str) -> Result<Vec<u32>>;
}

/// The causal language model.
pub trait BookLm {
    /// The longest sequence of token ids one call may hold.
    fn context_len(&self) -> usize;
    /// Width of the vectors [`BookLm::embed_mean`] returns.
    fn hidden_size(&self) -> usize;
    /// For each sequence, after every position `p`, the probability that the
    /// next token is each of `targets`: `out[seq][p][t]`. Sequences may differ
    /// in length; each is at most [`BookLm::context_len`] long.
    fn next_token_probs(&self, seqs: &[&[u32]], targets: &[u32]) -> Result<Vec<Vec<Vec<f32>>>>;
    /// The next-token logits after the last position of each sequence, over
    /// the whole vocabulary (used to generate titles).
    fn last_logits(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>>;
    /// The mean over positions of the last hidden layer, one vector per
    /// sequence (paragraph embeddings, and single tokens for the dictionary).
    fn embed_mean(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>>;
}

/// Where DNA words end and English words begin: a token of length >= 2 made
/// of A/C/G/T only is a DNA word (SPEC.md section 4).
pub fn is_dna_word(token: &str) -> bool {
    token.len() >= 2
        && token
            .bytes()
            .all(|b| matches!(b, b'A' | b'C' | b'G' | b'T'))
}

/// An English word: letters of the English alphabet only (lower case, as the
/// model sees English), at least one of them.
pub fn is_english_word(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dna_and_english_words_do_not_overlap() {
        assert!(is_dna_word("ACGT"));
        assert!(!is_dna_word("A"));
        assert!(!is_dna_word("ACGN"));
        assert!(is_english_word("the"));
        assert!(!is_english_word("The"));
        assert!(!is_english_word("ACGT"));
        assert!(!is_english_word(""));
    }
}
