//! Fitting the neural next-k-mer predictors, all the same way: one
//! classifier over the `4^kmax` continuations, trained on the training
//! windows for up to `epochs` epochs, the validation windows scored after
//! each, early stopping, the best epoch kept, then the test windows scored.
//!
//! - a pre-trained encoder with a classification head on [CLS]
//!   ([`BertStart::Pretrained`]);
//! - the same architecture and tokenizer from random weights
//!   ([`BertStart::Scratch`]), the control that says whether pre-training
//!   helped;
//! - a small CNN on the bases ([`dnalm_model::KmerCnn`]), no tokenizer.

use std::time::Instant;

use burn::module::Module;
use dnalm_model::{BertForSequenceClassification, Device, KmerCnn, KmerCnnConfig, Pooling};
use dnalm_tokenizers::Tokenizer;
use dnalm_train::classify::{
    self, ClassExample, Classifier, ClassifyConfig, ClassifyStep, EpochLog,
};
use serde::Serialize;

use super::{check_k, NextKmerData, Scores, SplitIndex};
use crate::error::{Result, TaskError};
use crate::model::TaskModel;

/// How a predictor was fitted, for its rows and the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FitSummary {
    pub predictor: String,
    /// Training windows (bases, for the base-level language model).
    pub train: usize,
    pub epochs: Option<usize>,
    pub best_epoch: Option<usize>,
    /// Fitting and scoring.
    pub seconds: f64,
    pub tokens_per_s: Option<f64>,
    pub note: String,
    /// Per epoch (or evaluation): training loss and validation loss.
    pub curve: Vec<EpochLog>,
}

/// Where a BERT predictor's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BertStart {
    /// The pre-trained encoder; new pooler and head.
    Pretrained,
    /// The same configuration from random weights (seeded).
    Scratch,
}

/// Classes of the joint head.
fn classes(data: &NextKmerData, kmax: usize) -> Result<usize> {
    check_k(data, kmax)?;
    Ok(1usize << (2 * kmax))
}

/// The training, validation and test examples of `split`: inputs through
/// `encode`, labels the next `kmax` bases.
fn examples(
    data: &NextKmerData,
    split: &SplitIndex,
    kmax: usize,
    encode: &dyn Fn(&[u8]) -> Result<Vec<u32>>,
) -> Result<[Vec<ClassExample>; 3]> {
    let part = |idx: &[usize]| -> Result<Vec<ClassExample>> {
        idx.iter()
            .map(|&i| {
                Ok(ClassExample {
                    ids: encode(data.input(i))?,
                    label: data.label(i, kmax),
                })
            })
            .collect()
    };
    Ok([part(&split.train)?, part(&split.valid)?, part(&split.test)?])
}

/// Train `model` with validation and score the test windows.
#[allow(clippy::too_many_arguments)]
fn fit_and_score<M: Classifier>(
    model: M,
    train: &[ClassExample],
    valid: &[ClassExample],
    test: &[ClassExample],
    cfg: &ClassifyConfig,
    patience: usize,
    pad: u32,
    device: &Device,
    on_step: &mut dyn FnMut(&ClassifyStep),
) -> Result<(Vec<Vec<f32>>, classify::Validated<M>, f64)> {
    let started = Instant::now();
    let inner = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    let fitted = classify::finetune_validated(
        model, train, valid, cfg, patience, pad, device, &inner, on_step,
    )?;
    let train_seconds = started.elapsed().as_secs_f64();
    let probs = classify::predict(&fitted.model, test, 256, pad, &inner)?;
    Ok((probs, fitted, train_seconds))
}

fn summary<M>(
    predictor: String,
    train: &[ClassExample],
    fitted: &classify::Validated<M>,
    train_seconds: f64,
    started: Instant,
    note: String,
) -> FitSummary {
    let tokens: usize = train.iter().map(|e| e.ids.len()).sum();
    let epochs = fitted.epochs.len();
    FitSummary {
        predictor,
        train: train.len(),
        epochs: Some(epochs),
        best_epoch: Some(fitted.best_epoch),
        seconds: started.elapsed().as_secs_f64(),
        tokens_per_s: Some((tokens * epochs) as f64 / train_seconds.max(1e-9)),
        note,
        curve: fitted.epochs.clone(),
    }
}

/// A BERT predictor from `model` (opened on the autodiff `device`):
/// pre-trained or from scratch, inputs framed `[CLS] tokens [SEP]` to at
/// most `max_len` tokens.
#[allow(clippy::too_many_arguments)]
pub fn bert_scores(
    name: &str,
    model: TaskModel,
    start: BertStart,
    data: &NextKmerData,
    split: &SplitIndex,
    kmax: usize,
    max_len: usize,
    cfg: &ClassifyConfig,
    patience: usize,
    device: &Device,
    on_step: &mut dyn FnMut(&ClassifyStep),
) -> Result<(Scores, FitSummary)> {
    let started = Instant::now();
    let n = classes(data, kmax)?;
    let [train, valid, test] = examples(data, split, kmax, &|seq| model.frame(seq, max_len))?;
    let pad = model.tokenizer.vocab().specials().pad;
    let config = model.pretrained.config.clone();
    let clf = match start {
        BertStart::Pretrained => BertForSequenceClassification::from_pretrained(
            model.pretrained.model,
            &config,
            n,
            Pooling::Cls,
            cfg.seed,
            device,
        ),
        BertStart::Scratch => dnalm_model::seeded(cfg.seed, || {
            BertForSequenceClassification::new(&config, n, Pooling::Cls, device)
        }),
    };
    let (probs, fitted, secs) = fit_and_score(
        clf, &train, &valid, &test, cfg, patience, pad, device, on_step,
    )?;
    let tokens = train.iter().map(|e| e.ids.len()).sum::<usize>() as f64 / train.len() as f64;
    let (label, how) = match start {
        BertStart::Pretrained => (name.to_string(), "pre-trained"),
        BertStart::Scratch => (format!("{name} (from scratch)"), "random weights"),
    };
    let note = format!(
        "{how}, {} layers x {}; {tokens:.0} tokens per input; {}-way head on [CLS]",
        config.num_hidden_layers, config.hidden_size, n
    );
    let summary = summary(label, &train, &fitted, secs, started, note);
    Ok((Scores { kmax, probs }, summary))
}

/// The base's 2-bit code (A, C, G, T = 0..4).
fn base_id(b: u8) -> Result<u32> {
    match b {
        b'A' => Ok(0),
        b'C' => Ok(1),
        b'G' => Ok(2),
        b'T' => Ok(3),
        _ => Err(TaskError::Data(format!(
            "the base CNN reads A/C/G/T only, got {:?}",
            b as char
        ))),
    }
}

/// The control without pre-training and without a tokenizer: a small CNN
/// on the input bases ([`KmerCnn`]).
pub fn base_cnn_scores(
    data: &NextKmerData,
    split: &SplitIndex,
    kmax: usize,
    cfg: &ClassifyConfig,
    patience: usize,
    device: &Device,
    on_step: &mut dyn FnMut(&ClassifyStep),
) -> Result<(Scores, FitSummary)> {
    let started = Instant::now();
    let n = classes(data, kmax)?;
    let [train, valid, test] = examples(data, split, kmax, &|seq| {
        seq.iter().map(|&b| base_id(b)).collect()
    })?;
    let c = KmerCnnConfig::new(data.spec.input, n);
    let model = dnalm_model::seeded(cfg.seed, || KmerCnn::new(&c, device))?;
    let params = model.num_params();
    let (probs, fitted, secs) = fit_and_score(
        model, &train, &valid, &test, cfg, patience, 0, device, on_step,
    )?;
    let note = format!(
        "one-hot bases, 2 convolutions of {} x width {}, {} dense units; {params} parameters",
        c.channels, c.width, c.hidden
    );
    let summary = summary(
        "base CNN (no pre-training)".into(),
        &train,
        &fitted,
        secs,
        started,
        note,
    );
    Ok((Scores { kmax, probs }, summary))
}

/// The n-gram's neural successor: a causal language model over single
/// bases ([`crate::base_lm`]) trained on the training side of the genome
/// (validation pieces for early stopping), scoring all `4^kmax`
/// continuations of each test input exactly (product of next-base
/// probabilities). Returns its training curve too.
pub fn base_lm_scores(
    data: &NextKmerData,
    split: &SplitIndex,
    sides: &super::GenomeSides,
    kmax: usize,
    cfg: &crate::base_lm::BaseLmConfig,
    on_step: &mut dyn FnMut(&crate::base_lm::BaseLmStep),
    on_scored: &mut dyn FnMut(usize),
) -> Result<(Scores, FitSummary, Vec<crate::base_lm::CurvePoint>)> {
    let started = Instant::now();
    check_k(data, kmax)?;
    let run = crate::base_lm::train_base_lm(&sides.train, &sides.valid, cfg, on_step)?;
    let inputs: Vec<&[u8]> = split.test.iter().map(|&i| data.input(i)).collect();
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    let logp =
        crate::base_lm::score_continuations(&run.model, &inputs, kmax, 64, &device, on_scored)?;
    let probs = logp
        .into_iter()
        .map(|l| l.into_iter().map(f32::exp).collect())
        .collect();
    let tokens = run.steps as f64 * (cfg.batch_size * cfg.context) as f64;
    let note = format!(
        "causal, {} layers x {}, context {}; {} training and {} validation bases; {} updates of \
         {} windows ({}), best held-out {:.4} bits per base at update {}; {:.0} s training",
        cfg.layers,
        cfg.hidden,
        cfg.context,
        sides.train_bases(),
        sides.valid_bases(),
        run.steps,
        cfg.batch_size,
        run.stop,
        run.best_valid_bits,
        run.best_step,
        run.seconds
    );
    let summary = FitSummary {
        predictor: "base-level causal LM".into(),
        train: sides.train_bases(),
        epochs: None,
        best_epoch: None,
        seconds: started.elapsed().as_secs_f64(),
        tokens_per_s: Some(tokens / run.seconds.max(1e-9)),
        note,
        curve: Vec::new(),
    };
    Ok((Scores { kmax, probs }, summary, run.curve))
}
