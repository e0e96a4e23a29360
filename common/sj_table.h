/* sj_table: tabular output for the CLI tools in three formats.
 * table: aligned columns for people (East Asian wide characters count as two
 * columns), with an optional total line; csv: RFC 4180 with a header row,
 * formula-like cells guarded with a leading ' (sj_csv_field); json: an
 * array of objects, integer columns as JSON numbers.
 * Rows are buffered, unless the caller asks for them to stream
 * (sj_table_stream: csv and json listings of any length in constant memory). */
#ifndef SJ_TABLE_H
#define SJ_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "sj_err.h"
#include "sj_model.h"

typedef enum { SJ_FMT_TABLE = 0, SJ_FMT_JSON, SJ_FMT_CSV } sj_format_t;
typedef enum { SJ_COL_TEXT = 0, SJ_COL_INT } sj_col_type_t;

typedef struct sj_table sj_table_t;

/* Parses "table", "json" or "csv"; SJ_EINVAL otherwise. */
SJ_NODISCARD int sj_format_parse(const char *name, sj_format_t *out);

/* A table with ncols columns; names and types are copied. NULL on OOM.
 * Caller owns, free with sj_table_destroy. */
sj_table_t *sj_table_new(size_t ncols, const char *const *names, const sj_col_type_t *types);
/* NULL-safe, sets *self_p = NULL. */
void sj_table_destroy(sj_table_t **self_p);
/* Appends a row of ncols cells (copied; NULL cell = empty text / JSON null).
 * INT cells hold decimal text, e.g. "217". Returns SJ_OK or SJ_ENOMEM. */
SJ_NODISCARD int sj_table_add_row(sj_table_t *self, const char *const *cells);
/* Sets the cells of the total line printed under a table (table format
 * only; copied; NULL cells are blank). */
SJ_NODISCARD int sj_table_set_total(sj_table_t *self, const char *const *cells);
/* Streams instead of buffering when fmt is csv or json: the header (csv) or
 * "[" (json) is written to out now, every later sj_table_add_row writes its
 * row at once, and sj_table_write(self, fmt, out) ends the output (json:
 * "]"). The output is byte for byte what the buffered table would print.
 * With fmt table (aligned widths need every row), or once rows were added,
 * nothing changes. Returns SJ_OK or SJ_EIO. */
SJ_NODISCARD int sj_table_stream(sj_table_t *self, sj_format_t fmt, FILE *out);
/* Rows added (buffered or streamed). */
size_t sj_table_rows(const sj_table_t *self);
/* Number of columns, and the name of column col (borrowed; col < ncols). */
size_t sj_table_ncols(const sj_table_t *self);
const char *sj_table_name(const sj_table_t *self, size_t col);
/* The type of column col. */
sj_col_type_t sj_table_type(const sj_table_t *self, size_t col);
/* The cell (row, col) of a buffered row (borrowed, valid until the table
 * changes), NULL for a NULL cell or one outside the buffered rows. */
const char *sj_table_cell(const sj_table_t *self, size_t row, size_t col);
/* Writes the table in the format. Returns SJ_OK or SJ_EIO. */
SJ_NODISCARD int sj_table_write(const sj_table_t *self, sj_format_t fmt, FILE *out);
/* The rows as a cJSON array of objects (caller owns, cJSON_Delete). */
cJSON *sj_table_to_json(const sj_table_t *self);
/* Display width of a UTF-8 string in terminal columns. */
size_t sj_text_width(const char *s);
/* s cut to at most width columns (wide characters count two) into out, with
 * "…" at the end when something was cut; line breaks and tabs in a cut text
 * become spaces. NULL gives "". */
void sj_text_cut(const char *s, size_t width, char *out, size_t size);
/* How CSV output is written, for the whole process (every table's csv, and
 * the exports that write CSV themselves): a command line's --bom and
 * --labels (sj_cli) set it once before anything is written.
 *   bom     start the output with a UTF-8 byte-order mark (SJ_TABLE_BOM),
 *           once per process however many tables follow, so Excel and WPS
 *           read the Chinese text as UTF-8;
 *   labels  0: the header is the column names and enum cells their names
 *           (visit), as programs read them; 1: the header is the column's
 *           label in lang (sj_column_label) and an enum cell (a column named
 *           as an sj_field_t: channel, kind, level, category, outcome,
 *           source) its label (sj_enum_label: 来访 / visit). */
#define SJ_TABLE_BOM "\xEF\xBB\xBF"
typedef struct {
    int bom;
    int labels;
    sj_lang_t lang;
} sj_csv_opts_t;
void sj_table_csv_opts_set(const sj_csv_opts_t *opts);
/* The options in force (all zero until set). */
const sj_csv_opts_t *sj_table_csv_opts(void);
/* Writes the byte-order mark to out when the options ask for one and it
 * was not written yet in this process. SJ_OK or SJ_EIO. */
SJ_NODISCARD int sj_table_csv_bom(FILE *out);
/* A column's header as CSV and XLSX write it under the options: its label
 * (sj_column_label) with labels on, else the name itself. Borrowed. */
const char *sj_table_csv_header(const char *name);
/* A cell of column name as CSV and XLSX write it: with labels on, an enum
 * column's value name ("visit") becomes its label; everything else is
 * returned as given (NULL stays NULL). Borrowed. */
const char *sj_table_csv_cell(const char *name, const char *cell);
/* A column name's label for a person ("occurred_on" -> "发生日期" /
 * "date occurred"): the enum fields' labels of sj_field_label, and the other
 * columns the tools print. A name it does not know is returned as is. */
const char *sj_column_label(const char *name, sj_lang_t lang);
/* Parses "zh" or "en". SJ_OK or SJ_EINVAL. */
SJ_NODISCARD int sj_lang_parse(const char *name, sj_lang_t *out);

/* Writes one CSV field with quoting when needed (RFC 4180), and a leading '
 * before a cell a spreadsheet would evaluate as a formula (one that starts
 * with = + - @, TAB or CR and is not a plain number): the csv format of every
 * table does the same. */
void sj_csv_field(FILE *out, const char *s);

#endif
