#!/usr/bin/env bash
# Installs the Debian packages Ember builds against. Safe to run repeatedly: it only calls
# apt-get when something is missing, so a warm machine pays nothing.
set -euo pipefail
pkgs=(gcc g++ make cmake pkg-config libopenblas-dev liblapacke-dev libfftw3-dev python3)
missing=()
for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
