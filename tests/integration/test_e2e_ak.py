#!/usr/bin/env python3
"""test_e2e_ak.py — agreement-key rotation (CRYPTO.md §1: "AK rotates every 7
days; a device keeps the private half of its last 3 AKs to open shares that
were sent late. Private halves of old AKs are then erased.") through the real
liaison CLI against a real liaisond.

A hospital doctor and a GP share case channels. Only the GP's client runs
with LIAISON_TEST_CLOCK_OFFSET_MS (8, 16, 24, 32 days ahead); the doctor's
clock is the real one. Checked: the GP's client publishes a new AK when the
current one is 7 days old (devices --json, the server's table, the ak_id the
doctor's next share names) and the doctor's next message decrypts with it; a
share queued for the old AK before the rotation still opens; after 3 more
rotations a share sent to an erased AK is reported as such (and the key
request that follows recovers the message); the profile never holds more
than 3 AK private halves; a client killed after the server took its new key
(or before sending it) keeps the key pending and the next command completes
the publication with the same idem; a refused publication leaves the current
key in use with one line on stderr and the command succeeds. TAP on stdout."""

import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 71

DAY_MS = 24 * 3600 * 1000
ERASED = "sent to an agreement key this device has erased (older than the last 3)"
# key-share envelope: version(1) "liaison-ks-v1"(13) LP(user_A) LP(dev_A)
# LP(user_B) LP(dev_B) (18 each), then LP(ak_id_B): the id at 88..104
KS_AK_ID = slice(1 + 13 + 4 * 18 + 2, 1 + 13 + 4 * 18 + 2 + 16)


class ClockedClient(Client):
    """A client whose clock runs offset_ms ahead (None: the real clock), and
    that dies at crash (LIAISON_TEST_CRASH) if set."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.offset_ms = None
        self.crash = None

    def env(self, passphrase=None, extra=None):
        env = super().env(passphrase, extra)
        env.pop("LIAISON_TEST_CLOCK_OFFSET_MS", None)
        env.pop("LIAISON_TEST_CRASH", None)
        if self.offset_ms is not None:
            env["LIAISON_TEST_CLOCK_OFFSET_MS"] = str(self.offset_ms)
        if self.crash:
            env["LIAISON_TEST_CRASH"] = self.crash
        return env


def ok_run(t, client, name, *args):
    rc, out, err = client.run(*args)
    t.eq(rc, 0, name, f"stdout: {out}\nstderr: {err}")
    return out, err


def own_device(t, client):
    """(device id, ak_id, ak_ts) of the client's only device, from devices --json."""
    rc, obj, err = client.json("devices")
    devs = (obj or {}).get("devices") or [{}]
    d = devs[0]
    if rc != 0 or len(devs) != 1:
        t.diag(f"devices --json: rc={rc} {obj} {err}")
    return d.get("id", ""), d.get("ak_id", ""), d.get("ak_ts", 0)


def server_current_ak(srv, device):
    """What op keys serves: the device's newest agreement key on the server."""
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    try:
        row = db.execute("SELECT ak_id FROM agreement_keys WHERE device_id = ?"
                         " ORDER BY ak_ts DESC LIMIT 1", (bytes.fromhex(device),)).fetchone()
    finally:
        db.close()
    return row[0].hex() if row else ""


def queued_ak_ids(srv, device):
    """The ak_id each key-share envelope queued for device names, oldest first."""
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"))
    try:
        rows = db.execute("SELECT body FROM to_device WHERE recipient_device = ? ORDER BY id",
                          (bytes.fromhex(device),)).fetchall()
    finally:
        db.close()
    return [bytes(body[KS_AK_ID]).hex() for (body,) in rows]


def profile_aks(srv, client):
    """(sealed AK private halves, {ak_id hex: state}) in the client's profile."""
    with harness.profile_sqlite(client) as db:  # encrypted: read through a copy
        halves = db.execute("SELECT count(*) FROM sealed WHERE name LIKE 'ak_sk%'").fetchone()[0]
        states = {bytes(k).hex(): s for k, s in
                  db.execute("SELECT ak_id, state FROM agreement_keys")}
        version = db.execute("PRAGMA user_version").fetchone()[0]
    return halves, states, version


def set_profile_ak_ts(srv, client, ts):
    with harness.profile_sqlite(client, write=True) as db:  # encrypted: through a copy
        db.execute("UPDATE meta SET value = ? WHERE key = 'ak_ts'", (ts,))


def new_case(t, doctor, name):
    """A case channel of the doctor with the GP in it."""
    rc, obj, err = doctor.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    t.ok(rc == 0 and len(channel) == 32, f"{name}: the doctor creates a case channel",
         f"{obj}\n{err}")
    ok_run(t, doctor, f"{name}: the doctor adds the GP", "channel", "add", channel,
           "Claire Martin")
    return channel


def read_msgs(client, channel):
    """(rc, {body or detail: message}, stderr) of read --json."""
    rc, obj, err = client.json("read", channel, "--limit", "100")
    msgs = {}
    for m in (obj or {}).get("messages", []):
        if m.get("type") not in (None, "text"):
            continue
        key = (m.get("content") or {}).get("body") or m.get("detail") or ""
        msgs[key] = m
    return rc, msgs, err


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    doctor = ClockedClient(srv, "roux")
    gp = ClockedClient(srv, "martin")
    rc, out, err = doctor.enrol(srv.invite("10101010105", "Dr Hélène Roux", "hospital_doctor",
                                           "370000481"))
    t.eq(rc, 0, "the hospital doctor enrols", f"{out}\n{err}")
    rc, out, err = gp.enrol(srv.invite("10000000009", "Dr Claire Martin", "gp", "450000005"))
    t.eq(rc, 0, "the GP enrols", f"{out}\n{err}")
    return doctor, gp


def check_profile(t, srv, gp, want_halves, want_current, label):
    halves, states, version = profile_aks(srv, gp)
    current = [k for k, s in states.items() if s == "current"]
    t.ok(halves == want_halves and halves <= 3 and current == [want_current]
         and version == 6,
         f"{label}: the profile holds {want_halves} AK private half/halves (never more "
         f"than 3), the current one as published",
         f"halves={halves} states={states} version={version} want current {want_current}")
    return states


def first_rotation(t, srv, doctor, gp):
    """Day 8: a share queued for the first AK still opens after the rotation;
    the doctor's next share goes to the new AK."""
    device, ak1, ak1_ts = own_device(t, gp)
    t.ok(len(device) == 32 and len(ak1) == 32, "the GP's device and first AK", device)
    check_profile(t, srv, gp, 1, ak1, "after enrolment")
    out, err = ok_run(t, gp, "login with the real clock", "login")
    t.eq(own_device(t, gp)[1], ak1, "a fresh AK is not rotated", err)

    c1 = new_case(t, doctor, "day 0")
    m1 = "Sortie prévue J0, bilan à J8 avec le médecin traitant."
    ok_run(t, doctor, "the doctor sends while the GP's client is not running", "send", c1, m1)
    t.eq(queued_ak_ids(srv, device), [ak1], "the share waits on the server for the first AK")

    gp.offset_ms = 8 * DAY_MS
    before = int(time.time() * 1000)
    out, err = ok_run(t, gp, "day 8: the GP logs in", "login")
    _, ak2, ak2_ts = own_device(t, gp)
    t.ok(len(ak2) == 32 and ak2 != ak1, "devices --json: the GP's device has a new ak_id",
         f"{ak1} -> {ak2}\n{err}")
    t.ok(ak2_ts >= before + 8 * DAY_MS - 60000,
         "its ak_ts is on the GP's (advanced) clock: LIAISON_TEST_CLOCK_OFFSET_MS applied",
         f"ak_ts={ak2_ts} now={before}")
    t.eq(server_current_ak(srv, device), ak2, "the server's current AK for the device (op keys)")
    t.ok("agreement key" not in err, "a successful rotation prints nothing", err)
    check_profile(t, srv, gp, 2, ak2, "day 8")

    rc, msgs, err = read_msgs(gp, c1)
    t.ok(rc == 0 and msgs.get(m1, {}).get("status") == "ok",
         "the share queued for the old AK before the rotation still opens (old AK kept)",
         f"{msgs}\n{err}")
    t.ok("ignored a key share" not in err, "no key share was refused", err)
    t.eq(own_device(t, gp)[1], ak2, "a second command the same day does not rotate again")

    # a session already shared with the GP is not shared again (the GP holds
    # its key): the doctor's next share is the one of a new session
    c2 = new_case(t, doctor, "day 8")
    m2 = "Résultats du bilan: INR 2,4."
    ok_run(t, doctor, "the doctor sends in a new channel (real clock)", "send", c2, m2)
    t.eq(queued_ak_ids(srv, device), [ak2], "the doctor's new share names the new AK")
    rc, msgs, err = read_msgs(gp, c2)
    t.ok(rc == 0 and msgs.get(m2, {}).get("status") == "ok",
         "the GP decrypts it with the new AK", f"{msgs}\n{err}")
    return device, ak1, ak2


def three_more_rotations(t, srv, doctor, gp, device, ak1, ak2):
    """A share to the AK of day 8 waits while the GP's client rotates on days
    16, 24 and 32: it is then reported as sent to an erased key."""
    c3 = new_case(t, doctor, "late share")
    m3 = "Compte rendu d'hospitalisation (envoyé tard)."
    ok_run(t, doctor, "the doctor sends to the GP's day-8 AK", "send", c3, m3)
    t.eq(queued_ak_ids(srv, device), [ak2], "queued for the day-8 AK")

    aks = [ak1, ak2]
    c4 = m4 = None
    for day in (16, 24, 32):
        gp.offset_ms = day * DAY_MS
        out, err = ok_run(t, gp, f"day {day}: the GP logs in (queue left unread)", "login")
        ak = own_device(t, gp)[1]
        t.ok(len(ak) == 32 and ak not in aks, f"day {day}: a new ak_id", f"{aks} -> {ak}")
        aks.append(ak)
        states = check_profile(t, srv, gp, 3, ak, f"day {day}")
        erased = sorted(k for k, s in states.items() if s == "erased")
        t.eq(erased, sorted(aks[:-3]), f"day {day}: the AKs older than the last 3 are erased")
        if day == 16:
            c4 = new_case(t, doctor, "day 16")
            m4 = "Kinésithérapie à domicile prescrite."
            ok_run(t, doctor, "the doctor sends to the GP's day-16 AK", "send", c4, m4)
    t.eq(queued_ak_ids(srv, device), [ak2, aks[2]],
         "the server still holds the share for the day-8 AK and one for the day-16 AK")

    rc, msgs, err = read_msgs(gp, c3)
    t.ok(rc == 0 and ERASED in err,
         "day 32: the share to the day-8 AK is reported as sent to an erased AK", err)
    t.ok(err.count("ignored a key share") == 1 and "does not verify" not in err,
         "only that share is refused (the one to the day-16 AK, 2 rotations old, opens)", err)
    late = msgs.get(m3)
    t.ok(late is None and any("waiting" in k for k in msgs),
         "the message whose key went to the erased AK waits for its key", f"{msgs}")
    rc, msgs, err = read_msgs(gp, c4)
    t.ok(rc == 0 and msgs.get(m4, {}).get("status") == "ok",
         "the message shared to the day-16 AK decrypts (previous AK kept)", f"{msgs}\n{err}")
    ok_run(t, doctor, "the doctor's client answers the GP's key request", "read", c3)
    rc, msgs, err = read_msgs(gp, c3)
    t.ok(msgs.get(m3, {}).get("status") == "ok",
         "re-shared to the current AK, the late message is read", f"{msgs}\n{err}")
    return aks


def pending_publication(t, srv, doctor, gp, device, aks):
    """A client killed while publishing: the new key stays pending and the
    next command sends the same request again (same idem)."""
    gp.offset_ms, gp.crash = 40 * DAY_MS, "after_ak_publish"
    rc, out, err = gp.run("login")
    t.eq(rc, 137, "day 40: the GP's client dies after the server took its new AK", err)
    gp.crash = None
    new = server_current_ak(srv, device)
    halves, states, _ = profile_aks(srv, gp)
    t.ok(new not in aks and states.get(new) == "pending" and states.get(aks[-1]) == "current"
         and halves == 3,
         "the server serves the new AK; the profile holds it as pending, 3 private halves",
         f"server {new} halves={halves} {states}")
    c5 = new_case(t, doctor, "day 40")
    m5 = "Sortie d'HAD prévue lundi."
    ok_run(t, doctor, "the doctor sends (sealed to the key the server serves)", "send", c5, m5)
    t.eq(queued_ak_ids(srv, device), [new], "the share names the pending AK")
    rc, msgs, err = read_msgs(gp, c5)
    t.ok(rc == 0 and msgs.get(m5, {}).get("status") == "ok" and "agreement key" not in err,
         "the next command confirms the pending AK (same idem) and the share opens",
         f"{msgs}\n{err}")
    halves, states, _ = profile_aks(srv, gp)
    t.ok(own_device(t, gp)[1] == new and states.get(new) == "current" and halves == 3
         and "pending" not in states.values(),
         "the pending AK is now current, 3 private halves", f"halves={halves} {states}")
    aks.append(new)

    gp.offset_ms, gp.crash = 48 * DAY_MS, "before_ak_publish"
    rc, out, err = gp.run("login")
    t.eq(rc, 137, "day 48: the GP's client dies before its new AK leaves", err)
    gp.crash = None
    halves, states, _ = profile_aks(srv, gp)
    pending = [k for k, s in states.items() if s == "pending"]
    t.ok(server_current_ak(srv, device) == new and len(pending) == 1 and halves == 3,
         "the server still serves the day-40 AK; one pending AK in the profile",
         f"halves={halves} {states}")
    ok_run(t, gp, "day 48: the next login publishes it", "login")
    t.ok(pending and own_device(t, gp)[1] == pending[0]
         and server_current_ak(srv, device) == pending[0],
         "the pending AK, not a fresh one, became current", f"{pending} {states}")
    aks.extend(pending)
    halves, states, _ = profile_aks(srv, gp)
    t.ok(halves == 3 and sorted(k for k, s in states.items() if s == "erased")
         == sorted(aks[:-3]), "still 3 private halves; all older AKs erased",
         f"halves={halves} {states}")


def refused_publication(t, srv, gp, device, aks):
    """The profile believes its AK is old, the server has a newer one: the
    server refuses the new key; the command still succeeds."""
    current = aks[-1]
    gp.offset_ms = None  # real clock: older than the day-32 key on the server
    set_profile_ak_ts(srv, gp, int(time.time() * 1000) - 30 * DAY_MS)
    rc, out, err = gp.run("channel", "list")
    lines = [ln for ln in err.splitlines() if "agreement key" in ln]
    t.ok(rc == 0 and len(lines) == 1 and "the current one stays in use" in lines[0]
         and "conflict" in lines[0],
         "a refused publication: one line on stderr saying why, the command succeeds",
         f"rc={rc}\n{out}\n{err}")
    t.eq(own_device(t, gp)[1], current, "the server's current AK is unchanged")
    halves, states, _ = profile_aks(srv, gp)
    t.ok(states.get(current) == "current" and halves <= 3
         and sum(1 for s in states.values() if s == "pending") == 0,
         "the profile keeps its current AK; the refused key is gone",
         f"halves={halves} {states}")


def bad_offset(t, gp):
    gp.offset_ms = "eight days"
    rc, out, err = gp.run("login")
    t.ok(rc == 2 and "LIAISON_TEST_CLOCK_OFFSET_MS" in err,
         "a malformed LIAISON_TEST_CLOCK_OFFSET_MS is a usage error that names it", err)
    gp.offset_ms = None


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        doctor, gp = setup(t, srv)
        device, ak1, ak2 = first_rotation(t, srv, doctor, gp)
        aks = three_more_rotations(t, srv, doctor, gp, device, ak1, ak2)
        pending_publication(t, srv, doctor, gp, device, aks)
        refused_publication(t, srv, gp, device, aks)
        bad_offset(t, gp)


if __name__ == "__main__":
    run(main, PLAN)
