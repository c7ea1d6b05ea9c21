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
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "clippy (wasm32, every feature combination)"
cargo clippy -p wasm-eventsource --target wasm32-unknown-unknown --all-targets --all-features --quiet -- -D warnings
for features in "" native fetch js native,fetch native,js fetch,js; do
  echo "features: [${features}]"
  cargo clippy -p wasm-eventsource --target wasm32-unknown-unknown --lib --no-default-features \
    --features "$features" --quiet -- -D warnings
done

step "rustdoc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --quiet

step "native tests"
cargo test --workspace 2>&1 | tee "$LOGS/native.log"

step "build the npm package (pkg/, pkg-web/) and the server"
bash scripts/build.sh
cargo build -p wasm-eventsource-server --quiet
start_server --ticker-ms 1000

# A loopback port nothing listens on, for the "server unreachable" tests (not port 9:
# browsers refuse it before any network).
SSE_CLOSED_PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export SSE_CLOSED_PORT

# One wasm-pack run per file: wasm-pack hands extra arguments to `cargo build` too, so
# --no-fail-fast cannot be passed; a failing file must not hide the others' results.
status=0
for file in tests/*.rs; do
  name=$(basename "$file" .rs)
  grep -q 'wasm_bindgen_test_configure!(run_in_browser)' "$file" || continue
  step "browser tests: $name (wasm-pack test --headless --chrome)"
  SSE_TEST_SERVER="$SERVER_URL" wasm-pack test --headless --chrome -- --test "$name" 2>&1 | tee -a "$LOGS/browser.log" || status=1
done

for t in tests/e2e/*.test.mjs; do
  step "end-to-end tests: $t (playwright-core, system Chromium)"
  E2E_BASE_URL="$SERVER_URL" timeout 600 node "$t" 2>&1 | tee -a "$LOGS/e2e.log" || status=1
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
echo "$((np + bp + ep)) passed, $((nf + bf + ef)) failed"
if [ "$bp" -eq 0 ] || [ "$ep" -eq 0 ]; then echo "npm test: a tier ran no test" >&2; exit 1; fi
exit "$status"
