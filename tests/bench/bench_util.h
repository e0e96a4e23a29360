/* bench_util: what the benchmark programs share: clocks, child processes
 * (spawn, wait for "ready", stop with their CPU time), /proc sampling of a
 * running daemon (RSS, peak RSS, CPU), free loopback ports, temporary
 * directories, and the raw SQLite baseline. Not part of any daemon. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Monotonic seconds. */
double bu_now_s(void);
/* Wall-clock milliseconds (CLOCK_REALTIME, the clock sj_now_ms uses). */
int64_t bu_wall_ms(void);
void bu_sleep_ms(long ms);

/* A TCP port on 127.0.0.1 nobody listens on now (the kernel's pick), not
 * one of the n in avoid. 0 on failure. */
int bu_free_port(const int *avoid, int n);
/* 1 once something accepts TCP connections on 127.0.0.1:port. */
int bu_port_open(int port);

/* Starts argv[0] with stdout/stderr going to the named files (NULL:
 * /dev/null) and stdin from /dev/null. The pid, or -1. */
pid_t bu_spawn(char *const argv[], const char *out_path, const char *err_path);
/* Runs argv to completion; its exit status, or -1. */
int bu_run(char *const argv[], const char *out_path, const char *err_path);
/* Starts a sanji daemon (argv) with stdout in dir/name.out and stderr in
 * dir/name.log and waits up to timeout_ms for "ready" on its stdout. The pid,
 * or -1 after a message (the child is then reaped). */
pid_t bu_start_daemon(char *const argv[], const char *dir, const char *name, int timeout_ms);
/* SIGTERM, then waits (SIGKILL after 10 s); fills ru when not NULL. The exit
 * status (128 + signal when killed), or -1. */
int bu_stop(pid_t pid, struct rusage *ru);
/* user + system seconds of a reaped child's rusage. */
double bu_ru_cpu_s(const struct rusage *ru);

/* From /proc/PID/status: VmRSS and VmHWM in KiB. -1 when unreadable. */
int bu_proc_mem(pid_t pid, long *rss_kb, long *hwm_kb);
/* From /proc/stat: busy CPU seconds of the whole machine so far (all CPUs:
 * user, nice, system, irq, softirq, steal), or -1. The busy time of other
 * programs during a run is its difference minus what the run's own
 * processes used. */
double bu_sys_busy_s(void);
/* From /proc/PID/io: bytes the process caused to be written to / read
 * from storage (write_bytes, read_bytes), or -1. */
long long bu_proc_io_write(pid_t pid);
/* From /proc/PID/stat: user + system CPU seconds so far, or -1. */
double bu_proc_cpu_s(pid_t pid);

/* A sampler of peak VmRSS of up to 16 processes (a thread, every period_ms). */
typedef struct bu_sampler bu_sampler_t;
bu_sampler_t *bu_sampler_start(const pid_t *pids, int n, int period_ms);
/* Stops it; peak_kb[i] gets the highest VmRSS seen of pids[i]. */
void bu_sampler_stop(bu_sampler_t **self_p, long *peak_kb);

/* A new directory $TMPDIR/sanji-bench-TAG.XXXXXX (or /tmp); a static buffer
 * per call is not kept: the caller's buf (size >= 256) is filled. NULL on
 * failure. */
char *bu_mkdtemp(const char *tag, char *buf, size_t size);
/* rm -rf dir (through /bin/rm). */
void bu_rm_rf(const char *dir);
/* mkdir -p of path's parent directory. */
void bu_mkdir_parent(const char *path);

/* Raw SQLite limit: rows 16-byte time-ordered key + payload_bytes payload
 * into a fresh WAL + synchronous=FULL database at path, txn_rows rows per
 * transaction, one prepared statement. Rows per second, or < 0 on failure. */
double bu_sqlite_baseline(const char *path, long rows, int payload_bytes, long txn_rows);

/* v as 8 big-endian bytes at p, and back (message numbers on the wire). */
void bu_put64(uint8_t *p, uint64_t v);
uint64_t bu_get64(const uint8_t *p);

/* Percentile p (0..100) of n sorted values (nearest rank). */
double bu_percentile(const double *sorted, size_t n, double p);
int bu_cmp_double(const void *a, const void *b);

/* The JSON string of s (quotes added) into out; s must be ASCII or UTF-8. */
void bu_json_str(FILE *f, const char *s);

#endif
