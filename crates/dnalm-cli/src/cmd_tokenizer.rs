//! `dnalm tokenizer train|encode|decode|stats|export`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use dnalm_seq::{GapPolicy, Output};
use dnalm_tokenizers::stats::{TokenCounter, TokenStats};
use dnalm_tokenizers::{
    plot, AnyTokenizer, BpeCorpus, BpeTrainer, BpeTraining, Framing, HybridTokenizer, KmerOrder,
    KmerTokenizer, NonOverlappingKmerTokenizer, Tokenizer, VarKmerTokenizer,
};
use rayon::prelude::*;
use serde_json::json;
use tracing::info;

use clap::ValueEnum;

use crate::args::{DecodeArgs, EncodeArgs, EncodeFormat, ExportArgs, Kind, StatsArgs, TrainArgs};
use crate::files::{create_dir, write_file};
use crate::input;
use crate::progress;

/// Read the gap-free pieces of all inputs into a BPE corpus.
pub fn bpe_corpus(inputs: &[PathBuf], gaps: GapPolicy) -> Result<BpeCorpus> {
    let pb = progress::spinner("reading the training corpus");
    let mut corpus = BpeCorpus::new();
    input::for_each(inputs, |path, _, item| {
        for r in input::pieces(path, &item, gaps)? {
            corpus.push(&item.seq[r])?;
        }
        if corpus.segments().is_multiple_of(4096) {
            pb.set_message(format!("{:.1} Mb read", corpus.bases() as f64 / 1e6));
        }
        Ok(())
    })?;
    pb.finish_and_clear();
    Ok(corpus)
}

/// Train BPE with a spinner and a summary line; returns the training and its report.
pub fn train_bpe(corpus: BpeCorpus, merges: usize) -> Result<(BpeTraining, serde_json::Value)> {
    let pb = progress::spinner(format!(
        "training BPE-{merges} on {:.1} Mb",
        corpus.bases() as f64 / 1e6
    ));
    let t0 = Instant::now();
    let t = BpeTrainer::new(merges)?.train_corpus(corpus)?;
    let secs = t0.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let vocab = t.model.vocab();
    let used = t.token_counts.iter().filter(|&&c| c > 0).count();
    let tokens: u64 = t.token_counts.iter().sum();
    let has_cg = vocab.id("CG").is_some();
    let cg_used = vocab
        .id("CG")
        .is_some_and(|id| t.token_counts[id as usize] > 0);
    let lens: Vec<usize> = vocab.tokens()[5..].iter().map(String::len).collect();
    let mean_len = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
    let six = lens.iter().filter(|&&l| l == 6).count();
    info!(
        "BPE-{merges}: {} tokens (5 specials + 4 bases + {} merges); {used} of {} non-special tokens used; \
         mean token length {mean_len:.2} nt, {six} 6-mers; \"CG\" {}; {tokens} tokens on {} segments \
         ({:.2} nt/token); {} pairs skipped as duplicates; {secs:.2} s",
        vocab.len(),
        t.merges.len(),
        vocab.len() - 5,
        if has_cg { if cg_used { "is a token (used)" } else { "is a token (unused)" } } else { "is not a token" },
        t.segments,
        t.bases as f64 / tokens.max(1) as f64,
        t.skipped_pairs,
    );
    let report = json!({
        "merges": t.merges.len(),
        "vocab_size": vocab.len(),
        "segments": t.segments,
        "bases": t.bases,
        "tokens": tokens,
        "nt_per_token": t.bases as f64 / tokens.max(1) as f64,
        "used_tokens": used,
        "mean_token_length": mean_len,
        "six_mer_tokens": six,
        "has_cg_token": has_cg,
        "skipped_duplicate_pairs": t.skipped_pairs,
        "tie_break": "higher count; then smaller left id; then smaller right id (older tokens win)",
    });
    Ok((t, report))
}

fn write_bpe_report(dir: &Path, t: &BpeTraining, report: &serde_json::Value) -> Result<()> {
    create_dir(dir)?;
    let v = t.model.vocab();
    let mut merges = String::from("rank\tleft\tright\ttoken\tpair_count\tapplied\n");
    for (r, m) in t.merges.iter().enumerate() {
        merges.push_str(&format!(
            "{r}\t{}\t{}\t{}\t{}\t{}\n",
            v.token(m.left)?,
            v.token(m.right)?,
            v.token(m.result)?,
            m.pair_count,
            m.applied
        ));
    }
    write_file(&dir.join("merges.tsv"), merges.as_bytes())?;
    let mut counts = String::from("id\ttoken\tlength\tcount\n");
    for (id, c) in t.token_counts.iter().enumerate().skip(5) {
        let tok = v.token(id as u32)?;
        counts.push_str(&format!("{id}\t{tok}\t{}\t{c}\n", tok.len()));
    }
    write_file(&dir.join("token_counts.tsv"), counts.as_bytes())?;
    write_file(
        &dir.join("training.json"),
        (serde_json::to_string_pretty(report)? + "\n").as_bytes(),
    )?;
    Ok(())
}

pub fn train(a: TrainArgs) -> Result<()> {
    let kind_name = a
        .kind
        .to_possible_value()
        .map_or(String::new(), |v| v.get_name().to_string());
    let needs_corpus = matches!(a.kind, Kind::Bpe | Kind::Hybrid);
    if !needs_corpus && !a.input.inputs.is_empty() {
        bail!("--kind {kind_name} needs no training corpus; drop the inputs");
    }
    // Check everything that can be checked before a long training run, and
    // open the output first, so a bad path or parameter fails at once and
    // leaves no report behind.
    if a.kind == Kind::Hybrid {
        KmerTokenizer::new(a.k, KmerOrder::Lexicographic)?;
        if a.segment_len < a.k {
            bail!(
                "--segment-len {} is shorter than --k {}",
                a.segment_len,
                a.k
            );
        }
    }
    BpeTrainer::new(a.merges)?;
    let mut out = Output::create(Some(&a.output))?;
    let (tok, report) = match a.kind {
        Kind::Kmer => (
            AnyTokenizer::Kmer(KmerTokenizer::new(a.k, a.order.parse::<KmerOrder>()?)?),
            None,
        ),
        Kind::KmerNonoverlap => (
            AnyTokenizer::KmerNonoverlap(NonOverlappingKmerTokenizer::new(a.k)?),
            None,
        ),
        Kind::Varkmer => (
            AnyTokenizer::Varkmer(VarKmerTokenizer::new(a.min_k, a.max_k, a.seed)?),
            None,
        ),
        Kind::Bpe | Kind::Hybrid => {
            let corpus = bpe_corpus(&a.input.inputs, a.input.gaps)?;
            let (t, mut report) = train_bpe(corpus, a.merges)?;
            if let Some(dir) = &a.report_dir {
                write_bpe_report(dir, &t, &report)?;
            }
            if a.kind == Kind::Bpe {
                (AnyTokenizer::Bpe(t.model), Some(report))
            } else {
                let h = HybridTokenizer::new(t.model, a.k, a.segment_len)?;
                let p = h.parts();
                info!(
                    "hybrid vocabulary: {} specials + {} {}-mers + {} BPE tokens not already a {}-mer \
                     = {} ({} BPE tokens spell a {}-mer and share its id)",
                    p.specials, p.kmers, a.k, p.bpe_added, a.k, p.total, p.bpe_shared_with_kmers, a.k
                );
                report["hybrid_parts"] = serde_json::to_value(p)?;
                (AnyTokenizer::Hybrid(Box::new(h)), Some(report))
            }
        }
    };
    info!(
        "{} tokenizer, {} tokens -> {}",
        tok.kind(),
        tok.vocab().len(),
        a.output.display()
    );
    out.write_all(tok.to_json(report).as_bytes())?;
    out.finish()?;
    Ok(())
}

/// What `encode_batches` calls with each batch and its ids.
type BatchFn<'a> = dyn FnMut(&[Piece], Vec<Vec<u32>>) -> Result<()> + 'a;

/// A gap-free piece of an input sequence.
struct Piece {
    record: String,
    start: usize,
    end: usize,
    seq: Vec<u8>,
}

/// Read inputs in batches of pieces and hand each batch, with its ids
/// computed on all threads, to `f`, in input order.
fn encode_batches(
    tok: &AnyTokenizer,
    inputs: &[PathBuf],
    gaps: GapPolicy,
    mut f: impl FnMut(&[Piece], Vec<Vec<u32>>) -> Result<()>,
) -> Result<()> {
    const BATCH_NT: usize = 8 << 20;
    let mut batch: Vec<Piece> = Vec::new();
    let mut nt = 0usize;
    let flush = |batch: &mut Vec<Piece>, f: &mut BatchFn<'_>| -> Result<()> {
        let ids = batch
            .par_iter()
            .map(|p| {
                tok.encode(&p.seq)
                    .with_context(|| format!("{}:{}-{}: cannot encode", p.record, p.start, p.end))
            })
            .collect::<Result<Vec<_>>>()?;
        f(batch, ids)?;
        batch.clear();
        Ok(())
    };
    input::for_each(inputs, |path, _, item| {
        for r in input::pieces(path, &item, gaps)? {
            nt += r.len();
            batch.push(Piece {
                record: item.name.clone(),
                start: r.start,
                end: r.end,
                seq: item.seq[r].to_vec(),
            });
        }
        if nt >= BATCH_NT {
            flush(&mut batch, &mut f)?;
            nt = 0;
        }
        Ok(())
    })?;
    flush(&mut batch, &mut f)
}

fn push_ids(line: &mut Vec<u8>, ids: &[u32]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        line.extend_from_slice(id.to_string().as_bytes());
    }
}

pub fn encode(a: EncodeArgs) -> Result<()> {
    let tok = AnyTokenizer::load(&a.tokenizer)?;
    let framing = Framing {
        add_special_tokens: a.add_special_tokens,
        max_len: a.max_len.map(|m| m as usize),
    };
    let mut out = Output::create(a.output.as_deref())?;
    if a.format == EncodeFormat::Tsv {
        out.write_all(b"record\tstart\tend\tids\n")?;
    }
    let pb = progress::spinner("encoding");
    let (mut pieces, mut tokens, mut nt, mut truncated) = (0u64, 0u64, 0u64, 0u64);
    let mut line = Vec::new();
    encode_batches(&tok, &a.input.inputs, a.input.gaps, |batch, ids| {
        for (p, ids) in batch.iter().zip(ids) {
            let framed;
            let ids: &[u32] = if framing == Framing::default() {
                &ids
            } else {
                framed = framing.apply(&ids, tok.vocab().specials())?;
                if framed.truncated > 0 {
                    truncated += 1;
                }
                &framed.ids
            };
            line.clear();
            match a.format {
                EncodeFormat::Ids => push_ids(&mut line, ids),
                EncodeFormat::Tsv => {
                    line.extend_from_slice(
                        format!("{}\t{}\t{}\t", p.record, p.start, p.end).as_bytes(),
                    );
                    push_ids(&mut line, ids);
                }
                EncodeFormat::Tokens => {
                    for (i, &id) in ids.iter().enumerate() {
                        if i > 0 {
                            line.push(b' ');
                        }
                        line.extend_from_slice(tok.vocab().token(id)?.as_bytes());
                    }
                }
            }
            line.push(b'\n');
            out.write_all(&line)?;
            pieces += 1;
            tokens += ids.len() as u64;
            nt += p.seq.len() as u64;
        }
        pb.set_message(format!("{pieces} sequences, {:.1} Mb", nt as f64 / 1e6));
        Ok(())
    })?;
    pb.finish_and_clear();
    if pieces == 0 {
        bail!("no A/C/G/T sequence to encode in the input");
    }
    info!(
        "{pieces} sequences, {nt} nt -> {tokens} ids with the {} tokenizer{}",
        tok.kind(),
        if truncated > 0 {
            format!(" ({truncated} truncated to --max-len)")
        } else {
            String::new()
        }
    );
    out.finish()?;
    Ok(())
}

pub fn decode(a: DecodeArgs) -> Result<()> {
    let tok = AnyTokenizer::load(&a.tokenizer)?;
    let path = a.input.clone().unwrap_or_else(|| PathBuf::from("-"));
    let shown = input::show_path(&path);
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        if std::io::stdin().is_terminal() {
            bail!("no input: give a file of token ids, or pipe token ids into stdin");
        }
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&path).with_context(|| format!("cannot open {shown}"))?,
        ))
    };
    let mut out = Output::create(a.output.as_deref())?;
    let mut n = 0u64;
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{shown}: read error"))?;
        let line = line.trim();
        if line.is_empty() || line == "record\tstart\tend\tids" {
            continue;
        }
        let field = line.rsplit('\t').next().unwrap_or(line);
        let ids = field
            .split_ascii_whitespace()
            .map(|w| {
                w.parse::<u32>()
                    .with_context(|| format!("{shown}:{}: {w:?} is not a token id", i + 1))
            })
            .collect::<Result<Vec<_>>>()?;
        let seq = tok
            .decode(&ids)
            .with_context(|| format!("{shown}:{}", i + 1))?;
        out.write_all(&seq)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    if n == 0 {
        bail!("{shown}: no ids to decode");
    }
    out.finish()?;
    Ok(())
}

pub fn stats(a: StatsArgs) -> Result<()> {
    let tok = AnyTokenizer::load(&a.tokenizer)?;
    let st = compute_stats(&tok, &a.input.inputs, a.input.gaps)?;
    write_stats(&a.out_dir, &tok, &st)?;
    let mut out = Output::create(None)?;
    out.write_all(st.summary_tsv().as_bytes())?;
    out.finish()?;
    Ok(())
}

pub fn compute_stats(
    tok: &AnyTokenizer,
    inputs: &[PathBuf],
    gaps: GapPolicy,
) -> Result<TokenStats> {
    let mut counter = TokenCounter::with_vocab_len(tok.vocab().len());
    let pb = progress::spinner(format!("counting {} tokens", tok.kind()));
    encode_batches(tok, inputs, gaps, |batch, ids| {
        for (p, ids) in batch.iter().zip(ids) {
            counter.add_sequence(&ids, p.seq.len());
        }
        pb.set_message(format!(
            "counting {} tokens: {:.1} Mb",
            tok.kind(),
            counter.nucleotides() as f64 / 1e6
        ));
        Ok(())
    })?;
    pb.finish_and_clear();
    if counter.sequences() == 0 {
        bail!("no A/C/G/T sequence in the input");
    }
    Ok(TokenStats::compute(tok.vocab(), &counter)?)
}

pub fn write_stats(dir: &Path, tok: &AnyTokenizer, st: &TokenStats) -> Result<()> {
    create_dir(dir)?;
    write_file(&dir.join("frequencies.tsv"), st.frequency_tsv().as_bytes())?;
    write_file(&dir.join("summary.tsv"), st.summary_tsv().as_bytes())?;
    write_file(&dir.join("summary.md"), st.summary_markdown().as_bytes())?;
    write_file(
        &dir.join("stats.json"),
        (serde_json::to_string_pretty(st)? + "\n").as_bytes(),
    )?;
    let kind = tok.kind();
    plot::rank_frequency_svg(
        &dir.join("rank_frequency.svg"),
        &format!("Token rank vs frequency ({kind})"),
        &st.counts_desc(),
    )?;
    plot::length_distribution_svg(
        &dir.join("length_distribution.svg"),
        &format!("Token length distribution ({kind})"),
        &st.length_occurrences(),
    )?;
    Ok(())
}

pub fn export(a: ExportArgs) -> Result<()> {
    let tok = AnyTokenizer::load(&a.tokenizer)?;
    create_dir(&a.out_dir)?;
    for (name, contents) in tok.hf_files(a.model_max_length) {
        write_file(&a.out_dir.join(name), contents.as_bytes())?;
    }
    info!(
        "{} tokenizer ({} tokens) exported to {}: tokenizer.json ({}), tokenizer_config.json, vocab.txt",
        tok.kind(),
        tok.vocab().len(),
        a.out_dir.display(),
        if matches!(tok, AnyTokenizer::Bpe(_)) {
            "BPE model on raw sequence"
        } else {
            "WordLevel over whitespace: input must be space-separated k-mers"
        }
    );
    Ok(())
}
