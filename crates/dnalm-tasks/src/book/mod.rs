//! The genome book's model side (SPEC section 4): the joint DNA + English
//! tokenizer, the GPT-2 behind `dnalm_book`'s [`dnalm_book::BookLm`] trait,
//! the model folder and its loader, and the training pipeline
//! (pre-training on the mix, the `<p_end>` stage, the sentence-pair
//! transfer). The book's algorithms themselves live in `dnalm-book`.

pub mod config;
pub mod folder;
pub mod lm;
pub mod pairs;
pub mod report;
pub mod tokenizer;
pub mod train;

pub use folder::{save_book_model, BookMeta, BookModel};
pub use lm::GptBookLm;
pub use tokenizer::JointTokenizer;
pub use train::{train_book_model, BookEvent, BookTrainConfig};
