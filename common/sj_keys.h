/* sj_keys: Curve25519 keys in Z85 text (the form libzmq CURVE uses) and the
 * sealed personal data of a report. The county's CURVE key pair is also the
 * key pair personal data is sealed to (libsodium sealed box): stations hold
 * only its public key, hubs relay ciphertext they cannot open. */
#ifndef SJ_KEYS_H
#define SJ_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

#define SJ_KEY_BYTES 32
#define SJ_KEY_Z85   41 /* 40 chars + NUL */

/* Decodes a 40-character Z85 key (length checked first: P9). */
SJ_NODISCARD int sj_key_decode(const char *z85, uint8_t out[SJ_KEY_BYTES]);
void sj_key_encode(const uint8_t key[SJ_KEY_BYTES], char out[SJ_KEY_Z85]);

/* Personal fields of a petitioner; NULL or "" = absent. */
typedef struct {
    const char *name;
    const char *id;
    const char *phone;
    const char *address;
} sj_personal_t;

/* True when any field is present. */
int sj_personal_present(const sj_personal_t *p);
/* Seals the fields (as a small JSON object) to the county's public key.
 * out must hold size bytes; *out_len is set. SJ_EINVAL if it does not fit. */
SJ_NODISCARD int sj_personal_seal(const sj_personal_t *p, const uint8_t county_pk[SJ_KEY_BYTES],
                                  uint8_t *out, size_t size, size_t *out_len);
/* Opens a sealed blob with the county's key pair into a NUL-terminated JSON
 * text (caller frees). SJ_EPROTO when it does not open. */
SJ_NODISCARD int sj_personal_open(const uint8_t *sealed, size_t len,
                                  const uint8_t county_pk[SJ_KEY_BYTES],
                                  const uint8_t county_sk[SJ_KEY_BYTES], char **json);

#endif
