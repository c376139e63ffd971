#!/usr/bin/env python3
"""test_threads_wire.py — the server side of encrypted threads over the real
network path (TLS WebSocket, group commit, pushed events), driven by raw
protocol clients whose keys and membership-log signatures are made with the
openssl command from the layouts in docs/CRYPTO.md (independent of the C
code): channel creation and adds pushed live to members, envelopes pushed
live and caught up in order after being offline, receipts, the to-device
queue surviving until acknowledged. TAP on stdout."""

import base64
import hashlib
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RawIdentity, RawWS, Server, b64, error_code, lp, run)  # noqa: E402

PLAN = 25

ACTIONS = {"create": 1, "add": 2, "remove": 3, "leave": 4, "role": 5}
ROLES = {None: 0, "member": 1, "admin": 2}
HISTORY = {None: 0, "shared": 1, "from_join": 2}
KINDS = {None: 0, "case": 1, "circle": 2, "team": 3, "direct": 4}


def mlog_bytes(e):
    prev = base64.b64decode(e["prev"]) if e["prev"] else b""
    return (b"liaison-mlog-v1" + b"\x01" + lp(bytes.fromhex(e["channel"]))
            + struct.pack(">Q", e["seq"]) + lp(prev)
            + lp(bytes.fromhex(e["actor"])) + lp(bytes.fromhex(e["actor_device"]))
            + bytes([ACTIONS[e["action"]]]) + lp(bytes.fromhex(e["subject"]))
            + bytes([ROLES[e["role"]], HISTORY[e["history"]], KINDS[e["kind"]]])
            + struct.pack(">Q", e["ts"]))


class Log:
    """A channel's membership log as a client keeps it."""

    def __init__(self, channel):
        self.channel = channel
        self.last = None

    def entry(self, who, action, subject, role=None, history=None, kind=None):
        e = {"channel": self.channel.hex(),
             "seq": 0 if self.last is None else self.last["seq"] + 1,
             "prev": None if self.last is None else
             b64(hashlib.blake2b(mlog_bytes(self.last), digest_size=32).digest()),
             "actor": who.user.hex(), "actor_device": who.device.hex(), "action": action,
             "subject": subject.user.hex(), "role": role, "history": history, "kind": kind,
             "ts": int(time.time() * 1000)}
        e["sig"] = b64(who.dk.sign(mlog_bytes(e)))
        return e


def envelope(channel, device, size=512):
    header = (b"LSN\x01" + channel + os.urandom(32) + struct.pack(">I", 0) + device
              + struct.pack(">Q", int(time.time() * 1000)))
    return header + os.urandom(size - len(header))


def connect(srv, ident):
    ws = RawWS(srv.port)
    hello = ws.recv_event("hello")
    r = ws.request(ident.login_request("localhost", hello["challenge"]))
    if r.get("ok") is not True:
        raise RuntimeError(f"login failed: {r!r}")
    return ws


def enrol(srv, t, rpps, name, profession):
    ident = RawIdentity(srv.tmp)
    code = srv.invite(rpps, name, profession, "450000005")
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(ident.enrol_request(code))
        t.ok(r.get("ok") is True, f"{name} enrols", repr(r))
    return ident


def main(t):
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        doctor = enrol(srv, t, "10101010105", "Dr Anne Hôpital", "hospital_doctor")
        gp = enrol(srv, t, "10000000009", "Dr Paul Ville", "gp")
        outsider = enrol(srv, t, "10123456781", "Marc Dehors", "pharmacist")
        a, b, c = connect(srv, doctor), connect(srv, gp), connect(srv, outsider)
        channel = os.urandom(16)
        log = Log(channel)

        e = log.entry(doctor, "create", doctor, role="admin", history="shared", kind="case")
        r = a.request(op="channel_create", idem="c1", entry=e)
        t.ok(r.get("ok") is True and r.get("seq") == 0,
             "channel_create with an openssl-signed create entry", repr(r))
        log.last = e
        ev = a.recv_event("channel_log", timeout=5)
        t.ok(ev.get("entry") == e, "the creator gets the entry pushed back, unchanged", repr(ev))

        e = log.entry(doctor, "add", gp, role="member")
        r = a.request(op="channel_append", idem="a1", entry=e)
        t.ok(r.get("ok") is True and r.get("seq") == 1, "the creator adds the GP", repr(r))
        log.last = e
        ev = b.recv_event("channel_log", timeout=5)
        t.ok(ev.get("entry", {}).get("action") == "add", "the GP is told live", repr(ev))

        stale = dict(log.entry(doctor, "add", outsider, role="member"), seq=1)
        stale["sig"] = b64(doctor.dk.sign(mlog_bytes(stale)))
        r = a.request(op="channel_append", idem="a2", entry=stale)
        t.ok(error_code(r) == "conflict", "an entry on a stale seq -> conflict", repr(r))
        e = log.entry(gp, "add", outsider, role="member")
        r = b.request(op="channel_append", idem="b1", entry=e)
        t.ok(error_code(r) == "forbidden", "a plain member cannot add -> forbidden", repr(r))

        env = envelope(channel, doctor.device)
        r = a.request(op="send", idem="s1", channel=channel.hex(), envelope=b64(env))
        t.ok(r.get("ok") is True and r.get("seq") == 1, "send: first message gets seq 1", repr(r))
        ev = b.recv_event("message", timeout=5)
        t.ok(base64.b64decode(ev.get("envelope", "")) == env and ev.get("seq") == 1
             and ev.get("sender_user") == doctor.user.hex(),
             "the GP receives the envelope live, byte for byte", repr(ev)[:200])
        r = a.request(op="send", idem="s1", channel=channel.hex(), envelope=b64(env))
        t.ok(r.get("seq") == 1, "a retried send (same idem) is not stored twice", repr(r))
        r = c.request(op="send", idem="x1", channel=channel.hex(),
                      envelope=b64(envelope(channel, outsider.device)))
        t.ok(error_code(r) == "not_found", "an outsider cannot post", repr(r))
        got = [x for x in c.events if x.get("ev") == "message"]
        t.ok(not got, "the outsider received no message event", repr(got)[:200])

        r = b.request(op="receipt", channel=channel.hex(), kind="read", seq=1)
        t.ok(r.get("ok") is True, "the GP marks message 1 read", repr(r))
        ev = a.recv_event("receipt", timeout=5)
        t.ok(ev.get("user") == gp.user.hex() and ev.get("kind") == "read" and ev.get("seq") == 1,
             "the sender is told live", repr(ev))

        # the GP goes offline; 3 messages and a key share arrive meanwhile
        b.close()
        sent = []
        for i in range(3):
            env = envelope(channel, doctor.device, 300 + i)
            r = a.request(op="send", idem=f"off{i}", channel=channel.hex(), envelope=b64(env))
            sent.append((r.get("seq"), env))
        r = a.request(op="to_device_send", idem="td1", messages=[
            {"user": gp.user.hex(), "device": gp.device.hex(), "body": b64(b"share-1")}])
        t.ok(r.get("ok") is True and r.get("count") == 1, "a key share is queued", repr(r))

        b = connect(srv, gp)
        r = b.request(op="messages", channel=channel.hex(), after=1)
        msgs = r.get("messages", [])
        t.ok([m.get("seq") for m in msgs] == [s for s, _ in sent]
             and [base64.b64decode(m["envelope"]) for m in msgs] == [e for _, e in sent],
             "back online, the GP catches up on the 3 messages in order", repr(r)[:300])
        r = b.request(op="to_device_fetch")
        queued = r.get("messages", [])
        t.ok(len(queued) == 1 and base64.b64decode(queued[0]["body"]) == b"share-1"
             and queued[0].get("sender_device") == doctor.device.hex(),
             "the key share waited in the queue", repr(r))
        b.close()
        b = connect(srv, gp)
        r = b.request(op="to_device_fetch")
        t.ok(len(r.get("messages", [])) == 1, "not acknowledged: still there after reconnecting",
             repr(r))
        r = b.request(op="to_device_ack", upto=queued[0]["id"])
        t.ok(r.get("deleted") == 1, "acknowledged: deleted", repr(r))

        r = b.request(op="channels")
        chans = r.get("channels", [])
        t.ok(len(chans) == 1 and chans[0].get("last_seq") == 4 and chans[0].get("kind") == "case",
             "channels lists the case channel with its last seq", repr(r))
        for ws in (a, b, c):
            ws.close()


if __name__ == "__main__":
    run(main, PLAN)
