//! `dnalm nextkmer`: wiring for `dnalm_tasks::nextkmer`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dnalm_seq::{RecordSelector, SplitMode};
use dnalm_tasks::model::TaskModel;
use dnalm_tasks::nextkmer::{
    model_result, ngram_result, write_report, NextKmerData, NextKmerSpec, NextKmerSummary,
    SplitIndex,
};
use dnalm_train::classify::ClassifyConfig;
use tracing::info;

use crate::args::{NextkmerArgs, SplitChoice};
use crate::input::show_path;

/// `NAME=DIR` pairs, checked before any work.
pub fn parse_models(specs: &[String]) -> Result<Vec<(String, PathBuf)>> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for s in specs {
        let Some((name, dir)) = s.split_once('=') else {
            bail!("--model {s:?}: expected NAME=DIR, e.g. --model hybrid=run-hybrid/");
        };
        if name.is_empty() || dir.is_empty() {
            bail!("--model {s:?}: expected NAME=DIR with both parts");
        }
        if out.iter().any(|(n, _)| n == name) {
            bail!("--model {name}: given twice");
        }
        dnalm_tasks::model::model_dir(std::path::Path::new(dir))?;
        out.push((name.to_string(), PathBuf::from(dir)));
    }
    Ok(out)
}

pub fn run(a: NextkmerArgs) -> Result<()> {
    let models = parse_models(&a.models)?;
    for &k in &a.k {
        if !(1..=6).contains(&k) {
            bail!("--k {k}: each k must be in 1..=6 (the label is the 6 bases after the input at most)");
        }
    }
    dnalm_tasks::ngram::check_order(a.ngram_order).context("--ngram-order")?;
    if !(0.0 < a.test_fraction && a.test_fraction < 1.0) {
        bail!("--test-fraction {} must be in (0, 1)", a.test_fraction);
    }
    // Open every model (and check its tokenizer) before the long work.
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?.autodiff();
    for (name, dir) in &models {
        TaskModel::open(dir, None, &device).with_context(|| format!("--model {name}"))?;
    }
    let spec = NextKmerSpec {
        window: a.window,
        samples: a.samples,
        seed: a.seed,
        ..NextKmerSpec::default()
    };
    let select = RecordSelector::new(&a.select, a.select_regex.as_deref())?;
    let size = std::fs::metadata(&a.genome)
        .with_context(|| format!("cannot read {}", show_path(&a.genome)))?
        .len();
    let pb = crate::progress::spinner(format!("sampling windows from {}", show_path(&a.genome)));
    let data = NextKmerData::from_fasta(&a.genome, &spec, &select, |b| {
        pb.set_message(format!(
            "sampling windows: {b} bases read ({size} bytes on disk)"
        ))
    })?;
    pb.finish_and_clear();
    info!(
        "{} windows of {} nt sampled from {} in {} record(s)",
        data.windows.len(),
        spec.window,
        data.candidates,
        data.records.len()
    );
    let mut splits: Vec<SplitIndex> = Vec::new();
    let position = SplitMode::Position {
        block_len: a.block_len,
    };
    match a.split {
        SplitChoice::Position => splits.push(data.split(position, a.test_fraction, a.seed)?),
        SplitChoice::Random => {
            splits.push(data.split(SplitMode::Random, a.test_fraction, a.seed)?)
        }
        SplitChoice::Both => {
            splits.push(data.split(position, a.test_fraction, a.seed)?);
            splits.push(data.split(SplitMode::Random, a.test_fraction, a.seed)?);
        }
    }
    let mut rows = Vec::new();
    for split in &splits {
        info!(
            "{} split: {} training, {} test windows, {} dropped",
            split.mode,
            split.train.len(),
            split.test.len(),
            split.dropped
        );
        for &k in &a.k {
            let r = ngram_result(&data, split, k, a.ngram_order, a.ngram_min_count)?;
            info!(
                "{} split, k = {k}: {}: accuracy {:.2}% (top-5 {:.2}%, chance {:.3}%)",
                split.mode,
                r.predictor,
                100.0 * r.accuracy,
                100.0 * r.top5_accuracy,
                100.0 * r.chance
            );
            rows.push(r);
            for (name, dir) in &models {
                let model = TaskModel::open(dir, None, &device)?;
                let mut sub = split.clone();
                if a.max_train > 0 && sub.train.len() > a.max_train {
                    sub.train = dnalm_seq::reservoir_sample(sub.train, a.max_train, a.seed);
                }
                let cfg = ClassifyConfig {
                    lr: a.lr,
                    epochs: a.epochs,
                    batch_size: a.batch_size,
                    seed: a.seed,
                    ..ClassifyConfig::default()
                };
                let per_epoch = sub.train.len().div_ceil(a.batch_size.max(1)) as u64;
                let pb = crate::progress::bar(
                    per_epoch * a.epochs as u64,
                    format!("{name} k={k} ({})", split.mode),
                );
                let r = model_result(
                    name,
                    model,
                    &data,
                    &sub,
                    k,
                    a.max_len,
                    &cfg,
                    &device,
                    &mut |s| {
                        pb.set_position(s.step);
                        pb.set_message(format!("loss {:.3}", s.loss));
                    },
                )
                .with_context(|| format!("--model {name}, k = {k}"))?;
                pb.finish_and_clear();
                info!(
                    "{} split, k = {k}: {name}: accuracy {:.2}% (top-5 {:.2}%) after {} training windows",
                    split.mode,
                    100.0 * r.accuracy,
                    100.0 * r.top5_accuracy,
                    r.train
                );
                rows.push(r);
            }
        }
    }
    let summary = NextKmerSummary {
        genome: show_path(&a.genome),
        records: data.records.clone(),
        candidates: data.candidates,
        sampled: data.windows.len(),
        window: spec.window,
        keep: spec.keep,
        input: spec.input,
        test_fraction: a.test_fraction,
        splits: splits
            .iter()
            .map(|s| (s.mode.clone(), s.train.len(), s.test.len(), s.dropped))
            .collect(),
    };
    write_report(&a.out_dir, &summary, &rows)?;
    info!("report: {}", a.out_dir.join("results.md").display());
    Ok(())
}
