#!/usr/bin/env python3
"""test_web_cases.py — care pathways in the browser (docs/WEB.md "Cases"):
a real liaisond serves web/dist; Chromium (web_cases.mjs) enrols a GP; the
real CLI's discharge team opens a hospital discharge case with that GP and
posts the discharge notice (`liaison discharge --gp`). In the browser: "Mes
dossiers" lists the case, the case view shows the notice not acknowledged
and acknowledges it; a coordinator's CLI hands two steps to the browser's
user and the open view follows (a `case` event); the browser completes one,
skips one with a reason and reschedules one (a past date refused before
sending); the CLI's alert arrives live as a notification. Then the CLI's
`case show --json` must show each: the acknowledgement by the browser's
user, the step done by it, the skip's reason code, the new due day and the
reschedule's reason code. (The unit test of web/src/core/cases.js,
tests/web/test_cases.mjs, runs on its own: web_cases_unit.)

LSN_SCREENSHOTS=DIR: web-cases-1-list.png and web-cases-2-timeline.png.
LSN_WEB_TRACE=1 prints every WebSocket frame of the main phase with its
time and size.
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

DRIVER = "web_cases.mjs"
ENROL_CHECKS = 2
MAIN_CHECKS = 26
COORD_CHECKS = 7
PLAN = 1 + 5 + ENROL_CHECKS + 4 + MAIN_CHECKS + 6 + ENROL_CHECKS + 2 + COORD_CHECKS + 3

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")
GP = {"name": "Dr Anne Navigateur", "rpps": "10101010105"}
PASSPHRASE = "une phrase de passe de test"
TODAY = harness.server_today()
PATIENT = {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
           "sex": "F", "ins": "2 48 03 45 234 056 72"}
ALERT = "Dyspnée nouvelle ce matin, rappeler la famille"


def step_of(case, code):
    return next((s for s in case.get("steps", []) if s.get("step") == code
                 and s.get("occurrence") == 1), {})


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
                  "hospital")
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
                  "cpts")
        roux = Client(srv, "roux")
        lea = Client(srv, "lea")
        rc, out, err = roux.enrol(srv.invite("10567890123", "Dr Hélène Roux", "hospital_doctor",
                                             "370000481", roles="member,discharge"))
        t.eq(rc, 0, "the discharge doctor enrols with the CLI", f"{out}\n{err}")
        rc, out, err = lea.enrol(srv.invite(None, "Léa Coordination", "coordinator", "450000005",
                                            roles="member,coordinator"))
        t.eq(rc, 0, "the CPTS coordinator enrols with the CLI", f"{out}\n{err}")
        srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346",
                  "--kind", "pharmacy")
        for client, rpps, name, profession, org in (
                (Client(srv, "durand"), "10123456781", "Paul Durand", "pharmacist", "750012346"),
                (Client(srv, "bernard"), "10234567898", "Julie Bernard", "nurse", "450000005")):
            rc, out, err = client.enrol(srv.invite(rpps, name, profession, org))
            t.eq(rc, 0, f"{name} enrols with the CLI", f"{out}\n{err}")
        code = srv.invite(GP["rpps"], GP["name"], "gp", "450000005")
        ccode = srv.invite(None, "Marc Coordination", "coordinator", "450000005",
                           roles="member,coordinator")
        admin = RawIdentity(srv.tmp)
        acode = srv.invite(None, "Admin Test", "secretary", "450000005", roles="member,admin")
        with RawWS(srv.port) as ws:
            ws.recv_event("hello")
            r = ws.request(admin.enrol_request(acode))
            t.ok(r.get("ok") is True, "a raw admin user enrols (for the testing clock)", repr(r))

        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(srv, browser, profile, code=code, passphrase=PASSPHRASE,
                                   phase="enrol")
        values = webdrive.phase(t, node, DRIVER, dict(cfg, screenshots=None), ENROL_CHECKS)
        me = values.get("user") or ""
        t.ok(re.fullmatch(r"[0-9a-f]{32}", me or ""), "the browser's user id", repr(values))

        # the discharge team's CLI: case, the GP (the browser) as recipient, notice
        with open(SAMPLE, encoding="utf-8") as f:
            notice = json.load(f)
        notice["patient"] = PATIENT
        notice["admission_date"] = str(TODAY - datetime.timedelta(days=5))
        notice["discharge_date"] = str(TODAY)
        path = os.path.join(srv.tmp, "notice.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(notice, f, ensure_ascii=False)
        rc, out, err = roux.run("discharge", "--pathway", "hospital_discharge", "--gp",
                                "Anne Navigateur", "--pharmacist", "Paul Durand", "--nurse",
                                "Julie Bernard", "--notice", path)
        t.eq(rc, 0, "liaison discharge with the browser's user as the GP", f"{out}\n{err}")
        ref = re.search(r"case (P-[0-9A-Z]{8})", out)
        ref = ref.group(1) if ref else "P-XXXXXXXX"
        rc, case, err = roux.json("case", "show", ref)
        case = case or {}
        case_hex = (case.get("case") or {}).get("case", "")
        channel = (case.get("case") or {}).get("channel", "")
        t.ok(rc == 0 and me in ((case.get("notice") or {}).get("recipients") or [])
             and len((case.get("notice") or {}).get("recipients") or []) == 3,
             "the notice's recipients: the browser's user, the pharmacist and the nurse",
             f"{case.get('notice')}\n{err}")
        t.ok(step_of(case, "gp_consultation").get("assignee") == me,
             "gp_consultation is assigned to the browser's user", f"{step_of(case, 'gp_consultation')}")

        def cli(client):
            env = client.env()
            return {"argv": [harness.LIAISON, "--profile", client.profile],
                    "env": {k: env[k] for k in ("LIAISON_HOME", "LIAISON_PASSPHRASE", "LIAISON_CA")}}

        main_cfg = dict(cfg, phase="main", user=me, name=GP["name"], ref=ref, caseHex=case_hex,
                        channel=channel, pathwayLabel="Sortie d'hospitalisation",
                        patientFamily=PATIENT["family_name"], patientGiven=PATIENT["given_names"],
                        alertText=ALERT,
                        cli={"coordinator": cli(lea), "discharge": cli(roux)})
        values = webdrive.phase(t, node, DRIVER, main_cfg, MAIN_CHECKS)
        new_due = values.get("newDue") or "?"
        if os.environ.get("LSN_WEB_TRACE"):
            for line in values.get("trace") or []:
                t.diag(f"frame: {line}")

        # what the CLI sees
        rc, case, err = roux.json("case", "show", ref)
        case = case or {}
        acks = (case.get("notice") or {}).get("acks") or []
        t.ok(rc == 0 and any(a.get("user") == me and a.get("recipient") is True for a in acks)
             and (case.get("notice") or {}).get("acknowledged") == 1,
             "case show --json: the notice acknowledged by the browser's user (1/3)",
             f"{case.get('notice')}\n{err}")
        s = step_of(case, "gp_consultation")
        t.ok(s.get("status") == "done" and s.get("done_by") == me and s.get("done_via") is None,
             "case show --json: gp_consultation done by the browser's user", f"{s}")
        s = step_of(case, "nurse_first_visit")
        t.ok(s.get("status") == "skipped" and s.get("skip_reason") == "not_indicated"
             and s.get("done_by") == me, "case show --json: nurse_first_visit skipped, not_indicated",
             f"{s}")
        s = step_of(case, "dispensing_reconciliation")
        due = s.get("due_at") or 0
        # the day a due_at names: the nearest UTC midnight of due_at + 1 ms, minus a day
        day = datetime.date(1970, 1, 1) + datetime.timedelta(days=(due + 1 + 43200000) // 86400000 - 1)
        t.ok(s.get("status") == "pending" and str(day) == new_due,
             f"case show --json: dispensing_reconciliation due on the new day {new_due}", f"{s} → {day}")
        hist = s.get("history") or []
        t.ok(len(hist) == 1 and hist[0].get("action") == "rescheduled"
             and hist[0].get("reason") == "patient_request" and hist[0].get("by") == me,
             "case show --json: its history holds the reschedule, patient_request, by the browser's user",
             f"{hist}")
        rc, out, err = roux.run("case", "show", ref)
        t.ok(rc == 0 and "Acknowledgements: 1/3" in out and "Not yet: 2 of the 3" in out,
             "case show (text): 1/3 acknowledged, 2 not yet", harness.clip(out + err))

        # a coordinator of the CPTS in another browser (enrolled now: her
        # certificates carry today's time), three days later
        # (the testing clock): not in the thread, she sees the case with
        # "Tous les dossiers de la CPTS", its late steps, and may act on them
        coord = webdrive.base_config(srv, browser, os.path.join(srv.tmp, "chromium-coordinator"),
                                     code=ccode, passphrase=PASSPHRASE, phase="enrol",
                                     screenshots=None)
        webdrive.phase(t, node, DRIVER, coord, ENROL_CHECKS)
        with RawWS(srv.port) as ws:
            hello = ws.recv_event("hello")
            r = ws.request(admin.login_request(srv.server_name, hello["challenge"]))
            r = ws.request(op="clock_advance", ms=3 * 86400 * 1000) if r.get("ok") else r
            t.ok(r.get("ok") is True, "testing aid: the server clock moves 3 days forward", repr(r))
        rc, late, err = lea.json("cases", "--late")
        codes = sorted(x.get("code") for x in (late or {}).get("late_steps", []))
        t.ok(rc == 0 and "coordinator_call" in codes and "discharge_letter" in codes,
             "the CLI's coordinator sees the late steps", f"{codes}\n{err}")
        webdrive.phase(t, node, DRIVER, dict(coord, phase="coordinator", ref=ref, caseHex=case_hex,
                                             lateCodes=codes,
                                             tabletShot=os.environ.get("LSN_WEB_TABLET_SHOT")),
                       COORD_CHECKS)
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
