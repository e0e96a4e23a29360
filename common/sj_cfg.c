#include "sj_cfg.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sj_cfg_t *cfg;
    const char *tool;
    const char *const *allowed;
    char why[256];
    FILE *file;
    int lineno; /* line being parsed: inih calls the reader once per line */
} s_load_t;

static char *
s_reader(char *str, int num, void *stream)
{
    s_load_t *ld = stream;
    char *got = fgets(str, num, ld->file);
    if (got) {
        ld->lineno++;
    }
    return got;
}

static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_load_t *ld = user;
    if (section[0] && strcmp(section, "sanji") != 0 && strcmp(section, ld->tool) != 0) {
        snprintf(ld->why, sizeof ld->why, "unknown section [%s] (use [%s] or [sanji])", section,
                 ld->tool);
        return 0;
    }
    int known = 0;
    for (size_t i = 0; ld->allowed[i]; i++) {
        known = known || strcmp(ld->allowed[i], name) == 0;
    }
    if (!known) {
        snprintf(ld->why, sizeof ld->why, "unknown key '%s'", name);
        return 0;
    }
    sj_cfg_t *cfg = ld->cfg;
    for (size_t i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->entries[i].key, name) == 0) {
            snprintf(ld->why, sizeof ld->why, "key '%s' given twice", name);
            return 0;
        }
    }
    if (cfg->n == SJ_CFG_MAX_KEYS || strlen(name) >= sizeof cfg->entries[0].key) {
        snprintf(ld->why, sizeof ld->why, "too many keys");
        return 0;
    }
    /* Z85 keys may contain '#', ';', '=' (P10): values may be quoted. */
    size_t len = strlen(value);
    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
        value++;
        len -= 2;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        snprintf(ld->why, sizeof ld->why, "out of memory");
        return 0;
    }
    memcpy(copy, value, len);
    copy[len] = '\0';
    sj_cfg_entry_t *e = &cfg->entries[cfg->n++];
    snprintf(e->key, sizeof e->key, "%s", name);
    e->value = copy;
    e->line = ld->lineno;
    return 1;
}

int
sj_cfg_load(sj_cfg_t *cfg, const char *path, const char *tool, const char *const *allowed,
            char *err, size_t err_size)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open config file", path);
        return SJ_EIO;
    }
    s_load_t ld = {.cfg = cfg, .tool = tool, .allowed = allowed, .why = "", .file = f};
    int bad = ini_parse_stream(s_reader, &ld, s_handler, &ld);
    fclose(f);
    int rc = SJ_OK;
    if (bad != 0) {
        if (bad > 0 && !ld.why[0]) {
            snprintf(ld.why, sizeof ld.why, "expected 'key = value' or [section]");
        }
        snprintf(err, err_size, "%s:%d: %s", path, bad > 0 ? bad : 0, ld.why);
        rc = SJ_EINVAL;
    }
    if (rc != SJ_OK) {
        sj_cfg_free(cfg);
    }
    return rc;
}

const char *
sj_cfg_get(const sj_cfg_t *cfg, const char *key)
{
    for (size_t i = 0; cfg && i < cfg->n; i++) {
        if (strcmp(cfg->entries[i].key, key) == 0) {
            return cfg->entries[i].value;
        }
    }
    return NULL;
}

int
sj_cfg_line(const sj_cfg_t *cfg, const char *key)
{
    for (size_t i = 0; cfg && i < cfg->n; i++) {
        if (strcmp(cfg->entries[i].key, key) == 0) {
            return cfg->entries[i].line;
        }
    }
    return 0;
}

void
sj_cfg_free(sj_cfg_t *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->entries[i].value);
    }
    cfg->n = 0;
}
