/* sj_idbits: a set of event or case ids that may answer "certainly not in
 * it" without a database lookup: one bit per hash of an id (the random tail
 * of a UUIDv7), never cleared. A set bit may be a false alarm (two ids share
 * a bit, or the id left the set): the caller then does the lookup the bit
 * would have saved. A clear bit is never wrong, provided every id that
 * enters the set is marked (at open, from the database, and by the one
 * process that adds more).
 *
 * Both stores use it for the rare status changes that arrive before their
 * report ("orphans"): a new report looks for its earlier changes only when
 * its bit is set, instead of an index probe per report (~0.3 us each). */
#ifndef SJ_IDBITS_H
#define SJ_IDBITS_H

#include <sqlite3.h>
#include <stdint.h>

#include "sj_err.h"
#include "sj_model.h" /* SJ_ID_BYTES */

typedef struct sj_idbits sj_idbits_t;

/* An empty set whose members are the ids `sql` (one blob column) returns
 * on db, read at the first sj_idbits_maybe, not here: a tool that opens a
 * store without ever asking (say `county-server update`) never pays for the
 * query. NULL without memory. */
sj_idbits_t *sj_idbits_new(sqlite3 *db, const char *sql);
void sj_idbits_destroy(sj_idbits_t **self_p);
void sj_idbits_mark(sj_idbits_t *self, const uint8_t id[SJ_ID_BYTES]);
/* 0: id is certainly not in the set; 1: it may be (also when self is NULL,
 * or when the query failed: then every id may be). */
int sj_idbits_maybe(sj_idbits_t *self, const uint8_t id[SJ_ID_BYTES]);

#endif
