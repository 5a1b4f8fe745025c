//! Parity with Hugging Face `transformers` (the reference implementation):
//! a 2-layer BertForMaskedLM and its outputs on a padded batch, written once
//! by `scripts/make_bert_fixtures.py` (PyTorch, f32) into
//! `tests/fixtures/bert_tiny/`. No Python is needed to run this test.

use dnalm_model::pretrained::load_mlm;
use dnalm_model::weights::{load_safetensors, mlm_state_dict, HostTensor, StateDict};
use dnalm_model::{DeviceBatch, Want};

#[allow(dead_code)]
mod common {
    include!("common/fixture.rs");
}
use common::{check, check_layers, fixture_batch, fixture_dir, max_abs_diff};

fn expected() -> StateDict {
    load_safetensors(&fixture_dir().join("expected.safetensors"))
        .unwrap()
        .0
}

#[test]
fn forward_matches_transformers() {
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let p = load_mlm(&fixture_dir(), &device).unwrap();
    assert!(p.fresh.is_empty());
    assert!(p.report.unused.is_empty(), "unused: {:?}", p.report.unused);
    let batch = fixture_batch();
    p.model.check_input(&batch).unwrap();
    let db = DeviceBatch::new(&batch, &device);
    let want = Want {
        hidden_states: true,
        attentions: true,
    };
    let out = p.model.encode(&db, want);
    let exp = expected();
    let check = |name: &str, got: HostTensor, atol: f32| check(&exp, name, got, atol);
    check(
        "last_hidden_state",
        HostTensor::from_tensor(out.last_hidden_state.clone()),
        1e-4,
    );
    check_layers(&exp, &out.hidden_states, &out.attentions, 2);
    let d = check("logits", HostTensor::from_tensor(p.model.logits(&db)), 1e-4);
    eprintln!("logits max abs diff vs transformers: {d:e}");
    // The fused inference path and the explicit one agree.
    let explicit = p.model.head(out.last_hidden_state);
    check("logits", HostTensor::from_tensor(explicit), 1e-4);
}

#[test]
fn export_round_trip_writes_every_hf_tensor() {
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let p = load_mlm(&fixture_dir(), &device).unwrap();
    let (original, _) = load_safetensors(&fixture_dir().join("model.safetensors")).unwrap();
    let ours = mlm_state_dict(&p.model);
    let mut theirs: Vec<_> = original.keys().cloned().collect();
    let mut mine: Vec<_> = ours.keys().cloned().collect();
    theirs.sort();
    mine.sort();
    assert_eq!(mine, theirs, "tensor names differ from transformers'");
    for (k, t) in &original {
        assert_eq!(&ours[k], t, "{k} changed on the way through dnalm");
    }
}

/// A `BertModel` checkpoint (what `BertModel.save_pretrained` writes: no
/// `bert.` prefix, a pooler, no MLM head) loads with a fresh head and the
/// same encoder outputs.
#[test]
fn bert_model_checkpoint_loads_with_a_fresh_head() {
    let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let (original, _) = load_safetensors(&fixture_dir().join("model.safetensors")).unwrap();
    let mut body: StateDict = original
        .iter()
        .filter_map(|(k, t)| k.strip_prefix("bert.").map(|k| (k.to_string(), t.clone())))
        .collect();
    let h = body["embeddings.word_embeddings.weight"].shape[1];
    body.insert(
        "pooler.dense.weight".into(),
        HostTensor {
            shape: vec![h, h],
            data: vec![0.0; h * h],
        },
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture_dir().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    dnalm_model::weights::save_safetensors(&dir.path().join("model.safetensors"), &body).unwrap();
    let p = load_mlm(dir.path(), &device).unwrap();
    assert!(
        p.fresh.iter().all(|n| n.starts_with("cls.")) && !p.fresh.is_empty(),
        "{:?}",
        p.fresh
    );
    let db = DeviceBatch::new(&fixture_batch(), &device);
    let got = p.model.encode(&db, Want::default()).last_hidden_state;
    let d = max_abs_diff(
        &HostTensor::from_tensor(got),
        &expected()["last_hidden_state"],
    );
    assert!(d <= 1e-4, "last_hidden_state differs by {d:e}");
}
