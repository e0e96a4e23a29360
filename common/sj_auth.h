/* sj_auth: CURVE on every link and the ZAP handler that admits only enrolled
 * keys (docs/PROTOCOL.md section 4 and its pitfalls P3-P9).
 *
 * Files in a node's data directory:
 *   curve.key   "public-Z85 secret-Z85\n", mode 0600; refused if group/other
 *               can read it
 *   curve.pub   "public-Z85\n" (what the node's operator hands out)
 *   allowlist   parents only: one "CODE Z85-PUBLIC-KEY" per line, '#' comments;
 *               several keys per code allowed (rotation). Re-read on reload.
 *               Made 0640; refused (at start, reload, allow and revoke) if
 *               group or others can write it, or if it belongs to another
 *               user than the one running (root excepted).
 *
 * The ZAP handler runs in its own thread on inproc://zeromq.zap.01 of the
 * node's context, started before any server socket binds. It answers 200 with
 * User-Id "CODE/KEY" for a listed key and 400 otherwise. Servers set a
 * non-empty ZAP domain and ZMQ_ZAP_ENFORCE_DOMAIN, so a missing handler
 * fails closed. Because ZAP runs only at handshake time, the downlink checks
 * every message's User-Id against the current allowlist (revocation,
 * docs/PROTOCOL.md pitfall P6). */
#ifndef SJ_AUTH_H
#define SJ_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"
#include "sj_keys.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* hidden by the non-draft header (docs/PROTOCOL.md P3) */
#endif
#define SJ_ZAP_DOMAIN "sanji"

typedef struct {
    uint8_t pk[SJ_KEY_BYTES];
    uint8_t sk[SJ_KEY_BYTES];
    char pk_z85[SJ_KEY_Z85];
} sj_keypair_t;

/* Writes a new key pair into dir (refuses to overwrite an existing one). */
SJ_NODISCARD int
sj_keypair_generate(const char *dir, sj_keypair_t *out, char *err, size_t err_size);
/* Loads dir/curve.key. SJ_ENOTFOUND when absent; SJ_EINVAL (with reason)
 * when unreadable, malformed or readable by group/other. */
SJ_NODISCARD int sj_keypair_load(const char *dir, sj_keypair_t *out, char *err, size_t err_size);

/* Allowlist file edits (used by `allow` / `revoke`). revoke takes a code
 * (all its keys) or a key. *changed counts lines added/removed. */
SJ_NODISCARD int sj_allowlist_add(
    const char *path, const char *code, const char *key_z85, char *err, size_t err_size);
SJ_NODISCARD int sj_allowlist_revoke(
    const char *path, const char *code_or_key, int *removed, char *err, size_t err_size);

typedef struct sj_auth sj_auth_t;

/* Starts the ZAP handler on zctx with the allowlist at path (which may not
 * exist yet: then nobody is admitted). NULL after logging on failure. */
sj_auth_t *sj_auth_start(void *zctx, const char *allowlist_path, char *err, size_t err_size);
/* Re-reads the allowlist (SIGHUP). On a bad file the old list stays. */
SJ_NODISCARD int sj_auth_reload(sj_auth_t *self, char *err, size_t err_size);
/* Is this User-Id ("CODE/KEY") still allowed? Copies the code into code_out. */
int sj_auth_allowed(sj_auth_t *self, const char *user_id, char *code_out, size_t code_size);
/* Stops the handler thread. Call after closing the node's other sockets and
 * before zmq_ctx_term; calls zmq_ctx_shutdown(zctx). */
void sj_auth_stop(sj_auth_t **self_p);

/* Socket set-up. Server: CURVE server with the node's secret key, ZAP domain
 * enforced. Client: pinned server key. */
SJ_NODISCARD int sj_auth_server_socket(void *sock, const sj_keypair_t *kp);
SJ_NODISCARD int
sj_auth_client_socket(void *sock, const sj_keypair_t *kp, const uint8_t server_pk[SJ_KEY_BYTES]);

#endif
