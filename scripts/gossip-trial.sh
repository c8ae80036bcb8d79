#!/usr/bin/env bash
# The gossip trial as a new user would run it with the binaries: two grapes,
# four workers of trial_svc of which w0 fails half its requests, a busy
# client (200 req/s, --gossip) on grape 1 and two quiet ones (2 req/s, one
# with --gossip) on grape 2, all at once with every gossip setting at its
# default. Prints, per client, the attempts it sent w0 and the seconds of
# the run in which it did.
#
# Usage: bash scripts/gossip-trial.sh [BINDIR (bin)] [OUTDIR (a temp dir)]
# Env:   TRIAL_DURATION (20s). Ports: UDP 24101-24102, HTTP 34101-34102,
#        workers 14100-14103.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${1:-bin}" && pwd)
OUT=${2:-$(mktemp -d)}
D=${TRIAL_DURATION:-20s}
mkdir -p "$OUT"
cd "$OUT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$B/grape" --dp 24101 --aph 34101 --bn 127.0.0.1:24102 >grape1.log 2>&1 & pids+=($!)
"$B/grape" --dp 24102 --aph 34102 --bn 127.0.0.1:24101 >grape2.log 2>&1 & pids+=($!)
sleep 1
for i in 0 1 2 3; do
  rate=0
  if [ "$i" = 0 ]; then rate=0.5; fi
  "$B/worker" --grape http://127.0.0.1:34101 --service trial_svc --port "1410$i" \
    --fault-error-rate "$rate" >"worker$i.log" 2>&1 & pids+=($!)
done
n=0
for _ in $(seq 1 60); do # until the second grape sees all four
  n=$("$B/client" lookup --grape http://127.0.0.1:34102 trial_svc 2>/dev/null | wc -l)
  if [ "$n" -ge 4 ]; then break; fi
  sleep 0.5
done
echo "gossip-trial: $n workers visible; results in $OUT"
run() { # name grape rate [--gossip]
  "$B/client" run --grape "$2" --service trial_svc --duration "$D" --rate "$3" ${4:-} --json "$1.json" >"$1.out" 2>"$1.err"
}
run busy http://127.0.0.1:34101 200 --gossip &
c1=$!
run quiet-gossip http://127.0.0.1:34102 2 --gossip &
c2=$!
run quiet-plain http://127.0.0.1:34102 2 &
c3=$!
wait $c1 $c2 $c3
for c in busy quiet-gossip quiet-plain; do
  python3 - "$c" <<'PY'
import json, sys
c = sys.argv[1]
r = json.load(open(c + ".json"))
w0 = next((p for p in r["peers"] if p["addr"].endswith(":14100")), {"requests": 0, "errors": 0})
secs = [s["t"] for s in r["timeline"] if s["peers"].get("127.0.0.1:14100")]
print(f"{c:12s} requests {r['requests']:5d} failed {r['failed']:3d} attempts to w0 {w0['requests']:4d}"
      f" (errors {w0['errors']}) in seconds {secs} gossip {r.get('gossip')}")
PY
done
