/* sj_ids: UUIDv7 event ids, random store epochs, hex and UUID text forms. */
#ifndef SJ_IDS_H
#define SJ_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

#define SJ_UUID_TEXT 37 /* 36 chars + NUL */

/* Initialises libsodium; call once before anything else here. */
SJ_NODISCARD int sj_ids_init(void);
/* A new UUIDv7 (RFC 9562): 48-bit Unix ms, version 7, random rest. */
void sj_uuid7_new(uint8_t out[16]);
/* 16 random bytes. */
void sj_random16(uint8_t out[16]);
/* Formats 16 bytes as 8-4-4-4-12 lowercase text. */
void sj_uuid_format(const uint8_t id[16], char out[SJ_UUID_TEXT]);
/* Parses any UUID in 8-4-4-4-12 form (either case); SJ_EINVAL when it is not one. */
SJ_NODISCARD int sj_uuid_parse(const char *text, uint8_t out[16]);
/* Hex of n bytes into out (2n+1 bytes). */
void sj_hex_format(const uint8_t *data, size_t n, char *out);
/* Milliseconds since the Unix epoch (wall clock) and monotonic ms. */
int64_t sj_now_ms(void);
int64_t sj_mono_ms(void);

#endif
