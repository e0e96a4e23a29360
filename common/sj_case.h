/* sj_case: the case model, written once for every tier (docs/CASES.md).
 *
 * A reported matter is the root of a case; every status change names the
 * change its author saw in force (its parent: StatusChange.prev_change,
 * empty = the report's outcome with no change in force), so a case's
 * changes form a tree rooted at the report. This module holds, as pure
 * functions over plain structs (no SQL: each store loads its rows into
 * these structs and writes the results back, see sj_case_db.h):
 *
 *   - the outcome names and predicates, and the transition table;
 *   - the authority rule: who may change a case, who may assign it;
 *   - the replay walk: which change is in force, and why each other change
 *     is not (the conflict list). No wall clock takes part: created_ms is
 *     for display only, so a change dated 2100 pins nothing;
 *   - the parent of a change that names none (an older sender);
 *   - the snapshot a down item carries, built alike by county and hub.
 *
 * Thread-safety: every function is reentrant. */
#ifndef SJ_CASE_H
#define SJ_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"
#include "sj_model.h"
#include "sj_wire.h"

/* The outcomes (SJ_FIELD_OUTCOME values, as on the wire). Macros, so that
 * the SQL lists below are built from them. */
#define SJ_OUTCOME_PENDING          1
#define SJ_OUTCOME_RESOLVED_ON_SPOT 2
#define SJ_OUTCOME_ACCEPTED         3
#define SJ_OUTCOME_CLOSED           4
#define SJ_OUTCOME_WITHDRAWN        5

#define SJ_CASE_STR_(x) #x
#define SJ_CASE_STR(x)  SJ_CASE_STR_(x)
/* For SQL text: "outcome IN " SJ_OUTCOME_OPEN_SQL. */
#define SJ_OUTCOME_OPEN_SQL \
    "(" SJ_CASE_STR(SJ_OUTCOME_PENDING) ", " SJ_CASE_STR(SJ_OUTCOME_ACCEPTED) ")"
#define SJ_OUTCOME_CONCLUDED_SQL \
    "(" SJ_CASE_STR(SJ_OUTCOME_RESOLVED_ON_SPOT) ", " SJ_CASE_STR(SJ_OUTCOME_CLOSED) ")"
#define SJ_OUTCOME_FINAL_SQL \
    "(" SJ_CASE_STR(SJ_OUTCOME_CLOSED) ", " SJ_CASE_STR(SJ_OUTCOME_WITHDRAWN) ")"

/* Open: pending or accepted (work is due). */
int sj_outcome_is_open(int outcome);
/* Concluded: resolved on the spot or closed. */
int sj_outcome_is_concluded(int outcome);
/* Final for assignment: closed or withdrawn (reopen before assigning). */
int sj_outcome_is_final(int outcome);

/* The outcome state machine (issue 4). A status change moves a case along
 * these edges only:
 *   pending          -> resolved_on_spot | accepted | withdrawn
 *   accepted         -> closed | withdrawn
 *   closed           -> accepted          (a review, 复查, reopens the case)
 *   resolved_on_spot -> accepted          (a review reopens it)
 *   withdrawn        -> (nothing: final)
 * Staying in the same outcome is not a change. True (1) when from -> to is
 * an edge. */
int sj_outcome_transition_ok(int from, int to);
/* Writes "pending, resolved_on_spot" (the outcomes reachable from `from`,
 * "none (withdrawn is final)" when none) into buf. */
void sj_outcome_next_list(int from, char *buf, size_t size);
/* The reason text for a refused change, e.g. "a case that is closed cannot
 * become withdrawn (from closed: accepted)". */
void sj_outcome_transition_text(int from, int to, char *buf, size_t size);

/* ---- authority ---- */

/* What decides who may touch a case. Strings are codes (sj_model.h). */
typedef struct {
    char station[SJ_CODE_MAX + 1]; /* the reporting station ("" = not known here) */
    char county[SJ_CODE_MAX + 1];  /* the county's code; "000000" when the store has none */
    const char (*assignees)[SJ_CODE_MAX + 1]; /* every assignee, current and past (borrowed) */
    size_t n_assignees;
} sj_case_facts_t;

/* Authority rank of an origin: county (6 digits) 3, township (9) 2,
 * station (12) 1, anything else 0. */
int sj_case_rank(const char *origin);
/* "county", "township", "station" (or "origin") for an origin code. */
const char *sj_case_actor(const char *origin);

/* May `actor` change the case (a status change, later a correction)? Yes
 * for: the reporting station; a code in the subtree of any current or past
 * assignee; the case's township hub (the first 9 digits of the reporting
 * station); the county (facts->county, or "000000", the county's origin
 * when its store has none: only the county's own stream carries a 6-digit
 * origin). SJ_OK, or SJ_EINVAL with a reason such as "station 230523100202
 * may not change a case of station 230523100201". A case whose station is
 * not known (facts->station "") is changed only by the county. */
SJ_NODISCARD int
sj_case_may_change(const sj_case_facts_t *c, const char *actor, char *reason, size_t reason_size);

/* May `assigner` assign the case to `assignee`? Only the county, or the
 * township that holds the case (its reporting station's township, or a
 * township the case is or was assigned into: an assignee under it), and
 * only to a 9- or 12-digit code under the assigner (for a county store
 * without a code: any township or station). With outcome not 0 the case
 * must not be final (sj_outcome_is_final); 0 skips that check (an
 * assignment judged on arrival: the assigner's view of the outcome may
 * differ from this node's). SJ_OK, or SJ_EINVAL with the reason (e.g.
 * "township 230523101 may not assign a case of township 230523100"). */
SJ_NODISCARD int sj_case_may_assign(const sj_case_facts_t *c,
                                    int outcome,
                                    const char *assigner,
                                    const char *assignee,
                                    char *reason,
                                    size_t reason_size);

/* ---- the replay walk ---- */

typedef enum {
    SJ_CASE_APPLIED = 0,  /* on the path in force (the head is its last change) */
    SJ_CASE_CONCURRENT,   /* lost to a sibling made from the same change (other: the winner) */
    SJ_CASE_FOLLOWS,      /* follows a change that is not in force */
    SJ_CASE_INVALID,      /* its outcome is not reachable from its parent's (from) */
    SJ_CASE_WAITING,      /* its parent is not held here (yet): applied when it comes */
    SJ_CASE_UNAUTHORIZED, /* its origin may not change this case (sj_case_may_change) */
} sj_case_verdict_t;

/* One status change of a case as a store holds it. */
typedef struct {
    /* in */
    uint8_t id[SJ_ID_BYTES];
    uint8_t parent[SJ_ID_BYTES]; /* valid when has_parent */
    int has_parent;              /* 0: made from the report with no change in force */
    char origin[SJ_CODE_MAX + 1];
    int outcome;     /* the new outcome it sets */
    int64_t arrival; /* the store's own row order (county eid, hub hub_seq): first = lowest */
    /* out (sj_case_replay) */
    sj_case_verdict_t verdict;
    int from;                   /* the parent's outcome (CONCURRENT, INVALID, APPLIED) */
    int won;                    /* APPLIED over concurrent siblings (other: one of them) */
    uint8_t other[SJ_ID_BYTES]; /* CONCURRENT: the winner; won: the first loser */
    int other_rank;             /* CONCURRENT: the winner's sj_case_rank */
    int head;                   /* 1 for the change in force */
} sj_case_change_t;

/* Where the walk starts. */
typedef struct {
    int root_outcome; /* the outcome the report arrived with (at this node) */
    /* The hub's view: the parent's word (the latest county snapshot's head
     * and outcome). When has_word and that head is not on this node's own
     * path, the walk goes on from it instead: (word_head, word_outcome),
     * then the held changes whose parent is word_head. */
    int has_word;
    uint8_t word_head[SJ_ID_BYTES];
    int word_outcome;
} sj_case_start_t;

/* What is in force after the walk. */
typedef struct {
    int outcome;               /* in force */
    int has_head;              /* 0: no change in force (the report's outcome) */
    uint8_t head[SJ_ID_BYTES]; /* the change in force (may be the word's head) */
    size_t n_listed;           /* changes sj_case_listed() lists */
} sj_case_state_t;

/* The walk (docs/CASES.md): from the root (the report), at the change in
 * force, the candidates are its children that the actor may make
 * (sj_case_may_change) and whose outcome is reachable from its outcome;
 * the winner is the one of highest sj_case_rank, then earliest arrival.
 * The other candidates are CONCURRENT, anything under a change not in force
 * FOLLOWS, a child that is not reachable is INVALID, one whose parent is
 * not among ch[] (nor the root or the word's head) WAITING. Sets every
 * change's verdict and the state. ch is reordered by nothing; n may be 0.
 * SJ_OK, or SJ_ENOMEM (nothing set). */
SJ_NODISCARD int sj_case_replay(const sj_case_facts_t *facts,
                                const sj_case_start_t *start,
                                sj_case_change_t *ch,
                                size_t n,
                                sj_case_state_t *out);

/* True when the change is listed as a conflict after the walk: every
 * change not applied, and a change applied over concurrent siblings (both
 * sides of a conflict are listed). */
int sj_case_listed(const sj_case_change_t *c);

/* The reason a listed change is listed, e.g. "concurrent with 0190...: a
 * township change outranks a station's", "invalid: a case that is closed
 * cannot become withdrawn (...)", "waiting for change 0190... (not held
 * here)", "unauthorized: station X may not change a case of station Y",
 * "in force over concurrent 0190...". "" for a change that is not listed. */
void sj_case_verdict_text(const sj_case_change_t *c,
                          const sj_case_facts_t *facts,
                          char *buf,
                          size_t size);

/* The parent of a change that names none (an older sender, or a row made
 * before the parent was recorded), given the walk before it arrived: the
 * change in force; or, when its prev_outcome (0: not given) names an
 * earlier outcome on the path in force, the latest change on that path
 * that set it (the state its author saw), the root when that is the
 * report's outcome. */
void sj_case_legacy_parent(const sj_case_change_t *ch,
                           size_t n,
                           const sj_case_start_t *start,
                           const sj_case_state_t *state,
                           int prev_outcome,
                           uint8_t parent[SJ_ID_BYTES],
                           int *has_parent);

/* ---- the snapshot a down item carries ---- */

/* The report's fields of a case (occurred_on, channel, category, kind,
 * persons, summary, origin) from its report event; never personal data. */
void sj_case_snapshot_report(sj_snapshot_t *snap, const sj_event_t *report);
/* The case's state at the sender: outcome and head in force, the conflict
 * flag, when it was taken. */
void sj_case_snapshot_state(sj_snapshot_t *snap,
                            const sj_case_state_t *state,
                            int conflict,
                            int64_t as_of_ms);

#endif
