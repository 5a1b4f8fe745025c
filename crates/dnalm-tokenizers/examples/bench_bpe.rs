//! In-process timings for `bench/run.sh`: BPE training and encoding, and
//! overlapping 6-mer encoding, on a file of segments (one per line).
//! Reading the file is not timed, as for the Python peers.
//!
//! `cargo run --release -p dnalm-tokenizers --example bench_bpe -- --segments FILE --merges 600 [--repeat R] [--json OUT]`

use std::time::Instant;

use dnalm_tokenizers::{BpeTrainer, KmerOrder, KmerTokenizer, Tokenizer};
use rayon::prelude::*;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_bpe: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut segments_path = None;
    let mut merges = 600usize;
    let mut repeat = 1usize;
    let mut json_out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--segments" => segments_path = Some(val()?),
            "--merges" => merges = val()?.parse()?,
            "--repeat" => repeat = val()?.parse()?,
            "--json" => json_out = Some(val()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let path = segments_path.ok_or("--segments FILE is required")?;
    let text = std::fs::read(&path)?;
    let segments: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let bases: usize = segments.iter().map(|s| s.len()).sum();

    let mut train_s = f64::INFINITY;
    let mut training = None;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let t = BpeTrainer::new(merges)?.train(segments.iter())?;
        train_s = train_s.min(t0.elapsed().as_secs_f64());
        training = Some(t);
    }
    let training = training.expect("at least one run");

    let mut encode_s = f64::INFINITY;
    let mut tokens = 0usize;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let ids = training.model.encode_batch(&segments)?;
        encode_s = encode_s.min(t0.elapsed().as_secs_f64());
        tokens = ids.iter().map(Vec::len).sum();
    }

    // The same encoding by the rank-order reference encoder (the encoder
    // before the backtracking one), for the A/B in the same run.
    let mut encode_rank_s = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let ids = segments
            .par_iter()
            .map(|s| training.model.encode_by_rank(s))
            .collect::<Result<Vec<_>, _>>()?;
        encode_rank_s = encode_rank_s.min(t0.elapsed().as_secs_f64());
        let n: usize = ids.iter().map(Vec::len).sum();
        if n != tokens {
            return Err(
                format!("rank-order encoder gave {n} tokens, fast encoder {tokens}").into(),
            );
        }
    }

    // 6-mers over the whole text as one stream per segment, single thread.
    let kmer = KmerTokenizer::new(6, KmerOrder::Lexicographic)?;
    let mut kmer6_encode_s = f64::INFINITY;
    let mut out = Vec::with_capacity(bases);
    for _ in 0..repeat.max(3) {
        let t0 = Instant::now();
        out.clear();
        for s in &segments {
            kmer.encode_into(s, &mut out)?;
        }
        kmer6_encode_s = kmer6_encode_s.min(t0.elapsed().as_secs_f64());
    }

    // 6-mers on all threads, chunks of segments per task (as `dnalm
    // tokenizer encode` batches its input).
    let mut kmer6_par_s = f64::INFINITY;
    for _ in 0..repeat.max(3) {
        let t0 = Instant::now();
        let n: usize = segments
            .par_chunks(256)
            .map(|chunk| {
                let mut v = Vec::with_capacity(chunk.len() * 305);
                for s in chunk {
                    kmer.encode_into(s, &mut v).expect("A/C/G/T segments");
                }
                v.len()
            })
            .sum();
        assert!(n > 0);
        kmer6_par_s = kmer6_par_s.min(t0.elapsed().as_secs_f64());
    }

    // The same bases as one long run (how a genome is encoded): no
    // per-call overhead.
    let long: Vec<u8> = segments.concat();
    let mut kmer6_long_s = f64::INFINITY;
    for _ in 0..repeat.max(3) {
        let t0 = Instant::now();
        out.clear();
        kmer.encode_into(&long, &mut out)?;
        kmer6_long_s = kmer6_long_s.min(t0.elapsed().as_secs_f64());
    }

    let json = format!(
        concat!(
            "{{\"train_s\":{:.6},\"encode_s\":{:.6},\"tokens\":{},\"vocab\":{},\"merges\":{},",
            "\"segments\":{},\"bases\":{},\"kmer6_encode_s\":{:.6},\"kmer6_bytes\":{},",
            "\"kmer6_long_s\":{:.6},\"kmer6_par_s\":{:.6},\"threads\":{},",
            "\"encode_rank_s\":{:.6},\"fast_encoder\":{}}}"
        ),
        train_s,
        encode_s,
        tokens,
        training.model.vocab().len(),
        training.merges.len(),
        segments.len(),
        bases,
        kmer6_encode_s,
        bases,
        kmer6_long_s,
        kmer6_par_s,
        rayon::current_num_threads(),
        encode_rank_s,
        training.model.has_fast_encoder()
    );
    println!("{json}");
    if let Some(p) = json_out {
        std::fs::write(p, format!("{json}\n"))?;
    }
    Ok(())
}
