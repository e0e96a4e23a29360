/* sj_http: the small read-only web server of the county dashboard and the
 * township status page, over libmicrohttpd.
 *
 * What every page of sanji gets from here, so no tier can forget it:
 *   - only GET and HEAD (anything else: 405 with Allow);
 *   - loopback by default; a server on any other address must have a
 *     token, and then every request must carry it, as
 *     "Authorization: Bearer TOKEN" or "?token=TOKEN" (else 401);
 *   - without a token, only a loopback Host (127.x.y.z, [::1], localhost)
 *     with the bound port is served, else 421: a page of another site that
 *     a DNS rebinding points at 127.0.0.1 cannot read the dashboard;
 *   - the assets compiled into the binary (sj_http_asset_t, made at build
 *     time by common/sj_embed.cmake), "/" being "/index.html"; in HTML assets
 *     the text SJ_HTTP_TOKEN_QS is replaced by "?token=TOKEN" (or nothing),
 *     so a page opened with ?token= can load its scripts and styles;
 *   - errors as JSON {"error": "reason"} (400, 401, 404, 405, 421, 500);
 *   - headers: a strict Content-Security-Policy (scripts and styles from
 *     this server only), nosniff, no framing, no referrer, no caching.
 *
 * A page that writes (sj_http_new_writes) gets, in addition:
 *   - POST with an application/x-www-form-urlencoded UTF-8 body (at most
 *     SJ_FORM_MAX_BYTES), parsed before the handler runs (sj_http_req_form);
 *   - a session per browser: a random id in the cookie "sj_sid" (HttpOnly,
 *     SameSite=Strict, Path=/), set on the first answer;
 *   - a CSRF token per session (sj_http_req_csrf), a keyed BLAKE2b of the
 *     session id: every page puts it in a hidden field "csrf", and a POST
 *     without the session cookie or without the right token is refused (403)
 *     before the handler sees it;
 *   - the Host header must name this server (its address, or localhost
 *     with its port; any host when bound to a wildcard address), and a POST
 *     whose Origin is not http://HOST, or whose Sec-Fetch-Site is cross-site,
 *     is refused (403) — DNS rebinding and cross-site forms get nothing
 *     (its pages say Referrer-Policy: same-origin, so the browser sends
 *     the real Origin rather than "null");
 *   - POST-redirect-GET (sj_http_reply_redirect: 303 See Other) and an
 *     idempotency memory (sj_http_once_*) so a form key used once answers
 *     the same redirect again instead of acting twice.
 *   Refusals of a page that writes are plain text, Chinese then English.
 *
 * A page with accounts (sj_http_new_accounts, issue 17) is a page that
 * writes whose people log in (sj_login): its HTML assets and every other
 * path go to the handler, which decides who may see what (it answers an
 * HTML asset with sj_http_reply_asset); scripts, styles and images are
 * served to anyone. The token, when given, is only ever taken from the
 * header "Authorization: Bearer TOKEN" (sj_http_req_bearer: a read-only API
 * client's), never from the URL, and is never put into a page. The session
 * cookie also says Max-Age (12 hours).
 *
 * Threads: libmicrohttpd runs one internal thread (MHD_USE_INTERNAL_POLLING_THREAD,
 * no thread per connection), and the handler is called only there, one
 * request at a time: it may use a SQLite connection that nothing else uses
 * while the server runs. */
#ifndef SJ_HTTP_H
#define SJ_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"
#include "sj_form.h"

#define SJ_HTTP_MAX_ARGS  32 /* query parameters per request (more: 400) */
#define SJ_HTTP_TOKEN_MIN 16 /* token length bounds, in characters */
#define SJ_HTTP_TOKEN_MAX 256
/* Connection limits (README "Dashboards"): one address holds at most
 * SJ_HTTP_CONN_PER_IP connections (a browser opens 6), so a slow client
 * (slowloris) from a few addresses cannot take the SJ_HTTP_CONN_LIMIT slots;
 * a connection that sends nothing for SJ_HTTP_TIMEOUT_S (headers included)
 * is closed. The units raise LimitNOFILE well above the total. */
#define SJ_HTTP_CONN_LIMIT  256 /* open connections in all */
#define SJ_HTTP_CONN_PER_IP 8   /* open connections per client address */
#define SJ_HTTP_TIMEOUT_S   10  /* idle connection timeout, headers included */
#define SJ_HTTP_TOKEN_QS    "__SJ_TOKEN_QS__"

/* One file compiled into the binary. A table of them ends with path NULL. */
typedef struct {
    const char *path;          /* URL path, e.g. "/app.js" */
    const char *mime;          /* Content-Type */
    const unsigned char *data; /* the bytes */
    size_t len;                /* their number */
} sj_http_asset_t;

typedef struct sj_http sj_http_t;
typedef struct sj_http_req sj_http_req_t;

/* Called for every authorised GET/HEAD that is not an asset. It must answer
 * with exactly one sj_http_reply* call (otherwise the client gets a 500).
 * req is valid during the call only. */
typedef void(sj_http_handler_fn)(void *ctx, sj_http_req_t *req);

/* Reads a token file: the first line, without trailing white space; 16..256
 * characters of A-Z a-z 0-9 . _ ~ - (so it goes into a URL as it is); the
 * file must not be readable by group or others (like curve.key).
 * Returns: SJ_OK; SJ_EINVAL with the reason in err. */
SJ_NODISCARD int
sj_http_token_load(const char *path, char *out, size_t size, char *err, size_t err_size);

/* Checks addr "HOST:PORT" and the policy before anything is opened:
 * SJ_OK, or SJ_EINVAL with the reason when it does not parse or is not
 * loopback while has_token is 0. */
SJ_NODISCARD int sj_http_addr_check(const char *addr, int has_token, char *err, size_t err_size);

/* Starts serving on addr "HOST:PORT" (IPv4 "127.0.0.1:8080", IPv6
 * "[::1]:8080"; port 0 = any free port). token (copied) may be NULL only
 * when HOST is a loopback address. assets (borrowed, static) may be NULL.
 * Returns the server (caller owns, sj_http_destroy) or NULL with err (a
 * port in use is named: "port 8080 on 127.0.0.1 is in use ..."). */
sj_http_t *sj_http_new(const char *addr,
                       const char *token,
                       const sj_http_asset_t *assets,
                       sj_http_handler_fn *handler,
                       void *ctx,
                       char *err,
                       size_t err_size);
/* As sj_http_new, for a page that writes (see above). own_login: the page
 * has its own login (a password) and may then listen on any address
 * without a token; 0: loopback only unless token is given. */
sj_http_t *sj_http_new_writes(const char *addr,
                              const char *token,
                              int own_login,
                              const sj_http_asset_t *assets,
                              sj_http_handler_fn *handler,
                              void *ctx,
                              char *err,
                              size_t err_size);
/* The same with the key of the CSRF tokens given (SJ_HTTP_SECRET_BYTES,
 * copied) instead of a random one per start: a page that keeps it (the
 * desk keeps it in its store, renewed after a while) takes the forms it
 * served before a restart. */
#define SJ_HTTP_SECRET_BYTES 32
sj_http_t *sj_http_new_writes_keyed(const char *addr,
                                    const char *token,
                                    int own_login,
                                    const uint8_t secret[SJ_HTTP_SECRET_BYTES],
                                    const sj_http_asset_t *assets,
                                    sj_http_handler_fn *handler,
                                    void *ctx,
                                    char *err,
                                    size_t err_size);
/* As sj_http_new_writes with own_login, for a page with accounts (above).
 * The caller checks the address policy first. */
sj_http_t *sj_http_new_accounts(const char *addr,
                                const char *token,
                                const sj_http_asset_t *assets,
                                sj_http_handler_fn *handler,
                                void *ctx,
                                char *err,
                                size_t err_size);
/* Stops the server (waits for the request in progress). NULL-safe. */
void sj_http_destroy(sj_http_t **self_p);
/* The port bound (useful with port 0). */
uint16_t sj_http_port(const sj_http_t *self);
/* 1 when the server listens on a loopback address only. */
int sj_http_is_loopback(const sj_http_t *self);

/* For a `serve` command: blocks SIGINT and SIGTERM in the calling thread
 * (call it before sj_http_new, so the server's thread inherits the mask and
 * no handler ever runs there) and ignores SIGPIPE. */
void sj_http_signals_block(void);
/* Waits for SIGINT or SIGTERM (blocked before) and returns which. */
int sj_http_signals_wait(void);
/* "http://HOST:PORT/" for addr as given and the port as bound. */
void sj_http_url(const char *addr, uint16_t port, char *out, size_t size);

/* The request path, without the query ("/api/stats"). */
const char *sj_http_req_path(const sj_http_req_t *req);
/* Query parameters in order, without "token". Names and values are
 * URL-decoded and borrowed; a parameter without '=' has value "". */
size_t sj_http_req_nargs(const sj_http_req_t *req);
void sj_http_req_arg(const sj_http_req_t *req, size_t i, const char **name, const char **value);
/* Checks the parameters against allowed (NULL-terminated): an unknown or
 * repeated name is SJ_EINVAL with a reason in err. values[i] gets the value
 * of allowed[i] (NULL when absent or empty). */
SJ_NODISCARD int sj_http_req_args(const sj_http_req_t *req,
                                  const char *const *allowed,
                                  const char **values,
                                  char *err,
                                  size_t err_size);

/* 1 for a POST (only on a server that writes), 0 for GET and HEAD. */
int sj_http_req_is_post(const sj_http_req_t *req);
/* The parsed body of a POST (its CSRF token already checked), else NULL. */
const sj_form_t *sj_http_req_form(const sj_http_req_t *req);
/* The CSRF token of this request's session ("" on a server that does not
 * write): the value of the hidden field "csrf" of every form. */
const char *sj_http_req_csrf(const sj_http_req_t *req);
/* The session id of the request (its cookie; "" on a server that does not
 * write): a page keeps its own per-session state (a login) by it. */
const char *sj_http_req_session(const sj_http_req_t *req);
/* Replaces the session with a new one (a new id and CSRF token, sent as a
 * new cookie with the answer): after a login, so a session id known before
 * it is worth nothing after. */
void sj_http_req_new_session(sj_http_req_t *req);
/* The value of the request header name, or NULL. */
const char *sj_http_req_header(const sj_http_req_t *req, const char *name);

/* 1 when the request carried the token in "Authorization: Bearer". */
int sj_http_req_bearer(const sj_http_req_t *req);
/* The client's address as text ("127.0.0.1", "::1"). */
void sj_http_req_client(const sj_http_req_t *req, char *out, size_t size);
/* Answers with the asset at path (an HTML one with SJ_HTTP_TOKEN_QS
 * replaced): 1, or 0 when there is none. */
int sj_http_reply_asset(sj_http_req_t *req, const char *path);

/* Answers 303 See Other to location (a path on this server). */
void sj_http_reply_redirect(sj_http_req_t *req, const char *location);

/* The idempotency memory of a server that writes: the last
 * SJ_HTTP_ONCE_KEYS keys, each with the redirect it answered. A form that
 * must act once carries a random key (hidden field); the handler asks
 * sj_http_once_get first (1: already done, location copied: answer that
 * redirect again) and calls sj_http_once_put after acting. Called from the
 * handler only (one thread). */
#define SJ_HTTP_ONCE_KEYS 256
#define SJ_HTTP_ONCE_LEN  200
int sj_http_once_get(sj_http_req_t *req, const char *key, char *location, size_t size);
void sj_http_once_put(sj_http_req_t *req, const char *key, const char *location);

/* Answers with body (copied). content_type e.g. "application/json". */
void sj_http_reply(sj_http_req_t *req,
                   unsigned int status,
                   const char *content_type,
                   const void *body,
                   size_t len);
/* Answers {"error": reason} with status (400, 404, 500, ...). */
void sj_http_reply_error(sj_http_req_t *req, unsigned int status, const char *reason);

#endif
