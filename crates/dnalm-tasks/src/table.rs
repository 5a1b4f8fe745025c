//! Delimited tables (CSV or TSV with a header line), plain or gzip: the one
//! reader behind every task that reads a table. [`Table`] splits the header
//! and the rows, checks that every row has the header's number of fields and
//! builds errors that name the file, the line and the field; [`read_table`]
//! reads sequence tables for the embedding and motif commands
//! (a `sequence` column, optionally a 0/1 `label` column, such as the
//! promoter sets `orig_fold,orig_index,sequence,label`); the promoter
//! loaders read their CSV through [`Table`] too.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::error::{Result, TaskError};

/// A plain or gzip file (told by the magic bytes), as a buffered reader.
pub fn open_reader(path: &Path) -> Result<Box<dyn BufRead>> {
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

/// The whole text of a plain or gzip file.
pub fn open_text(path: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    open_reader(path)?.read_to_end(&mut bytes).map_err(|e| {
        TaskError::Data(format!(
            "{}: cannot read (corrupt gzip stream?): {e}",
            path.display()
        ))
    })?;
    String::from_utf8(bytes)
        .map_err(|e| TaskError::Data(format!("{}: not UTF-8 text: {e}", path.display())))
}

/// A 0/1 label.
pub fn parse_label(s: &str) -> std::result::Result<u8, String> {
    match s.trim() {
        "0" => Ok(0),
        "1" => Ok(1),
        other => Err(format!(
            "label {other:?} is not 0 or 1 (a binary task: 1 = promoter, 0 = not)"
        )),
    }
}

/// One data row: its 1-based line and its fields (untrimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    pub line: usize,
    pub fields: Vec<&'a str>,
}

/// A delimited table over borrowed text: the header's columns (trimmed,
/// lower case) and the non-empty rows after it.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    /// The file, as shown in errors.
    pub name: String,
    pub sep: char,
    pub columns: Vec<String>,
    pub rows: Vec<Row<'a>>,
}

impl<'a> Table<'a> {
    /// Split `text` (from the file `name`): the first non-blank line is the header;
    /// `sep` is given or told by the header (a tab makes it TSV, else CSV).
    /// Blank lines are skipped; `\r` line ends are accepted.
    pub fn parse(name: &str, text: &'a str, sep: Option<char>) -> Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty());
        let header = match lines.next() {
            Some((_, h)) => h,
            None => {
                return Err(TaskError::Data(format!(
                    "{name}: empty file: no header, no rows"
                )))
            }
        };
        let sep = sep.unwrap_or(if header.contains('\t') { '\t' } else { ',' });
        let columns: Vec<String> = header
            .split(sep)
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        let mut rows = Vec::new();
        for (line, l) in lines {
            let fields: Vec<&str> = l.split(sep).collect();
            if fields.len() != columns.len() {
                return Err(TaskError::Data(format!(
                    "{name}:{line}: {} fields, the header has {}",
                    fields.len(),
                    columns.len()
                )));
            }
            rows.push(Row { line, fields });
        }
        if rows.is_empty() {
            return Err(TaskError::Data(format!("{name}: no rows after the header")));
        }
        Ok(Table {
            name: name.to_string(),
            sep,
            columns,
            rows,
        })
    }

    /// Index of the column named `name` (any case).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Index of a column the caller cannot do without.
    pub fn require(&self, name: &str, why: &str) -> Result<usize> {
        self.column(name).ok_or_else(|| {
            TaskError::Data(format!(
                "{}:1: no `{name}` column in the header {:?}{why}",
                self.name,
                self.columns.join(&self.sep.to_string())
            ))
        })
    }

    /// An error about `row`: `file:line: message`.
    pub fn error(&self, row: &Row, message: impl std::fmt::Display) -> TaskError {
        TaskError::Data(format!("{}:{}: {message}", self.name, row.line))
    }

    /// An error about one field of `row`: `file:line: column NAME: message`.
    pub fn field_error(&self, row: &Row, col: usize, message: impl std::fmt::Display) -> TaskError {
        self.error(row, format!("column `{}`: {message}", self.columns[col]))
    }
}

/// The rows of a sequence table.
#[derive(Debug, Clone, Default)]
pub struct SeqTable {
    /// `line N` (1-based line of the row) for each row.
    pub names: Vec<String>,
    /// Upper case; may hold N / IUPAC codes.
    pub seqs: Vec<Vec<u8>>,
    /// When the table has a `label` column.
    pub labels: Option<Vec<u8>>,
}

/// Whether a file looks like a sequence table: its first line holds a
/// `sequence` field separated by commas or tabs.
pub fn is_table(path: &Path) -> Result<bool> {
    let mut first = String::new();
    open_reader(path)?
        .read_line(&mut first)
        .map_err(|e| TaskError::io(path, e))?;
    Ok(first
        .trim_end()
        .split([',', '\t'])
        .any(|f| f.trim() == "sequence"))
}

/// Read a sequence table; `need_labels` makes the `label` column required.
pub fn read_table(path: &Path, need_labels: bool) -> Result<SeqTable> {
    let text = open_text(path)?;
    let table = Table::parse(&path.display().to_string(), &text, None)?;
    let seq_col = table.require("sequence", "")?;
    let label_col = table.column("label");
    if need_labels && label_col.is_none() {
        table.require("label", " (labels 0/1 are needed)")?;
    }
    let mut t = SeqTable {
        labels: label_col.map(|_| Vec::new()),
        ..SeqTable::default()
    };
    for row in &table.rows {
        let raw = row.fields[seq_col].trim().as_bytes();
        let mut seq = Vec::with_capacity(raw.len());
        for (c, &b) in raw.iter().enumerate() {
            match dnalm_seq::normalize::normalize_base(b) {
                Some(u) => seq.push(u),
                None => {
                    return Err(table.error(
                        row,
                        format!(
                            "invalid character {:?} at position {} of the sequence",
                            char::from(b),
                            c + 1
                        ),
                    ))
                }
            }
        }
        if seq.is_empty() {
            return Err(table.error(row, "empty sequence"));
        }
        if let (Some(lc), Some(labels)) = (label_col, t.labels.as_mut()) {
            labels.push(parse_label(row.fields[lc]).map_err(|m| table.error(row, m))?);
        }
        t.names.push(format!("line{}", row.line));
        t.seqs.push(seq);
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
        std::fs::write(&p, "fold,sequence,label\n1,acgtn,1\n\n2,GGCC,0\r\n").unwrap();
        assert!(is_table(&p).unwrap());
        let t = read_table(&p, true).unwrap();
        assert_eq!(t.seqs, [b"ACGTN".to_vec(), b"GGCC".to_vec()]);
        assert_eq!(t.labels.unwrap(), [1, 0]);
        assert_eq!(t.names[1], "line4");
        for (text, why) in [
            (
                "sequence,label\nACGT,2\n",
                "t.csv:2: label \"2\" is not 0 or 1",
            ),
            ("sequence,label\nAC-T,1\n", "t.csv:2: invalid character '-'"),
            ("seq,label\nACGT,1\n", "t.csv:1: no `sequence` column"),
            ("sequence\nACGT\n", "no `label` column"),
            (
                "sequence,label\nACGT,1,x\n",
                "t.csv:2: 3 fields, the header has 2",
            ),
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

    #[test]
    fn tsv_gzip_and_field_errors() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tsv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"ID\tSequence\nx\tACGT\ny\tTT\n").unwrap();
        std::fs::write(&p, gz.finish().unwrap()).unwrap();
        let text = open_text(&p).unwrap();
        let t = Table::parse("t.tsv.gz", &text, None).unwrap();
        assert_eq!((t.sep, t.column("sequence")), ('\t', Some(1)));
        assert_eq!(t.rows[1].fields, ["y", "TT"]);
        let e = t.field_error(&t.rows[1], 1, "too short").to_string();
        assert_eq!(e, "t.tsv.gz:3: column `sequence`: too short");
        // A comma inside a TSV field is data, not a separator.
        let t = Table::parse("x", "a\tb\n1,2\t3\n", None).unwrap();
        assert_eq!(t.rows[0].fields, ["1,2", "3"]);
        assert!(parse_label(" 1 ").is_ok() && parse_label("yes").is_err());
    }
}
