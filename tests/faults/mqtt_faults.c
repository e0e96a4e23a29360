/* mqtt_faults: sanji's fault scenarios against the Mosquitto chain, for the
 * side-by-side table of scripts/faults-compare.sh (issue 6). A measurement,
 * not a test: it counts, it does not judge.
 *
 * The chain is tests/bench/mqtt_chain.c's (the one bench_mqtt measures):
 * village -> township -> county brokers bridged (`topic reports/# out 1`,
 * `cleansession false`), persistence true. A libmosquitto publisher (client
 * id fixed, clean session false, QoS 1, 1,000 unacknowledged at most) sends
 * N messages of 300 B to the village broker, each with its own number; a
 * subscriber at the county broker (clean session false, QoS 1, subscribing
 * again at every connect) counts the distinct numbers it receives and the
 * duplicates. Both reconnect every second on their own.
 *
 * Scenarios (the same as tests/faults' for sanji):
 *   backlog-kill  the county broker is stopped (SIGTERM), N messages are
 *                 published and forwarded to the township broker; once the
 *                 township has received them all and held them for
 *                 --hold-s, it is killed with SIGKILL and started again,
 *                 then the county is started again.
 *   random-kill   N messages paced over --kills x 1.75 s; every 0.5-3 s one
 *                 of the three brokers (seeded PRNG) gets SIGKILL and is
 *                 started again at once.
 *   county-away   N messages paced over 3 s + --away-s + 3 s; the county
 *                 broker is stopped (SIGTERM) after 3 s and started again
 *                 after --away-s.
 * Limits: --limits unlimited (max_queued_messages 0, max_inflight_messages
 * 0) or default (Mosquitto's own: 1000 queued, 20 in flight); autosave:
 * Mosquitto's documented default (a snapshot every 1800 s and at a clean
 * exit) unless --autosave S. Bridges: restart_timeout 1 (a reconnect after
 * 1 s instead of the 5-30 s backoff; mosquitto 2.0.11 still backs off to
 * ~20 s after a refused connection: only the recovery time, not the counts,
 * depends on it).
 *
 * The end: every message PUBACKed by the village broker (or 60 s without
 * progress); a probe published then crosses the whole chain (so every bridge
 * is connected again and has passed on what it queued before the probe);
 * then the subscriber holds all N, or nothing new arrived for --settle-s
 * with every broker up. Counted: produced (handed to the
 * publisher), acknowledged by the village broker, at the county once, lost,
 * duplicated (received again).
 *
 *   mqtt_faults backlog-kill|random-kill|county-away [--n N] [--kills K]
 *       [--away-s S] [--hold-s S] [--limits unlimited|default] [--autosave S]
 *       [--settle-s S] [--seed N] [--json PATH] [--keep] */
#include <errno.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mqtt_chain.h"

#define BYTES      300
#define WINDOW     1000
#define GAP_MIN_MS 500
#define GAP_MAX_MS 3000
#define EDGE_MS    3000 /* county-away: publishing before and after the absence */

typedef enum { SC_BACKLOG_KILL, SC_RANDOM_KILL, SC_COUNTY_AWAY } scenario_t;

static const char *const s_scenario_name[] = {"backlog-kill", "random-kill", "county-away"};

typedef struct {
    scenario_t sc;
    long n;
    int kills;
    int away_s;
    int hold_s;
    int settle_s;
    int unlimited;
    int autosave;
    uint64_t seed;
    const char *json;
    int keep;
} opts_t;

typedef struct {
    mc_chain_t ch;
    mc_client_t pub_sh, sub_sh, mon_sh;
    struct mosquitto *pub, *sub, *mon;
    uint8_t payload[BYTES];
    long probes_acked; /* PUBACKs of readiness probes, not counted */
    long published;    /* messages handed to the publisher */
    long no_conn;      /* of those, while it was disconnected */
    long acked;        /* of those, PUBACKed by the village broker in the end */
    int kills, kills_by[MC_BROKERS];
    const opts_t *o;
} run_t;

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
}

static void
s_usage(FILE *f)
{
    fprintf(f, "usage: mqtt_faults backlog-kill|random-kill|county-away [--n N] [--kills K]\n"
               "         [--away-s S] [--hold-s S] [--limits unlimited|default] [--autosave S]\n"
               "         [--settle-s S] [--seed N] [--json PATH] [--keep]\n"
               "The fault scenarios of tests/faults against a Mosquitto village -> township ->\n"
               "county bridge chain; prints produced / at the county once / lost / duplicated.\n");
}

/* splitmix64, as tests/faults/faults.c. */
static int
s_rand_range(uint64_t *state, int lo, int hi)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return lo + (int) ((uint32_t) ((z ^ (z >> 31)) >> 32) % (uint32_t) (hi - lo + 1));
}

static long
s_pubacks(run_t *r)
{
    return mc_get(&r->pub_sh, &r->pub_sh.puback) - r->probes_acked;
}

/* Publishes message number r->published when the window allows (non-blocking
 * beyond 50 ms). 1 when published, 0 when the window is full, -1 on error. */
static int
s_publish_one(run_t *r)
{
    if (mc_wait(&r->pub_sh, &r->pub_sh.puback, r->probes_acked + r->published - WINDOW + 1, 50)
        < r->probes_acked + r->published - WINDOW + 1) {
        return 0;
    }
    mc_seq_put(r->payload, (uint64_t) r->published);
    int prc = mosquitto_publish(r->pub, NULL, MC_TOPIC, BYTES, r->payload, 1, false);
    /* MOSQ_ERR_NO_CONN: queued in the client, sent at the next connect. */
    r->no_conn += prc == MOSQ_ERR_NO_CONN;
    if (prc != MOSQ_ERR_SUCCESS && prc != MOSQ_ERR_NO_CONN) {
        fprintf(stderr, "mqtt_faults: publish: %s\n", mosquitto_strerror(prc));
        return -1;
    }
    r->published++;
    return 1;
}

/* Publishes until `due` messages are out (or the window is full). */
static int
s_publish_due(run_t *r, long due)
{
    due = due > r->o->n ? r->o->n : due;
    while (r->published < due) {
        int k = s_publish_one(r);
        if (k <= 0) {
            return k;
        }
    }
    return 0;
}

static void
s_kill_restart(run_t *r, int b)
{
    int code = mc_broker_stop(&r->ch, b, SIGKILL);
    if (code != 128 + SIGKILL) {
        fprintf(stderr, "mqtt_faults: the %s broker was not running when killed (%d)\n", mc_name[b],
                code);
    }
    r->kills++;
    r->kills_by[b]++;
}

/* Sets the chain up: brokers, subscriber, publisher, a probe through. */
static int
s_setup(run_t *r)
{
    const opts_t *o = r->o;
    mc_conf_t conf = {.max_queued_messages = o->unlimited ? 0 : -1,
                      .max_inflight_messages = o->unlimited ? 0 : -1,
                      .autosave_interval = o->autosave,
                      .sys_interval = 1,
                      .restart_timeout = 1};
    if (mc_client_init(&r->pub_sh, 0, NULL) != 0 || mc_client_init(&r->sub_sh, o->n, "reports/#")
        || mc_client_init(&r->mon_sh, 0, "$SYS/broker/#") != 0) {
        fprintf(stderr, "mqtt_faults: out of memory\n");
        return -1;
    }
    if (mc_chain_init(&r->ch, "mqtt_faults", &conf) != 0) {
        return -1;
    }
    for (int b = 0; b < MC_BROKERS; b++) {
        if (mc_broker_start(&r->ch, b) != 0) {
            return -1;
        }
    }
    for (int i = 0; i < BYTES; i++) {
        r->payload[i] = (uint8_t) (i * 131 + 7);
    }
    r->sub = mc_connect("faults-county-subscriber", 0, &r->sub_sh, r->ch.port[MC_COUNTY], 1000);
    if (!r->sub || mc_wait(&r->sub_sh, &r->sub_sh.subscribed, 1, 5000) < 1) {
        fprintf(stderr, "mqtt_faults: subscriber not set up at the county broker\n");
        return -1;
    }
    r->pub = mc_connect("faults-village-publisher", 0, &r->pub_sh, r->ch.port[MC_VILLAGE], WINDOW);
    if (!r->pub) {
        fprintf(stderr, "mqtt_faults: publisher not connected to the village broker\n");
        return -1;
    }
    if (mc_probe(r->pub, &r->sub_sh, r->payload, BYTES, 30000) != 0) {
        fprintf(stderr, "mqtt_faults: the bridges did not carry a probe in 30 s; see %s\n",
                r->ch.dir);
        return -1;
    }
    /* Every probe sent so far is acknowledged before counting starts. */
    bu_sleep_ms(300);
    r->probes_acked = mc_get(&r->pub_sh, &r->pub_sh.puback);
    return 0;
}

/* Waits until the publisher's messages are all acknowledged (or 60 s pass
 * without one more), then until the subscriber has them all or nothing new
 * came for settle_s with every broker up. */
static int
s_settle(run_t *r)
{
    long last = -1;
    double progress = bu_now_s();
    while (!s_stop && s_pubacks(r) < r->published) {
        long a = s_pubacks(r);
        if (a != last) {
            last = a, progress = bu_now_s();
        } else if (bu_now_s() - progress > 60) {
            fprintf(stderr, "mqtt_faults: %ld of %ld never acknowledged by the village broker\n",
                    r->published - a, r->published);
            break;
        }
        mc_wait(&r->pub_sh, &r->pub_sh.puback, r->probes_acked + r->published, 500);
    }
    r->acked = s_pubacks(r);
    /* The chain works end to end again: a probe sent now crosses it after
     * whatever the brokers still queue before it (each hop is in order). A
     * bridge may take tens of seconds to reconnect. */
    if (mc_probe(r->pub, &r->sub_sh, r->payload, BYTES, 180000) != 0) {
        fprintf(stderr, "mqtt_faults: no probe crossed the chain within 180 s of the end\n");
        return -1;
    }
    double quiet_from = bu_now_s();
    long seen = -1;
    while (!s_stop && mc_get(&r->sub_sh, &r->sub_sh.distinct) < r->o->n) {
        long d = mc_get(&r->sub_sh, &r->sub_sh.distinct) + mc_get(&r->sub_sh, &r->sub_sh.dups);
        int all_up = 1;
        for (int b = 0; b < MC_BROKERS; b++) {
            all_up &= mc_broker_alive(&r->ch, b);
        }
        if (d != seen || !all_up || mc_get(&r->sub_sh, &r->sub_sh.connected) != 1) {
            seen = d, quiet_from = bu_now_s();
        } else if (bu_now_s() - quiet_from >= r->o->settle_s) {
            break;
        }
        bu_sleep_ms(100);
    }
    return 0;
}

static int
s_backlog_kill(run_t *r)
{
    const opts_t *o = r->o;
    r->mon = mc_connect("faults-township-monitor", 1, &r->mon_sh, r->ch.port[MC_TOWNSHIP], 100);
    if (!r->mon) {
        return -1;
    }
    long base = -1;
    double deadline = bu_now_s() + 15;
    while ((base = mc_get(&r->mon_sh, &r->mon_sh.sys_received)) < 0 && bu_now_s() < deadline) {
        bu_sleep_ms(50);
    }
    if (base < 0) {
        fprintf(stderr, "mqtt_faults: the township broker published no $SYS counters in 15 s\n");
        return -1;
    }
    if (mc_broker_stop(&r->ch, MC_COUNTY, SIGTERM) != 0) {
        fprintf(stderr, "mqtt_faults: the county broker did not stop cleanly\n");
        return -1;
    }
    fprintf(stderr, "mqtt_faults: county broker stopped; publishing %ld\n", o->n);
    while (!s_stop && r->published < o->n) {
        if (s_publish_due(r, o->n) < 0) {
            return -1;
        }
    }
    /* The township has received them all ($SYS counter, every second). */
    long want = base + o->n;
    deadline = bu_now_s() + 120;
    while (!s_stop && mc_get(&r->mon_sh, &r->mon_sh.sys_received) < want) {
        if (bu_now_s() > deadline) {
            fprintf(stderr, "mqtt_faults: the township received %ld of %ld in 120 s\n",
                    mc_get(&r->mon_sh, &r->mon_sh.sys_received) - base, o->n);
            return -1;
        }
        bu_sleep_ms(50);
    }
    fprintf(stderr,
            "mqtt_faults: the township broker holds the backlog (received %ld, stored %ld);"
            " %ld acknowledged by the village; killing it in %d s\n",
            mc_get(&r->mon_sh, &r->mon_sh.sys_received) - base,
            mc_get(&r->mon_sh, &r->mon_sh.sys_stored), s_pubacks(r), o->hold_s);
    bu_sleep_ms(o->hold_s * 1000L);
    s_kill_restart(r, MC_TOWNSHIP);
    if (mc_broker_start(&r->ch, MC_TOWNSHIP) != 0 || mc_broker_start(&r->ch, MC_COUNTY) != 0) {
        return -1;
    }
    fprintf(stderr, "mqtt_faults: township killed and restarted; county started again\n");
    return 0;
}

static int
s_random_kill(run_t *r)
{
    const opts_t *o = r->o;
    uint64_t rng = o->seed;
    double span = o->kills * (GAP_MIN_MS + GAP_MAX_MS) / 2000.0;
    double t0 = bu_now_s();
    double next = t0 + s_rand_range(&rng, GAP_MIN_MS, GAP_MAX_MS) / 1000.0;
    while (!s_stop && (r->kills < o->kills || r->published < o->n)) {
        long due = (long) ((double) o->n * (bu_now_s() - t0) / span) + 1;
        if (s_publish_due(r, due) < 0) {
            return -1;
        }
        if (r->kills < o->kills && bu_now_s() >= next) {
            int b = s_rand_range(&rng, 0, MC_BROKERS - 1);
            s_kill_restart(r, b);
            if (mc_broker_start(&r->ch, b) != 0) {
                return -1;
            }
            fprintf(stderr,
                    "mqtt_faults: kill %d/%d at %.1f s: %s (%ld published, %ld acknowledged, %ld"
                    " at the county)\n",
                    r->kills, o->kills, bu_now_s() - t0, mc_name[b], r->published, s_pubacks(r),
                    mc_get(&r->sub_sh, &r->sub_sh.distinct));
            next = bu_now_s() + s_rand_range(&rng, GAP_MIN_MS, GAP_MAX_MS) / 1000.0;
        }
        bu_sleep_ms(5);
    }
    return 0;
}

static int
s_county_away(run_t *r)
{
    const opts_t *o = r->o;
    double span = (2.0 * EDGE_MS) / 1000.0 + o->away_s;
    double t0 = bu_now_s();
    int phase = 0; /* 0 before, 1 away, 2 back */
    while (!s_stop && r->published < o->n) {
        double t = bu_now_s() - t0;
        if (phase == 0 && t >= EDGE_MS / 1000.0) {
            if (mc_broker_stop(&r->ch, MC_COUNTY, SIGTERM) != 0) {
                fprintf(stderr, "mqtt_faults: the county broker did not stop cleanly\n");
                return -1;
            }
            fprintf(stderr, "mqtt_faults: county broker stopped after %ld messages; away %d s\n",
                    r->published, o->away_s);
            phase = 1;
        } else if (phase == 1 && t >= EDGE_MS / 1000.0 + o->away_s) {
            if (mc_broker_start(&r->ch, MC_COUNTY) != 0) {
                return -1;
            }
            fprintf(stderr, "mqtt_faults: county broker back; %ld published, %ld at the county\n",
                    r->published, mc_get(&r->sub_sh, &r->sub_sh.distinct));
            phase = 2;
        }
        if (s_publish_due(r, (long) ((double) o->n * t / span) + 1) < 0) {
            return -1;
        }
        bu_sleep_ms(5);
    }
    while (!s_stop && phase < 2 && bu_now_s() - t0 < EDGE_MS / 1000.0 + o->away_s) {
        bu_sleep_ms(50);
    }
    if (phase < 2 && mc_broker_start(&r->ch, MC_COUNTY) != 0) {
        return -1;
    }
    return 0;
}

static int
s_parse(int argc, char **argv, opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->n = -1, o->kills = 40, o->away_s = 60, o->hold_s = 3, o->settle_s = 10;
    o->unlimited = 1, o->autosave = -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->seed = ((uint64_t) ts.tv_sec * 1000000007u ^ (uint64_t) ts.tv_nsec) % 1000000000000ull;
    if (argc < 2) {
        s_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_usage(stdout);
        return 0;
    }
    int found = 0;
    for (int s = 0; s < 3; s++) {
        if (strcmp(argv[1], s_scenario_name[s]) == 0) {
            o->sc = (scenario_t) s, found = 1;
        }
    }
    if (!found) {
        fprintf(stderr, "mqtt_faults: unknown scenario '%s'\n", argv[1]);
        s_usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--keep") == 0) {
            o->keep = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            s_usage(stdout);
            return 0;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "mqtt_faults: %s needs a value\n", a);
            return 2;
        }
        char *end = NULL;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        int num_ok = errno == 0 && end != v && *end == '\0' && x >= 0 && x <= 100000000;
        if (strcmp(a, "--seed") == 0) {
            errno = 0;
            unsigned long long seed = strtoull(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0' || v[0] == '-') {
                fprintf(stderr, "mqtt_faults: --seed wants a whole number, not '%s'\n", v);
                return 2;
            }
            o->seed = (uint64_t) seed;
        } else if (strcmp(a, "--json") == 0) {
            o->json = v;
        } else if (strcmp(a, "--limits") == 0) {
            if (strcmp(v, "unlimited") == 0 || strcmp(v, "default") == 0) {
                o->unlimited = strcmp(v, "unlimited") == 0;
            } else {
                fprintf(stderr, "mqtt_faults: --limits is unlimited or default, not '%s'\n", v);
                return 2;
            }
        } else if (!num_ok) {
            fprintf(stderr, "mqtt_faults: %s wants a number from 0 to 100000000, not '%s'\n", a, v);
            return 2;
        } else if (strcmp(a, "--n") == 0 && x >= 1) {
            o->n = (long) x;
        } else if (strcmp(a, "--kills") == 0) {
            o->kills = (int) x;
        } else if (strcmp(a, "--away-s") == 0) {
            o->away_s = (int) x;
        } else if (strcmp(a, "--hold-s") == 0) {
            o->hold_s = (int) x;
        } else if (strcmp(a, "--settle-s") == 0 && x >= 1) {
            o->settle_s = (int) x;
        } else if (strcmp(a, "--autosave") == 0) {
            o->autosave = (int) x;
        } else {
            fprintf(stderr, "mqtt_faults: unknown option or bad value: %s %s\n", a, v);
            s_usage(stderr);
            return 2;
        }
    }
    if (o->n < 0) {
        o->n = o->sc == SC_COUNTY_AWAY ? 20000 : 100000;
    }
    return -1;
}

int
main(int argc, char **argv)
{
    opts_t o;
    int prc = s_parse(argc, argv, &o);
    if (prc >= 0) {
        return prc;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    mosquitto_lib_init();
    static run_t r; /* large: the payload and three client states */
    r.o = &o;
    int rc = 1;
    double t0 = bu_now_s();
    fprintf(stderr, "mqtt_faults: %s, %ld messages, limits %s, seed %" PRIu64 "\n",
            s_scenario_name[o.sc], o.n, o.unlimited ? "unlimited" : "default", o.seed);
    if (s_setup(&r) != 0) {
        goto out;
    }
    int src = o.sc == SC_BACKLOG_KILL  ? s_backlog_kill(&r)
              : o.sc == SC_RANDOM_KILL ? s_random_kill(&r)
                                       : s_county_away(&r);
    if (src != 0 || s_stop) {
        goto out;
    }
    if (s_settle(&r) != 0 || s_stop) {
        goto out;
    }
    long produced = r.published, acked = r.acked;
    long once = mc_get(&r.sub_sh, &r.sub_sh.distinct), dups = mc_get(&r.sub_sh, &r.sub_sh.dups);
    /* Once more after the counts: the chain still carries a probe. */
    int chain_ok = mc_probe(r.pub, &r.sub_sh, r.payload, BYTES, 30000) == 0;
    if (!chain_ok) {
        fprintf(stderr, "mqtt_faults: after the scenario the chain no longer carries a probe; the"
                        " counts are not a measurement of loss\n");
        goto out;
    }
    char settings[600];
    mc_conf_describe(&r.ch.conf, settings, sizeof settings);
    double secs = bu_now_s() - t0;
    printf("mosquitto %s (%s limits): produced %ld, acknowledged by the village broker %ld, at"
           " the county once %ld, lost %ld (%.1f%%), duplicated %ld; %d kills (county %d,"
           " township %d, village %d); %.0f s\n",
           s_scenario_name[o.sc], o.unlimited ? "unlimited" : "default", produced, acked, once,
           produced - once, 100.0 * (double) (produced - once) / (double) produced, dups, r.kills,
           r.kills_by[MC_COUNTY], r.kills_by[MC_TOWNSHIP], r.kills_by[MC_VILLAGE], secs);
    fprintf(stderr, "mqtt_faults: settings: %s\n", settings);
    if (o.json) {
        bu_mkdir_parent(o.json);
        FILE *f = fopen(o.json, "w");
        if (!f) {
            fprintf(stderr, "mqtt_faults: cannot write %s: %s\n", o.json, strerror(errno));
            goto out;
        }
        fprintf(f,
                "{\"system\": \"mosquitto\", \"scenario\": \"%s\", \"limits\": \"%s\","
                " \"produced\": %ld, \"acknowledged_first_hop\": %ld, \"at_county_once\": %ld,"
                " \"lost\": %ld, \"duplicated\": %ld, \"kills\": %d, \"kills_county\": %d,"
                " \"kills_township\": %d, \"kills_village\": %d, \"away_s\": %d, \"hold_s\": %d,"
                " \"settle_s\": %d, \"seconds\": %.1f, \"seed\": %" PRIu64 ", \"settings\": ",
                s_scenario_name[o.sc], o.unlimited ? "unlimited" : "default", produced, acked, once,
                produced - once, dups, r.kills, r.kills_by[MC_COUNTY], r.kills_by[MC_TOWNSHIP],
                r.kills_by[MC_VILLAGE], o.sc == SC_COUNTY_AWAY ? o.away_s : 0,
                o.sc == SC_BACKLOG_KILL ? o.hold_s : 0, o.settle_s, secs, o.seed);
        bu_json_str(f, settings);
        fprintf(f,
                ", \"published_while_disconnected\": %ld, \"mosquitto_version\": \"%d.%d.%d\"}\n",
                r.no_conn, LIBMOSQUITTO_MAJOR, LIBMOSQUITTO_MINOR, LIBMOSQUITTO_REVISION);
        if (fclose(f) != 0) {
            fprintf(stderr, "mqtt_faults: cannot write %s\n", o.json);
            goto out;
        }
    }
    rc = 0;
out:
    if (s_stop) {
        fprintf(stderr, "mqtt_faults: interrupted\n");
    }
    mc_close(&r.pub);
    mc_close(&r.sub);
    mc_close(&r.mon);
    mc_chain_destroy(&r.ch, o.keep || rc != 0);
    mc_client_free(&r.pub_sh);
    mc_client_free(&r.sub_sh);
    mc_client_free(&r.mon_sh);
    mosquitto_lib_cleanup();
    return rc;
}
