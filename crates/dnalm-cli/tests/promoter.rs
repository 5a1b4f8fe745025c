//! End-to-end tests of `dnalm promoter data | train | scan` on a seeded
//! genome made here, with promoters planted at known TSSs.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_absent, assert_fails, dnalm_q, pretrain_tiny, read, tmp, write, Rng};

fn revcomp(s: &str) -> String {
    s.bytes()
        .rev()
        .map(|b| match b {
            b'A' => 'T',
            b'C' => 'G',
            b'G' => 'C',
            _ => 'A',
        })
        .collect()
}

/// Two 40-kb records with 24 TSSs each (half on each strand): a GC-rich
/// block at -120..-60 and, on every other TSS, a TATA box at -30.
/// Writes `g.fa` and `tss.bed`; returns the TSS count.
fn genome(dir: &Path) -> usize {
    let mut rng = Rng::new(11);
    let mut fasta = String::new();
    let mut bed = String::new();
    let mut n = 0;
    for chrom in ["chrA", "chrB"] {
        // AT-rich background, so the GC block stands out.
        let mut seq: Vec<u8> = (0..40_000)
            .map(|_| b"AATTCG"[rng.below(6) as usize])
            .collect();
        for i in 0..24 {
            let tss = 800 + i * 1600;
            let minus = i % 2 == 1;
            // The promoter on its own strand, -249..+50.
            let mut prom: Vec<u8> = seq[tss - 249..tss + 51].to_vec();
            if minus {
                prom =
                    revcomp(std::str::from_utf8(&seq[tss - 50..tss + 250]).unwrap()).into_bytes();
            }
            for b in &mut prom[129..189] {
                *b = b"GGCGCC"[rng.below(6) as usize];
            }
            if i % 4 < 2 {
                prom[219..226].copy_from_slice(b"TATAAAA");
            }
            if minus {
                let back = revcomp(std::str::from_utf8(&prom).unwrap()).into_bytes();
                seq[tss - 50..tss + 250].copy_from_slice(&back);
            } else {
                seq[tss - 249..tss + 51].copy_from_slice(&prom);
            }
            let strand = if minus { '-' } else { '+' };
            bed.push_str(&format!("{chrom}\t{tss}\t{}\tp{n}\t0\t{strand}\n", tss + 1));
            n += 1;
        }
        // Free TATA boxes between the promoters, for the genomic negatives.
        for i in 0..24 {
            let at = 800 + i * 1600 + 700;
            seq[at..at + 7].copy_from_slice(b"TATATAT");
        }
        fasta.push_str(&format!(">{chrom}\n"));
        for line in seq.chunks(60) {
            fasta.push_str(std::str::from_utf8(line).unwrap());
            fasta.push('\n');
        }
    }
    write(&dir.join("g.fa"), fasta);
    write(&dir.join("tss.bed"), bed);
    n
}

/// A 6-mer tokenizer and a tiny model pre-trained for a few updates in `run/`.
fn pretrain(dir: &Path) {
    dnalm_q()
        .current_dir(dir)
        .args(["corpus", "g.fa", "--window", "305", "-o", "seg.txt"])
        .assert()
        .success();
    for (k, out) in [("6", "k6.json"), ("5", "k5.json")] {
        dnalm_q()
            .current_dir(dir)
            .args(["tokenizer", "train", "--kind", "kmer", "--k", k, "-o", out])
            .assert()
            .success();
    }
    pretrain_tiny(dir, "k6.json", "seg.txt", 3, 128);
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    read(path)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn data_train_scan_end_to_end() {
    let t = tmp();
    let d = t.path();
    let n = genome(d);
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter", "data", "--genome", "g.fa", "--tss", "tss.bed", "-o", "prom.csv",
        ])
        .assert()
        .success();
    let rows = csv_rows(&d.join("prom.csv"));
    assert_eq!(rows.len(), 2 * n);
    assert!(rows.iter().all(|r| r.len() == 8 && r[0].len() == 300));
    let pos: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "1").collect();
    assert_eq!(pos.len(), n);
    // Every positive carries its planted GC block, on either strand.
    assert!(pos
        .iter()
        .all(|r| r[0][129..189].bytes().all(|b| b == b'G' || b == b'C')));
    let kinds: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert!(kinds.contains(&"tata_genomic"), "{kinds:?}");
    assert!(kinds.contains(&"substitution"));
    // Genomic TATA negatives come from both strands.
    for strand in ["+", "-"] {
        assert!(
            rows.iter()
                .any(|r| r[3] == "tata_genomic" && r[7] == strand),
            "no genomic TATA negative on the {strand} strand"
        );
    }
    // A negative sits in its positive's group; genomic TATA negatives have
    // a TATA box at the positive's offset and overlap no promoter.
    for pair in rows.chunks(2) {
        assert_eq!(pair[0][2], pair[1][2]);
        if pair[1][3] == "tata_genomic" {
            // The first TATAWAW in -40..-15 (TSS at index 249), as `data` finds it.
            let off = dnalm_tasks::promoter::data::tata_offset(pair[0][0].as_bytes(), 249)
                .expect("a TATA positive");
            assert!(
                dnalm_tasks::promoter::data::is_tata(pair[1][0].as_bytes(), off),
                "no TATA box at {off} in the genomic negative {}",
                pair[1][0]
            );
        }
    }
    // Same seed, same bytes.
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "data",
            "--genome",
            "g.fa",
            "--tss",
            "tss.bed",
            "-o",
            "again.csv",
        ])
        .assert()
        .success();
    assert_eq!(read(&d.join("prom.csv")), read(&d.join("again.csv")));

    // Published positives + genomic negatives from a genome, away from its TSSs.
    let data = |extra: &[&str]| {
        let mut cmd = dnalm_q();
        cmd.current_dir(d)
            .args([
                "promoter",
                "data",
                "--positives",
                "prom.csv",
                "--genome",
                "g.fa",
            ])
            .args(extra);
        cmd.assert()
    };
    data(&[
        "--tss",
        "tss.bed",
        "--genomic-negatives",
        "2",
        "-o",
        "mixed.csv",
    ])
    .success();
    let mixed = csv_rows(&d.join("mixed.csv"));
    assert_eq!(mixed.len(), 4 * n);
    let tsss: Vec<(String, u64)> = read(&d.join("tss.bed"))
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].parse().unwrap())
        })
        .collect();
    let genomic: Vec<&Vec<String>> = mixed.iter().filter(|r| r[3] == "genomic").collect();
    assert_eq!(genomic.len(), 2 * n);
    for r in &genomic {
        assert_eq!(r[1], "0");
        let (start, end): (u64, u64) = (r[5].parse().unwrap(), r[6].parse().unwrap());
        assert_eq!(end - start, 300);
        for (c, t) in &tsss {
            assert!(
                c != &r[4] || end + 1_000 <= *t || start > t + 1_000,
                "{r:?} near {c}:{t}"
            );
        }
    }
    // Each positive is followed by its synthetic and then its genomic negatives.
    for g in mixed.chunks(4) {
        assert_eq!(g[0][1], "1");
        assert!(g.iter().all(|r| r[2] == g[0][2]), "{g:?}");
    }
    let mut cmd = dnalm_q();
    cmd.current_dir(d).args([
        "promoter",
        "data",
        "--positives",
        "prom.csv",
        "--genome",
        "g.fa",
        "-o",
        "never.csv",
    ]);
    assert_fails(&mut cmd, "promoter data", &["--genomic-negatives"]);
    assert_absent(&d.join("never.csv"));

    pretrain(d);
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "train",
            "prom.csv",
            "--model",
            "run",
            "--out-dir",
            "out",
            "--repeats",
            "2",
            "--predictors",
            "cnn,cnn-dense",
            "--encodings",
            "one-hot,pre-trained,fine-tuned",
            "--predictor-epochs",
            "2",
            "--hidden",
            "8",
            "--filters",
            "8",
            "--dense",
            "16",
            "--max-len",
            "128",
            "--batch-size",
            "16",
        ])
        .assert()
        .success();
    let results = read(&d.join("out/results.tsv"));
    let lines: Vec<&str> = results.lines().collect();
    assert!(lines[0].starts_with("encoding\tpredictor\trepeats\taccuracy_mean\taccuracy_sd"));
    // Head + tf-idf + 3 encodings x 2 predictors.
    assert_eq!(lines.len(), 1 + 2 + 6, "{results}");
    for p in ["CNN", "CNN-dense"] {
        for e in ["one-hot", "pre-trained", "fine-tuned"] {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("{e}\t{p}\t2\t"))),
                "{e} {p}"
            );
        }
    }
    // Head and tf-idf once, each predictor twice.
    assert_eq!(read(&d.join("out/runs.tsv")).lines().count(), 1 + 2 + 2 * 6);
    for f in [
        "curves.tsv",
        "results.md",
        "results.json",
        "accuracy.svg",
        "f1.svg",
        "mcc.svg",
    ] {
        assert!(d.join("out").join(f).is_file(), "{f}");
    }
    // The GC block is easy: the tf-idf baseline must find it.
    let tfidf = lines.iter().find(|l| l.starts_with("tf-idf")).unwrap();
    let acc: f64 = tfidf.split('\t').nth(3).unwrap().parse().unwrap();
    assert!(acc > 0.7, "{tfidf}");
    let clf = d.join("out/classifier");
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.dnalm.json",
        "vocab.txt",
        "predictor.json",
    ] {
        assert!(clf.join(f).is_file(), "{f}");
    }
    // The classifier exports as transformers' BertForSequenceClassification,
    // pooler and classifier included (scripts/model_parity.sh runs it there).
    dnalm_q()
        .current_dir(d)
        .args([
            "export-hf",
            "out/classifier",
            "--out-dir",
            "hf-clf",
            "--sample",
            "2",
        ])
        .assert()
        .success();
    let cfg: serde_json::Value =
        serde_json::from_str(&read(&d.join("hf-clf/config.json"))).unwrap();
    assert_eq!(cfg["architectures"][0], "BertForSequenceClassification");
    assert_eq!(cfg["num_labels"], 2);
    let out = dnalm_q()
        .current_dir(d)
        .args(["inspect", "hf-clf/model.safetensors"])
        .assert()
        .success();
    let tensors = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for name in [
        "bert.pooler.dense.weight",
        "bert.pooler.dense.bias",
        "classifier.weight",
        "classifier.bias",
    ] {
        assert!(tensors.contains(name), "{name} not in\n{tensors}");
    }
    assert!(!tensors.contains("cls.predictions"), "{tensors}");
    assert!(d.join("hf-clf/dnalm_sample.safetensors").is_file());

    // Every trained predictor is saved; encoder encodings carry their encoder.
    for e in ["one-hot", "pre-trained", "fine-tuned"] {
        for p in ["cnn", "cnn-dense"] {
            let dir = d.join(format!("out/predictors/{e}-{p}"));
            assert!(dir.join("predictor.json").is_file(), "{e}-{p}");
            assert!(dir.join("model.safetensors").is_file(), "{e}-{p}");
            assert_eq!(
                dir.join("encoder/config.json").is_file(),
                e != "one-hot",
                "{e}-{p}"
            );
        }
    }
    assert!(d.join("out/best/predictor.json").is_file());

    // predict: one row per input row, in order, with the labels; the
    // probabilities are the ones the saved one-hot predictor gives again.
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "predict",
            "out/predictors/one-hot-cnn-dense",
            "prom.csv",
            "-o",
            "preds.tsv",
        ])
        .assert()
        .success();
    let preds = read(&d.join("preds.tsv"));
    let rows = csv_rows(&d.join("prom.csv"));
    let plines: Vec<&str> = preds.lines().collect();
    assert_eq!(plines[0], "name\tprobability\tprediction\tlabel");
    assert_eq!(plines.len(), rows.len() + 1, "{preds}");
    let meta: serde_json::Value = serde_json::from_str(&read(
        &d.join("out/predictors/one-hot-cnn-dense/predictor.json"),
    ))
    .unwrap();
    let t = meta["threshold"].as_f64().unwrap();
    for (i, (l, r)) in plines[1..].iter().zip(&rows).enumerate() {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f[0], format!("row{}", i + 1));
        let p: f64 = f[1].parse().unwrap();
        assert_eq!(f[2], if p >= t { "1" } else { "0" }, "{l}");
        assert_eq!(f[3], r[1], "{l}");
    }
    // A FASTA of the same rows gives the same probabilities, by record name.
    let fa: String = rows
        .iter()
        .enumerate()
        .map(|(i, r)| format!(">s{}\n{}\n", i + 1, r[0]))
        .collect();
    write(&d.join("rows.fa"), fa);
    let predict = |input: &str| -> String {
        let out = dnalm_q()
            .current_dir(d)
            .args([
                "promoter",
                "predict",
                "out/predictors/one-hot-cnn-dense",
                input,
            ])
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let stdout = predict("rows.fa");
    let again: Vec<&str> = stdout.lines().collect();
    assert_eq!(again[0], "name\tprobability\tprediction");
    assert_eq!(again[1].split('\t').nth(1), plines[1].split('\t').nth(1));
    assert!(again[1].starts_with("s1\t"));
    // A table with a sequence column and no labels: no label column out.
    let table: String = std::iter::once("id,sequence\n".to_string())
        .chain(
            rows.iter()
                .take(3)
                .enumerate()
                .map(|(i, r)| format!("x{i},{}\n", r[0])),
        )
        .collect();
    write(&d.join("nolabel.csv"), table);
    let stdout = predict("nolabel.csv");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0], "name\tprobability\tprediction");
    assert_eq!(lines[3].split('\t').nth(1), plines[3].split('\t').nth(1));

    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "scan",
            "out/classifier",
            "g.fa",
            "--out-dir",
            "scan",
            "--stride",
            "200",
            "--max-len",
            "128",
            "--threshold",
            "0",
            "--truth",
            "tss.bed",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("\ntss.bed\tscan\t"));
    let plus = read(&d.join("scan/plus.bedGraph"));
    let body: Vec<&str> = plus.lines().skip(1).collect();
    // (40000 - 300) / 200 + 1 = 199 windows per record.
    assert_eq!(body.len(), 2 * 199);
    let f: Vec<&str> = body[0].split('\t').collect();
    assert_eq!((f[0], f[1], f[2]), ("chrA", "50", "250"));
    let p: f64 = f[3].parse().unwrap();
    assert!((0.0..=1.0).contains(&p));
    // Threshold 0: every window is a call; overlapping ones merge into one
    // call per record and strand.
    let bed = read(&d.join("scan/calls.bed"));
    let calls: Vec<Vec<&str>> = bed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(calls.len(), 4, "{bed}");
    assert_eq!(calls[0][..3], ["chrA", "0", "39900"]);
    assert!(calls.iter().any(|c| c[5] == "-"));
    // --truth: those 4 calls cover both records on both strands, so every
    // TSS is found; 4 calls on 2 x 39,900 scanned bases = 50.125 per Mb.
    let truth = read(&d.join("scan/truth.tsv"));
    let lines: Vec<&str> = truth.lines().collect();
    assert_eq!(lines.len(), 3, "{truth}");
    assert_eq!(
        lines[1],
        format!("tss.bed\tscan\t4.00\t50.125\t{n}\t{n}.00\t{n}.00\t4.00"),
        "{truth}"
    );
    assert!(lines[2].starts_with("tss.bed\trandom (mean of 1000)\t4.00\t50.125\t"));
    // The precision-recall curve ranks the same calls: all 4 find every TSS.
    let pr = read(&d.join("scan/pr.tsv"));
    let rows: Vec<&str> = pr.lines().collect();
    assert_eq!(rows.len(), 5, "{pr}");
    assert!(rows[0].starts_with("truth\tcalls\tmin_score\tcalls_per_mb\ttss_recall_250"));
    assert!(rows[4].starts_with("tss.bed\t4\t"), "{pr}");
    assert!(rows[4].ends_with("\t50.125\t1.0000\t1.0000"), "{pr}");
    assert!(d.join("scan/pr.svg").is_file());

    // Bad input: a tokenizer whose vocabulary is not the model's.
    assert_fails(
        dnalm_q().current_dir(d).args([
            "promoter",
            "train",
            "prom.csv",
            "--model",
            "run",
            "-t",
            "k5.json",
            "--out-dir",
            "bad1",
        ]),
        "promoter train",
        &["vocabulary"],
    );
    assert_absent(&d.join("bad1"));
    // A tokenizer whose vocabulary is not the model's; a truth file that
    // names no scanned record: errors before any output.
    write(&d.join("elsewhere.bed"), "chrZ\t100\t101\tz\t0\t+\n");
    let truth_args = ["--stride", "2000", "--truth", "elsewhere.bed"];
    for (extra, out, want) in [
        (&["-t", "k5.json"][..], "bad2", &["vocabulary"][..]),
        (
            &truth_args[..],
            "bad3",
            &["elsewhere.bed", "no TSS lies on a record of g.fa"][..],
        ),
    ] {
        assert_fails(
            dnalm_q()
                .current_dir(d)
                .args([
                    "promoter",
                    "scan",
                    "out/classifier",
                    "g.fa",
                    "--out-dir",
                    out,
                ])
                .args(extra),
            "promoter scan",
            want,
        );
        assert_absent(&d.join(out));
    }
    // Bad labels, lengths and classes; rows that all overlap (one group).
    let mut rng = Rng::new(5);
    let long: Vec<u8> = (0..700).map(|_| b"ACGT"[rng.below(4) as usize]).collect();
    let overlapping: String = std::iter::once("sequence,label\n".to_string())
        .chain((0..40).map(|i| {
            let w = std::str::from_utf8(&long[i * 10..i * 10 + 300]).unwrap();
            format!("{w},{}\n", i % 2)
        }))
        .collect();
    let cases: [(&str, String, &[&str]); 4] = [
        (
            "overlap.csv",
            overlapping,
            &[
                "overlap.csv",
                "40 of its 40 rows form one group",
                "--valid and --test",
            ],
        ),
        (
            "labels.csv",
            format!(
                "sequence,label\n{},1\n{},yes\n",
                "A".repeat(300),
                "C".repeat(300)
            ),
            &["labels.csv:3", "not 0 or 1"],
        ),
        (
            "length.csv",
            format!(
                "sequence,label\n{},1\n{},0\n",
                "A".repeat(300),
                "C".repeat(299)
            ),
            &["length.csv:3", "299 bases"],
        ),
        (
            "class.csv",
            format!(
                "sequence,label\n{},1\n{},1\n",
                "A".repeat(300),
                "C".repeat(300)
            ),
            &["0 negative", "both classes"],
        ),
    ];
    for (name, text, needles) in cases {
        write(&d.join(name), text);
        assert_fails(
            dnalm_q().current_dir(d).args([
                "promoter",
                "train",
                name,
                "--model",
                "run",
                "--out-dir",
                "bad3",
            ]),
            "promoter train",
            needles,
        );
        assert_absent(&d.join("bad3"));
    }
    // A masked-LM folder is not a classifier.
    assert_fails(
        dnalm_q().current_dir(d).args([
            "promoter",
            "scan",
            "run/model",
            "g.fa",
            "--out-dir",
            "bad4",
        ]),
        "promoter scan",
        &["num_labels"],
    );
    assert_absent(&d.join("bad4"));
}

#[test]
fn data_from_positives_and_bad_tss() {
    let t = tmp();
    let d = t.path();
    genome(d);
    let mut rng = Rng::new(3);
    let pos: String = (0..10).map(|_| rng.dna(300) + "\n").collect();
    write(&d.join("pos.txt"), pos);
    dnalm_q()
        .current_dir(d)
        .args([
            "promoter",
            "data",
            "--positives",
            "pos.txt",
            "--non-tata",
            "permutation",
            "-o",
            "p.csv",
        ])
        .assert()
        .success();
    let rows = csv_rows(&d.join("p.csv"));
    assert_eq!(rows.len(), 20);
    for pair in rows.chunks(2) {
        assert_eq!((pair[0][1].as_str(), pair[1][1].as_str()), ("1", "0"));
        assert_eq!(pair[1][3], "permutation");
        // Same bases, other order.
        let mut a: Vec<u8> = pair[0][0].bytes().collect();
        let mut b: Vec<u8> = pair[1][0].bytes().collect();
        assert_ne!(a, b);
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }
    let bad: [(&str, &str, &[&str]); 3] = [
        (
            "out.bed",
            "chrA\t50000\t50001\tfar\t0\t+\n",
            &["far", "outside chrA"],
        ),
        ("chr.bed", "chrZ\t10\t11\tz\t0\t+\n", &["chrZ", "not in"]),
        (
            "strand.bed",
            "chrA\t500\t501\ts\t0\tx\n",
            &["strand.bed:1", "strand"],
        ),
    ];
    for (name, text, needles) in bad {
        write(&d.join(name), text);
        let out: PathBuf = d.join("bad.csv");
        assert_fails(
            dnalm_q().current_dir(d).args([
                "promoter", "data", "--genome", "g.fa", "--tss", name, "-o", "bad.csv",
            ]),
            "promoter data",
            needles,
        );
        assert_absent(&out);
    }
}
