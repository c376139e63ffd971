#!/usr/bin/env python3
"""test_mail.py — "quelque chose vous attend dans Liaison": a real liaisond
sends its content-free e-mails to a real SMTP relay started here (Debian's
python3-aiosmtpd on a free loopback port, STARTTLS with certs/dev, AUTH
LOGIN/PLAIN required), driven by the real liaison CLI. Checked:

- the administrator sets the addresses (liaisond invite --email, liaisond
  user email, audited without the address); liaison mail status|off|on; a password file that
  others may read stops liaisond at start-up;
- a discharge notice not acknowledged: after mail_delay exactly one mail to
  each recipient who has an address and mail on, with the link and the
  fixed subject, and none of the patient reference, the pathway code or
  label, the step labels, the names, the case, channel or user ids; none to
  the recipient who acknowledged in time, none to the one who turned mail
  off;
- batching: an alert within mail_period brings no second mail, one more
  after it; an alert seen (liaison cases) before mail_delay brings none;
- failures: the relay refusing AUTH, the relay down, a relay without
  STARTTLS (refused: no AUTH, no MAIL, nothing in clear) — each logged
  (without the address), retried, and delivered exactly once when the
  relay is back;
- a server stopped while a mail was "sending" marks it interrupted at
  start-up and never sends it again; SIGTERM while the relay does not
  answer stops liaisond at once and leaves the mail pending;
- /metrics counts sent and failed mails; the log never holds an address.

TAP on stdout."""

import datetime
import email
import email.policy
import json
import os
import re
import socket
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, RawIdentity, RawWS, Server, run  # noqa: E402

try:
    import aiosmtpd  # noqa: F401
except ImportError:  # a Python of its own (pyenv…): Debian's package is here
    sys.path.append("/usr/lib/python3/dist-packages")
try:
    import ssl
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
    HAVE_AIOSMTPD = True
    warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
except ImportError:
    HAVE_AIOSMTPD = False

PLAN = 51

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "docs", "examples", "discharge-notice.json")
MIN = 60 * 1000
TODAY = harness.server_today()
DAY = datetime.timedelta(days=1)
LINK = "https://liaison.cpts-test.fr/"
FROM = "liaison@cpts-test.fr"
SMTP_USER, SMTP_PASSWORD = "liaison-relay", "s3cret-relay-password"

PEOPLE = [  # profile, RPPS, name, profession, FINESS, roles, address
    ("roux", "10101010105", "Dr Hélène Roux", "hospital_doctor", "370000481", "member,discharge",
     None),
    ("martin", "10000000009", "Dr Claire Martin", "gp", "450000005", "member",
     "claire.martin@medecins-test.fr"),
    ("durand", "10123456781", "Paul Durand", "pharmacist", "750012346", "member",
     "paul.durand@pharmacie-test.fr"),
    ("bernard", "10234567898", "Julie Bernard", "nurse", "450000005", "member",
     "julie.bernard@infirmiers-test.fr"),
]
PATIENT = {"family_name": "LEMAIRE", "given_names": "Odette Marie", "birth_date": "1948-03-12",
           "sex": "F", "ins": "2 48 03 45 234 056 72"}


# ---- the relay ------------------------------------------------------------------------

class Relay:
    """An aiosmtpd relay on 127.0.0.1:port. tls: STARTTLS offered and
    required, AUTH required after it; without tls: no STARTTLS, AUTH offered
    in clear (to see that liaisond never uses it). accept: whether AUTH
    succeeds. Everything it sees is recorded."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.messages = []      # (rcpt list, bytes, over TLS)
        self.auths = []         # (login, accepted, over TLS)
        self.mails = []         # MAIL FROM seen (over TLS?)
        self.accept = True
        self.ctl = None

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
              and auth_data.password == SMTP_PASSWORD.encode() and self.accept)
        with self.lock:
            self.auths.append((mechanism, ok, session.ssl is not None))
        return AuthResult(success=ok, handled=False)  # handled=False: 535 on failure

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mails.append(session.ssl is not None)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content),
                                  session.ssl is not None))
        return "250 Message accepted for delivery"

    def start(self, tls=True):
        kw = dict(authenticator=self.authenticator, auth_require_tls=tls,
                  auth_required=tls, require_starttls=tls)
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(os.path.join(harness.CERTS, "server.crt"),
                                os.path.join(harness.CERTS, "server.key"))
            kw["tls_context"] = ctx
        self.ctl = Controller(self, hostname="127.0.0.1", port=self.port, **kw)
        self.ctl.start()

    def stop(self):
        if self.ctl:
            self.ctl.stop()
            self.ctl = None

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address in m[0]]

    def count(self):
        with self.lock:
            return len(self.messages)


def wait_for(cond, timeout):
    deadline = time.monotonic() + timeout * harness.SLOW
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


# ---- set-up -----------------------------------------------------------------------------

def ok_run(t, client, name, *args, **kw):
    rc, out, err = client.run(*args, **kw)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out


def notice_file(tmp):
    with open(SAMPLE, encoding="utf-8") as f:
        notice = json.load(f)
    notice["patient"] = PATIENT
    notice["admission_date"] = str(TODAY - 5 * DAY)
    notice["discharge_date"] = str(TODAY)
    notice.pop("referring_doctor", None)
    path = os.path.join(tmp, "notice.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notice, f, ensure_ascii=False)
    return path


def enrol_all(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind", "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346", "--kind",
              "pharmacy")
    clients, ids, bad = {}, {}, []
    for profile, rpps, name, profession, org, roles, address in PEOPLE:
        c = Client(srv, profile)
        if profile == "durand":  # his address comes with the invite
            out = srv.admin("invite", "--rpps", rpps, "--name", name, "--profession", profession,
                            "--org", org, "--roles", roles, "--email", address)
            code = out.strip().splitlines()[-1].strip()
        else:
            code = srv.invite(rpps, name, profession, org, roles=roles)
        rc, out, err = c.enrol(code)
        if rc != 0:
            bad.append(f"{name}: {out}\n{err}")
        clients[profile] = c
        rc, obj, err = c.json("whoami")
        ids[profile] = ((obj or {}).get("user") or {}).get("id", "?")
    admin = RawIdentity(srv.tmp)
    code = srv.invite(None, "Admin Test", "secretary", "450000005", roles="member,admin")
    with RawWS(srv.port) as ws:
        ws.recv_event("hello")
        r = ws.request(admin.enrol_request(code))
        if not r.get("ok"):
            bad.append(f"admin: {r!r}")
    t.ok(not bad, "four professionals and a raw admin (for the testing clock) enrol",
         "\n".join(bad))
    return clients, ids, admin


def advance(srv, admin, ms):
    with RawWS(srv.port) as ws:
        hello = ws.recv_event("hello")
        r = ws.request(admin.login_request(srv.server_name, hello["challenge"]))
        if r.get("ok"):
            r = ws.request(op="clock_advance", ms=int(ms))
        if not r.get("ok"):
            raise harness.HarnessError(f"clock_advance: {r!r}")


def body_of(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg, msg.get_content()


# ---- the scenario ---------------------------------------------------------------------------

def addresses(t, srv, c, ids):
    for profile, rpps, name, _, _, _, address in PEOPLE:
        if address and profile != "durand":
            srv.admin("user", "email", "--rpps", rpps, "--email", address)
    out = srv.admin("user", "email", "--rpps", "10123456781", "--json")
    t.eq(json.loads(out).get("address"), "paul.durand@pharmacie-test.fr",
         "liaisond invite --email: the address is his once he enrolled", out)
    out = srv.admin("user", "email", "--rpps", "10000000009", "--json")
    t.eq(json.loads(out).get("address"), "claire.martin@medecins-test.fr",
         "liaisond user email sets the address (and shows it)", out)
    rc, out, err = srv.admin_run("user", "email", "--rpps", "10000000009", "--email",
                                 "claire martin@x")
    t.ok(rc == 2 and "expected an e-mail address" in err, "a malformed address is refused", err)
    rc, obj, err = c["martin"].json("mail", "status")
    t.ok(obj and obj.get("address") == "claire.martin@medecins-test.fr" and obj.get("enabled")
         is True and obj.get("relay") is True, "liaison mail status: her address, on, a relay",
         f"{obj}\n{err}")
    out = ok_run(t, c["bernard"], "liaison mail off (the nurse wants no e-mail)", "mail", "off")
    t.ok("E-mails" in out and "off" in out, "it says e-mails are off", out)
    rc, obj, err = c["bernard"].json("mail")
    t.ok(obj and obj.get("enabled") is False, "and the server keeps her choice", f"{obj}")
    rows = srv.db_exec("SELECT detail FROM audit WHERE action = 'user_email'")
    t.ok(len(rows) == 2 and all(r[0] == "address=set" for r in rows),
         "each address change is an audit entry, without the address", repr(rows))


def discharge(t, c, srv, relay, admin, ids, secrets):
    rc, out, err = c["roux"].run(
        "discharge", "--pathway", "hospital_discharge", "--gp", "Claire Martin",
        "--pharmacist", "Paul Durand", "--nurse", "Julie Bernard", "--notice", notice_file(srv.tmp))
    t.eq(rc, 0, "liaison discharge: the notice goes to the GP, the pharmacist and the nurse",
         f"{out}\n{err}")
    ref = re.search(r"case (P-[0-9A-Z]{8})", out)
    ref = ref.group(1) if ref else "P-XXXXXXXX"
    rc, case, err = c["roux"].json("case", "show", ref)
    case = case or {}
    ids_of_case = [(case.get("case") or {}).get("case", "?"),
                   (case.get("case") or {}).get("channel", "?")]
    labels = [s.get("label", "?") for s in case.get("steps", [])]
    t.ok(all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids_of_case) and len(labels) >= 5
         and re.fullmatch(r"P-[0-9A-Z]{8}", ref),
         "control: the case's reference, id, channel id and step labels are known to search "
         "for", repr((ref, ids_of_case, labels)))
    secrets += [ref] + ids_of_case + labels + [s.get("step", "?") for s in case.get("steps", [])]
    ok_run(t, c["durand"], "the pharmacist acknowledges at once", "ack", ref)
    advance(srv, admin, 5 * MIN)
    time.sleep(2.5)
    t.eq(relay.count(), 0, "5 min later (mail_delay 10 min): no mail yet")
    advance(srv, admin, 6 * MIN)
    got = wait_for(lambda: relay.to("claire.martin@medecins-test.fr"), 15)
    time.sleep(2.5)
    t.ok(got and relay.count() == 1 and len(relay.to("claire.martin@medecins-test.fr")) == 1,
         "11 min later: exactly one mail, to the GP who has not acknowledged",
         repr([m[0] for m in relay.messages]))
    t.ok(not relay.to("paul.durand@pharmacie-test.fr") and
         not relay.to("julie.bernard@infirmiers-test.fr"),
         "none to the pharmacist (acknowledged in time) nor the nurse (mail off)")
    return ref


def content(t, relay, secrets):
    rcpt, raw, over_tls = relay.to("claire.martin@medecins-test.fr")[0]
    msg, body = body_of(raw)
    t.ok(over_tls, "the mail went over TLS (STARTTLS)")
    t.eq(msg["Subject"], "Quelque chose vous attend dans Liaison", "the fixed subject")
    t.ok(msg["From"] and FROM in msg["From"] and "claire.martin@medecins-test.fr" in msg["To"],
         "From: mail_from, To: her address", f"{msg['From']} / {msg['To']}")
    t.ok(LINK in body and "Quelque chose vous attend dans Liaison" in body
         and "liaison mail off" in body and "Something is waiting" in body,
         "the body: the fixed French text, the English line, the link", body)
    names, others = secrets
    text = raw.decode("utf-8", "replace") + "\n" + body
    found = [s for s in others if s and s.lower() in text.lower()]
    # names: anywhere but To:, which holds her address (claire.martin@…)
    shown = body + "\n" + str(msg["Subject"]) + "\n" + str(msg["From"])
    found += [s for s in names if s and s.lower() in shown.lower()]
    t.ok(not found, "no patient reference, pathway, step, name, case, channel or user id "
         "in the mail", f"found: {found}\n{text}")


def batching(t, c, srv, relay, admin, ref):
    martin = "claire.martin@medecins-test.fr"
    ok_run(t, c["roux"], "an alert on the case (to the GP)", "alert", ref,
           "Prise de poids de 2,5 kg en 3 jours")
    advance(srv, admin, 11 * MIN)
    time.sleep(3)
    t.eq(len(relay.to(martin)), 1, "the alert waits 11 min unseen, within mail_period (1 h) of the first: "
         "no second mail")
    advance(srv, admin, 50 * MIN)
    got = wait_for(lambda: len(relay.to(martin)) == 2, 15)
    time.sleep(2)
    t.ok(got and len(relay.to(martin)) == 2 and relay.count() == 2,
         "after the period: one more mail, and only one", repr([m[0] for m in relay.messages]))
    # seen before the delay: liaison cases shows (and marks seen) the
    # notifications; acknowledging the notice clears it too
    ok_run(t, c["roux"], "another alert", "alert", ref, "Dyspnée d'effort")
    ok_run(t, c["martin"], "the GP looks (liaison cases)", "cases")
    ok_run(t, c["martin"], "and acknowledges the notice", "ack", ref)
    advance(srv, admin, 75 * MIN)
    time.sleep(3)
    t.eq(len(relay.to(martin)), 2, "seen before mail_delay: no mail, even after the period")


def failures(t, c, srv, relay, admin, ref):
    martin = "claire.martin@medecins-test.fr"
    log_at = len(srv.log_text())
    # 1. the relay refuses the authentication, then accepts it
    relay.accept = False
    ok_run(t, c["roux"], "an alert (relay refusing AUTH)", "alert", ref, "Malaise")
    advance(srv, admin, 75 * MIN)
    seen = wait_for(lambda: "refused the authentication" in srv.log_text()[log_at:], 15)
    t.ok(seen and len(relay.to(martin)) == 2,
         "AUTH refused: logged as such, nothing delivered", srv.log_text()[log_at:][-2000:])
    relay.accept = True
    advance(srv, admin, 2 * MIN)
    got = wait_for(lambda: len(relay.to(martin)) == 3, 15)
    advance(srv, admin, 10 * MIN)
    time.sleep(2.5)
    t.ok(got and len(relay.to(martin)) == 3, "AUTH accepted again: retried and delivered, once",
         repr(relay.auths[-4:]))
    # 2. the relay is down, then back
    relay.stop()
    log_at = len(srv.log_text())
    ok_run(t, c["roux"], "an alert (relay down)", "alert", ref, "Chute")
    advance(srv, admin, 75 * MIN)
    seen = wait_for(lambda: "cannot connect to the relay" in srv.log_text()[log_at:], 15)
    t.ok(seen, "relay down: logged", srv.log_text()[log_at:][-2000:])
    relay.start(tls=True)
    advance(srv, admin, 2 * MIN)
    got = wait_for(lambda: len(relay.to(martin)) == 4, 15)
    advance(srv, admin, 10 * MIN)
    time.sleep(2.5)
    t.ok(got and len(relay.to(martin)) == 4, "relay back: retried and delivered, once")
    # 3. a relay that does not offer STARTTLS
    relay.stop()
    plain = Relay(relay.port)
    plain.start(tls=False)
    log_at = len(srv.log_text())
    ok_run(t, c["roux"], "an alert (relay without STARTTLS)", "alert", ref, "Fièvre")
    advance(srv, admin, 75 * MIN)
    seen = wait_for(lambda: "does not offer STARTTLS" in srv.log_text()[log_at:], 15)
    plain.stop()
    t.ok(seen, "no STARTTLS: refused and logged", srv.log_text()[log_at:][-2000:])
    t.ok(not plain.auths and not plain.mails and not plain.messages,
         "nothing went in clear: no AUTH, no MAIL FROM, no message",
         repr((plain.auths, plain.mails, plain.messages)))
    relay.start(tls=True)
    advance(srv, admin, 2 * MIN)
    got = wait_for(lambda: len(relay.to(martin)) == 5, 15)
    time.sleep(2)
    t.ok(got and len(relay.to(martin)) == 5, "STARTTLS offered again: delivered, once")


def metrics_and_log(t, srv):
    m, _ = srv.metrics()
    t.ok(m.get("liaison_mail_sent_total") == 5 and m.get("liaison_mail_failed_total", 0) >= 3,
         "/metrics: 5 mails sent, at least 3 failed attempts",
         repr({k: v for k, v in m.items() if "mail" in k}))
    log = srv.log_text()
    leaked = [a for *_, a in PEOPLE if a and a in log] + (["LEMAIRE"] if "LEMAIRE" in log else [])
    t.ok(not leaked, "the server log names no address and no patient", repr(leaked))
    t.ok(re.search(r"mail \d+ to user [0-9a-f]{32}: not sent \(attempt 1\)", log),
         "a failure is logged with the outbox row and the user id")


def restart(t, srv, relay, admin, ids):
    """A server stopped while a mail was "sending" (the relay may have taken
    it): at start-up it is marked interrupted and never sent again."""
    srv.stop(check=False)
    before = relay.count()
    srv.db_exec("INSERT INTO mail_outbox(user_id, created_at, state, attempts, next_attempt_at, "
                "last_attempt_at) VALUES (?, 1, 'sending', 1, 1, 1)", (bytes.fromhex(ids["durand"]),))
    srv.stopped = False
    srv.signalled = False
    srv.start()
    time.sleep(1)
    rows = srv.db_exec("SELECT state FROM mail_outbox WHERE created_at = 1")
    t.eq(rows, [("interrupted",)], "a mail left \"sending\" is marked interrupted at start-up")
    t.ok("being sent when the server stopped" in srv.log_text(), "and the start-up log says so")
    advance(srv, admin, 2 * MIN)
    time.sleep(3)
    t.eq(relay.count(), before, "it is not sent again")


def shutdown_while_sending(t, srv, relay, ids):
    """SIGTERM while the mail thread waits on a relay that never answers:
    liaisond still stops at once, and the mail (nothing went out) is pending
    again, to be retried at the next start."""
    srv.stop(check=False)
    relay.stop()
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", relay.port))
    silent.listen(4)
    silent.settimeout(15 * harness.SLOW)
    srv.db_exec("INSERT INTO mail_outbox(user_id, created_at, state, attempts, next_attempt_at) "
                "VALUES (?, 2, 'pending', 0, 2)", (bytes.fromhex(ids["martin"]),))
    srv.stopped = srv.signalled = False
    srv.start()
    try:
        conn, _ = silent.accept()          # the mail thread connects, and waits
    except OSError:
        conn = None
    t.ok(conn is not None, "a mail is being sent to a relay that never answers")
    time.sleep(0.5)
    srv.stop(label="while a mail is being sent: ")
    if conn:
        conn.close()
    silent.close()
    rows = srv.db_exec("SELECT state, last_error FROM mail_outbox WHERE created_at = 2")
    t.ok(rows and rows[0][0] == "pending" and "shutting down" in (rows[0][1] or ""),
         "the send was aborted: the mail is pending again (nothing went out)", repr(rows))


def bad_password_file(t, srv):
    path = os.path.join(srv.tmp, "loose-password")
    with open(path, "w") as f:
        f.write("x\n")
    os.chmod(path, 0o644)
    conf = os.path.join(srv.tmp, "loose.conf")
    with open(conf, "w") as f:
        f.write(f"smtp_host = 127.0.0.1\nmail_from = {FROM}\nsmtp_user = u\n"
                f"smtp_password_file = {path}\nport = {harness.free_port()}\n")
    res = harness.subprocess.run(
        [harness.LIAISOND, "--config", conf, "--data-dir", srv.data, "--cert",
         os.path.join(harness.CERTS, "server.crt"), "--key",
         os.path.join(harness.CERTS, "server.key")],
        capture_output=True, text=True, timeout=30, stdin=harness.subprocess.DEVNULL)
    t.ok(res.returncode != 0 and "chmod 600" in res.stderr,
         "a password file others may read stops liaisond at start-up", res.stderr[-1500:])


def main(t):
    if not harness.require_programs(t):
        return
    if not t.ok(HAVE_AIOSMTPD, "aiosmtpd is importable (Debian package python3-aiosmtpd)"):
        return
    relay = Relay(harness.free_port())
    relay.start(tls=True)
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"lsn-mail-{os.getpid()}")
    os.makedirs(tmp, mode=0o700, exist_ok=True)
    pw = os.path.join(tmp, "smtp-password")
    with open(pw, "w") as f:
        f.write(SMTP_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    config = {"timer_interval": 1, "due_soon": "1h", "mail_delay": "10m", "mail_period": "1h",
              "smtp_host": "127.0.0.1", "smtp_port": relay.port,
              "smtp_ca": os.path.join(harness.CERTS, "ca.crt"), "smtp_user": SMTP_USER,
              "smtp_password_file": pw, "mail_from": FROM, "public_url": LINK}
    try:
        with Server(t, config=config) as srv:
            c, ids, admin = enrol_all(t, srv)
            names = [p[2] for p in PEOPLE] + ["Hélène", "Claire", "Roux", "Martin", "Durand",
                                              "Bernard"]
            others = ["LEMAIRE", "Odette", "hospital_discharge", "Sortie d'hospitalisation",
                      "248034523405672"] + list(ids.values())
            addresses(t, srv, c, ids)
            ref = discharge(t, c, srv, relay, admin, ids, others)
            content(t, relay, (names, others))
            batching(t, c, srv, relay, admin, ref)
            failures(t, c, srv, relay, admin, ref)
            metrics_and_log(t, srv)
            restart(t, srv, relay, admin, ids)
            shutdown_while_sending(t, srv, relay, ids)
            bad_password_file(t, srv)
    finally:
        relay.stop()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


if __name__ == "__main__":
    run(main, PLAN)
