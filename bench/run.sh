#!/usr/bin/env bash
# Side-by-side BPE / k-mer benchmark: dnalm against Hugging Face tokenizers
# and sentencepiece, on the same 7.26 Mb of real DNA, in one run.
# See bench/README.md for what each figure means.
#
# Usage: bench/run.sh            (from any directory)
#
# Environment (all optional):
#   DNALM_SHARED_DATA  shared data dir        (default: <repo>/../shared/data)
#   BENCH_FASTA_HUMAN  human FASTA            (default: $DNALM_SHARED_DATA/genome/hg38_chr2_1-2333275.fa.gz)
#   BENCH_FASTA_ECOLI  E. coli FASTA          (default: $DNALM_SHARED_DATA/genome/ecoli_536_NC_008253.1.fna.gz)
#   BENCH_OUT          output directory       (default: <repo>/bench/out)
#   BENCH_MERGES       dnalm BPE merges       (default: 600)
#   BENCH_PEER_VOCAB   HF/spm vocab size      (default: 604)
#   BENCH_REPEAT       runs per timing and round, minimum kept (default: 1)
#   BENCH_ROUNDS       rounds of dnalm then peers, minimum over all kept (default: 2)
#   BENCH_SCALE        copies of the 7 Mb file in the memory-scaling input (default: 10)
#   VENV_DIR           Python venv            (default: <repo>/.venv)
#   DNALM_BIN, BENCH_BPE_BIN  use these prebuilt binaries instead of building
#                      (both must be set to skip `cargo build`)
set -euo pipefail

die() { echo "bench/run.sh: error: $*" >&2; exit 1; }
log() { echo "bench/run.sh: $*" >&2; }

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
data="${DNALM_SHARED_DATA:-$repo/../shared/data}"
fa_human="${BENCH_FASTA_HUMAN:-$data/genome/hg38_chr2_1-2333275.fa.gz}"
fa_ecoli="${BENCH_FASTA_ECOLI:-$data/genome/ecoli_536_NC_008253.1.fna.gz}"
out="${BENCH_OUT:-$repo/bench/out}"
merges="${BENCH_MERGES:-600}"
peer_vocab="${BENCH_PEER_VOCAB:-604}"
repeat="${BENCH_REPEAT:-1}"
rounds="${BENCH_ROUNDS:-2}"
scale="${BENCH_SCALE:-10}"

if [[ ! -d "$data" && -z "${BENCH_FASTA_HUMAN:-}${BENCH_FASTA_ECOLI:-}" ]]; then
    echo "skipping: shared data not found ($data)"
    exit 0
fi
for f in "$fa_human" "$fa_ecoli"; do
    [[ -r "$f" ]] || die "input FASTA not readable: $f"
done
for v in merges peer_vocab repeat rounds scale; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done

if [[ ! -x /usr/bin/time ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing GNU time (needed for peak memory)"
        apt-get install -y -q time >&2 || die "apt-get install time failed"
    else
        die "/usr/bin/time (GNU time) is required for peak memory: apt-get install time"
    fi
fi

mkdir -p "$out"
rm -f "$out/results.md" "$out"/dnalm*.json "$out"/peers*.json  # never leave stale figures behind
seg7="$out/segments_7mb.txt"
seg70="$out/segments_70mb.txt"

# ---------------------------------------------------------------- build, venv
# needs the dnalm binary and the bench_bpe example.
if [[ -n "${DNALM_BIN:-}" && -n "${BENCH_BPE_BIN:-}" ]]; then
    dnalm="$DNALM_BIN"; bench_bpe="$BENCH_BPE_BIN"
    log "using prebuilt binaries: $dnalm, $bench_bpe"
else
    log "building dnalm (release)"
    (cd "$repo" && cargo build --release -p dnalm-cli -p dnalm-tokenizers --bins --examples >&2) \
        || die "cargo build --release failed"
    dnalm="$repo/target/release/dnalm"
    bench_bpe="$repo/target/release/examples/bench_bpe"
fi
[[ -x "$dnalm" ]] || die "dnalm binary not found: $dnalm"
[[ -x "$bench_bpe" ]] || die "bench_bpe example not found: $bench_bpe"

PY=$("$repo/scripts/setup-python.sh" ${VENV_DIR:+"$VENV_DIR"} | tail -1)
[[ -x "$PY" ]] || die "scripts/setup-python.sh did not give a python ($PY)"

# ---------------------------------------------------------------- inputs
# `dnalm corpus` (dnalm-cli) makes the segments.
log "making $seg7 with dnalm corpus"
"$dnalm" corpus --window 305 --stride 305 -o "$seg7" "$fa_human" "$fa_ecoli" \
    || die "dnalm corpus failed"
# The input must be exactly what the peers and dnalm both expect.
[[ -s "$seg7" ]] || die "$seg7 is empty"
bad=$(awk 'length($0) != 305 || $0 !~ /^[ACGT]+$/ { n++ } END { print n + 0 }' "$seg7")
[[ "$bad" == 0 ]] || die "$seg7: $bad lines are not 305-nt upper-case A/C/G/T segments"
n_seg7=$(wc -l < "$seg7")
bases7=$(( n_seg7 * 305 ))
log "$n_seg7 segments, $bases7 bases"

log "making $seg70 ($scale copies)"
: > "$seg70"
for _ in $(seq "$scale"); do cat "$seg7" >> "$seg70"; done
bases70=$(( bases7 * scale ))

# ---------------------------------------------------------------- dnalm side
# the bench_bpe example (dnalm-tokenizers) prints JSON with
# train_s, encode_s, tokens, vocab, kmer6_encode_s, kmer6_bytes (and, if it
# can, merges); `dnalm tokenizer train --kind bpe` is measured for peak RSS.

peak_rss_kb() {  # file -> peak RSS (kB) of `dnalm tokenizer train` on it
    local log_file="$out/time_$(basename "$1" .txt).log"
    /usr/bin/time -v -o "$log_file" \
        "$dnalm" tokenizer train --kind bpe --merges "$merges" -o /dev/null "$1" >&2 \
        || die "dnalm tokenizer train failed on $1 (see $log_file)"
    local kb
    kb=$(awk -F: '/Maximum resident set size \(kbytes\)/ { gsub(/ /, "", $2); print $2 }' "$log_file")
    [[ "$kb" =~ ^[0-9]+$ ]] || die "no peak RSS in $log_file"
    echo "$kb"
}
log "dnalm: peak memory of BPE training, 7 Mb"
rss7=$(peak_rss_kb "$seg7")
log "dnalm: peak memory of BPE training, $((scale * 7)) Mb"
rss70=$(peak_rss_kb "$seg70")

# ---------------------------------------------------------------- timings
# Rounds alternate dnalm and the peers, so that both sides see the same
# spells of a machine whose speed drifts; every time is the minimum over all
# rounds and repeats, on both sides.
for r in $(seq "$rounds"); do
    log "round $r/$rounds: dnalm bench_bpe on $seg7"
    "$bench_bpe" --segments "$seg7" --merges "$merges" --repeat "$repeat" \
        --json "$out/dnalm_round$r.json" >&2 || die "bench_bpe failed"
    [[ -s "$out/dnalm_round$r.json" ]] || die "bench_bpe wrote no $out/dnalm_round$r.json"
    log "round $r/$rounds: peers (HF tokenizers and sentencepiece) on $seg7"
    "$PY" "$repo/bench/peers.py" --segments "$seg7" --vocab "$peer_vocab" --repeat "$repeat" \
        --json "$out/peers_round$r.json" >&2 || die "bench/peers.py failed"
done
"$PY" - "$out" "$rounds" <<'PYEOF' || die "merging the rounds failed"
import json, os, sys
out, rounds = sys.argv[1], int(sys.argv[2])
for side in ("dnalm", "peers"):
    runs = [json.load(open(os.path.join(out, f"{side}_round{r}.json"))) for r in range(1, rounds + 1)]
    merged = dict(runs[0])
    for k, v in runs[0].items():
        if k.endswith("_s") and isinstance(v, (int, float)):
            merged[k] = min(run[k] for run in runs)
    merged["rounds"] = [{k: v for k, v in run.items() if k.endswith("_s")} for run in runs]
    with open(os.path.join(out, f"{side}.json"), "w") as f:
        json.dump(merged, f, indent=1)
PYEOF

# ---------------------------------------------------------------- report
machine_cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
export BENCH_OUT_DIR="$out" BENCH_RSS7_KB="$rss7" BENCH_RSS70_KB="$rss70" \
    BENCH_BASES7="$bases7" BENCH_BASES70="$bases70" BENCH_SCALE_N="$scale" \
    BENCH_NPROC="$(nproc)" BENCH_CPU="${machine_cpu:-unknown}" \
    BENCH_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    BENCH_RUSTC="$(rustc --version 2>/dev/null || echo unknown)" \
    BENCH_COMMIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    BENCH_DNALM_BIN="$dnalm" BENCH_BPE_BIN_PATH="$bench_bpe"
"$PY" - > "$out/results.md.tmp" <<'PYEOF'
import json, os, sys

env = os.environ
out = env["BENCH_OUT_DIR"]
d = json.load(open(os.path.join(out, "dnalm.json")))
p = json.load(open(os.path.join(out, "peers.json")))

need_d = ["train_s", "encode_s", "tokens", "vocab", "kmer6_encode_s", "kmer6_bytes"]
need_p = ["hf_train_s", "hf_encode_s", "hf_tokens", "hf_vocab", "spm_train_s", "spm_vocab", "n_bases"]
missing = [k for k in need_d if k not in d] + [k for k in need_p if k not in p]
if missing:
    sys.exit(f"bench/run.sh: error: missing fields in dnalm.json/peers.json: {missing}")
for k in ("train_s", "encode_s", "kmer6_encode_s"):
    if not d[k] > 0:
        sys.exit(f"bench/run.sh: error: dnalm.json {k} = {d[k]} is not a positive time")

bases7, bases70 = int(env["BENCH_BASES7"]), int(env["BENCH_BASES70"])
if p["n_bases"] != bases7:
    sys.exit(f"bench/run.sh: error: peers read {p['n_bases']} bases, dnalm {bases7}")
rss7, rss70 = int(env["BENCH_RSS7_KB"]) * 1024, int(env["BENCH_RSS70_KB"]) * 1024

rows = []  # (figure, value, target, met)
def row(name, value, target="", met=None):
    rows.append((name, value, target, "" if met is None else ("yes" if met else "**no**")))

hf_train = p["hf_train_s"] / d["train_s"]
spm_train = p["spm_train_s"] / d["train_s"]
hf_enc = p["hf_encode_s"] / d["encode_s"]
kmer_gbs = d["kmer6_bytes"] / d["kmer6_encode_s"] / 1e9
bpb7, bpb70 = rss7 / bases7, rss70 / bases70

row("dnalm BPE training (s)", f"{d['train_s']:.3f}")
row("HF tokenizers BPE training (s)", f"{p['hf_train_s']:.3f}")
row("sentencepiece BPE training (s)", f"{p['spm_train_s']:.3f}")
row("**HF train / dnalm train**", f"{hf_train:.1f}x", ">= 50x", hf_train >= 50)
row("**spm train / dnalm train**", f"{spm_train:.1f}x", ">= 10x", spm_train >= 10)
row("dnalm BPE encoding (s)", f"{d['encode_s']:.3f}")
row("HF encode_batch (s)", f"{p['hf_encode_s']:.3f}")
row("**HF encode / dnalm encode**", f"{hf_enc:.1f}x", ">= 20x", hf_enc >= 20)
if "encode_rank_s" in d:
    row("dnalm BPE encoding by the rank-order reference encoder (s)", f"{d['encode_rank_s']:.3f}")
    row("rank-order / backtracking encoder", f"{d['encode_rank_s'] / d['encode_s']:.1f}x")
row("dnalm 6-mer encoding, 305-nt segments, 1 thread (s)", f"{d['kmer6_encode_s']:.4f}")
row("**dnalm 6-mer throughput, 305-nt segments, 1 thread (GB/s)**", f"{kmer_gbs:.2f}", ">= 1 GB/s", kmer_gbs >= 1)
if "kmer6_par_s" in d:
    par_gbs = d["kmer6_bytes"] / d["kmer6_par_s"] / 1e9
    row(f"**dnalm 6-mer throughput, 305-nt segments, {d.get('threads', '?')} threads (GB/s)**", f"{par_gbs:.2f}", ">= 1 GB/s", par_gbs >= 1)
if "kmer6_long_s" in d:
    long_gbs = d["kmer6_bytes"] / d["kmer6_long_s"] / 1e9
    row("**dnalm 6-mer throughput, one 7.26 Mb run, 1 thread (GB/s)**", f"{long_gbs:.2f}", ">= 1 GB/s", long_gbs >= 1)
row("dnalm BPE training peak RSS, 7 Mb (MiB)", f"{rss7 / 2**20:.1f}")
row("**bytes of peak RSS per base, 7 Mb**", f"{bpb7:.2f}", "<= 8", bpb7 <= 8)
row(f"dnalm BPE training peak RSS, {int(env['BENCH_SCALE_N']) * 7} Mb (MiB)", f"{rss70 / 2**20:.1f}")
row(f"**bytes of peak RSS per base, {int(env['BENCH_SCALE_N']) * 7} Mb**", f"{bpb70:.2f}", "<= 8", bpb70 <= 8)

print("# dnalm BPE / k-mer benchmark\n")
print(f"Input: {p['n_segments']} segments of 305 nt = {bases7:,} bases "
      f"(hg38 chr2:1-2,333,275 + E. coli 536), and {int(env['BENCH_SCALE_N'])} copies "
      f"({bases70:,} bases) for the memory-scaling check.\n")
print("| figure | value | target | met |")
print("|---|---:|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("| vocabulary | dnalm | HF tokenizers | sentencepiece |")
print("|---|---:|---:|---:|")
print(f"| vocab size | {d['vocab']} | {p['hf_vocab']} | {p['spm_vocab']} |")
print(f"| merges | {d.get('merges', 'n/a')} | {p.get('hf_merges', 'n/a')} | n/a |")
print(f"| tokens on the 7 Mb input | {d['tokens']:,} | {p['hf_tokens']:,} | {p.get('spm_tokens', 0):,} |")
print()
adapt = p.get("spm_adaptations") or {}
if adapt:
    print("sentencepiece parameters adapted: " +
          "; ".join(f"`{k}`: {v}" for k, v in adapt.items()) + "\n")
if len(d.get("rounds", [])) > 1:
    per = [f"{pr['hf_train_s'] / dr['train_s']:.1f}x / {pr['spm_train_s'] / dr['train_s']:.1f}x"
           for dr, pr in zip(d["rounds"], p["rounds"])]
    print("Training ratios (HF / sentencepiece) round by round: " + ", ".join(per) + ".\n")
print(f"Machine: {env['BENCH_NPROC']} cores, {env['BENCH_CPU']}; {env['BENCH_DATE']}; "
      f"{env['BENCH_RUSTC']}; dnalm commit {env['BENCH_COMMIT']}; python {p.get('python')}, "
      f"tokenizers {p.get('tokenizers_version')}, sentencepiece {p.get('sentencepiece_version')}; "
      f"every time, dnalm's and the peers', is the minimum of {p.get('repeat')} run(s) in each of "
      f"{len(p.get('rounds', [0]))} round(s), dnalm then peers in turn.\n")
print(f"Binaries: `{env['BENCH_DNALM_BIN']}`, `{env['BENCH_BPE_BIN_PATH']}`. "
      f"Raw figures: dnalm.json, peers.json beside this file.")
PYEOF
mv "$out/results.md.tmp" "$out/results.md"
cat "$out/results.md"
log "wrote $out/results.md (raw figures: $out/dnalm.json, $out/peers.json)"
