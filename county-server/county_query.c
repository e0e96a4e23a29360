/* county_query: the reading commands, computed by the view modules and
 * written by county_out; see county_query.h. */
#include "county_query.h"

#include <assert.h>
#include <stdlib.h>

#include "county_out.h"
#include "county_personal.h"
#include "sj_history.h"
#include "sj_i18n.h"
#include "sj_ids.h"

const char county_query_history_sql[] =
    "SELECT 'report', m.created_ms, m.origin, m.officer, NULL, NULL,"
    " coalesce(m.reported_outcome, m.outcome), NULL, NULL, NULL, NULL, m.id, 0, m.received_ms"
    " FROM matters AS m WHERE m.id=?1"
    " UNION ALL SELECT 'status', s.created_ms, s.origin, s.officer, s.note,"
    " nullif(s.prev_outcome, 0), s.new_outcome, NULL, NULL,"
    " (SELECT reason FROM conflicts AS c WHERE c.case_id=s.case_id AND c.eid=s.eid),"
    " s.applied, s.id, s.eid, (SELECT received_ms FROM events AS x WHERE x.eid = s.eid)"
    " FROM status_changes AS s WHERE s.case_id=?1"
    " UNION ALL SELECT 'assignment', a.created_ms, a.origin, NULL, a.note, NULL, NULL,"
    " a.assignee, a.due_on, NULL, NULL, a.id, a.eid,"
    " (SELECT received_ms FROM events AS x WHERE x.eid = a.eid)"
    " FROM assignments AS a WHERE a.case_id=?1"
    /* corrections and voids (issue 15): the event's bytes in the 8th column */
    " UNION ALL SELECT CASE f.type WHEN 6 THEN 'void' ELSE 'correction' END, e.created_ms,"
    " e.origin, NULL, NULL, NULL, NULL, e.raw, NULL, NULL, f.applied, e.id, f.eid, e.received_ms"
    " FROM fixes AS f JOIN events AS e ON e.eid = f.eid WHERE f.case_id=?1"
    " UNION ALL SELECT 'extension', x.created_ms, x.origin, x.officer, x.reason, NULL, NULL,"
    " x.stage, x.days, x.approved_by, NULL, (SELECT e.id FROM events AS e WHERE e.eid = x.row),"
    " x.row, (SELECT e.received_ms FROM events AS e WHERE e.eid = x.row)"
    " FROM extensions AS x WHERE x.case_id=?1"
    " UNION ALL SELECT 'evaluation', v.created_ms, v.origin, v.officer, v.note, NULL,"
    " v.satisfaction, NULL, NULL, NULL, NULL,"
    " (SELECT e.id FROM events AS e WHERE e.eid = v.row), v.row,"
    " (SELECT e.received_ms FROM events AS e WHERE e.eid = v.row)"
    " FROM evaluations AS v WHERE v.case_id=?1"
    /* appointments and their marks (issue 16 item 6, county_appoint.h) */
    " UNION ALL SELECT 'appointment', a.created_ms,"
    " (SELECT e.origin FROM events AS e WHERE e.eid = a.row), a.officer, a.note, NULL, NULL,"
    " a.office, a.on_date, a.at_time, NULL, a.id, a.row,"
    " (SELECT e.received_ms FROM events AS e WHERE e.eid = a.row)"
    " FROM appointments AS a WHERE a.case_id=?1"
    " UNION ALL SELECT 'appointment_mark', k.created_ms,"
    " (SELECT e.origin FROM events AS e WHERE e.eid = k.row), k.officer, k.note, NULL, k.kept,"
    " NULL, NULL, NULL, NULL, (SELECT e.id FROM events AS e WHERE e.eid = k.row), k.row,"
    " (SELECT e.received_ms FROM events AS e WHERE e.eid = k.row)"
    " FROM appointment_marks AS k WHERE k.case_id=?1"
    " UNION ALL SELECT 'ownership', o.created_ms, o.origin, o.officer, NULL, NULL, NULL,"
    " o.leader, o.portfolio, NULL, NULL, (SELECT e.id FROM events AS e WHERE e.eid = o.row),"
    " o.row, (SELECT e.received_ms FROM events AS e WHERE e.eid = o.row)"
    " FROM ownerships AS o WHERE o.case_id=?1"
    " ORDER BY 2, 13";

int
county_query_case_figs(
    sqlite3 *db, const county_filter_t *f, county_case_figs_t *out, char *err, size_t err_size)
{
    return county_figs_total(db, f, out, err, err_size);
}

int
county_query_stats(sqlite3 *db,
                   const char *by,
                   const county_filter_t *f,
                   sj_format_t fmt,
                   FILE *out,
                   char *err,
                   size_t err_size)
{
    return county_query_stats_ex(db, by, f, fmt, 0, out, err, err_size);
}

int
county_query_stats_ex(sqlite3 *db,
                      const char *by,
                      const county_filter_t *f,
                      sj_format_t fmt,
                      unsigned flags,
                      FILE *out,
                      char *err,
                      size_t err_size)
{
    assert(out);
    county_stats_t *s = NULL;
    int rc = county_stats_run(db, by, f, flags, &s, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_stats(s, fmt, out, err, err_size);
    }
    county_stats_destroy(&s);
    return rc;
}

const char *
county_query_stats_source(const char *by, const county_filter_t *f)
{
    return county_stats_source(by, f);
}

static int
s_list_next(void *cursor, const char *const **cells, char *err, size_t err_size)
{
    return county_list_next(cursor, cells, err, err_size);
}

int
county_query_list(
    sqlite3 *db, const county_filter_t *f, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(out);
    county_list_t *rows = NULL;
    int rc = county_list_open(db, f, &rows, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_rows(county_list_ncols(rows), county_list_names(rows),
                             county_list_types(rows), s_list_next, rows, fmt, out, err, err_size);
    }
    county_list_close(&rows);
    return rc;
}

int
county_query_show(
    sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    assert(out);
    sj_table_t *t = NULL;
    int rc = county_list_show(db, id_text, &t, err, err_size);
    uint8_t id[SJ_ID_BYTES];
    if (rc == SJ_OK && sj_uuid_parse(id_text, id) != SJ_OK) {
        rc = SJ_EINVAL; /* county_list_show parsed it */
    }
    if (rc == SJ_OK && fmt == SJ_FMT_JSON) {
        /* one object: the matter's fields and "history" */
        cJSON *rows = sj_table_to_json(t);
        cJSON *obj = rows ? cJSON_GetArrayItem(rows, 0) : NULL;
        rc = obj ? sj_history_write(db, county_query_history_sql, id, fmt, out, obj, err, err_size)
                 : SJ_ENOMEM;
        char *text = rc == SJ_OK ? cJSON_PrintUnformatted(obj) : NULL;
        if (rc == SJ_OK && (!text || fputs(text, out) == EOF || fputc('\n', out) == EOF)) {
            snprintf(err, err_size, _("cannot write the output"));
            rc = SJ_EIO;
        }
        free(text);
        cJSON_Delete(rows);
    } else if (rc == SJ_OK) {
        rc = county_out_show(t, fmt, out, err, err_size);
        if (rc == SJ_OK && fmt == SJ_FMT_TABLE) {
            rc = sj_history_write(db, county_query_history_sql, id, fmt, out, NULL, err, err_size);
        }
    }
    sj_table_destroy(&t);
    return rc;
}

int
county_query_personal(sqlite3 *db,
                      const char *id_text,
                      const sj_keypair_t *kp,
                      sj_format_t fmt,
                      FILE *out,
                      char *err,
                      size_t err_size)
{
    assert(out);
    county_personal_t p;
    int none = 1;
    int rc = county_personal_read(db, id_text, kp, &p, &none, err, err_size);
    if (rc == SJ_OK) {
        rc = county_out_personal(&p, none, fmt, out, err, err_size);
    }
    county_personal_wipe(&p);
    return rc;
}
