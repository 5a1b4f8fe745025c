//! End-to-end tests of `dnalm book train` on the real binary: a tiny book
//! model from a small demo genome and a generated English text, the folder
//! it writes loading through `BookModel::open`, and the bad-input contract.

mod common;

use std::path::Path;

use common::{assert_fails, assert_no_files, dnalm, dnalm_q, tmp};

fn demo_genome(dir: &Path) -> std::path::PathBuf {
    let g = dnalm_seq::synth::demo_genome(&dnalm_seq::synth::DemoGenome {
        records: 2,
        record_len: 20_000,
        seed: 3,
    });
    let p = dir.join("genome.fa");
    std::fs::write(&p, dnalm_seq::synth::to_fasta(&g, 60)).unwrap();
    p
}

fn english(dir: &Path) -> std::path::PathBuf {
    let names = ["Emma", "Anne", "Elinor", "Fanny"];
    let places = ["the house", "the garden", "the village", "the river"];
    let text: String = (0..120)
        .map(|i| {
            format!(
                "{} walked to {} that morning. It was the same walk as before, and yet a different day.\nShe thought of it {} times.\n\n",
                names[i % 4],
                places[(i / 4) % 4],
                i % 7 + 1
            )
        })
        .collect();
    let p = dir.join("english.txt");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_tiny_book_model_trains_and_loads() {
    let d = tmp();
    let fa = demo_genome(d.path());
    let en = english(d.path());
    let out = d.path().join("model");
    let run = dnalm()
        .args(["-j", "2", "book", "train", "--english"])
        .arg(&en)
        .arg(&fa)
        .arg("-o")
        .arg(&out)
        .args([
            "--vocab-size",
            "400",
            "--steps",
            "4",
            "--pend-steps",
            "2",
            "--transfer-steps",
            "2",
            "--batch-size",
            "4",
            "--context",
            "64",
            "--eval-windows",
            "4",
            "--test-pairs",
            "8",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.starts_with("| metric | value |"), "{stdout}");
    assert!(
        stdout.contains("| transfer_dna_pairs_accuracy | "),
        "{stdout}"
    );
    assert!(stderr.contains("pretrain 4/4: loss"), "{stderr}");
    for f in [
        "tokenizer.json",
        "book_model.json",
        "base/model.safetensors",
        "pend/config.json",
        "transfer/model.safetensors",
        "losses.tsv",
        "loss.svg",
        "train_report.tsv",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let m = dnalm_tasks::book::BookModel::open(&out, &device).unwrap();
    use dnalm_book::{BookLm, BookTokenizer};
    assert_eq!(m.tokenizer.vocab_size(), m.meta.vocab_size);
    let toks = m.tokenizer.encode_dna(b"ACGTACGTTTGACCA").unwrap();
    let ids: Vec<u32> = toks.iter().map(|t| t.id).collect();
    let p = m
        .pend
        .next_token_probs(&[&ids], &[m.meta.p_end_id])
        .unwrap();
    assert_eq!(p[0].len(), ids.len());
    assert!(m.open_transfer(&device).unwrap().is_some());
    let tsv = std::fs::read_to_string(out.join("losses.tsv")).unwrap();
    assert_eq!(tsv.lines().count(), 1 + 4 + 2 + 2);
}

#[test]
fn bad_inputs_fail_cleanly() {
    let d = tmp();
    let fa = demo_genome(d.path());
    let en = english(d.path());
    let out = d.path().join("out");
    let empty = d.path().join("empty.txt");
    std::fs::write(&empty, "\n\n  \n").unwrap();
    assert_fails(
        dnalm_q()
            .args(["book", "train", "--english"])
            .arg(&empty)
            .arg(&fa)
            .arg("-o")
            .arg(&out),
        "book train",
        &["empty.txt", "empty corpus"],
    );
    let nfa = d.path().join("n.fa");
    std::fs::write(&nfa, ">chrN\nNNNNNNNNNNNNNNNNNNNN\n").unwrap();
    assert_fails(
        dnalm_q()
            .args(["book", "train", "--steps", "2", "--english"])
            .arg(&en)
            .arg(&nfa)
            .arg("-o")
            .arg(&out),
        "book train",
        &["n.fa", "no A/C/G/T"],
    );
    let bin = d.path().join("bin.txt");
    std::fs::write(&bin, b"hello\n\0\x01\x02").unwrap();
    assert_fails(
        dnalm_q()
            .args(["book", "train", "--english"])
            .arg(&bin)
            .arg(&fa)
            .arg("-o")
            .arg(&out),
        "book train",
        &["bin.txt", "line 2", "binary"],
    );
    assert_fails(
        dnalm_q()
            .env("DNALM_CACHE", d.path().join("no-cache"))
            .args(["book", "train", "--english", "austen"])
            .arg(&fa)
            .arg("-o")
            .arg(&out),
        "book train",
        &["scripts/fetch-english.sh"],
    );
    assert_no_files(&out);
    let help = dnalm().args(["book", "train", "--help"]).output().unwrap();
    let h = String::from_utf8_lossy(&help.stdout);
    assert!(h.contains("Examples:") && h.contains("--pend-steps"), "{h}");
}
