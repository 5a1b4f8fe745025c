//! Saved promoter models: every trained predictor as a folder
//! (`predictor.json`, `model.safetensors`, and for encoder encodings the
//! encoder as `encoder/` with its tokenizer), and the fine-tuned classifier
//! folder. [`Scorer`] loads either kind and gives P(promoter) for
//! sequences of the training length, in batches whose halves run in
//! parallel.

use std::path::{Path, PathBuf};

use dnalm_model::finetuned::{load_classifier, save_classifier};
use dnalm_model::pretrained::WEIGHTS_FILE;
use dnalm_model::{BertConfig, BertForSequenceClassification, Device, Predictor, PredictorConfig};
use dnalm_tokenizers::{AnyTokenizer, Tokenizer};
use dnalm_train::classify::{self, ClassExample};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::features::{encode, one_hot, Features};
use super::fit::predict;
use super::train::Encoding;
use crate::error::{Result, TaskError};
use crate::model::{find_run_tokenizer, frame, RUN_TOKENIZER};
use crate::report::write_file;

/// The file that describes a saved predictor or classifier.
pub const PREDICTOR_FILE: &str = "predictor.json";
const FORMAT: &str = "dnalm-promoter-predictor";
/// Folder of a predictor's encoder.
pub const ENCODER_DIR: &str = "encoder";

/// What a saved model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SavedKind {
    /// A predictor over an encoding.
    Predictor,
    /// A fine-tuned encoder with its linear head.
    Classifier,
}

/// `predictor.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PredictorMeta {
    pub format: String,
    pub version: u32,
    pub name: String,
    pub kind: SavedKind,
    pub encoding: Encoding,
    /// The predictor's sizes (predictors only).
    pub architecture: Option<PredictorConfig>,
    /// Decision threshold chosen on the validation rows (max MCC).
    pub threshold: f64,
    /// The sequence length it was trained on (nt).
    pub sequence_length: usize,
    /// Tokens per input of the encoder, [CLS] and [SEP] included.
    pub max_len: usize,
    /// The tokenizer file in the folder (encoder encodings).
    pub tokenizer: Option<String>,
    /// The encoder folder inside this one (pre-trained / fine-tuned encodings).
    pub encoder: Option<String>,
    /// Validation AUROC of the saved weights (absent when not measured).
    pub valid_auroc: Option<f64>,
    /// Test metrics at `threshold` when it was trained (JSON null for a
    /// metric that is not a number).
    pub test: Option<serde_json::Value>,
}

impl PredictorMeta {
    pub fn new(name: &str, kind: SavedKind, encoding: Encoding) -> Self {
        Self {
            format: FORMAT.into(),
            version: 1,
            name: name.into(),
            kind,
            encoding,
            architecture: None,
            threshold: 0.5,
            sequence_length: 0,
            max_len: 512,
            tokenizer: None,
            encoder: None,
            valid_auroc: None,
            test: None,
        }
    }
}

fn write_meta(dir: &Path, meta: &PredictorMeta) -> Result<()> {
    let mut text = serde_json::to_string_pretty(meta).expect("meta serialises");
    text.push('\n');
    write_file(dir, PREDICTOR_FILE, text.as_bytes())
}

/// An encoder to save with a predictor or classifier.
#[derive(Debug, Clone, Copy)]
pub struct EncoderFiles<'a> {
    pub model: &'a BertForSequenceClassification,
    pub config: &'a BertConfig,
    /// The tokenizer file's bytes (dnalm's format).
    pub tokenizer: &'a [u8],
}

/// Save a predictor (and its encoder, for encoder encodings) into `dir`.
pub fn save_predictor(
    dir: &Path,
    model: &Predictor,
    meta: &PredictorMeta,
    encoder: Option<EncoderFiles>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TaskError::io(dir, e))?;
    let mut meta = meta.clone();
    meta.architecture = Some(model.config);
    if let Some(enc) = encoder {
        save_encoder(&dir.join(ENCODER_DIR), enc)?;
        meta.encoder = Some(ENCODER_DIR.into());
        meta.tokenizer = Some(format!("{ENCODER_DIR}/{RUN_TOKENIZER}"));
    }
    dnalm_model::weights::save_safetensors(
        &dir.join(WEIGHTS_FILE),
        &dnalm_model::weights::state_dict(model),
    )?;
    write_meta(dir, &meta)
}

fn save_encoder(dir: &Path, enc: EncoderFiles) -> Result<()> {
    let labels = vec!["non_promoter".to_string(), "promoter".to_string()];
    save_classifier(dir, enc.config, enc.model, &labels)?;
    write_file(dir, RUN_TOKENIZER, enc.tokenizer)
}

/// Save a fine-tuned classifier (encoder + head) into `dir` as a classifier
/// folder with its tokenizer and `predictor.json`.
pub fn save_classifier_model(dir: &Path, enc: EncoderFiles, meta: &PredictorMeta) -> Result<()> {
    save_encoder(dir, enc)?;
    let mut meta = meta.clone();
    meta.kind = SavedKind::Classifier;
    meta.tokenizer = Some(RUN_TOKENIZER.into());
    write_meta(dir, &meta)
}

enum Body {
    OneHot(Predictor),
    Encoded {
        predictor: Predictor,
        encoder: Box<BertForSequenceClassification>,
        tokenizer: AnyTokenizer,
    },
    Classifier {
        model: Box<BertForSequenceClassification>,
        tokenizer: AnyTokenizer,
    },
}

/// A saved predictor or classifier, ready to score sequences.
pub struct Scorer {
    pub meta: PredictorMeta,
    pub dir: PathBuf,
    body: Body,
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scorer")
            .field("meta", &self.meta)
            .field("dir", &self.dir)
            .finish()
    }
}

fn load_tokenizer(path: &Path, vocab: usize) -> Result<AnyTokenizer> {
    let tok = AnyTokenizer::load(path)?;
    if tok.vocab().len() != vocab {
        return Err(TaskError::Config(format!(
            "the tokenizer {} has {} tokens, the encoder's vocabulary {vocab}: not the model's tokenizer",
            path.display(),
            tok.vocab().len()
        )));
    }
    Ok(tok)
}

impl Scorer {
    /// Load `dir`: a folder with `predictor.json` (a saved predictor or
    /// classifier), or a classifier folder from an older `promoter train`
    /// (`config.json` with `num_labels`; threshold 0.5). `tokenizer`
    /// overrides the saved one (encoders only).
    pub fn load(dir: &Path, tokenizer: Option<&Path>) -> Result<Scorer> {
        let device = Device::flex();
        let meta_path = dir.join(PREDICTOR_FILE);
        let bad = |m: String| TaskError::Config(format!("{}: {m}", meta_path.display()));
        if !dir.is_dir() {
            return Err(TaskError::Config(format!(
                "{}: not a folder (give a predictor or classifier folder from `dnalm promoter train`)",
                dir.display()
            )));
        }
        let meta: PredictorMeta = if meta_path.exists() {
            let text =
                std::fs::read_to_string(&meta_path).map_err(|e| TaskError::io(&meta_path, e))?;
            let meta: PredictorMeta = serde_json::from_str(&text)
                .map_err(|e| bad(format!("not a predictor description: {e}")))?;
            if meta.format != FORMAT {
                return Err(bad(format!(
                    "format {:?}, expected {FORMAT:?}",
                    meta.format
                )));
            }
            if meta.version != 1 {
                return Err(bad(format!(
                    "version {} (this dnalm reads 1)",
                    meta.version
                )));
            }
            meta
        } else if dir.join("config.json").exists() {
            let mut m =
                PredictorMeta::new("classifier", SavedKind::Classifier, Encoding::Finetuned);
            m.tokenizer = find_run_tokenizer(dir).map(|p| p.display().to_string());
            m
        } else {
            return Err(TaskError::Config(format!(
                "{}: no {PREDICTOR_FILE} (nor a classifier's config.json): not a folder from `dnalm promoter train`",
                dir.display()
            )));
        };
        let tok_path = |meta: &PredictorMeta| -> Result<PathBuf> {
            if let Some(t) = tokenizer {
                return Ok(t.to_path_buf());
            }
            match &meta.tokenizer {
                Some(t) if Path::new(t).is_absolute() => Ok(PathBuf::from(t)),
                Some(t) => Ok(dir.join(t)),
                None => Err(bad("no tokenizer named: give --tokenizer".into())),
            }
        };
        let body = match meta.kind {
            SavedKind::Classifier => {
                let clf = load_classifier(dir, &device)?;
                let tokenizer = load_tokenizer(&tok_path(&meta)?, clf.config.vocab_size)?;
                Body::Classifier {
                    model: Box::new(clf.model),
                    tokenizer,
                }
            }
            SavedKind::Predictor => {
                let arch = meta
                    .architecture
                    .ok_or_else(|| bad("a predictor without its architecture".into()))?;
                let weights = dir.join(WEIGHTS_FILE);
                let (tensors, _) = dnalm_model::weights::load_safetensors(&weights)?;
                let fresh = dnalm_model::seeded(0, || Predictor::new(&arch, &device))?;
                let (predictor, _) =
                    dnalm_model::weights::load_state_dict(fresh, &tensors, &weights)?;
                match meta.encoding {
                    Encoding::OneHot => {
                        if tokenizer.is_some() {
                            return Err(bad(
                                "a one-hot predictor reads bases, not tokens: drop --tokenizer"
                                    .into(),
                            ));
                        }
                        if arch.input_dim != 4 {
                            return Err(bad(format!(
                                "a one-hot predictor with {} input features (4 expected)",
                                arch.input_dim
                            )));
                        }
                        Body::OneHot(predictor)
                    }
                    Encoding::Pretrained | Encoding::Finetuned => {
                        let enc_dir = dir.join(meta.encoder.as_deref().ok_or_else(|| {
                            bad("an encoder encoding without an encoder folder".into())
                        })?);
                        let enc = load_classifier(&enc_dir, &device)?;
                        if enc.config.hidden_size != arch.input_dim {
                            return Err(bad(format!(
                                "the encoder's hidden size {} is not the predictor's input {}",
                                enc.config.hidden_size, arch.input_dim
                            )));
                        }
                        let tokenizer = load_tokenizer(&tok_path(&meta)?, enc.config.vocab_size)?;
                        Body::Encoded {
                            predictor,
                            encoder: Box::new(enc.model),
                            tokenizer,
                        }
                    }
                }
            }
        };
        Ok(Scorer {
            meta,
            dir: dir.to_path_buf(),
            body,
        })
    }

    /// A short description: kind, encoding, architecture, threshold.
    pub fn describe(&self) -> String {
        let what = match (&self.meta.kind, &self.meta.architecture) {
            (SavedKind::Predictor, Some(a)) => a.kind.name().to_string(),
            _ => "fine-tuned classifier".into(),
        };
        format!(
            "{} on {} ({}), threshold {:.4}",
            what,
            self.meta.encoding.name(),
            self.dir.display(),
            self.meta.threshold
        )
    }

    /// P(promoter) of each sequence, in order.
    pub fn score(&self, seqs: &[&[u8]]) -> Result<Vec<f64>> {
        const CHUNK: usize = 128;
        match &self.body {
            Body::OneHot(p) => {
                let parts: Vec<Result<Vec<f64>>> = seqs
                    .par_chunks(CHUNK)
                    .map(|chunk| {
                        let f = one_hot(chunk);
                        let idx: Vec<usize> = (0..chunk.len()).collect();
                        predict(p, &f, &idx)
                    })
                    .collect();
                Ok(parts.into_iter().collect::<Result<Vec<_>>>()?.concat())
            }
            Body::Encoded {
                predictor,
                encoder,
                tokenizer,
            } => {
                let ex = self.examples(tokenizer, seqs)?;
                let pad = tokenizer.vocab().specials().pad;
                let feats: Features = encode(encoder, &ex, pad, 64, &Device::flex(), &mut |_| {})?;
                let idx: Vec<usize> = (0..seqs.len()).collect();
                predict(predictor, &feats, &idx)
            }
            Body::Classifier { model, tokenizer } => {
                let ex = self.examples(tokenizer, seqs)?;
                let pad = tokenizer.vocab().specials().pad;
                Ok(
                    classify::predict(&**model, &ex, CHUNK, pad, &Device::flex())?
                        .into_iter()
                        .map(|p| p.get(1).copied().unwrap_or(0.0) as f64)
                        .collect(),
                )
            }
        }
    }

    fn examples(&self, tok: &AnyTokenizer, seqs: &[&[u8]]) -> Result<Vec<ClassExample>> {
        seqs.iter()
            .map(|s| {
                Ok(ClassExample {
                    ids: frame(tok, s, self.meta.max_len)?,
                    label: 0,
                })
            })
            .collect()
    }
}
