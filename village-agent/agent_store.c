#include "agent_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_ids.h"
#include "sj_log.h"

#define AGENT_APP_ID 0x534a4131 /* "SJA1" */

static const sj_migration_t s_migrations[] = {
    {1, "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, id BLOB NOT NULL UNIQUE,"
        " created_ms INTEGER NOT NULL, raw BLOB NOT NULL, hash BLOB NOT NULL);"
        "CREATE TABLE rejected(seq INTEGER PRIMARY KEY, code INTEGER NOT NULL,"
        " reason TEXT NOT NULL, at_ms INTEGER NOT NULL);"},
};

struct agent_store {
    sqlite3 *db;
    char station[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    sqlite3_stmt *st_insert;
    sqlite3_stmt *st_has_id;
    sqlite3_stmt *st_fetch;
};

static int
s_init_identity(agent_store_t *self, const char *station, sj_db_mode_t mode, char *err,
                size_t err_size)
{
    int rc = sj_db_meta_get_text(self->db, "station", self->station, sizeof self->station);
    if (rc == SJ_ENOTFOUND) {
        if (mode == SJ_DB_READ) {
            snprintf(err, err_size, "this store has no station yet");
            return SJ_EINVAL;
        }
        if (!station || sj_code_level(station) != 12) {
            snprintf(err, err_size, "a new station store needs --station with a 12-digit village code");
            return SJ_EINVAL;
        }
        snprintf(self->station, sizeof self->station, "%s", station);
        sj_random16(self->epoch);
        uint8_t zero[SJ_HASH_BYTES] = {0};
        if (sj_db_begin(self->db) != SJ_OK
            || sj_db_meta_set_text(self->db, "station", self->station) != SJ_OK
            || sj_db_meta_set_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK
            || sj_db_meta_set_int(self->db, "last_seq", 0) != SJ_OK
            || sj_db_meta_set_blob(self->db, "last_hash", zero, SJ_HASH_BYTES) != SJ_OK
            || sj_db_meta_set_int(self->db, "acked_through", 0) != SJ_OK
            || sj_db_commit(self->db) != SJ_OK) {
            sj_db_rollback(self->db);
            snprintf(err, err_size, "cannot initialise the store: %s", sqlite3_errmsg(self->db));
            return SJ_EDB;
        }
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        snprintf(err, err_size, "cannot read the store: %s", sqlite3_errmsg(self->db));
        return rc;
    }
    if (station && strcmp(station, self->station) != 0) {
        snprintf(err, err_size, "this data directory belongs to station %s, not %s", self->station,
                 station);
        return SJ_EINVAL;
    }
    if (sj_db_meta_get_blob(self->db, "epoch", self->epoch, SJ_EPOCH_BYTES) != SJ_OK) {
        snprintf(err, err_size, "the store has no valid epoch (damaged?)");
        return SJ_EDB;
    }
    return SJ_OK;
}

agent_store_t *
agent_store_open(const char *dir, const char *station, sj_db_mode_t mode, char *err, size_t err_size)
{
    agent_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (sj_db_open(dir, "village-agent.db", AGENT_APP_ID, s_migrations,
                   sizeof s_migrations / sizeof s_migrations[0], mode, &self->db, err, err_size)
        != SJ_OK) {
        goto fail;
    }
    if (s_init_identity(self, station, mode, err, err_size) != SJ_OK) {
        goto fail;
    }
    if (sj_db_prepare(self->db,
                      "INSERT INTO outbox(seq, id, created_ms, raw, hash) VALUES(?, ?, ?, ?, ?)",
                      &self->st_insert) != SJ_OK
        || sj_db_prepare(self->db, "SELECT 1 FROM outbox WHERE id=?", &self->st_has_id) != SJ_OK
        || sj_db_prepare(self->db, "SELECT seq, raw FROM outbox WHERE seq>=? ORDER BY seq LIMIT ?",
                         &self->st_fetch) != SJ_OK) {
        snprintf(err, err_size, "cannot prepare statements: %s", sqlite3_errmsg(self->db));
        goto fail;
    }
    return self;
fail:
    agent_store_close(&self);
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
agent_store_add(agent_store_t *self, sj_event_t *ev, int *dup)
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
    int64_t last = 0;
    int rc = sj_db_meta_get_int(self->db, "last_seq", &last);
    if (rc == SJ_OK) {
        rc = sj_db_meta_get_blob(self->db, "last_hash", ev->prev_hash, SJ_HASH_BYTES);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    snprintf(ev->origin, sizeof ev->origin, "%s", self->station);
    memcpy(ev->epoch, self->epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = (uint64_t) last + 1;
    ev->created_ms = sj_now_ms();
    uint8_t *raw = NULL;
    size_t len = 0;
    rc = sj_event_encode(ev, &raw, &len);
    if (rc != SJ_OK) {
        return rc;
    }
    uint8_t hash[SJ_HASH_BYTES];
    sj_event_hash(raw, len, hash);
    sqlite3_stmt *st = self->st_insert;
    sqlite3_bind_int64(st, 1, (sqlite3_int64) ev->origin_seq);
    sqlite3_bind_blob(st, 2, ev->id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ev->created_ms);
    sqlite3_bind_blob(st, 4, raw, (int) len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, hash, SJ_HASH_BYTES, SQLITE_STATIC);
    rc = sj_db_step_done(self->db, st, "outbox insert");
    free(raw);
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "last_seq", (int64_t) ev->origin_seq);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_blob(self->db, "last_hash", hash, SJ_HASH_BYTES);
    }
    return rc;
}

/* ---- uplink callbacks ---- */

static int
s_fetch(void *ctx, uint64_t from, size_t max_events, size_t max_bytes,
        int (*add)(void *add_ctx, uint64_t seq, const void *raw, size_t len), void *add_ctx)
{
    agent_store_t *self = ctx;
    sqlite3_stmt *st = self->st_fetch;
    sqlite3_bind_int64(st, 1, (sqlite3_int64) from);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) max_events);
    int rc = SJ_OK, step;
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
        rc = sj_db_err(self->db, step, "outbox fetch");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int
s_head(void *ctx, uint64_t *last)
{
    agent_store_t *self = ctx;
    int64_t v = 0;
    int rc = sj_db_meta_get_int(self->db, "last_seq", &v);
    *last = (uint64_t) v;
    return rc;
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
    sqlite3_stmt *st = NULL;
    if (rc == SJ_OK && n_rej) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO rejected(seq, code, reason, at_ms) VALUES(?, ?, ?, ?)"
                           " ON CONFLICT(seq) DO NOTHING",
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
        rc = sj_db_step_done(self->db, st, "rejected insert");
        if (rc == SJ_OK) {
            sj_warn("report %llu was rejected by the hub: %s", (unsigned long long) rej[i]->seq,
                    reason);
        }
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

const sj_uplink_ops_t agent_store_uplink_ops = {.fetch = s_fetch, .head = s_head, .acked = s_acked};

const char *
agent_state_name(agent_state_t s)
{
    switch (s) {
    case AGENT_QUEUED:
        return "queued";
    case AGENT_AT_HUB:
        return "at-hub";
    case AGENT_REJECTED:
        return "rejected";
    }
    return "?";
}

int
agent_store_outbox(agent_store_t *self, int (*fn)(void *ctx, const agent_outbox_row_t *row),
                   void *ctx)
{
    int64_t acked = 0;
    int rc = sj_db_meta_get_int(self->db, "acked_through", &acked);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(self->db,
                       "SELECT o.seq, o.raw, r.reason FROM outbox o LEFT JOIN rejected r"
                       " ON r.seq = o.seq ORDER BY o.seq",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        sqlite3_finalize(st);
        return SJ_ENOMEM;
    }
    int step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char why[256];
        if (sj_event_decode(sqlite3_column_blob(st, 1), (size_t) sqlite3_column_bytes(st, 1), ev,
                            why, sizeof why)
            != SJ_OK) {
            sj_error("outbox entry %lld cannot be read: %s", sqlite3_column_int64(st, 0), why);
            continue;
        }
        agent_outbox_row_t row = {.seq = (uint64_t) sqlite3_column_int64(st, 0), .ev = ev};
        const unsigned char *reason = sqlite3_column_text(st, 2);
        row.reason = reason ? (const char *) reason : "";
        row.state = reason ? AGENT_REJECTED
                           : (row.seq <= (uint64_t) acked ? AGENT_AT_HUB : AGENT_QUEUED);
        rc = fn(ctx, &row);
    }
    free(ev);
    sqlite3_finalize(st);
    return rc;
}

int
agent_store_counts(agent_store_t *self, uint64_t *total, uint64_t *acked, uint64_t *rejected)
{
    int64_t last = 0, ack = 0;
    int rc = sj_db_meta_get_int(self->db, "last_seq", &last);
    if (rc == SJ_OK) {
        rc = sj_db_meta_get_int(self->db, "acked_through", &ack);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(self->db, "SELECT count(*) FROM rejected", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    *rejected = sqlite3_step(st) == SQLITE_ROW ? (uint64_t) sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    *total = (uint64_t) last;
    *acked = (uint64_t) ack;
    return SJ_OK;
}
