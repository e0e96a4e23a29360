/* sj_model: the domain of a matter: enum names, administrative codes, dates,
 * field limits and validation. Used by every tier and by the CLI tools.
 * The names here are the ones on the wire docs, in JSON, CSV and the CLI. */
#ifndef SJ_MODEL_H
#define SJ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

#define SJ_MAX_SUMMARY_BYTES 4000 /* summary, UTF-8 */
#define SJ_MAX_OFFICER_BYTES 128
#define SJ_MAX_NOTE_BYTES    2000
#define SJ_MAX_SEALED_BYTES  4096 /* sealed personal data, ciphertext */
#define SJ_MAX_PERSONS       100000
#define SJ_ID_BYTES          16
#define SJ_EPOCH_BYTES       16
#define SJ_HASH_BYTES        32
#define SJ_CODE_MAX          12 /* digits in a village code */

/* Enumerations; value 0 is "unspecified" (invalid) as on the wire. */
typedef enum {
    SJ_FIELD_CHANNEL = 0,
    SJ_FIELD_KIND,
    SJ_FIELD_LEVEL,
    SJ_FIELD_CATEGORY,
    SJ_FIELD_OUTCOME,
    SJ_FIELD_SOURCE,
    SJ_FIELD_COUNT
} sj_field_t;

/* Name of a field ("channel", ...). */
const char *sj_field_name(sj_field_t field);
/* Number of valid values of the field (values are 1..count). */
int sj_enum_count(sj_field_t field);
/* Name of a value ("visit"), or NULL when out of range. */
const char *sj_enum_name(sj_field_t field, int value);
/* Value of a name ("visit") or of its Chinese label ("来访"): every tool takes either wherever
 * it takes an enum. 0 when neither. */
int sj_enum_value(sj_field_t field, const char *name);

/* The language of words a person reads. */
typedef enum { SJ_LANG_ZH = 0, SJ_LANG_EN } sj_lang_t;
/* The label of a value a person reads: Chinese ("来访") or English ("visit"); NULL when out of
 * range. Machine output (JSON, CSV) keeps the names of sj_enum_name. */
const char *sj_enum_label(sj_field_t field, int value, sj_lang_t lang);
/* The label of a field ("渠道" / "channel"). */
const char *sj_field_label(sj_field_t field, sj_lang_t lang);
/* The field named name ("channel") or labelled so ("渠道"). SJ_OK or SJ_EINVAL. */
SJ_NODISCARD int sj_field_parse(const char *name, sj_field_t *field);
/* As sj_enum_list, in Chinese "来访 (visit), 来信 (letter), …" for SJ_LANG_ZH. */
void sj_enum_list_lang(sj_field_t field, sj_lang_t lang, char *buf, size_t size);
/* Writes "visit, letter, phone, mailbox" into buf (for error messages). */
void sj_enum_list(sj_field_t field, char *buf, size_t size);

/* The petitioner's evaluation of a conclusion (issue 16, Satisfaction on
 * the wire): 1 satisfied 满意, 2 basically 基本满意, 3 dissatisfied 不满意,
 * 4 not_evaluated 未评价; 0 not recorded. */
#define SJ_SATISFACTION_COUNT 4
/* "satisfied", "basically", "dissatisfied", "not_evaluated"; NULL else. */
const char *sj_satisfaction_name(int value);
/* The label a person reads (满意 / satisfied ...); NULL when out of range. */
const char *sj_satisfaction_label(int value, sj_lang_t lang);
/* The value of a name or a Chinese label; 0 when neither. */
int sj_satisfaction_value(const char *text);
/* Checks a --satisfaction given with a change to outcome: SJ_OK with the
 * value in *value (0 when text is NULL or ""), or SJ_EINVAL with the
 * reason: not one of the four, or not on a conclusion (closed,
 * resolved_on_spot). */
int sj_satisfaction_check(const char *text, int outcome, int *value, char *why, size_t why_size);

/* A matter's report fields as the tools handle them (strings borrowed). */
typedef struct {
    char occurred_on[11]; /* YYYY-MM-DD */
    int channel;
    int kind;
    uint32_t persons;
    int level;
    int category;
    int outcome;
    int source;
    const char *summary;
    const char *officer;
} sj_report_t;

/* Checks every field of a report; on failure writes a reason naming the
 * field into err and returns SJ_EINVAL. */
SJ_NODISCARD int sj_report_validate(const sj_report_t *r, char *err, size_t err_size);

/* The outcome state machine and the rest of the case model: sj_case.h. */

/* Codes: 6 digits county, 9 township, 12 village. Returns the number of
 * digits (6, 9 or 12) or 0 when the text is not such a code. */
int sj_code_level(const char *code);
/* True when child is the same code as parent or lies under it. */
int sj_code_under(const char *child, const char *parent);

/* Validates "YYYY-MM-DD" as a real calendar date (1900..2999). */
int sj_date_valid(const char *s);
/* Validates "YYYY-MM" as a month of such a date (issue 17: approve, lock). */
int sj_month_valid(const char *s);
/* The test and drill hook for "today" (docs/CASES.md "The clock"): when
 * the environment variable SANJI_TODAY holds a valid YYYY-MM-DD, every tool
 * takes that day as today — due dates, days left, overdue, the refusal of a
 * future occurred date — and dates the events it makes on it (the wall
 * clock's time of day, moved by whole days). Unset: the machine's calendar. */
#define SJ_TODAY_ENV "SANJI_TODAY"
/* The valid SANJI_TODAY, or NULL (unset, empty or not a date). */
const char *sj_today_override(void);
/* SJ_EINVAL with a reason naming the variable when SANJI_TODAY is set but
 * is not a date (the tools refuse to run on it, exit 2). */
SJ_NODISCARD int sj_today_check(char *err, size_t err_size);
/* Today's date on this machine's local calendar (TZ) as YYYY-MM-DD, or
 * SANJI_TODAY. */
void sj_date_today(char out[11]);
/* Unix ms for a new event's created_ms: the wall clock, moved by whole days
 * to SANJI_TODAY when it is set. */
int64_t sj_event_now_ms(void);
/* The local date of a Unix ms time (an event's created_ms); "" when it is
 * not a date of 1900..2999. */
void sj_date_of_ms(int64_t ms, char out[11]);
/* Day arithmetic on YYYY-MM-DD (the proleptic Gregorian calendar, no time
 * zone): the day number since 1970-01-01, a date plus days (clamped to
 * 1900-01-01..2999-12-31), a - b in days. SJ_EINVAL for a date that is not
 * valid (sj_date_valid). */
SJ_NODISCARD int sj_date_days(const char *date, int64_t *days);
SJ_NODISCARD int sj_date_add(const char *date, int days, char out[11]);
SJ_NODISCARD int sj_date_diff(const char *a, const char *b, int64_t *days);
/* The local date `days` days from now (negative: before), as sj_date_today
 * gives today's: the latest occurred date a receiver accepts is
 * sj_date_local_offset(1, …) (docs/PROTOCOL.md "Checks where an event enters"). */
void sj_date_local_offset(int days, char out[11]);

/* True when the n bytes are valid UTF-8 with no NUL byte. */
int sj_utf8_valid(const char *s, size_t n);

#endif
