/* sj_places: place names (issue 15 item 4, docs/CASES.md "Place names").
 * The county keeps the list (code -> name: `county-server places import`)
 * and sends each child the names it needs down its stream (DownItem kind
 * SJ_DOWN_KIND_PLACES): a township its own, its county's and its stations',
 * a station its own, its township's and its county's. A hub keeps what it
 * got and sends each of its stations their part the same way. Every store
 * keeps its names in `places`; a parent store also keeps, per child, which
 * version of its list the child was last sent (places_sent), so that a
 * child that says Hello after a change (or for the first time) gets the
 * names then, and a child made anew gets them again with its refill. A code
 * without a name shows as the code. */
#ifndef SJ_PLACES_H
#define SJ_PLACES_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_down.h"
#include "sj_err.h"
#include "sj_wire.h"

/* Every store's names: one of its migrations. */
#define SJ_PLACES_SCHEMA                                                                     \
    "CREATE TABLE places(code TEXT PRIMARY KEY, name TEXT NOT NULL, at_ms INTEGER NOT NULL)" \
    " WITHOUT ROWID;"
/* A parent store's: which version of its list (meta places_version) each
 * child was last sent. */
#define SJ_PLACES_SENT_SCHEMA \
    "CREATE TABLE places_sent(child TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;"

/* Reads a place list file: CSV of code,name per line, UTF-8, an optional
 * BOM, an optional header line (its first field not a code), blank lines
 * skipped, a name may be quoted ("..."). county: when not NULL or '', every
 * code must lie under it. Every bad line is named by its number in err (the
 * first few); then SJ_EINVAL and nothing in *out. On SJ_OK the caller frees
 * *out. */
SJ_NODISCARD int sj_places_read_csv(
    const char *path, const char *county, sj_place_t **out, size_t *n, char *err, size_t err_size);

/* Inside the caller's transaction: stores the names (a code held already
 * gets its new name). *changed (may be NULL) gets how many rows were added
 * or renamed. */
SJ_NODISCARD int
sj_places_store(sqlite3 *db, const sj_place_t *p, size_t n, int64_t now_ms, size_t *changed);

/* Every name held, ordered by code; the caller frees *out. */
SJ_NODISCARD int sj_places_all(sqlite3 *db, sj_place_t **out, size_t *n);

/* The names of a store, for showing names beside codes: loaded once, looked
 * up by code. NULL table (a store without names, an older store): every
 * lookup gives NULL. */
typedef struct sj_places_map sj_places_map_t;
/* Never fails: a store without the table gives an empty map (NULL on OOM,
 * which is also an empty map). */
sj_places_map_t *sj_places_map_load(sqlite3 *db);
void sj_places_map_free(sj_places_map_t **map_p);
/* The name of code, or NULL. */
const char *sj_places_map_get(const sj_places_map_t *map, const char *code);
/* "code name" into out when code has a name, else code. */
const char *
sj_places_label(const sj_places_map_t *map, const char *code, char *out, size_t out_size);

/* Issue 15 item 5: has this node heard of code (a township or a station
 * an officer wants to assign to)? 1 in *known when it is in the place list,
 * connected here (links), enrolled in dir's allowlist (dir may be NULL), or
 * one of the store's own queries (NULL-terminated, each binding ?1 to code
 * and giving a row when it knows it, e.g. a report from it) finds it; a
 * table a store does not have is skipped. Else 0 and why names what was
 * looked for. */
SJ_NODISCARD int sj_places_known(sqlite3 *db,
                                 const char *dir,
                                 const char *code,
                                 const char *const *sql,
                                 int *known,
                                 char *why,
                                 size_t why_size);

/* Adds "places": {code: name, ...} (every name held; {} for a store
 * without names) to root, for the pages to show names beside codes. */
SJ_NODISCARD int sj_places_json(sqlite3 *db, cJSON *root);

/* ---- the parent side ---- */

/* Inside the caller's transaction: when child has names here and was not
 * sent this version of the list (or always with force), appends them to
 * its downward stream and records it. Nothing when there is no name for it. */
SJ_NODISCARD int sj_places_offer(sqlite3 *db, sj_down_t *down, const char *child, int force);

/* The codes of every child that has connected (the links table), ordered;
 * the caller frees *codes. */
SJ_NODISCARD int sj_linked_children(sqlite3 *db, char (**codes)[SJ_CODE_MAX + 1], size_t *n);

/* Inside the caller's transaction, after names changed: a new version of
 * the list, offered at once to every child that has connected (links);
 * the others get it at their first Hello. *children (may be NULL) gets how
 * many were sent names. */
SJ_NODISCARD int sj_places_changed(sqlite3 *db, sj_down_t *down, size_t *children);

#endif
