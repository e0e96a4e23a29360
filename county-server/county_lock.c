/* county_lock: signed-off figures, see county_lock.h. */
#include "county_lock.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sj_db.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_wire.h"

int
county_lock_month_ok(const char *t)
{
    return sj_month_valid(t) && atoi(t) >= 2000 && atoi(t) <= 2099;
}

static int
s_year_ok(const char *t)
{
    if (!t || strlen(t) != 4) {
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        if (t[i] < '0' || t[i] > '9') {
            return 0;
        }
    }
    int y = atoi(t);
    return y >= 2000 && y <= 2099;
}

/* "YYYY-MM-DD HH:MM" UTC of Unix ms. */
static void
s_when(int64_t ms, char out[32])
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%d %H:%M", &tm) == 0) {
        snprintf(out, 32, "-");
    }
}

int
county_lock_approval_store(sqlite3 *db,
                           int64_t eid,
                           const char *township,
                           const char *month,
                           const char *officer,
                           const char *account,
                           int64_t created_ms)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           "INSERT OR IGNORE INTO approvals(eid, township, month, officer,"
                           " account, created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                           &st);
    if (rc == SJ_OK) {
        sqlite3_bind_int64(st, 1, eid);
        sqlite3_bind_text(st, 2, township, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, month, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, officer, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, account ? account : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, created_ms);
        rc = sj_db_step_done(db, st, "approval");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Runs sql with ?1 = text a, ?2 = int64 b (when b >= 0); done. */
static int
s_run(sqlite3 *db, const char *sql, const char *a, int64_t b, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, sql, &st);
    if (rc == SJ_OK) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b >= 0) {
            sqlite3_bind_int64(st, 2, b);
        }
        rc = sj_db_step_done(db, st, what);
    }
    sqlite3_finalize(st);
    return rc;
}

int
county_lock_period(sqlite3 *db, const char *period, const char *who, char *err, size_t err_size)
{
    assert(db && period && who);
    int is_month = county_lock_month_ok(period);
    if (!is_month && !s_year_ok(period)) {
        snprintf(err, err_size, _("'%s' is not a month YYYY-MM or a year YYYY"), period);
        return SJ_EINVAL;
    }
    int rc = sj_db_begin(db);
    if (rc != SJ_OK) {
        snprintf(err, err_size, _("cannot begin: %s"), sqlite3_errmsg(db));
        return rc;
    }
    /* a month of the period already locked? */
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(
        db,
        "SELECT lm.month, l.period, l.who, l.created_ms FROM lock_months lm"
        " JOIN locks l ON l.id = lm.lock_id WHERE substr(lm.month, 1, length(?1)) = ?1"
        " OR l.period = ?1 ORDER BY lm.month LIMIT 1",
        &st);
    if (rc == SJ_OK) {
        sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            char when[32];
            s_when(sqlite3_column_int64(st, 3), when);
            snprintf(err, err_size,
                     _("%s is already locked (已锁定): month %s, locked as %s by %s at %s UTC; a "
                       "period is locked once"),
                     period, (const char *) sqlite3_column_text(st, 0),
                     (const char *) sqlite3_column_text(st, 1),
                     (const char *) sqlite3_column_text(st, 2), when);
            rc = SJ_EINVAL;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    int64_t lock_id = 0;
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db,
                           "INSERT INTO locks(period, who, created_ms, through_eid)"
                           " VALUES(?1, ?2, ?3, (SELECT coalesce(max(eid), 0) FROM events))",
                           &st);
        if (rc == SJ_OK) {
            sqlite3_bind_text(st, 1, period, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, sj_now_ms());
            rc = sj_db_step_done(db, st, "lock");
        }
        sqlite3_finalize(st);
        lock_id = sqlite3_last_insert_rowid(db);
    }
    if (rc == SJ_OK) {
        /* the months: one, or the twelve of the year */
        rc = s_run(db,
                   is_month ? "INSERT INTO lock_months(month, lock_id) VALUES(?1, ?2)"
                            : "WITH RECURSIVE m(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM m"
                              " WHERE i < 12) INSERT INTO lock_months(month, lock_id)"
                              " SELECT ?1 || '-' || printf('%02d', i), ?2 FROM m",
                   period, lock_id, "lock months");
    }
    if (rc == SJ_OK) {
        rc = s_run(db,
                   "INSERT INTO lock_figures(lock_id, month, township, level, kind, channel,"
                   " outcome, source, category, n, persons)"
                   " SELECT ?2, substr(occurred_on, 1, 7), township, level, kind, channel,"
                   " outcome, source, category, count(*), coalesce(sum(persons), 0)"
                   " FROM matters WHERE substr(occurred_on, 1, length(?1)) = ?1"
                   " GROUP BY 2, 3, 4, 5, 6, 7, 8, 9",
                   period, lock_id, "lock figures");
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    } else {
        sj_db_rollback(db);
        if (!err[0]) {
            snprintf(err, err_size, _("cannot lock %s: %s"), period, sqlite3_errmsg(db));
        }
    }
    return rc;
}

/* ?1: the year ("" every year) */
static void
s_bind_year(sqlite3_stmt *st, const char *year)
{
    sqlite3_bind_text(st, 1, year ? year : "", -1, SQLITE_TRANSIENT);
}

int
county_lock_approvals_write(sqlite3 *db, const char *year, int json, FILE *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           "SELECT month, township, officer, account, created_ms FROM approvals"
                           " WHERE ?1 = '' OR substr(month, 1, 4) = ?1 ORDER BY month, township,"
                           " eid",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    s_bind_year(st, year);
    if (json) {
        fputs("[", out);
    } else {
        fprintf(out, "%-8s %-10s %-20s %s\n", "MONTH", "TOWNSHIP", "APPROVED (UTC)", "BY");
    }
    int step, n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char when[32];
        s_when(sqlite3_column_int64(st, 4), when);
        const char *month = (const char *) sqlite3_column_text(st, 0);
        const char *town = (const char *) sqlite3_column_text(st, 1);
        const char *officer = (const char *) sqlite3_column_text(st, 2);
        const char *account = (const char *) sqlite3_column_text(st, 3);
        const char *by = account && account[0] ? account : officer;
        if (json) {
            /* codes, months and dates are plain; the name may need escapes */
            fprintf(out, "%s{\"month\":\"%s\",\"township\":\"%s\",\"at\":\"%s\",\"by\":\"",
                    n ? "," : "", month, town, when);
            for (const char *p = by; p && *p; p++) {
                if (*p == '"' || *p == '\\') {
                    fputc('\\', out);
                }
                if ((unsigned char) *p < 0x20) {
                    fprintf(out, "\\u%04x", (unsigned char) *p);
                } else {
                    fputc(*p, out);
                }
            }
            fputs("\"}", out);
        } else {
            fprintf(out, "%-8s %-10s %-20s %s\n", month, town, when, by);
        }
        n++;
    }
    if (json) {
        fputs("]\n", out);
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? SJ_OK : SJ_EDB;
}

int
county_lock_locks_write(sqlite3 *db, const char *year, int json, FILE *out)
{
    (void) json;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           "SELECT period, who, created_ms FROM locks"
                           " WHERE ?1 = '' OR substr(period, 1, 4) = ?1 ORDER BY period",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    s_bind_year(st, year);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char when[32];
        s_when(sqlite3_column_int64(st, 2), when);
        fprintf(out, "locked (已锁定) %s by %s at %s UTC\n",
                (const char *) sqlite3_column_text(st, 0),
                (const char *) sqlite3_column_text(st, 1), when);
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? SJ_OK : SJ_EDB;
}

/* The amendments: corrections and voids applied to a matter of a locked
 * month that arrived after its lock. */
static const char s_amend_sql[] =
    "SELECT e.raw, lm.month, coalesce(m.township, v.township), l.period FROM fixes f"
    " JOIN events e ON e.eid = f.eid"
    " LEFT JOIN matters m ON m.id = f.case_id"
    " LEFT JOIN matters_voided v ON v.id = f.case_id"
    " JOIN lock_months lm ON lm.month = substr(coalesce(m.occurred_on, v.occurred_on), 1, 7)"
    " JOIN locks l ON l.id = lm.lock_id"
    " WHERE f.applied = 1 AND f.eid > l.through_eid AND (?1 = '' OR substr(lm.month, 1, 4) = ?1)"
    " ORDER BY f.eid";

/* Writes text, HTML-escaped when html. */
static void
s_put(const char *text, int html, FILE *out)
{
    for (const char *p = text; p && *p; p++) {
        if (html && (*p == '<' || *p == '>' || *p == '&' || *p == '"')) {
            fputs(*p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;" : "&quot;", out);
        } else {
            fputc(*p, out);
        }
    }
}

/* One amendment line: when, the event, the matter, what changed. */
static void
s_amend_line(
    const sj_event_t *ev, const char *month, const char *town, int zh, int md, int html, FILE *out)
{
    char id[SJ_UUID_TEXT], case_id[SJ_UUID_TEXT], when[32];
    sj_uuid_format(ev->id, id);
    sj_uuid_format(ev->case_id, case_id);
    s_when(ev->created_ms, when);
    const char *what = ev->type == SJ_EVENT_VOID ? (zh ? "作废" : "void (作废)")
                                                 : (zh ? "更正" : "correction (更正)");
    char fields[160] = "";
    if (ev->type == SJ_EVENT_CORRECTION) {
        const sj_report_t *r = &ev->report;
        snprintf(fields, sizeof fields, "%s%s%s%s%s%s%s%s", r->occurred_on[0] ? " occurred" : "",
                 r->channel ? " channel" : "", r->kind ? " kind" : "", r->persons ? " persons" : "",
                 r->level ? " level" : "", r->category ? " category" : "",
                 r->source ? " source" : "", ev->summary[0] ? " summary" : "");
    }
    fprintf(out, "%s%s UTC  %s  %s %s  %s %s  %s %s  %s%s: ", md ? "- " : "", when, month,
            zh ? "乡镇" : "township", town ? town : "-", zh ? "事项" : "case", case_id,
            zh ? "事件" : "event", id, what, fields);
    s_put(ev->note, html, out);
    fputc('\n', out);
}

static int
s_amendments(sqlite3 *db, const char *year, int zh, int md, int html, FILE *out, int *count)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, s_amend_sql, &st);
    if (rc != SJ_OK) {
        return rc;
    }
    s_bind_year(st, year);
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        sqlite3_finalize(st);
        return SJ_ENOMEM;
    }
    int step;
    *count = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char why[128];
        if (sj_event_decode(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), ev,
                            why, sizeof why)
            != SJ_OK) {
            continue;
        }
        s_amend_line(ev, (const char *) sqlite3_column_text(st, 1),
                     (const char *) sqlite3_column_text(st, 2), zh, md, html, out);
        (*count)++;
    }
    free(ev);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? SJ_OK : SJ_EDB;
}

int
county_lock_amendments_write(sqlite3 *db, const char *year, int json, FILE *out)
{
    (void) json;
    int n = 0;
    int rc = s_amendments(db, year, 0, 0, 0, out, &n);
    if (rc == SJ_OK && n == 0) {
        fprintf(out, "no amendments (无修正)\n");
    }
    return rc;
}

int
county_lock_report_write(sqlite3 *db, int year, int zh, int html, FILE *out)
{
    char y[8];
    snprintf(y, sizeof y, "%04d", year);
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(
        db,
        "SELECT l.period, l.who, l.created_ms,"
        " (SELECT coalesce(sum(n), 0) FROM lock_figures WHERE lock_id = l.id),"
        " (SELECT coalesce(sum(persons), 0) FROM lock_figures WHERE lock_id = l.id),"
        " (SELECT count(*) FROM matters WHERE substr(occurred_on, 1, length(l.period)) = l.period),"
        " (SELECT coalesce(sum(persons), 0) FROM matters"
        "  WHERE substr(occurred_on, 1, length(l.period)) = l.period)"
        " FROM locks l WHERE substr(l.period, 1, 4) = ?1 ORDER BY l.period",
        &st);
    if (rc != SJ_OK) {
        return rc;
    }
    s_bind_year(st, y);
    int step, n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == 0) {
            fprintf(out, html ? "<h3>%s</h3>\n<ul>\n" : "\n### %s\n\n",
                    zh ? "锁定数字与修正" : "Locked figures and amendments");
        }
        char when[32];
        s_when(sqlite3_column_int64(st, 2), when);
        long long ln = sqlite3_column_int64(st, 3), lp = sqlite3_column_int64(st, 4);
        long long nn = sqlite3_column_int64(st, 5), np = sqlite3_column_int64(st, 6);
        const char *period = (const char *) sqlite3_column_text(st, 0);
        const char *who = (const char *) sqlite3_column_text(st, 1);
        if (zh) {
            fprintf(out, "%s%s 已于 %s (UTC) 由 ", html ? "<li>" : "- ", period, when);
            s_put(who, html, out);
            fprintf(out,
                    " 锁定。锁定数字：%lld 件（批）次、%lld 人次；"
                    "修正后：%lld 件（批）次、%lld 人次。%s\n",
                    ln, lp, nn, np, html ? "</li>" : "");
        } else {
            fprintf(out, "%s%s locked by ", html ? "<li>" : "- ", period);
            s_put(who, html, out);
            fprintf(out,
                    " at %s UTC. Locked figure: %lld matters, %lld "
                    "person-times; amended: %lld matters, %lld person-times.%s\n",
                    when, ln, lp, nn, np, html ? "</li>" : "");
        }
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        return SJ_EDB;
    }
    if (n == 0) {
        return SJ_OK;
    }
    if (html) {
        fputs("</ul>\n<pre>\n", out);
    } else {
        fprintf(out, "\n%s\n\n", zh ? "锁定后的修正：" : "Amendments since the lock:");
    }
    int count = 0;
    rc = s_amendments(db, y, zh, !html, html, out, &count);
    if (rc == SJ_OK && count == 0) {
        fprintf(out, "%s%s\n", html ? "" : "- ", zh ? "无" : "none");
    }
    fputs(html ? "</pre>\n" : "\n", out);
    return rc;
}

/* A JSON string of text (or null). */
static void
s_json_str(const char *text, FILE *out)
{
    if (!text) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p, out);
        } else if ((unsigned char) *p < 0x20) {
            fprintf(out, "\\u%04x", (unsigned char) *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

int
county_lock_signoff_write(sqlite3 *db, FILE *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(
        db,
        "WITH tm(township, month) AS (SELECT township, month FROM approvals"
        " UNION SELECT township, month FROM lock_figures"
        " UNION SELECT DISTINCT township, substr(day, 1, 7) FROM tally_place"
        "  WHERE day >= date('now', 'start of month', '-2 months') AND items > 0)"
        " SELECT tm.township, tm.month,"
        " (SELECT coalesce(nullif(account, ''), officer) FROM approvals a"
        "  WHERE a.township = tm.township AND a.month = tm.month ORDER BY eid DESC LIMIT 1),"
        " (SELECT created_ms FROM approvals a"
        "  WHERE a.township = tm.township AND a.month = tm.month ORDER BY eid DESC LIMIT 1),"
        " l.who, l.created_ms,"
        " l.id IS NOT NULL AND EXISTS(SELECT 1 FROM fixes f"
        "  LEFT JOIN matters m ON m.id = f.case_id LEFT JOIN matters_voided v ON v.id = f.case_id"
        "  WHERE f.applied = 1 AND f.eid > l.through_eid"
        "  AND coalesce(m.township, v.township) = tm.township"
        "  AND substr(coalesce(m.occurred_on, v.occurred_on), 1, 7) = tm.month)"
        " FROM tm LEFT JOIN lock_months lm ON lm.month = tm.month"
        " LEFT JOIN locks l ON l.id = lm.lock_id"
        " ORDER BY tm.month DESC, tm.township LIMIT 1000",
        &st);
    if (rc != SJ_OK) {
        return rc;
    }
    fputs("{\"rows\":[", out);
    int step, n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int approved = sqlite3_column_type(st, 2) != SQLITE_NULL;
        int locked = sqlite3_column_type(st, 4) != SQLITE_NULL;
        int amended = sqlite3_column_int(st, 6);
        const char *state = amended    ? "amended"
                            : locked   ? "locked"
                            : approved ? "approved"
                                       : "open";
        fputs(n++ ? ",{\"township\":" : "{\"township\":", out);
        s_json_str((const char *) sqlite3_column_text(st, 0), out);
        fputs(",\"month\":", out);
        s_json_str((const char *) sqlite3_column_text(st, 1), out);
        fprintf(out, ",\"state\":\"%s\",\"approved_by\":", state);
        s_json_str((const char *) sqlite3_column_text(st, 2), out);
        if (approved) {
            fprintf(out, ",\"approved_ms\":%lld", (long long) sqlite3_column_int64(st, 3));
        } else {
            fputs(",\"approved_ms\":null", out);
        }
        fputs(",\"locked_by\":", out);
        s_json_str((const char *) sqlite3_column_text(st, 4), out);
        if (locked) {
            fprintf(out, ",\"locked_ms\":%lld}", (long long) sqlite3_column_int64(st, 5));
        } else {
            fputs(",\"locked_ms\":null}", out);
        }
    }
    fputs("]}\n", out);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? SJ_OK : SJ_EDB;
}
