/* sj_keys: Curve25519 keys in Z85 text (the form libzmq CURVE uses) and the
 * sealed personal data of a report. The county's CURVE key pair is also the
 * key pair personal data is sealed to (libsodium sealed box): stations hold
 * only its public key, hubs relay ciphertext they cannot open. */
#ifndef SJ_KEYS_H
#define SJ_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

#define SJ_KEY_BYTES    32
#define SJ_KEY_Z85      41 /* 40 chars + NUL */
#define SJ_KEY_FP_BYTES 8  /* a key's fingerprint (Report.sealed_to) */
#define SJ_KEY_FP_TEXT  20 /* "XXXX-XXXX-XXXX-XXXX" + NUL */

/* Decodes a 40-character Z85 key (length checked first: zmq_z85_decode
 * writes as much as the text holds, with no bound on its output). */
SJ_NODISCARD int sj_key_decode(const char *z85, uint8_t out[SJ_KEY_BYTES]);
void sj_key_encode(const uint8_t key[SJ_KEY_BYTES], char out[SJ_KEY_Z85]);

/* A public key's fingerprint: the first 8 bytes of its BLAKE2b-256 hash
 * (docs/PROTOCOL.md "Sealed personal data"). A station carries its county
 * key's fingerprint with what it seals, so a parent can tell data sealed to
 * another key without opening it. */
void sj_key_fingerprint(const uint8_t pk[SJ_KEY_BYTES], uint8_t fp[SJ_KEY_FP_BYTES]);
/* The fingerprint as people compare it (by phone): 16 hex digits in four
 * groups, "3F2A-91C0-7B44-0E1D". */
void sj_key_fingerprint_text(const uint8_t pk[SJ_KEY_BYTES], char out[SJ_KEY_FP_TEXT]);
/* The same, of a fingerprint already made. */
void sj_key_fp_format(const uint8_t fp[SJ_KEY_FP_BYTES], char out[SJ_KEY_FP_TEXT]);

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
SJ_NODISCARD int sj_personal_seal(const sj_personal_t *p,
                                  const uint8_t county_pk[SJ_KEY_BYTES],
                                  uint8_t *out,
                                  size_t size,
                                  size_t *out_len);
/* Opens a sealed blob with the county's key pair into a NUL-terminated JSON
 * text (caller frees). SJ_EPROTO when it does not open. */
SJ_NODISCARD int sj_personal_open(const uint8_t *sealed,
                                  size_t len,
                                  const uint8_t county_pk[SJ_KEY_BYTES],
                                  const uint8_t county_sk[SJ_KEY_BYTES],
                                  char **json);

#endif
