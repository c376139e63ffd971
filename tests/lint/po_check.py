#!/usr/bin/env python3
"""po_check.py — the CLI's French catalogue (po/), in TAP.

    python3 tests/lint/po_check.py        # exit 1 on a finding

Checks:
  1. po/fr.po compiles with `msgfmt -c` (header, and every translation keeps
     the printf conversions of its English text, in order);
  2. every message of po/fr.po is translated, none fuzzy (msgfmt --statistics);
  3. every string the sources mark with _() or N_() today (xgettext over
     po/POTFILES, into a temporary template) has a translation in po/fr.po:
     a string marked and not translated would print in English to a French
     user;
  4. every C file under client/ that marks strings is listed in po/POTFILES
     (else xgettext never sees its strings).
Needs the gettext tools (Debian package gettext).
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PO = os.path.join(ROOT, "po", "fr.po")
POTFILES = os.path.join(ROOT, "po", "POTFILES")
MARK = re.compile(r'\bN?_\(\s*"')


def unquote(text):
    """The C string of a .po entry's quoted lines."""
    out = []
    for part in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
        out.append(re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)),
                          part))
    return "".join(out)


def entries(path):
    """{msgid: msgstr} of a .po or .pot file (the header left out; a plural
    entry by its singular, with its first form)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = {}
    for block in text.split("\n\n"):
        m = (re.search(r'^msgid (".*?)^msgid_plural .*?^msgstr\[0\] (".*?)(?=^msgstr\[1\])',
                       block, re.S | re.M)
             or re.search(r'^msgid (".*?)^msgstr (".*)', block, re.S | re.M))
        if m:
            msgid = unquote(m.group(1))
            if msgid:
                found[msgid] = unquote(m.group(2))
    return found


def main():
    rules = []
    r = subprocess.run(["msgfmt", "-c", "--statistics", "-o", os.devnull, PO],
                       capture_output=True, text=True)
    rules.append(("po/fr.po compiles with msgfmt -c",
                  [] if r.returncode == 0 else r.stderr.strip().splitlines()))
    stats = r.stderr.strip()
    rules.append(("every message of po/fr.po is translated, none fuzzy",
                  [] if re.fullmatch(r"\d+ translated messages?\.", stats) else [stats]))

    with open(POTFILES, encoding="utf-8") as f:
        listed = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "fresh.pot")
        r = subprocess.run(["xgettext", "--keyword=_", "--keyword=N_", "--from-code=UTF-8",
                            "-D", ROOT, "-o", pot] + listed, capture_output=True, text=True)
        if r.returncode != 0:
            problems = ["xgettext failed: " + r.stderr.strip()]
        else:
            have = entries(PO)
            problems = [f"not translated in po/fr.po: {msgid[:70]!r} (ninja -C build "
                        f"liaison-update-po, then translate it)"
                        for msgid in entries(pot) if not have.get(msgid)]
    rules.append(("every string marked _() or N_() in the sources has a French translation",
                  problems))

    unlisted = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "client")):
        for name in sorted(files):
            if not name.endswith((".c", ".h")) or name == "tr.h":
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, ROOT)
            with open(path, encoding="utf-8", errors="replace") as f:
                if MARK.search(f.read()) and rel not in listed:
                    unlisted.append(f"{rel} marks strings but is not in po/POTFILES")
    rules.append(("every client file that marks strings is in po/POTFILES", unlisted))

    print(f"1..{len(rules)}")
    failed = 0
    for i, (what, problems) in enumerate(rules, 1):
        print(f"{'not ok' if problems else 'ok'} {i} - {what}")
        for p in problems:
            print(f"# {p}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
