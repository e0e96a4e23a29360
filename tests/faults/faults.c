/* faults: the tree, the stream of reports, the deliveries, the final check
 * and the relay control shared by the fault scenarios (see faults.h). */
#include "faults.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef RELAY_BIN
#error "RELAY_BIN comes from tests/faults/CMakeLists.txt"
#endif

#define LOOP_MS      20 /* poll interval of the loops here */
#define SYNC_EVERY   1000
#define SYNC_TIMEOUT 60

/* ---- run form, seed, PRNG ---- */

int
f_long(void)
{
    const char *v = getenv("SANJI_FAULTS_LONG");
    return v && strcmp(v, "1") == 0;
}

uint64_t
f_seed(const char *name)
{
    const char *v = getenv("SANJI_FAULTS_SEED");
    uint64_t seed = 0;
    if (v && *v) {
        seed = strtoull(v, NULL, 10);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t) ts.tv_sec * 1000000007u) ^ (uint64_t) ts.tv_nsec ^ (uint64_t) getpid();
        seed %= 1000000000000ull; /* short enough to type */
    }
    fprintf(stderr, "# %s: seed %" PRIu64 " (SANJI_FAULTS_SEED=%" PRIu64 " replays it), %s form\n",
            name, seed, seed, f_long() ? "long" : "short");
    return seed;
}

uint32_t
f_rand(uint64_t *state)
{
    /* splitmix64 (Steele, Lea, Flood 2014), as in java.util.SplittableRandom. */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t) ((z ^ (z >> 31)) >> 32);
}

int
f_rand_range(uint64_t *state, int lo, int hi)
{
    return lo + (int) (f_rand(state) % (uint32_t) (hi - lo + 1));
}

/* ---- the tree ---- */

void
f_tree_declare(h_env_t *env, f_tree_t *t, size_t n_hubs, size_t st_per_hub)
{
    static const char *const hubs[F_MAX_HUBS] = {F_T100, F_T101};
    assert_true(n_hubs >= 1 && n_hubs <= F_MAX_HUBS && n_hubs * st_per_hub <= F_MAX_STATIONS);
    memset(t, 0, sizeof *t);
    t->env = env;
    t->county = h_county(env);
    assert_non_null(t->county);
    for (size_t h = 0; h < n_hubs; h++) {
        t->hub[h] = h_hub(env, hubs[h], t->county);
        assert_non_null(t->hub[h]);
        for (size_t s = 0; s < st_per_hub; s++) {
            char code[16];
            snprintf(code, sizeof code, "%s%03zu", hubs[h], 201 + s);
            h_node_t *st = h_station(env, code, t->hub[h]);
            assert_non_null(st);
            assert_true(st->enrolled);
            t->st[t->n_st++] = st;
        }
    }
    t->n_hubs = n_hubs;
}

void
f_tree_start(f_tree_t *t)
{
    assert_int_equal(h_start_county(t->county), 0);
    for (size_t h = 0; h < t->n_hubs; h++) {
        assert_int_equal(h_start_hub(t->hub[h]), 0);
    }
}

void
f_route_via(f_tree_t *t, h_node_t *child, const char *endpoint)
{
    assert_true(t->n_via < sizeof t->via / sizeof t->via[0]);
    h_node_t *v = &t->via[t->n_via++];
    *v = *child->parent;
    snprintf(v->endpoint, sizeof v->endpoint, "%s", endpoint);
    child->parent = v;
}

void
f_restart(h_node_t *node)
{
    int rc = node->role == H_COUNTY ? h_start_county(node) : h_start_hub(node);
    if (rc != 0) {
        fail_msg("%s did not come back after a restart", node->data);
    }
}

void
f_stations_import(f_tree_t *t, size_t n_each, uint32_t seed)
{
    for (size_t i = 0; i < t->n_st; i++) {
        assert_int_equal(h_import(t->st[i], n_each, seed + (uint32_t) i), 0);
        t->made[i] += (long long) n_each;
    }
}

/* ---- delivery at the stations ---- */

void
f_deliver_start(f_tree_t *t, size_t i)
{
    if (t->use_sync[i]) {
        t->del[i] = h_sync_spawn(t->st[i], SYNC_TIMEOUT);
        t->sync_at[i] = h_now_ms();
    } else {
        const char *args[] = {"run", NULL};
        t->del[i] = h_agent_spawn(t->st[i], args);
    }
    assert_non_null(t->del[i]);
}

void
f_deliver_step(f_tree_t *t)
{
    for (size_t i = 0; i < t->n_st; i++) {
        h_proc_t *p = t->del[i];
        if (!p || h_proc_running(p)) {
            continue;
        }
        int code = h_proc_wait(p, 0);
        if (!t->use_sync[i] || (code != 0 && code != 1)) {
            fprintf(stderr, "# %s of %s ended by itself with %d; stderr:\n", p->name,
                    t->st[i]->code, code);
            h_print_tail(p->err_path, 30);
            fail_msg("station %s: delivery process ended with %d", t->st[i]->code, code);
        }
        if (h_now_ms() - t->sync_at[i] >= SYNC_EVERY) {
            f_deliver_start(t, i);
        }
    }
}

int
f_deliver_kill(f_tree_t *t, size_t i)
{
    h_proc_t *p = t->del[i];
    if (!p || !h_proc_running(p)) {
        return 0;
    }
    h_proc_kill(p, SIGKILL);
    f_deliver_start(t, i);
    return 1;
}

void
f_deliver_stop(f_tree_t *t)
{
    for (size_t i = 0; i < t->n_st; i++) {
        h_proc_t *p = t->del[i];
        if (!p) {
            continue;
        }
        int code = h_proc_kill(p, SIGTERM);
        if (code != 0 && !(t->use_sync[i] && code == 1)) {
            h_print_tail(p->err_path, 30);
            fail_msg("station %s: %s exited %d on SIGTERM", t->st[i]->code, p->name, code);
        }
        t->del[i] = NULL;
    }
}

/* ---- the stream of reports ---- */

void
f_producer_init(f_producer_t *p, f_tree_t *t, long long total, size_t chunk, int64_t span_ms)
{
    memset(p, 0, sizeof *p);
    p->t = t;
    p->total = total;
    p->chunk = chunk ? chunk : 100;
    p->span_ms = span_ms;
    p->t0_ms = h_now_ms();
}

/* The import file of import number `no`. */
static void
s_import_path(const f_producer_t *p, uint32_t no, char *out, size_t size)
{
    snprintf(out, size, "%s/stream-%u.jsonl", h_env_dir(p->t->env), no);
}

void
f_producer_step(f_producer_t *p)
{
    f_tree_t *t = p->t;
    if (p->proc) {
        if (h_proc_running(p->proc)) {
            return;
        }
        int code = h_proc_wait(p->proc, 0);
        char *out = h_read_file(p->proc->out_path);
        unsigned long long got = out ? strtoull(out, NULL, 10) : 0;
        free(out);
        if (code != 0 || got != p->proc_n) {
            fprintf(stderr, "# import of %zu at %s: exit %d, stored %llu; stderr:\n", p->proc_n,
                    t->st[p->proc_st]->code, code, got);
            h_print_tail(p->proc->err_path, 20);
            fail_msg("an import at station %s failed", t->st[p->proc_st]->code);
        }
        char path[H_PATH + 64];
        s_import_path(p, p->files, path, sizeof path);
        unlink(path);
        t->made[p->proc_st] += (long long) p->proc_n;
        p->done += (long long) p->proc_n;
        p->proc = NULL;
    }
    if (p->paused || p->done >= p->total) {
        return;
    }
    if (p->span_ms > 0) {
        int64_t elapsed = h_now_ms() - p->t0_ms;
        long long due = (long long) ((double) p->total * (double) elapsed / (double) p->span_ms);
        if (p->done >= due + (long long) p->chunk) {
            return;
        }
    }
    size_t n = p->chunk;
    if ((long long) n > p->total - p->done) {
        n = (size_t) (p->total - p->done);
    }
    size_t st = p->next_st;
    p->next_st = (p->next_st + 1) % t->n_st;
    p->files++;
    char path[H_PATH + 64];
    s_import_path(p, p->files, path, sizeof path);
    assert_int_equal(h_write_jsonl(path, n, 7919u * p->files, t->st[st]->code), 0);
    const char *args[] = {"import", "--wait", "0", path, NULL};
    p->proc = h_agent_spawn(t->st[st], args);
    assert_non_null(p->proc);
    p->proc_st = st;
    p->proc_n = n;
}

int
f_producer_done(const f_producer_t *p)
{
    return p->done >= p->total && !p->proc;
}

void
f_producer_finish(f_producer_t *p, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    p->paused = 0;
    while (!f_producer_done(p)) {
        if (h_now_ms() > deadline) {
            fail_msg("the stream of reports did not finish: %lld of %lld made", p->done, p->total);
        }
        f_producer_step(p);
        f_deliver_step(p->t);
        h_sleep_ms(LOOP_MS);
    }
}

/* ---- the end ---- */

long long
f_made(const f_tree_t *t)
{
    long long n = 0;
    for (size_t i = 0; i < t->n_st; i++) {
        n += t->made[i];
    }
    return n;
}

long long
f_wait_county(f_tree_t *t, int timeout_ms)
{
    long long want = f_made(t), got = -1;
    int64_t t0 = h_now_ms(), deadline = t0 + timeout_ms;
    for (;;) {
        got = h_db_scalar(t->county, "SELECT count(*) FROM events");
        if (got == want || h_now_ms() > deadline) {
            break;
        }
        f_deliver_step(t);
        h_sleep_ms(LOOP_MS * 5);
    }
    fprintf(stderr, "# county holds %lld of %lld reports (waited %lld ms)\n", got, want,
            (long long) (h_now_ms() - t0));
    return got;
}

int
f_integrity(const h_node_t *node, char *why, size_t why_size)
{
    char path[H_PATH + 32];
    h_db_path(node, path, sizeof path);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, why_size, "%s: cannot run integrity_check: %s", path,
                 db ? sqlite3_errmsg(db) : "no memory");
    } else if (sqlite3_step(st) != SQLITE_ROW) {
        snprintf(why, why_size, "%s: integrity_check failed: %s", path, sqlite3_errmsg(db));
    } else {
        const char *r = (const char *) sqlite3_column_text(st, 0);
        ok = r && strcmp(r, "ok") == 0;
        if (!ok) {
            snprintf(why, why_size, "%s: integrity_check: %s", path, r ? r : "(null)");
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok ? 0 : -1;
}

/* One integer from sql on db; -1 on error. */
static long long
s_scalar(sqlite3 *db, const char *sql, const char *bind_text)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (bind_text) {
            sqlite3_bind_text(st, 1, bind_text, -1, SQLITE_STATIC);
        }
        if (sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    return v;
}

/* Station i's outbox and the county, id by id: nothing missing, nothing extra. */
static void
s_check_ids(const f_tree_t *t, size_t i)
{
    char cpath[H_PATH + 32], spath[H_PATH + 32], uri[H_PATH + 64];
    h_db_path(t->county, cpath, sizeof cpath);
    h_db_path(t->st[i], spath, sizeof spath);
    snprintf(uri, sizeof uri, "file:%s?mode=ro", spath);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(cpath, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "ATTACH ?1 AS st", -1, &st, NULL);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        fail_msg("cannot compare %s with the county: %s", t->st[i]->code, msg);
    }
    long long missing = s_scalar(db,
                                 "SELECT count(*) FROM st.outbox o WHERE NOT EXISTS"
                                 " (SELECT 1 FROM main.events e WHERE e.id = o.id)",
                                 NULL);
    long long extra = s_scalar(db,
                               "SELECT count(*) FROM main.events e WHERE e.origin = ?1 AND NOT"
                               " EXISTS (SELECT 1 FROM st.outbox o WHERE o.id = e.id)",
                               t->st[i]->code);
    sqlite3_close(db);
    if (missing != 0 || extra != 0) {
        fail_msg("station %s: %lld of its reports missing at the county, %lld there that it"
                 " never made",
                 t->st[i]->code, missing, extra);
    }
}

void
f_check_all(f_tree_t *t)
{
    char why[600] = "";
    /* Every tier stops cleanly; then nothing writes while we read. */
    f_deliver_stop(t);
    for (size_t h = 0; h < t->n_hubs; h++) {
        if (t->hub[h]->proc) {
            assert_int_equal(h_stop(t->hub[h], SIGTERM), 0);
        }
    }
    if (t->county->proc) {
        assert_int_equal(h_stop(t->county, SIGTERM), 0);
    }
    const h_node_t *all[1 + F_MAX_HUBS + F_MAX_STATIONS];
    size_t n_all = 0;
    all[n_all++] = t->county;
    for (size_t h = 0; h < t->n_hubs; h++) {
        all[n_all++] = t->hub[h];
    }
    for (size_t i = 0; i < t->n_st; i++) {
        all[n_all++] = t->st[i];
    }
    for (size_t k = 0; k < n_all; k++) {
        if (f_integrity(all[k], why, sizeof why) != 0) {
            fail_msg("%s", why);
        }
    }
    h_expect_t exp[F_MAX_STATIONS];
    for (size_t i = 0; i < t->n_st; i++) {
        long long outbox = h_db_scalar(t->st[i], "SELECT count(*) FROM outbox");
        if (outbox != t->made[i]) {
            fail_msg("station %s holds %lld reports; %lld were imported", t->st[i]->code, outbox,
                     t->made[i]);
        }
        assert_int_equal(h_db_scalar(t->st[i], "SELECT count(*) FROM rejected"), 0);
        exp[i] = (h_expect_t){t->st[i]->code, t->made[i], 1};
    }
    if (h_check_exactly_once(t->county, exp, t->n_st, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
    for (size_t i = 0; i < t->n_st; i++) {
        s_check_ids(t, i);
    }
    for (size_t h = 0; h < t->n_hubs; h++) {
        long long want = 0;
        for (size_t i = 0; i < t->n_st; i++) {
            want += strncmp(t->st[i]->code, t->hub[h]->code, 9) == 0 ? t->made[i] : 0;
        }
        assert_int_equal(h_db_scalar(t->hub[h], "SELECT count(*) FROM events"), want);
        assert_int_equal(h_db_scalar(t->hub[h], "SELECT count(DISTINCT origin || hex(epoch) ||"
                                                " '/' || origin_seq) FROM events"),
                         want);
        assert_int_equal(h_db_scalar(t->hub[h], "SELECT count(*) FROM quarantine"), 0);
    }
    assert_int_equal(h_db_scalar(t->county, "SELECT count(*) FROM quarantine"), 0);
    char *argv[] = {(char *) COUNTY_BIN, "verify", "--data", t->county->data, NULL};
    h_result_t r;
    int code = h_run(t->env, "verify", argv, &r, h_ms(120000));
    if (code != 0) {
        fprintf(stderr, "# verify:\n%s%s", r.out, r.err);
        h_result_free(&r);
        fail_msg("county-server verify exited %d", code);
    }
    h_result_free(&r);
    fprintf(stderr,
            "# checked: %lld reports from %zu stations at the county exactly once;"
            " verify ok; integrity ok at %zu databases\n",
            f_made(t), t->n_st, n_all);
}

/* ---- the counts ---- */

long long
f_env_size(const char *name, long long def)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        return def;
    }
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || x < 1) {
        fail_msg("%s must be a whole number >= 1, not '%s'", name, v);
    }
    return x;
}

void
f_tally(const f_tree_t *t, f_tally_t *out)
{
    memset(out, 0, sizeof *out);
    char cpath[H_PATH + 32], spath[H_PATH + 32], uri[H_PATH + 64];
    h_db_path(t->county, cpath, sizeof cpath);
    for (size_t i = 0; i < t->n_st; i++) {
        h_db_path(t->st[i], spath, sizeof spath);
        snprintf(uri, sizeof uri, "file:%s?mode=ro", spath);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_open_v2(cpath, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_busy_timeout(db, 10000);
            rc = sqlite3_prepare_v2(db, "ATTACH ?1 AS st", -1, &st, NULL);
        }
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        sqlite3_finalize(st);
        long long made = -1, once = -1, rows = -1;
        if (rc == SQLITE_OK) {
            made = s_scalar(db, "SELECT count(*) FROM st.outbox", NULL);
            once = s_scalar(db,
                            "SELECT count(*) FROM st.outbox o WHERE EXISTS"
                            " (SELECT 1 FROM main.events e WHERE e.id = o.id)",
                            NULL);
            rows =
                s_scalar(db, "SELECT count(*) FROM main.events WHERE origin = ?1", t->st[i]->code);
        }
        sqlite3_close(db);
        if (made < 0 || once < 0 || rows < 0) {
            fail_msg("cannot count %s's reports at the county", t->st[i]->code);
        }
        out->produced += made;
        out->once += once;
        out->extra += rows - once;
    }
    out->lost = out->produced - out->once;
}

void
f_report(const char *scenario, const f_tally_t *c, const char *extra_json)
{
    fprintf(stderr,
            "# counts: produced %lld, at the county once %lld, lost %lld, duplicated or extra"
            " %lld\n",
            c->produced, c->once, c->lost, c->extra);
    const char *path = getenv("SANJI_FAULTS_JSON");
    if (!path || !*path) {
        return;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fail_msg("cannot write %s", path);
    }
    fprintf(f,
            "{\"system\": \"sanji\", \"scenario\": \"%s\", \"produced\": %lld,"
            " \"at_county_once\": %lld, \"lost\": %lld, \"duplicated\": %lld%s%s}\n",
            scenario, c->produced, c->once, c->lost, c->extra,
            extra_json && *extra_json ? ", " : "", extra_json ? extra_json : "");
    if (fclose(f) != 0) {
        fail_msg("cannot write %s", path);
    }
}

/* ---- the relay ---- */

void
f_relay_start(h_env_t *env, f_relay_t *r, const char *name, int target_port)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->port = h_free_port();
    assert_true(r->port > 0);
    snprintf(r->endpoint, sizeof r->endpoint, "tcp://127.0.0.1:%d", r->port);
    snprintf(r->control, sizeof r->control, "%s/%s.mode", h_env_dir(env), name);
    snprintf(r->mode, sizeof r->mode, "pass");
    FILE *f = fopen(r->control, "w");
    assert_non_null(f);
    fputs("pass\n", f);
    assert_int_equal(fclose(f), 0);
    char lport[16], tport[16];
    snprintf(lport, sizeof lport, "%d", r->port);
    snprintf(tport, sizeof tport, "%d", target_port);
    char *argv[] = {(char *) RELAY_BIN, lport, tport, r->control, NULL};
    r->proc = h_spawn(env, name, argv, 1);
    assert_non_null(r->proc);
    assert_int_equal(h_wait_ready(r->proc, h_ms(60000)), 0);
}

void
f_relay_mode(f_relay_t *r, const char *mode)
{
    if (strcmp(r->mode, mode) == 0) {
        return;
    }
    char line[32], tmp[H_PATH + 8];
    snprintf(line, sizeof line, "mode %s\n", mode);
    int before = h_log_count(r->proc, line);
    snprintf(tmp, sizeof tmp, "%s.new", r->control);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", mode);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, r->control), 0);
    int64_t deadline = h_now_ms() + h_ms(5000);
    while (h_log_count(r->proc, line) <= before) {
        if (h_now_ms() > deadline || !h_proc_running(r->proc)) {
            h_print_tail(r->proc->out_path, 10);
            fail_msg("relay %s did not switch to %s", r->name, mode);
        }
        h_sleep_ms(5);
    }
    snprintf(r->mode, sizeof r->mode, "%s", mode);
    fprintf(stderr, "# relay %s: %s\n", r->name, mode);
}
