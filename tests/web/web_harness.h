/* web_harness: what the web tests need: start `county-server serve` or
 * `township-hub serve` on a free loopback port and wait for "ready URL",
 * a tiny HTTP/1.1 client over a socket, and running a CLI command for its
 * stdout. Failures abort the current cmocka test. */
#ifndef WEB_HARNESS_H
#define WEB_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WEB_READY_MS 60000 /* deadline for "ready" (a guard; ASan on busy cores is slow) */

typedef struct {
    pid_t pid;
    uint16_t port;
    char url[128]; /* "http://127.0.0.1:PORT/" */
} web_server_t;

typedef struct {
    int status;    /* HTTP status code */
    char *headers; /* raw header block (lower-case names kept as sent) */
    char *body;    /* NUL-terminated; body_len bytes */
    size_t body_len;
} web_resp_t;

/* Runs argv (argv[0] a path) with stdout to a pipe; returns when the first
 * stdout line starts with "ready " and fills s. */
void web_server_start(web_server_t *s, char *const *argv);
/* SIGTERM, then waits (with a deadline) and checks exit status 0. */
void web_server_stop(web_server_t *s);
/* One request on a new connection. headers: extra "Name: value\r\n" lines
 * or NULL. Returns 0, or -1 when the connection failed. */
int web_request(
    uint16_t port, const char *method, const char *target, const char *headers, web_resp_t *r);
/* As web_request, with body (NULL: none) sent after the headers and its
 * Content-Length added. */
int web_request_body(uint16_t port,
                     const char *method,
                     const char *target,
                     const char *headers,
                     const char *body,
                     web_resp_t *r);
/* The value of header name (case-insensitive) copied into out, or 0. */
int web_header(const web_resp_t *r, const char *name, char *out, size_t size);
void web_resp_free(web_resp_t *r);
/* `BIN --data DIR user add NAME --role ROLE` with the password on stdin (a
 * county's or a township's account); fails the current test when refused. */
void web_user_add(
    const char *bin, const char *dir, const char *name, const char *role, const char *password);
/* Runs argv to the end; returns its stdout (caller frees) and exit status. */
char *web_run(char *const *argv, int *status);

#endif
