#!/usr/bin/env python3
"""test_profile_at_rest.py — a stolen profile shows nothing but its own
existence (docs/THREAT-MODEL.md, "laptop thief"). Four professionals enrol,
a discharge opens a case, messages are exchanged, and the GP's `watch` runs
on her profile while others post (so its WAL and shared-memory files exist);
then every file of each profile directory (profile.db, -wal, -shm,
profile.key, lock, anything else) is searched, byte for byte, for every
name, RPPS, device name, user, device and channel id (hex and raw), case
reference, message body and message time (decimal and as SQLite stores an
integer) the server knows of: none is found, while the same search finds
them in a copy of the database in the clear (the search can fail). liaison
links libsqlcipher and not libsqlite3; liaisond the opposite. sqlite3
and Python's sqlite3 cannot open profile.db; profile.key holds only the
format line and the key derivation parameters. A passphrase change
re-encrypts the pages (the old key no longer opens the database).
--passphrase-file and --new-passphrase-file refuse a file other users may
read or write, saying `chmod 600 FILE`, and accept it at mode 600.
TAP on stdout."""

import datetime
import json
import os
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 46

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")
TODAY = harness.server_today()
NEW_PASS = "une autre phrase secrète"

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
]
BODIES = ["Poids en hausse de 2 kg depuis hier, dyspnée.", "Je passe demain matin."]
LIVE = "Message reçu pendant que watch tourne."
KEY_LINE = re.compile(r"argon2id13 [0-9]+ [0-9]+ [0-9a-f]{32}")


def enrol_all(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346", "--kind",
              "pharmacy")
    clients = {}
    for profile, rpps, name, profession, org, roles in PEOPLE:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, profession, org, roles=roles),
                               device_name=f"poste-{profile}-cabinet")
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
        clients[profile] = c
    return clients


def discharge(t, srv, c):
    with open(SAMPLE, encoding="utf-8") as f:
        notice = json.load(f)
    notice["patient"] = {"family_name": "LEMAIRE", "given_names": "Odette", "birth_date":
                         "1948-03-12", "sex": "F", "ins": "2 48 03 45 234 056 72"}
    notice["admission_date"] = str(TODAY - datetime.timedelta(days=5))
    path = os.path.join(srv.tmp, "notice.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    rc, out, err = c["roux"].run("discharge", "--pathway", "hospital_discharge", "--gp",
                                 "Claire Martin", "--pharmacist", "Paul Durand", "--nurse",
                                 "Julie Bernard", "--notice", path, "--date", str(TODAY))
    t.eq(rc, 0, "the hospital doctor posts a discharge (a case)", f"{out}\n{err}")
    channel = re.search(r"Channel:\s+([0-9a-f]{32})", out)
    return channel.group(1) if channel else "0" * 32


class Watch:
    """liaison --json watch on a profile, its output read by a thread."""

    def __init__(self, client):
        self.proc = subprocess.Popen([harness.LIAISON, "--profile", client.profile, "--json",
                                      "watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=client.env(), stdin=subprocess.DEVNULL)
        self.lines = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text, seconds):
        deadline = time.monotonic() + seconds * harness.SLOW
        while time.monotonic() < deadline:
            if any(text in json.dumps(json.loads(l), ensure_ascii=False)
                   for l in list(self.lines) if l.startswith("{")):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=15 * harness.SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=5)
        return rc


def secrets(srv):
    """{category: [(label, [needle bytes, ...]), ...]} of what the server knows."""
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        users = db.execute("SELECT id, rpps, name FROM users").fetchall()
        devices = db.execute("SELECT id, name FROM devices").fetchall()
        channels = [r[0] for r in db.execute("SELECT id FROM channels")]
        times = [r[0] for r in db.execute("SELECT ts FROM messages")]
        refs = [r[0] for r in db.execute("SELECT patient_ref FROM cases")]
    finally:
        db.close()

    def ident(raw):
        raw = bytes(raw)
        return [raw, raw.hex().encode(), raw.hex().upper().encode()]

    def when(ms):
        # as text, and as SQLite's record format stores it (6 or 8 bytes big-endian)
        return [str(ms).encode(), struct.pack(">q", ms)[2:], struct.pack(">q", ms)]

    return {
        "name": [(n, [n.encode()]) for _, _, n in users] + [("LEMAIRE", [b"LEMAIRE"])],
        "RPPS": [(r, [r.encode()]) for _, r, _ in users if r],
        "device name": [(n, [n.encode()]) for _, n in devices],
        "user id": [(bytes(u).hex(), ident(u)) for u, _, _ in users],
        "device id": [(bytes(d).hex(), ident(d)) for d, _ in devices],
        "channel id": [(bytes(c).hex(), ident(c)) for c in channels],
        "message time": [(str(ms), when(ms)) for ms in times],
        "case reference": [(r, [r.encode()]) for r in refs],
        "message body": [(b, [b.encode()]) for b in BODIES + [LIVE]],
    }


def found(blobs, needles):
    return [label for label, forms in needles if any(f in b for b in blobs for f in forms)]


def profile_files(srv, who):
    pdir = os.path.join(srv.clients_home, "profiles", who)
    out = {}
    for root, _, files in os.walk(pdir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                out[os.path.relpath(os.path.join(root, name), pdir)] = f.read()
    return out


def search(t, srv, c, who, when):
    files = profile_files(srv, who)
    blobs = list(files.values())
    leaks = {cat: found(blobs, needles) for cat, needles in secrets(srv).items()}
    leaks = {k: v for k, v in leaks.items() if v}
    t.ok(not leaks, f"{who}'s profile files {when} ({', '.join(sorted(files))}) hold no name, "
         "RPPS, device name, id, case reference, body or message time", repr(leaks))
    return files


def control(t, srv, c, who):
    """The same search finds them in a copy in the clear: it can fail."""
    with harness.profile_sqlite(c[who]) as db:
        db.execute("SELECT 1")
        path = db.execute("PRAGMA database_list").fetchone()[2]
        with open(path, "rb") as f:
            clear = [f.read()]
    for cat in ("name", "RPPS", "device name", "user id", "device id", "channel id",
                "message time"):
        hits = found(clear, secrets(srv)[cat])
        t.ok(hits, f"control: the copy in the clear of {who}'s database holds a {cat}", cat)


def cannot_open(t, srv, who):
    path = os.path.join(srv.clients_home, "profiles", who, "profile.db")
    if not shutil.which("sqlite3"):
        t.ok(False, f"sqlite3 cannot open {who}'s profile.db",
             "the sqlite3 program is missing (Debian package sqlite3, in ./dev)")
    else:
        res = subprocess.run(["sqlite3", path, "SELECT count(*) FROM sqlite_master"],
                             capture_output=True, text=True)
        t.ok(res.returncode != 0 and "not a database" in res.stderr,
             f"sqlite3 cannot open {who}'s profile.db", f"rc={res.returncode} {res.stdout} "
             f"{res.stderr}")
    db = sqlite3.connect(path)
    try:
        db.execute("SELECT * FROM sqlite_master").fetchall()
        opened = True
    except sqlite3.DatabaseError:
        opened = False
    finally:
        db.close()
    t.ok(not opened, f"nor can Python's sqlite3")
    with open(os.path.join(os.path.dirname(path), "profile.key"), encoding="ascii") as f:
        lines = f.read().splitlines()
    t.ok(len(lines) == 2 and lines[0] == "liaison-profile-key 1" and KEY_LINE.fullmatch(lines[1]),
         "profile.key holds the format line and the key derivation parameters, nothing else",
         repr(lines))


def passphrase_files(t, srv, c):
    bernard = c["bernard"]
    path = os.path.join(srv.tmp, "bernard.pass")
    with open(path, "w", encoding="utf-8") as f:
        f.write(bernard.passphrase + "\n")
    for mode in (0o644, 0o640, 0o604, 0o660):
        os.chmod(path, mode)
        rc, out, err = bernard.run("--passphrase-file", path, "whoami",
                                   env={"LIAISON_PASSPHRASE": None})
        t.ok(rc != 0 and f"chmod 600 {path}" in err and "Julie" not in out,
             f"--passphrase-file at mode {mode:03o} is refused, saying chmod 600 FILE",
             f"rc={rc}\n{out}\n{err}")
    os.chmod(path, 0o600)
    rc, out, err = bernard.run("--passphrase-file", path, "whoami", env={"LIAISON_PASSPHRASE": None})
    t.ok(rc == 0 and "Julie Bernard" in out, "at mode 600 it is read", f"rc={rc}\n{out}\n{err}")
    new = os.path.join(srv.tmp, "bernard.new")
    with open(new, "w", encoding="utf-8") as f:
        f.write(NEW_PASS + "\n")
    os.chmod(new, 0o644)
    rc, out, err = bernard.run("passphrase", "--new-passphrase-file", new)
    t.ok(rc != 0 and f"chmod 600 {new}" in err, "--new-passphrase-file at mode 644 is refused too",
         f"rc={rc}\n{out}\n{err}")
    return new


def rekey(t, srv, c, new):
    bernard = c["bernard"]
    pdir = os.path.join(srv.clients_home, "profiles", "bernard")
    old_copy = tempfile.mkdtemp(dir=srv.tmp)
    shutil.copy(os.path.join(pdir, "profile.key"), old_copy)
    os.chmod(new, 0o600)
    rc, out, err = bernard.run("passphrase", "--new-passphrase-file", new)
    t.ok(rc == 0 and "is changed" in out, "liaison passphrase with a file at mode 600",
         f"rc={rc}\n{out}\n{err}")
    # the database after the change, with the parameters and passphrase of before
    for name in os.listdir(pdir):
        if name.startswith("profile.db"):
            shutil.copy(os.path.join(pdir, name), old_copy)
    res = subprocess.run([harness.PROFILE_TOOL, "clear", old_copy, os.path.join(old_copy, "x")],
                         env=dict(os.environ, LIAISON_PASSPHRASE=bernard.passphrase),
                         capture_output=True, text=True)
    t.ok(res.returncode != 0, "the database key of the old passphrase no longer opens it "
         "(its pages were encrypted again)", res.stderr)
    with open(os.path.join(pdir, "profile.key"), encoding="ascii") as f:
        lines = f.read().splitlines()
    t.ok(len(lines) == 2, "profile.key holds one parameter line again after the change",
         repr(lines))
    rc, out, err = bernard.run("channel", "list")
    t.ok(rc != 0 and "wrong passphrase" in err, "the old passphrase is refused", err)
    bernard.passphrase = NEW_PASS
    rc, out, err = bernard.run("channel", "list")
    t.ok(rc == 0, "the new one opens the profile", f"{out}\n{err}")


def linked(t):
    """liaison links SQLCipher and not SQLite as well (their sqlite3_* symbols
    are the same: one would shadow the other); liaisond keeps SQLite."""
    libs = {}
    for name, path in (("liaison", harness.LIAISON), ("liaisond", harness.LIAISOND)):
        res = subprocess.run(["ldd", path], capture_output=True, text=True)
        libs[name] = {lib for lib in ("libsqlcipher", "libsqlite3") if lib + ".so" in res.stdout}
    t.ok(libs["liaison"] == {"libsqlcipher"}, "liaison links libsqlcipher, not libsqlite3",
         repr(libs))
    t.ok(libs["liaisond"] == {"libsqlite3"}, "liaisond links libsqlite3 only", repr(libs))


def main(t):
    if not harness.require_programs(t):
        return
    linked(t)
    with Server(t) as srv:
        c = enrol_all(t, srv)
        channel = discharge(t, srv, c)
        for who, body in zip(("roux", "bernard"), BODIES):
            rc, out, err = c[who].run("send", channel, body)
            t.eq(rc, 0, f"{who} sends in the case thread", err)
        for who in ("martin", "durand"):
            rc, out, err = c[who].run("read", channel)
            t.ok(rc == 0 and BODIES[0] in out, f"{who} reads the thread", f"{out}\n{err}")
        watch = Watch(c["martin"])
        try:
            time.sleep(1.0 * harness.SLOW)
            rc, out, err = c["roux"].run("send", channel, LIVE)
            t.eq(rc, 0, "the doctor posts while the GP's watch runs", err)
            t.ok(watch.wait_for(LIVE, 30), "the GP's watch shows it (and stores it)")
            rc, out, err = c["martin"].run("read", channel)
            t.ok(rc == 0 and LIVE in out, "the GP reads beside her watch (one profile, two "
                 "processes, WAL)", f"{out}\n{err}")
            files = search(t, srv, c, "martin", "while watch runs")
            t.ok(any(n.endswith("-wal") for n in files), "(the WAL file was there to search)",
                 repr(sorted(files)))
        finally:
            rc = watch.stop()
        t.eq(rc, 0, "watch stops cleanly")
        for who in ("martin", "roux", "bernard", "durand"):
            search(t, srv, c, who, "after use")
        control(t, srv, c, "martin")
        cannot_open(t, srv, "martin")
        new = passphrase_files(t, srv, c)
        rekey(t, srv, c, new)


if __name__ == "__main__":
    run(main, PLAN)
