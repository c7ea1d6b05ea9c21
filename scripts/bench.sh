#!/usr/bin/env bash
# `npm run bench`: the throughput benchmark. Installs what is missing, runs the
# parser-alone bench (cargo bench --bench parse), builds the release test server, the
# wasm bench reader (bench/reader) and the bench page (bench/page, bundled by esbuild),
# then times every reader in headless Chromium (bench/run.mjs) against the server.
# Figures are ratios against anchors measured in the same run; nothing here fails on a
# timing. Environment: BENCH_EVENTS (default 50000), BENCH_ROUNDS (default 5).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh

OUT="$ROOT/target/bench"
rm -rf "$OUT"
mkdir -p "$OUT/page"

# Parser alone, natively: before anything else runs, so the machine is quiet.
step "parser alone (cargo bench --bench parse)"
cargo bench --quiet --bench parse | tee "$OUT/parse.log"
PARSER_LINE=$(sed -n 's/^parser: *//p' "$OUT/parse.log" | head -n 1)

step "build the test server (release)"
cargo build -p wasm-eventsource-server --release --quiet

step "build the bench reader (bench/reader, wasm-pack --release)"
# Not a member of the main workspace: its own lockfile and target directory.
CARGO_TARGET_DIR="$ROOT/target/bench-reader" wasm-pack --quiet build bench/reader \
  --release --target web --out-dir "$OUT/reader" --out-name wasm_eventsource_bench >&2

step "bundle the bench page (esbuild)"
esbuild bench/page/main.js --bundle --format=esm --target=es2022 --log-level=warning \
  --external:/reader/* --outfile="$OUT/page/main.js"
cp bench/page/index.html "$OUT/page/index.html"

step "start the test server (release, --ticker-ms 0)"
SERVER_BIN="$ROOT/target/release/wasm-eventsource-server" start_server --ticker-ms 0

step "throughput (bench/run.mjs, headless Chromium)"
BENCH_SERVER="$SERVER_URL" BENCH_PARSER_LINE="$PARSER_LINE" \
  node bench/run.mjs
echo "bench: done in ${SECONDS}s"
