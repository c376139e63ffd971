#!/usr/bin/env python3
"""test_concil_cli.py — a medication reconciliation and a quality circle
through the real liaison CLI against a real liaisond.

A heart-failure patient leaves hospital (`liaison discharge`); the hospital
pharmacist, added to the case thread, reconciles her treatment from the
example CSVs (docs/examples/bmo.csv and order.csv) with three types of
source, compares, qualifies two discrepancies as unintentional and proposes
their correction; her attempt to set a final resolution is refused; the GP
(the prescriber) resolves one. The GP shares the de-identified copy with a
quality circle of GPs and a pharmacist facilitator, whose review shows the
aggregates (checked against hand-computed numbers) and exports them as CSV;
a session is recorded. A second discharge gets a reconciliation too large for
one message (it goes as an encrypted attachment) and is folded back. The
coordinator's report shows indicator 6 for the scenario, the server's table
holds the expected counts, and no drug name reaches the server's database,
WAL or log. TAP on stdout."""

import csv
import datetime
import glob
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 145

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "docs", "examples")
SAMPLE = os.path.join(EXAMPLES, "discharge-notice.json")
BMO = os.path.join(EXAMPLES, "bmo.csv")
ORDER = os.path.join(EXAMPLES, "order.csv")

TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge"),
    ("morel", "10567890123", "Anne Morel", "hospital_pharmacist", "370000481", "member"),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
    ("dehors", "10456789014", "Dr Marc Dehors", "gp", "450000005", "member"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346", "member"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
    ("lea", None, "Léa Coordination", "coordinator", "450000005", "member,coordinator"),
]

PATIENT1 = {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
            "sex": "F", "ins": "2 48 03 45 234 056 72"}
PATIENT2 = {"family_name": "BOUVIER", "given_names": "Marcel", "birth_date": "1953-07-02",
            "sex": "M", "ins": "1 53 07 75 110 042 52"}
NOTE_PROPOSAL = "Dose doublée sans explication dans le courrier de sortie"
NOTE_DECISION = "Furosémide ramené à 40 mg le matin après appel du service"
CONSENSUS = "Vérifier systématiquement les diurétiques de l'anse à la sortie"

# the circle copy may carry these keys, and nothing else (docs/CONCILIATION.md)
COPY_KEYS = {"type", "version", "pathway", "transition", "status", "started", "compared",
             "closed", "source_types", "bmo", "order", "discrepancies"}
COPY_LINE_KEYS = {"id", "inn", "atc", "strength", "form", "route", "dose", "unit", "frequency",
                  "as_needed", "self_medication"}
COPY_DISC_KEYS = {"type", "origin", "bmo", "order", "other", "intent", "severity", "proposal",
                  "proposed_by", "resolution", "decided_by"}


def example_drugs():
    """Every INN and ATC code of the two example CSVs."""
    inns, atcs = set(), set()
    for path in (BMO, ORDER):
        with open(path, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                inns.add(row["inn"])
                atcs.add(row["atc"])
    return sorted(inns), sorted(atcs)


def folded(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def notice_file(tmp, name, patient):
    with open(SAMPLE, encoding="utf-8") as f:
        notice = json.load(f)
    notice["patient"] = patient
    notice["admission_date"] = str(TODAY - 5 * DAY)
    notice["discharge_date"] = str(TODAY)
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    return path


def ok_run(t, client, name, *args, **kw):
    rc, out, err = client.run(*args, **kw)
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


def discharge(t, c, notice, pathway, name):
    out, _ = ok_run(t, c["roux"], name, "discharge", "--pathway", pathway, "--gp", "Claire Martin",
                    "--pharmacist", "Paul Durand", "--nurse", "Julie Bernard", "--notice", notice)
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    channel = re.search(r"Channel:\s+([0-9a-f]{32})", out)
    return (ref.group(1) if ref else "P-XXXXXXXX"), (channel.group(1) if channel else "0" * 32)


# ---- the reconciliation ------------------------------------------------------------------

def start(t, c, ref, channel):
    rc, out, err = c["morel"].run("conciliation", "start", ref, "--transition", "discharge")
    t.ok(rc == 1 and f"no case {ref} among yours" in err,
         "the hospital pharmacist does not see the case before she is in its thread",
         f"{rc}\n{err}")
    ok_run(t, c["roux"], "the discharge team adds the hospital pharmacist to the case thread",
           "channel", "add", channel, "Anne Morel")
    rc, out, err = c["bernard"].run("conciliation", "start", ref, "--transition", "discharge")
    t.ok(rc == 1 and "only a pharmacist or a prescriber" in err,
         "a nurse cannot start a reconciliation", f"{rc}\n{err}")
    rc, out, err = c["morel"].run("conciliation", "start", ref, "--transition", "sortie")
    t.ok(rc == 2 and "discharge" in err, "an unknown transition is a usage error listing them",
         f"{rc}\n{err}")
    rc, out, err = c["morel"].run("conciliation", "start", ref, "--transition", "discharge",
                                  "--prescriber", "Julie Bernard")
    t.ok(rc == 2 and "not a prescriber" in err, "the prescriber must be a prescriber",
         f"{rc}\n{err}")
    obj = ok_json(t, c["morel"], "the hospital pharmacist starts the reconciliation (concil alias)",
                  "concil", "start", ref, "--transition", "discharge", "--prescriber",
                  "Claire Martin")
    doc = obj.get("document") or {}
    t.ok(re.fullmatch(r"[0-9a-f]{32}", obj.get("episode") or "") and doc.get("status") == "draft"
         and (doc.get("pharmacist") or {}).get("profession") == "hospital_pharmacist"
         and (doc.get("prescriber") or {}).get("name") == "Dr Claire Martin"
         and (doc.get("patient") or {}).get("name") == "LEMAIRE Odette Marie"
         and doc.get("pathway") == "heart_failure",
         "the episode: draft, pharmacist and prescriber, the patient from the notice, pathway",
         f"{obj}")
    counts = obj.get("counts") or {}
    t.ok(counts.get("status") == "draft" and counts.get("lines_bmo") == 0
         and obj.get("seq", 0) > 0, "it is posted in the thread and its counts sent", f"{obj}")
    return obj.get("episode", "0" * 32)


def bad_input(t, c, ref, ep, tmp):
    bad = os.path.join(tmp, "bmo-bad.csv")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("inn,atc,strength,form,route,dose,unit,frequency,as_needed,self_medication,note\n"
                "furosémide,C03CA01,40 mg,comprimé,orale,1,pilule,matin,non,non,\n"
                "bisoprolol,C7AB07,\"2,5 mg\",comprimé,orale,1,comprimé,matin,non,non,\n"
                "ramipril,C09AA05,5 mg,comprimé,orale,1,comprimé,de temps en temps,non,non,\n")
    rc, out, err = c["morel"].run("conciliation", "import", ref, ep[:8], "--bmo", bad)
    t.ok(rc == 2 and "line 2, column unit" in err and "line 3, column atc" in err
         and "line 4, column frequency" in err and "nothing was imported" in err,
         "a malformed CSV: every problem names its line and column, nothing imported",
         f"{rc}\n{err}")
    rc, out, err = c["morel"].run("conciliation", "line", "add", ref, ep[:8], "--list", "bmo",
                                  "inn=furosémide", "atc=C03CA1", "dose=1", "unit=comprimé",
                                  "frequency=matin")
    t.ok(rc == 2 and "atc" in err and "C03CA01" in err,
         "a malformed typed line names the field and shows the expected shape", f"{rc}\n{err}")
    rc, out, err = c["morel"].run("conciliation", "source", "add", ref, ep[:8], "pharmacy")
    t.ok(rc == 2 and "dossier_pharmaceutique" in err, "an unknown source type lists the types",
         f"{rc}\n{err}")
    rc, obj, err = c["morel"].json("conciliation", "show", ref, ep[:8])
    eps = (obj or {}).get("episodes") or [{}]
    t.ok(rc == 0 and len(eps[0].get("updates") or []) == 1,
         "nothing was posted by the refused commands", f"{obj}\n{err}")


def build_bmo(t, c, ref, ep):
    m = c["morel"]
    ok_run(t, m, "source: patient interview", "conciliation", "source", "add", ref, ep[:8],
           "patient_interview", "--note", "Entretien au lit, fille présente")
    ok_run(t, m, "source: dossier pharmaceutique", "conciliation", "source", "add", ref, ep[:8],
           "dossier_pharmaceutique")
    obj = ok_json(t, m, "import the BMO from docs/examples/bmo.csv", "conciliation", "import",
                  ref, ep[:8], "--bmo", BMO)
    t.eq(len((obj.get("document") or {}).get("bmo") or []), 6, "6 BMO lines imported", f"{obj}")
    obj = ok_json(t, m, "import the discharge prescription from docs/examples/order.csv",
                  "conciliation", "import", ref, ep[:8], "--order", ORDER)
    t.eq(len((obj.get("document") or {}).get("order") or []), 6, "6 prescription lines imported",
         f"{obj}")
    rc, out, err = m.run("conciliation", "compare", ref, ep[:8])
    t.ok(rc == 1 and "at least 3 are needed" in err and "2 distinct source types" in err,
         "with 2 source types the BMO cannot be completed: the comparison is refused",
         f"{rc}\n{err}")
    ok_run(t, m, "source: GP prescription (third type)", "conciliation", "source", "add", ref,
           ep[:8], "gp_prescription", "--at", str(TODAY - 30 * DAY))
    obj = ok_json(t, m, "one line typed on the command line", "conciliation", "line", "add",
                  ref, ep[:8], "--list", "bmo", "inn=oméprazole", "atc=A02BC01",
                  "strength=20 mg", "form=gélule", "route=orale", "dose=1", "unit=gélule",
                  "frequency=matin")
    added = [x for x in (obj.get("document") or {}).get("bmo", []) if x.get("inn") == "oméprazole"]
    t.ok(len(added) == 1 and added[0].get("frequency") == "matin", "it is in the BMO", f"{obj}")
    ok_run(t, m, "and removed again", "conciliation", "line", "remove", ref, ep[:8],
           str(added[0].get("id") if added else 0))


def compare(t, c, ref, ep):
    out, _ = ok_run(t, c["morel"], "compare (text)", "conciliation", "compare", ref, ep[:8])
    t.ok("compared: 8 discrepancies" in out and "dose_change" in out and "duplication" in out,
         "compare lists the proposed discrepancies", out)
    obj = ok_json(t, c["morel"], "show --json after the comparison", "conciliation", "show", ref,
                  ep[:8])
    e = (obj.get("episodes") or [{}])[0]
    doc = e.get("document") or {}
    lines = {x["id"]: x for x in doc.get("bmo", []) + doc.get("order", [])}
    found = sorted((d["type"], lines.get(d.get("bmo") or d.get("order"), {}).get("inn"))
                   for d in doc.get("discrepancies", []))
    want = sorted([("dose_change", "furosémide"), ("frequency_change", "furosémide"),
                   ("substitution", "spironolactone"), ("omission", "paracétamol"),
                   ("omission", "alprazolam"), ("incomplete", "ramipril"),
                   ("addition", "dapagliflozine"), ("duplication", "empagliflozine")])
    t.eq(found, want, "the comparison of the example CSVs finds the documented discrepancies")
    t.eq(doc.get("status"), "compared", "the episode is compared")

    def disc(kind, inn):
        for d in doc.get("discrepancies", []):
            if d["type"] == kind and lines.get(d.get("bmo") or d.get("order"), {}).get("inn") == inn:
                return d["id"]
        return 0
    return {"dose": disc("dose_change", "furosémide"), "alpra": disc("omission", "alprazolam"),
            "subst": disc("substitution", "spironolactone")}


def review(t, c, ref, ep, d):
    m = c["morel"]
    rc, out, err = m.run("conciliation", "discrepancy", "set", ref, ep[:8], str(d["dose"]),
                         "--intent", "unintentional")
    t.ok(rc == 2 and "--severity" in err, "an unintentional discrepancy needs a severity",
         f"{rc}\n{err}")
    ok_run(t, m, "the furosémide dose change: unintentional, significant", "conciliation",
           "discrepancy", "set", ref, ep[:8], str(d["dose"]), "--intent", "unintentional",
           "--severity", "significant")
    ok_run(t, m, "the alprazolam omission: unintentional, major", "conciliation", "discrepancy",
           "set", ref, ep[:8], f"#{d['alpra']}", "--intent", "unintentional", "--severity",
           "major")
    ok_run(t, m, "the spironolactone → éplérénone substitution: intentional, documented",
           "conciliation", "discrepancy", "set", ref, ep[:8], str(d["subst"]), "--intent",
           "intentional_documented")
    ok_run(t, m, "the pharmacist proposes to correct the dose", "conciliation", "propose", ref,
           ep[:8], str(d["dose"]), "prescription_corrected", "--note", NOTE_PROPOSAL)
    ok_run(t, m, "and to restore alprazolam", "conciliation", "propose", ref, ep[:8],
           str(d["alpra"]), "prescription_corrected")
    before = ok_json(t, m, "show --json", "conciliation", "show", ref, ep[:8])
    n_before = len(((before.get("episodes") or [{}])[0]).get("updates") or [])
    rc, out, err = m.run("conciliation", "resolve", ref, ep[:8], str(d["dose"]),
                         "prescription_corrected")
    t.ok(rc == 1 and "only a prescriber sets a final resolution" in err
         and f"liaison conciliation propose {ref} {ep[:8]} {d['dose']} prescription_corrected"
         in err and "nothing was posted" in err,
         "the pharmacist's final resolution is refused, saying to propose it", f"{rc}\n{err}")
    after = ok_json(t, m, "show --json again", "conciliation", "show", ref, ep[:8])
    t.eq(len(((after.get("episodes") or [{}])[0]).get("updates") or []), n_before,
         "the refused resolution posted nothing")
    ok_run(t, m, "the pharmacist hands over to the prescriber", "conciliation", "review", ref,
           ep[:8])


def gp_resolves(t, c, ref, ep, d, channel):
    g = c["martin"]
    out, _ = ok_run(t, g, "the GP reads the reconciliation", "conciliation", "show", ref)
    t.ok("BMO (BEFORE)" in out and "DISCHARGE PRESCRIPTION" in out
         and re.search(r"furosémide 40 mg, 1 comprimé matin\s+\d+\s+furosémide 40 mg, 2 comprimé "
                       r"matin et midi\s+#\d+ dose_change!", out)
         and "LEMAIRE Odette Marie" in out and "awaiting_prescriber" in out,
         "show: the BMO beside the prescription, the discrepancies marked, the patient (local)",
         out)
    t.ok(NOTE_PROPOSAL in out and "prescription_corrected (pharmacist)" in out
         and "Next: the prescriber decides" in out,
         "show: the proposal with its note, and what to do next", out)
    out, _ = ok_run(t, g, "the GP resolves the dose change", "conciliation", "resolve", ref,
                    ep[:8], str(d["dose"]), "prescription_corrected", "--note", NOTE_DECISION)
    t.ok("decided prescription_corrected" in out and "1 resolved" in out,
         "resolve confirms, and says what the server got", out)
    rc, out, err = g.run("conciliation", "resolve", ref, ep[:8], str(d["dose"]),
                         "maintained_with_justification", "--note", "x")
    t.ok(rc == 1 and "already decided" in err, "a decision is final", f"{rc}\n{err}")
    rc, out, err = g.run("conciliation", "close", ref, ep[:8])
    t.ok(rc == 1 and "still pending" in err, "closing with pending discrepancies is refused",
         f"{rc}\n{err}")
    obj = ok_json(t, c["morel"], "the pharmacist sees the decision", "conciliation", "show", ref,
                  ep[:8])
    e = (obj.get("episodes") or [{}])[0]
    dd = {x["id"]: x for x in (e.get("document") or {}).get("discrepancies", [])}
    dose = dd.get(d["dose"], {})
    t.ok(dose.get("resolution") == "prescription_corrected" and dose.get("decided_by") ==
         "prescriber" and dose.get("note") == NOTE_DECISION and dose.get("proposed_by") ==
         "pharmacist", "folded from the thread: decided by the prescriber, with the note",
         f"{dose}")
    t.ok(e.get("unintentional") == 2 and e.get("resolved") == 1 and e.get("discrepancies") == 8,
         "2 unintentional discrepancies, 1 resolved, of 8", f"{e}")
    senders = [u.get("sender_name") for u in e.get("updates") or []]
    t.ok(senders[0] == "Anne Morel" and senders[-1] == "Dr Claire Martin" and len(senders) == 16
         and not e.get("rejected"),
         "the history: every update, in order, none rejected", f"{senders}\n{e.get('rejected')}")
    out, _ = ok_run(t, g, "the GP reads the case thread", "read", channel)
    t.ok("[medication reconciliation" in out and "decided prescription_corrected" in out
         and f"liaison conciliation show" in out,
         "read shows each reconciliation message as a summary", out[-3000:])
    return e


def in_french(t, c, ref, ep, ch):
    """The same commands for a French clinician: French words, the codes unchanged."""
    fr = {"LC_ALL": "fr_FR.UTF-8", "LANG": "fr_FR.UTF-8", "LANGUAGE": None}
    g = c["martin"]
    rc, out, err = g.run("conciliation", "show", ref, ep[:8], env=fr)
    t.ok(rc == 0 and "Conciliation médicamenteuse" in out and "BMO (AVANT)" in out
         and "PRESCRIPTION DE SORTIE" in out and "Statut:" in out
         and "Ensuite : le prescripteur décide d" in out
         and "awaiting_prescriber" in out and "dose_change" in out,
         "conciliation show in French: headings, labels and next step; codes unchanged",
         f"{rc}\n{out}\n{err}")
    rc, out, err = g.run("conciliation", "close", ref, ep[:8], env=fr)
    t.ok(rc == 1 and "encore en attente" in err
         and "rien n'a été publié" in err and "still pending" not in err,
         "a refused change is explained in French", f"{rc}\n{err}")
    rc, out, err = g.run("conciliation", "show", env=fr)
    t.ok(rc == 2 and "conciliation show demande un DOSSIER ; voir liaison conciliation --help"
         in err, "a usage error of conciliation is in French", f"{rc}\n{err}")
    rc, out, err = g.run("circle", "share", ch, ref, ep[:8], "--dry-run", env=fr)
    t.ok(rc == 2 and "pas un cercle de qualité" in err,
         "circle share explains in French that a case channel is not a circle", f"{rc}\n{err}")
    rc, obj, err = g.json("conciliation", "close", ref, ep[:8], env=fr)
    t.ok(rc == 1 and "still pending" in err and "en attente" not in err,
         "with --json the error stays English for scripts", f"{rc}\n{err}")
    rc, out, err = g.run("conciliation", "close", ref, ep[:8], env={"LC_ALL": "C"})
    t.ok(rc == 1 and "still pending" in err and "encore" not in err,
         "in the C locale the same error is English", f"{rc}\n{err}")


def forged_decision(t, c, ref, ep, d):
    """A modified client that believes its user is a GP posts a decision: the
    others' clients fold the thread and reject it."""
    m = c["morel"]
    env = m.env()
    env["LIAISON_TEST_CONCIL_PROFESSION"] = "gp"
    res = subprocess.run([harness.LIAISON, "--profile", m.profile, "conciliation", "resolve", ref,
                          ep[:8], str(d["alpra"]), "prescription_corrected"], capture_output=True,
                         text=True, env=env, stdin=subprocess.DEVNULL, timeout=120 * harness.SLOW)
    harness.sanitizer_check(t, "liaison conciliation resolve", res.stderr)
    t.eq(res.returncode, 0, "a client lying about its profession posts a decision",
         f"{res.stdout}\n{res.stderr}")
    obj = ok_json(t, c["martin"], "the GP folds the thread", "conciliation", "show", ref, ep[:8])
    e = (obj.get("episodes") or [{}])[0]
    dd = {x["id"]: x for x in (e.get("document") or {}).get("discrepancies", [])}
    rejected = e.get("rejected") or []
    t.ok(dd.get(d["alpra"], {}).get("resolution") == "pending" and len(rejected) == 1
         and rejected[0].get("sender_name") == "Anne Morel"
         and "only a prescriber decides" in rejected[0].get("reason", ""),
         "the forged decision is rejected: the discrepancy stays pending", f"{rejected}\n{e}")
    out, _ = ok_run(t, c["martin"], "show (text)", "conciliation", "show", ref, ep[:8])
    t.ok(re.search(r"REJECTED, from Anne Morel: it sets the final resolution of discrepancy "
                   rf"{d['alpra']}", out), "show says which message was rejected and why", out)
    obj = ok_json(t, c["martin"], "the GP sends the episode's counts again", "conciliation",
                  "counts", ref, ep[:8])
    t.ok(obj.get("sent") is True and (obj.get("counts") or {}).get("resolved") == 1,
         "the counts the server keeps are those of the folded episode again", f"{obj}")


def counts_on_server(t, srv, ep):
    db = sqlite3.connect(f"file:{os.path.join(srv.data, 'liaison.db')}?mode=ro", uri=True)
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(conciliation_counts)")]
        rows = [dict(zip(cols, r)) for r in db.execute("SELECT * FROM conciliation_counts")]
    finally:
        db.close()
    row = next((r for r in rows if (r.get("episode") or b"").hex() == ep), {})
    t.ok(row.get("status") == "awaiting_prescriber" and row.get("discrepancies") == 8
         and row.get("unintentional") == 2 and row.get("resolved") == 1
         and row.get("source_types") == 3 and row.get("lines_bmo") == 6
         and row.get("lines_order") == 6,
         "the server's table holds the episode's counts", f"{row}")
    by_type = json.loads(row.get("by_type") or "{}")
    t.eq(by_type, {"omission": 2, "dose_change": 1, "frequency_change": 1, "substitution": 1,
                   "incomplete": 1, "addition": 1, "duplication": 1},
         "by_type on the server matches the comparison")


# ---- the circle ------------------------------------------------------------------------------

# A second reconciliation of the same discharge whose BMO and prescription
# hold only furosémide, bisoprolol and ramipril: no discrepancy. Shared first,
# it is the group the example reconciliation is generalised against.
SMALL_CSV = ("inn,atc,strength,form,route,dose,unit,frequency,as_needed,self_medication,note\n"
             "furosémide,C03CA01,40 mg,comprimé,orale,1,comprimé,matin,non,non,\n"
             "bisoprolol,C07AB07,\"2,5 mg\",comprimé,orale,1,comprimé,matin,non,non,\n"
             "ramipril,C09AA05,5 mg,comprimé,orale,1,comprimé,1/j,non,non,\n")
# What the circle may hear of the example reconciliation with k = 2 and that
# one copy: by hand, per line, the ATC code the copy carries (None: no code)
RARE = {"spironolactone": "C03", "éplérénone": "C03", "paracétamol": None, "alprazolam": None,
        "dapagliflozine": None, "empagliflozine": None}
COMMON = {"furosémide": "C03CA01", "bisoprolol": "C07AB07", "ramipril": "C09AA05"}


def small_episode(t, c, ref, tmp):
    small = os.path.join(tmp, "small.csv")
    with open(small, "w", encoding="utf-8") as f:
        f.write(SMALL_CSV)
    m = c["morel"]
    obj = ok_json(t, m, "a second reconciliation of the discharge", "conciliation", "start", ref,
                  "--transition", "discharge", "--prescriber", "Claire Martin")
    ep2 = obj.get("episode", "0" * 32)
    for source in ("patient_interview", "dossier_pharmaceutique", "gp_prescription"):
        ok_run(t, m, f"its source {source}", "conciliation", "source", "add", ref, ep2[:8], source)
    ok_run(t, m, "its BMO", "conciliation", "import", ref, ep2[:8], "--bmo", small)
    ok_run(t, m, "its prescription", "conciliation", "import", ref, ep2[:8], "--order", small)
    out, _ = ok_run(t, m, "it is compared", "conciliation", "compare", ref, ep2[:8])
    t.ok("compared: 0 discrepancies" in out, "no discrepancy in it", out)
    return ep2


def circle(t, c, ref, ep, case_channel, tmp):
    obj = ok_json(t, c["durand"], "the pharmacist facilitator creates the quality circle",
                  "channel", "create", "--kind", "circle", "--topic", "Cercle qualité iatrogénie")
    ch = obj.get("channel", "0" * 32)
    ok_run(t, c["durand"], "adds the first GP", "channel", "add", ch, "Claire Martin")
    ok_run(t, c["durand"], "adds the second GP", "channel", "add", ch, "Marc Dehors")
    rc, out, err = c["martin"].run("circle", "share", case_channel, ref, ep[:8])
    t.ok(rc == 2 and "not a quality circle" in err, "sharing into a case channel is refused",
         f"{rc}\n{err}")
    # k = 5 by default: in an empty circle the copy would be alone of its kind
    rc, out, err = c["martin"].run("circle", "share", ch, ref, ep[:8], "--dry-run")
    t.ok(rc == 1 and "would hold 1 reconciliation with this pathway (heart_failure)" in err
         and "fewer than k = 5" in err and "Nothing was shared" in err and "--k N" in err,
         "alone in the circle, the copy is refused with k = 5, saying what to do", f"{rc}\n{err}")
    rc, out, err = c["martin"].run("circle", "share", ch, ref, ep[:8], "--k", "0")
    t.ok(rc == 2 and "--k" in err, "k is a whole number from 1", f"{rc}\n{err}")
    ep2 = small_episode(t, c, ref, tmp)
    obj = ok_json(t, c["martin"], "the second reconciliation is shared with --k 1 (the circle "
                  "starts)", "circle", "share", ch, ref, ep2[:8], "--k", "1")
    gen = obj.get("generalisation") or {}
    t.ok(gen.get("k") == 1 and gen.get("group") == 1
         and re.fullmatch(r"\d{4}-Q[1-4]", (obj.get("message") or {}).get("copy", {})
                          .get("started") or ""),
         "with k = 1 only the month becomes the quarter", f"{obj}")
    out, _ = ok_run(t, c["martin"], "the GP keeps k = 2 for this circle", "circle", "k", ch, "2")
    t.ok("k = 2" in out, "circle k sets it", out)
    out, _ = ok_run(t, c["martin"], "circle share --dry-run", "circle", "share", ch, ref, ep[:8],
                    "--dry-run")
    quarter = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"
    t.ok("Dry run: nothing was sent" in out and '"type": "circle_case"' in out
         and "LEMAIRE" not in out and "furosémide" in out
         and "Generalised for k = 2" in out and f"→ {quarter} (the quarter" in out
         and re.search(r"bmo line \d+ spironolactone C03DA01 → C03: held by 1 of 2", out)
         and re.search(r"bmo line \d+ alprazolam N05BA12 → no code", out)
         and re.search(r"order line \d+ dapagliflozine A10BK01 → no code", out)
         and "suppressed: the months of the comparison and of the closing" in out
         and "drugs: 6 kept as their substance (held by at least 2), 2 shared as their class, "
             "4 without code" in out,
         "the dry run shows what would be sent and what was generalised, and why", out)
    rc, out, err = c["martin"].run("circle", "share", ch, ref, ep[:8], "--dry-run",
                                   env={"LC_ALL": "fr_FR.UTF-8", "LANG": "fr_FR.UTF-8"})
    t.ok(rc == 0 and "Essai à blanc : rien n'a été envoyé" in out
         and "Généralisée pour k = 2" in out and "(le trimestre, pas le mois)" in out
         and "supprimés : les mois de la comparaison et de la clôture" in out
         and '"type": "circle_case"' in out and "LEMAIRE" not in out,
         "circle share --dry-run in French: the explanations, the same JSON", f"{rc}\n{out}\n{err}")
    rc, obj, err = c["dehors"].json("read", ch)
    t.ok(rc == 0 and len([m for m in (obj or {}).get("messages", [])
                          if m.get("type") == "circle_case"]) == 1,
         "the dry run sent nothing", f"{obj}\n{err}")
    dry = ok_json(t, c["martin"], "circle share --dry-run --json", "circle", "share", ch, ref,
                  ep[:8], "--dry-run")
    gen = dry.get("generalisation") or {}
    shared = {x.get("inn"): x.get("shared") for x in gen.get("lines") or []}
    t.ok(gen.get("k") == 2 and gen.get("group") == 2 and gen.get("held") == 1
         and gen.get("period") == quarter and gen.get("suppressed") == ["compared", "closed"]
         and all(shared.get(k) == v for k, v in {**RARE, **COMMON}.items()),
         "--json: each line's code, computed by hand", f"{gen}")
    first = ok_json(t, c["martin"], "the GP shares the reconciliation with the circle", "circle",
                    "share", ch, ref, ep[:8])
    t.eq(first.get("message"), dry.get("message"), "what was sent is what the dry run showed")
    again = ok_json(t, c["martin"], "sharing it again", "circle", "share", ch, ref, ep[:8])
    t.ok(again.get("replaces") == first.get("seq") and again.get("seq", 0) > first.get("seq", 0),
         "the new copy replaces the old one", f"{first}\n{again}")
    deidentified(t, c, ch, again.get("seq"))
    return ch, again.get("seq", 0), first.get("seq", 0), obj.get("seq", 0)


def deidentified(t, c, ch, seq):
    rc, obj, err = c["dehors"].json("read", ch)
    msg = next((m for m in (obj or {}).get("messages", []) if m.get("seq") == seq), {})
    content = msg.get("content") or {}
    copy = content.get("copy") or {}
    # channel, sender and mlog (the sender's membership-log head) are the
    # thread layer's, in every message
    t.ok(msg.get("type") == "circle_case" and set(content) <= {"type", "version", "ref", "copy",
                                                               "channel", "sender", "link", "mlog"},
         "a GP of the circle decrypts the shared case: only type, version, ref and copy",
         f"{msg}\n{err}")
    problems = []
    if set(copy) - COPY_KEYS:
        problems.append(f"copy keys {set(copy) - COPY_KEYS}")
    for key in ("bmo", "order"):
        for line in copy.get(key, []):
            if set(line) - COPY_LINE_KEYS:
                problems.append(f"{key} keys {set(line) - COPY_LINE_KEYS}")
    for d in copy.get("discrepancies", []):
        if set(d) - COPY_DISC_KEYS:
            problems.append(f"discrepancy keys {set(d) - COPY_DISC_KEYS}")
        for role in ("proposed_by", "decided_by"):
            if d.get(role) not in (None, "pharmacist", "prescriber"):
                problems.append(f"{role} {d.get(role)}")
    if not re.fullmatch(r"\d{4}-Q[1-4]", copy.get("started") or ""):
        problems.append(f"started {copy.get('started')}")
    for key in ("compared", "closed"):
        if copy.get(key) is not None:
            problems.append(f"{key} {copy[key]}")
    # the rare drugs do not survive: no INN, no substance, no strength or dose
    codes = {}
    for line in copy.get("bmo", []) + copy.get("order", []):
        if line.get("inn") is None:
            codes.setdefault(None, []).append(line.get("atc"))
            if set(line) & {"strength", "dose", "unit"}:
                problems.append(f"generalised line with {set(line) & {'strength', 'dose', 'unit'}}")
        else:
            codes.setdefault(line["inn"], []).append(line.get("atc"))
    for inn, atc in COMMON.items():
        if set(codes.get(inn, [])) != {atc}:
            problems.append(f"{inn}: {codes.get(inn)}")
    if sorted(codes.get(None, []), key=str) != sorted(RARE.values(), key=str):
        problems.append(f"generalised codes {codes.get(None)}")
    rare_atcs = ("C03DA01", "C03DA04", "N02BE01", "N05BA12", "A10BK01", "A10BK03", "N02", "N05",
                 "A10")
    text = json.dumps(content, ensure_ascii=False)
    for secret in ("LEMAIRE", "Odette", "1948", "248034523405672", "Anne Morel", "Claire Martin",
                   NOTE_PROPOSAL, NOTE_DECISION, "Entretien au lit", str(TODAY),
                   TODAY.strftime("%Y-%m"), *RARE, *(folded(x) for x in RARE), *rare_atcs,
                   "0,25 mg", "0.25 mg", "10 mg", "25 mg"):
        if secret in text:
            problems.append(f"contains {secret!r}")
    t.ok(not problems and len(copy.get("bmo", [])) == 6 and len(copy.get("discrepancies", [])) == 8,
         "checked field by field: no patient field, no free text, no name, the quarter only, "
         "no rare drug",
         f"{problems}\n{copy}")


def circle_review(t, c, ch, seq, first_seq):
    out, _ = ok_run(t, c["durand"], "the facilitator reviews the circle", "circle", "review", ch)
    quarter = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"
    t.ok("Cases shared in the circle: 2" in out and "Share resolved: 12.5 %" in out
         and "Dr Claire Martin" in out and f"#{seq} replaces #{first_seq}" in out
         and quarter in out,
         "review: two cases (the re-shared copy replaced the first), quarters, share resolved",
         out)
    out, _ = ok_run(t, c["dehors"], "a GP exports the aggregates", "circle", "review", ch, "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    got = {(r["dimension"], r["key"]): (int(r["count"]), r["share"]) for r in rows}
    t.ok(rows and list(rows[0]) == ["dimension", "key", "count", "share"],
         "the CSV parses, with its header", out)
    # by hand, from docs/examples/bmo.csv × order.csv: 8 discrepancies, one decided
    # (the small reconciliation has none); the ATC class is that of the BMO line,
    # else of the order line, as the copy carries it (RARE, COMMON)
    want = {
        ("cases", "all"): (2, ""),
        ("discrepancies", "all"): (8, "1.000"),
        ("resolved", "all"): (1, "0.125"),
        ("type", "omission"): (2, "0.250"),            # paracétamol, alprazolam
        ("type", "dose_change"): (1, "0.125"),         # furosémide 1 → 2 comprimés
        ("type", "frequency_change"): (1, "0.125"),    # furosémide matin → matin et midi
        ("type", "substitution"): (1, "0.125"),        # spironolactone → éplérénone
        ("type", "incomplete"): (1, "0.125"),          # ramipril without frequency
        ("type", "addition"): (1, "0.125"),            # dapagliflozine
        ("type", "duplication"): (1, "0.125"),         # empagliflozine with dapagliflozine
        ("type", "route_change"): (0, "0.000"),
        ("intent", "unintentional"): (2, "0.250"),
        ("intent", "intentional_documented"): (1, "0.125"),
        ("intent", "undetermined"): (5, "0.625"),
        ("severity", "significant"): (1, "0.125"),
        ("severity", "major"): (1, "0.125"),
        ("atc3", "C03"): (3, "0.375"),                 # furosémide ×2, spironolactone (C03)
        ("atc3", "C09"): (1, "0.125"),                 # ramipril
        ("atc3", "?"): (4, "0.500"),                   # paracétamol, alprazolam, dapa-, empa-
        ("atc5", "C03CA"): (2, "0.250"),
        ("atc5", "C09AA"): (1, "0.125"),
        ("atc5", "?"): (5, "0.625"),                   # the four, and spironolactone (C03)
    }
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    t.ok(not wrong, "the aggregates match the hand-computed values", f"{wrong}\n{out}")
    t.eq(sum(v[0] for k, v in got.items() if k[0] == "atc3"), 8,
         "every discrepancy counts once by ATC class")
    t.ok(not [k for k in got if k[0] in ("atc3", "atc5") and k[1][:1] in ("A", "N")],
         "no class the circle does not hold twice", out)
    obj = ok_json(t, c["dehors"], "review --json", "circle", "review", ch)
    agg = obj.get("aggregates") or {}
    t.ok(len(obj.get("cases") or []) == 2 and agg.get("discrepancies") == 8
         and agg.get("resolved") == 1, "review --json: the cases and the aggregates", f"{obj}")


def circle_session(t, c, ch, seq):
    d = c["durand"]
    base = ["circle", "session", ch, "--date", str(TODAY), "--attendee", "Claire Martin",
            "Marc Dehors", "Paul Durand", "--consensus", CONSENSUS]
    rc, out, err = d.run(*base, "--theme", "C3")
    t.ok(rc == 2 and "ATC prefix" in err, "the theme must be an ATC prefix", f"{rc}\n{err}")
    rc, out, err = d.run(*base, "--theme", "C03", "--cases", "99999")
    t.ok(rc == 2 and "no case shared" in err, "a reviewed case must be one shared in the circle",
         f"{rc}\n{err}")
    rc, out, err = d.run(*base, "--theme", "C03", "--attendee", "Julie Bernard")
    t.ok(rc == 2 and "not a member of the circle" in err, "attendees are members of the circle",
         f"{rc}\n{err}")
    out, _ = ok_run(t, d, "the facilitator records the session", *base, "--theme", "c03",
                    "--cases", str(seq), "--action", "Fiche réflexe diurétiques",
                    "--action", "Rappel aux services de sortie", "--follow-up",
                    str(TODAY + 90 * DAY))
    t.ok("theme C03" in out and "3 attendees, 1 case reviewed, 2 actions" in out,
         "session recorded", out)
    out, _ = ok_run(t, c["martin"], "review with the session", "circle", "review", ch)
    t.ok("Sessions:" in out and CONSENSUS in out and "Fiche réflexe diurétiques" in out
         and f"Cases reviewed: #{seq}" in out and str(TODAY + 90 * DAY) in out,
         "review shows the session: consensus, actions, cases, follow-up", out)


# ---- a reconciliation too large for one message ---------------------------------------------

def large_episode(t, c, ref2, tmp):
    with open(BMO, encoding="utf-8") as f:
        header, *rows = f.read().splitlines()
    big = os.path.join(tmp, "bmo-large.csv")
    with open(big, "w", encoding="utf-8") as f:
        f.write("\n".join([header] + rows * 34) + "\n")
    obj = ok_json(t, c["durand"], "the community pharmacist starts a reconciliation in the "
                  "second case", "conciliation", "start", ref2, "--transition",
                  "community_post_discharge")
    ep = obj.get("episode", "0" * 32)
    obj = ok_json(t, c["durand"], "imports a BMO of 204 lines", "conciliation", "import", ref2,
                  ep[:8], "--bmo", big)
    t.ok(re.fullmatch(r"[0-9a-f]{32}", obj.get("attachment") or ""),
         "too large for one message: posted as an encrypted attachment", f"{obj.get('attachment')}")
    ok_run(t, c["durand"], "adds a source to it", "conciliation", "source", "add", ref2, ep[:8],
           "patient_interview")
    obj = ok_json(t, c["martin"], "the GP folds it back from the attachments", "conciliation",
                  "show", ref2, ep[:8])
    e = (obj.get("episodes") or [{}])[0]
    t.ok(len((e.get("document") or {}).get("bmo") or []) == 204
         and len((e.get("document") or {}).get("sources") or []) == 1
         and all(u.get("attachment") for u in (e.get("updates") or [])[1:])
         and len(e.get("updates") or []) == 3,
         "show: 204 lines and the source, every large update read from its attachment",
         f"{len((e.get('document') or {}).get('bmo') or [])} {e.get('updates')}")


# ---- the report and the server's files -------------------------------------------------------

def report(t, c):
    period = ["--from", str(TODAY - DAY), "--to", str(TODAY + DAY)]
    out, _ = ok_run(t, c["lea"], "the coordinator runs the report", "report", *period, "--csv")
    by_id = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}

    def row(i, num, den, value=None):
        r = by_id.get(i, {})
        t.ok(r.get("numerator") == str(num) and r.get("denominator") == str(den)
             and (value is None or r.get("value") == value),
             f"indicator {i}: {num}/{den}" + (f" = {value}" if value else ""), f"{r}")

    # two discharge-type cases with J0 today: their J7 ends after this period
    row("6a", 0, 0)
    t.eq(by_id.get("6a", {}).get("not_yet_due"), "0", "indicator 6a: nothing due in the period")
    # 2 unintentional discrepancies in the two compared reconciliations (the example and
    # the small one shared with the circle; the third is a draft)
    row("6b", 2, 2, "1.0")
    # 1 of its 8 discrepancies resolved
    row("6c", 1, 8, "12.5")
    t.eq(by_id.get("6d", {}).get("n"), "1", "indicator 6d: one resolution time")
    # the session of today, three attendees (counted by the server without its content)
    t.ok(by_id.get("9a", {}).get("value") == "1" and by_id.get("9b", {}).get("value") == "3"
         and by_id.get("9c", {}).get("value") == "3",
         "indicators 9a-9c: one circle session, three participants, three distinct",
         f"{by_id.get('9a')} {by_id.get('9b')} {by_id.get('9c')}")
    # up to J8 the two cases' J7 is in the period but not over: not yet due, not missed
    out, _ = ok_run(t, c["lea"], "the report up to J8", "report", "--from", str(TODAY - DAY),
                    "--to", str(TODAY + 8 * DAY), "--csv")
    by_id = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    row("6a", 0, 0)
    t.eq(by_id.get("6a", {}).get("not_yet_due"), "2", "indicator 6a: two cases not yet due")


def no_drug_on_server(t, srv):
    inns, atcs = example_drugs()
    needles = set()
    for inn in inns + ["oméprazole"]:
        needles |= {inn, folded(inn), inn.upper(), folded(inn).upper()}
    needles |= set(atcs) | {"LEMAIRE", "BOUVIER", NOTE_PROPOSAL, NOTE_DECISION, CONSENSUS,
                            "Entretien au lit"}
    data = {}
    for p in glob.glob(os.path.join(srv.data, "*")) + [srv.log_path]:
        try:
            with open(p, "rb") as f:
                data[p] = f.read()
        except OSError:
            pass
    t.ok(any(p.endswith("liaison.db") for p in data) and any(p.endswith("-wal") for p in data)
         and any("Anne Morel".encode() in d for d in data.values()),
         "control: the database and its WAL are searched, and hold what the server may know",
         repr(list(data)))
    leaks = [(os.path.basename(p), n) for p, d in data.items() for n in sorted(needles)
             if n.encode() in d]
    t.ok(not leaks, f"no drug name ({len(inns)} INNs, {len(atcs)} ATC codes), patient name or "
         "note in the server database, WAL or log", repr(leaks))
    profiles = {}
    for p in glob.glob(os.path.join(srv.clients_home, "profiles", "*", "*")):
        with open(p, "rb") as f:
            profiles[p] = f.read()
    leaks = [(p, n) for p, d in profiles.items() for n in inns if n.encode() in d]
    t.ok(profiles and not leaks, "nor in clear in the profiles (the cache is sealed)", repr(leaks))


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        c = enrol_all(t, srv)
        ref, channel = discharge(t, c, notice_file(srv.tmp, "n1.json", PATIENT1), "heart_failure",
                                 "liaison discharge (heart failure)")
        ref2, _ = discharge(t, c, notice_file(srv.tmp, "n2.json", PATIENT2), "hospital_discharge",
                            "a second discharge")
        ep = start(t, c, ref, channel)
        bad_input(t, c, ref, ep, srv.tmp)
        build_bmo(t, c, ref, ep)
        d = compare(t, c, ref, ep)
        review(t, c, ref, ep, d)
        gp_resolves(t, c, ref, ep, d, channel)
        in_french(t, c, ref, ep, channel)
        forged_decision(t, c, ref, ep, d)
        counts_on_server(t, srv, ep)
        ch, seq, first, _ = circle(t, c, ref, ep, channel, srv.tmp)
        circle_review(t, c, ch, seq, first)
        circle_session(t, c, ch, seq)
        large_episode(t, c, ref2, srv.tmp)
        report(t, c)
        no_drug_on_server(t, srv)


if __name__ == "__main__":
    run(main, PLAN)
