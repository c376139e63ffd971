#!/usr/bin/env python3
"""test_web_forms.py — the discharge team's form and the measurement form in
the browser (docs/WEB.md "Forms") against a real liaisond and the real CLI.

A hospital doctor with the discharge role enrols in the browser (Chromium
driven by web_forms.mjs). With the CLI, the GP opens two cases whose threads
hold the browser's user, the cardiologist and the nurse: a hospital_discharge
case and a heart_failure one. In the browser, the doctor fills the discharge
notice of the first; a malformed INS and an empty required field show, next
to each field, the very message `liaison discharge --check` prints in French
for the same notice (computed here with the CLI) and block the submit; once
corrected the notice is posted with the lettre de liaison attached (a file
chosen in the form, encrypted and uploaded first). The CLI's `case show
--json` shows the notice with its three recipients and the two steps it
completed (the notice's and the letter's); the CLI's `read` decrypts the
notice with the fields typed in the browser, `liaison discharge --check`
accepts it as it is, and `liaison get` gives back the letter's bytes. In the heart-failure case the
browser refuses a weight out of range with the CLI's message, records a
weight three days ago, then one 2.0 kg higher today, which crosses the
pathway's threshold (op pathways): the alert weight_gain is raised and
reaches the GP and the cardiologist; the CLI sees the alert in its
notifications and reads both measurements. The browser's thread view shows
the measurements, the nurse's clinical alert (sent with `liaison alert`) and
the notice in French. axe-core finds no serious violation on either form,
and neither scrolls sideways on a 768×1024 tablet. No console error.

LSN_SCREENSHOTS=DIR: web-discharge-1-form.png (one field in error) and
web-measure-1.png. TAP on stdout."""

import base64
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Client, Server, run  # noqa: E402

DRIVER = "web_forms.mjs"
# each phase's checks, with the driver's closing "no console error" check
ENROL_CHECKS = 2
FORM_CHECKS = 16
# ready, 3 CLI enrolments, 3 CLI verdicts, enrol, directory, 2 cases, the
# nurse's alert, forms,
# 11 checks of what the CLI sees, the server's 3 at stop
PLAN = 1 + 3 + 3 + ENROL_CHECKS + 1 + 2 + 1 + FORM_CHECKS + 11 + 3

TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)
WHO = {"name": "Dr Anne Navigateur", "rpps": "10101010105"}
PASSPHRASE = "une phrase de passe de test"
PEOPLE = [  # profile, RPPS, name, profession
    ("martin", "10000000009", "Dr Claire Martin", "gp"),
    ("petit", "10345678907", "Dr Louis Petit", "cardiologist"),
    ("bernard", "10234567898", "Julie Bernard", "nurse"),
]
# what the browser types (the notice's fields), and the INS it first gets wrong
GOOD_INS = "2 48 03 45 234 056 72"
BAD_INS = "2 48 03 45 234 056 73"
NOTICE = {
    "patient.family_name": "LEMAIRE", "patient.given_names": "Odette Marie",
    "patient.birth_date": "1948-03-12", "patient.sex": "F",
    "gp.name": "Dr Claire Martin", "gp.rpps": "10000000009",
    "hospital_doctor.name": "Dr Anne Navigateur", "hospital_doctor.department": "Cardiologie, unité 3B",
    "establishment.name": "CHR Orléans", "establishment.finess": "750012346",
    "admission_date": str(TODAY - 8 * DAY), "admission_mode": "emergency",
    "discharge_mode": "home_with_care", "discharge_destination": "Domicile avec passages infirmiers",
    "reason_for_admission": "Décompensation cardiaque (patiente fictive, test du navigateur).",
    "allergies": "Pénicillines : urticaire\nIode",
    "stay_summary.summary": "Déplétion par furosémide IV.\nPoids de sortie 68,5 kg.",
    "stay_summary.adverse_events": "Hypokaliémie à J3, corrigée",
    "follow_up.recommendations": "Régime peu salé.",
}
MONITORING = "Poids chaque matin : +2 kg en 3 jours, prévenir."
TREATMENT = {"drug": "bisoprolol", "atc": "C07AB07", "dose": "2,5 mg", "frequency": "1 fois par jour",
             "duration": "au long cours", "change": "new"}
W1, W3 = "80.35", "82.35"
LETTER = b"%PDF-1.4\n% lettre de liaison de test (fictive)\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"
CLINICAL = "Dyspnée au moindre effort depuis ce matin"


def french_catalogue(tmp):
    """The CLI's French messages, built from po/fr.po (the CLI under test may
    run outside its build tree)."""
    out = os.path.join(tmp, "locale", "fr", "LC_MESSAGES")
    os.makedirs(out, exist_ok=True)
    subprocess.run(["msgfmt", "-o", os.path.join(out, "liaison.mo"),
                    os.path.join(webdrive.ROOT, "po", "fr.po")], check=True)
    return {"LC_ALL": "fr_FR.UTF-8", "LANG": "fr_FR.UTF-8", "LANGUAGE": "",
            "LIAISON_LOCALEDIR": os.path.join(tmp, "locale")}


def notice_of(fields, ins, monitoring, treatment):
    """The notice the form makes of these fields (empty lists say none)."""
    n = {}
    for path, value in fields.items():
        o = n
        parts = path.split(".")
        for p in parts[:-1]:
            o = o.setdefault(p, {})
        if parts[-1] in ("allergies", "adverse_events"):
            value = [line for line in value.split("\n") if line]
        o[parts[-1]] = value
    n["patient"]["ins"] = ins
    for k in ("resistant_organisms", "blood_products", "implanted_devices"):
        n["stay_summary"].setdefault(k, [])
    n["follow_up"]["planned_acts"] = []
    if monitoring:
        n["follow_up"]["monitoring"] = monitoring
    n["discharge_treatments"] = [treatment] if treatment else []
    n["stopped_treatments"] = []
    n["results_awaited"] = []
    return n


def cli_problems(client, env, tmp, notice, date):
    """The lines `liaison discharge --check` prints for notice: {path: message}."""
    path = os.path.join(tmp, "notice.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    rc, out, err = client.run("discharge", "--check", "--notice", path, "--date", date, env=env)
    found = {}
    for line in err.splitlines():
        if line.startswith("liaison: notice.json: "):
            where, _, what = line[len("liaison: notice.json: "):].partition(": ")
            found[where] = what
    return rc, found, err


def open_case(t, owner, pathway, members):
    rc, obj, err = owner.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel")
    for m in members:
        rc2, out, err2 = owner.run("channel", "add", channel, m)
        err += err2
    rc, obj, err3 = owner.json("case", "open", channel, "--pathway", pathway, "--j0", str(TODAY))
    case = (obj or {}).get("case", {})
    t.ok(rc == 0 and case.get("case"), f"the GP opens a {pathway} case with the browser's user in its thread",
         f"{obj}\n{err}\n{err3}")
    return case


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CHR Orléans", "--finess", "750012346", "--kind", "hospital")
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
        c = {}
        for profile, rpps, name, profession in PEOPLE:
            c[profile] = Client(srv, profile)
            rc, out, err = c[profile].enrol(srv.invite(rpps, name, profession, "450000005"))
            t.eq(rc, 0, f"{name} enrols with the CLI", f"{out}\n{err}")
        code = srv.invite(WHO["rpps"], WHO["name"], "hospital_doctor", "750012346", roles="member,discharge")
        tmp = tempfile.mkdtemp(dir=srv.tmp)
        fr = french_catalogue(tmp)
        gp = c["martin"]

        # what the CLI says of the notice the browser will first submit
        date = str(TODAY)
        first = notice_of(NOTICE, BAD_INS, None, None)
        rc, probs, err = cli_problems(gp, fr, tmp, first, date)
        bad_ins_msg = probs.get("patient.ins", "")
        monitoring_msg = probs.get("follow_up.monitoring", "")
        t.ok(rc == 2 and len(probs) == 2 and "INS non valide" in bad_ins_msg and monitoring_msg.startswith("manquant"),
             "the CLI refuses the notice the browser first submits: the INS's key and the monitoring", err)
        rc, probs, err = cli_problems(gp, fr, tmp, notice_of(NOTICE, GOOD_INS, MONITORING, TREATMENT), date)
        t.ok(rc == 0 and not probs, "the CLI accepts the corrected notice", err)
        rc, out, err = gp.run("measure", "P-NONE", "weight", "400", env=fr)
        weight_msg = err.strip().removeprefix("liaison: ").removesuffix(" ; voir liaison measure --help")
        t.ok(rc == 2 and weight_msg.startswith("poids « 400 »"), "the CLI refuses a weight of 400 kg", err)

        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(srv, browser, profile, code=code, passphrase=PASSPHRASE, phase="enrol")
        values = webdrive.phase(t, node, DRIVER, cfg, ENROL_CHECKS)
        user = values.get("user") or ""
        rc, found_users, err = gp.json("directory", "search", "navigateur")
        t.ok(rc == 0 and any(u.get("id") == user for u in (found_users or {}).get("users", [])),
             "the CLI finds the browser's user", f"{user} {found_users} {err}")

        members = ["Dr Anne Navigateur", "Dr Louis Petit", "Julie Bernard"]
        notice_case = open_case(t, gp, "hospital_discharge", members)
        hf_case = open_case(t, gp, "heart_failure", members)

        # the nurse's free-text alert in the heart-failure case (shown in the browser's thread)
        rc, out, err = c["bernard"].run("alert", hf_case.get("patient_ref", "?"), CLINICAL)
        t.ok(rc == 0, "the nurse sends a clinical alert in the heart-failure case with the CLI", f"{out}\n{err}")

        cfg.update(phase="forms", notice_case=notice_case.get("case"), hf_case=hf_case.get("case"),
                   notice_channel=notice_case.get("channel"), hf_channel=hf_case.get("channel"),
                   clinical_text=CLINICAL, letter_b64=base64.b64encode(LETTER).decode(),
                   fields=NOTICE, bad_ins=BAD_INS, good_ins=GOOD_INS, bad_ins_msg=bad_ins_msg,
                   monitoring_msg=monitoring_msg, monitoring=MONITORING, treatment=TREATMENT,
                   weight_msg=weight_msg, w1=W1, w3=W3, w1_at=str(TODAY - 3 * DAY))
        values = webdrive.phase(t, node, DRIVER, cfg, FORM_CHECKS, timeout=400)

        # the CLI's view of the notice
        ref = notice_case.get("patient_ref", "?")
        rc, shown, err = gp.json("case", "show", ref)
        notice = (shown or {}).get("notice") or {}
        ids = {}
        for profile, _, name, _ in PEOPLE:
            rc2, me, _ = c[profile].json("whoami")
            ids[profile] = ((me or {}).get("user") or {}).get("id")
        t.ok(rc == 0 and sorted(notice.get("recipients") or []) == sorted(ids.values())
             and notice.get("posted_by") == user and notice.get("seq") == values.get("notice_seq"),
             "case show --json: the notice posted by the browser's user, its three recipients",
             f"{notice} {ids} {values}\n{err}")
        steps = {s.get("step"): s for s in (shown or {}).get("steps", [])}
        t.ok(steps.get("discharge_notice", {}).get("status") == "done"
             and steps.get("discharge_notice", {}).get("done_via") == "notice_posted"
             and steps.get("discharge_letter", {}).get("done_via") == "letter_attached",
             "the notice completed discharge_notice (notice_posted) and discharge_letter (letter_attached)",
             f"{steps}")
        channel = notice_case.get("channel")
        rc, thread, err = c["petit"].json("read", channel)
        msgs = (thread or {}).get("messages", [])
        content = next((m.get("content") for m in msgs if isinstance(m.get("content"), dict)
                        and m["content"].get("type") == "discharge_notice"), None) or {}
        got = content.get("notice") or {}
        t.ok(rc == 0 and content.get("case") == notice_case.get("case") and content.get("patient_ref") == ref
             and content.get("j0") == str(TODAY) and content.get("version") == 1,
             "the cardiologist's CLI decrypts the notice: the case, its reference and J0", f"{content}\n{err}")
        want = notice_of(NOTICE, GOOD_INS.replace(" ", ""), MONITORING, TREATMENT)
        want["discharge_date"] = str(TODAY)
        t.ok(got == want, "... and every field typed in the browser, the INS normalised as the CLI does",
             f"got  {json.dumps(got, ensure_ascii=False, sort_keys=True)}\n"
             f"want {json.dumps(want, ensure_ascii=False, sort_keys=True)}")
        letter = content.get("letter") or {}
        dest = os.path.join(tmp, "lettre.pdf")
        rc, out, err = c["martin"].run("get", letter.get("attachment", "0" * 32), "-o", dest)
        try:
            with open(dest, "rb") as f:
                got_letter = f.read()
        except OSError:
            got_letter = b""
        t.ok(rc == 0 and got_letter == LETTER and letter.get("name") == "lettre-de-liaison.pdf"
             and letter.get("size") == len(LETTER) and "type" not in letter and "caption" not in letter,
             "the GP's liaison get gives back the letter's bytes, named as in the browser",
             f"{letter}\n{out}\n{err}\n{len(got_letter)} bytes")
        path = os.path.join(tmp, "decrypted.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(got, f, ensure_ascii=False)
        rc, out, err = gp.run("discharge", "--check", "--notice", path, "--date", str(TODAY))
        t.ok(rc == 0 and "the notice is complete" in out, "liaison discharge --check accepts the notice as posted",
             f"{out}\n{err}")

        # the alert and the measurements
        hf_ref = hf_case.get("patient_ref", "?")
        for who in ("martin", "petit"):
            rc, obj, err = c[who].json("cases")
            kinds = [n.get("alert_kind") for n in (obj or {}).get("notifications", [])
                     if n.get("kind") == "alert" and n.get("patient_ref") == hf_ref]
            actor = [n.get("actor") for n in (obj or {}).get("notifications", [])
                     if n.get("alert_kind") == "weight_gain"]
            t.ok(sorted(kinds) == ["clinical", "weight_gain"] and actor == [user],
                 f"{who}'s CLI has the alert weight_gain from the browser's user (and the nurse's)",
                 f"{obj}\n{err}")
        rc, obj, err = c["bernard"].json("cases")
        t.ok(rc == 0 and not [n for n in (obj or {}).get("notifications", []) if n.get("kind") == "alert"],
             "the nurse, whom the route does not name, has no alert", f"{obj}")
        rc, out, err = c["petit"].run("read", hf_case.get("channel"))
        t.ok(rc == 0 and f"[measurement, {TODAY - 3 * DAY}] weight {W1} kg" in out
             and f"[measurement, {TODAY}] weight {W3} kg" in out,
             "the CLI reads both measurements typed in the browser", f"{out}\n{err}")
        rc, shown, err = c["petit"].json("case", "show", hf_ref)
        weights = [(x.get("at"), x.get("value")) for x in (shown or {}).get("measurements", {}).get("weight", [])]
        t.ok(weights == [(str(TODAY - 3 * DAY), float(W1)), (str(TODAY), float(W3))],
             "case show --json: the weight series, oldest first", f"{weights}\n{err}")
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
