#!/usr/bin/env python3
"""test_admin_revoke.py — an administrator revokes a device with
`liaisond revoke` (another process) while that device is connected: the
running server notices (PRAGMA data_version), closes the device's
connection with 1008 "device revoked" within a few seconds, and the device
receives no message sent after the revocation; the other member is not
disturbed. TAP on stdout."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Server, b64, make_envelope, raw_channel, raw_enrol, raw_login,  # noqa: E402
                     run, wait_close)


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

        srv.admin("revoke", "--device", bruno.device.hex())
        close = wait_close(b_ws, 5 * harness.SLOW)
        t.ok(close[0] == "close" and close[1] == 1008 and "revoked" in close[2],
             "the running server closes the revoked device's connection with 1008",
             repr(close))
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


if __name__ == "__main__":
    run(main)
