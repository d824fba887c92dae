#!/usr/bin/env bash
# Builds the host and the plugins, then serves the demo account on
# 127.0.0.1:8080 with the embedded SQLite store, the fake WeChat API on
# 127.0.0.1:9100 and the demo Q&A service on 127.0.0.1:9200. Stop it with
# Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-plugins.sh
echo "building the wxhost binary (the first build takes about 10 minutes)" >&2
cargo build --release -p wxhost

target/release/wxhost demo-qa --listen 127.0.0.1:9200 &
qa_pid=$!
trap 'kill "$qa_pid" 2>/dev/null || true' EXIT
target/release/wxhost serve --config demo/wxhost.toml
