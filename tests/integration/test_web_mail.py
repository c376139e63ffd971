#!/usr/bin/env python3
"""test_web_mail.py — the browser's e-mail switch (docs/WEB.md "E-mails"):
a professional enrolled in Debian's Chromium (web_mail.mjs) reads in « Mon
compte » whether the server e-mails her when something waits and turns it
off and on (ops mail_status / mail_set, as `liaison mail`). Checked against
the server's own record (mail_settings in its database) and the
administrator's `liaisond user email --json`: the choice the page shows is
the one the server keeps. A server without an SMTP relay, and an account
without an address, are said plainly. TAP on stdout."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Server, run  # noqa: E402

DRIVER = "web_mail.mjs"
ANNE = {"name": "Dr Anne Navigateur", "rpps": "10101010105"}
ADDRESS = "anne.navigateur@example.fr"
PASSPHRASE = "une phrase de passe de test"
# checks per phase, each with the driver's final "no console error"
NORELAY, ENROL, OFF, ON = 1 + 1, 2 + 1, 3 + 1, 1 + 1
# and each server's three stop checks
PLAN = 1 + NORELAY + 3 + ENROL + 1 + OFF + 2 + ON + 1 + 3


def enabled_in_db(srv, user):
    rows = srv.db_exec("SELECT enabled FROM mail_settings WHERE lower(hex(user_id)) = ?", (user,))
    return rows[0][0] if rows else None


def setup(srv):
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    return srv.invite(ANNE["rpps"], ANNE["name"], "gp", "450000005")


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(srv, browser, profile, code=setup(srv), passphrase=PASSPHRASE,
                                   phase="norelay")
        webdrive.phase(t, node, DRIVER, cfg, NORELAY)

    # a loopback relay that is never reached: nothing waits for anyone here
    config = {"smtp_host": "127.0.0.1", "smtp_port": harness.free_port(),
              "mail_from": "liaison@cpts.example.fr", "public_url": "https://liaison.example.fr/"}
    with Server(t, config=config, extra_args=["--web-root", webdrive.DIST]) as srv:
        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(srv, browser, profile, code=setup(srv), passphrase=PASSPHRASE,
                                   address=ADDRESS, phase="enrol")
        values = webdrive.phase(t, node, DRIVER, cfg, ENROL)
        me = values.get("me") or ""

        srv.admin("user", "email", "--rpps", ANNE["rpps"], "--email", ADDRESS)
        shown = srv.admin("user", "email", "--rpps", ANNE["rpps"], "--json")
        t.ok(ADDRESS in shown and enabled_in_db(srv, me) == 1,
             "the administrator sets the address; the server has her e-mails on", shown)

        webdrive.phase(t, node, DRIVER, dict(cfg, phase="off"), OFF)
        t.eq(enabled_in_db(srv, me), 0, "the server keeps the choice the browser made: off")
        try:
            admin_view = json.loads(srv.admin("user", "email", "--rpps", ANNE["rpps"], "--json"))
        except ValueError:
            admin_view = {}
        t.ok(admin_view.get("enabled") is False and admin_view.get("address") == ADDRESS,
             "liaisond user email --json shows the address, e-mails off", admin_view)

        webdrive.phase(t, node, DRIVER, dict(cfg, phase="on"), ON)
        t.eq(enabled_in_db(srv, me), 1, "... and on again")


if __name__ == "__main__":
    run(main, PLAN)
