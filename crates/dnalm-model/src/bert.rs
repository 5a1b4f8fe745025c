//! The BERT encoder, layer by layer as in Hugging Face's `modeling_bert.py`
//! (post-LN, learned absolute positions, GELU), with module paths that are
//! the Hugging Face tensor names (see [`crate::weights`]).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Int, Tensor};

use crate::attention::scaled_dot_product;
pub use crate::batch::{BatchInput, DeviceBatch};
use crate::config::BertConfig;
use crate::layers::{Activation, Embedding, LayerNorm, Linear};

#[derive(Module, Debug)]
pub struct Embeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl Embeddings {
    fn new(c: &BertConfig, device: &Device) -> Self {
        let std = c.initializer_range;
        Self {
            word_embeddings: Embedding::new(
                c.vocab_size,
                c.hidden_size,
                std,
                Some(c.pad_token_id),
                device,
            ),
            position_embeddings: Embedding::new(
                c.max_position_embeddings,
                c.hidden_size,
                std,
                None,
                device,
            ),
            token_type_embeddings: Embedding::new(
                c.type_vocab_size,
                c.hidden_size,
                std,
                None,
                device,
            ),
            layer_norm: LayerNorm::new(c.hidden_size, c.layer_norm_eps, device),
            dropout: DropoutConfig::new(c.hidden_dropout_prob).init(),
        }
    }

    fn forward(&self, batch: &DeviceBatch) -> Tensor<3> {
        let [_, t] = batch.input_ids.dims();
        let device = batch.input_ids.device();
        let words = self.word_embeddings.forward(batch.input_ids.clone());
        let positions = Tensor::<1, Int>::arange(0..t as i64, &device).reshape([1, t]);
        let positions = self.position_embeddings.forward(positions);
        let types = match &batch.token_type_ids {
            Some(tt) => self.token_type_embeddings.forward(tt.clone()),
            None => {
                let [_, h] = self.token_type_embeddings.weight.dims();
                self.token_type_embeddings
                    .weight
                    .val()
                    .slice([0..1, 0..h])
                    .reshape([1, 1, h])
            }
        };
        let x = words + positions + types;
        crate::layers::dropout(&self.dropout, self.layer_norm.forward(x), batch)
    }
}

/// Query, key and value projections (HF: `attention.self`).
#[derive(Module, Debug)]
pub struct SelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub dropout: Dropout,
    pub num_heads: usize,
}

/// HF: `attention.output` (and `output` after the FFN).
#[derive(Module, Debug)]
pub struct SelfOutput {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl SelfOutput {
    fn forward(&self, x: Tensor<3>, residual: Tensor<3>, batch: &DeviceBatch) -> Tensor<3> {
        let x = crate::layers::dropout(&self.dropout, self.dense.forward(x), batch);
        self.layer_norm.forward(x + residual)
    }
}

#[derive(Module, Debug)]
pub struct Attention {
    pub self_attn: SelfAttention,
    pub output: SelfOutput,
}

#[derive(Module, Debug)]
pub struct Intermediate {
    pub dense: Linear,
    #[module(skip)]
    pub act: Activation,
}

#[derive(Module, Debug)]
pub struct Layer {
    pub attention: Attention,
    pub intermediate: Intermediate,
    pub output: SelfOutput,
}

impl SelfAttention {
    /// Returns the context and, when asked, the attention probabilities
    /// `[B, heads, T, T]`.
    fn forward(
        &self,
        x: Tensor<3>,
        batch: &DeviceBatch,
        want_probs: bool,
    ) -> (Tensor<3>, Option<Tensor<4>>) {
        let [b, t, h] = x.dims();
        let heads = self.num_heads;
        let d = h / heads;
        let split = |y: Tensor<3>| y.reshape([b, t, heads, d]).swap_dims(1, 2);
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x));
        let (ctx, probs) = scaled_dot_product(q, k, v, batch, None, &self.dropout, want_probs);
        (ctx.swap_dims(1, 2).reshape([b, t, h]), probs)
    }
}

impl Layer {
    pub(crate) fn new(c: &BertConfig, device: &Device) -> Self {
        let (h, i, std) = (c.hidden_size, c.intermediate_size, c.initializer_range);
        let out = |d_in| SelfOutput {
            dense: Linear::new(d_in, h, std, device),
            layer_norm: LayerNorm::new(h, c.layer_norm_eps, device),
            dropout: DropoutConfig::new(c.hidden_dropout_prob).init(),
        };
        Self {
            attention: Attention {
                self_attn: SelfAttention {
                    query: Linear::new(h, h, std, device),
                    key: Linear::new(h, h, std, device),
                    value: Linear::new(h, h, std, device),
                    dropout: DropoutConfig::new(c.attention_probs_dropout_prob).init(),
                    num_heads: c.num_attention_heads,
                },
                output: out(h),
            },
            intermediate: Intermediate {
                dense: Linear::new(h, i, std, device),
                act: Activation::from_name(&c.hidden_act),
            },
            output: out(i),
        }
    }

    pub(crate) fn forward(
        &self,
        x: Tensor<3>,
        batch: &DeviceBatch,
        want_probs: bool,
    ) -> (Tensor<3>, Option<Tensor<4>>) {
        let (ctx, probs) = self
            .attention
            .self_attn
            .forward(x.clone(), batch, want_probs);
        let x = self.attention.output.forward(ctx, x, batch);
        let inter = self
            .intermediate
            .act
            .forward(self.intermediate.dense.forward(x.clone()));
        (self.output.forward(inter, x, batch), probs)
    }
}

#[derive(Module, Debug)]
pub struct Encoder {
    pub layer: Vec<Layer>,
}

/// What an encoder pass can return beside the last hidden state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// The embedding output and every layer's output (HF `hidden_states`).
    pub hidden_states: bool,
    /// Every layer's attention probabilities (HF `attentions`).
    pub attentions: bool,
}

#[derive(Debug, Clone)]
pub struct EncoderOutput {
    pub last_hidden_state: Tensor<3>,
    /// `num_hidden_layers + 1` tensors when asked: embeddings first.
    pub hidden_states: Vec<Tensor<3>>,
    /// `num_hidden_layers` tensors `[B, heads, T, T]` when asked.
    pub attentions: Vec<Tensor<4>>,
}

/// HF's `BertPooler`: a dense layer and tanh on the first token's state.
/// Only a sequence classifier has one (`bert.pooler.dense.*`).
#[derive(Module, Debug)]
pub struct Pooler {
    pub dense: Linear,
}

impl Pooler {
    pub fn new(c: &BertConfig, device: &Device) -> Self {
        Self {
            dense: Linear::new(c.hidden_size, c.hidden_size, c.initializer_range, device),
        }
    }

    /// `[B, T, H]` token states to `[B, H]`: tanh(dense(state of token 0)).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, _, h] = x.dims();
        let first = x.slice([0..b, 0..1, 0..h]).reshape([b, h]);
        burn::tensor::activation::tanh(self.dense.forward(first))
    }
}

/// The BERT body (HF `BertModel`); the pooler is there only in a sequence
/// classifier that has one, and [`BertModel::forward`] does not run it.
#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: Embeddings,
    pub encoder: Encoder,
    pub pooler: Option<Pooler>,
}

impl BertModel {
    pub fn new(c: &BertConfig, device: &Device) -> Self {
        Self {
            embeddings: Embeddings::new(c, device),
            encoder: Encoder {
                layer: (0..c.num_hidden_layers)
                    .map(|_| Layer::new(c, device))
                    .collect(),
            },
            pooler: None,
        }
    }

    pub fn forward(&self, batch: &DeviceBatch, want: Want) -> EncoderOutput {
        let mut x = self.embeddings.forward(batch);
        let mut hidden_states = Vec::new();
        let mut attentions = Vec::new();
        for layer in &self.encoder.layer {
            if want.hidden_states {
                hidden_states.push(x.clone());
            }
            let (y, probs) = layer.forward(x, batch, want.attentions);
            x = y;
            attentions.extend(probs);
        }
        if want.hidden_states {
            hidden_states.push(x.clone());
        }
        EncoderOutput {
            last_hidden_state: x,
            hidden_states,
            attentions,
        }
    }
}
