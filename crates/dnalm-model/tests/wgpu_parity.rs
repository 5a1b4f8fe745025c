//! The GPU path kept honest without a GPU: the same fixture model on burn's
//! `wgpu` backend gives the flex backend's logits. Built only with
//! `--features wgpu`; on a machine without a GPU, Debian's
//! `mesa-vulkan-drivers` (lavapipe) provides a software Vulkan adapter.
//!
//! cargo test -p dnalm-model --features wgpu --test wgpu_parity
#![cfg(feature = "wgpu")]

#[allow(dead_code)]
mod common {
    include!("common/fixture.rs");
}

use dnalm_model::pretrained::load_mlm;
use dnalm_model::weights::HostTensor;
use dnalm_model::DeviceBatch;

#[test]
fn wgpu_logits_match_flex() {
    let batch = common::fixture_batch();
    let cpu = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
    let gpu = dnalm_model::device(dnalm_model::Backend::Wgpu).unwrap();
    let a = load_mlm(&common::fixture_dir(), &cpu).unwrap();
    let b = load_mlm(&common::fixture_dir(), &gpu).unwrap();
    let la = HostTensor::from_tensor(a.model.logits(&DeviceBatch::new(&batch, &cpu)));
    let lb = HostTensor::from_tensor(b.model.logits(&DeviceBatch::new(&batch, &gpu)));
    assert_eq!(la.shape, lb.shape);
    let d = la
        .data
        .iter()
        .zip(&lb.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    eprintln!("wgpu vs flex: max |logits diff| {d:e}");
    assert!(d <= 1e-3, "wgpu and flex differ by {d:e}");
}
