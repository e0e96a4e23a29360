/* sj_history: a case's story and its text search, shared by the county's
 * and the hub's stores (issue 15, docs/CASES.md "History and search").
 *
 * History: the store gives one SELECT with ?1 the case id whose rows are,
 * in this column order,
 *   type TEXT      report | status | assignment | extension | evaluation
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
 * An extension (docs/CLOCK.md, type "extension") puts its reason in note,
 * its stage (sj_stage_t) in assignee, its days in due_on and who approved
 * it in flag. An evaluation (issue 16) puts its satisfaction (1..4) in to.
 * ordered by time, then arrival.
 *
 * Search: every store keeps an FTS5 table `search(text, case_id UNINDEXED,
 * kind UNINDEXED)` with the trigram tokenizer, filled by triggers in the
 * transaction that stores the row (summaries, status notes, assignment
 * notes). */
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
