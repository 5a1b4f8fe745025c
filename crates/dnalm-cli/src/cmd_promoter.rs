//! `dnalm promoter data | train | scan`: wiring for `dnalm_tasks::promoter`.

use std::io::Write as _;

use anyhow::{bail, Context, Result};
use dnalm_model::finetuned::{load_classifier, save_classifier};
use dnalm_model::PredictorKind;
use dnalm_seq::{BedGraphWriter, BedWriter, Output, Strand};
use dnalm_tasks::model::{find_run_tokenizer, TaskModel, RUN_TOKENIZER};
use dnalm_tasks::promoter::data::{
    build_from_genome, build_from_positives, read_tss, to_csv, DataSummary, PromoterSpec,
    SyntheticKind,
};
use dnalm_tasks::promoter::loaders::{check_classes, read_labelled};
use dnalm_tasks::promoter::report::{write_report, Aggregate, ReportHeader};
use dnalm_tasks::promoter::scan::{centre_bin, merge_calls, scan_fasta, ScanSpec};
use dnalm_tasks::promoter::train::{run, Encoding, Event, TrainSpec};
use dnalm_tasks::promoter::truth::{compare, tsv_header, tsv_rows};
use dnalm_tokenizers::{AnyTokenizer, Tokenizer};
use dnalm_train::classify::ClassifyConfig;
use tracing::info;

use crate::args::{NonTataChoice, PromoterDataArgs, PromoterScanArgs, PromoterTrainArgs};
use crate::files::{create_dir, write_file};
use crate::input::show_path;

fn synthetic(c: NonTataChoice) -> SyntheticKind {
    match c {
        NonTataChoice::Substitution => SyntheticKind::Substitution,
        NonTataChoice::Permutation => SyntheticKind::Permutation,
    }
}

fn log_summary(s: &DataSummary) {
    info!(
        "{} positives ({} with a TATA box), {} groups; negatives: {}",
        s.positives,
        s.tata_positives,
        s.groups,
        s.negatives_by_kind
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if s.tss > 0 {
        info!(
            "{} TSSs: {} too close to a chromosome end, {} windows with N, {} duplicate windows skipped; \
             {} TATA positives got a synthetic negative (no free genomic TATA window)",
            s.tss, s.skipped_edge, s.skipped_n, s.duplicate_windows, s.tata_fallbacks
        );
    }
}

pub fn data(a: PromoterDataArgs) -> Result<()> {
    write_data(&a).map(|_| ())
}

/// `promoter data`: build the rows, write the CSV, return what was made.
pub fn write_data(a: &PromoterDataArgs) -> Result<DataSummary> {
    let kind = synthetic(a.non_tata);
    let (rows, summary) = match (&a.genome, &a.tss, &a.positives) {
        (Some(genome), Some(tss), None) => {
            let tss = read_tss(tss)?;
            let spec = PromoterSpec {
                tata_negatives: !a.no_tata_negatives,
                synthetic: kind,
                seed: a.seed,
                ..PromoterSpec::default()
            };
            build_from_genome(genome, &tss, &spec)?
        }
        (None, None, Some(p)) => {
            let rows = read_labelled(p)?;
            let pos: Vec<Vec<u8>> = rows
                .into_iter()
                .filter(|r| r.label == 1)
                .map(|r| r.sequence)
                .collect();
            if pos.is_empty() {
                bail!("{}: no positive (label 1) row", show_path(p));
            }
            build_from_positives(&pos, kind, a.seed)
        }
        _ => bail!("give --genome with --tss, or --positives"),
    };
    log_summary(&summary);
    let mut out = Output::create(a.output.as_deref())?;
    out.write_all(to_csv(&rows).as_bytes())
        .with_context(|| format!("cannot write {}", out.path().display()))?;
    out.finish()?;
    Ok(summary)
}

fn parse_list<T>(
    items: &[String],
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>> {
    items
        .iter()
        .map(|s| parse(s.trim()).with_context(|| format!("--{what}: unknown value {s:?}")))
        .collect()
}

pub fn train(a: PromoterTrainArgs) -> Result<()> {
    let agg = train_and_report(&a)?;
    print!("{}", summary_table(&agg, false));
    Ok(())
}

/// Mean±sd of accuracy, F1, MCC and AUROC per encoding and predictor: the
/// TSV `promoter train` prints on stdout, or the same rows as Markdown.
pub fn summary_table(agg: &[Aggregate], markdown: bool) -> String {
    let mut table = String::from(if markdown {
        "| encoding | predictor | accuracy | F1 | MCC | AUROC |\n|---|---|---:|---:|---:|---:|\n"
    } else {
        "encoding\tpredictor\taccuracy\tf1\tmcc\tauroc\n"
    });
    let pm = if markdown { " ± " } else { "±" };
    for g in agg {
        let m = |i: usize| format!("{:.3}{pm}{:.3}", g.metrics[i].1, g.metrics[i].2);
        let cells = [
            g.encoding.clone(),
            g.predictor.clone(),
            m(0),
            m(1),
            m(2),
            m(5),
        ];
        if markdown {
            table.push_str(&format!("| {} |\n", cells.join(" | ")));
        } else {
            table.push_str(&format!("{}\n", cells.join("\t")));
        }
    }
    table
}

/// `promoter train` without the stdout table: fine-tune, fit, write the
/// classifier folder and the report into `a.out_dir`; returns the results.
pub fn train_and_report(a: &PromoterTrainArgs) -> Result<Vec<Aggregate>> {
    let predictors = parse_list(&a.predictors, "predictors", |s| {
        s.parse::<PredictorKind>().ok()
    })?;
    let encodings = parse_list(&a.encodings, "encodings", |s| match s {
        "one-hot" | "onehot" => Some(Encoding::OneHot),
        "pre-trained" | "pretrained" => Some(Encoding::Pretrained),
        "fine-tuned" | "finetuned" => Some(Encoding::Finetuned),
        _ => None,
    })?;
    if a.batch_size == 0 || a.predictor_batch_size == 0 || a.epochs == 0 {
        bail!("batch sizes and --epochs must be at least 1");
    }
    // Open the model (vocabulary checked against the tokenizer) and read
    // the data before any long work.
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?.autodiff();
    let model = TaskModel::open(&a.model, a.tokenizer.as_deref(), &device)
        .with_context(|| format!("--model {}", show_path(&a.model)))?;
    let tok_path = model.tokenizer_path.clone();
    let model_desc = format!(
        "{} ({} layers, hidden {}, {} parameters) with {}",
        model.pretrained.dir.display(),
        model.pretrained.config.num_hidden_layers,
        model.pretrained.config.hidden_size,
        model.pretrained.config.parameter_count(),
        tok_path.display()
    );
    let rows = read_labelled(&a.data)?;
    let (pos, neg) = check_classes(&show_path(&a.data), &rows)?;
    info!(
        "{}: {} rows ({pos} positive, {neg} negative)",
        show_path(&a.data),
        rows.len()
    );
    let config = model.pretrained.config.clone();
    let spec = TrainSpec {
        max_len: a.max_len,
        finetune: ClassifyConfig {
            lr: a.lr,
            warmup_ratio: a.warmup_ratio,
            epochs: a.epochs,
            batch_size: a.batch_size,
            seed: a.seed,
            ..ClassifyConfig::default()
        },
        fit: dnalm_tasks::promoter::fit::FitConfig {
            epochs: a.predictor_epochs,
            batch_size: a.predictor_batch_size,
            lr: a.predictor_lr,
            hidden: a.hidden,
            seed: a.seed,
            ..Default::default()
        },
        repeats: a.repeats,
        max_rows: a.max_rows,
        predictors,
        encodings,
        tfidf_k: a.tfidf_k,
        seed: a.seed,
        ..TrainSpec::default()
    };
    let mut bar: Option<(String, indicatif::ProgressBar)> = None;
    let mut set_bar = |key: &str, total: u64, pos: u64, msg: String| {
        if bar.as_ref().is_none_or(|(k, _)| k != key) {
            if let Some((_, b)) = bar.take() {
                b.finish_and_clear();
            }
            bar = Some((
                key.to_string(),
                crate::progress::bar(total, key.to_string()),
            ));
        }
        if let Some((_, b)) = &bar {
            b.set_position(pos);
            b.set_message(msg);
        }
    };
    let outcome = run(model, &rows, &spec, &device, &mut |e| match e {
        Event::Finetune { step, total, loss } => {
            set_bar("fine-tuning", total, step, format!("loss {loss:.3}"))
        }
        Event::Encode {
            encoding,
            done,
            total,
        } => set_bar(
            &format!("encoding ({encoding})"),
            total as u64,
            done as u64,
            String::new(),
        ),
        Event::Fit {
            label,
            step,
            total,
            loss,
        } => set_bar(label, total, step, format!("loss {loss:.3}")),
        Event::Done { label, metrics } => info!(
            "{label}: accuracy {:.3}, F1 {:.3}, MCC {:.3}, AUROC {:.3}",
            metrics.accuracy, metrics.f1, metrics.mcc, metrics.auroc
        ),
    })?;
    if let Some((_, b)) = bar.take() {
        b.finish_and_clear();
    }
    let s = &outcome.summary;
    info!(
        "{} rows used in {} groups: {} fine-tuned the encoder ({} updates, last loss {:.4}), {} for the predictors",
        s.used_rows, s.groups, s.finetune_rows, s.finetune_updates, s.final_finetune_loss, s.predictor_rows
    );
    // The classifier folder, then the report.
    let dir = a.out_dir.join("classifier");
    create_dir(&dir)?;
    let labels = vec!["non_promoter".to_string(), "promoter".to_string()];
    save_classifier(&dir, &config, &outcome.classifier, &labels)?;
    let tok_bytes =
        std::fs::read(&tok_path).with_context(|| format!("cannot read {}", tok_path.display()))?;
    write_file(&dir.join(RUN_TOKENIZER), &tok_bytes)?;
    let tok = AnyTokenizer::load(&tok_path)?;
    for (name, text) in tok.hf_files(config.max_position_embeddings) {
        write_file(&dir.join(name), text.as_bytes())?;
    }
    let header = ReportHeader {
        data: show_path(&a.data),
        model: model_desc,
        notes: vec![
            format!(
                "fine-tuning: lr {}, warm-up {}%, batch {}, {} epoch(s), dropout {}",
                a.lr,
                100.0 * a.warmup_ratio,
                a.batch_size,
                a.epochs,
                config.hidden_dropout_prob
            ),
            format!(
                "predictors: hidden {}, Adam lr {}, batch {}, {} epoch(s); seed {}",
                a.hidden, a.predictor_lr, a.predictor_batch_size, a.predictor_epochs, a.seed
            ),
        ],
    };
    let agg = write_report(&a.out_dir, &header, &outcome.summary, &outcome.runs)?;
    info!(
        "report: {}; classifier: {}",
        a.out_dir.join("results.md").display(),
        dir.display()
    );
    Ok(agg)
}

pub fn scan(a: PromoterScanArgs) -> Result<()> {
    // Read the truth first: a bad file fails before the long scan.
    let truth = a
        .truth
        .iter()
        .map(|p| read_tss(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    let clf = load_classifier(&a.model, &device).with_context(|| {
        format!(
            "{}: not a classifier folder from `dnalm promoter train`",
            show_path(&a.model)
        )
    })?;
    let tok_path = match &a.tokenizer {
        Some(t) => t.clone(),
        None => find_run_tokenizer(&a.model).with_context(|| {
            format!(
                "no {RUN_TOKENIZER} in {}: give --tokenizer",
                a.model.display()
            )
        })?,
    };
    let tok = AnyTokenizer::load(&tok_path)?;
    if tok.vocab().len() != clf.config.vocab_size {
        bail!(
            "the classifier {} has a vocabulary of {} tokens, the tokenizer {} has {}",
            a.model.display(),
            clf.config.vocab_size,
            tok_path.display(),
            tok.vocab().len()
        );
    }
    let spec = ScanSpec {
        window: a.window,
        stride: a.stride,
        threshold: a.threshold,
        max_len: a.max_len,
        ..ScanSpec::default()
    };
    let pb = crate::progress::spinner(format!("scanning {}", show_path(&a.fasta)));
    let windows = scan_fasta(
        &a.fasta,
        &clf.model,
        &tok,
        &spec,
        &device,
        &mut |rec, at, len| pb.set_message(format!("{rec}: {at}/{len}")),
    )?;
    pb.finish_and_clear();
    if windows.is_empty() {
        bail!(
            "{}: no {}-nt window without N to scan",
            show_path(&a.fasta),
            a.window
        );
    }
    let calls = merge_calls(&windows, a.threshold);
    let mut reports = Vec::new();
    for (tss, path) in truth.iter().zip(&a.truth) {
        let r = compare(
            &calls,
            &windows,
            tss,
            a.truth_distance,
            a.truth_rounds,
            a.seed,
        );
        if r.tss == 0 {
            bail!(
                "--truth {}: no TSS lies on a record of {}",
                show_path(path),
                show_path(&a.fasta)
            );
        }
        reports.push((show_path(path), r));
    }
    create_dir(&a.out_dir)?;
    for (strand, name) in [
        (Strand::Plus, "plus.bedGraph"),
        (Strand::Minus, "minus.bedGraph"),
    ] {
        let path = a.out_dir.join(name);
        let mut w = BedGraphWriter::new(Output::create(Some(&path))?, &path);
        w.write_track_line(&format!(
            "P(promoter) {} strand",
            if strand == Strand::Plus { "+" } else { "-" }
        ))?;
        for win in windows.iter().filter(|w| w.strand == strand) {
            let (s, e) = centre_bin(win, a.stride);
            w.write(&win.chrom, s, e, (win.prob * 1e4).round() / 1e4)?;
        }
        w.into_inner().finish()?;
    }
    let path = a.out_dir.join("calls.bed");
    let mut w = BedWriter::new(Output::create(Some(&path))?, &path);
    for (i, c) in calls.iter().enumerate() {
        w.write(
            &c.chrom,
            c.start,
            c.end,
            &format!("promoter_{}", i + 1),
            (1000.0 * c.best).round(),
            c.strand,
        )?;
    }
    w.into_inner().finish()?;
    if !reports.is_empty() {
        let mut tsv = tsv_header(a.truth_distance);
        for (name, r) in &reports {
            tsv.push_str(&tsv_rows(name, r));
            info!(
                "{name}: {} of {} TSSs within {} nt of a call ({:.2} for random calls; {:.1}% of {} random rounds as good)",
                r.scan.tss_near_call,
                r.tss,
                r.distance,
                r.random.tss_near_call,
                100.0 * r.random_at_least_as_good,
                r.rounds
            );
        }
        write_file(&a.out_dir.join("truth.tsv"), tsv.as_bytes())?;
        print!("{tsv}");
    }
    let n_hit = windows.iter().filter(|w| w.prob >= a.threshold).count();
    info!(
        "{} windows scored ({} at or above {}), {} calls; {}",
        windows.len(),
        n_hit,
        a.threshold,
        calls.len(),
        a.out_dir.display()
    );
    Ok(())
}
