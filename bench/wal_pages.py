#!/usr/bin/env python3
"""bench/wal_pages.py — pages written to the WAL per message, for the three
layouts of the message tables measured in docs/PERFORMANCE.md ("Messages in
arrival order"), with Python's sqlite3 (the system SQLite liaisond links).

    python3 bench/wal_pages.py            # about a minute; a temporary directory

Each layout: 400 channels, 100,000 envelopes of 810 bytes already stored
(in one transaction), then 40,000 more in commits of 1, 2, 4 and 8 messages
to random channels, as a busy server's batches are; the WAL is not
checkpointed meanwhile, so its frame count is every page written.

  without_rowid  schema 014: messages keyed by (channel_id, seq) WITHOUT
                 ROWID, and UPDATE channels SET last_seq per message
  rowid          the envelopes appended by rowid, a unique index on
                 (channel_id, seq), the UPDATE of channels kept
  rowid_derived  schema 015: the same without channels.last_seq; the seq is
                 the channel's highest + 1, in the INSERT
"""

import os
import random
import sqlite3
import tempfile

LAYOUTS = ("without_rowid", "rowid", "rowid_derived")
CHANNELS, STORED, ADDED, ENVELOPE = 400, 100_000, 40_000, 810


def frames_per_message(layout, per_commit, directory):
    path = os.path.join(directory, f"{layout}-{per_commit}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("CREATE TABLE channels (id BLOB PRIMARY KEY, kind TEXT NOT NULL, "
               "history TEXT NOT NULL, creator BLOB NOT NULL, created_at INTEGER NOT NULL, "
               "log_seq INTEGER NOT NULL, log_hash BLOB NOT NULL, "
               "last_seq INTEGER NOT NULL DEFAULT 0) STRICT")
    if layout == "without_rowid":
        db.execute("CREATE TABLE messages (channel_id BLOB NOT NULL, seq INTEGER NOT NULL, "
                   "sender_user BLOB NOT NULL, sender_device BLOB NOT NULL, ts INTEGER NOT NULL, "
                   "envelope BLOB NOT NULL, PRIMARY KEY (channel_id, seq)) STRICT, WITHOUT ROWID")
    else:
        db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, channel_id BLOB NOT NULL, "
                   "seq INTEGER NOT NULL, sender_user BLOB NOT NULL, "
                   "sender_device BLOB NOT NULL, ts INTEGER NOT NULL, "
                   "envelope BLOB NOT NULL) STRICT")
        db.execute("CREATE UNIQUE INDEX messages_by_channel ON messages(channel_id, seq)")
    channels = [os.urandom(16) for _ in range(CHANNELS)]
    for c in channels:
        db.execute("INSERT INTO channels VALUES (?, 'case', 'shared', ?, 1, 1, ?, 0)",
                   (c, os.urandom(16), os.urandom(32)))
    envelope = os.urandom(ENVELOPE)

    def send():
        c = random.choice(channels)
        who = (os.urandom(16), os.urandom(16), 1, envelope)
        if layout == "rowid_derived":
            db.execute("INSERT INTO messages (channel_id, seq, sender_user, sender_device, ts, "
                       "envelope) VALUES (?1, (SELECT coalesce(max(seq), 0) FROM messages "
                       "WHERE channel_id = ?1) + 1, ?2, ?3, ?4, ?5) RETURNING seq",
                       (c,) + who).fetchone()
            return
        seq = db.execute("UPDATE channels SET last_seq = last_seq + 1 WHERE id = ? "
                         "RETURNING last_seq", (c,)).fetchone()[0]
        db.execute("INSERT INTO messages (channel_id, seq, sender_user, sender_device, ts, "
                   "envelope) VALUES (?, ?, ?, ?, ?, ?)", (c, seq) + who)

    db.execute("BEGIN")
    for _ in range(STORED):
        send()
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for _ in range(0, ADDED, per_commit):
        db.execute("BEGIN")
        for _ in range(per_commit):
            send()
        db.execute("COMMIT")
    frames = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    db.close()
    return frames / ADDED


def main():
    print("pages written to the WAL per message")
    print(f"{'messages per commit':>20} " + " ".join(f"{name:>14}" for name in LAYOUTS))
    with tempfile.TemporaryDirectory(prefix="lsn-walpages-") as d:
        for per in (1, 2, 4, 8):
            row = [frames_per_message(name, per, d) for name in LAYOUTS]
            print(f"{per:>20} " + " ".join(f"{v:>14.2f}" for v in row))


if __name__ == "__main__":
    main()
