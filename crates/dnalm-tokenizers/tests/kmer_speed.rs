//! Release-mode throughput of overlapping 6-mer encoding (no timing
//! assertions). Run with
//! `cargo test --release -p dnalm-tokenizers --test kmer_speed -- --ignored --nocapture`.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use dnalm_tokenizers::{KmerOrder, KmerTokenizer, NonOverlappingKmerTokenizer, Tokenizer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The E. coli 536 genome (upper-case, no N) when the shared data is there,
/// otherwise 5 Mb of seeded random bases.
fn genome() -> (String, Vec<u8>) {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/genome/ecoli_536_NC_008253.1.fna.gz"
    ));
    if path.exists() {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let seq = text
            .lines()
            .filter(|l| !l.starts_with('>'))
            .flat_map(|l| l.trim().bytes())
            .collect();
        return ("E. coli 536".to_string(), seq);
    }
    eprintln!("note: {} not found, using random bases", path.display());
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let seq = (0..5_000_000)
        .map(|_| b"ACGT"[rng.random_range(0..4)])
        .collect();
    ("random".to_string(), seq)
}

/// Best of 20 passes over `seq`, encoded whole and in 64 kb windows (the
/// windowed output stays in cache, so it shows compute rather than memory
/// bandwidth).
fn measure(name: &str, tok: &dyn Tokenizer, seq: &[u8]) {
    let mut out = Vec::with_capacity(seq.len());
    for window in [seq.len(), 1 << 16] {
        let mut best = f64::INFINITY;
        let mut n_ids = 0;
        for _ in 0..20 {
            n_ids = 0;
            let t = Instant::now();
            for w in seq.chunks(window).filter(|w| w.len() >= 6) {
                out.clear();
                tok.encode_into(w, &mut out).unwrap();
                n_ids += out.len();
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        eprintln!(
            "{name}, windows of {window}: {} bases -> {n_ids} ids, best of 20: {:.2} ms = {:.2} GB/s",
            seq.len(),
            best * 1e3,
            seq.len() as f64 / best / 1e9
        );
    }
}

#[test]
#[ignore = "throughput measurement; run in release with --ignored --nocapture"]
fn kmer_encode_throughput() {
    let (what, seq) = genome();
    eprintln!("input: {what}");
    let tok = KmerTokenizer::new(6, KmerOrder::Lexicographic).unwrap();
    measure("overlapping 6-mers", &tok, &seq);
    let non = NonOverlappingKmerTokenizer::new(6).unwrap();
    measure("non-overlapping 6-mers", &non, &seq);
}
