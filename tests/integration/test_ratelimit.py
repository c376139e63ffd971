#!/usr/bin/env python3
"""test_ratelimit.py — rate limits over the network (docs/OPERATIONS.md, "Rate
limits"), with a config of low limits: requests per connection, requests per
user (all of the user's connections), failed logins per account and per
address. Each limit, once exceeded, answers rate_limited with retry_after_ms;
another client is served meanwhile; liaison_rate_limited_total{limit=...}
grows; after waiting retry_after_ms the same client is served again on the
same connection. The address test connects from 127.0.0.2 (any 127/8 address
reaches a loopback listener). The CLI, over a user limit, waits the
retry_after_ms it is given and retries, so a command of several requests
still succeeds.
TAP on stdout."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, RawIdentity, RawWS, Server, error_code, run  # noqa: E402

PLAN = 41

CONFIG = {
    "rate_conn_per_s": 5, "rate_conn_burst": 20,        # one token per 200 ms
    "rate_user_per_s": 1, "rate_user_burst": 15,        # one token per 1 s
    "login_fail_account_per_min": 30, "login_fail_account_burst": 2,   # one per 2 s
    "login_fail_addr_per_min": 30, "login_fail_addr_burst": 4,         # one per 2 s
}


class RawWSFrom(RawWS):
    """RawWS whose TCP connection leaves from a chosen loopback address."""

    def __init__(self, port, source, timeout=10):
        self.port = port
        self.timeout = timeout
        self.buf = b""
        self.next_id = 1
        self.events = []
        self.closed = None
        self.auto_pong = True
        self.pings_seen = 0
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.bind((source, 0))
        raw.settimeout(timeout)
        raw.connect(("127.0.0.1", port))
        self.sock = harness.ssl_context().wrap_socket(raw, server_hostname="localhost")
        self.handshake("localhost", "liaison.v1")


def limited(reply):
    """(is rate_limited, retry_after_ms, message)."""
    err = reply.get("error") if isinstance(reply, dict) else None
    if error_code(reply) != "rate_limited" or not isinstance(err, dict):
        return False, None, None
    return True, err.get("retry_after_ms"), err.get("message", "")


def counters(srv):
    samples, _ = srv.metrics()
    return {kind: samples.get(f'liaison_rate_limited_total{{limit="{kind}"}}', -1)
            for kind in ("connection", "user", "login_address", "login_account")}, \
        samples.get('liaison_errors_total{code="rate_limited"}', -1)


def pipeline(ws, n, op="ping"):
    """Send n requests at once, then read the n replies (in order)."""
    ids = []
    for _ in range(n):
        rid = ws.next_id
        ws.next_id += 1
        ws.send_json({"id": rid, "op": op})
        ids.append(rid)
    return [ws.recv_reply(rid) for rid in ids]


def wait_retry(retry_ms):
    time.sleep((retry_ms if isinstance(retry_ms, int) else 1000) / 1000 + 0.05)


def login(srv, ident, ws, server_name="localhost"):
    ch = ws.request(op="challenge")["challenge"]
    return ws.request(ident.login_request(server_name, ch))


def enrol(t, srv, ident, rpps, name):
    code = srv.invite(rpps, name, "gp", "450000005")
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(ident.enrol_request(code))
    return t.ok(r.get("ok") is True, f"enrol {name} over the raw protocol", repr(r))


def per_connection(t, srv):
    before, _ = counters(srv)
    with RawWS(srv.port) as ws, RawWS(srv.port) as other:
        ws.recv_event("hello")
        other.recv_event("hello")
        replies = pipeline(ws, 26)
        oks = [r.get("ok") is True for r in replies]
        t.ok(all(oks[:20]), "connection: the first 20 pings of a burst of 26 are served "
             "(rate_conn_burst = 20)", repr(replies[:20]))
        refused = [limited(r) for r in replies[20:] if limited(r)[0]]
        t.ok(len(refused) >= 4, "connection: the pings beyond the burst get rate_limited",
             repr(replies[20:]))
        retry = refused[0][1] if refused else None
        t.ok(isinstance(retry, int) and 1 <= retry <= 200, "connection: error.retry_after_ms "
             "is an integer of at most 200 ms (5 per second)", repr(refused[:1]))
        t.ok(bool(refused) and "connection" in refused[0][2] and "retry in" in refused[0][2],
             "connection: the message names the limit and says when to retry", repr(refused[:1]))
        r = other.ping()
        t.ok(r.get("ok") is True, "connection: another connection is served meanwhile", repr(r))
        wait_retry(retry)
        r = ws.ping()
        t.ok(r.get("ok") is True, "connection: served again on the same connection after "
             "retry_after_ms", repr(r))
    after, _ = counters(srv)
    t.ok(after["connection"] >= before["connection"] + len(refused) > before["connection"],
         'liaison_rate_limited_total{limit="connection"} counts the refusals',
         f"before {before}\nafter {after}")


def per_user(t, srv, a, b):
    before, _ = counters(srv)
    a1, a2, b1 = RawWS(srv.port), RawWS(srv.port), RawWS(srv.port)
    try:
        for ws, who in ((a1, a), (a2, a), (b1, b)):
            ws.recv_event("hello")
            r = login(srv, who, ws)
            t.ok(r.get("ok") is True, "user: login", repr(r))
        # 8 + 10 pings: within each connection's burst of 20, over the user's 15
        # (a refusal is certain unless they take more than 3 s: 1 token a second)
        first = pipeline(a1, 8)
        second = pipeline(a2, 10)
        t.ok(all(r.get("ok") is True for r in first), "user: 8 pings on the first "
             "connection are served", repr(first))
        refused = [limited(r) for r in second if limited(r)[0]]
        t.ok(len(refused) >= 1 and second[0].get("ok") is True,
             "user: the second connection of the same user is refused past the user's "
             "burst of 15 (its own connection budget is not spent)", repr(second))
        retry = refused[0][1] if refused else None
        t.ok(bool(refused) and "user" in refused[0][2] and isinstance(retry, int)
             and 1 <= retry <= 1000, "user: the message names the user limit; "
             "retry_after_ms at most 1000 (1 per second)", repr(refused[:1]))
        r = b1.ping()
        t.ok(r.get("ok") is True, "user: another user is served meanwhile", repr(r))
        wait_retry(retry)
        r = a2.ping()
        t.ok(r.get("ok") is True, "user: served again after retry_after_ms", repr(r))
    finally:
        for ws in (a1, a2, b1):
            ws.close()
    after, _ = counters(srv)
    t.ok(after["user"] > before["user"], 'liaison_rate_limited_total{limit="user"} grows',
         f"before {before}\nafter {after}")


def per_account(t, srv, a, b):
    before, _ = counters(srv)
    with RawWS(srv.port) as ws, RawWS(srv.port) as other:
        ws.recv_event("hello")
        other.recv_event("hello")
        codes = [error_code(login(srv, b, ws, "forged.example")) for _ in range(2)]
        t.eq(codes, ["bad_signature"] * 2, "account: two forged logins for B are refused "
             "as bad_signature")
        r = login(srv, b, ws)
        is_lim, retry, msg = limited(r)
        t.ok(is_lim and "account" in msg and isinstance(retry, int) and 1 <= retry <= 2000,
             "account: then even B's correct login gets rate_limited (account), "
             "retry_after_ms at most 2000", repr(r))
        r = login(srv, a, other)
        t.ok(r.get("ok") is True, "account: A logs in from the same address meanwhile "
             "(a success costs nothing)", repr(r))
        wait_retry(retry)
        r = login(srv, b, ws)
        t.ok(r.get("ok") is True, "account: B logs in after retry_after_ms", repr(r))
    after, _ = counters(srv)
    t.ok(after["login_account"] > before["login_account"],
         'liaison_rate_limited_total{limit="login_account"} grows', f"{before}\n{after}")


def per_address(t, srv, b):
    before, _ = counters(srv)
    try:
        ws = RawWSFrom(srv.port, "127.0.0.2")
    except OSError as e:
        t.ok(False, "address: connect from 127.0.0.2", repr(e))
        return
    with ws, RawWS(srv.port) as other:
        ws.recv_event("hello")
        other.recv_event("hello")
        codes = []
        strangers = [RawIdentity(srv.tmp) for _ in range(4)]  # keys made beforehand
        for stranger in strangers:  # unknown accounts: only the address is charged each time
            codes.append(error_code(login(srv, stranger, ws)))
        t.eq(codes, ["unknown_device"] * 4, "address: four logins of unknown devices from "
             "127.0.0.2 are refused as unknown_device")
        r = login(srv, b, ws)
        is_lim, retry, msg = limited(r)
        t.ok(is_lim and "address" in msg and isinstance(retry, int) and 1 <= retry <= 2000,
             "address: then B's correct login from 127.0.0.2 gets rate_limited (address), "
             "retry_after_ms at most 2000", repr(r))
        r = login(srv, b, other)
        t.ok(r.get("ok") is True, "address: B logs in from 127.0.0.1 meanwhile", repr(r))
        r = ws.ping()
        t.ok(r.get("ok") is True, "address: the refused connection still answers ping", repr(r))
        wait_retry(retry)
        r = login(srv, b, ws)
        t.ok(r.get("ok") is True, "address: B logs in from 127.0.0.2 after retry_after_ms",
             repr(r))
    after, _ = counters(srv)
    t.ok(after["login_address"] > before["login_address"],
         'liaison_rate_limited_total{limit="login_address"} grows', f"{before}\n{after}")


def cli_waits(t):
    """The CLI waits out a user limit (one request a second past a burst of
    three) instead of failing: channel create takes several requests."""
    with Server(t, config={"rate_user_per_s": 1, "rate_user_burst": 3}) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        c = Client(srv, "roux")
        rc, out, err = c.enrol(srv.invite("10101010105", "Dr Hélène Roux", "gp",
                                          "450000005"))
        t.eq(rc, 0, "cli: Dr Roux enrols", f"{out}\n{err}")
        before, _ = counters(srv)
        t0 = time.monotonic()
        rc, out, err = c.run("channel", "create", "--kind", "team", "--topic", "Astreinte")
        took = time.monotonic() - t0
        after, _ = counters(srv)
        t.eq(rc, 0, "cli: a command over the user's rate limit still succeeds",
             f"{out}\n{err}")
        t.ok(after["user"] > before["user"] and took >= 0.9,
             "cli: … because it was refused (rate_limited, user) and waited before retrying",
             f"refusals {before['user']} -> {after['user']}, {took:.1f} s")


def main(t):
    if not harness.require_programs(t, client=False):
        return
    cli_waits(t)
    with Server(t, config=CONFIG) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        _, errors_before = counters(srv)
        a, b = RawIdentity(srv.tmp), RawIdentity(srv.tmp)
        if not (enrol(t, srv, a, "10101010105", "Dr A") and
                enrol(t, srv, b, "10123456781", "Dr B")):
            return
        per_connection(t, srv)
        per_user(t, srv, a, b)
        per_account(t, srv, a, b)
        per_address(t, srv, b)
        kinds, errors_after = counters(srv)
        t.ok(errors_after > errors_before, 'liaison_errors_total{code="rate_limited"} grows',
             f"{errors_before} -> {errors_after}")
        _, text = srv.metrics()
        t.ok("# TYPE liaison_rate_limited_total counter" in text
             and "liaison_ratelimit_evictions_total" in text,
             "/metrics documents liaison_rate_limited_total and "
             "liaison_ratelimit_evictions_total", text[-1500:])


if __name__ == "__main__":
    run(main, PLAN)
