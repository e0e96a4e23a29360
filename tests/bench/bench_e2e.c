/* bench_e2e: end-to-end throughput of sanji, from village stations to the
 * county's commit, next to what plain SQLite does on the same disk.
 *
 * 1. Writes N reports per station as JSONL and imports them into 4 station
 *    stores with 'village-agent import --wait 0' (not timed).
 * 2. Starts a county server and 2 township hubs on free loopback ports in a
 *    temporary directory and waits for each to print "ready".
 * 3. Starts the 4 'village-agent sync' processes at once and times from then
 *    until SELECT count(*) FROM matters in the county database (read-only
 *    connection, polled every 20 ms) reaches 4N.
 * 4. Baseline: a fresh SQLite file in the same directory (WAL,
 *    synchronous=FULL), 16-byte time-ordered BLOB key + 300-byte payload,
 *    the same 4N rows in 10,000-row transactions with one prepared statement.
 *
 * Prints a table and writes JSON (default tests/bench/results/e2e.json).
 * Not a ctest test: run it through scripts/bench.sh (a Release build). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sj_db.h" /* SJ_DB_PAGE_SIZE_PRAGMA */

#define N_STATIONS        4
#define N_HUBS            2
#define POLL_MS           20
#define READY_TIMEOUT_MS  10000
#define BASELINE_TXN_ROWS 10000
#define BASELINE_PAYLOAD  300

static const char *const s_townships[N_HUBS] = {"230523100", "230523101"};
static const char *const s_stations[N_STATIONS] = {"230523100201", "230523100202", "230523101201",
                                                   "230523101202"};

typedef struct {
    long per_station; /* reports per station */
    int timeout_s;    /* give up on the county after this */
    int keep;         /* keep the temporary directory */
    const char *agent_bin;
    const char *hub_bin;
    const char *county_bin;
    const char *json_path;
} bench_opts_t;

/* Children to stop at the end (daemons) or to wait for (syncs). */
static pid_t s_daemons[1 + N_HUBS];
static int s_n_daemons = 0;
/* CPU seconds (user + system) of the reaped children: [0] county, [1] hubs,
 * [2] station syncs. */
static double s_cpu_s[3];

static void
s_add_cpu(int role, const struct rusage *ru)
{
    s_cpu_s[role] += (double) ru->ru_utime.tv_sec + (double) ru->ru_utime.tv_usec / 1e6
                     + (double) ru->ru_stime.tv_sec + (double) ru->ru_stime.tv_usec / 1e6;
}

static double
s_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A TCP port on 127.0.0.1 that nobody listens on right now (the kernel's
 * pick). Returns 0 on failure. */
static int
s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int port = 0;
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0
        && getsockname(fd, (struct sockaddr *) &sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

/* Starts argv[0] with stdout and stderr going to the named files (either
 * may be NULL: /dev/null). Returns the pid, or -1. */
static pid_t
s_spawn(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = fork();
    if (pid != 0) {
        if (pid < 0) {
            perror("bench_e2e: fork");
        }
        return pid;
    }
    int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
        _exit(127);
    }
    execv(argv[0], argv);
    dprintf(2, "bench_e2e: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Runs argv to completion; returns its exit status (or -1). */
static int
s_run(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = s_spawn(argv, out_path, err_path);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Makes a node's CURVE key pair in dir (keygen) and reads the public key. */
static int
s_keygen(const char *bin, int agent, const char *dir, char pk[41])
{
    char out[4200];
    snprintf(out, sizeof out, "%s.pub.txt", dir);
    char *av_agent[] = {(char *) bin, "--data", (char *) dir, "keygen", NULL};
    char *av_daemon[] = {(char *) bin, "keygen", "--data", (char *) dir, NULL};
    if (s_run(agent ? av_agent : av_daemon, out, NULL) != 0) {
        fprintf(stderr, "bench_e2e: keygen in %s failed\n", dir);
        return -1;
    }
    FILE *f = fopen(out, "r");
    int ok = f && fscanf(f, "%40s", pk) == 1;
    if (f) {
        fclose(f);
    }
    return ok ? 0 : -1;
}

/* Enrols code's key at the parent whose data dir is dir. */
static int
s_allow(const char *bin, const char *dir, const char *code, const char *pk)
{
    char *av[] = {(char *) bin, "allow",       "--data",    (char *) dir,
                  "--",         (char *) code, (char *) pk, NULL};
    if (s_run(av, NULL, NULL) != 0) {
        fprintf(stderr, "bench_e2e: cannot enrol %s in %s\n", code, dir);
        return -1;
    }
    return 0;
}

/* Starts a daemon and waits until its stdout file holds "ready". */
static int
s_start_daemon(char *const argv[], const char *dir, const char *name)
{
    char out_path[4096], err_path[4096];
    snprintf(out_path, sizeof out_path, "%s/%s.out", dir, name);
    snprintf(err_path, sizeof err_path, "%s/%s.log", dir, name);
    pid_t pid = s_spawn(argv, out_path, err_path);
    if (pid < 0) {
        return -1;
    }
    s_daemons[s_n_daemons++] = pid;
    for (int waited = 0; waited < READY_TIMEOUT_MS; waited += 10) {
        char buf[64] = "";
        FILE *f = fopen(out_path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            fclose(f);
            if (strstr(buf, "ready\n")) {
                return 0;
            }
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            s_daemons[--s_n_daemons] = 0;
            fprintf(stderr, "bench_e2e: %s exited before it was ready; see %s\n", name, err_path);
            return -1;
        }
        s_sleep_ms(10);
    }
    fprintf(stderr, "bench_e2e: %s not ready after %d ms; see %s\n", name, READY_TIMEOUT_MS,
            err_path);
    return -1;
}

static void
s_stop_daemons(void)
{
    for (int i = 0; i < s_n_daemons; i++) {
        kill(s_daemons[i], SIGTERM);
    }
    for (int i = 0; i < s_n_daemons; i++) {
        struct rusage ru;
        if (wait4(s_daemons[i], NULL, 0, &ru) == s_daemons[i]) {
            s_add_cpu(i == 0 ? 0 : 1, &ru); /* the county is started first */
        }
    }
    s_n_daemons = 0;
}

/* Writes n valid, varied reports as JSON lines, in the order they occurred
 * (dates spread evenly over 2024, as a station records them). */
static int
s_write_jsonl(const char *path, long n, int seed)
{
    static const char *const summaries[][2] = {
        {"land", "土地承包纠纷，村民小组重新调整承包地引发争议"},
        {"land", "宅基地边界争议，邻户砌墙占用通道"},
        {"enterprise_restructuring", "企业改制职工安置及经济补偿金未落实"},
        {"employment", "拖欠工资，建筑工地农民工三个月工资未结"},
        {"employment", "工伤赔偿争议，用人单位拒绝认定"},
        {"housing_demolition", "房屋拆迁补偿标准争议，要求按市场价评估"},
        {"housing_demolition", "棚户区改造安置房分配不公"},
        {"other", "邻里纠纷，排水沟堵塞致农田受淹"},
        {"other", "低保资格认定有异议"},
    };
    static const char *const channels[] = {"visit", "visit", "letter", "visit", "phone", "mailbox"};
    static const char *const levels[] = {"village",  "township", "village",  "county",
                                         "township", "city",     "province", "capital"};
    static const char *const outcomes[] = {"resolved_on_spot", "pending", "accepted", "closed",
                                           "withdrawn"};
    static const char *const sources[] = {"direct", "leader_reception", "assigned", "review"};
    static const int visit_persons[] = {1, 3, 6, 2, 12, 1, 4, 25, 2};
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_e2e: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (long i = 0; i < n; i++) {
        unsigned long k = (unsigned long) i * 7UL + (unsigned long) seed * 13UL;
        const char *const *sm = summaries[k % (sizeof summaries / sizeof summaries[0])];
        const char *channel = channels[k % 6];
        int persons = strcmp(channel, "visit") == 0 ? visit_persons[(k / 6) % 9] : 1;
        static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int day = (int) (i * 366 / n), month = 0; /* day of 2024, 0-based */
        while (day >= month_days[month]) {
            day -= month_days[month++];
        }
        fprintf(f,
                "{\"occurred_on\":\"2024-%02d-%02d\",\"channel\":\"%s\",\"kind\":\"%s\","
                "\"persons\":%d,\"level\":\"%s\",\"category\":\"%s\",\"outcome\":\"%s\","
                "\"source\":\"%s\",\"summary\":\"%s\",\"officer\":\"信息员-%03lu\"}\n",
                month + 1, day + 1, channel, persons >= 5 ? "collective" : "individual", persons,
                levels[(k / 3) % 8], sm[0], outcomes[(k / 5) % 5], sources[(k / 11) % 4], sm[1],
                (unsigned long) seed * 100 + k % 17);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "bench_e2e: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* count(*) of the county's matters, or -1 while the table is not there. */
static long
s_county_count(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM matters", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        n = (long) sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

static int
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_e2e: baseline: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Inserts rows into a fresh WAL/FULL database; returns rows per second, or
 * a negative number on failure. */
static double
s_baseline(const char *dir, long rows)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/baseline.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    double rate = -1;
    uint8_t key[16];
    static uint8_t noise[65536]; /* random bytes the keys and payloads are cut from */
    uint64_t rnd = 0x9E3779B97F4A7C15ULL;
    for (size_t b = 0; b < sizeof noise; b++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17; /* xorshift64 */
        noise[b] = (uint8_t) (rnd >> 24);
    }
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "bench_e2e: baseline: %s: %s\n", path, sqlite3_errmsg(db));
        goto out;
    }
    /* The page size sanji gives its stores (sj_db.h), so the limit is
     * measured on equal terms. */
    if (s_exec(db, SJ_DB_PAGE_SIZE_PRAGMA) || s_exec(db, "PRAGMA journal_mode=WAL")
        || s_exec(db, "PRAGMA synchronous=FULL")
        || s_exec(db, "CREATE TABLE rows(id BLOB PRIMARY KEY, payload BLOB NOT NULL) "
                      "WITHOUT ROWID")) {
        goto out;
    }
    if (sqlite3_prepare_v2(db, "INSERT INTO rows(id, payload) VALUES (?1, ?2)", -1, &ins, NULL)
        != SQLITE_OK) {
        fprintf(stderr, "bench_e2e: baseline: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    double t0 = s_now_s();
    for (long i = 0; i < rows; i++) {
        if (i % BASELINE_TXN_ROWS == 0 && s_exec(db, "BEGIN")) {
            goto out;
        }
        /* Time-ordered like a UUIDv7: a big-endian counter, then random bits. */
        for (int b = 0; b < 8; b++) {
            key[b] = (uint8_t) ((uint64_t) i >> (56 - 8 * b));
        }
        memcpy(key + 8, noise + ((size_t) i * 8) % (sizeof noise - 8), 8);
        const uint8_t *payload = noise + ((size_t) i * 37) % (sizeof noise - BASELINE_PAYLOAD);
        sqlite3_bind_blob(ins, 1, key, sizeof key, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, payload, BASELINE_PAYLOAD, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "bench_e2e: baseline insert: %s\n", sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_reset(ins);
        if ((i + 1) % BASELINE_TXN_ROWS == 0 || i + 1 == rows) {
            if (s_exec(db, "COMMIT")) {
                goto out;
            }
        }
    }
    rate = (double) rows / (s_now_s() - t0);
out:
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return rate;
}

static void
s_usage(FILE *out)
{
    fputs("usage: bench_e2e [options]\n"
          "  --n N            reports per station (default 20000; 4 stations)\n"
          "  --timeout S      give up when the county is not complete after S s (default 600)\n"
          "  --json PATH      where to write the results (default " SANJI_BENCH_JSON ")\n"
          "  --agent/--hub/--county PATH   the binaries (default: this build's)\n"
          "  --keep           keep the temporary directory (logs, stores)\n",
          out);
}

/* Returns 0, or 2 after a message on a bad argument. */
static int
s_parse(int argc, char **argv, bench_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            s_usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--keep") == 0) {
            o->keep = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "bench_e2e: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--n") == 0) {
            o->per_station = strtol(v, NULL, 10);
        } else if (strcmp(a, "--timeout") == 0) {
            o->timeout_s = atoi(v);
        } else if (strcmp(a, "--json") == 0) {
            o->json_path = v;
        } else if (strcmp(a, "--agent") == 0) {
            o->agent_bin = v;
        } else if (strcmp(a, "--hub") == 0) {
            o->hub_bin = v;
        } else if (strcmp(a, "--county") == 0) {
            o->county_bin = v;
        } else {
            fprintf(stderr, "bench_e2e: unknown option '%s'\n", a);
            s_usage(stderr);
            return 2;
        }
    }
    if (o->per_station < 1 || o->timeout_s < 1) {
        fprintf(stderr, "bench_e2e: --n and --timeout must be positive\n");
        return 2;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    bench_opts_t o = {.per_station = 20000,
                      .timeout_s = 600,
                      .agent_bin = SANJI_AGENT_BIN,
                      .hub_bin = SANJI_HUB_BIN,
                      .county_bin = SANJI_COUNTY_BIN,
                      .json_path = SANJI_BENCH_JSON};
    if (s_parse(argc, argv, &o)) {
        return 2;
    }

    int rc = 1;
    sqlite3 *cdb = NULL;
    pid_t syncs[N_STATIONS] = {0};
    const char *tmpdir = getenv("TMPDIR");
    char dirbuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s/sanji-bench.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    char *d = mkdtemp(dirbuf);
    if (!d) {
        perror("bench_e2e: mkdtemp");
        return 1;
    }
    long total = o.per_station * N_STATIONS;
    char path[4096], path2[4096], path3[4096];
    char county_ep[64], hub_ep[N_HUBS][64];
    int port = s_free_port();
    snprintf(county_ep, sizeof county_ep, "tcp://127.0.0.1:%d", port);
    for (int h = 0; h < N_HUBS; h++) {
        int p;
        do {
            p = s_free_port();
        } while (p == port);
        port = p;
        snprintf(hub_ep[h], sizeof hub_ep[h], "tcp://127.0.0.1:%d", p);
    }

    /* 0. Keys, as in a real deployment: CURVE on every link. */
    char county_pk[41], hub_pk[N_HUBS][41], station_pk[41];
    snprintf(path, sizeof path, "%s/county", d);
    if (s_keygen(o.county_bin, 0, path, county_pk)) {
        goto out;
    }
    for (int h = 0; h < N_HUBS; h++) {
        snprintf(path2, sizeof path2, "%s/hub-%s", d, s_townships[h]);
        if (s_keygen(o.hub_bin, 0, path2, hub_pk[h])
            || s_allow(o.county_bin, path, s_townships[h], hub_pk[h])) {
            goto out;
        }
    }
    for (int s = 0; s < N_STATIONS; s++) {
        snprintf(path2, sizeof path2, "%s/station-%s", d, s_stations[s]);
        snprintf(path3, sizeof path3, "%s/hub-%s", d, s_townships[s / 2]);
        if (s_keygen(o.agent_bin, 1, path2, station_pk)
            || s_allow(o.hub_bin, path3, s_stations[s], station_pk)) {
            goto out;
        }
    }

    /* 1. Station stores (not timed). */
    fprintf(stderr, "bench_e2e: importing %ld reports into each of %d stations in %s\n",
            o.per_station, N_STATIONS, d);
    double t_import = s_now_s();
    pid_t imports[N_STATIONS];
    for (int s = 0; s < N_STATIONS; s++) {
        snprintf(path, sizeof path, "%s/reports-%s.jsonl", d, s_stations[s]);
        if (s_write_jsonl(path, o.per_station, s + 1)) {
            goto out;
        }
        snprintf(path2, sizeof path2, "%s/station-%s", d, s_stations[s]);
        snprintf(path3, sizeof path3, "%s/import-%s.log", d, s_stations[s]);
        char *av[] = {(char *) o.agent_bin,
                      "--data",
                      path2,
                      "--station",
                      (char *) s_stations[s],
                      "--hub",
                      hub_ep[s / 2],
                      "import",
                      "--wait",
                      "0",
                      path,
                      NULL};
        imports[s] = s_spawn(av, NULL, path3);
    }
    int import_failed = 0;
    for (int s = 0; s < N_STATIONS; s++) {
        int st = 0;
        if (imports[s] < 0 || waitpid(imports[s], &st, 0) < 0 || !WIFEXITED(st)
            || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bench_e2e: import into station %s failed; see %s/import-%s.log\n",
                    s_stations[s], d, s_stations[s]);
            import_failed = 1;
        }
    }
    if (import_failed) {
        goto out;
    }
    t_import = s_now_s() - t_import;

    /* 2. County and hubs. */
    snprintf(path, sizeof path, "%s/county", d);
    char *cav[] = {(char *) o.county_bin, "run", "--data", path, "--bind", county_ep, NULL};
    if (s_start_daemon(cav, d, "county")) {
        goto out;
    }
    for (int h = 0; h < N_HUBS; h++) {
        snprintf(path, sizeof path, "%s/hub-%s", d, s_townships[h]);
        char name[32];
        snprintf(name, sizeof name, "hub-%s", s_townships[h]);
        char *hav[] = {(char *) o.hub_bin,      "run",     "--data",  path,       "--code",
                       (char *) s_townships[h], "--bind",  hub_ep[h], "--parent", county_ep,
                       "--parent-key",          county_pk, NULL};
        if (s_start_daemon(hav, d, name)) {
            goto out;
        }
    }
    snprintf(path, sizeof path, "%s/county/county-server.db", d);
    if (sqlite3_open_v2(path, &cdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_e2e: %s: %s\n", path, sqlite3_errmsg(cdb));
        goto out;
    }
    sqlite3_busy_timeout(cdb, 1000);

    /* 3. Timed: 4 syncs at once until the county holds every report. */
    fprintf(stderr, "bench_e2e: delivering %ld reports: %d stations -> %d hubs -> county\n", total,
            N_STATIONS, N_HUBS);
    char timeout_arg[16];
    snprintf(timeout_arg, sizeof timeout_arg, "%d", o.timeout_s);
    double t0 = s_now_s();
    for (int s = 0; s < N_STATIONS; s++) {
        snprintf(path2, sizeof path2, "%s/station-%s", d, s_stations[s]);
        snprintf(path3, sizeof path3, "%s/sync-%s.log", d, s_stations[s]);
        char *av[] = {(char *) o.agent_bin,
                      "--data",
                      path2,
                      "--station",
                      (char *) s_stations[s],
                      "--hub",
                      hub_ep[s / 2],
                      "--hub-key",
                      hub_pk[s / 2],
                      "sync",
                      "--timeout",
                      timeout_arg,
                      NULL};
        syncs[s] = s_spawn(av, NULL, path3);
    }
    double t_hubs = 0, t_county = 0;
    int syncs_left = N_STATIONS, sync_failed = 0;
    long n = 0;
    for (;;) {
        for (int s = 0; s < N_STATIONS; s++) {
            int st = 0;
            struct rusage ru;
            if (syncs[s] > 0 && wait4(syncs[s], &st, WNOHANG, &ru) == syncs[s]) {
                syncs[s] = 0;
                s_add_cpu(2, &ru);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                    fprintf(stderr, "bench_e2e: sync of station %s failed; see %s/sync-%s.log\n",
                            s_stations[s], d, s_stations[s]);
                    sync_failed = 1;
                }
                if (--syncs_left == 0) {
                    t_hubs = s_now_s() - t0;
                }
            }
        }
        n = s_county_count(cdb);
        if (n >= total) {
            t_county = s_now_s() - t0;
            break;
        }
        if (s_now_s() - t0 > o.timeout_s || (sync_failed && syncs_left == 0)) {
            fprintf(stderr, "bench_e2e: the county has %ld of %ld reports after %.1f s\n", n, total,
                    s_now_s() - t0);
            goto out;
        }
        s_sleep_ms(POLL_MS);
    }
    for (int s = 0; s < N_STATIONS; s++) {
        if (syncs[s] > 0) {
            int st = 0;
            struct rusage ru;
            if (wait4(syncs[s], &st, 0, &ru) == syncs[s]) {
                s_add_cpu(2, &ru);
            }
            syncs[s] = 0;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                sync_failed = 1;
            }
            if (t_hubs == 0 && --syncs_left == 0) {
                t_hubs = s_now_s() - t0;
            }
        }
    }
    if (n != total || sync_failed) {
        fprintf(stderr, "bench_e2e: county holds %ld reports, expected %ld%s\n", n, total,
                sync_failed ? " (a sync failed)" : "");
        goto out;
    }
    sqlite3_close(cdb);
    cdb = NULL;
    s_stop_daemons();
    double sanji_rate = (double) total / t_county;

    /* 4. Baseline on the same disk. */
    fprintf(stderr, "bench_e2e: SQLite baseline: %ld rows in %d-row transactions\n", total,
            BASELINE_TXN_ROWS);
    double sqlite_rate = s_baseline(d, total);
    if (sqlite_rate < 0) {
        goto out;
    }
    double ratio = sanji_rate / sqlite_rate;

    printf("\n%-44s  %14s  %14s  %7s\n", "scenario", "figure", "baseline", "ratio");
    printf("%-44s  %14s  %14s  %7s\n", "--------------------------------------------",
           "--------------", "--------------", "-------");
    char scen[128];
    snprintf(scen, sizeof scen, "e2e %d stations -> %d hubs -> county, %ld", N_STATIONS, N_HUBS,
             total);
    printf("%-44s  %10.0f r/s  %10.0f r/s  %6.1f%%\n", scen, sanji_rate, sqlite_rate,
           100.0 * ratio);
    printf("\nreports: %ld; all at the hubs after %.2f s, all at the county after %.2f s\n"
           "(import into the station stores, not timed: %.2f s)\n"
           "CPU seconds: county %.2f, hubs %.2f, station syncs %.2f (%ld CPUs)\n"
           "figure: sanji reports committed at the county per second;\n"
           "baseline: SQLite WAL+FULL rows/s, 16-byte key + %d-byte payload, %d-row transactions\n",
           total, t_hubs, t_county, t_import, s_cpu_s[0], s_cpu_s[1], s_cpu_s[2],
           sysconf(_SC_NPROCESSORS_ONLN), BASELINE_PAYLOAD, BASELINE_TXN_ROWS);

    snprintf(path, sizeof path, "%s", o.json_path);
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = '\0';
        mkdir(path, 0755); /* results/ is git-ignored, so it may not exist */
    }
    FILE *jf = fopen(o.json_path, "w");
    if (!jf) {
        fprintf(stderr, "bench_e2e: %s: %s\n", o.json_path, strerror(errno));
        goto out;
    }
    fprintf(jf,
            "{\n  \"benchmark\": \"e2e\",\n  \"stations\": %d,\n  \"hubs\": %d,\n"
            "  \"reports_per_station\": %ld,\n  \"reports\": %ld,\n"
            "  \"seconds_to_hubs\": %.3f,\n  \"seconds_to_county\": %.3f,\n"
            "  \"sanji_reports_per_s\": %.1f,\n"
            "  \"sqlite_baseline\": {\"rows\": %ld, \"rows_per_txn\": %d, \"payload_bytes\": %d,"
            " \"journal_mode\": \"wal\", \"synchronous\": \"full\", \"rows_per_s\": %.1f},\n"
            "  \"cpu_seconds\": {\"county\": %.3f, \"hubs\": %.3f, \"station_syncs\": %.3f},\n"
            "  \"ratio\": %.4f,\n  \"sqlite_version\": \"%s\",\n  \"cpus\": %ld\n}\n",
            N_STATIONS, N_HUBS, o.per_station, total, t_hubs, t_county, sanji_rate, total,
            BASELINE_TXN_ROWS, BASELINE_PAYLOAD, sqlite_rate, s_cpu_s[0], s_cpu_s[1], s_cpu_s[2],
            ratio, sqlite3_libversion(), sysconf(_SC_NPROCESSORS_ONLN));
    if (fclose(jf) != 0) {
        fprintf(stderr, "bench_e2e: %s: %s\n", o.json_path, strerror(errno));
        goto out;
    }
    fprintf(stderr, "bench_e2e: wrote %s\n", o.json_path);
    rc = 0;
out:
    for (int s = 0; s < N_STATIONS; s++) {
        if (syncs[s] > 0) {
            kill(syncs[s], SIGTERM);
            waitpid(syncs[s], NULL, 0);
        }
    }
    sqlite3_close(cdb);
    s_stop_daemons();
    if (o.keep || rc != 0) {
        fprintf(stderr, "bench_e2e: kept %s\n", d);
    } else {
        char *rm[] = {"/bin/rm", "-rf", d, NULL};
        s_run(rm, NULL, NULL);
    }
    return rc;
}
