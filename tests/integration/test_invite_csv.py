#!/usr/bin/env python3
"""test_invite_csv.py — `liaisond invite --csv FILE`: a whole CPTS invited
in one process and one transaction (issue 17, item 5), against a real
liaisond data directory and the real CLI. Checked:

- a French spreadsheet (UTF-8 byte order mark, ';', French column names,
  quoted cells, a blank line) gives one single-use code per person, printed
  as CSV for mail merge in the same form (BOM, ';', every cell quoted); a
  code enrols with `liaison enrol` as the person of its row, with the
  row's e-mail address set for the "something is waiting" mails;
- the ',' form and --json (row, name, code, expires_at);
- all or none: a sheet with bad rows (RPPS check digit, unknown profession,
  unknown organisation, an RPPS twice, an RPPS already enrolled) issues
  nothing and names each row and what is wrong; a bad header, an unclosed
  quote, an empty file, a header alone, a missing file and --csv with
  --name are refused with what to do;
- 2,000 people in one run: 2,000 distinct codes, 2,000 invites and 2,000
  audit entries, the audit chain still verifying.
TAP on stdout."""

import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 23
CPTS = "450000005"
BOM = "\ufeff"


def luhn(digits):
    """The check digit that makes digits + it pass the Luhn test (RPPS)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def rpps(n):
    base = f"3{n:09d}"
    return base + luhn(base)


def write(srv, name, text):
    path = os.path.join(srv.tmp, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def count(srv, table):
    return srv.db_exec(f"SELECT count(*) FROM {table}")[0][0]


def french(t, srv):
    sheet = write(srv, "equipe.csv", BOM + "Nom;Profession;RPPS;Organisation;Rôles;Courriel\r\n"
                  f"\"Dr Martin; Claire\";gp;{rpps(1)};{CPTS};member;claire.martin@example.fr\r\n"
                  "\r\n"
                  f"Léa Coordinatrice;coordinator;;{CPTS};member,coordinator;\r\n"
                  f"  Paul Pharmacien  ;pharmacist;{rpps(2)};{CPTS};member;\r\n")
    before = count(srv, "invites")
    rc, out, err = srv.admin_run("invite", "--csv", sheet)
    rows = list(csv.reader(io.StringIO(out[1:] if out.startswith(BOM) else out), delimiter=";"))
    t.ok(rc == 0 and out.startswith(BOM) and rows and rows[0] == [
        "name", "profession", "rpps", "org", "email", "code", "expires"] and len(rows) == 4,
        "a French sheet: the answer is French CSV too (BOM, ';'), a header and one row per person",
        f"rc={rc}\n{out}\n{err}")
    t.ok(all(line.count('"') >= 14 for line in out.splitlines()[1:]),
         "every cell of the answer is quoted (a name with ';' stays one cell)", out)
    names = [r[0] for r in rows[1:]]
    t.eq(names, ["Dr Martin; Claire", "Léa Coordinatrice", "Paul Pharmacien"],
         "the people in the sheet's order, names trimmed, the blank line skipped")
    codes = [r[5] for r in rows[1:]]
    t.ok(len(set(codes)) == 3 and all(len(c) == 29 for c in codes),
         "three distinct codes in the invite form", codes)
    t.eq(count(srv, "invites") - before, 3, "three invites stored")
    t.ok("3 invites issued" in err and "secrets" in err,
         "stderr says how many were issued and that the codes are secrets", err)

    claire = Client(srv, "claire")
    rc, out2, err2 = claire.enrol(codes[0])
    rc2, me, _ = claire.json("whoami")
    user = (me or {}).get("user") or {}
    t.ok(rc == 0 and user.get("name") == "Dr Martin; Claire" and user.get("rpps") == rpps(1)
         and user.get("profession") == "gp", "a code of the sheet enrols its row's person with the CLI",
         f"{out2}\n{err2}\n{me}")
    shown = srv.admin("user", "email", "--rpps", rpps(1), "--json")
    t.ok("claire.martin@example.fr" in shown, "... with the row's e-mail address for her mails", shown)
    return claire


def comma_json(t, srv):
    sheet = write(srv, "team.csv", "name,profession,org,roles,rpps\n"
                  f"Dr Ana Nurse,nurse,{CPTS},member,{rpps(3)}\n")
    rc, out, err = srv.admin_run("invite", "--csv", sheet)
    rows = list(csv.reader(io.StringIO(out)))
    t.ok(rc == 0 and not out.startswith(BOM) and len(rows) == 2 and rows[1][0] == "Dr Ana Nurse"
         and rows[1][2] == rpps(3), "a ',' sheet without BOM: the answer in the same form", out + err)
    rc, out, err = srv.admin_run("invite", "--csv", sheet, "--json")
    try:
        got = json.loads(out)
    except ValueError:
        got = None
    t.ok(rc == 0 and isinstance(got, list) and len(got) == 1 and got[0].get("row") == 2
         and got[0].get("name") == "Dr Ana Nurse" and len(got[0].get("code", "")) == 29
         and isinstance(got[0].get("expires_at"), int), "--json: row, name, code, expires_at", out + err)


def all_or_none(t, srv):
    before = count(srv, "invites")
    good = rpps(11)
    wrong_digit = good[:-1] + str((int(good[-1]) + 1) % 10)
    sheet = write(srv, "bad.csv", "name;profession;rpps;org;roles\n"
                  f"Dr Good;gp;{rpps(10)};{CPTS};member\n"
                  f"Dr Digit;gp;{wrong_digit};{CPTS};member\n"
                  f"Dr Plumber;plumber;;{CPTS};member\n"
                  f"Dr Nowhere;gp;{rpps(12)};999999999;member\n"
                  f"Dr Twice;gp;{rpps(10)};{CPTS};member\n"
                  f"Dr Enrolled;gp;{rpps(1)};{CPTS};member\n")
    rc, out, err = srv.admin_run("invite", "--csv", sheet)
    t.ok(rc == 2 and out == "" and count(srv, "invites") == before,
         "a sheet with bad rows issues nothing at all (exit 2, no code printed)", f"rc={rc}\n{out}\n{err}")
    wanted = ["row 3 of", "(Dr Digit): --rpps", "row 4 of", "plumber: unknown", "row 5 of",
              "no organisation with FINESS or id \"999999999\"", "row 6 of",
              f"RPPS {rpps(10)} is on row 2 too", "row 7 of", "is already enrolled",
              "5 of 6 rows cannot be invited", "correct them and run again"]
    t.ok(all(w in err for w in wanted) and "row 2 of" not in err,
         "each bad row is named with its person and what is wrong; the good one is not", err)

    cases = [("header.csv", "name,job\nDr X,gp\n", "\"job\" is not a column"),
             ("missing.csv", "name,profession,org\nDr X,gp,1\n", "no column roles"),
             ("quote.csv", "name,profession,org,roles\n\"Dr X,gp,1,member\n", "quote that does not close"),
             ("empty.csv", "", "the file is empty"),
             ("alone.csv", "name,profession,org,roles\n", "no one to invite")]
    said = []
    for name, text, expect in cases:
        rc, out, err = srv.admin_run("invite", "--csv", write(srv, name, text))
        said.append((name, rc, expect in err, err.strip()))
    t.ok(all(rc == 2 and found for _, rc, found, _ in said) and count(srv, "invites") == before,
         "a bad header, a missing column, an unclosed quote, an empty file, a header alone: "
         "refused (exit 2), each saying what is wrong", said)
    rc, out, err = srv.admin_run("invite", "--csv", os.path.join(srv.tmp, "nope.csv"))
    t.ok(rc == 1 and "cannot open" in err and "nope.csv" in err, "a missing file is named", err)
    rc, out, err = srv.admin_run("invite", "--csv", write(srv, "x.csv", "name\n"), "--name", "X")
    t.ok(rc == 2 and "takes the people from the file" in err, "--csv with --name is a usage error", err)


def many(t, srv):
    lines = ["name;profession;rpps;org;roles;email"]
    lines += [f"Dr Personne {i};gp;{rpps(1000 + i)};{CPTS};member;p{i}@example.fr" for i in range(2000)]
    sheet = write(srv, "cpts.csv", "\n".join(lines) + "\n")
    inv0, audit0 = count(srv, "invites"), count(srv, "audit")
    rc, out, err = srv.admin_run("invite", "--csv", sheet, timeout=300)
    rows = list(csv.reader(io.StringIO(out), delimiter=";"))[1:]
    t.ok(rc == 0 and len(rows) == 2000 and len({r[5] for r in rows}) == 2000,
         "2,000 people in one run: 2,000 distinct codes", f"rc={rc} rows={len(rows)}\n{err[-500:]}")
    t.eq((count(srv, "invites") - inv0, count(srv, "audit") - audit0), (2000, 2000),
         "2,000 invites and 2,000 audit entries stored")
    rc, out, err = srv.admin_run("audit", "verify")
    t.ok(rc == 0, "the audit chain still verifies", out + err)
    t.ok(rows and rows[1999][0] == "Dr Personne 1999" and rows[1999][4] == "p1999@example.fr",
         "the last person keeps their row's name and address", rows[-1:] if rows else rows)


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", CPTS, "--kind", "cpts")
        french(t, srv)
        comma_json(t, srv)
        all_or_none(t, srv)
        many(t, srv)


if __name__ == "__main__":
    run(main, PLAN)
