/* sj_users: the accounts of a node (county or township hub) and its audit
 * trail (issue 17 items 1 and 4), in the node's own database.
 *
 * Accounts: a name (1..32 of A-Z a-z 0-9 . _ -, starting with a letter or a
 * digit), a role from the tier's list (sj_role_t), for the role
 * "department" the department's code (unit), the password's hash
 * (libsodium crypto_pwhash_str: argon2id with its salt and costs; the
 * password itself is never stored or logged), disabled or not. An account
 * is never deleted (the audit names it): `user disable` ends it.
 *
 * The audit trail: one row per action, web or CLI: when, who (the account,
 * or for the CLI the OS user), via ("web" or "cli"), from where (the web
 * client's address, or the terminal), what (the action's name), its detail
 * and whether it was done. Append-only: triggers refuse UPDATE and DELETE.
 * Logins and failed logins are rows too. */
#ifndef SJ_USERS_H
#define SJ_USERS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"
#include "sj_table.h"

/* The tables, for a node's migration list (county 14, hub 9). */
#define SJ_USERS_SCHEMA                                                                      \
    "CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL, unit TEXT,"               \
    " pwhash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,"                            \
    " created_ms INTEGER NOT NULL, changed_ms INTEGER NOT NULL);"                            \
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, who TEXT NOT NULL," \
    " via TEXT NOT NULL, source TEXT NOT NULL, action TEXT NOT NULL,"                        \
    " detail TEXT NOT NULL DEFAULT '', ok INTEGER NOT NULL DEFAULT 1);"                      \
    "CREATE INDEX audit_who ON audit(who, at_ms);"                                           \
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"                            \
    " SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"                           \
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"                            \
    " SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"

#define SJ_USER_NAME_MAX 32  /* characters of an account name */
#define SJ_ROLE_MAX      16  /* bytes of a role name, NUL included */
#define SJ_UNIT_MAX      16  /* bytes of a department code, NUL included */
#define SJ_PASSWORD_MIN  8   /* characters of a password, at least */
#define SJ_PASSWORD_MAX  200 /* bytes of a password, at most */

/* A role: its name, its labels, and whether it may act (not read only). */
typedef struct {
    const char *name;
    const char *zh;
    const char *en;
} sj_role_t;

/* The tiers' roles, each list ended by {NULL}. */
extern const sj_role_t sj_roles_county[];
extern const sj_role_t sj_roles_township[];

/* The role of name in roles, or NULL. */
const sj_role_t *sj_role_find(const sj_role_t *roles, const char *name);

/* 1 when code is a county department's: 9 digits, the county's 6 then 9
 * and two digits (230523901): a township's place in the code tree, whose
 * 9xx no township uses, so that a department counts in every figure by
 * township as a township does. */
int sj_dept_code(const char *code);

/* Checks a name (see above): SJ_OK or SJ_EINVAL with the reason. */
SJ_NODISCARD int sj_user_name_check(const char *name, char *err, size_t err_size);

/* Adds an account (SJ_EINVAL: a bad name, role, unit or password; an
 * existing name). unit: the department's code for role "department"
 * (required there, refused elsewhere). */
SJ_NODISCARD int sj_users_add(sqlite3 *db,
                              const sj_role_t *roles,
                              const char *name,
                              const char *role,
                              const char *unit,
                              const char *password,
                              char *err,
                              size_t err_size);
/* A new password for an existing account (enabled or not). */
SJ_NODISCARD int
sj_users_passwd(sqlite3 *db, const char *name, const char *password, char *err, size_t err_size);
/* Disables an account (its sessions end at their next request). */
SJ_NODISCARD int sj_users_disable(sqlite3 *db, const char *name, char *err, size_t err_size);
/* The accounts: name, role, unit, state, created, changed. */
SJ_NODISCARD int sj_users_table(sqlite3 *db, sj_table_t **out, char *err, size_t err_size);
/* How many enabled accounts there are (0 on a store without the table). */
int sj_users_count(sqlite3 *db);
/* Checks name and password: SJ_OK with the role and unit copied (sizes
 * SJ_ROLE_MAX, SJ_UNIT_MAX); SJ_EFORBIDDEN for an unknown name, a wrong
 * password or a disabled account (the same time is spent on each). */
SJ_NODISCARD int
sj_users_verify(sqlite3 *db, const char *name, const char *password, char *role, char *unit);
/* The role and unit of an enabled account: SJ_OK, or SJ_ENOTFOUND. */
SJ_NODISCARD int sj_users_get(sqlite3 *db, const char *name, char *role, char *unit);

/* Appends an audit row. who, via, source, action: required; detail may be
 * NULL. ok: 1 done, 0 refused or failed. */
SJ_NODISCARD int sj_audit_add(sqlite3 *db,
                              const char *who,
                              const char *via,
                              const char *source,
                              const char *action,
                              const char *detail,
                              int ok);
/* The audit rows (oldest first), of one account or OS user when who is
 * given, from/to dates (YYYY-MM-DD, UTC, inclusive) when given; at most
 * limit rows (0: all). SJ_EINVAL for a bad date. */
SJ_NODISCARD int sj_audit_table(sqlite3 *db,
                                const char *who,
                                const char *from,
                                const char *to,
                                long limit,
                                sj_table_t **out,
                                char *err,
                                size_t err_size);

/* For the CLI: the OS user running the command (SUDO_USER when run through
 * sudo, as "root(alice)") and where from (the terminal, or "-"). */
void sj_audit_os_user(char *who, size_t who_size, char *source, size_t source_size);
/* Appends a CLI action's row (who and from: sj_audit_os_user); logs a
 * warning when it cannot be written. */
void sj_audit_cli(sqlite3 *db, const char *action, const char *detail, int ok);

/* The CLI commands of both tiers. tool: "county-server"; db: the node's
 * store, open for writing.
 *   user add NAME --role R [--unit CODE] [--password-file F]
 *   user passwd NAME [--password-file F]
 *   user disable NAME
 *   user list [--format F]
 * The password is read from password_file (its first line; the file must
 * not be readable by group or others) or else from standard input (without
 * echo on a terminal), never from the command line. Returns the exit
 * status (2: bad usage, with the reason on stderr). */
int sj_users_cli(const char *tool,
                 sqlite3 *db,
                 const sj_role_t *roles,
                 char *const *pos,
                 int npos,
                 const char *role,
                 const char *unit,
                 const char *password_file,
                 sj_format_t fmt);
/* audit [--user U] [--from D] [--to D] [--format F]. */
int sj_audit_cli_list(const char *tool,
                      sqlite3 *db,
                      const char *who,
                      const char *from,
                      const char *to,
                      sj_format_t fmt);

#endif
