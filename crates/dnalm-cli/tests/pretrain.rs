//! End-to-end tests of `dnalm pretrain`, `export-hf` and `inspect` on the
//! real binary, with small seeded data written here.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{dnalm, dnalm_q, tmp, train};

fn setup(dir: &Path) {
    common::word_corpus(dir);
}

const SMALL: &[(&str, &str)] = &[
    ("--max-steps", "8"),
    ("--warmup-steps", "2"),
    ("--batch-size", "4"),
    ("--grad-accum", "2"),
    ("--eval-every", "4"),
    ("--save-every", "2"),
    ("--log-every", "2"),
    ("--eval-fraction", "0.1"),
    ("--max-len", "128"),
];

/// The small run's flags with `extra` added or replacing them.
fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for &(k, v) in SMALL {
        if !extra.contains(&k) {
            out.extend([k, v]);
        }
    }
    out.extend_from_slice(extra);
    out
}

fn pretrain(dir: &Path, out: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    dnalm_q()
        .current_dir(dir)
        .args(["pretrain", "-t", "k4.json", "seq.txt", "--out-dir", out])
        .args(run_args(extra))
        .assert()
}

/// A file's bytes, shown as length and a checksum when an assertion fails.
#[derive(PartialEq, Eq)]
struct Bytes(Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sum = self
            .0
            .iter()
            .fold(0u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        write!(f, "{} bytes, fnv {sum:016x}", self.0.len())
    }
}

fn bytes(p: impl AsRef<Path>) -> Bytes {
    Bytes(std::fs::read(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display())))
}

#[test]
fn pretrain_writes_a_complete_run_and_loss_falls() {
    let t = tmp();
    setup(t.path());
    pretrain(
        t.path(),
        "run",
        &[
            "--lr",
            "2e-3",
            "--max-steps",
            "30",
            "--eval-every",
            "10",
            "--save-every",
            "10",
        ],
    )
    .success();
    let run = t.path().join("run");
    for f in [
        "run.toml",
        "config.json",
        "tokenizer.dnalm.json",
        "metrics.jsonl",
        "loss.svg",
        "model/model.safetensors",
        "model/config.json",
        "best/state.json",
        "checkpoints/step-000030/optimizer.safetensors",
    ] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let evals: Vec<f64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "eval")
        .map(|v| v["eval_loss"].as_f64().unwrap())
        .collect();
    assert_eq!(evals.len(), 3, "{metrics}");
    assert!(
        evals[2] < evals[0] - 0.1,
        "eval loss did not fall: {evals:?}"
    );
    // The masked fraction logged is DNABERT's ~14%, not the paper's 62%.
    let frac: Vec<f64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["effective_mask_fraction"].as_f64())
        .collect();
    let mean = frac.iter().sum::<f64>() / frac.len() as f64;
    assert!((0.08..0.22).contains(&mean), "masked fraction {mean}");
    assert_eq!(
        std::fs::read_dir(run.join("checkpoints")).unwrap().count(),
        3
    );
}

#[test]
fn same_seed_same_bytes_and_resume_after_sigkill_is_bit_exact() {
    let t = tmp();
    setup(t.path());
    pretrain(t.path(), "a", &[]).success();
    pretrain(t.path(), "b", &[]).success();
    let a = t.path().join("a");
    assert_eq!(
        bytes(a.join("model/model.safetensors")),
        bytes(t.path().join("b/model/model.safetensors")),
        "two runs with one seed differ"
    );

    // Start a run, kill it with SIGKILL once its first checkpoint exists,
    // resume, and end with the same bytes as the uninterrupted run.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dnalm"))
        .current_dir(t.path())
        .args([
            "-q",
            "pretrain",
            "-t",
            "k4.json",
            "seq.txt",
            "--out-dir",
            "c",
        ])
        .args(run_args(&[]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = t.path().join("c/checkpoints/step-000002/state.json");
    let start = Instant::now();
    while !first.exists() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(first.exists(), "no checkpoint appeared");
    let c = t.path().join("c");
    let done = c.join("model/model.safetensors").exists();
    pretrain(t.path(), "c", &["--resume"]).success();
    for f in [
        "model/model.safetensors",
        "checkpoints/step-000008/model.safetensors",
        "checkpoints/step-000008/optimizer.safetensors",
    ] {
        assert_eq!(
            bytes(a.join(f)),
            bytes(c.join(f)),
            "{f} differs after resume"
        );
    }
    eprintln!("killed: {status:?}; the run had finished before the kill: {done}");
}

#[test]
fn stop_after_checkpoints_and_resume_refuses_a_changed_config() {
    let t = tmp();
    setup(t.path());
    pretrain(t.path(), "r", &["--stop-after", "3"]).success();
    assert!(t
        .path()
        .join("r/checkpoints/step-000003/model.safetensors")
        .is_file());
    let before = bytes(t.path().join("r/run.toml"));
    pretrain(t.path(), "r", &[])
        .failure()
        .code(1)
        .stderr(predicates::str::contains("already holds checkpoints"));
    pretrain(t.path(), "r", &["--resume", "--lr", "1e-3"])
        .failure()
        .code(1)
        .stderr(predicates::str::contains("run config differs"));
    assert_eq!(
        before,
        bytes(t.path().join("r/run.toml")),
        "run.toml was overwritten"
    );
    pretrain(t.path(), "r", &["--resume"]).success();
    assert!(t.path().join("r/model/model.safetensors").is_file());
}

#[test]
fn export_inspect_and_bad_input() {
    let t = tmp();
    setup(t.path());
    pretrain(t.path(), "run", &["--max-steps", "2", "--eval-every", "2"]).success();
    dnalm_q()
        .current_dir(t.path())
        .args(["export-hf", "run", "--out-dir", "hf", "--sample", "2"])
        .assert()
        .success();
    for f in [
        "config.json",
        "model.safetensors",
        "vocab.txt",
        "dnalm_sample.safetensors",
    ] {
        assert!(t.path().join("hf").join(f).is_file(), "{f} missing");
    }
    let cfg: serde_json::Value =
        serde_json::from_slice(&bytes(t.path().join("hf/config.json")).0).unwrap();
    assert_eq!(cfg["model_type"], "bert");
    assert_eq!(cfg["vocab_size"], 261);
    // inspect reads run folders, model folders and files.
    let out = dnalm()
        .current_dir(t.path())
        .args(["inspect", "run"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        text.contains("checkpoints: 2") && text.contains("parameters:"),
        "{text}"
    );
    let out = dnalm()
        .current_dir(t.path())
        .args(["inspect", "hf/model.safetensors"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("cls.predictions.decoder.weight"), "{text}");
    // The export is a model folder dnalm reads back.
    dnalm_q()
        .current_dir(t.path())
        .args(["export-hf", "hf", "--out-dir", "hf2", "-t", "k4.json"])
        .assert()
        .success();
    assert_eq!(
        bytes(t.path().join("hf/model.safetensors")),
        bytes(t.path().join("hf2/model.safetensors"))
    );

    // Bad input: each a one-line error, exit 1, nothing half-written.
    std::fs::write(
        t.path().join("broken.safetensors"),
        b"\x08\x00\x00\x00\x00\x00\x00\x00{not json",
    )
    .unwrap();
    std::fs::create_dir(t.path().join("bad")).unwrap();
    std::fs::copy(
        t.path().join("hf/config.json"),
        t.path().join("bad/config.json"),
    )
    .unwrap();
    std::fs::copy(
        t.path().join("broken.safetensors"),
        t.path().join("bad/model.safetensors"),
    )
    .unwrap();
    // A config.json with invalid sizes: 128 hidden units over 3 heads.
    std::fs::create_dir(t.path().join("badcfg")).unwrap();
    std::fs::copy(
        t.path().join("hf/model.safetensors"),
        t.path().join("badcfg/model.safetensors"),
    )
    .unwrap();
    let mut c = cfg.clone();
    c["num_attention_heads"] = 3.into();
    std::fs::write(t.path().join("badcfg/config.json"), c.to_string()).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["export-hf", "badcfg", "--out-dir", "x0", "-t", "k4.json"],
            "not divisible",
        ),
        (vec!["inspect", "broken.safetensors"], "broken.safetensors"),
        (
            vec!["export-hf", "bad", "--out-dir", "x1", "-t", "k4.json"],
            "safetensors",
        ),
        (
            vec!["export-hf", "nowhere", "--out-dir", "x2"],
            "no model here",
        ),
        (
            vec![
                "pretrain",
                "-t",
                "k4.json",
                "seq.txt",
                "--out-dir",
                "x3",
                "--preset",
                "huge",
            ],
            "unknown preset",
        ),
        (
            vec![
                "pretrain",
                "-t",
                "k4.json",
                "seq.txt",
                "--out-dir",
                "x4",
                "--warmup-steps",
                "9",
                "--max-steps",
                "2",
            ],
            "warmup_steps",
        ),
        (
            vec![
                "pretrain",
                "-t",
                "k4.json",
                "seq.txt",
                "--out-dir",
                "x5",
                "--max-len",
                "9999",
            ],
            "positions",
        ),
    ];
    for (args, needle) in cases {
        let out = dnalm().current_dir(t.path()).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(!t.path().join("x0/model.safetensors").exists());
    assert!(!t.path().join("x1/model.safetensors").exists());
    // A model whose vocabulary does not match the tokenizer.
    train(t.path(), "k3.json", &["--kind", "kmer", "--k", "3"], None);
    dnalm_q()
        .current_dir(t.path())
        .args(["export-hf", "run", "--out-dir", "x6", "-t", "k3.json"])
        .assert()
        .failure()
        .code(1)
        .stderr(predicates::str::contains("vocabulary"));
}
