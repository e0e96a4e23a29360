/* sj_periods_db: see sj_periods_db.h. */
#include "sj_periods_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_db.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_places.h"
#include "sj_wire.h"

/* The stored form: "15 60 30 30 1" (SJ_PERIOD_KEYS' order). */
static void
s_format(const sj_periods_t *p, char *out, size_t size)
{
    snprintf(out, size, "%d %d %d %d %d", p->accept_days, p->conclude_days, p->review_days,
             p->extend_max, p->extend_count);
}

int
sj_periods_db_get(sqlite3 *db, sj_periods_t *p, int *held)
{
    sj_periods_default(p);
    if (held) {
        *held = 0;
    }
    char text[64];
    int rc = sj_db_meta_get_text(db, "periods", text, sizeof text);
    if (rc == SJ_ENOTFOUND) {
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        return rc;
    }
    sj_periods_t v;
    char why[160];
    if (sscanf(text, "%d %d %d %d %d", &v.accept_days, &v.conclude_days, &v.review_days,
               &v.extend_max, &v.extend_count)
            != 5
        || sj_periods_check(&v, why, sizeof why) != SJ_OK) {
        sj_warn("the store's periods '%s' are not valid: the defaults are used", text);
        return SJ_OK;
    }
    *p = v;
    if (held) {
        *held = 1;
    }
    return SJ_OK;
}

int
sj_periods_db_set(sqlite3 *db, const sj_periods_t *p, int *changed)
{
    char why[160];
    if (sj_periods_check(p, why, sizeof why) != SJ_OK) {
        return SJ_EINVAL;
    }
    char now[64], was[64] = "";
    s_format(p, now, sizeof now);
    int rc = sj_db_meta_get_text(db, "periods", was, sizeof was);
    if (rc != SJ_OK && rc != SJ_ENOTFOUND) {
        return rc;
    }
    int differ = rc == SJ_ENOTFOUND || strcmp(was, now) != 0;
    if (changed) {
        *changed = differ;
    }
    return differ ? sj_db_meta_set_text(db, "periods", now) : SJ_OK;
}

void
sj_periods_text(const sj_periods_t *p, char *out, size_t out_size)
{
    snprintf(out, out_size,
             "accept %d, conclude %d, review %d days; extensions of at most %d days, %d per stage",
             p->accept_days, p->conclude_days, p->review_days, p->extend_max, p->extend_count);
}

int
sj_periods_offer(sqlite3 *db, sj_down_t *down, const char *child, int force)
{
    int level = sj_code_level(child);
    if (!down || (level != 9 && level != 12)) {
        return SJ_OK;
    }
    sj_periods_t p;
    int held = 0;
    int rc = sj_periods_db_get(db, &p, &held);
    if (rc != SJ_OK || !held) {
        return rc;
    }
    /* What the child computes on: what it was last sent, else (never sent,
     * or made anew: force) the defaults. Nothing goes down when that is
     * what the county holds, so a county on the defaults sends nothing. */
    char now[64], last[64];
    s_format(&p, now, sizeof now);
    sj_periods_t d;
    sj_periods_default(&d);
    s_format(&d, last, sizeof last);
    sqlite3_stmt *st = NULL;
    if (!force) {
        rc = sj_db_prepare(db, "SELECT periods FROM periods_sent WHERE child = ?1", &st);
        if (rc != SJ_OK) {
            return rc;
        }
        sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            snprintf(last, sizeof last, "%s", (const char *) sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            return sj_db_err(db, step, "periods sent");
        }
    }
    if (strcmp(last, now) == 0) {
        return SJ_OK;
    }
    uint8_t *item = NULL, id[SJ_ID_BYTES];
    size_t len = 0;
    sj_uuid7_new(id);
    rc = sj_down_periods_encode(child, &p, &item, &len);
    if (rc == SJ_OK) {
        rc = sj_down_enqueue(down, child, id, item, len, NULL);
    }
    free(item);
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db,
                           "INSERT INTO periods_sent(child, periods) VALUES(?1, ?2)"
                           " ON CONFLICT(child) DO UPDATE SET periods = excluded.periods",
                           &st);
    }
    if (rc == SJ_OK) {
        sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
        rc = sj_db_step_done(db, st, "periods sent");
        sqlite3_finalize(st);
    }
    if (rc == SJ_OK) {
        sj_info("periods (%s) queued for %s", now, child);
    }
    return rc;
}

int
sj_periods_changed(sqlite3 *db, sj_down_t *down)
{
    char(*codes)[SJ_CODE_MAX + 1] = NULL;
    size_t n = 0;
    int rc = sj_linked_children(db, &codes, &n);
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        rc = sj_periods_offer(db, down, codes[i], 0);
    }
    free(codes);
    return rc;
}
