/* bench_query: the county's reading commands over a big master database.
 *
 * 1. Makes a county store in a temporary directory with county_store_open
 *    (the real schema and indexes) and fills matters with plain SQL in big
 *    transactions (not timed; a read benchmark): 10 townships, 95 stations,
 *    occurred dates spread over 2015..2024 in the order a county receives
 *    them, enums varied, a ~150-byte Chinese summary, as the daemon stores a
 *    report. Only matters is filled (stats and export read nothing else),
 *    and the tallies stats reads are counted from it, as the daemon keeps
 *    them (county_store_tally_rebuild).
 * 2. At each size (default 1,000,000 then 10,000,000 matters) runs
 *    `county-server stats --by township,month` and `--by level,kind` (both
 *    answered from the tallies) and `--by township,level` (a scan)
 *    (--format csv, stdout read through a pipe) three times each: wall time
 *    (best and all), the child's CPU and max RSS (wait4).
 * 3. At the first size also `county-server export --format csv` (time, bytes,
 *    max RSS).
 *
 *   bench_query [--sizes 1000000,10000000] [--runs 3] [--json PATH] [--keep]
 * The page cache is warm (the data were just written): best of 3 is the
 * figure; the first run is reported too. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "county_store.h"
#include "sj_ids.h"

#define MAX_SIZES 4
#define MAX_RUNS  9

extern char **environ;

typedef struct {
    double wall_s, cpu_s;
    long max_rss_kb;
    long long bytes, lines;
    int status;
} child_t;

/* Runs county-server with args; reads its stdout to the end. */
static int
s_child(char *const argv[], child_t *r)
{
    memset(r, 0, sizeof *r);
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    /* posix_spawn (vfork-like): a fork of this process, whose SQLite cache
     * is large, would count in the child's max RSS (ru_maxrss) */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    double t0 = bu_now_s();
    pid_t pid = -1;
    int src = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (src != 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        r->bytes += n;
        for (ssize_t i = 0; i < n; i++) {
            r->lines += buf[i] == '\n';
        }
    }
    close(fds[0]);
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) {
        return -1;
    }
    r->wall_s = bu_now_s() - t0;
    r->cpu_s = bu_ru_cpu_s(&ru);
    r->max_rss_kb = ru.ru_maxrss;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r->status == 0 ? 0 : -1;
}

static int
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_query: %.120s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Adds matters first..last (1-based numbers) of a county that will hold
 * `span` in all: the date rises with the number over 2015-01-01..2024-12-31. */
static int
s_fill(sqlite3 *db, long first, long last, long span)
{
    const long chunk = 500000;
    /* Schema 2 (cases) added reported_outcome, the outcome a report arrived
     * with; filled as the daemon fills it when the column is there. */
    sqlite3_stmt *st = NULL;
    int has_reported = sqlite3_prepare_v2(db,
                                          "SELECT 1 FROM pragma_table_info('matters')"
                                          " WHERE name = 'reported_outcome'",
                                          -1, &st, NULL)
                           == SQLITE_OK
                       && sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    for (long a = first; a <= last; a += chunk) {
        long b = a + chunk - 1 < last ? a + chunk - 1 : last;
        char sql[2400];
        snprintf(sql, sizeof sql,
                 "WITH RECURSIVE n(i) AS (SELECT %ld UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
                 " INSERT INTO matters(id, origin, township, occurred_on, channel, kind, persons,"
                 " level, category, outcome, source, summary, officer, sealed, created_ms,"
                 " received_ms%s)"
                 " SELECT CAST(printf('%%016d', i) AS BLOB),"
                 " printf('230523%%03d%%03d', 100 + (i %% 95) %% 10, 201 + (i %% 95) / 10),"
                 " printf('230523%%03d', 100 + (i %% 95) %% 10),"
                 " date('2015-01-01', '+' || (i * 3652 / %ld) || ' days'),"
                 " 1 + i %% 4,"
                 " CASE WHEN i %% 4 = 0 AND i %% 7 = 0 THEN 2 ELSE 1 END,"
                 " CASE WHEN i %% 4 = 0 AND i %% 7 = 0 THEN 5 + i %% 20"
                 "      WHEN i %% 4 = 0 THEN 1 + i %% 4 ELSE 1 END,"
                 " 1 + (i / 3) %% 6, 1 + (i / 7) %% 5, 1 + (i / 5) %% 5, 1 + (i / 11) %% 4,"
                 " printf('"
                 "土地承包纠纷，村民小组重新调整承包地引发争议，涉及二轮延包地块面积与合同不符（第%"
                 "%d号）', i),"
                 " printf('信息员-%%03d', i %% 170), NULL,"
                 " 1420070400000 + i * 30, 1420070400000 + i * 30 + 900%s"
                 " FROM n",
                 a, b, has_reported ? ", reported_outcome" : "", span + 1,
                 has_reported ? ", 1 + (i / 5) % 5" : "");
        if (s_exec(db, "BEGIN") || s_exec(db, sql) || s_exec(db, "COMMIT")) {
            return -1;
        }
    }
    /* Plain SQL bypasses the store, which keeps the tallies that stats
     * reads (schema 5): count them as the daemon would have. */
    if (s_exec(db, "BEGIN") || county_store_tally_rebuild(db) != SJ_OK || s_exec(db, "COMMIT")) {
        fprintf(stderr, "bench_query: cannot rebuild the tallies: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    return s_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

typedef struct {
    const char *what;
    long matters;
    int n;
    child_t run[MAX_RUNS];
    double best_s;
} result_t;

static result_t s_results[16];
static int s_nres = 0;

static int
s_measure(const char *dir, const char *what, long matters, int runs, char *const argv[])
{
    result_t *r = &s_results[s_nres++];
    r->what = what;
    r->matters = matters;
    r->best_s = 1e9;
    for (int i = 0; i < runs; i++) {
        if (s_child(argv, &r->run[i]) != 0) {
            fprintf(stderr, "bench_query: %s failed (exit %d) on %s\n", what, r->run[i].status,
                    dir);
            return -1;
        }
        r->n++;
        r->best_s = r->run[i].wall_s < r->best_s ? r->run[i].wall_s : r->best_s;
    }
    printf("%-28s %9ld matters: best %.3f s of %d (first %.3f s), %lld lines, CPU %.2f s,"
           " max RSS %ld KiB\n",
           what, matters, r->best_s, r->n, r->run[0].wall_s, r->run[0].lines, r->run[0].cpu_s,
           r->run[0].max_rss_kb);
    fflush(stdout);
    return 0;
}

int
main(int argc, char **argv)
{
    long sizes[MAX_SIZES] = {1000000, 10000000};
    int n_sizes = 2, runs = 3, keep = 0;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
        } else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
            n_sizes = 0;
            char *p = argv[++i];
            while (*p && n_sizes < MAX_SIZES) {
                sizes[n_sizes++] = strtol(p, &p, 10);
                p += *p == ',';
            }
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_query [--sizes N,N] [--runs R] [--json PATH] [--keep]\n");
            return 2;
        }
    }
    for (int s = 0; s < n_sizes; s++) {
        if (sizes[s] < 1000 || (s && sizes[s] <= sizes[s - 1])) {
            fprintf(stderr, "bench_query: sizes must rise, each >= 1000\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS) {
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (sj_ids_init() != 0) {
        return 1;
    }
    char dir[4096];
    if (!bu_mkdtemp("query", dir, sizeof dir)) {
        return 1;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_query: %s\n", err);
        return 1;
    }
    county_store_close(&st);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, COUNTY_STORE_FILE);
    int rc = 1;
    long have = 0, span = sizes[n_sizes - 1];
    double fill_s[MAX_SIZES];
    long db_kb[MAX_SIZES];
    for (int s = 0; s < n_sizes; s++) {
        double t0 = bu_now_s();
        /* Filled by a child process: this one stays small, so that the max
         * RSS the kernel reports for the measured children is theirs (a
         * fork's pre-exec image counts in ru_maxrss). One date span for all
         * sizes: the smaller county is the first years of the bigger. */
        pid_t pid = fork();
        if (pid == 0) {
            sqlite3 *db = NULL;
            int ok = sqlite3_open(path, &db) == SQLITE_OK && !s_exec(db, "PRAGMA synchronous=OFF")
                     && !s_exec(db, "PRAGMA cache_size=-524288")
                     && !s_fill(db, have + 1, sizes[s], span);
            ok &= sqlite3_close(db) == SQLITE_OK;
            _exit(ok ? 0 : 1);
        }
        int wst = 0;
        if (pid < 0 || waitpid(pid, &wst, 0) != pid || !WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
            fprintf(stderr, "bench_query: filling %s failed\n", path);
            goto out;
        }
        have = sizes[s];
        fill_s[s] = bu_now_s() - t0;
        struct stat sb;
        db_kb[s] = stat(path, &sb) == 0 ? (long) (sb.st_size / 1024) : -1;
        printf("filled to %ld matters in %.1f s (not timed); database %ld MiB\n", have, fill_s[s],
               db_kb[s] / 1024);
        fflush(stdout);
        char *by1[] = {SANJI_COUNTY_BIN, "stats",    "--data", dir, "--by",
                       "township,month", "--format", "csv",    NULL};
        char *by2[] = {SANJI_COUNTY_BIN, "stats",    "--data", dir, "--by",
                       "level,kind",     "--format", "csv",    NULL};
        /* place and one kind (tally_field, schema 7) */
        char *by3[] = {SANJI_COUNTY_BIN, "stats",    "--data", dir, "--by",
                       "township,level", "--format", "csv",    NULL};
        /* and one that no tally holds (a station and a kind): a scan */
        char *by4[] = {SANJI_COUNTY_BIN, "stats",    "--data", dir, "--by",
                       "station,level",  "--format", "csv",    NULL};
        if (s_measure(dir, "stats --by township,month", have, runs, by1)
            || s_measure(dir, "stats --by level,kind", have, runs, by2)
            || s_measure(dir, "stats --by township,level", have, runs, by3)
            || s_measure(dir, "stats --by station,level", have, runs, by4)) {
            goto out;
        }
        if (s == 0) {
            char *ex[] = {SANJI_COUNTY_BIN, "export", "--data", dir, "--format", "csv", NULL};
            if (s_measure(dir, "export --format csv", have, 1, ex)) {
                goto out;
            }
        }
    }
    if (json) {
        bu_mkdir_parent(json);
        FILE *f = fopen(json, "w");
        if (!f) {
            goto out;
        }
        fprintf(f, "{\"scenario\": \"query\", \"sizes\": [");
        for (int s = 0; s < n_sizes; s++) {
            fprintf(f, "%s{\"matters\": %ld, \"fill_s\": %.1f, \"db_kb\": %ld}", s ? ", " : "",
                    sizes[s], fill_s[s], db_kb[s]);
        }
        fprintf(f, "],\n \"runs\": [\n");
        for (int i = 0; i < s_nres; i++) {
            const result_t *r = &s_results[i];
            fprintf(f, "  {\"what\": \"%s\", \"matters\": %ld, \"best_s\": %.3f, \"walls_s\": [",
                    r->what, r->matters, r->best_s);
            for (int k = 0; k < r->n; k++) {
                fprintf(f, "%s%.3f", k ? ", " : "", r->run[k].wall_s);
            }
            fprintf(
                f, "], \"cpu_s\": %.3f, \"max_rss_kb\": %ld, \"lines\": %lld, \"bytes\": %lld}%s\n",
                r->run[0].cpu_s, r->run[0].max_rss_kb, r->run[0].lines, r->run[0].bytes,
                i + 1 < s_nres ? "," : "");
        }
        fprintf(f, "]}\n");
        fclose(f);
    }
    rc = 0;
out:
    if (keep || rc != 0) {
        fprintf(stderr, "bench_query: kept %s\n", dir);
    } else {
        bu_rm_rf(dir);
    }
    return rc;
}
