#!/usr/bin/env python3
"""test_protocol.py — the wire protocol spoken byte by byte (docs/PROTOCOL.md):
hello, error replies, login failures, frame size cap, bad frames, pipelining,
and an enrolment + login made with openssl keys (an implementation independent
of libsodium) to check the server against the documented signed layouts.
Throughout, a second connection must keep answering ping. TAP on stdout."""

import base64
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (RawIdentity, RawWS, Server, Client, error_code, https_get,  # noqa: E402
                     metric_sum, run)

PLAN = 95

METRICS = ["liaison_connections", "liaison_requests_total", "liaison_errors_total",
           "liaison_commit_batches_total", "liaison_outq_drops_total"]


def b64_len(text):
    try:
        return len(base64.b64decode(text, validate=True))
    except (ValueError, TypeError):
        return -1


class Counter:
    """Counts the error replies this test provoked, to check /metrics later."""

    def __init__(self):
        self.errors = 0
        self.bad_json = 0

    def saw(self, reply):
        code = error_code(reply)
        if code:
            self.errors += 1
            if code == "bad_json":
                self.bad_json += 1
        return reply


ANY_ID = object()  # request() already matched the reply's id to the request


def check_error(t, reply, code, rid, name):
    ok = (isinstance(reply, dict) and reply.get("ok") is False and "id" in reply
          and (rid is ANY_ID or reply.get("id") == rid) and error_code(reply) == code
          and isinstance(reply["error"].get("message"), str) and reply["error"]["message"])
    want_id = "" if rid is ANY_ID else f" with id {rid!r}"
    return t.ok(ok, name, f"want error {code}{want_id} and a message, got {reply!r}")


def hello_checks(t, ws):
    t.eq(ws.protocol, "liaison.v1", "handshake selects subprotocol liaison.v1")
    hello = ws.recv_event("hello")
    t.eq(hello.get("server"), "localhost", "hello: server is the configured server name")
    t.eq(hello.get("protocol"), 1, "hello: protocol is 1")
    t.eq(b64_len(hello.get("challenge", "")), 32, "hello: challenge is 32 bytes of base64")
    mf = hello.get("max_frame")
    t.ok(isinstance(mf, int) and mf >= 4096, "hello: max_frame is an integer", repr(hello))
    t.eq(mf, 262144, "hello: max_frame is the default 262144")
    t.ok(isinstance(hello.get("version"), str), "hello: version is a string", repr(hello))
    return hello


def enrolled_ids(t, srv):
    """Enrol a user with the CLI; return (user hex, device hex) from whoami --json."""
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
              "--kind", "cpts")
    code = srv.invite("10101010105", "Dr Claire Martin", "gp", "450000005")
    cli = Client(srv, "claire")
    rc, out, err = cli.enrol(code)
    if not t.eq(rc, 0, "CLI enrols a user for the login tests", err):
        return None, None
    rc, obj, err = cli.json("whoami")
    user = obj.get("user") if isinstance(obj, dict) else None
    device = obj.get("device") if isinstance(obj, dict) else None
    ids = (user.get("id") if isinstance(user, dict) else None,
           device.get("id") if isinstance(device, dict) else None)
    t.ok(rc == 0 and all(isinstance(i, str) and len(i) == 32 for i in ids),
         "liaison --json whoami gives user.id and device.id", f"rc={rc} {obj!r} {err}")
    return ids


def bad_requests(t, ws, ws2, cnt):
    def alive(step):
        r = ws2.ping()
        t.ok(r.get("ok") is True and isinstance(r.get("ts"), int),
             f"second connection answers ping after {step}", repr(r))

    r = ws.ping()
    now = int(time.time() * 1000)
    t.ok(r.get("ok") is True and isinstance(r.get("ts"), int) and abs(r["ts"] - now) < 60000,
         "ping answers ok with the server time in ms", repr(r))

    ws.send_text("not JSON")
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_json", None, "not JSON -> bad_json, id null")
    alive("not JSON")
    ws.send_text("[]")
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_json", None, "[] -> bad_json, id null")
    ws.send_text('{"id":5,"op":"ping","op":"whoami"}')
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_json", None,
                "duplicate keys -> bad_json")
    check_error(t, cnt.saw(ws.request(id=41, op="no_such_op")), "unknown_op", 41,
                "unknown op -> unknown_op with the id echoed")
    r = cnt.saw(ws.request(id=42, op="invite_info"))
    check_error(t, r, "bad_request", 42, "invite_info without code -> bad_request")
    t.ok("code" in str(r.get("error", {}).get("message", "")),
         "bad_request message names the missing field", repr(r))
    r = cnt.saw(ws.request(id=43, op="invite_info", code=12345))
    check_error(t, r, "bad_request", 43, "invite_info with a number as code -> bad_request")
    ws.send_text('{"op":"ping"}')
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_request", None,
                "request without id -> bad_request, id null")
    ws.send_text('{"id":-4,"op":"ping"}')
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_request", None,
                "negative id -> bad_request, id null")
    ws.send_text('{"id":9007199254740992,"op":"ping"}')
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_request", None,
                "id 2^53 -> bad_request, id null")
    r = ws.request(id=9007199254740991, op="ping")
    t.ok(r.get("ok") is True, "id 2^53-1 is accepted and echoed", repr(r))
    check_error(t, cnt.saw(ws.request(id=44, op="whoami")), "not_logged_in", 44,
                "whoami before login -> not_logged_in")
    check_error(t, cnt.saw(ws.request(id=45, op="directory_search", q="x")), "not_logged_in",
                45, "directory_search before login -> not_logged_in")
    check_error(t, cnt.saw(ws.request(id=46, op="devices")), "not_logged_in", 46,
                "devices before login -> not_logged_in")
    r = cnt.saw(ws.request(id=47, op="invite_info", code="0000-0000-0000-0000-0000-0000"))
    check_error(t, r, "invite_unknown", 47, "invite_info with an unknown code -> invite_unknown")
    alive("the bad requests")


def login_failures(t, ws, ws2, cnt, user, device):
    hello_challenge = ws.hello["challenge"]
    r = cnt.saw(ws.request(id=50, op="login", user=user, device=device,
                           sig=harness.b64(os.urandom(64))))
    check_error(t, r, "bad_signature", 50, "login with a random signature -> bad_signature")
    r = cnt.saw(ws.request(id=51, op="login", user=user, device=device,
                           sig=harness.b64(os.urandom(64))))
    check_error(t, r, "no_challenge", 51, "second login on a used challenge -> no_challenge")
    r = ws.request(id=52, op="challenge")
    ok = r.get("ok") is True and b64_len(r.get("challenge", "")) == 32
    t.ok(ok, "challenge gives a fresh 32-byte challenge", repr(r))
    t.ok(r.get("challenge") != hello_challenge, "the new challenge differs from hello's")
    r = cnt.saw(ws.request(id=53, op="login", user=os.urandom(16).hex(),
                           device=os.urandom(16).hex(), sig=harness.b64(os.urandom(64))))
    check_error(t, r, "unknown_device", 53, "login as an unknown device -> unknown_device")
    ws.request(id=54, op="challenge")
    r = cnt.saw(ws.request(id=55, op="login", user=user, device=device,
                           sig=harness.b64(os.urandom(63))))
    check_error(t, r, "bad_request", 55, "login with a 63-byte signature -> bad_request")
    ws.request(id=58, op="challenge")
    r = cnt.saw(ws.request(id=56, op="login", user=user.upper(), device=device,
                           sig=harness.b64(os.urandom(64))))
    check_error(t, r, "bad_request", 56, "login with an uppercase hex id -> bad_request")
    check_error(t, cnt.saw(ws.request(id=57, op="whoami")), "not_logged_in", 57,
                "still not logged in after the failed logins")
    r = ws2.ping()
    t.ok(r.get("ok") is True, "second connection answers ping after the failed logins", repr(r))


def frame_limits(t, ws, ws2, cnt, max_frame):
    def padded(rid, size):
        head = '{"id":%d,"op":"ping","pad":"' % rid
        text = head + "x" * (size - len(head) - 2) + '"}'
        assert len(text) == size
        return text

    ws.send_text(padded(60, max_frame + 1))
    r = cnt.saw(ws.recv_reply(None, timeout=30))
    check_error(t, r, "too_large", None, "a frame of max_frame+1 bytes -> too_large, id null")
    r = ws.request(id=61, op="ping")
    t.ok(r.get("ok") is True, "the connection still answers ping after too_large", repr(r))
    r = ws2.ping()
    t.ok(r.get("ok") is True, "second connection answers ping after the oversized frame", repr(r))

    ws.send_text(padded(62, max_frame))
    r = ws.recv_reply(62, timeout=30)
    t.ok(r.get("ok") is True, "a frame of exactly max_frame bytes is accepted", repr(r))

    # the cap is on the message: many small fragments must not add up past it
    ws.send_fragmented(padded(63, max_frame + 1), 5)
    r = cnt.saw(ws.recv_reply(None, timeout=30))
    check_error(t, r, "too_large", None,
                "a fragmented message of max_frame+1 bytes -> too_large")
    r = ws.request(id=64, op="ping")
    t.ok(r.get("ok") is True, "ping works after the fragmented oversized message", repr(r))

    ws.send_fragmented('{"id":65,"op":"ping"}', 4)
    r = ws.recv_reply(65)
    t.ok(r.get("ok") is True, "a request split over 4 fragments is reassembled", repr(r))


def bad_frames(t, ws, ws2, cnt):
    for name, data in [("invalid UTF-8", b'{"id":70,"op":"p\xffng"}'),
                       ("an overlong UTF-8 encoding", b'{"id":71,"op":"ping","x":"\xc0\xaf"}'),
                       ("a UTF-8 surrogate", b'{"id":72,"op":"ping","x":"\xed\xa0\x80"}')]:
        ws.send_text(data)
        try:
            r = cnt.saw(ws.recv_reply(None))
        except harness.WSClosed as e:
            r = {"closed": e.code}
        check_error(t, r, "bad_json", None, f"a text frame with {name} -> bad_json")
        if r.get("closed"):
            return
    ws.send_binary(b'{"id":73,"op":"ping"}')
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_json", None, "a binary frame -> bad_json")
    ws.send_text(b'{"id":74,"op":"ping","x":"\x00"}')
    check_error(t, cnt.saw(ws.recv_reply(None)), "bad_json", None,
                "a raw NUL inside a string -> bad_json")
    r = ws.request(id=75, op="ping")
    t.ok(r.get("ok") is True, "the connection still works after the bad frames", repr(r))
    r = ws2.ping()
    t.ok(r.get("ok") is True, "second connection answers ping after the bad frames", repr(r))


def pipelining(t, ws, cnt):
    """Requests sent back to back are answered one each, in order."""
    ops = ["ping", "whoami", "ping", "no_such_op", "ping", "challenge", "ping"]
    for i, op in enumerate(ops):
        ws.send_json({"id": 200 + i, "op": op})
    got = []
    for _ in ops:
        obj = ws.recv_json()
        while "ev" in obj:
            obj = ws.recv_json()
        got.append(cnt.saw(obj).get("id"))
    t.eq(got, [200 + i for i in range(len(ops))], "pipelined requests: one reply each, in order")


def plaintext_refused(t, srv, ws2):
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            s.settimeout(3)
            data = s.recv(100)
        except (socket.timeout, OSError):
            data = b""
    t.ok(not data.startswith(b"HTTP/1.1 200"), "no plaintext HTTP on the port", repr(data[:60]))
    r = ws2.ping()
    t.ok(r.get("ok") is True, "second connection answers ping after a plaintext client", repr(r))


def raw_enrol_and_login(t, srv, cnt):
    """Enrol and log in with keys made by openssl, byte layouts from the docs."""
    code = srv.invite("10123456781", "Dr Jeanne Lefèvre", "cardiologist", "450000005",
                      roles="member,coordinator")
    ident = RawIdentity(srv.tmp)
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(op="invite_info", code=code.lower().replace("-", " "))
        t.ok(r.get("ok") is True and r.get("rpps") == "10123456781"
             and r.get("name") == "Dr Jeanne Lefèvre" and r.get("profession") == "cardiologist"
             and r.get("roles") == ["member", "coordinator"]
             and isinstance(r.get("org"), dict) and r["org"].get("finess") == "450000005"
             and isinstance(r.get("expires_at"), int),
             "invite_info (lenient code) shows rpps, name, profession, org, roles", repr(r))

        req = ident.enrol_request(code)
        bad = dict(req, dk_sig=harness.b64(os.urandom(64)), idem="bad-sig-1")
        check_error(t, cnt.saw(ws.request(bad)), "bad_signature", ANY_ID,
                    "enrol with a wrong dk_sig -> bad_signature")
        # signed for another purpose: the AK certificate signed by IK instead of DK
        bad = dict(req, ak_sig=req["dk_sig"], idem="bad-sig-2")
        check_error(t, cnt.saw(ws.request(bad)), "bad_signature", ANY_ID,
                    "enrol with the dk certificate's signature as ak_sig -> bad_signature")
        r = ws.request(req)
        t.ok(r.get("ok") is True, "enrol with openssl-made signatures succeeds "
             "(server checks the documented dev/ak layouts)", repr(r))
        user = r.get("user") or {}
        t.ok(user.get("id") == ident.user.hex() and user.get("rpps") == "10123456781"
             and user.get("profession") == "cardiologist",
             "enrol reply carries the user fixed by the invite", repr(r))
        r2 = ws.request(req)
        t.ok(r2.get("ok") is True and (r2.get("user") or {}).get("id") == ident.user.hex(),
             "the same enrol retried with the same idem returns the stored reply", repr(r2))
        other = RawIdentity(srv.tmp)
        r3 = cnt.saw(ws.request(other.enrol_request(code)))
        check_error(t, r3, "invite_used", ANY_ID, "another enrol on the used invite -> "
                    "invite_used")
        check_error(t, cnt.saw(ws.request(id=300, op="whoami")), "not_logged_in", 300,
                    "enrol does not log the connection in")

    with RawWS(srv.port) as ws:
        hello = ws.recv_event("hello")
        # a signature for another server name must not work here
        wrong = ident.login_request("liaison.example.org", hello["challenge"])
        check_error(t, cnt.saw(ws.request(wrong)), "bad_signature", ANY_ID,
                    "login signed for another server name -> bad_signature")
        ch = ws.request(op="challenge")["challenge"]
        r = ws.request(ident.login_request("localhost", ch))
        t.ok(r.get("ok") is True and (r.get("user") or {}).get("id") == ident.user.hex()
             and (r.get("device") or {}).get("id") == ident.device.hex(),
             "login with an openssl-made signature over the documented layout", repr(r))
        r = ws.request(op="whoami")
        t.ok(r.get("ok") is True and (r.get("user") or {}).get("name") == "Dr Jeanne Lefèvre",
             "whoami after login", repr(r))
        ch = ws.request(op="challenge").get("challenge", "")
        r = cnt.saw(ws.request(ident.login_request("localhost", ch)))
        check_error(t, r, "already_logged_in", ANY_ID, "second login -> already_logged_in")
        r = ws.request(op="devices")
        devs = r.get("devices") if isinstance(r.get("devices"), list) else []
        t.ok(r.get("ok") is True and [d.get("id") for d in devs] == [ident.device.hex()]
             and devs[0].get("dk") == harness.b64(ident.dk.public)
             and devs[0].get("revoked_at") is None,
             "devices lists our one device with its key", repr(r))
        r = ws.request(op="directory_search", q="lefèvre")
        names = [u.get("name") for u in r.get("users", [])] if r.get("ok") else None
        t.eq(names, ["Dr Jeanne Lefèvre"], "directory_search is case-insensitive on accents "
             "(q=\"lefèvre\")")
        r = cnt.saw(ws.request(op="directory_search", limit=101))
        check_error(t, r, "bad_request", ANY_ID, "directory_search limit 101 -> bad_request")

    # a login signed over one connection's challenge does not work on another
    with RawWS(srv.port) as a, RawWS(srv.port) as b:
        ch_a = a.recv_event("hello")["challenge"]
        b.recv_event("hello")
        login_a = ident.login_request("localhost", ch_a)
        r = cnt.saw(b.request(dict(login_a)))
        check_error(t, r, "bad_signature", ANY_ID,
                    "a login signed for another connection's challenge -> bad_signature")
        r = a.request(dict(login_a))
        t.ok(r.get("ok") is True, "the same login works on the connection it was made for",
             repr(r))


def raw_revoke(t, srv, cnt):
    """device_revoke signed with openssl over the documented revoke layout."""
    code = srv.invite("10000000009", "Marc Petit", "nurse", "450000005")
    ident = RawIdentity(srv.tmp)
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(ident.enrol_request(code, device_name="tablette"))
        if not t.ok(r.get("ok") is True, "raw enrol of a second identity", repr(r)):
            return

    def logged_in():
        ws = RawWS(srv.port)
        hello = ws.recv_event("hello")
        r = ws.request(ident.login_request("localhost", hello["challenge"]))
        if r.get("ok") is not True:
            raise harness.HarnessError(f"login failed: {r!r}")
        return ws

    a, b = logged_in(), logged_in()
    try:
        ts = int(time.time() * 1000)
        sig = ident.ik.sign(harness.signed_revoke(ident.user, ident.device, ts))
        dk_sig = ident.dk.sign(harness.signed_revoke(ident.user, ident.device, ts))
        r = cnt.saw(a.request(op="device_revoke", idem="rv-bad-1", device=ident.device.hex(),
                              ts=ts, sig=harness.b64(dk_sig)))
        check_error(t, r, "bad_signature", ANY_ID,
                    "device_revoke signed by DK instead of IK -> bad_signature")
        r = cnt.saw(a.request(op="device_revoke", idem="rv-bad-2", device=ident.device.hex(),
                              ts=ts + 1, sig=harness.b64(sig)))
        check_error(t, r, "bad_signature", ANY_ID,
                    "device_revoke with a ts other than the signed one -> bad_signature")
        r = cnt.saw(a.request(op="device_revoke", idem="rv-bad-3", device=os.urandom(16).hex(),
                              ts=ts, sig=harness.b64(sig)))
        check_error(t, r, "not_found", ANY_ID, "device_revoke of a device not ours -> not_found")
        r = a.request(op="device_revoke", idem="rv-1", device=ident.device.hex(), ts=ts,
                      sig=harness.b64(sig))
        t.ok(r.get("ok") is True and r.get("device") == ident.device.hex()
             and isinstance(r.get("revoked_at"), int),
             "device_revoke with IK's signature over the documented layout succeeds", repr(r))
        for name, ws in (("the revoking", a), ("another", b)):
            msg = ("none",)
            try:
                msg = ws.recv(timeout=10)
                while msg[0] == "text" and '"ev"' in msg[1]:
                    msg = ws.recv(timeout=10)
            except Exception as e:  # noqa: BLE001
                msg = ("error", repr(e))
            t.ok(msg[0] == "close" and msg[1] == 1008,
                 f"{name} connection of the revoked device is closed with 1008", repr(msg))
    finally:
        a.close()
        b.close()
    with RawWS(srv.port) as ws:
        hello = ws.recv_event("hello")
        r = cnt.saw(ws.request(ident.login_request("localhost", hello["challenge"])))
        check_error(t, r, "device_revoked", ANY_ID, "login of the revoked device -> "
                    "device_revoked")


def metrics_checks(t, srv, before, cnt):
    after, text = srv.metrics()
    for name in METRICS:
        t.ok(any(k == name or k.startswith(name + "{") for k in after),
             f"/metrics has {name}", text[:2000])
    d_err = metric_sum(after, "liaison_errors_total") - metric_sum(before, "liaison_errors_total")
    t.ok(d_err >= cnt.errors, f"liaison_errors_total grew by at least the {cnt.errors} error "
         "replies seen", f"grew by {d_err}")
    d_req = (metric_sum(after, "liaison_requests_total")
             - metric_sum(before, "liaison_requests_total"))
    t.ok(d_req > 0, "liaison_requests_total grew", f"grew by {d_req}")
    labelled = [k for k in after if k.startswith("liaison_errors_total{")]
    if labelled:
        key = [k for k in labelled if 'code="bad_json"' in k]
        grown = (after.get(key[0], 0) - before.get(key[0], 0)) if key else 0
        t.ok(grown >= cnt.bad_json, f"liaison_errors_total{{code=\"bad_json\"}} grew by at least "
             f"{cnt.bad_json}", "\n".join(labelled))
    t.ok(metric_sum(after, "liaison_connections") >= 1, "liaison_connections counts the open "
         "connection", text[:2000])


def main(t):
    if not harness.require_programs(t, client=False):
        return
    have_client = harness.require_programs(t, server=False, client=True)
    with Server(t) as srv:
        status, body = https_get(srv.port, "/healthz")
        t.eq((status, body.strip()), (200, "ok"), "GET /healthz -> 200 ok")
        before, _ = srv.metrics()
        cnt = Counter()
        ws2 = RawWS(srv.port)
        ws2.recv_event("hello")
        ws = RawWS(srv.port)
        ws.hello = hello_checks(t, ws)

        bad_requests(t, ws, ws2, cnt)
        user, device = enrolled_ids(t, srv) if have_client else (None, None)
        if user and device:
            login_failures(t, ws, ws2, cnt, user, device)
        else:
            t.ok(False, "login failure tests ran (they need an enrolled user from the CLI)")
        frame_limits(t, ws, ws2, cnt, ws.hello.get("max_frame") or 262144)
        bad_frames(t, ws, ws2, cnt)
        pipelining(t, ws, cnt)
        plaintext_refused(t, srv, ws2)
        if not user:  # the org normally comes with the CLI enrolment
            srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                      "--kind", "cpts")
        raw_enrol_and_login(t, srv, cnt)
        raw_revoke(t, srv, cnt)
        metrics_checks(t, srv, before, cnt)

        ws.send_close(1000, "bye")
        msg = ws.recv()
        t.ok(msg[0] == "close" and msg[1] == 1000, "a client close is answered with close 1000",
             repr(msg))
        ws.close()
        r = ws2.ping()
        t.ok(r.get("ok") is True, "second connection still answers ping at the end", repr(r))
        ws2.close()


if __name__ == "__main__":
    run(main, PLAN)
