/* sj_backup: backup, restore and the data-directory lock (see sj_backup.h for
 * the sequence of each and why it is safe while the daemon runs). */
#include "sj_backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sj_db.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"

#define PATH_MAX_LEN    4096
#define BUSY_TIMEOUT_MS 10000
#define BUSY_GIVE_UP_MS 60000 /* a backup step kept busy this long fails */

static const char *const s_sidecars[] = {"-wal", "-shm", "-journal"};

/* ---- small file helpers ---- */

static int
s_fsync_path(const char *path, int is_dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));
    if (fd < 0) {
        return SJ_EIO;
    }
    int rc = fsync(fd) == 0 ? SJ_OK : SJ_EIO;
    close(fd);
    return rc;
}

/* The directory that holds path ("." or "/" at the ends). */
static void
s_parent(const char *path, char *dir, size_t size)
{
    snprintf(dir, size, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) {
        snprintf(dir, size, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
}

/* fsyncs the directory that holds path, so that a rename in it is durable. */
static int
s_fsync_parent(const char *path)
{
    char dir[PATH_MAX_LEN];
    s_parent(path, dir, sizeof dir);
    return s_fsync_path(dir, 1);
}

static void
s_unlink_db(const char *path)
{
    char side[PATH_MAX_LEN + 16];
    unlink(path);
    size_t n = strlen(path);
    if (n > PATH_MAX_LEN) {
        return; /* no sidecar name fits; callers check path lengths first */
    }
    for (size_t i = 0; i < sizeof s_sidecars / sizeof s_sidecars[0]; i++) {
        memcpy(side, path, n);
        snprintf(side + n, sizeof side - n, "%s", s_sidecars[i]);
        unlink(side);
    }
}

static int
s_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int
s_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev
           && sa.st_ino == sb.st_ino;
}

/* Files made by root (restore run with sudo, say) in a data directory that
 * belongs to the service user get that user, or the daemon could not open
 * them. Best effort. */
static void
s_owner_like_dir(const char *path, const char *dir)
{
    struct stat st;
    if (geteuid() == 0 && stat(dir, &st) == 0 && st.st_uid != 0) {
        if (chown(path, st.st_uid, st.st_gid) != 0) {
            /* the daemon will say it cannot open the file */
        }
    }
}

/* UTC time as 20240501T093000Z, for file names. */
static void
s_stamp(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, size, "%Y%m%dT%H%M%SZ", &tm);
}

/* Replaces every occurrence of from in text (in place, bounded by size). */
static void
s_replace(char *text, size_t size, const char *from, const char *to)
{
    char out[1024];
    size_t used = 0, flen = strlen(from);
    const char *p = text;
    if (!flen) {
        return;
    }
    while (*p && used + 1 < sizeof out) {
        if (strncmp(p, from, flen) == 0) {
            int n = snprintf(out + used, sizeof out - used, "%s", to);
            used += n > 0 ? (size_t) n : 0;
            used = used < sizeof out ? used : sizeof out - 1;
            p += flen;
        } else {
            out[used++] = *p++;
        }
    }
    out[used] = '\0';
    snprintf(text, size, "%s", out);
}

/* ---- the lock ---- */

static long
s_holder(int fd)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK) {
        return 0;
    }
    return (long) fl.l_pid;
}

int
sj_backup_lock(const char *dir, int *fd_out, long *holder_pid, char *err, size_t err_size)
{
    char path[PATH_MAX_LEN];
    *fd_out = -1;
    if (holder_pid) {
        *holder_pid = 0;
    }
    if (snprintf(path, sizeof path, "%s/%s", dir, SJ_BACKUP_LOCK_FILE) >= (int) sizeof path) {
        snprintf(err, err_size, _("data directory path too long"));
        return SJ_EINVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, _("cannot create data directory %s: %s"), dir, strerror(errno));
        return SJ_EIO;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, _("cannot open %s: %s"), path, strerror(errno));
        return SJ_EIO;
    }
    s_owner_like_dir(path, dir);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        if (e == EACCES || e == EAGAIN) {
            if (holder_pid) {
                *holder_pid = s_holder(fd);
            }
            close(fd);
            snprintf(err, err_size, _("%s is locked by another process"), path);
            return SJ_EAGAIN;
        }
        close(fd);
        snprintf(err, err_size, _("cannot lock %s: %s"), path, strerror(e));
        return SJ_EIO;
    }
    /* The pid is for people (cat LOCK); the lock itself is what counts. */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long) getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t) n, 0) != n) {
        /* harmless: the lock is held */
    }
    *fd_out = fd;
    return SJ_OK;
}

void
sj_backup_unlock(int *fd_p)
{
    if (fd_p && *fd_p >= 0) {
        close(*fd_p);
        *fd_p = -1;
    }
}

int
sj_backup_locked(const char *dir, long *holder_pid)
{
    char path[PATH_MAX_LEN];
    if (holder_pid) {
        *holder_pid = 0;
    }
    snprintf(path, sizeof path, "%s/%s", dir, SJ_BACKUP_LOCK_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    int locked = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    if (locked && holder_pid) {
        *holder_pid = (long) fl.l_pid;
    }
    close(fd);
    return locked;
}

int
sj_backup_lock_daemon(const char *tool, const char *dir, int *fd_out)
{
    char err[PATH_MAX_LEN + 128];
    long holder = 0;
    int rc = sj_backup_lock(dir, fd_out, &holder, err, sizeof err);
    if (rc == SJ_EAGAIN) {
        fprintf(stderr,
                _("%s: the data directory %s is in use (process %ld: another %s, or a restore);"
                  " not starting a second one on it\n"),
                tool, dir, holder, tool);
    } else if (rc != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
    }
    return rc;
}

/* ---- the copy ---- */

static int
s_fail_db(sqlite3 *db, const char *what, const char *path, char *err, size_t err_size)
{
    snprintf(err, err_size, "%s %s: %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
    return SJ_EDB;
}

/* Steps the backup to its end, retrying while busy, with progress lines. */
static int
s_step_all(sqlite3_backup *b, const char *tool, char *err, size_t err_size)
{
    int64_t busy_since = 0;
    int last_tenth = 0; /* from 10% on */
    for (;;) {
        int rc = sqlite3_backup_step(b, SJ_BACKUP_STEP_PAGES);
        if (rc == SQLITE_DONE) {
            return SJ_OK;
        }
        int prim = rc & 0xff;
        if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
            int64_t now = sj_mono_ms();
            busy_since = busy_since ? busy_since : now;
            if (now - busy_since > BUSY_GIVE_UP_MS) {
                snprintf(err, err_size, _("database busy for %d s; try again"),
                         BUSY_GIVE_UP_MS / 1000);
                return SJ_EAGAIN;
            }
            sqlite3_sleep(20);
            continue;
        }
        if (rc != SQLITE_OK) {
            snprintf(err, err_size, _("copy failed: %s"), sqlite3_errstr(rc));
            return SJ_EDB;
        }
        busy_since = 0;
        int total = sqlite3_backup_pagecount(b);
        int left = sqlite3_backup_remaining(b);
        if (tool && total >= SJ_BACKUP_PROGRESS_PAGES) {
            int tenth = (int) ((int64_t) (total - left) * 10 / total);
            if (tenth != last_tenth) {
                last_tenth = tenth;
                fprintf(stderr, _("%s: copying %d%% (%d of %d pages)\n"), tool, tenth * 10,
                        total - left, total);
            }
        }
    }
}

/* sqlite3_open_v2 with trusted_schema=OFF (see sj_db.c): nothing in a file
 * being copied or restored may call a function with side effects. */
static int
s_open(const char *path, sqlite3 **db, int flags, const char *vfs)
{
    int rc = sqlite3_open_v2(path, db, flags, vfs);
    if (rc == SQLITE_OK) {
        rc = sqlite3_db_config(*db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *) NULL);
    }
    return rc;
}

int
sj_backup_copy(
    const char *tool, const char *src_path, const char *dest_path, char *err, size_t err_size)
{
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *b = NULL;
    int rc = SJ_EDB;
    err[0] = '\0';
    if (s_open(src_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = s_fail_db(src, "cannot open", src_path, err, err_size);
        goto out;
    }
    sqlite3_busy_timeout(src, BUSY_TIMEOUT_MS);
    /* One read transaction for the whole copy: the snapshot. Steps then never
     * restart, however much the daemon commits meanwhile. */
    if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL, NULL)
        != SQLITE_OK) {
        rc = s_fail_db(src, "cannot read", src_path, err, err_size);
        goto out;
    }
    s_unlink_db(dest_path);
    if (s_open(dest_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
               NULL)
        != SQLITE_OK) {
        rc = s_fail_db(dst, "cannot create", dest_path, err, err_size);
        goto out;
    }
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = s_fail_db(dst, "cannot start the copy to", dest_path, err, err_size);
        goto out;
    }
    rc = s_step_all(b, tool, err, err_size);
    int fin = sqlite3_backup_finish(b);
    b = NULL;
    if (rc == SJ_OK && fin != SQLITE_OK) {
        rc = s_fail_db(dst, "cannot finish the copy to", dest_path, err, err_size);
    }
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(src);
    src = NULL;
    sqlite3_close(dst);
    dst = NULL;
    if (rc != SJ_OK) {
        goto out;
    }
    /* The copied header still says WAL; make the copy one self-contained file. */
    if (s_open(dest_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
        || sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = s_fail_db(dst, "cannot finish", dest_path, err, err_size);
        goto out;
    }
    rc = sj_db_integrity(dst, err, err_size);
out:
    if (b) {
        sqlite3_backup_finish(b);
    }
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc;
}

/* ---- backup ---- */

int
sj_backup_cmd_backup(const sj_backup_role_t *role, const char *dir, const char *dest)
{
    char live[PATH_MAX_LEN], target[PATH_MAX_LEN], tmp[PATH_MAX_LEN + 8], side[PATH_MAX_LEN + 16];
    char err[3 * PATH_MAX_LEN] = "";
    const char *tool = role->tool;
    if (snprintf(live, sizeof live, "%s/%s", dir, role->file) >= (int) sizeof live) {
        fprintf(stderr, _("%s: data directory path too long\n"), tool);
        return 1;
    }
    int rc = sj_db_check_file(live, err, sizeof err);
    if (rc == SJ_ENOTFOUND) {
        fprintf(stderr, _("%s: no database at %s (wrong --data, or never started?)\n"), tool, live);
        return 1;
    }
    if (rc != SJ_OK) {
        fprintf(stderr, _("%s: cannot back up: %s\n"), tool, err);
        return 1;
    }
    struct stat st;
    if (stat(dest, &st) == 0 && S_ISDIR(st.st_mode)) {
        char stamp[32];
        s_stamp(stamp, sizeof stamp);
        snprintf(target, sizeof target, "%s/%s-%s.db", dest, tool, stamp);
    } else {
        snprintf(target, sizeof target, "%s", dest);
    }
    /* Never write over the live store or its sidecars. */
    int clash = s_same_file(target, live);
    for (size_t i = 0; !clash && i < sizeof s_sidecars / sizeof s_sidecars[0]; i++) {
        snprintf(side, sizeof side, "%s%s", live, s_sidecars[i]);
        clash = s_same_file(target, side);
    }
    if (clash) {
        fprintf(stderr, _("%s: %s is the live database (or part of it); give another DEST\n"), tool,
                target);
        return 1;
    }
    char target_dir[PATH_MAX_LEN];
    s_parent(target, target_dir, sizeof target_dir);
    long holder = 0;
    if (s_same_file(target_dir, dir) && sj_backup_locked(dir, &holder)) {
        fprintf(stderr,
                _("%s: %s is in the data directory of a running %s (pid %ld); write backups"
                  " elsewhere (another disk, ideally)\n"),
                tool, target, tool, holder);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", target);
    rc = sj_backup_copy(tool, live, tmp, err, sizeof err);
    if (rc == SJ_OK && s_fsync_path(tmp, 0) != SJ_OK) {
        snprintf(err, sizeof err, _("cannot fsync %s: %s"), tmp, strerror(errno));
        rc = SJ_EIO;
    }
    if (rc == SJ_OK && rename(tmp, target) != 0) {
        snprintf(err, sizeof err, _("cannot rename %s to %s: %s"), tmp, target, strerror(errno));
        rc = SJ_EIO;
    }
    if (rc != SJ_OK) {
        s_unlink_db(tmp);
        fprintf(stderr, _("%s: backup failed: %s\n"), tool, err);
        return 1;
    }
    if (s_fsync_parent(target) != SJ_OK) {
        fprintf(stderr, _("%s: warning: cannot fsync the directory of %s\n"), tool, target);
    }
    long long size = stat(target, &st) == 0 ? (long long) st.st_size : 0;
    printf("%s\n", target);
    fprintf(stderr, _("%s: backed up %s to %s (%lld KiB); integrity check ok\n"), tool, live,
            target, size / 1024);
    return 0;
}

/* ---- restore ---- */

static void
s_stage_clean(const char *stage)
{
    /* Everything in it is ours (made under the lock): the staged copy, its
     * sidecars and whatever the store's open path put beside it. */
    DIR *d = opendir(stage);
    if (!d) {
        return;
    }
    struct dirent *e;
    char path[PATH_MAX_LEN + 256];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", stage, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(stage);
}

/* Best effort: folds a -wal left by a crash into the old file before it is
 * moved aside, so the kept copy is one file. What cannot be opened is moved
 * as it is, sidecars included. */
static void
s_checkpoint(const char *path)
{
    sqlite3 *db = NULL;
    if (s_open(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    sqlite3_close(db);
}

/* Moves live (and its sidecars) to a free name live.before-restore-<time>[-N]. */
static int
s_move_aside(const char *live, char *aside, size_t aside_size, char *err, size_t err_size)
{
    char stamp[32], side_from[PATH_MAX_LEN + 16], side_to[PATH_MAX_LEN + 80];
    s_stamp(stamp, sizeof stamp);
    snprintf(aside, aside_size, "%s.before-restore-%s", live, stamp);
    for (int n = 2; s_exists(aside) && n < 100; n++) {
        snprintf(aside, aside_size, "%s.before-restore-%s-%d", live, stamp, n);
    }
    s_checkpoint(live);
    if (rename(live, aside) != 0) {
        snprintf(err, err_size, _("cannot move %s aside: %s"), live, strerror(errno));
        return SJ_EIO;
    }
    for (size_t i = 0; i < sizeof s_sidecars / sizeof s_sidecars[0]; i++) {
        snprintf(side_from, sizeof side_from, "%s%s", live, s_sidecars[i]);
        snprintf(side_to, sizeof side_to, "%s%s", aside, s_sidecars[i]);
        if (s_exists(side_from) && rename(side_from, side_to) != 0) {
            snprintf(err, err_size, _("cannot move %s aside: %s"), side_from, strerror(errno));
            if (rename(aside, live) != 0) {
                snprintf(err, err_size, _("cannot move %s aside, nor %s back: %s"), side_from,
                         aside, strerror(errno));
            }
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

/* Records in the staged copy that it was restored, and from where. */
static int
s_mark_restored(const char *path, const char *src, char *err, size_t err_size)
{
    sqlite3 *db = NULL;
    int rc = SJ_EDB;
    if (s_open(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
        rc = sj_db_meta_set_int(db, "restored_ms", sj_now_ms());
        if (rc == SJ_OK) {
            rc = sj_db_meta_set_text(db, "restored_from", src);
        }
        /* A backup is older than what the node already sent. Numbers it
         * hands out from here on would repeat ones its children and its
         * parent already hold, for other items: a new store epoch makes the
         * children start their downward cursor from 0 (they apply what
         * they have again idempotently, and nothing new is hidden below an
         * old cursor), and the node's own stream (its status changes and
         * assignments) starts again at seq 1 under a new epoch, so the
         * parent never takes a new event for a duplicate of an old one. */
        uint8_t epoch[SJ_EPOCH_BYTES];
        sj_random16(epoch);
        if (rc == SJ_OK) {
            rc = sj_db_meta_set_blob(db, "epoch", epoch, SJ_EPOCH_BYTES);
        }
        if (rc == SJ_OK
            && sqlite3_exec(db,
                            "DELETE FROM meta WHERE key IN ('own_epoch', 'own_seq', 'own_hash')",
                            NULL, NULL, NULL)
                   != SQLITE_OK) {
            rc = SJ_EDB;
        }
    }
    if (rc != SJ_OK) {
        snprintf(err, err_size, _("cannot mark %s as restored: %s"), path,
                 db ? sqlite3_errmsg(db) : "out of memory");
    }
    sqlite3_close(db); /* the last connection: checkpoints and removes the -wal */
    return rc;
}

/* sj_db_schema_check on the staged copy (none when the role has no
 * migrations). */
static int
s_schema_check(const sj_backup_role_t *role,
               const char *staged,
               sj_db_schema_t level,
               char *err,
               size_t err_size)
{
    if (!role->migrations) {
        return SJ_OK;
    }
    sqlite3 *db = NULL;
    int rc;
    if (s_open(staged, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = s_fail_db(db, "cannot open", staged, err, err_size);
    } else {
        rc = sj_db_schema_check(db, role->migrations, role->n_migrations, role->tool, level, err,
                                err_size);
    }
    sqlite3_close(db);
    return rc;
}

int
sj_backup_cmd_restore(const sj_backup_role_t *role, const char *dir, const char *src)
{
    char live[PATH_MAX_LEN], stage[PATH_MAX_LEN + 32], staged[PATH_MAX_LEN + 300];
    char aside[PATH_MAX_LEN + 80] = "", err[3 * PATH_MAX_LEN] = "";
    const char *tool = role->tool;
    int lock_fd = -1, code = 1;
    if (snprintf(live, sizeof live, "%s/%s", dir, role->file) >= (int) sizeof live) {
        fprintf(stderr, _("%s: data directory path too long\n"), tool);
        return 1;
    }
    struct stat st;
    if (stat(src, &st) != 0) {
        fprintf(stderr, "%s: %s: %s\n", tool, src, strerror(errno));
        return 1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, _("%s: %s is not a file\n"), tool, src);
        return 1;
    }
    if (s_same_file(src, live)) {
        fprintf(stderr, _("%s: %s is the live database itself; nothing to restore\n"), tool, src);
        return 1;
    }
    if (sj_db_check_file(src, err, sizeof err) != SJ_OK) {
        fprintf(stderr, _("%s: cannot restore: %s; nothing was changed\n"), tool, err);
        return 1;
    }
    long holder = 0;
    int rc = sj_backup_lock(dir, &lock_fd, &holder, err, sizeof err);
    if (rc == SJ_EAGAIN) {
        fprintf(stderr,
                _("%s: %s is in use by a running %s (pid %ld); stop it first (e.g. systemctl stop"
                  " %s). A restore never replaces a database in use; nothing was changed\n"),
                tool, dir, tool, holder, tool);
        return 1;
    }
    if (rc != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 1;
    }
    snprintf(stage, sizeof stage, "%s/%s", dir, SJ_BACKUP_STAGE_DIR);
    snprintf(staged, sizeof staged, "%s/%s", stage, role->file);
    s_stage_clean(stage); /* left by an interrupted restore */
    if (mkdir(stage, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, _("%s: cannot create %s: %s\n"), tool, stage, strerror(errno));
        goto out;
    }
    rc = sj_backup_copy(tool, src, staged, err, sizeof err);
    if (rc != SJ_OK) {
        s_replace(err, sizeof err, staged, src);
        fprintf(stderr, _("%s: %s is damaged or unreadable: %s; nothing was changed\n"), tool, src,
                err);
        goto out;
    }
    /* The file's schema must be what sanji makes (no trigger or view planted
     * in a backup): the same objects before anything of it runs, and the
     * same SQL once migrated (role->verify) to this program's version. */
    rc = s_schema_check(role, staged, SJ_DB_SCHEMA_NAMES, err, sizeof err);
    if (rc == SJ_EINVAL) {
        rc = SJ_OK; /* another role's or a newer version: verify says which */
    }
    if (rc != SJ_OK) {
        s_replace(err, sizeof err, staged, src);
        fprintf(stderr, _("%s: %s is refused: %s; nothing was changed\n"), tool, src, err);
        goto out;
    }
    rc = role->verify(role->ctx, stage, err, sizeof err);
    if (rc != SJ_OK) {
        s_replace(err, sizeof err, staged, src);
        fprintf(stderr, _("%s: %s cannot be restored here: %s; nothing was changed\n"), tool, src,
                err);
        goto out;
    }
    if (s_schema_check(role, staged, SJ_DB_SCHEMA_FULL, err, sizeof err) != SJ_OK) {
        s_replace(err, sizeof err, staged, src);
        fprintf(stderr, _("%s: %s is refused: %s; nothing was changed\n"), tool, src, err);
        goto out;
    }
    s_owner_like_dir(staged, dir);
    if (s_mark_restored(staged, src, err, sizeof err) != SJ_OK
        || s_fsync_path(staged, 0) != SJ_OK) {
        fprintf(stderr, _("%s: %s; nothing was changed\n"), tool, err[0] ? err : "cannot fsync");
        goto out;
    }
    if (s_exists(live) && s_move_aside(live, aside, sizeof aside, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        goto out;
    }
    if (rename(staged, live) != 0) {
        fprintf(stderr, _("%s: cannot install %s: %s\n"), tool, live, strerror(errno));
        if (aside[0] && rename(aside, live) != 0) {
            fprintf(stderr, _("%s: and cannot move %s back: %s\n"), tool, aside, strerror(errno));
        }
        goto out;
    }
    if (s_fsync_path(dir, 1) != SJ_OK) {
        fprintf(stderr, _("%s: warning: cannot fsync %s\n"), tool, dir);
    }
    fprintf(stderr, _("%s: restored %s from %s"), tool, live, src);
    if (aside[0]) {
        fprintf(stderr, _("; the previous database is kept as %s"), aside);
    }
    fprintf(stderr, "\n");
    code = 0;
out:
    s_stage_clean(stage);
    sj_backup_unlock(&lock_fd);
    return code;
}
