//! Small predictors over per-token encodings `[B, T, D]` -> one logit per
//! sequence. Two families:
//!
//! - **Pooled** (as DNABERT-Prom trains them on BERT encodings or one-hot
//!   bases): a CNN, a plain RNN, an LSTM and a small Transformer. Each first
//!   projects the input to `hidden` features, runs its sequence layer, pools
//!   over the real (non-padding) positions (max for the CNN, mean for the
//!   others) and ends in a linear layer to one logit. Pooling throws away
//!   *where* a feature was seen.
//! - **Position-aware**: they end in a dense layer over every position, so
//!   where a motif sits relative to the window (the TSS) counts.
//!   `deepromoter` is DeePromoter's architecture: parallel convolutions of
//!   widths 27, 14 and 7 (ReLU, max-pool 6), a bidirectional LSTM, then a
//!   dense layer over all pooled positions. `cnn-dense` is a stack of three
//!   convolutions, each with batch norm, ReLU and max-pool 2, then the same
//!   dense head. Both read a fixed number of positions (`positions`);
//!   shorter inputs are zero-padded at the end.
//!
//! The LSTM is [`crate::lstm::Lstm`]; the Transformer is one BERT layer
//! ([`crate::bert`]) with learned positions, so both keep their PyTorch /
//! Hugging Face parameter layout. Batch norm keeps PyTorch's names
//! (`weight`, `bias`, `running_mean`, `running_var`); its running statistics
//! are not trained by the optimiser but set from training batches by
//! [`Predictor::calibrate`].

use burn::module::{Module, Param};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::module::max_pool1d;
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Distribution, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::bert::{DeviceBatch, Layer};
use crate::config::BertConfig;
use crate::error::{ModelError, Result};
use crate::layers::{Embedding, Linear};
use crate::lstm::Lstm;
use crate::Device;

/// Which sequence layer a [`Predictor`] has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PredictorKind {
    Cnn,
    Rnn,
    Lstm,
    Transformer,
    /// DeePromoter: parallel convolutions, bidirectional LSTM, dense over positions.
    Deepromoter,
    /// Convolutions with batch norm and pooling, dense over positions.
    CnnDense,
}

impl PredictorKind {
    pub const ALL: [PredictorKind; 6] = [
        Self::Cnn,
        Self::Rnn,
        Self::Lstm,
        Self::Transformer,
        Self::Deepromoter,
        Self::CnnDense,
    ];
    /// The pooled (position-blind) kinds.
    pub const POOLED: [PredictorKind; 4] = [Self::Cnn, Self::Rnn, Self::Lstm, Self::Transformer];
    /// The kinds that see where a feature sits.
    pub const POSITIONAL: [PredictorKind; 2] = [Self::Deepromoter, Self::CnnDense];

    pub fn name(self) -> &'static str {
        match self {
            Self::Cnn => "CNN",
            Self::Rnn => "RNN",
            Self::Lstm => "LSTM",
            Self::Transformer => "Transformer",
            Self::Deepromoter => "DeePromoter",
            Self::CnnDense => "CNN-dense",
        }
    }

    /// The name on the command line and in folder names.
    pub fn key(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::Rnn => "rnn",
            Self::Lstm => "lstm",
            Self::Transformer => "transformer",
            Self::Deepromoter => "deepromoter",
            Self::CnnDense => "cnn-dense",
        }
    }

    /// Whether the kind ends in a dense layer over positions.
    pub fn is_positional(self) -> bool {
        Self::POSITIONAL.contains(&self)
    }
}

impl std::str::FromStr for PredictorKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        let low = s.to_ascii_lowercase().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|k| k.key() == low)
            .ok_or_else(|| {
                ModelError::Config(format!(
                    "unknown predictor {s:?} ({})",
                    Self::ALL.map(|k| k.key()).join(", ")
                ))
            })
    }
}

/// Sizes of a predictor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictorConfig {
    pub kind: PredictorKind,
    /// Features per input position (768 for DNABERT-base encodings, 4 for one-hot).
    pub input_dim: usize,
    /// Features inside the predictor (pooled kinds; the LSTM of `deepromoter`, per direction).
    pub hidden: usize,
    /// CNN kernel width (odd: the output keeps the input length); also `cnn-dense`'s.
    pub kernel: usize,
    /// Longest input the Transformer's positions cover.
    pub max_len: usize,
    /// Transformer heads (must divide `hidden`).
    pub heads: usize,
    /// Dropout inside the Transformer layer and before/after the dense layer.
    pub dropout: f64,
    /// Positions a position-aware predictor reads (inputs are padded to it).
    pub positions: usize,
    /// Convolution filters (per width for `deepromoter`, per layer for `cnn-dense`).
    pub filters: usize,
    /// `deepromoter`'s convolution widths.
    pub widths: [usize; 3],
    /// `deepromoter`'s max-pool width (and stride).
    pub pool: usize,
    /// Features of the dense layer over positions.
    pub dense: usize,
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
            positions: 0,
            filters: 32,
            widths: [27, 14, 7],
            pool: 6,
            dense: 128,
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
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout {} must be in [0, 1)", self.dropout));
        }
        if self.kind.is_positional() {
            if self.filters == 0 || self.dense == 0 || self.pool == 0 {
                return bad("filters, dense size and pool must be at least 1".into());
            }
            if self.widths.contains(&0) {
                return bad("convolution widths must be at least 1".into());
            }
            if self.pooled_positions() == 0 {
                return bad(format!(
                    "{} positions leave nothing after pooling ({} reads at least {})",
                    self.positions,
                    self.kind.key(),
                    match self.kind {
                        PredictorKind::Deepromoter => self.pool,
                        _ => 1 << CNN_DENSE_LAYERS,
                    }
                ));
            }
        }
        Ok(())
    }

    /// Positions left after the pooling of a position-aware kind.
    pub fn pooled_positions(&self) -> usize {
        match self.kind {
            PredictorKind::Deepromoter => self.positions / self.pool,
            PredictorKind::CnnDense => (0..CNN_DENSE_LAYERS).fold(self.positions, |p, _| p / 2),
            _ => 0,
        }
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

/// Convolution layers of `cnn-dense` (each halves the positions).
pub const CNN_DENSE_LAYERS: usize = 3;

/// A 1-D convolution over positions, weight `[out, in, kernel]` (PyTorch's `nn.Conv1d`).
#[derive(Module, Debug)]
pub struct Conv1d {
    pub weight: Param<Tensor<3>>,
    pub bias: Param<Tensor<1>>,
}

impl Conv1d {
    /// PyTorch's initialisation: uniform in ±1/sqrt(in * width).
    pub(crate) fn new(d_in: usize, d_out: usize, width: usize, device: &Device) -> Self {
        let k = 1.0 / ((d_in * width) as f64).sqrt();
        let u = Distribution::Uniform(-k, k);
        Self {
            weight: Param::from_tensor(crate::init::random([d_out, d_in, width], u, device)),
            bias: Param::from_tensor(crate::init::random([d_out], u, device)),
        }
    }

    /// `[B, in, L] -> [B, out, L]`: zero padding of width/2 on both sides,
    /// the output cut to L (PyTorch's `padding="same"` for odd widths; for
    /// an even width the one extra position at the end is dropped).
    pub(crate) fn forward_same(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, _, l] = x.dims();
        let w = self.weight.dims();
        let opts = ConvOptions::new([1], [w[2] / 2], [1], 1);
        let y = burn::tensor::module::conv1d(x, self.weight.val(), Some(self.bias.val()), opts);
        if y.dims()[2] == l {
            y
        } else {
            y.slice([0..b, 0..w[0], 0..l])
        }
    }
}

/// Batch normalisation over the channels of `[B, C, L]` (PyTorch's
/// `nn.BatchNorm1d`, eps 1e-5). On an autodiff device (training) it
/// normalises with the batch's statistics; elsewhere with the running ones,
/// which [`Predictor::calibrate`] sets.
#[derive(Module, Debug)]
pub struct BatchNorm {
    pub weight: Param<Tensor<1>>,
    pub bias: Param<Tensor<1>>,
    pub running_mean: Param<Tensor<1>>,
    pub running_var: Param<Tensor<1>>,
}

const BN_EPS: f64 = 1e-5;

impl BatchNorm {
    fn new(c: usize, device: &Device) -> Self {
        Self {
            weight: Param::from_tensor(Tensor::ones([c], device)),
            bias: Param::from_tensor(Tensor::zeros([c], device)),
            running_mean: Param::from_tensor(Tensor::zeros([c], device)).set_require_grad(false),
            running_var: Param::from_tensor(Tensor::ones([c], device)).set_require_grad(false),
        }
    }

    /// Normalise `x`; with `record`, use the batch's statistics and push
    /// them (per-channel mean and biased variance) to `record`.
    fn forward(&self, x: Tensor<3>, record: Option<&mut Vec<(Vec<f32>, Vec<f32>)>>) -> Tensor<3> {
        let [_, c, _] = x.dims();
        let shape = |t: Tensor<1>| t.reshape([1, c, 1]);
        let use_batch = record.is_some() || x.is_autodiff();
        let (mean, var) = if use_batch {
            let mean = x.clone().mean_dim(0).mean_dim(2);
            let centred = x.clone() - mean.clone();
            let var = (centred.clone() * centred).mean_dim(0).mean_dim(2);
            if let Some(r) = record {
                let host = |t: Tensor<3>| -> Vec<f32> {
                    t.into_data()
                        .convert::<f32>()
                        .try_to_vec::<f32>()
                        .unwrap_or_default()
                };
                r.push((host(mean.clone()), host(var.clone())));
            }
            (mean, var)
        } else {
            (
                shape(self.running_mean.val()),
                shape(self.running_var.val()),
            )
        };
        (x - mean) / (var + BN_EPS).sqrt() * shape(self.weight.val()) + shape(self.bias.val())
    }
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

/// A predictor: a sequence layer over the encodings, then pooling (the
/// pooled kinds) or a dense layer over every position (`deepromoter`,
/// `cnn-dense`), then one logit.
#[derive(Module, Debug)]
pub struct Predictor {
    /// Input projection of the pooled kinds.
    pub input: Option<Linear>,
    pub conv: Option<Conv1d>,
    pub rnn: Option<Rnn>,
    pub lstm: Option<Lstm>,
    pub position: Option<Embedding>,
    pub layer: Option<Layer>,
    /// `deepromoter`'s parallel convolutions, or `cnn-dense`'s stack.
    pub convs: Vec<Conv1d>,
    /// `cnn-dense`'s batch norms, one per convolution.
    pub norms: Vec<BatchNorm>,
    /// `deepromoter`'s backward LSTM (`lstm` is the forward one).
    pub lstm_reverse: Option<Lstm>,
    /// Dense layer over the flattened positions.
    pub dense: Option<Linear>,
    pub output: Linear,
    #[module(skip)]
    pub config: PredictorConfig,
}

impl Predictor {
    /// A fresh predictor; its random weights come from this thread's
    /// [`crate::seeded`] generator (or the device's).
    pub fn new(c: &PredictorConfig, device: &Device) -> Result<Self> {
        c.validate()?;
        let h = c.hidden;
        let mut p = Self {
            input: None,
            conv: None,
            rnn: None,
            lstm: None,
            position: None,
            layer: None,
            convs: Vec::new(),
            norms: Vec::new(),
            lstm_reverse: None,
            dense: None,
            output: Linear::new(h, 1, (1.0 / h as f64).sqrt(), device),
            config: *c,
        };
        if !c.kind.is_positional() {
            let std_in = (1.0 / c.input_dim as f64).sqrt();
            p.input = Some(Linear::new(c.input_dim, h, std_in, device));
        }
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
            PredictorKind::Deepromoter => {
                p.convs = c
                    .widths
                    .iter()
                    .map(|&w| Conv1d::new(c.input_dim, c.filters, w, device))
                    .collect();
                let width = c.widths.len() * c.filters;
                p.lstm = Some(Lstm::with_input(width, h, 1, device));
                p.lstm_reverse = Some(Lstm::with_input(width, h, 1, device));
            }
            PredictorKind::CnnDense => {
                let mut d_in = c.input_dim;
                for _ in 0..CNN_DENSE_LAYERS {
                    p.convs.push(Conv1d::new(d_in, c.filters, c.kernel, device));
                    p.norms.push(BatchNorm::new(c.filters, device));
                    d_in = c.filters;
                }
            }
        }
        if c.kind.is_positional() {
            let flat = c.pooled_positions() * Self::features_per_position(c);
            p.dense = Some(Linear::new(
                flat,
                c.dense,
                (1.0 / flat as f64).sqrt(),
                device,
            ));
            p.output = Linear::new(c.dense, 1, (1.0 / c.dense as f64).sqrt(), device);
        }
        Ok(p)
    }

    fn features_per_position(c: &PredictorConfig) -> usize {
        match c.kind {
            PredictorKind::Deepromoter => 2 * c.hidden,
            _ => c.filters,
        }
    }

    /// Logits `[B]` for encodings `x` `[B, T, D]`. `batch` carries the
    /// attention mask of `x` (padding at the end of a row) and the dropout
    /// seed; `mask` is the same mask on the host, `[B * T]`.
    pub fn forward(&self, x: Tensor<3>, batch: &DeviceBatch, mask: &[i64]) -> Result<Tensor<1>> {
        self.forward_impl(x, batch, mask, None)
    }

    /// Set every batch norm's running statistics to the mean over `batches`
    /// (each `(x, mask)` as [`Predictor::forward`] takes them) of the
    /// statistics the training pass normalises with. A no-op for kinds
    /// without batch norm.
    pub fn calibrate(self, batches: &[(Tensor<3>, Vec<i64>)], batch: &DeviceBatch) -> Result<Self> {
        if self.norms.is_empty() || batches.is_empty() {
            return Ok(self);
        }
        let mut sums: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut rows = 0f64;
        for (x, mask) in batches {
            let n = x.dims()[0] as f64;
            let mut rec = Vec::new();
            self.forward_impl(x.clone(), batch, mask, Some(&mut rec))?;
            if sums.is_empty() {
                sums = rec
                    .iter()
                    .map(|(m, v)| (vec![0.0; m.len()], vec![0.0; v.len()]))
                    .collect();
            }
            for ((sm, sv), (m, v)) in sums.iter_mut().zip(&rec) {
                for (a, b) in sm.iter_mut().zip(m) {
                    *a += n * *b as f64;
                }
                for (a, b) in sv.iter_mut().zip(v) {
                    *a += n * *b as f64;
                }
            }
            rows += n;
        }
        let mut out = self;
        for (norm, (sm, sv)) in out.norms.iter_mut().zip(sums) {
            let device = norm.weight.val().device();
            let c = sm.len();
            let t = |v: Vec<f64>| {
                let v: Vec<f32> = v.into_iter().map(|x| (x / rows) as f32).collect();
                Param::from_tensor(Tensor::<1>::from_data(TensorData::new(v, [c]), &device))
                    .set_require_grad(false)
            };
            norm.running_mean = t(sm);
            norm.running_var = t(sv);
        }
        Ok(out)
    }

    fn forward_impl(
        &self,
        x: Tensor<3>,
        batch: &DeviceBatch,
        mask: &[i64],
        mut record: Option<&mut Vec<(Vec<f32>, Vec<f32>)>>,
    ) -> Result<Tensor<1>> {
        let [b, t, _] = x.dims();
        if mask.len() != b * t {
            return Err(ModelError::Input(format!(
                "mask of {} values for a [{b}, {t}] batch",
                mask.len()
            )));
        }
        let device = x.device();
        let m: Vec<f32> = mask.iter().map(|&v| (v != 0) as u8 as f32).collect();
        let mask_t = Tensor::<3>::from_data(TensorData::new(m, [b, t, 1]), &device);
        if self.config.kind.is_positional() {
            let c = &self.config;
            if t > c.positions {
                return Err(ModelError::Input(format!(
                    "{t} positions, the {} predictor reads {}",
                    c.kind.name(),
                    c.positions
                )));
            }
            // Padding positions read as zeros, up to the fixed length.
            let mut x = x * mask_t;
            if t < c.positions {
                let d = x.dims()[2];
                x = Tensor::cat(vec![x, Tensor::zeros([b, c.positions - t, d], &device)], 1);
            }
            let x = x.swap_dims(1, 2); // [B, D, L]
            let drop = burn::nn::DropoutConfig::new(c.dropout).init();
            let flat = match c.kind {
                PredictorKind::Deepromoter => {
                    let pool = MaxPoolOptions::new([c.pool]).with_stride([c.pool]);
                    let parts: Vec<Tensor<3>> = self
                        .convs
                        .iter()
                        .map(|conv| max_pool1d(relu(conv.forward_same(x.clone())), pool.clone()))
                        .collect();
                    let y = Tensor::cat(parts, 1).swap_dims(1, 2); // [B, P, 3F]
                    let y = crate::layers::dropout(&drop, y, batch);
                    let (fwd, rev) = match (&self.lstm, &self.lstm_reverse) {
                        (Some(f), Some(r)) => (f, r),
                        _ => {
                            return Err(ModelError::Config("DeePromoter without its LSTMs".into()))
                        }
                    };
                    let yf = fwd.forward(y.clone());
                    let yr = rev.forward(y.flip([1])).flip([1]);
                    let y = Tensor::cat(vec![yf, yr], 2);
                    let [_, p, f] = y.dims();
                    y.reshape([b, p * f])
                }
                _ => {
                    let pool = MaxPoolOptions::new([2]).with_stride([2]);
                    let mut y = x;
                    for (conv, norm) in self.convs.iter().zip(&self.norms) {
                        let z = norm.forward(conv.forward_same(y), record.as_deref_mut());
                        y = max_pool1d(relu(z), pool.clone());
                    }
                    // Position-major, as the DeePromoter flattening.
                    let y = y.swap_dims(1, 2);
                    let [_, p, f] = y.dims();
                    y.reshape([b, p * f])
                }
            };
            let dense = self.dense.as_ref().ok_or_else(|| {
                ModelError::Config("position-aware predictor without its dense layer".into())
            })?;
            let flat = crate::layers::dropout(&drop, flat, batch);
            let z = relu(dense.forward(flat));
            let z = crate::layers::dropout(&drop, z, batch);
            return Ok(self.output.forward(z).reshape([b]));
        }
        let input = self
            .input
            .as_ref()
            .ok_or_else(|| ModelError::Config("pooled predictor without its input layer".into()))?;
        let mut y = input.forward(x);
        let h = y.dims()[2];
        if let Some(conv) = &self.conv {
            let k = conv.weight.dims()[2];
            let opts = ConvOptions::new([1], [k / 2], [1], 1);
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
        let pooled = if self.config.kind == PredictorKind::Cnn {
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
            c.filters = 4;
            c.dense = 8;
            c.pool = 2;
            c.widths = [3, 2, 1];
            c.positions = 8;
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
                // the attention skip it; position-aware kinds read padding
                // as zeros up to their fixed length either way.
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
