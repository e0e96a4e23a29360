/* county_query: the county staff's reading commands (stats, list, show)
 * over the master database, see county_query.h.
 *
 * SQL is assembled at run time, but only from fixed pieces: the dimension
 * expressions of s_dims and the filter clauses of s_where_build. Every value
 * a user typed (dates, codes, enum names turned into numbers, the limit, the
 * id) is a bound parameter, so nothing from the command line is ever parsed
 * as SQL.
 *
 * stats is one GROUP BY over matters: SQLite does the counting and C only
 * formats the groups (a few hundred at most), which keeps a 10-million-row
 * table within the one-second budget. The grand total is the sum of the
 * groups, so it always agrees with the rows.
 *
 * Nothing here ever prints matters.sealed or matters.officer in a listing:
 * list shows no personal field, and show only says whether sealed data
 * exists. Text that came from stations goes through sj_table (or s_put_safe
 * for show's "field: value" lines), which keeps control characters away from
 * the operator's terminal. */
#include "county_query.h"

#include "sj_keys.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sj_case.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"

#define COUNTY_QUERY_MAX_DIMS  10   /* every dimension at most once */
#define COUNTY_QUERY_MAX_BINDS 12   /* filters that take a value, plus limit */
#define COUNTY_QUERY_SQL_MAX   2048 /* longest SQL the fixed pieces can make */
#define COUNTY_QUERY_NUM       24   /* decimal int64 with sign and NUL */
#define COUNTY_QUERY_TIME      32   /* "YYYY-MM-DDTHH:MM:SSZ" and room */
#define COUNTY_LIST_NCOLS      12
#define COUNTY_PERSONAL_NCOLS  4
#define COUNTY_SHOW_NCOLS      17

/* A --by dimension: its name (also the column name) and the SQL expression
 * it groups on. field is an sj_field_t for enum columns (stored as 1..n,
 * printed by name) and -1 for text columns. */
typedef struct {
    const char *name; /* as in --by and the column header */
    const char *expr; /* SQL expression grouped on (fixed text) */
    int field;        /* sj_field_t of an enum column, -1 for text */
    /* the same over each tally table (county_store.h), NULL: not there */
    const char *place_expr, *kind_expr, *field_expr;
} s_dim_t;

static const s_dim_t s_dims[] = {
    {"channel", "channel", SJ_FIELD_CHANNEL, NULL, "channel", "value"},
    {"kind", "kind", SJ_FIELD_KIND, NULL, "kind", "value"},
    {"level", "level", SJ_FIELD_LEVEL, NULL, "level", "value"},
    {"category", "category", SJ_FIELD_CATEGORY, NULL, "category", "value"},
    {"outcome", "outcome", SJ_FIELD_OUTCOME, NULL, "outcome", "value"},
    {"source", "source", SJ_FIELD_SOURCE, NULL, "source", "value"},
    {"station", "origin", -1, "origin", NULL, NULL},
    {"township", "township", -1, "township", NULL, "township"},
    {"month", "substr(occurred_on, 1, 7)", -1, "substr(day, 1, 7)", "month", "month"},
    /* each outcome a matter ever had (see s_ever_sql): a matter is in the
     * row of every outcome it reached; never from a tally */
    {"ever_outcome", "ever_outcome", SJ_FIELD_OUTCOME, NULL, NULL, NULL},
};

/* Where stats counts: every matter, or one of the tallies kept ahead by the
 * store (schema 5), whichever holds every --by dimension and filter. */
typedef enum { S_SRC_MATTERS = 0, S_SRC_PLACE, S_SRC_KIND, S_SRC_FIELD } s_src_t;
static const char *const s_src_table[] = {"matters", "tally_place", "tally_kind", "tally_field"};
#define COUNTY_QUERY_NDIMS (sizeof s_dims / sizeof s_dims[0])

/* A WHERE clause made of fixed text and the values to bind to its '?'s, in
 * order. Text values are borrowed from the filter. */
typedef struct {
    char sql[512]; /* "" or " WHERE ... AND ..." */
    size_t len;    /* strlen(sql) */
    int n;         /* values in binds */
    struct {
        const char *text;    /* bound as text when not NULL */
        sqlite3_int64 value; /* bound as an integer otherwise */
    } binds[COUNTY_QUERY_MAX_BINDS];
} s_where_t;

static const char s_list_sql[] =
    "SELECT id, occurred_on, origin, township, channel, kind, persons, level, category, outcome,"
    " source, summary, sealed FROM matters";

static const char *const s_personal_names[COUNTY_PERSONAL_NCOLS] = {
    "petitioner_name", "petitioner_id", "petitioner_phone", "petitioner_address"};

/* Opens a sealed blob into the four petitioner cells (copied into bufs). An
 * empty or unopenable blob gives empty cells and *bad = 1 for the latter. */
static void
s_personal_cells(const void *sealed, size_t len, const sj_keypair_t *kp,
                 char bufs[COUNTY_PERSONAL_NCOLS][512], const char **cells, int *bad)
{
    *bad = 0;
    for (int i = 0; i < COUNTY_PERSONAL_NCOLS; i++) {
        bufs[i][0] = '\0';
        cells[i] = bufs[i];
    }
    if (!sealed || len == 0) {
        return;
    }
    char *json = NULL;
    if (sj_personal_open(sealed, len, kp->pk, kp->sk, &json) != SJ_OK) {
        *bad = 1;
        return;
    }
    cJSON *obj = cJSON_Parse(json);
    for (int i = 0; obj && i < COUNTY_PERSONAL_NCOLS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, s_personal_names[i]);
        if (cJSON_IsString(v)) {
            snprintf(bufs[i], 512, "%s", v->valuestring);
        }
    }
    *bad = obj == NULL;
    cJSON_Delete(obj);
    sodium_memzero(json, strlen(json));
    free(json);
}

static const char s_show_sql[] =
    "SELECT m.id, m.occurred_on, m.origin, m.township, m.channel, m.kind, m.persons, m.level,"
    " m.category, m.outcome, m.source, m.summary, m.officer, e.origin_seq, m.created_ms,"
    " m.received_ms, m.sealed IS NOT NULL"
    " FROM matters AS m LEFT JOIN events AS e ON e.id = m.id WHERE m.id = ?";

/* Appends fixed SQL text. The pieces are bounded, so overflow is a bug. */
static void
s_sql_add(char *buf, size_t size, size_t *len, const char *text)
{
    size_t n = strlen(text);
    assert(*len + n < size);
    memcpy(buf + *len, text, n + 1);
    *len += n;
}

/* Fills err from a failed SQLite call and maps the code (STYLE 7: BUSY and
 * LOCKED are worth a retry, the rest is a database error). The caller
 * reports err; the SQL goes to the debug log. */
static int
s_db_fail(sqlite3 *db, int rc, const char *what, const char *sql, char *err, size_t err_size)
{
    snprintf(err, err_size, "%s: %s", what, sqlite3_errmsg(db));
    sj_debug("county_query: %s failed (%d): %s", what, rc, sql);
    int prim = rc & 0xff;
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
        return SJ_EAGAIN;
    }
    if (prim == SQLITE_NOMEM) {
        return SJ_ENOMEM;
    }
    return SJ_EDB;
}

static int
s_nomem(char *err, size_t err_size)
{
    snprintf(err, err_size, "out of memory");
    return SJ_ENOMEM;
}

static int
s_write_fail(int rc, char *err, size_t err_size)
{
    if (rc == SJ_ENOMEM) {
        return s_nomem(err, err_size);
    }
    snprintf(err, err_size, "cannot write the output");
    return rc;
}

/* Name of an enum value read from the database; a value outside 1..n means
 * the file was altered behind SQLite's CHECK constraints. */
static int
s_enum_cell(sj_field_t field, int value, const char **name, char *err, size_t err_size)
{
    *name = sj_enum_name(field, value);
    if (!*name) {
        snprintf(err, err_size, "the database holds %s value %d, which is not valid (damaged?)",
                 sj_field_name(field), value);
        return SJ_EDB;
    }
    return SJ_OK;
}

/* Text of a column; NULL only on OOM (a NULL value reads as ""). */
static const char *
s_col_text(sqlite3_stmt *st, int col)
{
    const char *text = (const char *) sqlite3_column_text(st, col);
    if (!text && sqlite3_column_type(st, col) == SQLITE_NULL) {
        return "";
    }
    return text;
}

static int
s_check_enum(const char *option, sj_field_t field, const char *name, char *err, size_t err_size)
{
    if (!name || sj_enum_value(field, name) != 0) {
        return SJ_OK;
    }
    char list[256];
    sj_enum_list(field, list, sizeof list);
    snprintf(err, err_size, "--%s '%s' is not one of %s", option, name, list);
    return SJ_EINVAL;
}

static int
s_check_date(const char *option, const char *date, char *err, size_t err_size)
{
    if (!date || sj_date_valid(date)) {
        return SJ_OK;
    }
    snprintf(err, err_size, "--%s '%s' is not a date (YYYY-MM-DD)", option, date);
    return SJ_EINVAL;
}

static void
s_where_add(s_where_t *w, const char *clause, const char *text, sqlite3_int64 value)
{
    assert(w->n < COUNTY_QUERY_MAX_BINDS);
    s_sql_add(w->sql, sizeof w->sql, &w->len, w->n == 0 ? " WHERE " : " AND ");
    s_sql_add(w->sql, sizeof w->sql, &w->len, clause);
    w->binds[w->n].text = text;
    w->binds[w->n].value = value;
    w->n++;
}

/* Builds the WHERE clause of a checked filter (NULL = everything). Enum
 * names become their stored numbers here. */
static void
s_where_build(const county_filter_t *f, s_where_t *w)
{
    memset(w, 0, sizeof *w);
    if (!f) {
        return;
    }
    if (f->from) {
        s_where_add(w, "occurred_on >= ?", f->from, 0);
    }
    if (f->to) {
        s_where_add(w, "occurred_on <= ?", f->to, 0);
    }
    if (f->township) {
        s_where_add(w, "township = ?", f->township, 0);
    }
    if (f->station) {
        s_where_add(w, "origin = ?", f->station, 0);
    }
    const char *names[SJ_FIELD_COUNT] = {f->channel,  f->kind,    f->level,
                                         f->category, f->outcome, f->source};
    static const char *const clauses[SJ_FIELD_COUNT] = {
        "channel = ?", "kind = ?", "level = ?", "category = ?", "outcome = ?", "source = ?"};
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        if (names[i]) {
            s_where_add(w, clauses[i], NULL, sj_enum_value((sj_field_t) i, names[i]));
        }
    }
}

/* Binds the WHERE values from parameter 1 on. Text is SQLITE_STATIC: it is
 * the caller's filter, which outlives the statement. */
static int
s_where_bind(
    sqlite3 *db, sqlite3_stmt *st, const s_where_t *w, const char *sql, char *err, size_t err_size)
{
    for (int i = 0; i < w->n; i++) {
        int rc = w->binds[i].text
                     ? sqlite3_bind_text(st, i + 1, w->binds[i].text, -1, SQLITE_STATIC)
                     : sqlite3_bind_int64(st, i + 1, w->binds[i].value);
        if (rc != SQLITE_OK) {
            return s_db_fail(db, rc, "cannot bind a filter", sql, err, err_size);
        }
    }
    return SJ_OK;
}

/* Is date (valid YYYY-MM-DD) the last day of its month? */
static int
s_month_last_day(const char *date)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
    if (m < 1 || m > 12) {
        return 0;
    }
    int last = days[m - 1] + (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    return d == last;
}

/* The source that holds every dimension and filter of a stats query: the
 * tallies when they can answer exactly (tally_kind only by whole months, so
 * --from must be a first and --to a last day of a month), else matters. */
/* The one enum field a tally_field query is about (schema 7: month x
 * township x one field), or -1 when tally_field cannot answer: a dimension
 * it lacks (station), a --station filter, dates that are not whole months,
 * or two enum fields among the dimensions and filters. */
static int
s_field_of(const int *dims, size_t ndims, const county_filter_t *f)
{
    int fx = -1;
    for (size_t i = 0; i < ndims; i++) {
        const s_dim_t *d = &s_dims[dims[i]];
        if (!d->field_expr || (d->field >= 0 && fx >= 0 && fx != d->field)) {
            return -1;
        }
        fx = d->field >= 0 ? d->field : fx;
    }
    if (f) {
        if (f->station || (f->from && strcmp(f->from + 8, "01") != 0)
            || (f->to && !s_month_last_day(f->to))) {
            return -1;
        }
        const char *names[SJ_FIELD_COUNT] = {f->channel,  f->kind,    f->level,
                                             f->category, f->outcome, f->source};
        for (int i = 0; i < SJ_FIELD_COUNT; i++) {
            if (names[i] && fx >= 0 && fx != i) {
                return -1;
            }
            fx = names[i] ? i : fx;
        }
    }
    return fx;
}

static s_src_t
s_stats_source(const int *dims, size_t ndims, const county_filter_t *f)
{
    int place = 1, kind = 1;
    for (size_t i = 0; i < ndims; i++) {
        place = place && s_dims[dims[i]].place_expr;
        kind = kind && s_dims[dims[i]].kind_expr;
    }
    if (f) {
        int enums = f->channel || f->kind || f->level || f->category || f->outcome || f->source;
        place = place && !enums;
        kind = kind && !f->township && !f->station && (!f->from || strcmp(f->from + 8, "01") == 0)
               && (!f->to || s_month_last_day(f->to));
    }
    return place                             ? S_SRC_PLACE
           : kind                            ? S_SRC_KIND
           : s_field_of(dims, ndims, f) >= 0 ? S_SRC_FIELD
                                             : S_SRC_MATTERS;
}

/* The WHERE clause of a checked filter over a tally (s_stats_source chose
 * it, so it holds every filter). */
static void
s_where_build_tally(const county_filter_t *f, s_src_t src, int fx, s_where_t *w)
{
    if (src == S_SRC_MATTERS) {
        s_where_build(f, w);
        return;
    }
    memset(w, 0, sizeof *w);
    if (src == S_SRC_FIELD) { /* one field's rows: each matter counted once */
        s_where_add(w, "field = ?", NULL, fx);
    }
    if (!f) {
        return;
    }
    const char *from = src == S_SRC_PLACE ? "day >= ?" : "month >= substr(?, 1, 7)";
    const char *to = src == S_SRC_PLACE ? "day <= ?" : "month <= substr(?, 1, 7)";
    if (f->from) {
        s_where_add(w, from, f->from, 0);
    }
    if (f->to) {
        s_where_add(w, to, f->to, 0);
    }
    if (src != S_SRC_KIND && f->township) {
        s_where_add(w, "township = ?", f->township, 0);
    }
    if (src == S_SRC_PLACE) {
        if (f->station) {
            s_where_add(w, "origin = ?", f->station, 0);
        }
        return;
    }
    const char *names[SJ_FIELD_COUNT] = {f->channel,  f->kind,    f->level,
                                         f->category, f->outcome, f->source};
    if (src == S_SRC_FIELD) { /* s_field_of: a filter on field fx at most */
        if (names[fx]) {
            s_where_add(w, "value = ?", NULL, sj_enum_value((sj_field_t) fx, names[fx]));
        }
        return;
    }
    static const char *const clauses[SJ_FIELD_COUNT] = {
        "channel = ?", "kind = ?", "level = ?", "category = ?", "outcome = ?", "source = ?"};
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        if (names[i]) {
            s_where_add(w, clauses[i], NULL, sj_enum_value((sj_field_t) i, names[i]));
        }
    }
}

/* Parses the comma-separated dims of `by` into indexes of s_dims. Spaces
 * around names are allowed ("level, kind"). */
static int
s_parse_by(const char *by, int *dims, size_t *ndims, char *err, size_t err_size)
{
    *ndims = 0;
    if (!by || !*by) {
        return SJ_OK;
    }
    char valid[200];
    size_t vlen = 0;
    valid[0] = '\0';
    for (size_t d = 0; d < COUNTY_QUERY_NDIMS; d++) {
        s_sql_add(valid, sizeof valid, &vlen, d ? ", " : "");
        s_sql_add(valid, sizeof valid, &vlen, s_dims[d].name);
    }
    const char *p = by;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t) (end - p) : strlen(p);
        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        size_t d = 0;
        while (d < COUNTY_QUERY_NDIMS
               && (strlen(s_dims[d].name) != n || strncmp(s_dims[d].name, p, n) != 0)) {
            d++;
        }
        if (d == COUNTY_QUERY_NDIMS) {
            int shown = n > 64 ? 64 : (int) n;
            snprintf(err, err_size, "--by: unknown dimension '%.*s' (use %s)", shown, p, valid);
            return SJ_EINVAL;
        }
        for (size_t i = 0; i < *ndims; i++) {
            if (dims[i] == (int) d) {
                snprintf(err, err_size, "--by: dimension '%s' is given twice", s_dims[d].name);
                return SJ_EINVAL;
            }
        }
        assert(*ndims < COUNTY_QUERY_MAX_DIMS);
        dims[(*ndims)++] = (int) d;
        if (!end) {
            return SJ_OK;
        }
        p = end + 1;
    }
}

/* Formats ms since the epoch as ISO 8601 UTC, "2024-03-01T08:00:00Z". */
static void
s_iso_utc(sqlite3_int64 ms, char out[COUNTY_QUERY_TIME])
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(out, COUNTY_QUERY_TIME, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, COUNTY_QUERY_TIME, "%" PRId64 " ms", (int64_t) ms);
    }
}

/* Writes station-supplied text for a terminal: C0 controls, DEL and C1
 * controls print as a space; when the text is not UTF-8 at all, every
 * non-ASCII byte prints as '?'. */
static int
s_put_safe(FILE *out, const char *s)
{
    int utf8 = sj_utf8_valid(s, strlen(s));
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        int c = *p;
        if (c < 0x20 || c == 0x7F) {
            c = ' ';
        } else if (c >= 0x80 && !utf8) {
            c = '?';
        } else if (c == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            c = ' ';
            p++;
        }
        if (fputc(c, out) == EOF) {
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

int
county_filter_check(const county_filter_t *f, char *err, size_t err_size)
{
    if (!f) {
        return SJ_OK;
    }
    if (s_check_date("from", f->from, err, err_size) != SJ_OK
        || s_check_date("to", f->to, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    /* YYYY-MM-DD compares as text in date order. */
    if (f->from && f->to && strcmp(f->from, f->to) > 0) {
        snprintf(err, err_size, "--from %s is after --to %s", f->from, f->to);
        return SJ_EINVAL;
    }
    if (f->township && sj_code_level(f->township) != 9) {
        snprintf(err, err_size, "--township '%s' is not a 9-digit township code", f->township);
        return SJ_EINVAL;
    }
    if (f->station && sj_code_level(f->station) != 12) {
        snprintf(err, err_size, "--station '%s' is not a 12-digit village code", f->station);
        return SJ_EINVAL;
    }
    if (s_check_enum("channel", SJ_FIELD_CHANNEL, f->channel, err, err_size) != SJ_OK
        || s_check_enum("kind", SJ_FIELD_KIND, f->kind, err, err_size) != SJ_OK
        || s_check_enum("level", SJ_FIELD_LEVEL, f->level, err, err_size) != SJ_OK
        || s_check_enum("category", SJ_FIELD_CATEGORY, f->category, err, err_size) != SJ_OK
        || s_check_enum("outcome", SJ_FIELD_OUTCOME, f->outcome, err, err_size) != SJ_OK
        || s_check_enum("source", SJ_FIELD_SOURCE, f->source, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    if (f->limit < 0) {
        snprintf(err, err_size, "--limit %ld is negative", f->limit);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* ---- stats: matters and their case figures ----
 *
 * Every group gets, besides items and persons, the figures of its matters
 * as cases (definitions in county_query.h and the README). Three queries,
 * all within one read transaction so they see one snapshot:
 *   1. the GROUP BY over matters: items, persons, open, concluded,
 *      withdrawn and the reported-source=assigned counts (cheap sums over
 *      the columns already read, so plain stats stays one pass);
 *   2. from the assignments side (a small table): each case's current
 *      assignment, joined to its matter by primary key, adds the assigned
 *      cases that were not reported as assigned and the overdue ones;
 *   3. from the status_changes side: the time of the change that concluded
 *      each concluded case, for the median days to close. Concluded cases
 *      without an applied change took 0 days (the report itself concluded
 *      them), so they are counted, not listed.
 * The rows of 2 and 3 are added to the group of 1 with the same dim values
 * (looked up by a key of the printed cells). */

/* Stored outcome and source numbers (sj_model.h), as written in the SQL
 * below; s_case_consts_ok checks them against the model at run time. */
#define S_CONCLUDED_SQL "outcome IN " SJ_OUTCOME_CONCLUDED_SQL
/* 1 for a concluded matter, 2^32 for a withdrawn one, 0 for an open one */
#define S_CLASS_SQL                                                                             \
    "CASE outcome WHEN " SJ_CASE_STR(SJ_OUTCOME_RESOLVED_ON_SPOT) " THEN 1 WHEN " SJ_CASE_STR(  \
        SJ_OUTCOME_CLOSED) " THEN 1 WHEN " SJ_CASE_STR(SJ_OUTCOME_WITHDRAWN) " THEN 4294967296" \
                                                                             " ELSE 0 END"
/* A time to close outside +-100 years comes from a clock that cannot be
 * right (a created_ms of INT64_MAX made the median -106751991167.3 days):
 * such a case is left out of the median, not counted as 0 days. */
#define S_CLOSE_MAX_MS (100LL * 366 * 86400000LL)
#define S_MS_PER_DAY 86400000.0
#define S_KEY_MAX    1024

static int
s_case_consts_ok(void)
{
    return sj_enum_value(SJ_FIELD_OUTCOME, "pending") == 1
           && sj_enum_value(SJ_FIELD_OUTCOME, "resolved_on_spot") == 2
           && sj_enum_value(SJ_FIELD_OUTCOME, "accepted") == 3
           && sj_enum_value(SJ_FIELD_OUTCOME, "closed") == 4
           && sj_enum_value(SJ_FIELD_OUTCOME, "withdrawn") == 5
           && sj_enum_value(SJ_FIELD_SOURCE, "assigned") == 3;
}

static int
s_is_open(int outcome)
{
    return sj_outcome_is_open(outcome);
}

static int
s_is_concluded(int outcome)
{
    return sj_outcome_is_concluded(outcome);
}

/* The current assignment of every assigned case: its row with the greatest
 * (created_ms, eid). Column names are prefixed so that they never clash
 * with the matters columns the filters and dims name unqualified. */
static const char s_current_assignment_sql[] =
    "(SELECT case_id AS a_case, due_on AS a_due, assignee AS a_to FROM"
    " (SELECT case_id, due_on, assignee, row_number() OVER"
    "  (PARTITION BY case_id ORDER BY created_ms DESC, eid DESC) AS a_rn FROM assignments)"
    " WHERE a_rn = 1)";

/* Per case with a change in force: the time of that change (applied = 2,
 * the head of the walk; county_store.c). */
static const char s_last_change_sql[] =
    "(SELECT case_id AS c_case, created_ms AS c_last FROM status_changes WHERE applied = 2)";

/* The rows stats counts from when --by has ever_outcome: each matter once
 * with the outcome it was reported with (arm 1), and once more for every
 * other outcome a status change on the path in force gave it (applied >= 1;
 * changes listed as not applied left out; arm 2). Same column names as matters, plus
 * ever_outcome. The side queries (assignments, changes) join each arm on
 * its own: SQLite then looks matters up by primary key instead of
 * materialising the whole union for the join. */
#define S_EVER_ARM1                                                                      \
    "SELECT id, occurred_on, origin, township, channel, kind, persons, level, category," \
    " outcome, source, created_ms, coalesce(reported_outcome, outcome) AS ever_outcome"  \
    " FROM matters"
#define S_EVER_ARM2                                                                            \
    "SELECT m.id, m.occurred_on, m.origin, m.township, m.channel, m.kind, m.persons, m.level," \
    " m.category, m.outcome, m.source, m.created_ms, h.new_outcome AS ever_outcome FROM"       \
    " (SELECT DISTINCT case_id, new_outcome FROM status_changes AS s"                          \
    "  WHERE s.applied >= 1) AS h CROSS JOIN matters AS m ON m.id = h.case_id"                 \
    " WHERE h.new_outcome != coalesce(m.reported_outcome, m.outcome)"
static const char s_ever_sql[] = "(" S_EVER_ARM1 " UNION ALL " S_EVER_ARM2 ")";
static const char s_ever_arm1_sql[] = "(" S_EVER_ARM1 ")";
static const char s_ever_arm2_sql[] = "(" S_EVER_ARM2 ")";

typedef struct {
    char *cells[COUNTY_QUERY_MAX_DIMS]; /* the dim values as printed (owned) */
    char *key;                          /* cells joined by 0x1f (owned) */
    int64_t items, persons, open, overdue, concluded, withdrawn;
    int64_t assigned, assigned_concluded, assigned_withdrawn;
    int64_t changed;   /* concluded cases with an applied change (in close_ms) */
    int64_t *close_ms; /* their times to close, ms (owned) */
    size_t nclose, cap;
} s_group_t;

typedef struct {
    s_group_t *g; /* in the order of query 1 (the dims' order) */
    size_t n, cap;
    s_group_t **index; /* sorted by key, for s_groups_find */
} s_groups_t;

static void
s_groups_free(s_groups_t *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        for (size_t d = 0; d < COUNTY_QUERY_MAX_DIMS; d++) {
            free(gs->g[i].cells[d]);
        }
        free(gs->g[i].key);
        free(gs->g[i].close_ms);
    }
    free(gs->g);
    free(gs->index);
    memset(gs, 0, sizeof *gs);
}

static int
s_key_cmp(const void *a, const void *b)
{
    return strcmp((*(const s_group_t *const *) a)->key, (*(const s_group_t *const *) b)->key);
}

static s_group_t *
s_groups_find(const s_groups_t *gs, const char *key)
{
    size_t lo = 0, hi = gs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(gs->index[mid]->key, key);
        if (c == 0) {
            return gs->index[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* The dim cells of the current row (columns 0..ndims-1) and their key. */
static int
s_row_key(sqlite3_stmt *st,
          const int *dims,
          size_t ndims,
          const char **cells,
          char *key,
          char *err,
          size_t err_size)
{
    size_t len = 0;
    key[0] = '\0';
    for (size_t i = 0; i < ndims; i++) {
        const s_dim_t *dim = &s_dims[dims[i]];
        if (dim->field >= 0) {
            int rc = s_enum_cell((sj_field_t) dim->field, sqlite3_column_int(st, (int) i),
                                 &cells[i], err, err_size);
            if (rc != SJ_OK) {
                return rc;
            }
        } else if (!(cells[i] = s_col_text(st, (int) i))) {
            return s_nomem(err, err_size);
        }
        int n = snprintf(key + len, S_KEY_MAX - len, "%s%s", i ? "\x1f" : "", cells[i]);
        len = n < 0 || (size_t) n >= S_KEY_MAX - len ? S_KEY_MAX - 1 : len + (size_t) n;
    }
    return SJ_OK;
}

/* Prepares sql and binds the filter values from parameter 1 on. */
static int
s_prepare_where(
    sqlite3 *db, const char *sql, const s_where_t *w, sqlite3_stmt **st, char *err, size_t err_size)
{
    int src = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (src != SQLITE_OK) {
        return s_db_fail(db, src, "cannot query the matters", sql, err, err_size);
    }
    return s_where_bind(db, *st, w, sql, err, err_size);
}

/* "SELECT d1, d2, " */
static void
s_select_dims(char *sql, size_t size, size_t *len, const int *dims, size_t ndims)
{
    s_sql_add(sql, size, len, "SELECT ");
    for (size_t i = 0; i < ndims; i++) {
        s_sql_add(sql, size, len, s_dims[dims[i]].expr);
        s_sql_add(sql, size, len, ", ");
    }
}

/* Query 1: the groups. */
static int
s_groups_main(sqlite3 *db,
              const int *dims,
              size_t ndims,
              const char *from,
              const s_where_t *w,
              s_groups_t *gs,
              char *err,
              size_t err_size)
{
    char sql[COUNTY_QUERY_SQL_MAX * 2], group[COUNTY_QUERY_SQL_MAX / 2];
    size_t len = 0, glen = 0;
    group[0] = '\0';
    for (size_t i = 0; i < ndims; i++) {
        s_sql_add(group, sizeof group, &glen, i ? ", " : "");
        s_sql_add(group, sizeof group, &glen, s_dims[dims[i]].expr);
    }
    s_select_dims(sql, sizeof sql, &len, dims, ndims);
    /* Three aggregates, not six, each a CASE on one column (the cheapest
     * form measured: every aggregate costs the scan per matter): concluded
     * and withdrawn share one integer (low and high 32 bits; a group holds
     * fewer than 2^31 matters), open = items - concluded - withdrawn
     * (every outcome is one of the three), and the same for the matters
     * reported as assigned. */
    s_sql_add(sql, sizeof sql, &len,
              "count(*), coalesce(sum(persons), 0), coalesce(sum(" S_CLASS_SQL "), 0),"
              " count(CASE source WHEN 3 THEN 1 END),"
              " coalesce(sum(CASE source WHEN 3 THEN " S_CLASS_SQL " ELSE 0 END), 0) FROM ");
    s_sql_add(sql, sizeof sql, &len, from);
    s_sql_add(sql, sizeof sql, &len, w->sql);
    if (ndims > 0) {
        s_sql_add(sql, sizeof sql, &len, " GROUP BY ");
        s_sql_add(sql, sizeof sql, &len, group);
        s_sql_add(sql, sizeof sql, &len, " ORDER BY ");
        s_sql_add(sql, sizeof sql, &len, group);
    }
    sqlite3_stmt *st = NULL;
    int rc = s_prepare_where(db, sql, w, &st, err, err_size);
    int src = SQLITE_OK;
    while (rc == SJ_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[COUNTY_QUERY_MAX_DIMS];
        char key[S_KEY_MAX];
        rc = s_row_key(st, dims, ndims, cells, key, err, err_size);
        if (rc != SJ_OK) {
            break;
        }
        if (gs->n == gs->cap) {
            size_t cap = gs->cap ? gs->cap * 2 : 16;
            s_group_t *g = realloc(gs->g, cap * sizeof *g);
            if (!g) {
                rc = s_nomem(err, err_size);
                break;
            }
            gs->g = g;
            gs->cap = cap;
        }
        s_group_t *g = &gs->g[gs->n++];
        memset(g, 0, sizeof *g);
        int c = (int) ndims;
        g->items = sqlite3_column_int64(st, c++);
        g->persons = sqlite3_column_int64(st, c++);
        int64_t packed = sqlite3_column_int64(st, c++);
        g->concluded = packed & 0xFFFFFFFF;
        g->withdrawn = packed >> 32;
        g->open = g->items - g->concluded - g->withdrawn;
        g->assigned = sqlite3_column_int64(st, c++);
        packed = sqlite3_column_int64(st, c++);
        g->assigned_concluded = packed & 0xFFFFFFFF;
        g->assigned_withdrawn = packed >> 32;
        g->key = strdup(key);
        for (size_t i = 0; i < ndims && g->key; i++) {
            if (!(g->cells[i] = strdup(cells[i]))) {
                rc = s_nomem(err, err_size);
            }
        }
        if (!g->key) {
            rc = s_nomem(err, err_size);
        }
    }
    if (rc == SJ_OK && src != SQLITE_DONE) {
        rc = s_db_fail(db, src, "cannot read the matters", sql, err, err_size);
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        return rc;
    }
    gs->index = malloc((gs->n ? gs->n : 1) * sizeof *gs->index);
    if (!gs->index) {
        return s_nomem(err, err_size);
    }
    for (size_t i = 0; i < gs->n; i++) {
        gs->index[i] = &gs->g[i];
    }
    qsort(gs->index, gs->n, sizeof *gs->index, s_key_cmp);
    return SJ_OK;
}

/* Queries 2 (assignments) and 3 (changes): rows of dims then values, each
 * added to its group. */
static int
s_groups_side(sqlite3 *db,
              const int *dims,
              size_t ndims,
              const char *from,
              int from_first,
              const s_where_t *w,
              int changes,
              const char *today,
              s_groups_t *gs,
              char *err,
              size_t err_size)
{
    char sql[COUNTY_QUERY_SQL_MAX * 2];
    size_t len = 0;
    s_select_dims(sql, sizeof sql, &len, dims, ndims);
    /* The small side first, matters looked up by primary key; but the
     * second ever arm (itself a small materialised table, no index) goes
     * first, and the side gets an automatic index. */
    const char *side = changes ? s_last_change_sql : s_current_assignment_sql;
    const char *on = changes ? " ON id = c_case" : " ON id = a_case";
    s_sql_add(sql, sizeof sql, &len,
              changes ? "c_last - created_ms FROM " : "outcome, source, a_due FROM ");
    s_sql_add(sql, sizeof sql, &len, from_first ? from : side);
    s_sql_add(sql, sizeof sql, &len, from_first ? " CROSS JOIN " : " AS s_side CROSS JOIN ");
    s_sql_add(sql, sizeof sql, &len, from_first ? side : from);
    s_sql_add(sql, sizeof sql, &len, from_first ? " AS s_side" : "");
    s_sql_add(sql, sizeof sql, &len, on);
    s_sql_add(sql, sizeof sql, &len, w->sql);
    if (changes) {
        s_sql_add(sql, sizeof sql, &len, w->n ? " AND " : " WHERE ");
        s_sql_add(sql, sizeof sql, &len, S_CONCLUDED_SQL);
    }
    sqlite3_stmt *st = NULL;
    int rc = s_prepare_where(db, sql, w, &st, err, err_size);
    int src = SQLITE_OK;
    const int assigned = sj_enum_value(SJ_FIELD_SOURCE, "assigned");
    while (rc == SJ_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[COUNTY_QUERY_MAX_DIMS];
        char key[S_KEY_MAX];
        rc = s_row_key(st, dims, ndims, cells, key, err, err_size);
        if (rc != SJ_OK) {
            break;
        }
        s_group_t *g = s_groups_find(gs, key);
        if (!g) {
            continue; /* cannot happen within one snapshot */
        }
        int c = (int) ndims;
        if (changes) {
            if (g->nclose == g->cap) {
                size_t cap = g->cap ? g->cap * 2 : 8;
                int64_t *p = realloc(g->close_ms, cap * sizeof *p);
                if (!p) {
                    rc = s_nomem(err, err_size);
                    break;
                }
                g->close_ms = p;
                g->cap = cap;
            }
            int64_t took = sqlite3_column_int64(st, c);
            g->changed++; /* not among the zeros either way */
            if (took < -S_CLOSE_MAX_MS || took > S_CLOSE_MAX_MS) {
                continue;
            }
            g->close_ms[g->nclose++] = took;
            continue;
        }
        int outcome = sqlite3_column_int(st, c), source = sqlite3_column_int(st, c + 1);
        const char *due = (const char *) sqlite3_column_text(st, c + 2);
        if (source != assigned) { /* reported as assigned: counted by query 1 */
            g->assigned++;
            g->assigned_concluded += s_is_concluded(outcome);
            g->assigned_withdrawn += outcome == SJ_OUTCOME_WITHDRAWN;
        }
        if (s_is_open(outcome) && due && strcmp(due, today) < 0) {
            g->overdue++;
        }
    }
    if (rc == SJ_OK && src != SQLITE_DONE) {
        rc = s_db_fail(db, src, "cannot read the cases", sql, err, err_size);
    }
    sqlite3_finalize(st);
    return rc;
}

/* All three queries for dims (ever: the rows of s_ever_sql). */
static int
s_groups_collect(sqlite3 *db,
                 const int *dims,
                 size_t ndims,
                 int ever,
                 const s_where_t *w,
                 const char *today,
                 s_groups_t *gs,
                 char *err,
                 size_t err_size)
{
    int rc = s_groups_main(db, dims, ndims, ever ? s_ever_sql : "matters", w, gs, err, err_size);
    const char *const plain[] = {"matters", NULL};
    const char *const arms[] = {s_ever_arm1_sql, s_ever_arm2_sql, NULL};
    for (const char *const *from = ever ? arms : plain; rc == SJ_OK && *from; from++) {
        int first = *from == s_ever_arm2_sql;
        rc = s_groups_side(db, dims, ndims, *from, first, w, 0, today, gs, err, err_size);
        if (rc == SJ_OK) {
            rc = s_groups_side(db, dims, ndims, *from, first, w, 1, today, gs, err, err_size);
        }
    }
    return rc;
}

int
county_permille(int64_t num, int64_t den)
{
    if (den <= 0 || num < 0) {
        return -1;
    }
    return (int) ((num * 2000 + den) / (2 * den));
}

static int
s_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* The k-th smallest of close_ms (sorted) merged with `zeros` zeros. */
static int64_t
s_kth(const int64_t *sorted, size_t n, size_t neg, int64_t zeros, size_t k)
{
    (void) n;
    if (k < neg) {
        return sorted[k];
    }
    if (k < neg + (size_t) zeros) {
        return 0;
    }
    return sorted[k - (size_t) zeros];
}

/* The figures of one group (sorts its close_ms). */
static void
s_group_figs(s_group_t *g, county_case_figs_t *f)
{
    memset(f, 0, sizeof *f);
    f->items = g->items;
    f->persons = g->persons;
    f->open = g->open;
    f->overdue = g->overdue;
    f->concluded = g->concluded;
    f->withdrawn = g->withdrawn;
    f->assigned = g->assigned;
    f->assigned_concluded = g->assigned_concluded;
    f->assigned_withdrawn = g->assigned_withdrawn;
    f->closure_permille = county_permille(g->concluded, g->items - g->withdrawn);
    f->assigned_closure_permille =
        county_permille(g->assigned_concluded, g->assigned - g->assigned_withdrawn);
    int64_t zeros = g->concluded - g->changed;
    if (zeros < 0) {
        zeros = 0;
    }
    size_t n = g->nclose + (size_t) zeros;
    if (n == 0) {
        return;
    }
    if (g->nclose > 0) {
        qsort(g->close_ms, g->nclose, sizeof *g->close_ms, s_i64_cmp);
    }
    size_t neg = 0;
    while (neg < g->nclose && g->close_ms[neg] < 0) {
        neg++;
    }
    double ms = n % 2 ? (double) s_kth(g->close_ms, g->nclose, neg, zeros, n / 2)
                      : ((double) s_kth(g->close_ms, g->nclose, neg, zeros, n / 2 - 1)
                         + (double) s_kth(g->close_ms, g->nclose, neg, zeros, n / 2))
                            / 2.0;
    f->has_median = 1;
    f->median_days = ms / S_MS_PER_DAY;
}

/* Adds every group into one (the total); close_ms are copied. */
static int
s_groups_total(const s_groups_t *gs, s_group_t *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < gs->n; i++) {
        const s_group_t *g = &gs->g[i];
        t->items += g->items;
        t->persons += g->persons;
        t->open += g->open;
        t->overdue += g->overdue;
        t->concluded += g->concluded;
        t->withdrawn += g->withdrawn;
        t->assigned += g->assigned;
        t->assigned_concluded += g->assigned_concluded;
        t->assigned_withdrawn += g->assigned_withdrawn;
        t->changed += g->changed;
        t->nclose += g->nclose;
    }
    t->close_ms = malloc((t->nclose ? t->nclose : 1) * sizeof *t->close_ms);
    if (!t->close_ms) {
        return SJ_ENOMEM;
    }
    size_t at = 0;
    for (size_t i = 0; i < gs->n; i++) {
        if (gs->g[i].nclose) {
            memcpy(t->close_ms + at, gs->g[i].close_ms, gs->g[i].nclose * sizeof *t->close_ms);
            at += gs->g[i].nclose;
        }
    }
    t->cap = t->nclose;
    return SJ_OK;
}

/* Starts a read transaction unless the caller has one, so that the three
 * queries see one snapshot while `run` writes. */
static int
s_snapshot_begin(sqlite3 *db, int *began, char *err, size_t err_size)
{
    *began = 0;
    if (!sqlite3_get_autocommit(db)) {
        return SJ_OK;
    }
    int src = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        return s_db_fail(db, src, "cannot start a read transaction", "BEGIN", err, err_size);
    }
    *began = 1;
    return SJ_OK;
}

static void
s_snapshot_end(sqlite3 *db, int began)
{
    if (began && !sqlite3_get_autocommit(db)) {
        (void) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
}

static void
s_today(const county_filter_t *f, char today[11])
{
    if (f && f->today) {
        snprintf(today, 11, "%s", f->today);
    } else {
        sj_date_today(today);
    }
}

/* The total figures of the filtered matters (groups of no dims). */
static int
s_total_figs(sqlite3 *db,
             const s_where_t *w,
             const char *today,
             county_case_figs_t *out,
             char *err,
             size_t err_size)
{
    s_groups_t gs;
    memset(&gs, 0, sizeof gs);
    int rc = s_groups_collect(db, NULL, 0, 0, w, today, &gs, err, err_size);
    if (rc == SJ_OK) {
        s_group_t t;
        if (s_groups_total(&gs, &t) != SJ_OK) {
            rc = s_nomem(err, err_size);
        } else {
            s_group_figs(&t, out);
            free(t.close_ms);
        }
    }
    s_groups_free(&gs);
    return rc;
}

int
county_query_case_figs(
    sqlite3 *db, const county_filter_t *f, county_case_figs_t *out, char *err, size_t err_size)
{
    assert(db);
    assert(out);
    memset(out, 0, sizeof *out);
    int rc = county_filter_check(f, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    if (!s_case_consts_ok()) {
        snprintf(err, err_size, "internal error: outcome numbers differ from the model");
        return SJ_EDB;
    }
    char today[11];
    s_today(f, today);
    s_where_t where;
    s_where_build(f, &where);
    int began = 0;
    rc = s_snapshot_begin(db, &began, err, err_size);
    if (rc == SJ_OK) {
        rc = s_total_figs(db, &where, today, out, err, err_size);
    }
    s_snapshot_end(db, began);
    return rc;
}

/* The figure columns after the dims, in order; the decimal ones are
 * numbers in JSON (null when undefined). */
#define S_NFIGS 12
static const char *const s_fig_names[S_NFIGS] = {"items",
                                                 "persons",
                                                 "open",
                                                 "overdue",
                                                 "concluded",
                                                 "withdrawn",
                                                 "closure_rate",
                                                 "median_days_to_close",
                                                 "assigned",
                                                 "assigned_concluded",
                                                 "assigned_withdrawn",
                                                 "assigned_closure_rate"};
static const int s_fig_decimal[S_NFIGS] = {0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1};

/* The cells of one group's figures (NULL cell: undefined). */
static void
s_fig_cells(const county_case_figs_t *f, char bufs[S_NFIGS][COUNTY_QUERY_NUM], const char **cells)
{
    const int64_t ints[S_NFIGS] = {f->items,
                                   f->persons,
                                   f->open,
                                   f->overdue,
                                   f->concluded,
                                   f->withdrawn,
                                   0,
                                   0,
                                   f->assigned,
                                   f->assigned_concluded,
                                   f->assigned_withdrawn,
                                   0};
    for (int i = 0; i < S_NFIGS; i++) {
        snprintf(bufs[i], COUNTY_QUERY_NUM, "%" PRId64, ints[i]);
        cells[i] = bufs[i];
    }
    cells[6] = cells[7] = cells[11] = NULL;
    if (f->closure_permille >= 0) {
        snprintf(bufs[6], COUNTY_QUERY_NUM, "%d.%d", f->closure_permille / 10,
                 f->closure_permille % 10);
        cells[6] = bufs[6];
    }
    if (f->has_median) {
        snprintf(bufs[7], COUNTY_QUERY_NUM, "%.1f", f->median_days);
        cells[7] = bufs[7];
    }
    if (f->assigned_closure_permille >= 0) {
        snprintf(bufs[11], COUNTY_QUERY_NUM, "%d.%d", f->assigned_closure_permille / 10,
                 f->assigned_closure_permille % 10);
        cells[11] = bufs[11];
    }
}

/* Makes the decimal figures of a JSON object numbers. */
static int
s_json_decimals(cJSON *obj)
{
    for (int i = 0; i < S_NFIGS; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, s_fig_names[i]);
        if (!s_fig_decimal[i] || !cJSON_IsString(v)) {
            continue;
        }
        cJSON *num = cJSON_CreateNumber(strtod(v->valuestring, NULL));
        if (!num || !cJSON_ReplaceItemInObjectCaseSensitive(obj, s_fig_names[i], num)) {
            cJSON_Delete(num);
            return SJ_ENOMEM;
        }
    }
    return SJ_OK;
}

/* stats in json: {"rows":[...],"total":{...}} with the figures. */
static int
s_stats_json(
    const sj_table_t *t, const county_case_figs_t *total, FILE *out, char *err, size_t err_size)
{
    int rc = SJ_ENOMEM;
    char *text = NULL;
    sj_table_t *tt = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *rows = sj_table_to_json(t);
    cJSON *tarr = NULL;
    if (!root || !rows) {
        goto out;
    }
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        if (s_json_decimals(row) != SJ_OK) {
            goto out;
        }
    }
    if (!cJSON_AddItemToObject(root, "rows", rows)) {
        goto out;
    }
    rows = NULL; /* owned by root now */
    /* the total: the same cells, through a one-row table */
    sj_col_type_t types[S_NFIGS];
    for (int i = 0; i < S_NFIGS; i++) {
        types[i] = SJ_COL_INT;
    }
    char bufs[S_NFIGS][COUNTY_QUERY_NUM];
    const char *cells[S_NFIGS];
    s_fig_cells(total, bufs, cells);
    tt = sj_table_new(S_NFIGS, s_fig_names, types);
    if (!tt || sj_table_add_row(tt, cells) != SJ_OK || !(tarr = sj_table_to_json(tt))) {
        goto out;
    }
    cJSON *tobj = cJSON_DetachItemFromArray(tarr, 0);
    if (!tobj || s_json_decimals(tobj) != SJ_OK || !cJSON_AddItemToObject(root, "total", tobj)) {
        cJSON_Delete(tobj);
        goto out;
    }
    text = cJSON_PrintUnformatted(root);
    if (!text) {
        goto out;
    }
    rc = fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF ? SJ_EIO : SJ_OK;
out:
    cJSON_free(text);
    cJSON_Delete(tarr);
    cJSON_Delete(rows);
    cJSON_Delete(root);
    sj_table_destroy(&tt);
    return rc == SJ_OK ? SJ_OK : s_write_fail(rc, err, err_size);
}

/* Without dims, json keeps "rows" empty as specified, while table and csv
 * print the one ungrouped row: a bare header would tell the reader
 * nothing. */
/* stats in json: {"rows":[...],"total":{"items":N,"persons":N}}. */
static int
s_counts_json(const sj_table_t *t,
             sqlite3_int64 items,
             sqlite3_int64 persons,
             FILE *out,
             char *err,
             size_t err_size)
{
    int rc = SJ_ENOMEM;
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *rows = sj_table_to_json(t);
    if (!root || !rows) {
        goto out;
    }
    if (!cJSON_AddItemToObject(root, "rows", rows)) {
        goto out;
    }
    rows = NULL; /* owned by root now */
    cJSON *total = cJSON_AddObjectToObject(root, "total");
    if (!total || !cJSON_AddNumberToObject(total, "items", (double) items)
        || !cJSON_AddNumberToObject(total, "persons", (double) persons)) {
        goto out;
    }
    text = cJSON_PrintUnformatted(root);
    if (!text) {
        goto out;
    }
    rc = fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF ? SJ_EIO : SJ_OK;
out:
    cJSON_free(text);
    cJSON_Delete(rows);
    cJSON_Delete(root);
    return rc == SJ_OK ? SJ_OK : s_write_fail(rc, err, err_size);
}

static int
s_stats_counts(sqlite3 *db,
               const int *dims,
               size_t ndims,
                      const county_filter_t *f,
                      sj_format_t fmt,
                      unsigned flags,
                      FILE *out,
                      char *err,
                      size_t err_size)
{
    assert(db);
    assert(out);
    int rc = SJ_OK;
    s_src_t from = (flags & COUNTY_STATS_SCAN) ? S_SRC_MATTERS : s_stats_source(dims, ndims, f);
    s_where_t where;
    s_where_build_tally(f, from, from == S_SRC_FIELD ? s_field_of(dims, ndims, f) : -1, &where);

    /* SELECT d1, d2, count(*), total(persons) FROM matters WHERE ...
     * GROUP BY d1, d2 ORDER BY d1, d2 (over a tally: sum(items)) */
    char sql[COUNTY_QUERY_SQL_MAX];
    size_t len = 0;
    char group[COUNTY_QUERY_SQL_MAX / 2];
    size_t glen = 0;
    sql[0] = group[0] = '\0';
    s_sql_add(sql, sizeof sql, &len, "SELECT ");
    for (size_t i = 0; i < ndims; i++) {
        const s_dim_t *dim = &s_dims[dims[i]];
        const char *expr = from == S_SRC_PLACE   ? dim->place_expr
                           : from == S_SRC_KIND  ? dim->kind_expr
                           : from == S_SRC_FIELD ? dim->field_expr
                                                 : dim->expr;
        s_sql_add(sql, sizeof sql, &len, expr);
        s_sql_add(sql, sizeof sql, &len, ", ");
        s_sql_add(group, sizeof group, &glen, i ? ", " : "");
        s_sql_add(group, sizeof group, &glen, expr);
    }
    s_sql_add(sql, sizeof sql, &len,
              from == S_SRC_MATTERS ? "count(*), coalesce(sum(persons), 0) FROM "
                                    : "coalesce(sum(items), 0), coalesce(sum(persons), 0) FROM ");
    s_sql_add(sql, sizeof sql, &len, s_src_table[from]);
    s_sql_add(sql, sizeof sql, &len, where.sql);
    if (ndims > 0) {
        s_sql_add(sql, sizeof sql, &len, " GROUP BY ");
        s_sql_add(sql, sizeof sql, &len, group);
        s_sql_add(sql, sizeof sql, &len, " ORDER BY ");
        s_sql_add(sql, sizeof sql, &len, group);
    }

    const char *names[COUNTY_QUERY_MAX_DIMS + 2];
    sj_col_type_t types[COUNTY_QUERY_MAX_DIMS + 2];
    for (size_t i = 0; i < ndims; i++) {
        names[i] = s_dims[dims[i]].name;
        types[i] = SJ_COL_TEXT;
    }
    names[ndims] = "items";
    names[ndims + 1] = "persons";
    types[ndims] = types[ndims + 1] = SJ_COL_INT;

    sqlite3_stmt *st = NULL;
    sj_table_t *t = sj_table_new(ndims + 2, names, types);
    if (!t) {
        return s_nomem(err, err_size);
    }
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = s_db_fail(db, src, "cannot query the matters", sql, err, err_size);
        goto out;
    }
    rc = s_where_bind(db, st, &where, sql, err, err_size);
    if (rc != SJ_OK) {
        goto out;
    }
    sqlite3_int64 items = 0, persons = 0;
    char ibuf[COUNTY_QUERY_NUM], pbuf[COUNTY_QUERY_NUM];
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[COUNTY_QUERY_MAX_DIMS + 2];
        for (size_t i = 0; i < ndims; i++) {
            const s_dim_t *dim = &s_dims[dims[i]];
            if (dim->field >= 0) {
                rc = s_enum_cell((sj_field_t) dim->field, sqlite3_column_int(st, (int) i),
                                 &cells[i], err, err_size);
                if (rc != SJ_OK) {
                    goto out;
                }
            } else if (!(cells[i] = s_col_text(st, (int) i))) {
                rc = s_nomem(err, err_size);
                goto out;
            }
        }
        sqlite3_int64 n = sqlite3_column_int64(st, (int) ndims);
        sqlite3_int64 p = sqlite3_column_int64(st, (int) ndims + 1);
        items += n;
        persons += p;
        if (ndims == 0 && fmt == SJ_FMT_JSON) {
            continue;
        }
        snprintf(ibuf, sizeof ibuf, "%" PRId64, (int64_t) n);
        snprintf(pbuf, sizeof pbuf, "%" PRId64, (int64_t) p);
        cells[ndims] = ibuf;
        cells[ndims + 1] = pbuf;
        if (sj_table_add_row(t, cells) != SJ_OK) {
            rc = s_nomem(err, err_size);
            goto out;
        }
    }
    if (src != SQLITE_DONE) {
        rc = s_db_fail(db, src, "cannot read the matters", sql, err, err_size);
        goto out;
    }
    if (fmt == SJ_FMT_JSON) {
        rc = s_counts_json(t, items, persons, out, err, err_size);
        goto out;
    }
    if (fmt == SJ_FMT_TABLE && ndims > 0) {
        const char *total[COUNTY_QUERY_MAX_DIMS + 2] = {NULL};
        snprintf(ibuf, sizeof ibuf, "%" PRId64, (int64_t) items);
        snprintf(pbuf, sizeof pbuf, "%" PRId64, (int64_t) persons);
        total[0] = "total";
        total[ndims] = ibuf;
        total[ndims + 1] = pbuf;
        if (sj_table_set_total(t, total) != SJ_OK) {
            rc = s_nomem(err, err_size);
            goto out;
        }
    }
    rc = sj_table_write(t, fmt, out);
    if (rc != SJ_OK) {
        rc = s_write_fail(rc, err, err_size);
    }
out:
    sqlite3_finalize(st);
    sj_table_destroy(&t);
    return rc;
}

static int
s_stats_cases(sqlite3 *db,
                   const int *dims,
                   size_t ndims,
                   const county_filter_t *f,
                   sj_format_t fmt,
                   FILE *out,
                   char *err,
                   size_t err_size)
{
    assert(db);
    assert(out);
    int rc = SJ_OK;
    if (!s_case_consts_ok()) {
        snprintf(err, err_size, "internal error: outcome numbers differ from the model");
        return SJ_EDB;
    }
    int ever = 0;
    for (size_t i = 0; i < ndims; i++) {
        ever |= strcmp(s_dims[dims[i]].name, "ever_outcome") == 0;
    }
    char today[11];
    s_today(f, today);
    s_where_t where;
    s_where_build(f, &where);

    const char *names[COUNTY_QUERY_MAX_DIMS + S_NFIGS];
    sj_col_type_t types[COUNTY_QUERY_MAX_DIMS + S_NFIGS];
    for (size_t i = 0; i < ndims; i++) {
        names[i] = s_dims[dims[i]].name;
        types[i] = SJ_COL_TEXT;
    }
    for (size_t i = 0; i < S_NFIGS; i++) {
        names[ndims + i] = s_fig_names[i];
        types[ndims + i] = SJ_COL_INT;
    }
    s_groups_t gs;
    memset(&gs, 0, sizeof gs);
    s_group_t tg;
    memset(&tg, 0, sizeof tg);
    county_case_figs_t total;
    int began = 0;
    sj_table_t *t = sj_table_new(ndims + S_NFIGS, names, types);
    if (!t) {
        return s_nomem(err, err_size);
    }
    rc = s_snapshot_begin(db, &began, err, err_size);
    if (rc == SJ_OK) {
        rc = s_groups_collect(db, dims, ndims, ever, &where, today, &gs, err, err_size);
    }
    /* The total: the sum of the groups, except with ever_outcome, where a
     * matter is in several rows and the total counts each once. */
    if (rc == SJ_OK && ever) {
        rc = s_total_figs(db, &where, today, &total, err, err_size);
    } else if (rc == SJ_OK) {
        if (s_groups_total(&gs, &tg) != SJ_OK) {
            rc = s_nomem(err, err_size);
        } else {
            s_group_figs(&tg, &total);
        }
    }
    s_snapshot_end(db, began);
    for (size_t g = 0; rc == SJ_OK && g < gs.n; g++) {
        if (ndims == 0 && fmt == SJ_FMT_JSON) {
            break;
        }
        county_case_figs_t figs;
        s_group_figs(&gs.g[g], &figs);
        const char *cells[COUNTY_QUERY_MAX_DIMS + S_NFIGS];
        char bufs[S_NFIGS][COUNTY_QUERY_NUM];
        for (size_t i = 0; i < ndims; i++) {
            cells[i] = gs.g[g].cells[i];
        }
        s_fig_cells(&figs, bufs, cells + ndims);
        if (sj_table_add_row(t, cells) != SJ_OK) {
            rc = s_nomem(err, err_size);
        }
    }
    if (rc != SJ_OK) {
        goto out;
    }
    if (fmt == SJ_FMT_JSON) {
        rc = s_stats_json(t, &total, out, err, err_size);
        goto out;
    }
    if (fmt == SJ_FMT_TABLE && ndims > 0) {
        const char *cells[COUNTY_QUERY_MAX_DIMS + S_NFIGS] = {NULL};
        char bufs[S_NFIGS][COUNTY_QUERY_NUM];
        cells[0] = "total";
        s_fig_cells(&total, bufs, cells + ndims);
        if (sj_table_set_total(t, cells) != SJ_OK) {
            rc = s_nomem(err, err_size);
            goto out;
        }
    }
    rc = sj_table_write(t, fmt, out);
    if (rc != SJ_OK) {
        rc = s_write_fail(rc, err, err_size);
    }
out:
    free(tg.close_ms);
    s_groups_free(&gs);
    sj_table_destroy(&t);
    return rc;
}

const char *
county_query_stats_source(const char *by, const county_filter_t *f)
{
    int dims[COUNTY_QUERY_MAX_DIMS];
    size_t ndims = 0;
    char err[256];
    if (county_filter_check(f, err, sizeof err) != SJ_OK
        || s_parse_by(by, dims, &ndims, err, sizeof err) != SJ_OK) {
        return NULL;
    }
    return s_src_table[s_stats_source(dims, ndims, f)];
}

int
county_query_stats(sqlite3 *db,
                   const char *by,
                   const county_filter_t *f,
                   sj_format_t fmt,
                   FILE *out,
                   char *err,
                   size_t err_size)
{
    return county_query_stats_ex(db, by, f, fmt, 0, out, err, err_size);
}

int
county_query_stats_ex(sqlite3 *db,
                      const char *by,
                      const county_filter_t *f,
                      sj_format_t fmt,
                      unsigned flags,
                      FILE *out,
                      char *err,
                      size_t err_size)
{
    /* The filter and the dims are checked once, here, for both ways. */
    int dims[COUNTY_QUERY_MAX_DIMS];
    size_t ndims = 0;
    int rc = county_filter_check(f, err, err_size);
    if (rc == SJ_OK) {
        rc = s_parse_by(by, dims, &ndims, err, err_size);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    int ever = 0;
    for (size_t i = 0; i < ndims; i++) {
        ever |= strcmp(s_dims[dims[i]].name, "ever_outcome") == 0;
    }
    if ((flags & COUNTY_STATS_CASES) || ever) {
        return s_stats_cases(db, dims, ndims, f, fmt, out, err, err_size);
    }
    return s_stats_counts(db, dims, ndims, f, fmt, flags, out, err, err_size);
}

/* The list cursor: one prepared SELECT over matters, stepped row by row. Cells
 * point into the statement or into the buffers here, valid until the next
 * county_rows_next. */
struct county_rows {
    sqlite3 *db;                            /* borrowed */
    sqlite3_stmt *st;                       /* the one statement */
    const sj_keypair_t *kp;                 /* borrowed; NULL = no personal cells */
    size_t ncols;                           /* COUNTY_LIST_NCOLS (+ 4 with kp) */
    char sql[COUNTY_QUERY_SQL_MAX];         /* for error logs */
    char id[SJ_UUID_TEXT];                  /* the row's id as text */
    char pbufs[COUNTY_PERSONAL_NCOLS][512]; /* opened petitioner fields */
    const char *cells[COUNTY_LIST_NCOLS + COUNTY_PERSONAL_NCOLS]; /* the row */
};

static const char *const s_rows_names[COUNTY_LIST_NCOLS + COUNTY_PERSONAL_NCOLS] = {
    "id",
    "occurred_on",
    "station",
    "township",
    "channel",
    "kind",
    "persons",
    "level",
    "category",
    "outcome",
    "source",
    "summary",
    "petitioner_name",
    "petitioner_id",
    "petitioner_phone",
    "petitioner_address"};
static const sj_col_type_t s_rows_types[COUNTY_LIST_NCOLS + COUNTY_PERSONAL_NCOLS] = {
    SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
    SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
    SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};

int
county_rows_open(
    sqlite3 *db, const county_filter_t *f, county_rows_t **out, char *err, size_t err_size)
{
    assert(db);
    assert(out);
    *out = NULL;
    int rc = county_filter_check(f, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    county_rows_t *self = calloc(1, sizeof *self);
    if (!self) {
        return s_nomem(err, err_size);
    }
    self->db = db;
    self->kp = f ? f->personal : NULL;
    self->ncols = COUNTY_LIST_NCOLS + (self->kp ? COUNTY_PERSONAL_NCOLS : 0);
    s_where_t where;
    s_where_build(f, &where);
    size_t len = 0;
    s_sql_add(self->sql, sizeof self->sql, &len, s_list_sql);
    s_sql_add(self->sql, sizeof self->sql, &len, where.sql);
    /* matters is WITHOUT ROWID, so matters_occurred holds (occurred_on, id):
     * this order is read straight from the index, with no sort in memory or
     * in temp files, which is what lets export stream millions of rows. */
    s_sql_add(self->sql, sizeof self->sql, &len, " ORDER BY occurred_on, id");
    if (f && f->limit > 0) {
        s_sql_add(self->sql, sizeof self->sql, &len, " LIMIT ?");
    }
    int src = sqlite3_prepare_v2(db, self->sql, -1, &self->st, NULL);
    if (src != SQLITE_OK) {
        rc = s_db_fail(db, src, "cannot query the matters", self->sql, err, err_size);
        goto fail;
    }
    rc = s_where_bind(db, self->st, &where, self->sql, err, err_size);
    if (rc != SJ_OK) {
        goto fail;
    }
    if (f && f->limit > 0) {
        src = sqlite3_bind_int64(self->st, where.n + 1, f->limit);
        if (src != SQLITE_OK) {
            rc = s_db_fail(db, src, "cannot bind the limit", self->sql, err, err_size);
            goto fail;
        }
    }
    *out = self;
    return SJ_OK;
fail:
    county_rows_close(&self);
    return rc;
}

size_t
county_rows_ncols(const county_rows_t *self)
{
    return self->ncols;
}

const char *const *
county_rows_names(const county_rows_t *self)
{
    (void) self;
    return s_rows_names;
}

const sj_col_type_t *
county_rows_types(const county_rows_t *self)
{
    (void) self;
    return s_rows_types;
}

int
county_rows_next(county_rows_t *self, const char *const **cells, char *err, size_t err_size)
{
    assert(self);
    assert(cells);
    /* Stored columns 4,5 and 7..10 are enums, in sj_field_t order. */
    static const int enum_cols[SJ_FIELD_COUNT] = {4, 5, 7, 8, 9, 10};
    sqlite3_stmt *st = self->st;
    *cells = NULL;
    if (self->kp) {
        sodium_memzero(self->pbufs, sizeof self->pbufs); /* the previous row's */
    }
    int src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        return SJ_ENOTFOUND;
    }
    if (src != SQLITE_ROW) {
        return s_db_fail(self->db, src, "cannot read the matters", self->sql, err, err_size);
    }
    if (sqlite3_column_bytes(st, 0) != SJ_ID_BYTES) {
        snprintf(err, err_size, "the database holds a matter id that is not 16 bytes (damaged?)");
        return SJ_EDB;
    }
    sj_uuid_format(sqlite3_column_blob(st, 0), self->id);
    self->cells[0] = self->id;
    for (int i = 1; i < COUNTY_LIST_NCOLS; i++) {
        self->cells[i] = s_col_text(st, i); /* enum cells are overwritten below */
        if (!self->cells[i]) {
            return s_nomem(err, err_size);
        }
    }
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        int rc = s_enum_cell((sj_field_t) i, sqlite3_column_int(st, enum_cols[i]),
                             &self->cells[enum_cols[i]], err, err_size);
        if (rc != SJ_OK) {
            return rc;
        }
    }
    if (self->kp) {
        int bad = 0;
        s_personal_cells(sqlite3_column_blob(st, 12), (size_t) sqlite3_column_bytes(st, 12),
                         self->kp, self->pbufs, &self->cells[COUNTY_LIST_NCOLS], &bad);
        if (bad) {
            snprintf(self->pbufs[0], sizeof self->pbufs[0], "(sealed to another key)");
        }
    }
    *cells = self->cells;
    return SJ_OK;
}

void
county_rows_close(county_rows_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    county_rows_t *self = *self_p;
    sqlite3_finalize(self->st);
    sodium_memzero(self->pbufs, sizeof self->pbufs);
    free(self);
    *self_p = NULL;
}

int
county_query_list(
    sqlite3 *db, const county_filter_t *f, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(db);
    assert(out);
    county_rows_t *rows = NULL;
    int rc = county_rows_open(db, f, &rows, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    sj_table_t *t =
        sj_table_new(county_rows_ncols(rows), county_rows_names(rows), county_rows_types(rows));
    if (!t) {
        rc = s_nomem(err, err_size);
        goto out;
    }
    if (sj_table_stream(t, fmt, out) != SJ_OK) { /* csv/json: constant memory */
        rc = s_write_fail(SJ_EIO, err, err_size);
        goto out;
    }
    const char *const *cells = NULL;
    while ((rc = county_rows_next(rows, &cells, err, err_size)) == SJ_OK) {
        int added = sj_table_add_row(t, cells);
        if (added == SJ_EIO) {
            rc = s_write_fail(added, err, err_size);
            goto out;
        } else if (added != SJ_OK) {
            rc = s_nomem(err, err_size);
            goto out;
        }
    }
    if (rc != SJ_ENOTFOUND) {
        goto out;
    }
    rc = sj_table_write(t, fmt, out);
    if (rc != SJ_OK) {
        rc = s_write_fail(rc, err, err_size);
    }
out:
    county_rows_close(&rows);
    sj_table_destroy(&t);
    return rc;
}

int
county_query_personal(sqlite3 *db,
                      const char *id_text,
                      const sj_keypair_t *kp,
                      sj_format_t fmt,
                      FILE *out,
                      char *err,
                      size_t err_size)
{
    uint8_t id[SJ_ID_BYTES];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, "'%s' is not a UUID", id_text ? id_text : "");
        return SJ_EINVAL;
    }
    sqlite3_stmt *st = NULL;
    int rc = SJ_OK;
    int src = sqlite3_prepare_v2(db, "SELECT sealed FROM matters WHERE id = ?", -1, &st, NULL);
    if (src != SQLITE_OK) {
        return s_db_fail(db, src, "cannot query the matter", "sealed", err, err_size);
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        snprintf(err, err_size, "no matter with id %s", id_text);
        sqlite3_finalize(st);
        return SJ_ENOTFOUND;
    }
    char bufs[COUNTY_PERSONAL_NCOLS][512];
    const char *cells[COUNTY_PERSONAL_NCOLS];
    int bad = 0;
    int none = sqlite3_column_type(st, 0) == SQLITE_NULL;
    s_personal_cells(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), kp, bufs,
                     cells, &bad);
    sqlite3_finalize(st);
    if (bad) {
        snprintf(err, err_size, "the personal data of %s does not open with this county key",
                 id_text);
        return SJ_EINVAL;
    }
    if (none && fmt == SJ_FMT_TABLE) {
        fprintf(out, "personal: none\n");
        return SJ_OK;
    }
    static const sj_col_type_t types[COUNTY_PERSONAL_NCOLS] = {SJ_COL_TEXT, SJ_COL_TEXT,
                                                               SJ_COL_TEXT, SJ_COL_TEXT};
    if (fmt == SJ_FMT_TABLE) {
        for (int i = 0; i < COUNTY_PERSONAL_NCOLS; i++) {
            fprintf(out, "%s: ", s_personal_names[i]);
            if (s_put_safe(out, cells[i]) != SJ_OK) {
                rc = SJ_EIO;
            }
            fputc('\n', out);
        }
    } else {
        sj_table_t *t = sj_table_new(COUNTY_PERSONAL_NCOLS, s_personal_names, types);
        if (!t || sj_table_add_row(t, cells) != SJ_OK) {
            rc = s_nomem(err, err_size);
        } else {
            rc = sj_table_write(t, fmt, out);
        }
        sj_table_destroy(&t);
    }
    sodium_memzero(bufs, sizeof bufs);
    return rc;
}

/* table: "field: value" lines; json: one object; csv: header and one row.
 * The sealed bytes are never read: only whether there are any. */
int
county_query_show(
    sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(db);
    assert(out);
    static const char *const names[COUNTY_SHOW_NCOLS] = {
        "id",      "occurred_on", "station",  "township", "channel", "kind",
        "persons", "level",       "category", "outcome",  "source",  "summary",
        "officer", "origin_seq",  "created",  "received", "personal"};
    static const sj_col_type_t types[COUNTY_SHOW_NCOLS] = {
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
        SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
        SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    static const int enum_cols[SJ_FIELD_COUNT] = {4, 5, 7, 8, 9, 10};

    uint8_t id[SJ_ID_BYTES];
    char id_canon[SJ_UUID_TEXT];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, "'%s' is not a UUID", id_text ? id_text : "");
        return SJ_EINVAL;
    }
    sj_uuid_format(id, id_canon);

    int rc;
    sqlite3_stmt *st = NULL;
    sj_table_t *t = NULL;
    cJSON *rows = NULL;
    char *text = NULL;
    int src = sqlite3_prepare_v2(db, s_show_sql, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = s_db_fail(db, src, "cannot query the matter", s_show_sql, err, err_size);
        goto out;
    }
    src = sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    if (src != SQLITE_OK) {
        rc = s_db_fail(db, src, "cannot bind the id", s_show_sql, err, err_size);
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        snprintf(err, err_size, "no matter with id %s", id_canon);
        rc = SJ_ENOTFOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = s_db_fail(db, src, "cannot read the matter", s_show_sql, err, err_size);
        goto out;
    }

    const char *cells[COUNTY_SHOW_NCOLS];
    char created[COUNTY_QUERY_TIME], received[COUNTY_QUERY_TIME];
    cells[0] = id_canon;
    for (int i = 1; i <= 13; i++) {
        if (!(cells[i] = s_col_text(st, i))) {
            rc = s_nomem(err, err_size);
            goto out;
        }
    }
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        rc = s_enum_cell((sj_field_t) i, sqlite3_column_int(st, enum_cols[i]), &cells[enum_cols[i]],
                         err, err_size);
        if (rc != SJ_OK) {
            goto out;
        }
    }
    if (sqlite3_column_type(st, 13) == SQLITE_NULL) {
        cells[13] = NULL; /* no event row: JSON null, blank elsewhere */
    }
    s_iso_utc(sqlite3_column_int64(st, 14), created);
    s_iso_utc(sqlite3_column_int64(st, 15), received);
    cells[14] = created;
    cells[15] = received;
    int sealed = sqlite3_column_int(st, 16);
    cells[16] = sealed ? "sealed" : "none";

    if (fmt == SJ_FMT_TABLE) {
        rc = SJ_OK;
        for (int i = 0; i < COUNTY_SHOW_NCOLS && rc == SJ_OK; i++) {
            const char *value = cells[i] ? cells[i] : "";
            if (i == 16 && sealed) {
                value = "sealed (open with the county key)";
            }
            if (fprintf(out, "%s: ", names[i]) < 0 || s_put_safe(out, value) != SJ_OK
                || fputc('\n', out) == EOF) {
                rc = SJ_EIO;
            }
        }
        if (rc == SJ_OK && fflush(out) == EOF) {
            rc = SJ_EIO;
        }
        if (rc != SJ_OK) {
            rc = s_write_fail(rc, err, err_size);
        }
        goto out;
    }

    t = sj_table_new(COUNTY_SHOW_NCOLS, names, types);
    if (!t || sj_table_add_row(t, cells) != SJ_OK) {
        rc = s_nomem(err, err_size);
        goto out;
    }
    if (fmt == SJ_FMT_JSON) {
        rows = sj_table_to_json(t);
        text = rows ? cJSON_PrintUnformatted(cJSON_GetArrayItem(rows, 0)) : NULL;
        if (!text) {
            rc = s_nomem(err, err_size);
            goto out;
        }
        rc = fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF ? SJ_EIO
                                                                                      : SJ_OK;
    } else {
        rc = sj_table_write(t, fmt, out);
    }
    if (rc != SJ_OK) {
        rc = s_write_fail(rc, err, err_size);
    }
out:
    cJSON_free(text);
    cJSON_Delete(rows);
    sj_table_destroy(&t);
    sqlite3_finalize(st);
    return rc;
}
