/* county_out: the county views' writers, see county_out.h. */
#include "county_out.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "county_figs.h"
#include "county_sql.h"
#include "sj_down.h"
#include "sj_i18n.h"
#include "sj_model.h"
#include "sj_places.h"

int
county_out_fail(int rc, char *err, size_t err_size)
{
    if (rc == SJ_ENOMEM) {
        return county_sql_nomem(err, err_size);
    }
    snprintf(err, err_size, _("cannot write the output"));
    return rc;
}

int
county_out_put_safe(FILE *out, const char *s)
{
    int utf8 = sj_utf8_valid(s, strlen(s));
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        int c = *p;
        if (c < 0x20 || c == 0x7F) {
            c = ' ';
        } else if (c >= 0x80 && !utf8) {
            c = '?';
        } else if (c == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            c = ' ';
            p++;
        }
        if (fputc(c, out) == EOF) {
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

/* Prints a JSON value as one line and flushes. */
static int
s_put_json(const cJSON *json, FILE *out, char *err, size_t err_size)
{
    char *text = cJSON_PrintUnformatted(json);
    if (!text) {
        return county_sql_nomem(err, err_size);
    }
    int rc =
        fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF ? SJ_EIO : SJ_OK;
    cJSON_free(text);
    return rc == SJ_OK ? SJ_OK : county_out_fail(rc, err, err_size);
}

/* Makes the decimal figures of a JSON object numbers. */
static int
s_json_decimals(cJSON *obj)
{
    for (int i = 0; i < COUNTY_FIGS_NCOLS; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, county_figs_names[i]);
        if (!county_figs_decimal[i] || !cJSON_IsString(v)) {
            continue;
        }
        cJSON *num = cJSON_CreateNumber(strtod(v->valuestring, NULL));
        if (!num || !cJSON_ReplaceItemInObjectCaseSensitive(obj, county_figs_names[i], num)) {
            cJSON_Delete(num);
            return SJ_ENOMEM;
        }
    }
    return SJ_OK;
}

/* The total object of stats with figures: the same cells as a row,
 * through a one-row table. */
static cJSON *
s_figs_total_json(const county_figs_t *total)
{
    sj_col_type_t types[COUNTY_FIGS_NCOLS];
    for (int i = 0; i < COUNTY_FIGS_NCOLS; i++) {
        types[i] = SJ_COL_INT;
    }
    char bufs[COUNTY_FIGS_NCOLS][COUNTY_SQL_NUM];
    const char *cells[COUNTY_FIGS_NCOLS];
    county_figs_cells(total, bufs, cells);
    cJSON *tarr = NULL, *tobj = NULL;
    sj_table_t *tt = sj_table_new(COUNTY_FIGS_NCOLS, county_figs_names, types);
    if (tt && sj_table_add_row(tt, cells) == SJ_OK && (tarr = sj_table_to_json(tt))) {
        tobj = cJSON_DetachItemFromArray(tarr, 0);
    }
    if (tobj && s_json_decimals(tobj) != SJ_OK) {
        cJSON_Delete(tobj);
        tobj = NULL;
    }
    cJSON_Delete(tarr);
    sj_table_destroy(&tt);
    return tobj;
}

/* The total object of plain stats: {"items":N,"persons":N}. */
static cJSON *
s_counts_total_json(const county_figs_t *total)
{
    cJSON *tobj = cJSON_CreateObject();
    if (!tobj || !cJSON_AddNumberToObject(tobj, "items", (double) total->items)
        || !cJSON_AddNumberToObject(tobj, "persons", (double) total->persons)) {
        cJSON_Delete(tobj);
        return NULL;
    }
    return tobj;
}

/* A stats row's place names (issue 15): "township_name" and
 * "station_name" beside their codes, and "name": the station's when the row
 * has one, else the township's. A code without a name gives the code. */
static int
s_json_names(cJSON *row, const sj_places_map_t *places)
{
    static const char *const dims[] = {"township", "station"};
    const char *last = NULL;
    for (size_t i = 0; i < 2; i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(row, dims[i]);
        if (!cJSON_IsString(c)) {
            continue;
        }
        const char *name = sj_places_map_get(places, c->valuestring);
        char key[32];
        snprintf(key, sizeof key, "%s_name", dims[i]);
        last = name ? name : c->valuestring;
        if (!cJSON_AddStringToObject(row, key, last)) {
            return SJ_ENOMEM;
        }
    }
    if (last && !cJSON_AddStringToObject(row, "name", last)) {
        return SJ_ENOMEM;
    }
    return SJ_OK;
}

cJSON *
county_out_stats_json(const county_stats_t *s)
{
    int figs = county_stats_has_figs(s);
    cJSON *root = cJSON_CreateObject();
    /* Without dims the one row is the total: "rows" stays empty. */
    cJSON *rows =
        county_stats_ndims(s) > 0 ? sj_table_to_json(county_stats_rows(s)) : cJSON_CreateArray();
    cJSON *tobj = figs ? s_figs_total_json(county_stats_total(s))
                       : s_counts_total_json(county_stats_total(s));
    if (!root || !rows || !tobj) {
        goto fail;
    }
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        if (figs && s_json_decimals(row) != SJ_OK) {
            goto fail;
        }
        if (s_json_names(row, county_stats_places(s)) != SJ_OK) {
            goto fail;
        }
    }
    if (!cJSON_AddItemToObject(root, "rows", rows)) {
        goto fail;
    }
    rows = NULL; /* owned by root now */
    if (!cJSON_AddItemToObject(root, "total", tobj)) {
        goto fail;
    }
    return root;
fail:
    cJSON_Delete(tobj);
    cJSON_Delete(rows);
    cJSON_Delete(root);
    return NULL;
}

int
county_out_stats(const county_stats_t *s, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(s);
    assert(out);
    if (fmt == SJ_FMT_JSON) {
        cJSON *root = county_out_stats_json(s);
        if (!root) {
            return county_sql_nomem(err, err_size);
        }
        int rc = s_put_json(root, out, err, err_size);
        cJSON_Delete(root);
        return rc;
    }
    int rc = sj_table_write(county_stats_rows(s), fmt, out);
    return rc == SJ_OK ? SJ_OK : county_out_fail(rc, err, err_size);
}

int
county_out_rows(size_t ncols,
                const char *const *names,
                const sj_col_type_t *types,
                county_out_next_fn *next,
                void *cursor,
                sj_format_t fmt,
                FILE *out,
                char *err,
                size_t err_size)
{
    assert(out);
    int rc = SJ_OK;
    sj_table_t *t = sj_table_new(ncols, names, types);
    if (!t) {
        return county_sql_nomem(err, err_size);
    }
    if (sj_table_stream(t, fmt, out) != SJ_OK) { /* csv/json: constant memory */
        rc = county_out_fail(SJ_EIO, err, err_size);
        goto out;
    }
    const char *const *cells = NULL;
    while ((rc = next(cursor, &cells, err, err_size)) == SJ_OK) {
        int added = sj_table_add_row(t, cells);
        if (added != SJ_OK) {
            rc = county_out_fail(added, err, err_size);
            goto out;
        }
    }
    if (rc != SJ_ENOTFOUND) {
        goto out;
    }
    rc = sj_table_write(t, fmt, out);
    if (rc != SJ_OK) {
        rc = county_out_fail(rc, err, err_size);
    }
out:
    sj_table_destroy(&t);
    return rc;
}

int
county_out_show(const sj_table_t *t, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(t);
    assert(out);
    int rc = SJ_OK;
    if (fmt == SJ_FMT_TABLE) {
        for (size_t i = 0; i < sj_table_ncols(t) && rc == SJ_OK; i++) {
            const char *name = sj_table_name(t, i);
            const char *value = sj_table_cell(t, 0, i);
            value = value ? value : "";
            if (strcmp(name, "personal") == 0 && strcmp(value, "sealed") == 0) {
                value = "sealed (open with the county key)";
            }
            if (fprintf(out, "%s: ", name) < 0 || county_out_put_safe(out, value) != SJ_OK
                || fputc('\n', out) == EOF) {
                rc = SJ_EIO;
            }
        }
        if (rc == SJ_OK && fflush(out) == EOF) {
            rc = SJ_EIO;
        }
        return rc == SJ_OK ? SJ_OK : county_out_fail(rc, err, err_size);
    }
    if (fmt == SJ_FMT_JSON) {
        cJSON *rows = sj_table_to_json(t);
        if (!rows) {
            return county_sql_nomem(err, err_size);
        }
        rc = s_put_json(cJSON_GetArrayItem(rows, 0), out, err, err_size);
        cJSON_Delete(rows);
        return rc;
    }
    rc = sj_table_write(t, fmt, out);
    return rc == SJ_OK ? SJ_OK : county_out_fail(rc, err, err_size);
}

int
county_out_personal(
    const county_personal_t *p, int none, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    static const sj_col_type_t types[COUNTY_PERSONAL_NCOLS] = {SJ_COL_TEXT, SJ_COL_TEXT,
                                                               SJ_COL_TEXT, SJ_COL_TEXT};
    int rc = SJ_OK;
    if (fmt == SJ_FMT_TABLE) {
        if (none) {
            rc = fprintf(out, "personal: none\n") < 0 ? SJ_EIO : SJ_OK;
        }
        for (int i = 0; !none && i < COUNTY_PERSONAL_NCOLS && rc == SJ_OK; i++) {
            if (fprintf(out, "%s: ", county_personal_names[i]) < 0
                || county_out_put_safe(out, p->cells[i]) != SJ_OK || fputc('\n', out) == EOF) {
                rc = SJ_EIO;
            }
        }
        return rc == SJ_OK ? SJ_OK : county_out_fail(rc, err, err_size);
    }
    sj_table_t *t = sj_table_new(COUNTY_PERSONAL_NCOLS, county_personal_names, types);
    if (!t || sj_table_add_row(t, p->cells) != SJ_OK) {
        rc = county_sql_nomem(err, err_size);
    } else {
        rc = sj_table_write(t, fmt, out);
        rc = rc == SJ_OK ? SJ_OK : county_out_fail(rc, err, err_size);
    }
    sj_table_destroy(&t);
    return rc;
}

int
county_out_status(const county_status_t *s, sj_format_t fmt, FILE *out)
{
    if (fmt != SJ_FMT_JSON) {
        if (fmt == SJ_FMT_TABLE) {
            fprintf(out,
                    "county %s: %" PRId64 " events (%" PRId64 " matters) from %zu children,"
                    " %" PRId64 " quarantined\n\n",
                    s->county[0] ? s->county : "(any code)", s->events, s->matters,
                    sj_table_rows(s->children), s->quarantined);
            if (s->key_fp[0]) {
                fprintf(out,
                        "county key fingerprint %s (a station's county key must show the"
                        " same)\n\n",
                        s->key_fp);
            }
        }
        int wrc = sj_table_write(s->children, fmt, out);
        if (wrc == SJ_OK && fmt == SJ_FMT_TABLE && s->db) {
            wrc = sj_down_status_text(s->db, out);
        }
        return wrc;
    }
    int rc = SJ_ENOMEM;
    cJSON *root = cJSON_CreateObject();
    cJSON *children = sj_table_to_json(s->children);
    char *text = NULL;
    if (root && children) {
        if (s->county[0]) {
            cJSON_AddStringToObject(root, "county", s->county);
        } else {
            cJSON_AddNullToObject(root, "county");
        }
        cJSON_AddNumberToObject(root, "events", (double) s->events);
        cJSON_AddNumberToObject(root, "matters", (double) s->matters);
        cJSON_AddNumberToObject(root, "quarantined", (double) s->quarantined);
        if (s->key_fp[0]) {
            cJSON_AddStringToObject(root, "key_fingerprint", s->key_fp);
        }
        cJSON_AddItemToObject(root, "children", children);
        children = NULL;
        if (s->db
            && (sj_down_status_json(s->db, root) != SJ_OK
                || sj_places_json(s->db, root) != SJ_OK)) {
            cJSON_Delete(root);
            return SJ_ENOMEM;
        }
        text = cJSON_PrintUnformatted(root);
    }
    if (text) {
        rc = fprintf(out, "%s\n", text) < 0 ? SJ_EIO : SJ_OK;
        cJSON_free(text);
    }
    cJSON_Delete(children);
    cJSON_Delete(root);
    return rc;
}

int
county_out_verify(const county_verify_t *v, sj_format_t fmt, FILE *out, FILE *lines)
{
    const sj_table_t *p = v->problems;
    for (size_t r = 0; fmt == SJ_FMT_TABLE && r < sj_table_rows(p); r++) {
        const char *station = sj_table_cell(p, r, 0), *epoch = sj_table_cell(p, r, 1);
        const char *kind = sj_table_cell(p, r, 2);
        const char *first = sj_table_cell(p, r, 3), *last = sj_table_cell(p, r, 4);
        if (strcmp(kind, "gap") == 0) {
            fprintf(lines, "gap: %s epoch %.8s…: seq %s..%s missing\n", station, epoch, first,
                    last);
        } else if (strcmp(kind, "quarantined") == 0) {
            fprintf(lines, "quarantined: %s epoch %.8s…: seq %s: %s\n", station, epoch, first,
                    sj_table_cell(p, r, 5));
        } else {
            fprintf(lines, "chain break: %s epoch %.8s…: seq %s%s\n", station, epoch, first,
                    strcmp(kind, "fork") == 0 ? " held by two events" : "");
        }
    }
    return sj_table_write(v->streams, fmt, out);
}
