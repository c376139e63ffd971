"""harness.py — what the integration tests share: TAP output, a real liaisond
in a temporary directory, the liaison CLI under a temporary home, and a raw
WebSocket-over-TLS client for speaking the wire protocol byte by byte.

Python 3 standard library only. Environment (set by tests/meson.build):
  LIAISOND   path of the server executable
  LIAISON    path of the client executable
  LSN_CERTS  directory with ca.crt, server.crt, server.key (certs/make-dev-certs.sh)
  LSN_KEEP   if set, keep the temporary directories even when all passed
"""

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

LIAISOND = os.environ.get("LIAISOND", "")
LIAISON = os.environ.get("LIAISON", "")
CERTS = os.environ.get("LSN_CERTS", "")
# lsn-profile-tool (profile_tool.c): the build tree's unless meson says
PROFILE_TOOL = os.environ.get("LSN_PROFILE_TOOL") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "tests", "lsn-profile-tool")
SANITIZED = os.environ.get("LSN_SANITIZED", "0") == "1"
# the sanitizer build runs a few times slower
# LSN_VALGRIND=1: liaisond (serving) and every liaison run under valgrind's
# leak checker; a leak or memory error makes the process exit 97, which the
# tests' exit-status checks report (tests/valgrind.sh, docs/TESTING.md).
VALGRIND = os.environ.get("LSN_VALGRIND", "0") == "1"
SLOW = 20 if VALGRIND else 3 if SANITIZED else 1
VALGRIND_EXIT = 97

# The test servers keep liaisond's default time zone: their days (J0, how
# late a step is, semesters) are Paris days. A test's "today" must be the
# same day, not the machine's (UTC here): between 23:00 and 24:00 UTC
# (22:00 in summer) they differ, and tests that dated a case 30 days back
# or a step 3 days late failed only then. The browser runs in this zone
# too (webdrive.py), as the clinicians' do.
SERVER_TZ = "Europe/Paris"


def server_today():
    """Today's date where the test servers count days (SERVER_TZ)."""
    import datetime
    from zoneinfo import ZoneInfo
    return datetime.datetime.now(ZoneInfo(SERVER_TZ)).date()


def valgrind_prefix(log_path):
    if not VALGRIND:
        return []
    return ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", f"--error-exitcode={VALGRIND_EXIT}",
            "--track-origins=no", f"--log-file={log_path}"]


class HarnessError(Exception):
    """Something the test could not even set up (server did not start...)."""


# ---- TAP -------------------------------------------------------------------

class TAP:
    """TAP producer: the plan first (the number of checks the program declared),
    then ok lines as the test goes. A program that ends with a different
    number of checks than it planned fails (done() returns 1), so an early
    return or a shrunken catalogue can never pass with a smaller count."""

    def __init__(self, plan):
        if not isinstance(plan, int) or plan < 1:
            raise ValueError(f"a TAP plan must be a positive number of checks, not {plan!r}")
        self.plan = plan
        self.count = 0
        self.failed = 0
        print(f"1..{plan}", flush=True)

    def ok(self, cond, name, diag=None):
        self.count += 1
        name = name.replace("#", "\\#").replace("\n", " ")
        if cond:
            print(f"ok {self.count} - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.count} - {name}", flush=True)
            if diag:
                self.diag(diag)
        return bool(cond)

    def eq(self, got, want, name, diag=None):
        extra = f"\n{diag}" if diag else ""
        return self.ok(got == want, name, f"got:  {got!r}\nwant: {want!r}{extra}")

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print(f"# {line}", flush=True)

    def done(self):
        """1 if a check failed or the count is not the plan, else 0."""
        if self.count != self.plan:
            self.diag(f"planned {self.plan} checks, ran {self.count}: the program's PLAN "
                      "and what it runs disagree (an early return, a lost case, or a "
                      "new check without its PLAN updated)")
            return 1
        return 1 if self.failed else 0


def run(main, plan):
    """Print the plan (1..plan), run main(t) and exit with TAP's verdict; an
    exception is one failure. Every program declares `PLAN = N` at its top
    (or computes it from its catalogue before running) and calls
    run(main, PLAN)."""
    t = TAP(plan)
    try:
        main(t)
    except Exception:  # noqa: BLE001 - every failure must show up in TAP
        t.ok(False, "test script ran to the end", traceback.format_exc())
    sys.exit(t.done())


def require_programs(t, server=True, client=True):
    """Fail (not skip) when a program under test was not built."""
    missing = []
    if server and not (LIAISOND and os.access(LIAISOND, os.X_OK)):
        missing.append(f"LIAISOND={LIAISOND!r}")
    if client and not (LIAISON and os.access(LIAISON, os.X_OK)):
        missing.append(f"LIAISON={LIAISON!r}")
    if not (CERTS and os.path.exists(os.path.join(CERTS, "ca.crt"))):
        missing.append(f"LSN_CERTS={CERTS!r} (run certs/make-dev-certs.sh)")
    what = " and ".join(w for w, on in (("liaisond", server), ("liaison", client)) if on)
    return t.ok(not missing, f"{what} built and certificates present",
                "missing: " + ", ".join(missing))


def clip(text, limit=4000):
    text = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]


# ---- the server ------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ssl_context():
    ctx = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.crt"))
    ctx.check_hostname = True
    return ctx


def https_get(port, path, timeout=10):
    """GET over HTTPS on 127.0.0.1 (certificate checked for localhost)."""
    import http.client
    conn = http.client.HTTPSConnection("localhost", port, timeout=timeout,
                                       context=ssl_context())
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


# What a sanitizer, glibc or the C library's assert() print when the program
# has a bug (a plain segfault prints nothing: its exit status shows it).
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"MemorySanitizer|ThreadSanitizer|runtime error:|SUMMARY: \w+Sanitizer|"
                       r"==\d+==ERROR|Assertion [`'].*' failed|Segmentation fault|"
                       r"stack smashing detected|double free|free\(\): invalid|"
                       r"malloc\(\): |corrupted size|munmap_chunk\(\)")
# Lines of a server log that mean a bug.
BAD_LOG = re.compile(r"ERROR|" + SANITIZER.pattern)


def sanitizer_check(t, what, stderr):
    """A `not ok` line (on top of the plan, so the program fails) when a
    process's stderr carries a sanitizer report, an assertion failure or a
    glibc heap abort, whatever the test checks of its exit status."""
    text = stderr if isinstance(stderr, str) else (stderr or b"").decode("utf-8", "replace")
    bad = [line for line in (text or "").splitlines() if SANITIZER.search(line)]
    if bad:
        t.ok(False, f"{what}: no sanitizer report or assertion failure on stderr",
             clip(text))
    return not bad


class Server:
    """A liaisond on a free loopback port with its own data directory.

    with Server(t) as srv: ...  — init + serve; on exit SIGTERM, and TAP
    checks that it exited 0 within 10 s and logged no error or sanitizer report.
    """

    def __init__(self, t, server_name="localhost", extra_args=(), config=None):
        self.t = t
        self.server_name = server_name
        self.extra_args = list(extra_args)
        self.tmp = tempfile.mkdtemp(prefix="lsn-it-")
        if config:  # written as liaisond.conf and passed with --config
            path = os.path.join(self.tmp, "liaisond.conf")
            with open(path, "w") as f:
                f.writelines(f"{k} = {v}\n" for k, v in config.items())
            self.extra_args = ["--config", path] + self.extra_args
        self.data = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.clients_home = os.path.join(self.tmp, "clients")
        os.makedirs(self.clients_home, mode=0o700)
        self.port = None
        self.proc = None
        self.stopped = False
        self.signalled = False
        self.exit_code = None

    # -- arguments
    def common_args(self):
        return [LIAISOND, "--data-dir", self.data, "--port", str(self.port),
                "--listen", "127.0.0.1",
                "--cert", os.path.join(CERTS, "server.crt"),
                "--key", os.path.join(CERTS, "server.key"),
                "--server-name", self.server_name] + self.threads_args() + self.extra_args

    @staticmethod
    def threads_args():
        """LSN_SERVICE_THREADS=N (tests/meson.build's "_threads" entries) runs
        every server of the test with N network threads and a core thread."""
        n = os.environ.get("LSN_SERVICE_THREADS")
        return ["--service-threads", n] if n else []

    @property
    def url(self):
        return f"wss://localhost:{self.port}"

    # -- lifecycle
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.kill()
            raise
        return self

    def start(self):
        last_error = ""
        for attempt in range(3):
            self.port = free_port()
            if attempt == 0:
                res = subprocess.run(self.common_args() + ["init"], capture_output=True,
                                     timeout=60 * SLOW, stdin=subprocess.DEVNULL)
                if res.returncode != 0:
                    raise HarnessError(f"liaisond init exited {res.returncode}:\n"
                                       f"{clip(res.stdout)}\n{clip(res.stderr)}")
            log = open(self.log_path, "ab")
            vg = valgrind_prefix(os.path.join(self.tmp, "valgrind-liaisond-%p.log"))
            self.proc = subprocess.Popen(vg + self.common_args(), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)
            log.close()
            if self.wait_healthy(30 * SLOW):
                return
            if self.proc.poll() is None:
                self.kill()
                raise HarnessError(f"liaisond did not answer /healthz on port {self.port}:\n"
                                   f"{clip(self.log_text())}")
            last_error = self.log_text()
            if "in use" not in last_error.lower():
                break  # not a port race: do not retry
        raise HarnessError(f"liaisond exited at start ({self.proc.returncode}):\n"
                           f"{clip(last_error)}")

    def wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                status, _ = https_get(self.port, "/healthz", timeout=2)
                if status == 200:
                    return True
            except (OSError, ssl.SSLError):
                pass
            time.sleep(0.1)
        return False

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self):
        """Send SIGTERM once (stop() does not send it again)."""
        if not self.signalled and self.proc and self.proc.poll() is None:
            self.signalled = True
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, check=True, label=""):
        """SIGTERM; with check, report exit status and log contents in TAP."""
        if self.stopped or self.proc is None:
            return self.exit_code
        self.stopped = True
        t = self.t
        self.terminate()
        try:
            self.exit_code = self.proc.wait(timeout=10)
            in_time = True
        except subprocess.TimeoutExpired:
            in_time = False
            self.kill()
            self.exit_code = self.proc.returncode
        if not check:
            return self.exit_code
        t.ok(in_time, f"{label}server stops within 10 s of SIGTERM", clip(self.log_text()))
        if in_time:
            t.eq(self.exit_code, 0, f"{label}server exits with status 0 after SIGTERM",
                 clip(self.log_text()))
        bad = [line for line in self.log_text().splitlines() if BAD_LOG.search(line)]
        t.ok(not bad, f"{label}server log has no ERROR line and no sanitizer report",
             clip("\n".join(bad[:40]) + "\n--- log tail ---\n" + self.log_text()[-3000:]))
        return self.exit_code

    def __exit__(self, exc_type, exc, tb):
        try:
            self.stop()
        finally:
            self.kill()
            if self.t.failed or os.environ.get("LSN_KEEP"):
                self.t.diag(f"kept {self.tmp} (server log: {self.log_path})")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    # -- admin subcommands (on the database, safely while serving)
    def db_exec(self, sql, args=()):
        """Run one statement on the server's database while it runs (WAL),
        as an attacker who controls it would; its rows, committed."""
        db = sqlite3.connect(os.path.join(self.data, "liaison.db"), timeout=10)
        try:
            rows = db.execute(sql, args).fetchall()
            db.commit()
            return rows
        finally:
            db.close()

    def admin_run(self, *args, timeout=60):
        cmd = [LIAISOND, "--data-dir", self.data] + [str(a) for a in args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * SLOW,
                             stdin=subprocess.DEVNULL)
        return res.returncode, res.stdout, res.stderr

    def admin(self, *args, timeout=60):
        """Run an admin subcommand that must succeed; returns its stdout."""
        rc, out, err = self.admin_run(*args, timeout=timeout)
        if rc != 0:
            raise HarnessError(f"liaisond {' '.join(map(str, args))} exited {rc}:\n"
                               f"{clip(out)}\n{clip(err)}")
        return out

    def invite(self, rpps, name, profession, org, roles="member", expires_in=None):
        """Issue an invite; returns the code (last line of stdout)."""
        args = ["invite", "--name", name, "--profession", profession, "--org", org,
                "--roles", roles]
        if rpps:
            args += ["--rpps", rpps]
        if expires_in:
            args += ["--expires-in", expires_in]
        out = self.admin(*args)
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if not lines:
            raise HarnessError("liaisond invite printed nothing")
        return lines[-1]

    def metrics(self):
        """GET /metrics parsed into {sample name with labels: value}."""
        status, text = https_get(self.port, "/metrics")
        if status != 200:
            raise HarnessError(f"/metrics answered {status}")
        return parse_metrics(text), text


def parse_metrics(text):
    samples = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)", line)
        if m:
            try:
                samples[m.group(1)] = float(m.group(2))
            except ValueError:
                pass
    return samples


def metric_sum(samples, name):
    """Sum of every sample of a metric, whatever its labels."""
    return sum(v for k, v in samples.items() if k == name or k.startswith(name + "{"))


# ---- the client CLI ------------------------------------------------------------

@contextlib.contextmanager
def profile_sqlite(client, write=False, legacy=False):
    """The client's profile database (encrypted: SQLCipher) as a Python
    sqlite3 connection on a copy in the clear (lsn-profile-tool); write: the
    copy is encrypted back in place of profile.db on leaving (no liaison may
    run on the profile meanwhile); legacy: put back in the clear, without
    profile.key, as liaison wrote profiles before they were encrypted."""
    pdir = os.path.join(client.server.clients_home, "profiles", client.profile)
    env = dict(os.environ, LIAISON_PASSPHRASE=client.passphrase)
    fd, clear = tempfile.mkstemp(prefix="profile-", suffix=".db", dir=client.server.tmp)
    os.close(fd)
    subprocess.run([PROFILE_TOOL, "clear", pdir, clear], env=env, check=True,
                   capture_output=True)
    db = sqlite3.connect(clear)
    try:
        yield db
        db.commit()
    finally:
        db.close()
    try:
        if write or legacy:
            subprocess.run([PROFILE_TOOL, "legacy" if legacy else "encrypt", pdir, clear],
                           env=env, check=True, capture_output=True)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(clear + suffix):
                os.unlink(clear + suffix)


class Client:
    """The liaison CLI for one profile, under the server's temporary home."""

    def __init__(self, server, profile, passphrase="correct horse battery staple"):
        self.server = server
        self.profile = profile
        self.passphrase = passphrase

    def env(self, passphrase=None, extra=None):
        env = dict(os.environ)
        env["LIAISON_HOME"] = self.server.clients_home
        env["LIAISON_PASSPHRASE"] = self.passphrase if passphrase is None else passphrase
        env["LIAISON_CA"] = os.path.join(CERTS, "ca.crt")
        env["TZ"] = SERVER_TZ       # the CLI's days are the servers' (SERVER_TZ)
        for name, value in (extra or {}).items():  # None removes the variable
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def run(self, *args, passphrase=None, timeout=120, env=None, binary=False):
        """(returncode, stdout, stderr); env: variables to set (None: to
        remove) for this run, e.g. {"LC_ALL": None, "LANG": "fr_FR.UTF-8"};
        binary: stdout as bytes (a CSV's byte order mark)"""
        cmd = [LIAISON, "--profile", self.profile] + [str(a) for a in args]
        cmd = valgrind_prefix(os.path.join(self.server.tmp, "valgrind-liaison-%p.log")) + cmd
        label = "liaison " + " ".join(str(a) for a in args)[:80]
        try:
            res = subprocess.run(cmd, capture_output=True,
                                 env=self.env(passphrase, env), timeout=timeout * SLOW,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            err = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else \
                (e.stderr or "")
            sanitizer_check(self.server.t, label, err)
            out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else \
                (e.stdout or "")
            return -1, out, f"timed out after {timeout * SLOW} s: {cmd}\n{err}"
        def text(data):  # what text=True gave: UTF-8, universal newlines
            return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
        stdout = res.stdout if binary else text(res.stdout)
        stderr = text(res.stderr)
        # whether or not the test looks at the exit status, a sanitizer
        # report fails the program
        sanitizer_check(self.server.t, label, stderr)
        return res.returncode, stdout, stderr

    def json(self, *args, **kw):
        """Like run with --json; (returncode, parsed stdout or None, stderr)."""
        rc, out, err = self.run("--json", *args, **kw)
        try:
            obj = json.loads(out) if out.strip() else None
        except ValueError:
            obj = None
            err = f"{err}\n(stdout is not JSON: {out[:500]!r})"
        return rc, obj, err

    def enrol(self, code, device_name="cabinet-pc"):
        return self.run("enrol", "--server", self.server.url, "--invite", code,
                        "--device-name", device_name, "--yes")


# ---- raw WebSocket over TLS -------------------------------------------------------

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WSClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"connection closed: code={code} reason={reason!r}")
        self.code = code
        self.reason = reason


class RawWS:
    """A minimal RFC 6455 client over TLS, for speaking the protocol directly.

    recv() answers pings with pongs and returns ("text", str),
    ("binary", bytes) or ("close", code, reason). request() sends a JSON
    request and returns the reply with the same id, keeping events aside.
    """

    def __init__(self, port, host="127.0.0.1", server_hostname="localhost",
                 subprotocol="liaison.v1", timeout=10, auto_pong=True, rcvbuf=None):
        self.port = port
        self.timeout = timeout
        self.buf = b""
        self.next_id = 1
        self.events = []
        self.closed = None
        self.auto_pong = auto_pong
        self.pings_seen = 0
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # a small receive window makes a slow consumer
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(timeout)
        raw.connect((host, port))
        self.sock = ssl_context().wrap_socket(raw, server_hostname=server_hostname)
        self.handshake(server_hostname, subprotocol)

    # -- opening handshake
    def handshake(self, hostname, subprotocol):
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET / HTTP/1.1",
            f"Host: {hostname}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            self._fill()
            if len(self.buf) > 65536:
                raise HarnessError("handshake reply too long")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        head = head.decode("latin-1").split("\r\n")
        self.status_line = head[0]
        self.headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        if not re.match(r"HTTP/1\.1 101\b", self.status_line):
            raise HarnessError(f"handshake refused: {self.status_line}")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != accept:
            raise HarnessError("bad Sec-WebSocket-Accept")
        self.protocol = self.headers.get("sec-websocket-protocol")

    def _fill(self, timeout=None):
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by the server (EOF)")
        self.buf += data

    # -- sending
    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head += bytes([mbit | n])
        elif n < 65536:
            head += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            head += bytes([mbit | 127]) + struct.pack(">Q", n)
        if mask:
            key = os.urandom(4)
            head += key
            payload = mask_bytes(payload, key)
        self.sock.settimeout(self.timeout * 3)
        self.sock.sendall(head + payload)

    def send_text(self, text):
        """A text frame; text may be bytes (sent as they are, even if not UTF-8)."""
        self.send_frame(OP_TEXT, text)

    def send_binary(self, data):
        self.send_frame(OP_BINARY, data)

    def send_fragmented(self, payload, pieces, opcode=OP_TEXT):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        size = max(1, -(-len(payload) // pieces))
        chunks = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
        for i, chunk in enumerate(chunks):
            self.send_frame(opcode if i == 0 else OP_CONT, chunk, fin=(i == len(chunks) - 1))

    def send_json(self, obj):
        self.send_text(json.dumps(obj, separators=(",", ":")))

    def send_close(self, code=1000, reason=""):
        self.send_frame(OP_CLOSE, struct.pack(">H", code) + reason.encode())

    # -- receiving
    def _parse_frame(self):
        """One complete frame from the buffer, or None (nothing consumed)."""
        buf = self.buf
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        fin, opcode, masked, n = bool(b0 & 0x80), b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
        pos = 2
        if n == 126:
            if len(buf) < 4:
                return None
            n, pos = struct.unpack(">H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n, pos = struct.unpack(">Q", buf[2:10])[0], 10
        if masked:
            raise HarnessError("server sent a masked frame (RFC 6455 5.1 forbids it)")
        if len(buf) < pos + n:
            return None
        self.buf = buf[pos + n:]
        return fin, opcode, buf[pos:pos + n]

    def recv_frame(self, timeout=None):
        """(fin, opcode, payload); a timeout leaves partial input buffered."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            frame = self._parse_frame()
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for a frame")
            self._fill(left)

    def recv(self, timeout=None):
        """Next message: ("text", str) | ("binary", bytes) | ("close", code, reason)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        parts, kind = [], None
        while True:
            fin, opcode, payload = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if opcode == OP_PING:
                self.pings_seen += 1
                if self.auto_pong:
                    self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode("utf-8", "replace")
                self.closed = (code, reason)
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                return ("close", code, reason)
            if opcode in (OP_TEXT, OP_BINARY):
                kind = opcode
                parts = [payload]
            elif opcode == OP_CONT:
                parts.append(payload)
            else:
                raise HarnessError(f"server sent opcode {opcode:#x}")
            if fin:
                data = b"".join(parts)
                if kind == OP_TEXT:
                    return ("text", data.decode("utf-8"))
                return ("binary", data)

    def recv_json(self, timeout=None):
        msg = self.recv(timeout)
        if msg[0] == "close":
            raise WSClosed(msg[1], msg[2])
        if msg[0] != "text":
            raise HarnessError(f"server sent a {msg[0]} frame")
        return json.loads(msg[1])

    def recv_event(self, name, timeout=None):
        for i, ev in enumerate(self.events):
            if ev.get("ev") == name:
                return self.events.pop(i)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            obj = self.recv_json(max(0.01, deadline - time.monotonic()))
            if obj.get("ev") == name:
                return obj
            self.events.append(obj)

    def recv_reply(self, rid, timeout=None):
        """The reply with id rid (None for "id": null); events are kept aside."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            obj = self.recv_json(max(0.01, deadline - time.monotonic()))
            if "ev" in obj:
                self.events.append(obj)
                continue
            if obj.get("id") == rid:
                return obj
            raise HarnessError(f"reply out of order: waited for id {rid!r}, got {obj!r}")

    def request(self, obj=None, timeout=None, **fields):
        """Send a request (an id is added when absent) and return its reply."""
        obj = dict(obj or {}, **fields)
        if "id" not in obj:
            obj["id"] = self.next_id
            self.next_id += 1
        self.send_json(obj)
        return self.recv_reply(obj["id"], timeout)

    def ping(self, timeout=None):
        return self.request(op="ping", timeout=timeout)

    def close(self):
        try:
            if self.closed is None:
                self.send_close(1000)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def mask_bytes(data, key):
    if not data:
        return data
    n = len(data)
    big = int.from_bytes(data, "little")
    k = int.from_bytes((key * (n // 4 + 1))[:n], "little")
    return (big ^ k).to_bytes(n, "little")


def error_code(reply):
    """The error code of a reply, or None for a success."""
    if not isinstance(reply, dict) or reply.get("ok") is not False:
        return None
    err = reply.get("error")
    return err.get("code") if isinstance(err, dict) else None


# ---- independent Ed25519 (via the openssl command) ---------------------------------

class Ed25519Key:
    """An Ed25519 key handled by the openssl command line: an implementation
    independent of libsodium, to check the server against the documented
    byte layouts (docs/CRYPTO.md)."""

    DER_PREFIX = bytes.fromhex("302e020100300506032b657004220420")

    def __init__(self, seed=None, workdir=None):
        self.seed = seed or os.urandom(32)
        self.workdir = workdir or tempfile.mkdtemp(prefix="lsn-key-")
        self.pem = os.path.join(self.workdir, f"k-{self.seed[:6].hex()}.pem")
        der = self.DER_PREFIX + self.seed
        subprocess.run(["openssl", "pkey", "-inform", "DER", "-out", self.pem],
                       input=der, check=True, capture_output=True)
        os.chmod(self.pem, 0o600)
        pub = subprocess.run(["openssl", "pkey", "-in", self.pem, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.public = pub[-32:]

    def sign(self, message):
        path = os.path.join(self.workdir, "msg.bin")
        with open(path, "wb") as f:
            f.write(message)
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", self.pem, "-rawin",
                               "-in", path], check=True, capture_output=True).stdout


def x25519_public():
    """A fresh X25519 public key (32 bytes) made by openssl."""
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "X25519"], check=True,
                         capture_output=True).stdout
    pub = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=key,
                         check=True, capture_output=True).stdout
    return pub[-32:]


def lp(data):
    if isinstance(data, str):
        data = data.encode()
    return struct.pack(">H", len(data)) + data


def signed_device_cert(user, device, dk_pk, ts):
    return b"liaison-dev-v1" + lp(user) + lp(device) + dk_pk + struct.pack(">Q", ts)


def signed_ak_cert(device, ak_id, ak_pk, ts):
    return b"liaison-ak-v1" + lp(device) + lp(ak_id) + ak_pk + struct.pack(">Q", ts)


def signed_login(server, user, device, challenge):
    return b"liaison-login-v1" + lp(server) + lp(user) + lp(device) + lp(challenge)


def signed_revoke(user, device, ts):
    return b"liaison-revoke-v1" + lp(user) + lp(device) + struct.pack(">Q", ts)


def b64(data):
    return base64.b64encode(data).decode()


class RawIdentity:
    """A user and device enrolled over the raw protocol, with openssl keys."""

    def __init__(self, workdir):
        self.ik = Ed25519Key(workdir=workdir)
        self.dk = Ed25519Key(workdir=workdir)
        self.user = os.urandom(16)
        self.device = os.urandom(16)
        self.ak_id = os.urandom(16)
        self.ak = x25519_public()

    def enrol_request(self, code, device_name="raw-test", ts=None):
        ts = ts or int(time.time() * 1000)
        return {
            "op": "enrol", "idem": "enrol-" + self.device.hex()[:12], "code": code,
            "user": self.user.hex(), "device": self.device.hex(), "device_name": device_name,
            "ik": b64(self.ik.public),
            "dk": b64(self.dk.public), "dk_ts": ts,
            "dk_sig": b64(self.ik.sign(signed_device_cert(self.user, self.device,
                                                          self.dk.public, ts))),
            "ak_id": self.ak_id.hex(), "ak": b64(self.ak), "ak_ts": ts,
            "ak_sig": b64(self.dk.sign(signed_ak_cert(self.device, self.ak_id, self.ak, ts))),
        }

    def login_request(self, server_name, challenge_b64):
        challenge = base64.b64decode(challenge_b64)
        sig = self.dk.sign(signed_login(server_name, self.user, self.device, challenge))
        return {"op": "login", "user": self.user.hex(), "device": self.device.hex(),
                "sig": b64(sig)}


# ---- raw protocol helpers (membership log, envelopes, logins) ----------------------
# Shared by the tests that speak the protocol without the CLI (test_hostile,
# test_authz); the byte layouts are those of docs/CRYPTO.md.

MLOG_ACTIONS = {"create": 1, "add": 2, "remove": 3, "leave": 4, "role": 5}
MLOG_ROLES = {None: 0, "member": 1, "admin": 2}
MLOG_HISTORY = {None: 0, "shared": 1, "from_join": 2}
MLOG_KINDS = {None: 0, "case": 1, "circle": 2, "team": 3, "direct": 4}


def mlog_bytes(e):
    """The signed bytes of a membership-log entry (CRYPTO.md §6)."""
    prev = base64.b64decode(e["prev"]) if e["prev"] else b""
    return (b"liaison-mlog-v1" + b"\x01" + lp(bytes.fromhex(e["channel"]))
            + struct.pack(">Q", e["seq"]) + lp(prev)
            + lp(bytes.fromhex(e["actor"])) + lp(bytes.fromhex(e["actor_device"]))
            + bytes([MLOG_ACTIONS[e["action"]]]) + lp(bytes.fromhex(e["subject"]))
            + bytes([MLOG_ROLES[e["role"]], MLOG_HISTORY[e["history"]], MLOG_KINDS[e["kind"]]])
            + struct.pack(">Q", e["ts"]))


class MLogChain:
    """A channel's membership log as a client keeps it: entry() makes the
    next signed entry, accept() records it once the server took it."""

    def __init__(self, channel=None):
        self.channel = channel or os.urandom(16)
        self.last = None

    def entry(self, who, action, subject, role=None, history=None, kind=None, **override):
        e = {"channel": self.channel.hex(),
             "seq": 0 if self.last is None else self.last["seq"] + 1,
             "prev": None if self.last is None else
             b64(hashlib.blake2b(mlog_bytes(self.last), digest_size=32).digest()),
             "actor": who.user.hex(), "actor_device": who.device.hex(), "action": action,
             "subject": subject.user.hex() if hasattr(subject, "user") else subject,
             "role": role, "history": history, "kind": kind,
             "ts": int(time.time() * 1000)}
        e.update(override)
        e["sig"] = b64(who.dk.sign(mlog_bytes(e)))
        return e

    def accept(self, e):
        self.last = e


def make_envelope(channel, device, size=256):
    """An envelope whose 80-byte cleartext header names channel and device
    (CRYPTO.md §4); the rest is random bytes standing for nonce, ct and sig."""
    header = (b"LSN\x01" + channel + os.urandom(32) + struct.pack(">I", 0) + device
              + struct.pack(">Q", int(time.time() * 1000)))
    return header + os.urandom(max(0, size - len(header)))


def raw_enrol(srv, code, workdir=None):
    """Enrol a fresh RawIdentity with invite code; raises on refusal."""
    ident = RawIdentity(workdir or srv.tmp)
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(ident.enrol_request(code))
    if r.get("ok") is not True:
        raise HarnessError(f"raw enrol refused: {r!r}")
    return ident


def raw_channel(ws, owner, members):
    """A case channel created by owner (logged in on ws) with members added,
    through signed membership-log entries; returns its MLogChain."""
    chain = MLogChain()
    for m in [None] + list(members):
        e = (chain.entry(owner, "create", owner, role="admin", history="shared", kind="case")
             if m is None else chain.entry(owner, "add", m, role="member"))
        op = "channel_create" if m is None else "channel_append"
        r = ws.request({"op": op, "idem": os.urandom(8).hex(), "entry": e})
        if r.get("ok") is not True:
            raise HarnessError(f"{op} refused: {r!r}")
        chain.accept(e)
    return chain


def wait_close(ws, timeout):
    """Read until the server closes: ("close", code, reason), or ("eof",
    error) when the connection ends without a close frame."""
    try:
        while True:
            msg = ws.recv(timeout=timeout)
            if msg[0] == "close":
                return msg
    except (OSError, ConnectionError) as e:
        return ("eof", repr(e))


class DropWatch(threading.Thread):
    """Watches a peer that stopped reading: waits until the server drops it,
    then reads ws until the server closes it. Started before the load, it
    reads the close frame within a fraction of a second of the drop, before
    the server gives up on a peer that reads nothing (5 s), however slow the
    rest of the test is. The drop is seen in the server's log (log_mark, a
    substring of liaisond's warning: a file read, cheap however loaded the
    server is) or in its metrics growing past `above` (an HTTPS request to
    that server, asked every half second). join(), then .dropped (the
    metric's value once dropped, None if no drop was seen within timeout)
    and .close (wait_close's result, None if not dropped)."""

    def __init__(self, srv, ws, metrics, above, timeout, log_mark="output queue",
                 log_offset=None):
        super().__init__(daemon=True)
        self.log_offset = log_offset  # where the log is read from (None: its end at start)
        self.srv, self.ws, self.metrics, self.above = srv, ws, metrics, above
        self.timeout = timeout
        self.log_mark = log_mark.encode() if log_mark else None
        self.dropped = None
        self.close = None
        self.stop = threading.Event()

    def metric(self):
        try:
            samples = self.srv.metrics()[0]
            return sum(metric_sum(samples, m) for m in self.metrics)
        except (OSError, HarnessError):
            return None

    def logged(self, offset):
        """(seen, new offset): whether the log's new part holds the mark."""
        if self.log_mark is None:
            return False, offset
        try:
            with open(self.srv.log_path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except OSError:
            return False, offset
        # keep a mark cut across two reads: step back by its length
        return self.log_mark in chunk, max(offset, offset + len(chunk) - len(self.log_mark))

    def run(self):
        deadline = time.monotonic() + self.timeout
        try:
            offset = (os.path.getsize(self.srv.log_path) if self.log_offset is None
                      else self.log_offset)
        except OSError:
            offset = 0
        next_metric = 0.0
        while time.monotonic() < deadline and not self.stop.is_set():
            seen, offset = self.logged(offset)
            value = None
            if not seen and time.monotonic() >= next_metric:
                value = self.metric()
                next_metric = time.monotonic() + 0.5
            if seen or (value is not None and value > self.above):
                self.close = wait_close(self.ws, 10 * SLOW)
                self.dropped = value if value is not None else self.metric()
                return
            time.sleep(0.05)


def raw_login(srv, ident, server_name="localhost", timeout=None):
    """A RawWS logged in as ident; raises on refusal."""
    ws = RawWS(srv.port, timeout=timeout or 10 * SLOW)
    hello = ws.recv_event("hello")
    ws.hello = hello
    r = ws.request(ident.login_request(server_name, hello["challenge"]))
    if r.get("ok") is not True:
        ws.close()
        raise HarnessError(f"raw login refused: {r!r}")
    return ws
