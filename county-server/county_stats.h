/* county_stats: `stats`, items (count of matters) and persons (sum)
 * grouped by any of the --by dimensions (county_filter.h), and with
 * COUNTY_STATS_CASES the case figures of each group (county_figs.h).
 *
 * The answer is a result, not text: a table of rows (the dims as --by
 * prints them, then items and persons, or the COUNTY_FIGS_NCOLS figures)
 * and the total; county_out writes it as table, JSON or CSV, and the
 * dashboard reads it. Counts come from a tally when one holds every --by
 * dimension and filter (county_tally.h plans which), else from a scan of
 * matters; SQLite does the counting and C only gathers the groups (a few
 * hundred at most). The total is the sum of the groups, so it always
 * agrees with the rows. Not thread-safe: the db's thread. */
#ifndef COUNTY_STATS_H
#define COUNTY_STATS_H

#include <sqlite3.h>
#include <stddef.h>

#include "county_figs.h"
#include "county_filter.h"
#include "sj_err.h"
#include "sj_places.h"
#include "sj_table.h"

/* Flags of county_stats_run:
 * COUNTY_STATS_SCAN   counts by scanning matters, never a tally (tests prove
 *                     both give the same answer);
 * COUNTY_STATS_CASES  each row and the total also get the case figures:
 *                     open, overdue, concluded, withdrawn, closure_rate
 *                     (percent, one decimal), median_days_to_close (one
 *                     decimal), assigned, assigned_concluded,
 *                     assigned_withdrawn, assigned_closure_rate (undefined
 *                     rates and medians: JSON null, blank); always a scan of
 *                     matters with their changes and assignments (about
 *                     0.7 s per million matters). --by ever_outcome implies
 *                     it. */
#define COUNTY_STATS_SCAN  1u
#define COUNTY_STATS_CASES 2u

typedef struct county_stats county_stats_t;

/* Counts the matters that pass f (NULL = all) grouped by the
 * comma-separated dims in `by` (NULL or "" = one ungrouped row), rows
 * ordered by the dims. db and f are borrowed for the call only.
 * Returns: SJ_OK with *out (caller owns, county_stats_destroy); SJ_EINVAL
 * (bad filter, unknown or repeated dim: the reason lists the valid dims);
 * SJ_EDB (also a damaged enum value), SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int county_stats_run(sqlite3 *db,
                                  const char *by,
                                  const county_filter_t *f,
                                  unsigned flags,
                                  county_stats_t **out,
                                  char *err,
                                  size_t err_size);
/* NULL-safe; sets *self_p = NULL. */
void county_stats_destroy(county_stats_t **self_p);

/* The rows (borrowed, valid until destroy): ndims text columns, then items
 * and persons, or with figures the COUNTY_FIGS_NCOLS columns of
 * county_figs_names. With dims it has a total line (table format only). */
const sj_table_t *county_stats_rows(const county_stats_t *self);
/* How many dims the rows start with (0: the one row is the total). */
size_t county_stats_ndims(const county_stats_t *self);
/* Whether the rows and the total carry the case figures. */
int county_stats_has_figs(const county_stats_t *self);
/* The total: items and persons always, the other figures with figs. */
const county_figs_t *county_stats_total(const county_stats_t *self);

/* The place names (issue 15; borrowed): county_out_stats_json gives every
 * row with a township or station its "name" (station_name and
 * township_name when it has both). */
const sj_places_map_t *county_stats_places(const county_stats_t *self);

/* The table stats would read for this query without COUNTY_STATS_CASES
 * ("tally_place", "tally_kind", "tally_field" or "matters"); NULL when by or
 * the filter is invalid. */
const char *county_stats_source(const char *by, const county_filter_t *f);

#endif
