#!/usr/bin/env bash
# Installs what the project needs and is missing. Idempotent, and quiet when
# everything is present, so `npm start` and `npm test` call it every time.
# Each step says why it is done the way it is.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { echo "setup: $*" >&2; }

# Node: the bundlers of the end-to-end tests (Vite 7) need 20.19 or 22.12 and later,
# and would fail only after the builds, twenty minutes in.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "setup: Node $(node --version 2>/dev/null || echo "(none)") is too old: the tests need Node 20.19 or later (22.12 or later on 22)" >&2
  exit 1
fi

# Packages from Debian (Ubuntu's chromium is a snap, which this does not install),
# after one `apt-get update`.
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_updated=0
apt_install() { # apt_install [apt-get options] PACKAGES...
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: $* missing, and there is no apt-get to install them: this script installs from Debian; install them with your system's packages" >&2
    exit 1
  fi
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup: $* missing, and not root without sudo to install them: run \`apt-get install $*\` as root, or install sudo" >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}
# A C toolchain: cargo links every native build (the server, wasm-bindgen-cli) with
# `cc`, which rustup does not install.
if ! command -v cc >/dev/null 2>&1; then
  say "installing gcc and libc6-dev (cargo links with cc)"
  apt_install --no-install-recommends gcc libc6-dev
fi

# Rust itself, on a machine without it (one of the project's kind has rustup and a
# stable toolchain): rustup's installer, the minimal profile.
if ! command -v rustup >/dev/null 2>&1; then
  command -v curl >/dev/null 2>&1 || apt_install --no-install-recommends curl ca-certificates
  say "installing rustup and the stable Rust toolchain"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
fi

# The wasm target.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >&2
fi
for comp in clippy rustfmt; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
    say "adding rustup component $comp"
    rustup component add "$comp" >&2
  fi
done

# The npm package's wasm is built with a pinned nightly (scripts/lib.sh, build_npm):
# `-Cpanic=immediate-abort` and a std rebuilt for size drop the panic messages and
# their formatting code (wasm32 aborts on panic anyway, and nobody saw those messages),
# 72.9 -> 62.5 KB gzipped (2026-12-05; 65 -> 52 when it began). Everything else builds on stable. Pinned, so a new nightly can
# never break a build; the minimal profile, only what that build needs.
NPM_TOOLCHAIN=$(sed -n 's/^NPM_TOOLCHAIN=//p' scripts/lib.sh)
if ! rustup run "$NPM_TOOLCHAIN" rustc --print target-libdir --target wasm32-unknown-unknown >/dev/null 2>&1 ||
  [ ! -d "$(rustup run "$NPM_TOOLCHAIN" rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library" ]; then
  say "installing the $NPM_TOOLCHAIN toolchain for the npm build (wasm32 target, rust-src)"
  rustup toolchain install "$NPM_TOOLCHAIN" --profile minimal \
    --target wasm32-unknown-unknown --component rust-src >&2
fi

# wasm-bindgen CLI and its test runner: exactly the version in Cargo.lock (the CLI
# refuses a wasm built with another). The builds (lib.sh, wasm_build) and the browser
# tests (test.sh) call them directly, with binaryen's wasm-opt: no wasm-pack to compile.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WB_VERSION" ]; then echo "setup: no wasm-bindgen in Cargo.lock" >&2; exit 1; fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WB_VERSION" ]; then
  say "installing wasm-bindgen-cli $WB_VERSION (a few minutes)"
  # Without its default TLS feature: the runner talks to chromedriver on loopback over
  # plain HTTP, and rustls with ring is a minute of a cold build.
  # --locked first: the versions its own lock file names, so a new release of a
  # dependency cannot break a cold setup. A registry can lack a version that lock file
  # names (seen: webpki-roots 1.0.11, which wasm-bindgen-cli 0.2.130's lock names, was
  # missing from the index and the locked install failed at once): then resolve anew,
  # with the newest versions the registry has that this Rust can build (the resolver's
  # fallback to `rustc -V`, since cargo 1.84), rather than stop the setup.
  if ! cargo install wasm-bindgen-cli --version "$WB_VERSION" --no-default-features --locked >&2; then
    say "wasm-bindgen-cli $WB_VERSION: its lock file names a version this registry lacks; installing with the versions the registry has"
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback \
      cargo install wasm-bindgen-cli --version "$WB_VERSION" --no-default-features >&2
  fi
fi

# Chromium and its driver (browser downloads by test tools fail here), and Redis (the
# server tests and the fan-out benchmark start their own redis-server on a loopback
# port; Debian's unit is not used).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "installing chromium and chromium-driver"
  apt_install chromium chromium-driver
fi
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  say "installing redis-server"
  apt_install --no-install-recommends redis-server redis-tools
fi
# Python with venv (Debian splits ensurepip into python3-venv): the Flask-SSE interop
# tests make their own venv (scripts/flask-sse-requirements.txt, from PyPI).
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  say "installing python3 and python3-venv"
  apt_install --no-install-recommends python3 python3-venv
fi

# npm packages (playwright-core, binaryen's wasm-opt, ...). Reinstall when the lock changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  # `npm install`, not `npm ci`: the registry here serves only some of rollup's (Vite's)
  # optional per-platform packages, so the lock cannot list them all, and `npm ci`'s
  # strict sync check fails although the install works. With a lock, npm install
  # installs exactly what it pins and leaves it unchanged.
  npm install --no-audit --no-fund --loglevel=error >&2
fi
