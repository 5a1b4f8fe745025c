#!/usr/bin/env python3
"""PyTorch peer for dnalm's BERT benchmark: Hugging Face BertForMaskedLM on
CPU, timed per step for training and for inference.

Usage:
  PY=$(scripts/setup-python-hf.sh | tail -1)
  "$PY" bench/bert_peer.py --preset tiny               # both measurements
  "$PY" bench/bert_peer.py --preset bench4 --threads 2 --repeat 5 --json out.jsonl
  "$PY" bench/bert_peer.py --layers 2 --hidden 128 --heads 4 --intermediate 512 \\
        --vocab 4461 --seq 128 --batch 16 --only train

Presets (explicit options override them):
  tiny    layers 2, hidden 128, heads 4, intermediate 512,  vocab 4461, seq 128, batch 16
  bench4  layers 4, hidden 256, heads 4, intermediate 1024, vocab 4461, seq 128, batch 16

Measurements (each in its own child process, so peak RSS is its own):
  train      model.train(); zero_grad; forward with MLM labels on 15% of the
             positions (BERT's 80/10/10 [MASK]/random/kept corruption),
             loss.backward(); torch.optim.AdamW(all parameters, lr 1e-4,
             betas (0.9, 0.98), eps 1e-6, weight_decay 0.01).step().
             Dropout --dropout (0.1) on hidden states and attention.
  inference  model.eval(); torch.no_grad(); forward to MLM logits [B, T, V].
Inputs: random ids in 5..vocab-1 with [CLS]=2 first and [SEP]=3 last, no
padding, 4 pre-built batches used in turn (seeded). Each measurement runs
--warmup untimed steps, then --repeat timed steps (time.perf_counter around
one whole step).

Threads: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS are set to
--threads before torch loads, and torch.set_num_threads(--threads). Debian's
torch does its matrix products in libblas.so.3; the children are started with
/usr/lib/x86_64-linux-gnu/openblas-openmp first on LD_LIBRARY_PATH (when it
exists), because the pthread OpenBLAS fights torch's OpenMP threads for the
cores (2-3x slower, noisy). The "blas" field names the library really loaded.

Output: one JSON line per measurement on stdout (also appended to --json
FILE): median_ms and min_ms per step, tokens_per_s (batch*seq / median),
tokens_per_s_best (from min), peak_rss_mib (getrusage ru_maxrss of the
measuring process: Python + torch + model + optimiser + activations), the
config, threads and versions. Logs go to stderr. No timing assertions.
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time

PRESETS = {
    "tiny": dict(layers=2, hidden=128, heads=4, intermediate=512, vocab=4461, seq=128, batch=16),
    "bench4": dict(layers=4, hidden=256, heads=4, intermediate=1024, vocab=4461, seq=128, batch=16),
}
SHAPE_KEYS = ("layers", "hidden", "heads", "intermediate", "vocab", "seq", "batch")
CLS, SEP, MASK, FIRST_ORDINARY_ID = 2, 3, 4, 5
ADAMW = dict(lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
N_BATCHES = 4
OPENBLAS_OPENMP = "/usr/lib/x86_64-linux-gnu/openblas-openmp"


def die(msg):
    print(f"bert_peer.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(f"bert_peer.py: {msg}", file=sys.stderr)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), help="named shape (explicit options override it)")
    for k in SHAPE_KEYS:
        ap.add_argument(f"--{k}", type=int)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    ap.add_argument("--repeat", type=int, default=5, help="timed steps (default 5)")
    ap.add_argument("--dropout", type=float, default=0.1, help="hidden and attention dropout (default 0.1)")
    ap.add_argument("--mask-prob", type=float, default=0.15, help="share of positions with MLM labels (default 0.15)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=["train", "inference"], help="run one measurement in this process")
    ap.add_argument("--json", help="also append the JSON lines to this file")
    args = ap.parse_args()
    shape = dict(PRESETS[args.preset]) if args.preset else {}
    for k in SHAPE_KEYS:
        if getattr(args, k) is not None:
            shape[k] = getattr(args, k)
    missing = [k for k in SHAPE_KEYS if k not in shape]
    if missing:
        ap.error(f"give --preset or all of --{' --'.join(missing)}")
    for k, v in shape.items():
        if v <= 0:
            ap.error(f"--{k} must be positive")
    if shape["hidden"] % shape["heads"]:
        ap.error(f"--hidden {shape['hidden']} is not a multiple of --heads {shape['heads']}")
    if shape["vocab"] <= FIRST_ORDINARY_ID or shape["seq"] < 3:
        ap.error("need --vocab > 5 and --seq >= 3")
    if args.threads < 1 or args.warmup < 0 or args.repeat < 1:
        ap.error("need --threads >= 1, --warmup >= 0, --repeat >= 1")
    if not 0 < args.mask_prob < 1:
        ap.error("--mask-prob must be in (0, 1)")
    args.shape = shape
    return args


def make_batches(torch, shape, mask_prob, seed):
    """Pre-built MLM batches: (input_ids, attention_mask, labels)."""
    gen = torch.Generator().manual_seed(seed)
    b, t, v = shape["batch"], shape["seq"], shape["vocab"]
    batches = []
    for _ in range(N_BATCHES):
        ids = torch.randint(FIRST_ORDINARY_ID, v, (b, t), generator=gen)
        ids[:, 0] = CLS
        ids[:, -1] = SEP
        labels = torch.full((b, t), -100, dtype=torch.long)
        pick = torch.rand((b, t), generator=gen) < mask_prob
        pick[:, 0] = False
        pick[:, -1] = False
        labels[pick] = ids[pick]
        r = torch.rand((b, t), generator=gen)
        inputs = ids.clone()
        inputs[pick & (r < 0.8)] = MASK
        rand_pos = pick & (r >= 0.8) & (r < 0.9)
        inputs[rand_pos] = torch.randint(FIRST_ORDINARY_ID, v, (int(rand_pos.sum()),), generator=gen)
        batches.append((inputs, torch.ones((b, t), dtype=torch.long), labels))
    return batches


def measure(args):
    # Thread counts must be in the environment before torch (and its BLAS) load:
    # Debian's torch calls OpenBLAS through libblas.so.3, which sizes its pool then.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import torch
        import transformers
        from transformers import BertConfig, BertForMaskedLM
    except ImportError as e:
        die(f"{e}; run with the venv python of scripts/setup-python-hf.sh")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    s = args.shape
    config = BertConfig(
        vocab_size=s["vocab"],
        hidden_size=s["hidden"],
        num_hidden_layers=s["layers"],
        num_attention_heads=s["heads"],
        intermediate_size=s["intermediate"],
        max_position_embeddings=max(512, s["seq"]),
        type_vocab_size=2,
        hidden_act="gelu",
        hidden_dropout_prob=args.dropout,
        attention_probs_dropout_prob=args.dropout,
        pad_token_id=0,
    )
    model = BertForMaskedLM(config)
    batches = make_batches(torch, s, args.mask_prob, args.seed)
    labelled = sum(int((lab != -100).sum()) for _, _, lab in batches) / len(batches)

    if args.only == "train":
        model.train()
        opt = torch.optim.AdamW(model.parameters(), **ADAMW)

        def step(i):
            ids, mask, labels = batches[i % N_BATCHES]
            opt.zero_grad(set_to_none=True)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            opt.step()
            return float(loss)
    else:
        model.eval()

        def step(i):
            ids, mask, _ = batches[i % N_BATCHES]
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=mask).logits
            return float(logits[0, 0, 0])

    times = []
    last = None
    for i in range(args.warmup + args.repeat):
        t0 = time.perf_counter()
        last = step(i)
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            times.append(dt)
    if last != last:  # NaN
        die("the step produced NaN")
    median, best = statistics.median(times), min(times)
    tokens = s["batch"] * s["seq"]
    return {
        "peer": "pytorch-transformers",
        "measurement": args.only,
        "preset": args.preset,
        **{k: s[k] for k in SHAPE_KEYS},
        "max_position_embeddings": config.max_position_embeddings,
        "parameters": sum(p.numel() for p in model.parameters()),
        "dropout": args.dropout if args.only == "train" else 0.0,
        "mlm_labelled_per_batch": labelled,
        "threads": args.threads,
        "warmup": args.warmup,
        "repeat": args.repeat,
        "median_ms": round(median * 1e3, 3),
        "min_ms": round(best * 1e3, 3),
        "tokens_per_s": round(tokens / median, 1),
        "tokens_per_s_best": round(tokens / best, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "step_times_ms": [round(t * 1e3, 3) for t in times],
        "optimizer": "AdamW lr 1e-4 betas (0.9, 0.98) eps 1e-6 weight_decay 0.01" if args.only == "train" else None,
        "attn_implementation": model.config._attn_implementation,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "blas": blas_info(torch),
        "python": platform.python_version(),
        "cpu": cpu_model(),
    }


def blas_info(torch):
    """torch's BLAS_INFO, plus the BLAS library really loaded (Debian: libblas.so.3)."""
    m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    info = m.group(1) if m else "unknown"
    loaded = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            for line in f:
                path = line.split()[-1]
                if re.search(r"/lib(open)?blas[^/]*\.so", path):
                    loaded.add(path)
    except OSError:
        pass
    return f"{info} ({', '.join(sorted(loaded))})" if loaded else info


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} x {os.cpu_count()}"
    except OSError:
        pass
    return f"{platform.machine()} x {os.cpu_count()}"


def emit(line, path):
    print(line, flush=True)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def main():
    args = parse_args()
    if args.only:
        emit(json.dumps(measure(args)), args.json)
        return
    # One child per measurement, so each peak RSS is that measurement's own.
    child = sys.argv[1:]
    env = dict(os.environ)
    if os.path.isdir(OPENBLAS_OPENMP):
        # Debian's torch takes libblas.so.3 from here if asked first: OpenBLAS on
        # OpenMP shares torch's thread pool, the pthread build oversubscribes it.
        env["LD_LIBRARY_PATH"] = ":".join(p for p in (OPENBLAS_OPENMP, env.get("LD_LIBRARY_PATH")) if p)
    for what in ("inference", "train"):
        log(f"{what}: {args.shape}, {args.threads} threads, {args.warmup} warmup + {args.repeat} timed steps")
        res = subprocess.run([sys.executable, os.path.abspath(__file__), *child, "--only", what],
                             stdout=subprocess.PIPE, text=True, env=env)
        if res.returncode != 0:
            die(f"the {what} measurement failed (exit {res.returncode})")
        lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
        if not lines:
            die(f"the {what} measurement printed nothing")
        print(lines[-1], flush=True)  # the child already appended to --json
        d = json.loads(lines[-1])
        log(f"{what}: median {d['median_ms']:.1f} ms/step, min {d['min_ms']:.1f} ms, "
            f"{d['tokens_per_s']:.0f} tokens/s, peak RSS {d['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
