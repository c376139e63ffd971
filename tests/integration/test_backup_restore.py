#!/usr/bin/env python3
"""test_backup_restore.py — `liaisond backup FILE` while the server is under
load, and a restore (docs/OPERATIONS.md, "Backup" and "Restore"): two raw
clients keep sending messages and record every acknowledged one; the set
acknowledged before the backup began is noted; the backup runs in a
separate process while the load goes on (and the load is still served
during it); the copy is restored into a new data directory, `liaisond check`
passes, a server started on it serves every message acknowledged before the
backup began, byte for byte. Also: an existing file is never overwritten, a
missing directory is named, and the backup is in the audit trail.
TAP on stdout."""

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LIAISOND, SLOW, RawIdentity, RawWS, Server, b64, run  # noqa: E402
from test_threads_wire import Log, connect, envelope  # noqa: E402

ENVELOPE_BYTES = 8192      # big enough that the copy takes several backup steps
PLAN = 24
PREFILL = 150


class Sender(threading.Thread):
    """Sends messages one after another; records (seq, digest, ack time)."""

    def __init__(self, srv, ident, channel, tag):
        super().__init__(daemon=True)
        self.ws = connect(srv, ident)
        self.who, self.channel, self.tag = ident, channel, tag
        self.acked = []            # (seq, sha256 of envelope, monotonic time of the ack)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error = None
        self.n = 0

    def send_one(self):
        env = envelope(self.channel, self.who.device, ENVELOPE_BYTES)
        self.n += 1
        r = self.ws.request(op="send", idem=f"{self.tag}-{self.n}", channel=self.channel.hex(),
                            envelope=b64(env), timeout=30 * SLOW)
        if r.get("ok") is not True:
            raise RuntimeError(f"send refused: {r!r}")
        with self.lock:
            self.acked.append((r["seq"], hashlib.sha256(env).hexdigest(), time.monotonic()))

    def run(self):
        try:
            while not self.stop.is_set():
                self.send_one()
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc

    def acked_before(self, moment):
        with self.lock:
            return [a for a in self.acked if a[2] < moment]


def enrol(srv, t, keep, rpps, name, profession):
    """A raw user whose openssl keys live in keep (they must outlive srv)."""
    ident = RawIdentity(keep)
    code = srv.invite(rpps, name, profession, "450000005")
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(ident.enrol_request(code))
        t.ok(r.get("ok") is True, f"{name} enrols", repr(r))
    return ident


def fetch_all(ws, channel):
    """Every message the server serves for the channel, in the order served:
    a list of (seq, sha256 of envelope), duplicates kept."""
    got, after = [], 0
    while True:
        r = ws.request(op="messages", channel=channel.hex(), after=after, limit=20)
        msgs = r.get("messages", [])
        for m in msgs:
            got.append((m["seq"], hashlib.sha256(base64.b64decode(m["envelope"])).hexdigest()))
        if not msgs or not r.get("more"):
            return got
        after = msgs[-1]["seq"]


def main(t):
    keep = tempfile.mkdtemp(prefix="lsn-backup-")   # outlives the first server's directory
    try:
        scenario(t, keep)
    finally:
        if t.failed or os.environ.get("LSN_KEEP"):
            t.diag(f"kept {keep}")
        else:
            shutil.rmtree(keep, ignore_errors=True)


def scenario(t, keep):
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        doctor = enrol(srv, t, keep, "10101010105", "Dr Anne Hôpital", "hospital_doctor")
        gp = enrol(srv, t, keep, "10000000009", "Dr Paul Ville", "gp")
        a = connect(srv, doctor)
        channel = os.urandom(16)
        log = Log(channel)
        e = log.entry(doctor, "create", doctor, role="admin", history="shared", kind="team")
        t.ok(a.request(op="channel_create", idem="c1", entry=e).get("ok") is True,
             "a channel is created")
        log.last = e
        e = log.entry(doctor, "add", gp, role="member")
        t.ok(a.request(op="channel_append", idem="c2", entry=e).get("ok") is True, "the GP is added")
        a.close()

        senders = [Sender(srv, doctor, channel, "d"), Sender(srv, gp, channel, "g")]
        for i in range(PREFILL):   # a database of a few MB before the load starts
            senders[i % 2].send_one()
        for s in senders:
            s.start()
        time.sleep(1.0)

        backup = os.path.join(keep, "backups", "liaison-copy.db")
        os.makedirs(os.path.dirname(backup))
        began = time.monotonic()
        res = subprocess.run([LIAISOND, "--data-dir", srv.data, "backup", backup],
                             capture_output=True, text=True, timeout=120 * SLOW)
        ended = time.monotonic()
        time.sleep(0.5)
        for s in senders:
            s.stop.set()
        for s in senders:
            s.join(timeout=30 * SLOW)
            s.ws.close()
        errors = [repr(s.error) for s in senders if s.error]
        t.ok(not errors, "the load ran without a refused or lost request", "\n".join(errors))
        t.ok(res.returncode == 0 and "integrity_check ok" in res.stdout,
             "liaisond backup succeeds while the server runs", res.stdout + res.stderr)
        if res.stderr.strip():
            t.diag("backup stderr: " + res.stderr.strip().replace("\n", " | "))
        before = [a for s in senders for a in s.acked_before(began)]
        during = [a for s in senders for a in s.acked if began <= a[2] < ended]
        t.ok(len(before) >= PREFILL, f"{len(before)} messages acknowledged before the backup began")
        t.diag(f"backup took {ended - began:.2f} s; {len(during)} messages acknowledged meanwhile")
        t.ok(len(during) > 0, "the server kept acknowledging messages during the backup")
        t.ok(os.path.exists(backup) and
             not [f for f in os.listdir(os.path.dirname(backup)) if f != "liaison-copy.db"],
             "only the finished file is left in the backup directory",
             repr(os.listdir(os.path.dirname(backup))))

        rc, out, err = srv.admin_run("backup", backup)
        t.ok(rc == 1 and "already exists" in err, "an existing file is never overwritten", out + err)
        missing = os.path.join(srv.tmp, "no-such-dir", "x.db")
        rc, out, err = srv.admin_run("backup", missing)
        t.ok(rc == 1 and "does not exist" in err and "no-such-dir" in err,
             "a missing directory is named", out + err)
        rc, out, err = srv.admin_run("backup")
        t.ok(rc == 2 and "usage" in err, "no file name: usage", out + err)
        rc, out, err = srv.admin_run("audit", "show", "--json")
        t.ok(rc == 0 and '"action":"backup","outcome":"ok"' in out and "liaison-copy.db" in out,
             "the backup is in the audit trail", out[-600:] + err)

    # ---- restore into a new data directory, as docs/OPERATIONS.md says --------
    srv2 = Server(t)
    os.makedirs(srv2.data, mode=0o700)
    shutil.copyfile(backup, os.path.join(srv2.data, "liaison.db"))
    rc, out, err = srv2.admin_run("check")
    t.ok(rc == 0 and "integrity_check ok" in out, "liaisond check passes on the restored copy",
         out + err)
    rc, out, err = srv2.admin_run("audit", "verify")
    t.ok(rc == 0, "the restored audit trail is intact", out + err)
    with srv2:
        ws = connect(srv2, gp)
        served = fetch_all(ws, channel)
        ws.close()
        got = dict(served)
        missing = [seq for seq, digest, _ in before if got.get(seq) != digest]
        t.ok(not missing, f"all {len(before)} messages acknowledged before the backup began are "
             "served by the restored server, byte for byte", f"missing or different: {missing[:20]}")
        t.diag(f"the restored copy holds {len(got)} messages "
               f"({len(got) - len(before)} acknowledged after the backup began)")
        seqs = [seq for seq, _ in served]
        digests = [digest for _, digest in served]
        twice = sorted({s for s in seqs if seqs.count(s) > 1})
        t.ok(not twice and seqs == list(range(1, len(seqs) + 1)),
             "the restored thread serves each sequence number once, in order, with no gap",
             f"served twice: {twice[:10]}; first seqs {seqs[:10]}")
        t.ok(len(digests) == len(set(digests)),
             "and no envelope twice (each message was sent once)",
             f"{len(digests) - len(set(digests))} repeated envelopes")


if __name__ == "__main__":
    run(main, PLAN)
