#!/usr/bin/env python3
"""test_notice_letter.py — the whole lettre de liaison through the real
liaison CLI against a real liaisond.

A notice with every field of the letter (modes of admission and discharge,
allergies, dose, duration and end of each treatment, treatments stopped with
their reason, replacement and day, dated results and acts) is posted with
`liaison discharge` and shown back whole to the GP who acknowledges it and
to the referring doctor, who is one more recipient that must acknowledge.
A notice whose dates disagree with the stay is refused before anything is
sent. A referring doctor who is not enrolled, or named without an RPPS, is
named in the report and not waited for. The hospital pharmacist then takes
the discharge prescription of her reconciliation from the notice
(`conciliation import --from-notice`) instead of a CSV, and the comparison
with the BMO of docs/examples/bmo.csv finds the discrepancies computed by
hand below. Nothing of the letter (name, INS, drugs, allergies,
destination, the absent doctor's name) reaches the server's files. TAP on
stdout."""

import datetime
import glob
import json
import os
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 63

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "docs", "examples")
SAMPLE = os.path.join(EXAMPLES, "discharge-notice.json")
BMO = os.path.join(EXAMPLES, "bmo.csv")

TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("morel", "10567890123", "Anne Morel", "hospital_pharmacist", "370000481", "member"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
    ("petit", "10345678907", "Dr Louis Petit", "cardiologist", "450000005", "member"),
]

PATIENT = {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
           "sex": "F", "ins": "2 48 03 45 234 056 72"}
ABSENT_NAME = "Dr Jean Vasseur"
ALLERGY = "Iode : œdème de Quincke"
DESTINATION = "SMR Les Tilleuls, Olivet"


def luhn_complete(digits):
    """The RPPS check digit (Luhn), computed here: double every second digit from the right
    of the full number, i.e. from the rightmost digit of the 10 given."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


ABSENT_RPPS = luhn_complete("1087654321")


def folded(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def ok_run(t, client, name, *args):
    rc, out, err = client.run(*args)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out, err


def ok_json(t, client, name, *args):
    rc, obj, err = client.json(*args)
    t.ok(rc == 0 and obj is not None, name, f"rc={rc}\n{obj}\n{err}")
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
        t.eq(rc, 0, f"{name} enrols", f"{out}\n{err}")
        clients[profile] = c
    return clients


def whole_notice():
    """The sample with every optional field, dated inside the stay TODAY-7 → TODAY."""
    with open(SAMPLE, encoding="utf-8") as f:
        n = json.load(f)
    n["patient"] = PATIENT
    n["admission_date"] = str(TODAY - 7 * DAY)
    n["discharge_date"] = str(TODAY)
    n["admission_mode"] = "transfer"
    n["discharge_mode"] = "transfer"
    n["discharge_destination"] = DESTINATION
    n["allergies"] = [ALLERGY]
    n["referring_doctor"] = {"name": "Dr Louis Petit", "rpps": "10345678907"}
    n["discharge_treatments"][0]["duration"] = "1 mois"
    n["discharge_treatments"][0]["end_date"] = str(TODAY + 30 * DAY)
    n["stopped_treatments"][0]["date"] = str(TODAY - 6 * DAY)
    n["results_awaited"][0]["expected_by"] = str(TODAY + 2 * DAY)
    n["follow_up"]["planned_acts"][0]["date"] = str(TODAY + 7 * DAY)
    return n


def write(tmp, name, notice):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    return path


def discharge(c, path, *extra):
    return c["roux"].run("discharge", "--pathway", "hospital_discharge", "--gp", "Claire Martin",
                         "--pharmacist", "Paul Durand", "--nurse", "Julie Bernard",
                         "--notice", path, *extra)


# ---- the letter, whole -------------------------------------------------------------------

SHOWN = [  # what a reader of the notice must see, built from whole_notice() by hand
    ("Admission: transfer from another establishment", "the mode of admission"),
    (f"Discharge to: transfer to another establishment: {DESTINATION}", "the mode of discharge"),
    (f"Allergies: {ALLERGY}", "the allergies"),
    ("Referred by: Dr Louis Petit", "the referring doctor"),
    (f"furosémide 40 mg, le matin, orale; duration: 1 mois (until {TODAY + 30 * DAY}) [modified]",
     "the dose, frequency, route, duration and end of a treatment"),
    ("apixaban 5 mg, 2 fois par jour, orale; duration: au long cours [new]",
     "a long-term treatment"),
    (f"diltiazem (stopped {TODAY - 6 * DAY}): inotrope négatif, contre-indiqué avec une FEVG "
     "altérée; replaced by bisoprolol", "a stopped treatment, when, why and its replacement"),
    (f"Kaliémie et créatinine de sortie (expected by {TODAY + 2 * DAY}) — prélevées le jour de "
     "la sortie", "a result awaited"),
    (f"Consultation du médecin traitant, {TODAY + 7 * DAY}, Dr Claire Martin", "a dated act"),
]


def letter(t, c, tmp, ids):
    rc, out, err = discharge(c, write(tmp, "whole.json", whole_notice()))
    t.eq(rc, 0, "liaison discharge with every field of the letter", f"{out}\n{err}")
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    channel = re.search(r"Channel:\s+([0-9a-f]{32})", out)
    ref = ref.group(1) if ref else "P-XXXXXXXX"
    channel = channel.group(1) if channel else "0" * 32
    must = out.split("Must acknowledge", 1)[-1]
    t.ok(re.search(r"Dr Louis Petit.*\(referring doctor named in the notice\)", must)
         and "not enrolled" not in out,
         "the enrolled referring doctor is one of those who must acknowledge", out)

    out, _ = ok_run(t, c["martin"], "the GP acknowledges", "ack", ref)
    for words, what in SHOWN:
        t.ok(words in out, f"ack shows {what}", out)
    t.ok("Acknowledgements: 1/4" in out, "1/4: the GP", out)

    out, _ = ok_run(t, c["petit"], "the referring doctor acknowledges", "ack", ref)
    t.ok("Allergies: " + ALLERGY in out and "Acknowledgements: 2/4" in out,
         "the referring doctor reads the whole letter too; 2/4", out)

    out, _ = ok_run(t, c["bernard"], "case show --notice", "case", "show", ref, "--notice")
    missing = [what for words, what in SHOWN if words not in out]
    t.ok(not missing and "Acknowledgements: 2/4" in out and "DISCHARGE NOTICE" in out,
         "case show --notice: the timeline, then every field of the letter", f"{missing}\n{out}")
    rc, obj, err = c["bernard"].json("case", "show", ref, "--notice")
    t.eq(((obj or {}).get("notice_message") or {}).get("notice", {}).get("allergies"), [ALLERGY],
         "case show --json --notice: the decrypted notice as notice_message")

    case = ok_json(t, c["roux"], "case show --json", "case", "show", ref)
    notice = case.get("notice") or {}
    t.ok(sorted(notice.get("recipients") or []) ==
         sorted(ids[p] for p in ("martin", "durand", "bernard", "petit"))
         and sorted(a.get("user") for a in notice.get("acks") or []) ==
         sorted([ids["martin"], ids["petit"]]),
         "the server holds the four recipients, the referring doctor's acknowledgement among "
         "the two", f"{notice}")

    rc, obj, err = c["bernard"].json("read", channel)
    posted = next((m for m in (obj or {}).get("messages", [])
                   if m.get("type") == "discharge_notice"), {})
    got = (posted.get("content") or {}).get("notice") or {}
    want = whole_notice()
    want["patient"]["ins"] = want["patient"]["ins"].replace(" ", "")
    t.ok(rc == 0 and got == want, "read --json: the nurse decrypts exactly the notice written",
         f"{rc}\n{err}\n{json.dumps(got, ensure_ascii=False)[:600]}")
    return ref, channel


def refused(t, c, tmp):
    before = ok_json(t, c["roux"], "cases before", "cases")
    n = whole_notice()
    n["results_awaited"][0]["expected_by"] = str(TODAY - 8 * DAY)   # the day before admission
    n["follow_up"]["planned_acts"][1]["date"] = str(TODAY - DAY)    # before discharge
    rc, out, err = discharge(c, write(tmp, "dates.json", n))
    t.ok(rc == 2 and "results_awaited[0].expected_by" in err and "before admission_date" in err
         and "follow_up.planned_acts[1].date" in err and "before discharge_date" in err
         and "2 problems" in err and "nothing was sent" in err,
         "a notice whose dates disagree with the stay is refused, both entries named", err)
    after = ok_json(t, c["roux"], "cases after", "cases")
    t.eq(len(after.get("cases") or []), len(before.get("cases") or []),
         "no case was opened for the refused notice")


def referring_absent(t, c, tmp, ids):
    n = whole_notice()
    n["referring_doctor"] = {"name": ABSENT_NAME, "rpps": ABSENT_RPPS}
    rc, out, err = discharge(c, write(tmp, "absent.json", n))
    t.ok(rc == 0 and f"The referring doctor named in the notice, {ABSENT_NAME} (RPPS "
         f"{ABSENT_RPPS}), is not enrolled on Liaison" in out
         and "not asked to acknowledge" in out and "MSSanté" in out,
         "a referring doctor not enrolled: named, with what to do", f"{out}\n{err}")
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    case = ok_json(t, c["roux"], "case show --json", "case", "show",
                   ref.group(1) if ref else "P-XXXXXXXX")
    t.eq(sorted((case.get("notice") or {}).get("recipients") or []),
         sorted(ids[p] for p in ("martin", "durand", "bernard")),
         "the recipients are the three named on the command line")
    n["referring_doctor"] = {"name": ABSENT_NAME}
    rc, obj, err = c["roux"].json("discharge", "--pathway", "hospital_discharge", "--gp",
                                  "Claire Martin", "--pharmacist", "Paul Durand", "--nurse",
                                  "Julie Bernard", "--notice", write(tmp, "norpps.json", n))
    t.ok(rc == 0 and (obj or {}).get("referring_doctor_absent") is True
         and len((obj or {}).get("must_acknowledge") or []) == 3,
         "--json: referring_doctor_absent, three to acknowledge", f"{obj}\n{err}")
    rc, out, err = discharge(c, write(tmp, "norpps2.json", n))
    t.ok(rc == 0 and "has no RPPS in the notice, so Liaison cannot find them" in out
         and "add referring_doctor.rpps" in out,
         "a referring doctor without an RPPS: said, with what to do", f"{out}\n{err}")


# ---- the reconciliation from the notice ------------------------------------------------

def reconciliation(t, c, ref, channel):
    m = c["morel"]
    ok_run(t, c["roux"], "the hospital pharmacist joins the case thread", "channel", "add",
           channel, "Anne Morel")
    obj = ok_json(t, m, "she starts the discharge reconciliation", "conciliation", "start", ref,
                  "--transition", "discharge", "--prescriber", "Claire Martin")
    ep = (obj.get("episode") or "0" * 32)[:8]
    rc, out, err = m.run("conciliation", "import", ref, ep, "--from-notice", "--order", BMO)
    t.ok(rc == 2 and "one of --bmo" in err and "--from-notice" in err,
         "--from-notice and a CSV at once is a usage error", f"{rc}\n{err}")
    for source in ("patient_interview", "dossier_pharmaceutique", "gp_prescription"):
        ok_run(t, m, f"source {source}", "conciliation", "source", "add", ref, ep, source)
    ok_json(t, m, "the BMO from docs/examples/bmo.csv", "conciliation", "import", ref, ep,
            "--bmo", BMO)
    rc, obj, err = m.json("conciliation", "import", ref, ep, "--from-notice")
    t.eq(rc, 0, "the prescription from the discharge notice", f"{obj}\n{err}")
    obj = obj or {}
    order = (obj.get("document") or {}).get("order") or []
    t.ok(re.fullmatch(r"4 lines imported into the prescription from the discharge notice "
                      r"\(message #\d+\) \(lines 7–10\)", obj.get("change") or ""),
         "it says where the lines came from", f"{obj.get('change')}")
    # the four treatments of whole_notice(), mapped by hand
    want = [
        {"inn": "furosémide", "atc": "C03CA01", "dose": "40", "unit": "mg", "frequency": "matin",
         "route": "orale", "note": "durée : 1 mois"},
        {"inn": "bisoprolol", "atc": "C07AB07", "dose": "2.5", "unit": "mg", "frequency": "1/j",
         "route": "orale", "note": "durée : au long cours"},
        {"inn": "ramipril", "atc": "C09AA05", "dose": "2.5", "unit": "mg", "frequency": "1/j",
         "route": "orale", "note": "durée : au long cours"},
        {"inn": "apixaban", "atc": "B01AF02", "dose": "5", "unit": "mg", "frequency": "2/j",
         "route": "orale", "note": "durée : au long cours"},
    ]
    got = [{k: line.get(k) for k in want[0]} for line in order]
    t.eq(got, want, "each treatment became a prescription line: drug, ATC, dose, frequency, "
         "route, duration")
    t.ok(err.strip() == "", "every field of the sample's treatments was read (no remark)", err)

    out, _ = ok_run(t, m, "compare", "conciliation", "compare", ref, ep)
    obj = ok_json(t, m, "show --json", "conciliation", "show", ref, ep)
    doc = ((obj.get("episodes") or [{}])[0]).get("document") or {}
    lines = {x["id"]: x for x in doc.get("bmo", []) + doc.get("order", [])}
    found = sorted((d["type"], lines.get(d.get("bmo") or d.get("order"), {}).get("inn"))
                   for d in doc.get("discrepancies", []))
    # bmo.csv against the notice: furosémide 1 × 40 mg matin = 40 mg matin; bisoprolol
    # 1 × 2,5 mg matin = 2.5 mg 1/j (1/j names no moment); ramipril 1 × 5 mg → 2.5 mg;
    # spironolactone, paracétamol and alprazolam not prescribed; apixaban new
    t.eq(found, sorted([("dose_change", "ramipril"), ("omission", "spironolactone"),
                        ("omission", "paracétamol"), ("omission", "alprazolam"),
                        ("addition", "apixaban")]),
         "the comparison with the BMO finds the five discrepancies computed by hand")
    t.ok("compared: 5 discrepancies" in out, "compare says 5", out)
    return ep


def remarks(t, c, tmp, ids):
    n = whole_notice()
    del n["referring_doctor"]
    n["discharge_treatments"][1]["frequency"] = "1 fois par jour, le matin"
    del n["discharge_treatments"][3]["atc"]
    n["stopped_treatments"] = [{"drug": "Alprazolam", "reason": "chutes à répétition"}]
    rc, out, err = discharge(c, write(tmp, "remarks.json", n))
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    channel = re.search(r"Channel:\s+([0-9a-f]{32})", out)
    ref = ref.group(1) if ref else "P-XXXXXXXX"
    ok_run(t, c["roux"], "the hospital pharmacist joins the other case", "channel", "add",
           channel.group(1) if channel else "0" * 32, "Anne Morel")
    obj = ok_json(t, c["morel"], "a second reconciliation", "conciliation", "start", ref,
                  "--transition", "discharge")
    ep = (obj.get("episode") or "0" * 32)[:8]
    ok_json(t, c["morel"], "its BMO from docs/examples/bmo.csv (lines 1-6)", "conciliation",
            "import", ref, ep, "--bmo", BMO)
    rc, obj, err = c["morel"].json("conciliation", "import", ref, ep, "--from-notice")
    order = ((obj or {}).get("document") or {}).get("order") or []
    t.ok(rc == 0 and [x.get("inn") for x in order] == ["furosémide", "bisoprolol", "ramipril"]
         and order[1].get("frequency") is None,
         "a treatment without ATC is skipped; an unread frequency is left empty", f"{obj}\n{err}")
    t.ok("discharge_treatments[1]: bisoprolol: frequency \"1 fois par jour, le matin\" is not "
         "one of the reconciliation's frequencies" in err
         and "discharge_treatments[3]: apixaban has no ATC code: not imported" in err,
         "both are said, naming the treatment", err)
    # bmo.csv line 6 is alprazolam; the notice stops "Alprazolam" (case folded)
    t.ok("stopped_treatments[0]: Alprazolam (BMO line 6) was stopped during the stay "
         "(chutes à répétition): after compare, its omission is documented in the notice" in err,
         "a BMO drug the notice stopped is pointed out, with the notice's reason", err)


def nothing_on_server(t, srv):
    with open(SAMPLE, encoding="utf-8") as f:
        sample = json.load(f)
    drugs = [x["drug"] for x in sample["discharge_treatments"] + sample["stopped_treatments"]]
    atcs = [x["atc"] for x in sample["discharge_treatments"] + sample["stopped_treatments"]]
    needles = set(atcs) | {"LEMAIRE", "Odette", "248034523405672", ALLERGY, folded(ALLERGY),
                           DESTINATION, ABSENT_NAME, ABSENT_RPPS, "au long cours", "1 mois",
                           "prélevées le jour de la sortie", "Olivet"}
    for d in drugs:
        needles |= {d, folded(d), d.upper(), folded(d).upper()}
    data = {}
    for p in glob.glob(os.path.join(srv.data, "*")) + [srv.log_path]:
        try:
            with open(p, "rb") as f:
                data[p] = f.read()
        except OSError:
            pass
    t.ok(any(p.endswith("liaison.db") for p in data) and any(p.endswith("-wal") for p in data)
         and any("Dr Louis Petit".encode() in d for d in data.values()),
         "control: the database and its WAL are searched, and hold what the server may know",
         repr(list(data)))
    leaks = sorted({(os.path.basename(p), n) for p, d in data.items() for n in needles
                    if n.encode() in d})
    t.ok(not leaks, f"nothing of the letter ({len(needles)} strings: patient, INS, drugs, ATC "
         "codes, allergy, destination, durations, the absent doctor) in the server's files",
         repr(leaks))


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        c = enrol_all(t, srv)
        ids = {}
        for p in c:
            rc, obj, err = c[p].json("whoami")
            ids[p] = ((obj or {}).get("user") or {}).get("id", "?")
        ref, channel = letter(t, c, srv.tmp, ids)
        refused(t, c, srv.tmp)
        referring_absent(t, c, srv.tmp, ids)
        reconciliation(t, c, ref, channel)
        remarks(t, c, srv.tmp, ids)
        nothing_on_server(t, srv)


if __name__ == "__main__":
    run(main, PLAN)
