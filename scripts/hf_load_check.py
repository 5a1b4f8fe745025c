#!/usr/bin/env python3
"""Check that a model directory exported by dnalm loads in Hugging Face
`transformers` as a BertForMaskedLM (or a BertForSequenceClassification,
when config.json's architectures name it) and reproduces dnalm's logits.

Usage:
  PY=$(scripts/setup-python-hf.sh | tail -1)
  "$PY" scripts/hf_load_check.py --model-dir DIR --sample SAMPLE.safetensors [--atol 1e-4]
        [--ignore-padded] [--skip-tokenizer] [--expect-fail]

DIR holds config.json + model.safetensors (and optionally tokenizer.json /
vocab.txt / tokenizer_config.json). SAMPLE.safetensors holds, as computed by
dnalm on that model:
  input_ids       int64 or int32 [B, T]
  attention_mask  int64 or int32 [B, T]
  token_type_ids  optional, int64 or int32 [B, T] (zeros when absent)
  logits          f32 [B, T, V], V = config.vocab_size
                  (a classifier: f32 [B, num_labels])

Checks, in order (the first failure ends the run):
  1. BertForMaskedLM.from_pretrained(DIR, local_files_only) reports no missing,
     unexpected or mismatched keys and no load errors;
  2. if DIR has tokenizer.json or vocab.txt: AutoTokenizer (else
     PreTrainedTokenizerFast on tokenizer.json) loads it and its length is at
     most config.vocab_size (skip with --skip-tokenizer);
  3. the model in eval mode, run on the sample's ids, gives logits within
     --atol (max abs difference) of the sample's, at every position
     (--ignore-padded: only where attention_mask is 1).

Exit 0 when all pass, 1 on a failure (one line "hf_load_check: FAIL: ..." on
stderr), 2 on a usage error. --expect-fail inverts step 3 for self-tests: exit
0 only if the model loads but the logits are NOT within atol (for a
deliberately perturbed sample); any other failure still exits 1. A JSON
summary line goes to stdout; logs go to stderr. Nothing is downloaded.
"""

import argparse
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

PROG = "hf_load_check"


def log(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


def fail(msg, summary=None):
    if summary is not None:
        summary["result"] = "fail"
        summary["reason"] = msg
        print(json.dumps(summary))
    print(f"{PROG}: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


try:
    import torch
    import transformers
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertForMaskedLM, BertForSequenceClassification, PreTrainedTokenizerFast
except ImportError as e:
    print(f"{PROG}: error: {e}; run with the venv python of scripts/setup-python-hf.sh", file=sys.stderr)
    sys.exit(1)


def one_line(e, limit=300):
    text = " | ".join(line.strip() for line in str(e).splitlines() if line.strip()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def model_class(model_dir):
    """BertForSequenceClassification when config.json names it, else BertForMaskedLM."""
    try:
        with open(os.path.join(model_dir, "config.json")) as f:
            archs = json.load(f).get("architectures") or []
    except (OSError, ValueError):
        archs = []
    return BertForSequenceClassification if "BertForSequenceClassification" in archs else BertForMaskedLM


def load_model(model_dir, summary):
    cls = model_class(model_dir)
    summary["class"] = cls.__name__
    try:
        model, info = cls.from_pretrained(
            model_dir,
            output_loading_info=True,
            local_files_only=True,
            torch_dtype=torch.float32,
            # Report wrong shapes as mismatched_keys (with both shapes) instead of raising.
            ignore_mismatched_sizes=True,
        )
    except Exception as e:  # unreadable or absent files, bad config.json
        fail(f"{cls.__name__}.from_pretrained({model_dir}) raised {type(e).__name__}: {one_line(e)}", summary)
    problems = []
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        items = [
            f"{x[0]} (file {list(x[1])}, model {list(x[2])})" if isinstance(x, tuple) and len(x) == 3 else str(x)
            for x in info.get(key, [])
        ]
        summary[key] = items
        if items:
            shown = ", ".join(items[:5]) + (f" (+{len(items) - 5} more)" if len(items) > 5 else "")
            problems.append(f"{len(items)} {key.replace('_', ' ')}: {shown}")
    if problems:
        fail(f"{model_dir}: " + "; ".join(problems), summary)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    summary["parameters"] = n_params
    log(f"loaded {model_dir}: {cls.__name__}, {model.config.num_hidden_layers} layers, hidden "
        f"{model.config.hidden_size}, vocab {model.config.vocab_size}, {n_params} parameters, no key problems")
    return model


def check_tokenizer(model_dir, vocab_size, summary):
    files = [f for f in ("tokenizer.json", "vocab.txt") if os.path.isfile(os.path.join(model_dir, f))]
    if not files:
        summary["tokenizer"] = None
        log("no tokenizer.json / vocab.txt in the model dir; tokenizer not checked")
        return
    how = "AutoTokenizer"
    try:
        tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    except Exception as e:
        if "tokenizer.json" not in files:
            fail(f"AutoTokenizer cannot load {model_dir} ({', '.join(files)}): {type(e).__name__}: {one_line(e)}",
                 summary)
        log(f"AutoTokenizer failed ({type(e).__name__}: {one_line(e)}); trying PreTrainedTokenizerFast")
        how = "PreTrainedTokenizerFast"
        try:
            tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(model_dir, "tokenizer.json"))
        except Exception as e2:
            fail(f"neither AutoTokenizer nor PreTrainedTokenizerFast loads {model_dir}: "
                 f"{type(e2).__name__}: {one_line(e2)}", summary)
    info = {
        "files": files,
        "loaded_with": how,
        "class": type(tok).__name__,
        "len": len(tok),
        "special_tokens": {k: str(v) for k, v in sorted(tok.special_tokens_map.items())},
    }
    summary["tokenizer"] = info
    log(f"tokenizer: {how} -> {info['class']}, {info['len']} tokens, specials {info['special_tokens']}")
    if len(tok) > vocab_size:
        fail(f"tokenizer has {len(tok)} tokens but config.vocab_size is {vocab_size}", summary)


def load_sample(path, vocab_size, num_labels, summary):
    try:
        sample = load_file(path)
    except (OSError, SafetensorError) as e:
        fail(f"cannot read sample {path}: {one_line(e)}", summary)
    for key in ("input_ids", "attention_mask", "logits"):
        if key not in sample:
            fail(f"{path} has no '{key}' tensor (has: {', '.join(sorted(sample))})", summary)
    ids = sample["input_ids"]
    if ids.dim() != 2:
        fail(f"{path}: input_ids must be [B, T], got {list(ids.shape)}", summary)
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        if key in sample:
            t = sample[key]
            if t.dtype not in (torch.int64, torch.int32):
                fail(f"{path}: {key} must be int64 or int32, got {t.dtype}", summary)
            if list(t.shape) != list(ids.shape):
                fail(f"{path}: {key} is {list(t.shape)}, input_ids is {list(ids.shape)}", summary)
            sample[key] = t.long()
    logits = sample["logits"]
    b, t = ids.shape
    want = [b, num_labels] if num_labels else [b, t, vocab_size]
    if logits.dtype != torch.float32 or list(logits.shape) != want:
        fail(f"{path}: logits must be f32 {want}, got {logits.dtype} {list(logits.shape)}", summary)
    if int(ids.min()) < 0 or int(ids.max()) >= vocab_size:
        fail(f"{path}: input_ids outside 0..{vocab_size - 1} (min {int(ids.min())}, max {int(ids.max())})", summary)
    return sample


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True, help="dir with config.json + model.safetensors")
    ap.add_argument("--sample", required=True, help="safetensors with input_ids, attention_mask, logits")
    ap.add_argument("--atol", type=float, default=1e-4, help="max allowed |logits difference| (default 1e-4)")
    ap.add_argument("--ignore-padded", action="store_true", help="compare only where attention_mask is 1")
    ap.add_argument("--skip-tokenizer", action="store_true", help="do not load tokenizer.json / vocab.txt")
    ap.add_argument("--expect-fail", action="store_true",
                    help="self-test: succeed only if the logits comparison fails")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = ap.parse_args()
    if not os.path.isdir(args.model_dir):
        ap.error(f"--model-dir {args.model_dir} is not a directory")
    if not os.path.isfile(args.sample):
        ap.error(f"--sample {args.sample} is not a file")
    if not args.atol > 0:
        ap.error("--atol must be > 0")
    torch.set_num_threads(max(1, args.threads))

    summary = {
        "model_dir": args.model_dir,
        "sample": args.sample,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "atol": args.atol,
        "expect_fail": args.expect_fail,
    }
    model = load_model(args.model_dir, summary)
    vocab_size = model.config.vocab_size
    if args.skip_tokenizer:
        summary["tokenizer"] = "skipped"
    else:
        check_tokenizer(args.model_dir, vocab_size, summary)
    classifier = isinstance(model, BertForSequenceClassification)
    num_labels = model.config.num_labels if classifier else None
    sample = load_sample(args.sample, vocab_size, num_labels, summary)
    ids, mask = sample["input_ids"], sample["attention_mask"]
    if ids.shape[1] > model.config.max_position_embeddings:
        fail(f"sample has {ids.shape[1]} positions, max_position_embeddings is "
             f"{model.config.max_position_embeddings}", summary)
    with torch.no_grad():
        logits = model(
            input_ids=ids,
            attention_mask=mask,
            token_type_ids=sample.get("token_type_ids", torch.zeros_like(ids)),
        ).logits
    diff = (logits - sample["logits"]).abs()
    if classifier:
        # One row of logits per sequence: every value is compared, and the
        # class probabilities beside them.
        probs = (torch.softmax(logits, -1) - torch.softmax(sample["logits"], -1)).abs()
        summary["max_abs_prob_diff"] = float(probs.max())
        real = torch.ones(diff.shape, dtype=torch.bool)
        args.ignore_padded = False
    else:
        real = mask.bool()
    max_all = float(diff.max())
    max_real = float(diff[real].max()) if bool(real.any()) else 0.0
    compared = max_real if args.ignore_padded else max_all
    cmp = diff.masked_fill(~real.unsqueeze(-1), 0.0) if args.ignore_padded else diff
    where = "[b, label]" if classifier else "[b, t, v]"
    worst = [int(i) for i in torch.nonzero(cmp == cmp.max())[0]] if bool(torch.isfinite(cmp).all()) else "non-finite"
    summary.update(
        shape=list(sample["logits"].shape),
        max_abs_diff=max_all,
        max_abs_diff_unpadded=max_real,
        compared=("unpadded positions" if args.ignore_padded else "all positions"),
        compared_max_abs_diff=compared,
        worst_index=worst,
    )
    ok = compared <= args.atol and bool(torch.isfinite(logits).all())
    log(f"logits {list(logits.shape)}: max |diff| {max_all:.3e} (all positions), {max_real:.3e} "
        f"(attention_mask 1), atol {args.atol:.1e}, worst at {where} = {worst}")
    if args.expect_fail:
        if ok:
            fail(f"expected a logits mismatch but max |diff| {compared:.3e} <= atol {args.atol:.1e}: "
                 "the check cannot see this perturbation", summary)
        summary["result"] = "pass (mismatch detected as expected)"
        print(json.dumps(summary))
        log(f"PASS: the perturbed sample was rejected (max |diff| {compared:.3e} > atol {args.atol:.1e})")
        return
    if not ok:
        fail(f"logits differ: max |diff| {compared:.3e} > atol {args.atol:.1e} at {where} = {worst} "
             f"({summary['compared']})", summary)
    summary["result"] = "pass"
    print(json.dumps(summary))
    log(f"PASS: {args.model_dir} loads with no key problems and reproduces the logits within {args.atol:.1e}")


if __name__ == "__main__":
    main()
