#!/usr/bin/env bash
# Builds every plugin component for wasm32-wasip2 into
# target/wasm32-wasip2/plugin/*.wasm.
set -euo pipefail
cd "$(dirname "$0")/.."

# rust-toolchain.toml pins the toolchain and the wasm32-wasip2 target;
# this installs whichever of them is missing and does nothing otherwise.
rustup toolchain install >/dev/null

packages=()
for manifest in plugins/*/Cargo.toml plugins/testing/*/Cargo.toml; do
    [ -f "$manifest" ] || continue
    name=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)
    packages+=(-p "$name")
done
echo "building ${#packages[@]} plugins for wasm32-wasip2" >&2
cargo build --profile plugin --target wasm32-wasip2 "${packages[@]}"
