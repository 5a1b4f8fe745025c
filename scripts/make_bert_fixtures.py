#!/usr/bin/env python3
"""Write the BERT masked-LM parity fixtures for dnalm-model / dnalm-train,
with Hugging Face `transformers` + PyTorch as the reference.

Usage (run once; the output is committed):
  PY=$(scripts/setup-python-hf.sh | tail -1)
  "$PY" scripts/make_bert_fixtures.py [--out-dir crates/dnalm-model/tests/fixtures/bert_tiny]

Writes into OUT_DIR:
  config.json           HF BertConfig of a tiny BertForMaskedLM (no pooler)
  model.safetensors     every parameter under its HF name, f32, Linear weights
                        [out, in]; tied tensors written explicitly; no buffers
  inputs.json           input_ids / attention_mask / token_type_ids / labels, [3, 16]
  expected.safetensors  activations, logits, loss, gradients and AdamW steps
  meta.json             versions, settings, names, shapes, how each tensor was made

Deterministic: fixed seeds, one thread, deterministic algorithms; a rerun with
the same torch / transformers / safetensors writes identical bytes.
"""

import argparse
import copy
import hashlib
import json
import os
import platform
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

try:
    import numpy
    import safetensors
    import torch
    import transformers
    from safetensors.torch import save_file
    from transformers import BertConfig, BertForMaskedLM
    from transformers.pytorch_utils import ALL_LAYERNORM_LAYERS
    from transformers.trainer_pt_utils import get_parameter_names
except ImportError as e:
    sys.exit(f"make_bert_fixtures.py: error: {e}; run with the venv python of scripts/setup-python-hf.sh")

SEED = 20240601
CLS, SEP, MASK, PAD = 2, 3, 4, 0
FIRST_ORDINARY_ID = 5  # [PAD] [UNK] [CLS] [SEP] [MASK] come first
BATCH, SEQ = 3, 16
ROW_LENGTHS = [16, 12, 9]  # real tokens per row (the rest is padding)
MASKED_PER_ROW = [4, 4, 3]
# Row 0 is a sentence pair: [CLS] a(7) [SEP] b(6) [SEP], segment b has type 1.
ROW0_SEGMENT_B_START = 9

CONFIG = dict(
    architectures=["BertForMaskedLM"],
    vocab_size=40,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=40,
    type_vocab_size=2,
    hidden_act="gelu",
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    layer_norm_eps=1e-12,
    pad_token_id=0,
    initializer_range=0.02,
    position_embedding_type="absolute",
    torch_dtype="float32",
)
# Noise added to every parameter after HF's init, so that no LayerNorm weight
# is 1 and no bias is 0 (a Rust bug that ignores one must show). The 2-D noise
# dwarfs HF's 0.02 init on purpose: it makes attention peaked and GELU inputs
# O(1), so a wrong attention scale or a tanh GELU moves the logits by > 1e-3.
NOISE_STD_VECTOR = 0.1  # biases, LayerNorm weights and biases (1-D tensors)
NOISE_STD_MATRIX = 0.2  # embeddings and Linear weights (2-D tensors)
ADAMW = dict(lr=1e-3, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
STEPS = 3


def die(msg):
    print(f"make_bert_fixtures.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def build_model():
    torch.manual_seed(SEED)
    config = BertConfig(**CONFIG)
    model = BertForMaskedLM(config)
    model.eval()  # dropout is 0 anyway; eval() makes that explicit
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for _, p in model.named_parameters():  # tied tensors appear once
            std = NOISE_STD_VECTOR if p.dim() == 1 else NOISE_STD_MATRIX
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * std)
    return config, model


def build_inputs():
    gen = torch.Generator().manual_seed(SEED + 2)
    input_ids = torch.full((BATCH, SEQ), PAD, dtype=torch.long)
    attention_mask = torch.zeros((BATCH, SEQ), dtype=torch.long)
    token_type_ids = torch.zeros((BATCH, SEQ), dtype=torch.long)
    labels = torch.full((BATCH, SEQ), -100, dtype=torch.long)
    vocab = CONFIG["vocab_size"]
    for row, (length, n_masked) in enumerate(zip(ROW_LENGTHS, MASKED_PER_ROW)):
        ids = torch.randint(FIRST_ORDINARY_ID, vocab, (length,), generator=gen)
        ids[0] = CLS
        ids[length - 1] = SEP
        if row == 0:
            ids[ROW0_SEGMENT_B_START - 1] = SEP
            token_type_ids[0, ROW0_SEGMENT_B_START:length] = 1
        input_ids[row, :length] = ids
        attention_mask[row, :length] = 1
        ordinary = [i for i in range(length) if int(ids[i]) >= FIRST_ORDINARY_ID]
        pick = torch.randperm(len(ordinary), generator=gen)[:n_masked]
        for j in sorted(int(k) for k in pick):
            pos = ordinary[j]
            labels[row, pos] = input_ids[row, pos]
            input_ids[row, pos] = MASK
    return dict(
        input_ids=input_ids,
        attention_mask=attention_mask,
        token_type_ids=token_type_ids,
        labels=labels,
    )


def trainer_decay_names(model):
    """The Hugging Face Trainer's rule (Trainer.get_decay_parameter_names)."""
    decay = get_parameter_names(model, ALL_LAYERNORM_LAYERS)
    return {name for name in decay if "bias" not in name}


def adamw_steps(model, inputs, grouped):
    """Parameter values after 1..STEPS AdamW steps on the same batch."""
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    if grouped:
        decay = trainer_decay_names(model)
        groups = [
            {"params": [p for n, p in zip(names, params) if n in decay], "weight_decay": ADAMW["weight_decay"]},
            {"params": [p for n, p in zip(names, params) if n not in decay], "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    else:
        opt = torch.optim.AdamW(params, **ADAMW)
    out = {}
    for step in range(1, STEPS + 1):
        opt.zero_grad(set_to_none=True)
        model(**inputs).loss.backward()
        opt.step()
        for n, p in zip(names, params):
            out[f"step{step}.{n}"] = p.detach().clone()
    return out


def reference(model, inputs):
    """Forward, loss, gradients and AdamW steps; `model` ends at its initial values."""
    initial = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    out = model(**inputs, output_hidden_states=True, output_attentions=True)
    out.loss.backward()
    expected = {
        "last_hidden_state": out.hidden_states[-1].detach(),
        "logits": out.logits.detach(),
        "loss": out.loss.detach().reshape(1),
    }
    for i, h in enumerate(out.hidden_states):
        expected[f"hidden_states.{i}"] = h.detach()
    for i, a in enumerate(out.attentions):
        expected[f"attentions.{i}"] = a.detach()
    for n, p in model.named_parameters():
        expected[f"grad.{n}"] = p.grad.detach().clone()
    # The same loss by hand, as a guard on what "loss" means.
    sel = inputs["labels"] != -100
    manual = torch.nn.functional.cross_entropy(out.logits[sel], inputs["labels"][sel])
    if not torch.allclose(manual, out.loss, rtol=0, atol=1e-6):
        die(f"loss {out.loss.item()} != mean cross-entropy {manual.item()}")
    # last_hidden_state of the bare encoder is the same tensor.
    with torch.no_grad():
        enc = model.bert(
            input_ids=inputs["input_ids"],
            attention_mask=inputs["attention_mask"],
            token_type_ids=inputs["token_type_ids"],
        ).last_hidden_state
    if not torch.equal(enc, expected["last_hidden_state"]):
        die("hidden_states[-1] differs from model.bert(...).last_hidden_state")

    # AdamW, both variants, each from the initial parameters.
    for prefix, grouped in (("adamw", False), ("adamw_groups", True)):
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(initial[n])
        for k, v in adamw_steps(model, inputs, grouped).items():
            expected[f"{prefix}.{k}"] = v
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(initial[n])
    model.zero_grad(set_to_none=True)
    return expected


KEY_BIAS = ".attention.self.key.bias"


def f32_error(expected, exact):
    """Max |f32 - f64| per kind of tensor, as '%.1e' strings (stable in JSON)."""
    kinds = {}
    for k, v in expected.items():
        kind = k.split(".")[0]
        if k.endswith(KEY_BIAS):
            kind += " (key.bias)"
        d = (v.double() - exact[k]).abs().max().item()
        kinds[kind] = max(kinds.get(kind, 0.0), d)
    return {k: f"{v:.1e}" for k, v in sorted(kinds.items())}


def write_bytes(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_json(path, obj, indent=2):
    write_bytes(path, (json.dumps(obj, indent=indent) + "\n").encode())


def write_safetensors(path, tensors):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    os.close(fd)
    # One metadata key only: with several, the header's key order is not fixed.
    save_file({k: v.detach().clone().contiguous() for k, v in tensors.items()}, tmp, metadata={"format": "pt"})
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    default_out = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dnalm-model", "tests", "fixtures", "bert_tiny"
    )
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.normpath(default_out))
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out_dir, exist_ok=True)

    config, model = build_model()
    inputs = build_inputs()
    param_names = [n for n, _ in model.named_parameters()]
    param_shapes = {n: list(p.shape) for n, p in model.named_parameters()}
    buffers = {n for n, _ in model.named_buffers()}
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if k not in buffers}
    aliases = {}  # state_dict name -> the named_parameters name holding the same tensor
    by_ptr = {p.data_ptr(): n for n, p in model.named_parameters()}
    for k, v in model.state_dict().items():
        if k not in buffers and k not in param_shapes:
            aliases[k] = by_ptr[v.data_ptr()]
    for k, target in aliases.items():
        if not torch.equal(state[k], state[target]):
            die(f"{k} should be tied to {target}")
    if set(aliases) != {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}:
        die(f"unexpected tied tensors {sorted(aliases)} (transformers {transformers.__version__})")
    expected = reference(model, inputs)
    for k, v in expected.items():
        if v.dtype != torch.float32 or not torch.isfinite(v).all():
            die(f"{k}: not finite f32")
    out_loss = float(expected["loss"][0])
    decay = trainer_decay_names(model)
    # The same computation in f64 from the same f32 parameters: how far HF's own
    # f32 results are from exact, i.e. what tolerance a correct f32 port needs.
    model64 = copy.deepcopy(model).double()
    if model64.cls.predictions.decoder.weight is not model64.bert.embeddings.word_embeddings.weight:
        die("deepcopy lost the tied decoder weight")
    error = f32_error(expected, reference(model64, inputs))

    # Files.
    # What save_pretrained writes (to_diff_dict), minus HF-internal "_" keys.
    cfg = {k: v for k, v in config.to_diff_dict().items() if not k.startswith("_")}
    write_json(os.path.join(args.out_dir, "config.json"), dict(sorted(cfg.items())))
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), dict(sorted(state.items())))
    write_json(
        os.path.join(args.out_dir, "inputs.json"),
        {k: v.tolist() for k, v in inputs.items()},
        indent=None,
    )
    write_safetensors(os.path.join(args.out_dir, "expected.safetensors"), expected)

    pad_positions = [[t for t in range(SEQ) if int(inputs["attention_mask"][b, t]) == 0] for b in range(BATCH)]
    meta = {
        "generator": "scripts/make_bert_fixtures.py",
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "safetensors": safetensors.__version__,
            "numpy": numpy.__version__,
            "torch_source": "Debian bookworm python3-torch 1.13.1+dfsg (CPU), see scripts/requirements-hf.txt",
        },
        "determinism": "torch.set_num_threads(1), torch.use_deterministic_algorithms(True), f32 throughout",
        "seed": SEED,
        "model": {
            "class": "transformers.BertForMaskedLM (no pooler)",
            "attn_implementation": model.config._attn_implementation,
            "hidden_act": "gelu = exact erf GELU: x * 0.5 * (1 + erf(x / sqrt(2)))",
            "attention_mask": "extended mask (1 - attention_mask) * torch.finfo(float32).min added to the "
            "scaled scores (q.k / sqrt(head_dim)) before softmax; padded keys get probability exactly 0",
            "init": f"HF init with torch.manual_seed({SEED}), then every parameter += N(0, s^2) noise from "
            f"torch.Generator seed {SEED + 1} in named_parameters order: s = {NOISE_STD_VECTOR} for 1-D tensors "
            f"(biases, LayerNorm), {NOISE_STD_MATRIX} for 2-D (embeddings, Linear). So no LayerNorm weight is 1, "
            "no bias is 0, and word_embeddings row 0 ([PAD]) is not zero. The 2-D noise is large on purpose: "
            "attention is far from uniform and GELU inputs are O(1), so e.g. a missing 1/sqrt(head_dim) or a "
            "tanh-approximate GELU changes the logits by > 1e-3.",
            "padding_idx": "word_embeddings is nn.Embedding(padding_idx=0): the lookup never sends gradient to "
            "row 0. In these inputs id 0 occurs only at padded positions, which get no gradient anyway, so a "
            "Rust embedding without padding_idx masking still matches.",
        },
        "special_ids": {"[PAD]": PAD, "[UNK]": 1, "[CLS]": CLS, "[SEP]": SEP, "[MASK]": MASK},
        "inputs": {
            "shape": [BATCH, SEQ],
            "row_lengths": ROW_LENGTHS,
            "pad_positions": pad_positions,
            "token_type_ids": f"row 0 is a sentence pair, type 1 from position {ROW0_SEGMENT_B_START} to its end; "
            "rows 1 and 2 are all 0 (padding too)",
            "labels": "-100 except the masked positions, which hold the original id; those input_ids are [MASK]=4",
            "masked_positions": [[t for t in range(SEQ) if int(inputs["labels"][b, t]) != -100] for b in range(BATCH)],
        },
        "parameters": [{"name": n, "shape": param_shapes[n]} for n in param_names],
        "model_safetensors": {
            "tensors": [{"name": k, "shape": list(v.shape)} for k, v in sorted(state.items())],
            "tied": aliases,
            "note": "all state_dict tensors except buffers (position_ids, token_type_ids); tied tensors are "
            "written explicitly as equal copies; metadata {\"format\": \"pt\"}; Linear weights [out, in]",
        },
        "expected": {
            "last_hidden_state": "[3,16,32] encoder output (= hidden_states[-1]), all positions including padded ones",
            "hidden_states.{i}": "[3,16,32] i=0: embeddings output (after LayerNorm); i=l+1: output of encoder layer l",
            "attentions.{l}": "[3,4,16,16] softmax attention probabilities of layer l",
            "logits": "[3,16,40] MLM logits at every position",
            "loss": "[1] HF BertForMaskedLM loss: mean cross-entropy over positions with labels != -100 "
            f"({sum(MASKED_PER_ROW)} positions)",
            "grad.{name}": "d loss / d parameter at the initial parameters, for every name in 'parameters' "
            "(named_parameters: tied tensors appear once). grad.bert.embeddings.word_embeddings.weight INCLUDES "
            "the gradient through the tied cls.predictions.decoder.weight, and grad.cls.predictions.bias the one "
            "through the tied cls.predictions.decoder.bias; there are no grad.cls.predictions.decoder.* tensors",
            "adamw.step{N}.{name}": "parameter after N = 1, 2, 3 steps of torch.optim.AdamW over ALL parameters "
            "(settings in 'optimizer'), from the initial parameters, the same batch every step, "
            "zero_grad between steps, no clipping, no schedule",
            "adamw_groups.step{N}.{name}": "the same, with the Hugging Face Trainer's parameter groups: "
            "weight_decay 0 for the names in optimizer.no_decay (every bias and every LayerNorm parameter), "
            "0.01 for the rest",
        },
        "f32_error_vs_f64": error,
        "tolerance_notes": "f32_error_vs_f64 is max |these f32 values - the same computation in f64 from the "
        "same parameters| per kind; a correct f32 port should land within a small multiple of it (suggested atol: "
        "1e-4 forward, 1e-5 gradients, 1e-5 AdamW). The attention key bias cannot change the output (softmax is "
        "shift-invariant per query), so grad.*.key.bias is rounding noise (~1e-8) and AdamW turns that noise "
        "into updates of up to ~lr * |g| / eps: compare *.attention.self.key.bias after AdamW with atol 1e-4 "
        "(and its gradient with an absolute tolerance only).",
        "optimizer": {
            "class": "torch.optim.AdamW",
            "lr": ADAMW["lr"],
            "betas": list(ADAMW["betas"]),
            "eps": ADAMW["eps"],
            "weight_decay": ADAMW["weight_decay"],
            "amsgrad": False,
            "steps": STEPS,
            "update": "t += 1; p -= lr * wd * p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; "
            "p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)",
            "decay": sorted(decay),
            "no_decay": sorted(n for n in param_names if n not in decay),
        },
    }
    write_json(os.path.join(args.out_dir, "meta.json"), meta)

    total = 0
    for name in sorted(os.listdir(args.out_dir)):
        path = os.path.join(args.out_dir, name)
        with open(path, "rb") as f:
            data = f.read()
        total += len(data)
        print(f"{hashlib.sha256(data).hexdigest()}  {len(data):>8}  {name}")
    print(f"make_bert_fixtures.py: {len(expected)} expected tensors, loss {out_loss:.6f}, "
          f"{total} bytes in {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
