#!/usr/bin/env python3
"""test_e2e_attach.py — documents in an encrypted care thread, through the
real CLI against a real liaisond: a discharge letter is sent with
send --attach, the other member downloads it with get and obtains the same
bytes; the server stores only ciphertext; a chunk altered on the server, or a
missing end, is detected and nothing is saved; an existing file is never
overwritten; an empty file works. TAP on stdout."""

import glob
import hashlib
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 17

MARKER = b"LETTRE DE SORTIE - Mme Odette Vasseur-Lambert - fraction d'ejection 35%"


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    roux, martin = Client(srv, "roux"), Client(srv, "martin")
    rc, _, err = roux.enrol(srv.invite("10101010105", "Dr Hélène Roux", "hospital_doctor",
                                       "370000481"))
    t.eq(rc, 0, "the hospital doctor enrols", err)
    rc, _, err = martin.enrol(srv.invite("10000000009", "Dr Claire Martin", "gp", "450000005"))
    t.eq(rc, 0, "the GP enrols", err)
    rc, obj, err = roux.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    rc, _, err = roux.run("channel", "add", channel, "Claire Martin")
    t.eq(rc, 0, "case channel with both", err)
    return roux, martin, channel


def files_of(obj):
    return [m.get("content") or {} for m in (obj or {}).get("messages", [])
            if m.get("type") == "file"]


def send_and_get(t, srv, roux, martin, channel, workdir):
    letter = os.path.join(workdir, "lettre-sortie.pdf")
    body = b"%PDF-1.4\n" + MARKER + b"\n" + os.urandom(200 * 1024) + MARKER
    with open(letter, "wb") as f:
        f.write(body)
    rc, out, err = roux.run("send", channel, "Lettre de sortie jointe", "--attach", letter)
    t.eq(rc, 0, "send --attach uploads a 200 KiB letter", f"{out}\n{err}")
    rc, obj, err = martin.json("read", channel)
    files = files_of(obj)
    info = files[0] if files else {}
    t.ok(info.get("name") == "lettre-sortie.pdf" and info.get("size") == len(body)
         and info.get("mime") == "application/pdf" and info.get("caption") == "Lettre de sortie jointe",
         "the GP sees the file: name, size, type and caption", f"{obj}\n{err}")
    rc, out, err = martin.run("read", channel)
    t.ok("[file] lettre-sortie.pdf" in out and info.get("attachment", "?") in out,
         "read shows the file and how to get it", out)
    attachment = info.get("attachment", "0" * 32)
    dest = os.path.join(workdir, "recu.pdf")
    rc, out, err = martin.run("get", attachment, "-o", dest)
    got = open(dest, "rb").read() if os.path.exists(dest) else b""
    t.ok(rc == 0 and hashlib.sha256(got).digest() == hashlib.sha256(body).digest(),
         "get decrypts the same bytes", f"rc={rc}\n{out}\n{err}")
    rc, out, err = martin.run("get", attachment, "-o", dest)
    t.ok(rc == 1 and "exists" in err, "get never overwrites a file", f"rc={rc}\n{err}")
    leaks = [p for p in glob.glob(os.path.join(srv.data, "*"))
             if MARKER in open(p, "rb").read()]
    t.ok(not leaks, "the server stores only ciphertext of the letter", repr(leaks))
    return attachment, body


def tampering(t, srv, martin, attachment, workdir):
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        aid = bytes.fromhex(attachment)
        data = db.execute("SELECT data FROM attachment_chunks WHERE attachment_id = ? AND "
                          "idx = 1", (aid,)).fetchone()[0]
        altered = bytes([data[0] ^ 1]) + data[1:]
        db.execute("UPDATE attachment_chunks SET data = ? WHERE attachment_id = ? AND idx = 1",
                   (altered, aid))
        db.commit()
        dest = os.path.join(workdir, "altere.pdf")
        rc, out, err = martin.run("get", attachment, "-o", dest)
        t.ok(rc == 1 and "altered" in err and not os.path.exists(dest)
             and not os.path.exists(dest + ".part"),
             "a chunk altered on the server is detected and nothing is saved",
             f"rc={rc}\n{out}\n{err}")
        db.execute("UPDATE attachment_chunks SET data = ? WHERE attachment_id = ? AND idx = 1",
                   (data, aid))
        last = db.execute("SELECT max(idx) FROM attachment_chunks WHERE attachment_id = ?",
                          (aid,)).fetchone()[0]
        db.execute("UPDATE attachments SET chunks = chunks - 1 WHERE id = ?", (aid,))
        db.execute("DELETE FROM attachment_chunks WHERE attachment_id = ? AND idx = ?",
                   (aid, last))
        db.commit()
    finally:
        db.close()
    dest = os.path.join(workdir, "tronque.pdf")
    rc, out, err = martin.run("get", attachment, "-o", dest)
    t.ok(rc == 1 and not os.path.exists(dest), "a truncated file is detected and not saved",
         f"rc={rc}\n{out}\n{err}")


def empty_file(t, roux, martin, channel, workdir):
    empty = os.path.join(workdir, "vide.txt")
    open(empty, "wb").close()
    rc, out, err = roux.run("send", channel, "--attach", empty)
    t.eq(rc, 0, "an empty file can be sent", err)
    rc, obj, err = martin.json("read", channel)
    info = next((f for f in files_of(obj) if f.get("name") == "vide.txt"), {})
    dest = os.path.join(workdir, "vide-recu.txt")
    rc, out, err = martin.run("get", info.get("attachment", "0" * 32), "-o", dest)
    t.ok(rc == 0 and os.path.exists(dest) and os.path.getsize(dest) == 0,
         "and received empty", f"rc={rc}\n{out}\n{err}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        workdir = os.path.join(srv.tmp, "files")
        os.makedirs(workdir)
        roux, martin, channel = setup(t, srv)
        attachment, _ = send_and_get(t, srv, roux, martin, channel, workdir)
        tampering(t, srv, martin, attachment, workdir)
        empty_file(t, roux, martin, channel, workdir)


if __name__ == "__main__":
    run(main, PLAN)
