#!/bin/sh
# bench/syscalls.sh — what liaisond asks of the kernel per message, thread by
# thread, during W1 on one server core: the figures of docs/PERFORMANCE.md
# that do not move with the host's load (timings on a shared machine do).
#
#   bench/syscalls.sh [OUT]   W1 with the server on CPU 0 and liaison-bench on
#                             CPU 1 (bench/run.sh, USERS 2000, RATE msg/s
#                             for 15 s); 2 s after the sending starts, 10 s of
#                             `perf stat --per-thread` on every thread of the
#                             server; prints each thread's count per message
#                             for the system calls below, and its CPU time
#
# RATE (2000), BUILD (build), SERVER_ARGS are passed on to bench/run.sh. OUT
# (a new temporary prefix unless given) keeps the run's output (OUT.bench)
# and perf's (OUT.stat). Needs perf (Debian: linux-perf) and tracepoints
# readable (root, or kernel.perf_event_paranoid <= -1).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$(mktemp -u "${TMPDIR:-/tmp}/lsn-syscalls-XXXXXX")}
RATE=${RATE:-2000}
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export BUILD
WINDOW=10

command -v perf >/dev/null || { echo "syscalls.sh: perf is needed (apt-get install linux-perf)" >&2; exit 1; }
EV=
for s in read write epoll_ctl epoll_wait pwrite64 pread64 fdatasync futex; do
	EV="${EV}syscalls:sys_enter_$s,"
done
EV="${EV}task-clock"

SERVER_CPUS=0 GEN_CPUS=1 WORKLOADS=busy USERS=2000 RATE=$RATE DURATION=15 \
	"$ROOT/bench/run.sh" >"$OUT.bench" 2>&1 &
RUN=$!
i=0
until grep -q "sending" "$OUT.bench" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $RUN 2>/dev/null; then
		echo "syscalls.sh: W1 did not start; see $OUT.bench" >&2
		exit 1
	fi
	sleep 0.5
done
PID=$(pgrep -n -f "^$BUILD/server/liaisond ")
TIDS=$(ls "/proc/$PID/task" | paste -sd, -)
sleep 2
perf stat --per-thread -e "$EV" -t "$TIDS" -o "$OUT.stat" -- sleep $WINDOW
wait $RUN || { echo "syscalls.sh: bench/run.sh failed; see $OUT.bench" >&2; exit 1; }

grep -E "acked|ack  " "$OUT.bench" || true
echo "-- per message over ${WINDOW} s at $RATE msg/s (thread: count / messages); CPU in seconds"
awk -v msgs=$((RATE * WINDOW)) '
	/syscalls:sys_enter_/ { n = $2; gsub(",", "", n); if (n == 0) next
		sub("syscalls:sys_enter_", "", $3)
		printf "%-22s %-12s %8.2f\n", $1, $3, n / msgs }
	/task-clock/ { n = $2; gsub(",", "", n); printf "%-22s %-12s %8.2f s\n", $1, "cpu", n / 1000 }
' "$OUT.stat" | sort
echo "(perf output: $OUT.stat; the run: $OUT.bench)"
