/* webdriver: a small W3C WebDriver client for the page tests: starts Debian's chromedriver
 * (package chromium-driver) on a free loopback port, opens one headless Chromium session at
 * 1024x768, and drives it with real clicks, typing and form posts — the same events a person
 * makes — plus screenshots into the build tree.
 *
 * Every call that talks to the browser returns 0, or -1 with wd_error() saying why (the
 * WebDriver error and message). Waits (wd_wait_css, wd_wait_js) poll the page's observable
 * state with a deadline; nothing here sleeps and hopes.
 *
 * Usage:
 *   if (!wd_available()) exit(77);        // skip: not installed
 *   wd_t *wd = wd_start(dir, "zh-CN");   // NULL: installed but does not start: fail
 *   wd_get(wd, url);
 *   char el[WD_ID];
 *   wd_wait_css(wd, "#summary", 10000, el);
 *   wd_type(wd, el, "土地承包纠纷");
 *   wd_click_css(wd, "button[type=submit]");
 *   wd_screenshot(wd, "build/screenshots/record-zh.png");
 *   wd_stop(&wd);
 *
 * Not thread-safe; one wd_t per test. */
#ifndef WEBDRIVER_H
#define WEBDRIVER_H

#include <stddef.h>

#define WD_ID 128 /* an element reference */

typedef struct wd wd_t;

/* 1 when chromedriver and chromium are installed (a test that finds them missing skips; one
 * that finds them but cannot start them fails). */
int wd_available(void);
/* Starts chromedriver and a session. dir: a directory for the browser profile and the driver's
 * log (kept for a failed test to read); lang: the browser's language ("zh-CN", "en-US"), which
 * sets Accept-Language. NULL (after saying why on stderr) when chromedriver or chromium is
 * missing or does not start. Environment: SANJI_CHROMIUM, SANJI_CHROMEDRIVER
 * name other binaries. */
wd_t *wd_start(const char *dir, const char *lang);
/* Ends the session and the driver (and every browser process); NULL-safe. */
void wd_stop(wd_t **self_p);
/* The last error, "" when none. */
const char *wd_error(const wd_t *self);

/* Navigation. */
int wd_get(wd_t *self, const char *url);
int wd_url(wd_t *self, char *out, size_t size);
int wd_title(wd_t *self, char *out, size_t size);
int wd_back(wd_t *self);
int wd_refresh(wd_t *self);

/* Elements, by CSS selector. wd_find fails (-1) when none matches. wd_count gives how many. */
int wd_find(wd_t *self, const char *css, char el[WD_ID]);
int wd_count(wd_t *self, const char *css, int *n);
int wd_click(wd_t *self, const char *el);
int wd_click_css(wd_t *self, const char *css);
/* Types text into the element (after a click on it), as keystrokes. wd_clear empties it. */
int wd_type(wd_t *self, const char *el, const char *text);
int wd_clear(wd_t *self, const char *el);
/* Selects the <option> of a <select> whose value attribute is value (by clicking it). */
int wd_select(wd_t *self, const char *select_css, const char *value);
/* The rendered text of an element (innerText), and an attribute or DOM property (e.g. "value"). */
int wd_text(wd_t *self, const char *el, char *out, size_t size);
int wd_text_css(wd_t *self, const char *css, char *out, size_t size);
int wd_prop(wd_t *self, const char *el, const char *name, char *out, size_t size);

/* Keys: sends keystrokes to whatever has the focus (e.g. "\ue004" Tab, "\ue007" Enter). */
int wd_keys(wd_t *self, const char *keys);

/* Runs script (a function body; arguments[0..] are args, JSON values given as text, e.g.
 * "\"x\"" or "3"; NULL for none) and writes its result as JSON text into out. */
int wd_js(wd_t *self, const char *script, const char *args_json, char *out, size_t size);

/* Waits until css matches an element (el may be NULL), or until script (returning a truthy
 * value) is true; -1 with the reason after timeout_ms. */
int wd_wait_css(wd_t *self, const char *css, int timeout_ms, char el[WD_ID]);
int wd_wait_js(wd_t *self, const char *script, int timeout_ms);

/* A PNG of the viewport into path (its directory must exist). */
int wd_screenshot(wd_t *self, const char *path);

/* Fills and submits the login form of a sanji page (#login-form: #name,
 * #password, #login), then waits up to wait_ms until ready_js (a script
 * returning true) holds. 0, or -1 (wd_error says why). */
int wd_login(wd_t *wd, const char *name, const char *password, const char *ready_js, int wait_ms);

#endif
