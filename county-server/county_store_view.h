/* county_store_view: the store's connection, for the view modules that sit
 * next to the store in county-server/ and know its schema (county_stats,
 * county_list, county_cases, county_report, county_status, county_verify,
 * ...; docs/COUNTY-QUERIES.md) and for the daemon's downlink, which runs on
 * the same connection. Internal to county-server/ (and its tests): the
 * other tiers and common/ never include it; they work through the store's
 * functions (county_store.h). */
#ifndef COUNTY_STORE_VIEW_H
#define COUNTY_STORE_VIEW_H

#include <sqlite3.h>

#include "county_store.h"

/* The store's connection (borrowed: valid until county_store_close, used on
 * the store's thread only). A view reads; only the store writes, except
 * county_store_tally_rebuild's callers (bulk loaders and tests). */
sqlite3 *county_store_db(county_store_t *self);

#endif
