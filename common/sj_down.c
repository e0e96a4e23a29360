/* sj_down: a parent's downward streams, see sj_down.h. */
#include "sj_down.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_db.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"

struct sj_down {
    sqlite3 *db;
    sqlite3_stmt *st_head;
    sqlite3_stmt *st_insert;
    sqlite3_stmt *st_mark;
    sqlite3_stmt *st_fetch;
    sqlite3_stmt *st_acked;
    sqlite3_stmt *st_refusal;
    sqlite3_stmt *st_floor;
};

sj_down_t *
sj_down_new(sqlite3 *db)
{
    sj_down_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->db = db;
    if (sj_db_prepare(db,
                      "SELECT max(coalesce((SELECT max(seq) FROM down WHERE child=?1), 0),"
                      " coalesce((SELECT floor FROM down_acks WHERE child=?1), 0))",
                      &self->st_head)
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
                         "INSERT INTO down_acks(child, cursor, at_ms, floor) VALUES(?1, ?2, ?3,"
                         " CASE WHEN ?4 AND ?2 > (SELECT coalesce(max(seq), 0) FROM down"
                         " WHERE child=?1) THEN ?2 ELSE 0 END)"
                         " ON CONFLICT(child) DO UPDATE SET cursor=excluded.cursor,"
                         " at_ms=excluded.at_ms, floor=max(floor, excluded.floor)",
                         &self->st_acked)
               != SJ_OK
        || sj_db_prepare(db,
                         "INSERT INTO down_refusals(child, seq, via, reason, event_id, at_ms)"
                         " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         &self->st_refusal)
               != SJ_OK
        || sj_db_prepare(db, "SELECT floor FROM down_acks WHERE child=?", &self->st_floor)
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
    sqlite3_finalize(self->st_refusal);
    sqlite3_finalize(self->st_floor);
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
sj_down_floor(sj_down_t *self, const char *child, uint64_t *floor)
{
    sqlite3_stmt *st = self->st_floor;
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = SJ_OK;
    *floor = 0;
    if (step == SQLITE_ROW) {
        *floor = (uint64_t) sqlite3_column_int64(st, 0);
    } else if (step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "down floor");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int
sj_down_lacks(sj_down_t *self, const char *child, uint64_t cursor, uint64_t floor, int *lacks)
{
    *lacks = 0;
    if (cursor >= floor) {
        return SJ_OK;
    }
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, "SELECT count(*) FROM down WHERE child=? AND seq>? AND seq<=?",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) cursor);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) floor);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *lacks = (uint64_t) sqlite3_column_int64(st, 0) < floor - cursor;
    } else {
        rc = sj_db_err(self->db, step, "down lacks");
    }
    sqlite3_finalize(st);
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
sj_down_acked(sj_down_t *self, const char *child, uint64_t cursor, int keeps)
{
    sqlite3_stmt *st = self->st_acked;
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) cursor);
    sqlite3_bind_int64(st, 3, sj_now_ms());
    sqlite3_bind_int(st, 4, keeps ? 1 : 0);
    return sj_db_step_done(self->db, st, "down ack");
}

int
sj_down_refusal_record(sj_down_t *self, const char *from, const sj_down_refusal_t *r)
{
    const char *child = r->child[0] ? r->child : from;
    const char *via = r->child[0] ? from : "";
    if (r->child[0] && (strcmp(r->child, from) == 0 || !sj_code_under(r->child, from))) {
        return SJ_EINVAL;
    }
    sqlite3_stmt *st = self->st_refusal;
    int rc = sj_db_bind_check(
        self->db,
        sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC)
            | sqlite3_bind_int64(st, 2, (sqlite3_int64) r->seq)
            | sqlite3_bind_text(st, 3, via, -1, SQLITE_STATIC)
            | sqlite3_bind_text(st, 4, r->reason, -1, SQLITE_STATIC)
            | (r->has_id ? sqlite3_bind_blob(st, 5, r->event_id, SJ_ID_BYTES, SQLITE_STATIC)
                         : sqlite3_bind_null(st, 5))
            | sqlite3_bind_int64(st, 6, sj_now_ms()),
        "down refusal");
    if (rc != SJ_OK) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc;
    }
    rc = sj_db_step_done(self->db, st, "down refusal");
    if (rc == SJ_OK && sqlite3_changes(self->db) == 1) {
        sj_warn("%s %s refused down item %llu: %s",
                sj_code_level(child) == 12 ? "station" : "township", child,
                (unsigned long long) r->seq, r->reason);
    }
    return rc;
}

int
sj_down_rebase(
    sj_down_t *self, const char *child, uint64_t cursor, int64_t since_ms, int64_t *moved)
{
    *moved = 0;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(
        self->db, "SELECT coalesce(max(seq), 0) FROM down WHERE child=? AND created_ms<?", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_ms);
    uint64_t base = cursor;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && (uint64_t) sqlite3_column_int64(st, 0) > base) {
        base = (uint64_t) sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW) {
        return sj_db_err(self->db, step, "down rebase");
    }
    rc = sj_db_prepare(
        self->db, "SELECT did, seq FROM down WHERE child=? AND created_ms>=? ORDER BY seq", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_ms);
    size_t n = 0, cap = 0;
    int64_t *dids = NULL;
    int first_ok = 1;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == 0 && (uint64_t) sqlite3_column_int64(st, 1) > base) {
            first_ok = 1;
            break; /* numbered above the cursor already (a Hello again) */
        }
        first_ok = 0;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *p = realloc(dids, cap * sizeof *dids);
            if (!p) {
                rc = SJ_ENOMEM;
                break;
            }
            dids = p;
        }
        dids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK && !first_ok) {
        /* Out of the way first (UNIQUE(child, seq)), then in order. */
        char sql[160];
        for (size_t i = 0; rc == SJ_OK && i < n; i++) {
            snprintf(sql, sizeof sql, "UPDATE down SET seq = -seq WHERE did=%lld",
                     (long long) dids[i]);
            rc = sj_db_exec(self->db, sql);
        }
        for (size_t i = 0; rc == SJ_OK && i < n; i++) {
            snprintf(sql, sizeof sql, "UPDATE down SET seq = %llu WHERE did=%lld",
                     (unsigned long long) (base + 1 + i), (long long) dids[i]);
            rc = sj_db_exec(self->db, sql);
        }
        *moved = (int64_t) n;
    }
    free(dids);
    if (rc == SJ_OK) {
        rc = sj_db_prepare(self->db,
                           "INSERT INTO down_acks(child, cursor, at_ms, floor) VALUES(?1, ?2, ?3,"
                           " ?2) ON CONFLICT(child) DO UPDATE SET floor=max(floor, excluded.floor)",
                           &st);
        if (rc == SJ_OK) {
            sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (sqlite3_int64) base);
            sqlite3_bind_int64(st, 3, sj_now_ms());
            rc = sj_db_step_done(self->db, st, "down floor");
            sqlite3_finalize(st);
        }
    }
    return rc;
}

int
sj_down_prune(sqlite3 *db, int64_t retention_ms, int64_t *pruned)
{
    int rc = sj_db_begin(db);
    if (rc != SJ_OK) {
        return rc;
    }
    char sql[600];
    long long before = (long long) (sj_now_ms() - retention_ms);
    /* The floor first: the highest seq about to go, per stream. */
    snprintf(sql, sizeof sql,
             "INSERT INTO down_acks(child, cursor, at_ms, floor)"
             " SELECT d.child, 0, 0, max(d.seq) FROM down d JOIN down_acks a ON a.child = d.child"
             " WHERE d.seq <= a.cursor AND d.created_ms < %lld GROUP BY d.child"
             " ON CONFLICT(child) DO UPDATE SET floor = max(floor, excluded.floor)",
             before);
    rc = sj_db_exec(db, sql);
    if (rc == SJ_OK) {
        snprintf(sql, sizeof sql,
                 "DELETE FROM down WHERE created_ms < %lld AND seq <= coalesce((SELECT a.cursor"
                 " FROM down_acks a WHERE a.child = down.child), 0)",
                 before);
        rc = sj_db_exec(db, sql);
    }
    int64_t n = rc == SJ_OK ? sqlite3_changes(db) : 0;
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
        return rc;
    }
    if (pruned) {
        *pruned = n;
    }
    return SJ_OK;
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

/* Keeps a refused item (seq, reason, bytes) in down_refused and logs it. */
static int
s_refuse(sqlite3 *db, uint64_t seq, const char *why, const uint8_t *item, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           "INSERT INTO down_refused(seq, reason, item, at_ms) VALUES(?, ?, ?, ?)"
                           " ON CONFLICT(seq) DO NOTHING",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    static const uint8_t none[1] = {0};
    rc =
        sj_db_bind_check(db,
                         sqlite3_bind_int64(st, 1, (sqlite3_int64) seq)
                             | sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC)
                             | sqlite3_bind_blob(st, 3, len ? item : none, (int) len, SQLITE_STATIC)
                             | sqlite3_bind_int64(st, 4, sj_now_ms()),
                         "down refused");
    if (rc == SJ_OK) {
        rc = sj_db_step_done(db, st, "down refused");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        sj_error("refused down item %llu (kept, acked past it; the parent hears of it): %s",
                 (unsigned long long) seq, why);
    }
    return rc;
}

/* Keeps an item of a kind this build does not know; logs once per kind. */
static int
s_keep(sqlite3 *db, uint64_t seq, uint32_t kind, const uint8_t *item, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, "SELECT count(*) FROM down_kept WHERE kind=?", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, kind);
    int seen = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    rc = sj_db_prepare(db,
                       "INSERT INTO down_kept(seq, kind, item, at_ms) VALUES(?, ?, ?, ?)"
                       " ON CONFLICT(seq) DO NOTHING",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_bind_check(db,
                          sqlite3_bind_int64(st, 1, (sqlite3_int64) seq)
                              | sqlite3_bind_int64(st, 2, kind)
                              | sqlite3_bind_blob(st, 3, item, (int) len, SQLITE_STATIC)
                              | sqlite3_bind_int64(st, 4, sj_now_ms()),
                          "down kept");
    if (rc == SJ_OK) {
        rc = sj_db_step_done(db, st, "down kept");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK && !seen) {
        sj_notice("down item %llu is of kind %u, which this version does not know: kept and"
                  " acked; an upgrade applies it (logged once per kind)",
                  (unsigned long long) seq, (unsigned) kind);
    }
    return rc;
}

/* One item at seq, inside the caller's transaction: kept (unknown kind),
 * refused (kept with the reason) or applied through fn under a savepoint.
 * SJ_OK in all three cases; else a storage error. */
static int
s_apply_one(sqlite3 *db,
            uint64_t seq,
            const uint8_t *data,
            size_t len,
            sj_down_item_t *it,
            sj_down_apply_fn fn,
            void *ctx,
            int unknown_keeps)
{
    uint32_t kind = 0;
    char to[SJ_CODE_MAX + 1];
    uint8_t id[SJ_ID_BYTES];
    int has_id = 0;
    if (sj_down_item_peek(data, len, &kind, to, id, &has_id) != SJ_OK) {
        return s_refuse(db, seq, "not a valid protobuf DownItem", data, len);
    }
    if (!sj_down_kind_known(kind) && unknown_keeps) {
        char reason[300] = "";
        int rc = fn(ctx, seq, NULL, data, len, reason, sizeof reason); /* a hub relays it */
        return rc == SJ_OK ? s_keep(db, seq, kind, data, len) : rc;
    }
    char why[256], reason[300];
    if (sj_down_item_decode(data, len, it, why, sizeof why) != SJ_OK) {
        return s_refuse(db, seq, why, data, len);
    }
    int rc = sj_db_exec(db, "SAVEPOINT down_item");
    if (rc != SJ_OK) {
        return rc;
    }
    reason[0] = '\0';
    rc = fn(ctx, seq, it, data, len, reason, sizeof reason);
    if (rc == SJ_EPROTO) {
        rc = sj_db_exec(db, "ROLLBACK TO down_item");
        if (rc == SJ_OK) {
            rc = sj_db_exec(db, "RELEASE down_item");
        }
        return rc == SJ_OK ? s_refuse(db, seq, reason[0] ? reason : "refused", data, len) : rc;
    }
    if (rc == SJ_OK) {
        return sj_db_exec(db, "RELEASE down_item");
    }
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
        rc = s_apply_one(db, seq, items[i].data, items[i].len, it, fn, ctx, 1);
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
sj_down_apply_kept(sqlite3 *db, sj_down_apply_fn fn, void *ctx, int *applied)
{
    if (applied) {
        *applied = 0;
    }
    sj_down_item_t *it = malloc(sizeof *it);
    if (!it) {
        return SJ_ENOMEM;
    }
    int rc = sj_db_begin(db);
    sqlite3_stmt *st = NULL;
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db, "SELECT seq, kind, item FROM down_kept ORDER BY seq", &st);
    }
    int n = 0;
    while (rc == SJ_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            break;
        }
        if (step != SQLITE_ROW) {
            rc = sj_db_err(db, step, "down kept");
            break;
        }
        if (!sj_down_kind_known((uint32_t) sqlite3_column_int64(st, 1))) {
            continue;
        }
        uint64_t seq = (uint64_t) sqlite3_column_int64(st, 0);
        size_t len = (size_t) sqlite3_column_bytes(st, 2);
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy) {
            rc = SJ_ENOMEM;
            break;
        }
        memcpy(copy, sqlite3_column_blob(st, 2), len);
        rc = s_apply_one(db, seq, copy, len, it, fn, ctx, 0);
        free(copy);
        if (rc == SJ_OK) {
            char del[80];
            snprintf(del, sizeof del, "DELETE FROM down_kept WHERE seq=%llu",
                     (unsigned long long) seq);
            rc = sj_db_exec(db, del);
            n++;
        }
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
    } else {
        if (n > 0) {
            sj_notice("applied %d kept down item(s) of a kind this version knows now", n);
        }
        if (applied) {
            *applied = n;
        }
    }
    free(it);
    return rc;
}

int
sj_down_refusals_latest(sqlite3 *db, sj_down_refusal_t *out, size_t max, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = NULL;
    int has_parent = 0;
    int rc = sj_db_prepare(
        db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='down_refusals'", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    has_parent = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT seq, '', reason, NULL, at_ms FROM down_refused%s"
             " ORDER BY 5 DESC, 1 DESC LIMIT %zu",
             has_parent ? " UNION ALL SELECT seq, child, reason, event_id, at_ms FROM"
                          " down_refusals WHERE via = ''"
                        : "",
             max);
    rc = sj_db_prepare(db, sql, &st);
    if (rc != SJ_OK) {
        return rc;
    }
    while (*n < max) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            break;
        }
        if (step != SQLITE_ROW) {
            rc = sj_db_err(db, step, "down refusals");
            break;
        }
        sj_down_refusal_t *r = &out[*n];
        memset(r, 0, sizeof *r);
        r->seq = (uint64_t) sqlite3_column_int64(st, 0);
        snprintf(r->child, sizeof r->child, "%s", (const char *) sqlite3_column_text(st, 1));
        snprintf(r->reason, sizeof r->reason, "%s", (const char *) sqlite3_column_text(st, 2));
        if (sqlite3_column_bytes(st, 3) == SJ_ID_BYTES) {
            memcpy(r->event_id, sqlite3_column_blob(st, 3), SJ_ID_BYTES);
            r->has_id = 1;
        }
        (*n)++;
    }
    sqlite3_finalize(st);
    return rc;
}

int
sj_down_skip(sqlite3 *db, uint64_t from, uint64_t to)
{
    int rc = sj_db_begin(db);
    if (rc != SJ_OK) {
        return rc;
    }
    uint64_t c = 0;
    rc = sj_down_cursor(db, &c);
    if (rc == SJ_OK && c == from && to > from) {
        rc = sj_db_meta_set_int(db, "down_cursor", (int64_t) to);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
    }
    return rc;
}

int
sj_down_counted(sqlite3 *db, uint8_t epoch[SJ_EPOCH_BYTES])
{
    return sj_db_meta_get_blob(db, "down_parent", epoch, SJ_EPOCH_BYTES);
}

int
sj_down_parent(sqlite3 *db, const uint8_t epoch[SJ_EPOCH_BYTES], int keep, int *reset)
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
    int had = rc == SJ_OK && !keep;
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

/* ---- status ---- */

static int
s_has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    int has = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &st,
                           NULL)
        == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        has = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return has;
}

/* Issue 15 item 5: seconds after which an item not acked is undelivered. */
static int64_t s_late_s = SJ_DOWN_UNDELIVERED_S;

void
sj_down_undelivered_after_set(int64_t seconds)
{
    s_late_s = seconds > 0 ? seconds : SJ_DOWN_UNDELIVERED_S;
}

int64_t
sj_down_undelivered_after(void)
{
    return s_late_s;
}

/* child, items kept, first seq, head, cursor, oldest unacked seq (0: none),
 * its created_ms. */
static const char s_streams_sql[] =
    "SELECT c.child, (SELECT count(*) FROM down d WHERE d.child = c.child),"
    " (SELECT coalesce(min(seq), 0) FROM down d WHERE d.child = c.child),"
    " max(coalesce((SELECT max(seq) FROM down d WHERE d.child = c.child), 0), coalesce(a.floor,"
    " 0)), coalesce(a.cursor, 0),"
    " (SELECT coalesce(min(seq), 0) FROM down d WHERE d.child = c.child AND d.seq >"
    "  coalesce(a.cursor, 0)),"
    " (SELECT created_ms FROM down d WHERE d.child = c.child AND d.seq > coalesce(a.cursor, 0)"
    "  ORDER BY seq LIMIT 1)"
    " FROM (SELECT child FROM down UNION SELECT child FROM down_acks) c"
    " LEFT JOIN down_acks a ON a.child = c.child ORDER BY c.child";
static const char s_refusals_sql[] =
    "SELECT child, seq, via, reason, at_ms FROM down_refusals ORDER BY at_ms, child, seq";
static const char s_own_sql[] = "SELECT seq, reason, at_ms FROM down_refused ORDER BY seq";

static const char *
s_who(const char *code)
{
    return sj_code_level(code) == 12 ? "station" : "township";
}

int
sj_down_status_text(sqlite3 *db, FILE *out)
{
    int64_t now = sj_now_ms();
    sqlite3_stmt *st = NULL;
    int rc = SJ_OK;
    if (s_has_table(db, "down_acks")
        && sqlite3_prepare_v2(db, s_streams_sql, -1, &st, NULL) == SQLITE_OK) {
        int first = 1;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (first) {
                fprintf(out, "\n下发队列 downward streams:\n");
                first = 0;
            }
            long long n = sqlite3_column_int64(st, 1), lo = sqlite3_column_int64(st, 2);
            long long head = sqlite3_column_int64(st, 3), cur = sqlite3_column_int64(st, 4);
            long long oldest = sqlite3_column_int64(st, 5);
            fprintf(out, _("  %s: length %lld item(s) kept"), sqlite3_column_text(st, 0), n);
            if (n > 0) {
                fprintf(out, _(" (seq %lld..%lld)"), lo, head);
            }
            fprintf(out, _(", head %lld, applied through %lld, "), head, cur);
            if (oldest > 0) {
                long long age = (long long) ((now - sqlite3_column_int64(st, 6)) / 1000);
                fprintf(out, _("oldest unacked item %lld (%lld s old)%s\n"), oldest, age,
                        age >= s_late_s ? " 未送达 UNDELIVERED" : "");
            } else {
                fprintf(out, _("all acked\n"));
            }
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s_has_table(db, "down_refusals")
        && sqlite3_prepare_v2(db, s_refusals_sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *child = (const char *) sqlite3_column_text(st, 0);
            const char *via = (const char *) sqlite3_column_text(st, 2);
            fprintf(out, "下发被拒 refused: %s %s refused down item %lld: %s", s_who(child), child,
                    sqlite3_column_int64(st, 1), sqlite3_column_text(st, 3));
            if (via && via[0]) {
                fprintf(out, _(" (item of %s's stream, reported by %s)"), child, via);
            }
            fprintf(out, "\n");
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s_has_table(db, "down_refused")
        && sqlite3_prepare_v2(db, s_own_sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "下发被拒 refused here: down item %lld from the parent: %s\n",
                    sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1));
        }
    }
    sqlite3_finalize(st);
    return ferror(out) ? SJ_EIO : rc;
}

int
sj_down_status_json(sqlite3 *db, cJSON *root)
{
    int64_t now = sj_now_ms();
    if (!cJSON_AddNumberToObject(root, "undelivered_after_s", (double) s_late_s)) {
        return SJ_ENOMEM;
    }
    cJSON *streams = cJSON_AddArrayToObject(root, "down_streams");
    cJSON *refusals = cJSON_AddArrayToObject(root, "down_refusals");
    if (!streams || !refusals) {
        return SJ_ENOMEM;
    }
    sqlite3_stmt *st = NULL;
    if (s_has_table(db, "down_acks")
        && sqlite3_prepare_v2(db, s_streams_sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            if (!o) {
                sqlite3_finalize(st);
                return SJ_ENOMEM;
            }
            cJSON_AddStringToObject(o, "child", (const char *) sqlite3_column_text(st, 0));
            cJSON_AddNumberToObject(o, "length", (double) sqlite3_column_int64(st, 1));
            cJSON_AddNumberToObject(o, "first_seq", (double) sqlite3_column_int64(st, 2));
            cJSON_AddNumberToObject(o, "head", (double) sqlite3_column_int64(st, 3));
            cJSON_AddNumberToObject(o, "cursor", (double) sqlite3_column_int64(st, 4));
            long long oldest = sqlite3_column_int64(st, 5);
            cJSON_AddNumberToObject(o, "oldest_unacked", (double) oldest);
            int64_t age = oldest > 0 ? (now - sqlite3_column_int64(st, 6)) / 1000 : 0;
            cJSON_AddNumberToObject(o, "oldest_unacked_s", (double) age);
            /* issue 15: an item not delivered within the set time */
            cJSON_AddBoolToObject(o, "undelivered", oldest > 0 && age >= s_late_s);
            cJSON_AddItemToArray(streams, o);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s_has_table(db, "down_refusals")
        && sqlite3_prepare_v2(db, s_refusals_sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            if (!o) {
                sqlite3_finalize(st);
                return SJ_ENOMEM;
            }
            cJSON_AddStringToObject(o, "child", (const char *) sqlite3_column_text(st, 0));
            cJSON_AddNumberToObject(o, "seq", (double) sqlite3_column_int64(st, 1));
            cJSON_AddStringToObject(o, "via", (const char *) sqlite3_column_text(st, 2));
            cJSON_AddStringToObject(o, "reason", (const char *) sqlite3_column_text(st, 3));
            cJSON_AddItemToArray(refusals, o);
        }
    }
    sqlite3_finalize(st);
    return SJ_OK;
}

/* status --check: a WARNING naming the streams with items older than the
 * set time that their child has not acked (the first few). */
static int
s_check_late(sqlite3 *db, sj_health_t *h)
{
    if (!s_has_table(db, "down_acks")) {
        return SJ_OK;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT d.child, count(*), min(d.created_ms) FROM down d LEFT JOIN"
                           " down_acks a ON a.child = d.child WHERE d.seq > coalesce(a.cursor, 0)"
                           " AND d.created_ms <= ?1 GROUP BY d.child ORDER BY min(d.created_ms)",
                           -1, &st, NULL)
        != SQLITE_OK) {
        return SJ_EDB;
    }
    int64_t now = sj_now_ms();
    sqlite3_bind_int64(st, 1, now - s_late_s * 1000);
    char list[512] = "";
    size_t used = 0;
    long long items = 0, children = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 1);
        items += n;
        if (++children <= 4 && used < sizeof list) {
            used += (size_t) snprintf(list + used, sizeof list - used,
                                      "%s%s %s (%lld, oldest %lld h)", used ? ", " : "",
                                      s_who((const char *) sqlite3_column_text(st, 0)),
                                      (const char *) sqlite3_column_text(st, 0), n,
                                      (long long) ((now - sqlite3_column_int64(st, 2)) / 3600000));
        }
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        return SJ_EDB;
    }
    if (items > 0) {
        sj_health_add(h, SJ_HEALTH_WARNING,
                      "%lld down item(s) undelivered (未送达) for over %lld h, to %lld child(ren):"
                      " %s%s",
                      items, (long long) (s_late_s / 3600), children, list,
                      children > 4 ? ", ..." : "");
    }
    return SJ_OK;
}

int
sj_down_check(sqlite3 *db, sj_health_t *h)
{
    if (s_check_late(db, h) != SJ_OK) {
        return SJ_EDB;
    }
    if (!s_has_table(db, "down_refusals")) {
        return SJ_OK;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM down_refusals), child, seq, reason FROM"
                           " down_refusals ORDER BY at_ms DESC LIMIT 1",
                           -1, &st, NULL)
        != SQLITE_OK) {
        return SJ_EDB;
    }
    int step = sqlite3_step(st);
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? SJ_OK : SJ_EDB;
    if (step == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 0);
        if (n > 0) {
            const char *child = (const char *) sqlite3_column_text(st, 1);
            sj_health_add(h, SJ_HEALTH_WARNING,
                          "%lld down item(s) refused by a child; latest: %s %s refused down item"
                          " %lld: %s",
                          n, s_who(child), child, sqlite3_column_int64(st, 2),
                          sqlite3_column_text(st, 3));
        }
    }
    sqlite3_finalize(st);
    return rc;
}
