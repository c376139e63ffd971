#!/usr/bin/env python3
"""test_cpts_scope.py — cases belong to one CPTS, driven through the real
liaison CLI against a real liaisond: two CPTS with a coordinator each and a
territory coordinator (role granted with `liaisond user roles`); the case
takes the CPTS of its first CPTS member, a hospital-only thread is refused
with no_cpts until the CPTS is named; the other CPTS's coordinator is refused
every case command and finds the case in no list, late-step view or
notification; the case's coordinator sees it with `cases --overdue` and
`cases --late` (days late computed here by hand); the territory coordinator
sees both CPTS but does not act on another's case; `case step reschedule`
with its note in the timeline; a coordinator step assigned to the
coordinator outside the thread; notifications that say who, what and the
next command, with the alert's text; and a closed case's notifications gone.
TAP on stdout."""

import datetime
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, RawIdentity, RawWS, Server, run  # noqa: E402

PLAN = 49

TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)
J0 = TODAY - 3 * DAY

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
    ("lea", None, "Léa Coordination", "coordinator", "450000005", "member,coordinator"),
    ("sam", None, "Sam Sologne", "coordinator", "450000013", "member,coordinator"),
    ("tom", None, "Tom Territoire", "coordinator", "450000013", "member,coordinator"),
]
ALERT = "Prise de poids de 2,5 kg en 3 jours"
NOTE = "Rendez-vous pris au cabinet le jour dit"


def ok_run(t, client, name, *args):
    rc, out, err = client.run(*args)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out


def refused(t, client, name, *args):
    rc, out, err = client.run(*args)
    t.ok(rc != 0, name, f"rc={rc}\nstdout: {out}\nstderr: {err}")
    return err


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    srv.admin("org", "add", "--name", "CPTS Sologne", "--finess", "450000013", "--kind", "cpts")
    orgs = {o["finess"]: o["id"] for o in json.loads(srv.admin("org", "list", "--json"))}
    c = {}
    for profile, rpps, name, profession, org, roles in PEOPLE:
        c[profile] = Client(srv, profile)
        rc, out, err = c[profile].enrol(srv.invite(rpps, name, profession, org, roles=roles))
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
    admin = RawIdentity(srv.tmp)
    code = srv.invite(None, "Admin Test", "secretary", "450000005", roles="member,admin")
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(admin.enrol_request(code))
        t.ok(r.get("ok") is True, "a raw admin user enrols (for the testing clock)", repr(r))
    # the administrator grants the territory role to an enrolled coordinator
    tom = next(u["id"] for u in json.loads(srv.admin("users", "--json"))
               if u["name"] == "Tom Territoire")
    rc, out, err = srv.admin_run("user", "roles", "--user", tom, "--roles",
                                 "member,coordinator,territory")
    t.ok(rc == 0 and "territory" in out, "liaisond user roles grants the territory role",
         f"{out}\n{err}")
    return c, admin, orgs


def tick(t, srv, admin):
    with RawWS(srv.port) as ws:
        hello = ws.recv_event("hello")
        r = ws.request(admin.login_request(srv.server_name, hello["challenge"]))
        r = ws.request(op="clock_advance", ms=1) if r.get("ok") else r
        t.ok(r.get("ok") is True, "testing aid: one timer pass", repr(r))


def case_channel(t, owner, *members):
    rc, obj, err = owner.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel")
    t.ok(rc == 0 and channel, "the hospital creates a case thread", err)
    for m in members:
        rc, out, err = owner.run("channel", "add", channel, m)
        if rc != 0:
            t.ok(False, f"add {m}", err)
    return channel


def open_cases(t, c, orgs):
    channel = case_channel(t, c["roux"], "Dr Claire Martin", "Julie Bernard")
    rc, obj, err = c["roux"].json("case", "open", channel, "--pathway", "hospital_discharge",
                                  "--j0", str(J0))
    case = (obj or {}).get("case", {})
    t.ok(rc == 0 and case.get("cpts") == orgs["450000005"],
         "the case belongs to the CPTS of its first CPTS member (the GP's)", f"{obj}\n{err}")
    ref = case.get("patient_ref", "?")
    # a thread of hospital staff only: no CPTS to give the case, until it is named
    lonely = case_channel(t, c["roux"])
    err = refused(t, c["roux"], "a case with no CPTS member is refused", "case", "open", lonely,
                  "--pathway", "hospital_discharge", "--j0", str(TODAY))
    t.ok("GP" in err and "--cpts" in err, "the refusal says what to do (add the GP, or --cpts)",
         err)
    rc, obj, err = c["roux"].json("case", "open", lonely, "--pathway", "hospital_discharge",
                                  "--j0", str(TODAY), "--cpts", orgs["450000013"])
    case2 = (obj or {}).get("case", {})
    t.ok(rc == 0 and case2.get("cpts") == orgs["450000013"], "--cpts names the CPTS",
         f"{obj}\n{err}")
    return channel, ref, case.get("case", "?"), case2.get("patient_ref", "?")


def listed(client, ref, *args):
    rc, obj, err = client.json("cases", *args)
    obj = obj or {}
    rows = obj.get("cases", []) + obj.get("late_steps", [])
    notes = obj.get("notifications", [])
    return rc, [r for r in rows if r.get("patient_ref") == ref], \
        [n for n in notes if n.get("patient_ref") == ref]


def other_cpts(t, c, ref, case_id):
    sam = c["sam"]
    refused(t, sam, "the other CPTS's coordinator cannot show the case", "case", "show", case_id)
    refused(t, sam, "nor complete its steps", "case", "step", "complete", case_id,
            "discharge_letter")
    refused(t, sam, "nor close it for good", "case", "close", case_id, "--reason", "deceased")
    seen = []
    for args in (("--all",), ("--overdue",), ("--mine",), ("--late",)):
        rc, rows, notes = listed(sam, ref, *args)
        seen += rows + notes + ([f"rc={rc} for {args}"] if rc else [])
    t.ok(not seen, "and finds it in no list: cases --all, --overdue, --mine, --late", repr(seen))


def coordinator_view(t, c, ref):
    lea = c["lea"]
    out = ok_run(t, lea, "the case's coordinator lists overdue cases (no --all)", "cases",
                 "--overdue")
    t.ok(ref in out, "cases --overdue covers her CPTS", out)
    out = ok_run(t, lea, "she lists the late steps", "cases", "--late")
    row = next((x for x in out.splitlines() if "discharge_letter" in x), "")
    t.ok(ref in row and re.search(r"\b3\b", row) and "Dr Hélène Roux" in row,
         "late steps: the letter of the case, 3 days late, held by the hospital doctor", out)
    rc, obj, err = lea.json("cases", "--late")
    got = [(s.get("code"), s.get("days_late")) for s in (obj or {}).get("late_steps", [])
           if s.get("patient_ref") == ref]
    # hospital_discharge, J0 three days ago: the J0 steps 3 days late, the J2 steps 1 day
    want = [("discharge_notice", 3), ("discharge_letter", 3), ("discharge_reconciliation", 3),
            ("dispensing_reconciliation", 1), ("nurse_first_visit", 1), ("coordinator_call", 1)]
    t.ok(got == want, "late steps in --json: most late first, days late as computed by hand",
         f"{got}\n{err}")


def territory(t, c, ref, ref2, case_id):
    tom = c["tom"]
    out = ok_run(t, tom, "the territory coordinator lists every case", "cases", "--all")
    t.ok(ref in out and ref2 in out, "she sees the cases of both CPTS", out)
    rc, rows, _ = listed(tom, ref, "--late", "--all")
    t.ok(rc == 0 and len(rows) == 6, "and the late steps of every CPTS", repr(rows))
    err = refused(t, tom, "but does not act on another CPTS's case", "case", "step", "complete",
                  case_id, "discharge_letter")
    t.ok("assigned" in err or "coordinator" in err, "refused as not the assignee", err)


def reschedule_and_assign(t, c, ref, channel):
    martin, lea = c["martin"], c["lea"]
    new_day = TODAY + 6 * DAY     # J+9; the consultation was due at J7 = today + 4
    ok_run(t, martin, "the GP reschedules her consultation", "case", "step", "reschedule", ref,
           "gp_consultation", "--due", str(new_day), "--reason", "patient_request",
           "--note", NOTE)
    out = ok_run(t, martin, "case show", "case", "show", ref)
    block = out[out.find("gp_consultation"):]
    t.ok(re.search(r"rescheduled .* by Dr Claire Martin: J\+7 " + str(J0 + 7 * DAY)
                   + r" → J\+9 " + str(new_day) + r" \(patient_request\)", block)
         and NOTE in block, "the timeline shows the move, who, why and the note", out)
    ok_run(t, lea, "the coordinator takes the follow-up call without joining the thread",
           "case", "step", "assign", ref, "coordinator_call", "Léa Coordination")
    rc, obj, err = lea.json("case", "show", ref)
    call = next((s for s in (obj or {}).get("steps", []) if s.get("step") == "coordinator_call"),
                {})
    t.ok((call.get("assignee_name") or "").startswith("Léa Coordination")
         and obj.get("member") is False,
         "the call is hers; she is still not a member", f"{call}\n{err}")
    refused(t, lea, "she still cannot read the thread", "read", channel)


def notifications(t, srv, admin, c, ref, channel):
    ok_run(t, c["bernard"], "the nurse alerts the GP", "alert", ref, ALERT)
    tick(t, srv, admin)
    out = ok_run(t, c["martin"], "the GP lists her cases", "cases")
    t.ok(f'alert from Julie Bernard on {ref}: "{ALERT}" — next: liaison read {channel}' in out,
         "the alert says who, the text and the next command", out)
    out = ok_run(t, c["lea"], "the coordinator lists her cases", "cases")
    t.ok(f"step overdue: nurse_first_visit of {ref} (Premier passage infirmier, J+2 "
         f"{J0 + 2 * DAY}), held by Julie Bernard — next: liaison case show {ref}" in out,
         "an overdue step says which, whose and what to run next", out)
    for who in ("sam", "tom"):
        rc, _, notes = listed(c[who], ref)
        t.ok(rc == 0 and not notes, f"{who}: no notification about another CPTS's case",
             repr(notes))


def unseen(srv, user_id, case_id):
    """The user's notifications about the case not yet seen, from the database."""
    db = sqlite3.connect(f"file:{os.path.join(srv.data, 'liaison.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM notifications WHERE user_id = ? AND case_id = ? "
                          "AND seen_at IS NULL",
                          (bytes.fromhex(user_id), bytes.fromhex(case_id))).fetchone()[0]
    finally:
        db.close()


def closing(t, srv, c, ref, case_id):
    nurse = next(u["id"] for u in json.loads(srv.admin("users", "--json"))
                 if u["name"] == "Julie Bernard")
    # the nurse never listed her notifications: they are pending until the close
    pending = unseen(srv, nurse, case_id)
    t.ok(pending > 0, f"the nurse has {pending} unseen notification(s) about the case")
    ok_run(t, c["roux"], "the case closes", "case", "close", ref, "--reason", "readmitted")
    rc, _, notes = listed(c["bernard"], ref, "--closed")
    t.ok(rc == 0 and not notes and unseen(srv, nurse, case_id) == 0,
         "a closed case's notifications are gone", repr(notes))


def main(t):
    if not harness.require_programs(t):
        return
    # the timer runs only when the test says (tick): a periodic pass would
    # notify, and an earlier "cases" mark seen, before the checks look
    with Server(t, config={"due_soon": "1h", "timer_interval": 3600}) as srv:
        c, admin, orgs = setup(t, srv)
        channel, ref, case_id, ref2 = open_cases(t, c, orgs)
        other_cpts(t, c, ref, case_id)
        coordinator_view(t, c, ref)
        territory(t, c, ref, ref2, case_id)
        reschedule_and_assign(t, c, ref, channel)
        notifications(t, srv, admin, c, ref, channel)
        closing(t, srv, c, ref, case_id)


if __name__ == "__main__":
    run(main, PLAN)
