//! Position lists of the BPE trainer: the sorted positions of one pair,
//! stored as LEB128 varints of the gaps between them, in a pool of memory
//! maps.
//!
//! A pair's positions are written once, in increasing order (see
//! [`super::shard`]), and read once, when the pair is merged, so a
//! compressed append-only list fits. Gaps are small where a pair is common
//! (one byte for the first merges, where a pair occurs every 10-20 bases)
//! and two bytes for rarer pairs, against four bytes for a plain `u32`.
//!
//! Lists are written in two passes (sizes first, then bytes) straight into
//! a [`Pool`] of 2 MiB anonymous maps that only grows: hundreds of thousands
//! of short-lived lists of every size would otherwise fragment the global
//! allocator, and peak memory with it.

use super::chunk::MapBuf;

/// Bytes in one pool block (a longer list gets a block of its own).
const BLOCK: usize = 2 << 20;

/// Where a list's bytes are in a [`Pool`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PairList {
    block: u32,
    off: u32,
    len: u32,
}

/// Append-only storage for lists.
#[derive(Debug, Default)]
pub(super) struct Pool {
    blocks: Vec<MapBuf>,
    /// Bytes used in the last block.
    top: usize,
}

impl Pool {
    /// Room for a list of `n` bytes.
    fn alloc(&mut self, n: usize) -> PairList {
        let fits = self.blocks.last().is_some_and(|b| self.top + n <= b.len());
        if !fits {
            self.blocks.push(MapBuf::new(BLOCK.max(n), false));
            self.top = 0;
        }
        let list = PairList {
            block: (self.blocks.len() - 1) as u32,
            off: self.top as u32,
            len: n as u32,
        };
        self.top += n;
        list
    }

    fn bytes(&self, l: PairList) -> &[u8] {
        &self.blocks[l.block as usize].as_bytes()[l.off as usize..(l.off + l.len) as usize]
    }

    /// The positions of list `l` in increasing order.
    pub(super) fn iter(&self, l: PairList) -> Positions<'_> {
        Positions {
            bytes: self.bytes(l),
            at: 0,
            last: 0,
        }
    }

    /// A list of `positions` (increasing).
    pub(super) fn list_of(&mut self, positions: &[u64]) -> PairList {
        let mut w = ListWriter::default();
        positions.iter().for_each(|&p| w.size(p));
        w.start(self);
        positions.iter().for_each(|&p| w.write(self, p));
        w.list
    }
}

/// Bytes of the varint of `gap`.
#[inline]
fn varint_len(gap: u64) -> u32 {
    (64 - (gap | 1).leading_zeros()).div_ceil(7)
}

/// Writes one list in two passes: [`ListWriter::size`] for every position,
/// then [`ListWriter::start`], then [`ListWriter::write`] for the same
/// positions in the same order.
#[derive(Debug, Default, Clone)]
pub(super) struct ListWriter {
    last: u64,
    bytes: u32,
    at: u32,
    list: PairList,
}

impl ListWriter {
    /// First pass: count `pos` (positions must increase).
    #[inline]
    pub(super) fn size(&mut self, pos: u64) {
        debug_assert!(
            self.bytes == 0 || pos > self.last,
            "positions must increase"
        );
        self.bytes += varint_len(pos - self.last);
        self.last = pos;
    }

    /// Reserve the list's room.
    pub(super) fn start(&mut self, pool: &mut Pool) {
        self.list = pool.alloc(self.bytes as usize);
        self.last = 0;
        self.at = 0;
    }

    /// Second pass: write `pos`.
    #[inline]
    pub(super) fn write(&mut self, pool: &mut Pool, pos: u64) {
        let l = self.list;
        let buf = &mut pool.blocks[l.block as usize].as_bytes_mut()[l.off as usize..];
        let mut gap = pos - self.last;
        self.last = pos;
        let mut at = self.at as usize;
        while gap >= 0x80 {
            buf[at] = gap as u8 | 0x80;
            gap >>= 7;
            at += 1;
        }
        buf[at] = gap as u8;
        self.at = at as u32 + 1;
    }

    /// The list written (after the second pass); the writer is reset.
    pub(super) fn finish(&mut self) -> PairList {
        debug_assert_eq!(self.at, self.list.len);
        let list = self.list;
        *self = ListWriter::default();
        list
    }
}

/// Decoder of a [`PairList`].
pub(super) struct Positions<'a> {
    bytes: &'a [u8],
    at: usize,
    last: u64,
}

impl Iterator for Positions<'_> {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        let mut gap = 0u64;
        let mut shift = 0;
        loop {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            gap |= ((b & 0x7F) as u64) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        self.last += gap;
        Some(self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_small_and_large_gaps() {
        let pos = [
            0u64,
            1,
            2,
            130,
            131,
            20_000,
            1 << 33,
            (1 << 33) + 5,
            u64::MAX / 2,
        ];
        let mut pool = Pool::default();
        let a = pool.list_of(&pos);
        let b = pool.list_of(&[7]);
        let empty = pool.list_of(&[]);
        assert_eq!(pool.iter(a).collect::<Vec<_>>(), pos);
        assert_eq!(pool.iter(b).collect::<Vec<_>>(), [7]);
        assert_eq!(pool.iter(empty).count(), 0);
        for g in [0u64, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut n = 0;
            let mut x = g;
            loop {
                n += 1;
                x >>= 7;
                if x == 0 {
                    break;
                }
            }
            assert_eq!(varint_len(g), n, "{g}");
        }
    }

    #[test]
    fn lists_longer_than_a_block_get_their_own() {
        let pos: Vec<u64> = (0..(BLOCK as u64 + 10)).map(|i| i * 200).collect();
        let mut pool = Pool::default();
        let small = pool.list_of(&[1, 2, 3]);
        let big = pool.list_of(&pos);
        assert_eq!(pool.iter(big).collect::<Vec<_>>(), pos);
        assert_eq!(pool.iter(small).collect::<Vec<_>>(), [1, 2, 3]);
    }
}
