# Shared by the npm scripts: paths, PATH, and starting the test server.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# node_modules/.bin first: binaryen's wasm-opt from npm, never an older one on the system.
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# Each step with the minutes:seconds since the script started: where a cold run's time
# goes (it must stay under 30 minutes on 2 cores).
step() { printf '\n== %s [%d:%02d]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

# wasm_build CRATE_DIR OUT_DIR OUT_NAME TARGET WASM_OPT_ARGS [cargo args...]: a crate's
# wasm with its JS glue, as `wasm-pack build --release` made it, without wasm-pack
# (one tool fewer to compile on a new machine, about 3 minutes of 2 cores):
# `cargo build --lib --release` for wasm32, the wasm-bindgen CLI (the version
# Cargo.lock pins, setup.sh), then binaryen's wasm-opt with WASM_OPT_ARGS (none: no
# optimisation). The cargo environment (toolchain, target dir, flags) is the caller's.
wasm_build() {
  local dir=$1 out=$2 name=$3 target=$4 opt=$5
  shift 5
  # The crate's own cdylib, by its manifest: a cdylib dependency leaves a .wasm of its
  # own in the same directory.
  local abs wasm
  abs=$(cd "$dir" && pwd) || return 1
  wasm=$(cd "$abs" && cargo build --lib --release --quiet --target wasm32-unknown-unknown \
    --message-format=json-render-diagnostics "$@" | node -e '
      const manifest = require("path").resolve(process.argv[1], "Cargo.toml");
      let wasm = "";
      for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
        if (!line.startsWith("{")) continue;
        const m = JSON.parse(line);
        if (m.reason === "compiler-artifact" && m.manifest_path === manifest)
          wasm = m.filenames.find((f) => f.endsWith(".wasm")) || wasm;
      }
      if (!wasm) { console.error(`wasm_build: cargo built no wasm for ${manifest}`); process.exit(1); }
      console.log(wasm);' "$abs") || return 1
  mkdir -p "$out"
  wasm-bindgen "$wasm" --out-dir "$out" --out-name "$name" --target "$target" --typescript
  if [ -n "$opt" ]; then
    # shellcheck disable=SC2086 # WASM_OPT_ARGS is a list of flags
    wasm-opt "$out/${name}_bg.wasm" -o "$out/${name}_bg.opt.wasm" $opt
    mv "$out/${name}_bg.opt.wasm" "$out/${name}_bg.wasm"
  fi
}

# The toolchain of the npm package's wasm (setup.sh installs it; see build_npm).
NPM_TOOLCHAIN=nightly-2026-05-20

# build_npm OUT_DIR [web|bundler]: the npm package's wasm, as it ships. The `npm`
# feature (the JS class, talc as allocator), at opt-level "s", on the pinned nightly
# with std rebuilt for size and panics that abort at once: no panic message, location
# or formatting code is linked (wasm32 aborts on panic anyway and prints nothing).
# `Debug` is compiled to nothing (-Zfmt-debug=none): the JS API never shows a `Debug`
# text, and without it the glue's debug-string import goes too (1 KB of wasm, 0.5 KB
# of JS, gzipped).
# Its own target directory: these flags would rebuild everything in the shared one.
# NPM_FEATURES (default "npm") and NPM_NO_DEFAULT=1 choose other features
# (scripts/size-floor.sh). NPM_STABLE=1 builds the same features on stable (10.4 KB bigger gzipped: 72,931 against 62,521 B on 2026-12-05);
# NPM_OPT_LEVEL sets the opt-level (default "s": "z" saves 1.3 KB gzipped but made
# the JS API on fetch 1.41x the anchor instead of 1.18x, the two builds measured in
# two bench runs back to back).
build_npm() {
  local out=$1 target=${2:-web}
  # What differs between the nightly build and NPM_STABLE's: the toolchain, the target
  # directory, the flags, and std rebuilt for size (cargo arguments after the features).
  local toolchain=$NPM_TOOLCHAIN dir="$ROOT/target/npm" build_std=(-Z build-std=std,panic_abort -Z build-std-features=optimize_for_size)
  local rustflags="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none"
  if [ "${NPM_STABLE:-0}" = 1 ]; then
    toolchain=${RUSTUP_TOOLCHAIN:-} dir="$ROOT/target/npm-stable" build_std=() rustflags=${RUSTFLAGS:-}
  fi
  local opt=(-O)
  if [ -n "${NPM_PROFILING:-}" ]; then opt=(-O -g); fi
  RUSTUP_TOOLCHAIN=$toolchain CARGO_TARGET_DIR="$dir" RUSTFLAGS="$rustflags" \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=${NPM_OPT_LEVEL:-s} \
    wasm_build "$ROOT" "$out" wasm_eventsource "$target" "${opt[*]}" \
    ${NPM_NO_DEFAULT:+--no-default-features} --features "${NPM_FEATURES:-npm}" ${build_std[@]+"${build_std[@]}"}
  # The names the wasm and its glue call each other by, shortened (3.8 KB gzipped of
  # hashes and type names): scripts/minify-names.mjs. The bundler target's glue is
  # imported by the wasm itself (ES module integration), so it keeps them.
  if [ "$target" = web ]; then node "$ROOT/scripts/minify-names.mjs" "$out"; fi
  # `Symbol.dispose`, which the classes' declarations name (for `using`), declared as
  # TypeScript's `esnext.disposable` lib declares it (two such declarations merge): so
  # an app whose `lib` stops before ESNext type-checks the package with skipLibCheck
  # off. Every entry's declarations import this file.
  cat >>"$out/wasm_eventsource.d.ts" <<'EOF'

declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}
EOF
}

# stop_at_exit PID...: stops these background processes when the calling script exits
# (one EXIT trap for all of them: a second `trap` would replace the first).
EXIT_PIDS=${EXIT_PIDS:-}
stop_at_exit() {
  EXIT_PIDS="$EXIT_PIDS $*"
  # shellcheck disable=SC2086 # a list of pids
  trap 'kill $EXIT_PIDS 2>/dev/null || true; wait $EXIT_PIDS 2>/dev/null || true' EXIT
}

# closed_port: sets and exports SSE_CLOSED_PORT, a loopback port that refuses every
# connection for as long as the calling script runs. A socket is bound there and never
# listens: a connection gets a reset, and nothing else can take the port meanwhile (a
# port found free and let go could be taken before the tests use it).
closed_port() {
  local file
  file=$(mktemp)
  python3 -c 'import socket, sys, signal
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
signal.pause()' >"$file" &
  stop_at_exit $!
  SSE_CLOSED_PORT=
  for _ in $(seq 1 100); do
    SSE_CLOSED_PORT=$(head -n 1 "$file")
    [ -n "$SSE_CLOSED_PORT" ] && break
    sleep 0.05
  done
  rm -f "$file"
  if [ -z "$SSE_CLOSED_PORT" ]; then echo "closed_port: python3 did not bind a loopback port" >&2; return 1; fi
  export SSE_CLOSED_PORT
}

# start_server [args...]: starts the built server (SERVER_BIN, default the debug build)
# on a free loopback port, sets SERVER_URL and SERVER_PID, and stops the server when
# the calling script exits.
start_server() {
  # One log per run: `npm test` and `npm run bench` may run at once.
  mkdir -p "$ROOT/target"
  find "$ROOT/target" -maxdepth 1 -name 'server.*.log' -mtime +1 -delete 2>/dev/null || true
  local log
  log=$(mktemp "$ROOT/target/server.XXXXXX.log")
  # Without the caller's REDIS_URL (set for another project, it would put the tests on
  # that Redis): Redis mode only when asked for with --redis.
  env -u REDIS_URL "${SERVER_BIN:-$ROOT/target/debug/wasm-eventsource-server}" --port 0 "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  stop_at_exit "$SERVER_PID"
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
  echo "test server at $SERVER_URL (log: ${log#"$ROOT"/})"
}
