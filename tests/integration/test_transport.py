#!/usr/bin/env python3
"""test_transport.py — what the server shows of itself on the wire
(docs/THREAT-MODEL.md "Transport" and "Metadata", docs/OPERATIONS.md
"Metrics"):

- TLS: the openssl command line (an implementation independent of the
  server's) is refused TLS 1.2 with CBC suites and anything older than 1.2,
  and gets TLS 1.2 with AES-GCM or ChaCha20-Poly1305, and TLS 1.3 — which
  is what a client offering both obtains; the CLI, facing an openssl
  s_server that offers only a CBC suite, refuses it;
- /metrics: curl fetches it asking for HTTP/1.1 and for HTTP/2 (liaisond
  offers only http/1.1 in ALPN, so both get HTTP/1.1); both bodies are
  complete (Content-Length, last line, every line a sample or a comment) and
  identical;
- /metrics access: from an address outside metrics_allow the answer is 403
  unless the request carries the metrics_token bearer token; /healthz stays
  open; by default a non-loopback address is refused;
- last_seen_at: a user sees it for her own devices only — not through
  `devices` or `keys` about a colleague, while the database does hold it.

TAP on stdout."""

import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, raw_enrol, raw_login, run  # noqa: E402

PLAN = 49

CA = os.path.join(harness.CERTS, "ca.crt")
TOKEN = "c0ffee" * 6
ORG = "370000481"


def s_client(port, *args):
    """openssl s_client against the server; (exit status, output)."""
    res = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                          "-servername", "localhost", "-CAfile", CA, "-verify_return_error"]
                         + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=30 * harness.SLOW)
    return res.returncode, res.stdout.decode("utf-8", "replace") + res.stderr.decode(
        "utf-8", "replace")


def negotiated(out):
    """("TLSv1.3", "TLS_AES_256_GCM_SHA384") from s_client's "New, ..." line."""
    m = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
    return (m.group(1), m.group(2)) if m else (None, None)


def curl(url, version, headers=(), resolve=None):
    """GET with curl; (status, HTTP version, body bytes, response headers)."""
    with tempfile.TemporaryDirectory(prefix="lsn-transport-") as tmp:
        body, head = os.path.join(tmp, "body"), os.path.join(tmp, "head")
        cmd = ["curl", "-sS", version, "--cacert", CA, "-o", body, "-D", head,
               "-w", "%{http_code} %{http_version}", "--max-time", str(30 * harness.SLOW)]
        for h in headers:
            cmd += ["-H", h]
        if resolve:
            cmd += ["--resolve", resolve]
        res = subprocess.run(cmd + [url], capture_output=True, timeout=60 * harness.SLOW)
        if res.returncode != 0:
            return None, None, b"", res.stderr.decode("utf-8", "replace")
        status, ver = res.stdout.decode().split()
        with open(body, "rb") as f:
            data = f.read()
        with open(head, "rb") as f:
            hdrs = f.read().decode("utf-8", "replace")
        return int(status), ver, data, hdrs


def content_length(hdrs):
    m = re.search(r"^content-length:\s*(\d+)", hdrs, re.I | re.M)
    return int(m.group(1)) if m else None


SAMPLE = re.compile(r"^[a-z_]+(\{[a-z_]+=\"[^\"]*\"\})? [0-9.e+-]+$|^# (HELP|TYPE) ")


def well_formed(body):
    text = body.decode("utf-8", "replace")
    return text.endswith("\n") and all(SAMPLE.match(ln) for ln in text.splitlines())


def non_loopback_address():
    """An IPv4 address of this machine that is not loopback, or None."""
    for probe in ("192.0.2.1", "10.255.255.255", "203.0.113.1"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))      # no packet: only picks the route's source
                addr = s.getsockname()[0]
            if not addr.startswith("127.") and addr != "0.0.0.0":
                return addr
        except OSError:
            pass
    return None


def tls_checks(t, srv):
    rc, out = s_client(srv.port, "-tls1_2", "-cipher", "AES128-SHA:ECDHE-ECDSA-AES128-SHA")
    t.ok(rc != 0 and negotiated(out)[1] in (None, "(NONE)"),
         "TLS 1.2 offering only CBC suites (AES128-SHA, ECDHE-ECDSA-AES128-SHA) is refused",
         out)
    t.ok("handshake failure" in out, "... by the server (alert: handshake failure)", out)
    rc, out = s_client(srv.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384")
    t.ok(rc != 0 and negotiated(out)[1] in (None, "(NONE)"),
         "TLS 1.2 with ECDHE but a CBC cipher (ECDHE-ECDSA-AES256-SHA384) is refused", out)
    rc, out = s_client(srv.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
    t.eq((rc, negotiated(out)), (0, ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")),
         "TLS 1.2 with ECDHE + AES-GCM succeeds", out)
    rc, out = s_client(srv.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
    t.eq((rc, negotiated(out)), (0, ("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305")),
         "TLS 1.2 with ECDHE + ChaCha20-Poly1305 succeeds", out)
    rc, out = s_client(srv.port, "-tls1_3")
    t.ok(rc == 0 and negotiated(out)[0] == "TLSv1.3"
         and "Verify return code: 0 (ok)" in out, "a TLS 1.3 handshake succeeds", out)
    rc, out = s_client(srv.port)
    t.eq(negotiated(out)[0], "TLSv1.3", "a client offering 1.2 and 1.3 gets TLS 1.3", out)
    rc, out = s_client(srv.port, "-tls1_1", "-cipher", "ALL:@SECLEVEL=0")
    t.ok(rc != 0 and negotiated(out)[0] in (None, "(NONE)"), "TLS 1.1 is refused", out)


def fake_server(cipher):
    """openssl s_server speaking TLS 1.2 with one suite (HTTP behind it, no
    WebSocket); (process, port)."""
    port = harness.free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-quiet", "-www",
                             "-cert", os.path.join(harness.CERTS, "server.crt"),
                             "-key", os.path.join(harness.CERTS, "server.key"),
                             "-tls1_2", "-cipher", cipher],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10 * harness.SLOW
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, port


def client_tls_checks(t, srv):
    """The CLI holds servers to the same rule: against a TLS 1.2 server
    offering only a CBC suite its handshake fails; against one offering an
    AEAD suite the handshake succeeds (and the missing WebSocket is what
    fails)."""
    cli = Client(srv, "tls-probe")
    results = {}
    for cipher in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-GCM-SHA256"):
        proc, port = fake_server(cipher)
        try:
            results[cipher] = cli.run("enrol", "--server", f"wss://localhost:{port}",
                                      "--invite", "7K2M-QX9D-4T1B-ZR8W-0CFE-N5HJ",
                                      "--device-name", "probe", "--yes", timeout=30)
        finally:
            proc.kill()
            proc.wait()
    rc, out, err = results["ECDHE-ECDSA-AES128-SHA"]
    t.ok(rc != 0 and "WebSocket" not in err and "localhost" in err,
         "liaison refuses a TLS 1.2 server that offers only a CBC suite (no handshake)",
         f"rc={rc}\n{out}\n{err}")
    rc, out, err = results["ECDHE-ECDSA-AES128-GCM-SHA256"]
    t.ok(rc != 0 and "refused the WebSocket connection" in err,
         "... and completes TLS 1.2 with ECDHE + AES-GCM (then finds no WebSocket there)",
         f"rc={rc}\n{out}\n{err}")


def metrics_checks(t, srv):
    url = f"https://localhost:{srv.port}/metrics"
    # the server's timers may commit between two fetches (a counter moves):
    # fetch HTTP/1.1, HTTP/2, HTTP/1.1 again until the two HTTP/1.1 pages agree
    for _ in range(5):
        s1, v1, b1, h1 = curl(url, "--http1.1")
        s2, v2, b2, h2 = curl(url, "--http2")
        if curl(url, "--http1.1")[2] == b1:
            break
    t.eq((s1, v1), (200, "1.1"), "/metrics over HTTP/1.1: 200", h1)
    t.eq((s2, v2), (200, "1.1"),
         "/metrics asked with --http2: 200 over HTTP/1.1 (liaisond offers only http/1.1 in ALPN)",
         h2)
    t.ok(len(b1) > 3 * 2048 and content_length(h1) == len(b1),
         f"HTTP/1.1: the whole body ({len(b1)} bytes, several write chunks) as announced",
         f"content-length {content_length(h1)}\n{h1}")
    t.ok(content_length(h2) == len(b2),
         f"HTTP/2: the whole body as announced ({len(b2)} of {content_length(h2)} bytes)", h2)
    t.ok(well_formed(b2), "HTTP/2: every line a sample or a comment, the last one ended",
         b2[-300:].decode("utf-8", "replace"))
    t.ok(b1 == b2, "the same bytes both ways",
         f"{len(b1)} vs {len(b2)} bytes; first difference at "
         f"{next((i for i, (a, b) in enumerate(zip(b1, b2)) if a != b), min(len(b1), len(b2)))}")
    t.ok(b"liaison_metrics_forbidden_total 0\n" in b2,
         "the page ends with the metrics_forbidden counter (nothing cut)",
         b2[-300:].decode("utf-8", "replace"))
    # several requests on one HTTP/2 connection, interleaved with /healthz
    for _ in range(5):
        before = curl(url, "--http1.1")[2]
        res = subprocess.run(["curl", "-sS", "--http2", "--cacert", CA, url,
                              f"https://localhost:{srv.port}/healthz", url],
                             capture_output=True, timeout=60 * harness.SLOW)
        if curl(url, "--http1.1")[2] == before:
            break
    t.eq(res.stdout, before + b"ok\n" + before,
         "HTTP/2: /metrics, /healthz, /metrics on one connection, each complete",
         res.stderr.decode("utf-8", "replace"))


def access_checks(t, srv):
    url = f"https://localhost:{srv.port}/metrics"
    status, _, body, hdrs = curl(url, "--http2")
    t.eq(status, 403, "metrics_allow = 10.0.0.0/8: loopback is refused with 403", hdrs)
    t.ok(b"liaison_" not in body and b"metrics_allow" in body,
         "... with no metric in the body, and a message naming the setting", body)
    status, _, body, hdrs = curl(url, "--http1.1")
    t.eq(status, 403, "... over HTTP/1.1 too", hdrs)
    for version in ("--http1.1", "--http2"):
        status, _, body, hdrs = curl(url, version, [f"Authorization: Bearer {TOKEN}"])
        t.ok(status == 200 and content_length(hdrs) == len(body) and well_formed(body),
             f"{version}: the right bearer token gets the whole page", hdrs)
    status, _, body, _ = curl(url, "--http2", [f"Authorization: Bearer {TOKEN[:-1]}x"])
    t.eq(status, 403, "a wrong token: 403")
    status, _, body, _ = curl(url, "--http2", [f"Authorization: Bearer {TOKEN}x"])
    t.eq(status, 403, "the token with a character added: 403")
    status, _, body, _ = curl(url, "--http2", [f"Authorization: Basic {TOKEN}"])
    t.eq(status, 403, "the token under another scheme (Basic): 403")
    status, _, body, _ = curl(f"https://localhost:{srv.port}/healthz", "--http2")
    t.eq((status, body), (200, b"ok\n"), "/healthz stays open")
    status, _, body, _ = curl(url, "--http1.1", [f"Authorization: Bearer {TOKEN}"])
    t.ok(b"liaison_metrics_forbidden_total 5\n" in body,
         "the five refusals are counted in liaison_metrics_forbidden_total", body[-300:])


def default_access_checks(t, srv):
    status, _, _, hdrs = curl(f"https://localhost:{srv.port}/metrics", "--http2")
    t.eq(status, 200, "default settings: /metrics answers loopback", hdrs)
    addr = non_loopback_address()
    if addr is None:
        for name in ("default settings: a non-loopback address gets 403",
                     "... and /healthz from it"):
            t.count += 1
            print(f"ok {t.count} - {name} # SKIP this machine has no non-loopback IPv4 "
                  "address", flush=True)
        return
    resolve = f"localhost:{srv.port}:{addr}"
    status, _, body, hdrs = curl(f"https://localhost:{srv.port}/metrics", "--http2",
                                 resolve=resolve)
    t.eq(status, 403, f"default settings: from {addr} (not loopback) /metrics is 403",
         f"{hdrs}\n{body!r}")
    status, _, body, _ = curl(f"https://localhost:{srv.port}/healthz", "--http1.1",
                              resolve=resolve)
    t.eq((status, body), (200, b"ok\n"), f"... while /healthz answers {addr}")


def last_seen_checks(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", ORG, "--kind", "hospital")
    alice = Client(srv, "alice")
    rc, out, err = alice.enrol(srv.invite("10101010105", "Dr Alice Roux", "hospital_doctor",
                                          ORG))
    t.eq(rc, 0, "Alice enrols with the CLI", err)
    rc, who, err = alice.json("whoami")
    alice_user = ((who or {}).get("user") or {}).get("id", "")
    alice_dev = ((who or {}).get("device") or {}).get("id", "")
    bob = raw_enrol(srv, srv.invite("10123456781", "Dr Bob Martin", "gp", ORG))
    ws = raw_login(srv, bob)
    try:
        db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
        try:
            row = db.execute("SELECT last_seen_at FROM devices WHERE id = ?",
                             (bytes.fromhex(alice_dev or "00"),)).fetchone()
        finally:
            db.close()
        t.ok(row is not None and isinstance(row[0], int) and row[0] > 0,
             "the server's database holds Alice's device's last login", repr(row))
        r = ws.request({"op": "devices", "user": alice_user})
        devs = r.get("devices") or []
        t.ok(r.get("ok") is True and [d.get("id") for d in devs] == [alice_dev]
             and all("last_seen_at" not in d for d in devs) and "created_at" in devs[0],
             "Bob's `devices` about Alice: her device, without last_seen_at", repr(r))
        r = ws.request({"op": "keys", "users": [alice_user]})
        devs = ((r.get("users") or [{}])[0]).get("devices") or []
        t.ok(r.get("ok") is True and len(devs) == 1 and all("last_seen_at" not in d
                                                            for d in devs),
             "Bob's `keys` about Alice: her device, without last_seen_at", repr(r))
        r = ws.request({"op": "devices"})
        devs = r.get("devices") or []
        t.ok(r.get("ok") is True and len(devs) == 1 and isinstance(devs[0].get("last_seen_at"),
                                                                   int),
             "Bob's `devices` about himself: his device with last_seen_at", repr(r))
        r = ws.request({"op": "whoami"})
        t.ok(isinstance(((r.get("device") or {}).get("last_seen_at")), int),
             "whoami: the own device's last_seen_at", repr(r))
    finally:
        ws.close()
    rc, obj, err = alice.json("devices")
    devs = (obj or {}).get("devices") or []
    t.ok(rc == 0 and len(devs) == 1 and isinstance(devs[0].get("last_seen_at"), int),
         "liaison devices --json: Alice's own device with its last login", f"{obj!r}\n{err}")
    rc, out, err = alice.run("devices")
    line = next((ln for ln in out.splitlines() if alice_dev and alice_dev in ln), "")
    t.ok(rc == 0 and "LAST SEEN" in out and len(re.findall(r"20\d\d-\d\d-\d\d", line)) >= 2,
         "liaison devices: Alice's device row shows when it was created and last seen",
         f"{out}\n{err}")


def main(t):
    harness.require_programs(t)
    with Server(t) as srv:
        tls_checks(t, srv)
        client_tls_checks(t, srv)
        metrics_checks(t, srv)
        last_seen_checks(t, srv)
    with Server(t, config={"metrics_allow": "10.0.0.0/8", "metrics_token": TOKEN}) as srv:
        access_checks(t, srv)
    with Server(t, extra_args=["--listen", "0.0.0.0"]) as srv:
        default_access_checks(t, srv)


if __name__ == "__main__":
    run(main, PLAN)
