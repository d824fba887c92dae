#!/usr/bin/env bash
# Runs every check and test: formatting, lints, unit and end-to-end tests.
# The end-to-end tests build the plugin components themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

# rust-toolchain.toml pins the toolchain, rustfmt, clippy and the
# wasm32-wasip2 target; this installs whichever of them is missing.
rustup toolchain install >/dev/null

cargo fmt --all --check
cargo clippy --release --workspace --all-targets -- -D warnings
cargo test --release --workspace
