#!/usr/bin/env bash
# Grape benchmark: /lookup throughput and latency of a 2-grape Go cluster vs
# a 2-grape Node cluster (grenache-grape 1.0.0) vs a bare net/http ceiling,
# all under the same Go load generator; RSS idle and under load; a fresh
# announcement under load; lookups after one grape of five is killed.
# Servers are pinned to CPU 1, the load generator to CPU 0.
# Prints a markdown report and writes it to reports/bench-grape.md.
#
# Usage: bash scripts/bench-grape.sh
# Env:   BENCH_DURATION (default 5s per point), BENCH_WARMUP (1s), BENCH_REPS (3,
#        interleaved, median reported), BENCH_CONC (1,8,64), BENCH_NAMES (1000),
#        SERVER_CPU (1), LOAD_CPU (0), BENCH_ONLY (phases: node,go,bare,kill; default all).
#        Defaults take about 6 minutes; a quick Go-vs-ceiling check:
#        BENCH_ONLY=go,bare BENCH_DURATION=3s bash scripts/bench-grape.sh (about 2 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(nproc)" -lt 2 ]; then
  echo "bench-grape: needs 2 CPUs (servers on one, load on the other)" >&2
  exit 1
fi
command -v taskset >/dev/null || { echo "bench-grape: taskset (util-linux) is required" >&2; exit 1; }
[ -f test/interop/node/node_modules/grenache-grape/bin/grape.js ] || {
  echo "bench-grape: Node reference not installed; run make deps" >&2; exit 1; }

mkdir -p bin reports
CGO_ENABLED=0 go build -o bin/grape ./cmd/grape
CGO_ENABLED=0 go build -o bin/grape-loadgen ./bench/grape/loadgen
CGO_ENABLED=0 go build -o bin/grape-bare ./bench/grape/bare
CGO_ENABLED=0 go build -o bin/grape-bench ./bench/grape/driver

exec bin/grape-bench \
  -grape bin/grape -loadgen bin/grape-loadgen -bare bin/grape-bare \
  -node-dir test/interop/node \
  -d "${BENCH_DURATION:-5s}" -warmup "${BENCH_WARMUP:-1s}" -reps "${BENCH_REPS:-3}" \
  -conc "${BENCH_CONC:-1,8,64}" -names "${BENCH_NAMES:-1000}" \
  -server-cpu "${SERVER_CPU:-1}" -load-cpu "${LOAD_CPU:-0}" \
  -only "${BENCH_ONLY:-}" \
  -out reports/bench-grape.md \
  -command "bash scripts/bench-grape.sh${BENCH_DURATION:+ (BENCH_DURATION=$BENCH_DURATION)}${BENCH_REPS:+ (BENCH_REPS=$BENCH_REPS)}${BENCH_ONLY:+ (BENCH_ONLY=$BENCH_ONLY)}"
