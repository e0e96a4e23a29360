/* county_stats: stats as a result, see county_stats.h.
 *
 * Plain counts are one GROUP BY over the source the planner chose
 * (county_tally_counts_sql): over matters count(*), over a tally
 * sum(items). With the case figures, county_figs does the grouping. */
#include "county_stats.h"

#include "sj_places.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_sql.h"
#include "county_tally.h"

struct county_stats {
    sj_table_t *rows;        /* owned */
    size_t ndims;            /* dims at the start of each row */
    int figs;                /* rows and total carry the case figures */
    county_figs_t total;     /* items, persons; the rest with figs */
    sj_places_map_t *places; /* the place names (issue 15), for the rows' "name" */
};

/* The counts of dims over the plan's source into self. */
static int
s_counts(county_stats_t *self,
         sqlite3 *db,
         const county_filter_dims_t *dims,
         const county_filter_t *f,
         const county_tally_plan_t *plan,
         char *err,
         size_t err_size)
{
    char sql[COUNTY_SQL_MAX];
    county_filter_where_t where;
    county_tally_counts_sql(plan, dims, f, sql, sizeof sql, &where);

    const size_t ndims = dims->n;
    const char *names[COUNTY_FILTER_DIM_COUNT + 2];
    sj_col_type_t types[COUNTY_FILTER_DIM_COUNT + 2];
    for (size_t i = 0; i < ndims; i++) {
        names[i] = county_filter_dim_name(dims->d[i]);
        types[i] = SJ_COL_TEXT;
    }
    names[ndims] = "items";
    names[ndims + 1] = "persons";
    types[ndims] = types[ndims + 1] = SJ_COL_INT;

    int rc = SJ_OK;
    sqlite3_stmt *st = NULL;
    self->rows = sj_table_new(ndims + 2, names, types);
    if (!self->rows) {
        return county_sql_nomem(err, err_size);
    }
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = county_sql_fail(db, src, "cannot query the matters", sql, err, err_size);
        goto out;
    }
    rc = county_filter_bind(db, st, &where, sql, err, err_size);
    if (rc != SJ_OK) {
        goto out;
    }
    int64_t items = 0, persons = 0;
    char ibuf[COUNTY_SQL_NUM], pbuf[COUNTY_SQL_NUM];
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[COUNTY_FILTER_DIM_COUNT + 2];
        for (size_t i = 0; i < ndims; i++) {
            int field = county_filter_dim_field(dims->d[i]);
            if (field >= 0) {
                rc = county_sql_enum_cell((sj_field_t) field, sqlite3_column_int(st, (int) i),
                                          &cells[i], err, err_size);
                if (rc != SJ_OK) {
                    goto out;
                }
            } else if (!(cells[i] = county_sql_text(st, (int) i))) {
                rc = county_sql_nomem(err, err_size);
                goto out;
            }
        }
        int64_t n = sqlite3_column_int64(st, (int) ndims);
        int64_t p = sqlite3_column_int64(st, (int) ndims + 1);
        items += n;
        persons += p;
        snprintf(ibuf, sizeof ibuf, "%" PRId64, n);
        snprintf(pbuf, sizeof pbuf, "%" PRId64, p);
        cells[ndims] = ibuf;
        cells[ndims + 1] = pbuf;
        if (sj_table_add_row(self->rows, cells) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
            goto out;
        }
    }
    if (src != SQLITE_DONE) {
        rc = county_sql_fail(db, src, "cannot read the matters", sql, err, err_size);
        goto out;
    }
    self->total.items = items;
    self->total.persons = persons;
    if (ndims > 0) {
        const char *total[COUNTY_FILTER_DIM_COUNT + 2] = {NULL};
        snprintf(ibuf, sizeof ibuf, "%" PRId64, items);
        snprintf(pbuf, sizeof pbuf, "%" PRId64, persons);
        total[0] = "total";
        total[ndims] = ibuf;
        total[ndims + 1] = pbuf;
        if (sj_table_set_total(self->rows, total) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
        }
    }
out:
    sqlite3_finalize(st);
    return rc;
}

int
county_stats_run(sqlite3 *db,
                 const char *by,
                 const county_filter_t *f,
                 unsigned flags,
                 county_stats_t **out,
                 char *err,
                 size_t err_size)
{
    assert(db);
    assert(out);
    *out = NULL;
    /* The filter and the dims are checked once, here, for both ways. */
    county_filter_dims_t dims;
    int rc = county_filter_check(f, err, err_size);
    if (rc == SJ_OK) {
        rc = county_filter_dims_parse(by, &dims, err, err_size);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    county_stats_t *self = calloc(1, sizeof *self);
    if (!self) {
        return county_sql_nomem(err, err_size);
    }
    self->ndims = dims.n;
    self->figs = (flags & COUNTY_STATS_CASES)
                 || county_filter_dims_has(&dims, COUNTY_FILTER_DIM_EVER_OUTCOME);
    if (self->figs) {
        rc = county_figs_table(db, &dims, f, &self->rows, &self->total, err, err_size);
    } else {
        county_tally_plan_t plan =
            (flags & COUNTY_STATS_SCAN) ? county_tally_plan_scan() : county_tally_plan(&dims, f);
        rc = s_counts(self, db, &dims, f, &plan, err, err_size);
    }
    if (rc != SJ_OK) {
        county_stats_destroy(&self);
        return rc;
    }
    self->places = sj_places_map_load(db);
    *out = self;
    return SJ_OK;
}

const sj_places_map_t *
county_stats_places(const county_stats_t *self)
{
    return self->places;
}

void
county_stats_destroy(county_stats_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_table_destroy(&(*self_p)->rows);
    sj_places_map_free(&(*self_p)->places);
    free(*self_p);
    *self_p = NULL;
}

const sj_table_t *
county_stats_rows(const county_stats_t *self)
{
    return self->rows;
}

size_t
county_stats_ndims(const county_stats_t *self)
{
    return self->ndims;
}

int
county_stats_has_figs(const county_stats_t *self)
{
    return self->figs;
}

const county_figs_t *
county_stats_total(const county_stats_t *self)
{
    return &self->total;
}

const char *
county_stats_source(const char *by, const county_filter_t *f)
{
    county_filter_dims_t dims;
    char err[256];
    if (county_filter_check(f, err, sizeof err) != SJ_OK
        || county_filter_dims_parse(by, &dims, err, sizeof err) != SJ_OK) {
        return NULL;
    }
    return county_tally_table(county_tally_plan(&dims, f).src);
}
