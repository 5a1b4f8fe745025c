//! Sequence vectors: one vector per input sequence from a model's hidden
//! states ([CLS], mean or max over the tokens, of a chosen layer).
//!
//! Long sequences and gaps: a sequence is split at N / IUPAC codes into
//! A/C/G/T pieces (tokenizers read A/C/G/T only); a piece whose tokens do
//! not fit the model's window is cut into overlapping chunks of bases, each
//! the longest that gives at most `max_len - 2` tokens (room for [CLS] and
//! [SEP]), consecutive chunks sharing `overlap` bases (at most half a
//! chunk). Every chunk is framed `[CLS] tokens [SEP]` and pooled on its own;
//! the sequence's vector is the plain mean of its chunk vectors. Mean and
//! max pooling run over every token of the frame, [CLS] and [SEP] included
//! (as `dnalm_model::pool` and DNABERT-2's example do).
//!
//! The model runs without autodiff (no dropout): the same input gives the
//! same bytes every time.

use std::ops::Range;

use dnalm_model::Device;
use dnalm_tokenizers::{AnyTokenizer, Tokenizer};

use crate::error::{Result, TaskError};
use crate::infer::{check_layer, run_rows};
use crate::model::TaskModel;

/// How the token vectors of a chunk become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeqPooling {
    /// The [CLS] token's vector.
    Cls,
    /// The mean over the tokens.
    #[default]
    Mean,
    /// The element-wise maximum over the tokens.
    Max,
}

impl std::str::FromStr for SeqPooling {
    type Err = TaskError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cls" => Ok(Self::Cls),
            "mean" => Ok(Self::Mean),
            "max" => Ok(Self::Max),
            o => Err(TaskError::Config(format!(
                "unknown pooling {o:?} (cls, mean, max)"
            ))),
        }
    }
}

impl SeqPooling {
    pub fn name(self) -> &'static str {
        match self {
            Self::Cls => "cls",
            Self::Mean => "mean",
            Self::Max => "max",
        }
    }

    /// Pool `[len, h]` token vectors into `h` values.
    pub fn pool(self, states: &[f32], len: usize, h: usize) -> Vec<f32> {
        match self {
            Self::Cls => states[..h].to_vec(),
            Self::Mean => {
                let mut v = vec![0.0f32; h];
                for row in states[..len * h].chunks_exact(h) {
                    v.iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
                v.iter_mut().for_each(|a| *a /= len as f32);
                v
            }
            Self::Max => {
                let mut v = vec![f32::NEG_INFINITY; h];
                for row in states[..len * h].chunks_exact(h) {
                    v.iter_mut().zip(row).for_each(|(a, &b)| *a = a.max(b));
                }
                v
            }
        }
    }
}

/// Settings of [`embed`].
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    pub pooling: SeqPooling,
    /// Hidden state to read: `None` = the last layer, `Some(0)` = embeddings.
    pub layer: Option<usize>,
    /// Tokens per chunk, [CLS] and [SEP] included (capped by the model's
    /// positions).
    pub max_len: usize,
    /// Bases shared by consecutive chunks of a long sequence.
    pub overlap: usize,
    pub batch_size: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            pooling: SeqPooling::Mean,
            layer: None,
            max_len: 512,
            overlap: 64,
            batch_size: 16,
        }
    }
}

/// What became of one input sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedRecord {
    pub bases: usize,
    /// Chunks averaged into the vector.
    pub chunks: usize,
    /// Tokens over all chunks (specials excluded).
    pub tokens: usize,
}

/// Vectors `[n, hidden]` (row-major) with what each row is made of.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub hidden: usize,
    pub layer: usize,
    pub vectors: Vec<f32>,
    pub records: Vec<EmbeddedRecord>,
}

/// Base ranges of the chunks of an A/C/G/T `piece` (see the module doc).
pub fn chunk_ranges(
    tok: &AnyTokenizer,
    piece: &[u8],
    max_tokens: usize,
    overlap: usize,
) -> Result<Vec<Range<usize>>> {
    let ntok = |r: Range<usize>| tok.encode(&piece[r]).map(|v| v.len());
    let len = piece.len();
    if ntok(0..len)? <= max_tokens {
        return Ok(std::iter::once(0..len).collect());
    }
    let mut out = Vec::new();
    let mut start = 0usize;
    loop {
        // The longest chunk from `start` that fits.
        let (mut lo, mut hi) = (1usize, len - start);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if ntok(start..start + mid)? <= max_tokens {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        out.push(start..start + lo);
        if start + lo >= len {
            return Ok(out);
        }
        start += lo - overlap.min(lo / 2);
    }
}

/// One vector per sequence of `seqs` (upper case; N / IUPAC codes split
/// pieces). `on_batch` gets the chunks done so far and the total.
pub fn embed(
    model: &TaskModel,
    device: &Device,
    names: &[String],
    seqs: &[Vec<u8>],
    opts: &EmbedOptions,
    on_batch: &mut dyn FnMut(usize, usize),
) -> Result<Embeddings> {
    if seqs.is_empty() {
        return Err(TaskError::Data("no sequences to embed".into()));
    }
    let layer = check_layer(model, opts.layer)?;
    let cfg = &model.pretrained.config;
    let h = cfg.hidden_size;
    let max_len = opts.max_len.min(cfg.max_position_embeddings);
    if max_len < 3 {
        return Err(TaskError::Config(format!(
            "--max-len {max_len}: needs room for [CLS], a token and [SEP]"
        )));
    }
    // Every chunk of every sequence, checked before any model work.
    let mut rows: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut records = Vec::with_capacity(seqs.len());
    for (i, seq) in seqs.iter().enumerate() {
        let mut rec = EmbeddedRecord {
            bases: seq.len(),
            chunks: 0,
            tokens: 0,
        };
        for run in dnalm_seq::acgt_runs(seq) {
            let piece = &seq[run];
            for r in chunk_ranges(&model.tokenizer, piece, max_len - 2, opts.overlap)? {
                let frame = model.frame(&piece[r], max_len)?;
                if frame.len() <= 2 {
                    continue;
                }
                rec.chunks += 1;
                rec.tokens += frame.len() - 2;
                rows.push((i, frame));
            }
        }
        if rec.chunks == 0 {
            return Err(TaskError::Data(format!(
                "sequence {} ({}, {} bases): no tokens to embed (empty, all N, or shorter than a token)",
                i + 1,
                names.get(i).map_or("?", String::as_str),
                seq.len()
            )));
        }
        records.push(rec);
    }
    let mut vectors = vec![0.0f32; seqs.len() * h];
    let total = rows.len();
    let mut done = 0usize;
    for batch in rows.chunks(opts.batch_size.max(1)) {
        let frames: Vec<Vec<u32>> = batch.iter().map(|(_, f)| f.clone()).collect();
        let states = run_rows(model, device, &frames, layer, false, opts.batch_size)?;
        for ((rec, _), st) in batch.iter().zip(states) {
            let v = opts.pooling.pool(&st.hidden, st.len, h);
            let n = records[*rec].chunks as f32;
            vectors[rec * h..(rec + 1) * h]
                .iter_mut()
                .zip(v)
                .for_each(|(a, b)| *a += b / n);
        }
        done += batch.len();
        on_batch(done, total);
    }
    Ok(Embeddings {
        hidden: h,
        layer,
        vectors,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_tokenizers::{KmerOrder, KmerTokenizer};

    #[test]
    fn chunks_fit_and_overlap() {
        let tok = AnyTokenizer::Kmer(KmerTokenizer::new(3, KmerOrder::Dnabert).unwrap());
        let seq: Vec<u8> = (0..100).map(|i| b"ACGT"[(i * 7 + i / 3) % 4]).collect();
        // 10 tokens of 3-mers = 12 bases per chunk, 4 shared.
        let r = chunk_ranges(&tok, &seq, 10, 4).unwrap();
        assert_eq!(r[0], 0..12);
        assert_eq!(r[1], 8..20);
        assert_eq!(r.last().unwrap().end, 100);
        assert!(r.iter().all(|c| c.len() <= 12 && c.len() >= 3));
        let whole = chunk_ranges(&tok, &seq, 98, 4).unwrap();
        assert_eq!((whole.len(), whole[0].clone()), (1, 0..100));
    }

    #[test]
    fn pooling_by_hand() {
        let states = [1.0, 5.0, 3.0, -1.0, 2.0, 2.0];
        assert_eq!(SeqPooling::Cls.pool(&states, 3, 2), [1.0, 5.0]);
        assert_eq!(SeqPooling::Mean.pool(&states, 3, 2), [2.0, 2.0]);
        assert_eq!(SeqPooling::Max.pool(&states, 3, 2), [3.0, 5.0]);
        assert!("avg".parse::<SeqPooling>().is_err());
    }
}
