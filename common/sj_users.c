/* sj_users: see sj_users.h. */
#include "sj_users.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sj_form.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"

const sj_role_t sj_roles_county[] = {
    {"admin", "管理员", "administrator"}, {"staff", "工作人员", "staff"},
    {"leader", "领导", "leader"},         {"department", "县直部门", "county department"},
    {"viewer", "只读", "viewer"},         {NULL, NULL, NULL},
};

const sj_role_t sj_roles_township[] = {
    {"office", "乡镇办公室", "township office"},
    {"viewer", "只读", "viewer"},
    {NULL, NULL, NULL},
};

const sj_role_t *
sj_role_find(const sj_role_t *roles, const char *name)
{
    for (const sj_role_t *r = roles; name && r->name; r++) {
        if (strcmp(r->name, name) == 0) {
            return r;
        }
    }
    return NULL;
}

int
sj_dept_code(const char *code)
{
    return code && sj_code_level(code) == 9 && code[6] == '9';
}

int
sj_user_name_check(const char *name, char *err, size_t err_size)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n >= 1 && n <= SJ_USER_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        ok = alnum || (i > 0 && (c == '.' || c == '_' || c == '-'));
    }
    if (!ok) {
        snprintf(err, err_size,
                 _("account name '%.40s' must be 1 to %d characters of A-Z a-z 0-9 . _ -,"
                   " starting with a letter or a digit"),
                 name ? name : "", SJ_USER_NAME_MAX);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

static int
s_password_check(const char *pw, char *err, size_t err_size)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n > SJ_PASSWORD_MAX) {
        snprintf(err, err_size, _("the password is longer than %d bytes"), SJ_PASSWORD_MAX);
        return SJ_EINVAL;
    }
    if (!pw || sj_utf8_chars(pw) < SJ_PASSWORD_MIN) {
        snprintf(err, err_size, _("the password needs at least %d characters"), SJ_PASSWORD_MIN);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

static int
s_hash(const char *pw, char out[crypto_pwhash_STRBYTES], char *err, size_t err_size)
{
    if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE)
        != 0) {
        snprintf(err, err_size, _("out of memory hashing the password"));
        return SJ_ENOMEM;
    }
    return SJ_OK;
}

static int
s_db_fail(sqlite3 *db, const char *what, char *err, size_t err_size)
{
    snprintf(err, err_size, _("cannot %s: %s"), what, sqlite3_errmsg(db));
    return SJ_EDB;
}

int
sj_users_add(sqlite3 *db,
             const sj_role_t *roles,
             const char *name,
             const char *role,
             const char *unit,
             const char *password,
             char *err,
             size_t err_size)
{
    if (sj_user_name_check(name, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    if (!sj_role_find(roles, role)) {
        size_t o =
            (size_t) snprintf(err, err_size, _("role '%.32s' is not one of"), role ? role : "");
        for (const sj_role_t *r = roles; r->name && o < err_size; r++) {
            o += (size_t) snprintf(err + o, err_size - o, " %s", r->name);
        }
        return SJ_EINVAL;
    }
    int dept = strcmp(role, "department") == 0;
    if (dept && !sj_dept_code(unit)) {
        snprintf(err, err_size,
                 _("role department needs --unit CODE: the department's 9-digit code (the"
                   " county's 6 digits, then 9 and two digits, e.g. 230523901)"));
        return SJ_EINVAL;
    }
    if (!dept && unit) {
        snprintf(err, err_size, _("--unit is for role department only"));
        return SJ_EINVAL;
    }
    if (s_password_check(password, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    char hash[crypto_pwhash_STRBYTES];
    int rc = s_hash(password, hash, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    int64_t now = sj_now_ms();
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO users(name, role, unit, pwhash, disabled, created_ms,"
                           " changed_ms) VALUES(?,?,?,?,0,?,?) ON CONFLICT(name) DO NOTHING",
                           -1, &st, NULL)
        != SQLITE_OK) {
        return s_db_fail(db, "store the account", err, err_size);
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
    if (unit) {
        sqlite3_bind_text(st, 3, unit, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, now);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    sodium_memzero(hash, sizeof hash);
    if (step != SQLITE_DONE) {
        return s_db_fail(db, "store the account", err, err_size);
    }
    if (sqlite3_changes(db) == 0) {
        snprintf(err, err_size, _("account '%s' exists already (see 'user passwd')"), name);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* Runs an UPDATE of one account by name (?1) with one text (?2). */
static int
s_update(
    sqlite3 *db, const char *sql, const char *name, const char *text, char *err, size_t err_size)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return s_db_fail(db, "change the account", err, err_size);
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (text) {
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 3, sj_now_ms());
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        return s_db_fail(db, "change the account", err, err_size);
    }
    if (sqlite3_changes(db) == 0) {
        snprintf(err, err_size, _("no account '%.40s' (see 'user list')"), name);
        return SJ_ENOTFOUND;
    }
    return SJ_OK;
}

int
sj_users_passwd(sqlite3 *db, const char *name, const char *password, char *err, size_t err_size)
{
    if (s_password_check(password, err, err_size) != SJ_OK) {
        return SJ_EINVAL;
    }
    char hash[crypto_pwhash_STRBYTES];
    int rc = s_hash(password, hash, err, err_size);
    if (rc == SJ_OK) {
        rc = s_update(db, "UPDATE users SET pwhash=?2, changed_ms=?3 WHERE name=?1", name, hash,
                      err, err_size);
    }
    sodium_memzero(hash, sizeof hash);
    return rc;
}

int
sj_users_disable(sqlite3 *db, const char *name, char *err, size_t err_size)
{
    return s_update(db, "UPDATE users SET disabled=1, changed_ms=?3 WHERE name=?1", name, NULL, err,
                    err_size);
}

static void
s_iso(int64_t ms, char out[32])
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
sj_users_table(sqlite3 *db, sj_table_t **out, char *err, size_t err_size)
{
    static const char *const names[] = {"name", "role", "unit", "state", "created", "changed"};
    static const sj_col_type_t types[6] = {SJ_COL_TEXT};
    *out = sj_table_new(6, names, types);
    sqlite3_stmt *st = NULL;
    if (!*out) {
        snprintf(err, err_size, _("out of memory"));
        return SJ_ENOMEM;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT name, role, coalesce(unit, ''), disabled, created_ms,"
                           " changed_ms FROM users ORDER BY name",
                           -1, &st, NULL)
        != SQLITE_OK) {
        sj_table_destroy(out);
        return s_db_fail(db, "read the accounts", err, err_size);
    }
    int rc = SJ_OK, step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char created[32], changed[32];
        s_iso(sqlite3_column_int64(st, 4), created);
        s_iso(sqlite3_column_int64(st, 5), changed);
        const char *cells[6] = {(const char *) sqlite3_column_text(st, 0),
                                (const char *) sqlite3_column_text(st, 1),
                                (const char *) sqlite3_column_text(st, 2),
                                sqlite3_column_int(st, 3) ? "disabled" : "enabled",
                                created,
                                changed};
        rc = sj_table_add_row(*out, cells);
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        sj_table_destroy(out);
        snprintf(err, err_size, _("out of memory"));
    }
    return rc;
}

int
sj_users_count(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM users WHERE disabled=0", -1, &st, NULL)
            == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/* Reads an account: 1 found (hash, role, unit copied, disabled set). */
static int
s_read(sqlite3 *db, const char *name, char *hash, char *role, char *unit, int *disabled)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT pwhash, role, coalesce(unit, ''), disabled FROM users"
                           " WHERE name=?",
                           -1, &st, NULL)
        != SQLITE_OK) {
        return 0;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        found = 1;
        if (hash) {
            snprintf(hash, crypto_pwhash_STRBYTES, "%s", (const char *) sqlite3_column_text(st, 0));
        }
        snprintf(role, SJ_ROLE_MAX, "%s", (const char *) sqlite3_column_text(st, 1));
        snprintf(unit, SJ_UNIT_MAX, "%s", (const char *) sqlite3_column_text(st, 2));
        *disabled = sqlite3_column_int(st, 3);
    }
    sqlite3_finalize(st);
    return found;
}

int
sj_users_verify(sqlite3 *db, const char *name, const char *password, char *role, char *unit)
{
    /* An unknown name is checked against a hash of nothing useful, so that
     * it takes as long as a wrong password. */
    static char dummy[crypto_pwhash_STRBYTES];
    char hash[crypto_pwhash_STRBYTES] = "";
    int disabled = 1;
    int found = name && password && strlen(password) <= SJ_PASSWORD_MAX
                && s_read(db, name, hash, role, unit, &disabled);
    if (!found) {
        if (!dummy[0] && s_hash("not a password of anyone", dummy, NULL, 0) != SJ_OK) {
            return SJ_EFORBIDDEN;
        }
        memcpy(hash, dummy, sizeof hash);
    }
    const char *pw = password ? password : "";
    int ok = crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
    sodium_memzero(hash, sizeof hash);
    return found && ok && !disabled ? SJ_OK : SJ_EFORBIDDEN;
}

int
sj_users_get(sqlite3 *db, const char *name, char *role, char *unit)
{
    int disabled = 1;
    return s_read(db, name, NULL, role, unit, &disabled) && !disabled ? SJ_OK : SJ_ENOTFOUND;
}

/* ---- the audit trail ---- */

int
sj_audit_add(sqlite3 *db,
             const char *who,
             const char *via,
             const char *source,
             const char *action,
             const char *detail,
             int ok)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO audit(at_ms, who, via, source, action, detail, ok)"
                           " VALUES(?,?,?,?,?,?,?)",
                           -1, &st, NULL)
        != SQLITE_OK) {
        return SJ_EDB;
    }
    sqlite3_bind_int64(st, 1, sj_now_ms());
    sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, via, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, detail ? detail : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, ok ? 1 : 0);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? SJ_OK : SJ_EDB;
}

/* ms since the epoch of a date's start (UTC); end: of the next day. */
static int
s_day_ms(const char *date, int end, int64_t *out, char *err, size_t err_size, const char *opt)
{
    if (!sj_date_valid(date)) {
        snprintf(err, err_size, _("--%s '%.32s' is not a date YYYY-MM-DD"), opt, date);
        return SJ_EINVAL;
    }
    /* days from the civil date (Howard Hinnant's days_from_civil) */
    int64_t y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468 + (end ? 1 : 0);
    *out = days * 86400000LL;
    return SJ_OK;
}

int
sj_audit_table(sqlite3 *db,
               const char *who,
               const char *from,
               const char *to,
               long limit,
               sj_table_t **out,
               char *err,
               size_t err_size)
{
    int64_t from_ms = 0, to_ms = INT64_MAX;
    *out = NULL;
    if ((from && s_day_ms(from, 0, &from_ms, err, err_size, "from") != SJ_OK)
        || (to && s_day_ms(to, 1, &to_ms, err, err_size, "to") != SJ_OK)) {
        return SJ_EINVAL;
    }
    static const char *const names[] = {"seq",    "at",     "who",    "via",
                                        "source", "action", "detail", "result"};
    static const sj_col_type_t types[] = {SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                          SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    *out = sj_table_new(8, names, types);
    if (!*out) {
        snprintf(err, err_size, _("out of memory"));
        return SJ_ENOMEM;
    }
    /* the newest `limit` rows, shown oldest first */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT * FROM (SELECT seq, at_ms, who, via, source, action, detail, ok"
                           " FROM audit WHERE (?1 IS NULL OR who=?1) AND at_ms >= ?2"
                           " AND at_ms < ?3 ORDER BY seq DESC LIMIT ?4) ORDER BY seq",
                           -1, &st, NULL)
        != SQLITE_OK) {
        sj_table_destroy(out);
        return s_db_fail(db, "read the audit trail", err, err_size);
    }
    if (who) {
        sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 2, from_ms);
    sqlite3_bind_int64(st, 3, to_ms);
    sqlite3_bind_int64(st, 4, limit > 0 ? limit : -1);
    int rc = SJ_OK;
    while (rc == SJ_OK && sqlite3_step(st) == SQLITE_ROW) {
        char seq[24], at[32];
        snprintf(seq, sizeof seq, "%lld", (long long) sqlite3_column_int64(st, 0));
        s_iso(sqlite3_column_int64(st, 1), at);
        const char *cells[8] = {seq,
                                at,
                                (const char *) sqlite3_column_text(st, 2),
                                (const char *) sqlite3_column_text(st, 3),
                                (const char *) sqlite3_column_text(st, 4),
                                (const char *) sqlite3_column_text(st, 5),
                                (const char *) sqlite3_column_text(st, 6),
                                sqlite3_column_int(st, 7) ? "ok" : "refused"};
        rc = sj_table_add_row(*out, cells);
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        sj_table_destroy(out);
        snprintf(err, err_size, _("out of memory"));
    }
    return rc;
}

void
sj_audit_os_user(char *who, size_t who_size, char *source, size_t source_size)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    const char *name = "?";
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res) {
        name = res->pw_name;
    }
    const char *sudo = getenv("SUDO_USER");
    if (sudo && sudo[0] && strcmp(sudo, name) != 0) {
        snprintf(who, who_size, "%.64s(%.64s)", name, sudo);
    } else {
        snprintf(who, who_size, "%.64s", name);
    }
    const char *tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : NULL;
    snprintf(source, source_size, "%.64s", tty ? tty : "-");
}

void
sj_audit_cli(sqlite3 *db, const char *action, const char *detail, int ok)
{
    char who[160], source[80];
    sj_audit_os_user(who, sizeof who, source, sizeof source);
    if (sj_audit_add(db, who, "cli", source, action, detail, ok) != SJ_OK) {
        sj_warn("cannot write the audit trail: %s", sqlite3_errmsg(db));
    }
}

/* ---- the CLI ---- */

/* The new password: the first line of file (not readable by group or
 * others), else of standard input (without echo on a terminal). */
static int
s_read_password(const char *tool, const char *file, char *pw, size_t size)
{
    FILE *f = stdin;
    if (file) {
        f = fopen(file, "r");
        struct stat st;
        if (!f) {
            fprintf(stderr, _("%s: cannot read the password file %s: %s\n"), tool, file,
                    strerror(errno));
            return 2;
        }
        if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
            fclose(f);
            fprintf(stderr, _("%s: the password file %s is readable by others (chmod 600 it)\n"),
                    tool, file);
            return 2;
        }
    }
    int tty = !file && isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        fprintf(stderr, "新密码 / new password: ");
    }
    int got = fgets(pw, (int) size, f) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    if (file) {
        fclose(f);
    }
    size_t n = got ? strlen(pw) : 0;
    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) {
        pw[--n] = '\0';
    }
    if (!got) {
        pw[0] = '\0';
    }
    return 0;
}

int
sj_users_cli(const char *tool,
             sqlite3 *db,
             const sj_role_t *roles,
             char *const *pos,
             int npos,
             const char *role,
             const char *unit,
             const char *password_file,
             sj_format_t fmt)
{
    char err[400] = "";
    const char *sub = npos > 0 ? pos[0] : "";
    int is_add = strcmp(sub, "add") == 0, is_passwd = strcmp(sub, "passwd") == 0;
    int is_disable = strcmp(sub, "disable") == 0, is_list = strcmp(sub, "list") == 0;
    if (!is_add && !is_passwd && !is_disable && !is_list) {
        fprintf(stderr, _("%s: user '%s' is not one of add, passwd, disable, list\n"), tool, sub);
        return 2;
    }
    if (is_list) {
        if (npos != 1 || role || unit || password_file) {
            fprintf(stderr, _("%s: user list takes no name, --role, --unit or --password-file\n"),
                    tool);
            return 2;
        }
        sj_table_t *t = NULL;
        if (sj_users_table(db, &t, err, sizeof err) != SJ_OK) {
            fprintf(stderr, "%s: %s\n", tool, err);
            return 1;
        }
        int rc = sj_table_write(t, fmt, stdout);
        sj_table_destroy(&t);
        return rc == SJ_OK ? 0 : 1;
    }
    if (npos != 2) {
        fprintf(stderr, _("%s: user %s needs one account NAME\n"), tool, sub);
        return 2;
    }
    const char *name = pos[1];
    if (sj_user_name_check(name, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 2;
    }
    if (!is_add && (role || unit)) {
        fprintf(stderr, _("%s: --role and --unit are for user add\n"), tool);
        return 2;
    }
    if (is_add && !role) {
        fprintf(stderr, _("%s: user add needs --role R\n"), tool);
        return 2;
    }
    if (is_add && !sj_role_find(roles, role)) {
        fprintf(stderr, _("%s: --role '%s' is not one of"), tool, role);
        for (const sj_role_t *r = roles; r->name; r++) {
            fprintf(stderr, " %s", r->name);
        }
        fprintf(stderr, "\n");
        return 2;
    }
    if (is_disable && password_file) {
        fprintf(stderr, _("%s: user disable takes no --password-file\n"), tool);
        return 2;
    }
    int rc;
    char detail[120];
    if (is_disable) {
        rc = sj_users_disable(db, name, err, sizeof err);
        snprintf(detail, sizeof detail, "%s", name);
    } else {
        char pw[SJ_PASSWORD_MAX + 8];
        int code = s_read_password(tool, password_file, pw, sizeof pw);
        if (code != 0) {
            return code;
        }
        rc = is_add ? sj_users_add(db, roles, name, role, unit, pw, err, sizeof err)
                    : sj_users_passwd(db, name, pw, err, sizeof err);
        sodium_memzero(pw, sizeof pw);
        if (is_add) {
            snprintf(detail, sizeof detail, "%s role=%s%s%s", name, role, unit ? " unit=" : "",
                     unit ? unit : "");
        } else {
            snprintf(detail, sizeof detail, "%s", name);
        }
    }
    char action[32];
    snprintf(action, sizeof action, "user-%s", sub);
    sj_audit_cli(db, action, detail, rc == SJ_OK);
    if (rc != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return rc == SJ_EINVAL || rc == SJ_ENOTFOUND ? 2 : 1;
    }
    fprintf(stderr, "%s: %s %s\n", tool,
            is_add      ? "账户已建立 / account added:"
            : is_passwd ? "密码已更改 / password changed (only its hash is stored):"
                        : "账户已停用 / account disabled:",
            name);
    return 0;
}

int
sj_audit_cli_list(const char *tool,
                  sqlite3 *db,
                  const char *who,
                  const char *from,
                  const char *to,
                  sj_format_t fmt)
{
    char err[300] = "";
    sj_table_t *t = NULL;
    int rc = sj_audit_table(db, who, from, to, 0, &t, err, sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return rc == SJ_EINVAL ? 2 : 1;
    }
    rc = sj_table_write(t, fmt, stdout);
    sj_table_destroy(&t);
    return rc == SJ_OK ? 0 : 1;
}
