//! `-m/--model` is how every command is given the model it reads
//! (docs/cli.md). The older positional spelling of `inspect`, `export-hf`,
//! `promoter predict` and `promoter scan` still works for one release and
//! means the same; neither or both is a usage error (exit 2).

mod common;

use std::path::Path;

use common::*;

/// A tiny `.safetensors` file: two F32 tensors, no metadata.
fn tiny_safetensors(path: &Path) {
    let header = r#"{"a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(std::iter::repeat_n(0u8, 36));
    write(path, bytes);
}

/// Runs `dnalm` in `dir` and returns (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = dnalm_q().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code(),
        stdout_of(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inspect_model_flag_and_old_positional_agree() {
    let d = tmp();
    tiny_safetensors(&d.path().join("w.safetensors"));
    let (code, new, err) = run(d.path(), &["inspect", "-m", "w.safetensors"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(new.contains("2 tensors, 9 values"), "{new}");
    let (code, long, _) = run(d.path(), &["inspect", "--model", "w.safetensors"]);
    assert_eq!(code, Some(0));
    let (code, old, _) = run(d.path(), &["inspect", "w.safetensors"]);
    assert_eq!(code, Some(0));
    assert_eq!(new, long);
    assert_eq!(new, old);
}

#[test]
fn the_old_positional_model_is_read_as_the_model() {
    // No model exists: both spellings must fail on loading that same path,
    // so the positional was taken as the model and the next one as the input.
    let d = tmp();
    write(&d.path().join("seqs.fa"), ">a\nACGT\n");
    for (cmd, new, old) in [
        (
            "promoter predict",
            &["promoter", "predict", "-m", "nowhere", "seqs.fa"][..],
            &["promoter", "predict", "nowhere", "seqs.fa"][..],
        ),
        (
            "promoter scan",
            &[
                "promoter",
                "scan",
                "-m",
                "nowhere",
                "seqs.fa",
                "--out-dir",
                "s",
            ][..],
            &["promoter", "scan", "nowhere", "seqs.fa", "--out-dir", "s"][..],
        ),
        (
            "export-hf",
            &["export-hf", "-m", "nowhere", "--out-dir", "hf"][..],
            &["export-hf", "nowhere", "--out-dir", "hf"][..],
        ),
    ] {
        let a = assert_fails(dnalm_q().current_dir(d.path()).args(new), cmd, &["nowhere"]);
        let b = assert_fails(dnalm_q().current_dir(d.path()).args(old), cmd, &["nowhere"]);
        assert_eq!(a, b, "{cmd}: the two spellings differ");
    }
}

#[test]
fn model_given_neither_or_twice_is_a_usage_error() {
    let d = tmp();
    for args in [
        &["inspect"][..],
        &["inspect", "-m", "a", "b"][..],
        &["export-hf", "--out-dir", "hf"][..],
        &["export-hf", "-m", "a", "b", "--out-dir", "hf"][..],
        &["promoter", "predict", "seqs.fa"][..],
        &["promoter", "predict", "-m", "a", "b", "seqs.fa"][..],
        &["promoter", "predict", "-m", "a"][..],
        &["promoter", "scan", "seqs.fa"][..],
        &["promoter", "scan", "-m", "a", "b", "seqs.fa"][..],
    ] {
        let (code, out, err) = run(d.path(), args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} wrote to stdout");
        assert!(err.contains("Usage:"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if !args.contains(&"-m") {
            assert!(
                err.contains("--model"),
                "{args:?} does not ask for --model: {err}"
            );
        }
    }
}

#[test]
fn help_shows_only_the_model_flag() {
    for args in [
        &["inspect"][..],
        &["export-hf"][..],
        &["promoter", "predict"][..],
        &["promoter", "scan"][..],
    ] {
        let out = dnalm().args(args).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let help = stdout_of(&out);
        assert!(help.contains("-m, --model <"), "{args:?}: {help}");
        assert!(
            !help.contains("MODEL"),
            "{args:?} shows the old positional: {help}"
        );
        assert!(
            help.contains(" -m "),
            "{args:?}: no example with -m: {help}"
        );
    }
}
