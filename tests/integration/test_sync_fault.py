#!/usr/bin/env python3
"""test_sync_fault.py — a disk that hangs or fails under liaisond (issue 17):
liaisond runs under tests/syncfault_shim.c (LD_PRELOAD), which makes the
syncs of its WAL stall or fail (EIO) while a control file exists.

With the pipelined commit (docs/OPERATIONS.md, "Durability"):
- while the sync stalls, a write is not acknowledged, and neither is a
  read (it could show the write); no event reaches the other member;
  once the sync returns, the reply and the event go out;
- a connection that keeps sending while the replies wait for the disk is
  closed (1008) once its held replies pass its output queue's hard limit
  (outq_max_frames), while the others wait undisturbed;
- a failed sync is final: the write it covered is answered "storage" and
  its connection closed (1011), the log says to restart liaisond, and no
  later write is acknowledged, even once the disk works again;
- after a restart, the writes retried with their idempotency keys are
  acknowledged, every acknowledged message is stored exactly once, and
  PRAGMA integrity_check is ok.

Without the pipeline (commit_pipeline = off: SQLite syncs inside COMMIT,
on the commit thread), a failed sync answers "storage" and closes the
connection too, and nothing answered "storage" is lost to a retry.
TAP on stdout."""

import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawWS, Server, b64, error_code, run  # noqa: E402
from test_cases_wire import enrol_roles  # noqa: E402
from test_threads_wire import Log, connect, envelope  # noqa: E402

PLAN = 47

LIMITS = {"rate_conn_per_s": 1000000, "rate_conn_burst": 1000000,
          "rate_user_per_s": 1000000, "rate_user_burst": 1000000,
          "outq_max_frames": 64}


def touch(path):
    with open(path, "w"):
        pass


def silent(ws, seconds):
    """Nothing at all arrives on ws for this long (a reply would be an ack)."""
    try:
        msg = ws.recv(timeout=seconds)
    except Exception:  # noqa: BLE001 - a timeout is what we want
        return True, None
    return False, msg


def drain(*conns):
    """Read what is already on its way (the events of earlier messages)."""
    for ws in conns:
        while True:
            quiet, _ = silent(ws, 0.3)
            if quiet:
                break


def restart(srv, log_name):
    """liaisond again on the same data directory and port, logging to a new
    file (the first run's log has the sync failure's ERROR lines)."""
    srv.log_path = os.path.join(srv.tmp, log_name)
    srv.stopped = srv.signalled = False
    log = open(srv.log_path, "ab")
    srv.proc = subprocess.Popen(srv.common_args(), stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)
    log.close()
    if not srv.wait_healthy(30 * harness.SLOW):
        raise harness.HarnessError("liaisond did not start again:\n" + harness.clip(srv.log_text()))


def stored(srv, env):
    """How many times envelope env is stored."""
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    try:
        return db.execute("SELECT count(*) FROM messages WHERE envelope = ?", (env,)).fetchone()[0]
    finally:
        db.close()


def integrity(srv):
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


def setup(srv, t, label):
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "370000481",
              "--kind", "cpts")
    doctor = enrol_roles(srv, t, "10101010105", "Dr Anne Hôpital", "hospital_doctor",
                         "member", org="370000481")
    gp = enrol_roles(srv, t, "10000000009", "Dr Paul Ville", "gp", "member", org="370000481")
    a = connect(srv, doctor)
    b = connect(srv, gp)
    channel = os.urandom(16)
    log = Log(channel)
    e = log.entry(doctor, "create", doctor, role="admin", history="shared", kind="team")
    r1 = a.request(op="channel_create", idem=f"{label}-c", entry=e)
    log.last = e
    e = log.entry(doctor, "add", gp, role="member")
    r2 = a.request(op="channel_append", idem=f"{label}-a", entry=e)
    t.ok(r1.get("ok") is True and r2.get("ok") is True, f"{label}: a channel of the two",
         repr((r1, r2)))
    return doctor, gp, a, b, channel


def send_req(ws, channel, device, idem, env):
    rid = ws.next_id
    ws.next_id += 1
    ws.send_json({"id": rid, "op": "send", "idem": idem, "channel": channel.hex(),
                  "envelope": b64(env)})
    return rid


def clear_faults(ctl):
    for name in ("stall", "fail"):
        try:
            os.unlink(os.path.join(ctl, name))
        except FileNotFoundError:
            pass


def with_faults(t, pipeline, steps):
    """A server with commit_pipeline = pipeline under the shim, its control
    directory, and steps(t, srv, ctl)."""
    srv = Server(t, config=dict(LIMITS, commit_pipeline=pipeline))
    ctl = os.path.join(srv.tmp, "ctl")
    os.makedirs(ctl)
    os.environ["LSN_SYNCFAULT_CTL"] = ctl
    os.environ["LSN_SYNCFAULT_DIR"] = os.path.realpath(srv.tmp) + "/data"
    with srv:
        try:
            steps(t, srv, ctl)
        finally:
            clear_faults(ctl)       # a failed check must not leave the server hanging


def pipelined_steps(t, srv, ctl):
    if True:
        t.ok("commit: pipelined" in srv.log_text(), "the server commits pipelined",
             harness.clip(srv.log_text()))
        doctor, gp, a, b, channel = setup(srv, t, "on")
        m1 = envelope(channel, doctor.device)
        r = a.recv_reply(send_req(a, channel, doctor.device, "m1", m1), 10)
        t.ok(r.get("ok") is True, "a message is acknowledged while the disk works", repr(r))
        b.recv_event("message", 10)

        f = connect(srv, doctor)    # logged in while the disk works
        drain(a, b, f)

        # the disk hangs
        touch(os.path.join(ctl, "stall"))
        m2 = envelope(channel, doctor.device)
        rid2 = send_req(a, channel, doctor.device, "m2", m2)
        quiet, msg = silent(a, 1.5 * harness.SLOW)
        t.ok(quiet, "while the sync stalls, the write is not acknowledged", repr(msg))
        rid_b = b.next_id
        b.next_id += 1
        b.send_json({"id": rid_b, "op": "channels"})
        quiet, msg = silent(b, 1.0 * harness.SLOW)
        t.ok(quiet, "nor is a read answered, and the other member gets no event", repr(msg))

        # a connection that keeps sending while its replies wait for the disk
        for _ in range(100):
            f.send_json({"id": f.next_id, "op": "channels"})
            f.next_id += 1
        closed = None
        deadline = time.monotonic() + 10 * harness.SLOW
        while closed is None and time.monotonic() < deadline:
            try:
                msg = f.recv(timeout=max(0.1, deadline - time.monotonic()))
            except Exception as e:  # noqa: BLE001
                closed = ("error", repr(e))
                break
            if msg[0] == "close":
                closed = msg
            else:
                closed = ("unexpected", msg)
        t.ok(closed is not None and closed[0] == "close" and closed[1] == 1008,
             "a connection with more held replies than its queue may take is closed (1008)",
             repr(closed))
        t.ok(closed is not None and closed[0] == "close" and
             "waiting for the disk" in closed[2], "the close reason says why", repr(closed))
        t.ok(os.path.exists(os.path.join(ctl, "stall")),
             "… while the sync still stalls (the close did not wait for the disk)")
        t.ok("replies" in srv.log_text() and "waiting for the disk; disconnecting"
             in srv.log_text(), "the log names the connection, not the content",
             harness.clip(srv.log_text()[-2000:]))
        quiet, msg = silent(a, 0.3)
        t.ok(quiet, "the writer's connection still waits, undisturbed", repr(msg))

        # the disk comes back
        os.unlink(os.path.join(ctl, "stall"))
        r = a.recv_reply(rid2, 10 * harness.SLOW)
        t.ok(r.get("ok") is True, "once the sync returns, the write is acknowledged", repr(r))
        r = b.recv_reply(rid_b, 10 * harness.SLOW)
        t.ok(r.get("ok") is True, "… the read is answered", repr(r))
        ev = b.recv_event("message", 10 * harness.SLOW)
        t.ok(ev.get("seq") == 2 and ev.get("envelope") == b64(m2),
             "… and the other member gets the message", repr(ev)[:300])
        with open(os.path.join(ctl, "log")) as fh:
            t.ok("stalled" in fh.read().split(), "the shim saw the server wait on a stalled sync")

        # the disk fails
        touch(os.path.join(ctl, "fail"))
        m3 = envelope(channel, doctor.device)
        r = a.recv_reply(send_req(a, channel, doctor.device, "m3", m3), 10 * harness.SLOW)
        t.eq(error_code(r), "storage", "a write whose sync fails is answered \"storage\"")
        t.ok("retry" in r.get("error", {}).get("message", ""),
             "… with what to do (retry with the same idem key)", repr(r))
        msg = a.recv(timeout=10 * harness.SLOW)
        t.ok(msg[0] == "close" and msg[1] == 1011, "… and its connection is closed (1011)",
             repr(msg))
        log = srv.log_text()
        t.ok("fdatasync" in log and "failed" in log and "restart liaisond" in log,
             "the log says the sync failed and to restart liaisond", harness.clip(log[-2000:]))

        # final: the disk works again, but nothing is acknowledged any more
        os.unlink(os.path.join(ctl, "fail"))
        m4 = envelope(channel, gp.device)
        b_reply = b.recv_reply(send_req(b, channel, gp.device, "m4", m4), 10 * harness.SLOW)
        t.eq(error_code(b_reply), "storage",
             "after a failed sync no write is acknowledged, even with the disk back")
        b.close()

        srv.stop(check=False)
        t.eq(srv.exit_code, 0, "liaisond still stops cleanly on SIGTERM")

        restart(srv, "server-2.log")
        a2 = connect(srv, doctor)
        b2 = connect(srv, gp)
        r3 = a2.recv_reply(send_req(a2, channel, doctor.device, "m3", m3), 10 * harness.SLOW)
        r4 = b2.recv_reply(send_req(b2, channel, gp.device, "m4", m4), 10 * harness.SLOW)
        t.ok(r3.get("ok") is True and r4.get("ok") is True,
             "after a restart the writes answered \"storage\" are acknowledged on retry",
             repr((r3, r4)))
        a2.close()
        b2.close()
        for name, env in (("m1", m1), ("m2", m2), ("m3", m3), ("m4", m4)):
            t.eq(stored(srv, env), 1, f"{name} is stored exactly once")
        t.eq(integrity(srv), [("ok",)], "PRAGMA integrity_check is ok")


def unpipelined_steps(t, srv, ctl):
    if True:
        t.ok("commit: pipelined" not in srv.log_text(), "off: the server commits on its thread")
        doctor, gp, a, b, channel = setup(srv, t, "off")
        m1 = envelope(channel, doctor.device)
        r = a.recv_reply(send_req(a, channel, doctor.device, "p1", m1), 10)
        t.ok(r.get("ok") is True, "off: acknowledged while the disk works", repr(r))
        drain(a, b)

        touch(os.path.join(ctl, "stall"))
        m2 = envelope(channel, doctor.device)
        rid2 = send_req(a, channel, doctor.device, "p2", m2)
        quiet, msg = silent(a, 1.5 * harness.SLOW)
        t.ok(quiet, "off: while COMMIT's sync stalls, the write is not acknowledged", repr(msg))
        touch(os.path.join(ctl, "fail"))
        os.unlink(os.path.join(ctl, "stall"))
        r = a.recv_reply(rid2, 10 * harness.SLOW)
        t.eq(error_code(r), "storage", "off: a write whose sync fails is answered \"storage\"")
        msg = a.recv(timeout=10 * harness.SLOW)
        t.ok(msg[0] == "close" and msg[1] == 1011, "off: and its connection is closed (1011)",
             repr(msg))
        os.unlink(os.path.join(ctl, "fail"))
        srv.stop(check=False)
        restart(srv, "server-2.log")
        a2 = connect(srv, doctor)
        r = a2.recv_reply(send_req(a2, channel, doctor.device, "p2", m2), 10 * harness.SLOW)
        t.ok(r.get("ok") is True, "off: after a restart the retry is acknowledged", repr(r))
        a2.close()
        t.eq(stored(srv, m1), 1, "off: the message acknowledged before is stored once")
        t.eq(stored(srv, m2), 1, "off: the retried message is stored once")
        t.eq(integrity(srv), [("ok",)], "off: PRAGMA integrity_check is ok")


def main(t):
    if not harness.require_programs(t, client=False):
        return
    shim = os.environ.get("LSN_SYNCFAULT_SHIM", "")
    if not os.path.exists(shim):
        raise harness.HarnessError(f"no shim at LSN_SYNCFAULT_SHIM={shim!r}")
    os.environ["LD_PRELOAD"] = shim
    # the shim is built without sanitizers and preloaded before their runtime
    os.environ["ASAN_OPTIONS"] = ":".join(
        x for x in (os.environ.get("ASAN_OPTIONS", ""), "verify_asan_link_order=0") if x)
    with_faults(t, "on", pipelined_steps)
    with_faults(t, "off", unpipelined_steps)


if __name__ == "__main__":
    run(main, PLAN)
