//! Opening a trained model for a task: a model folder (`config.json` +
//! `model.safetensors`) or a `dnalm pretrain` run folder (its `model/` or
//! `best/`), with its tokenizer (given, or the run's own
//! `tokenizer.dnalm.json` found beside the model).

use std::path::{Path, PathBuf};

use dnalm_model::pretrained::{load_mlm, Pretrained, CONFIG_FILE, WEIGHTS_FILE};
use dnalm_model::Device;
use dnalm_tokenizers::{AnyTokenizer, Tokenizer};

use crate::error::{Result, TaskError};

/// The tokenizer a run folder keeps beside its checkpoints.
pub const RUN_TOKENIZER: &str = "tokenizer.dnalm.json";

/// The folder holding `config.json` + `model.safetensors` for `p`: `p`
/// itself, or a run folder's `model/` (the best evaluation) or `best/`.
pub fn model_dir(p: &Path) -> Result<PathBuf> {
    for cand in [p.join("model"), p.join("best"), p.to_path_buf()] {
        if cand.join(WEIGHTS_FILE).is_file() && cand.join(CONFIG_FILE).is_file() {
            return Ok(cand);
        }
    }
    Err(TaskError::Config(format!(
        "{}: no model here (expected config.json and model.safetensors, or a pretrain folder with model/ or best/)",
        p.display()
    )))
}

/// The run tokenizer for a model folder: in it, or up to two levels above
/// (`run/model`, `run/checkpoints/step-N`).
pub fn find_run_tokenizer(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .take(3)
        .map(|d| d.join(RUN_TOKENIZER))
        .find(|p| p.is_file())
}

/// A masked-LM model with the tokenizer it was trained with.
#[derive(Debug)]
pub struct TaskModel {
    pub pretrained: Pretrained,
    pub tokenizer: AnyTokenizer,
    pub tokenizer_path: PathBuf,
}

impl TaskModel {
    /// Open `path` on `device`; `tokenizer` overrides the run's own. The
    /// model's vocabulary must be the tokenizer's.
    pub fn open(path: &Path, tokenizer: Option<&Path>, device: &Device) -> Result<TaskModel> {
        let dir = model_dir(path)?;
        let tok_path = match tokenizer {
            Some(t) => t.to_path_buf(),
            None => find_run_tokenizer(&dir).ok_or_else(|| {
                TaskError::Config(format!(
                    "no {RUN_TOKENIZER} found beside {}: give the tokenizer",
                    dir.display()
                ))
            })?,
        };
        let tok = AnyTokenizer::load(&tok_path)?;
        let pretrained = load_mlm(&dir, device)?;
        if pretrained.config.vocab_size != tok.vocab().len() {
            return Err(TaskError::Config(format!(
                "the model {} has a vocabulary of {} tokens, the tokenizer {} has {}",
                dir.display(),
                pretrained.config.vocab_size,
                tok_path.display(),
                tok.vocab().len()
            )));
        }
        Ok(TaskModel {
            pretrained,
            tokenizer: tok,
            tokenizer_path: tok_path,
        })
    }

    /// `[CLS] tokens [SEP]`, cut to `max_len` tokens in all.
    pub fn frame(&self, seq: &[u8], max_len: usize) -> Result<Vec<u32>> {
        frame(&self.tokenizer, seq, max_len)
    }
}

/// `[CLS] tokens [SEP]`, cut to `max_len` tokens in all (at least 3).
pub fn frame(tok: &AnyTokenizer, seq: &[u8], max_len: usize) -> Result<Vec<u32>> {
    let sp = tok.vocab().specials();
    let mut ids = Vec::with_capacity(max_len);
    ids.push(sp.cls);
    let body = tok.encode(seq)?;
    ids.extend(body.into_iter().take(max_len.max(3) - 2));
    ids.push(sp.sep);
    Ok(ids)
}
