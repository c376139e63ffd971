#!/usr/bin/env python3
"""test_slow_consumer.py — a member who stops reading while a busy channel
keeps going (issue 7, item 4): the server's memory stays bounded, the other
member's deliveries are not held up, the slow member is disconnected with
close code 4008 and a reason, and when it comes back it resyncs every
message with `messages`, none lost, none twice. TAP on stdout."""

import base64
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (RawWS, Server, b64, make_envelope, metric_sum, raw_channel,  # noqa: E402
                     raw_enrol, raw_login, run, wait_close)

MESSAGES = 400
ENVELOPE = 4096          # bytes: 400 x ~5.5 KiB of events = ~2.2 MiB for the slow member
SOFT = "64K"


def vm_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main(t):
    if not harness.require_programs(t, client=False):
        return
    if harness.SANITIZED:
        # ASan keeps freed memory in a 256 MiB quarantine, which would be
        # counted as growth; keep it small so RSS still shows our queues
        opts = os.environ.get("ASAN_OPTIONS", "")
        os.environ["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "quarantine_size_mb=4"
    config = {"outq_soft_bytes": SOFT, "outq_soft_grace": 1,
              "rate_conn_per_s": 100000, "rate_conn_burst": 100000,
              "rate_user_per_s": 100000, "rate_user_burst": 100000}
    with Server(t, config=config) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        people = [raw_enrol(srv, srv.invite(None, name, "coordinator", "450000005"))
                  for name in ("Alice Martin", "Bruno Petit", "Chloé Durand")]
        alice, bruno, chloe = people
        a_ws = raw_login(srv, alice)
        channel = raw_channel(a_ws, alice, [bruno, chloe]).channel

        # Bruno logs in with a tiny receive buffer and then stops reading.
        slow = RawWS(srv.port, rcvbuf=4096)
        hello = slow.recv_event("hello")
        r = slow.request(bruno.login_request("localhost", hello["challenge"]))
        if not t.ok(r.get("ok") is True, "the slow member logs in", repr(r)):
            return
        c_ws = raw_login(srv, chloe)

        rss_before = vm_kib(srv.proc.pid, "VmRSS")
        sent_at, latencies, got = {}, [], {}

        def chloe_reads():
            deadline = time.monotonic() + 60 * harness.SLOW
            while len(got) < MESSAGES and time.monotonic() < deadline:
                try:
                    ev = c_ws.recv_event("message", timeout=10 * harness.SLOW)
                except Exception as e:  # noqa: BLE001 — reported below
                    t.diag(f"chloe stopped reading: {e!r}")
                    return
                hdr = base64.b64decode(ev["envelope"])[:80]
                n = int.from_bytes(hdr[52:56], "big")
                got[n] = ev["seq"]
                if n in sent_at:
                    latencies.append(time.monotonic() - sent_at[n])

        reader = threading.Thread(target=chloe_reads)
        reader.start()
        acked = {}
        for i in range(MESSAGES):
            env = bytearray(make_envelope(channel, alice.device, ENVELOPE))
            env[52:56] = i.to_bytes(4, "big")  # our counter, in the index field
            sent_at[i] = time.monotonic()
            r = a_ws.request({"op": "send", "idem": os.urandom(8).hex(),
                              "channel": channel.hex(), "envelope": b64(bytes(env))})
            if r.get("ok") is True:
                acked[i] = r["seq"]
        reader.join()
        t.eq(len(acked), MESSAGES, f"all {MESSAGES} messages are acknowledged")
        t.eq(sorted(got), sorted(acked), "the reading member receives every message live")
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 99
        t.ok(p99 < 2.0 * harness.SLOW,
             "the reading member is not held up by the slow one (delivery p99 under 2 s)",
             f"p99 {p99 * 1000:.1f} ms over {len(latencies)}")

        ok, drops = False, 0
        deadline = time.monotonic() + 10 * harness.SLOW
        while time.monotonic() < deadline:
            drops = metric_sum(srv.metrics()[0], "liaison_outq_soft_drops_total")
            if drops >= 1:
                ok = True
                break
            time.sleep(0.2)
        t.ok(ok, "the slow member is dropped by the soft limit", f"soft drops {drops}")
        rss_after = vm_kib(srv.proc.pid, "VmHWM")
        t.diag(f"server RSS {rss_before} KiB before, peak {rss_after} KiB")
        t.ok(rss_after - rss_before < 32 * 1024,
             "server memory stays bounded while a member does not read (peak RSS growth < 32 MiB)",
             f"RSS {rss_before} KiB before, peak {rss_after} KiB")

        close = wait_close(slow, 10 * harness.SLOW)
        slow.close()
        t.ok(close is not None and close[0] == "close" and close[1] == 4008 and
             "reconnect" in close[2], "it is closed with 4008 and a reason telling it to resync",
             repr(close))

        # Bruno comes back and catches up: every message, once, in order.
        b_ws = raw_login(srv, bruno)
        seqs, after = [], 0
        while True:
            r = b_ws.request({"op": "messages", "channel": channel.hex(), "after": after,
                              "limit": 500})
            if r.get("ok") is not True:
                t.ok(False, "resync with messages", repr(r))
                break
            seqs += [m["seq"] for m in r["messages"]]
            if r["messages"]:
                after = r["messages"][-1]["seq"]
            if not r.get("more"):
                break
        t.eq(sorted(set(seqs)), sorted(acked.values()),
             "after reconnecting the slow member resyncs every acknowledged message")
        t.eq(len(seqs), len(set(seqs)), "and none twice")
        for ws in (a_ws, b_ws, c_ws):
            ws.close()


if __name__ == "__main__":
    run(main)
