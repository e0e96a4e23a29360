/* sj_enrol: the key and enrolment commands every tool has: `keygen` (this
 * node's key pair), `allow` and `revoke` (the allowlist of the children a
 * parent admits, read by sj_auth). Each function is a whole command: it
 * prints machine text on stdout and words on stderr (prefixed with tool)
 * and returns the process exit status: 0 ok, 1 failure, 2 bad usage.
 * Not thread-safe (one command per process). */
#ifndef SJ_ENROL_H
#define SJ_ENROL_H

#include <stddef.h>

#include "sj_err.h"
#include "sj_keys.h"

/* `TOOL keygen`: makes dir/curve.key (0600) and prints the public key. */
int sj_enrol_keygen(const char *tool, const char *dir);
/* The fingerprint of the node's public key (dir/curve.pub), as
 * sj_key_fingerprint_text gives it (readable by phone: the county's is what
 * a station's county key must match). SJ_ENOTFOUND without a key. */
SJ_NODISCARD int sj_enrol_key_fingerprint(const char *dir, char out[SJ_KEY_FP_TEXT]);

/* `TOOL allow CODE KEY` on dir/allowlist. under, when not NULL, is the code
 * every enrolled code must lie under (the hub's township, the county); a
 * code outside it, or a KEY that is not a 40-character Z85 public key, is
 * bad usage (2), with the reason. */
int sj_enrol_allow(
    const char *tool, const char *dir, const char *code, const char *key, const char *under);

/* `TOOL revoke CODE|KEY`: removes a code's keys, or one key. 1 when there
 * was nothing to remove. */
int sj_enrol_revoke(const char *tool, const char *dir, const char *code_or_key);

/* Path of dir/allowlist into out (size bytes). */
void sj_enrol_allowlist_path(const char *dir, char *out, size_t size);

#endif
