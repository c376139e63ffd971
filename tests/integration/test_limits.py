#!/usr/bin/env python3
"""test_limits.py — the server under pressure: many connections at once, a
client that pipelines thousands of requests and does not read (slow
consumer), and the idle policy (ping after ping_after, hang up after
hangup_after; a pong or any frame counts as a sign of life). Others must be served throughout. The hard output limit is
proven both ways: bursts whose replies exceed outq_max_bytes or
outq_max_frames must end with close 4008, a burst within both limits must
get every reply and never 4008. TAP on stdout."""

import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawIdentity, RawWS, Server, metric_sum, run  # noqa: E402

PLAN = 48
OUTQ_MAX_BYTES, OUTQ_MAX_FRAMES = 256 * 1024, 256   # the first server's hard limits


def wait_metric(srv, name, pred, timeout=10):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = metric_sum(srv.metrics()[0], name)
        if pred(value):
            return True, value
        time.sleep(0.1)
    return False, value


def many_connections(t, srv, n=40):
    ok0, base = wait_metric(srv, "liaison_connections", lambda v: v is not None)
    conns = []
    try:
        for _ in range(n):
            ws = RawWS(srv.port)
            conns.append(ws)
        hellos = [ws.recv_event("hello") for ws in conns]
        t.eq(len({h.get("challenge") for h in hellos}), n,
             f"{n} simultaneous connections each get a hello with its own challenge")
        for ws in conns:
            ws.send_json({"id": 7, "op": "ping"})
        answers = [ws.recv_reply(7).get("ok") for ws in conns]
        t.ok(all(a is True for a in answers), f"all {n} connections answer ping", repr(answers))
        ok, value = wait_metric(srv, "liaison_connections", lambda v: v >= base + n)
        t.ok(ok, f"liaison_connections counts the {n} connections", f"{base} -> {value}")
    finally:
        for ws in conns:
            ws.close()
    ok, value = wait_metric(srv, "liaison_connections", lambda v: v <= base)
    t.ok(ok, "liaison_connections comes back down when they close", f"{base} -> {value}")


def enrol_users(srv, count):
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
              "--kind", "cpts")
    idents = []
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        for i in range(count):
            code = srv.invite(None, f"Coordinatrice {i:02d} du parcours de soins de la CPTS",
                              "coordinator", "450000005")
            ident = RawIdentity(srv.tmp)
            r = ws.request(ident.enrol_request(code))
            if r.get("ok") is not True:
                raise harness.HarnessError(f"raw enrol failed: {r!r}")
            idents.append(ident)
    return idents


def slow_consumer(t, srv, requests=2000):
    """Pipelined requests in one write from a client that does not read, whose
    replies (several MiB of directory entries) far exceed outq_max_bytes: the
    server must close it with 4008, and serve others meanwhile."""
    before = metric_sum(srv.metrics()[0], "liaison_outq_drops_total")
    idents = enrol_users(srv, 8)
    slow = RawWS(srv.port, rcvbuf=4096)
    hello = slow.recv_event("hello")
    r = slow.request(idents[0].login_request("localhost", hello["challenge"]))
    if not t.ok(r.get("ok") is True, "slow client logs in", repr(r)):
        return
    # one reply's size, from a connection that reads
    with RawWS(srv.port) as probe:
        hello = probe.recv_event("hello")
        probe.request(idents[1].login_request("localhost", hello["challenge"]))
        one = len(json.dumps(probe.request(op="directory_search", limit=100)))
    t.ok(one * requests > 8 * OUTQ_MAX_BYTES,
         f"the {requests} replies owed (~{one * requests >> 10} KiB) are far above "
         f"outq_max_bytes ({OUTQ_MAX_BYTES >> 10} KiB)", f"one reply: {one} bytes")
    frames = [small_text_frame(b'{"id":%d,"op":"directory_search","limit":100}' % (1000 + i))
              for i in range(requests)]
    try:
        slow.sock.settimeout(30)
        slow.sock.sendall(b"".join(frames))
    except OSError as e:
        t.diag(f"burst write stopped: {e!r}")

    with RawWS(srv.port) as other:
        other.recv_event("hello")
        t0 = time.monotonic()
        r = other.ping(timeout=5)
        t.ok(r.get("ok") is True and time.monotonic() - t0 < 5,
             "another connection is served while the slow client does not read", repr(r))

    check_outcome(t, srv, slow, requests, before, "pipelined directory searches",
                  expect_close=True)


def within_limits(t, srv, count=200):
    """A burst whose replies fit in both hard limits (count < outq_max_frames,
    a few KiB), from a client that reads nothing for two seconds: every reply
    arrives, in order, and the connection is never closed."""
    before = metric_sum(srv.metrics()[0], "liaison_outq_drops_total")
    ws = RawWS(srv.port, rcvbuf=4096)
    ws.recv_event("hello")
    ws.sock.settimeout(30)
    ws.sock.sendall(b"".join(small_text_frame(b'{"id":%d,"op":"ping"}' % (1000 + i))
                             for i in range(count)))
    time.sleep(2)
    check_outcome(t, srv, ws, count, before, f"a burst of {count} pings within the limits",
                  expect_close=False)


def check_outcome(t, srv, ws, sent, drops_before, what, expect_close):
    """expect_close: in-order replies, then a close with 4008, counted in
    liaison_outq_drops_total, and the client can reconnect. Otherwise: all
    `sent` replies in order, no close, no drop counted, and the same
    connection still answers. Three checks either way."""
    ids, close = [], None
    try:
        while len(ids) < sent:
            msg = ws.recv(timeout=10)
            if msg[0] == "close":
                close = msg
                break
            ids.append(json.loads(msg[1]).get("id"))
    except (OSError, ConnectionError) as e:
        close = ("eof", repr(e))
    in_order = ids == list(range(1000, 1000 + len(ids)))
    t.diag(f"{what}: {len(ids)} of {sent} replies read, ending: {close!r}")
    after = metric_sum(srv.metrics()[0], "liaison_outq_drops_total")
    if not expect_close:
        t.ok(close is None and in_order and len(ids) == sent,
             f"{what}: all {sent} replies arrive, in order, and it is not closed",
             f"{len(ids)} replies, in order: {in_order}, ending: {close!r}")
        t.ok(after == drops_before, f"{what}: liaison_outq_drops_total does not move",
             f"{drops_before} -> {after}")
        r = ws.ping(timeout=5) if close is None else {}
        ws.close()
        t.ok(r.get("ok") is True, f"{what}: the same connection still answers", repr(r))
        return
    ws.close()
    t.ok(in_order and close is not None and close[0] == "close" and close[1] == 4008,
         f"{what}: the slow consumer is closed with 4008 after in-order replies",
         f"{close!r} after {len(ids)} of {sent} replies, in order: {in_order}")
    t.ok(after > drops_before, f"{what}: liaison_outq_drops_total counts the dropped consumer",
         f"{drops_before} -> {after}")
    with RawWS(srv.port) as again:
        again.recv_event("hello")
        t.ok(again.ping().get("ok") is True, f"{what}: the dropped client can reconnect")


def ping_burst(t, srv, count=2000):
    """Thousands of small requests in one write, more than outq_max_frames."""
    before = metric_sum(srv.metrics()[0], "liaison_outq_drops_total")
    ws = RawWS(srv.port, rcvbuf=4096)
    ws.recv_event("hello")
    frames = [small_text_frame(b'{"id":%d,"op":"ping"}' % (1000 + i)) for i in range(count)]
    try:
        ws.sock.settimeout(30)
        ws.sock.sendall(b"".join(frames))
    except OSError as e:
        t.diag(f"burst write stopped: {e!r}")
    with RawWS(srv.port) as other:
        other.recv_event("hello")
        t.ok(other.ping(timeout=5).get("ok") is True,
             "another connection is served during a burst of small requests")
    check_outcome(t, srv, ws, count, before, f"a burst of {count} pings", expect_close=True)


def small_text_frame(payload):
    """A masked client text frame for a payload under 126 bytes."""
    key = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + key + harness.mask_bytes(payload, key)


def read_replies(ws, count, timeout=10):
    """Read until `count` replies arrived; unpack coalesced frames. Returns
    (reply ids in arrival order, number of {"batch":[...]} frames seen)."""
    ids, batches = [], 0
    while len(ids) < count:
        msg = ws.recv(timeout=timeout)
        if msg[0] != "text":
            break
        frame = json.loads(msg[1])
        items = [frame]
        if list(frame) == ["batch"]:
            batches += 1
            items = frame["batch"]
        ids += [f.get("id") for f in items if "id" in f]
    return ids, batches


def coalescing(t, srv, idents, count=200):
    """A client that asked for "batch" at login gets queued frames coalesced
    into {"batch":[...]}, every reply once and in order; one that did not
    ask never sees a batch frame."""
    before = metric_sum(srv.metrics()[0], "liaison_batch_frames_total")
    for ident, batch in ((idents[1], True), (idents[2], False)):
        with RawWS(srv.port) as ws:
            hello = ws.recv_event("hello")
            req = ident.login_request("localhost", hello["challenge"])
            if batch:
                req["batch"] = True
            r = ws.request(req)
            if not t.ok(r.get("ok") is True and r.get("batch", False) is batch,
                        f"login with batch={batch} is answered with batch={batch}", repr(r)):
                continue
            # pipelined in one write: the replies queue up faster than they leave
            ws.sock.sendall(b"".join(small_text_frame(b'{"id":%d,"op":"ping"}' % (5000 + i))
                                     for i in range(count)))
            ids, batches = read_replies(ws, count)
            t.ok(ids == list(range(5000, 5000 + count)),
                 f"batch={batch}: all {count} pipelined replies arrive once, in order",
                 f"{len(ids)} ids")
            if batch:
                t.ok(batches >= 1, "queued replies were coalesced into batch frames",
                     f"{batches} batch frames for {count} replies")
            else:
                t.ok(batches == 0, "a client that did not ask never gets a batch frame",
                     f"{batches} batch frames")
    after = metric_sum(srv.metrics()[0], "liaison_batch_frames_total")
    t.ok(after > before, "liaison_batch_frames_total counts the coalesced frames",
         f"{before} -> {after}")
    with RawWS(srv.port) as ws:
        hello = ws.recv_event("hello")
        req = idents[3].login_request("localhost", hello["challenge"])
        req["batch"] = "yes"
        r = ws.request(req)
        t.ok(r.get("ok") is False and r["error"]["code"] == "bad_request" and
             "batch" in r["error"]["message"], "a non-boolean batch is refused", repr(r))


def dropped_in_log(srv, offset):
    """The server logged an output-queue drop after byte offset of its log."""
    try:
        with open(srv.log_path, "rb") as f:
            f.seek(offset)
            return b"output queue" in f.read()
    except OSError:
        return False


def soft_limit(t):
    """A client whose queue stays above outq_soft_bytes for outq_soft_grace
    seconds is closed with 4008 and a reason, well under the hard limit."""
    with Server(t, config={"outq_soft_bytes": "32K", "outq_soft_grace": 1,
                           "outq_max_bytes": "64M", "outq_max_frames": 100000}) as srv:
        idents = enrol_users(srv, 8)
        slow = RawWS(srv.port, rcvbuf=4096)
        hello = slow.recv_event("hello")
        r = slow.request(idents[0].login_request("localhost", hello["challenge"]))
        if not t.ok(r.get("ok") is True, "soft limit: slow client logs in", repr(r)):
            return
        sent = 0
        log_start = os.path.getsize(srv.log_path)
        try:
            slow.sock.settimeout(10)
            for i in range(1500):
                slow.send_json({"id": 1000 + i, "op": "directory_search", "limit": 100})
                sent += 1
                # once dropped, stop sending and read its close at once: the
                # server gives up on a peer that reads nothing after 5 s,
                # which a slow (sanitizer) build could spend sending on
                if i % 25 == 24 and dropped_in_log(srv, log_start):
                    break
        except OSError as e:
            t.diag(f"sending stopped after {sent} requests: {e!r}")
        # read its close as soon as the drop shows (before the server gives
        # up on a peer that reads nothing), however slow the checks below are
        watch = harness.DropWatch(srv, slow, ["liaison_outq_soft_drops_total"], 0, 30,
                                  log_offset=log_start)
        watch.start()
        ok, value = wait_metric(srv, "liaison_outq_soft_drops_total", lambda v: v >= 1, 8)
        t.ok(ok, "the client over the soft limit is dropped within the grace period",
             f"liaison_outq_soft_drops_total = {value}")
        with RawWS(srv.port) as other:
            other.recv_event("hello")
            t.ok(other.ping(timeout=5).get("ok") is True,
                 "soft limit: another connection is served meanwhile")
        watch.join(40)
        close = watch.close
        slow.close()
        t.ok(close is not None and close[0] == "close" and close[1] == 4008 and
             "soft limit" in close[2], "it is closed with 4008 and a reason naming the soft limit",
             repr(close))
        hard = metric_sum(srv.metrics()[0], "liaison_outq_drops_total")
        t.ok(hard == 0, "the hard limit was not what dropped it", f"hard drops {hard}")


def read_for(ws, seconds):
    """Keep reading (answering pings when ws.auto_pong) for a while; returns
    the close message or error if the server hung up, else None."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            msg = ws.recv(timeout=left)
        except socket.timeout:
            return None
        except (OSError, ConnectionError) as e:
            return ("eof", repr(e))
        if msg[0] == "close":
            return msg


def idle_policy(t):
    ping_after, hangup_after = 1, 3
    with Server(t, config={"ping_after": ping_after, "hangup_after": hangup_after}) as srv:
        alive = RawWS(srv.port)
        alive.recv_event("hello")
        dead = RawWS(srv.port, auto_pong=False)
        dead.recv_event("hello")
        results = {}

        def watch(name, ws, seconds):
            t0 = time.monotonic()
            results[name] = (read_for(ws, seconds), time.monotonic() - t0)

        # never answers pings, but sends a request every second: kept too
        chatty = RawWS(srv.port, auto_pong=False)
        chatty.recv_event("hello")

        def talk(seconds):
            t0 = time.monotonic()
            end, n = None, 0
            while end is None and time.monotonic() - t0 < seconds:
                n += 1
                try:
                    chatty.send_json({"id": n, "op": "ping"})
                except OSError as e:
                    end = ("eof", repr(e))
                    break
                end = read_for(chatty, 1.0)
            results["chatty"] = (end, time.monotonic() - t0)

        threads = [threading.Thread(target=watch, args=("dead", dead, hangup_after + 5)),
                   threading.Thread(target=watch, args=("alive", alive, hangup_after + 5)),
                   threading.Thread(target=talk, args=(hangup_after + 5,))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ended, took = results["dead"]
        t.ok(dead.pings_seen >= 1, f"the server pings a silent connection (ping_after = "
             f"{ping_after} s)", f"pings seen: {dead.pings_seen}")
        t.ok(ended is not None and took <= hangup_after + 4,
             f"a connection that never answers is hung up after about {hangup_after} s",
             f"ended: {ended!r} after {took:.1f} s")
        dead.close()
        ended, took = results["alive"]
        t.ok(ended is None and alive.pings_seen >= 1,
             f"a connection that answers pings is kept ({hangup_after + 5} s idle)",
             f"{ended!r} after {took:.1f} s, pings {alive.pings_seen}")
        r = alive.ping() if ended is None else {}
        t.ok(r.get("ok") is True, "and still answers requests", repr(r))
        alive.close()
        ended, took = results["chatty"]
        t.ok(ended is None, f"a connection that ignores pings but sends a request each second "
             f"is kept ({hangup_after + 5} s)", f"{ended!r} after {took:.1f} s")
        chatty.close()


def main(t):
    if not harness.require_programs(t, client=False):
        return
    # small output queues, so that a client that does not read fills its queue
    with Server(t, config={"outq_max_bytes": str(OUTQ_MAX_BYTES),
                           "outq_max_frames": OUTQ_MAX_FRAMES}) as srv:
        many_connections(t, srv)
        slow_consumer(t, srv)
        ping_burst(t, srv)
        within_limits(t, srv)
    with Server(t) as srv:
        coalescing(t, srv, enrol_users(srv, 4))
    soft_limit(t)
    idle_policy(t)


if __name__ == "__main__":
    run(main, PLAN)
