//! The book as data: chapters of sections of paragraphs of sentences of
//! words, with gap markers, every piece carrying its genomic coordinates.
//!
//! The pipeline hands the writers one finished [`Chapter`] at a time, so the
//! writers stream and no more than a chapter is ever held. Chapters never
//! cross a FASTA record (a new record starts a new chapter), so a chapter's
//! coordinates are on one record. Coordinates are 0-based, half-open, on the
//! record as read from the FASTA.

use crate::model::BookTokenizer;
use crate::text::{Gap, Word};
use crate::{BookError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub words: Vec<Word>,
}

impl Sentence {
    pub fn start(&self) -> u64 {
        self.words.first().map_or(0, |w| w.start)
    }

    pub fn end(&self) -> u64 {
        self.words.last().map_or(0, |w| w.end)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// 1-based, counted over the whole book.
    pub number: usize,
    pub sentences: Vec<Sentence>,
}

impl Paragraph {
    pub fn start(&self) -> u64 {
        self.sentences.first().map_or(0, |s| s.start())
    }

    pub fn end(&self) -> u64 {
        self.sentences.last().map_or(0, |s| s.end())
    }

    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.sentences.iter().flat_map(|s| s.words.iter())
    }
}

/// What a section holds, in genome order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(Paragraph),
    Gap(Gap),
}

impl Block {
    pub fn start(&self) -> u64 {
        match self {
            Block::Paragraph(p) => p.start(),
            Block::Gap(g) => g.start,
        }
    }

    pub fn end(&self) -> u64 {
        match self {
            Block::Paragraph(p) => p.end(),
            Block::Gap(g) => g.end,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-based, counted over the whole book.
    pub number: usize,
    /// Token ids of the title (empty for a section of gaps only).
    pub title: Vec<u32>,
    pub blocks: Vec<Block>,
}

impl Section {
    pub fn start(&self) -> u64 {
        self.blocks.first().map_or(0, |b| b.start())
    }

    pub fn end(&self) -> u64 {
        self.blocks.last().map_or(0, |b| b.end())
    }

    pub fn paragraphs(&self) -> impl Iterator<Item = &Paragraph> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Paragraph(p) => Some(p),
            Block::Gap(_) => None,
        })
    }

    /// All word ids in order (what the title summarises).
    pub fn word_ids(&self) -> Vec<u32> {
        self.paragraphs()
            .flat_map(|p| p.words().map(|w| w.id))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// 1-based, counted over the whole book.
    pub number: usize,
    /// The FASTA record the chapter is on.
    pub record: String,
    pub title: Vec<u32>,
    pub sections: Vec<Section>,
}

impl Chapter {
    pub fn start(&self) -> u64 {
        self.sections.first().map_or(0, |s| s.start())
    }

    pub fn end(&self) -> u64 {
        self.sections.last().map_or(0, |s| s.end())
    }
}

/// Token texts by id, taken once from the tokenizer.
#[derive(Debug, Clone)]
pub struct Vocab {
    tokens: Vec<String>,
}

impl Vocab {
    pub fn of(tokenizer: &dyn BookTokenizer) -> Result<Self> {
        let tokens = (0..tokenizer.vocab_size() as u32)
            .map(|id| {
                tokenizer
                    .token(id)
                    .map(str::to_string)
                    .ok_or_else(|| BookError::Backend(format!("the tokenizer has no token {id}")))
            })
            .collect::<Result<_>>()?;
        Ok(Vocab { tokens })
    }

    pub fn get(&self, id: u32) -> Result<&str> {
        self.tokens
            .get(id as usize)
            .map(String::as_str)
            .ok_or_else(|| BookError::Backend(format!("token id {id} is not in the vocabulary")))
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().map(String::as_str)
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The gap marker of the text versions: `[gap chr2:1000-2000, 1,000 N]`
/// (0-based half-open coordinates; "N/IUPAC" when not all letters are N).
pub fn gap_marker(record: &str, gap: &Gap) -> String {
    let what = if gap.all_n { "N" } else { "N/IUPAC" };
    format!(
        "[gap {record}:{}-{}, {} {what}]",
        gap.start,
        gap.end,
        thousands(gap.len())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_markers_say_where_and_how_long() {
        let g = Gap {
            start: 1000,
            end: 2000,
            all_n: true,
        };
        assert_eq!(gap_marker("chr2", &g), "[gap chr2:1000-2000, 1,000 N]");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
