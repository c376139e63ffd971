#!/usr/bin/env python3
"""test_pathway_cli_notice.py — the discharge notice file as the real
`liaison discharge` checks it before anything is sent: the shipped sample
passes; each missing or malformed field of the lettre de liaison (R1112-1-2)
is reported with its name and what to do; the INS key is checked (97 − NIR
mod 97, Corsica 2A/2B counted as 19/18) and compared with the date of birth
and sex; the dates must be real and in order; --date fills or must agree
with discharge_date; every problem is listed at once and nothing leaves the
computer (no profile is even opened). The fields added for the whole
lettre de liaison (modes of admission and discharge with their code lists,
allergies, the duration and end of each discharge treatment, the ATC,
replacement and day of a stopped one) are accepted and shown back, and the
dates of the entries are checked against the stay. TAP on stdout."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import run  # noqa: E402

PLAN = 94

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")
DATE = "2026-11-23"


def nir_key(nir):
    """The INS key computed independently: 97 − NIR mod 97, 2A → 19, 2B → 18."""
    digits = nir.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


class Checker:
    def __init__(self, t, tmp):
        self.t = t
        self.tmp = tmp
        self.home = os.path.join(tmp, "home")  # empty: no profile at all
        os.makedirs(self.home)
        with open(SAMPLE, encoding="utf-8") as f:
            self.sample = json.load(f)

    def run(self, notice, *extra, check=True, raw=None, lang=None):
        path = os.path.join(self.tmp, "notice.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(raw if raw is not None else json.dumps(notice, ensure_ascii=False))
        env = dict(os.environ, LIAISON_HOME=self.home)
        env.pop("LIAISON_PASSPHRASE", None)
        if lang:
            env.update(LANG=lang, LC_ALL=lang)
        args = [harness.LIAISON, "discharge", "--notice", path] + list(extra)
        if check:
            args.append("--check")
        res = subprocess.run(args, capture_output=True, text=True, env=env,
                             stdin=subprocess.DEVNULL, timeout=60)
        harness.sanitizer_check(self.t, "liaison discharge --notice", res.stderr)
        return res.returncode, res.stdout, res.stderr

    def variant(self, change):
        notice = json.loads(json.dumps(self.sample))
        change(notice)
        return notice


def delete(path):
    def change(notice):
        obj = notice
        for key in path[:-1]:
            obj = obj[key]
        del obj[path[-1]]
    return change


def setter(path, value):
    def change(notice):
        obj = notice
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value
    return change


def sample_passes(t, ck):
    rc, out, err = ck.run(ck.sample, "--date", DATE)
    t.ok(rc == 0 and "the notice is complete" in out and "LEMAIRE Odette Marie" in out
         and "INS 248034523405672" in out and "diltiazem" in out,
         "the shipped sample notice passes --check and is shown back", f"{rc}\n{out}\n{err}")
    t.eq(nir_key("2480345234056"), 72, "control: the sample's INS key, computed independently")


def missing_fields(t, ck):
    required = [
        ("patient", "family_name"), ("patient", "given_names"), ("patient", "birth_date"),
        ("patient", "ins"), ("gp",), ("gp", "name"), ("hospital_doctor",), ("admission_date",),
        ("reason_for_admission",), ("stay_summary", "summary"),
        ("stay_summary", "adverse_events"), ("stay_summary", "resistant_organisms"),
        ("stay_summary", "blood_products"), ("stay_summary", "implanted_devices"),
        ("discharge_treatments",), ("stopped_treatments",), ("results_awaited",),
        ("follow_up", "planned_acts"), ("follow_up", "recommendations"),
        ("follow_up", "monitoring"),
    ]
    for path in required:
        field = ".".join(path)
        rc, out, err = ck.run(ck.variant(delete(path)), "--date", DATE)
        t.ok(rc == 2 and f"notice.json: {field}: missing: add " in err
             and "nothing was sent" in err,
             f"missing {field}: named, with what to write", f"{rc}\n{err}")
    rc, out, err = ck.run(ck.sample)
    t.ok(rc == 2 and "discharge_date: missing" in err and "--date" in err,
         "no discharge_date and no --date: says to give one or the other", err)


def ins(t, ck):
    wrong = "2 48 03 45 234 056 73"
    rc, out, err = ck.run(ck.variant(setter(("patient", "ins"), wrong)), "--date", DATE)
    t.ok(rc == 2 and "patient.ins" in err and "key 73" in err and "is 72" in err
         and "carte Vitale" in err, "a wrong INS key is refused, with the right one", err)
    for dept, sex_digit, birth in (("2A", "1", "1969-05-01"), ("2B", "2", "1969-05-20")):
        nir = f"{sex_digit}6905{dept}004012"
        key = nir_key(nir)
        patient = dict(ck.sample["patient"], ins=f"{nir}{key:02d}", birth_date=birth,
                       sex="M" if sex_digit == "1" else "F")
        rc, out, err = ck.run(ck.variant(setter(("patient",), patient)), "--date", DATE)
        t.ok(rc == 0, f"a Corsican INS ({dept}, key {key:02d}) is accepted", f"{rc}\n{err}")
        bad = dict(patient, ins=f"{nir}{(key % 97) + 1:02d}")
        rc, out, err = ck.run(ck.variant(setter(("patient",), bad)), "--date", DATE)
        t.ok(rc == 2 and f"is {key:02d}" in err, f"and a wrong key for {dept} is refused", err)
    for value, words in (("2480345234056", "13 characters"), ("2 48 03 XX 234 056 72",
                                                             "must be a digit"),
                         ("5480345234056" + "%02d" % nir_key("5480345234056"), "start with")):
        rc, out, err = ck.run(ck.variant(setter(("patient", "ins"), value)), "--date", DATE)
        t.ok(rc == 2 and "patient.ins" in err and words in err,
             f"a malformed INS ({words}) is refused", err)
    rc, out, err = ck.run(ck.variant(setter(("patient", "birth_date"), "1949-03-12")),
                          "--date", DATE)
    t.ok(rc == 2 and "patient.ins" in err and "birth_date" in err,
         "an INS that disagrees with the date of birth is refused", err)
    rc, out, err = ck.run(ck.variant(setter(("patient", "sex"), "M")), "--date", DATE)
    t.ok(rc == 2 and "patient.sex" in err, "an INS that disagrees with the sex is refused", err)


def dates_and_values(t, ck):
    cases = [
        (("admission_date",), "2026-02-30", "admission_date: \"2026-02-30\" is not a date"),
        (("admission_date",), "23/11/2026", "admission_date: \"23/11/2026\" is not a date"),
        (("admission_date",), "2026-11-24", "discharge_date: is before admission_date"),
        (("patient", "birth_date"), "2999-01-01", "patient.birth_date"),
        (("gp", "rpps"), "10101010106", "gp.rpps"),
        (("establishment", "finess"), "750012345", "establishment.finess"),
        (("patient", "sex"), "X", "patient.sex: \"X\" is not F or M"),
        (("stay_summary", "adverse_events"), "aucun", "stay_summary.adverse_events: expected a list"),
        (("discharge_treatments", 0, "atc"), "C3CA01", "discharge_treatments[0].atc"),
        (("discharge_treatments", 1, "dose"), "", "discharge_treatments[1].dose"),
        (("discharge_treatments", 2, "duration"), None, "discharge_treatments[2].duration: missing"),
        (("discharge_treatments", 0, "end_date"), "2026-13-01",
         "discharge_treatments[0].end_date: \"2026-13-01\" is not a date"),
        (("admission_mode",), "urgences",
         "admission_mode: \"urgences\" is not one of emergency, scheduled, transfer, other"),
        (("discharge_mode",), "ehpad", "discharge_mode: \"ehpad\" is not one of home, "
         "home_with_care, nursing_home, transfer, other"),
        (("allergies",), "aucune", "allergies: expected a list"),
        (("stopped_treatments", 0, "atc"), "C8DB01", "stopped_treatments[0].atc"),
        (("stopped_treatments", 0, "replaced_by"), " ", "stopped_treatments[0].replaced_by: empty"),
        (("stopped_treatments", 0, "reason"), None, "stopped_treatments[0].reason: missing"),
        (("patient", "nom"), "DUPONT", "patient.nom: unknown field"),
        (("reason_for_admission",), 42, "reason_for_admission: expected a text"),
    ]
    for path, value, words in cases:
        rc, out, err = ck.run(ck.variant(setter(path, value)), "--date", DATE)
        t.ok(rc == 2 and words in err, f"{words.split(':')[0]}: reported by its field name",
             f"{rc}\n{err}")
    rc, out, err = ck.run(ck.variant(setter(("discharge_date",), "2026-11-22")), "--date", DATE)
    t.ok(rc == 2 and "--date says 2026-11-23" in err, "--date must agree with discharge_date", err)
    rc, out, err = ck.run(ck.variant(setter(("discharge_date",), DATE)))
    t.ok(rc == 0, "discharge_date in the file, without --date", f"{rc}\n{err}")


FULL = {  # every optional field of the letter, with dates inside the stay of the sample
    "admission_mode": "transfer",
    "discharge_mode": "transfer",
    "discharge_destination": "SMR Les Tilleuls, Olivet",
    "referring_doctor": {"name": "Dr Louis Petit", "rpps": "10345678907",
                         "department": "Cardiologie libérale", "phone": "02 38 11 11 11"},
    "allergies": ["Iode : œdème de Quincke", "Latex"],
}


def full(notice):
    notice.update(json.loads(json.dumps(FULL)))
    notice["discharge_date"] = DATE
    notice["discharge_treatments"][0]["end_date"] = "2026-12-23"
    notice["discharge_treatments"][0]["duration"] = "1 mois"
    notice["stopped_treatments"][0]["date"] = "2026-11-17"
    notice["results_awaited"][0]["expected_by"] = "2026-11-30"
    notice["follow_up"]["planned_acts"][0]["date"] = "2026-11-30"


def whole_letter(t, ck):
    notice = ck.variant(full)
    rc, out, err = ck.run(notice)
    t.eq(rc, 0, "a notice with every field of the letter passes --check", f"{out}\n{err}")
    for words, what in (
            ("Admission: transfer from another establishment", "the mode of admission"),
            ("Discharge to: transfer to another establishment: SMR Les Tilleuls, Olivet",
             "the mode of discharge and the destination"),
            ("Allergies: Iode : œdème de Quincke; Latex", "the allergies"),
            ("Referred by: Dr Louis Petit", "the referring doctor"),
            ("furosémide 40 mg, le matin, orale; duration: 1 mois (until 2026-12-23) [modified]",
             "a treatment's dose, frequency, route, duration and end"),
            ("bisoprolol 2,5 mg, 1 fois par jour, orale; duration: au long cours [new]",
             "a long-term treatment's duration"),
            ("diltiazem (stopped 2026-11-17): inotrope négatif", "the day a treatment was stopped"),
            ("; replaced by bisoprolol", "what replaced it"),
            ("Kaliémie et créatinine de sortie (expected by 2026-11-30) — prélevées",
             "a result awaited, its date and comment"),
            ("Consultation du médecin traitant, 2026-11-30, Dr Claire Martin", "a dated planned act")):
        t.ok(words in out, f"shown back: {what}", out)
    rc, text, err = ck.run(notice, "--json")
    back = json.loads(text).get("notice", {}) if rc == 0 else {}
    t.ok(all(back.get(k) == v for k, v in FULL.items())
         and back["discharge_treatments"][0].get("end_date") == "2026-12-23"
         and back["stopped_treatments"][0].get("replaced_by") == "bisoprolol",
         "--check --json gives every field back unchanged", f"{rc}\n{text}\n{err}")
    for mode in ("emergency", "scheduled", "transfer", "other"):
        rc, _, err = ck.run(ck.variant(setter(("admission_mode",), mode)), "--date", DATE)
        t.eq(rc, 0, f"admission_mode {mode} is accepted", err)
    for mode in ("home", "home_with_care", "nursing_home", "other"):
        rc, _, err = ck.run(ck.variant(setter(("discharge_mode",), mode)), "--date", DATE)
        t.eq(rc, 0, f"discharge_mode {mode} is accepted", err)


def date_order(t, ck):
    def change(notice):
        full(notice)
        notice["results_awaited"][0]["expected_by"] = "2026-11-15"        # admission - 1
        notice["follow_up"]["planned_acts"][1]["date"] = "2026-11-22"    # discharge - 1
        notice["discharge_treatments"][3]["end_date"] = "2026-11-22"
        notice["stopped_treatments"][0]["date"] = "2026-11-24"            # discharge + 1
        del notice["discharge_destination"]                               # a transfer, to where?
    rc, out, err = ck.run(ck.variant(change))
    t.ok(rc == 2 and "5 problems" in err and "nothing was sent" in err,
         "five inconsistent entries: all five reported at once", err)
    for words in ("results_awaited[0].expected_by: 2026-11-15 is before admission_date",
                  "follow_up.planned_acts[1].date: 2026-11-22 is before discharge_date",
                  "discharge_treatments[3].end_date: 2026-11-22 is before discharge_date",
                  "stopped_treatments[0].date: 2026-11-24 is after discharge_date",
                  "discharge_destination: missing: with discharge_mode transfer"):
        t.ok(words in err, f"refused, naming the entry: {words.split(':')[0]}", err)
    t.ok("move a result already received into the stay summary" in err
         and "stopped_treatments" in err.split("end_date: 2026-11-22", 1)[-1],
         "each refusal says what to do", err)

    def edges(notice):
        full(notice)
        notice["results_awaited"][0]["expected_by"] = "2026-11-16"        # = admission
        notice["follow_up"]["planned_acts"][1]["date"] = DATE             # = discharge
        notice["discharge_treatments"][3]["end_date"] = DATE
        notice["stopped_treatments"][0]["date"] = DATE
    rc, out, err = ck.run(ck.variant(edges))
    t.eq(rc, 0, "the bounds themselves are accepted (admission day, discharge day)", err)

    def with_other(notice):
        full(notice)
        notice["results_awaited"][0]["expected_by"] = "2026-11-01"
        del notice["patient"]["family_name"]
    rc, out, err = ck.run(ck.variant(with_other))
    t.ok(rc == 2 and "2 problems" in err and "patient.family_name" in err
         and "results_awaited[0].expected_by" in err,
         "dates are compared even when another field is wrong", err)


def several_and_syntax(t, ck):
    def many(notice):
        del notice["patient"]["family_name"]
        notice["patient"]["ins"] = "2 48 03 45 234 056 00"
        notice["follow_up"]["monitoring"] = ""
    rc, out, err = ck.run(ck.variant(many), "--date", DATE)
    t.ok(rc == 2 and "patient.family_name" in err and "patient.ins" in err
         and "follow_up.monitoring" in err and "3 problems" in err,
         "every problem is listed at once, with the count", err)
    rc, out, err = ck.run(None, "--date", DATE, raw='{"patient": {"family_name": "A",}')
    t.ok(rc == 2 and "not valid JSON at line 1" in err, "a JSON syntax error gives line and column",
         err)
    rc, out, err = ck.run(None, "--date", DATE, raw="[1, 2]")
    t.ok(rc == 2 and "expected an object" in err, "a notice must be a JSON object", err)
    rc, out, err = ck.run(None, "--date", DATE, raw='{"x": "' + "a" * 30000 + '"}')
    t.ok(rc == 2 and "larger than 24 KiB" in err and "--letter" in err,
         "an oversized notice is refused (attach the full letter instead)", err)
    rc, out, err = ck.run(ck.variant(delete(("patient", "ins"))), "--date", DATE, "--pathway",
                          "heart_failure", "--gp", "x", "--pharmacist", "y", "--nurse", "z",
                          check=False)
    t.ok(rc == 2 and "patient.ins" in err and "profile" not in err.lower(),
         "liaison discharge checks the file before opening any profile or connection", err)
    rc, out, err = ck.run(ck.sample, "--date", "2026-11-31")
    t.ok(rc == 2 and "--date" in err, "a malformed --date is a usage error", err)


def french(t, ck):
    """In a French locale the same checks speak French; the field names, the
    file name and the exit codes do not change."""
    fr = "fr_FR.UTF-8"
    rc, out, err = ck.run(ck.variant(setter(("patient", "ins"), "2 48 03 45 234 056 73")),
                          "--date", DATE, lang=fr)
    t.ok(rc == 2 and "notice.json: patient.ins: INS non valide" in err
         and "la clé 73 ne correspond pas" in err and "rien n'a été envoyé" in err
         and "1 problème dans" in err,
         "French: a wrong INS key is explained in French, the field name kept", err)
    rc, out, err = ck.run(ck.variant(delete(("gp", "name"))), "--date", DATE, lang=fr)
    t.ok(rc == 2 and "notice.json: gp.name: manquant : ajoutez le nom du médecin" in err,
         "French: a missing field says what to write, in French", err)
    rc, out, err = ck.run(ck.sample, "--date", DATE, lang=fr)
    t.ok(rc == 0 and "l'avis est complet" in out and "AVIS DE SORTIE (lettre de liaison)" in out
         and "Traitements de sortie :" in out and "Séjour : " in out
         and "LEMAIRE Odette Marie" in out and "Stay:" not in out,
         "French: the checked notice is shown back with French labels", f"{rc}\n{out}\n{err}")


def main(t):
    if not harness.require_programs(t, server=False):
        return
    with tempfile.TemporaryDirectory(prefix="lsn-notice-") as tmp:
        ck = Checker(t, tmp)
        sample_passes(t, ck)
        missing_fields(t, ck)
        ins(t, ck)
        dates_and_values(t, ck)
        whole_letter(t, ck)
        date_order(t, ck)
        several_and_syntax(t, ck)
        french(t, ck)


if __name__ == "__main__":
    run(main, PLAN)
