//! Training and testing promoter predictors on labelled sets.
//!
//! The data come as one file split by group (no test row shares a group,
//! hence a 50-mer on either strand, with a training row), or as separate
//! train / validation / test files. The predictors read one-hot bases by
//! default. With an encoder, the DNABERT-Prom protocol is available: a
//! share of the training groups fine-tunes the encoder ([CLS] + linear
//! head, AdamW, 6% warm-up then linear decay), and the predictors also read
//! the pre-trained or fine-tuned encoder's last hidden layer per token.
//!
//! Every predictor trains with AdamW and early stopping on the validation
//! rows' AUROC (best epoch kept); its decision threshold is the one that
//! maximises MCC on the validation rows. The test rows are scored at 0.5
//! and at that threshold, with bootstrap 95 % intervals. The fine-tuned
//! head and a tf-idf + logistic baseline are scored on the same rows.

use burn::module::Module;
use dnalm_model::{BertForSequenceClassification, Device, Pooling, PredictorKind};
use dnalm_tokenizers::Tokenizer;
use dnalm_train::classify::{self, ClassifyConfig};
use serde::Serialize;

use super::baseline::tfidf_logistic;
use super::features::{encode, examples, one_hot, Features};
use super::fit::{fit, predict, EpochLog, FitConfig, Fitted};
use super::loaders::LabelledRow;
use super::split::{group_rows, split_groups};
use crate::error::{Result, TaskError};
use crate::metrics::{best_mcc_threshold, bootstrap, BinaryMetrics, Intervals};
use crate::model::TaskModel;

/// What the predictors read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
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

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "one-hot" | "onehot" => Some(Self::OneHot),
            "pre-trained" | "pretrained" => Some(Self::Pretrained),
            "fine-tuned" | "finetuned" => Some(Self::Finetuned),
            _ => None,
        }
    }
}

/// Settings of the experiment.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    /// Tokens per input, [CLS] and [SEP] included (encoders only).
    pub max_len: usize,
    pub finetune: ClassifyConfig,
    pub fit: FitConfig,
    /// Trainings of each predictor with a new seed (same split).
    pub repeats: usize,
    /// With an encoder: share of the training groups that fine-tune it.
    pub finetune_fraction: f64,
    /// Without a test file: share of the groups held out for testing.
    pub test_fraction: f64,
    /// Without a validation file: share of the training groups held out
    /// for early stopping and the threshold.
    pub valid_fraction: f64,
    /// Use at most this many training rows (whole groups, seeded; 0 = all).
    pub max_rows: usize,
    pub predictors: Vec<PredictorKind>,
    pub encodings: Vec<Encoding>,
    /// k of the tf-idf baseline (0 = no baseline).
    pub tfidf_k: usize,
    /// Bootstrap resamples of the test rows for the 95 % intervals.
    pub bootstrap: usize,
    pub seed: u64,
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self {
            max_len: 512,
            finetune: ClassifyConfig::default(),
            fit: FitConfig::default(),
            repeats: 1,
            finetune_fraction: 0.5,
            test_fraction: 0.1,
            valid_fraction: 0.1,
            max_rows: 0,
            predictors: vec![PredictorKind::Deepromoter, PredictorKind::CnnDense],
            encodings: vec![Encoding::OneHot],
            tfidf_k: 4,
            bootstrap: 1000,
            seed: 42,
        }
    }
}

/// The labelled sets: a training set, and optionally validation and test
/// sets (each a file's rows and the name shown in errors).
#[derive(Debug, Clone, Copy)]
pub struct DataSets<'a> {
    pub train: (&'a str, &'a [LabelledRow]),
    pub valid: Option<(&'a str, &'a [LabelledRow])>,
    pub test: Option<(&'a str, &'a [LabelledRow])>,
}

/// One (encoding, predictor, repeat) result.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub encoding: String,
    pub predictor: String,
    pub repeat: usize,
    pub train: usize,
    /// Test metrics at the 0.5 threshold.
    pub metrics: BinaryMetrics,
    /// Test metrics at the threshold chosen on validation.
    pub tuned: BinaryMetrics,
    /// Bootstrap 95 % intervals of the tuned metrics.
    pub intervals: Intervals,
    /// 1-based epoch kept, and epochs run (0 for the baselines).
    pub best_epoch: usize,
    pub epochs: usize,
    pub seconds: f64,
    /// Validation AUROC of the kept weights.
    pub valid_auroc: f64,
    /// Per-epoch training log (empty for the baselines).
    pub history: Vec<EpochLog>,
}

/// What the data gave.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub rows: usize,
    pub used_rows: usize,
    pub groups: usize,
    pub finetune_rows: usize,
    pub predictor_rows: usize,
    pub valid_rows: usize,
    pub test_rows: usize,
    /// Training or validation rows that share a group (a 50-mer) with a
    /// test row: 0 for a split of one file; for separate files, a leak the
    /// files carry.
    pub shared_with_test: usize,
    pub finetune_updates: usize,
    pub final_finetune_loss: f64,
    pub sequence_length: usize,
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

/// A trained predictor to save: the best repeat (validation AUROC) of one
/// (encoding, predictor).
#[derive(Debug)]
pub struct TrainedPredictor {
    pub encoding: Encoding,
    pub fitted: Fitted,
    pub threshold: f64,
    pub valid_auroc: f64,
    pub test: BinaryMetrics,
}

/// The outcome: per-run results, the data summary, the trained predictors
/// and, with an encoder, the fine-tuned classifier and the pre-trained
/// encoder as a classifier body (inference copies).
#[derive(Debug)]
pub struct TrainOutcome {
    pub runs: Vec<RunResult>,
    pub summary: TrainSummary,
    pub predictors: Vec<TrainedPredictor>,
    pub classifier: Option<BertForSequenceClassification>,
    pub pretrained: Option<BertForSequenceClassification>,
    /// The fine-tuned head's threshold chosen on validation.
    pub classifier_threshold: f64,
}

fn check(spec: &TrainSpec) -> Result<()> {
    let frac = |v: f64| v > 0.0 && v < 1.0;
    for (name, v) in [
        ("fine-tune", spec.finetune_fraction),
        ("test", spec.test_fraction),
        ("validation", spec.valid_fraction),
    ] {
        if !frac(v) {
            return Err(TaskError::Config(format!(
                "{name} fraction {v} must be in (0, 1)"
            )));
        }
    }
    if spec.repeats == 0 {
        return Err(TaskError::Config("at least one repeat".into()));
    }
    if spec.predictors.is_empty() && spec.tfidf_k == 0 {
        return Err(TaskError::Config(
            "no predictor and no baseline to train".into(),
        ));
    }
    Ok(())
}

fn both_classes(what: &str, labels: impl Iterator<Item = u8>) -> Result<()> {
    let (mut pos, mut n) = (0usize, 0usize);
    for l in labels {
        pos += (l == 1) as usize;
        n += 1;
    }
    if pos == 0 || pos == n {
        return Err(TaskError::Data(format!(
            "{what} has {pos} positives among {n} rows: both classes (labels 0 and 1) are needed"
        )));
    }
    Ok(())
}

/// Run the experiment. `model` (if any) is opened on an autodiff `device`.
pub fn run(
    model: Option<TaskModel>,
    data: DataSets,
    spec: &TrainSpec,
    device: &Device,
    on_event: &mut dyn FnMut(Event),
) -> Result<TrainOutcome> {
    check(spec)?;
    if model.is_none() {
        if let Some(e) = spec.encodings.iter().find(|&&e| e != Encoding::OneHot) {
            return Err(TaskError::Config(format!(
                "the {} encoding needs an encoder (--model)",
                e.name()
            )));
        }
    }
    // One list of rows: training file, then validation, then test.
    let (train_name, train_rows) = data.train;
    let mut rows: Vec<&LabelledRow> = train_rows.iter().collect();
    let n_train_file = rows.len();
    if n_train_file == 0 {
        return Err(TaskError::Data(format!("{train_name}: no rows")));
    }
    let length = train_rows[0].sequence.len();
    for (name, part) in [data.valid, data.test].into_iter().flatten() {
        if let Some(r) = part.first() {
            if r.sequence.len() != length {
                return Err(TaskError::Data(format!(
                    "{name}:{}: sequences of {} nt, but {train_name} has {length} nt: \
                     every file needs the training length",
                    r.line,
                    r.sequence.len()
                )));
            }
        } else {
            return Err(TaskError::Data(format!("{name}: no rows")));
        }
        rows.extend(part.iter());
    }
    let n_valid_file = data.valid.map_or(0, |v| v.1.len());
    let seqs: Vec<&[u8]> = rows.iter().map(|r| r.sequence.as_slice()).collect();
    let labels: Vec<u8> = rows.iter().map(|r| r.label).collect();
    let explicit: Option<Vec<u64>> = rows.iter().map(|r| r.group).collect();
    let groups = group_rows(&seqs, explicit.as_deref());
    let n_groups = groups.iter().max().map_or(0, |m| m + 1);
    if data.test.is_none() || data.valid.is_none() {
        // A group split holds out whole groups: one giant group leaves
        // nothing to train on (or nothing to test).
        let mut sizes = vec![0usize; n_groups];
        for &g in &groups[..n_train_file] {
            sizes[g] += 1;
        }
        let largest = sizes.iter().copied().max().unwrap_or(0);
        if largest * 2 > n_train_file {
            return Err(TaskError::Data(format!(
                "{train_name}: {largest} of its {n_train_file} rows form one group (rows joined by \
                 the group column or by a shared 50-mer on either strand, such as overlapping \
                 genomic windows), so a group split cannot hold out a test or validation part: \
                 give --valid and --test files"
            )));
        }
    }
    let mut train_side: Vec<usize> = (0..n_train_file).collect();
    if spec.max_rows > 0 && spec.max_rows < train_side.len() {
        let f = spec.max_rows as f64 / train_side.len() as f64;
        train_side = split_groups(&train_side, &groups, f, dnalm_seq::mix64(spec.seed, 0x5E1)).0;
    }
    let test: Vec<usize> = match data.test {
        Some(_) => (n_train_file + n_valid_file..rows.len()).collect(),
        None => {
            let (t, rest) = split_groups(
                &train_side,
                &groups,
                spec.test_fraction,
                dnalm_seq::mix64(spec.seed, 0x7E57),
            );
            train_side = rest;
            t
        }
    };
    let valid: Vec<usize> = match data.valid {
        Some(_) => (n_train_file..n_train_file + n_valid_file).collect(),
        None => {
            let (v, rest) = split_groups(
                &train_side,
                &groups,
                spec.valid_fraction,
                dnalm_seq::mix64(spec.seed, 0x7A1),
            );
            train_side = rest;
            v
        }
    };
    let test_groups: rustc_hash::FxHashSet<usize> = test.iter().map(|&i| groups[i]).collect();
    let shared_with_test = train_side
        .iter()
        .chain(&valid)
        .filter(|&&i| test_groups.contains(&groups[i]))
        .count();
    let (ft, pred): (Vec<usize>, Vec<usize>) = if model.is_some() {
        split_groups(&train_side, &groups, spec.finetune_fraction, spec.seed)
    } else {
        (Vec::new(), train_side.clone())
    };
    both_classes(
        &format!("{train_name} (predictor training rows)"),
        pred.iter().map(|&i| labels[i]),
    )?;
    if model.is_some() {
        both_classes(
            &format!("{train_name} (fine-tuning rows)"),
            ft.iter().map(|&i| labels[i]),
        )?;
    }
    let valid_name = data
        .valid
        .map_or(format!("{train_name} (validation part)"), |v| {
            v.0.to_string()
        });
    let test_name = data
        .test
        .map_or(format!("{train_name} (test part)"), |v| v.0.to_string());
    both_classes(&valid_name, valid.iter().map(|&i| labels[i]))?;
    both_classes(&test_name, test.iter().map(|&i| labels[i]))?;

    // The rows the predictors see, numbered locally: train, valid, test.
    let local_rows: Vec<usize> = pred.iter().chain(&valid).chain(&test).copied().collect();
    let l_train: Vec<usize> = (0..pred.len()).collect();
    let l_valid: Vec<usize> = (pred.len()..pred.len() + valid.len()).collect();
    let l_test: Vec<usize> = (pred.len() + valid.len()..local_rows.len()).collect();
    let local_seqs: Vec<&[u8]> = local_rows.iter().map(|&i| seqs[i]).collect();
    let local_labels: Vec<u8> = local_rows.iter().map(|&i| labels[i]).collect();
    let valid_labels: Vec<u8> = l_valid.iter().map(|&i| local_labels[i]).collect();
    let test_labels: Vec<u8> = l_test.iter().map(|&i| local_labels[i]).collect();

    // Fine-tune (with an encoder).
    let mut finetune_updates = 0;
    let mut final_loss = f64::NAN;
    let mut classifier = None;
    let mut pretrained_only = None;
    let mut pad = 0;
    let mut local_examples = Vec::new();
    if let Some(model) = model {
        let tok = &model.tokenizer;
        pad = tok.vocab().specials().pad;
        let config = model.pretrained.config.clone();
        let pre_ft: Vec<&[u8]> = ft.iter().map(|&i| seqs[i]).collect();
        let ft_labels: Vec<u8> = ft.iter().map(|&i| labels[i]).collect();
        let ft_examples = examples(tok, &pre_ft, &ft_labels, spec.max_len)?;
        local_examples = examples(tok, &local_seqs, &local_labels, spec.max_len)?;
        let mlm = model.pretrained.model;
        pretrained_only = Some(
            BertForSequenceClassification::from_pretrained(
                mlm.clone(),
                &config,
                2,
                Pooling::Cls,
                spec.seed,
                device,
            )
            .valid(),
        );
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
        finetune_updates = losses.len();
        final_loss = losses.last().copied().unwrap_or(f64::NAN);
        classifier = Some(trained.valid());
    }
    // Encode.
    let inner = Device::flex();
    let mut encodings: Vec<(Encoding, Features)> = Vec::new();
    for &e in &spec.encodings {
        let f = match e {
            Encoding::OneHot => one_hot(&local_seqs),
            Encoding::Pretrained | Encoding::Finetuned => {
                let m = if e == Encoding::Pretrained {
                    pretrained_only.as_ref()
                } else {
                    classifier.as_ref()
                }
                .ok_or_else(|| {
                    TaskError::Config(format!("the {} encoding needs an encoder", e.name()))
                })?;
                let total = local_examples.len();
                encode(m, &local_examples, pad, 64, &inner, &mut |done| {
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
    let mut runs = Vec::new();
    let mut push = |encoding: &str,
                    predictor: &str,
                    repeat: usize,
                    valid_p: &[f64],
                    test_p: &[f64],
                    fitted: Option<&Fitted>,
                    seconds: f64,
                    on_event: &mut dyn FnMut(Event)|
     -> (BinaryMetrics, f64) {
        let threshold = best_mcc_threshold(valid_p, &valid_labels);
        let m = BinaryMetrics::compute(test_p, &test_labels);
        let tuned = BinaryMetrics::at(test_p, &test_labels, threshold);
        let intervals = bootstrap(
            test_p,
            &test_labels,
            threshold,
            spec.bootstrap,
            dnalm_seq::mix64(spec.seed, 0xB007),
        );
        let label = format!("{encoding} {predictor} #{repeat}");
        on_event(Event::Done {
            label: &label,
            metrics: &tuned,
        });
        runs.push(RunResult {
            encoding: encoding.into(),
            predictor: predictor.into(),
            repeat,
            train: pred.len(),
            metrics: m,
            tuned,
            intervals,
            best_epoch: fitted.map_or(0, |f| f.best_epoch),
            epochs: fitted.map_or(0, |f| f.history.len()),
            seconds,
            valid_auroc: crate::metrics::auroc(valid_p, &valid_labels),
            history: fitted.map(|f| f.history.clone()).unwrap_or_default(),
        });
        (tuned, threshold)
    };
    // The fine-tuned head's own probabilities.
    let mut classifier_threshold = 0.5;
    if let Some(clf) = &classifier {
        let ex_valid: Vec<_> = l_valid.iter().map(|&i| local_examples[i].clone()).collect();
        let ex_test: Vec<_> = l_test.iter().map(|&i| local_examples[i].clone()).collect();
        let head = |ex: &[dnalm_train::classify::ClassExample]| -> Result<Vec<f64>> {
            Ok(classify::predict(clf, ex, 128, pad, &inner)?
                .into_iter()
                .map(|p| p[1] as f64)
                .collect())
        };
        let (vp, tp) = (head(&ex_valid)?, head(&ex_test)?);
        classifier_threshold = push(
            "fine-tuned",
            "linear head",
            1,
            &vp,
            &tp,
            None,
            0.0,
            on_event,
        )
        .1;
    }
    if spec.tfidf_k > 0 {
        let started = std::time::Instant::now();
        let tr: Vec<&[u8]> = l_train.iter().map(|&i| local_seqs[i]).collect();
        let tl: Vec<u8> = l_train.iter().map(|&i| local_labels[i]).collect();
        let rest: Vec<&[u8]> = l_valid
            .iter()
            .chain(&l_test)
            .map(|&i| local_seqs[i])
            .collect();
        let p = tfidf_logistic(&tr, &tl, &rest, spec.tfidf_k, 1e-4, 300)?;
        let (vp, tp) = p.split_at(l_valid.len());
        push(
            &format!("tf-idf {}-mer", spec.tfidf_k),
            "logistic",
            1,
            vp,
            tp,
            None,
            started.elapsed().as_secs_f64(),
            on_event,
        );
    }
    let mut predictors: Vec<TrainedPredictor> = Vec::new();
    for (e, feats) in &encodings {
        for &kind in &spec.predictors {
            let mut best: Option<TrainedPredictor> = None;
            for r in 0..spec.repeats {
                let seed = dnalm_seq::mix64(spec.seed, 1000 + r as u64);
                let label = format!("{} {} #{}", e.name(), kind.name(), r + 1);
                let cfg = FitConfig { seed, ..spec.fit };
                let fitted = fit(
                    kind,
                    feats,
                    &local_labels,
                    &l_train,
                    &l_valid,
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
                let tp = predict(&fitted.model, feats, &l_test)?;
                let (tuned, threshold) = push(
                    e.name(),
                    kind.name(),
                    r + 1,
                    &fitted.valid_probs,
                    &tp,
                    Some(&fitted),
                    fitted.seconds,
                    on_event,
                );
                let valid_auroc = crate::metrics::auroc(&fitted.valid_probs, &valid_labels);
                if best.as_ref().is_none_or(|b| valid_auroc > b.valid_auroc) {
                    best = Some(TrainedPredictor {
                        encoding: *e,
                        fitted,
                        threshold,
                        valid_auroc,
                        test: tuned,
                    });
                }
            }
            predictors.extend(best);
        }
    }
    Ok(TrainOutcome {
        runs,
        summary: TrainSummary {
            rows: rows.len(),
            used_rows: pred.len() + ft.len() + valid.len() + test.len(),
            groups: n_groups,
            finetune_rows: ft.len(),
            predictor_rows: pred.len(),
            valid_rows: valid.len(),
            test_rows: test.len(),
            shared_with_test,
            finetune_updates,
            final_finetune_loss: final_loss,
            sequence_length: length,
        },
        predictors,
        classifier,
        pretrained: pretrained_only,
        classifier_threshold,
    })
}
