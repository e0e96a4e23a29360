/* hub_store_view: the hub store's connection, for the modules that read
 * the schema next to the store (hub_read: list, search, show) and for the
 * node engine (sj_node_cfg_t's db for the downlink), as
 * county-server/county_store_view.h is for the county. Nothing else takes
 * the raw connection: the store's views return data (hub_store_cases,
 * hub_store_status) and hub_out writes them. */
#ifndef HUB_STORE_VIEW_H
#define HUB_STORE_VIEW_H

#include <sqlite3.h>

#include "hub_store.h"

sqlite3 *hub_store_db(hub_store_t *self);

#endif
