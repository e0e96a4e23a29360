/* county_verify: proves what the county holds. For every (station, epoch)
 * stream: the highest sequence complete from 1, every gap, the positions
 * that were refused where they entered (quarantined: by a hub, which
 * reported them with a Quarantined notice, or here; not gaps, and the chain
 * goes on from the refused bytes' hash), and every break of the hash chain
 * (an event whose prev_hash is not the hash of the previous event's exact
 * bytes, or whose stored hash does not match its bytes). Read-only; works
 * while `run` is running. */
#ifndef COUNTY_VERIFY_H
#define COUNTY_VERIFY_H

#include <sqlite3.h>
#include <stdio.h>

#include "county_store_view.h"
#include "sj_err.h"
#include "sj_table.h"

/* The proof: one row per stream (station, epoch, events, complete_through,
 * gaps, quarantined, chain_breaks, status "ok"/"PROBLEM") and one row per
 * problem or refused position (station, epoch, problem "gap" | "fork" (a
 * position held by two events) | "break" (a hash that does not chain) |
 * "quarantined" (refused where it entered; not a problem), first_seq,
 * last_seq, reason (why it was refused, "quarantined" only)). */
typedef struct {
    sj_table_t *streams;  /* owned */
    sj_table_t *problems; /* owned */
    long count;           /* missing seqs + chain breaks (forks count as breaks) */
} county_verify_t;

/* Reads every event of db (borrowed) in stream order into *out (free with
 * county_verify_free). SJ_OK, SJ_EDB (also a damaged row), SJ_ENOMEM; err
 * says why. */
SJ_NODISCARD int county_verify_run(sqlite3 *db, county_verify_t *out, char *err, size_t err_size);
/* Frees what county_verify_run made; safe on a zeroed or freed one. */
void county_verify_free(county_verify_t *v);

/* county_verify_run, then county_out_verify: one row per stream
 * (table/json/csv) on out and, in table format, one line per problem and
 * per refused position on stderr. *problems counts gaps + chain breaks
 * (refused positions are not problems). */
SJ_NODISCARD int
county_verify(sqlite3 *db, sj_format_t fmt, FILE *out, long *problems, char *err, size_t err_size);

#endif
