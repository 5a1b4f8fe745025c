//! End-to-end tests of the downstream-task commands on the real binary,
//! with small seeded data made here.

mod common;

use std::path::Path;

use common::{dnalm, dnalm_q, pretrain_tiny, tmp, train};

/// A 200 kb demonstration genome (`genome.fa.gz`), its 305-nt segments and
/// a 6-mer model pre-trained for a few updates in `run/`.
fn setup(dir: &Path) {
    dnalm_q()
        .current_dir(dir)
        .args([
            "quickstart",
            "--out-dir",
            "qs",
            "--records",
            "1",
            "--record-len",
            "200000",
            "--merges",
            "20",
            "--skip-pretrain",
        ])
        .assert()
        .success();
    train(dir, "k6.json", &["--kind", "kmer", "--k", "6"], None);
    pretrain_tiny(dir, "k6.json", "qs/corpus/segments.txt", 3, 128);
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

#[test]
fn nextkmer_baselines_model_and_bad_input() {
    let t = tmp();
    setup(t.path());
    // Two runs on the same windows: the n-gram, the CNN control and the
    // 6-mer model pre-trained and from scratch, at most 2 epochs each.
    let nextkmer = |out: &str, threads: &str| {
        dnalm_q()
            .current_dir(t.path())
            .args(["-j", threads])
            .args([
                "nextkmer",
                "qs/genome.fa.gz",
                "--k",
                "2,3",
                "--samples",
                "3000",
                "--split",
                "both",
                "--block-len",
                "10000",
                "--model",
                "k6=run",
                "--ngram-genome",
                "--epochs",
                "2",
                "--patience",
                "1",
                "--batch-size",
                "32",
                "--max-train",
                "256",
                "--out-dir",
                out,
            ])
            .assert()
            .success();
    };
    nextkmer("nk", "2");
    for f in [
        "results.tsv",
        "results.json",
        "results.md",
        "accuracy.svg",
        "bits.svg",
    ] {
        assert!(t.path().join("nk").join(f).is_file(), "{f} missing");
    }
    let r = rows(&t.path().join("nk/results.tsv"));
    let of = |split: &str, k: &str, pred: &dyn Fn(&str) -> bool| -> Vec<&Vec<String>> {
        r.iter()
            .filter(|x| x[0] == split && x[1] == k && pred(&x[2]))
            .collect()
    };
    // Per split and k: chance, the n-gram (best accuracy, and best bits
    // when another setting), the CNN control, the model and its control.
    for split in ["position", "random"] {
        for k in ["2", "3"] {
            for (name, want) in [
                ("chance", 1),
                ("base CNN (no pre-training)", 1),
                ("k6", 1),
                ("k6 (from scratch)", 1),
            ] {
                assert_eq!(
                    of(split, k, &|p| p == name).len(),
                    want,
                    "{split} {k} {name}: {r:?}"
                );
            }
            let ngrams = of(split, k, &|p| {
                p.contains("-gram (") && !p.contains("training side")
            });
            assert!((1..=2).contains(&ngrams.len()), "{r:?}");
            // --ngram-genome: the n-gram over every base of the training
            // side too, under the position split only.
            let side = of(split, k, &|p| p.ends_with(", training side)"));
            if split == "position" {
                assert!((1..=2).contains(&side.len()), "{r:?}");
                let bases: usize = side[0][3].parse().unwrap();
                assert!(bases > 100_000, "{:?}", side[0]);
            } else {
                assert!(side.is_empty(), "{r:?}");
            }
        }
    }
    for row in &r {
        let num = |i: usize| -> f64 { row[i].parse().unwrap() };
        let (a, top5, bits, chance) = (num(5), num(6), num(7), num(8));
        assert!((0.0..=1.0).contains(&a) && top5 >= a, "{row:?}");
        assert!(bits > 0.0 && bits.is_finite(), "{row:?}");
        assert_eq!(
            chance,
            if row[1] == "2" {
                1.0 / 16.0
            } else {
                1.0 / 64.0
            }
        );
        if row[2].starts_with("k6") || row[2].starts_with("base CNN") {
            // Trained on at most 256 windows, 1 or 2 epochs, the best kept.
            assert_eq!(row[3], "256", "{row:?}");
            let (epochs, best): (usize, usize) =
                (row[9].parse().unwrap(), row[10].parse().unwrap());
            assert!(
                (1..=2).contains(&epochs) && (1..=epochs).contains(&best),
                "{row:?}"
            );
        }
    }
    // Overlapping windows leak under the random split.
    let ngram_acc = |split: &str| -> f64 {
        of(split, "3", &|p| p.contains("-gram ("))[0][5]
            .parse()
            .unwrap()
    };
    assert!(ngram_acc("random") > ngram_acc("position"), "{r:?}");
    let md = std::fs::read_to_string(t.path().join("nk/results.md")).unwrap();
    assert!(
        md.contains("position split") && md.contains("| k6 (from scratch) |"),
        "{md}"
    );
    assert!(md.contains("validation after each epoch"), "{md}");

    // Wall time and tokens/s are in the JSON (and the markdown), not the TSV.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("nk/results.json")).unwrap())
            .unwrap();
    let k6 = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["predictor"] == "k6")
        .unwrap();
    assert!(k6["tokens_per_s"].as_f64().unwrap() > 0.0, "{k6}");
    assert!(k6["seconds"].as_f64().unwrap() > 0.0, "{k6}");

    // Same seed, same bytes on any thread count (the head and the
    // from-scratch weights are drawn from --seed).
    nextkmer("nk2", "1");
    assert_eq!(
        std::fs::read(t.path().join("nk/results.tsv")).unwrap(),
        std::fs::read(t.path().join("nk2/results.tsv")).unwrap(),
        "two nextkmer runs with the same seed differ"
    );

    // Bad input: one-line errors, exit 1, no report written.
    std::fs::write(t.path().join("short.fa"), ">s\nACGTACGTAC\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["nextkmer", "qs/genome.fa.gz", "--k", "7", "--out-dir", "x1"],
            "1..=6",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--model",
                "run",
                "--out-dir",
                "x2",
            ],
            "NAME=DIR",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--model",
                "a=nowhere",
                "--out-dir",
                "x3",
            ],
            "no model here",
        ),
        (
            vec!["nextkmer", "short.fa", "--out-dir", "x4"],
            "no A/C/G/T run",
        ),
        (
            vec!["nextkmer", "missing.fa", "--out-dir", "x5"],
            "missing.fa",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--block-len",
                "10000",
                "--max-train",
                "1000000",
                "--out-dir",
                "x8",
            ],
            "training windows (0 = all)",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--valid-fraction",
                "0",
                "--out-dir",
                "x9",
            ],
            "--valid-fraction 0",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--patience",
                "0",
                "--out-dir",
                "x10",
            ],
            "--patience",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--split",
                "random",
                "--base-lm-budget",
                "1m",
                "--out-dir",
                "x11",
            ],
            "position split",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--base-lm-budget",
                "0",
                "--out-dir",
                "x12",
            ],
            "--base-lm-budget",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--split",
                "random",
                "--ngram-genome",
                "--out-dir",
                "x13",
            ],
            "position split",
        ),
        (
            vec![
                "nextkmer",
                "qs/genome.fa.gz",
                "--samples",
                "50",
                "--out-dir",
                "x6",
            ],
            "split left",
        ),
    ];
    for (args, needle) in cases {
        let out = dnalm_q()
            .current_dir(t.path())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        let dir = args[args.len() - 1];
        assert!(!t.path().join(dir).join("results.tsv").exists(), "{args:?}");
    }
    // A tokenizer that does not fit the model.
    std::fs::create_dir(t.path().join("mism")).unwrap();
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(
            t.path().join("run/model").join(f),
            t.path().join("mism").join(f),
        )
        .unwrap();
    }
    train(
        t.path(),
        "mism/tokenizer.dnalm.json",
        &["--kind", "kmer", "--k", "3"],
        None,
    );
    dnalm()
        .current_dir(t.path())
        .args([
            "nextkmer",
            "qs/genome.fa.gz",
            "--model",
            "m=mism",
            "--out-dir",
            "x7",
        ])
        .assert()
        .failure()
        .code(1)
        .stderr(predicates::str::contains("vocabulary"));
}
