//! Model folders: `config.json` + `model.safetensors`, as dnalm writes them
//! (`dnalm pretrain`, `dnalm export-hf`) and as `transformers`'
//! `save_pretrained` writes a `BertForMaskedLM` (or a `BertModel`, whose
//! missing MLM head is then initialised fresh and reported).

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::config::BertConfig;
use crate::error::{ModelError, Result};
use crate::heads::BertForMaskedLm;
use crate::weights::{self, is_ignorable, load_safetensors, normalise_names, LoadReport};

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// A masked-LM model read from a folder.
#[derive(Debug)]
pub struct Pretrained {
    pub config: BertConfig,
    pub model: BertForMaskedLm,
    pub report: LoadReport,
    /// Parameters the file lacked and that were initialised fresh (the MLM
    /// head of a `BertModel` checkpoint).
    pub fresh: Vec<String>,
    pub dir: PathBuf,
}

/// Read `dir/config.json` and `dir/model.safetensors` onto `device`.
/// Tensors the model has no use for (pooler, tied copies, buffers) are
/// listed in the report; a `BertModel` checkpoint without `cls.*` gets a
/// fresh head (seeded by `device`'s generator), listed in `fresh`.
pub fn load_mlm(dir: &Path, device: &Device) -> Result<Pretrained> {
    let config_path = dir.join(CONFIG_FILE);
    let weights_path = dir.join(WEIGHTS_FILE);
    for p in [&config_path, &weights_path] {
        if !p.is_file() {
            return Err(ModelError::io(
                p,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "missing (a model folder holds config.json and model.safetensors)",
                ),
            ));
        }
    }
    let config = BertConfig::load(&config_path)?;
    let (tensors, _) = load_safetensors(&weights_path)?;
    let mut tensors = normalise_names(tensors);
    let model = BertForMaskedLm::new(&config, device);
    // A BertModel checkpoint: keep our fresh head.
    let mut fresh = Vec::new();
    if !tensors.keys().any(|k| k.starts_with("cls.")) {
        for (name, t) in weights::state_dict(&model) {
            if name.starts_with("cls.") {
                fresh.push(name.clone());
                tensors.insert(name, t);
            }
        }
    }
    let (model, mut report) = weights::load_state_dict(model, &tensors, &weights_path)?;
    report.unused.retain(|n| !is_ignorable(n));
    Ok(Pretrained {
        config,
        model,
        report,
        fresh,
        dir: dir.to_path_buf(),
    })
}
