//! The book as one self-contained HTML page (inline style, no URL of any
//! kind), written chapter by chapter; every paragraph shows its genomic
//! coordinates, and so do chapters, sections and gap markers.

use std::io::Write;

use crate::book::{gap_marker, thousands, Block, Chapter};
use crate::write_md::Words;
use crate::{BookError, Result};

const STYLE: &str = "body{font-family:Georgia,serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}\
h1{border-bottom:1px solid #999;margin-top:2em}h2{margin-top:1.5em}\
.coord{font-family:monospace;font-size:.8em;color:#777;margin-right:.6em}\
p.para{font-family:monospace;word-spacing:.3em;overflow-wrap:anywhere}\
p.gap{font-family:monospace;color:#a33}.dot{color:#36c;font-weight:bold}";

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Streams HTML to `out`; [`HtmlWriter::finish`] closes the page.
#[derive(Debug)]
pub struct HtmlWriter<'a, W: Write> {
    out: W,
    words: Words<'a>,
    name: String,
}

impl<'a, W: Write> HtmlWriter<'a, W> {
    pub fn new(mut out: W, name: &str, words: Words<'a>, source: &str) -> Result<Self> {
        let title = format!("The genome book of {}", escape(source));
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header><p><strong>{title}</strong>. Written by dnalm. Coordinates are 0-based, half-open (record:start-end); \
             <span class=\"dot\">.</span> ends a sentence.</p></header>\n"
        )
        .map_err(|e| BookError::io(name, e))?;
        Ok(HtmlWriter {
            out,
            words,
            name: name.to_string(),
        })
    }

    pub fn chapter(&mut self, ch: &Chapter) -> Result<()> {
        let rec = escape(&ch.record);
        let coord = |a: u64, b: u64| format!("<span class=\"coord\">{rec}:{a}-{b}</span>");
        let mut s = format!(
            "<section class=\"chapter\" id=\"chapter-{n}\">\n<h1>CHAPTER-{n} {t} {c}</h1>\n",
            n = ch.number,
            t = escape(&self.words.join(ch.title.iter().copied())?),
            c = coord(ch.start(), ch.end()),
        );
        for sec in &ch.sections {
            s.push_str(&format!(
                "<h2 id=\"section-{n}\">SECTION-{n} {t} {c}</h2>\n",
                n = sec.number,
                t = escape(&self.words.join(sec.title.iter().copied())?),
                c = coord(sec.start(), sec.end()),
            ));
            for b in &sec.blocks {
                match b {
                    Block::Gap(g) => s.push_str(&format!(
                        "<p class=\"gap\">{}</p>\n",
                        escape(&gap_marker(&ch.record, g))
                    )),
                    Block::Paragraph(p) => {
                        s.push_str(&format!(
                            "<p class=\"para\" id=\"p{}\" title=\"{} words\">{}",
                            p.number,
                            thousands(p.words().count() as u64),
                            coord(p.start(), p.end())
                        ));
                        for (i, sent) in p.sentences.iter().enumerate() {
                            if i > 0 {
                                s.push_str(" <span class=\"dot\">.</span> ");
                            }
                            let text = self.words.join(sent.words.iter().map(|w| w.id))?;
                            s.push_str(&escape(&text));
                        }
                        s.push_str("</p>\n");
                    }
                }
            }
        }
        s.push_str("</section>\n");
        self.out
            .write_all(s.as_bytes())
            .map_err(|e| BookError::io(&self.name, e))
    }

    /// Closes the page and returns the output.
    pub fn finish(mut self) -> Result<W> {
        self.out
            .write_all(b"</body>\n</html>\n")
            .map_err(|e| BookError::io(&self.name, e))?;
        Ok(self.out)
    }
}
