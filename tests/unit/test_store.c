/* Do the stores refuse damaged or foreign files, migrate, and keep the chain? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sj_db.h"
#include "sj_ids.h"

static const sj_migration_t s_migs[] = {
    {1, "CREATE TABLE t(a INTEGER NOT NULL);"},
    {2, "ALTER TABLE t ADD COLUMN b TEXT;"},
};

static char *
s_tmpdir(void)
{
    char *d = strdup("/tmp/sanji-test-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void
s_rm(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int
s_page_size(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A new store gets the page size asked for (hub and county: 16 KiB, a
 * station: 4 KiB); an existing store keeps the one it was made with. */
static void
test_store_page_size(void **state)
{
    (void) state;
    char *dir = s_tmpdir();
    sqlite3 *db = NULL;
    char err[512] = "";
    assert_int_equal(
        sj_db_open(dir, "big.db", 0x1234, s_migs, 2, SJ_DB_WRITE, &db, err, sizeof err), SJ_OK);
    assert_int_equal(s_page_size(db), SJ_DB_PAGE_SIZE);
    sj_db_close(&db);
    assert_int_equal(sj_db_open_paged(dir, "small.db", 0x1234, s_migs, 2, SJ_DB_WRITE, 4096, &db,
                                      err, sizeof err),
                     SJ_OK);
    assert_int_equal(s_page_size(db), 4096);
    sj_db_close(&db);
    assert_int_equal(
        sj_db_open_paged(dir, "big.db", 0x1234, s_migs, 2, SJ_DB_WRITE, 4096, &db, err, sizeof err),
        SJ_OK);
    assert_int_equal(s_page_size(db), SJ_DB_PAGE_SIZE);
    sj_db_close(&db);
    s_rm(dir);
    free(dir);
}

static void
test_store_open_migrate_reopen(void **state)
{
    (void) state;
    char *dir = s_tmpdir();
    sqlite3 *db = NULL;
    char err[512] = "";
    assert_int_equal(sj_db_open(dir, "x.db", 0x1234, s_migs, 1, SJ_DB_WRITE, &db, err, sizeof err),
                     SJ_OK);
    assert_int_equal(sj_db_meta_set_int(db, "k", 42), SJ_OK);
    sj_db_close(&db);
    assert_null(db);
    /* a newer program migrates to version 2 and keeps the data */
    assert_int_equal(sj_db_open(dir, "x.db", 0x1234, s_migs, 2, SJ_DB_WRITE, &db, err, sizeof err),
                     SJ_OK);
    int64_t v = 0;
    assert_int_equal(sj_db_meta_get_int(db, "k", &v), SJ_OK);
    assert_int_equal(v, 42);
    assert_int_equal(sj_db_exec(db, "INSERT INTO t(a, b) VALUES(1, 'x')"), SJ_OK);
    assert_int_equal(sj_db_meta_get_int(db, "absent", &v), SJ_ENOTFOUND);
    sj_db_close(&db);
    /* an older program refuses the newer file */
    assert_int_equal(sj_db_open(dir, "x.db", 0x1234, s_migs, 1, SJ_DB_WRITE, &db, err, sizeof err),
                     SJ_EDB);
    assert_non_null(strstr(err, "newer"));
    /* another role's file is refused */
    assert_int_equal(sj_db_open(dir, "x.db", 0x9999, s_migs, 2, SJ_DB_WRITE, &db, err, sizeof err),
                     SJ_EDB);
    assert_non_null(strstr(err, "another"));
    s_rm(dir);
    free(dir);
}

static void
test_store_refuses_damaged(void **state)
{
    (void) state;
    char *dir = s_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/x.db", dir);
    sqlite3 *db = NULL;
    char err[512] = "";
    /* read mode never creates */
    assert_int_equal(sj_db_open(dir, "x.db", 1, s_migs, 2, SJ_DB_READ, &db, err, sizeof err),
                     SJ_ENOTFOUND);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(sj_db_open(dir, "x.db", 1, s_migs, 2, SJ_DB_WRITE, &db, err, sizeof err),
                     SJ_EDB);
    assert_non_null(strstr(err, "empty"));
    f = fopen(path, "w");
    fputs("this is not a database at all, just some text that is long enough", f);
    fclose(f);
    assert_int_equal(sj_db_open(dir, "x.db", 1, s_migs, 2, SJ_DB_WRITE, &db, err, sizeof err),
                     SJ_EDB);
    assert_non_null(strstr(err, "not an SQLite"));
    /* the damaged file was left as it was, never recreated */
    f = fopen(path, "r");
    char head[8] = {0};
    assert_int_equal(fread(head, 1, 7, f), 7);
    fclose(f);
    assert_string_equal(head, "this is");
    s_rm(dir);
    free(dir);
}

static void
test_store_concurrent_create(void **state)
{
    /* Two processes creating the same new store at once both succeed. */
    (void) state;
    for (int round = 0; round < 20; round++) {
        char *dir = s_tmpdir();
        char sub[600];
        snprintf(sub, sizeof sub, "%s/new", dir);
        pid_t kids[3];
        for (int k = 0; k < 3; k++) {
            kids[k] = fork();
            if (kids[k] == 0) {
                sqlite3 *db = NULL;
                char err[512] = "";
                int rc =
                    sj_db_open(sub, "x.db", 0x1234, s_migs, 2, SJ_DB_WRITE, &db, err, sizeof err);
                if (rc != SJ_OK) {
                    fprintf(stderr, "child: %s\n", err);
                }
                sj_db_close(&db);
                _exit(rc == SJ_OK ? 0 : 1);
            }
        }
        for (int k = 0; k < 3; k++) {
            int status = 0;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        s_rm(dir);
        free(dir);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_open_migrate_reopen),
        cmocka_unit_test(test_store_page_size),
        cmocka_unit_test(test_store_refuses_damaged),
        cmocka_unit_test(test_store_concurrent_create),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
