//! Storage for the BPE trainer outside the global allocator: fixed-capacity
//! arrays of token ids and positions backed, where the system allows, by
//! transparent huge pages.
//!
//! The trainer's later merges visit scattered positions of a corpus of tens
//! of megabytes. With 4 KiB pages most of those visits also miss the TLB,
//! and on a virtual machine a TLB miss costs about as much as the memory
//! access itself; 2 MiB pages remove most of them. A chunk is an anonymous
//! memory map of a whole number of 2 MiB pages with `MADV_HUGEPAGE` advice
//! (memmap2), so it does not depend on the global allocator's settings.
//! Where mapping fails, a plain vector is used; the results are identical.

/// Bytes in a huge page.
const HUGE: usize = 2 << 20;

#[derive(Debug)]
enum Buf {
    Map(memmap2::MmapMut),
    Heap(Vec<u8>),
}

/// Zeroed bytes outside the global allocator: an anonymous memory map
/// (a plain vector where mapping fails).
#[derive(Debug)]
pub(super) struct MapBuf(Buf);

impl MapBuf {
    /// At least `n` bytes: from 64 KiB on, a map (whose pages go back to
    /// the system when it is dropped), rounded up to whole pages; with
    /// `huge`, to whole 2 MiB pages, and the kernel is asked to back it
    /// with huge pages. Below, a plain vector.
    pub(super) fn new(n: usize, huge: bool) -> MapBuf {
        if n < 64 << 10 {
            // Small buffers (small corpora, tests) are not worth a map.
            return MapBuf(Buf::Heap(vec![0; n]));
        }
        let page = if huge { HUGE } else { 4 << 10 };
        let bytes = n.div_ceil(page) * page;
        MapBuf(match memmap2::MmapMut::map_anon(bytes) {
            Ok(map) => {
                // Advice only: without huge pages the map still works.
                #[cfg(target_os = "linux")]
                if huge {
                    let _ = map.advise(memmap2::Advice::HugePage);
                }
                let _ = huge;
                Buf::Map(map)
            }
            Err(_) => Buf::Heap(vec![0; bytes]),
        })
    }

    pub(super) fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Buf::Map(m) => m,
            Buf::Heap(v) => v,
        }
    }

    pub(super) fn as_bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Buf::Map(m) => m,
            Buf::Heap(v) => v,
        }
    }
}

/// Ids a chunk holds past its capacity, so that the scan phase can read and
/// write whole 32-byte blocks at its end.
pub(super) const SLACK: usize = 64;

/// A fixed-capacity array of token ids (`u8` in the trainer's scan phase,
/// `u16` after), with [`SLACK`] more ids of room behind it; it never
/// reallocates.
#[derive(Debug)]
pub(super) struct Chunk<T> {
    buf: MapBuf,
    len: usize,
    _id: std::marker::PhantomData<T>,
}

impl<T: bytemuck::Pod> Chunk<T> {
    /// An empty chunk for at least `n` ids, read and written in order.
    pub(super) fn with_capacity(n: usize) -> Chunk<T> {
        Chunk::new(n, false)
    }

    /// An empty chunk for at least `n` ids, read at random: on huge pages
    /// where possible.
    pub(super) fn with_capacity_huge(n: usize) -> Chunk<T> {
        Chunk::new(n, true)
    }

    fn new(n: usize, huge: bool) -> Chunk<T> {
        Chunk {
            buf: MapBuf::new((n + SLACK) * std::mem::size_of::<T>(), huge),
            len: 0,
            _id: std::marker::PhantomData,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.buf.len() / std::mem::size_of::<T>() - SLACK
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The ids held.
    pub(super) fn as_slice(&self) -> &[T] {
        &bytemuck::cast_slice(self.buf.as_bytes())[..self.len]
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut bytemuck::cast_slice_mut(self.buf.as_bytes_mut())[..self.len]
    }

    /// Append `ids`; panics if they do not fit (callers check `capacity`).
    pub(super) fn extend(&mut self, ids: impl ExactSizeIterator<Item = T>) {
        let (start, n) = (self.len, ids.len());
        let all: &mut [T] = bytemuck::cast_slice_mut(self.buf.as_bytes_mut());
        for (slot, id) in all[start..start + n].iter_mut().zip(ids) {
            *slot = id;
        }
        self.len += n;
    }

    pub(super) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// The whole room, capacity and slack, whatever the length.
    pub(super) fn room_mut(&mut self) -> &mut [T] {
        bytemuck::cast_slice_mut(self.buf.as_bytes_mut())
    }

    /// Set the length after writing through [`Chunk::room_mut`].
    pub(super) fn set_len(&mut self, len: usize) {
        assert!(len <= self.capacity(), "chunk length beyond capacity");
        self.len = len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_pushed() {
        let mut c = Chunk::<u16>::with_capacity(5);
        assert!(c.capacity() >= 5);
        c.extend([1u16, 2, 3].into_iter());
        c.extend([4u16].into_iter());
        assert_eq!(c.as_slice(), [1, 2, 3, 4]);
        c.as_mut_slice()[0] = 9;
        c.truncate(2);
        assert_eq!(c.as_slice(), [9, 2]);
        assert_eq!(c.len(), 2);
    }
}
