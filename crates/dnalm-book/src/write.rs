//! The book's folder: `book.md`, `book.html`, `book.json`, `book.en.md`
//! (with a dictionary) and `run.json`, streamed chapter by chapter into
//! temporary files and renamed into place only by [`BookFiles::finish`].
//!
//! No partial book: if the run fails (or [`BookFiles`] is dropped before
//! `finish`), the temporary files are removed, and the folder too when this
//! run created it and it is left empty.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dnalm_seq::AtomicFile;

use crate::book::{Chapter, Vocab};
use crate::translate::Translator;
use crate::write_html::HtmlWriter;
use crate::write_json::JsonWriter;
use crate::write_md::{MarkdownWriter, Words};
use crate::{BookError, Result};

type Out = BufWriter<AtomicFile>;

struct Writers<'a> {
    md: MarkdownWriter<'a, Out>,
    en: Option<MarkdownWriter<'a, Out>>,
    html: HtmlWriter<'a, Out>,
    json: JsonWriter<'a, Out>,
}

/// The open book folder.
pub struct BookFiles<'a> {
    dir: PathBuf,
    created_dir: bool,
    writers: Option<Writers<'a>>,
}

impl std::fmt::Debug for BookFiles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookFiles").field("dir", &self.dir).finish()
    }
}

fn open(dir: &Path, name: &str) -> Result<(Out, String)> {
    let path = dir.join(name);
    let f = AtomicFile::create(&path)?;
    Ok((
        BufWriter::with_capacity(1 << 16, f),
        path.display().to_string(),
    ))
}

fn commit(out: Out, name: &str) -> Result<()> {
    let f = out
        .into_inner()
        .map_err(|e| BookError::io(name, e.into_error()))?;
    Ok(f.commit()?)
}

impl<'a> BookFiles<'a> {
    /// Starts the book in `dir` (created when missing). `source` names the
    /// FASTA in the books' opening lines.
    pub fn create(
        dir: &Path,
        source: &str,
        vocab: &'a Vocab,
        english: Option<&'a Translator>,
    ) -> Result<Self> {
        let created_dir = !dir.exists();
        if created_dir {
            std::fs::create_dir_all(dir).map_err(|e| BookError::io(dir, e))?;
        } else if !dir.is_dir() {
            return Err(BookError::Config(format!(
                "{}: exists and is not a folder",
                dir.display()
            )));
        }
        let mut files = BookFiles {
            dir: dir.to_path_buf(),
            created_dir,
            writers: None,
        };
        let dna = Words {
            vocab,
            english: None,
        };
        let (o, n) = open(dir, "book.md")?;
        let md = MarkdownWriter::new(o, &n, dna, source)?;
        let en = match english {
            Some(t) => {
                let (o, n) = open(dir, "book.en.md")?;
                let words = Words {
                    vocab,
                    english: Some(t),
                };
                Some(MarkdownWriter::new(o, &n, words, source)?)
            }
            None => None,
        };
        let (o, n) = open(dir, "book.html")?;
        let html = HtmlWriter::new(o, &n, dna, source)?;
        let (o, n) = open(dir, "book.json")?;
        let json = JsonWriter::new(o, &n, dna, source)?;
        files.writers = Some(Writers { md, en, html, json });
        Ok(files)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one chapter to every version.
    pub fn chapter(&mut self, ch: &Chapter) -> Result<()> {
        let w = self.writers.as_mut().expect("open until finish");
        // The English version first: a word missing from the dictionary stops
        // the run before the other versions grow.
        if let Some(en) = &mut w.en {
            en.chapter(ch)?;
        }
        w.md.chapter(ch)?;
        w.html.chapter(ch)?;
        w.json.chapter(ch)
    }

    /// Closes every version, writes `run.json` and renames all into place.
    pub fn finish(mut self, run: &serde_json::Value) -> Result<Vec<PathBuf>> {
        let w = self.writers.take().expect("open until finish");
        let mut done: Vec<(Out, String)> = Vec::new();
        done.push((w.md.into_inner(), "book.md".into()));
        if let Some(en) = w.en {
            done.push((en.into_inner(), "book.en.md".into()));
        }
        done.push((w.html.finish()?, "book.html".into()));
        done.push((w.json.finish()?, "book.json".into()));
        let (mut o, n) = open(&self.dir, "run.json")?;
        serde_json::to_writer_pretty(&mut o, run)
            .map_err(|e| BookError::io(&n, std::io::Error::other(e)))?;
        o.write_all(b"\n").map_err(|e| BookError::io(&n, e))?;
        done.push((o, "run.json".into()));
        let mut paths = Vec::new();
        for (o, name) in done {
            let path = self.dir.join(&name);
            commit(o, &path.display().to_string())?;
            paths.push(path);
        }
        self.created_dir = false;
        Ok(paths)
    }
}

impl Drop for BookFiles<'_> {
    fn drop(&mut self) {
        // Remove the temporary files first, then the folder this run made.
        drop(self.writers.take());
        if self.created_dir {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}
