#!/usr/bin/env python3
"""test_admin_revoke.py — an administrator revokes a device with
`liaisond revoke` (another process) while that device is connected: the
running server notices (PRAGMA data_version), closes the device's
connection with 1008 "device revoked" within a few seconds, and the device
receives no message sent after the revocation (the other member keeps
sending while the connection is still open); the other member is not
disturbed. TAP on stdout."""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Server, b64, make_envelope, raw_channel, raw_enrol, raw_login,  # noqa: E402
                     run)

PLAN = 11
AFTER = 20  # messages sent after the revocation, while the device is still connected


def main(t):
    if not harness.require_programs(t, client=False):
        return
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        alice, bruno = (raw_enrol(srv, srv.invite(None, name, "coordinator", "450000005"))
                        for name in ("Alice Martin", "Bruno Petit"))
        a_ws = raw_login(srv, alice)
        chain = raw_channel(a_ws, alice, [bruno])
        b_ws = raw_login(srv, bruno)

        def send():
            return a_ws.request({"op": "send", "idem": os.urandom(8).hex(),
                                 "channel": chain.channel.hex(),
                                 "envelope": b64(make_envelope(chain.channel, alice.device))})

        r = send()
        ev = b_ws.recv_event("message", timeout=5 * harness.SLOW) if r.get("ok") else None
        t.ok(ev is not None, "before the revocation the device receives messages")

        # Bruno's connection is read by a thread from here on: every message
        # event it gets until the server closes it
        seen, close = [], []

        def bruno_reads():
            close.append(read_until_close(b_ws, seen, 10 * harness.SLOW))

        reader = threading.Thread(target=bruno_reads)
        reader.start()
        srv.admin("revoke", "--device", bruno.device.hex())
        # the revocation is committed: whatever is sent from now on must not
        # reach the revoked device, even before the server closes it
        after, refused = [], []
        for _ in range(AFTER):
            r = send()
            (after if r.get("ok") is True else refused).append(r.get("seq", r))
            if not reader.is_alive():
                break
            time.sleep(0.02)
        reader.join()
        close = close[0] if close else ("none",)
        t.ok(close[0] == "close" and close[1] == 1008 and "revoked" in close[2],
             "the running server closes the revoked device's connection with 1008",
             repr(close))
        got = [s for s in seen if s in after]
        t.ok(after and not got,
             f"the revoked device receives none of the {len(after)} messages sent after "
             "the revocation (before its connection was closed)",
             f"received seqs {got}; sent after the revocation {after}; refused {refused}")
        r = send()
        t.ok(r.get("ok") is True, "the other member keeps sending", repr(r))
        t.ok(a_ws.ping().get("ok") is True, "and is served")
        b_ws.close()
        ws = harness.RawWS(srv.port)
        hello = ws.recv_event("hello")
        r = ws.request(bruno.login_request("localhost", hello["challenge"]))
        t.ok(r.get("ok") is False and r["error"]["code"] == "device_revoked",
             "the revoked device cannot log in again", repr(r))
        ws.close()
        a_ws.close()
        t.ok("revoked by an administrator" in srv.log_text(),
             "the server logs that it acted on the revocation")


def read_until_close(ws, seen, timeout):
    """Read until the server closes; the seq of every message event goes to
    seen. ("close", code, reason), or ("eof", error)."""
    for ev in ws.events:
        if ev.get("ev") == "message":
            seen.append(ev.get("seq"))
    ws.events.clear()
    try:
        while True:
            msg = ws.recv(timeout=timeout)
            if msg[0] == "close":
                return msg
            if msg[0] == "text":
                obj = json.loads(msg[1])
                if obj.get("ev") == "message":
                    seen.append(obj.get("seq"))
    except (OSError, ConnectionError) as e:
        return ("eof", repr(e))


if __name__ == "__main__":
    run(main, PLAN)
