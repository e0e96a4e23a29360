/* county_figs: the case figures of matters, grouped or in total, see
 * county_figs.h.
 *
 * Every group gets, besides items and persons, the figures of its matters
 * as cases (definitions in county_figs.h and the README). Three queries,
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
#include "county_figs.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_store.h"
#include "sj_case.h"
#include "sj_clock_db.h"
#include "sj_model.h"

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
#define S_MS_PER_DAY   86400000.0
#define S_KEY_MAX      1024

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
s_is_concluded(int outcome)
{
    return sj_outcome_is_concluded(outcome);
}

static const char s_current_assignment_sql[] = COUNTY_FIGS_CURRENT_ASSIGNMENT_SQL;

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
    " outcome, source, created_ms, reported_outcome,"                                    \
    " coalesce(reported_outcome, outcome) AS ever_outcome FROM matters"
#define S_EVER_ARM2                                                                            \
    "SELECT m.id, m.occurred_on, m.origin, m.township, m.channel, m.kind, m.persons, m.level," \
    " m.category, m.outcome, m.source, m.created_ms, m.reported_outcome,"                      \
    " h.new_outcome AS ever_outcome FROM"                                                      \
    " (SELECT DISTINCT case_id, new_outcome FROM status_changes AS s"                          \
    "  WHERE s.applied >= 1) AS h CROSS JOIN matters AS m ON m.id = h.case_id"                 \
    " WHERE h.new_outcome != coalesce(m.reported_outcome, m.outcome)"
static const char s_ever_sql[] = "(" S_EVER_ARM1 " UNION ALL " S_EVER_ARM2 ")";
static const char s_ever_arm1_sql[] = "(" S_EVER_ARM1 ")";
static const char s_ever_arm2_sql[] = "(" S_EVER_ARM2 ")";

typedef struct {
    char *cells[COUNTY_FILTER_DIM_COUNT]; /* the dim values as printed (owned) */
    char *key;                            /* cells joined by 0x1f (owned) */
    int64_t items, persons, open, overdue, concluded, withdrawn;
    int64_t assigned, assigned_concluded, assigned_withdrawn;
    int64_t changed;   /* concluded cases with an applied change (in close_ms) */
    int64_t *close_ms; /* their times to close, ms (owned) */
    size_t nclose, cap;
    sj_rates_t rates; /* the four rates' counts (sj_rates.h) */
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
        for (size_t d = 0; d < COUNTY_FILTER_DIM_COUNT; d++) {
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

/* The dim cells of the current row (columns 0..dims->n - 1) and their key. */
static int
s_row_key(sqlite3_stmt *st,
          const county_filter_dims_t *dims,
          const char **cells,
          char *key,
          char *err,
          size_t err_size)
{
    size_t len = 0;
    key[0] = '\0';
    for (size_t i = 0; i < dims->n; i++) {
        int field = county_filter_dim_field(dims->d[i]);
        if (field >= 0) {
            int rc = county_sql_enum_cell((sj_field_t) field, sqlite3_column_int(st, (int) i),
                                          &cells[i], err, err_size);
            if (rc != SJ_OK) {
                return rc;
            }
        } else if (!(cells[i] = county_sql_text(st, (int) i))) {
            return county_sql_nomem(err, err_size);
        }
        int n = snprintf(key + len, S_KEY_MAX - len, "%s%s", i ? "\x1f" : "", cells[i]);
        len = n < 0 || (size_t) n >= S_KEY_MAX - len ? S_KEY_MAX - 1 : len + (size_t) n;
    }
    return SJ_OK;
}

/* Prepares sql and binds the filter values from parameter 1 on. */
static int
s_prepare_where(sqlite3 *db,
                const char *sql,
                const county_filter_where_t *w,
                sqlite3_stmt **st,
                char *err,
                size_t err_size)
{
    int src = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (src != SQLITE_OK) {
        return county_sql_fail(db, src, "cannot query the matters", sql, err, err_size);
    }
    return county_filter_bind(db, *st, w, sql, err, err_size);
}

/* "SELECT d1, d2, " */
static void
s_select_dims(char *sql, size_t size, size_t *len, const county_filter_dims_t *dims)
{
    county_sql_add(sql, size, len, "SELECT ");
    for (size_t i = 0; i < dims->n; i++) {
        county_sql_add(sql, size, len, county_filter_dim_expr(dims->d[i]));
        county_sql_add(sql, size, len, ", ");
    }
}

/* Query 1: the groups. */
static int
s_groups_main(sqlite3 *db,
              const county_filter_dims_t *dims,
              const char *from,
              const county_filter_where_t *w,
              s_groups_t *gs,
              char *err,
              size_t err_size)
{
    char sql[COUNTY_SQL_MAX * 2], group[COUNTY_SQL_MAX / 2];
    size_t len = 0, glen = 0;
    group[0] = '\0';
    for (size_t i = 0; i < dims->n; i++) {
        county_sql_add(group, sizeof group, &glen, i ? ", " : "");
        county_sql_add(group, sizeof group, &glen, county_filter_dim_expr(dims->d[i]));
    }
    s_select_dims(sql, sizeof sql, &len, dims);
    /* Three aggregates, not six, each a CASE on one column (the cheapest
     * form measured: every aggregate costs the scan per matter): concluded
     * and withdrawn share one integer (low and high 32 bits; a group holds
     * fewer than 2^31 matters), open = items - concluded - withdrawn
     * (every outcome is one of the three), and the same for the matters
     * reported as assigned. */
    county_sql_add(sql, sizeof sql, &len,
                   "count(*), coalesce(sum(persons), 0), coalesce(sum(" S_CLASS_SQL "), 0),"
                   " count(CASE source WHEN 3 THEN 1 END),"
                   " coalesce(sum(CASE source WHEN 3 THEN " S_CLASS_SQL " ELSE 0 END), 0) FROM ");
    county_sql_add(sql, sizeof sql, &len, from);
    county_sql_add(sql, sizeof sql, &len, w->sql);
    if (dims->n > 0) {
        county_sql_add(sql, sizeof sql, &len, " GROUP BY ");
        county_sql_add(sql, sizeof sql, &len, group);
        county_sql_add(sql, sizeof sql, &len, " ORDER BY ");
        county_sql_add(sql, sizeof sql, &len, group);
    }
    sqlite3_stmt *st = NULL;
    int rc = s_prepare_where(db, sql, w, &st, err, err_size);
    int src = SQLITE_OK;
    while (rc == SJ_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[COUNTY_FILTER_DIM_COUNT];
        char key[S_KEY_MAX];
        rc = s_row_key(st, dims, cells, key, err, err_size);
        if (rc != SJ_OK) {
            break;
        }
        if (gs->n == gs->cap) {
            size_t cap = gs->cap ? gs->cap * 2 : 16;
            s_group_t *g = realloc(gs->g, cap * sizeof *g);
            if (!g) {
                rc = county_sql_nomem(err, err_size);
                break;
            }
            gs->g = g;
            gs->cap = cap;
        }
        s_group_t *g = &gs->g[gs->n++];
        memset(g, 0, sizeof *g);
        int c = (int) dims->n;
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
        for (size_t i = 0; i < dims->n && g->key; i++) {
            if (!(g->cells[i] = strdup(cells[i]))) {
                rc = county_sql_nomem(err, err_size);
            }
        }
        if (!g->key) {
            rc = county_sql_nomem(err, err_size);
        }
    }
    if (rc == SJ_OK && src != SQLITE_DONE) {
        rc = county_sql_fail(db, src, "cannot read the matters", sql, err, err_size);
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        return rc;
    }
    gs->index = malloc((gs->n ? gs->n : 1) * sizeof *gs->index);
    if (!gs->index) {
        return county_sql_nomem(err, err_size);
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
              const county_filter_dims_t *dims,
              const char *from,
              int from_first,
              const county_filter_where_t *w,
              int changes,
              const char *today,
              s_groups_t *gs,
              char *err,
              size_t err_size)
{
    char sql[COUNTY_SQL_MAX * 2];
    size_t len = 0;
    s_select_dims(sql, sizeof sql, &len, dims);
    /* The small side first, matters looked up by primary key; but the
     * second ever arm (itself a small materialised table, no index) goes
     * first, and the side gets an automatic index. */
    const char *side = changes ? s_last_change_sql : s_current_assignment_sql;
    const char *on = changes ? " ON id = c_case" : " ON id = a_case";
    county_sql_add(sql, sizeof sql, &len,
                   changes ? "c_last - created_ms FROM " : "outcome, source, a_due FROM ");
    county_sql_add(sql, sizeof sql, &len, from_first ? from : side);
    county_sql_add(sql, sizeof sql, &len, from_first ? " CROSS JOIN " : " AS s_side CROSS JOIN ");
    county_sql_add(sql, sizeof sql, &len, from_first ? side : from);
    county_sql_add(sql, sizeof sql, &len, from_first ? " AS s_side" : "");
    county_sql_add(sql, sizeof sql, &len, on);
    county_sql_add(sql, sizeof sql, &len, w->sql);
    if (changes) {
        county_sql_add(sql, sizeof sql, &len, w->n ? " AND " : " WHERE ");
        county_sql_add(sql, sizeof sql, &len, S_CONCLUDED_SQL);
    }
    sqlite3_stmt *st = NULL;
    int rc = s_prepare_where(db, sql, w, &st, err, err_size);
    int src = SQLITE_OK;
    const int assigned = sj_enum_value(SJ_FIELD_SOURCE, "assigned");
    while (rc == SJ_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[COUNTY_FILTER_DIM_COUNT];
        char key[S_KEY_MAX];
        rc = s_row_key(st, dims, cells, key, err, err_size);
        if (rc != SJ_OK) {
            break;
        }
        s_group_t *g = s_groups_find(gs, key);
        if (!g) {
            continue; /* cannot happen within one snapshot */
        }
        int c = (int) dims->n;
        if (changes) {
            if (g->nclose == g->cap) {
                size_t cap = g->cap ? g->cap * 2 : 8;
                int64_t *p = realloc(g->close_ms, cap * sizeof *p);
                if (!p) {
                    rc = county_sql_nomem(err, err_size);
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
        (void) due; /* overdue: counted with the clock (s_groups_clock) */
        (void) today;
    }
    if (rc == SJ_OK && src != SQLITE_DONE) {
        rc = county_sql_fail(db, src, "cannot read the cases", sql, err, err_size);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Query 4, the clock: every matter of from with what its clock needs (its
 * changes and extensions are read by sj_clock_db, two indexed lookups), its
 * satisfaction and its current assignment's due date; adds each case to
 * its group's rates and, when overdue at any stage, to overdue. */
static int
s_groups_clock(sqlite3 *db,
               const county_filter_dims_t *dims,
               const char *from,
               const county_filter_where_t *w,
               const char *today,
               const sj_periods_t *periods,
               s_groups_t *gs,
               char *err,
               size_t err_size)
{
    char sql[COUNTY_SQL_MAX * 2];
    size_t len = 0;
    s_select_dims(sql, sizeof sql, &len, dims);
    county_sql_add(sql, sizeof sql, &len,
                   "x.id, x.occurred_on, coalesce(x.reported_outcome, x.outcome), x.source,"
                   " x.outcome, coalesce((SELECT v.satisfaction FROM evaluations v"
                   "  WHERE v.case_id = x.id ORDER BY v.row DESC LIMIT 1),"
                   " (SELECT s.satisfaction FROM status_changes s WHERE s.case_id = x.id"
                   "  AND s.applied = 2), 0),"
                   " (SELECT a.due_on FROM assignments a WHERE a.case_id = x.id"
                   "  ORDER BY a.created_ms DESC, a.eid DESC LIMIT 1) FROM ");
    county_sql_add(sql, sizeof sql, &len, from);
    county_sql_add(sql, sizeof sql, &len, " AS x");
    county_sql_add(sql, sizeof sql, &len, w->sql);
    sj_clock_db_t *cdb = NULL;
    if (sj_clock_db_open(db, COUNTY_CLOCK_CHANGES_SQL, &cdb) != SJ_OK) {
        return county_sql_fail(db, sqlite3_errcode(db), "cannot read the clock",
                               COUNTY_CLOCK_CHANGES_SQL, err, err_size);
    }
    sqlite3_stmt *st = NULL;
    int rc = s_prepare_where(db, sql, w, &st, err, err_size);
    int src = SQLITE_OK;
    while (rc == SJ_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[COUNTY_FILTER_DIM_COUNT];
        char key[S_KEY_MAX];
        rc = s_row_key(st, dims, cells, key, err, err_size);
        if (rc != SJ_OK) {
            break;
        }
        s_group_t *g = s_groups_find(gs, key);
        if (!g) {
            continue; /* cannot happen within one snapshot */
        }
        int c = (int) dims->n;
        const char *occurred = (const char *) sqlite3_column_text(st, c + 1);
        int outcome = sqlite3_column_int(st, c + 4);
        const char *due = (const char *) sqlite3_column_text(st, c + 6);
        sj_clock_t clk;
        memset(&clk, 0, sizeof clk);
        if (sqlite3_column_bytes(st, c) == SJ_ID_BYTES && occurred) {
            int crc = sj_clock_db_case(cdb, sqlite3_column_blob(st, c), occurred,
                                       sqlite3_column_int(st, c + 2), sqlite3_column_int(st, c + 3),
                                       periods, today, &clk);
            if (crc != SJ_OK && crc != SJ_EINVAL) {
                rc = county_sql_fail(db, sqlite3_errcode(db), "cannot read the clock",
                                     COUNTY_CLOCK_CHANGES_SQL, err, err_size);
                break;
            }
            if (crc == SJ_EINVAL) {
                memset(&clk, 0, sizeof clk); /* no date: no stage */
            }
        }
        sj_rates_add(&g->rates, &clk, outcome, sqlite3_column_int(st, c + 5));
        g->overdue += sj_case_overdue(&clk, outcome, due, today);
    }
    if (rc == SJ_OK && src != SQLITE_DONE) {
        rc = county_sql_fail(db, src, "cannot read the cases", sql, err, err_size);
    }
    sqlite3_finalize(st);
    sj_clock_db_close(&cdb);
    return rc;
}

/* All four queries for dims (ever: the rows of s_ever_sql). */
static int
s_groups_collect(sqlite3 *db,
                 const county_filter_dims_t *dims,
                 int ever,
                 const county_filter_where_t *w,
                 const char *today,
                 const sj_periods_t *periods,
                 s_groups_t *gs,
                 char *err,
                 size_t err_size)
{
    int rc = s_groups_main(db, dims, ever ? s_ever_sql : "matters", w, gs, err, err_size);
    const char *const plain[] = {"matters", NULL};
    const char *const arms[] = {s_ever_arm1_sql, s_ever_arm2_sql, NULL};
    for (const char *const *from = ever ? arms : plain; rc == SJ_OK && *from; from++) {
        int first = *from == s_ever_arm2_sql;
        rc = s_groups_side(db, dims, *from, first, w, 0, today, gs, err, err_size);
        if (rc == SJ_OK) {
            rc = s_groups_side(db, dims, *from, first, w, 1, today, gs, err, err_size);
        }
        if (rc == SJ_OK) {
            rc = s_groups_clock(db, dims, *from, w, today, periods, gs, err, err_size);
        }
    }
    return rc;
}

int
county_figs_permille(int64_t num, int64_t den)
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
s_group_figs(s_group_t *g, county_figs_t *f)
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
    f->rates = g->rates;
    f->closure_permille = county_figs_permille(g->concluded, g->items - g->withdrawn);
    f->assigned_closure_permille =
        county_figs_permille(g->assigned_concluded, g->assigned - g->assigned_withdrawn);
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
        sj_rates_sum(&t->rates, &g->rates);
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

/* The total figures of the filtered matters (groups of no dims). */
static int
s_total_figs(sqlite3 *db,
             const county_filter_where_t *w,
             const char *today,
             const sj_periods_t *periods,
             county_figs_t *out,
             char *err,
             size_t err_size)
{
    static const county_filter_dims_t none = {.n = 0};
    s_groups_t gs;
    memset(&gs, 0, sizeof gs);
    int rc = s_groups_collect(db, &none, 0, w, today, periods, &gs, err, err_size);
    if (rc == SJ_OK) {
        s_group_t t;
        if (s_groups_total(&gs, &t) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
        } else {
            s_group_figs(&t, out);
            free(t.close_ms);
        }
    }
    s_groups_free(&gs);
    return rc;
}

/* The periods of f, or the defaults (into *buf). */
static const sj_periods_t *
s_periods(const county_filter_t *f, sj_periods_t *buf)
{
    if (f && f->periods) {
        return f->periods;
    }
    sj_periods_default(buf);
    return buf;
}

static int
s_consts_fail(char *err, size_t err_size)
{
    snprintf(err, err_size, "internal error: outcome numbers differ from the model");
    return SJ_EDB;
}

int
county_figs_total(
    sqlite3 *db, const county_filter_t *f, county_figs_t *out, char *err, size_t err_size)
{
    assert(db);
    assert(out);
    memset(out, 0, sizeof *out);
    int rc = county_filter_check(f, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    if (!s_case_consts_ok()) {
        return s_consts_fail(err, err_size);
    }
    char today[11];
    county_filter_today(f, today);
    sj_periods_t periods;
    county_filter_where_t where;
    county_filter_where(f, &where);
    int began = 0;
    rc = county_sql_snapshot_begin(db, &began, err, err_size);
    if (rc == SJ_OK) {
        rc = s_total_figs(db, &where, today, s_periods(f, &periods), out, err, err_size);
    }
    county_sql_snapshot_end(db, began);
    return rc;
}

const char *const county_figs_names[COUNTY_FIGS_NCOLS] = {"items",
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
                                                          "assigned_closure_rate",
                                                          "accepted_timely",
                                                          "acceptance_decided",
                                                          "timely_acceptance_rate",
                                                          "concluded_on_time",
                                                          "conclusion_done",
                                                          "on_time_conclusion_rate",
                                                          "satisfied",
                                                          "evaluated",
                                                          "satisfaction_rate",
                                                          "participation_rate"};
const int county_figs_decimal[COUNTY_FIGS_NCOLS] = {0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0,
                                                    1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1};

void
county_figs_cells(const county_figs_t *f,
                  char bufs[COUNTY_FIGS_NCOLS][COUNTY_SQL_NUM],
                  const char **cells)
{
    const int64_t ints[COUNTY_FIGS_NCOLS] = {f->items,
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
    for (int i = 0; i < COUNTY_FIGS_NCOLS; i++) {
        snprintf(bufs[i], COUNTY_SQL_NUM, "%" PRId64, ints[i]);
        cells[i] = bufs[i];
    }
    cells[6] = cells[7] = cells[11] = NULL;
    char rbufs[SJ_RATES_NCOLS][32];
    sj_rates_cells(&f->rates, rbufs, cells + COUNTY_FIGS_RATES_AT);
    for (int i = 0; i < SJ_RATES_NCOLS; i++) {
        if (cells[COUNTY_FIGS_RATES_AT + i]) {
            snprintf(bufs[COUNTY_FIGS_RATES_AT + i], COUNTY_SQL_NUM, "%.20s", rbufs[i]);
            cells[COUNTY_FIGS_RATES_AT + i] = bufs[COUNTY_FIGS_RATES_AT + i];
        }
    }
    if (f->closure_permille >= 0) {
        snprintf(bufs[6], COUNTY_SQL_NUM, "%d.%d", f->closure_permille / 10,
                 f->closure_permille % 10);
        cells[6] = bufs[6];
    }
    if (f->has_median) {
        snprintf(bufs[7], COUNTY_SQL_NUM, "%.1f", f->median_days);
        cells[7] = bufs[7];
    }
    if (f->assigned_closure_permille >= 0) {
        snprintf(bufs[11], COUNTY_SQL_NUM, "%d.%d", f->assigned_closure_permille / 10,
                 f->assigned_closure_permille % 10);
        cells[11] = bufs[11];
    }
}

int
county_figs_table(sqlite3 *db,
                  const county_filter_dims_t *dims,
                  const county_filter_t *f,
                  sj_table_t **rows,
                  county_figs_t *total,
                  char *err,
                  size_t err_size)
{
    assert(db);
    assert(rows);
    *rows = NULL;
    memset(total, 0, sizeof *total);
    if (!s_case_consts_ok()) {
        return s_consts_fail(err, err_size);
    }
    int ever = county_filter_dims_has(dims, COUNTY_FILTER_DIM_EVER_OUTCOME);
    char today[11];
    county_filter_today(f, today);
    sj_periods_t periods;
    const sj_periods_t *pp = s_periods(f, &periods);
    county_filter_where_t where;
    county_filter_where(f, &where);

    const size_t ndims = dims->n;
    const char *names[COUNTY_FILTER_DIM_COUNT + COUNTY_FIGS_NCOLS];
    sj_col_type_t types[COUNTY_FILTER_DIM_COUNT + COUNTY_FIGS_NCOLS];
    for (size_t i = 0; i < ndims; i++) {
        names[i] = county_filter_dim_name(dims->d[i]);
        types[i] = SJ_COL_TEXT;
    }
    for (size_t i = 0; i < COUNTY_FIGS_NCOLS; i++) {
        names[ndims + i] = county_figs_names[i];
        types[ndims + i] = SJ_COL_INT;
    }
    s_groups_t gs;
    memset(&gs, 0, sizeof gs);
    s_group_t tg;
    memset(&tg, 0, sizeof tg);
    int began = 0;
    sj_table_t *t = sj_table_new(ndims + COUNTY_FIGS_NCOLS, names, types);
    if (!t) {
        return county_sql_nomem(err, err_size);
    }
    int rc = county_sql_snapshot_begin(db, &began, err, err_size);
    if (rc == SJ_OK) {
        rc = s_groups_collect(db, dims, ever, &where, today, pp, &gs, err, err_size);
    }
    /* The total: the sum of the groups, except with ever_outcome, where a
     * matter is in several rows and the total counts each once. */
    if (rc == SJ_OK && ever) {
        rc = s_total_figs(db, &where, today, pp, total, err, err_size);
    } else if (rc == SJ_OK) {
        if (s_groups_total(&gs, &tg) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
        } else {
            s_group_figs(&tg, total);
        }
    }
    county_sql_snapshot_end(db, began);
    for (size_t g = 0; rc == SJ_OK && g < gs.n; g++) {
        county_figs_t figs;
        s_group_figs(&gs.g[g], &figs);
        const char *cells[COUNTY_FILTER_DIM_COUNT + COUNTY_FIGS_NCOLS];
        char bufs[COUNTY_FIGS_NCOLS][COUNTY_SQL_NUM];
        for (size_t i = 0; i < ndims; i++) {
            cells[i] = gs.g[g].cells[i];
        }
        county_figs_cells(&figs, bufs, cells + ndims);
        if (sj_table_add_row(t, cells) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
        }
    }
    if (rc == SJ_OK && ndims > 0) {
        const char *cells[COUNTY_FILTER_DIM_COUNT + COUNTY_FIGS_NCOLS] = {NULL};
        char bufs[COUNTY_FIGS_NCOLS][COUNTY_SQL_NUM];
        cells[0] = "total";
        county_figs_cells(total, bufs, cells + ndims);
        if (sj_table_set_total(t, cells) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
        }
    }
    free(tg.close_ms);
    s_groups_free(&gs);
    if (rc != SJ_OK) {
        sj_table_destroy(&t);
        return rc;
    }
    *rows = t;
    return SJ_OK;
}
