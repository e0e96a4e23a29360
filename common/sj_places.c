#include "sj_places.h"

#include <stdlib.h>
#include <string.h>

#include "sj_db.h"
#include "sj_enrol.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"

#define MAX_BAD_NAMED 5

/* Appends "line N: what" to err (the first MAX_BAD_NAMED of them). */
static void
s_bad(char *err, size_t es, size_t *bad, unsigned long line, const char *what)
{
    (*bad)++;
    if (*bad > MAX_BAD_NAMED) {
        return;
    }
    size_t used = strlen(err);
    if (used + 1 < es) {
        snprintf(err + used, es - used, "%sline %lu: %s", used ? "; " : "", line, what);
    }
}

/* One CSV field from *p (quoted or not) into out; *p moves past it and its
 * comma. -1: a field too long or a quote not closed. */
static int
s_field(const char **p, char *out, size_t size)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '"') {
        s++;
        for (;;) {
            if (*s == '\0') {
                return -1;
            }
            if (*s == '"') {
                if (s[1] == '"') {
                    s++;
                } else {
                    s++;
                    break;
                }
            }
            if (n + 1 >= size) {
                return -1;
            }
            out[n++] = *s++;
        }
    } else {
        while (*s && *s != ',') {
            if (n + 1 >= size) {
                return -1;
            }
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    if (*s == ',') {
        s++;
    } else if (*s != '\0') {
        return -1;
    }
    *p = s;
    return 0;
}

/* Trims spaces and tabs at both ends, in place. */
static void
s_trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        s[--n] = '\0';
    }
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t') {
        i++;
    }
    memmove(s, s + i, n - i + 1);
}

int
sj_places_read_csv(
    const char *path, const char *county, sj_place_t **out, size_t *n, char *err, size_t es)
{
    *out = NULL;
    *n = 0;
    err[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, es, "cannot open %s", path);
        return SJ_EIO;
    }
    size_t cap = 64, count = 0, bad = 0;
    sj_place_t *v = malloc(cap * sizeof *v);
    char line[1024];
    unsigned long lineno = 0;
    int rc = v ? SJ_OK : SJ_ENOMEM;
    while (rc == SJ_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            s_bad(err, es, &bad, lineno, "longer than 1000 bytes");
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
            continue;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }
        char *s = line;
        if (lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        if (!sj_utf8_valid(s, len)) {
            s_bad(err, es, &bad, lineno, "not UTF-8 text");
            continue;
        }
        char code[64], name[256], extra[8];
        const char *p = s;
        s_trim(s);
        if (s[0] == '\0') {
            continue;
        }
        if (s_field(&p, code, sizeof code) != 0 || s_field(&p, name, sizeof name) != 0) {
            s_bad(err, es, &bad, lineno, "not two fields code,name (a name over 64 bytes?)");
            continue;
        }
        s_trim(code);
        s_trim(name);
        if (*p != '\0' && !(s_field(&p, extra, sizeof extra) == 0 && !extra[0] && !*p)) {
            s_bad(err, es, &bad, lineno, "more than two fields (code,name)");
            continue;
        }
        if (!sj_code_level(code)) {
            if (count == 0 && bad == 0 && lineno == 1) {
                continue; /* a header */
            }
            char what[128];
            snprintf(what, sizeof what, "\"%.40s\" is not a code of 6, 9 or 12 digits", code);
            s_bad(err, es, &bad, lineno, what);
            continue;
        }
        if (county && county[0] && !sj_code_under(code, county)) {
            char what[128];
            snprintf(what, sizeof what, "%s is not within county %s", code, county);
            s_bad(err, es, &bad, lineno, what);
            continue;
        }
        if (!sj_place_name_valid(name)) {
            char what[128];
            snprintf(what, sizeof what,
                     "the name of %s is empty, over %d bytes or has control"
                     " characters",
                     code, SJ_PLACE_NAME_MAX);
            s_bad(err, es, &bad, lineno, what);
            continue;
        }
        size_t i = 0;
        while (i < count && strcmp(v[i].code, code) != 0) {
            i++;
        }
        if (i < count) {
            char what[128];
            snprintf(what, sizeof what, "%s is named twice in the file", code);
            s_bad(err, es, &bad, lineno, what);
            continue;
        }
        if (count == cap) {
            sj_place_t *w = realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                rc = SJ_ENOMEM;
                break;
            }
            v = w;
            cap *= 2;
        }
        memcpy(v[count].code, code, strlen(code) + 1); /* a code: 6..12 digits */
        memcpy(v[count].name, name, strlen(name) + 1); /* checked: <= SJ_PLACE_NAME_MAX */
        count++;
    }
    if (rc == SJ_OK && ferror(f)) {
        snprintf(err, es, "cannot read %s", path);
        rc = SJ_EIO;
    }
    fclose(f);
    if (rc == SJ_OK && bad) {
        size_t used = strlen(err);
        if (bad > MAX_BAD_NAMED && used + 1 < es) {
            snprintf(err + used, es - used, "; and %zu more bad line(s)", bad - MAX_BAD_NAMED);
        }
        rc = SJ_EINVAL;
    } else if (rc == SJ_OK && count == 0) {
        snprintf(err, es, "%s holds no place (code,name lines)", path);
        rc = SJ_EINVAL;
    } else if (rc == SJ_ENOMEM) {
        snprintf(err, es, "out of memory");
    }
    if (rc != SJ_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = count;
    return SJ_OK;
}

int
sj_places_store(sqlite3 *db, const sj_place_t *p, size_t n, int64_t now_ms, size_t *changed)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           "INSERT INTO places(code, name, at_ms) VALUES(?1, ?2, ?3)"
                           " ON CONFLICT(code) DO UPDATE SET name = excluded.name,"
                           " at_ms = excluded.at_ms WHERE name != excluded.name",
                           &st);
    size_t c = 0;
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        rc = sj_db_bind_check(db,
                              sqlite3_bind_text(st, 1, p[i].code, -1, SQLITE_STATIC)
                                  | sqlite3_bind_text(st, 2, p[i].name, -1, SQLITE_STATIC)
                                  | sqlite3_bind_int64(st, 3, now_ms),
                              "place");
        if (rc == SJ_OK) {
            rc = sj_db_step_done(db, st, "place");
        }
        if (rc == SJ_OK) {
            c += (size_t) sqlite3_changes(db);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (changed) {
        *changed = c;
    }
    return rc;
}

/* Rows of a query of (code, name) into a new array. */
static int
s_collect(sqlite3_stmt *st, sj_place_t **out, size_t *n)
{
    size_t cap = 16, count = 0;
    sj_place_t *v = malloc(cap * sizeof *v);
    int step = SQLITE_DONE, rc = v ? SJ_OK : SJ_ENOMEM;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            sj_place_t *w = realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                rc = SJ_ENOMEM;
                break;
            }
            v = w;
            cap *= 2;
        }
        snprintf(v[count].code, sizeof v[count].code, "%s",
                 (const char *) sqlite3_column_text(st, 0));
        snprintf(v[count].name, sizeof v[count].name, "%s",
                 (const char *) sqlite3_column_text(st, 1));
        count++;
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(sqlite3_db_handle(st), step, "places");
    }
    if (rc != SJ_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = count;
    return SJ_OK;
}

int
sj_places_all(sqlite3 *db, sj_place_t **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, "SELECT code, name FROM places ORDER BY code", &st);
    if (rc == SJ_OK) {
        rc = s_collect(st, out, n);
    }
    sqlite3_finalize(st);
    return rc;
}

struct sj_places_map {
    sj_place_t *v;
    size_t n;
};

sj_places_map_t *
sj_places_map_load(sqlite3 *db)
{
    sj_places_map_t *m = calloc(1, sizeof *m);
    if (!m) {
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT code, name FROM places ORDER BY code", -1, &st, NULL)
            == SQLITE_OK
        && s_collect(st, &m->v, &m->n) != SJ_OK) {
        m->v = NULL;
        m->n = 0;
    }
    sqlite3_finalize(st);
    return m;
}

void
sj_places_map_free(sj_places_map_t **map_p)
{
    if (map_p && *map_p) {
        free((*map_p)->v);
        free(*map_p);
        *map_p = NULL;
    }
}

static int
s_cmp(const void *key, const void *elem)
{
    return strcmp((const char *) key, ((const sj_place_t *) elem)->code);
}

const char *
sj_places_map_get(const sj_places_map_t *map, const char *code)
{
    if (!map || !map->n || !code) {
        return NULL;
    }
    const sj_place_t *p = bsearch(code, map->v, map->n, sizeof *map->v, s_cmp);
    return p ? p->name : NULL;
}

const char *
sj_places_label(const sj_places_map_t *map, const char *code, char *out, size_t out_size)
{
    const char *name = sj_places_map_get(map, code);
    if (name) {
        snprintf(out, out_size, "%s %s", code, name);
    } else {
        snprintf(out, out_size, "%s", code);
    }
    return out;
}

/* 1 when some line of the allowlist file at path starts with "code ". */
static int
s_enrolled(const char *path, const char *code)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return 0;
    }
    char line[256];
    size_t n = strlen(code);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        found = strncmp(line, code, n) == 0 && (line[n] == ' ' || line[n] == '\t');
    }
    fclose(f);
    return found;
}

int
sj_places_known(sqlite3 *db,
                const char *dir,
                const char *code,
                const char *const *sql,
                int *known,
                char *why,
                size_t why_size)
{
    static const char *const common[] = {"SELECT 1 FROM places WHERE code = ?1",
                                         "SELECT 1 FROM links WHERE code = ?1 LIMIT 1"};
    *known = 0;
    for (size_t i = 0; !*known && (i < 2 || (sql && sql[i - 2])); i++) {
        const char *q = i < 2 ? common[i] : sql[i - 2];
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            continue; /* a table this store does not have (yet) */
        }
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_finalize(st);
        if (step == SQLITE_ROW) {
            *known = 1;
        } else if (step != SQLITE_DONE) {
            return sj_db_err(db, step, "known place");
        }
    }
    if (!*known && dir) {
        char path[4096];
        sj_enrol_allowlist_path(dir, path, sizeof path);
        *known = s_enrolled(path, code);
    }
    if (!*known) {
        snprintf(why, why_size,
                 "%s is not known here: no report came from it, it never connected, it is not"
                 " enrolled (allow) and it is not in the place list (places import); a mistyped"
                 " code? nothing stored",
                 code);
    }
    return SJ_OK;
}

int
sj_places_json(sqlite3 *db, cJSON *root)
{
    cJSON *o = cJSON_AddObjectToObject(root, "places");
    if (!o) {
        return SJ_ENOMEM;
    }
    sj_places_map_t *m = sj_places_map_load(db);
    for (size_t i = 0; m && i < m->n; i++) {
        if (!cJSON_AddStringToObject(o, m->v[i].code, m->v[i].name)) {
            sj_places_map_free(&m);
            return SJ_ENOMEM;
        }
    }
    sj_places_map_free(&m);
    return SJ_OK;
}

/* ---- the parent side ---- */

int
sj_places_offer(sqlite3 *db, sj_down_t *down, const char *child, int force)
{
    int level = sj_code_level(child);
    if (!down || (level != 9 && level != 12)) {
        return SJ_OK;
    }
    int64_t version = 0;
    int rc = sj_db_meta_get_int(db, "places_version", &version);
    if (rc == SJ_ENOTFOUND) {
        version = 0;
    } else if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    if (!force) {
        rc = sj_db_prepare(db, "SELECT version FROM places_sent WHERE child = ?1", &st);
        if (rc != SJ_OK) {
            return rc;
        }
        sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        int sent = step == SQLITE_ROW && sqlite3_column_int64(st, 0) >= version;
        sqlite3_finalize(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            return sj_db_err(db, step, "places sent");
        }
        if (sent) {
            return SJ_OK;
        }
    }
    rc = sj_db_prepare(db,
                       "SELECT code, name FROM places WHERE code = ?1 OR code = substr(?1, 1, 9)"
                       " OR code = substr(?1, 1, 6) OR (length(?1) = 9 AND length(code) = 12"
                       " AND substr(code, 1, 9) = ?1) ORDER BY code",
                       &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
    sj_place_t *v = NULL;
    size_t n = 0;
    rc = s_collect(st, &v, &n);
    sqlite3_finalize(st);
    for (size_t i = 0; rc == SJ_OK && i < n; i += SJ_PLACES_PER_ITEM) {
        size_t k = n - i < SJ_PLACES_PER_ITEM ? n - i : SJ_PLACES_PER_ITEM;
        uint8_t *item = NULL, id[SJ_ID_BYTES];
        size_t len = 0;
        sj_uuid7_new(id);
        rc = sj_down_places_encode(child, v + i, k, &item, &len);
        if (rc == SJ_OK) {
            rc = sj_down_enqueue(down, child, id, item, len, NULL);
        }
        free(item);
    }
    free(v);
    if (rc == SJ_OK && n > 0) {
        rc = sj_db_prepare(db,
                           "INSERT INTO places_sent(child, version) VALUES(?1, ?2)"
                           " ON CONFLICT(child) DO UPDATE SET version = excluded.version",
                           &st);
        if (rc == SJ_OK) {
            sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, version);
            rc = sj_db_step_done(db, st, "places sent");
            sqlite3_finalize(st);
        }
        if (rc == SJ_OK) {
            sj_info("place names (%zu) queued for %s", n, child);
        }
    }
    return rc;
}

int
sj_linked_children(sqlite3 *db, char (**codes)[SJ_CODE_MAX + 1], size_t *n)
{
    *codes = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, "SELECT DISTINCT code FROM links ORDER BY code", &st);
    if (rc != SJ_OK) {
        return rc;
    }
    char(*v)[SJ_CODE_MAX + 1] = NULL;
    size_t k = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            cap = cap ? 2 * cap : 16;
            void *w = realloc(v, cap * sizeof *v);
            if (!w) {
                rc = SJ_ENOMEM;
                break;
            }
            v = w;
        }
        snprintf(v[k++], SJ_CODE_MAX + 1, "%s", (const char *) sqlite3_column_text(st, 0));
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(db, step, "links");
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        free(v);
        return rc;
    }
    *codes = v;
    *n = k;
    return SJ_OK;
}

int
sj_places_changed(sqlite3 *db, sj_down_t *down, size_t *children)
{
    int64_t version = 0;
    int rc = sj_db_meta_get_int(db, "places_version", &version);
    if (rc == SJ_ENOTFOUND) {
        version = 0;
        rc = SJ_OK;
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(db, "places_version", version + 1);
    }
    char(*codes)[SJ_CODE_MAX + 1] = NULL;
    size_t n = 0;
    if (rc == SJ_OK) {
        rc = sj_linked_children(db, &codes, &n);
    }
    size_t sent = 0;
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        rc = sj_places_offer(db, down, codes[i], 0);
        sent++;
    }
    free(codes);
    if (children) {
        *children = sent;
    }
    return rc;
}
