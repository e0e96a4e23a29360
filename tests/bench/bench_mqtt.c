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
 * Measured: from the first publish until the subscriber holds all N. The
 * chain and the clients are mqtt_chain.c's (shared with tests/faults/mqtt_faults).
 *
 * Note for the comparison: mosquitto's PUBACK means "in the broker's memory";
 * persistence writes a snapshot every autosave_interval (default 1800 s) and
 * at exit, never an fsync per message. A sanji ack means committed with
 * synchronous=FULL.
 *
 *   bench_mqtt [--n N] [--bytes B] [--window W] [--inflight M] [--json PATH] [--keep]
 */
#include <mosquitto.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "mqtt_chain.h"

typedef struct {
    long n;
    int bytes;
    int window;
    int inflight;
    int timeout_s;
} mopts_t;

static mc_client_t s_pub, s_sub;

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
    int rc = 1;
    struct mosquitto *pub = NULL, *sub = NULL;
    uint8_t *payload = NULL;
    mc_chain_t ch;
    const mc_conf_t conf = {.max_queued_messages = 0,
                            .max_inflight_messages = o.inflight,
                            .autosave_interval = -1,
                            .sys_interval = -1,
                            .restart_timeout = -1};
    mosquitto_lib_init();
    if (mc_client_init(&s_pub, 0, NULL) != 0 || mc_client_init(&s_sub, o.n, "reports/#") != 0
        || !(payload = malloc((size_t) o.bytes))) {
        fprintf(stderr, "bench_mqtt: out of memory\n");
        return 1;
    }
    if (mc_chain_init(&ch, "bench_mqtt", &conf) != 0) {
        goto out;
    }
    for (int b = 0; b < MC_BROKERS; b++) {
        if (mc_broker_start(&ch, b) != 0) {
            goto out;
        }
    }
    for (int i = 0; i < o.bytes; i++) {
        payload[i] = (uint8_t) (i * 131 + 7);
    }
    sub = mc_connect("bench-county-subscriber", 0, &s_sub, ch.port[MC_COUNTY], 1000);
    if (!sub || mc_wait(&s_sub, &s_sub.subscribed, 1, 5000) < 1) {
        fprintf(stderr, "bench_mqtt: subscriber not set up at the county broker\n");
        goto out;
    }
    pub = mc_connect("bench-village-publisher", 1, &s_pub, ch.port[MC_VILLAGE], o.window);
    if (!pub) {
        fprintf(stderr, "bench_mqtt: publisher not connected to the village broker\n");
        goto out;
    }
    /* Ready when a probe goes all the way through both bridges. */
    if (mc_probe(pub, &s_sub, payload, o.bytes, 30000) != 0) {
        fprintf(stderr, "bench_mqtt: the bridges did not carry a probe in 30 s; see %s\n", ch.dir);
        goto out;
    }
    mc_wait(&s_pub, &s_pub.puback, 1, 1000);
    bu_sleep_ms(200);
    long probes_acked = mc_get(&s_pub, &s_pub.puback);
    fprintf(stderr, "bench_mqtt: chain ready; %ld messages of %d B, QoS 1, window %d\n", o.n,
            o.bytes, o.window);

    double t0 = bu_now_s();
    for (long i = 0; i < o.n; i++) {
        /* keep at most `window` unacknowledged */
        if (mc_wait(&s_pub, &s_pub.puback, probes_acked + i - o.window + 1, o.timeout_s * 1000)
            < probes_acked + i - o.window + 1) {
            fprintf(stderr, "bench_mqtt: no PUBACKs from the village broker\n");
            goto out;
        }
        mc_seq_put(payload, (uint64_t) i);
        int prc = mosquitto_publish(pub, NULL, MC_TOPIC, o.bytes, payload, 1, false);
        if (prc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "bench_mqtt: publish: %s\n", mosquitto_strerror(prc));
            goto out;
        }
    }
    double t_pub = bu_now_s() - t0;
    long got = mc_wait(&s_sub, &s_sub.distinct, o.n, o.timeout_s * 1000);
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
    mc_close(&pub);
    mc_close(&sub);
    mc_chain_destroy(&ch, keep || rc != 0);
    free(payload);
    mc_client_free(&s_pub);
    mc_client_free(&s_sub);
    mosquitto_lib_cleanup();
    return rc;
}
