/* sj_history: a case's story and its text search, shared by the county's
 * and the hub's stores (issue 15, docs/CASES.md "History and search").
 *
 * History: the store gives one SELECT with ?1 the case id whose rows are,
 * in this column order,
 *   type TEXT      report | status | assignment | extension | evaluation |
 *                  appointment | appointment_mark (issue 16 item 6: office in
 *                  the assignee column, the day in due_on, the time in flag;
 *                  a mark's kept 1/0 in to)
 *                  | ownership
 *   at_ms INTEGER  when its author made it (display; nothing is ordered by
 *                  it except this timeline)
 *   origin TEXT    the node that made it (station, township or county code)
 *   officer TEXT   who, as the author typed it (may be NULL)
 *   note TEXT      (may be NULL)
 *   from INTEGER   status: the outcome its author saw (NULL: not given)
 *   to INTEGER     report: the outcome reported; status: the new outcome
 *   assignee TEXT, due_on TEXT   assignment
 *   flag TEXT      status: the conflict listed for it (NULL: none)
 *   applied INTEGER status: 0 not applied, 1 on the path in force, 2 in force
 *   id BLOB        the event's id
 *   (arrival INTEGER  the store's own order: the 13th column, ORDER BY 2, 13)
 *   received INTEGER  optional 14th: when this tier received the event
 *                  (NULL: not known, e.g. made here); "received" in JSON
 *   at_county INTEGER optional 15th: 1 when the county has it (a hub knows
 *                  it from the county's acks), 0 not yet, NULL: not said;
 *                  "at_county" in JSON (receipts, issue 15)
 * An extension (docs/CLOCK.md, type "extension") puts its reason in note,
 * its stage (sj_stage_t) in assignee, its days in due_on and who approved
 * it in flag. An evaluation (issue 16) puts its satisfaction (1..4) in to.
 * An ownership (type "ownership", docs/MEETING.md) puts the leader in
 * assignee and the portfolio in due_on.
 * ordered by time, then arrival.
 *
 * Search: every store keeps an FTS5 table `search(text, case_id UNINDEXED,
 * kind UNINDEXED)` with the trigram tokenizer. Status notes, assignment
 * notes and changed summaries go into it by triggers in the transaction
 * that stores the row (they are rare next to reports). The reports'
 * summaries do not: trigram indexing costs ~50 us a row, several times the
 * rest of a report's ingest. They are indexed in the daemon's idle time
 * (sj_history_index, from the node engine's idle hook), in the order of
 * the store's events table, and meta `search_through` is the highest events
 * row done (SJ_SEARCH_MARK). A search is the FTS MATCH over the table UNION
 * a LIKE scan of the summaries whose events row is above the mark, in one
 * statement (one snapshot): the same rows whether a report is indexed yet
 * or not, also in a store whose daemon never ran. */
#ifndef SJ_HISTORY_H
#define SJ_HISTORY_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "sj_err.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_table.h"

/* The FTS5 table and the triggers over a changes table (its note column)
 * and assignments (note), as SQL text for a migration: the matters/reports
 * table's trigger is the store's. */
#define SJ_SEARCH_SCHEMA                                                                     \
    "CREATE VIRTUAL TABLE search USING fts5(text, case_id UNINDEXED, kind UNINDEXED,"        \
    " tokenize='trigram');"                                                                  \
    "CREATE TRIGGER search_assignment AFTER INSERT ON assignments WHEN new.note != '' BEGIN" \
    " INSERT INTO search(text, case_id, kind) VALUES(new.note, new.case_id, 'note'); END;"   \
    "INSERT INTO search(text, case_id, kind) SELECT note, case_id, 'note' FROM assignments"  \
    " WHERE note != '';"
#define SJ_SEARCH_CHANGES_SCHEMA(changes)                                                     \
    "ALTER TABLE " changes " ADD COLUMN note TEXT;"                                           \
    "ALTER TABLE " changes " ADD COLUMN officer TEXT;"                                        \
    "CREATE TRIGGER search_" changes " AFTER INSERT ON " changes " WHEN new.note != '' BEGIN" \
    " INSERT INTO search(text, case_id, kind) VALUES(new.note, new.case_id, 'note'); END;"    \
    "CREATE TRIGGER search_" changes "_fill AFTER UPDATE OF note ON " changes                 \
    " WHEN old.note IS NULL AND new.note != '' BEGIN"                                         \
    " INSERT INTO search(text, case_id, kind) VALUES(new.note, new.case_id, 'note'); END;"    \
    "INSERT INTO meta(key, value) VALUES('case_notes', 1)"                                    \
    " ON CONFLICT(key) DO UPDATE SET value = 1;"

/* The mark as SQL (0 when the store has none). */
#define SJ_SEARCH_MARK "coalesce((SELECT value FROM meta WHERE key = 'search_through'), 0)"

/* Where the summaries to index come from: rows_sql gives, for ?1 the mark
 * and ?2 a limit, the events rows above the mark in order: seq (the events
 * row), text (the summary to index; NULL: nothing, e.g. not a report),
 * case_id. top_sql gives the highest events row. */
typedef struct {
    const char *rows_sql;
    const char *top_sql;
} sj_search_src_t;

/* One bounded step of the idle indexer: at most max_rows events rows or
 * about max_ms of work, in its own transaction, and the mark moved past
 * them. *more (may be NULL): 1 when rows above the mark are left. *done
 * (may be NULL): summaries indexed. SJ_OK also when there was nothing to
 * do; an error code when the store is locked by another writer (nothing
 * changed: the next idle turn tries again). */
SJ_NODISCARD int sj_history_index(
    sqlite3 *db, const sj_search_src_t *src, int max_rows, int max_ms, int *more, int64_t *done);

/* The idle indexer's step in a daemon: rows and time per step. */
#define SJ_SEARCH_STEP_ROWS 1000
#define SJ_SEARCH_STEP_MS   20

/* What the daemon's idle step remembers between turns (zeroed at start). */
typedef struct {
    int settled;    /* 1: the index was caught up and no report came since (the
                     * store clears it when it stores a report) */
    int last_rc;    /* the last step's code: a failure is logged when it starts */
    int64_t caught; /* summaries indexed since the index was last caught up */
} sj_search_idle_t;

/* The daemon's idle step (sj_node_role_t.idle): nothing when settled (no
 * query: the loop calls it after every turn with input), else
 * sj_history_index with SJ_SEARCH_STEP_ROWS and SJ_SEARCH_STEP_MS. A
 * failure (the store locked by another writer) is logged once, when it
 * starts; the next idle turn tries again. A catch-up of SJ_SEARCH_LOG_ROWS
 * summaries or more is logged when it ends. Returns 1 when more is
 * waiting, else 0. */
int sj_history_index_idle(sqlite3 *db, const sj_search_src_t *src, sj_search_idle_t *state);
#define SJ_SEARCH_LOG_ROWS 10000

/* Once after the migration above (meta case_notes = 1): the note and
 * officer of every status change stored before it, read from the event's
 * own bytes (events.raw, joined on the arrival column), in one
 * transaction. SJ_OK when there was nothing to do. */
SJ_NODISCARD int sj_history_backfill(sqlite3 *db, const char *changes, const char *arrival);

/* Writes case id's timeline from sql (above). Table format: one line per
 * entry after a "history:" line; JSON: adds "history": [...] to obj. */
SJ_NODISCARD int sj_history_write(sqlite3 *db,
                                  const char *sql,
                                  const uint8_t id[SJ_ID_BYTES],
                                  sj_format_t fmt,
                                  FILE *out,
                                  cJSON *obj,
                                  char *err,
                                  size_t err_size);

/* A search text as an FTS5 phrase ("..." with " doubled) into out. 0: the
 * text has fewer than 3 characters (the trigram index cannot answer it: use
 * a LIKE scan, sj_history_like), -1: too long. */
int sj_history_phrase(const char *text, char *out, size_t size);
/* The text as a LIKE pattern "%text%" with % _ \ escaped (ESCAPE '\'). */
int sj_history_like(const char *text, char *out, size_t size);
/* UTF-8 characters in s. */
size_t sj_history_chars(const char *s);

#endif
