/* sj_cfg: INI configuration files (inih). Keys are the long flag names
 * without dashes ("hub = tcp://127.0.0.1:7601"), optionally inside a section
 * named after the tool ([village-agent], [township-hub], [county-server]) or
 * [sanji]; other sections are errors. Flags given on the command line win.
 * An unknown key or a bad line stops start-up with "file:line: reason". */
#ifndef SJ_CFG_H
#define SJ_CFG_H

#include <stddef.h>

#include "sj_err.h"

#define SJ_CFG_MAX_KEYS 64

typedef struct {
    char key[48];
    char *value;
    int line;
} sj_cfg_entry_t;

typedef struct {
    char path[1024];
    sj_cfg_entry_t entries[SJ_CFG_MAX_KEYS];
    size_t n;
} sj_cfg_t;

/* Loads path; allowed is a NULL-terminated list of keys, tool is the
 * section name accepted besides [sanji]. On error err holds "file:line: reason". */
SJ_NODISCARD int sj_cfg_load(sj_cfg_t *cfg, const char *path, const char *tool,
                             const char *const *allowed, char *err, size_t err_size);
/* The value of key, or NULL (borrowed). */
const char *sj_cfg_get(const sj_cfg_t *cfg, const char *key);
/* Line of key, 0 if absent (for "file:line" errors on bad values). */
int sj_cfg_line(const sj_cfg_t *cfg, const char *key);
void sj_cfg_free(sj_cfg_t *cfg);

#endif
