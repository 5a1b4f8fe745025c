//! Attention maps of one sequence: every layer and head of a model, with
//! the tokens and the bases each covers; the [CLS]-to-token scores DNABERT's
//! motif analysis reads, spread to nucleotides; and the attention each token
//! receives (the DNAVec tf-idf check).

use std::ops::Range;

use dnalm_model::Device;
use serde::Serialize;

use crate::error::Result;
use crate::infer::{run_rows, RowStates};
use crate::model::TaskModel;
use crate::spans::per_base;
use crate::vectors::framed;

/// Attention probabilities `[layers, heads, len, len]` of one framed
/// sequence (`[CLS] tokens [SEP]`): row = query, column = key.
#[derive(Debug, Clone)]
pub struct AttentionMaps {
    pub name: String,
    pub seq: Vec<u8>,
    pub tokens: Vec<String>,
    /// Bases each token covers (empty for [CLS] and [SEP]).
    pub spans: Vec<Range<usize>>,
    pub layers: usize,
    pub heads: usize,
    pub len: usize,
    pub data: Vec<f32>,
}

/// What the JSON beside the `.npy` holds (the matrix itself is in the `.npy`).
#[derive(Debug, Serialize)]
pub struct AttentionInfo<'a> {
    pub name: &'a str,
    pub sequence: String,
    pub tokens: &'a [String],
    /// `[start, end)` of each token in the sequence.
    pub spans: Vec<[usize; 2]>,
    /// `[layers, heads, tokens, tokens]`, query then key.
    pub shape: [usize; 4],
    /// Last layer, [CLS] to each token, summed over heads, per base.
    pub cls_per_base: Vec<f64>,
}

impl AttentionMaps {
    /// Run `model` on `seq` (A/C/G/T; must fit the model's positions).
    pub fn compute(model: &TaskModel, device: &Device, name: &str, seq: &[u8]) -> Result<Self> {
        let (frame, spans, tokens) = framed(model, seq)?;
        let cfg = &model.pretrained.config;
        let st = run_rows(model, device, &[frame], cfg.num_hidden_layers, true, 1)?.remove(0);
        Ok(AttentionMaps {
            name: name.to_string(),
            seq: seq.to_vec(),
            tokens,
            spans,
            layers: cfg.num_hidden_layers,
            heads: cfg.num_attention_heads,
            len: st.len,
            data: st.attentions,
        })
    }

    /// The `[len, len]` map of one layer and head.
    pub fn map(&self, layer: usize, head: usize) -> &[f32] {
        let n = self.len * self.len;
        let at = (layer * self.heads + head) * n;
        &self.data[at..at + n]
    }

    /// Scores of the body tokens from the last layer (see [`token_scores`]).
    pub fn scores(&self) -> TokenScores {
        token_scores(&self.data, self.layers, self.heads, self.len)
    }

    /// [CLS]-to-token attention of the last layer summed over heads, spread
    /// to bases (see [`per_base`]).
    pub fn cls_per_base(&self) -> Vec<f64> {
        let body = &self.spans[1..self.len - 1];
        per_base(&self.scores().cls, body, self.seq.len())
    }

    pub fn info(&self) -> AttentionInfo<'_> {
        AttentionInfo {
            name: &self.name,
            sequence: String::from_utf8_lossy(&self.seq).into_owned(),
            tokens: &self.tokens,
            spans: self.spans.iter().map(|r| [r.start, r.end]).collect(),
            shape: [self.layers, self.heads, self.len, self.len],
            cls_per_base: self.cls_per_base(),
        }
    }
}

/// Per body token (specials left out) of the last layer, heads summed: the
/// attention [CLS] pays it (DNABERT's score) and the attention it receives,
/// averaged over all query tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenScores {
    pub cls: Vec<f64>,
    pub received: Vec<f64>,
}

/// [`TokenScores`] from `[layers, heads, len, len]` probabilities.
pub fn token_scores(att: &[f32], layers: usize, heads: usize, len: usize) -> TokenScores {
    let n = len * len;
    let body = 1..len.saturating_sub(1);
    let mut cls = vec![0.0f64; body.len()];
    let mut received = vec![0.0f64; body.len()];
    for h in 0..heads {
        let m = &att[((layers - 1) * heads + h) * n..][..n];
        for (j, key) in body.clone().enumerate() {
            cls[j] += f64::from(m[key]);
            received[j] += (0..len).map(|q| f64::from(m[q * len + key])).sum::<f64>() / len as f64;
        }
    }
    TokenScores { cls, received }
}

/// [`token_scores`] of a row [`run_rows`] returned with attentions.
pub fn row_scores(st: &RowStates, layers: usize, heads: usize) -> TokenScores {
    token_scores(&st.attentions, layers, heads, st.len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand() {
        // One layer, two heads, 3 tokens: [CLS] x [SEP].
        #[rustfmt::skip]
        let att = [
            0.2, 0.5, 0.3,  0.1, 0.8, 0.1,  0.3, 0.3, 0.4,
            0.6, 0.2, 0.2,  0.5, 0.5, 0.0,  0.0, 0.1, 0.9,
        ];
        let s = token_scores(&att, 1, 2, 3);
        assert!((s.cls[0] - 0.7).abs() < 1e-6);
        let recv = (0.5 + 0.8 + 0.3) / 3.0 + (0.2 + 0.5 + 0.1) / 3.0;
        assert!((s.received[0] - recv).abs() < 1e-6);
        assert_eq!(s.cls.len(), 1);
    }
}
