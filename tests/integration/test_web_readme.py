#!/usr/bin/env python3
"""test_web_readme.py — README.md played as a reader plays it, with the
browser section done in the browser.

test_readme.py's play() runs every walk-through of the README with the real
liaisond (here also serving web/dist) and the real CLI, with all of its
checks (shape, labels, claims, Done-when). Between the two ```sh blocks of
"Walk-through: in the browser" this test does the section's numbered steps
in Debian's Chromium (web_readme.mjs) by the labels the README quotes: the
device invite the block printed (CODE) and the recovery code its `backup
setup` printed, Mme Lemaire's case thread (CHANNEL) and its notice, a
message and a file, « Mes dossiers » → the case (CASE) → « Accuser
réception », « Vérifier un collègue » → « Roux » (the 60 digits compared
with `liaison --profile doctor verify "Louis Petit"`), « Verrouiller »,
« Déverrouiller ». Then the section's second block runs through the same
Walk and this test checks what the README says it shows: Dr Louis Petit's
acknowledgement in `case show CASE` (and in its --json), and the browser's
message in `liaison read CHANNEL`, verified, from Dr Louis Petit.

After the section's third block (Léa Moreau's backup and device invite),
steps 6 and 7 in another browser (web_readme.mjs, phase "coord"): her
device added with her recovery code, « Tableau de bord » showing as many
open heart-failure cases as her `cases --all --json`, the case's reference
and never the patient's name, Julie Bernard's alert among « Alertes de la
semaine »; « Indicateurs », « Télécharger le CSV » and « Imprimer ». The
fourth block's `report --csv-fr > indicateurs.csv` must then be, byte for
byte, the file the browser saved, as the README says.

LSN_SCREENSHOTS=DIR: web-walk-1-added, web-walk-2-thread, web-walk-3-case,
web-walk-4-dashboard, web-walk-5-indicators. TAP on stdout."""

import base64

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_readme  # noqa: E402
import webdrive  # noqa: E402
from harness import Client, run  # noqa: E402

DRIVER = "web_readme.mjs"
BROWSER_CHECKS = 13  # web_readme.mjs's checks, the final console check included
COORD_CHECKS = 6     # its phase "coord", the final console check included
AFTER_CHECKS = 4     # case show (text and --json), read CHANNEL, the CSV
PLAN = 1 + test_readme.PLAN + BROWSER_CHECKS + COORD_CHECKS + AFTER_CHECKS

SECTION = test_readme.BROWSER_SECTION
RECOVERY_RE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){13}\b")
MESSAGE = "Avis bien reçu, je la vois en consultation dans quinze jours"
FILE = {"name": "echo-coeur.txt", "text": "Échographie cardiaque (exemple fictif) : FEVG 35 %\n"}
PASSPHRASE = "phrase de passe du navigateur"


class Browser:
    """test_readme.play()'s observer: captures what the browser section's
    first block prints, drives the browser after it, checks the second."""

    def __init__(self, t, chromium, node):
        self.t = t
        self.chromium = chromium
        self.node = node
        self.recovery = None
        self.csv = None  # what the coordinator's browser saved
        self.ran = False
        self.done_after = set()

    def command(self, section, cmd, out, err, w):
        if section != SECTION:
            return
        if "backup setup" in cmd:
            m = RECOVERY_RE.search(out)
            self.recovery = m.group(0) if m else None
        elif self.ran and "case show CASE" in cmd and "case" not in self.done_after:
            self.done_after.add("case")
            self.after_case_show(out, w)
        elif self.ran and re.search(r"liaison read CHANNEL$", cmd) \
                and "read" not in self.done_after:
            self.done_after.add("read")
            self.after_read(out)
        elif "report --csv-fr > indicateurs.csv" in cmd:
            self.after_csv(w)

    def block(self, section, index, w, srv):
        if section == SECTION and index == 2:
            self.coordinator(w, srv)
        if section != SECTION or index != 0:
            return
        self.ran = True
        t = self.t
        v = w.values
        # what Dr Roux reads out to him: the README's own command
        rc, out, err = Client(srv, "doctor").run("verify", "Louis Petit")
        lines = [x for x in out.splitlines() if re.fullmatch(r"\s*\d{5}( \d{5})+\s*", x)]
        number = re.sub(r"\D", "", "".join(lines))
        if rc != 0 or len(number) != 60:
            t.diag(f"liaison --profile doctor verify \"Louis Petit\": rc={rc} no 60 digits\n"
                   f"{harness.clip(out, 800)}\n{harness.clip(err, 800)}")
        profile = os.path.join(srv.tmp, "chromium-walk")
        cfg = webdrive.base_config(
            srv, self.chromium, profile, code=v.get("CODE"), recovery=self.recovery or "",
            channel=v.get("CHANNEL"), ref=v.get("CASE"), number=number,
            deviceName="Poste du service de cardiologie", passphrase=PASSPHRASE,
            message=MESSAGE, file=FILE)
        if not self.recovery:
            t.diag("`backup setup` printed no recovery code the browser could type")
        webdrive.phase(t, self.node, DRIVER, cfg, BROWSER_CHECKS)

    def coordinator(self, w, srv):
        """Steps 6 and 7: Léa Moreau's browser, after her device invite."""
        v = w.values
        rc, listing, err = Client(srv, "coord").json("cases", "--all")
        cases = (listing or {}).get("cases") or []
        open_hf = sum(1 for c in cases if c.get("pathway") == "heart_failure"
                      and c.get("status") == "open")
        if rc != 0 or not open_hf:
            self.t.diag(f"coord cases --all: rc={rc} {harness.clip(err, 800)}")
        cfg = webdrive.base_config(
            srv, self.chromium, os.path.join(srv.tmp, "chromium-coord"), code=v.get("CODE"),
            recovery=self.recovery or "", ref=v.get("CASE"), deviceName="Poste de la CPTS",
            passphrase=PASSPHRASE, phase="coord", expect={"openHeartFailure": open_hf})
        got = webdrive.phase(self.t, self.node, DRIVER, cfg, COORD_CHECKS)
        try:
            self.csv = base64.b64decode(got.get("csv") or "")
        except ValueError:
            self.csv = b""

    def after_csv(self, w):
        try:
            with open(os.path.join(w.workdir, "indicateurs.csv"), "rb") as f:
                cli = f.read()
        except OSError as e:
            cli = repr(e).encode()
        self.t.ok(self.csv and cli == self.csv and cli.startswith(b"\xef\xbb\xbf"),
                  "report --csv-fr > indicateurs.csv: byte for byte the file « Télécharger le CSV » "
                  "saved in the coordinator's browser (French form: BOM, ';')",
                  f"CLI {len(cli)} bytes, browser {len(self.csv or b'')} bytes\n"
                  f"{cli[:300]!r}\n{(self.csv or b'')[:300]!r}")

    def after_case_show(self, out, w):
        t = self.t
        # the acknowledgements part: from "Acknowledged by" to "Not yet" (or
        # the steps' table)
        m = re.search(r"Acknowledged by(.*?)(?:Not yet|\n\s*\n|$)", out, re.S)
        part = m.group(1) if m else ""
        t.ok(self.ran and "Dr Louis Petit" in part,
             "case show CASE: the acknowledgements include Dr Louis Petit's (from the browser)",
             harness.clip(out, 2000))
        rc, obj, err = Client(w.srv, "doctor").json("case", "show", w.values.get("CASE"))
        acks = [a.get("user") for a in ((obj or {}).get("notice") or {}).get("acks", [])]
        t.ok(rc == 0 and w.values.get("USER") in acks,
             "case show --json: the notice's acks hold Dr Louis Petit's user id",
             f"rc={rc} acks={acks} USER={w.values.get('USER')}\n{harness.clip(err, 800)}")

    def after_read(self, out):
        # the message's header line: "#N  time  Dr Louis Petit (Cardiologue)"; unverified
        # ones say "unverified message (the server says from …)"
        blocks = re.split(r"(?m)^(?=#\d+ )", out)
        mine = [b for b in blocks if MESSAGE in b]
        head = mine[0].splitlines()[0] if mine else ""
        files = [b for b in blocks if FILE["name"] in b]
        fhead = files[0].splitlines()[0] if files else ""
        self.t.ok(self.ran and "Dr Louis Petit" in head and "unverified" not in head
                  and "Dr Louis Petit" in fhead and "unverified" not in fhead,
                  "read CHANNEL: the browser's message and file, verified, from Dr Louis Petit",
                  f"message: {head!r}\nfile: {fhead!r}\n{harness.clip(out[-2500:], 2500)}")


def main(t):
    found = webdrive.ready(t)
    if not found:
        raise AssertionError("no browser")
    b = Browser(t, *found)
    test_readme.play(t, server_args=["--web-root", webdrive.DIST], observer=b)


if __name__ == "__main__":
    run(main, PLAN)
