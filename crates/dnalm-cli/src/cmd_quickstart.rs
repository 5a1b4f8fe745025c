//! `dnalm quickstart`: the whole pipeline on a built-in default, into one
//! folder with a Markdown report. It calls the same code as the commands.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use dnalm_seq::synth::{demo_genome_annotated, to_fasta, DemoGenome, SynthRecord, SynthTss};
use dnalm_seq::{BedWriter, GapPolicy, Output, SplitMode, Strand};
use dnalm_tokenizers::{AnyTokenizer, HybridTokenizer, KmerOrder, KmerTokenizer, Tokenizer};
use tracing::info;

use crate::args::{CorpusArgs, CorpusFormat, InputArgs, QuickstartArgs};
use crate::files::{create_dir, write_file};
use crate::{cmd_corpus, cmd_tfidf, cmd_tokenizer};

pub fn run(a: QuickstartArgs) -> Result<()> {
    let t0 = Instant::now();
    let dir = &a.out_dir;
    create_dir(dir)?;
    let mut md = String::new();
    writeln!(md, "# dnalm quickstart report\n")?;

    // 1. Genome (and, for the demonstration genome, the TSSs it planted).
    let mut planted: Option<(Vec<SynthRecord>, Vec<SynthTss>)> = None;
    let genome: PathBuf = match &a.genome {
        Some(g) => {
            writeln!(md, "Genome: `{}` (given with --genome).\n", g.display())?;
            g.clone()
        }
        None => {
            let p = DemoGenome {
                records: a.records,
                record_len: a.record_len,
                seed: a.seed,
            };
            let (recs, tss) = demo_genome_annotated(&p);
            let path = dir.join("genome.fa.gz");
            let mut out = Output::create(Some(&path))?;
            out.write_all(&to_fasta(&recs, 60))?;
            out.finish()?;
            let total: usize = recs.iter().map(|r| r.seq.len()).sum();
            let n = recs
                .iter()
                .flat_map(|r| &r.seq)
                .filter(|&&b| b == b'N')
                .count();
            let lower = recs
                .iter()
                .flat_map(|r| &r.seq)
                .filter(|b| b.is_ascii_lowercase())
                .count();
            info!(
                "demonstration genome: {} records, {total} bp -> {}",
                recs.len(),
                path.display()
            );
            writeln!(
                md,
                "Genome: a seeded demonstration genome (seed {}): {} records, {total} bp, \
                 {n} N, {:.1}% soft-masked repeats (lower case), written to `genome.fa.gz`. \
                 It is synthetic (Markov background with CpG depletion, mutated repeat copies, \
                 microsatellites, TATA-box promoter-like regions, N gaps); run with \
                 `--genome FASTA` for a real one.\n",
                a.seed,
                recs.len(),
                100.0 * lower as f64 / total as f64
            )?;
            planted = Some((recs, tss));
            path
        }
    };

    // 2. Corpus: 305-nt windows on A/C/G/T runs.
    let segments = dir.join("corpus").join("segments.txt");
    create_dir(&dir.join("corpus"))?;
    let n_segments = cmd_corpus::run(CorpusArgs {
        input: InputArgs {
            inputs: vec![genome.clone()],
            gaps: GapPolicy::Split,
        },
        output: Some(segments.clone()),
        window: 305,
        stride: None,
        min_len: 1,
        keep_tail: false,
        select: Vec::new(),
        select_regex: None,
        sample: None,
        seed: a.seed,
        format: CorpusFormat::Lines,
        test_fraction: None,
        split: SplitMode::Position { block_len: 100_000 },
        block_len: 100_000,
        out_dir: None,
    })
    .context("building the corpus")?;
    let inputs = vec![segments.clone()];
    writeln!(
        md,
        "Corpus: {n_segments} non-overlapping 305-nt segments of A/C/G/T (windows never cross an N gap; \
         soft-masked bases upper-cased): `corpus/segments.txt`.\n"
    )?;

    // 3. BPE and the hybrid vocabulary.
    let tokdir = dir.join("tokenizers");
    create_dir(&tokdir)?;
    let corpus = cmd_tokenizer::bpe_corpus(&inputs, GapPolicy::Split)?;
    let (training, report) = cmd_tokenizer::train_bpe(corpus, a.merges)?;
    let bpe = AnyTokenizer::Bpe(training.model.clone());
    let bpe_path = tokdir.join(format!("bpe{}.dnalm.json", a.merges));
    write_file(&bpe_path, bpe.to_json(Some(report.clone())).as_bytes())?;
    let hybrid = HybridTokenizer::new(training.model.clone(), 6, 305)?;
    let parts = hybrid.parts();
    let hybrid = AnyTokenizer::Hybrid(Box::new(hybrid));
    write_file(
        &tokdir.join("hybrid.dnalm.json"),
        hybrid.to_json(None).as_bytes(),
    )?;
    let kmer = AnyTokenizer::Kmer(KmerTokenizer::new(6, KmerOrder::Lexicographic)?);
    write_file(
        &tokdir.join("kmer6.dnalm.json"),
        kmer.to_json(None).as_bytes(),
    )?;
    let hf_dir = dir.join("hf").join(format!("bpe{}", a.merges));
    create_dir(&hf_dir)?;
    for (name, contents) in bpe.hf_files(512) {
        write_file(&hf_dir.join(name), contents.as_bytes())?;
    }
    let vocab = training.model.vocab();
    let used = training.token_counts.iter().filter(|&&c| c > 0).count();
    writeln!(md, "## BPE-{}\n", a.merges)?;
    writeln!(
        md,
        "- {} tokens: 5 specials + 4 bases + {} merges; {used} of {} non-special tokens used on the corpus\n\
         - mean token length {:.2} nt (vocabulary), {:.2} nt per token on the corpus\n\
         - \"CG\" is {}a token; {} 6-mer tokens\n\
         - merges and counts in `tokenizers/bpe{}.dnalm.json`; Hugging Face files in `hf/bpe{}/`\n",
        vocab.len(),
        training.merges.len(),
        vocab.len() - 5,
        report["mean_token_length"].as_f64().unwrap_or(f64::NAN),
        report["nt_per_token"].as_f64().unwrap_or(f64::NAN),
        if vocab.id("CG").is_some() { "" } else { "not " },
        report["six_mer_tokens"],
        a.merges,
        a.merges,
    )?;
    writeln!(
        md,
        "First merges (rank: left + right -> token, pair count):\n"
    )?;
    for (r, m) in training.merges.iter().take(10).enumerate() {
        writeln!(
            md,
            "- {r}: {} + {} -> {} ({})",
            vocab.token(m.left)?,
            vocab.token(m.right)?,
            vocab.token(m.result)?,
            m.pair_count
        )?;
    }
    writeln!(md, "\n## Hybrid vocabulary (6-mers + BPE-{})\n", a.merges)?;
    writeln!(
        md,
        "{} specials + {} 6-mers + {} BPE tokens that are not 6-mers = **{}** tokens \
         ({} BPE tokens spell a 6-mer and share its id). The publication reports 4461 on its corpus; \
         the BPE part depends on the corpus, so dnalm does not pad or trim to reach it.\n",
        parts.specials, parts.kmers, parts.bpe_added, parts.total, parts.bpe_shared_with_kmers
    )?;

    // 4. Token statistics for three schemes.
    writeln!(md, "## Token statistics on the corpus\n")?;
    writeln!(
        md,
        "| tokenizer | vocabulary | used | tokens per segment | nt per token | normalised entropy | Gini |\n|---|---|---|---|---|---|---|"
    )?;
    info!(
        "hybrid vocabulary: {} tokens ({} specials + {} 6-mers + {} BPE tokens)",
        parts.total, parts.specials, parts.kmers, parts.bpe_added
    );
    for (name, tok) in [("bpe", &bpe), ("hybrid", &hybrid), ("kmer6", &kmer)] {
        info!("token statistics: {name}");
        let st = cmd_tokenizer::compute_stats(tok, &inputs, GapPolicy::Split)?;
        cmd_tokenizer::write_stats(&dir.join("stats").join(name), tok, &st)?;
        let v = serde_json::to_value(&st)?;
        let f = |k: &str| {
            v[k].as_f64()
                .map_or("NA".to_string(), |x| format!("{x:.3}"))
        };
        writeln!(
            md,
            "| {name} | {} | {} | {:.1} | {} | {} | {} |",
            v["vocab_size"],
            v["used_tokens"],
            v["total_tokens"].as_f64().unwrap_or(0.0) / n_segments.max(1) as f64,
            f("nucleotides_per_token"),
            f("entropy_normalized"),
            f("gini"),
        )?;
    }
    writeln!(md)?;
    for name in ["bpe", "hybrid", "kmer6"] {
        writeln!(
            md,
            "![{name} rank-frequency](stats/{name}/rank_frequency.svg) ![{name} lengths](stats/{name}/length_distribution.svg)\n"
        )?;
    }

    // 5. tf-idf of 6-mers over the segments.
    info!("tf-idf of 6-mers");
    let tf = cmd_tfidf::compute(&inputs, GapPolicy::Split, 6, 100)?;
    cmd_tfidf::write_outputs(&dir.join("tfidf"), &tf, 6)?;
    writeln!(
        md,
        "## tf-idf of 6-mers ({} documents)\n\nTop 10 by summed L2-normalised tf-idf (full table `tfidf/tfidf.tsv`):\n",
        tf.documents
    )?;
    for s in tf.top.iter().take(10) {
        writeln!(md, "- {} (df {}, sum {:.3})", s.kmer, s.df, s.sum_tfidf)?;
    }
    writeln!(md, "\n![tf-idf](tfidf/tfidf_top.svg)\n")?;

    // 6. Pre-train the tiny hybrid model on the segments.
    if !a.skip_pretrain {
        pretrain_stage(&a, &inputs[0], &mut md)?;
        nextkmer_stage(&a, &genome, &mut md)?;
        match &planted {
            Some((recs, tss)) => promoter_stage(&a, &genome, recs, tss, &mut md)?,
            None => writeln!(
                md,
                "## Promoter prediction\n\nSkipped: a genome given with --genome comes without a TSS \
                 list; run `dnalm promoter data --genome FASTA --tss TSS.bed` and `dnalm promoter \
                 train` on it.\n"
            )?,
        }
    }
    let report_path = dir.join("report.md");
    write_file(&report_path, md.as_bytes())?;
    info!(
        "report: {} ({:.1} s)",
        report_path.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The tiny hybrid BERT on the quickstart corpus, with a CPU-sized schedule:
/// a higher peak learning rate (1e-3) and 10% warm-up instead of the
/// published 4e-4 with 1,000 warm-up steps, which need far more updates.
fn pretrain_stage(a: &QuickstartArgs, segments: &std::path::Path, md: &mut String) -> Result<()> {
    let dir = a.out_dir.join("pretrain");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    let steps = a.pretrain_steps.max(1);
    info!("pre-training the tiny hybrid model for {steps} updates");
    let args = crate::args::PretrainArgs {
        input: Some(segments.to_path_buf()),
        tokenizer: Some(a.out_dir.join("tokenizers/hybrid.dnalm.json")),
        eval: None,
        out_dir: dir.clone(),
        config: None,
        print_config: false,
        resume: false,
        stop_after: None,
        time_budget: None,
        patience: None,
        preset: Some("tiny".into()),
        lstm_layers: None,
        dropout: None,
        max_steps: Some(steps),
        warmup_steps: Some(steps / 10),
        lr: Some(1e-3),
        batch_size: Some(8),
        grad_accum: Some(1),
        shards: None,
        max_len: Some(512),
        masking: None,
        mask_prob: None,
        centre_prob: None,
        eval_every: Some(steps.div_ceil(4)),
        eval_fraction: Some(0.05),
        log_every: Some(steps.div_ceil(20)),
        save_every: Some(steps),
        keep_checkpoints: Some(1),
        seed: Some(a.seed),
    };
    crate::cmd_model::pretrain(args)?;
    let lines = dnalm_train::trainer::read_metrics(&dir)?;
    let evals: Vec<&serde_json::Value> = lines.iter().filter(|l| l["kind"] == "eval").collect();
    writeln!(md, "## Pre-training: tiny hybrid BERT\n")?;
    writeln!(
        md,
        "2 layers, hidden 128, 4 heads; {steps} updates of 8 sequences (6-mers + BPE, [CLS]/[SEP]), \
         hybrid masking (spans on 6-mers with centre probability 0.025, 15% of BPE tokens), \
         AdamW (peak lr 1e-3, 10% warm-up, linear decay). Held out: 5% of the segments.\n"
    )?;
    writeln!(
        md,
        "| step | eval loss | perplexity | masked-token accuracy |"
    )?;
    writeln!(md, "|---:|---:|---:|---:|")?;
    for e in &evals {
        writeln!(
            md,
            "| {} | {:.4} | {:.2} | {:.2}% |",
            e["step"],
            e["eval_loss"].as_f64().unwrap_or(f64::NAN),
            e["perplexity"].as_f64().unwrap_or(f64::NAN),
            100.0 * e["masked_accuracy"].as_f64().unwrap_or(f64::NAN)
        )?;
    }
    writeln!(
        md,
        "\nChance for a uniform guess over the vocabulary is a loss of ln(V). The model (best \
         evaluation) is in `pretrain/model/`; `dnalm export-hf -m OUT_DIR/pretrain --out-dir hf-model/` \
         makes a Hugging Face folder of it.\n\n![loss](pretrain/loss.svg)\n"
    )?;
    Ok(())
}

/// Next-k-mer prediction on the genome (k = 3, both splits): the validated
/// n-gram baseline and the pre-trained tiny hybrid model fine-tuned on a
/// few thousand windows (no controls, at most 2 epochs), so the report
/// shows where a small model stands.
fn nextkmer_stage(a: &QuickstartArgs, genome: &std::path::Path, md: &mut String) -> Result<()> {
    let out = a.out_dir.join("nextkmer");
    info!("next-k-mer prediction (k = 3)");
    let rows = crate::cmd_nextkmer::run(crate::args::NextkmerArgs {
        genome: genome.to_path_buf(),
        out_dir: out.clone(),
        k: vec![3],
        samples: 20_000,
        window: 510,
        test_fraction: 0.2,
        valid_fraction: 0.1,
        split: crate::args::SplitChoice::Both,
        // Small demonstration genomes still get several blocks on each side.
        block_len: if a.genome.is_some() {
            100_000
        } else {
            (a.record_len as u64 / 10).clamp(1_000, 100_000)
        },
        ngram_order: 24,
        ngram_genome: false,
        models: vec![format!("hybrid={}", a.out_dir.join("pretrain").display())],
        select: Vec::new(),
        select_regex: None,
        no_controls: true,
        epochs: 2,
        patience: 1,
        batch_size: 32,
        lr: 5e-4,
        cnn_lr: 1e-3,
        max_train: a.nextkmer_train,
        base_lm_budget: None,
        base_lm_steps: 0,
        max_len: 80,
        seed: a.seed,
    })
    .context("next-k-mer prediction")?;
    writeln!(md, "## Next-k-mer prediction (k = 3)\n")?;
    writeln!(
        md,
        "20,000 windows of 510 nt sampled; input = the first 50 nt, label = the next 3 nt (64 \
         classes). The position split holds out whole genome blocks; the random split lets test \
         windows overlap training windows, which is why the n-gram scores so much higher there. \
         The n-gram's context length and smoothing are chosen on validation windows cut from \
         the training side. The hybrid model is fine-tuned for at most 2 passes over {} training \
         windows (80 tokens: 6-mers then BPE), keeping the better epoch on the validation \
         windows. Full report: `nextkmer/results.md`.\n",
        a.nextkmer_train
    )?;
    writeln!(
        md,
        "| split | predictor | train | test | accuracy | top-5 | bits per base |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|---:|---:|")?;
    for r in &rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {:.2}% | {:.2}% | {:.4} |",
            r.split,
            r.predictor,
            r.train,
            r.test,
            100.0 * r.accuracy,
            100.0 * r.top5_accuracy,
            r.bits_per_base
        )?;
    }
    writeln!(md, "\n![accuracy](nextkmer/accuracy.svg)\n")?;
    Ok(())
}

/// Promoter prediction on the demonstration genome's planted TSSs: the TSS
/// list as BED6, the data set as `dnalm promoter data` builds it (genomic
/// TATA negatives, substitution negatives otherwise), then `dnalm promoter
/// train` with the tiny hybrid model: its fine-tuned head, a position-aware
/// CNN-dense and a pooled CNN on one-hot bases and on the fine-tuned
/// encodings, and the tf-idf baseline, on one seeded group split (train,
/// validation, test). The table also goes to stdout.
fn promoter_stage(
    a: &QuickstartArgs,
    genome: &std::path::Path,
    recs: &[SynthRecord],
    tss: &[SynthTss],
    md: &mut String,
) -> Result<()> {
    let dir = a.out_dir.join("promoter");
    create_dir(&dir)?;
    let bed = dir.join("tss.bed");
    let mut w = BedWriter::new(Output::create(Some(&bed))?, &bed);
    for (i, t) in tss.iter().enumerate() {
        let pos = t.pos as u64;
        w.write(
            &recs[t.record].id,
            pos,
            pos + 1,
            &format!("tss{}", i + 1),
            0.0,
            Strand::Plus,
        )?;
    }
    w.into_inner().finish()?;
    info!("promoter data from {} planted TSSs", tss.len());
    let data = dir.join("data.csv");
    let summary = crate::cmd_promoter::write_data(&crate::args::PromoterDataArgs {
        genome: Some(genome.to_path_buf()),
        tss: Some(bed.clone()),
        positives: None,
        non_tata: crate::args::NonTataChoice::Substitution,
        no_tata_negatives: false,
        genomic_negatives: 0,
        tss_margin: 1000,
        gc_match: false,
        output: Some(data.clone()),
        seed: a.seed,
    })
    .context("promoter data")?;
    let kinds = summary
        .negatives_by_kind
        .iter()
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ");
    info!("promoter model: fine-tuning the tiny hybrid model");
    let epochs = 3;
    let agg = crate::cmd_promoter::train_and_report(&crate::args::PromoterTrainArgs {
        data: None,
        train: Some(data.clone()),
        valid: None,
        test: None,
        model: Some(a.out_dir.join("pretrain")),
        tokenizer: None,
        out_dir: dir.clone(),
        max_rows: 0,
        test_fraction: 0.2,
        valid_fraction: 0.15,
        finetune_fraction: 0.5,
        repeats: 1,
        epochs,
        batch_size: 16,
        lr: 5e-4,
        warmup_ratio: 0.06,
        max_len: 512,
        predictors: vec!["cnn-dense".into(), "cnn".into()],
        encodings: vec!["one-hot".into(), "fine-tuned".into()],
        predictor_epochs: 8,
        patience: 3,
        predictor_lr: 1e-3,
        weight_decay: 1e-2,
        predictor_batch_size: 32,
        hidden: 32,
        filters: 16,
        dense: 32,
        dropout: 0.2,
        tfidf_k: 4,
        bootstrap: 1000,
        seed: a.seed,
    })
    .context("promoter model")?;
    print!("{}", crate::cmd_promoter::summary_table(&agg, false));
    writeln!(md, "## Promoter prediction\n")?;
    writeln!(
        md,
        "The demonstration genome planted {} promoter-like regions (TATA box about 30 nt \
         upstream of a GC-rich start); their TSSs are in `promoter/tss.bed`. `dnalm promoter \
         data` made 300-nt windows (-249..+50) around them and one negative per positive \
         ({kinds}): `promoter/data.csv`. `dnalm promoter train` grouped the rows (a negative stays \
         with its positive), held out 20% of the groups for testing and 15% of the rest for \
         validation, fine-tuned the tiny hybrid model on half of the remaining groups ({epochs} \
         passes, batch 16, lr 5e-4) and trained the predictors on the other half with early \
         stopping on validation AUROC. Full report: `promoter/results.md`; every predictor is \
         saved in `promoter/predictors/`, the best on validation in `promoter/best/`, the \
         fine-tuned classifier in `promoter/classifier/` (`dnalm promoter scan -m promoter/best \
         genome.fa.gz` scans the genome with the best one).\n",
        tss.len()
    )?;
    writeln!(md, "{}", crate::cmd_promoter::summary_table(&agg, true))?;
    writeln!(md, "![accuracy](promoter/accuracy.svg)\n")?;
    Ok(())
}
