#!/usr/bin/env python3
"""test_french.py — the CLI in French for French users, against a real
liaisond: `liaison --help` and a walk-through (whoami, cases, login,
directory, devices, send, read, errors) in
French when LANG is fr_FR.UTF-8, in English in the C locale; error codes
unchanged and --json untranslated; times in the local time zone (TZ), day
first in French; the report's CSV in the French form (byte order mark, ';',
decimal comma), with --csv-fr or by the French locale, checked byte by byte
against the standard CSV converted here. TAP on stdout."""

import csv
import datetime
import io
import os
import re
import subprocess
import sys
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 42

FR = {"LC_ALL": None, "LANGUAGE": None, "LANG": "fr_FR.UTF-8"}
PARIS = "Europe/Paris"
BOM = b"\xef\xbb\xbf"


def french_locale_present():
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
    return any(name.lower().replace("-", "") == "fr_fr.utf8" for name in out.split())


def help_texts(t):
    env = dict(os.environ)
    env.pop("LC_ALL", None)
    env.pop("LANGUAGE", None)
    fr = subprocess.run([harness.LIAISON, "--help"], capture_output=True,
                        env=dict(env, LANG="fr_FR.UTF-8"))
    en = subprocess.run([harness.LIAISON, "--help"], capture_output=True, env=dict(env, LC_ALL="C"))
    fr_out, en_out = fr.stdout.decode(), en.stdout.decode()
    t.ok(fr.returncode == 0 and "Messagerie sécurisée pour la coordination des soins" in fr_out
         and "Options générales :" in fr_out and "Parcours de soins :" in fr_out,
         "LANG=fr_FR.UTF-8 liaison --help is in French", fr_out[:600])
    t.ok(en.returncode == 0 and "Secure messaging for healthcare coordination" in en_out
         and "Global options:" in en_out and "Messagerie" not in en_out,
         "LC_ALL=C liaison --help stays in English", en_out[:400])
    sub = subprocess.run([harness.LIAISON, "cases", "--help"], capture_output=True,
                         env=dict(env, LANG="fr_FR.UTF-8"))
    t.ok("seulement les dossiers avec une étape en retard" in sub.stdout.decode(),
         "a command's --help is in French too", sub.stdout.decode()[:400])


def walk_through(t, lea, martin):
    rc, obj, err = martin.json("whoami")
    t.eq(rc, 0, "whoami --json", err)
    created_ms = (obj or {}).get("user", {}).get("created_at", 0)
    t.ok(isinstance(created_ms, int) and created_ms > 0, "whoami --json has created_at in ms",
         repr(obj))
    rc, out, err = martin.run("whoami", env=dict(FR, TZ=PARIS))
    t.eq(rc, 0, "whoami in French", err)
    t.ok("Nom:" in out and "Membre depuis:" in out and "Cet appareil:" in out
         and "Dr Claire Martin" in out, "whoami labels are French", out)
    # the member-since time, computed here: Paris time, day first
    local = datetime.datetime.fromtimestamp(created_ms / 1000, zoneinfo.ZoneInfo(PARIS))
    t.ok(local.strftime("%d/%m/%Y %H:%M") in out,
         "the time is in the local zone (TZ=Europe/Paris), day first in French",
         f"want {local.strftime('%d/%m/%Y %H:%M')}\n{out}")
    rc, out_c, err = martin.run("whoami", env={"TZ": "UTC"})
    utc = datetime.datetime.fromtimestamp(created_ms / 1000, datetime.timezone.utc)
    t.ok(rc == 0 and "Member since:" in out_c and utc.strftime("%Y-%m-%d %H:%M") in out_c,
         "the C locale: English labels, ISO date, in TZ's zone (UTC)", out_c)
    rc, out, err = martin.run("cases", env=FR)
    t.ok(rc == 0 and "Aucun dossier ouvert." in out, "cases in French", f"{out}\n{err}")
    rc, out, err = martin.run("cases")
    t.ok(rc == 0 and "No open cases." in out, "cases in the C locale, in English",
         f"{out}\n{err}")
    # an error: French words, the code unchanged; --json untranslated
    rc, out, err = martin.run("report", env=FR)
    t.eq(rc, 1, "a GP's report is refused", err)
    t.ok("(coordinator_only)" in err and "demandez au coordinateur de la CPTS" in err,
         "the error is in French with its code unchanged", err)
    t.ok("seul un coordinateur de la CPTS peut le faire (only CPTS coordinators" in err,
         "the server's English detail follows the refusal's meaning in French", err)
    rc, obj, err = martin.json("report", env=FR)
    e = (obj or {}).get("error", {})
    t.ok(rc == 1 and e.get("code") == "coordinator_only" and e.get("hint") == "ask the CPTS coordinator",
         "--json is never translated (code and hint in English)", repr(obj))
    rc, out, err = martin.run("nonsense", env=FR)
    t.ok(rc == 2 and "commande « nonsense » inconnue ; voir liaison --help" in err,
         "a usage error in French", err)
    rc, out, err = martin.run("read", "0" * 31, env=FR)
    t.ok(rc != 0 and err.startswith("liaison: "), "the error line keeps its liaison: prefix", err)


def thread_in_french(t, lea, martin):
    """The rest of the walk-through: login, directory, devices, send, read."""
    rc, out, err = martin.run("login", env=FR)
    t.ok(rc == 0 and out.startswith("Connecté en tant que Dr Claire Martin"),
         "login in French", f"{out}\n{err}")
    rc, out, err = martin.run("directory", "search", "Léa", env=FR)
    t.ok(rc == 0 and out.startswith("NOM") and "PROFESSION" in out and "Léa Coordination" in out,
         "directory search: French column names", f"{out}\n{err}")
    rc, out, err = martin.run("devices", env=FR)
    t.ok(rc == 0 and "APPAREIL" in out and "VU LE" in out and "cabinet-pc" in out,
         "devices: French column names", f"{out}\n{err}")
    rc, obj, err = martin.json("channel", "create", "--kind", "team", "--topic", "Équipe")
    channel = (obj or {}).get("channel", "0" * 32)
    t.eq(rc, 0, "a team channel", err)
    rc, out, err = martin.run("send", channel, "Bonjour à tous", env=FR)
    t.ok(rc == 0 and re.search(r"^Message n° \d+ envoyé\.$", out, re.M),
         "send in French", f"{out}\n{err}")
    rc, out, err = martin.run("read", channel, env=FR, timeout=60)
    t.ok(rc == 0 and "Canal " in out and "Sujet : Équipe" in out and "Bonjour à tous" in out,
         "read in French", f"{out}\n{err}")
    rc, out, err = martin.run("send", channel, "", env=FR)
    t.ok(rc == 2 and "le message est vide" in err, "send's own error in French",
         f"{out}\n{err}")


def french_form(standard):
    """The French form of a standard CSV text, computed here: BOM, ';', and a
    decimal comma in the numbers (value, target...)."""
    rows = list(csv.reader(io.StringIO(standard)))
    number = re.compile(r"^(?:[<>]= )?-?\d+\.\d+$")
    out = io.StringIO()
    for row in rows:
        cells = []
        for cell in row:
            if number.match(cell):
                cell = cell.replace(".", ",")
            if any(ch in cell for ch in ';"\n\r'):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        out.write(";".join(cells) + "\n")
    return BOM + out.getvalue().encode()


def report_csv(t, lea):
    rc, out, err = lea.run("report", "targets", "set", "1a", "90.5")
    t.eq(rc, 0, "the coordinator sets a target with a decimal", err)
    rc, obj, err = lea.json("report", "targets")
    rows = [x for x in (obj if isinstance(obj, list) else (obj or {}).get("targets", []))
            if x.get("indicator") == "1a"]
    set_at = rows[0].get("set_at", 0) if rows else 0
    rc, out, err = lea.run("report", "targets", env=dict(FR, TZ=PARIS))
    day = datetime.datetime.fromtimestamp(set_at / 1000, zoneinfo.ZoneInfo(PARIS))
    t.ok(rc == 0 and set_at > 0 and re.search(r"^1a +>= 90\.5 +coordinateur +" +
                                                re.escape(day.strftime("%d/%m/%Y")) + "$", out, re.M),
         "report targets in French: the day it was set, Paris date, day first",
         f"want {day.strftime('%d/%m/%Y')}\n{obj!r}\n{out}\n{err}")
    period = ("--from", "2026-01-01", "--to", "2026-06-30")
    rc, std, err = lea.run("report", *period, "--csv", binary=True)
    t.eq(rc, 0, "report --csv in the C locale", err)
    t.ok(std.startswith(b"id,label,numerator,denominator,value,unit,n,not_yet_due,target,met\n"),
         "the C locale: the standard form, no BOM, commas", std[:200])
    target_rows = [r for r in csv.reader(io.StringIO(std.decode())) if r and r[0] == "1a"]
    t.ok(len(target_rows) == 1 and target_rows[0][8] == ">= 90.5",
         "the standard form: target >= 90.5 with a decimal point", repr(target_rows))
    rc, fr, err = lea.run("report", *period, "--csv-fr", binary=True)
    t.eq(rc, 0, "report --csv-fr", err)
    t.ok(fr.startswith(BOM + b"id;label;numerator;denominator;value;unit;n;not_yet_due;target;met\n"),
         "--csv-fr: byte order mark EF BB BF, then the header with ';'", fr[:120])
    fr_rows = [line for line in fr.decode("utf-8-sig").split("\n") if line.startswith("1a;")]
    t.ok(len(fr_rows) == 1 and fr_rows[0].split(";")[8] == ">= 90,5",
         "--csv-fr: the target with a decimal comma", repr(fr_rows))
    t.eq(fr, french_form(std.decode()), "--csv-fr is the standard CSV in the French form, "
         "byte for byte")
    rc, by_locale, err = lea.run("report", *period, "--csv", env=FR, binary=True)
    t.ok(rc == 0 and by_locale == fr, "--csv in a French locale gives the French form",
         f"{by_locale[:200]!r}\n{err}")
    rc, out, err = lea.run("--json", "report", *period, "--csv-fr")
    t.ok(rc == 2 and "--csv or --json" in err, "--csv-fr and --json together are refused", err)


def main(t):
    if not harness.require_programs(t):
        return
    t.ok(french_locale_present(), "the fr_FR.UTF-8 locale is installed (./dev generates it)",
         "run: localedef -i fr_FR -c -f UTF-8 fr_FR.UTF-8 (or install locales-all)")
    help_texts(t)
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        lea = Client(srv, "lea")
        martin = Client(srv, "martin")
        rc, out, err = lea.enrol(srv.invite(None, "Léa Coordination", "coordinator", "450000005",
                                            roles="member,coordinator"))
        t.eq(rc, 0, "the coordinator enrols", err)
        rc, out, err = martin.enrol(srv.invite("10000000009", "Dr Claire Martin", "gp",
                                               "450000005"))
        t.eq(rc, 0, "the GP enrols", err)
        walk_through(t, lea, martin)
        thread_in_french(t, lea, martin)
        report_csv(t, lea)


if __name__ == "__main__":
    run(main, PLAN)
