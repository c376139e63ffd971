#!/bin/sh
# bench/heap.sh — where liaisond's heap goes, with heaptrack (Debian package
# heaptrack): allocations per message, or the bytes held per connection.
#
#   bench/heap.sh allocs    heap allocations per message: a run of 20 users
#                           sending 500 messages (100 msg/s for 5 s) minus a
#                           run of the same setup sending 1; the difference
#                           over 499, in total and by the first liaisond
#                           function on the allocating stack (top 25)
#   bench/heap.sh peak      the largest heap consumers at the peak while
#                           USERS (2000) logged-in clients are connected
#                           (liaison-bench W1 at 10 msg/s for 3 s)
#
# BUILD (build) names the build directory; it must hold server/liaisond and
# bench/liaison-bench (bench/run.sh builds them). Each run has a fresh data
# directory and server (synchronous=full, the development certificates, a
# free loopback port), removed afterwards; heaptrack's recordings are kept
# in HEAP_OUT (a new temporary directory unless set). heaptrack slows the
# server several times: counts are exact, times are not.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LIAISOND=$BUILD/server/liaisond
BENCH=$BUILD/bench/liaison-bench
CERTS=$ROOT/certs/dev
MODE=${1:-allocs}
USERS=${USERS:-2000}
HEAP_OUT=${HEAP_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/lsn-heap-XXXXXX")}

for p in heaptrack heaptrack_print python3; do
	command -v $p >/dev/null || { echo "heap.sh: $p is needed (apt-get install heaptrack)" >&2; exit 1; }
done
if ! [ -x "$LIAISOND" ] || ! [ -x "$BENCH" ]; then
	echo "heap.sh: build $LIAISOND and $BENCH first (bench/run.sh does)" >&2
	exit 1
fi
# shellcheck disable=SC3045 # dash and bash have -n and -H
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# run NAME USERS RATE SECONDS: one server under heaptrack, one W1 run
run() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/lsn-heap-run-XXXXXX")
	"$LIAISOND" --data-dir "$T/data" init >/dev/null 2>&1
	"$LIAISOND" --data-dir "$T/data" org add --name "CPTS Bench" --finess 450000005 \
		--kind cpts >/dev/null 2>&1
	printf 'conn_unauth_per_addr = 100000\n' >"$T/bench.conf"
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	heaptrack -o "$HEAP_OUT/$1" "$LIAISOND" --config "$T/bench.conf" --data-dir "$T/data" \
		--port "$PORT" --listen 127.0.0.1 --cert "$CERTS/server.crt" --key "$CERTS/server.key" \
		--server-name localhost --synchronous full --log-level warn >"$T/server.log" 2>&1 &
	HT=$!
	i=0
	until ss -ltn | grep -q "127.0.0.1:$PORT "; do
		i=$((i + 1))
		[ $i -le 240 ] || { echo "heap.sh: liaisond did not start" >&2; cat "$T/server.log" >&2; exit 1; }
		sleep 0.5
	done
	SPID=$(pgrep -f "^$LIAISOND --config $T/bench.conf" | head -1)
	"$BENCH" --port "$PORT" --server-name localhost --ca "$CERTS/ca.crt" --server-pid "$SPID" \
		--liaisond "$LIAISOND" --data-dir "$T/data" --org 450000005 --procs 1 --msg-size 512 \
		--workload busy --users "$2" --channel-size 5 --rate "$3" --duration "$4" |
		grep -E 'sent|RSS' || true
	kill -TERM "$SPID"
	wait "$HT" || true
	rm -rf "$T"
}

# The allocation calls of a recording, by the first liaisond function
# (server/ or shared/ source) on each allocating stack.
SITES='
import collections, re, subprocess, sys
def sites(path):
    out = subprocess.run(["heaptrack_print", "-f", path, "--print-peaks", "0",
                          "--print-allocators", "1", "--print-temporary", "0",
                          "--print-leaks", "0",
                          "-n", "1000000", "-s", "1000000"],
                         capture_output=True, text=True).stdout.splitlines()
    count, total, i = collections.Counter(), 0, 0
    while i < len(out):
        m = re.match(r"^\s*(\d+) calls with .* from:$", out[i])
        if not m:
            t = re.match(r"^(\d+) calls to allocation functions", out[i])
            total += int(t.group(1)) if t else 0
            i += 1
            continue
        n, site, fn, i = int(m.group(1)), "(outside liaisond)", "", i + 1
        while i < len(out) and not re.match(r"^\s*\d+ calls", out[i]):
            s = out[i].strip()
            if s.startswith("at ../server/") or s.startswith("at ../shared/"):
                if site == "(outside liaisond)":
                    site = fn + " " + s[3:]
            elif not s.startswith("in ") and not s.startswith("at "):
                fn = s
            i += 1
        count[site] += n
    return total, count
t0, c0 = sites(sys.argv[1])
t1, c1 = sites(sys.argv[2])
n = int(sys.argv[3])
print("allocation calls: %d (1 message) and %d (%d messages): %.1f per message"
      % (t0, t1, n + 1, (t1 - t0) / n))
diff = {k: c1[k] - c0.get(k, 0) for k in c1}
for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:25]:
    print("%8.2f  %s" % (v / n, k))
'

case $MODE in
allocs)
	echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), binaries of $BUILD (tree at $(git -C "$ROOT" describe --always --dirty 2>/dev/null)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	run one 20 1 1
	run many 20 100 5
	python3 -c "$SITES" "$HEAP_OUT/one.zst" "$HEAP_OUT/many.zst" 499
	;;
peak)
	echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), binaries of $BUILD (tree at $(git -C "$ROOT" describe --always --dirty 2>/dev/null)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	run peak "$USERS" 10 3
	heaptrack_print -f "$HEAP_OUT/peak.zst" --print-peaks 1 --print-allocators 0 \
		--print-temporary 0 --print-leaks 0 -n 15 -s 3 2>/dev/null |
		grep -E '^[0-9.]+[KMG]? peak|consumed over|^    [A-Za-z_]' | head -80
	;;
*)
	echo "usage: bench/heap.sh allocs|peak" >&2
	exit 2
	;;
esac
echo "-- recordings kept in $HEAP_OUT"
