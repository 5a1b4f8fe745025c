//! A unidirectional LSTM stack between the encoder and the MLM head, as the
//! hybrid system and GROVER place it. Parameters use PyTorch's `nn.LSTM`
//! layout and names (`weight_ih_l0` `[4H, H]`, gates in i, f, g, o order), so
//! a Python user can load them into `torch.nn.LSTM(H, H, num_layers)`.

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Distribution, Tensor};

#[derive(Module, Debug)]
pub struct LstmLayer {
    pub weight_ih: Param<Tensor<2>>,
    pub weight_hh: Param<Tensor<2>>,
    pub bias_ih: Param<Tensor<1>>,
    pub bias_hh: Param<Tensor<1>>,
}

#[derive(Module, Debug)]
pub struct Lstm {
    pub layers: Vec<LstmLayer>,
}

impl Lstm {
    /// PyTorch's initialisation: every parameter uniform in ±1/sqrt(H).
    pub fn new(hidden: usize, num_layers: usize, device: &Device) -> Self {
        Self::with_input(hidden, hidden, num_layers, device)
    }

    /// An LSTM whose first layer reads `input` features (later layers read
    /// `hidden`), as `torch.nn.LSTM(input, hidden, num_layers)`.
    pub fn with_input(input: usize, hidden: usize, num_layers: usize, device: &Device) -> Self {
        let k = 1.0 / (hidden as f64).sqrt();
        let u = Distribution::Uniform(-k, k);
        let layers = (0..num_layers)
            .map(|l| LstmLayer {
                weight_ih: Param::from_tensor(crate::init::random(
                    [4 * hidden, if l == 0 { input } else { hidden }],
                    u,
                    device,
                )),
                weight_hh: Param::from_tensor(crate::init::random([4 * hidden, hidden], u, device)),
                bias_ih: Param::from_tensor(crate::init::random([4 * hidden], u, device)),
                bias_hh: Param::from_tensor(crate::init::random([4 * hidden], u, device)),
            })
            .collect();
        Self { layers }
    }

    /// `[B, T, H] -> [B, T, H]`, zero initial state. Padding sits at the end
    /// of a sequence, so it never reaches a real position of a forward LSTM.
    pub fn forward(&self, mut x: Tensor<3>) -> Tensor<3> {
        for layer in &self.layers {
            x = layer.forward(x);
        }
        x
    }
}

impl LstmLayer {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, _] = x.dims();
        let h = self.weight_hh.dims()[1];
        let device = x.device();
        // The input projection of every step at once; only the recurrent
        // product stays in the loop.
        let bias = self.bias_ih.val() + self.bias_hh.val();
        let xw = burn::tensor::module::linear(x, self.weight_ih.val().transpose(), Some(bias));
        let w_hh = self.weight_hh.val().transpose();
        let mut hs = Tensor::<2>::zeros([b, h], &device);
        let mut cs = Tensor::<2>::zeros([b, h], &device);
        let mut outputs = Vec::with_capacity(t);
        for step in 0..t {
            let gates = xw
                .clone()
                .slice([0..b, step..step + 1, 0..4 * h])
                .reshape([b, 4 * h])
                + hs.clone().matmul(w_hh.clone());
            let i = sigmoid(gates.clone().slice([0..b, 0..h]));
            let f = sigmoid(gates.clone().slice([0..b, h..2 * h]));
            let g = tanh(gates.clone().slice([0..b, 2 * h..3 * h]));
            let o = sigmoid(gates.slice([0..b, 3 * h..4 * h]));
            cs = f * cs + i * g;
            hs = o * tanh(cs.clone());
            outputs.push(hs.clone());
        }
        Tensor::stack(outputs, 1)
    }
}
