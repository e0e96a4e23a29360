/* sj_periods_db: the clock's periods held by a store and delivered down the
 * tree (issue 16, docs/CLOCK.md "The periods down the tree"). The county
 * takes its periods from its config at `run` and holds them in meta
 * `periods`; each child is sent them (DownItem kind SJ_DOWN_KIND_PERIODS)
 * when it says Hello and was last sent other values (periods_sent), and
 * again with a refill. A hub holds what the county sent and passes it on
 * to its stations the same way; a station holds what its parent sent.
 * Every tier computes a case's clock on the periods it holds (the defaults
 * until the first item arrives). */
#ifndef SJ_PERIODS_DB_H
#define SJ_PERIODS_DB_H

#include <sqlite3.h>

#include "sj_clock.h"
#include "sj_down.h"
#include "sj_err.h"

/* A parent store's: the periods (as text) each child was last sent. */
#define SJ_PERIODS_SENT_SCHEMA \
    "CREATE TABLE periods_sent(child TEXT PRIMARY KEY, periods TEXT NOT NULL) WITHOUT ROWID;"

/* The periods the store holds (meta `periods`), or the defaults when it
 * holds none (*held 0; held may be NULL). */
SJ_NODISCARD int sj_periods_db_get(sqlite3 *db, sj_periods_t *p, int *held);

/* Inside the caller's transaction: holds p (checked: SJ_EINVAL otherwise).
 * *changed (may be NULL): 1 when they differ from what was held. */
SJ_NODISCARD int sj_periods_db_set(sqlite3 *db, const sj_periods_t *p, int *changed);

/* "accept 15, conclude 60, review 30, extend ≤30 days ×1" for people. */
void sj_periods_text(const sj_periods_t *p, char *out, size_t out_size);

/* Inside the caller's transaction (a parent store with periods_sent): when
 * the store holds periods and they differ from what child (9 or 12 digits)
 * computes on — what it was last sent, else (never sent, or with force: a
 * child made anew) the defaults — appends them to its downward stream. A
 * county on the default periods sends nothing. */
SJ_NODISCARD int sj_periods_offer(sqlite3 *db, sj_down_t *down, const char *child, int force);

/* Inside the caller's transaction, after the periods changed: offered to
 * every child that has connected (links); the others at their Hello. */
SJ_NODISCARD int sj_periods_changed(sqlite3 *db, sj_down_t *down);

#endif
