//! `dnalm embed`, `dnalm vectors`, `dnalm attention` and `dnalm motifs`:
//! wiring for `dnalm_tasks::{embed, vectors, attention, motif}`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dnalm_model::Device;
use dnalm_tasks::attention::AttentionMaps;
use dnalm_tasks::embed::{EmbedOptions, SeqPooling};
use dnalm_tasks::model::TaskModel;
use dnalm_tasks::motif::MotifOptions;
use dnalm_tasks::report;
use dnalm_tasks::table::{is_table, read_table};
use dnalm_tasks::vectors::{contextual, WordVectors};
use tracing::{info, warn};

use crate::args::{
    AttentionArgs, EmbedArgs, ModelArgs, MotifsArgs, PoolingChoice, VectorFormat, VectorsArgs,
};
use crate::input::{for_each, show_path};

/// The model on the CPU without autodiff: no dropout, same input same output.
fn open_model(a: &ModelArgs) -> Result<(TaskModel, Device)> {
    if a.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    let model = TaskModel::open(&a.model, a.tokenizer.as_deref(), &device)
        .with_context(|| format!("--model {}", a.model.display()))?;
    info!(
        "model {} ({} layers, {} heads, hidden {}), tokenizer {}",
        model.pretrained.dir.display(),
        model.pretrained.config.num_hidden_layers,
        model.pretrained.config.num_attention_heads,
        model.pretrained.config.hidden_size,
        model.tokenizer_path.display()
    );
    Ok((model, device))
}

/// Names, sequences (upper case, N kept) and labels when a table has them.
type Inputs = (Vec<String>, Vec<Vec<u8>>, Option<Vec<u8>>);

fn read_inputs(inputs: &[PathBuf]) -> Result<Inputs> {
    if let [p] = inputs {
        if p != Path::new("-") && is_table(p)? {
            let t = read_table(p, false)?;
            return Ok((t.names, t.seqs, t.labels));
        }
    }
    let (mut names, mut seqs) = (Vec::new(), Vec::new());
    for_each(inputs, |_, _, item| {
        names.push(item.name);
        seqs.push(item.seq);
        Ok(())
    })?;
    if seqs.is_empty() {
        bail!("no sequences in the input");
    }
    Ok((names, seqs, None))
}

pub fn embed(a: EmbedArgs) -> Result<()> {
    let (model, device) = open_model(&a.model)?;
    let (names, seqs, labels) = read_inputs(&a.inputs)?;
    let opts = EmbedOptions {
        pooling: match a.pooling {
            PoolingChoice::Cls => SeqPooling::Cls,
            PoolingChoice::Mean => SeqPooling::Mean,
            PoolingChoice::Max => SeqPooling::Max,
        },
        layer: a.layer,
        max_len: a.max_len,
        overlap: a.overlap,
        batch_size: a.model.batch_size,
    };
    let pb = crate::progress::bar(0, "embedding chunks");
    let e =
        dnalm_tasks::embed::embed(&model, &device, &names, &seqs, &opts, &mut |done, total| {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        })?;
    pb.finish_and_clear();
    let chunks: usize = e.records.iter().map(|r| r.chunks).sum();
    info!(
        "{} sequences, {chunks} chunks -> [{} x {}]",
        seqs.len(),
        seqs.len(),
        e.hidden
    );
    let summary = report::EmbedSummary {
        input: a
            .inputs
            .iter()
            .map(|p| show_path(p))
            .collect::<Vec<_>>()
            .join(", "),
        model: a.model.model.display().to_string(),
        pooling: opts.pooling.name().to_string(),
        max_len: opts
            .max_len
            .min(model.pretrained.config.max_position_embeddings),
        overlap: opts.overlap,
    };
    report::write_embed(&a.out_dir, &summary, &e, &names, labels.as_deref())?;
    info!("wrote {}", a.out_dir.join("embeddings.npy").display());
    Ok(())
}

pub fn vectors(a: VectorsArgs) -> Result<()> {
    if a.out_dir.is_none() && a.neighbours.is_none() {
        bail!("nothing to do: give --out-dir (write the vectors) and/or --neighbours TOKEN");
    }
    if a.contextual.is_some() && a.out_dir.is_none() {
        bail!("--contextual needs --out-dir");
    }
    let (model, device) = open_model(&a.model)?;
    let wv = WordVectors::from_model(&model);
    // Everything is computed before anything is written.
    let neighbours = match &a.neighbours {
        Some(t) => Some(wv.neighbours(t, a.top)?),
        None => None,
    };
    let mut ctx = Vec::new();
    if let Some(p) = &a.contextual {
        let (names, seqs, _) = read_inputs(std::slice::from_ref(p))?;
        for (n, s) in names.into_iter().zip(seqs) {
            let c = contextual(&model, &device, &s, a.layer)
                .with_context(|| format!("{}: {n}", show_path(p)))?;
            ctx.push((n, c));
        }
    }
    if let Some(dir) = &a.out_dir {
        let (w2v, npy) = match a.format {
            VectorFormat::Word2vec => (true, false),
            VectorFormat::Npy => (false, true),
            VectorFormat::Both => (true, true),
        };
        report::write_word_vectors(dir, &wv, w2v, npy)?;
        if let (Some(t), Some(rows)) = (&a.neighbours, &neighbours) {
            report::write_neighbours(dir, t, rows)?;
        }
        for (i, (n, c)) in ctx.iter().enumerate() {
            report::write_contextual(dir, i + 1, n, c)?;
        }
        info!(
            "{} token vectors of dimension {} -> {}",
            wv.tokens.len(),
            wv.dim,
            dir.display()
        );
    }
    if let Some(rows) = &neighbours {
        let mut out = std::io::stdout().lock();
        out.write_all(report::neighbours_tsv(rows).as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

pub fn attention(a: AttentionArgs) -> Result<()> {
    if a.max_records == 0 {
        bail!("--max-records must be at least 1");
    }
    let (model, device) = open_model(&a.model)?;
    let (names, seqs, _) = read_inputs(&a.inputs)?;
    let mut maps = Vec::new();
    for (i, (n, s)) in names.iter().zip(&seqs).take(a.max_records).enumerate() {
        let m = AttentionMaps::compute(&model, &device, n, s)
            .with_context(|| format!("record {} ({n})", i + 1))?;
        maps.push((format!("seq{}", i + 1), m));
    }
    let estimate: u64 = maps
        .iter()
        .map(|(_, m)| report::attention_bytes_estimate(m))
        .sum();
    if estimate > LARGE_OUTPUT {
        warn!(
            "about to write about {} to {} ({} record(s)); --max-records 1 or shorter sequences write less",
            mb(estimate),
            a.out_dir.display(),
            maps.len()
        );
    }
    let mut written = 0;
    for (stem, m) in &maps {
        written += report::write_attention(&a.out_dir, stem, m)?;
    }
    let rows: Vec<(String, &AttentionMaps)> = maps.iter().map(|(s, m)| (s.clone(), m)).collect();
    report::write_attention_table(&a.out_dir, &rows)?;
    info!(
        "{} sequence(s), {} written -> {}",
        maps.len(),
        mb(written),
        a.out_dir.join("results.md").display()
    );
    Ok(())
}

/// Output beyond which `attention` warns before writing (a 300-nt promoter
/// (~380 hybrid tokens) in a 12-layer, 12-head
/// model alone is about 230 MB).
const LARGE_OUTPUT: u64 = 100_000_000;

/// Bytes for a log line: `12.3 MB (12345678 bytes)`.
fn mb(bytes: u64) -> String {
    format!("{:.1} MB ({bytes} bytes)", bytes as f64 / 1e6)
}

pub fn motifs(a: MotifsArgs) -> Result<()> {
    if !(0.0 < a.alpha && a.alpha <= 1.0) {
        bail!("--alpha {} must be in (0, 1]", a.alpha);
    }
    let (model, device) = open_model(&a.model)?;
    let t = read_table(&a.input, true)?;
    let labels = t.labels.expect("read_table(.., true) has labels");
    let mut keep: Vec<usize> = (0..t.seqs.len())
        .filter(|&i| t.seqs[i].iter().all(|&b| dnalm_seq::is_acgt(b)))
        .collect();
    let dropped = t.seqs.len() - keep.len();
    if a.max_per_class > 0 {
        let mut picked = Vec::new();
        for c in [1u8, 0] {
            let idx = keep.iter().copied().filter(|&i| labels[i] == c);
            picked.extend(dnalm_seq::reservoir_sample(
                idx,
                a.max_per_class,
                a.seed ^ u64::from(c),
            ));
        }
        picked.sort_unstable();
        keep = picked;
    }
    let seqs: Vec<Vec<u8>> = keep.iter().map(|&i| t.seqs[i].clone()).collect();
    let labs: Vec<u8> = keep.iter().map(|&i| labels[i]).collect();
    info!(
        "{} sequences ({} positive), {dropped} left out for holding N",
        seqs.len(),
        labs.iter().filter(|&&l| l == 1).count()
    );
    let opts = MotifOptions {
        min_len: a.min_len,
        k: a.motif_k,
        min_hits: a.min_hits,
        alpha: a.alpha,
        batch_size: a.model.batch_size,
    };
    let pb = crate::progress::bar(seqs.len() as u64, "attention");
    let r = dnalm_tasks::motif::analyse(&model, &device, &seqs, &labs, &opts, &mut |d, _| {
        pb.set_position(d as u64)
    })
    .with_context(|| show_path(&a.input))?;
    pb.finish_and_clear();
    report::write_motifs(
        &a.out_dir,
        &show_path(&a.input),
        &r,
        a.alpha,
        a.top,
        dropped,
    )?;
    info!(
        "{} motifs tested, {} with q < {}; tf-idf vs attention Spearman {:.3} (pooled)",
        r.motifs.len(),
        r.motifs.iter().filter(|m| m.q_value < a.alpha).count(),
        a.alpha,
        r.tfidf.pooled_spearman
    );
    Ok(())
}
