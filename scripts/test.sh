#!/usr/bin/env bash
# `npm test`: installs what is missing, then runs every tier: lints, native tests,
# browser tests against the real server in headless Chromium, and end-to-end tests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh

LOGS="$ROOT/target/test-logs"
rm -rf "$LOGS"; mkdir -p "$LOGS"

step "format"
cargo fmt --all -- --check

step "clippy (native)"
# The example apps are wasm32-only workspace members: named packages, not --workspace.
# Every feature but the hooks: checking leptos and yew natively costs minutes, and the
# hooks' code is the same on wasm32, where it is linted below (and built natively by
# the native tests of their docs).
cargo clippy -p wasm-eventsource -p wasm-eventsource-server --all-targets --features wasm-eventsource/js --quiet -- -D warnings

step "clippy (wasm32): every feature, every target"
cargo clippy -p wasm-eventsource --target wasm32-unknown-unknown --all-targets --all-features --quiet -- -D warnings
step "clippy (wasm32): the feature matrix, library only"
for features in "" native probe fetch js native,fetch native,js probe,js fetch,js share native,share fetch,share; do
  echo "features: [${features}]"
  cargo clippy -p wasm-eventsource --target wasm32-unknown-unknown --lib --no-default-features \
    --features "$features" --quiet -- -D warnings
done
step "clippy (wasm32): the hooks and the example apps"
# Each hook with and without the default transports, with its browser tests (all
# targets: the dev-dependencies turn on leptos/yew's `csr`, as in the run above, so
# these reuse its checks), and the example apps.
for features in leptos yew; do
  for defaults in "" --no-default-features; do
    echo "features: [${defaults:+no default, }${features}] (all targets)"
    cargo clippy -p wasm-eventsource --target wasm32-unknown-unknown --all-targets $defaults \
      --features "$features" --quiet -- -D warnings
  done
done
cargo clippy -p leptos-chat -p yew-chat --target wasm32-unknown-unknown --all-targets --quiet -- -D warnings

step "rustdoc"
# The library for wasm32, where it runs (its API is the same on every target), reusing
# the dependencies clippy checked above: natively, every feature would check leptos and
# yew a second time (about a minute and a half of a cold run). The server natively.
RUSTDOCFLAGS="-D warnings" cargo doc -p wasm-eventsource --target wasm32-unknown-unknown --all-features --no-deps --quiet
RUSTDOCFLAGS="-D warnings" cargo doc -p wasm-eventsource-server --no-deps --quiet

step "native tests"
cargo test -p wasm-eventsource -p wasm-eventsource-server 2>&1 | tee "$LOGS/native.log"
step "native tests: the hooks natively (leptos, yew)"
# The hooks natively: the Leptos hook under SSR, and their doc examples (and the
# README's) compile with the features on. The library's unit tests and doctests only:
# the files in tests/ that name the hooks run in the browser, and natively they are
# empty binaries, each linked against Leptos and Yew for nothing.
cargo test -p wasm-eventsource --features leptos,yew --lib -- leptos yew 2>&1 | tee -a "$LOGS/native.log"
cargo test -p wasm-eventsource --features leptos,yew --doc -- leptos yew ReadmeDoctests 2>&1 | tee -a "$LOGS/native.log"

step "build the npm package (pkg-web/) and the server"
bash scripts/build.sh
# (The server's binary is the one the native tests built for their own checks: a plain
# `cargo build` would compile hyper, axum and 30 more again, without the features the
# tests' dev-dependencies turn on.)
start_server --ticker-ms 1000

# A loopback port that refuses connections, for the "server unreachable" tests (not
# port 9: browsers refuse it before any network).
closed_port

# The browser tests: `cargo test` for wasm32, the wasm-bindgen test runner (setup.sh)
# driving headless Chromium through chromedriver, which is what `wasm-pack test
# --headless --chrome` ran. One cargo run per feature set builds its test files
# together; --no-fail-fast, so a failing file does not hide the others' results.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_WEB=1
CHROMEDRIVER=$(command -v chromedriver) WASM_BINDGEN_TEST_TIMEOUT=600 SSE_TEST_SERVER="$SERVER_URL"
export CHROMEDRIVER WASM_BINDGEN_TEST_TIMEOUT SSE_TEST_SERVER
status=0
# Runs that failed without a count of their own (a build that did not compile, a file
# killed by its timeout or crashed before its summary): each counts as one failure.
unreported=()
browser_tests() { # browser_tests LABEL CARGO_ARGS...
  step "browser tests: $1 (cargo test --target wasm32-unknown-unknown, headless Chromium)"
  local label=$1
  shift
  local log="$LOGS/browser.last.log"
  if cargo test --target wasm32-unknown-unknown --no-fail-fast "$@" 2>&1 | tee "$log"; then
    cat "$log" >>"$LOGS/browser.log"
    return
  fi
  # A page that never reported (Chromium stalled loading it: the runner says "Failed
  # to detect test as having been run", chromedriver "Timed out receiving message from
  # renderer"; the runner's server had left one of the page's requests unread) is run
  # once more. Seen in tests/json_parse.rs, in bursts, while the library had one more
  # snippet module (see src/transport/dom.js). A test that failed is not run again:
  # its FAIL line is in the log.
  if grep -q "Failed to detect test as having been run" "$log" && ! grep -qE "^test .* FAIL" "$log"; then
    cat "$log" >>"$LOGS/browser.stalled.log"
    echo "browser tests: a page never reported its tests (a stalled browser, above); running them once more" >&2
    if cargo test --target wasm32-unknown-unknown --no-fail-fast "$@" 2>&1 | tee "$log"; then
      cat "$log" >>"$LOGS/browser.log"
      return
    fi
  fi
  status=1
  grep -q "test result: FAILED" "$log" || unreported+=("browser tests: $label")
  cat "$log" >>"$LOGS/browser.log"
}
# Every file that runs in the browser, with the default features but for these.
names=()
for file in tests/*.rs; do
  grep -q 'wasm_bindgen_test_configure!(run_in_browser)' "$file" || continue
  name=$(basename "$file" .rs)
  case "$name" in
    leptos | yew | json_parse) ;;
    *) names+=("$name") ;;
  esac
done
browser_tests "${names[*]}" "${names[@]/#/--test=}"
# The hooks, in one build with both features, as the example apps build the library.
browser_tests "leptos yew" --features leptos,yew --test leptos --test yew
# Decoding with JSON.parse: the native transport alone (with sharing, which must refuse
# the transport that is not compiled in).
browser_tests "json_parse" --no-default-features --features native,share --test json_parse

# After the browser tests: the examples' dev build reuses their wasm32 artifacts.
step "build the example apps (examples-dist/, served at /examples/)"
bash scripts/build-examples.sh

for t in tests/e2e/*.test.mjs; do
  step "end-to-end tests: $t (playwright-core, system Chromium)"
  # (`-k`: playwright-core answers a first SIGTERM by closing its browser, not by
  # exiting.)
  if ! E2E_BASE_URL="$SERVER_URL" timeout -k 30 600 node "$t" 2>&1 | tee "$LOGS/e2e.last.log"; then
    status=1
    # (Failed with no failure in its count: killed, crashed, or hung after its summary.)
    grep -qE '^e2e: [0-9]+ passed, [1-9]' "$LOGS/e2e.last.log" || unreported+=("$t")
  fi
  cat "$LOGS/e2e.last.log" >>"$LOGS/e2e.log"
done

count() { # count FILE: sums "N passed" and "N failed" over a log's summary lines
  local f="$1"
  [ -f "$f" ] || { echo "0 0"; return; }
  awk '/test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) q += $i } }
       /^e2e: [0-9]+ passed, [0-9]+ failed/ { p += $2; q += $4 }
       END { printf "%d %d\n", p, q }' "$f"
}
read -r np nf < <(count "$LOGS/native.log")
read -r bp bf < <(count "$LOGS/browser.log")
read -r ep ef < <(count "$LOGS/e2e.log")
step "summary"
echo "native: $np passed, $nf failed"
echo "browser: $bp passed, $bf failed"
echo "e2e: $ep passed, $ef failed"
if [ "${#unreported[@]}" -gt 0 ]; then
  echo "${#unreported[@]} run(s) failed without a count of their own (each counted as one failure):"
  printf '  %s\n' "${unreported[@]}"
fi
echo "$((np + bp + ep)) passed, $((nf + bf + ef + ${#unreported[@]})) failed"
if [ "$bp" -eq 0 ] || [ "$ep" -eq 0 ]; then echo "npm test: a tier ran no test" >&2; exit 1; fi
exit "$status"
