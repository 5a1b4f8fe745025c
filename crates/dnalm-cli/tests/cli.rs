//! End-to-end tests of `dnalm tfidf`, `dnalm quickstart`, `--help` and usage
//! errors, and one run on real data; corpus and tokenizer commands have their
//! own files.

mod common;

use std::path::Path;

use common::*;

// ---------------------------------------------------------------- tfidf

#[test]
fn tfidf_top_table_from_file_and_stdin() {
    let d = tmp();
    let text = corpus_text(10, 100);
    let corpus = write(&d.path().join("c.txt"), &text);
    let tf = d.path().join("tf");
    let out = dnalm_q()
        .arg("tfidf")
        .arg(&corpus)
        .args(["--k", "3", "--top", "5", "--out-dir"])
        .arg(&tf)
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = stdout_of(&out);
    let ls = lines(&table);
    assert_eq!(ls.len(), 6, "{table}");
    assert_eq!(ls[0], "rank\tkmer\tdf\tidf\tsum_tfidf\tmean_tfidf");
    let mut prev = f64::INFINITY;
    for (i, l) in ls[1..].iter().enumerate() {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f[0], (i + 1).to_string());
        assert!(is_upper_acgt(f[1]) && f[1].len() == 3);
        let df: usize = f[2].parse().unwrap();
        assert!((1..=100).contains(&df));
        let s: f64 = f[4].parse().unwrap();
        assert!(s <= prev, "not sorted by sum_tfidf");
        prev = s;
    }
    assert!(read(&tf.join("tfidf.tsv")).starts_with(ls[0]));
    assert!(read(&tf.join("tfidf_top.svg")).contains("<svg"));
    dnalm_q()
        .args(["tfidf", "--k", "3", "--top", "5"])
        .write_stdin(text.clone())
        .assert()
        .success()
        .stdout(table.clone());
    dnalm_q()
        .args(["tfidf", "-", "--k", "3", "--top", "5"])
        .write_stdin(text)
        .assert()
        .success()
        .stdout(table);
}

// ---------------------------------------------------------------- quickstart

#[test]
fn quickstart_small() {
    let d = tmp();
    let q = d.path().join("qs");
    dnalm_q()
        .args([
            "quickstart",
            "--records",
            "1",
            "--record-len",
            "60000",
            "--merges",
            "50",
            "--pretrain-steps",
            "4",
            "--nextkmer-train",
            "64",
            "--out-dir",
        ])
        .arg(&q)
        .assert()
        .success()
        .stdout(predicates::str::starts_with(
            "encoding\tpredictor\taccuracy\tf1\tmcc\tauroc\tauprc\n",
        ));
    let report = read(&q.join("report.md"));
    assert!(report.contains("BPE-50"), "{report}");
    assert!(report.contains("Hybrid vocabulary"), "{report}");
    assert!(
        report.contains("Pre-training: tiny hybrid BERT"),
        "{report}"
    );
    // The next-k-mer table: the n-gram and the fine-tuned model, both splits.
    let nk = read(&q.join("nextkmer/results.tsv"));
    for split in ["position", "random"] {
        for predictor in ["-gram (", "hybrid"] {
            assert!(
                nk.lines().any(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    f.len() > 2 && f[0] == split && f[1] == "3" && f[2].contains(predictor)
                }),
                "no {split} {predictor} row in {nk}"
            );
        }
    }
    assert!(report.contains("Next-k-mer prediction (k = 3)"), "{report}");
    // The promoter model: data around the planted TSSs, the table.
    let bed = read(&q.join("promoter/tss.bed"));
    let data = read(&q.join("promoter/data.csv"));
    let positives: Vec<&str> = data
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("1"))
        .collect();
    assert!(positives.len() >= 4, "{data}");
    assert_eq!(positives.len(), bed.lines().count(), "{bed}");
    for p in &positives {
        // -249..+50: the planted TATA box sits 30 nt before the TSS (index 249).
        assert_eq!(&p[219..225], "TATAAA", "{p}");
    }
    assert!(report.contains("## Promoter prediction"), "{report}");
    for row in [
        "| fine-tuned | linear head |",
        "| tf-idf 4-mer | logistic |",
        "| one-hot | CNN |",
        "| fine-tuned | CNN |",
        "| one-hot | CNN-dense |",
        "| fine-tuned | CNN-dense |",
    ] {
        assert!(report.contains(row), "no {row} in {report}");
    }
    for p in [
        "genome.fa.gz",
        "corpus/segments.txt",
        "tokenizers/bpe50.dnalm.json",
        "tokenizers/hybrid.dnalm.json",
        "tokenizers/kmer6.dnalm.json",
        "hf/bpe50/tokenizer.json",
        "hf/bpe50/tokenizer_config.json",
        "hf/bpe50/vocab.txt",
        "stats/bpe/summary.tsv",
        "stats/hybrid/frequencies.tsv",
        "stats/kmer6/rank_frequency.svg",
        "tfidf/tfidf.tsv",
        "tfidf/tfidf_top.svg",
        "pretrain/loss.svg",
        "pretrain/model/model.safetensors",
        "promoter/results.md",
        "promoter/accuracy.svg",
        "promoter/classifier/model.safetensors",
        "promoter/best/predictor.json",
        "promoter/predictors/one-hot-cnn-dense/model.safetensors",
    ] {
        assert!(q.join(p).is_file(), "quickstart did not write {p}");
    }
    let segs = read(&q.join("corpus/segments.txt"));
    assert!(segs.lines().count() > 100);
    assert!(segs.lines().all(|l| l.len() == 305 && is_upper_acgt(l)));
    // The tokenizer it wrote works.
    let sample = write(
        &d.path().join("s.txt"),
        segs.lines().take(5).collect::<Vec<_>>().join("\n") + "\n",
    );
    let tok = q.join("tokenizers/bpe50.dnalm.json");
    let ids = write(&d.path().join("ids.txt"), encode(&tok, &sample, &[]));
    assert_eq!(decode(&tok, &ids), read(&sample));

    // Same seed, same bytes: a second run, on one thread, writes identical files.
    let q2 = d.path().join("qs2");
    dnalm_q()
        .args([
            "-j",
            "1",
            "quickstart",
            "--records",
            "1",
            "--record-len",
            "60000",
        ])
        .args([
            "--merges",
            "50",
            "--pretrain-steps",
            "4",
            "--nextkmer-train",
            "64",
        ])
        .arg("--out-dir")
        .arg(&q2)
        .assert()
        .success();
    for p in [
        "report.md",
        "genome.fa.gz",
        "corpus/segments.txt",
        "tokenizers/bpe50.dnalm.json",
        "tokenizers/hybrid.dnalm.json",
        "stats/bpe/frequencies.tsv",
        "tfidf/tfidf.tsv",
        "hf/bpe50/tokenizer.json",
        "pretrain/model/model.safetensors",
        "nextkmer/results.tsv",
        "promoter/tss.bed",
        "promoter/data.csv",
        "promoter/results.tsv",
        "promoter/classifier/model.safetensors",
    ] {
        assert_eq!(
            std::fs::read(q.join(p)).unwrap(),
            std::fs::read(q2.join(p)).unwrap(),
            "{p} differs between two runs with the same seed"
        );
    }
}

// ---------------------------------------------------------------- help and usage

#[test]
fn every_subcommand_help_has_examples() {
    for args in [
        &[][..],
        &["corpus"][..],
        &["tokenizer", "train"][..],
        &["tokenizer", "encode"][..],
        &["tokenizer", "decode"][..],
        &["tokenizer", "stats"][..],
        &["tokenizer", "export"][..],
        &["tfidf"][..],
        &["quickstart"][..],
    ] {
        let out = dnalm().args(args).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?} --help");
        assert!(
            stdout_of(&out).contains("Example"),
            "{args:?} --help has no example"
        );
        assert!(out.stderr.is_empty());
    }
}

#[test]
fn tokenizer_group_help_has_examples() {
    let out = dnalm().args(["tokenizer", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout_of(&out).contains("Example"), "{}", stdout_of(&out));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["corpus", "--bogus"][..],
        &["tokenizer", "train", "--kind", "nope"][..],
        &["tokenizer", "encode"][..], // -t is required
        &["corpus", "--window", "ten"][..],
        &["corpus", "--gaps", "maybe"][..],
        &["frobnicate"][..],
        &["tokenizer"][..],
    ] {
        let out = dnalm().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"));
    }
    dnalm()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicates::str::contains("dnalm"));
}

// ---------------------------------------------------------------- real data

#[test]
fn real_chrm_corpus_and_bpe_round_trip() {
    let chrm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/genome/human_chrM_NC_012920.1.fa.gz");
    if !chrm.is_file() {
        eprintln!("skipping: {} is absent", chrm.display());
        return;
    }
    let d = tmp();
    let segs = d.path().join("segs.txt");
    dnalm_q()
        .arg("corpus")
        .arg(&chrm)
        .args(["--window", "305", "-o"])
        .arg(&segs)
        .assert()
        .success();
    let text = read(&segs);
    // chrM is 16569 bp of A/C/G/T (plus one N): about 54 windows.
    assert!(
        (50..=54).contains(&text.lines().count()),
        "{}",
        text.lines().count()
    );
    let tok = train(d.path(), "bpe.json", &["--merges", "50"], Some(&segs));
    let ids = write(&d.path().join("ids.txt"), encode(&tok, &segs, &[]));
    assert_eq!(decode(&tok, &ids), text);
}
