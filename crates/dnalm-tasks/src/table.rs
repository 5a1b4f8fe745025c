//! Sequence tables: CSV or TSV with a header naming a `sequence` column and
//! optionally a `label` column (0/1), plain or gzip, such as the promoter
//! sets (`orig_fold,orig_index,sequence,label`). A minimal reader for the
//! embedding and motif commands; errors name the file and line.

use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::error::{Result, TaskError};

/// The rows of a table.
#[derive(Debug, Clone, Default)]
pub struct SeqTable {
    /// `line N` (1-based line of the row) for each row.
    pub names: Vec<String>,
    /// Upper case; may hold N / IUPAC codes.
    pub seqs: Vec<Vec<u8>>,
    /// When the table has a `label` column.
    pub labels: Option<Vec<u8>>,
}

/// Whether a file looks like such a table: its first line holds a
/// `sequence` field separated by commas or tabs.
pub fn is_table(path: &Path) -> Result<bool> {
    let mut r = open(path)?;
    let mut first = String::new();
    r.read_line(&mut first)
        .map_err(|e| TaskError::io(path, e))?;
    Ok(first
        .trim_end()
        .split([',', '\t'])
        .any(|f| f.trim() == "sequence"))
}

fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let f = std::fs::File::open(path).map_err(|e| TaskError::io(path, e))?;
    let mut br = BufReader::new(f);
    let gz = br
        .fill_buf()
        .map_err(|e| TaskError::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(br)))
    } else {
        Box::new(br)
    })
}

/// Read a table; `need_labels` makes the `label` column required.
pub fn read_table(path: &Path, need_labels: bool) -> Result<SeqTable> {
    let show = path.display();
    let mut lines = open(path)?.lines();
    let header = match lines.next() {
        Some(h) => h.map_err(|e| TaskError::io(path, e))?,
        None => {
            return Err(TaskError::Data(format!(
                "{show}: empty file: no header, no rows"
            )))
        }
    };
    let sep = if header.contains('\t') { '\t' } else { ',' };
    let cols: Vec<&str> = header.trim_end().split(sep).map(str::trim).collect();
    let seq_col = cols.iter().position(|&c| c == "sequence").ok_or_else(|| {
        TaskError::Data(format!(
            "{show}:1: no `sequence` column in the header {header:?}"
        ))
    })?;
    let label_col = cols.iter().position(|&c| c == "label");
    if need_labels && label_col.is_none() {
        return Err(TaskError::Data(format!(
            "{show}:1: no `label` column in the header {header:?} (labels 0/1 are needed)"
        )));
    }
    let mut t = SeqTable {
        labels: label_col.map(|_| Vec::new()),
        ..SeqTable::default()
    };
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let line = line.map_err(|e| TaskError::io(path, e))?;
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(sep).collect();
        if fields.len() != cols.len() {
            return Err(TaskError::Data(format!(
                "{show}:{n}: {} fields, the header has {}",
                fields.len(),
                cols.len()
            )));
        }
        let raw = fields[seq_col].trim().as_bytes();
        let mut seq = Vec::with_capacity(raw.len());
        for (c, &b) in raw.iter().enumerate() {
            match dnalm_seq::normalize::normalize_base(b) {
                Some(u) => seq.push(u),
                None => {
                    return Err(TaskError::Data(format!(
                        "{show}:{n}: invalid character {:?} at position {} of the sequence",
                        char::from(b),
                        c + 1
                    )))
                }
            }
        }
        if seq.is_empty() {
            return Err(TaskError::Data(format!("{show}:{n}: empty sequence")));
        }
        if let (Some(lc), Some(labels)) = (label_col, t.labels.as_mut()) {
            match fields[lc].trim() {
                "0" => labels.push(0),
                "1" => labels.push(1),
                other => {
                    return Err(TaskError::Data(format!(
                        "{show}:{n}: label {other:?} is not 0 or 1"
                    )))
                }
            }
        }
        t.names.push(format!("line{n}"));
        t.seqs.push(seq);
    }
    if t.seqs.is_empty() {
        return Err(TaskError::Data(format!("{show}: no rows after the header")));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_rejects() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "fold,sequence,label\n1,acgtn,1\n2,GGCC,0\n").unwrap();
        assert!(is_table(&p).unwrap());
        let t = read_table(&p, true).unwrap();
        assert_eq!(t.seqs, [b"ACGTN".to_vec(), b"GGCC".to_vec()]);
        assert_eq!(t.labels.unwrap(), [1, 0]);
        assert_eq!(t.names[1], "line3");
        for (text, why) in [
            (
                "sequence,label\nACGT,2\n",
                "t.csv:2: label \"2\" is not 0 or 1",
            ),
            ("sequence,label\nAC-T,1\n", "t.csv:2: invalid character '-'"),
            ("seq,label\nACGT,1\n", "no `sequence` column"),
            ("sequence\nACGT\n", "no `label` column"),
            ("sequence,label\n", "no rows"),
            ("", "empty file"),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = read_table(&p, true).unwrap_err().to_string();
            assert!(e.contains(why), "{text:?}: {e}");
        }
        std::fs::write(&p, "ACGT\n").unwrap();
        assert!(!is_table(&p).unwrap());
    }
}
