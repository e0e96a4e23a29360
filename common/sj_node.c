/* sj_node: the node engine, see sj_node.h.
 *
 * Flow: sj_node_run -> s_start (signals, lock, store, quick_check, keys, ZAP,
 * links) -> s_loop (poll, read, reload, s_tick, done) -> role.stopping ->
 * s_teardown (the reverse of s_start, whatever part of it was done; the
 * signal handlers stay). */
#include "sj_node.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sj_auth.h"
#include "sj_backup.h"
#include "sj_cfg.h"
#include "sj_db.h"
#include "sj_enrol.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_keys.h"
#include "sj_log.h"

/* Set by the signal handlers, read by the loop. */
static volatile sig_atomic_t s_stop = 0;
static volatile sig_atomic_t s_reload = 0;

struct sj_node {
    const sj_node_cfg_t *cfg;   /* borrowed */
    const sj_node_role_t *role; /* borrowed */
    void *ctx;                  /* the role's */
    sj_node_store_t st;         /* what role.open gave */
    int have_store;             /* role.open succeeded: role.close is due */
    int lock_fd;                /* the daemon lock (-1: not held) */
    sj_keypair_t kp;            /* this node's keys (wiped at teardown) */
    int have_keys;              /* 0: --insecure */
    uint8_t parent_pk[SJ_KEY_BYTES];
    void *zctx;
    int own_zctx;    /* made here: terminated at teardown */
    sj_auth_t *auth; /* parent side with keys: the ZAP handler */
    sj_downlink_t *down;
    sj_uplink_t *up;
    int down_rc, up_rc, tick_rc; /* the last code of each, logged when it changes */
    int64_t next_prune;          /* daemons with downward streams: when to prune them next */
};

static void
s_on_signal(int sig)
{
    if (sig == SIGHUP) {
        s_reload = 1;
    } else {
        s_stop = 1;
    }
}

/* The handlers are installed first thing and stay for the rest of the
 * process: a SIGTERM while the store opens, or while the caller says its
 * last words after sj_node_run returned, ends the work through the normal
 * path (the loop sees the flag at once) instead of killing the process
 * half way. */
static int s_early; /* sj_node_signals_early ran: keep what arrived since */

static void
s_signals_set(int daemon)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (daemon) {
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGPIPE, &ign, NULL);
    }
}

static void
s_signals_install(const sj_node_cfg_t *cfg)
{
    if (!s_early) {
        s_stop = 0;
        s_reload = 0;
    }
    s_early = 0;
    s_signals_set(cfg->daemon);
}

void
sj_node_signals_early(int daemon)
{
    s_stop = 0;
    s_reload = 0;
    s_signals_set(daemon);
    s_early = 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Logs a link's code when it changes: a failure once (not on every turn
 * of the loop while it lasts), and the recovery. */
static void
s_note(int *last, const char *what, int rc)
{
    if (rc != SJ_OK && rc != *last) {
        sj_error("%s: %s", what, sj_strerror(rc));
    } else if (rc == SJ_OK && *last != SJ_OK) {
        sj_notice("%s: working again", what);
    }
    *last = rc;
}

/* Loads this node's key pair. *have is 0 only with --insecure. */
static int
s_load_keys(sj_node_t *self)
{
    const sj_node_cfg_t *cfg = self->cfg;
    char err[512];
    int rc = sj_keypair_load(cfg->data, &self->kp, err, sizeof err);
    if (rc == SJ_OK) {
        self->have_keys = !cfg->insecure;
        if (cfg->insecure) {
            sj_warn("--insecure given: the key pair in %s is not used", cfg->data);
        }
        return SJ_OK;
    }
    if (rc == SJ_ENOTFOUND && cfg->insecure) {
        sj_warn("INSECURE: running without keys (--insecure)");
        return SJ_OK;
    }
    if (rc == SJ_ENOTFOUND) {
        fprintf(stderr,
                _("%s: %s; refusing to run without keys (or give --insecure for a test"
                  " network)\n"),
                cfg->tool, err);
    } else {
        fprintf(stderr, "%s: %s\n", cfg->tool, err);
    }
    return rc == SJ_EINVAL ? SJ_EIO : rc; /* a bad key file is not bad usage */
}

/* The parent's pinned key, needed for a secure uplink. */
static int
s_parent_key(sj_node_t *self)
{
    const sj_node_cfg_t *cfg = self->cfg;
    const char *option = cfg->parent_key_option ? cfg->parent_key_option : "parent-key";
    if (!cfg->parent_key) {
        fprintf(stderr, _("%s: --%s is required (the parent's public key), unless --insecure\n"),
                cfg->tool, option);
        return SJ_EINVAL;
    }
    if (sj_key_decode(cfg->parent_key, self->parent_pk) != SJ_OK) {
        fprintf(stderr, _("%s: --%s '%s' is not a 40-character Z85 public key\n"), cfg->tool,
                option, cfg->parent_key);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* The store: opened by the role, every page read once (daemons), so that a
 * damaged store is refused now, naming the file, not on the first query
 * that touches the bad page. */
static int
s_open_store(sj_node_t *self)
{
    const sj_node_cfg_t *cfg = self->cfg;
    char err[512] = "";
    int rc = self->role->open(self->ctx, &self->st, err, sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, "%s: %s\n", cfg->tool, err[0] ? err : _(sj_strerror(rc)));
        return rc == SJ_EINVAL ? SJ_EIO : rc;
    }
    self->have_store = 1;
    sj_log_set_ident(cfg->tool, self->st.code ? self->st.code : "");
    if (cfg->daemon && sj_db_quick_check(self->st.db, err, sizeof err) != SJ_OK) {
        fprintf(stderr, _("%s: %s/%s is damaged (%s); refusing to start%s%s\n"), cfg->tool,
                cfg->data, cfg->store_file ? cfg->store_file : "its database", err,
                cfg->damaged_hint ? ": " : "", cfg->damaged_hint ? cfg->damaged_hint : "");
        return SJ_EDB;
    }
    return SJ_OK;
}

static int
s_open_links(sj_node_t *self)
{
    const sj_node_cfg_t *cfg = self->cfg;
    char err[512] = "";
    if (cfg->bind) {
        if (self->have_keys) {
            char path[1100];
            sj_enrol_allowlist_path(cfg->data, path, sizeof path);
            self->auth = sj_auth_start(self->zctx, path, err, sizeof err);
            if (!self->auth) {
                fprintf(stderr, "%s: %s\n", cfg->tool, err);
                return SJ_EIO;
            }
        }
        self->down =
            sj_downlink_new(self->zctx, cfg->bind, self->st.db, self->role->down_ops,
                            self->st.store, self->auth, self->have_keys ? &self->kp : NULL);
        if (!self->down) {
            fprintf(stderr, _("%s: cannot listen on %s\n"), cfg->tool, cfg->bind);
            return SJ_EIO;
        }
        sj_downlink_set_epoch(self->down, self->st.store_epoch);
        if (cfg->group_events) {
            sj_downlink_set_group_events(self->down, cfg->group_events);
        }
        if (self->have_keys && cfg->parent) {
            /* A hub: a station's personal data sealed to another key than the
             * county's (its parent's) is refused here, where the officer sees it. */
            sj_downlink_set_seal_key(self->down, self->parent_pk, NULL);
        } else if (self->have_keys) {
            /* The county: personal data sealed to another key is refused (sj_link.h). */
            char fp[SJ_KEY_FP_TEXT];
            sj_downlink_set_seal_key(self->down, self->kp.pk, self->kp.sk);
            sj_key_fingerprint_text(self->kp.pk, fp);
            sj_notice("county key fingerprint %s: stations seal personal data to this key", fp);
        }
    }
    if (cfg->parent) {
        sj_uplink_cfg_t ucfg = {.endpoint = cfg->parent,
                                .code = self->st.code,
                                .epoch = self->st.link_epoch,
                                .window = cfg->up_window,
                                .heartbeat_ms = cfg->up_heartbeat_ms,
                                .ack_timeout_ms = cfg->up_ack_timeout_ms,
                                .kp = self->have_keys ? &self->kp : NULL,
                                .server_pk = self->have_keys ? self->parent_pk : NULL,
                                .parent_name = cfg->parent_name};
        self->up = sj_uplink_new(self->zctx, &ucfg, self->role->up_ops, self->st.store);
        if (!self->up) {
            fprintf(stderr, _("%s: cannot set up the link to %s\n"), cfg->tool, cfg->parent);
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

static int
s_start(sj_node_t *self)
{
    const sj_node_cfg_t *cfg = self->cfg;
    s_signals_install(cfg);
    /* Held until the end: restore refuses while it is held. */
    if (cfg->daemon && sj_backup_lock_daemon(cfg->tool, cfg->data, &self->lock_fd) != SJ_OK) {
        return SJ_EAGAIN;
    }
    int rc = s_open_store(self);
    if (rc == SJ_OK) {
        rc = s_load_keys(self);
    }
    if (rc == SJ_OK && cfg->parent && self->have_keys) {
        rc = s_parent_key(self);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    self->zctx = cfg->zctx;
    if (!self->zctx) {
        self->zctx = zmq_ctx_new();
        self->own_zctx = 1;
        if (!self->zctx) {
            fprintf(stderr, _("%s: cannot make a zmq context: %s\n"), cfg->tool,
                    zmq_strerror(zmq_errno()));
            return SJ_EIO;
        }
    }
    rc = s_open_links(self);
    if (rc != SJ_OK) {
        return rc;
    }
    if (cfg->daemon) {
        const char *who = self->st.code && self->st.code[0] ? self->st.code : cfg->tool;
        const char *how = self->have_keys ? "CURVE" : "INSECURE";
        if (cfg->bind && cfg->parent) {
            sj_notice("%s listening on %s, forwarding to %s (%s)", who, cfg->bind, cfg->parent,
                      how);
        } else if (cfg->bind) {
            sj_notice("%s listening on %s (%s)", who, cfg->bind, how);
        } else {
            sj_notice("%s delivering to %s (%s)", who, cfg->parent, how);
        }
        printf("ready\n");
        fflush(stdout);
    }
    return SJ_OK;
}

/* The hook of the allowlist reload: the links learn here that keys were
 * revoked or added. The downlink already checks every message's key
 * against sj_auth; cutting off the open connections of a revoked key at
 * once is sj_downlink_reloaded(self->down) of issue 13 (the link protocol's
 * own branch), which belongs in this function when that is merged. */
static void
s_allowlist_reloaded(sj_node_t *self)
{
    if (self->down) {
        sj_downlink_reloaded(self->down); /* a revoked child gets nothing more */
    }
}

/* SIGHUP: re-reads the log level from the config file sj_cfg_apply read at
 * start (the command's section over the general one, sj_cfg_reread). A
 * --log-level flag given at start wins and stays; a file that no longer
 * parses is reported and changes nothing. */
static void
s_reload_log_level(void)
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

static void
s_reload_config(sj_node_t *self)
{
    char err[512];
    if (self->auth) {
        if (sj_auth_reload(self->auth, err, sizeof err) != SJ_OK) {
            sj_error("allowlist not reloaded, the old one stays: %s", err);
        } else {
            s_allowlist_reloaded(self);
        }
    }
    s_reload_log_level();
}

/* Daemons with downward streams: items their child acked are pruned after
 * cfg.down_retention_days (issue 19), at start and then hourly. */
static void
s_prune_down(sj_node_t *self)
{
    const sj_node_cfg_t *cfg = self->cfg;
    int64_t keep =
        cfg->down_retention_ms ? cfg->down_retention_ms : SJ_DOWN_RETENTION_DAYS * 86400000LL;
    if (!self->down || !cfg->daemon || keep < 0 || !self->role->down_ops
        || !self->role->down_ops->down || !self->role->down_ops->down(self->st.store)) {
        return;
    }
    int64_t now = sj_mono_ms();
    if (self->next_prune && now < self->next_prune) {
        return;
    }
    self->next_prune = now + SJ_DOWN_PRUNE_EVERY_MS;
    int64_t pruned = 0;
    int rc = sj_down_prune(self->st.db, keep, &pruned);
    if (rc != SJ_OK) {
        sj_error("cannot prune the downward streams: %s", sj_strerror(rc));
    } else if (pruned > 0) {
        sj_notice("pruned %lld downward item(s) acked and older than %lld s", (long long) pruned,
                  (long long) (keep / 1000));
    }
}

/* One tick: the uplink sends what its window allows and keeps its timers,
 * the downlink pushes new downward items (the parent's, applied by the
 * uplink, or an `assign` run by another process), then the role's tick.
 * Returns the uplink's code. */
static int
s_tick(sj_node_t *self)
{
    int rc = SJ_OK;
    if (self->up) {
        rc = sj_uplink_tick(self->up);
        s_note(&self->tick_rc, "cannot read the queue for the parent", rc);
    }
    if (self->down) {
        sj_downlink_tick(self->down);
    }
    s_prune_down(self);
    if (self->role->tick) {
        self->role->tick(self->ctx, self);
    }
    return rc;
}

static int
s_loop(sj_node_t *self)
{
    const sj_node_cfg_t *cfg = self->cfg;
    int64_t start = sj_mono_ms(), next_tick = start;
    int poll_now = 0; /* look for input without waiting for it */
    while (!s_stop) {
        zmq_pollitem_t items[2];
        int n_items = 0, i_down = -1, i_up = -1;
        if (self->down) {
            i_down = n_items;
            items[n_items++] =
                (zmq_pollitem_t){.socket = sj_downlink_socket(self->down), .events = ZMQ_POLLIN};
        }
        if (self->up) { /* a new socket after every reset: asked for each turn */
            i_up = n_items;
            items[n_items++] =
                (zmq_pollitem_t){.socket = sj_uplink_socket(self->up), .events = ZMQ_POLLIN};
        }
        int64_t now = sj_mono_ms();
        int n =
            zmq_poll(items, n_items, poll_now ? 0 : (long) (next_tick > now ? next_tick - now : 0));
        if (n < 0 && zmq_errno() != EINTR) {
            sj_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return SJ_EIO;
        }
        if (n > 0 && i_down >= 0 && (items[i_down].revents & ZMQ_POLLIN)) {
            s_note(&self->down_rc, "children's link", sj_downlink_on_readable(self->down));
        }
        if (n > 0 && i_up >= 0 && (items[i_up].revents & ZMQ_POLLIN)) {
            s_note(&self->up_rc, "link to the parent", sj_uplink_on_readable(self->up));
        }
        if (s_reload) {
            s_reload = 0;
            s_reload_config(self);
        }
        /* Idle work (role.idle) runs in a turn in which nothing was ready,
         * one bounded step at a time. After a turn with input the next poll
         * does not wait: when nothing is ready then, it is the idle work's
         * turn, so that a steady trickle of input (faster than the tick)
         * does not keep it from ever running; a backlog keeps the sockets
         * ready and goes first. While the idle work says more is waiting,
         * the poll does not wait either. */
        poll_now = 0;
        if (self->role->idle) {
            poll_now = n > 0 || (n == 0 && self->role->idle(self->ctx, self->st.store) > 0);
        }
        now = sj_mono_ms();
        /* Tick after anything was read (an ack opens the window: the next
         * batches go now, not at the next tick) and at least every tick. */
        if (n <= 0 && now < next_tick) {
            continue;
        }
        next_tick = now + SJ_NODE_TICK_MS;
        int rc = s_tick(self);
        if (rc != SJ_OK && !cfg->daemon) {
            return rc;
        }
        if (self->role->done && self->role->done(self->ctx, self)) {
            return SJ_OK;
        }
        if (cfg->stop_on_refusal && self->up && sj_uplink_state(self->up) == SJ_UP_REFUSED) {
            return SJ_EFORBIDDEN;
        }
        if (cfg->timeout_ms > 0 && now - start >= cfg->timeout_ms) {
            return SJ_ETIMEDOUT;
        }
    }
    /* A one-shot node stopped by a signal did not finish its work. */
    return cfg->daemon ? SJ_OK : SJ_ECLOSED;
}

static void
s_teardown(sj_node_t *self)
{
    sj_uplink_destroy(&self->up);
    sj_downlink_destroy(&self->down);
    sj_auth_stop(&self->auth);
    if (self->own_zctx && self->zctx) {
        zmq_ctx_term(self->zctx);
    }
    self->zctx = NULL;
    sodium_memzero(&self->kp, sizeof self->kp);
    if (self->have_store) {
        self->role->close(self->ctx, self->st.store);
        self->have_store = 0;
    }
    sj_backup_unlock(&self->lock_fd);
}

int
sj_node_run(const sj_node_cfg_t *cfg, const sj_node_role_t *role, void *role_ctx)
{
    if (!cfg->bind && !cfg->parent) {
        fprintf(stderr, _("%s: nothing to run: no endpoint to bind and no parent\n"), cfg->tool);
        return SJ_EINVAL;
    }
    /* what the node says to its peers and keeps (rejection reasons) stays
     * English, whatever the daemon's locale (sj_i18n.h sj_pt) */
    sj_i18n_people(0);
    sj_node_t *self = calloc(1, sizeof *self);
    if (!self) {
        fprintf(stderr, _("%s: out of memory\n"), cfg->tool);
        return SJ_ENOMEM;
    }
    self->cfg = cfg;
    self->role = role;
    self->ctx = role_ctx;
    self->lock_fd = -1;
    int rc = s_start(self);
    if (rc == SJ_OK) {
        rc = s_loop(self);
        if (role->stopping) {
            role->stopping(role_ctx, self, rc);
        }
        if (cfg->daemon) {
            sj_notice("stopping");
        }
    }
    s_teardown(self);
    free(self);
    return rc;
}

sj_uplink_t *
sj_node_uplink(sj_node_t *self)
{
    return self->up;
}

sj_downlink_t *
sj_node_downlink(sj_node_t *self)
{
    return self->down;
}
