#!/usr/bin/env python3
"""test_case_actions_cli.py — what people do completes the case, through
the real liaison CLI against a real liaisond: `liaison discharge … --letter`
completes discharge_notice and discharge_letter (who, when, which action,
shown by `case show`); closing the discharge reconciliation completes
discharge_reconciliation; the acknowledgements stay n/n of the recipients
named with the notice (the referring doctor the notice names included)
after a hospital pharmacist and a second GP join the thread; a J0 older
than case_backdate_max is refused with its documented error unless a
coordinator opens the case. (One alert per message is played at the wire
level by tests/hostile/124-alert-twice-same-message.json: the CLI posts a
new message with every alert.) TAP on stdout."""

import datetime
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 55

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")

TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("morel", "10567890123", "Anne Morel", "hospital_pharmacist", "370000481", "member"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("dehors", "10456789014", "Dr Marc Dehors", "gp", "450000005", "member"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
    ("petit", "10345678907", "Dr Louis Petit", "cardiologist", "450000005", "member"),
    ("lea", None, "Léa Coordination", "coordinator", "450000005", "member,coordinator"),
]

PATIENT = {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
           "sex": "F", "ins": "2 48 03 45 234 056 72"}


def ok_run(t, client, name, *args, **kw):
    rc, out, err = client.run(*args, **kw)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out, err


def ok_json(t, client, name, *args):
    rc, obj, err = client.json(*args)
    t.eq(rc, 0, name, f"{obj}\n{err}")
    return obj or {}


def enrol_all(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346", "--kind",
              "pharmacy")
    clients = {}
    for profile, rpps, name, profession, org, roles in PEOPLE:
        c = Client(srv, profile)
        rc, out, err = c.enrol(srv.invite(rpps, name, profession, org, roles=roles))
        if rc != 0:
            t.diag(f"{name} could not enrol: {out}\n{err}")
        clients[profile] = c
    return clients


def user_id(t, client):
    rc, obj, err = client.json("whoami")
    return ((obj or {}).get("user") or {}).get("id", "?")


def notice_file(tmp):
    with open(SAMPLE, encoding="utf-8") as f:
        notice = json.load(f)
    notice["patient"] = PATIENT
    notice["admission_date"] = str(TODAY - 5 * DAY)
    notice["discharge_date"] = str(TODAY)
    # the cardiologist who sent the patient in: enrolled, not named on the command line
    notice["referring_doctor"] = {"name": "Dr Louis Petit", "rpps": "10345678907"}
    path = os.path.join(tmp, "notice.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    return path


def step_of(case, code):
    return next((s for s in case.get("steps", []) if s.get("step") == code
                 and s.get("occurrence") == 1), {})


def step_line(out, code):
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"\s" + code + r"\s", line):
            return line + "\n" + (lines[i + 1] if i + 1 < len(lines) else "")
    return ""


def ack_block(out):
    return out.split("Acknowledgements:", 1)[-1].split("Steps", 1)[0]


# ---- the scenario -------------------------------------------------------------------

def discharge(t, c, notice, letter, ids):
    before = int(time.time() * 1000)
    rc, out, err = c["roux"].run(
        "discharge", "--pathway", "hospital_discharge", "--gp", "Claire Martin",
        "--pharmacist", "Paul Durand", "--nurse", "Julie Bernard", "--notice", notice,
        "--letter", letter)
    after = int(time.time() * 1000)
    t.eq(rc, 0, "liaison discharge --letter (hospital discharge)", f"{out}\n{err}")
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    channel = re.search(r"Channel:\s+([0-9a-f]{32})", out)
    ref = ref.group(1) if ref else "P-XXXXXXXX"
    must = out.split("Must acknowledge", 1)[-1]
    t.ok(all(n in must for n in ("Dr Claire Martin", "Paul Durand", "Julie Bernard"))
         and re.search(r"Dr Louis Petit.*\(referring doctor named in the notice\)", must),
         "the recipients: the three named, and the referring doctor of the notice", out)
    t.ok("Steps done: discharge_notice, discharge_letter" in out,
         "it says which steps the notice completed", out)

    case = ok_json(t, c["martin"], "case show --json", "case", "show", ref)
    for code, via in (("discharge_notice", "notice_posted"), ("discharge_letter", "letter_attached")):
        s = step_of(case, code)
        t.ok(s.get("status") == "done" and s.get("done_by") == ids["roux"]
             and s.get("done_via") == via and before <= (s.get("done_at") or 0) <= after,
             f"{code}: done by the discharge team, during the discharge, via {via}", f"{s}")
    t.eq(step_of(case, "discharge_reconciliation").get("status"), "pending",
         "discharge_reconciliation is still pending (no reconciliation yet)")
    members = {m.get("name") for m in case.get("members", [])}
    t.ok("Dr Louis Petit" in members, "the referring doctor was added to the case thread",
         f"{members}")
    notice_obj = case.get("notice") or {}
    t.ok(sorted(notice_obj.get("recipients") or []) ==
         sorted(ids[p] for p in ("martin", "durand", "bernard", "petit")),
         "the server keeps exactly those four as recipients", f"{notice_obj}")

    out, _ = ok_run(t, c["roux"], "case show (text)", "case", "show", ref)
    t.ok(re.search(r"done \S+ \S+ by Dr Hélène Roux.*, by posting the discharge notice",
                   step_line(out, "discharge_notice")),
         "case show: discharge_notice done, when, by whom, by posting the notice", out)
    t.ok(re.search(r"done \S+ \S+ by Dr Hélène Roux.*, by attaching the lettre de liaison to the notice",
                   step_line(out, "discharge_letter")),
         "case show: discharge_letter done by attaching the letter", out)
    t.ok("OVERDUE" not in step_line(out, "discharge_notice")
         and "OVERDUE" not in step_line(out, "discharge_letter"),
         "neither can go overdue any more", out)
    t.ok("Acknowledgements: 0/4 of the recipients" in out, "case show: 0/4 acknowledgements", out)
    return ref, (channel.group(1) if channel else "0" * 32)


def acks_stay_fixed(t, c, ref, channel):
    ok_run(t, c["martin"], "the GP acknowledges", "ack", ref)
    ok_run(t, c["durand"], "the pharmacist acknowledges", "ack", ref)
    out, _ = ok_run(t, c["roux"], "case show", "case", "show", ref)
    t.ok("Acknowledgements: 2/4" in out, "2/4 acknowledged", ack_block(out))

    ok_run(t, c["roux"], "the hospital pharmacist joins the thread", "channel", "add", channel,
           "Anne Morel")
    ok_run(t, c["roux"], "a second GP joins the thread", "channel", "add", channel,
           "Marc Dehors")
    out, _ = ok_run(t, c["roux"], "case show after two joined", "case", "show", ref)
    block = ack_block(out)
    missing = block.split("Not yet:", 1)[-1]
    t.ok(block.startswith(" 2/4 of the recipients") and "Not yet: 2 of the 4 recipients" in block,
         "still 2/4: the newcomers are not recipients", block)
    t.ok("Julie Bernard" in missing and "Dr Louis Petit" in missing and "Anne Morel" not in missing
         and "Marc Dehors" not in missing,
         "the missing are named: the nurse and the referring doctor, not the newcomers", block)
    out, _ = ok_run(t, c["roux"], "cases", "cases")
    row = next((x for x in out.splitlines() if x.startswith(ref)), "")  # the table row, not a notification
    t.ok("2/4" in row, "cases: 2/4 as well", out)

    out, _ = ok_run(t, c["dehors"], "the second GP acknowledges anyway", "ack", ref)
    t.ok("Acknowledgements: 2/4" in out and
         re.search(r"Dr Marc Dehors.*\(not a recipient\)", out),
         "recorded, shown as not a recipient; still 2/4", out)
    ok_run(t, c["bernard"], "the nurse acknowledges", "ack", ref)
    out, _ = ok_run(t, c["petit"], "the referring doctor acknowledges", "ack", ref)
    t.ok("Acknowledgements: 4/4" in out and "Everyone has acknowledged the notice." in out,
         "4/4: everyone who was sent the notice has acknowledged", out)
    rc, obj, err = c["roux"].json("cases")
    row = next((x for x in (obj or {}).get("cases", []) if x.get("patient_ref") == ref), {})
    t.ok(row.get("acks") == 4 and row.get("acks_missing") == 0 and row.get("ack_status") == "all 4",
         "cases --json: 4 acknowledged of 4, none missing", f"{row}\n{err}")


def reconciliation(t, c, ref, ids):
    m = c["morel"]
    obj = ok_json(t, m, "the hospital pharmacist starts the discharge reconciliation",
                  "conciliation", "start", ref, "--transition", "discharge", "--prescriber",
                  "Claire Martin")
    ep = obj.get("episode") or "0" * 32
    for source in ("patient_interview", "dossier_pharmaceutique", "gp_prescription"):
        ok_run(t, m, f"source {source}", "conciliation", "source", "add", ref, ep[:8], source)
    line = ["inn=furosémide", "atc=C03CA01", "strength=40 mg", "form=comprimé", "route=orale",
            "dose=1", "unit=comprimé", "frequency=matin"]
    ok_run(t, m, "one BMO line", "conciliation", "line", "add", ref, ep[:8], "--list", "bmo", *line)
    ok_run(t, m, "the same line prescribed", "conciliation", "line", "add", ref, ep[:8], "--list",
           "order", *line)
    ok_run(t, m, "compare", "conciliation", "compare", ref, ep[:8])
    case = ok_json(t, c["roux"], "case show before closing", "case", "show", ref)
    t.eq(step_of(case, "discharge_reconciliation").get("status"), "pending",
         "compared is not closed: discharge_reconciliation still pending")
    before = int(time.time() * 1000)
    ok_run(t, m, "the hospital pharmacist closes the reconciliation", "conciliation", "close",
           ref, ep[:8])
    after = int(time.time() * 1000)
    case = ok_json(t, c["roux"], "case show after closing", "case", "show", ref)
    s = step_of(case, "discharge_reconciliation")
    t.ok(s.get("status") == "done" and s.get("done_by") == ids["morel"]
         and s.get("done_via") == "reconciliation_closed"
         and before <= (s.get("done_at") or 0) <= after,
         "discharge_reconciliation: done by the hospital pharmacist when she closed it", f"{s}")
    out, _ = ok_run(t, c["roux"], "case show (text)", "case", "show", ref)
    t.ok(re.search(r"done \S+ \S+ by Anne Morel.*, by closing the discharge reconciliation",
                   step_line(out, "discharge_reconciliation")),
         "case show says who closed it and that the closing did it", out)


def backdated(t, c):
    old = str(TODAY - 45 * DAY)
    obj = ok_json(t, c["martin"], "the GP creates a case channel", "channel", "create", "--kind",
                  "case")
    ch = obj.get("channel", "0" * 32)
    rc, out, err = c["martin"].run("case", "open", ch, "--pathway", "heart_failure", "--j0", old)
    t.ok(rc == 1 and "case_backdated" in err and "more than 30 days ago" in err
         and "ask the CPTS coordinator" in err,
         "a J0 45 days ago is refused (case_backdated), saying to ask the coordinator",
         f"{rc}\n{err}")
    ok_run(t, c["martin"], "a J0 30 days ago is accepted", "case", "open", ch, "--pathway",
           "heart_failure", "--j0", str(TODAY - 30 * DAY))
    obj = ok_json(t, c["lea"], "the coordinator creates a case channel", "channel", "create",
                  "--kind", "case")
    ch = obj.get("channel", "0" * 32)
    ok_run(t, c["lea"], "the coordinator opens the case with the old J0", "case", "open", ch,
           "--pathway", "heart_failure", "--j0", old)


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t, config={"timer_interval": 1}) as srv:
        c = enrol_all(t, srv)
        ids = {p: user_id(t, c[p]) for p in c}
        t.ok(all(re.fullmatch(r"[0-9a-f]{32}", v) for v in ids.values()),
             "everyone enrolled (whoami gives each user id)", f"{ids}")
        notice = notice_file(srv.tmp)
        letter = os.path.join(srv.tmp, "lettre-de-liaison.pdf")
        with open(letter, "wb") as f:
            f.write(b"%PDF-1.4\n" + os.urandom(20000) + b"\n%%EOF\n")
        ref, channel = discharge(t, c, notice, letter, ids)
        acks_stay_fixed(t, c, ref, channel)
        reconciliation(t, c, ref, ids)
        backdated(t, c)


if __name__ == "__main__":
    run(main, PLAN)
