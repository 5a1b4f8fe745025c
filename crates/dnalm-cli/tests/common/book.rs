//! A tiny book model for the `dnalm book ...` tests, built in-process
//! without training (shared by book_write.rs and book_eval.rs).

use std::path::{Path, PathBuf};

use dnalm_book::BookTokenizer;
use dnalm_model::{Gpt2Config, Gpt2LmHeadModel};
use dnalm_seq::synth::{demo_genome, DemoGenome};
use dnalm_tasks::book::{save_book_model, BookMeta, JointTokenizer};

/// A tiny book model folder: a joint BPE over demo DNA and a little English,
/// two untrained GPT-2s (context 64).
pub fn tiny_book_model(dir: &Path) -> PathBuf {
    let g = demo_genome(&DemoGenome {
        records: 1,
        record_len: 20_000,
        seed: 3,
    });
    let dna: Vec<String> = g[0]
        .seq
        .split(|b| !matches!(b, b'A' | b'C' | b'G' | b'T'))
        .filter(|r| r.len() >= 300)
        .flat_map(|r| r.chunks(500))
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let english: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "the {} house stood by the river. she walked {i} miles.",
                ["old", "new"][i % 2]
            )
        })
        .collect();
    let tok = JointTokenizer::train(&dna, &english, 300).unwrap();
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let mut c = Gpt2Config::preset("tiny", Some(tok.vocab_size())).unwrap();
    c.n_embd = 32;
    c.n_positions = 64;
    let (base, pend) = dnalm_model::seeded(4, || {
        (
            Gpt2LmHeadModel::new(&c, &device),
            Gpt2LmHeadModel::new(&c, &device),
        )
    });
    let folder = dir.join("model");
    save_book_model(
        &folder,
        &tok,
        &c,
        &base,
        &pend,
        None,
        &BookMeta::for_tokenizer(&tok, 1),
    )
    .unwrap();
    folder
}
