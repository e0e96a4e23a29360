/* Can the daemons be run like real software: backed up while reports flow,
 * restored (refusing a running daemon, a damaged file and a planted trigger,
 * re-fetching what a restored hub lost from its stations), watched by a
 * monitoring system through `status --check`, and logging to the journal? */
#include <dirent.h>
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
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define T100        "230523100"
#define PER_STATION 4000 /* long enough that backups run while reports flow */

static int
s_setup(void **state)
{
    *state = h_env_new("ops");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* ---- helpers ---- */

/* Runs `BIN CMD --data DIR args...` to completion. */
static int
s_tool_dir(h_env_t *env,
           const char *bin,
           const char *cmd,
           const char *dir,
           const char *const args[],
           h_result_t *res)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *) bin;
    argv[n++] = (char *) cmd;
    argv[n++] = "--data";
    argv[n++] = (char *) dir;
    for (int i = 0; args && args[i] && n < 31; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(env, cmd, argv, res, h_ms(60000));
}

/* The same with the node's tool (township-hub or county-server) and data. */
static int
s_tool(h_node_t *node, const char *cmd, const char *const args[], h_result_t *res)
{
    return s_tool_dir(node->env, node->role == H_COUNTY ? COUNTY_BIN : HUB_BIN, cmd, node->data,
                      args, res);
}

/* The same, expecting exit code `want`; returns the result for more checks. */
static void
s_tool_expect(h_node_t *node, const char *cmd, const char *const args[], int want, h_result_t *res)
{
    int code = s_tool(node, cmd, args, res);
    if (code != want) {
        fail_msg("%s %s: exit %d, expected %d\nstdout: %s\nstderr: %s", node->data, cmd, code, want,
                 res->out, res->err);
    }
}

/* First column of the first row of sql on a database file (read-only); -1 on error. */
static long long
s_file_scalar(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
            && sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static void
s_assert_integrity_ok(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *) sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void
s_path(char *out, size_t size, const h_env_t *env, const char *name)
{
    snprintf(out, size, "%s/%s", h_env_dir(env), name);
}

static void
s_copy_file(const char *from, const char *to)
{
    char *data = NULL;
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    struct stat st;
    assert_int_equal(fstat(fileno(in), &st), 0);
    data = malloc((size_t) st.st_size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t) st.st_size, in), (size_t) st.st_size);
    fclose(in);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(data, 1, (size_t) st.st_size, out), (size_t) st.st_size);
    assert_int_equal(fclose(out), 0);
    free(data);
}

/* Whole file into memory (for "untouched" checks); *len gets the size. */
static char *
s_slurp(const char *path, size_t *len)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char *data = h_read_file(path);
    assert_non_null(data);
    *len = (size_t) st.st_size;
    return data;
}

/* Whether dir holds an entry whose name starts with prefix. */
static int
s_has_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    closedir(d);
    return found;
}

static int
s_lines(const char *text)
{
    int n = 0;
    for (const char *c = text; *c; c++) {
        n += *c == '\n';
    }
    return n;
}

/* `status --check args...`: exit code want, exactly one line starting with prefix. */
static void
s_check(h_node_t *node, const char *const args[], int want, const char *prefix)
{
    const char *full[16] = {"--check"};
    int n = 1;
    for (int i = 0; args && args[i] && n < 15; i++) {
        full[n++] = args[i];
    }
    full[n] = NULL;
    h_result_t r;
    s_tool_expect(node, "status", full, want, &r);
    fprintf(stderr, "# %s", r.out);
    if (s_lines(r.out) != 1 || strncmp(r.out, prefix, strlen(prefix)) != 0) {
        fail_msg("status --check printed '%s', expected one line starting '%s'", r.out, prefix);
    }
    h_result_free(&r);
}

static void
s_sync(h_node_t *st)
{
    h_result_t r;
    int code = h_sync(st, 60, &r);
    if (code != 0) {
        fail_msg("sync of %s exited %d: %s", st->code, code, r.err);
    }
    h_result_free(&r);
}

static void
s_assert_exactly_once(const h_node_t *county, const h_expect_t *exp, size_t n)
{
    char why[300] = "";
    if (h_check_exactly_once(county, exp, n, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
}

/* ---- backup ---- */

static void
test_ops_backup_while_running(void **state)
{
    /* Do backups of a running hub and county, taken while reports flow, pass
     * integrity_check and hold a consistent snapshot, without stopping anything? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st[2] = {h_station(env, T100 "201", hub), h_station(env, T100 "202", hub)};
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_import(st[i], PER_STATION, 700u + (uint32_t) i), 0);
    }
    h_proc_t *p[2] = {h_sync_spawn(st[0], 120), h_sync_spawn(st[1], 120)};
    assert_non_null(p[0]);
    assert_non_null(p[1]);
    const long long total = 2LL * PER_STATION;
    long long at =
        h_wait_db(county, "SELECT count(*) FROM events", total / 10, total - 1, h_ms(60000));
    assert_true(at >= total / 10 && at < total);

    char hub_bk[H_PATH], county_bk[H_PATH];
    s_path(hub_bk, sizeof hub_bk, env, "hub-backup.db");
    s_path(county_bk, sizeof county_bk, env, "county-backup.db");
    h_result_t r;
    const char *hub_args[] = {hub_bk, NULL};
    s_tool_expect(hub, "backup", hub_args, 0, &r);
    assert_non_null(strstr(r.out, hub_bk)); /* the path written, on stdout */
    h_result_free(&r);
    const char *county_args[] = {county_bk, NULL};
    s_tool_expect(county, "backup", county_args, 0, &r);
    h_result_free(&r);
    assert_true(h_proc_running(hub->proc));
    assert_true(h_proc_running(county->proc));
    long long live_after = h_db_scalar(county, "SELECT count(*) FROM events");

    s_assert_integrity_ok(hub_bk);
    s_assert_integrity_ok(county_bk);
    /* Hub snapshot: hub_seq gapless, and each station's mark = its events. */
    long long hub_n = s_file_scalar(hub_bk, "SELECT count(*) FROM events");
    fprintf(stderr, "# hub backup holds %lld of %lld events\n", hub_n, total);
    assert_true(hub_n >= 1 && hub_n <= total);
    assert_int_equal(s_file_scalar(hub_bk, "SELECT coalesce(max(hub_seq), 0) FROM events"), hub_n);
    assert_int_equal(s_file_scalar(hub_bk, "SELECT coalesce(sum(acked_through), 0) FROM links"),
                     hub_n);
    /* County snapshot: one matter per event, every stream 1..n, marks = events. */
    long long county_n = s_file_scalar(county_bk, "SELECT count(*) FROM events");
    fprintf(stderr, "# county backup holds %lld events (live had %lld right after)\n", county_n,
            live_after);
    assert_true(county_n >= at && county_n <= total);
    assert_int_equal(s_file_scalar(county_bk, "SELECT count(*) FROM matters"), county_n);
    assert_int_equal(s_file_scalar(county_bk, "SELECT count(*) FROM (SELECT 1 FROM events"
                                              " GROUP BY origin, epoch HAVING min(origin_seq) != 1"
                                              " OR max(origin_seq) != count(*))"),
                     0);
    assert_int_equal(s_file_scalar(county_bk, "SELECT coalesce(sum(acked_through), 0) FROM links"),
                     county_n);
    /* The copy is one self-contained file (rollback journal mode, no -wal). */
    char side[H_PATH + 8];
    snprintf(side, sizeof side, "%s-wal", county_bk);
    struct stat sst;
    assert_int_not_equal(stat(side, &sst), 0);

    /* Restore is refused while the daemons run; nothing changes. */
    s_tool_expect(hub, "restore", hub_args, 1, &r);
    assert_non_null(strstr(r.err, "stop it first"));
    h_result_free(&r);
    s_tool_expect(county, "restore", county_args, 1, &r);
    assert_non_null(strstr(r.err, "stop it first"));
    h_result_free(&r);
    assert_false(s_has_prefix(hub->data, "township-hub.db.before-restore"));
    assert_false(s_has_prefix(county->data, "county-server.db.before-restore"));
    /* A backup into the data directory of the running daemon is refused too. */
    char in_dir[H_PATH + 16];
    snprintf(in_dir, sizeof in_dir, "%s/copy.db", hub->data);
    const char *in_dir_args[] = {in_dir, NULL};
    s_tool_expect(hub, "backup", in_dir_args, 1, &r);
    assert_non_null(strstr(r.err, "data directory of a running"));
    h_result_free(&r);
    /* And a second daemon on the same data directory does not start. */
    char port[32];
    snprintf(port, sizeof port, "tcp://127.0.0.1:%d", h_free_port());
    char *second[] = {(char *) HUB_BIN, "run",      "--data",   hub->data,
                      "--bind",         port,       "--parent", (char *) county->endpoint,
                      "--parent-key",   county->pk, NULL};
    assert_int_equal(h_run(env, "hub-second", second, &r, h_ms(20000)), 1);
    assert_non_null(strstr(r.err, "in use"));
    h_result_free(&r);

    /* The flow was not disturbed: everything arrives once. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_proc_wait(p[i], h_ms(130000)), 0);
    }
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", total, total, h_ms(60000)),
                     total);
    const h_expect_t exp[] = {{T100 "201", PER_STATION, 1}, {T100 "202", PER_STATION, 1}};
    s_assert_exactly_once(county, exp, 2);
}

/* ---- restore ---- */

static void
test_ops_restore_refuses_bad_files(void **state)
{
    /* Is a damaged, foreign or too-new backup refused with a clear message and
     * the live store left exactly as it was, and a good one restored with the
     * old store kept aside? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(st, 200, 31), 0);
    s_sync(st);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 200, 200, h_ms(30000)), 200);

    char good[H_PATH], county_bk[H_PATH], bad[H_PATH], junk[H_PATH], newer[H_PATH];
    s_path(good, sizeof good, env, "good.db");
    s_path(county_bk, sizeof county_bk, env, "county.db");
    s_path(bad, sizeof bad, env, "damaged.db");
    s_path(junk, sizeof junk, env, "junk.db");
    s_path(newer, sizeof newer, env, "newer.db");
    h_result_t r;
    const char *good_args[] = {good, NULL};
    s_tool_expect(hub, "backup", good_args, 0, &r);
    h_result_free(&r);
    const char *county_args[] = {county_bk, NULL};
    s_tool_expect(county, "backup", county_args, 0, &r);
    h_result_free(&r);
    assert_int_equal(h_stop(hub, SIGTERM), 0);

    /* damaged: pages in the middle overwritten (not the first, the schema:
     * that is "malformed" at open, before any integrity check) */
    s_copy_file(good, bad);
    FILE *f = fopen(bad, "r+b");
    assert_non_null(f);
    uint8_t hdr[18];
    assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
    long page = hdr[16] << 8 | hdr[17]; /* the header's page size (1 = 65536) */
    page = page == 1 ? 65536 : page;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    assert_true(ftell(f) >= 6 * page);
    assert_int_equal(fseek(f, 3 * page + 100, SEEK_SET), 0);
    for (int i = 0; i < 2 * page; i++) {
        fputc((i * 131 + 7) & 0xff, f);
    }
    assert_int_equal(fclose(f), 0);
    /* not SQLite at all */
    f = fopen(junk, "wb");
    assert_non_null(f);
    fputs("this is not a database, but it is long enough to look like one at first\n", f);
    assert_int_equal(fclose(f), 0);
    /* from a newer sanji: schema version 99 */
    s_copy_file(good, newer);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(newer, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    char live[H_PATH + 32];
    h_db_path(hub, live, sizeof live);
    size_t before_len = 0, after_len = 0;
    char *before = s_slurp(live, &before_len);
    struct {
        const char *path, *why;
    } cases[] = {
        {bad, "integrity check failed"},
        {junk, "not an SQLite database"},
        {county_bk, "another program or role"},
        {newer, "newer than this program"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = {cases[i].path, NULL};
        s_tool_expect(hub, "restore", args, 1, &r);
        fprintf(stderr, "# %s", r.err);
        if (!strstr(r.err, cases[i].why) || !strstr(r.err, "nothing was changed")) {
            fail_msg("restore of %s: '%s' does not say '%s'", cases[i].path, r.err, cases[i].why);
        }
        h_result_free(&r);
    }
    char *after = s_slurp(live, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
    assert_false(s_has_prefix(hub->data, "township-hub.db.before-restore"));
    assert_false(s_has_prefix(hub->data, "restore.tmp"));

    /* The good backup restores; the old store is kept aside, not deleted. */
    s_tool_expect(hub, "restore", good_args, 0, &r);
    assert_non_null(strstr(r.err, "before-restore"));
    h_result_free(&r);
    assert_true(s_has_prefix(hub->data, "township-hub.db.before-restore"));
    assert_false(s_has_prefix(hub->data, "restore.tmp"));
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 200);
    assert_int_equal(h_start_hub(hub), 0);
    s_check(hub, NULL, 0, "OK - township " T100 ": 0 queued, 1 station, none silent");
}

static void
test_ops_restore_refuses_planted_schema(void **state)
{
    /* Is a county backup with a trigger added (or one of sanji's triggers
     * rewritten) refused by restore, naming it, and nothing restored? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    assert_int_equal(h_start_county(county), 0);
    char good[H_PATH], evil[H_PATH], changed[H_PATH];
    s_path(good, sizeof good, env, "county-good.db");
    s_path(evil, sizeof evil, env, "county-evil.db");
    s_path(changed, sizeof changed, env, "county-changed.db");
    h_result_t r;
    const char *good_args[] = {good, NULL};
    s_tool_expect(county, "backup", good_args, 0, &r);
    h_result_free(&r);
    assert_int_equal(h_stop(county, SIGTERM), 0);
    s_copy_file(good, evil);
    s_copy_file(good, changed);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(evil, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER evil AFTER INSERT ON matters"
                                  " BEGIN DELETE FROM events; END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    /* the same names as sanji's, one body rewritten: found once migrated */
    assert_int_equal(sqlite3_open(changed, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TRIGGER tally_matter_out;"
                                  " CREATE TRIGGER tally_matter_out AFTER DELETE ON matters"
                                  " BEGIN DELETE FROM events; END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    char live[H_PATH + 32];
    h_db_path(county, live, sizeof live);
    size_t before_len = 0, after_len = 0;
    char *before = s_slurp(live, &before_len);
    struct {
        const char *path, *why;
    } cases[] = {
        {evil, "trigger evil is not in a version-"},
        {changed, "trigger tally_matter_out differs from a version-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = {cases[i].path, NULL};
        s_tool_expect(county, "restore", args, 1, &r);
        fprintf(stderr, "# %s", r.err);
        if (!strstr(r.err, cases[i].why) || !strstr(r.err, "county-server store")
            || !strstr(r.err, "nothing was changed")) {
            fail_msg("restore of %s: '%s' does not say '%s'", cases[i].path, r.err, cases[i].why);
        }
        h_result_free(&r);
    }
    char *after = s_slurp(live, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
    assert_false(s_has_prefix(county->data, "county-server.db.before-restore"));
    assert_false(s_has_prefix(county->data, "restore.tmp"));
    /* the untouched backup restores */
    s_tool_expect(county, "restore", good_args, 0, &r);
    h_result_free(&r);
}

static void
test_ops_restored_hub_refetches(void **state)
{
    /* After a hub is restored from an old backup, do its stations resend what
     * it lost (its Welcome says a lower acked_through), and does the county
     * still end with every report exactly once? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *s1 = h_station(env, T100 "201", hub);
    h_node_t *s2 = h_station(env, T100 "202", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(s1, 20, 1), 0);
    assert_int_equal(h_import(s2, 20, 2), 0);
    s_sync(s1);
    s_sync(s2);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 40, 40, h_ms(30000)), 40);
    /* Two cases the backup will know, for the township office's changes. */
    char ids[2][40];
    h_result_t r;
    {
        const char *args[] = {"--format", "csv", "--limit", "2", NULL};
        s_tool_expect(county, "list", args, 0, &r);
        const char *line = strchr(r.out, '\n');
        for (int i = 0; i < 2; i++) {
            assert_non_null(line);
            assert_int_equal(sscanf(line + 1, "%36[0-9a-f-]", ids[i]), 1);
            line = strchr(line + 1, '\n');
        }
        h_result_free(&r);
    }
    char old[H_PATH];
    s_path(old, sizeof old, env, "hub-old.db");
    const char *old_args[] = {old, NULL};
    s_tool_expect(hub, "backup", old_args, 0, &r);
    h_result_free(&r);
    /* The township office's first own change, after the backup: seq 1 of
     * the hub's own stream, at the county. */
    {
        const char *args[] = {ids[0], "--outcome", "accepted", NULL};
        s_tool_expect(hub, "update", args, 0, &r);
        h_result_free(&r);
    }

    /* After the backup: 30 more each, all of it at the county. */
    assert_int_equal(h_import(s1, 30, 3), 0);
    assert_int_equal(h_import(s2, 30, 4), 0);
    s_sync(s1);
    s_sync(s2);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events WHERE length(origin) = 12", 100,
                               100, h_ms(30000)),
                     100);

    /* The hub loses its disk and comes back from the old backup. */
    assert_int_equal(h_stop(hub, SIGTERM), 0);
    s_tool_expect(hub, "restore", old_args, 0, &r);
    h_result_free(&r);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 40);
    assert_int_equal(h_start_hub(hub), 0);

    /* New reports, and the stations come back in the other order, so that
     * the hub's new numbering differs from what the county saw before. */
    assert_int_equal(h_import(s2, 10, 5), 0);
    assert_int_equal(h_import(s1, 10, 6), 0);
    s_sync(s2);
    /* s2's Welcome said 20: it resent 21..60. */
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 80);
    assert_int_equal(
        h_db_scalar(hub, "SELECT max(acked_through) FROM links WHERE code='" T100 "202'"), 60);
    s_sync(s1);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 120);
    long long got = h_wait_db(county, "SELECT count(*) FROM events WHERE length(origin) = 12", 120,
                              120, h_ms(60000));
    if (got != 120) {
        fprintf(stderr, "# hub log:\n");
        h_print_tail(hub->proc->out_path, 30);
    }
    assert_int_equal(got, 120);
    const h_expect_t exp[] = {{T100 "201", 60, 1}, {T100 "202", 60, 1}, {T100, 1, 1}};
    s_assert_exactly_once(county, exp, 3);

    /* The restored hub's next own change must not reuse the seq of the one
     * the backup never saw (the county would take it for a duplicate and
     * drop it): restore started its own stream under a new epoch. */
    {
        const char *args[] = {ids[1], "--outcome", "accepted", NULL};
        s_tool_expect(hub, "update", args, 0, &r);
        h_result_free(&r);
    }
    assert_int_equal(h_wait_db(county,
                               "SELECT count(*) FROM status_changes WHERE origin='" T100 "'", 2, 2,
                               h_ms(30000)),
                     2);
    const h_expect_t exp2[] = {{T100 "201", 60, 1}, {T100 "202", 60, 1}, {T100, 2, 2}};
    s_assert_exactly_once(county, exp2, 3);
}

/* ---- status --check ---- */

/* Percent of free space as sj_health computes it, for thresholds that trip. */
static int
s_free_pct(const char *dir)
{
    struct statvfs v;
    assert_int_equal(statvfs(dir, &v), 0);
    return (int) ((uint64_t) v.f_bavail * v.f_frsize * 100 / ((uint64_t) v.f_blocks * v.f_frsize));
}

static void
test_ops_check_hub(void **state)
{
    /* Does `township-hub status --check` say OK, WARNING, CRITICAL and UNKNOWN
     * in one line with exit 0..3 for the states a real hub gets into? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(st, 5, 11), 0);
    s_sync(st);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 5, 5, h_ms(30000)), 5);
    assert_int_equal(h_wait_db(hub, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='up_acked'",
                               5, 5, h_ms(30000)),
                     5);
    s_check(hub, NULL, 0, "OK - township " T100 ": 0 queued, 1 station, none silent |");

    /* A station unheard for longer than --silent-after. */
    h_sleep_ms(2100);
    const char *silent[] = {"--silent-after", "1", NULL};
    s_check(hub, silent, 1, "WARNING - 1 silent station (" T100 "201, ");

    /* The county goes away while reports keep coming. */
    assert_int_equal(h_stop(county, SIGTERM), 0);
    assert_int_equal(h_import(st, 5, 12), 0);
    s_sync(st);
    h_sleep_ms(2100);
    const char *warn[] = {"--backlog-warn", "1", NULL};
    s_check(hub, warn, 1, "WARNING - oldest unforwarded report ");
    const char *crit[] = {"--backlog-warn", "1", "--backlog-crit", "2", NULL};
    s_check(hub, crit, 2, "CRITICAL - oldest unforwarded report ");
    h_result_t r;
    const char *crit2[] = {"--check", "--backlog-warn", "1", "--backlog-crit", "2", NULL};
    assert_int_equal(s_tool(hub, "status", crit2, &r), 2);
    assert_non_null(strstr(r.out, "(5 queued)"));
    assert_non_null(strstr(r.out, "no county contact for "));
    h_result_free(&r);

    /* Free disk space, with thresholds set so that this disk trips them. */
    int pct = s_free_pct(hub->data);
    if (pct < 99) {
        char w[16], c[16];
        snprintf(w, sizeof w, "%d", pct + 1);
        const char *disk_warn[] = {"--disk-warn", w, "--disk-crit", "0", NULL};
        s_check(hub, disk_warn, 1, "WARNING - only ");
        snprintf(c, sizeof c, "%d", pct + 1);
        const char *disk_crit[] = {"--disk-warn", "100", "--disk-crit", c, NULL};
        s_check(hub, disk_crit, 2, "CRITICAL - only ");
    } else {
        fprintf(stderr, "# disk %d%% free: disk thresholds not tested\n", pct);
    }

    /* The county is back: the backlog drains and all is well again. */
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_wait_db(hub, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='up_acked'",
                               10, 10, h_ms(60000)),
                     10);
    s_check(hub, NULL, 0, "OK - township " T100 ": 0 queued, 1 station, none silent");

    /* UNKNOWN: no store, a damaged store, bad usage. */
    char none[H_PATH], path[H_PATH + 32];
    s_path(none, sizeof none, env, "no-hub");
    assert_int_equal(mkdir(none, 0700), 0);
    h_result_t r2;
    const char *check[] = {"--check", NULL};
    assert_int_equal(s_tool_dir(env, HUB_BIN, "status", none, check, &r2), 3);
    assert_int_equal(strncmp(r2.out, "UNKNOWN - ", 10), 0);
    h_result_free(&r2);
    snprintf(path, sizeof path, "%s/township-hub.db", none);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 8192; i++) {
        fputc(i & 0xff, f);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(s_tool_dir(env, HUB_BIN, "status", none, check, &r2), 3);
    fprintf(stderr, "# %s", r2.out);
    assert_int_equal(strncmp(r2.out, "UNKNOWN - ", 10), 0);
    assert_int_equal(s_lines(r2.out), 1);
    h_result_free(&r2);
    const char *bad[] = {"--backlog-warn", "soon", NULL};
    s_check(hub, bad, 3, "UNKNOWN - ");
}

static void
test_ops_status_county(void **state)
{
    /* Does `county-server status` list each child link with its last contact
     * and events (silent first, as table, json and csv), and does --check
     * report silent hubs and free disk in one line? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(st, 7, 21), 0);
    s_sync(st);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 7, 7, h_ms(30000)), 7);

    h_result_t r;
    s_tool_expect(county, "status", NULL, 0, &r);
    assert_non_null(strstr(r.out, T100));
    assert_non_null(strstr(r.out, "township"));
    assert_non_null(strstr(r.out, " ok "));
    h_result_free(&r);
    const char *json[] = {"--format", "json", NULL};
    s_tool_expect(county, "status", json, 0, &r);
    assert_non_null(strstr(r.out, "\"child\":\"" T100 "\""));
    assert_non_null(strstr(r.out, "\"events\":7"));
    h_result_free(&r);
    const char *csv[] = {"--format", "csv", NULL};
    s_tool_expect(county, "status", csv, 0, &r);
    static const char header[] =
        "child,kind,status,last_contact,silent_s,events,forks,backlog,undelivered\n";
    assert_int_equal(strncmp(r.out, header, sizeof header - 1), 0);
    h_result_free(&r);
    s_check(county, NULL, 0, "OK - county (any code): 1 hub, 0 stations, none silent, 7 events");

    /* The hub stops: it becomes silent at the county. */
    assert_int_equal(h_stop(hub, SIGTERM), 0);
    h_sleep_ms(2100);
    const char *silent[] = {"--silent-after", "1", NULL};
    s_check(county, silent, 1, "WARNING - 1 silent hub (" T100 ", ");
    s_tool_expect(county, "status", silent, 0, &r);
    assert_non_null(strstr(r.out, "SILENT"));
    h_result_free(&r);

    int pct = s_free_pct(county->data);
    if (pct < 99) {
        char c[16];
        snprintf(c, sizeof c, "%d", pct + 1);
        const char *disk_crit[] = {"--disk-warn", "100", "--disk-crit", c, NULL};
        s_check(county, disk_crit, 2, "CRITICAL - only ");
    }
    char none[H_PATH];
    s_path(none, sizeof none, env, "no-county");
    const char *check[] = {"--check", NULL};
    assert_int_equal(s_tool_dir(env, COUNTY_BIN, "status", none, check, &r), 3);
    assert_int_equal(strncmp(r.out, "UNKNOWN - cannot read the county store", 38), 0);
    h_result_free(&r);
    const char *bad[] = {"--disk-warn", "5", "--disk-crit", "10", NULL};
    s_check(county, bad, 3, "UNKNOWN - ");
}

static void
test_ops_sighup_log_level(void **state)
{
    /* Does SIGHUP re-read the log level from the config file, without a restart? */
    h_env_t *env = *state;
    char conf[600], data[600], bind[64];
    snprintf(conf, sizeof conf, "%s/county.conf", h_env_dir(env));
    snprintf(data, sizeof data, "%s/county", h_env_dir(env));
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", h_free_port());
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "[county-server]\ndata = %s\nbind = %s\ninsecure = true\nlog-level = notice\n", data,
            bind);
    fclose(f);
    char *argv[] = {(char *) COUNTY_BIN, "run", "--config", conf, NULL};
    h_proc_t *p = h_spawn(env, "county-conf", argv, 1);
    assert_non_null(p);
    assert_int_equal(h_wait_ready(p, h_ms(60000)), 0);
    f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "[county-server]\ndata = %s\nbind = %s\ninsecure = true\nlog-level = debug\n", data,
            bind);
    fclose(f);
    assert_int_equal(kill(p->pid, SIGHUP), 0);
    int64_t deadline = h_now_ms() + h_ms(10000);
    while (h_log_count(p, "log level is now debug") < 1 && h_now_ms() < deadline) {
        h_sleep_ms(5);
    }
    assert_int_equal(h_log_count(p, "log level is now debug"), 1);
    /* A bad value is reported and changes nothing; the daemon keeps running. */
    f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "[county-server]\ndata = %s\nbind = %s\ninsecure = true\nlog-level = loud\n", data,
            bind);
    fclose(f);
    assert_int_equal(kill(p->pid, SIGHUP), 0);
    deadline = h_now_ms() + h_ms(10000);
    while (h_log_count(p, "log-level 'loud'") < 1 && h_now_ms() < deadline) {
        h_sleep_ms(5);
    }
    assert_int_equal(h_log_count(p, "log-level 'loud'"), 1);
    assert_true(h_proc_running(p));
    assert_int_equal(h_proc_kill(p, SIGTERM), 0);
}

static void
test_ops_journal_priorities(void **state)
{
    /* Started by systemd with stderr to the journal (JOURNAL_STREAM names
     * stderr's device and inode), does a daemon write "<N>" priorities and
     * no time of its own? */
    h_env_t *env = *state;
    char conf[600], data[600], bind[64], errlog[600], outlog[600];
    snprintf(conf, sizeof conf, "%s/county.conf", h_env_dir(env));
    snprintf(data, sizeof data, "%s/county", h_env_dir(env));
    snprintf(errlog, sizeof errlog, "%s/journal.err", h_env_dir(env));
    snprintf(outlog, sizeof outlog, "%s/journal.out", h_env_dir(env));
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", h_free_port());
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "[county-server]\ndata = %s\nbind = %s\ninsecure = true\nlog-level = info\n", data,
            bind);
    fclose(f);
    int efd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ofd = open(outlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(efd >= 0 && ofd >= 0);
    struct stat st;
    assert_int_equal(fstat(efd, &st), 0);
    char stream[64];
    snprintf(stream, sizeof stream, "%llu:%llu", (unsigned long long) st.st_dev,
             (unsigned long long) st.st_ino);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(ofd, STDOUT_FILENO);
        dup2(efd, STDERR_FILENO);
        setenv("JOURNAL_STREAM", stream, 1);
        execl(COUNTY_BIN, COUNTY_BIN, "run", "--config", conf, (char *) NULL);
        _exit(127);
    }
    close(efd);
    close(ofd);
    int64_t deadline = h_now_ms() + h_ms(10000);
    char *out = NULL;
    while (h_now_ms() < deadline) {
        free(out);
        out = h_read_file(outlog);
        if (out && strstr(out, "ready")) {
            break;
        }
        h_sleep_ms(10);
    }
    assert_non_null(out);
    assert_non_null(strstr(out, "ready"));
    free(out);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = -1;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *log = h_read_file(errlog);
    assert_non_null(log);
    fprintf(stderr, "# %s", log);
    int lines = 0;
    for (const char *l = log; *l; lines++) {
        if (!(l[0] == '<' && l[1] >= '0' && l[1] <= '7' && l[2] == '>')) {
            fail_msg("line %d lacks a <N> priority: %.80s", lines + 1, l);
        }
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : l + strlen(l);
    }
    assert_true(lines >= 2);
    assert_non_null(strstr(log, "<5>NOTICE county-server stopping"));
    assert_null(strstr(log, "Z NOTICE")); /* no time of its own */
    free(log);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ops_backup_while_running, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ops_restore_refuses_bad_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ops_restore_refuses_planted_schema, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_ops_restored_hub_refetches, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ops_check_hub, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ops_status_county, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ops_sighup_log_level, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ops_journal_priorities, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}
