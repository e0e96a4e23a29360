/* When the hub's disk fills up, does it refuse with a clear error while the
 * stations keep queueing, stay uncorrupted, and recover by itself when space
 * returns, with every report at the county exactly once?
 *
 * Scenario 5 of the fault suite (issue 6). The hub's data directory is put on
 * a 16 MiB tmpfs mounted for the test (root needed; the test process first
 * enters a mount namespace of its own, so the mount never leaks: it vanishes
 * with the test even if the test is killed; it is unmounted in teardown too).
 * Once the hub runs, a filler file takes all but FREE_BYTES of it; 5,000
 * reports from each of two stations need several times that. Checked while
 * the disk is full: the hub's log says "disk full", the hub keeps running, a
 * station's `sync` exits 1 saying how many reports remain and why, the
 * stations still record new reports, integrity_check of the hub's database
 * is ok. Then the filler is deleted and everything must arrive by itself.
 *
 * Without root (mount or unshare refused), or with SANJI_FAULTS_NO_TMPFS=1,
 * the hub runs with RLIMIT_FSIZE = 2 MiB instead (SIGXFSZ ignored, so writes
 * past it fail with EFBIG; SQLite may call that an I/O error rather than
 * "disk full", which the test then accepts: any refused group) and is given
 * the space back with prlimit(2). The test says which it used.
 *
 * No long form: filling a disk takes the same time whatever the run. */
#define _GNU_SOURCE /* unshare, prlimit */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "faults.h"

#define PER_STATION 5000
#define TMPFS_OPTS  "size=16m,mode=0700"
#define FREE_BYTES  (512 * 1024)      /* what the filler leaves free */
#define SMALL_BYTES (2 * 1024 * 1024) /* RLIMIT_FSIZE without a tmpfs */
#define RECOVER_S   15                /* a few first backoffs (2 s, 4 s, ...) */

typedef struct {
    h_env_t *env;
    char mounted[H_PATH]; /* the tmpfs mount point, "" when none */
    h_node_t *hub;        /* to stop before unmounting */
} s_ctx_t;

static int
s_setup(void **state)
{
    s_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        return -1;
    }
    c->env = h_env_new("faults-disk-full");
    *state = c;
    return c->env ? 0 : -1;
}

static int
s_teardown(void **state)
{
    s_ctx_t *c = *state;
    if (c->hub && c->hub->proc) {
        h_stop(c->hub, SIGKILL);
    }
    if (c->mounted[0] && umount2(c->mounted, MNT_DETACH) != 0) {
        fprintf(stderr, "# umount %s: %s\n", c->mounted, strerror(errno));
    }
    int rc = h_env_destroy(&c->env);
    free(c);
    return rc;
}

/* Moves dir onto a fresh tmpfs (its files copied over). 0, or -1 when this
 * process may not mount (then dir is as it was). */
static int
s_onto_tmpfs(s_ctx_t *c, const char *dir)
{
    const char *no = getenv("SANJI_FAULTS_NO_TMPFS");
    if (no && strcmp(no, "1") == 0) {
        fprintf(stderr, "# SANJI_FAULTS_NO_TMPFS=1\n");
        return -1;
    }
    /* A mount namespace of our own: the mount dies with this process. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        fprintf(stderr, "# cannot make a mount namespace: %s\n", strerror(errno));
        return -1;
    }
    char aside[H_PATH + 16];
    snprintf(aside, sizeof aside, "%s.disk", dir);
    assert_int_equal(rename(dir, aside), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTS) != 0) {
        fprintf(stderr, "# cannot mount a tmpfs on %s: %s\n", dir, strerror(errno));
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(rename(aside, dir), 0);
        return -1;
    }
    snprintf(c->mounted, sizeof c->mounted, "%s", dir);
    char from[H_PATH + 32];
    snprintf(from, sizeof from, "%s/.", aside);
    char *cp[] = {"cp", "-a", "--", from, (char *) dir, NULL};
    h_result_t r;
    assert_int_equal(h_run(c->env, "cp", cp, &r, h_ms(30000)), 0);
    h_result_free(&r);
    assert_int_equal(h_rmrf(aside), 0);
    return 0;
}

/* Fills the file system of dir with dir/filler until FREE_BYTES are left. */
static void
s_fill(const char *dir, char *filler, size_t size)
{
    struct statvfs vfs;
    assert_int_equal(statvfs(dir, &vfs), 0);
    long long avail = (long long) vfs.f_bavail * (long long) vfs.f_frsize;
    long long want = avail - FREE_BYTES;
    assert_true(want > 0);
    snprintf(filler, size, "%s/filler", dir);
    int fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    static char zeros[65536];
    for (long long done = 0; done < want;) {
        size_t n = want - done < (long long) sizeof zeros ? (size_t) (want - done) : sizeof zeros;
        ssize_t w = write(fd, zeros, n);
        assert_true(w > 0);
        done += w;
    }
    assert_int_equal(close(fd), 0);
    fprintf(stderr, "# filler of %lld KiB leaves %d KiB free for the hub\n", want / 1024,
            FREE_BYTES / 1024);
}

static void
test_faults_disk_full_hub(void **state)
{
    /* Does a hub with a full disk refuse clearly, stay intact, and recover when space returns? */
    s_ctx_t *c = *state;
    (void) f_seed("faults_disk_full");
    f_tree_t t;
    f_tree_declare(c->env, &t, 1, 2);
    h_node_t *hub = t.hub[0];
    c->hub = hub;
    int tmpfs = s_onto_tmpfs(c, hub->data) == 0;
    char filler[H_PATH + 16] = "";
    struct rlimit old = {0};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(h_start_county(t.county), 0);
    if (tmpfs) {
        fprintf(stderr, "# the hub's data is on a 16 MiB tmpfs at %s\n", hub->data);
        assert_int_equal(h_start_hub(hub), 0);
        s_fill(hub->data, filler, sizeof filler);
    } else {
        fprintf(stderr, "# no tmpfs: the hub runs with RLIMIT_FSIZE = 2 MiB instead\n");
        struct rlimit small = {SMALL_BYTES, old.rlim_max};
        signal(SIGXFSZ, SIG_IGN); /* inherited as ignored across exec */
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
        int up = h_start_hub(hub);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, SIG_DFL);
        assert_int_equal(up, 0);
    }
    f_stations_import(&t, PER_STATION, 1);
    for (size_t i = 0; i < t.n_st; i++) {
        f_deliver_start(&t, i);
    }

    /* The disk fills: the hub says so, keeps running, and takes nothing more
     * (a refused big group may leave room for a few smaller ones first). */
    int64_t t0 = h_now_ms(), deadline = t0 + h_ms(60000), still_since = t0;
    const char *full_text = tmpfs ? "disk full" : "not committed";
    long long at_hub = -1;
    for (;;) {
        long long n = h_db_scalar(hub, "SELECT count(*) FROM events");
        if (n != at_hub) {
            at_hub = n;
            still_since = h_now_ms();
        }
        if (h_log_count(hub->proc, full_text) > 0 && h_now_ms() - still_since > 3000) {
            break;
        }
        if (h_now_ms() > deadline || !h_proc_running(hub->proc)) {
            h_print_tail(hub->proc->out_path, 30);
            fail_msg("the hub's disk never stayed full (running: %d, %lld reports there)",
                     h_proc_running(hub->proc), at_hub);
        }
        f_deliver_step(&t);
        h_sleep_ms(50);
    }
    fprintf(stderr, "# hub full since %lld ms after the start, with %lld of %lld reports\n",
            (long long) (still_since - t0), at_hub, f_made(&t));
    assert_true(at_hub < f_made(&t));

    /* A station's sync says how many remain, and why (its `run` stopped meanwhile). */
    assert_int_equal(h_proc_kill(t.del[1], SIGTERM), 0);
    t.del[1] = NULL;
    h_result_t r;
    int code = h_sync(t.st[1], 5, &r);
    fprintf(stderr, "# sync at %s while the hub is full: exit %d: %s", t.st[1]->code, code, r.err);
    assert_int_equal(code, 1);
    assert_non_null(strstr(r.err, "not yet acknowledged"));
    if (tmpfs) {
        assert_non_null(strstr(r.err, "disk is full"));
    }
    h_result_free(&r);
    /* The stations keep recording. */
    f_stations_import(&t, 100, 2);
    assert_true(h_proc_running(hub->proc));
    char why[600];
    if (f_integrity(hub, why, sizeof why) != 0) {
        fail_msg("hub database while full: %s", why);
    }
    long long refusals = h_log_count(hub->proc, "not committed");
    fprintf(stderr, "# hub alive and intact; %lld groups refused so far\n", refusals);

    /* Space returns. */
    if (tmpfs) {
        assert_int_equal(unlink(filler), 0);
    } else {
        struct rlimit big = {RLIM_INFINITY, RLIM_INFINITY};
        assert_int_equal(prlimit(hub->proc->pid, RLIMIT_FSIZE, &big, NULL), 0);
    }
    int64_t back = h_now_ms();
    fprintf(stderr, "# space back\n");
    f_deliver_start(&t, 1);
    assert_int_equal(f_wait_county(&t, h_ms(120000)), f_made(&t));
    double took_s = (double) (h_now_ms() - back) / 1000.0;
    fprintf(stderr, "# everything at the county %.1f s after the space came back\n", took_s);
    f_check_all(&t);
    /* One refused window should cost a station one short backoff (2 s, then
     * 4 s, ...), not the 30 s cap (sj_uplink BACKOFF_MAX_MS). */
    if (took_s > RECOVER_S) {
        fail_msg("the stations were back %.1f s after the space came back (limit %d s)", took_s,
                 RECOVER_S);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_disk_full_hub, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
