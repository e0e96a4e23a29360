/* agent_link: see agent_link.h. */
#include "agent_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sj_backup.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_log.h"

#define S_PATH 1200

static const char *const s_names[] = {"none",      "connected", "connecting", "unreachable",
                                      "handshake", "refused",   "stopped"};

/* The state a person sees, from the uplink's. */
static agent_link_state_t
s_state(int up_state, const char *error)
{
    if (up_state == SJ_UP_READY) {
        return AGENT_LINK_CONNECTED;
    }
    if (up_state == SJ_UP_REFUSED) {
        return AGENT_LINK_REFUSED;
    }
    if (error && strncmp(error, "cannot reach", 12) == 0) {
        return AGENT_LINK_UNREACHABLE;
    }
    if (error
        && (strncmp(error, "something accepts", 17) == 0
            || strncmp(error, "secure handshake", 16) == 0)) {
        return AGENT_LINK_HANDSHAKE;
    }
    return AGENT_LINK_CONNECTING;
}

static void
s_write(agent_link_writer_t *w, const char *data, const agent_link_t *l, int64_t now)
{
    char path[S_PATH], tmp[S_PATH + 8];
    snprintf(path, sizeof path, "%s/%s", data, AGENT_LINK_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        sj_warn("cannot write %s: %s (the desk will not show the hub link)", tmp, strerror(errno));
        w->written_ms = now; /* not again at every tick */
        return;
    }
    char error[sizeof l->error];
    snprintf(error, sizeof error, "%s", l->error);
    for (char *p = error; *p; p++) {
        *p = (*p == '\n' || *p == '\r') ? ' ' : *p;
    }
    fprintf(f, "state=%s\nsince=%lld\ncontact=%lld\nerror=%s\n", s_names[l->state],
            (long long) l->since_ms, (long long) l->contact_ms, error);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        sj_warn("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    w->last = *l;
    w->written_ms = now;
}

void
agent_link_note(agent_link_writer_t *w, const char *data, int up_state, const char *error)
{
    int64_t now = sj_now_ms();
    agent_link_t l = {.state = s_state(up_state, error)};
    if (l.state == AGENT_LINK_CONNECTED) {
        w->contact_ms = now;
    }
    l.contact_ms = w->contact_ms;
    /* connected: the hub's last complaint is history */
    snprintf(l.error, sizeof l.error, "%s", l.state == AGENT_LINK_CONNECTED || !error ? "" : error);
    int changed = !w->written_ms || l.state != w->last.state || strcmp(l.error, w->last.error) != 0;
    l.since_ms = changed ? now : w->last.since_ms;
    if (changed
        || (l.state == AGENT_LINK_CONNECTED && now - w->written_ms >= AGENT_LINK_REFRESH_MS)) {
        s_write(w, data, &l, now);
    }
}

void
agent_link_stopped(agent_link_writer_t *w, const char *data)
{
    agent_link_t l = {
        .state = AGENT_LINK_STOPPED, .since_ms = sj_now_ms(), .contact_ms = w->contact_ms};
    s_write(w, data, &l, l.since_ms);
}

void
agent_link_read(const char *data, agent_link_t *out)
{
    memset(out, 0, sizeof *out);
    char path[S_PATH];
    snprintf(path, sizeof path, "%s/%s", data, AGENT_LINK_FILE);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[400];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            char *eq = strchr(line, '=');
            if (!eq) {
                continue;
            }
            *eq++ = '\0';
            if (strcmp(line, "state") == 0) {
                for (size_t i = 0; i < sizeof s_names / sizeof s_names[0]; i++) {
                    if (strcmp(eq, s_names[i]) == 0) {
                        out->state = (agent_link_state_t) i;
                    }
                }
            } else if (strcmp(line, "since") == 0) {
                out->since_ms = strtoll(eq, NULL, 10);
            } else if (strcmp(line, "contact") == 0) {
                out->contact_ms = strtoll(eq, NULL, 10);
            } else if (strcmp(line, "error") == 0) {
                snprintf(out->error, sizeof out->error, "%s", eq);
            }
        }
        fclose(f);
    }
    out->running = sj_backup_locked(data, &out->pid);
}

const char *
agent_link_words(agent_link_state_t state, int zh)
{
    static const char *const zh_words[] = {"没有记录",
                                           "已连接乡镇",
                                           "正在连接乡镇",
                                           "连不上乡镇（该地址没有服务在监听）",
                                           "与乡镇的安全握手失败（乡镇公钥不对？）",
                                           "乡镇拒绝了本站",
                                           "已停止"};
    static const char *const en_words[] = {"no record",
                                           "connected to the township hub",
                                           "connecting to the township hub",
                                           "the township hub cannot be reached",
                                           "no secure handshake with the township hub (wrong key?)",
                                           "the township hub refused this station",
                                           "stopped"};
    unsigned i = (unsigned) state < 7 ? (unsigned) state : 0;
    return zh ? zh_words[i] : en_words[i];
}
