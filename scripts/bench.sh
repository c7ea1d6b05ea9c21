#!/usr/bin/env bash
# `npm run bench`: throughput, main-thread time per event, latency and sizes, for the
# Rust API and the JS API on both transports, beside their anchors. Installs what is
# missing, runs the parser-alone bench (cargo bench --bench parse), builds the release
# test server, the npm package's web build (as pkg-web), the wasm bench reader
# (bench/reader), the size probes (examples/minimal, bench/full-consumer,
# bench/gloo-minimal, bench/minimal-floor) and the bench page (bench/page, bundled by
# esbuild), then measures in headless Chromium (bench/run.mjs) against the server and
# writes BENCHMARKS.md. Figures are ratios against anchors measured in the same run;
# nothing here fails on a timing.
#
# Environment: BENCH_EVENTS (default 50000), BENCH_ROUNDS (default 9),
# BENCH_LATENCY_EVENTS (default 2000), BENCH_LATENCY_RATE (default 200),
# BENCH_REPORT (default BENCHMARKS.md; "-" writes none), BENCH_NICE=0 (no priority
# boost), BENCH_PROFILE=<reader id> (profile that reader instead of reporting). See
# bench/run.mjs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh

OUT="$ROOT/target/bench"
SIZES="$OUT/sizes"
rm -rf "$OUT"
mkdir -p "$OUT/page" "$SIZES"
# The bench crates are not members of the main workspace (each has its own lockfile);
# they share one target directory so that they share their dependencies' artifacts.
export CARGO_TARGET_DIR_BENCH="$ROOT/target/bench-reader"

# Parser alone, natively: before anything else runs, so the machine is quiet.
step "parser alone (cargo bench --bench parse)"
cargo bench --quiet --bench parse | tee "$OUT/parse.log"
PARSER_LINE=$(sed -n 's/^parser: *//p' "$OUT/parse.log" | head -n 1)

step "build the test server (release)"
cargo build -p wasm-eventsource-server --release --quiet

# The server's broker fanning events out to 1,000 local subscribers, in memory and
# through a Redis it starts on a loopback port (server/examples/fanout.rs).
step "server fan-out, in memory and Redis (cargo run --example fanout)"
cargo run -p wasm-eventsource-server --release --quiet --example fanout | tee "$OUT/fanout.log"
FANOUT_LINE=$(sed -n 's/^fanout: *//p' "$OUT/fanout.log" | head -n 1)

step "build the npm package's web build (as scripts/build.sh web, into target/bench/pkg-web)"
# The same build as `scripts/build.sh web`, but into a directory of its own,
# so that a concurrent `npm test` or `npm run build` rewriting pkg-web cannot hand the
# page a half-written package. In target/npm (build_npm), not the bench's: there the
# size probes, which depend on the crate, leave their own wasm_eventsource.wasm (a
# cdylib dependency is copied up too).
build_npm "$OUT/pkg-web" web
if ! grep -q 'class TypedEventSource' "$OUT/pkg-web/wasm_eventsource.d.ts"; then
  echo "bench: the web build has no TypedEventSource (target/bench/pkg-web)" >&2; exit 1
fi

step "build the bench reader (bench/reader, release, wasm-opt -O)"
# With NPM_PROFILING=1 the reader keeps its function names too (wasm-opt -g), so a
# BENCH_PROFILE of a Rust reader names its wasm functions.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR_BENCH" wasm_build bench/reader "$OUT/reader" wasm_eventsource_bench web "-O${NPM_PROFILING:+ -g}"

step "sizes (wasm-opt -Oz, gzip -9)"
# (-n: no file name in the header, which would make a size depend on the file's name.)
gz() { gzip -9 -n -c "$1" | wc -c | tr -d ' '; }
# A build's JavaScript: its glue and the snippets the glue imports (wasm-bindgen's
# `snippets/`, each a file a page loads), in bytes (bytes) or gzipped one by one (gz).
js_total() {
  local how=$1 js=$2 total f
  total=$([ "$how" = gz ] && gz "$js" || wc -c <"$js" | tr -d ' ')
  if [ -d "$(dirname "$js")/snippets" ]; then
    while IFS= read -r f; do
      total=$((total + $([ "$how" = gz ] && gz "$f" || wc -c <"$f" | tr -d ' ')))
    done < <(find "$(dirname "$js")/snippets" -name '*.js' | sort)
  fi
  echo "$total"
}
size_entries=()
# measure ID LABEL WASM JS [anchor]
measure() {
  local id=$1 label=$2 wasm=$3 js=$4 anchor=${5:-}
  local entry wasm_bytes wasm_gz js_gz
  wasm_bytes=$(wc -c <"$wasm" | tr -d ' ') wasm_gz=$(gz "$wasm") js_gz=$(js_total gz "$js")
  entry=$(printf '{"id": "%s", "label": "%s", "wasm": %s, "wasmGz": %s, "js": %s, "jsGz": %s%s}' \
    "$id" "$label" "$wasm_bytes" "$wasm_gz" "$(js_total bytes "$js")" "$js_gz" "${anchor:+, \"anchor\": true}")
  size_entries+=("$entry")
  printf '%-16s wasm %8s B, gzip %7s B; JS glue and snippets gzip %6s B\n' "$id" "$wasm_bytes" "$wasm_gz" "$js_gz"
}
# build_probe ID CRATE_DIR: a release build and its glue, then wasm-opt -Oz.
build_probe() {
  local id=$1 dir=$2 out="$SIZES/$1"
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR_BENCH" wasm_build "$dir" "$out" "$id" web ""
  wasm-opt -Oz "$out/${id}_bg.wasm" -o "$out/${id}.oz.wasm"
}
build_probe minimal examples/minimal
build_probe full-consumer bench/full-consumer
build_probe gloo-minimal bench/gloo-minimal
build_probe minimal-floor bench/minimal-floor
measure minimal 'examples/minimal (one typed handler, native only)' \
  "$SIZES/minimal/minimal.oz.wasm" "$SIZES/minimal/minimal.js"
measure full-consumer 'full Rust consumer (default features, one typed handler per transport)' \
  "$SIZES/full-consumer/full-consumer.oz.wasm" "$SIZES/full-consumer/full-consumer.js"
measure pkg-web 'npm package, web build (pkg-web, as shipped)' \
  "$OUT/pkg-web/wasm_eventsource_bg.wasm" "$OUT/pkg-web/wasm_eventsource.js"
measure gloo-minimal 'gloo-net EventSource + serde_json, same job (anchor)' \
  "$SIZES/gloo-minimal/gloo-minimal.oz.wasm" "$SIZES/gloo-minimal/gloo-minimal.js" anchor
measure minimal-floor 'same job, no library: web-sys EventSource + the JSON.parse decoder (no engine)' \
  "$SIZES/minimal-floor/minimal-floor.oz.wasm" "$SIZES/minimal-floor/minimal-floor.js"
# What a JavaScript app downloads, bundled and minified the same way for all (esbuild
# --bundle --minify, gzip -9): our package (the bundle plus the wasm it fetches, from a
# copy of the package as it ships) and the JS SSE clients a developer compares it with.
BUNDLES="$OUT/bundles"
mkdir -p "$BUNDLES/wasm-eventsource/js"
cp package.json "$BUNDLES/wasm-eventsource/"
cp js/index.js js/url.js js/index.d.ts "$BUNDLES/wasm-eventsource/js/"
cp -r "$OUT/pkg-web" "$BUNDLES/wasm-eventsource/pkg-web"
bundle_entries=()
for id in ours eventsource fetch-event-source eventsource-parser; do
  # The anchors as classic scripts (iife): the start-up row evaluates their text. Ours
  # stays a module, as an app bundles it (it finds its wasm through import.meta.url).
  format=iife; [ "$id" = ours ] && format=esm
  # The alias: from inside this repository, esbuild resolves "wasm-eventsource" to the
  # repository itself (a package may import itself by name), that is to whatever
  # pkg-web/ the last `npm run build` left, not to the copy above.
  NODE_PATH="$BUNDLES:$ROOT/node_modules" esbuild "bench/anchors/$id.js" --bundle --minify \
    --alias:wasm-eventsource="$BUNDLES/wasm-eventsource" \
    --format=$format --target=es2022 --log-level=warning --outfile="$BUNDLES/$id.min.js"
  js_gz=$(gz "$BUNDLES/$id.min.js")
  wasm_gz=0
  [ "$id" = ours ] && wasm_gz=$(gz "$OUT/pkg-web/wasm_eventsource_bg.wasm")
  printf '%-20s bundle gzip %6s B, wasm gzip %6s B\n' "$id" "$js_gz" "$wasm_gz"
  bundle_entries+=("$(printf '{"id": "%s", "js": %s, "jsGz": %s, "wasmGz": %s}' "$id" \
    "$(wc -c <"$BUNDLES/$id.min.js" | tr -d ' ')" "$js_gz" "$wasm_gz")")
done
WASM_OPT_VERSION=$(wasm-opt --version | sed -n 's/.*version \([0-9]*\).*/\1/p' | head -n 1)
{
  printf '{"wasmOpt": "%s", "entries": [\n' "$WASM_OPT_VERSION"
  (IFS=$'\n'; echo "${size_entries[*]}" | sed '$!s/$/,/')
  printf '], "bundles": [\n'
  (IFS=$'\n'; echo "${bundle_entries[*]}" | sed '$!s/$/,/')
  printf ']}\n'
} >"$SIZES.json"

step "bundle the bench page (esbuild)"
esbuild bench/page/main.js --bundle --format=esm --target=es2022 --log-level=warning \
  --external:/reader/* --external:/pkg-web/* --outfile="$OUT/page/main.js"
cp bench/page/index.html "$OUT/page/index.html"

step "start the test server (release, --ticker-ms 0)"
SERVER_BIN="$ROOT/target/release/wasm-eventsource-server" start_server --ticker-ms 0

# Priority over other work on the machine (builds, tests) for the server, the driver and
# the browser it starts: steadier timings. Only root may raise it; otherwise (or with
# BENCH_NICE=0) the run goes on at normal priority.
BOOST=()
if [ "$(id -u)" -eq 0 ] && [ "${BENCH_NICE:-1}" != 0 ]; then
  renice -n -10 -p "$SERVER_PID" >/dev/null 2>&1 && BOOST=(nice -n -10)
fi
# (What the report says of it: only a boost that was made.)
export BENCH_BOOSTED=$([ ${#BOOST[@]} -gt 0 ] && echo 1 || echo 0)

step "throughput, main thread, latency (bench/run.mjs, headless Chromium)"
BENCH_SERVER="$SERVER_URL" BENCH_PARSER_LINE="$PARSER_LINE" BENCH_FANOUT_LINE="$FANOUT_LINE" BENCH_SIZES="$SIZES.json" \
  ${BOOST[@]+"${BOOST[@]}"} node bench/run.mjs
echo "bench: done in ${SECONDS}s"
