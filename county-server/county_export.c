/* county_export: streamed CSV / JSON Lines exports, see county_export.h.
 *
 * Nothing here holds more than one row: the cursor gives a row's cells, they
 * are written to the stdio buffer, and the next step replaces them. Write
 * errors stay in ferror(out), which is checked every COUNTY_EXPORT_CHECK_ROWS
 * rows (so a closed pipe or a full disk stops a long export early) and at the
 * end, after fflush. */
#include "county_export.h"

#include <assert.h>
#include <string.h>

#include "county_list.h"
#include "sj_model.h"
#include "sj_table.h"

#define COUNTY_EXPORT_CHECK_ROWS 1024 /* look at ferror(out) this often */

int
county_export_format_parse(const char *name, county_export_format_t *out)
{
    if (name && strcmp(name, "csv") == 0) {
        *out = COUNTY_EXPORT_CSV;
        return SJ_OK;
    }
    if (name && strcmp(name, "jsonl") == 0) {
        *out = COUNTY_EXPORT_JSONL;
        return SJ_OK;
    }
    return SJ_EINVAL;
}

/* A JSON string (RFC 8259): quotes, backslashes and control characters are
 * escaped; everything else, UTF-8 included, is copied in runs. */
static void
s_json_string(FILE *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    putc('"', out);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        fwrite(run, 1, (size_t) (p - run), out);
        run = p + 1;
        putc('\\', out);
        switch (c) {
        case '"':
            putc('"', out);
            break;
        case '\\':
            putc('\\', out);
            break;
        case '\n':
            putc('n', out);
            break;
        case '\r':
            putc('r', out);
            break;
        case '\t':
            putc('t', out);
            break;
        default:
            fputs("u00", out);
            putc(hex[c >> 4], out);
            putc(hex[c & 0xf], out);
            break;
        }
    }
    fwrite(run, 1, strlen(run), out);
    putc('"', out);
}

static void
s_csv_line(FILE *out, const char *const *cells, size_t ncols)
{
    for (size_t i = 0; i < ncols; i++) {
        if (i > 0) {
            putc(',', out);
        }
        sj_csv_field(out, cells[i]);
    }
    putc('\n', out);
}

/* Text from the database was validated as UTF-8 on the wire; a cell that
 * is not means the file was altered, and JSON readers would choke on it. */
static int
s_jsonl_line(FILE *out,
             const char *const *names,
             const sj_col_type_t *types,
             const char *const *cells,
             size_t ncols,
             char *err,
             size_t err_size)
{
    putc('{', out);
    for (size_t i = 0; i < ncols; i++) {
        const char *cell = cells[i] ? cells[i] : "";
        if (!sj_utf8_valid(cell, strlen(cell))) {
            snprintf(err, err_size, "the database holds text that is not UTF-8 in %s (damaged?)",
                     names[i]);
            return SJ_EDB;
        }
        if (i > 0) {
            putc(',', out);
        }
        s_json_string(out, names[i]);
        putc(':', out);
        if (types[i] == SJ_COL_INT && cell[0]) {
            fputs(cell, out); /* decimal from SQLite */
        } else {
            s_json_string(out, cell);
        }
    }
    fputs("}\n", out);
    return SJ_OK;
}

static int
s_io_fail(char *err, size_t err_size)
{
    snprintf(err, err_size, "cannot write the export (disk full or output closed?)");
    return SJ_EIO;
}

int
county_export_write(sqlite3 *db,
                    const county_filter_t *f,
                    county_export_format_t fmt,
                    FILE *out,
                    county_export_progress_fn *progress,
                    void *progress_ctx,
                    int64_t *rows,
                    char *err,
                    size_t err_size)
{
    assert(db);
    assert(out);
    int64_t n = 0;
    county_list_t *cur = NULL;
    int rc = county_list_open(db, f, &cur, err, err_size);
    if (rc != SJ_OK) {
        goto out;
    }
    size_t ncols = county_list_ncols(cur);
    const char *const *names = county_list_names(cur);
    const sj_col_type_t *types = county_list_types(cur);
    if (fmt == COUNTY_EXPORT_CSV) {
        s_csv_line(out, names, ncols);
    }
    const char *const *cells = NULL;
    while ((rc = county_list_next(cur, &cells, err, err_size)) == SJ_OK) {
        if (fmt == COUNTY_EXPORT_CSV) {
            s_csv_line(out, cells, ncols);
        } else if ((rc = s_jsonl_line(out, names, types, cells, ncols, err, err_size)) != SJ_OK) {
            goto out;
        }
        n++;
        if (n % COUNTY_EXPORT_CHECK_ROWS == 0 && ferror(out)) {
            rc = s_io_fail(err, err_size);
            goto out;
        }
        if (progress && n % COUNTY_EXPORT_PROGRESS_ROWS == 0) {
            progress(progress_ctx, n);
        }
    }
    if (rc != SJ_ENOTFOUND) {
        goto out;
    }
    rc = fflush(out) == EOF || ferror(out) ? s_io_fail(err, err_size) : SJ_OK;
out:
    county_list_close(&cur);
    if (rows) {
        *rows = n;
    }
    return rc;
}
