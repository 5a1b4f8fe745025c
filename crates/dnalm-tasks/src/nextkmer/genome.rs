//! The training and validation sides of the genome itself, for the
//! base-level language model ([`crate::base_lm`]), which learns from every
//! training base as the n-gram counts every training position: the A/C/G/T
//! runs of the selected records, cut at block boundaries and sent where
//! [`Parts`] sends their block. Test blocks are never read into memory.

use std::path::Path;

use dnalm_seq::{FastxReader, RecordSelector, SplitMode};

use super::{Parts, Side};
use crate::error::{Result, TaskError};

/// Training and validation sequences of the genome.
#[derive(Debug, Clone, Default)]
pub struct GenomeSides {
    pub train: Vec<Vec<u8>>,
    pub valid: Vec<Vec<u8>>,
}

impl GenomeSides {
    pub fn train_bases(&self) -> usize {
        self.train.iter().map(Vec::len).sum()
    }
    pub fn valid_bases(&self) -> usize {
        self.valid.iter().map(Vec::len).sum()
    }
}

/// Read the sides of `path` under `parts` (a position split with blocks
/// of `block_len`); at most `max_valid` validation bases are kept, taken
/// evenly from the validation pieces (the held-out evaluation repeats
/// during training).
pub fn genome_sides(
    path: &Path,
    select: &RecordSelector,
    mode: SplitMode,
    parts: &Parts,
    max_valid: usize,
) -> Result<GenomeSides> {
    let SplitMode::Position { block_len } = mode else {
        return Err(TaskError::Config(
            "the base-level language model trains on the training side of the genome: it \
             needs the position split"
                .into(),
        ));
    };
    let mut out = GenomeSides::default();
    let mut record = 0usize;
    for rec in FastxReader::open(path)? {
        let rec = rec?;
        if !select.matches(&rec.id) {
            continue;
        }
        let s = &rec.seq;
        let mut i = 0usize;
        while i < s.len() {
            if !is_base(s[i]) {
                i += 1;
                continue;
            }
            let run_end = s[i..]
                .iter()
                .position(|&b| !is_base(b))
                .map_or(s.len(), |p| i + p);
            while i < run_end {
                let block_end = ((i as u64 / block_len + 1) * block_len) as usize;
                let end = run_end.min(block_end);
                match parts.assign(record, i as u64, end as u64) {
                    Side::Train => out.train.push(s[i..end].to_vec()),
                    Side::Valid => out.valid.push(s[i..end].to_vec()),
                    Side::Test | Side::Dropped => {}
                }
                i = end;
            }
        }
        record += 1;
    }
    if out.train.is_empty() || out.valid.is_empty() {
        return Err(TaskError::Data(format!(
            "{}: the split left {} training and {} validation bases for the base-level model",
            path.display(),
            out.train_bases(),
            out.valid_bases()
        )));
    }
    let total = out.valid_bases();
    if total > max_valid {
        // Each piece cut to an even share of `max_valid`.
        let pieces = out.valid.len();
        let share = (max_valid / pieces).max(64);
        let keep: Vec<Vec<u8>> = out
            .valid
            .iter()
            .map(|p| p[..p.len().min(share)].to_vec())
            .collect();
        let mut kept = Vec::new();
        let mut n = 0usize;
        for p in keep {
            if n >= max_valid {
                break;
            }
            n += p.len();
            kept.push(p);
        }
        out.valid = kept;
    }
    Ok(out)
}

fn is_base(b: u8) -> bool {
    matches!(b, b'A' | b'C' | b'G' | b'T')
}
