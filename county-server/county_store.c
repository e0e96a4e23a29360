#include "county_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_lock.h"
#include "county_sql.h"
#include "county_store_view.h"
#include "county_tally.h"
#include "sj_case.h"
#include "sj_case_db.h"
#include "sj_clock_db.h"
#include "sj_down.h"
#include "sj_history.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_periods_db.h"
#include "sj_places.h"
#include "sj_update.h"
#include "sj_users.h"

#define COUNTY_APP_ID 0x534a4331 /* "SJC1" */

static const sj_migration_t s_migrations[] = {
    {1, SJ_DOWNLINK_SCHEMA
     "CREATE TABLE events(eid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
     " origin TEXT NOT NULL, epoch BLOB NOT NULL, origin_seq INTEGER NOT NULL,"
     " via TEXT NOT NULL, type INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
     " received_ms INTEGER NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,"
     " raw BLOB NOT NULL, UNIQUE(origin, epoch, origin_seq));"
     "CREATE TABLE matters(id BLOB PRIMARY KEY, origin TEXT NOT NULL, township TEXT NOT NULL,"
     " occurred_on TEXT NOT NULL CHECK(length(occurred_on) = 10),"
     " channel INTEGER NOT NULL CHECK(channel BETWEEN 1 AND 4),"
     " kind INTEGER NOT NULL CHECK(kind BETWEEN 1 AND 2),"
     " persons INTEGER NOT NULL CHECK(persons >= 1),"
     " level INTEGER NOT NULL CHECK(level BETWEEN 1 AND 6),"
     " category INTEGER NOT NULL CHECK(category BETWEEN 1 AND 5),"
     " outcome INTEGER NOT NULL CHECK(outcome BETWEEN 1 AND 5),"
     " source INTEGER NOT NULL CHECK(source BETWEEN 1 AND 4),"
     " summary TEXT NOT NULL, officer TEXT NOT NULL, sealed BLOB,"
     " created_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX matters_occurred ON matters(occurred_on);"
     "CREATE INDEX matters_origin ON matters(origin);"},
    /* Cases (issue 4): every status change, indexed by its case, the
     * outcome the report arrived with, and the conflicts of each case (see
     * s_replay for the rule). Status events stored before this version were
     * never applied (no tool made them). */
    {2, "ALTER TABLE matters ADD COLUMN reported_outcome INTEGER;"
        "UPDATE matters SET reported_outcome = outcome;"
        "CREATE TABLE status_changes(eid INTEGER PRIMARY KEY, case_id BLOB NOT NULL,"
        " origin TEXT NOT NULL, id BLOB NOT NULL, created_ms INTEGER NOT NULL,"
        " prev_outcome INTEGER NOT NULL, new_outcome INTEGER NOT NULL);"
        "CREATE INDEX status_changes_case ON status_changes(case_id);"
        "CREATE TABLE conflicts(case_id BLOB NOT NULL, eid INTEGER NOT NULL,"
        " reason TEXT NOT NULL, PRIMARY KEY(case_id, eid)) WITHOUT ROWID;"},
    /* Assignments (issue 4, 交办): one row per assignment event, whoever made
     * it (the county on its own stream, or a hub on its stream). A case's
     * current assignment is its row with the greatest (created_ms, eid); a
     * case is "assigned" when it has a row. due_on is the deadline
     * (YYYY-MM-DD); assignee the township or station code it went to. */
    {3, "CREATE TABLE assignments(eid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
        " case_id BLOB NOT NULL, assignee TEXT NOT NULL,"
        " due_on TEXT NOT NULL CHECK(length(due_on) = 10), origin TEXT NOT NULL,"
        " created_ms INTEGER NOT NULL, note TEXT NOT NULL);"
        "CREATE INDEX assignments_case ON assignments(case_id);"},
    /* The downward streams (sj_down.h): per child code (a township hub, or a
     * station linked straight to the county) the county's assignments for
     * its subtree, and each child's applied cursor. */
    {4, SJ_DOWN_SCHEMA},
    /* (Version 4 is taken by assignment delivery.)
     * Tallies (issue 6): items and persons of matters counted ahead, so
     * that `stats` reads a few hundred thousand rows instead of scanning
     * every matter (county_tally.h: the schema, the key, the planner). Two
     * cuts, because one table keyed by every dimension would hold about one
     * row per matter:
     *   tally_place  per day x station (and its township);
     *   tally_kind   per month x every enum field.
     * Always in the transaction that changes matters: a new matter is
     * counted by the store (gathered over a batch, s_tally_add), an UPDATE
     * or DELETE of matters (the status replay, anything later) by the
     * triggers; a row whose items drop to 0 is deleted. Filled here from
     * the matters an existing store already holds. */
    {5, COUNTY_TALLY_SCHEMA_5},
    /* Ingest cost (issue 6): every index is ~1 us of the county's CPU per
     * report. Two are dropped:
     *   UNIQUE(origin, epoch, origin_seq) on events: a report's identity is
     *   its id (UNIQUE(id) stays: that is the dedupe). A second event at a
     *   position already held, under another id, was silently dropped as a
     *   duplicate; now it is stored and `verify` names the position twice
     *   held. verify sorts the keys itself (county_verify.c).
     *   matters_origin: `--station` on list/cases/export scans matters
     *   (stats reads tally_place, keyed by station).
     * SQLite cannot drop a constraint's index, so events is rebuilt. */
    {6, "CREATE TABLE events_v6(eid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
        " origin TEXT NOT NULL, epoch BLOB NOT NULL, origin_seq INTEGER NOT NULL,"
        " via TEXT NOT NULL, type INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
        " received_ms INTEGER NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,"
        " raw BLOB NOT NULL);"
        "INSERT INTO events_v6(eid, id, origin, epoch, origin_seq, via, type, created_ms,"
        " received_ms, prev_hash, hash, raw) SELECT eid, id, origin, epoch, origin_seq, via,"
        " type, created_ms, received_ms, prev_hash, hash, raw FROM events ORDER BY eid;"
        "DROP TABLE events;"
        "ALTER TABLE events_v6 RENAME TO events;"
        "DROP INDEX IF EXISTS matters_origin;"},
    /* tally_field (county_tally.h), kept like the others: new matters by
     * the store (s_tally_add), updates and deletes by triggers. */
    {7, COUNTY_TALLY_SCHEMA_7},
    /* Replay by cause, not by clock (issue 12, docs/CASES.md): each status
     * change records its parent (the change in force its author saw:
     * StatusChange.prev_change; empty = the report) and whether the walk
     * applied it (0 no, 1 on the path in force, 2 in force). The rows of
     * older versions get their parents once, by the old order, when the
     * store is first opened for writing (meta case_parents,
     * sj_case_db_upgrade); conflicts.reason says why a change is listed. */
    {8, "ALTER TABLE status_changes ADD COLUMN parent BLOB;"
        "ALTER TABLE status_changes ADD COLUMN applied INTEGER NOT NULL DEFAULT 0;"
        "INSERT INTO meta(key, value) VALUES('case_parents', 1)"
        " ON CONFLICT(key) DO UPDATE SET value = 1;"},
    /* The checks where an event enters (issue 13: a direct station's
     * events, a hub's own): each such stream's head, so that the previous
     * hash is found without a scan (no index holds events by position since
     * schema 6), and the forks refused (sj_link.h). The heads of the streams
     * that entered here before are taken from the events held (origin = via:
     * what a child sent of its own); SQLite gives the bare hash column of
     * the row with the max(origin_seq). */
    {9, SJ_DOWNLINK_SCHEMA_2
     "INSERT INTO link_heads(origin, epoch, seq, hash)"
     " SELECT origin, epoch, max(origin_seq), hash FROM events WHERE origin = via"
     " GROUP BY origin, epoch;"},
    /* Issue 18: restore compares a file's schema with a new store's. The
     * tally triggers of stores made before the tally key had one source
     * differ in wording only; they are made again so that every store holds
     * the same SQL (no data changes). */
    {10, COUNTY_TALLY_TRIGGERS_REMADE},
    /* Corrections and voids (issue 15, docs/CASES.md "Corrections and
     * voids"): one fixes row per such event (its events row eid, its case,
     * its type, and whether it was applied: 0 waiting for its report, 1
     * applied, 2 not applied: its origin may not change the case, or the
     * case was voided before it). A correction updates the matters row's
     * values (the tally triggers move the counts); a void moves the matters
     * row to matters_voided, so that every figure, listing and tally leaves
     * it out with no query changed. The events keep every original value.
     * matters_voided has the columns of matters (a later migration that adds
     * a column to matters adds it here too) and the void's eid. */
    {11, "CREATE TABLE fixes(eid INTEGER PRIMARY KEY, case_id BLOB NOT NULL,"
         " type INTEGER NOT NULL, applied INTEGER NOT NULL DEFAULT 0);"
         "CREATE INDEX fixes_case ON fixes(case_id);"
         "CREATE TABLE matters_voided AS SELECT * FROM matters WHERE 0;"
         "ALTER TABLE matters_voided ADD COLUMN void_eid INTEGER;"
         "CREATE INDEX matters_voided_id ON matters_voided(id);"},
    /* A case's story and its search (issue 15, docs/CASES.md "History and
     * search"): each status change keeps its note and officer (read once
     * from the events of older versions: meta case_notes,
     * sj_history_backfill), and the FTS5 table `search` (trigram: Chinese
     * substrings) holds every summary and note, kept by triggers in the
     * transaction that stores the row. A summary changed in place adds its
     * new text (the old one still finds the case). */
    {12, SJ_SEARCH_SCHEMA SJ_SEARCH_CHANGES_SCHEMA(
             "status_changes") "CREATE TRIGGER search_matter AFTER INSERT ON matters BEGIN"
                               " INSERT INTO search(text, case_id, kind)"
                               " VALUES(new.summary, new.id, 'summary'); END;"
                               "CREATE TRIGGER search_matter_summary AFTER UPDATE OF summary"
                               " ON matters WHEN new.summary != old.summary BEGIN"
                               " INSERT INTO search(text, case_id, kind)"
                               " VALUES(new.summary, new.id, 'summary'); END;"
                               "INSERT INTO search(text, case_id, kind)"
                               " SELECT summary, id, 'summary' FROM matters;"},
    /* Issue 19: refusals reported by the children, the streams' floors. */
    {13, SJ_DOWN_SCHEMA_19},
    /* The search index off the ingest path (sj_history.h): a report's
     * summary is indexed in the daemon's idle time (county_store_index), in
     * the order of its events row (eid: matters has no rowid, and a report's
     * matter has its event's id), and meta search_through is the highest
     * eid done. Every matter here is indexed: the mark starts at the top. A
     * summary changed by a correction still adds its new text at once,
     * unless its matter is not indexed yet: then the old text goes in (the
     * indexer takes the new one from matters), so that each text is in the
     * table once, whenever it came. */
    {14, "DROP TRIGGER search_matter;"
         "DROP TRIGGER search_matter_summary;"
         "CREATE TRIGGER search_matter_summary AFTER UPDATE OF summary"
         " ON matters WHEN new.summary != old.summary BEGIN"
         " INSERT INTO search(text, case_id, kind) SELECT CASE WHEN"
         " coalesce((SELECT eid FROM events WHERE id = new.id), 0) <= " SJ_SEARCH_MARK
         " THEN new.summary ELSE old.summary END, new.id, 'summary'; END;"
         "INSERT INTO meta(key, value) SELECT 'search_through', coalesce(max(eid), 0) FROM events"
         " WHERE 1 ON CONFLICT(key) DO UPDATE SET value = excluded.value;"},
    /* Place names (issue 15 item 4, sj_places.h): the county's list, and
     * which version of it each child was sent. */
    {15, SJ_PLACES_SCHEMA SJ_PLACES_SENT_SCHEMA},
    /* Issue 17: accounts, the audit trail (sj_users.h), and the county's
     * departments (县直部门): a 9-digit code under the county (9xx, see
     * sj_dept_code) and a name. */
    {16, SJ_USERS_SCHEMA "CREATE TABLE departments(code TEXT PRIMARY KEY, name TEXT NOT NULL,"
                         " created_ms INTEGER NOT NULL);"},
    /* Issue 16: the clock's extensions (docs/CLOCK.md), row = events.eid. */
    {17, SJ_CLOCK_EXT_SCHEMA},
    /* Issue 16: the petitioner's evaluation — on the conclusion (a status
     * change's satisfaction) or later (evaluations, row = events.eid). */
    {18, "ALTER TABLE status_changes ADD COLUMN satisfaction INTEGER NOT NULL DEFAULT 0;"
         "CREATE TABLE evaluations(row INTEGER PRIMARY KEY, case_id BLOB NOT NULL,"
         " satisfaction INTEGER NOT NULL, created_ms INTEGER NOT NULL, origin TEXT NOT NULL,"
         " note TEXT NOT NULL, officer TEXT NOT NULL);"
         "CREATE INDEX evaluations_case ON evaluations(case_id);"},
    /* Issue 17 item 5: signed-off figures (county_lock.h): the townships'
     * approvals of a month, the county's locks, the months each lock holds
     * and the figures it froze. */
    {19, COUNTY_LOCK_SCHEMA},
    /* Issue 16: the periods each child was last sent (sj_periods_db.h). */
    {20, SJ_PERIODS_SENT_SCHEMA},
};

/* The idle indexer's source (sj_history.h): the events rows above the mark,
 * a report's with its matter's summary (none once voided). */
static const sj_search_src_t s_search_src = {
    .rows_sql = "SELECT e.eid, m.summary, m.id FROM events AS e"
                " LEFT JOIN matters AS m ON m.id = e.id AND e.type = 1"
                " WHERE e.eid > ?1 ORDER BY e.eid LIMIT ?2",
    .top_sql = "SELECT coalesce(max(eid), 0) FROM events"};

struct county_store {
    sqlite3 *db;
    char dir[4096];             /* the data directory (its allowlist: county_store_dir) */
    char code[SJ_CODE_MAX + 1]; /* "" = accept any county */
    uint8_t epoch[SJ_EPOCH_BYTES];
    sqlite3_stmt *st_event;
    sqlite3_stmt *st_matter;
    sqlite3_stmt *st_exists;
    sqlite3_stmt *st_held;       /* an event's position and hash by its id */
    sqlite3_stmt *st_assignment; /* an assignment event's row */
    sj_down_t *down;             /* the downward streams (write mode only) */
    county_tally_acc_t *acc;     /* tallies gathered over the current batch */
    sj_case_db_t *cases;         /* the case model's table side (write mode) */
    int fixes_waiting;           /* -1 unknown, else: a fixes row waits for its report */
    sj_search_idle_t search;     /* the idle indexer's state (the daemon) */
};

/* Cases with status changes but no matter (their report is not here yet):
 * only a report of one of them needs its changes replayed when it comes
 * (s_insert_matter, sj_case_db_orphan_maybe). Such changes are stored only
 * by the ingest path of this process, whose replay marks them (the county's
 * own `update` refuses a case without a matter). */
#define ORPHANS_SQL                                                     \
    "SELECT DISTINCT case_id FROM status_changes x"                     \
    " WHERE NOT EXISTS(SELECT 1 FROM matters m WHERE m.id = x.case_id)" \
    " AND NOT EXISTS(SELECT 1 FROM matters_voided v WHERE v.id = x.case_id)"

static int s_upgrade_replay(void *ctx, const uint8_t id[SJ_ID_BYTES]);

static int
s_identity(county_store_t *self, const char *code, sj_db_mode_t mode, char *err, size_t err_size)
{
    int rc = sj_db_meta_get_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES);
    if (rc == SJ_ENOTFOUND && mode == SJ_DB_WRITE) {
        sj_random16(self->epoch);
        if (sj_db_meta_set_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK) {
            snprintf(err, err_size, "cannot initialise the store: %s", sqlite3_errmsg(self->db));
            return SJ_EDB;
        }
    } else if (rc != SJ_OK) {
        snprintf(err, err_size, "the county store has no epoch (damaged?)");
        return SJ_EDB;
    }
    rc = sj_db_meta_get_text(self->db, "code", self->code, sizeof self->code);
    if (rc == SJ_ENOTFOUND) {
        self->code[0] = '\0';
        if (code && mode == SJ_DB_WRITE) {
            if (sj_db_meta_set_text(self->db, "code", code) != SJ_OK) {
                snprintf(err, err_size, "cannot store the county code");
                return SJ_EDB;
            }
            snprintf(self->code, sizeof self->code, "%s", code);
        }
    } else if (rc != SJ_OK) {
        snprintf(err, err_size, "cannot read the store");
        return rc;
    } else if (code && strcmp(code, self->code) != 0) {
        snprintf(err, err_size, "this data directory belongs to county %s, not %s", self->code,
                 code);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* Checkpoints the WAL into the database every `bytes` of it (SQLite's
 * default is 1,000 pages: 4 MiB, which made the county copy pages back far
 * more often than it needed), whatever the store's page size. */
static int
s_checkpoint_every(sqlite3 *db, int bytes)
{
    sqlite3_stmt *st = NULL;
    int page = 4096;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0) {
        page = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return sqlite3_wal_autocheckpoint(db, bytes / page) == SQLITE_OK ? SJ_OK : SJ_EDB;
}

const sj_migration_t *
county_store_migrations(size_t *n)
{
    *n = sizeof s_migrations / sizeof s_migrations[0];
    return s_migrations;
}

county_store_t *
county_store_open(const char *dir, const char *code, sj_db_mode_t mode, char *err, size_t err_size)
{
    county_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    if (sj_db_open(dir, "county-server.db", COUNTY_APP_ID, s_migrations,
                   sizeof s_migrations / sizeof s_migrations[0], mode, &self->db, err, err_size)
            != SJ_OK
        || s_identity(self, code, mode, err, err_size) != SJ_OK) {
        goto fail;
    }
    if (mode == SJ_DB_READ) {
        return self;
    }
    self->fixes_waiting = -1;
    const sj_case_tables_t tables = {
        .report_sql = "SELECT origin, coalesce(reported_outcome, outcome), NULL, 0 FROM matters"
                      " WHERE id=?1",
        .changes = "status_changes",
        .arrival = "eid",
        .conflict_key = "eid",
        .outcome_sql = "UPDATE matters SET outcome=?1 WHERE id=?2 AND outcome != ?1",
        .orphans_sql = ORPHANS_SQL,
        .county = county_store_origin(self)};
    if (sj_db_prepare(self->db,
                      "INSERT INTO events(id, origin, epoch, origin_seq, via, type, created_ms,"
                      " received_ms, prev_hash, hash, raw) VALUES(?,?,?,?,?,?,?,?,?,?,?)"
                      " ON CONFLICT DO NOTHING",
                      &self->st_event)
            != SJ_OK
        || sj_db_prepare(self->db,
                         "INSERT INTO matters(id, origin, township, occurred_on, channel, kind,"
                         " persons, level, category, outcome, source, summary, officer, sealed,"
                         " created_ms, received_ms, reported_outcome)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?10)",
                         &self->st_matter)
               != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT origin=?2 AND epoch=?3 AND origin_seq=?4 FROM events WHERE id=?1",
                         &self->st_exists)
               != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT origin=?2 AND epoch=?3 AND origin_seq=?4 AND hash=?5 FROM events"
                         " WHERE id=?1",
                         &self->st_held)
               != SJ_OK
        || sj_db_prepare(self->db,
                         "INSERT INTO assignments(eid, id, case_id, assignee, due_on, origin,"
                         " created_ms, note) VALUES(?,?,?,?,?,?,?,?)",
                         &self->st_assignment)
               != SJ_OK
        || !(self->down = sj_down_new(self->db)) || !(self->acc = county_tally_acc_new(self->db))
        || sj_db_exec(self->db, "PRAGMA temp_store=MEMORY") != SJ_OK
        || sj_db_exec(self->db, "PRAGMA cache_size=-16384") != SJ_OK
        || s_checkpoint_every(self->db, 40 << 20) != SJ_OK
        || !(self->cases = sj_case_db_new(self->db, &tables))) {
        snprintf(err, err_size, "cannot prepare statements: %s", sqlite3_errmsg(self->db));
        goto fail;
    }
    if (sj_case_db_upgrade(self->cases, s_upgrade_replay, self, NULL) != SJ_OK) {
        snprintf(err, err_size, "cannot record the parents of older status changes");
        goto fail;
    }
    if (sj_history_backfill(self->db, "status_changes", "eid") != SJ_OK) {
        snprintf(err, err_size, "cannot record the notes of older status changes");
        goto fail;
    }
    return self;
fail:
    county_store_close(&self);
    if (err_size && err[0]) {
        sj_db_name_in_error(err, err_size, dir,
                            "county-server.db"); /* every refusal names the file */
    }
    return NULL;
}

void
county_store_close(county_store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    county_store_t *self = *self_p;
    sqlite3_finalize(self->st_event);
    sqlite3_finalize(self->st_matter);
    sqlite3_finalize(self->st_exists);
    sqlite3_finalize(self->st_held);
    sqlite3_finalize(self->st_assignment);
    sj_down_destroy(&self->down);
    county_tally_acc_destroy(&self->acc);
    sj_case_db_destroy(&self->cases);
    sj_db_close(&self->db);
    free(self);
    *self_p = NULL;
}

int
county_store_index(county_store_t *self, int max_rows, int max_ms, int *more, int64_t *done)
{
    return sj_history_index(self->db, &s_search_src, max_rows, max_ms, more, done);
}

int
county_store_idle(county_store_t *self)
{
    return sj_history_index_idle(self->db, &s_search_src, &self->search);
}

sqlite3 *
county_store_db(county_store_t *self)
{
    return self->db;
}

int
county_store_tally_rebuild(sqlite3 *db)
{
    return county_tally_rebuild(db);
}

const uint8_t *
county_store_epoch(const county_store_t *self)
{
    return self->epoch;
}

static int
s_admit(void *ctx, const char *code, char *reason, size_t rs)
{
    county_store_t *self = ctx;
    int lvl = sj_code_level(code);
    if (lvl != 9 && lvl != 12) {
        snprintf(reason, rs, "%s is neither a township hub nor a village station", code);
        return SJ_EFORBIDDEN;
    }
    if (self->code[0] && !sj_code_under(code, self->code)) {
        snprintf(reason, rs, "%s is not in county %s", code, self->code);
        return SJ_EFORBIDDEN;
    }
    return SJ_OK;
}

static int
s_check_event(
    void *ctx, const char *code, uint64_t link_seq, const sj_event_t *ev, char *reason, size_t rs)
{
    county_store_t *self = ctx;
    if (ev->type == SJ_EVENT_QUARANTINED
        && (sj_code_level(code) != 9 || strcmp(ev->origin, code) != 0
            || !sj_code_under(ev->quarantined.origin, code))) {
        snprintf(reason, rs,
                 "a quarantine notice from %s about %s: only a hub reports the events"
                 " of its own township it refused",
                 code, ev->quarantined.origin);
        return SJ_EPROTO;
    }
    if (ev->type == SJ_EVENT_ASSIGNMENT
        && (sj_code_level(ev->origin) != 9 || !sj_code_under(ev->assignee, ev->origin))) {
        snprintf(reason, rs,
                 "an assignment from %s to %s: only a township assigns, and only"
                 " within itself",
                 ev->origin, ev->assignee);
        return SJ_EPROTO;
    }
    if (ev->type == SJ_EVENT_APPROVAL && sj_code_level(ev->origin) != 9) {
        snprintf(reason, rs, "an approval of %s from %s: only a township approves a month",
                 ev->month, ev->origin);
        return SJ_EPROTO;
    }
    if (sj_code_level(code) == 12) {
        if (strcmp(ev->origin, code) != 0) {
            snprintf(reason, rs, "station %s sent an event of origin %s", code, ev->origin);
            return SJ_EFORBIDDEN;
        }
        if (ev->origin_seq != link_seq) {
            snprintf(reason, rs, "origin_seq %" PRIu64 " does not match link seq %" PRIu64,
                     ev->origin_seq, link_seq);
            return SJ_EPROTO;
        }
    } else if (!sj_code_under(ev->origin, code)) {
        snprintf(reason, rs, "hub %s forwarded an event of %s, outside its township", code,
                 ev->origin);
        return SJ_EFORBIDDEN;
    }
    /* Authority where the event first enters (issue 12, sj_case.h), also
     * for a hub's forwarded events: a rogue hub can forge its stations'. A
     * change of a case not here yet is kept and judged when the report
     * comes (the walk lists it unauthorized). */
    return sj_case_db_check(self->cases, ev, NULL, reason, rs);
}

/* ---- tallies (county_tally.h) ---- */

static void
s_tally_add(county_tally_acc_t *acc, const sj_report_t *r, const char *origin)
{
    county_tally_acc_add(acc, r, origin);
}

/* Writes what was gathered (inside the caller's transaction) and forgets it. */
static int
s_tally_flush(county_store_t *self)
{
    return county_tally_acc_flush(self->acc);
}

static int
s_batch_end(void *ctx, int ok)
{
    county_store_t *self = ctx;
    if (!ok) {
        county_tally_acc_clear(self->acc);
        return SJ_OK;
    }
    return s_tally_flush(self);
}

/* ---- cases (issue 4, issue 12) ----
 *
 * A case's current outcome is recomputed from its report and all its status
 * changes whenever one of them arrives, by the walk of the case model
 * (sj_case.h, docs/CASES.md): each change names the change in force its
 * author saw (its parent), and from the report the walk follows, at each
 * change in force, the child of highest authority (county, township,
 * station), then the earliest arrival here (eid). No clock decides. Every
 * change not in force is kept and listed in conflicts with the reason
 * (concurrent, follows a change not in force, invalid, waiting for its
 * parent, unauthorized), and so is the one that won over concurrent ones:
 * nothing is overwritten silently. A change whose report has not arrived is
 * kept (events, status_changes) and judged when the report arrives; until
 * then `cases` lists it as an orphan. The table side is sj_case_db; this
 * adapter writes the outcome into matters. *changed (may be NULL): the
 * matter's outcome changed. */
static int
s_replay_case(county_store_t *self, const uint8_t case_id[SJ_ID_BYTES], int *changed)
{
    /* The UPDATE of outcome moves the matter between tally_kind rows (a
     * trigger): what is still gathered in memory must be there first. */
    int rc = s_tally_flush(self);
    sj_case_state_t state;
    int found = 0;
    if (rc == SJ_OK) {
        rc = sj_case_db_replay(self->cases, case_id, 0, &state, &found, changed);
    }
    return rc;
}

static int
s_replay(county_store_t *self, const uint8_t case_id[SJ_ID_BYTES])
{
    return s_replay_case(self, case_id, NULL);
}

static int s_refresh_assigned(county_store_t *self, const uint8_t case_id[SJ_ID_BYTES]);

/* Runs one statement with ?1, ?2 bound to integers. */
static int
s_exec_bind2(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, sql, &st);
    if (rc == SJ_OK) {
        sqlite3_bind_int64(st, 1, a);
        sqlite3_bind_int64(st, 2, b);
        rc = sj_db_step_done(db, st, sql);
    }
    sqlite3_finalize(st);
    return rc;
}

/* An evaluation (issue 16): one row per event; the latest to arrive holds. */
static int
s_insert_evaluation(county_store_t *self, const sj_event_t *ev)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "INSERT INTO evaluations(row, case_id, satisfaction, created_ms, origin,"
                           " note, officer) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           &st);
    if (rc == SJ_OK) {
        rc =
            sj_db_bind_check(self->db,
                             sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(self->db))
                                 | sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
                                 | sqlite3_bind_int(st, 3, ev->satisfaction)
                                 | sqlite3_bind_int64(st, 4, ev->created_ms)
                                 | sqlite3_bind_text(st, 5, ev->origin, -1, SQLITE_STATIC)
                                 | sqlite3_bind_text(st, 6, ev->note, -1, SQLITE_STATIC)
                                 | sqlite3_bind_text(st, 7, ev->officer, -1, SQLITE_STATIC),
                             "evaluation insert");
    }
    if (rc == SJ_OK) {
        rc = sj_db_step_done(self->db, st, "evaluation insert");
    }
    sqlite3_finalize(st);
    return rc;
}

static int
s_insert_status(county_store_t *self, const sj_event_t *ev)
{
    /* the events row just inserted */
    int64_t eid = sqlite3_last_insert_rowid(self->db);
    int rc = sj_case_db_insert(self->cases, ev, eid);
    if (rc == SJ_OK && ev->satisfaction) {
        rc = s_exec_bind2(self->db, "UPDATE status_changes SET satisfaction = ?2 WHERE eid = ?1",
                          eid, ev->satisfaction);
    }
    if (rc == SJ_OK) {
        rc = s_replay(self, ev->case_id);
    }
    return rc == SJ_OK ? s_refresh_assigned(self, ev->case_id) : rc;
}

/* An assignment (issue 4): one row per event, whoever made it; the current
 * assignment of a case is its row with the greatest (created_ms, eid), so
 * the order of arrival does not matter and a case whose report has not
 * arrived yet keeps its assignment until it does. */
static int
s_insert_assignment(county_store_t *self, const sj_event_t *ev)
{
    sqlite3_stmt *st = self->st_assignment;
    sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(self->db));
    sqlite3_bind_blob(st, 2, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ev->assignee, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ev->due_on, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, ev->created_ms);
    sqlite3_bind_text(st, 8, ev->note, -1, SQLITE_STATIC);
    return sj_db_step_done(self->db, st, "assignment insert");
}

/* ---- corrections and voids (issue 15, docs/CASES.md) ---- */

static int
s_exec_bound(county_store_t *self, const char *sql, sqlite3_stmt **out)
{
    return sj_db_prepare(self->db, sql, out);
}

/* Applies one correction or void (ev, its events row eid) to its matter,
 * which is here. Sets *applied to 1, or 2 when its origin may not change
 * the case (the reason is logged) or the case is voided. */
static int
s_fix_apply(county_store_t *self, const sj_event_t *ev, int64_t eid, int *applied)
{
    char why[256] = "", idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    sj_case_rows_t rows;
    memset(&rows, 0, sizeof rows);
    int rc = sj_case_db_facts(self->cases, ev->case_id, &rows);
    if (rc != SJ_OK) {
        return rc;
    }
    int may = rows.found && sj_case_may_change(&rows.facts, ev->origin, why, sizeof why) == SJ_OK;
    sj_case_rows_free(&rows);
    *applied = 2;
    if (!may) {
        sj_warn("a %s of case %s from %s is not applied: %s",
                ev->type == SJ_EVENT_VOID ? "void" : "correction", idtext, ev->origin,
                why[0] ? why : "the case is not here (voided)");
        return SJ_OK;
    }
    /* The UPDATE or DELETE moves tally rows (triggers): what is gathered in
     * memory must be there first. */
    rc = s_tally_flush(self);
    sqlite3_stmt *st = NULL;
    if (rc == SJ_OK && ev->type == SJ_EVENT_CORRECTION) {
        const sj_report_t *r = &ev->report;
        rc = s_exec_bound(self,
                          "UPDATE matters SET occurred_on = coalesce(?1, occurred_on),"
                          " channel = coalesce(?2, channel), kind = coalesce(?3, kind),"
                          " persons = coalesce(?4, persons), level = coalesce(?5, level),"
                          " category = coalesce(?6, category), source = coalesce(?7, source),"
                          " summary = coalesce(?8, summary) WHERE id = ?9",
                          &st);
        if (rc == SJ_OK) {
            if (r->occurred_on[0]) {
                sqlite3_bind_text(st, 1, r->occurred_on, -1, SQLITE_STATIC);
            }
            const int v[] = {r->channel, r->kind,     (int) r->persons,
                             r->level,   r->category, r->source};
            for (int i = 0; i < 6; i++) {
                if (v[i]) {
                    sqlite3_bind_int(st, 2 + i, v[i]);
                }
            }
            if (ev->summary[0]) {
                sqlite3_bind_text(st, 8, ev->summary, -1, SQLITE_STATIC);
            }
            sqlite3_bind_blob(st, 9, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
            rc = sj_db_step_done(self->db, st, "correction");
        }
    } else if (rc == SJ_OK) {
        rc = s_exec_bound(self,
                          "INSERT INTO matters_voided(" COUNTY_SQL_MATTER_COLS ", void_eid)"
                          " SELECT " COUNTY_SQL_MATTER_COLS ", ?1 FROM matters WHERE id = ?2",
                          &st);
        if (rc == SJ_OK) {
            sqlite3_bind_int64(st, 1, eid);
            sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
            rc = sj_db_step_done(self->db, st, "void");
        }
        sqlite3_finalize(st);
        st = NULL;
        if (rc == SJ_OK) {
            rc = s_exec_bound(self, "DELETE FROM matters WHERE id = ?1", &st);
        }
        if (rc == SJ_OK) {
            sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
            rc = sj_db_step_done(self->db, st, "void");
        }
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        *applied = 1;
    }
    return rc;
}

/* Sets a fixes row's applied state. */
static int
s_fix_mark(county_store_t *self, int64_t eid, int applied)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, "UPDATE fixes SET applied = ?1 WHERE eid = ?2", &st);
    if (rc == SJ_OK) {
        sqlite3_bind_int(st, 1, applied);
        sqlite3_bind_int64(st, 2, eid);
        rc = sj_db_step_done(self->db, st, "fixes update");
    }
    sqlite3_finalize(st);
    return rc;
}

/* A correction or void just stored (its events row is the last insert):
 * its fixes row, and applied now when its matter is here (the order of
 * arrival is the order of application). A voided case takes nothing more. */
static int
s_insert_fix(county_store_t *self, const sj_event_t *ev)
{
    int64_t eid = sqlite3_last_insert_rowid(self->db);
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "SELECT EXISTS(SELECT 1 FROM matters WHERE id = ?1),"
                           " EXISTS(SELECT 1 FROM matters_voided WHERE id = ?1)",
                           &st);
    int here = 0, voided = 0;
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            here = sqlite3_column_int(st, 0);
            voided = sqlite3_column_int(st, 1);
        } else {
            rc = sj_db_err(self->db, step, "fixes lookup");
        }
    }
    sqlite3_finalize(st);
    int applied = voided ? 2 : 0;
    if (rc == SJ_OK && here) {
        rc = s_fix_apply(self, ev, eid, &applied);
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO fixes(eid, case_id, type, applied)"
                           " VALUES(?1, ?2, ?3, ?4)",
                           &st);
    }
    if (rc == SJ_OK) {
        sqlite3_bind_int64(st, 1, eid);
        sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, (int) ev->type);
        sqlite3_bind_int(st, 4, applied);
        rc = sj_db_step_done(self->db, st, "fixes insert");
        sqlite3_finalize(st);
    }
    if (rc == SJ_OK && applied == 0) {
        self->fixes_waiting = 1;
    }
    return rc;
}

/* The report of case id just arrived: the corrections and voids that came
 * before it are applied now, in the order they arrived (eid). */
static int
s_fixes_waiting(county_store_t *self, const uint8_t id[SJ_ID_BYTES])
{
    sqlite3_stmt *st = NULL;
    int rc = SJ_OK;
    if (self->fixes_waiting < 0) {
        rc = sj_db_prepare(self->db, "SELECT EXISTS(SELECT 1 FROM fixes WHERE applied = 0)", &st);
        if (rc != SJ_OK) {
            return rc;
        }
        self->fixes_waiting = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (!self->fixes_waiting) {
        return SJ_OK;
    }
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        return SJ_ENOMEM;
    }
    /* In rounds of up to 64 (each round's rows are marked after its
     * statement ends): a case has one or two. */
    size_t n = 64;
    while (rc == SJ_OK && n == 64) {
        int64_t eids[64];
        int marks[64];
        n = 0;
        rc = sj_db_prepare(self->db,
                           "SELECT f.eid, e.raw FROM fixes f JOIN events e ON e.eid = f.eid"
                           " WHERE f.case_id = ?1 AND f.applied = 0 ORDER BY f.eid LIMIT 64",
                           &st);
        if (rc != SJ_OK) {
            break;
        }
        sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
        int step;
        while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
            char why[256];
            int applied = 2; /* not an event this node reads: never applied */
            if (sj_event_decode(sqlite3_column_blob(st, 1), (size_t) sqlite3_column_bytes(st, 1),
                                ev, why, sizeof why)
                == SJ_OK) {
                /* after a void its matter is gone: s_fix_apply gives 2 */
                rc = s_fix_apply(self, ev, sqlite3_column_int64(st, 0), &applied);
            }
            eids[n] = sqlite3_column_int64(st, 0);
            marks[n++] = applied;
        }
        sqlite3_finalize(st);
        for (size_t i = 0; rc == SJ_OK && i < n; i++) {
            rc = s_fix_mark(self, eids[i], marks[i]);
        }
    }
    free(ev);
    return rc;
}

static int
s_insert_matter(county_store_t *self, const sj_event_t *ev, int64_t now)
{
    const sj_report_t *r = &ev->report;
    /* Asked before the INSERT: the set is read from the database at its
     * first question, and must not see this matter yet. */
    int early = sj_case_db_orphan_maybe(self->cases, ev->id);
    char township[10];
    snprintf(township, sizeof township, "%.9s", ev->origin);
    sqlite3_stmt *st = self->st_matter;
    sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, township, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->occurred_on, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, r->channel);
    sqlite3_bind_int(st, 6, r->kind);
    sqlite3_bind_int64(st, 7, r->persons);
    sqlite3_bind_int(st, 8, r->level);
    sqlite3_bind_int(st, 9, r->category);
    sqlite3_bind_int(st, 10, r->outcome);
    sqlite3_bind_int(st, 11, r->source);
    sqlite3_bind_text(st, 12, r->summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, r->officer, -1, SQLITE_STATIC);
    if (ev->sealed_len) {
        sqlite3_bind_blob(st, 14, ev->sealed, (int) ev->sealed_len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 14);
    }
    sqlite3_bind_int64(st, 15, ev->created_ms);
    sqlite3_bind_int64(st, 16, now);
    int rc = sj_db_step_done(self->db, st, "matters insert");
    sqlite3_clear_bindings(st);
    if (rc != SJ_OK) {
        return rc;
    }
    /* The tallies (schema 5) are gathered here and written at the end of
     * the batch (s_tally_flush), not by a trigger: a trigger makes
     * every matters INSERT a statement transaction whose in-memory
     * sub-journal is truncated by walking it from the start, which doubled
     * the county's CPU per report. */
    s_tally_add(self->acc, r, ev->origin);
    self->search.settled = 0; /* its summary: for the idle indexer */
    if ((rc = s_fixes_waiting(self, ev->id)) != SJ_OK) {
        return rc;
    }
    /* Status changes that arrived before their report (another path) are
     * applied now; almost always there are none: the case's orphan bit, then
     * one indexed lookup, keep the replay off the hot path. */
    if (!early) {
        return SJ_OK;
    }
    int waits = 0;
    rc = sj_case_db_waits(self->cases, ev->id, &waits);
    if (rc == SJ_OK && waits) {
        rc = s_replay(self, ev->id);
    }
    return rc == SJ_OK && waits ? s_refresh_assigned(self, ev->id) : rc;
}

static int
s_store_event(void *ctx,
              const char *code,
              const sj_event_t *ev,
              const uint8_t *raw,
              size_t len,
              sj_stored_t *result)
{
    county_store_t *self = ctx;
    uint8_t hash[SJ_HASH_BYTES];
    sj_event_hash(raw, len, hash);
    int64_t now = sj_now_ms();
    sqlite3_stmt *st = self->st_event;
    sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, ev->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) ev->origin_seq);
    sqlite3_bind_text(st, 5, code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, (int) ev->type);
    sqlite3_bind_int64(st, 7, ev->created_ms);
    sqlite3_bind_int64(st, 8, now);
    sqlite3_bind_blob(st, 9, ev->prev_hash, SJ_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, SJ_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, raw, (int) len, SQLITE_STATIC);
    int rc = sj_db_step_done(self->db, st, "events insert");
    if (rc != SJ_OK) {
        return rc;
    }
    if (sqlite3_changes(self->db) == 1) {
        *result = SJ_STORED_NEW;
        if (ev->type == SJ_EVENT_REPORT) {
            return s_insert_matter(self, ev, now);
        }
        if (ev->type == SJ_EVENT_QUARANTINED) {
            return SJ_OK; /* its events row is all: `verify` reads it */
        }
        if (ev->type == SJ_EVENT_CORRECTION || ev->type == SJ_EVENT_VOID) {
            return s_insert_fix(self, ev);
        }
        if (ev->type == SJ_EVENT_EXTENSION) {
            /* the children's clocks move with it (CaseSnapshot.clock) */
            rc = sj_clock_db_insert(self->db, sqlite3_last_insert_rowid(self->db), ev);
            return rc == SJ_OK ? s_refresh_assigned(self, ev->case_id) : rc;
        }
        if (ev->type == SJ_EVENT_EVALUATION) {
            return s_insert_evaluation(self, ev);
        }
        if (ev->type == SJ_EVENT_APPROVAL) {
            return county_lock_approval_store(self->db, sqlite3_last_insert_rowid(self->db),
                                              ev->origin, ev->month, ev->officer, ev->account,
                                              ev->created_ms);
        }
        return ev->type == SJ_EVENT_STATUS ? s_insert_status(self, ev)
                                           : s_insert_assignment(self, ev);
    }
    /* Not stored: its id is held. The same event again (same position) is
     * a duplicate; the id at another position is an id conflict. */
    sqlite3_stmt *ex = self->st_exists;
    sqlite3_bind_blob(ex, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(ex, 2, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(ex, 3, ev->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(ex, 4, (sqlite3_int64) ev->origin_seq);
    int step = sqlite3_step(ex);
    int same = step == SQLITE_ROW && sqlite3_column_int(ex, 0) == 1;
    sqlite3_reset(ex);
    sqlite3_clear_bindings(ex);
    if (step != SQLITE_ROW) {
        return sj_db_err(self->db, step, "events lookup");
    }
    *result = same ? SJ_STORED_DUPLICATE : SJ_STORED_ID_CONFLICT;
    return SJ_OK;
}

static sj_down_t *
s_down(void *ctx)
{
    return ((county_store_t *) ctx)->down;
}

/* Is ev held here, at its position and with these bytes? By its id (the
 * only index on events); an id not held: SJ_ENOTFOUND. */
static int
s_held(void *ctx, const sj_event_t *ev, const uint8_t *raw, size_t len, int *same)
{
    county_store_t *self = ctx;
    uint8_t hash[SJ_HASH_BYTES];
    sj_event_hash(raw, len, hash);
    sqlite3_stmt *st = self->st_held;
    sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, ev->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) ev->origin_seq);
    sqlite3_bind_blob(st, 5, hash, SJ_HASH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = SJ_OK;
    *same = 0;
    if (step == SQLITE_ROW) {
        *same = sqlite3_column_int(st, 0) == 1;
    } else {
        rc = step == SQLITE_DONE ? SJ_ENOTFOUND : sj_db_err(self->db, step, "event by id");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int s_down_refill(void *ctx, const char *child);

/* At a child's Hello: its place names, when it was not sent this version. */
static int
s_down_hello(void *ctx, const char *child)
{
    county_store_t *self = ctx;
    int rc = sj_places_offer(self->db, self->down, child, 0);
    return rc == SJ_OK ? sj_periods_offer(self->db, self->down, child, 0) : rc;
}

const sj_downlink_ops_t county_store_downlink_ops = {.admit = s_admit,
                                                     .check_event = s_check_event,
                                                     .store_event = s_store_event,
                                                     .committed = NULL,
                                                     .down = s_down,
                                                     .down_refill = s_down_refill,
                                                     .down_hello = s_down_hello,
                                                     .batch_end = s_batch_end,
                                                     .held = s_held};

/* ---- the county's own status changes ---- */

const char *
county_store_origin(const county_store_t *self)
{
    return self->code[0] ? self->code : "000000";
}

const char *
county_store_dir(const county_store_t *self)
{
    return self->dir;
}

/* Inside the write transaction: numbers and chains ev (type and body are the
 * caller's) as the next event of the county's own stream (meta own_epoch,
 * made on first use, own_seq, own_hash), and stores and applies it as events
 * from below are. With raw_p, the caller gets the packed bytes (free()). */
static int
s_own_append(
    county_store_t *self, sj_event_t *ev, uint8_t **raw_p, size_t *len_p, char *reason, size_t rs)
{
    uint8_t epoch[SJ_EPOCH_BYTES];
    int rc = sj_db_meta_get_blob(self->db, "own_epoch", epoch, SJ_EPOCH_BYTES);
    if (rc == SJ_ENOTFOUND) { /* made on first use; the stream starts at seq 1 */
        uint8_t zero[SJ_HASH_BYTES] = {0};
        sj_random16(epoch);
        rc = sj_db_meta_set_blob(self->db, "own_epoch", epoch, SJ_EPOCH_BYTES);
        if (rc == SJ_OK) {
            rc = sj_db_meta_set_int(self->db, "own_seq", 0);
        }
        if (rc == SJ_OK) {
            rc = sj_db_meta_set_blob(self->db, "own_hash", zero, SJ_HASH_BYTES);
        }
    }
    if (rc != SJ_OK) {
        return rc;
    }
    return sj_own_append(self->db, county_store_origin(self), epoch, s_store_event, self, "county",
                         ev, raw_p, len_p, reason, rs);
}

/* The county's own status change: the next event of its own stream. */
static int
s_append_change(void *ctx, sj_event_t *ev, char *reason, size_t rs)
{
    return s_own_append(ctx, ev, NULL, NULL, reason, rs);
}

int
county_store_update_by(county_store_t *self,
                       const uint8_t case_id[SJ_ID_BYTES],
                       int outcome,
                       int satisfaction,
                       const char *note,
                       const char *officer,
                       const char *account,
                       sj_update_result_t *res,
                       char *reason,
                       size_t reason_size)
{
    sj_case_db_set_account(self->cases, account);
    int rc = county_store_update_ex(self, case_id, outcome, satisfaction, note, officer, res,
                                    reason, reason_size);
    sj_case_db_set_account(self->cases, NULL);
    return rc;
}

int
county_store_update(county_store_t *self,
                    const uint8_t case_id[SJ_ID_BYTES],
                    int outcome,
                    const char *note,
                    const char *officer,
                    sj_update_result_t *res,
                    char *reason,
                    size_t reason_size)
{
    return county_store_update_ex(self, case_id, outcome, 0, note, officer, res, reason,
                                  reason_size);
}

int
county_store_update_ex(county_store_t *self,
                       const uint8_t case_id[SJ_ID_BYTES],
                       int outcome,
                       int satisfaction,
                       const char *note,
                       const char *officer,
                       sj_update_result_t *res,
                       char *reason,
                       size_t reason_size)
{
    return sj_case_db_update_ex(self->cases, county_store_origin(self), "at the county",
                                s_append_change, self, case_id, outcome, satisfaction, note,
                                officer, res, reason, reason_size);
}

/* ---- corrections and voids made at the county (issue 15) ---- */

int
county_store_fix(county_store_t *self, sj_event_t *ev, char *reason, size_t reason_size)
{
    char idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        snprintf(reason, reason_size, "cannot write the county store: %s", sj_strerror(rc));
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(self->db, "SELECT EXISTS(SELECT 1 FROM matters WHERE id = ?1)", &st);
    int here = 0;
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
        here = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (rc == SJ_OK && !here) {
        snprintf(reason, reason_size, "no matter %s here (or it was voided)", idtext);
        rc = SJ_ENOTFOUND;
    }
    if (rc == SJ_OK) {
        sj_uuid7_new(ev->id);
        rc = s_own_append(self, ev, NULL, NULL, reason, reason_size);
    }
    if (rc == SJ_OK) {
        rc = s_tally_flush(self);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        county_tally_acc_clear(self->acc);
        sj_db_rollback(self->db);
        if (!reason[0]) {
            snprintf(reason, reason_size, "not stored: %s", sj_strerror(rc));
        }
    }
    return rc;
}

/* ---- evaluations (county-server evaluate, issue 16) ---- */

int
county_store_evaluate(county_store_t *self, sj_event_t *ev, char *reason, size_t reason_size)
{
    char idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        snprintf(reason, reason_size, "cannot write the county store: %s", sj_strerror(rc));
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(self->db, "SELECT outcome FROM matters WHERE id = ?1", &st);
    int outcome = 0;
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
        outcome = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
    }
    if (rc == SJ_OK && outcome < 0) {
        snprintf(reason, reason_size, "no matter %s here (or it was voided)", idtext);
        rc = SJ_ENOTFOUND;
    } else if (rc == SJ_OK && !sj_outcome_is_concluded(outcome)) {
        snprintf(reason, reason_size,
                 "case %s is %s: the petitioner evaluates a concluded case (closed or resolved"
                 " on the spot)",
                 idtext, sj_enum_name(SJ_FIELD_OUTCOME, outcome));
        rc = SJ_EINVAL;
    }
    if (rc == SJ_OK) {
        sj_uuid7_new(ev->id);
        rc = s_own_append(self, ev, NULL, NULL, reason, reason_size);
    }
    if (rc == SJ_OK) {
        rc = s_tally_flush(self);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        county_tally_acc_clear(self->acc);
        sj_db_rollback(self->db);
        if (!reason[0]) {
            snprintf(reason, reason_size, "not stored: %s", sj_strerror(rc));
        }
    }
    return rc;
}

/* ---- extensions (county-server extend, docs/CLOCK.md) ---- */

/* The clock of a matter at the county on today. SJ_ENOTFOUND when there is
 * no such matter (or it was voided). */
static int
s_case_clock(county_store_t *self,
             const uint8_t id[SJ_ID_BYTES],
             const sj_periods_t *p,
             const char *today,
             sj_clock_t *clk)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "SELECT occurred_on, coalesce(reported_outcome, outcome), source"
                           " FROM matters WHERE id = ?1",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? SJ_ENOTFOUND : sj_db_err(self->db, step, "matter lookup");
        sqlite3_finalize(st);
        return rc;
    }
    char received[11];
    snprintf(received, sizeof received, "%s", (const char *) sqlite3_column_text(st, 0));
    int outcome = sqlite3_column_int(st, 1), source = sqlite3_column_int(st, 2);
    sqlite3_finalize(st);
    sj_clock_db_t *cdb = NULL;
    rc = sj_clock_db_open(self->db, COUNTY_CLOCK_CHANGES_SQL, &cdb);
    if (rc == SJ_OK) {
        rc = sj_clock_db_case(cdb, id, received, outcome, source, p, today, clk);
    }
    sj_clock_db_close(&cdb);
    return rc;
}

int
county_store_extend(county_store_t *self,
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
        snprintf(reason, reason_size, "cannot write the county store: %s", sj_strerror(rc));
        return rc;
    }
    sj_clock_t clk;
    rc = s_case_clock(self, ev->case_id, p, today, &clk);
    if (rc == SJ_ENOTFOUND) {
        snprintf(reason, reason_size, "no matter %s here (or it was voided)", idtext);
    } else if (rc == SJ_OK) {
        rc = sj_clock_extend_check(&clk, p, &ev->ext_stage, ev->ext_days, reason, reason_size);
    }
    if (rc == SJ_OK) {
        sj_uuid7_new(ev->id);
        rc = s_own_append(self, ev, NULL, NULL, reason, reason_size);
    }
    if (rc == SJ_OK) {
        rc = s_case_clock(self, ev->case_id, p, today, after);
    }
    if (rc == SJ_OK) {
        rc = s_tally_flush(self);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        county_tally_acc_clear(self->acc);
        sj_db_rollback(self->db);
        if (!reason[0]) {
            snprintf(reason, reason_size, "not stored: %s", sj_strerror(rc));
        }
    }
    return rc;
}

/* ---- assignments (county-server assign) ---- */

/* Which child's downward stream carries an assignment to `assignee`: a
 * township's hub; a station's own stream when it links straight to the
 * county (it has a links row), else its township's hub. */
static int
s_route(county_store_t *self, const char *assignee, char child[SJ_CODE_MAX + 1])
{
    snprintf(child, SJ_CODE_MAX + 1, "%s", assignee);
    if (sj_code_level(assignee) != 12) {
        return SJ_OK;
    }
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, "SELECT 1 FROM links WHERE code=? LIMIT 1", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, assignee, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_DONE) {
        snprintf(child, SJ_CODE_MAX + 1, "%.9s", assignee);
    } else if (step != SQLITE_ROW) {
        return sj_db_err(self->db, step, "links lookup");
    }
    return SJ_OK;
}

/* The case as the county knows it now (sj_case_db_snapshot). */
static int
s_snapshot(county_store_t *self, const uint8_t case_id[SJ_ID_BYTES], sj_snapshot_t *snap)
{
    int rc = sj_case_db_snapshot(self->cases, case_id, snap);
    sqlite3_stmt *st = NULL;
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "SELECT coalesce(reported_outcome, outcome), source FROM matters"
                           " WHERE id = ?1",
                           &st);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, case_id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int outcome = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    int source = step == SQLITE_ROW ? sqlite3_column_int(st, 1) : 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW) {
        return step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "matter lookup");
    }
    sj_clock_db_t *cdb = NULL;
    rc = sj_clock_db_open(self->db, COUNTY_CLOCK_CHANGES_SQL, &cdb);
    if (rc == SJ_OK) {
        rc = sj_clock_db_snapshot(cdb, case_id, outcome, source, snap);
    }
    sj_clock_db_close(&cdb);
    return rc;
}

typedef struct {
    county_store_t *self;
    sj_event_t *ev;
    char child[SJ_CODE_MAX + 1];
    uint64_t seq;
} s_assign_t;

static int
s_assign_tx(void *ctx, char *reason, size_t rs)
{
    s_assign_t *a = ctx;
    county_store_t *self = a->self;
    sj_event_t *ev = a->ev;
    char idtext[SJ_UUID_TEXT], why[256] = "";
    sj_uuid_format(ev->case_id, idtext);
    sj_snapshot_t *snap = calloc(1, sizeof *snap);
    if (!snap) {
        return SJ_ENOMEM;
    }
    uint8_t *raw = NULL, *item = NULL;
    size_t len = 0, item_len = 0;
    int rc = sj_case_db_may_assign(self->cases, ev->case_id, county_store_origin(self),
                                   ev->assignee, why, sizeof why);
    if (rc == SJ_OK) {
        rc = s_snapshot(self, ev->case_id, snap);
    }
    if (rc == SJ_ENOTFOUND) {
        snprintf(reason, rs, "no matter %s at the county", idtext);
        goto out;
    }
    if (rc == SJ_EINVAL) {
        snprintf(reason, rs, "case %s: %s", idtext, why);
        goto out;
    }
    if (rc != SJ_OK) {
        goto out;
    }
    rc = s_route(self, ev->assignee, a->child);
    if (rc == SJ_OK) {
        rc = s_own_append(self, ev, &raw, &len, reason, rs);
    }
    if (rc == SJ_OK) {
        rc = sj_down_item_encode(raw, len, snap, &item, &item_len);
    }
    if (rc == SJ_OK) {
        rc = sj_down_enqueue(self->down, a->child, ev->id, item, item_len, &a->seq);
    }
out:
    free(raw);
    free(item);
    free(snap);
    return rc;
}

int
county_store_assign(county_store_t *self,
                    const uint8_t case_id[SJ_ID_BYTES],
                    const char *assignee,
                    const char *due_on,
                    const char *note,
                    const char *officer,
                    const char *account,
                    uint8_t ev_id[SJ_ID_BYTES],
                    char via[SJ_CODE_MAX + 1],
                    char *reason,
                    size_t reason_size)
{
    s_assign_t a = {.self = self, .ev = calloc(1, sizeof(sj_event_t))};
    if (!a.ev) {
        snprintf(reason, reason_size, "the assignment was NOT stored: %s", sj_strerror(SJ_ENOMEM));
        return SJ_ENOMEM;
    }
    sj_update_assignment(a.ev, case_id, assignee, due_on, note, officer);
    snprintf(a.ev->account, sizeof a.ev->account, "%s", account ? account : "");
    int rc = sj_update_in_tx(self->db, s_assign_tx, &a, "assignment", reason, reason_size);
    if (rc == SJ_OK) {
        memcpy(ev_id, a.ev->id, SJ_ID_BYTES);
        snprintf(via, SJ_CODE_MAX + 1, "%s", a.child);
    }
    free(a.ev);
    return rc;
}

/* After a status change of a case is applied (or a conflict recorded), a
 * case already assigned into a child's subtree gets a new item in that
 * child's stream: the latest assignment that went there, with a fresh
 * snapshot, so the station's inbox and the township's cases show the
 * county's outcome and conflict flag, also for changes they did not relay.
 * One indexed lookup for a case that was never assigned. */
static int
s_refresh_assigned(county_store_t *self, const uint8_t case_id[SJ_ID_BYTES])
{
    enum { MAX_CHILDREN = 8 };
    struct {
        char child[SJ_CODE_MAX + 1];
        int64_t eid;
    } to[MAX_CHILDREN];
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "SELECT assignee, origin, eid FROM assignments WHERE case_id=?"
                           " ORDER BY created_ms, eid",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, case_id, SJ_ID_BYTES, SQLITE_STATIC);
    int step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *assignee = (const char *) sqlite3_column_text(st, 0);
        const char *origin = (const char *) sqlite3_column_text(st, 1);
        char child[SJ_CODE_MAX + 1];
        if (sj_code_level(origin) == 9) {
            snprintf(child, sizeof child, "%s", origin); /* the hub's own: it holds it */
        } else {
            rc = s_route(self, assignee, child);
        }
        size_t i = 0;
        while (i < n && strcmp(to[i].child, child) != 0) {
            i++;
        }
        if (rc == SJ_OK && i == n && n < MAX_CHILDREN) {
            n++;
        }
        if (rc == SJ_OK && i < n) {
            snprintf(to[i].child, sizeof to[i].child, "%s", child);
            to[i].eid = sqlite3_column_int64(st, 2); /* later rows win */
        }
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK || n == 0) {
        return rc;
    }
    sj_snapshot_t *snap = calloc(1, sizeof *snap);
    if (!snap) {
        return SJ_ENOMEM;
    }
    rc = s_snapshot(self, case_id, snap);
    if (rc == SJ_ENOTFOUND) {
        free(snap);
        return SJ_OK; /* an orphan: refreshed when its report arrives */
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db, "SELECT id, raw FROM events WHERE eid=?", &st);
    }
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        sqlite3_bind_int64(st, 1, to[i].eid);
        step = sqlite3_step(st);
        if (step != SQLITE_ROW) {
            rc = sj_db_err(self->db, step, "assignment event");
            break;
        }
        uint8_t id[SJ_ID_BYTES], *item = NULL;
        size_t item_len = 0;
        memcpy(id, sqlite3_column_blob(st, 0), SJ_ID_BYTES);
        rc = sj_down_item_encode(sqlite3_column_blob(st, 1), (size_t) sqlite3_column_bytes(st, 1),
                                 snap, &item, &item_len);
        sqlite3_reset(st);
        if (rc == SJ_OK) {
            rc = sj_down_enqueue(self->down, to[i].child, id, item, item_len, NULL);
        }
        free(item);
    }
    sqlite3_finalize(st);
    free(snap);
    return rc;
}

/* A child's cursor is below its stream's floor (its store made anew after
 * items were pruned): every open case assigned into its subtree gets a
 * fresh item (s_refresh_assigned: its latest assignment with the current
 * snapshot; other children the case went to get one too, which changes
 * nothing there). */
static int
s_down_refill(void *ctx, const char *child)
{
    county_store_t *self = ctx;
    sqlite3_stmt *st = NULL;
    int rc =
        sj_db_prepare(self->db,
                      "SELECT DISTINCT a.case_id FROM assignments a JOIN matters m ON m.id ="
                      " a.case_id WHERE (a.assignee = ?1 OR substr(a.assignee, 1,"
                      " length(?1)) = ?1 OR a.origin = ?1) AND m.outcome IN " SJ_OUTCOME_OPEN_SQL,
                      &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    enum { MAX_REFILL = 4096 };
    uint8_t(*ids)[SJ_ID_BYTES] = malloc(MAX_REFILL * SJ_ID_BYTES);
    size_t n = 0;
    int step = SQLITE_DONE;
    while (ids && n < MAX_REFILL && (step = sqlite3_step(st)) == SQLITE_ROW) {
        memcpy(ids[n++], sqlite3_column_blob(st, 0), SJ_ID_BYTES);
    }
    if (!ids) {
        rc = SJ_ENOMEM;
    } else if (step != SQLITE_DONE && step != SQLITE_ROW) {
        rc = sj_db_err(self->db, step, "refill");
    }
    sqlite3_finalize(st);
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        rc = s_refresh_assigned(self, ids[i]);
    }
    free(ids);
    if (rc == SJ_OK) {
        rc = sj_places_offer(self->db, self->down, child, 1);
    }
    if (rc == SJ_OK) {
        rc = sj_periods_offer(self->db, self->down, child, 1);
    }
    if (rc == SJ_OK) {
        sj_notice("child %s: %zu open assigned case(s) sent again as fresh items", child, n);
    }
    return rc;
}

/* The replay of a case whose changes got their parents at the upgrade
 * (sj_case_db_upgrade): its outcome by the new rule, and, when that changed
 * it, a fresh snapshot for the children it was assigned into. */
static int
s_upgrade_replay(void *ctx, const uint8_t id[SJ_ID_BYTES])
{
    county_store_t *self = ctx;
    int changed = 0;
    int rc = s_replay_case(self, id, &changed);
    if (rc == SJ_OK && changed) {
        char idtext[SJ_UUID_TEXT];
        sj_uuid_format(id, idtext);
        sj_notice("case %s: its outcome by the causal rule differs from the old rule's (the"
                  " conflict is listed)",
                  idtext);
        rc = s_refresh_assigned(self, id);
    }
    return rc;
}

/* ---- place names (issue 15 item 4) ---- */

int
county_store_places_import(county_store_t *self,
                           const sj_place_t *p,
                           size_t n,
                           size_t *changed,
                           size_t *children,
                           char *reason,
                           size_t reason_size)
{
    *changed = 0;
    *children = 0;
    int rc = sj_db_begin(self->db);
    if (rc == SJ_OK) {
        rc = sj_places_store(self->db, p, n, sj_now_ms(), changed);
    }
    if (rc == SJ_OK && *changed > 0) {
        rc = sj_places_changed(self->db, self->down, children);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        snprintf(reason, reason_size, "the place names were NOT stored: %s", sj_strerror(rc));
    }
    return rc;
}

/* ---- the periods (issue 16, sj_periods_db.h) ---- */

int
county_store_set_periods(county_store_t *self, const sj_periods_t *p, int *changed)
{
    int rc = sj_db_begin(self->db);
    if (rc == SJ_OK) {
        rc = sj_periods_db_set(self->db, p, changed);
    }
    if (rc == SJ_OK && *changed) {
        rc = sj_periods_changed(self->db, self->down);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
    }
    return rc;
}
