#!/usr/bin/env python3
"""test_enrol.py — enrolment and identity through the real CLI against a real
server: admin creates organisations and invites, professionals enrol, log in,
look each other up; invites are single-use and expire; a revoked device is
locked out; a wrong passphrase does not open the profile. TAP on stdout."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 50

CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$")


def users_of(obj):
    """The user list of a directory search in --json output."""
    if isinstance(obj, dict):
        obj = obj.get("users")
    return obj if isinstance(obj, list) else []


def names_of(obj):
    return sorted(u.get("name") for u in users_of(obj) if isinstance(u, dict))


def field(obj, *path):
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def check_fails_with(t, res, code, name):
    rc, out, err = res
    return t.ok(rc == 1 and code in err, name, f"want exit 1 and {code} in stderr; "
                f"rc={rc}\nstdout: {out}\nstderr: {err}")


def admin_setup(t, srv):
    out = srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005",
                    "--kind", "cpts")
    t.ok("450000005" in out and "CPTS Val de Loire" in out,
         "admin: org add (CPTS, FINESS 450000005)", out)
    srv.admin("org", "add", "--name", "Pharmacie du Centre", "--finess", "750012346",
              "--kind", "pharmacy")
    out = srv.admin("org", "list")
    t.ok("CPTS Val de Loire" in out and "Pharmacie du Centre" in out,
         "admin: org list shows both organisations", out)

    rc, out, err = srv.admin_run("org", "add", "--name", "Bad", "--finess", "450000006",
                                 "--kind", "cpts")
    t.ok(rc != 0, "admin: org add with a wrong FINESS check digit fails", f"rc={rc} {out} {err}")
    rc, out, err = srv.admin_run("org", "add", "--name", "Bad kind", "--finess", "130000003",
                                 "--kind", "bank")
    t.ok(rc != 0, "admin: org add with an unknown kind fails", f"rc={rc} {out} {err}")
    rc, out, err = srv.admin_run("invite", "--rpps", "10101010106", "--name", "Dr X",
                                 "--profession", "gp", "--org", "450000005", "--roles", "member")
    t.ok(rc != 0, "admin: invite with a wrong RPPS check digit fails", f"rc={rc} {out} {err}")
    rc, out, err = srv.admin_run("invite", "--rpps", "10101010105", "--name", "Dr X",
                                 "--profession", "boss", "--org", "450000005", "--roles", "member")
    t.ok(rc != 0, "admin: invite with an unknown profession fails", f"rc={rc} {out} {err}")
    rc, out, err = srv.admin_run("invite", "--rpps", "10101010105", "--name", "Dr X",
                                 "--profession", "gp", "--org", "450000005", "--roles", "member,")
    t.ok(rc != 0, "admin: invite with a bad role list fails", f"rc={rc} {out} {err}")
    rc, out, err = srv.admin_run("invite", "--rpps", "10101010105", "--name", "Dr X",
                                 "--profession", "gp", "--org", "999999999", "--roles", "member")
    t.ok(rc != 0, "admin: invite for an unknown organisation fails", f"rc={rc} {out} {err}")


def enrol_claire(t, srv):
    code = srv.invite("10101010105", "Dr Claire Martin", "gp", "450000005")
    t.ok(CODE_RE.match(code), "admin: invite prints a code XXXX-XXXX-XXXX-XXXX-XXXX-XXXX", code)
    claire = Client(srv, "claire")
    rc, out, err = claire.enrol(code)
    t.eq(rc, 0, "claire enrols with the invite", f"stdout: {out}\nstderr: {err}")
    rc, out, err = claire.run("login")
    t.eq(rc, 0, "claire logs in", f"stdout: {out}\nstderr: {err}")
    rc, out, err = claire.run("whoami")
    t.ok(rc == 0 and "Dr Claire Martin" in out and "10101010105" in out
         and ("Médecin généraliste" in out or "gp" in out) and "CPTS Val de Loire" in out,
         "whoami shows name, RPPS, profession and organisation", f"rc={rc}\n{out}\n{err}")
    rc, who, err = claire.json("whoami")
    t.ok(rc == 0 and field(who, "user", "name") == "Dr Claire Martin"
         and field(who, "user", "rpps") == "10101010105"
         and field(who, "user", "profession") == "gp"
         and field(who, "user", "org", "finess") == "450000005"
         and field(who, "user", "roles") == ["member"]
         and isinstance(field(who, "device", "id"), str),
         "whoami --json parses and carries the user and device", f"rc={rc}\n{who!r}\n{err}")
    return claire, code, who


def enrol_paul(t, srv):
    code = srv.invite("10000000009", "Paul Durand", "pharmacist", "750012346",
                      roles="member,coordinator", expires_in="72h")
    paul = Client(srv, "paul", passphrase="another passphrase for paul")
    rc, out, err = paul.enrol(code, device_name="officine")
    t.eq(rc, 0, "a second user (pharmacist) enrols", f"stdout: {out}\nstderr: {err}")
    rc, who, err = paul.json("whoami")
    t.ok(rc == 0 and field(who, "user", "roles") == ["member", "coordinator"]
         and field(who, "user", "org", "name") == "Pharmacie du Centre",
         "the second user has the roles and organisation of the invite", f"{who!r}\n{err}")
    return paul


def directory(t, paul):
    rc, out, err = paul.run("directory", "search", "martin")
    t.ok(rc == 0 and "Dr Claire Martin" in out, "directory search martin finds Dr Claire Martin",
         f"rc={rc}\n{out}\n{err}")
    rc, obj, err = paul.json("directory", "search", "martin")
    t.eq(names_of(obj), ["Dr Claire Martin"], "directory search martin --json: exactly her",
         f"rc={rc} {err}")
    rc, obj, err = paul.json("directory", "search", "MARTIN")
    t.eq(names_of(obj), ["Dr Claire Martin"], "directory search is case-insensitive", err)
    rc, obj, err = paul.json("directory", "search", "1010101")
    t.eq(names_of(obj), ["Dr Claire Martin"], "directory search by RPPS prefix", err)
    rc, obj, err = paul.json("directory", "search", "0101010105")
    t.eq(names_of(obj), [], "an RPPS infix is not a prefix: no match", err)
    rc, obj, err = paul.json("directory", "search", "--profession", "gp")
    t.eq(names_of(obj), ["Dr Claire Martin"], "directory search --profession gp", err)
    rc, obj, err = paul.json("directory", "search", "--profession", "pharmacist")
    t.eq(names_of(obj), ["Paul Durand"], "directory search --profession pharmacist", err)
    rc, obj, err = paul.json("directory", "search")
    t.eq(names_of(obj), ["Dr Claire Martin", "Paul Durand"], "directory search with no filter "
         "lists everyone", err)
    users = users_of(obj)
    t.eq([u.get("name") for u in users], ["Dr Claire Martin", "Paul Durand"],
         "directory results are ordered by name")
    rc, obj, err = paul.json("directory", "search", "--limit", "1")
    t.eq(len(users_of(obj)), 1, "directory search --limit 1 returns one user", err)
    rc, obj, err = paul.json("directory", "search", "martin", "--profession", "pharmacist")
    t.eq(names_of(obj), [], "filters combine with AND", err)
    org_id = next((field(u, "org", "id") for u in users if u.get("name") == "Paul Durand"), None)
    if org_id:
        rc, obj, err = paul.json("directory", "search", "--org", org_id)
        t.eq(names_of(obj), ["Paul Durand"], "directory search --org ID", err)
    else:
        t.ok(False, "directory results carry org.id", repr(users))


def invite_errors(t, srv, used_code):
    eve = Client(srv, "eve")
    check_fails_with(t, eve.enrol(used_code), "invite_used",
                     "reusing an invite fails with invite_used")
    code = srv.invite("10123456781", "Dr Late", "nurse", "450000005", expires_in="1s")
    time.sleep(2)
    check_fails_with(t, Client(srv, "late").enrol(code), "invite_expired",
                     "an expired invite fails with invite_expired")
    check_fails_with(t, Client(srv, "nobody").enrol("7K2M-QX9D-4T1B-ZR8W-0CFE-N5HJ"),
                     "invite_unknown", "an unknown invite fails with invite_unknown")
    rc, out, err = Client(srv, "garbage").enrol("not-a-code")
    t.ok(rc in (1, 2), "a malformed invite code fails", f"rc={rc} {out} {err}")


def devices_and_revoke(t, srv, claire, paul, who):
    device_id = field(who, "device", "id")
    rc, out, err = claire.run("devices")
    t.ok(rc == 0 and ("cabinet-pc" in out or (device_id and device_id in out)),
         "devices lists the enrolled device", f"rc={rc}\n{out}\n{err}")
    rc, obj, err = claire.json("devices")
    devs = obj.get("devices") if isinstance(obj, dict) else obj
    devs = devs if isinstance(devs, list) else []
    t.ok(rc == 0 and [d.get("id") for d in devs] == [device_id]
         and devs[0].get("name") == "cabinet-pc" and devs[0].get("revoked_at") is None,
         "devices --json: one device, named, not revoked", f"{obj!r}\n{err}")

    rc, out, err = paul.run("whoami", passphrase="wrong passphrase")
    t.eq(rc, 1, "a wrong passphrase fails with exit 1", f"stdout: {out}\nstderr: {err}")
    t.ok(err.strip() != "", "a wrong passphrase prints an error", out)
    rc, out, err = paul.run("whoami")
    t.eq(rc, 0, "the right passphrase still works afterwards", err)

    out = srv.admin("users")
    t.ok("Dr Claire Martin" in out and "Paul Durand" in out, "admin: users lists both", out)
    srv.admin("revoke", "--device", device_id)
    check_fails_with(t, claire.run("whoami"), "device_revoked",
                     "after admin revoke, whoami fails with device_revoked")
    rc, obj, err = paul.json("directory", "search", "martin")
    t.ok(rc == 0, "other users are unaffected by the revocation", err)
    paul_device = field(paul.json("whoami")[1], "device", "id")
    check_fails_with(t, paul.run("devices", "revoke", device_id), "not_found",
                     "devices revoke of another user's device fails with not_found")
    rc, out, err = paul.run("devices", "revoke", "ABC")
    t.eq(rc, 2, "devices revoke with a malformed id is a usage error (exit 2)", f"{out}\n{err}")
    rc, out, err = paul.run("devices", "revoke", paul_device or "")
    t.eq(rc, 0, "a user revokes their own device with the CLI", f"{out}\n{err}")
    check_fails_with(t, paul.run("whoami"), "device_revoked",
                     "after devices revoke, whoami fails with device_revoked")
    rc, out, err = srv.admin_run("revoke", "--device", "0" * 32)
    t.ok(rc != 0, "admin: revoking an unknown device fails", f"rc={rc} {out} {err}")
    rc, out, err = srv.admin_run("check")
    t.eq(rc, 0, "admin: check passes on the live database", f"{out}\n{err}")
    # two settings that constrain each other: every command refuses them
    conf = os.path.join(srv.tmp, "crossed.conf")
    with open(conf, "w") as f:
        f.write("checkpoint_pages = 9000\n")
    rc, out, err = srv.admin_run("--config", conf, "check")
    t.ok(rc == 2 and "wal_max_pages (8000) must be above checkpoint_pages (9000)" in err,
         "admin: check refuses checkpoint_pages above wal_max_pages and says what to do",
         f"rc={rc} {out} {err}")


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t) as srv:
        admin_setup(t, srv)
        claire, claire_code, who = enrol_claire(t, srv)
        paul = enrol_paul(t, srv)
        directory(t, paul)
        invite_errors(t, srv, claire_code)
        devices_and_revoke(t, srv, claire, paul, who)


if __name__ == "__main__":
    run(main, PLAN)
