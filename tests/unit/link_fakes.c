/* link_fakes: see link_fakes.h. */
#include "link_fakes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sj_ids.h"
#include "sj_log.h"
#include "sj_wire.h"

void *
lf_begin(const char *name, char *endpoint, size_t size)
{
    static int seq = 0;
    if (sj_ids_init() != SJ_OK) {
        return NULL;
    }
    sj_log_set_level(getenv("SANJI_TEST_DEBUG") ? SJ_LOG_DEBUG : SJ_LOG_ERROR);
    snprintf(endpoint, size, "inproc://%s-%d", name, seq++);
    return zmq_ctx_new();
}

/* ---- the parent ---- */

static int
s_admit(void *ctx, const char *code, char *reason, size_t reason_size)
{
    lf_parent_t *p = ctx;
    if (p->refuse) {
        snprintf(reason, reason_size, "station %s is not enrolled here (test)", code);
        return SJ_EFORBIDDEN;
    }
    return SJ_OK;
}

static int
s_check_event(void *ctx,
              const char *code,
              uint64_t link_seq,
              const sj_event_t *ev,
              char *reason,
              size_t reason_size)
{
    (void) ctx;
    (void) link_seq;
    if (strcmp(ev->origin, code) != 0) {
        snprintf(reason, reason_size, "event of %s from %s", ev->origin, code);
        return SJ_EFORBIDDEN;
    }
    return SJ_OK;
}

int
lf_parent_has(const lf_parent_t *p, const uint8_t id[16])
{
    for (size_t i = 0; i < p->n; i++) {
        if (memcmp(p->ids[i], id, 16) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
s_store_event(void *ctx,
              const char *code,
              const sj_event_t *ev,
              const uint8_t *raw,
              size_t len,
              sj_stored_t *result)
{
    lf_parent_t *p = ctx;
    (void) code;
    (void) raw;
    (void) len;
    p->store_calls++;
    if (p->fail_store > 0) {
        p->fail_store--;
        return SJ_EDB;
    }
    if (lf_parent_has(p, ev->id)) {
        *result = SJ_STORED_DUPLICATE;
        return SJ_OK;
    }
    if (p->n == LF_MAX) {
        return SJ_EFULL;
    }
    memcpy(p->ids[p->n++], ev->id, 16);
    *result = SJ_STORED_NEW;
    return SJ_OK;
}

static void
s_committed(void *ctx, size_t n_new)
{
    lf_parent_t *p = ctx;
    (void) n_new;
    p->commits++;
}

const sj_downlink_ops_t lf_parent_ops = {
    .admit = s_admit,
    .check_event = s_check_event,
    .store_event = s_store_event,
    .committed = s_committed,
};

int
lf_parent_init(lf_parent_t *p)
{
    memset(p, 0, sizeof *p);
    if (sqlite3_open(":memory:", &p->db) != SQLITE_OK
        || sqlite3_exec(p->db, SJ_DOWNLINK_SCHEMA SJ_DOWNLINK_SCHEMA_2, NULL, NULL, NULL)
               != SQLITE_OK) {
        sqlite3_close(p->db);
        p->db = NULL;
        return -1;
    }
    return 0;
}

void
lf_parent_fini(lf_parent_t *p)
{
    sqlite3_close(p->db);
    p->db = NULL;
}

/* ---- the child ---- */

/* Packs event id as link seq `seq` of the child's current epoch, chained
 * to the bytes of event seq - 1 (already packed), as a real store does:
 * the parent checks the chain where an event enters (sj_link.h). */
static int
s_pack(const lf_child_t *c, const uint8_t id[16], uint64_t seq, uint8_t **raw, size_t *len)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        return -1;
    }
    memcpy(ev->id, id, 16);
    snprintf(ev->origin, sizeof ev->origin, "%s", c->code);
    memcpy(ev->epoch, c->epoch, 16);
    ev->origin_seq = seq;
    if (seq > 1) {
        sj_event_hash(c->ev[seq - 2].raw, c->ev[seq - 2].len, ev->prev_hash);
    }
    ev->created_ms = sj_now_ms();
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-05-01");
    ev->report.channel = 1;
    ev->report.kind = 1;
    ev->report.persons = 1;
    ev->report.level = 3;
    ev->report.category = 5;
    ev->report.outcome = 1;
    ev->report.source = 1;
    snprintf(ev->summary, sizeof ev->summary, "test event %llu", (unsigned long long) seq);
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    int rc = sj_event_encode(ev, raw, len);
    free(ev);
    return rc == SJ_OK ? 0 : -1;
}

static int
s_fetch(void *ctx,
        uint64_t from,
        size_t max_events,
        size_t max_bytes,
        int (*add)(void *add_ctx, uint64_t seq, const void *raw, size_t len),
        void *add_ctx)
{
    lf_child_t *c = ctx;
    (void) max_bytes;
    /* What is given may be sent: the mark goes up first (sj_link.h). */
    if (c->n > c->offered) {
        c->offered = c->n;
    }
    for (uint64_t seq = from; seq <= c->n && seq < from + max_events; seq++) {
        int rc = add(add_ctx, seq, c->ev[seq - 1].raw, c->ev[seq - 1].len);
        if (rc != SJ_OK) {
            return rc;
        }
    }
    return SJ_OK;
}

static int
s_head(void *ctx, uint64_t *last_seq)
{
    const lf_child_t *c = ctx;
    *last_seq = c->n;
    return SJ_OK;
}

static int
s_acked(void *ctx, uint64_t acked_through, Sanji__Rejection **rejected, size_t n_rejected)
{
    lf_child_t *c = ctx;
    (void) rejected;
    (void) n_rejected;
    if (c->fail_acked > 0) {
        c->fail_acked--;
        return SJ_EDB;
    }
    if (acked_through > c->acked) {
        c->acked = acked_through;
    }
    return SJ_OK;
}

/* Moves every event the parent has not confirmed (above acked) to a new
 * epoch, seq 1, 2, ..., same ids: what agent_store does. */
static int
s_diverged(void *ctx, uint64_t parent_mark, int *moved, uint8_t new_epoch[16])
{
    lf_child_t *c = ctx;
    *moved = 0;
    if (parent_mark <= c->offered) {
        return SJ_OK;
    }
    lf_event_t keep[LF_MAX];
    size_t k = 0;
    for (size_t i = (size_t) c->acked; i < c->n; i++) {
        keep[k++] = c->ev[i];
    }
    for (size_t i = 0; i < (size_t) c->acked; i++) {
        free(c->ev[i].raw);
    }
    randombytes_buf(c->epoch, sizeof c->epoch);
    c->n = 0;
    for (size_t i = 0; i < k; i++) {
        lf_event_t *e = &c->ev[c->n];
        memcpy(e->id, keep[i].id, 16);
        free(keep[i].raw);
        if (s_pack(c, e->id, c->n + 1, &e->raw, &e->len) != 0) {
            return SJ_ENOMEM;
        }
        c->n++;
    }
    c->acked = 0;
    c->offered = 0;
    c->moved++;
    memcpy(new_epoch, c->epoch, 16);
    *moved = 1;
    return SJ_OK;
}

const sj_uplink_ops_t lf_child_ops = {
    .fetch = s_fetch,
    .head = s_head,
    .acked = s_acked,
    .diverged = s_diverged,
};

void
lf_child_init(lf_child_t *c, const char *code)
{
    memset(c, 0, sizeof *c);
    snprintf(c->code, sizeof c->code, "%s", code);
    randombytes_buf(c->epoch, sizeof c->epoch);
}

void
lf_child_fini(lf_child_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->ev[i].raw);
    }
    c->n = 0;
}

int
lf_child_add(lf_child_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->n == LF_MAX) {
            return -1;
        }
        lf_event_t *e = &c->ev[c->n];
        sj_uuid7_new(e->id);
        if (s_pack(c, e->id, c->n + 1, &e->raw, &e->len) != 0) {
            return -1;
        }
        c->n++;
    }
    return 0;
}

int
lf_child_restore(lf_child_t *dst, const lf_child_t *src, size_t n)
{
    lf_child_init(dst, src->code);
    memcpy(dst->epoch, src->epoch, 16);
    for (size_t i = 0; i < n && i < src->n; i++) {
        dst->ev[i] = src->ev[i];
        dst->ev[i].raw = malloc(src->ev[i].len);
        if (!dst->ev[i].raw) {
            return -1;
        }
        memcpy(dst->ev[i].raw, src->ev[i].raw, src->ev[i].len);
        dst->n++;
    }
    dst->acked = dst->n;
    dst->offered = dst->n;
    return 0;
}
