#!/usr/bin/env python3
"""test_pathway_cli.py — a hospital discharge coordinated through the real
liaison CLI against a real liaisond: the discharge team runs `liaison
discharge` for a heart-failure patient; the GP, pharmacist, nurse and
cardiologist acknowledge; steps are completed with an encrypted note, which
`case show` decrypts; moving the server clock makes a step overdue; a second
notice nobody acknowledges is escalated to the coordinator; permissions
(not_assignee, non-member, coordinator-only report); every illegal
transition gives its own error; alerts reach the GP and cardiologist and
`watch` shows them; colours only on a terminal; the report's CSV matches the
scenario; and no patient name from the notice reaches the server's files.
TAP on stdout."""

import csv
import datetime
import glob
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, RawIdentity, RawWS, Server, run  # noqa: E402

PLAN = 145

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")

TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
    ("petit", "10345678907", "Dr Louis Petit", "cardiologist", "450000005", "member"),
    ("lea", None, "Léa Coordination", "coordinator", "450000005", "member,coordinator"),
    ("dehors", "10456789014", "Dr Marc Dehors", "gp", "450000005", "member"),
]

# two fictional patients: their names and INS must never reach the server
PATIENT1 = {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
            "sex": "F", "ins": "2 48 03 45 234 056 72"}
PATIENT2 = {"family_name": "BOUVIER", "given_names": "Marcel", "birth_date": "1953-07-02",
            "sex": "M", "ins": "1 53 07 75 110 042 52"}
NOTE = "Patiente vue au cabinet, poids stable à 68 kg, bisoprolol passé à 3,75 mg."
ALERT = "Prise de poids de 2,5 kg en 3 jours, dyspnée d'effort"
SECRETS = [b"LEMAIRE", b"Odette", b"BOUVIER", b"Marcel", b"248034523405672",
           b"153077511004252", NOTE.encode(), ALERT.encode(), b"furos"]


def notice_file(tmp, name, patient, with_date):
    with open(SAMPLE, encoding="utf-8") as f:
        notice = json.load(f)
    notice["patient"] = patient
    notice["admission_date"] = str(TODAY - 5 * DAY)
    if with_date:
        notice["discharge_date"] = str(TODAY)
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    return path


def enrol_all(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346", "--kind",
              "pharmacy")
    clients = {}
    for profile, rpps, name, profession, org, roles in PEOPLE:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, profession, org, roles=roles))
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
        clients[profile] = c
    admin = RawIdentity(srv.tmp)
    code = srv.invite(None, "Admin Test", "secretary", "450000005", roles="member,admin")
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(admin.enrol_request(code))
        t.ok(r.get("ok") is True, "a raw admin user enrols (for the testing clock)", repr(r))
    return clients, admin


def advance_clock(t, srv, admin, hours):
    with RawWS(srv.port) as ws:
        hello = ws.recv_event("hello")
        r = ws.request(admin.login_request(srv.server_name, hello["challenge"]))
        t.ok(r.get("ok") is True, "the admin logs in", repr(r))
        r = ws.request(op="clock_advance", ms=int(hours * 3600 * 1000))
        t.ok(r.get("ok") is True, f"testing aid: the server clock moves {hours} h forward",
             repr(r))


def ok_run(t, client, name, *args, **kw):
    rc, out, err = client.run(*args, **kw)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out, err


def step_of(case, code, occurrence=1):
    for s in case.get("steps", []):
        if s.get("step") == code and s.get("occurrence") == occurrence:
            return s
    return {}


def show_json(client, ref):
    rc, obj, err = client.json("case", "show", ref)
    return obj or {}, f"rc={rc}\n{err}"


# ---- the scenario -------------------------------------------------------------------

def pathways(t, c):
    out, _ = ok_run(t, c["martin"], "liaison pathways", "pathways")
    t.ok("heart_failure" in out and "hospital_discharge" in out and "anxiety_depression" in out,
         "pathways lists the three templates", out[:2000])
    t.ok("J7–J56 every 7 days" in out and "with nyha_3_4: J180 instead" in out
         and "with nyha_3_4: also J70–J154 every 14 days" in out,
         "pathways shows the schedules in words (weekly visits, the NYHA III–IV variants)",
         out[:3000])
    t.ok("with early_cardiology: also J15" in out and "unless high_suicide_risk|severe_episode" in out
         and "J180 after remission (no deadline until it is recorded)" in out,
         "pathways shows version 2's optional, removed and event-dated steps", out[:6000])


def heart_failure_v2(t, c, ref):
    """The case opened with nyha_3_4 follows version 2: PRADO's 15 nurse sessions."""
    case, diag = show_json(c["roux"], ref)
    nurse = sorted((s.get("occurrence"), s.get("due_at")) for s in case.get("steps", [])
                   if s.get("step") == "nurse_followup")
    j0 = (case.get("case") or {}).get("j0") or 0
    # weekly J7…J56 then every 14 days J70…J154: by hand, days after J0
    want = [7, 14, 21, 28, 35, 42, 49, 56, 70, 84, 98, 112, 126, 140, 154]
    days = [round((due - j0) / 86400000) - 1 if due else None for _, due in nurse]
    t.ok((case.get("case") or {}).get("template_version") == 2 and len(nurse) == 15
         and [o for o, _ in nurse] == list(range(1, 16)),
         "heart failure NYHA III–IV: version 2, 15 nurse sessions", f"{nurse}\n{diag}")
    # due at the end of day n: (due − J0) / 24 h ≈ n + 1, within the hour a
    # clock change makes
    t.eq(days, want, "the 15 sessions on J7…J56 weekly, then J70…J154 every 14 days", diag)
    t.ok(not step_of(case, "nurse_first_visit") and not step_of(case, "early_cardiology_check"),
         "no J2 nurse visit, and no early cardiology check without its flag", diag)


def refused_before_anything(t, c, notice1):
    rc, out, err = c["roux"].run("discharge", "--pathway", "heart_failure", "--gp", "Nobody Here",
                                 "--pharmacist", "10123456781", "--nurse", "Julie Bernard",
                                 "--notice", notice1)
    t.ok(rc == 2 and "Nobody Here" in err, "an unknown --gp is a usage error", f"{rc}\n{err}")
    rc, out, err = c["roux"].run("discharge", "--pathway", "heart_failure", "--gp", "Paul Durand",
                                 "--pharmacist", "10123456781", "--nurse", "Julie Bernard",
                                 "--notice", notice1)
    t.ok(rc == 2 and "--gp" in err and "Pharmacien" in err,
         "a --gp who is not a GP is refused, naming their profession", f"{rc}\n{err}")
    rc, obj, err = c["roux"].json("channel", "list")
    t.ok(rc == 0 and obj is not None and obj.get("channels") == [],
         "nothing was created by the refused discharges", f"{obj}\n{err}")


def discharge_heart_failure(t, c, notice1, letter):
    rc, out, err = c["roux"].run(
        "discharge", "--pathway", "heart_failure", "--gp", "Claire Martin",
        "--pharmacist", "10123456781", "--nurse", "Julie Bernard", "--cardiologist",
        "Louis Petit", "--flag", "nyha_3_4", "--notice", notice1, "--letter", letter)
    t.eq(rc, 0, "liaison discharge (heart failure, NYHA III–IV, with the letter)",
         f"{out}\n{err}")
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    channel = re.search(r"Channel:\s+([0-9a-f]{32})", out)
    t.ok(ref and channel, "it prints the case reference and the channel", out)
    must = out.split("Must acknowledge", 1)[-1]
    t.ok(all(n in must for n in ("Dr Claire Martin", "Paul Durand", "Julie Bernard",
                                 "Dr Louis Petit")) and "Hélène Roux" not in must,
         "it says who must acknowledge (everyone but the poster)", out)
    t.ok("LEMAIRE" in out, "the discharge team sees the patient's name locally", out)
    return (ref.group(1) if ref else "P-XXXXXXXX"), (channel.group(1) if channel else "0" * 32)


def gp_reads(t, c, ref, channel, letter):
    out, _ = ok_run(t, c["martin"], "the GP lists her cases", "cases")
    row = next((line for line in out.splitlines() if ref in line), "")
    t.ok("LEMAIRE Odette Marie" in row and "heart_failure" in row and "0/4" in row,
         "cases: the patient's name (decrypted here), pathway and 0/4 acknowledgements", out)
    out, _ = ok_run(t, c["martin"], "the GP reads the thread", "read", channel)
    t.ok("DISCHARGE NOTICE" in out and "LEMAIRE Odette Marie" in out and "bisoprolol" in out
         and f"liaison ack {ref}" in out,
         "read shows the structured discharge notice and how to acknowledge it", out)
    rc, obj, err = c["martin"].json("read", channel)
    notice = next((m for m in (obj or {}).get("messages", []) if m.get("type") == "discharge_notice"),
                  {})
    content = notice.get("content") or {}
    t.ok(content.get("patient_ref") == ref and content.get("notice", {}).get("patient", {})
         .get("ins") == "248034523405672",
         "the notice message carries the case reference and the checked INS", f"{content}")
    attachment = (content.get("letter") or {}).get("attachment", "")
    dest = os.path.join(os.path.dirname(letter), "lettre-recue.pdf")
    ok_run(t, c["martin"], "the GP downloads the attached letter", "get", attachment, "-o", dest)
    with open(letter, "rb") as a, open(dest, "rb") as b:
        t.ok(a.read() == b.read(), "the letter arrives intact")


def start_watch(client):
    return subprocess.Popen([harness.LIAISON, "--profile", client.profile, "--json", "watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=client.env(), stdin=subprocess.DEVNULL)


def stop_watch(t, proc):
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=15 * harness.SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    harness.sanitizer_check(t, "liaison watch", err)
    t.eq(proc.returncode, 0, "watch stops cleanly on Ctrl-C", err)
    events = []
    for line in out.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return events, err


def acknowledgements(t, c, ref):
    out, _ = ok_run(t, c["petit"], "the cardiologist acknowledges", "ack", ref)
    t.ok("You acknowledged" in out and "DISCHARGE NOTICE" in out,
         "ack shows the decrypted notice and confirms", out)
    watch = start_watch(c["petit"])
    time.sleep(2 * harness.SLOW)
    out, _ = ok_run(t, c["martin"], "the GP acknowledges", "ack", ref)
    acked = out.split("Acknowledged by:", 1)[-1].split("Not yet:", 1)
    t.ok(len(acked) == 2 and "Dr Claire Martin" in acked[0] and "Dr Louis Petit" in acked[0]
         and "Paul Durand" in acked[1] and "Julie Bernard" in acked[1],
         "ack prints who has acknowledged and who has not yet", out)
    ok_run(t, c["durand"], "the pharmacist acknowledges", "ack", ref)
    rc, obj, err = c["bernard"].json("cases")
    case_id = next((x["case"] for x in (obj or {}).get("cases", []) if x.get("patient_ref") == ref),
                   ref)
    out, _ = ok_run(t, c["bernard"], "the nurse acknowledges (CASE given as its id)", "ack",
                    case_id)
    t.ok("Everyone has acknowledged" in out, "the last acknowledgement completes the list", out)
    out, _ = ok_run(t, c["martin"], "acknowledging twice is harmless", "ack", ref)
    t.ok("already acknowledged" in out, "and says so", out)
    rc, out, err = c["roux"].run("ack", ref)
    t.ok(rc == 1 and "posted this notice" in err and "bad_request" in err,
         "the poster cannot acknowledge their own notice", f"{rc}\n{err}")
    out, _ = ok_run(t, c["roux"], "the discharge team looks at the case", "case", "show", ref)
    block = out.split("Acknowledged by:", 1)[-1].split("Steps", 1)[0]
    stamps = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d  (Dr Claire Martin|Paul Durand|Julie Bernard|"
                        r"Dr Louis Petit)", block)
    t.ok(len(set(stamps)) == 4 and "Everyone has acknowledged" in block,
         "case show: who acknowledged the notice, and when", out)
    return watch


def steps(t, c, ref):
    rc, out, err = c["durand"].run("case", "step", "complete", ref, "gp_consultation")
    t.ok(rc == 1 and "not_assignee" in err and "assigned to Dr Claire Martin" in err,
         "the pharmacist cannot complete the GP consultation (not_assignee, names the assignee)",
         f"{rc}\n{err}")
    case, diag = show_json(c["roux"], ref)
    t.eq(step_of(case, "gp_consultation").get("status"), "pending",
         "the refused completion changed nothing", diag)
    out, _ = ok_run(t, c["martin"], "the GP completes her consultation with a note", "case", "step",
                    "complete", ref, "gp_consultation", "--note", NOTE)
    t.ok("done" in out and "Note posted" in out, "step complete confirms, with the note's message",
         out)
    case, diag = show_json(c["roux"], ref)
    gp = step_of(case, "gp_consultation")
    t.ok(gp.get("status") == "done" and "Claire Martin" in (gp.get("done_by_name") or "")
         and (gp.get("note") or {}).get("text") == NOTE,
         "case show --json: done by the GP, with the decrypted note", f"{gp}\n{diag}")
    out, _ = ok_run(t, c["roux"], "case show (text)", "case", "show", ref)
    line = next((i for i, x in enumerate(out.splitlines()) if "gp_consultation" in x), -1)
    near = "\n".join(out.splitlines()[line:line + 4]) if line >= 0 else ""
    t.ok(" done " in near and NOTE in near and re.search(r"J\+7 \d{4}-\d\d-\d\d", near),
         "case show: the step with J+7 and its date, done, and the note beside it", out)
    t.ok("\x1b[" not in out, "no colour codes when the output is not a terminal", repr(out[:200]))


def illegal_transitions(t, c, ref):
    def refused(client, code, name, *args):
        rc, out, err = client.run("case", "step", *args)
        t.ok(rc == 1 and f"({code})" in err, name, f"rc={rc}\n{out}\n{err}")
        return err

    err = refused(c["martin"], "step_done", "completing a done step: step_done",
                  "complete", ref, "gp_consultation")
    t.ok("reopen" in err, "and says a coordinator can reopen it", err)
    refused(c["martin"], "coordinator_only", "the GP reopening her own step: coordinator_only",
            "reopen", ref, "gp_consultation")
    refused(c["martin"], "step_pending", "reopening a pending step: step_pending",
            "reopen", ref, "biology_check")
    ok_run(t, c["bernard"], "the nurse skips her first follow-up visit with a reason", "case",
           "step", "skip", ref, "nurse_followup#1", "--reason", "rescheduled",
           "--note", "visite avancée à J5")
    refused(c["bernard"], "step_skipped", "completing a skipped step: step_skipped",
            "complete", ref, "nurse_followup#1")
    ok_run(t, c["lea"], "the coordinator (outside the thread) reopens it", "case", "step",
           "reopen", ref, "nurse_followup#1")
    ok_run(t, c["bernard"], "the nurse then completes it", "case", "step", "complete", ref,
           "nurse_followup#1")
    ok_run(t, c["martin"], "the GP hands the biology check to the cardiologist", "case", "step",
           "assign", ref, "biology_check", "Louis Petit")
    case, diag = show_json(c["roux"], ref)
    t.ok("Louis Petit" in (step_of(case, "biology_check").get("assignee_name") or "")
         and step_of(case, "nurse_followup").get("status") == "done"
         and step_of(case, "nurse_followup", 9).get("due_at"),
         "case show: reassigned, redone, and the NYHA III–IV visits are there (#9)", diag)
    rc, out, err = c["martin"].run("case", "step", "complete", ref, "no_such_step")
    t.ok(rc == 2 and "no step" in err and "gp_consultation" in err,
         "an unknown STEP lists the case's steps", f"{rc}\n{err}")


def outsider(t, c, ref):
    rc, out, err = c["dehors"].run("case", "show", ref)
    t.ok(rc == 1 and "no case" in err and "LEMAIRE" not in out + err,
         "a professional outside the thread cannot see the case", f"{rc}\n{out}\n{err}")
    rc, obj, _ = c["martin"].json("cases")
    case_id = next((x["case"] for x in (obj or {}).get("cases", []) if x.get("patient_ref") == ref),
                   "0" * 32)
    rc, out, err = c["dehors"].run("case", "show", case_id)
    t.ok(rc == 1 and "not_found" in err, "not even by its id (not_found)", f"{rc}\n{err}")
    rc, out, err = c["dehors"].run("ack", ref)
    t.ok(rc == 1, "nor acknowledge its notice", f"{rc}\n{err}")


def alert_and_watch(t, c, ref, channel, watch):
    out, _ = ok_run(t, c["bernard"], "the nurse raises an alert", "alert", ref, ALERT)
    t.ok("2 GP/cardiologist member(s) notified" in out, "the GP and the cardiologist are alerted",
         out)
    time.sleep(3 * harness.SLOW)
    events, err = stop_watch(t, watch)
    kinds = {e.get("event") for e in events}
    alert = next((e for e in events if e.get("event") == "alert"), {})
    t.ok(ALERT in (alert.get("text") or "") and alert.get("patient_ref") == ref
         and "Julie Bernard" in alert.get("text", "")
         and f"next: liaison read {channel}" in alert.get("text", ""),
         "watch shows the alert: its sender, decrypted text and next command",
         f"{events}\n{err}")
    t.ok({"ack", "case"} <= kinds and any(e.get("event") == "message" and e.get("type") == "alert"
                                         for e in events),
         "watch shows acknowledgements, case changes and the alert message", f"{kinds}")
    t.ok(any(e.get("event") == "case" and "gp_consultation done" in (e.get("text") or "")
             for e in events), "watch says in words which step was done", f"{events}")
    out, _ = ok_run(t, c["martin"], "the GP reads the thread", "read", channel)
    t.ok("!!! ALERT" in out and ALERT in out and "[note on gp_consultation" in out,
         "read shows the alert prominently, and the step note", out)


def discharge_second(t, c, notice2):
    rc, out, err = c["roux"].run(
        "discharge", "--pathway", "hospital_discharge", "--gp", "Claire Martin",
        "--pharmacist", "Paul Durand", "--nurse", "10234567898", "--notice", notice2,
        "--date", str(TODAY))
    t.eq(rc, 0, "a second discharge (any cause; the date given with --date)", f"{out}\n{err}")
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    return ref.group(1) if ref else "P-YYYYYYYY"


def overdue_and_escalation(t, srv, admin, c, ref, ref2):
    # the J2 nurse visit of the discharge of any cause (heart failure v2 has none)
    case, diag = show_json(c["roux"], ref2)
    t.ok(step_of(case, "nurse_first_visit").get("overdue") is False,
         "control: the J2 nurse visit is not overdue yet", diag)
    advance_clock(t, srv, admin, 3 * 24 + 1)
    case, diag = show_json(c["roux"], ref2)
    t.ok(step_of(case, "nurse_first_visit").get("overdue") is True,
         "after three days the J2 nurse visit is overdue", diag)
    out, _ = ok_run(t, c["roux"], "case show after the clock moved", "case", "show", ref2)
    line = next((x for x in out.splitlines() if "nurse_first_visit" in x), "")
    t.ok("OVERDUE" in line and "J+2" in line, "case show marks it OVERDUE", out)
    out, _ = ok_run(t, c["bernard"], "the nurse lists her overdue cases", "cases", "--overdue")
    t.ok(ref2 in out and re.search(r"step overdue: nurse_first_visit of " + ref2, out),
         "cases --overdue: the case, after the notification that the visit is overdue", out)
    out, _ = ok_run(t, c["lea"], "the coordinator lists every case", "cases", "--all")
    t.ok(re.search(r"discharge notice escalated.*" + ref2, out),
         "the coordinator's notifications: the unacknowledged notice was escalated", out)
    row = next((x for x in out.splitlines() if x.startswith(ref2)), "")
    t.ok("ESCALATED" in row and "0/3" in row, "cases --all: the second case, ESCALATED, 0/3",
         out)
    t.ok("LEMAIRE" not in out and "BOUVIER" not in out,
         "the coordinator, outside the threads, never sees the patients' names", out)
    out, _ = ok_run(t, c["lea"], "the coordinator lists again", "cases", "--all")
    t.ok("notification" not in out and ref2 in out, "notifications shown once (marked seen)", out)
    out, _ = ok_run(t, c["lea"], "the coordinator opens the escalated case", "case", "show", ref2)
    # the coordinator is not in the thread, yet the server names who has not acknowledged
    missing = out.split("Not yet:", 1)[-1].split("Steps", 1)[0] if "Not yet:" in out else ""
    t.ok("ESCALATED" in out and all(n in missing for n in ("Dr Claire Martin", "Paul Durand",
                                                          "Julie Bernard")),
         "case show: escalated, the 3 still to acknowledge named", out)
    rc, out, err = c["martin"].run("cases", "--all")
    t.ok(rc == 1 and "coordinator" in err, "cases --all is for coordinators", f"{rc}\n{err}")


def report(t, c, srv):
    # the server clock is 3 days and 1 hour past J0 (TODAY) of both discharges
    period = ["--from", str(TODAY - DAY), "--to", str(TODAY + DAY)]
    out, _ = ok_run(t, c["lea"], "the coordinator runs the report as CSV", "report", *period,
                    "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    by_id = {r["id"]: r for r in rows}
    t.ok(rows and list(rows[0].keys()) == ["id", "label", "numerator", "denominator", "value",
                                           "unit", "n", "not_yet_due", "target", "met"],
         "the CSV parses, with its header row", out)

    def ratio(i, num, den, not_yet_due=0, rows_by=None):
        r = (rows_by or by_id).get(i, {})
        t.ok(r.get("numerator") == str(num) and r.get("denominator") == str(den)
             and r.get("not_yet_due") == str(not_yet_due),
             f"indicator {i}: {num}/{den}, not yet due {not_yet_due}", f"{r}")

    ratio("1a", 1, 2)   # one notice acknowledged by all, of two
    ratio("1b", 1, 2)   # within 24 h
    ratio("1a:heart_failure", 1, 1)
    ratio("1a:hospital_discharge", 0, 1)
    # the GP consultation (J7) and cardiology (J60) are due after this period
    ratio("3a", 0, 0)
    ratio("4", 0, 0)
    t.ok(by_id.get("8a:heart_failure", {}).get("value") == "1"
         and by_id.get("8a:hospital_discharge", {}).get("value") == "1"
         and by_id.get("8a", {}).get("value") == "2",
         "indicator 8a: one case opened per discharge pathway, two in all", out)
    # up to J60: J7 and J60 are in the period but not passed: not yet due, not missed
    out, _ = ok_run(t, c["lea"], "the report up to J60", "report", "--from", str(TODAY - DAY),
                    "--to", str(TODAY + 60 * DAY), "--csv")
    longer = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    ratio("3a", 0, 0, 2, longer)
    ratio("3a:heart_failure", 0, 0, 1, longer)
    ratio("3a:hospital_discharge", 0, 0, 1, longer)
    ratio("4", 0, 0, 1, longer)
    # the semester of TODAY, and a wrong one
    half = f"{TODAY.year}-S{1 if TODAY.month <= 6 else 2}"
    out, _ = ok_run(t, c["lea"], "the report of the semester", "report", "--semester", half,
                    "--csv")
    sem = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    t.eq(sem.get("8a", {}).get("value"), "2", f"--semester {half}: the two cases opened")
    rc, out, err = c["lea"].run("report", "--semester", f"{TODAY.year}-S3")
    t.ok(rc == 2 and "YYYY-S2" in err, "a wrong semester is a usage error naming the form",
         f"{rc}\n{err}")
    # targets: 1a at least 90 % (50 %: not met), 1b at most 60 % (met)
    ok_run(t, c["lea"], "the coordinator sets a target", "report", "targets", "set", "1a", "90")
    ok_run(t, c["lea"], "and another, at most", "report", "targets", "set", "1b", "60",
           "--direction", "le")
    out, _ = ok_run(t, c["lea"], "the targets listed", "report", "targets")
    t.ok("1a" in out and ">= 90" in out and "<= 60" in out, "report targets lists both", out)
    rc, out, err = c["martin"].run("report", "targets", "set", "1a", "10")
    t.ok(rc == 1 and "coordinator_only" in err, "only a coordinator sets a target",
         f"{rc}\n{err}")
    out, _ = ok_run(t, c["lea"], "the report with its targets", "report", *period, "--csv")
    by_id = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    t.ok(by_id.get("1a", {}).get("target") == ">= 90.0" and by_id["1a"].get("met") == "not met"
         and by_id.get("1b", {}).get("target") == "<= 60.0" and by_id["1b"].get("met") == "met",
         "targets beside their figures: 1a not met, 1b met", out)
    # the administrator sets one for the CPTS (by FINESS); 3a is 0/0 here: no data
    srv.admin("targets", "set", "--cpts", "450000005", "--indicator", "3a", "--value", "80")
    rc, out, err = srv.admin_run("targets", "set", "--cpts", "450000005", "--indicator", "3c",
                                 "--value", "80")
    t.ok(rc == 2 and "--indicator" in err, "liaisond targets: an unknown indicator is refused",
         f"{rc}\n{err}")
    listed = json.loads(srv.admin("targets", "--cpts", "450000005", "--json"))
    t.ok(sorted((x["indicator"], x["direction"], x["set_by_admin"]) for x in listed)
         == [("1a", "ge", False), ("1b", "le", False), ("3a", "ge", True)],
         "liaisond targets lists the CPTS's three, who set them", repr(listed))
    out, _ = ok_run(t, c["lea"], "the report after the administrator's target", "report",
                    *period, "--csv")
    by_id = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    t.ok(by_id.get("3a", {}).get("target") == ">= 80.0" and by_id["3a"].get("met") == "no data",
         "the administrator's target is shown, no data to compare", f"{by_id.get('3a')}")
    out, _ = ok_run(t, c["lea"], "the report as a table", "report", *period)
    t.ok("Avis de sortie accusés par tous les destinataires" in out and "NUMERATOR" in out,
         "the table has the indicators' labels and the numerator/denominator columns", out)
    rc, obj, err = c["lea"].json("report", *period)
    ids = [x.get("id") for x in (obj or {}).get("indicators", [])]
    t.ok(rc == 0 and "1a" in ids and "8c" in ids, "report --json gives the server's indicators",
         f"{obj}\n{err}")
    rc, out, err = c["martin"].run("report", *period)
    t.ok(rc == 1 and "coordinator_only" in err, "only a coordinator runs the report",
         f"{rc}\n{err}")


def close_and_open(t, c, ref2):
    rc, out, err = c["roux"].run("case", "close", ref2, "--reason", "lost")
    t.ok(rc == 2 and "readmitted" in err, "an unknown close reason is a usage error",
         f"{rc}\n{err}")
    out, _ = ok_run(t, c["roux"], "the discharge team closes the second case", "case", "close",
                    ref2, "--reason", "readmitted")
    rc, out, err = c["roux"].run("case", "close", ref2, "--reason", "completed")
    t.ok(rc == 1 and "(case_already_closed)" in err, "closing it again: case_already_closed",
         f"{rc}\n{err}")
    rc, out, err = c["martin"].run("case", "step", "complete", ref2, "gp_consultation")
    t.ok(rc == 1 and "(case_closed)" in err, "a step of a closed case: case_closed",
         f"{rc}\n{err}")
    rc, obj, err = c["martin"].json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    out, _ = ok_run(t, c["martin"], "the GP opens an anxio-depressive case on her own thread",
                    "case", "open", channel, "--pathway", "anxiety_depression", "--j0",
                    str(TODAY), "--flag", "high_suicide_risk")
    t.ok("Opened case P-" in out and "psychiatry_referral" in out and "J+0" in out,
         "case open prints the new case and its timeline", out)
    ref3 = re.search(r"Opened case (P-[0-9A-Z]{8})", out)
    ref3 = ref3.group(1) if ref3 else "P-ZZZZZZZZ"
    case, diag = show_json(c["martin"], ref3)
    j0 = (case.get("case") or {}).get("j0") or 0
    urgent = step_of(case, "urgent_assessment")
    t.ok(urgent.get("due_at") and urgent.get("due_at") < j0 + 86400000 + 3600000
         and step_of(case, "psychiatry_referral").get("due_at") == urgent.get("due_at")
         and not step_of(case, "psychologist_referral")
         and not step_of(case, "psychologist_first_session"),
         "high suicide risk: a same-day urgent assessment and psychiatric opinion, no Mon "
         "soutien psy referral", diag)
    t.ok(step_of(case, "continuation_review") and step_of(case, "continuation_review").get(
         "due_at") is None, "the continuation review has no deadline before the remission", diag)
    rc, out, err = c["martin"].run("case", "event", ref3, "remission")
    t.ok(rc == 2 and "--date" in err, "case event without --date is a usage error",
         f"{rc}\n{err}")
    rc, out, err = c["martin"].run("case", "event", ref3, "relapse", "--date", str(TODAY))
    t.ok(rc == 1 and "bad_request" in err and "dates steps from remission" in err,
         "an event the pathway dates nothing from is refused, naming the one it knows",
         f"{rc}\n{err}")
    out, _ = ok_run(t, c["martin"], "the GP records the remission", "case", "event", ref3,
                    "remission", "--date", str(TODAY))
    t.ok(re.search(r"Events:\s+remission " + str(TODAY), out),
         "the case shows the remission and its day", out)
    case, diag = show_json(c["martin"], ref3)
    due = step_of(case, "continuation_review").get("due_at") or 0
    # remission today (= J0 here): due at the end of J180, 181 days of 24 h
    # after J0 less 1 ms, within the hour a clock change makes
    t.ok(abs(due - (j0 + 181 * 86400000 - 1)) <= 3600000,
         "the continuation review is due 180 days after the remission", f"{due}\n{diag}")
    rc, out, err = c["martin"].run("case", "flag", ref3, "nyha_3_4")
    t.ok(rc == 1 and "bad_request" in err and "high_suicide_risk" in err,
         "a flag of another pathway is refused, naming the pathway's flags", f"{rc}\n{err}")
    out, _ = ok_run(t, c["martin"], "flags cleared", "case", "flag", ref3, "--clear")
    t.ok(re.search(r"Flags:\s+none", out), "the case shows no flag any more", out)


def colours(t, client, ref):
    def on_pty(extra_env):
        env = client.env()
        env.pop("NO_COLOR", None)
        env.update(extra_env)
        master, slave = pty.openpty()
        proc = subprocess.Popen([harness.LIAISON, "--profile", client.profile, "case", "show",
                                 ref], stdout=slave, stderr=subprocess.PIPE, env=env,
                                stdin=subprocess.DEVNULL)
        os.close(slave)
        data = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        proc.wait(timeout=60)
        harness.sanitizer_check(t, "liaison case show (on a terminal)", proc.stderr.read())
        os.close(master)
        return data.decode("utf-8", "replace")

    out = on_pty({})
    t.ok("\x1b[" in out and "OVERDUE" in out, "on a terminal, case show uses colours",
         repr(out[:300]))
    out = on_pty({"NO_COLOR": "1"})
    t.ok("\x1b[" not in out and "OVERDUE" in out, "never with NO_COLOR set", repr(out[:300]))


def no_patient_on_server(t, srv):
    paths = glob.glob(os.path.join(srv.data, "*")) + [srv.log_path]
    data = {}
    for p in paths:
        try:
            with open(p, "rb") as f:
                data[p] = f.read()
        except OSError:
            pass
    t.ok(any(p.endswith("liaison.db") for p in data)
         and any("Hélène Roux".encode() in d for d in data.values()),
         "control: the search finds what the server may know (a professional's name)",
         repr(list(data)))
    leaks = [(os.path.basename(p), s.decode()) for p, d in data.items() for s in SECRETS if s in d]
    t.ok(not leaks, "no patient name, INS, note or alert text in the server database, WAL or log",
         repr(leaks))


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t, config={"timer_interval": 1, "ack_timeout": "24h"}) as srv:
        c, admin = enrol_all(t, srv)
        notice1 = notice_file(srv.tmp, "notice-lemaire.json", PATIENT1, True)
        notice2 = notice_file(srv.tmp, "notice-bouvier.json", PATIENT2, False)
        letter = os.path.join(srv.tmp, "lettre-de-liaison.pdf")
        with open(letter, "wb") as f:
            f.write(b"%PDF-1.4\n" + os.urandom(150000) + b"\n%%EOF\n")
        pathways(t, c)
        refused_before_anything(t, c, notice1)
        ref, channel = discharge_heart_failure(t, c, notice1, letter)
        heart_failure_v2(t, c, ref)
        gp_reads(t, c, ref, channel, letter)
        watch = acknowledgements(t, c, ref)
        try:
            steps(t, c, ref)
            illegal_transitions(t, c, ref)
            outsider(t, c, ref)
            alert_and_watch(t, c, ref, channel, watch)
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.wait()
        ref2 = discharge_second(t, c, notice2)
        overdue_and_escalation(t, srv, admin, c, ref, ref2)
        report(t, c, srv)
        colours(t, c["roux"], ref)
        close_and_open(t, c, ref2)
        no_patient_on_server(t, srv)


if __name__ == "__main__":
    run(main, PLAN)
