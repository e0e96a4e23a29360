/* bench_export: does `county-server export` stream, i.e. keep the same
 * memory for 10,000 and 1,000,000 matters, and how fast is it?
 *
 * 1. Makes a county store in a temporary directory (county_store_open, the
 *    real schema) and fills matters by plain SQL in stages (default 10,000,
 *    100,000, 1,000,000 rows in all; not timed).
 * 2. After each stage runs `county-server export --format csv` and
 *    `--format jsonl` with stdout on a pipe that this program reads and
 *    counts (as `| gzip` would), and reports wall time, rows, bytes and the
 *    child's max RSS (wait4 ru_maxrss).
 * 3. For contrast, runs `county-server list --format csv` (which buffers
 *    every row in a table) at the middle stage.
 * 4. Verdict: the export is flat when its max RSS at the last stage exceeds
 *    that at the first by less than 8 MiB; exit 1 otherwise.
 *
 *   bench_export [--n 1000000] [--keep] [--json FILE]
 * Prints a table and writes JSON (default tests/bench/results/export.json).
 * Not a ctest test (it takes a minute and measures the machine). */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "county_store.h"

#define S_FLAT_SLACK_KB (8L * 1024) /* allowed growth of max RSS, first to last stage */
#define S_STAGES        3
#define S_MAX_RUNS      16

typedef struct {
    const char *what; /* "export csv", ... */
    long matters;     /* rows in the store */
    long long rows;   /* lines read from the child, minus the csv header */
    long long bytes;  /* bytes read from the child */
    double wall_s;    /* spawn to exit */
    double cpu_s;     /* child user + system */
    long max_rss_kb;  /* child's ru_maxrss */
    int status;       /* exit status */
} s_run_t;

static s_run_t s_runs[S_MAX_RUNS];
static int s_nruns = 0;

static double
s_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_export: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Adds n generated matters (dates over 2024, enums cycling, a 60-byte
 * Chinese summary), numbered from first. */
static int
s_fill(sqlite3 *db, long first, long n)
{
    char sql[1400];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT %ld UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
             " INSERT INTO matters(id, origin, township, occurred_on, channel, kind, persons,"
             " level, category, outcome, source, summary, officer, sealed, created_ms,"
             " received_ms)"
             " SELECT randomblob(16), printf('2305231%%02d2%%02d', i %% 10, i %% 13 + 1),"
             " printf('2305231%%02d', i %% 10),"
             " date('2024-01-01', '+' || (i %% 366) || ' days'), 1 + i %% 4,"
             " CASE WHEN i %% 4 = 0 AND i %% 7 = 0 THEN 2 ELSE 1 END,"
             " CASE WHEN i %% 4 = 0 AND i %% 7 = 0 THEN 5 + i %% 20"
             "      WHEN i %% 4 = 0 THEN 1 + i %% 4 ELSE 1 END,"
             " 1 + i %% 6, 1 + i %% 5, 1 + i %% 5, 1 + i %% 4,"
             " printf('土地承包纠纷，第%%d号，村民反映承包地边界不清', i), 'officer-017', NULL,"
             " 1709280000000, 1709280065000 FROM n",
             first, first + n - 1);
    if (s_exec(db, "BEGIN") != 0 || s_exec(db, sql) != 0 || s_exec(db, "COMMIT") != 0) {
        return -1;
    }
    /* Readers should see a normal database, not a 300 MB WAL. */
    return s_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

/* Runs county_bin with args, reading its stdout to the end. */
static int
s_measure(const char *county_bin,
          const char *dir,
          const char *what,
          long matters,
          const char *cmd,
          const char *format)
{
    if (s_nruns == S_MAX_RUNS) {
        return -1;
    }
    s_run_t *r = &s_runs[s_nruns++];
    memset(r, 0, sizeof *r);
    r->what = what;
    r->matters = matters;
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    double t0 = s_now_s();
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(county_bin, county_bin, cmd, "--data", dir, "--format", format, (char *) NULL);
        _exit(127);
    }
    close(fds[1]);
    static char buf[1 << 16];
    long long lines = 0;
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
            lines += buf[i] == '\n';
        }
    }
    close(fds[0]);
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) {
        return -1;
    }
    r->wall_s = s_now_s() - t0;
    r->cpu_s = (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
               + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
    r->max_rss_kb = ru.ru_maxrss;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    /* csv has a header line; summaries here have no newline */
    r->rows = strcmp(format, "csv") == 0 ? lines - 1 : lines;
    printf("%-12s %9ld matters %9lld rows %11lld bytes %7.2f s %7.2f cpu-s %8ld KiB max RSS%s\n",
           r->what, r->matters, r->rows, r->bytes, r->wall_s, r->cpu_s, r->max_rss_kb,
           r->status ? "  FAILED" : "");
    fflush(stdout);
    return r->status == 0 && r->rows == matters ? 0 : -1;
}

static void
s_rm_rf(const char *dir)
{
    const char *names[] = {"county-server.db", "county-server.db-wal", "county-server.db-shm"};
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int
s_write_json(const char *path, long flat_growth_kb, int flat)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_export: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "{\"runs\": [\n");
    for (int i = 0; i < s_nruns; i++) {
        const s_run_t *r = &s_runs[i];
        fprintf(
            f,
            "  {\"what\": \"%s\", \"matters\": %ld, \"rows\": %lld, \"bytes\": %lld,"
            " \"wall_s\": %.3f, \"cpu_s\": %.3f, \"max_rss_kb\": %ld, \"rows_per_s\": %.0f}%s\n",
            r->what, r->matters, r->rows, r->bytes, r->wall_s, r->cpu_s, r->max_rss_kb,
            r->wall_s > 0 ? (double) r->rows / r->wall_s : 0.0, i + 1 < s_nruns ? "," : "");
    }
    fprintf(f, "],\n \"export_rss_growth_kb\": %ld, \"flat\": %s}\n", flat_growth_kb,
            flat ? "true" : "false");
    return fclose(f) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    long total = 1000000;
    int keep = 0;
    const char *json = SANJI_BENCH_EXPORT_JSON;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            char *end = NULL;
            total = strtol(argv[++i], &end, 10);
            if (!end || *end || total < 1000) {
                fprintf(stderr, "bench_export: --n needs a number >= 1000\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_export [--n MATTERS] [--keep] [--json FILE]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/sanji-bench-export-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_export: %s\n", err);
        return 1;
    }
    county_store_close(&st);
    char path[600];
    snprintf(path, sizeof path, "%s/county-server.db", dir);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "bench_export: cannot open %s\n", path);
        return 1;
    }
    long stages[S_STAGES] = {total / 100, total / 10, total};
    long have = 0;
    int failed = 0;
    long rss_first = 0, rss_last = 0;
    printf("bench_export: %s, stages %ld / %ld / %ld matters\n", dir, stages[0], stages[1],
           stages[2]);
    for (int s = 0; s < S_STAGES && !failed; s++) {
        double t0 = s_now_s();
        if (s_fill(db, have + 1, stages[s] - have) != 0) {
            failed = 1;
            break;
        }
        have = stages[s];
        printf("filled to %ld matters in %.1f s (not timed below)\n", have, s_now_s() - t0);
        int first = s_nruns;
        failed |= s_measure(SANJI_COUNTY_BIN, dir, "export csv", have, "export", "csv") != 0;
        failed |= s_measure(SANJI_COUNTY_BIN, dir, "export jsonl", have, "export", "jsonl") != 0;
        long rss = s_runs[first].max_rss_kb > s_runs[first + 1].max_rss_kb
                       ? s_runs[first].max_rss_kb
                       : s_runs[first + 1].max_rss_kb;
        if (s == 0) {
            rss_first = rss;
        }
        rss_last = rss;
        if (s == 1) {
            failed |= s_measure(SANJI_COUNTY_BIN, dir, "list csv", have, "list", "csv") != 0;
        }
    }
    sqlite3_close(db);
    long growth = rss_last - rss_first;
    int flat = !failed && growth < S_FLAT_SLACK_KB;
    printf("export max RSS: %ld KiB at %ld matters, %ld KiB at %ld: %s\n", rss_first, stages[0],
           rss_last, stages[2], flat ? "FLAT (streams)" : "NOT FLAT");
    if (s_write_json(json, growth, flat) == 0) {
        printf("results: %s\n", json);
    }
    if (keep) {
        printf("kept %s\n", dir);
    } else {
        s_rm_rf(dir);
    }
    return flat ? 0 : 1;
}
