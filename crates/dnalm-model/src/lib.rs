//! dnalm models on burn: the BERT encoder with an optional LSTM, the
//! masked-LM and sequence-classification heads, the GPT-2 causal LM
//! ([`gpt2`]), Hugging Face `config.json` and safetensors with HF tensor names.
//!
//! The backend sits behind one function, [`device`]: the pure-Rust `flex`
//! CPU backend by default, burn's `wgpu` with the `wgpu` cargo feature.
//!
//! ```
//! use dnalm_model::{BatchInput, BertConfig, BertForMaskedLm, DeviceBatch};
//!
//! let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
//! let config = BertConfig::preset("tiny", Some(16)).unwrap();
//! // Seeded initialisation, undisturbed by other threads: see [`init`].
//! let model = dnalm_model::seeded(1, || BertForMaskedLm::new(&config, &device));
//! // [CLS] 7 8 9 [SEP]
//! let batch = BatchInput::unpadded(vec![2, 7, 8, 9, 3], 1, 5);
//! model.check_input(&batch).unwrap();
//! let logits = model.logits(&DeviceBatch::new(&batch, &device));
//! assert_eq!(logits.dims(), [1, 5, 16]);
//! ```

pub mod attention;
pub mod batch;
pub mod bert;
pub mod config;
pub mod error;
pub mod finetuned;
pub mod gpt2;
pub mod gpt2_config;
pub mod gpt2_weights;
pub mod heads;
pub mod init;
pub mod kmer_cnn;
pub mod layers;
pub mod lstm;
pub mod predictors;
pub mod pretrained;
pub mod weights;

pub use bert::{BatchInput, BertModel, DeviceBatch, EncoderOutput, Pooler, Want};
pub use config::{BertConfig, PRESETS};
pub use error::{ModelError, Result};
pub use heads::{BertForMaskedLm, BertForSequenceClassification, MlmOutput, Pooling, IGNORE_LABEL};
pub use init::seeded;
pub use kmer_cnn::{KmerCnn, KmerCnnConfig};
pub use predictors::{Predictor, PredictorConfig, PredictorKind};
pub use weights::{HostTensor, StateDict};

pub use gpt2::{causal_labels, CausalLmOutput, Gpt2LmHeadModel, Gpt2Model};
pub use gpt2_config::{Gpt2Config, GPT2_PRESETS};

pub use burn::tensor::Device;

/// Where tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// burn's pure-Rust `flex` CPU backend (SIMD, rayon threads).
    #[default]
    Cpu,
    /// burn's `wgpu` backend on the first adapter (needs the `wgpu` feature).
    Wgpu,
}

impl std::str::FromStr for Backend {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" | "flex" => Ok(Self::Cpu),
            "wgpu" | "gpu" => Ok(Self::Wgpu),
            other => Err(ModelError::Config(format!(
                "unknown backend {other:?} (cpu, wgpu)"
            ))),
        }
    }
}

/// The device of a backend (without autodiff; call `.autodiff()` to train).
pub fn device(backend: Backend) -> Result<Device> {
    match backend {
        Backend::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        #[cfg(not(feature = "wgpu"))]
        Backend::Wgpu => Err(ModelError::Config(
            "this dnalm was built without the wgpu feature (cargo build --features wgpu)".into(),
        )),
    }
}
