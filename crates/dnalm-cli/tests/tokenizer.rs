//! End-to-end tests of `dnalm tokenizer train|encode|decode|stats|export`
//! on tiny generated fixtures, checked on content.

mod common;

use std::path::Path;

use common::*;

// ---------------------------------------------------------------- tokenizer

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
