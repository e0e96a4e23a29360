/* Does this program still open every store and every frame an earlier
 * release wrote? tests/data/db/<store>/vN.db is the store as the release that
 * shipped its schema version N made it (tests/data/make-db-fixtures.sh: five
 * reports delivered end to end, one with sealed petitioner fields);
 * tests/data/wire/vN/ holds one frame of each message type of protocol
 * version N. A store must open the way its daemon opens it
 * (SJ_DB_WRITE: migrating), keep its rows, and then satisfy SJ_DB_READ (which
 * only accepts the latest schema). A frame of a known version must decode; a
 * frame of an unknown version must be refused with ERROR_BAD_VERSION. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_store.h"
#include "county_status.h"
#include "county_store.h"
#include "county_verify.h"
#include "hub_out.h"
#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_ids.h"
#include "sj_wire.h"

#ifndef SANJI_TEST_DATA
#error "SANJI_TEST_DATA (tests/data) comes from tests/CMakeLists.txt"
#endif

#define FIXTURE_REPORTS 5 /* what make-db-fixtures.sh delivers */
#define MAX_VERSIONS    32

/* ---- helpers ---- */

/* The vN names (directories, or vN.db files) under tests/data/<kind>, sorted;
 * returns how many. */
static int
s_versions(const char *kind, char names[][16], int max)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SANJI_TEST_DATA, kind);
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] == 'v' && strlen(e->d_name) < 16) {
            snprintf(names[n++], 16, "%.15s", e->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t) n, 16, (int (*)(const void *, const void *)) strcmp);
    assert_true(n > 0);
    return n;
}

static uint8_t *
s_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("cannot open fixture %s", path);
    }
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* A fresh temporary directory holding db/<store>/<version> as <store>.db. */
static char *
s_stage(const char *store, const char *version)
{
    char *dir = strdup("/tmp/sanji-upgrade-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/db/%s/%s", SANJI_TEST_DATA, store, version);
    snprintf(to, sizeof to, "%s/%s.db", dir, store);
    size_t len = 0;
    uint8_t *data = s_read(from, &len);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(data);
    return dir;
}

static void
s_unstage(char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static long long
s_scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* The staged fixture's PRAGMA user_version must be the N of its name vN.db:
 * a misnamed file would leave a shipped version untested. */
static void
s_check_named_version(const char *dir, const char *store, const char *version)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", dir, store);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    long long have = s_scalar(db, "PRAGMA user_version");
    sqlite3_close(db);
    if (have != strtol(version + 1, NULL, 10)) {
        fail_msg("fixture db/%s/%s has schema version %lld", store, version, have);
    }
}

/* restore's schema checks (sj_db_schema_check) accept the fixture as it
 * is (names) and once migrated (names and SQL): a backup of every shipped
 * version can be restored. */
static void
s_check_schema(
    const char *dir, const char *store, const sj_migration_t *migs, size_t n, sj_db_schema_t level)
{
    char path[512], err[1024] = "";
    snprintf(path, sizeof path, "%s/%s.db", dir, store);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    int rc = sj_db_schema_check(db, migs, n, store, level, err, sizeof err);
    sqlite3_close(db);
    if (rc != SJ_OK) {
        fail_msg("%s in %s: %s", store, dir, err);
    }
}

static FILE *
s_null_out(void)
{
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    return f;
}

/* ---- stores ---- */

static void
test_upgrade_hub_store(void **state)
{
    (void) state;
    char versions[MAX_VERSIONS][16];
    int n = s_versions("db/township-hub", versions, MAX_VERSIONS);
    for (int i = 0; i < n; i++) {
        char *dir = s_stage("township-hub", versions[i]);
        s_check_named_version(dir, "township-hub", versions[i]);
        size_t nmig = 0;
        const sj_migration_t *migs = hub_store_migrations(&nmig);
        s_check_schema(dir, "township-hub", migs, nmig, SJ_DB_SCHEMA_NAMES);
        char err[512] = "";
        hub_store_t *st = hub_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
        if (!st) {
            fail_msg("hub store %s does not open: %s", versions[i], err);
        }
        assert_string_equal(hub_store_code(st), "230523100");
        sqlite3 *db = hub_store_db(st);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM events"), FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT count(DISTINCT origin_seq) FROM events"),
                         FIXTURE_REPORTS);
        FILE *out = s_null_out();
        hub_status_t view;
        assert_int_equal(hub_store_status(st, 3600, &view), SJ_OK);
        assert_int_equal(hub_out_status(&view, SJ_FMT_JSON, out), SJ_OK);
        hub_status_free(&view);
        fclose(out);
        /* Schema 4 lists a report without a cases row from its events row
         * (outcome set); the reports stored before keep theirs (from version
         * 2 on: the fixture's five) and are listed once, as before. */
        long ver = strtol(versions[i] + 1, NULL, 10);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM cases"),
                         ver >= 2 && ver < 4 ? FIXTURE_REPORTS : 0);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM events WHERE outcome IS NOT NULL"),
                         ver >= 4 ? FIXTURE_REPORTS : 0);
        char *csv = NULL;
        size_t csv_len = 0;
        out = open_memstream(&csv, &csv_len);
        assert_non_null(out);
        sj_table_t *cases = NULL;
        assert_int_equal(hub_store_cases(st, 0, &cases), SJ_OK);
        assert_int_equal(hub_out_cases(cases, SJ_FMT_CSV, out), SJ_OK);
        sj_table_destroy(&cases);
        fclose(out);
        long long lines = 0;
        for (const char *c = csv; *c; c++) {
            lines += *c == '\n';
        }
        free(csv);
        assert_int_equal(lines, 1 + (ver >= 2 ? FIXTURE_REPORTS : 0));
        /* Schema 9: the reports read from older events are above the search
         * mark (0) until the idle indexer has done them, each once. */
        assert_int_equal(s_scalar(db, "SELECT value FROM meta WHERE key = 'search_through'"), 0);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM search WHERE kind = 'summary'"), 0);
        int more = 1;
        int64_t done = 0;
        assert_int_equal(hub_store_index(st, 1000, 1000, &more, &done), SJ_OK);
        assert_int_equal(more, 0);
        assert_int_equal(done, FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM search WHERE kind = 'summary'"),
                         FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT value FROM meta WHERE key = 'search_through'"),
                         s_scalar(db, "SELECT max(hub_seq) FROM events"));
        hub_store_close(&st);
        s_check_schema(dir, "township-hub", migs, nmig, SJ_DB_SCHEMA_FULL); /* migrated */
        /* migrated to the latest schema: the read-only path accepts it */
        st = hub_store_open(dir, NULL, SJ_DB_READ, err, sizeof err);
        if (!st) {
            fail_msg("hub store %s, migrated, does not open read-only: %s", versions[i], err);
        }
        hub_store_close(&st);
        s_unstage(dir);
    }
}

static void
test_upgrade_county_store(void **state)
{
    (void) state;
    char versions[MAX_VERSIONS][16];
    int n = s_versions("db/county-server", versions, MAX_VERSIONS);
    for (int i = 0; i < n; i++) {
        char *dir = s_stage("county-server", versions[i]);
        s_check_named_version(dir, "county-server", versions[i]);
        size_t nmig = 0;
        const sj_migration_t *migs = county_store_migrations(&nmig);
        s_check_schema(dir, "county-server", migs, nmig, SJ_DB_SCHEMA_NAMES);
        char err[512] = "";
        county_store_t *st = county_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
        if (!st) {
            fail_msg("county store %s does not open: %s", versions[i], err);
        }
        sqlite3 *db = county_store_db(st);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM events"), FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM matters"), FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT count(sealed) FROM matters"), 1);
        /* Schema 5 counted the old matters into the tallies stats reads. */
        assert_int_equal(s_scalar(db, "SELECT sum(items) FROM tally_place"), FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT sum(items) FROM tally_kind"), FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT sum(persons) FROM tally_kind"),
                         s_scalar(db, "SELECT sum(persons) FROM matters"));
        /* Schema 12 indexed the matters held; 14 puts the mark at the top. */
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM search WHERE kind = 'summary'"),
                         FIXTURE_REPORTS);
        assert_int_equal(s_scalar(db, "SELECT value FROM meta WHERE key = 'search_through'"),
                         s_scalar(db, "SELECT max(eid) FROM events"));
        int more = 1;
        int64_t done = -1;
        assert_int_equal(county_store_index(st, 1000, 1000, &more, &done), SJ_OK);
        assert_int_equal(done, 0);
        county_store_close(&st);
        s_check_schema(dir, "county-server", migs, nmig, SJ_DB_SCHEMA_FULL); /* migrated */
        st = county_store_open(dir, NULL, SJ_DB_READ, err, sizeof err);
        if (!st) {
            fail_msg("county store %s, migrated, does not open read-only: %s", versions[i], err);
        }
        /* The old rows still prove themselves: sequences and hash chains. */
        long problems = -1;
        FILE *out = s_null_out();
        assert_int_equal(
            county_verify(county_store_db(st), SJ_FMT_JSON, out, &problems, err, sizeof err),
            SJ_OK);
        assert_int_equal(county_status_write(county_store_db(st), 3600, NULL, SJ_FMT_JSON, out),
                         SJ_OK);
        fclose(out);
        assert_int_equal(problems, 0);
        county_store_close(&st);
        s_unstage(dir);
    }
}

static int
s_outbox_row(void *ctx, const agent_outbox_row_t *row)
{
    int *readable = ctx;
    if (row->ev) {
        (*readable)++;
    }
    return SJ_OK;
}

static void
test_upgrade_agent_store(void **state)
{
    (void) state;
    char versions[MAX_VERSIONS][16];
    int n = s_versions("db/village-agent", versions, MAX_VERSIONS);
    for (int i = 0; i < n; i++) {
        char *dir = s_stage("village-agent", versions[i]);
        s_check_named_version(dir, "village-agent", versions[i]);
        char err[512] = "";
        agent_store_t *st = agent_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
        if (!st) {
            fail_msg("station store %s does not open: %s", versions[i], err);
        }
        assert_string_equal(agent_store_station(st), "230523100201");
        agent_counts_t c;
        assert_int_equal(agent_store_counts(st, &c), SJ_OK);
        assert_int_equal(c.total, FIXTURE_REPORTS);
        assert_int_equal(c.at_hub, FIXTURE_REPORTS);
        int readable = 0;
        assert_int_equal(agent_store_outbox(st, s_outbox_row, &readable), SJ_OK);
        assert_int_equal(readable, FIXTURE_REPORTS);
        agent_store_close(&st);
        st = agent_store_open(dir, NULL, SJ_DB_READ, err, sizeof err);
        if (!st) {
            fail_msg("station store %s, migrated, does not open read-only: %s", versions[i], err);
        }
        agent_store_close(&st);
        s_unstage(dir);
    }
}

/* ---- status changes of an older schema (issue 12) ---- */

static void
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

/* Opens a staged fixture file for plain SQL (before the store opens it). */
static sqlite3 *
s_raw(const char *dir, const char *store)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", dir, store);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

/* The changes an older store held, as its tools made them (no parent):
 * case P (reported pending) went to accepted; then, both from accepted, the
 * station closed it and the township withdrew it, an hour later (by the old
 * rule the later one, withdrawn, was in force). Case A (reported accepted):
 * the station closed it, then withdrew it from accepted too, later (old
 * rule: withdrawn). ?table and ?arrival name the store's. */
#define S_LEGACY_CHANGES(table, arrival, p, a)                                          \
    "INSERT INTO " table "(" arrival ", case_id, origin, id, created_ms, prev_outcome," \
    " new_outcome) VALUES"                                                              \
    " (1001, " p ", '230523100201', randomblob(16), 1700000000000, 1, 3),"              \
    " (1002, " p ", '230523100201', randomblob(16), 1700000100000, 3, 4),"              \
    " (1003, " p ", '230523100', randomblob(16), 1700003700000, 3, 5),"                 \
    " (1004, " a ", '230523100201', randomblob(16), 1700000000000, 3, 4),"              \
    " (1005, " a ", '230523100201', randomblob(16), 1700009000000, 3, 5)"

/* The county: every old change gets a parent by the old order, then the
 * causal walk decides. Case P keeps withdrawn (the township outranks the
 * station it raced); case A's two station changes raced from the same
 * state, and the first to arrive (the close) is now in force, where the
 * old rule took the later clock. Both are listed; the flag is cleared. */
static void
test_upgrade_county_changes(void **state)
{
    (void) state;
    char versions[MAX_VERSIONS][16];
    int n = s_versions("db/county-server", versions, MAX_VERSIONS);
    for (int i = 0; i < n; i++) {
        if (strtol(versions[i] + 1, NULL, 10) < 2) {
            continue; /* no status changes before schema 2 */
        }
        char *dir = s_stage("county-server", versions[i]);
        sqlite3 *raw = s_raw(dir, "county-server");
#define P_ID "(SELECT id FROM matters WHERE reported_outcome = 1)"
#define A_ID "(SELECT id FROM matters WHERE reported_outcome = 3)"
        s_exec(raw, S_LEGACY_CHANGES(
                        "status_changes", "eid", P_ID,
                        A_ID) ";"
                              "UPDATE matters SET outcome = 5 WHERE reported_outcome IN (1, 3);");
        sqlite3_close(raw);
        char err[512] = "";
        county_store_t *st = county_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
        if (!st) {
            fail_msg("county store %s with changes does not open: %s", versions[i], err);
        }
        sqlite3 *db = county_store_db(st);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM status_changes WHERE parent IS NULL"),
                         0);
        assert_int_equal(s_scalar(db, "SELECT value FROM meta WHERE key = 'case_parents'"), 0);
        assert_int_equal(s_scalar(db, "SELECT outcome FROM matters WHERE id = " P_ID), 5);
        assert_int_equal(s_scalar(db, "SELECT outcome FROM matters WHERE id = " A_ID), 4);
        /* P: 1001 -> 1003 in force, 1002 concurrent; A: 1004 in force, 1005 concurrent */
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM status_changes WHERE"
                                      " (eid, applied) IN (VALUES (1001, 1), (1002, 0), (1003, 2),"
                                      " (1004, 2), (1005, 0))"),
                         5);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM conflicts"), 4);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM conflicts WHERE eid = 1002 AND"
                                      " reason LIKE 'concurrent with %outranks%'"),
                         1);
        /* the tallies followed the outcome the walk moved */
        assert_int_equal(s_scalar(db, "SELECT sum(items) FROM tally_kind WHERE outcome = 4"),
                         s_scalar(db, "SELECT count(*) FROM matters WHERE outcome = 4"));
        county_store_close(&st);
        /* a second open has nothing left to do */
        st = county_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
        assert_non_null(st);
        county_store_close(&st);
#undef P_ID
#undef A_ID
        s_unstage(dir);
    }
}

/* The hub: parents and verdicts for its old changes, its conflicts
 * listed; the outcome it showed stays until the case moves again (the
 * county's word of that time was not kept with its head). */
static void
test_upgrade_hub_changes(void **state)
{
    (void) state;
    char versions[MAX_VERSIONS][16];
    int n = s_versions("db/township-hub", versions, MAX_VERSIONS);
    for (int i = 0; i < n; i++) {
        if (strtol(versions[i] + 1, NULL, 10) < 2) {
            continue; /* no cases before schema 2 */
        }
        char *dir = s_stage("township-hub", versions[i]);
        sqlite3 *raw = s_raw(dir, "township-hub");
#define P_ID "(SELECT id FROM events WHERE instr(raw, CAST('fixture 2' AS BLOB)) > 0)"
#define A_ID "(SELECT id FROM events WHERE instr(raw, CAST('fixture 1' AS BLOB)) > 0)"
        s_exec(raw, "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms)"
                    " SELECT " P_ID ", '230523100201', 1, 5, 0 WHERE true"
                    " ON CONFLICT(id) DO UPDATE SET outcome = 5;"
                    "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms)"
                    " SELECT " A_ID ", '230523100201', 3, 5, 0 WHERE true"
                    " ON CONFLICT(id) DO UPDATE SET outcome = 5;" S_LEGACY_CHANGES(
                        "case_changes", "hub_seq", P_ID, A_ID));
        sqlite3_close(raw);
        char err[512] = "";
        hub_store_t *st = hub_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
        if (!st) {
            fail_msg("hub store %s with changes does not open: %s", versions[i], err);
        }
        sqlite3 *db = hub_store_db(st);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM case_changes WHERE parent IS NULL"), 0);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM case_changes WHERE"
                                      " (hub_seq, applied) IN (VALUES (1001, 1), (1002, 0),"
                                      " (1003, 2), (1004, 2), (1005, 0))"),
                         5);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM conflicts"), 4);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM cases WHERE outcome = 5 AND id IN"
                                      " (" P_ID ", " A_ID ")"),
                         2);
        hub_store_close(&st);
#undef P_ID
#undef A_ID
        s_unstage(dir);
    }
}

/* The station: an inbox row of an older schema counts as later than the
 * station's own changes made before its snapshot was taken (the old rule),
 * so the change it names next is the snapshot's. */
static void
test_upgrade_agent_inbox(void **state)
{
    (void) state;
    char versions[MAX_VERSIONS][16];
    int n = s_versions("db/village-agent", versions, MAX_VERSIONS);
    for (int i = 0; i < n; i++) {
        if (strtol(versions[i] + 1, NULL, 10) < 3) {
            continue; /* no inbox before schema 3 */
        }
        char *dir = s_stage("village-agent", versions[i]);
        sqlite3 *raw = s_raw(dir, "village-agent");
        s_exec(raw, "INSERT INTO inbox(case_id, assignment_id, assigned_by, assigned_ms, due_on,"
                    " note, officer, occurred_on, channel, category, kind, persons, summary,"
                    " origin, outcome, conflict, item, as_of_ms) VALUES"
                    " (randomblob(16), randomblob(16), '230523', 0, '2099-12-31', '', '',"
                    " '2024-01-01', 1, 1, 1, 1, 'late', '230523100201', 3, 0, x'00',"
                    " 4102444800000),"
                    " (randomblob(16), randomblob(16), '230523', 0, '2099-12-31', '', '',"
                    " '2024-01-01', 1, 1, 1, 1, 'early', '230523100201', 3, 0, x'00', 1)");
        sqlite3_close(raw);
        char err[512] = "";
        agent_store_t *st = agent_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
        if (!st) {
            fail_msg("station store %s with an inbox does not open: %s", versions[i], err);
        }
        sqlite3 *db = agent_store_db(st);
        assert_int_equal(s_scalar(db, "SELECT after_num FROM inbox WHERE summary = 'late'"),
                         s_scalar(db, "SELECT max(num) FROM outbox"));
        assert_int_equal(s_scalar(db, "SELECT after_num FROM inbox WHERE summary = 'early'"), 0);
        assert_int_equal(s_scalar(db, "SELECT count(*) FROM inbox WHERE head IS NULL"), 2);
        agent_store_close(&st);
        s_unstage(dir);
    }
}

/* ---- frames ---- */

typedef struct {
    const char *file;
    int body_case;
} s_frame_t;

static const s_frame_t s_v1_frames[] = {
    {"hello.bin", SANJI__ENVELOPE__BODY_HELLO},
    {"welcome.bin", SANJI__ENVELOPE__BODY_WELCOME},
    {"batch.bin", SANJI__ENVELOPE__BODY_BATCH},
    {"batch-status.bin", SANJI__ENVELOPE__BODY_BATCH},
    {"ack.bin", SANJI__ENVELOPE__BODY_ACK},
    {"resend.bin", SANJI__ENVELOPE__BODY_RESEND},
    {"heartbeat.bin", SANJI__ENVELOPE__BODY_HEARTBEAT},
    {"error.bin", SANJI__ENVELOPE__BODY_ERROR},
};

static void
test_upgrade_wire_v1(void **state)
{
    (void) state;
    char path[512];
    for (size_t i = 0; i < sizeof s_v1_frames / sizeof s_v1_frames[0]; i++) {
        snprintf(path, sizeof path, "%s/wire/v1/%s", SANJI_TEST_DATA, s_v1_frames[i].file);
        size_t len = 0;
        uint8_t *data = s_read(path, &len);
        Sanji__Envelope *env = NULL;
        int ec = 0;
        char reason[200] = "";
        if (sj_wire_decode(data, len, &env, &ec, reason, sizeof reason) != SJ_OK) {
            fail_msg("v1 frame %s no longer decodes: %s", s_v1_frames[i].file, reason);
        }
        assert_int_equal(env->version, 1);
        assert_int_equal(env->body_case, s_v1_frames[i].body_case);
        /* The events inside a batch are validated on their own, at the parent. */
        for (size_t k = 0;
             env->body_case == SANJI__ENVELOPE__BODY_BATCH && k < env->batch->n_events; k++) {
            sj_event_t *ev = malloc(sizeof *ev);
            assert_non_null(ev);
            if (sj_event_decode(env->batch->events[k].data, env->batch->events[k].len, ev, reason,
                                sizeof reason)
                != SJ_OK) {
                fail_msg("event %zu of v1 frame %s no longer decodes: %s", k, s_v1_frames[i].file,
                         reason);
            }
            free(ev);
        }
        sj_wire_free(env);
        free(data);
    }
    /* A bare event as stored in every outbox, events table and raw column. */
    snprintf(path, sizeof path, "%s/wire/v1/event.bin", SANJI_TEST_DATA);
    size_t len = 0;
    uint8_t *data = s_read(path, &len);
    sj_event_t *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    char reason[200] = "";
    assert_int_equal(sj_event_decode(data, len, ev, reason, sizeof reason), SJ_OK);
    assert_int_equal(ev->type, SJ_EVENT_REPORT);
    free(ev);
    free(data);
}

static void
test_upgrade_wire_unknown_version(void **state)
{
    (void) state;
    char versions[MAX_VERSIONS][16];
    int n = s_versions("wire", versions, MAX_VERSIONS);
    int unknown = 0;
    for (int i = 0; i < n; i++) {
        long v = strtol(versions[i] + 1, NULL, 10);
        if (v <= SJ_PROTO_VERSION) {
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "%s/wire/%s/hello.bin", SANJI_TEST_DATA, versions[i]);
        size_t len = 0;
        uint8_t *data = s_read(path, &len);
        Sanji__Envelope *env = NULL;
        int ec = 0;
        char reason[200] = "";
        assert_int_equal(sj_wire_decode(data, len, &env, &ec, reason, sizeof reason), SJ_EPROTO);
        assert_null(env);
        assert_int_equal(ec, SANJI__ERROR_CODE__ERROR_BAD_VERSION);
        assert_non_null(strstr(reason, "version"));
        free(data);
        unknown++;
    }
    assert_true(unknown > 0); /* at least the version after this one */
}

int
main(void)
{
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_hub_store),
        cmocka_unit_test(test_upgrade_county_store),
        cmocka_unit_test(test_upgrade_agent_store),
        cmocka_unit_test(test_upgrade_county_changes),
        cmocka_unit_test(test_upgrade_hub_changes),
        cmocka_unit_test(test_upgrade_agent_inbox),
        cmocka_unit_test(test_upgrade_wire_v1),
        cmocka_unit_test(test_upgrade_wire_unknown_version),
    };
    return cmocka_run_group_tests_name("upgrade", tests, NULL, NULL);
}
