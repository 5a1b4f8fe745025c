//! The DNA side of the book model's training text: fragments of 300..1000
//! bases (the published recipe) cut from the A/C/G/T runs of a FASTA, so
//! that no N, IUPAC code or header ever reaches the tokenizer or the model.
//! Fragment lengths are drawn from a seed: the same genome and seed give the
//! same fragments.

use std::ops::RangeInclusive;
use std::path::Path;

use rand::{Rng, SeedableRng};

use crate::{BookError, Result};

/// The published fragment lengths.
pub const FRAGMENT_LEN: RangeInclusive<usize> = 300..=1000;

/// A fragment and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnaFragment {
    /// The record's id.
    pub record: String,
    /// 0-based start in the record.
    pub start: usize,
    /// Upper-case A/C/G/T.
    pub seq: String,
}

/// Cut every A/C/G/T run of `seq` into consecutive fragments with lengths
/// drawn uniformly from `lens`; a run's tail shorter than `lens.start()` is
/// kept when it has at least `min_tail` bases, dropped otherwise.
pub fn cut_fragments(
    record: &str,
    seq: &[u8],
    lens: &RangeInclusive<usize>,
    min_tail: usize,
    rng: &mut impl Rng,
    out: &mut Vec<DnaFragment>,
) {
    for run in dnalm_seq::acgt_runs(seq) {
        let mut at = run.start;
        while at < run.end {
            let want = rng.random_range(lens.clone());
            let end = (at + want).min(run.end);
            if end - at >= *lens.start() || end - at >= min_tail {
                out.push(DnaFragment {
                    record: record.to_string(),
                    start: at,
                    seq: String::from_utf8(seq[at..end].to_vec()).expect("A/C/G/T is ASCII"),
                });
            }
            at = end;
        }
    }
}

/// The fragments of every record of a FASTA (plain or gzip), lengths drawn
/// from `seed`. Errors: an unreadable file or record, or no A/C/G/T at all.
pub fn read_fragments(
    path: &Path,
    lens: &RangeInclusive<usize>,
    seed: u64,
) -> Result<Vec<DnaFragment>> {
    if lens.is_empty() || *lens.start() == 0 {
        return Err(BookError::Config(format!(
            "fragment lengths {}..={} must be a non-empty range of positive lengths",
            lens.start(),
            lens.end()
        )));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut records = 0usize;
    for rec in dnalm_seq::FastxReader::open(path)? {
        let rec = rec?;
        records += 1;
        cut_fragments(&rec.id, &rec.seq, lens, 50, &mut rng, &mut out);
    }
    if out.is_empty() {
        return Err(BookError::Data(format!(
            "{}: no A/C/G/T run of 50 bases or more in its {records} record(s): nothing to train on",
            path.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_tile_the_runs_and_skip_gaps() {
        let mut seq = vec![b'A'; 2500];
        seq.extend(vec![b'N'; 100]);
        seq.extend(vec![b'C'; 40]);
        seq.extend(vec![b'N'; 10]);
        seq.extend(vec![b'G'; 700]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut out = Vec::new();
        cut_fragments("chr", &seq, &FRAGMENT_LEN, 50, &mut rng, &mut out);
        // The 40-base C run is too short to keep; everything else is covered.
        let covered: usize = out.iter().map(|f| f.seq.len()).sum();
        assert_eq!(covered, 2500 + 700);
        assert!(out
            .iter()
            .all(|f| !f.seq.contains('N') && !f.seq.contains('C')));
        for w in out.windows(2) {
            if w[1].start < 2500 {
                assert_eq!(w[0].start + w[0].seq.len(), w[1].start);
            }
        }
        for f in &out {
            let full = f.start + f.seq.len() != 2500 && f.start + f.seq.len() != seq.len();
            if full {
                assert!(FRAGMENT_LEN.contains(&f.seq.len()), "{}", f.seq.len());
            }
        }
    }

    #[test]
    fn fasta_fragments_are_seeded_and_empty_genomes_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.fa");
        let g = dnalm_seq::synth::demo_genome(&dnalm_seq::synth::DemoGenome {
            records: 2,
            record_len: 20_000,
            seed: 1,
        });
        std::fs::write(&p, dnalm_seq::synth::to_fasta(&g, 60)).unwrap();
        let a = read_fragments(&p, &FRAGMENT_LEN, 3).unwrap();
        assert_eq!(a, read_fragments(&p, &FRAGMENT_LEN, 3).unwrap());
        assert_ne!(a, read_fragments(&p, &FRAGMENT_LEN, 4).unwrap());
        assert!(a.len() > 3);
        std::fs::write(&p, ">x\nNNNNNNNN\n>y\nNNNN\n").unwrap();
        let e = read_fragments(&p, &FRAGMENT_LEN, 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("g.fa") && e.contains("no A/C/G/T"), "{e}");
    }
}
