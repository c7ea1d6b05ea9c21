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
# One log per port: two demos at once need two ports, and keep their logs apart.
log="$ROOT/target/demo-server-$port.log"
: >"$log" # not the last run's "listening on"
"$ROOT/target/debug/wasm-eventsource-server" --port "$port" --pkg "$ROOT/pkg-web" --www "$ROOT/www" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
# Serving before saying so: a port in use fails here, not under the example builds.
for _ in $(seq 1 100); do
  grep -q '^listening on' "$log" && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the demo server did not start (PORT=$port in use? PORT=9000 npm start serves elsewhere):" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
grep -q '^listening on' "$log" || { echo "the demo server did not say it listens:" >&2; cat "$log" >&2; exit 1; }
# The address the server says (PORT=0 asks the system for a free port).
url=$(sed -n 's|^listening on \(http://[^ ]*\).*|\1|p' "$log" | head -n 1)
echo "demo: $url/ (building the example apps now; Ctrl-C stops; server log: ${log#"$ROOT"/})"
if bash scripts/build-examples.sh; then
  echo "example apps: $url/examples/leptos-chat/ and /examples/yew-chat/"
else
  echo "the example apps failed to build (above); the demo still runs" >&2
fi
wait "$server"
