/* agent_cli: what an information officer runs. Every report is committed to
 * the outbox (fsync'd) before the tool says anything about delivery. */
#include "agent_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_import.h"
#include "agent_link.h"
#include "agent_store.h"
#include "agent_web.h"
#include "sj_case.h"
#include "sj_cli.h"
#include "sj_enrol.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_keys.h"
#include "sj_log.h"
#include "sj_node.h"
#include "sj_places.h"

static agent_store_t *
s_open(const agent_opts_t *o, sj_db_mode_t mode)
{
    char err[512] = "";
    agent_store_t *st = agent_store_open(o->data, o->station, mode, err, sizeof err);
    if (!st) {
        fprintf(stderr, "village-agent: %s\n", err);
    }
    return st;
}

#define S_DAY_MS         (86400LL * 1000)
#define S_PRUNE_EVERY_MS (3600LL * 1000) /* run: how often it prunes (prune-after-days) */

/* Says what a prune did (or would do) on stderr. */
static void
s_prune_report(const agent_prune_t *p, int days, int dry_run)
{
    uint64_t kept =
        p->kept_queued + p->kept_at_hub + p->kept_recent + p->kept_rejected + p->kept_last;
    fprintf(stderr,
            "%s %" PRIu64 " entr%s committed at the county and older than %d day%s; kept %" PRIu64
            ": %" PRIu64 " queued, %" PRIu64 " at the hub only (no county receipt yet), %" PRIu64
            " too recent, %" PRIu64 " rejected or unreadable (kept for the officer), %" PRIu64
            " newest of the stream (kept for numbering)\n",
            dry_run ? "would prune" : "pruned", p->pruned, p->pruned == 1 ? "y" : "ies", days,
            days == 1 ? "" : "s", kept, p->kept_queued, p->kept_at_hub, p->kept_recent,
            p->kept_rejected, p->kept_last);
}

/* run with prune-after-days: prunes now and then; a failure is logged and
 * the link goes on (nothing was deleted). */
static void
s_auto_prune(agent_store_t *st, int days)
{
    agent_prune_t p;
    int rc = agent_store_prune(st, sj_now_ms() - days * S_DAY_MS, 0, &p);
    if (rc != SJ_OK) {
        sj_warn("automatic prune failed, nothing pruned: %s", sj_strerror(rc));
    } else if (p.pruned) {
        sj_notice("pruned %" PRIu64 " entries committed at the county and older than %d days"
                  " (%" PRIu64 " kept)",
                  p.pruned, days,
                  p.kept_queued + p.kept_at_hub + p.kept_recent + p.kept_rejected + p.kept_last);
    }
}

/* What s_link_loop ended with. */
enum { S_LINK_DONE = 0, S_LINK_FAILED, S_LINK_REFUSED, S_LINK_USAGE };

/* The station as a node (sj_node): its outbox, and what the command wants. */
typedef struct {
    agent_store_t *st; /* the outbox: the command's (borrowed), or run's own */
    int own;           /* run: opened (and closed) by the node */
    const agent_opts_t *o;
    int until_idle;         /* sync, submit, import, update: stop when all is delivered */
    int64_t next_prune;     /* run with prune-after-days: when to prune next */
    agent_link_writer_t lw; /* run: the hub link's state for the desk and status */
} s_link_t;

static int
s_node_open(void *ctx, sj_node_store_t *out, char *err, size_t err_size)
{
    s_link_t *l = ctx;
    if (!l->st) {
        l->st = agent_store_open(l->o->data, l->o->station, SJ_DB_WRITE, err, err_size);
        if (!l->st) {
            return SJ_EIO;
        }
        l->own = 1;
    }
    out->store = l->st;
    out->db = agent_store_db(l->st);
    out->code = agent_store_station(l->st);
    out->link_epoch = agent_store_epoch(l->st);
    return SJ_OK;
}

static void
s_node_close(void *ctx, void *store)
{
    s_link_t *l = ctx;
    (void) store;
    if (l->own) {
        agent_store_close(&l->st);
        l->own = 0;
    }
}

/* run: notes the hub link's state (agent_link: written only when it
 * changes); with prune-after-days prunes at start, then every
 * S_PRUNE_EVERY_MS. */
static void
s_node_tick(void *ctx, sj_node_t *node)
{
    s_link_t *l = ctx;
    sj_uplink_t *up = sj_node_uplink(node);
    if (!l->until_idle && up) {
        agent_link_note(&l->lw, l->o->data, (int) sj_uplink_state(up), sj_uplink_last_error(up));
    }
    if (!l->until_idle && l->o->prune_after_days > 0 && sj_mono_ms() >= l->next_prune) {
        s_auto_prune(l->st, l->o->prune_after_days);
        l->next_prune = sj_mono_ms() + S_PRUNE_EVERY_MS;
    }
}

/* One-shot: everything acked by the hub, every downward item applied, and
 * with --until-county the county's receipt for all of it. */
static int
s_node_done(void *ctx, sj_node_t *node)
{
    s_link_t *l = ctx;
    sj_uplink_t *up = sj_node_uplink(node);
    return l->until_idle && sj_uplink_state(up) == SJ_UP_READY
           && sj_uplink_acked(up) >= sj_uplink_head(up)
           && sj_uplink_down_cursor(up) >= sj_uplink_down_head(up)
           && (!l->o->until_county || sj_uplink_e2e(up) >= sj_uplink_head(up));
}

/* Says what the hub answered last, unless all went well. */
static void
s_node_stopping(void *ctx, sj_node_t *node, int rc)
{
    s_link_t *l = ctx;
    const char *perr = sj_uplink_last_error(sj_node_uplink(node));
    if (!l->until_idle) {
        agent_link_stopped(&l->lw, l->o->data);
    }
    if (rc == SJ_EFORBIDDEN) {
        fprintf(stderr, "village-agent: the hub refused this station: %s\n",
                perr[0] ? perr : "no reason given");
    } else if (rc != SJ_OK && l->until_idle && perr[0]) {
        fprintf(stderr, "village-agent: %s\n", perr);
    }
}

/* Runs the station's node (sj_node_run): `run` (until_idle 0: until a
 * signal; the daemon lock, "ready") or, for the one-shot commands, until
 * everything is acked, the timeout passes, or a signal arrives; a one-shot
 * run also stops at once when the hub refuses this station
 * (S_LINK_REFUSED, the hub's reason printed): no amount of waiting helps;
 * `run` keeps trying, slowly. st: the command's open outbox (NULL: run
 * opens its own). Returns S_LINK_DONE when all is delivered (or run was
 * stopped). */
static int
s_link_loop(agent_store_t *st, const agent_opts_t *o, int64_t timeout_ms, int until_idle)
{
    if (!o->hub) {
        fprintf(stderr, "village-agent: no hub endpoint (--hub or 'hub =' in the config file)\n");
        return S_LINK_USAGE;
    }
    static const sj_node_role_t role = {.open = s_node_open,
                                        .close = s_node_close,
                                        .up_ops = &agent_store_uplink_ops,
                                        .tick = s_node_tick,
                                        .done = s_node_done,
                                        .stopping = s_node_stopping};
    const sj_node_cfg_t cfg = {.tool = "village-agent",
                               .data = o->data,
                               .store_file = AGENT_STORE_FILE,
                               .daemon = !until_idle,
                               .insecure = o->insecure,
                               .parent = o->hub,
                               .parent_key = o->hub_key,
                               .parent_key_option = "hub-key",
                               .parent_name = "hub",
                               /* waiting for the receipt: ask the hub for it often */
                               .up_heartbeat_ms = o->until_county ? 250 : 0,
                               .timeout_ms = timeout_ms,
                               .stop_on_refusal = until_idle};
    s_link_t l = {.st = st, .o = o, .until_idle = until_idle, .next_prune = sj_mono_ms()};
    int rc = sj_node_run(&cfg, &role, &l);
    if (rc == SJ_OK) {
        return S_LINK_DONE;
    }
    return rc == SJ_EFORBIDDEN ? S_LINK_REFUSED : rc == SJ_EINVAL ? S_LINK_USAGE : S_LINK_FAILED;
}

/* The hub refused this station after a submit, import or update stored its
 * entries. The exit status stays 0: what the command promises (stored
 * durably) is done, and delivery follows by itself once the hub accepts the
 * station, as for a hub that cannot be reached. Exit 1 would tell a script
 * to run the command again, which would record the report twice (a new id
 * each time). So the refusal is said loudly instead, with what to do. */
static void
s_refused_banner(agent_store_t *st, const agent_opts_t *o, const char *what)
{
    sj_keypair_t kp;
    char err[256] = "";
    int have_key = sj_keypair_load(o->data, &kp, err, sizeof err) == SJ_OK;
    fprintf(stderr,
            "village-agent: *** NOT DELIVERED: the hub refused this station (reason above). ***\n"
            "village-agent: %s IS stored in the outbox and will be delivered once the hub\n"
            "village-agent: accepts this station: do NOT record it again.\n"
            "village-agent: If this station's key is not enrolled (or was revoked), the township\n"
            "village-agent: office enrols it, then reloads the hub (systemctl reload\n"
            "village-agent: sanji-township-hub):\n"
            "    township-hub allow -- %s '%s'\n"
            "village-agent: then 'village-agent sync' (or the running service) delivers it.\n",
            what, agent_store_station(st), have_key ? kp.pk_z85 : "STATIONKEY");
    sodium_memzero(&kp, sizeof kp);
}

/* After storing: try to deliver for a few seconds, and say what happened. */
static void
s_try_deliver(agent_store_t *st, const agent_opts_t *o, const char *what)
{
    if (!o->hub || o->deliver_s <= 0) {
        fprintf(stderr, _("queued; deliver later with 'village-agent sync'\n"));
        return;
    }
    int rc = s_link_loop(st, o, (int64_t) o->deliver_s * 1000, 1);
    if (rc == S_LINK_DONE) {
        fprintf(stderr, _("delivered to the hub\n"));
    } else if (rc == S_LINK_REFUSED) {
        s_refused_banner(st, o, what);
    } else {
        fprintf(stderr, _("queued; the hub was not reached, 'sync' or 'run' will deliver it\n"));
    }
}

int
agent_deliver_now(agent_store_t *st, const agent_opts_t *o, int seconds)
{
    if (!o->hub) {
        return AGENT_DELIVER_NO_HUB;
    }
    int rc = s_link_loop(st, o, (int64_t) seconds * 1000, 1);
    return rc == S_LINK_DONE      ? AGENT_DELIVER_DONE
           : rc == S_LINK_REFUSED ? AGENT_DELIVER_REFUSED
                                  : AGENT_DELIVER_FAILED;
}

static int
s_load_county_key(const agent_opts_t *o, uint8_t pk[SJ_KEY_BYTES])
{
    if (!o->county_key) {
        return SJ_ENOTFOUND;
    }
    if (sj_key_decode(o->county_key, pk) != SJ_OK) {
        fprintf(stderr, "village-agent: --county-key is not a 40-character Z85 public key\n");
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* Fills ev->sealed from personal fields; refuses to keep them in the clear. */
static int
s_seal(const agent_opts_t *o, const sj_personal_t *p, sj_event_t *ev, size_t line)
{
    ev->sealed_len = 0;
    if (!sj_personal_present(p)) {
        return SJ_OK;
    }
    uint8_t pk[SJ_KEY_BYTES];
    int rc = s_load_county_key(o, pk);
    if (rc == SJ_ENOTFOUND) {
        if (line) {
            fprintf(stderr,
                    "line %zu: petitioner fields need the county's public key"
                    " (--county-key); they are never stored in the clear\n",
                    line);
        } else {
            fprintf(stderr, "village-agent: petitioner fields need the county's public key"
                            " (--county-key); they are never stored in the clear\n");
        }
        return SJ_EINVAL;
    }
    if (rc != SJ_OK) {
        return rc;
    }
    if (sj_personal_seal(p, pk, ev->sealed, sizeof ev->sealed, &ev->sealed_len) != SJ_OK) {
        fprintf(stderr, "village-agent: petitioner fields too long to seal\n");
        return SJ_EINVAL;
    }
    /* Whose key it is travels with it (docs/PROTOCOL.md): the hub refuses
     * data sealed to another key than the county's, where the officer sees it. */
    sj_key_fingerprint(pk, ev->sealed_to);
    ev->has_sealed_to = 1;
    return SJ_OK;
}

void
agent_county_key_note(const agent_opts_t *o)
{
    uint8_t pk[SJ_KEY_BYTES];
    char fp[SJ_KEY_FP_TEXT];
    if (o->county_key && sj_key_decode(o->county_key, pk) == SJ_OK) {
        sj_key_fingerprint_text(pk, fp);
        fprintf(stderr,
                "county key fingerprint %s: personal data is sealed to this key; the county's"
                " 'county-server status' must show the same\n",
                fp);
    }
}

/* An enum field of a report: its value, or SJ_EINVAL with the reason. */
static int
s_enum_field(sj_field_t f, const char *text, int dflt, int *out, char *why, size_t why_size)
{
    if (!text) {
        if (!dflt) {
            snprintf(why, why_size, _("--%s is required"), sj_field_name(f));
            return SJ_EINVAL;
        }
        *out = dflt;
        return SJ_OK;
    }
    *out = sj_enum_value(f, text);
    if (!*out) {
        char list[300];
        sj_enum_list_lang(f, sj_i18n_lang(), list, sizeof list);
        snprintf(why, why_size, _("--%s '%s' is not one of: %s"), sj_field_name(f), text, list);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* The field a reason of sj_report_validate names ("persons: ..."). */
static int
s_validate_field(const char *why)
{
    static const struct {
        const char *prefix;
        int field;
    } map[] = {{"occurred_on", AF_OCCURRED}, {"persons", AF_PERSONS},   {"summary", AF_SUMMARY},
               {"officer", AF_OFFICER},      {"channel", AF_CHANNEL},   {"kind", AF_KIND},
               {"level", AF_LEVEL},          {"category", AF_CATEGORY}, {"outcome", AF_OUTCOME},
               {"source", AF_SOURCE}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strncmp(why, map[i].prefix, strlen(map[i].prefix)) == 0) {
            return map[i].field;
        }
    }
    return AF_SUMMARY;
}

int
agent_report_prepare(const agent_opts_t *o,
                     const char *const *f,
                     sj_event_t *ev,
                     int *field,
                     char *why,
                     size_t why_size)
{
    memset(ev, 0, sizeof *ev);
    ev->type = SJ_EVENT_REPORT;
    sj_report_t *r = &ev->report;
    *field = -1;
    if (f[AF_PERSONS]) {
        char *end = NULL;
        errno = 0;
        long v = strtol(f[AF_PERSONS], &end, 10);
        if (errno || !end || *end || v < 1 || v > SJ_MAX_PERSONS) {
            *field = AF_PERSONS;
            snprintf(why, why_size, _("--persons '%s' is not a number from 1 to %d"), f[AF_PERSONS],
                     SJ_MAX_PERSONS);
            return SJ_EINVAL;
        }
        r->persons = (uint32_t) v;
    } else {
        r->persons = 1;
    }
    int kind_default = r->persons >= 5 ? 2 : 1;
    static const struct {
        int af;
        sj_field_t f;
        int dflt;
    } enums[] = {{AF_CHANNEL, SJ_FIELD_CHANNEL, 0}, {AF_KIND, SJ_FIELD_KIND, -1},
                 {AF_LEVEL, SJ_FIELD_LEVEL, 0},     {AF_CATEGORY, SJ_FIELD_CATEGORY, 5},
                 {AF_OUTCOME, SJ_FIELD_OUTCOME, 1}, {AF_SOURCE, SJ_FIELD_SOURCE, 1}};
    int *vals[] = {&r->channel, &r->kind, &r->level, &r->category, &r->outcome, &r->source};
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        int dflt = enums[i].dflt < 0 ? kind_default : enums[i].dflt;
        if (s_enum_field(enums[i].f, f[enums[i].af], dflt, vals[i], why, why_size) != SJ_OK) {
            *field = enums[i].af;
            return SJ_EINVAL;
        }
    }
    if (f[AF_OCCURRED]) {
        snprintf(r->occurred_on, sizeof r->occurred_on, "%s", f[AF_OCCURRED]);
        if (strlen(f[AF_OCCURRED]) != 10) {
            r->occurred_on[0] = 'x';
        }
    } else {
        sj_date_today(r->occurred_on);
    }
    if (!f[AF_SUMMARY]) {
        *field = AF_SUMMARY;
        snprintf(why, why_size, _("--summary is required"));
        return SJ_EINVAL;
    }
    snprintf(ev->summary, sizeof ev->summary, "%s", f[AF_SUMMARY]);
    snprintf(ev->officer, sizeof ev->officer, "%s", f[AF_OFFICER] ? f[AF_OFFICER] : "");
    r->summary = f[AF_SUMMARY];
    r->officer = f[AF_OFFICER] ? f[AF_OFFICER] : "";
    char today[11];
    if (sj_report_validate(r, why, why_size) != SJ_OK) {
        *field = s_validate_field(why);
        return SJ_EINVAL;
    }
    sj_date_today(today);
    if (strcmp(r->occurred_on, today) > 0) {
        *field = AF_OCCURRED;
        snprintf(why, why_size,
                 _("--occurred %s is after today (%s on this machine): a matter"
                   " cannot have happened yet; check the date, or this machine's clock"),
                 r->occurred_on, today);
        return SJ_EINVAL;
    }
    r->summary = ev->summary;
    r->officer = ev->officer;
    if (f[AF_ID]) {
        if (sj_uuid_parse(f[AF_ID], ev->id) != SJ_OK) {
            *field = AF_ID;
            snprintf(why, why_size, "--id '%s' is not a UUID", f[AF_ID]);
            return SJ_EINVAL;
        }
    } else {
        sj_uuid7_new(ev->id);
    }
    sj_personal_t p = {f[AF_PET_NAME], f[AF_PET_ID], f[AF_PET_PHONE], f[AF_PET_ADDRESS]};
    if (s_seal(o, &p, ev, 0) != SJ_OK) {
        *field = AF_PET_NAME;
        snprintf(why, why_size,
                 "petitioner fields need the county's public key (--county-key), or are too"
                 " long to seal; they are never stored in the clear");
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
agent_report_store(agent_store_t *st, sj_event_t *ev, int *dup, uint64_t *num)
{
    int rc = agent_store_begin(st);
    if (rc == SJ_OK) {
        rc = agent_store_add(st, ev, dup, num);
    }
    if (rc == SJ_OK) {
        rc = agent_store_commit(st);
    }
    if (rc != SJ_OK) {
        agent_store_rollback(st);
    }
    return rc;
}

int
agent_cmd_submit(const agent_opts_t *o, const char *const *f)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        return 1;
    }
    int rc = SJ_OK, exit_code = 2; /* until the report is checked: bad usage */
    agent_store_t *st = NULL;
    int field = -1;
    char why[400] = "";
    if (agent_report_prepare(o, f, ev, &field, why, sizeof why) != SJ_OK) {
        fprintf(stderr, "village-agent: %s\n", why);
        goto out;
    }
    exit_code = 1;
    st = s_open(o, SJ_DB_WRITE);
    if (!st) {
        goto out;
    }
    int dup = 0;
    uint64_t num = 0;
    rc = agent_report_store(st, ev, &dup, &num);
    if (rc != SJ_OK) {
        fprintf(stderr, _("village-agent: the report was NOT stored: %s\n"), sj_strerror(rc));
        goto out;
    }
    char text[SJ_UUID_TEXT];
    sj_uuid_format(ev->id, text);
    printf("%s\n", text);
    fflush(stdout);
    if (dup) {
        fprintf(stderr, _("this id is already in the outbox; nothing new stored\n"));
    } else {
        fprintf(stderr, _("stored as report %" PRIu64 " of station %s\n"), num,
                agent_store_station(st));
    }
    exit_code = 0;
    char what[64];
    snprintf(what, sizeof what, "report %" PRIu64, num);
    s_try_deliver(st, o, dup ? "the report" : what);
out:
    agent_store_close(&st);
    free(ev);
    return exit_code;
}

int
agent_cmd_import(const agent_opts_t *o, const char *path)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "village-agent: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    agent_import_result_t res;
    int rc = agent_import_parse(in, &res);
    if (in != stdin) {
        fclose(in);
    }
    int exit_code = 1;
    agent_store_t *st = NULL;
    sj_event_t *ev = NULL;
    if (rc != SJ_OK) {
        fprintf(stderr, "village-agent: cannot read %s: %s\n", path, sj_strerror(rc));
        goto out;
    }
    if (res.n_errors) {
        for (size_t i = 0; i < res.n_errors; i++) {
            fprintf(stderr, "%s:%zu: %s\n", path, res.errors[i].line, res.errors[i].reason);
        }
        fprintf(stderr, "village-agent: %zu bad line%s; nothing was imported\n", res.n_errors,
                res.n_errors == 1 ? "" : "s");
        goto out;
    }
    ev = calloc(1, sizeof *ev);
    if (!ev) {
        goto out;
    }
    /* Seal first: a missing county key refuses the whole file. */
    for (size_t i = 0; i < res.n_items; i++) {
        agent_import_item_t *it = &res.items[i];
        sj_personal_t p = {it->petitioner_name, it->petitioner_id, it->petitioner_phone,
                           it->petitioner_address};
        if (sj_personal_present(&p) && s_seal(o, &p, ev, it->line) != SJ_OK) {
            fprintf(stderr, "village-agent: nothing was imported\n");
            goto out;
        }
    }
    st = s_open(o, SJ_DB_WRITE);
    if (!st) {
        goto out;
    }
    size_t added = 0, dups = 0;
    rc = agent_store_begin(st);
    for (size_t i = 0; rc == SJ_OK && i < res.n_items; i++) {
        agent_import_item_t *it = &res.items[i];
        memset(ev, 0, sizeof *ev);
        ev->type = SJ_EVENT_REPORT;
        ev->report = it->report;
        snprintf(ev->summary, sizeof ev->summary, "%s", it->summary);
        snprintf(ev->officer, sizeof ev->officer, "%s", it->officer ? it->officer : "");
        ev->report.summary = ev->summary;
        ev->report.officer = ev->officer;
        if (it->has_id) {
            memcpy(ev->id, it->id, SJ_ID_BYTES);
        } else {
            sj_uuid7_new(ev->id);
        }
        sj_personal_t p = {it->petitioner_name, it->petitioner_id, it->petitioner_phone,
                           it->petitioner_address};
        rc = s_seal(o, &p, ev, it->line);
        int dup = 0;
        if (rc == SJ_OK) {
            rc = agent_store_add(st, ev, &dup, NULL);
        }
        if (dup) {
            dups++;
        } else if (rc == SJ_OK) {
            added++;
        }
    }
    if (rc == SJ_OK) {
        rc = agent_store_commit(st);
    }
    if (rc != SJ_OK) {
        agent_store_rollback(st);
        fprintf(stderr, "village-agent: import failed, nothing was imported: %s\n",
                sj_strerror(rc));
        goto out;
    }
    printf("%zu\n", added);
    fflush(stdout);
    fprintf(stderr, "imported %zu report%s", added, added == 1 ? "" : "s");
    if (dups) {
        fprintf(stderr, " (%zu already in the outbox, skipped)", dups);
    }
    fprintf(stderr, "\n");
    exit_code = 0;
    if (added) {
        s_try_deliver(st, o, added == 1 ? "the imported report" : "every imported report");
    }
out:
    free(ev);
    agent_store_close(&st);
    agent_import_result_free(&res);
    return exit_code;
}

int
agent_change_store(agent_store_t *st,
                   const char *id,
                   const char *outcome,
                   const char *satisfaction,
                   const char *note,
                   const char *officer,
                   sj_event_t *ev,
                   uint64_t *num,
                   sj_update_result_t *res,
                   char *why,
                   size_t why_size)
{
    memset(ev, 0, sizeof *ev);
    ev->type = SJ_EVENT_STATUS;
    if (!id || sj_uuid_parse(id, ev->case_id) != SJ_OK) {
        snprintf(why, why_size, "'%s' is not a case id (a UUID)", id ? id : "");
        return SJ_EINVAL;
    }
    if (s_enum_field(SJ_FIELD_OUTCOME, outcome, 0, &ev->new_outcome, why, why_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    /* issue 16: the petitioner's evaluation on a conclusion */
    if (sj_satisfaction_check(satisfaction, ev->new_outcome, &ev->satisfaction, why, why_size)
        != SJ_OK) {
        return SJ_EINVAL;
    }
    note = note ? note : "";
    officer = officer ? officer : "";
    if (strlen(note) > SJ_MAX_NOTE_BYTES || !sj_utf8_valid(note, strlen(note))) {
        snprintf(why, why_size, "--note must be UTF-8 text of at most %d bytes", SJ_MAX_NOTE_BYTES);
        return SJ_EINVAL;
    }
    if (strlen(officer) > SJ_MAX_OFFICER_BYTES || !sj_utf8_valid(officer, strlen(officer))) {
        snprintf(why, why_size, "--officer must be UTF-8 text of at most %d bytes",
                 SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    snprintf(ev->note, sizeof ev->note, "%s", note);
    snprintf(ev->officer, sizeof ev->officer, "%s", officer);
    if (!st) {
        return SJ_OK; /* checked only */
    }
    why[0] = '\0';
    int rc = agent_store_begin(st);
    if (rc == SJ_OK) {
        rc = agent_store_update(st, ev, num, res, why, why_size);
    }
    if (rc == SJ_OK) {
        rc = agent_store_commit(st);
        if (rc != SJ_OK) {
            snprintf(why, why_size, "the change was NOT stored: %s", sj_strerror(rc));
        }
    }
    if (rc != SJ_OK) {
        agent_store_rollback(st);
        if (!why[0]) {
            snprintf(why, why_size, "%s", sj_strerror(rc));
        }
        return rc;
    }
    return SJ_OK;
}

int
agent_cmd_update(const agent_opts_t *o,
                 const char *id,
                 const char *outcome,
                 const char *satisfaction,
                 const char *note,
                 const char *officer)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        return 1;
    }
    int exit_code = 2; /* until the change is checked: bad usage */
    agent_store_t *st = NULL;
    char why[400] = "";
    uint64_t num = 0;
    sj_update_result_t res;
    if (agent_change_store(NULL, id, outcome, satisfaction, note, officer, ev, &num, &res, why,
                           sizeof why)
        != SJ_OK) {
        fprintf(stderr, "village-agent: %s\n", why);
        goto out;
    }
    exit_code = 1;
    st = s_open(o, SJ_DB_WRITE);
    if (!st) {
        goto out;
    }
    if (agent_change_store(st, id, outcome, satisfaction, note, officer, ev, &num, &res, why,
                           sizeof why)
        != SJ_OK) {
        fprintf(stderr, "village-agent: %s\n", why);
        goto out;
    }
    char where[96];
    snprintf(where, sizeof where, "stored as entry %" PRIu64 " of station %s", num,
             agent_store_station(st));
    exit_code = sj_update_report("village-agent", id, ev->new_outcome, &res, where);
    char what[64];
    snprintf(what, sizeof what, "the change (entry %" PRIu64 ")", num);
    s_try_deliver(st, o, what);
out:
    agent_store_close(&st);
    free(ev);
    return exit_code;
}

/* Text of an option: UTF-8 of at most max bytes (NULL: not given). */
static int
s_text_ok(const char *name, const char *v, size_t max)
{
    if (v && (strlen(v) > max || !sj_utf8_valid(v, strlen(v)))) {
        fprintf(stderr, "village-agent: --%s must be UTF-8 text of at most %zu bytes\n", name, max);
        return 0;
    }
    return 1;
}

int
agent_cmd_fix(
    const agent_opts_t *o, const char *id, int is_void, const char *const f[], const char *reason)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        return 1;
    }
    int exit_code = 2; /* bad usage until checked */
    agent_store_t *st = NULL;
    ev->type = is_void ? SJ_EVENT_VOID : SJ_EVENT_CORRECTION;
    if (sj_uuid_parse(id, ev->case_id) != SJ_OK) {
        fprintf(stderr, "village-agent: '%s' is not a case id (a UUID)\n", id);
        goto out;
    }
    if (!reason || !reason[0]) {
        fprintf(stderr, "village-agent: %s needs --reason TEXT (why; it travels with it)\n",
                is_void ? "void" : "correct");
        goto out;
    }
    if (!s_text_ok("reason", reason, SJ_MAX_NOTE_BYTES)
        || !s_text_ok("officer", f[AF_OFFICER], SJ_MAX_OFFICER_BYTES)) {
        goto out;
    }
    snprintf(ev->note, sizeof ev->note, "%s", reason);
    snprintf(ev->officer, sizeof ev->officer, "%s", f[AF_OFFICER] ? f[AF_OFFICER] : "");
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    if (!is_void) {
        static const struct {
            int af;
            sj_field_t field;
        } enums[] = {{AF_CHANNEL, SJ_FIELD_CHANNEL},
                     {AF_KIND, SJ_FIELD_KIND},
                     {AF_LEVEL, SJ_FIELD_LEVEL},
                     {AF_CATEGORY, SJ_FIELD_CATEGORY},
                     {AF_SOURCE, SJ_FIELD_SOURCE}};
        int *dst[] = {&ev->report.channel, &ev->report.kind, &ev->report.level,
                      &ev->report.category, &ev->report.source};
        int any = 0;
        for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
            if (f[enums[i].af]) {
                any = 1;
                char why[400];
                if (s_enum_field(enums[i].field, f[enums[i].af], 0, dst[i], why, sizeof why)
                    != SJ_OK) {
                    fprintf(stderr, "village-agent: %s\n", why);
                    goto out;
                }
            }
        }
        if (f[AF_PERSONS]) {
            char *end = NULL;
            long n = strtol(f[AF_PERSONS], &end, 10);
            if (!end || *end || n < 1 || n > SJ_MAX_PERSONS) {
                fprintf(stderr, "village-agent: --persons '%s' must be a number from 1 to %d\n",
                        f[AF_PERSONS], SJ_MAX_PERSONS);
                goto out;
            }
            ev->report.persons = (uint32_t) n;
            any = 1;
        }
        if (f[AF_OCCURRED]) {
            if (!sj_date_valid(f[AF_OCCURRED])) {
                fprintf(stderr, "village-agent: --occurred '%s' is not a date YYYY-MM-DD\n",
                        f[AF_OCCURRED]);
                goto out;
            }
            snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "%s", f[AF_OCCURRED]);
            any = 1;
        }
        if (f[AF_SUMMARY]) {
            if (!f[AF_SUMMARY][0] || !s_text_ok("summary", f[AF_SUMMARY], SJ_MAX_SUMMARY_BYTES)) {
                fprintf(stderr, "village-agent: --summary must not be empty\n");
                goto out;
            }
            snprintf(ev->summary, sizeof ev->summary, "%s", f[AF_SUMMARY]);
            any = 1;
        }
        if (!any) {
            fprintf(stderr, "village-agent: correct needs at least one field to change: --occurred,"
                            " --channel, --kind, --persons, --level, --category, --source or"
                            " --summary\n");
            goto out;
        }
    }
    exit_code = 1;
    st = s_open(o, SJ_DB_WRITE);
    if (!st) {
        goto out;
    }
    int cur = 0, has_head = 0;
    uint8_t head[SJ_ID_BYTES];
    int rc = agent_store_case_state(st, ev->case_id, &cur, head, &has_head);
    if (rc == SJ_ENOTFOUND) {
        fprintf(stderr, "village-agent: no report %s in this station's outbox or inbox\n", id);
        goto out;
    }
    uint64_t num = 0;
    int dup = 0;
    sj_uuid7_new(ev->id);
    if (rc == SJ_OK) {
        rc = agent_store_begin(st);
    }
    if (rc == SJ_OK) {
        rc = agent_store_add(st, ev, &dup, &num);
        rc = rc == SJ_OK ? agent_store_commit(st) : rc;
        if (rc != SJ_OK) {
            agent_store_rollback(st);
        }
    }
    if (rc != SJ_OK) {
        fprintf(stderr, "village-agent: the %s was NOT stored: %s\n",
                is_void ? "void" : "correction", sj_strerror(rc));
        goto out;
    }
    char evid[SJ_UUID_TEXT];
    sj_uuid_format(ev->id, evid);
    printf("%s\n", evid);
    fflush(stdout);
    fprintf(stderr, "village-agent: %s of %s stored as entry %" PRIu64 " of station %s\n",
            is_void ? "void (作废)" : "correction (更正)", id, num, agent_store_station(st));
    exit_code = 0;
    char what[64];
    snprintf(what, sizeof what, "the %s (entry %" PRIu64 ")", is_void ? "void" : "correction", num);
    s_try_deliver(st, o, what);
out:
    agent_store_close(&st);
    free(ev);
    return exit_code;
}

typedef struct {
    sj_table_t *t;
    int rc;
    int narrow; /* the 100-column table */
    int table;  /* table format: states in the person's words */
} s_outbox_ctx_t;

/* Column names as a person reads them (table format: translated) or as
 * machines do (json, csv: the English names, always). */
static void
s_headers(const agent_opts_t *o, const char *const *names, size_t n, const char **out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = o->format == SJ_FMT_TABLE ? _(names[i]) : names[i];
    }
}

#define S_NARROW_SUMMARY 30 /* columns of the summary in a narrow table */

/* The last 8 characters of a UUID text (the random part of a UUIDv7: the
 * first ones are the time, the same for a minute's entries). */
static const char *
s_short_id(const char *uuid)
{
    size_t n = strlen(uuid);
    return n > 8 ? uuid + n - 8 : uuid;
}

/* A row of the narrow outbox from the cells of the wide one. */
static int
s_outbox_narrow(sj_table_t *t, const char *const *w)
{
    char text[600], cut[200];
    if (w[11] && w[11][0]) {
        snprintf(text, sizeof text, "%s · %s", w[11], w[10] ? w[10] : "");
    } else {
        snprintf(text, sizeof text, "%s", w[10] ? w[10] : "");
    }
    sj_text_cut(text, S_NARROW_SUMMARY, cut, sizeof cut);
    const char *cells[] = {w[0], s_short_id(w[1]), w[2], w[3], w[4], w[6], w[7], cut};
    return sj_table_add_row(t, cells);
}

static int
s_outbox_row(void *ctx, const agent_outbox_row_t *row)
{
    s_outbox_ctx_t *c = ctx;
    char seq[24], persons[16], id[SJ_UUID_TEXT];
    snprintf(seq, sizeof seq, "%" PRIu64, row->seq);
    sj_uuid_format(row->id, id);
    if (!row->ev) {
        /* Listed anyway: the officer must see every report and its state. */
        char summary[300];
        snprintf(summary, sizeof summary, "(unreadable: %s)", row->unreadable);
        const char *cells[] = {
            seq,
            id,
            (c->table ? _(agent_state_name(row->state)) : agent_state_name(row->state)),
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            summary,
            row->reason};
        return c->narrow ? s_outbox_narrow(c->t, cells) : sj_table_add_row(c->t, cells);
    }
    if (row->ev->type == SJ_EVENT_CORRECTION || row->ev->type == SJ_EVENT_VOID) {
        /* A correction or a void: the summary column says which case. */
        char what[SJ_MAX_NOTE_BYTES + 100], cid[SJ_UUID_TEXT];
        sj_uuid_format(row->ev->case_id, cid);
        snprintf(what, sizeof what, "%s %s: %s",
                 row->ev->type == SJ_EVENT_VOID ? "void" : "correct", cid, row->ev->note);
        const char *cells[] = {seq,  id,   agent_state_name(row->state),
                               NULL, NULL, NULL,
                               NULL, NULL, NULL,
                               NULL, what, row->reason};
        return sj_table_add_row(c->t, cells);
    }
    if (row->ev->type == SJ_EVENT_STATUS) {
        /* A status change: the summary column says what changed. */
        char what[200], cid[SJ_UUID_TEXT];
        const char *prev = sj_enum_name(SJ_FIELD_OUTCOME, row->ev->prev_outcome);
        sj_uuid_format(row->ev->case_id, cid);
        snprintf(what, sizeof what, "update %s: %s \xe2\x86\x92 %s", cid, prev ? prev : "?",
                 sj_enum_name(SJ_FIELD_OUTCOME, row->ev->new_outcome));
        const char *cells[] = {
            seq,
            id,
            (c->table ? _(agent_state_name(row->state)) : agent_state_name(row->state)),
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            sj_enum_name(SJ_FIELD_OUTCOME, row->ev->new_outcome),
            what,
            row->reason};
        return c->narrow ? s_outbox_narrow(c->t, cells) : sj_table_add_row(c->t, cells);
    }
    snprintf(persons, sizeof persons, "%u", row->ev->report.persons);
    const sj_report_t *r = &row->ev->report;
    /* issue 15: the corrected values; a voided report is marked 作废 */
    char marked[SJ_MAX_SUMMARY_BYTES + 64];
    const char *summary = r->summary;
    if (row->voided || row->corrected) {
        snprintf(marked, sizeof marked, "%s%s",
                 row->voided ? "作废 voided: " : "更正 corrected: ", r->summary);
        summary = marked;
    }
    const char *cells[] = {
        seq,
        id,
        (c->table ? _(agent_state_name(row->state)) : agent_state_name(row->state)),
        r->occurred_on,
        sj_enum_name(SJ_FIELD_CHANNEL, r->channel),
        sj_enum_name(SJ_FIELD_KIND, r->kind),
        persons,
        sj_enum_name(SJ_FIELD_LEVEL, r->level),
        sj_enum_name(SJ_FIELD_CATEGORY, r->category),
        sj_enum_name(SJ_FIELD_OUTCOME, r->outcome),
        summary,
        row->reason};
    return c->narrow ? s_outbox_narrow(c->t, cells) : sj_table_add_row(c->t, cells);
}

int
agent_cmd_outbox(const agent_opts_t *o)
{
    agent_store_t *st = s_open(o, SJ_DB_READ);
    if (!st) {
        return 1;
    }
    static const char *const names[] = {
        N_("seq"),     N_("id"),    N_("state"),    N_("occurred_on"), N_("channel"), N_("kind"),
        N_("persons"), N_("level"), N_("category"), N_("outcome"),     N_("summary"), N_("reason")};
    static const sj_col_type_t types[] = {SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                          SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT,
                                          SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    static const char *const nnames[] = {N_("seq"),     N_("id"),      N_("state"), N_("date"),
                                         N_("channel"), N_("persons"), N_("level"), N_("summary")};
    static const sj_col_type_t ntypes[] = {SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                           SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT};
    int narrow = o->format == SJ_FMT_TABLE && !o->wide;
    const char *hdr[12];
    s_headers(o, narrow ? nnames : names, narrow ? 8 : 12, hdr);
    s_outbox_ctx_t c = {.t = narrow ? sj_table_new(8, hdr, ntypes) : sj_table_new(12, hdr, types),
                        .table = o->format == SJ_FMT_TABLE,
                        .narrow = narrow};
    int exit_code = 1;
    if (!c.t) {
        goto out;
    }
    if (agent_store_outbox(st, s_outbox_row, &c) != SJ_OK) {
        fprintf(stderr, "village-agent: cannot read the outbox\n");
        goto out;
    }
    if (sj_table_write(c.t, o->format, stdout) != SJ_OK) {
        goto out;
    }
    if (o->format == SJ_FMT_TABLE) {
        agent_counts_t n;
        if (agent_store_counts(st, &n) == SJ_OK) {
            fprintf(stderr,
                    _("station %s: %" PRIu64 " reports, %" PRIu64 " at the county, %" PRIu64
                      " at the hub, %" PRIu64 " queued, %" PRIu64 " rejected"),
                    agent_store_station(st), n.total, n.at_county, n.at_hub, n.queued, n.rejected);
            if (n.pruned) {
                fprintf(stderr, "; %" PRIu64 " older entries pruned after the county's receipt",
                        n.pruned);
            }
            fprintf(stderr, "\n");
        }
        agent_county_key_note(o);
    }
    exit_code = 0;
out:
    sj_table_destroy(&c.t);
    agent_store_close(&st);
    return exit_code;
}

typedef struct {
    sj_table_t *t;
    size_t n, overdue;
    int narrow;                   /* the 100-column table */
    const sj_places_map_t *names; /* place names (issue 15) */
} s_inbox_ctx_t;

/* A place's name, or its code when it has none. */
static const char *
s_name(const sj_places_map_t *names, const char *code)
{
    const char *n = sj_places_map_get(names, code);
    return n ? n : code;
}

static int
s_inbox_row(void *ctx, const agent_inbox_row_t *r)
{
    s_inbox_ctx_t *c = ctx;
    char id[SJ_UUID_TEXT], days[24], persons[16];
    sj_uuid_format(r->case_id, id);
    snprintf(days, sizeof days, "%" PRId64, r->days_left);
    snprintf(persons, sizeof persons, "%u", r->persons);
    int overdue = r->overdue; /* the 交办 due date or a statutory stage (issue 16) */
    c->n++;
    c->overdue += overdue ? 1 : 0;
    /* issue 15: the station's own corrections and void, marked as in the
     * outbox */
    char marked[SJ_MAX_SUMMARY_BYTES + 64];
    const char *summary = r->summary ? r->summary : "";
    if (r->voided || r->corrected) {
        snprintf(marked, sizeof marked, "%s%s",
                 r->voided ? "作废 voided: " : "更正 corrected: ", summary);
        summary = marked;
    }
    if (c->narrow) {
        char text[SJ_MAX_NOTE_BYTES + sizeof marked + 8], cut[200];
        char by[SJ_CODE_MAX + SJ_PLACE_NAME_MAX + 2];
        snprintf(text, sizeof text, "%s%s%s", r->note, r->note[0] ? " | " : "", summary);
        sj_text_cut(text, S_NARROW_SUMMARY, cut, sizeof cut);
        const char *cells[] = {s_short_id(id),
                               r->due_on,
                               days,
                               overdue ? "yes" : "",
                               sj_enum_name(SJ_FIELD_OUTCOME, r->outcome),
                               sj_places_label(c->names, r->assigned_by, by, sizeof by),
                               cut};
        return sj_table_add_row(c->t, cells);
    }
    const char *cells[19] = {id,
                             r->due_on,
                             days,
                             overdue ? "yes" : "",
                             sj_enum_name(SJ_FIELD_OUTCOME, r->outcome),
                             r->conflict ? "yes" : "",
                             r->assigned_by,
                             r->origin,
                             r->occurred_on,
                             sj_enum_name(SJ_FIELD_CATEGORY, r->category),
                             persons,
                             summary,
                             r->note,
                             s_name(c->names, r->assigned_by),
                             s_name(c->names, r->origin),
                             NULL,
                             NULL,
                             NULL,
                             ""};
    /* issue 16: the statutory stage running, its due date and days left,
     * and what is overdue (docs/CLOCK.md) */
    char left[24], what[64];
    int k = r->has_clock ? r->clock.running : SJ_STAGE_NONE;
    if (k != SJ_STAGE_NONE) {
        snprintf(left, sizeof left, "%lld", (long long) r->clock.st[k].left);
        cells[15] = sj_stage_name(k);
        cells[16] = r->clock.st[k].due;
        cells[17] = left;
    }
    if (r->has_clock) {
        sj_clock_overdue_what(&r->clock, sj_outcome_is_open(r->outcome) && r->days_left < 0, what,
                              sizeof what);
        cells[18] = what;
    } else if (sj_outcome_is_open(r->outcome) && r->days_left < 0) {
        cells[18] = "assignment";
    }
    return sj_table_add_row(c->t, cells);
}

int
agent_cmd_inbox(const agent_opts_t *o, int overdue_only)
{
    agent_store_t *st = s_open(o, SJ_DB_READ);
    if (!st) {
        return 1;
    }
    static const char *const names[] = {
        N_("case_id"),     N_("due_on"),           N_("days_left"),        N_("overdue"),
        N_("outcome"),     N_("conflict"),         N_("assigned_by"),      N_("reported_by"),
        N_("occurred_on"), N_("category"),         N_("persons"),          N_("summary"),
        N_("note"),        N_("assigned_by_name"), N_("reported_by_name"), N_("stage"),
        N_("stage_due"),   N_("stage_left"),       N_("overdue_what")};
    static const sj_col_type_t types[] = {
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT};
    static const char *const nnames[] = {N_("case_id"),        N_("due_on"),  N_("days"),
                                         N_("overdue"),        N_("outcome"), N_("assigned_by"),
                                         N_("asked | summary")};
    static const sj_col_type_t ntypes[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT, SJ_COL_TEXT,
                                           SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    int narrow = o->format == SJ_FMT_TABLE && !o->wide;
    const char *hdr[19];
    s_headers(o, narrow ? nnames : names, narrow ? 7 : 19, hdr);
    sj_places_map_t *places = sj_places_map_load(agent_store_db(st));
    s_inbox_ctx_t c = {.t = narrow ? sj_table_new(7, hdr, ntypes) : sj_table_new(19, hdr, types),
                       .narrow = narrow,
                       .names = places};
    int exit_code = 1;
    if (!c.t) {
        goto out;
    }
    if (agent_store_inbox(st, overdue_only, s_inbox_row, &c) != SJ_OK) {
        fprintf(stderr, "village-agent: cannot read the inbox\n");
        goto out;
    }
    if (sj_table_write(c.t, o->format, stdout) != SJ_OK) {
        goto out;
    }
    if (o->format == SJ_FMT_TABLE) {
        char today[11];
        sj_date_today(today);
        char me[SJ_CODE_MAX + SJ_PLACE_NAME_MAX + 2];
        fprintf(stderr, "station %s: %zu assigned case%s%s, %zu overdue (today %s)\n",
                sj_places_label(places, agent_store_station(st), me, sizeof me), c.n,
                c.n == 1 ? "" : "s", overdue_only ? " shown" : "", c.overdue, today);
    }
    exit_code = 0;
out:
    sj_table_destroy(&c.t);
    sj_places_map_free(&places);
    agent_store_close(&st);
    return exit_code;
}

int
agent_cmd_sync(const agent_opts_t *o)
{
    agent_store_t *st = s_open(o, SJ_DB_WRITE);
    if (!st) {
        return 1;
    }
    int rc = s_link_loop(st, o, (int64_t) (o->timeout_s > 0 ? o->timeout_s : 30) * 1000, 1);
    if (rc == S_LINK_USAGE) {
        agent_store_close(&st);
        return 2;
    }
    agent_counts_t n;
    int crc = agent_store_counts(st, &n);
    if (rc == S_LINK_DONE) {
        fprintf(stderr, "all %" PRIu64 " reports are at the %s", n.total,
                o->until_county ? "county" : "hub");
        if (crc == SJ_OK && n.rejected) {
            fprintf(stderr, " (%" PRIu64 " rejected there; see 'outbox')", n.rejected);
        }
        fprintf(stderr, "\n");
    } else if (crc == SJ_OK && rc == S_LINK_REFUSED) {
        fprintf(stderr,
                "village-agent: %" PRIu64 " of %" PRIu64
                " reports not yet acknowledged by the hub (they stay queued)\n",
                n.queued, n.total);
    } else if (crc == SJ_OK && n.queued == 0) {
        fprintf(stderr,
                "village-agent: the hub could not be reached to confirm; all %" PRIu64
                " reports were acknowledged earlier\n",
                n.total);
    } else if (crc == SJ_OK) {
        fprintf(stderr,
                "village-agent: timed out; %" PRIu64 " of %" PRIu64
                " reports not yet acknowledged by the hub (they stay queued)\n",
                n.queued, n.total);
    }
    agent_store_close(&st);
    return rc == S_LINK_DONE ? 0 : 1;
}

int
agent_cmd_run(const agent_opts_t *o)
{
    int rc = s_link_loop(NULL, o, 0, 0);
    return rc == S_LINK_DONE ? 0 : rc == S_LINK_USAGE ? 2 : 1;
}

/* A wall-clock time in ms as local "YYYY-MM-DD HH:MM:SS" ("" for 0). */
static void
s_local_time(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    out[0] = '\0';
    if (ms > 0 && localtime_r(&t, &tm)) {
        strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
    }
}

int
agent_cmd_status(const agent_opts_t *o)
{
    agent_store_t *st = s_open(o, SJ_DB_READ);
    if (!st) {
        return 1;
    }
    agent_counts_t n;
    int rc = agent_store_counts(st, &n);
    if (rc == SJ_OK) {
        printf(_("station %s: %" PRIu64 " reports, %" PRIu64 " at the county, %" PRIu64
                 " at the hub, %" PRIu64 " queued, %" PRIu64 " rejected"),
               agent_store_station(st), n.total, n.at_county, n.at_hub, n.queued, n.rejected);
        printf("\n");
    }
    agent_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "village-agent: cannot read the outbox: %s\n", sj_strerror(rc));
        return 1;
    }
    agent_link_t l;
    agent_link_read(o->data, &l);
    int zh = sj_i18n_lang() == SJ_LANG_ZH;
    char since[32], contact[32];
    s_local_time(l.since_ms, since, sizeof since);
    s_local_time(l.contact_ms, contact, sizeof contact);
    if (l.running) {
        printf(_("run: running (pid %ld)\n"), l.pid);
    } else {
        printf(_("run: not running (the hub link below is as it last was)\n"));
    }
    if (l.state == AGENT_LINK_NONE) {
        printf(_("hub link: no record yet ('run' records it)\n"));
    } else {
        printf(_("hub link: %s since %s\n"), agent_link_words(l.state, zh), since);
    }
    if (l.error[0]) {
        printf(_("why: %s\n"), l.error);
    }
    printf(_("last contact with the hub: %s\n"), contact[0] ? contact : _("never"));
    return 0;
}

int
agent_cmd_prune(const agent_opts_t *o)
{
    agent_store_t *st = s_open(o, SJ_DB_WRITE);
    if (!st) {
        return 1;
    }
    agent_prune_t p;
    int rc = agent_store_prune(st, sj_now_ms() - o->older_than_days * S_DAY_MS, o->dry_run, &p);
    if (rc != SJ_OK) {
        fprintf(stderr, "village-agent: prune failed, nothing was pruned: %s\n", sj_strerror(rc));
        agent_store_close(&st);
        return 1;
    }
    printf("%" PRIu64 "\n", p.pruned);
    fflush(stdout);
    s_prune_report(&p, o->older_than_days, o->dry_run);
    agent_store_close(&st);
    return 0;
}

/* ---- the command line (sj_cli) ---- */

enum {
    O_DATA = 1000,
    O_STATION,
    O_HUB,
    O_COUNTY_KEY,
    O_HUB_KEY,
    O_CONFIG,
    O_LOG,
    O_INSECURE,
    O_FORMAT,
    O_TIMEOUT,
    O_WAIT,
    O_UNTIL_COUNTY,
    O_NOTE,
    O_OLDER_THAN,
    O_DRY_RUN,
    O_PRUNE_AFTER,
    O_OVERDUE,
    O_WIDE,
    O_HTTP,
    O_PASSWORD_FILE,
    O_SATISFACTION,
    O_BOM,
    O_LABELS,
    O_REASON,
    O_FIELD /* + AF_* */
};

static const struct option s_options[] = {
    {"data", required_argument, NULL, O_DATA},
    {"station", required_argument, NULL, O_STATION},
    {"hub", required_argument, NULL, O_HUB},
    {"county-key", required_argument, NULL, O_COUNTY_KEY},
    {"hub-key", required_argument, NULL, O_HUB_KEY},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"format", required_argument, NULL, O_FORMAT},
    {"bom", no_argument, NULL, O_BOM},
    {"labels", required_argument, NULL, O_LABELS},
    {"reason", required_argument, NULL, O_REASON},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"wait", required_argument, NULL, O_WAIT},
    {"until-county", no_argument, NULL, O_UNTIL_COUNTY},
    {"note", required_argument, NULL, O_NOTE},
    {"older-than", required_argument, NULL, O_OLDER_THAN},
    {"dry-run", no_argument, NULL, O_DRY_RUN},
    {"prune-after-days", required_argument, NULL, O_PRUNE_AFTER},
    {"overdue", no_argument, NULL, O_OVERDUE},
    {"wide", no_argument, NULL, O_WIDE},
    {"http", required_argument, NULL, O_HTTP},
    {"password-file", required_argument, NULL, O_PASSWORD_FILE},
    {"satisfaction", required_argument, NULL, O_SATISFACTION},
    {"channel", required_argument, NULL, O_FIELD + AF_CHANNEL},
    {"kind", required_argument, NULL, O_FIELD + AF_KIND},
    {"persons", required_argument, NULL, O_FIELD + AF_PERSONS},
    {"level", required_argument, NULL, O_FIELD + AF_LEVEL},
    {"category", required_argument, NULL, O_FIELD + AF_CATEGORY},
    {"outcome", required_argument, NULL, O_FIELD + AF_OUTCOME},
    {"source", required_argument, NULL, O_FIELD + AF_SOURCE},
    {"occurred", required_argument, NULL, O_FIELD + AF_OCCURRED},
    {"officer", required_argument, NULL, O_FIELD + AF_OFFICER},
    {"summary", required_argument, NULL, O_FIELD + AF_SUMMARY},
    {"id", required_argument, NULL, O_FIELD + AF_ID},
    {"petitioner-name", required_argument, NULL, O_FIELD + AF_PET_NAME},
    {"petitioner-id", required_argument, NULL, O_FIELD + AF_PET_ID},
    {"petitioner-phone", required_argument, NULL, O_FIELD + AF_PET_PHONE},
    {"petitioner-address", required_argument, NULL, O_FIELD + AF_PET_ADDRESS},
    {NULL, 0, NULL, 0},
};

/* The general keys of the config file ([village-agent], sj_cfg.h); every
 * other option is a key of its command's section. */
static const char *const s_cfg_general[] = {"data",       "station",          "hub",
                                            "county-key", "hub-key",          "log-level",
                                            "insecure",   "prune-after-days", NULL};

/* The options every command shares, and those of this command, checked.
 * 0, or 2 after saying why. */
static int
s_opts(const sj_cli_args_t *a, agent_opts_t *o)
{
    *o = (agent_opts_t){.data = a->data,
                        .station = sj_cli_val(a, O_STATION),
                        .hub = sj_cli_val(a, O_HUB),
                        .county_key = sj_cli_val(a, O_COUNTY_KEY),
                        .hub_key = sj_cli_val(a, O_HUB_KEY),
                        .insecure = sj_cli_has(a, O_INSECURE),
                        .until_county = sj_cli_has(a, O_UNTIL_COUNTY),
                        .dry_run = sj_cli_has(a, O_DRY_RUN),
                        .wide = sj_cli_has(a, O_WIDE),
                        .format = SJ_FMT_TABLE};
    long long timeout = 30, wait = 3, older = 30, prune = 0;
    if (sj_cli_code(a, O_STATION, 12, "village") || sj_cli_endpoint(a, O_HUB, 0)
        || sj_cli_key(a, O_HUB_KEY) || sj_cli_key(a, O_COUNTY_KEY)
        || sj_cli_format(a, O_FORMAT, &o->format) || sj_cli_int(a, O_TIMEOUT, 1, 86400, &timeout)
        || sj_cli_int(a, O_WAIT, 0, 3600, &wait) || sj_cli_int(a, O_OLDER_THAN, 0, 36500, &older)
        || sj_cli_int(a, O_PRUNE_AFTER, 0, 36500, &prune)) {
        return 2;
    }
    o->timeout_s = (int) timeout;
    o->deliver_s = (int) wait;
    o->older_than_days = (int) older;
    o->prune_after_days = (int) prune;
    if (o->station) {
        sj_log_set_ident("village-agent", o->station);
    }
    return 0;
}

static int
s_cmd_submit(const sj_cli_args_t *a)
{
    agent_opts_t o;
    const char *fields[AF_COUNT];
    for (int i = 0; i < AF_COUNT; i++) {
        fields[i] = sj_cli_val(a, O_FIELD + i);
    }
    if (s_opts(a, &o) || sj_cli_date(a, O_FIELD + AF_OCCURRED)) {
        return 2;
    }
    return agent_cmd_submit(&o, fields);
}

static int
s_cmd_import(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) ? 2 : agent_cmd_import(&o, a->pos[0]);
}

static int
s_cmd_outbox(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) ? 2 : agent_cmd_outbox(&o);
}

static int
s_cmd_update(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) ? 2
                         : agent_cmd_update(&o, a->pos[0], sj_cli_val(a, O_FIELD + AF_OUTCOME),
                                            sj_cli_val(a, O_SATISFACTION), sj_cli_val(a, O_NOTE),
                                            sj_cli_val(a, O_FIELD + AF_OFFICER));
}

static int
s_cmd_fix(const sj_cli_args_t *a)
{
    agent_opts_t o;
    if (s_opts(a, &o)) {
        return 2;
    }
    const char *f[AF_COUNT] = {NULL};
    for (int i = 0; i < AF_COUNT; i++) {
        f[i] = sj_cli_val(a, O_FIELD + i);
    }
    return agent_cmd_fix(&o, a->pos[0], strcmp(a->cmd->name, "void") == 0, f,
                         sj_cli_val(a, O_REASON));
}

static int
s_cmd_inbox(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) ? 2 : agent_cmd_inbox(&o, sj_cli_has(a, O_OVERDUE));
}

static int
s_cmd_sync(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) || sj_cli_need(a, O_HUB, "ENDPOINT") ? 2 : agent_cmd_sync(&o);
}

static int
s_cmd_run(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) || sj_cli_need(a, O_HUB, "ENDPOINT") ? 2 : agent_cmd_run(&o);
}

static int
s_cmd_status(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) ? 2 : agent_cmd_status(&o);
}

static int
s_cmd_prune(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o) ? 2 : agent_cmd_prune(&o);
}

static int
s_cmd_serve(const sj_cli_args_t *a)
{
    agent_opts_t o;
    return s_opts(a, &o)
               ? 2
               : agent_cmd_serve(&o, sj_cli_val(a, O_HTTP), sj_cli_val(a, O_PASSWORD_FILE));
}

static int
s_cmd_passwd(const sj_cli_args_t *a)
{
    return agent_cmd_passwd(sj_cli_val(a, O_PASSWORD_FILE));
}

static int
s_cmd_keygen(const sj_cli_args_t *a)
{
    return sj_enrol_keygen("village-agent", a->data);
}

#define S_OPTS(...) ((const int[]){__VA_ARGS__, 0})

static const sj_cli_cmd_t s_cmds[] = {
    {"submit", NULL, 0, 0,
     S_OPTS(O_FIELD + AF_CHANNEL,
            O_FIELD + AF_KIND,
            O_FIELD + AF_PERSONS,
            O_FIELD + AF_LEVEL,
            O_FIELD + AF_CATEGORY,
            O_FIELD + AF_OUTCOME,
            O_FIELD + AF_SOURCE,
            O_FIELD + AF_OCCURRED,
            O_FIELD + AF_OFFICER,
            O_FIELD + AF_SUMMARY,
            O_FIELD + AF_ID,
            O_FIELD + AF_PET_NAME,
            O_FIELD + AF_PET_ID,
            O_FIELD + AF_PET_PHONE,
            O_FIELD + AF_PET_ADDRESS,
            O_WAIT),
     N_("record one report (prints its id)"),
     N_("usage: village-agent submit --channel C --level L --summary TEXT [options]\n"
        "  --channel C       visit, letter, phone, mailbox\n"
        "  --kind K          individual (1-4 persons), collective (5 or more); default from "
        "--persons\n"
        "  --persons N       number of people (default 1)\n"
        "  --level L         village, township, county, city, province, capital\n"
        "  --category G      land, enterprise_restructuring, employment, housing_demolition, "
        "other\n"
        "                    (default other)\n"
        "  --outcome O       pending (default), resolved_on_spot, accepted, closed, withdrawn\n"
        "  --source S        direct (default), leader_reception, assigned, review\n"
        "  --occurred DATE   YYYY-MM-DD (default today)\n"
        "  --officer X       information officer\n"
        "  --summary TEXT    what the matter is about\n"
        "  --id UUID         use this id (default: a new UUIDv7)\n"
        "  --petitioner-name, --petitioner-id, --petitioner-phone, --petitioner-address TEXT\n"
        "                    personal data, sealed to --county-key before it is stored\n"
        "  --wait SECONDS    how long to try delivering to the hub afterwards (default 3; 0: "
        "don't)\n"
        "The report is stored first; its id is printed on stdout.\n"),
     s_cmd_submit, NULL, NULL, NULL},
    {"import", "FILE.jsonl", 1, 1, S_OPTS(O_WAIT),
     N_("record every report of a JSON-lines file, all or nothing"),
     N_("usage: village-agent import FILE.jsonl   (- for standard input)\n"
        "Checks every line first. If any line is bad, prints each bad line with its\n"
        "number and reason and imports nothing (exit 1). Otherwise stores all lines in\n"
        "one transaction and prints how many were new. Lines whose id is already in the\n"
        "outbox are skipped, so importing a file twice stores nothing new.\n"
        "  --wait SECONDS    how long to try delivering afterwards (default 3; 0: don't)\n"),
     s_cmd_import, NULL, NULL, NULL},
    {"outbox", NULL, 0, 0, S_OPTS(O_FORMAT, O_WIDE, O_BOM, O_LABELS),
     N_("list the reports and their delivery state"),
     N_("usage: village-agent outbox [--wide] [--format table|json|csv] [--bom] [--labels zh|en]\n"
        "Lists every report with its state: queued (not yet at the hub), at-hub (committed\n"
        "at the hub), at-county (the county's receipt came back), or rejected (with the\n"
        "hub's reason).\n"
        "The table fits 100 columns: the id's last 8 characters, the summary cut with …\n"
        "(and a rejection's reason before it); --wide or --format give every column.\n"
        "  --wide            every column, full ids and texts\n"
        "  --format F        table (default), json, csv\n"
        "  --bom             csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en    csv: the header and the values as a person reads them\n"),
     s_cmd_outbox, NULL, NULL, NULL},
    {"update", "CASE-ID", 1, 1,
     S_OPTS(O_FIELD + AF_OUTCOME, O_SATISFACTION, O_NOTE, O_FIELD + AF_OFFICER, O_WAIT),
     N_("record a status change of one of this station's cases"),
     N_("usage: village-agent update CASE-ID --outcome O [--satisfaction S] [--note TEXT]\n"
        "                            [--officer X]\n"
        "Records that a case this station reported, or one assigned to it (inbox),\n"
        "changed its outcome. The change is checked against what the station knows of\n"
        "the case (its report or its assignment, then its own earlier updates) and the\n"
        "allowed changes:\n"
        "  pending -> resolved_on_spot, accepted, withdrawn\n"
        "  accepted -> closed, withdrawn\n"
        "  closed -> accepted, resolved_on_spot -> accepted   (a review reopens it)\n"
        "  withdrawn is final\n"
        "An unknown id or a change not allowed is refused with the reason (exit 1,\n"
        "nothing stored). The change is stored in the outbox and delivered like a\n"
        "report; its id is printed on stdout.\n"
        "  --satisfaction S  on a conclusion (closed, resolved_on_spot): the\n"
        "                    petitioner's evaluation, 满意 satisfied, 基本满意 basically,\n"
        "                    不满意 dissatisfied or 未评价 not_evaluated (docs/CLOCK.md)\n"
        "  --wait SECONDS    how long to try delivering afterwards (default 3; 0: don't)\n"),
     s_cmd_update, NULL, NULL, NULL},
    {"correct", "CASE-ID", 1, 1,
     S_OPTS(O_FIELD + AF_OCCURRED,
            O_FIELD + AF_CHANNEL,
            O_FIELD + AF_KIND,
            O_FIELD + AF_PERSONS,
            O_FIELD + AF_LEVEL,
            O_FIELD + AF_CATEGORY,
            O_FIELD + AF_SOURCE,
            O_FIELD + AF_SUMMARY,
            O_FIELD + AF_OFFICER,
            O_REASON,
            O_WAIT),
     N_("correct fields of one of this station's matters (更正)"),
     N_("usage: village-agent correct CASE-ID [--occurred D] [--channel C] [--kind K]\n"
        "           [--persons N] [--level L] [--category G] [--source S] [--summary T]\n"
        "           --reason TEXT [--officer X]\n"
        "Records a correction of a matter this station reported or was assigned: the\n"
        "new values of the fields given, and why. The report keeps its original values;\n"
        "the correction travels like any event and the county counts the corrected\n"
        "values (docs/CASES.md). The outcome is changed with 'update', not here.\n"
        "An unknown id is refused (exit 1, nothing stored). Prints the correction's id.\n"
        "  --reason TEXT     why (required)\n"
        "  --wait SECONDS    how long to try delivering afterwards (default 3; 0: don't)\n"),
     s_cmd_fix, NULL, NULL, NULL},
    {"void", "CASE-ID", 1, 1, S_OPTS(O_REASON, O_FIELD + AF_OFFICER, O_WAIT),
     N_("mark one of this station's matters as entered in error (作废)"),
     N_("usage: village-agent void CASE-ID --reason TEXT [--officer X]\n"
        "Records that a matter was entered in error (作废): the county leaves it out of\n"
        "every figure from then on; its report and history are kept. Final.\n"
        "An unknown id is refused (exit 1, nothing stored). Prints the void's id.\n"
        "  --reason TEXT     why (required)\n"
        "  --wait SECONDS    how long to try delivering afterwards (default 3; 0: don't)\n"),
     s_cmd_fix, NULL, NULL, NULL},
    {"inbox", NULL, 0, 0, S_OPTS(O_OVERDUE, O_FORMAT, O_WIDE, O_BOM, O_LABELS),
     N_("the cases assigned to this station, with due dates"),
     N_("usage: village-agent inbox [--overdue] [--wide] [--format table|json|csv] [--bom]\n"
        "                           [--labels zh|en]\n"
        "Lists the cases assigned to this station (交办, by the county or the township),\n"
        "by due date: days left (negative: past due, from this machine's date, no link\n"
        "needed), overdue (open and past due), the current outcome (the station's own\n"
        "later change, else as assigned), the county's conflict flag, who assigned it,\n"
        "the case and what was asked. Assignments arrive with 'sync' or 'run'.\n"
        "The table fits 100 columns: the case id's last 8 characters, what was asked\n"
        "and the summary cut with …; --wide or --format give every column (full ids\n"
        "for 'update').\n"
        "  --overdue         only open cases past their due date\n"
        "  --wide            every column, full ids and texts\n"
        "  --format F        table (default), json, csv\n"
        "  --bom             csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en    csv: the header and the values as a person reads them\n"),
     s_cmd_inbox, NULL, NULL, NULL},
    {"sync", NULL, 0, 0, S_OPTS(O_TIMEOUT, O_UNTIL_COUNTY),
     N_("deliver everything queued, then exit"),
     N_("usage: village-agent sync [--timeout SECONDS] [--until-county]\n"
        "Delivers everything queued and receives what the hub holds for this station\n"
        "(assignments, see 'inbox'). Exit 0 when the hub has acknowledged all of it,\n"
        "1 on timeout (default 30 s), saying how many remain queued. With --until-county\n"
        "it also waits until the county's receipt says every report is committed there.\n"
        "  --timeout SECONDS how long to try (default 30)\n"
        "  --until-county    also wait for the county's receipt of every report\n"),
     s_cmd_sync, NULL, NULL, NULL},
    {"run", NULL, 0, 0, S_OPTS(O_PRUNE_AFTER), N_("stay connected and deliver as reports appear"),
     N_("usage: village-agent run [--prune-after-days DAYS]\n"
        "Stays connected to the hub, delivers reports as they are recorded (also by\n"
        "other 'submit' or 'import' runs), sends heartbeats. Stops cleanly on SIGINT/SIGTERM.\n"
        "With --prune-after-days (config key prune-after-days) greater than 0 it also\n"
        "prunes, at start and every hour, as 'prune --older-than DAYS' does. Default 0: never.\n"
        "It keeps the hub link's state (connected or not, last contact, why not) in\n"
        "DIR/link-state when it changes, for 'status' and the desk's outbox page.\n"
        "  --prune-after-days DAYS  prune as above (0: never)\n"),
     s_cmd_run, NULL, NULL, NULL},
    {"status", NULL, 0, 0, NULL, N_("the outbox in numbers and the hub link as 'run' sees it"),
     N_("usage: village-agent status\n"
        "Prints the outbox in numbers, whether 'run' is running, the hub link's state\n"
        "as 'run' last recorded it (connected, connecting, the hub cannot be reached,\n"
        "no secure handshake, refused by the hub, stopped), since when, the hub's\n"
        "reason, and the last contact with the hub. Needs no network.\n"),
     s_cmd_status, NULL, NULL, NULL},
    {"prune", NULL, 0, 0, S_OPTS(O_OLDER_THAN, O_DRY_RUN),
     N_("delete old entries the county has confirmed"),
     N_("usage: village-agent prune [--older-than DAYS] [--dry-run]\n"
        "Deletes from the outbox, in one transaction, the entries (reports and status\n"
        "changes) the county has committed (its receipt came back: 'at-county' in\n"
        "'outbox') that were recorded more than DAYS days ago (default 30; 0: any age).\n"
        "Never deleted: entries still queued or only at the hub, rejected or unreadable\n"
        "entries (the officer has to see them), and the newest entry of the stream (it\n"
        "keeps the numbering). A pruned case keeps its id and outcome, so 'update' still\n"
        "works on it and importing it again adds nothing.\n"
        "Prints the number pruned on stdout, and what was kept and why on stderr.\n"
        "  --older-than DAYS  only entries recorded more than DAYS days ago (0-36500)\n"
        "  --dry-run          change nothing; say what would be pruned\n"),
     s_cmd_prune, NULL, NULL, NULL},
    {"serve", NULL, 0, 0, S_OPTS(O_HTTP, O_PASSWORD_FILE),
     N_("the officer's desk: a local web page (Chinese first)"),
     N_("usage: village-agent serve [--http 127.0.0.1:8082]\n"
        "Serves the officer's desk on this machine: record a matter (记录), follow\n"
        "its delivery (发送情况), answer assignments (交办), print one matter (登记表).\n"
        "Chinese by default, English with the page's switch. Writes the same store as\n"
        "'submit' and 'update' (same checks); 'run' delivers alongside.\n"
        "Prints 'ready URL' when serving; stops on SIGINT or SIGTERM.\n"
        "  --http HOST:PORT      where to listen (default 127.0.0.1:8082; port 0 = any);\n"
        "                        loopback only unless --password-file is given\n"
        "  --password-file FILE  the officer logs in with the password 'passwd' set\n"),
     s_cmd_serve, NULL, NULL, NULL},
    {"passwd", NULL, 0, 0, S_OPTS(O_PASSWORD_FILE),
     N_("set the desk's password (serve --password-file)"),
     N_("usage: village-agent passwd --password-file FILE   (the password on standard input)\n"
        "Reads a password of 8 characters or more and writes only its hash (Argon2id,\n"
        "libsodium crypto_pwhash_str) to FILE, mode 0600. Then 'serve --password-file FILE'\n"
        "asks for it before any page.\n"),
     s_cmd_passwd, NULL, NULL, NULL},
    {"keygen", NULL, 0, 0, NULL,
     N_("make this station's key pair; prints the public key to enrol\n"
        "at the township (township-hub allow -- CODE 'KEY')"),
     N_("usage: village-agent keygen\n"
        "\n"
        "Makes this station's CURVE key pair (DIR/curve.key, mode 0600) and prints\n"
        "the public key, for the township office to enrol ('township-hub allow --\n"
        "CODE 'KEY'').\n"),
     s_cmd_keygen, NULL, NULL, NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

const sj_cli_tool_t agent_cli_tool = {
    .tool = "village-agent",
    .about = N_("usage: village-agent [global options] COMMAND [options]\n"
                "\n"
                "Records dispute and petition reports at a village station and delivers\n"
                "them to the township hub. Every report is stored on this machine first;\n"
                "nothing is lost when the hub cannot be reached.\n"),
    .footer =
        N_("\n"
           "global options (every command):\n"
           "  --data DIR          data directory (default ./var/village-agent)\n"
           "  --station CODE      12-digit village code of this station\n"
           "  --hub ENDPOINT      township hub, e.g. tcp://127.0.0.1:7601\n"
           "  --hub-key Z85       the hub's public key (CURVE; the link is refused otherwise)\n"
           "  --county-key Z85    county public key; seals petitioner fields\n"
           "  --insecure          no CURVE keys (test networks only; logged loudly)\n"
           "  --config FILE       INI file: the global options above (and run's\n"
           "                      prune-after-days) in [village-agent]; every option of\n"
           "                      COMMAND as a key of [COMMAND], e.g. [sync] timeout = 60.\n"
           "                      Flags win over [COMMAND], which wins over [village-agent]\n"
           "  --log-level LEVEL   error, warn, notice (default), info, debug\n"
           "  -h, --help          this help; after a command, that command's help\n"
           "\n"
           "Exit status: 0 ok, 1 failure, 2 bad usage.\n"),
    .global_help =
        N_("global options: --data DIR (default ./var/village-agent), --station CODE,\n"
           "--hub ENDPOINT, --hub-key Z85, --county-key Z85, --insecure, --config FILE,\n"
           "--log-level LEVEL (see village-agent --help).\n"),
    .data_default = "./var/village-agent",
    .opts = s_options,
    .global =
        S_OPTS(O_DATA, O_STATION, O_HUB, O_COUNTY_KEY, O_HUB_KEY, O_INSECURE, O_CONFIG, O_LOG),
    .data_id = O_DATA,
    .log_level_id = O_LOG,
    .bom_id = O_BOM,
    .labels_id = O_LABELS,
    .general = s_cfg_general,
    .cmds = s_cmds,
    .engine_cmds = "sync run",
};
