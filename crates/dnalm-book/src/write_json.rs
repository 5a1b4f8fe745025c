//! The book as JSON, written chapter by chapter: the coordinates of every
//! chapter, section, paragraph, sentence and word (0-based, half-open, on
//! the chapter's record).
//!
//! ```text
//! {"format":"dnalm-book","version":1,"source":"genome.fa","coordinates":"0-based half-open",
//!  "chapters":[{"chapter":1,"record":"chr2","start":0,"end":5000,"title":["ACG","TTA"],
//!    "sections":[{"section":1,"start":0,"end":5000,"title":[...],
//!      "blocks":[{"gap":{"start":0,"end":100,"length":100,"all_n":true}},
//!                {"paragraph":1,"start":100,"end":900,
//!                 "sentences":[{"start":100,"end":400,"words":[["ACGT",100,104],...]}]}]}]}]}
//! ```

use std::io::Write;

use serde_json::{json, Value};

use crate::book::{Block, Chapter};
use crate::write_md::Words;
use crate::{BookError, Result};

/// Streams JSON to `out`; [`JsonWriter::finish`] closes the document.
#[derive(Debug)]
pub struct JsonWriter<'a, W: Write> {
    out: W,
    words: Words<'a>,
    name: String,
    chapters: usize,
}

impl<'a, W: Write> JsonWriter<'a, W> {
    pub fn new(mut out: W, name: &str, words: Words<'a>, source: &str) -> Result<Self> {
        let head = json!({"format": "dnalm-book", "version": 1, "source": source,
            "coordinates": "0-based half-open"});
        let head = serde_json::to_string(&head).expect("a JSON value serialises");
        // Open the object again to append the chapters array.
        write!(out, "{},\"chapters\":[", &head[..head.len() - 1])
            .map_err(|e| BookError::io(name, e))?;
        Ok(JsonWriter {
            out,
            words,
            name: name.to_string(),
            chapters: 0,
        })
    }

    fn title(&self, ids: &[u32]) -> Result<Value> {
        ids.iter()
            .map(|&i| self.words.word(i).map(Value::from))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array)
    }

    pub fn chapter(&mut self, ch: &Chapter) -> Result<()> {
        let mut sections = Vec::with_capacity(ch.sections.len());
        for sec in &ch.sections {
            let mut blocks = Vec::with_capacity(sec.blocks.len());
            for b in &sec.blocks {
                blocks.push(match b {
                    Block::Gap(g) => json!({"gap": {"start": g.start, "end": g.end,
                        "length": g.len(), "all_n": g.all_n}}),
                    Block::Paragraph(p) => {
                        let mut sentences = Vec::with_capacity(p.sentences.len());
                        for s in &p.sentences {
                            let words = s
                                .words
                                .iter()
                                .map(|w| Ok(json!([self.words.word(w.id)?, w.start, w.end])))
                                .collect::<Result<Vec<_>>>()?;
                            sentences
                                .push(json!({"start": s.start(), "end": s.end(), "words": words}));
                        }
                        json!({"paragraph": p.number, "start": p.start(), "end": p.end(),
                            "sentences": sentences})
                    }
                });
            }
            sections.push(
                json!({"section": sec.number, "start": sec.start(), "end": sec.end(),
                "title": self.title(&sec.title)?, "blocks": blocks}),
            );
        }
        let v = json!({"chapter": ch.number, "record": ch.record, "start": ch.start(),
            "end": ch.end(), "title": self.title(&ch.title)?, "sections": sections});
        if self.chapters > 0 {
            self.out
                .write_all(b",\n")
                .map_err(|e| BookError::io(&self.name, e))?;
        }
        self.chapters += 1;
        serde_json::to_writer(&mut self.out, &v)
            .map_err(|e| BookError::io(&self.name, std::io::Error::other(e)))
    }

    /// Closes the document and returns the output.
    pub fn finish(mut self) -> Result<W> {
        self.out
            .write_all(b"]}\n")
            .map_err(|e| BookError::io(&self.name, e))?;
        Ok(self.out)
    }
}
