/* Do the case views (cases, stats' case figures, --by ever_outcome, the report's assigned
 * cases) count exactly what a county store holds, by the definitions of county_query.h?
 *
 * The store is filled through its public ingest path (county_store_downlink_ops.store_event,
 * as `run` stores reports and status changes from below) and, for assignments, which no store
 * function makes yet, by plain SQL into the v3 table. Every expected figure is computed here
 * from the data below with no SQL: the current outcomes by the walk docs/CASES.md documents
 * (each change names the change it was made from), then each definition applied case by case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "county_cases.h"
#include "county_query.h"
#include "county_report.h"
#include "county_store.h"
#include "sj_case.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_wire.h"

enum { PENDING = 1, ON_SPOT, ACCEPTED, CLOSED, WITHDRAWN };
enum { DIRECT = 1, LEADER, ASSIGNED, REVIEW };

#define TODAY "2024-06-15"
#define T0    1704067200000LL /* 2024-01-01T00:00:00Z */
#define HOUR  3600000LL
#define DAY   (24 * HOUR)
#define S1    "230523100201"
#define S2    "230523100202"
#define S3    "230523101201"
#define HUB   "230523100"

#define ID(n) "01900000-0000-7000-8000-0000000000" #n

typedef struct {
    const char *id;
    const char *station;
    const char *occurred_on;
    int persons, category, outcome, source; /* outcome: as reported */
    long long created_ms;                   /* the report's */
} s_case_t;

static const s_case_t s_cases[] = {
    /* 0 pending, assigned, past due: overdue */
    {ID(00), S1, "2024-01-05", 1, 1, PENDING, DIRECT, T0},
    /* 1 accepted by a change, assigned twice: the later (past due) counts */
    {ID(01), S1, "2024-01-10", 3, 2, PENDING, DIRECT, T0 + DAY},
    /* 2 accepted then closed 5.5 days after the report; assigned */
    {ID(02), S2, "2024-02-01", 2, 1, PENDING, LEADER, T0 + 2 * DAY},
    /* 3 reported as assigned, no assignment row (no due date), pending */
    {ID(03), S2, "2024-02-02", 1, 3, PENDING, ASSIGNED, T0 + 3 * DAY},
    /* 4 withdrawn by a change; assigned */
    {ID(04), S3, "2024-03-01", 4, 4, PENDING, DIRECT, T0 + 4 * DAY},
    /* 5 accepted; two assignments made at the same ms: the greater eid counts (far due) */
    {ID(05), S3, "2024-03-02", 1, 5, ACCEPTED, REVIEW, T0 + 5 * DAY},
    /* 6 pending, due today: open, not overdue, 0 days left */
    {ID(06), S3, "2024-03-03", 2, 1, PENDING, DIRECT, T0 + 6 * DAY},
    /* 7 reported closed, an invalid change (closed -> withdrawn) kept but not applied */
    {ID(07), S1, "2024-04-01", 6, 2, CLOSED, ASSIGNED, T0 + 7 * DAY},
    /* 8 reported resolved on the spot */
    {ID(08), S2, "2024-04-02", 1, 3, ON_SPOT, DIRECT, T0 + 8 * DAY},
    /* 9 concurrent: station closes, hub withdraws from the same accepted state */
    {ID(09), S1, "2024-05-01", 2, 4, PENDING, ASSIGNED, T0 + 9 * DAY},
    /* 10 closed 1 day after the report, then reopened by review (accepted) */
    {ID(10), S3, "2024-05-02", 1, 5, PENDING, DIRECT, T0 + 10 * DAY},
    /* 11 last year: accepted then closed 2 days after */
    {ID(11), S1, "2023-12-20", 3, 1, PENDING, LEADER, T0 - 10 * DAY},
};
#define S_NCASES (sizeof s_cases / sizeof s_cases[0])

typedef struct {
    int c;              /* index into s_cases */
    const char *origin; /* who made the change */
    long long at;       /* created_ms: display only, never an order */
    int prev, next;
    int parent; /* the change (index into s_changes) it was made from; -1: the report */
} s_change_t;

#define T101 "230523101"

static const s_change_t s_changes[] = {
    {1, S1, T0 + DAY + 2 * HOUR, PENDING, ACCEPTED, -1},
    {2, S2, T0 + 2 * DAY + 1 * DAY, PENDING, ACCEPTED, -1},
    {2, HUB, T0 + 2 * DAY + 5 * DAY + 12 * HOUR, ACCEPTED, CLOSED, 1},
    {4, S3, T0 + 4 * DAY + 3 * HOUR, PENDING, WITHDRAWN, -1},
    {7, S1, T0 + 7 * DAY + HOUR, CLOSED, WITHDRAWN, -1},
    /* 9: from the same accepted, the station closes, its township withdraws: the township
     * outranks the station */
    {9, S1, T0 + 9 * DAY + HOUR, PENDING, ACCEPTED, -1},
    {9, S1, T0 + 9 * DAY + 3 * DAY, ACCEPTED, CLOSED, 5},
    {9, HUB, T0 + 9 * DAY + 3 * DAY + HOUR, ACCEPTED, WITHDRAWN, 5},
    {10, S3, T0 + 10 * DAY + 4 * HOUR, PENDING, ACCEPTED, -1},
    {10, S3, T0 + 10 * DAY + DAY, ACCEPTED, CLOSED, 8},
    {10, T101, T0 + 10 * DAY + 20 * DAY, CLOSED, ACCEPTED, 9},
    {11, S1, T0 - 10 * DAY + HOUR, PENDING, ACCEPTED, -1},
    {11, S1, T0 - 10 * DAY + 2 * DAY, ACCEPTED, CLOSED, 11},
};
#define S_NCHANGES (sizeof s_changes / sizeof s_changes[0])
static uint8_t s_change_id[S_NCHANGES][16]; /* made when stored */

typedef struct {
    int c;
    const char *assignee, *due;
    long long at;
} s_assign_t;

/* inserted in this order, so eid follows it */
static const s_assign_t s_assigns[] = {
    {0, HUB, "2024-06-01", T0 + 100},         {1, S1, "2024-07-01", T0 + 100},
    {1, HUB, "2024-06-10", T0 + 200},         {2, S2, "2024-01-01", T0 + 100},
    {4, S3, "2024-05-01", T0 + 100},          {5, S3, "2024-05-01", T0 + 300},
    {5, "230523101", "2024-12-31", T0 + 300}, {6, S3, TODAY, T0 + 100},
};
#define S_NASSIGNS (sizeof s_assigns / sizeof s_assigns[0])

/* ---- the expected state, computed from the data ---- */

typedef struct {
    int outcome;     /* current */
    int conflict;    /* listed in conflicts */
    long long last;  /* created_ms of the last applied change, 0 = none */
    int ever[6];     /* [outcome]: reported, or a change not in conflicts */
    int assigned;    /* an assignment row or reported as assigned */
    const char *due; /* the current assignment's, or NULL */
    const char *to;  /* its assignee */
} s_want_t;

static s_want_t s_want[S_NCASES];

/* Periods so long that no statutory stage of this data set is overdue on
 * TODAY: the checks below are of the 交办 side; test_county_cases_clock
 * checks the statutory clock with the defaults. */
static const sj_periods_t s_long = {365, 365, 365, 30, 1};

/* Stored in reverse (s_fill), so a later index arrived first. */
static int
s_arrived_before(size_t a, size_t b)
{
    return a > b;
}

/* The walk of docs/CASES.md, written here from the document: from the
 * report, at the change in force, its children that may change the case
 * (the reporting station, its township, the county) and reach their
 * outcome from the one in force; the winner: the higher authority (a
 * shorter code), then the first to arrive. Listed: every change not
 * applied, and a winner over concurrent ones. */
static void
s_expect(void)
{
    memset(s_want, 0, sizeof s_want);
    for (size_t i = 0; i < S_NCASES; i++) {
        s_want_t *w = &s_want[i];
        int applied[S_NCHANGES] = {0}, won[S_NCHANGES] = {0};
        int cur = s_cases[i].outcome;
        w->ever[cur] = 1;
        long node = -1;
        for (;;) {
            long best = -1;
            int n_cand = 0;
            for (size_t k = 0; k < S_NCHANGES; k++) {
                const s_change_t *ch = &s_changes[k];
                int may = strcmp(ch->origin, s_cases[i].station) == 0
                          || strncmp(ch->origin, s_cases[i].station, strlen(ch->origin)) == 0;
                if (ch->c != (int) i || ch->parent != node || !may
                    || !sj_outcome_transition_ok(cur, ch->next)) {
                    continue;
                }
                n_cand++;
                if (best < 0 || strlen(ch->origin) < strlen(s_changes[best].origin)
                    || (strlen(ch->origin) == strlen(s_changes[best].origin)
                        && s_arrived_before(k, (size_t) best))) {
                    best = (long) k;
                }
            }
            if (best < 0) {
                break;
            }
            applied[best] = 1;
            won[best] = n_cand > 1;
            cur = s_changes[best].next;
            w->ever[cur] = 1;
            w->last = s_changes[best].at;
            node = best;
        }
        w->outcome = cur;
        for (size_t k = 0; k < S_NCHANGES; k++) {
            if (s_changes[k].c == (int) i && (!applied[k] || won[k])) {
                w->conflict = 1;
            }
        }
        long long at = -1;
        for (size_t k = 0; k < S_NASSIGNS; k++) {
            if (s_assigns[k].c == (int) i && s_assigns[k].at >= at) { /* later eid wins ties */
                at = s_assigns[k].at;
                w->due = s_assigns[k].due;
                w->to = s_assigns[k].assignee;
            }
        }
        w->assigned = w->due != NULL || s_cases[i].source == ASSIGNED;
    }
}

static int
s_open(int o)
{
    return o == PENDING || o == ACCEPTED;
}

static int
s_concluded(int o)
{
    return o == ON_SPOT || o == CLOSED;
}

static int
s_overdue(size_t i)
{
    return s_open(s_want[i].outcome) && s_want[i].due && strcmp(s_want[i].due, TODAY) < 0;
}

/* Days since 1970-01-01 of a YYYY-MM-DD (Howard Hinnant's days_from_civil). */
static long
s_days(const char *date)
{
    int y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct {
    long items, persons, open, overdue, concluded, withdrawn;
    long assigned, a_concluded, a_withdrawn;
    long long close[S_NCASES]; /* times to close of the concluded, ms */
    size_t nclose;
} s_figs_t;

/* The figures of the cases that pass: township (NULL: any), from/to
 * (NULL: open), ever (0: any; else the cases that ever had it). */
static void
s_figs(const char *township, const char *from, const char *to, int ever, s_figs_t *f)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < S_NCASES; i++) {
        const s_case_t *c = &s_cases[i];
        const s_want_t *w = &s_want[i];
        if ((township && strncmp(c->station, township, 9) != 0)
            || (from && strcmp(c->occurred_on, from) < 0) || (to && strcmp(c->occurred_on, to) > 0)
            || (ever && !w->ever[ever])) {
            continue;
        }
        f->items++;
        f->persons += c->persons;
        f->open += s_open(w->outcome);
        f->overdue += s_overdue(i);
        f->concluded += s_concluded(w->outcome);
        f->withdrawn += w->outcome == WITHDRAWN;
        if (s_concluded(w->outcome)) {
            f->close[f->nclose++] = w->last ? w->last - c->created_ms : 0;
        }
        if (w->assigned) {
            f->assigned++;
            f->a_concluded += s_concluded(w->outcome);
            f->a_withdrawn += w->outcome == WITHDRAWN;
        }
    }
}

static int
s_ll_cmp(const void *a, const void *b)
{
    long long x = *(const long long *) a, y = *(const long long *) b;
    return x < y ? -1 : x > y;
}

/* "%.1f" of the median days, or "null". */
static void
s_median_text(s_figs_t *f, char *out, size_t size)
{
    if (f->nclose == 0) {
        snprintf(out, size, "null");
        return;
    }
    qsort(f->close, f->nclose, sizeof f->close[0], s_ll_cmp);
    size_t n = f->nclose;
    double ms = n % 2 ? (double) f->close[n / 2]
                      : ((double) f->close[n / 2 - 1] + (double) f->close[n / 2]) / 2.0;
    snprintf(out, size, "%.1f", ms / 86400000.0);
}

/* "%.1f" of num/den as a percentage (rounded half up in per mille), or "null". */
static void
s_rate_text(long num, long den, char *out, size_t size)
{
    if (den <= 0) {
        snprintf(out, size, "null");
        return;
    }
    long pm = (num * 2000 + den) / (2 * den);
    snprintf(out, size, "%ld.%ld", pm / 10, pm % 10);
}

/* ---- the store ---- */

typedef struct {
    char dir[64];
    county_store_t *store;
    sqlite3 *db;
} s_fx_t;

static uint64_t s_seq;

static void
s_store(s_fx_t *fx, const char *via, sj_event_t *ev)
{
    memset(ev->epoch, 7, SJ_EPOCH_BYTES);
    ev->origin_seq = ++s_seq;
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
    sj_stored_t res = SJ_STORED_DUPLICATE;
    assert_int_equal(county_store_downlink_ops.store_event(fx->store, via, ev, raw, len, &res),
                     SJ_OK);
    assert_int_equal(res, SJ_STORED_NEW);
    free(raw);
}

static void
s_fill(s_fx_t *fx)
{
    assert_int_equal(sqlite3_exec(fx->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (size_t i = 0; i < S_NCASES; i++) {
        const s_case_t *c = &s_cases[i];
        sj_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SJ_EVENT_REPORT;
        assert_int_equal(sj_uuid_parse(c->id, ev.id), SJ_OK);
        snprintf(ev.origin, sizeof ev.origin, "%s", c->station);
        ev.created_ms = c->created_ms;
        snprintf(ev.report.occurred_on, sizeof ev.report.occurred_on, "%s", c->occurred_on);
        ev.report.channel = 1;
        ev.report.kind = 1;
        ev.report.persons = (uint32_t) c->persons;
        ev.report.level = 3;
        ev.report.category = c->category;
        ev.report.outcome = c->outcome;
        ev.report.source = c->source;
        ev.report.summary = "土地纠纷";
        ev.report.officer = "officer";
        s_store(fx, c->station, &ev);
    }
    /* changes in the reverse of the order they were made: a change comes
     * before the one it was made from (it waits), and the replay must end
     * where it would have in order */
    for (size_t k = 0; k < S_NCHANGES; k++) {
        sj_uuid7_new(s_change_id[k]);
    }
    for (size_t k = S_NCHANGES; k-- > 0;) {
        const s_change_t *ch = &s_changes[k];
        sj_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SJ_EVENT_STATUS;
        memcpy(ev.id, s_change_id[k], 16);
        if (ch->parent >= 0) {
            ev.has_prev_change = 1;
            memcpy(ev.prev_change, s_change_id[ch->parent], 16);
        }
        snprintf(ev.origin, sizeof ev.origin, "%s", ch->origin);
        ev.created_ms = ch->at;
        assert_int_equal(sj_uuid_parse(s_cases[ch->c].id, ev.case_id), SJ_OK);
        ev.prev_outcome = ch->prev;
        ev.new_outcome = ch->next;
        s_store(fx, ch->origin, &ev);
    }
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(fx->db,
                                        "INSERT INTO assignments(id, case_id, assignee, due_on,"
                                        " origin, created_ms, note) VALUES(?, ?, ?, ?, '230523',"
                                        " ?, '')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (size_t k = 0; k < S_NASSIGNS; k++) {
        uint8_t aid[16], cid[16];
        sj_uuid7_new(aid);
        assert_int_equal(sj_uuid_parse(s_cases[s_assigns[k].c].id, cid), SJ_OK);
        sqlite3_bind_blob(st, 1, aid, 16, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, cid, 16, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, s_assigns[k].assignee, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, s_assigns[k].due, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, s_assigns[k].at);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

static int
s_setup(void **state)
{
    if (sj_ids_init() != SJ_OK) {
        return -1;
    }
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sanji-cases-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[256] = "";
    fx->store = county_store_open(fx->dir, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!fx->store) {
        fail_msg("county_store_open: %s", err);
    }
    fx->db = county_store_db(fx->store);
    s_fill(fx);
    s_expect();
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    county_store_close(&fx->store);
    DIR *d = opendir(fx->dir);
    struct dirent *ent;
    while (d && (ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", fx->dir, ent->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Runs a writer into memory and parses its JSON. */
static cJSON *
s_stats_json(s_fx_t *fx, const char *by, const county_filter_t *f)
{
    char *text = NULL, err[512] = "";
    size_t len = 0;
    /* overdue counts every stage: the long periods leave the 交办 side */
    county_filter_t fl = f ? *f : (county_filter_t){.today = TODAY};
    if (!fl.periods) {
        fl.periods = &s_long;
    }
    f = &fl;
    FILE *out = open_memstream(&text, &len);
    int rc =
        county_query_stats_ex(fx->db, by, f, SJ_FMT_JSON, COUNTY_STATS_CASES, out, err, sizeof err);
    fclose(out);
    if (rc != SJ_OK) {
        fail_msg("stats: %s", err);
    }
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    free(text);
    return root;
}

static cJSON *
s_cases_json(s_fx_t *fx, const county_cases_filter_t *f)
{
    char *text = NULL, err[512] = "";
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int rc = county_cases_query(fx->db, f, SJ_FMT_JSON, out, err, sizeof err);
    fclose(out);
    if (rc != SJ_OK) {
        fail_msg("cases: %s", err);
    }
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    free(text);
    return root;
}

/* A JSON figure as text: integers "%ld", decimals "%.1f", null "null". */
static void
s_json_text(const cJSON *obj, const char *key, int decimal, char *out, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        fail_msg("no %s", key);
    }
    if (cJSON_IsNull(v)) {
        snprintf(out, size, "null");
    } else if (decimal) {
        snprintf(out, size, "%.1f", v->valuedouble);
    } else {
        snprintf(out, size, "%ld", (long) v->valuedouble);
    }
}

/* Every figure of one stats object against the expected ones. */
static void
s_check_figs(const cJSON *obj, s_figs_t *f)
{
    char want[13][32];
    const char *keys[13] = {"items",
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
                            NULL};
    const long ints[12] = {f->items,       f->persons, f->open, f->overdue,  f->concluded,
                           f->withdrawn,   0,          0,       f->assigned, f->a_concluded,
                           f->a_withdrawn, 0};
    for (int i = 0; i < 12; i++) {
        snprintf(want[i], sizeof want[i], "%ld", ints[i]);
    }
    s_rate_text(f->concluded, f->items - f->withdrawn, want[6], sizeof want[6]);
    s_median_text(f, want[7], sizeof want[7]);
    s_rate_text(f->a_concluded, f->assigned - f->a_withdrawn, want[11], sizeof want[11]);
    for (int i = 0; i < 12; i++) {
        char got[32];
        s_json_text(obj, keys[i], i == 6 || i == 7 || i == 11, got, sizeof got);
        if (strcmp(got, want[i]) != 0) {
            fail_msg("%s: got %s, want %s", keys[i], got, want[i]);
        }
    }
}

/* A status change stored before its report, by the ingest path. */
static void
s_early_change(s_fx_t *fx, const uint8_t case_id[16])
{
    sj_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SJ_EVENT_STATUS;
    sj_uuid7_new(ev.id);
    snprintf(ev.origin, sizeof ev.origin, "230523100201");
    ev.created_ms = 1700000000000;
    memcpy(ev.case_id, case_id, 16);
    ev.prev_outcome = PENDING;
    ev.new_outcome = ACCEPTED;
    s_store(fx, "230523100", &ev);
}

/* The report itself, pending as reported; returns the outcome stored. */
static int
s_late_report(s_fx_t *fx, const uint8_t id[16])
{
    sj_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SJ_EVENT_REPORT;
    memcpy(ev.id, id, 16);
    snprintf(ev.origin, sizeof ev.origin, "230523100201");
    ev.created_ms = 1690000000000;
    snprintf(ev.report.occurred_on, sizeof ev.report.occurred_on, "2024-05-01");
    ev.report.channel = ev.report.kind = ev.report.category = 1;
    ev.report.level = 3;
    ev.report.persons = 1;
    ev.report.outcome = PENDING;
    ev.report.source = DIRECT;
    ev.report.summary = "";
    ev.report.officer = "";
    s_store(fx, "230523100", &ev);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(fx->db, "SELECT outcome FROM matters WHERE id=?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int outcome = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return outcome;
}

/* Changes that come before their report are applied when it comes: in the
 * same run (the store marks the case when it keeps such a change) and after
 * a restart (the marks are rebuilt when the store opens). A new report
 * looks for earlier changes only when its case is marked (sj_idbits), so
 * this fails if either mark is missing. */
static void
test_county_cases_changes_before_report(void **state)
{
    (void) state;
    s_fx_t fx = {.dir = "/tmp/sanji-early-XXXXXX"};
    assert_non_null(mkdtemp(fx.dir));
    char err[256] = "";
    fx.store = county_store_open(fx.dir, NULL, SJ_DB_WRITE, err, sizeof err);
    assert_non_null(fx.store);
    fx.db = county_store_db(fx.store);
    uint8_t a[16], b[16], c[16];
    sj_uuid7_new(a);
    sj_uuid7_new(b);
    sj_uuid7_new(c);
    s_early_change(&fx, a);
    s_early_change(&fx, b);
    assert_int_equal(s_late_report(&fx, a), ACCEPTED); /* same run */
    county_store_close(&fx.store);
    fx.store = county_store_open(fx.dir, NULL, SJ_DB_WRITE, err, sizeof err);
    assert_non_null(fx.store);
    fx.db = county_store_db(fx.store);
    assert_int_equal(s_late_report(&fx, b), ACCEPTED); /* after a restart */
    assert_int_equal(s_late_report(&fx, c), PENDING);  /* no change: as reported */
    county_store_close(&fx.store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx.dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_county_cases_replay_as_documented(void **state)
{
    s_fx_t *fx = *state;
    /* the data set is what the comments say */
    assert_int_equal(s_want[1].outcome, ACCEPTED);
    assert_int_equal(s_want[2].outcome, CLOSED);
    assert_int_equal(s_want[7].outcome, CLOSED);
    assert_true(s_want[7].conflict);
    assert_int_equal(s_want[9].outcome, WITHDRAWN);
    assert_true(s_want[9].conflict);
    assert_int_equal(s_want[10].outcome, ACCEPTED);
    assert_false(s_want[10].conflict);
    /* and the store agrees on every current outcome */
    county_cases_filter_t all = {.today = TODAY, .periods = &s_long};
    cJSON *rows = s_cases_json(fx, &all);
    assert_int_equal(cJSON_GetArraySize(rows), S_NCASES);
    for (size_t i = 0; i < S_NCASES; i++) {
        const cJSON *row = NULL, *r;
        cJSON_ArrayForEach(r, rows)
        {
            if (strcmp(cJSON_GetObjectItem(r, "case_id")->valuestring, s_cases[i].id) == 0) {
                row = r;
            }
        }
        assert_non_null(row);
        assert_string_equal(cJSON_GetObjectItem(row, "outcome")->valuestring,
                            sj_enum_name(SJ_FIELD_OUTCOME, s_want[i].outcome));
        assert_string_equal(cJSON_GetObjectItem(row, "conflict")->valuestring,
                            s_want[i].conflict ? "yes" : "");
    }
    cJSON_Delete(rows);
}

static void
test_county_cases_list_columns(void **state)
{
    s_fx_t *fx = *state;
    county_cases_filter_t all = {.today = TODAY, .periods = &s_long};
    cJSON *rows = s_cases_json(fx, &all);
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        const char *id = cJSON_GetObjectItem(row, "case_id")->valuestring;
        size_t i = 0;
        while (i < S_NCASES && strcmp(s_cases[i].id, id) != 0) {
            i++;
        }
        assert_true(i < S_NCASES);
        const s_want_t *w = &s_want[i];
        assert_string_equal(cJSON_GetObjectItem(row, "assigned")->valuestring,
                            w->assigned ? "yes" : "");
        assert_string_equal(cJSON_GetObjectItem(row, "overdue")->valuestring,
                            s_overdue(i) ? "yes" : "");
        assert_string_equal(cJSON_GetObjectItem(row, "occurred_on")->valuestring,
                            s_cases[i].occurred_on);
        assert_string_equal(cJSON_GetObjectItem(row, "source")->valuestring,
                            sj_enum_name(SJ_FIELD_SOURCE, s_cases[i].source));
        const cJSON *due = cJSON_GetObjectItem(row, "due_on");
        const cJSON *to = cJSON_GetObjectItem(row, "assignee");
        const cJSON *left = cJSON_GetObjectItem(row, "days_left");
        if (!w->due) {
            assert_true(cJSON_IsNull(due) && cJSON_IsNull(to) && cJSON_IsNull(left));
            continue;
        }
        assert_string_equal(due->valuestring, w->due);
        assert_string_equal(to->valuestring, w->to);
        if (s_open(w->outcome)) {
            assert_int_equal((long) left->valuedouble, s_days(w->due) - s_days(TODAY));
        } else {
            assert_true(cJSON_IsNull(left));
        }
    }
    cJSON_Delete(rows);
}

/* With the statutory periods (defaults): case 3 (pending, received
 * 2024-02-02, no due date) is overdue for its acceptance decision (due
 * 2024-02-17); case 1 (accepted 2024-01-02) for its conclusion (due
 * 2024-03-02) and its 交办; case 10, reopened (复查) on 2024-01-31 (its
 * changes' dates), has its review due 2024-03-01, overdue by 106 days;
 * case 2 was concluded in time. */
static void
test_county_cases_clock(void **state)
{
    s_fx_t *fx = *state;
    county_cases_filter_t all = {.today = TODAY};
    cJSON *rows = s_cases_json(fx, &all);
    const cJSON *r;
    int seen = 0;
    cJSON_ArrayForEach(r, rows)
    {
        const char *id = cJSON_GetObjectItem(r, "case_id")->valuestring;
        const char *what = cJSON_GetObjectItem(r, "overdue_what")->valuestring;
        if (strcmp(id, s_cases[3].id) == 0) {
            assert_string_equal(cJSON_GetObjectItem(r, "accept_due")->valuestring, "2024-02-17");
            assert_string_equal(what, "acceptance");
            assert_string_equal(cJSON_GetObjectItem(r, "clock_overdue")->valuestring, "yes");
            /* overdue at any stage, not only 交办 (docs/CLOCK.md §5) */
            assert_string_equal(cJSON_GetObjectItem(r, "overdue")->valuestring, "yes");
            seen |= 1;
        } else if (strcmp(id, s_cases[1].id) == 0) {
            assert_string_equal(cJSON_GetObjectItem(r, "conclude_due")->valuestring, "2024-03-02");
            assert_string_equal(what, "conclusion,assignment");
            seen |= 2;
        } else if (strcmp(id, s_cases[10].id) == 0) {
            assert_string_equal(cJSON_GetObjectItem(r, "review_due")->valuestring, "2024-03-01");
            assert_int_equal(cJSON_GetObjectItem(r, "review_left")->valueint, -106);
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "conclude_left")));
            assert_string_equal(what, "review");
            seen |= 4;
        } else if (strcmp(id, s_cases[2].id) == 0) {
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "conclude_left")));
            assert_string_equal(what, "");
            seen |= 8;
        }
    }
    assert_int_equal(seen, 15);
    cJSON_Delete(rows);
}

/* The ids a filter selects equal the cases the definition selects. */
static void
s_check_selection(s_fx_t *fx, const county_cases_filter_t *f, int (*want)(size_t))
{
    cJSON *rows = s_cases_json(fx, f);
    size_t n = 0;
    for (size_t i = 0; i < S_NCASES; i++) {
        int in = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, rows)
        {
            in |= strcmp(cJSON_GetObjectItem(r, "case_id")->valuestring, s_cases[i].id) == 0;
        }
        if (in != want(i)) {
            fail_msg("case %zu: listed %d, want %d", i, in, want(i));
        }
        n += (size_t) in;
    }
    assert_int_equal((size_t) cJSON_GetArraySize(rows), n);
    cJSON_Delete(rows);
}

static int
s_sel_overdue(size_t i)
{
    return s_overdue(i);
}

static int
s_sel_open_t100(size_t i)
{
    return s_open(s_want[i].outcome) && strncmp(s_cases[i].station, HUB, 9) == 0;
}

static int
s_sel_assigned_2024(size_t i)
{
    return s_want[i].assigned && strncmp(s_cases[i].occurred_on, "2024", 4) == 0;
}

static int
s_sel_direct(size_t i)
{
    return s_cases[i].source == DIRECT;
}

static int
s_sel_conflicts_open(size_t i)
{
    return s_want[i].conflict && s_open(s_want[i].outcome);
}

static void
test_county_cases_filters_combine(void **state)
{
    s_fx_t *fx = *state;
    county_cases_filter_t f = {.today = TODAY, .periods = &s_long, .overdue_only = 1};
    s_check_selection(fx, &f, s_sel_overdue);
    f = (county_cases_filter_t){
        .today = TODAY, .periods = &s_long, .open_only = 1, .township = HUB};
    s_check_selection(fx, &f, s_sel_open_t100);
    f = (county_cases_filter_t){.today = TODAY,
                                .periods = &s_long,
                                .source = "assigned",
                                .from = "2024-01-01",
                                .to = "2024-12-31"};
    s_check_selection(fx, &f, s_sel_assigned_2024);
    f = (county_cases_filter_t){.today = TODAY, .periods = &s_long, .source = "direct"};
    s_check_selection(fx, &f, s_sel_direct);
    f = (county_cases_filter_t){
        .today = TODAY, .periods = &s_long, .conflicts_only = 1, .open_only = 1};
    s_check_selection(fx, &f, s_sel_conflicts_open);
    /* bad values: the reason names the option */
    char err[256];
    f = (county_cases_filter_t){.source = "fax"};
    assert_int_equal(county_cases_check(&f, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "--source 'fax'"));
    f = (county_cases_filter_t){.township = "23052310"};
    assert_int_equal(county_cases_check(&f, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "--township"));
    f = (county_cases_filter_t){.from = "2024-02-30"};
    assert_int_equal(county_cases_check(&f, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "--from"));
}

static void
test_county_cases_stats_figures(void **state)
{
    s_fx_t *fx = *state;
    county_filter_t f = {.today = TODAY};
    cJSON *root = s_stats_json(fx, "township", &f);
    s_figs_t want;
    s_figs(NULL, NULL, NULL, 0, &want);
    assert_int_equal(want.overdue, 2); /* 0 and 1, as the comments say */
    s_check_figs(cJSON_GetObjectItem(root, "total"), &want);
    const char *towns[] = {HUB, "230523101"};
    cJSON *rows = cJSON_GetObjectItem(root, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 2);
    for (int i = 0; i < 2; i++) {
        cJSON *row = cJSON_GetArrayItem(rows, i);
        assert_string_equal(cJSON_GetObjectItem(row, "township")->valuestring, towns[i]);
        s_figs(towns[i], NULL, NULL, 0, &want);
        s_check_figs(row, &want);
    }
    cJSON_Delete(root);
    /* a period: the figures of the matters that occurred in it */
    f = (county_filter_t){.today = TODAY, .from = "2024-01-01", .to = "2024-03-31"};
    root = s_stats_json(fx, NULL, &f);
    s_figs(NULL, "2024-01-01", "2024-03-31", 0, &want);
    s_check_figs(cJSON_GetObjectItem(root, "total"), &want);
    cJSON_Delete(root);
    /* county_query_case_figs gives the same total */
    county_case_figs_t figs;
    char err[256] = "";
    f = (county_filter_t){.today = TODAY, .periods = &s_long};
    assert_int_equal(county_query_case_figs(fx->db, &f, &figs, err, sizeof err), SJ_OK);
    s_figs(NULL, NULL, NULL, 0, &want);
    assert_int_equal(figs.items, want.items);
    assert_int_equal(figs.overdue, want.overdue);
    assert_int_equal(figs.assigned, want.assigned);
    assert_true(figs.has_median);
}

static void
test_county_cases_stats_ever_outcome(void **state)
{
    s_fx_t *fx = *state;
    county_filter_t f = {.today = TODAY};
    cJSON *root = s_stats_json(fx, "ever_outcome", &f);
    cJSON *rows = cJSON_GetObjectItem(root, "rows");
    int seen = 0;
    for (int o = PENDING; o <= WITHDRAWN; o++) {
        s_figs_t want;
        s_figs(NULL, NULL, NULL, o, &want);
        cJSON *row = NULL, *r;
        cJSON_ArrayForEach(r, rows)
        {
            if (strcmp(cJSON_GetObjectItem(r, "ever_outcome")->valuestring,
                       sj_enum_name(SJ_FIELD_OUTCOME, o))
                == 0) {
                row = r;
            }
        }
        if (want.items == 0) {
            assert_null(row);
            continue;
        }
        assert_non_null(row);
        seen++;
        s_check_figs(row, &want);
    }
    assert_int_equal(cJSON_GetArraySize(rows), seen);
    /* the total counts each case once */
    s_figs_t all;
    s_figs(NULL, NULL, NULL, 0, &all);
    s_check_figs(cJSON_GetObjectItem(root, "total"), &all);
    cJSON_Delete(root);
    /* with another dim */
    f = (county_filter_t){.today = TODAY, .township = "230523101"};
    root = s_stats_json(fx, "township,ever_outcome", &f);
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(root, "rows"))
    {
        int o =
            sj_enum_value(SJ_FIELD_OUTCOME, cJSON_GetObjectItem(r, "ever_outcome")->valuestring);
        s_figs_t want;
        s_figs("230523101", NULL, NULL, o, &want);
        s_check_figs(r, &want);
    }
    cJSON_Delete(root);
}

static void
test_county_cases_report_assigned(void **state)
{
    s_fx_t *fx = *state;
    county_report_t r;
    char err[256] = "";
    assert_int_equal(county_report_compute(fx->db, 2024, &r, err, sizeof err), SJ_OK);
    s_figs_t want;
    s_figs(NULL, "2024-01-01", "2024-12-31", 0, &want);
    assert_int_equal(r.assigned, want.assigned);
    assert_int_equal(r.assigned_concluded, want.a_concluded);
    assert_int_equal(r.assigned_withdrawn, want.a_withdrawn);
    char rate[32], got[32];
    s_rate_text(want.a_concluded, want.assigned - want.a_withdrawn, rate, sizeof rate);
    int pm = county_report_closure_permille(&r);
    snprintf(got, sizeof got, "%d.%d", pm / 10, pm % 10);
    assert_string_equal(got, rate);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_cases_replay_as_documented),
        cmocka_unit_test(test_county_cases_changes_before_report),
        cmocka_unit_test(test_county_cases_list_columns),
        cmocka_unit_test(test_county_cases_clock),
        cmocka_unit_test(test_county_cases_filters_combine),
        cmocka_unit_test(test_county_cases_stats_figures),
        cmocka_unit_test(test_county_cases_stats_ever_outcome),
        cmocka_unit_test(test_county_cases_report_assigned),
    };
    return cmocka_run_group_tests_name("county_cases", tests, s_setup, s_teardown);
}
