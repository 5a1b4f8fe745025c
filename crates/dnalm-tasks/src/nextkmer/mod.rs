//! Next-k-mer prediction (the hybrid paper's benchmark, after GROVER):
//! overlapping 510-nt windows of a chromosome, the first 56 nt of each
//! kept, N of them sampled; the first 50 nt are the input, the next k nt the
//! label (one of 4^k classes).
//!
//! Sampled windows overlap, so a random train/test split lets a test window
//! be read off a training window shifted by a few bases. The default split
//! is by genome position ([`SplitMode::Position`]: whole 100 kb blocks go to
//! one side, windows straddling two sides are dropped), and the report
//! always shows the n-gram baseline ([`crate::ngram`]) beside the models
//! under both splits.

use std::path::Path;

use dnalm_seq::{
    FastxReader, GapPolicy, Part, RecordSelector, Reservoir, SplitMode, Splitter, WindowSpec,
};

use crate::error::{Result, TaskError};
use crate::ngram::kmer_code;

mod fit;
mod genome;
mod report;
mod scores;
mod select;

pub use fit::{base_cnn_scores, base_lm_scores, bert_scores, BertStart, FitSummary};
pub use genome::{genome_sides, GenomeSides};
pub use report::{write_report, NextKmerSummary};
pub use scores::{marginal, rows_from_scores, score, top_classes, NextKmerResult, Scores};
pub use select::{genome_ngram_rows, ngram_rows, NgramChoice, NGRAM_ORDERS};

/// How the dataset is cut from the genome.
#[derive(Debug, Clone, PartialEq)]
pub struct NextKmerSpec {
    /// Window length the windows are drawn at (510 in the paper).
    pub window: usize,
    /// Bases kept from each window's start (56).
    pub keep: usize,
    /// Input bases (50); the label is the next k.
    pub input: usize,
    /// Windows sampled (500,000 in the paper).
    pub samples: usize,
    pub seed: u64,
}

impl Default for NextKmerSpec {
    fn default() -> Self {
        Self {
            window: 510,
            keep: 56,
            input: 50,
            samples: 500_000,
            seed: 42,
        }
    }
}

/// One sampled window: its first `keep` bases and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptWindow {
    pub record: u32,
    pub start: u64,
    pub seq: Vec<u8>,
}

/// The sampled windows of a genome.
#[derive(Debug, Clone)]
pub struct NextKmerData {
    pub spec: NextKmerSpec,
    pub records: Vec<String>,
    /// In genome order.
    pub windows: Vec<KeptWindow>,
    /// Windows the sample was drawn from.
    pub candidates: u64,
}

/// Indices of the train, validation and test windows of one split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndex {
    pub mode: String,
    pub train: Vec<usize>,
    /// Cut from the training side; chooses epochs and n-gram settings.
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
    /// Windows that straddle blocks of two parts (position split).
    pub dropped: usize,
}

/// Where a stretch of the genome goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Train,
    Valid,
    Test,
    /// It straddles blocks of two sides.
    Dropped,
}

/// The seed stream of the validation split (apart from the test split's).
const VALID_STREAM: u64 = 0x7A11D;

/// Train / validation / test assignment of genome stretches: the test
/// split of [`Splitter`], then, on its training side, a second split of the
/// same kind (own seed stream) that sends `valid_fraction` of the blocks
/// (or windows, under the random split) to validation. Validation never
/// takes from the test side.
#[derive(Debug, Clone)]
pub struct Parts {
    test: Splitter,
    valid: Option<Splitter>,
}

impl Parts {
    pub fn new(
        mode: SplitMode,
        test_fraction: f64,
        valid_fraction: f64,
        seed: u64,
    ) -> Result<Parts> {
        let fractions_ok =
            0.0 < test_fraction && test_fraction < 1.0 && (0.0..1.0).contains(&valid_fraction);
        if !fractions_ok {
            return Err(TaskError::Config(format!(
                "test fraction {test_fraction} must be in (0, 1) and validation fraction \
                 {valid_fraction} in [0, 1)"
            )));
        }
        Ok(Parts {
            test: Splitter::new(mode, test_fraction, seed)?,
            valid: (valid_fraction > 0.0)
                .then(|| Splitter::new(mode, valid_fraction, dnalm_seq::mix64(seed, VALID_STREAM)))
                .transpose()?,
        })
    }

    /// The side of bases `start..end` of record number `record`.
    pub fn assign(&self, record: usize, start: u64, end: u64) -> Side {
        match self.test.assign(record, start, end) {
            Part::Test => Side::Test,
            Part::Dropped => Side::Dropped,
            Part::Train => match self.valid.as_ref().map(|v| v.assign(record, start, end)) {
                None | Some(Part::Train) => Side::Train,
                Some(Part::Test) => Side::Valid,
                Some(Part::Dropped) => Side::Dropped,
            },
        }
    }
}

impl NextKmerData {
    /// Sample windows from the A/C/G/T runs of every selected record of a
    /// FASTA file (windows never cross an N).
    pub fn from_fasta(
        path: &Path,
        spec: &NextKmerSpec,
        select: &RecordSelector,
        mut progress: impl FnMut(u64),
    ) -> Result<NextKmerData> {
        if spec.keep < spec.input + 1 || spec.keep > spec.window || spec.samples == 0 {
            return Err(TaskError::Config(format!(
                "next-k-mer windows: need input {} < keep {} <= window {} and samples > 0",
                spec.input, spec.keep, spec.window
            )));
        }
        let reader = FastxReader::open(path)?;
        let wspec = WindowSpec::new(spec.window)
            .with_stride(1)
            .with_gaps(GapPolicy::Split);
        let mut reservoir = Reservoir::new(spec.samples, spec.seed);
        let mut records = Vec::new();
        let mut bases = 0u64;
        for rec in reader {
            let rec = rec?;
            bases += rec.seq.len() as u64;
            progress(bases);
            if !select.matches(&rec.id) {
                continue;
            }
            let r = records.len() as u32;
            records.push(rec.id.clone());
            for w in wspec.iter(&rec, path)? {
                let keep = spec.keep;
                reservoir.offer_with(|| KeptWindow {
                    record: r,
                    start: w.start,
                    seq: w.seq[..keep].to_vec(),
                });
            }
        }
        let candidates = reservoir.seen();
        let windows = reservoir.into_vec();
        if windows.is_empty() {
            return Err(TaskError::Data(format!(
                "{}: no A/C/G/T run of {} bases in the selected records: no window to sample",
                path.display(),
                spec.window
            )));
        }
        Ok(NextKmerData {
            spec: spec.clone(),
            records,
            windows,
            candidates,
        })
    }

    /// Assign the windows to train, validation and test by their kept
    /// bases ([`Parts`]): `valid_fraction` of the training side (blocks,
    /// under the position split) becomes the validation part.
    pub fn split(
        &self,
        mode: SplitMode,
        test_fraction: f64,
        valid_fraction: f64,
        seed: u64,
    ) -> Result<SplitIndex> {
        let parts = Parts::new(mode, test_fraction, valid_fraction, seed)?;
        let mut out = SplitIndex {
            mode: mode.to_string(),
            train: Vec::new(),
            valid: Vec::new(),
            test: Vec::new(),
            dropped: 0,
        };
        for (i, w) in self.windows.iter().enumerate() {
            match parts.assign(w.record as usize, w.start, w.start + self.spec.keep as u64) {
                Side::Train => out.train.push(i),
                Side::Valid => out.valid.push(i),
                Side::Test => out.test.push(i),
                Side::Dropped => out.dropped += 1,
            }
        }
        if out.train.is_empty()
            || out.test.is_empty()
            || (valid_fraction > 0.0 && out.valid.is_empty())
        {
            return Err(TaskError::Data(format!(
                "the {mode} split left {} training, {} validation and {} test windows: use more \
                 samples, larger test and validation fractions or a smaller block length",
                out.train.len(),
                out.valid.len(),
                out.test.len()
            )));
        }
        Ok(out)
    }

    /// The input bases of window `i`.
    pub fn input(&self, i: usize) -> &[u8] {
        &self.windows[i].seq[..self.spec.input]
    }

    /// The class of window `i` for k-mers of length `k`.
    pub fn label(&self, i: usize, k: usize) -> u32 {
        let s = &self.windows[i].seq[self.spec.input..self.spec.input + k];
        kmer_code(s).expect("windows hold A/C/G/T only") as u32
    }
}

/// Checks k against the kept window: the label must fit after the input.
pub fn check_k(data: &NextKmerData, k: usize) -> Result<()> {
    if !(1..=6).contains(&k) || data.spec.input + k > data.spec.keep {
        return Err(TaskError::Config(format!(
            "k = {k}: the label must fit in the {} kept bases after {} input bases (k in 1..=6)",
            data.spec.keep, data.spec.input
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> NextKmerData {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.fa");
        let recs = dnalm_seq::synth::demo_genome(&dnalm_seq::synth::DemoGenome {
            records: 1,
            record_len: 300_000,
            seed: 3,
        });
        std::fs::write(&path, dnalm_seq::synth::to_fasta(&recs, 60)).unwrap();
        let spec = NextKmerSpec {
            samples: 4000,
            ..NextKmerSpec::default()
        };
        let select = RecordSelector::new(Vec::<String>::new(), None).unwrap();
        NextKmerData::from_fasta(&path, &spec, &select, |_| {}).unwrap()
    }

    #[test]
    fn windows_labels_and_splits() {
        let d = data();
        assert_eq!(d.windows.len(), 4000);
        assert!(d.candidates > 200_000, "{}", d.candidates);
        assert!(d.windows.iter().all(|w| w.seq.len() == 56));
        assert!(d.windows.windows(2).all(|w| w[0].start < w[1].start));
        let i = 7;
        assert_eq!(
            crate::ngram::kmer_of(d.label(i, 3), 3).as_bytes(),
            &d.windows[i].seq[50..53]
        );
        let pos = d
            .split(SplitMode::Position { block_len: 10_000 }, 0.2, 0.1, 1)
            .unwrap();
        // No two windows of different parts overlap.
        let apart = |x: &[usize], y: &[usize]| {
            for &t in x {
                for &r in y {
                    let (a, b) = (&d.windows[t], &d.windows[r]);
                    assert!(a.start + 56 <= b.start || b.start + 56 <= a.start);
                }
            }
        };
        apart(&pos.test, &pos.train);
        apart(&pos.valid, &pos.train);
        apart(&pos.valid, &pos.test);
        assert!(!pos.valid.is_empty());
        // Validation comes out of the training side: the test windows are
        // those of a split without validation.
        let no_valid = d
            .split(SplitMode::Position { block_len: 10_000 }, 0.2, 0.0, 1)
            .unwrap();
        assert_eq!(no_valid.test, pos.test);
        assert!(no_valid.valid.is_empty());
        let rnd = d.split(SplitMode::Random, 0.2, 0.1, 1).unwrap();
        assert_eq!(rnd.dropped, 0);
        assert_eq!(rnd.train.len() + rnd.valid.len() + rnd.test.len(), 4000);
    }

    #[test]
    fn genome_sides_hold_every_training_and_no_test_base() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.fa");
        // Two records with an N run; 10 kb blocks.
        let recs = dnalm_seq::synth::demo_genome(&dnalm_seq::synth::DemoGenome {
            records: 2,
            record_len: 60_000,
            seed: 5,
        });
        std::fs::write(&path, dnalm_seq::synth::to_fasta(&recs, 60)).unwrap();
        let select = RecordSelector::new(Vec::<String>::new(), None).unwrap();
        let mode = SplitMode::Position { block_len: 10_000 };
        let parts = Parts::new(mode, 0.2, 0.2, 3).unwrap();
        let sides = genome_sides(&path, &select, mode, &parts, usize::MAX).unwrap();
        // Count by hand: every A/C/G/T base (soft-masked ones read as upper
        // case) whose 1-base stretch is train or valid.
        let (mut train, mut valid) = (0usize, 0usize);
        for (r, rec) in recs.iter().enumerate() {
            for (i, &b) in rec.seq.iter().enumerate() {
                if !b"ACGT".contains(&b.to_ascii_uppercase()) {
                    continue;
                }
                match parts.assign(r, i as u64, i as u64 + 1) {
                    Side::Train => train += 1,
                    Side::Valid => valid += 1,
                    _ => {}
                }
            }
        }
        assert_eq!((sides.train_bases(), sides.valid_bases()), (train, valid));
        assert!(train > 0 && valid > 0);
        assert!(sides
            .train
            .iter()
            .chain(&sides.valid)
            .all(|p| p.iter().all(|b| b"ACGT".contains(b))));
        // The validation cap keeps a share of every piece.
        let capped = genome_sides(&path, &select, mode, &parts, 1_000).unwrap();
        assert!(
            capped.valid_bases() <= 1_000 + 64,
            "{}",
            capped.valid_bases()
        );
        assert_eq!(capped.train_bases(), train);
        // The random split has no training side of the genome.
        let rnd = Parts::new(SplitMode::Random, 0.2, 0.1, 3).unwrap();
        let err = genome_sides(&path, &select, SplitMode::Random, &rnd, 1_000).unwrap_err();
        assert!(err.to_string().contains("position split"), "{err}");
    }

    #[test]
    fn random_split_leaks_and_position_split_does_not() {
        let d = data();
        let rnd = d.split(SplitMode::Random, 0.2, 0.1, 1).unwrap();
        let pos = d
            .split(SplitMode::Position { block_len: 10_000 }, 0.2, 0.1, 1)
            .unwrap();
        let r = ngram_rows(&d, &rnd, 4, 12).unwrap().remove(0);
        let pos_rows = ngram_rows(&d, &pos, 4, 12).unwrap();
        let p = pos_rows[0].clone();
        // 4,000 windows over 300 kb: a random test window overlaps a
        // training window often enough to be read off it.
        assert!(
            r.accuracy > p.accuracy + 0.1,
            "random {} vs position {}",
            r.accuracy,
            p.accuracy
        );
        assert!(p.accuracy > p.chance, "{} <= chance", p.accuracy);
        assert!(p.top5_accuracy >= p.accuracy);
        // The setting with the fewest validation bits beats chance on test.
        let fewest = pos_rows.last().unwrap();
        assert!(
            fewest.bits_per_base < 2.0,
            "{} bits per base",
            fewest.bits_per_base
        );
        // The chosen setting is named, with why.
        assert!(p.predictor.contains("-gram ("), "{}", p.predictor);
        assert!(p.note.contains("validation"), "{}", p.note);
    }
}
