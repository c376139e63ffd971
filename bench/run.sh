#!/bin/sh
# bench/run.sh — reproduce the figures of docs/PERFORMANCE.md in one command.
#
# Builds (if needed), starts a fresh liaisond (synchronous=full, dev TLS
# certificates, a free loopback port, a temporary data directory), runs the
# workloads with liaison-bench, prints the machine description beside the
# numbers, stops the server and removes the data directory. Each workload
# gets its own fresh server (and the series one per point), so one
# workload's users, channels and memory do not weigh on the next.
#
#   bench/run.sh                       every workload, scaled down (about 1 min)
#   WORKLOADS="busy" bench/run.sh      only some: crypto busy saturation idle storm
#                                      documents series (aliases w1 w2 w3 w4 w5)
#   ISSUE=1 bench/run.sh               the sizes of issue 6 (every knob below at
#                                      its issue value unless set; ~6 min)
#   JSON=1 bench/run.sh                JSON results instead of tables
#   PROCS=2 bench/run.sh               two generator processes (whole channels each)
#   NO_BATCH=1 bench/run.sh            do not ask the server for coalesced frames
#   JSON_CHUNKS=1 bench/run.sh         W5 sends and receives attachment chunks as JSON
#                                      (base64) instead of binary frames (the default)
#   PERF=1 bench/run.sh                also "perf stat" the server during W1
#   PERF=record bench/run.sh           profile the server during W1 (perf record)
#   RSS_EVERY=30 bench/run.sh          print the server's RSS every 30 s during W1
#                                      (the soak: WORKLOADS=busy ISSUE=1 DURATION=600)
#   SERVER_ARGS="--flag value" ...     extra liaisond flags
#   BENCH_ARGS="--poll" ...            extra liaison-bench flags (liaison-bench --help)
#   SERVER_CPUS=0 GEN_CPUS=1 bench/run.sh
#                                      pin the server to CPU 0 (taskset -c 0) and the
#                                      generator, with every process it forks, to
#                                      CPU 1: the figures of one server core (issue 17);
#                                      either may be set alone; taskset lists ("0-1",
#                                      "2,3") work too. Unset: the scheduler decides.
#   GEN=node bench/run.sh              the second generator, bench/node/bench.mjs (Node,
#                                      npm ws, libsodium.js; written from PROTOCOL.md and
#                                      CRYPTO.md alone; real sealed and signed envelopes):
#                                      workloads busy and saturation only. Needs
#                                      "(cd bench/node && npm ci)" once. NODE_ARGS adds
#                                      its flags (node bench/node/bench.mjs --help).
#
# Knobs (scaled-down default / issue 6 value with ISSUE=1):
#   BUILD        build directory (build)
#   USERS        W1/W2 professionals, channels of CHANNEL_SIZE (100 / 2000)
#   CHANNEL_SIZE members per case channel (5)
#   RATE         W1 msg/s offered (200 / 2000)
#   DURATION     W1 seconds of sending (10 / 60)
#   MSG_SIZE     envelope bytes (512)
#   SAT_START    W2 first step, msg/s (250 / 1000)
#   SAT_FACTOR   W2 rate multiplier per step (2 / 1.5); SAT_STEP adds instead
#   SAT_MAX      W2 highest step, msg/s (2000 / 100000)
#   SAT_SECONDS  W2 seconds measured per step, after a 1 s warm-up (3 / 5)
#   SAT_P99_MS   W2 ack p99 limit of a passing step, ms (50)
#   IDLE_CONNS   W3 idle TLS connections (1000 / 10000)
#   STORM_USERS  W4 clients, plus one poster per channel (100 / 2000)
#   MISSED       W4 messages each client missed (100 / 100)
#   DOC_SIZE     W5 attachment bytes (10485760 / 10485760)
#   DOWNLOADERS  W5 simultaneous downloads (20 / 20)
#   SERIES       connection counts of the series ("100 200 400" / "500 2000 8000")
#   SERIES_RATE  total msg/s at every series point, the same for each (200 / 2000)
#   SERIES_DURATION  seconds of sending per point (5 / 30)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
if [ -n "${ISSUE:-}" ]; then
	USERS=${USERS:-2000} RATE=${RATE:-2000} DURATION=${DURATION:-60}
	SAT_START=${SAT_START:-1000} SAT_FACTOR=${SAT_FACTOR:-1.5} SAT_MAX=${SAT_MAX:-100000}
	SAT_SECONDS=${SAT_SECONDS:-5} IDLE_CONNS=${IDLE_CONNS:-10000}
	STORM_USERS=${STORM_USERS:-2000} SERIES=${SERIES:-500 2000 8000}
	SERIES_RATE=${SERIES_RATE:-2000} SERIES_DURATION=${SERIES_DURATION:-30}
fi
USERS=${USERS:-100}
CHANNEL_SIZE=${CHANNEL_SIZE:-5}
RATE=${RATE:-200}
DURATION=${DURATION:-10}
MSG_SIZE=${MSG_SIZE:-512}
SAT_START=${SAT_START:-250}
SAT_FACTOR=${SAT_FACTOR:-2}
SAT_STEP=${SAT_STEP:-0}
SAT_MAX=${SAT_MAX:-2000}
SAT_SECONDS=${SAT_SECONDS:-3}
SAT_P99_MS=${SAT_P99_MS:-50}
IDLE_CONNS=${IDLE_CONNS:-1000}
STORM_USERS=${STORM_USERS:-100}
MISSED=${MISSED:-100}
DOC_SIZE=${DOC_SIZE:-10485760}
DOWNLOADERS=${DOWNLOADERS:-20}
SERIES=${SERIES:-100 200 400}
SERIES_RATE=${SERIES_RATE:-200}
SERIES_DURATION=${SERIES_DURATION:-5}
PROCS=${PROCS:-1}
WORKLOADS=${WORKLOADS:-crypto busy saturation idle storm documents series}
JSON=${JSON:-}
PERF=${PERF:-}
NO_BATCH=${NO_BATCH:-}
JSON_CHUNKS=${JSON_CHUNKS:-}
SERVER_CPUS=${SERVER_CPUS:-}
GEN_CPUS=${GEN_CPUS:-}
GEN=${GEN:-c}

# taskset prefixes (util-linux); empty when unpinned
SERVER_PIN= GEN_PIN=
if [ -n "$SERVER_CPUS$GEN_CPUS" ] && ! command -v taskset >/dev/null; then
	echo "run.sh: SERVER_CPUS/GEN_CPUS need taskset (Debian: util-linux)" >&2
	exit 2
fi
[ -n "$SERVER_CPUS" ] && SERVER_PIN="taskset -c $SERVER_CPUS"
[ -n "$GEN_CPUS" ] && GEN_PIN="taskset -c $GEN_CPUS"
case $GEN in
c) ;;
node)
	if [ ! -d "$ROOT/bench/node/node_modules/ws" ]; then
		echo "run.sh: GEN=node needs bench/node/node_modules: (cd bench/node && npm ci)" >&2
		exit 2
	fi
	;;
*) echo "run.sh: GEN is c (liaison-bench) or node (bench/node/bench.mjs)" >&2; exit 2 ;;
esac

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "$ROOT" >/dev/null
fi
ninja -C "$BUILD" server/liaisond bench/liaison-bench bench/liaison-crypto-bench >/dev/null

LIAISOND=$BUILD/server/liaisond
BENCH=$BUILD/bench/liaison-bench
CERTS=$ROOT/certs/dev
if [ ! -f "$CERTS/server.crt" ]; then
	sh "$ROOT/certs/make-dev-certs.sh" >/dev/null
fi

# As many descriptors as allowed, for the server and the generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lsn-bench-XXXXXX")
SERVER_PID=
PORT=
DATA=
STATUS=0

stop_server() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "$DATA" ] && [ -f "$TMP/server.log" ] &&
		grep -E 'ERROR|AddressSanitizer|runtime error' "$TMP/server.log" >/dev/null; then
		echo "run.sh: the server logged errors:" >&2
		grep -E 'ERROR|AddressSanitizer|runtime error' "$TMP/server.log" | head -20 >&2
		STATUS=1
	fi
	SERVER_PID=
	[ -n "$DATA" ] && rm -rf "$DATA" "$TMP/server.log"
	DATA=
}
cleanup() {
	stop_server
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# GET /healthz over TLS with the dev CA (python3: curl may be missing).
healthy() {
	python3 - "$CERTS/ca.crt" "$1" <<'EOF' >/dev/null 2>&1
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = http.client.HTTPSConnection("localhost", int(sys.argv[2]), context=ctx, timeout=2)
c.request("GET", "/healthz")
sys.exit(0 if c.getresponse().status == 200 else 1)
EOF
}

# A fresh data directory, organisation and server on a free port.
start_server() {
	DATA=$TMP/data
	rm -rf "$DATA"
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	if ! { "$LIAISOND" --data-dir "$DATA" init &&
		"$LIAISOND" --data-dir "$DATA" org add --name "CPTS Bench" --finess 450000005 \
			--kind cpts; } >"$TMP/init.log" 2>&1; then
		echo "run.sh: cannot initialise the data directory:" >&2
		cat "$TMP/init.log" >&2
		exit 1
	fi
	# every bench client connects from 127.0.0.1: the per-address cap on
	# connections not yet logged in (conn_unauth_per_addr, 64 by default,
	# docs/OPERATIONS.md "Bounds") would close all but 64 of a setup that
	# opens thousands at once
	printf 'conn_unauth_per_addr = 100000\n' >"$TMP/bench.conf"
	# shellcheck disable=SC2086
	$SERVER_PIN "$LIAISOND" --config "$TMP/bench.conf" --data-dir "$DATA" --port "$PORT" --listen 127.0.0.1 \
		--cert "$CERTS/server.crt" --key "$CERTS/server.key" --server-name localhost \
		--synchronous full --log-level warn ${SERVER_ARGS:-} >"$TMP/server.log" 2>&1 &
	SERVER_PID=$!
	i=0
	until healthy "$PORT"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "run.sh: liaisond did not start:" >&2
			cat "$TMP/server.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	COMMON="--port $PORT --server-name localhost --ca $CERTS/ca.crt --server-pid $SERVER_PID"
	COMMON="$COMMON --liaisond $LIAISOND --data-dir $DATA --org 450000005 --procs $PROCS"
	COMMON="$COMMON --msg-size $MSG_SIZE"
	[ -n "$JSON" ] && COMMON="$COMMON --json"
	[ -n "$NO_BATCH" ] && COMMON="$COMMON --no-batch"
	[ -n "$JSON_CHUNKS" ] && COMMON="$COMMON --json-chunks"
	COMMON="$COMMON ${BENCH_ARGS:-}"
	NODE_COMMON="--port $PORT --server-name localhost --ca $CERTS/ca.crt --server-pid $SERVER_PID"
	NODE_COMMON="$NODE_COMMON --liaisond $LIAISOND --data-dir $DATA --org 450000005 --msg-size $MSG_SIZE"
	[ -n "$JSON" ] && NODE_COMMON="$NODE_COMMON --json"
	[ -n "$NO_BATCH" ] && NODE_COMMON="$NODE_COMMON --no-batch"
	NODE_COMMON="$NODE_COMMON ${NODE_ARGS:-}"
	return 0
}

# Seconds the server's threads have waited runnable for a CPU (schedstat's
# second field, summed over threads): on a shared machine, what other
# processes took from it.
server_wait() {
	cat /proc/"$SERVER_PID"/task/*/schedstat 2>/dev/null |
		awk '{ns += $2} END {printf "%.2f", ns / 1e9}'
}

# Run the generator (GEN) against a fresh server; its status joins STATUS.
bench() {
	W0=$(server_wait) T0=$(date +%s)
	bench_gen "$@"
	[ -z "$JSON" ] && echo "-- server threads waited for a CPU (runnable, not running: other processes) $(echo "$(server_wait) $W0" | awk '{printf "%.2f", $1 - $2}') s of the $(( $(date +%s) - T0 )) s of this workload (setup included); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	return 0
}
bench_gen() {
	if [ "$GEN" = node ]; then
		# liaison-bench's flags of busy and saturation are bench.mjs's too
		# shellcheck disable=SC2086
		$GEN_PIN node "$ROOT/bench/node/bench.mjs" $NODE_COMMON "$@" || STATUS=$?
	else
		# shellcheck disable=SC2086
		$GEN_PIN "$BENCH" $COMMON "$@" || STATUS=$?
	fi
}

# Workloads the Node generator does not have are skipped with a note.
node_lacks() {
	if [ "$GEN" = node ]; then
		echo "run.sh: GEN=node runs busy and saturation only; $1 skipped"
		return 0
	fi
	return 1
}

if command -v git >/dev/null; then
	REV="git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
	git -C "$ROOT" diff --quiet 2>/dev/null || REV="$REV+dirty"
else
	REV="git ?"
fi
echo "== machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -srm)"
echo "== liaisond $("$LIAISOND" --version 2>/dev/null | head -1), synchronous=full, TLS on 127.0.0.1, data in $(df -P "$TMP" | awk 'NR==2 {print $1}')"
if [ "$GEN" = node ]; then
	GEN_NAME="bench/node/bench.mjs (Node $(node --version), ws, one process)"
else
	GEN_NAME="liaison-bench, generator processes: $PROCS"
fi
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $REV, $GEN_NAME"
echo "== CPUs: server ${SERVER_CPUS:-unpinned (any of $(nproc))}, generator ${GEN_CPUS:-unpinned (any of $(nproc))}; load average $(cut -d' ' -f1-3 /proc/loadavg)"

for w in $WORKLOADS; do
	echo
	case $w in
	busy|w1)
		start_server
		PERF_PID=
		if [ "$PERF" = record ] && command -v perf >/dev/null; then
			perf record -q -e cpu-clock -F 999 -g -p "$SERVER_PID" -o "$TMP/perf.data" \
				>/dev/null 2>&1 &
			PERF_PID=$!
		elif [ -n "$PERF" ] && command -v perf >/dev/null; then
			perf stat -p "$SERVER_PID" -o "$TMP/perf-stat.txt" &
			PERF_PID=$!
		fi
		RSS_PID=
		if [ -n "${RSS_EVERY:-}" ]; then
			# the soak: the server's RSS every RSS_EVERY seconds during W1
			( t=0; while kill -0 "$SERVER_PID" 2>/dev/null; do
				printf '%6d s  %s KiB\n' "$t" \
					"$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null)"
				sleep "$RSS_EVERY"; t=$((t + RSS_EVERY))
			done ) >"$TMP/rss.log" 2>/dev/null &
			RSS_PID=$!
		fi
		bench --workload busy --users "$USERS" --channel-size "$CHANNEL_SIZE" \
			--rate "$RATE" --duration "$DURATION"
		if [ -n "$RSS_PID" ]; then
			kill "$RSS_PID" 2>/dev/null || true
			wait "$RSS_PID" 2>/dev/null || true
			echo "-- server RSS every $RSS_EVERY s (setup, then W1):"
			cat "$TMP/rss.log"
		fi
		if [ -n "$PERF_PID" ]; then
			kill -INT "$PERF_PID" 2>/dev/null || true
			wait "$PERF_PID" 2>/dev/null || true
			if [ "$PERF" = record ]; then
				echo "-- perf record of liaisond over setup + W1 (cpu-clock, self time):"
				perf report -i "$TMP/perf.data" --stdio --no-children --sort dso,symbol \
					2>/dev/null | grep -E '^ +[0-9]' | head -40
				echo "-- by shared object:"
				perf report -i "$TMP/perf.data" --stdio --no-children --sort dso \
					2>/dev/null | grep -E '^ +[0-9]' | head -12
			else
				echo "-- perf stat of liaisond over setup + W1:"
				grep -E 'task-clock|context-switches|cycles|instructions|seconds' \
					"$TMP/perf-stat.txt" || true
			fi
		fi
		stop_server
		;;
	saturation|w2)
		start_server
		bench --workload saturation --users "$USERS" --channel-size "$CHANNEL_SIZE" \
			--rate-start "$SAT_START" --rate-factor "$SAT_FACTOR" --rate-step "$SAT_STEP" \
			--rate-max "$SAT_MAX" --step-duration "$SAT_SECONDS" --p99-limit-ms "$SAT_P99_MS"
		stop_server
		;;
	crypto)
		node_lacks crypto && continue
		echo "client crypto cost per operation (median of 9 batches):"
		if [ -n "$JSON" ]; then
			"$BUILD/bench/liaison-crypto-bench" --json || STATUS=$?
		else
			"$BUILD/bench/liaison-crypto-bench" || STATUS=$?
		fi
		;;
	idle|w3)
		node_lacks idle && continue
		start_server
		bench --workload idle --conns "$IDLE_CONNS"
		stop_server
		;;
	storm|w4)
		node_lacks storm && continue
		start_server
		bench --workload storm --users "$STORM_USERS" --channel-size "$CHANNEL_SIZE" \
			--missed "$MISSED"
		stop_server
		;;
	documents|w5)
		node_lacks documents && continue
		start_server
		bench --workload documents --doc-size "$DOC_SIZE" --downloaders "$DOWNLOADERS"
		stop_server
		;;
	series)
		node_lacks series && continue
		# W1 at each connection count, a fresh server each, the same total rate.
		[ -z "$JSON" ] && printf 'W1 connection series: %s msg/s in total at every point, %s s each, channels of %s\n%12s %8s %8s %8s %10s %7s %10s %10s %6s %6s\n' \
			"$SERIES_RATE" "$SERIES_DURATION" "$CHANNEL_SIZE" connections "msg/s" "ack p50" \
			"ack p99" "deliv p99" "srv %" "RSS KiB" "KiB/conn" "loss" "gen %"
		for n in $SERIES; do
			start_server
			$GEN_PIN "$BENCH" $COMMON --json --quiet --workload busy --users "$n" \
				--channel-size "$CHANNEL_SIZE" --rate "$SERIES_RATE" \
				--duration "$SERIES_DURATION" >"$TMP/point.json" || STATUS=$?
			if [ -n "$JSON" ]; then
				cat "$TMP/point.json"
			else
				python3 - "$TMP/point.json" <<'EOF' || STATUS=1
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("  (no result: %s)" % e); sys.exit(1)
ms = lambda us: us / 1000.0
print("%12d %8.0f %8.2f %8.2f %10.2f %7.0f %10d %10.1f %6d %6.0f" % (
    j["params"]["users"], j["params"]["rate"], ms(j["ack_latency"]["p50_us"]),
    ms(j["ack_latency"]["p99_us"]), ms(j["delivery_latency"]["p99_us"]),
    j["server_cpu_pct"], j["server_rss_kib"], j["server_rss_per_conn_kib"],
    j["lost_acks"] + j["lost_deliveries"], 100.0 * j["bench_cpu_s"] / j["measured_s"]))
EOF
			fi
			stop_server
		done
		;;
	*)
		echo "run.sh: unknown workload $w (crypto busy saturation idle storm documents series; w1..w5)" >&2
		STATUS=2
		;;
	esac
done
exit $STATUS
