//! The DNABERT-Prom experiment on one labelled set: group the rows (no
//! leak), give half of the groups to fine-tuning the encoder (AdamW, 6%
//! warm-up then linear decay, dropout from the config, batch 64) and the
//! other half to the predictors; encode that half three ways (one-hot, the
//! pre-trained encoder, the fine-tuned encoder: last hidden layer per
//! token); then, for each repeat (a new seeded 8:2 group split of the
//! predictor half), train and test every predictor on every encoding, the
//! fine-tuned classifier's own head and the tf-idf + logistic baseline.

use burn::module::Module;
use dnalm_model::{BertForSequenceClassification, Device, Pooling, PredictorKind};
use dnalm_tokenizers::Tokenizer;
use dnalm_train::classify::{self, ClassifyConfig};
use serde::Serialize;

use super::baseline::tfidf_logistic;
use super::features::{encode, examples, one_hot, Features};
use super::fit::{fit_predict, FitConfig};
use super::loaders::LabelledRow;
use super::split::{group_rows, split_groups};
use crate::error::{Result, TaskError};
use crate::metrics::BinaryMetrics;
use crate::model::TaskModel;

/// What the predictors read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    OneHot,
    Pretrained,
    Finetuned,
}

impl Encoding {
    pub const ALL: [Encoding; 3] = [Self::OneHot, Self::Pretrained, Self::Finetuned];
    pub fn name(self) -> &'static str {
        match self {
            Self::OneHot => "one-hot",
            Self::Pretrained => "pre-trained",
            Self::Finetuned => "fine-tuned",
        }
    }
}

/// Settings of the experiment.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    /// Tokens per input, [CLS] and [SEP] included.
    pub max_len: usize,
    pub finetune: ClassifyConfig,
    pub fit: FitConfig,
    pub repeats: usize,
    /// Share of the groups that fine-tune the encoder.
    pub finetune_fraction: f64,
    /// Share of the predictor half tested in each repeat.
    pub test_fraction: f64,
    /// Use at most this many rows (whole groups, seeded; 0 = all).
    pub max_rows: usize,
    pub predictors: Vec<PredictorKind>,
    pub encodings: Vec<Encoding>,
    /// k of the tf-idf baseline (0 = no baseline).
    pub tfidf_k: usize,
    pub seed: u64,
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self {
            max_len: 512,
            finetune: ClassifyConfig::default(),
            fit: FitConfig::default(),
            repeats: 5,
            finetune_fraction: 0.5,
            test_fraction: 0.2,
            max_rows: 0,
            predictors: PredictorKind::ALL.to_vec(),
            encodings: Encoding::ALL.to_vec(),
            tfidf_k: 4,
            seed: 42,
        }
    }
}

/// One (encoding, predictor, repeat) result.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub encoding: String,
    pub predictor: String,
    pub repeat: usize,
    pub train: usize,
    pub metrics: BinaryMetrics,
}

/// What the data gave.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub rows: usize,
    pub used_rows: usize,
    pub groups: usize,
    pub finetune_rows: usize,
    pub predictor_rows: usize,
    pub finetune_updates: usize,
    pub final_finetune_loss: f64,
}

/// Progress of the experiment.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Finetune {
        step: u64,
        total: u64,
        loss: f64,
    },
    Encode {
        encoding: &'a str,
        done: usize,
        total: usize,
    },
    Fit {
        label: &'a str,
        step: u64,
        total: u64,
        loss: f64,
    },
    Done {
        label: &'a str,
        metrics: &'a BinaryMetrics,
    },
}

/// The outcome: per-run results, the data summary and the fine-tuned
/// classifier (inference copy) with its config.
#[derive(Debug)]
pub struct TrainOutcome {
    pub runs: Vec<RunResult>,
    pub summary: TrainSummary,
    pub classifier: BertForSequenceClassification,
}

fn check(spec: &TrainSpec) -> Result<()> {
    let frac = |v: f64| v > 0.0 && v < 1.0;
    if !frac(spec.finetune_fraction) || !frac(spec.test_fraction) {
        return Err(TaskError::Config(format!(
            "fine-tune fraction {} and test fraction {} must be in (0, 1)",
            spec.finetune_fraction, spec.test_fraction
        )));
    }
    if spec.repeats == 0 {
        return Err(TaskError::Config("at least one repeat".into()));
    }
    Ok(())
}

fn labels_of(rows: &[LabelledRow], idx: &[usize]) -> Vec<u8> {
    idx.iter().map(|&i| rows[i].label).collect()
}

/// Run the experiment. `model` is opened on an autodiff device (`device`).
pub fn run(
    model: TaskModel,
    rows: &[LabelledRow],
    spec: &TrainSpec,
    device: &Device,
    on_event: &mut dyn FnMut(Event),
) -> Result<TrainOutcome> {
    check(spec)?;
    let seqs: Vec<&[u8]> = rows.iter().map(|r| r.sequence.as_slice()).collect();
    let explicit: Option<Vec<u64>> = rows.iter().map(|r| r.group).collect();
    let groups = group_rows(&seqs, explicit.as_deref());
    let n_groups = groups.iter().max().map_or(0, |m| m + 1);
    let all: Vec<usize> = (0..rows.len()).collect();
    let used = if spec.max_rows > 0 && spec.max_rows < rows.len() {
        let f = spec.max_rows as f64 / rows.len() as f64;
        split_groups(&all, &groups, f, dnalm_seq::mix64(spec.seed, 0x5E1)).0
    } else {
        all
    };
    let (ft, pred) = split_groups(&used, &groups, spec.finetune_fraction, spec.seed);
    for (what, idx) in [("fine-tuning", &ft), ("predictor", &pred)] {
        let pos = idx.iter().filter(|&&i| rows[i].label == 1).count();
        if pos == 0 || pos == idx.len() {
            return Err(TaskError::Data(format!(
                "the {what} half has {pos} positives among {} rows: both classes are needed \
                 (more rows, or a set with both labels)",
                idx.len()
            )));
        }
    }
    // Fine-tune.
    let tok = &model.tokenizer;
    let pad = tok.vocab().specials().pad;
    let config = model.pretrained.config.clone();
    let pre_ft: Vec<&[u8]> = ft.iter().map(|&i| seqs[i]).collect();
    let ft_examples = examples(tok, &pre_ft, &labels_of(rows, &ft), spec.max_len)?;
    let mlm = model.pretrained.model;
    let pretrained_only = BertForSequenceClassification::from_pretrained(
        mlm.clone(),
        &config,
        2,
        Pooling::Cls,
        spec.seed,
        device,
    )
    .valid();
    let clf = BertForSequenceClassification::from_pretrained(
        mlm,
        &config,
        2,
        Pooling::Cls,
        spec.seed,
        device,
    );
    let (trained, losses) =
        classify::finetune(clf, &ft_examples, &spec.finetune, pad, device, &mut |s| {
            on_event(Event::Finetune {
                step: s.step,
                total: s.total,
                loss: s.loss,
            })
        })?;
    let finetuned = trained.valid();
    // Encode the predictor half.
    let inner = Device::flex();
    let pred_seqs: Vec<&[u8]> = pred.iter().map(|&i| seqs[i]).collect();
    let pred_labels = labels_of(rows, &pred);
    let pred_examples = examples(tok, &pred_seqs, &pred_labels, spec.max_len)?;
    let mut encodings: Vec<(Encoding, Features)> = Vec::new();
    for &e in &spec.encodings {
        let f = match e {
            Encoding::OneHot => one_hot(&pred_seqs),
            Encoding::Pretrained | Encoding::Finetuned => {
                let m = if e == Encoding::Pretrained {
                    &pretrained_only
                } else {
                    &finetuned
                };
                let total = pred_examples.len();
                encode(m, &pred_examples, pad, 64, &inner, &mut |done| {
                    on_event(Event::Encode {
                        encoding: e.name(),
                        done,
                        total,
                    })
                })?
            }
        };
        encodings.push((e, f));
    }
    // The fine-tuned head's own probabilities for every predictor row.
    let head: Vec<f64> = classify::predict(&finetuned, &pred_examples, 128, pad, &inner)?
        .into_iter()
        .map(|p| p[1] as f64)
        .collect();
    let local_groups: Vec<usize> = pred.iter().map(|&i| groups[i]).collect();
    let local: Vec<usize> = (0..pred.len()).collect();
    let mut runs = Vec::new();
    for r in 0..spec.repeats {
        let seed = dnalm_seq::mix64(spec.seed, 1000 + r as u64);
        let (test, train) = split_groups(&local, &local_groups, spec.test_fraction, seed);
        let test_labels: Vec<u8> = test.iter().map(|&i| pred_labels[i]).collect();
        let mut push =
            |encoding: &str, predictor: &str, p: &[f64], on_event: &mut dyn FnMut(Event)| {
                let m = BinaryMetrics::compute(p, &test_labels);
                let label = format!("{encoding} {predictor} #{}", r + 1);
                on_event(Event::Done {
                    label: &label,
                    metrics: &m,
                });
                runs.push(RunResult {
                    encoding: encoding.into(),
                    predictor: predictor.into(),
                    repeat: r + 1,
                    train: train.len(),
                    metrics: m,
                });
            };
        let p: Vec<f64> = test.iter().map(|&i| head[i]).collect();
        push("fine-tuned", "linear head", &p, on_event);
        if spec.tfidf_k > 0 {
            let tr: Vec<&[u8]> = train.iter().map(|&i| pred_seqs[i]).collect();
            let tl: Vec<u8> = train.iter().map(|&i| pred_labels[i]).collect();
            let te: Vec<&[u8]> = test.iter().map(|&i| pred_seqs[i]).collect();
            let p = tfidf_logistic(&tr, &tl, &te, spec.tfidf_k, 1e-4, 300)?;
            push(
                &format!("tf-idf {}-mer", spec.tfidf_k),
                "logistic",
                &p,
                on_event,
            );
        }
        for (e, feats) in &encodings {
            for &kind in &spec.predictors {
                let label = format!("{} {} #{}", e.name(), kind.name(), r + 1);
                let cfg = FitConfig { seed, ..spec.fit };
                let p = fit_predict(
                    kind,
                    feats,
                    &pred_labels,
                    &train,
                    &test,
                    &cfg,
                    &mut |step, total, loss| {
                        on_event(Event::Fit {
                            label: &label,
                            step,
                            total,
                            loss,
                        })
                    },
                )?;
                push(e.name(), kind.name(), &p, on_event);
            }
        }
    }
    Ok(TrainOutcome {
        runs,
        summary: TrainSummary {
            rows: rows.len(),
            used_rows: used.len(),
            groups: n_groups,
            finetune_rows: ft.len(),
            predictor_rows: pred.len(),
            finetune_updates: losses.len(),
            final_finetune_loss: losses.last().copied().unwrap_or(f64::NAN),
        },
        classifier: finetuned,
    })
}
