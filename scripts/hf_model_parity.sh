#!/usr/bin/env bash
# Hugging Face parity of a BERT masked-LM or sequence classifier exported by
# dnalm, with `transformers` + PyTorch as the oracle (scripts/hf_load_check.py):
#  1. DIR loads as BertForMaskedLM (or, when config.json's architectures say
#     so, BertForSequenceClassification) with no missing / unexpected / mismatched
#     keys (and its tokenizer.json / vocab.txt loads, if present), and gives
#     the logits dnalm computed for SAMPLE within ATOL;
#  2. the check itself can fail: a copy of SAMPLE with one logit moved by
#     100 * ATOL must be rejected.
#
# Contract with the Rust side (it produces both inputs; this script does not
# run dnalm):
#   DIR     config.json + model.safetensors with HF BERT names (f32, Linear
#           weights [out, in], metadata {"format":"pt"}), optionally
#           tokenizer.json / tokenizer_config.json / vocab.txt
#   SAMPLE  safetensors: input_ids and attention_mask (int64 or int32 [B, T]),
#           optional token_type_ids (same), logits (f32 [B, T, vocab_size];
#           [B, num_labels] for a classifier)
#           computed by dnalm in eval mode on DIR's weights
#
# Usage: scripts/hf_model_parity.sh --model-dir DIR --sample SAMPLE [--atol 1e-4] [hf_load_check.py options...]
#   (extra options, e.g. --ignore-padded or --skip-tokenizer, go to both checks)
# The venv comes from scripts/setup-python-hf.sh (DNALM_HF_VENV to move it).
set -euo pipefail

die() { echo "hf_model_parity: error: $*" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"

model_dir="" sample="" atol="1e-4" extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --model-dir) [[ $# -ge 2 ]] || die "--model-dir needs a value"; model_dir="$2"; shift 2 ;;
        --sample) [[ $# -ge 2 ]] || die "--sample needs a value"; sample="$2"; shift 2 ;;
        --atol) [[ $# -ge 2 ]] || die "--atol needs a value"; atol="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) extra+=("$1"); shift ;;
    esac
done
[[ -n "$model_dir" && -n "$sample" ]] || die "usage: scripts/hf_model_parity.sh --model-dir DIR --sample SAMPLE [--atol 1e-4]"
[[ -d "$model_dir" ]] || die "--model-dir $model_dir is not a directory"
[[ -f "$sample" ]] || die "--sample $sample is not a file"

PY="$(bash "$root/scripts/setup-python-hf.sh" | tail -1)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# 1. The export as it is.
"$PY" "$root/scripts/hf_load_check.py" --model-dir "$model_dir" --sample "$sample" --atol "$atol" \
    ${extra[@]+"${extra[@]}"} > "$tmp/check.json"

# 2. One logit (at the first unpadded position) moved by 100 * atol must fail.
"$PY" - "$sample" "$tmp/perturbed.safetensors" "$atol" <<'EOF'
import sys
from safetensors.torch import load_file, save_file
src, dst, atol = sys.argv[1], sys.argv[2], float(sys.argv[3])
t = load_file(src)
if t["logits"].dim() == 2:  # a sequence classifier: [B, labels]
    t["logits"][0, 0] += 100 * atol
else:
    b, p = (t["attention_mask"] != 0).nonzero()[0].tolist()
    t["logits"][b, p, 0] += 100 * atol
save_file(t, dst, metadata={"format": "pt"})
EOF
"$PY" "$root/scripts/hf_load_check.py" --model-dir "$model_dir" --sample "$tmp/perturbed.safetensors" \
    --atol "$atol" --expect-fail ${extra[@]+"${extra[@]}"} > /dev/null \
    || { echo "hf_model_parity: FAILED: a perturbed logit was not detected" >&2; exit 1; }
diff=$("$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print("%.2e over %s" % (d["compared_max_abs_diff"], d["compared"]))' "$tmp/check.json")
echo "hf_model_parity: 2 passed, 0 failed (max |logits diff| $diff, atol $atol)"
