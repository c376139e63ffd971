#!/usr/bin/env python3
"""test_web_xss.py — clinical text that is markup stays text in the browser
(docs/THREAT-MODEL.md "Served code", injected content): a colleague's CLI
creates a thread whose topic, message and attached file's name are HTML —
an <img onerror>, a <script>, an <a href=javascript:>, an <svg onload> —
and the browser, reading that thread, shows each as the very characters
sent: the page gets no element from them, no handler, no navigation, and
the strict CSP has nothing to refuse (no console error). Real liaisond,
real CLI, Debian's Chromium (web_xss.mjs). TAP on stdout."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdrive  # noqa: E402
from harness import Client, Server, run  # noqa: E402

DRIVER = "web_xss.mjs"
CHECKS = 6
PLAN = 1 + 2 + CHECKS + 3  # programs, CLI enrol, CLI thread; browser; clean stop
TOPIC = '<img src=x onerror="document.title=\'pwned-topic\'">Sortie'
BODY = ('<script>document.title="pwned-script"</script><b>gras</b> '
        '<a href="javascript:document.title=\'pwned-link\'">lien</a> '
        '<svg onload="document.title=\'pwned-svg\'"></svg> & &amp; &lt;')
FILE = '<img src=x onerror=alert(1)>.txt'


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        paul = Client(srv, "paul", passphrase="the pharmacist's passphrase")
        rc, _, err = paul.enrol(srv.invite("10000000009", "Paul Durand", "pharmacist",
                                           "450000005"))
        t.eq(rc, 0, "a colleague enrols with the CLI", err)
        profile = os.path.join(srv.tmp, "chromium-profile")
        code = srv.invite("10101010105", "Dr Anne Navigateur", "gp", "450000005")
        cfg = webdrive.base_config(srv, browser, profile, code=code,
                                   passphrase="une phrase de passe de test", phase="enrol",
                                   topic=TOPIC, body=BODY, file=FILE)
        webdrive.phase(t, node, DRIVER, cfg, 1)
        rc, obj, err = paul.json("channel", "create", "--kind", "case", "--topic", TOPIC)
        channel = (obj or {}).get("channel", "")
        rc2, _, err2 = paul.run("channel", "add", channel, "10101010105")
        rc3, _, err3 = paul.run("send", channel, BODY)
        path = os.path.join(srv.tmp, FILE)
        with open(path, "w") as f:
            f.write("contenu\n")
        rc4, _, err4 = paul.run("send", channel, "--attach", path, "pièce jointe")
        t.ok(rc == 0 and rc2 == 0 and rc3 == 0 and rc4 == 0 and channel,
             "the CLI makes a thread whose topic, message and file name are markup",
             f"{err}{err2}{err3}{err4}")
        webdrive.phase(t, node, DRIVER, dict(cfg, phase="read", channel=channel), CHECKS - 1)
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
