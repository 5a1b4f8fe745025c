//! What `dnalm book train` measured, written into the model folder: the loss
//! curves (`losses.tsv`, `loss.svg`), the numbers (`train_report.tsv` and
//! `train_report.md`: held-out perplexities, pair accuracies, corpus and
//! vocabulary counts) and the same inside `book_model.json`.

use std::io::Write;
use std::path::Path;

use dnalm_train::causal::CausalEval;
use serde_json::json;

use super::config::BookTrainConfig;
use crate::{Result, TaskError};

/// One measured value of a training run.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Count(usize),
    Number(f64),
    Text(String),
    /// Not measured (e.g. no pairs could be built), with the reason.
    Missing(String),
}

/// The numbers of a run, in the order they were measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainReport {
    pub metrics: Vec<(String, Value)>,
    /// (stage, step, loss, learning rate).
    pub losses: Vec<(String, u64, f64, f64)>,
}

impl TrainReport {
    pub fn count(&mut self, name: &str, n: usize) {
        self.metrics.push((name.into(), Value::Count(n)));
    }

    pub fn note(&mut self, name: &str, text: &str) {
        self.metrics.push((name.into(), Value::Text(text.into())));
    }

    /// Loss, perplexity and next-token accuracy of a held-out evaluation.
    pub fn eval(&mut self, name: &str, e: &CausalEval) {
        self.metrics
            .push((format!("{name}_loss"), Value::Number(e.loss)));
        self.metrics
            .push((format!("{name}_perplexity"), Value::Number(e.perplexity())));
        self.metrics
            .push((format!("{name}_top1"), Value::Number(e.accuracy)));
    }

    pub fn accuracy(&mut self, name: &str, a: Option<f64>) {
        let v = match a {
            Some(a) => Value::Number(a),
            None => Value::Missing("too little text to build test pairs".into()),
        };
        self.metrics.push((format!("{name}_accuracy"), v));
    }

    /// A measured number by name.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find_map(|(n, v)| match v {
            Value::Number(x) if n == name => Some(*x),
            Value::Count(c) if n == name => Some(*c as f64),
            _ => None,
        })
    }

    /// The settings and numbers as JSON for `book_model.json`.
    pub fn to_json(
        &self,
        cfg: &BookTrainConfig,
        english: &Path,
        genome: &Path,
    ) -> serde_json::Value {
        let metrics: serde_json::Map<String, serde_json::Value> = self
            .metrics
            .iter()
            .map(|(n, v)| (n.clone(), value_json(v)))
            .collect();
        json!({
            "english": english.display().to_string(),
            "genome": genome.display().to_string(),
            "settings": {
                "vocab_size": cfg.vocab_size,
                "preset": cfg.preset,
                "context": cfg.context,
                "batch_size": cfg.batch_size,
                "steps": cfg.steps,
                "pend_steps": cfg.pend_steps,
                "transfer_steps": cfg.transfer_steps,
                "lr": cfg.lr,
                "tune_lr": cfg.tune_lr,
                "max_dna_fragments": cfg.max_dna_fragments,
                "eval_windows": cfg.eval_windows,
                "test_pairs": cfg.test_pairs,
                "seed": cfg.seed,
            },
            "metrics": metrics,
        })
    }
}

fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Count(c) => json!(c),
        Value::Number(x) => json!(x),
        Value::Text(t) => json!(t),
        Value::Missing(_) => serde_json::Value::Null,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Count(c) => c.to_string(),
        Value::Number(x) => format!("{x:.4}"),
        Value::Text(t) => t.replace(['\t', '\n'], " "),
        Value::Missing(why) => format!("NA ({why})"),
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    let mut f = dnalm_seq::AtomicFile::create(path)?;
    f.write_all(text.as_bytes())
        .map_err(|e| TaskError::io(path, e))?;
    f.commit()?;
    Ok(())
}

/// Write `losses.tsv`, `loss.svg`, `train_report.tsv` and
/// `train_report.md` into `dir`.
pub fn write_reports(dir: &Path, r: &TrainReport) -> Result<()> {
    let mut tsv = String::from("stage\tstep\tloss\tlr\n");
    for (s, step, loss, lr) in &r.losses {
        tsv.push_str(&format!("{s}\t{step}\t{loss:.6}\t{lr:.3e}\n"));
    }
    write_file(&dir.join("losses.tsv"), &tsv)?;
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut offset = 0u64;
    for stage in ["pretrain", "p_end", "transfer"] {
        let pts: Vec<(f64, f64)> = r
            .losses
            .iter()
            .filter(|l| l.0 == stage)
            .map(|l| ((offset + l.1) as f64, l.2))
            .collect();
        offset += pts.len() as u64;
        if !pts.is_empty() {
            series.push((stage.to_string(), pts));
        }
    }
    if !series.is_empty() {
        dnalm_tokenizers::plot::line_chart_svg(
            &dir.join("loss.svg"),
            "book model training loss",
            "update (stages one after another)",
            "cross-entropy (nats)",
            &series,
        )?;
    }
    let mut tsv = String::from("metric\tvalue\n");
    let mut md = String::from("| metric | value |\n| --- | --- |\n");
    for (n, v) in &r.metrics {
        tsv.push_str(&format!("{n}\t{}\n", value_text(v)));
        md.push_str(&format!("| {n} | {} |\n", value_text(v)));
    }
    write_file(&dir.join("train_report.tsv"), &tsv)?;
    write_file(&dir.join("train_report.md"), &md)
}
