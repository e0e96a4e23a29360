/* sj_wire: framing, protobuf packing and post-unpack validation
 * (docs/PROTOCOL.md is the contract).
 * Invariant: nothing that leaves sj_wire_decode/sj_event_decode with SJ_OK
 * has an unchecked length, enum, code, date or text field. Unknown fields
 * are ignored (a newer sender's additions); an unknown message type or event
 * body is refused with its field number. */
#include "sj_wire.h"

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sj_case.h"
#include "sj_clock.h"

#define BUDGET_FACTOR 24 /* protobuf-c retains ~16x the frame (docs/PROTOCOL.md "Limits") */

typedef struct {
    size_t used;
    size_t limit;
} s_budget_t;

typedef struct {
    size_t size;
    max_align_t align[];
} s_block_t;

static void *
s_budget_alloc(void *data, size_t size)
{
    s_budget_t *b = data;
    if (size > b->limit - b->used) {
        return NULL;
    }
    s_block_t *blk = malloc(sizeof *blk + size);
    if (!blk) {
        return NULL;
    }
    blk->size = size;
    b->used += size;
    return blk->align;
}

static void
s_budget_free(void *data, void *ptr)
{
    s_budget_t *b = data;
    if (!ptr) {
        return;
    }
    s_block_t *blk = (s_block_t *) ((char *) ptr - offsetof(s_block_t, align));
    b->used -= blk->size;
    free(blk);
}

/* The budget above, served first from a caller's buffer (one event's
 * fields fit in a few hundred bytes: ~10 malloc/free pairs per event less),
 * then from malloc. Blocks in the buffer are freed with it: their free is a
 * no-op and the budget keeps counting them, as protobuf-c frees nothing it
 * still needs before the message is freed. */
typedef struct {
    s_budget_t budget;
    unsigned char *buf; /* caller's, aligned for max_align_t */
    size_t size, off;
} s_arena_t;

static void *
s_arena_alloc(void *data, size_t size)
{
    s_arena_t *a = data;
    size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (size <= a->budget.limit - a->budget.used && need >= size && need <= a->size - a->off) {
        void *p = a->buf + a->off;
        a->off += need;
        a->budget.used += size;
        return p;
    }
    return s_budget_alloc(&a->budget, size);
}

static void
s_arena_free(void *data, void *ptr)
{
    s_arena_t *a = data;
    if (ptr && ((unsigned char *) ptr < a->buf || (unsigned char *) ptr >= a->buf + a->size)) {
        s_budget_free(&a->budget, ptr);
    }
}

static int
s_fail(int *err_code, int code, char *reason, size_t size, const char *what)
{
    if (err_code) {
        *err_code = code;
    }
    snprintf(reason, size, "%s", what);
    return SJ_EPROTO;
}

/* The field number of a message's unknown field that may be a newer
 * message type or event body (0: none): the first length-delimited one (a
 * message is), else the first. */
static unsigned
s_unknown_tag(const ProtobufCMessage *m)
{
    if (!m || !m->n_unknown_fields) {
        return 0;
    }
    for (unsigned i = 0; i < m->n_unknown_fields; i++) {
        if (m->unknown_fields[i].wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
            return (unsigned) m->unknown_fields[i].tag;
        }
    }
    return (unsigned) m->unknown_fields[0].tag;
}

int
sj_wire_text(ProtobufCBinaryData b, char *out, size_t size)
{
    if (b.len >= size || (b.len && !b.data)) {
        return SJ_EINVAL;
    }
    if (!sj_utf8_valid((const char *) b.data, b.len)) {
        return SJ_EINVAL;
    }
    if (b.len) {
        memcpy(out, b.data, b.len);
    }
    out[b.len] = '\0';
    return SJ_OK;
}

ProtobufCBinaryData
sj_wire_bytes(const char *s)
{
    ProtobufCBinaryData b = {.len = s ? strlen(s) : 0, .data = (uint8_t *) s};
    return b;
}

static int
s_check_envelope(const Sanji__Envelope *env, int *ec, char *reason, size_t rs)
{
    const int MAL = SANJI__ERROR_CODE__ERROR_MALFORMED;
    char tmp[64];
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_HELLO: {
        const Sanji__Hello *h = env->hello;
        if (h->epoch.len != SJ_EPOCH_BYTES) {
            return s_fail(ec, MAL, reason, rs, "hello: epoch must be 16 bytes");
        }
        if (sj_wire_text(h->code, tmp, sizeof tmp) != SJ_OK || !sj_code_level(tmp)) {
            return s_fail(ec, MAL, reason, rs, "hello: code is not a 6, 9 or 12-digit code");
        }
        if (sj_wire_text(h->sw_version, tmp, sizeof tmp) != SJ_OK) {
            return s_fail(ec, MAL, reason, rs, "hello: sw_version is not short text");
        }
        return SJ_OK;
    }
    case SANJI__ENVELOPE__BODY_WELCOME:
        if (env->welcome->store_epoch.len != SJ_EPOCH_BYTES) {
            return s_fail(ec, MAL, reason, rs, "welcome: store_epoch must be 16 bytes");
        }
        return SJ_OK;
    case SANJI__ENVELOPE__BODY_BATCH: {
        const Sanji__Batch *b = env->batch;
        if (b->epoch.len != SJ_EPOCH_BYTES) {
            return s_fail(ec, MAL, reason, rs, "batch: epoch must be 16 bytes");
        }
        if (b->first_seq < 1 || b->n_events < 1) {
            return s_fail(ec, MAL, reason, rs, "batch: empty, or first_seq is 0");
        }
        if (b->n_events > SJ_WIRE_MAX_BATCH) {
            return s_fail(ec, SANJI__ERROR_CODE__ERROR_TOO_LARGE, reason, rs,
                          "batch: more than 1000 events");
        }
        for (size_t i = 0; i < b->n_events; i++) {
            if (b->events[i].len == 0 || b->events[i].len > SJ_WIRE_MAX_EVENT) {
                return s_fail(ec, SANJI__ERROR_CODE__ERROR_TOO_LARGE, reason, rs,
                              "batch: an event is empty or over 16 KiB");
            }
        }
        return SJ_OK;
    }
    case SANJI__ENVELOPE__BODY_ACK: {
        const Sanji__Ack *a = env->ack;
        if (a->epoch.len != SJ_EPOCH_BYTES) {
            return s_fail(ec, MAL, reason, rs, "ack: epoch must be 16 bytes");
        }
        if (a->n_rejected > SJ_WIRE_MAX_BATCH * 4) {
            return s_fail(ec, MAL, reason, rs, "ack: too many rejections");
        }
        for (size_t i = 0; i < a->n_rejected; i++) {
            char r[300];
            if (sj_wire_text(a->rejected[i]->reason, r, sizeof r) != SJ_OK) {
                return s_fail(ec, MAL, reason, rs, "ack: bad rejection");
            }
        }
        return SJ_OK;
    }
    case SANJI__ENVELOPE__BODY_RESEND:
        if (env->resend->epoch.len != SJ_EPOCH_BYTES || env->resend->from_seq < 1) {
            return s_fail(ec, MAL, reason, rs, "resend: bad epoch or seq");
        }
        return SJ_OK;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        return SJ_OK;
    case SANJI__ENVELOPE__BODY_DOWN_BATCH: {
        const Sanji__DownBatch *d = env->down_batch;
        if (d->first_seq < 1 || d->n_items < 1) {
            return s_fail(ec, MAL, reason, rs, "down batch: empty, or first_seq is 0");
        }
        if (d->n_items > SJ_WIRE_MAX_DOWN) {
            return s_fail(ec, SANJI__ERROR_CODE__ERROR_TOO_LARGE, reason, rs,
                          "down batch: more than 100 items");
        }
        for (size_t i = 0; i < d->n_items; i++) {
            if (d->items[i].len == 0 || d->items[i].len > SJ_WIRE_MAX_ITEM) {
                return s_fail(ec, SANJI__ERROR_CODE__ERROR_TOO_LARGE, reason, rs,
                              "down batch: an item is empty or over 24 KiB");
            }
        }
        return SJ_OK;
    }
    case SANJI__ENVELOPE__BODY_DOWN_ACK:
        return SJ_OK;
    case SANJI__ENVELOPE__BODY_ERROR: {
        char r[300];
        if (sj_wire_text(env->error->reason, r, sizeof r) != SJ_OK) {
            return s_fail(ec, MAL, reason, rs, "error: reason is not short text");
        }
        return SJ_OK;
    }
    default:
        break;
    }
    unsigned tag = s_unknown_tag(&env->base);
    if (!tag) {
        return s_fail(ec, MAL, reason, rs, "frame has no message body");
    }
    char msg[200];
    snprintf(msg, sizeof msg,
             "message type (Envelope field %u) is not known to this node, which speaks"
             " protocol version %d; the sender speaks version %u",
             tag, SJ_PROTO_VERSION, env->version);
    return s_fail(ec, SANJI__ERROR_CODE__ERROR_UNKNOWN_MESSAGE, reason, rs, msg);
}

int
sj_wire_decode(const void *data,
               size_t len,
               Sanji__Envelope **out,
               int *err_code,
               char *reason,
               size_t reason_size)
{
    *out = NULL;
    if (err_code) {
        *err_code = SANJI__ERROR_CODE__ERROR_NONE;
    }
    if (len > SJ_WIRE_MAX_FRAME) {
        return s_fail(err_code, SANJI__ERROR_CODE__ERROR_TOO_LARGE, reason, reason_size,
                      "frame larger than 1 MiB");
    }
    s_budget_t budget = {.used = 0, .limit = BUDGET_FACTOR * len + 4096};
    ProtobufCAllocator alloc = {
        .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = &budget};
    Sanji__Envelope *env = sanji__envelope__unpack(&alloc, len, data);
    if (!env) {
        return s_fail(err_code, SANJI__ERROR_CODE__ERROR_MALFORMED, reason, reason_size,
                      "frame is not a valid protobuf Envelope");
    }
    int rc;
    if (env->version != SJ_PROTO_VERSION) {
        char msg[96];
        snprintf(msg, sizeof msg,
                 "unknown protocol version %u: this node speaks protocol version %d only",
                 env->version, SJ_PROTO_VERSION);
        rc = s_fail(err_code, SANJI__ERROR_CODE__ERROR_BAD_VERSION, reason, reason_size, msg);
    } else {
        rc = s_check_envelope(env, err_code, reason, reason_size);
    }
    if (rc != SJ_OK) {
        sj_wire_free(env);
        return rc;
    }
    *out = env;
    return SJ_OK;
}

void
sj_wire_free(Sanji__Envelope *env)
{
    /* Blocks carry their own size, so any budget can account for the frees. */
    s_budget_t budget = {.used = SIZE_MAX / 2, .limit = SIZE_MAX};
    ProtobufCAllocator alloc = {
        .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = &budget};
    if (env) {
        sanji__envelope__free_unpacked(env, &alloc);
    }
}

int
sj_wire_pack(Sanji__Envelope *env, uint8_t **buf, size_t *len)
{
    env->version = SJ_PROTO_VERSION;
    size_t n = sanji__envelope__get_packed_size(env);
    if (n > SJ_WIRE_MAX_FRAME) {
        return SJ_EINVAL;
    }
    uint8_t *b = malloc(n ? n : 1);
    if (!b) {
        return SJ_ENOMEM;
    }
    sanji__envelope__pack(env, b);
    *buf = b;
    *len = n;
    return SJ_OK;
}

int
sj_wire_send(void *sock, const void *rid, size_t rid_len, Sanji__Envelope *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = sj_wire_pack(env, &buf, &len);
    if (rc != SJ_OK) {
        return rc;
    }
    if (rid && zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        rc = SJ_EAGAIN;
        goto out;
    }
    if (zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0) {
        rc = SJ_EAGAIN;
    }
out:
    free(buf);
    return rc;
}

int
sj_wire_send_error(void *sock, const void *rid, size_t rid_len, int code, const char *reason)
{
    Sanji__Error err = SANJI__ERROR__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    char r[256];
    snprintf(r, sizeof r, "%s", reason);
    err.code = (Sanji__ErrorCode) code;
    err.reason = sj_wire_bytes(r);
    env.body_case = SANJI__ENVELOPE__BODY_ERROR;
    env.error = &err;
    return sj_wire_send(sock, rid, rid_len, &env);
}

static int
s_ev_fail(char *reason, size_t size, const char *what)
{
    snprintf(reason, size, "%s", what);
    return SJ_EPROTO;
}

/* sj_wire_text without the UTF-8 check, for the texts sj_report_validate
 * checks next (each event's summary was validated twice, ~0.1 us a report
 * at every tier): the length, and no NUL, which would hide what follows it
 * from that check. */
static int
s_text_for_validate(ProtobufCBinaryData b, char *out, size_t size)
{
    if (b.len >= size || (b.len && !b.data) || (b.len && memchr(b.data, 0, b.len))) {
        return SJ_EINVAL;
    }
    if (b.len) {
        memcpy(out, b.data, b.len);
    }
    out[b.len] = '\0';
    return SJ_OK;
}

static int
s_copy_report(const Sanji__Report *r, sj_event_t *ev, char *reason, size_t rs)
{
    if (sj_wire_text(r->occurred_on, ev->report.occurred_on, sizeof ev->report.occurred_on)
        != SJ_OK) {
        return s_ev_fail(reason, rs, "occurred_on: not a date YYYY-MM-DD");
    }
    /* UTF-8: sj_report_validate below */
    if (s_text_for_validate(r->summary, ev->summary, sizeof ev->summary) != SJ_OK) {
        return s_ev_fail(reason, rs, "summary: over 4000 bytes, or has a NUL byte");
    }
    if (s_text_for_validate(r->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "officer: over 128 bytes, or has a NUL byte");
    }
    if (r->sealed_personal.len > SJ_MAX_SEALED_BYTES) {
        return s_ev_fail(reason, rs, "sealed_personal: over 4096 bytes");
    }
    ev->sealed_len = r->sealed_personal.len;
    if (ev->sealed_len) {
        memcpy(ev->sealed, r->sealed_personal.data, ev->sealed_len);
    }
    if (r->sealed_to.len != 0 && r->sealed_to.len != SJ_KEY_FP_BYTES) {
        return s_ev_fail(reason, rs, "sealed_to: a key fingerprint is 8 bytes");
    }
    ev->has_sealed_to = r->sealed_to.len == SJ_KEY_FP_BYTES;
    if (ev->has_sealed_to) {
        memcpy(ev->sealed_to, r->sealed_to.data, SJ_KEY_FP_BYTES);
    }
    ev->report.channel = (int) r->channel;
    ev->report.kind = (int) r->kind;
    ev->report.persons = r->persons;
    ev->report.level = (int) r->level;
    ev->report.category = (int) r->category;
    ev->report.outcome = (int) r->outcome;
    ev->report.source = (int) r->source;
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    if (sj_report_validate(&ev->report, reason, rs) != SJ_OK) {
        return SJ_EPROTO;
    }
    return SJ_OK;
}

static int
s_copy_status(const Sanji__StatusChange *s, sj_event_t *ev, char *reason, size_t rs)
{
    if (s->case_id.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "status_change: case_id must be 16 bytes");
    }
    memcpy(ev->case_id, s->case_id.data, SJ_ID_BYTES);
    if (!sj_enum_name(SJ_FIELD_OUTCOME, (int) s->outcome)) {
        return s_ev_fail(reason, rs, "status_change: outcome out of range");
    }
    ev->new_outcome = (int) s->outcome;
    /* 0: not given (a status change packed before the field existed; the
     * v1 frames of tests/data carry such events): still valid. */
    if (s->prev_outcome != 0 && !sj_enum_name(SJ_FIELD_OUTCOME, (int) s->prev_outcome)) {
        return s_ev_fail(reason, rs, "status_change: prev_outcome out of range");
    }
    ev->prev_outcome = (int) s->prev_outcome;
    if (s->prev_change.len != 0 && s->prev_change.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "status_change: prev_change must be 16 bytes or empty");
    }
    ev->has_prev_change = s->prev_change.len == SJ_ID_BYTES;
    if (ev->has_prev_change) {
        memcpy(ev->prev_change, s->prev_change.data, SJ_ID_BYTES);
    }
    if (sj_wire_text(s->note, ev->note, sizeof ev->note) != SJ_OK) {
        return s_ev_fail(reason, rs, "status_change: note over 2000 bytes, or not UTF-8");
    }
    if (sj_wire_text(s->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "status_change: officer over 128 bytes, or not UTF-8");
    }
    if (s->satisfaction != 0
        && (!sj_satisfaction_name((int) s->satisfaction)
            || !sj_outcome_is_concluded(ev->new_outcome))) {
        return s_ev_fail(reason, rs,
                         "status_change: satisfaction out of range, or on a change that does"
                         " not conclude the case");
    }
    ev->satisfaction = (int) s->satisfaction;
    return SJ_OK;
}

static int
s_copy_assignment(const Sanji__Assignment *a, sj_event_t *ev, char *reason, size_t rs)
{
    if (a->case_id.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "assignment: case_id must be 16 bytes");
    }
    memcpy(ev->case_id, a->case_id.data, SJ_ID_BYTES);
    int lvl = 0;
    if (sj_wire_text(a->assignee, ev->assignee, sizeof ev->assignee) != SJ_OK
        || ((lvl = sj_code_level(ev->assignee)) != 9 && lvl != 12)) {
        return s_ev_fail(reason, rs,
                         "assignment: assignee is not a 9-digit township or 12-digit station code");
    }
    if (sj_wire_text(a->due_on, ev->due_on, sizeof ev->due_on) != SJ_OK
        || !sj_date_valid(ev->due_on)) {
        return s_ev_fail(reason, rs, "assignment: due_on is not a date YYYY-MM-DD");
    }
    if (sj_wire_text(a->note, ev->note, sizeof ev->note) != SJ_OK) {
        return s_ev_fail(reason, rs, "assignment: note over 2000 bytes, or not UTF-8");
    }
    if (sj_wire_text(a->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "assignment: officer over 128 bytes, or not UTF-8");
    }
    return SJ_OK;
}

/* An enum of a correction: 0 (unchanged) or a valid value. */
static int
s_enum_or_zero(sj_field_t field, int v)
{
    return v == 0 || sj_enum_name(field, v) != NULL;
}

static int
s_copy_correction(const Sanji__Correction *c, sj_event_t *ev, char *reason, size_t rs)
{
    if (c->case_id.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "correction: case_id must be 16 bytes");
    }
    memcpy(ev->case_id, c->case_id.data, SJ_ID_BYTES);
    if (sj_wire_text(c->occurred_on, ev->report.occurred_on, sizeof ev->report.occurred_on) != SJ_OK
        || (ev->report.occurred_on[0] && !sj_date_valid(ev->report.occurred_on))) {
        return s_ev_fail(reason, rs, "correction: occurred_on is not a date YYYY-MM-DD");
    }
    ev->report.channel = (int) c->channel;
    ev->report.kind = (int) c->kind;
    ev->report.level = (int) c->level;
    ev->report.category = (int) c->category;
    ev->report.source = (int) c->source;
    if (!s_enum_or_zero(SJ_FIELD_CHANNEL, ev->report.channel)
        || !s_enum_or_zero(SJ_FIELD_KIND, ev->report.kind)
        || !s_enum_or_zero(SJ_FIELD_LEVEL, ev->report.level)
        || !s_enum_or_zero(SJ_FIELD_CATEGORY, ev->report.category)
        || !s_enum_or_zero(SJ_FIELD_SOURCE, ev->report.source)) {
        return s_ev_fail(reason, rs,
                         "correction: a channel, kind, level, category or source"
                         " out of range");
    }
    if (c->persons > SJ_MAX_PERSONS) {
        return s_ev_fail(reason, rs, "correction: persons over 100000");
    }
    ev->report.persons = c->persons;
    if (sj_wire_text(c->summary, ev->summary, sizeof ev->summary) != SJ_OK) {
        return s_ev_fail(reason, rs, "correction: summary over 4000 bytes, or not UTF-8");
    }
    ev->report.summary = ev->summary;
    if (sj_wire_text(c->reason, ev->note, sizeof ev->note) != SJ_OK || !ev->note[0]) {
        return s_ev_fail(reason, rs, "correction: reason missing, over 2000 bytes, or not UTF-8");
    }
    if (sj_wire_text(c->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "correction: officer over 128 bytes, or not UTF-8");
    }
    ev->report.officer = ev->officer;
    if (!ev->report.occurred_on[0] && !ev->report.channel && !ev->report.kind && !ev->report.persons
        && !ev->report.level && !ev->report.category && !ev->report.source && !ev->summary[0]) {
        return s_ev_fail(reason, rs, "correction: changes no field");
    }
    return SJ_OK;
}

static int
s_copy_void(const Sanji__Void *v, sj_event_t *ev, char *reason, size_t rs)
{
    if (v->case_id.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "void: case_id must be 16 bytes");
    }
    memcpy(ev->case_id, v->case_id.data, SJ_ID_BYTES);
    if (sj_wire_text(v->reason, ev->note, sizeof ev->note) != SJ_OK || !ev->note[0]) {
        return s_ev_fail(reason, rs, "void: reason missing, over 2000 bytes, or not UTF-8");
    }
    if (sj_wire_text(v->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "void: officer over 128 bytes, or not UTF-8");
    }
    return SJ_OK;
}

static int
s_copy_extension(const Sanji__Extension *x, sj_event_t *ev, char *reason, size_t rs)
{
    if (x->case_id.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "extension: case_id must be 16 bytes");
    }
    memcpy(ev->case_id, x->case_id.data, SJ_ID_BYTES);
    if (x->stage < SANJI__CLOCK_STAGE__CLOCK_STAGE_ACCEPTANCE
        || x->stage > SANJI__CLOCK_STAGE__CLOCK_STAGE_REVIEW) {
        return s_ev_fail(reason, rs, "extension: stage is not acceptance, conclusion or review");
    }
    ev->ext_stage = (int) x->stage;
    if (x->days < 1 || x->days > SJ_PERIOD_MAX_DAYS) {
        return s_ev_fail(reason, rs, "extension: days must be 1..365");
    }
    ev->ext_days = (int) x->days;
    if (sj_wire_text(x->reason, ev->note, sizeof ev->note) != SJ_OK || !ev->note[0]) {
        return s_ev_fail(reason, rs, "extension: reason missing, over 2000 bytes, or not UTF-8");
    }
    if (sj_wire_text(x->approved_by, ev->approved_by, sizeof ev->approved_by) != SJ_OK
        || !ev->approved_by[0]) {
        return s_ev_fail(reason, rs,
                         "extension: approved_by missing, over 128 bytes, or not UTF-8");
    }
    if (sj_wire_text(x->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "extension: officer over 128 bytes, or not UTF-8");
    }
    return SJ_OK;
}

static int
s_copy_evaluation(const Sanji__Evaluation *x, sj_event_t *ev, char *reason, size_t rs)
{
    if (x->case_id.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "evaluation: case_id must be 16 bytes");
    }
    memcpy(ev->case_id, x->case_id.data, SJ_ID_BYTES);
    if (!sj_satisfaction_name((int) x->satisfaction)) {
        return s_ev_fail(reason, rs, "evaluation: satisfaction must be 1..4");
    }
    ev->satisfaction = (int) x->satisfaction;
    if (sj_wire_text(x->note, ev->note, sizeof ev->note) != SJ_OK) {
        return s_ev_fail(reason, rs, "evaluation: note over 2000 bytes, or not UTF-8");
    }
    if (sj_wire_text(x->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "evaluation: officer over 128 bytes, or not UTF-8");
    }
    return SJ_OK;
}

static int
s_copy_approval(const Sanji__Approval *a, sj_event_t *ev, char *reason, size_t rs)
{
    if (sj_wire_text(a->month, ev->month, sizeof ev->month) != SJ_OK
        || !sj_month_valid(ev->month)) {
        return s_ev_fail(reason, rs, "approval: month is not YYYY-MM");
    }
    if (sj_wire_text(a->officer, ev->officer, sizeof ev->officer) != SJ_OK) {
        return s_ev_fail(reason, rs, "approval: officer over 128 bytes, or not UTF-8");
    }
    return SJ_OK;
}

static int
s_copy_quarantined(const Sanji__Quarantined *q, sj_event_t *ev, char *reason, size_t rs)
{
    if (sj_wire_text(q->origin, ev->quarantined.origin, sizeof ev->quarantined.origin) != SJ_OK
        || !sj_code_level(ev->quarantined.origin)) {
        return s_ev_fail(reason, rs, "quarantined: origin is not a 6, 9 or 12-digit code");
    }
    if (q->epoch.len != SJ_EPOCH_BYTES || q->hash.len != SJ_HASH_BYTES || q->origin_seq < 1) {
        return s_ev_fail(reason, rs, "quarantined: epoch, origin_seq or hash is missing");
    }
    if (sj_wire_text(q->reason, ev->note, sizeof ev->note) != SJ_OK) {
        return s_ev_fail(reason, rs, "quarantined: reason over 2000 bytes, or not UTF-8");
    }
    memcpy(ev->quarantined.epoch, q->epoch.data, SJ_EPOCH_BYTES);
    memcpy(ev->quarantined.hash, q->hash.data, SJ_HASH_BYTES);
    ev->quarantined.origin_seq = q->origin_seq;
    ev->quarantined.code = q->code;
    return SJ_OK;
}

/* The allocator of one event's unpack: buf first (see s_arena_t), then a
 * budget of BUDGET_FACTOR times the event's length. */
static ProtobufCAllocator
s_event_alloc(s_arena_t *arena, max_align_t *buf, size_t size, size_t len)
{
    arena->budget.used = 0;
    arena->budget.limit = BUDGET_FACTOR * len + 4096;
    arena->buf = (unsigned char *) buf;
    arena->size = size;
    arena->off = 0;
    ProtobufCAllocator alloc = {
        .alloc = s_arena_alloc, .free = s_arena_free, .allocator_data = arena};
    return alloc;
}

int
sj_event_peek(const uint8_t *data,
              size_t len,
              char origin[SJ_CODE_MAX + 1],
              uint8_t epoch[SJ_EPOCH_BYTES],
              uint64_t *origin_seq)
{
    if (len == 0 || len > SJ_WIRE_MAX_EVENT) {
        return SJ_EPROTO;
    }
    max_align_t buf[2048 / sizeof(max_align_t)];
    s_arena_t arena;
    ProtobufCAllocator alloc = s_event_alloc(&arena, buf, sizeof buf, len);
    Sanji__Event *pb = sanji__event__unpack(&alloc, len, data);
    if (!pb) {
        return SJ_EPROTO;
    }
    int rc = SJ_EPROTO;
    if (pb->epoch.len == SJ_EPOCH_BYTES && pb->origin_seq >= 1
        && sj_wire_text(pb->origin, origin, SJ_CODE_MAX + 1) == SJ_OK && sj_code_level(origin)) {
        memcpy(epoch, pb->epoch.data, SJ_EPOCH_BYTES);
        *origin_seq = pb->origin_seq;
        rc = SJ_OK;
    }
    sanji__event__free_unpacked(pb, &alloc);
    return rc;
}

int
sj_event_decode(const uint8_t *data, size_t len, sj_event_t *ev, char *reason, size_t reason_size)
{
    if (len == 0 || len > SJ_WIRE_MAX_EVENT) {
        return s_ev_fail(reason, reason_size, "event is empty or over 16 KiB");
    }
    max_align_t buf[2048 / sizeof(max_align_t)];
    s_arena_t arena;
    ProtobufCAllocator alloc = s_event_alloc(&arena, buf, sizeof buf, len);
    Sanji__Event *pb = sanji__event__unpack(&alloc, len, data);
    if (!pb) {
        return s_ev_fail(reason, reason_size, "event is not a valid protobuf Event");
    }
    int rc = SJ_EPROTO;
    memset(ev, 0, offsetof(sj_event_t, summary));
    ev->summary[0] = ev->officer[0] = ev->note[0] = '\0';
    ev->sealed_len = 0;
    ev->has_sealed_to = 0;
    ev->new_outcome = ev->prev_outcome = 0;
    memset(ev->case_id, 0, SJ_ID_BYTES);
    memset(ev->prev_change, 0, SJ_ID_BYTES);
    ev->has_prev_change = 0;
    ev->assignee[0] = ev->due_on[0] = '\0';
    ev->ext_stage = ev->ext_days = 0;
    ev->satisfaction = 0;
    ev->approved_by[0] = '\0';
    memset(&ev->quarantined, 0, sizeof ev->quarantined);
    if (pb->id.len != SJ_ID_BYTES || pb->epoch.len != SJ_EPOCH_BYTES
        || pb->prev_hash.len != SJ_HASH_BYTES) {
        s_ev_fail(reason, reason_size, "event: id, epoch or prev_hash has the wrong length");
        goto out;
    }
    if (sj_wire_text(pb->origin, ev->origin, sizeof ev->origin) != SJ_OK
        || !sj_code_level(ev->origin)) {
        s_ev_fail(reason, reason_size, "event: origin is not a 6, 9 or 12-digit code");
        goto out;
    }
    if (pb->origin_seq < 1) {
        s_ev_fail(reason, reason_size, "event: origin_seq is 0");
        goto out;
    }
    memcpy(ev->id, pb->id.data, SJ_ID_BYTES);
    memcpy(ev->epoch, pb->epoch.data, SJ_EPOCH_BYTES);
    memcpy(ev->prev_hash, pb->prev_hash.data, SJ_HASH_BYTES);
    ev->origin_seq = pb->origin_seq;
    ev->created_ms = pb->created_ms;
    ev->account[0] = '\0';
    if (pb->account.len > 0
        && sj_wire_text(pb->account, ev->account, sizeof ev->account) != SJ_OK) {
        s_ev_fail(reason, reason_size, "event: account is not UTF-8 text of at most 64 bytes");
        goto out;
    }
    switch (pb->body_case) {
    case SANJI__EVENT__BODY_REPORT:
        ev->type = SJ_EVENT_REPORT;
        rc = s_copy_report(pb->report, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_STATUS_CHANGE:
        ev->type = SJ_EVENT_STATUS;
        rc = s_copy_status(pb->status_change, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_ASSIGNMENT:
        ev->type = SJ_EVENT_ASSIGNMENT;
        rc = s_copy_assignment(pb->assignment, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_QUARANTINED:
        ev->type = SJ_EVENT_QUARANTINED;
        rc = s_copy_quarantined(pb->quarantined, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_CORRECTION:
        ev->type = SJ_EVENT_CORRECTION;
        rc = s_copy_correction(pb->correction, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_VOID:
        ev->type = SJ_EVENT_VOID;
        rc = s_copy_void(pb->void_, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_EVALUATION:
        ev->type = SJ_EVENT_EVALUATION;
        rc = s_copy_evaluation(pb->evaluation, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_EXTENSION:
        ev->type = SJ_EVENT_EXTENSION;
        rc = s_copy_extension(pb->extension, ev, reason, reason_size);
        break;
    case SANJI__EVENT__BODY_APPROVAL:
        ev->type = SJ_EVENT_APPROVAL;
        rc = s_copy_approval(pb->approval, ev, reason, reason_size);
        break;
    default:
        if (s_unknown_tag(&pb->base)) {
            snprintf(reason, reason_size,
                     "event type (Event field %u) is not known to this node, which speaks"
                     " protocol version %d: upgrade it",
                     s_unknown_tag(&pb->base), SJ_PROTO_VERSION);
        } else {
            s_ev_fail(reason, reason_size, "event has no body");
        }
        break;
    }
out:
    sanji__event__free_unpacked(pb, &alloc);
    return rc;
}

int
sj_event_encode(const sj_event_t *ev, uint8_t **buf, size_t *len)
{
    Sanji__Event pb = SANJI__EVENT__INIT;
    Sanji__Report rep = SANJI__REPORT__INIT;
    Sanji__StatusChange st = SANJI__STATUS_CHANGE__INIT;
    Sanji__Assignment as = SANJI__ASSIGNMENT__INIT;
    Sanji__Quarantined qu = SANJI__QUARANTINED__INIT;
    Sanji__Correction co = SANJI__CORRECTION__INIT;
    Sanji__Void vo = SANJI__VOID__INIT;
    Sanji__Extension ex = SANJI__EXTENSION__INIT;
    Sanji__Evaluation eva = SANJI__EVALUATION__INIT;
    Sanji__Approval ap = SANJI__APPROVAL__INIT;
    pb.id.data = (uint8_t *) ev->id;
    pb.id.len = SJ_ID_BYTES;
    pb.origin = sj_wire_bytes(ev->origin);
    pb.epoch.data = (uint8_t *) ev->epoch;
    pb.epoch.len = SJ_EPOCH_BYTES;
    pb.origin_seq = ev->origin_seq;
    pb.prev_hash.data = (uint8_t *) ev->prev_hash;
    pb.prev_hash.len = SJ_HASH_BYTES;
    pb.created_ms = ev->created_ms;
    pb.account = sj_wire_bytes(ev->account);
    if (ev->type == SJ_EVENT_REPORT) {
        rep.occurred_on = sj_wire_bytes(ev->report.occurred_on);
        rep.channel = (Sanji__Channel) ev->report.channel;
        rep.kind = (Sanji__Kind) ev->report.kind;
        rep.persons = ev->report.persons;
        rep.level = (Sanji__Level) ev->report.level;
        rep.category = (Sanji__Category) ev->report.category;
        rep.outcome = (Sanji__Outcome) ev->report.outcome;
        rep.source = (Sanji__Source) ev->report.source;
        rep.summary = sj_wire_bytes(ev->report.summary);
        rep.officer = sj_wire_bytes(ev->report.officer);
        rep.sealed_personal.data = (uint8_t *) ev->sealed;
        rep.sealed_personal.len = ev->sealed_len;
        if (ev->has_sealed_to) {
            rep.sealed_to.data = (uint8_t *) ev->sealed_to;
            rep.sealed_to.len = SJ_KEY_FP_BYTES;
        }
        pb.body_case = SANJI__EVENT__BODY_REPORT;
        pb.report = &rep;
    } else if (ev->type == SJ_EVENT_STATUS) {
        st.case_id.data = (uint8_t *) ev->case_id;
        st.case_id.len = SJ_ID_BYTES;
        st.outcome = (Sanji__Outcome) ev->new_outcome;
        st.prev_outcome = (Sanji__Outcome) ev->prev_outcome;
        if (ev->has_prev_change) {
            st.prev_change.data = (uint8_t *) ev->prev_change;
            st.prev_change.len = SJ_ID_BYTES;
        }
        st.note = sj_wire_bytes(ev->note);
        st.officer = sj_wire_bytes(ev->officer);
        st.satisfaction = (Sanji__Satisfaction) ev->satisfaction;
        pb.body_case = SANJI__EVENT__BODY_STATUS_CHANGE;
        pb.status_change = &st;
    } else if (ev->type == SJ_EVENT_ASSIGNMENT) {
        as.case_id.data = (uint8_t *) ev->case_id;
        as.case_id.len = SJ_ID_BYTES;
        as.assignee = sj_wire_bytes(ev->assignee);
        as.due_on = sj_wire_bytes(ev->due_on);
        as.note = sj_wire_bytes(ev->note);
        as.officer = sj_wire_bytes(ev->officer);
        pb.body_case = SANJI__EVENT__BODY_ASSIGNMENT;
        pb.assignment = &as;
    } else if (ev->type == SJ_EVENT_QUARANTINED) {
        qu.origin = sj_wire_bytes(ev->quarantined.origin);
        qu.epoch.data = (uint8_t *) ev->quarantined.epoch;
        qu.epoch.len = SJ_EPOCH_BYTES;
        qu.origin_seq = ev->quarantined.origin_seq;
        qu.code = ev->quarantined.code;
        qu.reason = sj_wire_bytes(ev->note);
        qu.hash.data = (uint8_t *) ev->quarantined.hash;
        qu.hash.len = SJ_HASH_BYTES;
        pb.body_case = SANJI__EVENT__BODY_QUARANTINED;
        pb.quarantined = &qu;
    } else if (ev->type == SJ_EVENT_CORRECTION) {
        co.case_id.data = (uint8_t *) ev->case_id;
        co.case_id.len = SJ_ID_BYTES;
        co.occurred_on = sj_wire_bytes(ev->report.occurred_on);
        co.channel = (Sanji__Channel) ev->report.channel;
        co.kind = (Sanji__Kind) ev->report.kind;
        co.persons = ev->report.persons;
        co.level = (Sanji__Level) ev->report.level;
        co.category = (Sanji__Category) ev->report.category;
        co.source = (Sanji__Source) ev->report.source;
        co.summary = sj_wire_bytes(ev->report.summary ? ev->report.summary : "");
        co.reason = sj_wire_bytes(ev->note);
        co.officer = sj_wire_bytes(ev->officer);
        pb.body_case = SANJI__EVENT__BODY_CORRECTION;
        pb.correction = &co;
    } else if (ev->type == SJ_EVENT_VOID) {
        vo.case_id.data = (uint8_t *) ev->case_id;
        vo.case_id.len = SJ_ID_BYTES;
        vo.reason = sj_wire_bytes(ev->note);
        vo.officer = sj_wire_bytes(ev->officer);
        pb.body_case = SANJI__EVENT__BODY_VOID;
        pb.void_ = &vo;
    } else if (ev->type == SJ_EVENT_EXTENSION) {
        ex.case_id.data = (uint8_t *) ev->case_id;
        ex.case_id.len = SJ_ID_BYTES;
        ex.stage = (Sanji__ClockStage) ev->ext_stage;
        ex.days = (uint32_t) ev->ext_days;
        ex.reason = sj_wire_bytes(ev->note);
        ex.approved_by = sj_wire_bytes(ev->approved_by);
        ex.officer = sj_wire_bytes(ev->officer);
        pb.body_case = SANJI__EVENT__BODY_EXTENSION;
        pb.extension = &ex;
    } else if (ev->type == SJ_EVENT_EVALUATION) {
        eva.case_id.data = (uint8_t *) ev->case_id;
        eva.case_id.len = SJ_ID_BYTES;
        eva.satisfaction = (Sanji__Satisfaction) ev->satisfaction;
        eva.note = sj_wire_bytes(ev->note);
        eva.officer = sj_wire_bytes(ev->officer);
        pb.body_case = SANJI__EVENT__BODY_EVALUATION;
        pb.evaluation = &eva;
    } else if (ev->type == SJ_EVENT_APPROVAL) {
        ap.month = sj_wire_bytes(ev->month);
        ap.officer = sj_wire_bytes(ev->officer);
        pb.body_case = SANJI__EVENT__BODY_APPROVAL;
        pb.approval = &ap;
    } else {
        return SJ_EINVAL;
    }
    size_t n = sanji__event__get_packed_size(&pb);
    if (n > SJ_WIRE_MAX_EVENT) {
        return SJ_EINVAL;
    }
    uint8_t *b = malloc(n);
    if (!b) {
        return SJ_ENOMEM;
    }
    sanji__event__pack(&pb, b);
    *buf = b;
    *len = n;
    return SJ_OK;
}

void
sj_event_hash(const uint8_t *data, size_t len, uint8_t out[SJ_HASH_BYTES])
{
    crypto_generichash(out, SJ_HASH_BYTES, data, len, NULL, 0);
}

/* ---- downward items ---- */

/* The clock's facts of a snapshot (issue 16): each entry a change in force
 * with a known outcome or an extension of a known stage, dated. */
static int
s_copy_clock(const Sanji__CaseSnapshot *c, sj_snapshot_t *s, char *reason, size_t rs)
{
    s->has_clock = c->has_clock ? 1 : 0;
    s->n_clock = 0;
    s->reported_outcome = 0;
    s->source = 0;
    if (!s->has_clock) {
        return SJ_OK;
    }
    if (c->n_clock > SJ_SNAP_CLOCK_MAX) {
        snprintf(reason, rs, "down item: %zu clock entries, at most %d", c->n_clock,
                 SJ_SNAP_CLOCK_MAX);
        return SJ_EPROTO;
    }
    if (!sj_enum_name(SJ_FIELD_OUTCOME, (int) c->reported_outcome)
        || (c->source != 0 && !sj_enum_name(SJ_FIELD_SOURCE, (int) c->source))) {
        return s_ev_fail(reason, rs, "down item: reported_outcome or source out of range");
    }
    s->reported_outcome = (int) c->reported_outcome;
    s->source = (int) c->source;
    for (size_t i = 0; i < c->n_clock; i++) {
        const Sanji__ClockEntry *e = c->clock[i];
        sj_clock_ev_t *o = &s->clock[i];
        memset(o, 0, sizeof *o);
        if (sj_wire_text(e->day, o->day, sizeof o->day) != SJ_OK || !sj_date_valid(o->day)) {
            return s_ev_fail(reason, rs, "down item: a clock entry's day is not YYYY-MM-DD");
        }
        if (e->type == SJ_CLOCK_CHANGE && sj_enum_name(SJ_FIELD_OUTCOME, (int) e->outcome)) {
            o->kind = SJ_CLOCK_CHANGE;
            o->outcome = (int) e->outcome;
        } else if (e->type == SJ_CLOCK_EXTENSION && sj_stage_name((int) e->stage) && e->days >= 1
                   && e->days <= SJ_PERIOD_MAX_DAYS) {
            o->kind = SJ_CLOCK_EXTENSION;
            o->stage = (int) e->stage;
            o->days = (int) e->days;
        } else {
            return s_ev_fail(reason, rs,
                             "down item: a clock entry is neither a change with an outcome nor"
                             " an extension of a stage by 1..365 days");
        }
    }
    s->n_clock = c->n_clock;
    return SJ_OK;
}

static int
s_copy_snapshot(const Sanji__CaseSnapshot *c, sj_snapshot_t *s, char *reason, size_t rs)
{
    if (!c) {
        return s_ev_fail(reason, rs, "down item: no case snapshot");
    }
    if (sj_wire_text(c->occurred_on, s->occurred_on, sizeof s->occurred_on) != SJ_OK
        || !sj_date_valid(s->occurred_on)) {
        return s_ev_fail(reason, rs, "down item: occurred_on is not a date YYYY-MM-DD");
    }
    if (!sj_enum_name(SJ_FIELD_CHANNEL, (int) c->channel)
        || !sj_enum_name(SJ_FIELD_CATEGORY, (int) c->category)
        || !sj_enum_name(SJ_FIELD_KIND, (int) c->kind)
        || !sj_enum_name(SJ_FIELD_OUTCOME, (int) c->outcome)) {
        return s_ev_fail(reason, rs, "down item: channel, category, kind or outcome out of range");
    }
    if (c->persons < 1 || c->persons > SJ_MAX_PERSONS) {
        return s_ev_fail(reason, rs, "down item: persons out of range");
    }
    if (sj_wire_text(c->summary, s->summary, sizeof s->summary) != SJ_OK) {
        return s_ev_fail(reason, rs, "down item: summary over 4000 bytes, or not UTF-8");
    }
    if (sj_wire_text(c->origin, s->origin, sizeof s->origin) != SJ_OK
        || sj_code_level(s->origin) != 12) {
        return s_ev_fail(reason, rs, "down item: origin is not a 12-digit station code");
    }
    s->channel = (int) c->channel;
    s->category = (int) c->category;
    s->kind = (int) c->kind;
    s->persons = c->persons;
    s->outcome = (int) c->outcome;
    s->conflict = c->conflict ? 1 : 0;
    s->as_of_ms = c->as_of_ms;
    if (c->head.len != 0 && c->head.len != SJ_ID_BYTES) {
        return s_ev_fail(reason, rs, "down item: head must be 16 bytes or empty");
    }
    s->has_head = c->head.len == SJ_ID_BYTES;
    memset(s->head, 0, SJ_ID_BYTES);
    if (s->has_head) {
        memcpy(s->head, c->head.data, SJ_ID_BYTES);
    }
    return s_copy_clock(c, s, reason, rs);
}

int
sj_place_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SJ_PLACE_NAME_MAX || !sj_utf8_valid(name, n)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char) name[i] < 0x20 || name[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* A PlaceList's names, each a valid code and name. */
static int
s_copy_places(const Sanji__PlaceList *pl, sj_down_item_t *out, char *reason, size_t rs)
{
    if (!pl) {
        return s_ev_fail(reason, rs, "down item: a place list without its list");
    }
    if (pl->n_places > SJ_PLACES_PER_ITEM) {
        snprintf(reason, rs, "down item: %zu place names, at most %d in one item", pl->n_places,
                 SJ_PLACES_PER_ITEM);
        return SJ_EPROTO;
    }
    for (size_t i = 0; i < pl->n_places; i++) {
        sj_place_t *p = &out->places[i];
        const Sanji__Place *q = pl->places[i];
        if (!q || sj_wire_text(q->code, p->code, sizeof p->code) != SJ_OK
            || !sj_code_level(p->code)) {
            snprintf(reason, rs, "down item: place %zu has no valid code", i + 1);
            return SJ_EPROTO;
        }
        if (sj_wire_text(q->name, p->name, sizeof p->name) != SJ_OK
            || !sj_place_name_valid(p->name)) {
            snprintf(reason, rs, "down item: place %s has no valid name (1..%d bytes of UTF-8)",
                     p->code, SJ_PLACE_NAME_MAX);
            return SJ_EPROTO;
        }
    }
    out->n_places = pl->n_places;
    return SJ_OK;
}

/* A Periods message, each value in its range (sj_periods_check). */
static int
s_copy_periods(const Sanji__Periods *pp, sj_periods_t *p, char *reason, size_t rs)
{
    if (!pp) {
        return s_ev_fail(reason, rs, "down item: kind 3 (periods) without its Periods");
    }
    const uint32_t v[5] = {pp->accept_days, pp->conclude_days, pp->review_days, pp->extend_max_days,
                           pp->extend_count};
    for (int i = 0; i < 5; i++) {
        if (v[i] > 100000) {
            return s_ev_fail(reason, rs, "down item: a period is out of range");
        }
    }
    p->accept_days = (int) v[0];
    p->conclude_days = (int) v[1];
    p->review_days = (int) v[2];
    p->extend_max = (int) v[3];
    p->extend_count = (int) v[4];
    char why[160];
    if (sj_periods_check(p, why, sizeof why) != SJ_OK) {
        snprintf(reason, rs, "down item: periods: %s", why);
        return SJ_EPROTO;
    }
    return SJ_OK;
}

int
sj_down_periods_encode(const char *to, const sj_periods_t *p, uint8_t **buf, size_t *len)
{
    Sanji__DownItem it = SANJI__DOWN_ITEM__INIT;
    Sanji__Periods pp = SANJI__PERIODS__INIT;
    pp.accept_days = (uint32_t) p->accept_days;
    pp.conclude_days = (uint32_t) p->conclude_days;
    pp.review_days = (uint32_t) p->review_days;
    pp.extend_max_days = (uint32_t) p->extend_max;
    pp.extend_count = (uint32_t) p->extend_count;
    it.kind = SJ_DOWN_KIND_PERIODS;
    it.to = sj_wire_bytes(to);
    it.periods = &pp;
    size_t sz = sanji__down_item__get_packed_size(&it);
    uint8_t *b = malloc(sz ? sz : 1);
    if (!b) {
        return SJ_ENOMEM;
    }
    sanji__down_item__pack(&it, b);
    *buf = b;
    *len = sz;
    return SJ_OK;
}

int
sj_down_places_encode(
    const char *to, const sj_place_t *places, size_t n, uint8_t **buf, size_t *len)
{
    if (n > SJ_PLACES_PER_ITEM) {
        return SJ_EINVAL;
    }
    Sanji__DownItem it = SANJI__DOWN_ITEM__INIT;
    Sanji__PlaceList pl = SANJI__PLACE_LIST__INIT;
    Sanji__Place *ps = calloc(n ? n : 1, sizeof *ps);
    Sanji__Place **pp = calloc(n ? n : 1, sizeof *pp);
    if (!ps || !pp) {
        free(ps);
        free(pp);
        return SJ_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        sanji__place__init(&ps[i]);
        ps[i].code = sj_wire_bytes(places[i].code);
        ps[i].name = sj_wire_bytes(places[i].name);
        pp[i] = &ps[i];
    }
    pl.n_places = n;
    pl.places = pp;
    it.kind = SJ_DOWN_KIND_PLACES;
    it.to = sj_wire_bytes(to);
    it.places = &pl;
    int rc = SJ_OK;
    size_t sz = sanji__down_item__get_packed_size(&it);
    uint8_t *b = sz <= SJ_WIRE_MAX_ITEM ? malloc(sz ? sz : 1) : NULL;
    if (sz > SJ_WIRE_MAX_ITEM) {
        rc = SJ_EINVAL;
    } else if (!b) {
        rc = SJ_ENOMEM;
    } else {
        sanji__down_item__pack(&it, b);
        *buf = b;
        *len = sz;
    }
    free(ps);
    free(pp);
    return rc;
}

int
sj_down_item_decode(
    const uint8_t *data, size_t len, sj_down_item_t *out, char *reason, size_t reason_size)
{
    if (len == 0 || len > SJ_WIRE_MAX_ITEM) {
        return s_ev_fail(reason, reason_size, "down item is empty or over 24 KiB");
    }
    s_budget_t budget = {.used = 0, .limit = BUDGET_FACTOR * len + 4096};
    ProtobufCAllocator alloc = {
        .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = &budget};
    Sanji__DownItem *pb = sanji__down_item__unpack(&alloc, len, data);
    if (!pb) {
        return s_ev_fail(reason, reason_size, "down item is not a valid protobuf DownItem");
    }
    int rc = SJ_EPROTO;
    char why[200];
    if (!sj_down_kind_known(pb->kind)) {
        snprintf(reason, reason_size, "down item: kind %u is not known here", (unsigned) pb->kind);
        goto out;
    }
    out->kind = pb->kind == SJ_DOWN_KIND_PLACES || pb->kind == SJ_DOWN_KIND_PERIODS
                    ? pb->kind
                    : SJ_DOWN_KIND_ASSIGNMENT;
    out->n_places = 0;
    if (sj_wire_text(pb->to, out->to, sizeof out->to) != SJ_OK
        || (out->to[0] && !sj_code_level(out->to))) {
        s_ev_fail(reason, reason_size, "down item: `to` is not a place code");
        goto out;
    }
    if (out->kind == SJ_DOWN_KIND_PLACES) {
        rc = s_copy_places(pb->places, out, reason, reason_size);
        goto out;
    }
    if (out->kind == SJ_DOWN_KIND_PERIODS) {
        rc = s_copy_periods(pb->periods, &out->periods, reason, reason_size);
        goto out;
    }
    if (sj_event_decode(pb->event.data, pb->event.len, &out->ev, why, sizeof why) != SJ_OK) {
        snprintf(reason, reason_size, "down item: event: %s", why);
        goto out;
    }
    if (out->ev.type != SJ_EVENT_ASSIGNMENT) {
        s_ev_fail(reason, reason_size, "down item: the event is not an assignment");
        goto out;
    }
    if (sj_code_level(out->ev.origin) != 6 && sj_code_level(out->ev.origin) != 9) {
        s_ev_fail(reason, reason_size,
                  "down item: an assignment must come from a county or a"
                  " township");
        goto out;
    }
    rc = s_copy_snapshot(pb->snapshot, &out->snap, reason, reason_size);
out:
    sanji__down_item__free_unpacked(pb, &alloc);
    return rc;
}

int
sj_down_kind_known(uint32_t kind)
{
    return kind == SJ_DOWN_KIND_OLD || kind == SJ_DOWN_KIND_ASSIGNMENT
           || kind == SJ_DOWN_KIND_PLACES || kind == SJ_DOWN_KIND_PERIODS;
}

int
sj_down_item_peek(const uint8_t *data,
                  size_t len,
                  uint32_t *kind,
                  char to[SJ_CODE_MAX + 1],
                  uint8_t event_id[SJ_ID_BYTES],
                  int *has_id)
{
    *kind = 0;
    to[0] = '\0';
    *has_id = 0;
    if (len == 0 || len > SJ_WIRE_MAX_ITEM) {
        return SJ_EPROTO;
    }
    s_budget_t budget = {.used = 0, .limit = BUDGET_FACTOR * len + 4096};
    ProtobufCAllocator alloc = {
        .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = &budget};
    Sanji__DownItem *pb = sanji__down_item__unpack(&alloc, len, data);
    if (!pb) {
        return SJ_EPROTO;
    }
    *kind = pb->kind;
    if (sj_wire_text(pb->to, to, SJ_CODE_MAX + 1) != SJ_OK) {
        to[0] = '\0';
    }
    Sanji__Event *pe =
        pb->event.len ? sanji__event__unpack(&alloc, pb->event.len, pb->event.data) : NULL;
    if (pe) {
        if (pe->id.len == SJ_ID_BYTES) {
            memcpy(event_id, pe->id.data, SJ_ID_BYTES);
            *has_id = 1;
        }
        sanji__event__free_unpacked(pe, &alloc);
    }
    sanji__down_item__free_unpacked(pb, &alloc);
    return SJ_OK;
}

int
sj_down_item_encode(
    const uint8_t *event, size_t event_len, const sj_snapshot_t *snap, uint8_t **buf, size_t *len)
{
    Sanji__DownItem it = SANJI__DOWN_ITEM__INIT;
    Sanji__CaseSnapshot c = SANJI__CASE_SNAPSHOT__INIT;
    it.event.data = (uint8_t *) event;
    it.event.len = event_len;
    it.kind = SJ_DOWN_KIND_ASSIGNMENT;
    char to[SJ_CODE_MAX + 1] = "";
    Sanji__Event *pe = sanji__event__unpack(NULL, event_len, event);
    if (pe) {
        if (pe->body_case == SANJI__EVENT__BODY_ASSIGNMENT && pe->assignment) {
            if (sj_wire_text(pe->assignment->assignee, to, sizeof to) != SJ_OK) {
                to[0] = '\0';
            }
        }
        sanji__event__free_unpacked(pe, NULL);
    }
    it.to = sj_wire_bytes(to);
    c.occurred_on = sj_wire_bytes(snap->occurred_on);
    c.channel = (Sanji__Channel) snap->channel;
    c.category = (Sanji__Category) snap->category;
    c.kind = (Sanji__Kind) snap->kind;
    c.persons = snap->persons;
    c.summary = sj_wire_bytes(snap->summary);
    c.origin = sj_wire_bytes(snap->origin);
    c.outcome = (Sanji__Outcome) snap->outcome;
    c.conflict = snap->conflict ? 1 : 0;
    c.as_of_ms = snap->as_of_ms;
    if (snap->has_head) {
        c.head.data = (uint8_t *) snap->head;
        c.head.len = SJ_ID_BYTES;
    }
    Sanji__ClockEntry ce[SJ_SNAP_CLOCK_MAX];
    Sanji__ClockEntry *cp[SJ_SNAP_CLOCK_MAX];
    if (snap->has_clock && snap->n_clock <= SJ_SNAP_CLOCK_MAX) {
        c.has_clock = 1;
        c.reported_outcome = (Sanji__Outcome) snap->reported_outcome;
        c.source = (Sanji__Source) snap->source;
        for (size_t i = 0; i < snap->n_clock; i++) {
            const sj_clock_ev_t *e = &snap->clock[i];
            sanji__clock_entry__init(&ce[i]);
            ce[i].type = (uint32_t) e->kind;
            ce[i].day = sj_wire_bytes(e->day);
            ce[i].outcome = (Sanji__Outcome) e->outcome;
            ce[i].stage = (Sanji__ClockStage) e->stage;
            ce[i].days = (uint32_t) (e->days > 0 ? e->days : 0);
            cp[i] = &ce[i];
        }
        c.n_clock = snap->n_clock;
        c.clock = cp;
    }
    it.snapshot = &c;
    size_t n = sanji__down_item__get_packed_size(&it);
    if (n > SJ_WIRE_MAX_ITEM) {
        return SJ_EINVAL;
    }
    uint8_t *b = malloc(n);
    if (!b) {
        return SJ_ENOMEM;
    }
    sanji__down_item__pack(&it, b);
    *buf = b;
    *len = n;
    return SJ_OK;
}
