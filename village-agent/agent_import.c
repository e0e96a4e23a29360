/* agent_import: JSONL report import with per-line validation (see agent_import.h).
 *
 * Every line is checked in this order, and the first problem found is the
 * line's one error: length, NUL bytes and UTF-8 of the raw bytes, JSON syntax
 * (nothing but whitespace may follow the object), top-level type, escaped NUL
 * (\u0000, which cJSON would silently cut a string at), unknown and duplicate
 * keys in document order, then each field in the order of s_fields, and last
 * sj_report_validate on the filled report so the rules of sj_model hold.
 * A UTF-8 BOM is stripped from line 1 here; cJSON itself also skips one at
 * the start of any line, which is harmless (concatenated files).
 *
 * Invariant: an item handed out is complete and passed sj_report_validate;
 * a line that failed left nothing allocated behind. */
#include "agent_import.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "sj_i18n.h"
#include "sj_ids.h"

#define S_QUOTE_MAX    60 /* bytes of an input value echoed in a reason */
#define S_FIRST_GROWTH 16 /* first capacity of the items and errors arrays */

static const char s_bom[] = "\xEF\xBB\xBF";

/* The fields of a line, in the order they are checked. */
typedef enum {
    S_ID = 0,
    S_OCCURRED_ON,
    S_CHANNEL,
    S_KIND,
    S_PERSONS,
    S_LEVEL,
    S_CATEGORY,
    S_OUTCOME,
    S_SOURCE,
    S_SUMMARY,
    S_OFFICER,
    S_PETITIONER_NAME,
    S_PETITIONER_ID,
    S_PETITIONER_PHONE,
    S_PETITIONER_ADDRESS,
    S_RECEIVING_LEADER,
    S_PORTFOLIO,
    S_FIELD_COUNT
} s_field_t;

static const char *const s_fields[S_FIELD_COUNT] = {
    "id",
    "occurred_on",
    "channel",
    "kind",
    "persons",
    "level",
    "category",
    "outcome",
    "source",
    "summary",
    "officer",
    "petitioner_name",
    "petitioner_id",
    "petitioner_phone",
    "petitioner_address",
    "receiving_leader",
    "portfolio",
};

/* Writes the reason into err and returns SJ_EINVAL. */
static int s_fail(agent_import_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
s_fail(agent_import_error_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void) vsnprintf(err->reason, sizeof err->reason, fmt, ap); /* cut to fit */
    va_end(ap);
    return SJ_EINVAL;
}

/* Copies input text for echoing in a reason: at most S_QUOTE_MAX bytes, cut
 * on a UTF-8 character boundary (followed by "..."), control characters shown
 * as '?', so a hostile value can neither overflow the reason nor drive a
 * terminal. */
static void
s_quote(const char *s, char out[S_QUOTE_MAX + 4])
{
    size_t n = strlen(s);
    size_t cut = n;
    if (n > S_QUOTE_MAX) {
        cut = S_QUOTE_MAX;
        while (cut > 0 && ((unsigned char) s[cut] & 0xC0) == 0x80) {
            cut--;
        }
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char) s[i];
        out[i] = s[i];
        if (c < 0x20 || c == 0x7F) {
            out[i] = '?';
        }
    }
    if (cut < n) {
        memcpy(out + cut, "...", 4);
    } else {
        out[cut] = '\0';
    }
}

static const char *
s_type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) {
        return "a string";
    }
    if (cJSON_IsNumber(v)) {
        return "a number";
    }
    if (cJSON_IsBool(v)) {
        return "a boolean";
    }
    if (cJSON_IsNull(v)) {
        return "null";
    }
    if (cJSON_IsArray(v)) {
        return "an array";
    }
    return "an object";
}

static int
s_is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v') {
            return 0;
        }
    }
    return 1;
}

static int
s_is_json_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return 0;
        }
    }
    return 1;
}

/* True when a string in the (syntactically valid) JSON text holds the escape
 * \u0000. cJSON decodes it to a NUL byte and cuts the string there, which
 * would let "summary\u0000x" pass as "summary", so the line is refused. */
static int
s_has_escaped_nul(const char *s, size_t n)
{
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_string) {
            in_string = s[i] == '"';
        } else if (s[i] == '"') {
            in_string = 0;
        } else if (s[i] == '\\' && i + 1 < n) {
            if (s[i + 1] == 'u' && n - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0) {
                return 1;
            }
            i++; /* skip the escaped character, e.g. the quote in \" */
        }
    }
    return 0;
}

static int
s_field_find(const char *key)
{
    for (int f = 0; f < S_FIELD_COUNT; f++) {
        if (strcmp(s_fields[f], key) == 0) {
            return f;
        }
    }
    return -1;
}

/* Copy of s into *out (malloc), or SJ_ENOMEM. Not strdup, so that the unit
 * test can fail these allocations with --wrap=malloc. */
static int
s_copy(const char *s, char **out)
{
    size_t n = strlen(s);
    *out = malloc(n + 1);
    if (!*out) {
        return SJ_ENOMEM;
    }
    memcpy(*out, s, n + 1);
    return SJ_OK;
}

/* The value of field f as a string in *out, or NULL when the field is absent;
 * SJ_EINVAL when it is present with another JSON type. */
static int
s_get_string(const cJSON *v, s_field_t f, const char **out, agent_import_error_t *err)
{
    *out = NULL;
    if (!v) {
        return SJ_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        return s_fail(err, _("%s: must be a string, not %s"), s_fields[f], s_type_name(v));
    }
    *out = v->valuestring;
    return SJ_OK;
}

/* An enum field: its value into *value, or def when absent; def 0 makes the
 * field required (0 is never a valid enum value). */
static int
s_get_enum(
    const cJSON *v, s_field_t f, sj_field_t ef, int def, int *value, agent_import_error_t *err)
{
    const char *s;
    if (s_get_string(v, f, &s, err) != SJ_OK) {
        return SJ_EINVAL;
    }
    if (!s) {
        if (!def) {
            return s_fail(err, _("%s: missing (required)"), s_fields[f]);
        }
        *value = def;
        return SJ_OK;
    }
    *value = sj_enum_value(ef, s);
    if (*value == 0) {
        char quoted[S_QUOTE_MAX + 4];
        char list[160];
        s_quote(s, quoted);
        sj_enum_list(ef, list, sizeof list);
        return s_fail(err, _("%s: '%s' is not one of: %s"), s_fields[f], quoted, list);
    }
    return SJ_OK;
}

static int
s_get_id(const cJSON *v, agent_import_item_t *item, agent_import_error_t *err)
{
    static const uint8_t nil[16] = {0};
    const char *s;
    uint8_t id[16];
    if (s_get_string(v, S_ID, &s, err) != SJ_OK) {
        return SJ_EINVAL;
    }
    if (!s) {
        return SJ_OK;
    }
    char quoted[S_QUOTE_MAX + 4];
    s_quote(s, quoted);
    if (sj_uuid_parse(s, id) != SJ_OK) {
        return s_fail(err, _("id: '%s' is not a UUID"), quoted);
    }
    /* The nil UUID is what an unset id looks like downstream. */
    if (memcmp(id, nil, sizeof id) == 0) {
        return s_fail(err, _("id: '%s' is the nil UUID"), quoted);
    }
    memcpy(item->id, id, sizeof id);
    item->has_id = 1;
    return SJ_OK;
}

static int
s_get_date(const cJSON *v, char out[11], agent_import_error_t *err)
{
    const char *s;
    if (s_get_string(v, S_OCCURRED_ON, &s, err) != SJ_OK) {
        return SJ_EINVAL;
    }
    if (!s) {
        sj_date_today(out);
        return SJ_OK;
    }
    if (!sj_date_valid(s)) {
        char quoted[S_QUOTE_MAX + 4];
        s_quote(s, quoted);
        return s_fail(err, _("occurred_on: '%s' is not a date YYYY-MM-DD"), quoted);
    }
    char today[11];
    sj_date_today(today);
    if (strcmp(s, today) > 0) {
        return s_fail(err,
                      _("occurred_on: '%s' is after today (%s on this machine): a matter cannot"
                        " have happened yet; check the date, or this machine's clock"),
                      s, today);
    }
    memcpy(out, s, 11); /* sj_date_valid checked strlen == 10 */
    return SJ_OK;
}

static int
s_get_persons(const cJSON *v, uint32_t *out, agent_import_error_t *err)
{
    if (!v) {
        *out = 1;
        return SJ_OK;
    }
    if (!cJSON_IsNumber(v)) {
        return s_fail(err, _("persons: must be a whole number, not %s"), s_type_name(v));
    }
    double d = v->valuedouble;
    /* Beyond +-1e15 every double is whole, and the cast stays defined. */
    if (d > -1e15 && d < 1e15 && d != (double) (long long) d) {
        return s_fail(err, _("persons: must be a whole number, not %g"), d);
    }
    if (!(d >= 1 && d <= SJ_MAX_PERSONS)) {
        return s_fail(err, _("persons: %.15g is out of range (1..%d)"), d, SJ_MAX_PERSONS);
    }
    *out = (uint32_t) d;
    return SJ_OK;
}

/* A petitioner field: optional text, copied when non-empty. */
static int
s_get_personal(const cJSON *v, s_field_t f, char **out, agent_import_error_t *err)
{
    const char *s;
    if (s_get_string(v, f, &s, err) != SJ_OK) {
        return SJ_EINVAL;
    }
    if (!s || !*s) {
        return SJ_OK;
    }
    size_t n = strlen(s);
    if (n > AGENT_IMPORT_MAX_PERSONAL) {
        return s_fail(err, _("%s: too long (%zu bytes, at most %d)"), s_fields[f], n,
                      AGENT_IMPORT_MAX_PERSONAL);
    }
    if (!sj_utf8_valid(s, n)) {
        return s_fail(err, _("%s: not valid UTF-8"), s_fields[f]);
    }
    return s_copy(s, out);
}

/* Fills item from the fields of one object. */
static int
s_fill(const cJSON *const v[S_FIELD_COUNT], agent_import_item_t *item, agent_import_error_t *err)
{
    sj_report_t *r = &item->report;
    const char *s;
    int rc;

    if ((rc = s_get_id(v[S_ID], item, err)) != SJ_OK
        || (rc = s_get_date(v[S_OCCURRED_ON], r->occurred_on, err)) != SJ_OK
        || (rc = s_get_enum(v[S_CHANNEL], S_CHANNEL, SJ_FIELD_CHANNEL, 0, &r->channel, err))
               != SJ_OK
        || (rc = s_get_enum(v[S_KIND], S_KIND, SJ_FIELD_KIND, -1, &r->kind, err)) != SJ_OK
        || (rc = s_get_persons(v[S_PERSONS], &r->persons, err)) != SJ_OK
        || (rc = s_get_enum(v[S_LEVEL], S_LEVEL, SJ_FIELD_LEVEL, 0, &r->level, err)) != SJ_OK
        || (rc = s_get_enum(v[S_CATEGORY], S_CATEGORY, SJ_FIELD_CATEGORY,
                            sj_enum_value(SJ_FIELD_CATEGORY, "other"), &r->category, err))
               != SJ_OK
        || (rc = s_get_enum(v[S_OUTCOME], S_OUTCOME, SJ_FIELD_OUTCOME,
                            sj_enum_value(SJ_FIELD_OUTCOME, "pending"), &r->outcome, err))
               != SJ_OK
        || (rc = s_get_enum(v[S_SOURCE], S_SOURCE, SJ_FIELD_SOURCE,
                            sj_enum_value(SJ_FIELD_SOURCE, "direct"), &r->source, err))
               != SJ_OK) {
        return rc;
    }
    /* kind used -1 as "absent" above; derive it from persons (README.md). */
    if (r->kind == -1) {
        r->kind = sj_enum_value(SJ_FIELD_KIND, r->persons <= 4 ? "individual" : "collective");
    }

    if ((rc = s_get_string(v[S_SUMMARY], S_SUMMARY, &s, err)) != SJ_OK) {
        return rc;
    }
    if (!s) {
        return s_fail(err, _("summary: missing (required)"));
    }
    if ((rc = s_copy(s, &item->summary)) != SJ_OK) {
        return rc;
    }
    if ((rc = s_get_string(v[S_OFFICER], S_OFFICER, &s, err)) != SJ_OK) {
        return rc;
    }
    if ((rc = s_copy(s ? s : "", &item->officer)) != SJ_OK) {
        return rc;
    }
    r->summary = item->summary;
    r->officer = item->officer;
    /* the reception register (issue 16 item 6): checked by sj_report_validate */
    if ((rc = s_get_string(v[S_RECEIVING_LEADER], S_RECEIVING_LEADER, &s, err)) != SJ_OK
        || (rc = s_copy(s ? s : "", &item->receiving_leader)) != SJ_OK
        || (rc = s_get_string(v[S_PORTFOLIO], S_PORTFOLIO, &s, err)) != SJ_OK
        || (rc = s_copy(s ? s : "", &item->portfolio)) != SJ_OK) {
        return rc;
    }
    r->receiving_leader = item->receiving_leader;
    r->portfolio = item->portfolio;

    if ((rc = s_get_personal(v[S_PETITIONER_NAME], S_PETITIONER_NAME, &item->petitioner_name, err))
            != SJ_OK
        || (rc = s_get_personal(v[S_PETITIONER_ID], S_PETITIONER_ID, &item->petitioner_id, err))
               != SJ_OK
        || (rc = s_get_personal(v[S_PETITIONER_PHONE], S_PETITIONER_PHONE, &item->petitioner_phone,
                                err))
               != SJ_OK
        || (rc = s_get_personal(v[S_PETITIONER_ADDRESS], S_PETITIONER_ADDRESS,
                                &item->petitioner_address, err))
               != SJ_OK) {
        return rc;
    }

    if (sj_report_validate(r, err->reason, sizeof err->reason) != SJ_OK) {
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* Makes room for one more element in *array (of n elements of size bytes).
 * The capacity is not stored (the result struct has no field for it): it is
 * S_FIRST_GROWTH, then doubles whenever n reaches a power of two, so n
 * implies it. On failure *array is unchanged and still owned by the caller. */
static int
s_reserve(void **array, size_t n, size_t size)
{
    if (n != 0 && (n < S_FIRST_GROWTH || (n & (n - 1)) != 0)) {
        return SJ_OK;
    }
    size_t cap = n ? n * 2 : S_FIRST_GROWTH;
    if (cap > SIZE_MAX / size) {
        return SJ_ENOMEM;
    }
    void *grown = realloc(*array, cap * size);
    if (!grown) {
        return SJ_ENOMEM;
    }
    *array = grown;
    return SJ_OK;
}

int
agent_import_parse(FILE *in, agent_import_result_t *out)
{
    char *buf = NULL;
    size_t cap = 0;
    size_t lineno = 0;
    int rc = SJ_OK;

    assert(in && out);
    memset(out, 0, sizeof *out);
    for (;;) {
        errno = 0;
        ssize_t got = getline(&buf, &cap, in);
        if (got < 0) {
            if (ferror(in)) {
                rc = SJ_EIO;
            } else if (!feof(in)) {
                rc = (errno == ENOMEM) ? SJ_ENOMEM : SJ_EIO;
            }
            break;
        }
        lineno++;
        const char *line = buf;
        size_t len = (size_t) got;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
            if (len > 0 && line[len - 1] == '\r') {
                len--;
            }
        }
        if (lineno == 1 && len >= 3 && memcmp(line, s_bom, 3) == 0) {
            line += 3;
            len -= 3;
        }
        if (s_is_blank(line, len)) {
            continue;
        }

        agent_import_item_t item;
        agent_import_error_t err;
        void *array;
        rc = agent_import_parse_line(line, len, lineno, &item, &err);
        if (rc == SJ_OK) {
            array = out->items;
            rc = s_reserve(&array, out->n_items, sizeof item);
            if (rc != SJ_OK) {
                agent_import_item_free(&item);
                break;
            }
            out->items = array;
            out->items[out->n_items++] = item;
        } else if (rc == SJ_EINVAL) {
            array = out->errors;
            rc = s_reserve(&array, out->n_errors, sizeof err);
            if (rc != SJ_OK) {
                break;
            }
            out->errors = array;
            out->errors[out->n_errors++] = err;
        } else {
            break;
        }
    }
    free(buf);
    return rc;
}

int
agent_import_parse_line(const char *line,
                        size_t len,
                        size_t lineno,
                        agent_import_item_t *item,
                        agent_import_error_t *err)
{
    cJSON *root = NULL;
    const char *end = NULL;
    const cJSON *v[S_FIELD_COUNT] = {0};
    int rc;

    assert(item && err && (line || len == 0));
    memset(item, 0, sizeof *item);
    memset(err, 0, sizeof *err);
    item->line = lineno;
    err->line = lineno;

    if (len > AGENT_IMPORT_MAX_LINE) {
        rc = s_fail(err, _("line too long (%zu bytes, at most %d)"), len, AGENT_IMPORT_MAX_LINE);
        goto out;
    }
    const char *nul = len ? memchr(line, '\0', len) : NULL;
    if (nul) {
        rc = s_fail(err, _("NUL byte at column %zu"), (size_t) (nul - line) + 1);
        goto out;
    }
    if (!sj_utf8_valid(line, len)) {
        rc = s_fail(err, _("invalid UTF-8"));
        goto out;
    }
    /* cJSON cannot tell a syntax error from OOM; both are reported here as
     * invalid JSON, which at worst refuses one line. */
    root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!end || end < line || end > line + len) {
        end = NULL; /* no position to report */
    }
    if (root && end) {
        /* cJSON stops after the value; only whitespace may follow it. */
        while (end < line + len && s_is_json_space(end, 1)) {
            end++;
        }
    }
    if (!root || !end || end != line + len) {
        if (end) {
            rc = s_fail(err, _("invalid JSON (column %zu)"), (size_t) (end - line) + 1);
        } else {
            rc = s_fail(err, _("invalid JSON"));
        }
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        rc = s_fail(err, _("line is not a JSON object"));
        goto out;
    }
    if (s_has_escaped_nul(line, len)) {
        rc = s_fail(err, _("\\u0000 (NUL) is not allowed in text"));
        goto out;
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        char quoted[S_QUOTE_MAX + 4];
        int f = s_field_find(c->string);
        if (f < 0) {
            s_quote(c->string, quoted);
            rc = s_fail(err, _("unknown field '%s'"), quoted);
            goto out;
        }
        if (v[f]) {
            rc = s_fail(err, _("duplicate field '%s'"), s_fields[f]);
            goto out;
        }
        v[f] = c;
    }
    rc = s_fill(v, item, err);
out:
    cJSON_Delete(root);
    if (rc != SJ_OK) {
        agent_import_item_free(item);
        item->line = lineno;
        if (rc == SJ_ENOMEM) {
            (void) snprintf(err->reason, sizeof err->reason, _("out of memory"));
        }
    }
    return rc;
}

void
agent_import_item_free(agent_import_item_t *item)
{
    if (!item) {
        return;
    }
    free(item->summary);
    free(item->officer);
    free(item->petitioner_name);
    free(item->petitioner_id);
    free(item->petitioner_phone);
    free(item->petitioner_address);
    free(item->receiving_leader);
    free(item->portfolio);
    memset(item, 0, sizeof *item);
}

void
agent_import_result_free(agent_import_result_t *res)
{
    if (!res) {
        return;
    }
    for (size_t i = 0; i < res->n_items; i++) {
        agent_import_item_free(&res->items[i]);
    }
    free(res->items);
    free(res->errors);
    memset(res, 0, sizeof *res);
}
