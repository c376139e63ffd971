#!/usr/bin/env python3
"""web_layers.py — the import rules of the browser code (web/src, docs/
ARCHITECTURE.md "Folders"), in TAP, like layers.py for the C code.

    python3 tests/lint/web_layers.py          # exit 1 on a finding

Reads every static `import … from '…'`, `export … from '…'` and dynamic
`import('…')` of web/src/**/*.js. Then checks:

  1. a folder imports only itself and the folders below it (bottom up):
     crypto -> net -> store -> forms -> core -> ui -> main.js, where
       crypto  imports crypto only (and libsodium.js, in crypto/sodium.js only)
       net     crypto, net
       store   crypto, store
       forms   crypto, forms (pure: no DOM, no connection, no storage)
       core    crypto, net, store, forms, core (the top-level src/*.js other
               than main.js, e.g. account.js, count as core)
       ui      everything below, and ui
       main.js everything
  2. npm packages only where they belong: libsodium-wrappers-sumo in
     crypto/sodium.js, qrcode-generator in ui/, chart.js in ui/charts.js;
  3. no import cycle among the modules;
  4. no markup or code from strings anywhere in web/src: no innerHTML,
     outerHTML, insertAdjacentHTML, document.write, DOMParser,
     createContextualFragment, eval(, new Function, setTimeout/setInterval
     with a string — text reaches the page through textContent only
     (docs/THREAT-MODEL.md "Served code").

One TAP line per rule, the plan first; each finding as a `#` line naming the
file and what to do.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SRC = os.path.join(ROOT, "web", "src")

ALLOWED = {
    "crypto": {"crypto"},
    "net": {"crypto", "net"},
    "store": {"crypto", "store"},
    "forms": {"crypto", "forms"},
    "core": {"crypto", "net", "store", "forms", "core"},
    "ui": {"crypto", "net", "store", "forms", "core", "ui"},
    "main": {"crypto", "net", "store", "forms", "core", "ui", "main"},
}
PACKAGES = {"libsodium-wrappers-sumo": lambda rel: rel == "crypto/sodium.js",
            "qrcode-generator": lambda rel: rel.startswith("ui/"),
            "chart.js": lambda rel: rel == "ui/charts.js"}
IMPORT = re.compile(r"""(?:^|[\s;])(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]"""
                    r"""|(?:^|[\s;])import\s*['"]([^'"]+)['"]"""
                    r"""|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)""", re.S | re.M)
BANNED = [
    (re.compile(r"\.(innerHTML|outerHTML)\b"), "innerHTML/outerHTML"),
    (re.compile(r"\binsertAdjacentHTML\b"), "insertAdjacentHTML"),
    (re.compile(r"\bdocument\.write(ln)?\b"), "document.write"),
    (re.compile(r"\bDOMParser\b"), "DOMParser"),
    (re.compile(r"\bcreateContextualFragment\b"), "createContextualFragment"),
    (re.compile(r"(?<![\w.])eval\s*\("), "eval("),
    (re.compile(r"\bnew\s+Function\b"), "new Function"),
    (re.compile(r"\bset(Timeout|Interval)\s*\(\s*['\"`]"), "setTimeout/setInterval with a string"),
]


def layer(rel):
    top = rel.split("/")[0]
    if rel == "main.js":
        return "main"
    if "/" not in rel:
        return "core"
    return top if top in ALLOWED else None


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"(^|[^:'\"\\])//[^\n]*", r"\1", text)


def modules():
    out = {}
    for base, _, files in os.walk(SRC):
        for name in files:
            if name.endswith(".js"):
                path = os.path.join(base, name)
                out[os.path.relpath(path, SRC).replace(os.sep, "/")] = path
    return dict(sorted(out.items()))


def main():
    mods = modules()
    findings = {1: [], 2: [], 3: [], 4: []}
    graph = {}
    for rel, path in mods.items():
        with open(path, encoding="utf-8") as f:
            text = strip_comments(f.read())
        lay = layer(rel)
        if lay is None:
            findings[1].append(f"{rel}: a folder of web/src the rules do not know: add it to "
                               "tests/lint/web_layers.py and docs/ARCHITECTURE.md")
        graph[rel] = set()
        for m in IMPORT.finditer(text):
            spec = m.group(1) or m.group(2) or m.group(3)
            if spec.startswith("."):
                target = os.path.normpath(os.path.join(os.path.dirname(rel), spec)).replace(os.sep, "/")
                if target not in mods:
                    findings[1].append(f"{rel}: imports {spec}, which is not a module of web/src")
                    continue
                graph[rel].add(target)
                tl = layer(target)
                if lay and tl and tl not in ALLOWED[lay]:
                    findings[1].append(f"{rel} ({lay}) imports {target} ({tl}): a layer may "
                                       f"import only {sorted(ALLOWED[lay])}; move the code down")
            else:
                pkg = spec.split("/")[0] if not spec.startswith("@") else "/".join(spec.split("/")[:2])
                rule = PACKAGES.get(pkg)
                if rule is None or not rule(rel):
                    findings[2].append(f"{rel}: imports the package {spec}: allowed only "
                                       "where tests/lint/web_layers.py says (PACKAGES)")
        for rx, what in BANNED:
            for m in rx.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                findings[4].append(f"{rel}:{line}: {what}: build elements with ui/dom.js h() "
                                   "and put text in with textContent")
    # cycles (depth-first search, each cycle reported once by its smallest member)
    seen_cycles = set()
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):]
                key = tuple(sorted(cyc))
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    findings[3].append(" -> ".join(cyc + [nxt]) + ": break the cycle")
            elif state.get(nxt) is None:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in graph:
        if state.get(node) is None:
            visit(node, [])
    names = {1: "each web/src folder imports only itself and the folders below it",
             2: "npm packages are imported only where they belong",
             3: "no import cycle among web/src's modules",
             4: "no markup or code built from strings (innerHTML, eval…) in web/src"}
    print(f"1..{len(names)}")
    failed = 0
    for n in sorted(names):
        ok = not findings[n]
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {n} - {names[n]} ({len(mods)} modules)")
        for f in findings[n]:
            print(f"# {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
