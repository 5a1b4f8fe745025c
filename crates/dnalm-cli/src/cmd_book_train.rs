//! `dnalm book train`: a book model from an English corpus and a genome
//! (the pipeline is `dnalm_tasks::book::train`; this file resolves the
//! inputs, shows progress and prints the report).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dnalm_book::english::austen_rdb_path;
use dnalm_book::EnglishCorpus;
use dnalm_tasks::book::{train_book_model, BookEvent, BookTrainConfig};
use indicatif::ProgressBar;
use tracing::info;

use crate::args::BookTrainArgs;
use crate::progress;

/// `austen` or a path.
fn english_path(arg: &str) -> Result<PathBuf> {
    if arg == "austen" {
        let p = austen_rdb_path();
        if !p.is_file() {
            bail!(
                "--english austen: {} is absent; fetch Jane Austen's novels (Debian package r-cran-janeaustenr) with scripts/fetch-english.sh, or give a plain-text file",
                p.display()
            );
        }
        return Ok(p);
    }
    Ok(PathBuf::from(arg))
}

pub fn train(a: BookTrainArgs) -> Result<()> {
    let english = english_path(&a.english)?;
    let corpus = EnglishCorpus::open(&english)?;
    if !a.genome.is_file() {
        bail!("{}: no such file", a.genome.display());
    }
    let cfg = BookTrainConfig {
        vocab_size: a.vocab_size,
        preset: a.preset.clone(),
        context: a.context,
        batch_size: a.batch_size,
        steps: a.steps,
        pend_steps: a.pend_steps,
        transfer_steps: a.transfer_steps,
        lr: a.lr,
        tune_lr: a.tune_lr,
        max_dna_fragments: a.max_dna_fragments,
        eval_windows: a.eval_windows,
        test_pairs: a.test_pairs,
        seed: a.seed,
        ..BookTrainConfig::default()
    };
    if cfg.steps == 0 || cfg.batch_size == 0 {
        bail!("--steps and --batch-size must be at least 1");
    }
    info!(
        "English: {} ({} documents, {} paragraphs); genome: {}",
        english.display(),
        corpus.docs.len(),
        corpus.n_paragraphs(),
        a.genome.display()
    );
    let spin = progress::spinner("reading the genome, training the tokenizer");
    let mut bar: Option<ProgressBar> = None;
    let mut every = 1;
    let report = train_book_model(&corpus, &a.genome, &a.out_dir, &cfg, &mut |e| match e {
        BookEvent::Note(s) => {
            spin.suspend(|| info!("{s}"));
        }
        BookEvent::Stage { name, total } => {
            spin.finish_and_clear();
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            info!("{name}: {total} updates");
            every = (total / 20).max(1);
            bar = Some(progress::bar(total, name));
        }
        BookEvent::Step { name, step, loss } => {
            if let Some(b) = &bar {
                b.set_position(step);
                b.set_message(format!("loss {loss:.3}"));
                let total = b.length().unwrap_or(0);
                if step % every == 0 || step == total {
                    b.suspend(|| info!("{name} {step}/{total}: loss {loss:.4}"));
                }
            }
        }
    })
    .with_context(|| format!("training a book model into {}", a.out_dir.display()))?;
    spin.finish_and_clear();
    if let Some(b) = bar.take() {
        b.finish_and_clear();
    }
    let md = std::fs::read_to_string(a.out_dir.join("train_report.md"))
        .with_context(|| format!("{}", a.out_dir.join("train_report.md").display()))?;
    print!("{md}");
    info!(
        "book model in {} ({} measured values; losses.tsv, loss.svg, train_report.tsv)",
        a.out_dir.display(),
        report.metrics.len()
    );
    Ok(())
}
