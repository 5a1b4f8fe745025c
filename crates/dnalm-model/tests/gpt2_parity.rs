//! Parity of the GPT-2 causal LM with Hugging Face `transformers`: a 2-layer
//! GPT2LMHeadModel and its outputs on a right-padded batch, written once by
//! `scripts/make_gpt2_fixtures.py` (PyTorch, f32) into
//! `tests/fixtures/gpt2_tiny/`. No Python is needed to run this test.

use std::path::PathBuf;

use dnalm_model::gpt2_weights::{gpt2_state_dict, load_gpt2};
use dnalm_model::weights::{load_safetensors, HostTensor, StateDict};
use dnalm_model::{BatchInput, DeviceBatch, Want};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpt2_tiny")
}

/// The fixture, or `None` (with the reason printed) when it is not there.
fn fixture() -> Option<(BatchInput, Vec<i64>, StateDict)> {
    let dir = fixture_dir();
    let expected = dir.join("expected.safetensors");
    if !expected.is_file() {
        eprintln!(
            "skipped: {} is missing (make it with scripts/make_gpt2_fixtures.py)",
            expected.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(dir.join("inputs.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = |k: &str| -> Vec<Vec<i64>> { serde_json::from_value(v[k].clone()).unwrap() };
    let ids = rows("input_ids");
    let (b, t) = (ids.len(), ids[0].len());
    let batch = BatchInput {
        input_ids: ids.concat(),
        attention_mask: rows("attention_mask").concat(),
        token_type_ids: None,
        batch_size: b,
        seq_len: t,
    };
    Some((
        batch,
        rows("labels").concat(),
        load_safetensors(&expected).unwrap().0,
    ))
}

fn max_abs_diff(a: &HostTensor, b: &HostTensor) -> f32 {
    assert_eq!(a.shape, b.shape, "shapes differ");
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn forward_and_loss_match_transformers() {
    let Some((batch, labels, exp)) = fixture() else {
        return;
    };
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let p = load_gpt2(&fixture_dir(), &device).unwrap();
    assert!(p.report.unused.is_empty(), "unused: {:?}", p.report.unused);
    p.model.check_input(&batch).unwrap();
    // The fixture's labels are what dnalm derives from the batch.
    assert_eq!(labels, dnalm_model::causal_labels(&batch));
    let db = DeviceBatch::new(&batch, &device);
    let check = |name: &str, got: HostTensor, atol: f32| {
        let d = max_abs_diff(&got, &exp[name]);
        assert!(d <= atol, "{name}: max abs diff {d:e} > {atol:e}");
        d
    };
    let out = p.model.forward(
        &db,
        Want {
            hidden_states: true,
            attentions: true,
        },
    );
    assert_eq!(out.hidden_states.len(), 3);
    for (i, h) in out.hidden_states.iter().enumerate() {
        check(
            &format!("hidden_states.{i}"),
            HostTensor::from_tensor(h.clone()),
            1e-4,
        );
    }
    assert_eq!(out.attentions.len(), 2);
    for (l, a) in out.attentions.iter().enumerate() {
        check(
            &format!("attentions.{l}"),
            HostTensor::from_tensor(a.clone()),
            1e-5,
        );
    }
    let explicit = check("logits", HostTensor::from_tensor(out.logits), 1e-4);
    // The fused inference path, padded positions included.
    let fused = check("logits", HostTensor::from_tensor(p.model.logits(&db)), 1e-4);
    let loss = p.model.lm_loss(&db, &labels).unwrap();
    assert_eq!(loss.n_labels, 11 + 8 + 4);
    let d = check("loss", HostTensor::from_tensor(loss.loss), 1e-5);
    eprintln!(
        "gpt2 vs transformers: logits max abs diff {explicit:e} (explicit), {fused:e} (fused); loss {d:e}"
    );
}

#[test]
fn export_writes_every_hf_tensor_unchanged() {
    if fixture().is_none() {
        return;
    }
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let p = load_gpt2(&fixture_dir(), &device).unwrap();
    let (original, _) = load_safetensors(&fixture_dir().join("model.safetensors")).unwrap();
    let ours = gpt2_state_dict(&p.model);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        original.keys().collect::<Vec<_>>(),
        "tensor names differ from transformers'"
    );
    for (k, t) in &original {
        assert_eq!(&ours[k], t, "{k} changed on the way through dnalm");
    }
}

/// A bare `GPT2Model` checkpoint (no `transformer.` prefix, no head) loads
/// with the head tied to its embeddings and gives the same logits.
#[test]
fn gpt2_model_checkpoint_loads() {
    let Some((batch, _, exp)) = fixture() else {
        return;
    };
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let (original, _) = load_safetensors(&fixture_dir().join("model.safetensors")).unwrap();
    let body: StateDict = original
        .iter()
        .filter_map(|(k, t)| {
            k.strip_prefix("transformer.")
                .map(|k| (k.to_string(), t.clone()))
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture_dir().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    dnalm_model::weights::save_safetensors(&dir.path().join("model.safetensors"), &body).unwrap();
    let p = load_gpt2(dir.path(), &device).unwrap();
    let got = p.model.logits(&DeviceBatch::new(&batch, &device));
    let d = max_abs_diff(&HostTensor::from_tensor(got), &exp["logits"]);
    assert!(d <= 1e-4, "logits differ by {d:e}");
}
