//! `seeded` draws what burn's own generator drew after `Device::seed`. This
//! is its own test binary (its own process) because burn's generator is
//! shared by the whole process: another test drawing at the same time would
//! disturb the burn side of the comparison.

use dnalm_model::{BertConfig, BertForMaskedLm, Device, Predictor, PredictorConfig, PredictorKind};

#[test]
fn seeded_models_equal_models_built_after_device_seed() {
    let device = Device::flex();
    let config = BertConfig::preset("tiny", Some(16)).unwrap();
    device.seed(5);
    let burn = BertForMaskedLm::new(&config, &device);
    let ours = dnalm_model::seeded(5, || BertForMaskedLm::new(&config, &device));
    assert_eq!(
        dnalm_model::weights::state_dict(&burn),
        dnalm_model::weights::state_dict(&ours)
    );
    for kind in PredictorKind::ALL {
        let mut pc = PredictorConfig::new(kind, 6);
        pc.positions = 48;
        device.seed(8);
        let burn = Predictor::new(&pc, &device).unwrap();
        let ours = dnalm_model::seeded(8, || Predictor::new(&pc, &device).unwrap());
        assert_eq!(
            dnalm_model::weights::state_dict(&burn),
            dnalm_model::weights::state_dict(&ours),
            "{kind:?}"
        );
    }
}
