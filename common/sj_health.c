/* sj_health: the one-line monitoring check (see sj_health.h). */
#include "sj_health.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "sj_i18n.h"
#include "sj_model.h"

#define MAX_PROBLEMS 16
#define PROBLEM_TEXT 256
#define LIST_MAX     3 /* children named in one problem text */

typedef struct {
    sj_health_state_t state;
    char text[PROBLEM_TEXT];
} s_problem_t;

struct sj_health {
    s_problem_t problems[MAX_PROBLEMS];
    size_t n_problems;
    sj_health_state_t worst;
    char ok_text[PROBLEM_TEXT];
    char perf[512];
};

void
sj_health_opts_default(sj_health_opts_t *o)
{
    o->silent_s = SJ_HEALTH_SILENT_S;
    o->backlog_warn_s = SJ_HEALTH_BACKLOG_WARN_S;
    o->backlog_crit_s = SJ_HEALTH_BACKLOG_CRIT_S;
    o->disk_warn_pct = SJ_HEALTH_DISK_WARN_PCT;
    o->disk_crit_pct = SJ_HEALTH_DISK_CRIT_PCT;
}

/* One option's number in [lo, hi]; NULL text keeps *out. */
static int
s_parse(const char *name,
        const char *text,
        int64_t lo,
        int64_t hi,
        const char *what,
        int64_t *out,
        char *err,
        size_t err_size)
{
    if (!text) {
        return SJ_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        snprintf(err, err_size, _("--%s '%s' is not %s"), name, text, _(what));
        return SJ_EINVAL;
    }
    *out = (int64_t) v;
    return SJ_OK;
}

int
sj_health_opts_parse(sj_health_opts_t *o,
                     const char *silent_after,
                     const char *backlog_warn,
                     const char *backlog_crit,
                     const char *disk_warn,
                     const char *disk_crit,
                     char *err,
                     size_t err_size)
{
    const char *secs = N_("a number of seconds (1 or more)");
    const char *pct = N_("a percentage (0 to 100)");
    int64_t dw = o->disk_warn_pct, dc = o->disk_crit_pct;
    if (s_parse("silent-after", silent_after, 1, INT64_MAX / 1000, secs, &o->silent_s, err,
                err_size)
            != SJ_OK
        || s_parse("backlog-warn", backlog_warn, 1, INT64_MAX / 1000, secs, &o->backlog_warn_s, err,
                   err_size)
               != SJ_OK
        || s_parse("backlog-crit", backlog_crit, 1, INT64_MAX / 1000, secs, &o->backlog_crit_s, err,
                   err_size)
               != SJ_OK
        || s_parse("disk-warn", disk_warn, 0, 100, pct, &dw, err, err_size) != SJ_OK
        || s_parse("disk-crit", disk_crit, 0, 100, pct, &dc, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    o->disk_warn_pct = (int) dw;
    o->disk_crit_pct = (int) dc;
    if (o->backlog_crit_s < o->backlog_warn_s) {
        snprintf(err, err_size,
                 _("--backlog-crit (%" PRId64 " s) is below --backlog-warn (%" PRId64 " s)"),
                 o->backlog_crit_s, o->backlog_warn_s);
        return SJ_EINVAL;
    }
    if (o->disk_crit_pct > o->disk_warn_pct) {
        snprintf(err, err_size, _("--disk-crit (%d%%) is above --disk-warn (%d%%)"),
                 o->disk_crit_pct, o->disk_warn_pct);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

sj_health_t *
sj_health_new(void)
{
    return calloc(1, sizeof(sj_health_t));
}

void
sj_health_destroy(sj_health_t **self_p)
{
    if (self_p && *self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

void
sj_health_add(sj_health_t *self, sj_health_state_t state, const char *fmt, ...)
{
    if (state > self->worst) {
        self->worst = state;
    }
    if (self->n_problems == MAX_PROBLEMS) {
        return; /* the state still counts; the line is long enough */
    }
    s_problem_t *p = &self->problems[self->n_problems++];
    p->state = state;
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive when inlined */
    vsnprintf(p->text, sizeof p->text, fmt, ap);
    va_end(ap);
}

void
sj_health_ok_text(sj_health_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): as above */
    vsnprintf(self->ok_text, sizeof self->ok_text, fmt, ap);
    va_end(ap);
}

void
sj_health_perf(sj_health_t *self,
               const char *label,
               int64_t value,
               const char *unit,
               int64_t warn,
               int64_t crit)
{
    size_t used = strlen(self->perf);
    char w[24] = "", c[24] = "";
    if (warn >= 0) {
        snprintf(w, sizeof w, "%" PRId64, warn);
    }
    if (crit >= 0) {
        snprintf(c, sizeof c, "%" PRId64, crit);
    }
    snprintf(self->perf + used, sizeof self->perf - used, "%s%s=%" PRId64 "%s%s%s%s%s",
             used ? " " : "", label, value, unit ? unit : "", warn >= 0 || crit >= 0 ? ";" : "", w,
             crit >= 0 ? ";" : "", c);
}

sj_health_state_t
sj_health_state(const sj_health_t *self)
{
    return self->worst;
}

void
sj_health_duration(int64_t s, char *out, size_t size)
{
    s = s < 0 ? 0 : s;
    if (s < 120) {
        snprintf(out, size, "%" PRId64 " s", s);
    } else if (s < (int64_t) 120 * 60) {
        snprintf(out, size, "%" PRId64 " min", s / 60);
    } else if (s < (int64_t) 48 * 3600) {
        snprintf(out, size, "%" PRId64 " h", s / 3600);
    } else {
        snprintf(out, size, "%" PRId64 " d", s / 86400);
    }
}

/* Appends "code, age" to one kind's list of silent children. */
typedef struct {
    const char *noun; /* "hub", "station" */
    int n;
    char list[PROBLEM_TEXT - 48];
} s_silent_t;

static void
s_silent_add(s_silent_t *s, const char *code, int64_t age_s)
{
    if (s->n++ >= LIST_MAX) {
        return;
    }
    char age[24];
    sj_health_duration(age_s, age, sizeof age);
    size_t used = strlen(s->list);
    snprintf(s->list + used, sizeof s->list - used, "%s%s, %s", used ? "; " : "", code, age);
}

static void
s_silent_report(sj_health_t *self, const s_silent_t *s)
{
    if (s->n == 0) {
        return;
    }
    char more[32] = "";
    if (s->n > LIST_MAX) {
        snprintf(more, sizeof more, "; and %d more", s->n - LIST_MAX);
    }
    sj_health_add(self, SJ_HEALTH_WARNING, "%d silent %s%s (%s%s)", s->n, s->noun,
                  s->n == 1 ? "" : "s", s->list, more);
}

int
sj_health_children(sj_health_t *self,
                   sqlite3 *db,
                   int64_t now_ms,
                   int64_t silent_s,
                   int *n_children,
                   int *n_silent)
{
    /* Longest silent first, so the list names the worst ones. */
    static const char sql[] = "SELECT code, max(last_contact_ms) AS lc FROM links GROUP BY code"
                              " ORDER BY lc ASC, code";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return SJ_EDB;
    }
    s_silent_t hubs = {.noun = "hub"}, stations = {.noun = "station"};
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *) sqlite3_column_text(st, 0);
        int64_t age_s = (now_ms - sqlite3_column_int64(st, 1)) / 1000;
        n++;
        if (code && age_s >= silent_s) {
            s_silent_add(sj_code_level(code) == 9 ? &hubs : &stations, code, age_s);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return SJ_EDB;
    }
    s_silent_report(self, &hubs);
    s_silent_report(self, &stations);
    sj_health_perf(self, "silent", hubs.n + stations.n, NULL, -1, -1);
    if (n_children) {
        *n_children = n;
    }
    if (n_silent) {
        *n_silent = hubs.n + stations.n;
    }
    return SJ_OK;
}

static void
s_bytes(uint64_t bytes, char *out, size_t size)
{
    if (bytes >= (uint64_t) 1 << 30) {
        snprintf(out, size, "%.1f GiB", (double) bytes / (double) ((uint64_t) 1 << 30));
    } else {
        snprintf(out, size, "%" PRIu64 " MiB", bytes >> 20);
    }
}

int
sj_health_disk(sj_health_t *self, const char *dir, int warn_pct, int crit_pct)
{
    struct statvfs vfs;
    if (statvfs(dir, &vfs) != 0 || vfs.f_blocks == 0) {
        return SJ_EIO;
    }
    uint64_t total = (uint64_t) vfs.f_blocks * vfs.f_frsize;
    uint64_t avail = (uint64_t) vfs.f_bavail * vfs.f_frsize;
    int pct = (int) (avail * 100 / total);
    char left[32];
    s_bytes(avail, left, sizeof left);
    if (pct < crit_pct) {
        sj_health_add(self, SJ_HEALTH_CRITICAL, "only %d%% disk free for %s (%s)", pct, dir, left);
    } else if (pct < warn_pct) {
        sj_health_add(self, SJ_HEALTH_WARNING, "only %d%% disk free for %s (%s)", pct, dir, left);
    }
    sj_health_perf(self, "disk_free", pct, "%", warn_pct, crit_pct);
    return SJ_OK;
}

int
sj_health_print(const sj_health_t *self, FILE *out)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    fprintf(out, "%s - ", names[self->worst]);
    if (self->n_problems == 0) {
        fputs(self->ok_text[0] ? self->ok_text : "all checks passed", out);
    }
    int first = 1;
    for (int s = SJ_HEALTH_UNKNOWN; s > SJ_HEALTH_OK; s--) {
        for (size_t i = 0; i < self->n_problems; i++) {
            if ((int) self->problems[i].state == s) {
                fprintf(out, "%s%s", first ? "" : "; ", self->problems[i].text);
                first = 0;
            }
        }
    }
    if (self->perf[0]) {
        fprintf(out, " | %s", self->perf);
    }
    fputc('\n', out);
    fflush(out);
    return (int) self->worst;
}

int
sj_health_unknown(FILE *out, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): as above */
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* One line, whatever the reason text holds. */
    for (char *c = text; *c; c++) {
        if (*c == '\n' || *c == '\r') {
            *c = ' ';
        }
    }
    fprintf(out, "UNKNOWN - %s\n", text);
    fflush(out);
    return SJ_HEALTH_UNKNOWN;
}
