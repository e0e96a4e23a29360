/* hub_read: the township reads and finds its matters (issue 15):
 * `township-hub list`, `show ID`, `search TEXT` and the page's case table.
 * Everything comes from the hub's own tables (reports, cases, case_changes,
 * assignments, search): the report's fields but never the sealed personal
 * data, which the hub does not have. */
#ifndef HUB_READ_H
#define HUB_READ_H

#include <sqlite3.h>
#include <stdio.h>

#include "sj_err.h"
#include "sj_table.h"

typedef struct {
    const char *station;   /* 12-digit code or NULL */
    const char *category;  /* enum name or NULL */
    const char *outcome;   /* enum name (the outcome in force here) or NULL */
    const char *from, *to; /* occurred_on, inclusive, YYYY-MM-DD or NULL */
    const char *text;      /* search: summary or note contains it; NULL = list */
    long limit;            /* 0: 100 */
    long offset;           /* rows skipped (paging) */
} hub_read_filter_t;

/* The matters that pass f, newest first (by the report's time): id (whole),
 * occurred_on, station, category, channel, kind, persons, outcome, assignee,
 * due_on, summary. A text of fewer than 3 characters is looked for by a
 * LIKE scan (*scanned = 1; the trigram index needs 3). SJ_EINVAL with a
 * reason naming the bad filter. */
SJ_NODISCARD int hub_read_list(sqlite3 *db,
                               const hub_read_filter_t *f,
                               sj_table_t **out,
                               int *scanned,
                               char *err,
                               size_t err_size);

/* One matter and its history (sj_history.h): table "field: value" lines
 * then the timeline; json one object with "history"; csv the fields.
 * SJ_ENOTFOUND: no such matter here; SJ_EINVAL: not a UUID. */
SJ_NODISCARD int hub_read_show(
    sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out, char *err, size_t err_size);
/* The history as JSON into obj (the page's case view). */
extern const char hub_read_history_sql[];

#endif
