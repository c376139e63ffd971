#!/usr/bin/env python3
"""test_web_attach.py — attachments between the browser and the CLI
(docs/WEB.md "Attachments"): a real liaisond serves web/dist; Debian's
Chromium, driven by playwright-core (web_attach.mjs beside this file),
enrols; the CLI adds its user to a care thread and sends a 3 MiB letter with
`liaison send --attach`. In the thread the browser downloads the letter
with the same bytes; uploads a 20 MiB file through the composer's "Joindre
un fichier" with its progress (sent as a "file" message) and downloads it
back with the same bytes; is refused a 50 MiB + 1 byte file before any
request; cancels an upload; refuses the letter once one of its chunks is
altered in the server's database (attachment_chunks), as `liaison get`
does. The CLI reads the browser's "file" message, verified, and `liaison
get` saves the same 20 MiB. The server holds only ciphertext. The upload and
download times of the 20 MiB file are printed (docs/PERFORMANCE.md).

LSN_SCREENSHOTS=DIR: PNGs of the main states there. TAP on stdout."""

import hashlib
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Client, Server, run  # noqa: E402

DRIVER = "web_attach.mjs"
ENROL_CHECKS = 2
MAIN_CHECKS = 15
PLAN = 1 + 1 + ENROL_CHECKS + 2 + MAIN_CHECKS + 6 + 3

WHO = {"name": "Dr Anne Navigateur", "rpps": "10101010105", "org": "CPTS Val de Loire"}
PASSPHRASE = "une phrase de passe de test"
MIB = 1024 * 1024
MARKER = b"COMPTE RENDU D'HOSPITALISATION - M. Lucien Ferrand-Aubry - navigateur"

TAMPER = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
aid = bytes.fromhex(sys.argv[2])
data = db.execute("SELECT data FROM attachment_chunks WHERE attachment_id = ? AND idx = 1",
                  (aid,)).fetchone()[0]
db.execute("UPDATE attachment_chunks SET data = ? WHERE attachment_id = ? AND idx = 1",
           (bytes([data[100] ^ 1]).join([data[:100], data[101:]]), aid))
db.commit()
"""


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", WHO["org"], "--finess", "450000005", "--kind", "cpts")
        srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
                  "hospital")
        code = srv.invite(WHO["rpps"], WHO["name"], "gp", "450000005")
        roux = Client(srv, "roux")
        rc, out, err = roux.enrol(srv.invite("10000000009", "Dr Hélène Roux", "hospital_doctor",
                                             "370000481"))
        t.eq(rc, 0, "the hospital doctor enrols with the CLI", f"{out}\n{err}")

        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(srv, browser, profile, code=code, passphrase=PASSPHRASE,
                                   phase="enrol")
        webdrive.phase(t, node, DRIVER, dict(cfg, screenshots=None), ENROL_CHECKS)

        rc, obj, err = roux.json("channel", "create", "--kind", "case")
        channel = (obj or {}).get("channel", "0" * 32)
        rc2, out, err2 = roux.run("channel", "add", channel, "Anne Navigateur")
        t.ok(rc == 0 and rc2 == 0, "the CLI creates a care thread and adds the browser's user",
             f"{err}\n{out}\n{err2}")

        # the files: 20 MiB with a marker, 50 MiB + 1 byte (sparse), the CLI's letter
        files = os.path.join(srv.tmp, "files")
        os.makedirs(files)
        big = os.path.join(files, "cr-hospitalisation.pdf")
        body = b"%PDF-1.4\n" + MARKER + os.urandom(20 * MIB - 2 * len(MARKER) - 9) + MARKER
        with open(big, "wb") as f:
            f.write(body)
        huge = os.path.join(files, "scanner-complet.pdf")
        with open(huge, "wb") as f:
            f.truncate(50 * MIB + 1)
        letter = os.path.join(files, "lettre de liaison.pdf")
        lbody = b"%PDF-1.4\n" + os.urandom(3 * MIB + 12345)
        with open(letter, "wb") as f:
            f.write(lbody)
        rc, out, err = roux.run("send", channel, "Lettre de liaison jointe", "--attach", letter)
        rc2, obj, err2 = roux.json("read", channel)
        contents = [m.get("content") or {} for m in (obj or {}).get("messages", [])
                    if m.get("type") == "file"]
        content = contents[0] if contents else {}
        t.ok(rc == 0 and rc2 == 0 and content.get("name") == "lettre de liaison.pdf",
             "the CLI sends a 3 MiB file with send --attach", f"{out}\n{err}\n{err2}\n{obj}")
        tamper = [sys.executable, "-c", TAMPER, os.path.join(srv.data, "liaison.db"),
                  content.get("attachment", "0" * 32)]
        values = webdrive.phase(t, node, DRIVER, dict(
            cfg, phase="main", channel=channel, big=big, bigSha256=hashlib.sha256(body).hexdigest(),
            huge=huge, cliContent=content, cliSha256=hashlib.sha256(lbody).hexdigest(),
            tamper=tamper), MAIN_CHECKS, timeout=480)
        t.diag(f"20 MiB in Chromium on loopback: upload {values.get('upload_ms')} ms, "
               f"download {values.get('download_ms')} ms")

        rows = srv.db_exec("SELECT lower(hex(id)), size, chunks, complete FROM attachments")
        mine = [r for r in rows if r[0] == values.get("browser_attachment")]
        t.ok(mine == [(values.get("browser_attachment"), 20 * MIB + 320 * 17, 320, 1)],
             "the server holds the browser's upload: complete, 320 chunks, ciphertext size",
             repr(rows))
        t.ok(not [r for r in rows if r[1] > 50 * MIB + 17 * 801],
             "no attachment of the 50 MiB + 1 byte file reached the server", repr(rows))
        db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
        try:
            leak = db.execute("SELECT count(*) FROM attachment_chunks WHERE instr(data, ?) > 0",
                              (MARKER,)).fetchone()[0]
        finally:
            db.close()
        t.ok(leak == 0, "the server's chunks hold only ciphertext of the browser's file", leak)
        rc, obj, err = roux.json("read", channel)
        sent = [m for m in (obj or {}).get("messages", []) if m.get("type") == "file"
                and (m.get("content") or {}).get("attachment") == values.get("browser_attachment")]
        info = (sent[0].get("content") or {}) if sent else {}
        t.ok(rc == 0 and len(sent) == 1 and sent[0].get("verified") is True
             and sent[0].get("status") == "ok" and info.get("name") == "cr-hospitalisation.pdf"
             and info.get("size") == len(body) and info.get("mime") == "application/pdf"
             and info.get("chunks") == 320,
             "the CLI reads the browser's \"file\" message, verified: name, size, type, chunks",
             f"rc={rc} {json.dumps(sent)[:1200]} {err}")
        dest = os.path.join(files, "recu-du-navigateur.pdf")
        start = time.monotonic()
        rc, out, err = roux.run("get", info.get("attachment", "0" * 32), "-o", dest)
        t.diag(f"the same 20 MiB fetched by liaison get: {(time.monotonic() - start) * 1000:.0f} ms")
        got = open(dest, "rb").read() if os.path.exists(dest) else b""
        t.ok(rc == 0 and hashlib.sha256(got).digest() == hashlib.sha256(body).digest(),
             "liaison get saves the browser's 20 MiB file with the same bytes",
             f"rc={rc} {len(got)} bytes\n{out}\n{err}")
        dest = os.path.join(files, "altere.pdf")
        rc, out, err = roux.run("get", content.get("attachment", "0" * 32), "-o", dest)
        t.ok(rc == 1 and "altered" in err and not os.path.exists(dest),
             "the CLI refuses the same altered chunk (liaison get)", f"rc={rc}\n{out}\n{err}")
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
