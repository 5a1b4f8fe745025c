//! Scanning a genome with a fine-tuned promoter classifier: a window (300
//! nt) slides along every record with a stride, on both strands (the minus
//! strand reads the reverse complement of the same window; windows holding
//! an N are skipped). Each window gets P(promoter). The bedGraph tracks (one
//! per strand) give each window's probability on the stride-wide bin around
//! the window centre, so bins never overlap; calls are the windows at or
//! above a threshold, overlapping calls of one strand merged, as BED6 with
//! the best probability x 1000 as score.

use std::path::Path;

use burn::tensor::Device;
use dnalm_model::BertForSequenceClassification;
use dnalm_seq::{FastxReader, Strand};
use dnalm_tokenizers::{AnyTokenizer, Tokenizer};
use dnalm_train::classify::{self, ClassExample};

use crate::error::{Result, TaskError};
use crate::model::frame;

/// Scan settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanSpec {
    pub window: usize,
    pub stride: usize,
    pub threshold: f64,
    /// Tokens per input, [CLS] and [SEP] included.
    pub max_len: usize,
    pub batch_size: usize,
}

impl Default for ScanSpec {
    fn default() -> Self {
        Self {
            window: 300,
            stride: 50,
            threshold: 0.5,
            max_len: 512,
            batch_size: 128,
        }
    }
}

/// One scored window (0-based genome start).
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

/// Score every window of every record of `fasta` (records in file order;
/// per record + strand windows first, then - strand).
pub fn scan_fasta(
    fasta: &Path,
    model: &BertForSequenceClassification,
    tok: &AnyTokenizer,
    spec: &ScanSpec,
    device: &Device,
    on_progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Vec<ScoredWindow>> {
    if spec.window == 0 || spec.stride == 0 {
        return Err(TaskError::Config(
            "window and stride must be at least 1".into(),
        ));
    }
    if !(0.0..=1.0).contains(&spec.threshold) {
        return Err(TaskError::Config(format!(
            "threshold {} must be in [0, 1]",
            spec.threshold
        )));
    }
    let pad = tok.vocab().specials().pad;
    let mut out = Vec::new();
    for rec in FastxReader::open(fasta)? {
        let rec = rec?;
        let len = rec.seq.len();
        if len < spec.window {
            continue;
        }
        let starts: Vec<usize> = (0..=len - spec.window)
            .step_by(spec.stride)
            .filter(|&s| {
                rec.seq[s..s + spec.window]
                    .iter()
                    .all(|&b| dnalm_seq::is_acgt(b))
            })
            .collect();
        for strand in [Strand::Plus, Strand::Minus] {
            for chunk in starts.chunks(spec.batch_size.max(1) * 8) {
                let examples = chunk
                    .iter()
                    .map(|&s| {
                        let w = &rec.seq[s..s + spec.window];
                        let seq = if strand == Strand::Minus {
                            dnalm_seq::reverse_complement(w)
                        } else {
                            w.to_vec()
                        };
                        Ok(ClassExample {
                            ids: frame(tok, &seq, spec.max_len)?,
                            label: 0,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let probs = classify::predict(model, &examples, spec.batch_size, pad, device)?;
                for (&s, p) in chunk.iter().zip(probs) {
                    out.push(ScoredWindow {
                        chrom: rec.id.clone(),
                        start: s as u64,
                        end: (s + spec.window) as u64,
                        strand,
                        prob: p.get(1).copied().unwrap_or(0.0) as f64,
                    });
                }
                on_progress(&rec.id, chunk.last().map_or(0, |&s| s as u64), len as u64);
            }
        }
    }
    Ok(out)
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
    }
}
