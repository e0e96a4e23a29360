/* county_sql: the view modules' shared SQLite helpers, see county_sql.h. */
#include "county_sql.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sj_i18n.h"
#include "sj_log.h"

void
county_sql_add(char *buf, size_t size, size_t *len, const char *text)
{
    size_t n = strlen(text);
    assert(*len + n < size);
    memcpy(buf + *len, text, n + 1);
    *len += n;
}

int
county_sql_fail(sqlite3 *db, int rc, const char *what, const char *sql, char *err, size_t err_size)
{
    snprintf(err, err_size, "%s: %s", what, sqlite3_errmsg(db));
    sj_debug("county_sql: %s failed (%d): %s", what, rc, sql);
    int prim = rc & 0xff;
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
        return SJ_EAGAIN;
    }
    if (prim == SQLITE_NOMEM) {
        return SJ_ENOMEM;
    }
    return SJ_EDB;
}

int
county_sql_nomem(char *err, size_t err_size)
{
    snprintf(err, err_size, _("out of memory"));
    return SJ_ENOMEM;
}

int
county_sql_enum_cell(sj_field_t field, int value, const char **name, char *err, size_t err_size)
{
    *name = sj_enum_name(field, value);
    if (!*name) {
        snprintf(err, err_size, _("the database holds %s value %d, which is not valid (damaged?)"),
                 sj_field_name(field), value);
        return SJ_EDB;
    }
    return SJ_OK;
}

const char *
county_sql_text(sqlite3_stmt *st, int col)
{
    const char *text = (const char *) sqlite3_column_text(st, col);
    if (!text && sqlite3_column_type(st, col) == SQLITE_NULL) {
        return "";
    }
    return text;
}

int
county_sql_snapshot_begin(sqlite3 *db, int *began, char *err, size_t err_size)
{
    *began = 0;
    if (!sqlite3_get_autocommit(db)) {
        return SJ_OK;
    }
    int src = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        return county_sql_fail(db, src, "cannot start a read transaction", "BEGIN", err, err_size);
    }
    *began = 1;
    return SJ_OK;
}

void
county_sql_snapshot_end(sqlite3 *db, int began)
{
    if (began && !sqlite3_get_autocommit(db)) {
        (void) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
}

int
county_sql_matter_row(sqlite3 *db,
                      const char *sql,
                      const uint8_t id[SJ_ID_BYTES],
                      const char *shown,
                      sqlite3_stmt **st,
                      char *err,
                      size_t err_size)
{
    *st = NULL;
    sqlite3_stmt *s = NULL;
    int rc = SJ_OK;
    int src = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (src != SQLITE_OK) {
        return county_sql_fail(db, src, "cannot query the matter", sql, err, err_size);
    }
    src = sqlite3_bind_blob(s, 1, id, SJ_ID_BYTES, SQLITE_TRANSIENT);
    if (src != SQLITE_OK) {
        rc = county_sql_fail(db, src, "cannot bind the id", sql, err, err_size);
        goto out;
    }
    src = sqlite3_step(s);
    if (src == SQLITE_DONE) {
        snprintf(err, err_size, _("no matter with id %s"), shown);
        rc = SJ_ENOTFOUND;
    } else if (src != SQLITE_ROW) {
        rc = county_sql_fail(db, src, "cannot read the matter", sql, err, err_size);
    }
out:
    if (rc != SJ_OK) {
        sqlite3_finalize(s);
        return rc;
    }
    *st = s;
    return SJ_OK;
}

void
county_sql_iso_utc(int64_t ms, char out[COUNTY_SQL_TIME])
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(out, COUNTY_SQL_TIME, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, COUNTY_SQL_TIME, "%" PRId64 " ms", ms);
    }
}
