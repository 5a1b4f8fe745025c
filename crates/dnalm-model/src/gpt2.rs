//! The GPT-2 causal language model, block by block as in Hugging Face's
//! `modeling_gpt2.py` (`GPT2LMHeadModel`): learned token and position
//! embeddings, pre-LN blocks (`x + attn(ln_1(x))`, `x + mlp(ln_2(x))`), a
//! final `ln_f`, attention that sees only earlier real tokens (causal mask
//! plus padding mask), and an LM head tied to the token embeddings. Module
//! paths are the HF tensor names (`transformer.h.0.attn.c_attn.weight`), and
//! the projections are HF's `Conv1D` (`[in, out]` weights), so checkpoints
//! load with no renaming or transposing (see [`crate::gpt2_weights`]).
//!
//! The genome book (SPEC section 4) is built on this model; the masked-LM
//! BERT of [`crate::bert`] shares its attention core
//! ([`crate::attention::scaled_dot_product`]), layers and batch types.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::attention::{biased_dot_product, causal_bias, scaled_dot_product};
use crate::bert::{BatchInput, DeviceBatch, EncoderOutput, Want};
use crate::error::{ModelError, Result};
use crate::gpt2_config::Gpt2Config;
use crate::heads::{check_batch_sizes, loss_at_rows, MlmOutput, IGNORE_LABEL};
use crate::layers::{dropout, Activation, Conv1d, Embedding, LayerNorm};

/// HF: `transformer.h.{i}.attn`.
#[derive(Module, Debug)]
pub struct Gpt2Attention {
    /// Query, key and value in one `[n_embd, 3 * n_embd]` projection.
    pub c_attn: Conv1d,
    pub c_proj: Conv1d,
    pub attn_dropout: Dropout,
    pub resid_dropout: Dropout,
    pub num_heads: usize,
}

/// Which keys a query sees: the causal mask (fused kernel when it can), or
/// any additive bias (explicit softmax path).
#[derive(Clone, Copy)]
enum AttnMask<'a> {
    Causal(&'a Tensor<4>),
    Bias(&'a Tensor<4>),
}

impl Gpt2Attention {
    fn forward(
        &self,
        x: Tensor<3>,
        batch: &DeviceBatch,
        mask: AttnMask<'_>,
        want_probs: bool,
    ) -> (Tensor<3>, Option<Tensor<4>>) {
        let [b, t, h] = x.dims();
        let heads = self.num_heads;
        let d = h / heads;
        let qkv = self.c_attn.forward(x);
        let part = |i: usize| {
            qkv.clone()
                .slice([0..b, 0..t, i * h..(i + 1) * h])
                .reshape([b, t, heads, d])
                .swap_dims(1, 2)
        };
        let (ctx, probs) = match mask {
            AttnMask::Causal(causal) => scaled_dot_product(
                part(0),
                part(1),
                part(2),
                batch,
                Some(causal),
                &self.attn_dropout,
                want_probs,
            ),
            AttnMask::Bias(bias) => biased_dot_product(
                part(0),
                part(1),
                part(2),
                batch,
                bias,
                &self.attn_dropout,
                want_probs,
            ),
        };
        let ctx = ctx.swap_dims(1, 2).reshape([b, t, h]);
        let out = dropout(&self.resid_dropout, self.c_proj.forward(ctx), batch);
        (out, probs)
    }
}

/// HF: `transformer.h.{i}.mlp`.
#[derive(Module, Debug)]
pub struct Gpt2Mlp {
    pub c_fc: Conv1d,
    pub c_proj: Conv1d,
    #[module(skip)]
    pub act: Activation,
    pub dropout: Dropout,
}

/// HF: `transformer.h.{i}`, a pre-LN block.
#[derive(Module, Debug)]
pub struct Gpt2Block {
    pub ln_1: LayerNorm,
    pub attn: Gpt2Attention,
    pub ln_2: LayerNorm,
    pub mlp: Gpt2Mlp,
}

impl Gpt2Block {
    fn new(c: &Gpt2Config, device: &Device) -> Self {
        let (h, std) = (c.n_embd, c.initializer_range);
        // HF's GPT-2 init: the projections into the residual stream get
        // std / sqrt(2 * n_layer) ("scaled residual init").
        let proj_std = std / (2.0 * c.n_layer as f64).sqrt();
        let drop = |p: f64| DropoutConfig::new(p).init();
        Self {
            ln_1: LayerNorm::new(h, c.layer_norm_epsilon, device),
            attn: Gpt2Attention {
                c_attn: Conv1d::new(h, 3 * h, std, device),
                c_proj: Conv1d::new(h, h, proj_std, device),
                attn_dropout: drop(c.attn_pdrop),
                resid_dropout: drop(c.resid_pdrop),
                num_heads: c.n_head,
            },
            ln_2: LayerNorm::new(h, c.layer_norm_epsilon, device),
            mlp: Gpt2Mlp {
                c_fc: Conv1d::new(h, c.inner(), std, device),
                c_proj: Conv1d::new(c.inner(), h, proj_std, device),
                act: Activation::from_name(&c.activation_function),
                dropout: drop(c.resid_pdrop),
            },
        }
    }

    fn forward(
        &self,
        x: Tensor<3>,
        batch: &DeviceBatch,
        mask: AttnMask<'_>,
        want_probs: bool,
    ) -> (Tensor<3>, Option<Tensor<4>>) {
        let (a, probs) = self
            .attn
            .forward(self.ln_1.forward(x.clone()), batch, mask, want_probs);
        let x = x + a;
        let m = &self.mlp;
        let y = m
            .c_proj
            .forward(m.act.forward(m.c_fc.forward(self.ln_2.forward(x.clone()))));
        (x + dropout(&m.dropout, y, batch), probs)
    }
}

/// The GPT-2 body (HF `GPT2Model`, `transformer.*`).
#[derive(Module, Debug)]
pub struct Gpt2Model {
    pub wte: Embedding,
    pub wpe: Embedding,
    pub drop: Dropout,
    pub h: Vec<Gpt2Block>,
    pub ln_f: LayerNorm,
}

impl Gpt2Model {
    pub fn new(c: &Gpt2Config, device: &Device) -> Self {
        let std = c.initializer_range;
        Self {
            wte: Embedding::new(c.vocab_size, c.n_embd, std, None, device),
            wpe: Embedding::new(c.n_positions, c.n_embd, std, None, device),
            drop: DropoutConfig::new(c.embd_pdrop).init(),
            h: (0..c.n_layer).map(|_| Gpt2Block::new(c, device)).collect(),
            ln_f: LayerNorm::new(c.n_embd, c.layer_norm_epsilon, device),
        }
    }

    /// Hidden states after `ln_f` (`[B, T, n_embd]`), plus what `want` asks
    /// for: HF's `hidden_states` (`n_layer + 1` tensors: the embeddings,
    /// the outputs of blocks `0..n_layer-1`, and `ln_f` of the last block)
    /// and every block's attention probabilities `[B, heads, T, T]`.
    /// Positions are `0..T` whatever the padding, as HF does without
    /// `position_ids`; so pad on the right.
    pub fn forward(&self, batch: &DeviceBatch, want: Want) -> EncoderOutput {
        let [_, t] = batch.input_ids.dims();
        let device = batch.input_ids.device();
        let positions = Tensor::<1, Int>::arange(0..t as i64, &device).reshape([1, t]);
        let causal = causal_bias(t, &device);
        self.run(batch, positions, AttnMask::Causal(&causal), want)
    }

    /// [`Self::forward`] with explicit position ids (`[1 | B, T]`, each below
    /// `n_positions`) and an explicit additive attention bias
    /// (`[1 | B, 1 | heads, T, T]`: 0 where query `i` may see key `j`,
    /// [`crate::batch::MASKED_SCORE`] where not) in place of the causal
    /// mask; the batch's padding mask still applies. Always the explicit
    /// softmax path. Shapes are the caller's to get right:
    /// [`Gpt2LmHeadModel::logits_with_bias`] checks them.
    pub fn forward_with_bias(
        &self,
        batch: &DeviceBatch,
        positions: Tensor<2, Int>,
        bias: &Tensor<4>,
        want: Want,
    ) -> EncoderOutput {
        self.run(batch, positions, AttnMask::Bias(bias), want)
    }

    fn run(
        &self,
        batch: &DeviceBatch,
        positions: Tensor<2, Int>,
        mask: AttnMask<'_>,
        want: Want,
    ) -> EncoderOutput {
        let x = self.wte.forward(batch.input_ids.clone()) + self.wpe.forward(positions);
        let mut x = dropout(&self.drop, x, batch);
        let mut hidden_states = Vec::new();
        let mut attentions = Vec::new();
        for block in &self.h {
            if want.hidden_states {
                hidden_states.push(x.clone());
            }
            let (y, probs) = block.forward(x, batch, mask, want.attentions);
            x = y;
            attentions.extend(probs);
        }
        let x = self.ln_f.forward(x);
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

/// The causal LM: HF `GPT2LMHeadModel`, the head tied to `transformer.wte`.
#[derive(Module, Debug)]
pub struct Gpt2LmHeadModel {
    pub transformer: Gpt2Model,
}

/// Logits and, when asked, hidden states and attention maps of one pass.
#[derive(Debug, Clone)]
pub struct CausalLmOutput {
    /// `[B, T, V]`: at position `t`, the scores of the token at `t + 1`.
    pub logits: Tensor<3>,
    /// As [`Gpt2Model::forward`] describes; empty unless asked.
    pub hidden_states: Vec<Tensor<3>>,
    pub attentions: Vec<Tensor<4>>,
}

impl Gpt2LmHeadModel {
    pub fn new(config: &Gpt2Config, device: &Device) -> Self {
        Self {
            transformer: Gpt2Model::new(config, device),
        }
    }

    pub fn vocab_size(&self) -> usize {
        self.transformer.wte.weight.dims()[0]
    }

    /// The context length (number of learned positions).
    pub fn n_positions(&self) -> usize {
        self.transformer.wpe.weight.dims()[0]
    }

    /// Check ids against the vocabulary and lengths against the positions.
    /// GPT-2's optional `token_type_ids` are not supported and refused.
    pub fn check_input(&self, batch: &BatchInput) -> Result<()> {
        if batch.token_type_ids.is_some() {
            return Err(ModelError::Input(
                "token_type_ids are not used by the causal LM; leave them out".into(),
            ));
        }
        check_batch_sizes(self.vocab_size(), self.n_positions(), batch)
    }

    /// Vocabulary logits of hidden states `[..., H] -> [..., V]` (no bias).
    pub fn head<const D: usize>(&self, hidden: Tensor<D>) -> Tensor<D> {
        let wte = self.transformer.wte.weight.val();
        burn::tensor::module::linear(hidden, wte.transpose(), None)
    }

    /// Logits `[B, T, V]` for every position.
    pub fn logits(&self, batch: &DeviceBatch) -> Tensor<3> {
        self.head(
            self.transformer
                .forward(batch, Want::default())
                .last_hidden_state,
        )
    }

    /// Logits `[B, T, V]` of a pass with one row of position ids shared by
    /// the batch (`positions.len() == T`, each below `n_positions`) and an
    /// additive attention bias `[1 | B, 1 | heads, T, T]` in place of the
    /// causal mask (see [`Gpt2Model::forward_with_bias`]). Lets several
    /// continuations of one prefix share a pass: each token sees its
    /// ancestors only and sits at the position it would have in its own
    /// sequence.
    pub fn logits_with_bias(
        &self,
        batch: &DeviceBatch,
        positions: &[i64],
        bias: &Tensor<4>,
    ) -> Result<Tensor<3>> {
        let [b, t] = batch.input_ids.dims();
        if positions.len() != t {
            return Err(ModelError::Input(format!(
                "{} position ids for sequences of {t} tokens",
                positions.len()
            )));
        }
        let n = self.n_positions() as i64;
        if let Some(p) = positions.iter().find(|&&p| !(0..n).contains(&p)) {
            return Err(ModelError::Input(format!(
                "position id {p} is outside the model's {n} positions"
            )));
        }
        let [bb, bh, bq, bk] = bias.dims();
        let heads = self.transformer.h.first().map_or(1, |l| l.attn.num_heads);
        if (bb != 1 && bb != b) || (bh != 1 && bh != heads) || bq != t || bk != t {
            return Err(ModelError::Input(format!(
                "attention bias of shape [{bb}, {bh}, {bq}, {bk}] for a batch of {b} x {t} \
                 tokens and {heads} heads (expected [1 or {b}, 1 or {heads}, {t}, {t}])"
            )));
        }
        let device = batch.input_ids.device();
        let pos = Tensor::from_data(TensorData::new(positions.to_vec(), [1, t]), &device);
        Ok(self.head(
            self.transformer
                .forward_with_bias(batch, pos, bias, Want::default())
                .last_hidden_state,
        ))
    }

    /// Logits with hidden states and attention maps as `want` asks.
    pub fn forward(&self, batch: &DeviceBatch, want: Want) -> CausalLmOutput {
        let out = self.transformer.forward(batch, want);
        CausalLmOutput {
            logits: self.head(out.last_hidden_state),
            hidden_states: out.hidden_states,
            attentions: out.attentions,
        }
    }

    /// Next-token loss as HF computes it with `labels`: position `t`'s
    /// logits against `labels[t + 1]`, the mean cross-entropy over targets
    /// that are not [`IGNORE_LABEL`] (the same number as HF's
    /// `GPT2LMHeadModel(..., labels=labels).loss`). `labels` is `[B*T]`,
    /// usually [`causal_labels`] of the batch. The head runs only on the
    /// positions that have a target.
    pub fn lm_loss(&self, batch: &DeviceBatch, labels: &[i64]) -> Result<MlmOutput> {
        let hidden = self
            .transformer
            .forward(batch, Want::default())
            .last_hidden_state;
        let [b, t, h] = hidden.dims();
        if labels.len() != b * t {
            return Err(ModelError::Input(format!(
                "{} labels for a batch of {b} x {t} tokens",
                labels.len()
            )));
        }
        let vocab = self.vocab_size() as i64;
        let mut rows = Vec::new();
        let mut targets = Vec::new();
        for r in 0..b {
            for p in 0..t.saturating_sub(1) {
                let l = labels[r * t + p + 1];
                if l == IGNORE_LABEL {
                    continue;
                }
                if !(0..vocab).contains(&l) {
                    return Err(ModelError::Input(format!(
                        "label {l} (sequence {r}, position {}) is outside the vocabulary (0..{vocab})",
                        p + 1
                    )));
                }
                rows.push((r * t + p) as i64);
                targets.push(l);
            }
        }
        if rows.is_empty() {
            return Err(ModelError::Input(
                "no next-token target in the batch (every sequence shorter than 2 real tokens): \
                 nothing to learn from"
                    .into(),
            ));
        }
        Ok(loss_at_rows(
            hidden.reshape([b * t, h]),
            rows,
            targets,
            |x| self.head(x),
        ))
    }
}

/// The labels of a causal-LM batch: its ids, [`IGNORE_LABEL`] on padding
/// (what `DataCollatorForLanguageModeling(mlm=False)` gives HF).
pub fn causal_labels(batch: &BatchInput) -> Vec<i64> {
    batch
        .input_ids
        .iter()
        .zip(&batch.attention_mask)
        .map(|(&id, &m)| if m == 0 { IGNORE_LABEL } else { id })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::HostTensor;

    fn tiny(vocab: usize) -> (Gpt2Config, Device) {
        let device = crate::device(crate::Backend::Cpu).unwrap();
        let mut c = Gpt2Config::preset("tiny", Some(vocab)).unwrap();
        c.n_embd = 32;
        c.n_positions = 16;
        (c, device)
    }

    fn host(t: Tensor<3>) -> HostTensor {
        HostTensor::from_tensor(t)
    }

    /// Values of `x` `[B, T, V]` at row `b`, positions `0..=last`.
    fn prefix(x: &HostTensor, b: usize, last: usize) -> Vec<f32> {
        let (t, v) = (x.shape[1], x.shape[2]);
        x.data[b * t * v..(b * t + last + 1) * v].to_vec()
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn shapes_of_every_output() {
        let (c, device) = tiny(20);
        let model = crate::seeded(7, || Gpt2LmHeadModel::new(&c, &device));
        let batch = BatchInput::unpadded((0..14).map(|i| i % 20).collect(), 2, 7);
        model.check_input(&batch).unwrap();
        let want = Want {
            hidden_states: true,
            attentions: true,
        };
        let out = model.forward(&DeviceBatch::new(&batch, &device), want);
        assert_eq!(out.logits.dims(), [2, 7, 20]);
        assert_eq!(out.hidden_states.len(), c.n_layer + 1);
        for h in &out.hidden_states {
            assert_eq!(h.dims(), [2, 7, 32]);
        }
        assert_eq!(out.attentions.len(), c.n_layer);
        // Causal: no probability on a later key, rows sum to 1.
        let a = HostTensor::from_tensor(out.attentions[1].clone());
        assert_eq!(a.shape, vec![2, 4, 7, 7]);
        for (k, row) in a.data.chunks(7).enumerate() {
            let q = k % 7;
            assert!(row[q + 1..].iter().all(|&p| p == 0.0), "query {q}: {row:?}");
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // The fused path (plain logits) agrees with the explicit one.
        let fused = host(model.logits(&DeviceBatch::new(&batch, &device)));
        assert!(max_diff(&fused.data, &host(out.logits).data) < 1e-5);
    }

    #[test]
    fn logits_at_t_do_not_see_later_tokens() {
        let (c, device) = tiny(20);
        let model = crate::seeded(7, || Gpt2LmHeadModel::new(&c, &device));
        let a: Vec<i64> = vec![3, 9, 4, 17, 2, 11, 5, 8, 1, 6];
        for cut in [0, 3, 7] {
            let mut b = a.clone();
            for (i, x) in b.iter_mut().enumerate().skip(cut + 1) {
                *x = (*x + 5 + i as i64) % 20;
            }
            let both = BatchInput::unpadded([a.clone(), b].concat(), 2, 10);
            let db = DeviceBatch::new(&both, &device);
            let want = Want {
                hidden_states: false,
                attentions: true,
            };
            for x in [
                host(model.logits(&db)),
                host(model.forward(&db, want).logits),
            ] {
                let d = max_diff(&prefix(&x, 0, cut), &prefix(&x, 1, cut));
                assert!(d < 1e-5, "cut {cut}: positions <= {cut} moved by {d:e}");
                // ... and the changed tokens do change what comes after.
                let after = max_diff(&prefix(&x, 0, 9), &prefix(&x, 1, 9));
                assert!(after > 1e-3, "cut {cut}: later logits did not change");
            }
        }
    }

    #[test]
    fn padding_changes_nothing_at_real_positions() {
        let (c, device) = tiny(20);
        let model = crate::seeded(7, || Gpt2LmHeadModel::new(&c, &device));
        let short = vec![4i64, 7, 1, 12, 9];
        let long = vec![5i64, 6, 7, 8, 9, 10, 11, 12];
        // Row 0 is `short` padded with arbitrary ids; row 1 is full.
        let batch = BatchInput {
            input_ids: [short.clone(), vec![19, 3, 0], long.clone()].concat(),
            attention_mask: [vec![1; 5], vec![0; 3], vec![1; 8]].concat(),
            token_type_ids: None,
            batch_size: 2,
            seq_len: 8,
        };
        let alone = |ids: Vec<i64>| {
            let n = ids.len();
            host(model.logits(&DeviceBatch::new(&BatchInput::unpadded(ids, 1, n), &device)))
        };
        let want = Want {
            hidden_states: false,
            attentions: true,
        };
        let db = DeviceBatch::new(&batch, &device);
        for x in [
            host(model.logits(&db)),
            host(model.forward(&db, want).logits),
        ] {
            assert!(max_diff(&prefix(&x, 0, 4), &alone(short.clone()).data) < 1e-5);
            assert!(max_diff(&prefix(&x, 1, 7), &alone(long.clone()).data) < 1e-5);
        }
    }

    #[test]
    fn loss_is_the_shifted_cross_entropy_over_real_targets() {
        let (c, device) = tiny(20);
        let model = crate::seeded(7, || Gpt2LmHeadModel::new(&c, &device));
        let batch = BatchInput {
            input_ids: vec![1, 2, 3, 4, 5, 6, 7, 0, 0, 0],
            attention_mask: vec![1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
            token_type_ids: None,
            batch_size: 2,
            seq_len: 5,
        };
        let labels = causal_labels(&batch);
        assert_eq!(labels, vec![1, 2, 3, 4, 5, 6, 7, -100, -100, -100]);
        let db = DeviceBatch::new(&batch, &device);
        let out = model.lm_loss(&db, &labels).unwrap();
        // Targets: row 0 positions 1..5 (4), row 1 position 1 (1).
        assert_eq!(out.n_labels, 5);
        let logits = host(model.logits(&db));
        let v = 20;
        let mut sum = 0.0f64;
        for (b, t) in [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)] {
            let row = &logits.data[(b * 5 + t) * v..(b * 5 + t + 1) * v];
            let target = batch.input_ids[b * 5 + t + 1] as usize;
            let max = row.iter().cloned().fold(f32::MIN, f32::max) as f64;
            let lse = max
                + row
                    .iter()
                    .map(|&x| (x as f64 - max).exp())
                    .sum::<f64>()
                    .ln();
            sum += lse - row[target] as f64;
        }
        let got: f32 = out.loss.into_scalar::<f32>();
        assert!(
            (got as f64 - sum / 5.0).abs() < 1e-5,
            "{got} vs {}",
            sum / 5.0
        );
        // Bad labels are named; a batch without targets is refused.
        let mut bad = labels.clone();
        bad[2] = 20;
        let e = model.lm_loss(&db, &bad).unwrap_err().to_string();
        assert!(e.contains("label 20") && e.contains("position 2"), "{e}");
        assert!(model.lm_loss(&db, &labels[..9]).is_err());
        let none = vec![IGNORE_LABEL; 10];
        assert!(model
            .lm_loss(&db, &none)
            .unwrap_err()
            .to_string()
            .contains("no next-token"));
    }

    #[test]
    fn explicit_bias_and_positions_match_the_causal_pass() {
        let (c, device) = tiny(20);
        let model = crate::seeded(7, || Gpt2LmHeadModel::new(&c, &device));
        let batch = BatchInput::unpadded((0..14).map(|i| (i * 7) % 20).collect(), 2, 7);
        let db = DeviceBatch::new(&batch, &device);
        let plain = host(model.logits(&db));
        let positions: Vec<i64> = (0..7).collect();
        let bias = causal_bias(7, &device);
        let biased = host(model.logits_with_bias(&db, &positions, &bias).unwrap());
        assert!(max_diff(&plain.data, &biased.data) < 1e-5);
        // Shifted positions change the logits (the position ids are used).
        let shifted: Vec<i64> = (3..10).collect();
        let moved = host(model.logits_with_bias(&db, &shifted, &bias).unwrap());
        assert!(max_diff(&plain.data, &moved.data) > 1e-3);
        // Wrong lengths, positions and shapes are named.
        let e = model
            .logits_with_bias(&db, &positions[..6], &bias)
            .unwrap_err()
            .to_string();
        assert!(e.contains("6 position ids"), "{e}");
        let e = model
            .logits_with_bias(&db, &(10..17).collect::<Vec<_>>(), &bias)
            .unwrap_err()
            .to_string();
        assert!(e.contains("position id 16"), "{e}");
        let e = model
            .logits_with_bias(&db, &positions, &causal_bias(6, &device))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[1, 1, 6, 6]"), "{e}");
    }

    #[test]
    fn bad_input_is_refused() {
        let (c, device) = tiny(20);
        let model = crate::seeded(7, || Gpt2LmHeadModel::new(&c, &device));
        let e = model
            .check_input(&BatchInput::unpadded(vec![1, 20], 1, 2))
            .unwrap_err()
            .to_string();
        assert!(e.contains("token id 20"), "{e}");
        let e = model
            .check_input(&BatchInput::unpadded(vec![1; 17], 1, 17))
            .unwrap_err()
            .to_string();
        assert!(e.contains("16 positions"), "{e}");
        let mut b = BatchInput::unpadded(vec![1, 2], 1, 2);
        b.token_type_ids = Some(vec![0, 0]);
        assert!(model.check_input(&b).is_err());
    }

    #[test]
    fn save_and_load_round_trip() {
        use crate::gpt2_weights::{load_gpt2, save_gpt2, LM_HEAD};
        use crate::pretrained::WEIGHTS_FILE;
        use crate::weights::{load_safetensors, save_safetensors};
        let (c, device) = tiny(20);
        let model = crate::seeded(7, || Gpt2LmHeadModel::new(&c, &device));
        let dir = tempfile::tempdir().unwrap();
        save_gpt2(dir.path(), &c, &model).unwrap();
        let p = load_gpt2(dir.path(), &device).unwrap();
        assert_eq!(p.config, c);
        assert!(p.report.unused.is_empty(), "{:?}", p.report.unused);
        let batch = BatchInput::unpadded(vec![3, 1, 4, 1, 5, 9, 2, 6], 2, 4);
        let db = DeviceBatch::new(&batch, &device);
        assert_eq!(host(model.logits(&db)).data, host(p.model.logits(&db)).data);
        // The file holds the tied head as HF names it; an untied one is refused.
        let path = dir.path().join(WEIGHTS_FILE);
        let (mut sd, _) = load_safetensors(&path).unwrap();
        assert_eq!(sd[LM_HEAD], sd["transformer.wte.weight"]);
        assert!(sd.contains_key("transformer.h.1.attn.c_attn.weight"));
        assert_eq!(sd["transformer.h.0.mlp.c_fc.weight"].shape, vec![32, 128]);
        sd.get_mut(LM_HEAD).unwrap().data[0] += 1.0;
        save_safetensors(&path, &sd).unwrap();
        let e = load_gpt2(dir.path(), &device).unwrap_err().to_string();
        assert!(e.contains("untied"), "{e}");
        // A missing block is named.
        sd.remove(LM_HEAD);
        sd.remove("transformer.h.1.ln_2.bias");
        save_safetensors(&path, &sd).unwrap();
        let e = load_gpt2(dir.path(), &device).unwrap_err().to_string();
        assert!(e.contains("transformer.h.1.ln_2.bias"), "{e}");
    }
}
