#!/usr/bin/env python3
"""test_bounds.py — every server queue and table that users make grow is
bounded (docs/OPERATIONS.md, "Bounds"), against a real liaisond with small
limits, driven by raw protocol clients (openssl keys) and the real CLI:

- the issue's to-device flood (300 requests of 11 entries from an enrolled
  user into a victim's queue): refused with todevice_queue_full once the
  per-sender cap is reached, the queue (counted in the server's database)
  stops growing, and the victim's `liaison read` prints one summary line
  for the junk, not one per entry;
- to-device policy: no shared channel → todevice_not_allowed; a current
  member may write to a former one, who may answer within
  todevice_reply_window and not after, but not start an exchange;
- channels per user, open cases per user, the storage quota;
- unfinished attachments expire with their chunks; idempotency keys and
  notifications are pruned after their retention (the server clock moved
  with the testing aid, the sweep of the running server's timer);
- unauthenticated connections per address (close 4029) and connections per
  user (too_many_connections);
- the /metrics counters and gauges of each. TAP on stdout."""

import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Client, MLogChain, RawIdentity, RawWS, Server, b64, error_code,  # noqa: E402
                     run, wait_close)

PLAN = 66

LIMITS = {
    "todevice_max_queued": 60,
    "todevice_max_per_sender": 40,
    "todevice_reply_window": "1h",
    "channels_per_user": 4,
    "open_cases_per_user": 2,
    "attachment_max": "200K",
    "storage_quota": "300K",
    "attachment_unfinished_ttl": "2h",
    "idempotency_retention": "3h",
    "notification_retention": "4h",
    "conn_unauth_per_addr": 6,
    "conn_per_user": 3,
    "timer_interval": 1,
    "due_soon": "8d",
    # the flood itself must not be stopped by the request rate limits
    "rate_conn_burst": 100000,
    "rate_user_burst": 100000,
}
HOUR = 3600 * 1000


def luhn_rpps(seed):
    """An 11-digit RPPS number with a valid (Luhn) check digit."""
    body = f"1{seed:09d}"
    for last in range(10):
        digits = [int(c) for c in body + str(last)][::-1]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
                    for i, d in enumerate(digits))
        if total % 10 == 0:
            return body + str(last)
    raise ValueError(seed)


RPPS_SEQ = [100]


def enrol(srv, name, profession, roles="member", org="450000005", rpps=None):
    ident = RawIdentity(srv.tmp)
    if rpps is None and profession not in ("secretary", "coordinator"):
        RPPS_SEQ[0] += 1
        rpps = luhn_rpps(RPPS_SEQ[0])
    args = ["invite", "--name", name, "--profession", profession, "--org", org,
            "--roles", roles]
    if rpps:
        args += ["--rpps", rpps]
    code = srv.admin(*args).strip().splitlines()[-1]
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(ident.enrol_request(code))
    if r.get("ok") is not True:
        raise RuntimeError(f"enrol refused: {r!r}")
    return ident


def login(srv, ident):
    ws = RawWS(srv.port)
    hello = ws.recv_event("hello")
    r = ws.request(ident.login_request("localhost", hello["challenge"]))
    return ws, r


def connect(srv, ident):
    ws, r = login(srv, ident)
    if r.get("ok") is not True:
        raise RuntimeError(f"login refused: {r!r}")
    return ws


def new_channel(ws, owner, kind="case"):
    chain = MLogChain()
    e = chain.entry(owner, "create", owner, role="admin", history="shared", kind=kind)
    r = ws.request({"op": "channel_create", "idem": os.urandom(8).hex(), "entry": e})
    if r.get("ok") is True:
        chain.accept(e)
    return chain, r


def add(ws, chain, owner, who_hex, action="add"):
    e = chain.entry(owner, action, who_hex, role="member" if action == "add" else None)
    r = ws.request({"op": "channel_append", "idem": os.urandom(8).hex(), "entry": e})
    if r.get("ok") is True:
        chain.accept(e)
    return r


def td(ws, user_hex, device_hex, n=1, size=48):
    return ws.request(op="to_device_send", idem=os.urandom(8).hex(), messages=[
        {"user": user_hex, "device": device_hex, "body": b64(os.urandom(size))}
        for _ in range(n)])


def db_count(srv, sql, *args):
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        return db.execute(sql, args).fetchone()[0]
    finally:
        db.close()


def wait_for(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def metric(srv, name, **labels):
    """One sample of /metrics (labels in the server's order), or None."""
    samples = srv.metrics()[0]
    key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    return samples.get(key)


def flood(t, srv, attacker, victim_user, victim_device, victim):
    """The issue's flood: 300 requests of 11 entries into the victim's queue."""
    a = connect(srv, attacker)
    chain, r = new_channel(a, attacker, kind="team")
    r2 = add(a, chain, attacker, victim_user)
    t.ok(r.get("ok") is True and r2.get("ok") is True,
         "the attacker creates a channel and adds the victim (so the policy lets it through)",
         repr((r, r2)))
    rows = "SELECT count(*) FROM to_device WHERE recipient_device = ?"
    dev = bytes.fromhex(victim_device)
    codes, sizes = {}, []
    for i in range(300):
        r = td(a, victim_user, victim_device, n=11, size=1500)
        code = error_code(r) or "ok"
        codes[code] = codes.get(code, 0) + 1
        if i in (10, 100, 299):
            sizes.append(db_count(srv, rows, dev))
    # a request is all or nothing: 3 requests of 11 fit under 40, the 4th does not
    t.eq(codes, {"ok": 3, "todevice_queue_full": 297},
         "300 flood requests of 11 entries: refused with todevice_queue_full from the 4th")
    t.eq(sizes, [33, 33, 33], "the victim's queue stops growing (33 entries, not 3,300)")
    singles = [error_code(td(a, victim_user, victim_device, n=1)) or "ok" for _ in range(8)]
    t.eq(singles, ["ok"] * 7 + ["todevice_queue_full"],
         "single entries fill it up to todevice_max_per_sender (40), then are refused")
    r = td(a, victim_user, victim_device, n=1)
    t.ok(error_code(r) == "todevice_queue_full" and "todevice_max_per_sender"
         in r.get("error", {}).get("message", ""),
         "the refusal names the limit", repr(r))
    t.eq(db_count(srv, rows, dev), 40, "the queue holds 40 entries from the attacker")
    # a second sender fills the rest: the per-device cap (60) holds
    helper = enrol(srv, "Complice Deux", "nurse")
    r = add(a, chain, attacker, helper.user.hex())
    h = connect(srv, helper)
    codes2 = [error_code(td(h, victim_user, victim_device, n=5)) or "ok" for _ in range(8)]
    t.eq(codes2, ["ok"] * 4 + ["todevice_queue_full"] * 4,
         "a second sender adds 20 more, then todevice_max_queued (60) refuses")
    t.eq(db_count(srv, rows, dev), 60, "the queue holds exactly todevice_max_queued entries")
    r = a.request(op="to_device_send", idem=os.urandom(8).hex(), partial=True, messages=[
        {"user": victim_user, "device": victim_device, "body": b64(os.urandom(48))},
        {"user": attacker.user.hex(), "device": attacker.device.hex(), "body": b64(b"x")}])
    refused = r.get("refused") or [{}]
    t.ok(r.get("ok") is True and r.get("count") == 1 and len(refused) == 1
         and refused[0].get("index") == 0 and refused[0].get("code") == "todevice_queue_full"
         and db_count(srv, rows, dev) == 60,
         "partial: the entry for the full queue is listed in refused, the other one queued",
         repr(r))
    t.eq(metric(srv, "liaison_todevice_skipped_total", code="todevice_queue_full"), 1.0,
         "liaison_todevice_skipped_total{code=todevice_queue_full} counts the skipped entry")
    ok = wait_for(lambda: (metric(srv, "liaison_errors_total", code="todevice_queue_full") or 0)
                  == 297 + 2 + 4, 5)
    t.ok(ok, "liaison_errors_total{code=todevice_queue_full} counts the refusals",
         repr(metric(srv, "liaison_errors_total", code="todevice_queue_full")))
    # the victim reads: one summary line for the junk
    start = time.monotonic()
    rc, out, err = victim.run("read", chain.channel.hex())
    took = time.monotonic() - start
    lines = [x for x in err.splitlines() if "ignored" in x and "key share" in x]
    t.ok(rc == 0 and len(lines) == 1 and "ignored 60 key shares" in lines[0],
         "the victim's read prints one summary line for 60 junk entries",
         f"rc={rc} took={took:.1f}s\n{err[-1500:]}")
    t.diag(f"read took {took:.1f} s; its warning: {lines[0] if lines else None}")
    t.eq(db_count(srv, rows, dev), 0, "after the read the victim's queue is empty (acknowledged)")
    r = td(a, victim_user, victim_device, n=1)
    t.ok(r.get("ok") is True, "once drained, the queue accepts entries again", repr(r))
    h.close()
    return a, chain


def policy(t, srv, attacker, a, chain):
    outsider = enrol(srv, "Marc Dehors", "pharmacist")
    o = connect(srv, outsider)
    r = td(a, outsider.user.hex(), outsider.device.hex())
    t.ok(error_code(r) == "todevice_not_allowed",
         "to-device to a user who shares no channel -> todevice_not_allowed", repr(r))
    r = td(o, attacker.user.hex(), attacker.device.hex())
    t.ok(error_code(r) == "todevice_not_allowed", "and the other way round too", repr(r))
    # the outsider joins, writes to the attacker, is removed
    add(a, chain, attacker, outsider.user.hex())
    r = td(o, attacker.user.hex(), attacker.device.hex())
    t.ok(r.get("ok") is True, "once they share a channel, allowed", repr(r))
    r = add(a, chain, attacker, outsider.user.hex(), action="remove")
    r2 = td(o, attacker.user.hex(), attacker.device.hex())
    t.ok(r.get("ok") is True and error_code(r2) == "todevice_not_allowed",
         "a removed member may not start an exchange with a current one", repr((r, r2)))
    r = td(a, outsider.user.hex(), outsider.device.hex())
    t.ok(r.get("ok") is True, "a current member may write to a former one (a key request)",
         repr(r))
    r = td(o, attacker.user.hex(), attacker.device.hex())
    t.ok(r.get("ok") is True,
         "and the former member may answer within todevice_reply_window", repr(r))
    third = enrol(srv, "Tiers Inconnu", "nurse")
    th = connect(srv, third)
    r = td(th, outsider.user.hex(), outsider.device.hex())
    t.ok(error_code(r) == "todevice_not_allowed", "a third user who was never written to: refused",
         repr(r))
    r = td(th, third.user.hex(), third.device.hex())
    t.ok(r.get("ok") is True, "a user's own devices are always allowed", repr(r))
    th.close()
    return o, outsider


def channels_cap(t, srv, user):
    ws = connect(srv, user)
    base = db_count(srv, "SELECT count(*) FROM channel_members WHERE user_id = ? AND "
                    "left_msg_seq IS NULL", user.user)
    results = [new_channel(ws, user)[1] for _ in range(5 - base)]
    codes = [error_code(r) or "ok" for r in results]
    t.eq(codes, ["ok"] * (4 - base) + ["too_many_channels"],
         f"channels_per_user (4): {4 - base} more channels, then too_many_channels")
    n = db_count(srv, "SELECT count(*) FROM channel_members WHERE user_id = ? AND "
                 "left_msg_seq IS NULL", user.user)
    t.eq(n, 4, "the user is a member of exactly 4 channels")
    other = enrol(srv, "Autre Admin", "gp")
    ow = connect(srv, other)
    chain, r = new_channel(ow, other)
    r = add(ow, chain, other, user.user.hex())
    t.ok(error_code(r) == "too_many_channels",
         "adding a user who is at the cap -> too_many_channels", repr(r))
    ow.close()
    return ws


def cases_cap(t, srv):
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "370000481", "--kind",
              "cpts")
    gp = enrol(srv, "Dr Paul Ville", "gp", org="370000481", rpps="10000000009")
    g = connect(srv, gp)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    codes, cases, chains = [], [], []
    for _ in range(3):
        chain, r = new_channel(g, gp)
        chains.append(chain)
        r = g.request(op="case_open", idem=os.urandom(8).hex(), channel=chain.channel.hex(),
                      pathway="hospital_discharge", j0=today)
        codes.append(error_code(r) or "ok")
        cases.append((r.get("case") or {}).get("case"))
    t.eq(codes, ["ok", "ok", "too_many_cases"],
         "open_cases_per_user (2): the third case_open -> too_many_cases")
    t.eq(db_count(srv, "SELECT count(*) FROM cases WHERE opened_by = ? AND status = 'open'",
                  gp.user), 2, "the user has exactly 2 open cases")
    r1 = g.request(op="case_close", idem=os.urandom(8).hex(), case=cases[0], reason="completed")
    r2 = g.request(op="case_open", idem=os.urandom(8).hex(), channel=chains[2].channel.hex(),
                   pathway="hospital_discharge", j0=today)
    t.ok(r1.get("ok") is True and r2.get("ok") is True,
         "once one is closed, the third case opens", repr((r1, r2))[:400])
    return g, gp


def attachments(t, srv):
    # a fresh user: the attacker is at its channel cap
    up = enrol(srv, "Dr Pièce Jointe", "hospital_doctor")
    u = connect(srv, up)
    chain, r = new_channel(u, up)
    ids = [os.urandom(16).hex() for _ in range(3)]
    r1 = u.request(op="attachment_begin", idem=os.urandom(8).hex(), attachment=ids[0],
                   channel=chain.channel.hex(), size=200 * 1024, chunks=4)
    r2 = u.request(op="attachment_begin", idem=os.urandom(8).hex(), attachment=ids[1],
                   channel=chain.channel.hex(), size=200 * 1024, chunks=4)
    t.ok(r1.get("ok") is True and error_code(r2) == "storage_quota",
         "storage_quota (300K): a second 200K attachment -> storage_quota", repr((r1, r2)))
    chunk = os.urandom(60000)
    r = u.request(op="attachment_put", idem=os.urandom(8).hex(), attachment=ids[0], index=0,
                  data=b64(chunk))
    t.ok(r.get("ok") is True, "one chunk of the first is uploaded; it is never finished", repr(r))
    att = bytes.fromhex(ids[0])
    t.eq((db_count(srv, "SELECT count(*) FROM attachments WHERE id = ?", att),
          db_count(srv, "SELECT count(*) FROM attachment_chunks WHERE attachment_id = ?", att)),
         (1, 1), "the unfinished attachment and its chunk are stored")
    return u, up, chain, ids, att


def retention(t, srv, admin_ws, u, up, chain, ids, att):
    probe_chain = MLogChain()
    probe = {"op": "channel_create", "idem": "idem-probe",
             "entry": probe_chain.entry(up, "create", up, role="admin", history="shared",
                                        kind="team")}
    r1, r2 = u.request(dict(probe)), u.request(dict(probe))
    t.ok(r1.get("ok") is True and r2 == dict(r1, id=r2.get("id")),
         "a retried write within idempotency_retention gets its first reply again",
         repr((r1, r2)))
    idem_before = db_count(srv, "SELECT count(*) FROM idempotency")
    notif_before = db_count(srv, "SELECT count(*) FROM notifications")
    t.ok(idem_before > 0 and notif_before > 0,
         "idempotency keys and notifications are stored before the sweep",
         f"{idem_before} keys, {notif_before} notifications")
    r = admin_ws.request(op="clock_advance", ms=2 * HOUR + 60000)
    t.ok(r.get("ok") is True, "testing aid: the clock moves 2 h 1 min forward", repr(r))
    gone = wait_for(lambda: db_count(srv, "SELECT count(*) FROM attachments WHERE id = ?", att) == 0)
    t.ok(gone and db_count(srv, "SELECT count(*) FROM attachment_chunks WHERE attachment_id = ?",
                           att) == 0,
         "the timer's sweep deleted the unfinished attachment and its chunk (2 h ttl)")
    r = u.request(op="attachment_put", idem=os.urandom(8).hex(), attachment=ids[0], index=1,
                  data=b64(os.urandom(100)))
    t.ok(error_code(r) == "not_found", "an upload to the expired attachment -> not_found", repr(r))
    r = u.request(op="attachment_begin", idem=os.urandom(8).hex(), attachment=ids[2],
                  channel=chain.channel.hex(), size=200 * 1024, chunks=4)
    t.ok(r.get("ok") is True, "its space is back in the quota: a new 200K attachment is accepted",
         repr(r))
    swept = wait_for(lambda: (metric(srv, "liaison_swept_total", what="unfinished_attachments")
                              or 0) >= 1, 5)
    t.ok(swept, "liaison_swept_total{what=unfinished_attachments} counts it",
         repr(metric(srv, "liaison_swept_total", what="unfinished_attachments")))
    t.ok(db_count(srv, "SELECT count(*) FROM idempotency") > 0,
         "idempotency keys younger than idempotency_retention (3 h) are kept")
    r = admin_ws.request(op="clock_advance", ms=HOUR + 60000)
    t.ok(r.get("ok") is True, "the clock moves 1 h more (3 h 2 min in all)", repr(r))
    cutoff = r.get("now", 0) - 3 * HOUR
    ok = wait_for(lambda: db_count(srv, "SELECT count(*) FROM idempotency WHERE created_at < ?",
                                   cutoff) == 0)
    t.ok(ok, "idempotency keys older than 3 h are pruned",
         repr(db_count(srv, "SELECT count(*) FROM idempotency WHERE created_at < ?", cutoff)))
    r = u.request(dict(probe))
    t.ok(error_code(r) == "conflict",
         "retried after its key was pruned, the write runs again (the channel exists: conflict)",
         repr(r))
    r = admin_ws.request(op="clock_advance", ms=HOUR)
    now = r.get("now", 0)
    ok = wait_for(lambda: db_count(srv, "SELECT count(*) FROM notifications WHERE created_at < ?",
                                   now - 4 * HOUR) == 0)
    t.ok(ok and db_count(srv, "SELECT count(*) FROM notifications") < notif_before + 50,
         "notifications older than notification_retention (4 h) are pruned",
         repr(db_count(srv, "SELECT count(*) FROM notifications")))
    pruned = wait_for(lambda: (metric(srv, "liaison_swept_total", what="notifications") or 0) >= 1
                      and (metric(srv, "liaison_swept_total", what="idempotency_keys") or 0) >= 1, 5)
    t.ok(pruned, "liaison_swept_total counts pruned keys and notifications",
         repr((metric(srv, "liaison_swept_total", what="notifications"),
               metric(srv, "liaison_swept_total", what="idempotency_keys"))))
    ok = wait_for(lambda: db_count(srv, "SELECT count(*) FROM to_device_contacts WHERE "
                                   "last_at < ?", now - HOUR) == 0)
    t.ok(ok and (metric(srv, "liaison_swept_total", what="todevice_contacts") or 0) >= 1,
         "to-device contacts older than todevice_reply_window (1 h) are swept",
         repr(metric(srv, "liaison_swept_total", what="todevice_contacts")))
    g = metric(srv, "liaison_todevice_entries")
    t.ok(g is not None and g == db_count(srv, "SELECT count(*) FROM to_device"),
         "liaison_todevice_entries is the queue's size at the last sweep",
         f"{g} vs {db_count(srv, 'SELECT count(*) FROM to_device')}")


def reply_window_expires(t, srv, o, attacker):
    """After the window, the pending exchange is over."""
    r = td(o, attacker.user.hex(), attacker.device.hex())
    t.ok(error_code(r) == "todevice_not_allowed",
         "hours later (past todevice_reply_window) the former member may no longer answer",
         repr(r))


def connections(t, srv, user):
    base = metric(srv, "liaison_connections_refused_total", cap="conn_unauth_per_addr") or 0
    conns = []
    try:
        for _ in range(6):
            ws = RawWS(srv.port)
            ws.recv_event("hello")
            conns.append(ws)
        extra = RawWS(srv.port)
        msg = wait_close(extra, 5)
        t.ok(msg[0] == "close" and msg[1] == 4029,
             "a 7th unauthenticated connection from one address is closed with 4029", repr(msg))
        extra.close()
    finally:
        for ws in conns:
            ws.close()
    ok = wait_for(lambda: (metric(srv, "liaison_connections_refused_total",
                                  cap="conn_unauth_per_addr") or 0) == base + 1, 5)
    t.ok(ok, "liaison_connections_refused_total{cap=conn_unauth_per_addr} counts it")
    time.sleep(0.5)
    ws = wait_for(lambda: _try_hello(srv), 5)
    t.ok(ws is not None, "once those close, the address may connect again")
    if ws:
        ws.close()
    time.sleep(0.5)
    # a connection that logs in no longer counts: 6 unauthenticated, one of
    # them logs in, so one more may connect, and the one after is refused
    conns = []
    try:
        first = RawWS(srv.port)
        conns.append(first)
        hello = first.recv_event("hello")
        for _ in range(5):
            ws = RawWS(srv.port)
            ws.recv_event("hello")
            conns.append(ws)
        r = first.request(user.login_request("localhost", hello["challenge"]))
        another = RawWS(srv.port)
        conns.append(another)
        msg = another.recv(timeout=5)
        t.ok(r.get("ok") is True and msg[0] == "text" and '"hello"' in msg[1],
             "a connection that logged in frees its place under the cap", repr((r, msg)))
        extra = RawWS(srv.port)
        conns.append(extra)
        msg = wait_close(extra, 5)
        t.ok(msg[0] == "close" and msg[1] == 4029,
             "… and the next unauthenticated one is refused again (4029)", repr(msg))
    finally:
        for ws in conns:
            ws.close()
    time.sleep(0.5)
    # connections per user: 3 logged in, the 4th login is refused
    held = []
    try:
        for _ in range(3):
            held.append(connect(srv, user))
        w4, r = login(srv, user)
        t.ok(error_code(r) == "too_many_connections",
             "conn_per_user (3): a 4th login of the user -> too_many_connections", repr(r))
        w4.close()
        t.ok((metric(srv, "liaison_connections_refused_total", cap="conn_per_user") or 0) >= 1,
             "liaison_connections_refused_total{cap=conn_per_user} counts it")
    finally:
        for ws in held:
            ws.close()
    ws2 = wait_for(lambda: _try_login(srv, user), 5)
    t.ok(ws2 is not None, "once they close, the user logs in again")
    if ws2:
        ws2.close()


def _try_hello(srv):
    ws = RawWS(srv.port)
    msg = ws.recv(timeout=5)
    if msg[0] == "text" and '"hello"' in msg[1]:
        return ws
    ws.close()
    return None


def _try_login(srv, ident):
    ws, r = login(srv, ident)
    if r.get("ok") is True:
        return ws
    ws.close()
    return None


def key_request_refused(t, srv, victim, victim_user, victim_device):
    """A reader whose key request meets a full queue: the read goes on,
    with a warning, instead of failing."""
    sender = Client(srv, "sender")
    RPPS_SEQ[0] += 1
    code = srv.invite(luhn_rpps(RPPS_SEQ[0]), "Dr Paul Expéditeur", "gp", "450000005")
    rc, out, err = sender.enrol(code)
    rc2, obj, err2 = sender.json("channel", "create", "--kind", "team", "--topic", "suivi")
    channel = (obj or {}).get("channel", "")
    rc3, out3, err3 = sender.run("channel", "add", channel, "10101010105")
    rc4, out4, err4 = sender.run("send", channel, "Poids +2,4 kg en 3 jours")
    t.ok(rc == 0 and rc2 == 0 and rc3 == 0 and rc4 == 0,
         "a CLI sender creates a channel, adds the victim and sends",
         "\n".join([out, err, err2, out3, err3, out4, err4]))
    rc, obj, err = sender.json("whoami")
    s_user = ((obj or {}).get("user") or {}).get("id", "")
    s_dev = ((obj or {}).get("device") or {}).get("id", "")
    # the server withholds the victim's key share, and the sender's queue is full
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    with db:
        db.execute("DELETE FROM to_device WHERE recipient_device = ?", (bytes.fromhex(victim_device),))
    db.close()
    x, y = enrol(srv, "Remplisseur Un", "secretary"), enrol(srv, "Remplisseur Deux", "secretary")
    xw, yw = connect(srv, x), connect(srv, y)
    chain, _ = new_channel(xw, x, kind="team")
    add(xw, chain, x, s_user)
    add(xw, chain, x, y.user.hex())
    filled = [error_code(td(xw, s_user, s_dev, n=40)), error_code(td(yw, s_user, s_dev, n=20))]
    t.eq(filled, [None, None], "two users fill the sender's queue to todevice_max_queued")
    rc, out, err = victim.run("read", channel)
    t.ok(rc == 0 and "did not queue 1 key share(s)" in err and "todevice_max_queued" in err,
         "the victim's read goes on when its key request is refused (a warning, exit 0)",
         f"rc={rc}\n{out}\n{err}")
    rc, out, err = sender.run("channel", "list")
    n = db_count(srv, "SELECT count(*) FROM to_device WHERE recipient_device = ?",
                 bytes.fromhex(s_dev))
    t.ok(rc == 0 and n == 0, "any command of the sender drains its queue", f"{n} left\n{err}")
    # the victim's queue is full when the sender starts a new session
    chain2, _ = new_channel(xw, x, kind="team")
    add(xw, chain2, x, victim_user)
    add(xw, chain2, x, y.user.hex())
    for ws in (xw, yw):
        ws.request(op="to_device_send", idem=os.urandom(8).hex(), partial=True, messages=[
            {"user": victim_user, "device": victim_device, "body": b64(os.urandom(48))}] * 40)
    vdev = bytes.fromhex(victim_device)
    full = db_count(srv, "SELECT count(*) FROM to_device WHERE recipient_device = ?", vdev)
    rc1, _, e1 = sender.run("channel", "add", channel, y.user.hex())
    rc2, _, e2 = sender.run("channel", "remove", channel, y.user.hex())
    rc3, out3, e3 = sender.run("send", channel, "Message deux : nouvelle session")
    after = db_count(srv, "SELECT count(*) FROM to_device WHERE recipient_device = ?", vdev)
    t.ok(full == 60 and rc1 == 0 and rc2 == 0 and rc3 == 0 and "did not queue" in e3
         and after == 60,
         "a send whose new session cannot reach the victim's full queue still succeeds, "
         "with a warning, and the queue does not grow", f"{full} {after}\n{e1}\n{e2}\n{e3}")
    rc, out, err = victim.run("read", channel)        # drains its queue; the key is missing
    rc4, _, e4 = sender.run("send", channel, "Message trois")
    rc, obj, err = victim.json("read", channel)
    bodies = [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]
    t.ok(rc4 == 0 and "Message deux : nouvelle session" in bodies and "Message trois" in bodies,
         "the share refused then is sent again with the next message: the victim reads both",
         f"{bodies}\n{e4}\n{err}")
    xw.close()
    yw.close()


def main(t):
    with Server(t, config=LIMITS) as srv:
        srv.admin("org", "add", "--name", "CHR Orléans", "--finess", "450000005", "--kind",
                  "hospital")
        victim = Client(srv, "victim")
        code = srv.invite("10101010105", "Dr Anne Victime", "hospital_doctor", "450000005")
        rc, out, err = victim.enrol(code)
        t.ok(rc == 0, "the victim enrols with the CLI", out + err)
        rc, obj, err = victim.json("whoami")
        me = (obj or {})
        victim_user = (me.get("user") or {}).get("id", "")
        victim_device = (me.get("device") or {}).get("id", "")
        attacker = enrol(srv, "Complice Un", "nurse")
        a, chain = flood(t, srv, attacker, victim_user, victim_device, victim)
        o, outsider = policy(t, srv, attacker, a, chain)
        cw = channels_cap(t, srv, attacker)
        g, gp = cases_cap(t, srv)
        admin = enrol(srv, "Admin Test", "secretary", roles="member,admin")
        adm = connect(srv, admin)
        u, up, uchain, ids, att = attachments(t, srv)
        ok = wait_for(lambda: db_count(srv, "SELECT count(*) FROM notifications") > 0, 10)
        t.ok(ok, "the timer's deadline scan made notifications for the open cases")
        retention(t, srv, adm, u, up, uchain, ids, att)
        reply_window_expires(t, srv, o, attacker)
        for ws in (a, o, cw, g, adm, u):
            ws.close()
        key_request_refused(t, srv, victim, victim_user, victim_device)
        connections(t, srv, up)


if __name__ == "__main__":
    run(main, PLAN)
