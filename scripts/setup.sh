#!/usr/bin/env bash
# Set up .venv for Cantata: Debian packages first, then torch (CPU build), then the package.
# Usage: scripts/setup.sh [base|train|dev|music]   — idempotent; fast when all is in place.
#   base: run Cantata; train: also make training material and train; dev: train + tests;
#   music: train + the Debian game soundtracks used as real instrumental training material.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-base}
venv=.venv
python=${PYTHON:-python3}

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

install_apt() {
  local missing=() pkg list
  for list in "$@"; do [[ -f $list ]] || { echo "missing package list $list" >&2; exit 1; }; done
  for pkg in $(grep -hv '^#' "$@"); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Cantata needs Python >= 3.11 (found $("$python" --version 2>&1)); set PYTHON=..." >&2
  exit 1
fi
apt_lists=(scripts/apt/base.txt)
[[ $extras == base ]] || apt_lists+=(scripts/apt/train.txt)
[[ $extras == music ]] && apt_lists+=(scripts/apt/music.txt)
[[ $extras == dev ]] && apt_lists+=(scripts/apt/dev.txt)
install_apt "${apt_lists[@]}"
[[ -x $venv/bin/python ]] || { log "creating $venv"; "$python" -m venv "$venv"; }
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
# torch first and pinned: 2.13.0 resolves to the local CPU build; anything else pulls CUDA wheels.
"$venv/bin/python" -c 'import torch' 2>/dev/null || { log "installing torch (CPU)"; "${pip[@]}" torch==2.13.0; }
case $extras in
  base) spec="." ;;
  train | music) spec=".[train]" ;;
  dev) spec=".[train,dev,onnx,parquet,ray]" ;;
  *) echo "usage: scripts/setup.sh [base|train|dev|music]" >&2; exit 2 ;;
esac
log "installing cantata ($extras)"
"${pip[@]}" -e "$spec"
