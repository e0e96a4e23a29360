/* sj_table: tabular output for the CLI tools in three formats.
 *
 * A table holds ncols column names and types, and a growing row-major array
 * of copied cells (a NULL cell stays NULL). Column widths for the table
 * format are kept up to date as rows are added, so sj_table_write never
 * allocates for the table and csv formats.
 *
 * Invariants:
 *   - cells has room for cap_rows * ncols pointers; the first nrows * ncols
 *     are owned copies or NULL.
 *   - row_widths[i] is the largest display width of column i over the name
 *     and every row; total_widths[i] is that of the total cell (0 when unset).
 *   - total is NULL or an array of ncols owned copies (or NULL cells).
 *   - heads[i] is column i's header in table format: its name, or when the
 *     tool's messages are Chinese (sj_i18n) its label (sj_column_label, else
 *     the catalogue's); row_widths count it instead of the name. Then an
 *     enum column's cells (fields[i] >= 0: channel, kind, ...) show their
 *     Chinese labels there too (s_shown). CSV and JSON always use the names.
 *
 * In table format, control characters (C0, DEL, C1) print as a space and
 * bytes that are not UTF-8 as '?': cells carry data reported by remote
 * nodes, and an escape sequence must not reach the operator's terminal. Both
 * replacements take the one column sj_text_width counts for them. */
#include "sj_table.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sj_i18n.h"
#include "sj_log.h"

/* Largest INT cell written as a JSON number. cJSON keeps numbers as doubles
 * and prints those outside int range with 15 significant digits, so larger
 * cells are written as strings instead of losing digits. */
#define SJ_TABLE_JSON_INT_MAX 999999999999999LL
#define SJ_TABLE_MIN_ROWS     16 /* first row capacity */
#define SJ_TABLE_COL_GAP      2  /* spaces between table columns */
#define SJ_TABLE_NOT_UTF8     0xFFFFFFFFu

struct sj_table {
    size_t ncols;         /* number of columns, > 0 */
    char **names;         /* ncols owned column names */
    const char **heads;   /* ncols headers of the table format (borrowed) */
    int *fields;          /* ncols sj_field_t of enum columns shown as labels, else -1; or NULL */
    sj_col_type_t *types; /* ncols column types */
    size_t *row_widths;   /* ncols widths over names and rows */
    size_t *total_widths; /* ncols widths of the total cells */
    char **cells;         /* cap_rows * ncols cells, row-major */
    size_t nrows;         /* rows added */
    size_t cap_rows;      /* rows cells has room for */
    char **total;         /* ncols total cells, or NULL when unset */
    FILE *stream;         /* sj_table_stream: rows go straight here */
    sj_format_t stream_fmt;
    size_t streamed; /* rows written to stream */
    int stream_rc;   /* first write error of the stream */
};

static char *
s_strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = malloc(len);
    if (copy) {
        memcpy(copy, s, len);
    }
    return copy;
}

/* Frees n cells of an array and the array itself. */
static void
s_cells_free(char **cells, size_t n)
{
    if (!cells) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(cells[i]);
    }
    free(cells);
}

/* Copies n cells into dst (NULL cells stay NULL). On failure frees what it
 * copied and returns SJ_ENOMEM. */
static int
s_cells_copy(char **dst, const char *const *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = NULL;
        if (src[i]) {
            dst[i] = s_strdup(src[i]);
            if (!dst[i]) {
                for (size_t j = 0; j < i; j++) {
                    free(dst[j]);
                    dst[j] = NULL;
                }
                return SJ_ENOMEM;
            }
        }
    }
    return SJ_OK;
}

/* Decodes one UTF-8 sequence at s (NUL-terminated). Returns its length in
 * bytes (>= 1) and stores the code point, or SJ_TABLE_NOT_UTF8 for a byte
 * that does not start a valid sequence (overlong, surrogate, truncated, out
 * of range); such a byte is consumed alone. Never reads past the NUL, since
 * NUL is not a continuation byte. */
static size_t
s_utf8_next(const unsigned char *s, uint32_t *cp_out)
{
    unsigned char lead = s[0];
    size_t len;
    uint32_t cp, min;
    if (lead < 0x80) {
        *cp_out = lead;
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2;
        cp = lead & 0x1Fu;
        min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        len = 3;
        cp = lead & 0x0Fu;
        min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4;
        cp = lead & 0x07u;
        min = 0x10000;
    } else {
        *cp_out = SJ_TABLE_NOT_UTF8;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp_out = SJ_TABLE_NOT_UTF8;
            return 1;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *cp_out = SJ_TABLE_NOT_UTF8;
        return 1;
    }
    *cp_out = cp;
    return len;
}

/* East Asian Wide and Fullwidth blocks take two terminal columns; every
 * other code point, and every byte that is not UTF-8, takes one. */
static size_t
s_cp_width(uint32_t cp)
{
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF)
        || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60)
        || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD)) {
        return 2;
    }
    return 1;
}

static int
s_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static int
s_put(FILE *out, const char *data, size_t len)
{
    if (len > 0 && fwrite(data, 1, len, out) != len) {
        return SJ_EIO;
    }
    return SJ_OK;
}

static int
s_put_repeat(FILE *out, char c, size_t n)
{
    char chunk[64];
    memset(chunk, c, sizeof chunk);
    while (n > 0) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;
        if (s_put(out, chunk, k) != SJ_OK) {
            return SJ_EIO;
        }
        n -= k;
    }
    return SJ_OK;
}

/* Writes a cell for a terminal: controls become ' ', non-UTF-8 bytes '?'. */
static int
s_put_display(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    const unsigned char *run = p;
    while (*p) {
        uint32_t cp;
        size_t len = s_utf8_next(p, &cp);
        if (cp == SJ_TABLE_NOT_UTF8 || s_is_control(cp)) {
            if (s_put(out, (const char *) run, (size_t) (p - run)) != SJ_OK
                || fputc(cp == SJ_TABLE_NOT_UTF8 ? '?' : ' ', out) == EOF) {
                return SJ_EIO;
            }
            run = p + len;
        }
        p += len;
    }
    return s_put(out, (const char *) run, (size_t) (p - run));
}

static size_t
s_col_width(const sj_table_t *self, size_t col)
{
    size_t w = self->row_widths[col];
    return self->total_widths[col] > w ? self->total_widths[col] : w;
}

/* A cell as the table format shows it: an enum column's value name as its
 * Chinese label when the table has fields (see the invariants). */
static const char *
s_shown(const sj_table_t *self, size_t col, const char *cell)
{
    if (!cell || !self->fields || self->fields[col] < 0) {
        return cell;
    }
    sj_field_t field = (sj_field_t) self->fields[col];
    int value = sj_enum_value(field, cell);
    const char *label = value ? sj_enum_label(field, value, SJ_LANG_ZH) : NULL;
    return label ? label : cell;
}

/* Writes one line of the table format (cells: shown through s_shown when
 * shown is set). Spaces are held back until text follows them, so no line
 * ends in whitespace. */
static int
s_write_line(const sj_table_t *self, const char *const *cells, int shown, FILE *out)
{
    size_t pending = 0;
    for (size_t i = 0; i < self->ncols; i++) {
        const char *text = cells && cells[i] ? cells[i] : "";
        text = shown ? s_shown(self, i, text) : text;
        size_t pad = s_col_width(self, i) - sj_text_width(text);
        if (i > 0) {
            pending += SJ_TABLE_COL_GAP;
        }
        if (self->types[i] == SJ_COL_INT) {
            pending += pad;
        }
        if (*text) {
            if (s_put_repeat(out, ' ', pending) != SJ_OK || s_put_display(out, text) != SJ_OK) {
                return SJ_EIO;
            }
            pending = 0;
        }
        if (self->types[i] != SJ_COL_INT) {
            pending += pad;
        }
    }
    return fputc('\n', out) == EOF ? SJ_EIO : SJ_OK;
}

static int
s_write_rule(const sj_table_t *self, FILE *out)
{
    for (size_t i = 0; i < self->ncols; i++) {
        if (i > 0 && s_put_repeat(out, ' ', SJ_TABLE_COL_GAP) != SJ_OK) {
            return SJ_EIO;
        }
        if (s_put_repeat(out, '-', s_col_width(self, i)) != SJ_OK) {
            return SJ_EIO;
        }
    }
    return fputc('\n', out) == EOF ? SJ_EIO : SJ_OK;
}

static int
s_write_table(const sj_table_t *self, FILE *out)
{
    if (s_write_line(self, self->heads, 0, out) != SJ_OK || s_write_rule(self, out) != SJ_OK) {
        return SJ_EIO;
    }
    if (self->nrows == 0 && fputs(_("(no rows)\n"), out) == EOF) {
        return SJ_EIO;
    }
    for (size_t r = 0; r < self->nrows; r++) {
        const char *const *row = (const char *const *) self->cells + r * self->ncols;
        if (s_write_line(self, row, 1, out) != SJ_OK) {
            return SJ_EIO;
        }
    }
    if (self->total) {
        if (s_write_rule(self, out) != SJ_OK
            || s_write_line(self, (const char *const *) self->total, 1, out) != SJ_OK) {
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

/* Would a spreadsheet (Excel, WPS, LibreOffice) take this cell for a
 * formula? It starts with = + - @, TAB or CR ("CSV injection", OWASP). A
 * plain number ("-3", "+1.5") is not guarded: it is a number there too,
 * and numeric columns stay numeric. */
static int
s_csv_formula_like(const char *s)
{
    if (!s[0] || !strchr("=+-@\t\r", s[0])) {
        return 0;
    }
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if (*p < '0' || *p > '9') {
        return 1;
    }
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return 1;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    return *p != '\0';
}

/* RFC 4180: a field with a comma, quote, CR or LF is quoted and its quotes
 * doubled. A formula-like cell gets a leading ' (inside the quotes), which
 * spreadsheets show as text and do not evaluate. NULL writes an empty field. */
static int
s_csv_field(FILE *out, const char *s)
{
    if (!s) {
        return SJ_OK;
    }
    int guard = s_csv_formula_like(s);
    if (!strpbrk(s, ",\"\r\n")) {
        if (guard && fputc('\'', out) == EOF) {
            return SJ_EIO;
        }
        return fputs(s, out) == EOF ? SJ_EIO : SJ_OK;
    }
    if (fputc('"', out) == EOF || (guard && fputc('\'', out) == EOF)) {
        return SJ_EIO;
    }
    for (const char *p = s; *p; p++) {
        if (*p == '"' && fputc('"', out) == EOF) {
            return SJ_EIO;
        }
        if (fputc(*p, out) == EOF) {
            return SJ_EIO;
        }
    }
    return fputc('"', out) == EOF ? SJ_EIO : SJ_OK;
}

/* One CSV line: the header (cells NULL: the column names under the
 * options) or a row (its cells under the options). */
static int
s_csv_line(FILE *out, char *const *names, const char *const *cells, size_t ncols)
{
    for (size_t i = 0; i < ncols; i++) {
        if (i > 0 && fputc(',', out) == EOF) {
            return SJ_EIO;
        }
        const char *text =
            cells ? sj_table_csv_cell(names[i], cells[i]) : sj_table_csv_header(names[i]);
        if (s_csv_field(out, text) != SJ_OK) {
            return SJ_EIO;
        }
    }
    return fputc('\n', out) == EOF ? SJ_EIO : SJ_OK;
}

static int
s_write_csv(const sj_table_t *self, FILE *out)
{
    if (sj_table_csv_bom(out) != SJ_OK
        || s_csv_line(out, self->names, NULL, self->ncols) != SJ_OK) {
        return SJ_EIO;
    }
    for (size_t r = 0; r < self->nrows; r++) {
        const char *const *row = (const char *const *) self->cells + r * self->ncols;
        if (s_csv_line(out, self->names, row, self->ncols) != SJ_OK) {
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

static int
s_write_json(const sj_table_t *self, FILE *out)
{
    cJSON *array = sj_table_to_json(self);
    if (!array) {
        return SJ_ENOMEM;
    }
    char *text = cJSON_PrintUnformatted(array);
    cJSON_Delete(array);
    if (!text) {
        sj_error("sj_table: out of memory printing %zu rows as JSON", self->nrows);
        return SJ_ENOMEM;
    }
    int rc = fputs(text, out) == EOF || fputc('\n', out) == EOF ? SJ_EIO : SJ_OK;
    cJSON_free(text);
    return rc;
}

/* Parses a whole INT cell: optional '-', then decimal digits, within
 * +-SJ_TABLE_JSON_INT_MAX. Returns 1 and stores the value, else 0. */
static int
s_json_int(const char *s, long long *value)
{
    const char *digits = *s == '-' ? s + 1 : s;
    if (*digits < '0' || *digits > '9') {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > SJ_TABLE_JSON_INT_MAX || v < -SJ_TABLE_JSON_INT_MAX) {
        return 0;
    }
    *value = v;
    return 1;
}

static cJSON *
s_json_cell(sj_col_type_t type, const char *s)
{
    long long v;
    if (!s) {
        return cJSON_CreateNull();
    }
    if (type == SJ_COL_INT && s_json_int(s, &v)) {
        return cJSON_CreateNumber((double) v);
    }
    return cJSON_CreateString(s);
}

int
sj_format_parse(const char *name, sj_format_t *out)
{
    assert(out);
    if (!name) {
        return SJ_EINVAL;
    }
    if (strcmp(name, "table") == 0) {
        *out = SJ_FMT_TABLE;
    } else if (strcmp(name, "json") == 0) {
        *out = SJ_FMT_JSON;
    } else if (strcmp(name, "csv") == 0) {
        *out = SJ_FMT_CSV;
    } else {
        return SJ_EINVAL;
    }
    return SJ_OK;
}

sj_table_t *
sj_table_new(size_t ncols, const char *const *names, const sj_col_type_t *types)
{
    assert(ncols > 0);
    assert(names);
    assert(types);
    sj_table_t *self = calloc(1, sizeof *self);
    if (!self) {
        goto fail;
    }
    self->names = calloc(ncols, sizeof *self->names);
    self->types = calloc(ncols, sizeof *self->types);
    self->heads = calloc(ncols, sizeof *self->heads);
    self->row_widths = calloc(ncols, sizeof *self->row_widths);
    self->total_widths = calloc(ncols, sizeof *self->total_widths);
    if (!self->names || !self->heads || !self->types || !self->row_widths || !self->total_widths) {
        goto fail;
    }
    self->ncols = ncols;
    int zh = sj_i18n_lang() == SJ_LANG_ZH;
    if (zh && !(self->fields = calloc(ncols, sizeof *self->fields))) {
        goto fail;
    }
    for (size_t i = 0; i < ncols; i++) {
        assert(names[i]);
        self->names[i] = s_strdup(names[i]);
        if (!self->names[i]) {
            goto fail;
        }
        self->types[i] = types[i];
        self->heads[i] = self->names[i];
        if (zh) {
            const char *label = sj_column_label(names[i], SJ_LANG_ZH);
            self->heads[i] = label != names[i] ? label : sj_tr(self->names[i]);
            sj_field_t field;
            int is_enum = sj_field_parse(names[i], &field) == SJ_OK
                          && strcmp(sj_field_name(field), names[i]) == 0;
            self->fields[i] = is_enum ? (int) field : -1;
        }
        self->row_widths[i] = sj_text_width(self->heads[i]);
    }
    return self;
fail:
    sj_error("sj_table: out of memory creating a table of %zu columns", ncols);
    sj_table_destroy(&self);
    return NULL;
}

void
sj_table_destroy(sj_table_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_table_t *self = *self_p;
    s_cells_free(self->names, self->ncols);
    free(self->heads);
    free(self->fields);
    s_cells_free(self->cells, self->nrows * self->ncols);
    s_cells_free(self->total, self->total ? self->ncols : 0);
    free(self->types);
    free(self->row_widths);
    free(self->total_widths);
    free(self);
    *self_p = NULL;
}

static int s_csv_line(FILE *out, char *const *names, const char *const *cells, size_t ncols);
static cJSON *s_row_json(const sj_table_t *self, const char *const *cells);

/* One streamed row (sj_table_stream). */
static int
s_stream_row(sj_table_t *self, const char *const *cells)
{
    int rc = SJ_OK;
    if (self->stream_fmt == SJ_FMT_CSV) {
        rc = s_csv_line(self->stream, self->names, cells, self->ncols);
    } else {
        cJSON *object = s_row_json(self, cells);
        char *text = object ? cJSON_PrintUnformatted(object) : NULL;
        cJSON_Delete(object);
        if (!text) {
            return SJ_ENOMEM;
        }
        if ((self->streamed && fputc(',', self->stream) == EOF)
            || fputs(text, self->stream) == EOF) {
            rc = SJ_EIO;
        }
        cJSON_free(text);
    }
    if (rc == SJ_OK) {
        self->streamed++;
    }
    return rc;
}

int
sj_table_stream(sj_table_t *self, sj_format_t fmt, FILE *out)
{
    assert(self);
    assert(out);
    if (fmt == SJ_FMT_TABLE || self->stream || self->nrows) {
        return SJ_OK; /* widths need every row: buffered as before */
    }
    self->stream = out;
    self->stream_fmt = fmt;
    if (fmt == SJ_FMT_CSV) {
        if (sj_table_csv_bom(out) != SJ_OK) {
            return SJ_EIO;
        }
        return s_csv_line(out, self->names, NULL, self->ncols);
    }
    return fputc('[', out) == EOF ? SJ_EIO : SJ_OK;
}

int
sj_table_add_row(sj_table_t *self, const char *const *cells)
{
    assert(self);
    assert(cells);
    if (self->stream) {
        return s_stream_row(self, cells);
    }
    if (self->nrows == self->cap_rows) {
        size_t cap = self->cap_rows ? self->cap_rows * 2 : SJ_TABLE_MIN_ROWS;
        if (cap < self->cap_rows || cap > SIZE_MAX / sizeof(char *) / self->ncols) {
            goto nomem;
        }
        char **grown = realloc(self->cells, cap * self->ncols * sizeof(char *));
        if (!grown) {
            goto nomem;
        }
        self->cells = grown;
        self->cap_rows = cap;
    }
    char **row = self->cells + self->nrows * self->ncols;
    if (s_cells_copy(row, cells, self->ncols) != SJ_OK) {
        goto nomem;
    }
    for (size_t i = 0; i < self->ncols; i++) {
        const char *shown = s_shown(self, i, row[i]);
        size_t w = shown ? sj_text_width(shown) : 0;
        if (w > self->row_widths[i]) {
            self->row_widths[i] = w;
        }
    }
    self->nrows++;
    return SJ_OK;
nomem:
    sj_error("sj_table: out of memory adding row %zu", self->nrows + 1);
    return SJ_ENOMEM;
}

/* A NULL cells array clears the total line. */
int
sj_table_set_total(sj_table_t *self, const char *const *cells)
{
    assert(self);
    char **total = NULL;
    if (cells) {
        total = malloc(self->ncols * sizeof *total);
        if (!total || s_cells_copy(total, cells, self->ncols) != SJ_OK) {
            free(total);
            sj_error("sj_table: out of memory setting the total line");
            return SJ_ENOMEM;
        }
    }
    s_cells_free(self->total, self->total ? self->ncols : 0);
    self->total = total;
    for (size_t i = 0; i < self->ncols; i++) {
        const char *shown = total ? s_shown(self, i, total[i]) : NULL;
        self->total_widths[i] = shown ? sj_text_width(shown) : 0;
    }
    return SJ_OK;
}

size_t
sj_table_rows(const sj_table_t *self)
{
    assert(self);
    return self->nrows + self->streamed;
}

size_t
sj_table_ncols(const sj_table_t *self)
{
    assert(self);
    return self->ncols;
}

const char *
sj_table_name(const sj_table_t *self, size_t col)
{
    assert(self && col < self->ncols);
    return self->names[col];
}

sj_col_type_t
sj_table_type(const sj_table_t *self, size_t col)
{
    assert(self && col < self->ncols);
    return self->types[col];
}

const char *
sj_table_cell(const sj_table_t *self, size_t row, size_t col)
{
    assert(self);
    if (row >= self->nrows || col >= self->ncols) {
        return NULL;
    }
    return self->cells[row * self->ncols + col];
}

/* Also returns SJ_ENOMEM (json only, when cJSON cannot allocate) and
 * SJ_EINVAL for a format outside sj_format_t. Flushes out, so a full disk is
 * reported here and not lost in the caller's fclose. */
int
sj_table_write(const sj_table_t *self, sj_format_t fmt, FILE *out)
{
    assert(self);
    assert(out);
    int rc;
    if (self->stream) {
        /* The rows are out already: only the end of the JSON array. */
        if (fmt != self->stream_fmt || out != self->stream) {
            return SJ_EINVAL;
        }
        rc = fmt == SJ_FMT_JSON && fputs("]\n", out) == EOF ? SJ_EIO : SJ_OK;
        if (rc == SJ_OK && fflush(out) == EOF) {
            rc = SJ_EIO;
        }
        return rc;
    }
    switch (fmt) {
    case SJ_FMT_TABLE:
        rc = s_write_table(self, out);
        break;
    case SJ_FMT_CSV:
        rc = s_write_csv(self, out);
        break;
    case SJ_FMT_JSON:
        rc = s_write_json(self, out);
        break;
    default:
        return SJ_EINVAL;
    }
    if (rc == SJ_OK && fflush(out) == EOF) {
        rc = SJ_EIO;
    }
    return rc;
}

/* One row as a JSON object; NULL on OOM. */
static cJSON *
s_row_json(const sj_table_t *self, const char *const *cells)
{
    cJSON *object = cJSON_CreateObject();
    if (!object) {
        return NULL;
    }
    for (size_t i = 0; i < self->ncols; i++) {
        cJSON *item = s_json_cell(self->types[i], cells[i]);
        if (!item) {
            cJSON_Delete(object);
            return NULL;
        }
        /* cJSON copies the key; on failure the item is still ours. */
        if (!cJSON_AddItemToObject(object, self->names[i], item)) {
            cJSON_Delete(item);
            cJSON_Delete(object);
            return NULL;
        }
    }
    return object;
}

/* Returns NULL on OOM (logged). The total line is not included. */
cJSON *
sj_table_to_json(const sj_table_t *self)
{
    assert(self);
    cJSON *array = cJSON_CreateArray();
    if (!array) {
        goto fail;
    }
    for (size_t r = 0; r < self->nrows; r++) {
        cJSON *object = s_row_json(self, (const char *const *) self->cells + r * self->ncols);
        if (!object) {
            goto fail;
        }
        if (!cJSON_AddItemToArray(array, object)) {
            cJSON_Delete(object);
            goto fail;
        }
    }
    return array;
fail:
    sj_error("sj_table: out of memory converting %zu rows to JSON", self->nrows);
    cJSON_Delete(array);
    return NULL;
}

/* NULL counts as the empty string. */
size_t
sj_text_width(const char *s)
{
    size_t width = 0;
    if (!s) {
        return 0;
    }
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        uint32_t cp;
        p += s_utf8_next(p, &cp);
        width += s_cp_width(cp);
    }
    return width;
}

void
sj_text_cut(const char *s, size_t width, char *out, size_t size)
{
    if (size == 0) {
        return;
    }
    out[0] = '\0';
    if (!s) {
        return;
    }
    if (sj_text_width(s) <= width && strlen(s) < size) {
        memcpy(out, s, strlen(s) + 1);
        return;
    }
    /* room for the ellipsis: one column, three bytes */
    size_t used = 0, o = 0;
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        uint32_t cp;
        size_t n = s_utf8_next(p, &cp);
        size_t w = s_cp_width(cp);
        if (cp == '\n' || cp == '\r' || cp == '\t') {
            cp = ' ';
        }
        if (used + w + 1 > width || o + n + 4 > size) {
            break;
        }
        if (cp == ' ' && (p[0] == '\n' || p[0] == '\r' || p[0] == '\t')) {
            out[o++] = ' ';
        } else {
            memcpy(out + o, p, n);
            o += n;
        }
        used += w;
        p += n;
    }
    memcpy(out + o, "\xe2\x80\xa6", 4); /* U+2026 and the NUL */
}

/* Write errors are left in ferror(out). */
void
sj_csv_field(FILE *out, const char *s)
{
    assert(out);
    (void) s_csv_field(out, s);
}

/* ---- CSV options and labels ---- */

static sj_csv_opts_t s_csv_opts;
static int s_bom_written;

void
sj_table_csv_opts_set(const sj_csv_opts_t *opts)
{
    assert(opts);
    s_csv_opts = *opts;
}

const sj_csv_opts_t *
sj_table_csv_opts(void)
{
    return &s_csv_opts;
}

int
sj_table_csv_bom(FILE *out)
{
    assert(out);
    if (!s_csv_opts.bom || s_bom_written) {
        return SJ_OK;
    }
    s_bom_written = 1;
    return fputs(SJ_TABLE_BOM, out) == EOF ? SJ_EIO : SJ_OK;
}

/* The columns the tools print besides the enum fields, with the words of
 * README "Words" (Chinese) and plain English. */
static const struct {
    const char *name, *zh, *en;
} s_columns[] = {
    {"id", "编号", "ID"},
    {"case_id", "案件编号", "case ID"},
    {"occurred_on", "发生日期", "date occurred"},
    {"station", "村站", "station"},
    {"township", "乡镇", "township"},
    {"village", "村", "village"},
    {"county", "县", "county"},
    {"name", "名称", "name"},
    {"township_name", "乡镇名称", "township name"},
    {"station_name", "村站名称", "station name"},
    {"assigned_by_name", "交办单位", "assigned by (name)"},
    {"reported_by_name", "上报村站", "reported by (name)"},
    {"assignee_name", "承办单位", "assigned to (name)"},
    {"persons", "人数", "persons"},
    {"items", "件数", "matters"},
    {"summary", "概要", "summary"},
    {"officer", "经办人", "officer"},
    {"note", "备注", "note"},
    {"reason", "原因", "reason"},
    {"state", "状态", "state"},
    {"status", "状态", "status"},
    {"seq", "序号", "sequence"},
    {"due_on", "办理期限", "due on"},
    {"days_left", "剩余天数", "days left"},
    {"overdue", "超期", "overdue"},
    {"conflict", "冲突", "conflict"},
    {"assigned_by", "交办单位", "assigned by"},
    {"reported_by", "报送村站", "reported by"},
    {"petitioner_name", "信访人姓名", "petitioner's name"},
    {"petitioner_id", "身份证号", "ID number"},
    {"petitioner_phone", "联系电话", "phone"},
    {"petitioner_address", "住址", "address"},
    {"last_contact", "最后联系", "last contact"},
    {"silent_s", "静默秒数", "silent (s)"},
    {"reports", "报告数", "reports"},
    {"quarantined", "隔离", "quarantined"},
    {"forks", "分叉", "forks"},
    {"backlog", "积压", "backlog"},
    {"undelivered", "未送达", "undelivered"},
    {"epoch", "纪元", "epoch"},
    {"events", "事件数", "events"},
    {"gaps", "缺口", "gaps"},
    {"created", "创建时间", "created"},
    {"received", "接收时间", "received"},
    {"voided", "作废", "voided"},
    {"assignee", "承办方", "assignee"},
    {"changes", "变更次数", "changes"},
    {"last_change", "最后变更", "last change"},
    {"month", "月份", "month"},
    {"open", "未办结", "open"},
    {"concluded", "已办结", "concluded"},
    {"withdrawn", "撤回", "withdrawn"},
    {"closure_rate", "办结率", "closure rate"},
    {"median_days_to_close", "办结天数中位数", "median days to close"},
    {"assigned", "交办", "assigned"},
    {"assigned_concluded", "交办已办结", "assigned, concluded"},
    {"assigned_withdrawn", "交办撤回", "assigned, withdrawn"},
    {"assigned_closure_rate", "交办办结率", "assigned closure rate"},
    {"child", "下级", "child"},
    {"origin_seq", "序号", "sequence"},
    {"first_seq", "起始序号", "first sequence"},
    {"last_seq", "末尾序号", "last sequence"},
    {"complete_through", "完整至", "complete through"},
    {"chain_breaks", "链断裂", "chain breaks"},
    {"problem", "问题", "problem"},
};

const char *
sj_column_label(const char *name, sj_lang_t lang)
{
    if (!name) {
        return NULL;
    }
    sj_field_t field;
    if (sj_field_parse(name, &field) == SJ_OK && strcmp(sj_field_name(field), name) == 0) {
        return sj_field_label(field, lang);
    }
    for (size_t i = 0; i < sizeof s_columns / sizeof s_columns[0]; i++) {
        if (strcmp(s_columns[i].name, name) == 0) {
            return lang == SJ_LANG_ZH ? s_columns[i].zh : s_columns[i].en;
        }
    }
    return name;
}

const char *
sj_table_csv_header(const char *name)
{
    return s_csv_opts.labels ? sj_column_label(name, s_csv_opts.lang) : name;
}

const char *
sj_table_csv_cell(const char *name, const char *cell)
{
    sj_field_t field;
    if (!s_csv_opts.labels || !cell || !name || sj_field_parse(name, &field) != SJ_OK
        || strcmp(sj_field_name(field), name) != 0) {
        return cell;
    }
    int value = sj_enum_value(field, cell);
    const char *label = value ? sj_enum_label(field, value, s_csv_opts.lang) : NULL;
    return label ? label : cell;
}

int
sj_lang_parse(const char *name, sj_lang_t *out)
{
    assert(out);
    if (name && strcmp(name, "zh") == 0) {
        *out = SJ_LANG_ZH;
    } else if (name && strcmp(name, "en") == 0) {
        *out = SJ_LANG_EN;
    } else {
        return SJ_EINVAL;
    }
    return SJ_OK;
}
