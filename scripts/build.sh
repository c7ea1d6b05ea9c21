#!/usr/bin/env bash
# Builds the wasm package: `web` (pkg-web/, the default: behind the npm package's entry
# js/index.js and its `wasm-eventsource/web` entry, also served to the demo) or
# `bundler` (pkg/, on request only: the package no longer ships it, since Vite cannot
# load it without a plugin). The root package.json is the npm package. Optimised with
# binaryen's wasm-opt from node_modules (first on PATH, see lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(web)
for target in "${targets[@]}"; do
  case "$target" in
    web) out=pkg-web ;;
    bundler) out=pkg ;;
    *) echo "build.sh: unknown target $target (web or bundler)" >&2; exit 2 ;;
  esac
  # The JS class (the `npm` feature, both transports), built for size: lib.sh.
  build_npm "$out" "$target"
done
