#!/usr/bin/env bash
# Installs a built tree under a fresh prefix and builds and runs a program against it through
# pkg-config alone, the way a user would: proves that arrayfire.pc is relocatable.
# Usage: scripts/check-install.sh [build-dir]
set -euo pipefail
build=${1:-build}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix/any/where" >/dev/null
pc=$(dirname "$(find "$prefix" -name arrayfire.pc | head -n1)")
export PKG_CONFIG_PATH=$pc
cc examples/demo.c $(pkg-config --cflags --libs arrayfire) -lm -o "$prefix/demo"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir arrayfire) "$prefix/demo" >/dev/null
echo "check-install: a program built with pkg-config against $prefix/any/where runs"
