/* county_export: streamed CSV / JSON Lines exports, see county_export.h.
 *
 * Nothing here holds more than one row: the cursor gives a row's cells, they
 * are written to the stdio buffer, and the next step replaces them. Write
 * errors stay in ferror(out), which is checked every COUNTY_EXPORT_CHECK_ROWS
 * rows (so a closed pipe or a full disk stops a long export early) and at the
 * end, after fflush. */
#include "county_export.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "county_list.h"
#include "county_sql.h"
#include "sj_i18n.h"
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
    if (name && strcmp(name, "xlsx") == 0) {
        *out = COUNTY_EXPORT_XLSX;
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

/* A header line (cells NULL) or a row, with the labels of --labels. */
static void
s_csv_line(FILE *out, const char *const *names, const char *const *cells, size_t ncols)
{
    for (size_t i = 0; i < ncols; i++) {
        if (i > 0) {
            putc(',', out);
        }
        sj_csv_field(out,
                     cells ? sj_table_csv_cell(names[i], cells[i]) : sj_table_csv_header(names[i]));
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
            snprintf(err, err_size, _("the database holds text that is not UTF-8 in %s (damaged?)"),
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
    snprintf(err, err_size, _("cannot write the export (disk full or output closed?)"));
    return SJ_EIO;
}

/* ---- xlsx ---- */

/* The workbook being written: libxlsxwriter writes to a file by name, so
 * it goes to a temporary file that is then copied to the output. */
typedef struct {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold, *date;
    const char *const *names;
    const sj_col_type_t *types;
    size_t ncols;
    int sheets;
    lxw_row_t row;     /* next row of ws */
    const char *sheet; /* the sheet's name; NULL: matters */
} s_xlsx_t;

static int
s_xlsx_fail(lxw_error e, const char *what, char *err, size_t err_size)
{
    snprintf(err, err_size, _("cannot write the xlsx export (%s): %s"), what, lxw_strerror(e));
    return SJ_EIO;
}

/* A new worksheet with the header row (Excel holds 1,048,576 rows a sheet;
 * the rows go on in the next one: matters, matters 2, ...). */
static int
s_xlsx_sheet(s_xlsx_t *x, char *err, size_t err_size)
{
    char name[32];
    const sj_csv_opts_t *o = sj_table_csv_opts();
    const char *base = x->sheet                             ? x->sheet
                       : o->labels && o->lang == SJ_LANG_ZH ? "信访事项"
                                                            : "matters";
    x->sheets++;
    if (x->sheets == 1) {
        snprintf(name, sizeof name, "%s", base);
    } else {
        snprintf(name, sizeof name, "%s %d", base, x->sheets);
    }
    x->ws = workbook_add_worksheet(x->wb, name);
    if (!x->ws) {
        snprintf(err, err_size, _("cannot add the worksheet '%s' to the xlsx export"), name);
        return SJ_ENOMEM;
    }
    for (size_t i = 0; i < x->ncols; i++) {
        const char *n = x->names[i];
        double width = strcmp(n, "id") == 0                   ? 38
                       : strcmp(n, "summary") == 0            ? 60
                       : strcmp(n, "petitioner_id") == 0      ? 22
                       : strcmp(n, "petitioner_address") == 0 ? 30
                                                              : 14;
        lxw_error e = worksheet_set_column(x->ws, (lxw_col_t) i, (lxw_col_t) i, width,
                                           strcmp(n, "occurred_on") == 0 ? x->date : NULL);
        if (e == LXW_NO_ERROR) {
            e = worksheet_write_string(x->ws, 0, (lxw_col_t) i, sj_table_csv_header(n), x->bold);
        }
        if (e != LXW_NO_ERROR) {
            return s_xlsx_fail(e, "header", err, err_size);
        }
    }
    worksheet_freeze_panes(x->ws, 1, 0);
    x->row = 1;
    return SJ_OK;
}

/* One cell: INT columns as numbers, occurred_on as a date, everything
 * else (ids, ID numbers, codes, phones) as text, so no digit is lost and no
 * leading zero dropped. An empty cell is left blank. */
static lxw_error
s_xlsx_cell(s_xlsx_t *x, size_t col, const char *cell)
{
    if (!cell || !cell[0]) {
        return LXW_NO_ERROR;
    }
    const char *name = x->names[col];
    lxw_col_t c = (lxw_col_t) col;
    if (x->types[col] == SJ_COL_INT) {
        char *end = NULL;
        double v = strtod(cell, &end);
        if (end && *end == '\0') {
            return worksheet_write_number(x->ws, x->row, c, v, NULL);
        }
    } else if (strcmp(name, "occurred_on") == 0 && sj_date_valid(cell)) {
        lxw_datetime dt = {.year = atoi(cell), .month = atoi(cell + 5), .day = atoi(cell + 8)};
        return worksheet_write_datetime(x->ws, x->row, c, &dt, x->date);
    }
    return worksheet_write_string(x->ws, x->row, c, sj_table_csv_cell(name, cell), NULL);
}

/* Copies the finished file to out. */
static int
s_copy_file(const char *path, FILE *out, char *err, size_t err_size)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        snprintf(err, err_size, _("cannot read back the xlsx export %s: %s"), path,
                 strerror(errno));
        return SJ_EIO;
    }
    char buf[65536];
    size_t n;
    int rc = SJ_OK;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n) {
            rc = s_io_fail(err, err_size);
            break;
        }
    }
    if (rc == SJ_OK && ferror(in)) {
        snprintf(err, err_size, _("cannot read back the xlsx export %s"), path);
        rc = SJ_EIO;
    }
    fclose(in);
    if (rc == SJ_OK && (fflush(out) == EOF || ferror(out))) {
        rc = s_io_fail(err, err_size);
    }
    return rc;
}

static int
s_xlsx(county_list_t *cur,
       FILE *out,
       county_export_progress_fn *progress,
       void *progress_ctx,
       int64_t *rows,
       char *err,
       size_t err_size)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !tmp[0]) {
        tmp = "/tmp";
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/sanji-export-XXXXXX", tmp);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, err_size, _("cannot make a temporary file in %s for the xlsx export: %s"),
                 tmp, strerror(errno));
        return SJ_EIO;
    }
    close(fd);
    s_xlsx_t x = {.names = county_list_names(cur),
                  .types = county_list_types(cur),
                  .ncols = county_list_ncols(cur)};
    /* constant_memory: each row goes to the sheet's file as it is written,
     * so memory stays flat for millions of rows, as for csv. */
    lxw_workbook_options opts = {.constant_memory = LXW_TRUE, .tmpdir = (char *) tmp};
    int rc = SJ_OK;
    x.wb = workbook_new_opt(path, &opts);
    if (!x.wb) {
        snprintf(err, err_size, _("cannot start the xlsx export in %s"), path);
        rc = SJ_ENOMEM;
        goto done;
    }
    x.bold = workbook_add_format(x.wb);
    x.date = workbook_add_format(x.wb);
    if (!x.bold || !x.date) {
        rc = county_sql_nomem(err, err_size);
        goto done;
    }
    format_set_bold(x.bold);
    format_set_num_format(x.date, "yyyy-mm-dd");
    if ((rc = s_xlsx_sheet(&x, err, err_size)) != SJ_OK) {
        goto done;
    }
    const char *const *cells = NULL;
    int64_t n = 0;
    while ((rc = county_list_next(cur, &cells, err, err_size)) == SJ_OK) {
        if (x.row >= LXW_ROW_MAX && (rc = s_xlsx_sheet(&x, err, err_size)) != SJ_OK) {
            goto done;
        }
        for (size_t i = 0; i < x.ncols; i++) {
            lxw_error e = s_xlsx_cell(&x, i, cells[i]);
            if (e != LXW_NO_ERROR) {
                rc = s_xlsx_fail(e, x.names[i], err, err_size);
                goto done;
            }
        }
        x.row++;
        *rows = ++n;
        if (progress && n % COUNTY_EXPORT_PROGRESS_ROWS == 0) {
            progress(progress_ctx, n);
        }
    }
    if (rc != SJ_ENOTFOUND) {
        goto done;
    }
    lxw_error e = workbook_close(x.wb);
    x.wb = NULL;
    rc = e == LXW_NO_ERROR ? s_copy_file(path, out, err, err_size)
                           : s_xlsx_fail(e, "closing the workbook", err, err_size);
done:
    if (x.wb) {
        (void) workbook_close(x.wb); /* frees it; the file is removed below */
    }
    unlink(path);
    return rc;
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
    if (fmt == COUNTY_EXPORT_XLSX) {
        rc = s_xlsx(cur, out, progress, progress_ctx, &n, err, err_size);
        goto out;
    }
    if (fmt == COUNTY_EXPORT_CSV) {
        if (sj_table_csv_bom(out) != SJ_OK) {
            rc = s_io_fail(err, err_size);
            goto out;
        }
        s_csv_line(out, names, NULL, ncols);
    }
    const char *const *cells = NULL;
    while ((rc = county_list_next(cur, &cells, err, err_size)) == SJ_OK) {
        if (fmt == COUNTY_EXPORT_CSV) {
            s_csv_line(out, names, cells, ncols);
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

int
county_export_xlsx_table(
    const sj_table_t *t, const char *sheet, FILE *out, char *err, size_t err_size)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !tmp[0]) {
        tmp = "/tmp";
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/sanji-table-XXXXXX", tmp);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, err_size, "cannot make a temporary file in %s for the xlsx: %s", tmp,
                 strerror(errno));
        return SJ_EIO;
    }
    close(fd);
    size_t ncols = sj_table_ncols(t);
    const char *names[64];
    sj_col_type_t types[64];
    if (ncols > 64) {
        ncols = 64;
    }
    for (size_t i = 0; i < ncols; i++) {
        names[i] = sj_table_name(t, i);
        types[i] = sj_table_type(t, i);
    }
    s_xlsx_t x = {.names = names, .types = types, .ncols = ncols, .sheet = sheet};
    lxw_workbook_options opts = {.constant_memory = LXW_TRUE, .tmpdir = (char *) tmp};
    int rc = SJ_OK;
    x.wb = workbook_new_opt(path, &opts);
    if (!x.wb) {
        snprintf(err, err_size, "cannot start the xlsx in %s", path);
        rc = SJ_ENOMEM;
        goto done;
    }
    x.bold = workbook_add_format(x.wb);
    x.date = workbook_add_format(x.wb);
    if (!x.bold || !x.date) {
        rc = county_sql_nomem(err, err_size);
        goto done;
    }
    format_set_bold(x.bold);
    format_set_num_format(x.date, "yyyy-mm-dd");
    if ((rc = s_xlsx_sheet(&x, err, err_size)) != SJ_OK) {
        goto done;
    }
    for (size_t r = 0; r < sj_table_rows(t); r++) {
        for (size_t i = 0; i < ncols; i++) {
            lxw_error e = s_xlsx_cell(&x, i, sj_table_cell(t, r, i));
            if (e != LXW_NO_ERROR) {
                rc = s_xlsx_fail(e, names[i], err, err_size);
                goto done;
            }
        }
        x.row++;
    }
    lxw_error e = workbook_close(x.wb);
    x.wb = NULL;
    rc = e == LXW_NO_ERROR ? s_copy_file(path, out, err, err_size)
                           : s_xlsx_fail(e, "closing the workbook", err, err_size);
done:
    if (x.wb) {
        (void) workbook_close(x.wb);
    }
    unlink(path);
    return rc;
}
