//! `dnalm promoter predict`: score a file of sequences with a saved
//! predictor or classifier (`dnalm_tasks::promoter::saved::Scorer`).

use std::io::Write as _;

use anyhow::{bail, Context, Result};
use dnalm_seq::Output;
use dnalm_tasks::promoter::loaders::read_labelled;
use dnalm_tasks::promoter::saved::Scorer;
use tracing::info;

use crate::args::PromoterPredictArgs;
use crate::input::show_path;

/// `promoter predict`: score a file with a saved model.
pub fn predict(a: PromoterPredictArgs) -> Result<()> {
    let scorer = Scorer::load(a.model(), a.tokenizer.as_deref())
        .with_context(|| format!("cannot load the model {}", show_path(a.model())))?;
    let threshold = a.threshold.unwrap_or(scorer.meta.threshold);
    if !(0.0..=1.0).contains(&threshold) {
        bail!("--threshold {threshold} must be in [0, 1]");
    }
    let records = read_sequences(a.input())?;
    if records.is_empty() {
        bail!("{}: no sequence", show_path(a.input()));
    }
    let want = scorer.meta.sequence_length;
    if want > 0 {
        if let Some(r) = records.iter().find(|r| r.sequence.len() != want) {
            bail!(
                "{}: {} has {} nt, the model was trained on {want} nt (cut or pad the input, or \
                 scan longer sequences with `dnalm promoter scan`)",
                show_path(a.input()),
                r.describe(),
                r.sequence.len()
            );
        }
    }
    info!("{}", scorer.describe());
    let pb = crate::progress::bar(records.len() as u64, "scoring".to_string());
    let mut probs = Vec::with_capacity(records.len());
    for chunk in records.chunks(2048) {
        let seqs: Vec<&[u8]> = chunk.iter().map(|r| r.sequence.as_slice()).collect();
        probs.extend(scorer.score(&seqs)?);
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    let has_label = records.iter().any(|r| r.label.is_some());
    let mut out = String::from("name\tprobability\tprediction");
    if has_label {
        out.push_str("\tlabel");
    }
    out.push('\n');
    for (r, p) in records.iter().zip(&probs) {
        out.push_str(&format!(
            "{}\t{:.6}\t{}",
            r.name,
            p,
            (*p >= threshold) as u8
        ));
        if has_label {
            out.push_str(&format!(
                "\t{}",
                r.label.map_or(String::new(), |l| l.to_string())
            ));
        }
        out.push('\n');
    }
    let mut o = Output::create(a.output.as_deref())?;
    o.write_all(out.as_bytes())
        .with_context(|| format!("cannot write {}", o.path().display()))?;
    o.finish()?;
    if has_label {
        let (p, l): (Vec<f64>, Vec<u8>) = records
            .iter()
            .zip(&probs)
            .filter_map(|(r, &p)| r.label.map(|l| (p, l)))
            .unzip();
        let m = dnalm_tasks::metrics::BinaryMetrics::at(&p, &l, threshold);
        info!(
            "{} labelled rows: MCC {:.3}, AUROC {:.3}, AUPRC {:.3}, accuracy {:.3} at threshold {threshold:.4}",
            l.len(),
            m.mcc,
            m.auroc,
            m.auprc,
            m.accuracy
        );
    }
    Ok(())
}

/// One input record of `promoter predict`.
struct PredictRecord {
    name: String,
    sequence: Vec<u8>,
    label: Option<u8>,
    /// Where it came from, for errors: "record NAME" or "line N".
    place: String,
}

impl PredictRecord {
    fn describe(&self) -> &str {
        &self.place
    }
}

/// Records of a labelled set (CSV/TSV, one per line) or a FASTA/FASTQ file.
fn read_sequences(path: &std::path::Path) -> Result<Vec<PredictRecord>> {
    let head = {
        let text = dnalm_tasks::table::open_text(path)?;
        text.lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.to_string())
    };
    let Some(head) = head else {
        bail!("{}: empty file", show_path(path));
    };
    if head.starts_with('>') || head.starts_with('@') {
        let mut out = Vec::new();
        for rec in dnalm_seq::FastxReader::open(path)? {
            let rec = rec?;
            let seq: Vec<u8> = rec.seq.iter().map(|b| b.to_ascii_uppercase()).collect();
            out.push(PredictRecord {
                name: rec.id.clone(),
                place: format!("record {:?}", rec.id),
                sequence: seq,
                label: None,
            });
        }
        return Ok(out);
    }
    let lower = head.to_ascii_lowercase();
    let labelled = lower.contains("label") && lower.contains("sequence");
    if labelled {
        let rows = read_labelled(path)?;
        return Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| PredictRecord {
                name: format!("row{}", i + 1),
                place: format!("line {}", r.line),
                sequence: r.sequence,
                label: Some(r.label),
            })
            .collect());
    }
    if dnalm_tasks::table::is_table(path)? {
        // A CSV/TSV with a sequence column and no labels.
        let t = dnalm_tasks::table::read_table(path, false)?;
        return Ok(t
            .seqs
            .into_iter()
            .zip(t.names)
            .enumerate()
            .map(|(i, (sequence, line))| PredictRecord {
                name: format!("row{}", i + 1),
                place: line.replace("line", "line "),
                sequence,
                label: None,
            })
            .collect());
    }
    // One sequence per line (a `sequence` header line is skipped).
    let text = dnalm_tasks::table::open_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || (out.is_empty() && l.eq_ignore_ascii_case("sequence")) {
            continue;
        }
        let seq: Vec<u8> = l.bytes().map(|b| b.to_ascii_uppercase()).collect();
        if let Some(p) = seq.iter().position(|b| !b"ACGTN".contains(b)) {
            bail!(
                "{}:{}: {:?} at position {} (A, C, G, T, N only)",
                show_path(path),
                i + 1,
                seq[p] as char,
                p + 1
            );
        }
        out.push(PredictRecord {
            name: format!("row{}", out.len() + 1),
            place: format!("line {}", i + 1),
            sequence: seq,
            label: None,
        });
    }
    Ok(out)
}
