/* county_assign: county-server assign, see county_assign.h. */
#include "county_assign.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_store.h"
#include "county_store_view.h"
#include "sj_cfg.h"
#include "sj_cli.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_places.h"
#include "sj_users.h"

static const char *const s_usage =
    N_("usage: county-server assign CASE-ID --to CODE --due YYYY-MM-DD [--note TEXT]\n"
       "                            [--officer NAME]\n"
       "\n"
       "Assigns a case (交办) to a township (9-digit code) or a station (12-digit code)\n"
       "of this county, to be settled by the due date. The assignment is an event of\n"
       "the county's own stream (like 'update'), and it goes down to the township's\n"
       "hub (or to a station linked straight to the county), which hands it to the\n"
       "station: delivered once, also to a node that is offline now (it gets it when\n"
       "it connects). Refused, nothing stored (exit 1): an unknown case, a code not\n"
       "under this county, a due date in the past, a case already closed or withdrawn.\n"
       "Prints the new event's id.\n"
       "\n"
       "  --to CODE           the township or station it is assigned to\n"
       "  --due YYYY-MM-DD    the deadline (today or later, local date)\n"
       "  --note TEXT         what is asked (at most 2000 bytes)\n"
       "  --officer NAME      who assigns it (at most 128 bytes)\n"
       "  --data DIR, --config FILE, --log-level LEVEL   as for every command\n"
       "In the --config file these options are keys of [assign] (flags win).\n");

enum { O_DATA = 1000, O_CONFIG, O_LOG, O_TO, O_DUE, O_NOTE, O_OFFICER, O_HELP };

const struct option county_assign_options[] = {
    {"data", required_argument, NULL, O_DATA},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"to", required_argument, NULL, O_TO},
    {"due", required_argument, NULL, O_DUE},
    {"note", required_argument, NULL, O_NOTE},
    {"officer", required_argument, NULL, O_OFFICER},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct {
    const char *data, *config, *log_level, *to, *due, *note, *officer;
    int help;
} s_args_t;

int
county_assign_check(const char *id_text,
                    const char *to,
                    const char *due,
                    const char *note,
                    const char *officer,
                    char *err,
                    size_t err_size)
{
    uint8_t id[SJ_ID_BYTES];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, _("'%.64s' is not a case id (a UUID)"), id_text ? id_text : "");
        return SJ_EINVAL;
    }
    if (!to || !due) {
        snprintf(err, err_size, "%s", _("assign needs --to CODE and --due YYYY-MM-DD"));
        return SJ_EINVAL;
    }
    int lvl = sj_code_level(to);
    if (lvl != 9 && lvl != 12) {
        snprintf(err, err_size,
                 _("--to '%.32s' is not a 9-digit township or 12-digit station code"
                   " (a county department has a 9-digit code too)"),
                 to);
        return SJ_EINVAL;
    }
    if (!sj_date_valid(due)) {
        snprintf(err, err_size, _("--due '%.32s' is not a date YYYY-MM-DD"), due);
        return SJ_EINVAL;
    }
    note = note ? note : "";
    officer = officer ? officer : "";
    if (strlen(note) > SJ_MAX_NOTE_BYTES || !sj_utf8_valid(note, strlen(note))
        || strlen(officer) > SJ_MAX_OFFICER_BYTES || !sj_utf8_valid(officer, strlen(officer))) {
        snprintf(err, err_size,
                 _("--note (at most %d bytes) and --officer (at most %d) must be UTF-8 text"),
                 SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
county_assign_do(county_store_t *st,
                 const char *id_text,
                 const char *to,
                 const char *due,
                 const char *note,
                 const char *officer,
                 const char *account,
                 char ev_text[SJ_UUID_TEXT],
                 char via[SJ_CODE_MAX + 1],
                 char *err,
                 size_t err_size)
{
    int rc = county_assign_check(id_text, to, due, note, officer, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    char today[11];
    sj_date_today(today);
    if (strcmp(due, today) < 0) {
        snprintf(err, err_size, _("--due %s is in the past (today is %s); nothing stored"), due,
                 today);
        return SJ_EFORBIDDEN;
    }
    /* Issue 15 item 5: only to a township or station this county has heard
     * of (a mistyped code would wait for nobody). */
    static const char *const heard[] = {
        "SELECT 1 FROM tally_place WHERE origin = ?1 OR township = ?1 LIMIT 1",
        "SELECT 1 FROM departments WHERE code = ?1", NULL};
    int known = 1;
    const char *county = county_store_origin(st);
    if (strcmp(county, "000000") == 0 || sj_code_under(to, county)) {
        rc = sj_places_known(county_store_db(st), county_store_dir(st), to, heard, &known, err,
                             err_size);
        if (rc != SJ_OK) {
            return rc;
        }
        if (!known) {
            return SJ_EFORBIDDEN;
        }
    }
    uint8_t id[SJ_ID_BYTES], ev_id[SJ_ID_BYTES];
    if (sj_uuid_parse(id_text, id) != SJ_OK) { /* checked above */
        return SJ_EINVAL;
    }
    rc = county_store_assign(st, id, to, due, note ? note : "", officer ? officer : "", account,
                             ev_id, via, err, err_size);
    if (rc == SJ_OK) {
        sj_uuid_format(ev_id, ev_text);
    } else if (rc == SJ_EINVAL || rc == SJ_ENOTFOUND) {
        rc = SJ_EFORBIDDEN; /* refused by the store: not bad usage */
    }
    return rc;
}

static int
s_assign(const s_args_t *a, const char *id_text)
{
    char err[512] = "";
    if (county_assign_check(id_text, a->to, a->due, a->note, a->officer, err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    char ev_text[SJ_UUID_TEXT], via[SJ_CODE_MAX + 1] = "";
    int rc = county_assign_do(st, id_text, a->to, a->due, a->note, a->officer, NULL, ev_text, via,
                              err, sizeof err);
    char detail[800];
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        snprintf(detail, sizeof detail, "case %.40s to %.16s: %.600s", id_text, a->to, err);
    } else {
        printf("%s\n", ev_text);
        fprintf(stderr, _("case %s assigned to %s, due %s (queued for %s)\n"), id_text, a->to,
                a->due, via);
        snprintf(detail, sizeof detail, "case %.40s to %.16s due %.16s: event %s", id_text, a->to,
                 a->due, ev_text);
    }
    sj_audit_cli(county_store_db(st), "assign", detail, rc == SJ_OK);
    county_store_close(&st);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

int
county_assign_main(int argc, char **argv)
{
    s_args_t a;
    memset(&a, 0, sizeof a);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", county_assign_options, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            a.data = optarg;
            break;
        case O_CONFIG:
            a.config = optarg;
            break;
        case O_LOG:
            a.log_level = optarg;
            break;
        case O_TO:
            a.to = optarg;
            break;
        case O_DUE:
            a.due = optarg;
            break;
        case O_NOTE:
            a.note = optarg;
            break;
        case O_OFFICER:
            a.officer = optarg;
            break;
        case O_HELP:
        case 'h':
            a.help = 1;
            break;
        default:
            fprintf(stderr,
                    _("county-server: unknown or incomplete option '%s' (see assign --help)\n"),
                    argv[optind - 1]);
            return 2;
        }
    }
    if (a.help) {
        fputs(_(s_usage), stdout);
        return 0;
    }
    if (argc - optind - 1 != 1) {
        fputs(_(s_usage), stderr);
        return 2;
    }
    int rc = 2;
    if (!a.data) {
        a.data = "./var/county-server";
    }
    if ((rc = sj_cli_start("county-server", a.log_level)) != 0) {
        goto out;
    }
    rc = s_assign(&a, argv[optind + 1]);
out:
    return rc;
}
