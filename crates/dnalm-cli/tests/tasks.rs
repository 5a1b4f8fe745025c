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
    // Two 6-mer-model fine-tunings on the same windows, 1 epoch each.
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
                "--epochs",
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
    for f in ["results.tsv", "results.json", "results.md", "accuracy.svg"] {
        assert!(t.path().join("nk").join(f).is_file(), "{f} missing");
    }
    let r = rows(&t.path().join("nk/results.tsv"));
    // 2 splits x 2 k x (n-gram + model).
    assert_eq!(r.len(), 8, "{r:?}");
    let acc = |split: &str, k: &str, pred: &str| -> f64 {
        r.iter()
            .find(|x| x[0] == split && x[1] == k && x[2].starts_with(pred))
            .unwrap_or_else(|| panic!("no row {split} {k} {pred}: {r:?}"))[5]
            .parse()
            .unwrap()
    };
    for row in &r {
        let (a, top5, chance): (f64, f64, f64) = (
            row[5].parse().unwrap(),
            row[6].parse().unwrap(),
            row[7].parse().unwrap(),
        );
        assert!((0.0..=1.0).contains(&a) && top5 >= a, "{row:?}");
        assert_eq!(
            chance,
            if row[1] == "2" {
                1.0 / 16.0
            } else {
                1.0 / 64.0
            }
        );
    }
    // Overlapping windows leak under the random split.
    assert!(
        acc("random", "3", "12-gram") > acc("position", "3", "12-gram"),
        "{r:?}"
    );
    // The fine-tuned model was trained on at most 256 windows.
    let model_row = r.iter().find(|x| x[2] == "k6").unwrap();
    assert_eq!(model_row[3], "256");
    let md = std::fs::read_to_string(t.path().join("nk/results.md")).unwrap();
    assert!(
        md.contains("position split") && md.contains("| k6 |"),
        "{md}"
    );

    // Same seed, same bytes: the classifier head is drawn from --seed, on
    // any thread count.
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
