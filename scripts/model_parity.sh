#!/usr/bin/env bash
# Model parity with Hugging Face `transformers` + PyTorch as the oracle:
# dnalm pre-trains a tiny BERT for a few steps on the seeded demonstration
# genome, exports it with `dnalm export-hf --sample`, and
# scripts/hf_model_parity.sh checks that BertForMaskedLM.from_pretrained
# loads it with no missing or unexpected weights and gives dnalm's logits
# (max abs diff <= 1e-4), and that a perturbed logit is caught; then a
# classifier fine-tuned from the BPE model is exported and checked the same
# way as BertForSequenceClassification, and on raw sequences against
# `dnalm promoter predict` (scripts/hf_classify_check.py).
# Usage: scripts/model_parity.sh [path/to/dnalm]   (default: target/debug/dnalm)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dnalm="${1:-$root/target/debug/dnalm}"
[[ -x "$dnalm" ]] || cargo build -q -p dnalm-cli
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$dnalm" -q quickstart --out-dir "$tmp/qs" --records 1 --record-len 200000 --merges 20 --skip-pretrain
"$dnalm" -q corpus "$tmp/qs/genome.fa.gz" --window 305 -o "$tmp/seg.txt"
"$dnalm" -q tokenizer train --kind kmer --k 6 --order dnabert -o "$tmp/kmer.json"
"$dnalm" -q tokenizer train --kind bpe --merges 50 "$tmp/seg.txt" -o "$tmp/bpe.json"
for name in kmer bpe; do
  "$dnalm" -q pretrain -t "$tmp/$name.json" "$tmp/seg.txt" --out-dir "$tmp/run-$name" \
    --max-steps 3 --warmup-steps 1 --batch-size 4 --grad-accum 1 --eval-every 3 --max-len 128
  "$dnalm" -q export-hf -m "$tmp/run-$name" --out-dir "$tmp/hf-$name" --sample 3
  echo "model parity: $name tokenizer" >&2
  bash scripts/hf_model_parity.sh --model-dir "$tmp/hf-$name" --sample "$tmp/hf-$name/dnalm_sample.safetensors"
done

# A fine-tuned classifier exports as BertForSequenceClassification (pooler and
# classifier included): the same logits on the sample, and the same
# probabilities as `dnalm promoter predict` on raw sequences run through the
# exported tokenizer.
"$dnalm" -q corpus "$tmp/qs/genome.fa.gz" --window 100 -o "$tmp/windows.txt"
head -n 60 "$tmp/windows.txt" > "$tmp/pos.txt"
"$dnalm" -q promoter data --positives "$tmp/pos.txt" --seed 3 -o "$tmp/clf.csv"
"$dnalm" -q promoter train --train "$tmp/clf.csv" --model "$tmp/run-bpe" --encodings one-hot \
  --predictors cnn --predictor-epochs 1 --epochs 1 --max-len 128 --bootstrap 10 --out-dir "$tmp/clf"
"$dnalm" -q export-hf -m "$tmp/clf/classifier" --out-dir "$tmp/hf-clf" --sample 3
echo "model parity: fine-tuned classifier (BertForSequenceClassification)" >&2
bash scripts/hf_model_parity.sh --model-dir "$tmp/hf-clf" --sample "$tmp/hf-clf/dnalm_sample.safetensors"
"$dnalm" -q promoter predict -m "$tmp/clf/classifier" "$tmp/clf.csv" -o "$tmp/preds.tsv"
PY="$(bash scripts/setup-python-hf.sh | tail -1)"
"$PY" scripts/hf_classify_check.py --model-dir "$tmp/hf-clf" --input "$tmp/clf.csv" --preds "$tmp/preds.tsv"
