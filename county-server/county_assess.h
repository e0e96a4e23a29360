/* county_assess: the assessment table (目标考核, issue 16 item 3 and issue
 * 17 item 3): per township and per county department, for a period, the
 * matters and persons received in it, the four rates (sj_rates.h) with
 * their counts, the cases overdue now at any stage, and the median days to
 * conclude (over the concluded cases: from the day received, occurred_on,
 * to the day of the change that concluded it; 0 when the report came
 * concluded). It measures service: rows are in code order, never ranked.
 *
 * The unit of a case: the department its current assignment is to (a
 * department code, sj_dept_code), else the township it was reported in. So
 * every case is in one row and the rows add up to the total; a department
 * named in `dept add` has its row even with no case. */
#ifndef COUNTY_ASSESS_H
#define COUNTY_ASSESS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>

#include "sj_clock.h"
#include "sj_err.h"
#include "sj_model.h"
#include "sj_table.h"

/* The columns of the table. The rates are cells "num/den pct%" ("num/den
 * —" over 0). */
#define COUNTY_ASSESS_NCOLS 11
extern const char *const county_assess_names[COUNTY_ASSESS_NCOLS];

/* The period from the options: --from/--to (either may be given), --month
 * YYYY-MM or --year YYYY (one way only); none: the year of today. from and
 * to get the inclusive dates. SJ_EINVAL with the reason naming the option. */
SJ_NODISCARD int county_assess_period(const char *from_opt,
                                      const char *to_opt,
                                      const char *month,
                                      const char *year,
                                      const char *today,
                                      char from[11],
                                      char to[11],
                                      char *err,
                                      size_t err_size);

/* The assessment table of the matters received from..to (inclusive), on
 * today under the periods p (NULL: the defaults): one row per unit in code
 * order, then the total (unit "total") as the last row. *out: caller owns. SJ_EDB, SJ_ENOMEM; err
 * says why. */
SJ_NODISCARD int county_assess_table(sqlite3 *db,
                                     const char *from,
                                     const char *to,
                                     const char *today,
                                     const sj_periods_t *p,
                                     sj_table_t **out,
                                     char *err,
                                     size_t err_size);

/* The header of column i in lang (zh: Chinese, en: English). */
const char *county_assess_header(size_t i, sj_lang_t lang);

typedef enum { COUNTY_ASSESS_MD = 0, COUNTY_ASSESS_HTML, COUNTY_ASSESS_XLSX } county_assess_fmt_t;

/* Writes the table: md (a heading and a GitHub table), html (a complete
 * page, printable on A4), xlsx (a workbook, the export's writer). SJ_OK,
 * SJ_EIO. */
SJ_NODISCARD int county_assess_write(const sj_table_t *t,
                                     const char *from,
                                     const char *to,
                                     const char *today,
                                     sj_lang_t lang,
                                     county_assess_fmt_t fmt,
                                     FILE *out,
                                     char *err,
                                     size_t err_size);

#endif
