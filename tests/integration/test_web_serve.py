#!/usr/bin/env python3
"""test_web_serve.py — liaisond serves the browser client's files from the
same origin and port as the WebSocket (docs/PROTOCOL.md "HTTP",
docs/OPERATIONS.md "The browser client's files", docs/THREAT-MODEL.md
"Served code"):

- a web root made here (index.html, content-hashed and plain names, every
  MIME type the server knows, a file larger than one HTTP/2 frame window) is
  fetched with curl asking for HTTP/1.1 and for HTTP/2 (liaisond offers
  only http/1.1 in ALPN, so both get HTTP/1.1): bodies byte-identical,
  Content-Type, Content-Length, every security header with its exact value,
  Cache-Control immutable for NAME-HASH.EXT and no-cache otherwise;
- HEAD gives the same headers and no body; POST gets 405 with Allow;
- a directory other than /, a missing file, and every traversal attempt —
  "..", its encodings (%2e%2e, %2f, %5c, double encoding), a NUL, hidden
  names, a symbolic link out of the root — get an answer without the secret
  file outside the root; a 404 from liaisond carries the same security
  headers and says nothing more than "not found";
- /healthz, /metrics and the liaison.v1 WebSocket upgrade still answer;
- with web_root naming a directory that does not exist, liaisond starts,
  logs once that no browser client is installed, and / answers 404.

TAP on stdout."""

import os
import re
import gzip
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawWS, Server, run  # noqa: E402

CA = os.path.join(harness.CERTS or "", "ca.crt")
SECRET = b"SECRET-OUTSIDE-THE-WEB-ROOT\n"
NOT_FOUND = b"Introuvable. Not found.\n"

CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
       "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self'; "
       "manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; "
       "object-src 'none'")
SECURITY = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
                          "magnetometer=(), microphone=(), payment=(), usb=()",
}
IMMUTABLE = "public, max-age=31536000, immutable"

# (path under the root, content, expected Content-Type, expected Cache-Control)
FILES = [
    ("index.html", b"<!doctype html><html lang=\"fr\"><title>Liaison</title>"
     b"<script src=\"/assets/app-7QK2M4XZ.js\"></script></html>\n",
     "text/html; charset=utf-8", "no-cache"),
    ("assets/app-7QK2M4XZ.js", b"console.log('liaison');\n" * 40,
     "text/javascript; charset=utf-8", IMMUTABLE),
    ("assets/worker-0f3a9c1e.mjs", b"export const x = 1;\n",
     "text/javascript; charset=utf-8", IMMUTABLE),
    ("assets/style-ABCDEFGH.css", b"body { margin: 0 }\n", "text/css; charset=utf-8",
     IMMUTABLE),
    ("assets/sodium-5JQ2ZK7P.wasm", os.urandom(300 * 1024), "application/wasm", IMMUTABLE),
    ("logo.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n", "image/svg+xml",
     "no-cache"),
    ("icon.png", b"\x89PNG\r\n\x1a\n" + os.urandom(500), "image/png", "no-cache"),
    ("manifest.json", b"{\"name\": \"Liaison\"}\n", "application/json", "no-cache"),
    ("fonts/sans-9F8E7D6C.woff2", b"wOF2" + os.urandom(2000), "font/woff2", IMMUTABLE),
    ("favicon.ico", b"\x00\x00\x01\x00" + os.urandom(100), "image/x-icon", "no-cache"),
    ("my-settings.js", b"// not a hash: revalidated\n", "text/javascript; charset=utf-8",
     "no-cache"),
    ("blob.bin", os.urandom(64), "application/octet-stream", "no-cache"),
    ("empty.txt", b"", "text/plain; charset=utf-8", "no-cache"),
]

# Request paths sent as they are (curl --path-as-is): none may reach the
# secret file next to the root, nor a hidden file inside it.
TRAVERSALS = [
    "/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt", "/assets%2f..%2f..%2fsecret.txt", "/..%5csecret.txt",
    "/..\\secret.txt", "/%252e%252e/secret.txt", "/index.html%00.js",
    "/%00/../secret.txt", "/out.txt", "/escape/secret.txt", "/.hidden",
    "/assets/.hidden", "//secret.txt",
]
GZ_FILE = "assets/app-7QK2M4XZ.js"
NOT_FOUND_PATHS = ["/nope.js", "/assets", "/assets/", "/fonts/", "/index.html/"]

VERSIONS = [("--http1.1", "1.1"), ("--http2", "2")]
# what a client gets either way: liaisond offers only http/1.1 in ALPN
# (docs/OPERATIONS.md "HTTP/1.1 only"), so curl --http2 falls back to 1.1
NEGOTIATED = "1.1"

PLAN = (1 + len(VERSIONS) * (len(FILES) * 5 + 2 * 4 + 4 + len(TRAVERSALS) * 2
                             + len(NOT_FOUND_PATHS) * 3 + 3 + 2)
        + 1 + 3 + 3 + 5 + 3)


def head_then_get(port):
    """HEAD / then GET /healthz pipelined on one HTTP/1.1 connection: the
    bytes after the HEAD answer's headers must be the next answer."""
    import socket
    raw = socket.create_connection(("127.0.0.1", port), timeout=10 * harness.SLOW)
    sock = harness.ssl_context().wrap_socket(raw, server_hostname="localhost")
    sock.sendall(b"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n"
                 b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while data.count(b"\r\n\r\n") < 2 or not data.endswith(b"ok\n"):
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    sock.close()
    return data


def curl(port, path, version, method=None, data=None, extra=()):
    """One request; (status, HTTP version, body bytes, {header: [values]})."""
    with tempfile.TemporaryDirectory(prefix="lsn-webserve-curl-") as tmp:
        body, head = os.path.join(tmp, "body"), os.path.join(tmp, "head")
        cmd = ["curl", "-sS", version, "--path-as-is", "--cacert", CA, "-o", body, "-D", head,
               "-w", "%{http_code} %{http_version}", "--max-time", str(30 * harness.SLOW)]
        if method == "HEAD":
            cmd.append("-I")
        elif method:
            cmd += ["-X", method]
        if data is not None:
            cmd += ["--data-binary", data]
        cmd += list(extra)
        res = subprocess.run(cmd + [f"https://localhost:{port}{path}"], capture_output=True,
                             timeout=60 * harness.SLOW)
        out = res.stdout.decode("utf-8", "replace").split()
        if len(out) != 2:
            return None, None, b"", {"curl": [res.stderr.decode("utf-8", "replace")]}
        data_out = open(body, "rb").read() if os.path.exists(body) else b""
        hdrs = {}
        text = open(head, "rb").read().decode("latin-1") if os.path.exists(head) else ""
        for line in text.split("\r\n")[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        return int(out[0]), out[1], data_out, hdrs


def security_diff(hdrs, cache):
    """What differs from the expected security headers and Cache-Control."""
    want = dict(SECURITY, **{"cache-control": cache})
    bad = {k: hdrs.get(k) for k, v in want.items() if hdrs.get(k) != [v]}
    return bad


def make_fixture(base):
    root = os.path.join(base, "root")
    for rel, content, _, _ in FILES:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
    with open(os.path.join(base, "secret.txt"), "wb") as f:
        f.write(SECRET)
    with open(os.path.join(root, ".hidden"), "wb") as f:
        f.write(SECRET)
    with open(os.path.join(root, "assets", ".hidden"), "wb") as f:
        f.write(SECRET)
    os.symlink(os.path.join(base, "secret.txt"), os.path.join(root, "out.txt"))
    os.symlink(base, os.path.join(root, "escape"))
    # the precompressed sibling web/build.mjs writes (gzip -9)
    with open(os.path.join(root, GZ_FILE + ".gz"), "wb") as f:
        f.write(gzip.compress(dict((r, c) for r, c, _, _ in FILES)[GZ_FILE], 9))
    return root


def check_gzip(t, port, version, want_ver):
    """FILE.gz is sent for FILE to a client that accepts gzip, with FILE's
    headers and Vary; a client that does not gets FILE itself."""
    content = dict((r, c) for r, c, _, _ in FILES)[GZ_FILE]
    status, _, body, hdrs = curl(port, "/" + GZ_FILE, version, extra=["--compressed"])
    t.ok(status == 200 and body == content and hdrs.get("content-encoding") == ["gzip"] and
         hdrs.get("vary") == ["accept-encoding"] and
         hdrs.get("content-type") == ["text/javascript; charset=utf-8"] and
         int((hdrs.get("content-length") or ["0"])[0]) < len(content) and
         security_diff(hdrs, IMMUTABLE) == {},
         f"{want_ver}: Accept-Encoding gzip: /{GZ_FILE} sent gzipped (smaller), decodes to the "
         "file, with its type, cache policy and Vary", repr((status, len(body), hdrs)))
    status, _, body, hdrs = curl(port, "/" + GZ_FILE, version,
                                 extra=["-H", "Accept-Encoding: gzip;q=0, identity"])
    t.ok(status == 200 and body == content and "content-encoding" not in hdrs and
         hdrs.get("vary") == ["accept-encoding"],
         f"{want_ver}: gzip;q=0: the file itself, not encoded", repr((status, len(body), hdrs)))


def check_files(t, port, version, want_ver):
    for rel, content, ctype, cache in FILES:
        status, ver, body, hdrs = curl(port, "/" + rel, version)
        t.eq((status, ver), (200, NEGOTIATED), f"{want_ver}: GET /{rel} -> 200 over HTTP/{NEGOTIATED}", repr(hdrs))
        t.ok(body == content, f"{want_ver}: /{rel}: body byte-identical ({len(content)} bytes)",
             f"got {len(body)} bytes")
        t.eq(hdrs.get("content-type"), [ctype], f"{want_ver}: /{rel}: Content-Type {ctype}")
        t.eq(hdrs.get("content-length"), [str(len(content))],
             f"{want_ver}: /{rel}: Content-Length")
        t.eq(security_diff(hdrs, cache), {},
             f"{want_ver}: /{rel}: every security header, Cache-Control {cache}")


def check_head_and_methods(t, port, version, want_ver):
    index = FILES[0][1]
    wasm = FILES[4][1]
    for path, content, cache, ctype in (("/", index, "no-cache", "text/html; charset=utf-8"),
                                        ("/assets/sodium-5JQ2ZK7P.wasm", wasm, IMMUTABLE,
                                         "application/wasm")):
        status, ver, body, hdrs = curl(port, path, version, method="HEAD")
        # curl -I writes the header block to its output: nothing may follow it
        t.ok((status, ver) == (200, NEGOTIATED) and body.endswith(b"\r\n\r\n") and
             body.count(b"\r\n\r\n") == 1, f"{want_ver}: HEAD {path} -> 200, no body",
             repr((status, ver, body[-200:])))
        t.eq(hdrs.get("content-length"), [str(len(content))],
             f"{want_ver}: HEAD {path}: Content-Length of the file")
        t.eq(hdrs.get("content-type"), [ctype], f"{want_ver}: HEAD {path}: Content-Type")
        t.eq(security_diff(hdrs, cache), {}, f"{want_ver}: HEAD {path}: every security header")
    status, _, body, hdrs = curl(port, "/", version, method="POST", data="x=1")
    t.eq(status, 405, f"{want_ver}: POST / -> 405")
    t.eq(hdrs.get("allow"), ["GET, HEAD"], f"{want_ver}: 405 names GET, HEAD in Allow")
    t.eq(body, "Méthode non autorisée. Method not allowed.\n".encode(),
         f"{want_ver}: 405 body: a short bilingual line")
    t.eq(security_diff(hdrs, "no-store"), {},
         f"{want_ver}: 405: every security header, Cache-Control no-store")


def check_refusals(t, port, version, want_ver):
    for path in TRAVERSALS:
        status, _, body, hdrs = curl(port, path, version)
        # 0: lws closed the connection without an answer (a decoded NUL
        # inside the path)
        t.ok(status is not None and status in (0, 400, 403, 404) and SECRET not in body,
             f"{want_ver}: {path!r} refused ({status}), secret not sent", repr((body, hdrs)))
        # liaisond's own 404 carries the headers; lws may refuse a bad
        # request line itself (400) before liaisond sees it
        t.ok(status != 404 or (body == NOT_FOUND and security_diff(hdrs, "no-store") == {}),
             f"{want_ver}: {path!r}: a 404 says only 'not found', with every header",
             repr((body, hdrs)))
    for path in NOT_FOUND_PATHS:
        status, _, body, hdrs = curl(port, path, version)
        t.eq(status, 404, f"{want_ver}: GET {path} -> 404")
        t.eq(body, NOT_FOUND, f"{want_ver}: {path}: 404 body without detail")
        t.eq(security_diff(hdrs, "no-store"), {}, f"{want_ver}: {path}: every security header")
    status, _, body, _ = curl(port, "/", version)
    t.eq((status, body), (200, FILES[0][1]), f"{want_ver}: / is index.html")
    status, _, body, _ = curl(port, "/healthz", version)
    t.eq((status, body), (200, b"ok\n"), f"{want_ver}: /healthz unchanged")
    status, _, body, _ = curl(port, "/metrics", version)
    t.ok(status == 200 and b"# TYPE" in body, f"{want_ver}: /metrics unchanged (loopback)",
         repr(body[:200]))


def main(t):
    if not harness.require_programs(t, client=False):
        return
    with tempfile.TemporaryDirectory(prefix="lsn-webserve-") as base:
        root = make_fixture(base)
        # web_root from the config file
        with Server(t, config={"web_root": root}) as srv:
            for version, want_ver in VERSIONS:
                check_files(t, srv.port, version, want_ver)
                check_head_and_methods(t, srv.port, version, want_ver)
                check_refusals(t, srv.port, version, want_ver)
                check_gzip(t, srv.port, version, want_ver)
            data = head_then_get(srv.port)
            first, _, rest = data.partition(b"\r\n\r\n")
            t.ok(first.startswith(b"HTTP/1.1 200") and rest.startswith(b"HTTP/1.1 200") and
                 rest.endswith(b"\r\n\r\nok\n"),
                 "1.1: HEAD / sends no body (the next pipelined answer follows its headers)",
                 repr(data[-600:]))
            ws = RawWS(srv.port)
            t.eq(ws.protocol, "liaison.v1", "the WebSocket upgrade on / still gets liaison.v1")
            hello = ws.recv_json()
            t.ok(isinstance(hello, dict) and hello, "the WebSocket still says hello",
                 repr(hello))
            ws.sock.close()
            t.ok("serving the browser client from" in srv.log_text(),
                 "the log says where the browser client is served from", srv.log_text()[-2000:])
            srv.stop()
        # web_root from the command line, naming nothing
        missing = os.path.join(base, "not-installed")
        with Server(t, extra_args=["--web-root", missing]) as srv:
            for version, want_ver in VERSIONS:
                status, _, body, hdrs = curl(srv.port, "/", version)
                t.ok(status == 404 and body == NOT_FOUND and
                     security_diff(hdrs, "no-store") == {},
                     f"{want_ver}: no web root: / -> 404 with every header", repr((status, body)))
            status, _, body, _ = curl(srv.port, "/healthz", "--http1.1")
            t.eq((status, body), (200, b"ok\n"), "no web root: /healthz still answers")
            log = srv.log_text()
            t.eq(len(re.findall(r"no browser client is installed", log)), 1,
                 "no web root: logged once at start", log[-2000:])
            t.ok(re.search(r"INFO no browser client is installed \(web_root .*not-installed",
                           log), "no web root: the log line names web_root, at INFO", log[-2000:])
            srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
