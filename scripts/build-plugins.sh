#!/usr/bin/env bash
# Builds every plugin component for wasm32-wasip2 into
# target/wasm32-wasip2/plugin/*.wasm.
set -euo pipefail
cd "$(dirname "$0")/.."

# rust-toolchain.toml pins the toolchain and the wasm32-wasip2 target;
# this installs whichever of them is missing and does nothing otherwise.
rustup toolchain install >/dev/null

packages=()
count=0
for manifest in plugins/*/Cargo.toml plugins/testing/*/Cargo.toml; do
    [ -f "$manifest" ] || continue
    # A crate with its own [workspace] table is not a member of this
    # workspace. `wxhost plugin new NAME --dir plugins` makes such a crate,
    # and `cargo build` in its own directory builds it.
    if grep -q '^\[workspace\]' "$manifest"; then
        echo "skipping $(dirname "$manifest"): not a member of this workspace" >&2
        continue
    fi
    # Only cdylib crates are components; a library such as the SDK is
    # built as their dependency.
    grep -q 'cdylib' "$manifest" || continue
    name=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)
    packages+=(-p "$name")
    count=$((count + 1))
done
echo "building $count plugin components for wasm32-wasip2" >&2
cargo build --profile plugin --target wasm32-wasip2 "${packages[@]}"
