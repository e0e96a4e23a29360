/* sj_case: the case model (see sj_case.h and docs/CASES.md). */
#include "sj_case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_ids.h"

/* ---- outcomes ---- */

int
sj_outcome_is_open(int outcome)
{
    return outcome == SJ_OUTCOME_PENDING || outcome == SJ_OUTCOME_ACCEPTED;
}

int
sj_outcome_is_concluded(int outcome)
{
    return outcome == SJ_OUTCOME_RESOLVED_ON_SPOT || outcome == SJ_OUTCOME_CLOSED;
}

int
sj_outcome_is_final(int outcome)
{
    return outcome == SJ_OUTCOME_CLOSED || outcome == SJ_OUTCOME_WITHDRAWN;
}

#define S_BIT(o) (1u << (o))

/* s_edges[from] = the outcomes reachable from `from` (bit v = 1 << v). */
static const unsigned s_edges[SJ_OUTCOME_WITHDRAWN + 1] = {
    [SJ_OUTCOME_PENDING] = S_BIT(SJ_OUTCOME_RESOLVED_ON_SPOT) | S_BIT(SJ_OUTCOME_ACCEPTED)
                           | S_BIT(SJ_OUTCOME_WITHDRAWN),
    [SJ_OUTCOME_RESOLVED_ON_SPOT] = S_BIT(SJ_OUTCOME_ACCEPTED), /* review */
    [SJ_OUTCOME_ACCEPTED] = S_BIT(SJ_OUTCOME_CLOSED) | S_BIT(SJ_OUTCOME_WITHDRAWN),
    [SJ_OUTCOME_CLOSED] = S_BIT(SJ_OUTCOME_ACCEPTED), /* review */
    [SJ_OUTCOME_WITHDRAWN] = 0,                       /* final */
};

int
sj_outcome_transition_ok(int from, int to)
{
    if (!sj_enum_name(SJ_FIELD_OUTCOME, from) || !sj_enum_name(SJ_FIELD_OUTCOME, to)) {
        return 0;
    }
    return (s_edges[from] >> to) & 1u;
}

void
sj_outcome_next_list(int from, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) {
        return;
    }
    buf[0] = '\0';
    for (int to = SJ_OUTCOME_PENDING; to <= SJ_OUTCOME_WITHDRAWN; to++) {
        if (!sj_outcome_transition_ok(from, to)) {
            continue;
        }
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                         sj_enum_name(SJ_FIELD_OUTCOME, to));
        if (n < 0 || (size_t) n >= size - used) {
            return;
        }
        used += (size_t) n;
    }
    if (used == 0) {
        const char *name = sj_enum_name(SJ_FIELD_OUTCOME, from);
        snprintf(buf, size, "none (%s is final)", name ? name : "?");
    }
}

void
sj_outcome_transition_text(int from, int to, char *buf, size_t size)
{
    const char *f = sj_enum_name(SJ_FIELD_OUTCOME, from);
    const char *t = sj_enum_name(SJ_FIELD_OUTCOME, to);
    char next[128];
    sj_outcome_next_list(from, next, sizeof next);
    if (!f || !t) {
        snprintf(buf, size, "outcome out of range");
    } else if (from == to) {
        snprintf(buf, size, "the case is already %s", f);
    } else {
        snprintf(buf, size, "a case that is %s cannot become %s (from %s: %s)", f, t, f, next);
    }
}

/* ---- authority ---- */

#define S_NO_COUNTY "000000" /* the county's origin when its store has no code */

int
sj_case_rank(const char *origin)
{
    switch (sj_code_level(origin)) {
    case 6:
        return 3;
    case 9:
        return 2;
    case 12:
        return 1;
    default:
        return 0;
    }
}

static const char *
s_rank_name(int rank)
{
    return rank == 3 ? "county" : rank == 2 ? "township" : rank == 1 ? "station" : "origin";
}

const char *
sj_case_actor(const char *origin)
{
    return s_rank_name(sj_case_rank(origin));
}

/* The county itself: its code, or the origin it uses without one. */
static int
s_is_county(const sj_case_facts_t *c, const char *actor)
{
    return sj_code_level(actor) == 6
           && (strcmp(actor, S_NO_COUNTY) == 0 || strcmp(actor, c->county) == 0);
}

int
sj_case_may_change(const sj_case_facts_t *c, const char *actor, char *reason, size_t rs)
{
    if (s_is_county(c, actor)) {
        return SJ_OK;
    }
    int level = sj_code_level(actor);
    if (!c->station[0]) {
        snprintf(reason, rs, "%s %s may not change a case whose report is not here",
                 sj_case_actor(actor), actor);
        return SJ_EINVAL;
    }
    if (level == 12 && strcmp(actor, c->station) == 0) {
        return SJ_OK; /* the station that reported it */
    }
    if (level == 9 && strncmp(actor, c->station, 9) == 0) {
        return SJ_OK; /* its township hub */
    }
    for (size_t i = 0; level && i < c->n_assignees; i++) {
        if (sj_code_under(actor, c->assignees[i])) {
            return SJ_OK; /* within a current or past assignee */
        }
    }
    snprintf(reason, rs, "%s %s may not change a case of station %s", sj_case_actor(actor), actor,
             c->station);
    return SJ_EINVAL;
}

int
sj_case_may_assign(const sj_case_facts_t *c,
                   int outcome,
                   const char *assigner,
                   const char *assignee,
                   char *reason,
                   size_t rs)
{
    int to = sj_code_level(assignee);
    if (s_is_county(c, assigner)) {
        /* A county store without a code assigns anywhere. */
        int anywhere = strcmp(assigner, S_NO_COUNTY) == 0;
        if ((to != 9 && to != 12) || !(anywhere || sj_code_under(assignee, assigner))) {
            snprintf(reason, rs, "%s is not a township or station of county %s", assignee,
                     anywhere ? "(any)" : assigner);
            return SJ_EINVAL;
        }
    } else if (sj_code_level(assigner) == 9) {
        int holds = c->station[0] && strncmp(c->station, assigner, 9) == 0;
        for (size_t i = 0; !holds && i < c->n_assignees; i++) {
            holds = sj_code_under(c->assignees[i], assigner);
        }
        if (!holds && c->station[0]) {
            snprintf(reason, rs, "township %s may not assign a case of township %.9s", assigner,
                     c->station);
            return SJ_EINVAL;
        }
        if (!holds) {
            snprintf(reason, rs, "township %s may not assign a case it does not hold", assigner);
            return SJ_EINVAL;
        }
        if ((to != 9 && to != 12) || !sj_code_under(assignee, assigner)) {
            snprintf(reason, rs, "township %s may assign only within itself, not to %s", assigner,
                     assignee);
            return SJ_EINVAL;
        }
    } else {
        snprintf(reason, rs, "%s may not assign cases: only the county or a township does",
                 assigner);
        return SJ_EINVAL;
    }
    if (outcome && sj_outcome_is_final(outcome)) {
        snprintf(reason, rs, "the case is already %s; reopen it first (update --outcome accepted)",
                 sj_enum_name(SJ_FIELD_OUTCOME, outcome));
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* ---- the replay walk ---- */

/* A node of the walk: the root (the report, or the word of a parent), or a
 * change held here. */
typedef struct {
    int has_id;        /* 0: the report */
    const uint8_t *id; /* when has_id */
    int outcome;
    sj_case_change_t *change; /* NULL: the root or a word not held here */
} s_node_t;

static int
s_by_id(const void *a, const void *b)
{
    const sj_case_change_t *x = *(sj_case_change_t *const *) a;
    const sj_case_change_t *y = *(sj_case_change_t *const *) b;
    return memcmp(x->id, y->id, SJ_ID_BYTES);
}

/* The key of a change's parent (or a node): 0 for the report, else 1 and
 * the id, ordered as s_by_parent orders them. */
static int
s_key_cmp(int has_a, const uint8_t *a, int has_b, const uint8_t *b)
{
    if (has_a != has_b) {
        return has_a - has_b;
    }
    return has_a ? memcmp(a, b, SJ_ID_BYTES) : 0;
}

/* Children of one node together, each group in arrival order. */
static int
s_by_parent(const void *a, const void *b)
{
    const sj_case_change_t *x = *(sj_case_change_t *const *) a;
    const sj_case_change_t *y = *(sj_case_change_t *const *) b;
    int c = s_key_cmp(x->has_parent, x->parent, y->has_parent, y->parent);
    if (c) {
        return c;
    }
    return x->arrival < y->arrival ? -1 : x->arrival > y->arrival;
}

typedef struct {
    const sj_case_facts_t *facts;
    sj_case_change_t **by_id;     /* sorted by id */
    sj_case_change_t **by_parent; /* sorted by (has_parent, parent, arrival) */
    size_t n;
    unsigned char *seen; /* per change (index into the caller's array) */
    sj_case_change_t *base;
} s_walk_t;

/* The first of the n sorted changes whose key (the id, or with parents
 * the parent) is not below (has, key). */
static size_t
s_lower(sj_case_change_t *const *sorted, size_t n, int parents, int has, const uint8_t *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const sj_case_change_t *c = sorted[mid];
        int cmp = parents ? s_key_cmp(c->has_parent, c->parent, has, key)
                          : memcmp(c->id, key, SJ_ID_BYTES);
        if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static sj_case_change_t *
s_find(const s_walk_t *w, const uint8_t id[SJ_ID_BYTES])
{
    size_t i = s_lower(w->by_id, w->n, 0, 1, id);
    return i < w->n && memcmp(w->by_id[i]->id, id, SJ_ID_BYTES) == 0 ? w->by_id[i] : NULL;
}

/* The first index in by_parent of node's children (they follow it). */
static size_t
s_children(const s_walk_t *w, const s_node_t *node)
{
    return s_lower(w->by_parent, w->n, 1, node->has_id, node->id);
}

static int
s_is_child(const sj_case_change_t *c, const s_node_t *node)
{
    return s_key_cmp(c->has_parent, c->parent, node->has_id, node->id) == 0;
}

/* From node, follows the winners to the end; returns the last node. */
static s_node_t
s_walk_from(s_walk_t *w, s_node_t node)
{
    char why[160];
    for (;;) {
        sj_case_change_t *best = NULL;
        size_t first = s_children(w, &node);
        for (size_t i = first; i < w->n && s_is_child(w->by_parent[i], &node); i++) {
            sj_case_change_t *c = w->by_parent[i];
            if (w->seen[c - w->base]) {
                continue; /* a change that names itself or an earlier node: no loops */
            }
            w->seen[c - w->base] = 1;
            c->from = node.outcome;
            if (sj_case_may_change(w->facts, c->origin, why, sizeof why) != SJ_OK) {
                c->verdict = SJ_CASE_UNAUTHORIZED;
            } else if (!sj_outcome_transition_ok(node.outcome, c->outcome)) {
                c->verdict = SJ_CASE_INVALID;
            } else if (!best || sj_case_rank(c->origin) > sj_case_rank(best->origin)) {
                best = c; /* arrival order: an equal rank never replaces the first */
            }
        }
        if (!best) {
            return node;
        }
        for (size_t i = first; i < w->n && s_is_child(w->by_parent[i], &node); i++) {
            sj_case_change_t *c = w->by_parent[i];
            if (c != best && c->from == node.outcome && c->verdict == SJ_CASE_WAITING
                && w->seen[c - w->base]) {
                /* a candidate that lost (verdict still the initial one) */
                c->verdict = SJ_CASE_CONCURRENT;
                memcpy(c->other, best->id, SJ_ID_BYTES);
                c->other_rank = sj_case_rank(best->origin);
                if (!best->won) {
                    best->won = 1;
                    memcpy(best->other, c->id, SJ_ID_BYTES);
                }
            }
        }
        best->verdict = SJ_CASE_APPLIED;
        node.has_id = 1;
        node.id = best->id;
        node.outcome = best->outcome;
        node.change = best;
    }
}

int
sj_case_replay(const sj_case_facts_t *facts,
               const sj_case_start_t *start,
               sj_case_change_t *ch,
               size_t n,
               sj_case_state_t *out)
{
    s_walk_t w = {.facts = facts, .n = n, .base = ch};
    if (n) {
        w.by_id = malloc(n * sizeof *w.by_id);
        w.by_parent = malloc(n * sizeof *w.by_parent);
        w.seen = calloc(n, 1);
        if (!w.by_id || !w.by_parent || !w.seen) {
            free(w.by_id);
            free(w.by_parent);
            free(w.seen);
            return SJ_ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* WAITING until a walk reaches it (s_walk_from tells the
         * candidates by this initial value) */
        ch[i].verdict = SJ_CASE_WAITING;
        ch[i].from = 0;
        ch[i].won = 0;
        ch[i].other_rank = 0;
        ch[i].head = 0;
        memset(ch[i].other, 0, SJ_ID_BYTES);
        w.by_id[i] = w.by_parent[i] = &ch[i];
    }
    if (n) {
        qsort(w.by_id, n, sizeof *w.by_id, s_by_id);
        qsort(w.by_parent, n, sizeof *w.by_parent, s_by_parent);
    }
    s_node_t root = {.has_id = 0, .id = NULL, .outcome = start->root_outcome, .change = NULL};
    s_node_t end = s_walk_from(&w, root);
    int on_path = 0;
    if (start->has_word) {
        sj_case_change_t *held = s_find(&w, start->word_head);
        on_path = held && held->verdict == SJ_CASE_APPLIED;
    }
    if (start->has_word && !on_path) {
        /* The parent's word: it is in force, whatever this node saw. Its
         * own chain, as far as it is held here, is in force with it. */
        sj_case_change_t *c = s_find(&w, start->word_head);
        for (size_t steps = 0; c && steps <= n; steps++) {
            c->verdict = SJ_CASE_APPLIED;
            c->won = 0;
            w.seen[c - w.base] = 1;
            c = c->has_parent ? s_find(&w, c->parent) : NULL;
        }
        s_node_t word = {.has_id = 1,
                         .id = start->word_head,
                         .outcome = start->word_outcome,
                         .change = s_find(&w, start->word_head)};
        end = s_walk_from(&w, word);
    }
    /* What no walk reached: its parent is missing, or not in force. */
    for (size_t i = 0; i < n; i++) {
        if (w.seen[i]) {
            continue;
        }
        int parent_known =
            !ch[i].has_parent || s_find(&w, ch[i].parent)
            || (start->has_word && memcmp(ch[i].parent, start->word_head, SJ_ID_BYTES) == 0);
        ch[i].verdict = parent_known ? SJ_CASE_FOLLOWS : SJ_CASE_WAITING;
    }
    memset(out, 0, sizeof *out);
    out->outcome = end.outcome;
    out->has_head = end.has_id;
    if (end.has_id) {
        memcpy(out->head, end.id, SJ_ID_BYTES);
    }
    if (end.change) {
        end.change->head = 1;
    }
    for (size_t i = 0; i < n; i++) {
        out->n_listed += (size_t) sj_case_listed(&ch[i]);
    }
    free(w.by_id);
    free(w.by_parent);
    free(w.seen);
    return SJ_OK;
}

int
sj_case_listed(const sj_case_change_t *c)
{
    return c->verdict != SJ_CASE_APPLIED || c->won;
}

void
sj_case_verdict_text(const sj_case_change_t *c,
                     const sj_case_facts_t *facts,
                     char *buf,
                     size_t size)
{
    char other[SJ_UUID_TEXT], parent[SJ_UUID_TEXT], why[200];
    sj_uuid_format(c->other, other);
    sj_uuid_format(c->parent, parent);
    switch (c->verdict) {
    case SJ_CASE_APPLIED:
        if (c->won) {
            snprintf(buf, size, "in force over concurrent %s", other);
        } else {
            snprintf(buf, size, "%s", "");
        }
        break;
    case SJ_CASE_CONCURRENT:
        if (c->other_rank > sj_case_rank(c->origin)) {
            snprintf(buf, size, "concurrent with %s, in force: a %s's change outranks a %s's",
                     other, s_rank_name(c->other_rank), s_rank_name(sj_case_rank(c->origin)));
        } else {
            snprintf(buf, size,
                     "concurrent with %s, in force: made from the same change and"
                     " here first",
                     other);
        }
        break;
    case SJ_CASE_FOLLOWS:
        snprintf(buf, size, "follows a change not in force");
        break;
    case SJ_CASE_INVALID:
        sj_outcome_transition_text(c->from, c->outcome, why, sizeof why);
        snprintf(buf, size, "invalid: %s", why);
        break;
    case SJ_CASE_WAITING:
        snprintf(buf, size, "waiting for change %s (not held here)", parent);
        break;
    case SJ_CASE_UNAUTHORIZED:
        why[0] = '\0';
        if (sj_case_may_change(facts, c->origin, why, sizeof why) == SJ_OK) {
            snprintf(why, sizeof why, "not allowed when judged");
        }
        snprintf(buf, size, "unauthorized: %s", why);
        break;
    }
}

void
sj_case_legacy_parent(const sj_case_change_t *ch,
                      size_t n,
                      const sj_case_start_t *start,
                      const sj_case_state_t *state,
                      int prev_outcome,
                      uint8_t parent[SJ_ID_BYTES],
                      int *has_parent)
{
    *has_parent = state->has_head;
    memcpy(parent, state->head, SJ_ID_BYTES);
    if (!prev_outcome || !state->has_head || state->outcome == prev_outcome) {
        return;
    }
    /* Back along the path in force, from the head's parent. */
    const uint8_t *id = state->head;
    for (size_t steps = 0; steps <= n; steps++) {
        const sj_case_change_t *c = NULL;
        for (size_t i = 0; i < n && !c; i++) {
            if (memcmp(ch[i].id, id, SJ_ID_BYTES) == 0) {
                c = &ch[i];
            }
        }
        if (!c) {
            return; /* the parent's word, not held: nothing further back */
        }
        if (!c->has_parent) {
            if (start->root_outcome == prev_outcome) {
                *has_parent = 0;
                memset(parent, 0, SJ_ID_BYTES);
            }
            return;
        }
        id = c->parent;
        const sj_case_change_t *p = NULL;
        for (size_t i = 0; i < n && !p; i++) {
            if (memcmp(ch[i].id, id, SJ_ID_BYTES) == 0) {
                p = &ch[i];
            }
        }
        int outcome = p ? p->outcome
                        : (start->has_word && memcmp(id, start->word_head, SJ_ID_BYTES) == 0
                               ? start->word_outcome
                               : 0);
        if (outcome == prev_outcome) {
            *has_parent = 1;
            memcpy(parent, id, SJ_ID_BYTES);
            return;
        }
    }
}

/* ---- snapshots ---- */

void
sj_case_snapshot_report(sj_snapshot_t *snap, const sj_event_t *report)
{
    const sj_report_t *r = &report->report;
    snprintf(snap->occurred_on, sizeof snap->occurred_on, "%s", r->occurred_on);
    snap->channel = r->channel;
    snap->category = r->category;
    snap->kind = r->kind;
    snap->persons = r->persons;
    snprintf(snap->summary, sizeof snap->summary, "%s", report->summary);
    snprintf(snap->origin, sizeof snap->origin, "%s", report->origin);
}

void
sj_case_snapshot_state(sj_snapshot_t *snap,
                       const sj_case_state_t *state,
                       int conflict,
                       int64_t as_of_ms)
{
    snap->outcome = state->outcome;
    snap->has_head = state->has_head;
    memcpy(snap->head, state->head, SJ_ID_BYTES);
    snap->conflict = conflict ? 1 : 0;
    snap->as_of_ms = as_of_ms;
}
