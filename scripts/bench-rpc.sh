#!/usr/bin/env bash
# bench-rpc.sh: RPC throughput of the Go stack against the Node reference and a bare ceiling,
# on one machine in one run (design.md "How we benchmark").
#
#   Go client -> Go worker        bench/rpc/driver -mode grenache (transport.Requester + pkg/link)
#                                 -> cmd/worker (echo job)
#   Node client -> Node server    PeerRPCClient.request -> PeerRPCServer (grenache-nodejs-http)
#   ceiling: bare pair            bench/rpc/driver -mode bare (net/http client) -> bench/rpc/bareserver
#   wrk -> Go worker / bare       the server alone, driven by wrk with the same body (plus
#                                 pkg/transport's server with a bare echo handler, for attribution)
#
# Same echo payload everywhere. Load generators run on CPU $CLIENT_CPU, servers (and the one
# Go grape used for lookups) on CPU $SERVER_CPU (taskset); Go processes get GOMAXPROCS=1.
# Closed loop at 1, 16 and 64 requests in flight (wrk: 16 and 64 connections), $BENCH_DURATION s
# per point after a $BENCH_WARMUP s warm-up, $BENCH_REPS repetitions; the median repetition (by
# req/s) is quoted with the min-max spread. Defaults: 5 s, 1 s, 3 reps: about 5 minutes.
# CPU time per request (server and client) is reported too: unlike req/s it barely moves when
# other processes share the machine.
# RSS is the server's resident set after its last point (VmRSS), the client's is its peak.
#
# Output: markdown on stdout and in reports/bench-rpc.md; raw JSON lines in reports/bench-rpc.jsonl.
# Needs: go, node + test/interop/node/node_modules (make deps), taskset, jq, wrk (installed with
# apt-get when missing and we are root; otherwise the wrk rows are skipped and the report says so).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DUR=${BENCH_DURATION:-5}
WARM=${BENCH_WARMUP:-1}
REPS=${BENCH_REPS:-3}
CONCS=${BENCH_CONCS:-"1 16 64"}
WRK_CONCS=${BENCH_WRK_CONCS:-"16 64"}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PAYLOAD='{"job":"echo","msg":"hello world"}'
REPORT=reports/bench-rpc.md
RAW=reports/bench-rpc.jsonl

log() { echo "bench-rpc: $*" >&2; }

need_pkg() { # need_pkg <command> <debian package>
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		log "installing $2 (apt-get)"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
	fi
	command -v "$1" >/dev/null 2>&1
}

need_pkg jq jq || { log "jq is required (apt-get install jq)"; exit 1; }
command -v taskset >/dev/null || { log "taskset is required (util-linux)"; exit 1; }
command -v node >/dev/null || { log "node is required"; exit 1; }
[ -d test/interop/node/node_modules/grenache-nodejs-http ] || { log "Node packages missing: run 'make deps'"; exit 1; }
HAVE_WRK=1
need_pkg wrk wrk || { HAVE_WRK=0; log "wrk not available: the wrk rows will be skipped (apt-get install wrk)"; }
if [ "$(nproc)" -lt 2 ]; then log "warning: fewer than 2 CPUs; pinning client and server apart is impossible"; fi

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

# TCP ports probed free; the two DHT (UDP) ports reuse free TCP numbers, which is good enough
# on a quiet machine.
mapfile -t PORTS < <("$TMP/bin/driver" -freeports 8)
P_WORKER=${PORTS[0]} P_BARE=${PORTS[1]} P_NODE=${PORTS[2]} P_API=${PORTS[3]} P_API2=${PORTS[4]} P_DHT=${PORTS[5]} P_DHT2=${PORTS[6]}
P_TRANSPORT=${PORTS[7]}
GRAPE=http://127.0.0.1:$P_API

wait_port() { # wait_port <port>
	for _ in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	log "port $1 never opened"; exit 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# cpu_ticks <pid>: user+system CPU time in USER_HZ ticks (1/100 s).
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

log "starting two Go grapes, Go worker, bare server, Node server (CPU $SERVER_CPU)"
# Two grapes bootstrapped to each other: a lone grape has no node to store announcements on.
# Lookups are cached by both links (Go 1 s, Node 10 s), so the grapes are idle during points.
GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$TMP/bin/grape" --dp "$P_DHT" --aph "$P_API" --bn "127.0.0.1:$P_DHT2" --log-level warn --log-format json 2>"$TMP/grape.log" &
PIDS+=($!)
GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$TMP/bin/grape" --dp "$P_DHT2" --aph "$P_API2" --bn "127.0.0.1:$P_DHT" --log-level warn --log-format json 2>"$TMP/grape2.log" &
PIDS+=($!)
wait_port "$P_API"
wait_port "$P_API2"
GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$TMP/bin/worker" --bind 127.0.0.1 --port "$P_WORKER" --grape "$GRAPE" \
	--service bench_go --announce-interval 1000 --log-level warn --log-format json 2>"$TMP/worker.log" &
PID_WORKER=$!
PIDS+=($PID_WORKER)
GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$TMP/bin/bareserver" --addr "127.0.0.1:$P_BARE" >/dev/null 2>"$TMP/bare.log" &
PID_BARE=$!
PIDS+=($PID_BARE)
# pkg/transport's HTTPServer with a bare echo handler: separates the transport's cost from the worker's.
GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$TMP/bin/bareserver" -transport --addr "127.0.0.1:$P_TRANSPORT" >/dev/null 2>"$TMP/transport.log" &
PID_TRANSPORT=$!
PIDS+=($PID_TRANSPORT)
(cd test/interop/node && exec taskset -c "$SERVER_CPU" node rpc/bench_server.js "$GRAPE" bench_node "$P_NODE") >/dev/null 2>"$TMP/node.log" &
PID_NODE=$!
PIDS+=($PID_NODE)
for p in "$P_WORKER" "$P_BARE" "$P_NODE" "$P_TRANSPORT"; do wait_port "$p"; done
"$TMP/bin/driver" -mode lookup -grape "$GRAPE" -service bench_go
"$TMP/bin/driver" -mode lookup -grape "$GRAPE" -service bench_node

: >"$RAW"
mkdir -p reports

# run_point <label> <conc> <server pid> <command...>: one repetition ($REP) printing one JSON
# line; appends it (tagged) to $RAW. Repetitions are interleaved across the compared servers
# (rep 1 of each, then rep 2 of each, ...) so a burst of outside load hits them alike.
run_point() {
	local label=$1 conc=$2 spid=$3 line
	shift 3
	line=$("$@") || { log "$label c=$conc rep $REP failed"; line='{"rps":0,"errors":-1}'; }
	echo "$line" | jq -c --arg l "$label" --argjson c "$conc" --argjson r "$REP" --argjson s "$(rss_kb "$spid")" \
		'. + {label: $l, conc: $c, rep: $r, server_rss_kb: $s}' >>"$RAW"
	log "$label c=$conc rep $REP: $(echo "$line" | jq -r '"\(.rps|floor) req/s p50 \(.p50_us)µs p99 \(.p99_us)µs, CPU/req server \(.server_cpu_us_per_req // 0 | . * 10 | round / 10)µs client \(.client_cpu_us_per_req // 0 | . * 10 | round / 10)µs, errors \(.errors)"')"
}

go_drv() { # go_drv <mode> <conc> <server pid> [args...]
	local mode=$1 conc=$2 spid=$3
	shift 3
	GOMAXPROCS=1 taskset -c "$CLIENT_CPU" "$TMP/bin/driver" -mode "$mode" -c "$conc" -d "${DUR}s" -warmup "${WARM}s" \
		-payload "$PAYLOAD" -server-pid "$spid" "$@"
}

node_drv() { # node_drv <conc> <server pid>
	(cd test/interop/node && exec taskset -c "$CLIENT_CPU" node rpc/bench_client.js "$GRAPE" bench_node "$1" \
		"$((DUR * 1000))" "$((WARM * 1000))" "$PAYLOAD" "$2")
}

# wrk_drv <conc> <url> <server pid>: wrk with one thread, conc connections, the same triple as
# body; the JSON line is built from wrk's summary (its latency percentiles are per request) and
# the server's CPU time over the measured run.
wrk_drv() {
	local conc=$1 url=$2 spid=$3 script="$TMP/post.lua" out t0 t1
	cat >"$script" <<-EOF
		wrk.method = "POST"
		wrk.headers["Content-Type"] = "application/json"
		wrk.body = '["00000000-0000-4000-8000-000000000000","bench_go",$PAYLOAD]'
		done = function(summary, latency, requests)
		  io.write(string.format('{"rps":%f,"p50_us":%d,"p99_us":%d,"requests":%d,"errors":%d,"seconds":%f}\n',
		    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
		    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
		    summary.duration / 1e6))
		end
	EOF
	# Warm-up run, then the measured one.
	taskset -c "$CLIENT_CPU" wrk -t1 -c "$conc" -d "${WARM}s" -s "$script" "$url" >/dev/null 2>&1 || true
	t0=$(cpu_ticks "$spid")
	out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c "$conc" -d "${DUR}s" -s "$script" "$url" 2>/dev/null)
	t1=$(cpu_ticks "$spid")
	echo "$out" | grep '^{"rps"' | jq -c --argjson t "$((t1 - t0))" \
		'. + {server_cpu_us_per_req: (if .requests > 0 then $t * 10000 / .requests else 0 end)}'
}

for c in $CONCS; do
	for REP in $(seq 1 "$REPS"); do
		run_point go_go "$c" "$PID_WORKER" go_drv grenache "$c" "$PID_WORKER" -grape "$GRAPE" -service bench_go
		run_point bare_pair "$c" "$PID_BARE" go_drv bare "$c" "$PID_BARE" -url "http://127.0.0.1:$P_BARE/" -service bench_go
		run_point node_node "$c" "$PID_NODE" node_drv "$c" "$PID_NODE"
	done
done
if [ "$HAVE_WRK" = 1 ]; then
	for c in $WRK_CONCS; do
		for REP in $(seq 1 "$REPS"); do
			run_point wrk_worker "$c" "$PID_WORKER" wrk_drv "$c" "http://127.0.0.1:$P_WORKER/" "$PID_WORKER"
			run_point wrk_bare "$c" "$PID_BARE" wrk_drv "$c" "http://127.0.0.1:$P_BARE/" "$PID_BARE"
			run_point wrk_transport "$c" "$PID_TRANSPORT" wrk_drv "$c" "http://127.0.0.1:$P_TRANSPORT/" "$PID_TRANSPORT"
		done
	done
fi

# ---- report -------------------------------------------------------------------------------
# med <label> <conc> <field>: the field of the median repetition (by rps).
med() {
	jq -s -r --arg l "$1" --argjson c "$2" --arg f "$3" \
		'[.[] | select(.label == $l and .conc == $c)] | sort_by(.rps) | if length == 0 then "" else .[(length - 1) / 2 | floor][$f] end' "$RAW"
}
spread() {
	jq -s -r --arg l "$1" --argjson c "$2" \
		'[.[] | select(.label == $l and .conc == $c) | .rps] | if length == 0 then "" else "\(min|floor)–\(max|floor)" end' "$RAW"
}
cell() { # cell <label> <conc>: "rps (spread) | p50 | p99"
	local rps
	rps=$(med "$1" "$2" rps)
	[ -z "$rps" ] && { echo "– | – | –"; return; }
	printf "%.0f (%s) | %s | %s" "$rps" "$(spread "$1" "$2")" "$(fmt_us "$(med "$1" "$2" p50_us)")" "$(fmt_us "$(med "$1" "$2" p99_us)")"
}
fmt_us() { awk -v u="$1" 'BEGIN { if (u >= 1000) printf "%.2f ms", u / 1000; else printf "%d µs", u }'; }
ratio() { # ratio <label a> <label b> <conc>: a/b in percent
	local a b
	a=$(med "$1" "$3" rps)
	b=$(med "$2" "$3" rps)
	[ -z "$a" ] || [ -z "$b" ] && { echo "–"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "–" }'
}
cpu() { # cpu <label> <conc> <field>: median repetition's CPU µs/request, one decimal
	local v
	v=$(med "$1" "$2" "$3")
	awk -v v="$v" 'BEGIN { if (v == "" || v == "null") print "–"; else printf "%.1f", v }'
}
cpu_ratio() { # cpu_ratio <label a> <label b> <conc> <fields>: CPU(b)/CPU(a) summed over fields, percent
	local a=0 b=0 f x
	for f in $4; do
		x=$(med "$1" "$3" "$f"); a=$(awk -v a="$a" -v x="${x:-0}" 'BEGIN { print a + (x == "null" ? 0 : x) }')
		x=$(med "$2" "$3" "$f"); b=$(awk -v b="$b" -v x="${x:-0}" 'BEGIN { print b + (x == "null" ? 0 : x) }')
	done
	awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0 && b > 0) printf "%.0f%%", 100 * b / a; else print "–" }'
}
mb() { awk -v k="$1" 'BEGIN { if (k == "") print "–"; else printf "%.1f", k / 1024 }'; }
rss_of() { jq -s -r --arg l "$1" --arg f "$2" '[.[] | select(.label == $l) | .[$f]] | max // ""' "$RAW"; }

{
	echo "## RPC benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -m))"
	echo
	echo "Command: \`scripts/bench-rpc.sh\` (make bench-rpc). Closed loop, echo payload \`$PAYLOAD\`,"
	echo "clients on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU (taskset), GOMAXPROCS=1 for Go;"
	echo "${DUR} s per point after ${WARM} s warm-up, median of $REPS repetitions (req/s spread in brackets)."
	echo
	echo "| in flight | Go client → Go worker: req/s | p50 | p99 | Node client → Node server: req/s | p50 | p99 | bare Go pair (ceiling): req/s | p50 | p99 | Go/bare | Go/Node |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for c in $CONCS; do
		echo "| $c | $(cell go_go "$c") | $(cell node_node "$c") | $(cell bare_pair "$c") | $(ratio go_go bare_pair "$c") | $(ratio go_go node_node "$c") |"
	done
	echo
	echo "CPU time per request (µs, server / client), measured over the same windows. Unlike req/s it"
	echo "does not move when other processes share the machine; efficiency = bare CPU ÷ Go CPU (server + client)."
	echo
	echo "| in flight | Go worker | Go client | Node server | Node client | bare server | bare client | Go efficiency vs bare |"
	echo "|---|---|---|---|---|---|---|---|"
	for c in $CONCS; do
		echo "| $c | $(cpu go_go "$c" server_cpu_us_per_req) | $(cpu go_go "$c" client_cpu_us_per_req) | $(cpu node_node "$c" server_cpu_us_per_req) | $(cpu node_node "$c" client_cpu_us_per_req) | $(cpu bare_pair "$c" server_cpu_us_per_req) | $(cpu bare_pair "$c" client_cpu_us_per_req) | $(cpu_ratio go_go bare_pair "$c" "server_cpu_us_per_req client_cpu_us_per_req") |"
	done
	echo
	if [ "$HAVE_WRK" = 1 ]; then
		echo "Servers alone under \`wrk -t1 -c<N>\` (same request body; server CPU µs per request):"
		echo
		echo "| connections | Go worker: req/s | p50 | p99 | CPU/req | bare net/http server: req/s | p50 | p99 | CPU/req | worker/bare req/s | worker efficiency (CPU) |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		for c in $WRK_CONCS; do
			echo "| $c | $(cell wrk_worker "$c") | $(cpu wrk_worker "$c" server_cpu_us_per_req) | $(cell wrk_bare "$c") | $(cpu wrk_bare "$c" server_cpu_us_per_req) | $(ratio wrk_worker wrk_bare "$c") | $(cpu_ratio wrk_worker wrk_bare "$c" server_cpu_us_per_req) |"
		done
		echo
		echo "For attribution, \`pkg/transport\`'s HTTPServer with a bare echo handler (no worker) under the same wrk load:"
		echo
		echo "| connections | transport echo: req/s | p50 | p99 | CPU/req | transport/bare req/s | transport efficiency (CPU) |"
		echo "|---|---|---|---|---|---|---|"
		for c in $WRK_CONCS; do
			echo "| $c | $(cell wrk_transport "$c") | $(cpu wrk_transport "$c" server_cpu_us_per_req) | $(ratio wrk_transport wrk_bare "$c") | $(cpu_ratio wrk_transport wrk_bare "$c" server_cpu_us_per_req) |"
		done
	else
		echo "wrk was not available: the servers-alone rows were skipped."
	fi
	echo
	echo "Memory (MB): Go worker RSS $(mb "$(rss_of go_go server_rss_kb)"), Node server RSS $(mb "$(rss_of node_node server_rss_kb)"),"
	echo "bare server RSS $(mb "$(rss_of bare_pair server_rss_kb)"); peak client RSS: Go driver $(mb "$(rss_of go_go client_rss_kb)"),"
	echo "Node client $(mb "$(rss_of node_node client_rss_kb)"), bare Go client $(mb "$(rss_of bare_pair client_rss_kb)")."
	echo
	echo "Targets: Go→Go ≥ 85% of the bare pair at 16 and 64 in flight; worker under wrk ≥ 85% of the bare server."
	echo "Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (anything well above 2 on 2 CPUs means other"
	echo "processes competed for the pinned cores: trust the CPU-per-request table over req/s then)."
	errs=$(jq -s '[.[] | select(.errors != 0)] | length' "$RAW")
	if [ "$errs" != 0 ]; then echo; echo "**$errs repetition(s) reported errors; see $RAW.**"; fi
} | tee "$REPORT"
