/* bench_floor: the least a durable three-tier chain can cost on this machine.
 *
 * The same shape as bench_load's throughput scenario (S stations -> H hubs ->
 * one county, CURVE on every link, synchronous=FULL at hub and county, acks
 * only after commit), built from the bare parts with none of sanji's work:
 * no protobuf, no validation, no hash chain, no dedupe beyond the primary
 * key, no cursors per station, the hub forwards from memory instead of
 * reading back what it stored. Each record is a 16-byte time-ordered key and
 * a payload, the row of the raw SQLite baseline, stored with the same table
 * and page size at the hub and again at the county. Whatever a real system
 * adds only costs more, so this is an upper bound for sanji's throughput,
 * measured in the same run as the raw SQLite limit.
 *
 *   bench_floor [--stations S] [--hubs H] [--n N per station] [--batch B]
 *               [--bytes R] [--window W] [--json PATH]
 * Each process is a fork of this one: the county, the hubs, and the stations
 * (this process, one DEALER per station). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_util.h"
#include "sj_db.h" /* SJ_DB_PAGE_SIZE_PRAGMA */

#define MAX_HUBS     16
#define MAX_STATIONS 256
#define GROUP        64 /* frames per transaction at most, as sanji's downlink */

typedef struct {
    int stations, hubs, batch, bytes, window;
    long n; /* records per station */
    const char *json;
} fopts_t;

typedef struct {
    char pk[41], sk[41];
} keypair_t;

static double
s_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_sockopts(void *sock)
{
    int zero = 0, hwm = 0; /* no limit: the windows bound what is queued */
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
}

static void
s_server(void *sock, const keypair_t *k)
{
    int one = 1;
    zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->sk, 40);
}

static void
s_client(void *sock, const keypair_t *server, const keypair_t *me)
{
    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server->pk, 40);
    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, me->pk, 40);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, me->sk, 40);
}

/* The store of a hub or the county: the baseline's table and settings. */
static sqlite3 *
s_store(const char *path, sqlite3_stmt **ins)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK
        || sqlite3_exec(db,
                        SJ_DB_PAGE_SIZE_PRAGMA
                        "; PRAGMA journal_mode=WAL;"
                        " PRAGMA synchronous=FULL;"
                        " CREATE TABLE rows(id BLOB PRIMARY KEY, payload BLOB NOT NULL)"
                        " WITHOUT ROWID; CREATE TABLE cursor(acked INTEGER);"
                        " INSERT INTO cursor VALUES(0);",
                        NULL, NULL, NULL)
               != SQLITE_OK
        || sqlite3_prepare_v2(db, "INSERT INTO rows(id, payload) VALUES(?1, ?2)", -1, ins, NULL)
               != SQLITE_OK) {
        fprintf(stderr, "bench_floor: %s: %s\n", path, sqlite3_errmsg(db));
        exit(1);
    }
    return db;
}

static void
s_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_floor: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
}

/* Stores every record of a frame ([8-byte seq][records]). */
static void
s_store_frame(sqlite3 *db, sqlite3_stmt *ins, const uint8_t *data, size_t len, int bytes)
{
    for (size_t off = 8; off + (size_t) bytes <= len; off += (size_t) bytes) {
        sqlite3_bind_blob(ins, 1, data + off, 16, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, data + off + 16, bytes - 16, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "bench_floor: insert: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_reset(ins);
    }
}

typedef struct {
    uint8_t rid[64];
    size_t rid_len;
    zmq_msg_t data;
} frame_t;

/* Reads up to GROUP frames from a ROUTER (waits for the first). */
static int
s_read_group(void *router, frame_t *f)
{
    int n = 0;
    while (n < GROUP) {
        int rl = zmq_recv(router, f[n].rid, sizeof f[n].rid, n ? ZMQ_DONTWAIT : 0);
        if (rl < 0) {
            if (errno == EAGAIN && n) {
                break;
            }
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "bench_floor: recv: %s\n", zmq_strerror(errno));
            exit(1);
        }
        f[n].rid_len = (size_t) rl;
        zmq_msg_init(&f[n].data);
        if (zmq_msg_recv(&f[n].data, router, 0) < 8) {
            fprintf(stderr, "bench_floor: short frame\n");
            exit(1);
        }
        n++;
    }
    return n;
}

/* The county: commits each group of frames, then acks each. Reports the
 * monotonic times at which 10% and 90% of `total` were committed, and the
 * last, on fd. */
static int
s_county(const char *ep, const char *path, const keypair_t *k, long total, int bytes, int fd)
{
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    s_sockopts(r);
    s_server(r, k);
    if (zmq_bind(r, ep) != 0) {
        fprintf(stderr, "bench_floor: bind %s: %s\n", ep, zmq_strerror(errno));
        return 1;
    }
    sqlite3_stmt *ins = NULL;
    sqlite3 *db = s_store(path, &ins);
    frame_t *f = calloc(GROUP, sizeof *f);
    long got = 0;
    double t[3] = {0, 0, 0};
    while (got < total) {
        int n = s_read_group(r, f);
        s_exec(db, "BEGIN");
        for (int i = 0; i < n; i++) {
            size_t len = zmq_msg_size(&f[i].data);
            s_store_frame(db, ins, zmq_msg_data(&f[i].data), len, bytes);
            got += (long) ((len - 8) / (size_t) bytes);
        }
        s_exec(db, "COMMIT");
        double now = s_mono();
        if (!t[0] && got >= total / 10) {
            t[0] = now;
        }
        if (!t[1] && got >= total - total / 10) {
            t[1] = now;
        }
        for (int i = 0; i < n; i++) {
            zmq_send(r, f[i].rid, f[i].rid_len, ZMQ_SNDMORE);
            zmq_send(r, zmq_msg_data(&f[i].data), 8, 0);
            zmq_msg_close(&f[i].data);
        }
    }
    t[2] = s_mono();
    if (write(fd, t, sizeof t) != (ssize_t) sizeof t) {
        return 1;
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(f);
    zmq_close(r);
    zmq_ctx_term(ctx);
    return 0;
}

/* A hub: commits each group of its stations' frames, acks them, forwards
 * each to the county, and records the county's acks (one transaction per
 * read of acks). Ends when the county has acked `frames` frames. */
static int
s_hub(const char *bind_ep,
      const char *county_ep,
      const char *path,
      const keypair_t *me,
      const keypair_t *county,
      long frames,
      int bytes)
{
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    void *up = zmq_socket(ctx, ZMQ_DEALER);
    s_sockopts(r);
    s_sockopts(up);
    s_server(r, me);
    s_client(up, county, me);
    if (zmq_bind(r, bind_ep) != 0 || zmq_connect(up, county_ep) != 0) {
        fprintf(stderr, "bench_floor: hub sockets: %s\n", zmq_strerror(errno));
        return 1;
    }
    sqlite3_stmt *ins = NULL, *cur = NULL;
    sqlite3 *db = s_store(path, &ins);
    if (sqlite3_prepare_v2(db, "UPDATE cursor SET acked = ?", -1, &cur, NULL) != SQLITE_OK) {
        return 1;
    }
    frame_t *f = calloc(GROUP, sizeof *f);
    long acked = 0;
    uint64_t hub_seq = 0, acked_seq = 0;
    while (acked < frames) {
        zmq_pollitem_t items[] = {{r, 0, ZMQ_POLLIN, 0}, {up, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return 1;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            int n = s_read_group(r, f);
            s_exec(db, "BEGIN");
            for (int i = 0; i < n; i++) {
                s_store_frame(db, ins, zmq_msg_data(&f[i].data), zmq_msg_size(&f[i].data), bytes);
            }
            s_exec(db, "COMMIT");
            for (int i = 0; i < n; i++) {
                uint8_t *d = zmq_msg_data(&f[i].data);
                zmq_send(r, f[i].rid, f[i].rid_len, ZMQ_SNDMORE);
                zmq_send(r, d, 8, 0);
                bu_put64(d, ++hub_seq); /* forwarded under the hub's own numbering */
                zmq_msg_send(&f[i].data, up, 0);
                zmq_msg_close(&f[i].data);
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            uint8_t ack[8];
            long recs = 0;
            while (zmq_recv(up, ack, sizeof ack, ZMQ_DONTWAIT) == 8) {
                acked_seq = bu_get64(ack);
                recs++;
            }
            s_exec(db, "BEGIN");
            sqlite3_bind_int64(cur, 1, (sqlite3_int64) acked_seq);
            if (sqlite3_step(cur) != SQLITE_DONE) {
                return 1;
            }
            sqlite3_reset(cur);
            s_exec(db, "COMMIT");
            acked += recs;
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(cur);
    sqlite3_close(db);
    free(f);
    zmq_close(r);
    zmq_close(up);
    zmq_ctx_term(ctx);
    return 0;
}

/* The stations: one DEALER each, `window` frames of `batch` records in
 * flight; each record a 16-byte time-ordered key (big-endian counter, then
 * the station) and payload bytes cut from noise. Returns when every frame
 * is acked by its hub. */
static int
s_stations(const fopts_t *o, const int *hub_ports, const keypair_t *hub_keys)
{
    void *ctx = zmq_ctx_new();
    void **d = calloc((size_t) o->stations, sizeof *d);
    long *sent = calloc((size_t) o->stations, sizeof *sent);
    long *acked = calloc((size_t) o->stations, sizeof *acked);
    zmq_pollitem_t *items = calloc((size_t) o->stations, sizeof *items);
    long frames = (o->n + o->batch - 1) / o->batch;
    size_t flen = 8 + (size_t) o->batch * (size_t) o->bytes;
    uint8_t *buf = malloc(flen);
    static uint8_t noise[1 << 16];
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (uint8_t) (x >> 24);
    }
    for (int s = 0; s < o->stations; s++) {
        keypair_t me;
        zmq_curve_keypair(me.pk, me.sk);
        char ep[64];
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", hub_ports[s % o->hubs]);
        d[s] = zmq_socket(ctx, ZMQ_DEALER);
        s_sockopts(d[s]);
        s_client(d[s], &hub_keys[s % o->hubs], &me);
        if (zmq_connect(d[s], ep) != 0) {
            return 1;
        }
        items[s] = (zmq_pollitem_t){d[s], 0, ZMQ_POLLIN, 0};
    }
    uint64_t key = 0;
    long done = 0;
    while (done < o->stations) {
        for (int s = 0; s < o->stations; s++) {
            while (sent[s] < frames && sent[s] - acked[s] < o->window) {
                bu_put64(buf, (uint64_t) ++sent[s]);
                for (int i = 0; i < o->batch; i++) {
                    uint8_t *rec = buf + 8 + (size_t) i * (size_t) o->bytes;
                    bu_put64(rec, ++key);
                    bu_put64(rec + 8, (uint64_t) s);
                    memcpy(rec + 16, noise + (key * 64) % (sizeof noise - (size_t) o->bytes),
                           (size_t) o->bytes - 16);
                }
                if (zmq_send(d[s], buf, flen, 0) < 0) {
                    return 1;
                }
            }
        }
        if (zmq_poll(items, o->stations, 1000) < 0 && errno != EINTR) {
            return 1;
        }
        for (int s = 0; s < o->stations; s++) {
            uint8_t ack[8];
            while (zmq_recv(d[s], ack, sizeof ack, ZMQ_DONTWAIT) == 8) {
                if (++acked[s] == frames) {
                    done++;
                }
            }
        }
    }
    for (int s = 0; s < o->stations; s++) {
        zmq_close(d[s]);
    }
    zmq_ctx_term(ctx);
    free(d);
    free(sent);
    free(acked);
    free(items);
    free(buf);
    return 0;
}

static void
s_usage(FILE *f)
{
    fprintf(f, "usage: bench_floor [--stations S] [--hubs H] [--n N] [--batch B] [--bytes R]"
               " [--window W] [--json PATH]\n"
               "  the least a durable three-tier chain costs here (see the source's head)\n"
               "  --stations 8, --hubs 2, --n 25000 records per station, --batch 256 records\n"
               "  per frame, --bytes 308 per record, --window 16 frames in flight\n");
}

int
main(int argc, char **argv)
{
    fopts_t o = {.stations = 8, .hubs = 2, .batch = 256, .bytes = 308, .window = 16, .n = 25000};
    static const struct option longs[] = {
        {"stations", 1, 0, 's'}, {"hubs", 1, 0, 'H'},  {"n", 1, 0, 'n'},
        {"batch", 1, 0, 'b'},    {"bytes", 1, 0, 'B'}, {"window", 1, 0, 'w'},
        {"json", 1, 0, 'j'},     {"help", 0, 0, 'h'},  {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 's':
            o.stations = atoi(optarg);
            break;
        case 'H':
            o.hubs = atoi(optarg);
            break;
        case 'n':
            o.n = atol(optarg);
            break;
        case 'b':
            o.batch = atoi(optarg);
            break;
        case 'B':
            o.bytes = atoi(optarg);
            break;
        case 'w':
            o.window = atoi(optarg);
            break;
        case 'j':
            o.json = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (o.stations < 1 || o.stations > MAX_STATIONS || o.hubs < 1 || o.hubs > MAX_HUBS
        || o.hubs > o.stations || o.n < 1 || o.batch < 1 || o.bytes < 24 || o.bytes > 4096
        || o.window < 1) {
        s_usage(stderr);
        return 2;
    }
    o.n = (o.n + o.batch - 1) / o.batch * o.batch; /* whole frames */
    char dir[256];
    if (!bu_mkdtemp("floor", dir, sizeof dir)) {
        return 1;
    }
    keypair_t county_k, hub_k[MAX_HUBS];
    zmq_curve_keypair(county_k.pk, county_k.sk);
    int ports[MAX_HUBS + 1] = {0};
    for (int i = 0; i <= o.hubs; i++) {
        ports[i] = bu_free_port(ports, i);
        if (i < o.hubs) {
            zmq_curve_keypair(hub_k[i].pk, hub_k[i].sk);
        }
    }
    long total = o.n * o.stations;
    char county_ep[64], path[512];
    snprintf(county_ep, sizeof county_ep, "tcp://127.0.0.1:%d", ports[o.hubs]);
    int pfd[2];
    if (pipe(pfd) != 0) {
        return 1;
    }
    pid_t pids[MAX_HUBS + 1];
    snprintf(path, sizeof path, "%s/county.db", dir);
    if ((pids[0] = fork()) == 0) {
        close(pfd[0]);
        _exit(s_county(county_ep, path, &county_k, total, o.bytes, pfd[1]));
    }
    close(pfd[1]);
    for (int h = 0; h < o.hubs; h++) {
        int st = o.stations / o.hubs + (h < o.stations % o.hubs);
        long frames = (long) st * (o.n / o.batch);
        char ep[64];
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", ports[h]);
        snprintf(path, sizeof path, "%s/hub%d.db", dir, h);
        if ((pids[h + 1] = fork()) == 0) {
            close(pfd[0]);
            _exit(s_hub(ep, county_ep, path, &hub_k[h], &county_k, frames, o.bytes));
        }
    }
    for (int i = 0; i <= o.hubs; i++) {
        for (int tries = 0; !bu_port_open(ports[i]); tries++) {
            if (tries > 500) {
                fprintf(stderr, "bench_floor: port %d never opened\n", ports[i]);
                return 1;
            }
            bu_sleep_ms(10);
        }
    }
    struct rusage self0, self1;
    getrusage(RUSAGE_SELF, &self0);
    double t0 = s_mono();
    int rc = s_stations(&o, ports, hub_k);
    double t_hubs = s_mono();
    getrusage(RUSAGE_SELF, &self1);
    double t[3] = {0, 0, 0};
    if (rc != 0 || read(pfd[0], t, sizeof t) != (ssize_t) sizeof t) {
        fprintf(stderr, "bench_floor: the chain did not finish\n");
        for (int i = 0; i <= o.hubs; i++) {
            kill(pids[i], SIGKILL);
        }
        rc = 1;
    }
    double cpu[2] = {0, 0}; /* county, hubs */
    for (int i = 0; i <= o.hubs; i++) {
        int status = 0;
        struct rusage ru;
        if (wait4(pids[i], &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
            rc = 1;
        }
        cpu[i ? 1 : 0] += bu_ru_cpu_s(&ru);
    }
    if (rc != 0) {
        bu_rm_rf(dir);
        return 1;
    }
    double steady = (double) (total - total / 10 - total / 10) / (t[1] - t[0]);
    double overall = (double) total / (t[2] - t0);
    snprintf(path, sizeof path, "%s/baseline.db", dir);
    double sql = bu_sqlite_baseline(path, total, o.bytes - 16, 10000);
    double st_cpu = bu_ru_cpu_s(&self1) - bu_ru_cpu_s(&self0);
    printf("floor: %d stations -> %d hubs -> county, %ld records of %d B in frames of %d,"
           " CURVE, synchronous=FULL at hub and county\n",
           o.stations, o.hubs, total, o.bytes, o.batch);
    printf("  %.0f records/s steady (10%%..90%%), %.0f overall; at the hubs after %.2f s\n", steady,
           overall, t_hubs - t0);
    printf("  CPU per record: county %.2f us, hubs %.2f us, stations %.2f us\n",
           cpu[0] / (double) total * 1e6, cpu[1] / (double) total * 1e6,
           st_cpu / (double) total * 1e6);
    printf("  raw SQLite limit in the same run: %.0f rows/s: the floor is %.0f%% of it\n", sql,
           sql > 0 ? 100 * steady / sql : 0);
    if (o.json) {
        bu_mkdir_parent(o.json);
        FILE *f = fopen(o.json, "w");
        if (f) {
            fprintf(f,
                    "{\"scenario\": \"floor\", \"stations\": %d, \"hubs\": %d, \"records\": %ld,"
                    " \"bytes\": %d, \"batch\": %d, \"steady_per_s\": %.1f,"
                    " \"overall_per_s\": %.1f, \"county_cpu_us\": %.3f, \"hubs_cpu_us\": %.3f,"
                    " \"stations_cpu_us\": %.3f, \"sqlite_rows_per_s\": %.1f}\n",
                    o.stations, o.hubs, total, o.bytes, o.batch, steady, overall,
                    cpu[0] / (double) total * 1e6, cpu[1] / (double) total * 1e6,
                    st_cpu / (double) total * 1e6, sql);
            fclose(f);
        }
    }
    bu_rm_rf(dir);
    return 0;
}
