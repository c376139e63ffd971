#!/usr/bin/env python3
"""test_web_csp.py — the Content-Security-Policy liaisond sends, enforced by
a real browser (docs/THREAT-MODEL.md "Served code"): Debian's Chromium,
headless, loads tests/integration/web_csp/index.html from a real liaisond
(web_root = that directory). The page's one same-origin script tries what
the policy must allow and what it must refuse; the test reads what
happened through the DevTools protocol (on a pipe, in real time):

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

import fcntl
import json
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Server, run  # noqa: E402

PLAN = 1 + 1 + 12 + 3
PAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web_csp")


class DevTools:
    """Chromium headless driven through the DevTools protocol on a pipe
    (--remote-debugging-pipe: commands on fd 3, answers on fd 4, each a JSON
    text ended by NUL). Real time throughout: no virtual-time budget that
    could end the page before the WebSocket answers."""

    def __init__(self, browser, profile):
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        hi = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (cmd_r, res_w)]
        os.close(cmd_r)
        os.close(res_w)

        def child_fds():
            os.dup2(hi[0], 3)
            os.dup2(hi[1], 4)

        args = [browser, "--headless", "--disable-gpu", "--ignore-certificate-errors",
                "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     pass_fds=(3, 4),  # kept: fds are closed after preexec_fn
                                     preexec_fn=child_fds)
        for fd in hi:
            os.close(fd)
        self.buf = b""
        self.next_id = 0

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout * harness.SLOW
        while True:
            while b"\0" in self.buf:
                raw, _, self.buf = self.buf.partition(b"\0")
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise harness.HarnessError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.res_r], [], [], left)[0]:
                raise harness.HarnessError(f"{method}: no answer from chromium")
            chunk = os.read(self.res_r, 65536)
            if not chunk:
                raise harness.HarnessError(f"{method}: chromium closed the pipe")
            self.buf += chunk

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (harness.HarnessError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.res_r)


def probe(browser, url):
    """What the page's script found (window.probe), or raise."""
    with tempfile.TemporaryDirectory(prefix="lsn-webcsp-chromium-") as profile:
        dt = DevTools(browser, profile)
        try:
            target = dt.call("Target.createTarget", {"url": url})["targetId"]
            session = dt.call("Target.attachToTarget",
                              {"targetId": target, "flatten": True})["sessionId"]
            deadline = time.monotonic() + 60 * harness.SLOW
            while time.monotonic() < deadline:
                try:
                    res = dt.call("Runtime.evaluate", {
                        "expression": "window.probe ? window.probe.then(JSON.stringify) : null",
                        "awaitPromise": True, "returnByValue": True}, session=session)
                except harness.HarnessError as e:
                    # the page is still loading: no context yet, or about:blank's
                    # replaced while evaluating
                    if "context" not in str(e).lower():
                        raise
                    res = {}
                value = res.get("result", {}).get("value")
                if value:
                    return json.loads(value)
                time.sleep(0.2)
            raise harness.HarnessError("the probe page did not finish within 60 s")
        finally:
            dt.close()


def main(t):
    browser = webdrive.chromium()
    if not t.ok(harness.LIAISOND and browser, "liaisond built and chromium installed",
                f"liaisond={harness.LIAISOND!r} chromium={browser!r} "
                "(apt-get install chromium; ./dev does)"):
        return
    with Server(t, extra_args=["--web-root", PAGES]) as srv:
        try:
            r, failure = probe(browser, f"https://localhost:{srv.port}/"), None
        except (harness.HarnessError, OSError, ValueError) as e:
            r, failure = None, repr(e)
        if not t.ok(isinstance(r, dict), "the page's same-origin script ran and gave its results",
                    failure):
            srv.stop()
            return
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
