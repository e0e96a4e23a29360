/* county_testdb: see county_testdb.h. */
#include "county_testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "county_store.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_model.h"
#include "sj_wire.h"

#define S_CREATED  1709280000000LL /* 2024-03-01T08:00:00Z */
#define S_RECEIVED 1709280065000LL /* 2024-03-01T08:01:05Z */

static void
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

county_testdb_t *
county_testdb_new(void)
{
    assert_int_equal(sj_ids_init(), SJ_OK);
    county_testdb_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    snprintf(self->dir, sizeof self->dir, "/tmp/sanji-county-XXXXXX");
    assert_non_null(mkdtemp(self->dir));
    char err[256] = "";
    self->store = county_store_open(self->dir, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!self->store) {
        fail_msg("county_store_open: %s", err);
    }
    self->db = county_store_db(self->store);
    if (sj_keypair_generate(self->dir, &self->kp, err, sizeof err) != SJ_OK) {
        fail_msg("sj_keypair_generate: %s", err);
    }
    return self;
}

void
county_testdb_insert(county_testdb_t *self, const county_testdb_matter_t *rows, size_t n)
{
    sqlite3_stmt *m = NULL;
    assert_int_equal(sqlite3_prepare_v2(self->db,
                                        "INSERT INTO matters(id, origin, township, occurred_on,"
                                        " channel, kind, persons, level, category, outcome, source,"
                                        " summary, officer, sealed, created_ms, received_ms)"
                                        " VALUES(?,?2,substr(?2,1,9),?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                        -1, &m, NULL),
                     SQLITE_OK);
    uint8_t other_pk[SJ_KEY_BYTES], other_sk[SJ_KEY_BYTES];
    crypto_box_keypair(other_pk, other_sk);
    s_exec(self->db, "BEGIN");
    for (size_t i = 0; i < n; i++) {
        const county_testdb_matter_t *d = &rows[i];
        uint8_t id[16];
        assert_int_equal(sj_uuid_parse(d->id, id), SJ_OK);
        int k = 1;
        sqlite3_bind_blob(m, k++, id, 16, SQLITE_TRANSIENT);
        sqlite3_bind_text(m, k++, d->origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(m, k++, d->occurred_on, -1, SQLITE_STATIC);
        sqlite3_bind_int(m, k++, d->channel);
        sqlite3_bind_int(m, k++, d->kind);
        sqlite3_bind_int(m, k++, d->persons);
        sqlite3_bind_int(m, k++, d->level);
        sqlite3_bind_int(m, k++, d->category);
        sqlite3_bind_int(m, k++, d->outcome);
        sqlite3_bind_int(m, k++, d->source);
        sqlite3_bind_text(m, k++, d->summary ? d->summary : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(m, k++, "officer-017", -1, SQLITE_STATIC);
        if (d->personal) {
            uint8_t sealed[SJ_MAX_SEALED_BYTES];
            size_t len = 0;
            assert_int_equal(sj_personal_seal(d->personal, d->foreign_key ? other_pk : self->kp.pk,
                                              sealed, sizeof sealed, &len),
                             SJ_OK);
            sqlite3_bind_blob(m, k++, sealed, (int) len, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(m, k++);
        }
        sqlite3_bind_int64(m, k++, S_CREATED);
        sqlite3_bind_int64(m, k++, S_RECEIVED);
        if (sqlite3_step(m) != SQLITE_DONE) {
            fail_msg("insert %s: %s", d->id, sqlite3_errmsg(self->db));
        }
        assert_int_equal(sqlite3_reset(m), SQLITE_OK);
        sqlite3_clear_bindings(m);
    }
    /* plain SQL bypasses the store, which keeps the tallies stats reads */
    assert_int_equal(county_store_tally_rebuild(self->db), SJ_OK);
    s_exec(self->db, "COMMIT");
    sqlite3_finalize(m);
}

void
county_testdb_fill(sqlite3 *db, long n, int year)
{
    char sql[1200];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
             " INSERT INTO matters(id, origin, township, occurred_on, channel, kind, persons,"
             " level, category, outcome, source, summary, officer, sealed, created_ms,"
             " received_ms)"
             " SELECT randomblob(16), printf('2305231%%02d2%%02d', i %% 10, i %% 13 + 1),"
             " printf('2305231%%02d', i %% 10),"
             " date('%04d-01-01', '+' || (i %% 365) || ' days'), 1 + i %% 4,"
             " CASE WHEN i %% 4 = 0 AND i %% 7 = 0 THEN 2 ELSE 1 END,"
             " CASE WHEN i %% 4 = 0 AND i %% 7 = 0 THEN 5 + i %% 20"
             "      WHEN i %% 4 = 0 THEN 1 + i %% 4 ELSE 1 END,"
             " 1 + i %% 6, 1 + i %% 5, 1 + i %% 5, 1 + i %% 4,"
             " printf('土地承包纠纷，第%%d号，村民反映承包地边界不清', i), 'officer', NULL,"
             " %lld, %lld FROM n",
             n, year, S_CREATED, S_RECEIVED);
    s_exec(db, sql);
    assert_int_equal(county_store_tally_rebuild(db), SJ_OK);
}

void
county_testdb_assign(
    sqlite3 *db, const char *id, const char *assignee, const char *due_on, long long created_ms)
{
    sqlite3_stmt *st = NULL;
    uint8_t cid[16], aid[16];
    assert_int_equal(sj_uuid_parse(id, cid), SJ_OK);
    sj_random16(aid);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO assignments(id, case_id, assignee, due_on,"
                                        " origin, created_ms, note) VALUES(?, ?, ?, ?, '230523',"
                                        " ?, 'test')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, aid, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, cid, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, assignee, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, due_on, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, created_ms);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fail_msg("assign %s: %s", id, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
}

static void
s_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
            assert_int_equal(unlink(path), 0);
        }
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

void
county_testdb_destroy(county_testdb_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    county_testdb_t *self = *self_p;
    county_store_close(&self->store);
    s_rmdir(self->dir);
    sodium_memzero(&self->kp, sizeof self->kp);
    free(self);
    *self_p = NULL;
}

/* A station's report stored as the county stores one from a hub. */
void
county_testdb_report(county_testdb_t *tdb,
                     const char *id,
                     const char *station,
                     const char *occurred)
{
    static uint64_t seq;
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    ev->type = SJ_EVENT_REPORT;
    assert_int_equal(sj_uuid_parse(id, ev->id), SJ_OK);
    snprintf(ev->origin, sizeof ev->origin, "%s", station);
    memset(ev->epoch, 7, SJ_EPOCH_BYTES);
    ev->origin_seq = ++seq;
    ev->created_ms = sj_now_ms();
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "%s", occurred);
    ev->report.channel = 1;
    ev->report.kind = 1;
    ev->report.persons = 1;
    ev->report.level = 3;
    ev->report.category = 1;
    ev->report.outcome = 3; /* accepted */
    ev->report.source = 1;
    ev->report.summary = "土地纠纷";
    ev->report.officer = "officer";
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
    sj_stored_t res = SJ_STORED_DUPLICATE;
    assert_int_equal(sqlite3_exec(tdb->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(county_store_downlink_ops.store_event(tdb->store, station, ev, raw, len, &res),
                     SJ_OK);
    assert_int_equal(sqlite3_exec(tdb->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(res, SJ_STORED_NEW);
    free(raw);
    free(ev);
}
