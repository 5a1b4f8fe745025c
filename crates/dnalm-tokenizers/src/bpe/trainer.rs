//! The BPE trainer: corpus statistics and the merge loop.
//!
//! Speed and memory come from locality. The corpus is held as token ids,
//! two bytes per base, in blocks of whole segments (each segment followed by
//! a `0` separator, the `[PAD]` id, which never pairs). A merge cycle scans
//! every block for the chosen pair with a branch-free (vectorisable) search
//! and rewrites the block in place, so the array shrinks as tokens grow and
//! every access is sequential. Pair counts are kept exactly and updated
//! incrementally: each merge changes the counts of the pairs around it, and a
//! lazily-updated heap finds the next best pair. The two halves of the block
//! list are processed on two threads, each with its own count deltas.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use super::{merge_in_place, BpeModel, FIRST_BASE_ID};
use crate::error::{Result, TokError};
use crate::vocab::Vocab;

/// Separator after each segment; also the `[PAD]` id, which never pairs.
const SEP: u16 = 0;
/// Token ids are stored as u16.
const MAX_ID: u32 = u16::MAX as u32 - 1;
/// Blocks are filled with whole segments up to about this many symbols.
/// Small blocks let a merge skip the blocks that cannot hold its pair.
const BLOCK: usize = 1 << 11;

/// One merge cycle of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MergeStat {
    /// Ids (in the model vocabulary) of the left and right token and the new token.
    pub left: u32,
    pub right: u32,
    pub result: u32,
    /// Adjacent occurrences of the pair when it was chosen.
    pub pair_count: u64,
    /// Merges actually applied (smaller than `pair_count` only for runs of
    /// equal tokens, where occurrences overlap).
    pub applied: u64,
}

/// Trains a BPE model. Holds only the parameters; the corpus statistics live
/// in a [`BpeCorpus`] consumed by one training run.
#[derive(Debug, Clone)]
pub struct BpeTrainer {
    merges: usize,
}

/// Everything a training run produced.
#[derive(Debug, Clone)]
pub struct BpeTraining {
    pub model: BpeModel,
    /// The merges in rank order with their counts.
    pub merges: Vec<MergeStat>,
    /// Frequency of every vocabulary id in the trained segmentation of the
    /// training corpus (specials are 0).
    pub token_counts: Vec<u64>,
    /// Segments read and bases in them.
    pub segments: u64,
    pub bases: u64,
    /// Pairs skipped because their concatenation already was a token.
    pub skipped_pairs: u64,
}

impl BpeTrainer {
    /// A trainer for `merges` merge cycles (GROVER's BPE-600 is 600).
    pub fn new(merges: usize) -> Result<BpeTrainer> {
        let max = (MAX_ID - FIRST_BASE_ID - 4) as usize;
        if merges > max {
            return Err(TokError::Param(format!(
                "{merges} merges asked; at most {max} are supported"
            )));
        }
        Ok(BpeTrainer { merges })
    }

    pub fn merges(&self) -> usize {
        self.merges
    }

    /// Train on segments (each an upper-case A/C/G/T run; merges never
    /// cross from one segment to the next).
    pub fn train<I, S>(&self, segments: I) -> Result<BpeTraining>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.train_inner(segments, false).map(|(t, _)| t)
    }

    /// Like [`BpeTrainer::train`], and also return the trained segmentation
    /// of every segment (for checking that encoding reproduces it).
    pub fn train_segmented<I, S>(&self, segments: I) -> Result<(BpeTraining, Vec<Vec<u32>>)>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.train_inner(segments, true)
    }

    fn train_inner<I, S>(&self, segments: I, keep: bool) -> Result<(BpeTraining, Vec<Vec<u32>>)>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut corpus = BpeCorpus::new();
        for seg in segments {
            corpus.push(seg.as_ref())?;
        }
        self.train_corpus_inner(corpus, keep)
    }

    /// Train on a corpus filled with [`BpeCorpus::push`].
    pub fn train_corpus(&self, corpus: BpeCorpus) -> Result<BpeTraining> {
        self.train_corpus_inner(corpus, false).map(|(t, _)| t)
    }

    fn train_corpus_inner(
        &self,
        mut corpus: BpeCorpus,
        keep: bool,
    ) -> Result<(BpeTraining, Vec<Vec<u32>>)> {
        if corpus.bases == 0 {
            return Err(TokError::Param(
                "the BPE training corpus holds no A/C/G/T bases".into(),
            ));
        }
        let mut state = Merger::new(&mut corpus, self.merges);
        let (merges, skipped) = state.run(&mut corpus, self.merges)?;
        let tokens = state.tokens;
        let merge_pairs: Vec<(u32, u32)> = merges.iter().map(|m| (m.left, m.right)).collect();
        let vocab = Vocab::with_specials(tokens.iter().skip(FIRST_BASE_ID as usize).cloned())?;
        let model = BpeModel::from_vocab_merges(vocab, &merge_pairs)?;
        let mut token_counts = vec![0u64; tokens.len()];
        let mut segmented = Vec::new();
        for block in &corpus.blocks {
            for seg in block[1..].split(|&s| s == SEP) {
                if seg.is_empty() {
                    continue;
                }
                for &id in seg {
                    token_counts[id as usize] += 1;
                }
                if keep {
                    segmented.push(seg.iter().map(|&s| s as u32).collect());
                }
            }
        }
        Ok((
            BpeTraining {
                model,
                merges,
                token_counts,
                segments: corpus.segments,
                bases: corpus.bases,
                skipped_pairs: skipped,
            },
            segmented,
        ))
    }
}

/// A training corpus filled segment by segment (for streaming input):
/// two bytes per base.
#[derive(Debug)]
pub struct BpeCorpus {
    /// Each block: `[SEP, seg, SEP, seg, SEP, ...]`.
    blocks: Vec<Vec<u16>>,
    segments: u64,
    bases: u64,
}

impl BpeCorpus {
    pub fn new() -> BpeCorpus {
        BpeCorpus {
            blocks: Vec::new(),
            segments: 0,
            bases: 0,
        }
    }

    /// Add one segment: upper-case A/C/G/T; merges never cross into the next.
    pub fn push(&mut self, seg: &[u8]) -> Result<()> {
        if seg.is_empty() {
            return Ok(());
        }
        // A block never reallocates: a segment that does not fit starts a
        // new block (sized for it if it is longer than a block).
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.len() + seg.len() < b.capacity());
        if !fits {
            let mut b = Vec::with_capacity(BLOCK.max(seg.len() + 2));
            b.push(SEP);
            self.blocks.push(b);
        }
        let block = self.blocks.last_mut().expect("a block exists");
        let start = block.len();
        for (pos, &b) in seg.iter().enumerate() {
            match crate::base_code(b) {
                Some(code) => block.push(FIRST_BASE_ID as u16 + code as u16),
                None => {
                    block.truncate(start);
                    return Err(TokError::InvalidBase { byte: b, pos });
                }
            }
        }
        block.push(SEP);
        self.segments += 1;
        self.bases += seg.len() as u64;
        Ok(())
    }

    pub fn segments(&self) -> u64 {
        self.segments
    }

    pub fn bases(&self) -> u64 {
        self.bases
    }
}

impl Default for BpeCorpus {
    fn default() -> Self {
        Self::new()
    }
}

/// Heap entry: count, then the smaller (left, right) wins ties.
#[derive(Debug, PartialEq, Eq)]
struct Candidate {
    count: u64,
    pair: Reverse<(u16, u16)>,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.count, self.pair).cmp(&(other.count, other.pair))
    }
}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[inline]
fn key(a: u16, b: u16) -> u32 {
    (a as u32) << 16 | b as u32
}

/// Pair counts: dense for small vocabularies, hashed above.
#[derive(Debug)]
enum Table<T> {
    Dense { width: usize, v: Vec<T> },
    Hashed(FxHashMap<u32, T>),
}

impl<T: Copy + Default + std::ops::AddAssign> Table<T> {
    fn new(max_id: usize) -> Table<T> {
        let width = max_id + 1;
        if width * width <= 4 << 20 {
            Table::Dense {
                width,
                v: vec![T::default(); width * width],
            }
        } else {
            Table::Hashed(FxHashMap::default())
        }
    }

    #[inline]
    fn add(&mut self, k: u32, d: T) {
        match self {
            Table::Dense { width, v } => {
                v[(k >> 16) as usize * *width + (k & 0xFFFF) as usize] += d
            }
            Table::Hashed(m) => *m.entry(k).or_default() += d,
        }
    }

    #[inline]
    fn get(&self, k: u32) -> T {
        match self {
            Table::Dense { width, v } => v[(k >> 16) as usize * width + (k & 0xFFFF) as usize],
            Table::Hashed(m) => m.get(&k).copied().unwrap_or_default(),
        }
    }

    #[inline]
    fn take(&mut self, k: u32) -> T {
        match self {
            Table::Dense { width, v } => {
                std::mem::take(&mut v[(k >> 16) as usize * *width + (k & 0xFFFF) as usize])
            }
            Table::Hashed(m) => m.remove(&k).unwrap_or_default(),
        }
    }
}

/// Count changes made by one worker during one merge cycle.
#[derive(Debug)]
struct Delta {
    table: Table<i32>,
    touched: Vec<u32>,
}

impl Delta {
    fn new(max_id: usize) -> Delta {
        Delta {
            table: Table::new(max_id),
            touched: Vec::new(),
        }
    }

    /// Record a change; a key is listed once each time its delta leaves
    /// zero, so the list stays as small as the set of pairs touched.
    #[inline]
    fn add(&mut self, k: u32, d: i32) {
        if self.table.get(k) == 0 {
            self.touched.push(k);
        }
        self.table.add(k, d);
    }
}

/// Apply merge `(a, b) -> t` to one block, left to right, in place.
/// Returns the merges applied.
fn merge_block(block: &mut Vec<u16>, a: u16, b: u16, t: u16, d: &mut Delta) -> u64 {
    merge_in_place(block, a, b, t, |x, w, r| {
        // x[r], x[r + 1] is (a, b); x[w - 1] is its final left neighbour.
        let left = x[w - 1];
        let right = x[r + 2];
        if left != SEP {
            d.add(key(left, a), -1);
            d.add(key(left, t), 1);
        }
        if right != SEP {
            d.add(key(b, right), -1);
            d.add(key(t, right), 1);
        }
    })
}

/// Count all adjacent pairs of a block into `d`.
fn count_block(block: &[u16], d: &mut Delta) {
    for w in block.windows(2) {
        if w[0] != SEP && w[1] != SEP {
            d.add(key(w[0], w[1]), 1);
        }
    }
}

#[derive(Debug)]
struct Merger {
    tokens: Vec<String>,
    index: FxHashMap<String, u32>,
    counts: Table<i64>,
    deltas: [Delta; 2],
    /// Blocks before this index go to worker 0, the rest to worker 1.
    mid: usize,
    /// Per block, a bitset of the token ids that may occur in it (never
    /// cleared, so a superset): a block lacking either side of a pair is skipped.
    present: Vec<u64>,
    words: usize,
}

impl Merger {
    fn new(corpus: &mut BpeCorpus, n_merges: usize) -> Merger {
        let max_id = FIRST_BASE_ID as usize + 4 + n_merges;
        let mut tokens: Vec<String> = crate::vocab::SPECIAL_TOKENS
            .iter()
            .map(|s| s.to_string())
            .collect();
        tokens.extend(["A", "C", "G", "T"].map(String::from));
        let index = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        // Split the work in two halves of about equal size.
        let total: usize = corpus.blocks.iter().map(Vec::len).sum();
        let mut acc = 0;
        let mid = corpus
            .blocks
            .iter()
            .position(|b| {
                acc += b.len();
                acc * 2 >= total
            })
            .map_or(0, |i| i + 1);
        let words = (max_id + 1).div_ceil(64);
        let mut present = vec![0u64; words * corpus.blocks.len()];
        for p in present.chunks_mut(words) {
            for base in FIRST_BASE_ID..FIRST_BASE_ID + 4 {
                p[base as usize >> 6] |= 1 << (base & 63);
            }
        }
        Merger {
            tokens,
            index,
            counts: Table::new(max_id),
            deltas: [Delta::new(max_id), Delta::new(max_id)],
            mid,
            present,
            words,
        }
    }

    /// Run `f` on both halves of the blocks, each with its own delta, on two
    /// threads; then fold the deltas into the counts and return the touched keys.
    fn both<F>(&mut self, corpus: &mut BpeCorpus, f: F) -> (u64, Vec<u32>)
    where
        F: Fn(&mut Vec<u16>, &mut [u64], &mut Delta) -> u64 + Sync,
    {
        let mid = self.mid.min(corpus.blocks.len());
        let (lo, hi) = corpus.blocks.split_at_mut(mid);
        let (plo, phi) = self.present.split_at_mut(mid * self.words);
        let [d0, d1] = &mut self.deltas;
        let words = self.words;
        let run = |blocks: &mut [Vec<u16>], present: &mut [u64], d: &mut Delta| {
            blocks
                .iter_mut()
                .zip(present.chunks_mut(words))
                .map(|(b, p)| f(b, p, d))
                .sum::<u64>()
        };
        let (n0, n1) = rayon::join(|| run(lo, plo, d0), || run(hi, phi, d1));
        let mut touched = Vec::new();
        for d in &mut self.deltas {
            for &k in &d.touched {
                let v = d.table.take(k);
                if v != 0 {
                    self.counts.add(k, v as i64);
                    touched.push(k);
                }
            }
            d.touched.clear();
        }
        (n0 + n1, touched)
    }

    fn run(&mut self, corpus: &mut BpeCorpus, n_merges: usize) -> Result<(Vec<MergeStat>, u64)> {
        let (_, touched) = self.both(corpus, |b, _, d| {
            count_block(b, d);
            0
        });
        let mut seen = rustc_hash::FxHashSet::default();
        let mut heap: BinaryHeap<Candidate> = touched
            .into_iter()
            .filter(|k| seen.insert(*k))
            .map(|k| Candidate {
                count: self.counts.get(k) as u64,
                pair: Reverse(((k >> 16) as u16, (k & 0xFFFF) as u16)),
            })
            .collect();
        let mut stats = Vec::with_capacity(n_merges);
        let mut banned = rustc_hash::FxHashSet::default();
        let mut skipped = 0u64;
        while stats.len() < n_merges {
            let Some(top) = heap.pop() else {
                return Err(TokError::Param(format!(
                    "only {} merges are possible on this corpus ({} bases in {} segments); {} were asked",
                    stats.len(),
                    corpus.bases,
                    corpus.segments,
                    n_merges
                )));
            };
            let (a, b) = top.pair.0;
            let k = key(a, b);
            if banned.contains(&k) {
                continue;
            }
            let current = self.counts.get(k).max(0) as u64;
            if current != top.count {
                if current > 0 {
                    heap.push(Candidate {
                        count: current,
                        pair: top.pair,
                    });
                }
                continue;
            }
            let text = format!("{}{}", self.tokens[a as usize], self.tokens[b as usize]);
            if self.index.contains_key(&text) {
                banned.insert(k);
                skipped += 1;
                continue;
            }
            let t = self.tokens.len() as u16;
            self.index.insert(text.clone(), t as u32);
            self.tokens.push(text);
            let has = |p: &[u64], id: u16| p[id as usize >> 6] & (1 << (id & 63)) != 0;
            let (applied, touched) = self.both(corpus, |blk, p, d| {
                if !(has(p, a) && has(p, b)) {
                    return 0;
                }
                let n = merge_block(blk, a, b, t, d);
                if n > 0 {
                    p[t as usize >> 6] |= 1 << (t & 63);
                }
                n
            });
            self.counts.take(k);
            let mut pushed = rustc_hash::FxHashSet::default();
            for k2 in touched {
                let (x, y) = ((k2 >> 16) as u16, (k2 & 0xFFFF) as u16);
                if (x == t || y == t) && pushed.insert(k2) {
                    let c = self.counts.get(k2);
                    if c > 0 {
                        heap.push(Candidate {
                            count: c as u64,
                            pair: Reverse((x, y)),
                        });
                    }
                }
            }
            stats.push(MergeStat {
                left: a as u32,
                right: b as u32,
                result: t as u32,
                pair_count: top.count,
                applied,
            });
        }
        Ok((stats, skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tokenizer;

    fn strings(t: &BpeTraining, seg: &[u32]) -> Vec<String> {
        seg.iter()
            .map(|&i| t.model.vocab().token(i).unwrap().to_string())
            .collect()
    }

    #[test]
    fn first_merge_is_most_frequent_pair() {
        let (t, segs) = BpeTrainer::new(1)
            .unwrap()
            .train_segmented(["ATATAT", "ATG"])
            .unwrap();
        assert_eq!(t.model.vocab().token(9).unwrap(), "AT");
        assert_eq!(t.merges[0].pair_count, 4);
        assert_eq!(t.merges[0].applied, 4);
        assert_eq!(strings(&t, &segs[0]), ["AT", "AT", "AT"]);
        assert_eq!(strings(&t, &segs[1]), ["AT", "G"]);
    }

    #[test]
    fn runs_of_equal_tokens_merge_left_to_right() {
        let (t, segs) = BpeTrainer::new(2)
            .unwrap()
            .train_segmented(["AAAAA", "CAAAC"])
            .unwrap();
        // AA occurs 4 + 2 = 6 times adjacently; 2 + 1 merges apply, left
        // to right. Then (AA, A) occurs twice and beats (AA, AA).
        assert_eq!(t.merges[0].pair_count, 6);
        assert_eq!(t.merges[0].applied, 3);
        assert_eq!(strings(&t, &segs[0]), ["AA", "AAA"]);
        assert_eq!(strings(&t, &segs[1]), ["C", "AAA", "C"]);
    }

    #[test]
    fn ties_go_to_older_tokens() {
        // AC and GT both occur twice: AC (smaller left id) wins.
        let t = BpeTrainer::new(1).unwrap().train(["ACGT", "ACGT"]).unwrap();
        assert_eq!(t.model.vocab().token(9).unwrap(), "AC");
    }

    #[test]
    fn merges_never_cross_segments() {
        let t = BpeTrainer::new(1)
            .unwrap()
            .train(["A", "T", "A", "T", "CG"])
            .unwrap();
        assert_eq!(t.model.vocab().token(9).unwrap(), "CG");
    }

    #[test]
    fn too_many_merges_is_an_error() {
        let err = BpeTrainer::new(10).unwrap().train(["ACG"]).unwrap_err();
        assert!(err.to_string().contains("only 2 merges"), "{err}");
        assert!(BpeTrainer::new(1).unwrap().train([""]).is_err());
        assert!(BpeTrainer::new(1).unwrap().train(["ACNG"]).is_err());
    }

    #[test]
    fn blocks_and_halves_do_not_change_the_result() {
        // Many segments spread over several blocks and both workers give the
        // same merges as one segment at a time would, in any grouping.
        let mut segs = Vec::new();
        let mut x = 12345u64;
        for i in 0..3000 {
            let n = 20 + (i * 7) % 300;
            let s: Vec<u8> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"ACGTAAAT"[(x % 8) as usize]
                })
                .collect();
            segs.push(s);
        }
        let (t, trained) = BpeTrainer::new(150)
            .unwrap()
            .train_segmented(&segs)
            .unwrap();
        let rev: Vec<Vec<u8>> = segs.iter().rev().cloned().collect();
        let (t2, _) = BpeTrainer::new(150).unwrap().train_segmented(&rev).unwrap();
        assert_eq!(t.merges, t2.merges);
        for (seg, want) in segs.iter().zip(&trained) {
            assert_eq!(&t.model.encode(seg).unwrap(), want);
        }
    }

    #[test]
    fn very_long_tokens_work() {
        let seq = vec![b'A'; 1 << 17];
        let (t, segs) = BpeTrainer::new(17)
            .unwrap()
            .train_segmented([seq.clone()])
            .unwrap();
        assert_eq!(segs[0].len(), 1);
        assert_eq!(t.model.vocab().token(segs[0][0]).unwrap().len(), 1 << 17);
        assert_eq!(t.model.encode(&seq).unwrap(), segs[0]);
    }
}
