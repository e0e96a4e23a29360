#include "county_verify.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "sj_ids.h"
#include "sj_wire.h"

/* One stream's running state while its events are read in seq order. */
typedef struct {
    char origin[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    int64_t events;
    int64_t complete;  /* highest seq complete from 1 */
    int64_t last_seq;  /* previous seq seen */
    int64_t gaps;      /* missing seqs */
    int64_t breaks;    /* hash chain breaks */
    uint8_t last_hash[SJ_HASH_BYTES];
    int have_last;
} s_stream_t;

static int
s_flush(const s_stream_t *s, sj_table_t *t, sj_format_t fmt, long *problems)
{
    if (!s->events) {
        return SJ_OK;
    }
    char epoch[2 * SJ_EPOCH_BYTES + 1], events[24], complete[24], gaps[24], breaks[24];
    sj_hex_format(s->epoch, SJ_EPOCH_BYTES, epoch);
    snprintf(events, sizeof events, "%" PRId64, s->events);
    snprintf(complete, sizeof complete, "%" PRId64, s->complete);
    snprintf(gaps, sizeof gaps, "%" PRId64, s->gaps);
    snprintf(breaks, sizeof breaks, "%" PRId64, s->breaks);
    int ok = s->gaps == 0 && s->breaks == 0;
    const char *cells[] = {s->origin, epoch, events, complete, gaps, breaks, ok ? "ok" : "PROBLEM"};
    *problems += s->gaps + s->breaks;
    (void) fmt;
    return sj_table_add_row(t, cells);
}

int
county_verify(sqlite3 *db, sj_format_t fmt, FILE *out, long *problems, char *err, size_t err_size)
{
    static const char *const names[] = {"station", "epoch", "events", "complete_through",
                                        "gaps",    "chain_breaks", "status"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT, SJ_COL_INT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_TEXT};
    *problems = 0;
    sj_table_t *t = sj_table_new(7, names, types);
    if (!t) {
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    sqlite3_stmt *st = NULL, *row = NULL;
    int rc = SJ_OK;
    /* No index holds this order (schema 6 dropped it from the ingest path):
     * SQLite sorts just the keys (temp files past its cache), and each
     * event's hashes and bytes are then read by rowid. */
    static const char sql[] = "SELECT origin, epoch, origin_seq, eid FROM events"
                              " ORDER BY origin, epoch, origin_seq, eid";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "SELECT prev_hash, hash, raw FROM events WHERE eid=?", -1, &row,
                              NULL)
               != SQLITE_OK) {
        snprintf(err, err_size, "cannot read events: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sj_table_destroy(&t);
        return SJ_EDB;
    }
    s_stream_t cur;
    memset(&cur, 0, sizeof cur);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *origin = (const char *) sqlite3_column_text(st, 0);
        const void *epoch = sqlite3_column_blob(st, 1);
        int64_t seq = sqlite3_column_int64(st, 2);
        sqlite3_reset(row);
        sqlite3_bind_int64(row, 1, sqlite3_column_int64(st, 3));
        if (sqlite3_step(row) != SQLITE_ROW) {
            snprintf(err, err_size, "cannot read an event: %s", sqlite3_errmsg(db));
            rc = SJ_EDB;
            break;
        }
        const void *prev = sqlite3_column_blob(row, 0);
        const void *hash = sqlite3_column_blob(row, 1);
        const void *raw = sqlite3_column_blob(row, 2);
        size_t raw_len = (size_t) sqlite3_column_bytes(row, 2);
        if (!origin || !epoch || sqlite3_column_bytes(st, 1) != SJ_EPOCH_BYTES || !prev
            || sqlite3_column_bytes(row, 0) != SJ_HASH_BYTES || !hash
            || sqlite3_column_bytes(row, 1) != SJ_HASH_BYTES) {
            snprintf(err, err_size, "an event row is damaged (missing key or hash columns)");
            rc = SJ_EDB;
            break;
        }
        if (strcmp(origin, cur.origin) != 0 || memcmp(epoch, cur.epoch, SJ_EPOCH_BYTES) != 0) {
            if ((rc = s_flush(&cur, t, fmt, problems)) != SJ_OK) {
                break;
            }
            memset(&cur, 0, sizeof cur);
            snprintf(cur.origin, sizeof cur.origin, "%.12s", origin);
            memcpy(cur.epoch, epoch, SJ_EPOCH_BYTES);
        }
        char ep[2 * SJ_EPOCH_BYTES + 1];
        sj_hex_format(cur.epoch, SJ_EPOCH_BYTES, ep);
        if (seq <= cur.last_seq) {
            /* A position held by a second event (another id): a fork of the
             * stream, counted as a chain break; both events are kept. */
            cur.breaks++;
            if (fmt == SJ_FMT_TABLE) {
                fprintf(stderr,
                        "chain break: %s epoch %.8s…: seq %" PRId64 " held by two events\n",
                        cur.origin, ep, seq);
            }
            cur.events++;
            continue;
        }
        if (seq != cur.last_seq + 1) {
            cur.gaps += seq - cur.last_seq - 1;
            if (fmt == SJ_FMT_TABLE) {
                fprintf(stderr, "gap: %s epoch %.8s…: seq %" PRId64 "..%" PRId64 " missing\n",
                        cur.origin, ep, cur.last_seq + 1, seq - 1);
            }
            cur.have_last = 0;
        }
        uint8_t actual[SJ_HASH_BYTES];
        sj_event_hash(raw, raw_len, actual);
        int bad = memcmp(actual, hash, SJ_HASH_BYTES) != 0;
        if (!bad && cur.have_last) {
            bad = memcmp(prev, cur.last_hash, SJ_HASH_BYTES) != 0;
        } else if (!bad && seq == 1) {
            static const uint8_t zero[SJ_HASH_BYTES] = {0};
            bad = memcmp(prev, zero, SJ_HASH_BYTES) != 0;
        }
        if (bad) {
            cur.breaks++;
            if (fmt == SJ_FMT_TABLE) {
                fprintf(stderr, "chain break: %s epoch %.8s…: seq %" PRId64 "\n", cur.origin, ep,
                        seq);
            }
        }
        /* Chain on the stored hash: one altered event is one break, and an
         * event altered together with its stored hash breaks at the next. */
        memcpy(cur.last_hash, hash, SJ_HASH_BYTES);
        cur.have_last = 1;
        cur.events++;
        if (cur.gaps == 0) {
            cur.complete = seq;
        }
        cur.last_seq = seq;
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        snprintf(err, err_size, "cannot read events: %s", sqlite3_errmsg(db));
        rc = SJ_EDB;
    }
    if (rc == SJ_OK) {
        rc = s_flush(&cur, t, fmt, problems);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(row);
    if (rc == SJ_OK) {
        rc = sj_table_write(t, fmt, out);
    }
    sj_table_destroy(&t);
    return rc;
}
