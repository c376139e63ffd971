#!/usr/bin/env python3
"""test_cli_daily.py — the CLI as a daily tool: a wrong passphrase typed on
a terminal is asked again (a pseudo-terminal types a wrong one, then the
right one), a wrong one from the environment fails at once and says where it
came from, `liaison passphrase` changes it, a thread read earlier is shown
from the local store while the server is stopped, with a plain message; in
--json mode errors are a JSON object on stdout, ids are full ids when a
prefix was typed, and whoami shows no internal field. TAP on stdout."""

import json
import os
import pty
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 49

PASS = "correct horse battery staple"
NEW_PASS = "une autre phrase de passe"
TOPIC = "Suivi sortie Mme Colette Marchand-Ibos"
TEXT = "INR 2.4 ce matin, poursuivre fluindione"


def tty_run(client, args, answers, timeout=60):
    """Run liaison on a pseudo-terminal without LIAISON_PASSPHRASE; answer
    each prompt that contains answers[i][0] with answers[i][1]. Returns
    (exit status, everything the terminal showed)."""
    env = client.env()
    del env["LIAISON_PASSPHRASE"]
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(harness.LIAISON, [harness.LIAISON, "--profile", client.profile] + args, env)
    shown = b""
    pending = list(answers)
    answered = {}  # prompt -> how many times it was answered
    deadline = time.monotonic() + timeout * harness.SLOW
    status = None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            shown += chunk
            # answer the n-th prompt once it is shown (the CLI flushes the
            # terminal's input before each prompt: no answer ahead of it)
            prompt = pending[0][0] if pending else None
            if prompt and shown.count(prompt.encode()) > answered.get(prompt, 0):
                answered[prompt] = answered.get(prompt, 0) + 1
                os.write(fd, pending.pop(0)[1].encode() + b"\n")
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if not done:  # still waiting after the deadline: stop it, report what it showed
            os.kill(pid, 9)
            _, st = os.waitpid(pid, 0)
            shown += b"\n[killed: no exit within the time limit]"
        status = st
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace")


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "Cabinet Bernard", "--finess", "750012346", "--kind",
              "practice")
    roux = Client(srv, "roux", passphrase=PASS)
    bernard = Client(srv, "bernard", passphrase=PASS)
    rc, out, err = roux.enrol(srv.invite("10101010105", "Dr Hélène Roux", "hospital_doctor",
                                         "370000481"))
    t.eq(rc, 0, "the hospital doctor enrols", err)
    rc, out, err = bernard.enrol(srv.invite("10123456781", "Dr Jean Bernard", "gp",
                                            "750012346"))
    t.eq(rc, 0, "the GP enrols", err)
    t.ok("liaison backup setup" in out and "Recovery" not in out,
         "enrol --yes is not asked about the key backup but says how to set it up", out)
    return roux, bernard


def enrol_on_terminal(t, srv):
    """Enrolment typed on a terminal offers the key backup at the end."""
    nurse = Client(srv, "petit", passphrase=PASS)
    code = srv.invite("10000000009", "Claire Petit", "nurse", "750012346")
    rc, shown = tty_run(nurse, ["enrol", "--server", srv.url, "--invite", code],
                        [("enrol this device?", "y"), ("Choose a passphrase", PASS),
                         ("Repeat the passphrase", PASS), ("key backup now", "y")])
    t.eq(rc, 0, "enrolment on a terminal succeeds", shown)
    t.ok("Set up the encrypted key backup now (recommended)? [Y/n]" in shown and
         "Key backup set up. Your recovery code" in shown,
         "it asks whether to set up the key backup, and does it", shown)
    rc, obj, err = nurse.json("backup", "status")
    t.eq((obj or {}).get("enabled"), True, "the nurse's key backup is on", repr(obj) + err)


def passphrase_retry(t, roux):
    rc, shown = tty_run(roux, ["whoami"], [("Passphrase for", "not the passphrase"),
                                           ("Passphrase for", PASS)])
    t.eq(rc, 0, "on a terminal, a wrong passphrase then the right one: whoami succeeds", shown)
    t.ok("wrong passphrase; try again (2 of 3)" in shown,
         "the terminal says the passphrase was wrong and asks again", shown)
    t.ok("Dr Hélène Roux" in shown, "whoami shows the user after the second try", shown)
    rc, shown = tty_run(roux, ["whoami"], [("Passphrase for", "wrong 1"),
                                           ("Passphrase for", "wrong 2"),
                                           ("Passphrase for", "wrong 3"),
                                           ("Passphrase for", PASS)], timeout=20)
    t.eq(rc, 1, "three wrong passphrases: the command fails (no fourth prompt)", shown)
    t.ok(shown.count("Passphrase for profile") == 3 and "(3 tries)" in shown,
         "exactly three prompts, then a message that says so", shown)
    rc, out, err = roux.run("whoami", passphrase="not the passphrase")
    t.eq(rc, 1, "a wrong LIAISON_PASSPHRASE fails at once", err)
    t.ok("wrong passphrase for profile \"roux\" (from LIAISON_PASSPHRASE)" in err
         and "try again" not in err,
         "its message names where the passphrase came from, and nothing is asked again", err)


def json_checks(t, srv, roux, bernard):
    rc, obj, err = roux.json("whoami")
    t.eq(rc, 0, "whoami --json succeeds", err)
    t.ok(obj is not None and "batch" not in obj and "id" not in obj
         and set(obj) == {"user", "device"},
         "whoami --json holds the user and the device, no internal field", repr(obj))
    rc, obj, err = roux.json("whoami", passphrase="not the passphrase")
    e = (obj or {}).get("error") or {}
    t.eq(rc, 1, "whoami --json with a wrong passphrase fails", err)
    t.eq(e.get("code"), "wrong_passphrase",
         "the error is a JSON object on stdout with the code wrong_passphrase", repr(obj))
    t.ok(e.get("message", "").startswith("wrong passphrase for profile \"roux\"")
         and e.get("hint") == "check the variable" and "liaison: wrong passphrase" in err,
         "the JSON error has the message and the hint; the text is on stderr too",
         repr(obj) + err)
    rc, obj, err = roux.json("read", "zz-not-a-channel")
    e = (obj or {}).get("error") or {}
    t.eq(rc, 2, "read of an unusable channel id: usage error", err)
    t.ok(e.get("code") == "bad_request" and "is not a channel id" in e.get("message", ""),
         "its JSON error names the problem", repr(obj))
    rc, obj, err = roux.json("frobnicate")
    e = (obj or {}).get("error") or {}
    t.ok(rc == 2 and e.get("code") == "usage" and "unknown command" in e.get("message", ""),
         "an unknown command: a JSON error with code usage", repr(obj))

    rc, obj, err = roux.json("channel", "create", "--kind", "case", "--topic", TOPIC)
    channel = (obj or {}).get("channel", "0" * 32)
    t.eq(rc, 0, "a case channel is created", err)
    rc, obj, err = roux.json("channel", "add", channel, "Dr")
    cands = ((obj or {}).get("error") or {}).get("candidates") or []
    t.ok(rc == 2 and len(cands) >= 2 and all(len(c.get("id", "")) == 32 for c in cands)
         and "Dr Jean Bernard" in [c.get("name") for c in cands],
         "an ambiguous USER in --json: the error object lists the candidates, full ids",
         repr(obj) + err)
    rc, out, err = roux.run("channel", "add", channel[:6], "Dr Jean Bernard")
    t.eq(rc, 0, "the GP is added (the channel named by a prefix)", err)
    rc, obj, err = roux.json("send", channel[:6], TEXT)
    t.eq(rc, 0, "a message is sent (by a prefix)", err)
    t.eq((obj or {}).get("channel"), channel,
         "send --json names the channel by its full id, not the prefix typed", repr(obj))
    rc, obj, err = bernard.json("read", channel[:6])
    t.eq((obj or {}).get("channel"), channel,
         "read --json by a prefix names the full channel id", repr(obj))
    bodies = [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]
    t.ok(TEXT in bodies, "the GP reads the message", repr(obj) + err)
    french(t, roux, channel)
    return channel


def french(t, roux, channel):
    """channel and verify in a French locale: French words, same exit codes."""
    fr = {"LANG": "fr_FR.UTF-8", "LC_ALL": "fr_FR.UTF-8"}
    rc, out, err = roux.run("channel", "members", channel, env=fr)
    t.ok(rc == 0 and "RÔLE" in out and "DEPUIS" in out and "journal n° " in out
         and "Dr Jean Bernard" in out, "French: channel members has French columns", out + err)
    rc, out, err = roux.run("verify", "Dr Jean Bernard", env=fr)
    t.ok(rc == 0 and "Numéro de sécurité avec Dr Jean Bernard" in out
         and "État : non vérifié (confiance à la première utilisation)" in out
         and "--accept" in out, "French: verify shows the safety number in French", out + err)
    rc, out, err = roux.run("channel", "frobnicate", env=fr)
    t.ok(rc == 2 and "commande channel inconnue « frobnicate »" in err,
         "French: a usage error of channel is in French, exit code 2", err)


def offline(t, srv, bernard, channel):
    srv.stop(label="first run: ")
    rc, out, err = bernard.run("read", channel[:8])
    t.eq(rc, 0, "with the server stopped, read shows the thread stored on this device", err)
    t.ok(TEXT in out and "offline" in out, "the message read earlier is shown, marked offline",
         out)
    t.ok("the Liaison server cannot be reached" in err and "is liaisond running" not in err,
         "stderr says plainly that the server cannot be reached", err)
    t.ok("connection refused" in err,
         "the technical detail follows on its own line", err)
    rc, obj, err = bernard.json("read", channel)
    bodies = [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]
    t.ok(rc == 0 and (obj or {}).get("offline") is True and TEXT in bodies,
         "read --json offline: the stored messages, with \"offline\": true", repr(obj) + err)
    rc, obj, err = bernard.json("whoami")
    e = (obj or {}).get("error") or {}
    t.eq(rc, 1, "whoami needs the server: it fails", err)
    t.ok(e.get("code") == "unreachable" and
         e.get("message") == "the Liaison server cannot be reached" and
         "ask your CPTS" in (e.get("hint") or "") and
         "connection refused" in (e.get("detail") or ""),
         "its JSON error: code unreachable, the plain message, the hint, the detail",
         repr(obj))


def change_passphrase(t, bernard, channel):
    """With the server still stopped: liaison passphrase needs no server."""
    os.environ["LIAISON_NEW_PASSPHRASE"] = "court"
    rc, out, err = bernard.run("passphrase")
    t.ok(rc == 1 and "at least 8 characters" in err,
         "a new passphrase shorter than 8 characters is refused", err)
    os.environ["LIAISON_NEW_PASSPHRASE"] = NEW_PASS
    # one stored message made unreadable: the change stops midway, and the
    # transaction leaves the old passphrase whole
    # (the database is encrypted: changed through a copy in the clear)
    with harness.profile_sqlite(bernard, write=True) as db:
        rowid = db.execute("SELECT channel, seq, sealed FROM messages WHERE sealed IS NOT NULL "
                           "ORDER BY seq DESC LIMIT 1").fetchone()
        broken = rowid[2][:-1] + bytes([rowid[2][-1] ^ 1])
        db.execute("UPDATE messages SET sealed = ? WHERE channel = ? AND seq = ?",
                   (broken, rowid[0], rowid[1]))
    rc, out, err = bernard.run("passphrase")
    t.ok(rc == 1 and "does not open; the passphrase was not changed" in err,
         "a change that fails midway (a damaged item) says nothing was changed", err)
    with harness.profile_sqlite(bernard, write=True) as db:
        db.execute("UPDATE messages SET sealed = ? WHERE channel = ? AND seq = ?", rowid[2:] +
                   rowid[:2])
    rc, out, err = bernard.run("read", channel)
    t.ok(rc == 0 and TEXT in out, "the old passphrase still opens everything after it", err)
    rc, out, err = bernard.run("passphrase", passphrase="not the passphrase")
    t.ok(rc == 1 and "wrong passphrase" in err,
         "the current passphrase is checked first: a wrong one changes nothing", err)
    rc, out, err = bernard.run("passphrase")
    del os.environ["LIAISON_NEW_PASSPHRASE"]
    t.ok(rc == 0 and "is changed" in out, "liaison passphrase changes it", out + err)
    rc, out, err = bernard.run("read", channel)
    t.ok(rc == 1 and "wrong passphrase" in err, "the old passphrase no longer opens the profile",
         err)
    bernard.passphrase = NEW_PASS
    rc, out, err = bernard.run("read", channel)
    t.ok(rc == 0 and TEXT in out,
         "the new one does, and the stored message is still readable (sealed again)",
         out + err)


def main(t):
    harness.require_programs(t)
    with Server(t) as srv:
        roux, bernard = setup(t, srv)
        passphrase_retry(t, roux)
        enrol_on_terminal(t, srv)
        channel = json_checks(t, srv, roux, bernard)
        offline(t, srv, bernard, channel)
        change_passphrase(t, bernard, channel)


if __name__ == "__main__":
    run(main, PLAN)
