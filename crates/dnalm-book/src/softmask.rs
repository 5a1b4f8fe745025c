//! The annotation a genome carries in itself, against which the book's DNA
//! boundaries are judged: soft-masked repeats and GC-content shifts.
//!
//! UCSC and Ensembl genomes write repeats (RepeatMasker, TRF) in lower case;
//! `dnalm_seq` upper-cases on reading, so [`Annotation::read_fasta`] asks the
//! reader for the lower-case runs on the side
//! (`FastxReader::next_record_with_mask`). The edges of those runs (starts and
//! ends, not the record's own ends) are the repeat edges.
//!
//! A GC shift is a position `p` where the GC fraction of the `window` A/C/G/T
//! bases before `p` and of the `window` after differ by more than
//! `threshold`; of each run of consecutive such positions only the one with
//! the largest difference is kept (the first on ties). Windows with fewer
//! than half their bases A/C/G/T (N runs) give no shift. Both windows slide
//! with running counts, so memory is the record plus the points found.

use std::ops::Range;
use std::path::Path;

use dnalm_seq::FastxReader;

use crate::{BookError, Result};

/// Settings of the GC-shift detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GcShiftConfig {
    /// Bases on each side of a candidate point.
    pub window: usize,
    /// Smallest difference of GC fractions that counts as a shift.
    pub threshold: f64,
}

impl Default for GcShiftConfig {
    fn default() -> Self {
        Self {
            window: 100,
            threshold: 0.3,
        }
    }
}

/// The annotation of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub record: String,
    pub len: usize,
    /// Lower-case runs, half-open, in order.
    pub repeats: Vec<Range<usize>>,
    /// GC-shift points, in order.
    pub gc_shifts: Vec<usize>,
}

impl Annotation {
    /// Annotates one record: `seq` upper-cased, `repeats` its lower-case runs.
    pub fn new(record: &str, seq: &[u8], repeats: Vec<Range<usize>>, gc: GcShiftConfig) -> Self {
        Self {
            record: record.to_string(),
            len: seq.len(),
            repeats,
            gc_shifts: gc_shifts(seq, gc),
        }
    }

    /// Reads every record of a FASTA (plain or gzip). A file without a
    /// soft-masked base is not an error, but has no repeat edges.
    pub fn read_fasta(path: &Path, gc: GcShiftConfig) -> Result<Vec<Annotation>> {
        if gc.window == 0 || !(0.0..1.0).contains(&gc.threshold) {
            return Err(BookError::Config(format!(
                "GC shift window {} and threshold {} (need a window >= 1 and 0 <= threshold < 1)",
                gc.window, gc.threshold
            )));
        }
        let mut reader = FastxReader::open(path)?;
        let mut out = Vec::new();
        while let Some(rec) = reader.next_record_with_mask() {
            let (rec, mask) = rec?;
            out.push(Annotation::new(&rec.id, &rec.seq, mask, gc));
        }
        Ok(out)
    }

    /// Starts and ends of repeats strictly inside the record, sorted, unique.
    pub fn repeat_edges(&self) -> Vec<usize> {
        let mut e: Vec<usize> = self
            .repeats
            .iter()
            .flat_map(|r| [r.start, r.end])
            .filter(|&p| p > 0 && p < self.len)
            .collect();
        e.sort_unstable();
        e.dedup();
        e
    }

    /// Bases inside repeats.
    pub fn masked_bases(&self) -> usize {
        self.repeats.iter().map(|r| r.len()).sum()
    }
}

/// GC-shift points of an upper-case sequence (see the module doc).
pub fn gc_shifts(seq: &[u8], cfg: GcShiftConfig) -> Vec<usize> {
    let w = cfg.window;
    let n = seq.len();
    if w == 0 || n < 2 * w {
        return Vec::new();
    }
    // (gc, acgt) counts of seq[p - w .. p] and seq[p .. p + w].
    let count = |s: &[u8]| {
        s.iter().fold((0usize, 0usize), |(g, a), &b| match b {
            b'G' | b'C' => (g + 1, a + 1),
            b'A' | b'T' => (g, a + 1),
            _ => (g, a),
        })
    };
    let add = |c: &mut (usize, usize), b: u8, sign: isize| {
        let (dg, da) = match b {
            b'G' | b'C' => (1, 1),
            b'A' | b'T' => (0, 1),
            _ => (0, 0),
        };
        c.0 = c.0.wrapping_add_signed(sign * dg);
        c.1 = c.1.wrapping_add_signed(sign * da);
    };
    let mut left = count(&seq[..w]);
    let mut right = count(&seq[w..2 * w]);
    let mut out = Vec::new();
    let mut best: Option<(usize, f64)> = None;
    for p in w..=n - w {
        if p > w {
            // slide by one: seq[p-1] moves from right to left
            add(&mut left, seq[p - 1 - w], -1);
            add(&mut left, seq[p - 1], 1);
            add(&mut right, seq[p - 1], -1);
            add(&mut right, seq[p + w - 1], 1);
        }
        let diff = if 2 * left.1 >= w && 2 * right.1 >= w {
            (left.0 as f64 / left.1 as f64 - right.0 as f64 / right.1 as f64).abs()
        } else {
            0.0
        };
        if diff > cfg.threshold {
            if best.is_none_or(|(_, d)| diff > d) {
                best = Some((p, diff));
            }
        } else if let Some((q, _)) = best.take() {
            out.push(q);
        }
    }
    if let Some((q, _)) = best {
        out.push(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_sharp_gc_step_is_one_shift_at_the_step() {
        let mut seq = b"AT".repeat(150);
        seq.extend(b"GC".repeat(150));
        let cfg = GcShiftConfig {
            window: 50,
            threshold: 0.5,
        };
        assert_eq!(gc_shifts(&seq, cfg), [300]);
        // a uniform sequence has none, nor one shorter than two windows
        assert!(gc_shifts(&b"ACGT".repeat(100), cfg).is_empty());
        assert!(gc_shifts(&seq[..99], cfg).is_empty());
        // N runs do not count as AT
        let mut gap = b"GC".repeat(100);
        gap.extend(vec![b'N'; 200]);
        gap.extend(b"GC".repeat(100));
        assert!(gc_shifts(&gap, cfg).is_empty());
    }

    #[test]
    fn two_steps_give_two_shifts_and_sliding_matches_counting() {
        let mut seq = b"AAT".repeat(100);
        seq.extend(b"GGC".repeat(100));
        seq.extend(b"ATA".repeat(100));
        let cfg = GcShiftConfig {
            window: 60,
            threshold: 0.4,
        };
        assert_eq!(gc_shifts(&seq, cfg), [300, 600]);

        // the running counts agree with counting every window afresh
        let mut x = 7u64;
        let rnd: Vec<u8> = (0..3000)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let gc_rich = (i / 400) % 2 == 0;
                let r = (x >> 33) % 10;
                match (gc_rich, r) {
                    (_, 0) => b'N',
                    (true, 1..=7) | (false, 1..=2) => b"GC"[(r % 2) as usize],
                    _ => b"AT"[(r % 2) as usize],
                }
            })
            .collect();
        let cfg = GcShiftConfig {
            window: 40,
            threshold: 0.3,
        };
        let frac = |s: &[u8]| {
            let gc = s.iter().filter(|b| b"GC".contains(b)).count();
            let acgt = s.iter().filter(|b| b"ACGT".contains(b)).count();
            (gc as f64 / acgt as f64, 2 * acgt >= s.len())
        };
        let mut naive = Vec::new();
        let mut best: Option<(usize, f64)> = None;
        for p in 40..=rnd.len() - 40 {
            let (l, lok) = frac(&rnd[p - 40..p]);
            let (r, rok) = frac(&rnd[p..p + 40]);
            let d = if lok && rok { (l - r).abs() } else { 0.0 };
            if d > 0.3 {
                if best.is_none_or(|(_, b)| d > b) {
                    best = Some((p, d));
                }
            } else if let Some((q, _)) = best.take() {
                naive.push(q);
            }
        }
        naive.extend(best.map(|b| b.0));
        assert!(!naive.is_empty());
        assert_eq!(gc_shifts(&rnd, cfg), naive);
    }

    #[test]
    fn reads_repeats_from_a_soft_masked_fasta() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.fa");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, ">chrA\nacgtACGTAC\nGTacgtNNNN\n>chrB\nACGT").unwrap();
        drop(f);
        let ann = Annotation::read_fasta(&path, GcShiftConfig::default()).unwrap();
        assert_eq!(ann.len(), 2);
        assert_eq!(ann[0].record, "chrA");
        assert_eq!(ann[0].repeats, [0..4, 12..16]);
        assert_eq!(ann[0].repeat_edges(), [4, 12, 16]);
        assert_eq!(ann[0].masked_bases(), 8);
        assert!(ann[1].repeats.is_empty());
        let bad = GcShiftConfig {
            window: 0,
            threshold: 0.1,
        };
        assert!(Annotation::read_fasta(&path, bad).is_err());
    }
}
