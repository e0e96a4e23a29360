/* sj_idbits: see sj_idbits.h. 2^18 bits: 32 KiB. */
#include "sj_idbits.h"

#include <stdlib.h>

#include "sj_db.h"

#define IDBITS (1u << 18)

struct sj_idbits {
    uint8_t bits[IDBITS / 8];
};

/* The id's random tail (UUIDv7: bytes 8..15 are random but for the
 * variant bits) is the hash. */
static size_t
s_bit(const uint8_t id[SJ_ID_BYTES])
{
    uint32_t h = (uint32_t) id[12] << 24 | (uint32_t) id[13] << 16 | (uint32_t) id[14] << 8
                 | (uint32_t) id[15];
    return (size_t) ((h ^ ((uint32_t) id[10] << 8 | id[11])) % IDBITS);
}

sj_idbits_t *
sj_idbits_new(void)
{
    return calloc(1, sizeof(sj_idbits_t));
}

void
sj_idbits_destroy(sj_idbits_t **self_p)
{
    if (self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

void
sj_idbits_mark(sj_idbits_t *self, const uint8_t id[SJ_ID_BYTES])
{
    if (self) {
        size_t b = s_bit(id);
        self->bits[b / 8] = (uint8_t) (self->bits[b / 8] | (1u << (b % 8)));
    }
}

int
sj_idbits_maybe(const sj_idbits_t *self, const uint8_t id[SJ_ID_BYTES])
{
    if (!self) {
        return 1;
    }
    size_t b = s_bit(id);
    return (self->bits[b / 8] >> (b % 8)) & 1;
}

int
sj_idbits_load(sj_idbits_t *self, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, sql, &st);
    if (rc != SJ_OK) {
        return rc;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
            sj_idbits_mark(self, sqlite3_column_blob(st, 0));
        }
    }
    rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(db, step, "loading an id set");
    sqlite3_finalize(st);
    return rc;
}
