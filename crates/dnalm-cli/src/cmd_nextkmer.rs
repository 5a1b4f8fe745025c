//! `dnalm nextkmer`: wiring for `dnalm_tasks::nextkmer`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dnalm_seq::{RecordSelector, SplitMode};
use dnalm_tasks::base_lm::BaseLmConfig;
use dnalm_tasks::model::TaskModel;
use dnalm_tasks::nextkmer::{
    base_cnn_scores, base_lm_scores, bert_scores, genome_ngram_rows, genome_sides, ngram_rows,
    rows_from_scores, write_report, BertStart, FitSummary, GenomeSides, NextKmerData,
    NextKmerResult, NextKmerSpec, NextKmerSummary, Parts, Scores, SplitIndex,
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

/// Checks every flag before the long work.
fn check_args(a: &NextkmerArgs) -> Result<()> {
    if a.k.is_empty() {
        bail!("--k: give at least one k");
    }
    for &k in &a.k {
        if !(1..=6).contains(&k) {
            bail!("--k {k}: each k must be in 1..=6 (the label is the 6 bases after the input at most)");
        }
    }
    dnalm_tasks::ngram::check_order(a.ngram_order).context("--ngram-order")?;
    if !(0.0 < a.test_fraction && a.test_fraction < 1.0) {
        bail!("--test-fraction {} must be in (0, 1)", a.test_fraction);
    }
    if !(0.0 < a.valid_fraction && a.valid_fraction < 1.0) {
        bail!(
            "--valid-fraction {} must be in (0, 1): the validation windows choose the n-gram's \
             settings and each model's epoch",
            a.valid_fraction
        );
    }
    if a.epochs == 0 || a.patience == 0 || a.batch_size == 0 {
        bail!("--epochs, --patience and --batch-size must be at least 1");
    }
    if a.ngram_genome && a.split == SplitChoice::Random {
        bail!("--ngram-genome counts the training side of the genome: it needs the position split");
    }
    if let Some(b) = &a.base_lm_budget {
        crate::duration::parse_duration(b, "--base-lm-budget")?;
        if a.base_lm_steps == 0 {
            bail!("--base-lm-steps must be at least 1");
        }
        if a.split == SplitChoice::Random {
            bail!(
                "--base-lm-budget trains on the training side of the genome: it needs the \
                 position split (--split position or both)"
            );
        }
    }
    Ok(())
}

/// The base-level causal LM's rows (position split only) and its curve
/// in `base_lm_curve.tsv`.
fn base_lm_rows(
    a: &NextkmerArgs,
    data: &NextKmerData,
    split: &SplitIndex,
    sides: &GenomeSides,
    kmax: usize,
    fits: &mut Vec<FitSummary>,
) -> Result<Vec<NextKmerResult>> {
    let (Some(budget), SplitMode::Position { .. }) = (&a.base_lm_budget, split_mode(a, split))
    else {
        return Ok(Vec::new());
    };
    let budget = crate::duration::parse_duration(budget, "--base-lm-budget")?;
    info!(
        "base-level LM: {} training and {} validation bases, {} budget",
        sides.train_bases(),
        sides.valid_bases(),
        indicatif::HumanDuration(budget)
    );
    let cfg = BaseLmConfig {
        time_budget: Some(budget),
        max_steps: a.base_lm_steps,
        seed: a.seed,
        ..BaseLmConfig::default()
    };
    let pb = crate::progress::bar(cfg.max_steps, format!("base-level LM ({})", split.mode));
    let sb = std::cell::RefCell::new(None::<indicatif::ProgressBar>);
    let (scores, fit, curve) = base_lm_scores(
        data,
        split,
        sides,
        kmax,
        &cfg,
        &mut |s| {
            pb.set_position(s.step);
            match s.valid_bits {
                Some(v) => pb.set_message(format!("held-out {v:.4} bits/base")),
                None => pb.set_message(format!("loss {:.3}", s.loss)),
            }
        },
        &mut |n| {
            let mut b = sb.borrow_mut();
            let bar = b.get_or_insert_with(|| {
                pb.finish_and_clear();
                crate::progress::bar(split.test.len() as u64, "scoring continuations")
            });
            bar.set_position(n as u64);
        },
    )
    .context("the base-level causal LM")?;
    pb.finish_and_clear();
    if let Some(b) = sb.into_inner() {
        b.finish_and_clear();
    }
    let mut tsv = String::from("step\tseconds\ttrain_loss_nats\tvalid_bits_per_base\n");
    for p in &curve {
        tsv.push_str(&format!(
            "{}\t{:.1}\t{:.6}\t{:.6}\n",
            p.step, p.seconds, p.train_loss, p.valid_bits
        ));
    }
    std::fs::create_dir_all(&a.out_dir)
        .with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    dnalm_tasks::report::write_file(&a.out_dir, "base_lm_curve.tsv", tsv.as_bytes())?;
    let rows = rows_from_scores(data, split, &scores, &a.k, &fit)?;
    log_rows(&rows);
    fits.push(fit);
    Ok(rows)
}

/// The training and validation sides of the genome, for the base-level LM
/// and the n-gram over the training side (position split, when asked).
fn genome_side_of(a: &NextkmerArgs, split: &SplitIndex) -> Result<Option<GenomeSides>> {
    let mode = split_mode(a, split);
    let wanted = a.ngram_genome || a.base_lm_budget.is_some();
    if !wanted || mode == SplitMode::Random {
        return Ok(None);
    }
    let select = RecordSelector::new(&a.select, a.select_regex.as_deref())?;
    let parts = Parts::new(mode, a.test_fraction, a.valid_fraction, a.seed)?;
    Ok(Some(genome_sides(
        &a.genome, &select, mode, &parts, 100_000,
    )?))
}

fn split_mode(a: &NextkmerArgs, split: &SplitIndex) -> SplitMode {
    if split.mode == SplitMode::Random.to_string() {
        SplitMode::Random
    } else {
        SplitMode::Position {
            block_len: a.block_len,
        }
    }
}

/// Sample the windows, with a spinner.
fn sample(a: &NextkmerArgs) -> Result<NextKmerData> {
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
    Ok(data)
}

fn splits(a: &NextkmerArgs, data: &NextKmerData) -> Result<Vec<SplitIndex>> {
    let position = SplitMode::Position {
        block_len: a.block_len,
    };
    let modes = match a.split {
        SplitChoice::Position => vec![position],
        SplitChoice::Random => vec![SplitMode::Random],
        SplitChoice::Both => vec![position, SplitMode::Random],
    };
    let mut out = Vec::new();
    for mode in modes {
        let mut s = data.split(mode, a.test_fraction, a.valid_fraction, a.seed)?;
        if a.max_train > 0 && a.max_train > s.train.len() {
            bail!(
                "--max-train {}: the {} split has only {} training windows (0 = all)",
                a.max_train,
                s.mode,
                s.train.len()
            );
        }
        if a.max_train > 0 {
            s.train = dnalm_seq::reservoir_sample(s.train, a.max_train, a.seed);
            s.train.sort_unstable();
        }
        info!(
            "{} split: {} training, {} validation, {} test windows, {} dropped",
            s.mode,
            s.train.len(),
            s.valid.len(),
            s.test.len(),
            s.dropped
        );
        out.push(s);
    }
    Ok(out)
}

fn log_rows(rows: &[NextKmerResult]) {
    for r in rows {
        info!(
            "{} split, k = {}: {}: accuracy {:.2}% (top-5 {:.2}%, {:.4} bits per base, chance {:.3}%)",
            r.split,
            r.k,
            r.predictor,
            100.0 * r.accuracy,
            100.0 * r.top5_accuracy,
            r.bits_per_base,
            100.0 * r.chance
        );
    }
}

/// A progress bar over a fine-tuning run's updates.
fn bar_for(a: &NextkmerArgs, split: &SplitIndex, what: String) -> indicatif::ProgressBar {
    let per_epoch = split.train.len().div_ceil(a.batch_size) as u64;
    crate::progress::bar(per_epoch * a.epochs as u64, what)
}

/// Every neural predictor of one split: the CNN control, and each model
/// pre-trained and from scratch.
fn model_rows(
    a: &NextkmerArgs,
    models: &[(String, PathBuf)],
    data: &NextKmerData,
    split: &SplitIndex,
    kmax: usize,
    fits: &mut Vec<FitSummary>,
) -> Result<Vec<NextKmerResult>> {
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?.autodiff();
    let cfg = |lr: f64| ClassifyConfig {
        lr,
        epochs: a.epochs,
        batch_size: a.batch_size,
        seed: a.seed,
        ..ClassifyConfig::default()
    };
    let mut rows = Vec::new();
    let mut done =
        |scores: Scores, fit: FitSummary, rows: &mut Vec<NextKmerResult>| -> Result<()> {
            let r = rows_from_scores(data, split, &scores, &a.k, &fit)?;
            log_rows(&r);
            rows.extend(r);
            fits.push(fit);
            Ok(())
        };
    if !a.no_controls {
        let pb = bar_for(a, split, format!("base CNN, k = {kmax} ({})", split.mode));
        let (scores, fit) = base_cnn_scores(
            data,
            split,
            kmax,
            &cfg(a.cnn_lr),
            a.patience,
            &device,
            &mut |s| {
                pb.set_position(s.step);
                pb.set_message(format!("loss {:.3}", s.loss));
            },
        )
        .context("the base CNN control")?;
        pb.finish_and_clear();
        done(scores, fit, &mut rows)?;
    }
    for (name, dir) in models {
        let starts: &[BertStart] = if a.no_controls {
            &[BertStart::Pretrained]
        } else {
            &[BertStart::Pretrained, BertStart::Scratch]
        };
        for &start in starts {
            let model = TaskModel::open(dir, None, &device)?;
            let what = match start {
                BertStart::Pretrained => name.clone(),
                BertStart::Scratch => format!("{name} from scratch"),
            };
            let pb = bar_for(a, split, format!("{what}, k = {kmax} ({})", split.mode));
            let (scores, fit) = bert_scores(
                name,
                model,
                start,
                data,
                split,
                kmax,
                a.max_len,
                &cfg(a.lr),
                a.patience,
                &device,
                &mut |s| {
                    pb.set_position(s.step);
                    pb.set_message(format!("loss {:.3}", s.loss));
                },
            )
            .with_context(|| format!("--model {name} ({what})"))?;
            pb.finish_and_clear();
            done(scores, fit, &mut rows)?;
        }
    }
    Ok(rows)
}

/// Chance for every k.
fn chance_rows(split: &SplitIndex, ks: &[usize]) -> Vec<NextKmerResult> {
    ks.iter()
        .map(|&k| NextKmerResult {
            split: split.mode.clone(),
            k,
            predictor: "chance".into(),
            train: 0,
            test: split.test.len(),
            accuracy: 1.0 / 4f64.powi(k as i32),
            top5_accuracy: (5.0 / 4f64.powi(k as i32)).min(1.0),
            bits_per_base: 2.0,
            chance: 1.0 / 4f64.powi(k as i32),
            epochs: None,
            best_epoch: None,
            seconds: 0.0,
            tokens_per_s: None,
            note: "uniform over the 4^k k-mers (expected values)".into(),
        })
        .collect()
}

/// `dnalm nextkmer`; returns the rows it reported.
pub fn run(a: NextkmerArgs) -> Result<Vec<NextKmerResult>> {
    check_args(&a)?;
    let models = parse_models(&a.models)?;
    // Open every model, check its tokenizer and that it encodes an input of
    // A/C/G/T, before the long work.
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?.autodiff();
    let probe: Vec<u8> = b"ACGT"
        .iter()
        .copied()
        .cycle()
        .take(NextKmerSpec::default().input)
        .collect();
    for (name, dir) in &models {
        let m = TaskModel::open(dir, None, &device).with_context(|| format!("--model {name}"))?;
        m.frame(&probe, a.max_len).with_context(|| {
            format!(
                "--model {name}: its tokenizer {} cannot encode the windows",
                m.tokenizer_path.display()
            )
        })?;
    }
    let data = sample(&a)?;
    let splits = splits(&a, &data)?;
    let kmax = *a.k.iter().max().expect("checked non-empty");
    let mut rows = Vec::new();
    let mut fits = Vec::new();
    for split in &splits {
        rows.extend(chance_rows(split, &a.k));
        let sides = genome_side_of(&a, split)?;
        for &k in &a.k {
            let pb = crate::progress::spinner(format!(
                "{} split, k = {k}: n-gram counts and validation",
                split.mode
            ));
            let mut r = ngram_rows(&data, split, k, a.ngram_order)?;
            if let Some(sides) = &sides {
                r.extend(genome_ngram_rows(&data, split, k, a.ngram_order, sides)?);
            }
            pb.finish_and_clear();
            log_rows(&r);
            rows.extend(r);
        }
        rows.extend(model_rows(&a, &models, &data, split, kmax, &mut fits)?);
        if let Some(sides) = &sides {
            rows.extend(base_lm_rows(&a, &data, split, sides, kmax, &mut fits)?);
        }
    }
    let summary = NextKmerSummary {
        genome: show_path(&a.genome),
        records: data.records.clone(),
        candidates: data.candidates,
        sampled: data.windows.len(),
        window: data.spec.window,
        keep: data.spec.keep,
        input: data.spec.input,
        test_fraction: a.test_fraction,
        valid_fraction: a.valid_fraction,
        splits: splits
            .iter()
            .map(|s| {
                (
                    s.mode.clone(),
                    s.train.len(),
                    s.valid.len(),
                    s.test.len(),
                    s.dropped,
                )
            })
            .collect(),
        kmax,
        max_epochs: a.epochs,
        patience: a.patience,
        seed: a.seed,
        fits,
    };
    write_report(&a.out_dir, &summary, &rows)?;
    info!("report: {}", a.out_dir.join("results.md").display());
    Ok(rows)
}
