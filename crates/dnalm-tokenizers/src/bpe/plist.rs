//! Position lists of the BPE trainer: the sorted positions of one pair, as
//! plain `u32`, in a pool of memory maps.
//!
//! A pair's positions are written once, in increasing order (see
//! [`super::shard`]), and read once, when the pair is merged, so an
//! append-only pool fits. It is a set of 2 MiB anonymous maps that only
//! grows: hundreds of thousands of short-lived lists of every size would
//! otherwise fragment the global allocator, and peak memory with it.

use super::chunk::MapBuf;

/// Positions in one pool block (a longer list gets a block of its own).
const BLOCK: usize = 1 << 19;

/// Where a list's positions are in a [`Pool`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PairList {
    block: u32,
    off: u32,
    len: u32,
}

impl PairList {
    /// Positions `start..start + len` of this list.
    pub(super) fn sub(&self, start: u32, len: u32) -> PairList {
        assert!(start + len <= self.len, "a part of the list");
        PairList {
            block: self.block,
            off: self.off + start,
            len,
        }
    }
}

/// Append-only storage for lists.
#[derive(Debug, Default)]
pub(super) struct Pool {
    blocks: Vec<MapBuf>,
    /// Positions used in the last block.
    top: usize,
}

impl Pool {
    /// Room for a list of `n` positions (to fill with [`Pool::get_mut`]).
    pub(super) fn alloc(&mut self, n: usize) -> PairList {
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| self.top + n <= b.len() / 4);
        if !fits {
            self.blocks.push(MapBuf::new(BLOCK.max(n) * 4, false));
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

    /// The positions of list `l` in increasing order.
    pub(super) fn get(&self, l: PairList) -> &[u32] {
        let all: &[u32] = bytemuck::cast_slice(self.blocks[l.block as usize].as_bytes());
        &all[l.off as usize..(l.off + l.len) as usize]
    }

    pub(super) fn get_mut(&mut self, l: PairList) -> &mut [u32] {
        let all: &mut [u32] =
            bytemuck::cast_slice_mut(self.blocks[l.block as usize].as_bytes_mut());
        &mut all[l.off as usize..(l.off + l.len) as usize]
    }

    /// A list of `positions`.
    pub(super) fn list_of(&mut self, positions: &[u32]) -> PairList {
        let l = self.alloc(positions.len());
        self.get_mut(l).copy_from_slice(positions);
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_their_positions() {
        let mut pool = Pool::default();
        let a = pool.list_of(&[0, 1, 2, 130, 20_000, u32::MAX]);
        let b = pool.list_of(&[7]);
        let empty = pool.list_of(&[]);
        assert_eq!(pool.get(a), [0, 1, 2, 130, 20_000, u32::MAX]);
        assert_eq!(pool.get(b), [7]);
        assert_eq!(pool.get(empty).len(), 0);
    }

    #[test]
    fn lists_longer_than_a_block_get_their_own() {
        let pos: Vec<u32> = (0..(BLOCK as u32 + 10)).map(|i| i * 3).collect();
        let mut pool = Pool::default();
        let small = pool.list_of(&[1, 2, 3]);
        let big = pool.list_of(&pos);
        let after = pool.list_of(&[4, 5]);
        assert_eq!(pool.get(big), &pos[..]);
        assert_eq!(pool.get(small), [1, 2, 3]);
        assert_eq!(pool.get(after), [4, 5]);
    }
}
