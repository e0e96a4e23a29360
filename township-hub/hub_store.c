#include "hub_store.h"
#include "hub_store_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sj_case.h"
#include "sj_case_db.h"
#include "sj_clock_db.h"
#include "sj_down.h"
#include "sj_history.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_own.h"
#include "sj_periods_db.h"
#include "sj_places.h"
#include "sj_rates.h"
#include "sj_update.h"
#include "sj_users.h"

#define HUB_APP_ID 0x534a4831 /* "SJH1" */
#define E2E_SLOTS  1024       /* receipts remembered, one per (station, epoch) */

static const sj_migration_t s_migrations[] = {
    {1, SJ_DOWNLINK_SCHEMA
     "CREATE TABLE events(hub_seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
     " origin TEXT NOT NULL, epoch BLOB NOT NULL, origin_seq INTEGER NOT NULL,"
     " via TEXT NOT NULL, received_ms INTEGER NOT NULL, raw BLOB NOT NULL,"
     " UNIQUE(origin, epoch, origin_seq));"
     "CREATE TABLE up_rejected(hub_seq INTEGER PRIMARY KEY, code INTEGER NOT NULL,"
     " reason TEXT NOT NULL, at_ms INTEGER NOT NULL);"},
    /* Cases (issue 4): the township's cases as the hub knows them (its
     * stations' reports and every status change it holds), kept at
     * store_event time. Events stored before this version are not in it. */
    {2, "CREATE TABLE cases(id BLOB PRIMARY KEY, origin TEXT NOT NULL,"
        " reported_outcome INTEGER NOT NULL, outcome INTEGER NOT NULL,"
        " updated_ms INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE case_changes(hub_seq INTEGER PRIMARY KEY, case_id BLOB NOT NULL,"
        " origin TEXT NOT NULL, id BLOB NOT NULL, created_ms INTEGER NOT NULL,"
        " prev_outcome INTEGER NOT NULL, new_outcome INTEGER NOT NULL);"
        "CREATE INDEX case_changes_case ON case_changes(case_id);"},
    /* Assignments (issue 4, 交办): every assignment the hub holds (from the
     * county's downward stream, or its own `assign`), with the snapshot of
     * the case it came with (a packed CaseSnapshot: the station needs the
     * report's fields); cases assigned from outside the township get a cases
     * row; county_conflict is the county's conflict flag as last heard; the
     * downward streams to the stations (sj_down.h). */
    {3, "CREATE TABLE assignments(id BLOB PRIMARY KEY, case_id BLOB NOT NULL,"
        " assignee TEXT NOT NULL, due_on TEXT NOT NULL CHECK(length(due_on) = 10),"
        " origin TEXT NOT NULL, created_ms INTEGER NOT NULL, note TEXT NOT NULL,"
        " officer TEXT NOT NULL, summary TEXT NOT NULL, item BLOB NOT NULL,"
        " received_ms INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE INDEX assignments_case ON assignments(case_id);"
        "ALTER TABLE cases ADD COLUMN county_conflict INTEGER NOT NULL DEFAULT 0;" SJ_DOWN_SCHEMA},
    /* Cases kept lazily (issue 6: a cases row per report was a fifth B-tree
     * write per report, ~1.4 us of the hub's ~7.8): a report's outcome as it
     * arrived goes into its events row, and the report gets a cases row only
     * when something touches its case (a status change, an assignment, an
     * update here): s_case_materialize. Until then the case is the report
     * as it arrived (hub_store_cases lists both). Events stored before this
     * version have NULL here; those since version 2 have their cases row. */
    {4, "ALTER TABLE events ADD COLUMN outcome INTEGER;"},
    /* Replay by cause, not by clock (issue 12, docs/CASES.md), as at the
     * county: each status change records its parent (the change in force
     * its author saw; empty = the report) and whether the walk applied it
     * (0, 1 on the path in force, 2 in force); the hub lists its conflicts
     * too (conflicts: why a change is listed); a case keeps the county's
     * word as the last down item carried it (county_head: the change in
     * force at the county, empty = none; county_outcome). The rows of older
     * versions get their parents once, when the store is first opened for
     * writing (meta case_parents, sj_case_db_upgrade). */
    {5, "ALTER TABLE case_changes ADD COLUMN parent BLOB;"
        "ALTER TABLE case_changes ADD COLUMN applied INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE conflicts(case_id BLOB NOT NULL, seq INTEGER NOT NULL,"
        " reason TEXT NOT NULL, PRIMARY KEY(case_id, seq)) WITHOUT ROWID;"
        "ALTER TABLE cases ADD COLUMN county_head BLOB;"
        "ALTER TABLE cases ADD COLUMN county_outcome INTEGER NOT NULL DEFAULT 0;"
        "INSERT INTO meta(key, value) VALUES('case_parents', 1)"
        " ON CONFLICT(key) DO UPDATE SET value = 1;"},
    /* The checks where a station's event enters (issue 13): each stream's
     * head (hash chain) and the forks refused (sj_link.h). A stream that
     * entered before has no head yet: its previous event is looked up once
     * (s_event_hash, by the (origin, epoch, origin_seq) index). */
    {6, SJ_DOWNLINK_SCHEMA_2},
    /* A case you can read and find (issue 15): each report's fields as the
     * township may read them (never the sealed personal data, which the hub
     * does not have), from its station's report or, for a case reported
     * outside the township, from the snapshot its assignment came with
     * (officer and level then unknown: NULL); each status change's note and
     * officer; the FTS5 table `search` over summaries and notes, kept by
     * triggers in the transaction that stores the row (sj_history.h). The
     * rows of older versions are read once from the events' own bytes and
     * the assignments' items (meta hub_reports, case_notes). */
    {7, SJ_SEARCH_SCHEMA SJ_SEARCH_CHANGES_SCHEMA(
            "case_changes") "CREATE TABLE reports(id BLOB PRIMARY KEY, origin TEXT NOT NULL,"
                            " occurred_on TEXT NOT NULL, channel INTEGER NOT NULL,"
                            " kind INTEGER NOT NULL, persons INTEGER NOT NULL, level INTEGER,"
                            " category INTEGER NOT NULL, summary TEXT NOT NULL, officer TEXT,"
                            " created_ms INTEGER NOT NULL) WITHOUT ROWID;"
                            "CREATE INDEX reports_created ON reports(created_ms);"
                            "CREATE TRIGGER search_report AFTER INSERT ON reports BEGIN"
                            " INSERT INTO search(text, case_id, kind)"
                            " VALUES(new.summary, new.id, 'summary'); END;"
                            "INSERT INTO meta(key, value) VALUES('hub_reports', 1)"
                            " ON CONFLICT(key) DO UPDATE SET value = 1;"},
    /* Issue 19: refusals from the stations and the stations' streams'
     * floors; the county's items this hub refused or does not know yet. */
    {8, SJ_DOWN_SCHEMA_19 SJ_DOWN_CHILD_SCHEMA_19},
    /* The search index off the ingest path (sj_history.h): the summary of a
     * report that came in an event (search_later = 1) is indexed in the
     * daemon's idle time (hub_store_index), in the order of its events row
     * (hub_seq: reports has no rowid), and meta search_through is the
     * highest hub_seq done. A report known only from an assignment's
     * snapshot (rare: a case of another township) has no events row here and
     * is indexed by the trigger as before. Every report here is indexed: the
     * mark starts at the top, or at 0 while the rows of a store older than
     * schema 7 are still to be read (hub_reports: they come with
     * search_later = 1, like any report of an event). */
    {9, "DROP TRIGGER search_report;"
        "ALTER TABLE reports ADD COLUMN search_later INTEGER NOT NULL DEFAULT 0;"
        "CREATE TRIGGER search_report AFTER INSERT ON reports WHEN new.search_later = 0 BEGIN"
        " INSERT INTO search(text, case_id, kind) VALUES(new.summary, new.id, 'summary'); END;"
        "INSERT INTO meta(key, value) SELECT 'search_through',"
        " CASE WHEN coalesce((SELECT value FROM meta WHERE key = 'hub_reports'), 0) != 0 THEN 0"
        " ELSE coalesce(max(hub_seq), 0) END FROM events"
        " WHERE 1 ON CONFLICT(key) DO UPDATE SET value = excluded.value;"},
    /* Place names (issue 15 item 4, sj_places.h): what the county sent, and
     * which version of it each station was sent. */
    {10, SJ_PLACES_SCHEMA SJ_PLACES_SENT_SCHEMA},
    /* Corrections and voids the hub holds (issue 15): one fixes row per
     * such event (its events row, its case, its type, applied: 0 its report
     * is not here, 1 applied, 2 its origin may not change the case), applied
     * to the readable report (reports: corrected values, voided = 1), so
     * that list and show give what the county counts. Events of older
     * versions are not read again. */
    {11, "CREATE TABLE fixes(hub_seq INTEGER PRIMARY KEY, case_id BLOB NOT NULL,"
         " type INTEGER NOT NULL, applied INTEGER NOT NULL DEFAULT 0);"
         "CREATE INDEX fixes_case ON fixes(case_id);"
         "ALTER TABLE reports ADD COLUMN voided INTEGER NOT NULL DEFAULT 0;"},
    /* Issue 17: accounts and the audit trail (sj_users.h). */
    {12, SJ_USERS_SCHEMA},
    /* Issue 16: the clock's extensions (docs/CLOCK.md), row = hub_seq. */
    {13, SJ_CLOCK_EXT_SCHEMA},
    /* Issue 16: the periods each station was last sent (sj_periods_db.h),
     * and each report's source (a review's clock); the rows held before
     * are read once from their events (meta hub_sources, s_sources_backfill). */
    {14, SJ_PERIODS_SENT_SCHEMA "ALTER TABLE reports ADD COLUMN source INTEGER NOT NULL DEFAULT 0;"
                                "INSERT INTO meta(key, value) VALUES('hub_sources', 1)"
                                " ON CONFLICT(key) DO UPDATE SET value = 1;"},
    /* Issue 16 item 4: leader ownership (领导包案, sj_own.h), row = hub_seq:
     * the hub's own and its stations' (none: a station may not own). */
    {15, SJ_OWN_SCHEMA},
};

/* The idle indexer's source (sj_history.h): the events rows above the mark,
 * a report's with its summary. */
static const sj_search_src_t s_search_src = {
    .rows_sql = "SELECT e.hub_seq, r.summary, r.id FROM events AS e"
                " LEFT JOIN reports AS r ON r.id = e.id AND r.search_later = 1"
                " WHERE e.hub_seq > ?1 ORDER BY e.hub_seq LIMIT ?2",
    .top_sql = "SELECT coalesce(max(hub_seq), 0) FROM events"};

/* Keeps a report's readable fields (schema 7): from its event, or from the
 * snapshot an assignment brought (ev NULL). Idempotent. */
static int
s_report_keep(sqlite3 *db,
              sqlite3_stmt **cache,
              const sj_event_t *ev,
              const sj_snapshot_t *snap,
              const uint8_t *id)
{
    sqlite3_stmt *st = cache ? *cache : NULL;
    if (st) {
        goto bind;
    }
    /* the report's own fields win over a snapshot's */
    int rc = sj_db_prepare(db,
                           ev ? "INSERT OR REPLACE INTO reports(id, origin, occurred_on, channel,"
                                " kind, persons, level, category, summary, officer, created_ms,"
                                " source, search_later) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,1)"
                              : "INSERT INTO reports(id, origin, occurred_on, channel, kind,"
                                " persons, level, category, summary, officer, created_ms, source)"
                                " VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    if (cache) {
        *cache = st;
    }
bind:;
    int64_t created = 0;
    for (int i = 0; i < 6; i++) {
        created = created << 8 | id[i]; /* a UUIDv7 begins with its time */
    }
    if (ev) {
        const sj_report_t *r = &ev->report;
        rc = sj_db_bind_check(
            db,
            sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC)
                | sqlite3_bind_text(st, 2, ev->origin, -1, SQLITE_STATIC)
                | sqlite3_bind_text(st, 3, r->occurred_on, -1, SQLITE_STATIC)
                | sqlite3_bind_int(st, 4, r->channel) | sqlite3_bind_int(st, 5, r->kind)
                | sqlite3_bind_int64(st, 6, r->persons) | sqlite3_bind_int(st, 7, r->level)
                | sqlite3_bind_int(st, 8, r->category)
                | sqlite3_bind_text(st, 9, ev->summary, -1, SQLITE_STATIC)
                | sqlite3_bind_text(st, 10, ev->officer, -1, SQLITE_STATIC)
                | sqlite3_bind_int64(st, 11, ev->created_ms) | sqlite3_bind_int(st, 12, r->source),
            "report row");
    } else {
        rc = sj_db_bind_check(
            db,
            sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC)
                | sqlite3_bind_text(st, 2, snap->origin, -1, SQLITE_STATIC)
                | sqlite3_bind_text(st, 3, snap->occurred_on, -1, SQLITE_STATIC)
                | sqlite3_bind_int(st, 4, snap->channel) | sqlite3_bind_int(st, 5, snap->kind)
                | sqlite3_bind_int64(st, 6, snap->persons) | sqlite3_bind_null(st, 7)
                | sqlite3_bind_int(st, 8, snap->category)
                | sqlite3_bind_text(st, 9, snap->summary, -1, SQLITE_STATIC)
                | sqlite3_bind_null(st, 10) | sqlite3_bind_int64(st, 11, created)
                | sqlite3_bind_int(st, 12, snap->has_clock ? snap->source : 0),
            "report row");
    }
    if (rc == SJ_OK) {
        rc = sj_db_step_done(db, st, "report row");
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (!cache) {
        sqlite3_finalize(st);
    }
    return rc;
}

/* Runs body once after the migration that set meta flag to 1, in one
 * transaction with clearing the flag; logs "what" with body's count. */
static int
s_once(sqlite3 *db, const char *flag, int (*body)(sqlite3 *db, size_t *n), const char *what)
{
    int64_t value = 0;
    int rc = sj_db_meta_get_int(db, flag, &value);
    if (rc == SJ_ENOTFOUND || (rc == SJ_OK && value == 0)) {
        return SJ_OK;
    }
    if (rc != SJ_OK || (rc = sj_db_begin(db)) != SJ_OK) {
        return rc;
    }
    size_t n = 0;
    rc = body(db, &n);
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(db, flag, 0);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
        return rc;
    }
    if (n) {
        sj_info("%s of %zu reports read from their events", what, n);
    }
    return SJ_OK;
}

/* Once after schema 7 (meta hub_reports): the report rows of the events
 * and assignments held before. */
static int
s_reports_rows(sqlite3 *db, size_t *n)
{
    sj_down_item_t *it = malloc(sizeof *it);
    sqlite3_stmt *st = NULL;
    int rc = it ? sj_db_prepare(
                 db, "SELECT raw, 0 FROM events UNION ALL SELECT item, 1 FROM assignments", &st)
                : SJ_ENOMEM;
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char reason[128];
        const uint8_t *raw = sqlite3_column_blob(st, 0);
        size_t len = (size_t) sqlite3_column_bytes(st, 0);
        if (!raw) {
            continue;
        }
        if (sqlite3_column_int(st, 1) == 0) {
            if (sj_event_decode(raw, len, &it->ev, reason, sizeof reason) == SJ_OK
                && it->ev.type == SJ_EVENT_REPORT) {
                rc = s_report_keep(db, NULL, &it->ev, NULL, it->ev.id);
                (*n)++;
            }
        } else if (sj_down_item_decode(raw, len, it, reason, sizeof reason) == SJ_OK) {
            rc = s_report_keep(db, NULL, NULL, &it->snap, it->ev.case_id);
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(db, step, "report rows");
    }
    sqlite3_finalize(st);
    free(it);
    return rc;
}

/* Once after schema 14 (meta hub_sources): each report row's source, read
 * from its event. */
static int
s_sources_rows(sqlite3 *db, size_t *n)
{
    sj_event_t *ev = malloc(sizeof *ev);
    sqlite3_stmt *st = NULL, *up = NULL;
    int rc = ev ? sj_db_prepare(db, "SELECT raw FROM events", &st) : SJ_ENOMEM;
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db, "UPDATE reports SET source = ?2 WHERE id = ?1", &up);
    }
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char reason[128];
        const uint8_t *raw = sqlite3_column_blob(st, 0);
        if (raw
            && sj_event_decode(raw, (size_t) sqlite3_column_bytes(st, 0), ev, reason, sizeof reason)
                   == SJ_OK
            && ev->type == SJ_EVENT_REPORT && ev->report.source != 0) {
            sqlite3_bind_blob(up, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
            sqlite3_bind_int(up, 2, ev->report.source);
            rc = sj_db_step_done(db, up, "report source");
            (*n)++;
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(db, step, "report sources");
    }
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    free(ev);
    return rc;
}

/* A station stream's receipt as last worked out (s_e2e): every event of
 * (code, epoch) up to origin_seq e2e has a hub_seq <= up. */
typedef struct {
    char code[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    uint64_t up;  /* the county's mark (meta up_acked) it was worked out for */
    uint64_t e2e; /* the receipt */
} s_e2e_slot_t;

struct hub_store {
    sqlite3 *db;
    char code[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];      /* the store's own epoch (Welcome to stations) */
    uint8_t link_epoch[SJ_EPOCH_BYTES]; /* the epoch of the stream to the county */
    uint64_t up_offered;                /* meta up_offered as last written (a cache) */
    sqlite3_stmt *st_insert;
    sqlite3_stmt *st_report; /* a report's readable fields (s_report_keep) */
    sqlite3_stmt *st_exists;
    sqlite3_stmt *st_raw_at; /* an event's bytes by its stream position */
    sqlite3_stmt *st_fetch;
    sqlite3_stmt *st_max;
    sqlite3_stmt *st_up_acked;              /* meta up_acked */
    sqlite3_stmt *st_e2e_back;              /* a stream's receipt, scanning down from its head */
    sqlite3_stmt *st_e2e_fwd;               /* ... scanning up from the last receipt */
    s_e2e_slot_t *e2e;                      /* E2E_SLOTS receipts (write mode) */
    sj_down_t *down;                        /* the stations' downward streams (write mode) */
    sj_case_db_t *cases;                    /* the case model's table side (write mode) */
    char account[SJ_MAX_ACCOUNT_BYTES + 1]; /* Event.account of own events ("" none) */
    sj_search_idle_t search;                /* the idle indexer's state (the daemon) */
};

static int
s_identity(hub_store_t *self, const char *code, sj_db_mode_t mode, char *err, size_t err_size)
{
    int rc = sj_db_meta_get_text(self->db, "code", self->code, sizeof self->code);
    if (rc == SJ_ENOTFOUND && mode == SJ_DB_WRITE) {
        if (!code || sj_code_level(code) != 9) {
            snprintf(err, err_size, _("a new hub store needs --code with a 9-digit township code"));
            return SJ_EINVAL;
        }
        snprintf(self->code, sizeof self->code, "%s", code);
        sj_random16(self->epoch);
        memcpy(self->link_epoch, self->epoch, SJ_EPOCH_BYTES);
        if (sj_db_begin(self->db) != SJ_OK || sj_db_meta_set_text(self->db, "code", code) != SJ_OK
            || sj_db_meta_set_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK
            || sj_db_meta_set_blob(self->db, "link_epoch", self->link_epoch, SJ_EPOCH_BYTES)
                   != SJ_OK
            || sj_db_meta_set_int(self->db, "up_acked", 0) != SJ_OK
            || sj_db_meta_set_int(self->db, "up_offered", 0) != SJ_OK
            || sj_db_commit(self->db) != SJ_OK) {
            sj_db_rollback(self->db);
            snprintf(err, err_size, _("cannot initialise the store: %s"), sqlite3_errmsg(self->db));
            return SJ_EDB;
        }
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        snprintf(err, err_size, _("the hub store has no township code (never started?)"));
        return SJ_EDB;
    }
    if (code && strcmp(code, self->code) != 0) {
        snprintf(err, err_size, _("this data directory belongs to township %s, not %s"), self->code,
                 code);
        return SJ_EINVAL;
    }
    int64_t offered = 0;
    if (sj_db_meta_get_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK
        || sj_db_meta_get_blob(self->db, "link_epoch", self->link_epoch, SJ_EPOCH_BYTES) != SJ_OK
        || sj_db_meta_get_int(self->db, "up_offered", &offered) != SJ_OK || offered < 0) {
        snprintf(err, err_size, _("the store has no valid epoch (damaged?)"));
        return SJ_EDB;
    }
    self->up_offered = (uint64_t) offered;
    return SJ_OK;
}

/* Cases with status changes but no cases row (their report is not here):
 * only a report of one of them needs its changes replayed when it comes
 * (s_case_event, sj_case_db_orphan_maybe). Such changes are stored only by
 * this process's replay, which marks them (`township-hub update`, the
 * other writer, refuses a case that is not here). */
#define ORPHANS_SQL                               \
    "SELECT DISTINCT case_id FROM case_changes x" \
    " WHERE NOT EXISTS(SELECT 1 FROM cases c WHERE c.id = x.case_id)"

static int s_upgrade_case(void *ctx, const uint8_t id[SJ_ID_BYTES]);

/* The case model's table side over this store's tables: a case is its
 * cases row, or the report's events row before anything touched it
 * (schema 4); the county's word is the cases row's county_head and
 * county_outcome. Then the rows of an older schema get their parents. */
static int
s_cases_open(hub_store_t *self)
{
    char county[SJ_CODE_MAX + 1];
    snprintf(county, sizeof county, "%.6s", self->code);
    const sj_case_tables_t tables = {
        .report_sql =
            "SELECT origin, reported_outcome, county_head, county_outcome FROM cases WHERE id=?1"
            " UNION ALL SELECT origin, outcome, NULL, 0 FROM events WHERE id=?1"
            " AND outcome IS NOT NULL AND NOT EXISTS(SELECT 1 FROM cases WHERE id=?1)",
        .changes = "case_changes",
        .arrival = "hub_seq",
        .conflict_key = "seq",
        .outcome_sql = "UPDATE cases SET outcome=?1, updated_ms=?3 WHERE id=?2 AND outcome != ?1",
        .orphans_sql = ORPHANS_SQL,
        .county = county};
    self->cases = sj_case_db_new(self->db, &tables);
    if (!self->cases) {
        return SJ_EDB;
    }
    int rc = sj_case_db_upgrade(self->cases, s_upgrade_case, self, NULL);
    if (rc == SJ_OK) {
        rc = sj_history_backfill(self->db, "case_changes", "hub_seq");
    }
    if (rc == SJ_OK) {
        rc = s_once(self->db, "hub_reports", s_reports_rows, "report rows");
    }
    return rc == SJ_OK ? s_once(self->db, "hub_sources", s_sources_rows, "the source") : rc;
}

const sj_migration_t *
hub_store_migrations(size_t *n)
{
    *n = sizeof s_migrations / sizeof s_migrations[0];
    return s_migrations;
}

static int s_down_item(void *ctx,
                       uint64_t seq,
                       const sj_down_item_t *it,
                       const uint8_t *item,
                       size_t len,
                       char *reason,
                       size_t rs);

hub_store_t *
hub_store_open(const char *dir, const char *code, sj_db_mode_t mode, char *err, size_t err_size)
{
    hub_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, _("out of memory"));
        return NULL;
    }
    if (mode == SJ_DB_WRITE && !(self->e2e = calloc(E2E_SLOTS, sizeof *self->e2e))) {
        snprintf(err, err_size, _("out of memory"));
        goto fail;
    }
    if (sj_db_open(dir, "township-hub.db", HUB_APP_ID, s_migrations,
                   sizeof s_migrations / sizeof s_migrations[0], mode, &self->db, err, err_size)
            != SJ_OK
        || s_identity(self, code, mode, err, err_size) != SJ_OK) {
        goto fail;
    }
    if (sj_db_prepare(self->db,
                      "INSERT INTO events(id, origin, epoch, origin_seq, via, received_ms, raw,"
                      " outcome) VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                      &self->st_insert)
            != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT 1 FROM events WHERE origin=? AND epoch=? AND origin_seq=?",
                         &self->st_exists)
               != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT raw FROM events WHERE origin=? AND epoch=? AND origin_seq=?",
                         &self->st_raw_at)
               != SJ_OK
        || sj_db_prepare(
               self->db,
               "SELECT hub_seq, raw FROM events WHERE hub_seq>=? ORDER BY hub_seq LIMIT ?",
               &self->st_fetch)
               != SJ_OK
        || sj_db_prepare(self->db, "SELECT coalesce(max(hub_seq), 0) FROM events", &self->st_max)
               != SJ_OK
        || sj_db_prepare(self->db, "SELECT value FROM meta WHERE key='up_acked'",
                         &self->st_up_acked)
               != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT origin_seq FROM events WHERE origin=? AND epoch=? AND hub_seq<=?"
                         " ORDER BY origin_seq DESC LIMIT 1",
                         &self->st_e2e_back)
               != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT origin_seq, hub_seq FROM events WHERE origin=? AND epoch=?"
                         " AND origin_seq>? ORDER BY origin_seq",
                         &self->st_e2e_fwd)
               != SJ_OK
        || (mode == SJ_DB_WRITE && !(self->down = sj_down_new(self->db)))
        || (mode == SJ_DB_WRITE && s_cases_open(self) != SJ_OK)) {
        snprintf(err, err_size, _("cannot prepare statements: %s"), sqlite3_errmsg(self->db));
        goto fail;
    }
    /* Kept downward items of a kind this version knows now (issue 19). */
    if (mode == SJ_DB_WRITE && sj_down_apply_kept(self->db, s_down_item, self, NULL) != SJ_OK) {
        snprintf(err, err_size, _("cannot apply the kept downward items: %s"),
                 sqlite3_errmsg(self->db));
        goto fail;
    }
    return self;
fail:
    hub_store_close(&self);
    if (err_size && err[0]) {
        sj_db_name_in_error(err, err_size, dir,
                            "township-hub.db"); /* every refusal names the file */
    }
    return NULL;
}

void
hub_store_close(hub_store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    hub_store_t *self = *self_p;
    sqlite3_finalize(self->st_insert);
    sqlite3_finalize(self->st_report);
    sqlite3_finalize(self->st_exists);
    sqlite3_finalize(self->st_raw_at);
    sqlite3_finalize(self->st_fetch);
    sqlite3_finalize(self->st_max);
    sqlite3_finalize(self->st_up_acked);
    sqlite3_finalize(self->st_e2e_back);
    sqlite3_finalize(self->st_e2e_fwd);
    free(self->e2e);
    sj_down_destroy(&self->down);
    sj_case_db_destroy(&self->cases);
    sj_db_close(&self->db);
    free(self);
    *self_p = NULL;
}

int
hub_store_index(hub_store_t *self, int max_rows, int max_ms, int *more, int64_t *done)
{
    return sj_history_index(self->db, &s_search_src, max_rows, max_ms, more, done);
}

int
hub_store_idle(hub_store_t *self)
{
    return sj_history_index_idle(self->db, &s_search_src, &self->search);
}

sqlite3 *
hub_store_db(hub_store_t *self)
{
    return self->db;
}

const char *
hub_store_code(const hub_store_t *self)
{
    return self->code;
}

const uint8_t *
hub_store_epoch(const hub_store_t *self)
{
    return self->epoch;
}

const uint8_t *
hub_store_link_epoch(const hub_store_t *self)
{
    return self->link_epoch;
}

static int
s_max_seq(hub_store_t *self, int64_t *out)
{
    int rc = sqlite3_step(self->st_max);
    int res = SJ_OK;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(self->st_max, 0);
    } else {
        res = sj_db_err(self->db, rc, "max hub_seq");
    }
    sqlite3_reset(self->st_max);
    return res;
}

/* ---- downlink: the hub's stations ---- */

static int
s_admit(void *ctx, const char *code, char *reason, size_t rs)
{
    hub_store_t *self = ctx;
    if (sj_code_level(code) != 12 || !sj_code_under(code, self->code)) {
        snprintf(reason, rs, "station %s is not a village of township %s", code, self->code);
        return SJ_EFORBIDDEN;
    }
    return SJ_OK;
}

static int
s_check_event(
    void *ctx, const char *code, uint64_t link_seq, const sj_event_t *ev, char *reason, size_t rs)
{
    hub_store_t *self = ctx;
    if (strcmp(ev->origin, code) != 0) {
        snprintf(reason, rs, "station %s sent an event of origin %s", code, ev->origin);
        return SJ_EFORBIDDEN;
    }
    if (ev->type == SJ_EVENT_ASSIGNMENT) {
        snprintf(reason, rs,
                 "station %s sent an assignment; only a township or the county"
                 " assigns cases",
                 code);
        return SJ_EPROTO;
    }
    if (ev->type == SJ_EVENT_QUARANTINED) {
        snprintf(reason, rs,
                 "station %s sent a quarantine notice; only a parent reports the"
                 " events it refused",
                 code);
        return SJ_EPROTO;
    }
    if (ev->type == SJ_EVENT_APPROVAL) {
        snprintf(reason, rs, "station %s sent an approval; only a township approves a month", code);
        return SJ_EPROTO;
    }
    if (ev->type == SJ_EVENT_APPOINTMENT || ev->type == SJ_EVENT_APPOINTMENT_MARK) {
        snprintf(reason, rs,
                 "station %s sent an appointment or its mark; only the county makes"
                 " appointments (约访)",
                 code);
        return SJ_EPROTO;
    }
    if (ev->origin_seq != link_seq) {
        snprintf(reason, rs, "origin_seq %" PRIu64 " does not match link seq %" PRIu64,
                 ev->origin_seq, link_seq);
        return SJ_EPROTO;
    }
    /* Authority where the event first enters (issue 12): a change of a case
     * the hub holds, from a station that may change it (sj_case.h). */
    char holder[32];
    snprintf(holder, sizeof holder, "township %s", self->code);
    return sj_case_db_check(self->cases, ev, holder, reason, rs);
}

/* ---- cases (issue 4) ----
 * A report's case has a cases row once anything touched it (schema 4):
 * before, it is its events row (outcome: the outcome reported). This gives
 * the case its row, as a report once gave it at arrival: reported_outcome
 * and outcome the report's, updated_ms its created_ms. No report here (or
 * the row exists already): nothing to do. Inside the write transaction. */
static int
s_case_materialize(hub_store_t *self, const uint8_t id[SJ_ID_BYTES])
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "SELECT raw FROM events WHERE id=?1 AND outcome IS NOT NULL"
                           " AND NOT EXISTS(SELECT 1 FROM cases WHERE id=?1)",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        sqlite3_finalize(st);
        return step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "case report lookup");
    }
    sj_event_t *ev = malloc(sizeof *ev);
    char why[256] = "not a report";
    if (!ev) {
        rc = SJ_ENOMEM;
    } else if (sj_event_decode(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), ev,
                               why, sizeof why)
                   != SJ_OK
               || ev->type != SJ_EVENT_REPORT) {
        /* it was validated when it came: a damaged store */
        sj_error("the stored report of a case does not decode: %s", why);
        rc = SJ_EDB;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms)"
                           " VALUES(?1, ?2, ?3, ?3, ?4) ON CONFLICT DO NOTHING",
                           &st);
    }
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ev->origin, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, ev->report.outcome);
        sqlite3_bind_int64(st, 4, ev->created_ms);
        rc = sj_db_step_done(self->db, st, "case insert");
        sqlite3_finalize(st);
    }
    free(ev);
    return rc;
}

/*
 * The current outcome is recomputed from the report and every change the hub
 * holds by the walk of the case model (sj_case.h, docs/CASES.md), the same
 * rule as the county's, from the county's word when it has one (the last
 * down item's head and outcome); the changes not in force are listed in
 * conflicts. A case with changes and no report here is an orphan: marked,
 * replayed when its report comes. */
static int
s_case_replay(hub_store_t *self, const uint8_t id[SJ_ID_BYTES])
{
    int rc = s_case_materialize(self, id);
    sj_case_state_t state;
    int found = 0;
    if (rc == SJ_OK) {
        rc = sj_case_db_replay(self->cases, id, 0, &state, &found, NULL);
    }
    return rc;
}

/* The upgrade (sj_case_db_upgrade): the changes of an older store get
 * their parents and verdicts, but the case keeps the outcome it has: the
 * county's word of that time was not recorded with its head, so the hub
 * cannot replay it; the next change or down item of the case replays it. */
static int
s_upgrade_case(void *ctx, const uint8_t id[SJ_ID_BYTES])
{
    hub_store_t *self = ctx;
    sj_case_state_t state;
    int found = 0;
    return sj_case_db_replay(self->cases, id, SJ_CASE_DB_KEEP_OUTCOME, &state, &found, NULL);
}

/* A correction or void (issue 15): its fixes row, and, when its report is
 * here and its origin may change the case, the readable report changed. */
static int
s_fix_keep(hub_store_t *self, const sj_event_t *ev, int64_t hub_seq)
{
    sj_case_rows_t rows;
    memset(&rows, 0, sizeof rows);
    int rc = sj_case_db_facts(self->cases, ev->case_id, &rows);
    if (rc != SJ_OK) {
        return rc;
    }
    char why[256] = "";
    int here = 0, applied = 0;
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(self->db, "SELECT voided FROM reports WHERE id = ?1", &st);
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
        int step = sqlite3_step(st);
        here = step == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
        sqlite3_finalize(st);
    }
    if (rc == SJ_OK && here) {
        applied =
            rows.found && sj_case_may_change(&rows.facts, ev->origin, why, sizeof why) == SJ_OK ? 1
                                                                                                : 2;
    }
    sj_case_rows_free(&rows);
    if (rc == SJ_OK && applied == 1 && ev->type == SJ_EVENT_CORRECTION) {
        const sj_report_t *r = &ev->report;
        rc = sj_db_prepare(self->db,
                           "UPDATE reports SET occurred_on = coalesce(?1, occurred_on),"
                           " channel = coalesce(?2, channel), kind = coalesce(?3, kind),"
                           " persons = coalesce(?4, persons), level = coalesce(?5, level),"
                           " category = coalesce(?6, category), summary = coalesce(?8, summary)"
                           " WHERE id = ?9",
                           &st);
        if (rc == SJ_OK) {
            if (r->occurred_on[0]) {
                sqlite3_bind_text(st, 1, r->occurred_on, -1, SQLITE_STATIC);
            }
            const int v[] = {r->channel, r->kind, (int) r->persons, r->level, r->category};
            for (int i = 0; i < 5; i++) {
                if (v[i]) {
                    sqlite3_bind_int(st, 2 + i, v[i]);
                }
            }
            if (ev->summary[0]) {
                sqlite3_bind_text(st, 8, ev->summary, -1, SQLITE_STATIC);
            }
            sqlite3_bind_blob(st, 9, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
            rc = sj_db_step_done(self->db, st, "correction");
            sqlite3_finalize(st);
        }
    } else if (rc == SJ_OK && applied == 1) {
        rc = sj_db_prepare(self->db, "UPDATE reports SET voided = 1 WHERE id = ?1", &st);
        if (rc == SJ_OK) {
            sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
            rc = sj_db_step_done(self->db, st, "void");
            sqlite3_finalize(st);
        }
    }
    if (rc == SJ_OK && applied == 2) {
        char idtext[SJ_UUID_TEXT];
        sj_uuid_format(ev->case_id, idtext);
        sj_warn("a %s of case %s from %s is not applied here: %s",
                ev->type == SJ_EVENT_VOID ? "void" : "correction", idtext, ev->origin,
                why[0] ? why : "the case is voided");
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO fixes(hub_seq, case_id, type, applied) VALUES(?1, ?2, ?3,"
                           " ?4) ON CONFLICT(hub_seq) DO NOTHING",
                           &st);
        if (rc == SJ_OK) {
            sqlite3_bind_int64(st, 1, hub_seq);
            sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, (int) ev->type);
            sqlite3_bind_int(st, 4, applied);
            rc = sj_db_step_done(self->db, st, "fixes");
            sqlite3_finalize(st);
        }
    }
    return rc;
}

static int s_refresh_own(hub_store_t *self, const uint8_t case_id[SJ_ID_BYTES]);

/* After a new event is stored (hub_seq: its row): keeps cases current. */
static int
s_case_event(hub_store_t *self, const sj_event_t *ev, int64_t hub_seq)
{
    if (ev->type == SJ_EVENT_ASSIGNMENT) {
        return SJ_OK; /* the hub's own: its assignments row is written by hub_store_assign */
    }
    if (ev->type == SJ_EVENT_APPROVAL) {
        return SJ_OK; /* its events row is all; the county lists it */
    }
    if (ev->type == SJ_EVENT_CORRECTION || ev->type == SJ_EVENT_VOID) {
        /* kept and forwarded; the county's figures count them (docs/CASES.md);
         * here they change what list and show give */
        return s_fix_keep(self, ev, hub_seq);
    }
    if (ev->type == SJ_EVENT_EVALUATION) {
        return SJ_OK; /* kept and forwarded; the county applies it (docs/CASES.md) */
    }
    if (ev->type == SJ_EVENT_EXTENSION) {
        int rc = sj_clock_db_insert(self->db, hub_seq, ev); /* the hub's own (docs/CLOCK.md) */
        return rc == SJ_OK ? s_refresh_own(self, ev->case_id) : rc;
    }
    if (ev->type == SJ_EVENT_OWNERSHIP) {
        return sj_own_insert(self->db, hub_seq, ev); /* the hub's own (docs/MEETING.md) */
    }
    if (ev->type == SJ_EVENT_REPORT) {
        /* Its events row is the case (s_case_materialize). Changes that came
         * before the report (rare) give it its row now: the orphan bit and
         * one prepared lookup keep that off the hot path. */
        int waits = 0;
        int rc = s_report_keep(self->db, &self->st_report, ev, NULL, ev->id);
        if (rc != SJ_OK) {
            return rc;
        }
        self->search.settled = 0; /* its summary: for the idle indexer */
        rc = sj_case_db_orphan_maybe(self->cases, ev->id)
                 ? sj_case_db_waits(self->cases, ev->id, &waits)
                 : SJ_OK;
        return rc == SJ_OK && waits ? s_case_replay(self, ev->id) : rc;
    }
    int rc = sj_case_db_insert(self->cases, ev, hub_seq);
    if (rc == SJ_OK) {
        rc = s_case_replay(self, ev->case_id);
    }
    if (rc == SJ_OK && ev->type == SJ_EVENT_STATUS && strcmp(ev->origin, self->code) == 0) {
        rc = s_refresh_own(self, ev->case_id); /* the township's own change */
    }
    return rc;
}

static int
s_store_event(void *ctx,
              const char *code,
              const sj_event_t *ev,
              const uint8_t *raw,
              size_t len,
              sj_stored_t *result)
{
    hub_store_t *self = ctx;
    /* hub_seq is left to SQLite (max + 1 at insert time), not counted here:
     * the downlink rolls back refused batches to a savepoint, and a cached
     * counter would then skip numbers, leaving a gap that stops forwarding. */
    sqlite3_stmt *st = self->st_insert;
    sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, ev->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) ev->origin_seq);
    sqlite3_bind_text(st, 5, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, sj_now_ms());
    sqlite3_bind_blob(st, 7, raw, (int) len, SQLITE_STATIC);
    if (ev->type == SJ_EVENT_REPORT) {
        sqlite3_bind_int(st, 8, ev->report.outcome);
    } else {
        sqlite3_bind_null(st, 8);
    }
    int rc = sj_db_step_done(self->db, st, "events insert");
    if (rc != SJ_OK) {
        return rc;
    }
    if (sqlite3_changes(self->db) == 1) {
        *result = SJ_STORED_NEW;
        return ev->type == SJ_EVENT_QUARANTINED
                   ? SJ_OK
                   : s_case_event(self, ev, sqlite3_last_insert_rowid(self->db));
    }
    sqlite3_stmt *ex = self->st_exists;
    sqlite3_bind_text(ex, 1, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(ex, 2, ev->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(ex, 3, (sqlite3_int64) ev->origin_seq);
    int step = sqlite3_step(ex);
    sqlite3_reset(ex);
    sqlite3_clear_bindings(ex);
    *result = step == SQLITE_ROW ? SJ_STORED_DUPLICATE : SJ_STORED_ID_CONFLICT;
    return SJ_OK;
}

static void
s_committed(void *ctx, size_t n_new)
{
    (void) ctx;
    (void) n_new;
}

/* Receipt for a station's stream: its events are stored here in origin_seq
 * order, so hub_seq grows with origin_seq, and the highest origin_seq whose
 * hub_seq the county has acked is committed at the county with all before
 * it. (The index on (origin, epoch, origin_seq) holds hub_seq as its rowid.)
 * Worked out from the stream's last receipt, when there is one for a mark
 * no higher: up from it through what the county acked since (each event is
 * passed once). Otherwise down from the stream's head, which passes every
 * event the county has not acked: with a county away or behind, that was
 * every ack's cost (issue 6). */
static int
s_e2e(void *ctx, const char *code, const uint8_t *epoch, uint64_t acked, uint64_t *e2e)
{
    hub_store_t *self = ctx;
    (void) acked;
    *e2e = 0;
    int step = sqlite3_step(self->st_up_acked);
    int64_t up = step == SQLITE_ROW ? sqlite3_column_int64(self->st_up_acked, 0) : 0;
    sqlite3_reset(self->st_up_acked);
    if (step != SQLITE_ROW) {
        return step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "meta up_acked");
    }
    if (up <= 0) {
        return SJ_OK;
    }
    s_e2e_slot_t *slot = NULL;
    if (self->e2e) {
        uint32_t h = 2166136261u; /* FNV-1a over code and epoch */
        for (const char *c = code; *c; c++) {
            h = (h ^ (uint8_t) *c) * 16777619u;
        }
        for (size_t i = 0; i < SJ_EPOCH_BYTES; i++) {
            h = (h ^ epoch[i]) * 16777619u;
        }
        slot = &self->e2e[h % E2E_SLOTS];
        if (strcmp(slot->code, code) != 0 || memcmp(slot->epoch, epoch, SJ_EPOCH_BYTES) != 0
            || slot->up > (uint64_t) up) {
            slot->code[0] = '\0'; /* another stream's, or a mark that went back: unknown */
        } else if (slot->up == (uint64_t) up) {
            *e2e = slot->e2e;
            return SJ_OK;
        }
    }
    int fwd = slot && slot->code[0];
    sqlite3_stmt *st = fwd ? self->st_e2e_fwd : self->st_e2e_back;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, fwd ? (sqlite3_int64) slot->e2e : up);
    uint64_t found = fwd ? slot->e2e : 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (fwd && sqlite3_column_int64(st, 1) > up) {
            step = SQLITE_DONE;
            break;
        }
        found = (uint64_t) sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        if (slot) {
            slot->code[0] = '\0';
        }
        return sj_db_err(self->db, step, "e2e receipt");
    }
    *e2e = found;
    if (slot) {
        snprintf(slot->code, sizeof slot->code, "%s", code);
        memcpy(slot->epoch, epoch, SJ_EPOCH_BYTES);
        slot->up = (uint64_t) up;
        slot->e2e = found;
    }
    return SJ_OK;
}

static sj_down_t *
s_down(void *ctx)
{
    return ((hub_store_t *) ctx)->down;
}

/* ---- the checks where a station's event enters (sj_link.h) ---- */

/* Calls fn with the bytes held at stream position (origin, epoch, seq):
 * SJ_ENOTFOUND when none are (the (origin, epoch, origin_seq) index). */
static int
s_raw_at(hub_store_t *self,
         const char *origin,
         const uint8_t *epoch,
         uint64_t seq,
         void (*fn)(const void *raw, size_t len, void *arg),
         void *arg)
{
    sqlite3_stmt *st = self->st_raw_at;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) seq);
    int step = sqlite3_step(st);
    int rc = SJ_OK;
    if (step == SQLITE_ROW) {
        fn(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), arg);
    } else {
        rc = step == SQLITE_DONE ? SJ_ENOTFOUND : sj_db_err(self->db, step, "event lookup");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

typedef struct {
    const uint8_t *raw;
    size_t len;
    int same;
} s_cmp_t;

static void
s_cmp(const void *raw, size_t len, void *arg)
{
    s_cmp_t *c = arg;
    c->same = len == c->len && (len == 0 || memcmp(raw, c->raw, len) == 0);
}

static void
s_hash_of(const void *raw, size_t len, void *arg)
{
    sj_event_hash(raw, len, arg);
}

static int
s_held(void *ctx, const sj_event_t *ev, const uint8_t *raw, size_t len, int *same)
{
    s_cmp_t c = {.raw = raw, .len = len, .same = 0};
    int rc = s_raw_at(ctx, ev->origin, ev->epoch, ev->origin_seq, s_cmp, &c);
    *same = c.same;
    return rc;
}

static int
s_event_hash(
    void *ctx, const char *origin, const uint8_t *epoch, uint64_t seq, uint8_t hash[SJ_HASH_BYTES])
{
    return s_raw_at(ctx, origin, epoch, seq, s_hash_of, hash);
}

static int s_own_append(
    hub_store_t *self, sj_event_t *ev, uint8_t **raw_p, size_t *len_p, char *reason, size_t rs);

/* A station's event was quarantined here: the county hears of it as an
 * event of the hub's own stream (a Quarantined notice), so that its
 * `verify` shows the position as refused, not lost. */
static int
s_quarantined(void *ctx, sj_event_t *notice)
{
    hub_store_t *self = ctx;
    char reason[256] = "";
    int rc = s_own_append(self, notice, NULL, NULL, reason, sizeof reason);
    if (rc != SJ_OK) {
        sj_error("cannot record the quarantine notice for the county: %s",
                 reason[0] ? reason : sj_strerror(rc));
    }
    return rc;
}

/* A station's cursor is below its stream's floor (its store made anew
 * after items were pruned): the latest assignment of each of its open cases,
 * as the hub holds it (the item with the latest snapshot), as fresh items. */
static int
s_down_refill(void *ctx, const char *child)
{
    hub_store_t *self = ctx;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "SELECT a.id, a.item FROM assignments a JOIN cases c ON c.id = a.case_id"
                           " WHERE a.assignee = ?1 AND c.outcome IN " SJ_OUTCOME_OPEN_SQL
                           " AND a.id = (SELECT a2.id FROM assignments a2 WHERE a2.case_id ="
                           " a.case_id AND a2.assignee = ?1 ORDER BY a2.created_ms DESC, a2.id"
                           " DESC LIMIT 1) ORDER BY a.created_ms, a.id",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    int step, n = 0;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc =
            sj_down_enqueue(self->down, child, sqlite3_column_blob(st, 0),
                            sqlite3_column_blob(st, 1), (size_t) sqlite3_column_bytes(st, 1), NULL);
        n++;
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "refill");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        rc = sj_places_offer(self->db, self->down, child, 1);
    }
    if (rc == SJ_OK) {
        rc = sj_periods_offer(self->db, self->down, child, 1);
    }
    if (rc == SJ_OK) {
        sj_notice("station %s: %d open assigned case(s) sent again as fresh items", child, n);
    }
    return rc;
}

/* At a station's Hello: its place names, when it was not sent this version. */
static int
s_down_hello(void *ctx, const char *child)
{
    hub_store_t *self = ctx;
    int rc = sj_places_offer(self->db, self->down, child, 0);
    return rc == SJ_OK ? sj_periods_offer(self->db, self->down, child, 0) : rc;
}

const sj_downlink_ops_t hub_store_downlink_ops = {.admit = s_admit,
                                                  .check_event = s_check_event,
                                                  .store_event = s_store_event,
                                                  .committed = s_committed,
                                                  .e2e = s_e2e,
                                                  .down = s_down,
                                                  .down_refill = s_down_refill,
                                                  .down_hello = s_down_hello,
                                                  .held = s_held,
                                                  .event_hash = s_event_hash,
                                                  .quarantined = s_quarantined};

/* ---- the hub's own status changes (township-hub update) ---- */

/* Inside the write transaction: numbers and chains ev (type and body are the
 * caller's) as the next event of the hub's own stream (origin the hub code,
 * the store epoch, meta own_seq and own_hash) and stores it in events, so it
 * is forwarded like any event. With raw_p the caller gets the packed bytes
 * (free()). */
static int
s_own_append(
    hub_store_t *self, sj_event_t *ev, uint8_t **raw_p, size_t *len_p, char *reason, size_t rs)
{
    if (!ev->account[0] && self->account[0]) {
        snprintf(ev->account, sizeof ev->account, "%s", self->account);
    }
    return sj_own_append(self->db, self->code, self->epoch, s_store_event, self, "hub", ev, raw_p,
                         len_p, reason, rs);
}

void
hub_store_set_account(hub_store_t *self, const char *account)
{
    snprintf(self->account, sizeof self->account, "%s", account ? account : "");
    if (self->cases) {
        sj_case_db_set_account(self->cases, account);
    }
}

/* The township's own status change: the next event of its own stream. */
static int
s_append_change(void *ctx, sj_event_t *ev, char *reason, size_t rs)
{
    return s_own_append(ctx, ev, NULL, NULL, reason, rs);
}

/* The township's own event of a case it may change (a correction, a void,
 * an ownership): checked and appended in one transaction. */
static int
s_case_event_own(hub_store_t *self, sj_event_t *ev, char *reason, size_t reason_size)
{
    char idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        snprintf(reason, reason_size, "cannot write the hub store: %s", sj_strerror(rc));
        return rc;
    }
    sj_case_rows_t rows;
    memset(&rows, 0, sizeof rows);
    char why[256] = "";
    rc = sj_case_db_facts(self->cases, ev->case_id, &rows);
    if (rc == SJ_OK && !rows.found) {
        snprintf(reason, reason_size, "township %s holds no case %s", self->code, idtext);
        rc = SJ_ENOTFOUND;
    } else if (rc == SJ_OK
               && sj_case_may_change(&rows.facts, self->code, why, sizeof why) != SJ_OK) {
        snprintf(reason, reason_size, "%s", why);
        rc = SJ_EINVAL;
    }
    sj_case_rows_free(&rows);
    if (rc == SJ_OK) {
        sj_uuid7_new(ev->id);
        rc = s_own_append(self, ev, NULL, NULL, reason, reason_size);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        if (!reason[0]) {
            snprintf(reason, reason_size, "not stored: %s", sj_strerror(rc));
        }
    }
    return rc;
}

int
hub_store_fix(hub_store_t *self, sj_event_t *ev, char *reason, size_t reason_size)
{
    return s_case_event_own(self, ev, reason, reason_size);
}

/* ---- the clock (docs/CLOCK.md) ---- */

/* A case's received date, reported outcome and source as the hub holds
 * them. SJ_ENOTFOUND without a reports row. */
static int
s_clock_facts(
    sqlite3 *db, const uint8_t id[SJ_ID_BYTES], char received[11], int *outcome, int *source)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sj_db_prepare(db,
                      "SELECT r.occurred_on, coalesce((SELECT c.reported_outcome FROM cases c"
                      " WHERE c.id = r.id), (SELECT e.outcome FROM events e WHERE e.id = r.id),"
                      " 1), r.source FROM reports r WHERE r.id = ?1",
                      &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(received, 11, "%s", (const char *) sqlite3_column_text(st, 0));
        *outcome = sqlite3_column_int(st, 1);
        *source = sqlite3_column_int(st, 2);
    } else {
        rc = step == SQLITE_DONE ? SJ_ENOTFOUND : sj_db_err(db, step, "report lookup");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The clock of a case at the hub on today (SJ_ENOTFOUND: no report here). */
static int
s_case_clock(hub_store_t *self,
             sj_clock_db_t *cdb,
             const uint8_t id[SJ_ID_BYTES],
             const sj_periods_t *p,
             const char *today,
             sj_clock_t *clk)
{
    char received[11] = "";
    int outcome = 0, source = 0;
    int rc = s_clock_facts(self->db, id, received, &outcome, &source);
    if (rc != SJ_OK) {
        return rc;
    }
    /* The county's view, when an item of it brought its clock: the changes
     * and extensions made at the county, which do not pass through the hub,
     * joined with the hub's own (CaseSnapshot.clock). */
    sj_down_item_t *it = malloc(sizeof *it);
    sj_clock_ev_t *all = NULL;
    const sj_clock_ev_t *mine = NULL;
    size_t n_mine = 0;
    sqlite3_stmt *st = NULL;
    rc = it ? sj_clock_db_events(cdb, id, &mine, &n_mine) : SJ_ENOMEM;
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "SELECT item FROM assignments WHERE case_id = ?1"
                           " ORDER BY received_ms DESC, created_ms DESC LIMIT 1",
                           &st);
    }
    int theirs = 0;
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
        char why[200];
        theirs = sqlite3_step(st) == SQLITE_ROW
                 && sj_down_item_decode(sqlite3_column_blob(st, 0),
                                        (size_t) sqlite3_column_bytes(st, 0), it, why, sizeof why)
                        == SJ_OK
                 && it->snap.has_clock;
        sqlite3_finalize(st);
    }
    sj_clock_case_t c = {.report_outcome = outcome, .report_source = source};
    snprintf(c.received, sizeof c.received, "%s", received);
    if (rc == SJ_OK && theirs) {
        all = malloc((n_mine + it->snap.n_clock + 1) * sizeof *all);
        rc = all ? SJ_OK : SJ_ENOMEM;
        if (rc == SJ_OK) {
            c.n = sj_clock_ev_union(it->snap.clock, it->snap.n_clock, mine, n_mine, all);
            c.ev = all;
        }
    } else if (rc == SJ_OK) {
        c.ev = mine;
        c.n = n_mine;
    }
    if (rc == SJ_OK) {
        rc = sj_clock_compute(&c, p, today, clk);
    }
    free(all);
    free(it);
    return rc;
}

int
hub_store_extend(hub_store_t *self,
                 sj_event_t *ev,
                 const sj_periods_t *p,
                 const char *today,
                 sj_clock_t *after,
                 char *reason,
                 size_t reason_size)
{
    char idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        snprintf(reason, reason_size, "cannot write the hub store: %s", sj_strerror(rc));
        return rc;
    }
    sj_case_rows_t rows;
    memset(&rows, 0, sizeof rows);
    char why[256] = "";
    rc = sj_case_db_facts(self->cases, ev->case_id, &rows);
    if (rc == SJ_OK && !rows.found) {
        snprintf(reason, reason_size, "township %s holds no case %s", self->code, idtext);
        rc = SJ_ENOTFOUND;
    } else if (rc == SJ_OK
               && sj_case_may_change(&rows.facts, self->code, why, sizeof why) != SJ_OK) {
        snprintf(reason, reason_size, "%s", why);
        rc = SJ_EINVAL;
    }
    sj_case_rows_free(&rows);
    sj_clock_db_t *cdb = NULL;
    if (rc == SJ_OK) {
        rc = sj_clock_db_open(self->db, HUB_CLOCK_CHANGES_SQL, &cdb);
    }
    sj_clock_t clk;
    if (rc == SJ_OK) {
        rc = s_case_clock(self, cdb, ev->case_id, p, today, &clk);
        if (rc == SJ_ENOTFOUND) {
            snprintf(reason, reason_size, "township %s holds no report of case %s", self->code,
                     idtext);
        }
    }
    if (rc == SJ_OK) {
        rc = sj_clock_extend_check(&clk, p, &ev->ext_stage, ev->ext_days, reason, reason_size);
    }
    if (rc == SJ_OK) {
        sj_uuid7_new(ev->id);
        rc = s_own_append(self, ev, NULL, NULL, reason, reason_size);
    }
    if (rc == SJ_OK) {
        rc = s_case_clock(self, cdb, ev->case_id, p, today, after);
    }
    sj_clock_db_close(&cdb);
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        if (!reason[0]) {
            snprintf(reason, reason_size, "not stored: %s", sj_strerror(rc));
        }
    }
    return rc;
}

int
hub_store_own(hub_store_t *self, sj_event_t *ev, char *reason, size_t reason_size)
{
    return s_case_event_own(self, ev, reason, reason_size);
}

int
hub_store_approve(
    hub_store_t *self, const char *month, const char *officer, char *reason, size_t reason_size)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(reason, reason_size, "out of memory");
        return SJ_ENOMEM;
    }
    ev->type = SJ_EVENT_APPROVAL;
    snprintf(ev->month, sizeof ev->month, "%s", month);
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
    int rc = sj_db_begin(self->db);
    if (rc == SJ_OK) {
        sj_uuid7_new(ev->id);
        rc = s_own_append(self, ev, NULL, NULL, reason, reason_size);
        if (rc == SJ_OK) {
            rc = sj_db_commit(self->db);
        }
        if (rc != SJ_OK) {
            sj_db_rollback(self->db);
        }
    }
    if (rc != SJ_OK && !reason[0]) {
        snprintf(reason, reason_size, "not stored: %s", sj_strerror(rc));
    }
    free(ev);
    return rc;
}

int
hub_store_update(hub_store_t *self,
                 const uint8_t case_id[SJ_ID_BYTES],
                 int outcome,
                 const char *note,
                 const char *officer,
                 sj_update_result_t *res,
                 char *reason,
                 size_t reason_size)
{
    return hub_store_update_ex(self, case_id, outcome, 0, note, officer, res, reason, reason_size);
}

int
hub_store_update_ex(hub_store_t *self,
                    const uint8_t case_id[SJ_ID_BYTES],
                    int outcome,
                    int satisfaction,
                    const char *note,
                    const char *officer,
                    sj_update_result_t *res,
                    char *reason,
                    size_t reason_size)
{
    char where[32];
    snprintf(where, sizeof where, _("at township %s"), self->code);
    return sj_case_db_update_ex(self->cases, self->code, where, s_append_change, self, case_id,
                                outcome, satisfaction, note, officer, res, reason, reason_size);
}

int
hub_store_cases(hub_store_t *self, unsigned filter, sj_table_t **out)
{
    return hub_store_cases_by(self, filter, NULL, out);
}

int
hub_store_cases_by(hub_store_t *self, unsigned filter, const char *leader, sj_table_t **out)
{
    *out = NULL;
    /* A conflict: a change the hub lists (conflicts: not in force, or in
     * force over a concurrent one), or one the county listed (its flag as
     * the last down item carried it).
     * Assigned: the case's latest assignment by (created_ms, id); days left
     * from today's date here (no link needed); overdue: open (pending or
     * accepted) and past a due date at any stage, the 交办 one or a
     * statutory stage's (docs/CLOCK.md §5). */
    /* clang-format off */
    static const char sql[] =
        "SELECT * FROM (SELECT c.id, c.origin, c.outcome,"
        "  (SELECT max(x.created_ms) FROM case_changes x WHERE x.case_id = c.id),"
        "  (SELECT count(*) FROM case_changes x WHERE x.case_id = c.id),"
        "  c.county_conflict OR EXISTS(SELECT 1 FROM conflicts x WHERE x.case_id = c.id)"
        "  AS conflict,"
        "  a.assignee, a.due_on,"
        "  CAST(julianday(a.due_on) - julianday(?3) AS INTEGER) AS days_left,"
        "  " SJ_OWN_CURRENT_SQL("leader", "c.id") " AS owner,"
        "  " SJ_OWN_CURRENT_SQL("portfolio", "c.id") " AS portfolio"
        " FROM (SELECT id, origin, outcome, county_conflict FROM cases"
        "  UNION ALL SELECT e.id, e.origin, e.outcome, 0 FROM events e"
        "  WHERE e.outcome IS NOT NULL AND NOT EXISTS(SELECT 1 FROM cases x WHERE x.id = e.id)) c"
        " LEFT JOIN assignments a ON a.id = (SELECT a2.id FROM assignments a2"
        "  WHERE a2.case_id = c.id ORDER BY a2.created_ms DESC, a2.id DESC LIMIT 1))"
        " WHERE (?1 = 0 OR conflict)"
        "  AND (?2 = 0 OR outcome IN " SJ_OUTCOME_OPEN_SQL ")"
        "  AND (?4 = 0 OR outcome IN " SJ_OUTCOME_OPEN_SQL ")"
        "  AND (?5 IS NULL OR owner = ?5)"
        " ORDER BY 2, 1";
    /* clang-format on */
    static const char *const names[] = {
        "case_id",     "station",      "outcome",       "last_change",   "changes",
        "conflict",    "assignee",     "due_on",        "days_left",     "overdue",
        "accept_due",  "accept_left",  "conclude_due",  "conclude_left", "review_due",
        "review_left", "overdue_what", "clock_overdue", "owner",         "portfolio"};
    static const sj_col_type_t types[] = {
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT,
        SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_INT,
        SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return SJ_EDB;
    }
    char today[11];
    sj_date_today(today);
    sqlite3_bind_int(st, 1, (filter & HUB_CASES_CONFLICTS) ? 1 : 0);
    sqlite3_bind_int(st, 2, (filter & HUB_CASES_OVERDUE) ? 1 : 0);
    sqlite3_bind_text(st, 3, today, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (filter & HUB_CASES_OPEN) ? 1 : 0);
    if (leader) {
        sqlite3_bind_text(st, 5, leader, -1, SQLITE_STATIC);
    }
    sj_table_t *t = sj_table_new(20, names, types);
    int rc = t ? SJ_OK : SJ_ENOMEM, step = SQLITE_DONE;
    sj_periods_t periods; /* the county's, as delivered down (sj_periods_db.h) */
    if (rc == SJ_OK) {
        rc = sj_periods_db_get(self->db, &periods, NULL);
    }
    sj_clock_db_t *cdb = NULL;
    if (rc == SJ_OK) {
        rc = sj_clock_db_open(self->db, HUB_CLOCK_CHANGES_SQL, &cdb);
    }
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[SJ_UUID_TEXT] = "", when[32] = "", n[24], days[24] = "";
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
            sj_uuid_format(sqlite3_column_blob(st, 0), id);
        }
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            time_t secs = (time_t) (sqlite3_column_int64(st, 3) / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        snprintf(n, sizeof n, "%lld", sqlite3_column_int64(st, 4));
        int assigned = sqlite3_column_type(st, 7) != SQLITE_NULL;
        int outcome = sqlite3_column_int(st, 2);
        long long left = sqlite3_column_int64(st, 8);
        if (assigned) {
            snprintf(days, sizeof days, "%lld", left);
        }
        int assign_overdue = assigned && left < 0 && sj_outcome_is_open(outcome);
        sj_clock_t clk;
        memset(&clk, 0, sizeof clk);
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
            int crc = s_case_clock(self, cdb, sqlite3_column_blob(st, 0), &periods, today, &clk);
            if (crc != SJ_OK && crc != SJ_ENOTFOUND && crc != SJ_EINVAL) {
                rc = crc;
                break;
            }
        }
        if (!sj_outcome_is_open(outcome)) {
            clk.overdue = 0; /* a county's word may have closed it: no stage runs */
            for (int k = SJ_STAGE_ACCEPT; k <= SJ_STAGE_REVIEW; k++) {
                clk.st[k].overdue = 0;
                clk.st[k].done = clk.st[k].active;
            }
        }
        char lefts[SJ_STAGE_N][24], what[64] = "";
        for (int k = SJ_STAGE_ACCEPT; k <= SJ_STAGE_REVIEW; k++) {
            snprintf(lefts[k], sizeof lefts[k], "%lld", (long long) clk.st[k].left);
        }
        sj_clock_overdue_what(&clk, assign_overdue, what, sizeof what);
#define S_DUE(k)  (clk.st[k].active ? clk.st[k].due : NULL)
#define S_LEFT(k) (clk.st[k].active && !clk.st[k].done ? lefts[k] : NULL)
        const char *cells[] = {id,
                               (const char *) sqlite3_column_text(st, 1),
                               sj_enum_name(SJ_FIELD_OUTCOME, outcome),
                               when,
                               n,
                               sqlite3_column_int(st, 5) ? "yes" : "",
                               assigned ? (const char *) sqlite3_column_text(st, 6) : "",
                               assigned ? (const char *) sqlite3_column_text(st, 7) : "",
                               assigned ? days : NULL,
                               assign_overdue || clk.overdue ? "yes" : "",
                               S_DUE(SJ_STAGE_ACCEPT),
                               S_LEFT(SJ_STAGE_ACCEPT),
                               S_DUE(SJ_STAGE_CONCLUDE),
                               S_LEFT(SJ_STAGE_CONCLUDE),
                               S_DUE(SJ_STAGE_REVIEW),
                               S_LEFT(SJ_STAGE_REVIEW),
                               what,
                               clk.overdue ? "yes" : "",
                               (const char *) sqlite3_column_text(st, 9),
                               (const char *) sqlite3_column_text(st, 10)};
#undef S_DUE
#undef S_LEFT
        if ((filter & HUB_CASES_OVERDUE) && !cells[9][0]) {
            continue;
        }
        rc = sj_table_add_row(t, cells);
    }
    sj_clock_db_close(&cdb);
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "cases");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        *out = t;
        t = NULL;
    }
    sj_table_destroy(&t);
    return rc;
}

/* ---- uplink: forwarding to the county ---- */

/* Records (durably, before any event is handed out) that the stream to the
 * county may be there through the current head: the offered mark that
 * s_diverged compares the county's mark with. Only when the events about to
 * be handed out (through hub_seq `through`) may pass the mark recorded last:
 * with the county behind, a fetch used to record the head, a synchronous
 * transaction, for every batch (issue 6); now once per head's worth. */
static int
s_offer(hub_store_t *self, uint64_t through)
{
    if (through <= self->up_offered) {
        return SJ_OK;
    }
    int64_t head = 0;
    int rc = s_max_seq(self, &head);
    if (rc != SJ_OK || (uint64_t) head <= self->up_offered) {
        return rc;
    }
    rc = sj_db_meta_set_int(self->db, "up_offered", head);
    if (rc == SJ_OK) {
        self->up_offered = (uint64_t) head;
    }
    return rc;
}

static int
s_fetch(void *ctx,
        uint64_t from,
        size_t max_events,
        size_t max_bytes,
        int (*add)(void *add_ctx, uint64_t seq, const void *raw, size_t len),
        void *add_ctx)
{
    hub_store_t *self = ctx;
    int rc = max_events ? s_offer(self, from + max_events - 1) : SJ_OK;
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = self->st_fetch;
    sqlite3_bind_int64(st, 1, (sqlite3_int64) from);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) max_events);
    return sj_db_fetch_seq_blobs(self->db, st, max_bytes, add, add_ctx, "events fetch");
}

static int
s_head(void *ctx, uint64_t *last)
{
    hub_store_t *self = ctx;
    int64_t v = 0;
    int rc = s_max_seq(self, &v);
    *last = (uint64_t) v;
    return rc;
}

static int
s_acked(void *ctx, uint64_t acked, Sanji__Rejection **rej, size_t n_rej)
{
    hub_store_t *self = ctx;
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_meta_set_int(self->db, "up_acked", (int64_t) acked);
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "county_contact_ms", sj_now_ms());
    }
    sqlite3_stmt *st = NULL;
    if (rc == SJ_OK && n_rej) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO up_rejected(hub_seq, code, reason, at_ms) VALUES(?,?,?,?)"
                           " ON CONFLICT(hub_seq) DO NOTHING",
                           &st);
    }
    for (size_t i = 0; rc == SJ_OK && i < n_rej; i++) {
        char reason[300];
        if (sj_wire_text(rej[i]->reason, reason, sizeof reason) != SJ_OK) {
            snprintf(reason, sizeof reason, "(unreadable reason)");
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64) rej[i]->seq);
        sqlite3_bind_int(st, 2, (int) rej[i]->code);
        sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, sj_now_ms());
        rc = sj_db_step_done(self->db, st, "up_rejected insert");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
    }
    return rc;
}

/* The county holds more of this hub's stream than the hub ever offered: the
 * hub was restored from an older copy, and its hub_seqs after the copy point
 * name other events than the county got under them. Its stations resend what
 * the copy lacks, so the hub's events stay complete; only the numbering
 * upward is stale. The hub moves its link to the county to a new epoch and
 * sends everything again from hub_seq 1: the county dedupes every event by
 * (origin, epoch, origin_seq) and id, so nothing is counted twice. The store
 * epoch (what the hub's own stations see) does not change. */
static int
s_diverged(void *ctx, uint64_t parent_mark, int *moved, uint8_t new_epoch[SJ_EPOCH_BYTES])
{
    hub_store_t *self = ctx;
    *moved = 0;
    int64_t offered = 0;
    int rc = sj_db_meta_get_int(self->db, "up_offered", &offered);
    if (rc != SJ_OK || parent_mark <= (uint64_t) offered) {
        return rc;
    }
    int64_t head = 0;
    uint8_t epoch[SJ_EPOCH_BYTES];
    sj_random16(epoch);
    rc = sj_db_begin(self->db);
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_blob(self->db, "link_epoch", epoch, SJ_EPOCH_BYTES);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "up_acked", 0);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "up_offered", 0);
    }
    if (rc == SJ_OK) {
        rc = s_max_seq(self, &head);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        sj_error("hub diverged from the county, but the new link epoch could not be stored: %s"
                 " (trying again on the next connection)",
                 sj_strerror(rc));
        return rc;
    }
    memcpy(self->link_epoch, epoch, SJ_EPOCH_BYTES);
    memcpy(new_epoch, epoch, SJ_EPOCH_BYTES);
    self->up_offered = 0;
    *moved = 1;
    sj_notice("hub store diverged from the county (restored from a backup?): the county holds %llu"
              " of its events, this store offered only %lld; sending all %lld again under a new"
              " link epoch",
              (unsigned long long) parent_mark, (long long) offered, (long long) head);
    return SJ_OK;
}

/* ---- assignments (issue 4): the hub's own, and the county's downward stream ---- */

/* Inside the write transaction: keeps the assignment (idempotent by event
 * id), makes the case known here, and, when it goes to one of this
 * township's stations, appends item to that station's downward stream.
 * from_county: the item came down from the county, so its snapshot is the
 * county's word on the case (its head and outcome, its conflict flag), and
 * the case is replayed from it. *is_new: the assignment was not here
 * before. */
static int
s_assignment_keep(hub_store_t *self,
                  const sj_down_item_t *it,
                  const uint8_t *item,
                  size_t len,
                  int from_county,
                  int *is_new)
{
    const sj_event_t *ev = &it->ev;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "INSERT INTO assignments(id, case_id, assignee, due_on, origin,"
                           " created_ms, note, officer, summary, item, received_ms)"
                           " VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_bind_check(self->db,
                          sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC)
                              | sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 3, ev->assignee, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 4, ev->due_on, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 5, ev->origin, -1, SQLITE_STATIC)
                              | sqlite3_bind_int64(st, 6, ev->created_ms)
                              | sqlite3_bind_text(st, 7, ev->note, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 8, ev->officer, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 9, it->snap.summary, -1, SQLITE_STATIC)
                              | sqlite3_bind_blob(st, 10, item, (int) len, SQLITE_STATIC)
                              | sqlite3_bind_int64(st, 11, sj_now_ms()),
                          "assignment insert");
    if (rc == SJ_OK) {
        rc = sj_db_step_done(self->db, st, "assignment insert");
    }
    sqlite3_finalize(st);
    *is_new = rc == SJ_OK && sqlite3_changes(self->db) == 1;
    if (rc != SJ_OK) {
        return rc;
    }
    if (!*is_new) {
        /* An assignment held already: the county refreshes the case (its
         * outcome or conflict flag changed). The same item again (a resend)
         * changes nothing and goes nowhere. */
        rc = sj_db_prepare(
            self->db, "UPDATE assignments SET item=?1, summary=?2 WHERE id=?3 AND item != ?1", &st);
        if (rc != SJ_OK) {
            return rc;
        }
        rc = sj_db_bind_check(self->db,
                              sqlite3_bind_blob(st, 1, item, (int) len, SQLITE_STATIC)
                                  | sqlite3_bind_text(st, 2, it->snap.summary, -1, SQLITE_STATIC)
                                  | sqlite3_bind_blob(st, 3, ev->id, SJ_ID_BYTES, SQLITE_STATIC),
                              "assignment refresh");
        if (rc == SJ_OK) {
            rc = sj_db_step_done(self->db, st, "assignment refresh");
        }
        sqlite3_finalize(st);
        if (rc != SJ_OK || sqlite3_changes(self->db) != 1) {
            return rc;
        }
    }
    /* The case, if it was reported outside the township; the county's word
     * as the item carries it. A report held here gives the row first, from
     * itself. */
    rc = s_report_keep(self->db, NULL, NULL, &it->snap, ev->case_id);
    if (rc == SJ_OK) {
        rc = s_case_materialize(self, ev->case_id);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_prepare(self->db,
                       "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms,"
                       " county_conflict, county_head, county_outcome)"
                       " VALUES(?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)"
                       " ON CONFLICT(id) DO UPDATE SET"
                       " county_conflict = CASE WHEN ?8 THEN excluded.county_conflict"
                       "  ELSE county_conflict END,"
                       " county_head = CASE WHEN ?8 THEN excluded.county_head ELSE county_head END,"
                       " county_outcome = CASE WHEN ?8 THEN excluded.county_outcome"
                       "  ELSE county_outcome END",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    static const uint8_t none[1] = {0}; /* the county has no change in force: empty */
    const sj_snapshot_t *snap = &it->snap;
    int head_rc = from_county ? sqlite3_bind_blob(st, 6, snap->has_head ? snap->head : none,
                                                  snap->has_head ? SJ_ID_BYTES : 0, SQLITE_STATIC)
                              : sqlite3_bind_null(st, 6);
    rc = sj_db_bind_check(
        self->db,
        sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
            | sqlite3_bind_text(st, 2, snap->origin, -1, SQLITE_STATIC)
            | sqlite3_bind_int(st, 3, snap->outcome)
            | sqlite3_bind_int64(st, 4, snap->as_of_ms ? snap->as_of_ms : ev->created_ms)
            | sqlite3_bind_int(st, 5, from_county ? snap->conflict : 0) | head_rc
            | sqlite3_bind_int(st, 7, from_county ? snap->outcome : 0)
            | sqlite3_bind_int(st, 8, from_county),
        "assigned case");
    if (rc == SJ_OK) {
        rc = sj_db_step_done(self->db, st, "assigned case");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK && from_county) {
        rc = s_case_replay(self, ev->case_id);
    }
    if (rc == SJ_OK && sj_code_level(ev->assignee) == 12) {
        rc = sj_down_enqueue(self->down, ev->assignee, ev->id, item, len, NULL);
    }
    return rc;
}

static int
s_down_cursor(void *ctx, uint64_t *cursor)
{
    return sj_down_cursor(((hub_store_t *) ctx)->db, cursor);
}

/* One item of the county's stream: for this township or one of its stations. */
static int
s_down_item(void *ctx,
            uint64_t seq,
            const sj_down_item_t *it,
            const uint8_t *item,
            size_t len,
            char *reason,
            size_t rs)
{
    hub_store_t *self = ctx;
    if (!it) {
        /* A kind this version does not know (kept by sj_down_apply): passed
         * on unchanged when its `to` is one of this township's stations. */
        uint32_t kind = 0;
        char to[SJ_CODE_MAX + 1];
        uint8_t id[SJ_ID_BYTES] = {0};
        int has_id = 0;
        if (sj_down_item_peek(item, len, &kind, to, id, &has_id) == SJ_OK && sj_code_level(to) == 12
            && sj_code_under(to, self->code)) {
            return sj_down_enqueue(self->down, to, id, item, len, NULL);
        }
        return SJ_OK;
    }
    if (it->kind == SJ_DOWN_KIND_PLACES) {
        /* Place names (issue 15): kept, and each station that connected
         * gets its part now (the others at their Hello). */
        if (it->to[0] && strcmp(it->to, self->code) != 0) {
            snprintf(reason, rs, "item %llu holds place names for %s, not for township %s",
                     (unsigned long long) seq, it->to, self->code);
            return SJ_EPROTO;
        }
        size_t changed = 0;
        int rc = sj_places_store(self->db, it->places, it->n_places, sj_now_ms(), &changed);
        if (rc == SJ_OK && changed) {
            rc = sj_places_changed(self->db, self->down, NULL);
        }
        if (rc == SJ_OK) {
            sj_info("place names from the county: %zu, %zu new or renamed", it->n_places, changed);
        }
        return rc;
    }
    if (it->kind == SJ_DOWN_KIND_PERIODS) {
        /* The clock's periods (issue 16): held, and passed on to each
         * station that connected (the others at their Hello). */
        if (it->to[0] && strcmp(it->to, self->code) != 0) {
            snprintf(reason, rs, "item %llu holds periods for %s, not for township %s",
                     (unsigned long long) seq, it->to, self->code);
            return SJ_EPROTO;
        }
        int changed = 0;
        int rc = sj_periods_db_set(self->db, &it->periods, &changed);
        if (rc == SJ_OK && changed) {
            rc = sj_periods_changed(self->db, self->down);
        }
        if (rc == SJ_OK && changed) {
            char text[160];
            sj_periods_text(&it->periods, text, sizeof text);
            sj_notice("the clock's periods from the county: %s", text);
        }
        return rc;
    }
    if (!sj_code_under(it->ev.assignee, self->code)) {
        snprintf(reason, rs, "item %llu is an assignment to %s, not within township %s",
                 (unsigned long long) seq, it->ev.assignee, self->code);
        return SJ_EPROTO;
    }
    int is_new = 0;
    return s_assignment_keep(self, it, item, len, 1, &is_new);
}

static int
s_down_parent(void *ctx, const uint8_t epoch[SJ_EPOCH_BYTES], int keep, int *reset)
{
    return sj_down_parent(((hub_store_t *) ctx)->db, epoch, keep, reset);
}

/* Its own refusals and those its stations reported (sj_down_refusals_latest). */
static int
s_down_skip(void *ctx, uint64_t from, uint64_t to)
{
    return sj_down_skip(((hub_store_t *) ctx)->db, from, to);
}

static int
s_down_counted(void *ctx, uint8_t epoch[SJ_EPOCH_BYTES])
{
    return sj_down_counted(((hub_store_t *) ctx)->db, epoch);
}

static int
s_down_refusals(void *ctx, sj_down_refusal_t *out, size_t max, size_t *n)
{
    return sj_down_refusals_latest(((hub_store_t *) ctx)->db, out, max, n);
}

static int
s_down_apply(void *ctx,
             uint64_t first_seq,
             const ProtobufCBinaryData *items,
             size_t n,
             uint64_t *cursor,
             char *reason,
             size_t rs)
{
    hub_store_t *self = ctx;
    return sj_down_apply(self->db, first_seq, items, n, s_down_item, self, cursor, reason, rs);
}

const sj_uplink_ops_t hub_store_uplink_ops = {.fetch = s_fetch,
                                              .head = s_head,
                                              .acked = s_acked,
                                              .diverged = s_diverged,
                                              .down_cursor = s_down_cursor,
                                              .down_apply = s_down_apply,
                                              .down_parent = s_down_parent,
                                              .down_refusals = s_down_refusals,
                                              .down_counted = s_down_counted,
                                              .down_skip = s_down_skip};

/* The clock's facts of a case reported here, into its snapshot going
 * down (issue 16): the hub's changes in force and extensions. */
static int
s_snapshot_clock(hub_store_t *self, const uint8_t case_id[SJ_ID_BYTES], sj_snapshot_t *snap)
{
    char received[11] = "";
    int outcome = 0, source = 0;
    int rc = s_clock_facts(self->db, case_id, received, &outcome, &source);
    if (rc == SJ_ENOTFOUND) {
        return SJ_OK;
    }
    sj_clock_db_t *cdb = NULL;
    if (rc == SJ_OK) {
        rc = sj_clock_db_open(self->db, HUB_CLOCK_CHANGES_SQL, &cdb);
    }
    if (rc == SJ_OK) {
        rc = sj_clock_db_snapshot(cdb, case_id, outcome, source, snap);
    }
    sj_clock_db_close(&cdb);
    return rc;
}

/* The case as the hub knows it, for a down item: the report's fields from
 * its report event here (sj_case_db_snapshot), else from the latest
 * snapshot an assignment brought (a case of another township); the state
 * in force here (the walk); the conflict flag: listed here, or by the
 * county. SJ_ENOTFOUND when neither is here. */
static int
s_hub_snapshot(hub_store_t *self,
               const uint8_t case_id[SJ_ID_BYTES],
               sj_snapshot_t *snap,
               sj_down_item_t *tmp)
{
    int rc = sj_case_db_snapshot(self->cases, case_id, snap);
    int own = rc == SJ_OK; /* its report is here: the clock from this store */
    sqlite3_stmt *st = NULL;
    int step = SQLITE_DONE;
    if (rc == SJ_ENOTFOUND) {
        rc = sj_db_prepare(self->db,
                           "SELECT item FROM assignments WHERE case_id=?"
                           " ORDER BY received_ms DESC, created_ms DESC LIMIT 1",
                           &st);
        if (rc == SJ_OK) {
            rc = sj_db_bind_check(self->db,
                                  sqlite3_bind_blob(st, 1, case_id, SJ_ID_BYTES, SQLITE_STATIC),
                                  "snapshot lookup");
        }
        step = rc == SJ_OK ? sqlite3_step(st) : SQLITE_DONE;
        char why[256];
        if (rc == SJ_OK && step == SQLITE_ROW
            && sj_down_item_decode(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0),
                                   tmp, why, sizeof why)
                   == SJ_OK) {
            *snap = tmp->snap;
        } else if (rc == SJ_OK) {
            rc = step == SQLITE_ROW || step == SQLITE_DONE ? SJ_ENOTFOUND
                                                           : sj_db_err(self->db, step, "snapshot");
        }
        sqlite3_finalize(st);
        st = NULL;
        sj_case_state_t state;
        int found = 0;
        if (rc == SJ_OK) {
            rc = sj_case_db_state(self->cases, case_id, &state, &found);
        }
        if (rc == SJ_OK && !found) {
            rc = SJ_ENOTFOUND;
        }
        if (rc == SJ_OK) {
            sj_case_snapshot_state(snap, &state, state.n_listed > 0, sj_now_ms());
        }
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db, "SELECT county_conflict FROM cases WHERE id=?", &st);
    }
    if (rc == SJ_OK) {
        rc = sj_db_bind_check(self->db,
                              sqlite3_bind_blob(st, 1, case_id, SJ_ID_BYTES, SQLITE_STATIC),
                              "county conflict lookup");
        step = rc == SJ_OK ? sqlite3_step(st) : SQLITE_DONE;
        if (step == SQLITE_ROW) {
            snap->conflict |= sqlite3_column_int(st, 0) ? 1 : 0;
        } else if (rc == SJ_OK && step != SQLITE_DONE) {
            rc = sj_db_err(self->db, step, "county conflict lookup");
        }
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK && own) {
        rc = s_snapshot_clock(self, case_id, snap);
    }
    return rc;
}

typedef struct {
    hub_store_t *self;
    sj_down_item_t *it;  /* the new assignment: ev (body filled by the caller) and snap */
    sj_down_item_t *tmp; /* scratch */
} s_hub_assign_t;

static int
s_assign_tx(void *ctx, char *reason, size_t rs)
{
    s_hub_assign_t *a = ctx;
    hub_store_t *self = a->self;
    sj_event_t *ev = &a->it->ev;
    char idtext[SJ_UUID_TEXT], why[256] = "";
    sj_uuid_format(ev->case_id, idtext);
    if (sj_code_level(ev->assignee) != 12 || !sj_code_under(ev->assignee, self->code)) {
        snprintf(reason, rs, "%s is not a station of township %s", ev->assignee, self->code);
        return SJ_EINVAL;
    }
    int rc = s_case_materialize(self, ev->case_id);
    if (rc == SJ_OK) {
        rc = sj_case_db_may_assign(self->cases, ev->case_id, self->code, ev->assignee, why,
                                   sizeof why);
    }
    if (rc == SJ_ENOTFOUND) {
        snprintf(reason, rs, "no case %s at township %s", idtext, self->code);
        return rc;
    }
    if (rc == SJ_EINVAL) {
        snprintf(reason, rs, "case %s: %s", idtext, why);
        return rc;
    }
    if (rc == SJ_OK) {
        rc = s_hub_snapshot(self, ev->case_id, &a->it->snap, a->tmp);
    }
    if (rc == SJ_ENOTFOUND) {
        snprintf(reason, rs, "the report of case %s is not at township %s", idtext, self->code);
        return rc;
    }
    if (rc != SJ_OK) {
        return rc;
    }
    uint8_t *raw = NULL, *item = NULL;
    size_t len = 0, item_len = 0;
    rc = s_own_append(self, ev, &raw, &len, reason, rs);
    if (rc == SJ_OK) {
        rc = sj_down_item_encode(raw, len, &a->it->snap, &item, &item_len);
    }
    int is_new = 0;
    if (rc == SJ_OK) {
        rc = s_assignment_keep(self, a->it, item, item_len, 0, &is_new);
    }
    free(raw);
    free(item);
    return rc;
}

int
hub_store_assign(hub_store_t *self,
                 const uint8_t case_id[SJ_ID_BYTES],
                 const char *station,
                 const char *due_on,
                 const char *note,
                 const char *officer,
                 uint8_t ev_id[SJ_ID_BYTES],
                 char *reason,
                 size_t reason_size)
{
    s_hub_assign_t a = {.self = self,
                        .it = calloc(1, sizeof(sj_down_item_t)),
                        .tmp = malloc(sizeof(sj_down_item_t))};
    int rc = a.it && a.tmp ? SJ_OK : SJ_ENOMEM;
    if (rc == SJ_OK) {
        sj_update_assignment(&a.it->ev, case_id, station, due_on, note, officer);
        rc = sj_update_in_tx(self->db, s_assign_tx, &a, "assignment", reason, reason_size);
    } else {
        snprintf(reason, reason_size, "the assignment was NOT stored: %s", sj_strerror(rc));
    }
    if (rc == SJ_OK) {
        memcpy(ev_id, a.it->ev.id, SJ_ID_BYTES);
    }
    free(a.it);
    free(a.tmp);
    return rc;
}

/* The township's own change or extension of a case it assigned to a
 * station: the station gets a fresh item of the assignment (its outcome
 * and clock now), as the county does for its own (docs/CLOCK.md). */
static int
s_refresh_own(hub_store_t *self, const uint8_t case_id[SJ_ID_BYTES])
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "SELECT a.id, a.assignee, e.raw FROM assignments a JOIN events e"
                           " ON e.id = a.id WHERE a.case_id = ?1 AND a.origin = ?2"
                           " ORDER BY a.created_ms DESC LIMIT 1",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, case_id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, self->code, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        sqlite3_finalize(st);
        return step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "own assignment");
    }
    uint8_t id[SJ_ID_BYTES];
    char to[SJ_CODE_MAX + 1];
    memcpy(id, sqlite3_column_blob(st, 0), SJ_ID_BYTES);
    snprintf(to, sizeof to, "%s", (const char *) sqlite3_column_text(st, 1));
    size_t raw_len = (size_t) sqlite3_column_bytes(st, 2);
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    sj_snapshot_t *snap = calloc(1, sizeof *snap);
    sj_down_item_t *tmp = malloc(sizeof *tmp);
    if (raw && raw_len) {
        memcpy(raw, sqlite3_column_blob(st, 2), raw_len);
    }
    sqlite3_finalize(st);
    st = NULL;
    uint8_t *item = NULL;
    size_t item_len = 0;
    rc = raw && snap && tmp ? s_hub_snapshot(self, case_id, snap, tmp) : SJ_ENOMEM;
    if (rc == SJ_OK) {
        rc = sj_down_item_encode(raw, raw_len, snap, &item, &item_len);
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db, "UPDATE assignments SET item = ?2 WHERE id = ?1", &st);
    }
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, item, (int) item_len, SQLITE_STATIC);
        rc = sj_db_step_done(self->db, st, "assignment refresh");
        sqlite3_finalize(st);
    }
    if (rc == SJ_OK) {
        rc = sj_down_enqueue(self->down, to, id, item, item_len, NULL);
    }
    if (rc == SJ_ENOTFOUND) {
        rc = SJ_OK; /* its report is not here (yet) */
    }
    free(item);
    free(raw);
    free(snap);
    free(tmp);
    return rc;
}

/* ---- status ---- */

static int64_t
s_scalar(sqlite3 *db, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st = NULL;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW
        && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* The forwarding queue as status and check see it. */
typedef struct {
    int64_t last;      /* highest hub_seq */
    int64_t acked;     /* forwarded: committed at the county */
    int64_t depth;     /* waiting to be forwarded */
    int64_t oldest_s;  /* age of the oldest waiting event (0: none) */
    int64_t county_ms; /* last word from the county (0: never) */
} s_queue_t;

static int
s_queue(hub_store_t *self, int64_t now, s_queue_t *q)
{
    memset(q, 0, sizeof *q);
    q->last = s_scalar(self->db, "SELECT coalesce(max(hub_seq), 0) FROM events", -1);
    if (q->last < 0) {
        return SJ_EDB;
    }
    if (sj_db_meta_get_int(self->db, "up_acked", &q->acked) != SJ_OK) {
        q->acked = 0;
    }
    if (sj_db_meta_get_int(self->db, "county_contact_ms", &q->county_ms) != SJ_OK) {
        q->county_ms = 0;
    }
    /* After a restore the county may have acked more than this copy holds. */
    q->depth = q->last > q->acked ? q->last - q->acked : 0;
    int64_t oldest_ms = 0;
    sqlite3_stmt *st = NULL;
    if (q->depth > 0
        && sqlite3_prepare_v2(self->db, "SELECT received_ms FROM events WHERE hub_seq=?", -1, &st,
                              NULL)
               == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->acked + 1);
        if (sqlite3_step(st) == SQLITE_ROW) {
            oldest_ms = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    q->oldest_s = oldest_ms ? (now - oldest_ms) / 1000 : 0;
    return SJ_OK;
}

int
hub_store_status(hub_store_t *self, int64_t silent_s, hub_status_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = sj_now_ms();
    s_queue_t q;
    if (s_queue(self, now, &q) != SJ_OK) {
        return SJ_EDB;
    }
    int64_t last = q.last, acked = q.acked, county_ms = q.county_ms, depth = q.depth;
    int64_t oldest_s = q.oldest_s;
    sqlite3_stmt *st = NULL;
    int64_t quarantined = s_scalar(self->db, "SELECT count(*) FROM quarantine", 0);
    int64_t forks = s_scalar(self->db, "SELECT count(*) FROM link_forks", 0);
    static const char *const names[] = {"station",  "status",  "last_contact",
                                        "silent_s", "reports", "quarantined",
                                        "forks",    "backlog", "undelivered"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_INT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_INT};
    sj_table_t *t = sj_table_new(9, names, types);
    if (!t) {
        return SJ_ENOMEM;
    }
    out->stations = t;
    /* One row per station (latest epoch's contact), silent ones first. */
    static const char sql[] =
        "SELECT l.code, max(l.last_contact_ms) AS lc,"
        " (SELECT count(*) FROM events e WHERE e.origin = l.code),"
        " (SELECT count(*) FROM quarantine q WHERE q.code = l.code),"
        " (SELECT queue_depth FROM links l2 WHERE l2.code = l.code ORDER BY last_contact_ms DESC"
        "  LIMIT 1),"
        " (SELECT coalesce(max(d.seq), 0) FROM down d WHERE d.child = l.code)"
        "  - coalesce((SELECT a.cursor FROM down_acks a WHERE a.child = l.code), 0),"
        " (SELECT count(*) FROM link_forks f WHERE f.code = l.code)"
        " FROM links l GROUP BY l.code ORDER BY lc ASC, l.code";
    int rc = sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) == SQLITE_OK ? SJ_OK : SJ_EDB;
    while (rc == SJ_OK && sqlite3_step(st) == SQLITE_ROW) {
        int64_t lc = sqlite3_column_int64(st, 1);
        int64_t silent = (now - lc) / 1000;
        char when[32], silent_txt[24], reports[24], quar[24], backlog[24], undel[24], nfork[24];
        time_t secs = (time_t) (lc / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(silent_txt, sizeof silent_txt, "%" PRId64, silent);
        snprintf(reports, sizeof reports, "%lld", sqlite3_column_int64(st, 2));
        snprintf(quar, sizeof quar, "%lld", sqlite3_column_int64(st, 3));
        snprintf(backlog, sizeof backlog, "%lld", sqlite3_column_int64(st, 4));
        long long u = sqlite3_column_int64(st, 5);
        snprintf(undel, sizeof undel, "%lld", u > 0 ? u : 0);
        snprintf(nfork, sizeof nfork, "%lld", sqlite3_column_int64(st, 6));
        const char *cells[] = {(const char *) sqlite3_column_text(st, 0),
                               silent >= silent_s ? "SILENT" : "ok",
                               when,
                               silent_txt,
                               reports,
                               quar,
                               nfork,
                               backlog,
                               undel};
        rc = sj_table_add_row(t, cells);
    }
    sqlite3_finalize(st);
    snprintf(out->township, sizeof out->township, "%s", self->code);
    out->events = last;
    out->forwarded = acked;
    out->queue_depth = depth;
    out->oldest_unforwarded_s = oldest_s;
    out->quarantined = quarantined;
    out->forks = forks;
    out->county_contact_age_s = county_ms ? (now - county_ms) / 1000 : -1;
    /* The downward streams' part, read now so that writing it needs no
     * store: as JSON members and as the table format's lines. */
    if (rc == SJ_OK) {
        out->down = cJSON_CreateObject();
        rc = out->down ? sj_down_status_json(self->db, out->down) : SJ_ENOMEM;
    }
    if (rc == SJ_OK) {
        rc = sj_places_json(self->db, out->down);
    }
    if (rc == SJ_OK) {
        size_t len = 0;
        FILE *f = open_memstream(&out->down_text, &len);
        rc = f ? sj_down_status_text(self->db, f) : SJ_ENOMEM;
        if (f && fclose(f) != 0 && rc == SJ_OK) {
            rc = SJ_ENOMEM;
        }
    }
    if (rc != SJ_OK) {
        hub_status_free(out);
    }
    return rc;
}

void
hub_status_free(hub_status_t *s)
{
    sj_table_destroy(&s->stations);
    cJSON_Delete(s->down);
    s->down = NULL;
    free(s->down_text);
    s->down_text = NULL;
}

int
hub_store_check(hub_store_t *self, const sj_health_opts_t *o, sj_health_t *h)
{
    int64_t now = sj_now_ms();
    s_queue_t q;
    int n_stations = 0, n_silent = 0;
    if (s_queue(self, now, &q) != SJ_OK
        || sj_health_children(h, self->db, now, o->silent_s, &n_stations, &n_silent) != SJ_OK
        || sj_down_check(self->db, h) != SJ_OK) {
        return SJ_EDB;
    }
    char age[24];
    sj_health_state_t backlog = q.oldest_s >= o->backlog_crit_s   ? SJ_HEALTH_CRITICAL
                                : q.oldest_s >= o->backlog_warn_s ? SJ_HEALTH_WARNING
                                                                  : SJ_HEALTH_OK;
    if (backlog != SJ_HEALTH_OK) {
        sj_health_duration(q.oldest_s, age, sizeof age);
        sj_health_add(h, backlog, "oldest unforwarded report %s old (%" PRId64 " queued)", age,
                      q.depth);
    }
    /* The county's silence matters only while something waits for it (the
     * contact time is the county's last ack or welcome). */
    int64_t contact_s = q.county_ms ? (now - q.county_ms) / 1000 : -1;
    if (q.depth > 0 && contact_s < 0 && backlog != SJ_HEALTH_OK) {
        sj_health_add(h, backlog, "no county contact yet");
    } else if (q.depth > 0 && contact_s >= o->backlog_warn_s) {
        sj_health_duration(contact_s, age, sizeof age);
        sj_health_add(h, contact_s >= o->backlog_crit_s ? SJ_HEALTH_CRITICAL : SJ_HEALTH_WARNING,
                      "no county contact for %s", age);
    }
    sj_health_ok_text(h, "township %s: %" PRId64 " queued, %d station%s, none silent", self->code,
                      q.depth, n_stations, n_stations == 1 ? "" : "s");
    sj_health_perf(h, "queued", q.depth, NULL, -1, -1);
    sj_health_perf(h, "oldest_unforwarded", q.oldest_s, "s", o->backlog_warn_s, o->backlog_crit_s);
    sj_health_perf(h, "stations", n_stations, NULL, -1, -1);
    return SJ_OK;
}

/* The satisfaction the conclusion in force carried: the latest change of
 * the case to its current outcome, decoded from the event the hub holds
 * (0: none). */
static int
s_case_satisfaction(sqlite3_stmt *st, const void *id)
{
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    int sat = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
        sj_event_t ev;
        char why[128];
        memset(&ev, 0, sizeof ev);
        if (sj_event_decode(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), &ev,
                            why, sizeof why)
            == SJ_OK) {
            sat = ev.satisfaction;
        }
    }
    sqlite3_reset(st);
    return sat;
}

int
hub_store_rates(hub_store_t *self, sj_table_t **out)
{
    *out = NULL;
    /* the township's cases, as hub_store_cases reads them */
    static const char sql[] =
        "SELECT c.id, c.origin, c.outcome FROM (SELECT id, origin, outcome FROM cases"
        " UNION ALL SELECT e.id, e.origin, e.outcome FROM events e"
        " WHERE e.outcome IS NOT NULL AND NOT EXISTS(SELECT 1 FROM cases x WHERE x.id = e.id)) c"
        " ORDER BY 2, 1";
    static const char sat_sql[] =
        "SELECT e.raw FROM case_changes x JOIN events e ON e.id = x.id"
        " WHERE x.case_id = ?1 AND x.new_outcome = (SELECT outcome FROM cases WHERE id = ?1)"
        " ORDER BY x.created_ms DESC, x.hub_seq DESC LIMIT 1";
    const char *names[3 + SJ_RATES_NCOLS] = {"station", "cases", "concluded"};
    sj_col_type_t types[3 + SJ_RATES_NCOLS] = {SJ_COL_TEXT, SJ_COL_INT, SJ_COL_INT};
    for (int i = 0; i < SJ_RATES_NCOLS; i++) {
        names[3 + i] = sj_rates_names[i];
        types[3 + i] = SJ_COL_INT;
    }
    sqlite3_stmt *st = NULL, *sat = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(self->db, sat_sql, -1, &sat, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return SJ_EDB;
    }
    char today[11];
    sj_date_today(today);
    sj_periods_t periods; /* the county's, as delivered down (sj_periods_db.h) */
    if (sj_periods_db_get(self->db, &periods, NULL) != SJ_OK) {
        sj_periods_default(&periods);
    }
    sj_clock_db_t *cdb = NULL;
    sj_table_t *t = sj_table_new(3 + SJ_RATES_NCOLS, names, types);
    int rc = t ? sj_clock_db_open(self->db, HUB_CLOCK_CHANGES_SQL, &cdb) : SJ_ENOMEM;
    sj_rates_t cur, total;
    memset(&cur, 0, sizeof cur);
    memset(&total, 0, sizeof total);
    char station[32] = "";
    int64_t ncur = 0, ntotal = 0;
    int step = SQLITE_DONE;
    for (;;) {
        step = rc == SJ_OK ? sqlite3_step(st) : SQLITE_DONE;
        const char *origin = step == SQLITE_ROW ? (const char *) sqlite3_column_text(st, 1) : NULL;
        if (rc == SJ_OK && ncur > 0 && (!origin || strcmp(origin, station) != 0)) {
            char n[24], c[24], bufs[SJ_RATES_NCOLS][32];
            const char *cells[3 + SJ_RATES_NCOLS] = {station, n, c};
            snprintf(n, sizeof n, "%lld", (long long) ncur);
            snprintf(c, sizeof c, "%lld", (long long) cur.concluded);
            sj_rates_cells(&cur, bufs, cells + 3);
            rc = sj_table_add_row(t, cells);
            sj_rates_sum(&total, &cur);
            ntotal += ncur;
            memset(&cur, 0, sizeof cur);
            ncur = 0;
        }
        if (rc != SJ_OK || step != SQLITE_ROW) {
            break;
        }
        snprintf(station, sizeof station, "%s", origin ? origin : "");
        int outcome = sqlite3_column_int(st, 2);
        sj_clock_t clk;
        memset(&clk, 0, sizeof clk);
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
            int crc = s_case_clock(self, cdb, sqlite3_column_blob(st, 0), &periods, today, &clk);
            if (crc != SJ_OK && crc != SJ_ENOTFOUND && crc != SJ_EINVAL) {
                rc = crc;
                break;
            }
            if (crc != SJ_OK) {
                memset(&clk, 0, sizeof clk);
            }
        }
        int satisfaction = sj_outcome_is_concluded(outcome)
                               ? s_case_satisfaction(sat, sqlite3_column_blob(st, 0))
                               : 0;
        sj_rates_add(&cur, &clk, outcome, satisfaction);
        ncur++;
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "rates");
    }
    if (rc == SJ_OK) {
        char n[24], c[24], bufs[SJ_RATES_NCOLS][32];
        const char *cells[3 + SJ_RATES_NCOLS] = {"total", n, c};
        snprintf(n, sizeof n, "%lld", (long long) ntotal);
        snprintf(c, sizeof c, "%lld", (long long) total.concluded);
        sj_rates_cells(&total, bufs, cells + 3);
        rc = sj_table_add_row(t, cells);
    }
    sj_clock_db_close(&cdb);
    sqlite3_finalize(st);
    sqlite3_finalize(sat);
    if (rc != SJ_OK) {
        sj_table_destroy(&t);
        return rc;
    }
    *out = t;
    return SJ_OK;
}
