//! Small, honest models behind the book's traits, for tests and examples: a
//! greedy longest-match tokenizer over a small DNA vocabulary and a
//! count-based bigram language model over token ids.
//!
//! They are real models, only small: the bigram model predicts `<p_end>`
//! after "TATA" because it counted `<p_end>` after "TATA" in its training
//! sequences, so a test that finds breaks after "TATA" checks the boundary
//! code, not a hard-coded answer.

use std::collections::HashMap;

use crate::model::{BookLm, BookTokenizer, DnaToken};
use crate::{BookError, Result};

/// Greedy longest-match tokenizer: ids 0.. are `<pad>`, `<p_end>`, `.`,
/// `A`, `C`, `G`, `T`, then the given words in order.
#[derive(Debug, Clone)]
pub struct GreedyTokenizer {
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
    longest: usize,
}

impl GreedyTokenizer {
    pub const PAD: u32 = 0;
    pub const P_END: u32 = 1;
    pub const DOT: u32 = 2;

    pub fn new(words: &[&str]) -> Self {
        let mut tokens: Vec<String> = ["<pad>", "<p_end>", ".", "A", "C", "G", "T"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for w in words {
            if !tokens.iter().any(|t| t == w) {
                tokens.push(w.to_string());
            }
        }
        let ids = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let longest = tokens.iter().map(|t| t.len()).max().unwrap_or(1);
        GreedyTokenizer {
            tokens,
            ids,
            longest,
        }
    }

    /// The text of an id (panics when out of range: test helper).
    pub fn text(&self, id: u32) -> &str {
        &self.tokens[id as usize]
    }

    /// Encodes a run and returns only the ids.
    pub fn ids_of(&self, run: &[u8]) -> Vec<u32> {
        self.encode_dna(run)
            .expect("A/C/G/T run")
            .into_iter()
            .map(|t| t.id)
            .collect()
    }
}

impl BookTokenizer for GreedyTokenizer {
    fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(|s| s.as_str())
    }

    fn id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    fn encode_dna(&self, run: &[u8]) -> Result<Vec<DnaToken>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < run.len() {
            let max = self.longest.min(run.len() - i);
            let found = (1..=max).rev().find_map(|len| {
                let s = std::str::from_utf8(&run[i..i + len]).ok()?;
                self.ids.get(s).map(|&id| (id, len))
            });
            let Some((id, len)) = found else {
                return Err(BookError::Data(format!(
                    "byte {:?} at {i} is not A/C/G/T",
                    char::from(run[i])
                )));
            };
            out.push(DnaToken {
                id,
                span: i..i + len,
            });
            i += len;
        }
        Ok(out)
    }

    fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        text.split_whitespace()
            .map(|w| {
                self.id(w)
                    .ok_or_else(|| BookError::Data(format!("unknown word {w:?}")))
            })
            .collect()
    }
}

/// A bigram model with add-`alpha` smoothing, counted from token sequences.
/// Its "hidden state" at a position is the one-hot vector of the token, so
/// [`BookLm::embed_mean`] is the sequence's token-frequency profile.
#[derive(Debug, Clone)]
pub struct BigramLm {
    vocab: usize,
    counts: Vec<Vec<f32>>,
    alpha: f32,
    context_len: usize,
}

impl BigramLm {
    pub fn train(vocab: usize, seqs: &[Vec<u32>], alpha: f32, context_len: usize) -> Self {
        let mut counts = vec![vec![0f32; vocab]; vocab];
        for s in seqs {
            for w in s.windows(2) {
                counts[w[0] as usize][w[1] as usize] += 1.0;
            }
        }
        BigramLm {
            vocab,
            counts,
            alpha,
            context_len,
        }
    }

    /// P(next | prev).
    pub fn prob(&self, prev: u32, next: u32) -> f32 {
        let row = &self.counts[prev as usize];
        let total: f32 = row.iter().sum();
        (row[next as usize] + self.alpha) / (total + self.alpha * self.vocab as f32)
    }

    fn check(&self, seq: &[u32]) -> Result<()> {
        if seq.len() > self.context_len {
            return Err(BookError::Backend(format!(
                "sequence of {} tokens is longer than the context ({})",
                seq.len(),
                self.context_len
            )));
        }
        match seq.iter().find(|&&id| id as usize >= self.vocab) {
            Some(id) => Err(BookError::Backend(format!("token id {id} out of range"))),
            None => Ok(()),
        }
    }
}

impl BookLm for BigramLm {
    fn context_len(&self) -> usize {
        self.context_len
    }

    fn hidden_size(&self) -> usize {
        self.vocab
    }

    fn next_token_probs(&self, seqs: &[&[u32]], targets: &[u32]) -> Result<Vec<Vec<Vec<f32>>>> {
        seqs.iter()
            .map(|s| {
                self.check(s)?;
                Ok(s.iter()
                    .map(|&p| targets.iter().map(|&t| self.prob(p, t)).collect())
                    .collect())
            })
            .collect()
    }

    fn last_logits(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        seqs.iter()
            .map(|s| {
                self.check(s)?;
                let last = *s
                    .last()
                    .ok_or_else(|| BookError::Backend("empty sequence".into()))?;
                Ok((0..self.vocab as u32)
                    .map(|t| self.prob(last, t).ln())
                    .collect())
            })
            .collect()
    }

    fn embed_mean(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        seqs.iter()
            .map(|s| {
                self.check(s)?;
                let mut v = vec![0f32; self.vocab];
                for &id in s.iter() {
                    v[id as usize] += 1.0 / s.len() as f32;
                }
                Ok(v)
            })
            .collect()
    }
}
