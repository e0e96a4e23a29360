/* county_verify: the completeness proof of every stream, see
 * county_verify.h. */
#include "county_verify.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "county_out.h"
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

/* Adds the finished stream s to the streams table. */
static int
s_flush(const s_stream_t *s, sj_table_t *t, long *problems)
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
    return sj_table_add_row(t, cells);
}

/* Adds one problem of stream s (kind "gap", "fork" or "break", seqs first
 * to last) to the problems table. */
static int
s_problem(const s_stream_t *s, sj_table_t *t, const char *kind, int64_t first, int64_t last)
{
    char epoch[2 * SJ_EPOCH_BYTES + 1], a[24], b[24];
    sj_hex_format(s->epoch, SJ_EPOCH_BYTES, epoch);
    snprintf(a, sizeof a, "%" PRId64, first);
    snprintf(b, sizeof b, "%" PRId64, last);
    const char *cells[] = {s->origin, epoch, kind, a, b};
    return sj_table_add_row(t, cells);
}

int
county_verify_run(sqlite3 *db, county_verify_t *out, char *err, size_t err_size)
{
    static const char *const names[] = {"station", "epoch", "events", "complete_through",
                                        "gaps",    "chain_breaks", "status"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT, SJ_COL_INT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_TEXT};
    static const char *const pnames[] = {"station", "epoch", "problem", "first_seq", "last_seq"};
    static const sj_col_type_t ptypes[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
                                           SJ_COL_INT};
    memset(out, 0, sizeof *out);
    out->streams = sj_table_new(7, names, types);
    out->problems = sj_table_new(5, pnames, ptypes);
    if (!out->streams || !out->problems) {
        county_verify_free(out);
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    sj_table_t *t = out->streams, *pt = out->problems;
    long *problems = &out->count;
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
        county_verify_free(out);
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
            if ((rc = s_flush(&cur, t, problems)) != SJ_OK) {
                break;
            }
            memset(&cur, 0, sizeof cur);
            snprintf(cur.origin, sizeof cur.origin, "%.12s", origin);
            memcpy(cur.epoch, epoch, SJ_EPOCH_BYTES);
        }
        if (seq <= cur.last_seq) {
            /* A position held by a second event (another id): a fork of the
             * stream, counted as a chain break; both events are kept. */
            cur.breaks++;
            cur.events++;
            if ((rc = s_problem(&cur, pt, "fork", seq, seq)) != SJ_OK) {
                break;
            }
            continue;
        }
        if (seq != cur.last_seq + 1) {
            cur.gaps += seq - cur.last_seq - 1;
            if ((rc = s_problem(&cur, pt, "gap", cur.last_seq + 1, seq - 1)) != SJ_OK) {
                break;
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
            if ((rc = s_problem(&cur, pt, "break", seq, seq)) != SJ_OK) {
                break;
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
        rc = s_flush(&cur, t, problems);
    }
    if (rc == SJ_ENOMEM) {
        snprintf(err, err_size, "out of memory");
    }
    sqlite3_finalize(st);
    sqlite3_finalize(row);
    if (rc != SJ_OK) {
        county_verify_free(out);
    }
    return rc;
}

void
county_verify_free(county_verify_t *v)
{
    sj_table_destroy(&v->streams);
    sj_table_destroy(&v->problems);
}

int
county_verify(sqlite3 *db, sj_format_t fmt, FILE *out, long *problems, char *err, size_t err_size)
{
    county_verify_t v;
    *problems = 0;
    int rc = county_verify_run(db, &v, err, err_size);
    if (rc == SJ_OK) {
        *problems = v.count;
        rc = county_out_verify(&v, fmt, out, stderr);
    }
    county_verify_free(&v);
    return rc;
}
