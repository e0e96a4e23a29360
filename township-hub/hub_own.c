/* hub_own: see hub_own.h. */
#include "hub_own.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_ids.h"
#include "sj_own.h"
#include "sj_users.h"

int
hub_own_cmd(const sj_cli_args_t *a,
            const char *data,
            const char *code,
            int leader_id,
            int portfolio_id,
            int officer_id)
{
    int exit_code = 2;
    sj_event_t *ev = sj_own_cli_event(a, leader_id, portfolio_id, officer_id, &exit_code);
    if (!ev) {
        return exit_code;
    }
    char err[512] = "";
    hub_store_t *st = hub_store_open(data, code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        free(ev);
        return 1;
    }
    int rc = hub_store_own(st, ev, err, sizeof err);
    char detail[800];
    snprintf(detail, sizeof detail, "case %.40s leader %.64s%s%.600s", a->pos[0], ev->leader,
             rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    sj_audit_cli(hub_store_db(st), "own", detail, rc == SJ_OK);
    if (rc == SJ_OK) {
        char id[SJ_UUID_TEXT];
        sj_uuid_format(ev->id, id);
        printf("%s\n", id);
        fprintf(stderr, "township-hub: case %s: owned by %s, queued for the county\n", a->pos[0],
                ev->leader);
    } else {
        fprintf(stderr, "township-hub: ownership refused, nothing stored: %s\n", err);
    }
    hub_store_close(&st);
    free(ev);
    return rc == SJ_OK ? 0 : 1;
}
