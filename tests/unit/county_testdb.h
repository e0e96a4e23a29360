/* county_testdb: a county store in a fresh temp dir, filled with known
 * matters by plain SQL, for the tests of export, report and the dashboard.
 * The store is opened with county_store_open (so the schema is the real
 * one) and gets its own key pair (curve.key) for sealed personal data. */
#ifndef COUNTY_TESTDB_H
#define COUNTY_TESTDB_H

#include <sqlite3.h>
#include <stddef.h>

#include "county_store_view.h"
#include "sj_auth.h"
#include "sj_keys.h"

/* One matter; enum fields are the stored numbers (sj_model.h, 1..n). */
typedef struct {
    const char *id;          /* UUID text */
    const char *occurred_on; /* YYYY-MM-DD */
    const char *origin;      /* 12-digit station; township = its first 9 */
    int channel, kind, persons, level, category, outcome, source;
    const char *summary;
    const sj_personal_t *personal; /* sealed to the store's key; NULL = none */
    int foreign_key;               /* seal to another key instead (does not open) */
} county_testdb_matter_t;

typedef struct {
    char dir[64];          /* the data directory */
    county_store_t *store; /* opened SJ_DB_WRITE */
    sqlite3 *db;           /* borrowed from store */
    sj_keypair_t kp;       /* the county key pair in dir/curve.key */
} county_testdb_t;

/* Makes the temp dir, the store and the key pair; aborts the test on failure. */
county_testdb_t *county_testdb_new(void);
/* Inserts n matters in one transaction (and a links row per township), and
 * counts the tallies again (county_store_tally_rebuild), as the store would. */
void county_testdb_insert(county_testdb_t *self, const county_testdb_matter_t *rows, size_t n);
/* Inserts n generated matters by one INSERT ... SELECT (dates spread over
 * year, enums cycling), for volume tests. */
void county_testdb_fill(sqlite3 *db, long n, int year);
/* Inserts one assignment (交办) of case id (UUID text) by plain SQL into
 * the v3 assignments table (no store function makes them yet). */
void county_testdb_assign(
    sqlite3 *db, const char *id, const char *assignee, const char *due_on, long long created_ms);
/* Stores a station's report (an accepted land dispute, one person) as the
 * county stores one from a hub, with its event: a case the store's own
 * functions (assign, update) can work on. */
void county_testdb_report(county_testdb_t *self,
                          const char *id,
                          const char *station,
                          const char *occurred_on);
/* Closes the store (unless already closed) and removes the directory. */
void county_testdb_destroy(county_testdb_t **self_p);

#endif
