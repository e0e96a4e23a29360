/* Is every link trusted only as far as its CURVE key: are unknown keys,
 * claimed codes, foreign townships, a wrong parent key and revoked keys all
 * refused while the others go on; is nothing personal or secret kept in the
 * clear at the hub; and does a flood of hostile frames leave the hub serving a
 * good station exactly once? */
#define _GNU_SOURCE /* syscall(SYS_tgkill): a signal to one thread of a daemon */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "harness.h"
#include "sj_ids.h"
#include "sj_wire.h"

#define T100      "230523100"
#define T101      "230523101"
#define ST_A      T100 "201"
#define ST_B      T100 "202"
#define REPLY_MS  5000
#define SILENT_MS 1500 /* how long "no reply" is awaited */
#define MAX_SOCKS 8

/* The flood of test_trust_hostile_flood. */
#define FLOOD_FRAMES   10000
#define FLOOD_PER_SOCK 100 /* the hub ignores a connection after 100 bad frames */
#define FLOOD_SOCKS    4   /* raw connections open at a time, each its own station key */
#define FLOOD_REPORTS  1000
#define FLOOD_CHUNKS   25 /* imported one per round while `run` delivers */
#define FLOOD_SEED     0x5eed7781u

typedef struct {
    h_env_t *env;
    void *zctx;
    void *socks[MAX_SOCKS]; /* raw DEALERs, closed in teardown */
    char *log_level;        /* SANJI_LOG_LEVEL to restore (a copy), or NULL */
    int log_level_set;
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    f->env = h_env_new("trust");
    f->zctx = zmq_ctx_new();
    if (!f->env || !f->zctx) {
        (void) h_env_destroy(&f->env);
        if (f->zctx) {
            zmq_ctx_term(f->zctx);
        }
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < MAX_SOCKS; i++) {
        if (f->socks[i]) {
            zmq_close(f->socks[i]);
        }
    }
    zmq_ctx_term(f->zctx);
    if (f->log_level_set) {
        if (f->log_level) {
            setenv("SANJI_LOG_LEVEL", f->log_level, 1);
        } else {
            unsetenv("SANJI_LOG_LEVEL");
        }
        free(f->log_level);
    }
    int rc = h_env_destroy(&f->env);
    free(f);
    return rc;
}

/* Records a raw socket in slot i so that teardown closes it (zmq_ctx_term
 * would wait forever for an open one after a failed assertion). */
static void *
s_keep(s_fix_t *f, int i, void *sock)
{
    assert_non_null(sock);
    assert_true(i >= 0 && i < MAX_SOCKS && !f->socks[i]);
    f->socks[i] = sock;
    return sock;
}

static void
s_drop(s_fix_t *f, int i)
{
    if (f->socks[i]) {
        zmq_close(f->socks[i]);
        f->socks[i] = NULL;
    }
}

/* ---- messages ---- */

/* Packs env into a new buffer (caller frees). */
static uint8_t *
s_pack(const Sanji__Envelope *env, size_t *len)
{
    *len = sanji__envelope__get_packed_size(env);
    uint8_t *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    sanji__envelope__pack(env, buf);
    return buf;
}

static uint8_t *
s_pack_hello(const char *code, const uint8_t epoch[16], uint64_t last_seq, size_t *len)
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    h.epoch.data = (uint8_t *) epoch;
    h.epoch.len = 16;
    h.code.data = (uint8_t *) code;
    h.code.len = strlen(code);
    h.last_seq = last_seq;
    h.sw_version.data = (uint8_t *) "trust-test";
    h.sw_version.len = strlen("trust-test");
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    return s_pack(&env, len);
}

/* A Batch of n report events of `origin`, origin_seqs first..first+n-1. */
static uint8_t *
s_pack_batch(const char *origin, const uint8_t epoch[16], uint64_t first, size_t n, size_t *len)
{
    ProtobufCBinaryData ev[8];
    uint8_t chain[32] = {0}; /* right from seq 1; a batch from 3 on breaks it (quarantined) */
    assert_true(n >= 1 && n <= 8);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(h_event_pack(origin, epoch, first + i, SANJI__CHANNEL__CHANNEL_VISIT,
                                      chain, &ev[i].data, &ev[i].len),
                         0);
    }
    Sanji__Batch b = SANJI__BATCH__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    b.epoch.data = (uint8_t *) epoch;
    b.epoch.len = 16;
    b.first_seq = first;
    b.n_events = n;
    b.events = ev;
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    uint8_t *buf = s_pack(&env, len);
    for (size_t i = 0; i < n; i++) {
        free(ev[i].data);
    }
    return buf;
}

static void
s_send_packed(void *sock, uint8_t *buf, size_t len)
{
    int rc = h_raw_send(sock, buf, len);
    free(buf);
    assert_int_equal(rc, 0);
}

static void
s_send_hello(void *sock, const char *code, const uint8_t epoch[16])
{
    size_t len;
    uint8_t *buf = s_pack_hello(code, epoch, 1, &len);
    s_send_packed(sock, buf, len);
}

static void
s_send_batch(void *sock, const char *origin, const uint8_t epoch[16], uint64_t first)
{
    size_t len;
    uint8_t *buf = s_pack_batch(origin, epoch, first, 1, &len);
    s_send_packed(sock, buf, len);
}

/* Expects a reply of body `body` (Welcome, Ack...) within REPLY_MS. */
static void
s_expect_body(void *sock, int body)
{
    Sanji__Envelope *env = h_raw_recv_env(sock, h_ms(REPLY_MS));
    if (!env) {
        fail_msg("no reply within %d ms (expected body %d)", h_ms(REPLY_MS), body);
        return;
    }
    int got = env->body_case;
    char reason[300] = "";
    if (got == SANJI__ENVELOPE__BODY_ERROR) {
        snprintf(reason, sizeof reason, "%.*s", (int) env->error->reason.len,
                 (const char *) env->error->reason.data);
    }
    sanji__envelope__free_unpacked(env, NULL);
    if (got != body) {
        fail_msg("expected body %d, got %d %s", body, got, reason);
    }
}

/* Expects an Error with code and a reason containing `about`. */
static void
s_expect_error(void *sock, int code, const char *about)
{
    Sanji__Envelope *env = h_raw_recv_env(sock, h_ms(REPLY_MS));
    if (!env) {
        fail_msg("no reply within %d ms (expected error %d)", h_ms(REPLY_MS), code);
        return;
    }
    if (env->body_case != SANJI__ENVELOPE__BODY_ERROR) {
        int got = env->body_case;
        sanji__envelope__free_unpacked(env, NULL);
        fail_msg("expected an Error reply, got body %d", got);
        return;
    }
    char reason[300];
    snprintf(reason, sizeof reason, "%.*s", (int) env->error->reason.len,
             (const char *) env->error->reason.data);
    int got = env->error->code;
    sanji__envelope__free_unpacked(env, NULL);
    fprintf(stderr, "# replied error %d: %s\n", got, reason);
    assert_int_equal(got, code);
    if (!strstr(reason, about)) {
        fail_msg("reason '%s' does not mention '%s'", reason, about);
    }
}

/* Expects no reply at all for SILENT_MS (the only way to see "nothing"). */
static void
s_expect_silence(void *sock)
{
    Sanji__Envelope *env = h_raw_recv_env(sock, h_ms(SILENT_MS));
    if (env) {
        int got = env->body_case;
        sanji__envelope__free_unpacked(env, NULL);
        fail_msg("expected no reply, got body %d", got);
    }
}

/* Waits until the process's log contains text. 0 or -1. */
static int
s_wait_log(const h_proc_t *p, const char *text, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    while (h_log_count(p, text) == 0) {
        if (h_now_ms() >= deadline) {
            fprintf(stderr, "# '%s' not in log %s within %d ms\n", text, p->out_path, timeout_ms);
            return -1;
        }
        h_sleep_ms(10);
    }
    return 0;
}

static long long
s_count(const h_node_t *node, const char *sql)
{
    long long v = h_db_scalar(node, sql);
    return v < 0 ? 0 : v; /* no database or table yet: nothing stored */
}

/* County 230523100's hub with stations A and B enrolled, both daemons up. */
static void
s_tree(s_fix_t *f, h_node_t **county, h_node_t **hub, h_node_t **a, h_node_t **b)
{
    *county = h_county(f->env);
    assert_non_null(*county);
    *hub = h_hub(f->env, T100, *county);
    assert_non_null(*hub);
    if (a) {
        *a = h_station(f->env, ST_A, *hub);
        assert_non_null(*a);
        assert_true((*a)->enrolled);
    }
    if (b) {
        *b = h_station(f->env, ST_B, *hub);
        assert_non_null(*b);
        assert_true((*b)->enrolled);
    }
    assert_int_equal(h_start_county(*county), 0);
    assert_int_equal(h_start_hub(*hub), 0);
}

/* Station st imports n reports and syncs; exit 0 expected. */
static void
s_deliver(h_node_t *st, int n, uint32_t seed)
{
    assert_int_equal(h_import(st, (size_t) n, seed), 0);
    h_result_t r;
    int code = h_sync(st, 20, &r);
    if (code != 0) {
        fprintf(stderr, "# sync of %s: %s", st->code, r.err);
    }
    h_result_free(&r);
    assert_int_equal(code, 0);
}

static long long
s_events_of(const h_node_t *node, const char *origin)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE origin = '%s'", origin);
    return s_count(node, sql);
}

/* ---- 1. unknown keys ---- */

static void
test_trust_unknown_key(void **state)
{
    /* Can a client whose key is not enrolled (or that has no key) deliver anything? */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *a;
    s_tree(f, &county, &hub, &a, NULL);
    char pk_z85[41], sk_z85[41];
    uint8_t pk[32], sk[32];
    assert_int_equal(zmq_curve_keypair(pk_z85, sk_z85), 0);
    assert_non_null(zmq_z85_decode(pk, pk_z85));
    assert_non_null(zmq_z85_decode(sk, sk_z85));
    void *stranger = s_keep(f, 0, h_raw_dealer_to(f->zctx, pk, sk, hub));
    uint8_t epoch[16];
    sj_random16(epoch);
    /* It even claims an enrolled station's code. */
    s_send_hello(stranger, ST_A, epoch);
    s_send_batch(stranger, ST_A, epoch, 1);
    assert_int_equal(s_wait_log(hub->proc, "not in the allowlist", h_ms(REPLY_MS)), 0);
    assert_true(h_log_count(hub->proc, pk_z85) > 0); /* the refusal names the key */
    s_expect_silence(stranger);
    /* No key at all: a plain DEALER cannot even complete the greeting. */
    void *plain = s_keep(f, 1, h_raw_dealer_to(f->zctx, NULL, NULL, hub));
    s_send_hello(plain, ST_A, epoch);
    s_send_batch(plain, ST_A, epoch, 1);
    s_expect_silence(plain);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM events"), 0);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM links"), 0);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM quarantine"), 0);
    /* The hub is fine: the enrolled station delivers. */
    s_deliver(a, 3, 101);
    assert_int_equal(s_events_of(hub, ST_A), 3);
    assert_true(h_proc_running(hub->proc));
}

/* ---- 2. claimed codes ---- */

static void
test_trust_claimed_code(void **state)
{
    /* Is a station that says HELLO with another enrolled station's code refused? */
    /* (A batch carrying another station's events, after an honest Hello, is
     * test_badinput_foreign_origin.) */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *a, *b;
    s_tree(f, &county, &hub, &a, &b);
    void *raw = s_keep(f, 0, h_raw_dealer(f->zctx, a));
    uint8_t epoch[16];
    sj_random16(epoch);
    s_send_hello(raw, ST_B, epoch);
    s_expect_error(raw, SANJI__ERROR_CODE__ERROR_FORBIDDEN, "enrolled for " ST_A ", not " ST_B);
    /* The refused Hello opened nothing: a batch as B finds no session. */
    s_send_batch(raw, ST_B, epoch, 1);
    s_expect_error(raw, SANJI__ERROR_CODE__ERROR_NO_HELLO, "before hello");
    assert_int_equal(s_count(hub, "SELECT count(*) FROM events"), 0);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM links"), 0);
    /* The same key under its own code is welcome. */
    s_send_hello(raw, ST_A, epoch);
    s_expect_body(raw, SANJI__ENVELOPE__BODY_WELCOME);

    /* The real agent: a store made for B but holding A's key file. */
    h_node_t *imp = h_station(f->env, T100 "299", NULL); /* own dir, key never enrolled */
    assert_non_null(imp);
    char from[H_PATH + 16], to[H_PATH + 16];
    snprintf(from, sizeof from, "%s/curve.key", a->data);
    snprintf(to, sizeof to, "%s/curve.key", imp->data);
    char *key = h_read_file(from);
    assert_non_null(key);
    FILE *out = fopen(to, "w");
    assert_non_null(out);
    fputs(key, out);
    free(key);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(chmod(to, 0600), 0);
    snprintf(imp->code, sizeof imp->code, "%s", ST_B);
    imp->parent = hub;
    assert_int_equal(h_import(imp, 2, 202), 0);
    h_result_t r;
    assert_int_equal(h_sync(imp, 3, &r), 1);
    fprintf(stderr, "# impostor's sync said: %s", r.err);
    if (!strstr(r.err, "enrolled for " ST_A)) {
        fail_msg("the agent does not say why it was refused: %s", r.err);
    }
    h_result_free(&r);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM events"), 0);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM links WHERE code = '" ST_B "'"), 0);
    /* B itself is unaffected. */
    s_deliver(b, 3, 203);
    assert_int_equal(s_events_of(hub, ST_B), 3);
}

/* ---- 3. a hub speaking for another township ---- */

static void
test_trust_hub_foreign_township(void **state)
{
    /* Can a hub forward to the county an event that was born in another township? */
    s_fix_t *f = *state;
    h_node_t *county = h_county(f->env);
    assert_non_null(county);
    h_node_t *hub = h_hub(f->env, T100, county); /* enrolled; its daemon is not started */
    assert_non_null(hub);
    assert_int_equal(h_start_county(county), 0);
    void *raw = s_keep(f, 0, h_raw_dealer(f->zctx, hub));
    uint8_t epoch[16];
    sj_random16(epoch);
    s_send_hello(raw, T100, epoch);
    s_expect_body(raw, SANJI__ENVELOPE__BODY_WELCOME);
    s_send_batch(raw, T101 "201", epoch, 1);
    s_expect_error(raw, SANJI__ERROR_CODE__ERROR_FORBIDDEN, "outside its township");
    assert_int_equal(s_count(county, "SELECT count(*) FROM events"), 0);
    assert_int_equal(s_count(county, "SELECT count(*) FROM quarantine"), 0);
    assert_int_equal(s_count(county, "SELECT acked_through FROM links WHERE code = '" T100 "'"), 0);
    /* Claiming the other township's code in Hello does not help either. */
    s_send_hello(raw, T101, epoch);
    s_expect_error(raw, SANJI__ERROR_CODE__ERROR_FORBIDDEN, "enrolled for " T100);
    /* The same connection may forward its own township's events. */
    s_send_hello(raw, T100, epoch);
    s_expect_body(raw, SANJI__ENVELOPE__BODY_WELCOME);
    s_send_batch(raw, T100 "201", epoch, 1);
    s_expect_body(raw, SANJI__ENVELOPE__BODY_ACK);
    assert_int_equal(s_count(county, "SELECT count(*) FROM events"), 1);
    assert_int_equal(s_events_of(county, T101 "201"), 0);
}

/* ---- 4. a wrong parent key ---- */

static void
test_trust_wrong_server_key(void **state)
{
    /* Does a station refuse to talk to a hub that does not hold the key it was given? */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *a;
    s_tree(f, &county, &hub, &a, NULL);
    a->parent_key_override = county->pk; /* a valid key, but not the hub's */
    assert_int_equal(h_import(a, 2, 401), 0);
    h_result_t r;
    assert_int_equal(h_sync(a, 3, &r), 1);
    fprintf(stderr, "# sync said: %s", r.err);
    if (!strstr(r.err, "handshake")) {
        fail_msg("sync does not mention the handshake: %s", r.err);
    }
    h_result_free(&r);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM events"), 0);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM links"), 0);
    /* With the right key the same reports go through. */
    a->parent_key_override = NULL;
    assert_int_equal(h_sync(a, 20, &r), 0);
    h_result_free(&r);
    assert_int_equal(s_events_of(hub, ST_A), 2);
}

/* ---- 5. revocation ---- */

static void
test_trust_revoke(void **state)
{
    /* Is a revoked key refused after SIGHUP, even mid-session, while others go on? */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *a, *b;
    s_tree(f, &county, &hub, &a, &b);
    s_deliver(a, 3, 501);
    s_deliver(b, 3, 502);
    /* A session of A's key that stays open across the revocation. */
    void *raw = s_keep(f, 0, h_raw_dealer(f->zctx, a));
    uint8_t epoch[16];
    sj_random16(epoch);
    s_send_hello(raw, ST_A, epoch);
    s_expect_body(raw, SANJI__ENVELOPE__BODY_WELCOME);

    h_result_t r;
    char *revoke[] = {(char *) HUB_BIN, "revoke", "--data", hub->data, "--", a->code, NULL};
    assert_int_equal(h_run(f->env, "revoke", revoke, &r, h_ms(30000)), 0);
    h_result_free(&r);
    assert_int_equal(h_reload(hub), 0);

    s_send_batch(raw, ST_A, epoch, 1);
    s_expect_error(raw, SANJI__ERROR_CODE__ERROR_FORBIDDEN, "not enrolled");
    assert_int_equal(s_events_of(hub, ST_A), 3);

    /* A's agent: the new report stays queued at A. */
    assert_int_equal(h_import(a, 1, 503), 0);
    assert_int_equal(h_sync(a, 3, &r), 1);
    fprintf(stderr, "# revoked station's sync said: %s", r.err);
    if (!strstr(r.err, "refused")) {
        fail_msg("sync does not say the key was refused: %s", r.err);
    }
    h_result_free(&r);
    assert_int_equal(s_events_of(hub, ST_A), 3);
    /* B goes on, through to the county. */
    s_deliver(b, 1, 504);
    assert_int_equal(s_events_of(hub, ST_B), 4);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events WHERE origin = '" ST_B "'", 4,
                               4, h_ms(20000)),
                     4);
    assert_int_equal(s_events_of(county, ST_A), 3);
}

/* ---- 5b. a reload signal on any thread ---- */

static void
test_trust_sighup_any_thread(void **state)
{
    /* The kernel hands a process signal to any thread that does not block
     * it. Does the hub reload and still admit new connections whichever
     * thread gets SIGHUP? (It used to end the ZAP thread — its receive
     * failed with EINTR — after which every new handshake failed.) Each of
     * the hub's threads is sent its own SIGHUP. */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *a, *b;
    s_tree(f, &county, &hub, &a, &b);
    s_deliver(a, 1, 601);
    int before = h_log_count(hub->proc, "allowlist reloaded");
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int) hub->proc->pid);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int threads = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (syscall(SYS_tgkill, (long) hub->proc->pid, atol(e->d_name), SIGHUP) == 0) {
            threads++;
        }
    }
    closedir(d);
    assert_true(threads >= 3); /* main, ZAP, libzmq's */
    int64_t deadline = h_now_ms() + h_ms(10000);
    while (h_log_count(hub->proc, "allowlist reloaded") <= before && h_now_ms() < deadline) {
        h_sleep_ms(5);
    }
    assert_true(h_log_count(hub->proc, "allowlist reloaded") > before);
    /* New connections (each sync is a new process): both admitted. */
    s_deliver(b, 1, 602);
    s_deliver(a, 1, 603);
    assert_int_equal(s_events_of(hub, ST_A), 2);
    assert_int_equal(s_events_of(hub, ST_B), 1);
}

/* ---- 6. nothing personal or secret at rest ---- */

static const char *const s_personal[] = {"张三丰-UNIQUE-7781", "ID-UNIQUE-7781-2305231990",
                                         "PHONE-UNIQUE-7781-138", "黑龙江某村-ADDR-UNIQUE-7781"};

/* memmem is a GNU extension; the tests build with _POSIX_C_SOURCE only. */
static int
s_contains(const uint8_t *hay, size_t hay_len, const void *needle, size_t len)
{
    for (size_t i = 0; len && i + len <= hay_len; i++) {
        if (hay[i] == *(const uint8_t *) needle && memcmp(hay + i, needle, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Fails if any needle occurs in the file at path (absent file: nothing to find). */
static void
s_assert_absent(const char *path,
                const void *const needles[],
                const size_t lens[],
                size_t n,
                const char *const names[])
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return;
    }
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t size = (size_t) st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, size, fp);
    fclose(fp);
    size_t hit = n;
    for (size_t i = 0; i < n && hit == n; i++) {
        if (s_contains(buf, got, needles[i], lens[i])) {
            hit = i;
        }
    }
    free(buf);
    if (hit < n) {
        fail_msg("%s holds %s in the clear", path, names[hit]);
    }
    fprintf(stderr, "# %zu bytes clean: %s\n", got, path);
}

static void
test_trust_no_plaintext_at_rest(void **state)
{
    /* Are petitioner fields and secret keys absent in clear from hub and station stores? */
    s_fix_t *f = *state;
    const char *level = getenv("SANJI_LOG_LEVEL");
    f->log_level = level ? strdup(level) : NULL;
    f->log_level_set = 1;
    setenv("SANJI_LOG_LEVEL", "debug", 1); /* the most the hub would ever log */
    h_node_t *county, *hub, *a;
    s_tree(f, &county, &hub, &a, NULL);
    const char *submit[] = {"submit",
                            "--log-level",
                            "debug",
                            "--channel",
                            "visit",
                            "--level",
                            "county",
                            "--summary",
                            "土地承包纠纷 (sealed petitioner test)",
                            "--petitioner-name",
                            s_personal[0],
                            "--petitioner-id",
                            s_personal[1],
                            "--petitioner-phone",
                            s_personal[2],
                            "--petitioner-address",
                            s_personal[3],
                            "--wait",
                            "0",
                            NULL};
    h_result_t sub, sync;
    assert_int_equal(h_agent(a, submit, &sub, h_ms(30000)), 0);
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int) strcspn(sub.out, "\n"), sub.out);
    fprintf(stderr, "# submitted %s\n", id);
    const char *sync_args[] = {"sync", "--log-level", "debug", "--timeout", "20", NULL};
    assert_int_equal(h_agent(a, sync_args, &sync, h_ms(50000)), 0);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 1, 1, h_ms(20000)), 1);

    /* Needles: the four fields, and every node's secret key as Z85 and raw bytes. */
    const void *needles[4 + 6];
    size_t lens[4 + 6];
    const char *names[4 + 6];
    char sk_z85[3][48];
    uint8_t sk[3][32];
    size_t n = 0;
    for (int i = 0; i < 4; i++, n++) {
        needles[n] = s_personal[i];
        lens[n] = strlen(s_personal[i]);
        names[n] = s_personal[i];
    }
    const h_node_t *nodes[3] = {county, hub, a};
    static const char *const sk_names[3][2] = {{"the county's secret key (Z85)", "(raw)"},
                                               {"the hub's secret key (Z85)", "(raw)"},
                                               {"the station's secret key (Z85)", "(raw)"}};
    for (int i = 0; i < 3; i++) {
        char path[H_PATH + 16];
        snprintf(path, sizeof path, "%s/curve.key", nodes[i]->data);
        char *text = h_read_file(path);
        assert_non_null(text);
        char pub[48];
        assert_int_equal(sscanf(text, "%47s %47s", pub, sk_z85[i]), 2);
        free(text);
        assert_int_equal(strlen(sk_z85[i]), 40);
        assert_non_null(zmq_z85_decode(sk[i], sk_z85[i]));
        needles[n] = sk_z85[i];
        lens[n] = 40;
        names[n++] = sk_names[i][0];
        needles[n] = sk[i];
        lens[n] = 32;
        names[n++] = sk_names[i][1];
    }
    /* The agent's own output first (also at debug). */
    for (size_t i = 0; i < n; i++) {
        if (s_contains((const uint8_t *) sub.out, strlen(sub.out), needles[i], lens[i])
            || s_contains((const uint8_t *) sub.err, strlen(sub.err), needles[i], lens[i])
            || s_contains((const uint8_t *) sync.err, strlen(sync.err), needles[i], lens[i])) {
            fail_msg("the agent printed %s", names[i]);
        }
    }
    h_result_free(&sub);
    h_result_free(&sync);
    const h_node_t *scanned[3] = {hub, a, county};
    for (int i = 0; i < 3; i++) {
        char path[H_PATH + 64];
        h_db_path(scanned[i], path, sizeof path);
        s_assert_absent(path, needles, lens, n, names);
        strncat(path, "-wal", sizeof path - strlen(path) - 1);
        s_assert_absent(path, needles, lens, n, names);
    }
    s_assert_absent(hub->proc->out_path, needles, lens, n, names);
    s_assert_absent(county->proc->out_path, needles, lens, n, names);
    assert_true(h_log_count(hub->proc, "child " ST_A " connected") > 0); /* the scan saw it */

    /* The county holds them sealed and opens them with its key. */
    h_result_t r;
    char *show[] = {(char *) COUNTY_BIN, "show", "--data", county->data,
                    "--with-personal",   id,     NULL};
    assert_int_equal(h_run(f->env, "show", show, &r, h_ms(30000)), 0);
    for (int i = 0; i < 4; i++) {
        if (!strstr(r.out, s_personal[i])) {
            fail_msg("county-server show --with-personal lacks %s: %s", s_personal[i], r.out);
        }
    }
    h_result_free(&r);
    char *plain_show[] = {(char *) COUNTY_BIN, "show", "--data", county->data, id, NULL};
    assert_int_equal(h_run(f->env, "show", plain_show, &r, h_ms(30000)), 0);
    assert_null(strstr(r.out, s_personal[0]));
    h_result_free(&r);
}

/* ---- 7. a flood of hostile frames ---- */

static uint32_t
s_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

enum { K_RANDOM, K_MUTATED, K_TRUNCATED, K_VALID, K_KINDS };

typedef struct {
    uint8_t *buf;
    size_t len;
} s_frame_t;

/* One raw connection of the flood: its key's code, epoch and templates. */
typedef struct {
    const char *code;
    uint8_t epoch[16];
    s_frame_t tpl[10];
    size_t n_tpl;
    int sent, replies;
} s_flood_sock_t;

static void
s_tpl_add(s_flood_sock_t *s, uint8_t *buf, size_t len)
{
    assert_true(s->n_tpl < sizeof s->tpl / sizeof s->tpl[0]);
    s->tpl[s->n_tpl].buf = buf;
    s->tpl[s->n_tpl].len = len;
    s->n_tpl++;
}

static uint8_t *
s_pack_body(int body, const uint8_t epoch[16], size_t *len)
{
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Welcome wel = SANJI__WELCOME__INIT;
    Sanji__Ack ack = SANJI__ACK__INIT;
    Sanji__Error err = SANJI__ERROR__INIT;
    env.version = SJ_PROTO_VERSION;
    env.body_case = (Sanji__Envelope__BodyCase) body;
    switch (body) {
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        hb.now_ms = 1700000000000;
        hb.queue_depth = 3;
        env.heartbeat = &hb;
        break;
    case SANJI__ENVELOPE__BODY_WELCOME: /* downward types sent upward */
        wel.store_epoch.data = (uint8_t *) epoch;
        wel.store_epoch.len = 16;
        wel.acked_through = 5;
        env.welcome = &wel;
        break;
    case SANJI__ENVELOPE__BODY_ACK:
        ack.epoch.data = (uint8_t *) epoch;
        ack.epoch.len = 16;
        ack.acked_through = 2;
        env.ack = &ack;
        break;
    default:
        err.code = SANJI__ERROR_CODE__ERROR_INTERNAL;
        err.reason.data = (uint8_t *) "upward error";
        err.reason.len = strlen("upward error");
        env.body_case = SANJI__ENVELOPE__BODY_ERROR;
        env.error = &err;
        break;
    }
    return s_pack(&env, len);
}

/* Valid messages in every role; sent in random order they are also the
 * "valid but wrong order" frames (batch before hello, gaps, other epoch...). */
static void
s_flood_templates(s_flood_sock_t *s, const char *good_code, uint32_t *rng)
{
    size_t len;
    uint8_t *buf;
    uint8_t other[16];
    sj_random16(s->epoch);
    sj_random16(other);
    buf = s_pack_hello(s->code, s->epoch, 3, &len);
    s_tpl_add(s, buf, len);
    buf = s_pack_hello(good_code, s->epoch, 3, &len); /* someone else's code */
    s_tpl_add(s, buf, len);
    buf = s_pack_batch(s->code, s->epoch, 1, 2, &len);
    s_tpl_add(s, buf, len);
    buf = s_pack_batch(s->code, s->epoch, 3, 1, &len);
    s_tpl_add(s, buf, len);
    buf = s_pack_batch(s->code, s->epoch, 7, 3, &len); /* a gap */
    s_tpl_add(s, buf, len);
    buf = s_pack_batch(s->code, other, 1, 1, &len); /* another epoch */
    s_tpl_add(s, buf, len);
    buf = s_pack_batch(good_code, s->epoch, 1, 1, &len); /* someone else's event */
    s_tpl_add(s, buf, len);
    buf = s_pack_body(SANJI__ENVELOPE__BODY_HEARTBEAT, s->epoch, &len);
    s_tpl_add(s, buf, len);
    static const int down[] = {SANJI__ENVELOPE__BODY_WELCOME, SANJI__ENVELOPE__BODY_ACK,
                               SANJI__ENVELOPE__BODY_ERROR};
    buf = s_pack_body(down[s_rand(rng) % 3], s->epoch, &len);
    s_tpl_add(s, buf, len);
}

static void
s_flood_free(s_flood_sock_t *s)
{
    for (size_t i = 0; i < s->n_tpl; i++) {
        free(s->tpl[i].buf);
    }
    s->n_tpl = 0;
}

/* Makes the next hostile frame into out (at least 4096 bytes); returns its
 * length and its kind. */
static size_t
s_flood_frame(s_flood_sock_t *s, uint32_t *rng, uint8_t *out, int *kind)
{
    uint32_t r = s_rand(rng) % 100;
    if (r < 25) {
        *kind = K_RANDOM;
        size_t len = s_rand(rng) % 2001;
        for (size_t i = 0; i < len; i++) {
            out[i] = (uint8_t) s_rand(rng);
        }
        return len;
    }
    const s_frame_t *t = &s->tpl[s_rand(rng) % s->n_tpl];
    memcpy(out, t->buf, t->len);
    size_t len = t->len;
    if (r < 60) {
        *kind = K_MUTATED;
        int edits = 1 + (int) (s_rand(rng) % 8);
        for (int e = 0; e < edits; e++) {
            uint32_t op = s_rand(rng) % 3;
            size_t at = len ? s_rand(rng) % len : 0;
            if (op == 0 && len > 0) { /* flip */
                out[at] ^= (uint8_t) (1 + s_rand(rng) % 255);
            } else if (op == 1 && len < 4000) { /* insert */
                memmove(out + at + 1, out + at, len - at);
                out[at] = (uint8_t) s_rand(rng);
                len++;
            } else if (len > 0) { /* delete */
                memmove(out + at, out + at + 1, len - at - 1);
                len--;
            }
        }
        return len;
    }
    if (r < 75) {
        *kind = K_TRUNCATED;
        return len ? s_rand(rng) % len : 0;
    }
    *kind = K_VALID;
    return len;
}

/* Receives whatever replies are waiting on sock without blocking. */
static int
s_drain(void *sock)
{
    int n = 0;
    char buf[64];
    while (zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
        n++;
    }
    return n;
}

static long
s_rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
    char *text = h_read_file(path);
    long kb = -1;
    const char *line = text ? strstr(text, "VmRSS:") : NULL;
    if (line) {
        kb = strtol(line + 6, NULL, 10);
    }
    free(text);
    return kb;
}

static void
test_trust_hostile_flood(void **state)
{
    /* Does a hub under 10,000 hostile frames still deliver 1,000 reports exactly once? */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *good;
    s_tree(f, &county, &hub, &good, NULL);
    /* The attackers hold real, enrolled station keys (a key outside the
     * allowlist gets no further than test_trust_unknown_key shows). */
    h_node_t *raw_nodes[FLOOD_SOCKS];
    for (int i = 0; i < FLOOD_SOCKS; i++) {
        char code[16];
        snprintf(code, sizeof code, T100 "%03d", 211 + i);
        raw_nodes[i] = h_station(f->env, code, hub);
        assert_non_null(raw_nodes[i]);
        assert_true(raw_nodes[i]->enrolled);
    }
    /* The store exists before `run` starts (see the report on concurrent creation). */
    int imported = FLOOD_REPORTS / FLOOD_CHUNKS;
    assert_int_equal(h_import(good, (size_t) imported, 7000u), 0);
    const char *run[] = {"run", NULL};
    h_proc_t *agent = h_agent_spawn(good, run);
    assert_non_null(agent);

    uint32_t rng = FLOOD_SEED;
    fprintf(stderr, "# flood seed 0x%08x\n", FLOOD_SEED);
    uint8_t *frame = malloc(4096);
    assert_non_null(frame);
    int kinds[K_KINDS] = {0}, sent = 0, replies = 0, rounds = 0;
    int64_t t0 = h_now_ms();
    while (sent < FLOOD_FRAMES) {
        /* The good station's reports keep arriving during the flood. */
        if (imported < FLOOD_REPORTS) {
            assert_int_equal(
                h_import(good, FLOOD_REPORTS / FLOOD_CHUNKS, 7000u + (uint32_t) rounds), 0);
            imported += FLOOD_REPORTS / FLOOD_CHUNKS;
        }
        s_flood_sock_t socks[FLOOD_SOCKS];
        memset(socks, 0, sizeof socks);
        for (int i = 0; i < FLOOD_SOCKS; i++) {
            socks[i].code = raw_nodes[i]->code;
            s_flood_templates(&socks[i], good->code, &rng);
            s_keep(f, i, h_raw_dealer(f->zctx, raw_nodes[i]));
        }
        /* Interleave the connections, never blocking: the hub must answer
         * every frame (each is one Error, Welcome, Ack, Resend or Heartbeat). */
        for (int k = 0; k < FLOOD_PER_SOCK * FLOOD_SOCKS && sent < FLOOD_FRAMES; k++) {
            int i = k % FLOOD_SOCKS;
            int kind;
            size_t len = s_flood_frame(&socks[i], &rng, frame, &kind);
            int64_t deadline = h_now_ms() + h_ms(REPLY_MS);
            while (zmq_send(f->socks[i], frame, len, ZMQ_DONTWAIT) < 0) {
                assert_int_equal(zmq_errno(), EAGAIN);
                socks[i].replies += s_drain(f->socks[i]);
                assert_true(h_now_ms() < deadline);
                h_sleep_ms(1);
            }
            kinds[kind]++;
            socks[i].sent++;
            sent++;
            socks[i].replies += s_drain(f->socks[i]);
        }
        int64_t deadline = h_now_ms() + h_ms(20000);
        for (int i = 0; i < FLOOD_SOCKS; i++) {
            while (socks[i].replies < socks[i].sent && h_now_ms() < deadline) {
                zmq_pollitem_t item = {.socket = f->socks[i], .events = ZMQ_POLLIN};
                if (zmq_poll(&item, 1, 50) > 0) {
                    socks[i].replies += s_drain(f->socks[i]);
                }
            }
            replies += socks[i].replies;
            if (socks[i].replies != socks[i].sent) {
                fail_msg("round %d: connection %d got %d replies to %d frames", rounds, i,
                         socks[i].replies, socks[i].sent);
            }
            s_drop(f, i);
            s_flood_free(&socks[i]);
        }
        assert_true(h_proc_running(hub->proc));
        rounds++;
    }
    fprintf(stderr,
            "# %d frames (%d random, %d mutated, %d truncated, %d valid) in %d rounds,"
            " %d replies, %lld ms\n",
            sent, kinds[K_RANDOM], kinds[K_MUTATED], kinds[K_TRUNCATED], kinds[K_VALID], rounds,
            replies, (long long) (h_now_ms() - t0));
    fprintf(stderr, "# the good station had %lld of %d reports at the hub when the flood ended\n",
            s_events_of(hub, ST_A), imported);
    while (imported < FLOOD_REPORTS) {
        assert_int_equal(h_import(good, FLOOD_REPORTS / FLOOD_CHUNKS, 9000u + (uint32_t) imported),
                         0);
        imported += FLOOD_REPORTS / FLOOD_CHUNKS;
    }

    /* Past the limit: 150 bad frames on one connection get 100 answers, then silence. */
    void *limit = s_keep(f, 0, h_raw_dealer(f->zctx, raw_nodes[0]));
    for (int i = 0; i < 150; i++) {
        uint8_t junk[32];
        memset(junk, 0xa5, sizeof junk);
        junk[0] = 0x0f; /* field 1, wire type 7: never a valid protobuf */
        assert_int_equal(h_raw_send(limit, junk, sizeof junk), 0);
    }
    int got = 0;
    int64_t deadline = h_now_ms() + h_ms(REPLY_MS);
    while (got < 100 && h_now_ms() < deadline) {
        zmq_pollitem_t item = {.socket = limit, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 50) > 0) {
            got += s_drain(limit);
        }
    }
    assert_int_equal(got, 100);
    s_expect_silence(limit);
    s_drop(f, 0);
    free(frame);

    /* The good station: all of it at the county, exactly once. */
    const char *sql = "SELECT count(*) FROM events WHERE origin = '" ST_A "'";
    long long at_county = h_wait_db(county, sql, FLOOD_REPORTS, FLOOD_REPORTS, h_ms(30000));
    assert_int_equal(h_proc_kill(agent, SIGTERM), 0);
    assert_int_equal(at_county, FLOOD_REPORTS);
    h_stream_t s[64];
    int ns = h_streams(county, s, 64), streams = 0;
    for (int i = 0; i < ns; i++) {
        if (strcmp(s[i].origin, ST_A) == 0) {
            streams++;
            assert_int_equal(s[i].count, FLOOD_REPORTS);
            assert_int_equal(s[i].min_seq, 1);
            assert_int_equal(s[i].max_seq, FLOOD_REPORTS);
            assert_int_equal(s[i].distinct_seq, FLOOD_REPORTS);
        }
    }
    assert_int_equal(streams, 1);
    /* Whatever the attackers' valid frames got stored at the hub was forwarded
     * too, and nothing anywhere twice. */
    long long hub_events = s_count(hub, "SELECT count(*) FROM events");
    long long county_events =
        h_wait_db(county, "SELECT count(*) FROM events", hub_events, hub_events, h_ms(30000));
    fprintf(stderr, "# hub %lld events (%lld from the attackers), county %lld, quarantined %lld\n",
            hub_events, hub_events - FLOOD_REPORTS, county_events,
            s_count(hub, "SELECT count(*) FROM quarantine"));
    assert_int_equal(county_events, hub_events);
    assert_int_equal(s_count(county, "SELECT count(DISTINCT id) FROM events"), county_events);
    /* (the hub's quarantine notices are events of its own stream, not reports) */
    assert_int_equal(s_count(county, "SELECT count(*) FROM matters"),
                     s_count(county, "SELECT count(*) FROM events WHERE type = 1"));
    assert_int_equal(s_count(hub, "SELECT count(DISTINCT id) FROM events"), hub_events);

    assert_true(h_proc_running(hub->proc));
    long rss = s_rss_kb(hub->proc->pid);
    fprintf(stderr, "# hub VmRSS %ld kB after the flood\n", rss);
    assert_true(rss > 0 && rss < 200L * 1024);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trust_unknown_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_claimed_code, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_hub_foreign_township, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_wrong_server_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_revoke, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_sighup_any_thread, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_no_plaintext_at_rest, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_hostile_flood, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("trust", tests, NULL, NULL);
}
