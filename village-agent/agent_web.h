/* agent_web: `village-agent serve`, the officer's desk: a local web page
 * (Chinese by default, English with ?lang=en) to record a matter (记录),
 * follow its delivery (发送情况), answer assignments (交办) and print one
 * matter (登记表). Writes go through agent_report_prepare/_store and
 * agent_change_store, the code of `submit` and `update`; the safety of a
 * page that writes (CSRF, Origin/Host, POST-redirect-GET, form keys) is
 * common/sj_http.h's. */
#ifndef AGENT_WEB_H
#define AGENT_WEB_H

#include "agent_cli.h"

#define AGENT_WEB_DEFAULT_ADDR "127.0.0.1:8082"
#define AGENT_WEB_PAGE_ROWS    50 /* entries on one page of the outbox, newest first */

/* Serves until SIGINT/SIGTERM; prints "ready URL" on stdout when
 * listening. password_file (NULL: none, loopback only): the hash `passwd`
 * wrote; then every page but /login needs a logged-in session (30 minutes
 * idle, 12 hours at most), failed logins make the next try wait (2 s,
 * doubling, at most 60 s), and any address may be served. Returns the exit
 * code (0, 1, or 2 for a bad address or password file). */
int agent_cmd_serve(const agent_opts_t *o, const char *addr, const char *password_file);
/* passwd --password-file FILE: reads a password (8 characters or more) from
 * standard input (without echo on a terminal) and writes its
 * crypto_pwhash_str hash (Argon2id) to FILE, mode 0600. Exit code. */
int agent_cmd_passwd(const char *path);

#endif
