/* harness: processes, nodes, databases and a raw protocol client for the
 * integration tests (see harness.h). The three s_*_argv functions are the
 * only places that know the binaries' command lines. */
#include "harness.h"

#include "sj_auth.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "sj_ids.h"
#include "sj_wire.h"

#ifndef AGENT_BIN
#error "AGENT_BIN, HUB_BIN and COUNTY_BIN come from tests/CMakeLists.txt"
#endif

#define POLL_MS      2 /* interval of every wait loop (short: "mid-stream" windows are brief) */
#define MAX_ARGS     64
#define STOP_WAIT_MS 10000

struct h_env {
    char dir[H_PATH / 2]; /* short enough that every path under it fits H_PATH */
    int64_t start_ms;     /* when the env was made, for the timing line */
    h_proc_t procs[H_MAX_PROCS];
    int daemon[H_MAX_PROCS]; /* 1: stop with SIGTERM and expect exit 0 */
    size_t n_procs;
    h_node_t nodes[H_MAX_NODES];
    size_t n_nodes;
    int n_runs;
};

/* ---- environment and deadlines ---- */

int
h_valgrind(void)
{
    const char *v = getenv("SANJI_VALGRIND");
    if (!v || !*v || strcmp(v, "0") == 0) {
        return 0;
    }
    return strcmp(v, "2") == 0 ? 2 : 1;
}

int
h_ms(int base_ms)
{
    return h_valgrind() ? base_ms * 10 : base_ms;
}

int
h_known_bug(const char *what)
{
    const char *v = getenv("SANJI_KNOWN_BUGS");
    if (v && strcmp(v, "1") == 0) {
        return 1;
    }
    fprintf(stderr, "# known bug, skipped (SANJI_KNOWN_BUGS=1 runs it): %s\n", what);
    return 0;
}

int64_t
h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
h_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

h_env_t *
h_env_new(const char *name)
{
    h_env_t *env = calloc(1, sizeof *env);
    if (!env) {
        return NULL;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(env->dir, sizeof env->dir, "%s/sanji-it-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(env->dir)) {
        fprintf(stderr, "# mkdtemp %s: %s\n", env->dir, strerror(errno));
        free(env);
        return NULL;
    }
    char logs[H_PATH + 8];
    snprintf(logs, sizeof logs, "%s/log", env->dir);
    if (mkdir(logs, 0700) != 0 || sj_ids_init() != SJ_OK) {
        fprintf(stderr, "# cannot prepare %s\n", env->dir);
        h_rmrf(env->dir);
        free(env);
        return NULL;
    }
    fprintf(stderr, "# %s: %s\n", name, env->dir);
    env->start_ms = h_now_ms();
    return env;
}

const char *
h_env_dir(const h_env_t *env)
{
    return env->dir;
}

int
h_env_destroy(h_env_t **env_p)
{
    if (!env_p || !*env_p) {
        return 0;
    }
    h_env_t *env = *env_p;
    int bad = 0;
    /* Clean stops first, so that valgrind can report; commands are killed. */
    for (size_t i = 0; i < env->n_procs; i++) {
        h_proc_t *p = &env->procs[i];
        if (p->reaped) {
            continue;
        }
        int code = h_proc_kill(p, env->daemon[i] ? SIGTERM : SIGKILL);
        if (env->daemon[i] && code != 0) {
            fprintf(stderr, "# %s exited %d on SIGTERM (99: valgrind errors); log %s:\n", p->name,
                    code, p->out_path);
            h_print_tail(p->out_path, 40);
            bad = 1;
        }
    }
    fprintf(stderr, "# took %lld ms\n", (long long) (h_now_ms() - env->start_ms));
    const char *keep = getenv("SANJI_KEEP");
    if (keep && strcmp(keep, "1") == 0) {
        fprintf(stderr, "# kept %s\n", env->dir);
    } else {
        h_rmrf(env->dir);
    }
    free(env);
    *env_p = NULL;
    return bad ? -1 : 0;
}

/* ---- processes ---- */

int
h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *) &a, sizeof a) == 0
        && getsockname(fd, (struct sockaddr *) &a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

static h_proc_t *
s_spawn(h_env_t *env, const char *name, char *const argv[], int merge, int daemon)
{
    if (env->n_procs == H_MAX_PROCS) {
        fprintf(stderr, "# harness: too many processes\n");
        return NULL;
    }
    size_t slot = env->n_procs;
    h_proc_t *p = &env->procs[slot];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    int n = ++env->n_runs;
    /* A local copy: GCC 12 at -O2 cannot tell env->dir from p's buffers (-Wrestrict). */
    char dir[200];
    snprintf(dir, sizeof dir, "%.199s", env->dir);
    n %= 10000;
    if (merge) {
        snprintf(p->out_path, sizeof p->out_path, "%s/log/%02d-%.200s.log", dir, n, name);
    } else {
        snprintf(p->out_path, sizeof p->out_path, "%s/log/%02d-%.200s.out", dir, n, name);
        snprintf(p->err_path, sizeof p->err_path, "%s/log/%02d-%.200s.err", dir, n, name);
    }
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "# fork: %s\n", strerror(errno));
        return NULL;
    }
    if (pid == 0) {
        /* Child: die with the test process; logs instead of the terminal. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(126);
        }
        int in = open("/dev/null", O_RDONLY);
        int out = open(p->out_path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
        int err = merge ? out : open(p->err_path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0
            || dup2(err, 2) < 0) {
            _exit(126);
        }
        /* sanji's tools start with the stop signals blocked: a SIGTERM sent
         * while one is still starting (slow under a sanitizer or a busy
         * machine) waits until its handlers are in place
         * (sj_node_signals_early) instead of killing it half way. Other
         * programs keep their signals. */
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        if (strcmp(base, "village-agent") == 0 || strcmp(base, "township-hub") == 0
            || strcmp(base, "county-server") == 0) {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGINT);
            sigaddset(&set, SIGTERM);
            sigaddset(&set, SIGHUP);
            sigprocmask(SIG_BLOCK, &set, NULL);
        }
        execvp(argv[0], argv);
        dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    env->daemon[slot] = daemon;
    env->n_procs++;
    return p;
}

h_proc_t *
h_spawn(h_env_t *env, const char *name, char *const argv[], int merge)
{
    return s_spawn(env, name, argv, merge, 0);
}

static int
s_decode_status(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

int
h_proc_wait(h_proc_t *p, int timeout_ms)
{
    if (!p || p->pid <= 0) {
        return -1;
    }
    int64_t deadline = h_now_ms() + timeout_ms;
    while (!p->reaped) {
        int status = 0;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            p->reaped = 1;
            p->status = status;
            break;
        }
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "# waitpid %s: %s\n", p->name, strerror(errno));
            return -1;
        }
        if (h_now_ms() >= deadline) {
            return -1;
        }
        h_sleep_ms(POLL_MS);
    }
    return s_decode_status(p->status);
}

int
h_proc_running(h_proc_t *p)
{
    return p && p->pid > 0 && h_proc_wait(p, 0) == -1 && !p->reaped;
}

int
h_proc_kill(h_proc_t *p, int sig)
{
    if (!p || p->pid <= 0) {
        return -1;
    }
    if (!p->reaped) {
        kill(p->pid, sig);
    }
    int code = h_proc_wait(p, h_ms(STOP_WAIT_MS));
    if (code == -1 && !p->reaped) {
        fprintf(stderr, "# %s did not stop on signal %d; SIGKILL\n", p->name, sig);
        kill(p->pid, SIGKILL);
        code = h_proc_wait(p, h_ms(STOP_WAIT_MS));
    }
    return code;
}

char *
h_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap) {
            break;
        }
        char *b2 = realloc(buf, cap * 2);
        if (!b2) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b2;
        cap *= 2;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
    }
    return buf;
}

void
h_print_tail(const char *path, int lines)
{
    char *text = h_read_file(path);
    if (!text) {
        fprintf(stderr, "#   (no log at %s)\n", path);
        return;
    }
    size_t n = strlen(text);
    const char *start = text + n;
    int seen = 0;
    while (start > text) {
        if (start[-1] == '\n' && start != text + n && ++seen >= lines) {
            break;
        }
        start--;
    }
    while (*start) {
        const char *nl = strchr(start, '\n');
        size_t len = nl ? (size_t) (nl - start) : strlen(start);
        fprintf(stderr, "#   | %.*s\n", (int) len, start);
        start += len + (nl ? 1 : 0);
    }
    free(text);
}

static int
s_has_ready_line(const char *text)
{
    for (const char *s = text; (s = strstr(s, "ready")) != NULL; s += 5) {
        if ((s == text || s[-1] == '\n') && (s[5] == '\n' || s[5] == '\r' || s[5] == ' ')) {
            return 1;
        }
    }
    return 0;
}

int
h_wait_ready(h_proc_t *p, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        char *text = h_read_file(p->out_path);
        int ready = text && s_has_ready_line(text);
        free(text);
        if (ready) {
            return 0;
        }
        if (!h_proc_running(p)) {
            fprintf(stderr, "# %s exited (%d) before it was ready; log %s:\n", p->name,
                    s_decode_status(p->status), p->out_path);
            h_print_tail(p->out_path, 30);
            return -1;
        }
        if (h_now_ms() >= deadline) {
            fprintf(stderr, "# %s not ready after %d ms; log %s:\n", p->name, timeout_ms,
                    p->out_path);
            h_print_tail(p->out_path, 30);
            return -1;
        }
        h_sleep_ms(POLL_MS);
    }
}

int
h_run(h_env_t *env, const char *name, char *const argv[], h_result_t *res, int timeout_ms)
{
    memset(res, 0, sizeof *res);
    h_proc_t *p = h_spawn(env, name, argv, 0);
    if (!p) {
        res->code = -1;
    } else {
        res->code = h_proc_wait(p, timeout_ms);
        if (res->code == -1 && !p->reaped) {
            fprintf(stderr, "# %s still running after %d ms; killed\n", name, timeout_ms);
            h_proc_kill(p, SIGKILL);
            res->code = -1;
        }
        res->out = h_read_file(p->out_path);
        res->err = h_read_file(p->err_path);
    }
    if (!res->out) {
        res->out = strdup("");
    }
    if (!res->err) {
        res->err = strdup("");
    }
    return res->code;
}

void
h_result_free(h_result_t *res)
{
    if (res) {
        free(res->out);
        free(res->err);
        res->out = res->err = NULL;
    }
}

/* Recursive, but only as deep as a test's temporary directory. */
int
h_rmrf(const char *path) /* NOLINT(misc-no-recursion) */
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return errno == ENOENT ? 0 : -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return unlink(path) == 0 ? 0 : -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char child[H_PATH * 2];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (h_rmrf(child) != 0) {
            rc = -1;
        }
    }
    closedir(d);
    return rmdir(path) == 0 ? rc : -1;
}

/* ---- command lines: the one place per role ---- */

typedef struct {
    char *v[MAX_ARGS];
    int n;
} s_argv_t;

static void
s_arg(s_argv_t *a, const char *s)
{
    if (a->n < MAX_ARGS - 1) {
        a->v[a->n++] = (char *) s;
        a->v[a->n] = NULL;
    }
}

static const char *
s_log_level(void)
{
    const char *l = getenv("SANJI_LOG_LEVEL");
    return l && *l ? l : "info";
}

static void
s_valgrind_prefix(s_argv_t *a, int level_needed)
{
    if (h_valgrind() >= level_needed) {
        s_arg(a, "valgrind");
        s_arg(a, "-q");
        s_arg(a, "--error-exitcode=99");
        /* A process armed to _exit at a crash point dies mid-operation on
         * purpose: what it holds then is not a leak (memory errors are still
         * errors). */
        const char *crash = getenv("SANJI_CRASH_AT");
        s_arg(a, crash && *crash ? "--leak-check=no" : "--leak-check=full");
    }
}

static void
s_county_argv(const h_node_t *c, s_argv_t *a)
{
    s_valgrind_prefix(a, 1);
    s_arg(a, COUNTY_BIN);
    s_arg(a, "run");
    s_arg(a, "--data");
    s_arg(a, c->data);
    s_arg(a, "--bind");
    s_arg(a, c->endpoint);
    s_arg(a, "--log-level");
    s_arg(a, s_log_level());
    for (int i = 0; c->run_extra && c->run_extra[i]; i++) {
        s_arg(a, c->run_extra[i]);
    }
}

static const h_node_t *
s_county_of(const h_node_t *n)
{
    while (n && n->role != H_COUNTY) {
        n = n->parent;
    }
    return n;
}

static void
s_hub_argv(const h_node_t *h, s_argv_t *a)
{
    s_valgrind_prefix(a, 1);
    s_arg(a, HUB_BIN);
    s_arg(a, "run");
    s_arg(a, "--data");
    s_arg(a, h->data);
    s_arg(a, "--code");
    s_arg(a, h->code);
    s_arg(a, "--bind");
    s_arg(a, h->endpoint);
    s_arg(a, "--parent");
    s_arg(a, h->parent->endpoint);
    s_arg(a, "--parent-key");
    s_arg(a, h->parent_key_override ? h->parent_key_override : h->parent->pk);
    s_arg(a, "--log-level");
    s_arg(a, s_log_level());
    for (int i = 0; h->run_extra && h->run_extra[i]; i++) {
        s_arg(a, h->run_extra[i]);
    }
}

static void
s_agent_argv(const h_node_t *s, const char *const args[], s_argv_t *a)
{
    s_valgrind_prefix(a, 2);
    s_arg(a, AGENT_BIN);
    s_arg(a, "--data");
    s_arg(a, s->data);
    s_arg(a, "--station");
    s_arg(a, s->code);
    if (s->parent) {
        s_arg(a, "--hub");
        s_arg(a, s->parent->endpoint);
        s_arg(a, "--hub-key");
        s_arg(a, s->parent_key_override ? s->parent_key_override : s->parent->pk);
    }
    const h_node_t *county = s_county_of(s);
    if (county && county->pk[0]) {
        s_arg(a, "--county-key");
        s_arg(a, county->pk);
    }
    for (int i = 0; args && args[i]; i++) {
        s_arg(a, args[i]);
    }
}

/* ---- the tree ---- */

static h_node_t *
s_node(h_env_t *env, h_role_t role, const char *code, const h_node_t *parent)
{
    if (env->n_nodes == H_MAX_NODES) {
        return NULL;
    }
    h_node_t *n = &env->nodes[env->n_nodes++];
    memset(n, 0, sizeof *n);
    n->env = env;
    n->role = role;
    n->parent = parent;
    snprintf(n->code, sizeof n->code, "%s", code ? code : "");
    const char *kind = role == H_COUNTY ? "county" : role == H_HUB ? "hub" : "station";
    char dir[200];
    snprintf(dir, sizeof dir, "%.199s", env->dir); /* a copy: see s_spawn (-Wrestrict) */
    snprintf(n->data, sizeof n->data, "%s/%s%s%.16s", dir, kind, code ? "-" : "", code ? code : "");
    if (role != H_STATION) {
        n->port = h_free_port();
        if (n->port <= 0) {
            return NULL;
        }
        snprintf(n->endpoint, sizeof n->endpoint, "tcp://127.0.0.1:%d", n->port);
    }
    return n;
}

static const char *
s_bin(h_role_t role)
{
    return role == H_COUNTY ? COUNTY_BIN : role == H_HUB ? HUB_BIN : AGENT_BIN;
}

int
h_log_count(const h_proc_t *p, const char *text)
{
    char *log = h_read_file(p->err_path[0] ? p->err_path : p->out_path);
    int n = 0;
    for (const char *q = log; q && (q = strstr(q, text)) != NULL; q++) {
        n++;
    }
    free(log);
    return n;
}

int
h_keys(h_node_t *node)
{
    char path[H_PATH + 16];
    snprintf(path, sizeof path, "%s/curve.key", node->data);
    struct stat st;
    if (stat(path, &st) == 0 && node->pk[0]) {
        return node->enrolled || !node->parent ? 0 : -1;
    }
    h_result_t r;
    char *kg_agent[] = {(char *) AGENT_BIN, "--data", node->data, "keygen", NULL};
    char *kg_daemon[] = {(char *) s_bin(node->role), "keygen", "--data", node->data, NULL};
    int code =
        h_run(node->env, "keygen", node->role == H_STATION ? kg_agent : kg_daemon, &r, h_ms(30000));
    size_t n = strcspn(r.out, "\n");
    if (code != 0 || n != 40) {
        fprintf(stderr, "# keygen for %s failed (%d): %s\n", node->data, code, r.err);
        h_result_free(&r);
        return -1;
    }
    snprintf(node->pk, sizeof node->pk, "%.40s", r.out);
    h_result_free(&r);
    node->enrolled = 0;
    if (!node->parent) {
        return 0;
    }
    h_node_t *parent = (h_node_t *) node->parent;
    /* A hub checks the code against its township, which it knows from its
     * store or, before its first run, from --code (a county: --data again). */
    int hub = parent->role == H_HUB;
    char *allow[] = {(char *) s_bin(parent->role),
                     "allow",
                     "--data",
                     parent->data,
                     hub ? "--code" : "--data",
                     hub ? parent->code : parent->data,
                     "--",
                     node->code,
                     node->pk,
                     NULL};
    code = h_run(node->env, "allow", allow, &r, h_ms(30000));
    if (code != 0) {
        fprintf(stderr, "# %s not enrolled at %s: %s", node->code, parent->data, r.err);
        h_result_free(&r);
        return -1;
    }
    h_result_free(&r);
    node->enrolled = 1;
    /* A running parent reads its allowlist on SIGHUP: wait until it has. */
    if (parent->proc && h_proc_running(parent->proc) && h_reload(parent) != 0) {
        return -1;
    }
    return 0;
}

int
h_reload(h_node_t *parent)
{
    if (!parent->proc || !h_proc_running(parent->proc)) {
        fprintf(stderr, "# %s is not running; nothing to reload\n", parent->data);
        return -1;
    }
    int before = h_log_count(parent->proc, "allowlist reloaded");
    kill(parent->proc->pid, SIGHUP);
    int64_t deadline = h_now_ms() + h_ms(10000);
    while (h_log_count(parent->proc, "allowlist reloaded") <= before) {
        if (h_now_ms() > deadline) {
            fprintf(stderr, "# %s did not reload its allowlist\n", parent->data);
            return -1;
        }
        h_sleep_ms(5);
    }
    return 0;
}

h_node_t *
h_county(h_env_t *env)
{
    h_node_t *n = s_node(env, H_COUNTY, NULL, NULL);
    return n && h_keys(n) == 0 ? n : NULL;
}

h_node_t *
h_hub(h_env_t *env, const char *code, const h_node_t *county)
{
    h_node_t *n = s_node(env, H_HUB, code, county);
    return n && h_keys(n) == 0 ? n : NULL;
}

h_node_t *
h_station(h_env_t *env, const char *code, const h_node_t *hub)
{
    h_node_t *n = s_node(env, H_STATION, code, hub);
    if (n && h_keys(n) != 0) {
        fprintf(stderr, "# station %s has no enrolled key (tests of refusal expect this)\n", code);
    }
    return n;
}

static int
s_start(h_node_t *node, s_argv_t *a)
{
    if (node->proc && !node->proc->reaped) {
        fprintf(stderr, "# %s is already running\n", node->data);
        return -1;
    }
    char name[64];
    node->launches++;
    snprintf(name, sizeof name, "%s%s%s-run%d", node->role == H_COUNTY ? "county" : "hub",
             node->code[0] ? "-" : "", node->code, node->launches);
    node->proc = s_spawn(node->env, name, a->v, 1, 1);
    if (!node->proc) {
        return -1;
    }
    return h_wait_ready(node->proc, h_ms(60000));
}

int
h_start_county(h_node_t *county)
{
    if (h_keys(county) != 0) {
        return -1;
    }
    s_argv_t a = {0};
    s_county_argv(county, &a);
    return s_start(county, &a);
}

int
h_start_hub(h_node_t *hub)
{
    if (h_keys(hub) != 0) {
        return -1;
    }
    s_argv_t a = {0};
    s_hub_argv(hub, &a);
    return s_start(hub, &a);
}

int
h_stop(h_node_t *node, int sig)
{
    if (!node->proc) {
        return -1;
    }
    int code = h_proc_kill(node->proc, sig);
    node->proc = NULL;
    return code;
}

static void
s_agent_name(const h_node_t *st, const char *const args[], char *out, size_t size)
{
    snprintf(out, size, "agent-%s-%s", st->code, args && args[0] ? args[0] : "none");
}

int
h_agent(h_node_t *station, const char *const args[], h_result_t *res, int timeout_ms)
{
    s_argv_t a = {0};
    char name[64];
    (void) h_keys(station); /* re-key a wiped store; refusal tests run unenrolled */
    s_agent_argv(station, args, &a);
    s_agent_name(station, args, name, sizeof name);
    return h_run(station->env, name, a.v, res, timeout_ms);
}

int
h_tool(h_node_t *node, const char *cmd, const char *const args[], h_result_t *res)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *) s_bin(node->role);
    argv[n++] = (char *) cmd;
    argv[n++] = "--data";
    argv[n++] = node->data;
    for (int i = 0; args && args[i] && n < 31; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(node->env, cmd, argv, res, h_ms(60000));
}

h_proc_t *
h_agent_spawn(h_node_t *station, const char *const args[])
{
    s_argv_t a = {0};
    char name[64];
    (void) h_keys(station);
    s_agent_argv(station, args, &a);
    s_agent_name(station, args, name, sizeof name);
    return h_spawn(station->env, name, a.v, 0);
}

int
h_sync(h_node_t *station, int timeout_s, h_result_t *res)
{
    char t[16];
    snprintf(t, sizeof t, "%d", timeout_s);
    const char *args[] = {"sync", "--timeout", t, NULL};
    return h_agent(station, args, res, h_ms((timeout_s + 30) * 1000));
}

h_proc_t *
h_sync_spawn(h_node_t *station, int timeout_s)
{
    char t[16];
    snprintf(t, sizeof t, "%d", timeout_s);
    const char *args[] = {"sync", "--timeout", t, NULL};
    return h_agent_spawn(station, args);
}

int
h_import(h_node_t *station, size_t n, uint32_t seed)
{
    char path[H_PATH + 64];
    snprintf(path, sizeof path, "%s/import-%s-%u.jsonl", station->env->dir, station->code, seed);
    if (h_write_jsonl(path, n, seed, station->code) != 0) {
        return -1;
    }
    const char *args[] = {"import", "--wait", "0", path, NULL};
    h_result_t r;
    int code = h_agent(station, args, &r, h_ms(60000));
    int ok = code == 0 && strtoull(r.out, NULL, 10) == n;
    if (!ok) {
        fprintf(stderr, "# import of %zu into %s: exit %d, stdout '%s', stderr:\n%s\n", n,
                station->code, code, r.out, r.err);
    }
    h_result_free(&r);
    return ok ? 0 : -1;
}

/* ---- data ---- */

static uint32_t
s_rand(uint32_t *s)
{
    /* xorshift32: reproducible from the seed, good enough to vary fields. */
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

int
h_write_jsonl(const char *path, size_t n, uint32_t seed, const char *tag)
{
    static const char *const channels[] = {"visit",  "visit",  "visit", "visit", "visit",
                                           "letter", "letter", "phone", "phone", "mailbox"};
    static const char *const levels[] = {"village", "township", "county",
                                         "city",    "province", "capital"};
    static const char *const categories[] = {"land", "enterprise_restructuring", "employment",
                                             "housing_demolition", "other"};
    static const char *const outcomes[] = {"pending", "resolved_on_spot", "accepted", "closed",
                                           "withdrawn"};
    static const char *const sources[] = {"direct", "leader_reception", "assigned", "review"};
    static const char *const texts[] = {"土地承包纠纷", "企业改制职工安置", "拖欠工资 \\\"讨薪\\\"",
                                        "房屋拆迁补偿", "邻里纠纷"};
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    uint32_t s = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        const char *channel = channels[s_rand(&s) % 10];
        int visit = strcmp(channel, "visit") == 0;
        int collective = visit && s_rand(&s) % 4 == 0;
        unsigned persons = !visit ? 1 : collective ? 5 + s_rand(&s) % 56 : 1 + s_rand(&s) % 4;
        int cat = (int) (s_rand(&s) % 5);
        char kind[40] = "";
        if (i % 5 != 0) { /* every fifth line leaves kind to its default */
            snprintf(kind, sizeof kind, "\"kind\":\"%s\",",
                     collective ? "collective" : "individual");
        }
        unsigned month = 1 + s_rand(&s) % 12, day = 1 + s_rand(&s) % 28;
        const char *level = levels[s_rand(&s) % 6];
        const char *outcome = outcomes[s_rand(&s) % 5];
        const char *source = sources[s_rand(&s) % 4];
        unsigned officer = s_rand(&s) % 200;
        fprintf(f,
                "{\"occurred_on\":\"2024-%02u-%02u\",\"channel\":\"%s\",%s\"persons\":%u,"
                "\"level\":\"%s\",\"category\":\"%s\",\"outcome\":\"%s\",\"source\":\"%s\","
                "\"summary\":\"%s #%zu %s\",\"officer\":\"信息员-%03u\"}\n",
                month, day, channel, kind, persons, level, categories[cat], outcome, source, tag,
                i + 1, texts[cat], officer);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- databases ---- */

void
h_db_path(const h_node_t *node, char *out, size_t size)
{
    const char *file = node->role == H_COUNTY ? "county-server.db"
                       : node->role == H_HUB  ? "township-hub.db"
                                              : "village-agent.db";
    snprintf(out, size, "%s/%s", node->data, file);
}

static sqlite3 *
s_db_open(const h_node_t *node)
{
    char path[H_PATH + 32];
    h_db_path(node, path, sizeof path);
    if (access(path, F_OK) != 0) {
        return NULL;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

long long
h_db_scalar(const h_node_t *node, const char *sql)
{
    sqlite3 *db = s_db_open(node);
    if (!db) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

long long
h_wait_db(const h_node_t *node, const char *sql, long long lo, long long hi, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        long long v = h_db_scalar(node, sql);
        if ((v >= lo && v <= hi) || h_now_ms() >= deadline) {
            return v;
        }
        h_sleep_ms(POLL_MS);
    }
}

int
h_streams(const h_node_t *node, h_stream_t *out, int max)
{
    sqlite3 *db = s_db_open(node);
    if (!db) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT origin, count(*), min(origin_seq), max(origin_seq),"
                           " count(DISTINCT origin_seq) FROM events GROUP BY origin, epoch"
                           " ORDER BY origin",
                           -1, &st, NULL)
        == SQLITE_OK) {
        n = 0;
        while (n < max && sqlite3_step(st) == SQLITE_ROW) {
            snprintf(out[n].origin, sizeof out[n].origin, "%s",
                     (const char *) sqlite3_column_text(st, 0));
            out[n].count = sqlite3_column_int64(st, 1);
            out[n].min_seq = sqlite3_column_int64(st, 2);
            out[n].max_seq = sqlite3_column_int64(st, 3);
            out[n].distinct_seq = sqlite3_column_int64(st, 4);
            n++;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

int
h_check_exactly_once(
    const h_node_t *county, const h_expect_t *exp, size_t n, char *why, size_t why_size)
{
    h_stream_t s[64];
    int ns = h_streams(county, s, 64);
    if (ns < 0) {
        snprintf(why, why_size, "cannot read the county's events");
        return -1;
    }
    long long want_total = 0;
    for (size_t e = 0; e < n; e++) {
        long long total = 0;
        int epochs = 0;
        for (int i = 0; i < ns; i++) {
            if (strcmp(s[i].origin, exp[e].origin) == 0) {
                total += s[i].count;
                epochs++;
            }
        }
        if (total != exp[e].total || epochs != exp[e].epochs) {
            snprintf(why, why_size, "origin %s: %lld events in %d epochs, expected %lld in %d",
                     exp[e].origin, total, epochs, exp[e].total, exp[e].epochs);
            return -1;
        }
        want_total += exp[e].total;
    }
    for (int i = 0; i < ns; i++) {
        int known = 0;
        for (size_t e = 0; e < n; e++) {
            known = known || strcmp(s[i].origin, exp[e].origin) == 0;
        }
        if (!known) {
            snprintf(why, why_size, "unexpected origin %s (%lld events)", s[i].origin, s[i].count);
            return -1;
        }
        if (s[i].min_seq != 1 || s[i].max_seq != s[i].count || s[i].distinct_seq != s[i].count) {
            snprintf(why, why_size,
                     "origin %s: stream not 1..n: count %lld, min %lld, max %lld, distinct %lld",
                     s[i].origin, s[i].count, s[i].min_seq, s[i].max_seq, s[i].distinct_seq);
            return -1;
        }
    }
    long long events = h_db_scalar(county, "SELECT count(*) FROM events");
    long long ids = h_db_scalar(county, "SELECT count(DISTINCT id) FROM events");
    long long matters = h_db_scalar(county, "SELECT count(*) FROM matters");
    long long reports = h_db_scalar(county, "SELECT count(*) FROM events WHERE type = 1");
    if (events != want_total || ids != events || matters != reports) {
        snprintf(why, why_size,
                 "events %lld, distinct ids %lld, matters %lld for %lld reports; expected %lld"
                 " events and ids, one matter per report",
                 events, ids, matters, reports, want_total);
        return -1;
    }
    return 0;
}

/* ---- raw protocol client ---- */

void *
h_raw_dealer_to(void *zctx, const uint8_t *pk, const uint8_t *sk, const h_node_t *server)
{
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    if (!s) {
        return NULL;
    }
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (pk && sk) {
        sj_keypair_t kp;
        uint8_t server_pk[SJ_KEY_BYTES];
        memcpy(kp.pk, pk, SJ_KEY_BYTES);
        memcpy(kp.sk, sk, SJ_KEY_BYTES);
        int rc = sj_key_decode(server->pk, server_pk) == SJ_OK
                     ? sj_auth_client_socket(s, &kp, server_pk)
                     : SJ_EINVAL;
        memset(&kp, 0, sizeof kp);
        if (rc != SJ_OK) {
            zmq_close(s);
            return NULL;
        }
    }
    if (zmq_connect(s, server->endpoint) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

void *
h_raw_dealer(void *zctx, h_node_t *as_node)
{
    if (!as_node->parent || h_keys(as_node) != 0) {
        return NULL;
    }
    sj_keypair_t kp;
    char err[512];
    if (sj_keypair_load(as_node->data, &kp, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "# raw client keys: %s\n", err);
        return NULL;
    }
    void *s = h_raw_dealer_to(zctx, kp.pk, kp.sk, as_node->parent);
    memset(&kp, 0, sizeof kp);
    return s;
}

int
h_raw_send(void *sock, const void *data, size_t len)
{
    return zmq_send(sock, data, len, 0) == (int) len ? 0 : -1;
}

int
h_raw_send_env(void *sock, const Sanji__Envelope *env)
{
    size_t n = sanji__envelope__get_packed_size(env);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        return -1;
    }
    sanji__envelope__pack(env, buf);
    int rc = h_raw_send(sock, buf, n);
    free(buf);
    return rc;
}

Sanji__Envelope *
h_raw_recv_env(void *sock, int timeout_ms)
{
    zmq_pollitem_t item = {.socket = sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, timeout_ms) <= 0) {
        return NULL;
    }
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    Sanji__Envelope *env = sanji__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    return env;
}

int
h_event_pack(const char *origin,
             const uint8_t epoch[16],
             uint64_t seq,
             int channel,
             uint8_t chain[32],
             uint8_t **buf,
             size_t *len)
{
    uint8_t id[16], prev[32] = {0};
    if (chain) {
        memcpy(prev, chain, sizeof prev);
    }
    sj_uuid7_new(id);
    Sanji__Event ev = SANJI__EVENT__INIT;
    Sanji__Report rep = SANJI__REPORT__INIT;
    ev.id.data = id;
    ev.id.len = sizeof id;
    ev.origin.data = (uint8_t *) origin;
    ev.origin.len = strlen(origin);
    ev.epoch.data = (uint8_t *) epoch;
    ev.epoch.len = 16;
    ev.origin_seq = seq;
    ev.prev_hash.data = prev;
    ev.prev_hash.len = sizeof prev;
    ev.created_ms = (int64_t) time(NULL) * 1000;
    rep.occurred_on.data = (uint8_t *) "2024-05-01";
    rep.occurred_on.len = 10;
    rep.channel = (Sanji__Channel) channel;
    rep.kind = SANJI__KIND__KIND_INDIVIDUAL;
    rep.persons = 1;
    rep.level = SANJI__LEVEL__LEVEL_COUNTY;
    rep.category = SANJI__CATEGORY__CATEGORY_OTHER;
    rep.outcome = SANJI__OUTCOME__OUTCOME_PENDING;
    rep.source = SANJI__SOURCE__SOURCE_DIRECT;
    rep.summary.data = (uint8_t *) "raw client event";
    rep.summary.len = strlen("raw client event");
    ev.body_case = SANJI__EVENT__BODY_REPORT;
    ev.report = &rep;
    *len = sanji__event__get_packed_size(&ev);
    *buf = malloc(*len);
    if (!*buf) {
        return -1;
    }
    sanji__event__pack(&ev, *buf);
    if (chain) {
        sj_event_hash(*buf, *len, chain);
    }
    return 0;
}
