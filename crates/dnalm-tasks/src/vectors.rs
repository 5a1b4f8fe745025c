//! Word vectors (DNAVec): the model's `V x H` input-embedding matrix as
//! vectors of the vocabulary's tokens, with word2vec text export and
//! nearest neighbours by cosine similarity; and contextual vectors, the
//! hidden states of the tokens of one given sequence.

use std::fmt::Write as _;
use std::ops::Range;

use dnalm_model::{Device, HostTensor};
use dnalm_tokenizers::Tokenizer;

use crate::error::{Result, TaskError};
use crate::infer::{check_layer, run_rows};
use crate::model::TaskModel;
use crate::spans::encode_with_spans;

/// One vector per vocabulary token; row `i` is token id `i`.
#[derive(Debug, Clone)]
pub struct WordVectors {
    pub tokens: Vec<String>,
    pub dim: usize,
    /// `[tokens.len(), dim]`, row-major.
    pub data: Vec<f32>,
    /// Ids of the special tokens (never a neighbour).
    pub specials: Vec<u32>,
}

impl WordVectors {
    /// The input embeddings of `model` (`bert.embeddings.word_embeddings`).
    pub fn from_model(model: &TaskModel) -> WordVectors {
        let w = model
            .pretrained
            .model
            .bert
            .embeddings
            .word_embeddings
            .weight
            .val();
        let t = HostTensor::from_tensor(w);
        let vocab = model.tokenizer.vocab();
        let sp = vocab.specials();
        WordVectors {
            tokens: vocab.tokens().to_vec(),
            dim: t.shape[1],
            data: t.data,
            specials: vec![sp.pad, sp.unk, sp.cls, sp.sep, sp.mask],
        }
    }

    pub fn row(&self, id: usize) -> &[f32] {
        &self.data[id * self.dim..(id + 1) * self.dim]
    }

    /// word2vec text: `n dim`, then `token v1 .. vdim` per line.
    pub fn to_word2vec(&self) -> String {
        let mut s = String::with_capacity(self.data.len() * 12);
        writeln!(s, "{} {}", self.tokens.len(), self.dim).expect("string");
        for (i, tok) in self.tokens.iter().enumerate() {
            s.push_str(tok);
            for v in self.row(i) {
                write!(s, " {v}").expect("string");
            }
            s.push('\n');
        }
        s
    }

    /// The `top` tokens closest to `token` by cosine similarity (the token
    /// itself and the special tokens left out), closest first; ties go to
    /// the smaller id.
    pub fn neighbours(&self, token: &str, top: usize) -> Result<Vec<(String, f32)>> {
        let Some(q) = self.tokens.iter().position(|t| t == token) else {
            return Err(TaskError::Data(format!(
                "token {token:?} is not in the vocabulary ({} tokens, e.g. {:?})",
                self.tokens.len(),
                self.tokens.get(5).map_or("", String::as_str)
            )));
        };
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let qv = self.row(q);
        let qn = norm(qv);
        let mut sims: Vec<(usize, f32)> = (0..self.tokens.len())
            .filter(|&i| i != q && !self.specials.contains(&(i as u32)))
            .map(|i| {
                let v = self.row(i);
                let dot: f32 = qv.iter().zip(v).map(|(a, b)| a * b).sum();
                let d = qn * norm(v);
                (i, if d > 0.0 { dot / d } else { 0.0 })
            })
            .collect();
        sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(sims
            .into_iter()
            .take(top)
            .map(|(i, s)| (self.tokens[i].clone(), s))
            .collect())
    }
}

/// The hidden states of the tokens of one sequence, [CLS] and [SEP]
/// included.
#[derive(Debug, Clone)]
pub struct ContextualVectors {
    pub tokens: Vec<String>,
    /// Bases each token covers (empty for [CLS] and [SEP]).
    pub spans: Vec<Range<usize>>,
    pub dim: usize,
    pub layer: usize,
    /// `[tokens.len(), dim]`, row-major.
    pub data: Vec<f32>,
}

/// Contextual vectors of `seq` (A/C/G/T) at `layer` (`None` = last). The
/// framed sequence must fit the model's positions.
pub fn contextual(
    model: &TaskModel,
    device: &Device,
    seq: &[u8],
    layer: Option<usize>,
) -> Result<ContextualVectors> {
    let layer = check_layer(model, layer)?;
    let (frame, spans, tokens) = framed(model, seq)?;
    let st = run_rows(model, device, &[frame], layer, false, 1)?.remove(0);
    Ok(ContextualVectors {
        tokens,
        spans,
        dim: model.pretrained.config.hidden_size,
        layer,
        data: st.hidden,
    })
}

/// Framed ids, the bases each covers and each token's spelling.
pub type Framed = (Vec<u32>, Vec<Range<usize>>, Vec<String>);

/// `[CLS] tokens [SEP]` of `seq` with each token's spelling and span; an
/// error when it does not fit the model.
pub fn framed(model: &TaskModel, seq: &[u8]) -> Result<Framed> {
    let (ids, body_spans) = encode_with_spans(&model.tokenizer, seq)?;
    let max = model.pretrained.config.max_position_embeddings;
    if ids.is_empty() {
        return Err(TaskError::Data(format!(
            "a sequence of {} bases gives no tokens",
            seq.len()
        )));
    }
    if ids.len() + 2 > max {
        return Err(TaskError::Data(format!(
            "a sequence of {} bases gives {} tokens + [CLS] and [SEP], more than the model's {max} positions (cut it shorter)",
            seq.len(),
            ids.len()
        )));
    }
    let sp = model.tokenizer.vocab().specials();
    let mut frame = vec![sp.cls];
    frame.extend(&ids);
    frame.push(sp.sep);
    let mut spans: Vec<Range<usize>> = std::iter::once(0..0).collect();
    spans.extend(body_spans);
    spans.push(seq.len()..seq.len());
    let vocab = model.tokenizer.vocab();
    let tokens = frame
        .iter()
        .map(|&i| vocab.token(i).map(str::to_string))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((frame, spans, tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word2vec_and_neighbours() {
        let wv = WordVectors {
            tokens: ["[PAD]", "AA", "AC", "CA", "GG"].map(String::from).to_vec(),
            dim: 2,
            data: vec![1.0, 0.0, 1.0, 0.0, 0.9, 0.1, 0.0, 1.0, -1.0, 0.0],
            specials: vec![0],
        };
        let text = wv.to_word2vec();
        assert!(
            text.starts_with("5 2\n[PAD] 1 0\nAA 1 0\nAC 0.9 0.1\n"),
            "{text}"
        );
        let n = wv.neighbours("AA", 10).unwrap();
        let names: Vec<&str> = n.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["AC", "CA", "GG"]);
        assert!((n[2].1 + 1.0).abs() < 1e-6);
        assert_eq!(wv.neighbours("AA", 1).unwrap().len(), 1);
        assert!(wv.neighbours("TTT", 3).is_err());
    }
}
