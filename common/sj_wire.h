/* sj_wire: the only module that packs and unpacks protobuf messages.
 *
 * Frames are single ZeroMQ frames holding one Envelope (docs/PROTOCOL.md).
 * Decoding uses a byte-budget allocator (protobuf-c amplifies memory ~16x),
 * refuses unknown protocol versions, unknown message types and event bodies,
 * and every field that fails validation, and never trusts a length or a code
 * it has not checked. Fields it does not know are ignored (forward
 * compatibility: a newer node adds fields only; an event's exact bytes,
 * unknown fields included, travel and are stored as they came). Events
 * travel as packed bytes inside a Batch; sj_event_decode validates one such
 * event and copies it into a flat sj_event_t. */
#ifndef SJ_WIRE_H
#define SJ_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "sanji.pb-c.h"
#include "sj_clock.h"
#include "sj_err.h"
#include "sj_keys.h"
#include "sj_model.h"

#define SJ_PROTO_VERSION       1
#define SJ_WIRE_MAX_FRAME      (1024 * 1024) /* bytes per frame, both hops */
#define SJ_WIRE_MAX_EVENT      (16 * 1024)   /* bytes per packed event */
#define SJ_WIRE_MAX_BATCH      1000          /* events per batch */
#define SJ_WIRE_BATCH_BYTES    (512 * 1024)  /* sender's byte budget per batch */
#define SJ_WIRE_CURVE_OVERHEAD 33            /* MAXMSGSIZE counts the encrypted frame */

#define SJ_MAX_ACCOUNT_BYTES 64 /* Event.account */

#define SJ_WIRE_MAX_DOWN 100                            /* items per downward batch */
#define SJ_WIRE_MAX_ITEM (SJ_WIRE_MAX_EVENT + 8 * 1024) /* bytes per packed down item */

typedef enum {
    SJ_EVENT_REPORT = 1,
    SJ_EVENT_STATUS = 2,
    SJ_EVENT_ASSIGNMENT = 3,
    SJ_EVENT_QUARANTINED = 4, /* a parent's notice of an event it refused */
    SJ_EVENT_CORRECTION = 5,  /* new values of a matter's report fields, with a reason */
    SJ_EVENT_VOID = 6,        /* a matter entered in error (作废) */
    SJ_EVENT_EXTENSION = 7,   /* a stage's period extended (延期, docs/CLOCK.md) */
    SJ_EVENT_EVALUATION = 8,  /* the petitioner's evaluation after the conclusion */
    SJ_EVENT_APPROVAL = 9     /* a township signs off a month (issue 17 item 5) */
} sj_event_type_t;

/* One event, decoded and validated; text fields are NUL-terminated copies. */
typedef struct {
    uint8_t id[SJ_ID_BYTES];
    char origin[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    uint64_t origin_seq;
    uint8_t prev_hash[SJ_HASH_BYTES];
    int64_t created_ms;
    char account[SJ_MAX_ACCOUNT_BYTES + 1]; /* who made it on a page (issue 17); "" none */
    sj_event_type_t type;
    /* SJ_EVENT_REPORT */
    sj_report_t report; /* summary/officer point into the buffers below */
    char summary[SJ_MAX_SUMMARY_BYTES + 1];
    char officer[SJ_MAX_OFFICER_BYTES + 1];
    uint8_t sealed[SJ_MAX_SEALED_BYTES];
    size_t sealed_len;
    uint8_t sealed_to[SJ_KEY_FP_BYTES]; /* fingerprint of the key sealed to */
    int has_sealed_to;                  /* 0: not given (an older station) */
    /* SJ_EVENT_STATUS */
    uint8_t case_id[SJ_ID_BYTES];
    int new_outcome;
    int prev_outcome; /* the outcome the originator saw; 0 = not given (older sender) */
    uint8_t prev_change[SJ_ID_BYTES]; /* the change in force the originator saw (docs/CASES.md) */
    int has_prev_change;              /* 0: none named (the report's outcome, or older sender) */
    int satisfaction;                 /* STATUS (a conclusion), EVALUATION: 1..4; 0 not recorded */
    char note[SJ_MAX_NOTE_BYTES + 1];
    /* SJ_EVENT_ASSIGNMENT: case_id, note, officer as above, and */
    char assignee[SJ_CODE_MAX + 1]; /* 9-digit township or 12-digit station */
    char due_on[11];                /* YYYY-MM-DD */
    /* SJ_EVENT_EXTENSION: case_id, the reason in note, officer, and */
    int ext_stage; /* sj_stage_t (sj_clock.h): 1..3 */
    int ext_days;  /* 1..SJ_PERIOD_MAX_DAYS (the county's maximum is checked where made) */
    char approved_by[SJ_MAX_OFFICER_BYTES + 1];
    /* SJ_EVENT_CORRECTION: case_id, the reason in note, officer, and the
     * new values in report (occurred_on "", summary "", persons and enums
     * 0: unchanged; report.outcome and report.officer unused).
     * SJ_EVENT_VOID: case_id, the reason in note, officer.
     * SJ_EVENT_APPROVAL: month, officer. */
    char month[8]; /* YYYY-MM */
    /* SJ_EVENT_QUARANTINED: the refused event's position, the ErrorCode and
     * the hash of its bytes; the reason is in note */
    struct {
        char origin[SJ_CODE_MAX + 1];
        uint8_t epoch[SJ_EPOCH_BYTES];
        uint64_t origin_seq;
        uint32_t code;
        uint8_t hash[SJ_HASH_BYTES];
    } quarantined;
} sj_event_t;

/* The most clock entries a snapshot carries (CaseSnapshot.clock). */
#define SJ_SNAP_CLOCK_MAX 64

/* The case as a down item carries it (CaseSnapshot): never personal data. */
typedef struct {
    char occurred_on[11];
    int channel;
    int category;
    int kind;
    uint32_t persons;
    char summary[SJ_MAX_SUMMARY_BYTES + 1];
    char origin[SJ_CODE_MAX + 1]; /* the reporting station */
    int outcome;
    int conflict;
    int64_t as_of_ms;          /* when the sender took it */
    uint8_t head[SJ_ID_BYTES]; /* the change in force at the sender (docs/CASES.md) */
    int has_head;              /* 0: none (the report's outcome), or an older sender */
    /* Issue 16: the clock's facts (docs/CLOCK.md), has_clock 0 from an
     * older sender (or a case with more than SJ_SNAP_CLOCK_MAX of them). */
    int has_clock;
    int reported_outcome;
    int source;
    size_t n_clock;
    sj_clock_ev_t clock[SJ_SNAP_CLOCK_MAX];
} sj_snapshot_t;

/* A place's name (issue 15 item 4): a code of 6, 9 or 12 digits and its
 * name, UTF-8 of 1..SJ_PLACE_NAME_MAX bytes without control characters. */
#define SJ_PLACE_NAME_MAX 64
typedef struct {
    char code[SJ_CODE_MAX + 1];
    char name[SJ_PLACE_NAME_MAX + 1];
} sj_place_t;
/* At most this many names in one DownItem (a longer list goes as several). */
#define SJ_PLACES_PER_ITEM 200

/* One item of a downward stream (DownItem), decoded and validated. kind
 * SJ_DOWN_KIND_ASSIGNMENT (also for an item of kind 0): the assignment
 * event (its exact bytes are kept by the caller) and the case.
 * SJ_DOWN_KIND_PLACES: n_places names in places (ev and snap unset).
 * SJ_DOWN_KIND_PERIODS: the clock's periods (issue 16), checked. to:
 * the code the item is for ('' = the receiving child). */
typedef struct {
    uint32_t kind;
    char to[SJ_CODE_MAX + 1];
    sj_event_t ev;
    sj_snapshot_t snap;
    size_t n_places;
    sj_place_t places[SJ_PLACES_PER_ITEM];
    sj_periods_t periods; /* SJ_DOWN_KIND_PERIODS */
} sj_down_item_t;

/* The kinds of downward item this build applies (DownItem.kind; 0 is an
 * item made before kinds existed: an assignment). */
#define SJ_DOWN_KIND_OLD        0u
#define SJ_DOWN_KIND_ASSIGNMENT 1u
#define SJ_DOWN_KIND_PLACES     2u
#define SJ_DOWN_KIND_PERIODS    3u
/* 1: name is a valid place name (see sj_place_t). */
int sj_place_name_valid(const char *name);
/* 1: this build knows how to apply items of kind. */
int sj_down_kind_known(uint32_t kind);

/* Unpacks and validates one frame. On SJ_OK the caller owns *out and frees it
 * with sj_wire_free. On SJ_EPROTO *err_code holds a SANJI__ERROR_CODE__* value
 * and reason says what was wrong. */
SJ_NODISCARD int sj_wire_decode(const void *data,
                                size_t len,
                                Sanji__Envelope **out,
                                int *err_code,
                                char *reason,
                                size_t reason_size);
void sj_wire_free(Sanji__Envelope *env);

/* Packs env (version is set here) into a new buffer. SJ_EINVAL when it would
 * exceed SJ_WIRE_MAX_FRAME (checked on the sender: a receiver drops an over-size frame
 * silently, with what was in flight behind it; docs/PROTOCOL.md "Limits").
 * Caller frees *buf with free(). */
SJ_NODISCARD int sj_wire_pack(Sanji__Envelope *env, uint8_t **buf, size_t *len);

/* Packs and sends env on a socket with ZMQ_DONTWAIT. With rid (a ROUTER), the
 * routing-id frame goes first. Returns SJ_OK, SJ_EAGAIN (HWM, unknown peer,
 * no connection) or SJ_EINVAL (too large). The frame is not queued anywhere:
 * the database is the queue. */
SJ_NODISCARD int sj_wire_send(void *sock, const void *rid, size_t rid_len, Sanji__Envelope *env);

/* Convenience: sends an Error envelope. */
int sj_wire_send_error(void *sock, const void *rid, size_t rid_len, int code, const char *reason);

/* Validates and copies one packed event. SJ_EPROTO with reason on failure.
 * Fields it does not know are ignored; an event body it does not know (a
 * newer event type) is refused, naming its field number. */
SJ_NODISCARD int
sj_event_decode(const uint8_t *data, size_t len, sj_event_t *ev, char *reason, size_t reason_size);
/* Reads only an event's position (origin, epoch, origin_seq) without
 * validating the rest, e.g. of a quarantined event. SJ_EPROTO when even
 * those are not there. */
SJ_NODISCARD int sj_event_peek(const uint8_t *data,
                               size_t len,
                               char origin[SJ_CODE_MAX + 1],
                               uint8_t epoch[SJ_EPOCH_BYTES],
                               uint64_t *origin_seq);
/* Packs an event (any sj_event_type_t). Caller frees *buf with free(). */
SJ_NODISCARD int sj_event_encode(const sj_event_t *ev, uint8_t **buf, size_t *len);
/* Validates and copies one packed DownItem: its event must be a valid
 * assignment whose case_id is the report the snapshot describes.
 * SJ_EPROTO with reason on failure. */
SJ_NODISCARD int sj_down_item_decode(
    const uint8_t *data, size_t len, sj_down_item_t *out, char *reason, size_t reason_size);
/* Reads only a packed DownItem's kind, its `to` (empty when absent) and
 * its event's id (*has_id 0 when it does not decode that far), without
 * validating the rest. SJ_EPROTO when it is not a DownItem at all. */
SJ_NODISCARD int sj_down_item_peek(const uint8_t *data,
                                   size_t len,
                                   uint32_t *kind,
                                   char to[SJ_CODE_MAX + 1],
                                   uint8_t event_id[SJ_ID_BYTES],
                                   int *has_id);
/* Packs a DownItem (kind assignment, `to` its assignee) from an event's
 * bytes and a snapshot. Caller frees *buf. */
SJ_NODISCARD int sj_down_item_encode(
    const uint8_t *event, size_t event_len, const sj_snapshot_t *snap, uint8_t **buf, size_t *len);
/* Packs a DownItem of kind SJ_DOWN_KIND_PLACES for `to` with n (at most
 * SJ_PLACES_PER_ITEM) names. Caller frees *buf. */
SJ_NODISCARD int sj_down_places_encode(
    const char *to, const sj_place_t *places, size_t n, uint8_t **buf, size_t *len);
/* Packs a DownItem of kind SJ_DOWN_KIND_PERIODS for `to`. Caller frees *buf. */
SJ_NODISCARD int
sj_down_periods_encode(const char *to, const sj_periods_t *p, uint8_t **buf, size_t *len);
/* BLAKE2b-256 of an event's packed bytes: the next event's prev_hash. */
void sj_event_hash(const uint8_t *data, size_t len, uint8_t out[SJ_HASH_BYTES]);

/* Copies a bytes field holding text into out (size bytes), checking length,
 * UTF-8 and NUL. SJ_EINVAL when it does not fit or is not text. */
SJ_NODISCARD int sj_wire_text(ProtobufCBinaryData b, char *out, size_t size);
/* Wraps a C string as a bytes field (borrows s). */
ProtobufCBinaryData sj_wire_bytes(const char *s);

#endif
