/* county_query: the reading commands, computed by the view modules and
 * written by county_out; see county_query.h. */
#include "county_query.h"

#include <assert.h>

#include "county_out.h"
#include "county_personal.h"

int
county_query_case_figs(
    sqlite3 *db, const county_filter_t *f, county_case_figs_t *out, char *err, size_t err_size)
{
    return county_figs_total(db, f, out, err, err_size);
}

int
county_query_stats(sqlite3 *db,
                   const char *by,
                   const county_filter_t *f,
                   sj_format_t fmt,
                   FILE *out,
                   char *err,
                   size_t err_size)
{
    return county_query_stats_ex(db, by, f, fmt, 0, out, err, err_size);
}

int
county_query_stats_ex(sqlite3 *db,
                      const char *by,
                      const county_filter_t *f,
                      sj_format_t fmt,
                      unsigned flags,
                      FILE *out,
                      char *err,
                      size_t err_size)
{
    assert(out);
    county_stats_t *s = NULL;
    int rc = county_stats_run(db, by, f, flags, &s, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_stats(s, fmt, out, err, err_size);
    }
    county_stats_destroy(&s);
    return rc;
}

const char *
county_query_stats_source(const char *by, const county_filter_t *f)
{
    return county_stats_source(by, f);
}

static int
s_list_next(void *cursor, const char *const **cells, char *err, size_t err_size)
{
    return county_list_next(cursor, cells, err, err_size);
}

int
county_query_list(
    sqlite3 *db, const county_filter_t *f, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(out);
    county_list_t *rows = NULL;
    int rc = county_list_open(db, f, &rows, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_rows(county_list_ncols(rows), county_list_names(rows),
                             county_list_types(rows), s_list_next, rows, fmt, out, err, err_size);
    }
    county_list_close(&rows);
    return rc;
}

int
county_query_show(
    sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(out);
    sj_table_t *t = NULL;
    int rc = county_list_show(db, id_text, &t, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_show(t, fmt, out, err, err_size);
    }
    sj_table_destroy(&t);
    return rc;
}

int
county_query_personal(sqlite3 *db,
                      const char *id_text,
                      const sj_keypair_t *kp,
                      sj_format_t fmt,
                      FILE *out,
                      char *err,
                      size_t err_size)
{
    assert(out);
    county_personal_t p;
    int none = 1;
    int rc = county_personal_read(db, id_text, kp, &p, &none, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_personal(&p, none, fmt, out, err, err_size);
    }
    county_personal_wipe(&p);
    return rc;
}
