/* sj_down: a parent's downward streams, see sj_down.h. */
#include "sj_down.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_db.h"
#include "sj_ids.h"

struct sj_down {
    sqlite3 *db;
    sqlite3_stmt *st_head;
    sqlite3_stmt *st_insert;
    sqlite3_stmt *st_mark;
    sqlite3_stmt *st_fetch;
    sqlite3_stmt *st_acked;
};

sj_down_t *
sj_down_new(sqlite3 *db)
{
    sj_down_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->db = db;
    if (sj_db_prepare(db, "SELECT coalesce(max(seq), 0) FROM down WHERE child=?", &self->st_head)
            != SJ_OK
        || sj_db_prepare(db,
                         "INSERT INTO down(child, seq, event_id, item, created_ms)"
                         " VALUES(?, ?, ?, ?, ?)",
                         &self->st_insert)
               != SJ_OK
        || sj_db_prepare(db, "SELECT coalesce(max(did), 0) FROM down", &self->st_mark) != SJ_OK
        || sj_db_prepare(db,
                         "SELECT seq, item FROM down WHERE child=? AND seq>? ORDER BY seq LIMIT ?",
                         &self->st_fetch)
               != SJ_OK
        || sj_db_prepare(db,
                         "INSERT INTO down_acks(child, cursor, at_ms) VALUES(?, ?, ?)"
                         " ON CONFLICT(child) DO UPDATE SET cursor=excluded.cursor,"
                         " at_ms=excluded.at_ms",
                         &self->st_acked)
               != SJ_OK) {
        sj_down_destroy(&self);
        return NULL;
    }
    return self;
}

void
sj_down_destroy(sj_down_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_down_t *self = *self_p;
    sqlite3_finalize(self->st_head);
    sqlite3_finalize(self->st_insert);
    sqlite3_finalize(self->st_mark);
    sqlite3_finalize(self->st_fetch);
    sqlite3_finalize(self->st_acked);
    free(self);
    *self_p = NULL;
}

int
sj_down_head(sj_down_t *self, const char *child, uint64_t *head)
{
    sqlite3_stmt *st = self->st_head;
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = SJ_OK;
    if (step == SQLITE_ROW) {
        *head = (uint64_t) sqlite3_column_int64(st, 0);
    } else {
        rc = sj_db_err(self->db, step, "down head");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int
sj_down_enqueue(sj_down_t *self,
                const char *child,
                const uint8_t event_id[SJ_ID_BYTES],
                const uint8_t *item,
                size_t len,
                uint64_t *seq)
{
    uint64_t head = 0;
    int rc = sj_down_head(self, child, &head);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = self->st_insert;
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) (head + 1));
    sqlite3_bind_blob(st, 3, event_id, SJ_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, item, (int) len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, sj_now_ms());
    rc = sj_db_step_done(self->db, st, "down insert");
    if (rc == SJ_OK && seq) {
        *seq = head + 1;
    }
    return rc;
}

int
sj_down_mark(sj_down_t *self, int64_t *mark)
{
    int step = sqlite3_step(self->st_mark);
    int rc = SJ_OK;
    if (step == SQLITE_ROW) {
        *mark = sqlite3_column_int64(self->st_mark, 0);
    } else {
        rc = sj_db_err(self->db, step, "down mark");
    }
    sqlite3_reset(self->st_mark);
    return rc;
}

int
sj_down_fetch(sj_down_t *self,
              const char *child,
              uint64_t after,
              size_t max_items,
              size_t max_bytes,
              int (*add)(void *add_ctx, uint64_t seq, const void *item, size_t len),
              void *add_ctx)
{
    sqlite3_stmt *st = self->st_fetch;
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) after);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) max_items);
    return sj_db_fetch_seq_blobs(self->db, st, max_bytes, add, add_ctx, "down fetch");
}

int
sj_down_acked(sj_down_t *self, const char *child, uint64_t cursor)
{
    sqlite3_stmt *st = self->st_acked;
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) cursor);
    sqlite3_bind_int64(st, 3, sj_now_ms());
    return sj_db_step_done(self->db, st, "down ack");
}

int
sj_down_cursor(sqlite3 *db, uint64_t *cursor)
{
    int64_t c = 0;
    int rc = sj_db_meta_get_int(db, "down_cursor", &c);
    if (rc == SJ_ENOTFOUND) {
        c = 0;
        rc = SJ_OK;
    }
    *cursor = c > 0 ? (uint64_t) c : 0;
    return rc;
}

int
sj_down_apply(sqlite3 *db,
              uint64_t first_seq,
              const ProtobufCBinaryData *items,
              size_t n,
              sj_down_apply_fn fn,
              void *ctx,
              uint64_t *cursor,
              char *reason,
              size_t reason_size)
{
    sj_down_item_t *it = malloc(sizeof *it);
    if (!it) {
        return SJ_ENOMEM;
    }
    uint64_t c = 0;
    int rc = sj_db_begin(db);
    if (rc != SJ_OK) {
        free(it);
        return rc;
    }
    rc = sj_down_cursor(db, &c);
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        uint64_t seq = first_seq + i;
        if (seq <= c) {
            continue; /* applied before: idempotent */
        }
        if (seq != c + 1) {
            snprintf(reason, reason_size, "item %llu follows %llu: a gap", (unsigned long long) seq,
                     (unsigned long long) c);
            rc = SJ_EPROTO;
            break;
        }
        char why[256];
        if (sj_down_item_decode(items[i].data, items[i].len, it, why, sizeof why) != SJ_OK) {
            snprintf(reason, reason_size, "item %llu: %s", (unsigned long long) seq, why);
            rc = SJ_EPROTO;
            break;
        }
        rc = fn(ctx, seq, it, items[i].data, items[i].len, reason, reason_size);
        c = seq;
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(db, "down_cursor", (int64_t) c);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
    } else {
        *cursor = c;
    }
    free(it);
    return rc;
}

int
sj_down_parent(sqlite3 *db, const uint8_t epoch[SJ_EPOCH_BYTES], int *reset)
{
    uint8_t known[SJ_EPOCH_BYTES];
    *reset = 0;
    int rc = sj_db_meta_get_blob(db, "down_parent", known, SJ_EPOCH_BYTES);
    if (rc == SJ_OK && memcmp(known, epoch, SJ_EPOCH_BYTES) == 0) {
        return SJ_OK; /* the usual case: one read */
    }
    if (rc != SJ_OK && rc != SJ_ENOTFOUND) {
        return rc;
    }
    int had = rc == SJ_OK;
    rc = sj_db_begin(db);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_meta_set_blob(db, "down_parent", epoch, SJ_EPOCH_BYTES);
    if (rc == SJ_OK && had) {
        rc = sj_db_meta_set_int(db, "down_cursor", 0);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
        return rc;
    }
    *reset = had;
    return SJ_OK;
}
