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
use dnalm_train::classify::{self, ClassExample, ClassifyConfig};
use serde::Serialize;

use super::baseline::tfidf_logistic;
use super::features::{encode, examples, one_hot, Features};
use super::fit::{fit, predict, EpochLog, FitConfig, Fitted};
use super::loaders::LabelledRow;
use super::partition::{split_rows, LocalRows, RowSplit, RowTable};
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

/// What fine-tuning gave (all empty without an encoder).
struct Finetuned {
    updates: usize,
    final_loss: f64,
    classifier: Option<BertForSequenceClassification>,
    pretrained: Option<BertForSequenceClassification>,
    pad: u32,
    /// The local rows as token ids (empty without an encoder).
    examples: Vec<ClassExample>,
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
    check_encoder(model.is_some(), spec)?;
    let table = RowTable::assemble(&data)?;
    let split = split_rows(&table, &data, spec, model.is_some())?;
    let local = LocalRows::new(&table, &split);
    let tuned = match model {
        Some(model) => finetune(model, &table, &split, &local, spec, device, on_event)?,
        None => Finetuned::none(),
    };
    let inner = Device::flex();
    let encodings = encode_all(spec, &local, &tuned, &inner, on_event)?;
    let mut scorer = Scorer {
        spec,
        local: &local,
        train: split.predictor.len(),
        runs: Vec::new(),
    };
    let classifier_threshold = score_head(&mut scorer, &tuned, &inner, on_event)?;
    tfidf_baseline(&mut scorer, on_event)?;
    let predictors = train_predictors(&mut scorer, &encodings, on_event)?;
    Ok(TrainOutcome {
        runs: scorer.runs,
        summary: summarise(&table, &split, &tuned),
        predictors,
        classifier: tuned.classifier,
        pretrained: tuned.pretrained,
        classifier_threshold,
    })
}

fn check_encoder(has_model: bool, spec: &TrainSpec) -> Result<()> {
    if has_model {
        return Ok(());
    }
    match spec.encodings.iter().find(|&&e| e != Encoding::OneHot) {
        Some(e) => Err(TaskError::Config(format!(
            "the {} encoding needs an encoder (--model)",
            e.name()
        ))),
        None => Ok(()),
    }
}

impl Finetuned {
    fn none() -> Self {
        Self {
            updates: 0,
            final_loss: f64::NAN,
            classifier: None,
            pretrained: None,
            pad: 0,
            examples: Vec::new(),
        }
    }
}

/// Fine-tune the encoder ([CLS] + linear head) on the fine-tuning rows, and
/// keep the pre-trained encoder as a classifier body beside it.
fn finetune(
    model: TaskModel,
    table: &RowTable,
    split: &RowSplit,
    local: &LocalRows,
    spec: &TrainSpec,
    device: &Device,
    on_event: &mut dyn FnMut(Event),
) -> Result<Finetuned> {
    let tok = &model.tokenizer;
    let pad = tok.vocab().specials().pad;
    let config = model.pretrained.config.clone();
    let pre_ft: Vec<&[u8]> = split.finetune.iter().map(|&i| table.seqs[i]).collect();
    let ft_labels: Vec<u8> = split.finetune.iter().map(|&i| table.labels[i]).collect();
    let ft_examples = examples(tok, &pre_ft, &ft_labels, spec.max_len)?;
    let local_examples = examples(tok, &local.seqs, &local.labels, spec.max_len)?;
    let mlm = model.pretrained.model;
    let body = |mlm| {
        BertForSequenceClassification::from_pretrained(
            mlm,
            &config,
            2,
            Pooling::Cls,
            spec.seed,
            device,
        )
    };
    let pretrained = body(mlm.clone()).valid();
    let (trained, losses) = classify::finetune(
        body(mlm),
        &ft_examples,
        &spec.finetune,
        pad,
        device,
        &mut |s| {
            on_event(Event::Finetune {
                step: s.step,
                total: s.total,
                loss: s.loss,
            })
        },
    )?;
    Ok(Finetuned {
        updates: losses.len(),
        final_loss: losses.last().copied().unwrap_or(f64::NAN),
        classifier: Some(trained.valid()),
        pretrained: Some(pretrained),
        pad,
        examples: local_examples,
    })
}

/// The features of the local rows under each requested encoding.
fn encode_all(
    spec: &TrainSpec,
    local: &LocalRows,
    tuned: &Finetuned,
    inner: &Device,
    on_event: &mut dyn FnMut(Event),
) -> Result<Vec<(Encoding, Features)>> {
    let mut encodings: Vec<(Encoding, Features)> = Vec::new();
    for &e in &spec.encodings {
        let f = match e {
            Encoding::OneHot => one_hot(&local.seqs),
            Encoding::Pretrained | Encoding::Finetuned => {
                let m = if e == Encoding::Pretrained {
                    tuned.pretrained.as_ref()
                } else {
                    tuned.classifier.as_ref()
                }
                .ok_or_else(|| {
                    TaskError::Config(format!("the {} encoding needs an encoder", e.name()))
                })?;
                let total = tuned.examples.len();
                encode(m, &tuned.examples, tuned.pad, 64, inner, &mut |done| {
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
    Ok(encodings)
}

/// Scores a predictor's validation and test probabilities and collects the
/// runs.
struct Scorer<'s, 'a> {
    spec: &'s TrainSpec,
    local: &'s LocalRows<'a>,
    /// Predictor training rows.
    train: usize,
    runs: Vec<RunResult>,
}

/// One predictor's probabilities, with what the run record needs.
struct Scored<'p> {
    encoding: &'p str,
    predictor: &'p str,
    repeat: usize,
    valid_p: &'p [f64],
    test_p: &'p [f64],
    fitted: Option<&'p Fitted>,
    seconds: f64,
}

impl Scorer<'_, '_> {
    /// Record the run; returns the tuned test metrics and the threshold
    /// chosen on validation.
    fn push(&mut self, s: Scored, on_event: &mut dyn FnMut(Event)) -> (BinaryMetrics, f64) {
        let (valid_labels, test_labels) = (&self.local.valid_labels, &self.local.test_labels);
        let threshold = best_mcc_threshold(s.valid_p, valid_labels);
        let m = BinaryMetrics::compute(s.test_p, test_labels);
        let tuned = BinaryMetrics::at(s.test_p, test_labels, threshold);
        let intervals = bootstrap(
            s.test_p,
            test_labels,
            threshold,
            self.spec.bootstrap,
            dnalm_seq::mix64(self.spec.seed, 0xB007),
        );
        let label = format!("{} {} #{}", s.encoding, s.predictor, s.repeat);
        on_event(Event::Done {
            label: &label,
            metrics: &tuned,
        });
        self.runs.push(RunResult {
            encoding: s.encoding.into(),
            predictor: s.predictor.into(),
            repeat: s.repeat,
            train: self.train,
            metrics: m,
            tuned,
            intervals,
            best_epoch: s.fitted.map_or(0, |f| f.best_epoch),
            epochs: s.fitted.map_or(0, |f| f.history.len()),
            seconds: s.seconds,
            valid_auroc: crate::metrics::auroc(s.valid_p, valid_labels),
            history: s.fitted.map(|f| f.history.clone()).unwrap_or_default(),
        });
        (tuned, threshold)
    }
}

/// Score the fine-tuned head's own probabilities; returns its threshold
/// (0.5 without an encoder).
fn score_head(
    scorer: &mut Scorer,
    tuned: &Finetuned,
    inner: &Device,
    on_event: &mut dyn FnMut(Event),
) -> Result<f64> {
    let Some(clf) = &tuned.classifier else {
        return Ok(0.5);
    };
    let local = scorer.local;
    let ex_valid: Vec<_> = local
        .valid
        .iter()
        .map(|&i| tuned.examples[i].clone())
        .collect();
    let ex_test: Vec<_> = local
        .test
        .iter()
        .map(|&i| tuned.examples[i].clone())
        .collect();
    let head = |ex: &[ClassExample]| -> Result<Vec<f64>> {
        Ok(classify::predict(clf, ex, 128, tuned.pad, inner)?
            .into_iter()
            .map(|p| p[1] as f64)
            .collect())
    };
    let (vp, tp) = (head(&ex_valid)?, head(&ex_test)?);
    let scored = Scored {
        encoding: "fine-tuned",
        predictor: "linear head",
        repeat: 1,
        valid_p: &vp,
        test_p: &tp,
        fitted: None,
        seconds: 0.0,
    };
    Ok(scorer.push(scored, on_event).1)
}

/// The tf-idf k-mer + logistic regression baseline (skipped when k is 0).
fn tfidf_baseline(scorer: &mut Scorer, on_event: &mut dyn FnMut(Event)) -> Result<()> {
    let (spec, local) = (scorer.spec, scorer.local);
    if spec.tfidf_k == 0 {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let tr: Vec<&[u8]> = local.train.iter().map(|&i| local.seqs[i]).collect();
    let tl: Vec<u8> = local.train.iter().map(|&i| local.labels[i]).collect();
    let rest: Vec<&[u8]> = local
        .valid
        .iter()
        .chain(&local.test)
        .map(|&i| local.seqs[i])
        .collect();
    let p = tfidf_logistic(&tr, &tl, &rest, spec.tfidf_k, 1e-4, 300)?;
    let (vp, tp) = p.split_at(local.valid.len());
    let name = format!("tf-idf {}-mer", spec.tfidf_k);
    let scored = Scored {
        encoding: &name,
        predictor: "logistic",
        repeat: 1,
        valid_p: vp,
        test_p: tp,
        fitted: None,
        seconds: started.elapsed().as_secs_f64(),
    };
    scorer.push(scored, on_event);
    Ok(())
}

/// Train every (encoding, predictor) `repeats` times; keep the repeat with
/// the best validation AUROC of each.
fn train_predictors(
    scorer: &mut Scorer,
    encodings: &[(Encoding, Features)],
    on_event: &mut dyn FnMut(Event),
) -> Result<Vec<TrainedPredictor>> {
    let mut predictors: Vec<TrainedPredictor> = Vec::new();
    for (e, feats) in encodings {
        for &kind in &scorer.spec.predictors {
            let mut best: Option<TrainedPredictor> = None;
            for r in 0..scorer.spec.repeats {
                let trained = train_once(scorer, *e, feats, kind, r, on_event)?;
                if best
                    .as_ref()
                    .is_none_or(|b| trained.valid_auroc > b.valid_auroc)
                {
                    best = Some(trained);
                }
            }
            predictors.extend(best);
        }
    }
    Ok(predictors)
}

/// Repeat `r` (0-based) of one (encoding, predictor).
fn train_once(
    scorer: &mut Scorer,
    encoding: Encoding,
    feats: &Features,
    kind: PredictorKind,
    r: usize,
    on_event: &mut dyn FnMut(Event),
) -> Result<TrainedPredictor> {
    let (spec, local) = (scorer.spec, scorer.local);
    let seed = dnalm_seq::mix64(spec.seed, 1000 + r as u64);
    let label = format!("{} {} #{}", encoding.name(), kind.name(), r + 1);
    let cfg = FitConfig { seed, ..spec.fit };
    let fitted = fit(
        kind,
        feats,
        &local.labels,
        &local.train,
        &local.valid,
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
    let tp = predict(&fitted.model, feats, &local.test)?;
    let scored = Scored {
        encoding: encoding.name(),
        predictor: kind.name(),
        repeat: r + 1,
        valid_p: &fitted.valid_probs,
        test_p: &tp,
        fitted: Some(&fitted),
        seconds: fitted.seconds,
    };
    let (tuned, threshold) = scorer.push(scored, on_event);
    let valid_auroc = crate::metrics::auroc(&fitted.valid_probs, &local.valid_labels);
    Ok(TrainedPredictor {
        encoding,
        fitted,
        threshold,
        valid_auroc,
        test: tuned,
    })
}

fn summarise(table: &RowTable, split: &RowSplit, tuned: &Finetuned) -> TrainSummary {
    let (ft, pred) = (split.finetune.len(), split.predictor.len());
    let (valid, test) = (split.valid.len(), split.test.len());
    TrainSummary {
        rows: table.seqs.len(),
        used_rows: pred + ft + valid + test,
        groups: table.n_groups,
        finetune_rows: ft,
        predictor_rows: pred,
        valid_rows: valid,
        test_rows: test,
        shared_with_test: split.shared_with_test,
        finetune_updates: tuned.updates,
        final_finetune_loss: tuned.final_loss,
        sequence_length: table.length,
    }
}
