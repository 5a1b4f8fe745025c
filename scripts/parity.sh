#!/usr/bin/env bash
# Hugging Face parity on real sequence, with Python `tokenizers` as the oracle:
#  1. a BPE-600 trained by dnalm, exported to tokenizer.json, gives identical
#     ids in Python (with and without [CLS]/[SEP]);
#  2. a BPE tokenizer.json trained and written by Python is imported by dnalm
#     and encodes identically;
#  3. the check itself can fail: one changed id must be caught.
# Sequence: the shared hg38 chr2 window when present, else the seeded
# demonstration genome (so this runs on a fresh machine too).
# Usage: scripts/parity.sh [path/to/dnalm]   (default: target/debug/dnalm)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dnalm="${1:-$root/target/debug/dnalm}"
[[ -x "$dnalm" ]] || cargo build -q -p dnalm-cli
PY="$(scripts/setup-python.sh | tail -1)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

chr2="$root/../shared/data/genome/hg38_chr2_1-2333275.fa.gz"
if [[ -f "$chr2" ]]; then
  src="$chr2"; echo "parity: sequence from $chr2" >&2
else
  "$dnalm" -q quickstart --out-dir "$tmp/qs" --records 1 --record-len 1200000 --merges 20
  src="$tmp/qs/genome.fa.gz"; echo "parity: shared data absent; demonstration genome" >&2
fi
# 3,000 segments of 305 nt (0.9 Mb) keep the debug-build run short.
"$dnalm" -q corpus "$src" --window 305 --sample 3000 --seed 7 -o "$tmp/seg.txt"

# 1. dnalm -> tokenizer.json -> Python.
"$dnalm" -q tokenizer train --kind bpe --merges 600 "$tmp/seg.txt" -o "$tmp/bpe.json"
"$dnalm" -q tokenizer export -t "$tmp/bpe.json" --out-dir "$tmp/hf"
"$dnalm" -q tokenizer encode -t "$tmp/bpe.json" "$tmp/seg.txt" -o "$tmp/ids.txt"
"$PY" scripts/hf_parity.py --tokenizer-json "$tmp/hf/tokenizer.json" --sequences "$tmp/seg.txt" --ids "$tmp/ids.txt"
"$dnalm" -q tokenizer encode -t "$tmp/bpe.json" --add-special-tokens "$tmp/seg.txt" -o "$tmp/ids_sp.txt"
"$PY" scripts/hf_parity.py --tokenizer-json "$tmp/hf/tokenizer.json" --sequences "$tmp/seg.txt" --ids "$tmp/ids_sp.txt" --with-specials

# 2. Python -> tokenizer.json -> dnalm.
"$PY" scripts/hf_train_bpe.py --segments "$tmp/seg.txt" --vocab 604 --out "$tmp/py_tokenizer.json"
"$dnalm" -q tokenizer encode -t "$tmp/py_tokenizer.json" "$tmp/seg.txt" -o "$tmp/ids_py.txt"
"$PY" scripts/hf_parity.py --tokenizer-json "$tmp/py_tokenizer.json" --sequences "$tmp/seg.txt" --ids "$tmp/ids_py.txt"

# 3. The check must catch a single changed id.
awk 'NR==1{ $1 = ($1 == 5 ? 6 : 5) } { print }' "$tmp/ids.txt" > "$tmp/ids_bad.txt"
if "$PY" scripts/hf_parity.py --tokenizer-json "$tmp/hf/tokenizer.json" --sequences "$tmp/seg.txt" --ids "$tmp/ids_bad.txt" >/dev/null 2>&1; then
  echo "parity: FAILED: a changed id was not detected" >&2; exit 1
fi
echo "parity: 3 passed, 0 failed"
