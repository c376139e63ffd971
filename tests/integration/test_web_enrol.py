#!/usr/bin/env python3
"""test_web_enrol.py — the browser becomes a device (docs/WEB.md "Screens"):
a real liaisond serves the built web/dist (--web-root); Debian's Chromium,
driven by playwright-core (web_enrol.mjs beside this file), enrols from an
invite made by `liaisond invite` (the page shows whom it is for first),
reloads, is refused a wrong passphrase, unlocks, locks, and locks itself
when idle; then the real `liaison` CLI of another enrolled user finds the
browser's user in the directory and computes a safety number of which one
half is the fingerprint the browser shows (CRYPTO.md §2: the browser's keys
are the ones the server published).

LSN_SCREENSHOTS=DIR: the browser saves a PNG of each screen there (e.g.
docs/screenshots); unset in CI, so tracked files are not rewritten.
A missing Chromium, node or web/dist is a failure, not a skip: ./dev
prepares them. TAP on stdout."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Client, Server, run  # noqa: E402

DRIVER = "web_enrol.mjs"
# the checks web_enrol.mjs prints, in order (a crash prints one failing
# line instead, and the rest are reported missing)
BROWSER_CHECKS = 17
IK_CHECKS = 2
REVOKE_CHECKS = 4
PLAN = 1 + 1 + BROWSER_CHECKS + 4 + IK_CHECKS + REVOKE_CHECKS + 3

WHO = {"name": "Dr Anne Navigateur", "rpps": "10101010105", "org": "CPTS Val de Loire"}
PASSPHRASE = "une phrase de passe de test"


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", WHO["org"], "--finess", "450000005", "--kind", "cpts")
        srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346",
                  "--kind", "pharmacy")
        code = srv.invite(WHO["rpps"], WHO["name"], "gp", "450000005")
        colleague = Client(srv, "paul", passphrase="the colleague's passphrase")
        pcode = srv.invite("10000000009", "Paul Durand", "pharmacist", "750012346")
        rc, out, err = colleague.enrol(pcode, device_name="officine")
        t.eq(rc, 0, "a colleague enrols with the CLI", f"{out}\n{err}")

        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(srv, browser, profile, code=code, passphrase=PASSPHRASE,
                                   deviceName="Navigateur du service", expect=WHO, phase="main")
        values = webdrive.phase(t, node, DRIVER, cfg, BROWSER_CHECKS)
        enrolled = values.get("enrolled") or {}
        user = enrolled.get("user") or ""
        fpr = (enrolled.get("fingerprint") or "").replace(" ", "")
        rc, found, err = colleague.json("directory", "search", "navigateur")
        users = [u for u in (found or {}).get("users", []) if isinstance(u, dict)]
        t.ok(rc == 0 and any(u.get("id") == user and u.get("name") == WHO["name"]
                             and u.get("rpps") == WHO["rpps"] for u in users),
             "the CLI's directory search finds the browser's user", f"rc={rc} {found!r} {err}")
        # the server's own record (the CLI lists only its own user's devices)
        try:
            rows = srv.db_exec("SELECT d.name, hex(d.id) FROM devices d WHERE hex(d.user_id) = ?",
                               (user.upper(),)) if user else []
        except Exception as e:  # noqa: BLE001 - reported as the failure
            rows = [repr(e)]
        device = ((values.get("record") or {}).get("device") or "").upper()
        t.ok([tuple(r) for r in rows] == [("Navigateur du service", device)],
             "the server holds the browser as the user's one device, under its name", repr(rows))
        rc, ver, err = colleague.json("verify", user) if user else (1, None, "no user")
        number = ((ver or {}).get("safety_number") or "").replace(" ", "")
        # the browser's half comes first when its user id is the lower one
        # (CRYPTO.md §2); the colleague's id is read from its whoami
        rc2, me, _ = colleague.json("whoami")
        mine = ((me or {}).get("user") or {}).get("id", "")
        half = number[:30] if user < mine else number[30:]
        t.ok(rc == 0 and rc2 == 0 and len(number) == 60 and len(fpr) == 30 and half == fpr,
             "liaison verify's safety number holds the fingerprint the browser shows",
             f"browser {fpr!r}, safety number {number!r}, ids {user} / {mine}; {err}")
        t.ok(len(fpr) == 30 and fpr not in (number[30:] if user < mine else number[:30]),
             "... and the other half is not it (the colleague's own fingerprint)", number)

        # the server's database lies about the account's identity key
        ik = srv.db_exec("SELECT ik FROM users WHERE hex(id) = ?", (user.upper(),)) if user else []
        if user:
            srv.db_exec("UPDATE users SET ik = ? WHERE hex(id) = ?", (os.urandom(32), user.upper()))
        webdrive.phase(t, node, DRIVER, dict(cfg, phase="tamper-ik", screenshots=None), IK_CHECKS)
        # the true key back; then the administrator revokes the browser's
        # device while it is unlocked (the driver runs liaisond revoke), and
        # last the browser's stored record is altered
        if ik:
            srv.db_exec("UPDATE users SET ik = ? WHERE hex(id) = ?", (ik[0][0], user.upper()))
        revoke = [harness.LIAISOND, "--data-dir", srv.data, "revoke", "--device", device.lower()]
        webdrive.phase(t, node, DRIVER, dict(cfg, phase="revoke", screenshots=None, revoke=revoke),
                       REVOKE_CHECKS)
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
