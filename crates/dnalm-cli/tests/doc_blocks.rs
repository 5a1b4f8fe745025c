//! The documentation's runnable examples: every block fenced as
//! ```` ```sh runnable ```` in README.md and docs/guide.md runs with
//! `bash -euo pipefail` in a temp dir of its own, with this build's `dnalm`
//! first on PATH. A block makes its own input (a small demonstration genome
//! from `dnalm quickstart`), so it runs for a reader exactly as it runs here.
//! Plain ```` ```sh ```` blocks are examples on files the reader brings and
//! are not run.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The opening fence of a block this test runs.
const RUNNABLE: &str = "```sh runnable";

/// The line each runnable block starts on (1-based, its first script line)
/// and its script.
fn runnable_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match open.as_mut() {
            None if line.trim_end() == RUNNABLE => open = Some((i + 2, String::new())),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(open.take()),
            Some((_, script)) => {
                script.push_str(line);
                script.push('\n');
            }
        }
    }
    assert!(open.is_none(), "a runnable block is never closed");
    blocks
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// PATH with the directory of the `dnalm` this test was built with first.
fn path_with_dnalm() -> OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_dnalm"));
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(bin.parent().expect("binary dir").to_path_buf())
        .chain(std::env::split_paths(&inherited));
    std::env::join_paths(dirs).expect("PATH")
}

fn run_blocks(doc: &str) {
    let file = repo_root().join(doc);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let blocks = runnable_blocks(&text);
    assert!(!blocks.is_empty(), "{doc} has no {RUNNABLE} block");
    let path = path_with_dnalm();
    for (line, script) in blocks {
        let t = common::tmp();
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(t.path())
            .env("PATH", &path)
            .env_remove("DNALM_LOG")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{doc}:{line}: the block failed ({}):\n{script}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn readme_blocks_run() {
    run_blocks("README.md");
}

#[test]
fn guide_blocks_run() {
    run_blocks("docs/guide.md");
}

#[test]
fn only_runnable_blocks_are_taken() {
    let doc = "# t\n\n```sh\nnot run\n```\n\n```sh runnable\necho a\necho b\n```\n\
               text\n```sh runnable\necho c\n```\n";
    assert_eq!(
        runnable_blocks(doc),
        [
            (8, "echo a\necho b\n".to_string()),
            (13, "echo c\n".to_string())
        ]
    );
}
