//! Paragraph and sentence boundaries from a language model's next-token
//! probabilities, each position decided exactly once.
//!
//! The published rule: slide windows of 256 tokens with stride 192; in each
//! window a break goes after every position whose P(`<p_end>`) exceeds the
//! mean of the window's top-5 probabilities (here: reaches it, so that exact
//! ties, which small count models produce, still break); paragraphs shorter than 20
//! tokens join the previous one. Sentences: the same rule on P(".") with the
//! top-15. The published code then concatenated the windows, so the 64
//! tokens where two windows overlap were written twice.
//!
//! **Which window decides a position.** Window starts are
//! `s_k = offset + k * stride` for integers `k`, from the last `k` with
//! `s_k <= 0` (that window is clipped at 0) to the first whose end
//! `s_k + window` reaches the end of the sequence. With `h = (window -
//! stride) / 2`, window `k` decides the positions `[s_k + h, s_{k+1} + h)`;
//! the first window decides everything before that, the last everything
//! after. So every position is decided by one window, at least `h` tokens
//! from the window's left edge unless the sequence starts there, and every
//! token is written once. The threshold of a window is the mean of the top-k
//! probabilities over the whole window (as published), not only the
//! positions it decides. `offset` shifts the grid, to measure how stable
//! the boundaries are.
//!
//! Boundaries are found inside one A/C/G/T run (a gap ends a paragraph
//! anyway), and short segments merge only inside the run: a segment shorter
//! than `min_len` joins the previous one; a short first segment joins the
//! next one; a run shorter than `min_len` stays one short segment.

use std::ops::Range;

use crate::model::BookLm;
use crate::{BookError, Result};

/// Settings of one boundary rule (paragraphs or sentences).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BoundaryParams {
    /// Window length in tokens.
    pub window: usize,
    pub stride: usize,
    /// The threshold is the mean of the window's `top_k` largest probabilities.
    pub top_k: usize,
    /// Segments shorter than this (in tokens) are merged (see the module doc).
    pub min_len: usize,
    /// Start of the window grid (see the module doc).
    pub offset: usize,
    /// Windows per model call.
    pub batch: usize,
}

impl BoundaryParams {
    /// Paragraphs as published: 256 / 192, top-5, at least 20 tokens.
    pub fn paragraphs() -> Self {
        BoundaryParams {
            window: 256,
            stride: 192,
            top_k: 5,
            min_len: 20,
            offset: 0,
            batch: 8,
        }
    }

    /// Sentences as published: 256 / 192, top-15. The published code merges
    /// only short paragraphs, so sentences have no minimum (1).
    pub fn sentences() -> Self {
        BoundaryParams {
            top_k: 15,
            min_len: 1,
            ..Self::paragraphs()
        }
    }

    /// Checks the settings against each other and the model's context.
    pub fn validate(&self, context_len: usize) -> Result<()> {
        let bad = |m: String| Err(BookError::Config(m));
        if self.window == 0 || self.stride == 0 || self.top_k == 0 || self.batch == 0 {
            return bad(format!(
                "window ({}), stride ({}), top-k ({}) and batch ({}) must be at least 1",
                self.window, self.stride, self.top_k, self.batch
            ));
        }
        if self.stride > self.window {
            return bad(format!(
                "stride {} is longer than the window {}: tokens between windows would never be decided",
                self.stride, self.window
            ));
        }
        if self.window > context_len {
            return bad(format!(
                "window of {} tokens is longer than the model's context ({context_len})",
                self.window
            ));
        }
        Ok(())
    }
}

/// One window over a sequence: the tokens it reads and the positions it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub read: Range<usize>,
    pub decide: Range<usize>,
}

/// The windows over a sequence of `n` tokens (see the module doc); their
/// `decide` ranges tile `0..n`.
pub fn windows(n: usize, p: &BoundaryParams) -> Vec<Window> {
    if n == 0 {
        return Vec::new();
    }
    let (w, s) = (p.window as i64, p.stride as i64);
    let h = (w - s) / 2;
    let o = p.offset as i64;
    // Last k with o + k*s <= 0.
    let mut k = (-o).div_euclid(s);
    let mut out = Vec::new();
    let mut decided = 0i64;
    loop {
        let start = o + k * s;
        let end = start + w;
        let last = end >= n as i64;
        let decide_end = if last { n as i64 } else { start + s + h };
        out.push(Window {
            read: start.max(0) as usize..end.min(n as i64) as usize,
            decide: decided as usize..decide_end as usize,
        });
        if last {
            return out;
        }
        decided = decide_end;
        k += 1;
    }
}

/// Break positions: a break after position `p` means a segment ends at `p + 1`.
/// Positions are sorted; the last position of the sequence is never a break
/// (the sequence ends there anyway).
pub fn find_breaks(
    lm: &dyn BookLm,
    ids: &[u32],
    target: u32,
    p: &BoundaryParams,
) -> Result<Vec<usize>> {
    let wins = windows(ids.len(), p);
    let mut breaks = Vec::new();
    for batch in wins.chunks(p.batch) {
        let seqs: Vec<&[u32]> = batch.iter().map(|w| &ids[w.read.clone()]).collect();
        let probs = lm.next_token_probs(&seqs, &[target])?;
        if probs.len() != seqs.len() {
            return Err(BookError::Backend(format!(
                "the model answered {} of {} windows",
                probs.len(),
                seqs.len()
            )));
        }
        for (w, pr) in batch.iter().zip(&probs) {
            if pr.len() != w.read.len() || pr.iter().any(|v| v.is_empty()) {
                return Err(BookError::Backend(format!(
                    "the model answered {} of {} positions",
                    pr.len(),
                    w.read.len()
                )));
            }
            let col: Vec<f32> = pr.iter().map(|v| v[0]).collect();
            let threshold = top_k_mean(&col, p.top_k);
            for pos in w.decide.clone() {
                if pos + 1 < ids.len() && col[pos - w.read.start] >= threshold {
                    breaks.push(pos);
                }
            }
        }
    }
    Ok(breaks)
}

/// Mean of the `k` largest values (all of them when fewer).
pub fn top_k_mean(values: &[f32], k: usize) -> f32 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    v.truncate(k.max(1));
    if v.is_empty() {
        return f32::INFINITY;
    }
    v.iter().sum::<f32>() / v.len() as f32
}

/// Cuts `range` after each break inside it and merges short segments (see
/// the module doc). The segments tile `range`.
pub fn segments(range: Range<usize>, breaks: &[usize], min_len: usize) -> Vec<Range<usize>> {
    let mut cuts: Vec<usize> = breaks
        .iter()
        .map(|&b| b + 1)
        .filter(|&c| c > range.start && c < range.end)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.push(range.end);
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut start = range.start;
    for c in cuts {
        if c <= start {
            continue;
        }
        if c - start >= min_len {
            out.push(start..c);
            start = c;
        } else if let Some(prev) = out.last_mut() {
            prev.end = c;
            start = c;
        }
        // else: a short first segment waits to join the next cut.
    }
    if start < range.end {
        out.push(start..range.end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BigramLm, GreedyTokenizer};

    fn params(window: usize, stride: usize, offset: usize) -> BoundaryParams {
        BoundaryParams {
            window,
            stride,
            offset,
            ..BoundaryParams::paragraphs()
        }
    }

    fn check_tiling(n: usize, p: &BoundaryParams) {
        let ws = windows(n, p);
        let mut at = 0;
        for w in &ws {
            assert_eq!(w.decide.start, at, "n={n} {p:?} {ws:?}");
            assert!(w.decide.start <= w.decide.end);
            assert!(w.read.start <= w.decide.start && w.decide.end <= w.read.end);
            assert!(w.read.len() <= p.window);
            at = w.decide.end;
        }
        assert_eq!(at, n);
    }

    #[test]
    fn every_position_is_decided_by_exactly_one_window() {
        for n in [1, 5, 63, 64, 255, 256, 257, 448, 449, 1000, 5000] {
            for offset in [0, 1, 50, 191, 192, 300] {
                check_tiling(n, &params(256, 192, offset));
                check_tiling(n, &params(10, 10, offset));
                check_tiling(n, &params(7, 3, offset));
            }
        }
        let ws = windows(600, &params(256, 192, 0));
        let got: Vec<_> = ws
            .iter()
            .map(|w| (w.read.clone(), w.decide.clone()))
            .collect();
        assert_eq!(
            got,
            [(0..256, 0..224), (192..448, 224..416), (384..600, 416..600)]
        );
        // An offset shifts the grid; the first window is clipped at 0.
        let ws = windows(600, &params(256, 192, 50));
        assert_eq!(ws[0].read, 0..114);
        assert_eq!(ws[0].decide, 0..82);
        assert_eq!(ws[1].read, 50..306);
    }

    #[test]
    fn short_segments_merge_into_the_previous_one() {
        assert_eq!(segments(0..10, &[2, 5], 1), [0..3, 3..6, 6..10]);
        // 0..2 is short and first: it joins 2..6; 6..8 joins the previous.
        assert_eq!(segments(0..12, &[1, 5, 7], 3), [0..8, 8..12]);
        assert_eq!(segments(0..10, &[7], 4), vec![0..10; 1]);
        assert_eq!(segments(5..7, &[5], 20), vec![5..7; 1]);
        assert_eq!(segments(0..10, &[9, 20], 1), vec![0..10; 1]);
    }

    fn tata_model() -> (GreedyTokenizer, BigramLm) {
        let tok = GreedyTokenizer::new(&["TATA", "GC", "CCG", "AAT", "TTG"]);
        // English-like training: a paragraph ends after every TATA.
        let mut seqs = Vec::new();
        for i in 0..50 {
            let mut s = tok.ids_of(if i % 2 == 0 {
                b"GCCCGAATTTG"
            } else {
                b"AATGCTTGCCG"
            });
            s.extend(tok.ids_of(b"TATA"));
            s.push(GreedyTokenizer::P_END);
            seqs.push(s);
        }
        let seqs = vec![seqs.concat()];
        let lm = BigramLm::train(tok.vocab_size(), &seqs, 0.1, 512);
        (tok, lm)
    }

    use crate::model::BookTokenizer;

    #[test]
    fn a_model_that_learned_breaks_after_tata_puts_them_there() {
        let (tok, lm) = tata_model();
        // 40 blocks of 7 words then TATA: 320 tokens, several windows.
        let mut dna = Vec::new();
        for i in 0..40 {
            dna.extend_from_slice(if i % 3 == 0 {
                b"GCAATCCGTTGGCAATTTG"
            } else {
                b"AATGCTTGCCGGCCCGAAT"
            });
            dna.extend_from_slice(b"TATA");
        }
        let ids = tok.ids_of(&dna);
        let tata = tok.id("TATA").unwrap();
        let p = BoundaryParams {
            min_len: 1,
            ..BoundaryParams::paragraphs()
        };
        let breaks = find_breaks(&lm, &ids, GreedyTokenizer::P_END, &p).unwrap();
        let expected: Vec<usize> = (0..ids.len() - 1).filter(|&i| ids[i] == tata).collect();
        assert_eq!(breaks, expected);
        let segs = segments(0..ids.len(), &breaks, p.min_len);
        assert_eq!(segs.len(), 40);
        assert!(segs.iter().all(|s| ids[s.end - 1] == tata));
        // Whatever the offset, the segments tile the run: no duplicated text.
        for offset in [0, 17, 100, 191] {
            let p = BoundaryParams { offset, ..p };
            let b = find_breaks(&lm, &ids, GreedyTokenizer::P_END, &p).unwrap();
            assert_eq!(b, expected, "offset {offset}");
        }
    }

    #[test]
    fn windows_longer_than_the_context_are_refused() {
        let (_, lm) = tata_model();
        let p = params(1024, 768, 0);
        assert!(p.validate(lm.context_len()).is_err());
        assert!(params(10, 11, 0).validate(512).is_err());
        assert!(BoundaryParams::paragraphs().validate(512).is_ok());
    }
}
