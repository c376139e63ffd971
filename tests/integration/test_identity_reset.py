#!/usr/bin/env python3
"""test_identity_reset.py — a professional loses the only device, without a
key backup: `liaisond users` shows the device (id, name, state, last seen),
`liaisond user reset --rpps R` revokes it and prints an invite that enrols a
new identity key for the same account; a contact's client says plainly that
this professional's identity key changed (who, when, what to do) and shares
nothing with the new identity until `liaison verify --accept`; then the new
device reads what is sent. TAP on stdout."""

import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 30

BERNARD_RPPS = "10123456781"
FIRST = "Premier message: sortie prévue jeudi"
SECOND = "Deuxième message, après la remise à zéro"
THIRD = "Troisième message, identité vérifiée"


def backup_rows(srv, user):
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        uid = bytes.fromhex(user)
        return (db.execute("SELECT count(*) FROM backup_identity WHERE user_id = ?",
                           (uid,)).fetchone()[0] +
                db.execute("SELECT count(*) FROM backup_sessions WHERE user_id = ?",
                           (uid,)).fetchone()[0])
    finally:
        db.close()


def bodies(obj):
    return [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "Cabinet Bernard", "--finess", "750012346", "--kind",
              "practice")
    roux = Client(srv, "roux")
    bernard = Client(srv, "bernard")
    rc, out, err = roux.enrol(srv.invite("10101010105", "Dr Hélène Roux", "hospital_doctor",
                                         "370000481"))
    t.eq(rc, 0, "the hospital doctor enrols", err)
    rc, out, err = bernard.enrol(srv.invite(BERNARD_RPPS, "Dr Jean Bernard", "gp", "750012346"),
                                 device_name="poste-cabinet")
    t.eq(rc, 0, "the GP enrols on his only device", err)
    rc, obj, err = roux.json("channel", "create", "--kind", "case", "--topic", "Suivi")
    channel = (obj or {}).get("channel", "0" * 32)
    rc2, out, err2 = roux.run("channel", "add", channel, "Dr Jean Bernard")
    rc3, out, err3 = roux.run("send", channel, FIRST)
    t.ok(rc == 0 and rc2 == 0 and rc3 == 0, "a case channel with both, and a message",
         err + err2 + err3)
    rc, obj, err = bernard.json("read", channel)
    t.ok(FIRST in bodies(obj), "the GP reads it", repr(obj) + err)
    return roux, bernard, channel


def users_list(t, srv, bernard):
    rc, obj, err = bernard.json("whoami")
    user = ((obj or {}).get("user") or {}).get("id")
    device = ((obj or {}).get("device") or {}).get("id")
    out = srv.admin("users")
    line = next((ln for ln in out.splitlines() if device and device in ln), "")
    t.ok(line.strip().startswith(f"device {device}") and "poste-cabinet" in line
         and "active" in line and "last seen 20" in line,
         "liaisond users: the GP's device with its id, name, state and last seen", out)
    users = json.loads(srv.admin("users", "--json"))
    mine = next((u for u in users if u.get("rpps") == BERNARD_RPPS), {})
    devs = mine.get("devices") or []
    t.ok(len(devs) == 1 and devs[0].get("id") == device and devs[0].get("state") == "active"
         and devs[0].get("name") == "poste-cabinet" and devs[0].get("revoked_at") is None
         and isinstance(devs[0].get("last_seen_at"), int),
         "liaisond users --json: the same device, state active", repr(mine))
    return user, device


def reset(t, srv, bernard, user, device):
    rc, obj, err = bernard.json("backup", "setup")
    t.ok(rc == 0 and backup_rows(srv, user) >= 2,
         "the GP had set up a key backup (but lost its recovery code too)", err)
    rc, out, err = srv.admin_run("user", "reset", "--rpps", BERNARD_RPPS)
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    code = next((ln for ln in lines if len(ln) == 29 and ln.count("-") == 5), "")
    t.ok(rc == 0 and "Revoked 1 device(s) of Dr Jean Bernard" in out and code,
         "liaisond user reset revokes the device and prints an invite code", out + err)
    t.ok("NEW IDENTITY" in out and "liaison verify" in out,
         "it says the invite makes a new identity and what the contacts will do", out)
    rc, out2, err2 = srv.admin_run("user", "reset")
    t.eq(rc, 2, "user reset without --rpps or --user is a usage error", out2 + err2)
    t.eq(backup_rows(srv, user), 0,
         "the reset deletes the old key backup (sealed for the old identity)")
    users = json.loads(srv.admin("users", "--json"))
    mine = next((u for u in users if u.get("rpps") == BERNARD_RPPS), {})
    devs = mine.get("devices") or []
    t.ok(len(devs) == 1 and devs[0].get("state") == "revoked"
         and isinstance(devs[0].get("revoked_at"), int),
         "liaisond users --json: the old device is revoked", repr(mine))
    rc, out, err = bernard.run("whoami")
    t.ok(rc == 1 and "revoked" in err, "the old device can no longer log in", err)
    return code


def new_identity(t, srv, code, user, device):
    fresh = Client(srv, "bernard-neuf")
    rc, out, err = fresh.enrol(code, device_name="portable")
    t.eq(rc, 0, "the GP enrols a new device with the reset invite", err)
    t.ok("new identity" in out, "enrol says the account gets a new identity", out)
    rc, obj, err = fresh.json("whoami")
    t.eq(((obj or {}).get("user") or {}).get("id"), user,
         "same account (same user id) as before", repr(obj) + err)
    t.ok(((obj or {}).get("device") or {}).get("id") not in (None, device),
         "on a new device", repr(obj))
    rc, obj, err = fresh.json("backup", "setup")
    t.ok(rc == 0 and len((obj or {}).get("recovery_code", "")) > 20,
         "the new identity sets up its own key backup", repr(obj) + err)
    rc, out, err = Client(srv, "bernard-encore").enrol(code)
    t.ok(rc != 0 and "invite already used" in err, "the reset invite is single use", err)
    return fresh


def contact_told(t, roux, fresh, channel, user):
    rc, out, err = roux.run("send", channel, SECOND)
    t.eq(rc, 0, "the hospital doctor still sends to the channel", err)
    t.ok("WARNING: the identity key of Dr Jean Bernard" in err and "changed (seen on 20" in err
         and f"liaison verify {user} --accept" in err and "a new device after a loss" in err,
         "her client says plainly whose identity changed, since when, and what to do", err)
    rc, out, err = roux.run("read", channel)
    t.ok("WARNING: the identity key of Dr Jean Bernard" in out,
         "reading the thread warns the same way", out)
    rc, obj, err = fresh.json("read", channel)
    t.ok(SECOND not in bodies(obj), "nothing was shared with the new identity before the check",
         repr(obj))
    rc, obj, err = roux.json("verify", user, "--accept")
    t.eq(rc, 0, "after comparing safety numbers she accepts the new identity", err)
    rc, out, err = roux.run("send", channel, THIRD)
    t.ok(rc == 0 and "WARNING" not in err, "the next message goes without warning", err)
    rc, obj, err = fresh.json("read", channel)
    t.ok(THIRD in bodies(obj), "and the GP's new device reads it", repr(obj) + err)


def main(t):
    harness.require_programs(t)
    with Server(t) as srv:
        roux, bernard, channel = setup(t, srv)
        user, device = users_list(t, srv, bernard)
        code = reset(t, srv, bernard, user, device)
        fresh = new_identity(t, srv, code, user, device)
        contact_told(t, roux, fresh, channel, user)


if __name__ == "__main__":
    run(main, PLAN)
