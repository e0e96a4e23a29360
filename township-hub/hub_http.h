/* hub_http: the township office's status page, served by `township-hub
 * serve` (a process of its own with a read-only connection, next to `run`).
 *
 * Page: "/" (township-hub/web/, compiled into the binary): queue depth,
 * forwarding lag to the county, the last county contact, and each
 * station's last contact, reports, quarantined reports and backlog, silent
 * stations first and marked; Chinese and English.
 * JSON API, GET or HEAD only:
 *   /api/status?silent_after=S   exactly what `township-hub status --format
 *       json --silent-after S` prints (hub_store_status).
 * Bad parameters 400 {"error": "..."}; anything else 404.
 *
 * The command line of `serve` is parsed here too (hub_http_main, which
 * hub_cli.c's table names for the word "serve"). */
#ifndef HUB_HTTP_H
#define HUB_HTTP_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "hub_store.h"

#define HUB_HTTP_DEFAULT_ADDR "127.0.0.1:8081"
#define HUB_HTTP_SILENT_S     3600 /* default: a station unheard this long is silent */

typedef struct hub_http hub_http_t;

/* Serves the page on addr (a page with accounts, sj_http_new_accounts; the
 * caller checks that an address off loopback has a token or accounts) from
 * store (borrowed, read-only) and wst (borrowed, open for writing: the
 * accounts and the audit trail); both used only on the server's thread
 * from now on, until hub_http_destroy. silent_s is the default silent_after.
 * Returns the server (caller owns) or NULL with err. */
hub_http_t *hub_http_new(hub_store_t *store,
                         hub_store_t *wst,
                         const char *addr,
                         const char *token,
                         int64_t silent_s,
                         char *err,
                         size_t err_size);
/* Stops serving; NULL-safe, sets *self_p = NULL. */
void hub_http_destroy(hub_http_t **self_p);
/* The port bound. */
uint16_t hub_http_port(const hub_http_t *self);

/* serve's option table (and so the keys of [serve] in the config file,
 * sj_cfg.h; main() has put the file's keys into argv). */
extern const struct option hub_http_options[];

/* `township-hub serve [--data DIR] [--http HOST:PORT] [--token-file FILE]
 * [--silent-after S] [--config FILE] [--log-level L]`: serves until SIGINT
 * or SIGTERM. Returns the exit status (0, 1 failure, 2 bad usage). */
int hub_http_main(int argc, char **argv);

#endif
