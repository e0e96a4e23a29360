/* link_fakes: in-memory stores for the unit tests of the link protocol
 * (test_link.c: sj_uplink and sj_downlink) and of the node engine
 * (test_node.c: sj_node_run), so that the protocol runs in one process with
 * no binaries, over inproc://, and a test can look at every event stored.
 *
 * lf_parent_t is a parent's store: the downlink's own tables (links,
 * quarantine) in an SQLite :memory: database, and the events it stored in
 * an array. lf_child_t is a child's outbox: valid packed report events of
 * its stream (origin = its code, its epoch, origin_seq 1, 2, ...), the
 * parent's ack and the "offered" mark of sj_uplink_ops_t.fetch, with a
 * diverged that moves the unconfirmed events to a new epoch as the real
 * stores do (sj_link.h).
 *
 * Each failure switch counts down: fail_x = 2 fails the next two calls. */
#ifndef LINK_FAKES_H
#define LINK_FAKES_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_link.h"

#define LF_MAX 256 /* events a fake store holds */

/* What every test of a link needs first: ids, the log level (errors only;
 * SANJI_TEST_DEBUG=1: everything), a zmq context (the caller terminates
 * it) and a fresh endpoint "inproc://NAME-N" in endpoint. NULL when ids or
 * the context cannot be had. */
void *lf_begin(const char *name, char *endpoint, size_t size);

typedef struct {
    sqlite3 *db;    /* :memory: with SJ_DOWNLINK_SCHEMA and _2 */
    int refuse;     /* admit says FORBIDDEN */
    int fail_store; /* store_event fails with SJ_EDB */
    size_t n;       /* events stored */
    uint8_t ids[LF_MAX][16];
    size_t store_calls; /* store_event calls (a duplicate batch makes none) */
    size_t commits;     /* committed calls */
} lf_parent_t;

extern const sj_downlink_ops_t lf_parent_ops;

/* 0, or -1 when the database cannot be made. */
int lf_parent_init(lf_parent_t *p);
void lf_parent_fini(lf_parent_t *p);
/* 1 when an event with this id was stored. */
int lf_parent_has(const lf_parent_t *p, const uint8_t id[16]);

typedef struct {
    uint8_t id[16];
    uint8_t *raw; /* the packed event (owned) */
    size_t len;
} lf_event_t;

typedef struct {
    char code[SJ_CODE_MAX + 1];
    uint8_t epoch[16];
    lf_event_t ev[LF_MAX]; /* ev[i] has seq i + 1 in the current epoch */
    size_t n;              /* head */
    uint64_t acked;        /* the parent's ack, as recorded */
    uint64_t offered;      /* the offered mark (never lowered) */
    int fail_acked;        /* acked fails with SJ_EDB */
    int moved;             /* diverged moved the stream (times) */
} lf_child_t;

extern const sj_uplink_ops_t lf_child_ops;

/* A new outbox for station code, with a random epoch and no events. */
void lf_child_init(lf_child_t *c, const char *code);
void lf_child_fini(lf_child_t *c);
/* Records n new report events. 0 or -1. */
int lf_child_add(lf_child_t *c, size_t n);
/* dst becomes a copy of src as it was when it held its first n events,
 * with everything of them acked and offered: a store restored from an
 * older backup. 0 or -1. */
int lf_child_restore(lf_child_t *dst, const lf_child_t *src, size_t n);

#endif
