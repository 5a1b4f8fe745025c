//! The English side of the book model: a corpus of paragraphs, read from a
//! plain-text file (paragraphs separated by blank lines) or from the Jane
//! Austen novels of the Debian package `r-cran-janeaustenr` ([`crate::rdb`]),
//! and split into a training part and a held-out part for the evaluation.
//!
//! The model sees English lower-cased ([`for_model`]), so that no English
//! token can be a DNA word (those are upper-case A/C/G/T, see
//! [`crate::model::is_dna_word`]).

use std::path::{Path, PathBuf};

use crate::rdb::read_rdb;
use crate::{BookError, Result};

/// One document of the corpus (a novel, or a whole text file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnglishDoc {
    /// The title (first line of a novel) or the file name.
    pub name: String,
    /// Paragraphs in order, each one line of text, whitespace collapsed.
    pub paragraphs: Vec<String>,
}

/// An English corpus: documents of paragraphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnglishCorpus {
    pub path: PathBuf,
    pub docs: Vec<EnglishDoc>,
}

/// Training and held-out paragraphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnglishSplit {
    pub train: Vec<String>,
    pub held_out: Vec<String>,
    /// How the held-out part was chosen, for reports.
    pub rule: String,
}

/// Paragraphs of lines: blank lines separate paragraphs, the lines of one
/// paragraph are joined with single spaces.
pub fn paragraphs_of_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in lines {
        let words = line.split_whitespace();
        let mut empty = true;
        for w in words {
            empty = false;
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(w);
        }
        if empty && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Where `scripts/fetch-english.sh` leaves the Jane Austen novels:
/// `$DNALM_CACHE/english/...` (default `~/.cache/dnalm`).
pub fn austen_rdb_path() -> PathBuf {
    let cache = std::env::var_os("DNALM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/dnalm")
        });
    cache.join("english/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb")
}

/// English as the model reads it: lower case.
pub fn for_model(text: &str) -> String {
    text.to_lowercase()
}

impl EnglishCorpus {
    /// A `.rdb` file is read as an R database ([`EnglishCorpus::read_rdb`]),
    /// anything else as plain text ([`EnglishCorpus::read_text`]).
    pub fn open(path: &Path) -> Result<Self> {
        if path.extension().is_some_and(|e| e == "rdb") {
            Self::read_rdb(path)
        } else {
            Self::read_text(path)
        }
    }

    /// A UTF-8 text file of paragraphs separated by blank lines, one document.
    pub fn read_text(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| BookError::io(path, e))?;
        let line_of = |at: usize| bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        if let Some(at) = bytes.iter().position(|&b| b == 0) {
            return Err(BookError::Data(format!(
                "{}: line {}: a NUL byte: this is a binary file, not plain text",
                path.display(),
                line_of(at)
            )));
        }
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            BookError::Data(format!(
                "{}: line {}: not valid UTF-8 text",
                path.display(),
                line_of(e.valid_up_to())
            ))
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let doc = EnglishDoc {
            name,
            paragraphs: paragraphs_of_lines(text.lines()),
        };
        Self::checked(path, vec![doc])
    }

    /// The character vectors of an R database, one document each (the Jane
    /// Austen package holds one vector of lines per novel); the document's
    /// name is its first non-blank line. `NA` elements count as blank lines.
    pub fn read_rdb(path: &Path) -> Result<Self> {
        let docs = read_rdb(path)?
            .into_iter()
            .map(|v| {
                let lines: Vec<&str> = v
                    .strings
                    .iter()
                    .map(|s| s.as_deref().unwrap_or(""))
                    .collect();
                let name = lines
                    .iter()
                    .map(|l| l.trim())
                    .find(|l| !l.is_empty())
                    .unwrap_or("")
                    .to_string();
                EnglishDoc {
                    name,
                    paragraphs: paragraphs_of_lines(lines),
                }
            })
            .filter(|d| !d.paragraphs.is_empty())
            .collect();
        Self::checked(path, docs)
    }

    fn checked(path: &Path, docs: Vec<EnglishDoc>) -> Result<Self> {
        if docs.iter().all(|d| d.paragraphs.is_empty()) {
            return Err(BookError::Data(format!(
                "{}: no English text in it (an empty corpus)",
                path.display()
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            docs,
        })
    }

    /// Paragraphs in all documents.
    pub fn n_paragraphs(&self) -> usize {
        self.docs.iter().map(|d| d.paragraphs.len()).sum()
    }

    /// The held-out part: the last document when there are two or more (a
    /// whole unseen novel), else a seeded tenth of the paragraphs (at least
    /// one, never all). Paragraphs stay as written (not lower-cased).
    pub fn split(&self, seed: u64) -> EnglishSplit {
        if self.docs.len() >= 2 {
            let (last, rest) = self.docs.split_last().expect("two or more documents");
            return EnglishSplit {
                train: rest.iter().flat_map(|d| d.paragraphs.clone()).collect(),
                held_out: last.paragraphs.clone(),
                rule: format!("the last document held out ({})", last.name),
            };
        }
        let all: Vec<&String> = self.docs.iter().flat_map(|d| &d.paragraphs).collect();
        let mut held: Vec<bool> = (0..all.len())
            .map(|i| dnalm_seq::mix64(seed, i as u64).is_multiple_of(10))
            .collect();
        if all.len() >= 2 && !held.iter().any(|&h| h) {
            held[all.len() - 1] = true;
        }
        if held.iter().all(|&h| h) {
            held[0] = false;
        }
        let (mut train, mut held_out) = (Vec::new(), Vec::new());
        for (p, h) in all.into_iter().zip(held) {
            if h { &mut held_out } else { &mut train }.push(p.clone());
        }
        EnglishSplit {
            train,
            held_out,
            rule: format!("a seeded tenth of the paragraphs held out (seed {seed})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::write::{block, serialize_ints, serialize_strings};

    #[test]
    fn blank_lines_separate_paragraphs() {
        let text = "\n  The first\nparagraph here.\n\n\n Second   one.\n   \nThird.";
        assert_eq!(
            paragraphs_of_lines(text.lines()),
            vec!["The first paragraph here.", "Second one.", "Third."]
        );
        assert!(paragraphs_of_lines("\n \n".lines()).is_empty());
    }

    #[test]
    fn text_files_and_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("book.txt");
        std::fs::write(&p, "One two.\nThree.\n\nFour.\n").unwrap();
        let c = EnglishCorpus::open(&p).unwrap();
        assert_eq!(c.docs.len(), 1);
        assert_eq!(c.docs[0].name, "book");
        assert_eq!(c.docs[0].paragraphs, vec!["One two. Three.", "Four."]);

        std::fs::write(&p, b"fine\nfine\n\xff\xfe bad\n").unwrap();
        let e = EnglishCorpus::open(&p).unwrap_err().to_string();
        assert!(e.contains("book.txt: line 3: not valid UTF-8"), "{e}");
        std::fs::write(&p, "text\n\0\0\0").unwrap();
        let e = EnglishCorpus::open(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("binary"), "{e}");
        std::fs::write(&p, "\n  \n\n").unwrap();
        let e = EnglishCorpus::open(&p).unwrap_err().to_string();
        assert!(e.contains("empty corpus"), "{e}");
        let e = EnglishCorpus::open(&dir.path().join("none.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.txt"), "{e}");
    }

    #[test]
    fn novels_from_an_r_database() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Rdata.rdb");
        let mut db = block(&serialize_strings(&[
            Some("EMMA"),
            Some(""),
            Some("Emma Woodhouse, handsome, clever,"),
            Some("and rich."),
            None,
            Some("She was the youngest."),
        ]));
        db.extend(block(&serialize_ints(&[1, 1, 2])));
        db.extend(block(&serialize_strings(&[
            Some("PERSUASION"),
            Some(""),
            Some("Sir Walter Elliot."),
        ])));
        std::fs::write(&p, db).unwrap();
        let c = EnglishCorpus::open(&p).unwrap();
        assert_eq!(c.docs.len(), 2);
        assert_eq!(c.docs[0].name, "EMMA");
        assert_eq!(
            c.docs[0].paragraphs,
            vec![
                "EMMA",
                "Emma Woodhouse, handsome, clever, and rich.",
                "She was the youngest."
            ]
        );
        let s = c.split(1);
        assert_eq!(s.train.len(), 3);
        assert_eq!(s.held_out, vec!["PERSUASION", "Sir Walter Elliot."]);
        assert!(s.rule.contains("PERSUASION"));

        std::fs::write(&p, block(&serialize_ints(&[1]))).unwrap();
        let e = EnglishCorpus::open(&p).unwrap_err().to_string();
        assert!(e.contains("empty corpus"), "{e}");
    }

    #[test]
    fn one_document_splits_by_seed() {
        let doc = EnglishDoc {
            name: "t".into(),
            paragraphs: (0..200).map(|i| format!("paragraph {i}.")).collect(),
        };
        let c = EnglishCorpus {
            path: "t.txt".into(),
            docs: vec![doc],
        };
        let a = c.split(7);
        assert_eq!(a, c.split(7));
        assert_ne!(a.held_out, c.split(8).held_out);
        assert_eq!(a.train.len() + a.held_out.len(), 200);
        assert!((5..40).contains(&a.held_out.len()), "{}", a.held_out.len());
        let tiny = EnglishCorpus {
            path: "t.txt".into(),
            docs: vec![EnglishDoc {
                name: "t".into(),
                paragraphs: vec!["a.".into(), "b.".into()],
            }],
        };
        let s = tiny.split(0);
        assert_eq!((s.train.len(), s.held_out.len()), (1, 1));
        assert_eq!(for_model("Emma WAS"), "emma was");
    }
}
