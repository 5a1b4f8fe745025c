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
mod model;
mod trainer;

pub use model::BpeModel;
pub use trainer::{BpeCorpus, BpeTrainer, BpeTraining, MergeStat};

/// Id of the first base token (`A`) in every BPE vocabulary dnalm builds:
/// the five specials come first.
pub(crate) const FIRST_BASE_ID: u32 = 5;

/// Index of the first `i` with `x[i] == a && x[i + 1] == b`. Written as
/// fixed-width OR-reductions so the compiler vectorises the common case of
/// no match.
#[inline]
pub(crate) fn find_pair<T: Copy + PartialEq>(x: &[T], a: T, b: T) -> Option<usize> {
    const W: usize = 32;
    let n = x.len();
    let mut i = 0;
    while i + W < n {
        let c0 = &x[i..i + W];
        let c1 = &x[i + 1..i + W + 1];
        let mut hit = false;
        for j in 0..W {
            hit |= (c0[j] == a) & (c1[j] == b);
        }
        if hit {
            return (0..W).find(|&j| c0[j] == a && c1[j] == b).map(|j| i + j);
        }
        i += W;
    }
    (i..n.saturating_sub(1)).find(|&j| x[j] == a && x[j + 1] == b)
}

/// Merge every `(a, b)` in `x` into `t`, left to right, in place; returns
/// the number of merges. `on_merge(w, r)` is called before each one with the
/// write position `w` (everything before it is final) and the read position
/// `r` of the pair.
#[inline]
pub(crate) fn merge_in_place<T: Copy + PartialEq>(
    x: &mut Vec<T>,
    a: T,
    b: T,
    t: T,
    mut on_merge: impl FnMut(&[T], usize, usize),
) -> u64 {
    let Some(first) = find_pair(x, a, b) else {
        return 0;
    };
    let n = x.len();
    let (mut r, mut w) = (first, first);
    let mut applied = 0;
    loop {
        on_merge(x, w, r);
        x[w] = t;
        w += 1;
        r += 2;
        applied += 1;
        let next = find_pair(&x[r..], a, b).map(|off| r + off);
        let end = next.unwrap_or(n);
        x.copy_within(r..end, w);
        w += end - r;
        match next {
            Some(p) => r = p,
            None => break,
        }
    }
    x.truncate(w);
    applied
}
