//! One worker's part of a BPE training corpus, merged in two phases.
//!
//! - **Scan** (the first, dense merges: the first one applies to one base
//!   in eight). The corpus is one byte per id (the trainer switches before
//!   an id needs two). A merge is one pass over the shard: a vectorised
//!   search finds each occurrence, and the symbols between occurrences move
//!   down in place, so the array shrinks as tokens grow.
//! - **Index** (the sparse rest: by merge 100 of BPE-600 on human DNA a pair
//!   occurs once in 500 tokens). A merge visits only the positions of its
//!   own pair. On the 7 Mb benchmark input the switch comes at merge 51.
//!
//! Layout in the index phase:
//! - `flat`: the shard as one array of two-byte ids (segments separated by
//!   [`SEP`]). A merge writes the new id at the left token's position and
//!   [`DEAD`] at the right token's, so a token keeps its position for life
//!   and a position (a `u32` index) never moves.
//! - `listed`: the positions of every pair present at the switch, grouped
//!   by pair by one counting sort.
//! - `made`: for every token `t` made since, the positions where its merge
//!   put it; the first time a pair with `t` is merged they are grouped by
//!   their current neighbours (`young`), so that later pairs with `t` are
//!   read from one group.
//!
//! Why that finds every occurrence: two tokens can only become neighbours
//! when the younger of the two is made (two existing tokens never become
//! adjacent without one of them changing). So a pair of tokens that both
//! existed at the switch occurs only where `listed` says, and a pair whose
//! younger token is `t` occurs only next to where the merge that made `t`
//! put it: `(x, t)` where such a `t` (still there) has `x` as its left
//! neighbour, `(t, y)` where it has `y` on its right. Both come out in
//! increasing order. Listed positions go stale when a neighbour merges
//! later; a visit checks that the pair is still there. Visiting in increasing
//! order also makes runs of equal tokens (`AAAA` merged by `A`+`A`) merge
//! left to right, as the scan does. On BPE-600 only 31 of the 549 merges
//! after the switch involve a token made after it, so the records are
//! rarely read; they cost four bytes per application.
//!
//! Each shard keeps the counts of its own pairs, updated by its own merges
//! (in parallel); the trainer adds them up for the pairs it looks at.

use rustc_hash::FxHashMap;
use wide::u8x16;

use super::chunk::Chunk;
use super::counts::{key, Table};
use super::FIRST_BASE_ID;

/// Separator after each segment (the `[PAD]` id, which never pairs).
pub(super) const SEP: u16 = 0;
/// The right half of a merged pair.
pub(super) const DEAD: u16 = u16::MAX;

/// Positions decoded and loaded at once: loading a batch before looking at
/// it lets the processor fetch many cache lines at the same time.
const BATCH: usize = 128;

/// Where a scan-phase merge stands in one chunk, compacted in place:
/// `x[r..]` is still to move down, to `x[w..]`.
struct Compactor<'a> {
    x: &'a mut [u8],
    r: usize,
    w: usize,
    /// The new token.
    t: u8,
}

impl Compactor<'_> {
    /// Merge the pair at `p` (`p >= r`) and tally its neighbours.
    #[inline(always)]
    fn take(&mut self, p: usize, left: &mut [u32], right: &mut [u32]) {
        let x = &mut *self.x;
        // Neighbours: the final left one (the new token if the last match
        // ended just before), the original right one. A chunk starts and
        // ends with SEP, so p >= 1 and p + 2 < its length.
        let l = if p == self.r { self.t } else { x[p - 1] };
        left[l as usize] += 1;
        right[x[p + 2] as usize] += 1;
        // Move x[r..p] down to w. Once 32 or more symbols have gone, whole
        // 32-byte blocks are safe: each is read before it is written, and
        // every write ends below p (w + gap <= p - 32, plus at most 31).
        // The first block is copied whatever the gap (most gaps are short).
        let gap = p - self.r;
        if self.r - self.w >= 32 {
            let mut i = 0;
            loop {
                let (from, to) = (self.r + i, self.w + i);
                let block: [u8; 32] = x[from..from + 32].try_into().expect("32 bytes");
                x[to..to + 32].copy_from_slice(&block);
                i += 32;
                if i >= gap {
                    break;
                }
            }
        } else {
            x.copy_within(self.r..p, self.w);
        }
        self.w += gap;
        x[self.w] = self.t;
        self.w += 1;
        self.r = p + 2;
    }
}

/// The positions of every pair present when the index phase starts,
/// grouped by pair (a counting sort): the pair `(a, b)`, both below
/// `width`, has `positions[ends[j - 1]..ends[j]]` with `j = a * width + b`.
#[derive(Debug)]
struct Listed {
    width: usize,
    ends: Vec<u32>,
    positions: Chunk<u32>,
}

impl Default for Listed {
    fn default() -> Listed {
        Listed {
            width: 0,
            ends: Vec::new(),
            positions: Chunk::with_capacity(0),
        }
    }
}

impl Listed {
    /// The positions of pair `(a, b)`, if it was present at the switch.
    fn get(&self, a: u16, b: u16) -> Option<&[u32]> {
        let (a, b) = (a as usize, b as usize);
        if a >= self.width || b >= self.width {
            return None;
        }
        let j = a * self.width + b;
        let start = if j == 0 { 0 } else { self.ends[j - 1] };
        Some(&self.positions.as_slice()[start as usize..self.ends[j] as usize])
    }
}

/// The positions of a token made in the index phase, grouped by its
/// neighbours: `(left id, left neighbour's position)` and `(right id, the
/// token's position)`, sorted.
#[derive(Debug, Default)]
struct Young {
    by_left: Vec<(u16, u32)>,
    by_right: Vec<(u16, u32)>,
}

/// Per-neighbour tallies of one merge `(a, b) -> t` on one shard.
#[derive(Debug)]
struct Tally {
    /// `left[x]`: merges whose left neighbour was `x` (pair `(x, a)` lost,
    /// `(x, t)` gained); `right[x]` likewise for `(b, x)` and `(t, x)`.
    left: Vec<u32>,
    right: Vec<u32>,
    left_seen: Vec<u16>,
    right_seen: Vec<u16>,
    values: Vec<u16>,
    /// The positions a merge visits.
    positions: Vec<u32>,
}

impl Tally {
    fn new(max_id: usize) -> Tally {
        let n = max_id + 1;
        Tally {
            left: vec![0; n],
            right: vec![0; n],
            left_seen: Vec::new(),
            right_seen: Vec::new(),
            values: Vec::with_capacity(BATCH),
            positions: Vec::new(),
        }
    }
}

/// The first position before `i` that holds a token (not [`DEAD`]); a
/// segment starts with SEP, so there is one.
#[inline]
fn live_before(x: &[u16], i: usize) -> usize {
    let mut l = i - 1;
    while x[l] == DEAD {
        l -= 1;
    }
    l
}

/// The first position after `i` that holds a token (a segment ends with SEP).
#[inline]
fn live_after(x: &[u16], i: usize) -> usize {
    let mut r = i + 1;
    while x[r] == DEAD {
        r += 1;
    }
    r
}

#[derive(Debug)]
pub(super) struct Shard {
    /// Scan phase: the corpus as one-byte ids (every id made in the scan
    /// phase fits; the trainer switches to the index before one does not).
    narrow: Vec<Chunk<u8>>,
    /// Index phase: the whole shard as one array of two-byte ids; a
    /// position is an index into it.
    flat: Chunk<u16>,
    /// The positions of every pair present at the switch.
    listed: Listed,
    /// False in the scan phase (chunks compacted by every merge, no
    /// lists), true in the index phase.
    indexed: bool,
    /// For every token made in the index phase (by id), the positions where
    /// its merge put it, in increasing order.
    made: Vec<Vec<u32>>,
    /// Those positions grouped by neighbour, for the tokens a merge has
    /// asked about.
    young: FxHashMap<u16, Young>,
    tally: Tally,
    /// Occurrences of every pair in this shard (fewer than 2^32 symbols,
    /// so a `u32` holds any count).
    counts: Table<u32>,
    /// The new pairs the last merge made here, as keys, and (once it is
    /// done) their counts here.
    fresh: Vec<(u32, u32)>,
}

impl Shard {
    /// A shard over `chunks` (token ids of bases only, see [`super::BpeCorpus`];
    /// fewer than 2^32 in all) for token ids up to `max_id`, in the scan
    /// phase; also returns the count of every base.
    pub(super) fn new(chunks: Vec<Chunk<u8>>, max_id: usize) -> (Shard, [u64; 4]) {
        // The corpus holds SEP and bases only (ids below 16): count every
        // window by its two ids, in four tables taken in turn so that
        // consecutive increments do not wait on each other.
        let mut n = [[0u32; 256]; 4];
        // Both ids are below 16, so the two fit one byte.
        let slot = |l: u8, r: u8| (l << 4 | r) as usize;
        for chunk in &chunks {
            let x = chunk.as_slice();
            let windows = x.len() - 1;
            let mut i = 0;
            while i + 4 <= windows {
                for (k, table) in n.iter_mut().enumerate() {
                    table[slot(x[i + k], x[i + k + 1])] += 1;
                }
                i += 4;
            }
            for j in i..windows {
                n[0][slot(x[j], x[j + 1])] += 1;
            }
        }
        let first = FIRST_BASE_ID as usize;
        let pair = |l: usize, r: usize| n.iter().map(|t| t[l << 4 | r]).sum::<u32>();
        let mut counts = Table::new(max_id);
        let mut bases = [0u64; 4];
        for (i, base) in bases.iter_mut().enumerate() {
            // Every base is the left side of one window (chunks end in SEP).
            *base = (0..16).map(|r| pair(first + i, r) as u64).sum();
            for j in 0..4 {
                counts.add(
                    key((first + i) as u16, (first + j) as u16),
                    pair(first + i, first + j),
                );
            }
        }
        let shard = Shard {
            narrow: chunks,
            flat: Chunk::with_capacity(0),
            listed: Listed::default(),
            indexed: false,
            made: Vec::new(),
            young: FxHashMap::default(),
            tally: Tally::new(max_id),
            counts,
            fresh: Vec::new(),
        };
        (shard, bases)
    }

    /// Leave the scan phase (every id in the corpus is below `ids`): lay the
    /// chunks end to end as two-byte ids, and list the positions of every
    /// pair, by a counting sort.
    pub(super) fn index(&mut self, ids: u16) {
        let total: usize = self.narrow.iter().map(Chunk::len).sum();
        assert!(
            total < u32::MAX as usize,
            "a shard holds fewer than 2^32 symbols"
        );
        let mut flat = Chunk::with_capacity_huge(total);
        for n in std::mem::take(&mut self.narrow) {
            flat.extend(n.as_slice().iter().map(|&s| s as u16));
        }
        let width = ids as usize;
        let slot = |w: &[u16]| w[0] as usize * width + w[1] as usize;
        // at[j]: positions of pair slot j, then (prefix sums) where its
        // part starts, then where it ends.
        let mut at = vec![0u32; width * width];
        for w in flat.as_slice().windows(2) {
            if w[0] != SEP && w[1] != SEP {
                at[slot(w)] += 1;
            }
        }
        let mut start = 0u32;
        for n in at.iter_mut() {
            (*n, start) = (start, start + *n);
        }
        let mut sorted = Chunk::with_capacity_huge(start as usize);
        let out = sorted.room_mut();
        for (i, w) in flat.as_slice().windows(2).enumerate() {
            if w[0] != SEP && w[1] != SEP {
                let j = slot(w);
                out[at[j] as usize] = i as u32;
                at[j] += 1;
            }
        }
        sorted.set_len(start as usize);
        self.listed = Listed {
            width,
            ends: at,
            positions: sorted,
        };
        self.flat = flat;
        self.indexed = true;
    }

    /// Apply merge `(a, b) -> t` at every current occurrence, left to right,
    /// and update the counts; [`Shard::fresh`] then holds the new pairs.
    pub(super) fn merge(&mut self, a: u16, b: u16, t: u16) -> u64 {
        self.fresh.clear();
        let applied = if self.indexed {
            self.merge_indexed(a, b, t)
        } else {
            self.merge_by_scan(a, b, t)
        };
        // Left to right, every occurrence merges or overlaps one that did:
        // none is left.
        self.counts.take(key(a, b));
        for (k, n) in &mut self.fresh {
            *n = self.counts.get(*k);
        }
        applied
    }

    /// The positions where pair `(a, b)` may be, in increasing order, into
    /// `out`: its list from the switch, or, for a pair with a token made
    /// since, the record of the merge that made the younger token (see the
    /// module documentation).
    fn positions(&mut self, a: u16, b: u16, out: &mut Vec<u32>) {
        out.clear();
        if let Some(listed) = self.listed.get(a, b) {
            out.extend_from_slice(listed);
            return;
        }
        // The younger token t is still where its merge put it; its current
        // neighbour on the other side decides. The first time a pair with t
        // is merged, t's positions are grouped by their neighbours (new
        // pairs with t never appear later, so the groups stay complete).
        let (t, left) = if b >= a { (b, true) } else { (a, false) };
        if !self.young.contains_key(&t) {
            let Some(made) = self.made.get_mut(t as usize).map(std::mem::take) else {
                return;
            };
            let x = self.flat.as_slice();
            let mut young = Young::default();
            for &p in &made {
                let p = p as usize;
                if x[p] != t {
                    continue;
                }
                let (l, r) = (live_before(x, p), live_after(x, p));
                young.by_left.push((x[l], l as u32));
                young.by_right.push((x[r], p as u32));
            }
            young.by_left.sort_unstable();
            young.by_right.sort_unstable();
            self.young.insert(t, young);
        }
        let young = &self.young[&t];
        let (groups, id) = if left {
            (&young.by_left, a)
        } else {
            (&young.by_right, b)
        };
        let start = groups.partition_point(|&(g, _)| g < id);
        out.extend(
            groups[start..]
                .iter()
                .take_while(|&&(g, _)| g == id)
                .map(|&(_, p)| p),
        );
    }

    fn merge_indexed(&mut self, a: u16, b: u16, t: u16) -> u64 {
        let mut positions = std::mem::take(&mut self.tally.positions);
        self.positions(a, b, &mut positions);
        let x = self.flat.as_mut_slice();
        let tl = &mut self.tally;
        let mut made = Vec::new();
        for batch in positions.chunks(BATCH) {
            tl.values.clear();
            tl.values.extend(batch.iter().map(|&p| x[p as usize]));
            for (&p, &v) in batch.iter().zip(&tl.values) {
                // A position only ever changes to `t` or DEAD, never to `a`,
                // so a loaded value that is not `a` is still not `a`.
                if v != a {
                    continue;
                }
                let o = p as usize;
                if x[o] != a {
                    continue;
                }
                let q = live_after(x, o);
                if x[q] != b {
                    continue;
                }
                let (l, r) = (live_before(x, o), live_after(x, q));
                x[o] = t;
                x[q] = DEAD;
                let (left, right) = (x[l], x[r]);
                let i = left as usize;
                if tl.left[i] == 0 {
                    tl.left_seen.push(left);
                }
                tl.left[i] += 1;
                let i = right as usize;
                if tl.right[i] == 0 {
                    tl.right_seen.push(right);
                }
                tl.right[i] += 1;
                made.push(p);
            }
        }
        tl.positions = positions;
        self.settle(a, b, t);
        let applied = made.len() as u64;
        if self.made.len() <= t as usize {
            self.made.resize_with(t as usize + 1, Vec::new);
        }
        made.shrink_to_fit();
        self.made[t as usize] = made;
        applied
    }

    /// The new pairs the last merge made here (each once), as keys, with
    /// their counts here.
    pub(super) fn fresh(&self) -> &[(u32, u32)] {
        &self.fresh
    }

    /// Occurrences of pair `k` here.
    pub(super) fn count(&self, k: u32) -> u32 {
        self.counts.get(k)
    }

    /// Occurrences of every pair here.
    pub(super) fn counts(&self) -> &Table<u32> {
        &self.counts
    }

    /// Scan phase: apply merge `(a, b) -> t` by one pass over every chunk,
    /// which also removes the merged-away positions.
    ///
    /// Each step compares 32 positions at once (two 16-byte vectors per
    /// side, `wide`), giving a bit mask of the positions where `(a, b)`
    /// starts; matches are taken left to right, one that overlaps the
    /// previous one is skipped (runs of equal tokens). The symbols between
    /// matches move down in 32-byte blocks (see [`Compactor::take`]).
    fn merge_by_scan(&mut self, a16: u16, b16: u16, t16: u16) -> u64 {
        const W: usize = 32;
        let narrow = |id: u16| u8::try_from(id).expect("scan-phase ids fit in a byte");
        let (a, b, t) = (narrow(a16), narrow(b16), narrow(t16));
        let (va, vb) = (u8x16::splat(a), u8x16::splat(b));
        let load = |x: &[u8], i: usize| u8x16::new(x[i..i + 16].try_into().expect("16 bytes"));
        let tl = &mut self.tally;
        let (left, right) = (&mut tl.left, &mut tl.right);
        let mut applied = 0u64;
        for chunk in &mut self.narrow {
            let n = chunk.len();
            // The room has slack behind the ids for whole-vector loads.
            let mut out = Compactor {
                x: chunk.room_mut(),
                r: 0,
                w: 0,
                t,
            };
            // Blocks of W pair starts, all with p + 1 < n. A block is
            // loaded before any of its symbols moves (writes stay below
            // the match being taken).
            let mut i = 0;
            while i + W < n {
                let x = &*out.x;
                let m0 = load(x, i).simd_eq(va) & load(x, i + 1).simd_eq(vb);
                let m1 = load(x, i + 16).simd_eq(va) & load(x, i + 17).simd_eq(vb);
                let mut m = m0.to_bitmask() | m1.to_bitmask() << 16;
                while m != 0 {
                    let p = i + m.trailing_zeros() as usize;
                    m &= m - 1;
                    if p >= out.r {
                        out.take(p, left, right);
                        applied += 1;
                    }
                }
                i += W;
            }
            for p in i..n.saturating_sub(1) {
                if p >= out.r && out.x[p] == a && out.x[p + 1] == b {
                    out.take(p, left, right);
                    applied += 1;
                }
            }
            let (r, w) = (out.r, out.w);
            out.x.copy_within(r..n, w);
            chunk.set_len(w + n - r);
        }
        // Only one-byte ids can have been seen.
        for x in 0..left.len().min(256) {
            if left[x] > 0 {
                tl.left_seen.push(x as u16);
            }
            if right[x] > 0 {
                tl.right_seen.push(x as u16);
            }
        }
        self.settle(a16, b16, t16);
        applied
    }

    /// Count changes of merge `(a, b) -> t` from its tallies: `(x, a)`
    /// became `(x, t)` `left[x]` times, `(b, x)` became `(t, x)` `right[x]`
    /// times (for the ids in `left_seen` and `right_seen`; the tallies are
    /// cleared). Gains go first: a pair such as `(t, a)` is gained by one
    /// application and lost by the next one to its right, and a count must
    /// not go below zero on the way. SEP neighbours do not pair.
    fn settle(&mut self, a: u16, b: u16, t: u16) {
        let tl = &mut self.tally;
        let counts = &mut self.counts;
        for &x in tl.left_seen.iter().filter(|&&x| x != SEP) {
            counts.add(key(x, t), tl.left[x as usize]);
            self.fresh.push((key(x, t), 0));
        }
        for &x in tl.right_seen.iter().filter(|&&x| x != SEP) {
            counts.add(key(t, x), tl.right[x as usize]);
            self.fresh.push((key(t, x), 0));
        }
        for &x in &tl.left_seen {
            let n = std::mem::take(&mut tl.left[x as usize]);
            if x != SEP {
                counts.sub(key(x, a), n);
            }
        }
        for &x in &tl.right_seen {
            let n = std::mem::take(&mut tl.right[x as usize]);
            if x != SEP {
                counts.sub(key(b, x), n);
            }
        }
        tl.left_seen.clear();
        tl.right_seen.clear();
    }

    /// Append every segment's tokens, in order, to `out`.
    pub(super) fn segments(&self, out: &mut Vec<Vec<u32>>) {
        for chunk in &self.narrow {
            for seg in chunk.as_slice().split(|&s| s == SEP as u8) {
                if !seg.is_empty() {
                    out.push(seg.iter().map(|&s| s as u32).collect());
                }
            }
        }
        for seg in self.flat.as_slice().split(|&s| s == SEP) {
            if !seg.is_empty() {
                out.push(
                    seg.iter()
                        .filter(|&&s| s != DEAD)
                        .map(|&s| s as u32)
                        .collect(),
                );
            }
        }
    }
}
