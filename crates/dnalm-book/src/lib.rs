//! The genome book (SPEC.md section 4): a genome read as paragraphs,
//! sentences, sections and chapters of DNA words, with an English version
//! through a DNA-English dictionary, and the evaluation of the segmentation
//! that the published system lacked.
//!
//! This crate holds no tensor code. It talks to a language model and its
//! tokenizer through the two traits in [`model`], so every algorithm here is
//! tested with small, fast models written in the tests; the GPT-2 behind the
//! traits lives in `dnalm-tasks::book`.

pub mod english;
pub mod error;
pub mod fragments;
pub mod model;
pub mod rdb;

pub use english::{EnglishCorpus, EnglishDoc, EnglishSplit};
pub use error::{BookError, Result};
pub use fragments::{read_fragments, DnaFragment, FRAGMENT_LEN};
pub use model::{BookLm, BookTokenizer, DnaToken};
