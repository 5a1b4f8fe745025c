//! AdamW by parameter name, as PyTorch computes it, with the Hugging Face
//! Trainer's decay groups, global-norm gradient clipping and gradient
//! accumulation.
//!
//! burn ships an AdamW, but it keys its state by random parameter ids and
//! clips each parameter on its own; a checkpoint of ours must resume bit for
//! bit from a file with HF names, and clipping must be over the global norm
//! as `torch.nn.utils.clip_grad_norm_` does. So the update lives here, in
//! plain tensor ops, with state stored under the parameters' HF names.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor};
use dnalm_model::weights::{hf_name, HostTensor, StateDict};
use dnalm_model::Device;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// The optimiser's settings (published defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Hugging Face Trainer grouping: no decay for biases and LayerNorm
    /// weights. `false` decays every parameter, as bare `torch.optim.AdamW`.
    pub hf_decay_groups: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-6,
            weight_decay: 0.01,
            hf_decay_groups: true,
        }
    }
}

impl AdamWConfig {
    pub fn validate(&self) -> Result<()> {
        let ok = |v: f64| (0.0..1.0).contains(&v);
        if !ok(self.beta1) || !ok(self.beta2) {
            return Err(TrainError::Config(format!(
                "AdamW betas ({}, {}) must be in [0, 1)",
                self.beta1, self.beta2
            )));
        }
        if self.eps.is_nan()
            || self.eps <= 0.0
            || self.weight_decay.is_nan()
            || self.weight_decay < 0.0
        {
            return Err(TrainError::Config(format!(
                "AdamW eps {} must be > 0 and weight decay {} >= 0",
                self.eps, self.weight_decay
            )));
        }
        Ok(())
    }

    /// Whether the parameter called `name` is decayed.
    pub fn decays(&self, name: &str) -> bool {
        !self.hf_decay_groups || !(name.contains("bias") || name.contains("LayerNorm"))
    }
}

/// Gradients by HF name, flattened, summed over micro-batches.
#[derive(Debug, Default)]
pub struct GradBuffer {
    grads: BTreeMap<String, Tensor<1>>,
    micro_batches: usize,
}

struct CollectGrads<'a> {
    path: Vec<String>,
    grads: &'a Gradients,
    buffer: &'a mut BTreeMap<String, Tensor<1>>,
}

impl ModuleVisitor for CollectGrads<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(g) = param.val().grad(self.grads) else {
            return;
        };
        let n = g.shape().num_elements();
        let g = g.reshape([n]);
        let name = hf_name(&self.path.join("."));
        let merged = match self.buffer.remove(&name) {
            Some(prev) => prev + g,
            None => g,
        };
        self.buffer.insert(name, merged);
    }
}

impl GradBuffer {
    /// Add the gradients of one micro-batch's backward pass.
    pub fn accumulate<M: Module>(&mut self, model: &M, grads: &Gradients) {
        let mut v = CollectGrads {
            path: Vec::new(),
            grads,
            buffer: &mut self.grads,
        };
        model.visit(&mut v);
        self.micro_batches += 1;
    }

    /// Add another buffer's gradients (the shards of one micro-batch)
    /// without counting a micro-batch; see [`Self::count_micro_batch`].
    pub fn add(&mut self, other: GradBuffer) {
        for (name, g) in other.grads {
            let merged = match self.grads.remove(&name) {
                Some(prev) => prev + g,
                None => g,
            };
            self.grads.insert(name, merged);
        }
    }

    /// Count one micro-batch whose shards were added with [`Self::add`].
    pub fn count_micro_batch(&mut self) {
        self.micro_batches += 1;
    }

    pub fn micro_batches(&self) -> usize {
        self.micro_batches
    }

    /// The L2 norm of all gradients together (after averaging over the
    /// micro-batches).
    pub fn global_norm(&self) -> f64 {
        let scale = 1.0 / self.micro_batches.max(1) as f64;
        let sq: f64 = self
            .grads
            .values()
            .map(|g| {
                g.clone()
                    .powi_scalar(2)
                    .sum()
                    .into_scalar::<f32>()
                    .elem::<f64>()
            })
            .sum();
        sq.sqrt() * scale
    }

    /// The averaged gradient of `name` (flattened), for tests and reports.
    pub fn get(&self, name: &str) -> Option<Tensor<1>> {
        self.grads
            .get(name)
            .map(|g| g.clone().div_scalar(self.micro_batches.max(1) as f64))
    }
}

use burn::tensor::ElementConversion;

/// First and second moments of one parameter.
#[derive(Debug, Clone)]
struct Moments {
    m: Tensor<1>,
    v: Tensor<1>,
}

/// AdamW state: the moments by HF name and the number of updates done.
#[derive(Debug, Clone)]
pub struct AdamW {
    pub config: AdamWConfig,
    moments: BTreeMap<String, Moments>,
    /// Updates applied so far (PyTorch's `state["step"]`, shared by all
    /// parameters here since every parameter is updated every step).
    pub step: u64,
}

struct Update<'a> {
    path: Vec<String>,
    opt: &'a mut AdamW,
    grads: &'a BTreeMap<String, Tensor<1>>,
    /// Multiplies every gradient: 1/micro-batches times the clip factor.
    grad_scale: f64,
    lr: f64,
    /// Bias corrections for this step.
    bc1: f64,
    bc2_sqrt: f64,
}

impl ModuleMapper for Update<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = hf_name(&self.path.join("."));
        let Some(g) = self.grads.get(&name) else {
            return param;
        };
        let c = self.opt.config;
        let decay = if c.decays(&name) { c.weight_decay } else { 0.0 };
        let g = g.clone().mul_scalar(self.grad_scale);
        let (lr, bc1, bc2_sqrt) = (self.lr, self.bc1, self.bc2_sqrt);
        let moments = self.opt.moments.remove(&name);
        let mut new_moments = None;
        let param = param.map(|p| {
            let require_grad = p.is_require_grad();
            let shape = p.shape();
            let n = shape.num_elements();
            let mut x = p.inner().reshape([n]);
            // Order of operations as torch.optim.AdamW (single-tensor path).
            if decay != 0.0 {
                x = x.mul_scalar(1.0 - lr * decay);
            }
            let (m, v) = match moments {
                Some(Moments { m, v }) => (
                    m.mul_scalar(c.beta1) + g.clone().mul_scalar(1.0 - c.beta1),
                    v.mul_scalar(c.beta2) + g.clone().mul(g).mul_scalar(1.0 - c.beta2),
                ),
                None => (
                    g.clone().mul_scalar(1.0 - c.beta1),
                    g.clone().mul(g).mul_scalar(1.0 - c.beta2),
                ),
            };
            let denom = v.clone().sqrt().div_scalar(bc2_sqrt).add_scalar(c.eps);
            let x = x - m.clone().div(denom).mul_scalar(lr / bc1);
            new_moments = Some(Moments { m, v });
            let x = Tensor::<D>::from_inner(x.reshape(shape));
            if require_grad {
                x.require_grad()
            } else {
                x
            }
        });
        if let Some(m) = new_moments {
            self.opt.moments.insert(name, m);
        }
        param
    }
}

/// What one optimiser step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Whether clipping scaled the gradients down.
    pub clipped: bool,
}

impl AdamW {
    pub fn new(config: AdamWConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            moments: BTreeMap::new(),
            step: 0,
        })
    }

    /// Apply one update with learning rate `lr` from the accumulated
    /// gradients (averaged over micro-batches), clipping the global norm to
    /// `max_grad_norm` when given. The buffer is consumed.
    pub fn step<M: Module>(
        &mut self,
        model: M,
        grads: GradBuffer,
        lr: f64,
        max_grad_norm: Option<f64>,
    ) -> (M, StepInfo) {
        let norm = grads.global_norm();
        let mut scale = 1.0 / grads.micro_batches.max(1) as f64;
        let mut clipped = false;
        if let Some(max) = max_grad_norm {
            // torch: clip_coef = max_norm / (total_norm + 1e-6), applied if < 1.
            let coef = max / (norm + 1e-6);
            if coef < 1.0 {
                scale *= coef;
                clipped = true;
            }
        }
        self.step += 1;
        let t = self.step as i32;
        let mut update = Update {
            path: Vec::new(),
            grads: &grads.grads,
            grad_scale: scale,
            lr,
            bc1: 1.0 - self.config.beta1.powi(t),
            bc2_sqrt: (1.0 - self.config.beta2.powi(t)).sqrt(),
            opt: self,
        };
        let model = model.map(&mut update);
        (
            model,
            StepInfo {
                grad_norm: norm,
                clipped,
            },
        )
    }

    /// The moments as host tensors named `exp_avg.<param>` and
    /// `exp_avg_sq.<param>` (PyTorch's state names), for a checkpoint.
    pub fn state_dict(&self) -> StateDict {
        let mut out = BTreeMap::new();
        for (name, m) in &self.moments {
            out.insert(
                format!("exp_avg.{name}"),
                HostTensor::from_tensor(m.m.clone()),
            );
            out.insert(
                format!("exp_avg_sq.{name}"),
                HostTensor::from_tensor(m.v.clone()),
            );
        }
        out
    }

    /// Restore moments written by [`AdamW::state_dict`] after `step` updates.
    pub fn load_state_dict(
        &mut self,
        tensors: &StateDict,
        step: u64,
        device: &Device,
    ) -> Result<()> {
        self.moments.clear();
        for (key, m) in tensors {
            let Some(name) = key.strip_prefix("exp_avg.") else {
                continue;
            };
            let v = tensors.get(&format!("exp_avg_sq.{name}")).ok_or_else(|| {
                TrainError::Checkpoint(format!(
                    "optimiser state has exp_avg.{name} but no exp_avg_sq"
                ))
            })?;
            let load = |h: &HostTensor| {
                let n = h.data.len();
                Tensor::<1>::from_data(burn::tensor::TensorData::new(h.data.clone(), [n]), device)
            };
            self.moments.insert(
                name.to_string(),
                Moments {
                    m: load(m),
                    v: load(v),
                },
            );
        }
        self.step = step;
        Ok(())
    }
}
