/* bench_util: see bench_util.h. */
#include "bench_util.h"
#include "sj_db.h" /* SJ_DB_PAGE_SIZE_PRAGMA */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double
bu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int64_t
bu_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
bu_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int
bu_free_port(const int *avoid, int n)
{
    for (int tries = 0; tries < 100; tries++) {
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
        int clash = 0;
        for (int i = 0; i < n; i++) {
            clash |= avoid[i] == port;
        }
        if (!clash) {
            return port;
        }
    }
    return 0;
}

int
bu_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t) port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

pid_t
bu_spawn(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = fork();
    if (pid != 0) {
        if (pid < 0) {
            perror("bench: fork");
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
    dprintf(2, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int
bu_run(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = bu_spawn(argv, out_path, err_path);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pid_t
bu_start_daemon(char *const argv[], const char *dir, const char *name, int timeout_ms)
{
    char out_path[4096], err_path[4096];
    snprintf(out_path, sizeof out_path, "%s/%s.out", dir, name);
    snprintf(err_path, sizeof err_path, "%s/%s.log", dir, name);
    pid_t pid = bu_spawn(argv, out_path, err_path);
    if (pid < 0) {
        return -1;
    }
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        char buf[64] = "";
        FILE *f = fopen(out_path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            fclose(f);
            if (strstr(buf, "ready\n")) {
                return pid;
            }
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "bench: %s exited before it was ready; see %s\n", name, err_path);
            return -1;
        }
        bu_sleep_ms(5);
    }
    fprintf(stderr, "bench: %s not ready after %d ms; see %s\n", name, timeout_ms, err_path);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int
bu_stop(pid_t pid, struct rusage *ru)
{
    struct rusage dummy;
    if (!ru) {
        ru = &dummy;
    }
    memset(ru, 0, sizeof *ru);
    if (pid <= 0) {
        return -1;
    }
    kill(pid, SIGTERM);
    int status = 0;
    for (int waited = 0; waited < 10000; waited += 10) {
        pid_t r = wait4(pid, &status, WNOHANG, ru);
        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (r < 0) {
            return -1;
        }
        bu_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    if (wait4(pid, &status, 0, ru) != pid) {
        return -1;
    }
    return 128 + SIGKILL;
}

double
bu_ru_cpu_s(const struct rusage *ru)
{
    return (double) ru->ru_utime.tv_sec + (double) ru->ru_utime.tv_usec / 1e6
           + (double) ru->ru_stime.tv_sec + (double) ru->ru_stime.tv_usec / 1e6;
}

int
bu_proc_mem(pid_t pid, long *rss_kb, long *hwm_kb)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen(path, "r");
    *rss_kb = -1;
    *hwm_kb = -1;
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *rss_kb = strtol(line + 6, NULL, 10);
        } else if (strncmp(line, "VmHWM:", 6) == 0) {
            *hwm_kb = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return *rss_kb >= 0 ? 0 : -1;
}

double
bu_sys_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (!f) {
        return -1;
    }
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 8) {
        return -1;
    }
    /* user nice system idle iowait irq softirq steal: all but idle, iowait */
    return (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double) sysconf(_SC_CLK_TCK);
}

long long
bu_proc_io_write(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/io", (int) pid);
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "write_bytes:", 12) == 0) {
            v = strtoll(line + 12, NULL, 10);
        }
    }
    fclose(f);
    return v;
}

double
bu_proc_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm may hold spaces: fields start after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p) {
        return -1;
    }
    p += 2; /* field 3, state */
    unsigned long long ut = 0, st = 0;
    /* fields 3..13 skipped, 14 utime, 15 stime */
    if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        return -1;
    }
    return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

struct bu_sampler {
    pthread_t thread;
    pid_t pids[16];
    long peak[16];
    int n;
    int period_ms;
    volatile int stop;
};

static void *
s_sampler_main(void *arg)
{
    bu_sampler_t *s = arg;
    while (!s->stop) {
        for (int i = 0; i < s->n; i++) {
            long rss, hwm;
            if (bu_proc_mem(s->pids[i], &rss, &hwm) == 0 && rss > s->peak[i]) {
                s->peak[i] = rss;
            }
        }
        bu_sleep_ms(s->period_ms);
    }
    return NULL;
}

bu_sampler_t *
bu_sampler_start(const pid_t *pids, int n, int period_ms)
{
    bu_sampler_t *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    s->n = n > 16 ? 16 : n;
    memcpy(s->pids, pids, (size_t) s->n * sizeof *pids);
    s->period_ms = period_ms;
    if (pthread_create(&s->thread, NULL, s_sampler_main, s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void
bu_sampler_stop(bu_sampler_t **self_p, long *peak_kb)
{
    bu_sampler_t *s = *self_p;
    if (!s) {
        return;
    }
    s->stop = 1;
    pthread_join(s->thread, NULL);
    for (int i = 0; i < s->n; i++) {
        peak_kb[i] = s->peak[i];
    }
    free(s);
    *self_p = NULL;
}

char *
bu_mkdtemp(const char *tag, char *buf, size_t size)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(buf, size, "%s/sanji-bench-%s.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp", tag);
    char *d = mkdtemp(buf);
    if (!d) {
        perror("bench: mkdtemp");
    }
    return d;
}

void
bu_rm_rf(const char *dir)
{
    char *av[] = {"/bin/rm", "-rf", (char *) dir, NULL};
    bu_run(av, NULL, NULL);
}

void
bu_mkdir_parent(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
}

static int
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench: sqlite baseline: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

double
bu_sqlite_baseline(const char *path, long rows, int payload_bytes, long txn_rows)
{
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
    if (payload_bytes < 1 || (size_t) payload_bytes > sizeof noise / 2) {
        return -1;
    }
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "bench: sqlite baseline: %s: %s\n", path, sqlite3_errmsg(db));
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
        fprintf(stderr, "bench: sqlite baseline: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    double t0 = bu_now_s();
    for (long i = 0; i < rows; i++) {
        if (i % txn_rows == 0 && s_exec(db, "BEGIN")) {
            goto out;
        }
        /* Time-ordered like a UUIDv7: a big-endian counter, then random bits. */
        for (int b = 0; b < 8; b++) {
            key[b] = (uint8_t) ((uint64_t) i >> (56 - 8 * b));
        }
        memcpy(key + 8, noise + ((size_t) i * 8) % (sizeof noise - 8), 8);
        const uint8_t *payload =
            noise + ((size_t) i * 37) % (sizeof noise - (size_t) payload_bytes);
        sqlite3_bind_blob(ins, 1, key, sizeof key, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, payload, payload_bytes, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "bench: sqlite baseline insert: %s\n", sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_reset(ins);
        if ((i + 1) % txn_rows == 0 || i + 1 == rows) {
            if (s_exec(db, "COMMIT")) {
                goto out;
            }
        }
    }
    rate = (double) rows / (bu_now_s() - t0);
out:
    sqlite3_finalize(ins);
    sqlite3_close(db);
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return rate;
}

int
bu_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

double
bu_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    double rank = p / 100.0 * (double) n;
    size_t i = rank <= 1 ? 0 : (size_t) (rank + 0.999999) - 1;
    return sorted[i < n ? i : n - 1];
}

void
bu_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

void
bu_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t) (v >> (56 - 8 * i));
    }
}

uint64_t
bu_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}
