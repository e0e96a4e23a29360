/* bench_load: the sanji load generator. Real daemons (county-server, one
 * township-hub per township, CURVE keys enrolled on every link, each in its
 * own temporary data directory), and the village stations simulated inside
 * this one process: one DEALER, one key pair and one sj_uplink per station,
 * speaking the real link protocol.
 *
 * Station stores. "mem" (throughput, backlog, many): each station's events
 * are made before the clock starts, exactly as a station makes them (UUIDv7
 * id, origin, epoch, origin_seq 1..n, the BLAKE2b chain over the packed
 * bytes, created_ms), and handed to the uplink from memory, so that the two
 * cores of the machine serve the hubs and the county, as they would in the
 * field where every station is its own machine. "store" (latency): each
 * station is a thread with its own agent_store (the station's real SQLite
 * outbox, synchronous=FULL): a report is submitted with agent_store_add in its
 * own transaction (which stamps created_ms), then delivered.
 *
 * Scenarios (one per run; JSON to --json):
 *   throughput  N stations -> H hubs -> county; reports/s committed at the
 *               county (count polled as max(eid) of the county's events,
 *               cheap: no table scan), steady rate between 10% and 90% of
 *               the reports, and overall; CPU of every role.
 *   latency     R reports/s spread over the stations for S seconds;
 *               received_ms (county) - created_ms (station), p50/p99/max,
 *               read from the county database afterwards.
 *   backlog     one hub, the county down: N reports delivered to the hub from
 *               the stations; then the county starts and the time until it
 *               holds them all is measured, with hub and county RSS (VmRSS
 *               sampled every 50 ms, VmHWM at the end).
 *   many        a whole county: H hubs and N stations, each station
 *               delivering its reports; reports/s and CPU of hubs and county.
 *
 * Not a ctest test: scripts/bench.sh runs it on a Release build. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "agent_store.h"
#include "bench_util.h"
#include "sj_auth.h"
#include "sj_enrol.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_log.h"
#include "sj_wire.h"

#define MAX_HUBS     32
#define MAX_STATIONS 512
#define MAX_SAMPLES  200000
#define READY_MS     20000

typedef enum { SC_THROUGHPUT, SC_LATENCY, SC_BACKLOG, SC_MANY } scenario_t;

typedef struct {
    scenario_t sc;
    int hubs;
    int stations;
    long per_station; /* reports per station (throughput, many) */
    long total;       /* backlog: reports in all */
    double rate;      /* latency: reports per second */
    double seconds;   /* latency: how long */
    int timeout_s;
    int keep;
    const char *json;
    const char *perf_dir; /* perf record -g of the county and hub 0 while timed */
    const char *county_bin, *hub_bin;
} opts_t;

typedef struct {
    char code[SJ_CODE_MAX + 1];
    int hub;
    sj_keypair_t kp;
    uint8_t epoch[SJ_EPOCH_BYTES];
    /* mem store: events 1..n; raw[i] is seq i + 1 */
    uint8_t **raw;
    uint32_t *len;
    uint64_t n;
    uint64_t head;  /* visible to the uplink */
    uint64_t acked; /* hub's ack */
    uint64_t e2e;   /* county's receipt */
    sj_uplink_t *up;
    /* store (latency) */
    agent_store_t *st;
    pthread_t thread;
    double max_lag_s; /* how late the generator submitted, worst case */
    long submitted;
    int failed;
} station_t;

typedef struct {
    opts_t o;
    char dir[4096];
    void *zctx;
    char county_dir[4200], county_ep[64];
    int county_port;
    sj_keypair_t county_kp;
    pid_t county_pid;
    char hub_dir[MAX_HUBS][4200], hub_ep[MAX_HUBS][64], township[MAX_HUBS][10];
    sj_keypair_t hub_kp[MAX_HUBS];
    pid_t hub_pid[MAX_HUBS];
    int n_hubs, n_stations;
    station_t *st;
    sqlite3 *cdb; /* read-only county connection */
    pid_t perf_pid[2];
    char perf_data[2][4300];
} net_t;

static volatile sig_atomic_t s_stop = 0;
static void
s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
}

/* ---- reports as stations make them ---- */

static const char *const s_summaries[][2] = {
    {"land", "土地承包纠纷，村民小组重新调整承包地引发争议，涉及二轮延包地块面积与合同不符"},
    {"land", "宅基地边界争议，邻户砌墙占用通道，双方多次协商未果，要求村委会出面丈量确权"},
    {"enterprise_restructuring",
     "企业改制职工安置及经济补偿金未落实，原厂职工集体反映身份置换补偿"},
    {"employment", "拖欠工资，建筑工地农民工三个月工资未结，包工头失联，要求总包单位垫付"},
    {"employment", "工伤赔偿争议，用人单位拒绝认定工伤，劳动者要求依法认定并支付医疗费用"},
    {"housing_demolition", "房屋拆迁补偿标准争议，要求按市场价评估，对评估机构选定程序有异议"},
    {"housing_demolition", "棚户区改造安置房分配不公，反映楼层抽签过程不透明，要求公开结果"},
    {"other", "邻里纠纷，排水沟堵塞致农田受淹，要求对方恢复原状并赔偿当季作物损失"},
    {"other", "低保资格认定有异议，家庭收入核算有误，申请复核并要求说明不予认定理由"},
};

static int
s_enum(sj_field_t f, const char *name)
{
    return sj_enum_value(f, name);
}

/* Fills ev's report fields for the k-th of n reports of a station (varied
 * like a real station's: channels, levels, outcomes, collective visits; the
 * occurred date rises over 2024 as a station records matters soon after
 * they happen). */
static void
s_fill_report(sj_event_t *ev, unsigned long k, unsigned long n, int seed)
{
    static const char *const channels[] = {"visit", "visit", "letter", "visit", "phone", "mailbox"};
    static const char *const levels[] = {"village",  "township", "village",  "county",
                                         "township", "city",     "province", "capital"};
    static const char *const outcomes[] = {"resolved_on_spot", "pending", "accepted", "closed",
                                           "withdrawn"};
    static const char *const sources[] = {"direct", "leader_reception", "assigned", "review"};
    static const int visit_persons[] = {1, 3, 6, 2, 12, 1, 4, 25, 2};
    unsigned long x = k * 7UL + (unsigned long) seed * 13UL;
    const char *const *sm = s_summaries[x % (sizeof s_summaries / sizeof s_summaries[0])];
    const char *channel = channels[x % 6];
    int persons = strcmp(channel, "visit") == 0 ? visit_persons[(x / 6) % 9] : 1;
    memset(ev, 0, sizeof *ev);
    ev->type = SJ_EVENT_REPORT;
    sj_uuid7_new(ev->id);
    sj_report_t *r = &ev->report;
    static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int day = (int) (k * 366 / (n ? n : 1)) % 366, month = 0; /* day of 2024, 0-based */
    while (day >= month_days[month]) {
        day -= month_days[month++];
    }
    char date[32];
    snprintf(date, sizeof date, "2024-%02d-%02d", month + 1, day + 1);
    memcpy(r->occurred_on, date, sizeof r->occurred_on - 1);
    r->occurred_on[sizeof r->occurred_on - 1] = '\0';
    r->channel = s_enum(SJ_FIELD_CHANNEL, channel);
    r->persons = (uint32_t) persons;
    r->kind = s_enum(SJ_FIELD_KIND, persons >= 5 ? "collective" : "individual");
    r->level = s_enum(SJ_FIELD_LEVEL, levels[(x / 3) % 8]);
    r->category = s_enum(SJ_FIELD_CATEGORY, sm[0]);
    r->outcome = s_enum(SJ_FIELD_OUTCOME, outcomes[(x / 5) % 5]);
    r->source = s_enum(SJ_FIELD_SOURCE, sources[(x / 11) % 4]);
    /* about 300 bytes packed in all, as the brief of the benchmark asks */
    snprintf(ev->summary, sizeof ev->summary, "%s（第%05lu号，信息员已现场登记并告知办理时限）",
             sm[1], k % 100000);
    snprintf(ev->officer, sizeof ev->officer, "信息员-%03lu", (unsigned long) seed * 100 + x % 17);
    r->summary = ev->summary;
    r->officer = ev->officer;
}

/* Makes a mem station's n events (origin, epoch, seq, chain, created_ms). */
static int
s_make_events(station_t *s, uint64_t n, int seed)
{
    s->raw = calloc(n, sizeof *s->raw);
    s->len = calloc(n, sizeof *s->len);
    sj_event_t *ev = malloc(sizeof *ev);
    if (!s->raw || !s->len || !ev) {
        free(ev);
        return -1;
    }
    uint8_t prev[SJ_HASH_BYTES] = {0};
    for (uint64_t i = 0; i < n; i++) {
        s_fill_report(ev, (unsigned long) i, (unsigned long) n, seed);
        snprintf(ev->origin, sizeof ev->origin, "%s", s->code);
        memcpy(ev->epoch, s->epoch, SJ_EPOCH_BYTES);
        ev->origin_seq = i + 1;
        memcpy(ev->prev_hash, prev, SJ_HASH_BYTES);
        ev->created_ms = sj_now_ms();
        uint8_t *raw = NULL;
        size_t len = 0;
        if (sj_event_encode(ev, &raw, &len) != SJ_OK) {
            free(ev);
            return -1;
        }
        sj_event_hash(raw, len, prev);
        s->raw[i] = raw;
        s->len[i] = (uint32_t) len;
    }
    free(ev);
    s->n = n;
    return 0;
}

static void
s_free_events(station_t *s)
{
    for (uint64_t i = 0; s->raw && i < s->n; i++) {
        free(s->raw[i]);
    }
    free(s->raw);
    free(s->len);
    s->raw = NULL;
    s->len = NULL;
}

/* sj_uplink_ops_t over the in-memory events. */
static int
s_mem_fetch(void *ctx,
            uint64_t from,
            size_t max_events,
            size_t max_bytes,
            int (*add)(void *add_ctx, uint64_t seq, const void *raw, size_t len),
            void *add_ctx)
{
    station_t *s = ctx;
    size_t bytes = 0, n = 0;
    for (uint64_t seq = from; seq >= 1 && seq <= s->head && n < max_events; seq++, n++) {
        size_t len = s->len[seq - 1];
        if (bytes && bytes + len > max_bytes) {
            break;
        }
        int rc = add(add_ctx, seq, s->raw[seq - 1], len);
        if (rc != SJ_OK) {
            return rc;
        }
        bytes += len;
    }
    return SJ_OK;
}

static int
s_mem_head(void *ctx, uint64_t *last_seq)
{
    *last_seq = ((station_t *) ctx)->head;
    return SJ_OK;
}

static int
s_mem_acked(void *ctx, uint64_t acked, Sanji__Rejection **rej, size_t n_rej)
{
    station_t *s = ctx;
    (void) rej;
    if (n_rej) {
        fprintf(stderr, "bench_load: station %s: %zu reports rejected by the hub\n", s->code,
                n_rej);
        s->failed = 1;
    }
    if (acked > s->acked) {
        s->acked = acked;
    }
    return SJ_OK;
}

static int
s_mem_receipt(void *ctx, uint64_t e2e)
{
    station_t *s = ctx;
    s->e2e = e2e;
    return SJ_OK;
}

static const sj_uplink_ops_t s_mem_ops = {
    .fetch = s_mem_fetch, .head = s_mem_head, .acked = s_mem_acked, .receipt = s_mem_receipt};

/* ---- the network ---- */

static int
s_keys(const char *dir, sj_keypair_t *kp)
{
    char err[512];
    if (sj_keypair_generate(dir, kp, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "bench_load: keygen in %s: %s\n", dir, err);
        return -1;
    }
    return 0;
}

static int
s_allow(const char *dir, const char *code, const char *pk)
{
    char path[4400], err[512];
    sj_enrol_allowlist_path(dir, path, sizeof path);
    if (sj_allowlist_add(path, code, pk, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "bench_load: enrol %s in %s: %s\n", code, dir, err);
        return -1;
    }
    return 0;
}

/* Directories, keys, enrolment, ports. Stations are spread over the hubs
 * round-robin; township t is 230523(100 + t), its stations 2305231tt2nn. */
static int
s_net_init(net_t *net)
{
    if (!bu_mkdtemp("load", net->dir, sizeof net->dir)) {
        return -1;
    }
    int ports[MAX_HUBS + 1], np = 0;
    net->county_port = bu_free_port(ports, np);
    ports[np++] = net->county_port;
    snprintf(net->county_ep, sizeof net->county_ep, "tcp://127.0.0.1:%d", net->county_port);
    snprintf(net->county_dir, sizeof net->county_dir, "%s/county", net->dir);
    if (s_keys(net->county_dir, &net->county_kp)) {
        return -1;
    }
    for (int h = 0; h < net->n_hubs; h++) {
        int p = bu_free_port(ports, np);
        ports[np++] = p;
        snprintf(net->hub_ep[h], sizeof net->hub_ep[h], "tcp://127.0.0.1:%d", p);
        snprintf(net->township[h], sizeof net->township[h], "230523%03d", (100 + h) % 1000);
        snprintf(net->hub_dir[h], sizeof net->hub_dir[h], "%s/hub-%s", net->dir, net->township[h]);
        if (s_keys(net->hub_dir[h], &net->hub_kp[h])
            || s_allow(net->county_dir, net->township[h], net->hub_kp[h].pk_z85)) {
            return -1;
        }
    }
    net->st = calloc((size_t) net->n_stations, sizeof *net->st);
    if (!net->st) {
        return -1;
    }
    for (int i = 0; i < net->n_stations; i++) {
        station_t *s = &net->st[i];
        s->hub = i % net->n_hubs;
        snprintf(s->code, sizeof s->code, "%.9s%03u", net->township[s->hub],
                 (unsigned) (201 + i / net->n_hubs) % 1000u);
        sj_random16(s->epoch);
        char sdir[4400];
        snprintf(sdir, sizeof sdir, "%s/station-%s", net->dir, s->code);
        if (s_keys(sdir, &s->kp) || s_allow(net->hub_dir[s->hub], s->code, s->kp.pk_z85)) {
            return -1;
        }
    }
    net->zctx = zmq_ctx_new();
    return net->zctx ? 0 : -1;
}

static int
s_start_county(net_t *net)
{
    char *av[] = {(char *) net->o.county_bin,
                  "run",
                  "--data",
                  net->county_dir,
                  "--bind",
                  net->county_ep,
                  NULL};
    net->county_pid = bu_start_daemon(av, net->dir, "county", READY_MS);
    if (net->county_pid < 0) {
        return -1;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/county-server.db", net->county_dir);
    if (sqlite3_open_v2(path, &net->cdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_load: %s: %s\n", path, sqlite3_errmsg(net->cdb));
        return -1;
    }
    sqlite3_busy_timeout(net->cdb, 2000);
    return 0;
}

static int
s_start_hubs(net_t *net)
{
    for (int h = 0; h < net->n_hubs; h++) {
        char name[32];
        snprintf(name, sizeof name, "hub-%s", net->township[h]);
        char *av[] = {(char *) net->o.hub_bin,
                      "run",
                      "--data",
                      net->hub_dir[h],
                      "--code",
                      net->township[h],
                      "--bind",
                      net->hub_ep[h],
                      "--parent",
                      net->county_ep,
                      "--parent-key",
                      net->county_kp.pk_z85,
                      NULL};
        net->hub_pid[h] = bu_start_daemon(av, net->dir, name, READY_MS);
        if (net->hub_pid[h] < 0) {
            return -1;
        }
    }
    return 0;
}

static int
s_uplink(net_t *net, station_t *s)
{
    sj_uplink_cfg_t cfg = {.endpoint = net->hub_ep[s->hub],
                           .code = s->code,
                           .epoch = s->st ? agent_store_epoch(s->st) : s->epoch,
                           .kp = &s->kp,
                           .server_pk = net->hub_kp[s->hub].pk};
    s->up = sj_uplink_new(net->zctx, &cfg, s->st ? &agent_store_uplink_ops : &s_mem_ops,
                          s->st ? (void *) s->st : (void *) s);
    if (!s->up) {
        fprintf(stderr, "bench_load: station %s: cannot set up its uplink\n", s->code);
        return -1;
    }
    return 0;
}

/* Highest eid in the county's events (= reports committed there; no
 * deletes), or -1. Cheap: the rowid B-tree's last entry. */
static long
s_county_count(net_t *net)
{
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (net->cdb
        && sqlite3_prepare_v2(net->cdb, "SELECT coalesce(max(eid), 0) FROM events", -1, &st, NULL)
               == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        n = (long) sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

static void
s_perf_start(net_t *net)
{
    if (!net->o.perf_dir) {
        return;
    }
    mkdir(net->o.perf_dir, 0755);
    pid_t targets[2] = {net->county_pid, net->hub_pid[0]};
    const char *names[2] = {"county", "hub"};
    for (int i = 0; i < 2; i++) {
        char pid[16];
        snprintf(pid, sizeof pid, "%d", (int) targets[i]);
        snprintf(net->perf_data[i], sizeof net->perf_data[i], "%s/%s.perf.data", net->o.perf_dir,
                 names[i]);
        char log[4400];
        snprintf(log, sizeof log, "%s/%s.perf.log", net->o.perf_dir, names[i]);
        char *av[] = {"/usr/bin/perf",   "record", "-g", "-F", "999", "-o",
                      net->perf_data[i], "-p",     pid,  NULL};
        net->perf_pid[i] = bu_spawn(av, NULL, log);
    }
    bu_sleep_ms(300); /* let perf attach */
}

static void
s_perf_stop(net_t *net)
{
    for (int i = 0; i < 2; i++) {
        if (net->perf_pid[i] > 0) {
            kill(net->perf_pid[i], SIGINT);
            waitpid(net->perf_pid[i], NULL, 0);
            net->perf_pid[i] = 0;
        }
    }
}

static void
s_net_close(net_t *net, int failed)
{
    s_perf_stop(net);
    for (int i = 0; net->st && i < net->n_stations; i++) {
        station_t *s = &net->st[i];
        sj_uplink_destroy(&s->up);
        agent_store_close(&s->st);
        s_free_events(s);
        sodium_memzero(&s->kp, sizeof s->kp);
    }
    if (net->zctx) {
        zmq_ctx_term(net->zctx);
    }
    sqlite3_close(net->cdb);
    for (int h = 0; h < net->n_hubs; h++) {
        if (net->hub_pid[h] > 0) {
            bu_stop(net->hub_pid[h], NULL);
        }
    }
    if (net->county_pid > 0) {
        bu_stop(net->county_pid, NULL);
    }
    free(net->st);
    if (net->dir[0]) {
        if (net->o.keep || failed) {
            fprintf(stderr, "bench_load: kept %s\n", net->dir);
        } else {
            bu_rm_rf(net->dir);
        }
    }
}

/* ---- the station loop (mem stations, one thread) ---- */

typedef struct {
    double t;
    long n;
} sample_t;

typedef struct {
    double t0;         /* stations started */
    double t_hubs;     /* every station acked by its hub */
    double t_county;   /* the county holds `want` */
    long want;         /* county count to reach; 0 = do not watch the county */
    sample_t *samples; /* county count over time */
    size_t n_samples;
} pump_t;

/* Runs every mem station's uplink until each is acked through its head and,
 * when p->want, the county holds p->want reports. 0, or -1 on timeout or
 * failure. */
static int
s_pump(net_t *net, pump_t *p)
{
    int n = net->n_stations;
    zmq_pollitem_t *items = calloc((size_t) n, sizeof *items);
    if (!items) {
        return -1;
    }
    double last_poll = 0, deadline = p->t0 + net->o.timeout_s;
    int rc = -1;
    for (;;) {
        int all_acked = 1;
        for (int i = 0; i < n; i++) {
            station_t *s = &net->st[i];
            if (sj_uplink_tick(s->up) != SJ_OK || s->failed) {
                fprintf(stderr, "bench_load: station %s failed\n", s->code);
                goto out;
            }
            all_acked &= s->acked >= s->head;
            items[i].socket = sj_uplink_socket(s->up);
            items[i].events = ZMQ_POLLIN;
            items[i].revents = 0;
        }
        double now = bu_now_s();
        if (all_acked && p->t_hubs == 0) {
            p->t_hubs = now - p->t0;
        }
        if (now - last_poll >= 0.02 || (all_acked && !p->want)) {
            last_poll = now;
            if (p->want) {
                long c = s_county_count(net);
                if (p->samples && p->n_samples < MAX_SAMPLES) {
                    p->samples[p->n_samples++] = (sample_t){now - p->t0, c};
                }
                if (c >= p->want) {
                    p->t_county = now - p->t0;
                    rc = 0;
                    break;
                }
            } else if (all_acked) {
                rc = 0;
                break;
            }
        }
        if (now > deadline || s_stop) {
            long c = p->want ? s_county_count(net) : 0;
            fprintf(stderr, "bench_load: %s after %.0f s (county has %ld of %ld)\n",
                    s_stop ? "stopped" : "timeout", now - p->t0, c, p->want);
            goto out;
        }
        if (zmq_poll(items, n, 2) < 0 && errno != EINTR) {
            goto out;
        }
        for (int i = 0; i < n; i++) {
            if (items[i].revents & ZMQ_POLLIN) {
                if (sj_uplink_on_readable(net->st[i].up) != SJ_OK) {
                    fprintf(stderr, "bench_load: station %s: uplink failure\n", net->st[i].code);
                    goto out;
                }
            }
        }
    }
out:
    free(items);
    return rc;
}

/* Steady rate: reports per second between the first samples at or above
 * 10% and 90% of want. */
static double
s_steady_rate(const pump_t *p)
{
    const sample_t *a = NULL, *b = NULL;
    for (size_t i = 0; i < p->n_samples; i++) {
        if (!a && p->samples[i].n >= p->want / 10) {
            a = &p->samples[i];
        }
        if (!b && p->samples[i].n >= p->want * 9 / 10) {
            b = &p->samples[i];
        }
    }
    if (!a || !b || b->t <= a->t) {
        return 0; /* too short to tell: the caller uses the overall rate */
    }
    return (double) (b->n - a->n) / (b->t - a->t);
}

static double
s_self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return bu_ru_cpu_s(&ru);
}

static double
s_avg_event_bytes(const net_t *net)
{
    double sum = 0;
    long cnt = 0;
    for (int i = 0; i < net->n_stations; i++) {
        for (uint64_t k = 0; k < net->st[i].n; k++) {
            sum += net->st[i].len[k];
            cnt++;
        }
    }
    return cnt ? sum / (double) cnt : 0;
}

static FILE *
s_json_open(const char *path)
{
    bu_mkdir_parent(path);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_load: %s: %s\n", path, strerror(errno));
    }
    return f;
}

/* throughput and many: the same measurement, different shapes. */
static int
s_run_flow(net_t *net)
{
    const opts_t *o = &net->o;
    long total = o->per_station * net->n_stations;
    fprintf(stderr, "bench_load: %s: %d stations -> %d hubs -> county, %ld reports each (%ld)\n",
            o->sc == SC_MANY ? "many" : "throughput", net->n_stations, net->n_hubs, o->per_station,
            total);
    for (int i = 0; i < net->n_stations; i++) {
        if (s_make_events(&net->st[i], (uint64_t) o->per_station, i + 1)) {
            fprintf(stderr, "bench_load: out of memory making events\n");
            return -1;
        }
    }
    double avg_bytes = s_avg_event_bytes(net);
    if (s_start_county(net) || s_start_hubs(net)) {
        return -1;
    }
    for (int i = 0; i < net->n_stations; i++) {
        if (s_uplink(net, &net->st[i])) {
            return -1;
        }
    }
    pump_t p = {.want = total, .samples = calloc(MAX_SAMPLES, sizeof(sample_t))};
    if (!p.samples) {
        return -1;
    }
    double cpu0_county = bu_proc_cpu_s(net->county_pid), cpu0_hubs = 0;
    long long wr0_county = bu_proc_io_write(net->county_pid), wr0_hubs = 0;
    for (int h = 0; h < net->n_hubs; h++) {
        cpu0_hubs += bu_proc_cpu_s(net->hub_pid[h]);
        wr0_hubs += bu_proc_io_write(net->hub_pid[h]);
    }
    s_perf_start(net);
    double cpu0_self = s_self_cpu_s(), busy0 = bu_sys_busy_s();
    p.t0 = bu_now_s();
    for (int i = 0; i < net->n_stations; i++) {
        net->st[i].head = net->st[i].n; /* all queued at once */
    }
    int rc = s_pump(net, &p);
    double cpu_self = s_self_cpu_s() - cpu0_self, busy = bu_sys_busy_s() - busy0;
    double cpu_county = bu_proc_cpu_s(net->county_pid) - cpu0_county, cpu_hubs = -cpu0_hubs;
    long long wr_county = bu_proc_io_write(net->county_pid) - wr0_county, wr_hubs = -wr0_hubs;
    for (int h = 0; h < net->n_hubs; h++) {
        cpu_hubs += bu_proc_cpu_s(net->hub_pid[h]);
        wr_hubs += bu_proc_io_write(net->hub_pid[h]);
    }
    s_perf_stop(net);
    if (rc != 0) {
        free(p.samples);
        return -1;
    }
    /* What other programs used of the machine meanwhile (perf, if on, too). */
    double others = busy - cpu_self - cpu_county - cpu_hubs;
    double others_pct = 100 * (others > 0 ? others : 0) / p.t_county;
    long rss_c, hwm_c, rss_h, hwm_h, hwm_hub_max = 0;
    bu_proc_mem(net->county_pid, &rss_c, &hwm_c);
    for (int h = 0; h < net->n_hubs; h++) {
        bu_proc_mem(net->hub_pid[h], &rss_h, &hwm_h);
        hwm_hub_max = hwm_h > hwm_hub_max ? hwm_h : hwm_hub_max;
    }
    double overall = (double) total / p.t_county, steady = s_steady_rate(&p);
    if (steady <= 0) {
        steady = overall;
    }
    /* The raw SQLite limit, measured in the same run on the same disk, with
     * the daemons idle: the same number of rows, 16-byte time-ordered key +
     * the average event size, 10,000-row transactions, WAL, FULL. */
    double sqlite_rate = 0, sqlite_wr = 0;
    if (o->sc == SC_THROUGHPUT) {
        char path[4400];
        snprintf(path, sizeof path, "%s/baseline.db", net->dir);
        long long wr0 = bu_proc_io_write(getpid());
        sqlite_rate = bu_sqlite_baseline(path, total, (int) (avg_bytes + 0.5), 10000);
        sqlite_wr = (double) (bu_proc_io_write(getpid()) - wr0) / (double) total;
        if (sqlite_rate < 0) {
            free(p.samples);
            return -1;
        }
        printf("  raw SQLite limit (WAL, synchronous=FULL, 16 KiB pages, 10,000-row transactions,"
               " %.0f B rows):"
               " %.0f rows/s, %.0f B written to storage per row\n",
               avg_bytes, sqlite_rate, sqlite_wr);
    }
    printf("%s: %ld reports (%.0f B each on average): at the hubs after %.2f s, at the county "
           "after %.2f s\n  %.0f reports/s overall, %.0f reports/s steady (10%%..90%%)\n"
           "  CPU s: county %.2f, hubs %.2f, stations (this process) %.2f over %.2f s wall\n"
           "  written to storage per report: county %.0f B, hubs %.0f B\n"
           "  other programs used %.0f%% of one CPU meanwhile\n",
           o->sc == SC_MANY ? "many" : "throughput", total, avg_bytes, p.t_hubs, p.t_county,
           overall, steady, cpu_county, cpu_hubs, cpu_self, p.t_county,
           (double) wr_county / (double) total, (double) wr_hubs / (double) total, others_pct);
    FILE *f = s_json_open(o->json);
    if (f) {
        fprintf(
            f,
            "{\"scenario\": \"%s\", \"stations\": %d, \"hubs\": %d, \"reports\": %ld,"
            " \"avg_event_bytes\": %.1f, \"seconds_to_hubs\": %.3f, \"seconds_to_county\": %.3f,"
            " \"reports_per_s\": %.1f, \"steady_reports_per_s\": %.1f,"
            " \"cpu_s\": {\"county\": %.3f, \"hubs\": %.3f, \"stations\": %.3f},"
            " \"cpu_pct_of_core\": {\"county\": %.1f, \"hubs\": %.1f},"
            " \"cpu_us_per_report\": {\"county\": %.2f, \"hubs\": %.2f},"
            " \"county_hwm_kb\": %ld, \"hub_hwm_kb_max\": %ld, \"curve\": true,"
            " \"write_bytes_per_report\": {\"county\": %.0f, \"hubs\": %.0f},"
            " \"station_store\": \"mem\", \"sqlite_rows_per_s\": %.1f,"
            " \"sqlite_write_bytes_per_row\": %.0f, \"others_cpu_pct\": %.1f,"
            " \"sqlite_txn_rows\": 10000, \"sqlite_version\": \"%s\"}\n",
            o->sc == SC_MANY ? "many" : "throughput", net->n_stations, net->n_hubs, total,
            avg_bytes, p.t_hubs, p.t_county, overall, steady, cpu_county, cpu_hubs, cpu_self,
            100 * cpu_county / p.t_county, 100 * cpu_hubs / p.t_county,
            1e6 * cpu_county / (double) total, 1e6 * cpu_hubs / (double) total, hwm_c, hwm_hub_max,
            (double) wr_county / (double) total, (double) wr_hubs / (double) total, sqlite_rate,
            sqlite_wr, others_pct, sqlite3_libversion());
        fclose(f);
    }
    free(p.samples);
    return 0;
}

/* ---- latency: station threads with real outboxes ---- */

typedef struct {
    net_t *net;
    station_t *s;
    int index;
    double t0;
    long per_station;
} lat_arg_t;

static void *
s_lat_station(void *arg)
{
    lat_arg_t *a = arg;
    station_t *s = a->s;
    const opts_t *o = &a->net->o;
    double interval = (double) a->net->n_stations / o->rate;
    double offset = (double) a->index / o->rate;
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        s->failed = 1;
        return NULL;
    }
    long k = 0;
    double deadline = a->t0 + o->seconds + o->timeout_s;
    while (!s_stop) {
        double now = bu_now_s();
        if (k < a->per_station && a->t0 + offset + (double) k * interval <= now) {
            double lag = now - (a->t0 + offset + (double) k * interval);
            s->max_lag_s = lag > s->max_lag_s ? lag : s->max_lag_s;
            /* one report, one transaction: as 'village-agent submit' stores it */
            s_fill_report(ev, (unsigned long) k, (unsigned long) a->per_station, a->index + 1);
            int dup = 0;
            int rc = agent_store_begin(s->st);
            if (rc == SJ_OK) {
                rc = agent_store_add(s->st, ev, &dup, NULL);
            }
            if (rc == SJ_OK) {
                rc = agent_store_commit(s->st);
            }
            if (rc != SJ_OK) {
                agent_store_rollback(s->st);
                fprintf(stderr, "bench_load: station %s: submit failed\n", s->code);
                s->failed = 1;
                break;
            }
            k++;
            s->submitted = k;
            continue; /* a late generator catches up before it ticks */
        }
        if (sj_uplink_tick(s->up) != SJ_OK) {
            s->failed = 1;
            break;
        }
        if (k == a->per_station && sj_uplink_acked(s->up) >= (uint64_t) k) {
            break;
        }
        if (now > deadline) {
            fprintf(stderr, "bench_load: station %s: timeout\n", s->code);
            s->failed = 1;
            break;
        }
        double next = k < a->per_station ? a->t0 + offset + (double) k * interval : now + 0.05;
        long wait_ms = (long) ((next - now) * 1000);
        wait_ms = wait_ms < 0 ? 0 : wait_ms > 50 ? 50 : wait_ms;
        zmq_pollitem_t item = {.socket = sj_uplink_socket(s->up), .events = ZMQ_POLLIN};
        int n = zmq_poll(&item, 1, wait_ms);
        if (n > 0 && sj_uplink_on_readable(s->up) != SJ_OK) {
            s->failed = 1;
            break;
        }
    }
    free(ev);
    return NULL;
}

static int
s_read_latencies(sqlite3 *db, const char *sql, double **out, size_t *n_out)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0, cap = 1024;
    double *v = malloc(cap * sizeof *v);
    if (!v || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        free(v);
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            double *v2 = realloc(v, cap * sizeof *v);
            if (!v2) {
                break;
            }
            v = v2;
        }
        v[n++] = (double) sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    qsort(v, n, sizeof *v, bu_cmp_double);
    *out = v;
    *n_out = n;
    return 0;
}

static int
s_run_latency(net_t *net)
{
    const opts_t *o = &net->o;
    long per = (long) (o->rate * o->seconds / net->n_stations + 0.5);
    long total = per * net->n_stations;
    fprintf(stderr,
            "bench_load: latency: %.0f reports/s for %.0f s over %d stations -> %d hubs -> county"
            " (%ld reports, each station its own SQLite outbox)\n",
            o->rate, o->seconds, net->n_stations, net->n_hubs, total);
    for (int i = 0; i < net->n_stations; i++) {
        station_t *s = &net->st[i];
        char sdir[4400], err[512];
        snprintf(sdir, sizeof sdir, "%s/station-%s", net->dir, s->code);
        s->st = agent_store_open(sdir, s->code, SJ_DB_WRITE, err, sizeof err);
        if (!s->st) {
            fprintf(stderr, "bench_load: station %s: %s\n", s->code, err);
            return -1;
        }
    }
    if (s_start_county(net) || s_start_hubs(net)) {
        return -1;
    }
    for (int i = 0; i < net->n_stations; i++) {
        if (s_uplink(net, &net->st[i])) {
            return -1;
        }
    }
    bu_sleep_ms(500); /* handshakes done before the clock starts */
    lat_arg_t *args = calloc((size_t) net->n_stations, sizeof *args);
    if (!args) {
        return -1;
    }
    double cpu0_county = bu_proc_cpu_s(net->county_pid), cpu0_hubs = 0;
    for (int h = 0; h < net->n_hubs; h++) {
        cpu0_hubs += bu_proc_cpu_s(net->hub_pid[h]);
    }
    double t0 = bu_now_s() + 0.05, busy0 = bu_sys_busy_s(), self0 = s_self_cpu_s();
    for (int i = 0; i < net->n_stations; i++) {
        args[i] =
            (lat_arg_t){.net = net, .s = &net->st[i], .index = i, .t0 = t0, .per_station = per};
        pthread_create(&net->st[i].thread, NULL, s_lat_station, &args[i]);
    }
    int failed = 0;
    double max_lag = 0;
    for (int i = 0; i < net->n_stations; i++) {
        pthread_join(net->st[i].thread, NULL);
        failed |= net->st[i].failed;
        max_lag = net->st[i].max_lag_s > max_lag ? net->st[i].max_lag_s : max_lag;
    }
    double t_acked = bu_now_s() - t0;
    free(args);
    if (failed) {
        return -1;
    }
    /* The hubs have it all; wait for the county. */
    double deadline = bu_now_s() + o->timeout_s;
    long c = 0;
    while ((c = s_county_count(net)) < total && bu_now_s() < deadline && !s_stop) {
        bu_sleep_ms(20);
    }
    double t_county = bu_now_s() - t0;
    double busy = bu_sys_busy_s() - busy0, self = s_self_cpu_s() - self0;
    double cpu_county = bu_proc_cpu_s(net->county_pid) - cpu0_county, cpu_hubs = -cpu0_hubs;
    for (int h = 0; h < net->n_hubs; h++) {
        cpu_hubs += bu_proc_cpu_s(net->hub_pid[h]);
    }
    double others = busy - self - cpu_county - cpu_hubs;
    double others_pct = 100 * (others > 0 ? others : 0) / t_county;
    if (c < total) {
        fprintf(stderr, "bench_load: the county has %ld of %ld reports\n", c, total);
        return -1;
    }
    double *lat = NULL, *hlat = NULL;
    size_t n = 0, hn = 0;
    if (s_read_latencies(net->cdb, "SELECT received_ms - created_ms FROM events", &lat, &n)
        || n != (size_t) total) {
        fprintf(stderr, "bench_load: cannot read %ld latencies from the county\n", total);
        free(lat);
        return -1;
    }
    /* the first hop too: station -> hub commit (hub events.received_ms; the
     * hub keeps created_ms only inside raw, so join through the county) */
    for (int h = 0; h < net->n_hubs; h++) {
        char path[4400], sql[4800];
        snprintf(path, sizeof path, "%s/township-hub.db", net->hub_dir[h]);
        snprintf(sql, sizeof sql, "ATTACH DATABASE '%s' AS hub%d", path, h);
        if (sqlite3_exec(net->cdb, sql, NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "bench_load: %s: %s\n", sql, sqlite3_errmsg(net->cdb));
        }
    }
    {
        char sql[8192] = "SELECT h.received_ms - e.created_ms FROM events e JOIN (";
        size_t len = strlen(sql);
        for (int h = 0; h < net->n_hubs; h++) {
            len += (size_t) snprintf(sql + len, sizeof sql - len,
                                     "%sSELECT id, received_ms FROM hub%d.events",
                                     h ? " UNION ALL " : "", h);
        }
        snprintf(sql + len, sizeof sql - len, ") h ON h.id = e.id");
        if (s_read_latencies(net->cdb, sql, &hlat, &hn) != 0) {
            hn = 0;
        }
    }
    double p50 = bu_percentile(lat, n, 50), p90 = bu_percentile(lat, n, 90),
           p99 = bu_percentile(lat, n, 99), mx = lat[n - 1];
    double h50 = hn ? bu_percentile(hlat, hn, 50) : -1, h99 = hn ? bu_percentile(hlat, hn, 99) : -1,
           hmx = hn ? hlat[hn - 1] : -1;
    double achieved = (double) total / o->seconds;
    printf("latency: %ld reports at %.0f/s (generator at most %.1f ms late)\n"
           "  submit -> county commit: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n"
           "  submit -> hub commit:    p50 %.0f ms, p99 %.0f ms, max %.0f ms\n"
           "  all acked by the hubs %.2f s after start, all at the county after %.2f s\n"
           "  CPU s: county %.2f, hubs %.2f, stations (this process) %.2f; other programs used"
           " %.0f%% of one CPU meanwhile\n",
           total, achieved, 1000 * max_lag, p50, p90, p99, mx, h50, h99, hmx, t_acked, t_county,
           cpu_county, cpu_hubs, self, others_pct);
    FILE *f = s_json_open(o->json);
    if (f) {
        fprintf(f,
                "{\"scenario\": \"latency\", \"stations\": %d, \"hubs\": %d, \"reports\": %ld,"
                " \"rate_per_s\": %.1f, \"seconds\": %.1f, \"generator_max_lag_ms\": %.1f,"
                " \"county_ms\": {\"p50\": %.0f, \"p90\": %.0f, \"p99\": %.0f, \"max\": %.0f},"
                " \"hub_ms\": {\"p50\": %.0f, \"p99\": %.0f, \"max\": %.0f},"
                " \"cpu_s\": {\"county\": %.3f, \"hubs\": %.3f, \"stations\": %.3f},"
                " \"others_cpu_pct\": %.1f, \"curve\": true, \"station_store\": \"agent_store\"}\n",
                net->n_stations, net->n_hubs, total, achieved, o->seconds, 1000 * max_lag, p50, p90,
                p99, mx, h50, h99, hmx, cpu_county, cpu_hubs, self, others_pct);
        fclose(f);
    }
    free(lat);
    free(hlat);
    return 0;
}

/* ---- backlog: the county down, then up ---- */

static int
s_run_backlog(net_t *net)
{
    const opts_t *o = &net->o;
    long per = o->total / net->n_stations;
    long total = per * net->n_stations;
    fprintf(stderr,
            "bench_load: backlog: %ld reports from %d stations into hub %s while the "
            "county is down\n",
            total, net->n_stations, net->township[0]);
    for (int i = 0; i < net->n_stations; i++) {
        if (s_make_events(&net->st[i], (uint64_t) per, i + 1)) {
            fprintf(stderr, "bench_load: out of memory making events\n");
            return -1;
        }
    }
    if (s_start_hubs(net)) {
        return -1;
    }
    for (int i = 0; i < net->n_stations; i++) {
        if (s_uplink(net, &net->st[i])) {
            return -1;
        }
    }
    pump_t p = {.want = 0};
    p.t0 = bu_now_s();
    for (int i = 0; i < net->n_stations; i++) {
        net->st[i].head = net->st[i].n;
    }
    if (s_pump(net, &p) != 0) {
        return -1;
    }
    double t_fill = bu_now_s() - p.t0;
    /* The stations are done; they leave. */
    for (int i = 0; i < net->n_stations; i++) {
        sj_uplink_destroy(&net->st[i].up);
        s_free_events(&net->st[i]);
    }
    bu_sleep_ms(1000);
    long hub_rss_full, hub_hwm_full;
    bu_proc_mem(net->hub_pid[0], &hub_rss_full, &hub_hwm_full);
    printf("backlog: %ld reports queued at the hub in %.1f s (%.0f/s, county down);"
           " hub RSS %ld KiB, peak so far %ld KiB\n",
           total, t_fill, (double) total / t_fill, hub_rss_full, hub_hwm_full);

    /* The county comes back. */
    double cpu0_hub = bu_proc_cpu_s(net->hub_pid[0]), busy0 = bu_sys_busy_s();
    double t0 = bu_now_s();
    char *av[] = {(char *) o->county_bin, "run", "--data", net->county_dir, "--bind",
                  net->county_ep,         NULL};
    net->county_pid = bu_start_daemon(av, net->dir, "county", READY_MS);
    if (net->county_pid < 0) {
        return -1;
    }
    double t_ready = bu_now_s() - t0;
    pid_t pids[2] = {net->hub_pid[0], net->county_pid};
    bu_sampler_t *sampler = bu_sampler_start(pids, 2, 50);
    char path[4400];
    snprintf(path, sizeof path, "%s/county-server.db", net->county_dir);
    if (sqlite3_open_v2(path, &net->cdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        return -1;
    }
    sqlite3_busy_timeout(net->cdb, 2000);
    s_perf_start(net);
    double t_first = 0, t_done = 0, deadline = t0 + o->timeout_s;
    long c = 0;
    while (!s_stop && bu_now_s() < deadline) {
        c = s_county_count(net);
        double now = bu_now_s() - t0;
        if (c > 0 && t_first == 0) {
            t_first = now;
        }
        if (c >= total) {
            t_done = now;
            break;
        }
        bu_sleep_ms(50);
    }
    s_perf_stop(net);
    double cpu_hub = bu_proc_cpu_s(net->hub_pid[0]) - cpu0_hub;
    double cpu_county = bu_proc_cpu_s(net->county_pid);
    double others = bu_sys_busy_s() - busy0 - cpu_hub - cpu_county;
    double others_pct = t_done > 0 ? 100 * (others > 0 ? others : 0) / t_done : 0;
    long peak[2] = {0, 0};
    bu_sampler_stop(&sampler, peak);
    long rss_h, hwm_h, rss_c, hwm_c;
    bu_proc_mem(net->hub_pid[0], &rss_h, &hwm_h);
    bu_proc_mem(net->county_pid, &rss_c, &hwm_c);
    if (t_done == 0) {
        fprintf(stderr, "bench_load: the county has %ld of %ld after %d s\n", c, total,
                o->timeout_s);
        return -1;
    }
    printf("backlog: county up (ready after %.2f s), first report after %.2f s, all %ld after "
           "%.2f s (%.0f/s while draining)\n"
           "  hub: peak RSS while draining %ld KiB, VmHWM %ld KiB; county: peak RSS %ld KiB,"
           " VmHWM %ld KiB\n  CPU s while draining: hub %.2f, county %.2f; other programs used"
           " %.0f%% of one CPU meanwhile\n",
           t_ready, t_first, total, t_done, (double) total / (t_done - t_first), peak[0], hwm_h,
           peak[1], hwm_c, cpu_hub, cpu_county, others_pct);
    FILE *f = s_json_open(o->json);
    if (f) {
        fprintf(f,
                "{\"scenario\": \"backlog\", \"stations\": %d, \"reports\": %ld,"
                " \"fill_s\": %.3f, \"fill_reports_per_s\": %.1f,"
                " \"hub_rss_kb_full\": %ld, \"hub_hwm_kb_after_fill\": %ld,"
                " \"county_ready_s\": %.3f, \"first_report_s\": %.3f, \"drain_s\": %.3f,"
                " \"drain_reports_per_s\": %.1f,"
                " \"hub_peak_rss_kb_draining\": %ld, \"hub_hwm_kb\": %ld,"
                " \"county_peak_rss_kb\": %ld, \"county_hwm_kb\": %ld,"
                " \"cpu_s\": {\"hub\": %.3f, \"county\": %.3f}, \"others_cpu_pct\": %.1f,"
                " \"curve\": true}\n",
                net->n_stations, total, t_fill, (double) total / t_fill, hub_rss_full, hub_hwm_full,
                t_ready, t_first, t_done, (double) total / t_done, peak[0], hwm_h, peak[1], hwm_c,
                cpu_hub, cpu_county, others_pct);
        fclose(f);
    }
    return 0;
}

/* ---- main ---- */

static void
s_usage(FILE *out)
{
    fputs("usage: bench_load SCENARIO [options]\n"
          "scenarios: throughput, latency, backlog, many\n"
          "  --hubs H          hubs (townships)            throughput 2, latency 2, backlog 1, "
          "many 10\n"
          "  --stations N      stations in all            throughput 8, latency 8, backlog 10, "
          "many 95\n"
          "  --n N             reports per station        throughput 25000, many 2000\n"
          "  --total N         backlog: reports in all    1000000\n"
          "  --rate R          latency: reports/s         1000\n"
          "  --seconds S       latency: duration          10\n"
          "  --timeout S       give up after S s (default 300)\n"
          "  --json PATH       results (default: print only)\n"
          "  --perf DIR        perf record -g the county and the first hub while timed\n"
          "  --county/--hub PATH   the binaries (default: this build's)\n"
          "  --keep            keep the temporary directory\n",
          out);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return 2;
    }
    opts_t o = {.timeout_s = 300,
                .county_bin = SANJI_COUNTY_BIN,
                .hub_bin = SANJI_HUB_BIN,
                .rate = 1000,
                .seconds = 10,
                .total = 1000000,
                .json = "/dev/null"};
    const char *sc = argv[1];
    if (strcmp(sc, "throughput") == 0) {
        o.sc = SC_THROUGHPUT, o.hubs = 2, o.stations = 8, o.per_station = 25000;
    } else if (strcmp(sc, "latency") == 0) {
        o.sc = SC_LATENCY, o.hubs = 2, o.stations = 8;
    } else if (strcmp(sc, "backlog") == 0) {
        o.sc = SC_BACKLOG, o.hubs = 1, o.stations = 10;
    } else if (strcmp(sc, "many") == 0) {
        o.sc = SC_MANY, o.hubs = 10, o.stations = 95, o.per_station = 2000;
    } else if (strcmp(sc, "-h") == 0 || strcmp(sc, "--help") == 0) {
        s_usage(stdout);
        return 0;
    } else {
        fprintf(stderr, "bench_load: unknown scenario '%s'\n", sc);
        s_usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--keep") == 0) {
            o.keep = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "bench_load: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--hubs") == 0) {
            o.hubs = atoi(v);
        } else if (strcmp(a, "--stations") == 0) {
            o.stations = atoi(v);
        } else if (strcmp(a, "--n") == 0) {
            o.per_station = atol(v);
        } else if (strcmp(a, "--total") == 0) {
            o.total = atol(v);
        } else if (strcmp(a, "--rate") == 0) {
            o.rate = atof(v);
        } else if (strcmp(a, "--seconds") == 0) {
            o.seconds = atof(v);
        } else if (strcmp(a, "--timeout") == 0) {
            o.timeout_s = atoi(v);
        } else if (strcmp(a, "--json") == 0) {
            o.json = v;
        } else if (strcmp(a, "--perf") == 0) {
            o.perf_dir = v;
        } else if (strcmp(a, "--county") == 0) {
            o.county_bin = v;
        } else if (strcmp(a, "--hub") == 0) {
            o.hub_bin = v;
        } else {
            fprintf(stderr, "bench_load: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (o.hubs < 1 || o.hubs > MAX_HUBS || o.stations < o.hubs || o.stations > MAX_STATIONS
        || (o.stations + o.hubs - 1) / o.hubs > 799 || o.timeout_s < 1
        || ((o.sc == SC_THROUGHPUT || o.sc == SC_MANY) && o.per_station < 1)
        || (o.sc == SC_BACKLOG && o.total < o.stations)
        || (o.sc == SC_LATENCY && (o.rate <= 0 || o.seconds <= 0))) {
        fprintf(stderr, "bench_load: bad numbers (1..%d hubs, hubs..%d stations)\n", MAX_HUBS,
                MAX_STATIONS);
        return 2;
    }
    if (o.sc == SC_BACKLOG) {
        o.hubs = 1;
    }
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    sj_log_set_level(SJ_LOG_WARN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    net_t *net = calloc(1, sizeof *net);
    if (!net) {
        return 1;
    }
    net->o = o;
    net->n_hubs = o.hubs;
    net->n_stations = o.stations;
    int rc = s_net_init(net);
    if (rc == 0) {
        switch (o.sc) {
        case SC_THROUGHPUT:
        case SC_MANY:
            rc = s_run_flow(net);
            break;
        case SC_LATENCY:
            rc = s_run_latency(net);
            break;
        case SC_BACKLOG:
            rc = s_run_backlog(net);
            break;
        }
    }
    s_net_close(net, rc != 0);
    free(net);
    return rc == 0 ? 0 : 1;
}
