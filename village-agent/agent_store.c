/* agent_store: the station's outbox (see agent_store.h for the numbering and
 * the move to a new epoch when the store diverged from the hub). */
#include "agent_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_case.h"
#include "sj_clock_db.h"
#include "sj_down.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_periods_db.h"
#include "sj_places.h"

#define AGENT_APP_ID 0x534a4131 /* "SJA1" */

/* outbox: num is the report number (AUTOINCREMENT: never reused), (epoch, seq)
 * the link key. rejected is keyed by event id, so a rejection survives a
 * move to a new epoch. */
static const sj_migration_t s_migrations[] = {
    {1, "CREATE TABLE outbox(num INTEGER PRIMARY KEY AUTOINCREMENT, epoch BLOB NOT NULL,"
        " seq INTEGER NOT NULL, id BLOB NOT NULL UNIQUE, created_ms INTEGER NOT NULL,"
        " raw BLOB NOT NULL, hash BLOB NOT NULL, UNIQUE(epoch, seq));"
        "CREATE TABLE rejected(id BLOB PRIMARY KEY, code INTEGER NOT NULL,"
        " reason TEXT NOT NULL, at_ms INTEGER NOT NULL);"},
    /* The county's end-to-end receipt per epoch: rows with seq <= e2e_through
     * are committed at the county. */
    {2, "CREATE TABLE receipts(epoch BLOB PRIMARY KEY, e2e_through INTEGER NOT NULL);"},
    /* The inbox (issue 4): cases assigned to this station, one row per case
     * (its latest assignment by created_ms, then id) with the case as the
     * latest down item described it (as_of_ms: when the sender took that
     * snapshot; a refresh of the same assignment replaces it); item keeps
     * the exact bytes received. The downward cursor is meta down_cursor. */
    {3, "CREATE TABLE inbox(case_id BLOB PRIMARY KEY, assignment_id BLOB NOT NULL,"
        " assigned_by TEXT NOT NULL, assigned_ms INTEGER NOT NULL,"
        " due_on TEXT NOT NULL CHECK(length(due_on) = 10), note TEXT NOT NULL,"
        " officer TEXT NOT NULL, occurred_on TEXT NOT NULL, channel INTEGER NOT NULL,"
        " category INTEGER NOT NULL, kind INTEGER NOT NULL, persons INTEGER NOT NULL,"
        " summary TEXT NOT NULL, origin TEXT NOT NULL, outcome INTEGER NOT NULL,"
        " conflict INTEGER NOT NULL, item BLOB NOT NULL, as_of_ms INTEGER NOT NULL)"
        " WITHOUT ROWID;"},
    /* Pruning (agent_store_prune): the id of every case whose report or
     * status changes were pruned after the county's receipt, with the
     * case's outcome as of its last pruned entry (through_num), so that
     * `update` and the duplicate check of `submit`/`import` still know it.
     * (Version 3 is the inbox.) */
    {4, "CREATE TABLE pruned_cases(id BLOB PRIMARY KEY, outcome INTEGER NOT NULL,"
        " through_num INTEGER NOT NULL);"},
    /* Replay by cause (issue 12, docs/CASES.md): a change names the change
     * in force its author saw (prev_change). The station's is its own last
     * change of the case, or the head of the latest snapshot it received
     * after that change: inbox.head (the sender's change in force; empty =
     * none), inbox.after_num (the report number the outbox had reached when
     * the item was applied: a snapshot is later than the station's own
     * change numbered <= after_num), pruned_cases.last_change (the id of
     * the last pruned change of the case). Rows of older versions: their
     * snapshot counts as later than the station's changes created before
     * its as_of_ms, as the old rule compared. */
    {5, "ALTER TABLE inbox ADD COLUMN head BLOB;"
        "ALTER TABLE inbox ADD COLUMN after_num INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE pruned_cases ADD COLUMN last_change BLOB;"
        "UPDATE inbox SET after_num = max("
        " coalesce((SELECT max(num) FROM outbox o WHERE o.created_ms < inbox.as_of_ms), 0),"
        " coalesce((SELECT through_num FROM pruned_cases p WHERE p.id = inbox.case_id), 0));"},
    /* The officer's desk (issue 14): the assignments the officer has opened
     * on the page; any other assignment in the inbox is shown as new. Keyed
     * by the assignment, so a case assigned again is new again. */
    {6, "CREATE TABLE inbox_seen(assignment_id BLOB PRIMARY KEY, seen_ms INTEGER NOT NULL)"
        " WITHOUT ROWID;"},
    /* Issue 19: downward items refused (kept, acked past) and of a kind
     * this version does not know (kept, applied after an upgrade). */
    {7, SJ_DOWN_CHILD_SCHEMA_19},
    /* The officer's desk survives a restart of `serve` (issue 14): the key
     * of its CSRF tokens (renewed when old), the logged-in sessions (the
     * BLAKE2b of the id, never the id) and the form keys acted on, with the
     * redirect each answered; all expire. */
    {8, "CREATE TABLE desk_secret(id INTEGER PRIMARY KEY CHECK(id = 1), secret BLOB NOT NULL,"
        " made_ms INTEGER NOT NULL);"
        "CREATE TABLE desk_sessions(sid_hash BLOB PRIMARY KEY, since_ms INTEGER NOT NULL,"
        " seen_ms INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE desk_forms(form_key TEXT PRIMARY KEY, location TEXT NOT NULL,"
        " at_ms INTEGER NOT NULL) WITHOUT ROWID;"},
    /* Place names (issue 15 item 4, sj_places.h): this station's own, its
     * township's and its county's, as the hub sent them. */
    {9, SJ_PLACES_SCHEMA},
};

static int s_down_item(void *ctx,
                       uint64_t seq,
                       const sj_down_item_t *it,
                       const uint8_t *item,
                       size_t len,
                       char *reason,
                       size_t rs);

static const char s_sql_insert[] =
    "INSERT INTO outbox(epoch, seq, id, created_ms, raw, hash) VALUES(?, ?, ?, ?, ?, ?)";
/* Pruned reports stay known by id: importing a file again adds nothing. */
static const char s_sql_has_id[] =
    "SELECT 1 FROM outbox WHERE id=?1 UNION ALL SELECT 1 FROM pruned_cases WHERE id=?1";
static const char s_sql_fetch[] =
    "SELECT seq, raw FROM outbox WHERE epoch=? AND seq>=? ORDER BY seq LIMIT ?";
static const char s_sql_head[] = "SELECT coalesce(max(seq), 0) FROM outbox WHERE epoch=?";
/* Raises the offered mark, never lowers it, and only while the store is
 * still on this handle's epoch (another process may have moved it). */
static const char s_sql_offer[] =
    "UPDATE meta SET value=?1 WHERE key='offered_through' AND value<?1"
    " AND EXISTS(SELECT 1 FROM meta WHERE key='epoch' AND value=?2)";
static const char s_sql_link_row[] = "SELECT num, id FROM outbox WHERE epoch=? AND seq=?";
static const char s_sql_reject[] = "INSERT INTO rejected(id, code, reason, at_ms)"
                                   " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(id) DO NOTHING";

struct agent_store {
    sqlite3 *db;
    char station[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES]; /* the epoch this handle (and its uplink) works on */
    uint64_t offered;              /* offered_through last known for epoch (a cache) */
    sqlite3_stmt *st_insert;
    sqlite3_stmt *st_has_id;
    sqlite3_stmt *st_fetch;
    sqlite3_stmt *st_head;
    sqlite3_stmt *st_offer;
};

static int
s_init_identity(
    agent_store_t *self, const char *station, sj_db_mode_t mode, char *err, size_t err_size)
{
    int rc = sj_db_meta_get_text(self->db, "station", self->station, sizeof self->station);
    if (rc == SJ_ENOTFOUND && mode == SJ_DB_WRITE) {
        /* Look again inside the write transaction: two tools started at
         * once on a new store (run and submit) must not both make an epoch,
         * or one of them works on an epoch nobody else sees. */
        if (sj_db_begin(self->db) != SJ_OK) {
            snprintf(err, err_size, _("cannot initialise the store: %s"), sqlite3_errmsg(self->db));
            return SJ_EDB;
        }
        rc = sj_db_meta_get_text(self->db, "station", self->station, sizeof self->station);
        if (rc != SJ_ENOTFOUND) {
            sj_db_rollback(self->db);
        }
    }
    if (rc == SJ_ENOTFOUND) {
        if (mode == SJ_DB_READ) {
            snprintf(err, err_size, _("this store has no station yet"));
            return SJ_EINVAL;
        }
        if (!station || sj_code_level(station) != 12) {
            sj_db_rollback(self->db);
            snprintf(err, err_size,
                     _("a new station store needs --station with a 12-digit village code"));
            return SJ_EINVAL;
        }
        snprintf(self->station, sizeof self->station, "%s", station);
        sj_random16(self->epoch);
        uint8_t zero[SJ_HASH_BYTES] = {0};
        if (sj_db_meta_set_text(self->db, "station", self->station) != SJ_OK
            || sj_db_meta_set_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK
            || sj_db_meta_set_int(self->db, "last_seq", 0) != SJ_OK
            || sj_db_meta_set_blob(self->db, "last_hash", zero, SJ_HASH_BYTES) != SJ_OK
            || sj_db_meta_set_int(self->db, "acked_through", 0) != SJ_OK
            || sj_db_meta_set_int(self->db, "offered_through", 0) != SJ_OK
            || sj_db_commit(self->db) != SJ_OK) {
            sj_db_rollback(self->db);
            snprintf(err, err_size, _("cannot initialise the store: %s"), sqlite3_errmsg(self->db));
            return SJ_EDB;
        }
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        snprintf(err, err_size, _("cannot read the store: %s"), sqlite3_errmsg(self->db));
        return rc;
    }
    if (station && strcmp(station, self->station) != 0) {
        snprintf(err, err_size, _("this data directory belongs to station %s, not %s"),
                 self->station, station);
        return SJ_EINVAL;
    }
    int64_t offered = 0;
    if (sj_db_meta_get_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK
        || sj_db_meta_get_int(self->db, "offered_through", &offered) != SJ_OK || offered < 0) {
        snprintf(err, err_size, _("the store has no valid epoch (damaged?)"));
        return SJ_EDB;
    }
    self->offered = (uint64_t) offered;
    return SJ_OK;
}

agent_store_t *
agent_store_open(
    const char *dir, const char *station, sj_db_mode_t mode, char *err, size_t err_size)
{
    agent_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, _("out of memory"));
        return NULL;
    }
    /* 4 KiB pages, not the 16 KiB of hub and county: a station commits one
     * report per transaction, and every commit writes whole pages to the
     * WAL (and fsyncs): bigger pages would only write more to a village
     * machine's disk or SD card per report, for no CPU saved. */
    if (sj_db_open_paged(dir, "village-agent.db", AGENT_APP_ID, s_migrations,
                         sizeof s_migrations / sizeof s_migrations[0], mode, 4096, &self->db, err,
                         err_size)
        != SJ_OK) {
        goto fail;
    }
    if (s_init_identity(self, station, mode, err, err_size) != SJ_OK) {
        goto fail;
    }
    if (sj_db_prepare(self->db, s_sql_insert, &self->st_insert) != SJ_OK
        || sj_db_prepare(self->db, s_sql_has_id, &self->st_has_id) != SJ_OK
        || sj_db_prepare(self->db, s_sql_fetch, &self->st_fetch) != SJ_OK
        || sj_db_prepare(self->db, s_sql_head, &self->st_head) != SJ_OK
        || sj_db_prepare(self->db, s_sql_offer, &self->st_offer) != SJ_OK) {
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
    agent_store_close(&self);
    if (err_size && err[0]) {
        sj_db_name_in_error(err, err_size, dir,
                            "village-agent.db"); /* every refusal names the file */
    }
    return NULL;
}

void
agent_store_close(agent_store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    agent_store_t *self = *self_p;
    sqlite3_finalize(self->st_insert);
    sqlite3_finalize(self->st_has_id);
    sqlite3_finalize(self->st_fetch);
    sqlite3_finalize(self->st_head);
    sqlite3_finalize(self->st_offer);
    sj_db_close(&self->db);
    free(self);
    *self_p = NULL;
}

const char *
agent_store_station(const agent_store_t *self)
{
    return self->station;
}

const uint8_t *
agent_store_epoch(const agent_store_t *self)
{
    return self->epoch;
}

sqlite3 *
agent_store_db(agent_store_t *self)
{
    return self->db;
}

int
agent_store_begin(agent_store_t *self)
{
    return sj_db_begin(self->db);
}

int
agent_store_commit(agent_store_t *self)
{
    return sj_db_commit(self->db);
}

void
agent_store_rollback(agent_store_t *self)
{
    sj_db_rollback(self->db);
}

int
agent_store_add(agent_store_t *self, sj_event_t *ev, int *dup, uint64_t *num)
{
    *dup = 0;
    sqlite3_bind_blob(self->st_has_id, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(self->st_has_id);
    sqlite3_reset(self->st_has_id);
    sqlite3_clear_bindings(self->st_has_id);
    if (step == SQLITE_ROW) {
        *dup = 1;
        return SJ_OK;
    }
    if (step != SQLITE_DONE) {
        return sj_db_err(self->db, step, "outbox id lookup");
    }
    /* The epoch is read inside the caller's write transaction, together with
     * last_seq and last_hash: another process may have moved the store to a
     * new epoch since this handle was opened. */
    int64_t last = 0;
    int rc = sj_db_meta_get_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES);
    if (rc == SJ_OK) {
        rc = sj_db_meta_get_int(self->db, "last_seq", &last);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_get_blob(self->db, "last_hash", ev->prev_hash, SJ_HASH_BYTES);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    snprintf(ev->origin, sizeof ev->origin, "%s", self->station);
    memcpy(ev->epoch, self->epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = (uint64_t) last + 1;
    ev->created_ms = sj_event_now_ms();
    uint8_t *raw = NULL;
    size_t len = 0;
    rc = sj_event_encode(ev, &raw, &len);
    if (rc != SJ_OK) {
        return rc;
    }
    uint8_t hash[SJ_HASH_BYTES];
    sj_event_hash(raw, len, hash);
    sqlite3_stmt *st = self->st_insert;
    sqlite3_bind_blob(st, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) ev->origin_seq);
    sqlite3_bind_blob(st, 3, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ev->created_ms);
    sqlite3_bind_blob(st, 5, raw, (int) len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, hash, SJ_HASH_BYTES, SQLITE_STATIC);
    rc = sj_db_step_done(self->db, st, "outbox insert");
    sqlite3_clear_bindings(st);
    free(raw);
    if (rc == SJ_OK && num) {
        *num = (uint64_t) sqlite3_last_insert_rowid(self->db);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "last_seq", (int64_t) ev->origin_seq);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_blob(self->db, "last_hash", hash, SJ_HASH_BYTES);
    }
    return rc;
}

/* ---- status changes (issue 4) ---- */

int
agent_store_case_state(agent_store_t *self,
                       const uint8_t id[SJ_ID_BYTES],
                       int *outcome,
                       uint8_t head[SJ_ID_BYTES],
                       int *has_head)
{
    /* The outbox is small (one station's reports): every row is decoded, in
     * report-number order, so the last change for the case wins. A case
     * whose entries were pruned starts from the outcome (and the last
     * change) recorded then, and only the entries after the last pruned one
     * are replayed. */
    int found = 0, cur = 0, step, own_head = 0;
    int64_t after = 0;
    int64_t own_num = 0; /* the report number of the station's last change (0: none) */
    uint8_t own[SJ_ID_BYTES] = {0};
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(
        self->db, "SELECT outcome, through_num, last_change FROM pruned_cases WHERE id=?", &st);
    if (rc == SJ_OK) {
        rc = sj_db_bind_check(self->db, sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC),
                              "pruned case lookup");
    }
    if (rc != SJ_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        found = 1;
        cur = sqlite3_column_int(st, 0);
        after = sqlite3_column_int64(st, 1);
        if (sqlite3_column_bytes(st, 2) == SJ_ID_BYTES) {
            own_head = 1;
            own_num = after;
            memcpy(own, sqlite3_column_blob(st, 2), SJ_ID_BYTES);
        }
    } else if (step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "pruned case lookup");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_prepare(self->db, "SELECT num, raw FROM outbox WHERE num > ? ORDER BY num", &st);
    if (rc == SJ_OK) {
        rc = sj_db_bind_check(self->db, sqlite3_bind_int64(st, 1, after), "outbox case lookup");
    }
    sj_event_t *ev = rc == SJ_OK ? malloc(sizeof *ev) : NULL;
    if (rc != SJ_OK || !ev) {
        sqlite3_finalize(st);
        return rc != SJ_OK ? rc : SJ_ENOMEM;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char why[256];
        if (sj_event_decode(sqlite3_column_blob(st, 1), (size_t) sqlite3_column_bytes(st, 1), ev,
                            why, sizeof why)
            != SJ_OK) {
            continue;
        }
        if (ev->type == SJ_EVENT_REPORT && memcmp(ev->id, id, SJ_ID_BYTES) == 0) {
            found = 1;
            if (!cur) {
                cur = ev->report.outcome;
            }
        } else if (ev->type == SJ_EVENT_STATUS && memcmp(ev->case_id, id, SJ_ID_BYTES) == 0) {
            cur = ev->new_outcome;
            own_head = 1;
            own_num = sqlite3_column_int64(st, 0);
            memcpy(own, ev->id, SJ_ID_BYTES);
        }
    }
    if (step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "outbox case lookup");
    }
    free(ev);
    sqlite3_finalize(st);
    *has_head = own_head;
    memcpy(head, own, SJ_ID_BYTES);
    if (rc == SJ_OK) {
        /* A case assigned to this station (inbox): the sender's state as
         * the latest item said, when it came after the station's own last
         * change of the case (docs/CASES.md: the station's view). */
        sqlite3_stmt *in = NULL;
        rc = sj_db_prepare(self->db, "SELECT outcome, after_num, head FROM inbox WHERE case_id=?",
                           &in);
        if (rc == SJ_OK) {
            rc =
                sj_db_bind_check(self->db, sqlite3_bind_blob(in, 1, id, SJ_ID_BYTES, SQLITE_STATIC),
                                 "inbox case lookup");
        }
        step = rc == SJ_OK ? sqlite3_step(in) : SQLITE_DONE;
        if (step == SQLITE_ROW) {
            if (sqlite3_column_int64(in, 1) >= own_num) {
                cur = sqlite3_column_int(in, 0);
                *has_head = sqlite3_column_bytes(in, 2) == SJ_ID_BYTES;
                memset(head, 0, SJ_ID_BYTES);
                if (*has_head) {
                    memcpy(head, sqlite3_column_blob(in, 2), SJ_ID_BYTES);
                }
            }
            found = 1;
        } else if (rc == SJ_OK && step != SQLITE_DONE) {
            rc = sj_db_err(self->db, step, "inbox case lookup");
        }
        sqlite3_finalize(in);
    }
    if (rc == SJ_OK && !found) {
        rc = SJ_ENOTFOUND;
    }
    if (rc == SJ_OK) {
        *outcome = cur;
    }
    return rc;
}

int
agent_store_case_outcome(agent_store_t *self, const uint8_t id[SJ_ID_BYTES], int *outcome)
{
    uint8_t head[SJ_ID_BYTES];
    int has_head = 0;
    return agent_store_case_state(self, id, outcome, head, &has_head);
}

int
agent_store_update(agent_store_t *self,
                   sj_event_t *ev,
                   uint64_t *num,
                   sj_update_result_t *res,
                   char *reason,
                   size_t reason_size)
{
    char idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    memset(res, 0, sizeof *res);
    int cur = 0;
    int rc = agent_store_case_state(self, ev->case_id, &cur, ev->prev_change, &ev->has_prev_change);
    if (rc == SJ_ENOTFOUND) {
        snprintf(reason, reason_size, "no report %s in this station's outbox or inbox", idtext);
        return rc;
    }
    if (rc != SJ_OK) {
        snprintf(reason, reason_size, "cannot read the outbox: %s", sj_strerror(rc));
        return rc;
    }
    if (!sj_outcome_transition_ok(cur, ev->new_outcome)) {
        sj_outcome_transition_text(cur, ev->new_outcome, reason, reason_size);
        return SJ_EINVAL;
    }
    ev->type = SJ_EVENT_STATUS;
    ev->prev_outcome = res->prev = cur;
    sj_uuid7_new(ev->id);
    int dup = 0;
    rc = agent_store_add(self, ev, &dup, num);
    if (rc == SJ_OK && dup) {
        rc = SJ_EINVAL; /* a fresh UUIDv7 never collides */
    }
    /* In force here now: the station's own view (the hub and the county
     * decide for the county's record; their conflicts list says so). */
    uint8_t head[SJ_ID_BYTES];
    int has_head = 0;
    if (rc == SJ_OK) {
        rc = agent_store_case_state(self, ev->case_id, &res->now, head, &has_head);
    }
    if (rc == SJ_OK) {
        memcpy(res->ev_id, ev->id, SJ_ID_BYTES);
        res->took_effect = has_head && memcmp(head, ev->id, SJ_ID_BYTES) == 0;
    } else {
        snprintf(reason, reason_size, "the change was NOT stored: %s", sj_strerror(rc));
    }
    return rc;
}

/* An integer meta value that may be absent (0 then). */
static int
s_meta_int0(agent_store_t *self, const char *key, int64_t *out)
{
    int rc = sj_db_meta_get_int(self->db, key, out);
    if (rc == SJ_ENOTFOUND) {
        *out = 0;
        rc = SJ_OK;
    }
    if (rc == SJ_OK && *out < 0) {
        *out = 0;
    }
    return rc;
}

/* The county's receipt for an epoch (0: none yet). */
static int
s_receipt_of(agent_store_t *self, const uint8_t epoch[SJ_EPOCH_BYTES], int64_t *e2e)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, "SELECT e2e_through FROM receipts WHERE epoch=?", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *e2e = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "receipt lookup");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- moving to a new epoch ---- */

/* Report numbers of the rows of the current epoch after seq `after`, in seq
 * order (collected first: the rows are rewritten while they are walked). */
static int
s_unconfirmed(agent_store_t *self, uint64_t after, int64_t **nums_p, size_t *n_p)
{
    sqlite3_stmt *st = NULL;
    int64_t *nums = NULL;
    size_t n = 0, cap = 0;
    int rc =
        sj_db_prepare(self->db, "SELECT num FROM outbox WHERE epoch=? AND seq>? ORDER BY seq", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) after);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *grown = realloc(nums, cap * sizeof *nums);
            if (!grown) {
                rc = SJ_ENOMEM;
                break;
            }
            nums = grown;
        }
        nums[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "outbox unconfirmed");
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        free(nums);
        return rc;
    }
    *nums_p = nums;
    *n_p = n;
    return SJ_OK;
}

/* Rewrites row `num` as event `seq` of `epoch` chained to *prev (updated to
 * the new hash). *unreadable is set (nothing rewritten) when the stored
 * bytes cannot be decoded: the row is then recorded as rejected here. */
static int
s_rekey_row(agent_store_t *self,
            sqlite3_stmt *get,
            sqlite3_stmt *put,
            sqlite3_stmt *rej,
            int64_t num,
            const uint8_t epoch[SJ_EPOCH_BYTES],
            uint64_t seq,
            uint8_t prev[SJ_HASH_BYTES],
            sj_event_t *ev,
            int *unreadable)
{
    *unreadable = 0;
    sqlite3_bind_int64(get, 1, num);
    int step = sqlite3_step(get);
    if (step != SQLITE_ROW) {
        int rc = SJ_EDB;
        if (step == SQLITE_DONE) {
            sj_error("outbox row %lld vanished while moving to a new epoch", (long long) num);
        } else {
            rc = sj_db_err(self->db, step, "outbox row");
        }
        sqlite3_reset(get);
        return rc;
    }
    char why[256] = "";
    int rc = sj_event_decode(sqlite3_column_blob(get, 1), (size_t) sqlite3_column_bytes(get, 1), ev,
                             why, sizeof why);
    if (rc != SJ_OK) {
        char reason[400];
        snprintf(reason, sizeof reason,
                 "cannot be read here (%s), so it was not sent again after the store moved to a"
                 " new epoch",
                 why);
        sj_warn("report %lld %s", (long long) num, reason);
        *unreadable = 1;
        sqlite3_bind_int(rej, 1, SANJI__ERROR_CODE__ERROR_INVALID_EVENT);
        sqlite3_bind_text(rej, 2, reason, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(rej, 3, sj_now_ms());
        sqlite3_bind_blob(rej, 4, sqlite3_column_blob(get, 0), sqlite3_column_bytes(get, 0),
                          SQLITE_TRANSIENT);
        sqlite3_reset(get);
        rc = sj_db_step_done(self->db, rej, "rejected insert");
        sqlite3_clear_bindings(rej);
        return rc;
    }
    sqlite3_reset(get);
    memcpy(ev->epoch, epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = seq;
    memcpy(ev->prev_hash, prev, SJ_HASH_BYTES);
    uint8_t *raw = NULL;
    size_t len = 0;
    rc = sj_event_encode(ev, &raw, &len);
    if (rc != SJ_OK) {
        sj_error("report %lld cannot be encoded again: %s", (long long) num, sj_strerror(rc));
        return rc;
    }
    sj_event_hash(raw, len, prev);
    sqlite3_bind_blob(put, 1, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(put, 2, (sqlite3_int64) seq);
    sqlite3_bind_blob(put, 3, raw, (int) len, SQLITE_STATIC);
    sqlite3_bind_blob(put, 4, prev, SJ_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(put, 5, num);
    rc = sj_db_step_done(self->db, put, "outbox rekey");
    sqlite3_clear_bindings(put);
    free(raw);
    return rc;
}

/* Inside the open transaction: moves the rows of the current epoch after seq
 * `after` to a new epoch and makes it the store's. *n_moved: rows moved. */
static int
s_move_to_new_epoch(agent_store_t *self,
                    uint64_t after,
                    uint8_t epoch[SJ_EPOCH_BYTES],
                    size_t *n_moved)
{
    int64_t *nums = NULL;
    size_t n = 0, moved = 0;
    sqlite3_stmt *get = NULL, *put = NULL, *rej = NULL;
    sj_event_t *ev = NULL;
    uint8_t prev[SJ_HASH_BYTES] = {0};
    int rc = s_unconfirmed(self, after, &nums, &n);
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db, "SELECT id, raw FROM outbox WHERE num=?", &get);
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db, "UPDATE outbox SET epoch=?, seq=?, raw=?, hash=? WHERE num=?",
                           &put);
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO rejected(id, code, reason, at_ms) VALUES(?4, ?1, ?2, ?3)"
                           " ON CONFLICT(id) DO NOTHING",
                           &rej);
    }
    if (rc == SJ_OK && !(ev = malloc(sizeof *ev))) {
        rc = SJ_ENOMEM;
    }
    sj_random16(epoch);
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        int unreadable = 0;
        rc = s_rekey_row(self, get, put, rej, nums[i], epoch, moved + 1, prev, ev, &unreadable);
        if (rc == SJ_OK && !unreadable) {
            moved++;
        }
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_blob(self->db, "epoch", epoch, SJ_EPOCH_BYTES);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "last_seq", (int64_t) moved);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_blob(self->db, "last_hash", prev, SJ_HASH_BYTES);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "acked_through", 0);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "offered_through", 0);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "pruned_through", 0); /* nothing of the new one */
    }
    free(ev);
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    sqlite3_finalize(rej);
    free(nums);
    *n_moved = moved;
    return rc;
}

int
agent_store_diverged(agent_store_t *self,
                     uint64_t parent_mark,
                     int *moved,
                     uint8_t new_epoch[SJ_EPOCH_BYTES])
{
    *moved = 0;
    uint8_t cur[SJ_EPOCH_BYTES];
    int64_t offered = 0, acked = 0, pruned = 0;
    /* Usually (a lost ack, or nothing new) the mark is within what was
     * offered and above what was pruned: no lock. */
    int rc = sj_db_meta_get_blob(self->db, "epoch", cur, SJ_EPOCH_BYTES);
    if (rc == SJ_OK) {
        rc = sj_db_meta_get_int(self->db, "offered_through", &offered);
    }
    if (rc == SJ_OK) {
        rc = s_meta_int0(self, "pruned_through", &pruned);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    if (memcmp(cur, self->epoch, SJ_EPOCH_BYTES) == 0 && parent_mark <= (uint64_t) offered
        && parent_mark >= (uint64_t) pruned) {
        return SJ_OK;
    }
    rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_meta_get_blob(self->db, "epoch", cur, SJ_EPOCH_BYTES);
    if (rc == SJ_OK) {
        rc = sj_db_meta_get_int(self->db, "offered_through", &offered);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_get_int(self->db, "acked_through", &acked);
    }
    if (rc == SJ_OK) {
        rc = s_meta_int0(self, "pruned_through", &pruned);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        return rc;
    }
    if (memcmp(cur, self->epoch, SJ_EPOCH_BYTES) != 0) {
        /* Another process (a second uplink) already moved the store. */
        sj_db_rollback(self->db);
        memcpy(self->epoch, cur, SJ_EPOCH_BYTES);
        memcpy(new_epoch, cur, SJ_EPOCH_BYTES);
        self->offered = (uint64_t) offered;
        *moved = 1;
        return SJ_OK;
    }
    /* The hub lacks seq pruned_through, which only the county still has. */
    int forgot = parent_mark < (uint64_t) pruned;
    if (parent_mark <= (uint64_t) offered && !forgot) {
        sj_db_rollback(self->db);
        return SJ_OK;
    }
    /* The hub holds seqs this copy never offered: they name other events
     * (made after this copy was taken). Rows up to the offered mark are the
     * same bytes the hub holds (they existed when the mark was recorded, so
     * also in any copy that has the mark), so only the rows after it are
     * moved; acked_through can only be lower. */
    uint64_t after = (uint64_t) (offered > acked ? offered : acked);
    if (forgot) {
        /* The hub lost events (restored from an old backup) that this store
         * pruned after the county's receipt: they cannot be sent again, and
         * the hub would ask for them forever. The county has every entry up
         * to its receipt, so those stay where they are; the rest move to a
         * new epoch and are sent from there (one the county may also have
         * is acked as a duplicate, counted once). */
        int64_t e2e = 0;
        rc = s_receipt_of(self, cur, &e2e);
        if (rc != SJ_OK) {
            sj_db_rollback(self->db);
            return rc;
        }
        after = (uint64_t) e2e > parent_mark ? (uint64_t) e2e : parent_mark;
    }
    uint8_t epoch[SJ_EPOCH_BYTES];
    size_t n = 0;
    rc = s_move_to_new_epoch(self, after, epoch, &n);
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        sj_error("store diverged from the hub, but its reports could not be moved to a new epoch:"
                 " %s (nothing changed; trying again on the next connection)",
                 sj_strerror(rc));
        return rc;
    }
    memcpy(self->epoch, epoch, SJ_EPOCH_BYTES);
    memcpy(new_epoch, epoch, SJ_EPOCH_BYTES);
    self->offered = 0;
    *moved = 1;
    if (forgot) {
        sj_notice("the hub holds only %llu of this stream, and reports up to %lld were pruned here"
                  " after the county's receipt (hub restored from a backup?): %zu reports not yet"
                  " at the county moved to a new epoch",
                  (unsigned long long) parent_mark, (long long) pruned, n);
    } else {
        sj_notice("store diverged from the hub (restored from a backup?): %zu unconfirmed reports"
                  " moved to a new epoch",
                  n);
    }
    sj_info("the hub holds %llu events of the old epoch, this store offered %lld",
            (unsigned long long) parent_mark, (long long) offered);
    return SJ_OK;
}

/* ---- uplink callbacks ---- */

static int
s_head(void *ctx, uint64_t *last)
{
    agent_store_t *self = ctx;
    sqlite3_stmt *st = self->st_head;
    sqlite3_bind_blob(st, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = SJ_OK;
    if (step == SQLITE_ROW) {
        *last = (uint64_t) sqlite3_column_int64(st, 0);
    } else {
        rc = sj_db_err(self->db, step, "outbox head");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Records (durably, before any event is handed out) that the stream may be
 * at the hub through its head: the offered mark ops.diverged compares with. */
static int
s_offer(agent_store_t *self)
{
    uint64_t head = 0;
    int rc = s_head(self, &head);
    if (rc != SJ_OK || head <= self->offered) {
        return rc;
    }
    sqlite3_stmt *st = self->st_offer;
    sqlite3_bind_int64(st, 1, (sqlite3_int64) head);
    sqlite3_bind_blob(st, 2, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    rc = sj_db_step_done(self->db, st, "offered mark");
    sqlite3_clear_bindings(st);
    if (rc == SJ_OK) {
        self->offered = head;
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
    agent_store_t *self = ctx;
    int rc = s_offer(self);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = self->st_fetch;
    sqlite3_bind_blob(st, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) from);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) max_events);
    return sj_db_fetch_seq_blobs(self->db, st, max_bytes, add, add_ctx, "outbox fetch");
}

static int
s_acked(void *ctx, uint64_t acked, Sanji__Rejection **rej, size_t n_rej)
{
    agent_store_t *self = ctx;
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_meta_set_int(self->db, "acked_through", (int64_t) acked);
    /* A rejection names a link seq of this epoch; it is kept by event id. */
    sqlite3_stmt *get = NULL, *st = NULL;
    if (rc == SJ_OK && n_rej) {
        rc = sj_db_prepare(self->db, s_sql_link_row, &get);
    }
    if (rc == SJ_OK && n_rej) {
        rc = sj_db_prepare(self->db, s_sql_reject, &st);
    }
    for (size_t i = 0; rc == SJ_OK && i < n_rej; i++) {
        char reason[300];
        if (sj_wire_text(rej[i]->reason, reason, sizeof reason) != SJ_OK) {
            snprintf(reason, sizeof reason, "(unreadable reason)");
        }
        sqlite3_bind_blob(get, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(get, 2, (sqlite3_int64) rej[i]->seq);
        int step = sqlite3_step(get);
        if (step != SQLITE_ROW) {
            if (step == SQLITE_DONE) {
                sj_warn("the hub rejected seq %llu, which this store does not hold: %s",
                        (unsigned long long) rej[i]->seq, reason);
            } else {
                rc = sj_db_err(self->db, step, "outbox link row");
            }
            sqlite3_reset(get);
            continue;
        }
        long long num = sqlite3_column_int64(get, 0);
        sqlite3_bind_blob(st, 1, sqlite3_column_blob(get, 1), sqlite3_column_bytes(get, 1),
                          SQLITE_TRANSIENT);
        sqlite3_reset(get);
        sqlite3_bind_int(st, 2, (int) rej[i]->code);
        sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, sj_now_ms());
        rc = sj_db_step_done(self->db, st, "rejected insert");
        if (rc == SJ_OK && sqlite3_changes(self->db) == 1) {
            sj_warn("report %lld was rejected by the hub: %s", num, reason);
        }
    }
    sqlite3_finalize(get);
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
    }
    return rc;
}

static int
s_diverged(void *ctx, uint64_t parent_mark, int *moved, uint8_t new_epoch[SJ_EPOCH_BYTES])
{
    return agent_store_diverged(ctx, parent_mark, moved, new_epoch);
}

static int
s_receipt(void *ctx, uint64_t e2e)
{
    agent_store_t *self = ctx;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "INSERT INTO receipts(epoch, e2e_through) VALUES(?1, ?2)"
                           " ON CONFLICT(epoch) DO UPDATE SET e2e_through = excluded.e2e_through"
                           " WHERE excluded.e2e_through > e2e_through",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) e2e);
    rc = sj_db_step_done(self->db, st, "receipt");
    sqlite3_finalize(st);
    return rc;
}

/* ---- the downward stream: the inbox ---- */

static int
s_down_cursor(void *ctx, uint64_t *cursor)
{
    return sj_down_cursor(((agent_store_t *) ctx)->db, cursor);
}

/* One item from the hub: an assignment to this station, kept in the inbox
 * (a case's newer assignment replaces an older one; the same one again
 * changes nothing). */
static int
s_down_item(void *ctx,
            uint64_t seq,
            const sj_down_item_t *it,
            const uint8_t *item,
            size_t len,
            char *reason,
            size_t rs)
{
    agent_store_t *self = ctx;
    if (!it) {
        return SJ_OK; /* a kind this version does not know: kept by sj_down_apply */
    }
    if (it->kind == SJ_DOWN_KIND_PLACES) {
        if (it->to[0] && strcmp(it->to, self->station) != 0) {
            snprintf(reason, rs, "item %llu holds place names for %s, not for this station %s",
                     (unsigned long long) seq, it->to, self->station);
            return SJ_EPROTO;
        }
        return sj_places_store(self->db, it->places, it->n_places, sj_now_ms(), NULL);
    }
    if (it->kind == SJ_DOWN_KIND_PERIODS) {
        /* issue 16: the county's periods, for the inbox's clock */
        if (it->to[0] && strcmp(it->to, self->station) != 0) {
            snprintf(reason, rs, "item %llu holds periods for %s, not for this station %s",
                     (unsigned long long) seq, it->to, self->station);
            return SJ_EPROTO;
        }
        return sj_periods_db_set(self->db, &it->periods, NULL);
    }
    const sj_event_t *ev = &it->ev;
    if (strcmp(ev->assignee, self->station) != 0) {
        snprintf(reason, rs, "item %llu is an assignment to %s, not to this station %s",
                 (unsigned long long) seq, ev->assignee, self->station);
        return SJ_EPROTO;
    }
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(
        self->db,
        "INSERT INTO inbox(case_id, assignment_id, assigned_by, assigned_ms, due_on, note, officer,"
        " occurred_on, channel, category, kind, persons, summary, origin, outcome, conflict, item,"
        " as_of_ms, head, after_num) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
        "?16,?17,?18,?19,coalesce((SELECT seq FROM sqlite_sequence WHERE name='outbox'), 0))"
        " ON CONFLICT(case_id) DO UPDATE SET assignment_id=excluded.assignment_id,"
        " assigned_by=excluded.assigned_by, assigned_ms=excluded.assigned_ms,"
        " due_on=excluded.due_on, note=excluded.note, officer=excluded.officer,"
        " occurred_on=excluded.occurred_on, channel=excluded.channel,"
        " category=excluded.category, kind=excluded.kind, persons=excluded.persons,"
        " summary=excluded.summary, origin=excluded.origin, outcome=excluded.outcome,"
        " conflict=excluded.conflict, item=excluded.item, as_of_ms=excluded.as_of_ms,"
        " head=excluded.head, after_num=excluded.after_num"
        " WHERE excluded.assigned_ms > inbox.assigned_ms OR (excluded.assigned_ms ="
        " inbox.assigned_ms AND excluded.assignment_id > inbox.assignment_id)"
        " OR (excluded.assignment_id = inbox.assignment_id AND excluded.item != inbox.item)",
        &st);
    if (rc != SJ_OK) {
        return rc;
    }
    const sj_snapshot_t *c = &it->snap;
    static const uint8_t none[1] = {0}; /* the sender has no change in force: empty */
    rc = sj_db_bind_check(
        self->db,
        sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
            | sqlite3_bind_blob(st, 2, ev->id, SJ_ID_BYTES, SQLITE_STATIC)
            | sqlite3_bind_text(st, 3, ev->origin, -1, SQLITE_STATIC)
            | sqlite3_bind_int64(st, 4, ev->created_ms)
            | sqlite3_bind_text(st, 5, ev->due_on, -1, SQLITE_STATIC)
            | sqlite3_bind_text(st, 6, ev->note, -1, SQLITE_STATIC)
            | sqlite3_bind_text(st, 7, ev->officer, -1, SQLITE_STATIC)
            | sqlite3_bind_text(st, 8, c->occurred_on, -1, SQLITE_STATIC)
            | sqlite3_bind_int(st, 9, c->channel) | sqlite3_bind_int(st, 10, c->category)
            | sqlite3_bind_int(st, 11, c->kind) | sqlite3_bind_int64(st, 12, c->persons)
            | sqlite3_bind_text(st, 13, c->summary, -1, SQLITE_STATIC)
            | sqlite3_bind_text(st, 14, c->origin, -1, SQLITE_STATIC)
            | sqlite3_bind_int(st, 15, c->outcome) | sqlite3_bind_int(st, 16, c->conflict)
            | sqlite3_bind_blob(st, 17, item, (int) len, SQLITE_STATIC)
            | sqlite3_bind_int64(st, 18, c->as_of_ms ? c->as_of_ms : sj_now_ms())
            | sqlite3_bind_blob(st, 19, c->has_head ? c->head : none, c->has_head ? SJ_ID_BYTES : 0,
                                SQLITE_STATIC),
        "inbox upsert");
    if (rc != SJ_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    rc = sj_db_step_done(self->db, st, "inbox upsert");
    sqlite3_finalize(st);
    return rc;
}

static int
s_down_parent(void *ctx, const uint8_t epoch[SJ_EPOCH_BYTES], int keep, int *reset)
{
    return sj_down_parent(((agent_store_t *) ctx)->db, epoch, keep, reset);
}

static int
s_down_skip(void *ctx, uint64_t from, uint64_t to)
{
    return sj_down_skip(((agent_store_t *) ctx)->db, from, to);
}

static int
s_down_counted(void *ctx, uint8_t epoch[SJ_EPOCH_BYTES])
{
    return sj_down_counted(((agent_store_t *) ctx)->db, epoch);
}

static int
s_down_refusals(void *ctx, sj_down_refusal_t *out, size_t max, size_t *n)
{
    return sj_down_refusals_latest(((agent_store_t *) ctx)->db, out, max, n);
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
    agent_store_t *self = ctx;
    uint64_t before = 0;
    if (sj_down_cursor(self->db, &before) != SJ_OK) {
        before = 0;
    }
    int rc = sj_down_apply(self->db, first_seq, items, n, s_down_item, self, cursor, reason, rs);
    if (rc == SJ_OK && *cursor > before) {
        sj_notice("%llu new assignment item(s) in the inbox (see 'village-agent inbox')",
                  (unsigned long long) (*cursor - before));
    }
    return rc;
}

const sj_uplink_ops_t agent_store_uplink_ops = {.fetch = s_fetch,
                                                .head = s_head,
                                                .acked = s_acked,
                                                .diverged = s_diverged,
                                                .receipt = s_receipt,
                                                .down_cursor = s_down_cursor,
                                                .down_apply = s_down_apply,
                                                .down_parent = s_down_parent,
                                                .down_refusals = s_down_refusals,
                                                .down_counted = s_down_counted,
                                                .down_skip = s_down_skip};

const char *
agent_state_name(agent_state_t s)
{
    switch (s) {
    case AGENT_QUEUED:
        return N_("queued");
    case AGENT_AT_HUB:
        return N_("at-hub");
    case AGENT_REJECTED:
        return N_("rejected");
    case AGENT_AT_COUNTY:
        return N_("at-county");
    }
    return "?";
}

static int
s_acked_through(agent_store_t *self, int64_t *acked)
{
    int rc = sj_db_meta_get_int(self->db, "acked_through", acked);
    if (rc == SJ_OK && *acked < 0) {
        *acked = 0;
    }
    return rc;
}

/* This station's own corrections and voids (issue 15), gathered before the
 * outbox is listed: the report rows show what they set. */
typedef struct {
    uint8_t case_id[SJ_ID_BYTES];
    sj_event_t *fix; /* the merged new values (report fields, summary) */
    int voided;
} s_fix_t;

static void
s_fixes_free(s_fix_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].fix);
    }
    free(v);
}

static int
s_fixes_gather(agent_store_t *self, sj_event_t *ev, s_fix_t **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, "SELECT raw FROM outbox ORDER BY num", &st);
    s_fix_t *v = NULL;
    size_t n = 0, cap = 0;
    int step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char why[200];
        if (sj_event_decode(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), ev,
                            why, sizeof why)
                != SJ_OK
            || (ev->type != SJ_EVENT_CORRECTION && ev->type != SJ_EVENT_VOID)) {
            continue;
        }
        size_t i = 0;
        while (i < n && memcmp(v[i].case_id, ev->case_id, SJ_ID_BYTES) != 0) {
            i++;
        }
        if (i == n) {
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                s_fix_t *w = realloc(v, cap * sizeof *v);
                if (!w) {
                    rc = SJ_ENOMEM;
                    break;
                }
                v = w;
            }
            memset(&v[n], 0, sizeof v[n]);
            memcpy(v[n].case_id, ev->case_id, SJ_ID_BYTES);
            if (!(v[n].fix = calloc(1, sizeof *v[n].fix))) {
                rc = SJ_ENOMEM;
                break;
            }
            n++;
        }
        if (ev->type == SJ_EVENT_VOID) {
            v[i].voided = 1;
            continue;
        }
        sj_report_t *m = &v[i].fix->report;
        const sj_report_t *r = &ev->report;
        if (r->occurred_on[0]) {
            memcpy(m->occurred_on, r->occurred_on, sizeof m->occurred_on);
        }
        m->channel = r->channel ? r->channel : m->channel;
        m->kind = r->kind ? r->kind : m->kind;
        m->persons = r->persons ? r->persons : m->persons;
        m->level = r->level ? r->level : m->level;
        m->category = r->category ? r->category : m->category;
        m->source = r->source ? r->source : m->source;
        if (ev->summary[0]) {
            memcpy(v[i].fix->summary, ev->summary, sizeof ev->summary);
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "outbox corrections");
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        s_fixes_free(v, n);
        return rc;
    }
    *out = v;
    *n_out = n;
    return SJ_OK;
}

/* The corrections and void of case_id, or NULL. */
static const s_fix_t *
s_fixes_find(const s_fix_t *v, size_t n, const uint8_t case_id[SJ_ID_BYTES])
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(v[i].case_id, case_id, SJ_ID_BYTES) == 0) {
            return &v[i];
        }
    }
    return NULL;
}

/* Sets a report's row from its corrections and void, if any. */
static void
s_fixes_apply(const s_fix_t *v, size_t n, sj_event_t *ev, agent_outbox_row_t *row)
{
    const s_fix_t *f = s_fixes_find(v, n, ev->id);
    if (!f) {
        return;
    }
    size_t i = (size_t) (f - v);
    row->voided = v[i].voided;
    const sj_report_t *m = &v[i].fix->report;
    sj_report_t *r = &ev->report;
    int c = 0;
#define S_SET(field)                        \
    if (m->field && m->field != r->field) { \
        r->field = m->field;                \
        c = 1;                              \
    }
    S_SET(channel)
    S_SET(kind)
    S_SET(persons)
    S_SET(level)
    S_SET(category)
    S_SET(source)
#undef S_SET
    if (m->occurred_on[0] && strcmp(m->occurred_on, r->occurred_on) != 0) {
        memcpy(r->occurred_on, m->occurred_on, sizeof r->occurred_on);
        c = 1;
    }
    if (v[i].fix->summary[0] && strcmp(v[i].fix->summary, ev->summary) != 0) {
        memcpy(ev->summary, v[i].fix->summary, sizeof ev->summary);
        c = 1;
    }
    row->corrected = c;
}

/* The outbox rows in report-number order (newest first when desc), at most
 * limit of them (-1: all) after skipping offset. */
static int
s_outbox_rows(agent_store_t *self,
              int desc,
              int64_t offset,
              int64_t limit,
              int (*fn)(void *ctx, const agent_outbox_row_t *row),
              void *ctx)
{
    int64_t acked = 0;
    int rc = s_acked_through(self, &acked);
    if (rc != SJ_OK) {
        return rc;
    }
    /* Rows of older epochs were confirmed before the store moved on. */
    sqlite3_stmt *st = NULL;
#define S_OUTBOX_SQL                                                    \
    "SELECT o.num, o.id, o.raw, o.epoch = ?1 AND o.seq > ?2, r.reason," \
    " o.seq <= coalesce(c.e2e_through, 0)"                              \
    " FROM outbox o LEFT JOIN rejected r ON r.id = o.id"                \
    " LEFT JOIN receipts c ON c.epoch = o.epoch"
    rc = sj_db_prepare(self->db,
                       desc ? S_OUTBOX_SQL " ORDER BY o.num DESC LIMIT ?3 OFFSET ?4"
                            : S_OUTBOX_SQL " ORDER BY o.num LIMIT ?3 OFFSET ?4",
                       &st);
#undef S_OUTBOX_SQL
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, acked);
    sqlite3_bind_int64(st, 3, limit);
    sqlite3_bind_int64(st, 4, offset);
    sj_event_t *ev = malloc(sizeof *ev);
    s_fix_t *fixes = NULL;
    size_t n_fixes = 0;
    if (!ev || (rc = s_fixes_gather(self, ev, &fixes, &n_fixes)) != SJ_OK) {
        free(ev);
        sqlite3_finalize(st);
        return ev ? rc : SJ_ENOMEM;
    }
    int step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char why[256] = "";
        agent_outbox_row_t row = {
            .seq = (uint64_t) sqlite3_column_int64(st, 0), .ev = ev, .unreadable = ""};
        if (sqlite3_column_bytes(st, 1) == SJ_ID_BYTES) {
            memcpy(row.id, sqlite3_column_blob(st, 1), SJ_ID_BYTES);
        }
        if (sj_event_decode(sqlite3_column_blob(st, 2), (size_t) sqlite3_column_bytes(st, 2), ev,
                            why, sizeof why)
            != SJ_OK) {
            /* Listed anyway, with blank fields: nothing leaves the list. */
            row.ev = NULL;
            row.unreadable = why;
        } else if (ev->type == SJ_EVENT_REPORT && n_fixes) {
            s_fixes_apply(fixes, n_fixes, ev, &row);
        }
        const unsigned char *reason = sqlite3_column_text(st, 4);
        row.reason = reason ? (const char *) reason : "";
        row.state = reason                      ? AGENT_REJECTED
                    : sqlite3_column_int(st, 3) ? AGENT_QUEUED
                    : sqlite3_column_int(st, 5) ? AGENT_AT_COUNTY
                                                : AGENT_AT_HUB;
        rc = fn(ctx, &row);
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "outbox list");
    }
    s_fixes_free(fixes, n_fixes);
    free(ev);
    sqlite3_finalize(st);
    return rc;
}

int
agent_store_outbox(agent_store_t *self,
                   int (*fn)(void *ctx, const agent_outbox_row_t *row),
                   void *ctx)
{
    return s_outbox_rows(self, 0, 0, -1, fn, ctx);
}

int
agent_store_outbox_newest(agent_store_t *self,
                          int64_t offset,
                          int64_t limit,
                          int (*fn)(void *ctx, const agent_outbox_row_t *row),
                          void *ctx)
{
    return s_outbox_rows(self, 1, offset < 0 ? 0 : offset, limit, fn, ctx);
}

int
agent_store_counts(agent_store_t *self, agent_counts_t *out)
{
    int64_t acked = 0;
    int rc = s_acked_through(self, &acked);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(self->db,
                       "SELECT count(*), coalesce(sum(r.id IS NOT NULL), 0),"
                       " coalesce(sum(r.id IS NULL AND o.epoch = ?1 AND o.seq > ?2), 0),"
                       " coalesce(sum(r.id IS NULL AND NOT (o.epoch = ?1 AND o.seq > ?2)"
                       "  AND o.seq <= coalesce(c.e2e_through, 0)), 0)"
                       " FROM outbox o LEFT JOIN rejected r ON r.id = o.id"
                       " LEFT JOIN receipts c ON c.epoch = o.epoch",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, self->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, acked);
    int step = sqlite3_step(st);
    int64_t pruned = 0;
    if (step == SQLITE_ROW) {
        out->total = (uint64_t) sqlite3_column_int64(st, 0);
        out->rejected = (uint64_t) sqlite3_column_int64(st, 1);
        out->queued = (uint64_t) sqlite3_column_int64(st, 2);
        out->at_county = (uint64_t) sqlite3_column_int64(st, 3);
        /* The sums count disjoint rows, so this cannot wrap. */
        out->at_hub = out->total - out->rejected - out->queued - out->at_county;
    } else {
        rc = sj_db_err(self->db, step, "outbox counts");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        rc = s_meta_int0(self, "pruned_total", &pruned);
        out->pruned = (uint64_t) pruned;
    }
    return rc;
}

/* ---- pruning after the county's receipt (issue 4) ---- */

/* Records, for the case a pruned entry belongs to, the case's outcome after
 * that entry (a report: its outcome; a status change: its new outcome, and
 * the change itself, the station's last change of the case). Entries come
 * in report-number order, so the latest one wins. */
static int
s_prune_case(agent_store_t *self, sqlite3_stmt *put, const sj_event_t *ev, int64_t num)
{
    if (ev->type == SJ_EVENT_CORRECTION || ev->type == SJ_EVENT_VOID) {
        return SJ_OK; /* changes no outcome */
    }
    int change = ev->type == SJ_EVENT_STATUS;
    const uint8_t *id = change ? ev->case_id : ev->id;
    int outcome = change ? ev->new_outcome : ev->report.outcome;
    int rc = sj_db_bind_check(
        self->db,
        sqlite3_bind_blob(put, 1, id, SJ_ID_BYTES, SQLITE_STATIC)
            | sqlite3_bind_int(put, 2, outcome) | sqlite3_bind_int64(put, 3, num)
            | (change ? sqlite3_bind_blob(put, 4, ev->id, SJ_ID_BYTES, SQLITE_STATIC)
                      : sqlite3_bind_null(put, 4)),
        "pruned case");
    if (rc != SJ_OK) {
        sqlite3_reset(put);
        sqlite3_clear_bindings(put);
        return rc;
    }
    return sj_db_step_done(self->db, put, "pruned case");
}

int
agent_store_prune(agent_store_t *self, int64_t before_ms, int dry_run, agent_prune_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL, *put = NULL, *del = NULL;
    sj_event_t *ev = NULL;
    int64_t acked = 0, pruned_total = 0, pruned_through = 0, max_pruned_seq = 0;
    int64_t *nums = NULL; /* report numbers to delete */
    size_t n_nums = 0, cap = 0;
    uint8_t cur[SJ_EPOCH_BYTES];
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        return rc;
    }
    /* Read inside the write transaction: another process may have moved the
     * store to a new epoch, or recorded an ack, since this handle opened. */
    rc = sj_db_meta_get_blob(self->db, "epoch", cur, SJ_EPOCH_BYTES);
    if (rc == SJ_OK) {
        rc = s_acked_through(self, &acked);
    }
    if (rc == SJ_OK) {
        rc = s_meta_int0(self, "pruned_total", &pruned_total);
    }
    if (rc == SJ_OK) {
        rc = s_meta_int0(self, "pruned_through", &pruned_through);
    }
    /* Per entry: rejected, queued (current epoch, after the hub's ack), at
     * the county (covered by its epoch's receipt), old enough, and the
     * newest of the current epoch (kept: the uplink's head is the highest
     * seq of the epoch in the outbox). */
    if (rc == SJ_OK) {
        rc = sj_db_prepare(
            self->db,
            "SELECT o.num, o.raw, r.id IS NOT NULL, o.epoch = ?1 AND o.seq > ?2,"
            " o.seq <= coalesce(c.e2e_through, 0), o.created_ms < ?3,"
            " o.epoch = ?1 AND o.seq = (SELECT max(seq) FROM outbox WHERE epoch = ?1),"
            " o.epoch = ?1, o.seq"
            " FROM outbox o LEFT JOIN rejected r ON r.id = o.id"
            " LEFT JOIN receipts c ON c.epoch = o.epoch ORDER BY o.num",
            &st);
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO pruned_cases(id, outcome, through_num, last_change)"
                           " VALUES(?1, ?2, ?3, ?4)"
                           " ON CONFLICT(id) DO UPDATE SET outcome = excluded.outcome,"
                           " through_num = excluded.through_num,"
                           " last_change = coalesce(excluded.last_change, last_change)"
                           " WHERE excluded.through_num > pruned_cases.through_num",
                           &put);
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db, "DELETE FROM outbox WHERE num = ?", &del);
    }
    if (rc == SJ_OK && !(ev = malloc(sizeof *ev))) {
        rc = SJ_ENOMEM;
    }
    if (rc != SJ_OK) {
        goto out;
    }
    sqlite3_bind_blob(st, 1, cur, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, acked);
    sqlite3_bind_int64(st, 3, before_ms);
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t num = sqlite3_column_int64(st, 0);
        char why[256];
        if (sqlite3_column_int(st, 2)) {
            out->kept_rejected++; /* the officer still has to see it */
            continue;
        }
        if (sqlite3_column_int(st, 3)) {
            out->kept_queued++;
            continue;
        }
        if (!sqlite3_column_int(st, 4)) {
            out->kept_at_hub++;
            continue;
        }
        if (!sqlite3_column_int(st, 5)) {
            out->kept_recent++;
            continue;
        }
        if (sqlite3_column_int(st, 6)) {
            out->kept_last++;
            continue;
        }
        if (sj_event_decode(sqlite3_column_blob(st, 1), (size_t) sqlite3_column_bytes(st, 1), ev,
                            why, sizeof why)
            != SJ_OK) {
            out->kept_rejected++; /* listed as unreadable: the officer has to see it */
            continue;
        }
        out->pruned++;
        if (sqlite3_column_int(st, 7) && sqlite3_column_int64(st, 8) > max_pruned_seq) {
            max_pruned_seq = sqlite3_column_int64(st, 8);
        }
        if (!dry_run) {
            rc = s_prune_case(self, put, ev, num);
        }
        /* Deleted after the scan: changing the table a pending SELECT
         * reads is undefined in SQLite beyond the current row. */
        if (rc == SJ_OK && !dry_run && n_nums == cap) {
            cap = cap ? cap * 2 : 256;
            int64_t *grown = realloc(nums, cap * sizeof *nums);
            if (!grown) {
                rc = SJ_ENOMEM;
                break;
            }
            nums = grown;
        }
        if (rc == SJ_OK && !dry_run) {
            nums[n_nums++] = num;
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "outbox prune scan");
    }
    sqlite3_reset(st);
    for (size_t i = 0; rc == SJ_OK && i < n_nums; i++) {
        sqlite3_bind_int64(del, 1, nums[i]);
        rc = sj_db_step_done(self->db, del, "outbox prune");
    }
    out->pruned_before = (uint64_t) pruned_total;
    if (rc == SJ_OK && !dry_run && out->pruned) {
        rc = sj_db_meta_set_int(self->db, "pruned_total", pruned_total + (int64_t) out->pruned);
        /* The highest seq of the current epoch that is gone: a hub whose
         * mark is below it cannot get it from here (agent_store_diverged). */
        if (rc == SJ_OK && max_pruned_seq > pruned_through) {
            rc = sj_db_meta_set_int(self->db, "pruned_through", max_pruned_seq);
        }
    }
out:
    free(nums);
    free(ev);
    sqlite3_finalize(st);
    sqlite3_finalize(put);
    sqlite3_finalize(del);
    if (rc == SJ_OK && !dry_run) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK || dry_run) {
        sj_db_rollback(self->db);
    }
    return rc;
}

/* The clock of an inbox row from its item (column col of st): the facts
 * the sender put in the snapshot, on the periods held here. A case no
 * longer open here (the station concluded or withdrew it) has no stage
 * running. */
static void
s_inbox_clock(sqlite3_stmt *st,
              int col,
              sj_down_item_t *it,
              const sj_periods_t *periods,
              const char *today,
              agent_inbox_row_t *r)
{
    char why[200];
    const void *item = sqlite3_column_blob(st, col);
    r->has_clock = 0;
    if (!item
        || sj_down_item_decode(item, (size_t) sqlite3_column_bytes(st, col), it, why, sizeof why)
               != SJ_OK
        || sj_clock_of_snapshot(&it->snap, periods, today, &r->clock) != SJ_OK) {
        return;
    }
    r->has_clock = 1;
    if (!sj_outcome_is_open(r->outcome)) {
        r->clock.overdue = 0;
        r->clock.running = SJ_STAGE_NONE;
        for (int k = SJ_STAGE_ACCEPT; k <= SJ_STAGE_REVIEW; k++) {
            r->clock.st[k].overdue = 0;
            r->clock.st[k].done = r->clock.st[k].active;
        }
    }
}

int
agent_store_inbox(agent_store_t *self,
                  int overdue_only,
                  int (*fn)(void *ctx, const agent_inbox_row_t *row),
                  void *ctx)
{
    char today[11];
    sj_date_today(today);
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "SELECT case_id, assigned_by, due_on,"
                           " CAST(julianday(due_on) - julianday(?1) AS INTEGER), outcome, conflict,"
                           " occurred_on, category, persons, summary, note, origin,"
                           " NOT EXISTS(SELECT 1 FROM inbox_seen s"
                           "  WHERE s.assignment_id = inbox.assignment_id), item"
                           " FROM inbox ORDER BY due_on, case_id",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
    /* Issue 15: this station's own corrections and voids of the cases
     * (the outbox's, s_fixes_gather) are shown in the inbox too. */
    sj_event_t *ev = malloc(sizeof *ev);
    sj_down_item_t *it = malloc(sizeof *it);
    s_fix_t *fixes = NULL;
    size_t n_fixes = 0;
    sj_periods_t periods;
    if (!ev || !it || (rc = sj_periods_db_get(self->db, &periods, NULL)) != SJ_OK
        || (rc = s_fixes_gather(self, ev, &fixes, &n_fixes)) != SJ_OK) {
        int nomem = !ev || !it;
        free(ev);
        free(it);
        sqlite3_finalize(st);
        return nomem ? SJ_ENOMEM : rc;
    }
    int step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        agent_inbox_row_t r;
        memset(&r, 0, sizeof r);
        if (sqlite3_column_bytes(st, 0) != SJ_ID_BYTES) {
            continue;
        }
        memcpy(r.case_id, sqlite3_column_blob(st, 0), SJ_ID_BYTES);
        r.assigned_by = (const char *) sqlite3_column_text(st, 1);
        r.due_on = (const char *) sqlite3_column_text(st, 2);
        r.days_left = sqlite3_column_int64(st, 3);
        r.outcome = sqlite3_column_int(st, 4);
        r.conflict = sqlite3_column_int(st, 5);
        r.occurred_on = (const char *) sqlite3_column_text(st, 6);
        r.category = sqlite3_column_int(st, 7);
        r.persons = (uint32_t) sqlite3_column_int64(st, 8);
        r.summary = (const char *) sqlite3_column_text(st, 9);
        r.note = (const char *) sqlite3_column_text(st, 10);
        r.origin = (const char *) sqlite3_column_text(st, 11);
        r.unread = sqlite3_column_int(st, 12);
        const s_fix_t *f = s_fixes_find(fixes, n_fixes, r.case_id);
        if (f) {
            const sj_report_t *m = &f->fix->report;
            r.voided = f->voided;
            if (m->occurred_on[0] && (!r.occurred_on || strcmp(m->occurred_on, r.occurred_on))) {
                r.occurred_on = m->occurred_on;
                r.corrected = 1;
            }
            if (m->category && m->category != r.category) {
                r.category = m->category;
                r.corrected = 1;
            }
            if (m->persons && m->persons != r.persons) {
                r.persons = m->persons;
                r.corrected = 1;
            }
            if (f->fix->summary[0] && (!r.summary || strcmp(f->fix->summary, r.summary))) {
                r.summary = f->fix->summary;
                r.corrected = 1;
            }
        }
        int cur = 0;
        if (agent_store_case_outcome(self, r.case_id, &cur) == SJ_OK && cur) {
            r.outcome = cur;
        }
        int open = sj_outcome_is_open(r.outcome);
        s_inbox_clock(st, 13, it, &periods, today, &r);
        r.overdue = open && (r.days_left < 0 || (r.has_clock && r.clock.overdue));
        if (overdue_only && !r.overdue) {
            continue;
        }
        rc = fn(ctx, &r);
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "inbox");
    }
    s_fixes_free(fixes, n_fixes);
    free(it);
    free(ev);
    sqlite3_finalize(st);
    return rc;
}

/* ---- the desk's state (migration 8) ---- */

/* Prepares one of the desk's statements. */
static int
s_desk_exec(agent_store_t *self, const char *sql, sqlite3_stmt **out)
{
    return sj_db_prepare(self->db, sql, out);
}

int
agent_store_desk_secret(agent_store_t *self, int64_t now_ms, int64_t max_age_ms, uint8_t out[32])
{
    int rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = s_desk_exec(self, "SELECT secret, made_ms FROM desk_secret WHERE id = 1", &st);
    int have = 0;
    if (rc == SJ_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32
        && now_ms - sqlite3_column_int64(st, 1) < max_age_ms
        && sqlite3_column_int64(st, 1) <= now_ms) {
        memcpy(out, sqlite3_column_blob(st, 0), 32);
        have = 1;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SJ_OK && !have) {
        randombytes_buf(out, 32);
        rc = s_desk_exec(
            self, "INSERT OR REPLACE INTO desk_secret(id, secret, made_ms) VALUES(1, ?1, ?2)", &st);
        if (rc == SJ_OK) {
            sqlite3_bind_blob(st, 1, out, 32, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now_ms);
            int step = sqlite3_step(st);
            rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "desk_secret");
        }
        sqlite3_finalize(st);
        st = NULL;
        /* a new key: the sessions and forms of the old one are worth nothing */
        if (rc == SJ_OK) {
            rc = sj_db_exec(self->db, "DELETE FROM desk_sessions; DELETE FROM desk_forms;");
        }
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        sodium_memzero(out, 32);
    }
    return rc;
}

int
agent_store_desk_session_put(agent_store_t *self,
                             const uint8_t sid_hash[32],
                             int64_t since_ms,
                             int64_t seen_ms)
{
    sqlite3_stmt *st = NULL;
    int rc = s_desk_exec(self,
                         "INSERT OR REPLACE INTO desk_sessions(sid_hash, since_ms, seen_ms)"
                         " VALUES(?1, ?2, ?3)",
                         &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, sid_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_ms);
    sqlite3_bind_int64(st, 3, seen_ms);
    int step = sqlite3_step(st);
    rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "desk_sessions");
    sqlite3_finalize(st);
    return rc;
}

int
agent_store_desk_session_drop(agent_store_t *self, const uint8_t sid_hash[32])
{
    sqlite3_stmt *st = NULL;
    int rc = s_desk_exec(self, "DELETE FROM desk_sessions WHERE sid_hash = ?1", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, sid_hash, 32, SQLITE_STATIC);
    int step = sqlite3_step(st);
    rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "desk_sessions");
    sqlite3_finalize(st);
    return rc;
}

int
agent_store_desk_sessions(
    agent_store_t *self,
    int64_t now_ms,
    int64_t idle_ms,
    int64_t max_ms,
    int (*fn)(void *ctx, const uint8_t sid_hash[32], int64_t since_ms, int64_t seen_ms),
    void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc =
        s_desk_exec(self,
                    "SELECT sid_hash, since_ms, seen_ms FROM desk_sessions"
                    " WHERE ?1 - seen_ms <= ?2 AND ?1 - since_ms <= ?3 AND length(sid_hash) = 32"
                    " ORDER BY seen_ms DESC",
                    &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, idle_ms);
    sqlite3_bind_int64(st, 3, max_ms);
    int step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(ctx, sqlite3_column_blob(st, 0), sqlite3_column_int64(st, 1),
                sqlite3_column_int64(st, 2));
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "desk_sessions");
    }
    sqlite3_finalize(st);
    return rc;
}

int
agent_store_desk_form_get(agent_store_t *self, const char *key, char *location, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc = s_desk_exec(self, "SELECT location FROM desk_forms WHERE form_key = ?1", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(location, size, "%s", (const char *) sqlite3_column_text(st, 0));
        rc = SJ_OK;
    } else {
        rc = step == SQLITE_DONE ? SJ_ENOTFOUND : sj_db_err(self->db, step, "desk_forms");
    }
    sqlite3_finalize(st);
    return rc;
}

int
agent_store_desk_form_put(
    agent_store_t *self, const char *key, const char *location, int64_t now_ms, int64_t keep_ms)
{
    sqlite3_stmt *st = NULL;
    int rc = s_desk_exec(self, "DELETE FROM desk_forms WHERE at_ms < ?1", &st);
    if (rc == SJ_OK) {
        sqlite3_bind_int64(st, 1, now_ms - keep_ms);
        int step = sqlite3_step(st);
        rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "desk_forms");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SJ_OK) {
        rc = s_desk_exec(self,
                         "INSERT OR REPLACE INTO desk_forms(form_key, location, at_ms)"
                         " VALUES(?1, ?2, ?3)",
                         &st);
    }
    if (rc == SJ_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, location, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms);
        int step = sqlite3_step(st);
        rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "desk_forms");
    }
    sqlite3_finalize(st);
    return rc;
}

int
agent_store_inbox_seen(agent_store_t *self, const uint8_t case_id[SJ_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db,
                           "INSERT OR IGNORE INTO inbox_seen(assignment_id, seen_ms)"
                           " SELECT assignment_id, ?2 FROM inbox WHERE case_id = ?1",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, case_id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    int step = sqlite3_step(st);
    rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "inbox_seen");
    sqlite3_finalize(st);
    return rc;
}
