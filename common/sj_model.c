#include "sj_model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sj_i18n.h"
#include "sj_ids.h"

static const char *const s_channel[] = {"visit", "letter", "phone", "mailbox"};
static const char *const s_kind[] = {"individual", "collective"};
static const char *const s_level[] = {"village", "township", "county",
                                      "city",    "province", "capital"};
static const char *const s_category[] = {"land", "enterprise_restructuring", "employment",
                                         "housing_demolition", "other"};
static const char *const s_outcome[] = {"pending", "resolved_on_spot", "accepted", "closed",
                                        "withdrawn"};
static const char *const s_source[] = {"direct", "leader_reception", "assigned", "review"};

/* The words a person reads (USERS.md of the project's history; README "Words"): the Chinese
 * label and the English one of every value, in the order of the names above. One table for
 * the tools, the exports and the pages. */
static const char *const s_channel_zh[] = {"来访", "来信", "来电", "信箱"};
static const char *const s_channel_en[] = {"visit", "letter", "phone call", "mailbox"};
static const char *const s_kind_zh[] = {"个体访", "集体访"};
static const char *const s_kind_en[] = {"individual", "collective"};
static const char *const s_level_zh[] = {"在村", "到乡镇", "到县", "赴市", "赴省", "进京"};
static const char *const s_level_en[] = {"in the village", "to the township", "to the county",
                                         "to the city",    "to the province", "to the capital"};
static const char *const s_category_zh[] = {"土地", "企业改制", "劳动就业", "房屋拆迁", "其他"};
static const char *const s_category_en[] = {"land", "enterprise restructuring", "employment",
                                            "housing and demolition", "other"};
static const char *const s_outcome_zh[] = {"待处理", "当场解决", "受理", "办结", "撤回"};
static const char *const s_outcome_en[] = {"pending", "resolved on the spot", "accepted",
                                           "concluded", "withdrawn"};
static const char *const s_source_zh[] = {"直接反映", "领导接访", "上级交办", "复查复核"};
static const char *const s_source_en[] = {"direct", "leader reception", "assigned from above",
                                          "review"};

static const struct {
    const char *field;
    const char *label_zh, *label_en;
    const char *const *names;
    const char *const *zh;
    const char *const *en;
    int count;
} s_fields[SJ_FIELD_COUNT] = {
    {"channel", "渠道", "channel", s_channel, s_channel_zh, s_channel_en, 4},
    {"kind", "类型", "kind", s_kind, s_kind_zh, s_kind_en, 2},
    {"level", "去向", "level lodged", s_level, s_level_zh, s_level_en, 6},
    {"category", "类别", "category", s_category, s_category_zh, s_category_en, 5},
    {"outcome", "处理结果", "outcome", s_outcome, s_outcome_zh, s_outcome_en, 5},
    {"source", "来源", "source", s_source, s_source_zh, s_source_en, 4},
};

static const char *const s_satisfaction[] = {"satisfied", "basically", "dissatisfied",
                                             "not_evaluated"};
static const char *const s_satisfaction_zh[] = {"满意", "基本满意", "不满意", "未评价"};
static const char *const s_satisfaction_en[] = {"satisfied", "basically satisfied", "dissatisfied",
                                                "not evaluated"};

const char *
sj_satisfaction_name(int value)
{
    return value >= 1 && value <= SJ_SATISFACTION_COUNT ? s_satisfaction[value - 1] : NULL;
}

const char *
sj_satisfaction_label(int value, sj_lang_t lang)
{
    if (value < 1 || value > SJ_SATISFACTION_COUNT) {
        return NULL;
    }
    return lang == SJ_LANG_ZH ? s_satisfaction_zh[value - 1] : s_satisfaction_en[value - 1];
}

int
sj_satisfaction_value(const char *text)
{
    for (int i = 0; text && i < SJ_SATISFACTION_COUNT; i++) {
        if (!strcmp(text, s_satisfaction[i]) || !strcmp(text, s_satisfaction_zh[i])) {
            return i + 1;
        }
    }
    return 0;
}

int
sj_satisfaction_check(const char *text, int outcome, int *value, char *why, size_t why_size)
{
    *value = 0;
    if (!text || !text[0]) {
        return SJ_OK;
    }
    *value = sj_satisfaction_value(text);
    if (!*value) {
        snprintf(why, why_size,
                 _("--satisfaction '%s': give 满意 (satisfied), 基本满意 (basically), 不满意"
                   " (dissatisfied) or 未评价 (not_evaluated)"),
                 text);
        return SJ_EINVAL;
    }
    if (outcome != 2 && outcome != 4) { /* resolved_on_spot, closed */
        *value = 0;
        snprintf(why, why_size,
                 _("--satisfaction goes with a conclusion (--outcome closed or"
                   " resolved_on_spot)"));
        return SJ_EINVAL;
    }
    return SJ_OK;
}

const char *
sj_field_name(sj_field_t field)
{
    return (field < SJ_FIELD_COUNT) ? s_fields[field].field : "?";
}

int
sj_enum_count(sj_field_t field)
{
    return (field < SJ_FIELD_COUNT) ? s_fields[field].count : 0;
}

const char *
sj_enum_name(sj_field_t field, int value)
{
    if (field >= SJ_FIELD_COUNT || value < 1 || value > s_fields[field].count) {
        return NULL;
    }
    return s_fields[field].names[value - 1];
}

int
sj_enum_value(sj_field_t field, const char *name)
{
    if (field >= SJ_FIELD_COUNT || !name) {
        return 0;
    }
    for (int i = 0; i < s_fields[field].count; i++) {
        if (strcmp(s_fields[field].names[i], name) == 0
            || strcmp(s_fields[field].zh[i], name) == 0) {
            return i + 1;
        }
    }
    return 0;
}

const char *
sj_enum_label(sj_field_t field, int value, sj_lang_t lang)
{
    if (!sj_enum_name(field, value)) {
        return NULL;
    }
    return lang == SJ_LANG_ZH ? s_fields[field].zh[value - 1] : s_fields[field].en[value - 1];
}

const char *
sj_field_label(sj_field_t field, sj_lang_t lang)
{
    if (field >= SJ_FIELD_COUNT) {
        return "?";
    }
    return lang == SJ_LANG_ZH ? s_fields[field].label_zh : s_fields[field].label_en;
}

int
sj_field_parse(const char *name, sj_field_t *field)
{
    for (int f = 0; name && f < SJ_FIELD_COUNT; f++) {
        if (strcmp(s_fields[f].field, name) == 0 || strcmp(s_fields[f].label_zh, name) == 0) {
            *field = (sj_field_t) f;
            return SJ_OK;
        }
    }
    return SJ_EINVAL;
}

void
sj_enum_list_lang(sj_field_t field, sj_lang_t lang, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) {
        return;
    }
    buf[0] = '\0';
    for (int i = 0; field < SJ_FIELD_COUNT && i < s_fields[field].count; i++) {
        int n = lang == SJ_LANG_ZH ? snprintf(buf + used, size - used, "%s%s (%s)", i ? ", " : "",
                                              s_fields[field].zh[i], s_fields[field].names[i])
                                   : snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                                              s_fields[field].names[i]);
        if (n < 0 || (size_t) n >= size - used) {
            return;
        }
        used += (size_t) n;
    }
}

void
sj_enum_list(sj_field_t field, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) {
        return;
    }
    buf[0] = '\0';
    for (int i = 0; field < SJ_FIELD_COUNT && i < s_fields[field].count; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", s_fields[field].names[i]);
        if (n < 0 || (size_t) n >= size - used) {
            return;
        }
        used += (size_t) n;
    }
}

static int
s_check_enum(sj_field_t field, int value, char *err, size_t err_size)
{
    if (sj_enum_name(field, value)) {
        return SJ_OK;
    }
    char list[160];
    sj_enum_list(field, list, sizeof list);
    snprintf(err, err_size, sj_pt("%s: invalid value (expected one of: %s)"), sj_field_name(field),
             list);
    return SJ_EINVAL;
}

static int
s_check_text(const char *name, const char *s, size_t max, int required, char *err, size_t err_size)
{
    size_t n = s ? strlen(s) : 0;
    if (required && n == 0) {
        snprintf(err, err_size, sj_pt("%s: must not be empty"), name);
        return SJ_EINVAL;
    }
    if (n > max) {
        snprintf(err, err_size, sj_pt("%s: too long (%zu bytes, at most %zu)"), name, n, max);
        return SJ_EINVAL;
    }
    if (s && !sj_utf8_valid(s, n)) {
        snprintf(err, err_size, sj_pt("%s: not valid UTF-8"), name);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
sj_report_validate(const sj_report_t *r, char *err, size_t err_size)
{
    if (!sj_date_valid(r->occurred_on)) {
        snprintf(err, err_size, sj_pt("occurred_on: '%s' is not a date YYYY-MM-DD"),
                 r->occurred_on);
        return SJ_EINVAL;
    }
    const int vals[SJ_FIELD_COUNT] = {r->channel,  r->kind,    r->level,
                                      r->category, r->outcome, r->source};
    for (int f = 0; f < SJ_FIELD_COUNT; f++) {
        if (s_check_enum((sj_field_t) f, vals[f], err, err_size) != SJ_OK) {
            return SJ_EINVAL;
        }
    }
    if (r->persons < 1 || r->persons > SJ_MAX_PERSONS) {
        snprintf(err, err_size, sj_pt("persons: %u is out of range (1..%d)"), r->persons,
                 SJ_MAX_PERSONS);
        return SJ_EINVAL;
    }
    if (r->kind == 1 && r->persons > 4) {
        snprintf(err, err_size, sj_pt("persons: an individual matter has 1-4 persons, not %u"),
                 r->persons);
        return SJ_EINVAL;
    }
    if (r->kind == 2 && r->persons < 5) {
        snprintf(err, err_size, sj_pt("persons: a collective matter has 5 or more persons, not %u"),
                 r->persons);
        return SJ_EINVAL;
    }
    if (r->channel != 1 && r->persons != 1) {
        snprintf(err, err_size, sj_pt("persons: a %s is one item and one person, not %u"),
                 sj_enum_name(SJ_FIELD_CHANNEL, r->channel), r->persons);
        return SJ_EINVAL;
    }
    if (s_check_text("summary", r->summary, SJ_MAX_SUMMARY_BYTES, 1, err, err_size) != SJ_OK
        || s_check_text("officer", r->officer, SJ_MAX_OFFICER_BYTES, 0, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    return sj_reception_validate(r->source, r->receiving_leader, r->portfolio, err, err_size);
}

int
sj_reception_validate(
    int source, const char *leader, const char *portfolio, char *err, size_t err_size)
{
    const char *names[2] = {"receiving_leader", "portfolio"};
    const char *vals[2] = {leader, portfolio};
    for (int i = 0; i < 2; i++) {
        if (s_check_text(names[i], vals[i], SJ_MAX_LEADER_BYTES, 0, err, err_size) != SJ_OK) {
            return SJ_EINVAL;
        }
        for (const unsigned char *c = (const unsigned char *) vals[i]; c && *c; c++) {
            if (*c < 0x20 || *c == 0x7f) {
                snprintf(err, err_size, sj_pt("%s: has a control character"), names[i]);
                return SJ_EINVAL;
            }
        }
        if (vals[i] && vals[i][0] && source != 2) {
            snprintf(err, err_size,
                     sj_pt("%s: only a leader's reception (领导接访, source leader_reception) has"
                           " a receiving leader and portfolio, not source %s"),
                     names[i],
                     sj_enum_name(SJ_FIELD_SOURCE, source) ? sj_enum_name(SJ_FIELD_SOURCE, source)
                                                           : "(none)");
            return SJ_EINVAL;
        }
    }
    return SJ_OK;
}

int
sj_code_level(const char *code)
{
    if (!code) {
        return 0;
    }
    size_t n = strlen(code);
    if (n != 6 && n != 9 && n != 12) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (code[i] < '0' || code[i] > '9') {
            return 0;
        }
    }
    return (int) n;
}

int
sj_code_under(const char *child, const char *parent)
{
    int lc = sj_code_level(child);
    int lp = sj_code_level(parent);
    return lc && lp && lc >= lp && strncmp(child, parent, (size_t) lp) == 0;
}

int
sj_date_valid(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1) {
        return 0;
    }
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = mdays[m - 1] + (m == 2 && leap);
    return d <= max;
}

int
sj_month_valid(const char *s)
{
    char day[11];
    if (!s || strlen(s) != 7) {
        return 0;
    }
    memcpy(day, s, 7);
    memcpy(day + 7, "-01", 4);
    return sj_date_valid(day);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no time zone, no time_t, exact for 1900..2999. */
static int64_t
s_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
s_civil_from_days(int64_t z, char out[11])
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int d = (int) (doy - (153 * mp + 2) / 5 + 1);
    const int m = (int) (mp < 10 ? mp + 3 : mp - 9);
    const int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 1900 || y > 2999) {
        snprintf(out, 11, "%s", y < 1900 ? "1900-01-01" : "2999-12-31");
        return;
    }
    snprintf(out, 11, "%04d-%02d-%02d", (int) y, m, d);
}

int
sj_date_days(const char *date, int64_t *days)
{
    if (!sj_date_valid(date)) {
        return SJ_EINVAL;
    }
    int y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
    *days = s_days_from_civil(y, m, d);
    return SJ_OK;
}

int
sj_date_add(const char *date, int days, char out[11])
{
    int64_t n = 0;
    if (sj_date_days(date, &n) != SJ_OK) {
        return SJ_EINVAL;
    }
    s_civil_from_days(n + days, out);
    return SJ_OK;
}

int
sj_date_diff(const char *a, const char *b, int64_t *days)
{
    int64_t x = 0, y = 0;
    if (sj_date_days(a, &x) != SJ_OK || sj_date_days(b, &y) != SJ_OK) {
        return SJ_EINVAL;
    }
    *days = x - y;
    return SJ_OK;
}

/* The machine's local date `days` from now, by the wall clock. */
static void
s_wall_local(int days, char out[11])
{
    /* The machine's local date (TZ, /etc/localtime): a deadline or a report
     * "of today" is the office's calendar day, not UTC's (a township in
     * UTC+8 would otherwise be a day behind until 08:00). */
    time_t t = time(NULL) + (time_t) days * 86400;
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        gmtime_r(&t, &tm);
    }
    strftime(out, 11, "%Y-%m-%d", &tm);
}

const char *
sj_today_override(void)
{
    const char *v = getenv(SJ_TODAY_ENV);
    return v && sj_date_valid(v) ? v : NULL;
}

int
sj_today_check(char *err, size_t err_size)
{
    const char *v = getenv(SJ_TODAY_ENV);
    if (v && *v && !sj_date_valid(v)) {
        snprintf(err, err_size,
                 SJ_TODAY_ENV "=%s is not a date: give YYYY-MM-DD (a real calendar day, "
                              "1900..2999), or unset it",
                 v);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

void
sj_date_today(char out[11])
{
    sj_date_local_offset(0, out);
}

void
sj_date_local_offset(int days, char out[11])
{
    const char *fixed = sj_today_override();
    if (fixed) {
        if (sj_date_add(fixed, days, out) != SJ_OK) {
            s_wall_local(days, out);
        }
        return;
    }
    s_wall_local(days, out);
}

void
sj_date_of_ms(int64_t ms, char out[11])
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        gmtime_r(&t, &tm);
    }
    if (strftime(out, 11, "%Y-%m-%d", &tm) == 0 || !sj_date_valid(out)) {
        out[0] = '\0';
    }
}

int64_t
sj_event_now_ms(void)
{
    int64_t now = sj_now_ms();
    const char *fixed = sj_today_override();
    if (!fixed) {
        return now;
    }
    char wall[11];
    s_wall_local(0, wall);
    int64_t shift = 0;
    if (sj_date_diff(fixed, wall, &shift) != SJ_OK) {
        return now;
    }
    return now + shift * 86400000LL;
}

/* Validates UTF-8 as Unicode's Table 3-7 (well-formed byte sequences)
 * defines it, which refuses exactly what the decoding rule did: overlong
 * forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF), code points
 * above U+10FFFF (F4 90.., F5..FF), stray or missing continuation bytes and a
 * sequence cut off by the end. NUL is refused too. Runs of ASCII are checked
 * 8 bytes at a time; otherwise one multi-byte sequence per step, with the
 * second byte's range chosen by the lead byte (no code point is assembled). */
int
sj_utf8_valid(const char *s, size_t n)
{
    if (n == 0) {
        return 1; /* s may be NULL (an empty protobuf field): no p + 0 on it */
    }
    const unsigned char *p = (const unsigned char *) s;
    const unsigned char *end = p + n;
    const uint64_t high = 0x8080808080808080u, ones = 0x0101010101010101u;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if ((size_t) (end - p) >= 8) {
                uint64_t v;
                memcpy(&v, p, sizeof v);
                /* No byte >= 0x80 and no zero byte: the haszero test
                 * ((v - 0x01..) & ~v & 0x80..) is exact once no byte has its
                 * high bit set. */
                if (((v | ((v - ones) & ~v)) & high) == 0) {
                    p += 8;
                    continue;
                }
            }
            if (c == 0) {
                return 0;
            }
            p++;
            continue;
        }
        size_t left = (size_t) (end - p);
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
        size_t len;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) {
                lo = 0xA0;
            } else if (c == 0xED) {
                hi = 0x9F;
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F;
            }
        } else {
            return 0; /* a continuation byte, C0, C1 or F5..FF */
        }
        if (left < len || p[1] < lo || p[1] > hi) {
            return 0;
        }
        if (len >= 3 && (p[2] & 0xC0) != 0x80) {
            return 0;
        }
        if (len == 4 && (p[3] & 0xC0) != 0x80) {
            return 0;
        }
        p += len;
    }
    return 1;
}
