/* sj_http: see sj_http.h.
 *
 * A GET or HEAD is answered on the first call of the access handler. A POST
 * (servers that write only) is checked on the first call (Host, Origin,
 * Content-Type), its body gathered over the next calls (s_upload_t, freed by
 * s_completed), then parsed and its CSRF token checked on the last call,
 * before the handler sees it. Any other method is refused before its body
 * is read.
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
    int writes;                           /* POST, sessions, CSRF (sj_http_new_writes) */
    int accounts;                         /* sj_http_new_accounts: the token is a bearer's */
    int any_host;                         /* bound to a wildcard address: any Host */
    char host[280];                       /* "HOST:PORT" as bound ("[::1]:PORT" for v6) */
    uint8_t secret[32];                   /* keys the CSRF tokens (random per start) */
    struct {
        char key[SJ_HTTP_ONCE_LEN];
        char location[SJ_HTTP_ONCE_LEN];
    } once[SJ_HTTP_ONCE_KEYS]; /* the idempotency memory, a ring */
    size_t once_next;          /* the next slot of the ring */
};

/* A POST body being received (libmicrohttpd's per-request pointer). */
typedef struct {
    char *buf;   /* the bytes so far */
    size_t len;  /* their number */
    int too_big; /* more than SJ_FORM_MAX_BYTES came: refused at the end */
} s_upload_t;

#define S_SID_LEN 43 /* base64url of 32 random bytes, no padding */

struct sj_http_req {
    sj_http_t *http;                      /* the server */
    struct MHD_Connection *conn;          /* borrowed from libmicrohttpd */
    const char *path;                     /* URL path, decoded */
    size_t nargs;                         /* parameters in names/values */
    const char *names[SJ_HTTP_MAX_ARGS];  /* borrowed from libmicrohttpd */
    const char *values[SJ_HTTP_MAX_ARGS]; /* "" for a parameter without '=' */
    int too_many;                         /* more than SJ_HTTP_MAX_ARGS */
    const char *token;                    /* the ?token= value, if any */
    int bearer;                           /* accounts: the header carried the token */
    int replied;                          /* a response was queued */
    int post;                             /* a POST (server that writes) */
    sj_form_t form;                       /* its parsed body */
    char sid[S_SID_LEN + 1];              /* session id ("" when not writing) */
    int new_session;                      /* sid made now: Set-Cookie it */
    char csrf[S_SID_LEN + 1];             /* the session's CSRF token */
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
    /* A page that writes says same-origin: with no-referrer a browser sends
     * "Origin: null" on its own forms, and the Origin check needs the real one. */
    MHD_add_response_header(resp, "Referrer-Policy",
                            req->http->writes ? "same-origin" : "no-referrer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                req->http->writes ? "GET, HEAD, POST" : "GET, HEAD");
    }
    if (req->new_session) {
        char cookie[S_SID_LEN + 64];
        snprintf(cookie, sizeof cookie, "sj_sid=%s; HttpOnly; SameSite=Strict; Path=/%s", req->sid,
                 req->http->accounts ? "; Max-Age=43200" : "");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
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
        req->bearer = 1;
        return 1;
    }
    if (self->accounts) {
        return 1; /* the handler decides: a login, or nothing */
    }
    return s_token_ok(self, req->token);
}

/* A plain-text refusal of a page that writes: Chinese, then English. */
static void
s_refuse(sj_http_req_t *req, unsigned int status, const char *zh, const char *en)
{
    char text[512];
    int n = snprintf(text, sizeof text, "%s\n%s\n", zh, en);
    sj_http_reply(req, status, "text/plain; charset=utf-8", text,
                  n > 0 && (size_t) n < sizeof text ? (size_t) n : strlen(text));
}

static void
s_b64(const uint8_t *bytes, size_t n, char *out, size_t size)
{
    sodium_bin2base64(out, size, bytes, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void s_csrf(const sj_http_t *self, sj_http_req_t *req);

/* The session of the request: its cookie's id when well formed, else a new
 * one (Set-Cookie on the answer); and its CSRF token. */
static void
s_session(sj_http_t *self, sj_http_req_t *req)
{
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, "sj_sid");
    int ok = cookie && strlen(cookie) == S_SID_LEN;
    for (size_t i = 0; ok && i < S_SID_LEN; i++) {
        ok = s_token_char(cookie[i]) && cookie[i] != '.' && cookie[i] != '~';
    }
    if (ok) {
        memcpy(req->sid, cookie, S_SID_LEN + 1);
        s_csrf(self, req);
    } else {
        sj_http_req_new_session(req);
    }
}

void
sj_http_req_new_session(sj_http_req_t *req)
{
    if (!req->http->writes) {
        return;
    }
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    s_b64(raw, sizeof raw, req->sid, sizeof req->sid);
    req->new_session = 1;
    s_csrf(req->http, req);
}

const char *
sj_http_req_session(const sj_http_req_t *req)
{
    return req->sid;
}

static void
s_csrf(const sj_http_t *self, sj_http_req_t *req)
{
    uint8_t mac[32];
    crypto_generichash(mac, sizeof mac, (const unsigned char *) req->sid, S_SID_LEN, self->secret,
                       sizeof self->secret);
    s_b64(mac, sizeof mac, req->csrf, sizeof req->csrf);
}

/* Host names this server: the address it is bound to, any name when it
 * is bound to a wildcard address, or, as a loopback client reaches it,
 * 127.x.y.z, [::1] or localhost with the bound port. A DNS-rebinding page
 * sends its own host name and is refused. */
static int
s_host_ok(const sj_http_t *self, const char *host)
{
    if (!host) {
        return 0;
    }
    if (self->any_host || strcmp(host, self->host) == 0) {
        return 1;
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

/* The checks of a POST before its body is read: 0 after answering. */
static int
s_post_head_ok(sj_http_req_t *req)
{
    const char *host =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *origin = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Origin");
    const char *site = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    const char *type =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    char want[320];
    snprintf(want, sizeof want, "http://%s", host ? host : "");
    if ((origin && strcmp(origin, want) != 0) || (site && strcmp(site, "cross-site") == 0)) {
        s_refuse(req, MHD_HTTP_FORBIDDEN, "拒绝：表单来自别的网站。",
                 "refused: the form comes from another site (Origin)");
        return 0;
    }
    if (!type || strncmp(type, "application/x-www-form-urlencoded", 33) != 0) {
        s_refuse(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "拒绝：只接受网页表单。",
                 "refused: only application/x-www-form-urlencoded forms are taken");
        return 0;
    }
    return 1;
}

static void
s_completed(void *cls,
            struct MHD_Connection *conn,
            void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    (void) cls;
    (void) conn;
    (void) toe;
    s_upload_t *up = *con_cls;
    if (up) {
        free(up->buf);
        free(up);
        *con_cls = NULL;
    }
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
    int post = self->writes && strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0
        && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        sj_http_reply_error(&req, MHD_HTTP_METHOD_NOT_ALLOWED,
                            self->writes ? "only GET, HEAD and POST"
                                         : "read-only: only GET and HEAD");
        return req.result;
    }
    if (self->writes) {
        s_session(self, &req);
        const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (!s_host_ok(self, host)) {
            s_refuse(&req, MHD_HTTP_FORBIDDEN, "拒绝：请求的主机名不是本机。",
                     "refused: the Host header does not name this server");
            return req.result;
        }
    }
    if (post) {
        s_upload_t *up = *con_cls;
        if (!up) { /* the first call: headers only */
            if (!s_post_head_ok(&req)) {
                return req.result;
            }
            up = calloc(1, sizeof *up);
            if (!up) {
                return MHD_NO;
            }
            *con_cls = up;
            return MHD_YES;
        }
        if (*upload_data_size > 0) { /* a piece of the body */
            if (up->len + *upload_data_size > SJ_FORM_MAX_BYTES) {
                up->too_big = 1;
            } else {
                char *buf = realloc(up->buf, up->len + *upload_data_size);
                if (!buf) {
                    return MHD_NO;
                }
                memcpy(buf + up->len, upload_data, *upload_data_size);
                up->buf = buf;
                up->len += *upload_data_size;
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        /* the body is complete */
        req.post = 1;
        char why[200] = "";
        if (up->too_big) {
            s_refuse(&req, MHD_HTTP_CONTENT_TOO_LARGE, "拒绝：表单太大。",
                     "refused: the form is too large");
            return req.result;
        }
        int rc = sj_form_parse(&req.form, up->buf ? up->buf : "", up->len, why, sizeof why);
        if (rc != SJ_OK) {
            char en[260];
            snprintf(en, sizeof en, "refused: %s", rc == SJ_ENOMEM ? "out of memory" : why);
            s_refuse(&req, MHD_HTTP_BAD_REQUEST, "拒绝：表单无法读取。", en);
            return req.result;
        }
        const char *csrf = sj_form_get(&req.form, "csrf");
        if (req.new_session || !csrf || strlen(csrf) != S_SID_LEN
            || sodium_memcmp(csrf, req.csrf, S_SID_LEN) != 0) {
            sj_form_free(&req.form);
            s_refuse(&req, MHD_HTTP_FORBIDDEN,
                     "拒绝：表单缺少有效的安全令牌（CSRF）。请重新打开页面再提交。",
                     "refused: the form has no valid CSRF token; open the page again and resubmit");
            return req.result;
        }
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, s_arg, &req);
    if (!s_authorised(self, &req)) {
        sj_form_free(&req.form);
        sj_http_reply_error(&req, MHD_HTTP_UNAUTHORIZED,
                            "a token is needed: Authorization: Bearer TOKEN or ?token=TOKEN");
        return req.result;
    }
    if (req.too_many) {
        sj_form_free(&req.form);
        sj_http_reply_error(&req, MHD_HTTP_BAD_REQUEST, "too many query parameters");
        return req.result;
    }
    const char *path = strcmp(req.path, "/") == 0 ? "/index.html" : req.path;
    for (const sj_http_asset_t *a = self->assets; !post && a && a->path; a++) {
        if (strcmp(a->path, path) == 0
            && !(self->accounts && strncmp(a->mime, "text/html", 9) == 0)) {
            s_reply_asset(&req, a);
            return req.result;
        }
    }
    self->handler(self->ctx, &req);
    sj_form_free(&req.form);
    if (!req.replied) {
        sj_error("http: no answer for %s (a bug)", req.path);
        sj_http_reply_error(&req, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    return req.result;
}

int
sj_http_reply_asset(sj_http_req_t *req, const char *path)
{
    for (const sj_http_asset_t *a = req->http->assets; a && a->path; a++) {
        if (strcmp(a->path, path) == 0) {
            s_reply_asset(req, a);
            return 1;
        }
    }
    return 0;
}

int
sj_http_req_bearer(const sj_http_req_t *req)
{
    return req->bearer;
}

void
sj_http_req_client(const sj_http_req_t *req, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char text[INET6_ADDRSTRLEN] = "?";
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *) (const void *) sa)->sin_addr, text,
                      sizeof text);
        } else if (sa->sa_family == AF_INET6) {
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr, text,
                      sizeof text);
        }
    }
    snprintf(out, size, "%s", text);
}

int
sj_http_req_is_post(const sj_http_req_t *req)
{
    return req->post;
}

const sj_form_t *
sj_http_req_form(const sj_http_req_t *req)
{
    return req->post ? &req->form : NULL;
}

const char *
sj_http_req_csrf(const sj_http_req_t *req)
{
    return req->csrf;
}

const char *
sj_http_req_header(const sj_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void
sj_http_reply_redirect(sj_http_req_t *req, const char *location)
{
    if (req->replied) {
        sj_error("http: %s answered twice (a bug)", req->path);
        return;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    }
    s_queue(req, MHD_HTTP_SEE_OTHER, resp, "text/plain; charset=utf-8");
}

int
sj_http_once_get(sj_http_req_t *req, const char *key, char *location, size_t size)
{
    sj_http_t *self = req->http;
    if (!key || !key[0] || strlen(key) >= SJ_HTTP_ONCE_LEN) {
        return 0;
    }
    for (size_t i = 0; i < SJ_HTTP_ONCE_KEYS; i++) {
        if (strcmp(self->once[i].key, key) == 0) {
            snprintf(location, size, "%s", self->once[i].location);
            return 1;
        }
    }
    return 0;
}

void
sj_http_once_put(sj_http_req_t *req, const char *key, const char *location)
{
    sj_http_t *self = req->http;
    if (!key || !key[0] || strlen(key) >= SJ_HTTP_ONCE_LEN) {
        return;
    }
    size_t i = self->once_next;
    self->once_next = (i + 1) % SJ_HTTP_ONCE_KEYS;
    snprintf(self->once[i].key, sizeof self->once[i].key, "%s", key);
    snprintf(self->once[i].location, sizeof self->once[i].location, "%s", location);
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

static sj_http_t *
s_new(const char *addr,
      const char *token,
      const sj_http_asset_t *assets,
      sj_http_handler_fn *handler,
      void *ctx,
      int writes,
      const uint8_t *secret,
      int accounts,
      char *err,
      size_t err_size)
{
    struct sockaddr_storage ss;
    if (sj_http_addr_check(addr, token != NULL || writes == 2, err, err_size) != SJ_OK
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
    self->writes = writes;
    self->accounts = accounts;
    if (secret) {
        memcpy(self->secret, secret, sizeof self->secret);
    } else {
        randombytes_buf(self->secret, sizeof self->secret);
    }
    if (token) {
        self->has_token = 1;
        crypto_generichash(self->token_hash, sizeof self->token_hash, (const unsigned char *) token,
                           strlen(token), NULL, 0);
        if (!accounts) { /* a page with accounts never puts the token in a URL */
            snprintf(self->token_qs, sizeof self->token_qs, "?token=%s", token);
        }
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
                         (unsigned int) SJ_HTTP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, s_completed,
                         NULL, MHD_OPTION_END);
    if (!self->daemon) {
        close(fd);
        snprintf(err, err_size, "cannot serve HTTP on %s (see the log above)", addr);
        sj_http_destroy(&self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) (const void *) &ss;
        char text[INET_ADDRSTRLEN] = "";
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        self->any_host = in->sin_addr.s_addr == htonl(INADDR_ANY);
        snprintf(self->host, sizeof self->host, "%s:%u", text, (unsigned) self->port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) (const void *) &ss;
        char text[INET6_ADDRSTRLEN] = "";
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        self->any_host = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
        snprintf(self->host, sizeof self->host, "[%s]:%u", text, (unsigned) self->port);
    }
    return self;
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
    return s_new(addr, token, assets, handler, ctx, 0, NULL, 0, err, err_size);
}

sj_http_t *
sj_http_new_writes(const char *addr,
                   const char *token,
                   int own_login,
                   const sj_http_asset_t *assets,
                   sj_http_handler_fn *handler,
                   void *ctx,
                   char *err,
                   size_t err_size)
{
    return s_new(addr, token, assets, handler, ctx, own_login ? 2 : 1, NULL, 0, err, err_size);
}

sj_http_t *
sj_http_new_writes_keyed(const char *addr,
                         const char *token,
                         int own_login,
                         const uint8_t secret[SJ_HTTP_SECRET_BYTES],
                         const sj_http_asset_t *assets,
                         sj_http_handler_fn *handler,
                         void *ctx,
                         char *err,
                         size_t err_size)
{
    return s_new(addr, token, assets, handler, ctx, own_login ? 2 : 1, secret, 0, err, err_size);
}

sj_http_t *
sj_http_new_accounts(const char *addr,
                     const char *token,
                     const sj_http_asset_t *assets,
                     sj_http_handler_fn *handler,
                     void *ctx,
                     char *err,
                     size_t err_size)
{
    return s_new(addr, token, assets, handler, ctx, 2, NULL, 1, err, err_size);
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
    sodium_memzero(self->secret, sizeof self->secret);
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
