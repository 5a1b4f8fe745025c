//! Hugging Face format export and import, checked against the `tokenizers`
//! crate as the oracle: what dnalm writes must load there and encode to the
//! same ids, and what `tokenizers` writes must load in dnalm.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use dnalm_tokenizers::hf::{
    bpe_tokenizer_json, parse_tokenizer_json, parse_vocab_txt, vocab_txt, wordlevel_tokenizer_json,
    HfModel,
};
use dnalm_tokenizers::{KmerOrder, KmerTokenizer, Specials, TokError, Tokenizer, Vocab};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
}

/// The decompressed text of a gzip file under the shared data directory, or
/// `None` (with a note on stderr) when it is absent.
fn shared_gz(rel: &str) -> Option<String> {
    let path = data_dir().join(rel);
    if !path.exists() {
        eprintln!("skipping: {} not found", path.display());
        return None;
    }
    let file = std::fs::File::open(&path).unwrap();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    Some(text)
}

fn oracle(json: &serde_json::Value) -> tokenizers::Tokenizer {
    tokenizers::Tokenizer::from_str(&json.to_string()).expect("tokenizers loads the export")
}

fn random_dna(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| b"ACGT"[rng.random_range(0..4)]).collect()
}

/// DNABERT's input format: overlapping k-mers separated by spaces.
fn kmerize(seq: &[u8], k: usize) -> String {
    seq.windows(k)
        .map(|w| std::str::from_utf8(w).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_wordlevel(tok: &KmerTokenizer, hf: &tokenizers::Tokenizer, seq: &[u8]) {
    let ours = tok.encode(seq).unwrap();
    let theirs = hf.encode(kmerize(seq, tok.k()), false).unwrap();
    assert_eq!(theirs.get_ids(), ours.as_slice());
}

#[test]
fn wordlevel_kmer_export_matches_kmer_tokenizer() {
    for (k, order) in [
        (3, KmerOrder::Lexicographic),
        (6, KmerOrder::Dnabert),
        (6, KmerOrder::Lexicographic),
    ] {
        let tok = KmerTokenizer::new(k, order).unwrap();
        let hf = oracle(&wordlevel_tokenizer_json(tok.vocab()));
        assert_eq!(hf.get_vocab_size(true), tok.vocab().len());
        for seed in 0..5 {
            check_wordlevel(&tok, &hf, &random_dna(300, seed));
        }
        // Framing comes from the exported post-processor.
        let framed = hf.encode("AAAAAA"[..k].to_string(), true).unwrap();
        assert_eq!(framed.get_ids(), [2, 5, 3]);
        // A word that is not a k-mer maps to [UNK].
        let unk = hf.encode("NNN", false).unwrap();
        assert_eq!(unk.get_ids(), [1]);
    }
    // Real sequence: the human mitochondrial genome, split at its N.
    let Some(fasta) = shared_gz("genome/human_chrM_NC_012920.1.fa.gz") else {
        return;
    };
    let seq: Vec<u8> = fasta
        .lines()
        .filter(|l| !l.starts_with('>'))
        .flat_map(|l| l.trim().bytes())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    assert!(seq.len() > 16_000);
    let tok = KmerTokenizer::new(3, KmerOrder::Lexicographic).unwrap();
    let hf = oracle(&wordlevel_tokenizer_json(tok.vocab()));
    let runs: Vec<&[u8]> = seq
        .split(|b| !b"ACGT".contains(b))
        .filter(|r| r.len() >= 3)
        .collect();
    assert!(!runs.is_empty());
    for run in runs {
        check_wordlevel(&tok, &hf, run);
    }
}

#[test]
fn dnabert_promcore_rows_agree_with_hf_and_kmer2seq() {
    let Some(text) = shared_gz("promoters/dnabert_promcore_6mer.shared.tsv.gz") else {
        return;
    };
    let tok = KmerTokenizer::new(6, KmerOrder::Dnabert).unwrap();
    let hf = oracle(&wordlevel_tokenizer_json(tok.vocab()));
    let mut rows = 0;
    // The header line has two spaces instead of a tab (upstream quirk).
    for line in text.lines().skip(1) {
        let (kmers, _label) = line.split_once('\t').expect("row has a tab");
        let ids = hf.encode(kmers, false).unwrap().get_ids().to_vec();
        assert_eq!(ids.len(), 65);
        assert!(!ids.contains(&1), "no [UNK] in {kmers}");
        let seq = tok.decode(&ids).unwrap();
        assert_eq!(seq.len(), 70);
        assert_eq!(tok.encode(&seq).unwrap(), ids);
        rows += 1;
    }
    assert_eq!(rows, 5071);
}

/// Rank-ordered BPE, written as plainly as possible: repeatedly merge the
/// lowest-ranked adjacent pair, leftmost first.
fn reference_bpe(vocab: &Vocab, merges: &[(String, String)], text: &str) -> Vec<u32> {
    let mut parts: Vec<String> = text.chars().map(String::from).collect();
    loop {
        let best = (0..parts.len().saturating_sub(1))
            .filter_map(|i| {
                merges
                    .iter()
                    .position(|(a, b)| *a == parts[i] && *b == parts[i + 1])
                    .map(|rank| (rank, i))
            })
            .min();
        let Some((_, i)) = best else { break };
        let right = parts.remove(i + 1);
        parts[i].push_str(&right);
    }
    parts
        .iter()
        .map(|p| vocab.id(p).unwrap_or(vocab.specials().unk))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|&(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn hand_built_bpe_loads_and_encodes_as_expected() {
    let vocab =
        Vocab::with_specials(["A", "C", "G", "T", "AT", "ATG", "CC", "TT", "TTTT", "AA"]).unwrap();
    let merges = pairs(&[
        ("A", "T"),
        ("AT", "G"),
        ("C", "C"),
        ("T", "T"),
        ("TT", "TT"),
        ("A", "A"),
    ]);
    let json = bpe_tokenizer_json(&vocab, &merges);
    let hf = oracle(&json);
    let ids = |s: &str| hf.encode(s, false).unwrap().get_ids().to_vec();
    // A=5 C=6 G=7 T=8 AT=9 ATG=10 CC=11 TT=12 TTTT=13 AA=14, by hand:
    assert_eq!(ids("ATGCCTTTT"), [10, 11, 13]);
    assert_eq!(
        ids("AAA"),
        [14, 5],
        "leftmost of two overlapping pairs wins"
    );
    assert_eq!(ids("TTT"), [12, 8]);
    assert_eq!(ids("CCC"), [11, 6]);
    assert_eq!(ids("ATTG"), [9, 8, 7], "(AT,G) needs AT next to G");
    assert_eq!(ids("GATGN"), [7, 10, 1], "unknown character -> [UNK]");
    assert_eq!(hf.encode("ATG", true).unwrap().get_ids(), [2, 10, 3]);
    let pair = hf.encode(("ATG", "CC"), true).unwrap();
    assert_eq!(pair.get_ids(), [2, 10, 3, 11, 3]);
    assert_eq!(pair.get_type_ids(), [0, 0, 0, 1, 1]);
    assert_eq!(hf.decode(&[2, 10, 11, 13, 3], true).unwrap(), "ATGCCTTTT");
    for seed in 0..20 {
        let seq = String::from_utf8(random_dna(60, seed)).unwrap();
        assert_eq!(ids(&seq), reference_bpe(&vocab, &merges, &seq), "{seq}");
    }

    // Round trip through dnalm's reader, from the compact and the pretty text.
    for text in [
        json.to_string(),
        serde_json::to_string_pretty(&json).unwrap(),
    ] {
        match parse_tokenizer_json(&text, Path::new("tokenizer.json")).unwrap() {
            HfModel::Bpe {
                vocab: v,
                merges: m,
            } => {
                assert_eq!(v.tokens(), vocab.tokens());
                assert_eq!(v.specials(), Specials::DNALM);
                assert_eq!(m, merges);
            }
            other => panic!("expected BPE, got {other:?}"),
        }
    }
    // What `tokenizers` writes back after loading ours reads the same too.
    let rewritten = hf.to_string(false).unwrap();
    let back = parse_tokenizer_json(&rewritten, Path::new("rewritten.json")).unwrap();
    assert_eq!(back.vocab().tokens(), vocab.tokens());
    assert!(matches!(back, HfModel::Bpe { merges: m, .. } if m == merges));
}

#[test]
fn bpe_trained_by_tokenizers_parses() {
    use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
    use tokenizers::{AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper};
    use tokenizers::{PreTokenizerWrapper, TokenizerBuilder};

    let specials: Vec<AddedToken> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|s| AddedToken::from(*s, true))
        .collect();
    let mut trainer = BpeTrainerBuilder::new()
        .show_progress(false)
        .vocab_size(40)
        .min_frequency(0)
        .special_tokens(specials)
        .build();
    let mut hf = TokenizerBuilder::<
        BPE,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    >::new()
    .with_model(BPE::builder().unk_token("[UNK]".into()).build().unwrap())
    .build()
    .unwrap();
    let corpus: Vec<String> = (0..20)
        .map(|s| String::from_utf8(random_dna(200, 100 + s)).unwrap())
        .chain(["ATATATATATGCGCGCTTTTTTTT".to_string()])
        .collect();
    hf.train(&mut trainer, corpus.iter()).unwrap();
    let text = hf.to_string(true).unwrap();

    let model = parse_tokenizer_json(&text, Path::new("trained.json")).unwrap();
    let HfModel::Bpe { vocab, merges } = model else {
        panic!("expected BPE")
    };
    assert_eq!(
        vocab.specials(),
        Specials::DNALM,
        "trainer puts specials first"
    );
    assert_eq!(vocab.len(), hf.get_vocab_size(true));
    assert_eq!(
        merges.len(),
        vocab.len() - 9,
        "every token past specials and bases is a merge"
    );
    // The merges we read, applied in rank order, encode like `tokenizers`.
    for s in &corpus {
        let theirs = hf.encode(s.as_str(), false).unwrap();
        assert_eq!(
            theirs.get_ids(),
            reference_bpe(&vocab, &merges, s).as_slice()
        );
    }
}

#[test]
fn files_tokenizers_writes_that_dnalm_cannot_honour_are_errors() {
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::PreTokenizerWrapper;

    let hf = tokenizers::Tokenizer::new(WordPiece::default());
    let err =
        parse_tokenizer_json(&hf.to_string(false).unwrap(), Path::new("wp.json")).unwrap_err();
    assert!(err.to_string().contains("WordPiece"), "{err}");

    let vocab = Vocab::with_specials(["A", "C", "G", "T", "AC"]).unwrap();
    let mut bpe = oracle(&bpe_tokenizer_json(&vocab, &pairs(&[("A", "C")])));
    bpe.with_pre_tokenizer(Some(PreTokenizerWrapper::ByteLevel(ByteLevel::default())));
    let err =
        parse_tokenizer_json(&bpe.to_string(false).unwrap(), Path::new("bl.json")).unwrap_err();
    assert!(err.to_string().contains("ByteLevel"), "{err}");
}

#[test]
fn corrupt_and_mismatched_files_are_errors_not_panics() {
    let vocab = Vocab::with_specials(["A", "C", "G", "T", "AC", "ACG"]).unwrap();
    let merges = pairs(&[("A", "C"), ("AC", "G")]);
    let text = serde_json::to_string_pretty(&bpe_tokenizer_json(&vocab, &merges)).unwrap();
    let p = Path::new("cut.json");
    // Every truncation of a valid file fails cleanly.
    for cut in (0..text.len()).step_by(7) {
        let err = parse_tokenizer_json(&text[..cut], p).unwrap_err();
        assert!(matches!(err, TokError::File { .. }), "{err}");
    }
    let err = parse_tokenizer_json(&text[..text.len() / 2], p).unwrap_err();
    assert!(
        err.to_string().contains("line") && err.to_string().contains("column"),
        "{err}"
    );

    let json = bpe_tokenizer_json(&vocab, &merges);
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut j = json.clone();
        f(&mut j);
        parse_tokenizer_json(&j.to_string(), p)
            .unwrap_err()
            .to_string()
    };
    // A merge whose result is not in the vocab.
    let msg = edit(&|j| {
        j["model"]["vocab"].as_object_mut().unwrap().remove("ACG");
        j["model"]["vocab"]["GGG"] = 10.into();
    });
    assert!(msg.contains("\"ACG\""), "{msg}");
    // A gap in the ids.
    let msg = edit(&|j| j["model"]["vocab"]["ACG"] = 11.into());
    assert!(msg.contains("without gaps"), "{msg}");
    // An added token that disagrees with the model vocab.
    let msg = edit(&|j| j["added_tokens"][4]["id"] = 5.into());
    assert!(msg.contains("[MASK]"), "{msg}");
    // A special missing everywhere.
    let msg = edit(&|j| {
        j["added_tokens"] = serde_json::json!([]);
        let v = j["model"]["vocab"].as_object_mut().unwrap();
        v.remove("[SEP]");
        v.insert("CC".to_string(), 3.into());
    });
    assert!(msg.contains("[SEP]"), "{msg}");
    // Not the shape of a tokenizer at all.
    let msg = edit(&|j| j["model"] = serde_json::json!("BPE"));
    assert!(msg.contains("model"), "{msg}");

    // vocab.txt: the same checks, with line numbers.
    let vp = Path::new("vocab.txt");
    let err = parse_vocab_txt("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nAAA\nAAA\n", vp).unwrap_err();
    assert!(
        err.to_string().contains("vocab.txt") && err.to_string().contains("line 7"),
        "{err}"
    );
    assert!(parse_vocab_txt("AAA\nCCC\n", vp).is_err());
}

#[test]
fn dnabert_vocab_txt_golden() {
    let tok = KmerTokenizer::new(3, KmerOrder::Dnabert).unwrap();
    let txt = vocab_txt(tok.vocab());
    let first: Vec<&str> = txt.lines().take(13).collect();
    assert_eq!(
        first,
        [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "AAA", "AAT", "AAC", "AAG", "ATA", "ATT",
            "ATC", "ATG"
        ]
    );
    assert_eq!(txt.lines().count(), 69);
    assert!(txt.ends_with("GGC\nGGG\n"));
    // DNABERT's 6-mer vocab.txt: id 5 + base-4 rank in A,T,C,G order.
    let tok6 = KmerTokenizer::new(6, KmerOrder::Dnabert).unwrap();
    let txt6 = vocab_txt(tok6.vocab());
    let lines: Vec<&str> = txt6.lines().collect();
    assert_eq!(lines.len(), 4101);
    assert_eq!(lines[5..9], ["AAAAAA", "AAAAAT", "AAAAAC", "AAAAAG"]);
    assert_eq!(lines[5 + 64], "AATAAA");
    assert_eq!(lines[4100], "GGGGGG");
    let back = parse_vocab_txt(&txt6, Path::new("vocab.txt")).unwrap();
    assert_eq!(back.tokens(), tok6.vocab().tokens());
    assert_eq!(back.specials(), Specials::DNALM);
}
