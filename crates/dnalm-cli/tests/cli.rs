//! End-to-end tests of the `dnalm` binary on tiny generated fixtures: the
//! happy paths of every subcommand, checked on content, not just exit codes.

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

fn is_upper_acgt(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b"ACGT".contains(&b))
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

// ---------------------------------------------------------------- tokenizer

fn encode(tok: &Path, input: &Path, extra: &[&str]) -> String {
    let out = dnalm_q()
        .args(["tokenizer", "encode", "-t"])
        .arg(tok)
        .arg(input)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out)
}

fn encode_stdin(tok: &Path, seq: &str, extra: &[&str]) -> String {
    let out = dnalm_q()
        .args(["tokenizer", "encode", "-t"])
        .arg(tok)
        .args(extra)
        .write_stdin(format!("{seq}\n"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out)
}

fn decode(tok: &Path, ids: &Path) -> String {
    let out = dnalm_q()
        .args(["tokenizer", "decode", "-t"])
        .arg(tok)
        .arg(ids)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out)
}

fn train(dir: &Path, name: &str, args: &[&str], corpus: Option<&Path>) -> std::path::PathBuf {
    let tok = dir.join(name);
    let mut c = dnalm_q();
    c.args(["tokenizer", "train"]).args(args);
    if let Some(c0) = corpus {
        c.arg(c0);
    }
    c.arg("-o").arg(&tok).assert().success().stdout("");
    tok
}

#[test]
fn bpe_train_encode_decode_round_trip() {
    let d = tmp();
    let (corpus, tok) = train_bpe(d.path(), 20);
    let text = read(&corpus);
    let spec: serde_json_like::Value = serde_json_like::parse(&read(&tok));
    assert_eq!(spec.kind, "bpe");
    assert_eq!(spec.merges, 20);

    let ids = write(&d.path().join("ids.txt"), encode(&tok, &corpus, &[]));
    let ids_text = read(&ids);
    assert_eq!(ids_text.lines().count(), text.lines().count());
    for l in ids_text.lines() {
        for id in l.split(' ') {
            let id: u32 = id.parse().unwrap();
            assert!(
                (5..29).contains(&id),
                "id {id} outside 5 + 4 bases + 20 merges"
            );
        }
    }
    assert_eq!(decode(&tok, &ids), text, "decode(encode(x)) != x");
    // And through stdin.
    let out = dnalm_q()
        .args(["tokenizer", "decode", "-t"])
        .arg(&tok)
        .write_stdin(ids_text.clone())
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), text);

    // Tokens join back to the sequence, and some merge is used.
    let toks = encode(&tok, &corpus, &["--format", "tokens"]);
    assert!(toks.lines().any(|l| l.split(' ').any(|t| t.len() > 1)));
    let joined: Vec<String> = toks.lines().map(|l| l.replace(' ', "")).collect();
    assert_eq!(joined, text.lines().collect::<Vec<_>>());

    // TSV format: header, coordinates, then the same ids; decode reads it too.
    let tsv = encode(&tok, &corpus, &["--format", "tsv"]);
    let mut tl = tsv.lines();
    assert_eq!(tl.next(), Some("record\tstart\tend\tids"));
    let first: Vec<&str> = tl.next().unwrap().split('\t').collect();
    assert_eq!(first[0], "line1");
    assert_eq!(first[1], "0");
    assert_eq!(
        first[2].parse::<usize>().unwrap(),
        text.lines().next().unwrap().len()
    );
    assert_eq!(first[3], ids_text.lines().next().unwrap());
    let tsv_path = write(&d.path().join("ids.tsv"), &tsv);
    assert_eq!(decode(&tok, &tsv_path), text);
}

#[test]
fn bpe_special_tokens_and_max_len() {
    let d = tmp();
    let (corpus, tok) = train_bpe(d.path(), 20);
    let out = encode(&tok, &corpus, &["--add-special-tokens", "--max-len", "16"]);
    let mut padded = 0;
    let mut truncated = 0;
    for l in out.lines() {
        let ids: Vec<u32> = l.split(' ').map(|x| x.parse().unwrap()).collect();
        assert_eq!(ids.len(), 16, "{l}");
        assert_eq!(ids[0], 2, "does not start with [CLS]: {l}");
        assert!(ids.contains(&3), "no [SEP]: {l}");
        let sep = ids.iter().position(|&x| x == 3).unwrap();
        assert!(
            ids[sep + 1..].iter().all(|&x| x == 0),
            "not padded with [PAD] after [SEP]: {l}"
        );
        if sep < 15 {
            padded += 1;
        } else {
            truncated += 1;
        }
    }
    // A short line gets padding.
    let short = encode_stdin(&tok, "ACGTA", &["--add-special-tokens", "--max-len", "16"]);
    let ids: Vec<u32> = short
        .trim()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 16);
    assert_eq!(ids[0], 2);
    assert_eq!(*ids.last().unwrap(), 0);
    // The corpus (20..=96 nt lines, about 2 nt per token) has both.
    assert!(
        padded > 0 && truncated > 0,
        "{padded} padded, {truncated} truncated"
    );
}

#[test]
fn hybrid_round_trip() {
    let d = tmp();
    let corpus = write(&d.path().join("corpus.txt"), corpus_text(4, 200));
    let tok = train(
        d.path(),
        "hybrid.json",
        &["--kind", "hybrid", "--segment-len", "50", "--merges", "20"],
        Some(&corpus),
    );
    assert!(read(&tok).contains("\"hybrid\""));
    let ids = write(&d.path().join("ids.txt"), encode(&tok, &corpus, &[]));
    assert_eq!(decode(&tok, &ids), read(&corpus));
}

#[test]
fn kmer_ids_are_five_plus_the_lexicographic_rank() {
    let d = tmp();
    let tok = train(d.path(), "k3.json", &["--kind", "kmer", "--k", "3"], None);
    // ATG = 0*16+3*4+2 = 14, TGG = 58, GGC = 41, GCT = 39 (A<C<G<T), + 5 specials.
    assert_eq!(encode_stdin(&tok, "ATGGCT", &[]), "19 63 46 44\n");
    assert_eq!(
        encode_stdin(&tok, "ATGGCT", &["--format", "tokens"]),
        "ATG TGG GGC GCT\n"
    );
    // Lower case is upper-cased; N splits the input into pieces.
    assert_eq!(encode_stdin(&tok, "atggct", &[]), "19 63 46 44\n");
    assert_eq!(encode_stdin(&tok, "AAANCCC", &[]), "5\n26\n");
    // Round trip on a corpus.
    let corpus = write(&d.path().join("c.txt"), corpus_text(5, 50));
    let ids = write(&d.path().join("ids.txt"), encode(&tok, &corpus, &[]));
    assert_eq!(decode(&tok, &ids), read(&corpus));
}

#[test]
fn kmer_dnabert_order() {
    let d = tmp();
    let tok = train(
        d.path(),
        "k3d.json",
        &["--kind", "kmer", "--k", "3", "--order", "dnabert"],
        None,
    );
    // DNABERT order A<T<C<G: ATG = 0*16+1*4+3 = 7, TGG = 31, GGC = 62, GCT = 57.
    assert_eq!(encode_stdin(&tok, "ATGGCT", &[]), "12 36 67 62\n");
    let hf = d.path().join("hf");
    dnalm_q()
        .args(["tokenizer", "export", "-t"])
        .arg(&tok)
        .arg("--out-dir")
        .arg(&hf)
        .assert()
        .success();
    let vocab = read(&hf.join("vocab.txt"));
    let v: Vec<&str> = vocab.lines().collect();
    assert_eq!(v.len(), 5 + 64);
    assert_eq!(
        &v[..8],
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "AAA", "AAT", "AAC"]
    );
    assert_eq!(v.last(), Some(&"GGG"));
}

#[test]
fn varkmer_round_trip_and_seed() {
    let d = tmp();
    let corpus = write(&d.path().join("c.txt"), corpus_text(6, 100));
    let tok = train(
        d.path(),
        "vk.json",
        &[
            "--kind", "varkmer", "--min-k", "3", "--max-k", "8", "--seed", "1",
        ],
        None,
    );
    let ids = write(&d.path().join("ids.txt"), encode(&tok, &corpus, &[]));
    assert_eq!(decode(&tok, &ids), read(&corpus));
    let toks = encode(&tok, &corpus, &["--format", "tokens"]);
    for l in toks.lines() {
        let parts: Vec<&str> = l.split(' ').collect();
        // All but possibly the last token are 3..=8 nt long.
        for t in &parts[..parts.len() - 1] {
            assert!((3..=8).contains(&t.len()), "token {t} outside 3..=8 in {l}");
        }
    }
    let again = train(
        d.path(),
        "vk2.json",
        &[
            "--kind", "varkmer", "--min-k", "3", "--max-k", "8", "--seed", "1",
        ],
        None,
    );
    assert_eq!(std::fs::read(&tok).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn train_report_dir_files_have_headers() {
    let d = tmp();
    let corpus = write(&d.path().join("c.txt"), corpus_text(3, 300));
    let rep = d.path().join("rep");
    dnalm_q()
        .args(["tokenizer", "train", "--kind", "bpe", "--merges", "20"])
        .arg(&corpus)
        .arg("-o")
        .arg(d.path().join("t.json"))
        .arg("--report-dir")
        .arg(&rep)
        .assert()
        .success();
    let merges = read(&rep.join("merges.tsv"));
    assert_eq!(
        merges.lines().next(),
        Some("rank\tleft\tright\ttoken\tpair_count\tapplied")
    );
    assert_eq!(merges.lines().count(), 21);
    for (r, l) in merges.lines().skip(1).enumerate() {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f[0], r.to_string());
        assert_eq!(
            format!("{}{}", f[1], f[2]),
            f[3],
            "merge {l} does not join its parts"
        );
    }
    let counts = read(&rep.join("token_counts.tsv"));
    assert_eq!(counts.lines().next(), Some("id\ttoken\tlength\tcount"));
    assert_eq!(counts.lines().count(), 1 + 24);
    let training = read(&rep.join("training.json"));
    assert!(training.contains("\"merges\": 20"), "{training}");
    assert!(training.contains("\"vocab_size\": 29"), "{training}");
}

/// The file with any `"seconds": ...` line (training wall time) removed.
fn without_timing(path: &Path) -> String {
    read(path)
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"seconds\""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn train_is_deterministic_apart_from_timing() {
    let d = tmp();
    let corpus = write(&d.path().join("c.txt"), corpus_text(8, 300));
    for kind in ["bpe", "hybrid"] {
        let args = ["--kind", kind, "--merges", "30", "--segment-len", "50"];
        let a = train(d.path(), &format!("{kind}-a.json"), &args, Some(&corpus));
        let b = train(d.path(), &format!("{kind}-b.json"), &args, Some(&corpus));
        assert_eq!(
            without_timing(&a),
            without_timing(&b),
            "{kind} differs between runs"
        );
    }
    // Same with one thread versus two.
    let a = d.path().join("j1.json");
    dnalm_q()
        .args(["-j", "1", "tokenizer", "train", "--merges", "30"])
        .arg(&corpus)
        .arg("-o")
        .arg(&a)
        .assert()
        .success();
    let b = d.path().join("j2.json");
    dnalm_q()
        .args(["-j", "2", "tokenizer", "train", "--merges", "30"])
        .arg(&corpus)
        .arg("-o")
        .arg(&b)
        .assert()
        .success();
    assert_eq!(without_timing(&a), without_timing(&b));
}

#[test]
fn train_twice_gives_byte_identical_files() {
    let d = tmp();
    let corpus = write(&d.path().join("c.txt"), corpus_text(8, 300));
    for kind in ["bpe", "hybrid"] {
        let args = ["--kind", kind, "--merges", "30", "--segment-len", "50"];
        let a = train(d.path(), &format!("{kind}-a.json"), &args, Some(&corpus));
        let b = train(d.path(), &format!("{kind}-b.json"), &args, Some(&corpus));
        assert!(
            read(&a) == read(&b),
            "{kind}: two runs of tokenizer train differ"
        );
    }
}

#[test]
fn export_bpe_loads_back_with_identical_ids() {
    let d = tmp();
    let (corpus, tok) = train_bpe(d.path(), 20);
    let hf = d.path().join("hf");
    dnalm_q()
        .args(["tokenizer", "export", "-t"])
        .arg(&tok)
        .arg("--out-dir")
        .arg(&hf)
        .args(["--model-max-length", "128"])
        .assert()
        .success()
        .stdout("");
    let tj = read(&hf.join("tokenizer.json"));
    assert!(tj.contains("\"BPE\""), "tokenizer.json has no BPE model");
    assert!(read(&hf.join("tokenizer_config.json")).contains("128"));
    let vocab = read(&hf.join("vocab.txt"));
    assert_eq!(vocab.lines().count(), 29);
    assert_eq!(
        &vocab.lines().take(5).collect::<Vec<_>>(),
        &["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    );
    let ours = encode(&tok, &corpus, &[]);
    let theirs = encode(&hf.join("tokenizer.json"), &corpus, &[]);
    assert_eq!(ours, theirs, "exported tokenizer.json encodes differently");
    let framed = ["--add-special-tokens", "--max-len", "20"];
    assert_eq!(
        encode(&tok, &corpus, &framed),
        encode(&hf.join("tokenizer.json"), &corpus, &framed)
    );
}

#[test]
fn export_kmer_vocab_txt_loads_as_a_tokenizer() {
    let d = tmp();
    let tok = train(d.path(), "k3.json", &["--kind", "kmer", "--k", "3"], None);
    let hf = d.path().join("hf");
    dnalm_q()
        .args(["tokenizer", "export", "-t"])
        .arg(&tok)
        .arg("--out-dir")
        .arg(&hf)
        .assert()
        .success();
    for f in ["tokenizer.json", "tokenizer_config.json", "vocab.txt"] {
        assert!(hf.join(f).is_file(), "{f} missing");
    }
    let v = read(&hf.join("vocab.txt"));
    assert_eq!(v.lines().count(), 69);
    assert_eq!(v.lines().nth(5), Some("AAA"));
    assert_eq!(v.lines().nth(19), Some("ATG"));
    assert!(read(&hf.join("tokenizer.json")).contains("WordLevel"));
    let corpus = write(&d.path().join("c.txt"), corpus_text(9, 40));
    let ours = encode(&tok, &corpus, &[]);
    assert_eq!(encode(&hf.join("vocab.txt"), &corpus, &[]), ours);
    assert_eq!(encode(&hf.join("tokenizer.json"), &corpus, &[]), ours);
    assert_eq!(
        encode_stdin(&hf.join("vocab.txt"), "ATGGCT", &[]),
        "19 63 46 44\n"
    );
}

#[test]
fn stats_writes_tables_and_plots() {
    let d = tmp();
    let (corpus, tok) = train_bpe(d.path(), 20);
    let st = d.path().join("stats");
    let out = dnalm_q()
        .args(["tokenizer", "stats", "-t"])
        .arg(&tok)
        .arg(&corpus)
        .arg("--out-dir")
        .arg(&st)
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary = read(&st.join("summary.tsv"));
    assert_eq!(stdout_of(&out), summary, "stdout is not the summary TSV");
    assert_eq!(summary.lines().next(), Some("metric\tvalue"));
    let field = |k: &str| -> String {
        summary
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}\t")).map(String::from))
            .unwrap_or_else(|| panic!("no {k} in summary"))
    };
    assert_eq!(field("sequences"), "300");
    let nt: usize = read(&corpus).lines().map(str::len).sum();
    assert_eq!(field("total_nucleotides"), nt.to_string());
    let freq = read(&st.join("frequencies.tsv"));
    assert_eq!(
        freq.lines().next(),
        Some("rank\ttoken\tid\tlength\tcount\tfrequency")
    );
    let total: u64 = freq
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(4).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total.to_string(), field("total_tokens"));
    assert!(read(&st.join("stats.json")).trim_start().starts_with('{'));
    for svg in ["rank_frequency.svg", "length_distribution.svg"] {
        assert!(read(&st.join(svg)).contains("<svg"), "{svg} is not SVG");
    }
}

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
            "--out-dir",
        ])
        .arg(&q)
        .assert()
        .success();
    let report = read(&q.join("report.md"));
    assert!(report.contains("BPE-50"), "{report}");
    assert!(report.contains("Hybrid vocabulary"), "{report}");
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
        .args(["--merges", "50", "--out-dir"])
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

/// A tiny reader for the two fields of a dnalm tokenizer file the tests
/// check, so the tests need no JSON dependency.
mod serde_json_like {
    pub struct Value {
        pub kind: String,
        pub merges: usize,
    }

    pub fn parse(text: &str) -> Value {
        let kind = text
            .split("\"kind\":")
            .nth(1)
            .and_then(|r| r.split('"').nth(1))
            .expect("kind field")
            .to_string();
        // "merges": [ ["A","T"], ... ] -> count the inner arrays.
        let merges_part = text.split("\"merges\":").nth(1).expect("merges field");
        let mut depth = 0i32;
        let mut merges = 0;
        for c in merges_part.chars() {
            match c {
                '[' => {
                    depth += 1;
                    if depth == 2 {
                        merges += 1;
                    }
                }
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        Value { kind, merges }
    }
}
