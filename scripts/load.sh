#!/usr/bin/env bash
# Load suite: builds the release host, the plugins and the load tools,
# starts wxhost (tests/load/wxhost-load.toml) and baseline-server on
# 127.0.0.1, and runs wxhost-load against both. Every run stops by itself:
# per target a sample check, a warm-up, a full-speed run and a half-rate
# run, after W1 a full-speed run during plugin reloads, plus the optional
# soak. Exits non-zero when a request fails during the reloads.
#
# Usage: scripts/load.sh [options]
#   --duration-secs N   length of each full-speed and half-rate run (10)
#   --warmup-secs N     warm-up before each full-speed run (3)
#   --concurrency N     open connections (32)
#   --soak-minutes N    soak run after the suite, 0 to skip (0)
#   --soak-rate R       soak rate in requests/s (half the lowest workload)
#   --pin               servers on CPU 0, load generator on CPU 1
#   --targets LIST      targets to measure, from baseline,w1,w2,w3 (all)
#   --profile FILE      record the host with perf (call graphs from DWARF)
#                       into FILE while the load runs
#   --reloads N         keyword plugin reloads during the reload check after
#                       W1, 0 to skip (5)
#   --host-port P       wxhost port (18080)
#   --baseline-port P   baseline-server port (18081)
#   --skip-build        use the binaries and plugins already built
#   --record            append the results to docs/benchmarks.md
set -euo pipefail
cd "$(dirname "$0")/.."

duration_secs=10
warmup_secs=3
concurrency=32
soak_minutes=0
soak_rate=""
pin=0
targets=baseline,w1,w2,w3
profile=""
reloads=5
host_port=18080
baseline_port=18081
skip_build=0
record=0

while [ $# -gt 0 ]; do
    case "$1" in
        --duration-secs) duration_secs=$2; shift 2 ;;
        --warmup-secs) warmup_secs=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --soak-minutes) soak_minutes=$2; shift 2 ;;
        --soak-rate) soak_rate=$2; shift 2 ;;
        --pin) pin=1; shift ;;
        --targets) targets=$2; shift 2 ;;
        --profile) profile=$2; shift 2 ;;
        --reloads) reloads=$2; shift 2 ;;
        --host-port) host_port=$2; shift 2 ;;
        --baseline-port) baseline_port=$2; shift 2 ;;
        --skip-build) skip_build=1; shift ;;
        --record) record=1; shift ;;
        -h|--help) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
    esac
done

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
if [ "$skip_build" = 0 ]; then
    scripts/build-plugins.sh
    echo "building wxhost, baseline-server and wxhost-load (release)" >&2
    cargo build --release -p wxhost -p wxhost-tests --bins
fi

server_cpus=()
client_cpus=()
if [ "$pin" = 1 ]; then
    server_cpus=(taskset -c 0)
    client_cpus=(taskset -c 1)
fi

work_dir=$(mktemp -d)
bin_dir=$work_dir/bin
plugin_dir=$work_dir/plugins
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work_dir"
}
trap cleanup EXIT

# Worktrees that share one CARGO_TARGET_DIR overwrite each other's
# binaries and components, and cargo may reuse another checkout's build as
# fresh because its dep-info paths are relative to the workspace. An
# artifact keeps the relative paths of its Rust sources (line tables and
# panic locations), so reject it when one of them does not exist here, then
# run from copies that later builds cannot replace.
# NOTE: a build from another checkout with the same file set but other
# file contents passes this check.
snapshot() {
    local artifact=$1 destination=$2 source
    for source in $(grep -a -o -E '[^A-Za-z0-9_/.-](host|tests|plugins)/[A-Za-z0-9_/-]+\.rs' "$artifact" | cut -c 2- | sort -u); do
        if [ ! -f "$source" ]; then
            echo "$artifact was built from another checkout: it contains $source, which does not exist in $PWD." >&2
            echo "Another worktree shares the target directory; rerun to rebuild from here." >&2
            exit 1
        fi
    done
    cp "$artifact" "$destination/"
}
mkdir -p "$bin_dir" "$plugin_dir"
for binary in wxhost baseline-server wxhost-load; do
    snapshot "$target_dir/release/$binary" "$bin_dir"
done
for component in $(grep -v '^#' tests/load/wxhost-load.toml | grep -o '{plugins}/[a-z_]*\.wasm' | sort -u); do
    snapshot "$target_dir/wasm32-wasip2/plugin/${component#\{plugins\}/}" "$plugin_dir"
done

sed -e "s|{listen}|127.0.0.1:$host_port|" \
    -e "s|{dir}|$work_dir|" \
    -e "s|{plugins}|$plugin_dir|" \
    tests/load/wxhost-load.toml >"$work_dir/wxhost-load.toml"

"${server_cpus[@]}" "$bin_dir/wxhost" serve --config "$work_dir/wxhost-load.toml" \
    2>"$work_dir/host.log" &
host_pid=$!
pids+=("$host_pid")
"${server_cpus[@]}" "$bin_dir/baseline-server" --listen "127.0.0.1:$baseline_port" \
    >"$work_dir/baseline.log" 2>&1 &
pids+=("$!")

wait_for_port() {
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1 after 30 s; host log:" >&2
    tail -n 20 "$work_dir/host.log" >&2
    exit 1
}
wait_for_port "$host_port"
wait_for_port "$baseline_port"

load_args=(
    --host "127.0.0.1:$host_port"
    --baseline "127.0.0.1:$baseline_port"
    --host-pid "$host_pid"
    --concurrency "$concurrency"
    --warmup-secs "$warmup_secs"
    --duration-secs "$duration_secs"
    --soak-minutes "$soak_minutes"
    --reloads "$reloads"
    --reload-file "$plugin_dir/plugin_keyword.wasm"
    --targets "$targets"
    --markdown "$work_dir/results.md"
)
if [ -n "$soak_rate" ]; then
    load_args+=(--soak-rate "$soak_rate")
fi
if [ -n "$profile" ]; then
    perf record --quiet -F 499 --call-graph dwarf,16384 -p "$host_pid" -o "$profile" &
    perf_pid=$!
    pids=("$perf_pid" "${pids[@]}")
fi
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
load_status=0
"${client_cpus[@]}" "$bin_dir/wxhost-load" "${load_args[@]}" || load_status=$?
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
if [ -n "$profile" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    echo "wrote the host profile to $profile; read it with: perf report -i $profile" >&2
fi

failures=$(grep -c -E 'callback rejected|plugin fault|budget_exceeded' "$work_dir/host.log" || true)
echo "host log lines with rejected callbacks or plugin faults: $failures" >&2
if [ "$failures" != 0 ]; then
    echo "the first of them:" >&2
    grep -E 'callback rejected|plugin fault|budget_exceeded' "$work_dir/host.log" | head -n 5 >&2
fi

if [ "$record" = 1 ]; then
    commit=$(git rev-parse --short HEAD)
    if ! git diff --quiet HEAD; then
        commit="$commit (with uncommitted changes)"
    fi
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    memory=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    if [ "$pin" = 1 ]; then
        placement="servers pinned to CPU 0, load generator to CPU 1"
    else
        placement="servers and load generator share both CPUs"
    fi
    {
        echo
        echo "### $(date -u +%F), commit $commit"
        echo
        echo "Machine: $(nproc) CPUs ($cpu), $memory, Linux $(uname -r); $placement."
        echo "Load average (1, 5, 15 min) before the run: $load_before; after: $load_after."
        echo
        echo "Command: \`scripts/load.sh --duration-secs $duration_secs --warmup-secs $warmup_secs --concurrency $concurrency --soak-minutes $soak_minutes --reloads $reloads --targets $targets$([ "$pin" = 1 ] && echo " --pin")\`"
        echo
        cat "$work_dir/results.md"
    } >>docs/benchmarks.md
    echo "appended the results to docs/benchmarks.md" >&2
fi
exit "$load_status"
