#!/usr/bin/env python3
"""test_crash.py — crash safety of liaisond (issue 7, item 2): under load from
raw protocol clients (two logged-in devices pipelining channel messages, key
shares to each other's device, case openings and step completions), the
server is killed with SIGKILL at a random moment, restarted on the same data
directory, and the clients reconnect and retry every request that was not
acknowledged, with its same idempotency key, until everything is
acknowledged. This repeats CRASH_KILLS times (default 20, in both builds:
about 9 s plain, 10 s under ASan+UBSan; CRASH_KILLS=500 is the long form).
At the end, after a clean stop, the database file is read with sqlite3:

- every acknowledged message is stored exactly once, at the seq of its ack;
- every acknowledged key share (to-device) is queued exactly once;
- every acknowledged case opening exists once, every acknowledged step
  completion is recorded with the done_at of its ack (a retry never applied
  it a second time: it got the stored reply, never step_done);
- PRAGMA integrity_check says ok, and foreign keys hold.

The server checkpoints every 8 WAL pages on its checkpoint thread, and on
the committing thread past 40, so kills land in checkpoints of both kinds.

Power loss (CRASH_POWERLOSS=1, meson tests integration_powerloss_pipeline_on
and _off): liaisond runs under tests/powerloss_shim.c (LD_PRELOAD), which
keeps a copy of the database and of its WAL as each was when its last
completed sync began; after each kill the files are replaced by these
copies and the -shm is removed — what a power cut leaves, nothing written
since the last completed sync — before the restart. An acknowledgement sent before the sync that
covers it shows up as an acknowledged message missing. CRASH_PIPELINE=on|off
sets commit_pipeline.

The client side (killed between its ratchet step and its send) is covered by
test_e2e_replay.py. CRASH_SEED=n replays a run. TAP on stdout."""

import base64
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections import deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawWS, Server, b64, error_code, run  # noqa: E402
from test_cases_wire import enrol_roles  # noqa: E402
from test_threads_wire import Log, envelope  # noqa: E402

PLAN = 19

WINDOW = 8          # requests in flight per connection
DISCONNECTED = (OSError, ssl.SSLError, ConnectionError, socket.timeout, harness.WSClosed,
                harness.HarnessError, ValueError)


class Item:
    """One write: its request (fixed idem, so a retry is the same request),
    what to check once acknowledged, and what to do with the reply."""

    def __init__(self, kind, req, on_ack=None, **check):
        self.kind = kind
        self.req = req
        self.on_ack = on_ack
        self.check = check
        self.reply = None
        self.tries = 0


class Writer:
    """A device that keeps writing; pending holds, in order, what is not
    acknowledged yet (in flight or waiting)."""

    def __init__(self, name, ident, rng, counter):
        self.name = name
        self.ident = ident
        self.rng = rng
        self.counter = counter
        self.ws = None
        self.pending = deque()      # not acknowledged, in order
        self.inflight = deque()     # (rid, item), sent on the current connection
        self.acked = []
        self.errors = []
        self.peer = None            # the other Writer (key-share recipient)
        self.channel = None         # the shared channel for messages
        self.make_extra = None      # extra items (cases, steps) for this writer

    def idem(self, prefix):
        self.counter[0] += 1
        return f"{prefix}-{self.name}-{self.counter[0]}"

    def connect(self, port, timeout):
        self.ws = RawWS(port, timeout=timeout)
        hello = self.ws.recv_event("hello")
        r = self.ws.request(self.ident.login_request("localhost", hello["challenge"]))
        if r.get("ok") is not True:
            raise harness.HarnessError(f"{self.name}: login refused: {r!r}")
        # everything sent and not acknowledged before is sent again, in order
        self.inflight.clear()

    def new_item(self):
        extra = self.make_extra() if self.make_extra else None
        if extra is not None:
            return extra
        if self.rng.random() < 0.7:
            env = envelope(self.channel, self.ident.device, 200 + self.rng.randrange(300))
            return Item("message", {"op": "send", "idem": self.idem("s"),
                                    "channel": self.channel.hex(), "envelope": b64(env)},
                        envelope=env)
        body = os.urandom(48)
        return Item("key_share", {"op": "to_device_send", "idem": self.idem("k"), "messages": [
            {"user": self.peer.ident.user.hex(), "device": self.peer.ident.device.hex(),
             "body": b64(body)}]}, body=body, recipient=self.peer.ident.device)

    def fill(self, budget):
        """Send until WINDOW requests are in flight; retries first."""
        sent_items = {id(item) for _, item in self.inflight}
        for item in list(self.pending):
            if len(self.inflight) >= WINDOW:
                return
            if id(item) not in sent_items:
                self.send(item)
        while len(self.inflight) < WINDOW and budget[0] > 0:
            budget[0] -= 1
            item = self.new_item()
            self.pending.append(item)
            self.send(item)

    def send(self, item):
        rid = self.ws.next_id
        self.ws.next_id += 1
        item.tries += 1
        self.ws.send_json(dict(item.req, id=rid))
        self.inflight.append((rid, item))

    def receive_one(self, timeout):
        rid, item = self.inflight[0]
        reply = self.ws.recv_reply(rid, timeout)
        self.ws.events.clear()      # pushed messages are not kept
        self.inflight.popleft()
        assert self.pending[0] is item, "replies come in order"
        self.pending.popleft()
        if reply.get("ok") is not True:
            self.errors.append((item.kind, item.req.get("op"), item.tries, reply))
            return
        item.reply = reply
        item.req = {"op": item.req["op"], "idem": item.req["idem"]}  # the rest is not needed
        self.acked.append(item)
        if item.on_ack:
            item.on_ack(item)


class Cases:
    """Case channels opened under load, and their steps completed one by one
    by the doctor (a coordinator: may complete any step)."""

    def __init__(self, doctor, gp):
        self.doctor = doctor
        self.gp = gp
        self.steps = []             # step ids ready to complete
        self.busy = False           # a channel or case creation is pending
        self.cpts = None            # the CPTS the cases belong to (org id)

    def next_item(self):
        w = self.doctor
        if not self.busy and len(self.steps) < 3:
            self.busy = True
            log = Log(os.urandom(16))
            e = log.entry(w.ident, "create", w.ident, role="admin", history="shared", kind="case")
            return Item("channel", {"op": "channel_create", "idem": w.idem("c"), "entry": e},
                        on_ack=lambda item: self.open_case(log), channel=log.channel)
        if self.steps and w.rng.random() < 0.3:
            step = self.steps.pop(0)
            return Item("step", {"op": "step_complete", "idem": w.idem("st"), "step": step},
                        step=step)
        return None

    def open_case(self, log):
        w = self.doctor
        today = time.strftime("%Y-%m-%d", time.gmtime())
        item = Item("case", {"op": "case_open", "idem": w.idem("o"), "channel": log.channel.hex(),
                             "pathway": "hospital_discharge", "j0": today, "cpts": self.cpts},
                    on_ack=self.case_opened, channel=log.channel)
        w.pending.append(item)

    def case_opened(self, item):
        self.steps += [s["id"] for s in item.reply.get("steps", [])]
        self.busy = False


POWERLOSS = os.environ.get("CRASH_POWERLOSS", "0") == "1"
power_cuts_losing = [0]     # cuts where the files differed from their synced copies


def same_file(a, b):
    if not (os.path.exists(a) and os.path.exists(b)):
        return os.path.exists(a) == os.path.exists(b)
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def power_cut(srv):
    """After the SIGKILL: leave the database and its WAL as they were at
    their last sync (copies kept by powerloss_shim.c), without the -shm."""
    db = os.path.join(srv.data, "liaison.db")
    if not os.path.exists(db + ".synced"):
        raise harness.HarnessError("power loss: the database was never synced")
    if not (same_file(db + ".synced", db) and same_file(db + "-wal.synced", db + "-wal")):
        power_cuts_losing[0] += 1
    shutil.copyfile(db + ".synced", db)
    if os.path.exists(db + "-wal.synced"):
        shutil.copyfile(db + "-wal.synced", db + "-wal")
    elif os.path.exists(db + "-wal"):
        os.unlink(db + "-wal")
    if os.path.exists(db + "-shm"):
        os.unlink(db + "-shm")


def restart(srv):
    """Start liaisond again on the same data directory and port."""
    if POWERLOSS:
        power_cut(srv)
    log = open(srv.log_path, "ab")
    srv.proc = subprocess.Popen(srv.common_args(), stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)
    log.close()
    if not srv.wait_healthy(30 * harness.SLOW):
        raise harness.HarnessError("liaisond did not come back after a kill:\n"
                                   + harness.clip(srv.log_text()))


def load_until_killed(srv, writers, rng, budget, kill_after):
    """Pipeline requests until the server dies (killed by a timer). Returns
    (exit status as Popen gives it, whether our timer sent SIGKILL): a
    cycle is only a crash test when the server died of our SIGKILL, never
    on its own (a segfault, an abort, an exit)."""
    proc = srv.proc
    killed = threading.Event()

    def kill():
        if proc.poll() is None:
            killed.set()
            proc.send_signal(signal.SIGKILL)

    timer = threading.Timer(kill_after, kill)
    timer.start()
    try:
        while True:
            for w in writers:
                w.fill(budget)
            progressed = False
            for w in writers:
                if w.inflight:
                    w.receive_one(5 * harness.SLOW)
                    progressed = True
            if not progressed:  # nothing left to send: wait for the kill
                time.sleep(0.01)
                if proc.poll() is not None:
                    return
    except DISCONNECTED:
        pass  # the server went away: how is checked below, from its exit status
    finally:
        timer.cancel()
        proc.wait()
    return proc.returncode, killed.is_set()


def describe_status(status):
    if status is None:
        return "still running"
    if status < 0:
        try:
            return signal.Signals(-status).name
        except ValueError:
            return f"signal {-status}"
    return f"exit {status}"


def drain(writers, timeout):
    """After the last restart: retry until nothing is pending."""
    deadline = time.monotonic() + timeout
    budget = [0]
    while any(w.pending for w in writers) and time.monotonic() < deadline:
        for w in writers:
            w.fill(budget)
        for w in writers:
            if w.inflight:
                w.receive_one(5 * harness.SLOW)


def check_database(t, path, writers, doctor):
    db = sqlite3.connect(path)
    try:
        t.eq(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)],
             "PRAGMA integrity_check is ok")
        t.eq(db.execute("PRAGMA foreign_key_check").fetchall(), [],
             "PRAGMA foreign_key_check finds nothing")
        acked = [item for w in writers for item in w.acked]
        by_kind = {}
        for item in acked:
            by_kind.setdefault(item.kind, []).append(item)
        # one pass over each table (a query per item would be quadratic)
        stored = {}
        for env, seq in db.execute("SELECT envelope, seq FROM messages"):
            stored.setdefault(bytes(env), []).append(seq)
        bad = []
        for item in by_kind.get("message", []):
            rows = stored.get(item.check["envelope"], [])
            if rows != [item.reply.get("seq")]:
                bad.append((item.req["idem"], item.reply.get("seq"), rows))
        t.ok(not bad and by_kind.get("message"), f"each of the {len(by_kind.get('message', []))} "
             "acknowledged messages is stored exactly once, at its acknowledged seq",
             repr(bad[:10]))
        queued = {}
        for body, dev in db.execute("SELECT body, recipient_device FROM to_device"):
            key = (bytes(body), bytes(dev))
            queued[key] = queued.get(key, 0) + 1
        bad = []
        for item in by_kind.get("key_share", []):
            n = queued.get((item.check["body"], item.check["recipient"]), 0)
            if n != 1:
                bad.append((item.req["idem"], n))
        t.ok(not bad and by_kind.get("key_share"), f"each of the "
             f"{len(by_kind.get('key_share', []))} acknowledged key shares is queued exactly once",
             repr(bad[:10]))
        bad = []
        for item in by_kind.get("case", []):
            rows = db.execute("SELECT hex(id) FROM cases WHERE channel_id = ?",
                              (item.check["channel"],)).fetchall()
            want = (item.reply.get("case") or {}).get("case", "").upper()
            if rows != [(want,)]:
                bad.append((item.req["idem"], want, rows))
        t.ok(not bad and by_kind.get("case"), f"each of the {len(by_kind.get('case', []))} "
             "acknowledged case openings exists exactly once", repr(bad[:10]))
        bad = []
        for item in by_kind.get("step", []):
            step = item.reply.get("step") or {}
            row = db.execute("SELECT status, done_at, hex(done_by) FROM case_steps WHERE id = ?",
                             (item.check["step"],)).fetchone()
            want = ("done", step.get("done_at"), doctor.ident.user.hex().upper())
            if row != want or step.get("status") != "done":
                bad.append((item.req["idem"], want, row))
        t.ok(not bad and by_kind.get("step"), f"each of the {len(by_kind.get('step', []))} "
             "acknowledged step completions is recorded once, with the done_at of its ack",
             repr(bad[:10]))
        return {k: len(v) for k, v in by_kind.items()}
    finally:
        db.close()


def main(t):
    if not harness.require_programs(t, client=False):
        return
    kills = int(os.environ.get("CRASH_KILLS", "20"))
    seed = int(os.environ.get("CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
    rng = random.Random(seed)
    t.diag(f"{kills} kills (CRASH_KILLS), CRASH_SEED={seed}"
           f"{', sanitizer build: load phases 3 times longer' if harness.SANITIZED else ''}")
    started = time.monotonic()
    # the load runs as fast as the server acknowledges: the request-rate
    # limits (test_ratelimit.py) are not what this test is about, nor the
    # caps of the to-device queue its key shares fill (test_bounds.py)
    limits = {"rate_conn_per_s": 1000000, "rate_conn_burst": 1000000,
              "rate_user_per_s": 1000000, "rate_user_burst": 1000000,
              "todevice_max_queued": 0, "todevice_max_per_sender": 0,
              # checkpoints all the time, on the checkpoint thread and past
              # the WAL's bound on the committing thread, so that kills
              # and power cuts land in them (docs/OPERATIONS.md, point 4)
              "checkpoint_pages": 8, "wal_max_pages": 40}
    if POWERLOSS:
        limits["commit_pipeline"] = os.environ.get("CRASH_PIPELINE", "on")
        shim = os.environ.get("LSN_POWERLOSS_SHIM", "")
        if not os.path.exists(shim):
            raise harness.HarnessError(f"power loss: no shim at LSN_POWERLOSS_SHIM={shim!r}")
        t.diag(f"power loss after each kill; commit_pipeline = {limits['commit_pipeline']}")
    srv = Server(t, config=limits)
    if POWERLOSS:
        os.environ["LD_PRELOAD"] = os.environ["LSN_POWERLOSS_SHIM"]
        os.environ["LSN_POWERLOSS_DIR"] = os.path.realpath(srv.tmp) + "/data"
        # the shim is built without sanitizers and preloaded before their runtime
        os.environ["ASAN_OPTIONS"] = ":".join(
            x for x in (os.environ.get("ASAN_OPTIONS", ""), "verify_asan_link_order=0") if x)
    with srv:
        srv.admin("org", "add", "--name", "CHR Orléans", "--finess", "450000005",
                  "--kind", "hospital")
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "370000481",
                  "--kind", "cpts")
        # the doctor also coordinates the CPTS the cases belong to
        doctor_id = enrol_roles(srv, t, "10101010105", "Dr Anne Hôpital", "hospital_doctor",
                                "member,discharge,coordinator", org="370000481")
        gp_id = enrol_roles(srv, t, "10000000009", "Dr Paul Ville", "gp", "member",
                            org="370000481")
        counter = [0]
        doctor = Writer("doctor", doctor_id, rng, counter)
        gp = Writer("gp", gp_id, rng, counter)
        doctor.peer, gp.peer = gp, doctor
        writers = [doctor, gp]

        # the shared channel, made before the load
        doctor.connect(srv.port, 10 * harness.SLOW)
        channel = os.urandom(16)
        log = Log(channel)
        e = log.entry(doctor_id, "create", doctor_id, role="admin", history="shared", kind="team")
        r1 = doctor.ws.request(op="channel_create", idem="setup-c", entry=e)
        log.last = e
        e = log.entry(doctor_id, "add", gp_id, role="member")
        r2 = doctor.ws.request(op="channel_append", idem="setup-a", entry=e)
        t.ok(r1.get("ok") is True and r2.get("ok") is True, "a channel of the two devices",
             repr((r1, r2)))
        doctor.ws.close()
        doctor.channel = gp.channel = channel
        cases = Cases(doctor, gp)
        cases.cpts = next(o["id"] for o in json.loads(srv.admin("org", "list", "--json"))
                          if o["kind"] == "cpts")
        doctor.make_extra = cases.next_item

        budget = [10 ** 9]
        reconnect_failures = []
        not_ours = []               # cycles that did not end by our SIGKILL
        for k in range(kills):
            try:
                for w in writers:
                    w.connect(srv.port, 10 * harness.SLOW)
            except DISCONNECTED as e:
                reconnect_failures.append((k, repr(e)))
            # die at a random moment: often early (mid-start of the load), up to 0.6 s in
            kill_after = rng.choice([rng.uniform(0.0, 0.1), rng.uniform(0.05, 0.6)]) * harness.SLOW
            status, ours = load_until_killed(srv, writers, rng, budget, kill_after)
            if status != -signal.SIGKILL or not ours:
                not_ours.append(f"cycle {k + 1}: exit status {status} "
                                f"({describe_status(status)}), our SIGKILL "
                                f"{'sent' if ours else 'not sent'}")
            for w in writers:
                w.ws.close()
            restart(srv)
        t.eq(not_ours, [], f"each of the {kills} cycles ended by our SIGKILL (exit status "
             f"-{int(signal.SIGKILL)}), never by the server dying on its own",
             harness.clip("\n".join(l for l in srv.log_text().splitlines()
                                     if harness.BAD_LOG.search(l))[-3000:]))
        t.eq(reconnect_failures, [], f"after each of the {kills} kills the server restarts on "
             "the same data and both devices log in again")
        for w in writers:
            w.connect(srv.port, 10 * harness.SLOW)
        drain(writers, 60 * harness.SLOW)
        t.ok(not any(w.pending for w in writers), "every request was finally acknowledged "
             "(retries with the same idempotency key)",
             repr([(w.name, len(w.pending)) for w in writers]))
        errors = [e for w in writers for e in w.errors]
        t.ok(not errors, "no request or retry was refused (a retry of a committed write gets "
             "the stored reply, never conflict or step_done)", repr(errors[:5]))
        retried = sum(1 for w in writers for item in w.acked if item.tries > 1)
        t.ok(retried > 0, f"the kills interrupted requests in flight ({retried} acknowledged "
             "only after a retry)")
        for w in writers:
            w.ws.close()
        srv.stop()
        counts = check_database(t, os.path.join(srv.data, "liaison.db"), writers, doctor)
        rc, out, err = srv.admin_run("check")
        t.eq(rc, 0, "liaisond check passes on the data after the kills", out + err)
        t.diag(f"{kills} kills in {time.monotonic() - started:.1f} s; acknowledged: {counts}; "
               f"{retried} acknowledged after a retry")
        if POWERLOSS:
            t.diag(f"{power_cuts_losing[0]} of the {kills} power cuts dropped writes made "
                   "since the last sync")


if __name__ == "__main__":
    run(main, PLAN)
