#!/usr/bin/env python3
"""Check that a classifier exported by `dnalm export-hf` gives, in Hugging
Face `transformers`, the probabilities `dnalm promoter predict` gave.

Usage:
  PY=$(scripts/setup-python-hf.sh | tail -1)
  "$PY" scripts/hf_classify_check.py --model-dir DIR --input DATA.csv --preds PREDS.tsv [--atol 1e-4]

DIR is the export (config.json naming BertForSequenceClassification,
model.safetensors, tokenizer.json); DATA.csv has a `sequence` column; PREDS.tsv
is `dnalm promoter predict`'s output for the same rows (name, probability,
...). Each sequence goes through the exported tokenizer (AutoTokenizer, which
adds [CLS] and [SEP]) and the model in eval mode; the softmax probability of
class 1 must be within --atol of dnalm's for every row. Exit 0 on a pass, 1 on
a mismatch (the worst rows on stderr). Nothing is downloaded.
"""

import argparse
import csv
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
from transformers import AutoTokenizer, BertForSequenceClassification  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--preds", required=True)
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    torch.set_num_threads(2)
    with open(args.input, newline="") as f:
        seqs = [r["sequence"] for r in csv.DictReader(f)]
    with open(args.preds, newline="") as f:
        want = [float(r["probability"]) for r in csv.DictReader(f, delimiter="\t")]
    if len(seqs) != len(want):
        sys.exit(f"hf_classify_check: FAIL: {len(seqs)} sequences in {args.input}, {len(want)} rows in {args.preds}")
    tok = AutoTokenizer.from_pretrained(args.model_dir, local_files_only=True)
    model = BertForSequenceClassification.from_pretrained(args.model_dir, local_files_only=True).eval()
    got = []
    with torch.no_grad():
        for i in range(0, len(seqs), 16):
            enc = tok(seqs[i : i + 16], padding=True, return_tensors="pt")
            enc.pop("token_type_ids", None)
            got.extend(torch.softmax(model(**enc).logits, -1)[:, 1].tolist())
    diffs = sorted(((abs(g - w), i, g, w) for i, (g, w) in enumerate(zip(got, want))), reverse=True)
    worst = diffs[0][0]
    if worst > args.atol:
        for d, i, g, w in diffs[:5]:
            print(f"hf_classify_check: row {i + 1}: transformers {g:.6f}, dnalm {w:.6f} (|diff| {d:.2e})", file=sys.stderr)
        sys.exit(f"hf_classify_check: FAIL: probabilities differ by up to {worst:.2e} > atol {args.atol:.1e}")
    print(f"hf_classify_check: PASS: {len(seqs)} probabilities within {worst:.2e} of dnalm's (atol {args.atol:.1e})")


if __name__ == "__main__":
    main()
