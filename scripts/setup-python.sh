#!/usr/bin/env bash
# Create (or reuse) the Python venv used by dnalm's parity tests and peer
# benchmarks. Python is never needed to run dnalm itself.
#
# Usage: scripts/setup-python.sh [VENV_DIR]      (default: <repo root>/.venv)
#
# Idempotent: a stamp file in the venv holds the sha256 of requirements.txt;
# packages are (re)installed only when that file changes or the venv is
# broken. Logs go to stderr; the LAST line of stdout is the venv's python, so
#   PY=$(scripts/setup-python.sh | tail -1)
set -euo pipefail

die() { echo "setup-python: error: $*" >&2; exit 1; }
log() { echo "setup-python: $*" >&2; }

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$script_dir/.." && pwd)
req="$script_dir/requirements.txt"
[[ $# -le 1 ]] || die "usage: scripts/setup-python.sh [VENV_DIR]"
venv="${1:-$repo_root/.venv}"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac

[[ -f "$req" ]] || die "missing $req"
command -v python3 >/dev/null || die "python3 not found on PATH (need Python >= 3.9 with the venv module)"
command -v sha256sum >/dev/null || die "sha256sum not found"

py="$venv/bin/python"
stamp="$venv/.dnalm-requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)

if [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
   && "$py" -c 'import tokenizers, sentencepiece' 2>/dev/null; then
    log "venv up to date: $venv"
    echo "$py"
    exit 0
fi

if [[ ! -x "$py" ]]; then
    log "creating venv $venv"
    python3 -m venv "$venv" >&2 || die "python3 -m venv $venv failed (on Debian: apt-get install python3-venv)"
fi
rm -f "$stamp"
log "installing $(grep -cvE '^\s*(#|$)' "$req") pinned packages from $req"
"$py" -m pip install --quiet --disable-pip-version-check -r "$req" >&2 \
    || die "pip install -r $req failed"
"$py" -c 'import tokenizers, sentencepiece' >&2 \
    || die "packages installed but 'import tokenizers, sentencepiece' fails"
echo "$want" > "$stamp"
log "ready: $("$py" -c 'import sys, tokenizers, sentencepiece as s; print(f"python {sys.version.split()[0]}, tokenizers {tokenizers.__version__}, sentencepiece {s.__version__}")')"
echo "$py"
