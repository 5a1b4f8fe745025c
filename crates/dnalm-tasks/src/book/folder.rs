//! The book model folder that `dnalm book train` writes and `dnalm book
//! write` reads:
//!
//! ```text
//! model_dir/
//!   tokenizer.json     the joint DNA + English BPE (JointTokenizer)
//!   base/              the GPT-2 pre-trained on the mix (config.json + model.safetensors);
//!                      the sentence rule asks it for P(".")
//!   pend/              the same after the <p_end> stage; the paragraph rule asks it for P(<p_end>)
//!   transfer/          (optional) `base` fine-tuned on the English sentence-pair task
//!   book_model.json    BookMeta: special ids, settings, seed, measured numbers
//! ```
//!
//! Both models are kept because the `<p_end>` stage trains on English with
//! its full stops removed, so it no longer predicts ".".

use std::io::Write;
use std::path::{Path, PathBuf};

use dnalm_model::gpt2_weights::{load_gpt2, save_gpt2};
use dnalm_model::{Device, Gpt2Config, Gpt2LmHeadModel};
use serde::{Deserialize, Serialize};

use super::lm::GptBookLm;
use super::tokenizer::{JointTokenizer, FULL_STOP, P_END};
use crate::{Result, TaskError};

pub const META_FILE: &str = "book_model.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const BASE_DIR: &str = "base";
pub const PEND_DIR: &str = "pend";
pub const TRANSFER_DIR: &str = "transfer";
const FORMAT: &str = "dnalm-book-model";

/// `book_model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookMeta {
    /// Always "dnalm-book-model".
    pub format: String,
    pub version: u32,
    pub vocab_size: usize,
    pub pad_id: u32,
    pub end_of_text_id: u32,
    pub p_end_id: u32,
    pub full_stop_id: u32,
    /// English is lower-cased before encoding.
    pub english_lowercase: bool,
    pub seed: u64,
    /// Whether `transfer/` is there.
    pub has_transfer: bool,
    /// Training settings and measured numbers (free-form, for reports).
    #[serde(default)]
    pub training: serde_json::Value,
}

impl BookMeta {
    /// The ids of a tokenizer, no training record yet.
    pub fn for_tokenizer(tok: &JointTokenizer, seed: u64) -> Self {
        use dnalm_book::BookTokenizer;
        Self {
            format: FORMAT.into(),
            version: 1,
            vocab_size: tok.vocab_size(),
            pad_id: tok.pad_id(),
            end_of_text_id: tok.end_of_text_id(),
            p_end_id: tok.p_end_id(),
            full_stop_id: tok.full_stop_id(),
            english_lowercase: true,
            seed,
            has_transfer: false,
            training: serde_json::Value::Null,
        }
    }
}

/// A book model read from its folder.
#[derive(Debug)]
pub struct BookModel {
    pub tokenizer: JointTokenizer,
    /// After the `<p_end>` stage: paragraph breaks.
    pub pend: GptBookLm,
    /// Pre-trained on the mix: sentence breaks ("."), embeddings, titles.
    pub base: GptBookLm,
    pub meta: BookMeta,
    pub dir: PathBuf,
}

fn write_json(path: &Path, text: &str) -> Result<()> {
    let mut f = dnalm_seq::AtomicFile::create(path)?;
    f.write_all(text.as_bytes())
        .map_err(|e| TaskError::io(path, e))?;
    f.commit()?;
    Ok(())
}

/// Write a model folder (created if needed); `transfer` is optional.
pub fn save_book_model(
    dir: &Path,
    tokenizer: &JointTokenizer,
    config: &Gpt2Config,
    base: &Gpt2LmHeadModel,
    pend: &Gpt2LmHeadModel,
    transfer: Option<&Gpt2LmHeadModel>,
    meta: &BookMeta,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TaskError::io(dir, e))?;
    tokenizer.save(&dir.join(TOKENIZER_FILE))?;
    save_gpt2(&dir.join(BASE_DIR), config, base)?;
    save_gpt2(&dir.join(PEND_DIR), config, pend)?;
    if let Some(t) = transfer {
        save_gpt2(&dir.join(TRANSFER_DIR), config, t)?;
    }
    let mut meta = meta.clone();
    meta.has_transfer = transfer.is_some();
    let text = serde_json::to_string_pretty(&meta).expect("plain data") + "\n";
    write_json(&dir.join(META_FILE), &text)
}

fn bad(dir: &Path, what: String) -> TaskError {
    TaskError::Data(format!("{}: {what}", dir.display()))
}

impl BookModel {
    /// Read a folder [`save_book_model`] wrote, the models on `device`
    /// (plain, not autodiff), and check that its parts agree.
    pub fn open(dir: &Path, device: &Device) -> Result<Self> {
        let meta_path = dir.join(META_FILE);
        if !meta_path.is_file() {
            return Err(bad(
                dir,
                format!("not a book model folder (no {META_FILE}; `dnalm book train` makes one)"),
            ));
        }
        let text = std::fs::read_to_string(&meta_path).map_err(|e| TaskError::io(&meta_path, e))?;
        let meta: BookMeta = serde_json::from_str(&text)
            .map_err(|e| TaskError::Data(format!("{}: {e}", meta_path.display())))?;
        if meta.format != FORMAT {
            return Err(bad(
                dir,
                format!("{META_FILE} has format {:?}", meta.format),
            ));
        }
        let tokenizer = JointTokenizer::load(&dir.join(TOKENIZER_FILE))?;
        use dnalm_book::BookTokenizer;
        let ids = [
            ("<p_end>", tokenizer.id(P_END), meta.p_end_id),
            ("\".\"", tokenizer.id(FULL_STOP), meta.full_stop_id),
        ];
        for (name, got, want) in ids {
            if got != Some(want) {
                return Err(bad(
                    dir,
                    format!("{META_FILE} gives {name} id {want}, the tokenizer {got:?}"),
                ));
            }
        }
        let load = |sub: &str| -> Result<GptBookLm> {
            let m = load_gpt2(&dir.join(sub), device)?;
            if m.config.vocab_size != tokenizer.vocab_size() {
                return Err(bad(
                    dir,
                    format!(
                        "{sub}/ has a vocabulary of {}, the tokenizer {}",
                        m.config.vocab_size,
                        tokenizer.vocab_size()
                    ),
                ));
            }
            Ok(GptBookLm::new(m.model, device.clone(), meta.pad_id))
        };
        let base = load(BASE_DIR)?;
        let pend = load(PEND_DIR)?;
        Ok(Self {
            tokenizer,
            pend,
            base,
            meta,
            dir: dir.to_path_buf(),
        })
    }

    /// The sentence-pair model, when the folder has one.
    pub fn open_transfer(&self, device: &Device) -> Result<Option<GptBookLm>> {
        if !self.meta.has_transfer {
            return Ok(None);
        }
        let m = load_gpt2(&self.dir.join(TRANSFER_DIR), device)?;
        Ok(Some(GptBookLm::new(
            m.model,
            device.clone(),
            self.meta.pad_id,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_book::{BookLm, BookTokenizer};

    #[test]
    fn an_untrained_folder_round_trips() {
        let (dna, english) = super::super::tokenizer::tests::toy_text();
        let tok = JointTokenizer::train(&dna, &english, 200).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("m");
        let meta = BookMeta::for_tokenizer(&tok, 9);
        save_book_model(&folder, &tok, &c, &base, &pend, None, &meta).unwrap();
        let m = BookModel::open(&folder, &device).unwrap();
        assert_eq!(m.meta, meta);
        assert_eq!(m.meta.p_end_id, 2);
        assert_eq!(m.tokenizer.vocab_size(), tok.vocab_size());
        assert_eq!(m.base.context_len(), 64);
        let ids: Vec<u32> = m
            .tokenizer
            .encode_dna(&dna[0].as_bytes()[..150])
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        let p = m
            .pend
            .next_token_probs(&[&ids], &[m.meta.p_end_id])
            .unwrap();
        assert_eq!(p[0].len(), ids.len());
        // The two models are the two that were saved, not one twice.
        let eb = m.base.embed_mean(&[&ids]).unwrap();
        let ep = m.pend.embed_mean(&[&ids]).unwrap();
        assert_ne!(eb, ep);
        assert!(m.open_transfer(&device).unwrap().is_none());

        // A folder whose parts disagree is refused with the reason.
        let mut wrong = meta.clone();
        wrong.full_stop_id += 1;
        save_book_model(&folder, &tok, &c, &base, &pend, None, &wrong).unwrap();
        let e = BookModel::open(&folder, &device).unwrap_err().to_string();
        assert!(e.contains("\".\" id"), "{e}");
        let e = BookModel::open(dir.path(), &device)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a book model folder"), "{e}");
    }
}
