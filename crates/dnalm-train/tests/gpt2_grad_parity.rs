//! Gradients of the GPT-2 causal-LM loss against PyTorch / `transformers`
//! (the fixture of `scripts/make_gpt2_fixtures.py`; no Python needed here),
//! through the same sharded backward pass training uses.

use std::path::PathBuf;

use dnalm_model::gpt2_weights::load_gpt2;
use dnalm_model::weights::{load_safetensors, state_dict, HostTensor};
use dnalm_model::BatchInput;
use dnalm_train::causal::causal_backward;
use dnalm_train::GradBuffer;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dnalm-model/tests/fixtures/gpt2_tiny")
}

#[test]
fn gradients_match_pytorch_for_any_shard_count() {
    let expected = fixture_dir().join("expected.safetensors");
    if !expected.is_file() {
        eprintln!(
            "skipped: {} is missing (make it with scripts/make_gpt2_fixtures.py)",
            expected.display()
        );
        return;
    }
    let text = std::fs::read_to_string(fixture_dir().join("inputs.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = |k: &str| -> Vec<Vec<i64>> { serde_json::from_value(v[k].clone()).unwrap() };
    let ids = rows("input_ids");
    let batch = BatchInput {
        input_ids: ids.concat(),
        attention_mask: rows("attention_mask").concat(),
        token_type_ids: None,
        batch_size: ids.len(),
        seq_len: ids[0].len(),
    };
    let exp = load_safetensors(&expected).unwrap().0;
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)
        .unwrap()
        .autodiff();
    let model = load_gpt2(&fixture_dir(), &device).unwrap().model;
    for shards in [1, 3] {
        let mut grads = GradBuffer::default();
        let out = causal_backward(&model, &batch, shards, 0, &device, &mut grads).unwrap();
        let want_loss = exp["loss"].data[0] as f64;
        assert!(
            (out.loss - want_loss).abs() < 1e-5,
            "{shards} shards: loss {} vs {want_loss}",
            out.loss
        );
        assert_eq!(out.n_labels, 23);
        let mut worst = 0f32;
        let names: Vec<String> = state_dict(&model).into_keys().collect();
        assert_eq!(names.len(), 4 + 12 * 2, "{names:?}");
        for name in names {
            let want = &exp[&format!("grad.{name}")];
            let got = HostTensor::from_tensor(grads.get(&name).expect("a gradient"));
            assert_eq!(got.data.len(), want.data.len(), "{name}");
            let d = got
                .data
                .iter()
                .zip(&want.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                d <= 1e-5,
                "{shards} shards: grad.{name}: max abs diff {d:e}"
            );
            worst = worst.max(d);
        }
        eprintln!("{shards} shard(s): worst gradient diff vs PyTorch {worst:e}");
    }
}
