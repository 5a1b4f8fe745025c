//! The n-gram baseline at its best: counts of the next k bases after every
//! context of up to 24 bases in the training windows, and the context
//! length and smoothing ([`Smoothing`]) that do best on the validation
//! windows. Two rows per k: the setting with the best validation accuracy
//! and the one with the fewest validation bits per base (one row when they
//! agree). The test windows never choose anything.

use std::time::Instant;

use rayon::prelude::*;

use super::{check_k, score, NextKmerData, NextKmerResult, SplitIndex};
use crate::error::{Result, TaskError};
use crate::ngram::{NgramModel, Smoothing};

/// Context lengths tried on the validation windows.
pub const NGRAM_ORDERS: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24];

/// Smoothings tried on the validation windows.
pub const SMOOTHINGS: [Smoothing; 5] = [
    Smoothing::Backoff { min_count: 1 },
    Smoothing::Backoff { min_count: 3 },
    Smoothing::WittenBell,
    Smoothing::Dirichlet(0.5),
    Smoothing::Dirichlet(4.0),
];

/// A validated n-gram setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NgramChoice {
    pub order: usize,
    pub smoothing: Smoothing,
    pub valid_accuracy: f64,
    pub valid_bits: f64,
}

/// Validation accuracy and bits of every (smoothing, order) up to
/// `max_order`.
fn grid(
    model: &NgramModel,
    data: &NextKmerData,
    valid: &[usize],
    k: usize,
    max_order: usize,
) -> Vec<NgramChoice> {
    let orders: Vec<usize> = NGRAM_ORDERS
        .iter()
        .copied()
        .filter(|&o| o <= max_order)
        .collect();
    let labels: Vec<u32> = valid.iter().map(|&i| data.label(i, k)).collect();
    let mut out = Vec::new();
    for smoothing in SMOOTHINGS {
        // Per order: the distributions of every validation window.
        let per_window: Vec<Vec<Vec<f64>>> = valid
            .par_iter()
            .map(|&i| model.distributions(data.input(i), smoothing, &orders))
            .collect();
        for (j, &order) in orders.iter().enumerate() {
            let probs: Vec<Vec<f64>> = per_window.iter().map(|d| d[j].clone()).collect();
            let (acc, _, bits) = score(&probs, &labels, k);
            out.push(NgramChoice {
                order,
                smoothing,
                valid_accuracy: acc,
                valid_bits: bits,
            });
        }
    }
    out
}

/// The n-gram rows for `k`: fitted on `split.train`, chosen on
/// `split.valid` (or, with no validation part, the `max_order`-gram with
/// backoff, as before validation existed), scored on `split.test`.
pub fn ngram_rows(
    data: &NextKmerData,
    split: &SplitIndex,
    k: usize,
    max_order: usize,
) -> Result<Vec<NextKmerResult>> {
    let train = split.train.iter().map(|&i| data.windows[i].seq.as_slice());
    ngram_rows_from(data, split, k, max_order, train, split.train.len(), "")
}

/// [`ngram_rows`] with the counts taken over every base of the training
/// side of the genome (`sides.train`), as the base-level LM learns from
/// them; the predictor's name says so.
pub fn genome_ngram_rows(
    data: &NextKmerData,
    split: &SplitIndex,
    k: usize,
    max_order: usize,
    sides: &super::GenomeSides,
) -> Result<Vec<NextKmerResult>> {
    let train = sides.train.iter().map(Vec::as_slice);
    ngram_rows_from(
        data,
        split,
        k,
        max_order,
        train,
        sides.train_bases(),
        ", training side",
    )
}

fn ngram_rows_from<'a>(
    data: &'a NextKmerData,
    split: &'a SplitIndex,
    k: usize,
    max_order: usize,
    train: impl Iterator<Item = &'a [u8]>,
    fitted_on: usize,
    label: &str,
) -> Result<Vec<NextKmerResult>> {
    check_k(data, k)?;
    crate::ngram::check_order(max_order)?;
    let started = Instant::now();
    let queries = split
        .valid
        .iter()
        .chain(&split.test)
        .map(|&i| data.input(i));
    let model = NgramModel::fit(k, max_order, train, queries)?;
    let choices = if split.valid.is_empty() {
        vec![NgramChoice {
            order: max_order,
            smoothing: Smoothing::Backoff { min_count: 1 },
            valid_accuracy: f64::NAN,
            valid_bits: f64::NAN,
        }]
    } else {
        let g = grid(&model, data, &split.valid, k, max_order);
        let by_acc = *g
            .iter()
            .max_by(|a, b| a.valid_accuracy.total_cmp(&b.valid_accuracy))
            .ok_or_else(|| TaskError::Data("no n-gram setting to try".into()))?;
        let by_bits = *g
            .iter()
            .min_by(|a, b| a.valid_bits.total_cmp(&b.valid_bits))
            .expect("non-empty grid");
        if by_acc == by_bits {
            vec![by_acc]
        } else {
            vec![by_acc, by_bits]
        }
    };
    let labels: Vec<u32> = split.test.iter().map(|&i| data.label(i, k)).collect();
    let mut rows = Vec::new();
    for (n, c) in choices.iter().enumerate() {
        let probs: Vec<Vec<f64>> = split
            .test
            .par_iter()
            .map(|&i| {
                let mut d = model.distributions(data.input(i), c.smoothing, &[c.order]);
                d.pop().expect("one order")
            })
            .collect();
        let (accuracy, top5_accuracy, bits_per_base) = score(&probs, &labels, k);
        let why = match (split.valid.is_empty(), n, choices.len()) {
            (true, ..) => "no validation part: not tuned".to_string(),
            (false, _, 1) => format!(
                "best validation accuracy ({:.2}%) and bits per base ({:.4})",
                100.0 * c.valid_accuracy,
                c.valid_bits
            ),
            (false, 0, _) => format!(
                "best validation accuracy ({:.2}%)",
                100.0 * c.valid_accuracy
            ),
            (false, ..) => format!("fewest validation bits per base ({:.4})", c.valid_bits),
        };
        rows.push(NextKmerResult {
            split: split.mode.clone(),
            k,
            predictor: format!("{}-gram ({}{label})", c.order, c.smoothing),
            train: fitted_on,
            test: split.test.len(),
            accuracy,
            top5_accuracy,
            bits_per_base,
            chance: 1.0 / 4f64.powi(k as i32),
            epochs: None,
            best_epoch: None,
            seconds: started.elapsed().as_secs_f64(),
            tokens_per_s: None,
            note: why,
        });
    }
    Ok(rows)
}
