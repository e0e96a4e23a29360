/* bench_mqtt: the Mosquitto baseline. Three brokers on loopback, as a
 * village -> township -> county chain of MQTT bridges:
 *
 *   publisher -> [village broker] =bridge=> [township broker] =bridge=> [county broker] ->
 * subscriber
 *
 * Each broker (Debian's mosquitto 2.0) runs with persistence true, its own
 * persistence_location, max_queued_messages 0 (no limit: the default of 1000
 * silently drops), max_inflight_messages M (default 0 = no limit; --inflight);
 * each bridge: `connection`, `address`, `topic reports/# out 1`,
 * `cleansession false`. A libmosquitto publisher sends N messages of B bytes
 * (default 200,000 x 300) with QoS 1 to the village broker, keeping W
 * unacknowledged (PUBACK) at a time; a subscriber at the county broker (QoS 1,
 * persistent session) counts distinct message numbers (the first 8 bytes).
 * Measured: from the first publish until the subscriber holds all N.
 *
 * Note for the comparison: mosquitto's PUBACK means "in the broker's memory";
 * persistence writes a snapshot every autosave_interval (default 1800 s) and
 * at exit, never an fsync per message. A sanji ack means committed with
 * synchronous=FULL.
 *
 *   bench_mqtt [--n N] [--bytes B] [--window W] [--inflight M] [--json PATH] [--keep]
 */
#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define TOPIC "reports/230523100201"

typedef struct {
    long n;
    int bytes;
    int window;
    int inflight;
    int timeout_s;
} mopts_t;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    long puback;     /* publisher: PUBACKs received */
    long connected;  /* CONNACK seen (1), refused (-1) */
    long subscribed; /* SUBACK seen (subscriber) */
    uint8_t *seen;   /* subscriber: bitmap of message numbers */
    long distinct, dups, probes;
    long n;
} shared_t;

static shared_t s_pub, s_sub;

static void
s_on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void) m;
    shared_t *s = obj;
    pthread_mutex_lock(&s->mu);
    s->connected = rc == 0 ? 1 : -1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void
s_on_subscribe(struct mosquitto *m, void *obj, int mid, int qos_count, const int *granted)
{
    (void) m, (void) mid, (void) qos_count, (void) granted;
    shared_t *s = obj;
    pthread_mutex_lock(&s->mu);
    s->subscribed = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void
s_on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void) m, (void) mid;
    shared_t *s = obj;
    pthread_mutex_lock(&s->mu);
    s->puback++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void
s_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void) m;
    shared_t *s = obj;
    if (msg->payloadlen < 8) {
        return;
    }
    const uint8_t *p = msg->payload;
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++) {
        seq = (seq << 8) | p[i];
    }
    pthread_mutex_lock(&s->mu);
    if (seq == UINT64_MAX) {
        s->probes++; /* readiness probe */
    } else if (seq < (uint64_t) s->n) {
        if (s->seen[seq / 8] & (1u << (seq % 8))) {
            s->dups++;
        } else {
            s->seen[seq / 8] |= (uint8_t) (1u << (seq % 8));
            s->distinct++;
        }
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

/* Waits until *flag != 0 or the timeout; returns the flag. */
static long
s_wait(shared_t *s, volatile long *value, long at_least, int timeout_ms)
{
    double deadline = bu_now_s() + timeout_ms / 1000.0;
    pthread_mutex_lock(&s->mu);
    while (*value < at_least && bu_now_s() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    }
    long v = *value;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static int
s_write_conf(const char *dir,
             const char *name,
             int port,
             int parent_port,
             const char *bridge,
             const mopts_t *o)
{
    char path[4400], pdir[4400];
    snprintf(pdir, sizeof pdir, "%s/%s", dir, name);
    mkdir(pdir, 0755);
    snprintf(path, sizeof path, "%s/%s.conf", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    fprintf(f,
            "# bench_mqtt: the %s broker\n"
            "%s"
            "listener %d 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            "persistence_location %s/\n"
            "max_queued_messages 0\n"
            "max_inflight_messages %d\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\n",
            name, geteuid() == 0 ? "user root\n" : "", port, pdir, o->inflight);
    if (bridge) {
        fprintf(f,
                "\nconnection %s\n"
                "address 127.0.0.1:%d\n"
                "topic reports/# out 1\n"
                "cleansession false\n",
                bridge, parent_port);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static pid_t
s_broker(const char *dir, const char *name, int port)
{
    char conf[4400], log[4400];
    snprintf(conf, sizeof conf, "%s/%s.conf", dir, name);
    snprintf(log, sizeof log, "%s/%s.log", dir, name);
    char *av[] = {"/usr/sbin/mosquitto", "-c", conf, NULL};
    pid_t pid = bu_spawn(av, NULL, log);
    for (int i = 0; pid > 0 && i < 1000; i++) {
        if (bu_port_open(port)) {
            return pid;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            break;
        }
        bu_sleep_ms(5);
    }
    fprintf(stderr, "bench_mqtt: the %s broker did not start; see %s\n", name, log);
    return -1;
}

static struct mosquitto *
s_client(const char *id, int clean, shared_t *sh, int port, int inflight)
{
    struct mosquitto *m = mosquitto_new(id, clean, sh);
    if (!m) {
        return NULL;
    }
    mosquitto_connect_callback_set(m, s_on_connect);
    mosquitto_subscribe_callback_set(m, s_on_subscribe);
    mosquitto_publish_callback_set(m, s_on_publish);
    mosquitto_message_callback_set(m, s_on_message);
    mosquitto_max_inflight_messages_set(m, (unsigned int) inflight);
    if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS
        || mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(m);
        return NULL;
    }
    s_wait(sh, &sh->connected, 1, 5000);
    return m;
}

int
main(int argc, char **argv)
{
    mopts_t o = {.n = 200000, .bytes = 300, .window = 1000, .inflight = 0, .timeout_s = 300};
    const char *json = NULL;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "usage: bench_mqtt [--n N] [--bytes B] [--window W] [--inflight M]"
                            " [--json PATH] [--keep]\n");
            return 2;
        }
        if (strcmp(argv[i - 1], "--n") == 0) {
            o.n = atol(v);
        } else if (strcmp(argv[i - 1], "--bytes") == 0) {
            o.bytes = atoi(v);
        } else if (strcmp(argv[i - 1], "--window") == 0) {
            o.window = atoi(v);
        } else if (strcmp(argv[i - 1], "--inflight") == 0) {
            o.inflight = atoi(v);
        } else if (strcmp(argv[i - 1], "--json") == 0) {
            json = v;
        } else {
            fprintf(stderr, "bench_mqtt: unknown option '%s'\n", argv[i - 1]);
            return 2;
        }
    }
    if (o.n < 1 || o.bytes < 8 || o.window < 1 || o.inflight < 0) {
        fprintf(stderr, "bench_mqtt: bad numbers\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char dir[4096];
    if (!bu_mkdtemp("mqtt", dir, sizeof dir)) {
        return 1;
    }
    chmod(dir, 0755);
    int rc = 1;
    pid_t brokers[3] = {-1, -1, -1};
    struct mosquitto *pub = NULL, *sub = NULL;
    uint8_t *payload = NULL;
    int ports[3];
    ports[0] = bu_free_port(NULL, 0);  /* county */
    ports[1] = bu_free_port(ports, 1); /* township */
    ports[2] = bu_free_port(ports, 2); /* village */
    if (s_write_conf(dir, "county", ports[0], 0, NULL, &o)
        || s_write_conf(dir, "township", ports[1], ports[0], "township-to-county", &o)
        || s_write_conf(dir, "village", ports[2], ports[1], "village-to-township", &o)) {
        fprintf(stderr, "bench_mqtt: cannot write the broker configurations in %s\n", dir);
        goto out;
    }
    const char *names[3] = {"county", "township", "village"};
    for (int b = 0; b < 3; b++) {
        if ((brokers[b] = s_broker(dir, names[b], ports[b])) < 0) {
            goto out;
        }
    }
    mosquitto_lib_init();
    pthread_mutex_init(&s_pub.mu, NULL);
    pthread_cond_init(&s_pub.cond, NULL);
    pthread_mutex_init(&s_sub.mu, NULL);
    pthread_cond_init(&s_sub.cond, NULL);
    s_sub.n = o.n;
    s_sub.seen = calloc((size_t) o.n / 8 + 1, 1);
    payload = malloc((size_t) o.bytes);
    if (!s_sub.seen || !payload) {
        goto out;
    }
    for (int i = 0; i < o.bytes; i++) {
        payload[i] = (uint8_t) (i * 131 + 7);
    }
    sub = s_client("bench-county-subscriber", 0, &s_sub, ports[0], 1000);
    if (!sub || s_sub.connected != 1
        || mosquitto_subscribe(sub, NULL, "reports/#", 1) != MOSQ_ERR_SUCCESS
        || s_wait(&s_sub, &s_sub.subscribed, 1, 5000) < 1) {
        fprintf(stderr, "bench_mqtt: subscriber not set up at the county broker\n");
        goto out;
    }
    pub = s_client("bench-village-publisher", 1, &s_pub, ports[2], o.window);
    if (!pub || s_pub.connected != 1) {
        fprintf(stderr, "bench_mqtt: publisher not connected to the village broker\n");
        goto out;
    }
    /* Ready when a probe goes all the way through both bridges. */
    memset(payload, 0xff, 8);
    double probe_deadline = bu_now_s() + 30;
    while (s_wait(&s_sub, &s_sub.probes, 1, 200) < 1) {
        if (bu_now_s() > probe_deadline) {
            fprintf(stderr, "bench_mqtt: the bridges did not carry a probe in 30 s; see %s\n", dir);
            goto out;
        }
        mosquitto_publish(pub, NULL, TOPIC, o.bytes, payload, 1, false);
    }
    long probes_acked = s_wait(&s_pub, &s_pub.puback, 1, 1000);
    bu_sleep_ms(200);
    pthread_mutex_lock(&s_pub.mu);
    probes_acked = s_pub.puback;
    pthread_mutex_unlock(&s_pub.mu);
    fprintf(stderr, "bench_mqtt: chain ready; %ld messages of %d B, QoS 1, window %d\n", o.n,
            o.bytes, o.window);

    double t0 = bu_now_s();
    for (long i = 0; i < o.n; i++) {
        /* keep at most `window` unacknowledged */
        if (s_wait(&s_pub, &s_pub.puback, probes_acked + i - o.window + 1, o.timeout_s * 1000)
            < probes_acked + i - o.window + 1) {
            fprintf(stderr, "bench_mqtt: no PUBACKs from the village broker\n");
            goto out;
        }
        for (int b = 0; b < 8; b++) {
            payload[b] = (uint8_t) ((uint64_t) i >> (56 - 8 * b));
        }
        int prc = mosquitto_publish(pub, NULL, TOPIC, o.bytes, payload, 1, false);
        if (prc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "bench_mqtt: publish: %s\n", mosquitto_strerror(prc));
            goto out;
        }
    }
    double t_pub = bu_now_s() - t0;
    long got = s_wait(&s_sub, &s_sub.distinct, o.n, o.timeout_s * 1000);
    double t_all = bu_now_s() - t0;
    if (got < o.n) {
        fprintf(stderr, "bench_mqtt: the county subscriber has %ld of %ld after %.0f s\n", got, o.n,
                t_all);
        goto out;
    }
    double rate = (double) o.n / t_all;
    printf("mosquitto village->township->county bridges, QoS 1, persistence on: %ld messages of"
           " %d B: all published (PUBACK) after %.2f s, all at the county subscriber after %.2f s:"
           " %.0f msgs/s end to end (%ld duplicates)\n",
           o.n, o.bytes, t_pub, t_all, rate, s_sub.dups);
    if (json) {
        bu_mkdir_parent(json);
        FILE *f = fopen(json, "w");
        if (f) {
            fprintf(f,
                    "{\"scenario\": \"mosquitto\", \"messages\": %ld, \"bytes\": %d,"
                    " \"publisher_window\": %d, \"max_inflight_messages\": %d,"
                    " \"max_queued_messages\": 0, \"persistence\": true, \"qos\": 1,"
                    " \"seconds_published\": %.3f, \"seconds_to_subscriber\": %.3f,"
                    " \"msgs_per_s\": %.1f, \"duplicates\": %ld, \"mosquitto_version\": "
                    "\"%d.%d.%d\"}\n",
                    o.n, o.bytes, o.window, o.inflight, t_pub, t_all, rate, s_sub.dups,
                    LIBMOSQUITTO_MAJOR, LIBMOSQUITTO_MINOR, LIBMOSQUITTO_REVISION);
            fclose(f);
        }
    }
    rc = 0;
out:
    if (pub) {
        mosquitto_disconnect(pub);
        mosquitto_loop_stop(pub, true);
        mosquitto_destroy(pub);
    }
    if (sub) {
        mosquitto_disconnect(sub);
        mosquitto_loop_stop(sub, true);
        mosquitto_destroy(sub);
    }
    for (int b = 2; b >= 0; b--) {
        if (brokers[b] > 0) {
            bu_stop(brokers[b], NULL);
        }
    }
    free(payload);
    free(s_sub.seen);
    if (keep || rc != 0) {
        fprintf(stderr, "bench_mqtt: kept %s\n", dir);
    } else {
        bu_rm_rf(dir);
    }
    return rc;
}
