/* sj_i18n: see sj_i18n.h. */
#include "sj_i18n.h"

#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#ifndef SANJI_LOCALEDIR
#define SANJI_LOCALEDIR "/usr/share/locale"
#endif

static const char *s_domain = "sanji";
static int s_ready;

/* The first of LC_ALL, LC_MESSAGES, LANG that is set (as setlocale reads). */
static const char *
s_env_locale(void)
{
    static const char *const names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && v[0]) {
            return v;
        }
    }
    return "";
}

void
sj_i18n_init(const char *domain)
{
    if (domain && domain[0]) {
        s_domain = domain;
    }
    const char *want = s_env_locale();
    if (!setlocale(LC_ALL, "") && strncmp(want, "zh", 2) == 0) {
        /* zh asked for but not generated here: C.UTF-8 and LANGUAGE */
        if (setlocale(LC_ALL, "C.UTF-8")) {
            setenv("LANGUAGE", "zh_CN", 0);
        }
    }
    /* numbers and dates stay as machines read them (CSV, JSON, logs) */
    setlocale(LC_NUMERIC, "C");
    setlocale(LC_TIME, "C");
    const char *dir = getenv("SANJI_LOCALEDIR");
    bindtextdomain(s_domain, dir && dir[0] ? dir : SANJI_LOCALEDIR);
    bind_textdomain_codeset(s_domain, "UTF-8");
    textdomain(s_domain);
    s_ready = 1;
}

const char *
sj_tr(const char *msgid)
{
    return s_ready && msgid && msgid[0] ? dgettext(s_domain, msgid) : msgid;
}

static int s_people = 1; /* a daemon turns it off (sj_node_run) */

void
sj_i18n_people(int on)
{
    s_people = on;
}

const char *
sj_pt(const char *msgid)
{
    return s_people ? sj_tr(msgid) : msgid;
}

sj_lang_t
sj_i18n_lang(void)
{
    /* TRANSLATORS: the language of this catalogue: "zh" for Chinese. */
    return strcmp(sj_tr("en"), "zh") == 0 ? SJ_LANG_ZH : SJ_LANG_EN;
}
