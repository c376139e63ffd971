#!/usr/bin/env python3
"""test_pathway_cli_notice.py — the discharge notice file as the real
`liaison discharge` checks it before anything is sent: the shipped sample
passes; each missing or malformed field of the lettre de liaison (R1112-1-2)
is reported with its name and what to do; the INS key is checked (97 − NIR
mod 97, Corsica 2A/2B counted as 19/18) and compared with the date of birth
and sex; the dates must be real and in order; --date fills or must agree
with discharge_date; every problem is listed at once and nothing leaves the
computer (no profile is even opened). TAP on stdout."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import run  # noqa: E402

PLAN = 55

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

    def run(self, notice, *extra, check=True, raw=None):
        path = os.path.join(self.tmp, "notice.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(raw if raw is not None else json.dumps(notice, ensure_ascii=False))
        env = dict(os.environ, LIAISON_HOME=self.home)
        env.pop("LIAISON_PASSPHRASE", None)
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


def main(t):
    if not harness.require_programs(t, server=False):
        return
    with tempfile.TemporaryDirectory(prefix="lsn-notice-") as tmp:
        ck = Checker(t, tmp)
        sample_passes(t, ck)
        missing_fields(t, ck)
        ins(t, ck)
        dates_and_values(t, ck)
        several_and_syntax(t, ck)


if __name__ == "__main__":
    run(main, PLAN)
