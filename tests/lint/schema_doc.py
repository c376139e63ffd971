#!/usr/bin/env python3
"""schema_doc.py — docs/THREAT-MODEL.md lists every column the server keeps,
in TAP.

    python3 tests/lint/schema_doc.py      # exit 1 on a finding

Builds the server's schema as liaisond does (every schema/NNN_*.sql applied
in order, with Python's sqlite3, into a database in memory), reads each
table's columns (PRAGMA table_info), then reads the table of the section
"What the server keeps in clear" of docs/THREAT-MODEL.md: rows
"| `table` | `col`, `col`… | what it holds | who sees it |". Checks:

  1. every column of every table is in a row (a migration that adds a
     column or a table must say what it holds and who sees it);
  2. every row names an existing table and existing columns (no stale row);
  3. every row says what the column holds and who sees it (no empty cell).

One finding per `#` line, naming the table and column and what to do.
"""

import glob
import os
import re
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DOC = os.path.join(ROOT, "docs", "THREAT-MODEL.md")
SECTION = "## What the server keeps in clear"
ROW = re.compile(r"^\|\s*`(\w+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")


def schema_columns():
    db = sqlite3.connect(":memory:")
    files = sorted(glob.glob(os.path.join(ROOT, "schema", "[0-9][0-9][0-9]_*.sql")))
    for path in files:
        with open(path, encoding="utf-8") as f:
            db.executescript(f.read())
    cols = {}
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        cols[name] = [r[1] for r in db.execute(f"PRAGMA table_info(\"{name}\")")]
    db.close()
    return files, cols


def doc_rows():
    """[(line number, table, [columns], holds, seen_by)] of the section."""
    with open(DOC, encoding="utf-8") as f:
        lines = f.read().splitlines()
    try:
        start = lines.index(SECTION)
    except ValueError:
        return None
    rows = []
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("## "):
            break
        m = ROW.match(lines[i])
        if m:
            rows.append((i + 1, m.group(1), re.findall(r"`(\w+)`", m.group(2)),
                         m.group(3).strip(), m.group(4).strip()))
    return rows


def main():
    files, cols = schema_columns()
    rows = doc_rows()
    print("1..3")
    if rows is None:
        for n, name in enumerate(["every schema column listed", "no stale row",
                                  "no empty cell"], 1):
            print(f"not ok {n} - {name}")
        print(f"# docs/THREAT-MODEL.md has no section \"{SECTION}\"")
        return 1
    listed = {}
    for line, table, columns, _, _ in rows:
        for c in columns:
            listed.setdefault((table, c), line)
    missing = [(t, c) for t in sorted(cols) for c in cols[t] if (t, c) not in listed]
    total = sum(len(v) for v in cols.values())
    failed = 0
    if missing:
        failed += 1
        print(f"not ok 1 - every schema column listed: {len(missing)} of {total} missing")
        for t, c in missing:
            print(f"# {t}.{c}: add it to the table of \"{SECTION[3:]}\" in docs/THREAT-MODEL.md "
                  "(what it holds, who sees it through the protocol)")
    else:
        print(f"ok 1 - every schema column listed: {total} columns of {len(cols)} tables "
              f"({len(files)} migrations)")
    stale = [(line, t, c) for line, t, columns, _, _ in rows for c in columns
             if t not in cols or c not in cols[t]]
    stale += [(line, t, "(no column)") for line, t, columns, _, _ in rows if not columns]
    if stale:
        failed += 1
        print(f"not ok 2 - no stale row: {len(stale)} finding(s)")
        for line, t, c in stale:
            print(f"# docs/THREAT-MODEL.md:{line}: {t}.{c} is not in the schema: fix or drop it")
    else:
        print(f"ok 2 - no stale row: {len(rows)} rows name existing columns")
    empty = [(line, t) for line, t, _, holds, seen in rows if not holds or not seen]
    if empty:
        failed += 1
        print(f"not ok 3 - no empty cell: {len(empty)} row(s)")
        for line, t in empty:
            print(f"# docs/THREAT-MODEL.md:{line}: {t}: say what it holds and who sees it")
    else:
        print("ok 3 - no empty cell")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
