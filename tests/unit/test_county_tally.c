/* Do the tallies (schema 5) that `stats` reads give exactly what a scan of
 * matters gives? Random matters are stored through the county store's
 * ingest path (store_event, batch_end), some batches rolled back, some
 * outcomes changed by status changes (the replay's UPDATE), some matters
 * deleted by SQL; then many random stats queries are run twice, from the
 * tallies where they cover the query and by a full scan, and must print
 * the same. The migration that makes the tallies for an existing store is
 * checked the same way (tables dropped, user_version set back, reopened). */
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

#include "county_query.h"
#include "county_store.h"
#include "county_tally.h"
#include "sj_db.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_wire.h"

#define N_STATIONS 6
#define N_BATCHES  40
#define BATCH_MAX  120
#define N_QUERIES  400

static const char *const s_stations[N_STATIONS] = {"230523100201", "230523100202", "230523101201",
                                                   "230523101202", "230523102201", "230523102203"};

/* xorshift64*: the same data on every run (seeded), no libc rand state */
static uint64_t s_rng = 0x9E3779B97F4A7C15ull;

static uint32_t
s_rand(uint32_t n)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return (uint32_t) ((s_rng * 2685821657736338717ull) >> 33) % n;
}

typedef struct {
    char dir[64];
    county_store_t *store;
    sqlite3 *db;
    uint8_t ids[N_BATCHES * BATCH_MAX][SJ_ID_BYTES];
    size_t n_ids;
} s_fx_t;

static void
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

static int64_t
s_scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A random date from 2023-11-01 to 2024-04-30 (Feb 29 included). */
static void
s_random_date(char out[32])
{
    static const int months[][3] = {{2023, 11, 30}, {2023, 12, 31}, {2024, 1, 31},
                                    {2024, 2, 29},  {2024, 3, 31},  {2024, 4, 30}};
    const int *m = months[s_rand(6)];
    snprintf(out, 32, "%04d-%02d-%02d", m[0], m[1], 1 + (int) s_rand((uint32_t) m[2]));
}

/* One batch of random reports from one station, through the store's ingest
 * ops as the downlink calls them; kept (ok) or rolled back. */
static void
s_batch(s_fx_t *fx, int station, uint64_t *seq, int keep)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    const sj_downlink_ops_t *ops = &county_store_downlink_ops;
    s_exec(fx->db, "SAVEPOINT batch");
    uint32_t n = 1 + s_rand(BATCH_MAX);
    for (uint32_t i = 0; i < n; i++) {
        memset(ev, 0, sizeof *ev);
        ev->type = SJ_EVENT_REPORT;
        sj_uuid7_new(ev->id);
        snprintf(ev->origin, sizeof ev->origin, "%s", s_stations[station]);
        memset(ev->epoch, station + 1, SJ_EPOCH_BYTES);
        ev->origin_seq = ++*seq;
        ev->created_ms = 1709280000000LL + (int64_t) *seq;
        sj_report_t *r = &ev->report;
        /* few days and kinds, so that tally rows gather several matters */
        char date[32];
        s_random_date(date);
        memcpy(r->occurred_on, date, sizeof r->occurred_on - 1);
        r->occurred_on[sizeof r->occurred_on - 1] = '\0';
        r->channel = 1 + (int) s_rand(4);
        r->kind = 1 + (int) s_rand(2);
        r->persons = r->kind == 2 ? 5 + s_rand(40) : 1 + s_rand(4);
        r->level = 1 + (int) s_rand(3);
        r->category = 1 + (int) s_rand(5);
        r->outcome = 1 + (int) s_rand(5);
        r->source = 1 + (int) s_rand(2);
        snprintf(ev->summary, sizeof ev->summary, "matter %llu", (unsigned long long) *seq);
        snprintf(ev->officer, sizeof ev->officer, "officer-%d", station);
        r->summary = ev->summary;
        r->officer = ev->officer;
        uint8_t *raw = NULL;
        size_t len = 0;
        assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
        sj_stored_t res = SJ_STORED_DUPLICATE;
        assert_int_equal(ops->store_event(fx->store, s_stations[station], ev, raw, len, &res),
                         SJ_OK);
        assert_int_equal(res, SJ_STORED_NEW);
        free(raw);
        if (keep) {
            memcpy(fx->ids[fx->n_ids++], ev->id, SJ_ID_BYTES);
        }
    }
    assert_int_equal(ops->batch_end(fx->store, keep), SJ_OK);
    if (keep) {
        s_exec(fx->db, "RELEASE batch");
    } else {
        *seq -= n; /* the station sends them again, as after a refused batch */
        s_exec(fx->db, "ROLLBACK TO batch; RELEASE batch");
    }
    free(ev);
}

static void
s_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
            assert_int_equal(unlink(path), 0);
        }
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static s_fx_t *
s_fx_new(void)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sanji-tally-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[256] = "";
    fx->store = county_store_open(fx->dir, "230523", SJ_DB_WRITE, err, sizeof err);
    if (!fx->store) {
        fail_msg("county_store_open: %s", err);
    }
    fx->db = county_store_db(fx->store);
    uint64_t seq[N_STATIONS] = {0};
    for (int b = 0; b < N_BATCHES; b++) {
        int station = (int) s_rand(N_STATIONS);
        /* several batches per transaction, as the downlink groups frames;
         * every fifth batch is refused and rolled back */
        if (b % 4 == 0) {
            s_exec(fx->db, "BEGIN IMMEDIATE");
        }
        s_batch(fx, station, &seq[station], b % 5 != 3);
        if (b % 4 == 3 || b == N_BATCHES - 1) {
            s_exec(fx->db, "COMMIT");
        }
    }
    return fx;
}

static void
s_fx_destroy(s_fx_t **fx_p)
{
    county_store_close(&(*fx_p)->store);
    s_rmdir((*fx_p)->dir);
    free(*fx_p);
    *fx_p = NULL;
}

/* Status changes made at the county on random matters: the replay moves
 * their outcome (UPDATE matters), which the tallies must follow. */
static int
s_change_outcomes(s_fx_t *fx, int n)
{
    int changed = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *id = fx->ids[s_rand((uint32_t) fx->n_ids)];
        sj_update_result_t res;
        char reason[256];
        int rc = county_store_update(fx->store, id, 1 + (int) s_rand(5), "review", "officer-9",
                                     &res, reason, sizeof reason);
        assert_true(rc == SJ_OK || rc == SJ_EINVAL); /* EINVAL: not an allowed transition */
        changed += rc == SJ_OK;
    }
    return changed;
}

static const char *const s_dim_names[] = {"channel", "kind",    "level",    "category", "outcome",
                                          "source",  "station", "township", "month"};
#define N_DIMS (sizeof s_dim_names / sizeof s_dim_names[0])

static char *
s_run(sqlite3 *db, const char *by, const county_filter_t *f, sj_format_t fmt, unsigned flags)
{
    char *text = NULL;
    size_t len = 0;
    char err[512] = "";
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    int rc = county_query_stats_ex(db, by, f, fmt, flags, out, err, sizeof err);
    assert_int_equal(fclose(out), 0);
    if (rc != SJ_OK) {
        fail_msg("stats --by '%s': %s", by, err);
    }
    return text;
}

/* Random queries (dims, date ranges on and off month boundaries, codes and
 * enum filters): tallies and scan must agree. Returns how many of them the
 * tallies answered. */
static int s_from_field; /* queries tally_field answered */

static int
s_compare_random(sqlite3 *db, int n)
{
    static const char *const froms[] = {NULL, "2023-12-01", "2024-01-15", "2024-02-01",
                                        "2023-11-01"};
    static const char *const tos[] = {NULL, "2024-02-29", "2024-03-10", "2024-01-31", "2024-04-30"};
    static const char *const townships[] = {"230523100", "230523101", "230523109"};
    int from_tally = 0;
    for (int q = 0; q < n; q++) {
        char by[128] = "";
        size_t used = 0;
        uint32_t mask = s_rand(1u << N_DIMS);
        /* mostly one or two dims, as staff ask */
        if (s_rand(3) != 0) {
            mask &= (1u << s_rand(N_DIMS)) | (1u << s_rand(N_DIMS));
        }
        for (size_t d = 0; d < N_DIMS; d++) {
            if (mask & (1u << d)) {
                used += (size_t) snprintf(by + used, sizeof by - used, "%s%s", used ? "," : "",
                                          s_dim_names[d]);
            }
        }
        county_filter_t f = {0};
        f.from = froms[s_rand(5)];
        f.to = tos[s_rand(5)];
        if (f.from && f.to && strcmp(f.from, f.to) > 0) {
            f.to = NULL;
        }
        switch (s_rand(6)) {
        case 0:
            f.township = townships[s_rand(3)];
            break;
        case 1:
            f.station = s_stations[s_rand(N_STATIONS)];
            break;
        case 2:
            f.level = sj_enum_name(SJ_FIELD_LEVEL, 1 + (int) s_rand(3));
            break;
        case 3:
            f.kind = sj_enum_name(SJ_FIELD_KIND, 1 + (int) s_rand(2));
            f.outcome = sj_enum_name(SJ_FIELD_OUTCOME, 1 + (int) s_rand(5));
            break;
        default:
            break;
        }
        sj_format_t fmt = s_rand(2) ? SJ_FMT_CSV : SJ_FMT_JSON;
        const char *src = county_query_stats_source(by, &f);
        assert_non_null(src);
        from_tally += strcmp(src, "matters") != 0;
        s_from_field += strcmp(src, "tally_field") == 0;
        char *tally = s_run(db, by, &f, fmt, 0);
        char *scan = s_run(db, by, &f, fmt, COUNTY_STATS_SCAN);
        if (strcmp(tally, scan) != 0) {
            fail_msg("stats --by '%s' from %s differs from the scan:\n%s\nscan:\n%s", by, src,
                     tally, scan);
        }
        free(tally);
        free(scan);
    }
    return from_tally;
}

/* The exact totals: every kept matter counted once in each tally. */
static void
s_check_totals(sqlite3 *db)
{
    int64_t items = s_scalar(db, "SELECT count(*) FROM matters");
    int64_t persons = s_scalar(db, "SELECT total(persons) FROM matters");
    assert_true(items > 0);
    assert_int_equal(s_scalar(db, "SELECT total(items) FROM tally_place"), items);
    assert_int_equal(s_scalar(db, "SELECT total(items) FROM tally_kind"), items);
    assert_int_equal(s_scalar(db, "SELECT total(persons) FROM tally_place"), persons);
    assert_int_equal(s_scalar(db, "SELECT total(persons) FROM tally_kind"), persons);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM tally_place WHERE items <= 0"), 0);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM tally_kind WHERE items <= 0"), 0);
    /* tally_field: every matter once per field (schema 7) */
    for (int f = 0; f < 6; f++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT total(items) FROM tally_field WHERE field = %d", f);
        assert_int_equal(s_scalar(db, q), items);
        snprintf(q, sizeof q, "SELECT total(persons) FROM tally_field WHERE field = %d", f);
        assert_int_equal(s_scalar(db, q), persons);
    }
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM tally_field WHERE items <= 0"), 0);
    /* the packed key (the store computes it in C, the triggers in SQL) */
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM tally_kind WHERE k !="
                                  " ((CAST(substr(month, 1, 4) AS INTEGER) * 100"
                                  " + CAST(substr(month, 6, 2) AS INTEGER)) * 1000000"
                                  " + channel * 100000 + kind * 10000 + level * 1000"
                                  " + category * 100 + outcome * 10 + source)"),
                     0);
}

static void
test_tally_source_choice(void **state)
{
    (void) state;
    county_filter_t none = {0};
    assert_string_equal(county_query_stats_source("township,month", NULL), "tally_place");
    assert_string_equal(county_query_stats_source("station", &none), "tally_place");
    assert_string_equal(county_query_stats_source("level,kind", NULL), "tally_kind");
    assert_string_equal(county_query_stats_source(NULL, NULL), "tally_place");
    county_filter_t f = {.from = "2024-01-01", .to = "2024-02-29", .level = "county"};
    assert_string_equal(county_query_stats_source("month,kind", &f), "tally_kind");
    f.to = "2024-02-28"; /* not the end of a month: tally_kind cannot cut there */
    assert_string_equal(county_query_stats_source("month,kind", &f), "matters");
    county_filter_t g = {.from = "2024-01-17", .township = "230523100"};
    assert_string_equal(county_query_stats_source("station,month", &g), "tally_place");
    g.outcome = "pending";
    assert_string_equal(county_query_stats_source("station,month", &g), "matters");
    /* place and one kind: tally_field (schema 7), whole months only */
    assert_string_equal(county_query_stats_source("township,level", NULL), "tally_field");
    county_filter_t h = {.township = "230523100", .level = "county"};
    assert_string_equal(county_query_stats_source("month,level", &h), "tally_field");
    assert_string_equal(county_query_stats_source("township", &h), "tally_field");
    assert_string_equal(county_query_stats_source("township,category", &h), "matters");
    h.from = "2024-01-17";
    assert_string_equal(county_query_stats_source("township,level", &h), "matters");
    assert_string_equal(county_query_stats_source("station,level", NULL), "matters");
    county_filter_t bad = {.level = "galaxy"};
    assert_null(county_query_stats_source("level", &bad));
    assert_null(county_query_stats_source("colour", NULL));
}

static void
test_tally_matches_scan(void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new();
    s_check_totals(fx->db);
    int from_tally = s_compare_random(fx->db, N_QUERIES);
    assert_true(from_tally > N_QUERIES / 4); /* the tallies did answer */
    assert_true(from_tally < N_QUERIES);     /* and the scan path was compared too */
    assert_true(s_from_field > 0);           /* tally_field among them */

    /* Outcomes moved by status changes, then matters deleted by hand. */
    assert_true(s_change_outcomes(fx, 200) > 20);
    s_check_totals(fx->db);
    s_compare_random(fx->db, N_QUERIES / 2);
    s_exec(fx->db, "DELETE FROM matters WHERE persons > 30");
    s_check_totals(fx->db);
    s_compare_random(fx->db, N_QUERIES / 2);
    s_fx_destroy(&fx);
}

/* A store made before schema 5: the migration counts its matters. */
static void
test_tally_migration_rebuilds(void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new();
    s_exec(fx->db, "DROP TABLE tally_place; DROP TABLE tally_kind; DROP TABLE tally_field;"
                   " DROP TRIGGER tally_matter_out; DROP TRIGGER tally_matter_change;"
                   " DROP TRIGGER tally_field_out; DROP TRIGGER tally_field_change;"
                   " ALTER TABLE status_changes DROP COLUMN parent;"  /* schema 8's */
                   " ALTER TABLE status_changes DROP COLUMN applied;" /* schema 9's: */
                   " DROP TABLE link_heads; DROP TABLE link_forks;"
                   " DROP TABLE fixes; DROP TABLE matters_voided;" /* schema 11's */
                   " DROP TRIGGER search_matter_summary;"          /* 12's (as 14 made it again) */
                   " DROP TRIGGER search_assignment; DROP TRIGGER search_status_changes;"
                   " DROP TRIGGER search_status_changes_fill; DROP TABLE search;"
                   " ALTER TABLE status_changes DROP COLUMN note;"
                   " ALTER TABLE status_changes DROP COLUMN officer;"
                   " DROP TABLE down_refusals; ALTER TABLE down_acks DROP COLUMN floor;" /* 13's */
                   " DELETE FROM meta WHERE key = 'search_through';"                     /* 14's */
                   " DROP TABLE places; DROP TABLE places_sent;"                         /* 15's */
                   " DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"        /* 16's */
                   " DROP TABLE audit; DROP TABLE users; DROP TABLE departments;"
                   " DROP TABLE extensions;" /* 17's */
                   " DROP TABLE evaluations;"
                   " ALTER TABLE status_changes DROP COLUMN satisfaction;"            /* 18's */
                   " DROP TABLE approvals; DROP TABLE locks; DROP TABLE lock_months;" /* 19's */
                   " DROP TABLE lock_figures;"
                   " DROP TABLE periods_sent;"  /* 20's */
                   " PRAGMA user_version = 4"); /* 4: assignment delivery's */
    county_store_close(&fx->store);
    char err[256] = "";
    fx->store = county_store_open(fx->dir, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!fx->store) {
        fail_msg("county_store_open after the downgrade: %s", err);
    }
    fx->db = county_store_db(fx->store);
    assert_int_equal(s_scalar(fx->db, "PRAGMA user_version"), 20); /* and 5..20 after it */
    s_check_totals(fx->db);
    assert_true(s_compare_random(fx->db, N_QUERIES / 2) > 0);
    /* and the migrated store keeps counting: more batches, more changes */
    uint64_t seq = 1000;
    s_exec(fx->db, "BEGIN IMMEDIATE");
    s_batch(fx, 0, &seq, 1);
    s_exec(fx->db, "COMMIT");
    s_change_outcomes(fx, 50);
    s_check_totals(fx->db);
    s_compare_random(fx->db, N_QUERIES / 4);
    s_fx_destroy(&fx);
}

/* ---- the key of tally_kind: one definition, SQL and C (county_tally.h) ---- */

/* Every combination of the six enum values over months far apart: the SQL
 * expression the triggers and the rebuild use (COUNTY_TALLY_KEY_SQL) and
 * the C the store's flush uses (county_tally_kind_key) give the same key,
 * and no two combinations share one. */
static void
test_county_tally_key_sql_equals_c(void **state)
{
    (void) state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    s_exec(db, "CREATE TABLE r(occurred_on TEXT, channel INTEGER, kind INTEGER, level INTEGER,"
               " category INTEGER, outcome INTEGER, source INTEGER)");
    static const char *const days[] = {"1900-01-01", "1999-09-30", "2024-02-29", "2024-12-31",
                                       "2999-12-31"};
    int count[SJ_FIELD_COUNT];
    long combos = 1;
    for (int f = 0; f < SJ_FIELD_COUNT; f++) {
        count[f] = sj_enum_count((sj_field_t) f);
        assert_true(count[f] >= 1 && count[f] <= 9); /* one decimal digit each */
        combos *= count[f];
    }
    sqlite3_stmt *ins = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO r VALUES(?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL),
        SQLITE_OK);
    s_exec(db, "BEGIN");
    for (size_t d = 0; d < sizeof days / sizeof days[0]; d++) {
        for (long c = 0; c < combos; c++) {
            long rest = c;
            sqlite3_bind_text(ins, 1, days[d], -1, SQLITE_STATIC);
            for (int f = 0; f < SJ_FIELD_COUNT; f++) {
                sqlite3_bind_int(ins, 2 + f, 1 + (int) (rest % count[f]));
                rest /= count[f];
            }
            assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_reset(ins);
        }
    }
    s_exec(db, "COMMIT");
    sqlite3_finalize(ins);

    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT occurred_on, channel, kind, level, category,"
                                        " outcome, source," COUNTY_TALLY_KEY_SQL("r") " FROM r",
                                        -1, &st, NULL),
                     SQLITE_OK);
    long rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint8_t e[SJ_FIELD_COUNT];
        for (int f = 0; f < SJ_FIELD_COUNT; f++) {
            e[f] = (uint8_t) sqlite3_column_int(st, 1 + f);
        }
        const char *day = (const char *) sqlite3_column_text(st, 0);
        int64_t sql_key = sqlite3_column_int64(st, 7);
        /* the store passes "YYYY-MM"; the whole date must give the same */
        char month[8];
        snprintf(month, sizeof month, "%.7s", day);
        if (county_tally_kind_key(month, e) != sql_key
            || county_tally_kind_key(day, e) != sql_key) {
            fail_msg("%s %d%d%d%d%d%d: C key %lld, SQL key %lld", day, e[0], e[1], e[2], e[3], e[4],
                     e[5], (long long) county_tally_kind_key(month, e), (long long) sql_key);
        }
        rows++;
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, combos * (long) (sizeof days / sizeof days[0]));
    /* one key per (month, values) */
    assert_int_equal(s_scalar(db, "SELECT count(DISTINCT" COUNTY_TALLY_KEY_SQL("r") ") FROM r"),
                     rows);
    sqlite3_close(db);
}

/* Every row of tally_kind, in key order, as text. */
static char *
s_kind_rows(sqlite3 *db)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT k, month, channel, kind, level, category,"
                                        " outcome, source, items, persons FROM tally_kind"
                                        " ORDER BY k",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < 10; c++) {
            fprintf(out, "%s%s", c ? "," : "", (const char *) sqlite3_column_text(st, c));
        }
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    assert_int_equal(fclose(out), 0);
    return text;
}

/* Every row of tally_kind has the key the store's C gives its month and
 * values; returns how many rows there are. */
static int
s_check_kind_keys(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT k, month, channel, kind, level, category,"
                                        " outcome, source FROM tally_kind",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint8_t e[SJ_FIELD_COUNT];
        for (int f = 0; f < SJ_FIELD_COUNT; f++) {
            e[f] = (uint8_t) sqlite3_column_int(st, 2 + f);
        }
        assert_int_equal(sqlite3_column_int64(st, 0),
                         county_tally_kind_key((const char *) sqlite3_column_text(st, 1), e));
        rows++;
    }
    sqlite3_finalize(st);
    return rows;
}

/* The store writes tally_kind rows with the C key (the batch's flush) and
 * the triggers find them again with the SQL key when a matter changes or
 * goes: if the two disagreed, the trigger would miss the row (a matter
 * counted twice, another never taken away) and the tally would differ from
 * a recount. Every matter of the ingest path is moved to another month and
 * outcome by plain SQL, some are deleted, and tally_kind must equal what
 * county_store_tally_rebuild counts from scratch. */
static void
test_county_tally_triggers_find_the_rows_the_store_wrote(void **state)
{
    (void) state;
    s_fx_t *fx = s_fx_new(); /* reports through the store's ingest path */
    sqlite3 *db = fx->db;
    /* each row's key is the C key of its own month and values */
    int rows = s_check_kind_keys(db);
    assert_true(rows > 20);

    s_exec(db, "UPDATE matters SET occurred_on = '2025-' || substr(occurred_on, 6),"
               " outcome = 1 + outcome % 5");
    s_exec(db, "DELETE FROM matters WHERE kind = 2 AND channel = 1");
    char *by_triggers = s_kind_rows(db);
    assert_int_equal(county_store_tally_rebuild(db), SJ_OK);
    char *recount = s_kind_rows(db);
    assert_string_equal(by_triggers, recount);
    assert_true(strstr(recount, ",2025-") != NULL); /* the updates did move them */
    s_check_totals(db);
    free(by_triggers);
    free(recount);
    s_fx_destroy(&fx);
}

/* The accumulator on its own: more distinct keys than half its tables
 * between two flushes (more than one batch could bring) are written early
 * and counted exactly once; a rolled-back batch is forgotten. */
static void
test_county_tally_acc_writes_early_when_full(void **state)
{
    (void) state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sanji-tally-acc-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char err[256] = "";
    county_store_t *store = county_store_open(dir, "230523", SJ_DB_WRITE, err, sizeof err);
    assert_non_null(store);
    sqlite3 *db = county_store_db(store);
    county_tally_acc_t *acc = county_tally_acc_new(db);
    assert_non_null(acc);
    s_exec(db, "BEGIN IMMEDIATE");
    sj_report_t r;
    memset(&r, 0, sizeof r);
    long n = 0, persons = 0;
    for (int day = 0; day < 3000; day++) { /* 3,000 days: 3,000 tally_place keys */
        snprintf(r.occurred_on, sizeof r.occurred_on, "%04d-%02d-%02d", 2000 + day / 300,
                 1 + (day / 25) % 12, 1 + day % 25);
        r.channel = 1 + day % 4;
        r.kind = 1 + day % 2;
        r.level = 1 + day % 6;
        r.category = 1 + day % 5;
        r.outcome = 1 + day % 5;
        r.source = 1 + day % 4;
        r.persons = (uint32_t) (1 + day % 7);
        county_tally_acc_add(acc, &r, s_stations[day % N_STATIONS]);
        n++;
        persons += r.persons;
    }
    assert_int_equal(county_tally_acc_flush(acc), SJ_OK);
    /* a batch that is rolled back: gathered, then cleared, never written */
    county_tally_acc_add(acc, &r, s_stations[0]);
    county_tally_acc_clear(acc);
    assert_int_equal(county_tally_acc_flush(acc), SJ_OK);
    s_exec(db, "COMMIT");
    assert_int_equal(s_scalar(db, "SELECT total(items) FROM tally_place"), n);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM tally_place"), 3000);
    assert_int_equal(s_scalar(db, "SELECT total(items) FROM tally_kind"), n);
    assert_int_equal(s_scalar(db, "SELECT total(persons) FROM tally_kind"), persons);
    assert_int_equal(s_scalar(db, "SELECT total(items) FROM tally_field"), 6 * n);
    assert_true(s_check_kind_keys(db) > 0);
    county_tally_acc_destroy(&acc);
    county_tally_acc_destroy(&acc); /* NULL-safe, idempotent */
    county_store_close(&store);
    s_rmdir(dir);
}

/* Without the tally tables the accumulator cannot prepare its upserts. */
static void
test_county_tally_acc_new_needs_the_tables(void **state)
{
    (void) state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_null(county_tally_acc_new(db));
    assert_non_null(strstr(sqlite3_errmsg(db), "no such table"));
    assert_int_equal(county_tally_rebuild(db), SJ_EDB);
    sqlite3_close(db);
}

int
main(void)
{
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_source_choice),
        cmocka_unit_test(test_tally_matches_scan),
        cmocka_unit_test(test_tally_migration_rebuilds),
        cmocka_unit_test(test_county_tally_key_sql_equals_c),
        cmocka_unit_test(test_county_tally_triggers_find_the_rows_the_store_wrote),
        cmocka_unit_test(test_county_tally_acc_writes_early_when_full),
        cmocka_unit_test(test_county_tally_acc_new_needs_the_tables),
    };
    return cmocka_run_group_tests_name("county_tally", tests, NULL, NULL);
}
