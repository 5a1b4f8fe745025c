//! Pair counts of the BPE trainer: a pair of ids as one key, and a table
//! from key to value (dense for small vocabularies, hashed above).

use rustc_hash::FxHashMap;

/// A pair of token ids as one key: left id in the high half.
#[inline]
pub(super) fn key(a: u16, b: u16) -> u32 {
    (a as u32) << 16 | b as u32
}

/// The two ids of a key.
#[inline]
pub(super) fn unkey(k: u32) -> (u16, u16) {
    ((k >> 16) as u16, (k & 0xFFFF) as u16)
}

/// Values per pair: dense for small vocabularies, hashed above.
#[derive(Debug)]
pub(super) enum Table<T> {
    Dense { width: usize, v: Vec<T> },
    Hashed(FxHashMap<u32, T>),
}

impl<T: Copy + Default + std::ops::AddAssign + std::ops::SubAssign> Table<T> {
    /// A table for ids up to `max_id`.
    pub(super) fn new(max_id: usize) -> Table<T> {
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
    pub(super) fn add(&mut self, k: u32, d: T) {
        match self {
            Table::Dense { width, v } => {
                v[(k >> 16) as usize * *width + (k & 0xFFFF) as usize] += d
            }
            Table::Hashed(m) => *m.entry(k).or_default() += d,
        }
    }

    #[inline]
    pub(super) fn sub(&mut self, k: u32, d: T) {
        match self {
            Table::Dense { width, v } => {
                v[(k >> 16) as usize * *width + (k & 0xFFFF) as usize] -= d
            }
            Table::Hashed(m) => *m.entry(k).or_default() -= d,
        }
    }

    #[inline]
    pub(super) fn get(&self, k: u32) -> T {
        match self {
            Table::Dense { width, v } => v[(k >> 16) as usize * width + (k & 0xFFFF) as usize],
            Table::Hashed(m) => m.get(&k).copied().unwrap_or_default(),
        }
    }

    #[inline]
    pub(super) fn take(&mut self, k: u32) -> T {
        match self {
            Table::Dense { width, v } => {
                std::mem::take(&mut v[(k >> 16) as usize * *width + (k & 0xFFFF) as usize])
            }
            Table::Hashed(m) => m.remove(&k).unwrap_or_default(),
        }
    }

    /// The values by `left * width + right`, and the width, for a dense
    /// table.
    pub(super) fn dense(&self) -> Option<(&[T], usize)> {
        match self {
            Table::Dense { width, v } => Some((v, *width)),
            Table::Hashed(_) => None,
        }
    }

    /// Call `f` on every key with a non-default value.
    pub(super) fn for_each(&self, mut f: impl FnMut(u32, T))
    where
        T: PartialEq,
    {
        match self {
            Table::Dense { width, v } => {
                for (i, &x) in v.iter().enumerate() {
                    if x != T::default() {
                        f(((i / width) as u32) << 16 | (i % width) as u32, x);
                    }
                }
            }
            Table::Hashed(m) => {
                for (&k, &x) in m {
                    if x != T::default() {
                        f(k, x);
                    }
                }
            }
        }
    }
}
