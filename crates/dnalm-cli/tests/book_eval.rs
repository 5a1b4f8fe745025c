//! `dnalm book dictionary` and `dnalm book eval` end to end with an
//! untrained tiny book model: the files they promise, the same bytes for the
//! same seed, and bad input failing with exit 1 and no partial report.

mod common;

use std::path::{Path, PathBuf};

use common::book::tiny_book_model;
use common::*;
use dnalm_book::model::is_dna_word;
use dnalm_book::{BookTokenizer, Dictionary};
use dnalm_seq::synth::{demo_genome, DemoGenome};
use dnalm_tasks::book::JointTokenizer;

/// One soft-masked demo record (repeats in lower case), as a FASTA.
fn genome(dir: &Path) -> PathBuf {
    let g = demo_genome(&DemoGenome {
        records: 1,
        record_len: 6_000,
        seed: 21,
    });
    let seq = String::from_utf8_lossy(&g[0].seq).into_owned();
    assert!(seq.bytes().any(|b| b.is_ascii_lowercase()));
    write(&dir.join("genome.fa"), format!(">{}\n{seq}\n", g[0].id))
}

fn english(dir: &Path) -> PathBuf {
    let paras: Vec<String> = (0..12)
        .map(|i| {
            format!(
                "the {} house stood by the river. she walked {i} miles.",
                ["old", "new"][i % 2]
            )
        })
        .collect();
    write(&dir.join("english.txt"), paras.join("\n\n"))
}

fn write_book(model: &Path, fa: &Path, out: &Path) {
    dnalm_q()
        .args(["book", "write", "--model"])
        .arg(model)
        .arg(fa)
        .arg("-o")
        .arg(out)
        .args(["--window", "64", "--stride", "48"])
        .assert()
        .success();
}

fn eval(model: &Path, book: &Path, fa: &Path, en: &Path) -> assert_cmd::Command {
    let mut c = dnalm_q();
    c.args(["book", "eval", "--model"])
        .arg(model)
        .arg("--book")
        .arg(book)
        .arg("--english")
        .arg(en)
        .args([
            "--english-all",
            "--permutations",
            "50",
            "--stability-tokens",
            "300",
        ])
        .arg(fa);
    c
}

#[test]
fn dictionary_covers_every_dna_word_and_feeds_the_english_book() {
    let d = tmp();
    let m = tiny_book_model(d.path());
    let out = d.path().join("dict");
    let run = |dir: &Path| {
        dnalm_q()
            .args(["book", "dictionary", "--model"])
            .arg(&m)
            .arg("-o")
            .arg(dir)
            .args(["--top-k", "5", "--seed", "3"])
            .assert()
            .success();
    };
    run(&out);
    for f in [
        "dictionary.json",
        "dictionary.tsv",
        "collapse.tsv",
        "collapse.md",
        "collapse.svg",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let tok = JointTokenizer::load(&m.join("tokenizer.json")).unwrap();
    let dna_words = (0..tok.vocab_size() as u32)
        .filter(|&i| is_dna_word(tok.token(i).unwrap()))
        .count();
    let dict = Dictionary::load(&out.join("dictionary.json"), &tok).unwrap();
    assert_eq!(dict.entries.len(), dna_words);
    assert!(dict.entries.iter().all(|e| e.rank_drawn < 5));
    assert_eq!(
        read(&out.join("dictionary.tsv")).lines().count(),
        dna_words + 1
    );
    assert!(read(&out.join("collapse.md")).contains(&format!("maps {dna_words} DNA words onto")));
    // same seed, same bytes
    let again = d.path().join("dict2");
    run(&again);
    assert_eq!(
        read(&out.join("dictionary.json")),
        read(&again.join("dictionary.json"))
    );

    // `dnalm book write` takes it for the English version
    let fa = genome(d.path());
    let book = d.path().join("book");
    dnalm_q()
        .args(["book", "write", "--model"])
        .arg(&m)
        .arg(&fa)
        .arg("-o")
        .arg(&book)
        .args(["--window", "64", "--stride", "48", "--dictionary"])
        .arg(out.join("dictionary.json"))
        .assert()
        .success();
    let en = read(&book.join("book.en.md"));
    assert!(!en.split_whitespace().any(is_dna_word));
}

#[test]
fn eval_writes_the_report_into_the_book_and_repeats_itself() {
    let d = tmp();
    let m = tiny_book_model(d.path());
    let fa = genome(d.path());
    let en = english(d.path());
    let book = d.path().join("book");
    write_book(&m, &fa, &book);
    eval(&m, &book, &fa, &en).assert().success();
    let dir = book.join("eval");
    for f in [
        "eval.md",
        "eval.json",
        "english_boundaries.tsv",
        "dna_enrichment.tsv",
        "dna_distance.tsv",
        "stability.tsv",
        "english_f1.svg",
        "dna_distance.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let md = read(&dir.join("eval.md"));
    assert!(md.contains("## English held-out text"), "{md}");
    assert!(
        md.contains("## DNA: boundaries near annotation edges"),
        "{md}"
    );
    assert!(
        md.contains("window 64 stride 48"),
        "the book's own rules: {md}"
    );
    let tsv = read(&dir.join("english_boundaries.tsv"));
    assert!(tsv.starts_with("level\tvariant\ttolerance_tokens\tpredicted\ttruth\t"));
    // 12 paragraphs: 11 paragraph breaks, 23 sentence breaks
    assert!(
        tsv.lines()
            .any(|l| l.starts_with("paragraph\trule\t0\t") && l.split('\t').nth(4) == Some("11")),
        "{tsv}"
    );
    assert!(
        tsv.lines()
            .any(|l| l.starts_with("sentence\traw\t0\t") && l.split('\t').nth(4) == Some("23")),
        "{tsv}"
    );
    let dna = read(&dir.join("dna_enrichment.tsv"));
    assert!(
        dna.lines()
            .any(|l| l.starts_with("paragraph\trepeat\t10\t")),
        "{dna}"
    );
    let stab = read(&dir.join("stability.tsv"));
    assert!(
        stab.contains("english paragraph") && stab.contains("dna sentence"),
        "{stab}"
    );

    let first = read(&dir.join("eval.json"));
    eval(&m, &book, &fa, &en).assert().success();
    assert_eq!(read(&dir.join("eval.json")), first);
}

#[test]
fn eval_bad_input_fails_with_exit_1_and_writes_nothing() {
    let d = tmp();
    let m = tiny_book_model(d.path());
    let fa = genome(d.path());
    let en = english(d.path());
    let book = d.path().join("book");
    write_book(&m, &fa, &book);

    // a genome that is not the book's
    let other = write(&d.path().join("other.fa"), ">chrZ\nACGTacgtACGT\n");
    let out = d.path().join("e1");
    let mut c = eval(&m, &book, &other, &en);
    c.arg("-o").arg(&out);
    assert_fails(
        &mut c,
        "book eval",
        &["no record", "is it the FASTA the book was written from"],
    );
    assert_absent(&out);

    // no book.json
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut c = eval(&m, &empty, &fa, &en);
    assert_fails(&mut c, "book eval", &["book.json"]);
    assert_absent(&empty.join("eval"));

    // English that the tokenizer cannot read is named
    let bad = write(&d.path().join("bad.txt"), "");
    let mut c = eval(&m, &book, &fa, &bad);
    c.arg("-o").arg(d.path().join("e2"));
    assert_fails(&mut c, "book eval", &["bad.txt"]);
    assert_absent(&d.path().join("e2"));

    // --english without a model
    let mut c = dnalm_q();
    c.args(["book", "eval", "--english"]).arg(&en);
    assert_fails(&mut c, "book eval", &["--model"]);
}
