#!/usr/bin/env python3
"""test_web_verify.py — "Vérifier un collègue" in the browser (docs/WEB.md
"Verifying a colleague"): a professional enrolled in Debian's Chromium
(web_verify.mjs) finds a colleague enrolled with the real `liaison` CLI,
sees their safety number — the very 71 characters the colleague's `liaison
verify --json` gives for the pair, and the number CRYPTO.md §2 gives when
recomputed here from the server's keys — and a QR code whose modules are,
one by one, those of that text (rebuilt in node with qrcode-generator at
level M in alphanumeric mode); "Ils diffèrent" says what to do and records
nothing; "Les numéros sont identiques" marks the colleague verified, which
survives a reload (the vault). Then the server's database gives the
colleague another identity key (as a server under attack could): the page
shows the alarm, the new number (recomputed here), and accepting the key
takes confirming that new number. TAP on stdout."""

import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Client, Server, run  # noqa: E402

DRIVER = "web_verify.mjs"
MAIN_CHECKS = 11
CHANGED_CHECKS = 3
PLAN = 1 + 1 + MAIN_CHECKS + 3 + CHANGED_CHECKS + 1 + 3

ANNE = {"name": "Dr Anne Navigateur", "rpps": "10101010105"}
PAUL = {"name": "Paul Durand", "rpps": "10000000009"}
PASSPHRASE = "une phrase de passe de test"


def lp(data):
    return len(data).to_bytes(2, "big") + data


def fingerprint(user, rpps, ik):
    """CRYPTO.md §2, written again here from the spec (hashlib's BLAKE2b)."""
    h = hashlib.blake2b(b"liaison-fpr-v1" + lp(user) + lp(rpps.encode()) + ik,
                        digest_size=32).digest()
    for _ in range(5199):
        h = hashlib.blake2b(h + ik, digest_size=32).digest()
    return "".join(f"{int.from_bytes(h[5 * c:5 * c + 5], 'big') % 100000:05d}" for c in range(6))


def safety_number(user_a, rpps_a, ik_a, user_b, rpps_b, ik_b):
    fa, fb = fingerprint(user_a, rpps_a, ik_a), fingerprint(user_b, rpps_b, ik_b)
    digits = fa + fb if user_a <= user_b else fb + fa
    return " ".join(digits[i:i + 5] for i in range(0, 60, 5))


QR_SCRIPT = r"""
import { createRequire } from 'node:module';
import path from 'node:path';
const [web, text] = process.argv.slice(1);
const req = createRequire(path.join(web, 'package.json'));
const qrcode = req('qrcode-generator');
const q = qrcode(0, 'M');
q.addData(text, 'Alphanumeric');
q.make();
const n = q.getModuleCount();
const dark = [];
for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (q.isDark(r, c)) dark.push([c, r]);
console.log(JSON.stringify({ n, dark }));
"""


def qr_modules(node, text):
    """The modules of text's QR code (level M, alphanumeric), from node."""
    res = subprocess.run([node, "--input-type=module", "-e", QR_SCRIPT, webdrive.WEB, text],
                         capture_output=True, text=True, timeout=60 * harness.SLOW,
                         stdin=subprocess.DEVNULL)
    try:
        return json.loads(res.stdout)
    except ValueError:
        return {"error": res.stderr}


def user_keys(srv, user):
    rows = srv.db_exec("SELECT ik, rpps FROM users WHERE lower(hex(id)) = ?", (user,))
    return (bytes(rows[0][0]), rows[0][1] or "") if rows else (b"", "")


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
        srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346",
                  "--kind", "pharmacy")
        code = srv.invite(ANNE["rpps"], ANNE["name"], "gp", "450000005")
        paul = Client(srv, "paul", passphrase="the colleague's passphrase")
        rc, out, err = paul.enrol(srv.invite(PAUL["rpps"], PAUL["name"], "pharmacist", "750012346"),
                                  device_name="officine")
        rc2, me, err2 = paul.json("whoami")
        paul_id = ((me or {}).get("user") or {}).get("id", "")
        t.ok(rc == 0 and rc2 == 0 and paul_id, "a colleague enrols with the CLI", f"{out}\n{err}\n{err2}")

        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(srv, browser, profile, code=code, passphrase=PASSPHRASE,
                                   colleague={"id": paul_id, **PAUL}, phase="main")
        values = webdrive.phase(t, node, DRIVER, cfg, MAIN_CHECKS)
        anne_id = values.get("me") or ""
        shown = values.get("number") or ""

        rc, ver, err = paul.json("verify", anne_id) if anne_id else (1, None, "no user")
        t.ok(rc == 0 and len(shown) == 71 and (ver or {}).get("safety_number") == shown,
             "the 60 digits the browser shows are liaison verify's safety number for the pair, "
             "grouped the same way", f"browser {shown!r} CLI {ver!r} {err}")
        anne_ik, anne_rpps = user_keys(srv, anne_id)
        paul_ik, paul_rpps = user_keys(srv, paul_id)
        expected = safety_number(bytes.fromhex(anne_id or "00" * 16), anne_rpps, anne_ik,
                                 bytes.fromhex(paul_id), paul_rpps, paul_ik) if anne_id else "?"
        t.eq(shown, expected, "... and the number CRYPTO.md §2 gives, recomputed from the server's keys")
        want = qr_modules(node, (ver or {}).get("safety_number") or "")
        qr = values.get("qr") or {}
        drawn = sorted(map(tuple, qr.get("dark") or []))
        t.ok(want.get("n") and qr.get("modules") == want["n"] and qr.get("quiet") == 4
             and drawn == sorted(map(tuple, want.get("dark") or [])),
             "the QR code drawn is, module by module, the one of the CLI's safety number text",
             f"drawn {qr.get('modules')} modules, {len(drawn)} dark; expected {want.get('n')}, "
             f"{len(want.get('dark') or [])} dark {want.get('error', '')}")

        # the server now shows another identity key for the colleague
        new_ik = os.urandom(32)
        srv.db_exec("UPDATE users SET ik = ? WHERE lower(hex(id)) = ?", (new_ik, paul_id))
        values2 = webdrive.phase(t, node, DRIVER, dict(cfg, phase="changed", oldNumber=shown,
                                                       screenshots=None), CHANGED_CHECKS)
        expected2 = safety_number(bytes.fromhex(anne_id or "00" * 16), anne_rpps, anne_ik,
                                  bytes.fromhex(paul_id), paul_rpps, new_ik) if anne_id else "?"
        t.ok(values2.get("number") == expected2 and expected2 != shown,
             "the number shown with the alarm is the new key's (recomputed here), not the old one",
             f"browser {values2.get('number')!r} expected {expected2!r}")
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
