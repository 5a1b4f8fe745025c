//! Running a model for its states rather than its predictions: token
//! vectors of a chosen layer and attention maps, copied to the host one row
//! per input. Inference only: the device has no autodiff, so dropout is off
//! and the same ids give the same numbers every time.

use dnalm_model::{BatchInput, DeviceBatch, HostTensor, Want};
use dnalm_tokenizers::Tokenizer;

use crate::error::{Result, TaskError};
use crate::model::TaskModel;

/// Which hidden state to read: 0 is the embedding output, `n` the output
/// of layer `n`; the last layer includes the LSTM of a model that has one.
pub fn check_layer(model: &TaskModel, layer: Option<usize>) -> Result<usize> {
    let n = model.pretrained.config.num_hidden_layers;
    match layer {
        None => Ok(n),
        Some(l) if l <= n => Ok(l),
        Some(l) => Err(TaskError::Config(format!(
            "--layer {l}: the model has {n} layers (0 = embeddings .. {n} = last)"
        ))),
    }
}

/// The states of one input row.
#[derive(Debug, Clone)]
pub struct RowStates {
    /// Tokens in the row (special tokens included).
    pub len: usize,
    /// `[len, hidden]` of the asked layer, row-major.
    pub hidden: Vec<f32>,
    /// `[layers, heads, len, len]` when asked, else empty.
    pub attentions: Vec<f32>,
}

/// Run `rows` (framed ids, each at most the model's positions) in batches
/// of `batch_size`, padded to the longest row of each batch.
pub fn run_rows(
    model: &TaskModel,
    device: &dnalm_model::Device,
    rows: &[Vec<u32>],
    layer: usize,
    attentions: bool,
    batch_size: usize,
) -> Result<Vec<RowStates>> {
    let cfg = &model.pretrained.config;
    let (h, nl, nh) = (
        cfg.hidden_size,
        cfg.num_hidden_layers,
        cfg.num_attention_heads,
    );
    let pad = i64::from(model.tokenizer.vocab().specials().pad);
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(batch_size.max(1)) {
        let t = chunk.iter().map(Vec::len).max().unwrap_or(0);
        let b = chunk.len();
        let mut ids = Vec::with_capacity(b * t);
        let mut mask = Vec::with_capacity(b * t);
        for r in chunk {
            ids.extend(r.iter().map(|&i| i64::from(i)));
            ids.extend(std::iter::repeat_n(pad, t - r.len()));
            mask.extend(std::iter::repeat_n(1i64, r.len()));
            mask.extend(std::iter::repeat_n(0i64, t - r.len()));
        }
        let input = BatchInput {
            input_ids: ids,
            attention_mask: mask,
            token_type_ids: None,
            batch_size: b,
            seq_len: t,
        };
        model.pretrained.model.check_input(&input)?;
        let want = Want {
            hidden_states: layer < nl,
            attentions,
        };
        let enc = model
            .pretrained
            .model
            .encode(&DeviceBatch::new(&input, device), want);
        let states = if layer < nl {
            enc.hidden_states[layer].clone()
        } else {
            enc.last_hidden_state
        };
        let states = HostTensor::from_tensor(states).data;
        let maps: Vec<Vec<f32>> = enc
            .attentions
            .into_iter()
            .map(|a| HostTensor::from_tensor(a).data)
            .collect();
        for (i, r) in chunk.iter().enumerate() {
            let n = r.len();
            let hidden = states[i * t * h..(i * t + n) * h].to_vec();
            let mut att = Vec::new();
            if attentions {
                att.reserve(nl * nh * n * n);
                for m in &maps {
                    for hd in 0..nh {
                        for q in 0..n {
                            let base = ((i * nh + hd) * t + q) * t;
                            att.extend_from_slice(&m[base..base + n]);
                        }
                    }
                }
            }
            out.push(RowStates {
                len: n,
                hidden,
                attentions: att,
            });
        }
    }
    Ok(out)
}
