/* Do stats, list and show count, filter, order and print exactly what the master database holds? */
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

#include <cjson/cJSON.h>

#include "county_query.h"
#include "county_store.h"
#include "sj_ids.h"

/* One row of the data set; enum fields are the stored numbers (sj_model.h). */
typedef struct {
    const char *id;
    const char *occurred_on;
    const char *origin;
    int channel, kind, persons, level, category, outcome, source;
    const char *summary;
    int sealed;
} s_matter_t;

/* 12 matters, 70 persons. Ids are deliberately not in date order, and two
 * matters share 2024-03-15, the lower id second in insertion order. */
static const s_matter_t s_data[] = {
    {"01900000-0000-7000-8000-0000000000a1", "2023-12-31", "230523100201", 1, 1, 2, 1, 1, 1, 1,
     "boundary of a field", 0},
    {"01900000-0000-7000-8000-000000000032", "2024-01-01", "230523100201", 1, 2, 12, 2, 1, 2, 1,
     "土地承包纠纷", 0},
    {"01900000-0000-7000-8000-0000000000c3", "2024-01-15", "230523100202", 2, 1, 1, 3, 2, 3, 3,
     "pension after restructuring", 0},
    {"01900000-0000-7000-8000-000000000014", "2024-01-31", "230523101201", 3, 1, 1, 3, 3, 4, 4,
     "unpaid wages, \"site 3\"", 0},
    {"01900000-0000-7000-8000-000000000085", "2024-02-01", "230523101201", 1, 2, 30, 3, 4, 1, 2,
     "demolition compensation", 0},
    {"01900000-0000-7000-8000-000000000026", "2024-02-14", "230523101202", 4, 1, 1, 1, 5, 5, 1,
     "noise", 0},
    {"01900000-0000-7000-8000-000000000077", "2024-02-29", "230523102201", 1, 1, 3, 2, 1, 3, 1,
     "water channel", 0},
    {"01900000-0000-7000-8000-000000000048", "2024-03-01", "230523102201", 1, 2, 8, 4, 1, 1, 3,
     "grazing land", 0},
    {"01900000-0000-7000-8000-000000000099", "2024-03-15", "230523100201", 2, 1, 1, 2, 3, 4, 1,
     "dismissal", 0},
    {"01900000-0000-7000-8000-00000000000a", "2024-03-15", "230523100203", 1, 1, 4, 1, 1, 2, 1,
     "fence", 0},
    {"01900000-0000-7000-8000-00000000006b", "2024-04-01", "230523101203", 1, 2, 6, 5, 4, 3, 4,
     "resettlement housing", 0},
    {"01900000-0000-7000-8000-00000000005c", "2024-06-30", "230523102202", 3, 1, 1, 3, 5, 4, 1,
     "threat\x1b[31m by phone", 1},
};
#define S_NDATA    (sizeof s_data / sizeof s_data[0])
#define S_CREATED  1709280000000LL /* 2024-03-01T08:00:00Z */
#define S_RECEIVED 1709280065000LL /* 2024-03-01T08:01:05Z */

typedef struct {
    char dir[64];
    county_store_t *store;
    sqlite3 *db;
} s_fixture_t;

static void
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

/* Inserts s_data as matters plus one event each (origin_seq counts per station). */
static void
s_insert_data(sqlite3 *db)
{
    sqlite3_stmt *m = NULL, *e = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO matters(id, origin, township, occurred_on,"
                                        " channel, kind, persons, level, category, outcome, source,"
                                        " summary, officer, sealed, created_ms, received_ms)"
                                        " VALUES(?,?,substr(?2,1,9),?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                        -1, &m, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO events(id, origin, epoch, origin_seq, via,"
                                        " type, created_ms, received_ms, prev_hash, hash, raw)"
                                        " VALUES(?1, ?2, zeroblob(16),"
                                        " (SELECT count(*) + 1 FROM events WHERE origin = ?2),"
                                        " substr(?2,1,9), 1, ?3, ?4, zeroblob(32), zeroblob(32),"
                                        " x'00')",
                                        -1, &e, NULL),
                     SQLITE_OK);
    s_exec(db, "BEGIN");
    for (size_t i = 0; i < S_NDATA; i++) {
        const s_matter_t *d = &s_data[i];
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
        sqlite3_bind_text(m, k++, d->summary, -1, SQLITE_STATIC);
        sqlite3_bind_text(m, k++, "officer-017", -1, SQLITE_STATIC);
        if (d->sealed) {
            sqlite3_bind_blob(m, k++, "SECRETBYTES", 11, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(m, k++);
        }
        sqlite3_bind_int64(m, k++, S_CREATED);
        sqlite3_bind_int64(m, k++, S_RECEIVED);
        assert_int_equal(sqlite3_step(m), SQLITE_DONE);
        assert_int_equal(sqlite3_reset(m), SQLITE_OK);
        sqlite3_bind_blob(e, 1, id, 16, SQLITE_TRANSIENT);
        sqlite3_bind_text(e, 2, d->origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(e, 3, S_CREATED);
        sqlite3_bind_int64(e, 4, S_RECEIVED);
        assert_int_equal(sqlite3_step(e), SQLITE_DONE);
        assert_int_equal(sqlite3_reset(e), SQLITE_OK);
    }
    /* plain SQL bypasses the store, which keeps the tallies stats reads */
    assert_int_equal(county_store_tally_rebuild(db), SJ_OK);
    s_exec(db, "COMMIT");
    sqlite3_finalize(m);
    sqlite3_finalize(e);
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

/* A fresh store in a temp dir; with data when fill is set. */
static s_fixture_t *
s_fixture_new(int fill)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sanji-query-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[256] = "";
    fx->store = county_store_open(fx->dir, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!fx->store) {
        fail_msg("county_store_open: %s", err);
    }
    fx->db = county_store_db(fx->store);
    if (fill) {
        s_insert_data(fx->db);
    }
    return fx;
}

static void
s_fixture_destroy(s_fixture_t **fx_p)
{
    county_store_close(&(*fx_p)->store);
    s_rmdir((*fx_p)->dir);
    free(*fx_p);
    *fx_p = NULL;
}

static int
s_setup(void **state)
{
    if (sj_ids_init() != SJ_OK) {
        return -1;
    }
    *state = s_fixture_new(1);
    return 0;
}

static int
s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    s_fixture_destroy(&fx);
    return 0;
}

/* Output captured from one query: text (caller frees) and the error text. */
typedef struct {
    char *text;
    size_t len;
    char err[512];
} s_out_t;

static FILE *
s_capture(s_out_t *o)
{
    memset(o, 0, sizeof *o);
    FILE *f = open_memstream(&o->text, &o->len);
    assert_non_null(f);
    return f;
}

/* Keeps the columns these tests are about, the dims, items and persons:
 * stats prints the case figures after them (open, overdue, ...; checked in
 * test_county_cases), which this cuts off. */
static void
s_project(s_out_t *o, sj_format_t fmt)
{
    if (fmt == SJ_FMT_JSON) {
        cJSON *root = cJSON_Parse(o->text);
        assert_non_null(root);
        cJSON *objs[64];
        int n = 0;
        cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(root, "rows"))
        {
            assert_true(n < 63);
            objs[n++] = row;
        }
        objs[n++] = cJSON_GetObjectItem(root, "total");
        for (int i = 0; i < n; i++) {
            cJSON *persons = cJSON_GetObjectItem(objs[i], "persons");
            assert_non_null(persons);
            while (persons->next) {
                cJSON_Delete(cJSON_DetachItemViaPointer(objs[i], persons->next));
            }
        }
        char *text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        free(o->text);
        o->len = strlen(text) + 1;
        o->text = malloc(o->len + 1);
        snprintf(o->text, o->len + 1, "%s\n", text);
        cJSON_free(text);
        return;
    }
    /* csv: the fields up to persons; table: the columns up to persons' end */
    const char *p = strstr(o->text, "persons");
    assert_non_null(p);
    size_t keep = (size_t) (p - o->text) + strlen("persons"), commas = 0;
    for (const char *c = o->text; c < p; c++) {
        commas += *c == ',';
    }
    char *out = calloc(1, o->len + 1);
    size_t olen = 0;
    for (char *line = o->text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t) (nl - line) : strlen(line), cut = len;
        if (fmt == SJ_FMT_CSV) {
            size_t seen = 0;
            for (cut = 0; cut < len && !(line[cut] == ',' && seen++ == commas); cut++) {
            }
        } else if (cut > keep) {
            cut = keep;
        }
        memcpy(out + olen, line, cut);
        olen += cut;
        out[olen++] = '\n';
        line += len + (nl ? 1 : 0);
    }
    free(o->text);
    o->text = out;
    o->len = olen;
}

static int
s_stats(sqlite3 *db, const char *by, const county_filter_t *f, sj_format_t fmt, s_out_t *o)
{
    FILE *out = s_capture(o);
    int rc = county_query_stats(db, by, f, fmt, out, o->err, sizeof o->err);
    assert_int_equal(fclose(out), 0);
    if (rc == SJ_OK) {
        s_project(o, fmt);
    }
    return rc;
}

static int
s_list(sqlite3 *db, const county_filter_t *f, sj_format_t fmt, s_out_t *o)
{
    FILE *out = s_capture(o);
    int rc = county_query_list(db, f, fmt, out, o->err, sizeof o->err);
    assert_int_equal(fclose(out), 0);
    return rc;
}

static int
s_show(sqlite3 *db, const char *id, sj_format_t fmt, s_out_t *o)
{
    FILE *out = s_capture(o);
    int rc = county_query_show(db, id, fmt, out, o->err, sizeof o->err);
    assert_int_equal(fclose(out), 0);
    return rc;
}

static void
test_county_query_stats_json_by_level_kind(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    assert_int_equal(s_stats(fx->db, "level,kind", NULL, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(
        o.text, "{\"rows\":["
                "{\"level\":\"village\",\"kind\":\"individual\",\"items\":3,\"persons\":7},"
                "{\"level\":\"township\",\"kind\":\"individual\",\"items\":2,\"persons\":4},"
                "{\"level\":\"township\",\"kind\":\"collective\",\"items\":1,\"persons\":12},"
                "{\"level\":\"county\",\"kind\":\"individual\",\"items\":3,\"persons\":3},"
                "{\"level\":\"county\",\"kind\":\"collective\",\"items\":1,\"persons\":30},"
                "{\"level\":\"city\",\"kind\":\"collective\",\"items\":1,\"persons\":8},"
                "{\"level\":\"province\",\"kind\":\"collective\",\"items\":1,\"persons\":6}"
                "],\"total\":{\"items\":12,\"persons\":70}}\n");
    free(o.text);
}

static void
test_county_query_stats_json_without_by(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    assert_int_equal(s_stats(fx->db, NULL, NULL, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "{\"rows\":[],\"total\":{\"items\":12,\"persons\":70}}\n");
    free(o.text);
    assert_int_equal(s_stats(fx->db, "", NULL, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, "items,persons\n12,70\n");
    free(o.text);
}

static void
test_county_query_stats_csv_by_township(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    assert_int_equal(s_stats(fx->db, "township, channel", NULL, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, "township,channel,items,persons\n"
                                "230523100,visit,3,18\n"
                                "230523100,letter,2,2\n"
                                "230523101,visit,2,36\n"
                                "230523101,phone,1,1\n"
                                "230523101,mailbox,1,1\n"
                                "230523102,visit,2,11\n"
                                "230523102,phone,1,1\n");
    free(o.text);
}

static void
test_county_query_stats_table_with_total(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    assert_int_equal(s_stats(fx->db, "kind", NULL, SJ_FMT_TABLE, &o), SJ_OK);
    assert_string_equal(o.text, "kind        items  persons\n"
                                "----------  -----  -------\n"
                                "individual      8       14\n"
                                "collective      4       56\n"
                                "----------  -----  -------\n"
                                "total          12       70\n");
    free(o.text);
}

static void
test_county_query_stats_dates_inclusive(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    /* 2023-12-31 and 2024-02-01 lie just outside; both ends are in. */
    county_filter_t f = {.from = "2024-01-01", .to = "2024-01-31"};
    assert_int_equal(s_stats(fx->db, NULL, &f, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "{\"rows\":[],\"total\":{\"items\":3,\"persons\":14}}\n");
    free(o.text);
    county_filter_t day = {.from = "2024-03-15", .to = "2024-03-15"};
    assert_int_equal(s_stats(fx->db, NULL, &day, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "{\"rows\":[],\"total\":{\"items\":2,\"persons\":5}}\n");
    free(o.text);
}

static void
test_county_query_stats_month(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    county_filter_t f = {.from = "2024-01-01"};
    assert_int_equal(s_stats(fx->db, "month", &f, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, "month,items,persons\n"
                                "2024-01,3,14\n"
                                "2024-02,3,34\n"
                                "2024-03,3,13\n"
                                "2024-04,1,6\n"
                                "2024-06,1,1\n");
    free(o.text);
}

static void
test_county_query_stats_filters(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    county_filter_t town = {.township = "230523101"};
    assert_int_equal(s_stats(fx->db, "station", &town, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, "station,items,persons\n"
                                "230523101201,2,31\n"
                                "230523101202,1,1\n"
                                "230523101203,1,6\n");
    free(o.text);
    county_filter_t enums = {.channel = "visit", .kind = "collective", .level = "county"};
    assert_int_equal(s_stats(fx->db, NULL, &enums, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "{\"rows\":[],\"total\":{\"items\":1,\"persons\":30}}\n");
    free(o.text);
    county_filter_t station = {.station = "230523100201", .source = "direct"};
    assert_int_equal(s_stats(fx->db, "category", &station, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, "category,items,persons\nland,2,14\nemployment,1,1\n");
    free(o.text);
    /* Nothing matches: the total is zero, not missing. */
    county_filter_t none = {.from = "2030-01-01"};
    assert_int_equal(s_stats(fx->db, "outcome", &none, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "{\"rows\":[],\"total\":{\"items\":0,\"persons\":0}}\n");
    free(o.text);
}

static void
test_county_query_stats_bad_dim(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    assert_int_equal(s_stats(fx->db, "level,colour", NULL, SJ_FMT_JSON, &o), SJ_EINVAL);
    assert_string_equal(o.err,
                        "--by: unknown dimension 'colour' (use channel, kind, level, "
                        "category, outcome, source, station, township, month, ever_outcome)");
    assert_int_equal(o.len, 0);
    free(o.text);
    assert_int_equal(s_stats(fx->db, "level,kind,level", NULL, SJ_FMT_JSON, &o), SJ_EINVAL);
    assert_string_equal(o.err, "--by: dimension 'level' is given twice");
    free(o.text);
    assert_int_equal(s_stats(fx->db, "level,", NULL, SJ_FMT_JSON, &o), SJ_EINVAL);
    assert_non_null(strstr(o.err, "unknown dimension ''"));
    free(o.text);
    assert_int_equal(s_stats(fx->db, "level;DROP TABLE matters", NULL, SJ_FMT_JSON, &o), SJ_EINVAL);
    free(o.text);
}

static void
test_county_query_filter_check(void **state)
{
    (void) state;
    char err[256] = "";
    county_filter_t f = {.from = "2024-01-01",
                         .to = "2024-12-31",
                         .township = "230523100",
                         .station = "230523100201",
                         .channel = "visit",
                         .source = "review"};
    assert_int_equal(county_filter_check(&f, err, sizeof err), SJ_OK);
    assert_int_equal(county_filter_check(NULL, err, sizeof err), SJ_OK);

    county_filter_t bad = {.from = "2023-02-29"};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--from '2023-02-29' is not a date (YYYY-MM-DD)");
    bad = (county_filter_t){.to = "2024-1-5"};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--to '2024-1-5' is not a date (YYYY-MM-DD)");
    bad = (county_filter_t){.from = "2024-02-01", .to = "2024-01-31"};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--from 2024-02-01 is after --to 2024-01-31");
    bad = (county_filter_t){.township = "230523100201"};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--township '230523100201' is not a 9-digit township code");
    bad = (county_filter_t){.station = "230523100"};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--station '230523100' is not a 12-digit village code");
    bad = (county_filter_t){.channel = "fax"};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--channel 'fax' is not one of visit, letter, phone, mailbox");
    bad = (county_filter_t){.outcome = "lost"};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--outcome 'lost' is not one of pending, resolved_on_spot, accepted, "
                             "closed, withdrawn");
    bad = (county_filter_t){.limit = -1};
    assert_int_equal(county_filter_check(&bad, err, sizeof err), SJ_EINVAL);
}

static void
test_county_query_stats_bad_filter(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    county_filter_t f = {.to = "2024-02-30"};
    assert_int_equal(s_stats(fx->db, "level", &f, SJ_FMT_JSON, &o), SJ_EINVAL);
    assert_string_equal(o.err, "--to '2024-02-30' is not a date (YYYY-MM-DD)");
    assert_int_equal(o.len, 0);
    free(o.text);
    assert_int_equal(s_list(fx->db, &f, SJ_FMT_JSON, &o), SJ_EINVAL);
    free(o.text);
}

static void
test_county_query_stats_empty_db(void **state)
{
    (void) state;
    s_fixture_t *fx = s_fixture_new(0);
    s_out_t o;
    assert_int_equal(s_stats(fx->db, "level,kind", NULL, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "{\"rows\":[],\"total\":{\"items\":0,\"persons\":0}}\n");
    free(o.text);
    assert_int_equal(s_stats(fx->db, NULL, NULL, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, "items,persons\n0,0\n");
    free(o.text);
    assert_int_equal(s_list(fx->db, NULL, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "[]\n");
    free(o.text);
    s_fixture_destroy(&fx);
}

static void
test_county_query_db_error(void **state)
{
    (void) state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    s_out_t o;
    assert_int_equal(s_stats(db, "level", NULL, SJ_FMT_JSON, &o), SJ_EDB);
    assert_non_null(strstr(o.err, "no such table: tally_kind"));
    free(o.text);
    assert_int_equal(s_stats(db, "station,level", NULL, SJ_FMT_JSON, &o), SJ_EDB);
    assert_non_null(strstr(o.err, "no such table: matters"));
    free(o.text);
    assert_int_equal(s_list(db, NULL, SJ_FMT_CSV, &o), SJ_EDB);
    assert_non_null(strstr(o.err, "no such table: matters"));
    free(o.text);
    assert_int_equal(s_show(db, s_data[0].id, SJ_FMT_TABLE, &o), SJ_EDB);
    assert_non_null(strstr(o.err, "no such table"));
    free(o.text);
    sqlite3_close(db);
}

static void
test_county_query_list_order_and_limit(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    county_filter_t f = {.from = "2024-03-01", .limit = 3};
    assert_int_equal(s_list(fx->db, &f, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text,
                        "id,occurred_on,station,township,channel,kind,persons,level,category,"
                        "outcome,source,summary,station_name,township_name\n"
                        "01900000-0000-7000-8000-000000000048,2024-03-01,230523102201,230523102,"
                        "visit,collective,8,city,land,pending,assigned,grazing land,"
                        "230523102201,230523102\n"
                        "01900000-0000-7000-8000-00000000000a,2024-03-15,230523100203,230523100,"
                        "visit,individual,4,village,land,resolved_on_spot,direct,fence,"
                        "230523100203,230523100\n"
                        "01900000-0000-7000-8000-000000000099,2024-03-15,230523100201,230523100,"
                        "letter,individual,1,township,employment,closed,direct,dismissal,"
                        "230523100201,230523100\n");
    free(o.text);

    /* Without a limit: every matter, dates never going back. */
    assert_int_equal(s_list(fx->db, NULL, SJ_FMT_CSV, &o), SJ_OK);
    size_t lines = 0;
    for (const char *p = o.text; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, S_NDATA + 1);
    assert_non_null(strstr(o.text, "\"unpaid wages, \"\"site 3\"\"\""));
    assert_null(strstr(o.text, "officer-017"));
    assert_null(strstr(o.text, "SECRETBYTES"));
    free(o.text);

    /* Issue 15: the names come last, beside nothing moved; a code without
     * a name shows the code. */
    assert_int_equal(sqlite3_exec(fx->db,
                                  "INSERT INTO places(code, name, at_ms)"
                                  " VALUES('230523100', '宝清镇', 0), ('230523100201', '东村', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(s_list(fx->db, &f, SJ_FMT_CSV, &o), SJ_OK);
    assert_non_null(strstr(o.text, ",grazing land,230523102201,230523102\n"));
    assert_non_null(strstr(o.text, ",fence,230523100203,宝清镇\n"));
    assert_non_null(strstr(o.text, ",dismissal,东村,宝清镇\n"));
    free(o.text);
    /* the fixture is shared: the tests after this one have no names */
    assert_int_equal(sqlite3_exec(fx->db, "DELETE FROM places", NULL, NULL, NULL), SQLITE_OK);
}

static void
test_county_query_list_json_filtered(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    county_filter_t f = {.township = "230523100", .kind = "collective"};
    assert_int_equal(s_list(fx->db, &f, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "[{\"id\":\"01900000-0000-7000-8000-000000000032\","
                                "\"occurred_on\":\"2024-01-01\",\"station\":\"230523100201\","
                                "\"township\":\"230523100\",\"channel\":\"visit\","
                                "\"kind\":\"collective\",\"persons\":12,\"level\":\"township\","
                                "\"category\":\"land\",\"outcome\":\"resolved_on_spot\","
                                "\"source\":\"direct\",\"summary\":\"土地承包纠纷\","
                                "\"station_name\":\"230523100201\","
                                "\"township_name\":\"230523100\"}]\n");
    free(o.text);
}

static void
test_county_query_show_found(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    /* Upper case is a UUID too; the answer uses the canonical form. */
    assert_int_equal(s_show(fx->db, "01900000-0000-7000-8000-00000000005C", SJ_FMT_TABLE, &o),
                     SJ_OK);
    assert_string_equal(o.text, "id: 01900000-0000-7000-8000-00000000005c\n"
                                "occurred_on: 2024-06-30\n"
                                "station: 230523102202\n"
                                "township: 230523102\n"
                                "channel: phone\n"
                                "kind: individual\n"
                                "persons: 1\n"
                                "level: county\n"
                                "category: other\n"
                                "outcome: closed\n"
                                "source: direct\n"
                                "summary: threat [31m by phone\n"
                                "officer: officer-017\n"
                                "origin_seq: 1\n"
                                "created: 2024-03-01T08:00:00Z\n"
                                "received: 2024-03-01T08:01:05Z\n"
                                "personal: sealed (open with the county key)\n"
                                "station_name: 230523102202\n"
                                "township_name: 230523102\n"
                                "receiving_leader: \n"
                                "portfolio: \n"
                                "history 经过:\n"
                                "  2024-03-01T08:00:00Z  上报 report  230523102202  officer-017"
                                "  closed 办结  收到 received 2024-03-01T08:01:05Z\n");
    free(o.text);

    /* Issue 15: a township with a name gets it beside its code. */
    assert_int_equal(sqlite3_exec(fx->db,
                                  "INSERT INTO places(code, name, at_ms)"
                                  " VALUES('230523100', '宝清镇', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(s_show(fx->db, s_data[1].id, SJ_FMT_JSON, &o), SJ_OK);
    assert_string_equal(o.text, "{\"id\":\"01900000-0000-7000-8000-000000000032\","
                                "\"occurred_on\":\"2024-01-01\",\"station\":\"230523100201\","
                                "\"township\":\"230523100\",\"channel\":\"visit\","
                                "\"kind\":\"collective\",\"persons\":12,\"level\":\"township\","
                                "\"category\":\"land\",\"outcome\":\"resolved_on_spot\","
                                "\"source\":\"direct\",\"summary\":\"土地承包纠纷\","
                                "\"officer\":\"officer-017\",\"origin_seq\":2,"
                                "\"created\":\"2024-03-01T08:00:00Z\","
                                "\"received\":\"2024-03-01T08:01:05Z\",\"personal\":\"none\","
                                "\"station_name\":\"230523100201\","
                                "\"township_name\":\"宝清镇\","
                                "\"receiving_leader\":null,\"portfolio\":null,"
                                "\"history\":[{\"type\":\"report\",\"at\":\"2024-03-01T08:00:00Z\","
                                "\"id\":\"01900000-0000-7000-8000-000000000032\","
                                "\"origin\":\"230523100201\",\"officer\":\"officer-017\","
                                "\"note\":\"\",\"outcome\":\"resolved_on_spot\","
                                "\"received\":\"2024-03-01T08:01:05Z\"}]}\n");
    free(o.text);

    assert_int_equal(s_show(fx->db, s_data[0].id, SJ_FMT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, "id,occurred_on,station,township,channel,kind,persons,level,"
                                "category,outcome,source,summary,officer,origin_seq,created,"
                                "received,personal,station_name,township_name,receiving_leader,"
                                "portfolio\n"
                                "01900000-0000-7000-8000-0000000000a1,2023-12-31,230523100201,"
                                "230523100,visit,individual,2,village,land,pending,direct,"
                                "boundary of a field,officer-017,1,2024-03-01T08:00:00Z,"
                                "2024-03-01T08:01:05Z,none,230523100201,宝清镇,,\n");
    free(o.text);
    assert_int_equal(sqlite3_exec(fx->db, "DELETE FROM places", NULL, NULL, NULL), SQLITE_OK);

    /* The sealed bytes never leave the database, in any format. */
    for (int fmt = SJ_FMT_TABLE; fmt <= SJ_FMT_CSV; fmt++) {
        assert_int_equal(s_show(fx->db, s_data[11].id, (sj_format_t) fmt, &o), SJ_OK);
        assert_null(strstr(o.text, "SECRET"));
        free(o.text);
    }
}

static void
test_county_query_show_not_found(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    assert_int_equal(s_show(fx->db, "01900000-0000-7000-8000-0000000000ff", SJ_FMT_TABLE, &o),
                     SJ_ENOTFOUND);
    assert_string_equal(o.err, "no matter with id 01900000-0000-7000-8000-0000000000ff");
    assert_int_equal(o.len, 0);
    free(o.text);
}

static void
test_county_query_show_bad_uuid(void **state)
{
    s_fixture_t *fx = *state;
    s_out_t o;
    assert_int_equal(s_show(fx->db, "42", SJ_FMT_TABLE, &o), SJ_EINVAL);
    assert_string_equal(o.err, "'42' is not a UUID");
    assert_int_equal(o.len, 0);
    free(o.text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_query_stats_json_by_level_kind),
        cmocka_unit_test(test_county_query_stats_json_without_by),
        cmocka_unit_test(test_county_query_stats_csv_by_township),
        cmocka_unit_test(test_county_query_stats_table_with_total),
        cmocka_unit_test(test_county_query_stats_dates_inclusive),
        cmocka_unit_test(test_county_query_stats_month),
        cmocka_unit_test(test_county_query_stats_filters),
        cmocka_unit_test(test_county_query_stats_bad_dim),
        cmocka_unit_test(test_county_query_filter_check),
        cmocka_unit_test(test_county_query_stats_bad_filter),
        cmocka_unit_test(test_county_query_stats_empty_db),
        cmocka_unit_test(test_county_query_db_error),
        cmocka_unit_test(test_county_query_list_order_and_limit),
        cmocka_unit_test(test_county_query_list_json_filtered),
        cmocka_unit_test(test_county_query_show_found),
        cmocka_unit_test(test_county_query_show_not_found),
        cmocka_unit_test(test_county_query_show_bad_uuid),
    };
    return cmocka_run_group_tests_name("county_query", tests, s_setup, s_teardown);
}
