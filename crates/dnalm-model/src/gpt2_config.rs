//! The GPT-2 configuration: the fields and names of a Hugging Face
//! `GPT2Config` `config.json` (`n_embd`, `n_layer`, `n_head`, ...), so a file
//! written by `transformers` reads here and ours reads there. Only what the
//! causal LM of [`crate::gpt2`] computes is accepted: options that change the
//! computation to something it does not do are refused by name.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// A GPT-2 configuration with Hugging Face's field names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gpt2Config {
    #[serde(default = "default_architectures")]
    pub architectures: Vec<String>,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    pub vocab_size: usize,
    /// Context length (learned positions).
    pub n_positions: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// FFN width; `None` means `4 * n_embd`, as in HF.
    #[serde(default)]
    pub n_inner: Option<usize>,
    #[serde(default = "default_activation")]
    pub activation_function: String,
    #[serde(default = "default_pdrop")]
    pub resid_pdrop: f64,
    #[serde(default = "default_pdrop")]
    pub embd_pdrop: f64,
    #[serde(default = "default_pdrop")]
    pub attn_pdrop: f64,
    #[serde(default = "default_ln_eps")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<usize>,
    /// GPT-2 has none; a tokenizer with a padding token records it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad_token_id: Option<usize>,
    #[serde(default = "yes")]
    pub tie_word_embeddings: bool,
    #[serde(default = "yes")]
    pub scale_attn_weights: bool,
    #[serde(default)]
    pub scale_attn_by_inverse_layer_idx: bool,
    #[serde(default)]
    pub reorder_and_upcast_attn: bool,
    /// Which preset this came from, for the record (`transformers` ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnalm_preset: Option<String>,
}

fn default_architectures() -> Vec<String> {
    vec!["GPT2LMHeadModel".to_string()]
}
fn default_model_type() -> String {
    "gpt2".to_string()
}
fn default_activation() -> String {
    "gelu_new".to_string()
}
fn default_pdrop() -> f64 {
    0.1
}
fn default_ln_eps() -> f64 {
    1e-5
}
fn default_init_range() -> f64 {
    0.02
}
fn yes() -> bool {
    true
}

/// The named sizes of the causal LM.
pub const GPT2_PRESETS: &[(&str, &str)] = &[
    (
        "tiny",
        "2 layers, n_embd 128, 4 heads, FFN 512, context 256: trains on a laptop CPU in minutes",
    ),
    (
        "gpt2-base",
        "12 layers, n_embd 768, 12 heads, FFN 3072, context 1024 (GPT-2 small; the genome book's size)",
    ),
];

impl Gpt2Config {
    /// A preset with the given vocabulary size (`None`: GPT-2's published
    /// 50,257 for `gpt2-base`, an error for `tiny`).
    pub fn preset(name: &str, vocab_size: Option<usize>) -> Result<Self> {
        let (layers, embd, heads, positions, published_vocab) = match name {
            "tiny" => (2, 128, 4, 256, None),
            "gpt2-base" => (12, 768, 12, 1024, Some(50_257)),
            other => {
                return Err(ModelError::Config(format!(
                    "unknown causal-LM preset {other:?}; known: {}",
                    GPT2_PRESETS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let vocab_size = vocab_size.or(published_vocab).ok_or_else(|| {
            ModelError::Config(format!(
                "preset {name:?} needs a vocabulary size (take it from the tokenizer)"
            ))
        })?;
        let config = Self {
            architectures: default_architectures(),
            model_type: default_model_type(),
            vocab_size,
            n_positions: positions,
            n_embd: embd,
            n_layer: layers,
            n_head: heads,
            n_inner: None,
            activation_function: default_activation(),
            resid_pdrop: 0.1,
            embd_pdrop: 0.1,
            attn_pdrop: 0.1,
            layer_norm_epsilon: default_ln_eps(),
            initializer_range: default_init_range(),
            bos_token_id: None,
            eos_token_id: None,
            pad_token_id: None,
            tie_word_embeddings: true,
            scale_attn_weights: true,
            scale_attn_by_inverse_layer_idx: false,
            reorder_and_upcast_attn: false,
            dnalm_preset: Some(name.to_string()),
        };
        config.validate()?;
        Ok(config)
    }

    /// The FFN width.
    pub fn inner(&self) -> usize {
        self.n_inner.unwrap_or(4 * self.n_embd)
    }

    /// Check every size and option; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(ModelError::Config(msg));
        if self.model_type != "gpt2" {
            return bad(format!(
                "model_type is {:?}; a causal-LM config must be \"gpt2\"",
                self.model_type
            ));
        }
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("n_positions", self.n_positions),
            ("n_embd", self.n_embd),
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("n_inner", self.inner()),
        ] {
            if v == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return bad(format!(
                "n_embd {} is not divisible by n_head {}",
                self.n_embd, self.n_head
            ));
        }
        for (name, p) in [
            ("resid_pdrop", self.resid_pdrop),
            ("embd_pdrop", self.embd_pdrop),
            ("attn_pdrop", self.attn_pdrop),
        ] {
            if !(0.0..1.0).contains(&p) {
                return bad(format!("{name} is {p}; it must be in [0, 1)"));
            }
        }
        if !(self.layer_norm_epsilon > 0.0 && self.layer_norm_epsilon.is_finite()) {
            return bad(format!(
                "layer_norm_epsilon is {}; it must be positive",
                self.layer_norm_epsilon
            ));
        }
        if !matches!(
            self.activation_function.as_str(),
            "gelu_new" | "gelu" | "relu"
        ) {
            return bad(format!(
                "activation_function {:?} is not supported (gelu_new, gelu, relu)",
                self.activation_function
            ));
        }
        for (name, value, wanted) in [
            ("tie_word_embeddings", self.tie_word_embeddings, true),
            ("scale_attn_weights", self.scale_attn_weights, true),
            (
                "scale_attn_by_inverse_layer_idx",
                self.scale_attn_by_inverse_layer_idx,
                false,
            ),
            (
                "reorder_and_upcast_attn",
                self.reorder_and_upcast_attn,
                false,
            ),
        ] {
            if value != wanted {
                return bad(format!(
                    "{name} = {value} is not supported (dnalm's GPT-2 computes {name} = {wanted})"
                ));
            }
        }
        for (name, id) in [
            ("bos_token_id", self.bos_token_id),
            ("eos_token_id", self.eos_token_id),
            ("pad_token_id", self.pad_token_id),
        ] {
            if let Some(id) = id.filter(|&id| id >= self.vocab_size) {
                return bad(format!(
                    "{name} {id} is outside the vocabulary ({})",
                    self.vocab_size
                ));
            }
        }
        Ok(())
    }

    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// Read and validate a `config.json`.
    pub fn load(path: &Path) -> Result<Self> {
        crate::config::read_config(path, "GPT-2", Self::validate)
    }

    /// Pretty JSON, stable field order.
    pub fn to_json(&self) -> String {
        crate::config::config_json(self)
    }

    /// Number of trainable parameters (the tied LM head counted once).
    pub fn parameter_count(&self) -> usize {
        let (v, p, h, i, l) = (
            self.vocab_size,
            self.n_positions,
            self.n_embd,
            self.inner(),
            self.n_layer,
        );
        let embeddings = (v + p) * h;
        let block = 2 * (2 * h) + (h * 3 * h + 3 * h) + (h * h + h) + (h * i + i) + (i * h + h);
        embeddings + l * block + 2 * h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for (name, _) in GPT2_PRESETS {
            Gpt2Config::preset(name, Some(1000))
                .unwrap()
                .validate()
                .unwrap();
        }
        assert!(Gpt2Config::preset("tiny", None).is_err());
        let e = Gpt2Config::preset("huge", Some(10))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tiny") && e.contains("gpt2-base"), "{e}");
    }

    #[test]
    fn gpt2_small_parameter_count_matches_the_published_124m() {
        // gpt2 (small): 124,439,808 parameters in GPT2LMHeadModel.
        let c = Gpt2Config::preset("gpt2-base", None).unwrap();
        assert_eq!(
            (c.n_layer, c.n_embd, c.n_head, c.n_positions),
            (12, 768, 12, 1024)
        );
        assert_eq!(c.parameter_count(), 124_439_808);
    }

    #[test]
    fn reads_a_transformers_config_json() {
        // The gpt2 checkpoint's config.json, as published.
        let json = r#"{"activation_function":"gelu_new","architectures":["GPT2LMHeadModel"],
          "attn_pdrop":0.1,"bos_token_id":50256,"embd_pdrop":0.1,"eos_token_id":50256,
          "initializer_range":0.02,"layer_norm_epsilon":1e-05,"model_type":"gpt2","n_ctx":1024,
          "n_embd":768,"n_head":12,"n_layer":12,"n_positions":1024,"resid_pdrop":0.1,
          "summary_activation":null,"summary_first_dropout":0.1,"summary_proj_to_labels":true,
          "summary_type":"cls_index","summary_use_proj":true,
          "task_specific_params":{"text-generation":{"do_sample":true,"max_length":50}},
          "vocab_size":50257}"#;
        let c: Gpt2Config = serde_json::from_str(json).unwrap();
        c.validate().unwrap();
        assert_eq!(c.inner(), 3072);
        assert_eq!(c.eos_token_id, Some(50256));
        let back: Gpt2Config = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unsupported_options_are_named() {
        let mut c = Gpt2Config::preset("tiny", Some(100)).unwrap();
        c.n_head = 3;
        assert!(c.validate().unwrap_err().to_string().contains("n_head"));
        c.n_head = 4;
        c.scale_attn_by_inverse_layer_idx = true;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("scale_attn_by_inverse_layer_idx"), "{e}");
        c.scale_attn_by_inverse_layer_idx = false;
        c.activation_function = "swish".into();
        assert!(c.validate().unwrap_err().to_string().contains("swish"));
        c.activation_function = "gelu_new".into();
        c.eos_token_id = Some(100);
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("eos_token_id"));
        c.eos_token_id = None;
        c.model_type = "bert".into();
        assert!(c.validate().unwrap_err().to_string().contains("gpt2"));
    }
}
