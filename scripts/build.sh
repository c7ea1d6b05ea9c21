#!/usr/bin/env bash
# Builds the wasm package: `web` (pkg-web/, for <script type="module"> and the demo),
# `bundler` (pkg/, the npm package), or both (the default). Optimised with
# binaryen's wasm-opt from node_modules.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
targets=("${@:-web bundler}")
for target in ${targets[*]}; do
  case "$target" in
    web) out=pkg-web ;;
    bundler) out=pkg ;;
    *) echo "build.sh: unknown target $target (web or bundler)" >&2; exit 2 ;;
  esac
  wasm-pack --quiet build --release --target "$target" --out-dir "$out" --out-name wasm_eventsource >&2
done
