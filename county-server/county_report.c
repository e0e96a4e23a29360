/* county_report: the yearbook section, see county_report.h.
 *
 * Figures: one GROUP BY on (level, kind, channel, outcome, source,
 * category) over the year, summed in C into county_report_t, so every
 * figure is a sum of the same groups and the figures always agree with each
 * other (the levels add up to the total, and so on).
 *
 * Text: a tiny document writer (heading, paragraph, table) with a Markdown
 * and an HTML back end; the labels of both languages are in the tables
 * below. All text is fixed here or a number, and still goes through the
 * HTML escaper, so a later label with '&' cannot break the page. */
#include "county_report.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "county_appoint.h"
#include "county_figs.h"
#include "county_lock.h"
#include "sj_i18n.h"
#include "sj_model.h"

#define S_TEXT_MAX 4096 /* one paragraph sentence or cell, formatted */
#define S_NUM      32   /* a formatted int64 with separators */

/* Array index (value - 1) of an enum value by its name. */
#define S_IX(field, name) (sj_enum_value(SJ_FIELD_##field, name) - 1)

/* ---- figures ---- */

int
county_report_lang_parse(const char *name, county_report_lang_t *out)
{
    if (name && strcmp(name, "zh") == 0) {
        *out = COUNTY_REPORT_ZH;
    } else if (name && strcmp(name, "en") == 0) {
        *out = COUNTY_REPORT_EN;
    } else {
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
county_report_fmt_parse(const char *name, county_report_fmt_t *out)
{
    if (name && strcmp(name, "md") == 0) {
        *out = COUNTY_REPORT_MD;
    } else if (name && strcmp(name, "html") == 0) {
        *out = COUNTY_REPORT_HTML;
    } else {
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
county_report_year_parse(const char *text, int *year)
{
    if (!text || strlen(text) != 4) {
        return SJ_EINVAL;
    }
    int y = 0;
    for (int i = 0; i < 4; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return SJ_EINVAL;
        }
        y = y * 10 + (text[i] - '0');
    }
    if (y < COUNTY_REPORT_YEAR_MIN || y > COUNTY_REPORT_YEAR_MAX) {
        return SJ_EINVAL;
    }
    *year = y;
    return SJ_OK;
}

static void
s_add(county_count_t *c, int64_t items, int64_t persons)
{
    c->items += items;
    c->persons += persons;
}

/* A locked month's figures are its lock's (county_lock.h): the matters of
 * the other months, and lock_figures for the locked ones. */
static const char s_cube_sql[] =
    "SELECT level, kind, channel, outcome, source, category, sum(n), sum(p) FROM ("
    "SELECT level, kind, channel, outcome, source, category, count(*) AS n,"
    " coalesce(sum(persons), 0) AS p"
    " FROM matters WHERE occurred_on BETWEEN ?1 AND ?2 AND substr(occurred_on, 1, 7) NOT IN"
    " (SELECT month FROM lock_months WHERE month BETWEEN substr(?1, 1, 7) AND substr(?2, 1, 7))"
    " GROUP BY level, kind, channel, outcome, source, category"
    " UNION ALL SELECT level, kind, channel, outcome, source, category, n, persons"
    " FROM lock_figures WHERE month BETWEEN substr(?1, 1, 7) AND substr(?2, 1, 7))"
    " GROUP BY level, kind, channel, outcome, source, category";

int
county_report_compute(sqlite3 *db, int year, county_report_t *r, char *err, size_t err_size)
{
    return county_report_compute_p(db, year, NULL, r, err, err_size);
}

int
county_report_compute_p(sqlite3 *db,
                        int year,
                        const sj_periods_t *periods,
                        county_report_t *r,
                        char *err,
                        size_t err_size)
{
    assert(db);
    assert(r);
    memset(r, 0, sizeof *r);
    if (year < COUNTY_REPORT_YEAR_MIN || year > COUNTY_REPORT_YEAR_MAX) {
        snprintf(err, err_size, _("--year %d is not between %d and %d"), year,
                 COUNTY_REPORT_YEAR_MIN, COUNTY_REPORT_YEAR_MAX);
        return SJ_EINVAL;
    }
    r->year = year;
    r->db = db;
    const int collective = sj_enum_value(SJ_FIELD_KIND, "collective");
    const int review = sj_enum_value(SJ_FIELD_SOURCE, "review");
    /* the columns of s_cube_sql, in order */
    static const sj_field_t fields[6] = {SJ_FIELD_LEVEL,   SJ_FIELD_KIND,   SJ_FIELD_CHANNEL,
                                         SJ_FIELD_OUTCOME, SJ_FIELD_SOURCE, SJ_FIELD_CATEGORY};
    char from[11], to[11];
    snprintf(from, sizeof from, "%04d-01-01", year);
    snprintf(to, sizeof to, "%04d-12-31", year);
    sqlite3_stmt *st = NULL;
    int rc = SJ_OK;
    /* one snapshot for the cube and the case figures */
    int began =
        sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    int src = sqlite3_prepare_v2(db, s_cube_sql, -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    for (; src == SQLITE_ROW; src = sqlite3_step(st)) {
        int v[6];
        for (int i = 0; i < 6; i++) {
            v[i] = sqlite3_column_int(st, i);
            if (!sj_enum_name(fields[i], v[i])) {
                snprintf(err, err_size,
                         _("the database holds %s value %d, which is not valid (damaged?)"),
                         sj_field_name(fields[i]), v[i]);
                rc = SJ_EDB;
                goto out;
            }
        }
        int level = v[0], kind = v[1], channel = v[2], outcome = v[3], source = v[4];
        int category = v[5];
        int64_t n = sqlite3_column_int64(st, 6), p = sqlite3_column_int64(st, 7);
        s_add(&r->total, n, p);
        s_add(kind == collective ? &r->collective : &r->individual, n, p);
        s_add(&r->level[level - 1][0], n, p);
        s_add(&r->level[level - 1][kind == collective ? 1 : 2], n, p);
        s_add(&r->channel[channel - 1], n, p);
        s_add(&r->outcome[outcome - 1], n, p);
        s_add(&r->source[source - 1], n, p);
        if (source == review) {
            s_add(&r->review[category - 1], n, p);
        }
    }
    if (src != SQLITE_DONE) {
        snprintf(err, err_size, _("cannot count the matters of %d: %s"), year, sqlite3_errmsg(db));
        int prim = src & 0xff;
        rc = prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? SJ_EAGAIN : SJ_EDB;
    }
    if (rc == SJ_OK) {
        /* assigned cases and their closure, by the definitions of county_figs.h */
        county_filter_t f = {.from = from, .to = to, .periods = periods};
        county_figs_t figs;
        rc = county_figs_total(db, &f, &figs, err, err_size);
        r->rates = figs.rates;
        r->overdue = figs.overdue;
        r->assigned = figs.assigned;
        r->assigned_concluded = figs.assigned_concluded;
        r->assigned_withdrawn = figs.assigned_withdrawn;
    }
    if (rc == SJ_OK) {
        county_appoint_counts_t ac;
        rc = county_appoint_count(db, from, to, &ac);
        if (rc != SJ_OK) {
            snprintf(err, err_size, "cannot count the appointments of %d: %s", year,
                     sqlite3_errmsg(db));
        }
        r->appt_made = ac.made;
        r->appt_kept = ac.kept;
        r->appt_missed = ac.missed;
    }
out:
    sqlite3_finalize(st);
    if (began && !sqlite3_get_autocommit(db)) {
        (void) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    return rc;
}

int
county_report_closure_permille(const county_report_t *r)
{
    return county_figs_permille(r->assigned_concluded, r->assigned - r->assigned_withdrawn);
}

/* ---- labels ---- */

typedef struct {
    const char *zh;
    const char *en;
} s_label_t;

static const s_label_t s_level_lbl[COUNTY_REPORT_NLEVEL] = {
    {"在村", "at the village"},  {"到乡镇", "at the township"},   {"到县上访", "at the county"},
    {"赴市上访", "at the city"}, {"赴省上访", "at the province"}, {"进京上访", "in the capital"}};
static const s_label_t s_channel_lbl[COUNTY_REPORT_NCHANNEL] = {
    {"来访", "visits"}, {"来信", "letters"}, {"来电", "phone calls"}, {"信箱", "mailbox"}};
static const s_label_t s_outcome_lbl[COUNTY_REPORT_NOUTCOME] = {
    {"待处理", "pending"},
    {"当场解决", "resolved on the spot"},
    {"受理", "accepted"},
    {"办结", "closed"},
    {"撤回", "withdrawn"}};
static const s_label_t s_source_lbl[COUNTY_REPORT_NSOURCE] = {{"群众直接反映", "direct"},
                                                              {"领导接访", "leader reception"},
                                                              {"上级交办", "assigned"},
                                                              {"复查复核", "review"}};
static const s_label_t s_category_lbl[COUNTY_REPORT_NCATEGORY] = {
    {"土地", "land"},
    {"企业改制", "enterprise restructuring"},
    {"劳动就业", "employment"},
    {"房屋拆迁", "housing and demolition"},
    {"其他", "other"}};

/* ---- document writer ---- */

typedef struct {
    FILE *out;
    county_report_fmt_t fmt;
    county_report_lang_t lang;
} s_doc_t;

static const char *
s_l(const s_doc_t *d, const s_label_t *l)
{
    return d->lang == COUNTY_REPORT_ZH ? l->zh : l->en;
}

static const char *
s_t(const s_doc_t *d, const char *zh, const char *en)
{
    return d->lang == COUNTY_REPORT_ZH ? zh : en;
}

/* Chinese yearbooks print plain digits; English uses thousands commas. */
static const char *
s_num(const s_doc_t *d, int64_t v, char buf[S_NUM])
{
    char digits[S_NUM];
    snprintf(digits, sizeof digits, "%lld", (long long) (v < 0 ? -v : v));
    if (d->lang == COUNTY_REPORT_ZH) {
        snprintf(buf, S_NUM, "%s%s", v < 0 ? "-" : "", digits);
        return buf;
    }
    size_t n = strlen(digits), o = 0;
    if (v < 0) {
        buf[o++] = '-';
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            buf[o++] = ',';
        }
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *
s_rate(const s_doc_t *d, const county_report_t *r, char buf[S_NUM])
{
    int pm = county_report_closure_permille(r);
    if (pm < 0) {
        snprintf(buf, S_NUM, "%s", s_t(d, "—", "n/a"));
    } else {
        snprintf(buf, S_NUM, "%d.%d%%", pm / 10, pm % 10);
    }
    return buf;
}

/* Writes text, escaped for HTML when the document is HTML. Markdown gets
 * '|' escaped in table cells only (the labels hold none). */
static void
s_put(const s_doc_t *d, const char *s)
{
    if (d->fmt == COUNTY_REPORT_MD) {
        fputs(s, d->out);
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", d->out);
            break;
        case '<':
            fputs("&lt;", d->out);
            break;
        case '>':
            fputs("&gt;", d->out);
            break;
        case '"':
            fputs("&quot;", d->out);
            break;
        default:
            putc(*s, d->out);
            break;
        }
    }
}

__attribute__((format(printf, 2, 3))) static void
s_putf(const s_doc_t *d, const char *fmt, ...)
{
    char text[S_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    s_put(d, text);
}

static void
s_heading(const s_doc_t *d, int level, const char *text)
{
    if (d->fmt == COUNTY_REPORT_MD) {
        fprintf(d->out, "%.*s %s\n\n", level, "######", text);
        return;
    }
    fprintf(d->out, "<h%d>", level);
    s_put(d, text);
    fprintf(d->out, "</h%d>\n", level);
}

static void
s_para_begin(const s_doc_t *d)
{
    if (d->fmt == COUNTY_REPORT_HTML) {
        fputs("<p>", d->out);
    }
}

static void
s_para_end(const s_doc_t *d)
{
    fputs(d->fmt == COUNTY_REPORT_HTML ? "</p>\n" : "\n\n", d->out);
}

/* A table: caption, header, rows; column 0 is text, the rest numbers
 * (right-aligned). */
static void
s_table_begin(const s_doc_t *d, const char *caption, size_t ncols, const char *const *head)
{
    if (d->fmt == COUNTY_REPORT_MD) {
        fprintf(d->out, "**%s**\n\n|", caption);
        for (size_t i = 0; i < ncols; i++) {
            fprintf(d->out, " %s |", head[i]);
        }
        fputs("\n|", d->out);
        for (size_t i = 0; i < ncols; i++) {
            fputs(i == 0 ? " --- |" : " ---: |", d->out);
        }
        fputc('\n', d->out);
        return;
    }
    fputs("<table>\n<caption>", d->out);
    s_put(d, caption);
    fputs("</caption>\n<thead><tr>", d->out);
    for (size_t i = 0; i < ncols; i++) {
        fputs(i == 0 ? "<th scope=\"col\">" : "<th scope=\"col\" class=\"num\">", d->out);
        s_put(d, head[i]);
        fputs("</th>", d->out);
    }
    fputs("</tr></thead>\n<tbody>\n", d->out);
}

static void
s_table_row(const s_doc_t *d, size_t ncols, const char *const *cells)
{
    if (d->fmt == COUNTY_REPORT_MD) {
        fputc('|', d->out);
        for (size_t i = 0; i < ncols; i++) {
            fprintf(d->out, " %s |", cells[i]);
        }
        fputc('\n', d->out);
        return;
    }
    fputs("<tr>", d->out);
    for (size_t i = 0; i < ncols; i++) {
        fputs(i == 0 ? "<th scope=\"row\">" : "<td class=\"num\">", d->out);
        s_put(d, cells[i]);
        fputs(i == 0 ? "</th>" : "</td>", d->out);
    }
    fputs("</tr>\n", d->out);
}

static void
s_table_end(const s_doc_t *d)
{
    fputs(d->fmt == COUNTY_REPORT_MD ? "\n" : "</tbody>\n</table>\n", d->out);
}

/* A row "label | items | persons". */
static void
s_count_row(const s_doc_t *d, const char *label, const county_count_t *c)
{
    char a[S_NUM], b[S_NUM];
    const char *cells[3] = {label, s_num(d, c->items, a), s_num(d, c->persons, b)};
    s_table_row(d, 3, cells);
}

/* ---- the section ---- */

static void
s_paragraph_zh(const s_doc_t *d, const county_report_t *r)
{
    char a[S_NUM], b[S_NUM], c[S_NUM], e[S_NUM], f[S_NUM], g[S_NUM];
    s_para_begin(d);
    s_putf(d,
           "%d年，全县共受理群众信访%s件（批）次、%s人次，其中个体访%s件次%s人次，集体访%s批次%"
           "s人次。",
           r->year, s_num(d, r->total.items, a), s_num(d, r->total.persons, b),
           s_num(d, r->individual.items, c), s_num(d, r->individual.persons, e),
           s_num(d, r->collective.items, f), s_num(d, r->collective.persons, g));
    for (int lv = S_IX(LEVEL, "county"); lv < COUNTY_REPORT_NLEVEL; lv++) {
        const county_count_t *l = r->level[lv];
        s_putf(d, "%s%s件（批）次%s人次（集体访%s批次%s人次，个体访%s件次%s人次）%s",
               s_level_lbl[lv].zh, s_num(d, l[0].items, a), s_num(d, l[0].persons, b),
               s_num(d, l[1].items, c), s_num(d, l[1].persons, e), s_num(d, l[2].items, f),
               s_num(d, l[2].persons, g), lv + 1 < COUNTY_REPORT_NLEVEL ? "；" : "。");
    }
    s_putf(d, "受理群众来信%s件，来电%s件，信箱%s件。",
           s_num(d, r->channel[S_IX(CHANNEL, "letter")].items, a),
           s_num(d, r->channel[S_IX(CHANNEL, "phone")].items, b),
           s_num(d, r->channel[S_IX(CHANNEL, "mailbox")].items, c));
    s_putf(d, "当场解决%s件（批）次，受理%s件（批）次，办结%s件（批）次。",
           s_num(d, r->outcome[S_IX(OUTCOME, "resolved_on_spot")].items, a),
           s_num(d, r->outcome[S_IX(OUTCOME, "accepted")].items, b),
           s_num(d, r->outcome[S_IX(OUTCOME, "closed")].items, c));
    s_putf(d, "受理上级交办案件%s件，办结%s件，撤回%s件，办结率%s。", s_num(d, r->assigned, a),
           s_num(d, r->assigned_concluded, b), s_num(d, r->assigned_withdrawn, c), s_rate(d, r, e));
    s_putf(d, "领导接访%s批（件）次%s人次。",
           s_num(d, r->source[S_IX(SOURCE, "leader_reception")].items, a),
           s_num(d, r->source[S_IX(SOURCE, "leader_reception")].persons, b));
    s_putf(d, "受理复查复核案件%s件，其中", s_num(d, r->source[S_IX(SOURCE, "review")].items, a));
    for (int k = 0; k < COUNTY_REPORT_NCATEGORY; k++) {
        s_putf(d, "%s%s件%s", s_category_lbl[k].zh, s_num(d, r->review[k].items, a),
               k + 1 < COUNTY_REPORT_NCATEGORY ? "、" : "。");
    }
    s_para_end(d);
}

static void
s_paragraph_en(const s_doc_t *d, const county_report_t *r)
{
    char a[S_NUM], b[S_NUM], c[S_NUM], e[S_NUM], f[S_NUM], g[S_NUM];
    s_para_begin(d);
    s_putf(d,
           "In %d the county received %s petition matters (individual matters and collective"
           " batches) involving %s person-times: %s individual (%s persons) and %s collective"
           " (%s persons). ",
           r->year, s_num(d, r->total.items, a), s_num(d, r->total.persons, b),
           s_num(d, r->individual.items, c), s_num(d, r->individual.persons, e),
           s_num(d, r->collective.items, f), s_num(d, r->collective.persons, g));
    for (int lv = S_IX(LEVEL, "county"); lv < COUNTY_REPORT_NLEVEL; lv++) {
        const county_count_t *l = r->level[lv];
        s_putf(d, "%s%s: %s matters, %s persons (collective %s / %s, individual %s / %s)%s",
               lv == S_IX(LEVEL, "county") ? "Lodged " : "", s_level_lbl[lv].en,
               s_num(d, l[0].items, a), s_num(d, l[0].persons, b), s_num(d, l[1].items, c),
               s_num(d, l[1].persons, e), s_num(d, l[2].items, f), s_num(d, l[2].persons, g),
               lv + 1 < COUNTY_REPORT_NLEVEL ? "; " : ". ");
    }
    s_putf(d, "Letters: %s; phone calls: %s; mailbox: %s. ",
           s_num(d, r->channel[S_IX(CHANNEL, "letter")].items, a),
           s_num(d, r->channel[S_IX(CHANNEL, "phone")].items, b),
           s_num(d, r->channel[S_IX(CHANNEL, "mailbox")].items, c));
    s_putf(d, "Resolved on the spot: %s; accepted: %s; closed: %s. ",
           s_num(d, r->outcome[S_IX(OUTCOME, "resolved_on_spot")].items, a),
           s_num(d, r->outcome[S_IX(OUTCOME, "accepted")].items, b),
           s_num(d, r->outcome[S_IX(OUTCOME, "closed")].items, c));
    s_putf(d,
           "Cases assigned by higher authorities: %s, of which %s concluded and %s withdrawn"
           " (closure rate %s). ",
           s_num(d, r->assigned, a), s_num(d, r->assigned_concluded, b),
           s_num(d, r->assigned_withdrawn, c), s_rate(d, r, e));
    s_putf(d, "Leader reception: %s matters, %s persons. ",
           s_num(d, r->source[S_IX(SOURCE, "leader_reception")].items, a),
           s_num(d, r->source[S_IX(SOURCE, "leader_reception")].persons, b));
    s_putf(d, "Review cases: %s (", s_num(d, r->source[S_IX(SOURCE, "review")].items, a));
    for (int k = 0; k < COUNTY_REPORT_NCATEGORY; k++) {
        s_putf(d, "%s %s%s", s_category_lbl[k].en, s_num(d, r->review[k].items, a),
               k + 1 < COUNTY_REPORT_NCATEGORY ? ", " : ").");
    }
    s_para_end(d);
}

static void
s_tables(const s_doc_t *d, const county_report_t *r)
{
    char n[6][S_NUM];
    const char *items = s_t(d, "件（批）次", "matters");
    const char *persons = s_t(d, "人次", "persons");

    const char *h1[3] = {"", items, persons};
    s_table_begin(d, s_t(d, "总量", "Totals"), 3, h1);
    s_count_row(d, s_t(d, "合计", "total"), &r->total);
    s_count_row(d, s_t(d, "个体访（件次）", "individual"), &r->individual);
    s_count_row(d, s_t(d, "集体访（批次）", "collective (batches)"), &r->collective);
    s_table_end(d);

    const char *h2[7] = {s_t(d, "去向", "lodged"),
                         items,
                         persons,
                         s_t(d, "集体访 批次", "collective"),
                         s_t(d, "集体访 人次", "collective persons"),
                         s_t(d, "个体访 件次", "individual"),
                         s_t(d, "个体访 人次", "individual persons")};
    s_table_begin(d, s_t(d, "按去向", "By level"), 7, h2);
    for (int lv = 0; lv < COUNTY_REPORT_NLEVEL; lv++) {
        const county_count_t *l = r->level[lv];
        const char *cells[7] = {s_l(d, &s_level_lbl[lv]),     s_num(d, l[0].items, n[0]),
                                s_num(d, l[0].persons, n[1]), s_num(d, l[1].items, n[2]),
                                s_num(d, l[1].persons, n[3]), s_num(d, l[2].items, n[4]),
                                s_num(d, l[2].persons, n[5])};
        s_table_row(d, 7, cells);
    }
    s_table_end(d);

    const char *h3[3] = {s_t(d, "渠道", "channel"), items, persons};
    s_table_begin(d, s_t(d, "按渠道", "By channel"), 3, h3);
    for (int i = 0; i < COUNTY_REPORT_NCHANNEL; i++) {
        s_count_row(d, s_l(d, &s_channel_lbl[i]), &r->channel[i]);
    }
    s_table_end(d);

    const char *h4[3] = {s_t(d, "处理结果", "outcome"), items, persons};
    s_table_begin(d, s_t(d, "按处理结果", "By outcome"), 3, h4);
    for (int i = 0; i < COUNTY_REPORT_NOUTCOME; i++) {
        s_count_row(d, s_l(d, &s_outcome_lbl[i]), &r->outcome[i]);
    }
    s_table_end(d);

    const char *h5[3] = {s_t(d, "来源", "source"), items, persons};
    s_table_begin(d, s_t(d, "按来源", "By source"), 3, h5);
    for (int i = 0; i < COUNTY_REPORT_NSOURCE; i++) {
        s_count_row(d, s_l(d, &s_source_lbl[i]), &r->source[i]);
    }
    s_table_end(d);

    const char *h6[5] = {"", s_t(d, "交办案件", "assigned cases"), s_t(d, "办结", "concluded"),
                         s_t(d, "撤回", "withdrawn"), s_t(d, "办结率", "closure rate")};
    s_table_begin(d, s_t(d, "上级交办案件", "Assigned cases"), 5, h6);
    const char *c6[5] = {s_t(d, "件", "matters"), s_num(d, r->assigned, n[0]),
                         s_num(d, r->assigned_concluded, n[1]),
                         s_num(d, r->assigned_withdrawn, n[2]), s_rate(d, r, n[3])};
    s_table_row(d, 5, c6);
    s_table_end(d);

    /* the four rates (sj_rates.h, docs/CLOCK.md §9): count, base, rate */
    const char *h8[4] = {"", s_t(d, "数量", "count"), s_t(d, "基数", "base"),
                         s_t(d, "比率", "rate")};
    s_table_begin(d, s_t(d, "服务质量（四率）", "Service (the four rates)"), 4, h8);
    const struct {
        const char *zh, *en;
        int64_t num, den;
    } rr[4] = {
        {"及时受理率", "timely acceptance", r->rates.accept_timely, r->rates.accept_decided},
        {"按期办结率", "on-time conclusion", r->rates.conclude_on_time, r->rates.conclude_done},
        {"满意率", "satisfaction", r->rates.satisfied, r->rates.evaluated},
        {"参评率", "participation", r->rates.evaluated, r->rates.concluded},
    };
    for (int i = 0; i < 4; i++) {
        char pct[S_NUM];
        int pm = sj_rate_permille(rr[i].num, rr[i].den);
        if (pm < 0) {
            snprintf(pct, sizeof pct, "—");
        } else {
            snprintf(pct, sizeof pct, "%d.%d%%", pm / 10, pm % 10);
        }
        const char *c8[4] = {s_t(d, rr[i].zh, rr[i].en), s_num(d, rr[i].num, n[0]),
                             s_num(d, rr[i].den, n[1]), pct};
        s_table_row(d, 4, c8);
    }
    const char *c9[4] = {s_t(d, "当前超期（任一阶段）", "overdue now (any stage)"),
                         s_num(d, r->overdue, n[0]), "", ""};
    s_table_row(d, 4, c9);
    s_table_end(d);

    const char *h7[3] = {s_t(d, "类别", "category"), items, persons};
    s_table_begin(d, s_t(d, "复查复核案件（按类别）", "Review cases by category"), 3, h7);
    for (int i = 0; i < COUNTY_REPORT_NCATEGORY; i++) {
        s_count_row(d, s_l(d, &s_category_lbl[i]), &r->review[i]);
    }
    s_count_row(d, s_t(d, "合计", "total"), &r->source[S_IX(SOURCE, "review")]);
    s_table_end(d);

    const char *h10[4] = {"", s_t(d, "约访", "appointments"), s_t(d, "已赴约", "kept"),
                          s_t(d, "未赴约", "missed")};
    s_table_begin(d, s_t(d, "约访（按约定日期）", "Appointments (by their day)"), 4, h10);
    const char *c10[4] = {s_t(d, "次", "appointments"), s_num(d, r->appt_made, n[0]),
                          s_num(d, r->appt_kept, n[1]), s_num(d, r->appt_missed, n[2])};
    s_table_row(d, 4, c10);
    s_table_end(d);
}

static const char s_html_head[] =
    "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>%s</title>\n<style>\n"
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.6}\n"
    "table{border-collapse:collapse;margin:1em 0}\n"
    "th,td{border:1px solid #999;padding:.2em .6em}\n"
    "caption{font-weight:bold;text-align:left}\n"
    ".num{text-align:right}\n"
    "</style>\n</head>\n<body>\n";

int
county_report_write(const county_report_t *r,
                    county_report_lang_t lang,
                    county_report_fmt_t fmt,
                    FILE *out)
{
    assert(r);
    assert(out);
    s_doc_t d = {.out = out, .fmt = fmt, .lang = lang};
    char title[128];
    snprintf(title, sizeof title, lang == COUNTY_REPORT_ZH ? "信访（%d年）" : "Petitions, %d",
             r->year);
    if (fmt == COUNTY_REPORT_HTML) {
        fprintf(out, s_html_head, lang == COUNTY_REPORT_ZH ? "zh-CN" : "en", title);
    }
    s_heading(&d, 2, title);
    if (lang == COUNTY_REPORT_ZH) {
        s_paragraph_zh(&d, r);
    } else {
        s_paragraph_en(&d, r);
    }
    if (r->db
        && county_lock_report_write(r->db, r->year, lang == COUNTY_REPORT_ZH,
                                    fmt == COUNTY_REPORT_HTML, out)
               != SJ_OK) {
        return SJ_EDB;
    }
    s_tables(&d, r);
    if (fmt == COUNTY_REPORT_HTML) {
        fputs("</body>\n</html>\n", out);
    }
    return fflush(out) == EOF || ferror(out) ? SJ_EIO : SJ_OK;
}
