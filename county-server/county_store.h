/* county_store: the master database. Every event is kept with the exact
 * bytes its origin hashed (events), deduplicated forever by
 * (origin, epoch, origin_seq) and by event id; each report is also a row of
 * matters, the table every figure is counted from.
 *
 * Schema (version 1):
 *   events(eid, id UNIQUE, origin, epoch, origin_seq, via, type, created_ms,
 *          received_ms, prev_hash, hash, raw, UNIQUE(origin, epoch, origin_seq))
 *   matters(id PRIMARY KEY, origin, township, occurred_on 'YYYY-MM-DD',
 *           channel, kind, persons, level, category, outcome, source
 *           (enum values 1..n as in sj_model.h), summary, officer,
 *           sealed (ciphertext or NULL), created_ms, received_ms)
 *   links, quarantine (sj_link.h). */
#ifndef COUNTY_STORE_H
#define COUNTY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sj_db.h"
#include "sj_link.h"

#define COUNTY_STORE_FILE "county-server.db" /* in the data directory */

typedef struct county_store county_store_t;

/* Opens dir/county-server.db. code (6 digits) is optional: when set (now or
 * when the store was made) children must lie under it. */
county_store_t *county_store_open(const char *dir, const char *code, sj_db_mode_t mode, char *err,
                                  size_t err_size);
void county_store_close(county_store_t **self_p);
sqlite3 *county_store_db(county_store_t *self);
const uint8_t *county_store_epoch(const county_store_t *self);

extern const sj_downlink_ops_t county_store_downlink_ops;

#endif
