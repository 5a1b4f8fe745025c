//! `dnalm book eval`: wiring for the evaluation in `dnalm_book` (eval,
//! eval_dna, eval_model, eval_report): reads what is given (a book, a
//! genome, a model, English text), measures what those allow and writes the
//! report.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dnalm_book::boundaries::BoundaryParams;
use dnalm_book::eval_dna::{dna_enrichment, BookSegments};
use dnalm_book::eval_model::{dna_sample, HeldOutText, ModelEval};
use dnalm_book::eval_report::{AnnotationSummary, EvalReport};
use dnalm_book::softmask::{Annotation, GcShiftConfig};
use dnalm_book::EnglishCorpus;
use dnalm_tasks::book::BookModel;
use tracing::info;

use crate::args::book_eval::BookEvalArgs;
use crate::input::show_path;
use crate::progress;

/// Distances of the distance plot (nt).
const CURVE: [u64; 9] = [0, 5, 10, 20, 50, 100, 200, 500, 1000];

/// The paragraph and sentence rules: the book's own (its run.json, written
/// by `dnalm book write`), else the published ones; --window / --stride
/// override both.
fn boundary_params(a: &BookEvalArgs) -> Result<(BoundaryParams, BoundaryParams)> {
    let (mut p, mut s) = (BoundaryParams::paragraphs(), BoundaryParams::sentences());
    if let Some(book) = &a.book {
        let path = book.join("run.json");
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", show_path(&path)))?;
            let run: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", show_path(&path)))?;
            for (key, rule) in [("paragraphs", &mut p), ("sentences", &mut s)] {
                let v = &run["params"][key];
                let get = |k: &str| v[k].as_u64().map(|x| x as usize);
                if let (Some(w), Some(st), Some(k), Some(m), Some(o)) = (
                    get("window"),
                    get("stride"),
                    get("top_k"),
                    get("min_len"),
                    get("offset"),
                ) {
                    rule.window = w;
                    rule.stride = st;
                    rule.top_k = k;
                    rule.min_len = m;
                    rule.offset = o;
                } else {
                    bail!(
                        "{}: no params.{key} (window, stride, top_k, min_len, offset)",
                        show_path(&path)
                    );
                }
            }
        }
    }
    for rule in [&mut p, &mut s] {
        if let Some(w) = a.window {
            rule.window = w;
        }
        if let Some(st) = a.stride {
            rule.stride = st;
        }
    }
    Ok((p, s))
}

pub fn run(a: BookEvalArgs) -> Result<()> {
    if a.book.is_none() && a.model.is_none() {
        bail!("nothing to evaluate: give --book (with GENOME) and/or --model (with --english)");
    }
    if a.book.is_some() != a.genome.is_some() {
        bail!(
            "the DNA evaluation needs both --book and GENOME (the FASTA the book was written from)"
        );
    }
    if a.english.is_some() && a.model.is_none() {
        bail!("--english needs --model (the model predicts the English boundaries)");
    }
    if a.tolerance.is_empty() || a.distance.is_empty() {
        bail!("give at least one --tolerance and one --distance");
    }
    let out_dir = match (&a.out_dir, &a.book) {
        (Some(o), _) => o.clone(),
        (None, Some(b)) => b.join("eval"),
        (None, None) => PathBuf::from("dnalm-eval"),
    };
    let mut report = EvalReport {
        settings: Vec::new(),
        annotation: None,
        english: Vec::new(),
        enrichment: Vec::new(),
        curve: Vec::new(),
        stability: Vec::new(),
    };
    let (paragraphs, sentences) = boundary_params(&a)?;
    let mut note = |k: &str, v: String| report.settings.push((k.to_string(), v));
    note("seed", a.seed.to_string());

    // DNA boundaries against the genome's own annotation.
    if let (Some(book), Some(genome)) = (&a.book, &a.genome) {
        note("book", show_path(book));
        note("genome", show_path(genome));
        note("permutations", a.permutations.to_string());
        let json = book.join("book.json");
        let spin = progress::spinner(format!("reading {}", show_path(&json)));
        let segs = BookSegments::read_json(&json)?;
        spin.set_message(format!("annotating {}", show_path(genome)));
        let gc = GcShiftConfig {
            window: a.gc_window,
            threshold: a.gc_threshold,
        };
        let ann = Annotation::read_fasta(genome, gc)?;
        spin.set_message("random segmentations");
        let summary = AnnotationSummary::of(&ann, a.gc_window, a.gc_threshold);
        let (paragraphs, mean_len) = segs.paragraph_stats();
        info!(
            "{paragraphs} paragraphs (mean {mean_len:.0} nt); {} repeats ({} masked bases), {} GC shifts",
            summary.repeats, summary.masked_bases, summary.gc_shifts
        );
        report.enrichment = dna_enrichment(&segs, &ann, &a.distance, a.permutations, a.seed)?;
        report.curve = dna_enrichment(&segs, &ann, &CURVE, a.permutations, a.seed)?
            .into_iter()
            .filter(|r| r.level == "paragraph")
            .collect();
        report.annotation = Some(summary);
        spin.finish_and_clear();
    }

    // The model: English boundaries and stability.
    if let Some(model_dir) = &a.model {
        let device = dnalm_model::device(dnalm_model::Backend::Cpu)?;
        let model = BookModel::open(model_dir, &device)
            .with_context(|| format!("cannot open the book model {}", show_path(model_dir)))?;
        report.settings.push(("model".into(), show_path(model_dir)));
        let eval = ModelEval {
            pend: &model.pend,
            base: &model.base,
            p_end: model.meta.p_end_id,
            dot: model.meta.full_stop_id,
            paragraphs,
            sentences,
        };
        report.settings.push((
            "rules".into(),
            format!(
                "paragraphs window {} stride {} top-{} min {}; sentences window {} stride {} top-{} min {}",
                paragraphs.window,
                paragraphs.stride,
                paragraphs.top_k,
                paragraphs.min_len,
                sentences.window,
                sentences.stride,
                sentences.top_k,
                sentences.min_len
            ),
        ));
        if let Some(arg) = &a.english {
            let path = &crate::cmd_book_train::english_path(arg)?;
            let corpus = EnglishCorpus::open(path)?;
            let (paras, rule) = if a.english_all {
                let all: Vec<String> = corpus
                    .docs
                    .iter()
                    .flat_map(|d| d.paragraphs.clone())
                    .collect();
                (all, "every paragraph".to_string())
            } else {
                let split = corpus.split(model.meta.seed);
                (split.held_out, split.rule)
            };
            let text = HeldOutText::encode(&paras, &model.tokenizer, eval.dot, a.english_tokens)?;
            report.settings.push((
                "english".into(),
                format!(
                    "{} ({rule}): {} paragraphs, {} tokens, {} paragraph and {} sentence breaks",
                    show_path(path),
                    text.paragraphs,
                    text.ids.len(),
                    text.paragraph_breaks.len(),
                    text.sentence_breaks.len()
                ),
            ));
            let spin = progress::spinner("English boundaries");
            report.english = eval.english(&text, &a.tolerance)?;
            spin.set_message("English stability");
            report
                .stability
                .extend(eval.stability("english", &text.ids, &a.tolerance)?);
            spin.finish_and_clear();
        }
        if let (Some(genome), true) = (&a.genome, a.stability_tokens > 0) {
            let spin = progress::spinner("DNA stability");
            let ids = dna_sample(genome, &model.tokenizer, a.stability_tokens)?;
            report.settings.push((
                "dna_stability".into(),
                format!(
                    "the first {} tokens of the first long A/C/G/T run",
                    ids.len()
                ),
            ));
            report
                .stability
                .extend(eval.stability("dna", &ids, &a.tolerance)?);
            spin.finish_and_clear();
        }
    }

    let written = report.write(&out_dir)?;
    for r in &report.english {
        if r.variant == "rule" {
            info!(
                "English {} ±{}: precision {:.3}, recall {:.3}, F1 {:.3}",
                r.level, r.tolerance, r.prf.precision, r.prf.recall, r.prf.f1
            );
        }
    }
    for r in &report.enrichment {
        info!(
            "DNA {} near {} edges (≤{} nt): {:.3} vs {:.3} random, enrichment {:.2}, p = {:.4}",
            r.level,
            r.edges,
            r.result.distance,
            r.result.observed,
            r.result.random_mean,
            r.result.enrichment,
            r.result.p_value
        );
    }
    info!("{} files written to {}", written.len(), show_path(&out_dir));
    Ok(())
}
