/* sj_http: see sj_http.h.
 *
 * Every request is answered on the first call of the access handler: the
 * server takes no request bodies (GET and HEAD only), so there is no upload
 * state to keep between calls, and a request with a body of another method
 * is refused before the body is read.
 *
 * Order of checks, each answering and stopping on failure:
 *   Host without a token (421) -> method (405) -> token (401) ->
 *   too many parameters (400) -> asset ->
 *   the tier's handler (its own 400/404) -> 500 if it did not answer. */
#include "sj_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <sodium.h>

#include "sj_log.h"

#define S_HASH_BYTES 32 /* BLAKE2b of a token, compared in constant time */

static const char s_csp[] = "default-src 'none'; script-src 'self'; style-src 'self';"
                            " img-src 'self' data:; connect-src 'self'; base-uri 'none';"
                            " form-action 'self'; frame-ancestors 'none'";

struct sj_http {
    struct MHD_Daemon *daemon;            /* the libmicrohttpd server */
    int has_token;                        /* requests must carry the token */
    uint8_t token_hash[S_HASH_BYTES];     /* BLAKE2b of the token */
    char token_qs[SJ_HTTP_TOKEN_MAX + 8]; /* "?token=..." or "" for HTML assets */
    const sj_http_asset_t *assets;        /* borrowed, static; may be NULL */
    sj_http_handler_fn *handler;          /* the tier's routes */
    void *ctx;                            /* handler's context (borrowed) */
    int loopback;                         /* bound to a loopback address */
    uint16_t port;                        /* bound port */
};

struct sj_http_req {
    sj_http_t *http;                      /* the server */
    struct MHD_Connection *conn;          /* borrowed from libmicrohttpd */
    const char *path;                     /* URL path, decoded */
    size_t nargs;                         /* parameters in names/values */
    const char *names[SJ_HTTP_MAX_ARGS];  /* borrowed from libmicrohttpd */
    const char *values[SJ_HTTP_MAX_ARGS]; /* "" for a parameter without '=' */
    int too_many;                         /* more than SJ_HTTP_MAX_ARGS */
    const char *token;                    /* the ?token= value, if any */
    int replied;                          /* a response was queued */
    enum MHD_Result result;               /* what MHD_queue_response said */
};

/* ---- token ---- */

static int
s_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '~' || c == '-';
}

int
sj_http_token_load(const char *path, char *out, size_t size, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot read the token file %s: %s", path, strerror(errno));
        return SJ_EINVAL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
        fclose(f);
        snprintf(err, err_size, "the token file %s is readable by others (chmod 600 it)", path);
        return SJ_EINVAL;
    }
    char line[SJ_HTTP_TOKEN_MAX + 4] = "";
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t n = got ? strlen(line) : 0;
    while (n > 0
           && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '
               || line[n - 1] == '\t')) {
        line[--n] = '\0';
    }
    int ok = n >= SJ_HTTP_TOKEN_MIN && n <= SJ_HTTP_TOKEN_MAX && n < size;
    for (size_t i = 0; ok && i < n; i++) {
        ok = s_token_char(line[i]);
    }
    if (!ok) {
        snprintf(err, err_size,
                 "the token in %s must be %d to %d characters of A-Z a-z 0-9 . _ ~ -"
                 " (e.g. made by: head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d =)",
                 path, SJ_HTTP_TOKEN_MIN, SJ_HTTP_TOKEN_MAX);
        sodium_memzero(line, sizeof line);
        return SJ_EINVAL;
    }
    memcpy(out, line, n + 1);
    sodium_memzero(line, sizeof line);
    return SJ_OK;
}

/* Constant time whatever the presented length (the hashes are compared). */
static int
s_token_ok(const sj_http_t *self, const char *presented)
{
    if (!presented) {
        return 0;
    }
    size_t n = strnlen(presented, SJ_HTTP_TOKEN_MAX + 1);
    uint8_t h[S_HASH_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *) presented, n, NULL, 0);
    return sodium_memcmp(h, self->token_hash, sizeof h) == 0;
}

/* ---- responses ---- */

static void
s_queue(sj_http_req_t *req, unsigned int status, struct MHD_Response *resp, const char *type)
{
    if (!resp) {
        req->result = MHD_NO; /* out of memory: libmicrohttpd drops the connection */
        req->replied = 1;
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "Content-Security-Policy", s_csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sanji\"");
    }
    req->result = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    req->replied = 1;
}

void
sj_http_reply(
    sj_http_req_t *req, unsigned int status, const char *content_type, const void *body, size_t len)
{
    if (req->replied) {
        sj_error("http: %s answered twice (a bug)", req->path);
        return;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
    s_queue(req, status, resp, content_type);
}

void
sj_http_reply_error(sj_http_req_t *req, unsigned int status, const char *reason)
{
    cJSON *obj = cJSON_CreateObject();
    char *text = NULL;
    if (obj && cJSON_AddStringToObject(obj, "error", reason)) {
        text = cJSON_PrintUnformatted(obj);
    }
    cJSON_Delete(obj);
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        sj_http_reply(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", oom, sizeof oom - 1);
        return;
    }
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: the body is length-counted */
    sj_http_reply(req, status, "application/json", text, n + 1);
    cJSON_free(text);
}

/* An HTML asset with SJ_HTTP_TOKEN_QS replaced; other assets as they are. */
static void
s_reply_asset(sj_http_req_t *req, const sj_http_asset_t *a)
{
    if (strncmp(a->mime, "text/html", 9) != 0) {
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(a->len, (void *) a->data, MHD_RESPMEM_PERSISTENT);
        s_queue(req, MHD_HTTP_OK, resp, a->mime);
        return;
    }
    const char *qs = req->http->token_qs;
    size_t mark = strlen(SJ_HTTP_TOKEN_QS), qlen = strlen(qs);
    char *out = malloc(a->len / mark * (qlen + 1) + a->len + 1);
    if (!out) {
        sj_http_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < a->len;) {
        if (a->len - i >= mark && memcmp(a->data + i, SJ_HTTP_TOKEN_QS, mark) == 0) {
            memcpy(out + o, qs, qlen); /* NOLINT: out is length-counted, not a string */
            o += qlen;
            i += mark;
        } else {
            out[o++] = (char) a->data[i++];
        }
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(o, out, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(out);
    }
    s_queue(req, MHD_HTTP_OK, resp, a->mime);
}

/* ---- requests ---- */

static enum MHD_Result
s_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    sj_http_req_t *req = cls;
    if (!key) {
        return MHD_YES;
    }
    if (strcmp(key, "token") == 0) {
        req->token = value ? value : "";
        return MHD_YES;
    }
    if (req->nargs == SJ_HTTP_MAX_ARGS) {
        req->too_many = 1;
        return MHD_NO;
    }
    req->names[req->nargs] = key;
    req->values[req->nargs] = value ? value : "";
    req->nargs++;
    return MHD_YES;
}

static int
s_authorised(const sj_http_t *self, sj_http_req_t *req)
{
    if (!self->has_token) {
        return 1;
    }
    const char *auth =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && strncmp(auth, "Bearer ", 7) == 0 && s_token_ok(self, auth + 7)) {
        return 1;
    }
    return s_token_ok(self, req->token);
}

/* Without a token, the Host header must name this server as a loopback
 * client reaches it: 127.x.y.z, [::1] or localhost, with the bound port.
 * A DNS-rebinding page sends its own host name and is refused. */
static int
s_host_ok(const sj_http_t *self, const char *host)
{
    if (!host) {
        return 0;
    }
    const char *colon = strrchr(host, ':');
    if (!colon || (host[0] == '[' && colon < strchr(host, ']'))) {
        return 0; /* no port: a loopback page always names one */
    }
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port != self->port) {
        return 0;
    }
    size_t n = (size_t) (colon - host);
    if (n == 9 && strncasecmp(host, "localhost", 9) == 0) {
        return 1;
    }
    if (n == 5 && strncmp(host, "[::1]", 5) == 0) {
        return 1;
    }
    char name[INET_ADDRSTRLEN];
    struct in_addr a;
    if (n >= sizeof name) {
        return 0;
    }
    memcpy(name, host, n);
    name[n] = '\0';
    return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static enum MHD_Result
s_access(void *cls,
         struct MHD_Connection *conn,
         const char *url,
         const char *method,
         const char *version,
         const char *upload_data,
         size_t *upload_data_size,
         void **con_cls)
{
    (void) version;
    (void) upload_data;
    (void) upload_data_size;
    (void) con_cls;
    sj_http_t *self = cls;
    sj_http_req_t req;
    memset(&req, 0, sizeof req);
    req.http = self;
    req.conn = conn;
    req.path = url ? url : "/";
    req.result = MHD_NO;
    if (!self->has_token
        && !s_host_ok(self,
                      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))) {
        char why[96];
        snprintf(
            why, sizeof why,
            "misdirected request: without a token only Host 127.0.0.1:%u or localhost:%u is served",
            (unsigned) self->port, (unsigned) self->port);
        sj_http_reply_error(&req, MHD_HTTP_MISDIRECTED_REQUEST, why);
        return req.result;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        sj_http_reply_error(&req, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: only GET and HEAD");
        return req.result;
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, s_arg, &req);
    if (!s_authorised(self, &req)) {
        sj_http_reply_error(&req, MHD_HTTP_UNAUTHORIZED,
                            "a token is needed: Authorization: Bearer TOKEN or ?token=TOKEN");
        return req.result;
    }
    if (req.too_many) {
        sj_http_reply_error(&req, MHD_HTTP_BAD_REQUEST, "too many query parameters");
        return req.result;
    }
    const char *path = strcmp(req.path, "/") == 0 ? "/index.html" : req.path;
    for (const sj_http_asset_t *a = self->assets; a && a->path; a++) {
        if (strcmp(a->path, path) == 0) {
            s_reply_asset(&req, a);
            return req.result;
        }
    }
    self->handler(self->ctx, &req);
    if (!req.replied) {
        sj_error("http: no answer for %s (a bug)", req.path);
        sj_http_reply_error(&req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    return req.result;
}

const char *
sj_http_req_path(const sj_http_req_t *req)
{
    return req->path;
}

size_t
sj_http_req_nargs(const sj_http_req_t *req)
{
    return req->nargs;
}

void
sj_http_req_arg(const sj_http_req_t *req, size_t i, const char **name, const char **value)
{
    *name = i < req->nargs ? req->names[i] : NULL;
    *value = i < req->nargs ? req->values[i] : NULL;
}

int
sj_http_req_args(const sj_http_req_t *req,
                 const char *const *allowed,
                 const char **values,
                 char *err,
                 size_t err_size)
{
    size_t nallowed = 0;
    while (allowed[nallowed]) {
        values[nallowed++] = NULL;
    }
    for (size_t i = 0; i < req->nargs; i++) {
        size_t k = 0;
        while (k < nallowed && strcmp(allowed[k], req->names[i]) != 0) {
            k++;
        }
        if (k == nallowed) {
            snprintf(err, err_size, "unknown parameter '%.64s'", req->names[i]);
            return SJ_EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(req->names[j], req->names[i]) == 0) {
                snprintf(err, err_size, "parameter '%s' is given twice", allowed[k]);
                return SJ_EINVAL;
            }
        }
        values[k] = req->values[i][0] ? req->values[i] : NULL;
    }
    return SJ_OK;
}

/* ---- server ---- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
s_log(void *cls, const char *fm, va_list ap)
{
    (void) cls;
    char text[512];
    vsnprintf(text, sizeof text, fm, ap);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n') {
        text[--n] = '\0';
    }
    sj_warn("http: %s", text);
}
#pragma GCC diagnostic pop

static int
s_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) (const void *) sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) (const void *) sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
            return 1;
        }
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int
s_parse_addr(const char *addr, struct sockaddr_storage *ss, char *err, size_t err_size)
{
    char host[256];
    const char *port = NULL;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':' || (size_t) (end - addr - 1) >= sizeof host) {
            goto bad;
        }
        memcpy(host, addr + 1, (size_t) (end - addr - 1));
        host[end - addr - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon || strchr(addr, ':') != colon || (size_t) (colon - addr) >= sizeof host) {
            goto bad;
        }
        memcpy(host, addr, (size_t) (colon - addr));
        host[colon - addr] = '\0';
        port = colon + 1;
    }
    char *end = NULL;
    long p = strtol(port, &end, 10);
    if (!host[0] || !*port || !end || *end || p < 0 || p > 65535) {
        goto bad;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(err, err_size, "--http %s: %s", addr, gai_strerror(gai));
        return SJ_EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return SJ_OK;
bad:
    snprintf(err, err_size, "--http '%s' is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
             addr);
    return SJ_EINVAL;
}

static int
s_policy(
    const char *addr, const struct sockaddr_storage *ss, int has_token, char *err, size_t err_size)
{
    if (!s_is_loopback((const struct sockaddr *) ss) && !has_token) {
        snprintf(err, err_size,
                 "--http %s is not a loopback address: serving it needs --token-file FILE"
                 " (every request must then carry the token)",
                 addr);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
sj_http_addr_check(const char *addr, int has_token, char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    if (!addr) {
        snprintf(err, err_size, "no address to serve on");
        return SJ_EINVAL;
    }
    if (s_parse_addr(addr, &ss, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    return s_policy(addr, &ss, has_token, err, err_size);
}

/* A listening socket on ss, or -1 with the reason in err. */
static int
s_listen(const char *addr, const struct sockaddr_storage *ss, char *err, size_t err_size)
{
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    unsigned port = ss->ss_family == AF_INET6
                        ? ntohs(((const struct sockaddr_in6 *) (const void *) ss)->sin6_port)
                        : ntohs(((const struct sockaddr_in *) (const void *) ss)->sin_port);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, err_size, "cannot serve HTTP on %s: %s", addr, strerror(errno));
        return -1;
    }
    int one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss->ss_family == AF_INET6) {
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (bind(fd, (const struct sockaddr *) ss, len) != 0) {
        int e = errno;
        if (e == EADDRINUSE) {
            snprintf(err, err_size,
                     "cannot serve HTTP on %s: port %u is in use (another serve or program"
                     " listens there; choose another port with --http)",
                     addr, port);
        } else if (e == EADDRNOTAVAIL) {
            snprintf(err, err_size,
                     "cannot serve HTTP on %s: the address is not one of this machine's", addr);
        } else if (e == EACCES) {
            snprintf(err, err_size,
                     "cannot serve HTTP on %s: port %u needs privileges (use a port above 1023)",
                     addr, port);
        } else {
            snprintf(err, err_size, "cannot serve HTTP on %s (port %u): %s", addr, port,
                     strerror(e));
        }
        close(fd);
        return -1;
    }
    if (listen(fd, SOMAXCONN) != 0) {
        snprintf(err, err_size, "cannot serve HTTP on %s (port %u): %s", addr, port,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

sj_http_t *
sj_http_new(const char *addr,
            const char *token,
            const sj_http_asset_t *assets,
            sj_http_handler_fn *handler,
            void *ctx,
            char *err,
            size_t err_size)
{
    struct sockaddr_storage ss;
    if (sj_http_addr_check(addr, token != NULL, err, err_size) != SJ_OK
        || s_parse_addr(addr, &ss, err, err_size) != SJ_OK) {
        return NULL;
    }
    int loopback = s_is_loopback((const struct sockaddr *) &ss);
    sj_http_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->assets = assets;
    self->handler = handler;
    self->ctx = ctx;
    self->loopback = loopback;
    if (token) {
        self->has_token = 1;
        crypto_generichash(self->token_hash, sizeof self->token_hash, (const unsigned char *) token,
                           strlen(token), NULL, 0);
        snprintf(self->token_qs, sizeof self->token_qs, "?token=%s", token);
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    /* The socket is bound here, not by libmicrohttpd, so that a port in use
     * is told as such (libmicrohttpd says "Failed to bind to port 0"). */
    int fd = s_listen(addr, &ss, err, err_size);
    if (fd < 0) {
        sj_http_destroy(&self);
        return NULL;
    }
    self->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, s_access, self, MHD_OPTION_EXTERNAL_LOGGER, s_log,
                         NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned int) SJ_HTTP_CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                         (unsigned int) SJ_HTTP_CONN_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned int) SJ_HTTP_TIMEOUT_S, MHD_OPTION_END);
    if (!self->daemon) {
        close(fd);
        snprintf(err, err_size, "cannot serve HTTP on %s (see the log above)", addr);
        sj_http_destroy(&self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    return self;
}

void
sj_http_destroy(sj_http_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_http_t *self = *self_p;
    if (self->daemon) {
        MHD_stop_daemon(self->daemon);
    }
    sodium_memzero(self->token_qs, sizeof self->token_qs);
    free(self);
    *self_p = NULL;
}

uint16_t
sj_http_port(const sj_http_t *self)
{
    return self->port;
}

int
sj_http_is_loopback(const sj_http_t *self)
{
    return self->loopback;
}

void
sj_http_signals_block(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int
sj_http_signals_wait(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}

void
sj_http_url(const char *addr, uint16_t port, char *out, size_t size)
{
    const char *colon = strrchr(addr, ':');
    int hostlen = colon ? (int) (colon - addr) : (int) strlen(addr);
    snprintf(out, size, "http://%.*s:%u/", hostlen, addr, (unsigned) port);
}
