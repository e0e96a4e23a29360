/* county_cases: cases and update, see county_cases.h. */
#include "county_cases.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "county_out.h"
#include "county_query.h"
#include "county_sql.h"
#include "county_store.h"
#include "sj_case.h"
#include "sj_cli.h"
#include "sj_clock_cli.h"
#include "sj_clock_db.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_periods_db.h"
#include "sj_places.h"
#include "sj_users.h"

static const char *const s_usage_cases =
    N_("usage: county-server cases [--overdue] [--open] [--township CODE9]\n"
       "                           [--source assigned|direct|leader_reception|review]\n"
       "                           [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--conflicts]\n"
       "                           [--format table|json|csv]\n"
       "\n"
       "Every matter as a case: its current outcome, when it last changed, how many\n"
       "status changes it had, whether two changes conflicted (made from the same\n"
       "state, e.g. one closed it while another withdrew it), and its assignment:\n"
       "assigned (yes: it has an assignment, or was reported with source assigned),\n"
       "assignee and due date of its current assignment (the latest made), days\n"
       "left until the due date (open cases; negative when overdue) and overdue.\n"
       "The statutory clock (docs/CLOCK.md): each stage's due date and, while it\n"
       "runs, days left: acceptance (received + 15), conclusion (accepted + 60 +\n"
       "extensions), review (requested + 30); clock_overdue = a running stage past\n"
       "its due date. Open = pending or accepted; overdue = open and past its 交办\n"
       "due date (today: the local date, or SANJI_TODAY); overdue_what names every\n"
       "stage overdue and the assignment. Status changes whose "
       "report has not arrived yet are listed with\n"
       "outcome 'orphan' (only when no filter on the matter is given); they are\n"
       "applied when the report arrives. Filters combine.\n"
       "\n"
       "  --overdue           only open cases past their due date\n"
       "  --open              only open cases (pending or accepted)\n"
       "  --township CODE9    only this township's cases\n"
       "  --source S          by the reported source; 'assigned' selects every\n"
       "                      assigned case (also those assigned after the report)\n"
       "  --from D, --to D    occurred date, inclusive (YYYY-MM-DD)\n"
       "  --conflicts         only cases with a conflict\n"
       "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
       "  --extend-count N    the statutory periods (general keys of [county-server];\n"
       "                      defaults 15, 60, 30, 30, 1; docs/CLOCK.md)\n"
       "  --format F          table (default), json, csv\n"
       "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
       "  --labels zh|en      csv: the header and the values as a person reads them\n"
       "  --data DIR, --config FILE, --log-level LEVEL   as for every command\n"
       "In the --config file these options are keys of [cases] (flags win).\n");

static const char *const s_usage_update =
    N_("usage: county-server update CASE-ID --outcome O [--note TEXT] [--officer X]\n"
       "                            [--satisfaction S]\n"
       "\n"
       "Records a status change made at the county (an event of the county's own\n"
       "stream, origin the county code or 000000 when the store has none). Allowed:\n"
       "  pending -> resolved_on_spot, accepted, withdrawn\n"
       "  accepted -> closed, withdrawn\n"
       "  closed -> accepted, resolved_on_spot -> accepted   (a review reopens it)\n"
       "  withdrawn is final\n"
       "An unknown case or a change not allowed is refused with the reason (exit 1,\n"
       "nothing stored). Prints the new event's id, and the outcome in force after\n"
       "it (exit 1 when the change was stored but is not the one in force).\n"
       "--satisfaction S with a conclusion (closed, resolved_on_spot): the\n"
       "petitioner's evaluation, 满意 satisfied, 基本满意 basically, 不满意\n"
       "dissatisfied, 未评价 not_evaluated (later: county-server evaluate).\n"
       "In the --config file these options are keys of [update] (flags win).\n");

enum {
    O_DATA = 1000,
    O_CONFIG,
    O_LOG,
    O_FORMAT,
    O_TOWNSHIP,
    O_CONFLICTS,
    O_OUTCOME,
    O_NOTE,
    O_OFFICER,
    O_OVERDUE,
    O_OPEN,
    O_SOURCE,
    O_FROM,
    O_TO,
    O_BOM,
    O_LABELS,
    O_P_ACCEPT,
    O_P_CONCLUDE,
    O_P_REVIEW,
    O_P_EXTEND_MAX,
    O_P_EXTEND_COUNT,
    O_SATISFACTION,
    O_HELP
};

const struct option county_cases_options[] = {
    {"data", required_argument, NULL, O_DATA},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"format", required_argument, NULL, O_FORMAT},
    {"township", required_argument, NULL, O_TOWNSHIP},
    {"conflicts", no_argument, NULL, O_CONFLICTS},
    {"outcome", required_argument, NULL, O_OUTCOME},
    {"note", required_argument, NULL, O_NOTE},
    {"officer", required_argument, NULL, O_OFFICER},
    {"overdue", no_argument, NULL, O_OVERDUE},
    {"open", no_argument, NULL, O_OPEN},
    {"source", required_argument, NULL, O_SOURCE},
    {"from", required_argument, NULL, O_FROM},
    {"to", required_argument, NULL, O_TO},
    {"bom", no_argument, NULL, O_BOM},
    {"labels", required_argument, NULL, O_LABELS},
    {"accept-days", required_argument, NULL, O_P_ACCEPT},
    {"conclude-days", required_argument, NULL, O_P_CONCLUDE},
    {"review-days", required_argument, NULL, O_P_REVIEW},
    {"extend-max-days", required_argument, NULL, O_P_EXTEND_MAX},
    {"extend-count", required_argument, NULL, O_P_EXTEND_COUNT},
    {"satisfaction", required_argument, NULL, O_SATISFACTION},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

int
county_cases_check(const county_cases_filter_t *f, char *err, size_t err_size)
{
    county_filter_t q = {
        .from = f->from, .to = f->to, .township = f->township, .source = f->source};
    return county_filter_check(&q, err, err_size);
}

/* The cases of matters, then the orphans (changes whose report is not
 * here; they have no matter fields, so any filter on those leaves them
 * out). With overdue_only the rows are read from the assignments side
 * (a small table, joined to matters by primary key) instead of scanning
 * every matter. ?1 township, ?2 conflicts only, ?3 from, ?4 to, ?5 source
 * (0 any, 3 = the assigned cases), ?6 open only, ?7 overdue only, ?8 today. */
#define S_CASES_SELECT                                                                            \
    " SELECT m.id AS cid, m.origin AS station, m.township AS township, m.outcome AS outcome,"     \
    "  (SELECT s.created_ms FROM status_changes s WHERE s.case_id = m.id AND s.applied = 2)"      \
    "  AS last,"                                                                                  \
    "  (SELECT count(*) FROM status_changes s WHERE s.case_id = m.id) AS n,"                      \
    "  EXISTS(SELECT 1 FROM conflicts c WHERE c.case_id = m.id) AS conflict,"                     \
    "  m.occurred_on AS occurred_on, m.category AS category, m.source AS source,"                 \
    "  (m.source = 3 OR a.a_case IS NOT NULL) AS assigned, a.a_to AS assignee,"                   \
    "  a.a_due AS due_on, CASE WHEN m.outcome IN " SJ_OUTCOME_OPEN_SQL " AND a.a_due IS NOT NULL" \
    "  THEN CAST(round(julianday(a.a_due) - julianday(?8)) AS INTEGER) END AS days_left,"         \
    "  m.reported_outcome AS reported_outcome,"                                                   \
    "  coalesce((SELECT v.satisfaction FROM evaluations v WHERE v.case_id = m.id"                 \
    "   ORDER BY v.row DESC LIMIT 1), (SELECT s.satisfaction FROM status_changes s"               \
    "   WHERE s.case_id = m.id AND s.applied = 2), 0) AS satisfaction"
#define S_CASES_CURRENT COUNTY_FIGS_CURRENT_ASSIGNMENT_SQL
#define S_CASES_WHERE                                                                   \
    " WHERE (?1 IS NULL OR m.township = ?1)"                                            \
    "  AND (?3 IS NULL OR m.occurred_on >= ?3) AND (?4 IS NULL OR m.occurred_on <= ?4)" \
    "  AND (?5 = 0 OR (?5 = 3 AND (m.source = 3 OR a.a_case IS NOT NULL))"              \
    "   OR (?5 <> 3 AND m.source = ?5))"                                                \
    "  AND (?6 = 0 OR m.outcome IN " SJ_OUTCOME_OPEN_SQL ")"                            \
    "  AND (?7 = 0 OR (m.outcome IN " SJ_OUTCOME_OPEN_SQL " AND a.a_due < ?8))"         \
    "  AND (?9 IS NULL OR a.a_to = ?9)"
#define S_CASES_ORPHANS                                                                            \
    " UNION ALL"                                                                                   \
    " SELECT s.case_id, '', '', 0, max(s.created_ms), count(*), 0, '', 0, 0, 0, NULL, NULL, NULL," \
    "  0, 0"                                                                                       \
    " FROM status_changes s"                                                                       \
    " WHERE NOT EXISTS(SELECT 1 FROM matters m WHERE m.id = s.case_id)"                            \
    "  AND NOT EXISTS(SELECT 1 FROM matters_voided v WHERE v.id = s.case_id)"                      \
    "  AND (?1 IS NULL OR substr(s.origin, 1, 9) = ?1)"                                            \
    "  AND ?3 IS NULL AND ?4 IS NULL AND ?5 = 0 AND ?6 = 0 AND ?7 = 0 AND ?9 IS NULL"              \
    " GROUP BY s.case_id"
#define S_CASES_END ") WHERE ?2 = 0 OR conflict ORDER BY township, station, cid"

static const char s_cases_sql[] =
    "SELECT * FROM (" S_CASES_SELECT " FROM matters m LEFT JOIN " S_CASES_CURRENT
    " a ON a.a_case = m.id" S_CASES_WHERE S_CASES_ORPHANS S_CASES_END;

static const char *const s_cases_names[COUNTY_CASES_NCOLS] = {
    "case_id",      "station",       "township",      "outcome",     "last_change",
    "changes",      "conflict",      "occurred_on",   "category",    "source",
    "assigned",     "assignee",      "due_on",        "days_left",   "overdue",
    "station_name", "township_name", "assignee_name", "accept_due",  "accept_left",
    "conclude_due", "conclude_left", "review_due",    "review_left", "overdue_what",
    "satisfaction", "clock_overdue"};
static const sj_col_type_t s_cases_types[COUNTY_CASES_NCOLS] = {
    SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT,
    SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
    SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT,
    SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};

/* The cases cursor: one statement, one row's cells at a time. */
struct county_cases {
    sqlite3 *db;           /* borrowed */
    sqlite3_stmt *st;      /* s_cases_sql */
    const char *sql;       /* for the error log */
    char today[11];        /* for overdue and days_left */
    char id[SJ_UUID_TEXT]; /* the row's cells' buffers */
    char when[COUNTY_SQL_TIME];
    char n[COUNTY_SQL_NUM], days[COUNTY_SQL_NUM];
    sj_clock_db_t *clock; /* the statutory clock of each row */
    sj_periods_t periods;
    int overdue_only; /* rows filtered here: 交办 or a stage overdue */
    char left[SJ_STAGE_N][COUNTY_SQL_NUM];
    char what[64];
    sj_clock_t clk;
    const char *cells[COUNTY_CASES_NCOLS];
    sj_places_map_t *places; /* issue 15: names beside the codes */
};

/* A code's name, or the code (NULL stays NULL). */
static const char *
s_place(const sj_places_map_t *places, const unsigned char *code)
{
    const char *n = code ? sj_places_map_get(places, (const char *) code) : NULL;
    return n ? n : (const char *) code;
}

static int s_cases_row(county_cases_t *self, const char *const **cells, char *err, size_t err_size);

const char *const *
county_cases_names(void)
{
    return s_cases_names;
}

const sj_col_type_t *
county_cases_types(void)
{
    return s_cases_types;
}

int
county_cases_open(
    sqlite3 *db, const county_cases_filter_t *f, county_cases_t **out, char *err, size_t err_size)
{
    *out = NULL;
    int rc = county_cases_check(f, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    county_cases_t *self = calloc(1, sizeof *self);
    if (!self) {
        return county_sql_nomem(err, err_size);
    }
    self->db = db;
    self->places = sj_places_map_load(db);
    if (f->today) {
        snprintf(self->today, sizeof self->today, "%s", f->today);
    } else {
        sj_date_today(self->today);
    }
    /* Every open case is read (not the assignments side only): the clock of
     * each row is computed for its columns. */
    self->sql = s_cases_sql;
    self->overdue_only = f->overdue_only;
    if (f->periods) {
        self->periods = *f->periods;
    } else if (sj_periods_db_get(db, &self->periods, NULL) != SJ_OK) {
        sj_periods_default(&self->periods); /* an older store: the defaults */
    }
    if (sj_clock_db_open(db, COUNTY_CLOCK_CHANGES_SQL, &self->clock) != SJ_OK) {
        rc = county_sql_fail(db, sqlite3_errcode(db), "cannot read the clock",
                             COUNTY_CLOCK_CHANGES_SQL, err, err_size);
        county_cases_close(&self);
        return rc;
    }
    int src = sqlite3_prepare_v2(db, self->sql, -1, &self->st, NULL);
    if (src != SQLITE_OK) {
        rc = county_sql_fail(db, src, "cannot read cases", self->sql, err, err_size);
        county_cases_close(&self);
        return rc;
    }
    sqlite3_stmt *st = self->st;
    /* the first failing bind stops the rest (and is reported) */
    int b = f->township ? sqlite3_bind_text(st, 1, f->township, -1, SQLITE_STATIC) : SQLITE_OK;
    b = b ? b : sqlite3_bind_int(st, 2, f->conflicts_only ? 1 : 0);
    b = b || !f->from ? b : sqlite3_bind_text(st, 3, f->from, -1, SQLITE_STATIC);
    b = b || !f->to ? b : sqlite3_bind_text(st, 4, f->to, -1, SQLITE_STATIC);
    b = b ? b : sqlite3_bind_int(st, 5, f->source ? sj_enum_value(SJ_FIELD_SOURCE, f->source) : 0);
    b = b ? b : sqlite3_bind_int(st, 6, f->open_only || f->overdue_only ? 1 : 0);
    b = b ? b : sqlite3_bind_int(st, 7, 0);
    b = b ? b : sqlite3_bind_text(st, 8, self->today, -1, SQLITE_STATIC);
    b = b || !f->assignee ? b : sqlite3_bind_text(st, 9, f->assignee, -1, SQLITE_STATIC);
    if (b != SQLITE_OK) {
        rc = county_sql_fail(db, b, "cannot bind the selection", self->sql, err, err_size);
        county_cases_close(&self);
        return rc;
    }
    *out = self;
    return SJ_OK;
}

int
county_cases_next(county_cases_t *self, const char *const **cells, char *err, size_t err_size)
{
    int rc;
    do {
        rc = s_cases_row(self, cells, err, err_size);
    } while (rc == SJ_OK && self->overdue_only && !(*cells)[14][0]);
    return rc;
}

static int
s_cases_row(county_cases_t *self, const char *const **cells, char *err, size_t err_size)
{
    sqlite3_stmt *st = self->st;
    *cells = NULL;
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        return SJ_ENOTFOUND;
    }
    if (step != SQLITE_ROW) {
        return county_sql_fail(self->db, step, "cannot read cases", self->sql, err, err_size);
    }
    self->id[0] = self->when[0] = '\0';
    if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
        sj_uuid_format(sqlite3_column_blob(st, 0), self->id);
    }
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        county_sql_iso_utc(sqlite3_column_int64(st, 4), self->when);
    }
    snprintf(self->n, sizeof self->n, "%lld", sqlite3_column_int64(st, 5));
    snprintf(self->days, sizeof self->days, "%lld", sqlite3_column_int64(st, 13));
    int open = sj_outcome_is_open(sqlite3_column_int(st, 3));
    const char *due = (const char *) sqlite3_column_text(st, 12);
    const char *outcome = sj_enum_name(SJ_FIELD_OUTCOME, sqlite3_column_int(st, 3));
    const char *category = sj_enum_name(SJ_FIELD_CATEGORY, sqlite3_column_int(st, 8));
    const char *source = sj_enum_name(SJ_FIELD_SOURCE, sqlite3_column_int(st, 9));
    int assign_overdue = open && due && strcmp(due, self->today) < 0;
    sj_clock_t *clkp = &self->clk; /* the cells point into it */
    memset(clkp, 0, sizeof *clkp);
    const char *occurred = (const char *) sqlite3_column_text(st, 7);
    if (outcome && occurred && occurred[0]) {
        int rc = sj_clock_db_case(self->clock, sqlite3_column_blob(st, 0), occurred,
                                  sqlite3_column_int(st, 14), sqlite3_column_int(st, 9),
                                  &self->periods, self->today, clkp);
        if (rc != SJ_OK && rc != SJ_EINVAL) {
            return county_sql_fail(self->db, sqlite3_errcode(self->db), "cannot read the clock",
                                   COUNTY_CLOCK_CHANGES_SQL, err, err_size);
        }
    }
    const sj_clock_t clk = *clkp;
    for (int k = SJ_STAGE_ACCEPT; k <= SJ_STAGE_REVIEW; k++) {
        snprintf(self->left[k], sizeof self->left[k], "%lld", (long long) clk.st[k].left);
    }
    sj_clock_overdue_what(&clk, assign_overdue, self->what, sizeof self->what);
#define S_DUE(k)  (clk.st[k].active ? clkp->st[k].due : NULL)
#define S_LEFT(k) (clk.st[k].active && !clk.st[k].done ? self->left[k] : NULL)
    const char *row[COUNTY_CASES_NCOLS] = {self->id,
                                           (const char *) sqlite3_column_text(st, 1),
                                           (const char *) sqlite3_column_text(st, 2),
                                           outcome ? outcome : "orphan",
                                           self->when,
                                           self->n,
                                           sqlite3_column_int(st, 6) ? "yes" : "",
                                           (const char *) sqlite3_column_text(st, 7),
                                           category ? category : "",
                                           source ? source : "",
                                           sqlite3_column_int(st, 10) ? "yes" : "",
                                           (const char *) sqlite3_column_text(st, 11),
                                           due,
                                           sqlite3_column_type(st, 13) == SQLITE_NULL ? NULL
                                                                                      : self->days,
                                           assign_overdue ? "yes" : "",
                                           s_place(self->places, sqlite3_column_text(st, 1)),
                                           s_place(self->places, sqlite3_column_text(st, 2)),
                                           s_place(self->places, sqlite3_column_text(st, 11)),
                                           S_DUE(SJ_STAGE_ACCEPT),
                                           S_LEFT(SJ_STAGE_ACCEPT),
                                           S_DUE(SJ_STAGE_CONCLUDE),
                                           S_LEFT(SJ_STAGE_CONCLUDE),
                                           S_DUE(SJ_STAGE_REVIEW),
                                           S_LEFT(SJ_STAGE_REVIEW),
                                           self->what,
                                           sj_outcome_is_concluded(sqlite3_column_int(st, 3))
                                               ? sj_satisfaction_name(sqlite3_column_int(st, 15))
                                               : NULL,
                                           clk.overdue ? "yes" : ""};
#undef S_DUE
#undef S_LEFT
    memcpy(self->cells, row, sizeof row);
    *cells = self->cells;
    return SJ_OK;
}

void
county_cases_close(county_cases_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sqlite3_finalize((*self_p)->st);
    sj_places_map_free(&(*self_p)->places);
    sj_clock_db_close(&(*self_p)->clock);
    free(*self_p);
    *self_p = NULL;
}

static int
s_cases_next(void *cursor, const char *const **cells, char *err, size_t err_size)
{
    return county_cases_next(cursor, cells, err, err_size);
}

int
county_cases_query(sqlite3 *db,
                   const county_cases_filter_t *f,
                   sj_format_t fmt,
                   FILE *out,
                   char *err,
                   size_t err_size)
{
    county_cases_t *cur = NULL;
    int rc = county_cases_open(db, f, &cur, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_rows(COUNTY_CASES_NCOLS, s_cases_names, s_cases_types, s_cases_next, cur,
                             fmt, out, err, err_size);
    }
    county_cases_close(&cur);
    return rc;
}

int
county_cases_write(
    sqlite3 *db, const char *township, int conflicts_only, sj_format_t fmt, FILE *out)
{
    county_cases_filter_t f = {.township = township, .conflicts_only = conflicts_only};
    char err[512] = "";
    int rc = county_cases_query(db, &f, fmt, out, err, sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
    }
    return rc;
}

typedef struct {
    const char *data, *log_level, *format, *township, *outcome, *note, *officer;
    const char *source, *from, *to, *labels;
    const char *periods[5]; /* SJ_PERIOD_KEYS */
    const char *satisfaction;
    int conflicts, overdue, open, help, bom;
} s_args_t;

static int
s_cases(const s_args_t *a, sj_format_t fmt)
{
    if (a->outcome || a->note || a->officer || a->satisfaction) {
        fprintf(stderr, _("county-server: cases does not take --outcome, --note, --officer or"
                          " --satisfaction\n"));
        return 2;
    }
    county_cases_filter_t f = {.township = a->township,
                               .source = a->source,
                               .from = a->from,
                               .to = a->to,
                               .conflicts_only = a->conflicts,
                               .open_only = a->open,
                               .overdue_only = a->overdue};
    sj_periods_t p;
    if (sj_clock_cli_periods_vals("county-server", a->periods, &p)) {
        return 2;
    }
    char err[512] = "";
    if (county_cases_check(&f, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    /* the periods the county holds (run's), with the options given over them */
    sj_periods_t held;
    if (sj_periods_db_get(county_store_db(st), &held, NULL) == SJ_OK
        && sj_clock_cli_periods_over("county-server", a->periods, &held, &p) == 0) {
        f.periods = &p;
    }
    int rc = county_cases_query(county_store_db(st), &f, fmt, stdout, err, sizeof err);
    county_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
    }
    return rc == SJ_OK ? 0 : 1;
}

int
county_update_check(const char *id_text,
                    const char *outcome_name,
                    const char *satisfaction_name,
                    int *satisfaction,
                    const char *note,
                    const char *officer,
                    uint8_t id[SJ_ID_BYTES],
                    int *outcome,
                    char *err,
                    size_t err_size)
{
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, _("'%.64s' is not a case id (a UUID)"), id_text ? id_text : "");
        return SJ_EINVAL;
    }
    *outcome = outcome_name ? sj_enum_value(SJ_FIELD_OUTCOME, outcome_name) : 0;
    if (!*outcome) {
        char list[320];
        sj_enum_list_lang(SJ_FIELD_OUTCOME, sj_i18n_lang(), list, sizeof list);
        snprintf(err, err_size, _("--outcome is required, one of: %s"), list);
        return SJ_EINVAL;
    }
    *satisfaction = 0;
    if (satisfaction_name && satisfaction_name[0]) {
        *satisfaction = sj_satisfaction_value(satisfaction_name);
        if (!*satisfaction) {
            snprintf(err, err_size,
                     _("--satisfaction '%.64s': give 满意 (satisfied), 基本满意 (basically),"
                       " 不满意 (dissatisfied) or 未评价 (not_evaluated)"),
                     satisfaction_name);
            return SJ_EINVAL;
        }
        if (!sj_outcome_is_concluded(*outcome)) {
            snprintf(err, err_size, "%s",
                     _("--satisfaction goes with a conclusion (--outcome closed or"
                       " resolved_on_spot); later, use 'evaluate'"));
            return SJ_EINVAL;
        }
    }
    note = note ? note : "";
    officer = officer ? officer : "";
    if (strlen(note) > SJ_MAX_NOTE_BYTES || !sj_utf8_valid(note, strlen(note))
        || strlen(officer) > SJ_MAX_OFFICER_BYTES || !sj_utf8_valid(officer, strlen(officer))) {
        snprintf(err, err_size,
                 _("--note (at most %d bytes) and --officer (at most %d) must be UTF-8 text"),
                 SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
county_update_do(county_store_t *st,
                 const char *id_text,
                 const char *outcome_name,
                 const char *satisfaction_name,
                 const char *note,
                 const char *officer,
                 const char *account,
                 sj_update_result_t *res,
                 int *outcome,
                 char *err,
                 size_t err_size)
{
    uint8_t id[SJ_ID_BYTES];
    int satisfaction = 0;
    int rc = county_update_check(id_text, outcome_name, satisfaction_name, &satisfaction, note,
                                 officer, id, outcome, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = county_store_update_by(st, id, *outcome, satisfaction, note ? note : "",
                                officer ? officer : "", account, res, err, err_size);
    return rc == SJ_EINVAL || rc == SJ_ENOTFOUND ? SJ_EFORBIDDEN : rc;
}

static int
s_update(const s_args_t *a, const char *id_text)
{
    if (a->township || a->conflicts || a->format || a->overdue || a->open || a->source || a->from
        || a->to) {
        fprintf(stderr, _("county-server: update takes --outcome, --note and --officer only\n"));
        return 2;
    }
    uint8_t id[SJ_ID_BYTES];
    int outcome = 0, satisfaction = 0;
    char err[512] = "";
    if (county_update_check(id_text, a->outcome, a->satisfaction, &satisfaction, a->note,
                            a->officer, id, &outcome, err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    sj_update_result_t res;
    int rc = county_update_do(st, id_text, a->outcome, a->satisfaction, a->note, a->officer, NULL,
                              &res, &outcome, err, sizeof err);
    int code = 1;
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
    } else {
        char where[64];
        snprintf(where, sizeof where, "event of origin %s", county_store_origin(st));
        code = sj_update_report("county-server", id_text, outcome, &res, where);
    }
    char detail[800];
    snprintf(detail, sizeof detail, "case %.40s outcome %.32s%s%.600s", id_text, a->outcome,
             rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    sj_audit_cli(county_store_db(st), "update", detail, rc == SJ_OK);
    county_store_close(&st);
    return code;
}

int
county_cases_main(int argc, char **argv)
{
    s_args_t a;
    memset(&a, 0, sizeof a);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", county_cases_options, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            a.data = optarg;
            break;
        case O_CONFIG:
            break; /* read by sj_cfg_apply in main() */
        case O_LOG:
            a.log_level = optarg;
            break;
        case O_FORMAT:
            a.format = optarg;
            break;
        case O_TOWNSHIP:
            a.township = optarg;
            break;
        case O_CONFLICTS:
            a.conflicts = 1;
            break;
        case O_OVERDUE:
            a.overdue = 1;
            break;
        case O_OPEN:
            a.open = 1;
            break;
        case O_SOURCE:
            a.source = optarg;
            break;
        case O_FROM:
            a.from = optarg;
            break;
        case O_TO:
            a.to = optarg;
            break;
        case O_OUTCOME:
            a.outcome = optarg;
            break;
        case O_BOM:
            a.bom = 1;
            break;
        case O_LABELS:
            a.labels = optarg;
            break;
        case O_NOTE:
            a.note = optarg;
            break;
        case O_SATISFACTION:
            a.satisfaction = optarg;
            break;
        case O_P_ACCEPT:
        case O_P_CONCLUDE:
        case O_P_REVIEW:
        case O_P_EXTEND_MAX:
        case O_P_EXTEND_COUNT:
            a.periods[c - O_P_ACCEPT] = optarg;
            break;
        case O_OFFICER:
            a.officer = optarg;
            break;
        case O_HELP:
        case 'h':
            a.help = 1;
            break;
        default:
            fprintf(stderr, _("county-server: unknown or incomplete option '%s' (see --help)\n"),
                    argv[optind - 1]);
            return 2;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : "";
    int is_update = strcmp(cmd, "update") == 0;
    if (a.help) {
        fputs(_(is_update ? s_usage_update : s_usage_cases), stdout);
        return 0;
    }
    int npos = argc - optind - 1;
    if (npos != (is_update ? 1 : 0)) {
        fputs(_(is_update ? s_usage_update : s_usage_cases), stderr);
        return 2;
    }
    int rc = 2;
    if (!a.data) {
        a.data = "./var/county-server";
    }
    sj_format_t fmt = SJ_FMT_TABLE;
    if (a.format && sj_format_parse(a.format, &fmt) != SJ_OK) {
        fprintf(stderr, _("county-server: --format '%s' is not one of table, json, csv\n"),
                a.format);
        goto out;
    }
    sj_csv_opts_t csv = {.bom = a.bom, .labels = a.labels != NULL, .lang = SJ_LANG_ZH};
    if (a.labels && sj_lang_parse(a.labels, &csv.lang) != SJ_OK) {
        fprintf(stderr, _("county-server: --labels '%s' is not one of zh, en\n"), a.labels);
        goto out;
    }
    if ((a.bom || a.labels) && (is_update || fmt != SJ_FMT_CSV)) {
        fprintf(stderr, _("county-server: --%s is for cases --format csv only\n"),
                a.bom ? "bom" : "labels");
        goto out;
    }
    sj_table_csv_opts_set(&csv);
    if ((rc = sj_cli_start("county-server", a.log_level)) != 0) {
        goto out;
    }
    rc = is_update ? s_update(&a, argv[optind + 1]) : s_cases(&a, fmt);
out:
    return rc;
}
