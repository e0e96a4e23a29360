/* Does the node engine (sj_node_run) deliver, stop when done, time out, stop at a refusal,
 * tick without traffic, refuse a bad configuration as bad usage, and stay off a data directory
 * another daemon holds? Two nodes in one process (a parent on a thread, a one-shot child on the
 * main thread) over inproc://, with the in-memory stores of link_fakes.h. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "link_fakes.h"
#include "sj_auth.h"
#include "sj_backup.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_node.h"

#define S_CODE "230523100201"

typedef struct {
    void *zctx;
    char endpoint[64];
    char parent_dir[64], child_dir[64];
    lf_parent_t parent;
    lf_child_t child;
    uint8_t parent_epoch[16];
    pthread_t thread;
    int running;           /* the parent's thread was started */
    atomic_int stop;       /* the parent's done predicate */
    int parent_rc;         /* what the parent's sj_node_run returned */
    int ticks;             /* the child's tick hook */
    int stopping_rc;       /* what the child's stopping hook saw */
    char last_error[256];  /* ... and the parent's last word */
    int open_rc;           /* what the child's open returns */
    int closed;            /* the child's close calls */
    int with_idle;         /* the parent has an idle hook */
    atomic_int idle_calls; /* ... and it was called this often */
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->zctx = lf_begin("test-node", f->endpoint, sizeof f->endpoint);
    assert_non_null(f->zctx);
    snprintf(f->parent_dir, sizeof f->parent_dir, "/tmp/sanji-node-XXXXXX");
    snprintf(f->child_dir, sizeof f->child_dir, "/tmp/sanji-node-XXXXXX");
    assert_non_null(mkdtemp(f->parent_dir));
    assert_non_null(mkdtemp(f->child_dir));
    assert_int_equal(lf_parent_init(&f->parent), 0);
    lf_child_init(&f->child, S_CODE);
    *state = f;
    return 0;
}

static void
s_rm(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int
s_teardown(void **state)
{
    s_fix_t *f = *state;
    if (f->running) {
        atomic_store(&f->stop, 1);
        pthread_join(f->thread, NULL);
    }
    zmq_ctx_term(f->zctx);
    lf_parent_fini(&f->parent);
    lf_child_fini(&f->child);
    s_rm(f->parent_dir);
    s_rm(f->child_dir);
    free(f);
    return 0;
}

/* ---- the parent: a county-like node on its own thread ---- */

static int
s_parent_open(void *ctx, sj_node_store_t *out, char *err, size_t err_size)
{
    s_fix_t *f = ctx;
    (void) err;
    (void) err_size;
    out->store = &f->parent;
    out->db = f->parent.db;
    out->code = "230523";
    out->store_epoch = f->parent_epoch;
    return SJ_OK;
}

static void
s_no_close(void *ctx, void *store)
{
    (void) ctx;
    (void) store;
}

static int
s_parent_done(void *ctx, sj_node_t *node)
{
    s_fix_t *f = ctx;
    (void) node;
    return atomic_load(&f->stop);
}

/* Work waiting for the first 200 calls, then none. */
static int
s_parent_idle(void *ctx, void *store)
{
    s_fix_t *f = ctx;
    assert_ptr_equal(store, &f->parent);
    return atomic_fetch_add(&f->idle_calls, 1) + 1 < 200;
}

static void *
s_parent_main(void *arg)
{
    s_fix_t *f = arg;
    static const sj_node_role_t plain = {.open = s_parent_open,
                                         .close = s_no_close,
                                         .down_ops = &lf_parent_ops,
                                         .done = s_parent_done};
    static const sj_node_role_t with_idle = {.open = s_parent_open,
                                             .close = s_no_close,
                                             .down_ops = &lf_parent_ops,
                                             .done = s_parent_done,
                                             .idle = s_parent_idle};
    const sj_node_role_t *role = f->with_idle ? &with_idle : &plain;
    const sj_node_cfg_t cfg = {.tool = "test-parent",
                               .data = f->parent_dir,
                               .insecure = 1,
                               .bind = f->endpoint,
                               .zctx = f->zctx};
    f->parent_rc = sj_node_run(&cfg, role, f);
    return NULL;
}

static void
s_parent_start(s_fix_t *f)
{
    assert_int_equal(pthread_create(&f->thread, NULL, s_parent_main, f), 0);
    f->running = 1;
}

static int
s_parent_stop(s_fix_t *f)
{
    atomic_store(&f->stop, 1);
    assert_int_equal(pthread_join(f->thread, NULL), 0);
    f->running = 0;
    return f->parent_rc;
}

/* ---- the child: a station's one-shot delivery on the main thread ---- */

static int
s_child_open(void *ctx, sj_node_store_t *out, char *err, size_t err_size)
{
    s_fix_t *f = ctx;
    if (f->open_rc != SJ_OK) {
        snprintf(err, err_size, "the test's store does not open");
        return f->open_rc;
    }
    out->store = &f->child;
    out->code = f->child.code;
    out->link_epoch = f->child.epoch;
    return SJ_OK;
}

static void
s_child_close(void *ctx, void *store)
{
    s_fix_t *f = ctx;
    assert_ptr_equal(store, &f->child);
    f->closed++;
}

static void
s_child_tick(void *ctx, sj_node_t *node)
{
    s_fix_t *f = ctx;
    assert_non_null(sj_node_uplink(node));
    assert_null(sj_node_downlink(node));
    f->ticks++;
}

static int
s_child_done(void *ctx, sj_node_t *node)
{
    (void) ctx;
    sj_uplink_t *up = sj_node_uplink(node);
    return sj_uplink_state(up) == SJ_UP_READY && sj_uplink_head(up) > 0
           && sj_uplink_acked(up) == sj_uplink_head(up);
}

static void
s_child_stopping(void *ctx, sj_node_t *node, int rc)
{
    s_fix_t *f = ctx;
    f->stopping_rc = rc;
    snprintf(f->last_error, sizeof f->last_error, "%s", sj_uplink_last_error(sj_node_uplink(node)));
}

static const sj_node_role_t s_child_role = {.open = s_child_open,
                                            .close = s_child_close,
                                            .up_ops = &lf_child_ops,
                                            .tick = s_child_tick,
                                            .done = s_child_done,
                                            .stopping = s_child_stopping};

static sj_node_cfg_t
s_child_cfg(s_fix_t *f, int64_t timeout_ms)
{
    return (sj_node_cfg_t){.tool = "test-child",
                           .data = f->child_dir,
                           .insecure = 1,
                           .parent = f->endpoint,
                           .timeout_ms = timeout_ms,
                           .stop_on_refusal = 1,
                           .up_ack_timeout_ms = 200,
                           .up_heartbeat_ms = 100,
                           .zctx = f->zctx};
}

static void
test_node_one_shot_delivers(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 40), 0);
    s_parent_start(f);
    sj_node_cfg_t cfg = s_child_cfg(f, 30000);
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_OK);
    assert_int_equal(f->stopping_rc, SJ_OK);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->child.acked, 40);
    assert_int_equal(s_parent_stop(f), SJ_OK);
    assert_int_equal(f->parent.n, 40);
    for (size_t i = 0; i < f->child.n; i++) {
        assert_true(lf_parent_has(&f->parent, f->child.ev[i].id));
    }
}

/* The idle hook (the daemons' search index): while it says more work is
 * waiting it is called again without waiting for a tick, and the children's
 * events still go in, all of them. */
static void
test_node_idle_hook(void **state)
{
    s_fix_t *f = *state;
    f->with_idle = 1;
    assert_int_equal(lf_child_add(&f->child, 40), 0);
    int64_t t0 = sj_mono_ms();
    s_parent_start(f);
    sj_node_cfg_t cfg = s_child_cfg(f, 30000);
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_OK);
    assert_int_equal(f->child.acked, 40);
    /* 200 calls at one per tick would take 20 s */
    while (atomic_load(&f->idle_calls) < 200 && sj_mono_ms() - t0 < 5000) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(atomic_load(&f->idle_calls) >= 200);
    assert_int_equal(s_parent_stop(f), SJ_OK);
    assert_int_equal(f->parent.n, 40);
}

static void
test_node_times_out_and_ticks(void **state)
{
    /* Nobody binds the endpoint: the one-shot node gives up after its timeout, having ticked
     * all along without any traffic. */
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 1), 0);
    sj_node_cfg_t cfg = s_child_cfg(f, 1000);
    int64_t t0 = sj_mono_ms();
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_ETIMEDOUT);
    int64_t took = sj_mono_ms() - t0;
    assert_true(took >= 1000);
    assert_true(f->ticks >= 3); /* ~10 at one tick per SJ_NODE_TICK_MS */
    assert_true(f->ticks <= 1000 / SJ_NODE_TICK_MS + 2);
    assert_int_equal(f->stopping_rc, SJ_ETIMEDOUT);
    assert_int_equal(f->closed, 1);
}

static void
test_node_stops_at_refusal(void **state)
{
    s_fix_t *f = *state;
    f->parent.refuse = 1;
    assert_int_equal(lf_child_add(&f->child, 3), 0);
    s_parent_start(f);
    sj_node_cfg_t cfg = s_child_cfg(f, 30000);
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_EFORBIDDEN);
    assert_int_equal(f->stopping_rc, SJ_EFORBIDDEN);
    assert_non_null(strstr(f->last_error, "is not enrolled here (test)"));
    assert_int_equal(s_parent_stop(f), SJ_OK);
    assert_int_equal(f->parent.n, 0);
}

static void
test_node_bad_configuration(void **state)
{
    s_fix_t *f = *state;
    /* nothing to run */
    sj_node_cfg_t cfg = s_child_cfg(f, 1000);
    cfg.parent = NULL;
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_EINVAL);
    assert_int_equal(f->closed, 0);
    /* with keys, the parent's key is needed and must be a key */
    sj_keypair_t kp;
    char err[256];
    assert_int_equal(sj_keypair_generate(f->child_dir, &kp, err, sizeof err), SJ_OK);
    cfg = s_child_cfg(f, 1000);
    cfg.insecure = 0;
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_EINVAL);
    cfg.parent_key = "not-a-key";
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_EINVAL);
    assert_int_equal(f->closed, 2); /* the store was opened and closed each time */
    assert_int_equal(f->ticks, 0);
}

static void
test_node_start_failures(void **state)
{
    s_fix_t *f = *state;
    /* the store does not open: not bad usage, and nothing to close */
    f->open_rc = SJ_EINVAL;
    sj_node_cfg_t cfg = s_child_cfg(f, 1000);
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_EIO);
    assert_int_equal(f->closed, 0);
    f->open_rc = SJ_OK;
    /* a daemon on a data directory another process holds stays off it (record locks are
     * per process: the holder is a child process) */
    int ready[2], release[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = -1;
        char err[256], c = 0;
        int ok = sj_backup_lock(f->child_dir, &fd, NULL, err, sizeof err) == SJ_OK;
        if (write(ready[1], ok ? "y" : "n", 1) != 1 || read(release[0], &c, 1) < 0) {
            _exit(2);
        }
        _exit(ok ? 0 : 1);
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    cfg.daemon = 1;
    assert_int_equal(sj_node_run(&cfg, &s_child_role, f), SJ_EAGAIN);
    assert_int_equal(f->closed, 0);
    assert_int_equal(write(release[1], "x", 1), 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]);
    close(ready[1]);
    close(release[0]);
    close(release[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_one_shot_delivers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_node_idle_hook, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_node_times_out_and_ticks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_node_stops_at_refusal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_node_bad_configuration, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_node_start_failures, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("node", tests, NULL, NULL);
}
