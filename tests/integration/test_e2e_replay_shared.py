#!/usr/bin/env python3
"""test_e2e_replay_shared.py — the ratchet index across processes: two
liaison processes send on one profile at the same time, many messages each,
while a third (`watch`) runs on that profile too, through the real CLI
against a real server:

- every send succeeds and reaches the server once;
- no (session, index) pair appears twice among the envelopes the server
  holds (test_e2e_replay.py shows the receiver raises the ALARM when one
  does);
- at each receiver every message decrypts, exactly once, with no duplicate
  or alarm, and so does the sender's own thread;
- then one of the two senders is killed right after committing its
  ratchet step while the other keeps sending: the burned index is used by
  nobody, and the receivers still read everything.
TAP on stdout."""

import os
import signal
import struct
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 25

SESSION_AT = 4 + 16              # "LSN" version, channel
INDEX_AT = SESSION_AT + 32       # then the session id (32 bytes), the index (u32)
PER_PROCESS = 10
PAUSE_MS = 1500


def envelopes(srv, channel):
    con = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        return con.execute("SELECT seq, envelope FROM messages WHERE channel_id = ? ORDER BY seq",
                           (bytes.fromhex(channel),)).fetchall()
    finally:
        con.close()


def session_index(env):
    return env[SESSION_AT:INDEX_AT], struct.unpack(">I", env[INDEX_AT:INDEX_AT + 4])[0]


def thread_of(client, channel):
    rc, obj, err = client.json("read", channel)
    return rc, (obj or {}).get("messages", []), err


class Paused(Client):
    """The same profile, with each send waiting between reading its session
    and stepping the ratchet (LIAISON_TEST_SEND_PAUSE_MS), so that the two
    processes overlap exactly where an index could be taken twice."""

    def env(self, passphrase=None, extra=None):
        env = super().env(passphrase, extra)
        env["LIAISON_TEST_SEND_PAUSE_MS"] = str(PAUSE_MS)
        return env


def sender(client, channel, tag, n, results):
    for i in range(n):
        text = f"{tag} message {i:02d}"
        results.append((text,) + client.run("send", channel, text))


def two_senders(t, roux, channel, n):
    """Two processes send n messages each, one after the other, at once."""
    a, b = [], []
    paused = Paused(roux.server, roux.profile)
    threads = [threading.Thread(target=sender, args=(paused, channel, "A", n, a)),
               threading.Thread(target=sender, args=(paused, channel, "B", n, b))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    failed = [(text, rc, err) for text, rc, out, err in a + b if rc != 0]
    t.ok(len(a) == n and len(b) == n and not failed,
         f"two processes each send {n} messages on one profile at once, all succeed",
         f"{failed}")
    return [text for text, rc, out, err in a + b if rc == 0]


def no_index_twice(t, srv, channel, what):
    pairs = [session_index(env) for seq, env in envelopes(srv, channel)]
    twice = {p for p in pairs if pairs.count(p) > 1}
    t.ok(not twice, f"{what}: no (session, index) pair is used twice",
         f"{[(s.hex()[:12], i) for s, i in sorted(twice)]}")
    return pairs


def each_once(t, client, who, channel, texts):
    rc, msgs, err = thread_of(client, channel)
    bad = [(m.get("seq"), m.get("status"), m.get("detail")) for m in msgs
           if m.get("status") != "ok"]
    bodies = [(m.get("content") or {}).get("body") for m in msgs]
    missing = [x for x in texts if bodies.count(x) != 1]
    t.ok(rc == 0 and not bad, f"{who}: every message decrypts (no duplicate, no alarm)",
         f"{bad}\n{err}")
    t.ok(not missing, f"{who}: each message sent is there exactly once",
         f"missing or repeated: {missing}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        roux, martin, durand = Client(srv, "roux"), Client(srv, "martin"), Client(srv, "durand")
        for c, rpps, name, prof in [(roux, "10101010105", "Dr Hélène Roux", "hospital_doctor"),
                                    (martin, "10000000009", "Dr Claire Martin", "gp"),
                                    (durand, "10123456781", "Paul Durand", "pharmacist")]:
            rc, out, err = c.enrol(srv.invite(rpps, name, prof, "450000005"))
            t.eq(rc, 0, f"{name} enrols", err)
        rc, obj, err = roux.json("channel", "create", "--kind", "case")
        channel = (obj or {}).get("channel", "0" * 32)
        for who in ("Claire Martin", "Paul Durand"):
            rc, out, err = roux.run("channel", "add", channel, who)
            t.eq(rc, 0, f"{who} is added", err)

        # a watch on the sender's own profile the whole time (a third process)
        watch = subprocess.Popen([harness.LIAISON, "--profile", "roux", "--json", "watch"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                 env=roux.env(), stdin=subprocess.DEVNULL)
        try:
            time.sleep(2 * harness.SLOW)
            # no session yet: the two processes also race to create it
            texts = two_senders(t, roux, channel, PER_PROCESS)
            t.eq(len(envelopes(srv, channel)), len(texts),
                 "the server holds each message once")
            pairs = no_index_twice(t, srv, channel, "two processes at once")
            t.ok(len(pairs) == len(texts), "(every envelope parsed)")

            # one sender killed after its ratchet step while the other sends
            env = roux.env()
            env["LIAISON_TEST_CRASH"] = "after_ratchet"
            other = []
            th = threading.Thread(target=sender, args=(Paused(roux.server, roux.profile),
                                                       channel, "C", PER_PROCESS // 2, other))
            th.start()
            crashes = []
            for i in range(3):
                proc = subprocess.run([harness.LIAISON, "--profile", "roux", "send", channel,
                                       f"jamais envoyé {i}"], env=env, capture_output=True,
                                      timeout=120 * harness.SLOW)
                crashes.append(proc.returncode)
            th.join()
            t.eq(crashes, [137] * 3, "the killed sender dies right after its ratchet step, "
                 "three times, while the other process sends")
            failed = [(text, rc, err) for text, rc, out, err in other if rc != 0]
            t.ok(not failed, "the other process's sends all succeed meanwhile", f"{failed}")
            texts += [text for text, rc, out, err in other if rc == 0]
            t.eq(len(envelopes(srv, channel)), len(texts),
                 "nothing from the killed sender reached the server")
            no_index_twice(t, srv, channel, "with a sender killed after its ratchet step")
        finally:
            watch.send_signal(signal.SIGINT)
            try:
                rc = watch.wait(timeout=15 * harness.SLOW)
            except subprocess.TimeoutExpired:
                watch.kill()
                rc = watch.wait()
            err = watch.stderr.read()
        t.eq(rc, 0, "the watch on the sender's profile stops cleanly", err)
        t.ok(not harness.BAD_LOG.search(err or ""), "watch printed no sanitizer report", err)

        each_once(t, martin, "the GP", channel, texts)
        each_once(t, durand, "the pharmacist", channel, texts)
        each_once(t, roux, "the sender's own thread", channel, texts)


if __name__ == "__main__":
    run(main, PLAN)
