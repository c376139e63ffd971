#!/usr/bin/env python3
"""test_measure_cli.py — structured measurements through the real liaison
CLI against a real liaisond: a nurse records weights, potassium and
creatinine in a heart-failure case, a psychologist and the GP PHQ-9
questionnaires in an anxio-depressive case; the thresholds of each template
(op pathways) are evaluated by the client and every alert kind is raised from
a measurement; who is notified is checked for each (GP, cardiologist,
psychiatrist members, the coordinator of the case's CPTS outside the thread;
never the coordinator of another CPTS, nor a member the route does not
name); values out of range are refused before anything is sent; `case show`
draws the trend (Unicode or ASCII) and --json gives the values; and no
measured value, nor the measurement messages, reach the server's files.
Every expected figure is computed by hand here. TAP on stdout."""

import datetime
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 74

TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("petit", "10345678907", "Dr Louis Petit", "cardiologist", "450000005", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
    ("psy", "10000000025", "Dr Paul Psy", "psychiatrist", "450000005", "member"),
    ("ecoute", "10000000058", "Inès Écoute", "psychologist", "450000005", "member"),
    ("lea", None, "Léa Coordination", "coordinator", "450000005", "member,coordinator"),
    ("sam", None, "Sam Sologne", "coordinator", "450000013", "member,coordinator"),
]

# distinctive values: none of them may reach the server's files
W1, W2, W3 = "80.35", "82.25", "82.35"    # T-3, T-1, T: +1.9 in 2 days, then +2.0 in 3 days
K_HIGH, K_LOW, CREAT = "5.83", "3.17", "281.5"


def ok_run(t, client, name, *args):
    rc, out, err = client.run(*args)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    srv.admin("org", "add", "--name", "CPTS Sologne", "--finess", "450000013", "--kind", "cpts")
    c = {}
    for profile, rpps, name, profession, org, roles in PEOPLE:
        c[profile] = Client(srv, profile)
        rc, out, err = c[profile].enrol(srv.invite(rpps, name, profession, org, roles=roles))
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
    return c


def open_case(t, owner, pathway, j0, *members):
    rc, obj, err = owner.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel")
    for m in members:
        rc2, out, err2 = owner.run("channel", "add", channel, m)
        if rc2 != 0:
            err += err2
    rc, obj, err3 = owner.json("case", "open", channel, "--pathway", pathway, "--j0", str(j0))
    case = (obj or {}).get("case", {})
    t.ok(rc == 0 and case.get("patient_ref"), f"a {pathway} case is opened with its members",
         f"{obj}\n{err}\n{err3}")
    return case.get("patient_ref", "?")


def measure(t, client, name, ref, *args):
    rc, obj, err = client.json("measure", ref, *args)
    t.eq(rc, 0, name, f"{obj}\n{err}")
    return obj or {}


def alert_kinds(obj):
    return [a.get("kind") for a in obj.get("alerts", [])]


def notified_names(obj, kind):
    """The names notified for kind (without the "(profession)" the CLI adds), and how many."""
    a = next((a for a in obj.get("alerts", []) if a.get("kind") == kind), {})
    return sorted((u.get("name") or "").split(" (")[0] for u in a.get("users", [])), \
        a.get("notified")


def notifications(client, ref):
    """The alert kinds of the unseen alert notifications about ref (then seen)."""
    rc, obj, err = client.json("cases")
    notes = (obj or {}).get("notifications", [])
    return sorted(n.get("alert_kind") or "?" for n in notes
                  if n.get("kind") == "alert" and n.get("patient_ref") == ref)


def pathways_carry_rules(t, c):
    rc, obj, err = c["martin"].json("pathways")
    hf = next((p for p in (obj or {}).get("pathways", []) if p.get("pathway") == "heart_failure"
               and p.get("version") == 2), {})
    weight = next((x for x in hf.get("thresholds", []) if x.get("measure") == "weight"), {})
    t.ok(weight.get("rule") == "rise" and weight.get("amount") == 2.0 and weight.get("days") == 3
         and weight.get("alert_kind") == "weight_gain",
         "pathways gives heart failure's threshold: weight +2 kg within 3 days", f"{hf}\n{err}")
    rc, out, err = c["martin"].run("pathways", "anxiety_depression")
    line = next((l for l in out.splitlines() if l.split()[:1] == ["suicide_risk"]), "")
    t.ok(rc == 0 and "gp|psychiatrist|coordinator" in line and "phq9_item9 >= 1" in line,
         "liaison pathways shows each alert kind, whom it notifies and its threshold", out)


def refused_entries(t, c, ref):
    cases = [
        (("weight", "400"), "from 20 to 350 kg", "a weight out of range"),
        (("bp", "80/130", "70"), "below the systolic", "a diastolic above the systolic"),
        (("phq9", "1", "2", "3"), "nine answers", "a PHQ-9 with three answers"),
        (("potassium", "5,8.1"), "potassium", "a malformed number"),
        (("nyha", "V"), "I, II, III or IV", "a NYHA class V"),
        (("weight", "80", "--at", str(TODAY + DAY)), "future", "a date in the future"),
    ]
    for args, words, name in cases:
        rc, out, err = c["bernard"].run("measure", ref, *args)
        t.ok(rc == 2 and words in err, f"refused before anything is sent: {name}",
             f"rc={rc}\n{out}\n{err}")
    rc, obj, err = c["bernard"].json("case", "show", ref)
    t.eq((obj or {}).get("measurements"), {}, "nothing was posted by the refused entries",
         f"{obj}\n{err}")


def heart_failure(t, c):
    ref = open_case(t, c["roux"], "heart_failure", TODAY - 10 * DAY, "Dr Claire Martin",
                    "Dr Louis Petit", "Julie Bernard", "Dr Paul Psy")
    refused_entries(t, c, ref)
    nurse = c["bernard"]
    o = measure(t, nurse, "the nurse records a weight three days ago", ref, "weight", W1,
                "--at", str(TODAY - 3 * DAY))
    t.eq(alert_kinds(o), [], "a first weight crosses nothing", o)
    o = measure(t, nurse, "then one the day before yesterday", ref, "weight", W2, "--at",
                str(TODAY - DAY))
    t.eq(alert_kinds(o), [], "+1.9 kg within 2 days crosses nothing", o)
    rc, out, err = nurse.run("measure", ref, "weight", W3)
    t.ok(rc == 0 and "Threshold crossed: weight_gain" in out and "2 notified" in out
         and "Dr Claire Martin" in out and "Dr Louis Petit" in out,
         "+2.0 kg in exactly 3 days raises weight_gain; the output names the GP and the "
         "cardiologist", f"{out}\n{err}")
    o = measure(t, nurse, "a high potassium", ref, "potassium", K_HIGH)
    t.eq(alert_kinds(o), ["hyperkalaemia"], "potassium 5.83 > 5.5 raises hyperkalaemia", o)
    t.eq(notified_names(o, "hyperkalaemia"), (["Dr Claire Martin", "Dr Louis Petit"], 2),
         "hyperkalaemia notifies the GP and the cardiologist, not the psychiatrist member", o)
    o = measure(t, nurse, "a low potassium", ref, "potassium", K_LOW)
    t.eq(alert_kinds(o), ["hypokalaemia"], "potassium 3.17 < 3.5 raises hypokalaemia", o)
    o = measure(t, nurse, "a creatinine", ref, "creatinine", CREAT)
    t.eq(alert_kinds(o), ["renal_function"], "creatinine 281.5 > 266 raises renal_function", o)
    o = measure(t, nurse, "a potassium in range", ref, "potassium", "4.5")
    t.eq(alert_kinds(o), [], "potassium 4.5 crosses nothing", o)
    o = measure(t, nurse, "a NYHA class", ref, "nyha", "III")
    t.eq(alert_kinds(o), [], "NYHA has no threshold (version 2, like version 1)", o)
    o = measure(t, nurse, "blood pressure and heart rate", ref, "bp", "118/72", "64")
    t.ok(o.get("measurement", {}).get("values") == {"systolic": 118, "diastolic": 72,
                                                   "heart_rate": 64} and alert_kinds(o) == [],
         "bp 118/72 64 is recorded as three values, no threshold", o)
    want = sorted(["weight_gain", "hyperkalaemia", "hypokalaemia", "renal_function"])
    t.eq(notifications(c["martin"], ref), want, "the GP has one notification per kind", "")
    t.eq(notifications(c["petit"], ref), want, "so has the cardiologist", "")
    for who, name in (("psy", "the psychiatrist member"), ("bernard", "the nurse who measured"),
                      ("lea", "the CPTS coordinator (no heart-failure route names her)"),
                      ("sam", "the other CPTS's coordinator")):
        t.eq(notifications(c[who], ref), [], f"nothing for {name}", "")
    return ref


def trend(t, c, ref):
    rc, obj, err = c["martin"].json("case", "show", ref)
    got = [(x.get("at"), x.get("value")) for x in (obj or {}).get("measurements", {})
           .get("weight", [])]
    t.eq(got, [(str(TODAY - 3 * DAY), 80.35), (str(TODAY - DAY), 82.25), (str(TODAY), 82.35)],
         "case show --json: the weights with their dates, oldest first", err)
    t.eq([x.get("value") for x in (obj or {}).get("measurements", {}).get("potassium", [])],
         [5.83, 3.17, 4.5], "and the potassium values in order", "")
    keep = os.environ.get("LC_ALL")
    try:
        # 80.35, 82.25, 82.35 over 8 blocks (range 2.0): 0, round(1.9/2*7 = 6.65) = 7, 7
        os.environ["LC_ALL"] = "C.UTF-8"
        rc, out, err = c["martin"].run("case", "show", ref)
        line = next((l for l in out.splitlines() if l.strip().startswith("weight (kg)")), "")
        t.ok(rc == 0 and "Measurements:" in out and "▁██" in line and "3 values" in line
             and f"82.35 ({TODAY})" in line, "case show draws the weight's trend in blocks with "
             "the last values and dates", out)
        # over 5 ASCII levels: 0, round(1.9/2*4 = 3.8) = 4, 4
        os.environ["LC_ALL"] = "C"
        rc, out, err = c["martin"].run("case", "show", ref)
        line = next((l for l in out.splitlines() if l.strip().startswith("weight (kg)")), "")
        t.ok(rc == 0 and "_##" in line and "▁" not in out, "without UTF-8: an ASCII sparkline",
             out)
    finally:
        if keep is None:
            os.environ.pop("LC_ALL", None)
        else:
            os.environ["LC_ALL"] = keep
    rc, out, err = c["petit"].run("read", ref_channel(c, ref))
    t.ok(rc == 0 and f"[measurement, {TODAY}] weight {W3} kg" in out,
         "read shows a measurement message in words", out)


FR = {"LANG": "fr_FR.UTF-8", "LC_ALL": "fr_FR.UTF-8"}


def in_french(t, c, ref):
    """case show, measure and pathways in French: words translated, codes and values not."""
    rc, out, err = c["martin"].run("case", "show", ref, env=FR)
    t.ok(rc == 0 and "Mesures :" in out and "3 valeurs ; dernières :" in out
         and "Étapes (échéances en jours UTC" in out and "Indicateurs" in out
         and "weight (kg)" in out, "case show in French: the timeline and the trend in "
         "French, the measure codes unchanged", f"{out}\n{err}")
    rc, out, err = c["bernard"].run("measure", ref, "weight", "400", env=FR)
    t.ok(rc == 2 and "poids « 400 » : attendu un nombre (au plus 3 décimales) de 20 à 350 kg"
         in err, "measure in French: a value out of range refused in French", f"{out}\n{err}")
    rc, out, err = c["bernard"].run("measure", ref, "potassium", "4.6", env=FR)
    t.ok(rc == 0 and f"Mesure publiée dans le dossier {ref}" in out
         and "potassium 4.6 mmol/L" in out and "Aucun seuil de heart_failure franchi." in out,
         "measure in French: the measurement posted, no threshold crossed", f"{out}\n{err}")
    rc, out, err = c["bernard"].run("pathways", "heart_failure", env=FR)
    t.ok(rc == 0 and "étape obligatoire" in out and "LEVÉE PAR" in out
         and "weight +2 kg en 3 jours" in out, "pathways in French: schedule and thresholds "
         "in French, the codes unchanged", f"{out}\n{err}")


def ref_channel(c, ref):
    rc, obj, err = c["martin"].json("case", "show", ref)
    return (obj or {}).get("case", {}).get("channel", "?")


def anxiety_depression(t, c):
    ref = open_case(t, c["martin"], "anxiety_depression", TODAY - 7 * DAY, "Dr Paul Psy",
                    "Inès Écoute", "Dr Louis Petit")
    # 1×9 = total 9, item 9 = 1: suicide risk only
    o = measure(t, c["ecoute"], "the psychologist records a PHQ-9", ref, "phq9",
                *"111111111")
    t.eq(alert_kinds(o), ["suicide_risk"], "PHQ-9 item 9 = 1 (total 9) raises suicide_risk", o)
    t.eq(notified_names(o, "suicide_risk"),
         (["Dr Claire Martin", "Dr Paul Psy", "Léa Coordination"], 3),
         "suicide_risk notifies the GP, the psychiatrist and the CPTS coordinator outside the "
         "thread; not the cardiologist member, not the other CPTS's coordinator", o)
    # 3+3+3+3+2+2+2+2+0 = 20, item 9 = 0: severe only
    o = measure(t, c["martin"], "the GP records a PHQ-9", ref, "phq9", *"333322220")
    t.eq(alert_kinds(o), ["severe_depression"], "a total of 20 with item 9 = 0 raises "
         "severe_depression", o)
    t.eq(notified_names(o, "severe_depression"), (["Dr Claire Martin", "Dr Paul Psy"], 2),
         "severe_depression notifies the GP and the psychiatrist", o)
    # 3+3+3+3+3+3+1+0+0 = 19: nothing
    o = measure(t, c["martin"], "a PHQ-9 of 19", ref, "phq9", *"333333100")
    t.eq(alert_kinds(o), [], "a total of 19 with item 9 = 0 crosses nothing", o)
    # 3+3+3+3+3+3+0+0+2 = 20, item 9 = 2: both, on two messages
    o = measure(t, c["ecoute"], "a PHQ-9 crossing both", ref, "phq9", *"333333002")
    seqs = [a.get("seq") for a in o.get("alerts", [])]
    t.ok(alert_kinds(o) == ["suicide_risk", "severe_depression"] and len(seqs) == 2
         and seqs[0] == o.get("seq") and seqs[1] > seqs[0],
         "both kinds are raised, the second on a message of its own (one alert per message)", o)
    t.eq(notifications(c["lea"], ref), ["suicide_risk", "suicide_risk"],
         "the coordinator has the two suicide-risk notifications only", "")
    t.eq(notifications(c["psy"], ref), sorted(["suicide_risk", "severe_depression"] * 2),
         "the psychiatrist has all four", "")
    for who, name in (("petit", "the cardiologist member"), ("sam", "the other CPTS's "
                      "coordinator"), ("ecoute", "the psychologist who measured")):
        t.eq(notifications(c[who], ref), [], f"nothing for {name}", "")
    rc, out, err = c["lea"].run("cases")
    t.ok(rc == 0, "the coordinator's cases run", err)
    return ref


def nothing_measured_on_server(t, srv):
    paths = glob.glob(os.path.join(srv.data, "*")) + [srv.log_path]
    data = {}
    for p in paths:
        try:
            with open(p, "rb") as f:
                data[p] = f.read()
        except OSError:
            pass
    t.ok(any(p.endswith("liaison.db") for p in data)
         and any(b"suicide_risk" in d for d in data.values()),
         "control: the search finds what the server may know (an alert kind)", repr(list(data)))
    secrets = [b'"measurement"', b'"values"', b'"items"']
    # weights and creatinine: three digits before the point, or two above 59,
    # which no "HH:MM:SS.mmm" of the log can hold, so they are searched bare
    for v in (W1, W2, W3, CREAT):
        secrets.append(v.encode())
        secrets.append(("%.17g" % float(v)).encode())     # a 17-digit real, as JSON may write it
    # the potassium values are short enough to appear in a time stamp: in context
    for v in (K_HIGH, K_LOW):
        for text in (v, "%.17g" % float(v)):
            secrets.append(f'"potassium":{text}'.encode())
            secrets.append(f'"potassium": {text}'.encode())
    leaks = [(os.path.basename(p), s.decode()) for p, d in data.items() for s in secrets if s in d]
    t.ok(not leaks, "no measured value nor measurement message in the server database, WAL or "
         "log", repr(leaks))


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        c = setup(t, srv)
        pathways_carry_rules(t, c)
        ref = heart_failure(t, c)
        trend(t, c, ref)
        in_french(t, c, ref)
        anxiety_depression(t, c)
        nothing_measured_on_server(t, srv)


if __name__ == "__main__":
    run(main, PLAN)
