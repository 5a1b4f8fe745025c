//! Model configuration: the fields and names of a Hugging Face BERT
//! `config.json`, plus the few dnalm extras (prefixed `dnalm_`) that
//! `transformers` ignores when it reads the file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// A BERT configuration. Field names are the Hugging Face `config.json` keys,
/// so a `config.json` written by `transformers` reads here and ours reads there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    #[serde(default = "default_architectures")]
    pub architectures: Vec<String>,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
    #[serde(default = "default_ln_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: usize,
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
    /// Number of LSTM layers between the encoder and the MLM head (the hybrid
    /// system and GROVER use one; BERT has none). The LSTM's hidden size is
    /// the model's hidden size.
    #[serde(default)]
    pub dnalm_lstm_layers: usize,
    /// Which preset this came from, for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnalm_preset: Option<String>,
}

fn default_architectures() -> Vec<String> {
    vec!["BertForMaskedLM".to_string()]
}
fn default_model_type() -> String {
    "bert".to_string()
}
fn default_hidden_act() -> String {
    "gelu".to_string()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_type_vocab() -> usize {
    2
}
fn default_init_range() -> f64 {
    0.02
}
fn default_ln_eps() -> f64 {
    1e-12
}
fn default_position_type() -> String {
    "absolute".to_string()
}

/// The named sizes. `tiny` and `small` train on a 2-core CPU; the others are
/// the published sizes.
pub const PRESETS: &[(&str, &str)] = &[
    ("tiny", "2 layers, hidden 128, 4 heads, FFN 512, 512 positions: trains on a laptop CPU in minutes"),
    ("cpu", "3 layers, hidden 192, 4 heads, FFN 768, 512 positions: between tiny and small, sized to learn on 2 CPU cores in about 30 minutes (`dnalm pretrain --preset cpu --time-budget 30m`)"),
    ("small", "4 layers, hidden 256, 4 heads, FFN 1024, 512 positions"),
    ("hybrid-base", "12 layers, hidden 768, 12 heads, FFN 3072, LSTM 768, 512 positions (401 tokens + specials used), the hybrid system"),
    ("dnabert-base", "12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 4101, 512 positions (DNABERT)"),
    ("dnavec-base", "12 layers, hidden 512, 8 heads (the paper's 12 do not divide 512), FFN 2048, vocabulary 87365, 512 positions (DNAVec)"),
];

impl BertConfig {
    /// A preset with the given vocabulary size (`None` keeps the preset's
    /// published vocabulary where it has one, else is an error).
    pub fn preset(name: &str, vocab_size: Option<usize>) -> Result<Self> {
        let (layers, hidden, heads, ffn, lstm, published_vocab) = match name {
            "tiny" => (2, 128, 4, 512, 0, None),
            "cpu" => (3, 192, 4, 768, 0, None),
            "small" => (4, 256, 4, 1024, 0, None),
            "hybrid-base" => (12, 768, 12, 3072, 1, Some(4461)),
            "dnabert-base" => (12, 768, 12, 3072, 0, Some(4101)),
            "dnavec-base" => (12, 512, 8, 2048, 0, Some(87_365)),
            other => {
                return Err(ModelError::Config(format!(
                    "unknown preset {other:?}; known: {}",
                    PRESETS
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
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: ffn,
            hidden_act: default_hidden_act(),
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            initializer_range: 0.02,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            position_embedding_type: default_position_type(),
            dnalm_lstm_layers: lstm,
            dnalm_preset: Some(name.to_string()),
        };
        config.validate()?;
        Ok(config)
    }

    /// Check every size; the message says which field is wrong and why.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(ModelError::Config(msg));
        if self.model_type != "bert" {
            return bad(format!(
                "model_type is {:?}; dnalm reads BERT configs only",
                self.model_type
            ));
        }
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ] {
            if v == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return bad(format!(
                "hidden_size {} is not divisible by num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        for (name, p) in [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "attention_probs_dropout_prob",
                self.attention_probs_dropout_prob,
            ),
        ] {
            if !(0.0..1.0).contains(&p) {
                return bad(format!("{name} is {p}; it must be in [0, 1)"));
            }
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return bad(format!(
                "layer_norm_eps is {}; it must be positive",
                self.layer_norm_eps
            ));
        }
        if !matches!(self.hidden_act.as_str(), "gelu" | "gelu_new" | "relu") {
            return bad(format!(
                "hidden_act {:?} is not supported (gelu, gelu_new, relu)",
                self.hidden_act
            ));
        }
        if self.position_embedding_type != "absolute" {
            return bad(format!(
                "position_embedding_type {:?} is not supported (absolute)",
                self.position_embedding_type
            ));
        }
        if self.pad_token_id >= self.vocab_size {
            return bad(format!(
                "pad_token_id {} is outside the vocabulary ({})",
                self.pad_token_id, self.vocab_size
            ));
        }
        Ok(())
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Read and validate a `config.json`.
    pub fn load(path: &Path) -> Result<Self> {
        read_config(path, "BERT", Self::validate)
    }

    /// Pretty JSON, stable field order.
    pub fn to_json(&self) -> String {
        config_json(self)
    }

    /// Number of trainable parameters (tied decoder weight counted once).
    pub fn parameter_count(&self) -> usize {
        let (v, h, i, p, t, l) = (
            self.vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.max_position_embeddings,
            self.type_vocab_size,
            self.num_hidden_layers,
        );
        let embeddings = (v + p + t) * h + 2 * h;
        let layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
        let lstm = self.dnalm_lstm_layers * (2 * 4 * h * h + 2 * 4 * h);
        let mlm = h * h + h + 2 * h + v;
        embeddings + l * layer + lstm + mlm
    }
}

/// Read a `config.json` of `kind` and check it with `validate`; errors
/// name the file. Shared by every model's config.
pub(crate) fn read_config<T: serde::de::DeserializeOwned>(
    path: &Path,
    kind: &str,
    validate: impl Fn(&T) -> Result<()>,
) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    let config: T = serde_json::from_str(&text).map_err(|e| {
        ModelError::Config(format!("{}: not a {kind} config.json: {e}", path.display()))
    })?;
    validate(&config).map_err(|e| ModelError::Config(format!("{}: {e}", path.display())))?;
    Ok(config)
}

/// Pretty JSON in field order, with a final newline.
pub(crate) fn config_json<T: Serialize>(config: &T) -> String {
    let mut s = serde_json::to_string_pretty(config).expect("config serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_published_sizes_hold() {
        for (name, _) in PRESETS {
            let c = BertConfig::preset(name, Some(4461)).unwrap();
            c.validate().unwrap();
        }
        let d = BertConfig::preset("dnabert-base", None).unwrap();
        assert_eq!(
            (d.vocab_size, d.num_hidden_layers, d.hidden_size),
            (4101, 12, 768)
        );
        let v = BertConfig::preset("dnavec-base", None).unwrap();
        assert_eq!(v.hidden_size % v.num_attention_heads, 0);
        assert!(BertConfig::preset("tiny", None).is_err());
        assert!(BertConfig::preset("huge", Some(10)).is_err());
    }

    #[test]
    fn bert_base_parameter_count_matches_the_published_110m() {
        // bert-base-uncased: 109,514,298 parameters in BertForMaskedLM
        // without the pooler (30522 vocab, 512 positions).
        let mut c = BertConfig::preset("dnabert-base", Some(30522)).unwrap();
        c.dnalm_lstm_layers = 0;
        assert_eq!(c.parameter_count(), 109_514_298);
    }

    #[test]
    fn invalid_sizes_are_named() {
        let mut c = BertConfig::preset("tiny", Some(100)).unwrap();
        c.num_attention_heads = 3;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("not divisible"), "{e}");
        c.num_attention_heads = 4;
        c.hidden_dropout_prob = 1.0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("hidden_dropout_prob"));
    }

    #[test]
    fn reads_a_transformers_config_json() {
        let json = r#"{"architectures":["BertForMaskedLM"],"attention_probs_dropout_prob":0.1,
          "hidden_act":"gelu","hidden_dropout_prob":0.1,"hidden_size":768,"initializer_range":0.02,
          "intermediate_size":3072,"layer_norm_eps":1e-12,"max_position_embeddings":512,
          "model_type":"bert","num_attention_heads":12,"num_hidden_layers":12,"pad_token_id":0,
          "position_embedding_type":"absolute","transformers_version":"4.40.0","type_vocab_size":2,
          "use_cache":true,"vocab_size":4101}"#;
        let c: BertConfig = serde_json::from_str(json).unwrap();
        c.validate().unwrap();
        assert_eq!(c.vocab_size, 4101);
        assert_eq!(c.dnalm_lstm_layers, 0);
        let back: BertConfig = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
    }
}
