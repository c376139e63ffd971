#!/usr/bin/env python3
"""test_audit.py — the audit trail through the real server (docs/AUDIT.md):
enrolment, a refused login (reason code, never the signature), logins,
membership changes, a case opened, a step completed, the case closed, the
indicator report, revocation by the administrator; a refused request and an
idempotent retry add nothing; `liaisond audit show` filters by user, case
and period; `liaisond audit verify` passes, then, on copies of the stopped
server's database, catches an entry changed, removed, reordered, cut from
the end, or changed with its own hash recomputed — naming the entry.
TAP on stdout."""

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LIAISOND, RawWS, Server, SLOW, b64, error_code, run  # noqa: E402
from test_cases_wire import enrol_roles  # noqa: E402
from test_threads_wire import Log, connect  # noqa: E402

PLAN = 57

# what "detail" may hold: a membership seq and role, a step key and state, a period, a file
DETAIL_OK = re.compile(r"^(|seq=\d+( role=(member|admin))?|step=[a-z0-9_]+#\d+ status=[a-z]+"
                       r"|\d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d|file=[^/]+)$")


def show(srv, *args, data=None):
    cmd = [LIAISOND, "--data-dir", data or srv.data, "audit", "show", "--json"] + list(args)
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60 * SLOW,
                         env=dict(os.environ, TZ="UTC"))
    try:
        return res.returncode, json.loads(res.stdout), res.stderr
    except ValueError:
        return res.returncode, None, res.stdout + res.stderr


def verify(data):
    res = subprocess.run([LIAISOND, "--data-dir", data, "audit", "verify"], capture_output=True,
                         text=True, timeout=60 * SLOW)
    return res.returncode, res.stdout, res.stderr


def actions(entries):
    return [e["action"] for e in entries]


def scenario(t, srv):
    """Drive the audited actions; returns what the checks need."""
    srv.admin("org", "add", "--name", "CHR Orléans", "--finess", "450000005", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "370000481", "--kind", "cpts")
    doctor = enrol_roles(srv, t, "10101010105", "Dr Anne Hôpital", "hospital_doctor",
                         "member,discharge")
    gp = enrol_roles(srv, t, "10000000009", "Dr Paul Ville", "gp", "member", org="370000481")
    coord = enrol_roles(srv, t, None, "Léa Coordination", "coordinator", "member,coordinator",
                        org="370000481")

    # a refused login: a signature that does not verify
    with RawWS(srv.port) as ws:
        hello = ws.recv_event("hello")
        req = doctor.login_request("localhost", hello["challenge"])
        sig = bytearray(base64.b64decode(req["sig"]))
        sig[5] ^= 0x01
        req["sig"] = b64(bytes(sig))
        bad_sig = req["sig"]
        r = ws.request(req)
        t.eq(error_code(r), "bad_signature", "a login with a bad signature is refused", repr(r))

    a, g, c = connect(srv, doctor), connect(srv, gp), connect(srv, coord)
    channel = os.urandom(16)
    log = Log(channel)
    e = log.entry(doctor, "create", doctor, role="admin", history="shared", kind="case")
    t.ok(a.request(op="channel_create", idem="c1", entry=e).get("ok") is True,
         "the doctor creates a case channel")
    log.last = e
    e = log.entry(doctor, "add", gp, role="member")
    t.ok(a.request(op="channel_append", idem="c2", entry=e).get("ok") is True, "adds the GP")
    r = a.request(op="channel_append", idem="c2", entry=e)
    t.ok(r.get("ok") is True, "the same append retried with its idempotency key", repr(r))
    log.last = e
    e = log.entry(doctor, "add", coord, role="member")
    t.ok(a.request(op="channel_append", idem="c3", entry=e).get("ok") is True,
         "adds the coordinator")
    log.last = e
    e = log.entry(doctor, "remove", coord)
    t.ok(a.request(op="channel_append", idem="c4", entry=e).get("ok") is True,
         "removes the coordinator")
    log.last = e
    # refused: the GP is not an admin of the channel
    e = log.entry(gp, "remove", doctor)
    r = g.request(op="channel_append", idem="g1", entry=e)
    t.ok(r.get("ok") is not True, "a GP's removal of the channel admin is refused", repr(r))

    today = time.strftime("%Y-%m-%d", time.gmtime())
    r = a.request(op="case_open", idem="o1", channel=channel.hex(), pathway="hospital_discharge",
                  j0=today)
    t.ok(r.get("ok") is True, "the doctor opens a discharge case", repr(r)[:300])
    case = r.get("case", {}).get("case")
    mine = [s for s in r.get("steps", []) if s.get("assignee") == doctor.user.hex()]
    t.ok(bool(mine), "a step is assigned to the doctor", repr(r.get("steps"))[:300])
    step = mine[0] if mine else {"id": 1, "step": "?"}
    r = a.request(op="step_complete", idem="s1", step=step["id"])
    t.ok(r.get("ok") is True, f"the doctor completes step {step['step']}", repr(r)[:300])
    r = g.request(op="step_reopen", idem="s2", step=step["id"])
    t.ok(r.get("ok") is not True, "the GP may not reopen it (refused, not audited)", repr(r))
    r = a.request(op="case_close", idem="x1", case=case, reason="completed")
    t.ok(r.get("ok") is True, "the doctor closes the case", repr(r)[:300])
    r = c.request(op="report", **{"from": today, "to": today})
    t.ok(r.get("ok") is True, "the coordinator runs the indicator report", repr(r)[:200])
    for ws in (a, g, c):
        ws.close()
    out = srv.admin("revoke", "--device", gp.device.hex())
    t.ok("Revoked 1" in out, "the administrator revokes the GP's device", out)
    out = srv.admin("revoke", "--user", coord.user.hex())
    t.ok("Revoked 1" in out, "and every device of the coordinator", out)
    return {"doctor": doctor, "gp": gp, "coord": coord, "channel": channel, "case": case,
            "step": step, "bad_sig": bad_sig, "today": today}


def check_entries(t, srv, s):
    doctor, gp, coord = s["doctor"], s["gp"], s["coord"]
    rc, entries, err = show(srv)
    t.eq(rc, 0, "audit show --json runs", err)
    entries = entries or []
    got = actions(entries)
    want = ["invite_issue", "enrol", "invite_issue", "enrol", "invite_issue", "enrol",
            "login_failed", "login", "login", "login", "channel_create", "member_add",
            "member_add", "member_remove", "case_open", "step_done", "case_close", "report",
            "device_revoke", "device_revoke"]
    t.eq(got, want, "one entry per audited action, in order; refused requests and the "
         "idempotent retry add none")
    t.eq([e["seq"] for e in entries], list(range(1, len(entries) + 1)), "seq runs 1, 2, 3 ...")
    by = {a: [e for e in entries if e["action"] == a] for a in set(got)}
    failed = (by.get("login_failed") or [{}])[0]
    t.ok(failed.get("outcome") == "bad_signature" and failed.get("user") == doctor.user.hex()
         and failed.get("device") == doctor.device.hex() and failed.get("peer"),
         "the refused login: reason code, the user and device it claimed, the peer", repr(failed))
    logins = by.get("login", [])
    t.ok({e["user"] for e in logins} == {doctor.user.hex(), gp.user.hex(), coord.user.hex()}
         and all(e["outcome"] == "ok" and e["peer"].startswith("127.0.0.1") for e in logins),
         "three logins, each with its user and peer", repr(logins))
    enrols = by.get("enrol", [])
    t.ok(any(e["user"] == gp.user.hex() and e["target_device"] == gp.device.hex()
             for e in enrols), "the GP's enrolment names the user and the new device", repr(enrols))
    adds = by.get("member_add", [])
    t.ok([e["target_user"] for e in adds] == [gp.user.hex(), coord.user.hex()]
         and all(e["channel"] == s["channel"].hex() and e["user"] == doctor.user.hex()
                 for e in adds), "member_add: who added whom to which channel", repr(adds))
    rem = (by.get("member_remove") or [{}])[0]
    t.eq(rem.get("target_user"), coord.user.hex(), "member_remove names the removed member")
    co = (by.get("case_open") or [{}])[0]
    t.ok(co.get("case") == s["case"] and co.get("channel") == s["channel"].hex(),
         "case_open names the case and its channel", repr(co))
    sd = (by.get("step_done") or [{}])[0]
    t.ok(sd.get("case") == s["case"] and
         sd.get("detail", "").startswith(f"step={s['step'].get('step')}#")
         and sd.get("detail", "").endswith("status=done"),
         "step_done: the step key and its new state", repr(sd))
    rep = (by.get("report") or [{}])[0]
    t.ok(rep.get("user") == coord.user.hex() and rep.get("detail") == f"{s['today']}..{s['today']}",
         "the report: who ran it and the period", repr(rep))
    rv = by.get("device_revoke") or [{}, {}]
    t.ok(all(e.get("origin") == "admin" and e.get("user") is None for e in rv) and
         [(e.get("target_user"), e.get("target_device")) for e in rv] ==
         [(gp.user.hex(), gp.device.hex()), (coord.user.hex(), coord.device.hex())],
         "the administrator's revocations (--device, --user): origin admin, the user and device",
         repr(rv))
    t.ok(all(DETAIL_OK.match(e["detail"]) for e in entries),
         "details hold only seq/role, step key and state, a period",
         repr([e["detail"] for e in entries]))

    # filters
    rc, mine, err = show(srv, "--user", doctor.user.hex())
    t.ok(rc == 0 and mine and all(doctor.user.hex() in (e["user"], e["target_user"])
                                  for e in mine) and "login_failed" in actions(mine)
         and "report" not in actions(mine), "--user: the doctor's entries only",
         repr(actions(mine or [])) + err)
    rc, by_rpps, err = show(srv, "--user", "10101010105")
    t.ok(rc == 0 and by_rpps == mine, "--user also takes an RPPS number", err)
    rc, of_case, err = show(srv, "--case", s["case"])
    t.eq(actions(of_case or []), ["case_open", "step_done", "case_close"],
         "--case: that case's entries", err)
    first, last = entries[0]["at"], entries[-1]["at"]
    fmt = lambda ms: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))  # noqa: E731
    rc, period, err = show(srv, "--since", fmt(first), "--until", fmt(last + 1000))
    t.eq(len(period or []), len(entries), "--since/--until around everything: all entries", err)
    rc, none, err = show(srv, "--until", fmt(first - 1000))
    t.eq(none, [], "--until before the first entry: none", err)
    rc, recent, err = show(srv, "--since", "1h")
    t.eq(len(recent or []), len(entries), "--since 1h: all of them", err)
    rc, _, err = show(srv, "--since", "yesterday")
    t.ok(rc == 2 and "--since yesterday" in err, "an unreadable --since is a usage error", err)

    # the table an administrator reads
    rc, out, err = srv.admin_run("audit", "show", "--user", doctor.user.hex())
    t.ok(rc == 0 and "login_failed" in out and "bad_signature" in out and "Dr Anne Hôpital" in out
         and out.splitlines()[0].split()[:4] == ["SEQ", "TIME", "ACTION", "OUTCOME"],
         "audit show: a table with the user's name", out + err)

    # never the signature, never clinical content
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    dump = "\n".join(repr(row) for row in db.execute("SELECT * FROM audit"))
    db.close()
    sig_raw = base64.b64decode(s["bad_sig"])
    t.ok(s["bad_sig"] not in dump and sig_raw.hex() not in dump and repr(sig_raw) not in dump,
         "the refused login's signature is not in the audit table")
    rc, out, err = verify(srv.data)
    t.ok(rc == 0 and f"{len(entries)} entries" in out, "audit verify: intact", out + err)
    return entries


def verify_while_writing(t, srv, s):
    """audit verify reads one snapshot while the server keeps appending."""
    done, logins = threading.Event(), []

    def login_loop():
        while not done.is_set():
            ws = connect(srv, s["doctor"])
            ws.close()
            logins.append(1)
    th = threading.Thread(target=login_loop, daemon=True)
    th.start()
    results, deadline = [], time.monotonic() + 20 * SLOW
    while (len(logins) < 20 or len(results) < 5) and time.monotonic() < deadline:
        results.append(verify(srv.data))
    done.set()
    th.join(timeout=30 * SLOW)
    bad = [r for r in results if r[0] != 0]
    t.ok(not bad and len(logins) >= 20,
         f"audit verify passes {len(results)} times while {len(logins)} logins are recorded",
         repr(bad[:2]))


def tampered_copy(t, srv, name, sql):
    """Copy the stopped server's data dir and alter its audit table."""
    data = os.path.join(srv.tmp, "tamper-" + name)
    shutil.copytree(srv.data, data)
    db = sqlite3.connect(os.path.join(data, "liaison.db"))
    db.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + sql)
    db.commit()
    db.close()
    return data


def check_tampering(t, srv, entries):
    n = len(entries)
    # the triggers refuse plain changes, each with its own message
    # (schema/006_audit.sql); any other error (a typo, a locked database)
    # is not a refusal
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    for sql, why in (
            ("UPDATE audit SET outcome = 'ok' WHERE seq = 7", "audit: the trail is append-only"),
            ("DELETE FROM audit WHERE seq = 7", "audit: the trail is append-only"),
            ("INSERT INTO audit SELECT seq + 1000, at, action, outcome, origin, actor_user, "
             "actor_device, target_user, target_device, channel_id, case_id, peer, detail, "
             "prev_hash, hash FROM audit WHERE seq = 7", "audit: an entry must extend the chain"),
            ("DELETE FROM audit_head", "audit: the chain head cannot be removed")):
        try:
            db.execute(sql)
            db.commit()
            error = None
        except sqlite3.DatabaseError as e:
            db.rollback()
            error = str(e)
        t.eq(error, why, f"the schema refuses: {sql[:40]}... ({why})")
    db.close()
    rc, out, err = verify(srv.data)
    t.eq(rc, 0, "still intact after the refused attempts", out + err)

    failed = next(e["seq"] for e in entries if e["action"] == "login_failed")
    cases = [
        ("changed", f"UPDATE audit SET outcome = 'ok', action = 'login' WHERE seq = {failed}",
         failed, f"entry {failed} was changed"),
        ("removed", "DELETE FROM audit WHERE seq = 5", 5, "entry 5 is missing"),
        ("reordered", "UPDATE audit SET seq = -1 WHERE seq = 12; "
                      "UPDATE audit SET seq = 12 WHERE seq = 13; UPDATE audit SET seq = 13 WHERE seq = -1",
         12, "entry 12 is out of order"),
        ("truncated", f"DELETE FROM audit WHERE seq = {n}", n, f"entries {n} to {n} are missing"),
        ("time", "UPDATE audit SET at = at - 3600000 WHERE seq = 3", 3, "entry 3 was changed"),
    ]
    for name, sql, seq, words in cases:
        data = tampered_copy(t, srv, name, sql)
        rc, out, err = verify(data)
        t.ok(rc == 1 and f"first at entry {seq}" in err and words in err,
             f"audit verify catches the {name} entry and names entry {seq}",
             f"rc={rc}\n{out}\n{err}")
    # a changed entry whose own hash is recomputed breaks the next link
    data = os.path.join(srv.tmp, "tamper-rehash")
    shutil.copytree(srv.data, data)
    db = sqlite3.connect(os.path.join(data, "liaison.db"))
    db.executescript("DROP TRIGGER audit_no_update;")
    row = db.execute("SELECT seq, at, action, outcome, origin, actor_user, actor_device, "
                     "target_user, target_device, channel_id, case_id, peer, detail, prev_hash "
                     "FROM audit WHERE seq = ?", (failed,)).fetchone()
    forged = list(row)
    forged[2], forged[3] = "login", "ok"
    db.execute("UPDATE audit SET action = ?, outcome = ?, hash = ? WHERE seq = ?",
               (forged[2], forged[3], chain_hash(forged), failed))
    db.commit()
    db.close()
    rc, out, err = verify(data)
    t.ok(rc == 1 and f"entry {failed + 1} does not follow entry {failed}" in err,
         "a changed entry with a recomputed hash is caught at the next entry",
         f"rc={rc}\n{out}\n{err}")


def chain_hash(row):
    """docs/AUDIT.md, computed here independently of the server."""
    seq, at, action, outcome, origin, au, ad, tu, td, ch, case, peer, detail, prev = row

    def text(v):
        b = v.encode()
        return bytes([len(b)]) + b

    def ident(v):
        return b"\x00" if v is None else b"\x01" + v
    enc = (b"LSNAUD01" + seq.to_bytes(8, "big") + (at & (2**64 - 1)).to_bytes(8, "big")
           + text(action) + text(outcome) + text(origin) + ident(au) + ident(ad) + ident(tu)
           + ident(td) + ident(ch) + ident(case) + text(peer) + text(detail))
    return hashlib.blake2b(prev + enc, digest_size=32).digest()


def main(t):
    with Server(t) as srv:
        s = scenario(t, srv)
        entries = check_entries(t, srv, s)
        # the chain recomputed independently matches the stored hashes
        db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
        rows = db.execute("SELECT seq, at, action, outcome, origin, actor_user, actor_device, "
                          "target_user, target_device, channel_id, case_id, peer, detail, "
                          "prev_hash, hash FROM audit ORDER BY seq").fetchall()
        db.close()
        prev, ok = bytes(32), bool(rows)
        for row in rows:
            ok = ok and row[13] == prev and chain_hash(row[:14]) == row[14]
            prev = row[14]
        t.ok(ok, "the stored chain matches docs/AUDIT.md recomputed in Python")
        verify_while_writing(t, srv, s)
        entries = show(srv)[1] or entries
        srv.stop()
        check_tampering(t, srv, entries)


if __name__ == "__main__":
    run(main, PLAN)
