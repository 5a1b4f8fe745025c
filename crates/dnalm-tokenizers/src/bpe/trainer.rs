//! The BPE trainer: corpus statistics and the merge loop.
//!
//! The first, dense merges scan the corpus; once the chosen pair is rare
//! (less than once in [`SWITCH_RATIO`] symbols) every pair's positions are
//! listed and each merge visits only the positions of its own pair (see
//! [`super::shard`]). Pair counts are kept exactly, per shard, and updated
//! from what each merge changed around it; a lazily-updated heap finds the
//! next best pair. The corpus is cut into one
//! shard per worker thread; shards merge in parallel and the result does
//! not depend on the number of threads or on when the phase changes (tests
//! check both against a naive trainer).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::chunk::Chunk;
use super::counts::{key, unkey};
use super::shard::{Shard, SEP};
use super::{BpeModel, FIRST_BASE_ID};
use crate::error::{Result, TokError};
use crate::vocab::Vocab;

/// Token ids are stored as u16.
const MAX_ID: u32 = u16::MAX as u32 - 1;
/// The scan gives way to the position index once the chosen pair occurs
/// less than once in this many symbols (see [`super::shard`]).
const SWITCH_RATIO: u64 = 256;
/// New pairs whose count is below the chosen pair's divided by this wait
/// outside the heap (most are never merged).
const FLOOR_RATIO: u64 = 64;
/// Chunks are filled with whole segments up to about this many symbols
/// (a longer segment gets a chunk of its own); shards are runs of chunks.
const CHUNK: usize = 1 << 20;

/// Longest segment the trainer takes (shards index symbols with `u32`).
const MAX_SEGMENT: usize = 1 << 30;

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
    tuning: Tuning,
}

/// When the trainer changes phase; the merges do not depend on it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tuning {
    /// Switch from scanning to the index once the chosen pair occurs less
    /// than once in this many symbols (0: index from the start).
    pub(super) switch_ratio: u64,
    /// New pairs below the chosen pair's count divided by this wait
    /// outside the heap.
    pub(super) floor_ratio: u64,
    /// Symbols per corpus chunk (shards are runs of whole chunks).
    pub(super) chunk: usize,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            switch_ratio: SWITCH_RATIO,
            floor_ratio: FLOOR_RATIO,
            chunk: CHUNK,
        }
    }
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
        Ok(BpeTrainer {
            merges,
            tuning: Tuning::default(),
        })
    }

    pub fn merges(&self) -> usize {
        self.merges
    }

    /// The same trainer with other phase settings (tests use it to drive
    /// every path on small corpora).
    #[cfg(test)]
    pub(super) fn with_tuning(mut self, tuning: Tuning) -> BpeTrainer {
        self.tuning = tuning;
        self
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
        corpus.chunk = self.tuning.chunk;
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
        corpus: BpeCorpus,
        keep: bool,
    ) -> Result<(BpeTraining, Vec<Vec<u32>>)> {
        if corpus.bases == 0 {
            return Err(TokError::Param(
                "the BPE training corpus holds no A/C/G/T bases".into(),
            ));
        }
        let (segments, bases) = (corpus.segments, corpus.bases);
        let mut state = Merger::new(corpus, self.merges, self.tuning);
        let (merges, skipped) = rayon::scope(|_| state.run(self.merges, bases, segments))?;
        let merge_pairs: Vec<(u32, u32)> = merges.iter().map(|m| (m.left, m.right)).collect();
        let vocab =
            Vocab::with_specials(state.tokens.iter().skip(FIRST_BASE_ID as usize).cloned())?;
        let model = BpeModel::from_vocab_merges(vocab, &merge_pairs)?;
        // Token frequencies follow from the bases and what each merge did.
        let mut token_counts = vec![0u64; state.tokens.len()];
        for (i, n) in state.base_counts.iter().enumerate() {
            token_counts[FIRST_BASE_ID as usize + i] = *n;
        }
        for m in &merges {
            token_counts[m.left as usize] -= m.applied;
            token_counts[m.right as usize] -= m.applied;
            token_counts[m.result as usize] += m.applied;
        }
        let mut segmented = Vec::new();
        if keep {
            for shard in &state.shards {
                shard.segments(&mut segmented);
            }
        }
        Ok((
            BpeTraining {
                model,
                merges,
                token_counts,
                segments,
                bases,
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
    /// Each chunk: `[SEP, seg, SEP, seg, SEP, ...]`, one byte per id.
    chunks: Vec<Chunk<u8>>,
    /// Symbols per chunk.
    chunk: usize,
    segments: u64,
    bases: u64,
}

impl BpeCorpus {
    pub fn new() -> BpeCorpus {
        BpeCorpus {
            chunks: Vec::new(),
            chunk: CHUNK,
            segments: 0,
            bases: 0,
        }
    }

    /// Add one segment: upper-case A/C/G/T; merges never cross into the next.
    pub fn push(&mut self, seg: &[u8]) -> Result<()> {
        if seg.is_empty() {
            return Ok(());
        }
        if seg.len() > MAX_SEGMENT {
            return Err(TokError::Param(format!(
                "a BPE training segment of {} bases; at most {MAX_SEGMENT} are supported (cut it into windows)",
                seg.len()
            )));
        }
        // A chunk never reallocates: a segment that does not fit starts a
        // new chunk (sized for it if it is longer than a chunk).
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.len() + seg.len() < c.capacity());
        if !fits {
            let mut c = Chunk::with_capacity(self.chunk.max(seg.len() + 2));
            c.extend([SEP as u8].into_iter());
            self.chunks.push(c);
        }
        let chunk = self.chunks.last_mut().expect("a chunk exists");
        let start = chunk.len();
        // A C G T -> 0 1 2 3 is ((b >> 1) ^ (b >> 2)) & 3; plain arithmetic
        // and compares, so that the loop is vectorised.
        let mut good = true;
        let room = &mut chunk.room_mut()[start..start + seg.len()];
        for (slot, &b) in room.iter_mut().zip(seg) {
            good &= (b == b'A') | (b == b'C') | (b == b'G') | (b == b'T');
            *slot = FIRST_BASE_ID as u8 + (((b >> 1) ^ (b >> 2)) & 3);
        }
        chunk.set_len(start + seg.len());
        if !good {
            chunk.truncate(start);
            let pos = seg
                .iter()
                .position(|b| !matches!(b, b'A' | b'C' | b'G' | b'T'))
                .expect("a bad byte was seen");
            return Err(TokError::InvalidBase {
                byte: seg[pos],
                pos,
            });
        }
        chunk.extend([SEP as u8].into_iter());
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

/// Put pair `k`, which occurs `c` times, in the heap if `c` reaches
/// `floor`; otherwise keep the largest count left out in `low_max`.
fn admit(heap: &mut BinaryHeap<Candidate>, low_max: &mut u64, floor: u64, k: u32, c: u64) {
    if c >= floor {
        heap.push(Candidate {
            count: c,
            pair: Reverse(unkey(k)),
        });
    } else {
        *low_max = (*low_max).max(c);
    }
}

#[derive(Debug)]
struct Merger {
    tokens: Vec<String>,
    index: FxHashMap<String, u32>,
    /// The pair counts are kept by the shards, each for its own part.
    shards: Vec<Shard>,
    /// Occurrences of A, C, G, T in the corpus.
    base_counts: [u64; 4],
    /// Symbols (tokens and separators) left in the corpus.
    symbols: u64,
    tuning: Tuning,
}

impl Merger {
    /// Cut the corpus into one shard per worker thread (runs of whole
    /// chunks of about equal size, and fewer than 2^32 symbols each) and
    /// count every pair.
    fn new(corpus: BpeCorpus, n_merges: usize, tuning: Tuning) -> Merger {
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
        let total: usize = corpus.chunks.iter().map(Chunk::len).sum();
        // Chunks hold at most MAX_SEGMENT + 2 symbols, so a group of
        // total / n (at most 2^31) plus one chunk stays below 2^32.
        let n = rayon::current_num_threads()
            .clamp(1, 64)
            .max(total.div_ceil(1 << 31));
        let mut groups: Vec<Vec<Chunk<u8>>> = Vec::with_capacity(n);
        let mut acc = 0;
        for c in corpus.chunks {
            if groups.is_empty() || (acc * n >= total * groups.len() && groups.len() < n) {
                groups.push(Vec::new());
            }
            acc += c.len();
            groups.last_mut().expect("a group exists").push(c);
        }
        let built: Vec<_> = groups
            .into_par_iter()
            .map(|g| Shard::new(g, max_id))
            .collect();
        let mut shards = Vec::with_capacity(built.len());
        let mut base_counts = [0u64; 4];
        for (shard, bases) in built {
            for (all, n) in base_counts.iter_mut().zip(bases) {
                *all += n;
            }
            shards.push(shard);
        }
        Merger {
            tokens,
            index,
            shards,
            base_counts,
            symbols: total as u64,
            tuning,
        }
    }

    /// Occurrences of pair `k` in the corpus.
    fn count(&self, k: u32) -> u64 {
        self.shards.iter().map(|s| s.count(k) as u64).sum()
    }

    /// Call `f` on every pair that occurs, with its count.
    fn for_each_count(&self, mut f: impl FnMut(u32, u64)) {
        let dense: Option<Vec<(&[u32], usize)>> =
            self.shards.iter().map(|s| s.counts().dense()).collect();
        if let Some(dense) = dense {
            // Every shard's table has the same width.
            let (first, width) = dense[0];
            for i in 0..first.len() {
                let c: u64 = dense.iter().map(|(v, _)| v[i] as u64).sum();
                if c > 0 {
                    f((((i / width) << 16) | (i % width)) as u32, c);
                }
            }
            return;
        }
        let mut all: FxHashMap<u32, u64> = FxHashMap::default();
        for s in &self.shards {
            s.counts()
                .for_each(|k, c| *all.entry(k).or_default() += c as u64);
        }
        all.into_iter().for_each(|(k, c)| f(k, c));
    }

    fn run(&mut self, n_merges: usize, bases: u64, segments: u64) -> Result<(Vec<MergeStat>, u64)> {
        let mut heap: BinaryHeap<Candidate> = BinaryHeap::new();
        self.for_each_count(|k, c| {
            heap.push(Candidate {
                count: c,
                pair: Reverse(unkey(k)),
            })
        });
        // Pairs too rare to be chosen soon are left out of the heap; the
        // most frequent of them occurred `low_max` times. Should the heap's
        // best fall to that, the pairs down to a new floor are put back from
        // the counts (on the 7 Mb benchmark input, once, at merge 301).
        let mut low_max = 0u64;
        let mut indexed = false;
        let mut stats = Vec::with_capacity(n_merges);
        let mut banned = FxHashSet::default();
        let mut skipped = 0u64;
        // The new pairs of a merge, each once, with their counts summed
        // over the shards in `sum[2 * x]` for `(x, t)` and `sum[2 * x + 1]`
        // for `(t, x)`.
        let mut fresh = Vec::new();
        let mut sum = vec![0u64; 2 * (self.tokens.len() + n_merges + 1)];
        while stats.len() < n_merges {
            while low_max > 0 && heap.peek().is_none_or(|c| c.count <= low_max) {
                // Back into the heap with every pair down to a new floor
                // (pairs already in it are pushed again; the copy that is
                // popped second no longer matches its count and is dropped),
                // until the best in the heap beats every pair left out.
                let floor = (low_max / self.tuning.floor_ratio.max(1)).max(1);
                low_max = 0;
                self.for_each_count(|k, c| admit(&mut heap, &mut low_max, floor, k, c));
            }
            let Some(top) = heap.pop() else {
                return Err(TokError::Param(format!(
                    "only {} merges are possible on this corpus ({bases} bases in {segments} segments); {n_merges} were asked",
                    stats.len(),
                )));
            };
            let (a, b) = top.pair.0;
            let k = key(a, b);
            if banned.contains(&k) {
                continue;
            }
            let current = self.count(k);
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
            // New pairs rarer than this stay out of the heap.
            let floor = (top.count / self.tuning.floor_ratio.max(1)).max(2);
            // The scan phase holds one-byte ids: switch before `t` is too big.
            if !indexed
                && (top.count.saturating_mul(self.tuning.switch_ratio) < self.symbols
                    || t > u8::MAX as u16)
            {
                self.shards.par_iter_mut().for_each(|s| s.index(t));
                indexed = true;
            }
            let applied: u64 = self.shards.par_iter_mut().map(|s| s.merge(a, b, t)).sum();
            self.symbols -= applied;
            // New pairs enter the heap once, with their full count (a new
            // pair's count never grows after this merge).
            fresh.clear();
            let slot = |k2: u32| {
                let (x, y) = unkey(k2);
                if y == t {
                    2 * x as usize
                } else {
                    2 * y as usize + 1
                }
            };
            for shard in &self.shards {
                for &(k2, n) in shard.fresh() {
                    let s = &mut sum[slot(k2)];
                    if *s == 0 {
                        fresh.push(k2);
                    }
                    // A pair seen with count 0 is pushed again if seen
                    // again; it is never admitted below.
                    *s += n as u64;
                }
            }
            for &k2 in &fresh {
                let c = std::mem::take(&mut sum[slot(k2)]);
                if c > 0 {
                    admit(&mut heap, &mut low_max, floor, k2, c);
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
    fn segment_order_does_not_change_the_merges() {
        // Many segments, in either order, give the same merges; encoding
        // reproduces the trained segmentation of each one.
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
