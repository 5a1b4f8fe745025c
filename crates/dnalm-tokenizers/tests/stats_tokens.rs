//! Token statistics: hand-computed figures, parallel counting, real DNA.

use std::io::Read;
use std::path::PathBuf;

use dnalm_tokenizers::stats::{LengthBin, TokenCounter, TokenStats};
use dnalm_tokenizers::{TokError, Vocab};
use rayon::prelude::*;

/// ids 5..=12: A C G T AC ACG GT TTTT.
fn small_vocab() -> Vocab {
    Vocab::with_specials(["A", "C", "G", "T", "AC", "ACG", "GT", "TTTT"]).unwrap()
}

const A: u32 = 5;
const T: u32 = 8;
const AC: u32 = 9;
const ACG: u32 = 10;
const CLS: u32 = 2;
const SEP: u32 = 3;

/// AC x4, ACG x2, A x1, T x1 over two framed sequences of 7 and 9 nt.
fn small_counter() -> TokenCounter {
    let mut c = TokenCounter::new();
    c.add_sequence(&[CLS, AC, AC, ACG, SEP], 7);
    c.add_sequence(&[CLS, AC, ACG, A, T, AC, SEP], 9);
    c
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn hand_computed_measures() {
    let s = TokenStats::compute(&small_vocab(), &small_counter()).unwrap();
    assert_eq!(s.total_tokens, 8);
    assert_eq!(s.special_occurrences, 4);
    assert_eq!(s.sequences, 2);
    assert_eq!(s.total_nucleotides, 16);
    assert_eq!(s.vocab_size, 8);
    assert_eq!(s.used_tokens, 4);
    assert!(close(s.vocab_used_fraction, 0.5));
    // (2 + 3 + 1 + 1) / 4
    assert!(close(s.mean_token_length_used.unwrap(), 1.75));
    // (4*2 + 2*3 + 1 + 1) / 8
    assert!(close(s.mean_token_length_weighted.unwrap(), 2.0));
    assert!(close(s.nucleotides_per_token.unwrap(), 2.0));
    // p = 1/2, 1/4, 1/8, 1/8: H = 1.75 ln 2, over ln 4.
    assert!(close(s.entropy_normalized.unwrap(), 0.875));
    // ascending 0,0,0,0,1,1,2,4: 2*(5+6+14+32)/(8*8) - 9/8
    assert!(close(s.gini.unwrap(), 42.0 / 64.0));
    // 4 / median(4,2,1,1) = 4 / 1.5
    assert!(close(s.max_median_ratio.unwrap(), 4.0 / 1.5));
    assert_eq!(
        s.length_distribution,
        vec![
            LengthBin {
                length: 1,
                vocab_tokens: 4,
                used_tokens: 2,
                occurrences: 2
            },
            LengthBin {
                length: 2,
                vocab_tokens: 2,
                used_tokens: 1,
                occurrences: 4
            },
            LengthBin {
                length: 3,
                vocab_tokens: 1,
                used_tokens: 1,
                occurrences: 2
            },
            LengthBin {
                length: 4,
                vocab_tokens: 1,
                used_tokens: 0,
                occurrences: 0
            },
        ]
    );
    assert_eq!(s.counts_desc(), vec![4, 2, 1, 1]);
    assert_eq!(s.length_occurrences(), vec![(1, 2), (2, 4), (3, 2), (4, 0)]);
}

#[test]
fn frequency_table_ranks_by_count_then_id() {
    let s = TokenStats::compute(&small_vocab(), &small_counter()).unwrap();
    assert_eq!(
        s.frequency_tsv(),
        "rank\ttoken\tid\tlength\tcount\tfrequency\n\
         1\tAC\t9\t2\t4\t0.5\n\
         2\tACG\t10\t3\t2\t0.25\n\
         3\tA\t5\t1\t1\t0.125\n\
         4\tT\t8\t1\t1\t0.125\n\
         5\tC\t6\t1\t0\t0\n\
         6\tG\t7\t1\t0\t0\n\
         7\tGT\t11\t2\t0\t0\n\
         8\tTTTT\t12\t4\t0\t0\n"
    );
}

#[test]
fn summaries_and_json() {
    let s = TokenStats::compute(&small_vocab(), &small_counter()).unwrap();
    let tsv = s.summary_tsv();
    assert!(tsv.starts_with("metric\tvalue\ntotal_tokens\t8\n"));
    assert!(tsv.contains("\nentropy_normalized\t0.875\n"));
    assert!(tsv.contains("\ngini\t0.65625\n"));
    assert_eq!(tsv.lines().count(), 14);
    let md = s.summary_markdown();
    assert!(md.contains("| used_tokens | 4 |"));
    assert!(md.contains("| 3 | 1 | 1 | 2 |"));
    let json: serde_json::Value = serde_json::to_value(&s).unwrap();
    assert_eq!(json["total_tokens"], 8);
    assert_eq!(json["gini"], 0.65625);
    assert_eq!(json["length_distribution"][1]["occurrences"], 4);
    assert!(json.get("frequencies").is_none());
}

#[test]
fn uniform_use_is_balanced_and_empty_use_is_undefined() {
    let vocab = small_vocab();
    let mut c = TokenCounter::new();
    for _ in 0..3 {
        c.add(&(5..=12).collect::<Vec<u32>>());
    }
    let s = TokenStats::compute(&vocab, &c).unwrap();
    assert!(close(s.entropy_normalized.unwrap(), 1.0));
    assert!(close(s.gini.unwrap(), 0.0));
    assert!(close(s.max_median_ratio.unwrap(), 1.0));
    // `add` records no nucleotides, so nt/token is unknown, not 0.
    assert_eq!(s.nucleotides_per_token, None);

    let empty = TokenStats::compute(&vocab, &TokenCounter::new()).unwrap();
    assert_eq!(empty.total_tokens, 0);
    assert_eq!(empty.used_tokens, 0);
    assert_eq!(empty.entropy_normalized, None);
    assert_eq!(empty.gini, None);
    assert_eq!(empty.max_median_ratio, None);
    assert!(empty.summary_tsv().contains("\ngini\tNA\n"));
    assert_eq!(empty.frequency_tsv().lines().count(), 9);

    let mut one = TokenCounter::new();
    one.add(&[AC, AC]);
    let s = TokenStats::compute(&vocab, &one).unwrap();
    assert_eq!(s.entropy_normalized, None);
    // All occurrences on one of 8 tokens: (V - 1) / V.
    assert!(close(s.gini.unwrap(), 7.0 / 8.0));
}

#[test]
fn id_outside_vocabulary_is_an_error() {
    let mut c = TokenCounter::new();
    c.add(&[AC, 13]);
    match TokenStats::compute(&small_vocab(), &c) {
        Err(TokError::UnknownId { id: 13, size: 13 }) => {}
        other => panic!("expected UnknownId, got {other:?}"),
    }
}

fn shared_data(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "skipping: {} not found (shared test data absent)",
            p.display()
        );
        None
    }
}

/// Non-overlapping 3-mer ids (5 + code) of every A/C/G/T run, so the test
/// needs no tokenizer from this crate.
fn codon_ids(run: &[u8]) -> Vec<u32> {
    run.chunks_exact(3)
        .map(|c| {
            5 + c.iter().fold(0u32, |acc, &b| {
                acc * 4 + b"ACGT".iter().position(|&x| x == b).unwrap() as u32
            })
        })
        .collect()
}

#[test]
fn parallel_counts_on_human_chrm_match_sequential() {
    let Some(path) = shared_data("genome/human_chrM_NC_012920.1.fa.gz") else {
        return;
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let seq: Vec<u8> = text
        .lines()
        .filter(|l| !l.starts_with('>'))
        .flat_map(|l| l.trim().bytes())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    assert!(seq.len() > 16_000);
    // 300-nt pieces split at anything but A/C/G/T (chrM holds one N).
    let pieces: Vec<&[u8]> = seq
        .split(|b| !b"ACGT".contains(b))
        .flat_map(|run| run.chunks(300))
        .filter(|p| p.len() >= 3)
        .collect();

    let kmers: Vec<String> = (0..64u32)
        .map(|c| {
            (0..3)
                .rev()
                .map(|i| b"ACGT"[(c >> (2 * i)) as usize & 3] as char)
                .collect()
        })
        .collect();
    let vocab = Vocab::with_specials(kmers).unwrap();

    let mut seq_counter = TokenCounter::with_vocab_len(vocab.len());
    for p in &pieces {
        let ids = codon_ids(p);
        seq_counter.add_sequence(&ids, ids.len() * 3);
    }
    let par_counter = pieces
        .par_iter()
        .fold(TokenCounter::new, |mut c, p| {
            let ids = codon_ids(p);
            c.add_sequence(&ids, ids.len() * 3);
            c
        })
        .reduce(TokenCounter::new, |mut a, b| {
            a.merge(b);
            a
        });
    let a = TokenStats::compute(&vocab, &seq_counter).unwrap();
    let b = TokenStats::compute(&vocab, &par_counter).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.frequency_tsv(), b.frequency_tsv());

    assert_eq!(a.sequences, pieces.len() as u64);
    assert!(close(a.nucleotides_per_token.unwrap(), 3.0));
    assert_eq!(a.vocab_size, 64);
    // Real sequence is far from uniform but uses nearly every codon.
    assert!(a.used_tokens >= 60, "{}", a.used_tokens);
    let h = a.entropy_normalized.unwrap();
    let g = a.gini.unwrap();
    assert!(h > 0.8 && h < 1.0, "entropy {h}");
    assert!(g > 0.1 && g < 0.6, "gini {g}");
    assert!(a.max_median_ratio.unwrap() > 1.5);
    let freq_sum: f64 = a.frequencies.iter().map(|r| r.frequency).sum();
    assert!((freq_sum - 1.0).abs() < 1e-9);
    eprintln!("{}", a.summary_tsv());
}
