#!/usr/bin/env python3
"""test_e2e_attach_forms.py — the CLI's two forms of attachment chunks
(docs/PROTOCOL.md "Binary chunk frames") on the same attachments: binary
frames (the default, when the server agrees at login) and JSON with base64
(LIAISON_BINARY_CHUNKS=0, or a server that does not offer them). The
server's max_frame is 80000 bytes: a full 65,553-byte chunk fits in a binary
frame (65,621 bytes) but not in JSON (87,4xx bytes of base64), so a large
upload passing or failing tells which form travelled. A binary-form client
and a JSON-form client exchange files both ways, byte for byte. TAP on
stdout."""

import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

PLAN = 17
JSON_FORM = {"LIAISON_BINARY_CHUNKS": "0"}


def setup(t, srv):
    srv.admin("org", "add", "--name", "CHU de Tours", "--finess", "370000481", "--kind",
              "hospital")
    srv.admin("org", "add", "--name", "CPTS Val de Loire", "--finess", "450000005", "--kind",
              "cpts")
    roux, martin = Client(srv, "roux"), Client(srv, "martin")
    rc, _, err = roux.enrol(srv.invite("10101010105", "Dr Hélène Roux", "hospital_doctor",
                                       "370000481"))
    t.eq(rc, 0, "the hospital doctor enrols", err)
    rc, _, err = martin.enrol(srv.invite("10000000009", "Dr Claire Martin", "gp", "450000005"))
    t.eq(rc, 0, "the GP enrols", err)
    rc, obj, err = roux.json("channel", "create", "--kind", "case")
    channel = (obj or {}).get("channel", "0" * 32)
    rc, _, err = roux.run("channel", "add", channel, "Claire Martin")
    t.eq(rc, 0, "case channel with both", err)
    return roux, martin, channel


def write(workdir, name, size):
    path = os.path.join(workdir, name)
    body = os.urandom(size)
    with open(path, "wb") as f:
        f.write(body)
    return path, body


def attachment_of(client, channel, name, env=None):
    rc, obj, err = client.json("read", channel, env=env)
    for m in (obj or {}).get("messages", []):
        content = m.get("content") or {}
        if m.get("type") == "file" and content.get("name") == name:
            return content.get("attachment")
    return "0" * 32


def fetch(client, attachment, dest, env=None):
    rc, out, err = client.run("get", attachment, "-o", dest, env=env)
    got = open(dest, "rb").read() if os.path.exists(dest) else b""
    return rc, hashlib.sha256(got).digest(), f"rc={rc}\n{out}\n{err}"


def main(t):
    if not harness.require_programs(t):
        return
    with Server(t, config={"max_frame": "80000"}) as srv:
        workdir = os.path.join(srv.tmp, "files")
        os.makedirs(workdir)
        roux, martin, channel = setup(t, srv)
        sha = lambda b: hashlib.sha256(b).digest()  # noqa: E731

        # binary up (four full chunks: only binary frames fit under max_frame)
        big, big_body = write(workdir, "scanner.pdf", 4 * 65536 + 1234)
        rc, out, err = roux.run("send", channel, "Compte rendu", "--attach", big)
        t.eq(rc, 0, "a binary-form client uploads full chunks under a max_frame JSON would pass",
             f"{out}\n{err}")
        att = attachment_of(martin, channel, "scanner.pdf")
        rc, digest, info = fetch(martin, att, os.path.join(workdir, "a.pdf"), env=JSON_FORM)
        t.ok(rc == 0 and digest == sha(big_body),
             "a JSON-form client downloads it byte for byte", info)
        rc, digest, info = fetch(martin, att, os.path.join(workdir, "b.pdf"))
        t.ok(rc == 0 and digest == sha(big_body),
             "a binary-form client downloads it byte for byte", info)
        rc, digest, info = fetch(roux, att, os.path.join(workdir, "c.pdf"))
        t.ok(rc == 0 and digest == sha(big_body), "and so does its uploader", info)

        # JSON up: a full chunk passes max_frame in base64 and is refused
        rc, out, err = martin.run("send", channel, "--attach", big, env=JSON_FORM)
        t.ok(rc != 0 and re.search(r"attachment_put request is 87\d{3} bytes, above the server's "
                                  r"limit of 80000", err),
             "with LIAISON_BINARY_CHUNKS=0 the same upload goes as JSON and is too large",
             f"rc={rc}\n{out}\n{err}")
        small, small_body = write(workdir, "ordonnance.pdf", 40000)
        rc, out, err = martin.run("send", channel, "Ordonnance", "--attach", small,
                                  env=JSON_FORM)
        t.eq(rc, 0, "a JSON-form client uploads a chunk that fits in JSON", f"{out}\n{err}")
        att2 = attachment_of(roux, channel, "ordonnance.pdf")
        rc, digest, info = fetch(roux, att2, os.path.join(workdir, "d.pdf"))
        t.ok(rc == 0 and digest == sha(small_body),
             "a binary-form client downloads the JSON-form upload byte for byte", info)
        rc, digest, info = fetch(martin, att2, os.path.join(workdir, "e.pdf"), env=JSON_FORM)
        t.ok(rc == 0 and digest == sha(small_body), "and the JSON-form client too", info)

        # an empty file and a one-byte file in the binary form
        empty, _ = write(workdir, "vide.txt", 0)
        one, one_body = write(workdir, "un.txt", 1)
        rc1, _, err1 = roux.run("send", channel, "--attach", empty)
        rc2, _, err2 = roux.run("send", channel, "--attach", one)
        t.ok(rc1 == 0 and rc2 == 0, "empty and one-byte files go up in the binary form",
             f"{err1}\n{err2}")
        rc, digest, info = fetch(martin, attachment_of(martin, channel, "un.txt"),
                                 os.path.join(workdir, "f.txt"), env=JSON_FORM)
        t.ok(rc == 0 and digest == sha(one_body), "and come down in the JSON form", info)


if __name__ == "__main__":
    run(main, PLAN)
