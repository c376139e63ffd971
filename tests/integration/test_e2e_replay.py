#!/usr/bin/env python3
"""test_e2e_replay.py — envelopes a server replays or alters, a sender whose
state was rolled back, and a sender killed between the ratchet step and the
send, through the real CLI against a real server (the server's database is
edited directly, as a compromised server would):

- the same envelope served twice is shown as a duplicate;
- a changed ciphertext, header index or signature is rejected as a bad
  signature, a header naming another device as invalid;
- a different envelope for an index already seen (the sender's profile
  restored from an older copy, so it reuses an index) raises the ALARM;
- a client killed right after committing its ratchet step never reuses that
  index: the next message uses a fresh one.
TAP on stdout."""

import os
import shutil
import sqlite3
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 26

HEADER = 80
INDEX_AT = 4 + 16 + 32          # "LSN" version channel session_id
DEVICE_AT = INDEX_AT + 4


def db(srv):
    return sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)


def envelopes(srv, channel):
    con = db(srv)
    try:
        return con.execute("SELECT seq, envelope FROM messages WHERE channel_id = ? ORDER BY seq",
                           (bytes.fromhex(channel),)).fetchall()
    finally:
        con.close()


def replace_envelope(srv, channel, seq, env):
    con = db(srv)
    try:
        con.execute("UPDATE messages SET envelope = ? WHERE channel_id = ? AND seq = ?",
                    (env, bytes.fromhex(channel), seq))
        con.commit()
    finally:
        con.close()


def replay(srv, channel, seq):
    """Serve message seq again as a new message (same bytes)."""
    con = db(srv)
    try:
        cid = bytes.fromhex(channel)
        row = con.execute("SELECT sender_user, sender_device, ts, envelope FROM messages "
                          "WHERE channel_id = ? AND seq = ?", (cid, seq)).fetchone()
        last = con.execute("SELECT max(seq) FROM messages WHERE channel_id = ?",
                           (cid,)).fetchone()[0]
        con.execute("INSERT INTO messages (channel_id, seq, sender_user, sender_device, ts, "
                    "envelope) VALUES (?, ?, ?, ?, ?, ?)", (cid, last + 1) + tuple(row))
        con.commit()
        return last + 1
    finally:
        con.close()


def statuses(client, channel):
    rc, obj, err = client.json("read", channel)
    return {m["seq"]: (m.get("status"), m.get("detail") or "", (m.get("content") or {}).get("body"))
            for m in (obj or {}).get("messages", [])}


def flip(env, at):
    b = bytearray(env)
    b[at] ^= 0x01
    return bytes(b)


def send(t, client, channel, text, name):
    rc, out, err = client.run("send", channel, text)
    t.eq(rc, 0, name, err)


def main(t):
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        roux, martin = Client(srv, "roux"), Client(srv, "martin")
        for c, rpps, name, prof in [(roux, "10101010105", "Dr Hélène Roux", "hospital_doctor"),
                                    (martin, "10000000009", "Dr Claire Martin", "gp")]:
            rc, out, err = c.enrol(srv.invite(rpps, name, prof, "450000005"))
            t.eq(rc, 0, f"{name} enrols", err)
        rc, obj, err = roux.json("channel", "create", "--kind", "case")
        channel = (obj or {}).get("channel", "0" * 32)
        rc, out, err = roux.run("channel", "add", channel, "Claire Martin")
        t.eq(rc, 0, "the GP is added", err)

        # --- a replayed envelope
        send(t, roux, channel, "premier message", "a message is sent")
        first = envelopes(srv, channel)[-1][0]
        again = replay(srv, channel, first)
        st = statuses(martin, channel)
        t.ok(st.get(first, ("",))[0] == "ok" and st.get(again, ("",))[0] == "duplicate",
             "the same envelope served again is shown as a duplicate", repr(st))

        # --- altered envelopes (before the GP reads them)
        for i in range(4):
            send(t, roux, channel, f"message {i}", f"message {i} is sent")
        rows = envelopes(srv, channel)[-4:]
        (s_ct, e_ct), (s_idx, e_idx), (s_sig, e_sig), (s_dev, e_dev) = rows
        replace_envelope(srv, channel, s_ct, flip(e_ct, HEADER + 24 + 3))
        replace_envelope(srv, channel, s_idx, flip(e_idx, INDEX_AT + 3))
        replace_envelope(srv, channel, s_sig, flip(e_sig, len(e_sig) - 5))
        replace_envelope(srv, channel, s_dev, flip(e_dev, DEVICE_AT))
        st = statuses(martin, channel)
        t.eq(st.get(s_ct, ("",))[0], "bad_signature", "a changed ciphertext: bad signature")
        t.eq(st.get(s_idx, ("",))[0], "bad_signature", "a changed header index: bad signature")
        t.eq(st.get(s_sig, ("",))[0], "bad_signature", "a changed signature: bad signature")
        t.eq(st.get(s_dev, ("",))[0], "invalid",
             "a header naming another sender device: invalid, with the reason")
        t.ok(all(v[2] is None for k, v in st.items() if k in (s_ct, s_idx, s_sig, s_dev)),
             "no altered message shows any text", repr(st))

        # --- the sender's state rolled back: the same index used twice
        profile = os.path.join(srv.clients_home, "profiles", "roux")
        snapshot = profile + ".snapshot"
        shutil.copytree(profile, snapshot)
        send(t, roux, channel, "avant restauration", "a message is sent")
        before = envelopes(srv, channel)[-1]
        shutil.rmtree(profile)
        shutil.copytree(snapshot, profile)
        send(t, roux, channel, "après restauration", "the restored sender sends again")
        after = envelopes(srv, channel)[-1]
        same_index = before[1][INDEX_AT:INDEX_AT + 4] == after[1][INDEX_AT:INDEX_AT + 4]
        t.ok(same_index, "(the restored profile did reuse the index)")
        st = statuses(martin, channel)
        t.ok(st.get(before[0], ("",))[0] == "ok" and st.get(after[0], ("",))[0] == "alarm"
             and "ALARM" in st.get(after[0], ("", ""))[1],
             "a different envelope for an index already seen raises the ALARM", repr(st))

        # --- killed between the ratchet step and the send
        count = len(envelopes(srv, channel))
        last_index = struct.unpack(">I", envelopes(srv, channel)[-1][1][INDEX_AT:INDEX_AT + 4])[0]
        env = roux.env()
        env["LIAISON_TEST_CRASH"] = "after_ratchet"
        import subprocess
        proc = subprocess.run([os.environ["LIAISON"], "--profile", "roux", "send", channel,
                               "jamais envoyé"], env=env, capture_output=True, timeout=120)
        harness.sanitizer_check(t, "liaison send (killed after its ratchet step)", proc.stderr)
        t.eq(proc.returncode, 137, "the client dies right after committing its ratchet step")
        t.eq(len(envelopes(srv, channel)), count, "nothing reached the server")
        send(t, roux, channel, "après le crash", "the next send works")
        sent = envelopes(srv, channel)[-1][1]
        index = struct.unpack(">I", sent[INDEX_AT:INDEX_AT + 4])[0]
        t.ok(index == last_index + 2,
             "the next message skips the burned index (never reused)",
             f"last index {last_index}, now {index}")
        st = statuses(martin, channel)
        t.ok(any(v[0] == "ok" and v[2] == "après le crash" for v in st.values()),
             "and the GP reads it", repr(st))


if __name__ == "__main__":
    run(main, PLAN)
