#include "sj_node.h"

#include <stdio.h>
#include <string.h>

#include "sj_cfg.h"
#include "sj_log.h"
#include "sj_model.h"

void
sj_node_allowlist_path(const char *dir, char *out, size_t size)
{
    snprintf(out, size, "%s/allowlist", dir);
}

int
sj_node_cmd_keygen(const char *tool, const char *dir)
{
    sj_keypair_t kp;
    char err[512];
    if (sj_keypair_generate(dir, &kp, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 1;
    }
    printf("%s\n", kp.pk_z85);
    fprintf(stderr, "key pair written to %s/curve.key (secret, mode 0600);"
                    " give the public key above to the office that enrols this node\n",
            dir);
    return 0;
}

int
sj_node_cmd_allow(const char *tool, const char *dir, const char *code, const char *key,
                  const char *under)
{
    char path[1100], err[512];
    if (under && !sj_code_under(code, under)) {
        fprintf(stderr, "%s: %s is not under %s; it cannot be enrolled here\n", tool, code, under);
        return 1;
    }
    sj_node_allowlist_path(dir, path, sizeof path);
    if (sj_allowlist_add(path, code, key, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 1;
    }
    fprintf(stderr, "enrolled %s; a running daemon picks it up on SIGHUP"
                    " (systemctl reload, or kill -HUP)\n", code);
    return 0;
}

int
sj_node_cmd_revoke(const char *tool, const char *dir, const char *code_or_key)
{
    char path[1100], err[512];
    int removed = 0;
    sj_node_allowlist_path(dir, path, sizeof path);
    if (sj_allowlist_revoke(path, code_or_key, &removed, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 1;
    }
    if (!removed) {
        fprintf(stderr, "%s: %s is not in %s\n", tool, code_or_key, path);
        return 1;
    }
    fprintf(stderr, "revoked %d key%s; a running daemon applies it on SIGHUP\n", removed,
            removed == 1 ? "" : "s");
    return 0;
}

int
sj_node_load_keys(const char *tool, const char *dir, int insecure, sj_keypair_t *kp, int *have)
{
    char err[512];
    *have = 0;
    int rc = sj_keypair_load(dir, kp, err, sizeof err);
    if (rc == SJ_OK) {
        *have = 1;
        if (insecure) {
            sj_warn("--insecure given: the key pair in %s is not used", dir);
            *have = 0;
        }
        return SJ_OK;
    }
    if (rc == SJ_ENOTFOUND && insecure) {
        sj_warn("INSECURE: running without keys (--insecure)");
        return SJ_OK;
    }
    if (rc == SJ_ENOTFOUND) {
        fprintf(stderr, "%s: %s; refusing to run without keys (or give --insecure for a test"
                        " network)\n", tool, err);
    } else {
        fprintf(stderr, "%s: %s\n", tool, err);
    }
    return rc;
}

int
sj_node_peer_key(const char *tool, const char *option, const char *z85, uint8_t out[SJ_KEY_BYTES])
{
    if (!z85) {
        fprintf(stderr, "%s: --%s is required (the parent's public key), unless --insecure\n", tool,
                option);
        return SJ_EINVAL;
    }
    if (sj_key_decode(z85, out) != SJ_OK) {
        fprintf(stderr, "%s: --%s '%s' is not a 40-character Z85 public key\n", tool, option, z85);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

void
sj_node_reload_log_level(void)
{
    if (!sj_cfg_path() || sj_cfg_source("log-level", NULL) == SJ_CFG_ARGV) {
        return;
    }
    char name[64], err[1400];
    int line = 0;
    if (sj_cfg_reread("log-level", name, sizeof name, &line, err, sizeof err) != SJ_OK) {
        sj_error("config not reloaded, the log level stays: %s", err);
        return;
    }
    int lvl = sj_log_level_parse(name[0] ? name : "notice");
    if (lvl < 0) {
        sj_error("%s:%d: log-level '%s' is not one of error, warn, notice, info, debug; it stays",
                 sj_cfg_path(), line, name);
    } else if (lvl != sj_log_level_current) {
        sj_log_set_level((sj_log_level_t) lvl);
        sj_notice("log level is now %s", name[0] ? name : "notice");
    }
}
