/* Is a damaged database refused at start, with a clear error that names the
 * file, and left exactly as it was (never silently recreated)? And does the
 * undamaged copy, put back, still hold every report exactly once?
 *
 * Scenario 6 of the fault suite (issue 6). The damage: the file truncated to
 * half its size, its 100-byte header overwritten, truncated to nothing; at
 * the county (all three), the hub and a station (each of the first two). The
 * tiers are stopped cleanly first, so that each file is complete on its own
 * (no -wal). Also: a store that does not exist yet, opened by two processes
 * at the same moment, is made once and both work. No long form: it is
 * deterministic. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "faults.h"

#define REPORTS 300

typedef enum { D_HALF = 0, D_HEADER, D_EMPTY, D_PAGE } s_damage_t;

static const char *const s_damage_names[] = {"truncated to half", "header overwritten",
                                             "truncated to 0 bytes",
                                             "with a page in the middle overwritten"};

typedef struct {
    uint64_t hash; /* FNV-1a of the bytes */
    long long size;
} s_print_t;

static int
s_setup(void **state)
{
    *state = h_env_new("faults-damaged-db");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static s_print_t
s_fingerprint(const char *path)
{
    s_print_t p = {1469598103934665603ull, -1};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return p;
    }
    unsigned char buf[65536];
    ssize_t n;
    p.size = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            p.hash = (p.hash ^ buf[i]) * 1099511628211ull;
        }
        p.size += n;
    }
    close(fd);
    return p;
}

static void
s_damage(const char *path, s_damage_t d)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    if (d == D_HALF) {
        assert_int_equal(truncate(path, st.st_size / 2), 0);
    } else if (d == D_EMPTY) {
        assert_int_equal(truncate(path, 0), 0);
    } else if (d == D_PAGE) {
        /* The whole page in the middle of the file, at the file's page size
         * (header bytes 16-17: 4096 was sj_db's default, the county makes
         * 16 KiB pages): part of a page may be its free space, which no
         * check reads, and which a store with fuller pages happened to lack. */
        int fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        unsigned char hdr[18];
        assert_int_equal(pread(fd, hdr, sizeof hdr, 0), (ssize_t) sizeof hdr);
        size_t page = (size_t) hdr[16] << 8 | hdr[17];
        page = page == 1 ? 65536 : page;
        assert_true(page >= 512 && page <= 65536);
        static char junk[65536];
        for (size_t i = 0; i < page; i++) {
            junk[i] = (char) (i * 131u + 7u);
        }
        off_t at = (off_t) (st.st_size / (off_t) page / 2) * (off_t) page;
        assert_int_equal(pwrite(fd, junk, page, at), (ssize_t) page);
        assert_int_equal(close(fd), 0);
    } else {
        static const char junk[100] = "this header was overwritten by the fault suite; it is"
                                      " no longer an SQLite header";
        int fd = open(path, O_WRONLY);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, junk, sizeof junk, 0), (ssize_t) sizeof junk);
        assert_int_equal(close(fd), 0);
    }
}

/* Starts node on its damaged file; it must exit 1 before "ready", saying
 * the file's name, and leave the file as it was. */
static void
s_expect_refusal(h_node_t *node, s_damage_t d)
{
    char db[H_PATH + 32];
    h_db_path(node, db, sizeof db);
    s_print_t before = s_fingerprint(db);
    int code;
    char *text = NULL;
    if (node->role == H_STATION) {
        h_result_t r;
        code = h_sync(node, 5, &r);
        text = strdup(r.err);
        h_result_free(&r);
    } else {
        int up = node->role == H_COUNTY ? h_start_county(node) : h_start_hub(node);
        if (up == 0) {
            h_stop(node, SIGKILL);
            fail_msg("%s started on a database %s", node->data, s_damage_names[d]);
        }
        code = h_proc_wait(node->proc, h_ms(10000));
        text = h_read_file(node->proc->out_path);
        node->proc = NULL;
    }
    s_print_t after = s_fingerprint(db);
    fprintf(stderr, "# %s, %s: exit %d: %s", node->role == H_COUNTY ? "county" : node->data,
            s_damage_names[d], code, text ? text : "(no output)\n");
    assert_non_null(text);
    if (code != 1) {
        fail_msg("exit %d, not 1, on a database %s", code, s_damage_names[d]);
    }
    if (!strstr(text, db)) {
        fail_msg("the error does not name the file %s", db);
    }
    free(text);
    if (before.size != after.size || before.hash != after.hash) {
        fail_msg("%s was changed by the refused start (%lld -> %lld bytes)", db, before.size,
                 after.size);
    }
}

static void
test_faults_damaged_db_refused(void **state)
{
    /* Is a truncated or overwritten database refused at start, named, and left unchanged? */
    f_tree_t t;
    f_tree_declare(*state, &t, 1, 1);
    f_tree_start(&t);
    assert_int_equal(h_import(t.st[0], REPORTS, 66), 0);
    t.made[0] = REPORTS;
    h_result_t r;
    assert_int_equal(h_sync(t.st[0], 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(f_wait_county(&t, h_ms(30000)), REPORTS);
    assert_int_equal(h_stop(t.hub[0], SIGTERM), 0);
    assert_int_equal(h_stop(t.county, SIGTERM), 0);

    h_node_t *nodes[] = {t.county, t.hub[0], t.st[0]};
    const int n_damages[] = {3, 2, 2};
    for (size_t k = 0; k < 3; k++) {
        char db[H_PATH + 32], good[H_PATH + 48];
        h_db_path(nodes[k], db, sizeof db);
        snprintf(good, sizeof good, "%s.good", db);
        assert_int_equal(rename(db, good), 0);
        for (int d = 0; d < n_damages[k]; d++) {
            char *cp[] = {"cp", "--", good, db, NULL};
            assert_int_equal(h_run(t.env, "cp", cp, &r, h_ms(30000)), 0);
            h_result_free(&r);
            s_damage(db, (s_damage_t) d);
            s_expect_refusal(nodes[k], (s_damage_t) d);
        }
        assert_int_equal(rename(good, db), 0);
    }
    /* The good copies, back in place, still work and hold everything once. */
    f_tree_start(&t);
    assert_int_equal(h_sync(t.st[0], 30, &r), 0);
    h_result_free(&r);
    f_check_all(&t);
}

static void
test_faults_store_created_twice(void **state)
{
    /* Can a new station's `run` and its first `import`, started together, both open the store? */
    /* Found by this suite and by test_trust at the same time: the second of two processes used
     * to see the first one's half-made file ("is empty (truncated?)", "application_id 0", "table
     * outbox already exists"); sj_db_open now serialises creation with a lock file (f8b6626). */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, F_T100, county);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    int failed = 0, tries = 10;
    for (int i = 0; i < tries; i++) {
        char code[16], path[H_PATH + 32];
        snprintf(code, sizeof code, "%s%03d", F_T100, 201 + i);
        h_node_t *st = h_station(env, code, hub);
        assert_non_null(st);
        snprintf(path, sizeof path, "%s/first-%d.jsonl", h_env_dir(env), i);
        assert_int_equal(h_write_jsonl(path, 5, (uint32_t) i + 1, code), 0);
        const char *run[] = {"run", NULL};
        const char *imp[] = {"import", "--wait", "0", path, NULL};
        h_proc_t *r = h_agent_spawn(st, run);
        h_proc_t *p = h_agent_spawn(st, imp);
        assert_non_null(r);
        assert_non_null(p);
        int code_imp = h_proc_wait(p, h_ms(30000));
        /* `run` says "delivering to" once its store is open. */
        int64_t deadline = h_now_ms() + h_ms(10000);
        while (h_proc_running(r) && h_log_count(r, "delivering to") == 0 && h_now_ms() < deadline) {
            h_sleep_ms(5);
        }
        int run_alive = h_proc_running(r) && h_log_count(r, "delivering to") > 0;
        if (code_imp != 0 || !run_alive) {
            failed++;
            fprintf(stderr, "# try %d: import exit %d, run %s\n", i, code_imp,
                    run_alive ? "running" : "exited");
            h_print_tail(code_imp != 0 ? p->err_path : r->err_path, 3);
        }
        h_proc_kill(r, SIGTERM);
    }
    if (failed) {
        fail_msg("%d of %d first opens at the same moment failed", failed, tries);
    }
}

static void
test_faults_damaged_page(void **state)
{
    /* Is a database with one damaged page in the middle refused at start, naming the file? */
    f_tree_t t;
    f_tree_declare(*state, &t, 1, 1);
    f_tree_start(&t);
    assert_int_equal(h_import(t.st[0], REPORTS, 67), 0);
    t.made[0] = REPORTS;
    h_result_t r;
    assert_int_equal(h_sync(t.st[0], 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(f_wait_county(&t, h_ms(30000)), REPORTS);
    assert_int_equal(h_stop(t.hub[0], SIGTERM), 0);
    assert_int_equal(h_stop(t.county, SIGTERM), 0);
    char db[H_PATH + 32];
    h_db_path(t.county, db, sizeof db);
    s_damage(db, D_PAGE);
    s_expect_refusal(t.county, D_PAGE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_damaged_db_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_store_created_twice, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_damaged_page, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
