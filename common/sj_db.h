/* sj_db: opening a store the way every tier needs it: WAL, synchronous=FULL
 * (an ack is a promise), busy_timeout, foreign keys, schema migrations by
 * PRAGMA user_version, and a check that an existing file really is this
 * role's database (a truncated or foreign file is refused, never recreated).
 * Every store has a meta(key, value) table; helpers read and write it. */
#ifndef SJ_DB_H
#define SJ_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

/* Page size of a new store (see sj_db_open); the benchmark's raw SQLite
 * baseline uses the same. */
#define SJ_DB_PAGE_SIZE        16384
#define SJ_DB_PAGE_SIZE_PRAGMA "PRAGMA page_size=16384"

typedef struct {
    int version;     /* user_version after this step */
    const char *sql; /* one or more statements */
} sj_migration_t;

typedef enum {
    SJ_DB_WRITE = 0, /* create if missing, migrate */
    SJ_DB_READ = 1   /* must exist; read-only; no migration */
} sj_db_mode_t;

/* Opens (creating the directory with mode 0700 and the file if missing, in
 * SJ_DB_WRITE mode) dir/name. app_id tags the file; an existing file with
 * another application_id, a newer user_version, or that fails the SQLite
 * header check is refused with a clear reason in err. Caller owns *out and
 * closes it with sj_db_close. */
SJ_NODISCARD int sj_db_open(const char *dir,
                            const char *name,
                            uint32_t app_id,
                            const sj_migration_t *migrations,
                            size_t n_migrations,
                            sj_db_mode_t mode,
                            sqlite3 **out,
                            char *err,
                            size_t err_size);
/* The same, with the page size a new store is made with (a power of two,
 * 512..65536; an existing store keeps its own). sj_db_open uses
 * SJ_DB_PAGE_SIZE. */
SJ_NODISCARD int sj_db_open_paged(const char *dir,
                                  const char *name,
                                  uint32_t app_id,
                                  const sj_migration_t *migrations,
                                  size_t n_migrations,
                                  sj_db_mode_t mode,
                                  int page_size,
                                  sqlite3 **out,
                                  char *err,
                                  size_t err_size);
void sj_db_close(sqlite3 **db_p);

/* Checks that path is a plausible SQLite file (the header, not empty, not
 * truncated below one page) without opening it. SJ_OK; SJ_ENOTFOUND when it
 * does not exist; SJ_EDB or SJ_EIO with the reason in err. */
SJ_NODISCARD int sj_db_check_file(const char *path, char *err, size_t err_size);
/* Runs PRAGMA integrity_check; SJ_OK when it says "ok", else SJ_EDB with the
 * first problems it reported in err. */
SJ_NODISCARD int sj_db_integrity(sqlite3 *db, char *err, size_t err_size);
/* The same with PRAGMA quick_check (every page read, no index cross-check):
 * what a daemon runs at start so that a damaged store is refused at once. */
SJ_NODISCARD int sj_db_quick_check(sqlite3 *db, char *err, size_t err_size);
/* Puts "dir/name: " before err unless it already names that file. */
void sj_db_name_in_error(char *err, size_t err_size, const char *dir, const char *name);

typedef enum {
    SJ_DB_SCHEMA_NAMES = 0, /* the same objects (type and name) */
    SJ_DB_SCHEMA_FULL = 1   /* ... and the same SQL text */
} sj_db_schema_t;

/* Compares db's schema (every table, index, trigger and view in
 * sqlite_schema) with what a new store of db's user_version has (the meta
 * table and migrations up to that version, made in memory). what names the
 * store in messages ("county-server"). SJ_OK; SJ_EINVAL when the version
 * is not one of the migrations'; or SJ_EDB with the differences in err,
 * e.g. "trigger evil is not in a version-9 county-server store".
 * `restore` runs SJ_DB_SCHEMA_NAMES before anything of the file is run (an
 * old store's SQL text may differ from today's migration of that version:
 * later migrations rewrite it), then SJ_DB_SCHEMA_FULL once the copy has
 * been migrated to the latest version. */
SJ_NODISCARD int sj_db_schema_check(sqlite3 *db,
                                    const sj_migration_t *migrations,
                                    size_t n_migrations,
                                    const char *what,
                                    sj_db_schema_t level,
                                    char *err,
                                    size_t err_size);
/* Maps a SQLite result code to SJ_*, logging sqlite3_errmsg with what. */
int sj_db_err(sqlite3 *db, int rc, const char *what);
/* Steps st, a bound SELECT of (seq INTEGER, bytes BLOB) rows, calling
 * add(add_ctx, seq, bytes, len) for each until add says other than SJ_OK or
 * the next row would take the total past max_bytes (the first row always
 * goes); then resets st and clears its bindings. Returns add's code or
 * SJ_OK, or a storage error named by what. The one fetch loop of every
 * stream a link sends from (upward outbox and events, downward items). */
SJ_NODISCARD int
sj_db_fetch_seq_blobs(sqlite3 *db,
                      sqlite3_stmt *st,
                      size_t max_bytes,
                      int (*add)(void *add_ctx, uint64_t seq, const void *data, size_t len),
                      void *add_ctx,
                      const char *what);
SJ_NODISCARD int sj_db_exec(sqlite3 *db, const char *sql);
SJ_NODISCARD int sj_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt);
/* BEGIN IMMEDIATE (retries while busy up to the busy timeout), COMMIT, ROLLBACK. */
SJ_NODISCARD int sj_db_begin(sqlite3 *db);
SJ_NODISCARD int sj_db_commit(sqlite3 *db);
void sj_db_rollback(sqlite3 *db);

/* meta table helpers. get returns SJ_ENOTFOUND when the key is absent. */
SJ_NODISCARD int sj_db_meta_get_int(sqlite3 *db, const char *key, int64_t *out);
SJ_NODISCARD int sj_db_meta_set_int(sqlite3 *db, const char *key, int64_t value);
SJ_NODISCARD int sj_db_meta_get_blob(sqlite3 *db, const char *key, void *out, size_t size);
SJ_NODISCARD int sj_db_meta_set_blob(sqlite3 *db, const char *key, const void *data, size_t size);
SJ_NODISCARD int sj_db_meta_get_text(sqlite3 *db, const char *key, char *out, size_t size);
SJ_NODISCARD int sj_db_meta_set_text(sqlite3 *db, const char *key, const char *value);

/* Checks sqlite3_bind_* results combined with | (every call runs; their
 * order does not matter): SJ_OK when all were SQLITE_OK, else SJ_ENOMEM
 * (SQLITE_NOMEM alone) or SJ_EDB, logged with what. */
SJ_NODISCARD int sj_db_bind_check(sqlite3 *db, int rc_or, const char *what);

/* Steps a statement that returns no rows, then resets it. */
SJ_NODISCARD int sj_db_step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what);

#endif
