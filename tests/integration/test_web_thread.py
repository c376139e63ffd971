#!/usr/bin/env python3
"""test_web_thread.py — end-to-end threads between the browser and the CLI
(docs/WEB.md "Threads"): a real liaisond serves web/dist; the browser
(Debian's Chromium driven by web_thread.mjs) and the real `liaison` CLI of
two colleagues exchange encrypted messages both ways:

- a thread created by the CLI (`channel create --topic`, `channel add`,
  `send`) appears in the browser's list with its topic and unread count;
  the browser reads it (decrypted, verified, the sender's name) and
  answers with Ctrl+Entrée; the CLI's `read --json` shows the answer
  decrypted and verified from the browser's user; receipts both ways (the
  CLI sees "read by" the browser's user, the browser shows "lu par" live);
  a message the CLI sends while the thread is open appears without reload;
- the browser creates a thread with a CLI user (directory search) and the
  CLI reads its topic and message;
- an envelope altered in the server's database is refused in the browser
  with the same status and detail as the CLI's `read --json` for that seq;
  a message the server deletes is reported as the CLI reports it (a
  missing seq, and the next message's link naming a message not held);
- a thread of 2,000 messages, typed in a second browser's composer (a
  second user on another Chromium profile), opens in the first and scrolls
  to its first message, the page's longest task measured (bound in docs);
- no console error.

LSN_SCREENSHOTS=DIR saves web-threads-1-list and web-threads-2-thread.
TAP on stdout."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import webdrive  # noqa: E402
from harness import Client, Server, run  # noqa: E402

DRIVER = "web_thread.mjs"
ENROL_CHECKS = 2
MAIN_CHECKS = 11
TAMPER_CHECKS = 4
BIG_CHECKS = 4
FILL_CHECKS = 3
BIG = int(os.environ.get("LSN_WEB_THREAD_BIG", "2000"))
PLAN = 1 + 2 + ENROL_CHECKS + MAIN_CHECKS + 5 + TAMPER_CHECKS + FILL_CHECKS + BIG_CHECKS + 1 + 3

ANNE = {"name": "Dr Anne Navigateur", "rpps": "10101010105"}
PASSPHRASE = "une phrase de passe de test"
TOPIC = "Sortie de M. Test, chambre 12"


def cli_spec(client):
    env = client.env()
    return {"cmd": [harness.LIAISON, "--profile", client.profile],
            "env": {k: env[k] for k in ("LIAISON_HOME", "LIAISON_PASSPHRASE", "LIAISON_CA")}}


def message(obj, seq):
    return next((m for m in (obj or {}).get("messages", []) if m.get("seq") == seq), None)


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind", "cpts")
        srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346",
                  "--kind", "pharmacy")
        paul = Client(srv, "paul", passphrase="the pharmacist's passphrase")
        rc, out, err = paul.enrol(srv.invite("10000000009", "Paul Durand", "pharmacist", "750012346"))
        t.eq(rc, 0, "Paul (pharmacist) enrols with the CLI", err)
        claire = Client(srv, "claire", passphrase="the nurse's passphrase")
        rc, out, err = claire.enrol(srv.invite("10000000017", "Claire Infirmière", "nurse", "450000005"))
        t.eq(rc, 0, "Claire (nurse) enrols with the CLI", err)

        profile = os.path.join(srv.tmp, "chromium-profile")
        code = srv.invite(ANNE["rpps"], ANNE["name"], "gp", "450000005")
        cfg = webdrive.base_config(srv, browser, profile, code=code, passphrase=PASSPHRASE,
                                   topic=TOPIC, paul=cli_spec(paul), claire=cli_spec(claire))
        webdrive.phase(t, node, DRIVER, dict(cfg, phase="enrol"), ENROL_CHECKS)

        # Paul creates the thread with the CLI, adds Anne (the browser) and Claire
        rc, obj, err = paul.json("channel", "create", "--kind", "case", "--topic", TOPIC)
        channel = (obj or {}).get("channel", "")
        rc2, _, err2 = paul.run("channel", "add", channel, ANNE["name"])
        rc3, _, err3 = paul.run("channel", "add", channel, "Claire Infirmière")
        rc4, _, err4 = paul.run("send", channel, "Bonjour, le patient sort demain : pouvez-vous le voir ?")
        rc5, _, err5 = paul.run("send", channel, "Traitement inchangé.\nÀ bientôt.")
        t.ok(rc == rc2 == rc3 == rc4 == rc5 == 0 and len(channel) == 32,
             "the CLI creates a thread with a topic, adds the browser's user and Claire, sends two messages",
             f"{err}{err2}{err3}{err4}{err5}")

        values = webdrive.phase(t, node, DRIVER, dict(cfg, phase="main", channel=channel), MAIN_CHECKS)
        answer = values.get("answer") or ""
        created = values.get("created") or ""

        # the CLI of the other colleague reads the browser's answer
        rc, obj, err = claire.json("read", channel)
        mine = [m for m in (obj or {}).get("messages", []) if (m.get("content") or {}).get("body") == answer]
        t.ok(rc == 0 and answer and len(mine) == 1 and mine[0].get("verified") is True
             and mine[0].get("status") == "ok" and (mine[0].get("sender_name") or "").startswith(ANNE["name"]),
             "Claire's CLI reads the browser's answer, decrypted and verified, from the browser's user",
             f"rc={rc} {json.dumps(mine)[:800]} {err}")
        rc, obj, err = paul.json("read", created) if created else (1, None, "no thread created")
        texts = [(m.get("content") or {}) for m in (obj or {}).get("messages", []) if m.get("verified")]
        t.ok(rc == 0 and (obj or {}).get("topic") == "Fil créé dans le navigateur"
             and any(c.get("body") == "Premier message du navigateur" for c in texts)
             and (obj or {}).get("valid") is True,
             "the thread the browser created: the CLI verifies its log and reads its topic and message",
             f"rc={rc} {json.dumps(obj)[:1500]} {err}")

        # a message whose stored envelope the server alters
        rc, obj, err = paul.json("send", channel, "Ce message sera altéré par le serveur")
        seq = (obj or {}).get("seq", 0)
        row = srv.db_exec("SELECT envelope FROM messages WHERE hex(channel_id) = ? AND seq = ?",
                          (channel.upper(), seq))
        env = bytearray(row[0][0]) if row else bytearray()
        if env:
            env[120] ^= 0x01  # a byte of the ciphertext: the session's signature no longer holds
            srv.db_exec("UPDATE messages SET envelope = ? WHERE hex(channel_id) = ? AND seq = ?",
                        (bytes(env), channel.upper(), seq))
        # and a message the server deletes: the next one from the same
        # device names it by its link
        paul.run("send", channel, "Ce message sera supprimé par le serveur")
        rc, obj, err = paul.json("send", channel, "Message après le message supprimé")
        after = (obj or {}).get("seq", 0)
        srv.db_exec("DELETE FROM messages WHERE hex(channel_id) = ? AND seq = ?",
                    (channel.upper(), after - 1))
        rc, obj, err = claire.json("read", channel)
        cli_view = message(obj, seq) or {}
        t.ok(rc == 0 and cli_view.get("status") == "bad_signature",
             "the CLI refuses the altered envelope (status bad_signature)", json.dumps(cli_view))
        missing = (obj or {}).get("missing", [])
        t.ok({"kind": "seq", "seq": after - 1, "through": after - 1} in
             [{k: m.get(k) for k in ("kind", "seq", "through")} for m in missing]
             and any(m.get("kind") == "link" and m.get("before_seq") == after for m in missing),
             "the CLI reports the deleted message: a missing seq, and the next message's broken link",
             json.dumps(missing))
        webdrive.phase(t, node, DRIVER, dict(cfg, phase="tamper", channel=channel, seq=seq,
                                             cli=cli_view, after=after), TAMPER_CHECKS)

        # a long thread: a second browser (Dr Bernard Long, his own Chromium
        # profile) creates it with Anne and types BIG - 1 messages in its
        # composer, as a user would; Anne's browser then opens it
        bcode = srv.invite("10000000025", "Dr Bernard Long", "cardiologist", "450000005")
        values = webdrive.phase(t, node, DRIVER, dict(cfg, phase="fill", code=bcode, total=BIG,
                                                      profile=os.path.join(srv.tmp, "chromium-bob")),
                                FILL_CHECKS, timeout=600)
        big = values.get("long_channel") or ""
        t.diag(f"long thread filled: {json.dumps(values.get('fill'))}")
        values = webdrive.phase(t, node, DRIVER, dict(cfg, phase="big", channel=big, total=BIG), BIG_CHECKS,
                                timeout=400)
        t.ok(bool(values.get("big")), "the long thread's numbers were measured", json.dumps(values.get("big")))
        t.diag(f"long thread: {json.dumps(values.get('big'))}")
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
