//! Promoter data from a genome and a TSS list, as DNABERT-Prom built it:
//! positives are the 300 bp from -249 to +50 around each TSS (strand
//! aware); a positive with a TATA box (`TATAWAW` in -40..-15) gets a
//! genomic negative: a random window, on either strand, outside every
//! promoter that holds a TATA box at the same offset on its own strand; any other positive gets a synthetic negative
//! made from it, by random substitution (20 parts, 8 kept, 12 replaced by
//! random bases; DeePromoter) or by block permutation (12 of the 20 parts
//! shuffled among themselves). Every row carries a group: a positive, the
//! negative made from it and every positive overlapping it on the genome or
//! sharing its sequence are one group, so a split by group cannot leak.

use std::collections::HashMap;
use std::path::Path;

use dnalm_seq::{FastxReader, Strand};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use super::rows::{window, DataSummary, PromoterRow, PromoterSpec, SyntheticKind, Tss};
use super::split::UnionFind;
use crate::error::{Result, TaskError};
use crate::table::open_text;

/// Read TSSs from BED6 (`.bed`: the TSS is `start` on `+`, `end - 1` on
/// `-`) or from a TSV with a header naming `chrom`, `tss` (0-based; or
/// `position`), `strand` and optionally `name`.
pub fn read_tss(path: &Path) -> Result<Vec<Tss>> {
    let text = open_text(path)?;
    let name = path.display().to_string();
    let is_bed = name.ends_with(".bed") || name.ends_with(".bed.gz");
    let err = |line: usize, m: String| TaskError::Data(format!("{name}:{line}: {m}"));
    let strand_of = |s: &str, line: usize| match s {
        "+" => Ok(Strand::Plus),
        "-" => Ok(Strand::Minus),
        other => Err(err(line, format!("strand {other:?} (expected + or -)"))),
    };
    let mut out = Vec::new();
    let mut cols: Option<(usize, usize, usize, Option<usize>)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim_end_matches('\r');
        if l.is_empty() || l.starts_with('#') || l.starts_with("track") || l.starts_with("browser")
        {
            continue;
        }
        let f: Vec<&str> = l.split('\t').collect();
        let num = |s: &str, what: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| err(line, format!("{what} {s:?} is not a non-negative integer")))
        };
        if is_bed {
            if f.len() < 6 {
                return Err(err(
                    line,
                    format!(
                        "{} BED columns; a TSS needs BED6 (with the strand)",
                        f.len()
                    ),
                ));
            }
            let (start, end) = (num(f[1], "start")?, num(f[2], "end")?);
            if end <= start {
                return Err(err(line, format!("end {end} is not after start {start}")));
            }
            let strand = strand_of(f[5], line)?;
            out.push(Tss {
                chrom: f[0].to_string(),
                pos: if strand == Strand::Minus {
                    end - 1
                } else {
                    start
                },
                strand,
                name: f[3].to_string(),
                line,
            });
            continue;
        }
        let Some((c, p, s, n)) = cols else {
            let find = |names: &[&str]| f.iter().position(|h| names.contains(&h.trim()));
            let (Some(c), Some(p), Some(s)) = (
                find(&["chrom", "chr", "chromosome"]),
                find(&["tss", "position", "pos"]),
                find(&["strand"]),
            ) else {
                return Err(err(
                    line,
                    "a TSS table needs a header with chrom, tss and strand columns (or give a .bed file)"
                        .into(),
                ));
            };
            cols = Some((c, p, s, find(&["name", "id"])));
            continue;
        };
        let need = c.max(p).max(s) + 1;
        if f.len() < need {
            return Err(err(
                line,
                format!("{} columns, the header has {need} or more", f.len()),
            ));
        }
        out.push(Tss {
            chrom: f[c].to_string(),
            pos: num(f[p], "tss")?,
            strand: strand_of(f[s].trim(), line)?,
            name: n
                .and_then(|n| f.get(n))
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("tss{line}")),
            line,
        });
    }
    if out.is_empty() {
        return Err(TaskError::Data(format!("{name}: no TSS")));
    }
    Ok(out)
}

/// `TATAWAW` at `s[i..]`.
pub fn is_tata(s: &[u8], i: usize) -> bool {
    let w = |b: u8| b == b'A' || b == b'T';
    i + 7 <= s.len() && &s[i..i + 4] == b"TATA" && w(s[i + 4]) && s[i + 5] == b'A' && w(s[i + 6])
}

/// The reverse complement of `TATAWAW` (`WTWTATA`) at `s[i..]`: a TATA box
/// on the minus strand.
pub fn is_tata_minus(s: &[u8], i: usize) -> bool {
    let w = |b: u8| b == b'A' || b == b'T';
    i + 7 <= s.len() && w(s[i]) && s[i + 1] == b'T' && w(s[i + 2]) && &s[i + 3..i + 7] == b"TATA"
}

/// Offset of the first TATA box in -40..-15 of a window whose TSS is at
/// index `upstream`.
pub fn tata_offset(seq: &[u8], upstream: usize) -> Option<usize> {
    let from = upstream.saturating_sub(40);
    let to = upstream.saturating_sub(15);
    (from..to).find(|&i| is_tata(seq, i))
}

/// The 20 part boundaries of a sequence of length `n`.
fn parts(n: usize) -> Vec<std::ops::Range<usize>> {
    (0..20).map(|i| i * n / 20..(i + 1) * n / 20).collect()
}

/// DeePromoter's random substitution: keep 8 of the 20 parts, replace the
/// other 12 with random bases.
pub fn substitution_negative(seq: &[u8], rng: &mut impl Rng) -> Vec<u8> {
    let mut idx: Vec<usize> = (0..20).collect();
    idx.shuffle(rng);
    let mut out = seq.to_vec();
    let p = parts(seq.len());
    for &i in &idx[8..] {
        for b in &mut out[p[i].clone()] {
            *b = b"ACGT"[rng.random_range(0..4)];
        }
    }
    out
}

/// Block permutation: 12 of the 20 parts (equal lengths needed) change
/// places among themselves; 8 stay. Redrawn (a few times) while the result
/// equals the input.
pub fn permutation_negative(seq: &[u8], rng: &mut impl Rng) -> Vec<u8> {
    let p = parts(seq.len());
    let mut out = seq.to_vec();
    for _ in 0..8 {
        let mut idx: Vec<usize> = (0..20).collect();
        idx.shuffle(rng);
        let mut moved: Vec<usize> = idx[8..].to_vec();
        moved.sort_unstable();
        // Parts of unequal length (n not a multiple of 20) only swap with
        // parts of their own length.
        let mut targets = moved.clone();
        targets.shuffle(rng);
        out = seq.to_vec();
        for (&dst, &src) in moved.iter().zip(&targets) {
            if p[dst].len() == p[src].len() {
                out[p[dst].clone()].copy_from_slice(&seq[p[src].clone()]);
            }
        }
        if out != seq {
            break;
        }
    }
    out
}

/// Read the records of `genome` named in `wanted`.
pub fn read_genome(genome: &Path, wanted: &[&str]) -> Result<HashMap<String, Vec<u8>>> {
    let mut out = HashMap::new();
    for rec in FastxReader::open(genome)? {
        let rec = rec?;
        if wanted.contains(&rec.id.as_str()) {
            out.insert(rec.id, rec.seq);
        }
    }
    Ok(out)
}

/// Build the data set from `genome` (FASTA) and `tss`.
pub fn build_from_genome(
    genome: &Path,
    tss: &[Tss],
    spec: &PromoterSpec,
) -> Result<(Vec<PromoterRow>, DataSummary)> {
    let mut names: Vec<&str> = tss.iter().map(|t| t.chrom.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let chroms = read_genome(genome, &names)?;
    let len = spec.len() as u64;
    let mut summary = DataSummary {
        tss: tss.len(),
        ..DataSummary::default()
    };
    let mut pos = positives(genome, tss, &chroms, spec, &mut summary)?;
    summary.groups = assign_groups(&mut pos);
    summary.positives = pos.len();
    let mut tata = TataNegatives {
        chroms: &chroms,
        hits: tata_hits(&chroms),
        blocked: blocked_intervals(&pos),
        used: HashMap::new(),
        len,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut negs = Vec::with_capacity(pos.len());
    let mut counts: HashMap<String, usize> = HashMap::new();
    for p in &pos {
        let mut made = None;
        if spec.tata_negatives {
            if let Some(off) = tata_offset(&p.sequence, spec.upstream as usize) {
                summary.tata_positives += 1;
                made = tata.draw(off, p.group, &mut rng);
                if made.is_none() {
                    summary.tata_fallbacks += 1;
                }
            }
        }
        let row = made.unwrap_or_else(|| PromoterRow {
            sequence: match spec.synthetic {
                SyntheticKind::Substitution => substitution_negative(&p.sequence, &mut rng),
                SyntheticKind::Permutation => permutation_negative(&p.sequence, &mut rng),
            },
            label: 0,
            kind: spec.synthetic.name().into(),
            ..p.clone()
        });
        *counts.entry(row.kind.clone()).or_default() += 1;
        negs.push(row);
    }
    // Genomic negatives: random windows away from every TSS.
    let taken: Vec<(String, u64, Strand)> = tata
        .used
        .keys()
        .map(|(c, s, st)| (c.to_string(), *s, *st))
        .collect();
    let genomic =
        super::genomic::genomic_negatives(&chroms, tss, &pos, spec, len, &taken, &mut rng)?;
    summary.gc_fallbacks = genomic.gc_fallbacks;
    for r in genomic.rows.iter().flatten() {
        *counts.entry(r.kind.clone()).or_default() += 1;
    }
    let genomic = genomic.rows;
    let mut kinds: Vec<(String, usize)> = counts.into_iter().collect();
    kinds.sort();
    summary.negatives_by_kind = kinds;
    let mut rows = Vec::with_capacity(2 * pos.len());
    for ((p, n), g) in pos.into_iter().zip(negs).zip(genomic) {
        rows.push(p);
        rows.push(n);
        rows.extend(g);
    }
    Ok((rows, summary))
}

/// The positives, strand aware; every TSS must lie on its chromosome.
/// Windows over an edge, repeated or with an N are counted and skipped.
fn positives(
    genome: &Path,
    tss: &[Tss],
    chroms: &HashMap<String, Vec<u8>>,
    spec: &PromoterSpec,
    summary: &mut DataSummary,
) -> Result<Vec<PromoterRow>> {
    let mut pos: Vec<PromoterRow> = Vec::new();
    let mut seen: HashMap<(String, u64, bool), ()> = HashMap::new();
    for t in tss {
        let Some(chrom) = chroms.get(&t.chrom) else {
            return Err(TaskError::Data(format!(
                "TSS {} (line {}): chromosome {:?} is not in {}",
                t.name,
                t.line,
                t.chrom,
                genome.display()
            )));
        };
        let clen = chrom.len() as u64;
        if t.pos >= clen {
            return Err(TaskError::Data(format!(
                "TSS {} (line {}): position {} is outside {} ({} bp)",
                t.name, t.line, t.pos, t.chrom, clen
            )));
        }
        let Some((start, end)) = tss_window(t, spec, clen) else {
            summary.skipped_edge += 1;
            continue;
        };
        let minus = t.strand == Strand::Minus;
        if seen.insert((t.chrom.clone(), start, minus), ()).is_some() {
            summary.duplicate_windows += 1;
            continue;
        }
        let seq = window(chrom, start, end, t.strand);
        if !seq.iter().all(|&b| dnalm_seq::is_acgt(b)) {
            summary.skipped_n += 1;
            continue;
        }
        pos.push(PromoterRow {
            sequence: seq,
            label: 1,
            group: 0,
            kind: "promoter".into(),
            chrom: t.chrom.clone(),
            start,
            end,
            strand: t.strand,
        });
    }
    if pos.is_empty() {
        return Err(TaskError::Data(
            "no TSS gave a complete 300-bp window without N".into(),
        ));
    }
    Ok(pos)
}

/// The window `[start, end)` of a TSS on a chromosome of `clen` bases, or
/// `None` when it runs over an edge. The TSS is at index `upstream` of the
/// window on its own strand.
fn tss_window(t: &Tss, spec: &PromoterSpec, clen: u64) -> Option<(u64, u64)> {
    let (start, end) = match t.strand {
        Strand::Minus => (
            t.pos.checked_sub(spec.downstream - 1),
            t.pos + spec.upstream + 1,
        ),
        _ => (t.pos.checked_sub(spec.upstream), t.pos + spec.downstream),
    };
    match start {
        Some(s) if end <= clen => Some((s, end)),
        _ => None,
    }
}

/// Groups: overlapping positives (either strand) and identical sequences
/// are one group. Sets each row's group; returns the number of groups.
fn assign_groups(pos: &mut [PromoterRow]) -> usize {
    let mut uf = UnionFind::new(pos.len());
    let mut order: Vec<usize> = (0..pos.len()).collect();
    order.sort_by(|&a, &b| (&pos[a].chrom, pos[a].start).cmp(&(&pos[b].chrom, pos[b].start)));
    let mut reach: Option<(usize, u64)> = None; // (row, end) of the furthest-reaching interval
    for &i in &order {
        if let Some((j, end)) = reach {
            if pos[j].chrom == pos[i].chrom && pos[i].start < end {
                uf.union(i, j);
                if pos[i].end > end {
                    reach = Some((i, pos[i].end));
                }
                continue;
            }
        }
        reach = Some((i, pos[i].end));
    }
    let mut by_seq: HashMap<&[u8], usize> = HashMap::new();
    for (i, r) in pos.iter().enumerate() {
        if let Some(&j) = by_seq.get(r.sequence.as_slice()) {
            uf.union(i, j);
        } else {
            by_seq.insert(&r.sequence, i);
        }
    }
    let groups = uf.labels();
    for (r, g) in pos.iter_mut().zip(&groups) {
        r.group = *g as u64;
    }
    groups.iter().max().map_or(0, |m| m + 1)
}

/// Promoter intervals per chromosome (sorted), for the genomic negatives.
fn blocked_intervals(pos: &[PromoterRow]) -> HashMap<String, Vec<(u64, u64)>> {
    let mut blocked: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for r in pos {
        blocked
            .entry(r.chrom.clone())
            .or_default()
            .push((r.start, r.end));
    }
    for v in blocked.values_mut() {
        v.sort_unstable();
    }
    blocked
}

/// TATA boxes on both strands of every chromosome: (chrom, leftmost
/// + strand position of the 7-mer, strand).
fn tata_hits(chroms: &HashMap<String, Vec<u8>>) -> Vec<(&str, u64, Strand)> {
    let mut hits: Vec<(&str, u64, Strand)> = Vec::new();
    let mut chrom_names: Vec<&String> = chroms.keys().collect();
    chrom_names.sort();
    for name in chrom_names {
        let s = &chroms[name];
        for i in 0..s.len().saturating_sub(6) {
            if is_tata(s, i) {
                hits.push((name.as_str(), i as u64, Strand::Plus));
            }
            if is_tata_minus(s, i) {
                hits.push((name.as_str(), i as u64, Strand::Minus));
            }
        }
    }
    hits
}

/// Draws genomic windows with a TATA box at a given offset, outside every
/// promoter and never the same window twice.
struct TataNegatives<'a> {
    chroms: &'a HashMap<String, Vec<u8>>,
    hits: Vec<(&'a str, u64, Strand)>,
    blocked: HashMap<String, Vec<(u64, u64)>>,
    used: HashMap<(&'a str, u64, Strand), ()>,
    len: u64,
}

impl TataNegatives<'_> {
    fn overlaps(&self, chrom: &str, s: u64, e: u64) -> bool {
        self.blocked.get(chrom).is_some_and(|v| {
            let k = v.partition_point(|&(st, _)| st < e);
            v[..k].iter().rev().any(|&(_, end)| s < end)
        })
    }

    /// A negative whose box sits `off` bases into the window, in `group`;
    /// `None` after a bounded number of tries.
    fn draw(&mut self, off: usize, group: u64, rng: &mut ChaCha8Rng) -> Option<PromoterRow> {
        let len = self.len;
        for _ in 0..10_000.min(self.hits.len() * 4) {
            let (chrom, at, strand) = self.hits[rng.random_range(0..self.hits.len())];
            let c = &self.chroms[chrom];
            // The box sits `off` bases into the window on its own strand:
            // from the left on +, from the right on -.
            let start = match strand {
                Strand::Minus => (at + 7 + off as u64).checked_sub(len),
                _ => at.checked_sub(off as u64),
            };
            let Some(start) = start else {
                continue;
            };
            let end = start + len;
            if end > c.len() as u64
                || self.overlaps(chrom, start, end)
                || self.used.contains_key(&(chrom, start, strand))
            {
                continue;
            }
            let seq = window(c, start, end, strand);
            if !seq.iter().all(|&b| dnalm_seq::is_acgt(b)) {
                continue;
            }
            self.used.insert((chrom, start, strand), ());
            return Some(PromoterRow {
                sequence: seq,
                label: 0,
                group,
                kind: "tata_genomic".into(),
                chrom: chrom.to_string(),
                start,
                end,
                strand,
            });
        }
        None
    }
}

/// Rows from positives alone (a DeePromoter sequence file): every positive
/// is its own group with one synthetic negative.
pub fn build_from_positives(
    positives: &[Vec<u8>],
    kind: SyntheticKind,
    seed: u64,
) -> (Vec<PromoterRow>, DataSummary) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(2 * positives.len());
    for (i, s) in positives.iter().enumerate() {
        let p = PromoterRow {
            sequence: s.clone(),
            label: 1,
            group: i as u64,
            kind: "promoter".into(),
            chrom: ".".into(),
            start: 0,
            end: s.len() as u64,
            strand: Strand::Unknown,
        };
        let neg = match kind {
            SyntheticKind::Substitution => substitution_negative(s, &mut rng),
            SyntheticKind::Permutation => permutation_negative(s, &mut rng),
        };
        rows.push(PromoterRow {
            sequence: neg,
            label: 0,
            kind: kind.name().into(),
            ..p.clone()
        });
        rows.push(p);
        let n = rows.len();
        rows.swap(n - 2, n - 1);
    }
    let summary = DataSummary {
        positives: positives.len(),
        negatives_by_kind: vec![(kind.name().into(), positives.len())],
        groups: positives.len(),
        ..DataSummary::default()
    };
    (rows, summary)
}

/// The data CSV: `sequence,label,group,kind,chrom,start,end,strand`.
pub fn to_csv(rows: &[PromoterRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("sequence,label,group,kind,chrom,start,end,strand\n");
    for r in rows {
        let strand = match r.strand {
            Strand::Plus => '+',
            Strand::Minus => '-',
            Strand::Unknown => '.',
        };
        writeln!(
            s,
            "{},{},{},{},{},{},{},{}",
            String::from_utf8_lossy(&r.sequence),
            r.label,
            r.group,
            r.kind,
            r.chrom,
            r.start,
            r.end,
            strand
        )
        .expect("string");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TATA positive whose only free TATA boxes are on the minus strand:
    /// its genomic negative is read there, reverse complemented, with the
    /// box at the positive's offset.
    #[test]
    fn genomic_tata_negatives_on_the_minus_strand() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut g: Vec<u8> = (0..5_000).map(|_| b"CG"[rng.random_range(0..2)]).collect();
        g[1_000 - 30..1_000 - 23].copy_from_slice(b"TATAAAA");
        for at in [2_500usize, 3_500, 4_500] {
            g[at..at + 7].copy_from_slice(b"TTTTATA"); // TATAAAA on the - strand
        }
        // The only + strand box is the positive's own.
        let plus: Vec<usize> = (0..g.len() - 6).filter(|&i| is_tata(&g, i)).collect();
        assert_eq!(plus, [970]);
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("g.fa");
        std::fs::write(
            &fa,
            format!(">p\n{}\n", String::from_utf8(g.clone()).unwrap()),
        )
        .unwrap();
        let tss = vec![Tss {
            chrom: "p".into(),
            pos: 1_000,
            strand: Strand::Plus,
            name: "t".into(),
            line: 1,
        }];
        let (rows, summary) = build_from_genome(&fa, &tss, &PromoterSpec::default()).unwrap();
        assert_eq!((summary.tata_positives, summary.tata_fallbacks), (1, 0));
        let (pos, neg) = (&rows[0], &rows[1]);
        let off = tata_offset(&pos.sequence, 249).unwrap();
        assert_eq!(off, 219);
        assert_eq!(neg.kind, "tata_genomic");
        assert_eq!(neg.strand, Strand::Minus);
        // The box (leftmost base `at` on +) ends `off` bases before the
        // window's right end.
        assert!([2_500, 3_500, 4_500].contains(&(neg.end - 7 - off as u64)));
        let slice = &g[neg.start as usize..neg.end as usize];
        assert_eq!(neg.sequence, dnalm_seq::reverse_complement(slice));
        assert!(is_tata(&neg.sequence, off), "{neg:?}");
        let csv = to_csv(&rows);
        assert!(csv.lines().nth(2).unwrap().ends_with(",-"), "{csv}");
    }
}
