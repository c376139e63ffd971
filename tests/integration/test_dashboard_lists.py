#!/usr/bin/env python3
"""test_dashboard_lists.py — the coordinator's dashboard lists over the real
network path (docs/PROTOCOL.md "Care pathways": unacked_notices,
recent_alerts) and the CLI that shows them (liaison cases --unacked,
--alerts). Raw protocol clients build a hand-made fixture in two CPTS:
discharge notices partly acknowledged (one escalated after ack_timeout by
the testing clock), one fully acknowledged, one on a closed case; alerts of
several kinds, one raised 8 days before the others. Each list is checked
against what this file computes by hand for a member (her cases only), the
case's coordinator (her CPTS's), the other CPTS's coordinator, the territory
coordinator (with and without all), and the refusals (all for a
non-territory user, days out of range). The CLI of a second coordinator of
the same CPTS prints the same lists (--json equal to the wire reply) and a
table with the names. TAP on stdout."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Client, RawIdentity, RawWS, Server, b64, error_code,  # noqa: E402
                     make_envelope, raw_channel, raw_login, run)

PLAN = 41

HOSPITAL, CPTS_A, CPTS_B = "370000481", "450000005", "450000013"
DAY_MS = 24 * 3600 * 1000
# (key, RPPS, name, profession, FINESS, roles)
PEOPLE = [
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", HOSPITAL, "member,discharge"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", CPTS_A, "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", CPTS_A, "member"),
    ("petit", "10555555555", "Marc Petit", "pharmacist", CPTS_A, "member"),
    ("vidal", "10666666663", "Dr Anne Vidal", "gp", CPTS_B, "member"),
    ("lea", None, "Léa Coordination", "coordinator", CPTS_A, "member,coordinator"),
    ("sam", None, "Sam Sologne", "coordinator", CPTS_B, "member,coordinator"),
    ("tom", None, "Tom Territoire", "coordinator", CPTS_B, "member,coordinator"),
    ("admin", None, "Admin Test", "secretary", CPTS_A, "member,admin"),
]


class World:
    def __init__(self, t, srv):
        self.t, self.srv, self.n = t, srv, 0
        self.ids, self.ws = {}, {}

    def idem(self):
        self.n += 1
        return f"d{self.n}"

    def ok(self, who, **req):
        r = self.ws[who].request(dict(req, idem=self.idem()) if "idem" in req else req)
        if r.get("ok") is not True:
            raise harness.HarnessError(f"{who} {req.get('op')}: {r!r}")
        return r

    def send(self, who, chain):
        env = make_envelope(chain.channel, self.ids[who].device)
        return self.ok(who, op="send", idem=1, channel=chain.channel.hex(), envelope=b64(env))["seq"]

    def case(self, members, pathway, cpts):
        chain = raw_channel(self.ws["roux"], self.ids["roux"], [self.ids[m] for m in members])
        r = self.ok("roux", op="case_open", idem=1, channel=chain.channel.hex(), pathway=pathway,
                    j0=time.strftime("%Y-%m-%d", time.gmtime()), cpts=cpts)
        return {"chain": chain, "id": r["case"]["case"], "ref": r["case"]["patient_ref"],
                "pathway": pathway, "channel": chain.channel.hex()}

    def notice(self, c):
        seq = self.send("roux", c["chain"])
        r = self.ok("roux", op="notice_post", idem=1, case=c["id"], seq=seq)
        return seq, r

    def alert(self, who, c, kind=None):
        seq = self.send(who, c["chain"])
        req = {"op": "alert", "idem": 1, "case": c["id"], "seq": seq}
        if kind:
            req["kind"] = kind
        self.ok(who, **req)
        return seq


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", HOSPITAL, "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", CPTS_A, "--kind", "cpts")
    srv.admin("org", "add", "--name", "CPTS Sologne", "--finess", CPTS_B, "--kind", "cpts")
    orgs = {o["finess"]: o["id"] for o in json.loads(srv.admin("org", "list", "--json"))}
    w = World(t, srv)
    for key, rpps, name, profession, org, roles in PEOPLE:
        code = srv.invite(rpps, name, profession, org, roles=roles)
        w.ids[key] = harness.raw_enrol(srv, code)
    users = {u["name"]: u["id"] for u in json.loads(srv.admin("users", "--json"))}
    rc, out, err = srv.admin_run("user", "roles", "--user", users["Tom Territoire"], "--roles",
                                 "member,coordinator,territory")
    t.ok(rc == 0 and "territory" in out, "Tom is given the territory role", f"{out}\n{err}")
    for key in w.ids:
        w.ws[key] = raw_login(srv, w.ids[key])
    # a second coordinator of CPTS A, with the CLI
    zoe = Client(srv, "zoe")
    rc, out, err = zoe.enrol(srv.invite(None, "Zoé Coordination", "coordinator", CPTS_A,
                                        roles="member,coordinator"))
    t.eq(rc, 0, "Zoé (coordinator of CPTS A) enrols with the CLI", f"{out}\n{err}")
    return w, orgs, zoe


def hexid(w, key):
    return w.ids[key].user.hex()


def people(w, *keys):
    """missing_people as NOTICE gives it: in user id order."""
    names = {k: n for k, _, n, *_ in PEOPLE}
    return sorted(({"user": hexid(w, k), "name": names[k]} for k in keys),
                  key=lambda p: p["user"])


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t, config={"ack_timeout": "24h"}) as srv:
        w, orgs, zoe = setup(t, srv)
        a, b = orgs[CPTS_A], orgs[CPTS_B]
        # the cases (docs/PATHWAYS.md): C1..C4 hospital discharge, C6 heart
        # failure in CPTS A; C5 in CPTS B
        c1 = w.case(["martin", "bernard", "petit"], "hospital_discharge", a)
        c2 = w.case(["martin", "petit"], "hospital_discharge", a)
        c3 = w.case(["martin", "bernard"], "hospital_discharge", a)
        c4 = w.case(["martin"], "hospital_discharge", a)
        c5 = w.case(["vidal"], "hospital_discharge", b)
        c6 = w.case(["martin"], "heart_failure", a)

        # T0: an alert on C1, and C1's notice to Martin, Bernard, Petit
        a1 = w.alert("martin", c1)
        seq1, r = w.notice(c1)
        t.eq(r.get("recipients"), 3, "C1's notice goes to its 3 other members", repr(r))
        posted1 = w.ok("lea", op="case_get", case=c1["id"])["notice"]["posted_at"]
        # 8 days later: past ack_timeout (24 h), so the timer escalates it
        adv = w.ok("admin", op="clock_advance", ms=8 * DAY_MS)
        escalated = adv["now"]
        w.ok("martin", op="ack", idem=1, case=c1["id"])

        # T1: C2 acknowledged by Petit only; C3's notice unacknowledged, then closed;
        # C4 acknowledged by all; C5 (CPTS B) unacknowledged
        seq2, _ = w.notice(c2)
        w.ok("petit", op="ack", idem=1, case=c2["id"])
        w.notice(c3)
        w.notice(c4)
        w.ok("martin", op="ack", idem=1, case=c4["id"])
        seq5, _ = w.notice(c5)
        # alerts at T1, in this order: C3 (clinical), C6 (weight gain), C5 (CPTS B)
        a3 = w.alert("martin", c3)
        a6 = w.alert("martin", c6, "weight_gain")
        a5 = w.alert("vidal", c5)
        w.ok("roux", op="case_close", idem=1, case=c3["id"], reason="completed")

        # ---- unacked_notices -----------------------------------------------------
        def unacked(c, seq, posted, esc, expected, missing):
            return {"case": c["id"], "patient_ref": c["ref"], "pathway": c["pathway"],
                    "channel": c["channel"], "seq": seq, "posted_by": hexid(w, "roux"),
                    "posted_by_name": "Dr Hélène Roux", "posted_at": posted, "escalated_at": esc,
                    "expected": expected, "missing": len(missing),
                    "missing_people": people(w, *missing)}

        lea = w.ok("lea", op="unacked_notices")["notices"]
        posted2 = lea[1]["posted_at"] if len(lea) == 2 else None
        want1 = unacked(c1, seq1, posted1, escalated, 3, ["bernard", "petit"])
        want2 = unacked(c2, seq2, posted2, None, 2, ["martin"])
        t.eq(lea, [want1, want2], "the coordinator of CPTS A: C1 (escalated, Bernard and Petit "
             "missing of 3), then C2 (Martin missing of 2); C3 closed and C4 acknowledged are "
             "absent; C5 is another CPTS's")
        t.ok(posted2 is not None and posted2 >= escalated and posted1 < escalated - DAY_MS,
             "oldest posted first: C1 was posted 8 days before C2", repr((posted1, posted2)))
        got = w.ok("lea", op="case_get", case=c1["id"])["notice"]
        t.ok(all(got[k] == want1[k] for k in ("expected", "missing", "missing_people",
                                                  "escalated_at", "posted_at")),
             "the same expected, missing, missing_people and escalation as case_get's NOTICE",
             repr(got))
        t.eq(w.ok("bernard", op="unacked_notices")["notices"], [want1],
             "a member (Bernard) sees her own case C1 only, not C2 of her CPTS")
        t.eq(w.ok("martin", op="unacked_notices")["notices"], [want1, want2],
             "Martin, in C1..C4, sees C1 and C2 (her own missing acknowledgement in C2)")
        sam = w.ok("sam", op="unacked_notices")["notices"]
        t.eq([x["case"] for x in sam], [c5["id"]],
             "the coordinator of CPTS B: none of CPTS A's, only C5")
        t.eq(sam[0]["missing_people"] if sam else None, people(w, "vidal"),
             "C5 waits for Dr Anne Vidal")
        t.eq(w.ok("tom", op="unacked_notices")["notices"], sam,
             "the territory coordinator without all: his CPTS's (B) only")
        terr = w.ok("tom", op="unacked_notices", all=True)["notices"]
        t.eq([x["case"] for x in terr], [c1["id"], c2["id"], c5["id"]],
             "with all: every CPTS's, oldest first")
        t.eq(w.ok("tom", op="unacked_notices", all=True, pathway="heart_failure")["notices"], [],
             "pathway filters the list (no heart failure notice)")
        t.eq(w.ok("lea", op="unacked_notices", pathway="hospital_discharge")["notices"],
             [want1, want2], "pathway hospital_discharge keeps both")
        for who in ("bernard", "lea"):
            r = w.ws[who].request(op="unacked_notices", all=True)
            t.eq(error_code(r), "coordinator_only", f"{who} with all: coordinator_only", repr(r))

        # ---- recent_alerts -------------------------------------------------------
        def alert(c, seq, kind, label, by, status="open"):
            names = {k: n for k, _, n, *_ in PEOPLE}
            return {"case": c["id"], "patient_ref": c["ref"], "pathway": c["pathway"],
                    "channel": c["channel"], "case_status": status, "seq": seq, "kind": kind,
                    "label": label, "by": hexid(w, by), "by_name": names[by]}

        def alerts(who, **kw):
            r = w.ok(who, op="recent_alerts", **kw)
            return r, [{k: v for k, v in x.items() if k != "at"} for x in r["alerts"]]

        want6 = alert(c6, a6, "weight_gain", "Prise de poids rapide", "martin")
        want3 = alert(c3, a3, "clinical", "Alerte clinique", "martin", "closed")
        want5 = alert(c5, a5, "clinical", "Alerte clinique", "vidal")
        old = alert(c1, a1, "clinical", "Alerte clinique", "martin")
        r, got = alerts("lea")
        t.eq(got, [want6, want3], "the coordinator of CPTS A, last 7 days: C6's weight gain, "
             "then C3's clinical alert (closed since); not C1's of 8 days ago")
        ats = [x["at"] for x in r["alerts"]]
        since = r.get("since", 0)
        t.ok(r.get("days") == 7 and ats == sorted(ats, reverse=True) and
             adv["now"] - 7 * DAY_MS <= since <= adv["now"] - 7 * DAY_MS + 600000 and
             since <= min(ats, default=0),
             "newest first; days 7 and since = the server's now - 7 days", repr(r))
        r14, got = alerts("lea", days=14)
        t.eq(got, [want6, want3, old], "with days 14: C1's alert of 8 days ago too, last")
        t.ok(r14["alerts"][-1]["at"] < escalated <= r14["alerts"][0]["at"],
             "C1's alert was raised before the clock moved 8 days", repr(r14["alerts"]))
        t.eq(alerts("bernard", days=14)[1], [want3, old],
             "a member (Bernard): her cases C3 and C1 only")
        t.eq(alerts("sam")[1], [want5], "the coordinator of CPTS B: only C5's")
        t.eq(alerts("tom")[1], [want5], "the territory coordinator without all: CPTS B's")
        t.eq(alerts("tom", all=True)[1], [want5, want6, want3],
             "with all: every CPTS's, newest first")
        t.eq(alerts("lea", pathway="heart_failure")[1], [want6], "pathway filters the alerts")
        r = w.ws["martin"].request(op="recent_alerts", all=True)
        t.eq(error_code(r), "coordinator_only", "a GP with all: coordinator_only", repr(r))
        for bad in (0, 32, "7", 1.5):
            r = w.ws["lea"].request(op="recent_alerts", days=bad)
            t.ok(error_code(r) == "bad_request" and "from 1 to 31" in
                 (r.get("error") or {}).get("message", json.dumps(r)),
                 f"days {bad!r}: bad_request saying the range", repr(r))

        # ---- the CLI of another coordinator of CPTS A ----------------------------
        rc, obj, err = zoe.json("cases", "--unacked")
        t.ok(rc == 0 and obj and obj.get("unacked_notices") == lea,
             "liaison cases --unacked --json: the wire reply's notices", f"{obj}\n{err}")
        rc, obj, err = zoe.json("cases", "--alerts", "--days", "14")
        t.ok(rc == 0 and obj and obj.get("recent_alerts") == r14["alerts"],
             "liaison cases --alerts --days 14 --json: the wire reply's alerts", f"{obj}\n{err}")
        rc, out, err = zoe.run("cases", "--unacked")
        lines = out.splitlines()
        row1 = next((x for x in lines if c1["ref"] in x), "")
        t.ok(rc == 0 and "Julie Bernard" in row1 and "Marc Petit" in row1 and
             "Dr Hélène Roux" in row1 and "1/3" in row1,
             "the --unacked table: C1's row names who is missing and the poster", out + err)
        t.ok(lines.index(row1) < next((i for i, x in enumerate(lines) if c2["ref"] in x), -1),
             "C1 before C2", out)
        rc, out, err = zoe.run("cases", "--alerts")
        row6 = next((x for x in out.splitlines() if c6["ref"] in x), "")
        t.ok(rc == 0 and "Prise de poids rapide" in row6 and "Dr Claire Martin" in row6 and
             c1["ref"] not in out, "the --alerts table: label and who; not the 8-day-old alert",
             out + err)
        rc, out, err = zoe.run("cases", "--alerts", "--days", "40")
        t.ok(rc != 0 and "31" in err, "--days 40 is refused with the range", out + err)
        rc, out, err = zoe.run("cases", "--unacked", "--all")
        t.ok(rc != 0 and "territory" in err, "--unacked --all: territory coordinators only",
             out + err)
        for ws in w.ws.values():
            ws.close()


if __name__ == "__main__":
    run(main, PLAN)
