/* agent_cli: the village-agent commands (submit, import, outbox, update,
 * inbox, sync, run, prune, keygen) and their sj_cli table, which
 * agent_main.c hands to sj_cli_main. */
#ifndef AGENT_CLI_H
#define AGENT_CLI_H

#include <stdint.h>

#include "agent_store.h"
#include "sj_cli.h"
#include "sj_table.h"
#include "sj_update.h"
#include "sj_wire.h"

/* The tool: its options, commands and help (static, read-only). */
extern const sj_cli_tool_t agent_cli_tool;

typedef struct {
    const char *data;       /* --data DIR */
    const char *station;    /* --station CODE */
    const char *hub;        /* --hub ENDPOINT */
    const char *county_key; /* --county-key Z85 (seals personal fields) */
    const char *hub_key;    /* --hub-key Z85 (the hub's CURVE public key) */
    int insecure;           /* --insecure: no CURVE (test networks) */
    int timeout_s;          /* sync --timeout */
    int until_county;       /* sync --until-county: wait for the county's receipt too */
    int deliver_s;          /* seconds submit/import wait for the hub (0: do not try) */
    int older_than_days;    /* prune --older-than (default 30) */
    int dry_run;            /* prune --dry-run */
    int prune_after_days;   /* run: prune automatically, entries older than this (0: off) */
    int wide;               /* outbox/inbox --wide: every column (default: 100 columns) */
    sj_format_t format;
} agent_opts_t;

/* Each returns the process exit code: 0 ok, 1 failure, 2 bad usage (a bad
 * value of an option; message on stderr). */
int agent_cmd_submit(const agent_opts_t *o, const char *const *fields);
int agent_cmd_import(const agent_opts_t *o, const char *path);
int agent_cmd_outbox(const agent_opts_t *o);
/* Says on stderr which county key this station seals personal data to: its
 * fingerprint, which the county's `status` and `keygen` show too (compare
 * them by phone before recording anyone's personal data). Nothing without
 * --county-key. */
void agent_county_key_note(const agent_opts_t *o);
int agent_cmd_sync(const agent_opts_t *o);
/* inbox [--overdue]: the cases assigned to this station (issue 4) with due
 * date, days left (from this machine's date, no link needed) and current
 * outcome. */
int agent_cmd_inbox(const agent_opts_t *o, int overdue_only);
int agent_cmd_run(const agent_opts_t *o);
/* status: the outbox in numbers, whether run is running, and the hub link
 * as run last recorded it (agent_link). */
int agent_cmd_status(const agent_opts_t *o);
/* prune [--older-than DAYS] [--dry-run]: deletes the entries committed at the
 * county and older than DAYS (agent_store_prune); prints the number pruned on
 * stdout and what was kept, and why, on stderr. */
int agent_cmd_prune(const agent_opts_t *o);
/* update ID --outcome O [--satisfaction S] [--note T] [--officer X]: a
 * status change of one of this station's cases (issue 4), with the
 * petitioner's evaluation on a conclusion (issue 16); refused (exit 1,
 * nothing stored) for an unknown id or a change the outcome state machine
 * does not allow. */
int agent_cmd_update(const agent_opts_t *o,
                     const char *id,
                     const char *outcome,
                     const char *satisfaction,
                     const char *note,
                     const char *officer);

/* correct ID --field value... --reason T, or (is_void) void ID --reason T
 * (issue 15): a correction or void event of one of this station's cases,
 * in the outbox like a status change. f: the AF_* values given (NULL: not
 * given). Exit 0, 1 (unknown case, not stored), 2 (bad usage). */
int agent_cmd_fix(
    const agent_opts_t *o, const char *id, int is_void, const char *const f[], const char *reason);

/* Indexes into the fields array given to agent_cmd_submit. */
enum {
    AF_CHANNEL = 0,
    AF_KIND,
    AF_PERSONS,
    AF_LEVEL,
    AF_CATEGORY,
    AF_OUTCOME,
    AF_SOURCE,
    AF_OCCURRED,
    AF_OFFICER,
    AF_SUMMARY,
    AF_ID,
    AF_PET_NAME,
    AF_PET_ID,
    AF_PET_PHONE,
    AF_PET_ADDRESS,
    AF_COUNT
};

/* Delivers what is queued and receives what the hub holds (as `sync`), for
 * at most seconds: the page's "deliver now". */
enum { AGENT_DELIVER_DONE = 0, AGENT_DELIVER_FAILED, AGENT_DELIVER_REFUSED, AGENT_DELIVER_NO_HUB };
int agent_deliver_now(agent_store_t *st, const agent_opts_t *o, int seconds);

/* The checks of `submit`, shared with the page (agent_web.c): fills ev
 * (a new UUIDv7 unless fields[AF_ID] is given; personal fields sealed to
 * --county-key) from fields indexed by AF_*. SJ_OK, or SJ_EINVAL with the
 * AF_* index at fault in *field and the reason (English) in why. */
SJ_NODISCARD int agent_report_prepare(const agent_opts_t *o,
                                      const char *const *fields,
                                      sj_event_t *ev,
                                      int *field,
                                      char *why,
                                      size_t why_size);
/* Stores ev durably (one transaction, fsync'd), as `submit` does. *dup: the
 * id was already in the outbox (nothing new). SJ_OK or a storage error. */
SJ_NODISCARD int agent_report_store(agent_store_t *st, sj_event_t *ev, int *dup, uint64_t *num);
/* The checks and the storing of `update`, shared with the page: st NULL
 * checks the text only. SJ_OK; SJ_EINVAL (bad value or a change the state
 * machine does not allow), SJ_ENOTFOUND (unknown case) or a storage error,
 * with the reason in why and nothing stored. */
SJ_NODISCARD int agent_change_store(agent_store_t *st,
                                    const char *id,
                                    const char *outcome,
                                    const char *satisfaction,
                                    const char *note,
                                    const char *officer,
                                    sj_event_t *ev,
                                    uint64_t *num,
                                    sj_update_result_t *res,
                                    char *why,
                                    size_t why_size);

#endif
