/* sj_own: leader ownership of a case (领导包案, issue 16 item 4,
 * docs/MEETING.md), the part the county's and the hub's stores share: the
 * ownerships table, its insert, the owner in force, the text checks, the
 * event from `own`'s options, and the per-leader tally (`leaders`).
 *
 * An ownership is an event (Event field 25, internal type 10) made by the
 * township or the county: a named leader owns the case, with a portfolio
 * (分管战线). A later ownership replaces the earlier: the owner in force is
 * the latest made (created_ms, then the store's row); the history keeps
 * every one. */
#ifndef SJ_OWN_H
#define SJ_OWN_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_cli.h"
#include "sj_err.h"
#include "sj_table.h"
#include "sj_wire.h"

/* The ownerships table (a migration of each store): one row per Ownership
 * event, row = the store's own row number of the event (county events.eid,
 * hub hub_seq). */
#define SJ_OWN_SCHEMA                                                                        \
    "CREATE TABLE ownerships(row INTEGER PRIMARY KEY, case_id BLOB NOT NULL,"                \
    " leader TEXT NOT NULL, portfolio TEXT NOT NULL, officer TEXT NOT NULL,"                 \
    " account TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, origin TEXT NOT NULL);" \
    "CREATE INDEX ownerships_case ON ownerships(case_id, created_ms);"                       \
    "CREATE INDEX ownerships_leader ON ownerships(leader);"

/* The ownership in force of the case whose id is the SQL expression idx: a
 * scalar subquery giving column col (leader, portfolio, created_ms). */
#define SJ_OWN_CURRENT_SQL(col, idx)                             \
    "(SELECT o." col " FROM ownerships o WHERE o.case_id = " idx \
    " ORDER BY o.created_ms DESC, o.row DESC LIMIT 1)"

/* 1 when text is UTF-8 of at most max bytes without control characters,
 * and not empty when required. */
int sj_own_text_valid(const char *text, size_t max, int required);

/* Stores an ownership event's row (inside the caller's transaction). */
SJ_NODISCARD int sj_own_insert(sqlite3 *db, int64_t row, const sj_event_t *ev);

/* The event of `own CASE-ID --leader NAME [--portfolio P] [--officer X]`
 * (type, case_id, leader, portfolio, officer set; free() it), or NULL after
 * saying why on stderr with *code the exit status (2 bad usage, 1 out of
 * memory). */
sj_event_t *sj_own_cli_event(
    const sj_cli_args_t *a, int leader_id, int portfolio_id, int officer_id, int *code);

/* The same checks for the page's form (id_text, leader, portfolio,
 * officer): the event, or NULL with the reason in err. */
sj_event_t *sj_own_event_new(const char *id_text,
                             const char *leader,
                             const char *portfolio,
                             const char *officer,
                             char *err,
                             size_t err_size);

/* The per-leader tally of `leaders`: feed one case at a time. */
typedef struct sj_own_tally sj_own_tally_t;
sj_own_tally_t *sj_own_tally_new(void);
void sj_own_tally_free(sj_own_tally_t **self_p);
/* One owned case: its leader, open (pending or accepted), concluded
 * (closed or resolved on the spot), overdue at any stage (statutory or
 * 交办). */
SJ_NODISCARD int
sj_own_tally_add(sj_own_tally_t *self, const char *leader, int open, int concluded, int overdue);
/* The table: leader, owned, open, concluded, overdue; ordered by leader. */
sj_table_t *sj_own_tally_table(const sj_own_tally_t *self);

#endif
