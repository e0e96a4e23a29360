/* sj_backup: backup, restore and the data-directory lock, one implementation
 * for every daemon (township-hub, county-server).
 *
 * The lock. A daemon holds an fcntl write lock on DIR/LOCK for its whole life
 * (sj_backup_lock_daemon, called first thing in `run`). The kernel drops the
 * lock when the process ends, kill -9 included, so it never goes stale.
 * `restore` takes the same lock for its whole run: it refuses while a daemon
 * runs, and a daemon started during a restore refuses to start.
 *
 * backup DIR -> DEST. SQLite's online backup API reads from a read-only
 * connection that holds ONE read transaction for the whole copy. In WAL mode
 * (every store) a reader never blocks the writer, so the daemon keeps
 * committing meanwhile, and the copy is exactly the snapshot taken when the
 * read transaction began: consistent, with no stop. The copy advances in
 * steps of SJ_BACKUP_STEP_PAGES (progress on stderr for big databases), goes
 * to DEST.tmp, is switched to rollback-journal mode (a single self-contained
 * file), must pass PRAGMA integrity_check, is fsynced and renamed over DEST,
 * and DEST's directory is fsynced. DEST is thus always either what it was or a
 * complete checked copy. Backup takes no lock and works while the daemon runs.
 *
 * restore SRC -> DIR (daemon stopped):
 *
 *   lock DIR/LOCK (refuse if a daemon holds it)
 *   copy SRC -> DIR/restore.tmp/FILE    (same backup API: WAL sidecars of SRC
 *                                        are honoured, the result is clean)
 *   PRAGMA integrity_check              (refuse: damaged)
 *   sj_db_schema_check                  (refuse: a table, index, trigger or
 *                                        view that sanji's migrations do
 *                                        not make at that version)
 *   role->verify(DIR/restore.tmp)       (the daemon's own open path with
 *                                        SJ_DB_WRITE: application_id of the
 *                                        role, schema not newer than this
 *                                        program, identity; migrates if older)
 *   meta restored_ms, restored_from     (so the node and people can tell)
 *   ---- nothing of the live store has been touched up to here ----
 *   checkpoint the old DB, rename it (and any -wal/-shm/-journal left) to
 *   DIR/FILE.before-restore-<UTC time>; rename the staged copy to DIR/FILE;
 *   fsync DIR; unlock.
 *
 * Output: words on stderr; `backup` prints the path it wrote on stdout. */
#ifndef SJ_BACKUP_H
#define SJ_BACKUP_H

#include <stddef.h>

#include "sj_db.h"
#include "sj_err.h"

#define SJ_BACKUP_LOCK_FILE      "LOCK"
#define SJ_BACKUP_STAGE_DIR      "restore.tmp"
#define SJ_BACKUP_STEP_PAGES     256  /* pages per backup step (1 MiB at 4 KiB pages) */
#define SJ_BACKUP_PROGRESS_PAGES 4096 /* progress lines from this many pages up */

/* What backup and restore need to know about a role. All borrowed. */
typedef struct {
    const char *tool; /* program name for messages, e.g. "township-hub" */
    const char *file; /* the store's file name in the data directory */
    /* Opens dir/file exactly as the daemon does (SJ_DB_WRITE) and closes it
     * again: SJ_OK, or an error code with the reason in err. */
    int (*verify)(void *ctx, const char *dir, char *err, size_t err_size);
    void *ctx;
    /* The store's migrations (sj_db_open's): restore refuses a file whose
     * schema is not what they make at its version (sj_db_schema_check).
     * NULL skips that check. */
    const sj_migration_t *migrations;
    size_t n_migrations;
} sj_backup_role_t;

/* Takes the write lock on dir/LOCK (creating dir, mode 0700, and the file as
 * needed) and writes this process's id into it. On SJ_OK the caller keeps
 * *fd_out open for as long as it needs the lock (closing it releases it).
 * SJ_EAGAIN when another process holds it (*holder_pid, when not NULL, is its
 * pid or 0 if unknown); SJ_EIO with err on other failures. */
SJ_NODISCARD int
sj_backup_lock(const char *dir, int *fd_out, long *holder_pid, char *err, size_t err_size);
/* Releases the lock (closes the descriptor); NULL-safe, sets *fd_p = -1. */
void sj_backup_unlock(int *fd_p);
/* 1 when some process holds dir/LOCK (its pid in *holder_pid), else 0.
 * Does not take the lock. */
int sj_backup_locked(const char *dir, long *holder_pid);

/* For `run`: takes the lock, or prints to stderr who holds it. */
SJ_NODISCARD int sj_backup_lock_daemon(const char *tool, const char *dir, int *fd_out);

/* Online, consistent copy of the SQLite database src_path into dest_path
 * (created or replaced, not atomically: callers write to a temporary name),
 * then rollback-journal mode and PRAGMA integrity_check on the copy. tool
 * (may be NULL) names the progress lines. SJ_OK, or SJ_EDB/SJ_EIO with err. */
SJ_NODISCARD int sj_backup_copy(
    const char *tool, const char *src_path, const char *dest_path, char *err, size_t err_size);

/* `TOOL backup --data DIR DEST` and `TOOL restore --data DIR SRC`. DEST may
 * be an existing directory: the copy is then named TOOL-<UTC time>.db in it.
 * Return the exit code (0 ok, 1 failure). */
int sj_backup_cmd_backup(const sj_backup_role_t *role, const char *dir, const char *dest);
int sj_backup_cmd_restore(const sj_backup_role_t *role, const char *dir, const char *src);

#endif
