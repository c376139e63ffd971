/* syncer.h — the sync thread of the pipelined commit (commit.h): it makes
 * committed batches durable with fdatasync on its own descriptor of the
 * database's WAL file, while the service thread executes and writes the
 * next batch.
 *
 * Contract:
 * - Batches are numbered 1, 2, 3… by the caller in COMMIT order.
 *   syncer_request(n): batches up to n have been written to the WAL (their
 *   COMMIT returned); sync them. One fdatasync covers every batch whose
 *   COMMIT returned before it began, so the thread always syncs up to the
 *   highest number requested when it starts.
 * - syncer_covered() gives the highest batch a finished fdatasync covers;
 *   only batches up to it may be acknowledged.
 * - A failed fdatasync is final: the kernel may have dropped the pages it
 *   could not write, so no later sync can vouch for them. From then on
 *   syncer_covered() reports failed and never moves.
 * - If the WAL file is replaced (a new inode at its path), the thread
 *   opens the new one, syncs it and its directory as well.
 * - The wake hook runs on the sync thread after each sync (the service
 *   thread then releases what is covered). Everything else runs on the
 *   service thread. POSIX only: no SQLite, no libwebsockets. */
#ifndef LSN_SYNCER_H
#define LSN_SYNCER_H

#include <stdbool.h>
#include <stdint.h>

/* Open wal_path (it must exist), fsync its directory once (so that its
 * entry is durable) and start the thread. false: not started (logged). */
bool syncer_start(const char *wal_path, void (*wake)(void));
/* Stop the thread (after the last wait) and close the file. */
void syncer_stop(void);
bool syncer_running(void);

/* Batches up to n are written: sync them. */
void syncer_request(uint64_t n);
/* The highest batch covered by a finished sync; *failed: a sync failed. */
uint64_t syncer_covered(bool *failed);
/* Wait until batch n is covered or a sync failed. */
void syncer_wait(uint64_t n);
/* Tests: while paused, no new sync begins. */
void syncer_pause(bool paused);

#endif
