#!/usr/bin/env python3
"""Write the GPT-2 causal-LM parity fixtures for dnalm-model / dnalm-train,
with Hugging Face `transformers` + PyTorch as the reference (the sibling of
make_bert_fixtures.py, whose file helpers it reuses).

Usage (run once; the output is committed):
  PY=$(scripts/setup-python-hf.sh | tail -1)
  "$PY" scripts/make_gpt2_fixtures.py [--out-dir crates/dnalm-model/tests/fixtures/gpt2_tiny]

Writes into OUT_DIR:
  config.json           HF GPT2Config of a tiny GPT2LMHeadModel (2 layers)
  model.safetensors     every parameter under its HF name, f32, Conv1D weights
                        [in, out]; the tied lm_head.weight written explicitly
  inputs.json           input_ids / attention_mask / labels, [3, 12], right-padded
  expected.safetensors  hidden states, logits, loss and gradients
  meta.json             versions, settings, names, shapes, how each tensor was made

Deterministic: fixed seeds, one thread, deterministic algorithms; a rerun with
the same torch / transformers / safetensors writes identical bytes.
"""

import argparse
import copy
import hashlib
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

try:
    import numpy
    import safetensors
    import torch
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel

    from make_bert_fixtures import f32_error, write_json, write_safetensors
except ImportError as e:
    sys.exit(f"make_gpt2_fixtures.py: error: {e}; run with the venv python of scripts/setup-python-hf.sh")

SEED = 20240602
PAD = 0  # GPT-2 has no pad token; padded positions hold id 0 and attention_mask 0
BATCH, SEQ = 3, 12
ROW_LENGTHS = [12, 9, 5]  # real tokens per row, padding on the right

CONFIG = dict(
    architectures=["GPT2LMHeadModel"],
    vocab_size=48,
    n_positions=24,
    n_embd=32,
    n_layer=2,
    n_head=4,
    n_inner=None,  # 4 * n_embd
    activation_function="gelu_new",
    resid_pdrop=0.0,
    embd_pdrop=0.0,
    attn_pdrop=0.0,
    layer_norm_epsilon=1e-5,
    initializer_range=0.02,
    bos_token_id=1,
    eos_token_id=1,
    tie_word_embeddings=True,
    torch_dtype="float32",
)
# As in make_bert_fixtures.py: noise on every parameter after HF's init, so no
# LayerNorm weight is 1 and no bias is 0, and large enough that attention is
# peaked and GELU inputs are O(1) (an erf GELU instead of gelu_new, or a
# missing 1/sqrt(head_dim), moves the logits by > 1e-3).
NOISE_STD_VECTOR = 0.1
NOISE_STD_MATRIX = 0.2


def die(msg):
    print(f"make_gpt2_fixtures.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def build_model():
    torch.manual_seed(SEED)
    config = GPT2Config(**CONFIG, attn_implementation="eager")
    model = GPT2LMHeadModel(config)
    model.eval()
    if model.config._attn_implementation != "eager":
        die(f"attention implementation is {model.config._attn_implementation}, not eager")
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for _, p in model.named_parameters():  # the tied lm_head appears once
            std = NOISE_STD_VECTOR if p.dim() == 1 else NOISE_STD_MATRIX
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * std)
    return config, model


def build_inputs():
    gen = torch.Generator().manual_seed(SEED + 2)
    input_ids = torch.full((BATCH, SEQ), PAD, dtype=torch.long)
    attention_mask = torch.zeros((BATCH, SEQ), dtype=torch.long)
    for row, length in enumerate(ROW_LENGTHS):
        input_ids[row, :length] = torch.randint(1, CONFIG["vocab_size"], (length,), generator=gen)
        attention_mask[row, :length] = 1
    # What DataCollatorForLanguageModeling(mlm=False) gives: the ids, -100 on padding.
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    return dict(input_ids=input_ids, attention_mask=attention_mask, labels=labels)


def reference(model, inputs):
    """Forward, loss and gradients at the model's current parameters."""
    model.zero_grad(set_to_none=True)
    out = model(**inputs, output_hidden_states=True, output_attentions=True)
    out.loss.backward()
    expected = {"logits": out.logits.detach(), "loss": out.loss.detach().reshape(1)}
    for i, h in enumerate(out.hidden_states):
        expected[f"hidden_states.{i}"] = h.detach()
    for i, a in enumerate(out.attentions):
        expected[f"attentions.{i}"] = a.detach()
    for n, p in model.named_parameters():
        expected[f"grad.{n}"] = p.grad.detach().clone()
    # The same loss by hand: next-token cross-entropy over non-padding targets.
    logits = out.logits[:, :-1, :].reshape(-1, out.logits.shape[-1])
    targets = inputs["labels"][:, 1:].reshape(-1)
    sel = targets != -100
    manual = torch.nn.functional.cross_entropy(logits[sel], targets[sel])
    if not torch.allclose(manual, out.loss, rtol=0, atol=1e-6):
        die(f"loss {out.loss.item()} != shifted mean cross-entropy {manual.item()}")
    model.zero_grad(set_to_none=True)
    return expected


def main():
    default_out = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dnalm-model", "tests", "fixtures", "gpt2_tiny"
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
    if model.lm_head.weight is not model.transformer.wte.weight:
        die("lm_head.weight is not tied to transformer.wte.weight")
    aliases = {k: "transformer.wte.weight" for k in state if k not in param_shapes}
    if set(aliases) != {"lm_head.weight"}:
        die(f"unexpected state_dict tensors beyond the parameters: {sorted(aliases)}")
    expected = reference(model, inputs)
    for k, v in expected.items():
        if v.dtype != torch.float32 or not torch.isfinite(v).all():
            die(f"{k}: not finite f32")
    model64 = copy.deepcopy(model).double()
    if model64.lm_head.weight is not model64.transformer.wte.weight:
        die("deepcopy lost the tied lm_head weight")
    error = f32_error(expected, reference(model64, inputs))

    cfg = {k: v for k, v in config.to_diff_dict().items() if not k.startswith("_")}
    write_json(os.path.join(args.out_dir, "config.json"), dict(sorted(cfg.items())))
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), dict(sorted(state.items())))
    write_json(os.path.join(args.out_dir, "inputs.json"), {k: v.tolist() for k, v in inputs.items()}, indent=None)
    write_safetensors(os.path.join(args.out_dir, "expected.safetensors"), expected)

    n_targets = int((inputs["labels"][:, 1:] != -100).sum())
    meta = {
        "generator": "scripts/make_gpt2_fixtures.py",
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
            "class": "transformers.GPT2LMHeadModel",
            "attn_implementation": model.config._attn_implementation,
            "activation_function": "gelu_new = tanh GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
            "blocks": "pre-LN: x + attn(ln_1(x)), then x + mlp(ln_2(x)); ln_f after the last block",
            "attention": "scores q.k / sqrt(head_dim); future keys set to finfo(float32).min, then "
            "(1 - attention_mask) * finfo(float32).min added for padded keys; softmax",
            "positions": "position_ids = arange(T) whatever the padding (HF's default without position_ids)",
            "conv1d": "c_attn, c_proj, mlp.c_fc, mlp.c_proj are HF Conv1D: y = x W + b with W stored [in, out]",
            "init": f"HF init with torch.manual_seed({SEED}), then every parameter += N(0, s^2) noise from "
            f"torch.Generator seed {SEED + 1} in named_parameters order: s = {NOISE_STD_VECTOR} for 1-D tensors, "
            f"{NOISE_STD_MATRIX} for 2-D.",
        },
        "inputs": {
            "shape": [BATCH, SEQ],
            "row_lengths": ROW_LENGTHS,
            "padding": f"right; padded positions hold id {PAD} with attention_mask 0",
            "labels": "input_ids with -100 on padding (the model shifts them itself)",
        },
        "parameters": [{"name": n, "shape": param_shapes[n]} for n in param_names],
        "model_safetensors": {
            "tensors": [{"name": k, "shape": list(v.shape)} for k, v in sorted(state.items())],
            "tied": aliases,
            "note": "all state_dict tensors (no buffers: attn.bias is non-persistent in this transformers); "
            "lm_head.weight written explicitly as an equal copy of transformer.wte.weight",
        },
        "expected": {
            "hidden_states.{i}": f"[{BATCH},{SEQ},{CONFIG['n_embd']}] i=0: embeddings (wte + wpe); "
            f"i=1..{CONFIG['n_layer'] - 1}: block outputs; i={CONFIG['n_layer']}: ln_f of the last block",
            "attentions.{l}": f"[{BATCH},{CONFIG['n_head']},{SEQ},{SEQ}] softmax attention probabilities of block l",
            "logits": f"[{BATCH},{SEQ},{CONFIG['vocab_size']}] at every position, padded ones included",
            "loss": f"[1] GPT2LMHeadModel loss: mean next-token cross-entropy over the {n_targets} positions "
            "t whose label t+1 is not -100",
            "grad.{name}": "d loss / d parameter for every name in 'parameters'; grad.transformer.wte.weight "
            "includes the gradient through the tied lm_head",
        },
        "f32_error_vs_f64": error,
        "tolerance_notes": "f32_error_vs_f64 is max |these f32 values - the same computation in f64 from the "
        "same parameters| per kind; suggested atol 1e-4 forward and loss, 1e-5 gradients. The key part of "
        "c_attn.bias cannot change the output (softmax is shift-invariant per query), so its gradient is "
        "rounding noise: compare gradients with an absolute tolerance.",
    }
    write_json(os.path.join(args.out_dir, "meta.json"), meta)

    total = 0
    for name in sorted(os.listdir(args.out_dir)):
        with open(os.path.join(args.out_dir, name), "rb") as f:
            data = f.read()
        total += len(data)
        print(f"{hashlib.sha256(data).hexdigest()}  {len(data):>8}  {name}")
    print(f"make_gpt2_fixtures.py: {len(expected)} expected tensors, loss {float(expected['loss'][0]):.6f}, "
          f"{total} bytes in {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
