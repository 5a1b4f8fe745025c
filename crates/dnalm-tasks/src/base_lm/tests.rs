use super::*;
use dnalm_model::{HostTensor, Want};
use rand::{Rng, SeedableRng};

fn plain() -> Device {
    dnalm_model::device(dnalm_model::Backend::Cpu).unwrap()
}

/// A small random GPT-2 over the four bases.
fn small(n_positions: usize, device: &Device) -> Gpt2LmHeadModel {
    let mut c = Gpt2Config::preset("tiny", Some(4)).unwrap();
    c.n_embd = 32;
    c.n_positions = n_positions;
    dnalm_model::seeded(5, || Gpt2LmHeadModel::new(&c, device))
}

fn random_bases(n: usize, rng: &mut impl Rng) -> Vec<u8> {
    (0..n).map(|_| BASES[rng.random_range(0..4)]).collect()
}

/// log P(continuation) by running input + continuation as one ordinary
/// causal sequence and multiplying the next-base probabilities.
fn causal_log_prob(model: &Gpt2LmHeadModel, input: &[u8], cont: &[u8], device: &Device) -> f64 {
    let seq: Vec<u8> = [input, &cont[..cont.len() - 1]].concat();
    let ids: Vec<i64> = encode_bases(&seq, "test")
        .unwrap()
        .into_iter()
        .map(i64::from)
        .collect();
    let n = ids.len();
    let db = DeviceBatch::new(&BatchInput::unpadded(ids, 1, n), device);
    let logits = model.forward(&db, Want::default()).logits;
    let lp = HostTensor::from_tensor(log_softmax(logits, 2));
    cont.iter()
        .enumerate()
        .map(|(i, &b)| lp.data[(input.len() - 1 + i) * 4 + token(b).unwrap() as usize] as f64)
        .sum()
}

#[test]
fn tree_pass_equals_one_causal_pass_per_continuation() {
    let device = plain();
    let model = small(16, &device);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let windows: Vec<Vec<u8>> = (0..3).map(|_| random_bases(9, &mut rng)).collect();
    let inputs: Vec<&[u8]> = windows.iter().map(|w| w.as_slice()).collect();
    let mut seen = Vec::new();
    // A batch of 2 puts the third window in a batch of its own.
    let scores =
        score_continuations(&model, &inputs, 3, 2, &device, &mut |n| seen.push(n)).unwrap();
    assert_eq!(seen, vec![2, 3]);
    assert_eq!(scores.len(), 3);
    let mut worst = 0.0f64;
    for (w, input) in inputs.iter().enumerate() {
        assert_eq!(scores[w].len(), 64);
        for code in 0..64u32 {
            let cont = crate::ngram::kmer_of(code, 3).into_bytes();
            let want = causal_log_prob(&model, input, &cont, &device);
            worst = worst.max((scores[w][code as usize] as f64 - want).abs());
        }
    }
    assert!(
        worst < 1e-5,
        "tree and causal log-probabilities differ by {worst:e}"
    );
}

#[test]
fn continuations_are_a_distribution() {
    let device = plain();
    let model = small(16, &device);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let windows: Vec<Vec<u8>> = (0..4).map(|_| random_bases(11, &mut rng)).collect();
    let inputs: Vec<&[u8]> = windows.iter().map(|w| w.as_slice()).collect();
    for kmax in [1, 2, 4, 5] {
        let scores = score_continuations(&model, &inputs, kmax, 3, &device, &mut |_| {}).unwrap();
        for s in &scores {
            assert_eq!(s.len(), 1 << (2 * kmax));
            let total: f64 = s.iter().map(|&lp| (lp as f64).exp()).sum();
            assert!((total - 1.0).abs() < 1e-4, "kmax {kmax}: sums to {total}");
        }
    }
    // The k = 1 scores are the first base's marginals of the k = 2 scores.
    let one = score_continuations(&model, &inputs, 1, 4, &device, &mut |_| {}).unwrap();
    let two = score_continuations(&model, &inputs, 2, 4, &device, &mut |_| {}).unwrap();
    for (a, b) in one.iter().zip(&two) {
        for base in 0..4 {
            let m: f64 = b[base * 4..base * 4 + 4]
                .iter()
                .map(|&x| (x as f64).exp())
                .sum();
            assert!((m.ln() - a[base] as f64).abs() < 1e-5);
        }
    }
}

#[test]
fn tree_layout_sees_ancestors_only() {
    let t = TreeLayout::new(2, 3);
    // 2 inputs, 4 nodes of depth 1, 16 of depth 2.
    assert_eq!(t.len(), 22);
    assert_eq!(&t.positions[..7], &[0, 1, 2, 2, 2, 2, 3]);
    assert_eq!(t.positions[21], 3);
    let n = t.len();
    let sees = |q: usize, k: usize| t.bias[q * n + k] == 0.0;
    assert!(sees(1, 0) && !sees(0, 1));
    // Node "CG" (depth 2, code 6) sits at 2 + 4 + 6 = 12.
    let cg = TreeLayout::node_index(2, 2, 6);
    assert_eq!(cg, 12);
    let c = TreeLayout::node_index(2, 1, 1);
    let seen: Vec<usize> = (0..n).filter(|&k| sees(cg, k)).collect();
    assert_eq!(seen, vec![0, 1, c, cg]);
    let mut ids = Vec::new();
    t.tokens(&[3, 0], &mut ids);
    assert_eq!(&ids[..7], &[3, 0, 0, 1, 2, 3, 0]);
    assert_eq!(ids[cg], 2);
}

#[test]
fn bad_scoring_input_is_refused() {
    let device = plain();
    let model = small(16, &device);
    let score = |inputs: &[&[u8]], kmax: usize| {
        score_continuations(&model, inputs, kmax, 4, &device, &mut |_| {})
            .unwrap_err()
            .to_string()
    };
    let e = score(&[b"ACGT", b"ACNT"], 2);
    assert!(
        e.contains("window 1") && e.contains("'N'") && e.contains("position 2"),
        "{e}"
    );
    let e = score(&[b"ACGT", b"ACG"], 2);
    assert!(e.contains("window 1 has 3 bases"), "{e}");
    for kmax in [0, 7] {
        let e = score(&[b"ACGT"], kmax);
        assert!(e.contains("1..=6"), "{e}");
    }
    // 14 + 3 - 1 = 16 positions fit; 14 + 4 - 1 do not.
    let long = [b'A'; 14];
    assert!(score_continuations(&model, &[&long], 3, 1, &device, &mut |_| {}).is_ok());
    let e = score(&[&long], 4);
    assert!(e.contains("17 positions") && e.contains("16"), "{e}");
    assert!(score_continuations(&model, &[], 3, 1, &device, &mut |_| {})
        .unwrap()
        .is_empty());
}

/// A motif of 12 bases, then 2 random bases, over and over: the random
/// bases carry all the information, 2 bits in 14 bases (0.29 bits per base).
fn motif_sequence(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut s = Vec::with_capacity(n + 14);
    while s.len() < n {
        s.extend_from_slice(b"ACGTTGCAAGTC");
        s.extend(random_bases(2, &mut rng));
    }
    s.truncate(n);
    s
}

fn quick() -> BaseLmConfig {
    BaseLmConfig {
        layers: 2,
        hidden: 32,
        heads: 4,
        context: 32,
        lr: 3e-3,
        warmup: 20,
        batch_size: 16,
        shards: 2,
        seed: 9,
        time_budget: None,
        max_steps: 150,
        eval_every: 50,
        patience: 0,
        eval_batch: 32,
    }
}

#[test]
fn learns_a_repeated_motif() {
    let train: Vec<Vec<u8>> = (0..4).map(|i| motif_sequence(3000, i)).collect();
    let valid = vec![motif_sequence(1200, 99)];
    let mut steps = 0;
    let cfg = BaseLmConfig {
        max_steps: 400,
        eval_every: 100,
        ..quick()
    };
    let run = train_base_lm(&train, &valid, &cfg, &mut |s| {
        steps += 1;
        assert_eq!(s.step, steps);
        assert_eq!(s.valid_bits.is_some(), s.step % 100 == 0);
    })
    .unwrap();
    eprintln!("{:?}", run.curve);
    assert_eq!(
        (run.steps, steps, run.stop),
        (400, 400, StopReason::MaxSteps)
    );
    assert_eq!(run.curve.len(), 4);
    let best = run
        .curve
        .iter()
        .map(|p| p.valid_bits)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(run.best_valid_bits, best);
    assert!(
        run.best_valid_bits < 1.0,
        "held-out {} bits per base",
        run.best_valid_bits
    );
    // The returned weights are the best evaluation's: scoring with them
    // predicts the motif's continuation.
    let v = &valid[0];
    let at = v.windows(12).position(|w| w == b"ACGTTGCAAGTC").unwrap() + 14;
    let input = &v[at..at + 20];
    let next = &v[at + 20..at + 23];
    let scores = score_continuations(&run.model, &[input], 3, 1, &plain(), &mut |_| {}).unwrap();
    let p = (scores[0][crate::ngram::kmer_code(next).unwrap() as usize] as f64).exp();
    eprintln!("P({}) = {p:.3}", String::from_utf8_lossy(next));
}

#[test]
fn same_seed_same_weights() {
    let train: Vec<Vec<u8>> = (0..2).map(|i| motif_sequence(500, i)).collect();
    let valid = vec![motif_sequence(200, 7)];
    let cfg = BaseLmConfig {
        max_steps: 4,
        eval_every: 2,
        ..quick()
    };
    let run = || {
        let r = train_base_lm(&train, &valid, &cfg, &mut |_| {}).unwrap();
        let curve: Vec<(u64, f64, f64)> = r
            .curve
            .iter()
            .map(|p| (p.step, p.train_loss, p.valid_bits))
            .collect();
        (
            dnalm_model::weights::state_dict(&r.model),
            curve,
            r.best_step,
        )
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let other = train_base_lm(
        &train,
        &valid,
        &BaseLmConfig { seed: 10, ..cfg },
        &mut |_| {},
    )
    .unwrap();
    assert_ne!(dnalm_model::weights::state_dict(&other.model), a.0);
}

#[test]
fn patience_and_time_budget_stop_a_run() {
    let train: Vec<Vec<u8>> = (0..2).map(|i| motif_sequence(500, i)).collect();
    let valid = vec![motif_sequence(200, 7)];
    // Updates of 1e-12 are below f32 resolution of the weights: the held-out
    // loss never improves after the first evaluation.
    let cfg = BaseLmConfig {
        lr: 1e-12,
        max_steps: 100,
        eval_every: 1,
        patience: 2,
        ..quick()
    };
    let r = train_base_lm(&train, &valid, &cfg, &mut |_| {}).unwrap();
    assert_eq!((r.steps, r.stop), (3, StopReason::NoImprovement));
    assert_eq!(r.best_step, 1);
    let cfg = BaseLmConfig {
        time_budget: Some(Duration::ZERO),
        ..quick()
    };
    let r = train_base_lm(&train, &valid, &cfg, &mut |_| {}).unwrap();
    assert_eq!((r.steps, r.stop), (1, StopReason::TimeBudget));
    assert_eq!(r.curve.len(), 1);
}

#[test]
fn bad_training_input_is_refused() {
    let good = vec![motif_sequence(300, 1)];
    let e = train_base_lm(&[b"ACGTNACGT".to_vec()], &good, &quick(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("training segment 0") && e.contains("position 4"),
        "{e}"
    );
    let e = train_base_lm(&good, &[b"A".to_vec()], &quick(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("no validation segment"), "{e}");
    let e = train_base_lm(
        &good,
        &good,
        &BaseLmConfig {
            heads: 5,
            ..quick()
        },
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains('5'), "{e}");
}
