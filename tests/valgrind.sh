#!/bin/sh
# tests/valgrind.sh — integration scenarios with liaisond (serving) and every
# liaison command under valgrind's memory checker (leaks: definite and
# indirect; invalid reads and writes; uses of uninitialised values).
#
#   tests/valgrind.sh                       the short form (CI): raw-protocol threads, cases and
#                                           attachments, the server under valgrind, CLI included
#   tests/valgrind.sh test_e2e_thread.py test_pathway_cli.py     the long form (docs/TESTING.md)
#
# Environment: LIAISOND, LIAISON (default: build/...), LSN_CERTS (certs/dev).
# Output is TAP, its plan first: two lines per scenario, one for its checks
# (all passed, as many as it planned) and one for the processes that ran
# under valgrind (every report empty). A process with an error also exits
# 97, which the scenario's own exit-status checks report.
# Needs a build without sanitizers (valgrind and ASan do not mix).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIAISOND=${LIAISOND:-$ROOT/build/server/liaisond}
LIAISON=${LIAISON:-$ROOT/build/client/liaison}
LSN_CERTS=${LSN_CERTS:-$ROOT/certs/dev}
[ $# -gt 0 ] || set -- test_threads_wire.py test_cases_wire.py test_e2e_attach.py

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
if ! command -v valgrind >/dev/null; then
	echo "1..1"
	notok "valgrind is installed (apt-get install valgrind)"
	exit 1
fi
echo "1..$((2 * $#))"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lsn-valgrind-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
for t in "$@"; do
	mkdir -p "$WORK/$t.d"
	TMPDIR=$WORK/$t.d LSN_KEEP=1 LSN_VALGRIND=1 LIAISOND=$LIAISOND LIAISON=$LIAISON \
		LSN_CERTS=$LSN_CERTS python3 "$ROOT/tests/integration/$t" >"$WORK/$t.tap" 2>&1
	rc=$?
	checks=$(grep -cE '^ok ' "$WORK/$t.tap")
	failed=$(grep -cE '^not ok ' "$WORK/$t.tap")
	if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$checks" -gt 0 ]; then
		ok "$t under valgrind: $checks checks pass"
	else
		notok "$t under valgrind: exit $rc, $checks passed, $failed failed"
		grep -E '^not ok' "$WORK/$t.tap" | head -20 | sed 's/^/# /'
	fi
	procs=0
	bad=0
	for log in $(find "$WORK/$t.d" -name 'valgrind-*.log'); do
		procs=$((procs + 1))
		name=$(basename "$log" .log | sed 's/^valgrind-//')
		if [ -s "$log" ]; then
			bad=$((bad + 1))
			notok "$t: $name: valgrind found errors"
			head -60 "$log" | sed 's/^/# /'
		fi
	done
	if [ "$procs" -gt 0 ] && [ "$bad" -eq 0 ]; then
		ok "$t: $procs processes ran under valgrind, none with a leak or memory error"
	elif [ "$procs" -gt 0 ]; then
		:
	else
		notok "$t: no process ran under valgrind"
	fi
done
[ "$n" -eq $((2 * $#)) ] || fail=1
exit $fail
