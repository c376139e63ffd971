#!/usr/bin/env python3
"""test_e2e_offline.py — a device offline while 50 messages are sent gets all
50, decrypted, in order, when it comes back; nothing clinical is ever
readable on the server (database, its WAL and the server log are searched
byte by byte for the message texts and the patient's name) nor in the
clients' profile files (sealed under the passphrase). TAP on stdout."""

import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 22

PATIENT = "Marcel Lefebvre-Quintard"
TOPIC = f"{PATIENT}, né le 03/04/1941, sortie USIC"
COUNT = 50


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346", "--kind",
              "pharmacy")
    roux = Client(srv, "roux")
    durand = Client(srv, "durand")
    rc, out, err = roux.enrol(srv.invite("10101010105", "Dr Hélène Roux", "hospital_doctor",
                                         "370000481"))
    t.eq(rc, 0, "the hospital doctor enrols", err)
    rc, out, err = durand.enrol(srv.invite("10123456781", "Paul Durand", "pharmacist",
                                           "750012346"))
    t.eq(rc, 0, "the pharmacist enrols", err)
    return roux, durand


def text_of(i):
    return f"Suivi {PATIENT} n°{i:02d}: INR {2 + i / 100:.2f}, poursuivre fluindione"


def offline_catch_up(t, roux, durand):
    rc, obj, err = roux.json("channel", "create", "--kind", "case", "--topic", TOPIC)
    channel = (obj or {}).get("channel", "0" * 32)
    t.eq(rc, 0, "case channel created with the patient's name in its topic", err)
    rc, out, err = roux.run("channel", "add", channel, "Paul Durand")
    t.eq(rc, 0, "the pharmacist is added", err)
    failures = []
    for i in range(1, COUNT + 1):
        rc, out, err = roux.run("send", channel, text_of(i))
        if rc != 0:
            failures.append((i, err))
    t.ok(not failures, f"{COUNT} messages sent while the pharmacist's device is offline",
         repr(failures[:3]))
    rc, obj, err = durand.json("read", channel, "--limit", "1000")
    msgs = [m for m in (obj or {}).get("messages", []) if m.get("type") == "text"]
    got = [(m.get("content") or {}).get("body") for m in msgs]
    t.eq(got, [text_of(i) for i in range(1, COUNT + 1)],
         f"back online: all {COUNT} messages decrypted, in order", err[-2000:])
    seqs = [m.get("seq") for m in msgs]
    t.ok(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "sequence numbers increase",
         repr(seqs))
    t.eq((obj or {}).get("topic"), TOPIC, "the topic decrypts on the other side")
    rc, obj2, err = durand.json("read", channel, "--limit", "1000")
    again = [(m.get("content") or {}).get("body") for m in (obj2 or {}).get("messages", [])
             if m.get("type") == "text"]
    t.eq(again, got, "a second read shows the same thread from the local cache", err)
    return [text_of(i) for i in (1, COUNT // 2, COUNT)]


def lost_share(t, srv, roux, durand):
    """A key share lost in transit: the message waits for its key, a key request
    goes to the sender's device after a short delay, the sender's client answers
    it, and the message becomes readable."""
    import sqlite3
    rc, obj, err = roux.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    roux.run("channel", "add", channel, "Paul Durand")
    rc, obj, err = durand.json("whoami")
    device = bytes.fromhex((obj or {}).get("device", {}).get("id", "0" * 32))
    text = "Message dont la clé s'est perdue en route."
    rc, out, err = roux.run("send", channel, text)
    t.eq(rc, 0, "a message is sent in a second channel", err)
    db = sqlite3.connect(os.path.join(srv.data, "liaison.db"), timeout=10)
    try:
        lost = db.execute("DELETE FROM to_device WHERE recipient_device = ?", (device,)).rowcount
        db.commit()
    finally:
        db.close()
    t.ok(lost > 0, "its key shares to the pharmacist's device are lost (deleted on the server)",
         f"{lost}")
    rc, obj, err = durand.json("read", channel)
    msg = next((m for m in (obj or {}).get("messages", []) if m.get("type") != "topic"), {})
    t.ok(msg.get("status") == "waiting" and "waiting for the key" in (msg.get("detail") or ""),
         "the pharmacist's client says it waits for the key", f"{obj}\n{err}")
    rc, out, err = roux.run("read", channel)
    t.eq(rc, 0, "the sender's client runs and answers the key request", err)
    rc, obj, err = durand.json("read", channel)
    bodies = [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]
    t.ok(text in bodies, "the message is now readable", f"{obj}\n{err}")


def file_bytes(paths):
    data = {}
    for path in paths:
        try:
            with open(path, "rb") as f:
                data[path] = f.read()
        except OSError:
            pass
    return data


def no_plaintext(t, srv, secrets):
    needles = [s.encode() for s in secrets] + [PATIENT.encode(), b"fluindione", b"USIC"]
    server_files = file_bytes(glob.glob(os.path.join(srv.data, "*")) + [srv.log_path])
    t.ok(any(p.endswith("liaison.db") for p in server_files)
         and any("Hélène Roux".encode() in d for d in server_files.values()),
         "control: the search finds what the server may know (a professional's name)",
         repr(list(server_files)))
    leaks = [(os.path.basename(p), n.decode()) for p, d in server_files.items()
             for n in needles if n in d]
    t.ok(not leaks, "no message text or patient name in the server database, WAL or log",
         repr(leaks))
    client_files = file_bytes(glob.glob(os.path.join(srv.clients_home, "profiles", "*", "*")))
    t.ok(len(client_files) >= 2, "the profiles were found to search them",
         repr(list(client_files)))
    leaks = [(p, n.decode()) for p, d in client_files.items() for n in needles if n in d]
    t.ok(not leaks, "no message text or patient name in clear in the profile files "
         "(the cache is sealed)", repr(leaks))


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        roux, durand = setup(t, srv)
        secrets = offline_catch_up(t, roux, durand)
        lost_share(t, srv, roux, durand)
        no_plaintext(t, srv, secrets + [TOPIC, "Message dont la clé s'est perdue en route."])


if __name__ == "__main__":
    run(main, PLAN)
