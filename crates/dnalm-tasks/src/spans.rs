//! Which bases each token covers, for every tokenizer kind: what spreads a
//! token's attention to nucleotides and what the token tables print.
//!
//! - overlapping k-mers: token `i` covers bases `i..i+k`;
//! - non-overlapping k-mers, variable k-mers, BPE: the tokens partition the
//!   sequence, so each covers the next `len(token)` bases;
//! - hybrid: per segment of `segment_len` bases, its k-mers (`i..i+k` from
//!   the segment start) and then its BPE tokens (a partition of the segment).

use std::ops::Range;

use dnalm_tokenizers::{AnyTokenizer, Tokenizer};

use crate::error::{Result, TaskError};

/// The ids of `seq` (no special tokens) and the bases each covers.
pub fn encode_with_spans(tok: &AnyTokenizer, seq: &[u8]) -> Result<(Vec<u32>, Vec<Range<usize>>)> {
    let ids = tok.encode(seq)?;
    let spans = match tok {
        AnyTokenizer::Kmer(t) => (0..ids.len()).map(|i| i..i + t.k()).collect(),
        AnyTokenizer::Hybrid(h) => {
            let mut spans = Vec::with_capacity(ids.len());
            for (s, seg) in seq.chunks(h.segment_len()).enumerate() {
                let start = s * h.segment_len();
                let (kmers, bpe) = h.encode_segment(seg)?;
                spans.extend((0..kmers.len()).map(|i| start + i..start + i + h.k()));
                partition(tok, &bpe, start, &mut spans)?;
            }
            spans
        }
        _ => {
            let mut spans = Vec::with_capacity(ids.len());
            partition(tok, &ids, 0, &mut spans)?;
            spans
        }
    };
    let end = spans.iter().map(|r| r.end).max().unwrap_or(0);
    if spans.len() != ids.len() || end > seq.len() {
        return Err(TaskError::Config(format!(
            "{} tokenizer: {} tokens over {} bases do not line up with the sequence",
            tok.kind(),
            ids.len(),
            seq.len()
        )));
    }
    Ok((ids, spans))
}

/// Spans of tokens that follow each other without overlap from `start`.
fn partition(
    tok: &AnyTokenizer,
    ids: &[u32],
    start: usize,
    spans: &mut Vec<Range<usize>>,
) -> Result<()> {
    let mut at = start;
    for &id in ids {
        let len = tok.vocab().token(id)?.len();
        spans.push(at..at + len);
        at += len;
    }
    Ok(())
}

/// Spread per-token scores to bases: each token's score is added to every
/// base it covers, and each base's sum is divided by the number of tokens
/// covering it (DNABERT's rule for overlapping k-mers); bases no token
/// covers get 0.
pub fn per_base(scores: &[f64], spans: &[Range<usize>], len: usize) -> Vec<f64> {
    let mut sum = vec![0.0f64; len];
    let mut n = vec![0u32; len];
    for (s, r) in scores.iter().zip(spans) {
        for b in r.clone() {
            sum[b] += s;
            n[b] += 1;
        }
    }
    sum.iter()
        .zip(&n)
        .map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_tokenizers::{
        BpeTrainer, HybridTokenizer, KmerOrder, KmerTokenizer, NonOverlappingKmerTokenizer,
    };

    #[test]
    fn kmer_and_partitions() {
        let seq = b"ACGTACGTAC";
        let k3 = AnyTokenizer::Kmer(KmerTokenizer::new(3, KmerOrder::Dnabert).unwrap());
        let (ids, spans) = encode_with_spans(&k3, seq).unwrap();
        assert_eq!(ids.len(), 8);
        assert_eq!(spans[7], 7..10);
        let nk = AnyTokenizer::KmerNonoverlap(NonOverlappingKmerTokenizer::new(4).unwrap());
        let (_, spans) = encode_with_spans(&nk, seq).unwrap();
        assert_eq!(spans, [0..4, 4..8, 8..9, 9..10]);
    }

    #[test]
    fn hybrid_spans_spell_the_tokens() {
        let text: Vec<u8> = b"ACGTTGCAACGTTGCAAAAAACGT".repeat(20);
        let bpe = BpeTrainer::new(10).unwrap().train([&text]).unwrap().model;
        let h = HybridTokenizer::new(bpe, 3, 50).unwrap();
        let tok = AnyTokenizer::Hybrid(Box::new(h));
        let seq = &text[..120];
        let (ids, spans) = encode_with_spans(&tok, seq).unwrap();
        for (id, r) in ids.iter().zip(&spans) {
            assert_eq!(tok.vocab().token(*id).unwrap().as_bytes(), &seq[r.clone()]);
        }
        // Every base is covered by the k-mer part and by the BPE part.
        let cover = per_base(&vec![1.0; ids.len()], &spans, seq.len());
        assert!(cover.iter().all(|&c| c == 1.0));
    }

    #[test]
    fn per_base_averages_overlaps() {
        // Two 3-mers over 4 bases with scores 1 and 3.
        let v = per_base(&[1.0, 3.0], &[0..3, 1..4], 5);
        assert_eq!(v, [1.0, 2.0, 2.0, 3.0, 0.0]);
    }
}
