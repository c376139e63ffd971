#!/usr/bin/env python3
"""test_e2e_rollback.py — a server that rolls its membership log back to
restore a removed member, acted out by editing the server's database under
running clients (sqlite3, as an attacker with the server's disk would):

- a GP creates a case thread with a nurse and a cardiologist; everyone sends
  and reads; the GP removes the cardiologist and sends;
- the server deletes the `remove` entry and restores the cardiologist's
  membership; the nurse, whose client has not fetched the log since, then
  sends: her client sees the GP's message and key share bound to membership
  change #3, which the served log lacks, raises the membership alarm and
  shares nothing (the cardiologist reads nothing of it); the GP, who had
  verified the removal, gets the same alarm (log rolled back); both threads
  show it, in text and --json;
- offline (server down), the nurse's `read` shows the alarm all the same,
  and under LANG=fr_FR.UTF-8 the refusal is in French;
- the server serves the whole log again: the alarm clears (recorded), the
  nurse sends, the cardiologist still reads nothing sent after the removal;
- in a second channel, ordinary adds, removes and messages, with readers
  whose log lags, raise no alarm;
- in a third, the evidence is a message alone (an add does not rotate the
  sender's session): the server hides the add, the reader's thread names
  the message bound to it and her send is refused;
- in a fourth, the nurse had never sent: her first send would share a new
  session with the restored member; it is refused and shares nothing.
TAP on stdout."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 61


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    people = {}
    for profile, rpps, name, prof, org in [
            ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005"),
            ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005"),
            ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481")]:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, prof, org))
        t.eq(rc, 0, f"{name} enrols", err)
        people[profile] = c
    return people


def whoami(client):
    rc, obj, err = client.json("whoami")
    user = (obj or {}).get("user", {})
    return user.get("id", ""), (obj or {}).get("device", {}).get("id", "")


def ok_run(t, client, name, *args):
    rc, out, err = client.run(*args)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out, err


def read_json(client, channel):
    rc, obj, err = client.json("read", channel, "--limit", "1000")
    return rc, obj or {}, err


def texts(obj):
    return [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]


def alarms(obj, state=None):
    return [a for a in (obj or {}).get("membership_alarms", [])
            if state is None or a.get("state") == state]


def shares_to(srv, device_hex, after_id):
    return srv.db_exec("SELECT count(*) FROM to_device WHERE recipient_device = ? AND id > ?",
                   (bytes.fromhex(device_hex), after_id))[0][0]


def top_to_device(srv):
    return srv.db_exec("SELECT coalesce(max(id), 0) FROM to_device")[0][0]


def make_thread(t, gp, nurse, cardio):
    rc, obj, err = gp.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    t.ok(rc == 0 and len(channel) == 32, "the GP creates a case channel", f"{obj}\n{err}")
    ok_run(t, gp, "the GP adds the nurse", "channel", "add", channel, "Julie Bernard")
    ok_run(t, gp, "the GP adds the cardiologist", "channel", "add", channel, "Hélène Roux")
    ok_run(t, gp, "the GP sends", "send", channel, "Bilan cardio demandé.")
    ok_run(t, nurse, "the nurse sends", "send", channel, "Pansement fait ce matin.")
    ok_run(t, cardio, "the cardiologist sends", "send", channel, "Écho prévue jeudi.")
    for who, c in (("GP", gp), ("nurse", nurse), ("cardiologist", cardio)):
        rc, obj, err = read_json(c, channel)
        t.ok(rc == 0 and len([x for x in texts(obj) if x]) == 3 and not alarms(obj),
             f"the {who} reads all three messages, no alarm", f"{obj}\n{err}")
    return channel


def rollback_attack(t, srv, p):
    gp, nurse, cardio = p["martin"], p["bernard"], p["roux"]
    channel = make_thread(t, gp, nurse, cardio)
    cid = bytes.fromhex(channel)
    cardio_id, cardio_dev = whoami(cardio)
    before = srv.db_exec("SELECT log_seq, log_hash FROM channels WHERE id = ?", (cid,))[0]
    member = srv.db_exec("SELECT role, since_log_seq FROM channel_members WHERE channel_id = ?"
                     " AND user_id = ?", (cid, bytes.fromhex(cardio_id)))[0]

    ok_run(t, gp, "the GP removes the cardiologist", "channel", "remove", channel,
           "Hélène Roux")
    secret = "Après retrait: FEVG 30 %, ne pas diffuser."
    ok_run(t, gp, "the GP sends after the removal", "send", channel, secret)
    removed = srv.db_exec("SELECT seq, entry, created_at FROM channel_log WHERE channel_id = ?"
                      " ORDER BY seq DESC LIMIT 1", (cid,))[0]
    after_log = srv.db_exec("SELECT log_seq, log_hash FROM channels WHERE id = ?", (cid,))[0]
    left = srv.db_exec("SELECT left_msg_seq, role, since_log_seq FROM channel_members WHERE"
                   " channel_id = ? AND user_id = ?", (cid, bytes.fromhex(cardio_id)))[0]
    t.eq(removed[0], 3, "the removal is membership change #3")

    # the server hides the removal: entry gone, the cardiologist a member again
    srv.db_exec("DELETE FROM channel_log WHERE channel_id = ? AND seq = ?", (cid, removed[0]))
    srv.db_exec("UPDATE channels SET log_seq = ?, log_hash = ? WHERE id = ?",
            (before[0], before[1], cid))
    srv.db_exec("UPDATE channel_members SET left_msg_seq = NULL, role = ?, since_log_seq = ?"
            " WHERE channel_id = ? AND user_id = ?",
            (member[0], member[1], cid, bytes.fromhex(cardio_id)))
    mark = top_to_device(srv)
    msgs_before = srv.db_exec("SELECT count(*) FROM messages WHERE channel_id = ?", (cid,))[0][0]

    leak = "Infirmière: tension 9/6 ce soir."
    rc, out, err = nurse.run("send", channel, leak)
    t.ok(rc != 0 and "membership alarm" in err and "membership change #3" in err
         and "which the server no longer shows" in err and "Dr Claire Martin" in err
         and "no key is shared here until the server shows it again" in err
         and "administrator" in err,
         "the nurse's send is refused: the GP's message and key share are bound to change "
         "#3, which the server no longer shows; the error says what to do",
         f"rc={rc}\n{out}\n{err}")
    t.eq(shares_to(srv, cardio_dev, mark), 0,
         "the nurse's client queued no key share for the cardiologist's device")
    msgs_after = srv.db_exec("SELECT count(*) FROM messages WHERE channel_id = ?", (cid,))[0][0]
    t.eq(msgs_after, msgs_before, "nothing was sent")
    rc, obj, err = read_json(cardio, channel)
    dump = str(obj)
    t.ok(leak not in dump and secret not in dump,
         "the restored cardiologist reads nothing sent after the removal", f"{obj}\n{err}")

    rc, out, err = nurse.run("read", channel)
    t.ok(rc == 0 and "ALARM: " in out and "Dr Claire Martin's" in out
         and "was sent after membership change #3, which the server no longer shows" in out,
         "the nurse's thread shows the alarm naming what the server hid", f"{out}\n{err}")
    rc, obj, err = read_json(nurse, channel)
    act = alarms(obj, "active")
    t.ok(rc == 0 and len(act) == 1 and act[0].get("log_seq") == 3
         and act[0].get("source") in ("key_share", "message")
         and act[0].get("by_name", "").startswith("Dr Claire Martin")
         and obj.get("valid") is False,
         "--json: one active membership alarm (the key share and the message name the "
         "same hidden change), at change #3, from the GP; the channel not valid",
         f"{obj}\n{err}")
    rc, out, err = nurse.run("send", channel, leak)
    t.ok(rc != 0 and "membership alarm" in err,
         "the alarm persists: sending is still refused", f"{out}\n{err}")
    rc, out, err = nurse.run("send", channel, leak, env={"LC_ALL": None, "LANG": "fr_FR.UTF-8"})
    t.ok(rc != 0 and "non envoyé, alarme d'appartenance" in err
         and "changement de membres n° 3" in err and "administrateur" in err,
         "in French (LANG=fr_FR.UTF-8) the refusal is translated", f"rc={rc}\n{out}\n{err}")

    rc, out, err = gp.run("send", channel, "Encore un message.")
    t.ok(rc != 0 and "log rolled back" in err and "membership change #3" in err,
         "the GP, who verified the removal, is refused too (log rolled back)",
         f"rc={rc}\n{out}\n{err}")
    rc, obj, err = read_json(gp, channel)
    t.ok(any(a.get("source") == "rollback" and a.get("log_seq") == 3
             for a in alarms(obj, "active")),
         "the GP's thread shows the same alarm", f"{obj}\n{err}")
    t.eq(shares_to(srv, cardio_dev, mark), 0, "still no key share for the cardiologist")

    # the server serves the whole log again
    srv.db_exec("INSERT INTO channel_log (channel_id, seq, entry, created_at) VALUES"
            " (?, ?, ?, ?)", (cid, removed[0], removed[1], removed[2]))
    srv.db_exec("UPDATE channels SET log_seq = ?, log_hash = ? WHERE id = ?",
            (after_log[0], after_log[1], cid))
    srv.db_exec("UPDATE channel_members SET left_msg_seq = ?, role = ?, since_log_seq = ?"
            " WHERE channel_id = ? AND user_id = ?",
            (left[0], left[1], left[2], cid, bytes.fromhex(cardio_id)))
    later = "Infirmière, après rétablissement du journal."
    rc, out, err = nurse.run("send", channel, later)
    t.ok(rc == 0 and "alarm is cleared" in err, "the log is whole again: the alarm clears "
         "and the nurse sends", f"rc={rc}\n{out}\n{err}")
    rc, obj, err = read_json(nurse, channel)
    t.ok(not alarms(obj, "active") and alarms(obj, "cleared")
         and all(a.get("cleared_at") for a in alarms(obj, "cleared")),
         "--json: the alarm is recorded as cleared, with when", f"{obj}\n{err}")
    rc, out, err = nurse.run("read", channel)
    t.ok("Membership alarm, cleared:" in out and "ALARM: " not in out,
         "the thread shows the cleared alarm", f"{out}\n{err}")
    ok_run(t, gp, "the GP sends again", "send", channel, "Journal rétabli.")
    t.eq(shares_to(srv, cardio_dev, mark), 0, "no key share ever went to the cardiologist")
    rc, obj, err = read_json(cardio, channel)
    t.ok(later not in str(obj) and secret not in str(obj),
         "the cardiologist still reads nothing sent after the removal", f"{obj}\n{err}")


def ordinary_changes(t, srv, p):
    gp, nurse, cardio = p["martin"], p["bernard"], p["roux"]
    rc, obj, err = gp.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    ok_run(t, gp, "second channel: the GP adds the nurse", "channel", "add", channel,
           "Julie Bernard")
    ok_run(t, gp, "the GP sends", "send", channel, "Un.")
    # the nurse has not read since: the GP's next messages and shares carry
    # heads beyond the log her client verified
    ok_run(t, gp, "the GP adds the cardiologist", "channel", "add", channel, "Hélène Roux")
    ok_run(t, gp, "the GP sends after the add", "send", channel, "Deux.")
    ok_run(t, cardio, "the cardiologist sends", "send", channel, "Trois.")
    ok_run(t, gp, "the GP removes the cardiologist", "channel", "remove", channel,
           "Hélène Roux")
    ok_run(t, gp, "the GP sends after the removal", "send", channel, "Quatre.")
    ok_run(t, nurse, "the nurse sends (her log lagged by three changes)", "send", channel,
           "Cinq.")
    found = []
    for c in (gp, nurse, cardio):
        rc, obj, err = read_json(c, channel)
        found.append((rc, alarms(obj), obj.get("valid")))
    t.ok(all(rc == 0 and not a for rc, a, _ in found) and found[0][2] and found[1][2],
         "ordinary adds and removes: no alarm for anyone, the channel valid", f"{found}")


def first_send_after_rollback(t, srv, p):
    """The same attack when the nurse has never sent in the channel: her first
    send would make a new session and share it with everyone the rolled-back
    log lists."""
    gp, nurse, cardio = p["martin"], p["bernard"], p["roux"]
    rc, obj, err = gp.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    cid = bytes.fromhex(channel)
    ok_run(t, gp, "fourth channel: the GP adds the nurse", "channel", "add", channel,
           "Julie Bernard")
    ok_run(t, gp, "the GP adds the cardiologist", "channel", "add", channel, "Hélène Roux")
    ok_run(t, gp, "the GP sends", "send", channel, "Bilan demandé.")
    for c in (nurse, cardio):
        c.run("read", channel)
    cardio_id, cardio_dev = whoami(cardio)
    before = srv.db_exec("SELECT log_seq, log_hash FROM channels WHERE id = ?", (cid,))[0]
    member = srv.db_exec("SELECT role, since_log_seq FROM channel_members WHERE channel_id = ?"
                     " AND user_id = ?", (cid, bytes.fromhex(cardio_id)))[0]
    ok_run(t, gp, "the GP removes the cardiologist", "channel", "remove", channel,
           "Hélène Roux")
    ok_run(t, gp, "the GP sends after the removal", "send", channel, "Après retrait.")
    srv.db_exec("DELETE FROM channel_log WHERE channel_id = ? AND seq = 3", (cid,))
    srv.db_exec("UPDATE channels SET log_seq = ?, log_hash = ? WHERE id = ?",
            (before[0], before[1], cid))
    srv.db_exec("UPDATE channel_members SET left_msg_seq = NULL, role = ?, since_log_seq = ?"
            " WHERE channel_id = ? AND user_id = ?",
            (member[0], member[1], cid, bytes.fromhex(cardio_id)))
    mark = top_to_device(srv)
    first = "Premier message de l'infirmière."
    rc, out, err = nurse.run("send", channel, first)
    t.ok(rc != 0 and "membership alarm" in err, "the nurse's first send is refused",
         f"rc={rc}\n{out}\n{err}")
    t.eq(shares_to(srv, cardio_dev, mark), 0,
         "no new session was shared with the cardiologist's device")
    rc, obj, err = read_json(cardio, channel)
    t.ok(first not in str(obj) and "Après retrait." not in str(obj),
         "the cardiologist reads nothing sent after the removal", f"{obj}\n{err}")
    return channel


def offline_alarm(t, srv, nurse, channel):
    """The server down: the nurse's offline reading shows the same alarm."""
    srv.stop()
    rc, out, err = nurse.run("read", channel)
    t.ok(rc == 0 and "offline" in out and "ALARM: " in out
         and "which the server no longer shows" in out,
         "offline read shows the channel's membership alarm", f"rc={rc}\n{out}\n{err}")
    rc, obj, err = nurse.json("read", channel)
    t.ok(rc == 0 and (obj or {}).get("offline") is True
         and [a.get("log_seq") for a in alarms(obj, "active")] == [3],
         "offline read --json lists it in \"membership_alarms\"", f"{obj}\n{err}")


def hidden_in_message(t, srv, p):
    """The evidence is a message whose session the reader already holds: an
    add does not rotate the GP's session, so the nurse decrypts the GP's
    next message with the key she has and finds its head beyond the log the
    server now serves."""
    gp, nurse = p["martin"], p["bernard"]
    rc, obj, err = gp.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    cid = bytes.fromhex(channel)
    ok_run(t, gp, "third channel: the GP adds the nurse", "channel", "add", channel,
           "Julie Bernard")
    ok_run(t, gp, "the GP sends", "send", channel, "Premier message.")
    rc, obj, err = read_json(nurse, channel)
    t.ok(rc == 0 and "Premier message." in texts(obj) and not alarms(obj),
         "the nurse reads it", f"{obj}\n{err}")
    before = srv.db_exec("SELECT log_seq, log_hash FROM channels WHERE id = ?", (cid,))[0]
    ok_run(t, gp, "the GP adds the cardiologist", "channel", "add", channel, "Hélène Roux")
    rc, obj, err = gp.json("send", channel, "Deuxième message.")
    seq = (obj or {}).get("seq")
    cardio_id, _ = whoami(p["roux"])
    srv.db_exec("DELETE FROM channel_log WHERE channel_id = ? AND seq = 2", (cid,))
    srv.db_exec("UPDATE channels SET log_seq = ?, log_hash = ? WHERE id = ?",
            (before[0], before[1], cid))
    srv.db_exec("DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?",
            (cid, bytes.fromhex(cardio_id)))
    rc, out, err = nurse.run("read", channel)
    t.ok(rc == 0 and f"Dr Claire Martin's message #{seq} was sent after membership change "
         "#2, which the server no longer shows" in out,
         "the nurse's thread names the message bound to the hidden change", f"{out}\n{err}")
    rc, out, err = nurse.run("send", channel, "Réponse.")
    t.ok(rc != 0 and "membership alarm" in err, "and her send is refused",
         f"rc={rc}\n{out}\n{err}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        p = setup(t, srv)
        rollback_attack(t, srv, p)
        ordinary_changes(t, srv, p)
        hidden_in_message(t, srv, p)
        channel = first_send_after_rollback(t, srv, p)
        offline_alarm(t, srv, p["bernard"], channel)


if __name__ == "__main__":
    run(main, PLAN)
