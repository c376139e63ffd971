#!/usr/bin/env python3
"""test_e2e_thread.py — an end-to-end encrypted care thread through the real
liaison CLI against a real liaisond: a hospital doctor, a GP and a pharmacist
create a case channel, add each other, send, read, reply; receipts are shown;
a professional added later reads the history ("history shared by"); watch
shows live messages; a second liaison process on a watched profile is refused;
safety numbers match on both sides; a removed member cannot read what is sent
after the removal and their client says why. TAP on stdout."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 47
TOPIC = "Mme Jeanne Dupont, sortie cardio 12/03"
PEOPLE = [  # profile, RPPS, name, profession, FINESS of the organisation
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005"),
]


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346", "--kind",
              "pharmacy")
    clients = {}
    for profile, rpps, name, profession, org in PEOPLE:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, profession, org))
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
        clients[profile] = c
    return clients


def ok_run(t, client, name, *args, **kw):
    rc, out, err = client.run(*args, **kw)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out, err


def run_stdin(client, text, *args):
    """The CLI with text on its standard input: (returncode, stdout, stderr)."""
    res = subprocess.run([harness.LIAISON, "--profile", client.profile] + list(args),
                         input=text, capture_output=True, text=True, env=client.env(),
                         timeout=120 * harness.SLOW)
    harness.sanitizer_check(client.server.t, "liaison " + " ".join(args), res.stderr)
    return res.returncode, res.stdout, res.stderr


def read_json(client, channel):
    rc, obj, err = client.json("read", channel, "--limit", "1000")
    return rc, obj or {}, err


def bodies(obj):
    return [(m.get("content") or {}).get("body") for m in obj.get("messages", [])
            if m.get("type") == "text"]


def create_and_add(t, roux, martin, durand):
    rc, obj, err = roux.json("channel", "create", "--kind", "case", "--topic", TOPIC)
    t.ok(rc == 0 and obj and len(obj.get("channel", "")) == 32 and obj.get("history") == "shared",
         "channel create --kind case: a channel id, history shared by default", f"{obj}\n{err}")
    channel = (obj or {}).get("channel", "0" * 32)
    out, _ = ok_run(t, roux, "add the GP by name", "channel", "add", channel, "Claire Martin")
    t.ok("Dr Claire Martin" in out, "add says who was added", out)
    ok_run(t, roux, "add the pharmacist by RPPS", "channel", "add", channel, "10123456781")
    rc, out, err = roux.run("channel", "add", channel, "Dr")
    t.ok(rc == 2 and "Dr Claire Martin" in err and "Dr Hélène Roux" in err,
         "an ambiguous USER lists the candidates and exits 2", f"rc={rc}\n{out}\n{err}")
    rc, obj, err = martin.json("channel", "members", channel)
    names = sorted(m.get("name", "") for m in (obj or {}).get("members", []))
    t.ok(rc == 0 and obj.get("valid") is True and len(names) == 3
         and any("Paul Durand" in n for n in names),
         "members: three verified members, seen by the GP", f"{obj}\n{err}")
    return channel


def conversation(t, channel, roux, martin, durand):
    first = "Patiente sortie ce jour. Bisoprolol 2,5 mg le matin, contrôle INR à J3."
    ok_run(t, roux, "the hospital doctor sends", "send", channel, first)
    rc, obj, err = read_json(martin, channel)
    t.ok(rc == 0 and first in bodies(obj) and obj.get("topic") == TOPIC,
         "the GP reads the message and the encrypted topic", f"{obj}\n{err}")
    reply = "Bien reçu, je la vois jeudi au cabinet."
    rc, out, err = run_stdin(martin, reply + "\n", "send", channel)
    t.eq(rc, 0, "the GP replies (text on stdin)", f"{out}\n{err}")
    rc, obj, err = read_json(durand, channel)
    t.eq(bodies(obj), [first, reply], "the pharmacist reads both, in order", err)
    msgs = obj.get("messages", [])
    sender = next((m.get("sender_name", "") for m in msgs
                   if (m.get("content") or {}).get("body") == reply), "")
    t.ok("Dr Claire Martin" in sender and "généraliste" in sender,
         "sender shown with name and profession", sender)
    rc, out, err = roux.run("read", channel)
    t.ok(rc == 0 and reply in out and "read by" in out and "Paul Durand" in out,
         "the sender sees 'read by' receipts in the thread", f"{out}\n{err}")
    rc, obj, err = read_json(roux, channel)
    mine = next((m for m in obj.get("messages", []) if (m.get("content") or {}).get("body") == first),
                {})
    readers = " ".join(mine.get("read_by", []))
    t.ok("Claire Martin" in readers and "Paul Durand" in readers,
         "read --json: the first message was read by the GP and the pharmacist", f"{mine}")
    return first, reply


def late_joiner(t, channel, roux, bernard, first):
    ok_run(t, roux, "the home nurse is added after the discharge", "channel", "add", channel,
           "Julie Bernard")
    rc, obj, err = read_json(bernard, channel)
    msgs = obj.get("messages", [])
    old = next((m for m in msgs if (m.get("content") or {}).get("body") == first), {})
    t.ok(rc == 0 and old.get("status") == "ok", "the newcomer decrypts the earlier history",
         f"{obj}\n{err}")
    t.ok("Hélène Roux" in (old.get("history_shared_by") or ""),
         "the newcomer's client says: history shared by the adder", f"{old}")
    rc, out, err = bernard.run("read", channel)
    t.ok("history shared by Dr Hélène Roux" in out, "read shows 'history shared by <adder>'",
         out)


def from_join(t, roux, martin):
    rc, obj, err = roux.json("channel", "create", "--kind", "direct")
    t.ok(rc == 0 and (obj or {}).get("history") == "from_join",
         "a direct channel defaults to history from_join", f"{obj}\n{err}")
    rc, obj, err = roux.json("channel", "create", "--kind", "team", "--history", "from_join")
    channel = (obj or {}).get("channel", "0" * 32)
    before = "Réunion d'équipe: point sur les sorties de la semaine."
    roux.run("send", channel, before)
    roux.run("channel", "add", channel, "Claire Martin")
    after = "Bienvenue dans l'équipe."
    roux.run("send", channel, after)
    rc, obj, err = read_json(martin, channel)
    msgs = {(m.get("content") or {}).get("body") or m.get("detail"): m
            for m in obj.get("messages", [])}
    t.ok(after in msgs and before not in json.dumps(obj, ensure_ascii=False),
         "history from_join: a newcomer reads what follows their arrival, not what precedes",
         f"{obj}\n{err}")
    t.ok(any("before" in (m.get("detail") or "") and "not shared" in (m.get("detail") or "")
             for m in obj.get("messages", [])),
         "and their client says why the earlier message cannot be read", f"{obj}")


def watch_and_lock(t, srv, channel, roux, martin, durand):
    proc = subprocess.Popen([harness.LIAISON, "--profile", "durand", "--json", "watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=durand.env(), stdin=subprocess.DEVNULL)
    try:
        time.sleep(3 * harness.SLOW)
        rc, out, err = durand.run("read", channel)
        t.ok(rc == 0 and "in use" not in err and "busy" not in err,
             "a second liaison process on a watched profile runs beside it (read)",
             f"rc={rc}\n{out}\n{err}")
        live = "Ordonnance transmise à la pharmacie, délivrance demain."
        ok_run(t, martin, "the GP sends while the pharmacist watches", "send", channel, live)
        ok_run(t, roux, "the hospital doctor makes the GP an admin meanwhile", "channel",
               "role", channel, "Claire Martin", "admin")
        ok_run(t, roux, "and reads the thread (a read receipt)", "read", channel)
        seen = {}
        deadline = time.monotonic() + 20 * harness.SLOW
        while time.monotonic() < deadline and len(seen) < 3:
            line = proc.stdout.readline()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            kind = ev.get("event")
            if kind == "message" and (ev.get("content") or {}).get("body") == live:
                seen["message"] = ev
            elif kind == "membership" and (ev.get("entry") or {}).get("action") == "role":
                seen["membership"] = ev
            elif kind == "receipt" and ev.get("kind") == "read":
                seen["receipt"] = ev
        t.ok("message" in seen, "watch prints the new message decrypted, live", f"{seen}")
        t.ok("membership" in seen and seen["membership"].get("valid") is True,
             "watch shows the membership change, re-verified", f"{seen}")
        t.ok("receipt" in seen, "watch shows read receipts", f"{seen}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=10 * harness.SLOW)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        err = proc.stderr.read()
    t.eq(rc, 0, "watch stops cleanly on Ctrl-C (SIGINT)", err)
    t.ok(not harness.BAD_LOG.search(err or ""), "watch printed no sanitizer report", err)


def safety_numbers(t, roux, martin):
    rc, a, err = roux.json("verify", "Claire Martin")
    rc2, b, err2 = martin.json("verify", "Hélène Roux")
    num = (a or {}).get("safety_number")
    t.ok(rc == 0 and rc2 == 0 and num and num == (b or {}).get("safety_number")
         and len(num.replace(" ", "")) == 60,
         "both sides compute the same 60-digit safety number", f"{a}\n{b}\n{err}\n{err2}")
    rc, obj, err = roux.json("verify", "Claire Martin", "--accept")
    t.ok(rc == 0 and obj and obj.get("verified") is True, "verify --accept records it",
         f"{obj}\n{err}")


def device_of(db, rpps):
    return db.execute("SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id "
                      "WHERE u.rpps = ?", (rpps,)).fetchone()[0]


def key_shares_since(srv, mark):
    """{recipient device: number of to-device messages from the sender's
    device queued after id mark}; and the highest id now."""
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    try:
        sender = device_of(db, PEOPLE[0][1])
        rows = db.execute("SELECT recipient_device, count(*) FROM to_device WHERE id > ? AND "
                          "sender_device = ? GROUP BY recipient_device",
                          (mark, sender)).fetchall()
        top = db.execute("SELECT coalesce(max(id), 0) FROM to_device").fetchone()[0]
        devices = {rpps: device_of(db, rpps) for _, rpps, *_ in PEOPLE}
    finally:
        db.close()
    return {bytes(dev): n for dev, n in rows}, top, devices


def removal(t, srv, channel, roux, martin, durand):
    _, mark, _ = key_shares_since(srv, 0)
    ok_run(t, roux, "the hospital doctor removes the pharmacist", "channel", "remove", channel,
           "Paul Durand")
    after = "Après retrait: INR 3,4, dose adaptée (ne pas diffuser)."
    ok_run(t, roux, "a message is sent after the removal", "send", channel, after)
    # the new session's key shares sit in the server's to-device queue until
    # their recipients fetch them (nobody has run since the send): one for
    # each remaining member's device, none for the removed member's
    shares, _, dev = key_shares_since(srv, mark)
    named = {rpps: shares.get(bytes(dev[rpps]), 0) for rpps in dev}
    t.ok(named[PEOPLE[1][1]] > 0 and named[PEOPLE[3][1]] > 0 and named[PEOPLE[2][1]] == 0,
         "the new session's key shares went to the remaining members' devices and none to "
         "the removed member's device", f"to-device messages from the sender since the "
         f"removal, by recipient RPPS: {named}")
    rc, obj, err = read_json(martin, channel)
    t.ok(after in bodies(obj), "remaining members read it", err)
    rc, obj, err = read_json(durand, channel)
    t.ok(after not in json.dumps(obj, ensure_ascii=False),
         "the removed member cannot read the message sent after the removal", f"{obj}")
    t.ok(len(bodies(obj)) >= 2, "the removed member still reads what they had before",
         f"{obj}")
    rc, out, err = durand.run("read", channel)
    t.ok("You were removed from this channel by Dr Hélène Roux" in out,
         "the removed member's client says why", f"{out}\n{err}")
    # the server holds the envelope: it must use a session the pharmacist never had
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    try:
        rows = db.execute("SELECT seq, envelope FROM messages WHERE channel_id = ? ORDER BY seq",
                          (bytes.fromhex(channel),)).fetchall()
    finally:
        db.close()
    sessions = [(seq, env[20:52]) for seq, env in rows]
    last_session = sessions[-1][1] if sessions else b""
    earlier = {s for _, s in sessions[:-1]}
    t.ok(sessions and last_session not in earlier,
         "the group session was rotated after the removal (new session id on the server)",
         f"{[(s, x.hex()[:16]) for s, x in sessions]}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        c = setup(t, srv)
        channel = create_and_add(t, c["roux"], c["martin"], c["durand"])
        first, _ = conversation(t, channel, c["roux"], c["martin"], c["durand"])
        late_joiner(t, channel, c["roux"], c["bernard"], first)
        from_join(t, c["roux"], c["martin"])
        watch_and_lock(t, srv, channel, c["roux"], c["martin"], c["durand"])
        safety_numbers(t, c["roux"], c["martin"])
        removal(t, srv, channel, c["roux"], c["martin"], c["durand"])


if __name__ == "__main__":
    run(main, PLAN)
