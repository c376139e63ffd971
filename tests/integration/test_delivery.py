#!/usr/bin/env python3
"""test_delivery.py — one delivery path: a running `liaison watch` shows each
message from the server's `message` event alone (verified and decrypted
from the envelope the event carries), so N messages sent while it watches
cost no `messages` request; it falls back to `messages` only when it may
have missed events: here its connection is lost (the server restarts while
the watcher is stopped) and messages are stored while it is away, and on
its return it fetches them with one `messages` request, then goes back to
events. Nothing is lost, nothing is shown twice. The requests are counted
by op on the server's /metrics (liaison_requests_total). TAP on stdout."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 20

MESSAGES = 'liaison_requests_total{op="messages"}'
LIVE = 6        # sent while the watcher watches
AWAY = 4        # stored while it is away
AFTER = 3       # sent after it came back


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    roux, martin = Client(srv, "roux"), Client(srv, "martin")
    for c, rpps, name, prof, org in ((roux, "10101010105", "Dr Hélène Roux", "hospital_doctor",
                                      "370000481"),
                                     (martin, "10000000009", "Dr Claire Martin", "gp",
                                      "450000005")):
        rc, out, err = c.enrol(srv.invite(rpps, name, prof, org))
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
    rc, obj, err = roux.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    t.eq(rc, 0, "the hospital doctor creates a case channel", f"{obj}\n{err}")
    rc, out, err = roux.run("channel", "add", channel, "Claire Martin")
    t.eq(rc, 0, "and adds the GP", f"{out}\n{err}")
    return roux, martin, channel


class Watcher:
    """`liaison --json watch` with its stdout read line by line in a thread."""

    def __init__(self, client):
        self.proc = subprocess.Popen(
            [harness.LIAISON, "--profile", client.profile, "--json", "watch"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=client.env(),
            stdin=subprocess.DEVNULL)
        self.lines = queue.Queue()
        self.bodies = []   # every message body printed, in order
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_bodies(self, wanted, timeout):
        """Take printed lines until every body in wanted was seen (or timeout)."""
        deadline = time.monotonic() + timeout
        while not set(wanted) <= set(self.bodies):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return False
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "message":
                self.bodies.append((ev.get("content") or {}).get("body"))
        return True

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=15 * harness.SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, self.proc.stderr.read()


def messages_requests(srv):
    samples, _ = srv.metrics()
    return samples.get(MESSAGES, 0.0)


def wait_metric(srv, at_least, timeout):
    """Poll /metrics until the `messages` counter reaches at_least."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if messages_requests(srv) >= at_least:
            return True
        time.sleep(0.1)
    return False


def send_all(t, roux, channel, bodies, label):
    for body in bodies:
        rc, out, err = roux.run("send", channel, body)
        if rc != 0:
            t.ok(False, f"{label}: send {body!r}", f"{out}\n{err}")
            return False
    return True


def restart_on_same_port(srv):
    """Stop liaisond and start it again on the port the profiles know."""
    srv.stop(check=False)
    for _ in range(20):
        log = open(srv.log_path, "ab")
        srv.proc = subprocess.Popen(srv.common_args(), stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL)
        log.close()
        if srv.wait_healthy(30 * harness.SLOW):
            srv.stopped = srv.signalled = False
            return True
        time.sleep(0.5)   # the port may still be held a moment
    return False


def live(t, srv, roux, channel, w):
    # the watcher's start fetches the channel once; after that, only events
    t.ok(wait_metric(srv, 1, 30 * harness.SLOW),
         "the watcher starts with one `messages` request (its resync)", f"{srv.metrics()[1]}")
    time.sleep(0.5)
    before = messages_requests(srv)
    bodies = [f"Message en direct n°{i}: INR à contrôler J{i}." for i in range(LIVE)]
    send_all(t, roux, channel, bodies, "live")
    t.ok(w.wait_bodies(bodies, 30 * harness.SLOW),
         f"the watcher prints each of the {LIVE} messages sent while it watches",
         f"{w.bodies}")
    # each send first fetches the channel's new messages (one `messages`
    # request: CRYPTO.md "Membership bound into messages and key shares")
    t.eq(messages_requests(srv) - before, LIVE,
         f"and it took them from the events alone: no `messages` request for {LIVE} "
         "delivered messages besides the sender's one per send")
    return bodies


def away(t, srv, roux, channel, w):
    # the watcher is stopped, its connection is lost with the server's
    # restart, and messages are stored while it cannot hear of them
    w.proc.send_signal(signal.SIGSTOP)
    if not t.ok(restart_on_same_port(srv), "the server restarts on the same port",
                srv.log_text()[-3000:]):
        return []
    before = messages_requests(srv)
    missed = [f"Message stocké en son absence n°{i}." for i in range(AWAY)]
    send_all(t, roux, channel, missed, "away")
    w.proc.send_signal(signal.SIGCONT)
    t.ok(w.wait_bodies(missed, 60 * harness.SLOW),
         f"back, the watcher reconnects and prints the {AWAY} messages it missed",
         f"{w.bodies}")
    t.eq(messages_requests(srv) - before, AWAY + 1,
         "it fetched what it missed with exactly one `messages` request (besides the "
         "sender's one per send)")
    after = [f"Message après le retour n°{i}." for i in range(AFTER)]
    mark = messages_requests(srv)
    send_all(t, roux, channel, after, "after")
    t.ok(w.wait_bodies(after, 30 * harness.SLOW),
         f"then it prints the {AFTER} next messages live", f"{w.bodies}")
    t.eq(messages_requests(srv) - mark, AFTER, "from their events again (no `messages` "
         "request besides the sender's one per send)")
    return missed + after


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        roux, martin, channel = setup(t, srv)
        w = Watcher(martin)
        try:
            sent = live(t, srv, roux, channel, w)
            sent += away(t, srv, roux, channel, w)
        finally:
            rc, err = w.stop()
        t.eq(sorted(w.bodies), sorted(sent),
             "every message was printed exactly once: none lost, none duplicated",
             f"printed: {w.bodies}\nsent: {sent}")
        t.eq(rc, 0, "watch stops cleanly on Ctrl-C", err)
        t.ok(not harness.BAD_LOG.search(err or ""), "watch printed no sanitizer report", err)
        # what the watcher cached reads back whole, once each, in order
        rc, obj, err = martin.json("read", channel, "--limit", "1000")
        got = [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])
               if m.get("type") == "text"]
        t.eq(got, sent, "read shows the same messages, in order, once each", err)


if __name__ == "__main__":
    run(main, PLAN)
