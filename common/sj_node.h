/* sj_node: the node engine. Every sanji node is the same machine in three
 * configurations (a station: uplink only; a hub: downlink and uplink; the
 * county: downlink only), and this is that machine, written once:
 *
 *   sj_node_run:
 *     signals: SIGINT, SIGTERM (and for daemons SIGHUP, SIGPIPE ignored),
 *        installed first and left in place when it returns, so that a
 *        signal at any point ends the process through its normal path
 *     -> daemon lock (sj_backup_lock_daemon; daemons only)
 *     -> role.open (the role's store) -> PRAGMA quick_check (daemons only)
 *     -> keys (dir/curve.key; none with --insecure) -> ZAP handler (sj_auth,
 *        parent side with keys) -> downlink (bind) and/or uplink (parent)
 *     -> "ready" on stdout (daemons only)
 *     -> ONE poll loop: the links' sockets are read when readable; every
 *        SJ_NODE_TICK_MS, and after anything was read, one tick: the
 *        uplink (sends what its window allows), the downlink (pushes new
 *        downward items), role.tick; then role.done (one-shot use); in a
 *        turn with nothing read, role.idle (the daemons' search index)
 *     -> SIGHUP (daemons): the allowlist and the log level are read again
 *     -> teardown in reverse order.
 *
 * What differs between the roles is configuration (sj_node_cfg_t: the
 * hub's group size and uplink window, a station's heartbeat) and hooks
 * (sj_node_role_t: the station's hourly prune, the "done" predicate of
 * `village-agent sync` and `submit --wait`).
 *
 * One node per process at a time when signals are used (the handlers set
 * process-wide flags); a test may run nodes on several threads (one each),
 * sharing a cfg.zctx for inproc:// endpoints, and end them with role.done. */
#ifndef SJ_NODE_H
#define SJ_NODE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"
#include "sj_link.h"

/* The longest time between two ticks of the loop (ms). The uplink's timers
 * (ack timeout, heartbeat, backoff) and the push of downward items run at
 * this resolution. */
#define SJ_NODE_TICK_MS 100

typedef struct sj_node sj_node_t;

/* What the role's store gives the engine once it is open (all borrowed
 * from the store; valid until role.close). */
typedef struct {
    void *store;                /* the ctx of the role's link ops */
    sqlite3 *db;                /* its writer connection: quick_check, the downlink's tables */
    const char *code;           /* this node's code (log lines; the uplink's Hello) */
    const uint8_t *store_epoch; /* parent side: the store's epoch, sent in Welcome */
    const uint8_t *link_epoch;  /* child side: the epoch of the stream sent up */
} sj_node_store_t;

/* The role: its store and what it does besides the links. ctx is the
 * role's own (sj_node_run's role_ctx). */
typedef struct {
    /* Opens the store for writing; fills *out. SJ_OK, or an error code
     * with the reason in err (printed by the engine, naming the tool). */
    int (*open)(void *ctx, sj_node_store_t *out, char *err, size_t err_size);
    /* Closes what open opened (store is out->store). */
    void (*close)(void *ctx, void *store);
    /* The parent side's store ops (used when cfg.bind is set). */
    const sj_downlink_ops_t *down_ops;
    /* The child side's store ops (used when cfg.parent is set). */
    const sj_uplink_ops_t *up_ops;
    /* Optional: after the links' ticks, every tick. */
    void (*tick)(void *ctx, sj_node_t *node);
    /* Optional (one-shot use): 1 when the work is done and sj_node_run
     * should return SJ_OK; checked after every tick. */
    int (*done)(void *ctx, sj_node_t *node);
    /* Optional (the daemons' `run`): work for a turn of the loop in which
     * nothing was ready to read (the search index, sj_history.h): one
     * bounded step (~20 ms at most). Returns 1 when more is waiting (the
     * loop then polls without waiting and calls it again while nothing
     * comes), 0 when nothing is. After a turn with input the loop looks
     * again at once, and calls this when nothing is ready: it is called
     * often, and must cost nothing when there is nothing to do. Input
     * always goes first: a backlog drains before this runs. */
    int (*idle)(void *ctx, void *store);
    /* Optional: once, after the loop ended with rc and before the links
     * are torn down (e.g. to say what the parent answered last). */
    void (*stopping)(void *ctx, sj_node_t *node, int rc);
} sj_node_role_t;

typedef struct {
    const char *tool;              /* e.g. "township-hub": messages and log lines */
    const char *data;              /* data directory: the lock, curve.key, allowlist */
    const char *store_file;        /* the store's file name in data, for messages */
    const char *damaged_hint;      /* what to do about a damaged store, or NULL */
    int daemon;                    /* 1: lock, quick_check, SIGHUP, "ready"; 0: one-shot use */
    int insecure;                  /* --insecure: no CURVE keys (logged loudly) */
    const char *bind;              /* parent side: where children connect; NULL: none */
    const char *parent;            /* child side: the parent's endpoint; NULL: none */
    const char *parent_key;        /* the parent's public key (Z85); needed with keys */
    const char *parent_key_option; /* its option, for messages ("parent-key") */
    const char *parent_name;       /* child side: what the parent is ("hub", "county"), for
                                    * the words of an unreachable parent; NULL: "parent" */
    size_t group_events;           /* parent side: sj_downlink_set_group_events (0: none) */
    int up_window;                 /* child side: batches in flight (0: default) */
    int up_heartbeat_ms;           /* child side: idle heartbeat (0: default) */
    int up_ack_timeout_ms;         /* child side: go back N after (0: default) */
    int64_t timeout_ms;            /* one-shot: give up after this long (0: never) */
    int stop_on_refusal;           /* one-shot: return at once when the parent refuses */
    void *zctx;                    /* a zmq context to use (borrowed); NULL: its own */
    int64_t down_retention_ms;     /* parent side, daemons: prune downward items acked more than
                                    * this long ago (0: SJ_DOWN_RETENTION_DAYS; < 0: never) */
} sj_node_cfg_t;

/* The default retention of acked downward items, and how often a daemon
 * prunes them (issue 19). */
#define SJ_DOWN_RETENTION_DAYS 30
#define SJ_DOWN_PRUNE_EVERY_MS (3600LL * 1000)

/* Runs the node as cfg and role say until SIGINT or SIGTERM, role.done, the timeout, or a refusal
 * (stop_on_refusal). Every failure is said on stderr (naming cfg.tool) or logged. Returns: SJ_OK
 * done, or a daemon stopped by a signal SJ_ECLOSED     a one-shot node stopped by a signal before
 * it was done SJ_ETIMEDOUT   timeout_ms passed first SJ_EFORBIDDEN  the parent refuses this node
 * (stop_on_refusal) SJ_EINVAL      bad configuration: no or a bad parent key, nothing to do
 *                  (neither bind nor parent): bad usage
 *   SJ_EAGAIN      the data directory is in use by another daemon
 *   other          the node could not start (store, keys, socket), or a
 *                  one-shot node could not read its store.
 * Not reentrant: run one node per thread. */
SJ_NODISCARD int sj_node_run(const sj_node_cfg_t *cfg, const sj_node_role_t *role, void *role_ctx);

/* The node's links, for role hooks (borrowed; NULL when the node has no
 * such side). */
sj_uplink_t *sj_node_uplink(sj_node_t *self);
sj_downlink_t *sj_node_downlink(sj_node_t *self);

/* For a command that will call sj_node_run (run, sync), first thing once
 * the command is known: installs the stop handlers (SIGHUP too with
 * daemon), then unblocks SIGINT, SIGTERM and SIGHUP. A signal that came
 * before (a starter may block them until the handlers are in place; the
 * tests' harness does) is then handled as a stop, and sj_node_run keeps it:
 * the command ends through its exit path instead of dying half way. */
void sj_node_signals_early(int daemon);

#endif
