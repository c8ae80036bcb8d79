#!/usr/bin/env bash
# bench-rpc-transports.sh: the Go client engine -> Go worker beside a bare Go pair on each
# wire, in one run, so the ratio holds even on a shared machine (issue 14: >= 90% of the bare
# pair at 1, 16 and 64 in flight over HTTP, WebSocket and TLS).
#
#   http  driver -mode grenache (PlainConfig, HTTPClient)  -> cmd/worker
#         driver -mode bare (net/http POST)                 -> bench/rpc/bareserver
#   ws    driver -mode grenache -transport ws (WSClient: one socket per peer, calls
#         multiplexed by rid)                               -> cmd/worker (WS on the RPC port)
#         driver -mode bare -transport ws (one socket per in-flight slot, frame out,
#         frame back)                                       -> bareserver -ws (echoes frames)
#   tls   driver -mode grenache -transport tls (HTTPS, mutual TLS)
#                                                           -> cmd/worker --tls-cert/--tls-key/--tls-ca
#         driver -mode bare -transport tls (net/http over mutual TLS)
#                                                           -> bareserver -tls
#
# Same pinning as bench-rpc.sh: clients on CPU $CLIENT_CPU, servers and grapes on $SERVER_CPU,
# GOMAXPROCS=1; $BENCH_DURATION s per point after $BENCH_WARMUP s, $BENCH_REPS repetitions
# interleaved across the compared pair; the median (by req/s) is quoted.
# Output: markdown on stdout and in reports/bench-rpc-transports.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${BENCH_DURATION:-5}
WARM=${BENCH_WARMUP:-1}
REPS=${BENCH_REPS:-3}
CONCS=${BENCH_CONCS:-"1 16 64"}
WIRES=${BENCH_TRANSPORTS:-"http ws tls"}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PAYLOAD='{"job":"echo","msg":"hello world"}'
REPORT=reports/bench-rpc-transports.md
RAW=reports/bench-rpc-transports.jsonl

log() { echo "bench-rpc-transports: $*" >&2; }
command -v jq >/dev/null || { log "jq is required"; exit 1; }
command -v taskset >/dev/null || { log "taskset is required (util-linux)"; exit 1; }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

log "building"
CGO_ENABLED=0 go build -o "$TMP/bin/" ./cmd/worker ./cmd/grape ./bench/rpc/driver ./bench/rpc/bareserver
mkdir -p "$TMP/pki" reports
"$TMP/bin/driver" -writepki "$TMP/pki"
mapfile -t PORTS < <("$TMP/bin/driver" -freeports 9)
P_API=${PORTS[0]} P_API2=${PORTS[1]} P_DHT=${PORTS[2]} P_DHT2=${PORTS[3]}
P_W=${PORTS[4]} P_WTLS=${PORTS[5]} P_B=${PORTS[6]} P_BWS=${PORTS[7]} P_BTLS=${PORTS[8]}
GRAPE=http://127.0.0.1:$P_API

wait_port() {
	for _ in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	log "port $1 never opened"; exit 1
}
on_server() { GOMAXPROCS=1 exec taskset -c "$SERVER_CPU" "$@"; } # exec: the PID kill stops is the server's

on_server "$TMP/bin/grape" --dp "$P_DHT" --aph "$P_API" --bn "127.0.0.1:$P_DHT2" --log-level warn 2>"$TMP/grape.log" &
PIDS+=($!)
on_server "$TMP/bin/grape" --dp "$P_DHT2" --aph "$P_API2" --bn "127.0.0.1:$P_DHT" --log-level warn 2>"$TMP/grape2.log" &
PIDS+=($!)
wait_port "$P_API"; wait_port "$P_API2"
on_server "$TMP/bin/worker" --bind 127.0.0.1 --port "$P_W" --grape "$GRAPE" --service bench_go \
	--announce-interval 1000 --log-level warn 2>"$TMP/worker.log" &
PID_W=$!; PIDS+=($PID_W)
on_server "$TMP/bin/worker" --bind 127.0.0.1 --port "$P_WTLS" --grape "$GRAPE" --service bench_go_tls \
	--announce-interval 1000 --log-level warn --tls-cert "$TMP/pki/server.pem" --tls-key "$TMP/pki/server-key.pem" \
	--tls-ca "$TMP/pki/ca.pem" 2>"$TMP/worker-tls.log" &
PID_WTLS=$!; PIDS+=($PID_WTLS)
on_server "$TMP/bin/bareserver" --addr "127.0.0.1:$P_B" >/dev/null 2>"$TMP/bare.log" &
PID_B=$!; PIDS+=($PID_B)
on_server "$TMP/bin/bareserver" -ws --addr "127.0.0.1:$P_BWS" >/dev/null 2>"$TMP/bare-ws.log" &
PID_BWS=$!; PIDS+=($PID_BWS)
on_server "$TMP/bin/bareserver" -tls "$TMP/pki" --addr "127.0.0.1:$P_BTLS" >/dev/null 2>"$TMP/bare-tls.log" &
PID_BTLS=$!; PIDS+=($PID_BTLS)
for p in "$P_W" "$P_WTLS" "$P_B" "$P_BWS" "$P_BTLS"; do wait_port "$p"; done
"$TMP/bin/driver" -mode lookup -grape "$GRAPE" -service bench_go
"$TMP/bin/driver" -mode lookup -grape "$GRAPE" -service bench_go_tls

drv() { # drv <label> <conc> <server pid> <driver args...>: one JSON line into $RAW
	local label=$1 conc=$2 spid=$3 line
	shift 3
	line=$(GOMAXPROCS=1 taskset -c "$CLIENT_CPU" "$TMP/bin/driver" -c "$conc" -d "${DUR}s" -warmup "${WARM}s" \
		-payload "$PAYLOAD" -server-pid "$spid" -pki "$TMP/pki" "$@") || { log "$label c=$conc failed"; line='{"rps":0,"errors":-1}'; }
	echo "$line" | jq -c --arg l "$label" --argjson c "$conc" '. + {label: $l, conc: $c}' >>"$RAW"
	log "$label c=$conc: $(echo "$line" | jq -r '"\(.rps|floor) req/s p50 \(.p50_us)µs p99 \(.p99_us)µs errors \(.errors)"')"
}

: >"$RAW"
for c in $CONCS; do
	for _ in $(seq 1 "$REPS"); do
		for w in $WIRES; do
			case $w in
			http)
				drv go_http "$c" "$PID_W" -mode grenache -grape "$GRAPE" -service bench_go
				drv bare_http "$c" "$PID_B" -mode bare -url "http://127.0.0.1:$P_B/" -service bench_go ;;
			ws)
				drv go_ws "$c" "$PID_W" -mode grenache -transport ws -grape "$GRAPE" -service bench_go
				drv bare_ws "$c" "$PID_BWS" -mode bare -transport ws -url "http://127.0.0.1:$P_BWS/" -service bench_go ;;
			tls)
				drv go_tls "$c" "$PID_WTLS" -mode grenache -transport tls -grape "$GRAPE" -service bench_go_tls
				drv bare_tls "$c" "$PID_BTLS" -mode bare -transport tls -url "http://127.0.0.1:$P_BTLS/" -service bench_go ;;
			esac
		done
	done
done

# paired <wire> <conc>: the median, min and max of go/bare over each repetition's pair, which
# ran back to back: a noisy minute slows both of a pair, so these ratios scatter less than
# the ratio of the two medians when other work shares the machine.
paired() {
	jq -s -r --arg w "$1" --argjson c "$2" '
		[.[] | select(.conc == $c and (.label == "go_" + $w or .label == "bare_" + $w))] as $a
		| [range(0; $a | length - 1) | select($a[.].label == "go_" + $w and $a[. + 1].label == "bare_" + $w)
			| select($a[. + 1].rps > 0) | $a[.].rps / $a[. + 1].rps * 100 | round] | sort
		| if length == 0 then "–" else "\(.[(length - 1) / 2 | floor])% (\(.[0])–\(.[-1]))" end' "$RAW"
}
med() { # med <label> <conc>: median req/s
	jq -s -r --arg l "$1" --argjson c "$2" \
		'[.[] | select(.label == $l and .conc == $c) | .rps] | sort | if length == 0 then 0 else .[(length - 1) / 2 | floor] end' "$RAW"
}
{
	echo "| wire | in flight | Go client → Go worker (req/s) | bare Go pair (req/s) | ratio | paired ratio, median (range) |"
	echo "|---|---|---|---|---|---|"
	for w in $WIRES; do
		for c in $CONCS; do
			g=$(med "go_$w" "$c") b=$(med "bare_$w" "$c")
			printf "| %s | %s | %.0f | %.0f | %s | %s |\n" "$w" "$c" "$g" "$b" "$(jq -n --argjson g "$g" --argjson b "$b" 'if $b > 0 then ($g / $b * 100 | round | tostring) + "%" else "–" end' -r)" "$(paired "$w" "$c")"
		done
	done
	echo
	echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; ${DUR} s per point, ${REPS} repetitions, median."
} | tee "$REPORT"
