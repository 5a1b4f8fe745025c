//! End-to-end tests of `dnalm embed`, `vectors`, `attention` and `motifs`
//! on a 3-mer model pre-trained for two updates on generated sequences.

mod common;

use std::path::Path;

use common::{
    assert_fails, assert_no_files, corpus_text, dnalm_q, pretrain_tiny, read, tmp, train, write,
    Rng,
};
use dnalm_tasks::npy::read_npy;

/// `k3.json` and a model in `run/` (2 layers, hidden 128).
fn setup(dir: &Path) {
    write(&dir.join("corpus.txt"), corpus_text(5, 200));
    train(dir, "k3.json", &["--kind", "kmer", "--k", "3"], None);
    pretrain_tiny(dir, "k3.json", "corpus.txt", 2, 64);
}

fn table(path: &Path) -> Vec<Vec<String>> {
    read(path)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

fn value(rows: &[Vec<String>], key: &str) -> String {
    rows.iter()
        .find(|r| r[0] == key)
        .unwrap_or_else(|| panic!("no {key} in {rows:?}"))[1]
        .clone()
}

#[test]
fn embed_vectors_attention_motifs() {
    let t = tmp();
    let d = t.path();
    setup(d);
    let mut rng = Rng::new(9);
    let long = rng.dna(300);
    let fa = format!(
        ">a\n{}\n>b gap\n{}NNNN{}\n>c\n{long}\n",
        rng.dna(40),
        rng.dna(30),
        rng.dna(30)
    );
    write(&d.join("s.fa"), &fa);

    // embed: one row per record; the long record is cut into chunks.
    let embed = |extra: &[&str], out: &str| {
        dnalm_q()
            .current_dir(d)
            .args([
                "embed",
                "-m",
                "run",
                "s.fa",
                "--max-len",
                "64",
                "--out-dir",
                out,
            ])
            .args(extra)
            .assert()
            .success();
    };
    embed(&[], "e1");
    let (shape, v) = read_npy(&d.join("e1/embeddings.npy")).unwrap();
    assert_eq!(shape, [3, 128]);
    assert!(v.iter().all(|x| x.is_finite()));
    let ids = table(&d.join("e1/ids.tsv"));
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[1][1], "b");
    assert_eq!(ids[1][3], "2", "two pieces around the N run: {ids:?}");
    // 62 body tokens of 3-mers = 64 bases a chunk, 32 shared: chunks start
    // at 0, 32, .., 256; the last holds bases 256..300 (42 tokens).
    assert_eq!(ids[2][3], "9", "{ids:?}");
    assert_eq!(ids[2][4], (8 * 62 + 42).to_string());
    for f in ["results.tsv", "results.md", "norms.svg"] {
        assert!(d.join("e1").join(f).is_file(), "{f}");
    }
    // Same input, same bytes; another pooling or layer gives other vectors.
    embed(&[], "e2");
    assert_eq!(
        std::fs::read(d.join("e1/embeddings.npy")).unwrap(),
        std::fs::read(d.join("e2/embeddings.npy")).unwrap()
    );
    embed(&["--pooling", "cls", "--layer", "0"], "e3");
    let (_, v3) = read_npy(&d.join("e3/embeddings.npy")).unwrap();
    assert_ne!(v, v3);
    assert_eq!(value(&table(&d.join("e3/results.tsv")), "layer"), "0");

    // A labelled table: the report compares the classes.
    let mut csv = String::from("id,sequence,label\n");
    for i in 0..12 {
        let s = if i % 2 == 0 {
            format!("{}TATAAAAG{}", rng.dna(30), rng.dna(30))
        } else {
            rng.dna(68)
        };
        csv.push_str(&format!("{i},{s},{}\n", (i + 1) % 2));
    }
    write(&d.join("lab.csv"), &csv);
    dnalm_q()
        .current_dir(d)
        .args(["embed", "-m", "run", "lab.csv", "--out-dir", "e4"])
        .assert()
        .success();
    let r = table(&d.join("e4/results.tsv"));
    let within: f64 = value(&r, "cosine_within_positives").parse().unwrap();
    assert!((-1.0..=1.0).contains(&within));
    assert!(d.join("e4/similarity.svg").is_file());
    assert_eq!(table(&d.join("e4/ids.tsv"))[0][5], "1");

    // vectors: word2vec + npy, neighbours on stdout, contextual vectors.
    write(&d.join("ctx.fa"), format!(">x\n{}\n", rng.dna(40)));
    let out = dnalm_q()
        .current_dir(d)
        .args([
            "vectors",
            "-m",
            "run",
            "--out-dir",
            "vec",
            "--neighbours",
            "ACG",
            "--top",
            "5",
        ])
        .args(["--contextual", "ctx.fa"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tsv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = tsv.lines().collect();
    assert_eq!(rows[0], "rank\ttoken\tcosine");
    assert_eq!(rows.len(), 6);
    assert!(!tsv.contains("\tACG\t") && !tsv.contains("[PAD]"));
    let w2v = read(&d.join("vec/vectors.txt"));
    assert!(w2v.starts_with("69 128\n[PAD] "), "{}", &w2v[..40]);
    assert_eq!(w2v.lines().nth(6).unwrap().split(' ').count(), 129);
    let (shape, _) = read_npy(&d.join("vec/vectors.npy")).unwrap();
    assert_eq!(shape, [69, 128]);
    // 38 3-mers + [CLS] + [SEP].
    assert_eq!(
        read_npy(&d.join("vec/contextual_1.npy")).unwrap().0,
        [40, 128]
    );
    assert_eq!(table(&d.join("vec/contextual_1.tsv"))[1][1].len(), 3);
    assert!(d.join("vec/neighbours.svg").is_file());

    // attention: npy + json + html + svg per record, rows summing to 1.
    write(
        &d.join("two.txt"),
        format!("{}\n{}\n", rng.dna(50), rng.dna(20)),
    );
    dnalm_q()
        .current_dir(d)
        .args(["attention", "-m", "run", "two.txt", "--out-dir", "att"])
        .args(["--max-records", "2"])
        .assert()
        .success();
    // The default is one record (each costs ~11 bytes per weight).
    dnalm_q()
        .current_dir(d)
        .args(["attention", "-m", "run", "two.txt", "--out-dir", "att1"])
        .assert()
        .success();
    assert!(d.join("att1/seq1.npy").is_file());
    assert!(!d.join("att1/seq2.npy").exists());
    let (shape, a) = read_npy(&d.join("att/seq1.npy")).unwrap();
    let heads = shape[1];
    assert_eq!(shape, [2, heads, 50, 50]);
    for row in a.chunks(50) {
        let s: f32 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-4, "{s}");
    }
    let html = read(&d.join("att/seq1.html"));
    assert!(!html.contains("http") && html.contains("<canvas"));
    let info: serde_json::Value = serde_json::from_str(&read(&d.join("att/seq2.json"))).unwrap();
    assert_eq!(info["tokens"].as_array().unwrap().len(), 20);
    assert_eq!(info["cls_per_base"].as_array().unwrap().len(), 20);
    for f in [
        "seq1.layer1.svg",
        "seq1.layer2.svg",
        "seq2.cls.svg",
        "results.md",
    ] {
        assert!(d.join("att").join(f).is_file(), "{f}");
    }
    assert_eq!(table(&d.join("att/results.tsv")).len(), 2);

    // motifs on the labelled table.
    dnalm_q()
        .current_dir(d)
        .args([
            "motifs",
            "-m",
            "run",
            "lab.csv",
            "--out-dir",
            "mot",
            "--min-hits",
            "1",
            "--motif-k",
            "4",
        ])
        .assert()
        .success();
    let r = table(&d.join("mot/results.tsv"));
    assert_eq!(value(&r, "positives"), "6");
    assert_eq!(value(&r, "negatives"), "6");
    let rho: f64 = value(&r, "tfidf_attention_spearman_pooled")
        .parse()
        .unwrap();
    assert!((-1.0..=1.0).contains(&rho));
    for m in table(&d.join("mot/motifs.tsv")) {
        let (p, n): (usize, usize) = (m[2].parse().unwrap(), m[3].parse().unwrap());
        assert!(p <= 6 && n <= 6 && m[0].len() == 4, "{m:?}");
        let (pv, qv): (f64, f64) = (m[4].parse().unwrap(), m[5].parse().unwrap());
        assert!(pv <= qv + 1e-12 && qv <= 1.0, "{m:?}");
    }
}

#[test]
fn bad_input_fails_cleanly() {
    let t = tmp();
    let d = t.path();
    setup(d);
    write(&d.join("s.txt"), "ACGTACGTACGTAAAC\n");
    write(&d.join("empty.fa"), "");
    write(&d.join("bad.csv"), "sequence,label\nACGTACGT,1\nACGTTT,2\n");
    write(&d.join("one.csv"), "sequence,label\nACGTACGT,1\nACGTTT,1\n");
    write(&d.join("gap.txt"), "ACGTNNACGT\n");
    train(d, "k4.json", &["--kind", "kmer", "--k", "4"], None);
    let cases: Vec<(Vec<&str>, &str, Vec<&str>)> = vec![
        (
            vec!["embed", "-m", "run", "empty.fa", "--out-dir", "o1"],
            "embed",
            vec!["empty"],
        ),
        (
            vec![
                "embed",
                "-m",
                "run",
                "-t",
                "k4.json",
                "s.txt",
                "--out-dir",
                "o2",
            ],
            "embed",
            vec!["vocabulary"],
        ),
        (
            vec![
                "embed",
                "-m",
                "run",
                "s.txt",
                "--layer",
                "7",
                "--out-dir",
                "o3",
            ],
            "embed",
            vec!["--layer 7"],
        ),
        (
            vec!["embed", "-m", "nowhere", "s.txt", "--out-dir", "o4"],
            "embed",
            vec!["no model here"],
        ),
        (
            vec!["motifs", "-m", "run", "bad.csv", "--out-dir", "o5"],
            "motifs",
            vec!["bad.csv:3", "not 0 or 1"],
        ),
        (
            vec!["motifs", "-m", "run", "one.csv", "--out-dir", "o6"],
            "motifs",
            vec!["0 negative"],
        ),
        (
            vec!["attention", "-m", "run", "gap.txt", "--out-dir", "o7"],
            "attention",
            vec!["record 1"],
        ),
        (
            vec![
                "vectors",
                "-m",
                "run",
                "--neighbours",
                "ZZZ",
                "--out-dir",
                "o8",
            ],
            "vectors",
            vec!["ZZZ"],
        ),
        (
            vec!["vectors", "-m", "run"],
            "vectors",
            vec!["nothing to do"],
        ),
    ];
    for (args, name, needles) in cases {
        assert_fails(dnalm_q().current_dir(d).args(&args), name, &needles);
        if let Some(o) = args.last().filter(|o| o.starts_with('o')) {
            assert_no_files(&d.join(o));
        }
    }
}
