#!/usr/bin/env bash
# Promoter scan of the hg38 chr2 window (2.33 Mb) against known TSSs, two-fold:
# a one-hot CNN-dense model learns "GENA promoter or genome" with genomic
# negatives from one half of the window and scans the other half, so no
# scanned base and no scanned TSS was seen in training (GENA positives that
# share a 50-mer with the window are left out). Reports, per half, TSS recall
# at <= 50 calls per Mb beside random placement (truth.tsv, with the share of
# 1,000 random rounds as good: a permutation p-value) and the precision-recall
# curve over the calls (pr.tsv, pr.svg).
# Usage: bench/promoter_scan_chr2.sh [OUT] (default /tmp/dnalm-scan-chr2)
#   DNALM=path/to/dnalm (default target/release/dnalm), DNALM_DATA (default ../shared/data)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-/tmp/dnalm-scan-chr2}"
dnalm="${DNALM:-$root/target/release/dnalm}"
data="${DNALM_DATA:-$root/../shared/data}"
export DNALM_DATA="$data"
genome="$data/genome/hg38_chr2_1-2333275.fa.gz"
[[ -f "$genome" ]] || { echo "skip: $genome is absent" >&2; exit 0; }
[[ -x "$dnalm" ]] || cargo build --release -p dnalm-cli --manifest-path "$root/Cargo.toml"
mkdir -p "$out" && cd "$out"
python3 "$root/bench/promoter_scan_chr2.py" tss .
# fold: negatives from HALF, scan REGION (1-based, inclusive)
for fold in "first_half 10001 1170000 chr2:1,170,001-2,333,275" \
            "second_half 1170001 2333275 chr2:10,001-1,170,000"; do
  set -- $fold
  half=$1 region=$4
  "$dnalm" -q promoter data --positives positives.txt --genome "$half.fa" --tss all_tss.bed \
    --genomic-negatives 2 --seed 1 -o "data_$half.csv"
  python3 "$root/bench/promoter_scan_chr2.py" split "data_$half.csv" "$(( $2 - 1 ))" "$3" "neg_$half"
  /usr/bin/time -f "train: %e s" "$dnalm" promoter train --train "neg_${half}_train.csv" \
    --valid "neg_${half}_valid.csv" --test "neg_${half}_test.csv" --predictors cnn-dense --seed 1 \
    --out-dir "model_$half"
  /usr/bin/time -f "scan: %e s" "$dnalm" promoter scan -m "model_$half/best" "$genome" --region "$region" \
    --stride 50 --truth gena_tss.bed --truth gb_tss.bed --truth all_tss.bed --max-calls-per-mb 50 \
    --out-dir "scan_$half"
done
