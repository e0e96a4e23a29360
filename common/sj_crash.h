/* sj_crash: deterministic crash points for the fault tests (tests/faults/,
 * docs/PROTOCOL.md "Testing the contract").
 *
 * SANJI_CRASH_AT=<name>[:N] in a binary's environment makes it _exit(137)
 * (no flush, no cleanup: as abrupt as kill -9, but at a chosen place) the
 * N-th time it reaches sj_crash_point(name); N defaults to 1. The variable
 * is read once, at the first call; unset or empty, every call is one load
 * and one compare. A malformed value is reported on stderr and disarms the
 * hook, so a test that expects the crash fails instead of passing vacuously.
 *
 * The points (each named once, where it is called):
 *   after-commit-before-ack   sj_downlink: a group is committed, no reply sent
 *   after-store-before-ack    sj_downlink: the same, for a group that stored new
 *                             events (the N-th such group: a crash that always
 *                             falls mid-stream, whatever the machine's speed)
 *   after-ack-before-record   sj_uplink: an ack arrived, the store not told
 *   after-forward-before-ack  sj_uplink: a batch was handed to libzmq, its
 *                             ack not yet in (a hub's forward, or a station's)
 *   after-down-apply-before-ack sj_uplink: a downward batch is applied and its
 *                             cursor committed, the DownAck not yet sent
 *   after-down-send           sj_downlink: a downward batch was handed to
 *                             libzmq (not yet applied by the child)
 *
 * Not thread-safe: call from the thread that owns the link. */
#ifndef SJ_CRASH_H
#define SJ_CRASH_H

#define SJ_CRASH_ENV       "SANJI_CRASH_AT"
#define SJ_CRASH_EXIT_CODE 137

/* Exits the process with SJ_CRASH_EXIT_CODE, after one stderr line naming
 * the point, when SANJI_CRASH_AT names `name` and this is its N-th call;
 * returns otherwise. name is borrowed; NULL is ignored. */
void sj_crash_point(const char *name);

#endif
