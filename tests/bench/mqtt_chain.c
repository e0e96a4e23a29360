/* mqtt_chain: the Mosquitto bridge chain shared by bench_mqtt and
 * mqtt_faults (see mqtt_chain.h). */
#include "mqtt_chain.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MOSQUITTO_BIN "/usr/sbin/mosquitto"

const char *const mc_name[MC_BROKERS] = {"county", "township", "village"};

void
mc_conf_describe(const mc_conf_t *c, char *out, size_t size)
{
    char q[48], i[48], a[48], r[48];
    snprintf(q, sizeof q, c->max_queued_messages < 0 ? "1000 (default)" : "%d%s",
             c->max_queued_messages, c->max_queued_messages == 0 ? " (no limit)" : "");
    snprintf(i, sizeof i, c->max_inflight_messages < 0 ? "20 (default)" : "%d%s",
             c->max_inflight_messages, c->max_inflight_messages == 0 ? " (no limit)" : "");
    snprintf(a, sizeof a, c->autosave_interval < 0 ? "1800 s (default)" : "%d s",
             c->autosave_interval);
    snprintf(r, sizeof r, c->restart_timeout < 0 ? "5 30 (default backoff)" : "%d s",
             c->restart_timeout);
    snprintf(out, size,
             "persistence true, autosave_interval %s, autosave_on_changes false (default),"
             " max_queued_messages %s, max_queued_bytes 0 (default, no limit),"
             " max_inflight_messages %s; bridges: topic reports/# out 1, cleansession false,"
             " restart_timeout %s; clients: QoS 1, clean session false",
             a, q, i, r);
}

static int
s_write_conf(const mc_chain_t *ch, int b)
{
    char path[4400], pdir[4400];
    snprintf(pdir, sizeof pdir, "%s/%s", ch->dir, mc_name[b]);
    if (mkdir(pdir, 0755) != 0 && errno != EEXIST) {
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s.conf", ch->dir, mc_name[b]);
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    const mc_conf_t *c = &ch->conf;
    fprintf(f,
            "# %s: the %s broker\n"
            "%s"
            "listener %d 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            "persistence_location %s/\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\n",
            ch->tag, mc_name[b], geteuid() == 0 ? "user root\n" : "", ch->port[b], pdir);
    if (c->max_queued_messages >= 0) {
        fprintf(f, "max_queued_messages %d\n", c->max_queued_messages);
    }
    if (c->max_inflight_messages >= 0) {
        fprintf(f, "max_inflight_messages %d\n", c->max_inflight_messages);
    }
    if (c->autosave_interval >= 0) {
        fprintf(f, "autosave_interval %d\n", c->autosave_interval);
    }
    if (c->sys_interval >= 0) {
        fprintf(f, "sys_interval %d\n", c->sys_interval);
    }
    if (b != MC_COUNTY) {
        fprintf(f,
                "\nconnection %s-to-%s\n"
                "address 127.0.0.1:%d\n"
                "topic reports/# out 1\n"
                "cleansession false\n",
                mc_name[b], mc_name[b - 1], ch->port[b - 1]);
        if (c->restart_timeout >= 0) {
            fprintf(f, "restart_timeout %d\n", c->restart_timeout);
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

int
mc_chain_init(mc_chain_t *ch, const char *tag, const mc_conf_t *conf)
{
    memset(ch, 0, sizeof *ch);
    ch->tag = tag;
    ch->conf = *conf;
    for (int b = 0; b < MC_BROKERS; b++) {
        ch->pid[b] = -1;
    }
    if (!bu_mkdtemp(tag, ch->dir, sizeof ch->dir)) {
        return -1;
    }
    chmod(ch->dir, 0755); /* mosquitto drops to its own user when run as root */
    for (int b = 0; b < MC_BROKERS; b++) {
        ch->port[b] = bu_free_port(ch->port, b);
        if (ch->port[b] <= 0) {
            fprintf(stderr, "%s: no free port\n", tag);
            return -1;
        }
    }
    for (int b = 0; b < MC_BROKERS; b++) {
        if (s_write_conf(ch, b) != 0) {
            fprintf(stderr, "%s: cannot write the %s broker's configuration in %s\n", tag,
                    mc_name[b], ch->dir);
            return -1;
        }
    }
    return 0;
}

int
mc_broker_start(mc_chain_t *ch, int b)
{
    char conf[4400], log[4400];
    snprintf(conf, sizeof conf, "%s/%s.conf", ch->dir, mc_name[b]);
    snprintf(log, sizeof log, "%s/%s.log", ch->dir, mc_name[b]);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int in = open("/dev/null", O_RDWR);
        if (err < 0 || in < 0 || dup2(in, 0) < 0 || dup2(in, 1) < 0 || dup2(err, 2) < 0) {
            _exit(127);
        }
        char *av[] = {MOSQUITTO_BIN, "-c", conf, NULL};
        execv(av[0], av);
        dprintf(2, "cannot run %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    ch->pid[b] = pid;
    ch->starts[b]++;
    double deadline = bu_now_s() + 5;
    while (bu_now_s() < deadline) {
        if (bu_port_open(ch->port[b])) {
            return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            ch->pid[b] = -1;
            break;
        }
        bu_sleep_ms(5);
    }
    fprintf(stderr, "%s: the %s broker did not start; see %s\n", ch->tag, mc_name[b], log);
    if (ch->pid[b] > 0) {
        mc_broker_stop(ch, b, SIGKILL);
    }
    return -1;
}

int
mc_broker_stop(mc_chain_t *ch, int b, int sig)
{
    pid_t pid = ch->pid[b];
    if (pid <= 0) {
        return -1;
    }
    ch->pid[b] = -1;
    if (sig == SIGTERM) {
        return bu_stop(pid, NULL);
    }
    kill(pid, sig);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
mc_broker_alive(mc_chain_t *ch, int b)
{
    if (ch->pid[b] <= 0) {
        return 0;
    }
    if (waitpid(ch->pid[b], NULL, WNOHANG) == ch->pid[b]) {
        ch->pid[b] = -1;
        return 0;
    }
    return 1;
}

void
mc_chain_destroy(mc_chain_t *ch, int keep)
{
    for (int b = MC_BROKERS - 1; b >= 0; b--) {
        if (ch->pid[b] > 0) {
            mc_broker_stop(ch, b, SIGTERM);
        }
    }
    if (!ch->dir[0]) {
        return;
    }
    if (keep) {
        fprintf(stderr, "%s: kept %s\n", ch->tag, ch->dir);
    } else {
        bu_rm_rf(ch->dir);
    }
}

/* ---- clients ---- */

static void
s_on_connect(struct mosquitto *m, void *obj, int rc)
{
    mc_client_t *s = obj;
    if (rc == 0 && s->sub) {
        mosquitto_subscribe(m, NULL, s->sub, 1);
    }
    pthread_mutex_lock(&s->mu);
    s->connected = rc == 0 ? 1 : -1;
    s->connects += rc == 0;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void
s_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void) m, (void) rc;
    mc_client_t *s = obj;
    pthread_mutex_lock(&s->mu);
    s->connected = 0;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void
s_on_subscribe(struct mosquitto *m, void *obj, int mid, int qos_count, const int *granted)
{
    (void) m, (void) mid, (void) qos_count, (void) granted;
    mc_client_t *s = obj;
    pthread_mutex_lock(&s->mu);
    s->subscribed++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void
s_on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void) m, (void) mid;
    mc_client_t *s = obj;
    pthread_mutex_lock(&s->mu);
    s->puback++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void
s_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void) m;
    mc_client_t *s = obj;
    if (msg->topic && strncmp(msg->topic, "$SYS/", 5) == 0) {
        char v[32];
        int len = msg->payloadlen < 31 ? msg->payloadlen : 31;
        memcpy(v, msg->payload, (size_t) len);
        v[len] = '\0';
        pthread_mutex_lock(&s->mu);
        if (strcmp(msg->topic, "$SYS/broker/publish/messages/received") == 0) {
            s->sys_received = atol(v);
        } else if (strcmp(msg->topic, "$SYS/broker/store/messages/count") == 0) {
            s->sys_stored = atol(v);
        }
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    if (msg->payloadlen < 8) {
        return;
    }
    const uint8_t *p = msg->payload;
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++) {
        seq = (seq << 8) | p[i];
    }
    pthread_mutex_lock(&s->mu);
    s->last_msg_s = bu_now_s();
    if (seq == MC_PROBE_SEQ) {
        s->probes++;
    } else if (s->seen && seq < (uint64_t) s->n) {
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

int
mc_client_init(mc_client_t *sh, long n, const char *sub_topic)
{
    memset(sh, 0, sizeof *sh);
    pthread_mutex_init(&sh->mu, NULL);
    pthread_cond_init(&sh->cond, NULL);
    sh->sub = sub_topic;
    sh->n = n;
    sh->sys_received = sh->sys_stored = -1;
    if (n > 0 && !(sh->seen = calloc((size_t) n / 8 + 1, 1))) {
        return -1;
    }
    return 0;
}

void
mc_client_free(mc_client_t *sh)
{
    free(sh->seen);
    sh->seen = NULL;
    pthread_cond_destroy(&sh->cond);
    pthread_mutex_destroy(&sh->mu);
}

struct mosquitto *
mc_connect(const char *id, int clean, mc_client_t *sh, int port, int inflight)
{
    struct mosquitto *m = mosquitto_new(id, clean, sh);
    if (!m) {
        return NULL;
    }
    mosquitto_connect_callback_set(m, s_on_connect);
    mosquitto_disconnect_callback_set(m, s_on_disconnect);
    mosquitto_subscribe_callback_set(m, s_on_subscribe);
    mosquitto_publish_callback_set(m, s_on_publish);
    mosquitto_message_callback_set(m, s_on_message);
    mosquitto_max_inflight_messages_set(m, (unsigned int) inflight);
    mosquitto_reconnect_delay_set(m, 1, 1, false);
    if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS
        || mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(m);
        return NULL;
    }
    if (mc_wait(sh, &sh->connects, 1, 5000) < 1) {
        mc_close(&m);
        return NULL;
    }
    return m;
}

void
mc_close(struct mosquitto **m)
{
    if (!*m) {
        return;
    }
    mosquitto_disconnect(*m);
    mosquitto_loop_stop(*m, true);
    mosquitto_destroy(*m);
    *m = NULL;
}

long
mc_wait(mc_client_t *sh, const long *value, long at_least, int timeout_ms)
{
    double deadline = bu_now_s() + timeout_ms / 1000.0;
    pthread_mutex_lock(&sh->mu);
    while (*value < at_least && bu_now_s() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sh->cond, &sh->mu, &ts);
    }
    long v = *value;
    pthread_mutex_unlock(&sh->mu);
    return v;
}

long
mc_get(mc_client_t *sh, const long *value)
{
    pthread_mutex_lock(&sh->mu);
    long v = *value;
    pthread_mutex_unlock(&sh->mu);
    return v;
}

void
mc_seq_put(uint8_t *payload, uint64_t seq)
{
    for (int b = 0; b < 8; b++) {
        payload[b] = (uint8_t) (seq >> (56 - 8 * b));
    }
}

int
mc_probe(struct mosquitto *pub, mc_client_t *sub, uint8_t *payload, int bytes, int timeout_ms)
{
    long before = mc_get(sub, &sub->probes);
    mc_seq_put(payload, MC_PROBE_SEQ);
    double deadline = bu_now_s() + timeout_ms / 1000.0;
    while (mc_wait(sub, &sub->probes, before + 1, 200) <= before) {
        if (bu_now_s() > deadline) {
            return -1;
        }
        mosquitto_publish(pub, NULL, MC_TOPIC, bytes, payload, 1, false);
    }
    return 0;
}
