/* bench_zmq: the raw libzmq limit of one link: a DEALER sends N messages of
 * B bytes (default 1,000,000 x 300) to a ROUTER in another process over TCP
 * on loopback; the ROUTER acks every message with its 8-byte number and the
 * DEALER keeps W messages unacked in flight (pipelined acks, default 1000).
 * No storage, no encoding: what sanji's link protocol could do at most.
 * Measured plain and with CURVE (the security every sanji link has).
 *
 *   bench_zmq [--n N] [--bytes B] [--window W] [--json PATH]
 * Prints messages per second; JSON to --json. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_util.h"

typedef struct {
    long n;
    int bytes;
    int window;
} zopts_t;

static void
s_socket_opts(void *sock)
{
    int zero = 0, hwm = 100000;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
}

/* The ROUTER (child process): acks every message until n are in. */
static int
s_router(const char *ep, const zopts_t *o, const char *server_sk)
{
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    s_socket_opts(r);
    if (server_sk) {
        int one = 1;
        zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, server_sk, 40);
    }
    if (zmq_bind(r, ep) != 0) {
        fprintf(stderr, "bench_zmq: bind %s: %s\n", ep, zmq_strerror(errno));
        return 1;
    }
    uint8_t rid[256], buf[65536], ack[8];
    long got = 0;
    while (got < o->n) {
        int rl = zmq_recv(r, rid, sizeof rid, 0);
        int n = rl >= 0 ? zmq_recv(r, buf, sizeof buf, 0) : -1;
        if (n < 8) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            fprintf(stderr, "bench_zmq: router recv: %s\n", zmq_strerror(errno));
            return 1;
        }
        got++;
        memcpy(ack, buf, 8);
        if (zmq_send(r, rid, (size_t) rl, ZMQ_SNDMORE) < 0 || zmq_send(r, ack, 8, 0) < 0) {
            fprintf(stderr, "bench_zmq: router send: %s\n", zmq_strerror(errno));
            return 1;
        }
    }
    bu_sleep_ms(200); /* let the last acks leave */
    zmq_close(r);
    zmq_ctx_term(ctx);
    return 0;
}

/* The DEALER: returns messages per second, or -1. */
static double
s_dealer(const char *ep, const zopts_t *o, const char *server_pk)
{
    void *ctx = zmq_ctx_new();
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    s_socket_opts(d);
    if (server_pk) {
        char pk[41], sk[41];
        zmq_curve_keypair(pk, sk);
        zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, server_pk, 40);
        zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, pk, 40);
        zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, sk, 40);
    }
    zmq_connect(d, ep);
    uint8_t *msg = malloc((size_t) o->bytes);
    if (!msg) {
        return -1;
    }
    for (int i = 0; i < o->bytes; i++) {
        msg[i] = (uint8_t) (i * 131 + 7);
    }
    /* one warm-up round trip: the handshake is not timed */
    bu_put64(msg, 0);
    uint8_t ack[8];
    zmq_send(d, msg, (size_t) o->bytes, 0);
    zmq_recv(d, ack, sizeof ack, 0);
    long sent = 0, acked = 0;
    double t0 = bu_now_s();
    while (acked < o->n - 1) {
        while (sent < o->n - 1 && sent - acked < o->window) {
            bu_put64(msg, (uint64_t) sent + 1);
            if (zmq_send(d, msg, (size_t) o->bytes, 0) < 0) {
                fprintf(stderr, "bench_zmq: dealer send: %s\n", zmq_strerror(errno));
                return -1;
            }
            sent++;
        }
        int n = zmq_recv(d, ack, sizeof ack, 0);
        if (n != 8) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            fprintf(stderr, "bench_zmq: dealer recv: %s\n", zmq_strerror(errno));
            return -1;
        }
        uint64_t a = bu_get64(ack);
        if ((long) a > acked) {
            acked = (long) a;
        }
    }
    double rate = (double) (o->n - 1) / (bu_now_s() - t0);
    free(msg);
    zmq_close(d);
    zmq_ctx_term(ctx);
    return rate;
}

static double
s_measure(const zopts_t *o, int curve)
{
    int port = bu_free_port(NULL, 0);
    char bind_ep[64], conn_ep[64];
    snprintf(bind_ep, sizeof bind_ep, "tcp://127.0.0.1:%d", port);
    snprintf(conn_ep, sizeof conn_ep, "tcp://127.0.0.1:%d", port);
    char pk[41] = "", sk[41] = "";
    if (curve && zmq_curve_keypair(pk, sk) != 0) {
        fprintf(stderr, "bench_zmq: no CURVE in this libzmq\n");
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        _exit(s_router(bind_ep, o, curve ? sk : NULL));
    }
    if (pid < 0) {
        return -1;
    }
    for (int i = 0; i < 500 && !bu_port_open(port); i++) {
        bu_sleep_ms(5);
    }
    double rate = s_dealer(conn_ep, o, curve ? pk : NULL);
    int st = 0;
    if (rate < 0) {
        kill(pid, SIGKILL);
    }
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        return -1;
    }
    return rate;
}

int
main(int argc, char **argv)
{
    zopts_t o = {.n = 1000000, .bytes = 300, .window = 1000};
    const char *json = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "usage: bench_zmq [--n N] [--bytes B] [--window W] [--json PATH]\n");
            return 2;
        }
        if (strcmp(argv[i], "--n") == 0) {
            o.n = atol(v);
        } else if (strcmp(argv[i], "--bytes") == 0) {
            o.bytes = atoi(v);
        } else if (strcmp(argv[i], "--window") == 0) {
            o.window = atoi(v);
        } else if (strcmp(argv[i], "--json") == 0) {
            json = v;
        } else {
            fprintf(stderr, "bench_zmq: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (o.n < 2 || o.bytes < 8 || o.bytes > 65536 || o.window < 1 || o.window > 50000) {
        fprintf(stderr, "bench_zmq: bad numbers\n");
        return 2;
    }
    double plain = s_measure(&o, 0);
    double curve = s_measure(&o, 1);
    if (plain < 0 || curve < 0) {
        return 1;
    }
    printf("zmq DEALER->ROUTER tcp loopback, %d B, window %d, acked each: %.0f msgs/s plain,"
           " %.0f msgs/s CURVE\n",
           o.bytes, o.window, plain, curve);
    if (json) {
        bu_mkdir_parent(json);
        FILE *f = fopen(json, "w");
        if (!f) {
            return 1;
        }
        fprintf(
            f,
            "{\"scenario\": \"zmq\", \"messages\": %ld, \"bytes\": %d, \"window\": %d,"
            " \"msgs_per_s\": %.1f, \"curve_msgs_per_s\": %.1f, \"zmq_version\": \"%d.%d.%d\"}\n",
            o.n, o.bytes, o.window, plain, curve, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
            ZMQ_VERSION_PATCH);
        fclose(f);
    }
    return 0;
}
