//! Parity of the GPT-2 causal LM with Hugging Face `transformers`: a 2-layer
//! GPT2LMHeadModel and its outputs on a right-padded batch, written once by
//! `scripts/make_gpt2_fixtures.py` (PyTorch, f32) into
//! `tests/fixtures/gpt2_tiny/`. No Python is needed to run this test.

use dnalm_model::gpt2_weights::{gpt2_state_dict, load_gpt2};
use dnalm_model::weights::{load_safetensors, HostTensor, StateDict};
use dnalm_model::{BatchInput, DeviceBatch, Want};

#[allow(dead_code)]
mod common {
    include!("common/fixture.rs");
}
use common::{check, check_layers, fixture_path, max_abs_diff, read_inputs, rows};

fn fixture_dir() -> std::path::PathBuf {
    fixture_path("gpt2_tiny")
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
    let (batch, v) = read_inputs(&dir);
    Some((
        batch,
        rows(&v, "labels").concat(),
        load_safetensors(&expected).unwrap().0,
    ))
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
    let check = |name: &str, got: HostTensor, atol: f32| check(&exp, name, got, atol);
    let out = p.model.forward(
        &db,
        Want {
            hidden_states: true,
            attentions: true,
        },
    );
    check_layers(&exp, &out.hidden_states, &out.attentions, 2);
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
