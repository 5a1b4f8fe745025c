//! Storage for the BPE trainer outside the global allocator: fixed-capacity
//! arrays of token ids backed, where the system allows, by transparent huge
//! pages, and the byte blocks of the position-list pool.
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
    /// At least `n` bytes: from 2 MiB on, a map rounded up to whole huge
    /// pages (with `huge`, the kernel is asked to back it with huge pages);
    /// below, a plain vector.
    pub(super) fn new(n: usize, huge: bool) -> MapBuf {
        if n < HUGE {
            // Small buffers (small corpora, tests) are not worth a map.
            return MapBuf(Buf::Heap(vec![0; n]));
        }
        let bytes = n.div_ceil(HUGE) * HUGE;
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

/// A fixed-capacity array of `u16` (it never reallocates).
#[derive(Debug)]
pub(super) struct Chunk {
    buf: MapBuf,
    len: usize,
}

impl Chunk {
    /// An empty chunk for at least `n` ids, on huge pages where possible.
    pub(super) fn with_capacity(n: usize) -> Chunk {
        Chunk {
            buf: MapBuf::new(n * 2, true),
            len: 0,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.buf.len() / 2
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The ids held.
    pub(super) fn as_slice(&self) -> &[u16] {
        &bytemuck::cast_slice(self.buf.as_bytes())[..self.len]
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [u16] {
        &mut bytemuck::cast_slice_mut(self.buf.as_bytes_mut())[..self.len]
    }

    /// Append `ids`; panics if they do not fit (callers check `capacity`).
    pub(super) fn extend(&mut self, ids: impl ExactSizeIterator<Item = u16>) {
        let (start, n) = (self.len, ids.len());
        let all: &mut [u16] = bytemuck::cast_slice_mut(self.buf.as_bytes_mut());
        for (slot, id) in all[start..start + n].iter_mut().zip(ids) {
            *slot = id;
        }
        self.len += n;
    }

    pub(super) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_pushed() {
        let mut c = Chunk::with_capacity(5);
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
