//! The BPE trainer: corpus statistics and the merge loop.
//!
//! Memory is the design constraint (a genome is large): the corpus lives in
//! one `u16` array, two bytes per base, where a token occupies the positions
//! of its bases. The first position holds the token id; the last holds a
//! back-offset to the first (so the previous token can be found from any
//! token start); the rest are marked interior. Segments are separated by a
//! `0` ([PAD], never a BPE token). Each pair keeps the list of positions where
//! it occurred; lists go stale as merges happen and are checked on use and
//! compacted when they grow, so they stay near four bytes per base.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use super::{BpeModel, FIRST_BASE_ID};
use crate::error::{Result, TokError};
use crate::vocab::Vocab;

/// Separator between segments; also the `[PAD]` id, which never pairs.
const SEP: u16 = 0;
/// High bit: this position is not the start of a token.
const NON_START: u16 = 0x8000;
/// Back-offset too large for 15 bits: look it up in the side table.
const LONG_TAIL: u16 = 0xFFFF;
/// Token ids must stay below the high bit.
const MAX_ID: u32 = 0x7FFF;
/// Largest back-offset stored inline (0x7FFF is taken by `LONG_TAIL`).
const MAX_OFFSET: usize = 0x7FFF;

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
/// inside one call of [`BpeTrainer::train`].
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
        if merges as u32 > MAX_ID - FIRST_BASE_ID - 4 {
            return Err(TokError::Param(format!(
                "{merges} merges asked; at most {} are supported",
                MAX_ID - FIRST_BASE_ID - 4
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
        corpus: BpeCorpus,
        keep: bool,
    ) -> Result<(BpeTraining, Vec<Vec<u32>>)> {
        let mut corpus = corpus.0;
        if corpus.bases == 0 {
            return Err(TokError::Param(
                "the BPE training corpus holds no A/C/G/T bases".into(),
            ));
        }
        let (merges, skipped) = corpus.run(self.merges)?;
        let tokens = corpus.tokens.clone();
        let merge_pairs: Vec<(u32, u32)> = merges.iter().map(|m| (m.left, m.right)).collect();
        let vocab = Vocab::with_specials(tokens.iter().skip(FIRST_BASE_ID as usize).cloned())?;
        let model = BpeModel::from_vocab_merges(vocab, &merge_pairs)?;
        let mut token_counts = vec![0u64; tokens.len()];
        let mut segmented = Vec::new();
        corpus.for_each_segment(|seg| {
            for &id in seg {
                token_counts[id as usize] += 1;
            }
            if keep {
                segmented.push(seg.to_vec());
            }
        });
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

/// A training corpus filled segment by segment (for streaming input). Holds
/// two bytes per base.
#[derive(Debug)]
pub struct BpeCorpus(Corpus);

impl BpeCorpus {
    pub fn new() -> BpeCorpus {
        BpeCorpus(Corpus::new())
    }

    /// Add one segment: upper-case A/C/G/T; merges never cross into the next.
    pub fn push(&mut self, seg: &[u8]) -> Result<()> {
        self.0.push(seg)
    }

    pub fn segments(&self) -> u64 {
        self.0.segments
    }

    pub fn bases(&self) -> u64 {
        self.0.bases
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

/// Pair -> slot, dense for small vocabularies and hashed above.
#[derive(Debug)]
enum PairIndex {
    Dense { width: usize, slots: Vec<u32> },
    Hashed(FxHashMap<u32, u32>),
}

const NO_SLOT: u32 = u32::MAX;

impl PairIndex {
    fn new(max_id: usize) -> PairIndex {
        let width = max_id + 1;
        // 16 MiB of slots at most; beyond that the hash map is smaller.
        if width * width <= 4 << 20 {
            PairIndex::Dense {
                width,
                slots: vec![NO_SLOT; width * width],
            }
        } else {
            PairIndex::Hashed(FxHashMap::default())
        }
    }

    #[inline]
    fn get(&self, a: u16, b: u16) -> Option<u32> {
        match self {
            PairIndex::Dense { width, slots } => {
                let s = slots[a as usize * width + b as usize];
                (s != NO_SLOT).then_some(s)
            }
            PairIndex::Hashed(m) => m.get(&((a as u32) << 16 | b as u32)).copied(),
        }
    }

    #[inline]
    fn insert(&mut self, a: u16, b: u16, slot: u32) {
        match self {
            PairIndex::Dense { width, slots } => slots[a as usize * *width + b as usize] = slot,
            PairIndex::Hashed(m) => {
                m.insert((a as u32) << 16 | b as u32, slot);
            }
        }
    }
}

/// Per-pair statistics, indexed by slot.
#[derive(Debug, Default)]
struct Pairs {
    pair: Vec<(u16, u16)>,
    count: Vec<i64>,
    positions: Vec<Vec<u32>>,
    /// Epoch stamp to push each touched pair onto the heap once per merge.
    touched: Vec<u32>,
}

#[derive(Debug)]
struct Corpus {
    syms: Vec<u16>,
    /// Back-offsets that do not fit in 15 bits: tail position -> start.
    long_tails: FxHashMap<u32, u32>,
    tokens: Vec<String>,
    tok_len: Vec<u32>,
    index: FxHashMap<String, u32>,
    segments: u64,
    bases: u64,
}

impl Corpus {
    fn new() -> Corpus {
        let mut tokens: Vec<String> = crate::vocab::SPECIAL_TOKENS
            .iter()
            .map(|s| s.to_string())
            .collect();
        tokens.extend(["A", "C", "G", "T"].map(String::from));
        let tok_len = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i < FIRST_BASE_ID as usize {
                    1
                } else {
                    t.len() as u32
                }
            })
            .collect();
        let index = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Corpus {
            syms: vec![SEP],
            long_tails: FxHashMap::default(),
            tokens,
            tok_len,
            index,
            segments: 0,
            bases: 0,
        }
    }

    fn push(&mut self, seg: &[u8]) -> Result<()> {
        if seg.is_empty() {
            return Ok(());
        }
        if (self.syms.len() + seg.len()) as u64 >= u32::MAX as u64 {
            return Err(TokError::Param(format!(
                "the corpus is larger than the 4 Gb one BPE training run supports (segment {})",
                self.segments + 1
            )));
        }
        let start = self.syms.len();
        self.syms.reserve(seg.len() + 1);
        for (pos, &b) in seg.iter().enumerate() {
            match crate::base_code(b) {
                Some(code) => self.syms.push(FIRST_BASE_ID as u16 + code as u16),
                None => {
                    self.syms.truncate(start);
                    return Err(TokError::InvalidBase { byte: b, pos });
                }
            }
        }
        self.syms.push(SEP);
        self.segments += 1;
        self.bases += seg.len() as u64;
        Ok(())
    }

    /// Start of the token that ends just before `pos`, or `None` at a segment start.
    #[inline]
    fn prev_start(&self, pos: usize) -> Option<usize> {
        let v = self.syms[pos - 1];
        if v == SEP {
            None
        } else if v & NON_START == 0 {
            Some(pos - 1)
        } else if v == LONG_TAIL {
            Some(self.long_tails[&((pos - 1) as u32)] as usize)
        } else {
            Some(pos - 1 - (v & !NON_START) as usize)
        }
    }

    #[inline]
    fn set_tail(&mut self, tail: usize, start: usize) {
        let off = tail - start;
        if off < MAX_OFFSET {
            self.syms[tail] = NON_START | off as u16;
        } else {
            self.syms[tail] = LONG_TAIL;
            self.long_tails.insert(tail as u32, start as u32);
        }
    }

    fn run(&mut self, n_merges: usize) -> Result<(Vec<MergeStat>, u64)> {
        let max_id = FIRST_BASE_ID as usize + 4 + n_merges;
        let mut index = PairIndex::new(max_id);
        let mut pairs = Pairs::default();

        // Initial counts, then exact-capacity position lists in ascending order.
        let slot_of = |index: &mut PairIndex, pairs: &mut Pairs, a: u16, b: u16| -> usize {
            match index.get(a, b) {
                Some(s) => s as usize,
                None => {
                    let s = pairs.pair.len();
                    index.insert(a, b, s as u32);
                    pairs.pair.push((a, b));
                    pairs.count.push(0);
                    pairs.positions.push(Vec::new());
                    pairs.touched.push(0);
                    s
                }
            }
        };
        for w in self.syms.windows(2) {
            if w[0] != SEP && w[1] != SEP {
                let s = slot_of(&mut index, &mut pairs, w[0], w[1]);
                pairs.count[s] += 1;
            }
        }
        for s in 0..pairs.pair.len() {
            pairs.positions[s] = Vec::with_capacity(pairs.count[s] as usize);
        }
        for (i, w) in self.syms.windows(2).enumerate() {
            if w[0] != SEP && w[1] != SEP {
                let s = index.get(w[0], w[1]).expect("pair counted above") as usize;
                pairs.positions[s].push(i as u32);
            }
        }
        let mut live_entries: usize = self.syms.len();
        let compact_at = (self.syms.len() + 1024).max(live_entries);

        let mut heap: BinaryHeap<Candidate> = (0..pairs.pair.len())
            .map(|s| Candidate {
                count: pairs.count[s] as u64,
                pair: Reverse(pairs.pair[s]),
            })
            .collect();

        let mut stats = Vec::with_capacity(n_merges);
        let mut skipped = 0u64;
        let mut banned: Vec<bool> = vec![false; pairs.pair.len()];
        let mut epoch = 0u32;
        let mut touched_now: Vec<usize> = Vec::new();

        while stats.len() < n_merges {
            let Some(top) = heap.pop() else {
                return Err(TokError::Param(format!(
                    "only {} merges are possible on this corpus ({} bases in {} segments); {} were asked",
                    stats.len(),
                    self.bases,
                    self.segments,
                    n_merges
                )));
            };
            let (a, b) = top.pair.0;
            let slot = index.get(a, b).expect("heap pairs are indexed") as usize;
            let current = pairs.count[slot].max(0) as u64;
            if banned[slot] {
                continue;
            }
            if current != top.count {
                if current > 0 {
                    heap.push(Candidate {
                        count: current,
                        pair: top.pair,
                    });
                }
                continue;
            }
            if current == 0 {
                continue;
            }
            let text = format!("{}{}", self.tokens[a as usize], self.tokens[b as usize]);
            if self.index.contains_key(&text) {
                banned[slot] = true;
                skipped += 1;
                continue;
            }
            let t = self.tokens.len() as u16;
            self.index.insert(text.clone(), t as u32);
            self.tokens.push(text);
            self.tok_len
                .push(self.tok_len[a as usize] + self.tok_len[b as usize]);
            let la = self.tok_len[a as usize] as usize;
            let lb = self.tok_len[b as usize] as usize;

            let mut list = std::mem::take(&mut pairs.positions[slot]);
            live_entries -= list.len();
            if a == b {
                list.sort_unstable();
            }
            epoch += 1;
            touched_now.clear();
            let mut applied = 0u64;
            for &p in &list {
                let p = p as usize;
                if self.syms[p] != a {
                    continue;
                }
                let q = p + la;
                if self.syms[q] != b {
                    continue;
                }
                let r = q + lb;
                if let Some(x_start) = self.prev_start(p) {
                    let x = self.syms[x_start];
                    if let Some(s) = index.get(x, a) {
                        pairs.count[s as usize] -= 1;
                    }
                    let s = slot_of(&mut index, &mut pairs, x, t);
                    pairs.count[s] += 1;
                    pairs.positions[s].push(x_start as u32);
                    live_entries += 1;
                    if pairs.touched[s] != epoch {
                        pairs.touched[s] = epoch;
                        touched_now.push(s);
                    }
                }
                let y = self.syms[r];
                if y != SEP {
                    if let Some(s) = index.get(b, y) {
                        pairs.count[s as usize] -= 1;
                    }
                    let s = slot_of(&mut index, &mut pairs, t, y);
                    pairs.count[s] += 1;
                    pairs.positions[s].push(p as u32);
                    live_entries += 1;
                    if pairs.touched[s] != epoch {
                        pairs.touched[s] = epoch;
                        touched_now.push(s);
                    }
                }
                self.syms[q] = NON_START;
                self.set_tail(r - 1, p);
                self.syms[p] = t;
                applied += 1;
            }
            pairs.count[slot] = 0;
            drop(list);
            if banned.len() < pairs.pair.len() {
                banned.resize(pairs.pair.len(), false);
            }
            for &s in &touched_now {
                if pairs.count[s] > 0 {
                    heap.push(Candidate {
                        count: pairs.count[s] as u64,
                        pair: Reverse(pairs.pair[s]),
                    });
                }
            }
            stats.push(MergeStat {
                left: a as u32,
                right: b as u32,
                result: t as u32,
                pair_count: top.count,
                applied,
            });
            if live_entries > compact_at {
                live_entries = self.compact(&mut pairs);
            }
        }
        Ok((stats, skipped))
    }

    /// Drop stale positions from every list; returns the entries left.
    fn compact(&self, pairs: &mut Pairs) -> usize {
        let mut total = 0;
        for (s, list) in pairs.positions.iter_mut().enumerate() {
            let (a, b) = pairs.pair[s];
            list.retain(|&p| {
                let p = p as usize;
                self.syms[p] == a && self.syms[p + self.tok_len[a as usize] as usize] == b
            });
            list.shrink_to_fit();
            total += list.len();
        }
        total
    }

    /// Call `f` with the token ids of every segment, in corpus order.
    fn for_each_segment(&self, mut f: impl FnMut(&[u32])) {
        let mut buf = Vec::new();
        let mut i = 1;
        while i < self.syms.len() {
            let v = self.syms[i];
            if v == SEP {
                f(&buf);
                buf.clear();
                i += 1;
            } else {
                buf.push(v as u32);
                i += self.tok_len[v as usize] as usize;
            }
        }
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
    fn long_tokens_use_the_side_table() {
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
