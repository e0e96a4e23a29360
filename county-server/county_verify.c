/* county_verify: the completeness proof of every stream, see
 * county_verify.h. */
#include "county_verify.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "county_out.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_wire.h"

/* A position of a stream that entered and was refused (quarantined): by a
 * hub (its Quarantined notices, events of type SJ_EVENT_QUARANTINED), or
 * here (the quarantine table). Such a position is explained, not a gap;
 * hash is the refused bytes' hash, the next event's prev_hash. */
typedef struct {
    char origin[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    int64_t seq;
    uint8_t hash[SJ_HASH_BYTES];
    char reason[160];
} s_refused_t;

typedef struct {
    s_refused_t *v;
    size_t n, cap;
} s_refusals_t;

/* One stream's running state while its events are read in seq order. */
typedef struct {
    char origin[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    int64_t events;
    int64_t complete;    /* highest seq complete from 1 (refused positions count) */
    int64_t last_seq;    /* previous seq seen */
    int64_t gaps;        /* missing seqs nobody explains */
    int64_t quarantined; /* refused positions of this stream */
    int64_t breaks;      /* hash chain breaks */
    uint8_t last_hash[SJ_HASH_BYTES];
    int have_last;
} s_stream_t;

/* Adds the finished stream s to the streams table. */
static int
s_key_cmp(
    const char *oa, const uint8_t *ea, int64_t sa, const char *ob, const uint8_t *eb, int64_t sb)
{
    int c = strcmp(oa, ob);
    if (!c) {
        c = memcmp(ea, eb, SJ_EPOCH_BYTES);
    }
    if (!c) {
        c = sa < sb ? -1 : sa > sb;
    }
    return c;
}

static int
s_refused_cmp(const void *a, const void *b)
{
    const s_refused_t *x = a, *y = b;
    return s_key_cmp(x->origin, x->epoch, x->seq, y->origin, y->epoch, y->seq);
}

static int
s_refused_add(s_refusals_t *r,
              const char *origin,
              const uint8_t *epoch,
              int64_t seq,
              const uint8_t hash[SJ_HASH_BYTES],
              const char *reason)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        s_refused_t *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            return SJ_ENOMEM;
        }
        r->v = v;
        r->cap = cap;
    }
    s_refused_t *x = &r->v[r->n++];
    snprintf(x->origin, sizeof x->origin, "%s", origin);
    memcpy(x->epoch, epoch, SJ_EPOCH_BYTES);
    x->seq = seq;
    memcpy(x->hash, hash, SJ_HASH_BYTES);
    snprintf(x->reason, sizeof x->reason, "%s", reason ? reason : "");
    return SJ_OK;
}

/* The refused positions: the hubs' notices and this county's quarantine
 * (a station's link stream is its own stream; a hub's carries others'
 * events, whose position is read from their bytes when they have one). */
static int
s_refusals_load(sqlite3 *db, s_refusals_t *r, char *err, size_t err_size)
{
    sqlite3_stmt *st = NULL;
    sj_event_t *ev = malloc(sizeof *ev);
    int rc = ev ? SJ_OK : SJ_ENOMEM, step = SQLITE_DONE;
    if (rc == SJ_OK
        && sqlite3_prepare_v2(db, "SELECT raw FROM events WHERE type = 4", -1, &st, NULL)
               != SQLITE_OK) {
        rc = SJ_EDB;
    }
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char why[256];
        if (sj_event_decode(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), ev,
                            why, sizeof why)
                == SJ_OK
            && ev->type == SJ_EVENT_QUARANTINED) {
            rc =
                s_refused_add(r, ev->quarantined.origin, ev->quarantined.epoch,
                              (int64_t) ev->quarantined.origin_seq, ev->quarantined.hash, ev->note);
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = SJ_EDB;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SJ_OK
        && sqlite3_prepare_v2(db, "SELECT code, epoch, link_seq, raw, reason FROM quarantine", -1,
                              &st, NULL)
               != SQLITE_OK) {
        rc = SJ_EDB;
    }
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *) sqlite3_column_text(st, 0);
        const void *raw = sqlite3_column_blob(st, 3);
        size_t len = (size_t) sqlite3_column_bytes(st, 3);
        char origin[SJ_CODE_MAX + 1];
        uint8_t epoch[SJ_EPOCH_BYTES], hash[SJ_HASH_BYTES];
        uint64_t seq = 0;
        if (!code || sqlite3_column_bytes(st, 1) != SJ_EPOCH_BYTES) {
            continue;
        }
        sj_event_hash(raw, len, hash);
        if (sj_code_level(code) == 12) {
            snprintf(origin, sizeof origin, "%s", code);
            memcpy(epoch, sqlite3_column_blob(st, 1), SJ_EPOCH_BYTES);
            seq = (uint64_t) sqlite3_column_int64(st, 2);
        } else if (sj_event_peek(raw, len, origin, epoch, &seq) != SJ_OK) {
            continue; /* no position to explain */
        }
        rc = s_refused_add(r, origin, epoch, (int64_t) seq, hash,
                           (const char *) sqlite3_column_text(st, 4));
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = SJ_EDB;
    }
    sqlite3_finalize(st);
    free(ev);
    if (rc != SJ_OK) {
        snprintf(err, err_size, _("cannot read the refused events: %s"),
                 rc == SJ_ENOMEM ? "out of memory" : sqlite3_errmsg(db));
        return rc;
    }
    if (r->n) {
        qsort(r->v, r->n, sizeof *r->v, s_refused_cmp);
    }
    return SJ_OK;
}

static const s_refused_t *
s_refused_find(const s_refusals_t *r, const char *origin, const uint8_t *epoch, int64_t seq)
{
    s_refused_t key;
    snprintf(key.origin, sizeof key.origin, "%s", origin);
    memcpy(key.epoch, epoch, SJ_EPOCH_BYTES);
    key.seq = seq;
    return r->n ? bsearch(&key, r->v, r->n, sizeof *r->v, s_refused_cmp) : NULL;
}

static int
s_flush(const s_stream_t *s, sj_table_t *t, long *problems)
{
    if (!s->events && !s->quarantined) {
        return SJ_OK;
    }
    char epoch[2 * SJ_EPOCH_BYTES + 1], events[24], complete[24], gaps[24], quar[24], breaks[24];
    sj_hex_format(s->epoch, SJ_EPOCH_BYTES, epoch);
    snprintf(events, sizeof events, "%" PRId64, s->events);
    snprintf(complete, sizeof complete, "%" PRId64, s->complete);
    snprintf(gaps, sizeof gaps, "%" PRId64, s->gaps);
    snprintf(quar, sizeof quar, "%" PRId64, s->quarantined);
    snprintf(breaks, sizeof breaks, "%" PRId64, s->breaks);
    int ok = s->gaps == 0 && s->breaks == 0;
    const char *cells[] = {s->origin, epoch, events, complete,
                           gaps,      quar,  breaks, ok ? "ok" : "PROBLEM"};
    *problems += s->gaps + s->breaks;
    return sj_table_add_row(t, cells);
}

/* Adds one row of stream s (kind "gap", "fork", "break" or "quarantined",
 * seqs first to last, why it was refused for "quarantined") to the problems
 * table. */
static int
s_problem_why(const s_stream_t *s,
              sj_table_t *t,
              const char *kind,
              int64_t first,
              int64_t last,
              const char *reason)
{
    char epoch[2 * SJ_EPOCH_BYTES + 1], a[24], b[24];
    sj_hex_format(s->epoch, SJ_EPOCH_BYTES, epoch);
    snprintf(a, sizeof a, "%" PRId64, first);
    snprintf(b, sizeof b, "%" PRId64, last);
    const char *cells[] = {s->origin, epoch, kind, a, b, reason ? reason : ""};
    return sj_table_add_row(t, cells);
}

static int
s_problem(const s_stream_t *s, sj_table_t *t, const char *kind, int64_t first, int64_t last)
{
    return s_problem_why(s, t, kind, first, last, "");
}

/* The positions (from, to] of cur's stream that hold no event: refused
 * ones are explained (the chain goes on from the refused bytes), the rest
 * are gaps, added to cur->gaps and, one row per run, to pt. */
static int
s_missing(s_stream_t *cur, const s_refusals_t *r, int64_t from, int64_t to, sj_table_t *pt)
{
    int64_t run = 0; /* first seq of the gap run being read, 0 = none */
    int rc = SJ_OK;
    for (int64_t q = from + 1; rc == SJ_OK && q <= to + 1; q++) {
        const s_refused_t *x = q <= to ? s_refused_find(r, cur->origin, cur->epoch, q) : NULL;
        if (q <= to && !x) {
            cur->gaps++;
            cur->have_last = 0;
            run = run ? run : q;
            continue;
        }
        if (run) {
            rc = s_problem(cur, pt, "gap", run, q - 1);
            run = 0;
        }
        if (x) {
            memcpy(cur->last_hash, x->hash, SJ_HASH_BYTES);
            cur->have_last = 1;
        }
    }
    return rc;
}

/* Starts the row of the stream (origin, epoch): its refused positions are
 * counted and listed once. */
static int
s_stream_start(s_stream_t *cur,
               const s_refusals_t *r,
               const char *origin,
               const uint8_t *epoch,
               sj_table_t *pt)
{
    memset(cur, 0, sizeof *cur);
    snprintf(cur->origin, sizeof cur->origin, "%.12s", origin);
    memcpy(cur->epoch, epoch, SJ_EPOCH_BYTES);
    /* the stream's first refused position (lower bound of seq 0) */
    size_t i = 0, hi = r->n;
    while (i < hi) {
        size_t mid = (i + hi) / 2;
        if (s_key_cmp(r->v[mid].origin, r->v[mid].epoch, r->v[mid].seq, origin, epoch, 0) < 0) {
            i = mid + 1;
        } else {
            hi = mid;
        }
    }
    int rc = SJ_OK;
    for (; rc == SJ_OK && i < r->n && strcmp(r->v[i].origin, origin) == 0
           && memcmp(r->v[i].epoch, epoch, SJ_EPOCH_BYTES) == 0;
         i++) {
        if (i > 0 && s_refused_cmp(&r->v[i - 1], &r->v[i]) == 0) {
            continue; /* the same position refused twice (a hub and here) */
        }
        cur->quarantined++;
        rc = s_problem_why(cur, pt, "quarantined", r->v[i].seq, r->v[i].seq, r->v[i].reason);
    }
    return rc;
}

/* The streams that have refused positions but no event here at all. */
static int
s_refused_only(sqlite3 *db, const s_refusals_t *r, sj_table_t *t, sj_table_t *pt, long *problems)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM events WHERE origin=? AND epoch=? LIMIT 1", -1, &st,
                           NULL)
        != SQLITE_OK) {
        return SJ_EDB;
    }
    int rc = SJ_OK;
    for (size_t i = 0; rc == SJ_OK && i < r->n; i++) {
        if (i > 0 && strcmp(r->v[i - 1].origin, r->v[i].origin) == 0
            && memcmp(r->v[i - 1].epoch, r->v[i].epoch, SJ_EPOCH_BYTES) == 0) {
            continue;
        }
        sqlite3_bind_text(st, 1, r->v[i].origin, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, r->v[i].epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step == SQLITE_DONE) {
            s_stream_t cur;
            rc = s_stream_start(&cur, r, r->v[i].origin, r->v[i].epoch, pt);
            if (rc == SJ_OK) {
                rc = s_flush(&cur, t, problems);
            }
        } else if (step != SQLITE_ROW) {
            rc = SJ_EDB;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int
county_verify_run(sqlite3 *db, county_verify_t *out, char *err, size_t err_size)
{
    static const char *const names[] = {"station",          "epoch", "events",
                                        "complete_through", "gaps",  "quarantined",
                                        "chain_breaks",     "status"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT, SJ_COL_INT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_INT, SJ_COL_TEXT};
    static const char *const pnames[] = {"station",   "epoch",    "problem",
                                         "first_seq", "last_seq", "reason"};
    static const sj_col_type_t ptypes[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                           SJ_COL_INT,  SJ_COL_INT,  SJ_COL_TEXT};
    memset(out, 0, sizeof *out);
    out->streams = sj_table_new(8, names, types);
    out->problems = sj_table_new(6, pnames, ptypes);
    if (!out->streams || !out->problems) {
        county_verify_free(out);
        snprintf(err, err_size, _("out of memory"));
        return SJ_ENOMEM;
    }
    sj_table_t *t = out->streams, *pt = out->problems;
    long *problems = &out->count;
    s_refusals_t refused = {0};
    int rc = s_refusals_load(db, &refused, err, err_size);
    if (rc != SJ_OK) {
        county_verify_free(out);
        return rc;
    }
    sqlite3_stmt *st = NULL, *row = NULL;
    /* No index holds this order (schema 6 dropped it from the ingest path):
     * SQLite sorts just the keys (temp files past its cache), and each
     * event's hashes and bytes are then read by rowid. A hub's quarantine
     * notices (type 4) are events of its own stream like any other. */
    static const char sql[] = "SELECT origin, epoch, origin_seq, eid FROM events"
                              " ORDER BY origin, epoch, origin_seq, eid";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "SELECT prev_hash, hash, raw FROM events WHERE eid=?", -1, &row,
                              NULL)
               != SQLITE_OK) {
        snprintf(err, err_size, _("cannot read events: %s"), sqlite3_errmsg(db));
        sqlite3_finalize(st);
        county_verify_free(out);
        free(refused.v);
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
            snprintf(err, err_size, _("cannot read an event: %s"), sqlite3_errmsg(db));
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
            snprintf(err, err_size, _("an event row is damaged (missing key or hash columns)"));
            rc = SJ_EDB;
            break;
        }
        if (strcmp(origin, cur.origin) != 0 || memcmp(epoch, cur.epoch, SJ_EPOCH_BYTES) != 0) {
            if ((rc = s_flush(&cur, t, problems)) != SJ_OK) {
                break;
            }
            if ((rc = s_stream_start(&cur, &refused, origin, epoch, pt)) != SJ_OK) {
                break;
            }
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
            rc = s_missing(&cur, &refused, cur.last_seq, seq - 1, pt);
            if (rc != SJ_OK) {
                break;
            }
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
        snprintf(err, err_size, _("cannot read events: %s"), sqlite3_errmsg(db));
        rc = SJ_EDB;
    }
    if (rc == SJ_OK) {
        rc = s_flush(&cur, t, problems);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(row);
    if (rc == SJ_OK) {
        rc = s_refused_only(db, &refused, t, pt, problems);
        if (rc == SJ_EDB) {
            snprintf(err, err_size, _("cannot read events: %s"), sqlite3_errmsg(db));
        }
    }
    if (rc == SJ_ENOMEM) {
        snprintf(err, err_size, _("out of memory"));
    }
    free(refused.v);
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
