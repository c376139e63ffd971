#!/usr/bin/env python3
"""test_web_a11y.py — the page is usable by the people it is for (issue 15,
docs/WEB.md "Accessibility and screens"): on a 1366×768 ward screen and on
a 768×1024 touch tablet, axe-core (WCAG 2.1 A/AA and best practices) finds
no serious or critical violation on any screen — enrolment, the invite's
details, every view of the navigation bar, one thread and one case, the
unlock screen —, no screen scrolls sideways, and Tab alone reaches every
link of the navigation. Moderate and minor findings are printed as
diagnostics. Real liaisond, real CLI, Debian's Chromium (web_a11y.mjs).
TAP on stdout."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdrive  # noqa: E402
from harness import Server, run  # noqa: E402

DRIVER = "web_a11y.mjs"
CHECKS = 8  # per screen form: enrol, planted fault, invite, views, keyboard, unlock, overflow, console
FORMS = ("ward", "tablet")
PLAN = 1 + CHECKS * len(FORMS) + 3

PASSPHRASE = "une phrase de passe de test"
RPPS = ("10101010113", "10101010121")  # Luhn-valid, one per screen form


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        profile = os.path.join(srv.tmp, "chromium-profiles")
        for n, form in enumerate(FORMS):
            code = srv.invite(RPPS[n], f"Dr Test Écran {n}", "gp", "450000005")
            cfg = webdrive.base_config(srv, browser, profile, code=code, passphrase=PASSPHRASE,
                                       screen=form, extraViews=[])
            values = webdrive.phase(t, node, DRIVER, cfg, CHECKS)
            for line in values.get("minor") or []:
                t.diag(f"{form}: minor: {line}")
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
