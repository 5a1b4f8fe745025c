//! `dnalm book dictionary`: wiring for `dnalm_book::dictionary` on a book
//! model folder.

use anyhow::{Context, Result};
use dnalm_book::{BookTokenizer, Dictionary, DictionaryConfig};
use dnalm_tasks::book::BookModel;
use tracing::info;

use crate::args::book_eval::BookDictionaryArgs;
use crate::input::show_path;
use crate::progress;

pub fn run(a: BookDictionaryArgs) -> Result<()> {
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    let model = BookModel::open(&a.model, &device)
        .with_context(|| format!("cannot open the book model {}", show_path(&a.model)))?;
    let tok = &model.tokenizer;
    let words = (0..tok.vocab_size() as u32)
        .filter_map(|id| tok.token(id))
        .filter(|t| dnalm_book::model::is_dna_word(t) || dnalm_book::model::is_english_word(t))
        .count();
    let bar = progress::bar(words as u64, "embedding tokens");
    let config = DictionaryConfig {
        top_k: a.top_k,
        seed: a.seed,
    };
    let dict = Dictionary::build(tok, &model.base, config, &mut |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    dict.write_dir(&a.out_dir)?;
    let c = &dict.collapse;
    info!(
        "plain nearest neighbour maps {} DNA words onto {} of {} English words (largest bucket: {:?}, {} DNA words)",
        c.dna_words, c.distinct_nearest, c.english_words, c.largest_bucket_word, c.largest_bucket
    );
    info!(
        "dictionary (top-{} draw, seed {}) written to {}",
        dict.top_k,
        dict.seed,
        show_path(&a.out_dir)
    );
    Ok(())
}
