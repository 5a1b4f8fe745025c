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

use super::chunk::Chunk;
use super::counts::{key, Table};
use super::plist::{ListWriter, PairList, Pool};
use super::FIRST_BASE_ID;

/// Separator after each segment (the `[PAD]` id, which never pairs).
pub(super) const SEP: u16 = 0;
/// The right half of a merged pair.
pub(super) const DEAD: u16 = u16::MAX;

/// Positions decoded and loaded at once: loading a batch before looking at
/// it lets the processor fetch many cache lines at the same time.
const BATCH: usize = 128;

/// Index of the first `i` with `x[i] == a && x[i + 1] == b`. Written as
/// fixed-width OR-reductions so that the compiler vectorises the common
/// case of no match.
#[inline]
fn find_pair(x: &[u16], a: u16, b: u16) -> Option<usize> {
    const W: usize = 32;
    let n = x.len();
    let mut i = 0;
    while i + W < n {
        let c0 = &x[i..i + W];
        let c1 = &x[i + 1..i + W + 1];
        let mut mask = 0u32;
        for j in 0..W {
            mask |= (((c0[j] == a) & (c1[j] == b)) as u32) << j;
        }
        if mask != 0 {
            return Some(i + mask.trailing_zeros() as usize);
        }
        i += W;
    }
    (i..n.saturating_sub(1)).find(|&j| x[j] == a && x[j + 1] == b)
}

#[inline]
fn at(chunks: &[&mut [u16]], pos: u64) -> u16 {
    chunks[(pos >> 32) as usize][pos as u32 as usize]
}

/// Per-neighbour tallies of one merge `(a, b) -> t` on one shard.
#[derive(Debug)]
struct Tally {
    /// `left[x]`: merges whose left neighbour was `x` (pair `(x, a)` lost,
    /// `(x, t)` gained); `right[x]` likewise for `(b, x)` and `(t, x)`.
    left: Vec<u32>,
    right: Vec<u32>,
    left_w: Vec<ListWriter>,
    right_w: Vec<ListWriter>,
    left_seen: Vec<u16>,
    right_seen: Vec<u16>,
    batch: Vec<u64>,
    values: Vec<u16>,
    /// The merges made: position, left neighbour's offset, left and right
    /// neighbour ids.
    apps: Vec<(u64, u32, u16, u16)>,
}

impl Tally {
    fn new(max_id: usize) -> Tally {
        let n = max_id + 1;
        Tally {
            left: vec![0; n],
            right: vec![0; n],
            left_w: vec![ListWriter::default(); n],
            right_w: vec![ListWriter::default(); n],
            left_seen: Vec::new(),
            right_seen: Vec::new(),
            batch: Vec::with_capacity(BATCH),
            values: Vec::with_capacity(BATCH),
            apps: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub(super) struct Shard {
    chunks: Vec<Chunk>,
    lists: FxHashMap<u32, PairList>,
    pool: Pool,
    /// False in the scan phase (chunks compacted by every merge, no
    /// lists), true in the index phase.
    indexed: bool,
    /// Pairs present here but without a list (1).
    unlisted: Table<u8>,
    tally: Tally,
    /// Count changes of the last merge, by pair key.
    changes: Vec<(u32, i64)>,
}

impl Shard {
    /// A shard over `chunks` (token ids of bases only, see [`super::BpeCorpus`])
    /// for token ids up to `max_id`, in the scan phase; also returns the
    /// count of every pair and of every base.
    pub(super) fn new(chunks: Vec<Chunk>, max_id: usize) -> (Shard, Vec<(u32, i64)>, [u64; 4]) {
        // The corpus holds bases only (ids FIRST_BASE_ID..+4): 16 pairs.
        let first = FIRST_BASE_ID as usize;
        let mut n = [0i64; 16];
        let mut ids = [0u64; FIRST_BASE_ID as usize + 4];
        for chunk in &chunks {
            // Every base is the left side of one window (chunks end in SEP).
            for w in chunk.as_slice().windows(2) {
                ids[w[0] as usize] += 1;
                if w[0] != SEP && w[1] != SEP {
                    n[(w[0] as usize - first) * 4 + w[1] as usize - first] += 1;
                }
            }
        }
        let bases = [ids[first], ids[first + 1], ids[first + 2], ids[first + 3]];
        let counts = (0..16)
            .filter(|&j| n[j] > 0)
            .map(|j| (key((first + j / 4) as u16, (first + j % 4) as u16), n[j]))
            .collect();
        let shard = Shard {
            chunks,
            lists: FxHashMap::default(),
            pool: Pool::default(),
            indexed: false,
            unlisted: Table::new(max_id),
            tally: Tally::new(max_id),
            changes: Vec::new(),
        };
        (shard, counts, bases)
    }

    /// Leave the scan phase: list the positions of every pair for which
    /// `keep(pair key)` holds (the others are listed by a scan if they are
    /// ever merged).
    pub(super) fn index(&mut self, keep: impl Fn(u32) -> bool) {
        const NOT_KEPT: u32 = u32::MAX;
        // Pair -> writer slot + 1, or NOT_KEPT.
        let mut slots: Table<u32> = Table::new(self.tally.left.len() - 1);
        let mut writers: Vec<(u32, ListWriter)> = Vec::new();
        // Two passes over the corpus: sizes, then bytes.
        for pass in 0..2 {
            for (c, chunk) in self.chunks.iter().enumerate() {
                let base = (c as u64) << 32;
                for (i, w) in chunk.as_slice().windows(2).enumerate() {
                    if w[0] == SEP || w[1] == SEP {
                        continue;
                    }
                    let k = key(w[0], w[1]);
                    let slot = match slots.get(k) {
                        0 => {
                            let s = if keep(k) {
                                writers.push((k, ListWriter::default()));
                                writers.len() as u32
                            } else {
                                self.unlisted.add(k, 1);
                                NOT_KEPT
                            };
                            slots.add(k, s);
                            s
                        }
                        s => s,
                    };
                    if slot != NOT_KEPT {
                        let w = &mut writers[slot as usize - 1].1;
                        if pass == 0 {
                            w.size(base | i as u64);
                        } else {
                            w.write(&mut self.pool, base | i as u64);
                        }
                    }
                }
            }
            if pass == 0 {
                writers
                    .iter_mut()
                    .for_each(|(_, w)| w.start(&mut self.pool));
            }
        }
        self.lists = writers
            .into_iter()
            .map(|(k, mut w)| (k, w.finish()))
            .collect();
        self.indexed = true;
    }

    /// Forget pair `(a, b)` (it will never be merged).
    pub(super) fn drop_pair(&mut self, a: u16, b: u16) {
        self.lists.remove(&key(a, b));
        self.unlisted.take(key(a, b));
    }

    /// Apply merge `(a, b) -> t` at every current occurrence, left to right.
    ///
    /// The new pairs it creates get a position list here if they occur at
    /// least `floor / shards` times in this shard; rarer ones are not worth
    /// a list (most are never merged), and are listed by a scan if they ever
    /// are.
    pub(super) fn merge(&mut self, a: u16, b: u16, t: u16, floor: u64, shards: u64) -> u64 {
        self.changes.clear();
        if !self.indexed {
            return self.merge_by_scan(a, b, t);
        }
        let k = key(a, b);
        let list = match self.lists.remove(&k) {
            Some(list) => list,
            None if self.unlisted.take(k) != 0 => self.scan(a, b),
            None => return 0,
        };
        let mut views: Vec<&mut [u16]> = self.chunks.iter_mut().map(Chunk::as_mut_slice).collect();
        let chunks = &mut views[..];
        let tl = &mut self.tally;
        let mut applied = 0u64;
        let mut positions = self.pool.iter(list);
        loop {
            tl.batch.clear();
            tl.batch.extend(positions.by_ref().take(BATCH));
            if tl.batch.is_empty() {
                break;
            }
            tl.values.clear();
            tl.values.extend(tl.batch.iter().map(|&p| at(chunks, p)));
            for (&p, &v) in tl.batch.iter().zip(&tl.values) {
                // A position only ever changes to `t` or DEAD, never to `a`,
                // so a loaded value that is not `a` is still not `a`.
                if v != a {
                    continue;
                }
                let x = &mut chunks[(p >> 32) as usize];
                let o = p as u32 as usize;
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
        let changes = &mut self.changes;
        let worth = |n: u32| n as u64 * shards >= floor;
        for &x in &tl.left_seen {
            let n = tl.left[x as usize];
            if x != SEP {
                changes.push((key(x, a), -(n as i64)));
                changes.push((key(x, t), n as i64));
                if !worth(n) {
                    self.unlisted.add(key(x, t), 1);
                }
            }
        }
        for &x in &tl.right_seen {
            let n = tl.right[x as usize];
            if x != SEP {
                changes.push((key(b, x), -(n as i64)));
                changes.push((key(t, x), n as i64));
                if !worth(n) {
                    self.unlisted.add(key(t, x), 1);
                }
            }
        }
        // Lists of the frequent ones, from the merges just made (in
        // increasing position, so each list is sorted): sizes, then bytes.
        let kept_left = |x: u16, tl: &Tally| x != SEP && worth(tl.left[x as usize]);
        let kept_right = |x: u16, tl: &Tally| x != SEP && worth(tl.right[x as usize]);
        for &(p, l, left, right) in &tl.apps {
            if kept_left(left, tl) {
                tl.left_w[left as usize].size(p & !0xFFFF_FFFF | l as u64);
            }
            if kept_right(right, tl) {
                tl.right_w[right as usize].size(p);
            }
        }
        for &x in &tl.left_seen {
            if kept_left(x, tl) {
                tl.left_w[x as usize].start(&mut self.pool);
            }
        }
        for &x in &tl.right_seen {
            if kept_right(x, tl) {
                tl.right_w[x as usize].start(&mut self.pool);
            }
        }
        for &(p, l, left, right) in &tl.apps {
            if kept_left(left, tl) {
                tl.left_w[left as usize].write(&mut self.pool, p & !0xFFFF_FFFF | l as u64);
            }
            if kept_right(right, tl) {
                tl.right_w[right as usize].write(&mut self.pool, p);
            }
        }
        tl.apps.clear();
        for &x in &tl.left_seen {
            if kept_left(x, tl) {
                self.lists.insert(key(x, t), tl.left_w[x as usize].finish());
            }
            tl.left[x as usize] = 0;
        }
        for &x in &tl.right_seen {
            if kept_right(x, tl) {
                self.lists
                    .insert(key(t, x), tl.right_w[x as usize].finish());
            }
            tl.right[x as usize] = 0;
        }
        tl.left_seen.clear();
        tl.right_seen.clear();
        applied
    }

    /// Count changes of the last merge, by pair key.
    pub(super) fn changes(&self) -> &[(u32, i64)] {
        &self.changes
    }

    /// Scan phase: apply merge `(a, b) -> t` by one pass over every chunk,
    /// which also removes the merged-away positions.
    fn merge_by_scan(&mut self, a: u16, b: u16, t: u16) -> u64 {
        let tl = &mut self.tally;
        let (left, right) = (&mut tl.left, &mut tl.right);
        let mut applied = 0u64;
        for chunk in &mut self.chunks {
            let x = chunk.as_mut_slice();
            let n = x.len();
            // x[0] and x[n - 1] are SEP, which never pairs, so a match at r
            // has r >= 1 and r + 2 <= n - 1. Between matches, the symbols
            // move down by a block copy.
            let Some(first) = find_pair(x, a, b) else {
                continue;
            };
            let (mut w, mut r) = (first, first);
            loop {
                // Neighbours: the final left one, the original right one.
                left[x[w - 1] as usize] += 1;
                right[x[r + 2] as usize] += 1;
                x[w] = t;
                w += 1;
                r += 2;
                applied += 1;
                let next = find_pair(&x[r..], a, b).map_or(n, |o| r + o);
                x.copy_within(r..next, w);
                w += next - r;
                if next == n {
                    break;
                }
                r = next;
            }
            chunk.truncate(w);
        }
        // SEP neighbours do not pair (index 0 is SEP).
        left[SEP as usize] = 0;
        right[SEP as usize] = 0;
        let changes = &mut self.changes;
        for x in 1..left.len() {
            let (l, r) = (std::mem::take(&mut left[x]), std::mem::take(&mut right[x]));
            let x = x as u16;
            if l > 0 {
                changes.push((key(x, a), -(l as i64)));
                changes.push((key(x, t), l as i64));
            }
            if r > 0 {
                changes.push((key(b, x), -(r as i64)));
                changes.push((key(t, x), r as i64));
            }
        }
        applied
    }

    /// The positions of pair `(a, b)`, by a scan (for a pair without a list).
    fn scan(&mut self, a: u16, b: u16) -> PairList {
        let mut list = Vec::new();
        for (c, x) in self.chunks.iter().map(Chunk::as_slice).enumerate() {
            let base = (c as u64) << 32;
            let mut prev = 0;
            for (i, &s) in x.iter().enumerate() {
                if s == DEAD {
                    continue;
                }
                if s == b && x[prev] == a {
                    list.push(base | prev as u64);
                }
                prev = i;
            }
        }
        self.pool.list_of(&list)
    }

    /// Call `f` on every segment in order, with the merged-away positions
    /// ([`DEAD`]) still in it.
    pub(super) fn for_each_segment(&self, mut f: impl FnMut(&[u16])) {
        for chunk in &self.chunks {
            for seg in chunk.as_slice().split(|&s| s == SEP) {
                if !seg.is_empty() {
                    f(seg);
                }
            }
        }
    }
}
