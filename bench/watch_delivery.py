#!/usr/bin/env python3
"""watch_delivery.py — server work per message delivered to `liaison watch`.

Starts a real liaisond (synchronous=full, dev TLS certificates, a free
loopback port, a temporary data directory), enrols K users in one case
channel, starts K-1 `liaison watch` processes, sends M messages with
`liaison send` from the remaining user (one process per message, as a
person would), waits until every watcher printed every message, and prints:

  - messages sent and deliveries (watcher × message pairs seen);
  - the requests the server handled during the M messages, by op and in all
    (liaison_requests_total in /metrics), per delivery and per message sent;
  - frames the server sent (liaison_frames_out_total) per delivery;
  - the server's CPU time (utime + stime of /proc/PID/stat, every thread)
    per delivery and per message sent.

Before the measured messages, one warm-up message goes to every watcher:
the key shares, the watchers' first sync and their subscriptions are not
counted. What is counted includes each `liaison send` process's own session
(hello, login, …); the by-op table tells it apart from what the watchers
ask (e.g. `messages`, fetched again after each `message` event).

Run it with two builds to compare them (the binaries are options, so an old
and a new build can be measured on the same machine, one after the other):

  bench/watch_delivery.py --liaison build/client/liaison \\
      --liaisond build/server/liaisond [--users 5] [--messages 200] [--json]

Options: --certs DIR (ca.crt, server.crt, server.key; default certs/dev),
--timeout S (wait for the deliveries; default 60 + M/2 s), --keep (keep the
temporary directory), --server-arg ARG (extra liaisond flag, repeatable).
Exit status 0 when every watcher printed every message and the server
logged no ERROR line; 1 otherwise. Python 3 standard library only.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

# the integration harness's helpers: a free port, the /metrics parser
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from harness import free_port, parse_metrics  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORG_FINESS = "450000005"
PASSPHRASE = "correct horse battery staple"
BAD_LOG = re.compile(r"ERROR|AddressSanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def die(msg):
    print(f"watch_delivery: {msg}", file=sys.stderr)
    sys.exit(1)


def rpps_of(n):
    """An RPPS number (11 digits, the last a Luhn check digit) for user n."""
    body = f"1{n:09d}"
    total = 0
    for i, ch in enumerate(reversed(body)):  # the check digit will be rightmost
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


class Bench:
    def __init__(self, args):
        self.args = args
        self.certs = os.path.abspath(args.certs)
        self.tmp = tempfile.mkdtemp(prefix="lsn-watch-bench-")
        self.data = os.path.join(self.tmp, "data")
        self.home = os.path.join(self.tmp, "clients")
        os.makedirs(self.home, mode=0o700)
        self.log_path = os.path.join(self.tmp, "server.log")
        self.server = None
        self.port = None
        self.watchers = []  # (profile, Popen, set of tokens seen, thread)
        self.lock = threading.Lock()

    # -- the server
    def https_get(self, path, timeout=5):
        ctx = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.crt"))
        conn = http.client.HTTPSConnection("localhost", self.port, timeout=timeout, context=ctx)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def admin(self, *argv):
        res = subprocess.run([self.args.liaisond, "--data-dir", self.data] + list(argv),
                             capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             timeout=120)
        if res.returncode != 0:
            die(f"liaisond {' '.join(argv)} exited {res.returncode}:\n{res.stdout}{res.stderr}")
        return res.stdout

    def start_server(self):
        self.admin("init")
        self.admin("org", "add", "--name", "CPTS Bench", "--finess", ORG_FINESS, "--kind", "cpts")
        self.port = free_port()
        log = open(self.log_path, "ab")
        self.server = subprocess.Popen(
            [self.args.liaisond, "--data-dir", self.data, "--port", str(self.port),
             "--listen", "127.0.0.1", "--cert", os.path.join(self.certs, "server.crt"),
             "--key", os.path.join(self.certs, "server.key"), "--server-name", "localhost",
             "--synchronous", "full", "--log-level", "warn"] + self.args.server_arg,
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                die(f"liaisond exited at start ({self.server.returncode}):\n{self.log_text()}")
            try:
                if self.https_get("/healthz", timeout=2)[0] == 200:
                    return
            except (OSError, ssl.SSLError):
                pass
            time.sleep(0.1)
        die(f"liaisond did not answer /healthz on port {self.port}:\n{self.log_text()}")

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def metrics(self):
        status, text = self.https_get("/metrics", timeout=10)
        if status != 200:
            die(f"/metrics answered {status}")
        return parse_metrics(text)

    def settle(self, quiet=1.0, timeout=15):
        """The metrics once no request has arrived for `quiet` seconds (the
        watchers' receipts and fetches after their last print are counted)."""
        deadline = time.monotonic() + timeout
        last = self.metrics()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.metrics()
            if all(now.get(k) == v for k, v in last.items()
                   if k[0] == "liaison_requests_total"):
                return now
            last = now
        return last

    def cpu_seconds(self):
        """utime + stime of the whole server process (all its threads)."""
        with open(f"/proc/{self.server.pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()  # fields from 3 (state) on
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    # -- the clients
    def env(self):
        env = dict(os.environ)
        env["LIAISON_HOME"] = self.home
        env["LIAISON_PASSPHRASE"] = PASSPHRASE
        env["LIAISON_CA"] = os.path.join(self.certs, "ca.crt")
        env.pop("LIAISON_DEBUG", None)
        return env

    def cli(self, profile, *argv, timeout=120):
        res = subprocess.run([self.args.liaison, "--profile", profile] + list(argv),
                             capture_output=True, text=True, env=self.env(),
                             stdin=subprocess.DEVNULL, timeout=timeout)
        return res.returncode, res.stdout, res.stderr

    def cli_ok(self, profile, *argv):
        rc, out, err = self.cli(profile, *argv)
        if rc != 0:
            die(f"liaison --profile {profile} {' '.join(argv)} exited {rc}:\n{out}{err}")
        return out

    def enrol_all(self):
        for i in range(self.args.users):
            out = self.admin("invite", "--name", f"Bench User {i}", "--profession", "gp",
                             "--org", ORG_FINESS, "--roles", "member", "--rpps", rpps_of(i))
            code = [ln.strip() for ln in out.splitlines() if ln.strip()][-1]
            self.cli_ok(f"u{i}", "enrol", "--server", f"wss://localhost:{self.port}",
                        "--invite", code, "--device-name", "bench", "--yes")
        out = self.cli_ok("u0", "--json", "channel", "create", "--kind", "case", "--topic",
                          "watch delivery bench")
        channel = json.loads(out).get("channel", "")
        if not re.fullmatch(r"[0-9a-f]{32}", channel):
            die(f"channel create printed no channel id: {out}")
        for i in range(1, self.args.users):
            self.cli_ok("u0", "channel", "add", channel, rpps_of(i))
        return channel

    def start_watchers(self):
        for i in range(1, self.args.users):
            proc = subprocess.Popen([self.args.liaison, "--profile", f"u{i}", "--json", "watch"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=self.env(), stdin=subprocess.DEVNULL)
            seen = set()
            th = threading.Thread(target=self.read_watcher, args=(proc, seen), daemon=True)
            th.start()
            self.watchers.append((f"u{i}", proc, seen, th))

    def read_watcher(self, proc, seen):
        for line in proc.stdout:
            for token in re.findall(r"wd-[0-9a-f]+-(?:warm|\d+)", line):
                with self.lock:
                    seen.add(token)

    def wait_for(self, tokens, timeout):
        """True when every watcher has printed every token, before timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(tokens <= seen for _, _, seen, _ in self.watchers):
                    return True
            for profile, proc, _, _ in self.watchers:
                if proc.poll() is not None:
                    print(f"watch_delivery: the watcher {profile} exited {proc.returncode}: "
                          f"{proc.stderr.read()[-2000:]}", file=sys.stderr)
                    return False
            time.sleep(0.05)
        return False

    def stop(self):
        for _, proc, _, _ in self.watchers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for _, proc, _, _ in self.watchers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        bad = []
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
                bad.append("liaisond did not stop within 10 s of SIGTERM")
        bad += [ln for ln in self.log_text().splitlines() if BAD_LOG.search(ln)]
        if self.args.keep:
            print(f"watch_delivery: kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return bad

    # -- the measurement
    def run(self):
        a = self.args
        self.start_server()
        channel = self.enrol_all()
        self.start_watchers()
        run_id = os.urandom(4).hex()
        warm = f"wd-{run_id}-warm"
        self.cli_ok("u0", "send", channel, f"warm-up {warm}")
        if not self.wait_for({warm}, 60 + 10 * a.users):
            return None, "the watchers did not all print the warm-up message"
        m0, cpu0, t0 = self.settle(), self.cpu_seconds(), time.monotonic()
        tokens, send_failures = set(), 0
        for i in range(a.messages):
            token = f"wd-{run_id}-{i}"
            rc, out, err = self.cli("u0", "send", channel, f"message {i} {token}")
            if rc != 0:
                send_failures += 1
                print(f"watch_delivery: send {i} exited {rc}: {err.strip()}", file=sys.stderr)
                continue
            tokens.add(token)
        complete = self.wait_for(tokens, a.timeout if a.timeout else 60 + a.messages / 2)
        m1, cpu1, t1 = self.settle(), self.cpu_seconds(), time.monotonic()
        with self.lock:
            delivered = sum(len(tokens & seen) for _, _, seen, _ in self.watchers)
            per_watcher = {p: len(tokens & seen) for p, _, seen, _ in self.watchers}

        def delta(name):
            """{labels: increase} of every sample of the metric name."""
            return {k[len(name):]: m1[k] - m0.get(k, 0)
                    for k in m1 if k == name or k.startswith(name + "{")}

        by_op = {}
        for labels, v in delta("liaison_requests_total").items():
            op = re.search(r'op="([^"]*)"', labels)
            if v:
                by_op[op.group(1) if op else labels] = int(v)
        result = {
            "users": a.users, "watchers": a.users - 1, "messages": a.messages,
            "sent": len(tokens), "send_failures": send_failures,
            "deliveries_expected": len(tokens) * (a.users - 1), "delivered": delivered,
            "delivered_by_watcher": per_watcher, "complete": complete,
            "seconds": round(t1 - t0, 3),
            "requests_by_op": dict(sorted(by_op.items(), key=lambda kv: -kv[1])),
            "requests_total": sum(by_op.values()),
            "frames_out": int(sum(delta("liaison_frames_out_total").values())),
            "bytes_out": int(sum(delta("liaison_bytes_out_total").values())),
            "commit_batches": int(sum(delta("liaison_commit_batches_total").values())),
            "rate_limited": int(sum(delta("liaison_rate_limited_total").values())),
            "server_cpu_seconds": round(cpu1 - cpu0, 3),
            "liaison": os.path.abspath(a.liaison), "liaisond": os.path.abspath(a.liaisond),
        }
        return result, None if complete and not send_failures else \
            f"{delivered} of {len(tokens) * (a.users - 1)} deliveries seen, " \
            f"{send_failures} send(s) failed"


def report(r):
    d, s = r["delivered"], r["sent"]

    def per(x, n, scale=1.0, fmt="{:.2f}"):
        return fmt.format(x * scale / n) if n else "-"

    print(f"== {r['users']} users: 1 sender, {r['watchers']} watchers; "
          f"{r['messages']} messages, synchronous=full")
    print(f"   liaisond {r['liaisond']}\n   liaison  {r['liaison']}")
    print(f"messages sent          {s}" + (f" ({r['send_failures']} failed)"
                                          if r["send_failures"] else ""))
    print(f"deliveries             {d} of {r['deliveries_expected']} "
          f"(watcher x message), {r['seconds']:.1f} s until the server was quiet")
    print(f"requests               {r['requests_total']}: "
          f"{per(r['requests_total'], d)} per delivery, {per(r['requests_total'], s)} per message")
    print("  by op                  total  /delivery  /message")
    for op, n in r["requests_by_op"].items():
        print(f"  {op:<20} {n:>7}  {per(n, d):>9}  {per(n, s):>8}")
    print(f"frames sent            {r['frames_out']}: {per(r['frames_out'], d)} per delivery")
    print(f"commit batches         {r['commit_batches']}")
    if r["rate_limited"]:
        print(f"rate limited           {r['rate_limited']} (the figures are not comparable)")
    print(f"server CPU             {r['server_cpu_seconds']:.2f} s: "
          f"{per(r['server_cpu_seconds'], d, 1000)} ms per delivery, "
          f"{per(r['server_cpu_seconds'], s, 1000)} ms per message")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--liaison", default=os.path.join(ROOT, "build/client/liaison"),
                   help="the liaison client binary (default build/client/liaison)")
    p.add_argument("--liaisond", default=os.path.join(ROOT, "build/server/liaisond"),
                   help="the liaisond server binary (default build/server/liaisond)")
    p.add_argument("--users", "-k", type=int, default=5, help="K users, K-1 watching (5)")
    p.add_argument("--messages", "-m", type=int, default=200, help="M messages sent (200)")
    p.add_argument("--certs", default=os.path.join(ROOT, "certs/dev"),
                   help="directory with ca.crt, server.crt, server.key (certs/dev)")
    p.add_argument("--timeout", type=float, default=0,
                   help="seconds to wait for every delivery (60 + M/2)")
    p.add_argument("--server-arg", action="append", default=[],
                   help="extra liaisond flag (repeat for each word)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args()
    if args.users < 2 or args.messages < 1:
        p.error("needs --users >= 2 and --messages >= 1")
    for prog in (args.liaison, args.liaisond):
        if not os.access(prog, os.X_OK):
            p.error(f"{prog}: not an executable (build it, or give its path)")
    for f in ("ca.crt", "server.crt", "server.key"):
        if not os.path.isfile(os.path.join(args.certs, f)):
            p.error(f"{args.certs}/{f} is missing (certs/make-dev-certs.sh makes them)")

    bench = Bench(args)
    result, problem = None, None
    try:
        result, problem = bench.run()
    finally:
        bad = bench.stop()
    if result:
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            report(result)
    for line in bad[:20]:
        print(f"watch_delivery: server log: {line}", file=sys.stderr)
    if problem:
        print(f"watch_delivery: {problem}", file=sys.stderr)
    return 0 if result and not problem and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
