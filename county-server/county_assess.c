/* county_assess: the assessment table, see county_assess.h. */
#include "county_assess.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_export.h"
#include "county_figs.h"
#include "county_sql.h"
#include "county_store.h"
#include "sj_case.h"
#include "sj_clock_db.h"
#include "sj_i18n.h"
#include "sj_places.h"
#include "sj_rates.h"
#include "sj_users.h"

const char *const county_assess_names[COUNTY_ASSESS_NCOLS] = {"unit",
                                                              "name",
                                                              "kind",
                                                              "matters",
                                                              "persons",
                                                              "timely_acceptance",
                                                              "on_time_conclusion",
                                                              "satisfaction",
                                                              "participation",
                                                              "overdue_now",
                                                              "median_days_to_conclude"};

static const char *const s_head_zh[COUNTY_ASSESS_NCOLS] = {
    "单位代码", "单位",   "类别",     "件（批）次",          "人次", "及时受理率", "按期办结率",
    "满意率",   "参评率", "当前超期", "办结用时中位数（天）"};
static const char *const s_head_en[COUNTY_ASSESS_NCOLS] = {"Code",
                                                           "Unit",
                                                           "Kind",
                                                           "Matters",
                                                           "Persons",
                                                           "Timely acceptance",
                                                           "On-time conclusion",
                                                           "Satisfaction",
                                                           "Participation",
                                                           "Overdue now",
                                                           "Median days to conclude"};

const char *
county_assess_header(size_t i, sj_lang_t lang)
{
    if (i >= COUNTY_ASSESS_NCOLS) {
        return "";
    }
    return lang == SJ_LANG_EN ? s_head_en[i] : s_head_zh[i];
}

int
county_assess_period(const char *from_opt,
                     const char *to_opt,
                     const char *month,
                     const char *year,
                     const char *today,
                     char from[11],
                     char to[11],
                     char *err,
                     size_t err_size)
{
    int ways = (from_opt || to_opt) + !!month + !!year;
    if (ways > 1) {
        snprintf(err, err_size,
                 _("give the period one way: --from/--to, --month YYYY-MM or --year YYYY"));
        return SJ_EINVAL;
    }
    char buf[32];
    if (month) {
        snprintf(buf, sizeof buf, "%.7s-01", month);
        if (strlen(month) != 7 || !sj_date_valid(buf)) {
            snprintf(err, err_size, _("--month '%s' is not a month (YYYY-MM)"), month);
            return SJ_EINVAL;
        }
        memcpy(from, buf, 11);
        /* the last day: the first of the next month - 1 */
        int y = atoi(month) % 10000, m = atoi(month + 5) % 100 + 1;
        if (m > 12) {
            m = 1;
            y = (y + 1) % 10000;
        }
        snprintf(buf, sizeof buf, "%04d-%02d-01", y, m);
        if (sj_date_add(buf, -1, to) != SJ_OK) {
            snprintf(err, err_size, _("--month '%s' is not a month (YYYY-MM)"), month);
            return SJ_EINVAL;
        }
        return SJ_OK;
    }
    if (year || (!from_opt && !to_opt)) {
        char y[8];
        snprintf(y, sizeof y, "%.4s", year ? year : today);
        snprintf(buf, sizeof buf, "%s-01-01", y);
        if ((year && strlen(year) != 4) || !sj_date_valid(buf)) {
            snprintf(err, err_size, _("--year '%s' is not a year (YYYY)"), year ? year : today);
            return SJ_EINVAL;
        }
        memcpy(from, buf, 11);
        snprintf(to, 11, "%.4s-12-31", y);
        return SJ_OK;
    }
    if (from_opt && !sj_date_valid(from_opt)) {
        snprintf(err, err_size, _("--from '%s' is not a date (YYYY-MM-DD)"), from_opt);
        return SJ_EINVAL;
    }
    if (to_opt && !sj_date_valid(to_opt)) {
        snprintf(err, err_size, _("--to '%s' is not a date (YYYY-MM-DD)"), to_opt);
        return SJ_EINVAL;
    }
    snprintf(from, 11, "%s", from_opt ? from_opt : "0001-01-01");
    snprintf(to, 11, "%s", to_opt ? to_opt : "9999-12-31");
    if (strcmp(from, to) > 0) {
        snprintf(err, err_size, _("--from %s is after --to %s"), from, to);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

typedef struct {
    char code[16];
    char *name; /* owned; NULL: none */
    int dept;
    int64_t items, persons, overdue;
    sj_rates_t rates;
    int64_t *close_ms; /* days to conclude of the concluded cases (owned) */
    size_t nclose, cap;
} s_unit_t;

typedef struct {
    s_unit_t *u;
    size_t n, cap;
} s_units_t;

static void
s_units_free(s_units_t *us)
{
    for (size_t i = 0; i < us->n; i++) {
        free(us->u[i].name);
        free(us->u[i].close_ms);
    }
    free(us->u);
    memset(us, 0, sizeof *us);
}

static s_unit_t *
s_unit(s_units_t *us, const char *code, int dept)
{
    for (size_t i = 0; i < us->n; i++) {
        if (!strcmp(us->u[i].code, code)) {
            return &us->u[i];
        }
    }
    if (us->n == us->cap) {
        size_t cap = us->cap ? us->cap * 2 : 16;
        s_unit_t *p = realloc(us->u, cap * sizeof *p);
        if (!p) {
            return NULL;
        }
        us->u = p;
        us->cap = cap;
    }
    s_unit_t *u = &us->u[us->n++];
    memset(u, 0, sizeof *u);
    snprintf(u->code, sizeof u->code, "%s", code);
    u->dept = dept;
    return u;
}

static int
s_close_add(s_unit_t *u, int64_t ms)
{
    if (u->nclose == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        int64_t *p = realloc(u->close_ms, cap * sizeof *p);
        if (!p) {
            return SJ_ENOMEM;
        }
        u->close_ms = p;
        u->cap = cap;
    }
    u->close_ms[u->nclose++] = ms;
    return SJ_OK;
}

static int
s_unit_cmp(const void *a, const void *b)
{
    return strcmp(((const s_unit_t *) a)->code, ((const s_unit_t *) b)->code);
}

static int
s_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* "12.5" days, or NULL (no concluded case). Sorts close_ms. */
static const char *
s_median(s_unit_t *u, char *buf, size_t size)
{
    if (u->nclose == 0) {
        return NULL;
    }
    qsort(u->close_ms, u->nclose, sizeof *u->close_ms, s_i64_cmp);
    size_t n = u->nclose;
    double days = n % 2 ? (double) u->close_ms[n / 2]
                        : ((double) u->close_ms[n / 2 - 1] + (double) u->close_ms[n / 2]) / 2.0;
    snprintf(buf, size, "%.1f", days);
    return buf;
}

/* Each case of the period with what its clock, rates and unit need. ?1
 * from, ?2 to. */
static const char s_assess_sql[] =
    "SELECT m.id, m.township, m.occurred_on, coalesce(m.reported_outcome, m.outcome), m.source,"
    " m.outcome, m.persons,"
    " coalesce((SELECT v.satisfaction FROM evaluations v WHERE v.case_id = m.id"
    "  ORDER BY v.row DESC LIMIT 1), (SELECT s.satisfaction FROM status_changes s"
    "  WHERE s.case_id = m.id AND s.applied = 2), 0),"
    " a.a_due, a.a_to,"
    " (SELECT s.created_ms FROM status_changes s WHERE s.case_id = m.id AND s.applied = 2)"
    " FROM matters m LEFT JOIN " COUNTY_FIGS_CURRENT_ASSIGNMENT_SQL " a ON a.a_case = m.id"
    " WHERE m.occurred_on >= ?1 AND m.occurred_on <= ?2";

static int
s_collect(sqlite3 *db,
          const char *from,
          const char *to,
          const char *today,
          const sj_periods_t *p,
          s_units_t *us,
          char *err,
          size_t err_size)
{
    /* every department has its row */
    sqlite3_stmt *st = NULL;
    int src =
        sqlite3_prepare_v2(db, "SELECT code, name FROM departments ORDER BY code", -1, &st, NULL);
    if (src != SQLITE_OK) {
        return county_sql_fail(db, src, "cannot read the departments", "departments", err,
                               err_size);
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        s_unit_t *u = s_unit(us, (const char *) sqlite3_column_text(st, 0), 1);
        const char *name = (const char *) sqlite3_column_text(st, 1);
        if (!u || (name && !u->name && !(u->name = strdup(name)))) {
            sqlite3_finalize(st);
            return county_sql_nomem(err, err_size);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    sj_clock_db_t *cdb = NULL;
    if (sj_clock_db_open(db, COUNTY_CLOCK_CHANGES_SQL, &cdb) != SJ_OK) {
        return county_sql_fail(db, sqlite3_errcode(db), "cannot read the clock",
                               COUNTY_CLOCK_CHANGES_SQL, err, err_size);
    }
    int rc = SJ_OK;
    src = sqlite3_prepare_v2(db, s_assess_sql, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = county_sql_fail(db, src, "cannot read the cases", s_assess_sql, err, err_size);
        goto out;
    }
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *township = (const char *) sqlite3_column_text(st, 1);
        const char *occurred = (const char *) sqlite3_column_text(st, 2);
        const char *due = (const char *) sqlite3_column_text(st, 8);
        const char *to_code = (const char *) sqlite3_column_text(st, 9);
        int outcome = sqlite3_column_int(st, 5);
        int dept = to_code && sj_dept_code(to_code);
        s_unit_t *u = s_unit(us, dept ? to_code : (township ? township : ""), dept);
        if (!u) {
            rc = county_sql_nomem(err, err_size);
            goto out;
        }
        sj_clock_t clk;
        memset(&clk, 0, sizeof clk);
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES && occurred) {
            int crc = sj_clock_db_case(cdb, sqlite3_column_blob(st, 0), occurred,
                                       sqlite3_column_int(st, 3), sqlite3_column_int(st, 4), p,
                                       today, &clk);
            if (crc == SJ_EINVAL) {
                memset(&clk, 0, sizeof clk);
            } else if (crc != SJ_OK) {
                rc = county_sql_fail(db, sqlite3_errcode(db), "cannot read the clock",
                                     COUNTY_CLOCK_CHANGES_SQL, err, err_size);
                goto out;
            }
        }
        u->items++;
        u->persons += sqlite3_column_int64(st, 6);
        u->overdue += sj_case_overdue(&clk, outcome, due, today);
        sj_rates_add(&u->rates, &clk, outcome, sqlite3_column_int(st, 7));
        if (sj_outcome_is_concluded(outcome)) {
            /* days from receipt (occurred_on) to the day of the change that
             * concluded it; 0 when the report itself came concluded */
            int64_t took = 0;
            if (sqlite3_column_type(st, 10) != SQLITE_NULL && occurred) {
                char day[11];
                sj_date_of_ms(sqlite3_column_int64(st, 10), day);
                if (sj_date_diff(day, occurred, &took) != SJ_OK) {
                    took = 0;
                }
            }
            if (s_close_add(u, took) != SJ_OK) {
                rc = county_sql_nomem(err, err_size);
                goto out;
            }
        }
    }
    if (src != SQLITE_DONE) {
        rc = county_sql_fail(db, src, "cannot read the cases", s_assess_sql, err, err_size);
    }
out:
    sqlite3_finalize(st);
    sj_clock_db_close(&cdb);
    return rc;
}

/* The cells of unit u (bufs hold them). */
static void
s_cells(s_unit_t *u, const char *name, char bufs[COUNTY_ASSESS_NCOLS][64], const char **cells)
{
    cells[0] = u->code;
    cells[1] = name;
    cells[2] = u->dept ? "department" : "township";
    snprintf(bufs[3], 64, "%" PRId64, u->items);
    snprintf(bufs[4], 64, "%" PRId64, u->persons);
    sj_rate_text(u->rates.accept_timely, u->rates.accept_decided, bufs[5], 64);
    sj_rate_text(u->rates.conclude_on_time, u->rates.conclude_done, bufs[6], 64);
    sj_rate_text(u->rates.satisfied, u->rates.evaluated, bufs[7], 64);
    sj_rate_text(u->rates.evaluated, u->rates.concluded, bufs[8], 64);
    snprintf(bufs[9], 64, "%" PRId64, u->overdue);
    for (int i = 3; i < 10; i++) {
        cells[i] = bufs[i];
    }
    cells[10] = s_median(u, bufs[10], 64);
}

int
county_assess_table(sqlite3 *db,
                    const char *from,
                    const char *to,
                    const char *today,
                    const sj_periods_t *p,
                    sj_table_t **out,
                    char *err,
                    size_t err_size)
{
    *out = NULL;
    sj_periods_t def;
    if (!p) {
        sj_periods_default(&def);
        p = &def;
    }
    s_units_t us;
    memset(&us, 0, sizeof us);
    int began = 0;
    int rc = county_sql_snapshot_begin(db, &began, err, err_size);
    if (rc == SJ_OK) {
        rc = s_collect(db, from, to, today, p, &us, err, err_size);
    }
    county_sql_snapshot_end(db, began);
    sj_col_type_t types[COUNTY_ASSESS_NCOLS] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
                                                SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                                SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_INT};
    sj_table_t *t =
        rc == SJ_OK ? sj_table_new(COUNTY_ASSESS_NCOLS, county_assess_names, types) : NULL;
    if (rc == SJ_OK && !t) {
        rc = county_sql_nomem(err, err_size);
    }
    sj_places_map_t *places = rc == SJ_OK ? sj_places_map_load(db) : NULL;
    if (us.n > 1) {
        qsort(us.u, us.n, sizeof *us.u, s_unit_cmp);
    }
    s_unit_t total;
    memset(&total, 0, sizeof total);
    snprintf(total.code, sizeof total.code, "total");
    for (size_t i = 0; rc == SJ_OK && i < us.n; i++) {
        s_unit_t *u = &us.u[i];
        total.items += u->items;
        total.persons += u->persons;
        total.overdue += u->overdue;
        sj_rates_sum(&total.rates, &u->rates);
        for (size_t k = 0; k < u->nclose && rc == SJ_OK; k++) {
            rc = s_close_add(&total, u->close_ms[k]);
        }
        const char *name = u->name ? u->name : sj_places_map_get(places, u->code);
        char bufs[COUNTY_ASSESS_NCOLS][64];
        const char *cells[COUNTY_ASSESS_NCOLS];
        s_cells(u, name ? name : u->code, bufs, cells);
        if (rc != SJ_OK || sj_table_add_row(t, cells) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
        }
    }
    if (rc == SJ_OK) {
        char bufs[COUNTY_ASSESS_NCOLS][64];
        const char *cells[COUNTY_ASSESS_NCOLS];
        s_cells(&total, NULL, bufs, cells);
        cells[2] = NULL;
        if (sj_table_add_row(t, cells) != SJ_OK) { /* the last row: unit "total" */
            rc = county_sql_nomem(err, err_size);
        }
    }
    free(total.close_ms);
    sj_places_map_free(&places);
    s_units_free(&us);
    if (rc != SJ_OK) {
        sj_table_destroy(&t);
        return rc;
    }
    *out = t;
    return SJ_OK;
}

/* ---- writing ---- */

static void
s_esc(FILE *out, const char *s, int html)
{
    if (!html) {
        for (; *s; s++) {
            if (*s == '|') {
                putc('\\', out);
            }
            putc(*s, out);
        }
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            putc(*s, out);
            break;
        }
    }
}

static const char *
s_kind(const char *cell, sj_lang_t lang)
{
    if (!cell) {
        return "";
    }
    if (!strcmp(cell, "department")) {
        return lang == SJ_LANG_EN ? "department" : "县直部门";
    }
    if (!strcmp(cell, "township")) {
        return lang == SJ_LANG_EN ? "township" : "乡镇";
    }
    return cell;
}

/* The cell a person reads: a rate "12/15 80.0%" stays, the total's code
 * is 合计/Total, NULL is —. */
static const char *
s_show(const sj_table_t *t, size_t r, size_t c, sj_lang_t lang, int total)
{
    const char *v = sj_table_cell(t, r, c);
    if (total && c == 0) {
        return lang == SJ_LANG_EN ? "Total" : "合计";
    }
    if (c == 2) {
        return s_kind(v, lang);
    }
    return v ? v : "—";
}

int
county_assess_write(const sj_table_t *t,
                    const char *from,
                    const char *to,
                    const char *today,
                    sj_lang_t lang,
                    county_assess_fmt_t fmt,
                    FILE *out,
                    char *err,
                    size_t err_size)
{
    const char *title = lang == SJ_LANG_EN ? "Assessment of petition work" : "信访工作目标考核";
    size_t rows = sj_table_rows(t); /* the total line is the last */
    if (fmt == COUNTY_ASSESS_XLSX) {
        return county_export_xlsx_table(t, lang == SJ_LANG_EN ? "assessment" : "目标考核", out, err,
                                        err_size);
    }
    int html = fmt == COUNTY_ASSESS_HTML;
    char period[96];
    snprintf(period, sizeof period,
             lang == SJ_LANG_EN ? "Matters received %s to %s; overdue as of %s."
                                : "受理登记 %s 至 %s 的信访事项；超期截至 %s。",
             from, to, today);
    const char *note = lang == SJ_LANG_EN
                           ? "Each rate: count / base and percent (— over none). Rows in code "
                             "order; a case counts for the department it is assigned to, else "
                             "its township."
                           : "各率为：数量／基数及百分比（基数为 0 时为 —）。按代码排序；"
                             "交办县直部门的事项计入该部门，其余计入所在乡镇。";
    if (html) {
        fprintf(out,
                "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>%s"
                "</title>\n<style>@page{size:A4 landscape;margin:12mm}body{font-family:"
                "sans-serif;font-size:10pt}table{border-collapse:collapse;width:100%%}"
                "th,td{border:1px solid #444;padding:2px 4px;text-align:right}"
                "th:nth-child(-n+3),td:nth-child(-n+3){text-align:left}"
                "tfoot td{font-weight:bold}</style></head><body>\n<h1>%s</h1>\n<p>",
                lang == SJ_LANG_EN ? "en" : "zh-CN", title, title);
        s_esc(out, period, 1);
        fputs("</p>\n<table id=\"assessment\"><thead><tr>", out);
        for (size_t c = 0; c < COUNTY_ASSESS_NCOLS; c++) {
            fprintf(out, "<th>%s</th>", county_assess_header(c, lang));
        }
        fputs("</tr></thead><tbody>\n", out);
        for (size_t r = 0; r < rows; r++) {
            int total = r + 1 == rows;
            fputs(total ? "</tbody><tfoot><tr>" : "<tr>", out);
            for (size_t c = 0; c < COUNTY_ASSESS_NCOLS; c++) {
                fputs("<td>", out);
                s_esc(out, s_show(t, r, c, lang, total), 1);
                fputs("</td>", out);
            }
            fputs(total ? "</tr></tfoot>\n" : "</tr>\n", out);
        }
        fprintf(out, "</table>\n<p>%s</p>\n</body></html>\n", note);
    } else {
        fprintf(out, "# %s\n\n%s\n\n|", title, period);
        for (size_t c = 0; c < COUNTY_ASSESS_NCOLS; c++) {
            fprintf(out, " %s |", county_assess_header(c, lang));
        }
        fputs("\n|", out);
        for (size_t c = 0; c < COUNTY_ASSESS_NCOLS; c++) {
            fputs(c < 3 ? " --- |" : " ---: |", out);
        }
        fputs("\n", out);
        for (size_t r = 0; r < rows; r++) {
            fputs("|", out);
            for (size_t c = 0; c < COUNTY_ASSESS_NCOLS; c++) {
                fputs(" ", out);
                s_esc(out, s_show(t, r, c, lang, r + 1 == rows), 0);
                fputs(" |", out);
            }
            fputs("\n", out);
        }
        fprintf(out, "\n%s\n", note);
    }
    if (fflush(out) == EOF || ferror(out)) {
        snprintf(err, err_size, _("cannot write the assessment"));
        return SJ_EIO;
    }
    return SJ_OK;
}
