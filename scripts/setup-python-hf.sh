#!/usr/bin/env bash
# Create (or reuse) the Python venv with CPU PyTorch + Hugging Face transformers
# used by dnalm's BERT parity fixtures, HF load checks and the PyTorch peer
# benchmark. Python is never needed to run dnalm itself.
#
# Usage: scripts/setup-python-hf.sh [VENV_DIR]
#   default VENV_DIR: ${DNALM_HF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dnalm/hf-venv}
#   (outside the repo, so CI reruns on the same machine reuse it)
#
# PyTorch is Debian's CPU-only python3-torch (see requirements-hf.txt for why);
# the Debian packages named on its "# apt:" lines are installed here with
# apt-get (as root, or through passwordless sudo) when missing. The venv is made
# from /usr/bin/python3 with --system-site-packages so it sees that torch.
#
# Idempotent: a stamp file in the venv holds the sha256 of requirements-hf.txt;
# nothing is installed when it matches and the imports work. Logs go to
# stderr; the LAST line of stdout is the venv's python, so
#   PY=$(scripts/setup-python-hf.sh | tail -1)
set -euo pipefail

die() { echo "setup-python-hf: error: $*" >&2; exit 1; }
log() { echo "setup-python-hf: $*" >&2; }

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
req="$script_dir/requirements-hf.txt"
[[ $# -le 1 ]] || die "usage: scripts/setup-python-hf.sh [VENV_DIR]"
[[ "${1:-}" != -* ]] || die "usage: scripts/setup-python-hf.sh [VENV_DIR]"
venv="${1:-${DNALM_HF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dnalm/hf-venv}}"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac

[[ -f "$req" ]] || die "missing $req"
command -v sha256sum >/dev/null || die "sha256sum not found"

py="$venv/bin/python"
stamp="$venv/.dnalm-requirements-hf.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
# What must import, and the torch / numpy ABI Debian's build needs.
check='import torch, transformers, safetensors, numpy
assert torch.__version__.startswith("1.13."), f"torch {torch.__version__} is not Debian bookworm 1.13"
assert numpy.__version__.startswith("1."), f"numpy {numpy.__version__}: torch 1.13 needs numpy 1.x"'

ready() {
    [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
        && "$py" -c "$check" >/dev/null 2>&1
}

if ready; then
    log "venv up to date: $venv"
    echo "$py"
    exit 0
fi

mkdir -p "$(dirname "$venv")"
# Two CI jobs on one machine must not build the same venv at once.
if command -v flock >/dev/null; then
    exec 9>"$venv.lock"
    flock 9
    if ready; then
        log "venv up to date: $venv"
        echo "$py"
        exit 0
    fi
fi

# 1. Debian packages (torch and friends), only those not installed yet.
read -r -a apt_pkgs <<< "$(sed -n 's/^# apt:[[:space:]]*//p' "$req" | tr '\n' ' ')"
[[ ${#apt_pkgs[@]} -gt 0 ]] || die "no '# apt:' line in $req"
missing=()
for p in "${apt_pkgs[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    command -v apt-get >/dev/null || die "need Debian packages ${missing[*]} but apt-get is not available"
    if [[ $(id -u) == 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        die "need Debian packages ${missing[*]}: run as root (or with passwordless sudo), or: apt-get install --no-install-recommends ${missing[*]}"
    fi
    log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
fi
sys_py=/usr/bin/python3
[[ -x "$sys_py" ]] || die "$sys_py not found (Debian's python3, which python3-torch is built for)"
"$sys_py" -c 'import torch' 2>/dev/null || die "Debian's torch does not import in $sys_py: $("$sys_py" -c 'import torch' 2>&1 | tail -1)"

# 2. The venv: from Debian's python, seeing its site-packages (torch, numpy).
if [[ -x "$py" ]]; then
    base=$("$py" -c 'import sys; print(sys.base_prefix)' 2>/dev/null || true)
    if [[ "$base" != /usr ]] || ! grep -qiE '^include-system-site-packages *= *true' "$venv/pyvenv.cfg" 2>/dev/null; then
        die "$venv is not a venv of /usr/bin/python3 with --system-site-packages (made by another python?); remove it or set DNALM_HF_VENV"
    fi
else
    log "creating venv $venv (from $sys_py, --system-site-packages)"
    "$sys_py" -m venv --system-site-packages "$venv" >&2 \
        || die "$sys_py -m venv $venv failed (needs the Debian package python3-venv)"
fi
rm -f "$stamp"
log "installing $(grep -cvE '^\s*(#|$)' "$req") pinned packages from $req"
"$py" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2 \
    || die "pip install -r $req failed"
"$py" -c "$check" >&2 || die "packages installed but the import check fails in $venv"
echo "$want" > "$stamp"
log "ready: $("$py" -c 'import sys, torch, transformers, numpy; print(f"python {sys.version.split()[0]}, torch {torch.__version__}, transformers {transformers.__version__}, numpy {numpy.__version__}")')"
echo "$py"
