//! `dnalm book write` end to end with an untrained tiny book model (built
//! here in-process, no training): the book folder's contract, determinism,
//! and bad input (no A/C/G/T, a dictionary that does not match the model)
//! failing with exit 1 and no partial book.

mod common;

use std::path::{Path, PathBuf};

use common::book::tiny_book_model as model;
use common::*;
use dnalm_book::model::is_dna_word;
use dnalm_book::BookTokenizer;
use dnalm_seq::synth::{demo_genome, DemoGenome};
use dnalm_tasks::book::JointTokenizer;

/// Two records from the demo genome (with its N gaps) and a gap-only one.
fn genome(dir: &Path) -> PathBuf {
    let g = demo_genome(&DemoGenome {
        records: 2,
        record_len: 3_000,
        seed: 11,
    });
    let mut fa = String::new();
    for r in &g {
        fa.push_str(&format!(
            ">{} demo record\n{}\n",
            r.id,
            String::from_utf8_lossy(&r.seq)
        ));
    }
    fa.push_str(">gaps\nNNNNNNNN\n");
    write(&dir.join("genome.fa"), fa)
}

fn book(model: &Path, fa: &Path, out: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut c = dnalm_q();
    c.args(["book", "write", "--model"])
        .arg(model)
        .arg(fa)
        .arg("-o")
        .arg(out)
        .args(["--window", "64", "--stride", "48"])
        .args(extra);
    c
}

#[test]
fn book_write_makes_every_version_with_coordinates_and_repeats_itself() {
    let d = tmp();
    let m = model(d.path());
    let fa = genome(d.path());
    let out = d.path().join("book");
    book(&m, &fa, &out, &[]).assert().success();

    let run: serde_json::Value = serde_json::from_str(&read(&out.join("run.json"))).unwrap();
    let stats = &run["stats"];
    assert_eq!(stats["records"], 3);
    assert_eq!(stats["bases"], 6_008);
    assert!(stats["paragraphs"].as_u64().unwrap() > 5, "{stats}");
    assert!(stats["nt_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(run["params"]["paragraphs"]["window"], 64);

    // Every A/C/G/T base is in exactly one word, and words tile each run.
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("book.json"))).unwrap();
    let (mut covered, mut words) = (0u64, 0u64);
    let mut records = Vec::new();
    for ch in json["chapters"].as_array().unwrap() {
        records.push(ch["record"].as_str().unwrap().to_string());
        let mut last_end = 0;
        for s in ch["sections"].as_array().unwrap() {
            for b in s["blocks"].as_array().unwrap() {
                if let Some(g) = b.get("gap") {
                    assert_eq!(g["start"].as_u64().unwrap(), last_end);
                    last_end = g["end"].as_u64().unwrap();
                    continue;
                }
                for sent in b["sentences"].as_array().unwrap() {
                    for w in sent["words"].as_array().unwrap() {
                        let (a, e) = (w[1].as_u64().unwrap(), w[2].as_u64().unwrap());
                        assert_eq!(a, last_end, "words and gaps tile the record");
                        assert_eq!(w[0].as_str().unwrap().len() as u64, e - a);
                        covered += e - a;
                        last_end = e;
                        words += 1;
                    }
                }
            }
        }
    }
    assert_eq!(words, stats["words"].as_u64().unwrap());
    assert_eq!(covered, stats["acgt_bases"].as_u64().unwrap());
    assert_eq!(covered + stats["gap_bases"].as_u64().unwrap(), 6_008);
    // Each record starts a new chapter, in input order.
    records.dedup();
    assert_eq!(records, ["demo1", "demo2", "gaps"]);

    let md = read(&out.join("book.md"));
    assert!(md.contains("# CHAPTER-1 ") && md.contains("## SECTION-1 "));
    assert!(md.contains("[gap gaps:0-8, 8 N]"));
    assert!(
        !md.contains("demo record"),
        "a FASTA header entered the book"
    );
    let html = read(&out.join("book.html"));
    assert!(!html.contains("http") && !html.contains("src="));
    assert!(!out.join("book.en.md").exists());

    // Same input, same bytes; sampled titles repeat with their seed.
    let again = d.path().join("again");
    book(&m, &fa, &again, &[]).assert().success();
    assert_eq!(read(&out.join("book.md")), read(&again.join("book.md")));
    let s1 = d.path().join("s1");
    let s2 = d.path().join("s2");
    book(&m, &fa, &s1, &["--titles", "sample", "--seed", "5"])
        .assert()
        .success();
    book(&m, &fa, &s2, &["--titles", "sample", "--seed", "5"])
        .assert()
        .success();
    assert_eq!(read(&s1.join("book.json")), read(&s2.join("book.json")));
}

fn dictionary(model: &Path, path: &Path, extra: Option<&str>) -> PathBuf {
    let tok = JointTokenizer::load(&model.join("tokenizer.json")).unwrap();
    let mut tsv = String::from("dna_word\tenglish\n");
    for id in 0..tok.vocab_size() as u32 {
        let t = tok.token(id).unwrap();
        if is_dna_word(t) {
            tsv.push_str(&format!("{t}\tolia{id}\n"));
        }
    }
    if let Some(e) = extra {
        tsv.push_str(e);
    }
    write(path, tsv)
}

#[test]
fn the_english_version_goes_through_the_dictionary() {
    let d = tmp();
    let m = model(d.path());
    let fa = genome(d.path());
    let dict = dictionary(&m, &d.path().join("dict.tsv"), None);
    let out = d.path().join("book");
    book(&m, &fa, &out, &["--dictionary", dict.to_str().unwrap()])
        .assert()
        .success();
    let en = read(&out.join("book.en.md"));
    assert!(en.contains("olia"));
    assert!(
        !en.split_whitespace().any(is_dna_word),
        "a DNA word in the English version"
    );
}

#[test]
fn bad_input_fails_with_exit_1_and_leaves_no_book() {
    let d = tmp();
    let m = model(d.path());
    let out = d.path().join("book");

    let nn = write(&d.path().join("nn.fa"), ">chr1\nNNNNRYNN\n>chr2\nNNNN\n");
    let mut c = book(&m, &nn, &out, &[]);
    assert_fails(&mut c, "book write", &["nn.fa", "no A/C/G/T"]);
    assert_absent(&out);

    let fa = genome(d.path());
    let dict = dictionary(
        &m,
        &d.path().join("dict.tsv"),
        Some("ACGTACGTACGTACGTACGTAC\tnope\n"),
    );
    let mut c = book(&m, &fa, &out, &["--dictionary", dict.to_str().unwrap()]);
    assert_fails(
        &mut c,
        "book write",
        &[
            "dict.tsv",
            "does not match the model",
            "ACGTACGTACGTACGTACGTAC",
        ],
    );
    assert_absent(&out);

    let mut c = book(&d.path().join("nomodel"), &fa, &out, &[]);
    assert_fails(&mut c, "book write", &["nomodel"]);
    assert_absent(&out);

    // A window longer than the model's context (64) is refused up front.
    let mut c = dnalm_q();
    c.args(["book", "write", "--model"])
        .arg(&m)
        .arg(&fa)
        .arg("-o")
        .arg(&out);
    assert_fails(&mut c, "book write", &["longer than the model's context"]);
    assert_absent(&out);
}
