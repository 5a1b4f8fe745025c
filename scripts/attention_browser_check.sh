#!/usr/bin/env bash
# The `dnalm attention` HTML page in a real browser: Debian's chromium,
# headless. A tiny BERT over 1-mers (positions for 512 tokens) is pre-trained
# for two updates, `dnalm attention` writes the page of a 510-nt sequence
# (512 tokens with [CLS] and [SEP]: a 512 x 512 map), chromium loads it and
# dumps the DOM, and the check FAILS when
#  - the page logged anything to the console (it logs nothing of its own, so
#    any message is an uncaught error or a warning), or
#  - the body lacks data-rendered="<tokens>", which the page's script sets only
#    after every canvas was drawn.
# chromium is installed with apt-get when missing (as root, or through
# passwordless sudo), like scripts/setup-python-hf.sh installs its packages.
#
# Usage: scripts/attention_browser_check.sh [path/to/dnalm]   (default: target/debug/dnalm)
#        scripts/attention_browser_check.sh --page FILE.html TOKENS
#          (check an existing page; TOKENS = the data-rendered value expected)
set -euo pipefail

die() { echo "attention_browser_check: error: $*" >&2; exit 1; }
log() { echo "attention_browser_check: $*" >&2; }

root="$(cd "$(dirname "$0")/.." && pwd)"

page="" want=""
if [[ "${1:-}" == --page ]]; then
    [[ $# -eq 3 ]] || die "usage: scripts/attention_browser_check.sh --page FILE.html TOKENS"
    [[ -f "$2" ]] || die "--page $2: no such file"
    page="$(realpath -- "$2")" want="$3"
    [[ "$want" =~ ^[0-9]+$ ]] || die "--page: TOKENS must be a number, not '$want'"
else
    [[ $# -le 1 ]] || die "usage: scripts/attention_browser_check.sh [path/to/dnalm]"
    dnalm="${1:-$root/target/debug/dnalm}"
    [[ "$dnalm" == */* ]] && dnalm="$(realpath -m -- "$dnalm")"
    [[ -x "$dnalm" ]] || die "$dnalm is not an executable (build it with: cargo build -p dnalm-cli)"
fi

# 1. chromium (Debian package), installed when missing.
if ! command -v chromium >/dev/null; then
    command -v apt-get >/dev/null || die "need the Debian package chromium but apt-get is not available"
    if [[ $(id -u) == 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        die "need the Debian package chromium: run as root (or with passwordless sudo), or: apt-get install --no-install-recommends chromium"
    fi
    log "installing Debian package: chromium"
    "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2 \
        || die "apt-get install chromium failed"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# 2. The page: a model with room for 512 positions, one 512-token record.
if [[ -z "$page" ]]; then
    # Seeded DNA from awk (no python, no genome): 200 lines x 60 nt for the
    # corpus and one 510-nt record.
    awk 'BEGIN { srand(7); for (i = 0; i < 200; i++) { s = ""; for (j = 0; j < 60; j++) s = s substr("ACGT", int(rand() * 4) + 1, 1); print s } }' > "$tmp/corpus.txt"
    awk 'BEGIN { srand(11); s = ""; for (j = 0; j < 510; j++) s = s substr("ACGT", int(rand() * 4) + 1, 1); print ">long"; print s }' > "$tmp/long.fa"
    "$dnalm" -q tokenizer train --kind kmer --k 1 -o "$tmp/k1.json"
    "$dnalm" -q pretrain -t "$tmp/k1.json" "$tmp/corpus.txt" --out-dir "$tmp/run" --preset tiny \
        --max-steps 2 --warmup-steps 1 --batch-size 4 --grad-accum 1 --eval-every 2 --max-len 512
    "$dnalm" -q attention -m "$tmp/run" "$tmp/long.fa" --out-dir "$tmp/att"
    page="$tmp/att/seq1.html"
    [[ -f "$page" ]] || die "dnalm attention wrote no $page"
    # 510 bases as 1-mers + [CLS] + [SEP].
    want=512
fi

# 3. The browser. A fresh profile so that nothing of a previous run is read.
log "opening $(basename "$page") ($(du -h "$page" | cut -f1)) in headless chromium"
set +e
timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 \
    --virtual-time-budget=10000 --dump-dom "file://$page" > "$tmp/dom.html" 2> "$tmp/chromium.log"
rc=$?
set -e
[[ $rc -eq 0 ]] || { cat "$tmp/chromium.log" >&2; die "chromium exited with status $rc on $page"; }

fail=0
if grep -q 'CONSOLE' "$tmp/chromium.log"; then
    log "FAIL: the page logged to the console:"
    grep 'CONSOLE' "$tmp/chromium.log" | cut -c1-400 >&2
    fail=1
fi
got="$(grep -o '<body[^>]*>' "$tmp/dom.html" | grep -o 'data-rendered="[0-9]*"' | grep -o '[0-9]\+' || true)"
if [[ "$got" != "$want" ]]; then
    log "FAIL: rendered body has data-rendered=\"${got:-<missing>}\", want \"$want\" (the script did not finish drawing)"
    fail=1
fi
[[ $fail -eq 0 ]] || die "attention page $page does not render in chromium"
log "ok: $want tokens drawn, no console messages"
