//! The genome as text: FASTA records become runs of DNA words with their
//! genomic coordinates, and gap markers where the sequence is N or IUPAC.
//!
//! The published book tokenized the FASTA header and long N runs into its
//! text. Here the header is only the record's name (coordinates need it) and
//! never a word; every maximal stretch of non-A/C/G/T letters becomes one
//! [`Gap`] with coordinates, and a gap always ends the paragraph because the
//! boundary code works on one A/C/G/T run at a time.
//!
//! Records are read one at a time ([`GenomeText`]); inside a record, the
//! pieces are tokenized lazily ([`RecordText::pieces`]), so only the current
//! record's bases and the current run's words are held. Long runs are
//! encoded in chunks of [`GenomeText::encode_chunk`] bases (default 1,000,
//! the longest fragment the published tokenizer was trained on), so a token
//! never crosses a chunk edge; spans are shifted back to record coordinates.

use std::ops::Range;

use dnalm_seq::{acgt_runs, FastxReader, RecordSelector};

use crate::model::BookTokenizer;
use crate::{BookError, Result};

/// One DNA word: a token id and the bases it covers in its record (0-based,
/// half-open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    pub id: u32,
    pub start: u64,
    pub end: u64,
}

/// A stretch of N or IUPAC letters in a record (0-based, half-open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub start: u64,
    pub end: u64,
    /// True when every letter of the gap is N (else some are IUPAC codes).
    pub all_n: bool,
}

impl Gap {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A piece of a record's text, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A maximal A/C/G/T run as words; their spans tile the run.
    Run(Vec<Word>),
    Gap(Gap),
}

/// One FASTA record ready to be read as text.
#[derive(Debug)]
pub struct RecordText {
    /// 0-based position of the record among the records read (selected or not).
    pub index: usize,
    pub name: String,
    seq: Vec<u8>,
    runs: Vec<Range<usize>>,
}

impl RecordText {
    /// Builds the text of one upper-cased sequence (as [`FastxReader`] gives it).
    pub fn new(index: usize, name: impl Into<String>, seq: Vec<u8>) -> Self {
        let runs = acgt_runs(&seq);
        RecordText {
            index,
            name: name.into(),
            seq,
            runs,
        }
    }

    /// Length of the record in bases.
    pub fn len(&self) -> u64 {
        self.seq.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// Number of A/C/G/T bases.
    pub fn acgt_bases(&self) -> u64 {
        self.runs.iter().map(|r| r.len() as u64).sum()
    }

    /// The record's runs and gaps in order, runs tokenized on demand.
    pub fn pieces<'a>(
        &'a self,
        tokenizer: &'a dyn BookTokenizer,
        encode_chunk: usize,
    ) -> impl Iterator<Item = Result<Piece>> + 'a {
        let mut spans: Vec<(bool, Range<usize>)> = Vec::with_capacity(2 * self.runs.len() + 1);
        let mut at = 0;
        for r in &self.runs {
            if r.start > at {
                spans.push((false, at..r.start));
            }
            spans.push((true, r.clone()));
            at = r.end;
        }
        if at < self.seq.len() {
            spans.push((false, at..self.seq.len()));
        }
        spans.into_iter().map(move |(is_run, r)| {
            if is_run {
                self.encode_run(tokenizer, r, encode_chunk).map(Piece::Run)
            } else {
                Ok(Piece::Gap(Gap {
                    start: r.start as u64,
                    end: r.end as u64,
                    all_n: self.seq[r].iter().all(|&b| b == b'N'),
                }))
            }
        })
    }

    fn encode_run(
        &self,
        tokenizer: &dyn BookTokenizer,
        run: Range<usize>,
        chunk: usize,
    ) -> Result<Vec<Word>> {
        let chunk = chunk.max(1);
        let mut words = Vec::with_capacity(run.len() / 4 + 1);
        let mut at = run.start;
        while at < run.end {
            let end = (at + chunk).min(run.end);
            let piece = &self.seq[at..end];
            let tokens = tokenizer.encode_dna(piece).map_err(|e| {
                BookError::Backend(format!(
                    "record {:?}: tokenizing bases {at}..{end}: {e}",
                    self.name
                ))
            })?;
            // The trait promises spans that tile the piece; a tokenizer that
            // breaks the promise would put wrong coordinates in the book.
            let mut expect = 0;
            for t in &tokens {
                if t.span.start != expect || t.span.end <= t.span.start {
                    return Err(BookError::Backend(format!(
                        "record {:?}: the tokenizer's spans do not tile bases {at}..{end} (token {} at {:?})",
                        self.name, t.id, t.span
                    )));
                }
                expect = t.span.end;
                words.push(Word {
                    id: t.id,
                    start: (at + t.span.start) as u64,
                    end: (at + t.span.end) as u64,
                });
            }
            if expect != piece.len() {
                return Err(BookError::Backend(format!(
                    "record {:?}: the tokenizer's spans cover {expect} of the {} bases {at}..{end}",
                    self.name,
                    piece.len()
                )));
            }
            at = end;
        }
        Ok(words)
    }
}

/// Reads a FASTA one record at a time as [`RecordText`].
pub struct GenomeText {
    reader: FastxReader,
    select: RecordSelector,
    index: usize,
}

impl std::fmt::Debug for GenomeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenomeText")
            .field("path", &self.reader.path())
            .field("index", &self.index)
            .finish()
    }
}

impl GenomeText {
    /// Default chunk length for encoding long runs (see the module doc).
    pub const ENCODE_CHUNK: usize = 1000;

    pub fn new(reader: FastxReader, select: RecordSelector) -> Self {
        GenomeText {
            reader,
            select,
            index: 0,
        }
    }

    /// The FASTA being read.
    pub fn path(&self) -> &std::path::Path {
        self.reader.path()
    }

    /// The next selected record, `None` at the end of the input.
    pub fn next_record(&mut self) -> Option<Result<RecordText>> {
        loop {
            let rec = match self.reader.next_record()? {
                Ok(r) => r,
                Err(e) => return Some(Err(e.into())),
            };
            let index = self.index;
            self.index += 1;
            if self.select.matches(&rec.id) {
                return Some(Ok(RecordText::new(index, rec.id, rec.seq)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::GreedyTokenizer;

    #[test]
    fn runs_become_words_and_gaps_keep_coordinates() {
        let tok = GreedyTokenizer::new(&["TATA", "GC", "AAT"]);
        let rec = RecordText::new(0, "chrT", b"NNTATAGCANRYTATA".to_vec());
        let pieces: Vec<Piece> = rec.pieces(&tok, 1000).collect::<Result<_>>().unwrap();
        assert_eq!(pieces.len(), 4);
        assert_eq!(
            pieces[0],
            Piece::Gap(Gap {
                start: 0,
                end: 2,
                all_n: true
            })
        );
        let Piece::Run(words) = &pieces[1] else {
            panic!("expected a run")
        };
        let texts: Vec<&str> = words.iter().map(|w| tok.text(w.id)).collect();
        assert_eq!(texts, ["TATA", "GC", "A"]);
        assert_eq!((words[0].start, words[2].end), (2, 9));
        assert_eq!(
            pieces[2],
            Piece::Gap(Gap {
                start: 9,
                end: 12,
                all_n: false
            })
        );
        let Piece::Run(words) = &pieces[3] else {
            panic!("expected a run")
        };
        assert_eq!((words[0].start, words[0].end), (12, 16));
        assert_eq!(rec.acgt_bases(), 11);
    }

    #[test]
    fn chunked_encoding_tiles_the_run() {
        let tok = GreedyTokenizer::new(&["TATA", "GC"]);
        let rec = RecordText::new(0, "r", b"TATATATATAGC".to_vec());
        let pieces: Vec<Piece> = rec.pieces(&tok, 5).collect::<Result<_>>().unwrap();
        let Piece::Run(words) = &pieces[0] else {
            panic!("expected a run")
        };
        // Chunks 0..5, 5..10, 10..12: no token crosses 5 or 10.
        let spans: Vec<(u64, u64)> = words.iter().map(|w| (w.start, w.end)).collect();
        assert_eq!(spans, [(0, 4), (4, 5), (5, 6), (6, 10), (10, 12)]);
    }

    #[test]
    fn headers_never_enter_the_text_and_selection_skips_records() {
        let fasta = b">chrA TATA header words\nTATAGC\n>chrB\nNNNN\n>chrC\nGCGC\n".to_vec();
        let reader = FastxReader::from_reader("t.fa", std::io::Cursor::new(fasta)).unwrap();
        let select = RecordSelector::new(["chrA", "chrB"], None).unwrap();
        let tok = GreedyTokenizer::new(&["TATA", "GC"]);
        let mut text = GenomeText::new(reader, select);
        let a = text.next_record().unwrap().unwrap();
        let words: Vec<Piece> = a.pieces(&tok, 1000).collect::<Result<_>>().unwrap();
        assert_eq!(words.len(), 1);
        let Piece::Run(w) = &words[0] else {
            panic!("expected a run")
        };
        assert_eq!(w.len(), 2);
        let b = text.next_record().unwrap().unwrap();
        assert_eq!((b.index, b.acgt_bases()), (1, 0));
        assert!(text.next_record().is_none());
    }
}
