/* agent_import: reads a JSONL file of reports (one JSON object per line) and
 * validates every line before anything is stored.
 *
 * Line format (README.md enums):
 *   {"id": "…UUID…", "occurred_on": "2007-03-05", "channel": "visit",
 *    "kind": "collective", "persons": 12, "level": "county", "category": "land",
 *    "outcome": "resolved_on_spot", "source": "leader_reception",
 *    "summary": "土地承包纠纷", "officer": "信息员-017",
 *    "petitioner_name": "…", "petitioner_id": "…", "petitioner_phone": "…",
 *    "petitioner_address": "…"}
 * Required: channel, level, summary. Defaults: id made as UUIDv7 (has_id = 0),
 * outcome pending, source direct, category other, occurred_on today,
 * persons 1, kind derived from persons (1-4 individual, 5+ collective).
 * Errors (each with its 1-based line number): invalid JSON, not an object,
 * unknown field, wrong JSON type, bad enum, bad date, bad UUID, invalid UTF-8
 * (checked on the raw bytes), text over the limits of sj_model.h, a line over
 * AGENT_IMPORT_MAX_LINE bytes, persons out of range for the kind.
 * Blank (whitespace-only) lines are skipped. */
#ifndef AGENT_IMPORT_H
#define AGENT_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_model.h"

#define AGENT_IMPORT_MAX_LINE     65536
#define AGENT_IMPORT_MAX_PERSONAL 256 /* bytes per petitioner field */

typedef struct {
    size_t line; /* 1-based line number in the file */
    uint8_t id[16];
    int has_id;         /* 0: the caller makes a UUIDv7 */
    sj_report_t report; /* summary/officer point into the strings below */
    char *summary;      /* owned */
    char *officer;      /* owned, "" when absent */
    /* petitioner fields: owned, NULL when absent (sealed by the caller) */
    char *petitioner_name;
    char *petitioner_id;
    char *petitioner_phone;
    char *petitioner_address;
    char *receiving_leader; /* owned, "" when absent (issue 16 item 6) */
    char *portfolio;        /* owned, "" when absent */
} agent_import_item_t;

typedef struct {
    size_t line;
    char reason[256]; /* e.g. "channel: 'telegram' is not one of: visit, letter, phone, mailbox" */
} agent_import_error_t;

typedef struct {
    agent_import_item_t *items;
    size_t n_items;
    agent_import_error_t *errors;
    size_t n_errors;
} agent_import_result_t;

/* Parses every line of in. Returns SJ_OK when the file could be read (check
 * n_errors for bad lines), SJ_EIO on a read error, SJ_ENOMEM on OOM. The
 * result is filled in either case; free it with agent_import_result_free.
 * The caller decides what to do; nothing is stored here. */
SJ_NODISCARD int agent_import_parse(FILE *in, agent_import_result_t *out);
/* Parses one line (len bytes, no newline needed) into item, or writes the
 * reason into err and returns SJ_EINVAL. Used by the parser and the fuzz target. */
SJ_NODISCARD int agent_import_parse_line(const char *line,
                                         size_t len,
                                         size_t lineno,
                                         agent_import_item_t *item,
                                         agent_import_error_t *err);
void agent_import_item_free(agent_import_item_t *item);
void agent_import_result_free(agent_import_result_t *res);

#endif
