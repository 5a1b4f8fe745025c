//! End-to-end tests of `dnalm corpus` on tiny generated fixtures,
//! checked on content, not just exit codes.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use common::*;

// ---------------------------------------------------------------- corpus

/// Parses `corpus --format tsv` output into (record, start, end, sequence).
fn parse_tsv(text: &str) -> Vec<(String, usize, usize, String)> {
    let mut it = text.lines();
    assert_eq!(it.next(), Some("record\tstart\tend\tsequence"));
    it.map(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f.len(), 4, "bad TSV row {l:?}");
        (
            f[0].to_string(),
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
            f[3].to_string(),
        )
    })
    .collect()
}

fn corpus_tsv(fasta: &Path, extra: &[&str]) -> Vec<(String, usize, usize, String)> {
    let out = dnalm_q()
        .arg("corpus")
        .arg(fasta)
        .args(["--format", "tsv"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_tsv(&stdout_of(&out))
}

#[test]
fn corpus_windows_are_upper_case_acgt_and_never_cross_an_n() {
    let d = tmp();
    let (fasta, recs) = two_record_fasta();
    let fa = write(&d.path().join("two.fa"), &fasta);
    let out = dnalm_q()
        .arg("corpus")
        .arg(&fa)
        .args(["--window", "10"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "-q printed {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout_of(&out);
    let ls = lines(&text);
    // r1: runs of 25 and 23 nt -> 2 + 2 windows; r2: 30 nt -> 3.
    assert_eq!(ls.len(), 7, "{text}");
    let runs: Vec<String> = recs
        .iter()
        .flat_map(|(_, s)| {
            s.to_uppercase()
                .split('N')
                .filter(|r| !r.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    for l in &ls {
        assert_eq!(l.len(), 10);
        assert!(is_upper_acgt(l), "{l:?} is not upper-case A/C/G/T");
        assert!(runs.iter().any(|r| r.contains(l)), "{l:?} crosses a gap");
    }
}

#[test]
fn corpus_tsv_coordinates_map_back_to_the_input() {
    let d = tmp();
    let (fasta, recs) = two_record_fasta();
    let fa = write(&d.path().join("two.fa"), &fasta);
    let rows = corpus_tsv(&fa, &["--window", "10"]);
    assert_eq!(rows.len(), 7);
    let starts: Vec<(&str, usize)> = rows.iter().map(|r| (r.0.as_str(), r.1)).collect();
    assert_eq!(
        starts,
        [
            ("r1", 0),
            ("r1", 10),
            ("r1", 32),
            ("r1", 42),
            ("r2", 0),
            ("r2", 10),
            ("r2", 20)
        ]
    );
    for (name, start, end, seq) in &rows {
        let rec = &recs.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(end - start, 10);
        assert_eq!(
            &rec[*start..*end].to_uppercase(),
            seq,
            "{name}:{start}-{end}"
        );
    }
    // Whole runs (--window 0) also map back.
    let rows = corpus_tsv(&fa, &[]);
    let got: Vec<(&str, usize, usize)> = rows.iter().map(|r| (r.0.as_str(), r.1, r.2)).collect();
    assert_eq!(got, [("r1", 0, 25), ("r1", 32, 55), ("r2", 0, 30)]);
    for (name, start, end, seq) in &rows {
        let rec = &recs.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(&rec[*start..*end].to_uppercase(), seq);
    }
}

#[test]
fn corpus_gaps_drop_versus_split() {
    let d = tmp();
    let (fasta, recs) = two_record_fasta();
    let fa = write(&d.path().join("two.fa"), &fasta);
    // Whole runs: split gives both halves of r1; drop drops r1 entirely.
    assert_eq!(corpus_tsv(&fa, &["--gaps", "split"]).len(), 3);
    let dropped = corpus_tsv(&fa, &["--gaps", "drop"]);
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].0, "r2");
    assert_eq!(dropped[0].3, recs[1].1.to_uppercase());
    // Windows: drop keeps the record grid and drops windows holding an N
    // (r1 20-30 and 30-40), split restarts after the gap.
    let split = corpus_tsv(&fa, &["--window", "10", "--gaps", "split"]);
    let drop = corpus_tsv(&fa, &["--window", "10", "--gaps", "drop"]);
    assert_eq!(split.len(), 7);
    assert_eq!(drop.len(), 6);
    let r1: Vec<usize> = drop.iter().filter(|r| r.0 == "r1").map(|r| r.1).collect();
    assert_eq!(r1, [0, 10, 40]);
    for (name, start, end, seq) in &drop {
        let rec = &recs.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(is_upper_acgt(seq));
        assert_eq!(&rec[*start..*end].to_uppercase(), seq);
    }
}

#[test]
fn corpus_select_and_select_regex() {
    let d = tmp();
    let fa = write(
        &d.path().join("sel.fa"),
        ">chr1\nAAAAAAAAAA\n>chr2\nCCCCCCCCCC\n>chr10\nGGGGGGGGGG\n>chrM\nTTTTTTTTTT\n",
    );
    let names = |extra: &[&str]| -> Vec<String> {
        corpus_tsv(&fa, extra).into_iter().map(|r| r.0).collect()
    };
    assert_eq!(names(&["--select", "chr2"]), ["chr2"]);
    assert_eq!(
        names(&["--select", "chr2", "--select", "chrM"]),
        ["chr2", "chrM"]
    );
    // The regex must match the whole name: chr1 but not chr10.
    assert_eq!(names(&["--select-regex", "chr[0-9]"]), ["chr1", "chr2"]);
    assert_eq!(
        names(&["--select-regex", "chr([0-9]+)"]),
        ["chr1", "chr2", "chr10"]
    );
    // Nothing selected is an error, not an empty file.
    let o = d.path().join("none.txt");
    assert_fails(
        dnalm_q()
            .arg("corpus")
            .arg(&fa)
            .args(["--select", "chrX", "-o"])
            .arg(&o),
        "corpus",
        &["no record matched"],
    );
    assert_absent(&o);
}

fn long_fasta(dir: &Path) -> std::path::PathBuf {
    let mut rng = Rng::new(11);
    let fasta = format!(">a\n{}\n>b\n{}\n", rng.dna(300), rng.dna(300));
    write(&dir.join("long.fa"), fasta)
}

#[test]
fn corpus_sample_is_seeded() {
    let d = tmp();
    let fa = long_fasta(d.path());
    let run = |seed: &str| {
        let out = dnalm_q()
            .arg("corpus")
            .arg(&fa)
            .args(["--window", "10", "--sample", "5", "--seed", seed])
            .output()
            .unwrap();
        assert!(out.status.success());
        stdout_of(&out)
    };
    let all = stdout_of(
        &dnalm_q()
            .arg("corpus")
            .arg(&fa)
            .args(["--window", "10"])
            .output()
            .unwrap(),
    );
    let all: Vec<&str> = all.lines().collect();
    assert_eq!(all.len(), 60);
    let a = run("1");
    assert_eq!(a.lines().count(), 5);
    for l in a.lines() {
        assert!(all.contains(&l), "{l} is not a window of the input");
    }
    assert_eq!(a, run("1"), "same seed, different sample");
    assert_ne!(a, run("2"), "different seeds, same sample");
}

#[test]
fn corpus_random_split_writes_train_and_test() {
    let d = tmp();
    let fa = long_fasta(d.path());
    let all = stdout_of(
        &dnalm_q()
            .arg("corpus")
            .arg(&fa)
            .args(["--window", "10"])
            .output()
            .unwrap(),
    );
    let all: BTreeSet<&str> = all.lines().collect();
    let out_dir = d.path().join("split");
    dnalm_q()
        .arg("corpus")
        .arg(&fa)
        .args([
            "--window",
            "10",
            "--test-fraction",
            "0.5",
            "--split",
            "random",
            "--out-dir",
        ])
        .arg(&out_dir)
        .assert()
        .success()
        .stdout("");
    let train = read(&out_dir.join("train.txt"));
    let test = read(&out_dir.join("test.txt"));
    assert!(train.lines().count() > 0 && test.lines().count() > 0);
    assert!(train.lines().count() + test.lines().count() <= 60);
    for l in train.lines().chain(test.lines()) {
        assert!(all.contains(l), "{l} is not a window of the input");
    }
}

#[test]
fn corpus_gzip_input_and_gz_output() {
    let d = tmp();
    let (fasta, _) = two_record_fasta();
    let plain = write(&d.path().join("two.fa"), &fasta);
    let gz = write(&d.path().join("two.fa.gz"), gzip(fasta.as_bytes()));
    // gzip is recognised from the magic bytes, not the name.
    let hidden = write(&d.path().join("two.data"), gzip(fasta.as_bytes()));
    let expected = stdout_of(
        &dnalm_q()
            .arg("corpus")
            .arg(&plain)
            .args(["--window", "10"])
            .output()
            .unwrap(),
    );
    assert_eq!(expected.lines().count(), 7);
    for input in [&gz, &hidden] {
        dnalm_q()
            .arg("corpus")
            .arg(input)
            .args(["--window", "10"])
            .assert()
            .success()
            .stdout(expected.clone());
    }
    let out = d.path().join("w.txt.gz");
    dnalm_q()
        .arg("corpus")
        .arg(&gz)
        .args(["--window", "10", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "-o *.gz is not gzip");
    assert_eq!(String::from_utf8(gunzip(&bytes)).unwrap(), expected);
    // A corpus file, itself gzipped, reads back as one sequence per line.
    dnalm_q()
        .arg("corpus")
        .arg(&out)
        .assert()
        .success()
        .stdout(expected);
}

/// A forgotten input with stdin on a terminal fails at once with a hint
/// instead of waiting for typing. The terminal comes from util-linux
/// `script` (a pseudo-terminal); without it the test says so and checks
/// only that a pipe is still read.
#[test]
fn forgotten_input_on_a_terminal_fails_with_a_hint() {
    dnalm_q()
        .args(["corpus", "--window", "4"])
        .write_stdin(">a\nACGTACGT\n")
        .assert()
        .success()
        .stdout("ACGT\nACGT\n");
    let have = |tool: &str| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !cfg!(target_os = "linux") || !have("script") || !have("timeout") {
        eprintln!("skipped the terminal case: needs Linux with util-linux script and timeout");
        return;
    }
    let d = tmp();
    let k3 = d.path().join("k3.json");
    dnalm_q()
        .args(["tokenizer", "train", "--kind", "kmer", "--k", "3", "-o"])
        .arg(&k3)
        .assert()
        .success();
    let bin = assert_cmd::cargo::cargo_bin("dnalm");
    for (args, hint) in [
        (
            "corpus --window 4".to_string(),
            "dnalm corpus: error: no input: give a FASTA/FASTQ/text file, or pipe sequences into stdin",
        ),
        (
            format!("tokenizer decode --tokenizer '{}'", k3.display()),
            "dnalm tokenizer decode: error: no input: give a file of token ids, or pipe token ids into stdin",
        ),
    ] {
        // `timeout` turns the old behaviour (waiting on the terminal) into a failure.
        let out = std::process::Command::new("timeout")
            .args(["20", "script", "-qec"])
            .arg(format!("'{}' -q {args}", bin.display()))
            .arg("/dev/null")
            .env_remove("DNALM_LOG")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{args}: {text}");
        assert!(text.contains(hint), "{args}: {text}");
    }
}

#[test]
fn corpus_reads_stdin() {
    let (fasta, _) = two_record_fasta();
    let expected = "record\tstart\tend\tsequence\n";
    for args in [
        &["corpus", "-", "--window", "10"][..],
        &["corpus", "--window", "10"][..],
    ] {
        let out = dnalm_q()
            .args(args)
            .write_stdin(fasta.clone())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(stdout_of(&out).lines().count(), 7, "{args:?}");
    }
    // Gzip on stdin too.
    let out = dnalm_q()
        .args(["corpus", "--format", "tsv"])
        .write_stdin(gzip(fasta.as_bytes()))
        .output()
        .unwrap();
    assert!(stdout_of(&out).starts_with(expected));
    assert_eq!(stdout_of(&out).lines().count(), 4);
}

#[test]
fn corpus_crlf_input_equals_lf_input() {
    let d = tmp();
    let (fasta, _) = two_record_fasta();
    let lf = write(&d.path().join("lf.fa"), &fasta);
    let crlf = write(&d.path().join("crlf.fa"), fasta.replace('\n', "\r\n"));
    for extra in [&["--window", "10"][..], &["--format", "tsv"][..]] {
        let a = dnalm_q()
            .arg("corpus")
            .arg(&lf)
            .args(extra)
            .output()
            .unwrap();
        let b = dnalm_q()
            .arg("corpus")
            .arg(&crlf)
            .args(extra)
            .output()
            .unwrap();
        assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
        assert!(!b.stdout.contains(&b'\r'), "a CR leaked into the output");
        assert_eq!(a.stdout, b.stdout);
    }
}

#[test]
fn corpus_reads_fastq() {
    let d = tmp();
    let fq = write(
        &d.path().join("r.fq"),
        "@q1 some read\nACGTACGTAC\n+\nIIIIIIIIII\n@q2\nggggccNNaattcc\n+q2\nIIIIIIIIIIIIII\n",
    );
    let rows = corpus_tsv(&fq, &[]);
    let got: Vec<(&str, usize, usize, &str)> = rows
        .iter()
        .map(|r| (r.0.as_str(), r.1, r.2, r.3.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("q1", 0, 10, "ACGTACGTAC"),
            ("q2", 0, 6, "GGGGCC"),
            ("q2", 8, 14, "AATTCC")
        ]
    );
}

#[test]
fn corpus_broken_pipe_exits_zero_silently() {
    let d = tmp();
    let mut rng = Rng::new(5);
    let big = write(
        &d.path().join("big.fa"),
        format!(">big\n{}\n", rng.dna(2_000_000)),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dnalm"))
        .arg("corpus")
        .arg(&big)
        .args(["--window", "10"])
        .env_remove("DNALM_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 11];
    stdout.read_exact(&mut first).unwrap();
    assert!(is_upper_acgt(std::str::from_utf8(&first[..10]).unwrap()));
    drop(stdout); // like `| head -1`
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "", "a closed stdout must be silent");
}

#[test]
fn corpus_handles_a_100_mb_single_line_record() {
    // 100 MiB of sequence on one line: about 3 s in a debug build.
    let d = tmp();
    let fa = d.path().join("huge.fa");
    {
        use std::io::Write;
        let mut rng = Rng::new(99);
        let chunk = rng.dna(1 << 20);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&fa).unwrap());
        f.write_all(b">huge\n").unwrap();
        for _ in 0..100 {
            f.write_all(chunk.as_bytes()).unwrap();
        }
        f.write_all(b"\n").unwrap();
    }
    let out = d.path().join("w.txt");
    dnalm_q()
        .arg("corpus")
        .arg(&fa)
        .args(["--window", "1000", "-o"])
        .arg(&out)
        .assert()
        .success();
    let meta = std::fs::metadata(&out).unwrap();
    // 104857 windows of 1000 nt + newline each; the 600-nt tail is dropped.
    assert_eq!(meta.len(), 104_857 * 1001);
    std::fs::remove_file(&fa).unwrap();
}
