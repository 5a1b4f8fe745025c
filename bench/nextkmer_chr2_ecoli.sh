#!/usr/bin/env bash
# Next-k-mer prediction on the hg38 chr2 window + E. coli 536 (7.26 Mb) under
# the position split, every predictor fitted the same way (docs/guide.md):
# the validated n-gram, the CNN on one-hot bases, a single-nucleotide tiny BERT
# pre-trained on the training side beside the same model from scratch, and the
# base-level causal LM trained on the training side of the genome.
#
# The pre-training corpus is cut with the same seed, test fraction and 100 kb
# blocks as `dnalm nextkmer`, so its training file holds no test block. Its
# held-out file (the test blocks) only reports the masked-LM loss: the kept
# checkpoint is the last update's (on 2026-12-06 the loss fell at every
# evaluation but one, and the last was the lowest), so it chose nothing.
# Usage: bench/nextkmer_chr2_ecoli.sh [OUT] (default /tmp/dnalm-nextkmer)
#   DNALM=path/to/dnalm (default target/release/dnalm), DNALM_DATA (default ../shared/data)
#   SAMPLES (default 50000), PRETRAIN_STEPS (default 3000), BASE_LM (default 15m)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-/tmp/dnalm-nextkmer}"
dnalm="${DNALM:-$root/target/release/dnalm}"
data="${DNALM_DATA:-$root/../shared/data}"
human="$data/genome/hg38_chr2_1-2333275.fa.gz"
ecoli="$data/genome/ecoli_536_NC_008253.1.fna.gz"
for f in "$human" "$ecoli"; do
  [[ -f "$f" ]] || { echo "skip: $f is absent" >&2; exit 0; }
done
[[ -x "$dnalm" ]] || cargo build --release -p dnalm-cli --manifest-path "$root/Cargo.toml"
mkdir -p "$out" && cd "$out"
{ zcat "$human"; zcat "$ecoli"; } > chr2_ecoli.fa
seed=42 test=0.2
# Pre-training data: 128-nt segments of the training blocks only.
"$dnalm" corpus chr2_ecoli.fa --window 128 --test-fraction "$test" --seed "$seed" --out-dir corpus128
"$dnalm" tokenizer train --kind kmer --k 1 -o nuc.json
[[ -f pt_nuc_tiny/best/model.safetensors || -f pt_nuc_tiny/model/model.safetensors ]] ||
  "$dnalm" pretrain -t nuc.json corpus128/train.txt --eval corpus128/test.txt --preset tiny \
    --max-steps "${PRETRAIN_STEPS:-3000}" --warmup-steps 200 --batch-size 32 --grad-accum 1 \
    --lr 1e-3 --eval-every 500 --out-dir pt_nuc_tiny
"$dnalm" nextkmer chr2_ecoli.fa --k 3,4,5 --samples "${SAMPLES:-50000}" --seed "$seed" \
  --test-fraction "$test" --model nuc=pt_nuc_tiny --base-lm-budget "${BASE_LM:-15m}" --out-dir nextkmer
echo "report: $out/nextkmer/results.md"
