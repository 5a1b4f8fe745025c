//! `dnalm tfidf`: tf-idf of k-mers over documents (one per input sequence).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use dnalm_seq::{GapPolicy, Output};
use dnalm_tokenizers::plot;
use dnalm_tokenizers::tfidf::{TfIdfBuilder, TfIdfReport};
use tracing::info;

use crate::args::TfidfArgs;
use crate::files::{create_dir, write_file};
use crate::input;
use crate::progress;

/// Two passes over the inputs (document frequencies, then weights), so
/// memory does not grow with the corpus. Standard input is read once and
/// kept in memory for the second pass.
pub fn compute(inputs: &[PathBuf], gaps: GapPolicy, k: usize, top: usize) -> Result<TfIdfReport> {
    let paths = input::paths(inputs);
    let from_stdin = paths.iter().any(|p| p == Path::new("-"));
    let mut kept: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut builder = TfIdfBuilder::new(k)?;
    let pb = progress::spinner(format!("tf-idf of {k}-mers: document frequencies"));
    input::for_each(&paths, |path, _, item| {
        let runs: Vec<Vec<u8>> = input::pieces(path, &item, gaps)?
            .into_iter()
            .map(|r| item.seq[r].to_vec())
            .collect();
        let refs: Vec<&[u8]> = runs.iter().map(Vec::as_slice).collect();
        builder.count_df(&refs)?;
        if from_stdin {
            kept.push(runs);
        }
        Ok(())
    })?;
    if builder.documents() == 0 {
        bail!("no documents in the input");
    }
    pb.set_message(format!("tf-idf of {k}-mers: weights"));
    let mut scorer = builder.finish_df()?;
    if from_stdin {
        for runs in &kept {
            let refs: Vec<&[u8]> = runs.iter().map(Vec::as_slice).collect();
            scorer.score(&refs)?;
        }
    } else {
        input::for_each(&paths, |path, _, item| {
            let ranges = input::pieces(path, &item, gaps)?;
            let refs: Vec<&[u8]> = ranges.into_iter().map(|r| &item.seq[r]).collect();
            scorer.score(&refs)?;
            Ok(())
        })?;
    }
    pb.finish_and_clear();
    Ok(scorer.finish(top)?)
}

pub fn write_outputs(dir: &Path, report: &TfIdfReport, k: usize) -> Result<()> {
    create_dir(dir)?;
    write_file(&dir.join("tfidf.tsv"), report.to_tsv().as_bytes())?;
    let bars: Vec<(String, f64)> = report
        .top
        .iter()
        .take(40)
        .map(|s| (s.kmer.clone(), s.sum_tfidf))
        .collect();
    if !bars.is_empty() {
        plot::bar_chart_svg(
            &dir.join("tfidf_top.svg"),
            &format!(
                "Top {}-mers by summed tf-idf ({} documents)",
                k, report.documents
            ),
            &bars,
            "sum of L2-normalised tf-idf",
        )?;
    }
    Ok(())
}

pub fn run(a: TfidfArgs) -> Result<()> {
    let report = compute(&a.input.inputs, a.input.gaps, a.k, a.top)?;
    if let Some(dir) = &a.out_dir {
        write_outputs(dir, &report, a.k)?;
    }
    info!(
        "{} documents, {} distinct {}-mers; top {} reported",
        report.documents,
        report.distinct_kmers,
        a.k,
        report.top.len()
    );
    let mut out = Output::create(a.output.as_deref())?;
    out.write_all(report.to_tsv().as_bytes())?;
    out.finish()?;
    Ok(())
}
