//! `dnalm promoter data | train | scan`: wiring for `dnalm_tasks::promoter`.

use std::io::Write as _;

use anyhow::{bail, Context, Result};
use dnalm_model::PredictorKind;
use dnalm_seq::{BedGraphWriter, BedWriter, Output, Strand};
use dnalm_tasks::model::{TaskModel, RUN_TOKENIZER};
use dnalm_tasks::promoter::data::{
    build_from_genome, build_from_positives, read_tss, to_csv, DataSummary, PromoterSpec,
    SyntheticKind,
};
use dnalm_tasks::promoter::fit::FitConfig;
use dnalm_tasks::promoter::genomic::add_to_positives;
use dnalm_tasks::promoter::loaders::{check_classes, read_labelled, LabelledRow};
use dnalm_tasks::promoter::report::{metric_index, write_report, Aggregate, ReportHeader};
use dnalm_tasks::promoter::saved::{
    save_classifier_model, save_predictor, EncoderFiles, PredictorMeta, SavedKind, Scorer,
};
use dnalm_tasks::promoter::scan::{centre_bin, merge_calls, scan_fasta, ScanSpec};
use dnalm_tasks::promoter::train::{run, DataSets, Encoding, Event, TrainSpec};
use dnalm_tasks::promoter::truth::{compare, pr_curve, scanned_truth, tsv_header, tsv_rows};
use dnalm_tokenizers::AnyTokenizer;
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
             {} TATA positives got a synthetic negative (no free genomic TATA window); \
             {} genomic negatives without a GC match",
            s.tss, s.skipped_edge, s.skipped_n, s.duplicate_windows, s.tata_fallbacks, s.gc_fallbacks
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
                genomic_negatives: a.genomic_negatives,
                tss_margin: a.tss_margin,
                gc_match: a.gc_match,
                seed: a.seed,
                ..PromoterSpec::default()
            };
            build_from_genome(genome, &tss, &spec)?
        }
        (genome, tss, Some(p)) => {
            let rows = read_labelled(p)?;
            let pos: Vec<Vec<u8>> = rows
                .into_iter()
                .filter(|r| r.label == 1)
                .map(|r| r.sequence)
                .collect();
            if pos.is_empty() {
                bail!("{}: no positive (label 1) row", show_path(p));
            }
            let (rows, mut summary) = build_from_positives(&pos, kind, a.seed);
            match genome {
                Some(_) if a.genomic_negatives == 0 => {
                    bail!("--genome with --positives is only read for --genomic-negatives N")
                }
                Some(g) => {
                    let tss = tss
                        .as_deref()
                        .map(read_tss)
                        .transpose()?
                        .unwrap_or_default();
                    let spec = PromoterSpec {
                        genomic_negatives: a.genomic_negatives,
                        tss_margin: a.tss_margin,
                        gc_match: a.gc_match,
                        seed: a.seed,
                        ..PromoterSpec::default()
                    };
                    let rows = add_to_positives(rows, &mut summary, g, &tss, &spec)?;
                    (rows, summary)
                }
                None => (rows, summary),
            }
        }
        (Some(_), None, None) => bail!("--genome needs --tss (or --positives)"),
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

/// Accuracy, F1, MCC, AUROC and AUPRC per encoding and predictor (at the
/// threshold chosen on validation; mean±sd over repeats): the TSV `promoter
/// train` prints on stdout, or the same rows as Markdown.
pub fn summary_table(agg: &[Aggregate], markdown: bool) -> String {
    let mut table = String::from(if markdown {
        "| encoding | predictor | accuracy | F1 | MCC | AUROC | AUPRC |\n|---|---|---:|---:|---:|---:|---:|\n"
    } else {
        "encoding\tpredictor\taccuracy\tf1\tmcc\tauroc\tauprc\n"
    });
    let pm = if markdown { " ± " } else { "±" };
    for g in agg {
        let m = |name: &str| {
            let (_, mean, sd) = &g.metrics[metric_index(name)];
            if g.repeats > 1 {
                format!("{mean:.3}{pm}{sd:.3}")
            } else {
                format!("{mean:.3}")
            }
        };
        let cells = [
            g.encoding.clone(),
            g.predictor.clone(),
            m("accuracy"),
            m("f1"),
            m("mcc"),
            m("auroc"),
            m("auprc"),
        ];
        if markdown {
            table.push_str(&format!("| {} |\n", cells.join(" | ")));
        } else {
            table.push_str(&format!("{}\n", cells.join("\t")));
        }
    }
    table
}

fn read_set(path: &std::path::Path) -> Result<Vec<LabelledRow>> {
    let rows = read_labelled(path)?;
    let (pos, neg) = check_classes(&show_path(path), &rows)?;
    info!(
        "{}: {} rows ({pos} positive, {neg} negative)",
        show_path(path),
        rows.len()
    );
    Ok(rows)
}

/// `promoter train` without the stdout table: train, write the report, the
/// predictors and (with an encoder) the classifier into `a.out_dir`;
/// returns the results.
pub fn train_and_report(a: &PromoterTrainArgs) -> Result<Vec<Aggregate>> {
    let predictors = parse_list(&a.predictors, "predictors", |s| {
        s.parse::<PredictorKind>().ok()
    })?;
    let encodings = if a.encodings.is_empty() {
        if a.model.is_some() {
            vec![Encoding::OneHot, Encoding::Finetuned]
        } else {
            vec![Encoding::OneHot]
        }
    } else {
        parse_list(&a.encodings, "encodings", Encoding::parse)?
    };
    if a.model.is_none() {
        if let Some(e) = encodings.iter().find(|&&e| e != Encoding::OneHot) {
            bail!(
                "--encodings {}: the encoder encodings need --model (a pre-trained run or model folder)",
                e.name()
            );
        }
    }
    if a.batch_size == 0 || a.predictor_batch_size == 0 || a.epochs == 0 || a.predictor_epochs == 0
    {
        bail!("batch sizes, --epochs and --predictor-epochs must be at least 1");
    }
    // Open the model (vocabulary checked against the tokenizer) and read
    // the data before any long work.
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?.autodiff();
    let model = match &a.model {
        Some(m) => Some(
            TaskModel::open(m, a.tokenizer.as_deref(), &device)
                .with_context(|| format!("--model {}", show_path(m)))?,
        ),
        None => None,
    };
    let model_desc = match &model {
        Some(m) => format!(
            "{} ({} layers, hidden {}, {} parameters) with {}",
            m.pretrained.dir.display(),
            m.pretrained.config.num_hidden_layers,
            m.pretrained.config.hidden_size,
            m.pretrained.config.parameter_count(),
            m.tokenizer_path.display()
        ),
        None => "none (one-hot bases)".to_string(),
    };
    let encoder_files = model.as_ref().map(|m| {
        (
            m.pretrained.config.clone(),
            std::fs::read(&m.tokenizer_path)
                .with_context(|| format!("cannot read {}", m.tokenizer_path.display())),
            m.tokenizer_path.clone(),
        )
    });
    let train_path = a
        .train
        .as_ref()
        .or(a.data.as_ref())
        .context("give the training data (--train FILE)")?;
    let train_rows = read_set(train_path)?;
    let valid_rows = a.valid.as_deref().map(read_set).transpose()?;
    let test_rows = a.test.as_deref().map(read_set).transpose()?;
    let names = (
        show_path(train_path),
        a.valid.as_deref().map(show_path),
        a.test.as_deref().map(show_path),
    );
    let data = DataSets {
        train: (&names.0, &train_rows),
        valid: names.1.as_deref().zip(valid_rows.as_deref()),
        test: names.2.as_deref().zip(test_rows.as_deref()),
    };
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
        fit: FitConfig {
            epochs: a.predictor_epochs,
            patience: a.patience,
            batch_size: a.predictor_batch_size,
            lr: a.predictor_lr,
            weight_decay: a.weight_decay,
            hidden: a.hidden,
            filters: a.filters,
            dense: a.dense,
            dropout: a.dropout,
            seed: a.seed,
            ..FitConfig::default()
        },
        repeats: a.repeats,
        finetune_fraction: a.finetune_fraction,
        test_fraction: a.test_fraction,
        valid_fraction: a.valid_fraction,
        max_rows: a.max_rows,
        predictors,
        encodings,
        tfidf_k: a.tfidf_k,
        bootstrap: a.bootstrap,
        seed: a.seed,
    };
    let started = std::time::Instant::now();
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
    let outcome = run(model, data, &spec, &device, &mut |e| match e {
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
            "{label}: MCC {:.3}, AUROC {:.3}, AUPRC {:.3}, accuracy {:.3} (threshold {:.3})",
            metrics.mcc, metrics.auroc, metrics.auprc, metrics.accuracy, metrics.threshold
        ),
    })?;
    if let Some((_, b)) = bar.take() {
        b.finish_and_clear();
    }
    let s = &outcome.summary;
    info!(
        "{} rows used in {} groups: {} train the predictors, {} validate, {} test, {} fine-tuned the encoder ({} updates)",
        s.used_rows, s.groups, s.predictor_rows, s.valid_rows, s.test_rows, s.finetune_rows, s.finetune_updates
    );
    if s.shared_with_test > 0 {
        tracing::warn!(
            "{} training/validation rows share a 50-mer or group with a test row: the test files overlap the training files",
            s.shared_with_test
        );
    }
    create_dir(&a.out_dir)?;
    // The fine-tuned classifier, then every predictor, then best/.
    let encoder = match encoder_files {
        Some((config, bytes, _path)) => Some((config, bytes?)),
        None => None,
    };
    if let (Some(clf), Some((config, tok))) = (&outcome.classifier, &encoder) {
        let dir = a.out_dir.join("classifier");
        let mut meta = PredictorMeta::new("classifier", SavedKind::Classifier, Encoding::Finetuned);
        meta.threshold = outcome.classifier_threshold;
        meta.sequence_length = s.sequence_length;
        meta.max_len = a.max_len;
        save_classifier_model(
            &dir,
            EncoderFiles {
                model: clf,
                config,
                tokenizer: tok,
            },
            &meta,
        )?;
        // Hugging Face tokenizer files beside it, as before.
        let tok = AnyTokenizer::load(&a.out_dir.join("classifier").join(RUN_TOKENIZER))?;
        for (name, text) in tok.hf_files(config.max_position_embeddings) {
            write_file(&dir.join(name), text.as_bytes())?;
        }
    }
    let mut best: Option<(f64, String)> = None;
    for p in &outcome.predictors {
        let name = format!("{}-{}", p.encoding.name(), p.fitted.config.kind.key());
        let dir = a.out_dir.join("predictors").join(&name);
        let mut meta = PredictorMeta::new(&name, SavedKind::Predictor, p.encoding);
        meta.threshold = p.threshold;
        meta.sequence_length = s.sequence_length;
        meta.max_len = a.max_len;
        meta.valid_auroc = Some(p.valid_auroc).filter(|v| v.is_finite());
        meta.test = serde_json::to_value(p.test).ok();
        let enc_model = match p.encoding {
            Encoding::OneHot => None,
            Encoding::Pretrained => outcome.pretrained.as_ref(),
            Encoding::Finetuned => outcome.classifier.as_ref(),
        };
        let files = match (enc_model, &encoder) {
            (Some(m), Some((config, tok))) => Some(EncoderFiles {
                model: m,
                config,
                tokenizer: tok,
            }),
            _ => None,
        };
        save_predictor(&dir, &p.fitted.model, &meta, files)?;
        if best.as_ref().is_none_or(|(v, _)| p.valid_auroc > *v) {
            best = Some((p.valid_auroc, name));
        }
    }
    if let Some((auroc, name)) = &best {
        let from = a.out_dir.join("predictors").join(name);
        let to = a.out_dir.join("best");
        copy_dir(&from, &to)?;
        info!(
            "best on validation: {name} (AUROC {auroc:.4}) -> {}",
            to.display()
        );
    }
    let header = ReportHeader {
        data: [Some(&names.0), names.1.as_ref(), names.2.as_ref()]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        model: model_desc,
        notes: vec![
            format!(
                "predictors: AdamW lr {}, weight decay {}, batch {}, at most {} epochs (patience {}), \
                 hidden {}, filters {}, dense {}, dropout {}; seed {}",
                a.predictor_lr,
                a.weight_decay,
                a.predictor_batch_size,
                a.predictor_epochs,
                a.patience,
                a.hidden,
                a.filters,
                a.dense,
                a.dropout,
                a.seed
            ),
            format!(
                "fine-tuning (with --model): lr {}, warm-up {}%, batch {}, {} epoch(s)",
                a.lr,
                100.0 * a.warmup_ratio,
                a.batch_size,
                a.epochs,
            ),
            format!(
                "best on validation: {}; wall time {:.0} s",
                best.as_ref().map_or("-", |b| b.1.as_str()),
                started.elapsed().as_secs_f64()
            ),
        ],
    };
    let agg = write_report(&a.out_dir, &header, &outcome.summary, &outcome.runs)?;
    info!(
        "report: {}; predictors: {}",
        a.out_dir.join("results.md").display(),
        a.out_dir.join("predictors").display()
    );
    Ok(agg)
}

/// Copy the files of `from` (and its sub-folders) to `to`, replacing `to`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("cannot replace {}", to.display()))?;
    }
    create_dir(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            write_file(&dest, &bytes)?;
        }
    }
    Ok(())
}

pub fn scan(a: PromoterScanArgs) -> Result<()> {
    // Read the truth first: a bad file fails before the long scan.
    let truth = a
        .truth
        .iter()
        .map(|p| read_tss(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut scorer = Scorer::load(a.model(), a.tokenizer.as_deref())
        .with_context(|| format!("cannot load the model {}", show_path(a.model())))?;
    if let Some(m) = a.max_len {
        if m < 3 {
            bail!("--max-len {m}: at least 3 ([CLS], one token, [SEP])");
        }
        scorer.meta.max_len = m;
    }
    let trained = scorer.meta.sequence_length;
    let window = match (a.window, trained) {
        (Some(w), t) if t > 0 && w != t => bail!(
            "--window {w}: {} was trained on {t}-nt sequences; scan with --window {t}",
            show_path(a.model())
        ),
        (Some(w), _) => w,
        (None, 0) => 300,
        (None, t) => t,
    };
    let threshold = a.threshold.unwrap_or(scorer.meta.threshold);
    let spec = ScanSpec {
        window,
        stride: a.stride,
        threshold,
        batch_size: a.batch_size,
    };
    info!(
        "{}; window {window}, stride {}",
        scorer.describe(),
        a.stride
    );
    let started = std::time::Instant::now();
    let pb = crate::progress::bar(0, format!("scanning {}", show_path(a.fasta())));
    let (windows, stats) = scan_fasta(
        a.fasta(),
        a.region.as_ref(),
        &mut |seqs| scorer.score(seqs),
        &spec,
        &mut |rec, done, total| {
            pb.set_length(total);
            pb.set_position(done);
            pb.set_message(rec.to_string());
        },
    )?;
    pb.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if windows.is_empty() {
        bail!(
            "{}: no {window}-nt window without N to scan",
            show_path(a.fasta()),
        );
    }
    info!(
        "{} windows in {seconds:.1} s ({:.0} windows/s, {:.2} Mb/min at stride {} on both strands)",
        windows.len(),
        windows.len() as f64 / seconds,
        stats.bases as f64 / 1e6 / seconds * 60.0,
        a.stride
    );
    let mut calls = merge_calls(&windows, threshold);
    // Every call at the threshold, for the precision-recall curves.
    let all_calls = if a.truth.is_empty() {
        Vec::new()
    } else {
        calls.clone()
    };
    if a.max_calls_per_mb > 0.0 {
        let keep = (a.max_calls_per_mb * stats.bases as f64 / 1e6).floor() as usize;
        if calls.len() > keep {
            info!(
                "{} calls at or above {threshold:.4}; keeping the best {keep} ({} per Mb)",
                calls.len(),
                a.max_calls_per_mb
            );
            calls = dnalm_tasks::promoter::scan::best_calls(calls, keep);
        }
    }
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
                show_path(a.fasta())
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
        write_pr_curves(
            &a.out_dir,
            &all_calls,
            &windows,
            &truth,
            &a.truth,
            a.truth_distance,
        )?;
    }
    let n_hit = windows.iter().filter(|w| w.prob >= threshold).count();
    let run = serde_json::json!({
        "model": show_path(a.model()),
        "model_description": scorer.describe(),
        "fasta": show_path(a.fasta()),
        "window": window,
        "stride": a.stride,
        "threshold": threshold,
        "max_calls_per_mb": a.max_calls_per_mb,
        "records": stats.records,
        "bases": stats.bases,
        "windows": windows.len(),
        "windows_at_threshold": n_hit,
        "calls": calls.len(),
        "calls_per_mb": calls.len() as f64 / (stats.bases as f64 / 1e6),
        "seconds": seconds,
        "windows_per_second": windows.len() as f64 / seconds,
    });
    write_file(
        &a.out_dir.join("scan.json"),
        serde_json::to_string_pretty(&run)?.as_bytes(),
    )?;
    info!(
        "{} windows scored ({} at or above {threshold:.4}), {} calls; {}",
        windows.len(),
        n_hit,
        calls.len(),
        a.out_dir.display()
    );
    Ok(())
}

/// `pr.tsv` and `pr.svg`: precision and TSS recall of the best k calls at
/// the scan's threshold, for every k and truth file.
fn write_pr_curves(
    out: &std::path::Path,
    calls: &[dnalm_tasks::promoter::scan::Call],
    windows: &[dnalm_tasks::promoter::scan::ScoredWindow],
    truth: &[Vec<dnalm_tasks::promoter::data::Tss>],
    paths: &[std::path::PathBuf],
    distance: u64,
) -> Result<()> {
    let mut tsv = format!(
        "truth\tcalls\tmin_score\tcalls_per_mb\ttss_recall_{distance}\tprecision_{distance}\n"
    );
    let mut series = Vec::new();
    for (tss, path) in truth.iter().zip(paths) {
        let (near, scanned) = scanned_truth(windows, tss);
        let curve = pr_curve(calls, &near, distance, scanned);
        let name = show_path(path);
        for p in &curve {
            tsv.push_str(&format!(
                "{name}\t{}\t{:.4}\t{:.3}\t{:.4}\t{:.4}\n",
                p.calls, p.score, p.calls_per_mb, p.recall, p.precision
            ));
        }
        // At most ~500 points per series in the plot (the TSV has them all).
        let step = curve.len().div_ceil(500).max(1);
        let pts: Vec<(f64, f64)> = curve
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i + 1 == curve.len())
            .map(|(_, p)| (p.recall, p.precision))
            .collect();
        series.push((name, pts));
    }
    write_file(&out.join("pr.tsv"), tsv.as_bytes())?;
    if series.iter().any(|(_, p)| !p.is_empty()) {
        dnalm_tokenizers::plot::line_chart_svg(
            &out.join("pr.svg"),
            &format!("promoter calls vs TSSs (within {distance} nt)"),
            "TSS recall",
            "precision of calls",
            &series,
        )?;
    }
    Ok(())
}
