/* county_tally: the counts of matters kept ahead, so that `stats` reads a
 * few thousand rows instead of scanning every matter: their schema (the
 * store's migrations 5 and 7), the key of tally_kind, the store's
 * accumulator that counts new matters over a batch, and the planner that
 * says which tally answers a question.
 *
 * The tallies (items = matters, persons = their sum):
 *   tally_place  per day x station (and its township)       schema 5
 *   tally_kind   per month x all six enum fields together   schema 5
 *   tally_field  per month x township x one enum field      schema 7
 *                (a matter is in six rows, one per field)
 * Always in the transaction that changes matters: a new matter is counted
 * by the store (county_tally_acc_add, written at the end of the batch by
 * county_tally_acc_flush), an UPDATE or DELETE of matters (the status
 * replay, anything later) by the triggers below; a row whose items drop to
 * 0 is deleted. A tool that INSERTs matters with plain SQL counts them again
 * with county_tally_rebuild.
 *
 * The key of tally_kind has one definition, COUNTY_TALLY_KEY_FIELDS: the
 * SQL of the triggers and the rebuild (COUNTY_TALLY_KEY_SQL) and the C of
 * the store's flush (county_tally_kind_key) are both made from it, so they
 * agree by construction (tests/unit/test_county_tally.c checks every value).
 * A store keeps the trigger text it was created with: changing the key
 * needs a migration that makes the triggers again and rebuilds tally_kind.
 *
 * Which tally answers (county_tally_plan), in this order:
 *   tally_place  every --by among month, township, station, and no enum
 *                filter (dates cut on days);
 *   tally_kind   every --by among month and the enum fields, no --township
 *                or --station, dates on whole months only;
 *   tally_field  place and one kind: --by among month, township and ONE
 *                enum field, filters on that field only, no station,
 *                dates on whole months only;
 *   matters      anything else (a scan), and always for the case figures
 *                and ever_outcome (county_figs). */
#ifndef COUNTY_TALLY_H
#define COUNTY_TALLY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "county_filter.h"
#include "sj_err.h"
#include "sj_model.h"

/* ---- the key of tally_kind ----
 * The month and the six enum values (each 1..6, one decimal digit) packed
 * into one integer, YYYYMM then one digit per field, so that adding to a
 * row is an integer-key lookup; the readable columns are kept beside it for
 * the queries. One row per field: X(r, column, sj_field_t, place value). */
#define COUNTY_TALLY_KEY_FIELDS(X, r)       \
    X(r, channel, SJ_FIELD_CHANNEL, 100000) \
    X(r, kind, SJ_FIELD_KIND, 10000)        \
    X(r, level, SJ_FIELD_LEVEL, 1000)       \
    X(r, category, SJ_FIELD_CATEGORY, 100)  \
    X(r, outcome, SJ_FIELD_OUTCOME, 10)     \
    X(r, source, SJ_FIELD_SOURCE, 1)
#define COUNTY_TALLY_KEY_MONTH 1000000 /* YYYYMM is multiplied by this */

#define COUNTY_TALLY_STR_(x)                         #x
#define COUNTY_TALLY_STR(x)                          COUNTY_TALLY_STR_(x)
#define COUNTY_TALLY_KEY_TERM_(r, col, field, place) " + " r "." #col " * " #place
/* The key of matter r (new, old, or the table matters) in SQL. */
#define COUNTY_TALLY_KEY_SQL(r)                                                    \
    " ((CAST(substr(" r ".occurred_on, 1, 4) AS INTEGER) * 100"                    \
    " + CAST(substr(" r                                                            \
    ".occurred_on, 6, 2) AS INTEGER)) * " COUNTY_TALLY_STR(COUNTY_TALLY_KEY_MONTH) \
        COUNTY_TALLY_KEY_FIELDS(COUNTY_TALLY_KEY_TERM_, r) ")"

/* The key in C: month "YYYY-MM" (or a whole date), e the enum values in
 * sj_field_t order. */
int64_t county_tally_kind_key(const char *month, const uint8_t e[SJ_FIELD_COUNT]);

/* ---- the schema (county_store.c's migrations) ---- */

/* The trigger bodies of tally_place and tally_kind: add or take away one
 * matter, r being new or old. */
#define COUNTY_TALLY_ADD_SQL(r)                                                                 \
    " INSERT INTO tally_place(day, origin, township, items, persons)"                           \
    " VALUES(" r ".occurred_on, " r ".origin, " r ".township, 1, " r ".persons)"                \
    " ON CONFLICT(day, origin, township) DO UPDATE SET items = items + 1,"                      \
    " persons = persons + excluded.persons;"                                                    \
    " INSERT INTO tally_kind(k, month, channel, kind, level, category, outcome, source, items," \
    " persons) VALUES(" COUNTY_TALLY_KEY_SQL(                                                   \
        r) ", substr(" r ".occurred_on, 1, 7), " r ".channel, " r ".kind, " r ".level, " r      \
           ".category, " r ".outcome, " r ".source, 1, " r                                      \
           ".persons) ON CONFLICT(k) DO UPDATE SET items = items + 1,"                          \
           " persons = persons + excluded.persons;"
#define COUNTY_TALLY_SUB_SQL(r)                                                               \
    " UPDATE tally_place SET items = items - 1, persons = persons - " r ".persons"            \
    " WHERE day = " r ".occurred_on AND origin = " r ".origin AND township = " r ".township;" \
    " DELETE FROM tally_place WHERE day = " r ".occurred_on AND origin = " r ".origin"        \
    " AND township = " r ".township AND items <= 0;"                                          \
    " UPDATE tally_kind SET items = items - 1, persons = persons - " r ".persons"             \
    " WHERE k = " COUNTY_TALLY_KEY_SQL(                                                       \
        r) ";"                                                                                \
           " DELETE FROM tally_kind WHERE k = " COUNTY_TALLY_KEY_SQL(r) " AND items <= 0;"

/* Counts every matter again into tally_place and tally_kind. */
#define COUNTY_TALLY_REBUILD_SQL                                                               \
    "DELETE FROM tally_place; DELETE FROM tally_kind;"                                         \
    "INSERT INTO tally_place(day, origin, township, items, persons)"                           \
    " SELECT occurred_on, origin, township, count(*), sum(persons) FROM matters"               \
    " GROUP BY occurred_on, origin, township;"                                                 \
    "INSERT INTO tally_kind(k, month, channel, kind, level, category, outcome, source, items," \
    " persons) SELECT" COUNTY_TALLY_KEY_SQL(                                                   \
        "matters") ", substr(occurred_on, 1, 7), channel, kind, level,"                        \
                   " category, outcome, source, count(*), sum(persons) FROM matters GROUP BY 1;"

/* tally_field's trigger bodies: add (op "") or take away (op "-") the six
 * rows of matter r, and drop the emptied rows of its month and township. */
#define COUNTY_TALLY_FIELD_ALL_SQL(r, op)                                                      \
    " INSERT INTO tally_field(month, township, field, value, items, persons)"                  \
    " SELECT substr(" r ".occurred_on, 1, 7), " r ".township, f, v, " op "1, " op r ".persons" \
    " FROM (SELECT 0 AS f, " r ".channel AS v UNION ALL SELECT 1, " r ".kind UNION ALL"        \
    " SELECT 2, " r ".level UNION ALL SELECT 3, " r ".category UNION ALL"                      \
    " SELECT 4, " r ".outcome UNION ALL SELECT 5, " r ".source) WHERE 1"                       \
    " ON CONFLICT(month, township, field, value) DO UPDATE SET"                                \
    " items = items + excluded.items, persons = persons + excluded.persons;"
#define COUNTY_TALLY_FIELD_PRUNE_SQL(r)                                      \
    " DELETE FROM tally_field WHERE month = substr(" r ".occurred_on, 1, 7)" \
    " AND township = " r ".township AND items <= 0;"
#define COUNTY_TALLY_FIELD_REBUILD_ONE_(f, col)                                            \
    "INSERT INTO tally_field(month, township, field, value, items, persons)"               \
    " SELECT substr(occurred_on, 1, 7), township, " #f ", " col ", count(*), sum(persons)" \
    " FROM matters GROUP BY 1, 2, 4;"
/* Counts every matter again into tally_field. */
#define COUNTY_TALLY_FIELD_REBUILD_SQL                                                         \
    "DELETE FROM tally_field;" COUNTY_TALLY_FIELD_REBUILD_ONE_(0, "channel")                   \
        COUNTY_TALLY_FIELD_REBUILD_ONE_(1, "kind") COUNTY_TALLY_FIELD_REBUILD_ONE_(2, "level") \
            COUNTY_TALLY_FIELD_REBUILD_ONE_(3, "category")                                     \
                COUNTY_TALLY_FIELD_REBUILD_ONE_(4, "outcome")                                  \
                    COUNTY_TALLY_FIELD_REBUILD_ONE_(5, "source")

/* tally_place and tally_kind's triggers, as migration 5 makes them today. */
#define COUNTY_TALLY_TRIGGERS_5                                                           \
    "CREATE TRIGGER tally_matter_out AFTER DELETE ON matters BEGIN" COUNTY_TALLY_SUB_SQL( \
        "old") " END;"                                                                    \
               "CREATE TRIGGER tally_matter_change AFTER UPDATE OF occurred_on, origin, " \
               "township,"                                                                \
               " channel, kind, level, category, outcome, source, persons ON matters "    \
               "BEGIN" COUNTY_TALLY_SUB_SQL("old") COUNTY_TALLY_ADD_SQL("new") " END;"

/* Migration 5: tally_place and tally_kind, filled from the matters an
 * existing store holds, and their triggers. */
#define COUNTY_TALLY_SCHEMA_5                                                        \
    "CREATE TABLE tally_place(day TEXT NOT NULL, origin TEXT NOT NULL,"              \
    " township TEXT NOT NULL, items INTEGER NOT NULL, persons INTEGER NOT NULL,"     \
    " PRIMARY KEY(day, origin, township)) WITHOUT ROWID;"                            \
    "CREATE TABLE tally_kind(k INTEGER PRIMARY KEY, month TEXT NOT NULL,"            \
    " channel INTEGER NOT NULL, kind INTEGER NOT NULL, level INTEGER NOT NULL,"      \
    " category INTEGER NOT NULL, outcome INTEGER NOT NULL, source INTEGER NOT NULL," \
    " items INTEGER NOT NULL, persons INTEGER NOT NULL);" COUNTY_TALLY_REBUILD_SQL   \
        COUNTY_TALLY_TRIGGERS_5

/* A later migration: the same triggers made again. Stores made before the
 * tally key had one source (COUNTY_TALLY_KEY_SQL) hold the same triggers
 * in other words ("source" for "source * 1"); restore compares a store's
 * SQL with a new store's (sj_db_schema_check), so every store gets today's. */
#define COUNTY_TALLY_TRIGGERS_REMADE \
    "DROP TRIGGER tally_matter_out; DROP TRIGGER tally_matter_change;" COUNTY_TALLY_TRIGGERS_5

/* Migration 7: tally_field, filled likewise, and its triggers. */
#define COUNTY_TALLY_SCHEMA_7                                                                      \
    "CREATE TABLE tally_field(month TEXT NOT NULL, township TEXT NOT NULL,"                        \
    " field INTEGER NOT NULL, value INTEGER NOT NULL, items INTEGER NOT NULL,"                     \
    " persons INTEGER NOT NULL, PRIMARY KEY(month, township, field, value)) WITHOUT "              \
    "ROWID;" COUNTY_TALLY_FIELD_REBUILD_SQL                                                        \
    "CREATE TRIGGER tally_field_out AFTER DELETE ON matters BEGIN" COUNTY_TALLY_FIELD_ALL_SQL(     \
        "old", "-")                                                                                \
        COUNTY_TALLY_FIELD_PRUNE_SQL("old") " END;"                                                \
                                            "CREATE TRIGGER tally_field_change AFTER UPDATE OF "   \
                                            "occurred_on, township, channel, kind,"                \
                                            " level, category, outcome, source, persons ON "       \
                                            "matters BEGIN" COUNTY_TALLY_FIELD_ALL_SQL("old", "-") \
                                                COUNTY_TALLY_FIELD_PRUNE_SQL("old")                \
                                                    COUNTY_TALLY_FIELD_ALL_SQL("new", "") " END;"

/* Counts every matter again into all three tallies (inside or outside the
 * caller's transaction). SJ_OK or sj_db_exec's codes. */
SJ_NODISCARD int county_tally_rebuild(sqlite3 *db);

/* ---- the store's accumulator ----
 * The tallies of the matters stored since the last flush, summed in memory
 * so that a batch of a station's reports (mostly the same few days and
 * kinds) costs a few upserts instead of two per report. A trigger on INSERT
 * would have made every matters INSERT a statement transaction whose
 * in-memory sub-journal is truncated by walking it from the start: that
 * doubled the county's CPU per report. Not thread-safe: the store's thread. */
typedef struct county_tally_acc county_tally_acc_t;

/* Prepares the three upserts on db (borrowed, must outlive the
 * accumulator). NULL on failure (out of memory, or sqlite3_errmsg(db) says
 * why). Caller owns, free with county_tally_acc_destroy. */
county_tally_acc_t *county_tally_acc_new(sqlite3 *db);
/* NULL-safe; sets *self_p = NULL. What was not flushed is forgotten. */
void county_tally_acc_destroy(county_tally_acc_t **self_p);
/* Counts one new matter of origin (12-digit station). When the sums fill
 * half their table (never within one batch of SJ_WIRE_MAX_BATCH reports)
 * they are written first; an error of that write is returned by the next
 * county_tally_acc_flush. */
void county_tally_acc_add(county_tally_acc_t *self, const sj_report_t *r, const char *origin);
/* Writes the sums (inside the caller's transaction) and forgets them.
 * SJ_OK, SJ_EDB, SJ_EAGAIN (also from an earlier write, see add). */
SJ_NODISCARD int county_tally_acc_flush(county_tally_acc_t *self);
/* Forgets the sums (their batch was rolled back). */
void county_tally_acc_clear(county_tally_acc_t *self);

/* ---- the planner ---- */

/* Where stats counts. */
typedef enum {
    COUNTY_TALLY_MATTERS = 0, /* a scan of matters */
    COUNTY_TALLY_PLACE,
    COUNTY_TALLY_KIND,
    COUNTY_TALLY_FIELD
} county_tally_src_t;

/* The source of a question and, for tally_field, its one enum field. */
typedef struct {
    county_tally_src_t src;
    int field; /* sj_field_t for COUNTY_TALLY_FIELD, else -1 */
} county_tally_plan_t;

/* The source that holds every dimension and filter of a stats query (dims
 * and f checked; f NULL = no filter). Never a tally for ever_outcome. */
county_tally_plan_t county_tally_plan(const county_filter_dims_t *dims, const county_filter_t *f);
/* The plan that scans matters (COUNTY_STATS_SCAN). */
county_tally_plan_t county_tally_plan_scan(void);
/* The table of a source: "matters", "tally_place", "tally_kind", "tally_field". */
const char *county_tally_table(county_tally_src_t src);

/* The counting query of a plan into sql (size at least COUNTY_SQL_MAX) and
 * its values into w:
 *   SELECT <dims>, <items>, <persons> FROM <table> <where>
 *   GROUP BY <dims> ORDER BY <dims>
 * The dims' columns are their values as stored (enum numbers, codes, "YYYY-MM"). */
void county_tally_counts_sql(const county_tally_plan_t *plan,
                             const county_filter_dims_t *dims,
                             const county_filter_t *f,
                             char *sql,
                             size_t size,
                             county_filter_where_t *w);

#endif
