// The BERT fixture, shared by hf_parity.rs and wgpu_parity.rs (included).

use std::path::PathBuf;

use dnalm_model::BatchInput;

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bert_tiny")
}

pub fn fixture_batch() -> BatchInput {
    let text = std::fs::read_to_string(fixture_dir().join("inputs.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = |k: &str| -> Vec<Vec<i64>> { serde_json::from_value(v[k].clone()).unwrap() };
    let ids = rows("input_ids");
    let (b, t) = (ids.len(), ids[0].len());
    BatchInput {
        input_ids: ids.concat(),
        attention_mask: rows("attention_mask").concat(),
        token_type_ids: Some(rows("token_type_ids").concat()),
        batch_size: b,
        seq_len: t,
    }
}

