#!/usr/bin/env python3
"""test_web_indicators.py — "Indicateurs" in the browser (docs/WEB.md
"Indicateurs"): a real liaisond serves web/dist; the fixture is made over
the real protocol and CLI: a CPTS, a discharge doctor, a GP, a CLI
coordinator who opens cases with J0 in the current semester and in the
three before it (a coordinator may back-date J0), completes and skips
steps; a discharge notice the GP acknowledges; targets set (8a met, 2 not
met, 4 without data); the testing clock moves one day so that today's
J0 steps are due. A second coordinator enrolled in Chromium
(web_indicators.mjs) opens #/indicators for each of the four semesters.

Checks: every figure the page shows (value, numerator, denominator, n, not
yet due, target, met, per pathway, and each trend table) equals `liaison
report --semester S --json`; some figures equal numbers computed by hand
here; the downloaded CSV equals `liaison report --semester S --csv-fr`
byte for byte; the printed page (print media, PDF of more than one page)
has no navigation or buttons; axe-core; no console error; a nurse's
browser has no « Indicateurs » link and is told why at the URL.
(tests/web/test_indicators.mjs runs on its own: web_indicators_unit.)

LSN_SCREENSHOTS=DIR: web-indicators-1-view.png and web-indicators-2-chart.png.
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

DRIVER = "web_indicators.mjs"
ENROL_CHECKS = 2
MAIN_CHECKS = 14
NURSE_CHECKS = 3
N_SEMESTERS = 4
# ready, CLI enrols (5), cases (6 + 1 notice + 3 acks + 5 steps), targets 3,
# clock, two browser enrols, user id, main, per semester: figures, trend,
# CSV; hand-computed 5; nurse; the server's stop (3)
PLAN = (1 + 5 + 15 + 3 + 1 + ENROL_CHECKS * 2 + 1 + MAIN_CHECKS + N_SEMESTERS * 3 + 5
        + NURSE_CHECKS + 3)

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")
PASSPHRASE = "une phrase de passe de test"
TODAY = harness.server_today()
PATIENT = {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
           "sex": "F", "ins": "2 48 03 45 234 056 72"}


def semester_of(d):
    return f"{d.year}-S{1 if d.month <= 6 else 2}"


def previous(s):
    y, h = int(s[:4]), int(s[-1])
    return f"{y}-S1" if h == 2 else f"{y - 1}-S2"


def start_of(s):
    return datetime.date(int(s[:4]), 1 if s[-1] == "1" else 7, 1)


CURRENT = semester_of(TODAY)
SEMESTERS = [CURRENT]
while len(SEMESTERS) < N_SEMESTERS:
    SEMESTERS.append(previous(SEMESTERS[-1]))


def fixed1(x):
    """C's printf %.1f (the CLI's); Python's format rounds half to even on the exact double too."""
    return f"{x:.1f}"


def french_value(fig, unit):
    """What the page shows as a value: "33,3 %", "4", "—"."""
    v = fig.get("value")
    if v is None:
        return "—"
    text = fixed1(v) if ("numerator" in fig or "n" in fig) else str(v)
    text = text.replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text


def french_target(target, unit):
    sign = "≤" if target.get("direction") == "le" else "≥"
    return f"{sign} {fixed1(target['value']).replace('.', ',')}" + (f"\u00a0{unit}" if unit else "")


def met_words(target):
    if not target:
        return "pas d’objectif"
    return {True: "atteint", False: "non atteint"}.get(target.get("met"), "pas de donnée")


def expected_row(fig, unit, target=None, whole=True):
    kind = "ratio" if "numerator" in fig else "median" if "n" in fig else "count"
    row = {"value": french_value(fig, unit),
           "numerator": str(fig["numerator"]) if kind == "ratio" else "",
           "denominator": str(fig["denominator"]) if kind == "ratio" else "",
           "n": str(fig["n"]) if kind == "median" else "",
           "not_yet_due": str(fig.get("not_yet_due") or 0) if kind == "ratio" else ""}
    if whole:
        row["target"] = french_target(target, unit) if target else "—"
        row["met"] = met_words(target)
    return row


def compare_semester(t, sem, report, page):
    """Every indicator of the CLI's JSON against what the page showed."""
    shown = {a["id"]: a for a in (page or {}).get("indicators", [])}
    bad = []
    for ind in report.get("indicators", []):
        a = shown.get(ind["id"])
        if a is None:
            bad.append(f"{ind['id']}: not on the page")
            continue
        unit = ind.get("unit") or ""
        want = {"": expected_row(ind, unit, ind.get("target"))}
        for code, fig in (ind.get("by_pathway") or {}).items():
            want[code] = expected_row(fig, unit, whole=False)
        got = {r["pathway"]: {k: v for k, v in r.items() if k != "pathway"} for r in a["rows"]}
        if list(got.keys()) != list(want.keys()):
            bad.append(f"{ind['id']}: pathways {list(got)} != {list(want)}")
        for code, w in want.items():
            g = got.get(code, {})
            for k, v in w.items():
                if g.get(k) != v:
                    bad.append(f"{ind['id']}/{code or 'all'} {k}: page {g.get(k)!r}, CLI {v!r}")
        if ind.get("target") and met_words(ind["target"]) not in a.get("summary", ""):
            bad.append(f"{ind['id']}: summary without {met_words(ind['target'])!r}: {a.get('summary')}")
    extra = set(shown) - {i["id"] for i in report.get("indicators", [])}
    if extra:
        bad.append(f"on the page, not in the report: {sorted(extra)}")
    t.ok(report.get("indicators") and not bad,
         f"{sem}: every figure of the page (value, numerator, denominator, n, not yet due, "
         f"target, met, per pathway) equals report --json ({len(report.get('indicators', []))} "
         "indicators)", "\n".join(bad[:30]))


def compare_trend(t, sem, reports, page):
    """The trend table of each indicator: the chosen semester and the three before it."""
    semesters = []
    s = sem
    for _ in range(4):
        semesters.append(s)
        s = previous(s)
    semesters.reverse()
    bad = []
    for a in (page or {}).get("indicators", []):
        trend = {r["semester"]: r["values"] for r in a.get("trend", [])}
        if list(trend) != semesters:
            bad.append(f"{a['id']}: semesters {list(trend)} != {semesters}")
            continue
        for s in semesters:
            row = next((i for i in reports[s].get("indicators", []) if i["id"] == a["id"]), None)
            unit = (row or {}).get("unit") or ""
            want = french_value(row, unit) if row else "—"
            if trend[s][0] != want:
                bad.append(f"{a['id']} {s}: page {trend[s][0]!r}, CLI {want!r}")
            for code, v in zip(a.get("trendCodes", []), trend[s][1:]):
                fig = ((row or {}).get("by_pathway") or {}).get(code)
                w = french_value(fig, unit) if fig else "—"
                if v != w:
                    bad.append(f"{a['id']} {s} {code}: page {v!r}, CLI {w!r}")
    t.ok(page and page.get("indicators") and not bad,
         f"{sem}: each trend table (4 semesters, overall and per pathway) equals the CLI's reports",
         "\n".join(bad[:30]))


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
        srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346",
                  "--kind", "pharmacy")
        roux, martin, lea, bernard, durand = (Client(srv, p) for p in
                                              ("roux", "martin", "lea", "bernard", "durand"))
        for client, rpps, name, prof, org, roles in (
                (roux, "10567890123", "Dr Hélène Roux", "hospital_doctor", "370000481",
                 "member,discharge"),
                (martin, "10000000009", "Dr Claire Martin", "gp", "450000005", "member"),
                (lea, None, "Léa Coordination", "coordinator", "450000005", "member,coordinator"),
                (bernard, "10234567898", "Julie Bernard", "nurse", "450000005", "member"),
                (durand, "10123456781", "Paul Durand", "pharmacist", "750012346", "member")):
            rc, out, err = client.enrol(srv.invite(rpps, name, prof, org, roles=roles))
            t.eq(rc, 0, f"{name} enrols with the CLI", f"{out}\n{err}")
        admin = RawIdentity(srv.tmp)
        acode = srv.invite(None, "Admin Test", "secretary", "450000005", roles="member,admin")
        with RawWS(srv.port) as ws:
            ws.recv_event("hello")
            r = ws.request(admin.enrol_request(acode))

        # ---- the cases: J0 in each of the four semesters (the coordinator back-dates) ----
        s0 = start_of(CURRENT)
        recent = max(s0, TODAY - datetime.timedelta(days=20))
        opened = []  # (semester, pathway, ref)

        def open_case(j0, pathway):
            rc, obj, err = lea.json("channel", "create", "--kind", "case")
            channel = (obj or {}).get("channel") or (obj or {}).get("id") or ""
            rc2, out, err2 = lea.run("case", "open", channel, "--pathway", pathway, "--j0", str(j0))
            ref = re.search(r"(P-[0-9A-Z]{8})", out)
            t.ok(rc == 0 and rc2 == 0 and ref, f"the coordinator opens a {pathway} case, J0 {j0}",
                 f"{obj}\n{err}\n{out}\n{err2}")
            ref = ref.group(1) if ref else "P-XXXXXXXX"
            opened.append((semester_of(j0), pathway, ref))
            return ref

        y1 = start_of(SEMESTERS[1])
        y2 = start_of(SEMESTERS[2])
        y3 = start_of(SEMESTERS[3])
        hf_recent = open_case(recent, "heart_failure")
        hf1 = open_case(y1 + datetime.timedelta(days=40), "heart_failure")
        hd1 = open_case(y1 + datetime.timedelta(days=100), "hospital_discharge")
        hd2 = open_case(y2 + datetime.timedelta(days=60), "hospital_discharge")
        hf3a = open_case(y3 + datetime.timedelta(days=20), "heart_failure")
        hf3b = open_case(y3 + datetime.timedelta(days=90), "heart_failure")

        # the discharge of today: the notice, to the GP, who acknowledges
        with open(SAMPLE, encoding="utf-8") as f:
            notice = json.load(f)
        notice["patient"] = PATIENT
        notice["admission_date"] = str(TODAY - datetime.timedelta(days=5))
        notice["discharge_date"] = str(TODAY)
        path = os.path.join(srv.tmp, "notice.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(notice, f, ensure_ascii=False)
        rc, out, err = roux.run("discharge", "--pathway", "hospital_discharge", "--gp",
                                "Claire Martin", "--pharmacist", "Paul Durand", "--nurse",
                                "Julie Bernard", "--notice", path)
        ref = re.search(r"case (P-[0-9A-Z]{8})", out)
        t.ok(rc == 0 and ref, "liaison discharge: today's case and its notice to the GP",
             f"{out}\n{err}")
        today_ref = ref.group(1) if ref else "P-XXXXXXXX"
        opened.append((CURRENT, "hospital_discharge", today_ref))
        for who, name in ((martin, "the GP"), (durand, "the pharmacist"), (bernard, "the nurse")):
            rc, out, err = who.run("ack", today_ref)
            t.eq(rc, 0, f"{name} acknowledges the notice", f"{out}\n{err}")

        # steps: the letter of today's discharge sent on time; older ones late or skipped
        for who, args, what in (
                (roux, ("case", "step", "complete", today_ref, "discharge_letter"),
                 "today's discharge letter, sent on J0"),
                (lea, ("case", "step", "complete", hf1, "gp_consultation"),
                 "a GP consultation of the previous semester, recorded late"),
                (lea, ("case", "step", "skip", hd1, "discharge_letter", "--reason",
                       "done_elsewhere"), "a letter skipped (done elsewhere)"),
                (lea, ("case", "step", "complete", hd2, "gp_consultation"),
                 "a GP consultation of two semesters ago, recorded late"),
                (lea, ("case", "step", "skip", hf3a, "nurse_followup", "--reason",
                       "patient_declined"), "a nurse follow-up declined")):
            rc, out, err = who.run(*args)
            t.eq(rc, 0, what, f"{out}\n{err}")

        # targets: 8a at least 2 (met now), 2 at least 90 % (not met), 4 at least 80 % (no data)
        for args in (("8a", "2"), ("2", "90"), ("4", "80")):
            rc, out, err = lea.run("report", "targets", "set", *args)
            t.eq(rc, 0, f"the coordinator sets the target of {args[0]}: at least {args[1]}",
                 f"{out}\n{err}")

        with RawWS(srv.port) as ws:
            hello = ws.recv_event("hello")
            r = ws.request(admin.login_request(srv.server_name, hello["challenge"]))
            r = ws.request(op="clock_advance", ms=86400 * 1000 + 3600 * 1000) if r.get("ok") else r
            t.ok(r.get("ok") is True, "testing aid: the server clock moves 25 hours forward "
                 "(today's J0 steps are due)", repr(r))

        # ---- the browsers: a coordinator, a nurse ----
        ccode = srv.invite(None, "Marc Coordination", "coordinator", "450000005",
                           roles="member,coordinator")
        coord = webdrive.base_config(srv, browser, os.path.join(srv.tmp, "chromium-coordinator"),
                                     code=ccode, passphrase=PASSPHRASE, phase="enrol")
        values = webdrive.phase(t, node, DRIVER, dict(coord, screenshots=None), ENROL_CHECKS)
        nurse_code = srv.invite("10345678907", "Paul Infirmier", "nurse", "450000005")
        nurse = webdrive.base_config(srv, browser, os.path.join(srv.tmp, "chromium-nurse"),
                                     code=nurse_code, passphrase=PASSPHRASE, phase="enrol",
                                     screenshots=None)
        webdrive.phase(t, node, DRIVER, nurse, ENROL_CHECKS)
        t.ok(re.fullmatch(r"[0-9a-f]{32}", values.get("user") or ""), "the coordinator's browser "
             "is enrolled", repr(values))

        reports, csvs = {}, {}
        for s in SEMESTERS + [previous(SEMESTERS[-1]), previous(previous(SEMESTERS[-1])),
                              previous(previous(previous(SEMESTERS[-1])))]:
            rc, obj, err = lea.json("report", "--semester", s)
            reports[s] = obj or {}
        for s in SEMESTERS:
            rc, out, err = lea.run("report", "--semester", s, "--csv-fr", binary=True)
            csvs[s] = out if rc == 0 else b""
        downloads = os.path.join(srv.tmp, "downloads")
        os.makedirs(downloads, exist_ok=True)
        values = webdrive.phase(t, node, DRIVER, dict(coord, phase="main", semesters=SEMESTERS,
                                                      downloads=downloads,
                                                      pdf=os.path.join(srv.tmp, "page.pdf")),
                                MAIN_CHECKS, timeout=420)
        pages = values.get("pages") or {}
        for s in SEMESTERS:
            compare_semester(t, s, reports[s], pages.get(s))
            compare_trend(t, s, reports, pages.get(s))
            try:
                with open(os.path.join(downloads, f"indicateurs-{s}.csv"), "rb") as f:
                    got = f.read()
            except OSError as e:
                got = repr(e).encode()
            t.ok(csvs[s].startswith(b"\xef\xbb\xbf") and got == csvs[s],
                 f"{s}: the downloaded CSV equals liaison report --csv-fr byte for byte "
                 f"({len(got)} bytes)", f"page:\n{got[:600]!r}\nCLI:\n{csvs[s][:600]!r}")

        # ---- figures computed by hand ----
        def figure(s, i, code=None):
            row = (pages.get(s) or {}).get("indicators", [])
            a = next((x for x in row if x["id"] == i), {})
            return next((r for r in a.get("rows", []) if r["pathway"] == (code or "")), {})

        # 8a counts the cases by the day they were opened (all of them today),
        # not by J0: 7 in the current semester, none before
        t.ok(figure(CURRENT, "8a").get("value") == "7"
             and all(figure(s, "8a").get("value") == "0" for s in SEMESTERS[1:]),
             f"8a, cases opened: 7 in {CURRENT}, 0 in each of the three semesters before",
             repr([figure(s, "8a") for s in SEMESTERS]))
        t.ok(figure(CURRENT, "8a").get("met") == "atteint"
             and figure(SEMESTERS[1], "8a").get("met") == "non atteint",
             "8a against its target of at least 2: atteint now, non atteint the semester before",
             repr([figure(s, "8a") for s in SEMESTERS[:2]]))
        # 2, letter on J0: today's discharge (sent on J0) and the recent heart
        # failure case (never sent): 1/2 = 50,0 %, target 90 % not met
        f2 = figure(CURRENT, "2")
        t.ok((f2.get("numerator"), f2.get("denominator"), f2.get("value"), f2.get("met"))
             == ("1", "2", "50,0\u00a0%", "non atteint"),
             f"2 in {CURRENT}: 1/2, 50,0 %, non atteint", repr(f2))
        # three semesters ago: two heart failure cases, no letter: 0/2
        f2 = figure(SEMESTERS[3], "2")
        t.ok((f2.get("numerator"), f2.get("denominator"), f2.get("value"))
             == ("0", "2", "0,0\u00a0%"), f"2 in {SEMESTERS[3]}: 0/2, 0,0 %", repr(f2))
        # 1a: the one notice, acknowledged by its one recipient; 4 has no data now
        f1 = figure(CURRENT, "1a")
        f4 = figure(CURRENT, "4")
        t.ok((f1.get("numerator"), f1.get("denominator"), f1.get("value")) == ("1", "1", "100,0\u00a0%")
             and f4.get("met") == "pas de donnée" and f4.get("value") == "—",
             f"1a in {CURRENT}: 1/1, 100,0 %; 4 (cardiology at J60, none due yet): pas de donnée",
             f"{f1}\n{f4}")

        webdrive.phase(t, node, DRIVER, dict(nurse, phase="nurse"), NURSE_CHECKS)
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
