/* sj_clock: the statutory clock of a case (docs/CLOCK.md), written once for
 * every tier. Pure functions over plain structs: each store loads a case's
 * report date, its applied status changes and its extensions, and gets the
 * stages' due dates, days left and overdue from here.
 *
 * The stages:
 *   acceptance  from the report's date (received), due + accept_days: the
 *               decision whether to accept (告知是否受理) is the first status
 *               change in force out of pending (or the report itself when it
 *               arrived with another outcome);
 *   conclusion  from the day the case was accepted, due + conclude_days +
 *               the approved extensions: done when it is closed or
 *               withdrawn (or resolved);
 *   review      from the day a review (复查) was requested — a report of
 *               source review, or a change that reopens a concluded case —
 *               due + review_days + extensions: done at the next conclusion.
 * Only changes in force count (the replay walk's path, docs/CASES.md).
 *
 * Thread-safety: every function is reentrant. */
#ifndef SJ_CLOCK_H
#define SJ_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

/* The stages (also the Extension.stage values on the wire). */
typedef enum {
    SJ_STAGE_NONE = 0,
    SJ_STAGE_ACCEPT = 1,
    SJ_STAGE_CONCLUDE = 2,
    SJ_STAGE_REVIEW = 3,
} sj_stage_t;
#define SJ_STAGE_N 4 /* index 1..3 */

/* The periods, in the county's config and delivered down the tree. */
typedef struct {
    int accept_days;   /* 15 */
    int conclude_days; /* 60 */
    int review_days;   /* 30 */
    int extend_max;    /* 30: the most days one extension may add */
    int extend_count;  /* 1: extensions a stage may have */
} sj_periods_t;

#define SJ_PERIOD_ACCEPT_DAYS   15
#define SJ_PERIOD_CONCLUDE_DAYS 60
#define SJ_PERIOD_REVIEW_DAYS   30
#define SJ_PERIOD_EXTEND_MAX    30
#define SJ_PERIOD_EXTEND_COUNT  1
/* The bounds a config value must lie in. */
#define SJ_PERIOD_MAX_DAYS 365
#define SJ_PERIOD_MAX_EXT  10

void sj_periods_default(sj_periods_t *p);
/* SJ_EINVAL with a reason when a value is out of bounds (days 1..365,
 * extend_max 1..365, extend_count 0..10). */
SJ_NODISCARD int sj_periods_check(const sj_periods_t *p, char *err, size_t err_size);

/* The config keys (options) of the periods, in this order. */
#define SJ_PERIOD_KEYS \
    "accept-days", "conclude-days", "review-days", "extend-max-days", "extend-count"
/* Sets the period of key (one of SJ_PERIOD_KEYS) from text: a whole number
 * in its range. SJ_EINVAL with "--KEY V: ..." otherwise. */
SJ_NODISCARD int
sj_periods_set(sj_periods_t *p, const char *key, const char *text, char *err, size_t err_size);

/* "acceptance", "conclusion", "review"; the Chinese labels 受理告知,
 * 办结, 复查. NULL for another value. */
const char *sj_stage_name(int stage);
const char *sj_stage_label_zh(int stage);
/* "acceptance"/"accept", "conclusion"/"conclude", "review" -> the stage;
 * SJ_STAGE_NONE when the text is none of them. */
int sj_stage_parse(const char *text);

/* One event of a case as the clock reads it, in the order the case lived
 * them (the store's order: creation time, then arrival). */
typedef enum {
    SJ_CLOCK_CHANGE = 1,    /* a status change in force */
    SJ_CLOCK_EXTENSION = 2, /* an extension (Event body field 23) */
} sj_clock_ev_kind_t;

typedef struct {
    sj_clock_ev_kind_t kind;
    char day[11]; /* the local date it was made (YYYY-MM-DD) */
    int outcome;  /* CHANGE: the outcome it set */
    int stage;    /* EXTENSION: the stage it extends */
    int days;     /* EXTENSION: days added */
} sj_clock_ev_t;

/* A case as the clock reads it. */
typedef struct {
    char received[11];       /* the report's date (occurred_on) */
    int report_outcome;      /* the outcome the report arrived with */
    int report_source;       /* SJ_FIELD_SOURCE value; 4 = review */
    const sj_clock_ev_t *ev; /* borrowed, n of them */
    size_t n;
} sj_clock_case_t;

typedef struct {
    int active;     /* the stage applies to this case */
    int done;       /* its decision is made */
    char start[11]; /* when it started */
    char due[11];   /* its due date, extensions included */
    char done_on[11];
    int extended;   /* days added by the extensions that count */
    int extensions; /* how many extensions count (at most extend_count) */
    int64_t left;   /* due - today in days, for a running stage */
    int overdue;    /* running and today is after due */
    int late;       /* done after its due date */
} sj_stage_clock_t;

typedef struct {
    sj_stage_clock_t st[SJ_STAGE_N]; /* [SJ_STAGE_ACCEPT..SJ_STAGE_REVIEW] */
    int running;                     /* the stage running now (latest), or NONE */
    int overdue;                     /* any stage overdue */
} sj_clock_t;

/* The clock of a case on `today`. An extension counts when its stage has
 * started by then, the stage has fewer than extend_count extensions that
 * count, and its days are 1..extend_max (in the events' order); others are
 * ignored (refused where made, sj_clock_extend_check). A stage that ran
 * more than once (a second review) is the latest run. SJ_EINVAL when the
 * received date or today is not a date. */
SJ_NODISCARD int sj_clock_compute(const sj_clock_case_t *c,
                                  const sj_periods_t *p,
                                  const char *today,
                                  sj_clock_t *out);

/* May the case's stage be extended by days now? stage NONE: the running
 * stage (set into *stage). SJ_OK, or SJ_EINVAL with the reason, e.g. "the
 * conclusion stage was already extended once (30 days); the county allows
 * 1 extension per stage (extend-count)". */
SJ_NODISCARD int sj_clock_extend_check(const sj_clock_t *clk,
                                       const sj_periods_t *p,
                                       int *stage,
                                       int days,
                                       char *reason,
                                       size_t reason_size);

/* Names what is overdue, comma-separated: each stage overdue
 * ("acceptance", "conclusion", "review") and "assignment" when
 * assign_overdue (the 交办 due date passed); "" when nothing is. */
void sj_clock_overdue_what(const sj_clock_t *clk, int assign_overdue, char *out, size_t size);

/* The union of two nodes' views of a case's events (a's and b's, each in
 * order): every event of either once (the same kind, day and values in
 * both is one event), ordered by day, a's first on a tie. out holds na + nb;
 * returns how many it got. */
size_t sj_clock_ev_union(
    const sj_clock_ev_t *a, size_t na, const sj_clock_ev_t *b, size_t nb, sj_clock_ev_t *out);

#endif
