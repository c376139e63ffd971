"""webdrive.py — the Python half of every browser test: finds Debian's
Chromium, node and the built web/dist, runs a playwright-core driver
(tests/integration/web_*.mjs, written on web_lib.mjs) and turns the JSON
lines it prints into TAP.

A driver prints one line per check, {"check": name, "ok": bool, "detail":
text}, and may print {"values": {...}} for the Python side. The caller says
how many checks the driver makes; a driver that stops early (a crash, a
timeout) has its missing checks reported as failures, so the plan holds.
A missing Chromium, node or web/dist is a failure, not a skip: ./dev
prepares them."""

import json
import os
import shutil
import subprocess

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
WEB = os.path.join(ROOT, "web")
DIST = os.path.join(WEB, "dist")


def chromium():
    for path in (os.environ.get("LSN_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if path and os.access(path, os.X_OK):
            return path
    return None


def ready(t):
    """One TAP check that liaisond, liaison, chromium, node and web/dist are
    there; returns (chromium, node) or None."""
    browser, node = chromium(), shutil.which("node")
    built = os.path.exists(os.path.join(DIST, "index.html")) and \
        os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core"))
    if not t.ok(harness.LIAISOND and harness.LIAISON and browser and node and built,
                "liaisond, liaison, chromium, node and web/dist are there",
                f"liaisond={harness.LIAISOND!r} liaison={harness.LIAISON!r} chromium={browser!r} "
                f"node={node!r} web/dist built={built} (./dev test prepares them)"):
        return None
    return browser, node


def base_config(srv, browser, profile, **extra):
    """The fields every driver reads (web_lib.mjs launch()): the page's URL,
    web/ (for node_modules), the browser, a profile directory (kept between
    phases, as a browser keeps its IndexedDB) and LSN_SCREENSHOTS."""
    cfg = {"url": f"https://localhost:{srv.port}/", "web": WEB, "chromium": browser,
           "profile": profile, "screenshots": os.environ.get("LSN_SCREENSHOTS") or None}
    cfg.update(extra)
    return cfg


def phase(t, node, driver, cfg, count, timeout=240):
    """Runs node DRIVER CONFIG_JSON; its checks as TAP (exactly count of
    them, prefixed "browser: "); returns its values."""
    try:
        # the browser's clock in the clinicians' zone, the test servers' too
        # (harness.SERVER_TZ): its "today" is then theirs
        res = subprocess.run([node, os.path.join(HERE, driver), json.dumps(cfg)],
                             capture_output=True, text=True, timeout=timeout * harness.SLOW,
                             stdin=subprocess.DEVNULL,
                             env=dict(os.environ, TZ=harness.SERVER_TZ))
        lines, stderr = res.stdout.splitlines(), res.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        lines, stderr = out.splitlines(), "timed out"
    values, n = {}, 0
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            t.diag(f"driver: {line}")
            continue
        if "check" in obj and n < count:
            n += 1
            t.ok(obj["ok"], f"browser: {obj['check']}", obj.get("detail"))
        elif "check" in obj:
            t.diag(f"driver printed an unplanned check: {line}")
        elif "values" in obj:
            values = obj["values"]
    while n < count:
        n += 1
        t.ok(False, "browser: check not reached", harness.clip(stderr))
    return values
