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
    Param::from_tensor(crate::init::random(
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

    /// Leading axes are folded into rows first, so `[B, T, in]` is one
    /// `[B*T, in] x [in, out]` product (and its backward two more), not B
    /// small products that each repack the weight.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let dims = x.dims();
        if D <= 2 {
            return burn::tensor::module::linear(
                x,
                self.weight.val().transpose(),
                Some(self.bias.val()),
            );
        }
        let d_in = dims[D - 1];
        let rows = dims[..D - 1].iter().product::<usize>();
        let y = x
            .reshape([rows, d_in])
            .matmul(self.weight.val().transpose())
            + self.bias.val().unsqueeze::<2>();
        let mut out = dims;
        out[D - 1] = self.weight.dims()[0];
        y.reshape(out)
    }
}

/// Hugging Face's GPT-2 `Conv1D`: `y = x W + b` with `W` stored `[in, out]`
/// (the transpose of [`Linear`]'s layout), so its tensors load unchanged.
#[derive(Module, Debug)]
pub struct Conv1d {
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
}

impl Conv1d {
    pub fn new(d_in: usize, d_out: usize, std: f64, device: &Device) -> Self {
        Self {
            weight: normal([d_in, d_out], std, device),
            bias: Param::from_tensor(Tensor::zeros([d_out], device)),
        }
    }

    /// Leading axes are folded into rows, as in [`Linear::forward`].
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let mut dims = x.dims();
        let d_in = dims[D - 1];
        let rows = dims[..D - 1].iter().product::<usize>();
        let y =
            x.reshape([rows, d_in]).matmul(self.weight.val()) + self.bias.val().unsqueeze::<2>();
        dims[D - 1] = self.weight.dims()[1];
        y.reshape(dims)
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
        let mut w = crate::init::random([num, dim], Distribution::Normal(0.0, std), device);
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

/// Below this many elements the mask is filled on one thread.
const DROPOUT_SERIAL: usize = 1 << 15;

/// Inverted dropout with burn's [`burn::nn::Dropout`] settings (its
/// probability and training switch; active only on an autodiff device), but
/// a faster mask: burn draws a Bernoulli float per element from one ChaCha
/// stream and then multiplies twice (15% of a tiny-model training step was
/// spent there). Each mask has one seed: the pass's next one when the batch
/// carries a dropout seed ([`crate::DeviceBatch::with_dropout_seed`]), else
/// one drawn from the device's generator (so runs stay keyed by
/// `device.seed`). The mask (0 or 1/(1-p)) is a counter-based hash of (seed,
/// element index), filled in parallel and the same for any thread count, then
/// applied with one multiplication.
pub fn dropout<const D: usize>(
    d: &burn::nn::Dropout,
    x: Tensor<D>,
    batch: &crate::DeviceBatch,
) -> Tensor<D> {
    if !d.training.is_enabled() || !x.device().is_autodiff() || d.prob == 0.0 {
        return x;
    }
    let device = x.device();
    let shape = x.shape();
    let n = shape.num_elements();
    let seed = batch.next_dropout_seed().unwrap_or_else(|| {
        // Two uniform f32 in [0, 1) give 46 random bits: the seed of this mask.
        let r: Vec<f32> = crate::init::random::<1>([2], Distribution::Default, &device)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 data");
        dnalm_seq::mix64(r[0].to_bits() as u64, r[1].to_bits() as u64)
    });
    let keep = 1.0 - d.prob;
    let scale = (1.0 / keep) as f32;
    // An element is dropped when its 32 hash bits fall below p * 2^32.
    let threshold = (d.prob * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
    // Two elements per hash (its low and high 32 bits); `start` is even.
    let fill = |start: usize, out: &mut [f32]| {
        let pick = |bits: u32| if bits < threshold { 0.0 } else { scale };
        for (p, pair) in out.chunks_mut(2).enumerate() {
            let h = dnalm_seq::mix64(seed, (start / 2 + p) as u64);
            pair[0] = pick(h as u32);
            if let Some(second) = pair.get_mut(1) {
                *second = pick((h >> 32) as u32);
            }
        }
    };
    let mut mask = vec![0f32; n];
    if n <= DROPOUT_SERIAL {
        fill(0, &mut mask);
    } else {
        use rayon::prelude::*;
        mask.par_chunks_mut(DROPOUT_SERIAL)
            .enumerate()
            .for_each(|(c, out)| fill(c * DROPOUT_SERIAL, out));
    }
    let mask = Tensor::<D>::from_data(burn::tensor::TensorData::new(mask, shape), &device);
    x * mask
}
