//! tf-idf of k-mers: a corpus worked by hand, parity with an independent
//! naive implementation (and so with scikit-learn's default TfidfVectorizer),
//! real promoters, and bad input.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use dnalm_tokenizers::tfidf::{TfIdfBuilder, TfIdfReport};
use dnalm_tokenizers::TokError;
use rand::{Rng, SeedableRng};

type Doc = Vec<Vec<u8>>;

fn tfidf(k: usize, docs: &[Doc], top: usize) -> dnalm_tokenizers::Result<TfIdfReport> {
    let mut b = TfIdfBuilder::new(k)?;
    for d in docs {
        let runs: Vec<&[u8]> = d.iter().map(Vec::as_slice).collect();
        b.count_df(&runs)?;
    }
    let mut s = b.finish_df()?;
    // Pass 2 in another order than pass 1, as the API allows.
    for d in docs.iter().rev() {
        let runs: Vec<&[u8]> = d.iter().map(Vec::as_slice).collect();
        s.score(&runs)?;
    }
    s.finish(top)
}

fn doc(runs: &[&str]) -> Doc {
    runs.iter().map(|r| r.as_bytes().to_vec()).collect()
}

#[test]
fn hand_computed_corpus() {
    // k = 2. d1: AA AC. d2: AA AA (the run "C" is too short; no k-mer spans
    // the runs). d3: CA AC.  n = 3; df(AA) = 2, df(AC) = 2, df(CA) = 1.
    let docs = [doc(&["AAC"]), doc(&["AAA", "C"]), doc(&["CAC"])];
    let r = tfidf(2, &docs, 10).unwrap();
    let a = (4.0f64 / 3.0).ln() + 1.0; // idf(AA) = idf(AC)
    let b = (4.0f64 / 2.0).ln() + 1.0; // idf(CA)
                                       // d1: (a/2, a/2) normalises to (1/√2, 1/√2); d2: AA alone -> 1;
                                       // d3: (b/2 for CA, a/2 for AC) normalises to (b, a) / √(a² + b²).
    let norm3 = (a * a + b * b).sqrt();
    let expected = [
        ("AA", 2, a, 1.0 / 2f64.sqrt() + 1.0),
        ("AC", 2, a, 1.0 / 2f64.sqrt() + a / norm3),
        ("CA", 1, b, b / norm3),
    ];
    assert_eq!(r.k, 2);
    assert_eq!(r.documents, 3);
    assert_eq!(r.distinct_kmers, 3);
    assert_eq!(r.top.len(), 3);
    for (got, (kmer, df, idf, sum)) in r.top.iter().zip(expected) {
        assert_eq!(got.kmer, kmer);
        assert_eq!(got.df, df);
        assert!((got.idf - idf).abs() < 1e-12, "{kmer} idf");
        assert!((got.sum_tfidf - sum).abs() < 1e-12, "{kmer} sum");
        assert!((got.mean_tfidf - sum / 3.0).abs() < 1e-12, "{kmer} mean");
    }

    let tsv = r.to_tsv();
    let mut lines = tsv.lines();
    assert_eq!(
        lines.next(),
        Some("rank\tkmer\tdf\tidf\tsum_tfidf\tmean_tfidf")
    );
    let first: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(&first[..3], ["1", "AA", "2"]);
    assert!((first[4].parse::<f64>().unwrap() - expected[0].3).abs() < 1e-12);
    assert_eq!(tsv.lines().count(), 4);

    let top1 = tfidf(2, &docs, 1).unwrap();
    assert_eq!(top1.top.len(), 1);
    assert_eq!(top1.distinct_kmers, 3);
}

#[test]
fn ties_rank_by_kmer_and_empty_documents_count() {
    // Both documents give A and C the weight 1/√2: equal sums, A first.
    // The third document has no 1-mer at all but still counts in n.
    let docs = [doc(&["CA"]), doc(&["AC"]), doc(&[])];
    let r = tfidf(1, &docs, 10).unwrap();
    let kmers: Vec<&str> = r.top.iter().map(|s| s.kmer.as_str()).collect();
    assert_eq!(kmers, ["A", "C"]);
    assert_eq!(r.documents, 3);
    assert!((r.top[0].idf - ((4.0f64 / 3.0).ln() + 1.0)).abs() < 1e-12);
    assert!((r.top[0].sum_tfidf - 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(r.top[0].sum_tfidf, r.top[1].sum_tfidf);
}

/// The formula written out directly on k-mer strings, with its tf division,
/// plus scikit-learn's form (raw counts x idf, L2 normalised). Returns
/// k-mer -> (df, idf, sum of normalised weights), checking that both forms
/// give the same vectors.
fn naive(k: usize, docs: &[Doc]) -> BTreeMap<String, (u64, f64, f64)> {
    let n = docs.len() as f64;
    let counts: Vec<BTreeMap<String, u64>> = docs
        .iter()
        .map(|d| {
            let mut m = BTreeMap::new();
            for run in d {
                for w in run.windows(k) {
                    *m.entry(String::from_utf8(w.to_vec()).unwrap()).or_insert(0) += 1;
                }
            }
            m
        })
        .collect();
    let mut df: BTreeMap<String, u64> = BTreeMap::new();
    for m in &counts {
        for t in m.keys() {
            *df.entry(t.clone()).or_insert(0) += 1;
        }
    }
    let idf = |t: &str| ((1.0 + n) / (1.0 + df[t] as f64)).ln() + 1.0;
    let mut out: BTreeMap<String, (u64, f64, f64)> = df
        .iter()
        .map(|(t, &d)| (t.clone(), (d, idf(t), 0.0)))
        .collect();
    for m in &counts {
        let total: u64 = m.values().sum();
        let tf: Vec<(&String, f64)> = m
            .iter()
            .map(|(t, &f)| (t, f as f64 / total as f64 * idf(t)))
            .collect();
        let norm = tf.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        let raw: Vec<f64> = m.iter().map(|(t, &f)| f as f64 * idf(t)).collect();
        let raw_norm = raw.iter().map(|w| w * w).sum::<f64>().sqrt();
        for ((t, w), r) in tf.iter().zip(&raw) {
            let (a, b) = (w / norm, r / raw_norm);
            assert!((a - b).abs() < 1e-12, "tf and raw-count forms differ");
            out.get_mut(*t).unwrap().2 += a;
        }
    }
    out
}

fn assert_matches_naive(k: usize, docs: &[Doc]) {
    let r = tfidf(k, docs, usize::MAX).unwrap();
    let want = naive(k, docs);
    assert_eq!(r.distinct_kmers, want.len(), "k={k}");
    assert_eq!(r.top.len(), want.len(), "k={k}");
    for s in &r.top {
        let (df, idf, sum) = want[&s.kmer];
        assert_eq!(s.df, df, "k={k} {}", s.kmer);
        assert!((s.idf - idf).abs() < 1e-12, "k={k} {} idf", s.kmer);
        assert!(
            (s.sum_tfidf - sum).abs() < 1e-12,
            "k={k} {}: {} vs {sum}",
            s.kmer,
            s.sum_tfidf
        );
        assert!((s.mean_tfidf - sum / docs.len() as f64).abs() < 1e-12);
    }
    for w in r.top.windows(2) {
        assert!(
            w[0].sum_tfidf > w[1].sum_tfidf
                || (w[0].sum_tfidf == w[1].sum_tfidf && w[0].kmer < w[1].kmer),
            "k={k}: {} before {}",
            w[0].kmer,
            w[1].kmer
        );
    }
}

#[test]
fn matches_naive_implementation_for_every_k() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20240611);
    // A skewed base composition so that df varies across k-mers.
    let bases = b"AAAACCGTTT";
    let docs: Vec<Doc> = (0..60)
        .map(|_| {
            (0..rng.random_range(0..4))
                .map(|_| {
                    let len = rng.random_range(0..150);
                    (0..len)
                        .map(|_| bases[rng.random_range(0..bases.len())])
                        .collect()
                })
                .collect()
        })
        .collect();
    for k in 1..=12 {
        assert_matches_naive(k, &docs);
    }
}

#[test]
fn real_tata_promoters_match_naive() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/promoters/deepromoter_hs_TATA_pos300.shared.txt.gz");
    if !path.exists() {
        eprintln!(
            "skipping: {} not found (shared test data absent)",
            path.display()
        );
        return;
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    // One document per promoter, split into runs at anything but A/C/G/T.
    let docs: Vec<Doc> = text
        .lines()
        .take(600)
        .map(|l| {
            l.trim()
                .as_bytes()
                .split(|b| !b"ACGT".contains(b))
                .filter(|r| !r.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        })
        .collect();
    assert_eq!(docs.len(), 600);
    for k in [4, 6, 11] {
        assert_matches_naive(k, &docs);
    }
    let r = tfidf(6, &docs, 10).unwrap();
    eprintln!("{}", r.to_tsv());
}

#[test]
fn bad_input_is_an_error() {
    for k in [0, 13] {
        assert!(matches!(TfIdfBuilder::new(k), Err(TokError::Param(_))));
    }
    assert!(matches!(
        TfIdfBuilder::new(3).unwrap().finish_df(),
        Err(TokError::Param(_))
    ));

    let mut b = TfIdfBuilder::new(2).unwrap();
    assert!(matches!(
        b.count_df(&[b"ACGT", b"ACNT"]),
        Err(TokError::InvalidBase { byte: b'N', pos: 2 })
    ));
    assert!(b.count_df(&[b"acgt"]).is_err());
    // The rejected documents were not counted.
    assert_eq!(b.documents(), 0);
    b.count_df(&[b"ACGT"]).unwrap();
    b.count_df(&[b"AAAA"]).unwrap();
    let mut s = b.finish_df().unwrap();
    assert!(s.idf(b"AC").is_some());
    assert!(s.idf(b"TT").is_none());

    // A k-mer pass 1 never saw: a different corpus.
    assert!(matches!(s.score(&[b"TTT"]), Err(TokError::Param(_))));
    s.score(&[b"ACGT"]).unwrap();
    // Too few documents in pass 2.
    assert!(matches!(s.finish(5), Err(TokError::Param(_))));

    // Same number of documents, same k-mers, different document frequencies.
    let mut b = TfIdfBuilder::new(1).unwrap();
    b.count_df(&[b"AC"]).unwrap();
    b.count_df(&[b"A"]).unwrap();
    let mut s = b.finish_df().unwrap();
    s.score(&[b"AC"]).unwrap();
    s.score(&[b"C"]).unwrap();
    assert!(matches!(s.finish(5), Err(TokError::Param(_))));
}
