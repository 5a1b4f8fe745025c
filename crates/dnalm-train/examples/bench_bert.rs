//! dnalm's side of the BERT benchmark (`bench/bert.sh`): one masked-LM
//! training step and one inference pass of a BERT config, timed in-process,
//! measured the same way as `bench/bert_peer.py` measures PyTorch
//! `transformers`.
//!
//! ```sh
//! cargo run --release -p dnalm-train --example bench_bert -- --preset tiny --threads 2
//! cargo run --release -p dnalm-train --example bench_bert -- --layers 4 --hidden 256 \
//!     --heads 4 --intermediate 1024 --vocab 4461 --seq 128 --batch 16 --only train
//! ```
//!
//! Train step: dropout on (0.1), MLM labels on 15% of positions with the
//! 80/10/10 corruption, loss on the labelled positions, backward, AdamW
//! (lr 1e-4, betas 0.9/0.98, eps 1e-6, weight decay 0.01), no clipping.
//! Inference: eval mode, logits `[B, T, V]` for every position.
//! Inputs: random ids in 5..vocab with [CLS] first and [SEP] last, no
//! padding, 4 pre-built batches used in turn (seeded). `--shards` (2, as
//! `dnalm pretrain`) cuts each batch into row shards run in parallel. `--warmup` untimed
//! steps, then `--repeat` timed ones. Prints one JSON line per measurement.

use std::time::Instant;

use burn::tensor::ElementConversion;
use dnalm_model::{BatchInput, BertConfig, BertForMaskedLm, IGNORE_LABEL};
use dnalm_train::{AdamW, AdamWConfig, GradBuffer};
use rand::{Rng, SeedableRng};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLS: i64 = 2;
const SEP: i64 = 3;
const MASK: i64 = 4;
const FIRST_ORDINARY: i64 = 5;
const N_BATCHES: usize = 4;

#[derive(Debug, Clone)]
struct Shape {
    layers: usize,
    hidden: usize,
    heads: usize,
    intermediate: usize,
    vocab: usize,
    seq: usize,
    batch: usize,
}

#[derive(Debug)]
struct Args {
    preset: Option<String>,
    shape: Shape,
    threads: usize,
    warmup: usize,
    repeat: usize,
    dropout: f64,
    mask_prob: f64,
    seed: u64,
    shards: usize,
    only: Option<String>,
}

fn die(msg: &str) -> ! {
    eprintln!("bench_bert: error: {msg}");
    std::process::exit(2)
}

fn parse() -> Args {
    let mut preset = None;
    let mut set: Vec<(String, usize)> = Vec::new();
    let (mut threads, mut warmup, mut repeat) = (2usize, 2usize, 5usize);
    let (mut dropout, mut mask_prob, mut seed) = (0.1f64, 0.15f64, 1u64);
    let mut only = None;
    let mut shards = 2usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        let num = |s: String| -> usize {
            s.parse()
                .unwrap_or_else(|_| die(&format!("not a number: {s}")))
        };
        match a.as_str() {
            "--preset" => preset = Some(val()),
            "--threads" => threads = num(val()),
            "--warmup" => warmup = num(val()),
            "--repeat" => repeat = num(val()),
            "--seed" => seed = num(val()) as u64,
            "--dropout" => dropout = val().parse().unwrap_or_else(|_| die("bad --dropout")),
            "--mask-prob" => mask_prob = val().parse().unwrap_or_else(|_| die("bad --mask-prob")),
            "--only" => only = Some(val()),
            "--shards" => shards = num(val()),
            "--layers" | "--hidden" | "--heads" | "--intermediate" | "--vocab" | "--seq"
            | "--batch" => {
                let v = num(val());
                set.push((a[2..].to_string(), v));
            }
            "-h" | "--help" => {
                eprintln!("see the doc comment of crates/dnalm-train/examples/bench_bert.rs");
                std::process::exit(0)
            }
            other => die(&format!("unknown argument {other}")),
        }
    }
    let mut shape = match preset.as_deref() {
        Some("tiny") | None => Shape {
            layers: 2,
            hidden: 128,
            heads: 4,
            intermediate: 512,
            vocab: 4461,
            seq: 128,
            batch: 16,
        },
        Some("bench4") => Shape {
            layers: 4,
            hidden: 256,
            heads: 4,
            intermediate: 1024,
            vocab: 4461,
            seq: 128,
            batch: 16,
        },
        Some(p) => die(&format!("unknown preset {p} (tiny, bench4)")),
    };
    for (k, v) in set {
        match k.as_str() {
            "layers" => shape.layers = v,
            "hidden" => shape.hidden = v,
            "heads" => shape.heads = v,
            "intermediate" => shape.intermediate = v,
            "vocab" => shape.vocab = v,
            "seq" => shape.seq = v,
            _ => shape.batch = v,
        }
    }
    if let Some(o) = &only {
        if o != "train" && o != "inference" {
            die("--only is train or inference");
        }
    }
    if threads == 0 || repeat == 0 {
        die("need --threads >= 1 and --repeat >= 1");
    }
    Args {
        preset,
        shape,
        threads,
        warmup,
        repeat,
        dropout,
        mask_prob,
        seed,
        shards,
        only,
    }
}

/// Pre-built batches: (inputs, labels), the protocol of bert_peer.py.
fn batches(s: &Shape, mask_prob: f64, seed: u64) -> Vec<(BatchInput, Vec<i64>)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let v = s.vocab as i64;
    (0..N_BATCHES)
        .map(|_| {
            let n = s.batch * s.seq;
            let mut ids: Vec<i64> = (0..n)
                .map(|_| rng.random_range(FIRST_ORDINARY..v))
                .collect();
            let mut labels = vec![IGNORE_LABEL; n];
            for b in 0..s.batch {
                ids[b * s.seq] = CLS;
                ids[b * s.seq + s.seq - 1] = SEP;
            }
            let mut inputs = ids.clone();
            for i in 0..n {
                let pos = i % s.seq;
                if pos == 0 || pos == s.seq - 1 || rng.random::<f64>() >= mask_prob {
                    continue;
                }
                labels[i] = ids[i];
                let r: f64 = rng.random();
                if r < 0.8 {
                    inputs[i] = MASK;
                } else if r < 0.9 {
                    inputs[i] = rng.random_range(FIRST_ORDINARY..v);
                }
            }
            (BatchInput::unpadded(inputs, s.batch, s.seq), labels)
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn measure(a: &Args, what: &str) -> serde_json::Value {
    let s = &a.shape;
    let mut config = BertConfig::preset("tiny", Some(s.vocab)).expect("preset");
    config.num_hidden_layers = s.layers;
    config.hidden_size = s.hidden;
    config.num_attention_heads = s.heads;
    config.intermediate_size = s.intermediate;
    config.max_position_embeddings = s.seq.max(512);
    config.dnalm_preset = None;
    let dropout = if what == "train" { a.dropout } else { 0.0 };
    config.hidden_dropout_prob = dropout;
    config.attention_probs_dropout_prob = dropout;
    config
        .validate()
        .unwrap_or_else(|e| die(&format!("config: {e}")));
    let data = batches(s, a.mask_prob, a.seed);
    let labelled = data
        .iter()
        .map(|(_, l)| l.iter().filter(|&&x| x != IGNORE_LABEL).count())
        .sum::<usize>() as f64
        / N_BATCHES as f64;
    let inner = dnalm_model::device(dnalm_model::Backend::Cpu).expect("cpu device");
    let mut times = Vec::new();
    let mut last = 0.0f64;
    if what == "train" {
        let device = inner.clone().autodiff();
        let mut model = dnalm_model::seeded(a.seed, || BertForMaskedLm::new(&config, &device));
        let mut opt = AdamW::new(AdamWConfig {
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-6,
            weight_decay: 0.01,
            hf_decay_groups: false,
        })
        .expect("adamw");
        for i in 0..a.warmup + a.repeat {
            let (input, labels) = &data[i % N_BATCHES];
            let t0 = Instant::now();
            let mut grads = GradBuffer::default();
            let out = dnalm_train::shard::mlm_backward(
                &model,
                input,
                labels,
                a.shards,
                dnalm_seq::mix64(a.seed, i as u64),
                &device,
                &mut grads,
            )
            .expect("loss");
            let loss = out.loss;
            let (m, _) = opt.step(model, grads, 1e-4, None);
            model = m;
            // The step is done when its new weights exist.
            let _: f32 = model
                .cls
                .predictions
                .bias
                .val()
                .sum()
                .into_scalar::<f32>()
                .elem();
            let dt = t0.elapsed().as_secs_f64();
            if i >= a.warmup {
                times.push(dt);
            }
            last = loss;
        }
    } else {
        let model = dnalm_model::seeded(a.seed, || BertForMaskedLm::new(&config, &inner));
        for i in 0..a.warmup + a.repeat {
            let (input, _) = &data[i % N_BATCHES];
            let t0 = Instant::now();
            let logits = model.logits_sharded(input, a.shards, &inner);
            let v: f32 = logits.slice([0..1, 0..1, 0..1]).into_scalar::<f32>().elem();
            let dt = t0.elapsed().as_secs_f64();
            if i >= a.warmup {
                times.push(dt);
            }
            last = v as f64;
        }
    }
    if !last.is_finite() {
        die("the step produced a non-finite value");
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
    };
    let best = sorted[0];
    let tokens = (s.batch * s.seq) as f64;
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    serde_json::json!({
        "peer": "dnalm-burn-flex",
        "measurement": what,
        "preset": a.preset,
        "layers": s.layers, "hidden": s.hidden, "heads": s.heads,
        "intermediate": s.intermediate, "vocab": s.vocab, "seq": s.seq, "batch": s.batch,
        "parameters": config.parameter_count(),
        "dropout": dropout,
        "mlm_labelled_per_batch": labelled,
        "threads": a.threads,
        "shards": a.shards,
        "warmup": a.warmup,
        "repeat": a.repeat,
        "median_ms": r3(median * 1e3),
        "min_ms": r3(best * 1e3),
        "tokens_per_s": (tokens / median * 10.0).round() / 10.0,
        "tokens_per_s_best": (tokens / best * 10.0).round() / 10.0,
        "peak_rss_mib": (peak_rss_mib() * 10.0).round() / 10.0,
        "step_times_ms": times.iter().map(|t| r3(t * 1e3)).collect::<Vec<_>>(),
    })
}

fn main() {
    let a = parse();
    rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build_global()
        .unwrap_or_else(|e| die(&format!("thread pool: {e}")));
    if let Some(what) = &a.only {
        println!("{}", measure(&a, what));
        return;
    }
    // One child process per measurement, so each peak RSS is its own.
    let exe = std::env::current_exe().unwrap_or_else(|e| die(&format!("current_exe: {e}")));
    let args: Vec<String> = std::env::args().skip(1).collect();
    for what in ["inference", "train"] {
        let out = std::process::Command::new(&exe)
            .args(&args)
            .args(["--only", what])
            .env("RAYON_NUM_THREADS", a.threads.to_string())
            .output()
            .unwrap_or_else(|e| die(&format!("cannot run {}: {e}", exe.display())));
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            die(&format!("the {what} measurement failed"));
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
