/* webdriver: a small W3C WebDriver client (see webdriver.h). */
#define _GNU_SOURCE /* strcasestr */
#include "webdriver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#define WD_ELEMENT_KEY "element-6066-11e4-a52e-4f735466cecf"
#define WD_START_MS    30000 /* chromedriver up and a session open */

struct wd {
    pid_t pid;         /* chromedriver */
    uint16_t port;     /* its loopback port */
    char session[128]; /* the session id */
    char error[1024];  /* the last error */
    char dir[512];     /* profile and log */
    char profile[560]; /* this session's browser profile, removed at stop */
};

static int
s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static int64_t
s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_nap_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int
s_fail(wd_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *
wd_error(const wd_t *self)
{
    return self ? self->error : "no browser";
}

/* One HTTP/1.1 request to the driver; *reply gets the parsed JSON body (caller deletes). */
static int
s_http(wd_t *self, const char *method, const char *path, const char *body, cJSON **reply)
{
    *reply = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return s_fail(self, "socket: %s", strerror(errno));
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(self->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return s_fail(self, "chromedriver on port %u: %s", self->port, strerror(errno));
    }
    size_t blen = body ? strlen(body) : 0;
    char head[512];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n"
                     "Content-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
                     method, path, self->port, blen);
    if (n <= 0 || (size_t) n >= sizeof head || write(fd, head, (size_t) n) != n
        || (blen && write(fd, body, blen) != (ssize_t) blen)) {
        close(fd);
        return s_fail(self, "cannot send %s %s", method, path);
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            return s_fail(self, "out of memory");
        }
        if (len + 4096 > cap) {
            cap *= 2;
            char *b2 = realloc(buf, cap);
            if (!b2) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = b2;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        len += (size_t) got;
        buf[len] = '\0';
        /* chromedriver says "Connection: close" and then keeps the socket open: the reply ends
         * where its Content-Length says. */
        const char *hend = strstr(buf, "\r\n\r\n");
        const char *cl = hend ? strcasestr(buf, "\r\ncontent-length:") : NULL;
        if (cl && cl < hend && len >= (size_t) (hend + 4 - buf) + strtoul(cl + 17, NULL, 10)) {
            break;
        }
    }
    close(fd);
    buf[len] = '\0';
    char *start = strstr(buf, "\r\n\r\n");
    if (!start) {
        free(buf);
        return s_fail(self, "%s %s: no HTTP reply", method, path);
    }
    /* chromedriver answers with Content-Length; a chunked body would start with a size line. */
    if (strcasestr(buf, "transfer-encoding: chunked")) {
        char *p = start + 4, *out = start + 4;
        for (;;) {
            char *end = NULL;
            unsigned long sz = strtoul(p, &end, 16);
            if (!end || end == p || sz == 0) {
                break;
            }
            p = strstr(end, "\r\n");
            if (!p) {
                break;
            }
            p += 2;
            memmove(out, p, sz);
            out += sz;
            p += sz + 2;
        }
        *out = '\0';
    }
    *reply = cJSON_Parse(start + 4);
    free(buf);
    if (!*reply) {
        return s_fail(self, "%s %s: the reply is not JSON", method, path);
    }
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(*reply, "value");
    const cJSON *err =
        cJSON_IsObject(value) ? cJSON_GetObjectItemCaseSensitive(value, "error") : NULL;
    if (cJSON_IsString(err)) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(value, "message");
        s_fail(self, "%s %s: %s: %.700s", method, path, err->valuestring,
               cJSON_IsString(msg) ? msg->valuestring : "");
        cJSON_Delete(*reply);
        *reply = NULL;
        return -1;
    }
    return 0;
}

/* A session command: path relative to the session ("/url"); body JSON or NULL (GET). */
static int
s_cmd(wd_t *self, const char *method, const char *rel, const char *body, cJSON **reply)
{
    char path[1024];
    snprintf(path, sizeof path, "/session/%s%s", self->session, rel);
    cJSON *r = NULL;
    int rc = s_http(self, method, path, body, &r);
    if (reply) {
        *reply = r;
    } else {
        cJSON_Delete(r);
    }
    return rc;
}

/* The "value" of a reply as text: a string's text, or any other JSON printed. */
static int
s_value_text(wd_t *self, cJSON *reply, char *out, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "value");
    if (cJSON_IsString(v)) {
        snprintf(out, size, "%s", v->valuestring);
    } else {
        char *text = v ? cJSON_PrintUnformatted(v) : NULL;
        snprintf(out, size, "%s", text ? text : "null");
        free(text);
    }
    cJSON_Delete(reply);
    (void) self;
    return 0;
}

static uint16_t
s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0
        && getsockname(fd, (struct sockaddr *) &sa, &sl) == 0) {
        port = ntohs(sa.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static int
s_find_bin(const char *env, const char *const *names, char *out, size_t size)
{
    const char *e = getenv(env);
    if (e && *e) {
        snprintf(out, size, "%s", e);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/bin:/usr/lib/chromium", path ? path : "");
    for (const char *const *n = names; *n; n++) {
        char *save = NULL;
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", dirs);
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            snprintf(out, size, "%s/%s", d, *n);
            if (access(out, X_OK) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int
s_session(wd_t *self, const char *chromium, const char *lang)
{
    cJSON *caps = cJSON_CreateObject();
    cJSON *always =
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(caps, "capabilities"), "alwaysMatch");
    cJSON_AddStringToObject(always, "browserName", "chrome");
    cJSON *opts = cJSON_AddObjectToObject(always, "goog:chromeOptions");
    cJSON_AddStringToObject(opts, "binary", chromium);
    cJSON *args = cJSON_AddArrayToObject(opts, "args");
    char profile[600], lang_arg[64];
    /* A new profile every time: Chromium refuses a profile another (or a killed) browser
     * left locked. */
    char pdir[560];
    snprintf(pdir, sizeof pdir, "%s/profile-XXXXXX", self->dir);
    if (!mkdtemp(pdir)) {
        cJSON_Delete(caps);
        return s_fail(self, "mkdtemp %s: %s", pdir, strerror(errno));
    }
    snprintf(profile, sizeof profile, "--user-data-dir=%s", pdir);
    snprintf(self->profile, sizeof self->profile, "%s", pdir);
    snprintf(lang_arg, sizeof lang_arg, "--lang=%s", lang);
    const char *const fixed[] = {"--headless=new",
                                 "--no-sandbox",
                                 "--disable-gpu",
                                 "--disable-dev-shm-usage",
                                 "--disable-quic",
                                 "--no-first-run",
                                 "--disable-background-networking",
                                 "--disable-component-update",
                                 "--disable-sync",
                                 "--window-size=1024,768",
                                 "--force-device-scale-factor=1",
                                 profile,
                                 lang_arg};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        cJSON_AddItemToArray(args, cJSON_CreateString(fixed[i]));
    }
    cJSON *prefs = cJSON_AddObjectToObject(opts, "prefs");
    cJSON_AddStringToObject(prefs, "intl.accept_languages", lang);
    char *body = cJSON_PrintUnformatted(caps);
    cJSON_Delete(caps);
    cJSON *reply = NULL;
    int rc = s_http(self, "POST", "/session", body, &reply);
    free(body);
    if (rc != 0) {
        return rc;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "value");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "sessionId");
    if (!cJSON_IsString(id)) {
        cJSON_Delete(reply);
        return s_fail(self, "new session: no sessionId in the reply");
    }
    snprintf(self->session, sizeof self->session, "%s", id->valuestring);
    cJSON_Delete(reply);
    /* The viewport itself 1024x768: the window's size includes the browser's own frame, so
     * it is set once, measured from inside, and set again larger by the difference. */
    if (s_cmd(self, "POST", "/window/rect", "{\"width\":1024,\"height\":768}", NULL) != 0) {
        return -1;
    }
    char out[64];
    int dw = 0, dh = 0;
    if (wd_js(self, "return (1024 - window.innerWidth) + ' ' + (768 - window.innerHeight);", NULL,
              out, sizeof out)
            != 0
        || sscanf(out, "%d %d", &dw, &dh) != 2) {
        return s_fail(self, "cannot measure the viewport (%s)", out);
    }
    char rect[96];
    snprintf(rect, sizeof rect, "{\"width\":%d,\"height\":%d}", 1024 + dw, 768 + dh);
    return dw || dh ? s_cmd(self, "POST", "/window/rect", rect, NULL) : 0;
}

static const char *const s_drivers[] = {"chromedriver", NULL};
static const char *const s_browsers[] = {"chromium", "chromium-browser", "google-chrome", NULL};

int
wd_available(void)
{
    char path[512];
    return s_find_bin("SANJI_CHROMEDRIVER", s_drivers, path, sizeof path)
           && s_find_bin("SANJI_CHROMIUM", s_browsers, path, sizeof path);
}

wd_t *
wd_start(const char *dir, const char *lang)
{
    char driver[512], chromium[512];
    if (!s_find_bin("SANJI_CHROMEDRIVER", s_drivers, driver, sizeof driver)) {
        fprintf(stderr, "webdriver: no chromedriver (apt install chromium-driver)\n");
        return NULL;
    }
    if (!s_find_bin("SANJI_CHROMIUM", s_browsers, chromium, sizeof chromium)) {
        fprintf(stderr, "webdriver: no chromium (apt install chromium)\n");
        return NULL;
    }
    wd_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    mkdir(dir, 0700);
    for (int attempt = 0; attempt < 3 && !self->session[0]; attempt++) {
        self->port = s_free_port();
        char port_arg[32], log[600];
        snprintf(port_arg, sizeof port_arg, "--port=%u", self->port);
        snprintf(log, sizeof log, "%s/chromedriver.log", dir);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            /* Its own process group: stopping kills the driver and every browser it started. */
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) {
                _exit(127);
            }
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
            execl(driver, driver, port_arg, "--allowed-ips=127.0.0.1", (char *) NULL);
            _exit(127);
        }
        if (pid < 0) {
            break;
        }
        self->pid = pid;
        int64_t deadline = s_mono_ms() + WD_START_MS;
        int up = 0;
        while (!up && s_mono_ms() < deadline && waitpid(pid, NULL, WNOHANG) == 0) {
            cJSON *r = NULL;
            if (s_http(self, "GET", "/status", NULL, &r) == 0) {
                const cJSON *ready =
                    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(r, "value"), "ready");
                up = cJSON_IsTrue(ready);
            }
            cJSON_Delete(r);
            if (!up) {
                s_nap_ms(50);
            }
        }
        if (up && s_session(self, chromium, lang) == 0) {
            return self;
        }
        fprintf(stderr, "webdriver: %s (attempt %d; see %s)\n",
                self->error[0] ? self->error : "chromedriver did not start", attempt + 1, log);
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (self->profile[0]) {
            nftw(self->profile, s_rm, 16, FTW_DEPTH | FTW_PHYS);
            self->profile[0] = '\0';
        }
        self->pid = 0;
        self->session[0] = '\0';
    }
    free(self);
    return NULL;
}

void
wd_stop(wd_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wd_t *self = *self_p;
    if (self->session[0]) {
        char path[200];
        snprintf(path, sizeof path, "/session/%s", self->session);
        cJSON *r = NULL;
        if (s_http(self, "DELETE", path, NULL, &r) == 0) {
            cJSON_Delete(r);
        }
    }
    if (self->pid > 0) {
        kill(self->pid, SIGTERM);
        int64_t deadline = s_mono_ms() + 5000;
        while (waitpid(self->pid, NULL, WNOHANG) == 0) {
            if (s_mono_ms() > deadline) {
                kill(self->pid, SIGKILL);
                waitpid(self->pid, NULL, 0);
                break;
            }
            s_nap_ms(20);
        }
        kill(-self->pid, SIGKILL); /* whatever browser process is left in its group */
    }
    if (self->profile[0]) {
        nftw(self->profile, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(self);
    *self_p = NULL;
}

static char *
s_json_obj1(const char *key, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, key, value);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int
wd_get(wd_t *self, const char *url)
{
    char *body = s_json_obj1("url", url);
    int rc = s_cmd(self, "POST", "/url", body, NULL);
    free(body);
    return rc;
}

int
wd_url(wd_t *self, char *out, size_t size)
{
    cJSON *r = NULL;
    return s_cmd(self, "GET", "/url", NULL, &r) == 0 ? s_value_text(self, r, out, size) : -1;
}

int
wd_title(wd_t *self, char *out, size_t size)
{
    cJSON *r = NULL;
    return s_cmd(self, "GET", "/title", NULL, &r) == 0 ? s_value_text(self, r, out, size) : -1;
}

int
wd_back(wd_t *self)
{
    return s_cmd(self, "POST", "/back", "{}", NULL);
}

int
wd_refresh(wd_t *self)
{
    return s_cmd(self, "POST", "/refresh", "{}", NULL);
}

static int
s_element_id(wd_t *self, const cJSON *v, char el[WD_ID])
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, WD_ELEMENT_KEY);
    if (!cJSON_IsString(id)) {
        return s_fail(self, "no element reference in the reply");
    }
    snprintf(el, WD_ID, "%s", id->valuestring);
    return 0;
}

static char *
s_locator(const char *css)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "using", "css selector");
    cJSON_AddStringToObject(o, "value", css);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int
wd_find(wd_t *self, const char *css, char el[WD_ID])
{
    char *body = s_locator(css);
    cJSON *r = NULL;
    int rc = s_cmd(self, "POST", "/element", body, &r);
    free(body);
    if (rc == 0) {
        rc = s_element_id(self, cJSON_GetObjectItemCaseSensitive(r, "value"), el);
    }
    cJSON_Delete(r);
    return rc;
}

int
wd_count(wd_t *self, const char *css, int *n)
{
    char *body = s_locator(css);
    cJSON *r = NULL;
    int rc = s_cmd(self, "POST", "/elements", body, &r);
    free(body);
    if (rc == 0) {
        *n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "value"));
    }
    cJSON_Delete(r);
    return rc;
}

int
wd_click(wd_t *self, const char *el)
{
    char rel[WD_ID + 32];
    snprintf(rel, sizeof rel, "/element/%s/click", el);
    return s_cmd(self, "POST", rel, "{}", NULL);
}

int
wd_click_css(wd_t *self, const char *css)
{
    char el[WD_ID];
    return wd_find(self, css, el) == 0 ? wd_click(self, el) : -1;
}

int
wd_type(wd_t *self, const char *el, const char *text)
{
    char rel[WD_ID + 32];
    snprintf(rel, sizeof rel, "/element/%s/value", el);
    char *body = s_json_obj1("text", text);
    int rc = s_cmd(self, "POST", rel, body, NULL);
    free(body);
    return rc;
}

int
wd_clear(wd_t *self, const char *el)
{
    char rel[WD_ID + 32];
    snprintf(rel, sizeof rel, "/element/%s/clear", el);
    return s_cmd(self, "POST", rel, "{}", NULL);
}

int
wd_select(wd_t *self, const char *select_css, const char *value)
{
    char css[512];
    snprintf(css, sizeof css, "%s option[value=\"%s\"]", select_css, value);
    if (wd_click_css(self, select_css) != 0) {
        return -1;
    }
    return wd_click_css(self, css);
}

int
wd_text(wd_t *self, const char *el, char *out, size_t size)
{
    char rel[WD_ID + 32];
    snprintf(rel, sizeof rel, "/element/%s/text", el);
    cJSON *r = NULL;
    return s_cmd(self, "GET", rel, NULL, &r) == 0 ? s_value_text(self, r, out, size) : -1;
}

int
wd_text_css(wd_t *self, const char *css, char *out, size_t size)
{
    char el[WD_ID];
    return wd_find(self, css, el) == 0 ? wd_text(self, el, out, size) : -1;
}

int
wd_prop(wd_t *self, const char *el, const char *name, char *out, size_t size)
{
    char rel[WD_ID + 160];
    snprintf(rel, sizeof rel, "/element/%s/property/%s", el, name);
    cJSON *r = NULL;
    return s_cmd(self, "GET", rel, NULL, &r) == 0 ? s_value_text(self, r, out, size) : -1;
}

int
wd_keys(wd_t *self, const char *keys)
{
    /* One key source: each UTF-8 character a keyDown and keyUp. */
    cJSON *o = cJSON_CreateObject();
    cJSON *acts = cJSON_AddArrayToObject(o, "actions");
    cJSON *src = cJSON_CreateObject();
    cJSON_AddStringToObject(src, "type", "key");
    cJSON_AddStringToObject(src, "id", "keyboard");
    cJSON *seq = cJSON_AddArrayToObject(src, "actions");
    for (const unsigned char *p = (const unsigned char *) keys; *p;) {
        size_t n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
        char ch[8];
        snprintf(ch, sizeof ch, "%.*s", (int) n, (const char *) p);
        for (int up = 0; up < 2; up++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "type", up ? "keyUp" : "keyDown");
            cJSON_AddStringToObject(a, "value", ch);
            cJSON_AddItemToArray(seq, a);
        }
        p += n;
    }
    cJSON_AddItemToArray(acts, src);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = s_cmd(self, "POST", "/actions", body, NULL);
    free(body);
    return rc;
}

int
wd_js(wd_t *self, const char *script, const char *args_json, char *out, size_t size)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "script", script);
    cJSON *args = args_json ? cJSON_Parse(args_json) : NULL;
    if (args && !cJSON_IsArray(args)) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, args);
        args = arr;
    }
    cJSON_AddItemToObject(o, "args", args ? args : cJSON_CreateArray());
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    cJSON *r = NULL;
    int rc = s_cmd(self, "POST", "/execute/sync", body, &r);
    free(body);
    if (rc != 0) {
        return rc;
    }
    if (out && size) {
        return s_value_text(self, r, out, size);
    }
    cJSON_Delete(r);
    return 0;
}

int
wd_wait_css(wd_t *self, const char *css, int timeout_ms, char el[WD_ID])
{
    char tmp[WD_ID] = "";
    int64_t deadline = s_mono_ms() + timeout_ms;
    for (;;) {
        if (wd_find(self, css, el ? el : tmp) == 0) {
            return 0;
        }
        if (s_mono_ms() >= deadline) {
            return s_fail(self, "no element matches '%s' after %d ms", css, timeout_ms);
        }
        s_nap_ms(50);
    }
}

int
wd_wait_js(wd_t *self, const char *script, int timeout_ms)
{
    int64_t deadline = s_mono_ms() + timeout_ms;
    char out[64];
    for (;;) {
        if (wd_js(self, script, NULL, out, sizeof out) == 0 && strcmp(out, "true") == 0) {
            return 0;
        }
        if (s_mono_ms() >= deadline) {
            return s_fail(self, "'%.200s' is not true after %d ms", script, timeout_ms);
        }
        s_nap_ms(50);
    }
}

int
wd_screenshot(wd_t *self, const char *path)
{
    cJSON *r = NULL;
    if (s_cmd(self, "GET", "/screenshot", NULL, &r) != 0) {
        return -1;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "value");
    if (!cJSON_IsString(v)) {
        cJSON_Delete(r);
        return s_fail(self, "screenshot: no image in the reply");
    }
    size_t b64 = strlen(v->valuestring), len = 0;
    unsigned char *png = malloc(b64);
    int rc = -1;
    if (png
        && sodium_base642bin(png, b64, v->valuestring, b64, "\r\n", &len, NULL,
                             sodium_base64_VARIANT_ORIGINAL)
               == 0) {
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(png, 1, len, f) == len;
        if (f && fclose(f) != 0) {
            ok = 0;
        }
        if (ok) {
            rc = 0;
        } else {
            s_fail(self, "cannot write %s: %s", path, strerror(errno));
        }
    } else {
        s_fail(self, "screenshot: not base64");
    }
    free(png);
    cJSON_Delete(r);
    return rc;
}

int
wd_login(wd_t *wd, const char *name, const char *password, const char *ready_js, int wait_ms)
{
    char el[WD_ID];
    if (wd_wait_css(wd, "#login-form", wait_ms, el) != 0 || wd_find(wd, "#name", el) != 0
        || wd_type(wd, el, name) != 0 || wd_find(wd, "#password", el) != 0
        || wd_type(wd, el, password) != 0 || wd_click_css(wd, "#login") != 0) {
        return -1;
    }
    return wd_wait_js(wd, ready_js, wait_ms);
}
