/* hub_out: writes what the hub store's views return (hub_store.h) as a
 * table, JSON or CSV: the only place the hub's views become text, as
 * county-server/county_out.c is for the county. */
#ifndef HUB_OUT_H
#define HUB_OUT_H

#include <stdio.h>

#include "hub_store.h"
#include "sj_table.h"

/* The cases (hub_store_cases) in fmt. SJ_OK or SJ_EIO. */
SJ_NODISCARD int hub_out_cases(const sj_table_t *cases, sj_format_t fmt, FILE *out);
/* The status view (hub_store_status) in fmt: JSON one object (the counts,
 * "stations" and the downward streams' members); table a summary, the
 * stations and the downward streams' lines; CSV the stations only. SJ_OK,
 * SJ_ENOMEM or SJ_EIO. */
SJ_NODISCARD int hub_out_status(const hub_status_t *s, sj_format_t fmt, FILE *out);

#endif
