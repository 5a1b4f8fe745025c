//! Can the base-level causal LM beat the n-gram at next-k-mer prediction?
//!
//! Reads the human chr2 window and E. coli 536 from /work/shared/data/genome
//! (never copied into the repo), cuts A/C/G/T runs at 100 kb block
//! boundaries, assigns blocks with the position split (10% test, seed 42),
//! holds out every 25th training block (first 24 kb) for early stopping,
//! trains [`dnalm_tasks::base_lm::train_base_lm`] on the rest of the
//! training side, then scores ~5,000 test windows of 50 + 5 bases exactly
//! ([`dnalm_tasks::base_lm::score_continuations`], k = 5, marginalised for
//! k = 3, 4) and prints top-1 / top-5 accuracy and bits per base of the
//! label, beside the 16-gram baseline on the same windows.
//!
//! ```text
//! cargo run --release -p dnalm-tasks --example base_lm_probe -- \
//!     --layers 4 --hidden 128 --heads 4 --lr 2e-3 --minutes 20
//! ```
//! Options: --layers --hidden --heads --context --lr --warmup --batch
//! --minutes --max-steps --eval-every --patience --seed --windows
//! --data-dir --no-ngram.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dnalm_seq::{FastxReader, Part, SplitMode, Splitter};
use dnalm_tasks::base_lm::{score_continuations, train_base_lm, BaseLmConfig};
use dnalm_tasks::ngram::{kmer_code, NgramModel};
use rand::{Rng, SeedableRng};

const FILES: [(&str, &str); 2] = [
    ("human", "hg38_chr2_1-2333275.fa.gz"),
    ("ecoli", "ecoli_536_NC_008253.1.fna.gz"),
];
const BLOCK: u64 = 100_000;
const INPUT: usize = 50;
const KMAX: usize = 5;

struct Segment {
    source: usize,
    part: Part,
    seq: Vec<u8>,
    /// Its 100 kb block of record `record` (records numbered across files).
    block: u64,
    record: usize,
}

struct Args {
    cfg: BaseLmConfig,
    minutes: f64,
    max_steps: Option<u64>,
    windows: usize,
    data_dir: PathBuf,
    ngram: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        cfg: BaseLmConfig::default(),
        minutes: 20.0,
        max_steps: None,
        windows: 5000,
        data_dir: PathBuf::from("/work/shared/data/genome"),
        ngram: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-ngram" {
            a.ngram = false;
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {v}: {e}");
        let c = &mut a.cfg;
        match flag.as_str() {
            "--layers" => c.layers = v.parse().map_err(|e| bad(&e))?,
            "--hidden" => c.hidden = v.parse().map_err(|e| bad(&e))?,
            "--heads" => c.heads = v.parse().map_err(|e| bad(&e))?,
            "--context" => c.context = v.parse().map_err(|e| bad(&e))?,
            "--lr" => c.lr = v.parse().map_err(|e| bad(&e))?,
            "--warmup" => c.warmup = v.parse().map_err(|e| bad(&e))?,
            "--batch" => c.batch_size = v.parse().map_err(|e| bad(&e))?,
            "--eval-every" => c.eval_every = v.parse().map_err(|e| bad(&e))?,
            "--patience" => c.patience = v.parse().map_err(|e| bad(&e))?,
            "--seed" => c.seed = v.parse().map_err(|e| bad(&e))?,
            "--minutes" => a.minutes = v.parse().map_err(|e| bad(&e))?,
            "--max-steps" => a.max_steps = Some(v.parse().map_err(|e| bad(&e))?),
            "--windows" => a.windows = v.parse().map_err(|e| bad(&e))?,
            "--data-dir" => a.data_dir = PathBuf::from(v),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

/// A/C/G/T runs of every record, cut at block boundaries, with their part.
fn read_segments(dir: &Path, splitter: &Splitter) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut record = 0usize;
    for (source, (_, name)) in FILES.iter().enumerate() {
        let path = dir.join(name);
        let reader = FastxReader::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for rec in reader {
            let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
            let s = &rec.seq;
            let mut i = 0;
            while i < s.len() {
                if !b"ACGT".contains(&s[i]) {
                    i += 1;
                    continue;
                }
                let run_end = i + s[i..]
                    .iter()
                    .position(|b| !b"ACGT".contains(b))
                    .unwrap_or(s.len() - i);
                while i < run_end {
                    let block = i as u64 / BLOCK;
                    let end = run_end.min(((block + 1) * BLOCK) as usize);
                    out.push(Segment {
                        source,
                        part: splitter.assign(record, i as u64, end as u64),
                        seq: s[i..end].to_vec(),
                        block,
                        record,
                    });
                    i = end;
                }
            }
            record += 1;
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Score {
    n: usize,
    top1: usize,
    top5: usize,
    bits: f64,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("base_lm_probe: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    for (_, name) in FILES {
        let p = args.data_dir.join(name);
        if !p.exists() {
            return Err(format!(
                "{} is absent: this probe needs the genome files of /work/shared/data/genome \
                 (or --data-dir DIR holding {} and {})",
                p.display(),
                FILES[0].1,
                FILES[1].1
            ));
        }
    }
    let splitter = Splitter::new(SplitMode::Position { block_len: BLOCK }, 0.1, 42)
        .map_err(|e| e.to_string())?;
    let segments = read_segments(&args.data_dir, &splitter)?;
    // Every 25th training block (in file order) is validation; its first
    // 24 kb are evaluated.
    let mut train_blocks: Vec<(usize, u64)> = segments
        .iter()
        .filter(|s| s.part == Part::Train)
        .map(|s| (s.record, s.block))
        .collect();
    train_blocks.dedup();
    let valid_blocks: Vec<(usize, u64)> =
        train_blocks.iter().copied().skip(12).step_by(25).collect();
    let (mut train, mut valid, mut valid_len) = (Vec::new(), Vec::new(), 0usize);
    for s in segments.iter().filter(|s| s.part == Part::Train) {
        if valid_blocks.contains(&(s.record, s.block)) {
            let room = (24_000 * valid_blocks.len()).saturating_sub(valid_len);
            let take = s.seq.len().min(room).min(24_000);
            if take >= 2 {
                valid.push(s.seq[..take].to_vec());
                valid_len += take;
            }
        } else {
            train.push(s.seq.clone());
        }
    }
    let test: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.part == Part::Test && s.seq.len() >= INPUT + KMAX)
        .collect();
    let bases = |v: &[Vec<u8>]| v.iter().map(|s| s.len()).sum::<usize>();
    eprintln!(
        "train {} bases in {} segments; validation {} bases from blocks {:?}; test {} bases",
        bases(&train),
        train.len(),
        valid_len,
        valid_blocks,
        test.iter().map(|s| s.seq.len()).sum::<usize>()
    );

    // Test windows: uniform over every start that fits, seeded.
    let total: u64 = test
        .iter()
        .map(|s| (s.seq.len() - INPUT - KMAX + 1) as u64)
        .sum();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let mut picks: Vec<u64> = (0..args.windows)
        .map(|_| rng.random_range(0..total))
        .collect();
    picks.sort_unstable();
    let mut windows: Vec<(usize, &[u8])> = Vec::with_capacity(picks.len());
    let (mut seg, mut base) = (0usize, 0u64);
    for p in picks {
        while p >= base + (test[seg].seq.len() - INPUT - KMAX + 1) as u64 {
            base += (test[seg].seq.len() - INPUT - KMAX + 1) as u64;
            seg += 1;
        }
        let at = (p - base) as usize;
        windows.push((test[seg].source, &test[seg].seq[at..at + INPUT + KMAX]));
    }

    let mut cfg = args.cfg.clone();
    let budget = Duration::from_secs_f64(args.minutes * 60.0);
    cfg.time_budget = Some(budget);
    cfg.max_steps = match args.max_steps {
        Some(n) => n,
        None => {
            // Time 20 updates, then size the decay to end with the budget.
            let probe = BaseLmConfig {
                max_steps: 20,
                eval_every: 1000,
                time_budget: None,
                ..cfg.clone()
            };
            let t = Instant::now();
            let r = train_base_lm(&train, &valid[..1], &probe, &mut |_| {})
                .map_err(|e| e.to_string())?;
            let per_step = t.elapsed().as_secs_f64() / r.steps as f64;
            let n = (budget.as_secs_f64() * 0.95 / per_step) as u64;
            eprintln!("{per_step:.3} s per update: max steps {n}");
            n.max(1)
        }
    };
    eprintln!("config {cfg:?}");
    let run = train_base_lm(&train, &valid, &cfg, &mut |s| {
        if let Some(b) = s.valid_bits {
            eprintln!(
                "step {:>6}/{}  {:>7.1} s  lr {:.2e}  train {:.4} bits  valid {:.4} bits/base",
                s.step,
                s.max_steps,
                s.seconds,
                s.lr,
                s.loss / std::f64::consts::LN_2,
                b
            );
        }
    })
    .map_err(|e| e.to_string())?;
    eprintln!(
        "stopped after {} updates, {:.0} s ({}); best valid {:.4} bits/base at step {}; {} parameters",
        run.steps,
        run.seconds,
        run.stop,
        run.best_valid_bits,
        run.best_step,
        run.config.parameter_count()
    );

    let device = dnalm_model::device(dnalm_model::Backend::Cpu).map_err(|e| e.to_string())?;
    let inputs: Vec<&[u8]> = windows.iter().map(|(_, w)| &w[..INPUT]).collect();
    let t = Instant::now();
    let scores = score_continuations(&run.model, &inputs, KMAX, 32, &device, &mut |_| {})
        .map_err(|e| e.to_string())?;
    let score_secs = t.elapsed().as_secs_f64();
    // [source or 2 = all][k - 3]
    let mut lm: Vec<Vec<Score>> = (0..3)
        .map(|_| (0..3).map(|_| Score::default()).collect())
        .collect();
    for ((source, w), lp) in windows.iter().zip(&scores) {
        let p5: Vec<f64> = lp.iter().map(|&x| (x as f64).exp()).collect();
        for k in 3..=KMAX {
            let group = 1usize << (2 * (KMAX - k));
            let pk: Vec<f64> = p5.chunks(group).map(|c| c.iter().sum()).collect();
            let label =
                kmer_code(&w[INPUT..INPUT + k]).ok_or("test label is not A/C/G/T")? as usize;
            let above = pk.iter().filter(|&&p| p > pk[label]).count();
            for s in [*source, 2] {
                let e = &mut lm[s][k - 3];
                e.n += 1;
                e.top1 += usize::from(above == 0);
                e.top5 += usize::from(above < 5);
                e.bits += -pk[label].log2() / k as f64;
            }
        }
    }
    let mut ng: Vec<Vec<Score>> = (0..3)
        .map(|_| (0..3).map(|_| Score::default()).collect())
        .collect();
    if args.ngram {
        let all_train: Vec<&[u8]> = train.iter().chain(&valid).map(|s| s.as_slice()).collect();
        for k in 3..=KMAX {
            let m = NgramModel::fit(k, 16, all_train.iter().copied(), inputs.iter().copied())
                .map_err(|e| e.to_string())?;
            for (source, w) in &windows {
                let label = kmer_code(&w[INPUT..INPUT + k]).ok_or("label")? as u32;
                let top = m.predict(&w[..INPUT], 5);
                for s in [*source, 2] {
                    let e = &mut ng[s][k - 3];
                    e.n += 1;
                    e.top1 += usize::from(top.first() == Some(&label));
                    e.top5 += usize::from(top.contains(&label));
                }
            }
        }
    }
    println!(
        "# {} layers, hidden {}, heads {}, context {}, lr {}, batch {}, {} updates in {:.0} s ({}), best step {}, valid {:.4} bits/base; scoring {} windows took {:.0} s",
        cfg.layers, cfg.hidden, cfg.heads, cfg.context, cfg.lr, cfg.batch_size, run.steps,
        run.seconds, run.stop, run.best_step, run.best_valid_bits, windows.len(), score_secs
    );
    println!("genome\tk\twindows\tlm_top1\tlm_top5\tlm_bits_per_base\tngram16_top1\tngram16_top5");
    for (s, name) in ["human", "ecoli", "all"].iter().enumerate() {
        for k in 3..=KMAX {
            let e = &lm[s][k - 3];
            let g = &ng[s][k - 3];
            let pct = |x: usize, n: usize| {
                if n == 0 {
                    f64::NAN
                } else {
                    100.0 * x as f64 / n as f64
                }
            };
            println!(
                "{name}\t{k}\t{}\t{:.2}\t{:.2}\t{:.4}\t{:.2}\t{:.2}",
                e.n,
                pct(e.top1, e.n),
                pct(e.top5, e.n),
                e.bits / e.n as f64,
                pct(g.top1, g.n),
                pct(g.top5, g.n)
            );
        }
    }
    println!("# curve: step\tseconds\ttrain_bits\tvalid_bits");
    for p in &run.curve {
        println!(
            "# {}\t{:.0}\t{:.4}\t{:.4}",
            p.step,
            p.seconds,
            p.train_loss / std::f64::consts::LN_2,
            p.valid_bits
        );
    }
    Ok(())
}
