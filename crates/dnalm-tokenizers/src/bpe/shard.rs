//! One worker's part of a BPE training corpus, merged in two phases.
//!
//! - **Scan** (the first, dense merges: the first one applies to one base
//!   in eight). A merge is one pass over the shard: a vectorised search
//!   finds each occurrence, and the symbols between occurrences move down by
//!   block copies, so the array shrinks as tokens grow.
//! - **Index** (the sparse rest: by merge 100 of BPE-600 on human DNA a pair
//!   occurs once in 500 tokens). Every pair's positions are listed once,
//!   and a merge visits only the positions of its own pair. On the 7 Mb
//!   benchmark input the switch comes at about merge 50.
//!
//! Layout:
//! - `chunks`: the segments as token ids, each chunk `[SEP, seg, SEP, seg,
//!   ..., SEP]`. In the index phase a merge writes the new id at the left
//!   token's position and [`DEAD`] at the right token's, so a token keeps
//!   its position for life and positions never move. A position is
//!   `chunk << 32 | offset`.
//! - `lists`: for every pair worth one, the positions of its left token,
//!   sorted ([`PairList`], in a [`Pool`]).
//!
//! Why one write per list is enough: a pair of tokens can only become
//! neighbours when the younger of the two is made (two existing tokens never
//! become adjacent without one of them changing). So the lists of all pairs
//! present are written at the switch, and the merge that makes token `t`
//! writes the lists of the pairs `(x, t)` and `(t, x)` it created, in
//! increasing order because it visits its own positions in increasing order.
//! Entries go stale when a neighbour later merges; a visit checks that the
//! pair is still there. Visiting in increasing order also makes runs of
//! equal tokens (`AAAA` merged by `A`+`A`) merge left to right, as the scan
//! does.
//!
//! Most new pairs are rare and never merged; a pair below the trainer's
//! floor gets no list, and if it is merged after all, its positions are
//! found by a scan ([`Shard::scan`]). Either way the merges are exact.

use rustc_hash::FxHashMap;
use wide::u8x16;

use super::chunk::Chunk;
use super::counts::{key, Table};
use super::plist::{PairList, Pool};
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
        // Move x[r..p] down to w. Once 16 or more symbols have gone, whole
        // 16-byte blocks are safe: each is read before it is written, and
        // every write ends below p (w + gap <= p - 16, plus at most 15).
        let gap = p - self.r;
        if self.r - self.w >= 16 {
            let mut i = 0;
            while i < gap {
                let (from, to) = (self.r + i, self.w + i);
                let block: [u8; 16] = x[from..from + 16].try_into().expect("16 bytes");
                x[to..to + 16].copy_from_slice(&block);
                i += 16;
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

/// Per-neighbour tallies of one merge `(a, b) -> t` on one shard.
#[derive(Debug)]
struct Tally {
    /// `left[x]`: merges whose left neighbour was `x` (pair `(x, a)` lost,
    /// `(x, t)` gained); `right[x]` likewise for `(b, x)` and `(t, x)`.
    left: Vec<u32>,
    right: Vec<u32>,
    /// The lists of the new pairs `(x, t)` and `(t, x)` being written, and
    /// how many positions each has so far.
    left_list: Vec<(PairList, u32)>,
    right_list: Vec<(PairList, u32)>,
    left_seen: Vec<u16>,
    right_seen: Vec<u16>,
    values: Vec<u16>,
    /// The merges made: position, left neighbour's position, left and
    /// right neighbour ids.
    apps: Vec<(u32, u32, u16, u16)>,
}

impl Tally {
    fn new(max_id: usize) -> Tally {
        let n = max_id + 1;
        Tally {
            left: vec![0; n],
            right: vec![0; n],
            left_list: vec![Default::default(); n],
            right_list: vec![Default::default(); n],
            left_seen: Vec::new(),
            right_seen: Vec::new(),
            values: Vec::with_capacity(BATCH),
            apps: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub(super) struct Shard {
    /// Scan phase: the corpus as one-byte ids (every id made in the scan
    /// phase fits; the trainer switches to the index before one does not).
    narrow: Vec<Chunk<u8>>,
    /// Index phase: the whole shard as one array of two-byte ids; a
    /// position is an index into it.
    flat: Chunk<u16>,
    lists: FxHashMap<u32, PairList>,
    pool: Pool,
    /// False in the scan phase (chunks compacted by every merge, no
    /// lists), true in the index phase.
    indexed: bool,
    /// Pairs present here but without a list (1).
    unlisted: Table<u8>,
    tally: Tally,
    /// Occurrences of every pair in this shard (fewer than 2^32 symbols,
    /// so a `u32` holds any count).
    counts: Table<u32>,
    /// The new pairs the last merge made here, as keys.
    fresh: Vec<u32>,
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
            lists: FxHashMap::default(),
            pool: Pool::default(),
            indexed: false,
            unlisted: Table::new(max_id),
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
        let mut flat = Chunk::with_capacity(total);
        for n in std::mem::take(&mut self.narrow) {
            flat.extend(n.as_slice().iter().map(|&s| s as u16));
        }
        let width = ids as usize;
        let slot = |w: &[u16]| w[0] as usize * width + w[1] as usize;
        let mut at = vec![0u32; width * width];
        for w in flat.as_slice().windows(2) {
            if w[0] != SEP && w[1] != SEP {
                at[slot(w)] += 1;
            }
        }
        let all = self.pool.alloc(at.iter().map(|&n| n as usize).sum());
        let mut start = 0u32;
        for (j, n) in at.iter_mut().enumerate() {
            if *n > 0 {
                let k = key((j / width) as u16, (j % width) as u16);
                self.lists.insert(k, all.sub(start, *n));
            }
            (*n, start) = (start, start + *n);
        }
        let out = self.pool.get_mut(all);
        for (i, w) in flat.as_slice().windows(2).enumerate() {
            if w[0] != SEP && w[1] != SEP {
                let j = slot(w);
                out[at[j] as usize] = i as u32;
                at[j] += 1;
            }
        }
        self.flat = flat;
        self.indexed = true;
    }

    /// Forget pair `(a, b)` (it will never be merged).
    pub(super) fn drop_pair(&mut self, a: u16, b: u16) {
        self.lists.remove(&key(a, b));
        self.unlisted.take(key(a, b));
    }

    /// Apply merge `(a, b) -> t` at every current occurrence, left to right,
    /// and update the counts; [`Shard::fresh`] then holds the new pairs.
    ///
    /// In the index phase, the new pairs get a position list here if they
    /// occur at least `floor / shards` times in this shard; rarer ones are
    /// not worth a list (most are never merged), and are listed by a scan if
    /// they ever are.
    pub(super) fn merge(&mut self, a: u16, b: u16, t: u16, floor: u64, shards: u64) -> u64 {
        self.fresh.clear();
        let applied = if self.indexed {
            self.merge_indexed(a, b, t, floor, shards)
        } else {
            self.merge_by_scan(a, b, t)
        };
        // Left to right, every occurrence merges or overlaps one that did:
        // none is left.
        self.counts.take(key(a, b));
        applied
    }

    fn merge_indexed(&mut self, a: u16, b: u16, t: u16, floor: u64, shards: u64) -> u64 {
        let k = key(a, b);
        let list = match self.lists.remove(&k) {
            Some(list) => list,
            None if self.unlisted.take(k) != 0 => self.scan(a, b),
            None => return 0,
        };
        let x = self.flat.as_mut_slice();
        let tl = &mut self.tally;
        let mut applied = 0u64;
        for batch in self.pool.get(list).chunks(BATCH) {
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
                let mut q = o + 1;
                while x[q] == DEAD {
                    q += 1;
                }
                if x[q] != b {
                    continue;
                }
                let mut l = o - 1;
                while x[l] == DEAD {
                    l -= 1;
                }
                let mut r = q + 1;
                while x[r] == DEAD {
                    r += 1;
                }
                x[o] = t;
                x[q] = DEAD;
                applied += 1;
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
                tl.apps.push((p, l as u32, left, right));
            }
        }
        // Count changes, and which new pairs are frequent enough for a list.
        let counts = &mut self.counts;
        let worth = |n: u32| n as u64 * shards >= floor;
        for &x in &tl.left_seen {
            let n = tl.left[x as usize];
            if x != SEP {
                counts.sub(key(x, a), n);
                counts.add(key(x, t), n);
                self.fresh.push(key(x, t));
                if worth(n) {
                    tl.left_list[x as usize] = (self.pool.alloc(n as usize), 0);
                } else {
                    self.unlisted.add(key(x, t), 1);
                }
            }
        }
        for &x in &tl.right_seen {
            let n = tl.right[x as usize];
            if x != SEP {
                counts.sub(key(b, x), n);
                counts.add(key(t, x), n);
                self.fresh.push(key(t, x));
                if worth(n) {
                    tl.right_list[x as usize] = (self.pool.alloc(n as usize), 0);
                } else {
                    self.unlisted.add(key(t, x), 1);
                }
            }
        }
        // Lists of the frequent ones, from the merges just made (in
        // increasing position, so each list is sorted).
        let kept = |x: u16, n: &[u32]| x != SEP && worth(n[x as usize]);
        for &(p, l, left, right) in &tl.apps {
            if kept(left, &tl.left) {
                let (list, at) = &mut tl.left_list[left as usize];
                self.pool.get_mut(*list)[*at as usize] = l;
                *at += 1;
            }
            if kept(right, &tl.right) {
                let (list, at) = &mut tl.right_list[right as usize];
                self.pool.get_mut(*list)[*at as usize] = p;
                *at += 1;
            }
        }
        tl.apps.clear();
        for &x in &tl.left_seen {
            if kept(x, &tl.left) {
                self.lists.insert(key(x, t), tl.left_list[x as usize].0);
            }
            tl.left[x as usize] = 0;
        }
        for &x in &tl.right_seen {
            if kept(x, &tl.right) {
                self.lists.insert(key(t, x), tl.right_list[x as usize].0);
            }
            tl.right[x as usize] = 0;
        }
        tl.left_seen.clear();
        tl.right_seen.clear();
        applied
    }

    /// The new pairs the last merge made here (each once), as keys.
    pub(super) fn fresh(&self) -> &[u32] {
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
    /// matches move down in 16-byte blocks (see [`Compactor::take`]).
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
        // SEP neighbours do not pair (index 0 is SEP).
        left[SEP as usize] = 0;
        right[SEP as usize] = 0;
        let counts = &mut self.counts;
        let (a, b, t) = (a16, b16, t16);
        for x in 1..left.len() {
            let (l, r) = (std::mem::take(&mut left[x]), std::mem::take(&mut right[x]));
            let x = x as u16;
            if l > 0 {
                counts.sub(key(x, a), l);
                counts.add(key(x, t), l);
                self.fresh.push(key(x, t));
            }
            if r > 0 {
                counts.sub(key(b, x), r);
                counts.add(key(t, x), r);
                self.fresh.push(key(t, x));
            }
        }
        applied
    }

    /// The positions of pair `(a, b)`, by a scan (for a pair without a list).
    fn scan(&mut self, a: u16, b: u16) -> PairList {
        let mut list = Vec::new();
        let x = self.flat.as_slice();
        let mut prev = 0;
        for (i, &s) in x.iter().enumerate() {
            if s == DEAD {
                continue;
            }
            if s == b && x[prev] == a {
                list.push(prev as u32);
            }
            prev = i;
        }
        self.pool.list_of(&list)
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
