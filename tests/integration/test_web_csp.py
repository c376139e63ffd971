#!/usr/bin/env python3
"""test_web_csp.py — the Content-Security-Policy liaisond sends, enforced by
a real browser (docs/THREAT-MODEL.md "Served code"): Debian's Chromium,
headless, loads tests/integration/web_csp/index.html from a real liaisond
(web_root = that directory). The page's one same-origin script tries what
the policy must allow and what it must refuse, and writes what happened
into the page, which Chromium dumps:

- refused: an inline <script> in the page, an inline event handler
  (onerror=), eval and new Function, a script from another origin, a fetch
  to another origin — each with its securitypolicyviolation event;
- allowed: compiling WebAssembly ('wasm-unsafe-eval', which libsodium.js
  needs) and a WebSocket to the page's own origin (connect-src 'self'
  covers wss: on the same host and port), which gets liaisond's hello.

Chromium runs with --ignore-certificate-errors (the development CA is not
in its store; TLS is test_transport.py's subject) and a throw-away profile.
A missing Chromium is a failure, not a skip: ./dev installs it.

TAP on stdout."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, run  # noqa: E402

PLAN = 1 + 1 + 12 + 3
PAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web_csp")


def chromium():
    for path in (os.environ.get("LSN_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if path and os.access(path, os.X_OK):
            return path
    return None


def dump(browser, url):
    """The page's DOM after its scripts ran (stdout of --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="lsn-webcsp-chromium-") as profile:
        cmd = [browser, "--headless", "--disable-gpu", "--ignore-certificate-errors",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
               "--virtual-time-budget=15000", "--dump-dom", url]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        res = subprocess.run(cmd, capture_output=True, timeout=120 * harness.SLOW,
                             stdin=subprocess.DEVNULL)
        return res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace")


def main(t):
    browser = chromium()
    if not t.ok(harness.LIAISOND and browser, "liaisond built and chromium installed",
                f"liaisond={harness.LIAISOND!r} chromium={browser!r} "
                "(apt-get install chromium; ./dev does)"):
        return
    with Server(t, extra_args=["--web-root", PAGES]) as srv:
        dom, err = dump(browser, f"https://localhost:{srv.port}/")
        m = re.search(r'<pre id="r">(.*?)</pre>', dom, re.S)
        if not t.ok(m, "the page's same-origin script ran and wrote its results",
                    harness.clip(dom + "\n--- stderr ---\n" + err)):
            srv.stop()
            return
        r = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")
                       .replace("&lt;", "<").replace("&gt;", ">"))
        v = r.get("violations", [])
        t.eq(r.get("inline"), "not run", "an inline <script> does not run")
        t.ok("script-src-elem inline" in v, "... and is reported as a script-src violation",
             repr(v))
        t.eq(r.get("handler"), "not run", "an inline event handler (onerror=) does not run")
        t.ok("script-src-attr inline" in v, "... and is reported as a script-src-attr violation",
             repr(v))
        t.eq(r.get("eval"), "threw EvalError", "eval is refused")
        t.eq(r.get("function"), "threw EvalError", "new Function is refused")
        t.eq(v.count("script-src eval"), 2, "... both reported as script-src violations",
             repr(v))
        t.eq(r.get("script"), "failed", "a script from another origin is not loaded")
        t.ok("script-src-elem https://cdn.example.invalid/lib.js" in v,
             "... refused by the policy (script-src-elem), not by the network", repr(v))
        t.ok(r.get("fetch", "").startswith("failed") and
             "connect-src https://cdn.example.invalid/x.js" in v,
             "a fetch to another origin is refused by connect-src", repr(r))
        t.eq(r.get("wasm"), "42", "WebAssembly compiles and runs ('wasm-unsafe-eval')")
        t.eq(r.get("ws"), "hello",
             "a WebSocket to the page's own origin (wss:) is allowed and gets liaisond's hello")
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
