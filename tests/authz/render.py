#!/usr/bin/env python3
"""render.py — write docs/AUTHZ.md from tests/authz/matrix.tsv, the
authorization matrix. With --check, exit 1 if docs/AUTHZ.md differs from what
would be written (tests/integration/test_authz.py checks this). matrix.tsv is
the one source: do not edit docs/AUTHZ.md by hand."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MATRIX = os.path.join(HERE, "matrix.tsv")
OUT = os.path.join(ROOT, "docs", "AUTHZ.md")
SUBJECTS = ["anon", "revoked", "outsider", "removed", "member", "owner", "coordinator",
            "other_cpts", "territory", "admin"]

SUBJECT_DOC = [
    ("anon", "a connection that has not logged in"),
    ("revoked", "a connection logged in by a device that an administrator then revoked "
                "(`liaisond revoke`, from another process); the running server closes it "
                "with 1008 within about a second, and a request that arrives before that is "
                "answered as the column says (`device_revoked` when it needs a login, then "
                "the close)"),
    ("outsider", "a logged-in professional (role `member`) who is not and never was in the "
                 "channel or case"),
    ("removed", "a former member of the channel, removed by its admin"),
    ("member", "a current plain member of the channel (channel role `member`, not the step's "
               "assignee, no coordinator role): the *wrong role*"),
    ("owner", "the channel's admin (its creator), who opened the case and is the assignee of "
              "the step"),
    ("coordinator", "a coordinator of the case's CPTS (directory role `coordinator`, in the "
                    "CPTS organisation the case belongs to), not in the channel"),
    ("other_cpts", "a coordinator of another CPTS (directory role `coordinator` in another "
                   "organisation of kind `cpts`), not in the channel"),
    ("territory", "a territory coordinator (directory roles `coordinator` and `territory`) "
                  "whose own organisation is another CPTS, not in the channel"),
    ("admin", "an administrator (directory role `admin`), not in the channel"),
]


def load():
    """(header, rows): rows are dicts keyed by the header's column names."""
    header, rows = None, []
    with open(MATRIX, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                raise ValueError(f"matrix.tsv: {len(cells)} cells, want {len(header)}: {line!r}")
            rows.append(dict(zip(header, cells)))
    return header, rows


# Points of the rules worth knowing (they are what the table shows).
REMARKS = [
    "Administration (organisations, invites, revocation, backups) is done with the "
    "`liaisond` command on the server, not over the protocol: the directory role `admin` "
    "only allows `clock_advance`, a testing aid refused in production mode. An "
    "administrator sees no channel or case they are not a member of.",
    "A case belongs to one CPTS. A coordinator of that CPTS sees the case's metadata "
    "(`case_get`, `cases` with `all`, `late_steps`, `unacked_notices`, `recent_alerts`) "
    "and may complete, skip, reassign, "
    "reschedule and reopen its steps and close it without being in the thread; she "
    "cannot read the thread, flag the case or post in it. To a coordinator of another "
    "CPTS the case does not exist (`not_found` on every case and step op), and it is in "
    "none of her lists, late steps, unacknowledged notices, alerts or notifications.",
    "The `territory` role (granted by an administrator) shows the cases of every CPTS "
    "(`case_get`, `cases`, `late_steps`, `unacked_notices` and `recent_alerts` with "
    "`all`) without the right to act on "
    "another CPTS's case: step changes answer `not_assignee` or `coordinator_only`, "
    "closing `forbidden`. Only cases without a CPTS are worked by territory "
    "coordinators themselves.",
    "A former member keeps read access to what they saw: the membership log, the "
    "members, the messages sent while they were a member, and receipts capped at their "
    "last readable message. They cannot write (`forbidden`). Attachments and cases "
    "become invisible (`not_found`).",
    "`channel_append` by someone who never was a member is refused by the membership "
    "rules (`forbidden`), so it tells that the channel id exists; channel ids are 128-bit "
    "random values, and the other channel ops answer `not_found`.",
    "`to_device_send` accepts any active device of any user as recipient (key shares "
    "must reach a device before a channel is shared with it); bodies are opaque and "
    "bounded, and requests are rate limited.",
    "A device revoked by the administrator while connected is disconnected (1008, "
    "\"device revoked\") by the running server within about a second: it watches "
    "`PRAGMA data_version` for changes made by another process, once a second and before "
    "delivering the events of each commit, so no event committed after the revocation "
    "reaches it. Until then a request "
    "that needs a login is answered `device_revoked` and closes the connection; `ping` "
    "and `challenge` are still answered, and `login` / `enrol` on that connection say "
    "`already_logged_in`. Co-members are not pushed `device_list` for an administrator's "
    "revocation (they see it at their next key fetch).",
]


def cell(v):
    return "✅ ok" if v == "ok" else f"`{v}`"


def render():
    _, rows = load()
    out = [
        "# Authorization matrix",
        "",
        "Who may do what: every op of the dispatcher's op table (`server/dispatch.c`)",
        "for each kind of caller. Generated by `tests/authz/render.py` from",
        "`tests/authz/matrix.tsv`; do not edit by hand. `tests/integration/test_authz.py`",
        "checks every cell against a real `liaisond` with real logins, and that every op",
        "of the op table has a row. A cell is **ok** (allowed) or the error the server",
        "answers (codes of [PROTOCOL.md](PROTOCOL.md#errors)). A refused request changes",
        "nothing.",
        "",
        "Callers:",
        "",
    ]
    out += [f"- **{k}**: {v}." for k, v in SUBJECT_DOC]
    out += [
        "",
        "`not_found` rather than `forbidden` means the caller is not even told that the",
        "channel, case or attachment exists.",
        "",
        "| op | who may | request tested | " + " | ".join(SUBJECTS) + " |",
        "|---|---|---|" + "---|" * len(SUBJECTS),
    ]
    for r in rows:
        op = f"`{r['op']}`" + (f" ({r['variant']})" if r["variant"] else "")
        out.append(f"| {op} | {r['rule']} | {r['request']} | "
                   + " | ".join(cell(r[s]) for s in SUBJECTS) + " |")
    out += ["", "## Remarks", ""] + [f"- {r}" for r in REMARKS]
    return "\n".join(out) + "\n"


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = ""
        if current != text:
            print("docs/AUTHZ.md is out of date: run python3 tests/authz/render.py")
            return 1
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
