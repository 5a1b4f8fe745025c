//! A small, honest language model for tests that need chosen embeddings
//! (the dictionary): its hidden state is a fixed vector per token, its
//! sequence embedding the mean of those rows and its next-token distribution
//! the softmax of dot products with the last token. (The count-based models
//! of [`crate::testing`] have one-hot embeddings, too orthogonal for cosine
//! neighbours.)

use crate::model::BookLm;
use crate::{BookError, Result};

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
