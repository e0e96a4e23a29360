/* county_status: the county's view of its links: each child (a township hub,
 * or a station attached directly) with its last contact, the events received
 * over it and the backlog it last reported, silent ones first; and the
 * monitoring check (sj_health.h) over the same rows. Both read a store opened
 * with SJ_DB_READ and work while the daemon runs. */
#ifndef COUNTY_STATUS_H
#define COUNTY_STATUS_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "county_store_view.h"
#include "sj_health.h"
#include "sj_keys.h"
#include "sj_table.h"

/* The view: the store's counts and one row per child (child, kind,
 * status "SILENT"/"ok", last_contact, silent_s, events, forks, backlog,
 * undelivered), silent ones first; forks: events the child sent at a
 * position already held with other bytes (refused, sj_link.h). key_fp, when
 * not empty, is the county key's fingerprint (sj_enrol_key_fingerprint),
 * shown so that an office can check by phone that a station holds the right
 * county key. */
typedef struct {
    char county[16];             /* the store's county code, "" = it accepts any */
    int64_t events;              /* events held */
    int64_t matters;             /* matters held */
    int64_t quarantined;         /* events in quarantine */
    sj_table_t *children;        /* owned; free with county_status_free */
    char key_fp[SJ_KEY_FP_TEXT]; /* "" = not shown */
    sqlite3 *db;                 /* borrowed: the downward streams and refusals (sj_down.h) */
} county_status_t;

/* Reads the view; a child unheard for silent_s or more is SILENT. db is
 * borrowed. SJ_OK (free *out with county_status_free), SJ_EDB, SJ_ENOMEM. */
SJ_NODISCARD int county_status_read(sqlite3 *db, int64_t silent_s, county_status_t *out);
/* Frees what county_status_read made; safe on a zeroed or freed view. */
void county_status_free(county_status_t *s);
/* county_status_read, then county_out_status: the view in fmt on out;
 * key_fp may be NULL. SJ_OK, SJ_EDB, SJ_ENOMEM or SJ_EIO. */
SJ_NODISCARD int
county_status_write(sqlite3 *db, int64_t silent_s, const char *key_fp, sj_format_t fmt, FILE *out);
/* Adds silent children (WARNING) and the OK text to h. SJ_EDB when the store
 * cannot be read (the caller reports UNKNOWN). */
SJ_NODISCARD int county_status_check(sqlite3 *db, const sj_health_opts_t *o, sj_health_t *h);

#endif
