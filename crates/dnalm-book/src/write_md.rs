//! The book as Markdown, DNA or English, written chapter by chapter.
//!
//! `# CHAPTER-i title`, `## SECTION-j title`, then paragraphs of
//! space-separated words with " . " between sentences, and gap markers
//! (`[gap chr2:1000-2000, 1,000 N]`) as their own paragraphs. The English
//! version is the same text with every DNA word (titles included) replaced
//! through a [`Translator`].

use std::io::Write;

use crate::book::{gap_marker, Block, Chapter, Vocab};
use crate::translate::Translator;
use crate::{BookError, Result};

/// Turns token ids into the words of one language version.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    pub vocab: &'a Vocab,
    /// `None`: the DNA version.
    pub english: Option<&'a Translator>,
}

impl<'a> Words<'a> {
    pub fn word(&self, id: u32) -> Result<&'a str> {
        let t = self.vocab.get(id)?;
        match self.english {
            Some(tr) => tr.english(t),
            None => Ok(t),
        }
    }

    /// Space-separated words.
    pub fn join(&self, ids: impl IntoIterator<Item = u32>) -> Result<String> {
        let mut s = String::new();
        for id in ids {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(self.word(id)?);
        }
        Ok(s)
    }
}

/// Streams Markdown to `out`.
#[derive(Debug)]
pub struct MarkdownWriter<'a, W: Write> {
    out: W,
    words: Words<'a>,
    name: String,
}

impl<'a, W: Write> MarkdownWriter<'a, W> {
    /// `name` is the output's name for I/O errors; `source` the FASTA, named
    /// in the opening line.
    pub fn new(mut out: W, name: &str, words: Words<'a>, source: &str) -> Result<Self> {
        let lang = if words.english.is_some() {
            "English version through the DNA-English dictionary"
        } else {
            "DNA words"
        };
        writeln!(
            out,
            "*The genome book of {source} ({lang}). Written by dnalm; coordinates are 0-based, half-open.*\n"
        )
        .map_err(|e| BookError::io(name, e))?;
        Ok(MarkdownWriter {
            out,
            words,
            name: name.to_string(),
        })
    }

    pub fn chapter(&mut self, ch: &Chapter) -> Result<()> {
        let mut s = String::new();
        let title = |ids: &[u32]| -> Result<String> {
            let t = self.words.join(ids.iter().copied())?;
            Ok(if t.is_empty() { t } else { format!(" {t}") })
        };
        s.push_str(&format!("# CHAPTER-{}{}\n\n", ch.number, title(&ch.title)?));
        for sec in &ch.sections {
            s.push_str(&format!(
                "## SECTION-{}{}\n\n",
                sec.number,
                title(&sec.title)?
            ));
            for b in &sec.blocks {
                match b {
                    Block::Gap(g) => s.push_str(&gap_marker(&ch.record, g)),
                    Block::Paragraph(p) => {
                        for (i, sent) in p.sentences.iter().enumerate() {
                            if i > 0 {
                                s.push_str(" . ");
                            }
                            s.push_str(&self.words.join(sent.words.iter().map(|w| w.id))?);
                        }
                    }
                }
                s.push_str("\n\n");
            }
        }
        self.out
            .write_all(s.as_bytes())
            .map_err(|e| BookError::io(&self.name, e))
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
