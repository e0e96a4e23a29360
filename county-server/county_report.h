/* county_report: the year's petition section (信访) in the shape a county
 * yearbook prints it: a paragraph of figures and the tables behind it.
 *
 * Every figure is counted by SQLite: one GROUP BY over the year's matters
 * on all six enum fields (at most 4,800 groups), which C only adds up into
 * the named figures of county_report_t. Rendering is separate, so a test can
 * check the figures and the text apart.
 *
 * Terms (README.md, the enums): items are matters, counted as 件次 for individual and
 * 批次 for collective ones (件（批）次 together); persons are 人次. "Lodged
 * at" is the level field (到县 county, 赴市 city, 赴省 province, 进京
 * capital). */
#ifndef COUNTY_REPORT_H
#define COUNTY_REPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "county_store_view.h"
#include "sj_err.h"
#include "sj_rates.h"

#define COUNTY_REPORT_NLEVEL    6 /* sj_model: village .. capital */
#define COUNTY_REPORT_NCHANNEL  4
#define COUNTY_REPORT_NCATEGORY 5
#define COUNTY_REPORT_NOUTCOME  5
#define COUNTY_REPORT_NSOURCE   4
#define COUNTY_REPORT_YEAR_MIN  1900 /* the dates sj_model accepts */
#define COUNTY_REPORT_YEAR_MAX  2999

typedef enum { COUNTY_REPORT_ZH = 0, COUNTY_REPORT_EN } county_report_lang_t;
typedef enum { COUNTY_REPORT_MD = 0, COUNTY_REPORT_HTML } county_report_fmt_t;

/* A count of matters (件/批次) and the persons in them (人次). */
typedef struct {
    int64_t items;
    int64_t persons;
} county_count_t;

/* The figures of one year. Arrays are indexed by enum value - 1. */
typedef struct {
    int year;
    county_count_t total;
    county_count_t individual; /* kind = individual (件次) */
    county_count_t collective; /* kind = collective (批次) */
    /* per level: [0] all, [1] collective, [2] individual */
    county_count_t level[COUNTY_REPORT_NLEVEL][3];
    county_count_t channel[COUNTY_REPORT_NCHANNEL];
    county_count_t outcome[COUNTY_REPORT_NOUTCOME];
    county_count_t source[COUNTY_REPORT_NSOURCE];
    /* assigned cases (county_figs.h: an assignments row or reported with
     * source assigned), and of them concluded (resolved on the spot or
     * closed) and withdrawn, by current outcome */
    int64_t assigned, assigned_concluded, assigned_withdrawn;
    county_count_t review[COUNTY_REPORT_NCATEGORY]; /* source review, by category */
    /* appointments (约访, issue 16 item 6) whose day is in the year, and of
     * them those marked kept and missed (county_appoint.h) */
    int64_t appt_made, appt_kept, appt_missed;
    sqlite3 *db; /* where the figures came from: the locks' section (county_lock.h) */
    /* the four rates and the cases overdue now at any stage (county_figs.h) */
    sj_rates_t rates;
    int64_t overdue;

} county_report_t;

/* Parses "zh"/"en" and "md"/"html". Returns SJ_OK or SJ_EINVAL. */
SJ_NODISCARD int county_report_lang_parse(const char *name, county_report_lang_t *out);
SJ_NODISCARD int county_report_fmt_parse(const char *name, county_report_fmt_t *out);
/* Parses a year "YYYY" in COUNTY_REPORT_YEAR_MIN..MAX. SJ_OK or SJ_EINVAL. */
SJ_NODISCARD int county_report_year_parse(const char *text, int *year);

/* Counts the matters that occurred in year (Jan 1 .. Dec 31, inclusive)
 * into *r (overwritten). db is borrowed (a read connection is enough).
 * Returns: SJ_OK; SJ_EINVAL year out of range; SJ_EDB (also a stored enum
 * out of range), SJ_EAGAIN; err says why. */
SJ_NODISCARD int
county_report_compute(sqlite3 *db, int year, county_report_t *r, char *err, size_t err_size);

/* The same on the clock's periods (NULL: the defaults; the rates and
 * overdue, county_figs.h). */
SJ_NODISCARD int county_report_compute_p(sqlite3 *db,
                                         int year,
                                         const sj_periods_t *periods,
                                         county_report_t *r,
                                         char *err,
                                         size_t err_size);

/* The closure rate of assigned cases in per mille (concluded * 1000 /
 * (assigned - withdrawn), rounded half up), or -1 when there were none. */
int county_report_closure_permille(const county_report_t *r);

/* Writes the section: md (a heading, the paragraph, tables in GitHub
 * Markdown) or html (a complete UTF-8 page). Returns SJ_OK or SJ_EIO. */
SJ_NODISCARD int county_report_write(const county_report_t *r,
                                     county_report_lang_t lang,
                                     county_report_fmt_t fmt,
                                     FILE *out);

#endif
