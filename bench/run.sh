#!/bin/sh
# bench/run.sh — reproduce the figures of docs/PERFORMANCE.md in one command.
#
# Builds (if needed), starts a fresh liaisond (synchronous=full, dev TLS
# certificates, a free loopback port, a temporary data directory), runs the
# workloads with liaison-bench, prints the machine description beside the
# numbers, stops the server and removes the data directory.
#
#   bench/run.sh                       scaled-down defaults (well under a minute)
#   USERS=2000 RATE=2000 DURATION=60 IDLE_CONNS=10000 bench/run.sh   issue 6 sizes
#   JSON=1 bench/run.sh                JSON results instead of tables
#   WORKLOADS="busy" bench/run.sh      only some workloads (crypto, busy, idle)
#   PERF=1 bench/run.sh                also "perf stat" the server during W1
#   PERF=record bench/run.sh           profile the server during W1 (perf record)
#
# Environment: BUILD (build dir, default build), USERS (100), CHANNEL_SIZE (5),
# RATE (200), DURATION (10), MSG_SIZE (512), IDLE_CONNS (1000).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
USERS=${USERS:-100}
CHANNEL_SIZE=${CHANNEL_SIZE:-5}
RATE=${RATE:-200}
DURATION=${DURATION:-10}
MSG_SIZE=${MSG_SIZE:-512}
IDLE_CONNS=${IDLE_CONNS:-1000}
WORKLOADS=${WORKLOADS:-crypto busy idle}
JSON=${JSON:-}
PERF=${PERF:-}

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "$ROOT" >/dev/null
fi
ninja -C "$BUILD" server/liaisond bench/liaison-bench bench/liaison-crypto-bench >/dev/null

LIAISOND=$BUILD/server/liaisond
BENCH=$BUILD/bench/liaison-bench
CERTS=$ROOT/certs/dev

# As many descriptors as allowed, for the server and the generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lsn-bench-XXXXXX")
DATA=$TMP/data
SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

"$LIAISOND" --data-dir "$DATA" init >/dev/null
"$LIAISOND" --data-dir "$DATA" org add --name "CPTS Bench" --finess 450000005 --kind cpts >/dev/null

"$LIAISOND" --data-dir "$DATA" --port "$PORT" --listen 127.0.0.1 \
	--cert "$CERTS/server.crt" --key "$CERTS/server.key" --server-name localhost \
	--synchronous full --log-level warn >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

i=0
until curl -sf --cacert "$CERTS/ca.crt" "https://localhost:$PORT/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "run.sh: liaisond did not start:" >&2
		cat "$TMP/server.log" >&2
		exit 1
	fi
	sleep 0.1
done

echo "== machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -srm)"
echo "== liaisond $("$LIAISOND" --version 2>/dev/null | head -1), synchronous=full, TLS on 127.0.0.1:$PORT, data in $(df -P "$TMP" | awk 'NR==2 {print $1}')"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')"

COMMON="--port $PORT --server-name localhost --ca $CERTS/ca.crt --server-pid $SERVER_PID"
[ -n "$JSON" ] && COMMON="$COMMON --json"
STATUS=0

for w in $WORKLOADS; do
	case $w in
	busy|w1)
		echo
		PERF_PID=
		if [ "$PERF" = record ] && command -v perf >/dev/null; then
			perf record -q -e cpu-clock -F 999 -g -p "$SERVER_PID" -o "$TMP/perf.data" \
				>/dev/null 2>&1 &
			PERF_PID=$!
		elif [ -n "$PERF" ] && command -v perf >/dev/null; then
			perf stat -p "$SERVER_PID" -o "$TMP/perf-stat.txt" &
			PERF_PID=$!
		fi
		# shellcheck disable=SC2086
		"$BENCH" --workload busy $COMMON --liaisond "$LIAISOND" --data-dir "$DATA" \
			--org 450000005 --users "$USERS" --channel-size "$CHANNEL_SIZE" \
			--rate "$RATE" --duration "$DURATION" --msg-size "$MSG_SIZE" || STATUS=$?
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
		;;
	crypto)
		echo
		echo "client crypto cost per operation (median of 9 batches):"
		if [ -n "$JSON" ]; then
			"$BUILD/bench/liaison-crypto-bench" --json || STATUS=$?
		else
			"$BUILD/bench/liaison-crypto-bench" || STATUS=$?
		fi
		;;
	idle|w3)
		echo
		# shellcheck disable=SC2086
		"$BENCH" --workload idle $COMMON --conns "$IDLE_CONNS" || STATUS=$?
		;;
	*)
		echo "run.sh: unknown workload $w (crypto, busy, idle)" >&2
		STATUS=2
		;;
	esac
done

if grep -E 'ERROR|AddressSanitizer|runtime error' "$TMP/server.log" >/dev/null; then
	echo "run.sh: the server logged errors:" >&2
	grep -E 'ERROR|AddressSanitizer|runtime error' "$TMP/server.log" | head -20 >&2
	STATUS=1
fi
exit $STATUS
