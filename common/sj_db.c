#include "sj_db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sj_i18n.h"
#include "sj_log.h"

#define BUSY_TIMEOUT_MS 10000

static const char s_meta_sql[] = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value)";

int
sj_db_err(sqlite3 *db, int rc, const char *what)
{
    int prim = rc & 0xff;
    if (prim == SQLITE_OK || prim == SQLITE_DONE || prim == SQLITE_ROW) {
        return SJ_OK;
    }
    sj_error("sqlite: %s: %s (%d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
        return SJ_EAGAIN;
    }
    if (prim == SQLITE_FULL) {
        return SJ_EFULL;
    }
    if (prim == SQLITE_NOMEM) {
        return SJ_ENOMEM;
    }
    return SJ_EDB;
}

int
sj_db_exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SJ_OK : sj_db_err(db, rc, sql);
}

int
sj_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
    return rc == SQLITE_OK ? SJ_OK : sj_db_err(db, rc, sql);
}

int
sj_db_begin(sqlite3 *db)
{
    return sj_db_exec(db, "BEGIN IMMEDIATE");
}

int
sj_db_commit(sqlite3 *db)
{
    return sj_db_exec(db, "COMMIT");
}

void
sj_db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db)) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
}

int
sj_db_bind_check(sqlite3 *db, int rc_or, const char *what)
{
    if (rc_or == SQLITE_OK) {
        return SJ_OK;
    }
    sj_error("sqlite: %s: a value could not be bound (%d: %s)", what, rc_or, sqlite3_errmsg(db));
    return rc_or == SQLITE_NOMEM ? SJ_ENOMEM : SJ_EDB;
}

int
sj_db_step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    int out = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? SJ_OK : sj_db_err(db, rc, what);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return out;
}

static int
s_pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* A non-empty file must start with the SQLite header; catches truncation to
 * garbage and foreign files before SQLite would treat them as new. */
int
sj_db_check_file(const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            return SJ_ENOTFOUND;
        }
        snprintf(err, err_size, _("%s: cannot stat: %s"), path, strerror(errno));
        return SJ_EIO;
    }
    if (st.st_size == 0) {
        snprintf(err, err_size, _("%s is empty (truncated?); refusing to recreate it"), path);
        return SJ_EDB;
    }
    char head[16] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, err_size, _("%s: cannot open: %s"), path, strerror(errno));
        return SJ_EIO;
    }
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n != (ssize_t) sizeof head || memcmp(head, "SQLite format 3", 16) != 0) {
        snprintf(err, err_size, _("%s is not an SQLite database (corrupted?); refusing to use it"),
                 path);
        return SJ_EDB;
    }
    if (st.st_size < 512) {
        snprintf(err, err_size, _("%s is truncated (%lld bytes); refusing to use it"), path,
                 (long long) st.st_size);
        return SJ_EDB;
    }
    return SJ_OK;
}

static int
s_migrate(sqlite3 *db,
          uint32_t app_id,
          const sj_migration_t *migs,
          size_t n,
          int64_t have,
          char *err,
          size_t err_size)
{
    for (size_t i = 0; i < n; i++) {
        if (migs[i].version <= have) {
            continue;
        }
        char stamp[96];
        if (sj_db_begin(db) != SJ_OK) {
            snprintf(err, err_size, _("cannot start migration: %s"), sqlite3_errmsg(db));
            return SJ_EDB;
        }
        char *msg = NULL;
        int rc = sqlite3_exec(db, migs[i].sql, NULL, NULL, &msg);
        if (rc == SQLITE_OK) {
            snprintf(stamp, sizeof stamp, "PRAGMA user_version=%d; PRAGMA application_id=%d;",
                     migs[i].version, (int) app_id);
            rc = sqlite3_exec(db, stamp, NULL, NULL, &msg);
        }
        if (rc != SQLITE_OK) {
            snprintf(err, err_size, _("migration to schema version %d failed: %s"), migs[i].version,
                     msg ? msg : sqlite3_errstr(rc));
            sqlite3_free(msg);
            sj_db_rollback(db);
            return SJ_EDB;
        }
        if (sj_db_commit(db) != SJ_OK) {
            snprintf(err, err_size, _("cannot commit migration: %s"), sqlite3_errmsg(db));
            return SJ_EDB;
        }
    }
    return SJ_OK;
}

static int s_open_locked(const char *dir,
                         const char *name,
                         uint32_t app_id,
                         const sj_migration_t *migrations,
                         size_t n_migrations,
                         sj_db_mode_t mode,
                         int page_size,
                         sqlite3 **out,
                         char *err,
                         size_t err_size);

/* Creating and migrating a store is serialised across processes with a lock
 * file beside it: two tools started at once on a new data directory (say
 * `run` and `submit`) would otherwise see each other's half-made file
 * (empty, unstamped, or migrating) and refuse it, or migrate it twice.
 * Readers take the lock shared, so they never see a store being created. */
/* Once per process, before SQLite initialises: no memory-use statistics.
 * They cost a global mutex around every SQLite allocation (pthread_mutex_lock
 * and unlock were ~3.5% of the county's ingest profile) and nothing reads
 * them. If SQLite was already initialised the call fails harmlessly. */
static pthread_once_t s_global_once = PTHREAD_ONCE_INIT;

static void
s_global_init(void)
{
    (void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* trusted_schema for db: 1 only once its schema was checked (sj_db_open). */
static void
s_trust(sqlite3 *db, int on)
{
    (void) sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, on, (int *) NULL);
}

int
sj_db_open(const char *dir,
           const char *name,
           uint32_t app_id,
           const sj_migration_t *migrations,
           size_t n_migrations,
           sj_db_mode_t mode,
           sqlite3 **out,
           char *err,
           size_t err_size)
{
    return sj_db_open_paged(dir, name, app_id, migrations, n_migrations, mode, SJ_DB_PAGE_SIZE, out,
                            err, err_size);
}

int
sj_db_open_paged(const char *dir,
                 const char *name,
                 uint32_t app_id,
                 const sj_migration_t *migrations,
                 size_t n_migrations,
                 sj_db_mode_t mode,
                 int page_size,
                 sqlite3 **out,
                 char *err,
                 size_t err_size)
{
    char lock[4096];
    *out = NULL;
    pthread_once(&s_global_once, s_global_init);
    if (snprintf(lock, sizeof lock, "%s/.%s.lock", dir, name) >= (int) sizeof lock) {
        snprintf(err, err_size, _("data directory path too long"));
        return SJ_EINVAL;
    }
    if (mode == SJ_DB_WRITE && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, _("cannot create data directory %s: %s"), dir, strerror(errno));
        return SJ_EIO;
    }
    int fd = mode == SJ_DB_WRITE ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)
                                 : open(lock, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (flock(fd, mode == SJ_DB_WRITE ? LOCK_EX : LOCK_SH) != 0 && errno == EINTR) {
        }
    } else if (mode == SJ_DB_WRITE) {
        snprintf(err, err_size, _("cannot create %s: %s"), lock, strerror(errno));
        return SJ_EIO;
    }
    int rc = s_open_locked(dir, name, app_id, migrations, n_migrations, mode, page_size, out, err,
                           err_size);
    if (fd >= 0) {
        close(fd); /* releases the lock */
    }
    return rc;
}

static int
s_open_locked(const char *dir,
              const char *name,
              uint32_t app_id,
              const sj_migration_t *migrations,
              size_t n_migrations,
              sj_db_mode_t mode,
              int page_size,
              sqlite3 **out,
              char *err,
              size_t err_size)
{
    char path[4096];
    sqlite3 *db = NULL;
    *out = NULL;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path) {
        snprintf(err, err_size, _("data directory path too long"));
        return SJ_EINVAL;
    }
    int hc = sj_db_check_file(path, err, err_size);
    if (hc == SJ_ENOTFOUND) {
        if (mode == SJ_DB_READ) {
            snprintf(err, err_size, _("no database at %s (wrong --data, or never started?)"), path);
            return SJ_ENOTFOUND;
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, err_size, _("cannot create data directory %s: %s"), dir, strerror(errno));
            return SJ_EIO;
        }
    } else if (hc != SJ_OK) {
        if (hc == SJ_EIO && !err[0]) {
            snprintf(err, err_size, _("%s: cannot stat: %s"), path, strerror(errno));
        }
        return hc;
    }
    int flags =
        mode == SJ_DB_READ ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, _("cannot open %s: %s"), path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return SJ_EDB;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    /* trusted_schema=OFF: triggers, views and defaults in the file may not
     * call functions with side effects (README "Backup and restore": a
     * store is data, not code). Set before the first statement that could
     * fire anything. */
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *) NULL) != SQLITE_OK) {
        snprintf(err, err_size, _("%s: cannot set trusted_schema=OFF: %s"), path,
                 sqlite3_errmsg(db));
        goto fail;
    }
    int64_t have_app = 0, have_ver = 0;
    rc = s_pragma_int(db, "PRAGMA application_id", &have_app);
    if (rc == SQLITE_OK) {
        rc = s_pragma_int(db, "PRAGMA user_version", &have_ver);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, _("%s is not a usable database: %s"), path, sqlite3_errmsg(db));
        goto fail;
    }
    if (hc == SJ_OK && have_app != (int32_t) app_id) {
        snprintf(err, err_size, _("%s belongs to another program or role (application_id %lld)"),
                 path, (long long) have_app);
        goto fail;
    }
    int64_t latest = n_migrations ? migrations[n_migrations - 1].version : 0;
    if (have_ver > latest) {
        snprintf(
            err, err_size,
            _("%s has schema version %lld, newer than this program knows (%lld); upgrade sanji"),
            path, (long long) have_ver, (long long) latest);
        goto fail;
    }
    if (mode == SJ_DB_WRITE) {
        char *msg = NULL;
        /* A new store gets the caller's page size (16 KiB for hub and
         * county, SJ_DB_PAGE_SIZE); it only takes effect before the first
         * table exists, so an existing store keeps the size it was made
         * with. Measured with bench_load throughput: CPU per report county
         * 12.0 -> 9.5 us, hubs 8.2 -> 6.8 us (fewer pages touched, split and
         * written to the WAL per commit); raw SQLite gains ~17% the same way,
         * and the benchmark's baseline uses it too. */
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA page_size=%d", page_size);
        if (hc == SJ_ENOTFOUND && sj_db_exec(db, pragma) != SJ_OK) {
            snprintf(err, err_size, _("%s: cannot set the page size: %s"), path,
                     sqlite3_errmsg(db));
            goto fail;
        }
        rc = sqlite3_exec(db,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                          " PRAGMA foreign_keys=ON;",
                          NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            snprintf(err, err_size, _("%s: cannot set WAL mode: %s"), path, msg ? msg : "?");
            sqlite3_free(msg);
            goto fail;
        }
        if (sj_db_exec(db, s_meta_sql) != SJ_OK) {
            snprintf(err, err_size, _("%s: cannot create meta table: %s"), path,
                     sqlite3_errmsg(db));
            goto fail;
        }
        if (have_ver > 0 && have_ver < latest) {
            /* Some upgrades rebuild a table (county schema 6: ~10 s per
             * million events): say so before the wait, and when it is done. */
            sj_info("upgrading %s from schema version %lld to %lld; a big store takes a while",
                    path, (long long) have_ver, (long long) latest);
        }
        /* The writer's own triggers keep the search index (FTS5), which
         * SQLite lets a trigger use only with trusted_schema=ON. The writer
         * turns it on only for a schema that is exactly what sanji's
         * migrations make at its version (sj_db_schema_check, as restore
         * does: the same objects before the migrations run, the same SQL
         * after), so every trigger that runs is one of ours; a store with
         * anything else in it is refused, naming what differs. */
        char what[64];
        snprintf(what, sizeof what, "%.*s", (int) strcspn(name, "."), name);
        s_trust(db, have_ver == 0
                        || sj_db_schema_check(db, migrations, n_migrations, what,
                                              SJ_DB_SCHEMA_NAMES, err, err_size)
                               == SJ_OK);
        err[0] = '\0';
        if (s_migrate(db, app_id, migrations, n_migrations, have_ver, err, err_size) != SJ_OK) {
            goto fail;
        }
        if (have_ver > 0 && have_ver < latest) {
            sj_info("upgraded %s to schema version %lld", path, (long long) latest);
        }
        if (sj_db_schema_check(db, migrations, n_migrations, what, SJ_DB_SCHEMA_FULL, err, err_size)
            != SJ_OK) {
            goto fail;
        }
        s_trust(db, 1);
    } else if (have_ver < latest) {
        snprintf(err, err_size,
                 _("%s has schema version %lld; start the daemon once to migrate it"), path,
                 (long long) have_ver);
        goto fail;
    }
    *out = db;
    return SJ_OK;
fail:
    sqlite3_close(db);
    return SJ_EDB;
}

void
sj_db_close(sqlite3 **db_p)
{
    if (db_p && *db_p) {
        sqlite3_close_v2(*db_p);
        *db_p = NULL;
    }
}

static int s_check(sqlite3 *db, const char *pragma, char *err, size_t err_size);

int
sj_db_integrity(sqlite3 *db, char *err, size_t err_size)
{
    return s_check(db, "PRAGMA integrity_check(5)", err, err_size);
}

int
sj_db_quick_check(sqlite3 *db, char *err, size_t err_size)
{
    return s_check(db, "PRAGMA quick_check(5)", err, err_size);
}

void
sj_db_name_in_error(char *err, size_t err_size, const char *dir, const char *name)
{
    char path[4200], copy[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!err_size || strstr(err, path)) {
        return;
    }
    snprintf(copy, sizeof copy, "%s", err);
    snprintf(err, err_size, "%s: %s", path, copy);
}

static int
s_check(sqlite3 *db, const char *pragma, char *err, size_t err_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, pragma, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, _("integrity check cannot run: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    size_t used = 0;
    int ok = 0, rows = 0;
    err[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *) sqlite3_column_text(st, 0);
        line = line ? line : "";
        if (rows++ == 0 && strcmp(line, "ok") == 0) {
            ok = 1;
            continue;
        }
        if (used < err_size) {
            int n = snprintf(err + used, err_size - used, "%s%s",
                             used ? "; " : "integrity check failed: ", line);
            for (size_t i = used; n > 0 && i < err_size && err[i]; i++) {
                err[i] = err[i] == '\n' ? ' ' : err[i]; /* one line for logs and monitoring */
            }
            used += n > 0 ? (size_t) n : 0;
        }
    }
    if (rc != SQLITE_DONE) {
        /* A damaged file often fails the check itself (e.g. "database disk image is malformed"). */
        snprintf(err, err_size, _("integrity check failed: %s"), sqlite3_errmsg(db));
        ok = 0;
    }
    sqlite3_finalize(st);
    return ok && rows == 1 ? SJ_OK : SJ_EDB;
}

static int
s_meta_get(sqlite3 *db, const char *key, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, st, NULL);
    if (rc != SQLITE_OK) {
        return sj_db_err(db, rc, "meta select");
    }
    sqlite3_bind_text(*st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(*st);
    if (rc == SQLITE_ROW) {
        return SJ_OK;
    }
    sqlite3_finalize(*st);
    *st = NULL;
    return rc == SQLITE_DONE ? SJ_ENOTFOUND : sj_db_err(db, rc, "meta select");
}

static int
s_meta_set(sqlite3 *db, const char *key, int type, int64_t i, const void *data, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO "
                                "UPDATE SET value=excluded.value",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return sj_db_err(db, rc, "meta upsert");
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (type == SQLITE_INTEGER) {
        sqlite3_bind_int64(st, 2, i);
    } else if (type == SQLITE_TEXT) {
        sqlite3_bind_text(st, 2, data, (int) size, SQLITE_STATIC);
    } else {
        sqlite3_bind_blob(st, 2, data, (int) size, SQLITE_STATIC);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SJ_OK : sj_db_err(db, rc, "meta upsert");
}

int
sj_db_meta_get_int(sqlite3 *db, const char *key, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = s_meta_get(db, key, &st);
    if (rc == SJ_OK) {
        *out = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return rc;
}

int
sj_db_meta_set_int(sqlite3 *db, const char *key, int64_t value)
{
    return s_meta_set(db, key, SQLITE_INTEGER, value, NULL, 0);
}

int
sj_db_meta_get_blob(sqlite3 *db, const char *key, void *out, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc = s_meta_get(db, key, &st);
    if (rc != SJ_OK) {
        return rc;
    }
    if ((size_t) sqlite3_column_bytes(st, 0) != size) {
        rc = SJ_EDB;
        sj_error("meta %s has %d bytes, expected %zu", key, sqlite3_column_bytes(st, 0), size);
    } else {
        memcpy(out, sqlite3_column_blob(st, 0), size);
    }
    sqlite3_finalize(st);
    return rc;
}

int
sj_db_meta_set_blob(sqlite3 *db, const char *key, const void *data, size_t size)
{
    return s_meta_set(db, key, SQLITE_BLOB, 0, data, size);
}

int
sj_db_meta_get_text(sqlite3 *db, const char *key, char *out, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc = s_meta_get(db, key, &st);
    if (rc != SJ_OK) {
        return rc;
    }
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", t ? (const char *) t : "");
    sqlite3_finalize(st);
    return SJ_OK;
}

int
sj_db_meta_set_text(sqlite3 *db, const char *key, const char *value)
{
    return s_meta_set(db, key, SQLITE_TEXT, 0, value, strlen(value));
}

int
sj_db_fetch_seq_blobs(sqlite3 *db,
                      sqlite3_stmt *st,
                      size_t max_bytes,
                      int (*add)(void *add_ctx, uint64_t seq, const void *data, size_t len),
                      void *add_ctx,
                      const char *what)
{
    int rc = SJ_OK, step;
    size_t bytes = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = (size_t) sqlite3_column_bytes(st, 1);
        if (bytes && bytes + len > max_bytes) {
            break;
        }
        rc = add(add_ctx, (uint64_t) sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1), len);
        if (rc != SJ_OK) {
            break;
        }
        bytes += len;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sj_db_err(db, step, what);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* ---- schema comparison (restore) ---- */

/* One schema object: "type name" and its SQL ("" when NULL). */
typedef struct {
    char *key;
    char *sql;
} s_obj_t;

typedef struct {
    s_obj_t *v;
    size_t n;
} s_objs_t;

static void
s_objs_free(s_objs_t *o)
{
    for (size_t i = 0; i < o->n; i++) {
        sqlite3_free(o->v[i].key);
        sqlite3_free(o->v[i].sql);
    }
    sqlite3_free(o->v);
    o->v = NULL;
    o->n = 0;
}

/* Every table, index, trigger and view of db, sorted by type and name.
 * sqlite_stat* (made by ANALYZE / PRAGMA optimize) are not part of a schema. */
static int
s_objs_read(sqlite3 *db, s_objs_t *o)
{
    sqlite3_stmt *st = NULL;
    memset(o, 0, sizeof *o);
    int rc = sqlite3_prepare_v2(db,
                                "SELECT type, name, sql FROM sqlite_schema"
                                " WHERE name NOT LIKE 'sqlite!_stat%' ESCAPE '!'"
                                " ORDER BY type, name",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        s_obj_t *nv = sqlite3_realloc64(o->v, (sqlite3_uint64) (o->n + 1) * sizeof *nv);
        if (!nv) {
            rc = SQLITE_NOMEM;
            break;
        }
        o->v = nv;
        const char *sql = (const char *) sqlite3_column_text(st, 2);
        o->v[o->n].key = sqlite3_mprintf("%s %s", (const char *) sqlite3_column_text(st, 0),
                                         (const char *) sqlite3_column_text(st, 1));
        o->v[o->n].sql = sqlite3_mprintf("%s", sql ? sql : "");
        o->n++;
        if (!o->v[o->n - 1].key || !o->v[o->n - 1].sql) {
            rc = SQLITE_NOMEM;
            break;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        s_objs_free(o);
        return SJ_EDB;
    }
    return SJ_OK;
}

static void s_append(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_append(char *err, size_t err_size, const char *fmt, ...)
{
    size_t n = strlen(err);
    if (n + 1 >= err_size) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, err_size - n, fmt, ap);
    va_end(ap);
}

int
sj_db_schema_check(sqlite3 *db,
                   const sj_migration_t *migrations,
                   size_t n_migrations,
                   const char *what,
                   sj_db_schema_t level,
                   char *err,
                   size_t err_size)
{
    int64_t ver = 0;
    sqlite3 *fresh = NULL;
    s_objs_t have = {0}, want = {0};
    int rc = SJ_EDB;
    err[0] = '\0';
    if (s_pragma_int(db, "PRAGMA user_version", &ver) != SQLITE_OK) {
        snprintf(err, err_size, _("cannot read its schema version: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    int64_t latest = n_migrations ? migrations[n_migrations - 1].version : 0;
    if (ver < 1 || ver > latest) {
        snprintf(err, err_size, _("schema version %lld is not one of a %s store (1 to %lld)"),
                 (long long) ver, what, (long long) latest);
        return SJ_EINVAL;
    }
    /* A new store of that version, made as sj_db_open makes one. */
    if (sqlite3_open_v2(":memory:", &fresh, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
            != SQLITE_OK
        || sj_db_exec(fresh, s_meta_sql) != SJ_OK) {
        snprintf(err, err_size, _("cannot build a version-%lld %s store to compare with"),
                 (long long) ver, what);
        goto out;
    }
    for (size_t i = 0; i < n_migrations && migrations[i].version <= ver; i++) {
        char *msg = NULL;
        if (sqlite3_exec(fresh, migrations[i].sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, err_size, _("cannot build a version-%lld %s store: %s"), (long long) ver,
                     what, msg ? msg : "?");
            sqlite3_free(msg);
            goto out;
        }
    }
    if (s_objs_read(db, &have) != SJ_OK || s_objs_read(fresh, &want) != SJ_OK) {
        snprintf(err, err_size, _("cannot read the schema: %s"), sqlite3_errmsg(db));
        goto out;
    }
    /* Merge the two sorted lists; name at most 3 differences. */
    size_t i = 0, j = 0;
    int diffs = 0;
    while (i < have.n || j < want.n) {
        int c = i == have.n ? 1 : j == want.n ? -1 : strcmp(have.v[i].key, want.v[j].key);
        const char *sep = diffs ? "; " : "";
        if (c < 0) {
            if (diffs < 3) {
                s_append(err, err_size, "%s%s is not in a version-%lld %s store", sep,
                         have.v[i].key, (long long) ver, what);
            }
            diffs++;
            i++;
        } else if (c > 0) {
            if (diffs < 3) {
                s_append(err, err_size, "%s%s of a version-%lld %s store is missing", sep,
                         want.v[j].key, (long long) ver, what);
            }
            diffs++;
            j++;
        } else {
            if (level == SJ_DB_SCHEMA_FULL && strcmp(have.v[i].sql, want.v[j].sql) != 0) {
                if (diffs < 3) {
                    s_append(err, err_size, "%s%s differs from a version-%lld %s store's", sep,
                             have.v[i].key, (long long) ver, what);
                }
                diffs++;
            }
            i++;
            j++;
        }
    }
    if (diffs > 3) {
        s_append(err, err_size, " (and %d more differences)", diffs - 3);
    }
    rc = diffs ? SJ_EDB : SJ_OK;
out:
    s_objs_free(&have);
    s_objs_free(&want);
    sqlite3_close(fresh);
    return rc;
}
