#include "hub_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sj_ids.h"
#include "sj_log.h"
#include "sj_update.h"

#define HUB_APP_ID 0x534a4831 /* "SJH1" */

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
};

struct hub_store {
    sqlite3 *db;
    char code[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];      /* the store's own epoch (Welcome to stations) */
    uint8_t link_epoch[SJ_EPOCH_BYTES]; /* the epoch of the stream to the county */
    uint64_t up_offered;                /* meta up_offered as last written (a cache) */
    sqlite3_stmt *st_insert;
    sqlite3_stmt *st_exists;
    sqlite3_stmt *st_fetch;
    sqlite3_stmt *st_max;
    sqlite3_stmt *st_case_new;     /* a reported case */
    sqlite3_stmt *st_has_changes;  /* does a case have status changes yet? */
};

static int
s_identity(hub_store_t *self, const char *code, sj_db_mode_t mode, char *err, size_t err_size)
{
    int rc = sj_db_meta_get_text(self->db, "code", self->code, sizeof self->code);
    if (rc == SJ_ENOTFOUND && mode == SJ_DB_WRITE) {
        if (!code || sj_code_level(code) != 9) {
            snprintf(err, err_size, "a new hub store needs --code with a 9-digit township code");
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
            snprintf(err, err_size, "cannot initialise the store: %s", sqlite3_errmsg(self->db));
            return SJ_EDB;
        }
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        snprintf(err, err_size, "the hub store has no township code (never started?)");
        return SJ_EDB;
    }
    if (code && strcmp(code, self->code) != 0) {
        snprintf(err, err_size, "this data directory belongs to township %s, not %s", self->code,
                 code);
        return SJ_EINVAL;
    }
    int64_t offered = 0;
    if (sj_db_meta_get_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK
        || sj_db_meta_get_blob(self->db, "link_epoch", self->link_epoch, SJ_EPOCH_BYTES) != SJ_OK
        || sj_db_meta_get_int(self->db, "up_offered", &offered) != SJ_OK || offered < 0) {
        snprintf(err, err_size, "the store has no valid epoch (damaged?)");
        return SJ_EDB;
    }
    self->up_offered = (uint64_t) offered;
    return SJ_OK;
}

hub_store_t *
hub_store_open(const char *dir, const char *code, sj_db_mode_t mode, char *err, size_t err_size)
{
    hub_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (sj_db_open(dir, "township-hub.db", HUB_APP_ID, s_migrations,
                   sizeof s_migrations / sizeof s_migrations[0], mode, &self->db, err, err_size)
            != SJ_OK
        || s_identity(self, code, mode, err, err_size) != SJ_OK) {
        goto fail;
    }
    if (sj_db_prepare(self->db,
                      "INSERT INTO events(id, origin, epoch, origin_seq, via, received_ms, raw)"
                      " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                      &self->st_insert) != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT 1 FROM events WHERE origin=? AND epoch=? AND origin_seq=?",
                         &self->st_exists) != SJ_OK
        || (mode == SJ_DB_WRITE
            && (sj_db_prepare(self->db,
                              "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms)"
                              " VALUES(?1, ?2, ?3, ?3, ?4) ON CONFLICT DO NOTHING",
                              &self->st_case_new) != SJ_OK
                || sj_db_prepare(self->db,
                                 "SELECT 1 FROM case_changes WHERE case_id=? LIMIT 1",
                                 &self->st_has_changes) != SJ_OK))
        || sj_db_prepare(self->db,
                         "SELECT hub_seq, raw FROM events WHERE hub_seq>=? ORDER BY hub_seq LIMIT ?",
                         &self->st_fetch) != SJ_OK
        || sj_db_prepare(self->db, "SELECT coalesce(max(hub_seq), 0) FROM events", &self->st_max)
               != SJ_OK) {
        snprintf(err, err_size, "cannot prepare statements: %s", sqlite3_errmsg(self->db));
        goto fail;
    }
    return self;
fail:
    hub_store_close(&self);
    if (err_size && err[0]) {
        sj_db_name_in_error(err, err_size, dir, "township-hub.db"); /* every refusal names the file */
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
    sqlite3_finalize(self->st_exists);
    sqlite3_finalize(self->st_fetch);
    sqlite3_finalize(self->st_max);
    sqlite3_finalize(self->st_case_new);
    sqlite3_finalize(self->st_has_changes);
    sj_db_close(&self->db);
    free(self);
    *self_p = NULL;
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
s_check_event(void *ctx, const char *code, uint64_t link_seq, const sj_event_t *ev, char *reason,
              size_t rs)
{
    (void) ctx;
    if (strcmp(ev->origin, code) != 0) {
        snprintf(reason, rs, "station %s sent an event of origin %s", code, ev->origin);
        return SJ_EFORBIDDEN;
    }
    if (ev->origin_seq != link_seq) {
        snprintf(reason, rs, "origin_seq %" PRIu64 " does not match link seq %" PRIu64,
                 ev->origin_seq, link_seq);
        return SJ_EPROTO;
    }
    return SJ_OK;
}

/* ---- cases (issue 4) ----
 * The current outcome is recomputed from the report and every change the hub
 * holds, by the county's rule (county_store.c): replay in (created_ms,
 * origin, id) order; every valid change (prev_outcome -> new_outcome an
 * allowed transition) sets the outcome, so the latest valid change wins. */
static int
s_case_replay(hub_store_t *self, const uint8_t id[SJ_ID_BYTES])
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, "SELECT reported_outcome FROM cases WHERE id=?", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int cur = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW) {
        return step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "case report");
    }
    int64_t updated = -1;
    rc = sj_db_prepare(self->db,
                       "SELECT prev_outcome, new_outcome, created_ms FROM case_changes"
                       " WHERE case_id=? ORDER BY created_ms, origin, id",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int prev = sqlite3_column_int(st, 0), next = sqlite3_column_int(st, 1);
        if (sj_outcome_transition_ok(prev ? prev : cur, next)) {
            cur = next;
            updated = sqlite3_column_int64(st, 2);
        }
    }
    if (step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "case changes");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "UPDATE cases SET outcome=?1,"
                           " updated_ms=CASE WHEN ?2 >= 0 THEN ?2 ELSE updated_ms END WHERE id=?3",
                           &st);
    }
    if (rc == SJ_OK) {
        sqlite3_bind_int(st, 1, cur);
        sqlite3_bind_int64(st, 2, updated);
        sqlite3_bind_blob(st, 3, id, SJ_ID_BYTES, SQLITE_STATIC);
        rc = sj_db_step_done(self->db, st, "case outcome");
        sqlite3_finalize(st);
    }
    return rc;
}

/* After a new event is stored (hub_seq: its row): keeps cases current. */
static int
s_case_event(hub_store_t *self, const sj_event_t *ev, int64_t hub_seq)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (ev->type == SJ_EVENT_REPORT) {
        st = self->st_case_new;
        sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ev->origin, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, ev->report.outcome);
        sqlite3_bind_int64(st, 4, ev->created_ms);
        rc = sj_db_step_done(self->db, st, "case insert");
        if (rc != SJ_OK) {
            return rc;
        }
        /* Replay only when changes came before the report (rare): one
         * prepared lookup keeps the replay off the hot path. */
        sqlite3_bind_blob(self->st_has_changes, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
        int step = sqlite3_step(self->st_has_changes);
        sqlite3_reset(self->st_has_changes);
        sqlite3_clear_bindings(self->st_has_changes);
        if (step == SQLITE_DONE) {
            return SJ_OK;
        }
        return step == SQLITE_ROW ? s_case_replay(self, ev->id)
                                  : sj_db_err(self->db, step, "case changes lookup");
    }
    rc = sj_db_prepare(self->db,
                       "INSERT INTO case_changes(hub_seq, case_id, origin, id, created_ms,"
                       " prev_outcome, new_outcome) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                       " ON CONFLICT DO NOTHING",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, hub_seq);
    sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ev->origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ev->created_ms);
    sqlite3_bind_int(st, 6, ev->prev_outcome);
    sqlite3_bind_int(st, 7, ev->new_outcome);
    rc = sj_db_step_done(self->db, st, "case change insert");
    sqlite3_finalize(st);
    return rc == SJ_OK ? s_case_replay(self, ev->case_id) : rc;
}

static int
s_store_event(void *ctx, const char *code, const sj_event_t *ev, const uint8_t *raw, size_t len,
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
    int rc = sj_db_step_done(self->db, st, "events insert");
    if (rc != SJ_OK) {
        return rc;
    }
    if (sqlite3_changes(self->db) == 1) {
        *result = SJ_STORED_NEW;
        return s_case_event(self, ev, sqlite3_last_insert_rowid(self->db));
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
 * it. (The index on (origin, epoch, origin_seq) holds hub_seq as its rowid.) */
static int
s_e2e(void *ctx, const char *code, const uint8_t *epoch, uint64_t acked, uint64_t *e2e)
{
    hub_store_t *self = ctx;
    (void) acked;
    int64_t up = 0;
    *e2e = 0;
    int rc = sj_db_meta_get_int(self->db, "up_acked", &up);
    if (rc == SJ_ENOTFOUND) {
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(self->db,
                       "SELECT origin_seq FROM events WHERE origin=? AND epoch=? AND hub_seq<=?"
                       " ORDER BY origin_seq DESC LIMIT 1",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, up);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *e2e = (uint64_t) sqlite3_column_int64(st, 0);
    } else if (step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "e2e receipt");
    }
    sqlite3_finalize(st);
    return rc;
}

const sj_downlink_ops_t hub_store_downlink_ops = {
    .admit = s_admit, .check_event = s_check_event, .store_event = s_store_event,
    .committed = s_committed, .e2e = s_e2e};

/* ---- the hub's own status changes (township-hub update) ---- */

static int
s_update_tx(void *ctx, sj_event_t *ev, int *prev, char *reason, size_t rs)
{
    hub_store_t *self = ctx;
    char idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, "SELECT outcome FROM cases WHERE id=?", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int cur = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (step == SQLITE_DONE) {
        snprintf(reason, rs, "no case %s at township %s", idtext, self->code);
        return SJ_ENOTFOUND;
    }
    if (step != SQLITE_ROW) {
        return sj_db_err(self->db, step, "case outcome");
    }
    if (!sj_outcome_transition_ok(cur, ev->new_outcome)) {
        sj_outcome_transition_text(cur, ev->new_outcome, reason, rs);
        return SJ_EINVAL;
    }
    *prev = ev->prev_outcome = cur;
    int64_t seq = 0;
    rc = sj_db_meta_get_int(self->db, "own_seq", &seq);
    if (rc == SJ_ENOTFOUND) {
        memset(ev->prev_hash, 0, SJ_HASH_BYTES);
        seq = 0;
        rc = SJ_OK;
    } else if (rc == SJ_OK) {
        rc = sj_db_meta_get_blob(self->db, "own_hash", ev->prev_hash, SJ_HASH_BYTES);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    ev->type = SJ_EVENT_STATUS;
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", self->code);
    memcpy(ev->epoch, self->epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = (uint64_t) seq + 1;
    ev->created_ms = sj_now_ms();
    uint8_t *raw = NULL;
    size_t len = 0;
    rc = sj_event_encode(ev, &raw, &len);
    if (rc != SJ_OK) {
        return rc;
    }
    uint8_t hash[SJ_HASH_BYTES];
    sj_event_hash(raw, len, hash);
    sj_stored_t res = SJ_STORED_NEW;
    rc = s_store_event(self, self->code, ev, raw, len, &res);
    free(raw);
    if (rc == SJ_OK && res != SJ_STORED_NEW) {
        snprintf(reason, rs, "the hub's own stream is out of step with its events");
        return SJ_EDB;
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "own_seq", (int64_t) ev->origin_seq);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_blob(self->db, "own_hash", hash, SJ_HASH_BYTES);
    }
    return rc;
}

int
hub_store_update(hub_store_t *self, const uint8_t case_id[SJ_ID_BYTES], int outcome,
                 const char *note, const char *officer, int *prev, uint8_t ev_id[SJ_ID_BYTES],
                 char *reason, size_t reason_size)
{
    return sj_update_run(self->db, s_update_tx, self, case_id, outcome, note, officer, prev,
                         ev_id, reason, reason_size);
}

int
hub_store_cases(hub_store_t *self, int conflicts_only, sj_format_t fmt, FILE *out)
{
    /* A conflict at the hub: two changes of the case made from the same state. */
    static const char sql[] =
        "SELECT * FROM (SELECT c.id, c.origin, c.outcome,"
        "  (SELECT max(x.created_ms) FROM case_changes x WHERE x.case_id = c.id),"
        "  (SELECT count(*) FROM case_changes x WHERE x.case_id = c.id),"
        "  EXISTS(SELECT 1 FROM case_changes a JOIN case_changes b ON a.case_id = b.case_id"
        "   AND a.prev_outcome = b.prev_outcome AND a.hub_seq < b.hub_seq"
        "   WHERE a.case_id = c.id AND a.prev_outcome != 0) AS conflict"
        " FROM cases c) WHERE ?1 = 0 OR conflict ORDER BY 2, 1";
    static const char *const names[] = {"case_id", "station", "outcome", "last_change",
                                        "changes", "conflict"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                          SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT};
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return SJ_EDB;
    }
    sqlite3_bind_int(st, 1, conflicts_only ? 1 : 0);
    sj_table_t *t = sj_table_new(6, names, types);
    int rc = t ? SJ_OK : SJ_ENOMEM, step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[SJ_UUID_TEXT] = "", when[32] = "", n[24];
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
        const char *cells[] = {id,
                               (const char *) sqlite3_column_text(st, 1),
                               sj_enum_name(SJ_FIELD_OUTCOME, sqlite3_column_int(st, 2)),
                               when,
                               n,
                               sqlite3_column_int(st, 5) ? "yes" : ""};
        rc = sj_table_add_row(t, cells);
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "cases");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        rc = sj_table_write(t, fmt, out);
    }
    sj_table_destroy(&t);
    return rc;
}

/* ---- uplink: forwarding to the county ---- */

/* Records (durably, before any event is handed out) that the stream to the
 * county may be there through the current head: the offered mark that
 * s_diverged compares the county's mark with. */
static int
s_offer(hub_store_t *self)
{
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
s_fetch(void *ctx, uint64_t from, size_t max_events, size_t max_bytes,
        int (*add)(void *add_ctx, uint64_t seq, const void *raw, size_t len), void *add_ctx)
{
    hub_store_t *self = ctx;
    int rc = s_offer(self);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = self->st_fetch;
    sqlite3_bind_int64(st, 1, (sqlite3_int64) from);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) max_events);
    int step;
    size_t bytes = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = (size_t) sqlite3_column_bytes(st, 1);
        if (bytes && bytes + len > max_bytes) {
            break;
        }
        rc = add(add_ctx, (uint64_t) sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1), len);
        if (rc != SJ_OK) {
            break;
        }
        bytes += len;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "events fetch");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
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
                 " (trying again on the next connection)", sj_strerror(rc));
        return rc;
    }
    memcpy(self->link_epoch, epoch, SJ_EPOCH_BYTES);
    memcpy(new_epoch, epoch, SJ_EPOCH_BYTES);
    self->up_offered = 0;
    *moved = 1;
    sj_notice("hub store diverged from the county (restored from a backup?): the county holds %llu"
              " of its events, this store offered only %lld; sending all %lld again under a new"
              " link epoch", (unsigned long long) parent_mark, (long long) offered,
              (long long) head);
    return SJ_OK;
}

const sj_uplink_ops_t hub_store_uplink_ops = {
    .fetch = s_fetch, .head = s_head, .acked = s_acked, .diverged = s_diverged};

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
                              NULL) == SQLITE_OK) {
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
hub_store_status(hub_store_t *self, int64_t silent_s, sj_format_t fmt, FILE *out)
{
    int64_t now = sj_now_ms();
    s_queue_t q;
    if (s_queue(self, now, &q) != SJ_OK) {
        return SJ_EDB;
    }
    int64_t last = q.last, acked = q.acked, county_ms = q.county_ms, depth = q.depth;
    int64_t oldest_s = q.oldest_s;
    sqlite3_stmt *st = NULL;
    int64_t quarantined = s_scalar(self->db, "SELECT count(*) FROM quarantine", 0);
    static const char *const names[] = {"station", "status", "last_contact", "silent_s",
                                        "reports",  "quarantined", "backlog"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_INT};
    sj_table_t *t = sj_table_new(7, names, types);
    if (!t) {
        return SJ_ENOMEM;
    }
    /* One row per station (latest epoch's contact), silent ones first. */
    static const char sql[] =
        "SELECT l.code, max(l.last_contact_ms) AS lc,"
        " (SELECT count(*) FROM events e WHERE e.origin = l.code),"
        " (SELECT count(*) FROM quarantine q WHERE q.code = l.code),"
        " (SELECT queue_depth FROM links l2 WHERE l2.code = l.code ORDER BY last_contact_ms DESC"
        "  LIMIT 1)"
        " FROM links l GROUP BY l.code ORDER BY lc ASC, l.code";
    int rc = sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) == SQLITE_OK ? SJ_OK : SJ_EDB;
    while (rc == SJ_OK && sqlite3_step(st) == SQLITE_ROW) {
        int64_t lc = sqlite3_column_int64(st, 1);
        int64_t silent = (now - lc) / 1000;
        char when[32], silent_txt[24], reports[24], quar[24], backlog[24];
        time_t secs = (time_t) (lc / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(silent_txt, sizeof silent_txt, "%" PRId64, silent);
        snprintf(reports, sizeof reports, "%lld", sqlite3_column_int64(st, 2));
        snprintf(quar, sizeof quar, "%lld", sqlite3_column_int64(st, 3));
        snprintf(backlog, sizeof backlog, "%lld", sqlite3_column_int64(st, 4));
        const char *cells[] = {(const char *) sqlite3_column_text(st, 0),
                               silent >= silent_s ? "SILENT" : "ok",
                               when,
                               silent_txt,
                               reports,
                               quar,
                               backlog};
        rc = sj_table_add_row(t, cells);
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK && fmt == SJ_FMT_JSON) {
        cJSON *root = cJSON_CreateObject();
        cJSON *stations = sj_table_to_json(t);
        if (!root || !stations) {
            cJSON_Delete(root);
            cJSON_Delete(stations);
            rc = SJ_ENOMEM;
        } else {
            cJSON_AddStringToObject(root, "township", self->code);
            cJSON_AddNumberToObject(root, "queue_depth", (double) depth);
            cJSON_AddNumberToObject(root, "oldest_unforwarded_s", (double) oldest_s);
            cJSON_AddNumberToObject(root, "events", (double) last);
            cJSON_AddNumberToObject(root, "forwarded", (double) acked);
            cJSON_AddNumberToObject(root, "quarantined", (double) quarantined);
            cJSON_AddNumberToObject(root, "county_contact_age_s",
                                    county_ms ? (double) ((now - county_ms) / 1000) : -1.0);
            cJSON_AddItemToObject(root, "stations", stations);
            char *text = cJSON_PrintUnformatted(root);
            if (text) {
                fprintf(out, "%s\n", text);
                free(text);
            }
            cJSON_Delete(root);
        }
    } else if (rc == SJ_OK) {
        if (fmt == SJ_FMT_TABLE) {
            fprintf(out, "township %s: %" PRId64 " events, %" PRId64 " forwarded to the county,"
                         " queue depth %" PRId64 ", oldest unforwarded %" PRId64 " s,"
                         " %" PRId64 " quarantined\n",
                    self->code, last, acked, depth, oldest_s, quarantined);
            if (county_ms) {
                fprintf(out, "last county contact %" PRId64 " s ago\n", (now - county_ms) / 1000);
            } else {
                fprintf(out, "no county contact yet\n");
            }
            fprintf(out, "\n");
        }
        rc = sj_table_write(t, fmt, out);
    }
    sj_table_destroy(&t);
    return rc;
}

int
hub_store_check(hub_store_t *self, const sj_health_opts_t *o, sj_health_t *h)
{
    int64_t now = sj_now_ms();
    s_queue_t q;
    int n_stations = 0, n_silent = 0;
    if (s_queue(self, now, &q) != SJ_OK
        || sj_health_children(h, self->db, now, o->silent_s, &n_stations, &n_silent) != SJ_OK) {
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
