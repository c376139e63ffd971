#!/usr/bin/env python3
"""test_web_device.py — the browser added as a further device of an account
enrolled with the CLI (docs/WEB.md "A further device"), as `liaison enrol
--recovery-code` does it: a GP enrolled with the real `liaison` CLI shares a
thread with a colleague and sets up her key backup (`liaison backup setup`,
the recovery code shown once); `liaisond invite --user` gives a device
invite; Debian's Chromium (web_device.mjs) shows whom it is for, refuses a
malformed and a wrong recovery code in French without sending anything (the
invite stays valid), opens the backup with the right one, enrols, restores
the backup's conversation keys into its vault and logs in. Then the CLI's
`liaison devices` lists both devices, the browser holds the account's
identity key (the CLI's whoami, the server's users.ik, the fingerprint in a
colleague's `liaison verify`), and the restored sessions are the server's
backup entries, one for one. TAP on stdout."""

import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdrive  # noqa: E402
from harness import Client, Server, run  # noqa: E402

DRIVER = "web_device.mjs"
BROWSER_CHECKS = 13
RESET_CHECKS = 3
PLAN = 1 + 5 + BROWSER_CHECKS + 11 + 1 + RESET_CHECKS + 2 + 3

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PASSPHRASE = "la phrase de passe du navigateur"


def recovery_code(rk):
    """CRYPTO.md §7: RK || BLAKE2b-256("liaison-rk-v1" || RK)[:3] in Crockford
    base32, 14 groups of 4 — a well-formed code for another RK."""
    raw = rk + hashlib.blake2b(b"liaison-rk-v1" + rk, digest_size=32).digest()[:3]
    n = int.from_bytes(raw, "big")
    chars = "".join(ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(56)))
    return "-".join(chars[i:i + 4] for i in range(0, 56, 4))


def main(t):
    found = webdrive.ready(t)
    if not found:
        return
    browser, node = found
    with Server(t, extra_args=["--web-root", webdrive.DIST]) as srv:
        srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
                  "hospital")
        srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                  "--kind", "cpts")
        roux, martin = Client(srv, "roux"), Client(srv, "martin")
        rc1, _, err1 = roux.enrol(srv.invite("10101010105", "Dr Hélène Roux", "hospital_doctor",
                                             "370000481"))
        rc2, _, err2 = martin.enrol(srv.invite("10000000009", "Dr Claire Martin", "gp",
                                               "450000005"), device_name="cabinet-pc")
        t.ok(rc1 == 0 and rc2 == 0, "two professionals enrol with the CLI", f"{err1}\n{err2}")
        rc, obj, err = roux.json("channel", "create", "--kind", "case")
        channel = (obj or {}).get("channel", "0" * 32)
        roux.run("channel", "add", channel, "Claire Martin")
        roux.run("send", channel, "Sortie prévue lundi.")
        rc, _, err = martin.run("send", channel, "Vu, je passe mardi.")
        t.eq(rc, 0, "they share a thread, both have written in it", err)
        rc, obj, err = martin.json("backup", "setup")
        code = (obj or {}).get("recovery_code", "")
        t.ok(rc == 0 and len(code) == 69, "the GP sets up her key backup and gets her recovery code",
             f"{obj}\n{err}")
        rc, me, err = martin.json("whoami")
        user = ((me or {}).get("user") or {}).get("id", "")
        ik_b64 = ((me or {}).get("user") or {}).get("ik", "")
        rows = srv.db_exec("SELECT lower(hex(channel_id)), lower(hex(session_id)), first_index "
                           "FROM backup_sessions WHERE lower(hex(user_id)) = ?", (user,))
        backed = sorted(f"backup:session:{c}:{s}" for c, s, _ in rows)
        t.ok(rc == 0 and len(backed) >= 2, "the server holds her backup's session entries "
             "(one per sender session of the thread)", repr(rows))
        # one entry altered on the server (a flipped byte of its ciphertext):
        # the browser skips it, as the CLI does, and restores the others
        altered = backed[0].split(":")
        where = "WHERE lower(hex(channel_id)) = ? AND lower(hex(session_id)) = ?"
        blob = bytearray(srv.db_exec(f"SELECT data FROM backup_sessions {where}",
                                     (altered[2], altered[3]))[0][0])
        blob[40] ^= 1
        srv.db_exec(f"UPDATE backup_sessions SET data = ? {where}",
                    (bytes(blob), altered[2], altered[3]))
        expected = backed[1:]
        out = srv.admin("invite", "--user", user)
        invite = out.strip().splitlines()[-1].strip()
        t.ok(len(invite) == 29, "liaisond invite --user gives a device invite", out)

        # the colleague has no key backup: a device invite for her cannot be used
        rc, rme, err = roux.json("whoami")
        roux_id = ((rme or {}).get("user") or {}).get("id", "")
        nobackup = srv.admin("invite", "--user", roux_id).strip().splitlines()[-1].strip()

        wrong = recovery_code(os.urandom(32))
        profile = os.path.join(srv.tmp, "chromium-profile")
        cfg = webdrive.base_config(
            srv, browser, profile, code=invite, recovery=code, wrong=wrong, noBackup=nobackup,
            passphrase=PASSPHRASE, deviceName="Poste du service",
            expect={"name": "Dr Claire Martin", "rpps": "10000000009", "org": "CPTS Val de Loire"},
            sessions=len(expected))
        values = webdrive.phase(t, node, DRIVER, cfg, BROWSER_CHECKS)
        added = values.get("added") or {}

        rc, devs, err = martin.json("devices")
        listed = {(d.get("id"), d.get("name")) for d in (devs or {}).get("devices", [])
                  if not d.get("revoked_at")}
        mine = ((me or {}).get("device") or {}).get("id")
        t.ok(rc == 0 and listed == {(mine, "cabinet-pc"), (added.get("device"), "Poste du service")},
             "liaison devices (the CLI) lists both devices of the account, the browser under its "
             "name", f"{listed!r} browser={added!r} {err}")
        t.ok(added.get("user") == user, "the browser enrolled into the same account (user id)",
             f"{added.get('user')} vs {user}")
        t.ok(ik_b64 and added.get("ik") == base64.b64decode(ik_b64).hex(),
             "the browser holds the account's identity key (the CLI's whoami)",
             f"browser {added.get('ik')} CLI {ik_b64}")
        server_ik = srv.db_exec("SELECT lower(hex(ik)) FROM users WHERE lower(hex(id)) = ?", (user,))
        t.ok(server_ik and server_ik[0][0] == added.get("ik"),
             "... and the server still has that key for the account (enrol kept it)", repr(server_ik))
        rc, ver, err = roux.json("verify", user)
        number = ((ver or {}).get("safety_number") or "").replace(" ", "")
        fpr = (added.get("fingerprint") or "").replace(" ", "")
        t.ok(rc == 0 and len(fpr) == 30 and fpr in (number[:30], number[30:]),
             "the fingerprint the browser shows is the account's, in the colleague's liaison verify",
             f"browser {fpr} safety number {number} {err}")
        t.eq(sorted(values.get("vault_sessions") or []), expected,
             "the browser's vault holds one restored session per backup entry of the server, "
             "the altered one left out")

        # the CLI device still works after the browser joined
        rc, obj, err = martin.json("read", channel)
        bodies = [(m.get("content") or {}).get("body") for m in (obj or {}).get("messages", [])]
        t.ok(rc == 0 and "Sortie prévue lundi." in bodies, "the CLI device still reads the thread",
             f"{obj}\n{err}")
        used = srv.db_exec("SELECT count(*) FROM devices WHERE lower(hex(user_id)) = ?", (user,))
        t.eq(used[0][0] if used else None, 2, "the server has exactly two devices for the account")
        rc, out, err = martin.run("backup", "status")
        t.ok(rc == 0, "the CLI's backup is untouched", f"{out}\n{err}")
        again = Client(srv, "again")
        rc, out, err = again.run("enrol", "--server", srv.url, "--invite", invite, "--yes",
                                 "--recovery-code", code)
        t.ok(rc != 0 and "invite" in err.lower() and "used" in err.lower(),
             "the device invite is spent once the browser enrolled (invite_used for the CLI)",
             f"rc={rc}\n{out}\n{err}")
        left = srv.db_exec("SELECT count(*) FROM invites WHERE lower(hex(user_id)) = ? AND "
                           "used_at IS NULL", (roux_id,))
        t.ok(left and left[0][0] == 1, "the device invite of the account without a backup is still "
             "unused", repr(left))

        # the colleague loses her only device: liaisond user reset, and the
        # browser (another profile) enrols with the new-identity invite
        rc, out, err = srv.admin_run("user", "reset", "--user", roux_id)
        lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
        reset = next((ln for ln in lines if len(ln) == 29 and ln.count("-") == 5), "")
        old_ik = srv.db_exec("SELECT lower(hex(ik)) FROM users WHERE lower(hex(id)) = ?", (roux_id,))
        t.ok(rc == 0 and reset, "liaisond user reset gives the colleague a new-identity invite", out + err)
        values = webdrive.phase(t, node, DRIVER, dict(
            cfg, phase="reset", code=reset, profile=os.path.join(srv.tmp, "chromium-reset"),
            screenshots=None, deviceName="Navigateur de Roux",
            expect={"name": "Dr Hélène Roux", "rpps": "10101010105", "org": "CHU de Tours"}),
            RESET_CHECKS)
        renewed = values.get("added") or {}
        new_ik = srv.db_exec("SELECT lower(hex(ik)) FROM users WHERE lower(hex(id)) = ?", (roux_id,))
        t.ok(renewed.get("user") == roux_id and new_ik and renewed.get("ik") == new_ik[0][0]
             and old_ik and new_ik[0][0] != old_ik[0][0],
             "same account, and the server now has the browser's new identity key",
             f"{renewed!r} server {new_ik!r} before {old_ik!r}")
        rc, ver, err = martin.json("verify", roux_id)
        number = ((ver or {}).get("safety_number") or "").replace(" ", "")
        fpr = (renewed.get("fingerprint") or "").replace(" ", "")
        t.ok(rc == 0 and (ver or {}).get("identity_key_changed") is True and len(fpr) == 30
             and fpr in (number[:30], number[30:]),
             "the GP's CLI sees the changed identity key, and its safety number holds the "
             "browser's new fingerprint", f"{ver!r} browser {fpr} {err}")
        srv.stop()


if __name__ == "__main__":
    run(main, PLAN)
