#!/usr/bin/env python3
"""layers.py — the include rules of docs/ARCHITECTURE.md, in TAP.

    python3 tests/lint/layers.py          # exit 1 on a finding

Reads every `#include "x.h"` of the C files under shared/, server/ and
client/ and resolves it the way the build does (the including file's own
folder first, then the include path of its program: shared/ for everyone,
server/ for the server, every client/ folder for the client). Then checks:

  1. shared/ includes nothing from server/ or client/;
  2. server/ and client/ never include each other's files;
  3. in client/, a layer includes only its own folder and the layers below
     it: cli -> core -> {store, net, concil} -> shared; store, net and
     concil do not include one another (concil is pure: shared only);
  4. no include cycle among the project's files (a header and its .c file
     count as one module, so "x.c includes x.h" is not a cycle).

One TAP line per rule, the plan first; each finding as a `#` line with the
files involved and what to do.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CLIENT_LAYERS = ["net", "store", "concil", "core", "cli"]
# what each client layer may include besides itself and shared/
CLIENT_ALLOWED = {
    "net": set(),
    "store": set(),
    "concil": set(),
    "core": {"net", "store", "concil"},
    "cli": {"net", "store", "concil", "core"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def c_files(folder):
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, folder)):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return sorted(out)


def search_path(path):
    if path.startswith("shared/"):
        return ["shared"]
    if path.startswith("server/"):
        return ["server", "shared", "schema"]
    return ["client/" + layer for layer in CLIENT_LAYERS] + ["shared"]


def resolve(path, name):
    for folder in [os.path.dirname(path)] + search_path(path):
        candidate = os.path.normpath(os.path.join(folder, name))
        if os.path.isfile(os.path.join(ROOT, candidate)):
            return candidate
    return None  # a generated header (lsn_config.h, schema.h) or a system one


def module(path):
    return os.path.splitext(path)[0]


def client_layer(path):
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "client" else None


def find_cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    files = c_files("shared") + c_files("server") + c_files("client")
    includes = []  # (from, to)
    for path in files:
        with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for name in INCLUDE.findall(text):
            target = resolve(path, name)
            if target:
                includes.append((path, target))

    rules = []
    found = [f"{a} includes {b}: shared/ is below both programs; move what it needs into shared/"
             for a, b in includes if a.startswith("shared/") and not b.startswith("shared/")]
    rules.append(("shared/ includes only shared/", found))

    found = [f"{a} includes {b}: the two programs share code only through shared/"
             for a, b in includes
             if (a.startswith("server/") and b.startswith("client/"))
             or (a.startswith("client/") and b.startswith("server/"))]
    rules.append(("server/ and client/ do not include each other", found))

    found = []
    for a, b in includes:
        la, lb = client_layer(a), client_layer(b)
        if la and lb and la != lb and lb not in CLIENT_ALLOWED[la]:
            found.append(f"{a} includes {b}: client/{la} may include only "
                         f"{', '.join(sorted(CLIENT_ALLOWED[la])) or 'shared/'} below it; "
                         f"move the code down or pass it in from the caller")
    rules.append(("client layers call down only (cli -> core -> store, net, concil)", found))

    edges = {}
    for a, b in includes:
        ma, mb = module(a), module(b)
        if ma != mb:
            edges.setdefault(ma, set()).add(mb)
    found = [f"include cycle: {' <-> '.join(c)}: break it by moving the shared part down"
             for c in find_cycles(edges)]
    rules.append(("no include cycle", found))

    print(f"1..{len(rules)}")
    failed = 0
    for i, (what, problems) in enumerate(rules, 1):
        print(f"{'not ok' if problems else 'ok'} {i} - {what} "
              f"({len(includes)} includes read)")
        for p in problems:
            print(f"# {p}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
