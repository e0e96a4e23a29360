/* Does sj_log write what journald reads when stderr is the journal, and the
 * timestamped line everywhere else (common/sj_log.h)? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sj_log.h"

/* Points stderr at a fresh temp file; returns the saved stderr. */
static int
s_stderr_to(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/sj-test-log-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
    return saved;
}

/* Restores stderr and returns what was written (caller frees). */
static char *
s_stderr_back(int saved, const char *path)
{
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    return strdup(buf);
}

static void
s_set_stream_env(int fd, long ino_delta)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char v[64];
    snprintf(v, sizeof v, "%llu:%llu", (unsigned long long) st.st_dev,
             (unsigned long long) st.st_ino + (unsigned long long) ino_delta);
    assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

static void
test_log_journal_priorities(void **state)
{
    (void) state;
    char path[64];
    int saved = s_stderr_to(path, sizeof path);
    s_set_stream_env(STDERR_FILENO, 0);
    assert_int_equal(sj_log_journal_detect(), 1);
    sj_log_set_ident("county-server", "c1");
    sj_log_set_level(SJ_LOG_DEBUG);
    sj_error("e %d", 1);
    sj_warn("w");
    sj_notice("n");
    sj_info("i");
    sj_debug("d");
    char *out = s_stderr_back(saved, path);
    assert_string_equal(out, "<3>ERROR  county-server/c1 e 1\n"
                             "<4>WARN   county-server/c1 w\n"
                             "<5>NOTICE county-server/c1 n\n"
                             "<6>INFO   county-server/c1 i\n"
                             "<7>DEBUG  county-server/c1 d\n");
    free(out);
    unsetenv("JOURNAL_STREAM");
}

static void
test_log_terminal_keeps_time(void **state)
{
    (void) state;
    char path[64];
    /* No JOURNAL_STREAM: as before, a UTC time first. */
    unsetenv("JOURNAL_STREAM");
    int saved = s_stderr_to(path, sizeof path);
    assert_int_equal(sj_log_journal_detect(), 0);
    sj_log_set_ident("township-hub", NULL);
    sj_log_set_level(SJ_LOG_NOTICE);
    sj_warn("plain");
    char *out = s_stderr_back(saved, path);
    assert_int_equal(strlen(out), strlen("2026-01-01T00:00:00.000Z WARN   township-hub plain\n"));
    assert_true(out[4] == '-' && out[10] == 'T' && out[23] == 'Z');
    assert_string_equal(out + 24, " WARN   township-hub plain\n");
    free(out);
}

static void
test_log_inherited_stream_ignored(void **state)
{
    (void) state;
    char path[64];
    /* JOURNAL_STREAM inherited by a child whose stderr was redirected (the
     * inode differs): not the journal. A malformed value: not either. */
    int saved = s_stderr_to(path, sizeof path);
    s_set_stream_env(STDERR_FILENO, 1);
    assert_int_equal(sj_log_journal_detect(), 0);
    setenv("JOURNAL_STREAM", "garbage", 1);
    assert_int_equal(sj_log_journal_detect(), 0);
    s_set_stream_env(STDERR_FILENO, 0);
    assert_int_equal(sj_log_journal_detect(), 1);
    char *out = s_stderr_back(saved, path);
    free(out);
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(sj_log_journal_detect(), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_journal_priorities),
        cmocka_unit_test(test_log_terminal_keeps_time),
        cmocka_unit_test(test_log_inherited_stream_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
