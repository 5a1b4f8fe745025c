//! `dnalm promoter train | predict | scan` without a model: one-hot
//! predictors on generated rows whose label is decided by where a motif
//! sits, separate train/valid/test files, and their bad input.

mod common;

use common::{assert_absent, assert_fails, dnalm_q, read, tmp, write, Rng};

/// Rows of `n` nt with a motif at offset 20 (label 1) or 60 (label 0).
fn positional_rows(rng: &mut Rng, rows: usize, n: usize) -> String {
    let mut out = String::from("sequence,label\n");
    for i in 0..rows {
        let mut s: Vec<u8> = rng.dna(n).into_bytes();
        let l = i % 2;
        let at = if l == 1 { 20 } else { 60 };
        s[at..at + 8].copy_from_slice(b"TATAAAGG");
        out.push_str(&format!("{},{l}\n", String::from_utf8(s).unwrap()));
    }
    out
}

/// One-hot training without a model, separate train/valid/test files,
/// saved predictors, predict and scan with them, and their bad input.
#[test]
fn one_hot_train_predict_scan_and_bad_input() {
    let t = tmp();
    let d = t.path();
    let mut rng = Rng::new(21);
    write(&d.join("train.csv"), positional_rows(&mut rng, 240, 100));
    write(&d.join("valid.csv"), positional_rows(&mut rng, 60, 100));
    write(&d.join("test.csv"), positional_rows(&mut rng, 60, 100));
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "train",
            "--train",
            "train.csv",
            "--valid",
            "valid.csv",
            "--test",
            "test.csv",
            "--predictors",
            "cnn-dense",
            "--predictor-epochs",
            "10",
            "--filters",
            "8",
            "--dense",
            "16",
            "--dropout",
            "0",
            "--predictor-lr",
            "3e-3",
            "--batch-size",
            "16",
            "--predictor-batch-size",
            "16",
            "--bootstrap",
            "50",
            "-o",
            "out",
        ])
        .assert()
        .success();
    let md = read(&d.join("out/results.md"));
    assert!(md.contains("240 train the predictors, 60 validate"), "{md}");
    assert!(md.contains("60 test"), "{md}");
    let results = read(&d.join("out/results.tsv"));
    let row = results
        .lines()
        .find(|l| l.starts_with("one-hot\tCNN-dense"))
        .unwrap();
    let mcc: f64 = row.split('\t').nth(7).unwrap().parse().unwrap();
    assert!(mcc > 0.8, "{results}");
    assert!(d.join("out/best/predictor.json").is_file());
    assert!(!d.join("out/classifier").exists());

    // A FASTA with the motif at the positive offset in every window of
    // 100 nt at stride 40: the scan reports in record coordinates.
    let mut chrom = rng.dna(420).into_bytes();
    for at in [20usize, 60, 100, 140, 180, 220, 260, 300] {
        chrom[at + 20..at + 28].copy_from_slice(b"TATAAAGG");
    }
    write(
        &d.join("c.fa"),
        format!(">c1\n{}\n>short\nACGT\n", String::from_utf8(chrom).unwrap()),
    );
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "scan",
            "out/best",
            "c.fa",
            "--stride",
            "40",
            "--out-dir",
            "scan",
        ])
        .assert()
        .success();
    let plus = read(&d.join("scan/plus.bedGraph"));
    // (420 - 100) / 40 + 1 = 9 windows; the bin of the window at 0 is the
    // 40 nt around its centre, 50.
    assert_eq!(plus.lines().count(), 1 + 9, "{plus}");
    let f: Vec<&str> = plus.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!((f[0], f[1], f[2]), ("c1", "30", "70"));
    let scan: serde_json::Value = serde_json::from_str(&read(&d.join("scan/scan.json"))).unwrap();
    assert_eq!(scan["windows"], 18);
    assert_eq!(scan["window"], 100);
    // --region: part of one record, in the record's coordinates
    // (1-based 41..360 = 0-based 40..360: windows at 40, 80, ..., 240).
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "scan",
            "out/best",
            "c.fa",
            "--stride",
            "40",
            "--region",
            "c1:41-360",
            "--out-dir",
            "scan_r",
        ])
        .assert()
        .success();
    let plus = read(&d.join("scan_r/plus.bedGraph"));
    assert_eq!(plus.lines().count(), 1 + 6, "{plus}");
    let f: Vec<&str> = plus.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!((f[0], f[1], f[2]), ("c1", "70", "110"));

    // Bad input, each a clear error and nothing written.
    let mut other = String::from("sequence,label\n");
    other.push_str(&format!("{},1\n{},0\n", "A".repeat(90), "C".repeat(90)));
    write(&d.join("short.csv"), other);
    let mut one = String::from("sequence,label\n");
    for _ in 0..4 {
        one.push_str(&format!("{},1\n", rng.dna(100)));
    }
    write(&d.join("one.csv"), one);
    write(
        &d.join("short.fa"),
        format!(">r1\n{}\n>r2\n{}\n", rng.dna(100), rng.dna(99)),
    );
    std::fs::create_dir_all(d.join("empty")).unwrap();
    let cases: Vec<(Vec<&str>, &str, Vec<&str>)> = vec![
        (
            vec![
                "train",
                "--train",
                "train.csv",
                "--test",
                "short.csv",
                "-o",
                "b1",
            ],
            "b1",
            vec!["short.csv:2", "90 nt", "training length"],
        ),
        (
            vec!["train", "--train", "one.csv", "-o", "b2"],
            "b2",
            vec!["one.csv", "0 negative"],
        ),
        (
            vec![
                "train",
                "--train",
                "train.csv",
                "--encodings",
                "fine-tuned",
                "-o",
                "b3",
            ],
            "b3",
            vec!["fine-tuned", "--model"],
        ),
        (
            vec!["predict", "out/best", "short.fa", "-o", "b4.tsv"],
            "b4.tsv",
            vec!["short.fa", "record \"r2\"", "99 nt", "trained on 100 nt"],
        ),
        (
            vec![
                "predict", "out/best", "test.csv", "-t", "k6.json", "-o", "b5.tsv",
            ],
            "b5.tsv",
            vec!["one-hot predictor reads bases", "--tokenizer"],
        ),
        (
            vec!["predict", "empty", "test.csv", "-o", "b6.tsv"],
            "b6.tsv",
            vec![
                "empty",
                "predictor.json",
                "not a folder from `dnalm promoter train`",
            ],
        ),
        (
            vec![
                "scan",
                "out/best",
                "c.fa",
                "--window",
                "300",
                "--out-dir",
                "b7",
            ],
            "b7",
            vec!["--window 300", "trained on 100-nt"],
        ),
    ];
    for (args, out, needles) in cases {
        let label = format!("promoter {}", args[0]);
        assert_fails(
            dnalm_q().current_dir(d).arg("promoter").args(&args),
            &label,
            &needles,
        );
        assert_absent(&d.join(out));
    }
}
