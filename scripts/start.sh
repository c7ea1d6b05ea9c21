#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the package and the server, serves the
# demo on http://127.0.0.1:8080 (PORT overrides) at once, then builds the Leptos and Yew
# example apps, served at /examples/<name>/ (the demo's links to them say "building…"
# until they are there). Ctrl-C stops it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
bash scripts/build.sh web
# The debug build: the tests build the same, so nothing is compiled twice.
cargo build -p wasm-eventsource-server --quiet
port="${PORT:-8080}"
"$ROOT/target/debug/wasm-eventsource-server" --port "$port" --pkg "$ROOT/pkg-web" --www "$ROOT/www" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT INT TERM
echo "demo: http://127.0.0.1:$port/ (building the example apps now; Ctrl-C stops)"
if bash scripts/build-examples.sh; then
  echo "example apps: http://127.0.0.1:$port/examples/leptos-chat/ and /examples/yew-chat/"
else
  echo "the example apps failed to build (above); the demo still runs" >&2
fi
wait "$server"
