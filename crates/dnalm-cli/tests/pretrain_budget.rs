//! `dnalm pretrain --time-budget / --patience`: runs that stop by wall time
//! or by a held-out loss that stopped falling, the run's curve and summary,
//! the long-run warning, and bad budgets. The outcomes asserted here do not
//! depend on how fast the machine is (a budget run is given far more
//! updates than it can do; the patience run has a learning rate too small
//! to move the loss).

mod common;

use std::path::Path;

use common::{assert_absent, assert_fails, dnalm, dnalm_q, run_ok, tmp};

fn setup(dir: &Path) {
    common::word_corpus(dir);
}

const QUICK: &[(&str, &str)] = &[
    ("--batch-size", "4"),
    ("--grad-accum", "1"),
    ("--eval-fraction", "0.1"),
    ("--max-len", "128"),
    ("--lr", "2e-3"),
];

/// `pretrain` of seq.txt into OUT with the quick flags, `extra` added or
/// replacing them.
fn pretrain(dir: &Path, out: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut c = dnalm_q();
    c.current_dir(dir)
        .args(["pretrain", "-t", "k4.json", "seq.txt", "--out-dir", out]);
    for &(k, v) in QUICK {
        if !extra.contains(&k) {
            c.args([k, v]);
        }
    }
    c.args(extra);
    c
}

fn json(path: impl AsRef<Path>) -> serde_json::Value {
    let p = path.as_ref();
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The `max_steps = N` of a run.toml.
fn run_toml_max_steps(run: &Path) -> u64 {
    let text = std::fs::read_to_string(run.join("run.toml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("max_steps = "))
        .expect("max_steps in run.toml")
        .parse()
        .unwrap()
}

fn assert_curve(run: &Path) -> Vec<Vec<String>> {
    let tsv = std::fs::read_to_string(run.join("curve.tsv")).unwrap();
    let rows: Vec<Vec<String>> = tsv
        .lines()
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();
    assert_eq!(
        rows[0],
        ["step", "seconds", "train_loss", "eval_loss"],
        "{tsv}"
    );
    assert!(rows.len() > 2, "{tsv}");
    for r in &rows[1..] {
        assert_eq!(r.len(), 4, "{tsv}");
        assert!(r[0].parse::<u64>().is_ok(), "{tsv}");
    }
    rows
}

#[test]
fn a_budget_stops_the_run_and_the_best_model_is_kept() {
    let t = tmp();
    setup(t.path());
    // Far more updates than 12 s hold: only the budget can stop this run.
    let out = pretrain(
        t.path(),
        "run",
        &["--time-budget", "12s", "--max-steps", "10000000"],
    )
    .args(["--warmup-steps", "2", "--patience", "1000"])
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // An explicit --max-steps the budget cannot hold is worth a warning.
    assert!(err.contains("budget fits ~"), "{err}");
    let run = t.path().join("run");
    let summary = json(run.join("summary.json"));
    assert_eq!(summary["stop_reason"], "budget", "{summary}");
    assert_eq!(summary["time_budget_seconds"], 12.0);
    assert_eq!(run_toml_max_steps(&run), 10_000_000, "not fitted");
    let steps = summary["steps"].as_u64().unwrap();
    assert!(steps >= 1 && summary["evaluations"].as_u64().unwrap() >= 2);
    for f in [
        "model/model.safetensors",
        "model/config.json",
        "best/model.safetensors",
        "loss.svg",
        "metrics.jsonl",
    ] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    // The stopping point is evaluated and checkpointed (resumable).
    let rows = assert_curve(&run);
    let last = rows.last().unwrap();
    assert_eq!(last[0], steps.to_string());
    assert_ne!(last[3], "NA", "the last step was not evaluated");
    assert!(run
        .join(format!("checkpoints/step-{steps:06}/state.json"))
        .is_file());
    // model/ is the best checkpoint, which may be earlier than the last.
    let best = json(run.join("best/state.json"));
    assert_eq!(best["step"], summary["best_step"]);
    assert_eq!(
        std::fs::read(run.join("model/model.safetensors")).unwrap(),
        std::fs::read(run.join("best/model.safetensors")).unwrap()
    );
}

#[test]
fn a_budget_without_max_steps_fits_the_schedule() {
    let t = tmp();
    setup(t.path());
    run_ok(pretrain(t.path(), "run", &["--time-budget", "12s"]).args(["--warmup-steps", "5000"]));
    let run = t.path().join("run");
    let summary = json(run.join("summary.json"));
    let plan = &summary["plan"];
    assert!(plan.is_object(), "no plan: {summary}");
    // The fitted length and intervals are the ones run.toml records.
    let fitted = plan["max_steps"].as_u64().unwrap();
    assert_eq!(summary["max_steps"].as_u64().unwrap(), fitted);
    assert_eq!(run_toml_max_steps(&run), fitted);
    // The warm-up was capped at a tenth of the run; patience defaults to 3.
    assert!(summary["warmup_steps"].as_u64().unwrap() <= fitted / 10);
    assert_eq!(summary["patience"], 3);
    let reason = summary["stop_reason"].as_str().unwrap();
    assert!(
        ["max-steps", "budget", "patience"].contains(&reason),
        "{summary}"
    );
    assert!(run.join("model/model.safetensors").is_file());
    assert_curve(&run);
}

#[test]
fn patience_stops_when_the_held_out_loss_stops_falling() {
    let t = tmp();
    setup(t.path());
    // A learning rate of 1e-9 leaves the held-out loss where it starts:
    // evaluations at 2 (the reference), 4 and 6 (no gain of 0.001), stop.
    run_ok(
        pretrain(t.path(), "run", &["--lr", "1e-9", "--warmup-steps", "0"]).args([
            "--max-steps",
            "40",
            "--eval-every",
            "2",
            "--patience",
            "2",
        ]),
    );
    let run = t.path().join("run");
    let summary = json(run.join("summary.json"));
    assert_eq!(summary["stop_reason"], "patience", "{summary}");
    assert_eq!(summary["steps"], 6, "{summary}");
    assert_eq!(summary["evaluations"], 3, "{summary}");
    assert!(run.join("model/model.safetensors").is_file());
    assert!(run.join("checkpoints/step-000006/state.json").is_file());
}

#[test]
fn a_run_of_many_hours_is_announced() {
    let t = tmp();
    setup(t.path());
    // Ten million updates cannot take less than three hours; stop after
    // the probe's ten.
    let out = pretrain(t.path(), "run", &["--max-steps", "10000000"])
        .args(["--warmup-steps", "2", "--stop-after", "10"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("this run is about")
            && err.contains("s/update")
            && err.contains("give --time-budget or fewer --max-steps"),
        "{err}"
    );
    let summary = json(t.path().join("run/summary.json"));
    assert_eq!(summary["stop_reason"], "stop-after");
}

#[test]
fn bad_budgets_and_patience_are_refused_before_anything_is_written() {
    let t = tmp();
    setup(t.path());
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--time-budget", "0"],
            &["--time-budget 0", "more than zero"],
        ),
        (&["--time-budget", "0s"], &["more than zero"]),
        (&["--time-budget", "30"], &["no unit"]),
        (
            &["--time-budget", "soon"],
            &["\"soon\"", "expected a number"],
        ),
        (&["--time-budget", "30x"], &["unknown unit \"x\""]),
        (&["--time-budget", "5s"], &["too short", "at least 10s"]),
        (&["--patience", "0"], &["--patience 0", "1 or more"]),
    ];
    for (i, (extra, needles)) in cases.iter().enumerate() {
        let out = format!("x{i}");
        assert_fails(
            dnalm()
                .current_dir(t.path())
                .args(["pretrain", "-t", "k4.json", "seq.txt", "--out-dir", &out])
                .args(*extra),
            "pretrain",
            needles,
        );
        assert_absent(&t.path().join(&out));
    }
}
