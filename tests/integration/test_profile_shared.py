#!/usr/bin/env python3
"""test_profile_shared.py — several liaison processes on one profile at once,
through the real CLI against a real liaisond: `liaison watch` keeps running
on the GP's profile while `cases`, `read`, `send` and `ack` run on the same
profile in other processes (one after the other, then two at once), and all
of them succeed; watch still shows what others post meanwhile and stops
cleanly; afterwards every message is in the GP's thread exactly once and
decrypted, and the other members read what the GP sent beside her watch;
a command that finds the profile's lock file held waits for it.
TAP on stdout."""

import datetime
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 41

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")
TODAY = harness.server_today()

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
]
REFUSALS = ("in use by another", "busy")


def ok_run(t, client, name, *args):
    rc, out, err = client.run(*args)
    t.ok(rc == 0 and not any(r in err for r in REFUSALS), name,
         f"rc={rc}\nstdout: {out}\nstderr: {err}")
    t.ok(not harness.BAD_LOG.search(err or ""), f"{name}: no sanitizer report", err)
    return rc, out, err


def enrol_all(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346", "--kind",
              "pharmacy")
    clients = {}
    for profile, rpps, name, profession, org, roles in PEOPLE:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, profession, org, roles=roles))
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
        clients[profile] = c
    return clients


def discharge(t, srv, c):
    with open(SAMPLE, encoding="utf-8") as f:
        notice = json.load(f)
    notice["patient"] = {"family_name": "LEMAIRE", "given_names": "Odette", "birth_date":
                         "1948-03-12", "sex": "F", "ins": "2 48 03 45 234 056 72"}
    notice["admission_date"] = str(TODAY - datetime.timedelta(days=5))
    path = os.path.join(srv.tmp, "notice.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    rc, out, err = c["roux"].run("discharge", "--pathway", "hospital_discharge", "--gp",
                                 "Claire Martin", "--pharmacist", "Paul Durand", "--nurse",
                                 "Julie Bernard", "--notice", path, "--date", str(TODAY))
    t.eq(rc, 0, "the hospital doctor posts a discharge (a case to acknowledge)", f"{out}\n{err}")
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    channel = re.search(r"Channel:\s+([0-9a-f]{32})", out)
    t.ok(ref and channel, "it prints the case reference and the channel", out)
    return (ref.group(1) if ref else "P-XXXXXXXX"), (channel.group(1) if channel else "0" * 32)


class Watch:
    """liaison --json watch on a profile, its output read by a thread."""

    def __init__(self, client):
        self.proc = subprocess.Popen([harness.LIAISON, "--profile", client.profile, "--json",
                                      "watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=client.env(), stdin=subprocess.DEVNULL)
        self.events = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(ev)

    def bodies(self):
        with self.lock:
            return [(e.get("content") or {}).get("body") for e in self.events
                    if e.get("event") == "message"]

    def wait_body(self, body, seconds):
        deadline = time.monotonic() + seconds * harness.SLOW
        while time.monotonic() < deadline:
            if body in self.bodies():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=15 * harness.SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=5)
        return rc, self.proc.stderr.read()


def thread_of(client, channel):
    rc, obj, err = client.json("read", channel)
    return rc, (obj or {}).get("messages", []), err


def side_by_side(t, c, ref, channel, watch):
    gp = c["martin"]
    t.ok(watch.proc.poll() is None, "watch is running on the GP's profile")
    rc, out, err = ok_run(t, gp, "cases beside watch on the same profile", "cases")
    t.ok(ref in out, "cases lists the discharge", out)
    rc, out, err = ok_run(t, gp, "read beside watch on the same profile", "read", channel)
    t.ok("DISCHARGE NOTICE" in out, "read shows the notice, decrypted", out)
    mine = "Reçu, je passe voir la patiente jeudi."
    ok_run(t, gp, "send beside watch on the same profile", "send", channel, mine)
    rc, out, err = ok_run(t, gp, "ack beside watch on the same profile", "ack", ref)
    t.ok("You acknowledged" in out, "ack confirms", out)
    theirs = "Traitement de sortie: bisoprolol 2,5 mg, furosémide 40 mg."
    ok_run(t, c["roux"], "meanwhile the hospital doctor sends", "send", channel, theirs)
    t.ok(watch.wait_body(theirs, 30), "watch shows the other member's message, live",
         f"{watch.bodies()}")

    # two more processes at once beside watch: a send and a read
    results = {}

    def go(key, *args):
        results[key] = gp.run(*args)

    both = "Deux commandes en même temps que watch."
    threads = [threading.Thread(target=go, args=("send", "send", channel, both)),
               threading.Thread(target=go, args=("read", "read", channel)),
               threading.Thread(target=go, args=("cases", "cases"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for key, (rc, out, err) in sorted(results.items()):
        t.ok(rc == 0 and not any(r in err for r in REFUSALS),
             f"{key} at the same time as another command and watch", f"rc={rc}\n{out}\n{err}")
    t.ok(watch.proc.poll() is None, "watch is still running after all of them")
    return [mine, theirs, both]


def lock_wait(t, srv, c):
    """A step that needs the profile alone (here the unlock, which may
    migrate the format) waits for the lock file rather than failing."""
    path = os.path.join(srv.clients_home, "profiles", "martin", "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held = 2.0
        timer = threading.Timer(held, fcntl.flock, args=(fd, fcntl.LOCK_UN))
        start = time.monotonic()
        timer.start()
        rc, out, err = c["martin"].run("cases")
        took = time.monotonic() - start
        timer.join()
    finally:
        os.close(fd)
    t.ok(rc == 0 and took >= held - 0.1,
         "a command waits for another process holding the profile's lock, then runs",
         f"rc={rc} after {took:.1f} s\n{out}\n{err}")


def consistent(t, c, channel, sent):
    rc, msgs, err = thread_of(c["martin"], channel)
    t.eq(rc, 0, "the GP reads the whole thread afterwards", err)
    seqs = [m.get("seq") for m in msgs]
    t.ok(len(seqs) == len(set(seqs)), "no message is twice in the GP's thread", f"{seqs}")
    bad = [m for m in msgs if m.get("status") != "ok"]
    t.ok(not bad, "every message in the GP's thread is decrypted (no duplicate, no alarm)",
         json.dumps(bad, ensure_ascii=False)[:3000])
    bodies = [(m.get("content") or {}).get("body") for m in msgs]
    for body in sent:
        t.eq(bodies.count(body), 1, f"exactly once in the GP's thread: {body[:30]}…")
    for who in ("roux", "durand"):
        rc, msgs, err = thread_of(c[who], channel)
        bodies = [(m.get("content") or {}).get("body") for m in msgs if m.get("status") == "ok"]
        t.ok(rc == 0 and all(bodies.count(b) == 1 for b in sent),
             f"{who} reads every message once, including what the GP sent beside watch",
             f"{bodies}\n{err}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        c = enrol_all(t, srv)
        ref, channel = discharge(t, srv, c)
        watch = Watch(c["martin"])
        try:
            time.sleep(2 * harness.SLOW)
            sent = side_by_side(t, c, ref, channel, watch)
        finally:
            rc, err = watch.stop()
        t.eq(rc, 0, "watch stops cleanly on Ctrl-C", err)
        t.ok(not any(r in err for r in REFUSALS), "watch reported no conflict on its profile", err)
        t.ok(not harness.BAD_LOG.search(err or ""), "watch printed no sanitizer report", err)
        consistent(t, c, channel, sent)
        lock_wait(t, srv, c)


if __name__ == "__main__":
    run(main, PLAN)
