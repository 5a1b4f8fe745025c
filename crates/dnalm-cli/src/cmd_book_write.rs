//! `dnalm book write`: a genome read as a book with a book model.

use std::path::Path;

use anyhow::{bail, Context, Result};
use dnalm_book::book::Vocab;
use dnalm_book::boundaries::BoundaryParams;
use dnalm_book::group::GroupParams;
use dnalm_book::pipeline::{BookParams, BookPipeline};
use dnalm_book::text::GenomeText;
use dnalm_book::title::{TitleMode, TitleParams};
use dnalm_book::translate::Translator;
use dnalm_book::write::BookFiles;
use dnalm_book::{BookLm, BookTokenizer};
use dnalm_seq::{acgt_runs, FastxReader, RecordSelector};
use serde_json::json;
use tracing::info;

use crate::args::book_write::{BookWriteArgs, TitleChoice};
use crate::input::show_path;
use crate::progress;

fn params(a: &BookWriteArgs) -> BookParams {
    let boundary = |top_k, min_len| BoundaryParams {
        window: a.window,
        stride: a.stride,
        top_k,
        min_len,
        offset: a.offset,
        batch: a.batch_size,
    };
    BookParams {
        paragraphs: boundary(a.paragraph_top_k, a.min_paragraph),
        sentences: boundary(a.sentence_top_k, a.min_sentence),
        sections: GroupParams {
            threshold: a.section_threshold,
            max_members: a.section_max,
        },
        chapters: GroupParams {
            threshold: a.chapter_threshold,
            max_members: a.chapter_max,
        },
        titles: TitleParams {
            len: a.title_len,
            mode: match a.titles {
                TitleChoice::Greedy => TitleMode::Greedy,
                TitleChoice::Sample => TitleMode::Sample {
                    seed: a.seed,
                    temperature: a.title_temperature,
                },
            },
            batch: a.batch_size,
            ..TitleParams::default()
        },
        embed_batch: a.batch_size,
        ..BookParams::default()
    }
}

fn selector(a: &BookWriteArgs) -> Result<RecordSelector> {
    Ok(RecordSelector::new(
        a.records.iter().map(String::as_str),
        a.records_regex.as_deref(),
    )?)
}

/// A file, or stdin for `-` (an error when stdin is a terminal).
fn open_fasta(path: &Path) -> Result<FastxReader> {
    Ok(FastxReader::open(path)?)
}

/// A first pass over the genome (a file, not stdin): the bases of the selected
/// records for the progress bar, and the refusal of a genome without a single
/// A/C/G/T base before the model is loaded.
fn scan(path: &Path, select: &RecordSelector) -> Result<u64> {
    let mut total = 0u64;
    let mut acgt = 0u64;
    let mut records = 0usize;
    for rec in open_fasta(path)? {
        let rec = rec?;
        if select.matches(&rec.id) {
            records += 1;
            total += rec.seq.len() as u64;
            acgt += acgt_runs(&rec.seq)
                .iter()
                .map(|r| r.len() as u64)
                .sum::<u64>();
        }
    }
    if records == 0 {
        bail!("{}: no record matches the selection", show_path(path));
    }
    if acgt == 0 {
        bail!(
            "{}: no A/C/G/T bases in the selected records (no text to read)",
            show_path(path)
        );
    }
    Ok(total)
}

/// The book model's tokenizer, paragraph model (`<p_end>`) and base model.
type Models = (Box<dyn BookTokenizer>, Box<dyn BookLm>, Box<dyn BookLm>);

fn open_model(dir: &Path, batch: usize) -> Result<Models> {
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    let mut m = dnalm_tasks::book::BookModel::open(dir, &device)
        .with_context(|| format!("cannot open the book model {}", dir.display()))?;
    m.pend.batch_size = batch;
    m.base.batch_size = batch;
    Ok((Box::new(m.tokenizer), Box::new(m.pend), Box::new(m.base)))
}

pub fn run(a: BookWriteArgs) -> Result<()> {
    let select = selector(&a)?;
    let from_stdin = a.input == Path::new("-");
    let total = if from_stdin {
        None
    } else {
        Some(scan(&a.input, &select)?)
    };
    let (tok, pend, base) = open_model(&a.model, a.batch_size)?;
    let english = match &a.dictionary {
        Some(p) => {
            let t = Translator::load(p)?;
            t.check(tok.as_ref())?;
            Some(t)
        }
        None => None,
    };
    let pipeline = BookPipeline::new(tok.as_ref(), pend.as_ref(), base.as_ref(), params(&a))?;
    let vocab = Vocab::of(tok.as_ref())?;
    let source = show_path(&a.input);
    let mut files = BookFiles::create(&a.out_dir, &source, &vocab, english.as_ref())?;
    let mut text = GenomeText::new(open_fasta(&a.input)?, select);
    let pb = match total {
        Some(n) => progress::bar(n, "book: bases"),
        None => progress::spinner("book: reading the genome"),
    };
    let stats = pipeline.run(&mut text, &mut |ch| files.chapter(ch), &mut |bases| {
        pb.inc(bases)
    })?;
    pb.finish_and_clear();
    let run = json!({
        "command": "dnalm book write",
        "version": env!("CARGO_PKG_VERSION"),
        "input": source,
        "model": a.model.display().to_string(),
        "dictionary": a.dictionary.as_ref().map(|p| p.display().to_string()),
        "records": a.records,
        "records_regex": a.records_regex,
        "threads": rayon::current_num_threads(),
        "params": pipeline.params(),
        "stats": stats,
    });
    let written = files.finish(&run)?;
    info!(
        "{} bases in {:.1} s ({:.0} nt/s): {} words, {} sentences, {} paragraphs, {} sections, {} chapters, {} gaps",
        stats.bases,
        stats.seconds,
        stats.nt_per_s,
        stats.words,
        stats.sentences,
        stats.paragraphs,
        stats.sections,
        stats.chapters,
        stats.gaps
    );
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
