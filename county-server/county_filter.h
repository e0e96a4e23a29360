/* county_filter: what a county reading command asks for, as the CLI and the
 * dashboard's API give it: the filter (dates, codes, enum names, a limit),
 * the --by dimensions of stats, and the SQL WHERE clause of a filter over
 * matters.
 *
 * Dimensions (--by): channel, kind, level, category, outcome, source
 * (printed by name, e.g. "county"), station (matters.origin, 12 digits),
 * township (matters.township, 9 digits), month ("YYYY-MM" of occurred_on),
 * ever_outcome (the outcome history: a matter is in the row of the outcome
 * it was reported with and of every outcome an applied status change gave
 * it, changes listed in conflicts left out; so the rows add up to more
 * than the total, which counts each matter once; county_figs.h).
 * Dates are inclusive and filter on occurred_on.
 *
 * SQL is assembled from fixed pieces only: every value a user typed (dates,
 * codes, enum names turned into numbers, the limit) is a bound parameter,
 * so nothing from the command line or a URL is ever parsed as SQL. */
#ifndef COUNTY_FILTER_H
#define COUNTY_FILTER_H

#include <sqlite3.h>
#include <stddef.h>

#include "sj_auth.h"
#include "sj_clock.h"
#include "sj_err.h"
#include "sj_model.h"

typedef struct {
    const char *from;     /* YYYY-MM-DD or NULL */
    const char *to;       /* YYYY-MM-DD or NULL */
    const char *township; /* 9-digit code or NULL */
    const char *station;  /* 12-digit code or NULL */
    /* enum filters by name, NULL = any */
    const char *channel, *kind, *level, *category, *outcome, *source;
    long limit; /* list: max rows, 0 = all */
    /* list --with-personal: the county key pair that opens sealed petitioner
     * fields (borrowed); NULL = personal fields are left out */
    const sj_keypair_t *personal;
    /* "today" for overdue (YYYY-MM-DD, not checked); NULL = sj_date_today() */
    const char *today;
    /* the statutory periods of the clock (overdue, the rates); NULL = the
     * defaults (docs/CLOCK.md §4) */
    const sj_periods_t *periods;
} county_filter_t;

/* Checks a filter: dates valid and from <= to, codes well-formed, enum names
 * known. SJ_EINVAL with a reason naming the option otherwise. NULL is
 * every matter. */
SJ_NODISCARD int county_filter_check(const county_filter_t *f, char *err, size_t err_size);

/* The enum filter names of f in sj_field_t order (NULL = any; all NULL
 * when f is NULL). */
void county_filter_enums(const county_filter_t *f, const char *names[SJ_FIELD_COUNT]);

/* "today" of f (f->today, else the local date) into today. */
void county_filter_today(const county_filter_t *f, char today[11]);

/* The --by dimensions, in the order `--by` names them in its error message.
 * The six enum dimensions have the numbers of their sj_field_t. */
typedef enum {
    COUNTY_FILTER_DIM_CHANNEL = SJ_FIELD_CHANNEL,
    COUNTY_FILTER_DIM_KIND = SJ_FIELD_KIND,
    COUNTY_FILTER_DIM_LEVEL = SJ_FIELD_LEVEL,
    COUNTY_FILTER_DIM_CATEGORY = SJ_FIELD_CATEGORY,
    COUNTY_FILTER_DIM_OUTCOME = SJ_FIELD_OUTCOME,
    COUNTY_FILTER_DIM_SOURCE = SJ_FIELD_SOURCE,
    COUNTY_FILTER_DIM_STATION,
    COUNTY_FILTER_DIM_TOWNSHIP,
    COUNTY_FILTER_DIM_MONTH,
    COUNTY_FILTER_DIM_EVER_OUTCOME,
    COUNTY_FILTER_DIM_COUNT
} county_filter_dim_t;

/* The dimensions of one --by, each at most once, in the order given. */
typedef struct {
    county_filter_dim_t d[COUNTY_FILTER_DIM_COUNT];
    size_t n;
} county_filter_dims_t;

/* Parses the comma-separated dims of `by` (NULL or "" = none; spaces around
 * names allowed: "level, kind"). Unknown or repeated dim: SJ_EINVAL with a
 * reason listing the valid dims. */
SJ_NODISCARD int
county_filter_dims_parse(const char *by, county_filter_dims_t *dims, char *err, size_t err_size);
/* True when dims holds d. */
int county_filter_dims_has(const county_filter_dims_t *dims, county_filter_dim_t d);
/* The dimension's name (also its column header). */
const char *county_filter_dim_name(county_filter_dim_t d);
/* The SQL expression it groups matters on (fixed text; ever_outcome names
 * the column of county_figs' outcome-history rows). */
const char *county_filter_dim_expr(county_filter_dim_t d);
/* The sj_field_t of an enum dimension (stored as 1..n, printed by name), or
 * -1 for a text one. */
int county_filter_dim_field(county_filter_dim_t d);

#define COUNTY_FILTER_MAX_BINDS 12 /* filters that take a value, plus limit */

/* A WHERE clause made of fixed text and the values to bind to its '?'s, in
 * order. Text values are borrowed from the filter. */
typedef struct {
    char sql[512]; /* "" or " WHERE ... AND ..." */
    size_t len;    /* strlen(sql) */
    int n;         /* values in binds */
    struct {
        const char *text;    /* bound as text when not NULL */
        sqlite3_int64 value; /* bound as an integer otherwise */
    } binds[COUNTY_FILTER_MAX_BINDS];
} county_filter_where_t;

/* Empties w. */
void county_filter_where_init(county_filter_where_t *w);
/* Adds "clause" (fixed text with one '?') and its value: text when not
 * NULL, else value. */
void county_filter_where_add(county_filter_where_t *w,
                             const char *clause,
                             const char *text,
                             sqlite3_int64 value);
/* The WHERE clause over matters of a checked filter (NULL = everything).
 * Enum names become their stored numbers here. */
void county_filter_where(const county_filter_t *f, county_filter_where_t *w);
/* Binds w's values from parameter 1 on. Text is SQLITE_STATIC: the
 * caller's filter must outlive the statement. SJ_OK or county_sql_fail's
 * codes (sql is for the debug log). */
SJ_NODISCARD int county_filter_bind(sqlite3 *db,
                                    sqlite3_stmt *st,
                                    const county_filter_where_t *w,
                                    const char *sql,
                                    char *err,
                                    size_t err_size);

#endif
