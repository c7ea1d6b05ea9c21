#!/usr/bin/env bash
# Builds the example apps (examples/leptos-chat, examples/yew-chat) into
# examples-dist/<name>/: index.html, <name>.js and <name>_bg.wasm, for the test server
# to serve at /examples/<name>/.
#
# One `cargo build` for both, then the wasm-bindgen CLI (the version Cargo.lock pins,
# installed by setup.sh) with `--target web`. The dev profile is deliberate: it reuses
# the wasm32 artifacts of leptos, yew and web-sys that the hook tests (tests/leptos.rs,
# tests/yew.rs) already built, since the examples ask for the same features as the
# library's wasm32 dev-dependencies; a release build would compile them all again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
examples=(leptos-chat yew-chat)
packages=()
for name in "${examples[@]}"; do packages+=(-p "$name"); done
cargo build --quiet --target wasm32-unknown-unknown "${packages[@]}"
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
for name in "${examples[@]}"; do
  out="$ROOT/examples-dist/$name"
  rm -rf "$out"; mkdir -p "$out"
  wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name "${name//-/_}" \
    "$target_dir/wasm32-unknown-unknown/debug/${name//-/_}.wasm"
  cp "examples/$name/index.html" "$out/index.html"
  echo "built examples-dist/$name/"
done
