#include "sj_ids.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int
sj_ids_init(void)
{
    return sodium_init() < 0 ? SJ_EIO : SJ_OK;
}

void
sj_random16(uint8_t out[16])
{
    randombytes_buf(out, 16);
}

void
sj_uuid7_new(uint8_t out[16])
{
    uint64_t ms = (uint64_t) sj_now_ms();
    randombytes_buf(out, 16);
    for (int i = 0; i < 6; i++) {
        out[i] = (uint8_t) (ms >> (40 - 8 * i));
    }
    out[6] = (uint8_t) ((out[6] & 0x0F) | 0x70);
    out[8] = (uint8_t) ((out[8] & 0x3F) | 0x80);
}

void
sj_uuid_format(const uint8_t id[16], char out[SJ_UUID_TEXT])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 15];
    }
    out[o] = '\0';
}

static int
s_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
sj_uuid_parse(const char *text, uint8_t out[16])
{
    if (!text || strlen(text) != 36) {
        return SJ_EINVAL;
    }
    size_t b = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') {
                return SJ_EINVAL;
            }
            i++;
            continue;
        }
        int hi = s_hexval(text[i]);
        int lo = s_hexval(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return SJ_EINVAL;
        }
        out[b++] = (uint8_t) (hi << 4 | lo);
        i += 2;
    }
    return SJ_OK;
}

void
sj_hex_format(const uint8_t *data, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[data[i] >> 4];
        out[2 * i + 1] = hex[data[i] & 15];
    }
    out[2 * n] = '\0';
}

int64_t
sj_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sj_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
