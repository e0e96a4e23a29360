/* bench_search (issue 15): `search` over 1,000,000 matters, the FTS5
 * trigram index against a plain LIKE scan of the same rows, same run, and
 * the index kept off the ingest path (sj_history.h): reports' summaries
 * are indexed in the daemon's idle time, above the mark `search` scans.
 * Builds a county store in a temporary directory (each matter with its
 * events row, as ingest stores them, inserted with SQL in batches of
 * 1,000), then:
 *   - the CPU of those inserts (ingest: no index);
 *   - the idle indexer (county_store_index in steps of 1,000 rows) over all
 *     but the last TAIL matters: its CPU per matter;
 *   - search timed, best of 3 (warm cache), with the TAIL newest matters
 *     not indexed yet (the LIKE scan above the mark), then once the indexer
 *     has done them too (all indexed): county_query_search_table (newest
 *     100) for a common phrase (1% of matters) and a rare one (one matter in
 *     100,000), a LIKE scan of every summary for the same phrases, and a
 *     2-character query (the LIKE fallback of search); the rows found must
 *     be the same in both states.
 * Usage: bench_search [N] [TAIL] (default 1000000 100000). Prints Markdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "county_query.h"
#include "county_store.h"
#include "sj_log.h"

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *const s_parts[] = {
    "村民反映",   "邻里之间", "因宅基地边界", "企业拖欠工资", "婚姻家庭矛盾", "山林权属",
    "征地补偿款", "道路修建", "噪音扰民",     "养殖污染",     "合同到期",     "医疗费用",
    "双方协商",   "要求处理", "多次上访",     "情绪激动",     "镇司法所",     "调解员"};

/* The ids found (hex, concatenated) by the last search, to compare states. */
static char s_found[4][100 * 38 + 1];

static double
s_best(sqlite3 *db, const char *text, int use_index, size_t *rows, char *found)
{
    double best = 1e9;
    for (int run = 0; run < 3; run++) {
        double t0 = s_now();
        if (use_index) {
            sj_table_t *t = NULL;
            int scanned = 0;
            char err[256];
            county_filter_t f = {.limit = 100};
            if (county_query_search_table(db, text, &f, &t, &scanned, err, sizeof err) != SJ_OK) {
                fprintf(stderr, "search: %s\n", err);
                exit(1);
            }
            *rows = sj_table_rows(t);
            if (found) {
                found[0] = '\0';
                for (size_t r = 0; r < *rows; r++) {
                    strcat(found, sj_table_cell(t, r, 0));
                    strcat(found, ",");
                }
            }
            sj_table_destroy(&t);
        } else {
            char like[256];
            snprintf(like, sizeof like, "%%%s%%", text);
            sqlite3_stmt *st = NULL;
            sqlite3_prepare_v2(db,
                               "SELECT id, summary FROM matters WHERE summary LIKE ?"
                               " ORDER BY created_ms DESC LIMIT 100",
                               -1, &st, NULL);
            sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
            size_t n = 0;
            while (sqlite3_step(st) == SQLITE_ROW) {
                n++;
            }
            sqlite3_finalize(st);
            *rows = n;
        }
        double dt = s_now() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

/* Inserts matters [from, to) with their events rows, in batches of 1,000. */
static void
s_insert(sqlite3 *db, sqlite3_stmt *ev, sqlite3_stmt *st, long from, long to)
{
    size_t nparts = sizeof s_parts / sizeof s_parts[0];
    (void) sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (long i = from; i < to; i++) {
        uint8_t id[16];
        int64_t ms = 1700000000000LL + i * 1000;
        for (int k = 0; k < 16; k++) {
            id[k] = (uint8_t) (k < 6 ? (ms >> (8 * (5 - k))) : rand());
        }
        char summary[256] = "";
        for (int k = 0; k < 4; k++) {
            strcat(summary, s_parts[(size_t) rand() % nparts]);
        }
        if (i % 100 == 7) {
            strcat(summary, "，土地承包经营权");
        }
        if (i % 100000 == 99993) {
            strcat(summary, "，光伏板租金");
        }
        char origin[32], day[32]; /* sized for any long: gcc's format-truncation check */
        snprintf(origin, sizeof origin, "2305231%02ld%03ld", i % 20, 200 + i % 30);
        snprintf(day, sizeof day, "2025-%02ld-%02ld", 1 + i % 12, 1 + i % 28);
        sqlite3_bind_blob(ev, 1, id, 16, SQLITE_STATIC);
        sqlite3_bind_text(ev, 2, origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ev, 3, i + 1);
        sqlite3_bind_int64(ev, 4, ms);
        sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, day, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, summary, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, ms);
        if (sqlite3_step(ev) != SQLITE_DONE || sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_reset(ev);
        sqlite3_reset(st);
        if (i % 1000 == 999) { /* batches of 1,000, as ingest commits them */
            (void) sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL);
        }
    }
    (void) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

/* The idle indexer until the mark reaches through (or the top: -1). */
static long
s_index(county_store_t *cs, sqlite3 *db, long long through)
{
    long total = 0;
    int more = 1;
    while (more) {
        sqlite3_stmt *st = NULL;
        long long mark = 0;
        if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'search_through'", -1, &st,
                               NULL)
                == SQLITE_OK
            && sqlite3_step(st) == SQLITE_ROW) {
            mark = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        if (through >= 0 && mark >= through) {
            break;
        }
        int64_t done = 0;
        int rows = through >= 0 && through - mark < 1000 ? (int) (through - mark) : 1000;
        if (county_store_index(cs, rows, 1000, &more, &done) != SJ_OK) {
            fprintf(stderr, "index: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        total += (long) done;
    }
    return total;
}

static void
s_table(sqlite3 *db, int state)
{
    printf("| query | matches | search | LIKE scan of every summary | ratio |\n"
           "| --- | --- | --- | --- | --- |\n");
    const char *q[] = {"土地承包", "光伏板租金"};
    for (int i = 0; i < 2; i++) {
        size_t a = 0, b = 0;
        double ti = s_best(db, q[i], 1, &a, s_found[state * 2 + i]);
        double tl = s_best(db, q[i], 0, &b, NULL);
        printf("| %s | %zu shown (newest 100) | %.4f s | %.4f s (%zu shown) | %.0f× |\n", q[i], a,
               ti, tl, b, tl / (ti > 0 ? ti : 1e-6));
    }
    size_t c = 0;
    double ts = s_best(db, "租金", 1, &c, NULL);
    printf("| 租金 (2 characters: the LIKE fallback over summaries and notes) | %zu | %.4f s | "
           "— | — |\n\n",
           c, ts);
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long tail = argc > 2 ? atol(argv[2]) : 100000;
    if (n < 1 || tail < 0 || tail > n) {
        fprintf(stderr, "usage: bench_search [N] [TAIL]  (1 <= N, 0 <= TAIL <= N)\n");
        return 2;
    }
    char dir[] = "/tmp/bench_search.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    sj_log_set_level(SJ_LOG_WARN);
    char err[256];
    county_store_t *cs = county_store_open(dir, "230523", SJ_DB_WRITE, err, sizeof err);
    if (!cs) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    sqlite3 *db = county_store_db(cs);
    sqlite3_stmt *ev = NULL, *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO events(id, origin, epoch, origin_seq, via, type,"
                           " created_ms, received_ms, prev_hash, hash, raw)"
                           " VALUES(?1, ?2, zeroblob(16), ?3, substr(?2, 1, 9), 1, ?4, ?4,"
                           " x'', x'', x'')",
                           -1, &ev, NULL)
            != SQLITE_OK
        || sqlite3_prepare_v2(db,
                              "INSERT INTO matters(id, origin, township, occurred_on, channel,"
                              " kind, persons, level, category, outcome, source, summary, officer,"
                              " created_ms, received_ms, reported_outcome)"
                              " VALUES(?1, ?2, substr(?2, 1, 9), ?3, 1, 1, 1, 1, 1, 1, 1, ?4, 'x',"
                              " ?5, ?5, 1)",
                              -1, &st, NULL)
               != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    srand(15);
    double t0 = s_now(), c0 = s_cpu();
    s_insert(db, ev, st, 0, n);
    double build = s_now() - t0, cpu = s_cpu() - c0;
    sqlite3_finalize(ev);
    sqlite3_finalize(st);
    double mib = 0;
    for (int k = 0; k < 2; k++) { /* the store and its WAL */
        char path[512];
        snprintf(path, sizeof path, "%s/county-server.db%s", dir, k ? "-wal" : "");
        struct stat sb;
        mib += stat(path, &sb) == 0 ? (double) sb.st_size / 1048576.0 : 0;
    }
    printf("matters: %ld with their events rows, inserted in %.1f s (%.0f rows/s), CPU %.2f us"
           " per matter (ingest: no index)\n\n",
           n, build, (double) n / build, cpu * 1e6 / (double) n);
    /* the events rows are 1..n: index all but the tail */
    t0 = s_now();
    c0 = s_cpu();
    long done = s_index(cs, db, n - tail);
    double idx = s_now() - t0, icpu = s_cpu() - c0;
    printf("idle indexer: %ld summaries in %.1f s (%.0f rows/s), CPU %.2f us per matter; store"
           " %.0f MiB before it\n\n",
           done, idx, (double) done / (idx > 0 ? idx : 1e-6),
           icpu * 1e6 / (double) (done ? done : 1), mib);
    printf("%ld newest matters not indexed yet (above the mark):\n\n", tail);
    s_table(db, 0);
    done = s_index(cs, db, -1);
    printf("all indexed (%ld more):\n\n", done);
    s_table(db, 1);
    int same = strcmp(s_found[0], s_found[2]) == 0 && strcmp(s_found[1], s_found[3]) == 0;
    printf("the rows found in both states: %s\n", same ? "the same" : "DIFFERENT");
    county_store_close(&cs);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 && same ? 0 : 1;
}
