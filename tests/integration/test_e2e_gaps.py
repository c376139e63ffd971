#!/usr/bin/env python3
"""test_e2e_gaps.py — a server that deletes a message cannot hide it, nor
make it look read, acted out by editing the server's database under running
clients (sqlite3, as an attacker with the server's disk would):

- a nurse's weight alert (#3) is deleted between #2 and #4: the GP's `read`
  reports "message #3 is missing" (text and --json "missing"), the nurse's
  next message names it as its sender's previous one and is flagged too, the
  GP's read receipt stops at #2 and the nurse does not see "read by" on the
  alert (she still does on #1); offline reading reports the same gap;
- the same with the later rows renumbered so that seqs are contiguous: no
  seq is missing, but the per-sender link ("link") of the nurse's next
  message names an envelope the GP never received: reported as missing, the
  receipt stops before it, the nurse's alert is not shown read;
- a message whose server-claimed sender is changed is refused by the
  cardiologist's client and never shown with that sender as its author;
- `watch --json` starting after a deletion prints a "missing" event;
- the last two messages deleted and the channel's counter set back (the
  server shows fewer messages than the GP synced): `read` (text, --json,
  offline) says #2 to #3 are no longer on the server, the GP keeps its
  copies, and its receipts neither fail nor cover the seqs the server now
  gives to new messages.
TAP on stdout."""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 52
PEOPLE = [  # profile, RPPS, name, profession, FINESS of the organisation
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005"),
    ("petit", "10345678907", "Dr Louis Petit", "cardiologist", "450000005"),
]
ALERT = "ALERTE poids: 84,6 kg, +2,3 kg en 3 jours, dyspnée"


def setup(t, srv):
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    clients = {}
    for profile, rpps, name, profession, org in PEOPLE:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, profession, org))
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
        clients[profile] = c
    return clients


def user_id(client):
    rc, obj, err = client.json("whoami")
    return (obj or {}).get("user", {}).get("id", "")


def send(t, client, channel, text):
    rc, out, err = client.run("send", channel, text)
    t.eq(rc, 0, f"sent: {text[:40]}", f"{out}\n{err}")


def new_channel(t, owner, *members):
    rc, obj, err = owner.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    for m in members:
        rc2, out, err2 = owner.run("channel", "add", channel, m)
        rc, err = rc or rc2, err + err2
    t.eq(rc, 0, "the GP creates a case channel with its members", err)
    return channel


def by_seq(obj):
    return {m.get("seq"): m for m in (obj or {}).get("messages", [])}


def read_marks(srv, channel, uid):
    rows = srv.db_exec("SELECT delivered, read FROM receipts WHERE channel_id = ? AND user_id = ?",
                   (bytes.fromhex(channel), bytes.fromhex(uid)))
    return rows[0] if rows else (0, 0)


def deleted(t, srv, c):
    """#3 deleted between #2 and #4, seqs left as they are."""
    gp, nurse, cardio = c["martin"], c["bernard"], c["petit"]
    channel = new_channel(t, gp, "Julie Bernard", "Dr Louis Petit")
    send(t, nurse, channel, "Visite faite, patiente stable.")
    send(t, gp, channel, "Merci, je passe vendredi.")
    send(t, nurse, channel, ALERT)
    send(t, nurse, channel, "Prochaine visite jeudi.")
    srv.db_exec("DELETE FROM messages WHERE channel_id = ? AND seq = 3",
            (bytes.fromhex(channel),))
    nurse_id, gp_id = user_id(nurse), user_id(gp)

    rc, out, err = gp.run("read", channel)
    t.ok(rc == 0 and "#3  message #3 is missing: withheld or deleted by the server" in out
         and ALERT not in out and "Prochaine visite jeudi." in out,
         "read (text) reports message #3 as missing between #2 and #4", f"{out}\n{err}")
    t.ok("WARNING: a message from Julie Bernard" in out and "sent before this one is missing" in out,
         "and #4, whose prev names the deleted alert, says a message of its sender is missing",
         out)
    rc, obj, err = gp.json("read", channel)
    missing = (obj or {}).get("missing") or []
    gaps = [m for m in missing if m.get("kind") == "seq"]
    links = [m for m in missing if m.get("kind") == "link"]
    t.ok(rc == 0 and gaps == [{"kind": "seq", "seq": 3, "through": 3,
                               "detail": "message #3 is missing: withheld or deleted by the "
                                         "server"}]
         and sorted(by_seq(obj)) == [1, 2, 4],
         "read --json lists seq 3 in \"missing\" (messages 1, 2, 4)", f"{obj}\n{err}")
    t.ok(len(links) == 1 and links[0].get("before_seq") == 4
         and links[0].get("sender") == nurse_id and len(links[0].get("prev", "")) == 64
         and by_seq(obj).get(4, {}).get("prev_missing", {}).get("prev") == links[0].get("prev"),
         "read --json lists the broken link of #4 (sender, prev hash)", f"{missing}")
    t.eq(read_marks(srv, channel, gp_id), (2, 2),
         "the GP's receipts stop at #2 (server's receipts table: delivered 2, read 2)")

    rc, obj, err = nurse.json("read", channel)
    msgs = by_seq(obj)
    t.ok(rc == 0 and (msgs.get(3, {}).get("content") or {}).get("body") == ALERT
         and "Dr Claire Martin" not in " ".join(msgs.get(3, {}).get("read_by", []))
         and "Dr Claire Martin" not in " ".join(msgs.get(4, {}).get("read_by", [])),
         "the nurse does not see her alert (#3) nor #4 as read by the GP", f"{obj}\n{err}")
    t.ok(any("Dr Claire Martin" in who for who in msgs.get(1, {}).get("read_by", [])),
         "but she does see #1 read by the GP", f"{msgs.get(1)}")
    rc, out, err = nurse.run("read", channel)
    alert_block = out.split(ALERT, 1)[-1].split("#4", 1)[0] if ALERT in out else ""
    t.ok(rc == 0 and ALERT in out and "read by" not in alert_block,
         "in text, no \"read by\" under the alert", out)

    # the cardiologist's client has not fetched yet: the server now claims #1
    # was sent by the GP
    srv.db_exec("UPDATE messages SET sender_user = ? WHERE channel_id = ? AND seq = 1",
            (bytes.fromhex(gp_id), bytes.fromhex(channel)))
    rc, out, err = cardio.run("read", channel)
    first = out.split("#1  ", 1)[-1].split("\n", 1)[0]
    t.ok(rc == 0 and "unverified message (the server says from Dr Claire Martin" in first
         and "Julie Bernard" not in first and "Visite faite" not in out,
         "a message whose sender the server changed is shown unverified, not as the GP's",
         f"{out}\n{err}")
    rc, obj, err = cardio.json("read", channel)
    m1 = by_seq(obj).get(1, {})
    t.ok(m1.get("sender") is None and m1.get("sender_name") is None
         and m1.get("verified") is False and m1.get("claimed_sender") == gp_id
         and m1.get("status") == "unknown_session",
         "--json: sender null, verified false, claimed_sender the server's claim", f"{m1}")
    petit_id = user_id(cardio)
    t.eq(read_marks(srv, channel, petit_id)[1], 0,
         "the cardiologist's client receipts nothing as read (#1 refused)")
    return channel


def watch_gap(t, srv, c, channel):
    """#5 deleted before the cardiologist's watch starts: it says so."""
    nurse, cardio = c["bernard"], c["petit"]
    send(t, nurse, channel, "Cinquième: poids 85,1 kg.")
    send(t, nurse, channel, "Sixième: appel au cardiologue.")
    srv.db_exec("DELETE FROM messages WHERE channel_id = ? AND seq = 5",
            (bytes.fromhex(channel),))
    proc = subprocess.Popen([harness.LIAISON, "--profile", cardio.profile, "--json", "watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cardio.env(), stdin=subprocess.DEVNULL)
    seen = {}
    try:
        deadline = time.monotonic() + 20 * harness.SLOW
        while time.monotonic() < deadline and len(seen) < 2:
            line = proc.stdout.readline()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "missing":
                seen["missing"] = ev
            elif ev.get("event") == "message" and ev.get("seq") == 6:
                seen["message"] = ev
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=10 * harness.SLOW)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        err = proc.stderr.read()
    m = seen.get("missing", {})
    t.ok(m.get("seq") == 5 and m.get("through") == 5 and m.get("channel") == channel
         and "withheld or deleted by the server" in m.get("detail", ""),
         "watch --json prints a \"missing\" event for #5", f"{seen}\n{err}")
    t.ok((seen.get("message", {}).get("prev_missing") or {}).get("before_seq") == 6,
         "and #6, which names #5 as its sender's previous message, with prev_missing",
         f"{seen}")
    t.eq(rc, 0, "watch stops cleanly on Ctrl-C", err)


def truncated(t, srv, c):
    """#2 and #3 deleted (the channel's last_seq is then 1)."""
    gp, nurse = c["martin"], c["bernard"]
    channel = new_channel(t, gp, "Julie Bernard")
    send(t, nurse, channel, "Visite faite, patiente stable.")
    send(t, nurse, channel, ALERT)
    send(t, nurse, channel, "Prochaine visite jeudi.")
    rc, out, err = gp.run("read", channel)
    gp_id = user_id(gp)
    t.ok(rc == 0 and ALERT in out and read_marks(srv, channel, gp_id) == (3, 3),
         "the GP reads #1 to #3 (receipts 3, 3)", f"{out}\n{err}")
    ch = bytes.fromhex(channel)
    srv.db_exec("DELETE FROM messages WHERE channel_id = ? AND seq > 1", (ch,))
    srv.db_exec("UPDATE receipts SET delivered = 1, read = 1 WHERE channel_id = ?", (ch,))

    line = ("#2-#3  messages #2 to #3, which this device had, are no longer on the server: "
            "deleted by the server")
    rc, out, err = gp.run("read", channel)
    t.ok(rc == 0 and line in out and ALERT in out and "Prochaine visite jeudi." in out
         and out.index(line) < out.index(ALERT),
         "read (text): #2 to #3 reported deleted by the server, the copies still shown",
         f"{out}\n{err}")
    rc, obj, err = gp.json("read", channel)
    cut = [m for m in (obj or {}).get("missing") or [] if m.get("kind") == "truncated"]
    t.ok(rc == 0 and cut == [{"kind": "truncated", "seq": 2, "through": 3,
                              "detail": line.split("  ", 1)[1]}]
         and sorted(by_seq(obj)) == [1, 2, 3],
         "read --json: a \"truncated\" item for #2 to #3 (messages 1, 2, 3 kept)",
         f"{obj}\n{err}")
    t.eq(read_marks(srv, channel, gp_id), (1, 1),
         "the GP's receipts do not claim #2 or #3 (server: delivered 1, read 1)")
    send(t, nurse, channel, "Nouveau message après la suppression.")
    t.eq([r[0] for r in srv.db_exec("SELECT seq FROM messages WHERE channel_id = ? ORDER BY seq",
                                    (ch,))], [1, 2], "the server gives the new message #2")
    rc, obj, err = gp.json("read", channel)
    t.ok(rc == 0 and [m.get("seq") for m in obj.get("missing", [])
                      if m.get("kind") == "truncated"] == [2]
         and (by_seq(obj).get(2, {}).get("content") or {}).get("body") == ALERT,
         "read again: still reported, the GP's copy of #2 kept", f"{obj}\n{err}")
    t.eq(read_marks(srv, channel, gp_id), (1, 1),
         "and its receipts still stop at #1 (the new #2 is not claimed)")
    return channel


def offline(t, srv, gp, channel, cut_channel):
    """The same gap from the local store alone, the server down."""
    srv.stop()
    rc, out, err = gp.run("read", cut_channel)
    t.ok(rc == 0 and "messages #2 to #3, which this device had, are no longer on the server"
         in out, "offline read reports the messages the server no longer shows",
         f"rc={rc}\n{out}\n{err}")
    rc, out, err = gp.run("read", channel)
    t.ok("offline" in out and "message #3 is missing" in out,
         "offline read reports the same missing message", f"rc={rc}\n{out}\n{err}")
    rc, obj, err = gp.json("read", channel)
    t.ok([m.get("seq") for m in (obj or {}).get("missing", []) if m.get("kind") == "seq"] == [3],
         "offline read --json lists it in \"missing\"", f"{obj}\n{err}")


def renumbered(t, srv, c):
    """#2 deleted and #3 renumbered #2: the seqs are contiguous again."""
    gp, nurse = c["martin"], c["bernard"]
    channel = new_channel(t, gp, "Julie Bernard")
    send(t, nurse, channel, "Visite faite, patiente stable.")
    rc, out, err = gp.run("read", channel)
    send(t, nurse, channel, ALERT)
    send(t, nurse, channel, "Prochaine visite jeudi.")
    ch = bytes.fromhex(channel)
    srv.db_exec("DELETE FROM messages WHERE channel_id = ? AND seq = 2", (ch,))
    srv.db_exec("UPDATE messages SET seq = seq - 1 WHERE channel_id = ? AND seq = 3", (ch,))
    t.eq([r[0] for r in srv.db_exec("SELECT seq FROM messages WHERE channel_id = ? ORDER BY seq",
                                (ch,))], [1, 2], "the server's rows are renumbered 1, 2")

    rc, out, err = gp.run("read", channel)
    t.ok(rc == 0 and ALERT not in out and "Prochaine visite jeudi." in out
         and "is missing: withheld or deleted by the server" in out
         and "WARNING: a message from Julie Bernard" in out
         and "sent before this one is missing: withheld or deleted by the server" in out,
         "read (text): the per-sender link reveals the deleted alert", f"{out}\n{err}")
    rc, obj, err = gp.json("read", channel)
    missing = (obj or {}).get("missing") or []
    t.ok(rc == 0 and [m.get("kind") for m in missing] == ["link"]
         and missing[0].get("before_seq") == 2 and missing[0].get("sender") == user_id(nurse),
         "read --json: no seq gap, one link item before #2 naming the nurse", f"{obj}\n{err}")
    t.eq(read_marks(srv, channel, user_id(gp)), (1, 1),
         "the GP's receipts stop at #1, before the message with the broken link")
    rc, obj, err = nurse.json("read", channel)
    msgs = by_seq(obj)
    t.ok(rc == 0 and (msgs.get(2, {}).get("content") or {}).get("body") == ALERT
         and not msgs.get(2, {}).get("read_by")
         and any("Dr Claire Martin" in w for w in msgs.get(1, {}).get("read_by", [])),
         "the nurse sees #1 read by the GP, and her alert (#2 in her copy) not read",
         f"{obj}\n{err}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        c = setup(t, srv)
        renumbered(t, srv, c)
        channel = deleted(t, srv, c)
        watch_gap(t, srv, c, channel)
        cut_channel = truncated(t, srv, c)
        offline(t, srv, c["martin"], channel, cut_channel)


if __name__ == "__main__":
    run(main, PLAN)
