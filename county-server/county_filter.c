/* county_filter: filters, --by dimensions and the WHERE builder, see
 * county_filter.h. */
#include "county_filter.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "county_sql.h"
#include "sj_i18n.h"

/* A --by dimension: its name (also the column name), the SQL expression it
 * groups matters on, and its sj_field_t (-1 for text). Indexed by
 * county_filter_dim_t. */
typedef struct {
    const char *name;
    const char *expr;
    int field;
} s_dim_t;

static const s_dim_t s_dims[COUNTY_FILTER_DIM_COUNT] = {
    {"channel", "channel", SJ_FIELD_CHANNEL},
    {"kind", "kind", SJ_FIELD_KIND},
    {"level", "level", SJ_FIELD_LEVEL},
    {"category", "category", SJ_FIELD_CATEGORY},
    {"outcome", "outcome", SJ_FIELD_OUTCOME},
    {"source", "source", SJ_FIELD_SOURCE},
    {"station", "origin", -1},
    {"township", "township", -1},
    {"month", "substr(occurred_on, 1, 7)", -1},
    /* each outcome a matter ever had (county_figs' history rows): a matter
     * is in the row of every outcome it reached; never from a tally */
    {"ever_outcome", "ever_outcome", SJ_FIELD_OUTCOME},
};

static int
s_check_enum(const char *option, sj_field_t field, const char *name, char *err, size_t err_size)
{
    if (!name || sj_enum_value(field, name) != 0) {
        return SJ_OK;
    }
    char list[320];
    sj_enum_list_lang(field, sj_i18n_lang(), list, sizeof list);
    snprintf(err, err_size, _("--%s '%s' is not one of %s"), option, name, list);
    return SJ_EINVAL;
}

static int
s_check_date(const char *option, const char *date, char *err, size_t err_size)
{
    if (!date || sj_date_valid(date)) {
        return SJ_OK;
    }
    snprintf(err, err_size, _("--%s '%s' is not a date (YYYY-MM-DD)"), option, date);
    return SJ_EINVAL;
}

int
county_filter_check(const county_filter_t *f, char *err, size_t err_size)
{
    if (!f) {
        return SJ_OK;
    }
    if (s_check_date("from", f->from, err, err_size) != SJ_OK
        || s_check_date("to", f->to, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    /* YYYY-MM-DD compares as text in date order. */
    if (f->from && f->to && strcmp(f->from, f->to) > 0) {
        snprintf(err, err_size, _("--from %s is after --to %s"), f->from, f->to);
        return SJ_EINVAL;
    }
    if (f->township && sj_code_level(f->township) != 9) {
        snprintf(err, err_size, _("--township '%s' is not a 9-digit township code"), f->township);
        return SJ_EINVAL;
    }
    if (f->station && sj_code_level(f->station) != 12) {
        snprintf(err, err_size, _("--station '%s' is not a 12-digit village code"), f->station);
        return SJ_EINVAL;
    }
    const char *names[SJ_FIELD_COUNT];
    county_filter_enums(f, names);
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        sj_field_t field = (sj_field_t) i;
        if (s_check_enum(sj_field_name(field), field, names[i], err, err_size) != SJ_OK) {
            return SJ_EINVAL;
        }
    }
    if (f->limit < 0) {
        snprintf(err, err_size, _("--limit %ld is negative"), f->limit);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

void
county_filter_enums(const county_filter_t *f, const char *names[SJ_FIELD_COUNT])
{
    names[SJ_FIELD_CHANNEL] = f ? f->channel : NULL;
    names[SJ_FIELD_KIND] = f ? f->kind : NULL;
    names[SJ_FIELD_LEVEL] = f ? f->level : NULL;
    names[SJ_FIELD_CATEGORY] = f ? f->category : NULL;
    names[SJ_FIELD_OUTCOME] = f ? f->outcome : NULL;
    names[SJ_FIELD_SOURCE] = f ? f->source : NULL;
}

void
county_filter_today(const county_filter_t *f, char today[11])
{
    if (f && f->today) {
        snprintf(today, 11, "%s", f->today);
    } else {
        sj_date_today(today);
    }
}

int
county_filter_dims_parse(const char *by, county_filter_dims_t *dims, char *err, size_t err_size)
{
    dims->n = 0;
    if (!by || !*by) {
        return SJ_OK;
    }
    char valid[200];
    size_t vlen = 0;
    valid[0] = '\0';
    for (size_t d = 0; d < COUNTY_FILTER_DIM_COUNT; d++) {
        county_sql_add(valid, sizeof valid, &vlen, d ? ", " : "");
        county_sql_add(valid, sizeof valid, &vlen, s_dims[d].name);
    }
    const char *p = by;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t) (end - p) : strlen(p);
        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        size_t d = 0;
        while (d < COUNTY_FILTER_DIM_COUNT
               && (strlen(s_dims[d].name) != n || strncmp(s_dims[d].name, p, n) != 0)) {
            d++;
        }
        if (d == COUNTY_FILTER_DIM_COUNT) {
            int shown = n > 64 ? 64 : (int) n;
            snprintf(err, err_size, _("--by: unknown dimension '%.*s' (use %s)"), shown, p, valid);
            return SJ_EINVAL;
        }
        if (county_filter_dims_has(dims, (county_filter_dim_t) d)) {
            snprintf(err, err_size, _("--by: dimension '%s' is given twice"), s_dims[d].name);
            return SJ_EINVAL;
        }
        assert(dims->n < COUNTY_FILTER_DIM_COUNT);
        dims->d[dims->n++] = (county_filter_dim_t) d;
        if (!end) {
            return SJ_OK;
        }
        p = end + 1;
    }
}

int
county_filter_dims_has(const county_filter_dims_t *dims, county_filter_dim_t d)
{
    for (size_t i = 0; i < dims->n; i++) {
        if (dims->d[i] == d) {
            return 1;
        }
    }
    return 0;
}

const char *
county_filter_dim_name(county_filter_dim_t d)
{
    return s_dims[d].name;
}

const char *
county_filter_dim_expr(county_filter_dim_t d)
{
    return s_dims[d].expr;
}

int
county_filter_dim_field(county_filter_dim_t d)
{
    return s_dims[d].field;
}

void
county_filter_where_init(county_filter_where_t *w)
{
    memset(w, 0, sizeof *w);
}

void
county_filter_where_add(county_filter_where_t *w,
                        const char *clause,
                        const char *text,
                        sqlite3_int64 value)
{
    assert(w->n < COUNTY_FILTER_MAX_BINDS);
    county_sql_add(w->sql, sizeof w->sql, &w->len, w->n == 0 ? " WHERE " : " AND ");
    county_sql_add(w->sql, sizeof w->sql, &w->len, clause);
    w->binds[w->n].text = text;
    w->binds[w->n].value = value;
    w->n++;
}

void
county_filter_where(const county_filter_t *f, county_filter_where_t *w)
{
    county_filter_where_init(w);
    if (!f) {
        return;
    }
    if (f->from) {
        county_filter_where_add(w, "occurred_on >= ?", f->from, 0);
    }
    if (f->to) {
        county_filter_where_add(w, "occurred_on <= ?", f->to, 0);
    }
    if (f->township) {
        county_filter_where_add(w, "township = ?", f->township, 0);
    }
    if (f->station) {
        county_filter_where_add(w, "origin = ?", f->station, 0);
    }
    static const char *const clauses[SJ_FIELD_COUNT] = {
        "channel = ?", "kind = ?", "level = ?", "category = ?", "outcome = ?", "source = ?"};
    const char *names[SJ_FIELD_COUNT];
    county_filter_enums(f, names);
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        if (names[i]) {
            county_filter_where_add(w, clauses[i], NULL, sj_enum_value((sj_field_t) i, names[i]));
        }
    }
}

int
county_filter_bind(sqlite3 *db,
                   sqlite3_stmt *st,
                   const county_filter_where_t *w,
                   const char *sql,
                   char *err,
                   size_t err_size)
{
    for (int i = 0; i < w->n; i++) {
        int rc = w->binds[i].text
                     ? sqlite3_bind_text(st, i + 1, w->binds[i].text, -1, SQLITE_STATIC)
                     : sqlite3_bind_int64(st, i + 1, w->binds[i].value);
        if (rc != SQLITE_OK) {
            return county_sql_fail(db, rc, "cannot bind a filter", sql, err, err_size);
        }
    }
    return SJ_OK;
}
