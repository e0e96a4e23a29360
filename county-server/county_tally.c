/* county_tally: the tallies' key, accumulator and planner, see
 * county_tally.h. */
#include "county_tally.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_sql.h"
#include "sj_db.h"
#include "sj_wire.h"

/* ---- the key ---- */

/* The decimal number of the n digits at p (a checked date). */
static int64_t
s_digits(const char *p, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

#define S_KEY_TERM_C(e, col, field, place) +(int64_t) (e)[field] * (place)

int64_t
county_tally_kind_key(const char *month, const uint8_t e[SJ_FIELD_COUNT])
{
    int64_t yyyymm = s_digits(month, 4) * 100 + s_digits(month + 5, 2);
    return yyyymm * COUNTY_TALLY_KEY_MONTH COUNTY_TALLY_KEY_FIELDS(S_KEY_TERM_C, e);
}

int
county_tally_rebuild(sqlite3 *db)
{
    int rc = sj_db_exec(db, COUNTY_TALLY_REBUILD_SQL);
    return rc == SJ_OK ? sj_db_exec(db, COUNTY_TALLY_FIELD_REBUILD_SQL) : rc;
}

/* ---- the accumulator ---- */

#define S_PLACE_ADD                                                                             \
    "INSERT INTO tally_place(day, origin, township, items, persons) VALUES(?1, ?2, ?3, ?4, ?5)" \
    " ON CONFLICT(day, origin, township) DO UPDATE SET items = items + excluded.items,"         \
    " persons = persons + excluded.persons"
#define S_KIND_ADD                                                                             \
    "INSERT INTO tally_kind(k, month, channel, kind, level, category, outcome, source, items," \
    " persons) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"                                \
    " ON CONFLICT(k) DO UPDATE SET items = items + excluded.items,"                            \
    " persons = persons + excluded.persons"
#define S_FIELD_ADD                                                                            \
    "INSERT INTO tally_field(month, township, field, value, items, persons)"                   \
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(month, township, field, value) DO UPDATE SET" \
    " items = items + excluded.items, persons = persons + excluded.persons"

/* Open addressing; a batch holds at most SJ_WIRE_MAX_BATCH reports, so half
 * the slots are always free within one (tally_field gets six keys per
 * report, so its table is 4x bigger: under half of it too). */
#define S_SLOTS       4096
#define S_FIELD_SLOTS (4 * S_SLOTS)
_Static_assert(SJ_WIRE_MAX_BATCH <= S_SLOTS / 2, "a batch fills under half the slots");
_Static_assert(SJ_WIRE_MAX_BATCH *SJ_FIELD_COUNT <= S_FIELD_SLOTS / 2,
               "a batch fills under half the field slots");

typedef struct {
    uint32_t hash;                /* 0: free */
    char day[11];                 /* tally_place: YYYY-MM-DD; tally_kind, tally_field: YYYY-MM */
    char origin[SJ_CODE_MAX + 1]; /* tally_place: station; tally_field: township */
    uint8_t e[SJ_FIELD_COUNT];    /* tally_kind: the enum values; tally_field: field, value */
    int64_t items, persons;
} s_slot_t;

/* One hash table of sums. */
typedef struct {
    s_slot_t *slots;
    uint16_t *used; /* the indexes of the claimed slots */
    size_t n_used;
    uint32_t mask; /* slots - 1 */
} s_table_t;

struct county_tally_acc {
    sqlite3 *db;            /* borrowed */
    sqlite3_stmt *st_place; /* S_PLACE_ADD */
    sqlite3_stmt *st_kind;  /* S_KIND_ADD */
    sqlite3_stmt *st_field; /* S_FIELD_ADD */
    s_table_t place, kind, field;
    int failed; /* an early flush's error, returned by the next flush */
    s_slot_t place_slots[S_SLOTS], kind_slots[S_SLOTS], field_slots[S_FIELD_SLOTS];
    uint16_t place_used[S_SLOTS], kind_used[S_SLOTS], field_used[S_FIELD_SLOTS];
};

static uint32_t
s_hash(const void *data, size_t len, uint32_t h)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 16777619u; /* FNV-1a */
    }
    return h;
}

/* The slot of key (day, origin, e) in t, claimed if new. */
static s_slot_t *
s_slot(s_table_t *t, const char *day, size_t day_len, const char *origin, const uint8_t *e)
{
    uint32_t h = s_hash(day, day_len, 2166136261u);
    h = s_hash(origin, strlen(origin), h);
    h = s_hash(e, SJ_FIELD_COUNT, h);
    h |= 1; /* never 0 */
    for (uint32_t i = h;; i++) {
        s_slot_t *sl = &t->slots[i & t->mask];
        if (sl->hash == 0) {
            sl->hash = h;
            memcpy(sl->day, day, day_len);
            sl->day[day_len] = '\0';
            snprintf(sl->origin, sizeof sl->origin, "%s", origin);
            memcpy(sl->e, e, SJ_FIELD_COUNT);
            sl->items = sl->persons = 0;
            t->used[t->n_used++] = (uint16_t) (i & t->mask);
            return sl;
        }
        if (sl->hash == h && strncmp(sl->day, day, day_len) == 0 && sl->day[day_len] == '\0'
            && strcmp(sl->origin, origin) == 0 && memcmp(sl->e, e, SJ_FIELD_COUNT) == 0) {
            return sl;
        }
    }
}

static void
s_table_clear(s_table_t *t)
{
    for (size_t i = 0; i < t->n_used; i++) {
        t->slots[t->used[i]].hash = 0;
    }
    t->n_used = 0;
}

static int
s_half_full(const s_table_t *t)
{
    return t->n_used >= (t->mask + 1) / 2;
}

county_tally_acc_t *
county_tally_acc_new(sqlite3 *db)
{
    county_tally_acc_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->db = db;
    self->place = (s_table_t){self->place_slots, self->place_used, 0, S_SLOTS - 1};
    self->kind = (s_table_t){self->kind_slots, self->kind_used, 0, S_SLOTS - 1};
    self->field = (s_table_t){self->field_slots, self->field_used, 0, S_FIELD_SLOTS - 1};
    if (sj_db_prepare(db, S_PLACE_ADD, &self->st_place) != SJ_OK
        || sj_db_prepare(db, S_KIND_ADD, &self->st_kind) != SJ_OK
        || sj_db_prepare(db, S_FIELD_ADD, &self->st_field) != SJ_OK) {
        county_tally_acc_destroy(&self);
        return NULL;
    }
    return self;
}

void
county_tally_acc_destroy(county_tally_acc_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    county_tally_acc_t *self = *self_p;
    sqlite3_finalize(self->st_place);
    sqlite3_finalize(self->st_kind);
    sqlite3_finalize(self->st_field);
    free(self);
    *self_p = NULL;
}

void
county_tally_acc_clear(county_tally_acc_t *self)
{
    s_table_clear(&self->place);
    s_table_clear(&self->kind);
    s_table_clear(&self->field);
    self->failed = SJ_OK;
}

static int s_write(county_tally_acc_t *self);

void
county_tally_acc_add(county_tally_acc_t *self, const sj_report_t *r, const char *origin)
{
    if (s_half_full(&self->place) || s_half_full(&self->kind) || s_half_full(&self->field)) {
        int rc = s_write(self);
        self->failed = self->failed != SJ_OK ? self->failed : rc;
    }
    static const uint8_t none[SJ_FIELD_COUNT] = {0};
    uint8_t e[SJ_FIELD_COUNT] = {(uint8_t) r->channel,  (uint8_t) r->kind,    (uint8_t) r->level,
                                 (uint8_t) r->category, (uint8_t) r->outcome, (uint8_t) r->source};
    s_slot_t *p = s_slot(&self->place, r->occurred_on, 10, origin, none);
    s_slot_t *k = s_slot(&self->kind, r->occurred_on, 7, "", e);
    p->items++;
    p->persons += r->persons;
    k->items++;
    k->persons += r->persons;
    char township[10];
    snprintf(township, sizeof township, "%.9s", origin);
    for (int f = 0; f < SJ_FIELD_COUNT; f++) { /* e holds (field, value) */
        uint8_t fv[SJ_FIELD_COUNT] = {(uint8_t) f, e[f]};
        s_slot_t *x = s_slot(&self->field, r->occurred_on, 7, township, fv);
        x->items++;
        x->persons += r->persons;
    }
}

/* Writes the sums and forgets them (the sticky error stays). */
static int
s_write(county_tally_acc_t *self)
{
    int rc = SJ_OK;
    for (size_t i = 0; i < self->place.n_used && rc == SJ_OK; i++) {
        const s_slot_t *sl = &self->place.slots[self->place.used[i]];
        sqlite3_stmt *st = self->st_place;
        sqlite3_bind_text(st, 1, sl->day, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sl->origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, sl->origin, 9, SQLITE_STATIC); /* its township */
        sqlite3_bind_int64(st, 4, sl->items);
        sqlite3_bind_int64(st, 5, sl->persons);
        rc = sj_db_step_done(self->db, st, "tally_place");
    }
    for (size_t i = 0; i < self->kind.n_used && rc == SJ_OK; i++) {
        const s_slot_t *sl = &self->kind.slots[self->kind.used[i]];
        sqlite3_stmt *st = self->st_kind;
        sqlite3_bind_int64(st, 1, county_tally_kind_key(sl->day, sl->e));
        sqlite3_bind_text(st, 2, sl->day, -1, SQLITE_STATIC);
        for (int f = 0; f < SJ_FIELD_COUNT; f++) {
            sqlite3_bind_int(st, 3 + f, sl->e[f]);
        }
        sqlite3_bind_int64(st, 9, sl->items);
        sqlite3_bind_int64(st, 10, sl->persons);
        rc = sj_db_step_done(self->db, st, "tally_kind");
    }
    for (size_t i = 0; i < self->field.n_used && rc == SJ_OK; i++) {
        const s_slot_t *sl = &self->field.slots[self->field.used[i]];
        sqlite3_stmt *st = self->st_field;
        sqlite3_bind_text(st, 1, sl->day, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sl->origin, -1, SQLITE_STATIC); /* the township */
        sqlite3_bind_int(st, 3, sl->e[0]);
        sqlite3_bind_int(st, 4, sl->e[1]);
        sqlite3_bind_int64(st, 5, sl->items);
        sqlite3_bind_int64(st, 6, sl->persons);
        rc = sj_db_step_done(self->db, st, "tally_field");
    }
    s_table_clear(&self->place);
    s_table_clear(&self->kind);
    s_table_clear(&self->field);
    return rc;
}

int
county_tally_acc_flush(county_tally_acc_t *self)
{
    int rc = s_write(self);
    if (self->failed != SJ_OK) {
        rc = self->failed;
        self->failed = SJ_OK;
    }
    return rc;
}

/* ---- the planner ---- */

static const char *const s_tables[] = {"matters", "tally_place", "tally_kind", "tally_field"};

/* The expression of each dimension over each tally (NULL: not there),
 * indexed by county_filter_dim_t. */
static const struct {
    const char *place, *kind, *field;
} s_exprs[COUNTY_FILTER_DIM_COUNT] = {
    {NULL, "channel", "value"},
    {NULL, "kind", "value"},
    {NULL, "level", "value"},
    {NULL, "category", "value"},
    {NULL, "outcome", "value"},
    {NULL, "source", "value"},
    {"origin", NULL, NULL},                  /* station */
    {"township", NULL, "township"},          /* township */
    {"substr(day, 1, 7)", "month", "month"}, /* month */
    {NULL, NULL, NULL},                      /* ever_outcome: never from a tally */
};

/* Is date (valid YYYY-MM-DD) the last day of its month? */
static int
s_month_last_day(const char *date)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y = s_digits(date, 4), m = s_digits(date + 5, 2), d = s_digits(date + 8, 2);
    if (m < 1 || m > 12) {
        return 0;
    }
    int64_t last = days[m - 1] + (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    return d == last;
}

/* Do f's dates cut on whole months (tally_kind and tally_field count by
 * month): --from a first, --to a last day of a month? */
static int
s_whole_months(const county_filter_t *f)
{
    return (!f->from || strcmp(f->from + 8, "01") == 0) && (!f->to || s_month_last_day(f->to));
}

/* The one enum field a tally_field query is about, or -1 when tally_field
 * cannot answer: a dimension it lacks (station), a --station filter, dates
 * that are not whole months, or two enum fields among the dimensions and
 * filters. */
static int
s_field_of(const county_filter_dims_t *dims, const county_filter_t *f)
{
    int fx = -1;
    for (size_t i = 0; i < dims->n; i++) {
        int field = county_filter_dim_field(dims->d[i]);
        if (!s_exprs[dims->d[i]].field || (field >= 0 && fx >= 0 && fx != field)) {
            return -1;
        }
        fx = field >= 0 ? field : fx;
    }
    if (f) {
        if (f->station || !s_whole_months(f)) {
            return -1;
        }
        const char *names[SJ_FIELD_COUNT];
        county_filter_enums(f, names);
        for (int i = 0; i < SJ_FIELD_COUNT; i++) {
            if (names[i] && fx >= 0 && fx != i) {
                return -1;
            }
            fx = names[i] ? i : fx;
        }
    }
    return fx;
}

county_tally_plan_t
county_tally_plan(const county_filter_dims_t *dims, const county_filter_t *f)
{
    int place = 1, kind = 1;
    for (size_t i = 0; i < dims->n; i++) {
        place = place && s_exprs[dims->d[i]].place;
        kind = kind && s_exprs[dims->d[i]].kind;
    }
    if (f) {
        const char *names[SJ_FIELD_COUNT];
        county_filter_enums(f, names);
        for (int i = 0; i < SJ_FIELD_COUNT; i++) {
            place = place && !names[i];
        }
        kind = kind && !f->township && !f->station && s_whole_months(f);
    }
    county_tally_plan_t plan = {COUNTY_TALLY_MATTERS, -1};
    if (place) {
        plan.src = COUNTY_TALLY_PLACE;
    } else if (kind) {
        plan.src = COUNTY_TALLY_KIND;
    } else if ((plan.field = s_field_of(dims, f)) >= 0) {
        plan.src = COUNTY_TALLY_FIELD;
    }
    return plan;
}

county_tally_plan_t
county_tally_plan_scan(void)
{
    county_tally_plan_t plan = {COUNTY_TALLY_MATTERS, -1};
    return plan;
}

const char *
county_tally_table(county_tally_src_t src)
{
    return s_tables[src];
}

/* The WHERE clause of a checked filter over the plan's tally (the planner
 * chose it, so it holds every filter). */
static void
s_where(const county_tally_plan_t *plan, const county_filter_t *f, county_filter_where_t *w)
{
    county_tally_src_t src = plan->src;
    if (src == COUNTY_TALLY_MATTERS) {
        county_filter_where(f, w);
        return;
    }
    county_filter_where_init(w);
    if (src == COUNTY_TALLY_FIELD) { /* one field's rows: each matter counted once */
        county_filter_where_add(w, "field = ?", NULL, plan->field);
    }
    if (!f) {
        return;
    }
    const char *from = src == COUNTY_TALLY_PLACE ? "day >= ?" : "month >= substr(?, 1, 7)";
    const char *to = src == COUNTY_TALLY_PLACE ? "day <= ?" : "month <= substr(?, 1, 7)";
    if (f->from) {
        county_filter_where_add(w, from, f->from, 0);
    }
    if (f->to) {
        county_filter_where_add(w, to, f->to, 0);
    }
    if (src != COUNTY_TALLY_KIND && f->township) {
        county_filter_where_add(w, "township = ?", f->township, 0);
    }
    if (src == COUNTY_TALLY_PLACE) {
        if (f->station) {
            county_filter_where_add(w, "origin = ?", f->station, 0);
        }
        return;
    }
    const char *names[SJ_FIELD_COUNT];
    county_filter_enums(f, names);
    if (src == COUNTY_TALLY_FIELD) { /* s_field_of: a filter on that field at most */
        int fx = plan->field;
        if (names[fx]) {
            county_filter_where_add(w, "value = ?", NULL,
                                    sj_enum_value((sj_field_t) fx, names[fx]));
        }
        return;
    }
    static const char *const clauses[SJ_FIELD_COUNT] = {
        "channel = ?", "kind = ?", "level = ?", "category = ?", "outcome = ?", "source = ?"};
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        if (names[i]) {
            county_filter_where_add(w, clauses[i], NULL, sj_enum_value((sj_field_t) i, names[i]));
        }
    }
}

static const char *
s_expr(county_tally_src_t src, county_filter_dim_t d)
{
    switch (src) {
    case COUNTY_TALLY_PLACE:
        return s_exprs[d].place;
    case COUNTY_TALLY_KIND:
        return s_exprs[d].kind;
    case COUNTY_TALLY_FIELD:
        return s_exprs[d].field;
    case COUNTY_TALLY_MATTERS:
    default:
        return county_filter_dim_expr(d);
    }
}

void
county_tally_counts_sql(const county_tally_plan_t *plan,
                        const county_filter_dims_t *dims,
                        const county_filter_t *f,
                        char *sql,
                        size_t size,
                        county_filter_where_t *w)
{
    s_where(plan, f, w);
    char group[COUNTY_SQL_MAX / 2];
    size_t len = 0, glen = 0;
    sql[0] = group[0] = '\0';
    county_sql_add(sql, size, &len, "SELECT ");
    for (size_t i = 0; i < dims->n; i++) {
        const char *expr = s_expr(plan->src, dims->d[i]);
        assert(expr); /* the planner chose a source that holds it */
        county_sql_add(sql, size, &len, expr);
        county_sql_add(sql, size, &len, ", ");
        county_sql_add(group, sizeof group, &glen, i ? ", " : "");
        county_sql_add(group, sizeof group, &glen, expr);
    }
    county_sql_add(sql, size, &len,
                   plan->src == COUNTY_TALLY_MATTERS
                       ? "count(*), coalesce(sum(persons), 0) FROM "
                       : "coalesce(sum(items), 0), coalesce(sum(persons), 0) FROM ");
    county_sql_add(sql, size, &len, s_tables[plan->src]);
    county_sql_add(sql, size, &len, w->sql);
    if (dims->n > 0) {
        county_sql_add(sql, size, &len, " GROUP BY ");
        county_sql_add(sql, size, &len, group);
        county_sql_add(sql, size, &len, " ORDER BY ");
        county_sql_add(sql, size, &len, group);
    }
}
