#!/usr/bin/env python3
"""test_shutdown.py — SIGTERM with clients connected: every client receives a
close frame with code 1001, the server exits 0 within 10 s, and the database
it leaves behind passes `liaisond check` and serves again. TAP on stdout."""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawWS, Server, https_get, run  # noqa: E402

PLAN = 16


def wait_close(ws, timeout=10):
    """Read until a close frame; returns (code, reason) or a description."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = ws.recv(timeout=max(0.05, deadline - time.monotonic()))
            if msg[0] == "close":
                return msg[1], msg[2]
    except Exception as e:  # noqa: BLE001 - EOF, reset, timeout: all reported
        return None, f"no close frame: {type(e).__name__}: {e}"
    return None, "no close frame before the timeout"


def main(t):
    if not harness.require_programs(t, client=False):
        return
    with Server(t) as srv:
        idle = RawWS(srv.port)
        idle.recv_event("hello")
        busy = RawWS(srv.port)
        busy.recv_event("hello")
        r = busy.ping()
        t.ok(r.get("ok") is True, "clients are connected and served before SIGTERM", repr(r))
        # leave a request in flight on one connection as the signal arrives
        busy.send_json({"id": 2, "op": "ping"})
        srv.terminate()

        for name, ws in (("idle", idle), ("busy", busy)):
            code, reason = wait_close(ws)
            t.eq(code, 1001, f"{name} client receives a close frame with code 1001",
                 f"reason: {reason!r}; replies/events seen: {ws.events!r}")
            ws.close()
        for ev in busy.events:
            t.diag(f"event before close: {ev!r}")

        code = srv.stop()  # reports: exits 0 within 10 s, clean log
        if code == 0:
            rc, out, err = srv.admin_run("check")
            t.eq(rc, 0, "liaisond check passes on the database left by the shutdown",
                 f"{out}\n{err}")
            # and the same data directory serves again
            # (init runs again first: it must be idempotent)
            again = Server(t)
            shutil.rmtree(again.tmp, ignore_errors=True)
            again.tmp, again.data = srv.tmp, srv.data
            again.log_path = os.path.join(srv.tmp, "server-again.log")
            with again:
                status, body = https_get(again.port, "/healthz")
                t.eq((status, body.strip()), (200, "ok"), "the server starts again on the same "
                     "data directory")
                with RawWS(again.port) as ws:
                    hello = ws.recv_event("hello")
                    t.eq(hello.get("protocol"), 1, "and greets new clients")
    unresponsive_client(t)


def unresponsive_client(t):
    """A peer that stops reading (a laptop that went to sleep, a dead network)
    never answers the close handshake: shutdown must not wait for it."""
    with Server(t) as srv:
        ws = RawWS(srv.port)
        ws.recv_event("hello")
        ws.ping()
        t0 = time.monotonic()
        srv.stop(label="with a client that never answers the close: ")
        t.diag(f"with a client that does not read, liaisond stopped after "
               f"{time.monotonic() - t0:.1f} s (killed after 10 s)")
        ws.close()


if __name__ == "__main__":
    run(main, PLAN)
