#!/usr/bin/env bash
# Announce storm: a 3-grape Node cluster (grenache-grape 1.0.0), then a
# 3-grape Go cluster, under simulated workers announcing through the
# grapes' /announce at a rising rate while a fixed /lookup load runs. The
# figure is the highest rate at which every new announcement is visible on
# every grape within 1 s and lookup p99 stays under 10 ms, with RSS and CPU
# per announce. Grapes are pinned to CPU 1, the driver to CPU 0.
# Writes reports/bench-announce.md.
#
# Usage: bash scripts/bench-announce.sh
# Env:   ANN_RATES (50,100,200,500,1000,2000,3000,5000,7000,10000,15000,20000), ANN_STEP (5s),
#        ANN_LOOKUPS (500/s), ANN_ONLY (node,go), SERVER_CPU (1), LOAD_CPU (0).
#        About 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(nproc)" -lt 2 ]; then
  echo "bench-announce: needs 2 CPUs (grapes on one, load on the other)" >&2
  exit 1
fi
command -v taskset >/dev/null || { echo "bench-announce: taskset (util-linux) is required" >&2; exit 1; }
[ -f test/interop/node/node_modules/grenache-grape/bin/grape.js ] || {
  echo "bench-announce: Node reference not installed; run make deps" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

mkdir -p bin reports
CGO_ENABLED=0 go build -o bin/grape ./cmd/grape
CGO_ENABLED=0 go build -o bin/grape-bench ./bench/grape/driver

exec taskset -c "${LOAD_CPU:-0}" env GOMAXPROCS=1 bin/grape-bench -mode announce \
  -grape bin/grape -node-dir test/interop/node \
  -server-cpu "${SERVER_CPU:-1}" -load-cpu "${LOAD_CPU:-0}" -only "${ANN_ONLY:-node,go}" \
  -ann-rates "${ANN_RATES:-50,100,200,500,1000,2000,3000,5000,7000,10000,15000,20000}" -ann-step "${ANN_STEP:-5s}" \
  -ann-lookup-rate "${ANN_LOOKUPS:-500}" \
  -out reports/bench-announce.md \
  -command "make bench-announce${ANN_STEP:+ (ANN_STEP=$ANN_STEP)}${ANN_RATES:+ (ANN_RATES=$ANN_RATES)}"
