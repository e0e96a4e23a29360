/* county_dept: the county's departments (县直部门, issue 17 item 3).
 *
 * A department has a 9-digit code under the county: the county's 6 digits,
 * then 9 and two digits (230523901, sj_dept_code), a place in the code tree
 * no township uses, so that a case assigned to it is assigned as to a
 * township (county-server assign --to 230523901), and a name. Its people
 * (role department, `user add --unit CODE`) see on the dashboard only the
 * cases whose current assignment is to their department (/dept), and accept
 * or conclude them there (a status change, the same code as `update`). */
#ifndef COUNTY_DEPT_H
#define COUNTY_DEPT_H

#include <sqlite3.h>
#include <stddef.h>

#include "county_store.h"
#include "sj_err.h"
#include "sj_http.h"
#include "sj_login.h"
#include "sj_table.h"

/* Names a department (a new code, or a new name of one). county: the
 * store's county code ("000000": any). SJ_EINVAL with the reason. */
SJ_NODISCARD int county_dept_add(sqlite3 *db,
                                 const char *county,
                                 const char *code,
                                 const char *name,
                                 char *err,
                                 size_t err_size);
/* The departments: code, name. */
SJ_NODISCARD int county_dept_table(sqlite3 *db, sj_table_t **out, char *err, size_t err_size);
/* 1 when case id_text's current assignment is to unit. */
int county_dept_has_case(sqlite3 *db, const char *unit, const char *id_text);
/* GET /dept: the department's cases with accept and conclude buttons. */
void county_dept_page(sqlite3 *db, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang);
/* `county-server dept add CODE NAME | dept list`: the exit status. */
int county_dept_cli(county_store_t *st, char *const *pos, int npos, sj_format_t fmt);

#endif
