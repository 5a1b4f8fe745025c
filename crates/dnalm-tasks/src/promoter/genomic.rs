//! Genomic negatives for `promoter data`: random windows of the genome,
//! on either strand, at least `tss_margin` bases from every TSS of the
//! list and without N, optionally with the GC content of their positive
//! (within 0.05), so a model learns "promoter or genome".

use std::collections::{HashMap, HashSet};
use std::path::Path;

use dnalm_seq::Strand;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::rows::{window, DataSummary, PromoterRow, PromoterSpec, Tss};
use crate::error::{Result, TaskError};

/// GC share of a sequence.
pub fn gc(s: &[u8]) -> f64 {
    s.iter().filter(|&&b| b == b'G' || b == b'C').count() as f64 / s.len().max(1) as f64
}

/// What [`genomic_negatives`] drew.
#[derive(Debug, Clone, Default)]
pub struct Genomic {
    /// `spec.genomic_negatives` rows per positive (fewer where none was found).
    pub rows: Vec<Vec<PromoterRow>>,
    /// Rows drawn without a GC match (none found within the tries).
    pub gc_fallbacks: usize,
}

/// Draw `spec.genomic_negatives` genomic negatives of `len` bases for each
/// positive of `pos` from `chroms`, never a window in `taken` (chrom, start, strand)
/// nor one drawn before. Each keeps its positive's group.
pub fn genomic_negatives(
    chroms: &HashMap<String, Vec<u8>>,
    tss: &[Tss],
    pos: &[PromoterRow],
    spec: &PromoterSpec,
    len: u64,
    taken: &[(String, u64, Strand)],
    rng: &mut ChaCha8Rng,
) -> Result<Genomic> {
    let mut out = Genomic {
        rows: vec![Vec::new(); pos.len()],
        gc_fallbacks: 0,
    };
    if spec.genomic_negatives == 0 {
        return Ok(out);
    }
    let mut used: HashSet<(String, u64, Strand)> = taken.iter().cloned().collect();
    let mut near: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
    for t in tss {
        near.entry(t.chrom.as_str()).or_default().push((
            t.pos.saturating_sub(spec.tss_margin),
            t.pos + spec.tss_margin + 1,
        ));
    }
    for v in near.values_mut() {
        v.sort_unstable();
    }
    let close = |chrom: &str, s: u64, e: u64| -> bool {
        near.get(chrom).is_some_and(|v| {
            let k = v.partition_point(|&(st, _)| st < e);
            v[..k].iter().any(|&(_, end)| s < end)
        })
    };
    let mut names: Vec<&str> = chroms
        .iter()
        .filter(|(_, c)| c.len() as u64 >= len)
        .map(|(n, _)| n.as_str())
        .collect();
    names.sort_unstable();
    let weights: Vec<u64> = names
        .iter()
        .map(|n| chroms[*n].len() as u64 - len + 1)
        .collect();
    let total: u64 = weights.iter().sum();
    let draw = |rng: &mut ChaCha8Rng| -> Option<(&str, u64, Strand)> {
        if total == 0 {
            return None;
        }
        let mut x = rng.random_range(0..total);
        for (n, w) in names.iter().zip(&weights) {
            if x < *w {
                let strand = if rng.random_range(0..2) == 0 {
                    Strand::Plus
                } else {
                    Strand::Minus
                };
                return Some((n, x, strand));
            }
            x -= w;
        }
        None
    };
    for (i, p) in pos.iter().enumerate() {
        let target = gc(&p.sequence);
        for _ in 0..spec.genomic_negatives {
            let mut fallback = None;
            let mut made = None;
            for _ in 0..2_000 {
                let Some((chrom, start, strand)) = draw(rng) else {
                    break;
                };
                let end = start + len;
                if close(chrom, start, end) || used.contains(&(chrom.to_string(), start, strand)) {
                    continue;
                }
                let seq = window(&chroms[chrom], start, end, strand);
                if !seq.iter().all(|&b| dnalm_seq::is_acgt(b)) {
                    continue;
                }
                let row = PromoterRow {
                    label: 0,
                    group: p.group,
                    kind: "genomic".into(),
                    chrom: chrom.to_string(),
                    start,
                    end,
                    strand,
                    sequence: seq,
                };
                if !spec.gc_match || (gc(&row.sequence) - target).abs() <= 0.05 {
                    made = Some(row);
                    break;
                }
                fallback.get_or_insert(row);
            }
            if made.is_none() && fallback.is_some() {
                out.gc_fallbacks += 1;
            }
            if let Some(row) = made.or(fallback) {
                used.insert((row.chrom.clone(), row.start, row.strand));
                out.rows[i].push(row);
            }
        }
    }
    if out.rows.iter().all(|g| g.is_empty()) {
        return Err(TaskError::Data(format!(
            "no {len}-bp window without N lies {} bases or more from every TSS: no genomic negative",
            spec.tss_margin
        )));
    }
    Ok(out)
}

/// Genomic negatives for rows made from positives alone
/// ([`super::data::build_from_positives`]): `spec.genomic_negatives` windows
/// of every record of `genome` per positive, at least `spec.tss_margin` bases
/// from each TSS of `tss`, each placed after its positive's pair and given
/// its group. The windows have the positives' length, which must be one.
pub fn add_to_positives(
    rows: Vec<PromoterRow>,
    summary: &mut DataSummary,
    genome: &Path,
    tss: &[Tss],
    spec: &PromoterSpec,
) -> Result<Vec<PromoterRow>> {
    let pos: Vec<PromoterRow> = rows.iter().filter(|r| r.label == 1).cloned().collect();
    let Some(first) = pos.first() else {
        return Ok(rows);
    };
    let len = first.sequence.len();
    if let Some((i, r)) = pos
        .iter()
        .enumerate()
        .find(|(_, r)| r.sequence.len() != len)
    {
        return Err(TaskError::Data(format!(
            "positive {} has {} bases, the first has {len}: genomic negatives need one length",
            i + 1,
            r.sequence.len()
        )));
    }
    let mut chroms = HashMap::new();
    for rec in dnalm_seq::FastxReader::open(genome)? {
        let rec = rec?;
        chroms.insert(rec.id, rec.seq);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ GENOMIC_STREAM);
    let genomic = genomic_negatives(&chroms, tss, &pos, spec, len as u64, &[], &mut rng)?;
    summary.gc_fallbacks = genomic.gc_fallbacks;
    let n: usize = genomic.rows.iter().map(Vec::len).sum();
    summary.negatives_by_kind.push(("genomic".into(), n));
    summary.negatives_by_kind.sort();
    let mut extra = genomic.rows.into_iter();
    let mut out = Vec::with_capacity(rows.len() + n);
    let mut pending: Vec<PromoterRow> = Vec::new();
    for r in rows {
        if r.label == 1 {
            out.append(&mut pending);
            pending = extra.next().unwrap_or_default();
        }
        out.push(r);
    }
    out.append(&mut pending);
    Ok(out)
}

/// Seed stream of the genomic draws after a positives-only build (kept
/// apart from the synthetic negatives' stream of the same seed).
const GENOMIC_STREAM: u64 = 0x6e6f_6d69_6367;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promoter::data::build_from_genome;

    /// Genomic negatives keep their distance from every TSS, match the GC
    /// content of their positive when asked, and follow the seed.
    #[test]
    fn genomic_negatives_away_from_tsss_and_gc_matched() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        // An AT-rich half and a GC-rich half.
        let g: Vec<u8> = (0..40_000)
            .map(|i| {
                let alphabet: &[u8] = if i < 20_000 { b"AATTCG" } else { b"GGCCAT" };
                alphabet[rng.random_range(0..6)]
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("g.fa");
        std::fs::write(&fa, format!(">c\n{}\n", String::from_utf8(g).unwrap())).unwrap();
        let tss: Vec<Tss> = [5_000u64, 30_000]
            .iter()
            .map(|&pos| Tss {
                chrom: "c".into(),
                pos,
                strand: Strand::Plus,
                name: format!("t{pos}"),
                line: 1,
            })
            .collect();
        let spec = PromoterSpec {
            genomic_negatives: 3,
            gc_match: true,
            ..PromoterSpec::default()
        };
        let (rows, summary) = build_from_genome(&fa, &tss, &spec).unwrap();
        assert_eq!(rows.len(), 2 * (1 + 1 + 3));
        assert!(summary
            .negatives_by_kind
            .contains(&("genomic".to_string(), 6)));
        assert_eq!(summary.gc_fallbacks, 0);
        let positives: Vec<&PromoterRow> = rows.iter().filter(|r| r.label == 1).collect();
        let file = std::fs::read_to_string(&fa).unwrap();
        let genome = &file.as_bytes()[3..];
        for r in rows.iter().filter(|r| r.kind == "genomic") {
            assert_eq!(r.label, 0);
            for t in &tss {
                assert!(r.end + 1_000 <= t.pos || r.start > t.pos + 1_000, "{r:?}");
            }
            let p = positives.iter().find(|p| p.group == r.group).unwrap();
            assert!((gc(&r.sequence) - gc(&p.sequence)).abs() <= 0.05);
            let slice = &genome[r.start as usize..r.end as usize];
            let want = if r.strand == Strand::Minus {
                dnalm_seq::reverse_complement(slice)
            } else {
                slice.to_vec()
            };
            assert_eq!(r.sequence, want);
        }
        assert!(rows
            .iter()
            .any(|r| r.kind == "genomic" && r.strand == Strand::Minus));
        let (again, _) = build_from_genome(&fa, &tss, &spec).unwrap();
        assert_eq!(rows, again);
    }
}
