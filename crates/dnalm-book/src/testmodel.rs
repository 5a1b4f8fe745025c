//! A small, honest tokenizer and language model for the tests of this crate:
//! a fixed vocabulary with greedy longest-match DNA encoding, and a "model"
//! whose hidden state is a fixed embedding per token, whose sequence
//! embedding is the mean of those rows and whose next-token distribution is
//! the softmax of dot products with the last token. Tests choose the
//! embeddings, so they know what the right answer is.

use std::collections::HashMap;

use crate::model::{BookLm, BookTokenizer, DnaToken};
use crate::{BookError, Result};

#[derive(Debug, Clone)]
pub struct TestTokenizer {
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
    longest_dna: usize,
}

impl TestTokenizer {
    /// The vocabulary in id order; single bases A, C, G, T are added when missing.
    pub fn new<S: AsRef<str>>(tokens: &[S]) -> Self {
        let mut list: Vec<String> = tokens.iter().map(|t| t.as_ref().to_string()).collect();
        for b in ["A", "C", "G", "T"] {
            if !list.iter().any(|t| t == b) {
                list.push(b.to_string());
            }
        }
        let ids = list
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let longest_dna = list
            .iter()
            .filter(|t| t.bytes().all(|b| b"ACGT".contains(&b)))
            .map(|t| t.len())
            .max()
            .unwrap_or(1);
        Self {
            tokens: list,
            ids,
            longest_dna,
        }
    }
}

impl BookTokenizer for TestTokenizer {
    fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    fn id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    fn encode_dna(&self, run: &[u8]) -> Result<Vec<DnaToken>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < run.len() {
            let mut found = None;
            for len in (1..=self.longest_dna.min(run.len() - i)).rev() {
                let piece = std::str::from_utf8(&run[i..i + len])
                    .map_err(|_| BookError::Data(format!("non-ASCII DNA at {i}")))?;
                if let Some(id) = self.id(piece) {
                    found = Some((id, len));
                    break;
                }
            }
            let (id, len) = found.ok_or_else(|| {
                BookError::Data(format!("base {:?} at {i} is not A/C/G/T", run[i] as char))
            })?;
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
                let w = w.to_lowercase();
                self.id(&w)
                    .ok_or_else(|| BookError::Data(format!("word {w:?} is not in the vocabulary")))
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct TestLm {
    /// One row per token id.
    pub table: Vec<Vec<f32>>,
    pub context: usize,
}

impl TestLm {
    fn row(&self, id: u32) -> Result<&[f32]> {
        self.table
            .get(id as usize)
            .map(Vec::as_slice)
            .ok_or_else(|| BookError::Backend(format!("token id {id} out of range")))
    }

    fn next_probs(&self, last: u32) -> Result<Vec<f32>> {
        let h = self.row(last)?;
        let logits: Vec<f32> = self
            .table
            .iter()
            .map(|r| r.iter().zip(h).map(|(a, b)| a * b).sum())
            .collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        Ok(exp.into_iter().map(|e| e / sum).collect())
    }
}

impl BookLm for TestLm {
    fn context_len(&self) -> usize {
        self.context
    }

    fn hidden_size(&self) -> usize {
        self.table.first().map_or(0, Vec::len)
    }

    fn next_token_probs(&self, seqs: &[&[u32]], targets: &[u32]) -> Result<Vec<Vec<Vec<f32>>>> {
        seqs.iter()
            .map(|s| {
                s.iter()
                    .map(|&id| {
                        let p = self.next_probs(id)?;
                        Ok(targets.iter().map(|&t| p[t as usize]).collect())
                    })
                    .collect()
            })
            .collect()
    }

    fn last_logits(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        seqs.iter()
            .map(|s| {
                let last = *s
                    .last()
                    .ok_or_else(|| BookError::Backend("empty sequence".into()))?;
                Ok(self.next_probs(last)?.iter().map(|p| p.ln()).collect())
            })
            .collect()
    }

    fn embed_mean(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        seqs.iter()
            .map(|s| {
                if s.is_empty() {
                    return Err(BookError::Backend("empty sequence".into()));
                }
                let mut out = vec![0f32; self.hidden_size()];
                for &id in s.iter() {
                    for (o, v) in out.iter_mut().zip(self.row(id)?) {
                        *o += v;
                    }
                }
                out.iter_mut().for_each(|o| *o /= s.len() as f32);
                Ok(out)
            })
            .collect()
    }
}
