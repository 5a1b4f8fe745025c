//! The promoter report: `runs.tsv` (every repeat, with its bootstrap
//! intervals), `results.tsv` and `results.md` (mean ± sd over repeats per
//! encoding and predictor), `curves.tsv` (every epoch of every predictor),
//! `results.json`, and bar charts of accuracy, F1 and MCC (the paper's
//! Figures 3-5), each file written whole (temporary file, then rename).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::train::{RunResult, TrainSummary};
use crate::error::{Result, TaskError};
use crate::metrics::mean_sd;

/// Mean and sd of each metric for one (encoding, predictor).
#[derive(Debug, Clone, Serialize)]
pub struct Aggregate {
    pub encoding: String,
    pub predictor: String,
    pub repeats: usize,
    /// (name, mean, sd) in the order of [`METRICS`].
    pub metrics: Vec<(String, f64, f64)>,
}

/// The metrics reported, in table order: at the threshold chosen on
/// validation, then MCC at 0.5, then the threshold itself.
pub const METRICS: [&str; 10] = [
    "accuracy",
    "f1",
    "mcc",
    "precision",
    "recall",
    "auroc",
    "auprc",
    "mcc_at_0.5",
    "accuracy_at_0.5",
    "threshold",
];

fn value(r: &RunResult, name: &str) -> f64 {
    let m = &r.tuned;
    match name {
        "accuracy" => m.accuracy,
        "f1" => m.f1,
        "mcc" => m.mcc,
        "precision" => m.precision,
        "recall" => m.recall,
        "auroc" => m.auroc,
        "auprc" => m.auprc,
        "mcc_at_0.5" => r.metrics.mcc,
        "accuracy_at_0.5" => r.metrics.accuracy,
        _ => m.threshold,
    }
}

/// The position of `name` in [`METRICS`].
pub fn metric_index(name: &str) -> usize {
    METRICS.iter().position(|m| *m == name).unwrap_or(0)
}

/// Group runs by (encoding, predictor), in first-appearance order.
pub fn aggregate(runs: &[RunResult]) -> Vec<Aggregate> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in runs {
        let k = (r.encoding.clone(), r.predictor.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(e, p)| {
            let sel: Vec<&RunResult> = runs
                .iter()
                .filter(|r| r.encoding == e && r.predictor == p)
                .collect();
            let metrics = METRICS
                .iter()
                .map(|&name| {
                    let xs: Vec<f64> = sel.iter().map(|r| value(r, name)).collect();
                    let (m, s) = mean_sd(&xs);
                    (name.to_string(), m, s)
                })
                .collect();
            Aggregate {
                encoding: e,
                predictor: p,
                repeats: sel.len(),
                metrics,
            }
        })
        .collect()
}

/// Free-form facts shown at the top of the Markdown report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportHeader {
    pub data: String,
    pub model: String,
    pub notes: Vec<String>,
}

/// Write the report into `dir`.
pub fn write_report(
    dir: &Path,
    header: &ReportHeader,
    summary: &TrainSummary,
    runs: &[RunResult],
) -> Result<Vec<Aggregate>> {
    std::fs::create_dir_all(dir).map_err(|e| TaskError::io(dir, e))?;
    let agg = aggregate(runs);
    write_file(dir, "runs.tsv", &runs_tsv(runs))?;
    write_file(dir, "curves.tsv", &curves_tsv(runs))?;
    write_file(dir, "results.tsv", &results_tsv(&agg))?;
    let json = serde_json::json!({
        "header": header, "data": summary, "results": agg, "runs": runs,
    });
    write_file(
        dir,
        "results.json",
        &serde_json::to_string_pretty(&json).expect("serialise"),
    )?;
    write_file(dir, "results.md", &results_md(header, summary, runs, &agg))?;
    draw_charts(dir, &agg)?;
    Ok(agg)
}

/// Write `text` to `dir/name` whole ([`crate::report::write_file`]).
pub(super) fn write_file(dir: &Path, name: &str, text: &str) -> Result<()> {
    crate::report::write_file(dir, name, text.as_bytes())
}

/// `runs.tsv`: every repeat, with its bootstrap intervals.
fn runs_tsv(runs: &[RunResult]) -> String {
    let mut tsv = String::from(
        "encoding\tpredictor\trepeat\ttrain\ttest\tbest_epoch\tepochs\tseconds\tvalid_auroc",
    );
    for m in METRICS {
        write!(tsv, "\t{m}").expect("string");
    }
    tsv.push_str("\tmcc_lo\tmcc_hi\tauroc_lo\tauroc_hi\tauprc_lo\tauprc_hi\n");
    for r in runs {
        write!(
            tsv,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.1}\t{:.6}",
            r.encoding,
            r.predictor,
            r.repeat,
            r.train,
            r.metrics.n,
            r.best_epoch,
            r.epochs,
            r.seconds,
            r.valid_auroc
        )
        .expect("string");
        for m in METRICS {
            write!(tsv, "\t{:.6}", value(r, m)).expect("string");
        }
        let i = &r.intervals;
        for (lo, hi) in [i.mcc, i.auroc, i.auprc] {
            write!(tsv, "\t{lo:.6}\t{hi:.6}").expect("string");
        }
        tsv.push('\n');
    }
    tsv
}

/// `curves.tsv`: every epoch of every predictor.
fn curves_tsv(runs: &[RunResult]) -> String {
    let mut curves = String::from(
        "encoding\tpredictor\trepeat\tepoch\ttrain_loss\tvalid_loss\tvalid_auroc\tseconds\n",
    );
    for r in runs {
        for h in &r.history {
            writeln!(
                curves,
                "{}\t{}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{:.1}",
                r.encoding,
                r.predictor,
                r.repeat,
                h.epoch,
                h.train_loss,
                h.valid_loss,
                h.valid_auroc,
                h.seconds
            )
            .expect("string");
        }
    }
    curves
}

/// `results.tsv`: mean and sd over repeats per encoding and predictor.
fn results_tsv(agg: &[Aggregate]) -> String {
    let mut tsv = String::from("encoding\tpredictor\trepeats");
    for m in METRICS {
        write!(tsv, "\t{m}_mean\t{m}_sd").expect("string");
    }
    tsv.push('\n');
    for a in agg {
        write!(tsv, "{}\t{}\t{}", a.encoding, a.predictor, a.repeats).expect("string");
        for (_, m, s) in &a.metrics {
            write!(tsv, "\t{m:.6}\t{s:.6}").expect("string");
        }
        tsv.push('\n');
    }
    tsv
}

/// `results.md`: the facts of the run, then the table.
fn results_md(
    header: &ReportHeader,
    summary: &TrainSummary,
    runs: &[RunResult],
    agg: &[Aggregate],
) -> String {
    let mut md = String::from("# Promoter prediction\n\n");
    writeln!(md, "- data: {}", header.data).expect("string");
    writeln!(md, "- model: {}", header.model).expect("string");
    writeln!(
        md,
        "- {} rows of {} nt ({} used) in {} groups: {} train the predictors, {} validate \
         (early stopping, threshold), {} test; {} fine-tune the encoder ({} updates, final loss {:.4})",
        summary.rows,
        summary.sequence_length,
        summary.used_rows,
        summary.groups,
        summary.predictor_rows,
        summary.valid_rows,
        summary.test_rows,
        summary.finetune_rows,
        summary.finetune_updates,
        summary.final_finetune_loss,
    )
    .expect("string");
    if summary.shared_with_test > 0 {
        writeln!(
            md,
            "- **{} training/validation rows share a 50-mer (or a group) with a test row**",
            summary.shared_with_test
        )
        .expect("string");
    }
    for n in &header.notes {
        writeln!(md, "- {n}").expect("string");
    }
    md.push_str(
        "\nTest rows. Accuracy, F1, MCC, precision and recall at the threshold chosen on the \
         validation rows (max MCC); MCC at 0.5 beside it. One repeat: [bootstrap 95 % interval]; \
         more: mean ± sd over repeats.\n\n",
    );
    md.push_str(
        "| encoding | predictor | accuracy | F1 | MCC | AUROC | AUPRC | MCC at 0.5 | threshold | epochs | time |\n",
    );
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for a in agg {
        md_row(&mut md, a, runs);
    }
    md.push_str(
        "\nepochs: best/run (early stopping on validation AUROC). Per-epoch losses and \
         validation AUROC: curves.tsv.\n\n![accuracy](accuracy.svg) ![F1](f1.svg) ![MCC](mcc.svg)\n",
    );
    md
}

/// One table row of `results.md`: the interval of a single repeat, or mean
/// ± sd over several.
fn md_row(md: &mut String, a: &Aggregate, runs: &[RunResult]) {
    let sel: Vec<&RunResult> = runs
        .iter()
        .filter(|r| r.encoding == a.encoding && r.predictor == a.predictor)
        .collect();
    let cell = |name: &str| {
        let (_, m, s) = &a.metrics[metric_index(name)];
        if a.repeats > 1 {
            return format!("{m:.3} ± {s:.3}");
        }
        let i = &sel[0].intervals;
        match name {
            "mcc" => format!("{m:.3} [{:.3}, {:.3}]", i.mcc.0, i.mcc.1),
            "auroc" => format!("{m:.3} [{:.3}, {:.3}]", i.auroc.0, i.auroc.1),
            "auprc" => format!("{m:.3} [{:.3}, {:.3}]", i.auprc.0, i.auprc.1),
            _ => format!("{m:.3}"),
        }
    };
    let epochs: Vec<String> = sel
        .iter()
        .filter(|r| r.epochs > 0)
        .map(|r| format!("{}/{}", r.best_epoch, r.epochs))
        .collect();
    let secs: f64 = sel.iter().map(|r| r.seconds).sum::<f64>() / sel.len().max(1) as f64;
    writeln!(
        md,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} s |",
        a.encoding,
        a.predictor,
        cell("accuracy"),
        cell("f1"),
        cell("mcc"),
        cell("auroc"),
        cell("auprc"),
        cell("mcc_at_0.5"),
        cell("threshold"),
        if epochs.is_empty() {
            "-".to_string()
        } else {
            epochs.join(", ")
        },
        secs
    )
    .expect("string");
}

/// Bar charts of accuracy, F1 and MCC (the paper's Figures 3-5).
fn draw_charts(dir: &Path, agg: &[Aggregate]) -> Result<()> {
    for (metric, file, title) in [
        ("accuracy", "accuracy.svg", "promoter prediction: accuracy"),
        ("f1", "f1.svg", "promoter prediction: F1"),
        ("mcc", "mcc.svg", "promoter prediction: MCC"),
    ] {
        let i = METRICS.iter().position(|m| *m == metric).expect("metric");
        let bars: Vec<(String, f64)> = agg
            .iter()
            .map(|a| {
                let v = a.metrics[i].1;
                (
                    format!("{} / {}", a.encoding, a.predictor),
                    if v.is_finite() { v } else { 0.0 },
                )
            })
            .collect();
        dnalm_tokenizers::plot::bar_chart_svg(
            &dir.join(file),
            title,
            &bars,
            &format!("{metric} (mean over repeats)"),
        )?;
    }
    Ok(())
}
