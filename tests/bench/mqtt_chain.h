/* mqtt_chain: the Mosquitto village -> township -> county bridge chain that
 * bench_mqtt (throughput) and mqtt_faults (the fault scenarios next to
 * sanji's) both drive:
 *
 *   publisher -> [village] =bridge=> [township] =bridge=> [county] -> subscriber
 *
 * Brokers are Debian's /usr/sbin/mosquitto, one configuration file and one
 * persistence directory each under a temporary directory, listening on free
 * loopback ports. Each bridge: `connection`, `address`, `topic reports/# out
 * 1`, `cleansession false`. Every message carries its number in its first 8
 * bytes (big endian); the subscriber counts distinct numbers and duplicates
 * in a bitmap. Not part of any daemon. */
#ifndef MQTT_CHAIN_H
#define MQTT_CHAIN_H

#include <mosquitto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define MC_TOPIC     "reports/230523100201"
#define MC_PROBE_SEQ UINT64_MAX /* the number of a readiness probe */

enum { MC_COUNTY = 0, MC_TOWNSHIP = 1, MC_VILLAGE = 2, MC_BROKERS = 3 };

/* What a broker's configuration says beyond the fixed part (listener,
 * persistence true, persistence_location, logging). -1: the line is left
 * out, so Mosquitto's default applies. */
typedef struct {
    int max_queued_messages;   /* default 1000; 0: no limit */
    int max_inflight_messages; /* default 20; 0: no limit */
    int autosave_interval;     /* default 1800 s */
    int sys_interval;          /* default 10 s ($SYS topics) */
    int restart_timeout;       /* bridges' reconnect delay; default: backoff 5..30 s */
} mc_conf_t;

/* The configuration lines of c as one human-readable string (for the
 * output of a run: every setting stated). */
void mc_conf_describe(const mc_conf_t *c, char *out, size_t size);

typedef struct {
    char dir[4096];
    int port[MC_BROKERS];
    pid_t pid[MC_BROKERS]; /* -1: not running */
    int starts[MC_BROKERS];
    mc_conf_t conf;
    const char *tag; /* the program's name for messages */
} mc_chain_t;

extern const char *const mc_name[MC_BROKERS]; /* "county", "township", "village" */

/* A temporary directory, three free ports, the three configuration files
 * (county, township bridged to county, village bridged to township). Starts
 * nothing. 0, or -1 after a message. */
int mc_chain_init(mc_chain_t *ch, const char *tag, const mc_conf_t *conf);
/* Starts broker b (again) and waits until it accepts connections (5 s). Its
 * stderr is appended to dir/<name>.log. A broker started by this process dies
 * with it (PR_SET_PDEATHSIG). 0, or -1 after a message. */
int mc_broker_start(mc_chain_t *ch, int b);
/* Sends sig to broker b and reaps it (SIGTERM: waits up to 10 s, then
 * SIGKILL). Returns its exit status (128 + signal when killed), -1 when it
 * was not running. */
int mc_broker_stop(mc_chain_t *ch, int b, int sig);
/* 1 when broker b is running (not exited, not reaped). */
int mc_broker_alive(mc_chain_t *ch, int b);
/* Stops every broker still running; removes the directory unless keep (or
 * says where it is). */
void mc_chain_destroy(mc_chain_t *ch, int keep);

/* A client's state, shared with libmosquitto's network thread. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    long puback;     /* publisher: PUBACKs received */
    long connected;  /* 1 connected, 0 not, -1 refused */
    long connects;   /* CONNACKs with success so far */
    long subscribed; /* SUBACKs received */
    const char *sub; /* when set, (re)subscribed to with QoS 1 at every connect */
    uint8_t *seen;   /* subscriber: bitmap of message numbers */
    long n;          /* size of the bitmap in messages */
    long distinct, dups, probes;
    double last_msg_s; /* bu_now_s() of the last message received */
    /* A client subscribed to $SYS/broker/#: the broker's own counters (-1
     * until published; every sys_interval). */
    long sys_received; /* $SYS/broker/publish/messages/received */
    long sys_stored;   /* $SYS/broker/store/messages/count */
} mc_client_t;

/* Prepares sh (mutex, condition; a bitmap of n bits when n > 0). 0 or -1. */
int mc_client_init(mc_client_t *sh, long n, const char *sub_topic);
void mc_client_free(mc_client_t *sh);
/* A libmosquitto client with id, clean session `clean`, at most `inflight`
 * QoS 1 messages in flight, connected (asynchronously, automatic reconnects
 * every second) to 127.0.0.1:port; waits up to 5 s for the first CONNACK.
 * NULL on failure. */
struct mosquitto *mc_connect(const char *id, int clean, mc_client_t *sh, int port, int inflight);
/* Disconnects, stops the network thread, destroys; *m becomes NULL. */
void mc_close(struct mosquitto **m);
/* Waits until *value >= at_least or timeout_ms passed; returns *value. */
long mc_wait(mc_client_t *sh, const long *value, long at_least, int timeout_ms);
/* *value, read under the lock. */
long mc_get(mc_client_t *sh, const long *value);

/* Writes seq into the first 8 bytes of payload. */
void mc_seq_put(uint8_t *payload, uint64_t seq);
/* Publishes probes through the whole chain until the subscriber sees one
 * (timeout_ms). 0, or -1. */
int mc_probe(struct mosquitto *pub, mc_client_t *sub, uint8_t *payload, int bytes, int timeout_ms);

#endif
