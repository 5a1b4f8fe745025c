//! A small convolutional classifier on bases: the next-k-mer task's
//! control without pre-training and without a tokenizer. Input: a fixed
//! number of bases as ids 0..4 (A, C, G, T); each base is one-hot coded
//! (the first layer is a 4 -> `embed` matrix, i.e. a one-hot vector times
//! a weight matrix), two "same" convolutions with ReLU, then a dense layer
//! over every position (so the model knows which bases are nearest the
//! prediction point), ReLU, dropout and a linear layer to the classes.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::bert::{BatchInput, DeviceBatch};
use crate::error::{ModelError, Result};
use crate::layers::{Embedding, Linear};
use crate::predictors::Conv1d;

/// Sizes of a [`KmerCnn`].
#[derive(Debug, Clone, PartialEq)]
pub struct KmerCnnConfig {
    /// Bases per input (all inputs have this length).
    pub input_len: usize,
    pub classes: usize,
    /// Width of the one-hot projection.
    pub embed: usize,
    /// Channels of both convolutions.
    pub channels: usize,
    /// Kernel width of both convolutions (odd).
    pub width: usize,
    /// Units of the dense layer.
    pub hidden: usize,
    pub dropout: f64,
}

impl KmerCnnConfig {
    /// Defaults sized for a CPU: 32-wide projection, 2 x 64 channels of
    /// width 7, 256 dense units, dropout 0.1.
    pub fn new(input_len: usize, classes: usize) -> Self {
        Self {
            input_len,
            classes,
            embed: 32,
            channels: 64,
            width: 7,
            hidden: 256,
            dropout: 0.1,
        }
    }
}

/// See the module documentation.
#[derive(Module, Debug)]
pub struct KmerCnn {
    pub embed: Embedding,
    pub conv1: Conv1d,
    pub conv2: Conv1d,
    pub dense: Linear,
    pub out: Linear,
    pub dropout: Dropout,
    #[module(skip)]
    pub input_len: usize,
}

impl KmerCnn {
    pub fn new(c: &KmerCnnConfig, device: &Device) -> Result<Self> {
        if c.input_len == 0 || c.classes < 2 || c.width.is_multiple_of(2) {
            return Err(ModelError::Config(format!(
                "base CNN: need input length > 0, at least 2 classes and an odd width, got {}, {}, {}",
                c.input_len, c.classes, c.width
            )));
        }
        let flat = c.channels * c.input_len;
        Ok(Self {
            embed: Embedding::new(4, c.embed, 1.0, None, device),
            conv1: Conv1d::new(c.embed, c.channels, c.width, device),
            conv2: Conv1d::new(c.channels, c.channels, c.width, device),
            dense: Linear::new(flat, c.hidden, (1.0 / flat as f64).sqrt(), device),
            out: Linear::new(c.hidden, c.classes, (1.0 / c.hidden as f64).sqrt(), device),
            dropout: DropoutConfig::new(c.dropout).init(),
            input_len: c.input_len,
        })
    }

    pub fn classes(&self) -> usize {
        self.out.weight.dims()[0]
    }

    /// Ids in 0..4 and exactly `input_len` of them per row.
    pub fn check_input(&self, batch: &BatchInput) -> Result<()> {
        if batch.seq_len != self.input_len
            || batch.input_ids.len() != batch.batch_size * batch.seq_len
        {
            return Err(ModelError::Input(format!(
                "the base CNN reads exactly {} bases per row, got rows of {}",
                self.input_len, batch.seq_len
            )));
        }
        if let Some(id) = batch.input_ids.iter().find(|&&i| !(0..4).contains(&i)) {
            return Err(ModelError::Input(format!(
                "the base CNN reads A, C, G, T as 0..4, got id {id}"
            )));
        }
        Ok(())
    }

    /// Logits `[B, classes]`.
    pub fn forward(&self, batch: &DeviceBatch) -> Tensor<2> {
        let [b, t] = batch.input_ids.dims();
        let x = self.embed.forward(batch.input_ids.clone()).swap_dims(1, 2);
        let x = relu(self.conv1.forward_same(x));
        let x = relu(self.conv2.forward_same(x));
        let c = x.dims()[1];
        let x = relu(self.dense.forward(x.reshape([b, c * t])));
        self.out
            .forward(crate::layers::dropout(&self.dropout, x, batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_bad_input() {
        let device = crate::device(crate::Backend::Cpu).unwrap();
        let c = KmerCnnConfig::new(6, 16);
        let m = crate::seeded(1, || KmerCnn::new(&c, &device)).unwrap();
        let ok = BatchInput::unpadded(vec![0, 1, 2, 3, 0, 1, 3, 3, 2, 1, 0, 0], 2, 6);
        m.check_input(&ok).unwrap();
        let y = m.forward(&DeviceBatch::new(&ok, &device));
        assert_eq!(y.dims(), [2, 16]);
        let short = BatchInput::unpadded(vec![0, 1, 2], 1, 3);
        assert!(m
            .check_input(&short)
            .unwrap_err()
            .to_string()
            .contains("6 bases"));
        let bad = BatchInput::unpadded(vec![0, 1, 2, 3, 4, 0], 1, 6);
        assert!(m
            .check_input(&bad)
            .unwrap_err()
            .to_string()
            .contains("id 4"));
        assert!(KmerCnn::new(&KmerCnnConfig { width: 4, ..c }, &device).is_err());
    }
}
