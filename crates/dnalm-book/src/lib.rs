//! The genome book (SPEC.md section 4): a genome read as paragraphs,
//! sentences, sections and chapters of DNA words, with an English version
//! through a DNA-English dictionary, and the evaluation of the segmentation
//! that the published system lacked.
//!
//! This crate holds no tensor code. It talks to a language model and its
//! tokenizer through the two traits in [`model`], so every algorithm here is
//! tested with small, fast models written in the tests; the GPT-2 behind the
//! traits lives in `dnalm-tasks::book`.

pub mod atomic;
pub mod dictionary;
pub mod error;
pub mod eval;
pub mod model;
pub mod softmask;
#[cfg(test)]
pub(crate) mod testmodel;

pub use dictionary::{Collapse, DictEntry, Dictionary, DictionaryConfig};
pub use error::{BookError, Result};
pub use model::{BookLm, BookTokenizer, DnaToken};
