/* sj_node: what every tool does the same way around keys: keygen, allow,
 * revoke, and loading a node's keys at start (refusing to run without them
 * unless --insecure). Output: machine text on stdout, words on stderr. */
#ifndef SJ_NODE_H
#define SJ_NODE_H

#include "sj_auth.h"

/* `TOOL keygen`: makes dir/curve.key (0600) and prints the public key. Exit code. */
int sj_node_cmd_keygen(const char *tool, const char *dir);
/* `TOOL allow CODE KEY` / `TOOL revoke CODE|KEY` on dir/allowlist. under, when
 * not NULL, is the code every enrolled code must lie under. Exit code. */
int sj_node_cmd_allow(const char *tool, const char *dir, const char *code, const char *key,
                      const char *under);
int sj_node_cmd_revoke(const char *tool, const char *dir, const char *code_or_key);
/* Path of dir/allowlist into out. */
void sj_node_allowlist_path(const char *dir, char *out, size_t size);

/* Loads the node's key pair for a daemon or a client. insecure: keys are not
 * required (a warning is logged). Returns SJ_OK with *have set (0 only when
 * insecure and there is no key), or an error after printing why. */
SJ_NODISCARD int sj_node_load_keys(const char *tool, const char *dir, int insecure,
                                   sj_keypair_t *kp, int *have);
/* Decodes a peer key given as an option; prints why on failure. */
SJ_NODISCARD int sj_node_peer_key(const char *tool, const char *option, const char *z85,
                                  uint8_t out[SJ_KEY_BYTES]);

/* On SIGHUP: re-reads the log level from the config file sj_cfg_apply read
 * at start (the command's section over the general one, sj_cfg_reread). A
 * --log-level flag given at start wins and stays; a file that no longer
 * parses is reported and changes nothing. */
void sj_node_reload_log_level(void);

#endif
