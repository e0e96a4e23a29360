/* village-agent: the station tool. main() parses arguments and the config
 * file, then runs one subcommand from agent_cli.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_cli.h"
#include "sj_cfg.h"
#include "sj_enrol.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"

static const char s_usage[] =
    "usage: village-agent [global options] COMMAND [options]\n"
    "\n"
    "Records dispute and petition reports at a village station and delivers\n"
    "them to the township hub. Every report is stored on this machine first;\n"
    "nothing is lost when the hub cannot be reached.\n"
    "\n"
    "commands:\n"
    "  submit    record one report (prints its id)\n"
    "  import    record every report of a JSON-lines file, all or nothing\n"
    "  outbox    list the reports and their delivery state\n"
    "  update    record a status change of one of this station's cases\n"
    "  inbox     the cases assigned to this station, with due dates\n"
    "  sync      deliver everything queued, then exit\n"
    "  run       stay connected and deliver as reports appear\n"
    "  prune     delete old entries the county has confirmed\n"
    "  keygen    make this station's key pair; prints the public key to enrol\n"
    "            at the township ('township-hub allow CODE KEY')\n"
    "\n"
    "global options:\n"
    "  --data DIR          data directory (default ./var/village-agent)\n"
    "  --station CODE      12-digit village code of this station\n"
    "  --hub ENDPOINT      township hub, e.g. tcp://127.0.0.1:7601\n"
    "  --hub-key Z85       the hub's public key (CURVE; the link is refused otherwise)\n"
    "  --county-key Z85    county public key; seals petitioner fields\n"
    "  --insecure          no CURVE keys (test networks only; logged loudly)\n"
    "  --prune-after-days DAYS\n"
    "                      run: prune entries committed at the county and older\n"
    "                      than DAYS, at start and hourly (default 0: never)\n"
    "  --config FILE       INI file: the global options above in [village-agent];\n"
    "                      every option of COMMAND as a key of [COMMAND], e.g.\n"
    "                      [sync] timeout = 60. Flags win over [COMMAND], which\n"
    "                      wins over [village-agent]\n"
    "  --log-level LEVEL   error, warn, notice (default), info, debug\n"
    "  -h, --help          help (also after a command: village-agent submit --help)\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 bad usage.\n";

static const char s_usage_submit[] =
    "usage: village-agent submit --channel C --level L --summary TEXT [options]\n"
    "  --channel C       visit, letter, phone, mailbox\n"
    "  --kind K          individual (1-4 persons), collective (5 or more); default from --persons\n"
    "  --persons N       number of people (default 1)\n"
    "  --level L         village, township, county, city, province, capital\n"
    "  --category G      land, enterprise_restructuring, employment, housing_demolition, other\n"
    "                    (default other)\n"
    "  --outcome O       pending (default), resolved_on_spot, accepted, closed, withdrawn\n"
    "  --source S        direct (default), leader_reception, assigned, review\n"
    "  --occurred DATE   YYYY-MM-DD (default today)\n"
    "  --officer X       information officer\n"
    "  --summary TEXT    what the matter is about\n"
    "  --id UUID         use this id (default: a new UUIDv7)\n"
    "  --petitioner-name, --petitioner-id, --petitioner-phone, --petitioner-address TEXT\n"
    "                    personal data, sealed to --county-key before it is stored\n"
    "  --wait SECONDS    how long to try delivering to the hub afterwards (default 3; 0: don't)\n"
    "The report is stored first; its id is printed on stdout.\n";

static const char s_usage_import[] =
    "usage: village-agent import FILE.jsonl   (- for standard input)\n"
    "Checks every line first. If any line is bad, prints each bad line with its\n"
    "number and reason and imports nothing (exit 1). Otherwise stores all lines in\n"
    "one transaction and prints how many were new. Lines whose id is already in the\n"
    "outbox are skipped, so importing a file twice stores nothing new.\n"
    "  --wait SECONDS    how long to try delivering afterwards (default 3; 0: don't)\n";

static const char s_usage_outbox[] =
    "usage: village-agent outbox [--format table|json|csv]\n"
    "Lists every report with its state: queued (not yet at the hub), at-hub (committed\n"
    "at the hub), at-county (the county's receipt came back), or rejected (with the\n"
    "hub's reason).\n";

static const char s_usage_update[] =
    "usage: village-agent update CASE-ID --outcome O [--note TEXT] [--officer X]\n"
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
    "  --wait SECONDS    how long to try delivering afterwards (default 3; 0: don't)\n";

static const char s_usage_inbox[] =
    "usage: village-agent inbox [--overdue] [--format table|json|csv]\n"
    "Lists the cases assigned to this station (交办, by the county or the township),\n"
    "by due date: days left (negative: past due, from this machine's date, no link\n"
    "needed), overdue (open and past due), the current outcome (the station's own\n"
    "later change, else as assigned), the county's conflict flag, who assigned it,\n"
    "the case and what was asked. Assignments arrive with 'sync' or 'run'.\n"
    "  --overdue         only open cases past their due date\n";

static const char s_usage_sync[] =
    "usage: village-agent sync [--timeout SECONDS] [--until-county]\n"
    "Delivers everything queued and receives what the hub holds for this station\n"
    "(assignments, see 'inbox'). Exit 0 when the hub has acknowledged all of it,\n"
    "1 on timeout (default 30 s), saying how many remain queued. With --until-county\n"
    "it also waits until the county's receipt says every report is committed there.\n";

static const char s_usage_run[] =
    "usage: village-agent run [--prune-after-days DAYS]\n"
    "Stays connected to the hub, delivers reports as they are recorded (also by\n"
    "other 'submit' or 'import' runs), sends heartbeats. Stops cleanly on SIGINT/SIGTERM.\n"
    "With --prune-after-days (config key prune-after-days) greater than 0 it also\n"
    "prunes, at start and every hour, as 'prune --older-than DAYS' does. Default 0: never.\n";

static const char s_usage_prune[] =
    "usage: village-agent prune [--older-than DAYS] [--dry-run]\n"
    "Deletes from the outbox, in one transaction, the entries (reports and status\n"
    "changes) the county has committed (its receipt came back: 'at-county' in\n"
    "'outbox') that were recorded more than DAYS days ago (default 30; 0: any age).\n"
    "Never deleted: entries still queued or only at the hub, rejected or unreadable\n"
    "entries (the officer has to see them), and the newest entry of the stream (it\n"
    "keeps the numbering). A pruned case keeps its id and outcome, so 'update' still\n"
    "works on it and importing it again adds nothing.\n"
    "Prints the number pruned on stdout, and what was kept and why on stderr.\n"
    "  --older-than DAYS  only entries recorded more than DAYS days ago (0-36500)\n"
    "  --dry-run          change nothing; say what would be pruned\n";

enum {
    O_DATA = 1000, O_STATION, O_HUB, O_COUNTY_KEY, O_HUB_KEY, O_CONFIG, O_LOG, O_FORMAT, O_TIMEOUT,
    O_WAIT, O_INSECURE, O_UNTIL_COUNTY, O_NOTE, O_OLDER_THAN, O_DRY_RUN, O_PRUNE_AFTER, O_OVERDUE,
    O_FIELD /* + AF_* */
};

/* The general keys of the config file ([village-agent], sj_cfg.h); every
 * other option is a key of its command's section (all commands share main's
 * option table). */
static const char *const s_cfg_general[] = {"data",      "station",  "hub", "county-key",
                                            "hub-key",   "log-level", "insecure",
                                            "prune-after-days", NULL};

static int
s_usage_for(const char *cmd, FILE *out)
{
    const char *text = s_usage;
    if (cmd && strcmp(cmd, "submit") == 0) {
        text = s_usage_submit;
    } else if (cmd && strcmp(cmd, "import") == 0) {
        text = s_usage_import;
    } else if (cmd && strcmp(cmd, "outbox") == 0) {
        text = s_usage_outbox;
    } else if (cmd && strcmp(cmd, "sync") == 0) {
        text = s_usage_sync;
    } else if (cmd && strcmp(cmd, "update") == 0) {
        text = s_usage_update;
    } else if (cmd && strcmp(cmd, "run") == 0) {
        text = s_usage_run;
    } else if (cmd && strcmp(cmd, "prune") == 0) {
        text = s_usage_prune;
    } else if (cmd && strcmp(cmd, "inbox") == 0) {
        text = s_usage_inbox;
    }
    fputs(text, out);
    if (text != s_usage) {
        fprintf(out, "In the --config file these options are keys of [%s] (flags win).\n", cmd);
    }
    return 0;
}

static int
s_int_arg(const char *name, const char *text, int min, int max, int *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!end || *end || end == text || v < min || v > max) {
        fprintf(stderr, "village-agent: --%s '%s' must be a number from %d to %d\n", name, text,
                min, max);
        return -1;
    }
    *out = (int) v;
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"station", required_argument, NULL, O_STATION},
        {"hub", required_argument, NULL, O_HUB},
        {"county-key", required_argument, NULL, O_COUNTY_KEY},
        {"hub-key", required_argument, NULL, O_HUB_KEY},
        {"config", required_argument, NULL, O_CONFIG},
        {"log-level", required_argument, NULL, O_LOG},
        {"format", required_argument, NULL, O_FORMAT},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"wait", required_argument, NULL, O_WAIT},
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
        {"insecure", no_argument, NULL, O_INSECURE},
        {"until-county", no_argument, NULL, O_UNTIL_COUNTY},
        {"note", required_argument, NULL, O_NOTE},
        {"older-than", required_argument, NULL, O_OLDER_THAN},
        {"dry-run", no_argument, NULL, O_DRY_RUN},
        {"prune-after-days", required_argument, NULL, O_PRUNE_AFTER},
        {"overdue", no_argument, NULL, O_OVERDUE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const sj_cfg_spec_t spec = {
        .tool = "village-agent", .usage = s_usage, .general = s_cfg_general, .opts = opts};
    int applied = sj_cfg_apply(&spec, &argc, &argv); /* the file's keys become options */
    if (applied != SJ_CFG_CONTINUE) {
        return applied;
    }
    agent_opts_t o = {.timeout_s = 30, .deliver_s = 3, .format = SJ_FMT_TABLE,
                      .older_than_days = 30, .prune_after_days = -1};
    const char *fields[AF_COUNT] = {0};
    const char *log_level = NULL, *format = NULL, *note = NULL;
    int help = 0, c, older_than_given = 0, overdue = 0;
    int field_given = 0, other_field_given = 0; /* other: not --outcome/--officer */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: o.data = optarg; break;
        case O_STATION: o.station = optarg; break;
        case O_HUB: o.hub = optarg; break;
        case O_COUNTY_KEY: o.county_key = optarg; break;
        case O_HUB_KEY: o.hub_key = optarg; break;
        case O_INSECURE: o.insecure = 1; break;
        case O_UNTIL_COUNTY: o.until_county = 1; break;
        case O_CONFIG: break; /* read by sj_cfg_apply */
        case O_LOG: log_level = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_NOTE: note = optarg; break;
        case O_OVERDUE: overdue = 1; break;
        case O_TIMEOUT:
            if (s_int_arg("timeout", optarg, 1, 86400, &o.timeout_s) != 0) {
                return 2;
            }
            break;
        case O_WAIT:
            if (s_int_arg("wait", optarg, 0, 3600, &o.deliver_s) != 0) {
                return 2;
            }
            break;
        case O_OLDER_THAN:
            if (s_int_arg("older-than", optarg, 0, 36500, &o.older_than_days) != 0) {
                return 2;
            }
            older_than_given = 1;
            break;
        case O_DRY_RUN: o.dry_run = 1; break;
        case O_PRUNE_AFTER:
            if (s_int_arg("prune-after-days", optarg, 0, 36500, &o.prune_after_days) != 0) {
                return 2;
            }
            break;
        case 'h': help = 1; break;
        case '?':
            fprintf(stderr, "village-agent: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        default:
            if (c >= O_FIELD && c < O_FIELD + AF_COUNT) {
                fields[c - O_FIELD] = optarg;
                field_given = 1;
                if (c != O_FIELD + AF_OUTCOME && c != O_FIELD + AF_OFFICER) {
                    other_field_given = 1;
                }
            }
            break;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : NULL;
    if (help) {
        return s_usage_for(cmd, stdout);
    }
    if (!cmd) {
        s_usage_for(NULL, stderr);
        return 2;
    }
    if (o.prune_after_days < 0) {
        o.prune_after_days = 0;
    }
    if (!o.data) {
        o.data = "./var/village-agent";
    }
    if (o.station && sj_code_level(o.station) != 12) {
        fprintf(stderr, "village-agent: --station '%s' is not a 12-digit village code\n",
                o.station);
        return 2;
    }
    if (log_level) {
        int lvl = sj_log_level_parse(log_level);
        if (lvl < 0) {
            fprintf(stderr, "village-agent: --log-level '%s' is not one of error, warn, notice,"
                            " info, debug\n", log_level);
            return 2;
        }
        sj_log_set_level((sj_log_level_t) lvl);
    }
    if (format && sj_format_parse(format, &o.format) != SJ_OK) {
        fprintf(stderr, "village-agent: --format '%s' is not one of table, json, csv\n", format);
        return 2;
    }
    if (sj_ids_init() != SJ_OK) {
        fprintf(stderr, "village-agent: cannot initialise libsodium\n");
        return 1;
    }
    sj_log_set_ident("village-agent", o.station ? o.station : "");
    int npos = argc - optind - 1;
    int rc;
    int is_update = strcmp(cmd, "update") == 0;
    if (field_given && strcmp(cmd, "submit") != 0 && !(is_update && !other_field_given)) {
        fprintf(stderr, "village-agent: report fields are options of 'submit' only"
                        " ('update' takes --outcome, --note and --officer)\n");
        rc = 2;
    } else if (note && !is_update) {
        fprintf(stderr, "village-agent: --note is an option of 'update' only\n");
        rc = 2;
    } else if ((older_than_given || o.dry_run) && strcmp(cmd, "prune") != 0) {
        fprintf(stderr, "village-agent: --older-than and --dry-run are options of 'prune' only\n");
        rc = 2;
    } else if (strcmp(cmd, "prune") == 0 && npos == 0) {
        rc = agent_cmd_prune(&o);
    } else if (overdue && strcmp(cmd, "inbox") != 0) {
        fprintf(stderr, "village-agent: --overdue is an option of 'inbox' only\n");
        rc = 2;
    } else if (strcmp(cmd, "inbox") == 0 && npos == 0) {
        rc = agent_cmd_inbox(&o, overdue);
    } else if (is_update && npos == 1) {
        rc = agent_cmd_update(&o, argv[optind + 1], fields[AF_OUTCOME], note, fields[AF_OFFICER]);
    } else if (strcmp(cmd, "submit") == 0 && npos == 0) {
        rc = agent_cmd_submit(&o, fields);
    } else if (strcmp(cmd, "import") == 0 && npos == 1) {
        rc = agent_cmd_import(&o, argv[optind + 1]);
    } else if (strcmp(cmd, "outbox") == 0 && npos == 0) {
        rc = agent_cmd_outbox(&o);
    } else if (strcmp(cmd, "sync") == 0 && npos == 0) {
        rc = agent_cmd_sync(&o);
    } else if (strcmp(cmd, "run") == 0 && npos == 0) {
        rc = agent_cmd_run(&o);
    } else if (strcmp(cmd, "keygen") == 0 && npos == 0) {
        rc = sj_enrol_keygen("village-agent", o.data);
    } else if (is_update || strcmp(cmd, "submit") == 0 || strcmp(cmd, "import") == 0
               || strcmp(cmd, "outbox") == 0 || strcmp(cmd, "sync") == 0
               || strcmp(cmd, "run") == 0 || strcmp(cmd, "keygen") == 0
               || strcmp(cmd, "prune") == 0
               || strcmp(cmd, "inbox") == 0) {
        fprintf(stderr, "village-agent: wrong arguments for '%s'\n", cmd);
        s_usage_for(cmd, stderr);
        rc = 2;
    } else {
        fprintf(stderr, "village-agent: unknown command '%s' (see --help)\n", cmd);
        rc = 2;
    }
    return rc;
}
