/* county_query: placeholder until the query module lands (see county_query.h). */
#include "county_query.h"

#include <stdio.h>

int
county_filter_check(const county_filter_t *f, char *err, size_t err_size)
{
    (void) f;
    (void) err;
    (void) err_size;
    return SJ_OK;
}

int
county_query_stats(sqlite3 *db, const char *by, const county_filter_t *f, sj_format_t fmt,
                   FILE *out, char *err, size_t err_size)
{
    (void) db; (void) by; (void) f; (void) fmt; (void) out;
    snprintf(err, err_size, "stats: not built yet");
    return SJ_EINVAL;
}

int
county_query_list(sqlite3 *db, const county_filter_t *f, sj_format_t fmt, FILE *out, char *err,
                  size_t err_size)
{
    (void) db; (void) f; (void) fmt; (void) out;
    snprintf(err, err_size, "list: not built yet");
    return SJ_EINVAL;
}

int
county_query_show(sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out, char *err,
                  size_t err_size)
{
    (void) db; (void) id_text; (void) fmt; (void) out;
    snprintf(err, err_size, "show: not built yet");
    return SJ_EINVAL;
}
