#include "sj_keys.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int
sj_key_decode(const char *z85, uint8_t out[SJ_KEY_BYTES])
{
    if (!z85 || strlen(z85) != 40) {
        return SJ_EINVAL;
    }
    return zmq_z85_decode(out, z85) ? SJ_OK : SJ_EINVAL;
}

void
sj_key_encode(const uint8_t key[SJ_KEY_BYTES], char out[SJ_KEY_Z85])
{
    zmq_z85_encode(out, key, SJ_KEY_BYTES);
}

void
sj_key_fingerprint(const uint8_t pk[SJ_KEY_BYTES], uint8_t fp[SJ_KEY_FP_BYTES])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, pk, SJ_KEY_BYTES, NULL, 0);
    memcpy(fp, h, SJ_KEY_FP_BYTES);
}

void
sj_key_fp_format(const uint8_t fp[SJ_KEY_FP_BYTES], char out[SJ_KEY_FP_TEXT])
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < SJ_KEY_FP_BYTES; i++) {
        if (i && i % 2 == 0) {
            out[o++] = '-';
        }
        out[o++] = hex[fp[i] >> 4];
        out[o++] = hex[fp[i] & 15];
    }
    out[o] = '\0';
}

void
sj_key_fingerprint_text(const uint8_t pk[SJ_KEY_BYTES], char out[SJ_KEY_FP_TEXT])
{
    uint8_t fp[SJ_KEY_FP_BYTES];
    sj_key_fingerprint(pk, fp);
    sj_key_fp_format(fp, out);
}

int
sj_personal_present(const sj_personal_t *p)
{
    return (p->name && p->name[0]) || (p->id && p->id[0]) || (p->phone && p->phone[0])
           || (p->address && p->address[0]);
}

int
sj_personal_seal(const sj_personal_t *p,
                 const uint8_t county_pk[SJ_KEY_BYTES],
                 uint8_t *out,
                 size_t size,
                 size_t *out_len)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj) {
        return SJ_ENOMEM;
    }
    const char *keys[] = {"petitioner_name", "petitioner_id", "petitioner_phone",
                          "petitioner_address"};
    const char *vals[] = {p->name, p->id, p->phone, p->address};
    for (int i = 0; i < 4; i++) {
        if (vals[i] && vals[i][0] && !cJSON_AddStringToObject(obj, keys[i], vals[i])) {
            cJSON_Delete(obj);
            return SJ_ENOMEM;
        }
    }
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text) {
        return SJ_ENOMEM;
    }
    size_t n = strlen(text);
    int rc = SJ_OK;
    if (n + crypto_box_SEALBYTES > size) {
        rc = SJ_EINVAL;
    } else if (crypto_box_seal(out, (const unsigned char *) text, n, county_pk) != 0) {
        rc = SJ_EINVAL;
    } else {
        *out_len = n + crypto_box_SEALBYTES;
    }
    sodium_memzero(text, n);
    free(text);
    return rc;
}

int
sj_personal_open(const uint8_t *sealed,
                 size_t len,
                 const uint8_t county_pk[SJ_KEY_BYTES],
                 const uint8_t county_sk[SJ_KEY_BYTES],
                 char **json)
{
    if (len < crypto_box_SEALBYTES) {
        return SJ_EPROTO;
    }
    size_t n = len - crypto_box_SEALBYTES;
    char *text = malloc(n + 1);
    if (!text) {
        return SJ_ENOMEM;
    }
    if (crypto_box_seal_open((unsigned char *) text, sealed, len, county_pk, county_sk) != 0) {
        free(text);
        return SJ_EPROTO;
    }
    text[n] = '\0';
    *json = text;
    return SJ_OK;
}
