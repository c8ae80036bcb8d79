#!/usr/bin/env bash
# Starts a local cluster of three Go grapes (UDP 20001-20003, HTTP 30001-30003),
# each bootstrapped at the other two, and stops them all on Ctrl-C.
# Override the ports with DHT_BASE / API_BASE if 2000x/3000x are taken.
set -euo pipefail
cd "$(dirname "$0")/.."
DHT_BASE=${DHT_BASE:-20001}
API_BASE=${API_BASE:-30001}
CGO_ENABLED=0 go build -o bin/grape ./cmd/grape

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for i in 0 1 2; do
  dp=$((DHT_BASE + i)); ap=$((API_BASE + i))
  bn=""
  for j in 0 1 2; do
    [ "$j" = "$i" ] && continue
    bn="${bn:+$bn,}127.0.0.1:$((DHT_BASE + j))"
  done
  GRAPE_LOG_FORMAT=${GRAPE_LOG_FORMAT:-console} bin/grape --dp "$dp" --aph "$ap" --bn "$bn" &
  pids+=($!)
done

cat <<MSG

Three grapes are running. In another terminal, try:

  curl -s -X POST -d '{"data":["my_service",1337]}' http://127.0.0.1:$API_BASE/announce
  curl -s -X POST -d '{"data":"my_service"}'        http://127.0.0.1:$((API_BASE + 2))/lookup
  curl -s -X POST -d '{"data":{"v":"hello world"}}' http://127.0.0.1:$((API_BASE + 1))/put
  curl -s -X POST -d '{"data":"6d33adc2b6b2c14c3036feefb7fedbca1a880527"}' http://127.0.0.1:$API_BASE/get
  curl -s http://127.0.0.1:$API_BASE/status

Ctrl-C stops the cluster.
MSG
wait
