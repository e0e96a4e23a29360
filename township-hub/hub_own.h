/* hub_own: leader ownership (领导包案) at the township (issue 16 item 4,
 * docs/MEETING.md): `township-hub own`, an event of the hub's own stream that
 * travels to the county. */
#ifndef HUB_OWN_H
#define HUB_OWN_H

#include "sj_cli.h"
#include "sj_table.h"

/* own CASE-ID --leader NAME [--portfolio P] [--officer X] on the hub store
 * in data (code: --code, or NULL). The exit status. */
int hub_own_cmd(const sj_cli_args_t *a,
                const char *data,
                const char *code,
                int leader_id,
                int portfolio_id,
                int officer_id);

/* leaders [--format F] and agenda [--week YYYY-Www] [--format md|html] of
 * the township (the default periods, as its cases). The exit status. */
int hub_leaders_cmd(const sj_cli_args_t *a, const char *data, const char *code, sj_format_t fmt);
int hub_agenda_cmd(
    const sj_cli_args_t *a, const char *data, const char *code, int week_id, int format_id);

#endif
