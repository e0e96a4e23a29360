/* county_status: the county's links view and check (see county_status.h). */
#include "county_status.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "county_out.h"
#include "sj_db.h"
#include "sj_down.h"
#include "sj_ids.h"
#include "sj_model.h"

/* One row per child code (its latest epoch's contact and backlog), events
 * counted over every epoch, and its undelivered downward items (its
 * stream's head minus the cursor it last said it applied), silent ones
 * (oldest contact) first. */
static const char s_children_sql[] =
    "SELECT l.code, max(l.last_contact_ms) AS lc, coalesce(e.n, 0),"
    " (SELECT queue_depth FROM links l2 WHERE l2.code = l.code"
    "  ORDER BY last_contact_ms DESC LIMIT 1),"
    " (SELECT coalesce(max(d.seq), 0) FROM down d WHERE d.child = l.code)"
    "  - coalesce((SELECT a.cursor FROM down_acks a WHERE a.child = l.code), 0)"
    " FROM links l LEFT JOIN (SELECT via, count(*) AS n FROM events GROUP BY via) e"
    " ON e.via = l.code GROUP BY l.code ORDER BY lc ASC, l.code";
/* The forks refused per child (link_forks, sj_link.h), for s_fill. */
static const char s_forks_sql[] = "SELECT count(*) FROM link_forks WHERE code = ?";

static int
s_scalar(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = SJ_EDB;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SJ_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The county code the store was given, or "" (it accepts any county). */
static void
s_county_code(sqlite3 *db, char *out, size_t size)
{
    if (sj_db_meta_get_text(db, "code", out, size) != SJ_OK) {
        out[0] = '\0';
    }
}

static const char *
s_kind(const char *code)
{
    return sj_code_level(code) == 9 ? "township" : sj_code_level(code) == 12 ? "station" : "?";
}

static int
s_fill(sqlite3 *db, int64_t now, int64_t silent_s, sj_table_t *t)
{
    sqlite3_stmt *st = NULL, *fk = NULL;
    if (sqlite3_prepare_v2(db, s_children_sql, -1, &st, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, s_forks_sql, -1, &fk, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return SJ_EDB;
    }
    int rc = SJ_OK, step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *) sqlite3_column_text(st, 0);
        int64_t lc = sqlite3_column_int64(st, 1);
        int64_t silent = (now - lc) / 1000;
        char when[32], silent_txt[24], events[24], backlog[24], undel[24], forks[24];
        time_t secs = (time_t) (lc / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(silent_txt, sizeof silent_txt, "%" PRId64, silent);
        snprintf(events, sizeof events, "%lld", sqlite3_column_int64(st, 2));
        snprintf(backlog, sizeof backlog, "%lld", sqlite3_column_int64(st, 3));
        long long u = sqlite3_column_int64(st, 4);
        snprintf(undel, sizeof undel, "%lld", u > 0 ? u : 0);
        sqlite3_bind_text(fk, 1, code ? code : "", -1, SQLITE_STATIC);
        snprintf(forks, sizeof forks, "%lld",
                 sqlite3_step(fk) == SQLITE_ROW ? sqlite3_column_int64(fk, 0) : 0LL);
        sqlite3_reset(fk);
        const char *cells[] = {code ? code : "",
                               s_kind(code ? code : ""),
                               silent >= silent_s ? "SILENT" : "ok",
                               when,
                               silent_txt,
                               events,
                               forks,
                               backlog,
                               undel};
        rc = sj_table_add_row(t, cells);
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = SJ_EDB;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(fk);
    return rc;
}

int
county_status_read(sqlite3 *db, int64_t silent_s, county_status_t *out)
{
    static const char *const names[] = {"child",  "kind",  "status",  "last_contact", "silent_s",
                                        "events", "forks", "backlog", "undelivered"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                          SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_INT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_INT};
    memset(out, 0, sizeof *out);
    int64_t now = sj_now_ms();
    if (s_scalar(db, "SELECT count(*) FROM events", &out->events) != SJ_OK
        || s_scalar(db, "SELECT count(*) FROM matters", &out->matters) != SJ_OK
        || s_scalar(db, "SELECT count(*) FROM quarantine", &out->quarantined) != SJ_OK) {
        return SJ_EDB;
    }
    s_county_code(db, out->county, sizeof out->county);
    out->db = db;
    out->children = sj_table_new(9, names, types);
    if (!out->children) {
        return SJ_ENOMEM;
    }
    int rc = s_fill(db, now, silent_s, out->children);
    if (rc != SJ_OK) {
        county_status_free(out);
    }
    return rc;
}

void
county_status_free(county_status_t *s)
{
    sj_table_destroy(&s->children);
}

int
county_status_write(sqlite3 *db, int64_t silent_s, const char *key_fp, sj_format_t fmt, FILE *out)
{
    county_status_t s;
    int rc = county_status_read(db, silent_s, &s);
    if (rc == SJ_OK) {
        snprintf(s.key_fp, sizeof s.key_fp, "%s", key_fp ? key_fp : "");
        rc = county_out_status(&s, fmt, out);
    }
    county_status_free(&s);
    return rc;
}

int
county_status_check(sqlite3 *db, const sj_health_opts_t *o, sj_health_t *h)
{
    int64_t now = sj_now_ms(), events = 0, hubs = 0, children = 0;
    int n = 0, silent = 0;
    if (s_scalar(db, "SELECT count(*) FROM events", &events) != SJ_OK
        || s_scalar(db, "SELECT count(DISTINCT code) FROM links WHERE length(code) = 9", &hubs)
               != SJ_OK
        || s_scalar(db, "SELECT count(DISTINCT code) FROM links", &children) != SJ_OK
        || sj_health_children(h, db, now, o->silent_s, &n, &silent) != SJ_OK
        || sj_down_check(db, h) != SJ_OK) {
        return SJ_EDB;
    }
    char county[16];
    s_county_code(db, county, sizeof county);
    int64_t stations = children - hubs;
    sj_health_ok_text(h,
                      "county %s: %" PRId64 " hub%s, %" PRId64 " station%s, none silent,"
                      " %" PRId64 " events",
                      county[0] ? county : "(any code)", hubs, hubs == 1 ? "" : "s", stations,
                      stations == 1 ? "" : "s", events);
    sj_health_perf(h, "hubs", hubs, NULL, -1, -1);
    sj_health_perf(h, "stations", stations, NULL, -1, -1);
    sj_health_perf(h, "events", events, "c", -1, -1);
    return SJ_OK;
}
