/* county_verify: proves what the county holds. For every (station, epoch)
 * stream: the highest sequence complete from 1, every gap, and every break
 * of the hash chain (an event whose prev_hash is not the hash of the
 * previous event's exact bytes, or whose stored hash does not match its
 * bytes). Read-only; works while `run` is running. */
#ifndef COUNTY_VERIFY_H
#define COUNTY_VERIFY_H

#include <sqlite3.h>
#include <stdio.h>

#include "county_store_view.h"
#include "sj_err.h"
#include "sj_table.h"

/* Writes one row per stream (table/json/csv) and, in table format, one
 * line per problem on stderr. *problems counts gaps + chain breaks. */
SJ_NODISCARD int county_verify(sqlite3 *db, sj_format_t fmt, FILE *out, long *problems,
                               char *err, size_t err_size);

#endif
