#include "sj_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "sj_log.h"
#include "sj_model.h"

#define MAX_ALLOWED 100000

typedef struct {
    char code[SJ_CODE_MAX + 1];
    uint8_t pk[SJ_KEY_BYTES];
} s_entry_t;

struct sj_auth {
    void *zctx;
    char path[1024];
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    s_entry_t *entries; /* guarded by lock */
    size_t n;
};

/* ---- key files ---- */

int
sj_keypair_generate(const char *dir, sj_keypair_t *out, char *err, size_t err_size)
{
    char path[1100], pub[1100];
    snprintf(path, sizeof path, "%s/curve.key", dir);
    snprintf(pub, sizeof pub, "%s/curve.pub", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "cannot create %s: %s", dir, strerror(errno));
        return SJ_EIO;
    }
    char pk[SJ_KEY_Z85], sk[SJ_KEY_Z85];
    /* A Z85 key may start with '-', which a shell user then cannot pass as
     * an argument without '--': draw again (costs well under one bit). */
    do {
        if (zmq_curve_keypair(pk, sk) != 0) {
            snprintf(err, err_size, "this libzmq has no CURVE support");
            return SJ_EINVAL;
        }
    } while (pk[0] == '-');
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, err_size,
                 errno == EEXIST ? "%s already exists; not overwriting a key" : "cannot create %s",
                 path);
        return errno == EEXIST ? SJ_EINVAL : SJ_EIO;
    }
    char line[2 * SJ_KEY_Z85 + 4];
    int n = snprintf(line, sizeof line, "%s %s\n", pk, sk);
    int ok = write(fd, line, (size_t) n) == n && fsync(fd) == 0;
    close(fd);
    memset(line, 0, sizeof line);
    memset(sk, 0, sizeof sk);
    FILE *f = ok ? fopen(pub, "w") : NULL;
    if (!f || fprintf(f, "%s\n", pk) < 0 || fclose(f) != 0) {
        snprintf(err, err_size, "cannot write %s", ok ? pub : path);
        return SJ_EIO;
    }
    return sj_keypair_load(dir, out, err, err_size);
}

int
sj_keypair_load(const char *dir, sj_keypair_t *out, char *err, size_t err_size)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/curve.key", dir);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            snprintf(err, err_size, "no key pair in %s (run keygen first)", dir);
            return SJ_ENOTFOUND;
        }
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return SJ_EIO;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, err_size, "%s is readable by others (mode %03o); chmod 600 it", path,
                 (unsigned) (st.st_mode & 0777));
        return SJ_EINVAL;
    }
    FILE *f = fopen(path, "r");
    char pk[64] = "", sk[64] = "";
    if (!f) {
        snprintf(err, err_size, "cannot read %s", path);
        return SJ_EIO;
    }
    int got = fscanf(f, "%63s %63s", pk, sk);
    fclose(f);
    if (got != 2 || sj_key_decode(pk, out->pk) != SJ_OK || sj_key_decode(sk, out->sk) != SJ_OK) {
        snprintf(err, err_size, "%s is not a key file ('PUBLIC SECRET' in Z85)", path);
        return SJ_EINVAL;
    }
    memset(sk, 0, sizeof sk);
    sj_key_encode(out->pk, out->pk_z85);
    return SJ_OK;
}

/* ---- allowlist ---- */

static int
s_parse_line(char *line, s_entry_t *e, char *why, size_t why_size)
{
    char *hash = strchr(line, '#');
    char code[64], key[64], extra[8];
    /* A Z85 key may contain '#': only a '#' at the start or after blanks
     * begins a comment. */
    if (hash && (hash == line || hash[-1] == ' ' || hash[-1] == '\t')) {
        *hash = '\0';
    }
    int n = sscanf(line, "%63s %63s %7s", code, key, extra);
    if (n <= 0) {
        return 0; /* blank */
    }
    if (n != 2) {
        snprintf(why, why_size, "expected 'CODE Z85-PUBLIC-KEY'");
        return -1;
    }
    if (!sj_code_level(code)) {
        snprintf(why, why_size, "'%s' is not a 6, 9 or 12-digit code", code);
        return -1;
    }
    if (sj_key_decode(key, e->pk) != SJ_OK) {
        snprintf(why, why_size, "'%s' is not a 40-character Z85 key", key);
        return -1;
    }
    memcpy(e->code, code, strlen(code) + 1); /* sj_code_level checked: at most 12 digits */
    return 1;
}

/* Who may change the allowlist may let any key in: like curve.key, it must
 * not be writable by group or others, and must belong to the user running
 * the daemon or tool (root may use the service user's file). */
static int
s_file_safe(const char *path, int fd, char *err, size_t err_size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return SJ_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "%s is not a regular file", path);
        return SJ_EINVAL;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, err_size,
                 "%s is writable by %s (mode %03o): anyone who can write it can enrol a key;"
                 " chmod 640 it",
                 path, (st.st_mode & S_IWOTH) ? "others" : "its group",
                 (unsigned) (st.st_mode & 0777));
        return SJ_EINVAL;
    }
    uid_t me = geteuid();
    if (me != 0 && st.st_uid != me) {
        snprintf(err, err_size,
                 "%s belongs to uid %u, not to the user running this program (uid %u);"
                 " chown it (or run as that user)",
                 path, (unsigned) st.st_uid, (unsigned) me);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

static int
s_load(const char *path, s_entry_t **out, size_t *n_out, char *err, size_t err_size)
{
    *out = NULL;
    *n_out = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            return SJ_OK; /* nobody enrolled yet */
        }
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        return SJ_EIO;
    }
    int safe = s_file_safe(path, fileno(f), err, err_size);
    if (safe != SJ_OK) {
        fclose(f);
        return safe;
    }
    s_entry_t *v = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    int lineno = 0, rc = SJ_OK;
    while (getline(&line, &lcap, f) >= 0) {
        lineno++;
        s_entry_t e;
        char why[160];
        int r = s_parse_line(line, &e, why, sizeof why);
        if (r < 0) {
            snprintf(err, err_size, "%s:%d: %s", path, lineno, why);
            rc = SJ_EINVAL;
            break;
        }
        if (r == 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            s_entry_t *v2 = cap > MAX_ALLOWED ? NULL : realloc(v, cap * sizeof *v);
            if (!v2) {
                snprintf(err, err_size, "%s: too many entries", path);
                rc = SJ_ENOMEM;
                break;
            }
            v = v2;
        }
        v[n++] = e;
    }
    free(line);
    fclose(f);
    if (rc != SJ_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return SJ_OK;
}

int
sj_allowlist_add(
    const char *path, const char *code, const char *key_z85, char *err, size_t err_size)
{
    uint8_t pk[SJ_KEY_BYTES];
    if (!sj_code_level(code)) {
        snprintf(err, err_size, "'%s' is not a 6, 9 or 12-digit code", code);
        return SJ_EINVAL;
    }
    if (sj_key_decode(key_z85, pk) != SJ_OK) {
        snprintf(err, err_size, "'%s' is not a 40-character Z85 public key", key_z85);
        return SJ_EINVAL;
    }
    s_entry_t *v = NULL;
    size_t n = 0;
    int rc = s_load(path, &v, &n, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (memcmp(v[i].pk, pk, SJ_KEY_BYTES) == 0) {
            int same = strcmp(v[i].code, code) == 0;
            if (!same) {
                snprintf(err, err_size, "that key is already enrolled for %s", v[i].code);
            }
            free(v);
            return same ? SJ_OK : SJ_EINVAL;
        }
    }
    free(v);
    /* Made 0640 whatever the umask: s_file_safe refuses a group-writable file. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f) {
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return SJ_EIO;
    }
    int ok = fprintf(f, "%s %s\n", code, key_z85) > 0;
    ok = (fflush(f) == 0) && ok && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        snprintf(err, err_size, "cannot write %s", path);
        return SJ_EIO;
    }
    return SJ_OK;
}

int
sj_allowlist_revoke(
    const char *path, const char *code_or_key, int *removed, char *err, size_t err_size)
{
    *removed = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        return SJ_EIO;
    }
    int safe = s_file_safe(path, fileno(f), err, err_size);
    if (safe != SJ_OK) {
        fclose(f);
        return safe;
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    FILE *o = fd >= 0 && fchmod(fd, 0640) == 0 ? fdopen(fd, "w") : NULL;
    if (!o) {
        if (fd >= 0) {
            close(fd);
        }
        fclose(f);
        snprintf(err, err_size, "cannot write %s", tmp);
        return SJ_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        char copy[512];
        snprintf(copy, sizeof copy, "%s", line);
        s_entry_t e;
        char why[160], key[SJ_KEY_Z85];
        int r = s_parse_line(copy, &e, why, sizeof why);
        if (r == 1) {
            sj_key_encode(e.pk, key);
            if (strcmp(e.code, code_or_key) == 0 || strcmp(key, code_or_key) == 0) {
                (*removed)++;
                continue;
            }
        }
        fputs(line, o);
    }
    free(line);
    fclose(f);
    int ok = fflush(o) == 0 && fsync(fileno(o)) == 0;
    ok = (fclose(o) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, err_size, "cannot replace %s", path);
        unlink(tmp);
        return SJ_EIO;
    }
    return SJ_OK;
}

/* ---- ZAP handler (RFC 27) ---- */

static int
s_lookup(sj_auth_t *self, const uint8_t pk[SJ_KEY_BYTES], char *code, size_t code_size)
{
    int found = 0;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->n; i++) {
        if (memcmp(self->entries[i].pk, pk, SJ_KEY_BYTES) == 0) {
            snprintf(code, code_size, "%s", self->entries[i].code);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&self->lock);
    return found;
}

typedef struct {
    sj_auth_t *auth;
    void *sock;
} s_zap_arg_t;

static void *
s_zap_main(void *arg)
{
    s_zap_arg_t *za = arg;
    sj_auth_t *self = za->auth;
    void *sock = za->sock;
    free(za);
    for (;;) {
        zmq_msg_t frames[8];
        int nf = 0, more = 1;
        while (more && nf < 8) {
            zmq_msg_init(&frames[nf]);
            if (zmq_msg_recv(&frames[nf], sock, 0) < 0) {
                zmq_msg_close(&frames[nf]);
                if (zmq_errno() == EINTR) {
                    continue; /* a signal, not the end: leaving here would
                               * leave the node with no ZAP handler, and
                               * every new connection would then fail */
                }
                for (int i = 0; i < nf; i++) {
                    zmq_msg_close(&frames[i]);
                }
                zmq_close(sock);
                return NULL; /* ETERM: shutting down */
            }
            more = zmq_msg_more(&frames[nf]);
            nf++;
        }
        /* version, request id, domain, address, routing id, mechanism, key */
        const char *status = "400", *text = "not enrolled";
        char user[SJ_CODE_MAX + 2 + SJ_KEY_Z85] = "";
        if (nf == 7 && zmq_msg_size(&frames[5]) == 5
            && memcmp(zmq_msg_data(&frames[5]), "CURVE", 5) == 0
            && zmq_msg_size(&frames[6]) == SJ_KEY_BYTES) {
            char code[SJ_CODE_MAX + 1];
            const uint8_t *pk = zmq_msg_data(&frames[6]);
            char z85[SJ_KEY_Z85];
            sj_key_encode(pk, z85);
            if (s_lookup(self, pk, code, sizeof code)) {
                status = "200";
                text = "OK";
                snprintf(user, sizeof user, "%s/%s", code, z85);
            } else {
                sj_warn("refused a connection with key %s: not in the allowlist", z85);
            }
        } else {
            text = "CURVE required";
        }
        zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
        if (nf >= 2) {
            zmq_send(sock, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), ZMQ_SNDMORE);
        } else {
            zmq_send(sock, "", 0, ZMQ_SNDMORE);
        }
        zmq_send(sock, status, 3, ZMQ_SNDMORE);
        zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
        zmq_send(sock, "", 0, 0);
        for (int i = 0; i < nf; i++) {
            zmq_msg_close(&frames[i]);
        }
    }
}

sj_auth_t *
sj_auth_start(void *zctx, const char *allowlist_path, char *err, size_t err_size)
{
    sj_auth_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->zctx = zctx;
    snprintf(self->path, sizeof self->path, "%s", allowlist_path);
    pthread_mutex_init(&self->lock, NULL);
    if (s_load(self->path, &self->entries, &self->n, err, err_size) != SJ_OK) {
        goto fail;
    }
    void *sock = zmq_socket(zctx, ZMQ_REP);
    int zero = 0;
    if (!sock || zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero) != 0
        || zmq_bind(sock, "inproc://zeromq.zap.01") != 0) {
        snprintf(err, err_size, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (sock) {
            zmq_close(sock);
        }
        goto fail;
    }
    s_zap_arg_t *za = malloc(sizeof *za);
    if (!za) {
        zmq_close(sock);
        goto fail;
    }
    za->auth = self;
    za->sock = sock;
    /* The thread blocks every signal (SIGHUP, SIGTERM, ...), so that they
     * go to the main thread, which handles them: a signal delivered here
     * would interrupt the ZAP socket's receive instead. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int created = pthread_create(&self->thread, NULL, s_zap_main, za);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (created != 0) {
        free(za);
        zmq_close(sock);
        snprintf(err, err_size, "cannot start the ZAP thread");
        goto fail;
    }
    self->started = 1;
    sj_notice("%zu key%s enrolled in %s", self->n, self->n == 1 ? "" : "s", self->path);
    return self;
fail:
    pthread_mutex_destroy(&self->lock);
    free(self->entries);
    free(self);
    return NULL;
}

int
sj_auth_reload(sj_auth_t *self, char *err, size_t err_size)
{
    s_entry_t *v = NULL;
    size_t n = 0;
    int rc = s_load(self->path, &v, &n, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    pthread_mutex_lock(&self->lock);
    s_entry_t *old = self->entries;
    self->entries = v;
    self->n = n;
    pthread_mutex_unlock(&self->lock);
    free(old);
    sj_notice("allowlist reloaded: %zu key%s", n, n == 1 ? "" : "s");
    return SJ_OK;
}

int
sj_auth_allowed(sj_auth_t *self, const char *user_id, char *code_out, size_t code_size)
{
    const char *slash = user_id ? strchr(user_id, '/') : NULL;
    if (!slash || (size_t) (slash - user_id) >= code_size) {
        return 0;
    }
    uint8_t pk[SJ_KEY_BYTES];
    if (sj_key_decode(slash + 1, pk) != SJ_OK) {
        return 0;
    }
    char code[SJ_CODE_MAX + 1];
    if (!s_lookup(self, pk, code, sizeof code) || strlen(code) != (size_t) (slash - user_id)
        || strncmp(code, user_id, (size_t) (slash - user_id)) != 0) {
        return 0;
    }
    snprintf(code_out, code_size, "%s", code);
    return 1;
}

void
sj_auth_stop(sj_auth_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_auth_t *self = *self_p;
    if (self->started) {
        zmq_ctx_shutdown(self->zctx);
        pthread_join(self->thread, NULL);
    }
    pthread_mutex_destroy(&self->lock);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

int
sj_auth_server_socket(void *sock, const sj_keypair_t *kp)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
        || zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->sk, SJ_KEY_BYTES) != 0
        || zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, SJ_ZAP_DOMAIN, strlen(SJ_ZAP_DOMAIN)) != 0
        || zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0) {
        sj_error("cannot make a CURVE server socket: %s", zmq_strerror(zmq_errno()));
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
sj_auth_client_socket(void *sock, const sj_keypair_t *kp, const uint8_t server_pk[SJ_KEY_BYTES])
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_pk, SJ_KEY_BYTES) != 0
        || zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->pk, SJ_KEY_BYTES) != 0
        || zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->sk, SJ_KEY_BYTES) != 0) {
        sj_error("cannot make a CURVE client socket: %s", zmq_strerror(zmq_errno()));
        return SJ_EINVAL;
    }
    return SJ_OK;
}
