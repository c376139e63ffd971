#!/bin/sh
# bench/web_first_screen.sh — the browser client's first-screen time, unlock
# time and bundle sizes (docs/PERFORMANCE.md "Browser: first screen").
# Starts a fresh liaisond on a free loopback port serving web/dist, issues
# one invite, runs bench/web_first_screen.mjs in Debian's Chromium, prints
# the sizes of web/dist's files (raw and gzip -9) and the timings (JSON),
# stops the server. Needs ./dev test's build (or BUILD=dir) and web/dist.
#   RUNS=10 bench/web_first_screen.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-10}
CHROMIUM=${LSN_CHROMIUM:-/usr/bin/chromium}
[ -f web/dist/index.html ] || { echo "web/dist is not built: run ./dev test or (cd web && node build.mjs)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
D() { "$BUILD/server/liaisond" --data-dir "$tmp/data" --port "$port" --web-root "$PWD/web/dist" "$@"; }
D init >/dev/null 2>&1
D org add --name "CPTS Mesure" --finess 450000005 --kind cpts >/dev/null
code=$(D invite --name "Dr Mesure" --profession gp \
  --rpps 10101010105 --org 450000005 --roles member | tail -n 1)
D >"$tmp/server.log" 2>&1 &
pid=$!
i=0
until curl -skf "https://127.0.0.1:$port/" >/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/server.log" >&2; exit 1; }; sleep 0.1
done
echo "web/dist (bytes; gzip -9 bytes, what liaisond sends a browser that accepts gzip):"
for f in web/dist/index.html web/dist/assets/*; do
  case $f in *.gz) continue ;; esac
  printf '  %-40s %8d %8d\n' "${f#web/dist/}" "$(wc -c <"$f")" "$(gzip -9c "$f" | wc -c)"
done
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1); chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}')"
node bench/web_first_screen.mjs "https://localhost:$port/" "$PWD/web" "$CHROMIUM" "$code" "$RUNS"
