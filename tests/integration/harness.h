/* harness: runs the real sanji binaries for the integration tests.
 *
 * A test makes one h_env_t (a fresh mkdtemp directory), declares its nodes
 * (h_county, h_hub, h_station: each gets a data directory and, for daemons, a
 * free loopback port), starts daemons with h_start_county / h_start_hub and
 * runs the station tool with h_agent / h_agent_spawn. Those three are the only
 * places that build a command line, so a flag every launch needs (keys,
 * --insecure, a log level) is added once, in harness.c.
 *
 * Every process is recorded in the env; h_env_destroy stops whatever still
 * runs (SIGTERM, then SIGKILL after a deadline), reaps it with waitpid and
 * removes the directory (kept when SANJI_KEEP=1). Children also get
 * PR_SET_PDEATHSIG, so a test process that dies takes them along.
 *
 * Waiting is always "poll with a deadline": h_wait_ready reads the daemon's
 * log until its "ready" line, h_wait_db polls an SQL count. Deadlines pass
 * through h_ms(), which stretches them under valgrind.
 *
 * Environment: SANJI_VALGRIND=1 runs the daemons under valgrind
 * (--error-exitcode=99 --leak-check=full), =2 also every village-agent run.
 * SANJI_KEEP=1 keeps the temporary directory. SANJI_LOG_LEVEL sets the
 * daemons' --log-level (default info).
 *
 * Not thread-safe; one env per test. */
#ifndef H_HARNESS_H
#define H_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sanji.pb-c.h"

#define H_PATH 512
#ifndef H_MAX_PROCS
#define H_MAX_PROCS 128 /* the fault suite, which restarts tiers by the thousand, sets more */
#endif
#define H_MAX_NODES 16

typedef struct h_env h_env_t;

typedef enum { H_COUNTY = 1, H_HUB, H_STATION } h_role_t;

/* One spawned process. Owned by its env; never freed by the caller. */
typedef struct {
    pid_t pid;             /* the child; 0 for an unused slot */
    int reaped;            /* waitpid has collected it */
    int status;            /* waitpid status once reaped */
    char name[64];         /* for messages */
    char out_path[H_PATH]; /* stdout (and stderr, for daemons) */
    char err_path[H_PATH]; /* stderr of commands; "" when merged */
} h_proc_t;

/* One node of the tree. Owned by its env. */
typedef struct h_node {
    h_env_t *env;
    h_role_t role;
    char code[16];               /* 6/9/12-digit code ("" for the county) */
    char data[H_PATH];           /* data directory */
    char endpoint[64];           /* county, hub: where it binds */
    int port;                    /* county, hub: the port of endpoint */
    const struct h_node *parent; /* hub: its county; station: its hub (or NULL) */
    h_proc_t *proc;              /* the running daemon, or NULL */
    int launches;                /* how many times it was started */
    char pk[48];                 /* its CURVE public key (Z85), "" before keygen */
    int enrolled;                /* its key is in its parent's allowlist */
    /* Passed as --parent-key (hub) or --hub-key (station) instead of the
     * parent's real key when not NULL: a test of a wrong key sets it. */
    const char *parent_key_override;
    /* County, hub: more arguments for `run` (NULL-terminated; NULL: none). */
    const char *const *run_extra;
} h_node_t;

/* Output of a command run to completion. Free with h_result_free. */
typedef struct {
    int code;  /* exit code; 128+signal when killed; -1 when it timed out */
    char *out; /* stdout, NUL-terminated (never NULL after a run) */
    char *err; /* stderr */
} h_result_t;

/* One row of "SELECT origin, count(*), min(origin_seq), max(origin_seq),
 * count(DISTINCT origin_seq) FROM events GROUP BY origin, epoch". */
typedef struct {
    char origin[16];
    long long count, min_seq, max_seq, distinct_seq;
} h_stream_t;

/* What a county should hold for one origin: total events over `epochs` streams. */
typedef struct {
    const char *origin;
    long long total;
    int epochs;
} h_expect_t;

/* ---- environment and deadlines ---- */

/* A fresh temporary directory for test `name`. Aborts the test run (NULL) only
 * when mkdtemp fails. Caller owns; destroy with h_env_destroy. */
h_env_t *h_env_new(const char *name);
/* Stops every process still running (SIGTERM, then SIGKILL), reaps all of them
 * and removes the directory. Returns 0, or -1 when a daemon stopped by SIGTERM
 * exited non-zero (e.g. 99: valgrind found errors); its log tail is printed. */
int h_env_destroy(h_env_t **env_p);
/* The env's directory. */
const char *h_env_dir(const h_env_t *env);
/* 0, 1 (daemons under valgrind) or 2 (agents too). */
int h_valgrind(void);
/* A deadline of base_ms, stretched under valgrind. */
int h_ms(int base_ms);
/* Monotonic milliseconds. */
int64_t h_now_ms(void);
/* Sleeps ms milliseconds (the poll interval of every wait loop). */
void h_sleep_ms(int ms);

/* Known bugs are reported and their tests left in place but skipped: returns
 * 1 when SANJI_KNOWN_BUGS=1 (run it), else prints what and returns 0 (the
 * caller then calls cmocka's skip()). */
int h_known_bug(const char *what);

/* ---- processes ---- */

/* A free TCP port on 127.0.0.1 (bind port 0, read it, close). -1 on error. */
int h_free_port(void);
/* Starts argv[0] with argv. merge: stdout and stderr to one log, else two.
 * NULL after printing why. */
h_proc_t *h_spawn(h_env_t *env, const char *name, char *const argv[], int merge);
/* Waits until the process exited (reaping it) or timeout_ms passed. Returns
 * the exit code, 128+signal when killed, or -1 when still running. */
int h_proc_wait(h_proc_t *p, int timeout_ms);
/* Sends sig and reaps the process (SIGKILL after h_ms(10000) if it is still
 * there). Returns what h_proc_wait returns. */
int h_proc_kill(h_proc_t *p, int sig);
/* True while the process has not exited. */
int h_proc_running(h_proc_t *p);
/* Waits for a line "ready" (or "ready URL", as serve says) in the process's log. 0, or -1 when it
 * exited or the deadline passed (log tail printed). */
int h_wait_ready(h_proc_t *p, int timeout_ms);
/* How many times text occurs in the process's log (a daemon's merged log,
 * a command's stderr). */
int h_log_count(const h_proc_t *p, const char *text);
/* Prints the last `lines` lines of a file to stderr, prefixed. */
void h_print_tail(const char *path, int lines);
/* Reads a whole file (NUL-terminated, caller frees); NULL when unreadable. */
char *h_read_file(const char *path);
/* Runs argv to completion (stdout and stderr captured). Returns res->code. */
int h_run(h_env_t *env, const char *name, char *const argv[], h_result_t *res, int timeout_ms);
void h_result_free(h_result_t *res);
/* rm -rf path. 0 or -1. */
int h_rmrf(const char *path);

/* ---- the tree ---- */

/* Declare nodes (nothing starts yet). The county and each hub get a free
 * port; a station's hub may be NULL (then no --hub is passed). */
h_node_t *h_county(h_env_t *env);
h_node_t *h_hub(h_env_t *env, const char *code, const h_node_t *county);
h_node_t *h_station(h_env_t *env, const char *code, const h_node_t *hub);

/* Start the daemon (same data dir and port on every launch) and wait for its
 * "ready". 0, or -1 after printing its log tail. */
int h_start_county(h_node_t *county);
int h_start_hub(h_node_t *hub);
/* Stops a node's daemon with sig (SIGKILL: a crash; SIGTERM: a clean stop)
 * and reaps it. Returns its exit code (see h_proc_wait); -1 if not running. */
int h_stop(h_node_t *node, int sig);

/* Runs `TOOL CMD --data DIR args...` of a hub or the county (township-hub or
 * county-server) to completion. args is NULL-terminated (may be NULL).
 * Returns res->code. */
int h_tool(h_node_t *node, const char *cmd, const char *const args[], h_result_t *res);
/* Runs `village-agent --data D --station C [--hub E] args...` to completion.
 * args is NULL-terminated. Returns res->code. */
int h_agent(h_node_t *station, const char *const args[], h_result_t *res, int timeout_ms);
/* The same, in the background (e.g. sync to be killed, or run in parallel);
 * collect it with h_proc_wait and h_read_file(p->out_path / p->err_path). */
h_proc_t *h_agent_spawn(h_node_t *station, const char *const args[]);
/* `sync --timeout timeout_s`, to completion (deadline: the timeout + 30 s,
 * stretched) or in the background. */
int h_sync(h_node_t *station, int timeout_s, h_result_t *res);
h_proc_t *h_sync_spawn(h_node_t *station, int timeout_s);
/* Writes n generated reports to a JSONL file in the env dir and imports them
 * with --wait 0. Returns 0 when the agent stored exactly n new reports. */
int h_import(h_node_t *station, size_t n, uint32_t seed);

/* ---- data ---- */

/* Writes n reports, one JSON object per line, with varied channel, level,
 * category, outcome, source and dates; persons consistent with kind
 * (individual 1-4, collective >= 5) and channel (letter/phone/mailbox: 1).
 * No ids (the agent makes UUIDv7s). 0 or -1. */
int h_write_jsonl(const char *path, size_t n, uint32_t seed, const char *tag);

/* ---- databases (opened read-only, per call) ---- */

/* The node's SQLite file: county-server.db, township-hub.db, village-agent.db. */
void h_db_path(const h_node_t *node, char *out, size_t size);
/* First column of the first row of sql as an integer; -1 when the database or
 * table does not exist yet, or on error. */
long long h_db_scalar(const h_node_t *node, const char *sql);
/* Polls h_db_scalar until lo <= value <= hi or timeout_ms passed; returns the
 * last value seen. */
long long
h_wait_db(const h_node_t *node, const char *sql, long long lo, long long hi, int timeout_ms);
/* The per-(origin, epoch) stream rows of the node's events table. Returns how
 * many rows were written (at most max), or -1. */
int h_streams(const h_node_t *node, h_stream_t *out, int max);
/* Exactly-once check at the county: every stream complete (min 1, max =
 * count = distinct seqs), each expected origin with its total over the given
 * number of epochs, no other origins, ids distinct, one matter per report.
 * 0, or -1 with the first violation in why. */
int h_check_exactly_once(
    const h_node_t *county, const h_expect_t *exp, size_t n, char *why, size_t why_size);

/* Makes the node's key pair if its data dir has none (new, or wiped) and
 * enrols it at its parent (`allow`), signalling a running parent to reload
 * and waiting until it has. Called by every start/agent run; tests call it
 * only to enrol a node before its parent starts. 0 on success; -1 when the
 * parent refuses to enrol it (e.g. a code outside its township). */
int h_keys(h_node_t *node);
/* Signals a running parent (county or hub) with SIGHUP and waits until its
 * log says "allowlist reloaded" once more. 0, or -1 when it is not running or
 * did not reload within the deadline. */
int h_reload(h_node_t *parent);

/* ---- raw protocol client (for hostile-input tests) ---- */

/* A DEALER (LINGER 0) in zctx, speaking CURVE with as_node's key pair (made
 * and enrolled at its parent if needed), connected to its parent: a station's
 * key to its hub, a hub's key to the county. NULL after printing why. Close
 * with zmq_close. */
void *h_raw_dealer(void *zctx, h_node_t *as_node);
/* A DEALER (LINGER 0) in zctx connected to server's endpoint, speaking CURVE
 * with the raw 32-byte key pair pk/sk and server's public key; with pk and sk
 * NULL, a plain (NULL mechanism) DEALER. NULL on error. */
void *h_raw_dealer_to(void *zctx, const uint8_t *pk, const uint8_t *sk, const h_node_t *server);
/* Sends one frame. 0 or -1. */
int h_raw_send(void *sock, const void *data, size_t len);
/* Packs env as is (the version field is NOT overwritten) and sends it. */
int h_raw_send_env(void *sock, const Sanji__Envelope *env);
/* Receives one frame and unpacks it; NULL on timeout or garbage. Free with
 * sanji__envelope__free_unpacked(env, NULL). */
Sanji__Envelope *h_raw_recv_env(void *sock, int timeout_ms);
/* Packs a report Event with the given channel value, valid in every other
 * field (channel may be out of range on purpose). prev is the hash chain:
 * the event's prev_hash (NULL: 32 zero bytes, right for seq 1), and on
 * return the hash of this event's bytes, the next one's prev_hash
 * (docs/PROTOCOL.md). Caller frees *buf. */
int h_event_pack(const char *origin,
                 const uint8_t epoch[16],
                 uint64_t seq,
                 int channel,
                 uint8_t prev[32],
                 uint8_t **buf,
                 size_t *len);

#endif
