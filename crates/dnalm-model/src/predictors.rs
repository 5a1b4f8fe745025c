//! Small predictors over per-token encodings `[B, T, D]` -> one logit per
//! sequence, as DNABERT-Prom trains them on BERT encodings (or on one-hot
//! bases): a CNN, a plain RNN, an LSTM and a small Transformer. Each first
//! projects the input to `hidden` features, runs its sequence layer, pools
//! over the real (non-padding) positions (max for the CNN, mean for the
//! others) and ends in a linear layer to one logit.
//!
//! The LSTM is [`crate::lstm::Lstm`]; the Transformer is one BERT layer
//! ([`crate::bert`]) with learned positions, so both keep their PyTorch /
//! Hugging Face parameter layout.

use burn::module::{Module, Param};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Distribution, Tensor, TensorData};

use crate::bert::{DeviceBatch, Layer};
use crate::config::BertConfig;
use crate::error::{ModelError, Result};
use crate::layers::{Embedding, Linear};
use crate::lstm::Lstm;
use crate::Device;

/// Which sequence layer a [`Predictor`] has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PredictorKind {
    Cnn,
    Rnn,
    Lstm,
    Transformer,
}

impl PredictorKind {
    pub const ALL: [PredictorKind; 4] = [Self::Cnn, Self::Rnn, Self::Lstm, Self::Transformer];

    pub fn name(self) -> &'static str {
        match self {
            Self::Cnn => "CNN",
            Self::Rnn => "RNN",
            Self::Lstm => "LSTM",
            Self::Transformer => "Transformer",
        }
    }
}

impl std::str::FromStr for PredictorKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "cnn" => Ok(Self::Cnn),
            "rnn" => Ok(Self::Rnn),
            "lstm" => Ok(Self::Lstm),
            "transformer" => Ok(Self::Transformer),
            other => Err(ModelError::Config(format!(
                "unknown predictor {other:?} (cnn, rnn, lstm, transformer)"
            ))),
        }
    }
}

/// Sizes of a predictor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictorConfig {
    pub kind: PredictorKind,
    /// Features per input position (768 for DNABERT-base encodings, 4 for one-hot).
    pub input_dim: usize,
    /// Features inside the predictor.
    pub hidden: usize,
    /// CNN kernel width (odd: the output keeps the input length).
    pub kernel: usize,
    /// Longest input the Transformer's positions cover.
    pub max_len: usize,
    /// Transformer heads (must divide `hidden`).
    pub heads: usize,
    /// Dropout inside the Transformer layer.
    pub dropout: f64,
}

impl PredictorConfig {
    pub fn new(kind: PredictorKind, input_dim: usize) -> Self {
        Self {
            kind,
            input_dim,
            hidden: 64,
            kernel: 9,
            max_len: 512,
            heads: 4,
            dropout: 0.1,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::Config(m));
        if self.input_dim == 0 || self.hidden == 0 {
            return bad("predictor input and hidden sizes must be at least 1".into());
        }
        if self.kernel.is_multiple_of(2) {
            return bad(format!("CNN kernel {} must be odd", self.kernel));
        }
        if self.heads == 0 || !self.hidden.is_multiple_of(self.heads) {
            return bad(format!(
                "{} heads do not divide the hidden size {}",
                self.heads, self.hidden
            ));
        }
        Ok(())
    }

    /// The one-layer BERT configuration of the Transformer predictor.
    fn layer_config(&self) -> Result<BertConfig> {
        let mut c = BertConfig::preset("tiny", Some(1))?;
        c.hidden_size = self.hidden;
        c.num_hidden_layers = 1;
        c.num_attention_heads = self.heads;
        c.intermediate_size = 2 * self.hidden;
        c.hidden_dropout_prob = self.dropout;
        c.attention_probs_dropout_prob = self.dropout;
        c.max_position_embeddings = self.max_len;
        c.dnalm_preset = None;
        Ok(c)
    }
}

/// A 1-D convolution over positions, weight `[out, in, kernel]` (PyTorch's `nn.Conv1d`).
#[derive(Module, Debug)]
pub struct Conv1d {
    pub weight: Param<Tensor<3>>,
    pub bias: Param<Tensor<1>>,
}

/// A plain (Elman) RNN layer with tanh, PyTorch's `nn.RNN` layout.
#[derive(Module, Debug)]
pub struct Rnn {
    pub weight_ih: Param<Tensor<2>>,
    pub weight_hh: Param<Tensor<2>>,
    pub bias_ih: Param<Tensor<1>>,
    pub bias_hh: Param<Tensor<1>>,
}

impl Rnn {
    fn new(h: usize, device: &Device) -> Self {
        let k = 1.0 / (h as f64).sqrt();
        let u = Distribution::Uniform(-k, k);
        Self {
            weight_ih: Param::from_tensor(crate::init::random([h, h], u, device)),
            weight_hh: Param::from_tensor(crate::init::random([h, h], u, device)),
            bias_ih: Param::from_tensor(crate::init::random([h], u, device)),
            bias_hh: Param::from_tensor(crate::init::random([h], u, device)),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, h] = x.dims();
        let bias = self.bias_ih.val() + self.bias_hh.val();
        let xw = burn::tensor::module::linear(x, self.weight_ih.val().transpose(), Some(bias));
        let w_hh = self.weight_hh.val().transpose();
        let mut hs = Tensor::<2>::zeros([b, h], &xw.device());
        let mut out = Vec::with_capacity(t);
        for step in 0..t {
            let pre = xw
                .clone()
                .slice([0..b, step..step + 1, 0..h])
                .reshape([b, h])
                + hs.matmul(w_hh.clone());
            hs = tanh(pre);
            out.push(hs.clone());
        }
        Tensor::stack(out, 1)
    }
}

/// A predictor: input projection, one sequence layer, pooling, one logit.
#[derive(Module, Debug)]
pub struct Predictor {
    pub input: Linear,
    pub conv: Option<Conv1d>,
    pub rnn: Option<Rnn>,
    pub lstm: Option<Lstm>,
    pub position: Option<Embedding>,
    pub layer: Option<Layer>,
    pub output: Linear,
    #[module(skip)]
    pub kind: PredictorKind,
}

impl Predictor {
    /// A fresh predictor; its random weights come from `device`'s generator
    /// (seed it first for a repeatable run).
    pub fn new(c: &PredictorConfig, device: &Device) -> Result<Self> {
        c.validate()?;
        let h = c.hidden;
        let std_in = (1.0 / c.input_dim as f64).sqrt();
        let mut p = Self {
            input: Linear::new(c.input_dim, h, std_in, device),
            conv: None,
            rnn: None,
            lstm: None,
            position: None,
            layer: None,
            output: Linear::new(h, 1, (1.0 / h as f64).sqrt(), device),
            kind: c.kind,
        };
        match c.kind {
            PredictorKind::Cnn => {
                let k = (1.0 / (h * c.kernel) as f64).sqrt();
                let u = Distribution::Uniform(-k, k);
                p.conv = Some(Conv1d {
                    weight: Param::from_tensor(crate::init::random([h, h, c.kernel], u, device)),
                    bias: Param::from_tensor(crate::init::random([h], u, device)),
                });
            }
            PredictorKind::Rnn => p.rnn = Some(Rnn::new(h, device)),
            PredictorKind::Lstm => p.lstm = Some(Lstm::new(h, 1, device)),
            PredictorKind::Transformer => {
                let lc = c.layer_config()?;
                p.position = Some(Embedding::new(c.max_len, h, 0.02, None, device));
                p.layer = Some(Layer::new(&lc, device));
            }
        }
        Ok(p)
    }

    /// Logits `[B]` for encodings `x` `[B, T, D]`. `batch` carries the
    /// attention mask of `x` (padding at the end of a row) and the dropout
    /// seed; `mask` is the same mask on the host, `[B * T]`.
    pub fn forward(&self, x: Tensor<3>, batch: &DeviceBatch, mask: &[i64]) -> Result<Tensor<1>> {
        let [b, t, _] = x.dims();
        if mask.len() != b * t {
            return Err(ModelError::Input(format!(
                "mask of {} values for a [{b}, {t}] batch",
                mask.len()
            )));
        }
        let device = x.device();
        let mut y = self.input.forward(x);
        let h = y.dims()[2];
        if let Some(conv) = &self.conv {
            let k = conv.weight.dims()[2];
            let opts = burn::tensor::ops::ConvOptions::new([1], [k / 2], [1], 1);
            let z = burn::tensor::module::conv1d(
                y.swap_dims(1, 2),
                conv.weight.val(),
                Some(conv.bias.val()),
                opts,
            );
            y = relu(z).swap_dims(1, 2);
        }
        if let Some(rnn) = &self.rnn {
            y = rnn.forward(y);
        }
        if let Some(lstm) = &self.lstm {
            y = lstm.forward(y);
        }
        if let (Some(pos), Some(layer)) = (&self.position, &self.layer) {
            let max = pos.weight.dims()[0];
            if t > max {
                return Err(ModelError::Input(format!(
                    "{t} positions, the Transformer predictor covers {max}"
                )));
            }
            let table = pos.weight.val().slice([0..t, 0..h]).unsqueeze::<3>();
            y = layer.forward(y + table, batch, false).0;
        }
        let m: Vec<f32> = mask.iter().map(|&v| (v != 0) as u8 as f32).collect();
        let mask_t = Tensor::<3>::from_data(TensorData::new(m, [b, t, 1]), &device);
        let pooled = if self.kind == PredictorKind::Cnn {
            // Padding gets a large negative value so it never wins the max.
            let off = (mask_t.clone() - 1.0) * 1e4;
            (y + off).max_dim(1).reshape([b, h])
        } else {
            let counts = mask_t.clone().sum_dim(1).clamp_min(1.0);
            (y * mask_t).sum_dim(1).div(counts).reshape([b, h])
        };
        Ok(self.output.forward(pooled).reshape([b]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bert::BatchInput;

    #[test]
    fn every_kind_gives_one_logit_per_row_and_ignores_padding() {
        let device = crate::device(crate::Backend::Cpu).unwrap();
        for kind in PredictorKind::ALL {
            let mut c = PredictorConfig::new(kind, 4);
            c.hidden = 8;
            c.heads = 2;
            c.kernel = 3;
            let p = crate::seeded(3, || Predictor::new(&c, &device)).unwrap();
            // Row 0 has 5 real positions; row 1 is row 0's first 3 + 2 pads.
            let vals: Vec<f32> = (0..40).map(|i| ((i * 7 % 11) as f32) / 11.0).collect();
            let mut v2 = vals.clone();
            for x in &mut v2[20 + 12..40] {
                *x = 9.0; // padding content must not matter
            }
            let x = Tensor::<3>::from_data(TensorData::new(v2, [2, 5, 4]), &device);
            let mask = vec![1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
            let input = BatchInput {
                input_ids: vec![0; 10],
                attention_mask: mask.clone(),
                token_type_ids: None,
                batch_size: 2,
                seq_len: 5,
            };
            let db = DeviceBatch::new(&input, &device);
            let y = p.forward(x, &db, &mask).unwrap();
            assert_eq!(y.dims(), [2], "{kind:?}");
            // Row 1 alone with 3 positions must give the same logit.
            let short: Vec<f32> = vals[20..32].to_vec();
            let xs = Tensor::<3>::from_data(TensorData::new(short, [1, 3, 4]), &device);
            let m1 = vec![1, 1, 1];
            let in1 = BatchInput::unpadded(vec![0; 3], 1, 3);
            let y1 = p
                .forward(xs, &DeviceBatch::new(&in1, &device), &m1)
                .unwrap();
            let a: Vec<f32> = y.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
            let b: Vec<f32> = y1.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
            if kind != PredictorKind::Cnn {
                // A forward RNN/LSTM never sees later padding; the mean and
                // the attention skip it.
                assert!((a[1] - b[0]).abs() < 1e-4, "{kind:?}: {} vs {}", a[1], b[0]);
            }
            assert!(a.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn bad_sizes_are_errors() {
        let mut c = PredictorConfig::new(PredictorKind::Cnn, 4);
        c.kernel = 4;
        assert!(c.validate().is_err());
        let mut c = PredictorConfig::new(PredictorKind::Transformer, 4);
        c.heads = 3;
        assert!(c.validate().is_err());
        assert!("gru".parse::<PredictorKind>().is_err());
        assert_eq!(
            "LSTM".parse::<PredictorKind>().unwrap(),
            PredictorKind::Lstm
        );
    }
}
