//! `results.tsv`, `results.json`, `results.md`, `accuracy.svg` and
//! `bits.svg` of `dnalm nextkmer`, each written whole (temporary file, then
//! rename).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{FitSummary, NextKmerResult};
use crate::error::{Result, TaskError};

/// What the report says about the data and the protocol.
#[derive(Debug, Clone, Serialize)]
pub struct NextKmerSummary {
    pub genome: String,
    pub records: Vec<String>,
    pub candidates: u64,
    pub sampled: usize,
    pub window: usize,
    pub keep: usize,
    pub input: usize,
    pub test_fraction: f64,
    pub valid_fraction: f64,
    /// (split, train, validation, test, dropped) windows.
    pub splits: Vec<(String, usize, usize, usize, usize)>,
    /// The k every model's head predicts; shorter k are its marginals.
    pub kmax: usize,
    pub max_epochs: usize,
    pub patience: usize,
    pub seed: u64,
    /// How each model was fitted, with its validation curve.
    pub fits: Vec<FitSummary>,
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or(String::new(), |v| v.to_string())
}

/// The rows without wall time, so that the same seed gives the same bytes
/// (time and tokens/s are in `results.md` and `results.json`).
fn tsv(rows: &[NextKmerResult]) -> String {
    let mut t = String::from(
        "split\tk\tpredictor\ttrain\ttest\taccuracy\ttop5_accuracy\tbits_per_base\tchance\t\
         epochs\tbest_epoch\tnote\n",
    );
    for r in rows {
        writeln!(
            t,
            "{}\t{}\t{}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{}\t{}\t{}",
            r.split,
            r.k,
            r.predictor,
            r.train,
            r.test,
            r.accuracy,
            r.top5_accuracy,
            r.bits_per_base,
            r.chance,
            opt(&r.epochs),
            opt(&r.best_epoch),
            r.note
        )
        .expect("string");
    }
    t
}

fn markdown(summary: &NextKmerSummary, rows: &[NextKmerResult]) -> String {
    let mut md = String::from("# Next-k-mer prediction\n\n");
    writeln!(
        md,
        "{} overlapping {}-nt windows (stride 1) of {} ({}), {} sampled; the first {} nt of each \
         kept: input = the first {} nt, label = the next k nt (4^k classes).\n",
        summary.candidates,
        summary.window,
        summary.genome,
        summary.records.join(", "),
        summary.sampled,
        summary.keep,
        summary.input
    )
    .expect("string");
    for (mode, train, valid, test, dropped) in &summary.splits {
        writeln!(
            md,
            "- **{mode} split**: {train} training, {valid} validation and {test} test windows{}",
            if *dropped > 0 {
                format!(" ({dropped} dropped: they straddle blocks of two parts)")
            } else {
                String::new()
            }
        )
        .expect("string");
    }
    writeln!(
        md,
        "\nThe validation windows come from the training side ({}% of its blocks under the \
         position split) and choose the n-gram's context length and smoothing and each model's \
         epoch (up to {} epochs, stopping after {} without a better validation loss); the test \
         windows choose nothing. Each model predicts the 4^{} continuations; shorter k are \
         sums of its probabilities. Bits per base = mean -log2 P(true k-mer) / k (2 is \
         chance). The random split lets a test window be read off an overlapping training \
         window; only the position split measures prediction.\n",
        100.0 * summary.valid_fraction,
        summary.max_epochs,
        summary.patience,
        summary.kmax
    )
    .expect("string");
    md.push_str(
        "| split | k | predictor | accuracy | top-5 | bits/base | train windows | epochs (best) | \
         time | tokens/s |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        writeln!(
            md,
            "| {} | {} | {} | {:.2}% | {:.2}% | {:.4} | {} | {} | {:.0} s | {} |",
            r.split,
            r.k,
            r.predictor,
            100.0 * r.accuracy,
            100.0 * r.top5_accuracy,
            r.bits_per_base,
            r.train,
            match (r.epochs, r.best_epoch) {
                (Some(e), Some(b)) => format!("{e} ({b})"),
                _ => String::new(),
            },
            r.seconds,
            r.tokens_per_s.map_or(String::new(), |v| format!("{v:.0}")),
        )
        .expect("string");
    }
    md.push_str("\nHow each row was set up:\n\n");
    let mut seen = Vec::new();
    for r in rows {
        if !seen.contains(&(&r.split, &r.predictor, &r.note)) {
            seen.push((&r.split, &r.predictor, &r.note));
            writeln!(md, "- {} split, {}: {}", r.split, r.predictor, r.note).expect("string");
        }
    }
    for f in &summary.fits {
        if f.curve.is_empty() {
            continue;
        }
        writeln!(md, "\n{} (validation after each epoch):\n", f.predictor).expect("string");
        md.push_str("| epoch | train loss | valid loss | valid accuracy | seconds |\n|---:|---:|---:|---:|---:|\n");
        for e in &f.curve {
            writeln!(
                md,
                "| {} | {:.4} | {:.4} | {:.2}% | {:.0} |",
                e.epoch,
                e.train_loss,
                e.valid_loss,
                100.0 * e.valid_accuracy,
                e.seconds
            )
            .expect("string");
        }
    }
    md.push_str("\n![accuracy](accuracy.svg) ![bits per base](bits.svg)\n");
    md
}

/// Write the report into `dir` (created if missing).
pub fn write_report(dir: &Path, summary: &NextKmerSummary, rows: &[NextKmerResult]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TaskError::io(dir, e))?;
    let write = |name: &str, text: &str| crate::report::write_file(dir, name, text.as_bytes());
    write("results.tsv", &tsv(rows))?;
    let json = serde_json::json!({ "data": summary, "results": rows });
    write(
        "results.json",
        &serde_json::to_string_pretty(&json).expect("serialise"),
    )?;
    write("results.md", &markdown(summary, rows))?;
    let bars = |f: &dyn Fn(&NextKmerResult) -> f64| -> Vec<(String, f64)> {
        rows.iter()
            .map(|r| (format!("{} k={} {}", r.split, r.k, r.predictor), f(r)))
            .collect()
    };
    dnalm_tokenizers::plot::bar_chart_svg(
        &dir.join("accuracy.svg"),
        "next-k-mer accuracy",
        &bars(&|r| 100.0 * r.accuracy),
        "test accuracy (%)",
    )?;
    dnalm_tokenizers::plot::bar_chart_svg(
        &dir.join("bits.svg"),
        "next-k-mer cross-entropy",
        &bars(&|r| r.bits_per_base),
        "test bits per base (2 = chance)",
    )?;
    Ok(())
}
