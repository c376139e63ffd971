#!/usr/bin/env python3
"""run_fuzz.py — the CI form of one libFuzzer target, in TAP.

    run_fuzz.py FUZZER NAME CORPUS_DIR REGRESSIONS_DIR [SECONDS]

1. replays every file of CORPUS_DIR (the seeds) once;
2. replays every file of REGRESSIONS_DIR (inputs that once crashed), if any;
3. fuzzes for SECONDS (default 10, or $LSN_FUZZ_SECONDS) starting from a
   temporary copy of both, so the source tree is never written, with the
   dictionary tests/fuzz/NAME.dict when there is one.

A crash, leak, timeout or failed property is a `not ok` line; the input that
caused it is kept (its path is printed) and the temporary directory is not
removed, so it can be added to REGRESSIONS_DIR. See docs/TESTING.md.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile


def inputs(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if os.path.isfile(os.path.join(directory, f)) and not f.startswith("."))


def comment(text, limit=60):
    lines = (text or "").splitlines()
    for line in lines[-limit:]:
        print(f"# {line}")


def replay(fuzzer, files):
    """Run each file once; (ok, output)."""
    out = []
    # libFuzzer runs the files given as arguments once each, in one process.
    for i in range(0, len(files), 200):
        proc = subprocess.run([fuzzer, "-runs=1"] + files[i:i + 200], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace")
        out.append(proc.stdout)
        if proc.returncode != 0:
            return False, "".join(out)
    text = "".join(out)
    # every file must have been executed
    ran = len(re.findall(r"^Running: ", text, re.M))
    if ran != len(files):
        return False, text + f"\nexpected {len(files)} inputs to run, saw {ran}"
    return True, text


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    fuzzer, name, corpus, regressions = sys.argv[1:5]
    seconds = int(os.environ.get("LSN_FUZZ_SECONDS") or (sys.argv[5] if len(sys.argv) == 6 else 10))
    seeds = inputs(corpus)
    regs = inputs(regressions)
    plan = 2 + (1 if regs else 0)
    print(f"1..{plan}", flush=True)
    n = 0
    failed = False

    n += 1
    if not seeds:
        print(f"not ok {n} - replay corpus {name}: no seed in {corpus}")
        failed = True
    else:
        ok, out = replay(fuzzer, seeds)
        print(f"{'ok' if ok else 'not ok'} {n} - replay corpus {name} ({len(seeds)} inputs)")
        if not ok:
            comment(out)
            failed = True

    if regs:
        n += 1
        ok, out = replay(fuzzer, regs)
        print(f"{'ok' if ok else 'not ok'} {n} - replay regressions {name} ({len(regs)} inputs)")
        if not ok:
            comment(out)
            failed = True

    n += 1
    work = tempfile.mkdtemp(prefix=f"lsn-fuzz-{name}-")
    live = os.path.join(work, "corpus")
    os.mkdir(live)
    for f in seeds + regs:
        shutil.copy(f, os.path.join(live, os.path.basename(os.path.dirname(f)) + "-" +
                                    os.path.basename(f)))
    cmd = [fuzzer, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
           "-max_len=65536", "-print_final_stats=1",
           f"-artifact_prefix={work}/"]
    dict_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.dict")
    if os.path.exists(dict_path):
        cmd.append(f"-dict={dict_path}")
    cmd.append(live)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace")
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", proc.stdout)
    cov = re.findall(r"\bcov: (\d+)", proc.stdout)
    artifacts = [f for f in os.listdir(work) if f != "corpus"]
    if proc.returncode == 0 and runs and int(runs.group(1)) > 0 and not artifacts:
        print(f"ok {n} - fuzz {name} for {seconds} s, no crash ({runs.group(1)} runs, "
              f"{cov[-1] if cov else '?'} coverage points)")
        shutil.rmtree(work)
    else:
        print(f"not ok {n} - fuzz {name} for {seconds} s: exit {proc.returncode}, "
              f"artifacts {artifacts}")
        comment(proc.stdout)
        print(f"# crashing inputs kept in {work}; add them to {regressions}/ once fixed")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
