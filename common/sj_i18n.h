/* sj_i18n: the tools' messages, --help and table headers in the person's
 * language through GNU gettext (po/zh_CN.po, one catalogue for the three
 * tools, installed once per tool under the tool's name as its text domain:
 * village-agent.mo, township-hub.mo, county-server.mo, so that the three
 * packages never own the same file).
 *
 * sj_i18n_init(TOOL) (first thing in main) follows the locale: LANG=zh_CN.UTF-8
 * gives Chinese, C or en English. On a machine where the zh_CN locale is not
 * generated, a LANG/LC_ALL/LC_MESSAGES naming zh still gives the Chinese
 * messages (the C.UTF-8 locale with LANGUAGE=zh_CN). The catalogue is read
 * from SANJI_LOCALEDIR when set (the tests use the build tree's), else from
 * the install's locale directory. Machine output (--format json|csv) is
 * never translated. */
#ifndef SJ_I18N_H
#define SJ_I18N_H

#include "sj_model.h"

void sj_i18n_init(const char *domain);
/* The message in the person's language (msgid itself when untranslated). */
const char *sj_tr(const char *msgid) __attribute__((format_arg(1)));
/* SJ_LANG_ZH when the messages are Chinese, else SJ_LANG_EN. */
sj_lang_t sj_i18n_lang(void);

/* A text that may also travel or be kept (a report check that a hub sends
 * back as a Rejection reason): the person's language in a tool a person
 * runs, the msgid (stable English) in a daemon, which calls
 * sj_i18n_people(0) as it starts (sj_node_run; docs/DESK.md). */
const char *sj_pt(const char *msgid) __attribute__((format_arg(1)));
void sj_i18n_people(int on);
#define _(s)  sj_tr(s)
#define N_(s) (s)

#endif
