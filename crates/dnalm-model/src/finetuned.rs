//! Fine-tuned sequence classifiers as model folders: `config.json` (the HF
//! BERT fields plus `num_labels`, `id2label`, `label2id`,
//! `architectures: ["BertForSequenceClassification"]` and `dnalm_pooling`)
//! and `model.safetensors` with HF names (`bert.*`, `classifier.weight`,
//! `classifier.bias`; `lstm.*` for a model with an LSTM). Why a folder of
//! its own: `dnalm promoter scan` (and any later task) loads the trained
//! classifier without the training data or the pre-trained run.
//!
//! A [CLS] classifier has HF's pooler (`bert.pooler.dense.*`, dense + tanh)
//! and `dnalm export-hf` turns its folder into one that `transformers`'
//! `BertForSequenceClassification` runs with the same probabilities. Folders
//! saved before the pooler (and mean-pooled or LSTM classifiers) still load
//! here; they read the pooled state without a pooler, which `transformers`
//! has no class for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::config::BertConfig;
use crate::error::{ModelError, Result};
use crate::heads::{BertForSequenceClassification, Pooling};
use crate::pretrained::{CONFIG_FILE, WEIGHTS_FILE};
use crate::weights::{self, load_safetensors, normalise_names, save_safetensors, write_atomic};

/// The pooler's weight: its presence says a folder's classifier has one.
pub const POOLER_WEIGHT: &str = "bert.pooler.dense.weight";

/// A classifier read from (or about to be written to) a folder.
#[derive(Debug)]
pub struct Finetuned {
    pub config: BertConfig,
    pub model: BertForSequenceClassification,
    /// Class names by class index (`id2label`).
    pub labels: Vec<String>,
    pub dir: PathBuf,
}

fn pooling_name(p: Pooling) -> &'static str {
    match p {
        Pooling::Cls => "cls",
        Pooling::Mean => "mean",
    }
}

/// Write `model` with `config` and class names `labels` into `dir` (created
/// if needed); each file is written whole (temporary file, then rename).
pub fn save_classifier(
    dir: &Path,
    config: &BertConfig,
    model: &BertForSequenceClassification,
    labels: &[String],
) -> Result<()> {
    let n = model.classifier.weight.dims()[0];
    if labels.len() != n {
        return Err(ModelError::Config(format!(
            "{} label names for a classifier with {n} classes",
            labels.len()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let mut c = config.clone();
    c.architectures = vec!["BertForSequenceClassification".into()];
    let mut json: serde_json::Value = serde_json::from_str(&c.to_json()).expect("config is JSON");
    let obj = json.as_object_mut().expect("config is an object");
    let id2label: BTreeMap<String, String> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), l.clone()))
        .collect();
    let label2id: BTreeMap<String, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), i))
        .collect();
    obj.insert("num_labels".into(), n.into());
    obj.insert("id2label".into(), serde_json::json!(id2label));
    obj.insert("label2id".into(), serde_json::json!(label2id));
    obj.insert("dnalm_pooling".into(), pooling_name(model.pooling).into());
    let mut text = serde_json::to_string_pretty(&json).expect("config serialises");
    text.push('\n');
    write_atomic(&dir.join(CONFIG_FILE), text.as_bytes())?;
    save_safetensors(&dir.join(WEIGHTS_FILE), &weights::state_dict(model))
}

/// Read a classifier folder onto `device`.
pub fn load_classifier(dir: &Path, device: &Device) -> Result<Finetuned> {
    let config_path = dir.join(CONFIG_FILE);
    let weights_path = dir.join(WEIGHTS_FILE);
    let config = BertConfig::load(&config_path)?;
    let text =
        std::fs::read_to_string(&config_path).map_err(|e| ModelError::io(&config_path, e))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ModelError::Config(format!("{}: {e}", config_path.display())))?;
    let bad = |m: &str| ModelError::Config(format!("{}: {m}", config_path.display()));
    let n = json
        .get("num_labels")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| bad("no num_labels: not a sequence classifier folder"))?
        as usize;
    if n == 0 {
        return Err(bad("num_labels is 0"));
    }
    let labels = (0..n)
        .map(|i| {
            json.get("id2label")
                .and_then(|m| m.get(i.to_string()))
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("LABEL_{i}"))
        })
        .collect();
    let pooling = match json.get("dnalm_pooling").and_then(|v| v.as_str()) {
        None | Some("cls") => Pooling::Cls,
        Some("mean") => Pooling::Mean,
        Some(other) => return Err(bad(&format!("dnalm_pooling {other:?} (cls, mean)"))),
    };
    let (tensors, _) = load_safetensors(&weights_path)?;
    let tensors = normalise_names(tensors);
    let mut fresh = BertForSequenceClassification::new(&config, n, pooling, device);
    if !tensors.contains_key(POOLER_WEIGHT) {
        // Saved before classifiers had HF's pooler: they read [CLS] as is.
        fresh.bert.pooler = None;
    }
    let (model, _) = weights::load_state_dict(fresh, &tensors, &weights_path)?;
    Ok(Finetuned {
        config,
        model,
        labels,
        dir: dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bert::{BatchInput, DeviceBatch};

    #[test]
    fn classifier_round_trips_through_a_folder() {
        let device = crate::device(crate::Backend::Cpu).unwrap();
        let config = BertConfig::preset("tiny", Some(12)).unwrap();
        let model = crate::seeded(5, || {
            BertForSequenceClassification::new(&config, 2, Pooling::Cls, &device)
        });
        let dir = tempfile::tempdir().unwrap();
        let labels = vec!["non_promoter".to_string(), "promoter".to_string()];
        save_classifier(dir.path(), &config, &model, &labels).unwrap();
        let back = load_classifier(dir.path(), &device).unwrap();
        assert_eq!(back.labels, labels);
        let batch = BatchInput::unpadded(vec![2, 7, 8, 9, 3], 1, 5);
        let db = DeviceBatch::new(&batch, &device);
        let a: Vec<f32> = model
            .forward(&db, &batch.attention_mask)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let b: Vec<f32> = back
            .model
            .forward(&db, &batch.attention_mask)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(a, b);
        let cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap())
                .unwrap();
        assert_eq!(cfg["id2label"]["1"], "promoter");
        let (saved, _) = load_safetensors(&dir.path().join(WEIGHTS_FILE)).unwrap();
        for name in [POOLER_WEIGHT, "bert.pooler.dense.bias", "classifier.weight"] {
            assert!(saved.contains_key(name), "{name}");
        }
        assert_eq!(cfg["architectures"][0], "BertForSequenceClassification");
        // A masked-LM folder is not a classifier.
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_json()).unwrap();
        let err = load_classifier(dir.path(), &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains("num_labels"), "{err}");
    }

    /// A folder saved before classifiers had the pooler loads without one
    /// and reads [CLS] as is; the pooler changes the logits when present.
    #[test]
    fn classifier_without_pooler_reads_cls_directly() {
        let device = crate::device(crate::Backend::Cpu).unwrap();
        let config = BertConfig::preset("tiny", Some(12)).unwrap();
        let model = crate::seeded(6, || {
            BertForSequenceClassification::new(&config, 2, Pooling::Cls, &device)
        });
        assert!(model.bert.pooler.is_some());
        let dir = tempfile::tempdir().unwrap();
        let labels = vec!["a".to_string(), "b".to_string()];
        save_classifier(dir.path(), &config, &model, &labels).unwrap();
        let path = dir.path().join(WEIGHTS_FILE);
        let (mut tensors, _) = load_safetensors(&path).unwrap();
        tensors.retain(|k, _| !k.starts_with("bert.pooler."));
        save_safetensors(&path, &tensors).unwrap();
        let old = load_classifier(dir.path(), &device).unwrap();
        assert!(old.model.bert.pooler.is_none());
        let batch = BatchInput::unpadded(vec![2, 7, 8, 9, 3], 1, 5);
        let db = DeviceBatch::new(&batch, &device);
        let logits = |m: &BertForSequenceClassification| -> Vec<f32> {
            m.forward(&db, &batch.attention_mask)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let cls = old
            .model
            .token_states(&db)
            .slice([0..1, 0..1, 0..128])
            .reshape([1, 128]);
        let want: Vec<f32> = old
            .model
            .classifier
            .forward(cls)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(logits(&old.model), want);
        assert_ne!(logits(&model), want);
    }
}
