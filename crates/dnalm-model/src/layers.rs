//! Small layers that store their parameters exactly as PyTorch does, so that
//! a module path maps to a Hugging Face tensor name with no reshaping: linear
//! weights are `[out, in]`, LayerNorm has `weight` / `bias`, embeddings are
//! `[num, dim]`. Initialisation follows `BertPreTrainedModel._init_weights`:
//! normal(0, initializer_range) for weights, zeros for biases, ones / zeros
//! for LayerNorm, the padding row of the word embeddings zeroed.

use burn::module::{Module, Param};
use burn::tensor::activation;
use burn::tensor::module::{embedding, layer_norm};
use burn::tensor::{Device, Distribution, Int, Tensor};

fn normal<const D: usize>(shape: [usize; D], std: f64, device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::random(
        shape,
        Distribution::Normal(0.0, std),
        device,
    ))
}

/// `y = x W^T + b` with `W` stored `[out, in]` (PyTorch's `nn.Linear`).
#[derive(Module, Debug)]
pub struct Linear {
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
}

impl Linear {
    pub fn new(d_in: usize, d_out: usize, std: f64, device: &Device) -> Self {
        Self {
            weight: normal([d_out, d_in], std, device),
            bias: Param::from_tensor(Tensor::zeros([d_out], device)),
        }
    }

    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        burn::tensor::module::linear(x, self.weight.val().transpose(), Some(self.bias.val()))
    }
}

/// LayerNorm over the last axis with `weight` and `bias`.
#[derive(Module, Debug)]
pub struct LayerNorm {
    pub weight: Param<Tensor<1>>,
    pub bias: Param<Tensor<1>>,
    pub eps: f64,
}

impl LayerNorm {
    pub fn new(d: usize, eps: f64, device: &Device) -> Self {
        Self {
            weight: Param::from_tensor(Tensor::ones([d], device)),
            bias: Param::from_tensor(Tensor::zeros([d], device)),
            eps,
        }
    }

    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        layer_norm(x, self.weight.val(), Some(self.bias.val()), self.eps)
    }
}

/// A lookup table `[num, dim]`.
#[derive(Module, Debug)]
pub struct Embedding {
    pub weight: Param<Tensor<2>>,
}

impl Embedding {
    /// `padding_idx`: that row starts at zero, as in PyTorch.
    pub fn new(
        num: usize,
        dim: usize,
        std: f64,
        padding_idx: Option<usize>,
        device: &Device,
    ) -> Self {
        let mut w = Tensor::random([num, dim], Distribution::Normal(0.0, std), device);
        if let Some(p) = padding_idx.filter(|&p| p < num) {
            w = w.slice_assign([p..p + 1, 0..dim], Tensor::zeros([1, dim], device));
        }
        Self {
            weight: Param::from_tensor(w),
        }
    }

    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        embedding(self.weight.val(), ids)
    }
}

/// The activation named by a config's `hidden_act`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Exact (erf) GELU: HF's `"gelu"`.
    Gelu,
    /// Tanh approximation: HF's `"gelu_new"`.
    GeluTanh,
    Relu,
}

impl Activation {
    pub fn from_name(name: &str) -> Self {
        match name {
            "gelu_new" => Self::GeluTanh,
            "relu" => Self::Relu,
            _ => Self::Gelu,
        }
    }

    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Gelu => activation::gelu(x),
            Self::GeluTanh => activation::gelu_approximate(x),
            Self::Relu => activation::relu(x),
        }
    }
}
