/* faults: what the fault scenarios of tests/faults/ share, on top of the
 * integration harness (tests/integration/harness.h).
 *
 * A scenario declares a tree (f_tree_declare: a county, hubs, stations under
 * each hub), starts it (f_tree_start), keeps each station delivering
 * (f_deliver_*: a `run` per station, or repeated `sync` runs), produces a
 * stream of reports at the stations (f_producer_*: `import` runs paced over a
 * span of time), does its damage, waits for the county to hold everything
 * (f_wait_county) and ends with f_check_all:
 *
 *   - every report stored at a station (its outbox, by event id) is at the
 *     county exactly once, and nothing else is (h_check_exactly_once plus an
 *     id-by-id comparison of each station's outbox with the county);
 *   - each hub holds exactly its stations' reports, nothing quarantined;
 *   - `county-server verify` exits 0 (no gaps, no hash-chain breaks);
 *   - every node's database passes PRAGMA integrity_check, after a clean stop
 *     (SIGTERM, exit 0) of every tier.
 *
 * Environment (read by every scenario):
 *   SANJI_FAULTS_LONG=1   the long form (minutes to an hour; by hand)
 *   SANJI_FAULTS_SEED=N   the seed of the scenario's PRNG (default: from the
 *                         clock); always printed, so a failure can be replayed
 *   SANJI_FAULTS_N, SANJI_FAULTS_KILLS, SANJI_FAULTS_AWAY_S
 *                         override a scenario's sizes (where it says so), for
 *                         scripts/faults-compare.sh
 *   SANJI_FAULTS_JSON=PATH  the counts of the run (f_report) go there as JSON
 * and the harness's SANJI_KEEP, SANJI_LOG_LEVEL, SANJI_VALGRIND.
 *
 * Fails through cmocka (fail_msg) at the first violation. */
#ifndef F_FAULTS_H
#define F_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define F_T100         "230523100"
#define F_T101         "230523101"
#define F_MAX_HUBS     2
#define F_MAX_STATIONS 8

typedef struct {
    h_env_t *env;
    h_node_t *county;
    h_node_t *hub[F_MAX_HUBS];
    size_t n_hubs;
    h_node_t *st[F_MAX_STATIONS];
    size_t n_st;
    long long made[F_MAX_STATIONS];  /* reports stored at each station, as import said */
    h_proc_t *del[F_MAX_STATIONS];   /* the station's delivering process, or NULL */
    int use_sync[F_MAX_STATIONS];    /* 1: repeated `sync` runs; 0: one `run` */
    int64_t sync_at[F_MAX_STATIONS]; /* when the last sync was started */
    /* Copies of a parent with another endpoint (a relay), see f_route_via. */
    h_node_t via[F_MAX_HUBS + 1];
    size_t n_via;
} f_tree_t;

/* ---- run form, seed, PRNG ---- */

/* 1 when SANJI_FAULTS_LONG=1. */
int f_long(void);
/* The scenario's seed (SANJI_FAULTS_SEED or the clock), printed with name. */
uint64_t f_seed(const char *name);
/* splitmix64: the next 32 random bits of *state. */
uint32_t f_rand(uint64_t *state);
/* A random integer in [lo, hi]. */
int f_rand_range(uint64_t *state, int lo, int hi);

/* ---- the tree ---- */

/* Declares a county, n_hubs hubs (F_T100, F_T101) and st_per_hub stations
 * under each (codes <hub>201, <hub>202, ...), keys made and enrolled; starts
 * nothing. */
void f_tree_declare(h_env_t *env, f_tree_t *t, size_t n_hubs, size_t st_per_hub);
/* Starts the county and every hub (each waits for "ready"). */
void f_tree_start(f_tree_t *t);
/* The child (a hub or a station) dials endpoint instead of its parent's own
 * (e.g. a relay in front of the parent); keys and enrolment stay the
 * parent's. Takes effect at the child's next start. */
void f_route_via(f_tree_t *t, h_node_t *child, const char *endpoint);
/* Restarts a daemon node (county or hub) after it was killed; fails the test
 * when it does not come back ready. */
void f_restart(h_node_t *node);

/* Imports n_each reports at every station, one after the other, and counts
 * them in made[] (so that each station has something to deliver from its
 * first moment). */
void f_stations_import(f_tree_t *t, size_t n_each, uint32_t seed);

/* ---- delivery at the stations ---- */

/* Starts station i's delivery: `run`, or a first `sync` when use_sync[i]. */
void f_deliver_start(f_tree_t *t, size_t i);
/* Keeps deliveries going: starts the next `sync` of a sync station whose
 * last one ended (at most one a second). A `run` that ended by itself fails
 * the test (with its log). */
void f_deliver_step(f_tree_t *t);
/* Kills station i's delivering process with SIGKILL (if any) and starts it
 * again. Returns 1 when something was killed. */
int f_deliver_kill(f_tree_t *t, size_t i);
/* Stops every delivering process (SIGTERM for `run`, expecting exit 0). */
void f_deliver_stop(f_tree_t *t);

/* ---- the stream of reports ---- */

typedef struct {
    f_tree_t *t;
    long long total; /* reports to make, over all stations */
    long long done;  /* stored (imports that returned) */
    size_t chunk;    /* reports per import */
    int64_t t0_ms;   /* start */
    int64_t span_ms; /* spread the stream over this long (0: as fast as possible) */
    h_proc_t *proc;  /* the import running, or NULL */
    size_t proc_st;  /* its station */
    size_t proc_n;   /* its size */
    size_t next_st;  /* round robin */
    uint32_t files;  /* imports started (seeds the generated data) */
    int paused;      /* 1: start no new import */
} f_producer_t;

/* Prepares a stream of total reports, round robin over the stations, in
 * imports of `chunk`, paced so that it lasts about span_ms. */
void f_producer_init(f_producer_t *p, f_tree_t *t, long long total, size_t chunk, int64_t span_ms);
/* Collects a finished import (fails the test if it failed or stored a count
 * other than asked) and starts the next one when the pace allows. Never
 * blocks. */
void f_producer_step(f_producer_t *p);
/* 1 when every report was made. */
int f_producer_done(const f_producer_t *p);
/* Steps the producer and the deliveries until the stream is made (deadline
 * timeout_ms). */
void f_producer_finish(f_producer_t *p, int timeout_ms);

/* ---- the end ---- */

/* Total reports made at the stations. */
long long f_made(const f_tree_t *t);
/* Polls (stepping deliveries) until the county holds every report made, or
 * timeout_ms; prints how long it took. Returns the county's count. */
long long f_wait_county(f_tree_t *t, int timeout_ms);
/* The final check of every scenario (see the top of this file). Stops every
 * process first. */
void f_check_all(f_tree_t *t);
/* PRAGMA integrity_check of the node's database: 0, or -1 with why. */
int f_integrity(const h_node_t *node, char *why, size_t why_size);

/* ---- the counts, for scripts/faults-compare.sh ---- */

typedef struct {
    long long produced; /* reports in the stations' outboxes */
    long long once;     /* of those, at the county (by id) */
    long long lost;     /* produced - once */
    long long extra;    /* rows at the county beyond one per produced report */
} f_tally_t;

/* The integer in environment variable name (>= 1), or def when unset. Fails
 * the test on anything else. */
long long f_env_size(const char *name, long long def);
/* Counts, id by id, what the stations made against what the county holds
 * (read-only; the tiers may still run). */
void f_tally(const f_tree_t *t, f_tally_t *out);
/* Prints the counts and, when SANJI_FAULTS_JSON is set, writes them there:
 * scenario, the counts, and extra_json (more "key": value pairs, or ""). */
void f_report(const char *scenario, const f_tally_t *c, const char *extra_json);

/* ---- the relay (tests/faults/relay.c) ---- */

typedef struct {
    h_proc_t *proc;
    int port;             /* where it listens */
    char endpoint[64];    /* tcp://127.0.0.1:port */
    char control[H_PATH]; /* its control file */
    char name[32];
    char mode[16]; /* the mode it was last told */
} f_relay_t;

/* Starts a relay on a free port in front of target_port; waits for "ready". */
void f_relay_start(h_env_t *env, f_relay_t *r, const char *name, int target_port);
/* Sets the relay's mode (pass, stall, reset, blackhole) and waits until it
 * says it obeys. */
void f_relay_mode(f_relay_t *r, const char *mode);

#endif
