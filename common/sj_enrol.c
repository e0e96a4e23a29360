/* sj_enrol: see sj_enrol.h. */
#include "sj_enrol.h"

#include <stdio.h>
#include <string.h>

#include "sj_auth.h"
#include "sj_i18n.h"
#include "sj_keys.h"
#include "sj_model.h"

void
sj_enrol_allowlist_path(const char *dir, char *out, size_t size)
{
    snprintf(out, size, "%s/allowlist", dir);
}

int
sj_enrol_keygen(const char *tool, const char *dir)
{
    sj_keypair_t kp;
    char err[512];
    if (sj_keypair_generate(dir, &kp, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 1;
    }
    char fp[SJ_KEY_FP_TEXT];
    sj_key_fingerprint_text(kp.pk, fp);
    printf("%s\n", kp.pk_z85);
    fprintf(stderr,
            _("key pair written to %s/curve.key (secret, mode 0600);"
              " give the public key above to the office that enrols this node\n"
              "key fingerprint %s (read it out by phone to check a copy of the public"
              " key)\n"),
            dir, fp);
    return 0;
}

int
sj_enrol_key_fingerprint(const char *dir, char out[SJ_KEY_FP_TEXT])
{
    char path[1100], z85[64] = "";
    snprintf(path, sizeof path, "%s/curve.pub", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        return SJ_ENOTFOUND;
    }
    int ok = fgets(z85, sizeof z85, f) != NULL;
    fclose(f);
    z85[strcspn(z85, "\r\n")] = '\0';
    uint8_t pk[SJ_KEY_BYTES];
    if (!ok || sj_key_decode(z85, pk) != SJ_OK) {
        return SJ_EINVAL;
    }
    sj_key_fingerprint_text(pk, out);
    return SJ_OK;
}

int
sj_enrol_allow(
    const char *tool, const char *dir, const char *code, const char *key, const char *under)
{
    char path[1100], err[512];
    uint8_t pk[SJ_KEY_BYTES];
    if (under && !sj_code_under(code, under)) {
        fprintf(stderr, _("%s: %s is not under %s; it cannot be enrolled here\n"), tool, code,
                under);
        return 2;
    }
    if (sj_key_decode(key, pk) != SJ_OK) {
        fprintf(stderr,
                _("%s: KEY '%s' is not a 40-character Z85 public key (the one 'keygen' printed;"
                  " put it in single quotes: a Z85 key holds characters the shell changes)\n"),
                tool, key);
        return 2;
    }
    sj_enrol_allowlist_path(dir, path, sizeof path);
    if (sj_allowlist_add(path, code, key, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 1;
    }
    fprintf(stderr,
            _("enrolled %s; a running daemon picks it up on SIGHUP"
              " (systemctl reload, or kill -HUP)\n"),
            code);
    return 0;
}

int
sj_enrol_revoke(const char *tool, const char *dir, const char *code_or_key)
{
    char path[1100], err[512];
    int removed = 0;
    sj_enrol_allowlist_path(dir, path, sizeof path);
    if (sj_allowlist_revoke(path, code_or_key, &removed, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 1;
    }
    if (!removed) {
        fprintf(stderr, _("%s: %s is not in %s\n"), tool, code_or_key, path);
        return 1;
    }
    fprintf(stderr, _("revoked %d key%s; a running daemon applies it on SIGHUP\n"), removed,
            removed == 1 ? "" : "s");
    return 0;
}
