#include "county_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_ids.h"
#include "sj_log.h"

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
};

struct county_store {
    sqlite3 *db;
    char code[SJ_CODE_MAX + 1]; /* "" = accept any county */
    uint8_t epoch[SJ_EPOCH_BYTES];
    sqlite3_stmt *st_event;
    sqlite3_stmt *st_matter;
    sqlite3_stmt *st_exists;
};

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

county_store_t *
county_store_open(const char *dir, const char *code, sj_db_mode_t mode, char *err, size_t err_size)
{
    county_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (sj_db_open(dir, "county-server.db", COUNTY_APP_ID, s_migrations,
                   sizeof s_migrations / sizeof s_migrations[0], mode, &self->db, err, err_size)
            != SJ_OK
        || s_identity(self, code, mode, err, err_size) != SJ_OK) {
        goto fail;
    }
    if (mode == SJ_DB_READ) {
        return self;
    }
    if (sj_db_prepare(self->db,
                      "INSERT INTO events(id, origin, epoch, origin_seq, via, type, created_ms,"
                      " received_ms, prev_hash, hash, raw) VALUES(?,?,?,?,?,?,?,?,?,?,?)"
                      " ON CONFLICT DO NOTHING",
                      &self->st_event) != SJ_OK
        || sj_db_prepare(self->db,
                         "INSERT INTO matters(id, origin, township, occurred_on, channel, kind,"
                         " persons, level, category, outcome, source, summary, officer, sealed,"
                         " created_ms, received_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         &self->st_matter) != SJ_OK
        || sj_db_prepare(self->db,
                         "SELECT 1 FROM events WHERE origin=? AND epoch=? AND origin_seq=?",
                         &self->st_exists) != SJ_OK) {
        snprintf(err, err_size, "cannot prepare statements: %s", sqlite3_errmsg(self->db));
        goto fail;
    }
    return self;
fail:
    county_store_close(&self);
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
    sj_db_close(&self->db);
    free(self);
    *self_p = NULL;
}

sqlite3 *
county_store_db(county_store_t *self)
{
    return self->db;
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
s_check_event(void *ctx, const char *code, uint64_t link_seq, const sj_event_t *ev, char *reason,
              size_t rs)
{
    (void) ctx;
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
        return SJ_OK;
    }
    if (!sj_code_under(ev->origin, code)) {
        snprintf(reason, rs, "hub %s forwarded an event of %s, outside its township", code,
                 ev->origin);
        return SJ_EFORBIDDEN;
    }
    return SJ_OK;
}

static int
s_insert_matter(county_store_t *self, const sj_event_t *ev, int64_t now)
{
    const sj_report_t *r = &ev->report;
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
    return sj_db_step_done(self->db, st, "matters insert");
}

static int
s_store_event(void *ctx, const char *code, const sj_event_t *ev, const uint8_t *raw, size_t len,
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
        return ev->type == SJ_EVENT_REPORT ? s_insert_matter(self, ev, now) : SJ_OK;
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

const sj_downlink_ops_t county_store_downlink_ops = {
    .admit = s_admit, .check_event = s_check_event, .store_event = s_store_event, .committed = NULL};
