//! The genome book (SPEC.md section 4): a genome read as paragraphs,
//! sentences, sections and chapters of DNA words, with an English version
//! through a DNA-English dictionary, and the evaluation of the segmentation
//! that the published system lacked.
//!
//! This crate holds no tensor code. It talks to a language model and its
//! tokenizer through the two traits in [`model`], so every algorithm here is
//! tested with small, fast models written in the tests ([`testing`]); the
//! GPT-2 behind the traits lives in `dnalm-tasks::book`.

pub mod boundaries;
pub mod error;
pub mod group;
pub mod model;
pub mod testing;
pub mod text;
pub mod title;

pub use error::{BookError, Result};
pub use model::{BookLm, BookTokenizer, DnaToken};
