#!/usr/bin/env python3
"""test_cases_wire.py — care pathway cases over the real network path, with
raw protocol clients (keys and signatures from openssl): a case opened in a
case channel, its steps assigned by profession, the deadline timer of the
running server pushing "due soon" and "overdue" notifications (and storing
them for users who are offline), an unacknowledged discharge notice escalated
to the coordinator after the timeout, and the report. TAP on stdout."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import RawWS, Server, b64, error_code, run  # noqa: E402
from test_threads_wire import Log, connect, envelope  # noqa: E402

PLAN = 22


def enrol_roles(srv, t, rpps, name, profession, roles, org="450000005"):
    from harness import RawIdentity
    ident = RawIdentity(srv.tmp)
    args = ["invite", "--name", name, "--profession", profession, "--org", org,
            "--roles", roles]
    if rpps:
        args += ["--rpps", rpps]
    code = srv.admin(*args).strip().splitlines()[-1]
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(ident.enrol_request(code))
        t.ok(r.get("ok") is True, f"{name} enrols", repr(r))
    return ident


def wait_event(ws, name, pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ev = ws.recv_event(name, timeout=max(0.1, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - timeout
            return None
        if pred(ev):
            return ev
    return None


def main(t):
    # a fast timer, and "due soon" a whole week ahead so a fresh case has due steps
    config = {"timer_interval": 1, "due_soon": "8d", "ack_timeout": "24h"}
    with Server(t, config=config) as srv:
        srv.admin("org", "add", "--name", "CHR Orléans", "--finess", "450000005", "--kind", "hospital")
        # the case belongs to the GP's CPTS, whose coordinator hears of it
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "370000481", "--kind",
                  "cpts")
        doctor = enrol_roles(srv, t, "10101010105", "Dr Anne Hôpital", "hospital_doctor",
                             "member,discharge")
        gp = enrol_roles(srv, t, "10000000009", "Dr Paul Ville", "gp", "member", org="370000481")
        coord = enrol_roles(srv, t, None, "Léa Coordination", "coordinator", "member,coordinator",
                            org="370000481")
        admin = enrol_roles(srv, t, None, "Admin Test", "secretary", "member,admin")
        a, g, c = connect(srv, doctor), connect(srv, gp), connect(srv, coord)
        adm = connect(srv, admin)

        channel = os.urandom(16)
        log = Log(channel)
        e = log.entry(doctor, "create", doctor, role="admin", history="shared", kind="case")
        t.ok(a.request(op="channel_create", idem="c1", entry=e).get("ok") is True,
             "the discharge team creates a case channel")
        log.last = e
        e = log.entry(doctor, "add", gp, role="member")
        t.ok(a.request(op="channel_append", idem="c2", entry=e).get("ok") is True, "adds the GP")
        log.last = e

        today = time.strftime("%Y-%m-%d", time.gmtime())
        r = a.request(op="case_open", idem="o1", channel=channel.hex(), pathway="hospital_discharge",
                      j0=today)
        t.ok(r.get("ok") is True and len(r.get("steps", [])) == 9,
             "case_open: a hospital discharge case with its 9 steps", repr(r)[:300])
        case = r.get("case", {}).get("case")
        gp_steps = [s for s in r.get("steps", []) if s.get("assignee") == gp.user.hex()]
        t.ok([s["step"] for s in gp_steps] == ["gp_consultation"],
             "the GP consultation is assigned to the GP", repr(gp_steps))
        r = g.request(op="case_open", idem="o2", channel=channel.hex(), pathway="hospital_discharge",
                      j0=today)
        t.ok(error_code(r) in ("forbidden", "conflict"), "a second case on the channel is refused",
             repr(r))

        ev = wait_event(g, "notification", lambda x: x.get("kind") == "step_due_soon", 5)
        t.ok(ev is not None and ev.get("case") == case,
             "the running server's timer tells the GP the consultation is due soon", repr(ev))

        # the discharge notice: posted, then nobody acknowledges it
        env = envelope(channel, doctor.device)
        seq = a.request(op="send", idem="n1", channel=channel.hex(), envelope=b64(env)).get("seq")
        r = a.request(op="notice_post", idem="n2", case=case, seq=seq)
        t.ok(r.get("ok") is True, "the discharge notice is posted", repr(r))
        c.close()  # the coordinator goes offline
        r = adm.request(op="clock_advance", ms=25 * 3600 * 1000)
        t.ok(r.get("ok") is True, "testing aid: the clock moves 25 h forward", repr(r))
        ev = wait_event(g, "notification", lambda x: x.get("kind") == "step_overdue", 5)
        t.ok(ev is None, "the GP's J7 consultation is not overdue after 25 h", repr(ev))
        ev = wait_event(a, "notification", lambda x: x.get("kind") == "step_overdue", 5)
        t.ok(ev is not None, "the discharge team hears its J0 steps are overdue", repr(ev))

        c = connect(srv, coord)
        r = c.request(op="notifications")
        kinds = [n.get("kind") for n in r.get("notifications", [])]
        t.ok("notice_escalated" in kinds,
             "back online, the coordinator finds the escalated notice waiting", repr(kinds))
        r = c.request(op="cases", all=True)
        t.ok(any(x.get("escalated") for x in r.get("cases", [])),
             "and the case shows as escalated in the coordinator's list", repr(r)[:300])
        r = c.request(op="notifications_seen", upto=max(n["id"] for n in
                                                         c.request(op="notifications")["notifications"]))
        t.ok(r.get("ok") is True and not c.request(op="notifications").get("notifications"),
             "seen notifications are not shown again")
        r = c.request(op="report", **{"from": today, "to": today})
        ids = [x.get("id") for x in r.get("indicators", [])]
        t.ok(r.get("ok") is True and "1a" in ids and "8c" in ids,
             "the coordinator runs the report", repr(r)[:300])
        r = g.request(op="report", **{"from": today, "to": today})
        t.ok(error_code(r) == "coordinator_only", "the GP cannot", repr(r))
        for ws in (a, g, c, adm):
            ws.close()


if __name__ == "__main__":
    run(main, PLAN)
