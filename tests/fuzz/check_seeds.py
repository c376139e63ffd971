#!/usr/bin/env python3
"""check_seeds.py — the signed and binary seeds in corpus/ are what gen_seeds
makes today (byte for byte), so they still carry valid signatures and each
near-valid seed still fails the one check it is meant to (gen_seeds checks
that itself and exits 1 otherwise). Speaks TAP.

    check_seeds.py GEN_SEEDS CORPUS_DIR
"""

import filecmp
import os
import subprocess
import sys
import tempfile

# The corpora gen_seeds writes (signed or binary seeds); the plan is pinned
# on them so that a generator that stops writing one fails instead of
# lowering the count.
GENERATED = ["keyshare", "mlog", "msg_header"]
PLAN = 1 + len(GENERATED)


def main():
    gen, corpus = sys.argv[1:3]
    n = 0
    failed = 0
    print(f"1..{PLAN}", flush=True)

    def ok(cond, name, diag=""):
        nonlocal n, failed
        n += 1
        print(f"{'ok' if cond else 'not ok'} {n} - {name}")
        if not cond:
            failed += 1
            for line in diag.splitlines():
                print(f"# {line}")

    with tempfile.TemporaryDirectory(prefix="lsn-seeds-") as tmp:
        p = subprocess.run([gen, tmp], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        ok(p.returncode == 0, "gen_seeds runs; every near-valid seed fails where meant", p.stdout)
        for sub in GENERATED:
            where = os.path.join(tmp, sub)
            names = sorted(os.listdir(where)) if os.path.isdir(where) else []
            differ = [f for f in names
                      if not os.path.exists(os.path.join(corpus, sub, f))
                      or not filecmp.cmp(os.path.join(tmp, sub, f), os.path.join(corpus, sub, f),
                                         shallow=False)]
            ok(names and not differ,
               f"corpus/{sub}: the {len(names)} generated seeds are up to date",
               "differ or missing: " + ", ".join(differ) +
               "\nregenerate with: build-fuzz/tests/fuzz/gen_seeds tests/fuzz/corpus")
        extra = sorted(set(os.listdir(tmp)) - set(GENERATED))
    if n != PLAN or extra:
        print(f"# planned {PLAN} checks, ran {n}; corpora generated but not listed in "
              f"GENERATED: {', '.join(extra) or 'none'}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
