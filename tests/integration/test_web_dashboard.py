#!/usr/bin/env python3
"""test_web_dashboard.py — the coordinator's « Tableau de bord » in the
browser (docs/WEB.md "Tableau de bord") against the real liaisond and CLI.

The fixture, over the real protocol: a CPTS, a hospital and a pharmacy; the
CLI's discharge team posts four discharge notices (`liaison discharge`):
A (hospital_discharge) with the browser's coordinator in the thread (she
is also a nurse: `--nurse`), B (heart_failure), D (hospital_discharge,
then closed) and, after the testing clock moved 3 days forward, C
(hospital_discharge) — B, C and D without her. The GP acknowledges A and
C; the CLI's coordinator clears B's late steps; the notices of A and B,
not acknowledged by everyone within 24 h, are
escalated; the GP raises an alert on A, the nurse on B and C.

In Chromium (web_dashboard.mjs), the coordinator's dashboard: « Dossiers
ouverts » equals both the counts computed here from `liaison cases --all
--json` and the numbers written by hand below; « Étapes en retard » equals
`liaison cases --late --json`; the notices, escalations and alerts equal
`liaison cases --unacked --json` and `--alerts --json`; the patient's name
shows for A only, never for B, C or D (their names exist only in the
encrypted threads); « Réattribuer » and « Reporter » from the dashboard,
then `liaison case show --json` shows the new assignee, the new due day and
the reschedule's reason; an acknowledgement by the CLI updates the open
page; axe-core finds nothing serious at 1366×768 and 768×1024, and nothing
scrolls sideways; last, a « Reporter » sent after the CLI's coordinator
closed the case is refused by the server, said in French with its code.
A GP in another browser has no « Tableau de bord » link and is told the
view is not hers. (tests/web/test_dashboard.mjs runs on its own:
web_dashboard_unit.)

LSN_SCREENSHOTS=DIR: web-dashboard-1.png (1366 wide, the whole page) and
web-dashboard-2-tablet.png (768 wide, the whole page).
A missing Chromium, node or web/dist is a failure, not a skip. TAP on stdout."""

import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Client, RawIdentity, RawWS, Server, run  # noqa: E402

DRIVER = "web_dashboard.mjs"
ENROL_CHECKS = 2
OTHER_CHECKS = 4
MAIN_CHECKS = 21
# ready, 5 CLI enrols + the raw admin; the fixture 11; the CLI's lists
# 3; after the browser 4; the server's stop 3
PLAN = 1 + 6 + ENROL_CHECKS + OTHER_CHECKS + 11 + 3 + MAIN_CHECKS + 4 + 3

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")
PASSPHRASE = "une phrase de passe de test"
TODAY = harness.server_today()
CPTS = "450000005"
LEA = "Léa Coordination"
PATIENTS = {
    "A": {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
          "sex": "F", "ins": "2 48 03 45 234 056 72"},
    "B": {"family_name": "FONTAINE", "given_names": "Gérard", "birth_date": "1939-07-02",
          "sex": "M", "ins": "1 39 07 45 234 011 90"},
    "C": {"family_name": "MOREAU", "given_names": "Jeanne", "birth_date": "1951-01-20",
          "sex": "F", "ins": "2 51 01 45 234 022 24"},
    "D": {"family_name": "ROBIN", "given_names": "Marcel", "birth_date": "1944-10-05",
          "sex": "M", "ins": "1 44 10 45 234 033 65"},
}
PATHWAY = {"A": "hospital_discharge", "B": "heart_failure", "C": "hospital_discharge",
           "D": "hospital_discharge"}
# « Dossiers ouverts », counted by hand from the fixture (docs/PATHWAYS.md):
# J0 is the day of the first three notices; 3 days later their J0 steps
# (discharge_letter, discharge_reconciliation, no letter attached) are late,
# and so are C's (J0 that same day, posted after the clock moved). D is
# closed. A: 2 of 3 missing (Léa, the pharmacist), escalated; B: 3 of 3
# missing, escalated; C: 2 of 3 missing, posted less than 24 h ago.
# the late steps, by hand: the J0 steps not done (no letter attached) and,
# on hospital_discharge, the J2 ones; C's J0 is the same day as the others';
# B's two (J0) are done or skipped by the CLI's coordinator
HAND_LATE = sorted([(k, code) for k in ("A", "C") for code in (
    "discharge_letter", "discharge_reconciliation", "dispensing_reconciliation",
    "nurse_first_visit", "coordinator_call")]
    )
HAND = {
    "hospital_discharge": {"open": 2, "overdue": 2, "unacked": 2, "escalated": 1},
    "heart_failure": {"open": 1, "overdue": 0, "unacked": 1, "escalated": 1},
    "total": {"open": 3, "overdue": 2, "unacked": 3, "escalated": 2},
}


def step_of(case, code):
    return next((s for s in case.get("steps", []) if s.get("step") == code
                 and s.get("occurrence") == 1), {})


def due_day(due):
    """The day a due_at names: the nearest UTC midnight of due_at + 1 ms, minus a day."""
    days = (due + 1 + 43200000) // 86400000 - 1
    return str(datetime.date(1970, 1, 1) + datetime.timedelta(days=days))


def summary_of(cases):
    """« Dossiers ouverts » from `cases --all --json`, computed here."""
    out = {"total": {"open": 0, "overdue": 0, "unacked": 0, "escalated": 0}}
    for c in cases:
        if c.get("status") != "open":
            continue
        row = out.setdefault(c["pathway"], {"open": 0, "overdue": 0, "unacked": 0, "escalated": 0})
        kinds = ["open"]
        if (c.get("overdue") or 0) > 0:
            kinds.append("overdue")
        if (c.get("ack_missing") or 0) > 0:
            kinds.append("unacked")
        if c.get("escalated"):
            kinds.append("escalated")
        for k in kinds:
            row[k] += 1
            out["total"][k] += 1
    return out


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
                  "hospital")
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", CPTS, "--kind", "cpts")
        srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346",
                  "--kind", "pharmacy")
        roux, gp, durand, bernard, marc = (Client(srv, n) for n in
                                           ("roux", "gp", "durand", "bernard", "marc"))
        for client, rpps, name, profession, org, roles in (
                (roux, "10567890123", "Dr Hélène Roux", "hospital_doctor", "370000481",
                 "member,discharge"),
                (gp, "10101010105", "Dr Anne Généraliste", "gp", CPTS, "member"),
                (durand, "10123456781", "Paul Durand", "pharmacist", "750012346", "member"),
                (bernard, "10234567898", "Julie Bernard", "nurse", CPTS, "member"),
                (marc, None, "Marc Coordination", "coordinator", CPTS, "member,coordinator")):
            rc, out, err = client.enrol(srv.invite(rpps, name, profession, org, roles=roles))
            t.eq(rc, 0, f"{name} enrols with the CLI", f"{out}\n{err}")
        admin = RawIdentity(srv.tmp)
        acode = srv.invite(None, "Admin Test", "secretary", CPTS, roles="member,admin")
        with RawWS(srv.port) as ws:
            ws.recv_event("hello")
            r = ws.request(admin.enrol_request(acode))
            t.ok(r.get("ok") is True, "a raw admin user enrols (for the testing clock)", repr(r))
        lea_code = srv.invite("10345678907", LEA, "nurse", CPTS, roles="member,coordinator")
        other_code = srv.invite("10202020201", "Dr Marc Simple", "gp", CPTS)

        # the coordinator enrols in Chromium; a GP in another Chromium
        profile = os.path.join(srv.tmp, "chromium-coordinator")
        cfg = webdrive.base_config(srv, browser, profile, code=lea_code, passphrase=PASSPHRASE,
                                   phase="enrol")
        values = webdrive.phase(t, node, DRIVER, dict(cfg, screenshots=None), ENROL_CHECKS)
        lea = values.get("user") or ""
        other = webdrive.base_config(srv, browser, os.path.join(srv.tmp, "chromium-gp"),
                                     code=other_code, passphrase=PASSPHRASE, phase="other",
                                     screenshots=None)
        webdrive.phase(t, node, DRIVER, other, OTHER_CHECKS)

        def discharge(key, nurse):
            with open(SAMPLE, encoding="utf-8") as f:
                notice = json.load(f)
            notice["patient"] = PATIENTS[key]
            notice.pop("referring_doctor", None)
            notice["admission_date"] = str(TODAY - datetime.timedelta(days=5))
            notice["discharge_date"] = str(TODAY)
            path = os.path.join(srv.tmp, f"notice-{key}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(notice, f, ensure_ascii=False)
            rc, out, err = roux.run("discharge", "--pathway", PATHWAY[key], "--gp",
                                    "Anne Généraliste", "--pharmacist", "Paul Durand",
                                    "--nurse", nurse, "--notice", path)
            ref = re.search(r"case (P-[0-9A-Z]{8})", out)
            t.ok(rc == 0 and ref, f"liaison discharge: case {key} ({PATHWAY[key]}), nurse {nurse}",
                 f"{out}\n{err}")
            rc, case, err = roux.json("case", "show", ref.group(1) if ref else "?")
            return {"ref": ref.group(1) if ref else "?",
                    "hex": ((case or {}).get("case") or {}).get("case", "")}

        cases = {"A": discharge("A", LEA), "B": discharge("B", "Julie Bernard"),
                 "D": discharge("D", "Julie Bernard")}
        rc, out, err = roux.run("case", "close", cases["D"]["ref"], "--reason", "completed")
        t.eq(rc, 0, "case D is closed", f"{out}\n{err}")
        rc, out, err = gp.run("ack", cases["A"]["ref"])
        t.eq(rc, 0, "the GP acknowledges A's notice", f"{out}\n{err}")
        rc, out, err = gp.run("alert", cases["A"]["ref"], "Dyspnée nouvelle, rappeler la famille")
        t.eq(rc, 0, "the GP raises an alert on A", f"{out}\n{err}")

        with RawWS(srv.port) as ws:
            hello = ws.recv_event("hello")
            r = ws.request(admin.login_request(srv.server_name, hello["challenge"]))
            r = ws.request(op="clock_advance", ms=3 * 86400 * 1000) if r.get("ok") else r
            t.ok(r.get("ok") is True, "testing aid: the server clock moves 3 days forward", repr(r))

        cases["C"] = discharge("C", "Julie Bernard")
        rc, out, err = gp.run("ack", cases["C"]["ref"])
        t.eq(rc, 0, "the GP acknowledges C's notice", f"{out}\n{err}")
        rc1, out1, err1 = bernard.run("alert", cases["B"]["ref"], "Prise de poids de 3 kg")
        rc2, out2, err2 = bernard.run("alert", cases["C"]["ref"], "Chute à domicile")
        t.ok(rc1 == 0 and rc2 == 0, "the nurse raises an alert on B and one on C",
             f"{out1}{err1}{out2}{err2}")
        rc1, out1, err1 = marc.run("case", "step", "complete", cases["B"]["ref"],
                                   "discharge_letter")
        rc2, out2, err2 = marc.run("case", "step", "skip", cases["B"]["ref"],
                                   "discharge_reconciliation", "--reason", "done_elsewhere")
        t.ok(rc1 == 0 and rc2 == 0, "the CLI's coordinator completes B's letter step and skips "
             "its reconciliation: B has no late step", f"{out1}{err1}{out2}{err2}")

        # what the CLI's coordinator (same CPTS) sees
        rc, listing, err = marc.json("cases", "--all")
        all_cases = (listing or {}).get("cases") or []
        computed = summary_of(all_cases)
        t.ok(rc == 0 and computed == HAND,
             "cases --all --json counted here equals the hand-computed « Dossiers ouverts »",
             f"{computed}\n!= {HAND}\n{err}")
        rc, late, err = marc.json("cases", "--late")
        late = (late or {}).get("late_steps") or []
        key_of = {c["hex"]: k for k, c in cases.items()}
        got = sorted((key_of.get(s.get("case"), "?"), s.get("code")) for s in late)
        t.ok(rc == 0 and got == HAND_LATE,
             f"cases --late --json: the {len(HAND_LATE)} late steps counted by hand",
             f"{got}\n{err}")
        rc, unacked, err = marc.json("cases", "--unacked")
        unacked = (unacked or {}).get("unacked_notices")
        rc2, alerts, err2 = marc.json("cases", "--alerts")
        alerts = (alerts or {}).get("recent_alerts")
        t.ok(rc == 0 and rc2 == 0 and isinstance(unacked, list) and isinstance(alerts, list),
             f"cases --unacked --json and --alerts --json: {len(unacked or [])} notices, "
             f"{len(alerts or [])} alerts", f"{err}\n{err2}")

        def cli(client):
            env = client.env()
            return {"argv": [harness.LIAISON, "--profile", client.profile],
                    "env": {k: env[k] for k in ("LIAISON_HOME", "LIAISON_PASSPHRASE",
                                                "LIAISON_CA")}}

        new_due = str(TODAY + datetime.timedelta(days=7))
        main_cfg = dict(cfg, phase="main", user=lea, cases=cases, hand=HAND, computed=computed,
                        late=late, unacked=unacked or [], alerts=alerts or [],
                        named=f"{PATIENTS['A']['family_name']} {PATIENTS['A']['given_names']}",
                        hidden=[PATIENTS[k]["family_name"] for k in ("B", "C", "D")]
                        + [PATIENTS[k]["given_names"] for k in ("B", "C", "D")],
                        newDue=new_due, assignTo="Paul Durand",
                        cli={"durand": cli(durand), "marc": cli(marc)})
        values = webdrive.phase(t, node, DRIVER, main_cfg, MAIN_CHECKS, timeout=300)

        # what the CLI sees after the dashboard's actions
        rc, case, err = roux.json("case", "show", cases["C"]["ref"])
        s = step_of(case or {}, "discharge_reconciliation")
        durand_id = values.get("durand") or "?"
        t.ok(rc == 0 and s.get("assignee") == durand_id and s.get("assignee") is not None,
             "case show --json: C's discharge_reconciliation now held by Paul Durand "
             "(« Réattribuer »)", f"{s} / {durand_id}\n{err}")
        rc, case, err = roux.json("case", "show", cases["C"]["ref"])
        s = step_of(case or {}, "coordinator_call")
        t.ok(rc == 0 and s.get("status") == "pending" and due_day(s.get("due_at") or 0) == new_due,
             f"case show --json: C's coordinator_call due on {new_due} (« Reporter »)",
             f"{s}\n{err}")
        hist = s.get("history") or []
        t.ok(len(hist) == 1 and hist[0].get("action") == "rescheduled"
             and hist[0].get("reason") == "professional_unavailable" and hist[0].get("by") == lea,
             "case show --json: its history holds the reschedule, professional_unavailable, "
             "by the browser's coordinator", f"{hist}")
        rc, out, err = roux.run("case", "show", cases["C"]["ref"])
        line = next((x for x in out.splitlines() if "professional_unavailable" in x), "")
        t.ok(rc == 0 and "Léa Coordination" in line,
             "case show (text): the reschedule with its reason and who did it",
             harness.clip(out + err))
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
