//! Scanning a genome with a saved promoter model (any predictor or the
//! fine-tuned classifier, through a scoring function): a window (300 nt)
//! slides along every record with a stride, on both strands (the minus
//! strand reads the reverse complement of the same window; windows holding
//! an N are skipped). Each window gets P(promoter), in batches. Positions
//! are the record's own (0-based). The bedGraph tracks (one per strand) give
//! each window's probability on the stride-wide bin around the window
//! centre, so bins never overlap; calls are the windows at or above a
//! threshold, overlapping calls of one strand merged, as BED6 with the best
//! probability x 1000 as score.

use std::path::Path;

use dnalm_seq::{FastxReader, Strand};

use crate::error::{Result, TaskError};

/// Scan settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanSpec {
    pub window: usize,
    pub stride: usize,
    pub threshold: f64,
    /// Windows per call of the scoring function.
    pub batch_size: usize,
}

/// A part of one record to scan: 0-based, half-open, in the record's
/// coordinates (which the output keeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub record: String,
    pub start: u64,
    pub end: u64,
}

impl std::str::FromStr for Region {
    type Err = String;
    /// `NAME:START-END` with a 1-based, inclusive START..END (samtools
    /// style; commas allowed), or `NAME` for a whole record.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let Some((name, span)) = s.rsplit_once(':') else {
            return Ok(Region {
                record: s.to_string(),
                start: 0,
                end: u64::MAX,
            });
        };
        let num = |t: &str| -> std::result::Result<u64, String> {
            t.replace(',', "")
                .parse::<u64>()
                .map_err(|_| format!("{s:?}: {t:?} is not a position (NAME:START-END, 1-based)"))
        };
        let (a, b) = span
            .split_once('-')
            .ok_or_else(|| format!("{s:?}: expected NAME:START-END (1-based, inclusive)"))?;
        let (a, b) = (num(a)?, num(b)?);
        if a == 0 || b < a {
            return Err(format!(
                "{s:?}: START must be at least 1 and END at least START"
            ));
        }
        Ok(Region {
            record: name.to_string(),
            start: a - 1,
            end: b,
        })
    }
}

impl Default for ScanSpec {
    fn default() -> Self {
        Self {
            window: 300,
            stride: 50,
            threshold: 0.5,
            batch_size: 512,
        }
    }
}

/// One scored window (0-based start in its record).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredWindow {
    pub chrom: String,
    pub start: u64,
    pub end: u64,
    pub strand: Strand,
    pub prob: f64,
}

/// A merged call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub chrom: String,
    pub start: u64,
    pub end: u64,
    pub strand: Strand,
    pub best: f64,
    pub windows: usize,
}

/// What a scan covered.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScanStats {
    /// Bases of the records long enough for a window.
    pub bases: u64,
    pub records: usize,
    pub windows: usize,
}

/// P(promoter) of each of a batch of sequences, in order.
pub type ScoreFn<'a> = dyn FnMut(&[&[u8]]) -> Result<Vec<f64>> + 'a;

/// Score every window of every record of `fasta` with `score` (P(promoter)
/// of each sequence, in order); records in file order, per record the +
/// strand windows first, then the - strand. `on_progress(record, done,
/// total)` counts the record's windows (both strands).
pub fn scan_fasta(
    fasta: &Path,
    region: Option<&Region>,
    score: &mut ScoreFn,
    spec: &ScanSpec,
    on_progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<(Vec<ScoredWindow>, ScanStats)> {
    if spec.window == 0 || spec.stride == 0 || spec.batch_size == 0 {
        return Err(TaskError::Config(
            "window, stride and batch size must be at least 1".into(),
        ));
    }
    if !(0.0..=1.0).contains(&spec.threshold) {
        return Err(TaskError::Config(format!(
            "threshold {} must be in [0, 1]",
            spec.threshold
        )));
    }
    let mut out = Vec::new();
    let mut stats = ScanStats::default();
    let mut found = false;
    for rec in FastxReader::open(fasta)? {
        let rec = rec?;
        // Scan [from, to) of the record; positions stay the record's.
        let (from, to) = match region {
            Some(r) if r.record != rec.id => continue,
            Some(r) => {
                found = true;
                let len = rec.seq.len() as u64;
                if r.start >= len || (r.end != u64::MAX && r.end > len) {
                    return Err(TaskError::Data(format!(
                        "{}: region {}:{}-{} lies outside record {} ({len} bp)",
                        fasta.display(),
                        r.record,
                        r.start + 1,
                        r.end,
                        rec.id
                    )));
                }
                (r.start as usize, r.end.min(len) as usize)
            }
            None => (0, rec.seq.len()),
        };
        let seq: Vec<u8> = rec.seq[from..to]
            .iter()
            .map(|b| b.to_ascii_uppercase())
            .collect();
        let len = seq.len();
        if len < spec.window {
            if region.is_some() {
                return Err(TaskError::Data(format!(
                    "{}: the region holds {len} nt, less than one {}-nt window",
                    fasta.display(),
                    spec.window
                )));
            }
            continue;
        }
        stats.bases += len as u64;
        stats.records += 1;
        let starts: Vec<usize> = (0..=len - spec.window)
            .step_by(spec.stride)
            .filter(|&s| {
                seq[s..s + spec.window]
                    .iter()
                    .all(|&b| dnalm_seq::is_acgt(b))
            })
            .collect();
        let total = 2 * starts.len() as u64;
        let mut done = 0u64;
        for strand in [Strand::Plus, Strand::Minus] {
            for chunk in starts.chunks(spec.batch_size) {
                let windows: Vec<Vec<u8>> = chunk
                    .iter()
                    .map(|&s| {
                        let w = &seq[s..s + spec.window];
                        if strand == Strand::Minus {
                            dnalm_seq::reverse_complement(w)
                        } else {
                            w.to_vec()
                        }
                    })
                    .collect();
                let refs: Vec<&[u8]> = windows.iter().map(|w| w.as_slice()).collect();
                let probs = score(&refs)?;
                for (&s, p) in chunk.iter().zip(probs) {
                    out.push(ScoredWindow {
                        chrom: rec.id.clone(),
                        start: (from + s) as u64,
                        end: (from + s + spec.window) as u64,
                        strand,
                        prob: p,
                    });
                }
                done += chunk.len() as u64;
                on_progress(&rec.id, done, total);
            }
        }
        stats.windows += starts.len() * 2;
    }
    if let Some(r) = region {
        if !found {
            return Err(TaskError::Data(format!(
                "{}: no record named {:?} (--region)",
                fasta.display(),
                r.record
            )));
        }
    }
    Ok((out, stats))
}

/// The `keep` calls with the best probability (ties: file order), in their
/// original order.
pub fn best_calls(calls: Vec<Call>, keep: usize) -> Vec<Call> {
    if calls.len() <= keep {
        return calls;
    }
    let mut idx: Vec<usize> = (0..calls.len()).collect();
    idx.sort_by(|&a, &b| calls[b].best.total_cmp(&calls[a].best).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = idx[..keep].to_vec();
    chosen.sort_unstable();
    let mut slots: Vec<Option<Call>> = calls.into_iter().map(Some).collect();
    chosen.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Windows at or above `threshold`, merged per record and strand where
/// they overlap.
pub fn merge_calls(windows: &[ScoredWindow], threshold: f64) -> Vec<Call> {
    let mut hits: Vec<&ScoredWindow> = windows.iter().filter(|w| w.prob >= threshold).collect();
    let key = |s: Strand| matches!(s, Strand::Minus) as u8;
    hits.sort_by(|a, b| {
        (&a.chrom, key(a.strand), a.start).cmp(&(&b.chrom, key(b.strand), b.start))
    });
    let mut out: Vec<Call> = Vec::new();
    for w in hits {
        if let Some(c) = out.last_mut() {
            if c.chrom == w.chrom && c.strand == w.strand && w.start < c.end {
                c.end = c.end.max(w.end);
                c.best = c.best.max(w.prob);
                c.windows += 1;
                continue;
            }
        }
        out.push(Call {
            chrom: w.chrom.clone(),
            start: w.start,
            end: w.end,
            strand: w.strand,
            best: w.prob,
            windows: 1,
        });
    }
    out
}

/// The bedGraph bin of a window: `stride` bases around its centre.
pub fn centre_bin(w: &ScoredWindow, stride: usize) -> (u64, u64) {
    let centre = (w.start + w.end) / 2;
    let lo = centre.saturating_sub(stride as u64 / 2);
    (lo, lo + stride as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: u64, strand: Strand, prob: f64) -> ScoredWindow {
        ScoredWindow {
            chrom: "c".into(),
            start,
            end: start + 300,
            strand,
            prob,
        }
    }

    #[test]
    fn calls_merge_overlaps_per_strand() {
        let ws = vec![
            w(0, Strand::Plus, 0.9),
            w(50, Strand::Plus, 0.7),
            w(400, Strand::Plus, 0.6),
            w(50, Strand::Minus, 0.8),
            w(100, Strand::Plus, 0.2),
        ];
        let c = merge_calls(&ws, 0.5);
        assert_eq!(c.len(), 3);
        assert_eq!((c[0].start, c[0].end, c[0].windows), (0, 350, 2));
        assert_eq!(c[0].best, 0.9);
        assert_eq!((c[1].start, c[1].strand), (400, Strand::Plus));
        assert_eq!(c[2].strand, Strand::Minus);
        assert_eq!(centre_bin(&ws[1], 50), (175, 225));
        let r: Region = "chr2:1,001-2,000".parse().unwrap();
        assert_eq!((r.record.as_str(), r.start, r.end), ("chr2", 1000, 2000));
        assert_eq!("c1".parse::<Region>().unwrap().end, u64::MAX);
        assert!("c1:0-10".parse::<Region>().is_err());
        assert!("c1:20-10".parse::<Region>().is_err());
        assert!("c1:x-10".parse::<Region>().is_err());
        let best = best_calls(c.clone(), 2);
        assert_eq!(best.len(), 2);
        assert_eq!((best[0].start, best[1].strand), (0, Strand::Minus));
    }
}
