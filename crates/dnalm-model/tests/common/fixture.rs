// The parity fixtures written by scripts/make_bert_fixtures.py and
// scripts/make_gpt2_fixtures.py, shared by hf_parity.rs, gpt2_parity.rs and
// wgpu_parity.rs (included in a `mod common` that allows dead code: a test
// binary may leave some of it unused).

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use dnalm_model::weights::{HostTensor, StateDict};
use dnalm_model::BatchInput;

/// `tests/fixtures/<name>`.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The BERT fixture's folder.
pub fn fixture_dir() -> PathBuf {
    fixture_path("bert_tiny")
}

/// A fixture's `inputs.json`: the batch (token types when the fixture has
/// them) and the whole document, for any other rows it holds.
pub fn read_inputs(dir: &Path) -> (BatchInput, serde_json::Value) {
    let text = std::fs::read_to_string(dir.join("inputs.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ids = rows(&v, "input_ids");
    let (b, t) = (ids.len(), ids[0].len());
    let batch = BatchInput {
        input_ids: ids.concat(),
        attention_mask: rows(&v, "attention_mask").concat(),
        token_type_ids: v
            .get("token_type_ids")
            .map(|_| rows(&v, "token_type_ids").concat()),
        batch_size: b,
        seq_len: t,
    };
    (batch, v)
}

/// The rows of one field of `inputs.json`.
pub fn rows(v: &serde_json::Value, key: &str) -> Vec<Vec<i64>> {
    serde_json::from_value(v[key].clone()).unwrap()
}

/// The BERT fixture's batch.
pub fn fixture_batch() -> BatchInput {
    read_inputs(&fixture_dir()).0
}

pub fn max_abs_diff(a: &HostTensor, b: &HostTensor) -> f32 {
    assert_eq!(a.shape, b.shape, "shapes differ");
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Asserts `got` is within `atol` of the fixture's tensor `name`; returns
/// the largest difference.
pub fn check(exp: &StateDict, name: &str, got: HostTensor, atol: f32) -> f32 {
    let d = max_abs_diff(&got, &exp[name]);
    assert!(d <= atol, "{name}: max abs diff {d:e} > {atol:e}");
    d
}

/// Every `hidden_states.i` (atol 1e-4) and `attentions.l` (atol 1e-5) of a
/// model with `layers` layers.
pub fn check_layers(
    exp: &StateDict,
    hidden_states: &[Tensor<3>],
    attentions: &[Tensor<4>],
    layers: usize,
) {
    assert_eq!(hidden_states.len(), layers + 1);
    for (i, h) in hidden_states.iter().enumerate() {
        let name = format!("hidden_states.{i}");
        check(exp, &name, HostTensor::from_tensor(h.clone()), 1e-4);
    }
    assert_eq!(attentions.len(), layers);
    for (l, a) in attentions.iter().enumerate() {
        let name = format!("attentions.{l}");
        check(exp, &name, HostTensor::from_tensor(a.clone()), 1e-5);
    }
}
