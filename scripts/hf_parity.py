#!/usr/bin/env python3
"""Check that Hugging Face `tokenizers` gives the same ids as dnalm.

Loads a tokenizer.json (as dnalm exported it) with the Python `tokenizers`
package, encodes every line of the sequences file with `encode_batch`, and
compares the result, line by line, with the ids dnalm wrote.

Usage:
  hf_parity.py --tokenizer-json T --sequences S --ids I [--with-specials]
               [--tokens-out FILE]

  S: one upper-case DNA sequence per line.
  I: one line per sequence, the token ids dnalm produced, space-separated
     (an empty line means no tokens).
  --with-specials   encode with add_special_tokens=True (post-processor on).
  --tokens-out F    also write HF's ids to F in the same format as I.

Exit codes: 0 all ids identical; 1 a mismatch (the first 3 are printed);
2 usage error or unreadable / malformed input.

Python is used only for this test, never by dnalm at run time.
"""

import argparse
import sys

WINDOW = 4  # ids shown on each side of the first differing position
MAX_REPORTED = 3


def fail_input(msg):
    print(f"hf_parity: error: {msg}", file=sys.stderr)
    sys.exit(2)


def read_lines(path):
    try:
        with open(path, "r", encoding="ascii", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        fail_input(f"cannot read {path}: {e}")
    # One record per line; tolerate CRLF; a final newline does not start a
    # new (empty) record.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_ids(path):
    rows = []
    for n, line in enumerate(read_lines(path), start=1):
        try:
            rows.append([int(tok) for tok in line.split()])
        except ValueError:
            fail_input(f"{path}:{n}: not a space-separated list of integer ids: {line[:80]!r}")
    return rows


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def window(ids, pos, tokenizer):
    lo, hi = max(0, pos - WINDOW), min(len(ids), pos + WINDOW + 1)
    shown = []
    for i in range(lo, hi):
        tok = tokenizer.id_to_token(ids[i])
        cell = f"{ids[i]}:{tok if tok is not None else '?'}"
        shown.append(f"[{cell}]" if i == pos else cell)
    prefix = "... " if lo > 0 else ""
    suffix = " ..." if hi < len(ids) else ""
    return f"ids[{lo}..{hi}) = {prefix}{' '.join(shown)}{suffix}  (len {len(ids)})"


def main():
    ap = argparse.ArgumentParser(
        description="Compare dnalm token ids with Hugging Face tokenizers' ids.")
    ap.add_argument("--tokenizer-json", required=True, help="tokenizer.json to load")
    ap.add_argument("--sequences", required=True, help="one DNA sequence per line")
    ap.add_argument("--ids", required=True, help="dnalm's ids, one line per sequence")
    ap.add_argument("--with-specials", action="store_true",
                    help="encode with add_special_tokens=True")
    ap.add_argument("--tokens-out", help="write HF's ids here, same format as --ids")
    args = ap.parse_args()

    try:
        from tokenizers import Tokenizer
    except ImportError:
        fail_input("python package 'tokenizers' missing: run with the venv made by "
                   "scripts/setup-python.sh")

    try:
        tokenizer = Tokenizer.from_file(args.tokenizer_json)
    except Exception as e:  # tokenizers raises a bare Exception on bad JSON
        fail_input(f"cannot load {args.tokenizer_json}: {e}")

    sequences = read_lines(args.sequences)
    if not sequences:
        fail_input(f"{args.sequences} holds no sequences: nothing to compare")
    expected = parse_ids(args.ids)
    encodings = tokenizer.encode_batch(sequences, add_special_tokens=args.with_specials)
    got = [enc.ids for enc in encodings]

    if args.tokens_out:
        try:
            with open(args.tokens_out, "w", encoding="ascii") as f:
                for ids in got:
                    f.write(" ".join(map(str, ids)) + "\n")
        except OSError as e:
            fail_input(f"cannot write {args.tokens_out}: {e}")

    if len(expected) != len(sequences):
        print(f"hf parity: FAILED: {args.sequences} has {len(sequences)} lines but "
              f"{args.ids} has {len(expected)}", file=sys.stderr)
        return 1

    mismatches = [i for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    if mismatches:
        print(f"hf parity: FAILED: {len(mismatches)} of {len(sequences)} sequences differ "
              f"(add_special_tokens={args.with_specials})", file=sys.stderr)
        for i in mismatches[:MAX_REPORTED]:
            pos = first_difference(expected[i], got[i])
            seq = sequences[i]
            print(f"  line {i + 1}: first difference at token {pos} "
                  f"(sequence {len(seq)} nt: {seq[:40]}{'...' if len(seq) > 40 else ''})",
                  file=sys.stderr)
            print(f"    dnalm {window(expected[i], pos, tokenizer)}", file=sys.stderr)
            print(f"    hf    {window(got[i], pos, tokenizer)}", file=sys.stderr)
        return 1

    n_tokens = sum(len(ids) for ids in got)
    print(f"hf parity: {len(sequences)} sequences, {n_tokens} tokens, all ids identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
