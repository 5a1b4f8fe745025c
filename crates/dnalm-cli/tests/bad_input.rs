//! Bad input to the `dnalm` binary: every failure exits 1 with one stderr
//! line `dnalm <cmd>: error: ...` naming the file (and line or record where
//! it applies), never panics, and leaves no output file behind.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// `dnalm -q corpus <input> --window <w> -o <dir>/out.txt`; returns the output path.
fn corpus_to_file(
    cmd: &mut assert_cmd::Command,
    input: &Path,
    dir: &Path,
    extra: &[&str],
) -> PathBuf {
    let out = dir.join("out.txt");
    cmd.arg("corpus").arg(input).args(extra).arg("-o").arg(&out);
    out
}

/// Runs `dnalm corpus` on `input` and checks the failure contract; returns the error line.
fn corpus_fails(input: &Path, extra: &[&str], needles: &[&str]) -> String {
    let d = tmp();
    let mut c = dnalm_q();
    let out = corpus_to_file(&mut c, input, d.path(), extra);
    let line = assert_fails(&mut c, "corpus", needles);
    assert_absent(&out);
    assert_no_files(d.path());
    line
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

// ---------------------------------------------------------------- FASTA / FASTQ

#[test]
fn fasta_without_a_header_is_read_as_lines_and_rejects_the_header() {
    // A first line of sequence means "one sequence per line"; the later
    // '>' line is then an invalid character on line 2.
    let d = tmp();
    let fa = write(&d.path().join("nohdr.fa"), "ACGT\n>x\nACGT\n");
    let n = name(&fa);
    corpus_fails(&fa, &[], &[&format!("{n}:2:"), "'>'"]);
}

#[test]
fn empty_inputs() {
    let d = tmp();
    for (file, contents) in [("empty.fa", &b""[..]), ("blank.fa", &b"  \n\n\t\n"[..])] {
        let fa = write(&d.path().join(file), contents);
        corpus_fails(&fa, &[], &[file, "empty input"]);
    }
    let gz = write(&d.path().join("empty.fa.gz"), gzip(b""));
    corpus_fails(&gz, &[], &["empty.fa.gz", "empty"]);
    // Empty stdin names <stdin>.
    assert_fails(
        dnalm_q().arg("corpus").write_stdin(""),
        "corpus",
        &["<stdin>", "empty input"],
    );
    // The same contract in the other readers.
    let d2 = tmp();
    let tok = train_kmer3(d2.path());
    let empty = write(&d2.path().join("empty.fa"), "");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "encode", "-t"])
            .arg(&tok)
            .arg(&empty),
        "tokenizer encode",
        &["empty.fa"],
    );
    assert_fails(
        dnalm_q().args(["tfidf", "--k", "3"]).arg(&empty),
        "tfidf",
        &["empty.fa"],
    );
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "train", "--merges", "5"])
            .arg(&empty)
            .arg("-o")
            .arg(d2.path().join("t.json")),
        "tokenizer train",
        &["empty.fa"],
    );
    assert_absent(&d2.path().join("t.json"));
}

#[test]
fn record_with_an_empty_sequence() {
    let d = tmp();
    let fa = write(&d.path().join("emptyrec.fa"), ">a\n>b\nACGT\n");
    corpus_fails(&fa, &[], &["emptyrec.fa", "\"a\"", "empty sequence"]);
    let last = write(&d.path().join("lastempty.fa"), ">a\nACGT\n>b\n");
    corpus_fails(&last, &[], &["lastempty.fa", "line 3", "no sequence"]);
    let noname = write(&d.path().join("noname.fa"), ">\nACGT\n");
    corpus_fails(&noname, &[], &["noname.fa", "line 1", "no name"]);
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let d = tmp();
    for seed in 0..12u64 {
        let mut rng = Rng::new(seed + 100);
        let garbage: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
        let prefix: &[u8] = match seed % 4 {
            0 => b"\0",         // NUL first
            1 => b">x\n",       // a FASTA header, then garbage
            2 => b"@x\n",       // a FASTQ header, then garbage
            _ => &[0x1f, 0x8b], // gzip magic, then garbage
        };
        let mut bytes = [prefix, &garbage[..]].concat();
        bytes[100] = 0;
        let f = write(&d.path().join(format!("garbage{seed}.bin")), &bytes);
        corpus_fails(&f, &[], &[&name(&f)]);
    }
}

#[test]
fn truncated_gzip_fails_and_names_the_file() {
    let d = tmp();
    let mut rng = Rng::new(1);
    let seq = rng.dna(200_000);
    let fasta = format!(
        ">r\n{}\n",
        seq.as_bytes()
            .chunks(60)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let gz = gzip(fasta.as_bytes());
    let cut = write(&d.path().join("cut.fa.gz"), &gz[..gz.len() - 20]);
    corpus_fails(&cut, &["--window", "100"], &["cut.fa.gz"]);
    // Text (one sequence per line) input, gzipped and cut.
    let text = format!(
        "{}\n",
        seq.as_bytes()
            .chunks(100)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let gz = gzip(text.as_bytes());
    let cut_txt = write(&d.path().join("cut.txt.gz"), &gz[..gz.len() - 20]);
    corpus_fails(&cut_txt, &[], &["cut.txt.gz", "truncated or corrupt gzip"]);
    // The other commands see the same error.
    let tok = train_kmer3(d.path());
    let o = d.path().join("ids.txt");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "encode", "-t"])
            .arg(&tok)
            .arg(&cut)
            .arg("-o")
            .arg(&o),
        "tokenizer encode",
        &["cut.fa.gz"],
    );
    assert_absent(&o);
}

#[test]
fn truncated_gzip_fasta_message_is_clear() {
    let d = tmp();
    let mut rng = Rng::new(1);
    let fasta = format!(">r\n{}\n", rng.dna(200_000));
    let gz = gzip(fasta.as_bytes());
    let cut = write(&d.path().join("cut.fa.gz"), &gz[..gz.len() - 20]);
    let line = corpus_fails(&cut, &[], &["cut.fa.gz"]);
    assert!(
        line.contains("truncated") || line.contains("gzip"),
        "{line}"
    );
    assert!(
        line.matches("incomplete deflate stream").count() <= 1,
        "{line}"
    );
}

#[test]
fn digits_in_a_sequence_name_the_line() {
    let d = tmp();
    let fa = write(
        &d.path().join("digit.fa"),
        ">a\nACGTACGT\nACGTACGT\nAC1GT\nACGT\n>b\nACGT\n",
    );
    corpus_fails(&fa, &[], &["digit.fa:4:", "\"a\"", "'1'"]);
    let fa2 = write(
        &d.path().join("digit2.fa"),
        ">a\nACGT\n>b\nACGT\nAAAA\nTT7T\n",
    );
    corpus_fails(&fa2, &[], &["digit2.fa:6:", "\"b\"", "'7'"]);
    // One sequence per line: line and 1-based column.
    let txt = write(&d.path().join("digit.txt"), "ACGT\nACGT\nAC9T\n");
    corpus_fails(&txt, &[], &["digit.txt:3:", "'9'", "column 3"]);
    // CRLF does not shift the line number.
    let crlf = write(&d.path().join("crlf.fa"), ">a\r\nACGT\r\nAC1GT\r\n");
    corpus_fails(&crlf, &[], &["crlf.fa:3:", "'1'"]);
}

#[test]
fn iupac_codes_split_by_default_and_fail_with_gaps_fail() {
    let d = tmp();
    let fa = write(
        &d.path().join("iupac.fa"),
        ">a\nACGTACGTRYACGTACGTKM\nacgtacgtnn\n",
    );
    let out = dnalm_q()
        .arg("corpus")
        .arg(&fa)
        .args(["--format", "tsv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout_of(&out),
        "record\tstart\tend\tsequence\na\t0\t8\tACGTACGT\na\t10\t18\tACGTACGT\na\t20\t28\tACGTACGT\n"
    );
    corpus_fails(
        &fa,
        &["--gaps", "fail"],
        &["iupac.fa", "\"a\"", "'R'", "position 8"],
    );
    let tok_dir = tmp();
    let tok = train_kmer3(tok_dir.path());
    let o = d.path().join("ids.txt");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "encode", "--gaps", "fail", "-t"])
            .arg(&tok)
            .arg(&fa)
            .arg("-o")
            .arg(&o),
        "tokenizer encode",
        &["iupac.fa", "'R'"],
    );
    assert_absent(&o);
}

#[test]
fn bad_fastq_records() {
    let d = tmp();
    let q = write(&d.path().join("badq.fq"), "@q1\nACGTACGTAC\n+\nIIII\n");
    corpus_fails(&q, &[], &["badq.fq", "\"q1\"", "quality"]);
    let t = write(
        &d.path().join("trunc.fq"),
        "@q1\nACGT\n+\nIIII\n@q2\nACGT\n",
    );
    corpus_fails(&t, &[], &["trunc.fq", "\"q2\""]);
}

#[test]
fn a_failing_command_keeps_the_previous_output_file() {
    let d = tmp();
    let fa = write(&d.path().join("digit.fa"), ">a\nACGT\nAC1GT\n");
    let out = write(&d.path().join("out.txt"), "OLD\n");
    assert_fails(
        dnalm_q().arg("corpus").arg(&fa).arg("-o").arg(&out),
        "corpus",
        &["digit.fa"],
    );
    assert_eq!(read(&out), "OLD\n");
    // No stray temp files either.
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn failing_out_dir_commands_leave_no_files() {
    let d = tmp();
    let fa = write(&d.path().join("digit.fa"), ">a\nACGTACGTAC\nAC1GT\n");
    let split = d.path().join("split");
    assert_fails(
        dnalm_q()
            .arg("corpus")
            .arg(&fa)
            .args(["--window", "2", "--test-fraction", "0.5", "--out-dir"])
            .arg(&split),
        "corpus",
        &["digit.fa:3:"],
    );
    assert_no_files(&split);
    let tf = d.path().join("tf");
    assert_fails(
        dnalm_q()
            .arg("tfidf")
            .arg(&fa)
            .args(["--k", "3", "--out-dir"])
            .arg(&tf),
        "tfidf",
        &["digit.fa:3:"],
    );
    assert_no_files(&tf);
    let tok = train_kmer3(d.path());
    let st = d.path().join("stats");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "stats", "-t"])
            .arg(&tok)
            .arg(&fa)
            .arg("--out-dir")
            .arg(&st),
        "tokenizer stats",
        &["digit.fa:3:"],
    );
    assert_no_files(&st);
}

// ---------------------------------------------------------------- the 100 MB record lives in cli.rs

// ---------------------------------------------------------------- tokenizer files

fn train_kmer3(dir: &Path) -> PathBuf {
    let tok = dir.join("k3.json");
    dnalm_q()
        .args(["tokenizer", "train", "--kind", "kmer", "--k", "3", "-o"])
        .arg(&tok)
        .assert()
        .success();
    tok
}

/// `tokenizer encode` and `tokenizer export` with a bad tokenizer file.
fn bad_tokenizer(tok: &Path, needles: &[&str]) -> String {
    let d = tmp();
    let input = write(&d.path().join("in.txt"), "ACGTACGT\n");
    let o = d.path().join("ids.txt");
    let line = assert_fails(
        dnalm_q()
            .args(["tokenizer", "encode", "-t"])
            .arg(tok)
            .arg(&input)
            .arg("-o")
            .arg(&o),
        "tokenizer encode",
        needles,
    );
    assert_absent(&o);
    let hf = d.path().join("hf");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "export", "-t"])
            .arg(tok)
            .arg("--out-dir")
            .arg(&hf),
        "tokenizer export",
        needles,
    );
    assert_no_files(&hf);
    let ids = write(&d.path().join("ids.in"), "5 6\n");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "decode", "-t"])
            .arg(tok)
            .arg(&ids)
            .arg("-o")
            .arg(&o),
        "tokenizer decode",
        needles,
    );
    assert_absent(&o);
    line
}

#[test]
fn corrupt_json_tokenizer() {
    let d = tmp();
    let good = read(&train_kmer3(d.path()));
    let cut = write(&d.path().join("corrupt.json"), &good[..good.len() / 2]);
    bad_tokenizer(&cut, &["corrupt.json", "invalid JSON", "line"]);
    let junk = write(&d.path().join("junk.json"), "this is not json");
    bad_tokenizer(&junk, &["junk.json"]);
}

#[test]
fn json_of_the_wrong_kind() {
    let d = tmp();
    let wrong = write(&d.path().join("wrong.json"), "{\"foo\":1}");
    bad_tokenizer(&wrong, &["wrong.json"]);
    let arr = write(&d.path().join("array.json"), "[1, 2, 3]");
    bad_tokenizer(&arr, &["array.json"]);
}

#[test]
fn dnalm_tokenizer_with_k_40() {
    let d = tmp();
    let good = read(&train_kmer3(d.path()));
    assert!(good.contains("\"k\": 3"), "{good}");
    let k40 = write(
        &d.path().join("k40.json"),
        good.replace("\"k\": 3", "\"k\": 40"),
    );
    bad_tokenizer(&k40, &["k40.json", "40"]);
    let v2 = write(
        &d.path().join("v2.json"),
        good.replace("\"dnalm_tokenizer\": 1", "\"dnalm_tokenizer\": 2"),
    );
    bad_tokenizer(&v2, &["v2.json", "format 2"]);
}

#[test]
fn missing_tokenizer_file() {
    let d = tmp();
    bad_tokenizer(&d.path().join("missing.json"), &["missing.json"]);
}

#[test]
fn missing_tokenizer_message_is_not_repeated() {
    let d = tmp();
    let line = bad_tokenizer(&d.path().join("missing.json"), &["missing.json"]);
    assert_eq!(line.matches("os error 2").count(), 1, "{line}");
}

#[test]
fn unreadable_model_config_message_is_not_repeated() {
    // A model folder whose config.json is not text: the read fails with an
    // OS-level I/O error, which must appear once after the path.
    let d = tmp();
    let m = d.path().join("m");
    std::fs::create_dir(&m).unwrap();
    write(&m.join("config.json"), b"\xff\xfe{}");
    write(&m.join("model.safetensors"), b"");
    let line = assert_fails(
        dnalm_q().arg("inspect").arg(&m),
        "inspect",
        &["config.json", "valid UTF-8"],
    );
    assert_eq!(line.matches("valid UTF-8").count(), 1, "{line}");
}

#[test]
fn ngram_order_beyond_the_baseline_is_an_error_before_any_work() {
    let d = tmp();
    let g = write(
        &d.path().join("g.fa"),
        format!(">c\n{}\n", Rng::new(5).dna(2000)),
    );
    let out = d.path().join("nk");
    assert_fails(
        dnalm_q()
            .arg("nextkmer")
            .arg(&g)
            .args(["--ngram-order", "30", "--out-dir"])
            .arg(&out),
        "nextkmer",
        &["--ngram-order", "30 bases", "24"],
    );
    assert_absent(&out);
}

#[test]
fn vocab_txt_that_is_not_a_kmer_vocabulary() {
    let d = tmp();
    let v = write(&d.path().join("vocab.txt"), "hello\nworld\nfoo\n");
    bad_tokenizer(&v, &["vocab.txt"]);
    // Specials present, but tokens of mixed length.
    let mixed = write(
        &d.path().join("mixed.txt"),
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nAAA\nAC\nGGGG\n",
    );
    bad_tokenizer(&mixed, &["mixed.txt"]);
    // A text file not named .txt is not taken for a vocabulary.
    let other = write(
        &d.path().join("vocab.dat"),
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nA\nC\nG\nT\n",
    );
    bad_tokenizer(&other, &["vocab.dat", "not a tokenizer file"]);
}

// ---------------------------------------------------------------- parameters

#[test]
fn kmer_k_out_of_range() {
    let d = tmp();
    for k in ["13", "0"] {
        let o = d.path().join("k.json");
        assert_fails(
            dnalm_q()
                .args(["tokenizer", "train", "--kind", "kmer", "--k", k, "-o"])
                .arg(&o),
            "tokenizer train",
            &[&format!("k = {k}"), "1..=12"],
        );
        assert_absent(&o);
    }
    assert_fails(
        dnalm_q().args(["tfidf", "--k", "0"]).write_stdin("ACGT\n"),
        "tfidf",
        &["got 0"],
    );
    assert_fails(
        dnalm_q()
            .args([
                "tokenizer",
                "train",
                "--kind",
                "varkmer",
                "--min-k",
                "5",
                "--max-k",
                "3",
                "-o",
            ])
            .arg(d.path().join("v.json")),
        "tokenizer train",
        &["5..=3"],
    );
    assert_absent(&d.path().join("v.json"));
}

#[test]
fn more_merges_than_possible() {
    let d = tmp();
    let tiny = write(&d.path().join("tiny.txt"), "ACGTAC\nGGTA\n");
    let o = d.path().join("t.json");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "train", "--merges", "1000"])
            .arg(&tiny)
            .arg("-o")
            .arg(&o),
        "tokenizer train",
        &["only 6 merges are possible", "1000"],
    );
    assert_absent(&o);
    // 100000 is above the supported maximum: the message says so.
    let line = assert_fails(
        dnalm_q()
            .args(["tokenizer", "train", "--merges", "100000"])
            .arg(&tiny)
            .arg("-o")
            .arg(&o),
        "tokenizer train",
        &["100000"],
    );
    assert!(
        line.contains("possible") || line.contains("at most"),
        "{line}"
    );
    assert_absent(&o);
}

#[test]
fn corpus_parameter_errors() {
    let d = tmp();
    let fa = write(&d.path().join("a.fa"), ">a\nACGTACGTACGTACGTACGTACGT\n");
    corpus_fails(&fa, &["--window", "10", "--stride", "0"], &["stride"]);
    corpus_fails(&fa, &["--select-regex", "("], &["regex", "\"(\""]);
    corpus_fails(&fa, &["--window", "10", "--min-len", "0"], &["minimum"]);
    corpus_fails(&fa, &["--window", "100"], &["no window", "100 nt"]);
    for f in ["1.5", "-0.1", "NaN"] {
        let out = d.path().join(format!("split{f}"));
        assert_fails(
            dnalm_q()
                .arg("corpus")
                .arg(&fa)
                .args([
                    "--window",
                    "4",
                    &format!("--test-fraction={f}"),
                    "--out-dir",
                ])
                .arg(&out),
            "corpus",
            &["test fraction"],
        );
        assert_no_files(&out);
    }
    assert_fails(
        dnalm_q()
            .arg("corpus")
            .arg(&fa)
            .args(["--test-fraction", "0.5"]),
        "corpus",
        &["--out-dir"],
    );
}

#[test]
fn corpus_sample_zero_names_the_flag() {
    let d = tmp();
    let fa = write(&d.path().join("a.fa"), ">a\nACGTACGTACGTACGTACGTACGT\n");
    let out = dnalm_q()
        .arg("corpus")
        .arg(&fa)
        .args(["--window", "10", "--sample", "0"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sample"), "{err}");
}

#[test]
fn encode_framing_errors() {
    let d = tmp();
    let tok = train_kmer3(d.path());
    assert_fails(
        dnalm_q()
            .args([
                "tokenizer",
                "encode",
                "--add-special-tokens",
                "--max-len",
                "1",
                "-t",
            ])
            .arg(&tok)
            .write_stdin("ACGTACGT\n"),
        "tokenizer encode",
        &["max length 1"],
    );
}

// ---------------------------------------------------------------- decode

#[test]
fn decode_bad_ids() {
    let d = tmp();
    let tok = train_kmer3(d.path());
    let o = d.path().join("seq.txt");
    let bad = write(&d.path().join("bad.ids"), "5 6\n5 x 7\n");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "decode", "-t"])
            .arg(&tok)
            .arg(&bad)
            .arg("-o")
            .arg(&o),
        "tokenizer decode",
        &["bad.ids:2:", "\"x\"", "not a token id"],
    );
    assert_absent(&o);
    let neg = write(&d.path().join("neg.ids"), "-1\n");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "decode", "-t"])
            .arg(&tok)
            .arg(&neg)
            .arg("-o")
            .arg(&o),
        "tokenizer decode",
        &["neg.ids:1:", "\"-1\""],
    );
    let oov = write(&d.path().join("oov.ids"), "5 6\n\n5 6 9999\n");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "decode", "-t"])
            .arg(&tok)
            .arg(&oov)
            .arg("-o")
            .arg(&o),
        "tokenizer decode",
        &["oov.ids:3", "9999", "69"],
    );
    assert_absent(&o);
    let huge = write(&d.path().join("huge.ids"), "99999999999999999999\n");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "decode", "-t"])
            .arg(&tok)
            .arg(&huge)
            .arg("-o")
            .arg(&o),
        "tokenizer decode",
        &["huge.ids:1:"],
    );
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "decode", "-t"])
            .arg(&tok)
            .write_stdin("\n\n"),
        "tokenizer decode",
        &["<stdin>", "no ids"],
    );
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "decode", "-t"])
            .arg(&tok)
            .arg(d.path().join("nope.ids")),
        "tokenizer decode",
        &["nope.ids"],
    );
}

// ---------------------------------------------------------------- output paths

#[test]
fn output_in_a_missing_directory() {
    let d = tmp();
    let fa = write(&d.path().join("a.fa"), ">a\nACGTACGTAC\n");
    let tok = train_kmer3(d.path());
    let missing = d.path().join("no/such/dir");
    let o = missing.join("out.txt");
    assert_fails(
        dnalm_q().arg("corpus").arg(&fa).arg("-o").arg(&o),
        "corpus",
        &["no/such/dir/out.txt"],
    );
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "encode", "-t"])
            .arg(&tok)
            .arg(&fa)
            .arg("-o")
            .arg(&o),
        "tokenizer encode",
        &["no/such/dir/out.txt"],
    );
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "train", "--kind", "kmer", "--k", "3", "-o"])
            .arg(missing.join("t.json")),
        "tokenizer train",
        &["no/such/dir/t.json"],
    );
    assert!(!d.path().join("no").exists());
}

#[test]
fn output_in_a_missing_directory_message_is_clean() {
    let d = tmp();
    let fa = write(&d.path().join("a.fa"), ">a\nACGTACGTAC\n");
    let o = d.path().join("nodir/out.txt");
    let line = assert_fails(
        dnalm_q().arg("corpus").arg(&fa).arg("-o").arg(&o),
        "corpus",
        &["nodir/out.txt"],
    );
    assert!(!line.contains(".dnalm-tmp-"), "{line}");
    assert!(line.contains("does not exist"), "{line}");
    assert!(!line.contains("invalid parameter"), "{line}");
}

#[test]
fn hybrid_bad_parameters_fail_before_writing_the_report() {
    let d = tmp();
    let corpus = write(&d.path().join("c.txt"), corpus_text(3, 100));
    for bad in [&["--segment-len", "0"][..], &["--k", "13"][..]] {
        let rep = d.path().join("rep");
        let o = d.path().join("h.json");
        assert_fails(
            dnalm_q()
                .args(["tokenizer", "train", "--kind", "hybrid", "--merges", "5"])
                .args(bad)
                .arg(&corpus)
                .arg("-o")
                .arg(&o)
                .arg("--report-dir")
                .arg(&rep),
            "tokenizer train",
            &[],
        );
        assert_absent(&o);
        assert_no_files(&rep);
    }
}

#[test]
fn bad_output_path_leaves_no_report() {
    let d = tmp();
    let corpus = write(&d.path().join("c.txt"), corpus_text(3, 100));
    let rep = d.path().join("rep");
    assert_fails(
        dnalm_q()
            .args(["tokenizer", "train", "--merges", "5"])
            .arg(&corpus)
            .arg("-o")
            .arg(d.path().join("nodir/t.json"))
            .arg("--report-dir")
            .arg(&rep),
        "tokenizer train",
        &["nodir/t.json"],
    );
    assert_no_files(&rep);
}
