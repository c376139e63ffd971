#!/usr/bin/env python3
"""test_authz.py — the authorization matrix (tests/authz/matrix.tsv, rendered
as docs/AUTHZ.md) checked cell by cell against a real liaisond: every op of
the dispatcher's op table (server/dispatch.c) × (not logged in, revoked
device, outsider, removed member, plain member = wrong role, channel owner,
coordinator of the case's CPTS, coordinator of another CPTS, territory
coordinator, administrator) → ok or the documented error. Users log in for
real (openssl-signed logins and membership entries, docs/CRYPTO.md). A cell
that is allowed and changes state (closing a case, completing a step...)
gets a fresh channel/case fixture for the next cell. TAP on stdout."""

import datetime
import hashlib
import os
import re
import subprocess
import sys
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (MLogChain, RawIdentity, RawWS, Server, b64, error_code,  # noqa: E402
                     make_envelope, raw_enrol, raw_login, run)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "authz"))
import render  # noqa: E402  (tests/authz/render.py: reads matrix.tsv)

# 16 checks of their own, and one per row of tests/authz/matrix.tsv
PLAN = 18 + len(render.load()[1])

ORG = "450000005"
OTHER_CPTS = "450000013"
SUBJECTS = render.SUBJECTS
LOGGED_IN = ["outsider", "removed", "member", "owner", "coordinator", "other_cpts", "territory",
             "admin"]
# ops whose success changes the fixture so that the next cell would see another state
CONSUMING = {"channel_append", "case_open", "step_complete", "step_skip", "step_reopen",
             "step_assign", "step_reschedule", "case_close", "notice_post", "attachment_put",
             "attachment_finish", "ack"}
# what each op's request needs in the fixture
NEEDS = {
    "case_get": {"case"}, "cases": {"case"}, "step_complete": {"case"}, "step_skip": {"case"},
    "step_assign": {"case"}, "step_reopen": {"case", "done_step"}, "case_close": {"case"},
    "step_reschedule": {"case"}, "late_steps": {"case"},
    "case_flag": {"case"}, "case_event": {"case"}, "notice_post": {"case"}, "ack": {"case", "notice"},
    "alert": {"case"}, "conciliation_counts": {"case"}, "circle_session": {"circle"},
    "attachment_put": {"att_open"}, "attachment_finish": {"att_full"},
    "attachment_info": {"att"}, "attachment_get": {"att"},
}


def luhn_rpps(body10):
    """An 11-digit RPPS number: body10 and its Luhn check digit."""
    for d in "0123456789":
        digits = [int(c) for c in body10 + d][::-1]
        total = sum(x if i % 2 == 0 else (x * 2 - 9 if x * 2 > 9 else x * 2)
                    for i, x in enumerate(digits))
        if total % 10 == 0:
            return body10 + d
    raise ValueError(body10)


def dispatch_ops():
    """The op names of the op table in server/dispatch.c, in order."""
    with open(os.path.join(ROOT, "server", "dispatch.c"), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("ops[] = {"):]
    table = table[:table.index("};")]
    return re.findall(r'\{"(\w+)",\s*handle_\w+,', table)


def today(days_ago=0):
    """A day of the server's time zone (Europe/Paris, liaisond's default)."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Paris"))
    return str(now.date() - datetime.timedelta(days=days_ago))


class Fixture:
    """A case channel (a circle with need "circle") owned by `owner` with
    `member`, and `removed` removed; optionally a case, a done step, a
    notice, attachments."""

    def __init__(self, w, needs):
        self.w = w
        own, mem = w.conns["owner"], w.conns["member"]
        self.log = MLogChain()
        self.channel = self.log.channel
        ids = w.ids
        self.append(own, "channel_create",
                    self.log.entry(ids["owner"], "create", ids["owner"], role="admin",
                                   history="shared",
                                   kind="circle" if "circle" in needs else "case"))
        self.append(own, "channel_append",
                    self.log.entry(ids["owner"], "add", ids["member"], role="member"))
        self.append(own, "channel_append",
                    self.log.entry(ids["owner"], "add", ids["removed"], role="member"))
        self.own_seq = {"owner": self.send(own, "owner"), "member": self.send(mem, "member")}
        self.append(own, "channel_append",
                    self.log.entry(ids["owner"], "remove", ids["removed"]))
        if "case" in needs:
            r = w.ok(own, op="case_open", idem=w.idem(), channel=self.channel.hex(),
                     pathway="hospital_discharge", j0=today())
            self.case = r["case"]["case"]
            self.step = next(s["id"] for s in r["steps"] if s["step"] == "discharge_letter")
        if "done_step" in needs:
            w.ok(own, op="step_complete", idem=w.idem(), step=self.step)
        if "notice" in needs:
            w.ok(own, op="notice_post", idem=w.idem(), case=self.case, seq=self.own_seq["owner"])
        self.chunk = os.urandom(40)
        if "att" in needs:
            self.att = self.attachment(own, put=True, finish=True)
        if "att_open" in needs:
            self.att = self.attachment(own, put=False, finish=False)
        if "att_full" in needs:
            self.att = self.attachment(own, put=True, finish=False)

    def append(self, ws, op, entry):
        self.w.ok(ws, op=op, idem=self.w.idem(), entry=entry)
        self.log.accept(entry)

    def send(self, ws, who):
        env = make_envelope(self.channel, self.w.ids[who].device)
        return self.w.ok(ws, op="send", idem=self.w.idem(), channel=self.channel.hex(),
                         envelope=b64(env))["seq"]

    def attachment(self, ws, put, finish):
        att = os.urandom(16).hex()
        self.w.ok(ws, op="attachment_begin", idem=self.w.idem(), attachment=att,
                  channel=self.channel.hex(), size=len(self.chunk), chunks=1)
        if put:
            self.w.ok(ws, op="attachment_put", idem=self.w.idem(), attachment=att, index=0,
                      data=b64(self.chunk))
        if finish:
            self.w.ok(ws, op="attachment_finish", idem=self.w.idem(), attachment=att,
                      hash=self.hash())
        return att

    def hash(self):
        return b64(hashlib.blake2b(self.chunk, digest_size=32).digest())


class World:
    def __init__(self, t, srv):
        self.t = t
        self.srv = srv
        self.n = 0
        srv.admin("org", "add", "--name", "CPTS Matrice", "--finess", ORG, "--kind", "cpts")
        srv.admin("org", "add", "--name", "CPTS Voisine", "--finess", OTHER_CPTS, "--kind",
                  "cpts")
        orgs = {"other_cpts": OTHER_CPTS, "territory": OTHER_CPTS}
        people = {  # subject: (rpps body, name, profession, roles)
            "owner": ("1020304050", "Dr Owen Hopital", "hospital_doctor", "member,discharge"),
            "member": ("1020304051", "Dr Mia Ville", "gp", "member"),
            "removed": ("1020304052", "Remi Infirmier", "nurse", "member"),
            "outsider": ("1020304053", "Odile Pharma", "pharmacist", "member"),
            "coordinator": (None, "Cora Coordination", "coordinator", "member,coordinator"),
            "other_cpts": (None, "Otto Voisin", "coordinator", "member,coordinator"),
            "territory": (None, "Tess Territoire", "coordinator",
                          "member,coordinator,territory"),
            "admin": (None, "Adam Admin", "secretary", "member,admin"),
            "revoked": (None, "Rita Revoquee", "social_worker", "member"),
            "spare": ("1020304054", "Sam Psy", "psychologist", "member"),
        }
        self.ids = {}
        for who, (body, name, prof, roles) in people.items():
            code = srv.invite(luhn_rpps(body) if body else None, name, prof,
                              orgs.get(who, ORG), roles=roles)
            self.ids[who] = raw_enrol(srv, code)
        self.conns = {who: raw_login(srv, self.ids[who]) for who in LOGGED_IN}

    def idem(self):
        self.n += 1
        return f"az-{self.n}-{os.urandom(4).hex()}"

    def ok(self, ws, **req):
        r = ws.request(dict(req), timeout=20 * harness.SLOW)
        if r.get("ok") is not True:
            raise harness.HarnessError(f"fixture step {req.get('op')} refused: {r!r}")
        return r

    def spare_device(self):
        """A further device of the owner (device invite, same identity key)."""
        owner = self.ids["owner"]
        code = self.srv.admin("invite", "--user", owner.user.hex()).strip().splitlines()[-1]
        dev = RawIdentity(self.srv.tmp)
        dev.user, dev.ik = owner.user, owner.ik
        with RawWS(self.srv.port) as ws:
            ws.recv_event("hello")
            r = ws.request(dev.enrol_request(code.strip()))
        if r.get("ok") is not True:
            raise harness.HarnessError(f"spare device enrol refused: {r!r}")
        return dev

    # -- one request per row, for subject `who` on connection ws
    def request(self, row, fx, who, ws):
        op, variant = row["op"], row["variant"]
        me = self.ids[who] if who != "anon" else None
        owner = self.ids["owner"]
        ch = fx.channel.hex()
        now = int(time.time() * 1000)
        if op in ("ping", "challenge", "whoami", "channels", "to_device_fetch", "pathways",
                  "notifications", "backup_identity_get", "backup_get", "directory_search"):
            return {"op": op}
        if op == "login":
            ident = self.ids["spare"] if who == "anon" else me
            return ident.login_request("localhost", ws.hello["challenge"])
        if op == "invite_info":
            return {"op": op, "code": self.srv.invite(None, "Ines Invite", "secretary", ORG)}
        if op == "enrol":
            code = self.srv.invite(None, "Eric Enrol", "secretary", ORG)
            return RawIdentity(self.srv.tmp).enrol_request(code)
        if op == "devices":
            return {"op": op, "user": owner.user.hex()}
        if op == "keys":
            return {"op": op, "users": [owner.user.hex()]}
        if op == "device_revoke":
            signer = me or owner
            target = self.spare_device() if who == "owner" else owner
            ts = now
            sig = signer.ik.sign(harness.signed_revoke(signer.user, target.device, ts))
            return {"op": op, "idem": self.idem(), "device": target.device.hex(), "ts": ts,
                    "sig": b64(sig)}
        if op == "ak_publish":
            signer = me or owner
            ak_id, ak = os.urandom(16), os.urandom(32)
            ts = now + self.n * 1000 + 10**7
            self.n += 1
            sig = signer.dk.sign(harness.signed_ak_cert(signer.device, ak_id, ak, ts))
            return {"op": op, "idem": self.idem(), "ak_id": ak_id.hex(), "ak": b64(ak),
                    "ak_ts": ts, "ak_sig": b64(sig)}
        if op == "channel_create":
            signer = me or owner
            e = MLogChain().entry(signer, "create", signer, role="admin", history="shared",
                                  kind="team")
            return {"op": op, "idem": self.idem(), "entry": e}
        if op == "channel_append":
            signer = me or owner
            e = fx.log.entry(signer, "add", self.ids["spare"], role="member")
            fx.pending_entry = e
            return {"op": op, "idem": self.idem(), "entry": e}
        if op in ("channel_log", "channel_members", "messages", "receipts"):
            return {"op": op, "channel": ch}
        if op == "send":
            dev = (me or owner).device
            return {"op": op, "idem": self.idem(), "channel": ch,
                    "envelope": b64(make_envelope(fx.channel, dev))}
        if op == "receipt":
            return {"op": op, "channel": ch, "kind": "read", "seq": 1}
        if op == "to_device_send":
            return {"op": op, "idem": self.idem(), "messages": [
                {"user": owner.user.hex(), "device": owner.device.hex(),
                 "body": b64(os.urandom(48))}]}
        if op == "to_device_ack":
            return {"op": op, "upto": 1}
        if op == "attachment_begin":
            return {"op": op, "idem": self.idem(), "attachment": os.urandom(16).hex(),
                    "channel": ch, "size": 100, "chunks": 1}
        if op == "attachment_put":
            return {"op": op, "idem": self.idem(), "attachment": fx.att, "index": 0,
                    "data": b64(fx.chunk)}
        if op == "attachment_finish":
            return {"op": op, "idem": self.idem(), "attachment": fx.att, "hash": fx.hash()}
        if op == "attachment_info":
            return {"op": op, "attachment": fx.att}
        if op == "attachment_get":
            return {"op": op, "attachment": fx.att, "index": 0}
        if op == "backup_identity_put":
            return {"op": op, "idem": self.idem(), "blob": b64(os.urandom(96))}
        if op == "backup_put":
            return {"op": op, "idem": self.idem(), "entries": [
                {"channel": ch, "session_id": b64(os.urandom(32)), "first_index": 0,
                 "data": b64(os.urandom(64))}]}
        if op == "case_open":
            return {"op": op, "idem": self.idem(), "channel": ch, "pathway": "hospital_discharge",
                    "j0": today()}
        if op == "case_get":
            return {"op": op, "case": fx.case}
        if op in ("cases", "late_steps", "unacked_notices", "recent_alerts"):
            return {"op": op, "all": True} if variant == "all" else {"op": op}
        if op in ("step_complete", "step_reopen"):
            return {"op": op, "idem": self.idem(), "step": fx.step}
        if op == "step_skip":
            return {"op": op, "idem": self.idem(), "step": fx.step, "reason": "other"}
        if op == "step_assign":
            return {"op": op, "idem": self.idem(), "step": fx.step,
                    "user": self.ids["member"].user.hex()}
        if op == "step_reschedule":
            later = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))
            return {"op": op, "idem": self.idem(), "step": fx.step, "due": later,
                    "reason": "patient_request"}
        if op == "case_close":
            return {"op": op, "idem": self.idem(), "case": fx.case, "reason": "completed"}
        if op == "case_flag":
            return {"op": op, "idem": self.idem(), "case": fx.case, "flags": []}
        if op == "case_event":
            return {"op": op, "idem": self.idem(), "case": fx.case, "event": "remission",
                    "day": today()}
        if op in ("notice_post", "alert"):
            return {"op": op, "idem": self.idem(), "case": fx.case,
                    "seq": fx.own_seq.get(who, fx.own_seq["owner"])}
        if op == "ack":
            return {"op": op, "idem": self.idem(), "case": fx.case}
        if op == "notifications_seen":
            return {"op": op, "upto": 1}
        if op == "mail_status":
            return {"op": op}
        if op == "mail_set":
            return {"op": op, "enabled": True}
        if op == "report":
            year = time.gmtime().tm_year
            return {"op": op, "from": f"{year}-01-01", "to": f"{year}-12-31"}
        if op == "target_set":
            return {"op": op, "idem": self.idem(), "indicator": "2", "value": 90}
        if op == "targets":
            return {"op": op}
        if op == "circle_session":
            return {"op": op, "idem": self.idem(), "channel": ch, "day": today(),
                    "attendees": [self.ids["member"].user.hex()]}
        if op == "conciliation_counts":
            return {"op": op, "idem": self.idem(), "case": fx.case,
                    "episode": os.urandom(16).hex(), "transition": "discharge",
                    "status": "draft", "source_types": 1, "lines_bmo": 2, "lines_order": 2,
                    "by_type": {"omission": 1}, "by_intent": {"unintentional": 1},
                    "unintentional": 1, "resolved": 0, "resolution_ms": [], "started_at": now}
        if op == "clock_advance":
            return {"op": op, "ms": 1}
        raise KeyError(f"no request for op {op!r}: add one to test_authz.py")


def outcome(reply):
    if not isinstance(reply, dict):
        return f"no reply: {reply!r}"
    if reply.get("ok") is True:
        return "ok"
    code = error_code(reply)
    msg = (reply.get("error") or {}).get("message")
    if code and not (isinstance(msg, str) and msg):
        return f"{code} (without a message)"
    return code or f"malformed reply {reply!r}"


def label(row):
    return row["op"] + (f"({row['variant']})" if row["variant"] else "")


def run_row(t, w, row):
    """Every subject but `revoked` for one row; one TAP line per row."""
    op = row["op"]
    needs = NEEDS.get(op, set())
    fx = Fixture(w, needs)
    wrong = []
    for who in SUBJECTS:
        if who == "revoked":
            continue
        want = row[who]
        if who == "anon":
            ws = RawWS(w.srv.port, timeout=10 * harness.SLOW)
            ws.hello = ws.recv_event("hello")
        else:
            ws = w.conns[who]
        try:
            req = w.request(row, fx, who, ws)
            got = outcome(ws.request(req, timeout=20 * harness.SLOW))
        finally:
            if who == "anon":
                ws.close()
        if got != want:
            wrong.append(f"{who}: got {got}, matrix says {want}")
        if got == "ok" and op == "channel_append":
            fx.log.accept(fx.pending_entry)
        if got == "ok" and op in CONSUMING:
            fx = Fixture(w, needs)
    t.ok(not wrong, f"{label(row)}: " + ", ".join(f"{s}={row[s]}" for s in SUBJECTS
                                                   if s != "revoked"), "\n".join(wrong))


def revoked_attempt(w, rows, ident, fx):
    """One connection per row logged in as ident; every request built, then
    ident revoked by the administrator and every request sent at once, so
    they reach the server before its revocation watch (once a second)
    closes the connections. Per row: the outcome, or None when the server
    closed the connection first; and the close each connection ended with."""
    conns = [raw_login(w.srv, ident) for _ in rows]
    reqs = []
    for row, ws in zip(rows, conns):
        req = w.request(row, fx, "revoked", ws)
        req.setdefault("id", ws.next_id)
        ws.next_id += 1
        reqs.append(req)
    w.srv.admin("revoke", "--device", ident.device.hex())
    for req, ws in zip(reqs, conns):
        ws.send_json(req)
    results = []
    for req, ws in zip(reqs, conns):
        try:
            try:
                got = outcome(ws.recv_reply(req["id"], timeout=20 * harness.SLOW))
            except (harness.WSClosed, harness.HarnessError, OSError):
                if ws.closed is None:
                    raise
                got = None
            while ws.closed is None:       # every connection ends: closed by the server
                if ws.recv(timeout=10 * harness.SLOW)[0] == "close":
                    break
        except Exception as e:  # noqa: BLE001 - one broken cell must not hide the others
            got = f"exception {e!r}"
        finally:
            ws.close()
        results.append((got, ws.closed))
    return results


def revoked_column(t, w, rows):
    """A device revoked by the administrator while its connections are
    logged in. A request that reaches the server first is answered as the
    matrix says; the running server then closes every such connection with
    1008 within about a second. Should the revocation watch win the race,
    the column is run again with a fresh device; a row whose request never
    reached the server is reported, not counted as checked."""
    fx = Fixture(w, {"case", "att"})
    ident, attempts = w.ids["revoked"], 0
    while True:
        attempts += 1
        results = revoked_attempt(w, rows, ident, fx)
        if all(got is not None for got, _ in results) or attempts == 2:
            break
        ident = raw_enrol(w.srv, w.srv.invite(None, "Rita Revoquee", "social_worker", ORG))
    wrong = []
    for row, (got, closed) in zip(rows, results):
        if got is None:
            wrong.append(f"{label(row)}: not checked, the server closed the connection before "
                         "the request arrived (twice)")
        elif got != row["revoked"]:
            wrong.append(f"{label(row)}: got {got}, matrix says {row['revoked']}")
        if closed is None or closed[0] != 1008:
            wrong.append(f"{label(row)}: want a close with 1008, got {closed!r}")
    t.diag(f"revoked column: {attempts} attempt(s)")
    t.ok(not wrong, f"revoked device: every op answered as the matrix says ({len(rows)} ops), "
         "and every connection of the revoked device is closed with 1008", "\n".join(wrong))


def former_member_checks(t, w):
    """A removed member reads the log, messages and receipts of the channel,
    but nothing that happened in the thread after their removal."""
    fx = Fixture(w, set())
    mem, rem = w.conns["member"], w.conns["removed"]
    last = max(fx.own_seq.values())
    for _ in range(3):
        last = fx.send(mem, "member")
    w.ok(mem, op="receipt", channel=fx.channel.hex(), kind="read", seq=last)
    w.ok(mem, op="receipt", channel=fx.channel.hex(), kind="delivered", seq=last)
    cap = max(fx.own_seq.values())  # the removal came after the first two messages
    r = w.ok(rem, op="messages", channel=fx.channel.hex())
    seqs = [m.get("seq") for m in r.get("messages", [])]
    t.ok(seqs and max(seqs) <= cap, f"a removed member gets only the messages up to their "
         f"removal (seq <= {cap})", repr(seqs))
    r = w.ok(rem, op="channels")
    mine = [c for c in r.get("channels", []) if c.get("channel") == fx.channel.hex()]
    t.ok(len(mine) == 1 and mine[0].get("member") is False and mine[0].get("last_seq") == cap,
         "channels shows the removed member their last readable seq, not the channel's",
         repr(mine))
    r = w.ok(rem, op="receipts", channel=fx.channel.hex())
    high = [x for x in r.get("receipts", []) if x.get("delivered", 0) > cap or x.get("read", 0) > cap]
    t.ok(r.get("receipts") and not high, f"receipts seen by a removed member stop at seq {cap} "
         "(they do not reveal how far the thread went after the removal)", repr(r))
    r = w.ok(mem, op="receipts", channel=fx.channel.hex())
    t.ok(any(x.get("read") == last for x in r.get("receipts", [])),
         f"a current member sees the receipts as they are (read {last})", repr(r))


def cpts_visibility_checks(t, w):
    """A case of the matrix's CPTS with steps 3 days late: its coordinator finds
    it without "all"; a coordinator of another CPTS finds it nowhere; the
    territory coordinator finds it among every CPTS's."""
    fx = Fixture(w, set())
    j0 = today(3)
    r = w.ok(w.conns["owner"], op="case_open", idem=w.idem(), channel=fx.channel.hex(),
             pathway="hospital_discharge", j0=j0)
    case = r["case"]["case"]
    # hospital_discharge (docs/PATHWAYS.md): three J0 steps, due at the end of
    # J0, 3 (Paris) days before today; three J2 steps, 1 day late; most late first
    want_late = [("discharge_notice", 3), ("discharge_letter", 3),
                 ("discharge_reconciliation", 3), ("dispensing_reconciliation", 1),
                 ("nurse_first_visit", 1), ("coordinator_call", 1)]

    def seen(who, op, **kw):
        rep = w.ok(w.conns[who], op=op, **kw)
        key = "cases" if op == "cases" else "steps"
        return [x for x in rep.get(key, []) if x.get("case") == case]

    other = (seen("other_cpts", "cases", all=True) + seen("other_cpts", "cases", overdue=True)
             + seen("other_cpts", "cases", mine=True) + seen("other_cpts", "late_steps"))
    t.ok(not other, "a coordinator of another CPTS finds the case in none of cases --all, "
         "--overdue, --mine, late_steps", repr(other))
    mine = seen("coordinator", "cases", overdue=True)
    late = seen("coordinator", "late_steps")
    t.ok(len(mine) == 1 and [(x["code"], x["days_late"]) for x in late] == want_late,
         "the case's coordinator: cases --overdue without all, and the late steps with "
         "their days late", repr((mine, late)))
    terr = seen("territory", "cases", all=True)
    terr_late = seen("territory", "late_steps", all=True)
    t.ok(len(terr) == 1 and [(x["code"], x["days_late"]) for x in terr_late] == want_late,
         "the territory coordinator sees the case and its late steps with all", repr(terr_late))

    # the report over J0 only: this case is the one case with J0 then (every
    # other fixture opens its case today), its letter (J0) due and not sent
    def reported(who):
        rep = w.ok(w.conns[who], op="report", **{"from": j0, "to": j0})
        return {x["id"]: (x.get("numerator"), x.get("denominator"), x.get("not_yet_due"))
                for x in rep["indicators"] if x["id"] in ("2", "5", "6a")}
    none, one = (0, 0, 0), (0, 1, 0)
    other_rep = reported("other_cpts")
    t.ok(other_rep == {"2": none, "5": none, "6a": none},
         "the other CPTS's coordinator: the report counts nothing of the case", repr(other_rep))
    mine_rep, terr_rep = reported("coordinator"), reported("territory")
    t.ok(mine_rep["2"] == one and terr_rep["2"] == one,
         "its coordinator's report and the territory's count its letter due on J0", repr(
             (mine_rep, terr_rep)))


def main(t):
    if not harness.require_programs(t, client=False):
        return
    _, rows = render.load()
    ops = dispatch_ops()
    t.ok(len(ops) >= 40, f"op table read from server/dispatch.c ({len(ops)} ops)")
    covered = {r["op"] for r in rows}
    missing = [o for o in ops if o not in covered]
    extra = sorted(covered - set(ops))
    t.ok(not missing and not extra, "every op of the op table has a row in matrix.tsv, "
         "and no row names an op that does not exist",
         f"missing: {missing}\nunknown: {extra}")
    bad = [f"{label(r)}.{s}={r[s]!r}" for r in rows for s in SUBJECTS
           if not re.fullmatch(r"ok|[a-z_]+", r[s])]
    t.ok(not bad, "every cell is ok or an error code", "\n".join(bad))
    res = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "authz", "render.py"),
                          "--check"], capture_output=True, text=True)
    t.ok(res.returncode == 0, "docs/AUTHZ.md is rendered from matrix.tsv and up to date",
         res.stdout + res.stderr)
    # the revoked column holds one logged-in connection per row for one
    # device: more than conn_per_user allows by default
    with Server(t, config={"conn_per_user": 0}) as srv:
        started = time.monotonic()
        w = World(t, srv)
        for row in rows:
            try:
                run_row(t, w, row)
            except Exception as e:  # noqa: BLE001
                t.ok(False, f"{label(row)}: the row ran", repr(e))
        former_member_checks(t, w)
        cpts_visibility_checks(t, w)
        revoked_column(t, w, rows)
        for ws in w.conns.values():
            ws.close()
        t.diag(f"{len(rows)} rows × {len(SUBJECTS)} callers in "
               f"{time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    run(main, PLAN)
