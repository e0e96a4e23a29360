/* sj_idbits: see sj_idbits.h. 2^18 bits: 32 KiB. */
#include "sj_idbits.h"

#include <stdlib.h>

#include "sj_db.h"

#define IDBITS (1u << 18)

struct sj_idbits {
    sqlite3 *db;
    const char *sql;
    int loaded; /* 0 not yet, 1 loaded, -1 the query failed */
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
sj_idbits_new(sqlite3 *db, const char *sql)
{
    sj_idbits_t *self = calloc(1, sizeof *self);
    if (self) {
        self->db = db;
        self->sql = sql;
    }
    return self;
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

/* Marks every id the set's query returns (inside the caller's transaction,
 * if any, so it also sees what is not committed yet). */
static int
s_load(sj_idbits_t *self)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(self->db, self->sql, &st);
    if (rc != SJ_OK) {
        return rc;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
            sj_idbits_mark(self, sqlite3_column_blob(st, 0));
        }
    }
    rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "loading an id set");
    sqlite3_finalize(st);
    return rc;
}

int
sj_idbits_maybe(sj_idbits_t *self, const uint8_t id[SJ_ID_BYTES])
{
    if (!self) {
        return 1;
    }
    if (self->loaded == 0) {
        self->loaded = s_load(self) == SJ_OK ? 1 : -1;
    }
    if (self->loaded < 0) {
        return 1;
    }
    size_t b = s_bit(id);
    return (self->bits[b / 8] >> (b % 8)) & 1;
}
