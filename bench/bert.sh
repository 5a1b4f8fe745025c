#!/usr/bin/env bash
# Side-by-side BERT benchmark: dnalm (burn, flex CPU backend) against PyTorch
# `transformers` BertForMaskedLM, same configs, same protocol, one run.
# Each measurement runs in its own process (so peak RSS is its own); the two
# sides alternate, BENCH_ROUNDS times, and each figure is the median over its
# rounds of the per-round median step time.
#
# Usage: bench/bert.sh                     (from any directory; ~10 min on 2 cores)
# Environment (all optional):
#   BENCH_OUT       output directory               (default: <repo>/bench/out)
#   BENCH_THREADS   threads on both sides          (default: 2)
#   BENCH_REPEAT    timed steps per measurement    (default: 10)
#   BENCH_ROUNDS    alternating rounds             (default: 3)
#   BENCH_PRESETS   configs to run                 (default: "tiny bench4")
#   BENCH_BERT_BIN  prebuilt bench_bert example    (default: cargo build --release)
# Writes $BENCH_OUT/bert.jsonl (every measurement) and bert_results.md.
set -euo pipefail

die() { echo "bench/bert.sh: error: $*" >&2; exit 1; }
log() { echo "bench/bert.sh: $*" >&2; }

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
out="${BENCH_OUT:-$repo/bench/out}"
threads="${BENCH_THREADS:-2}"
repeat="${BENCH_REPEAT:-10}"
rounds="${BENCH_ROUNDS:-3}"
presets="${BENCH_PRESETS:-tiny bench4}"
for v in threads repeat rounds; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done

if [[ -n "${BENCH_BERT_BIN:-}" ]]; then
    bin="$BENCH_BERT_BIN"
else
    log "building bench_bert (release)"
    (cd "$repo" && cargo build --release -p dnalm-train --example bench_bert >&2) \
        || die "cargo build --release failed"
    bin="$repo/target/release/examples/bench_bert"
fi
[[ -x "$bin" ]] || die "bench_bert not found: $bin"
PY=$(bash "$repo/scripts/setup-python-hf.sh" | tail -1)
[[ -x "$PY" ]] || die "scripts/setup-python-hf.sh did not give a python ($PY)"

mkdir -p "$out"
jsonl="$out/bert.jsonl"
rm -f "$jsonl" "$out/bert_results.md"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | head -1)
[[ -z "$dirty" ]] || commit="$commit+changes"

for r in $(seq 1 "$rounds"); do
    for p in $presets; do
        for what in inference train; do
            log "round $r/$rounds: $p $what: dnalm"
            "$bin" --preset "$p" --threads "$threads" --repeat "$repeat" --only "$what" \
                | sed "s/^{/{\"round\":$r,/" >> "$jsonl" || die "bench_bert failed"
            log "round $r/$rounds: $p $what: pytorch"
            env LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
                OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
                "$PY" "$repo/bench/bert_peer.py" --preset "$p" --threads "$threads" --repeat "$repeat" --only "$what" \
                | sed "s/^{/{\"round\":$r,/" >> "$jsonl" || die "bert_peer.py failed"
        done
    done
done

"$PY" - "$jsonl" "$out/bert_results.md" "$commit" <<'EOF'
import json, statistics, sys, datetime, platform
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(xs): return statistics.median(xs)
out = []
date = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
cpu = next((r.get("cpu") for r in rows if r.get("cpu")), platform.machine())
torch_v = next((r.get("torch") for r in rows if r.get("torch")), "?")
out.append(f"## BERT steps, {date} (dnalm commit {sys.argv[3]})\n")
out.append(f"Machine: {cpu}; threads {rows[0]['threads']} on both sides; torch {torch_v} "
           f"(Debian, {next((r.get('blas') for r in rows if r.get('blas')), '?')}), "
           f"transformers {next((r.get('transformers') for r in rows if r.get('transformers')), '?')}.\n")
out.append("| config | measurement | dnalm ms/step | PyTorch ms/step | **PyTorch / dnalm** | dnalm peak RSS (MiB) | PyTorch peak RSS (MiB) |")
out.append("|---|---|---:|---:|---:|---:|---:|")
keys = []
for r in rows:
    k = (r["preset"], r["measurement"])
    if k not in keys: keys.append(k)
for p, m in keys:
    d = [r for r in rows if r["preset"] == p and r["measurement"] == m and r["peer"].startswith("dnalm")]
    t = [r for r in rows if r["preset"] == p and r["measurement"] == m and r["peer"].startswith("pytorch")]
    if not d or not t: continue
    dm, tm = med([r["median_ms"] for r in d]), med([r["median_ms"] for r in t])
    shape = f"{p} ({d[0]['layers']}L/{d[0]['hidden']}/{d[0]['heads']}h, seq {d[0]['seq']}, batch {d[0]['batch']}, vocab {d[0]['vocab']})"
    out.append(f"| {shape} | {m} | {dm:.1f} | {tm:.1f} | **{tm/dm:.2f}x** | "
               f"{max(r['peak_rss_mib'] for r in d):.0f} | {max(r['peak_rss_mib'] for r in t):.0f} |")
out.append("")
out.append("Per-round medians (ms): " + "; ".join(
    f"{p} {m} dnalm " + "/".join(f"{r['median_ms']:.0f}" for r in rows if r['preset']==p and r['measurement']==m and r['peer'].startswith('dnalm'))
    + " torch " + "/".join(f"{r['median_ms']:.0f}" for r in rows if r['preset']==p and r['measurement']==m and r['peer'].startswith('pytorch'))
    for p, m in keys))
text = "\n".join(out) + "\n"
open(sys.argv[2], "w").write(text)
print(text)
EOF
