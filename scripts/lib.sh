# Shared by the npm scripts: paths, PATH, and starting the test server.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# node_modules/.bin first: wasm-pack must find binaryen's wasm-opt, not an older one.
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

# start_server [args...]: starts the built server (SERVER_BIN, default the debug build)
# on a free loopback port, sets SERVER_URL and SERVER_PID, and stops the server when
# the calling script exits.
start_server() {
  local log="$ROOT/target/server.log"
  mkdir -p "$ROOT/target"
  "${SERVER_BIN:-$ROOT/target/debug/wasm-eventsource-server}" --port 0 "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    SERVER_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$SERVER_URL" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the test server exited at start:" >&2; cat "$log" >&2; return 1
    fi
    sleep 0.1
  done
  if [ -z "$SERVER_URL" ]; then echo "the test server did not say where it listens:" >&2; cat "$log" >&2; return 1; fi
  export SERVER_URL SERVER_PID
  echo "test server at $SERVER_URL (log: target/server.log)"
}
