/* bench_search (issue 15): `search` over 1,000,000 matters, the FTS5
 * trigram index against a plain LIKE scan of the same rows, same run.
 * Builds a county store in a temporary directory (the matters inserted
 * with SQL, the search triggers filling the index as they do at ingest),
 * then times, best of 3 (warm cache):
 *   - county_query_search_table (the index, newest 100) for a common
 *     phrase (1% of matters) and a rare one (10 matters);
 *   - SELECT ... WHERE summary LIKE '%...%' ORDER BY created_ms DESC
 *     LIMIT 100 (the scan the index replaces), for the same phrases;
 *   - a 2-character query (the LIKE fallback of search).
 * and the cost of the index at ingest: the CPU seconds of the inserts.
 * Usage: bench_search [N] [noindex] (default 1000000; noindex: the search
 * triggers dropped first, the ingest baseline). Prints Markdown rows. */
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

static const char *const s_parts[] = {
    "村民反映",   "邻里之间", "因宅基地边界", "企业拖欠工资", "婚姻家庭矛盾", "山林权属",
    "征地补偿款", "道路修建", "噪音扰民",     "养殖污染",     "合同到期",     "医疗费用",
    "双方协商",   "要求处理", "多次上访",     "情绪激动",     "镇司法所",     "调解员"};

static double
s_best(sqlite3 *db, const char *text, int use_index, size_t *rows)
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

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
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
    int noindex = argc > 2 && strcmp(argv[2], "noindex") == 0;
    if (noindex
        && sqlite3_exec(db, "DROP TRIGGER search_matter; DROP TRIGGER search_matter_summary;", NULL,
                        NULL, NULL)
               != SQLITE_OK) {
        fprintf(stderr, "drop triggers: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO matters(id, origin, township, occurred_on, channel, kind,"
                           " persons, level, category, outcome, source, summary, officer,"
                           " created_ms, received_ms, reported_outcome)"
                           " VALUES(?1, ?2, substr(?2, 1, 9), ?3, 1, 1, 1, 1, 1, 1, 1, ?4, 'x',"
                           " ?5, ?5, 1)",
                           -1, &st, NULL)
        != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    srand(15);
    size_t nparts = sizeof s_parts / sizeof s_parts[0];
    double t0 = s_now();
    clock_t c0 = clock();
    (void) sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (long i = 0; i < n; i++) {
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
        if (i % 100000 == 3) {
            strcat(summary, "，光伏板租金");
        }
        char origin[13], day[11];
        snprintf(origin, sizeof origin, "2305231%02ld%03ld", i % 20, 200 + i % 30);
        snprintf(day, sizeof day, "2025-%02ld-%02ld", 1 + i % 12, 1 + i % 28);
        sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, day, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, summary, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, ms);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(st);
        if (i % 1000 == 999) { /* batches of 1,000, as ingest commits them */
            (void) sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL);
        }
    }
    (void) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(st);
    double build = s_now() - t0;
    double cpu = (double) (clock() - c0) / CLOCKS_PER_SEC;
    char path[512];
    snprintf(path, sizeof path, "%s/county-server.db", dir);
    struct stat sb;
    double mib = stat(path, &sb) == 0 ? (double) sb.st_size / 1048576.0 : 0;
    printf("matters: %ld, inserted %s in %.1f s (%.0f rows/s), CPU %.2f us per matter; "
           "store %.0f MiB\n\n",
           n, noindex ? "WITHOUT the search index (baseline)" : "with the search triggers", build,
           (double) n / build, cpu * 1e6 / (double) n, mib);
    if (noindex) {
        county_store_close(&cs);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : 1;
    }
    printf(
        "| query | matches | index (search) | LIKE scan | ratio |\n| --- | --- | --- | --- | --- "
        "|\n");
    const char *q[] = {"土地承包", "光伏板租金"};
    for (int i = 0; i < 2; i++) {
        size_t a = 0, b = 0;
        double ti = s_best(db, q[i], 1, &a);
        double tl = s_best(db, q[i], 0, &b);
        printf("| %s | %zu shown (newest 100) | %.4f s | %.4f s (%zu shown) | %.0f× |\n", q[i], a,
               ti, tl, b, tl / (ti > 0 ? ti : 1e-6));
    }
    size_t c = 0;
    double ts = s_best(db, "租金", 1, &c);
    printf("| 租金 (2 characters: the LIKE fallback over summaries and notes) | %zu | %.4f s | "
           "— | — |\n",
           c, ts);
    county_store_close(&cs);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
