#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the package and the Leptos and Yew
# example apps, and serves the demo on http://127.0.0.1:8080 (PORT overrides), the
# examples at /examples/<name>/. Ctrl-C stops it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
bash scripts/build.sh web
bash scripts/build-examples.sh
cargo build -p wasm-eventsource-server --release --quiet
exec "$ROOT/target/release/wasm-eventsource-server" --port "${PORT:-8080}" --pkg "$ROOT/pkg-web" --www "$ROOT/www"
