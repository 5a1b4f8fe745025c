//! Labelled sequence sets people already have, read into one shape: CSV
//! with a header naming `sequence` and `label` (DNABERT-2 / GUE; any extra
//! columns are ignored, a `group` column is kept), DNABERT's TSV of
//! space-separated overlapping k-mers with a label (turned back into
//! sequence; the header of `prom-core` has two spaces instead of a tab), and
//! plain files with one sequence per line (positives only, DeePromoter).
//! Plain or gzip, told by the magic bytes. The CSV is read by the shared
//! [`Table`] reader. Every row is checked: labels 0/1, A/C/G/T/N only, one
//! length for all; errors name the file, the line and the column.

use std::path::Path;

use crate::error::{Result, TaskError};
use crate::table::{open_text, parse_label, Table};

/// One labelled sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledRow {
    pub sequence: Vec<u8>,
    pub label: u8,
    /// The file's `group` column, if it has one.
    pub group: Option<u64>,
    /// 1-based line in the file.
    pub line: usize,
}

fn clean_seq(s: &str, what: impl Fn(String) -> TaskError) -> Result<Vec<u8>> {
    let seq: Vec<u8> = s.trim().bytes().map(|b| b.to_ascii_uppercase()).collect();
    if seq.is_empty() {
        return Err(what("empty sequence".into()));
    }
    if let Some(p) = seq.iter().position(|b| !b"ACGTN".contains(b)) {
        return Err(what(format!(
            "sequence has {:?} at position {} (A, C, G, T, N only)",
            seq[p] as char,
            p + 1
        )));
    }
    Ok(seq)
}

/// Space-separated overlapping k-mers back to the sequence: the first
/// k-mer, then the last base of each later one (each must overlap the one
/// before by k - 1 bases).
pub fn kmers_to_sequence(text: &str) -> std::result::Result<Vec<u8>, String> {
    let toks: Vec<&str> = text.split_whitespace().collect();
    let Some(first) = toks.first() else {
        return Err("no k-mer".into());
    };
    let k = first.len();
    let mut seq = first.as_bytes().to_vec();
    for (i, w) in toks.iter().enumerate().skip(1) {
        if w.len() != k || w.as_bytes()[..k - 1] != toks[i - 1].as_bytes()[1..] {
            return Err(format!(
                "k-mer {} ({w:?}) does not overlap the one before ({:?}) by {} bases",
                i + 1,
                toks[i - 1],
                k - 1
            ));
        }
        seq.push(w.as_bytes()[k - 1]);
    }
    Ok(seq)
}

/// Read a labelled set (format told by the content, see the module doc).
pub fn read_labelled(path: &Path) -> Result<Vec<LabelledRow>> {
    let text = open_text(path)?;
    let name_owned = path.display().to_string();
    let name = name_owned.as_str();
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(TaskError::Data(format!("{name}: empty file")));
    };
    let err = |line: usize| move |m: String| TaskError::Data(format!("{name}:{line}: {m}"));
    let mut rows = Vec::new();
    let lower = header.to_ascii_lowercase();
    if lower.contains(',') && lower.split(',').any(|c| c.trim() == "sequence") {
        let table = Table::parse(name, &text, Some(','))?;
        let why = " (the CSV header needs `sequence` and `label` columns)";
        let si = table.require("sequence", why)?;
        let li = table.require("label", why)?;
        let gi = table.column("group");
        for row in &table.rows {
            let group = match gi {
                Some(g) => Some(row.fields[g].trim().parse::<u64>().map_err(|_| {
                    table.field_error(
                        row,
                        g,
                        format!("{:?} is not a non-negative integer", row.fields[g]),
                    )
                })?),
                None => None,
            };
            rows.push(LabelledRow {
                sequence: clean_seq(row.fields[si], err(row.line))?,
                label: parse_label(row.fields[li]).map_err(err(row.line))?,
                group,
                line: row.line,
            });
        }
    } else if lower.starts_with("sequence") && lower.contains("label") {
        // DNABERT TSV: `k-mers<TAB>label` (header tab or two spaces).
        for (line, l) in lines {
            let Some((kmers, label)) = l.rsplit_once('\t') else {
                return Err(err(line)("expected `k-mers<TAB>label`".into()));
            };
            let seq = kmers_to_sequence(kmers).map_err(err(line))?;
            rows.push(LabelledRow {
                sequence: clean_seq(std::str::from_utf8(&seq).unwrap_or(""), err(line))?,
                label: parse_label(label).map_err(err(line))?,
                group: None,
                line,
            });
        }
    } else {
        // One sequence per line, all positives; the first line is data.
        let first = std::iter::once((1usize, header));
        for (line, l) in first.chain(lines) {
            if l.contains([',', '\t', ' ']) {
                return Err(err(line)(
                    "not a labelled file (CSV with a sequence,label header or DNABERT TSV) \
                     nor one sequence per line"
                        .into(),
                ));
            }
            rows.push(LabelledRow {
                sequence: clean_seq(l, err(line))?,
                label: 1,
                group: None,
                line,
            });
        }
    }
    if rows.is_empty() {
        return Err(TaskError::Data(format!("{name}: no rows")));
    }
    let want = rows[0].sequence.len();
    if let Some(r) = rows.iter().find(|r| r.sequence.len() != want) {
        return Err(TaskError::Data(format!(
            "{name}:{}: sequence of {} bases; the first row has {want} (one length for all rows)",
            r.line,
            r.sequence.len()
        )));
    }
    Ok(rows)
}

/// Both classes must be present.
pub fn check_classes(name: &str, rows: &[LabelledRow]) -> Result<(usize, usize)> {
    let pos = rows.iter().filter(|r| r.label == 1).count();
    let neg = rows.len() - pos;
    if pos == 0 || neg == 0 {
        return Err(TaskError::Data(format!(
            "{name}: {pos} positive and {neg} negative rows; both classes are needed \
             (make negatives with `dnalm promoter data --positives`)"
        )));
    }
    Ok((pos, neg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_tsv_and_plain_files() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "a.csv",
            "id,sequence,label,group\nx,acgtn,1,4\ny,TTTTT,0,4\n",
        );
        let r = read_labelled(&p).unwrap();
        assert_eq!(r[0].sequence, b"ACGTN");
        assert_eq!((r[1].label, r[1].group, r[1].line), (0, Some(4), 3));
        // DNABERT's prom-core header quirk: two spaces, not a tab.
        let p = write(
            d.path(),
            "b.tsv",
            "sequence  label\nACGTAC CGTACG GTACGT\t1\n",
        );
        let r = read_labelled(&p).unwrap();
        assert_eq!(r[0].sequence, b"ACGTACGT");
        let p = write(d.path(), "c.txt", "ACGT\nTTTT\n");
        let r = read_labelled(&p).unwrap();
        assert!(r.iter().all(|r| r.label == 1));
        assert!(check_classes("c.txt", &r).is_err());
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        let cases = [
            (
                "l.csv",
                "sequence,label\nACGT,1\nACGT,2\n",
                "l.csv:3: label \"2\"",
            ),
            ("w.csv", "sequence,label\nACGT,1\nACG,0\n", "l.csv:3"),
            (
                "x.csv",
                "sequence,label\nACXT,1\n",
                "x.csv:2: sequence has 'X'",
            ),
            (
                "k.tsv",
                "sequence\tlabel\nACGTAC GGGGGG\t1\n",
                "k.tsv:2: k-mer 2",
            ),
            ("n.csv", "seq,lab\nACGT,1\n", "n.csv:1: not a labelled file"),
        ];
        for (name, text, want) in cases {
            let p = write(d.path(), name, text);
            let e = read_labelled(&p).unwrap_err().to_string();
            let want = want.replace("l.csv:3", &format!("{name}:3"));
            assert!(e.contains(&want), "{name}: {e}");
        }
    }
}
