//! The genome book (SPEC.md section 4): a genome read as paragraphs,
//! sentences, sections and chapters of DNA words, with an English version
//! through a DNA-English dictionary, and the evaluation of the segmentation
//! that the published system lacked.
//!
//! This crate holds no tensor code. It talks to a language model and its
//! tokenizer through the two traits in [`model`], so every algorithm here is
//! tested with small, fast models ([`testing`]); the GPT-2 behind the traits
//! lives in `dnalm-tasks::book`.
//!
//! The writing pipeline: [`text`] (records -> words with coordinates and gap
//! markers), [`boundaries`] (paragraphs and sentences), [`group`] (sections
//! and chapters), [`title`], [`pipeline`] (the streaming walk over all of
//! them), [`book`] (the data), and the writers [`write_md`], [`write_html`],
//! [`write_json`] with [`write`] (the book folder, atomic) and [`translate`]
//! (the English version).
//!
//! ```
//! use std::io::Cursor;
//! use dnalm_book::pipeline::{BookParams, BookPipeline};
//! use dnalm_book::testing::{BigramLm, GreedyTokenizer};
//! use dnalm_book::text::GenomeText;
//! use dnalm_book::{BookTokenizer, book::Vocab, write_md::{MarkdownWriter, Words}};
//! use dnalm_seq::{FastxReader, RecordSelector};
//!
//! // A model that has seen a paragraph end after every TATA.
//! let tok = GreedyTokenizer::new(&["TATA", "GC", "AAT", "CCG"]);
//! let mut train = tok.ids_of(b"GCAATCCGTATA");
//! train.push(GreedyTokenizer::P_END);
//! let lm = BigramLm::train(tok.vocab_size(), &[train.repeat(20)], 0.1, 512);
//!
//! let fasta = ">chrX demo\n".to_string() + &"GCAATCCGGCAATCCGGCAATCCGTATA".repeat(6) + "NNNN\n";
//! let reader = FastxReader::from_reader("demo.fa", Cursor::new(fasta.into_bytes()))?;
//! let mut text = GenomeText::new(reader, RecordSelector::all());
//! let params = BookParams { paragraphs: dnalm_book::boundaries::BoundaryParams {
//!     min_len: 5, ..BookParams::default().paragraphs }, ..BookParams::default() };
//! let pipeline = BookPipeline::new(&tok, &lm, &lm, params)?;
//! let vocab = Vocab::of(&tok)?;
//! let words = Words { vocab: &vocab, english: None };
//! let mut md = MarkdownWriter::new(Vec::new(), "book.md", words, "demo.fa")?;
//! let stats = pipeline.run(&mut text, &mut |ch| md.chapter(ch), &mut |_| {})?;
//! assert_eq!(stats.paragraphs, 6); // one per TATA
//! let md = String::from_utf8(md.into_inner()).unwrap();
//! assert!(md.contains("# CHAPTER-1 "));
//! assert!(md.contains("[gap chrX:168-172, 4 N]"));
//! assert!(!md.contains("demo\n")); // the header never enters the text
//! # Ok::<(), dnalm_book::BookError>(())
//! ```

pub mod atomic;
pub mod book;
pub mod boundaries;
pub mod dictionary;
pub mod english;
pub mod error;
pub mod eval;
pub mod eval_dna;
pub mod eval_model;
pub mod eval_report;
pub mod fragments;
pub mod group;
pub mod model;
pub mod pipeline;
pub mod rdb;
pub mod softmask;
pub mod testing;
#[cfg(test)]
pub(crate) mod testmodel;
pub mod text;
pub mod title;
pub mod translate;
pub mod write;
pub mod write_html;
pub mod write_json;
pub mod write_md;

pub use dictionary::{Collapse, DictEntry, Dictionary, DictionaryConfig};
pub use english::{EnglishCorpus, EnglishDoc, EnglishSplit};
pub use error::{BookError, Result};
pub use fragments::{read_fragments, DnaFragment, FRAGMENT_LEN};
pub use model::{BookLm, BookTokenizer, DnaToken};
