#!/usr/bin/env bash
# `npm run size:floor`: what each part of the npm package weighs. Builds the package's
# wasm as it ships (build_npm: same toolchain, flags and name shortening) with parts of
# it left out, and prints one Markdown table: the gzipped wasm, the gzipped glue, and
# everything a bundle loads (esbuild --bundle --minify of the package entry, plus the
# wasm). Shows where the floor of the 30 KB target is: the rows without sharing or
# without a transport are builds the package does not ship. About 4 minutes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# What the builds need (the pinned nightly, wasm-bindgen, esbuild), as on a new machine.
bash "$ROOT/scripts/setup.sh"
OUT="$ROOT/target/size-floor"
rm -rf "$OUT"
mkdir -p "$OUT"
building=""
trap 'if [ -n "$building" ]; then echo "size-floor: a build failed; its log:" >&2; cat "$building" >&2; fi' EXIT
# 12345 -> 12,345
grouped() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }
row() {
  local label=$1 features=$2 dir="$OUT/$3"
  # Called plainly, under errexit (an `if !` would turn it off inside build_npm): a
  # failed build ends the script, and the EXIT trap shows the build's log.
  building="$dir.log"
  NPM_NO_DEFAULT=1 NPM_FEATURES=$features build_npm "$dir/pkg-web" web 2>"$building"
  building=""
  # The package's entry over this build, laid out as in the package (js/ beside pkg-web/).
  mkdir -p "$dir/js"
  cp "$ROOT"/js/*.js "$dir/js/"
  echo "import { TypedEventSource } from './js/index.js'; globalThis.__x = TypedEventSource;" >"$dir/entry.js"
  esbuild "$dir/entry.js" --bundle --minify --format=esm --log-level=error --outfile="$dir/bundle.js"
  local wasm glue bundle
  wasm=$(gzip -9nc "$dir/pkg-web/wasm_eventsource_bg.wasm" | wc -c)
  glue=$(gzip -9nc "$dir/pkg-web/wasm_eventsource.js" | wc -c)
  bundle=$(gzip -9nc "$dir/bundle.js" | wc -c)
  printf '| %s | `%s` | %s | %s | %s | %s |\n' "$label" "$features" \
    "$(grouped "$wasm")" "$(grouped "$glue")" "$(grouped "$bundle")" "$(grouped $((wasm + bundle)))"
}
echo '| build | features | wasm gzip | glue gzip | JS bundle gzip | a bundle loads |'
echo '|:--|:--|--:|--:|--:|--:|'
row 'npm package as shipped' 'npm,native,fetch,share,probe' full
row 'without sharing across tabs' 'npm,native,fetch,probe' noshare
row 'fetch transport only, no sharing' 'npm,fetch' fetch
row 'native transport only, no sharing' 'npm,native,probe' native
row 'native only, no sharing, no give-up probe' 'npm,native' native-noprobe
