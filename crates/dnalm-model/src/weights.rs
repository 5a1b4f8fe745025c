//! Parameters by Hugging Face name, and safetensors files in the layout
//! `transformers` writes: f32, PyTorch `[out, in]` linear weights, metadata
//! `{"format": "pt"}`, the tied decoder weight written out explicitly.
//!
//! A module's parameter path (`bert.encoder.layer.0.attention.self_attn.query.weight`)
//! becomes its HF name (`bert.encoder.layer.0.attention.self.query.weight`)
//! by two renames ([`hf_name`]); the layers store tensors in PyTorch layout
//! so nothing is transposed on the way.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use crate::error::{ModelError, Result};
use crate::heads::BertForMaskedLm;

/// A tensor on the host: row-major f32 with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    pub fn from_tensor<const D: usize>(t: Tensor<D>) -> Self {
        let shape = t.dims().to_vec();
        let data = t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("a float tensor converts to f32");
        Self { shape, data }
    }

    pub fn to_data(&self) -> TensorData {
        TensorData::new(self.data.clone(), self.shape.clone())
    }
}

/// Parameters by name, in name order (so files are byte-identical run to run).
pub type StateDict = BTreeMap<String, HostTensor>;

/// The HF name of a module path. LSTM parameters get PyTorch `nn.LSTM`
/// names (`lstm.layers.0.weight_ih` -> `lstm.weight_ih_l0`).
pub fn hf_name(path: &str) -> String {
    let name = path
        .replace(".self_attn.", ".self.")
        .replace("layer_norm", "LayerNorm");
    if let Some(rest) = name.strip_prefix("lstm.layers.") {
        if let Some((layer, field)) = rest.split_once('.') {
            return format!("lstm.{field}_l{layer}");
        }
    }
    name
}

/// Tracks the module path during a visit or a map.
#[derive(Debug, Default)]
struct PathStack(Vec<String>);

impl PathStack {
    fn enter(&mut self, name: &str) {
        self.0.push(name.to_string());
    }
    fn exit(&mut self) {
        self.0.pop();
    }
    fn hf(&self) -> String {
        hf_name(&self.0.join("."))
    }
}

struct Collect {
    path: PathStack,
    out: StateDict,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out
            .insert(self.path.hf(), HostTensor::from_tensor(param.val()));
    }
}

/// Every float parameter of `module` under its HF name.
pub fn state_dict<M: Module>(module: &M) -> StateDict {
    let mut v = Collect {
        path: PathStack::default(),
        out: BTreeMap::new(),
    };
    module.visit(&mut v);
    v.out
}

/// The HF names of `module`'s parameters, in visiting order.
pub fn param_names<M: Module>(module: &M) -> Vec<String> {
    struct Names(PathStack, Vec<String>);
    impl ModuleVisitor for Names {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.0.enter(name);
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.0.exit();
        }
        fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<D>>) {
            self.1.push(self.0.hf());
        }
    }
    let mut v = Names(PathStack::default(), Vec::new());
    module.visit(&mut v);
    v.1
}

/// Replace parameters by name. Every parameter of the module must be found
/// with the right shape, or nothing is changed and the error lists them.
struct Assign<'a> {
    path: PathStack,
    tensors: &'a StateDict,
}

impl ModuleMapper for Assign<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.hf();
        let Some(host) = self.tensors.get(&name) else {
            return param;
        };
        param.map(|old| {
            let device = old.device();
            let require_grad = old.is_require_grad();
            let new = Tensor::<D>::from_data(host.to_data(), &device);
            if require_grad {
                new.require_grad()
            } else {
                new
            }
        })
    }
}

/// Shapes the module expects, by HF name.
pub fn expected_shapes<M: Module>(module: &M) -> BTreeMap<String, Vec<usize>> {
    struct Shapes(PathStack, BTreeMap<String, Vec<usize>>);
    impl ModuleVisitor for Shapes {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.0.enter(name);
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.0.exit();
        }
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            self.1.insert(self.0.hf(), p.shape().dims::<D>().to_vec());
        }
    }
    let mut v = Shapes(PathStack::default(), BTreeMap::new());
    module.visit(&mut v);
    v.1
}

/// What a load did with the file's tensors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub loaded: usize,
    /// Tensors in the file the model has no use for (a pooler, buffers).
    pub unused: Vec<String>,
}

/// Load `tensors` into `module`. Every parameter must be present with its
/// shape; extra tensors are reported, not fatal. `source` names the file in
/// errors.
pub fn load_state_dict<M: Module>(
    module: M,
    tensors: &StateDict,
    source: &Path,
) -> Result<(M, LoadReport)> {
    let expected = expected_shapes(&module);
    let mut missing = Vec::new();
    for (name, shape) in &expected {
        match tensors.get(name) {
            None => missing.push(name.clone()),
            Some(t) if &t.shape != shape => {
                return Err(ModelError::Tensor {
                    path: source.to_path_buf(),
                    name: name.clone(),
                    message: format!(
                        "shape {:?} in the file, the config needs {:?}{}",
                        t.shape,
                        shape,
                        if name.ends_with("word_embeddings.weight") {
                            " (the vocabulary size differs from the tokenizer's or config's)"
                        } else {
                            ""
                        }
                    ),
                })
            }
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        let n = missing.len();
        let mut names = missing.into_iter().take(6).collect::<Vec<_>>().join(", ");
        if n > 6 {
            names.push_str(&format!(" and {} more", n - 6));
        }
        return Err(ModelError::MissingTensors {
            path: source.to_path_buf(),
            names,
        });
    }
    let unused = tensors
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .cloned()
        .collect();
    let mut assign = Assign {
        path: PathStack::default(),
        tensors,
    };
    let module = module.map(&mut assign);
    Ok((
        module,
        LoadReport {
            loaded: expected.len(),
            unused,
        },
    ))
}

/// The masked-LM model's tensors as `transformers` names them, with the tied
/// decoder written out: `cls.predictions.decoder.weight` (= word embeddings)
/// and `cls.predictions.decoder.bias` (= `cls.predictions.bias`).
pub fn mlm_state_dict(model: &BertForMaskedLm) -> StateDict {
    let mut sd = state_dict(model);
    let emb = sd["bert.embeddings.word_embeddings.weight"].clone();
    let bias = sd["cls.predictions.bias"].clone();
    sd.insert("cls.predictions.decoder.weight".into(), emb);
    sd.insert("cls.predictions.decoder.bias".into(), bias);
    sd
}

/// Names a checkpoint may carry that are not parameters of ours and are
/// safe to ignore: the tied decoder copies, the pooler, buffers (BERT's
/// position ids, older GPT-2 checkpoints' causal-mask `attn.bias` and
/// `attn.masked_bias`).
pub fn is_ignorable(name: &str) -> bool {
    name.starts_with("cls.predictions.decoder.")
        || name.starts_with("bert.pooler.")
        || name.ends_with("position_ids")
        || name.ends_with("buffered_token_type_ids")
        || name.ends_with(".attn.bias")
        || name.ends_with(".attn.masked_bias")
}

/// Encode f32 values little-endian.
fn f32_bytes(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Serialise to safetensors bytes with `{"format": "pt"}` as the only
/// metadata: the crate writes metadata from a `HashMap`, so a second key would
/// come out in a random order and two identical models would differ in bytes.
pub fn to_safetensors_bytes(tensors: &StateDict) -> Result<Vec<u8>> {
    let bytes: Vec<(String, Vec<u8>)> = tensors
        .iter()
        .map(|(k, t)| (k.clone(), f32_bytes(&t.data)))
        .collect();
    let views = bytes
        .iter()
        .zip(tensors.values())
        .map(|((k, b), t)| {
            TensorView::new(Dtype::F32, t.shape.clone(), b)
                .map(|v| (k.clone(), v))
                .map_err(|e| ModelError::Input(format!("tensor {k}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(views, Some(meta))
        .map_err(|e| ModelError::Input(format!("safetensors serialisation: {e}")))
}

/// A parity sample: token ids and masks (`I64`, `[B, T]`) with the logits a
/// model gave for them (`F32`: `[B, T, V]` from a masked LM, `[B, labels]`
/// from a sequence classifier), for checking an export in Python
/// (`scripts/hf_load_check.py`). Written atomically.
pub fn save_logits_sample(
    path: &Path,
    input_ids: &[i64],
    attention_mask: &[i64],
    logits: &HostTensor,
) -> Result<()> {
    let shape = logits.shape.clone();
    let rows = shape.first().copied().unwrap_or(0);
    let fits = match shape.len() {
        3 => shape[0] * shape[1] == input_ids.len(),
        2 => rows > 0 && input_ids.len().is_multiple_of(rows),
        _ => false,
    };
    if !fits || input_ids.len() != attention_mask.len() {
        return Err(ModelError::Input(format!(
            "sample of {} ids and {} mask values does not fit logits {:?}",
            input_ids.len(),
            attention_mask.len(),
            shape
        )));
    }
    let i64_bytes = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let (ids, mask, lg) = (
        i64_bytes(input_ids),
        i64_bytes(attention_mask),
        f32_bytes(&logits.data),
    );
    let bt = vec![rows, input_ids.len() / rows];
    let views = vec![
        (
            "attention_mask".to_string(),
            sample_view(Dtype::I64, bt.clone(), &mask)?,
        ),
        ("input_ids".to_string(), sample_view(Dtype::I64, bt, &ids)?),
        ("logits".to_string(), sample_view(Dtype::F32, shape, &lg)?),
    ];
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|e| ModelError::Input(format!("safetensors serialisation: {e}")))?;
    write_atomic(path, &bytes)
}

fn sample_view(dtype: Dtype, shape: Vec<usize>, data: &[u8]) -> Result<TensorView<'_>> {
    TensorView::new(dtype, shape, data).map_err(|e| ModelError::Input(e.to_string()))
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = dnalm_seq::AtomicFile::create(path)
        .map_err(|e| ModelError::io(path, std::io::Error::other(e.to_string())))?;
    f.write_all(bytes).map_err(|e| ModelError::io(path, e))?;
    f.commit()
        .map_err(|e| ModelError::io(path, std::io::Error::other(e.to_string())))
}

/// Write a safetensors file atomically (temp file, then rename).
pub fn save_safetensors(path: &Path, tensors: &StateDict) -> Result<()> {
    write_atomic(path, &to_safetensors_bytes(tensors)?)
}

/// Read every tensor of a safetensors file as f32 (F32, F16, BF16 and F64
/// are accepted), with its metadata.
pub fn load_safetensors(path: &Path) -> Result<(StateDict, BTreeMap<String, String>)> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    read_safetensors_bytes(&bytes, path)
}

/// [`load_safetensors`] on bytes already in memory; `path` names them in errors.
pub fn read_safetensors_bytes(
    bytes: &[u8],
    path: &Path,
) -> Result<(StateDict, BTreeMap<String, String>)> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| ModelError::Safetensors {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| ModelError::Safetensors {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let metadata: BTreeMap<String, String> = meta
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut out = BTreeMap::new();
    for (name, view) in st.iter() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            other => {
                // Integer buffers (position_ids) are not parameters.
                if is_ignorable(name) {
                    continue;
                }
                return Err(ModelError::Tensor {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    message: format!("dtype {other:?} is not a float type dnalm reads"),
                });
            }
        };
        out.insert(
            name.to_string(),
            HostTensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok((out, metadata))
}

/// One entry of a safetensors header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
}

/// The tensors a safetensors file holds (name, dtype, shape) and its
/// metadata, reading only the header.
pub fn safetensors_index(path: &Path) -> Result<(Vec<TensorInfo>, BTreeMap<String, String>)> {
    use std::io::Read;
    let err = |message: String| ModelError::Safetensors {
        path: path.to_path_buf(),
        message,
    };
    let mut f = std::fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut n = [0u8; 8];
    f.read_exact(&mut n)
        .map_err(|e| err(format!("no header: {e}")))?;
    let n = u64::from_le_bytes(n);
    if n > 100 << 20 {
        return Err(err(format!("header of {n} bytes is implausible")));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .map_err(|e| err(format!("truncated header: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| err(format!("header is not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| err("header is not a JSON object".into()))?;
    let mut metadata = BTreeMap::new();
    let mut out = Vec::new();
    for (name, entry) in obj {
        if name == "__metadata__" {
            if let Some(m) = entry.as_object() {
                for (k, v) in m {
                    metadata.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
            continue;
        }
        let dtype = entry["dtype"].as_str().unwrap_or("?").to_string();
        let shape = entry["shape"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_u64())
                    .map(|d| d as usize)
                    .collect()
            })
            .unwrap_or_default();
        out.push(TensorInfo {
            name: name.clone(),
            dtype,
            shape,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((out, metadata))
}

/// IEEE half to f32.
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: normalise.
            let mut e = 127 - 15 + 1;
            let mut f = f;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// Rename the spellings other checkpoints use to ours: a `BertModel`
/// checkpoint without the `bert.` prefix, and TF-era `LayerNorm.gamma/beta`.
pub fn normalise_names(tensors: StateDict) -> StateDict {
    let has_prefix = tensors.keys().any(|k| k.starts_with("bert."));
    tensors
        .into_iter()
        .map(|(k, v)| {
            let mut k = k
                .replace("LayerNorm.gamma", "LayerNorm.weight")
                .replace("LayerNorm.beta", "LayerNorm.bias");
            if !has_prefix && (k.starts_with("embeddings.") || k.starts_with("encoder.")) {
                k = format!("bert.{k}");
            }
            (k, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_names() {
        assert_eq!(
            hf_name("bert.encoder.layer.3.attention.self_attn.query.weight"),
            "bert.encoder.layer.3.attention.self.query.weight"
        );
        assert_eq!(
            hf_name("bert.embeddings.layer_norm.bias"),
            "bert.embeddings.LayerNorm.bias"
        );
        assert_eq!(hf_name("lstm.layers.1.bias_hh"), "lstm.bias_hh_l1");
    }

    #[test]
    fn f16_decodes() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7c00).is_infinite());
    }
}
