#!/usr/bin/env python3
"""Train a BPE tokenizer with Hugging Face `tokenizers` (the reference
implementation) on one DNA segment per line, and save its tokenizer.json.

Used by scripts/parity.sh to check that dnalm imports a tokenizer.json that
Python wrote and encodes exactly as Python does. Never used at run time.

Usage: hf_train_bpe.py --segments FILE --vocab N --out tokenizer.json
"""

import argparse
import sys

from tokenizers import Tokenizer, models, trainers

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", required=True)
    ap.add_argument("--vocab", type=int, default=604)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.segments) as f:
        lines = [line.strip() for line in f if line.strip()]
    if not lines:
        print(f"hf_train_bpe: {args.segments}: no segments", file=sys.stderr)
        return 2
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab,
        special_tokens=SPECIALS,
        initial_alphabet=["A", "C", "G", "T"],
        show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    tok.save(args.out)
    print(f"hf_train_bpe: {len(lines)} segments -> {tok.get_vocab_size()} tokens -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
