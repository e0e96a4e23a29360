/* hub_out: see hub_out.h. */
#include "hub_out.h"

#include <inttypes.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "sj_err.h"

int
hub_out_cases(const sj_table_t *cases, sj_format_t fmt, FILE *out)
{
    return sj_table_write(cases, fmt, out);
}

int
hub_out_status(const hub_status_t *s, sj_format_t fmt, FILE *out)
{
    if (fmt == SJ_FMT_JSON) {
        cJSON *root = s->down ? cJSON_Duplicate(s->down, 1) : cJSON_CreateObject();
        cJSON *stations = sj_table_to_json(s->stations);
        int rc = SJ_ENOMEM;
        if (root && stations) {
            /* the counts first, then the stations, then the streams' members */
            cJSON *head = cJSON_CreateObject();
            if (head) {
                cJSON_AddStringToObject(head, "township", s->township);
                cJSON_AddNumberToObject(head, "queue_depth", (double) s->queue_depth);
                cJSON_AddNumberToObject(head, "oldest_unforwarded_s",
                                        (double) s->oldest_unforwarded_s);
                cJSON_AddNumberToObject(head, "events", (double) s->events);
                cJSON_AddNumberToObject(head, "forwarded", (double) s->forwarded);
                cJSON_AddNumberToObject(head, "quarantined", (double) s->quarantined);
                cJSON_AddNumberToObject(head, "forks", (double) s->forks);
                cJSON_AddNumberToObject(head, "county_contact_age_s",
                                        (double) s->county_contact_age_s);
                cJSON_AddItemToObject(head, "stations", stations);
                stations = NULL;
                cJSON *item = root->child;
                while (item) {
                    cJSON *next = item->next;
                    cJSON_AddItemToObject(head, item->string,
                                          cJSON_DetachItemViaPointer(root, item));
                    item = next;
                }
                char *text = cJSON_PrintUnformatted(head);
                if (text) {
                    rc = fprintf(out, "%s\n", text) < 0 ? SJ_EIO : SJ_OK;
                    free(text);
                }
                cJSON_Delete(head);
            }
        }
        cJSON_Delete(stations);
        cJSON_Delete(root);
        return rc;
    }
    if (fmt == SJ_FMT_TABLE) {
        fprintf(out,
                "township %s: %" PRId64 " events, %" PRId64 " forwarded to the county,"
                " queue depth %" PRId64 ", oldest unforwarded %" PRId64 " s,"
                " %" PRId64 " quarantined, %" PRId64 " forks refused\n",
                s->township, s->events, s->forwarded, s->queue_depth, s->oldest_unforwarded_s,
                s->quarantined, s->forks);
        if (s->county_contact_age_s >= 0) {
            fprintf(out, "last county contact %" PRId64 " s ago\n", s->county_contact_age_s);
        } else {
            fprintf(out, "no county contact yet\n");
        }
        fprintf(out, "\n");
    }
    int rc = sj_table_write(s->stations, fmt, out);
    if (rc == SJ_OK && fmt == SJ_FMT_TABLE && s->down_text && fputs(s->down_text, out) == EOF) {
        rc = SJ_EIO;
    }
    return rc;
}
