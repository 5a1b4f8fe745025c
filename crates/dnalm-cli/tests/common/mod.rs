//! Shared helpers for the `dnalm` end-to-end tests: the binary, seeded
//! fixtures written into temp dirs, and the checks every failure must pass.

#![allow(dead_code)]

pub mod book;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

/// The real binary, with logging left at its default (no inherited `DNALM_LOG`).
pub fn dnalm() -> Command {
    let mut c = Command::cargo_bin("dnalm").expect("the dnalm binary is built");
    c.env_remove("DNALM_LOG");
    c
}

/// The binary with `-q`: only warnings and errors on stderr.
pub fn dnalm_q() -> Command {
    let mut c = dnalm();
    c.arg("-q");
    c
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Seeded xorshift64*, so fixtures are the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn dna(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| b"ACGT"[self.below(4) as usize] as char)
            .collect()
    }
}

/// A few hundred lines of random DNA (20..=80 nt), every third one holding
/// the same 16-nt repeat, one sequence per line.
pub fn corpus_text(seed: u64, lines: usize) -> String {
    let mut rng = Rng::new(seed);
    let repeat = "ACGTTGCAAGGCTTAG";
    let mut out = String::new();
    for i in 0..lines {
        let len = 20 + rng.below(61) as usize;
        let mut s = rng.dna(len);
        if i % 3 == 0 {
            s.insert_str(10, repeat);
        }
        out.push_str(&s);
        out.push('\n');
    }
    out
}

pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(path, contents).expect("write fixture");
    path.to_path_buf()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// Run `cmd`, fail the test with its stderr unless it succeeded.
pub fn run_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

pub fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

/// Runs a command that must fail at run time and checks the contract:
/// exit code 1, exactly one stderr line starting `dnalm <cmd>: error:`,
/// holding every `needle`, and no panic text. Returns that line.
pub fn assert_fails(cmd: &mut Command, name: &str, needles: &[&str]) -> String {
    let out = cmd.output().expect("run dnalm");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1; stderr:\n{stderr}\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "panic in stderr:\n{stderr}");
    assert!(
        !stderr.contains("RUST_BACKTRACE"),
        "panic in stderr:\n{stderr}"
    );
    let stderr_lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        stderr_lines.len(),
        1,
        "expected exactly one stderr line, got:\n{stderr}"
    );
    let line = stderr_lines[0];
    let prefix = format!("dnalm {name}: error: ");
    assert!(
        line.starts_with(&prefix),
        "stderr does not start with {prefix:?}: {line}"
    );
    for n in needles {
        assert!(line.contains(n), "error line lacks {n:?}: {line}");
    }
    line.to_string()
}

/// Asserts that a failed command left nothing behind at `path`.
pub fn assert_absent(path: &Path) {
    assert!(
        !path.exists(),
        "a failing command left {} behind",
        path.display()
    );
}

/// Asserts that `dir` does not exist or holds no file (temp files included).
pub fn assert_no_files(dir: &Path) {
    if !dir.exists() {
        return;
    }
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p);
            }
        }
    }
    assert!(
        found.is_empty(),
        "a failing command left files in {}: {found:?}",
        dir.display()
    );
}

/// A small FASTA in lower and upper case with an N run, and its records as
/// (name, raw sequence) so tests can slice coordinates against it.
/// r1: 25 nt, 7 N, 23 nt (55 nt); r2: 30 nt, no N.
pub fn two_record_fasta() -> (String, Vec<(String, String)>) {
    let mut rng = Rng::new(7);
    let a = rng.dna(25).to_lowercase();
    let b = rng.dna(23);
    let r1 = format!("{}{}NNNNNNN{}", &a[..12], a[12..].to_uppercase(), b);
    let r2 = format!("{}{}", rng.dna(15), rng.dna(15).to_lowercase());
    // Wrap r1 at 20 columns so the record spans several lines.
    let wrapped: Vec<String> = r1
        .as_bytes()
        .chunks(20)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let fasta = format!(">r1 first record\n{}\n>r2\n{}\n", wrapped.join("\n"), r2);
    (fasta, vec![("r1".into(), r1), ("r2".into(), r2)])
}

/// Trains a BPE tokenizer with `merges` merges on a seeded corpus; returns
/// (corpus path, tokenizer path).
pub fn train_bpe(dir: &Path, merges: usize) -> (PathBuf, PathBuf) {
    let corpus = write(&dir.join("corpus.txt"), corpus_text(3, 300));
    let tok = dir.join("bpe.json");
    dnalm_q()
        .args(["tokenizer", "train", "--kind", "bpe", "--merges"])
        .arg(merges.to_string())
        .arg(&corpus)
        .arg("-o")
        .arg(&tok)
        .assert()
        .success();
    (corpus, tok)
}

// Helpers shared by the corpus, tokenizer and other end-to-end tests.

pub fn is_upper_acgt(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b"ACGT".contains(&b))
}

pub fn encode(tok: &Path, input: &Path, extra: &[&str]) -> String {
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

pub fn encode_stdin(tok: &Path, seq: &str, extra: &[&str]) -> String {
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

pub fn decode(tok: &Path, ids: &Path) -> String {
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

pub fn train(dir: &Path, name: &str, args: &[&str], corpus: Option<&Path>) -> std::path::PathBuf {
    let tok = dir.join(name);
    let mut c = dnalm_q();
    c.args(["tokenizer", "train"]).args(args);
    if let Some(c0) = corpus {
        c.arg(c0);
    }
    c.arg("-o").arg(&tok).assert().success().stdout("");
    tok
}

/// A tiny reader for the two fields of a dnalm tokenizer file the tests
/// check, so the tests need no JSON dependency.
pub mod serde_json_like {
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

/// Pre-train a tiny model into `dir/run` for `steps` updates of 4 sequences
/// (evaluated at the last), with tokenizer `tok` on `corpus` (paths relative
/// to `dir`): the model the task tests fine-tune or read.
#[allow(dead_code)]
pub fn pretrain_tiny(dir: &Path, tok: &str, corpus: &str, steps: u32, max_len: u32) {
    let (steps, max_len) = (steps.to_string(), max_len.to_string());
    dnalm_q()
        .current_dir(dir)
        .args([
            "pretrain",
            "-t",
            tok,
            corpus,
            "--out-dir",
            "run",
            "--max-steps",
        ])
        .arg(&steps)
        .args([
            "--warmup-steps",
            "1",
            "--batch-size",
            "4",
            "--grad-accum",
            "1",
        ])
        .args(["--eval-every", &steps, "--max-len", &max_len])
        .assert()
        .success();
}

/// 160 sequences of 128 nt strung from eight 16-nt "words" (so masked
/// tokens can be learned from context) in `seq.txt`, and a 4-mer tokenizer
/// (vocabulary 261, so the tiny model is quick) in `k4.json`.
pub fn word_corpus(dir: &Path) {
    let mut rng = Rng::new(11);
    let words: Vec<String> = (0..8).map(|_| rng.dna(16)).collect();
    let mut text = String::new();
    for _ in 0..160 {
        for _ in 0..8 {
            text.push_str(&words[rng.below(8) as usize]);
        }
        text.push('\n');
    }
    std::fs::write(dir.join("seq.txt"), text).unwrap();
    train(dir, "k4.json", &["--kind", "kmer", "--k", "4"], None);
}
