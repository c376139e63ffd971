#!/usr/bin/env python3
"""test_e2e_devices.py — devices and keys over time, through the real CLI
against a real liaisond: the key backup (recovery code shown once, wrong code
refused), a second device of the same professional enrolled with a device
invite and the recovery code (identity key restored, history readable),
sharing to that new device and from it to the user's other device, device
revocation forcing a new group session, and an old-format profile upgraded in
place. TAP on stdout."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 31

CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){13}$")


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
    t.eq(rc, 0, "the GP enrols her first device", err)
    return roux, martin


def texts(obj):
    return [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])
            if m.get("type") == "text"]


def ids(client):
    rc, obj, err = client.json("whoami")
    return (obj or {}).get("user", {}).get("id", ""), (obj or {}).get("device", {}).get("id", "")


def server_sessions(srv, channel):
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        rows = db.execute("SELECT seq, envelope FROM messages WHERE channel_id = ? ORDER BY seq",
                          (bytes.fromhex(channel),)).fetchall()
    finally:
        db.close()
    return [(seq, env[20:52]) for seq, env in rows]


def backup(t, roux, martin):
    rc, obj, err = roux.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    roux.run("channel", "add", channel, "Claire Martin")
    roux.run("send", channel, "Premier message: sortie prévue lundi.")
    rc, out, err = martin.run("send", channel, "Deuxième message: vu, je passe mardi.")
    t.eq(rc, 0, "the GP answers from her first device", err)
    rc, obj, err = martin.json("backup", "setup")
    code = (obj or {}).get("recovery_code", "")
    t.ok(rc == 0 and CODE_RE.match(code), "backup setup shows a recovery code once",
         f"{obj}\n{err}")
    rc, out, err = martin.run("backup", "setup")
    t.ok(rc == 1 and "already set up" in err, "a second setup is refused (no second code)",
         f"rc={rc}\n{out}\n{err}")
    rc, obj, err = martin.json("backup", "status")
    t.ok(rc == 0 and (obj or {}).get("enabled") is True, "backup status: on", f"{obj}\n{err}")
    wrong = "0" * 56
    rc, out, err = martin.run("backup", "restore", "--recovery-code", wrong)
    t.ok(rc == 1 and "recovery code" in err, "a mistyped recovery code is refused clearly",
         f"rc={rc}\n{out}\n{err}")
    rc, obj, err = martin.json("backup", "restore", "--recovery-code", code)
    t.ok(rc == 0 and obj is not None, "restore with the right code works on the same device",
         f"{obj}\n{err}")
    return channel, code


def start_watch(client):
    return subprocess.Popen([harness.LIAISON, "--profile", client.profile, "--json", "watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=client.env(), stdin=subprocess.DEVNULL)


def stop_watch(proc):
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=10 * harness.SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    return rc, proc.stderr.read()


def to_device_count(srv, recipient, sender):
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        return db.execute("SELECT count(*) FROM to_device WHERE recipient_device = ? AND "
                          "sender_device = ?", (bytes.fromhex(recipient),
                                                bytes.fromhex(sender))).fetchone()[0]
    finally:
        db.close()


def second_device(t, srv, channel, code, roux, martin):
    user_id, _ = ids(martin)
    _, roux_device = ids(roux)
    invite = srv.admin("invite", "--user", user_id).strip().splitlines()[-1].strip()
    laptop = Client(srv, "martin-laptop")
    watcher = start_watch(roux)
    time.sleep(2 * harness.SLOW)
    rc, out, err = laptop.run("enrol", "--server", srv.url, "--invite", invite, "--device-name",
                              "portable", "--yes", "--recovery-code", code)
    t.ok(rc == 0 and "Restored" in out, "a second device enrols with a device invite and the "
         "recovery code, and restores the history keys", f"rc={rc}\n{out}\n{err}")
    _, laptop_device = ids(laptop) if rc == 0 else ("", "0" * 32)
    shared = 0
    deadline = time.monotonic() + 10 * harness.SLOW
    while rc == 0 and shared == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        shared = to_device_count(srv, laptop_device, roux_device)
    wrc, werr = stop_watch(watcher)
    harness.sanitizer_check(t, "liaison watch", werr)
    t.ok(shared > 0, "a member's running watch learns of the new device (device_list) and "
         "shares its current session with it", f"{shared}\n{werr}")
    t.eq(wrc, 0, "watch stops cleanly", werr)
    rc, obj, err = laptop.json("whoami")
    t.eq((obj or {}).get("user", {}).get("id"), user_id, "the new device belongs to the same "
         "account", err)
    rc, obj, err = laptop.json("read", channel)
    t.eq(texts(obj), ["Premier message: sortie prévue lundi.",
                      "Deuxième message: vu, je passe mardi."],
         "the new device reads the history from the backup", f"{obj}\n{err}")
    third = "Troisième message, après l'arrivée du portable."
    rc, out, err = roux.run("send", channel, third)
    t.eq(rc, 0, "the hospital doctor sends after the new device appeared", err)
    rc, obj, err = laptop.json("read", channel)
    t.ok(third in texts(obj), "the sender refreshed the device list and shared with the new "
         "device", f"{obj}\n{err}")
    fourth = "Quatrième message, écrit sur le portable."
    rc, out, err = laptop.run("send", channel, fourth)
    t.eq(rc, 0, "the new device sends", err)
    rc, obj, err = martin.json("read", channel)
    t.ok(fourth in texts(obj), "the user's other device reads what the new one sent",
         f"{obj}\n{err}")
    rc, obj, err = roux.json("read", channel)
    t.ok(fourth in texts(obj), "and so does the other member", f"{obj}\n{err}")
    return laptop


def revocation(t, srv, channel, roux, martin, laptop):
    _, laptop_device = ids(laptop)
    before = server_sessions(srv, channel)
    rc, out, err = martin.run("devices", "revoke", laptop_device)
    t.eq(rc, 0, "the GP revokes her laptop from her first device", err)
    rc, out, err = roux.run("send", channel, "Après révocation du portable.")
    t.eq(rc, 0, "the hospital doctor sends after the revocation", err)
    after = server_sessions(srv, channel)
    roux_before = {s for _, s in before}
    t.ok(after and after[-1][1] not in roux_before,
         "a revoked device forces a new group session", repr([s.hex()[:12] for _, s in after]))
    rc, obj, err = martin.json("read", channel)
    t.ok("Après révocation du portable." in texts(obj), "the remaining device reads it",
         f"{obj}\n{err}")


def old_profile(t, srv, roux):
    src = os.path.join(srv.clients_home, "profiles", "roux")
    dst = os.path.join(srv.clients_home, "profiles", "roux-v1")
    shutil.copytree(src, dst)
    old = Client(srv, "roux-v1")
    # a profile of the first format as liaison wrote it then: in the clear,
    # without profile.key (made from a copy of roux's in the clear)
    with harness.profile_sqlite(old, legacy=True) as db:
        # format 3's agreement keys stay: Python cannot seal the AK again under
        # the name "ak_sk" of formats 1-2 (the format-3 step then has nothing to move)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT IN ('meta', 'sealed', "
                                           "'agreement_keys')")]
        for name in tables:
            db.execute(f"DROP TABLE {name}")
        db.execute("DELETE FROM sealed WHERE name NOT IN ('ik_sk', 'dk_sk') "
                   "AND name NOT LIKE 'ak\\_sk:%' ESCAPE '\\'")
        db.execute("PRAGMA user_version = 1")
    db = sqlite3.connect(os.path.join(dst, "profile.db"))
    try:
        names = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        db.close()
    t.ok(names > 0 and not os.path.exists(os.path.join(dst, "profile.key")),
         "the old-format profile is in the clear, without profile.key")
    rc, out, err = old.run("channel", "list")
    t.ok(rc == 0 and "case" in out, "a profile in the first format still works (encrypted "
         "and upgraded in place)", f"rc={rc}\n{out}\n{err}")
    with open(os.path.join(dst, "profile.db"), "rb") as f:
        head = f.read(16)
    t.ok(head != b"SQLite format 3\0" and os.path.exists(os.path.join(dst, "profile.key")),
         "it is now encrypted (no SQLite header in the clear) with its profile.key", repr(head))
    t.ok(sorted(os.listdir(dst)) == ["lock", "profile.db", "profile.key"] or
         set(os.listdir(dst)) <= {"lock", "profile.db", "profile.key", "profile.db-wal",
                                  "profile.db-shm"},
         "no copy in the clear is left behind", repr(os.listdir(dst)))
    with harness.profile_sqlite(old) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    t.eq(version, 6, "the old profile is now in the current format (6)")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        roux, martin = setup(t, srv)
        channel, code = backup(t, roux, martin)
        laptop = second_device(t, srv, channel, code, roux, martin)
        revocation(t, srv, channel, roux, martin, laptop)
        old_profile(t, srv, roux)


if __name__ == "__main__":
    run(main, PLAN)
