//! Sharded micro-batches: the same loss and gradients as one pass over the
//! whole batch (up to float rounding), and the same bytes for any thread
//! count.

use dnalm_model::{BatchInput, BertConfig, BertForMaskedLm, IGNORE_LABEL};
use dnalm_train::shard::mlm_backward;
use dnalm_train::GradBuffer;

/// The backend's generator is global and the tests of this file run on
/// several threads: each test holds this lock while it seeds and builds.
static SEEDED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn setup(dropout: f64) -> (BertForMaskedLm, BatchInput, Vec<i64>, dnalm_model::Device) {
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)
        .unwrap()
        .autodiff();
    let mut c = BertConfig::preset("tiny", Some(40)).unwrap();
    c.hidden_dropout_prob = dropout;
    c.attention_probs_dropout_prob = dropout;
    let model = dnalm_model::seeded(3, || BertForMaskedLm::new(&c, &device));
    let (b, t) = (6, 12);
    let ids: Vec<i64> = (0..b * t).map(|i| 5 + (i * 7 % 35) as i64).collect();
    let mut batch = BatchInput::unpadded(ids.clone(), b, t);
    // Padding at the end of two rows.
    for p in [t - 1, t - 2, 3 * t - 1] {
        batch.attention_mask[p] = 0;
        batch.input_ids[p] = 0;
    }
    let labels: Vec<i64> = (0..b * t)
        .map(|i| {
            if i % 5 == 1 && batch.attention_mask[i] == 1 {
                ids[i]
            } else {
                IGNORE_LABEL
            }
        })
        .collect();
    (model, batch, labels, device)
}

fn flat(g: &GradBuffer, name: &str) -> Vec<f32> {
    g.get(name)
        .unwrap_or_else(|| panic!("no gradient for {name}"))
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

const NAMES: &[&str] = &[
    "bert.embeddings.word_embeddings.weight",
    "bert.encoder.layer.0.attention.self.query.weight",
    "bert.encoder.layer.1.output.dense.bias",
    "cls.predictions.transform.dense.weight",
];

#[test]
fn shards_give_the_whole_batch_loss_and_gradients() {
    let _lock = SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    let (model, batch, labels, device) = setup(0.0);
    let mut whole = GradBuffer::default();
    let a = mlm_backward(&model, &batch, &labels, 1, 1, &device, &mut whole).unwrap();
    for shards in [2, 3, 6] {
        let mut parts = GradBuffer::default();
        let b = mlm_backward(&model, &batch, &labels, shards, 1, &device, &mut parts).unwrap();
        assert_eq!(parts.micro_batches(), 1);
        assert_eq!(a.n_labels, b.n_labels);
        assert!((a.loss - b.loss).abs() < 1e-5, "{} vs {}", a.loss, b.loss);
        for name in NAMES {
            let (x, y) = (flat(&whole, name), flat(&parts, name));
            let scale = x.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
            let diff = x
                .iter()
                .zip(&y)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0f32, f32::max);
            assert!(scale > 0.0, "{name}: zero gradient");
            assert!(
                diff <= 1e-4 * scale.max(1.0),
                "{name}, {shards} shards: max diff {diff:e} (scale {scale:e})"
            );
        }
    }
}

#[test]
fn thread_count_does_not_change_a_sharded_step() {
    let _lock = SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (model, batch, labels, device) = setup(0.1);
            let mut g = GradBuffer::default();
            let out = mlm_backward(&model, &batch, &labels, 3, 9, &device, &mut g).unwrap();
            let grads: Vec<Vec<f32>> = NAMES.iter().map(|n| flat(&g, n)).collect();
            (out.loss.to_bits(), grads)
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        let other = run(threads);
        assert_eq!(one.0, other.0, "loss: 1 and {threads} threads differ");
        for (i, (a, b)) in one.1.iter().zip(&other.1).enumerate() {
            let diff = a.iter().zip(b).filter(|(x, y)| x != y).count();
            assert_eq!(
                diff, 0,
                "{}: 1 and {threads} threads differ in {diff} values",
                NAMES[i]
            );
        }
    }
    // Dropout is on and keyed by the seed: another seed, other gradients.
    let (model, batch, labels, device) = setup(0.1);
    let mut g = GradBuffer::default();
    mlm_backward(&model, &batch, &labels, 3, 10, &device, &mut g).unwrap();
    assert_ne!(one.1[1], flat(&g, NAMES[1]), "dropout ignored its seed");
}
