//! The record of a pre-training run beside its checkpoints:
//! `metrics.jsonl` (one line per logged update and per evaluation),
//! `curve.tsv` (the loss curve: step, seconds, train loss, held-out loss)
//! and `summary.json` (how and why the run ended).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::budget::{Plan, StopReason};
use crate::error::{Result, TrainError};

pub const METRICS_FILE: &str = "metrics.jsonl";
pub const CURVE_FILE: &str = "curve.tsv";
pub const SUMMARY_FILE: &str = "summary.json";

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |e| TrainError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Write `text` to `path` through a temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let mut f =
        dnalm_seq::AtomicFile::create(path).map_err(|e| TrainError::Checkpoint(e.to_string()))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.commit()
        .map_err(|e| TrainError::Checkpoint(e.to_string()))
}

/// Keep the metrics lines of steps `<= step` (a resumed run rewrites what
/// came after its checkpoint).
fn truncate_metrics(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("step").and_then(|s| s.as_u64()))
                .is_some_and(|s| s <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    write_atomic(path, &kept)
}

/// `metrics.jsonl`, opened for appending after the lines of steps up to
/// the run's current `step`.
#[derive(Debug)]
pub(crate) struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    pub(crate) fn open(out: &Path, step: u64) -> Result<Self> {
        let path = out.join(METRICS_FILE);
        truncate_metrics(&path, step)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        Ok(Self { path, file })
    }

    /// One line: the metrics' fields and `"kind": kind`.
    pub(crate) fn write(&mut self, kind: &str, metrics: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_value(metrics).expect("metrics serialise");
        line["kind"] = kind.into();
        writeln!(self.file, "{line}").map_err(io(&self.path))
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(io(&self.path))
    }
}

/// Read metrics lines back (for plots and reports).
pub fn read_metrics(out: &Path) -> Result<Vec<serde_json::Value>> {
    let path = out.join(METRICS_FILE);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Loss-curve series from metrics lines: train loss and eval loss by step.
pub fn loss_series(lines: &[serde_json::Value]) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut train = Vec::new();
    let mut eval = Vec::new();
    for l in lines {
        let step = l.get("step").and_then(|v| v.as_f64());
        match (l.get("kind").and_then(|k| k.as_str()), step) {
            (Some("train"), Some(s)) => {
                if let Some(v) = l.get("loss").and_then(|v| v.as_f64()) {
                    train.push((s, v));
                }
            }
            (Some("eval"), Some(s)) => {
                if let Some(v) = l.get("eval_loss").and_then(|v| v.as_f64()) {
                    eval.push((s, v));
                }
            }
            _ => {}
        }
    }
    let mut out = vec![("train loss".to_string(), train)];
    if !eval.is_empty() {
        out.push(("eval loss".to_string(), eval));
    }
    out
}

/// The loss curve as TSV: one row per step that has a train-loss line or an
/// evaluation, `NA` where a step has only one of them. `seconds` is the
/// wall time of the invocation that ran the step.
pub fn curve_tsv(lines: &[serde_json::Value]) -> String {
    #[derive(Default)]
    struct Row {
        seconds: Option<f64>,
        train: Option<f64>,
        eval: Option<f64>,
    }
    let mut rows: std::collections::BTreeMap<u64, Row> = Default::default();
    for l in lines {
        let Some(step) = l.get("step").and_then(|v| v.as_u64()) else {
            continue;
        };
        let get = |k: &str| l.get(k).and_then(|v| v.as_f64());
        let row = rows.entry(step).or_default();
        row.seconds = row.seconds.or(get("elapsed_seconds"));
        match l.get("kind").and_then(|k| k.as_str()) {
            Some("train") => row.train = get("loss"),
            Some("eval") => row.eval = get("eval_loss"),
            _ => {}
        }
    }
    let na =
        |v: Option<f64>, digits: usize| v.map_or("NA".to_string(), |x| format!("{x:.digits$}"));
    let mut out = String::from("step\tseconds\ttrain_loss\teval_loss\n");
    for (step, r) in rows {
        out.push_str(&format!(
            "{step}\t{}\t{}\t{}\n",
            na(r.seconds, 2),
            na(r.train, 5),
            na(r.eval, 5)
        ));
    }
    out
}

/// `OUT/curve.tsv` from `OUT/metrics.jsonl`.
pub fn write_curve(out: &Path) -> Result<()> {
    let lines = read_metrics(out)?;
    write_atomic(&out.join(CURVE_FILE), &curve_tsv(&lines))
}

/// `summary.json`: how a run (the last invocation) ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    pub stop_reason: StopReason,
    /// [`StopReason::describe`], for people reading the file.
    pub stop_detail: String,
    /// Updates done.
    pub steps: u64,
    /// The schedule's length (fitted to the budget when it was).
    pub max_steps: u64,
    pub warmup_steps: u64,
    pub eval_every: u64,
    /// Wall seconds of this invocation's training loop.
    pub seconds: f64,
    pub time_budget_seconds: Option<f64>,
    /// Measured over the first updates of this invocation.
    pub seconds_per_update: Option<f64>,
    /// The probe's evaluation (budgeted runs).
    pub seconds_per_eval: Option<f64>,
    /// What the budget fitted (`None`: nothing was fitted).
    pub plan: Option<Plan>,
    pub patience: Option<u32>,
    pub evaluations: u64,
    pub best_step: Option<u64>,
    pub best_eval_loss: Option<f64>,
    /// The folder holding the best model (`model/`), when the run finished.
    pub model_dir: Option<PathBuf>,
}

impl RunSummary {
    pub fn write(&self, out: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("summary serialises") + "\n";
        write_atomic(&out.join(SUMMARY_FILE), &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_rows_join_train_and_eval_lines_by_step() {
        let lines: Vec<serde_json::Value> = [
            r#"{"kind":"train","step":2,"loss":5.5,"elapsed_seconds":1.0}"#,
            r#"{"kind":"train","step":4,"loss":5.0,"elapsed_seconds":2.0}"#,
            r#"{"kind":"eval","step":4,"eval_loss":5.25,"elapsed_seconds":2.5}"#,
            r#"{"kind":"eval","step":5,"eval_loss":5.125}"#,
        ]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
        assert_eq!(
            curve_tsv(&lines),
            "step\tseconds\ttrain_loss\teval_loss\n\
             2\t1.00\t5.50000\tNA\n\
             4\t2.00\t5.00000\t5.25000\n\
             5\tNA\tNA\t5.12500\n"
        );
    }
}
