//! A seeded demonstration genome, so that `dnalm quickstart` and the tests
//! run on a fresh machine with no downloads.
//!
//! It is not a model of a real genome. It holds the features that matter to
//! tokenizers and to the tests: a first-order Markov background with human-like
//! GC (about 41%) and CpG depletion; repeat families copied with mutations
//! and soft-masked (lower case), like RepeatMasker output; microsatellites;
//! promoter-like regions (a TATA box about 30 nt upstream of a GC-rich
//! start); and N gaps, including a telomere-like run at the start.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generated record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthRecord {
    pub id: String,
    pub seq: Vec<u8>,
}

/// Parameters of [`demo_genome`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoGenome {
    pub records: usize,
    pub record_len: usize,
    pub seed: u64,
}

impl Default for DemoGenome {
    fn default() -> Self {
        DemoGenome {
            records: 3,
            record_len: 1_000_000,
            seed: 42,
        }
    }
}

/// Transition probabilities A,C,G,T -> A,C,G,T (rows sum to 1); CpG depleted.
const MARKOV: [[f64; 4]; 4] = [
    [0.33, 0.17, 0.24, 0.26],
    [0.35, 0.26, 0.05, 0.34],
    [0.29, 0.21, 0.25, 0.25],
    [0.22, 0.20, 0.25, 0.33],
];

fn pick(rng: &mut ChaCha8Rng, probs: &[f64; 4]) -> usize {
    let x: f64 = rng.random();
    let mut acc = 0.0;
    for (i, p) in probs.iter().enumerate() {
        acc += p;
        if x < acc {
            return i;
        }
    }
    3
}

fn background(rng: &mut ChaCha8Rng, n: usize, prev: &mut usize, out: &mut Vec<u8>) {
    for _ in 0..n {
        *prev = pick(rng, &MARKOV[*prev]);
        out.push(b"ACGT"[*prev]);
    }
}

/// A transcription start site the generator placed: the first base of a
/// promoter-like region's GC-rich start, about 30 nt downstream of its TATA
/// box, on the plus strand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthTss {
    /// Index of the record in the generated genome.
    pub record: usize,
    /// 0-based position of the TSS (+1) in the record.
    pub pos: usize,
}

/// Generate the genome described in the module docs. Same parameters, same bytes.
pub fn demo_genome(p: &DemoGenome) -> Vec<SynthRecord> {
    demo_genome_annotated(p).0
}

/// [`demo_genome`] and the transcription start sites of its promoter-like
/// regions (those that lie wholly inside their record), in genome order.
pub fn demo_genome_annotated(p: &DemoGenome) -> (Vec<SynthRecord>, Vec<SynthTss>) {
    let mut tss = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut prev = 0usize;
    let families: Vec<Vec<u8>> = (0..6)
        .map(|_| {
            let n = rng.random_range(150..1200);
            let mut s = Vec::with_capacity(n);
            background(&mut rng, n, &mut prev, &mut s);
            s
        })
        .collect();
    let records = (0..p.records)
        .map(|r| {
            let mut seq = Vec::with_capacity(p.record_len + 2000);
            if r == 0 {
                seq.resize(p.record_len.min(10_000) / 10, b'N');
            }
            while seq.len() < p.record_len {
                let roll: f64 = rng.random();
                if roll < 0.55 {
                    let n = rng.random_range(50..2000);
                    background(&mut rng, n, &mut prev, &mut seq);
                } else if roll < 0.85 {
                    // A mutated, possibly truncated, soft-masked repeat copy.
                    let fam = &families[rng.random_range(0..families.len())];
                    let start = rng.random_range(0..fam.len() / 2);
                    for &b in &fam[start..] {
                        let b = if rng.random_bool(0.1) {
                            b"ACGT"[rng.random_range(0..4)]
                        } else {
                            b
                        };
                        seq.push(b.to_ascii_lowercase());
                    }
                } else if roll < 0.92 {
                    let unit: &[u8] = [&b"CA"[..], b"A", b"TTAGGG", b"AT"][rng.random_range(0..4)];
                    for _ in 0..rng.random_range(8..40) {
                        seq.extend(unit.iter().map(u8::to_ascii_lowercase));
                    }
                } else if roll < 0.99 {
                    // Promoter-like: TATA box, spacer, GC-rich start region.
                    background(&mut rng, 20, &mut prev, &mut seq);
                    seq.extend_from_slice(b"TATAAA");
                    background(&mut rng, 24, &mut prev, &mut seq);
                    let start = seq.len();
                    let n = rng.random_range(60..200);
                    for _ in 0..n {
                        seq.push(b"GGCCGCGCAT"[rng.random_range(0..10)]);
                    }
                    if start + n <= p.record_len {
                        tss.push(SynthTss {
                            record: r,
                            pos: start,
                        });
                    }
                } else {
                    let n = rng.random_range(100..3000);
                    seq.resize(seq.len() + n, b'N');
                }
            }
            seq.truncate(p.record_len);
            SynthRecord {
                id: format!("demo{}", r + 1),
                seq,
            }
        })
        .collect();
    (records, tss)
}

/// The records as FASTA text, `width` bases per line.
pub fn to_fasta(records: &[SynthRecord], width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.push(b'>');
        out.extend_from_slice(r.id.as_bytes());
        out.push(b'\n');
        for line in r.seq.chunks(width.max(1)) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_featured() {
        let p = DemoGenome {
            records: 2,
            record_len: 200_000,
            seed: 7,
        };
        let a = demo_genome(&p);
        assert_eq!(a, demo_genome(&p));
        assert_ne!(a, demo_genome(&DemoGenome { seed: 8, ..p }));
        assert_eq!(a.len(), 2);
        let s = &a[0].seq;
        assert_eq!(s.len(), 200_000);
        assert!(s[..1000].iter().all(|&b| b == b'N'));
        let lower = s.iter().filter(|b| b.is_ascii_lowercase()).count() as f64 / s.len() as f64;
        assert!((0.15..0.7).contains(&lower), "soft-masked share {lower}");
        let up: Vec<u8> = s
            .iter()
            .map(u8::to_ascii_uppercase)
            .filter(|&b| b != b'N')
            .collect();
        let gc = up.iter().filter(|&&b| b == b'G' || b == b'C').count() as f64 / up.len() as f64;
        assert!((0.35..0.55).contains(&gc), "GC {gc}");
        let cg = up.windows(2).filter(|w| w == b"CG").count() as f64 / up.len() as f64;
        assert!(cg < 0.04, "CpG {cg}");
        let fasta = to_fasta(&a, 60);
        assert!(fasta.starts_with(b">demo1\nNNNN"));
    }

    #[test]
    fn tss_follow_their_tata_box() {
        let p = DemoGenome {
            records: 2,
            record_len: 200_000,
            seed: 7,
        };
        let (recs, tss) = demo_genome_annotated(&p);
        assert_eq!(recs, demo_genome(&p));
        assert!(tss.len() > 20, "{} TSS", tss.len());
        assert!(tss.iter().any(|t| t.record == 1));
        for t in &tss {
            let s = &recs[t.record].seq;
            assert_eq!(&s[t.pos - 30..t.pos - 24], b"TATAAA", "TSS at {}", t.pos);
        }
        assert!(tss
            .windows(2)
            .all(|w| (w[0].record, w[0].pos) < (w[1].record, w[1].pos)));
    }
}
