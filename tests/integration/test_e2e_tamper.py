#!/usr/bin/env python3
"""test_e2e_tamper.py — what a malicious or broken server cannot do to an
end-to-end encrypted channel, acted out by editing the server's database
directly (sqlite3, as an attacker with the server's disk would):

- a member inserted into channel_members behind the signed membership log
  receives no keys, cannot read anything, and every member's client shows the
  channel as INVALID with the reason (sending is refused);
- a user's identity key swapped on the server is detected by the peers' pins:
  a loud warning, no key shared with that user (their client says the key was
  withheld), verify shows the change; restoring the key restores sharing.
TAP on stdout."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 25


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    people = {}
    for profile, rpps, name, prof, org in [
            ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481"),
            ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005"),
            ("eve", None, "Eve Intruse", "secretary", "450000005")]:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, prof, org))
        t.eq(rc, 0, f"{name} enrols", err)
        people[profile] = c
    return people


def whoami(client):
    rc, obj, err = client.json("whoami")
    user = (obj or {}).get("user", {})
    return user.get("id", ""), (obj or {}).get("device", {}).get("id", "")


def texts(obj):
    return [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]


def inserted_member(t, srv, roux, martin, eve):
    rc, obj, err = roux.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    roux.run("channel", "add", channel, "Claire Martin")
    secret = "Compte rendu: patiente sous anticoagulant, adresse 12 rue des Lilas."
    rc, out, err = roux.run("send", channel, secret)
    t.eq(rc, 0, "a message is sent in a valid channel", err)
    eve_id, eve_device = whoami(eve)
    srv.db_exec("INSERT INTO channel_members (channel_id, user_id, role, since_log_seq, "
            "left_msg_seq) VALUES (?, ?, 'member', 0, NULL)",
            (bytes.fromhex(channel), bytes.fromhex(eve_id)))
    rows = srv.db_exec("SELECT count(*) FROM channel_members WHERE channel_id = ? AND user_id = ? "
                   "AND left_msg_seq IS NULL", (bytes.fromhex(channel), bytes.fromhex(eve_id)))
    t.eq(rows[0][0], 1, "Eve is inserted into channel_members directly in the server database")

    rc, out, err = roux.run("send", channel, "Second message after the intrusion")
    t.ok(rc == 1 and "INVALID" in err and "Eve Intruse" in err and "signed membership log" in err,
         "the sender's client refuses to send: the channel is INVALID, Eve named",
         f"rc={rc}\n{out}\n{err}")
    rows = srv.db_exec("SELECT count(*) FROM to_device WHERE recipient_device = ?",
                   (bytes.fromhex(eve_device),))
    t.eq(rows[0][0], 0, "no key share was queued for Eve's device")
    rc, out, err = martin.run("read", channel)
    t.ok(rc == 0 and "INVALID" in out and "Eve Intruse" in out and secret in out,
         "a member's client shows the channel as INVALID with the reason (and keeps history)",
         f"{out}\n{err}")
    rc, obj, err = martin.json("channel", "list")
    entry = next((c for c in (obj or {}).get("channels", []) if c.get("channel") == channel), {})
    t.ok(entry.get("valid") is False and "behind the log" in (entry.get("reason") or ""),
         "channel list --json reports it invalid, with the reason", f"{entry}")

    rc, obj, err = eve.json("read", channel)
    msgs = (obj or {}).get("messages", [])
    t.ok(rc == 0 and msgs and all(m.get("status") != "ok" for m in msgs)
         and secret not in str(obj),
         "Eve fetches the envelopes but decrypts nothing", f"{obj}\n{err}")
    t.ok(all("waiting for the key" in (m.get("detail") or "") for m in msgs),
         "Eve's client says why: waiting for the key", f"{msgs}")
    _, roux_device = whoami(roux)
    queued = srv.db_exec("SELECT count(*) FROM to_device WHERE recipient_device = ?",
                     (bytes.fromhex(roux_device),))[0][0]
    t.ok(queued > 0, "Eve's client sent a key request to the sender's device", f"{queued}")
    roux.run("read", channel)  # roux's client takes Eve's key request (and refuses it)
    queued = srv.db_exec("SELECT count(*) FROM to_device WHERE recipient_device = ?",
                     (bytes.fromhex(roux_device),))[0][0]
    t.eq(queued, 0, "the sender's client took the request (and acknowledged it)")
    rc, obj, err = eve.json("read", channel)
    t.ok(secret not in str(obj) and all(m.get("status") != "ok"
                                        for m in (obj or {}).get("messages", [])),
         "Eve's key request is not answered: still nothing readable", f"{obj}")
    srv.db_exec("DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?",
            (bytes.fromhex(channel), bytes.fromhex(eve_id)))
    rc, out, err = roux.run("send", channel, "The intruder row is gone.")
    t.eq(rc, 0, "once the server's member list agrees with the log again, sending works",
         f"{out}\n{err}")
    return channel


def swapped_identity(t, srv, channel, roux, martin):
    martin_id, _ = whoami(martin)
    original = srv.db_exec("SELECT ik FROM users WHERE id = ?", (bytes.fromhex(martin_id),))[0][0]
    srv.db_exec("UPDATE users SET ik = ? WHERE id = ?", (os.urandom(32), bytes.fromhex(martin_id)))
    hidden = "Résultat biologique confidentiel: créatinine 180."
    rc, out, err = roux.run("send", channel, hidden)
    t.ok(rc == 0 and "WARNING: the identity key of Dr Claire Martin" in err
         and "changed (seen on" in err and "liaison verify" in err,
         "a changed identity key: loud warning, the message goes to the others only",
         f"rc={rc}\n{out}\n{err}")
    rc, obj, err = roux.json("verify", "Claire Martin")
    t.ok(rc == 0 and (obj or {}).get("identity_key_changed") is True,
         "verify shows the identity key changed", f"{obj}\n{err}")
    rc, out, err = roux.run("read", channel)
    t.ok(rc == 0 and "WARNING: the identity key of Dr Claire Martin" in out,
         "read warns loudly about the changed identity key", f"{out}\n{err}")
    rc, obj, err = martin.json("read", channel)
    msg = next((m for m in (obj or {}).get("messages", []) if m.get("status") != "ok"), {})
    t.ok(hidden not in str(obj) and msg.get("status") == "withheld"
         and "identity key changed" in (msg.get("detail") or ""),
         "the GP's client says the key was withheld, and why", f"{obj}\n{err}")
    srv.db_exec("UPDATE users SET ik = ? WHERE id = ?", (original, bytes.fromhex(martin_id)))
    after = "Identité rétablie, nouveau message."
    rc, out, err = roux.run("send", channel, after)
    t.ok(rc == 0 and "WARNING" not in err, "the pinned key is back: no warning", err)
    rc, obj, err = martin.json("read", channel)
    t.ok(after in texts(obj), "and the GP reads the new message", f"{obj}\n{err}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        p = setup(t, srv)
        channel = inserted_member(t, srv, p["roux"], p["martin"], p["eve"])
        swapped_identity(t, srv, channel, p["roux"], p["martin"])


if __name__ == "__main__":
    run(main, PLAN)
