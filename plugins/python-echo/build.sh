#!/usr/bin/env bash
# Builds the Python plugin into a component with componentize-py.
#
# Usage: plugins/python-echo/build.sh OUTPUT.wasm
#
# componentize-py (pinned below) is installed from PyPI into the
# project-local virtual environment target/python-venv when missing. The
# build is skipped when OUTPUT.wasm was built from the same app.py, WIT
# files and componentize-py version.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
output="$(realpath -m "${1:?usage: $0 OUTPUT.wasm}")"
venv="$root/target/python-venv"
tool="$venv/bin/componentize-py"

if ! "$tool" --version 2>/dev/null | grep -qx "componentize-py $COMPONENTIZE_PY_VERSION"; then
    echo "installing componentize-py $COMPONENTIZE_PY_VERSION into $venv" >&2
    if ! python3 -m venv "$venv"; then
        echo "error: python3 -m venv failed; install Python 3 with venv (Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

stamp="$output.inputs"
inputs="$( (echo "$COMPONENTIZE_PY_VERSION --stub-wasi"; cat "$here/app.py" "$root"/wit/*.wit) | sha256sum | cut -d' ' -f1)"
if [ -f "$output" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
    exit 0
fi

mkdir -p "$(dirname "$output")"
cd "$here"
# --stub-wasi links every WASI import to a trapping stub inside the
# component. Without it, the CPython runtime requests secure random
# bytes from WASI in every call, which the host rejects with a trap. With it, the
# `random` module keeps the seed drawn at build time.
"$tool" --wit-path "$root/wit" --world plugin componentize --stub-wasi app --output "$output" >&2
echo "$inputs" > "$stamp"
