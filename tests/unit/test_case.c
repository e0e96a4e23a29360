/* Is the case model (sj_case) what docs/CASES.md says: who may change and
 * who may assign a case, which change the walk puts in force and why every
 * other one is listed, the parent of a change that names none, the hub's
 * view from the county's word; and can a sender's clock (a change dated
 * 2100, INT64_MAX) pin a case at the county or the hub, or poison the
 * median days to close? The last part runs the real stores (county_lib,
 * hub_lib) through their ingest path and their `update`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "county_query.h"
#include "county_store.h"
#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_case.h"
#include "sj_ids.h"
#include "sj_link.h"

#define COUNTY       "230523"
#define T100         "230523100"
#define T101         "230523101"
#define T102         "230523102"
#define S1           "230523100201" /* reports the case */
#define S2           "230523100202" /* same township, another station */
#define S5           "230523101205" /* in an assignee township */
#define S3           "230523102203" /* an assignee station */
#define CASE_ID_TEXT "01900000-0000-7000-8000-00000000c10c"

enum { P = SJ_OUTCOME_PENDING, R, A, C, W };

static const char s_assignees[][SJ_CODE_MAX + 1] = {T101, S3};

static sj_case_facts_t
s_facts(void)
{
    sj_case_facts_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.station, sizeof f.station, "%s", S1);
    snprintf(f.county, sizeof f.county, "%s", COUNTY);
    f.assignees = s_assignees;
    f.n_assignees = 2;
    return f;
}

/* ---- outcomes ---- */

/* The outcome state machine and predicates: every pair checked against the
 * documented table; the SQL lists are built from the constants. */
static void
test_case_outcomes(void **state)
{
    (void) state;
    static const int ok[6][6] = {
        [P] = {[R] = 1, [A] = 1, [W] = 1},
        [R] = {[A] = 1},
        [A] = {[C] = 1, [W] = 1},
        [C] = {[A] = 1},
        [W] = {0},
    };
    for (int from = 0; from <= 6; from++) {
        for (int to = 0; to <= 6; to++) {
            int expect = from >= 1 && from <= 5 && to >= 1 && to <= 5 ? ok[from][to] : 0;
            assert_int_equal(sj_outcome_transition_ok(from, to), expect);
        }
    }
    assert_int_equal(sj_outcome_transition_ok(-1, A), 0);
    char buf[200];
    sj_outcome_next_list(P, buf, sizeof buf);
    assert_string_equal(buf, "resolved_on_spot, accepted, withdrawn");
    sj_outcome_next_list(W, buf, sizeof buf);
    assert_string_equal(buf, "none (withdrawn is final)");
    sj_outcome_transition_text(C, W, buf, sizeof buf);
    assert_string_equal(buf,
                        "a case that is closed cannot become withdrawn (from closed: accepted)");
    sj_outcome_transition_text(A, A, buf, sizeof buf);
    assert_string_equal(buf, "the case is already accepted");
    /* the names the wire and the SQL use */
    assert_int_equal(sj_enum_value(SJ_FIELD_OUTCOME, "pending"), SJ_OUTCOME_PENDING);
    assert_int_equal(sj_enum_value(SJ_FIELD_OUTCOME, "withdrawn"), SJ_OUTCOME_WITHDRAWN);
    assert_string_equal(SJ_OUTCOME_OPEN_SQL, "(1, 3)");
    assert_string_equal(SJ_OUTCOME_CONCLUDED_SQL, "(2, 4)");
    assert_string_equal(SJ_OUTCOME_FINAL_SQL, "(4, 5)");
    for (int o = 0; o <= 6; o++) {
        assert_int_equal(sj_outcome_is_open(o), o == P || o == A);
        assert_int_equal(sj_outcome_is_concluded(o), o == R || o == C);
        assert_int_equal(sj_outcome_is_final(o), o == C || o == W);
    }
}

/* ---- authority ---- */

/* Each allowed and each refused actor of a status change, with the reason. */
static void
test_case_may_change(void **state)
{
    (void) state;
    sj_case_facts_t f = s_facts();
    char why[200];
    static const char *const allowed[] = {S1, T100, COUNTY, "000000", T101, T101 "209", S3, NULL};
    for (int i = 0; allowed[i]; i++) {
        why[0] = '\0';
        if (sj_case_may_change(&f, allowed[i], why, sizeof why) != SJ_OK) {
            fail_msg("%s refused: %s", allowed[i], why);
        }
    }
    static const struct {
        const char *actor, *reason;
    } refused[] = {
        {S2, "station 230523100202 may not change a case of station 230523100201"},
        {T102, "township 230523102 may not change a case of station 230523100201"},
        {T102 "204", "station 230523102204 may not change a case of station 230523100201"},
        {"230524", "county 230524 may not change a case of station 230523100201"},
        {"23052", "origin 23052 may not change a case of station 230523100201"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(sj_case_may_change(&f, refused[i].actor, why, sizeof why), SJ_EINVAL);
        assert_string_equal(why, refused[i].reason);
    }
    /* no report here: only the county */
    f.station[0] = '\0';
    assert_int_equal(sj_case_may_change(&f, COUNTY, why, sizeof why), SJ_OK);
    assert_int_equal(sj_case_may_change(&f, T101, why, sizeof why), SJ_EINVAL);
    assert_string_equal(why, "township 230523101 may not change a case whose report is not here");
    assert_int_equal(sj_case_rank(COUNTY), 3);
    assert_int_equal(sj_case_rank(T100), 2);
    assert_int_equal(sj_case_rank(S1), 1);
    assert_int_equal(sj_case_rank("x"), 0);
}

/* Who may assign to whom, and not a final case. */
static void
test_case_may_assign(void **state)
{
    (void) state;
    sj_case_facts_t f = s_facts();
    f.n_assignees = 0;
    char why[200];
    assert_int_equal(sj_case_may_assign(&f, P, COUNTY, T101, why, sizeof why), SJ_OK);
    assert_int_equal(sj_case_may_assign(&f, A, COUNTY, S3, why, sizeof why), SJ_OK);
    assert_int_equal(sj_case_may_assign(&f, P, COUNTY, "230524100", why, sizeof why), SJ_EINVAL);
    assert_string_equal(why, "230524100 is not a township or station of county 230523");
    assert_int_equal(sj_case_may_assign(&f, P, "000000", "230524100", why, sizeof why), SJ_OK);
    /* the township of the reporting station */
    assert_int_equal(sj_case_may_assign(&f, P, T100, S2, why, sizeof why), SJ_OK);
    assert_int_equal(sj_case_may_assign(&f, P, T100, S5, why, sizeof why), SJ_EINVAL);
    assert_string_equal(why, "township 230523100 may assign only within itself, not to "
                             "230523101205");
    /* another township: only once the case was assigned into it */
    assert_int_equal(sj_case_may_assign(&f, P, T101, S5, why, sizeof why), SJ_EINVAL);
    assert_string_equal(why, "township 230523101 may not assign a case of township 230523100");
    f.n_assignees = 1; /* T101 */
    assert_int_equal(sj_case_may_assign(&f, P, T101, S5, why, sizeof why), SJ_OK);
    f.n_assignees = 2;
    assert_int_equal(sj_case_may_assign(&f, P, T102, S3, why, sizeof why), SJ_OK);
    /* stations never assign; a final case is not assigned (0: not judged) */
    assert_int_equal(sj_case_may_assign(&f, P, S1, S2, why, sizeof why), SJ_EINVAL);
    assert_int_equal(sj_case_may_assign(&f, W, COUNTY, T100, why, sizeof why), SJ_EINVAL);
    assert_string_equal(why, "the case is already withdrawn; reopen it first (update --outcome"
                             " accepted)");
    assert_int_equal(sj_case_may_assign(&f, C, T100, S2, why, sizeof why), SJ_EINVAL);
    assert_int_equal(sj_case_may_assign(&f, 0, T100, S2, why, sizeof why), SJ_OK);
    f.station[0] = '\0';
    f.n_assignees = 0;
    assert_int_equal(sj_case_may_assign(&f, P, T100, S2, why, sizeof why), SJ_EINVAL);
    assert_string_equal(why, "township 230523100 may not assign a case it does not hold");
}

/* ---- the walk ---- */

#define MAXCH 16

typedef struct {
    sj_case_change_t ch[MAXCH];
    size_t n;
    sj_case_start_t start;
    sj_case_state_t st;
} s_case_t;

static uint8_t s_next_id = 1;

/* Adds a change of `origin` to `outcome` made from parent (-1: the report),
 * arriving now; returns its index. */
static int
s_add(s_case_t *c, int parent, const char *origin, int outcome)
{
    assert_true(c->n < MAXCH);
    sj_case_change_t *x = &c->ch[c->n];
    memset(x, 0, sizeof *x);
    memset(x->id, 0xc0, SJ_ID_BYTES);
    x->id[15] = s_next_id++;
    if (parent >= 0) {
        x->has_parent = 1;
        memcpy(x->parent, c->ch[parent].id, SJ_ID_BYTES);
    }
    snprintf(x->origin, sizeof x->origin, "%s", origin);
    x->outcome = outcome;
    x->arrival = (int64_t) c->n + 1;
    return (int) c->n++;
}

static void
s_replay(s_case_t *c)
{
    sj_case_facts_t f = s_facts();
    assert_int_equal(sj_case_replay(&f, &c->start, c->ch, c->n, &c->st), SJ_OK);
}

static void
s_head_is(const s_case_t *c, int i, int outcome)
{
    assert_int_equal(c->st.outcome, outcome);
    if (i < 0) {
        assert_false(c->st.has_head);
        return;
    }
    assert_true(c->st.has_head);
    assert_memory_equal(c->st.head, c->ch[i].id, SJ_ID_BYTES);
    for (size_t k = 0; k < c->n; k++) {
        assert_int_equal(c->ch[k].head, (int) k == i);
    }
}

static void
s_text(const s_case_t *c, int i, char *buf, size_t size)
{
    sj_case_facts_t f = s_facts();
    sj_case_verdict_text(&c->ch[i], &f, buf, size);
}

/* A chain: each change made from the one before is applied, nothing is
 * listed; no change: the report's outcome. */
static void
test_case_walk_linear(void **state)
{
    (void) state;
    s_case_t c = {.start = {.root_outcome = P}};
    s_replay(&c);
    s_head_is(&c, -1, P);
    int a = s_add(&c, -1, S1, A);
    int b = s_add(&c, a, T100, C);
    int d = s_add(&c, b, COUNTY, A); /* a review reopens it */
    s_replay(&c);
    s_head_is(&c, d, A);
    assert_int_equal(c.st.n_listed, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c.ch[i].verdict, SJ_CASE_APPLIED);
        assert_false(sj_case_listed(&c.ch[i]));
    }
    assert_int_equal(c.ch[b].from, A);
}

/* Two changes made from the same one: the higher authority wins, however
 * late it came; between equals the first to arrive here wins. Both sides
 * are listed; what follows the loser follows a change not in force. */
static void
test_case_walk_concurrent(void **state)
{
    (void) state;
    char why[300], id[SJ_UUID_TEXT];
    /* by rank: the station's close came first, the township's withdrawal wins */
    s_case_t c = {.start = {.root_outcome = P}};
    int a = s_add(&c, -1, S1, A);
    int s = s_add(&c, a, S1, C);
    int t = s_add(&c, a, T100, W);
    int f = s_add(&c, s, S1, A); /* the station goes on from its own close */
    s_replay(&c);
    s_head_is(&c, t, W);
    assert_int_equal(c.ch[s].verdict, SJ_CASE_CONCURRENT);
    assert_memory_equal(c.ch[s].other, c.ch[t].id, SJ_ID_BYTES);
    assert_int_equal(c.ch[t].verdict, SJ_CASE_APPLIED);
    assert_true(c.ch[t].won);
    assert_int_equal(c.ch[f].verdict, SJ_CASE_FOLLOWS);
    assert_int_equal(c.st.n_listed, 3);
    sj_uuid_format(c.ch[t].id, id);
    s_text(&c, s, why, sizeof why);
    char want[300];
    snprintf(want, sizeof want,
             "concurrent with %s, in force: a township's change outranks a"
             " station's",
             id);
    assert_string_equal(why, want);
    s_text(&c, f, why, sizeof why);
    assert_string_equal(why, "follows a change not in force");
    sj_uuid_format(c.ch[s].id, id);
    s_text(&c, t, why, sizeof why);
    snprintf(want, sizeof want, "in force over concurrent %s", id);
    assert_string_equal(why, want);

    /* by arrival: two stations (the reporter and an assignee) from the same state */
    s_case_t d = {.start = {.root_outcome = P}};
    int first = s_add(&d, -1, S3, A);
    int second = s_add(&d, -1, S1, R);
    s_replay(&d);
    s_head_is(&d, first, A);
    assert_int_equal(d.ch[second].verdict, SJ_CASE_CONCURRENT);
    s_text(&d, second, why, sizeof why);
    assert_non_null(strstr(why, "made from the same change and here first"));
    /* the same changes arriving the other way round: the other one wins */
    d.ch[first].arrival = 9;
    s_replay(&d);
    s_head_is(&d, second, R);
}

/* A change whose outcome its parent's does not reach is invalid and never
 * applied; one whose origin may not change the case is unauthorized; one
 * whose parent is not held waits, and is applied once the parent comes. */
static void
test_case_walk_invalid_unauthorized_waiting(void **state)
{
    (void) state;
    char why[300];
    s_case_t c = {.start = {.root_outcome = P}};
    int a = s_add(&c, -1, S1, W);
    int bad = s_add(&c, a, COUNTY, A); /* withdrawn is final */
    int foreign = s_add(&c, -1, S2, A);
    int after = s_add(&c, foreign, S1, C);
    s_replay(&c);
    s_head_is(&c, a, W);
    assert_int_equal(c.ch[bad].verdict, SJ_CASE_INVALID);
    s_text(&c, bad, why, sizeof why);
    assert_string_equal(why, "invalid: a case that is withdrawn cannot become accepted (from"
                             " withdrawn: none (withdrawn is final))");
    assert_int_equal(c.ch[foreign].verdict, SJ_CASE_UNAUTHORIZED);
    s_text(&c, foreign, why, sizeof why);
    assert_string_equal(why, "unauthorized: station 230523100202 may not change a case of"
                             " station 230523100201");
    assert_int_equal(c.ch[after].verdict, SJ_CASE_FOLLOWS);

    /* waiting: the change it follows is elsewhere still */
    s_case_t w = {.start = {.root_outcome = P}};
    sj_case_change_t missing;
    memset(&missing, 0, sizeof missing);
    int x = s_add(&w, -1, S1, A); /* made, but held here only later */
    memcpy(missing.id, w.ch[x].id, SJ_ID_BYTES);
    w.n = 0;
    int y = s_add(&w, -1, T100, C);
    w.ch[y].has_parent = 1;
    memcpy(w.ch[y].parent, missing.id, SJ_ID_BYTES);
    s_replay(&w);
    s_head_is(&w, -1, P);
    assert_int_equal(w.ch[y].verdict, SJ_CASE_WAITING);
    s_text(&w, y, why, sizeof why);
    assert_non_null(strstr(why, "waiting for change c0c0c0c0-"));
    /* the parent arrives: replay recomputes, both applied */
    int z = s_add(&w, -1, S1, A);
    memcpy(w.ch[z].id, missing.id, SJ_ID_BYTES);
    s_replay(&w);
    s_head_is(&w, y, C);
    assert_int_equal(w.st.n_listed, 0);

    /* a change naming itself, or a loop, goes nowhere */
    s_case_t l = {.start = {.root_outcome = P}};
    int self = s_add(&l, -1, S1, A);
    l.ch[self].has_parent = 1;
    memcpy(l.ch[self].parent, l.ch[self].id, SJ_ID_BYTES);
    s_replay(&l);
    s_head_is(&l, -1, P);
    assert_int_equal(l.ch[self].verdict, SJ_CASE_FOLLOWS);
}

/* The parent of a change that names none: the change in force, or the
 * latest change on the path that set the outcome its author saw. */
static void
test_case_legacy_parent(void **state)
{
    (void) state;
    s_case_t c = {.start = {.root_outcome = P}};
    int a = s_add(&c, -1, S1, A);
    int b = s_add(&c, a, S1, C);
    s_replay(&c);
    uint8_t parent[SJ_ID_BYTES];
    int has = 0;
    sj_case_legacy_parent(c.ch, c.n, &c.start, &c.st, 0, parent, &has);
    assert_true(has);
    assert_memory_equal(parent, c.ch[b].id, SJ_ID_BYTES);
    sj_case_legacy_parent(c.ch, c.n, &c.start, &c.st, C, parent, &has);
    assert_memory_equal(parent, c.ch[b].id, SJ_ID_BYTES);
    sj_case_legacy_parent(c.ch, c.n, &c.start, &c.st, A, parent, &has);
    assert_true(has);
    assert_memory_equal(parent, c.ch[a].id, SJ_ID_BYTES);
    sj_case_legacy_parent(c.ch, c.n, &c.start, &c.st, P, parent, &has);
    assert_false(has); /* the report */
    sj_case_legacy_parent(c.ch, c.n, &c.start, &c.st, W, parent, &has);
    assert_memory_equal(parent, c.ch[b].id, SJ_ID_BYTES); /* never seen: the head */
    /* no change yet: the report */
    s_case_t e = {.start = {.root_outcome = P}};
    s_replay(&e);
    sj_case_legacy_parent(e.ch, 0, &e.start, &e.st, P, parent, &has);
    assert_false(has);
}

/* The hub's view: the county's word (its head and outcome) is in force
 * when its head is not on the hub's own path, and the hub's changes made
 * from it follow it; a word the hub's path already holds changes nothing. */
static void
test_case_walk_word(void **state)
{
    (void) state;
    s_case_t c = {.start = {.root_outcome = P}};
    int a = s_add(&c, -1, S1, A);
    s_replay(&c);
    s_head_is(&c, a, A);
    /* the county's own change X (not held here) closed it */
    uint8_t x[SJ_ID_BYTES];
    memset(x, 0x77, sizeof x);
    c.start.has_word = 1;
    memcpy(c.start.word_head, x, SJ_ID_BYTES);
    c.start.word_outcome = C;
    s_replay(&c);
    assert_int_equal(c.st.outcome, C);
    assert_memory_equal(c.st.head, x, SJ_ID_BYTES);
    /* the hub reopens it from X: in force */
    int y = s_add(&c, -1, T100, A);
    c.ch[y].has_parent = 1;
    memcpy(c.ch[y].parent, x, SJ_ID_BYTES);
    s_replay(&c);
    s_head_is(&c, y, A);
    /* a word whose head is on the hub's path: the hub's path stands */
    memcpy(c.start.word_head, c.ch[a].id, SJ_ID_BYTES);
    c.start.word_outcome = A;
    s_replay(&c);
    s_head_is(&c, a, A);
    assert_int_equal(c.ch[y].verdict, SJ_CASE_WAITING); /* X is not held here */
}

/* The worked example of docs/CASES.md, row for row. */
static void
test_case_worked_example(void **state)
{
    (void) state;
    s_case_t k = {.start = {.root_outcome = P}};
    int a = s_add(&k, -1, S1, A);
    int b = s_add(&k, a, S1, C);
    int c = s_add(&k, a, T100, W);
    int d = s_add(&k, b, S1, A);
    int e = s_add(&k, a, S2, W);
    int f = s_add(&k, -1, S1, C);
    k.ch[f].parent[0] ^= 0xff; /* x: not held */
    k.ch[f].has_parent = 1;
    s_replay(&k);
    s_head_is(&k, c, W);
    assert_int_equal(k.ch[a].verdict, SJ_CASE_APPLIED);
    assert_int_equal(k.ch[b].verdict, SJ_CASE_CONCURRENT);
    assert_int_equal(k.ch[d].verdict, SJ_CASE_FOLLOWS);
    assert_int_equal(k.ch[e].verdict, SJ_CASE_UNAUTHORIZED);
    assert_int_equal(k.ch[f].verdict, SJ_CASE_WAITING);
    assert_true(k.ch[c].won);
    assert_int_equal(k.st.n_listed, 5); /* b, c, d, e, f */
    /* the same race between two stations: b arrived first */
    snprintf(k.ch[c].origin, sizeof k.ch[c].origin, "%s", S3);
    s_replay(&k);
    s_head_is(&k, d, A); /* b in force, and d made on top of it */
}

/* What `update` says, and its exit status. */
static void
test_case_update_report(void **state)
{
    (void) state;
    sj_update_result_t res = {.prev = A, .now = C, .took_effect = 1};
    assert_int_equal(sj_update_report("county-server", CASE_ID_TEXT, C, &res, "test"), 0);
    res.now = A;
    res.took_effect = 0;
    assert_int_equal(sj_update_report("county-server", CASE_ID_TEXT, W, &res, "test"), 1);
}

/* ---- the stores: no clock decides ---- */

#define T2100   4102444800000LL /* 2100-01-01 */
#define T2024   1717200000000LL /* 2024-06-01 */
#define CASE_ID CASE_ID_TEXT

static uint64_t s_seq;

static void
s_store(const sj_downlink_ops_t *ops, void *store, const char *via, sj_event_t *ev)
{
    memset(ev->epoch, 9, SJ_EPOCH_BYTES);
    ev->origin_seq = ++s_seq;
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
    sj_stored_t res = SJ_STORED_DUPLICATE;
    char why[256] = "";
    int rc = ops->check_event(store, via, ev->origin_seq, ev, why, sizeof why);
    if (rc != SJ_OK) {
        fail_msg("check_event: %s", why);
    }
    assert_int_equal(ops->store_event(store, via, ev, raw, len, &res), SJ_OK);
    assert_int_equal(res, SJ_STORED_NEW);
    free(raw);
}

static void
s_report(sj_event_t *ev, const uint8_t id[SJ_ID_BYTES], int64_t created_ms)
{
    memset(ev, 0, sizeof *ev);
    ev->type = SJ_EVENT_REPORT;
    memcpy(ev->id, id, SJ_ID_BYTES);
    snprintf(ev->origin, sizeof ev->origin, "%s", S1);
    ev->created_ms = created_ms;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-05-30");
    ev->report.channel = ev->report.kind = ev->report.category = 1;
    ev->report.level = 3;
    ev->report.persons = 1;
    ev->report.outcome = P;
    ev->report.source = 1;
    ev->report.summary = "土地纠纷";
    ev->report.officer = "";
}

/* A station's change of case id to outcome, dated created_ms, made from
 * parent (NULL: the report). */
static void
s_change(sj_event_t *ev,
         const uint8_t id[SJ_ID_BYTES],
         int outcome,
         int prev,
         const uint8_t *parent,
         int64_t created_ms)
{
    memset(ev, 0, sizeof *ev);
    ev->type = SJ_EVENT_STATUS;
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", S1);
    ev->created_ms = created_ms;
    memcpy(ev->case_id, id, SJ_ID_BYTES);
    ev->new_outcome = outcome;
    ev->prev_outcome = prev;
    if (parent) {
        ev->has_prev_change = 1;
        memcpy(ev->prev_change, parent, SJ_ID_BYTES);
    }
}

static char *
s_tmpdir(void)
{
    char *dir = strdup("/tmp/sanji-case-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void
s_rmdir(char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

/* The county: a station's changes dated 2100 and INT64_MAX do not pin the
 * case; `update` from the county takes effect and says what is in force;
 * the median days to close ignores the absurd time. */
static void
test_case_clock_county(void **state)
{
    (void) state;
    char *dir = s_tmpdir(), err[256] = "";
    county_store_t *st = county_store_open(dir, COUNTY, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fail_msg("county_store_open: %s", err);
    }
    sqlite3 *db = county_store_db(st);
    uint8_t id[SJ_ID_BYTES];
    assert_int_equal(sj_uuid_parse(CASE_ID, id), SJ_OK);
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    const sj_downlink_ops_t *ops = &county_store_downlink_ops;
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    s_report(ev, id, T2024);
    s_store(ops, st, T100, ev);
    s_change(ev, id, A, P, NULL, T2100); /* accepted, dated 2100 */
    s_store(ops, st, T100, ev);
    uint8_t accepted[SJ_ID_BYTES];
    memcpy(accepted, ev->id, SJ_ID_BYTES);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);

    /* The county closes it now (long before 2100): in force. */
    sj_update_result_t res;
    assert_int_equal(county_store_update(st, id, C, "结案", "", &res, err, sizeof err), SJ_OK);
    assert_int_equal(res.prev, A);
    assert_int_equal(res.now, C);
    assert_true(res.took_effect);
    assert_int_equal(sj_update_report("county-server", CASE_ID, C, &res, "test"), 0);

    /* The station, from its own accepted, withdraws it "at" INT64_MAX:
     * concurrent with the county's close, which outranks it. */
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    s_change(ev, id, W, A, accepted, INT64_MAX);
    s_store(ops, st, T100, ev);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    county_case_figs_t figs;
    assert_int_equal(county_query_case_figs(db, NULL, &figs, err, sizeof err), SJ_OK);
    assert_int_equal(figs.concluded, 1);
    assert_int_equal(figs.withdrawn, 0);
    assert_true(figs.has_median);
    assert_true(figs.median_days >= 0 && figs.median_days < 365 * 100);

    /* A later county change takes effect again (a review reopens it). */
    assert_int_equal(county_store_update(st, id, A, "复查", "", &res, err, sizeof err), SJ_OK);
    assert_int_equal(res.now, A);
    assert_true(res.took_effect);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT outcome FROM matters),"
                                        " (SELECT count(*) FROM conflicts),"
                                        " (SELECT count(*) FROM status_changes WHERE applied = 2)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), A);
    assert_int_equal(sqlite3_column_int(q, 1), 2); /* the station's loser, the county's winner */
    assert_int_equal(sqlite3_column_int(q, 2), 1);
    sqlite3_finalize(q);

    /* INT64 extremes on the path in force: the median leaves them out. */
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    uint8_t id2[SJ_ID_BYTES];
    sj_uuid7_new(id2);
    s_report(ev, id2, INT64_MIN);
    s_store(ops, st, T100, ev);
    s_change(ev, id2, R, P, NULL, INT64_MAX);
    s_store(ops, st, T100, ev);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(county_query_case_figs(db, NULL, &figs, err, sizeof err), SJ_OK);
    assert_int_equal(figs.concluded, 1);
    assert_false(figs.has_median); /* neither the reopened case nor the absurd one */

    free(ev);
    county_store_close(&st);
    s_rmdir(dir);
}

/* The hub: the same, and the hub lists the conflict too. */
static void
test_case_clock_hub(void **state)
{
    (void) state;
    char *dir = s_tmpdir(), err[256] = "";
    hub_store_t *st = hub_store_open(dir, T100, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fail_msg("hub_store_open: %s", err);
    }
    sqlite3 *db = hub_store_db(st);
    uint8_t id[SJ_ID_BYTES];
    assert_int_equal(sj_uuid_parse(CASE_ID, id), SJ_OK);
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    const sj_downlink_ops_t *ops = &hub_store_downlink_ops;
    s_seq = 0;
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    s_report(ev, id, T2024);
    s_store(ops, st, S1, ev);
    s_change(ev, id, A, P, NULL, INT64_MAX);
    s_store(ops, st, S1, ev);
    uint8_t accepted[SJ_ID_BYTES];
    memcpy(accepted, ev->id, SJ_ID_BYTES);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sj_update_result_t res;
    assert_int_equal(hub_store_update(st, id, W, "", "", &res, err, sizeof err), SJ_OK);
    assert_int_equal(res.prev, A);
    assert_int_equal(res.now, W);
    assert_true(res.took_effect);
    /* the station closes from accepted, dated 2100: concurrent, the
     * township's withdrawal outranks it */
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    s_change(ev, id, C, A, accepted, T2100);
    s_store(ops, st, S1, ev);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT outcome FROM cases),"
                                        " (SELECT count(*) FROM conflicts)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), W);
    assert_int_equal(sqlite3_column_int(q, 1), 2);
    sqlite3_finalize(q);
    /* withdrawn is final: the hub refuses a further change, nothing stored */
    assert_int_equal(hub_store_update(st, id, A, "", "", &res, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "withdrawn is final"));
    free(ev);
    hub_store_close(&st);
    s_rmdir(dir);
}

int
main(void)
{
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_outcomes),
        cmocka_unit_test(test_case_may_change),
        cmocka_unit_test(test_case_may_assign),
        cmocka_unit_test(test_case_walk_linear),
        cmocka_unit_test(test_case_walk_concurrent),
        cmocka_unit_test(test_case_walk_invalid_unauthorized_waiting),
        cmocka_unit_test(test_case_legacy_parent),
        cmocka_unit_test(test_case_walk_word),
        cmocka_unit_test(test_case_worked_example),
        cmocka_unit_test(test_case_update_report),
        cmocka_unit_test(test_case_clock_county),
        cmocka_unit_test(test_case_clock_hub),
    };
    return cmocka_run_group_tests_name("case", tests, NULL, NULL);
}
