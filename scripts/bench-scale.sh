#!/usr/bin/env bash
# Grapes at scale: clusters of 8, 64 and 256 Go grape processes on loopback
# (Node grenache-grape 1.0.0 at 8 and 64 in the same run), each grape
# bootstrapped at 3 random earlier ones; 1000 names announced from random
# grapes; lookups of announced and absent names from random grapes; then
# churn (a quarter of the grapes killed and replaced) under lookups.
# Reports lookup success, p50/p99, KRPC messages per lookup (Go grapes'
# /metrics), RSS per grape and time to join. Grapes are pinned to CPU 1,
# the driver to CPU 0. Writes reports/bench-scale.md.
#
# Usage: bash scripts/bench-scale.sh
# Env:   SCALE_SIZES (8,64,256), SCALE_NODE_SIZES (8,64; "" for none),
#        SCALE_NAMES (1000), SCALE_ABSENT (200), SCALE_CONC (8),
#        SERVER_CPU (1), LOAD_CPU (0). Defaults take about 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v taskset >/dev/null || { echo "bench-scale: taskset (util-linux) is required" >&2; exit 1; }
NODE_SIZES="${SCALE_NODE_SIZES-8,64}"
ONLY=go
if [ -n "$NODE_SIZES" ]; then
  ONLY=go,node
  [ -f test/interop/node/node_modules/grenache-grape/bin/grape.js ] || {
    echo "bench-scale: Node reference not installed; run make deps" >&2; exit 1; }
fi
# 256 grapes hold 512 sockets plus the driver's connections.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

mkdir -p bin reports
CGO_ENABLED=0 go build -o bin/grape ./cmd/grape
CGO_ENABLED=0 go build -o bin/grape-bench ./bench/grape/driver

exec taskset -c "${LOAD_CPU:-0}" env GOMAXPROCS=1 bin/grape-bench -mode scale \
  -grape bin/grape -node-dir test/interop/node \
  -server-cpu "${SERVER_CPU:-1}" -load-cpu "${LOAD_CPU:-0}" -only "$ONLY" \
  -scale-sizes "${SCALE_SIZES:-8,64,256}" -scale-node-sizes "${NODE_SIZES:-8}" \
  -scale-names "${SCALE_NAMES:-1000}" -scale-absent "${SCALE_ABSENT:-200}" -scale-conc "${SCALE_CONC:-8}" \
  -out reports/bench-scale.md \
  -command "make bench-scale${SCALE_SIZES:+ (SCALE_SIZES=$SCALE_SIZES)}${SCALE_NODE_SIZES+ (SCALE_NODE_SIZES=$SCALE_NODE_SIZES)}"
