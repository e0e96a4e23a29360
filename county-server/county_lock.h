/* county_lock: signed-off figures (issue 17 item 5, docs/LOCKS.md).
 *
 * A township approves a month of its matters (an Approval event on its
 * hub's stream, stored in approvals); the county locks a month or a year
 * (locks, lock_months): the tallies of that period are copied into
 * lock_figures and never change. A correction or void of a matter of a
 * locked month that arrives after the lock is still applied, and listed as
 * an amendment (its fixes row is above the lock's through_eid). report
 * --year reads a locked month's figures from lock_figures. */
#ifndef SANJI_COUNTY_LOCK_H
#define SANJI_COUNTY_LOCK_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_err.h"

/* The county schema's objects (migration of issue 17 item 5). */
#define COUNTY_LOCK_SCHEMA                                                            \
    "CREATE TABLE approvals(eid INTEGER PRIMARY KEY, township TEXT NOT NULL,"         \
    " month TEXT NOT NULL, officer TEXT NOT NULL, account TEXT NOT NULL,"             \
    " created_ms INTEGER NOT NULL);"                                                  \
    "CREATE INDEX approvals_month ON approvals(month, township);"                     \
    "CREATE TABLE locks(id INTEGER PRIMARY KEY, period TEXT NOT NULL UNIQUE,"         \
    " who TEXT NOT NULL, created_ms INTEGER NOT NULL, through_eid INTEGER NOT NULL);" \
    "CREATE TABLE lock_months(month TEXT PRIMARY KEY, lock_id INTEGER NOT NULL);"     \
    "CREATE TABLE lock_figures(lock_id INTEGER NOT NULL, month TEXT NOT NULL,"        \
    " township TEXT NOT NULL, level INTEGER NOT NULL, kind INTEGER NOT NULL,"         \
    " channel INTEGER NOT NULL, outcome INTEGER NOT NULL, source INTEGER NOT NULL,"   \
    " category INTEGER NOT NULL, n INTEGER NOT NULL, persons INTEGER NOT NULL);"      \
    "CREATE INDEX lock_figures_month ON lock_figures(month);"

/* Checks "YYYY-MM" (month 01..12, year 2000..2099). */
int county_lock_month_ok(const char *text);

/* Stores a township's approval of month (its Approval event, eid). */
SJ_NODISCARD int county_lock_approval_store(sqlite3 *db,
                                            int64_t eid,
                                            const char *township,
                                            const char *month,
                                            const char *officer,
                                            const char *account,
                                            int64_t created_ms);

/* Locks period ("YYYY-MM" or "YYYY") by who: copies its figures. Refuses
 * (SJ_EEXIST... SJ_EINVAL with err) a period of which a month is locked. */
SJ_NODISCARD int
county_lock_period(sqlite3 *db, const char *period, const char *who, char *err, size_t err_size);

/* Lists the township-months approved (year: "YYYY" or NULL), the locks,
 * the amendments; fmt "table" or "json". */
SJ_NODISCARD int county_lock_approvals_write(sqlite3 *db, const char *year, int json, FILE *out);
SJ_NODISCARD int county_lock_locks_write(sqlite3 *db, const char *year, int json, FILE *out);
SJ_NODISCARD int county_lock_amendments_write(sqlite3 *db, const char *year, int json, FILE *out);

/* The dashboard's table (/api/signoff): each township-month approved or
 * locked, and those of the last three months with matters, newest first,
 * with its state: open, approved, locked or amended (未审核 已审核 已锁定
 * 已修正), who approved and locked it and when (Unix ms). JSON. */
SJ_NODISCARD int county_lock_signoff_write(sqlite3 *db, FILE *out);

/* The report's section for year: each lock (who, when), its locked figure
 * beside today's, the amendments since. zh: Chinese; html: HTML. */
SJ_NODISCARD int county_lock_report_write(sqlite3 *db, int year, int zh, int html, FILE *out);

#endif
