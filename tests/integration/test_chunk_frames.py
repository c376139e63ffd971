#!/usr/bin/env python3
"""test_chunk_frames.py — attachment chunks in binary WebSocket frames
(docs/PROTOCOL.md "Binary chunk frames"), spoken byte for byte from the
document against a real liaisond: the opt-in at login, a binary upload and
its idempotent retry, a binary download, the JSON form unchanged for a client
that did not ask, and every hostile frame answered with its error code while
the connection stays usable. Replies keep their order around a binary frame
even when the server coalesces the JSON ones. TAP on stdout."""

import base64
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawWS, Server, raw_channel, raw_enrol, run  # noqa: E402

PLAN = 30
ORG = "450000005"
MAX_CHUNK = 65553


def put_frame(rid, att, index, idem, data, kind=1, reserved=0, idem_len=None):
    """A chunk frame as PROTOCOL.md lays it out (big-endian)."""
    idem = idem.encode() if isinstance(idem, str) else idem
    n = len(idem) if idem_len is None else idem_len
    return (bytes([kind, n]) + struct.pack(">HQ", reserved, rid) + att
            + struct.pack(">Q", index) + idem + data)


def parse_chunk(frame):
    kind, idem_len, reserved, rid = struct.unpack(">BBHQ", frame[:12])
    index = struct.unpack(">Q", frame[28:36])[0]
    return {"kind": kind, "idem_len": idem_len, "reserved": reserved, "id": rid,
            "attachment": frame[12:28], "index": index, "data": frame[36 + idem_len:]}


def login(srv, ident, **extra):
    ws = RawWS(srv.port, timeout=10 * harness.SLOW)
    hello = ws.recv_event("hello")
    req = ident.login_request("localhost", hello["challenge"])
    req.update(extra)
    r = ws.request(req)
    if r.get("ok") is not True:
        raise harness.HarnessError(f"login refused: {r!r}")
    return ws, r


def reply_json(ws):
    msg = ws.recv()
    if msg[0] != "text":
        raise harness.HarnessError(f"expected a JSON reply, got {msg[0]}: {msg!r:.200}")
    import json
    return json.loads(msg[1])


def error_code(r):
    return (r.get("error") or {}).get("code")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        srv.admin("org", "add", "--name", "CPTS Matrice", "--finess", ORG, "--kind", "cpts")
        up = raw_enrol(srv, srv.invite(None, "Ursule Envoi", "secretary", ORG))
        down = raw_enrol(srv, srv.invite(None, "Denis Recoit", "secretary", ORG))

        # -- the opt-in
        ws, r = login(srv, up, binary=True)
        t.ok(r.get("binary") is True, "a login with \"binary\":true is echoed", repr(r))
        plain, r2 = login(srv, down)
        t.ok("binary" not in r2, "a login without it is answered as before", repr(r2))
        bad = RawWS(srv.port, timeout=10 * harness.SLOW)
        hello = bad.recv_event("hello")
        req = up.login_request("localhost", hello["challenge"])
        req["binary"] = "yes"
        r3 = bad.request(req)
        t.ok(error_code(r3) == "bad_request" and "binary" in r3["error"]["message"],
             "\"binary\" must be a boolean", repr(r3))
        bad.close()

        chain = raw_channel(ws, up, [down])
        att = os.urandom(16)
        chunk0 = os.urandom(MAX_CHUNK)
        chunk1 = os.urandom(1000)
        r = ws.request(op="attachment_begin", idem="b-1", attachment=att.hex(),
                       channel=chain.channel.hex(), size=len(chunk0) + len(chunk1), chunks=2)
        t.ok(r.get("ok") is True, "attachment_begin (JSON) on the binary connection", repr(r))

        # -- upload: binary, then its retry, then JSON on the same connection
        ws.send_binary(put_frame(500, att, 0, "put-0", chunk0))
        r = reply_json(ws)
        t.ok(r == {"id": 500, "ok": True, "index": 0},
             "a binary attachment_put of a full chunk is answered in JSON", repr(r))
        ws.send_binary(put_frame(501, att, 0, "put-0", chunk0))
        r = reply_json(ws)
        t.ok(r == {"id": 501, "ok": True, "index": 0},
             "its retry with the same idem key gets the same reply", repr(r))
        r = ws.request(op="attachment_put", idem="put-1", attachment=att.hex(), index=1,
                       data=base64.b64encode(chunk1).decode())
        t.ok(r.get("ok") is True, "the JSON form still works on a binary connection", repr(r))
        ws.send_binary(put_frame(502, att, 0, "put-0", chunk1))
        r = reply_json(ws)
        t.ok(r.get("id") == 502 and r.get("ok") is True and r.get("index") == 0,
             "a retry with other bytes replays the first reply (idem)", repr(r))
        blob = chunk0 + chunk1
        r = ws.request(op="attachment_finish", idem="fin", attachment=att.hex(),
                       hash=base64.b64encode(hashlib.blake2b(blob, digest_size=32)
                                             .digest()).decode())
        t.ok(r.get("ok") is True and r.get("size") == len(blob),
             "finish: the hash of the binary chunks matches", repr(r))

        # -- download: binary for the opted-in client, JSON for the other
        ws.send_json({"id": 600, "op": "attachment_get", "attachment": att.hex(), "index": 0})
        msg = ws.recv()
        f = parse_chunk(msg[1]) if msg[0] == "binary" else {}
        t.ok(msg[0] == "binary" and f["kind"] == 2 and f["idem_len"] == 0 and f["reserved"] == 0
             and f["id"] == 600 and f["attachment"] == att and f["index"] == 0
             and f["data"] == chunk0 and len(msg[1]) == 36 + MAX_CHUNK,
             "attachment_get is answered with a binary chunk frame, byte for byte",
             f"{msg[0]} {len(msg[1]) if len(msg) > 1 else ''}")
        r = plain.request(op="attachment_get", attachment=att.hex(), index=1)
        t.ok(r.get("ok") is True and base64.b64decode(r.get("data", "")) == chunk1,
             "a client that did not opt in gets today's JSON form", repr(r)[:200])
        r = ws.request(op="attachment_get", attachment=att.hex(), index=7)
        t.ok(r.get("ok") is False and r.get("id") == ws.next_id - 1,
             "an attachment_get error stays JSON", repr(r))

        # -- refused: binary frames from a client that did not opt in
        plain.send_binary(put_frame(700, att, 0, "x", b"abc"))
        r = reply_json(plain)
        t.ok(error_code(r) == "bad_json" and r.get("id") is None,
             "a binary frame without the opt-in is bad_json, id null, as before", repr(r))
        anon = RawWS(srv.port, timeout=10 * harness.SLOW)
        anon.recv_event("hello")
        anon.send_binary(put_frame(701, att, 0, "x", b"abc"))
        r = reply_json(anon)
        t.ok(error_code(r) == "bad_json" and "login" in r["error"]["message"],
             "a binary frame before login is bad_json", repr(r))
        anon.close()

        # -- hostile frames on the opted-in connection
        def hostile(frame, code, words, rid, label):
            ws.send_binary(frame)
            r = reply_json(ws)
            msg = (r.get("error") or {}).get("message", "")
            t.ok(error_code(r) == code and words in msg and r.get("id") == rid, label, repr(r))

        hostile(b"\x01\x02\x00", "bad_request", "shorter than the 36-byte", None,
                "a header cut short: bad_request, id null")
        hostile(put_frame(801, att, 0, "k", b"")[:40], "bad_request", "too short", 801,
                "an idem length past the end: bad_request with the id")
        hostile(put_frame(802, att, 0, "k", b"x", idem_len=60), "bad_request", "too short", 802,
                "a length mismatch: bad_request with the id")
        hostile(put_frame(803, att, 0, "k", b"x", kind=9), "unknown_op", "kind 0x09", 803,
                "an unknown kind: unknown_op")
        hostile(put_frame(804, att, 0, "", b"x", kind=2), "bad_request", "server's chunk reply",
                804, "a client sending the server's kind: bad_request")
        hostile(put_frame(805, att, 0, b"\xff\xfe", b"x"), "bad_request", "UTF-8", 805,
                "an idem that is not UTF-8: bad_request")
        hostile(put_frame(806, att, 0, "k\n", b"x"), "bad_request", "idem", 806,
                "an idem with a control character: bad_request, as in JSON")
        att2 = os.urandom(16)
        r = ws.request(op="attachment_begin", idem="b-2", attachment=att2.hex(),
                       channel=chain.channel.hex(), size=MAX_CHUNK + 1, chunks=2)
        hostile(put_frame(807, att2, 0, "big", os.urandom(MAX_CHUNK + 1)), "bad_request",
                "at most 65553", 807, "a chunk above max_chunk: bad_request")
        hostile(put_frame(808, att, 0, "late", b"x"), "forbidden", "complete", 808,
                "a binary put to a finished attachment: forbidden, as in JSON")
        ws.send_binary(os.urandom(300 * 1024))
        r = reply_json(ws)
        t.ok(error_code(r) == "too_large" and r.get("id") is None,
             "a binary frame above max_frame: too_large", repr(r))
        r = ws.request(op="ping")
        t.ok(r.get("ok") is True, "the connection stays usable after all of them", repr(r))
        ws.close()

        # -- order: JSON replies coalesced around a binary one
        bws, r = login(srv, up, binary=True, batch=True)
        reqs = [{"id": 900, "op": "ping"}, {"id": 901, "op": "ping"},
                {"id": 902, "op": "attachment_get", "attachment": att.hex(), "index": 1},
                {"id": 903, "op": "ping"}, {"id": 904, "op": "ping"}]
        import json
        bws.send_text("".join([]) or json.dumps(reqs[0]))
        for q in reqs[1:]:
            bws.send_text(json.dumps(q))
        seen, mixed = [], False
        while len(seen) < 5:
            msg = bws.recv()
            if msg[0] == "binary":
                f = parse_chunk(msg[1])
                seen.append(f["id"] if f["data"] == chunk1 else -1)
            else:
                obj = json.loads(msg[1])
                items = obj["batch"] if "batch" in obj else [obj]
                for it in items:
                    if "ev" in it:
                        continue
                    if "data" in it:
                        mixed = True
                    seen.append(it.get("id"))
        t.ok(seen == [900, 901, 902, 903, 904] and not mixed,
             "replies keep request order around the binary frame; no chunk in a batch",
             repr(seen))
        bws.close()
        plain.close()


if __name__ == "__main__":
    run(main, PLAN)
