#!/usr/bin/env python3
"""run_all.py — run every test of one or more meson build trees and count.

    python3 tests/run_all.py build build-asan build-fuzz

(`./dev test` passes these three: plain, ASan+UBSan, and the clang libFuzzer
tree whose tests replay the fuzz corpora and fuzz each target briefly.)

For each tree it runs `meson test -C TREE --print-errorlogs` (which rebuilds
first), then reads TREE/meson-logs/testlog.json: every test program speaks
TAP on stdout, so each top-level `ok` line (at the start of the line, as
meson's TAP parser reads it; an indented subtest line is not a case) is a
passed case and each `not ok` line a failed one. Every program must print
exactly one plan `1..N` and report exactly N cases: a missing plan, two
plans, or a count that is not the plan is one more failure (the programs
declare their plan first, so an early return cannot lower N). A program that
crashed, timed out or exited non-zero without any `not ok` line counts as
one failure; so does a tree whose build or test run produced no log at all.
Prints one line per program, and as the very last line `N passed, N
failed`. Exits 1 if anything failed.
"""

import argparse
import json
import os
import re
import subprocess
import sys

OK_RE = re.compile(r"^ok\b")
NOT_OK_RE = re.compile(r"^not ok\b")
PLAN_RE = re.compile(r"^1\.\.(\d+)\s*(#.*)?$")
# A TAP directive marks a case that did not really run or pass.
DIRECTIVE_RE = re.compile(r"#\s*(SKIP|TODO)\b", re.IGNORECASE)
# A skipped program is not a pass: nothing in this suite may skip.
GOOD_RESULTS = {"OK"}


def count_tap(stdout):
    """(passed, failed, problem): top-level lines only, as TAP and meson
    read them (an indented "ok" is a subtest or a comment, never a case);
    an "ok" carrying # SKIP or # TODO counts as failed, so a skipped check
    is never reported as passing. problem is None, or says why the plan and
    the cases disagree."""
    passed = failed = 0
    plans = []
    for line in (stdout or "").splitlines():
        line = line.rstrip("\r\n")
        if NOT_OK_RE.match(line):
            failed += 1
        elif OK_RE.match(line):
            if DIRECTIVE_RE.search(line):
                failed += 1
            else:
                passed += 1
        else:
            m = PLAN_RE.match(line)
            if m:
                plans.append(int(m.group(1)))
    problem = None
    if not plans:
        problem = "no TAP plan (1..N)"
    elif len(plans) > 1:
        problem = f"{len(plans)} TAP plans ({', '.join(map(str, plans))})"
    elif plans[0] != passed + failed:
        problem = f"planned {plans[0]}, reported {passed + failed}"
    return passed, failed, problem


def failed_cases(stdout, most=12):
    """The `not ok` lines of a TAP stream, each with the `#` diagnostics that
    follow it (at most `most` lines in all, each cut to 200 characters); the
    last lines of the stream when it has none."""
    out, keep = [], False
    for line in (stdout or "").splitlines():
        if line.startswith("not ok"):
            keep = True
        elif not line.startswith("#"):
            keep = False
        if keep and len(out) < most:
            out.append(line[:200])
    if not out:  # crashed or timed out without a `not ok`: its last words
        out = [line[:200] for line in (stdout or "").splitlines()[-5:]]
    return out


def run_tree(tree, extra_args):
    """Run the tests of one tree; returns a list of (name, passed, failed, note)."""
    log_path = os.path.join(tree, "meson-logs", "testlog.json")
    try:
        os.remove(log_path)  # never count a stale log from an earlier run
    except FileNotFoundError:
        pass
    cmd = ["meson", "test", "-C", tree, "--print-errorlogs"] + extra_args
    print(f"==> {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL)
    if not os.path.exists(log_path):
        return [("(build or test run)", 0, 1, f"meson test exited {proc.returncode} "
                 "without a test log: the build probably failed", [])]
    rows = []
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                rows.append(("(unreadable testlog line)", 0, 1, line[:80], []))
                continue
            name = entry.get("name", "?")
            result = str(entry.get("result", "?")).split(".")[-1]
            passed, failed, problem = count_tap(entry.get("stdout"))
            note = result
            if problem:
                failed += 1  # the count is not what the program declared
                note = f"{result}, {problem}"
            if result not in GOOD_RESULTS:
                rc = entry.get("returncode")
                note = f"{note}, exit {rc}"
                if failed == 0:
                    failed = 1  # crashed, timed out or failed without saying which case
            rows.append((name, passed, failed, note, failed_cases(entry.get("stdout"))))
    if not rows:
        rows.append(("(no tests)", 0, 1, "testlog.json is empty", []))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="meson build directories")
    parser.add_argument("--meson-arg", action="append", default=[],
                        help="extra argument for meson test (repeatable)")
    args = parser.parse_args()

    results = []
    for tree in args.trees:
        extra = list(args.meson_arg)
        if "asan" in os.path.basename(os.path.normpath(tree)):
            extra += ["--timeout-multiplier", "3"]
        for row in run_tree(tree, extra):
            results.append((tree,) + row)

    total_passed = sum(r[2] for r in results)
    total_failed = sum(r[3] for r in results)
    print("\n==> results per program", flush=True)
    width = max(len(f"{r[0]}/{r[1]}") for r in results)
    for tree, name, passed, failed, note, _ in results:
        verdict = "FAIL" if failed else "ok"
        print(f"{verdict:4}  {tree + '/' + name:<{width}}  {passed:4} passed {failed:4} failed"
              f"  ({note})")
    failures = [(f"{r[0]}/{r[1]}", r[5]) for r in results if r[3] and r[5]]
    if failures:
        # repeated here, next to the total, so that the tail of a long CI log
        # says which case failed and why without the whole log
        print("\n==> failed cases", flush=True)
        for where, lines in failures:
            print(where)
            for text in lines:
                print(f"    {text}")
    print(f"{total_passed} passed, {total_failed} failed", flush=True)
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
