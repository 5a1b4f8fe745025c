//! GPT-2 model folders: `config.json` + `model.safetensors` with the tensor
//! names `transformers` uses for `GPT2LMHeadModel`. The generic parts (HF
//! names from module paths, loading by name with shape checks, atomic
//! safetensors files) are [`crate::weights`]'; this module adds what is
//! GPT-2's own: the tied `lm_head.weight` (written out as a copy, checked on
//! the way in), checkpoints of the bare `GPT2Model` (no `transformer.`
//! prefix) and the causal-mask buffers older checkpoints carry.

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::error::{ModelError, Result};
use crate::gpt2::Gpt2LmHeadModel;
use crate::gpt2_config::Gpt2Config;
use crate::pretrained::{CONFIG_FILE, WEIGHTS_FILE};
use crate::weights::{
    self, is_ignorable, load_safetensors, save_safetensors, LoadReport, StateDict,
};

/// The name of the tied LM head in HF checkpoints.
pub const LM_HEAD: &str = "lm_head.weight";
const WTE: &str = "transformer.wte.weight";

/// The model's tensors as `transformers` names them, the tied
/// `lm_head.weight` written out as a copy of `transformer.wte.weight`.
pub fn gpt2_state_dict(model: &Gpt2LmHeadModel) -> StateDict {
    let mut sd = weights::state_dict(model);
    let wte = sd[WTE].clone();
    sd.insert(LM_HEAD.into(), wte);
    sd
}

/// A `GPT2Model` checkpoint (`wte.weight`, `h.0.…`, `ln_f.…`) gets the
/// `transformer.` prefix of a `GPT2LMHeadModel` one; other names pass.
pub fn normalise_gpt2_names(tensors: StateDict) -> StateDict {
    if tensors.keys().any(|k| k.starts_with("transformer.")) {
        return tensors;
    }
    tensors
        .into_iter()
        .map(|(k, v)| {
            let body = ["wte.", "wpe.", "h.", "ln_f."]
                .iter()
                .any(|p| k.starts_with(p));
            (if body { format!("transformer.{k}") } else { k }, v)
        })
        .collect()
}

/// A causal LM read from a folder.
#[derive(Debug)]
pub struct PretrainedGpt2 {
    pub config: Gpt2Config,
    pub model: Gpt2LmHeadModel,
    pub report: LoadReport,
    pub dir: PathBuf,
}

fn missing(p: &Path) -> ModelError {
    ModelError::io(
        p,
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "missing (a model folder holds config.json and model.safetensors)",
        ),
    )
}

/// Read `dir/config.json` (a `GPT2Config`) and `dir/model.safetensors` onto
/// `device`. Every parameter must be there with its shape; an
/// `lm_head.weight` that is not equal to `transformer.wte.weight` is refused
/// (dnalm's head is tied); buffers and other extra tensors are listed in the
/// report's `unused` (buffers left out).
pub fn load_gpt2(dir: &Path, device: &Device) -> Result<PretrainedGpt2> {
    let config_path = dir.join(CONFIG_FILE);
    let weights_path = dir.join(WEIGHTS_FILE);
    for p in [&config_path, &weights_path] {
        if !p.is_file() {
            return Err(missing(p));
        }
    }
    let config = Gpt2Config::load(&config_path)?;
    let (tensors, _) = load_safetensors(&weights_path)?;
    let mut tensors = normalise_gpt2_names(tensors);
    if let Some(head) = tensors.remove(LM_HEAD) {
        if tensors.get(WTE).is_some_and(|wte| wte != &head) {
            return Err(ModelError::Tensor {
                path: weights_path,
                name: LM_HEAD.into(),
                message: format!(
                    "differs from {WTE}: an untied LM head is not supported (dnalm ties it to the token embeddings)"
                ),
            });
        }
    }
    let model = Gpt2LmHeadModel::new(&config, device);
    let (model, mut report) = weights::load_state_dict(model, &tensors, &weights_path)?;
    report.unused.retain(|n| !is_ignorable(n));
    Ok(PretrainedGpt2 {
        config,
        model,
        report,
        dir: dir.to_path_buf(),
    })
}

/// Write `dir/config.json` and `dir/model.safetensors` (each atomically;
/// `dir` is created) in the layout [`load_gpt2`] and `transformers`'
/// `GPT2LMHeadModel.from_pretrained` read.
pub fn save_gpt2(dir: &Path, config: &Gpt2Config, model: &Gpt2LmHeadModel) -> Result<()> {
    config.validate()?;
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let config_path = dir.join(CONFIG_FILE);
    let mut f = dnalm_seq::AtomicFile::create(&config_path)
        .map_err(|e| ModelError::io(&config_path, std::io::Error::other(e.to_string())))?;
    f.write_all(config.to_json().as_bytes())
        .map_err(|e| ModelError::io(&config_path, e))?;
    f.commit()
        .map_err(|e| ModelError::io(&config_path, std::io::Error::other(e.to_string())))?;
    save_safetensors(&dir.join(WEIGHTS_FILE), &gpt2_state_dict(model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::HostTensor;

    fn t(v: f32) -> HostTensor {
        HostTensor {
            shape: vec![1],
            data: vec![v],
        }
    }

    #[test]
    fn bare_gpt2_model_names_get_the_prefix() {
        let sd: StateDict = [
            ("wte.weight", t(1.0)),
            ("h.0.attn.c_attn.weight", t(2.0)),
            ("h.0.attn.bias", t(0.0)),
            ("ln_f.bias", t(3.0)),
            ("other", t(4.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let names: Vec<String> = normalise_gpt2_names(sd).into_keys().collect();
        assert_eq!(
            names,
            [
                "other",
                "transformer.h.0.attn.bias",
                "transformer.h.0.attn.c_attn.weight",
                "transformer.ln_f.bias",
                "transformer.wte.weight"
            ]
        );
        assert!(is_ignorable("transformer.h.0.attn.bias"));
        assert!(is_ignorable("transformer.h.11.attn.masked_bias"));
        assert!(!is_ignorable("transformer.h.0.attn.c_attn.bias"));
    }
}
