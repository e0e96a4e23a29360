/* agent_link: the hub link's state as `run` sees it, kept in a small file
 * in the data directory (AGENT_LINK_FILE) for the desk's outbox page and
 * `village-agent status`, which run in other processes.
 *
 * `run` writes it (agent_link_note, every tick) only when something a
 * person sees changes: the state (connected, connecting, refused,
 * unreachable, no secure handshake, stopped) or the hub's reason, and
 * while connected at most once a minute to move the last contact on; so
 * a heartbeat is never a write. The file is replaced whole (a temporary
 * file renamed over it), so a reader sees the old or the new one.
 *
 * Whether `run` is running is not in the file: the reader asks the data
 * directory's daemon lock (sj_backup_locked), so a run that crashed is
 * "not running" at once. */
#ifndef AGENT_LINK_H
#define AGENT_LINK_H

#include <stdint.h>

#define AGENT_LINK_FILE       "link-state"
#define AGENT_LINK_REFRESH_MS 60000 /* while connected: the last contact moves on this often */

typedef enum {
    AGENT_LINK_NONE = 0,    /* no file: run never ran here (or before this version) */
    AGENT_LINK_CONNECTED,   /* the hub welcomed this station */
    AGENT_LINK_CONNECTING,  /* saying hello; no answer yet */
    AGENT_LINK_UNREACHABLE, /* nothing accepts connections at the hub's address */
    AGENT_LINK_HANDSHAKE,   /* something listens there, but no secure handshake (wrong key?) */
    AGENT_LINK_REFUSED,     /* the hub refused this station (its reason in error) */
    AGENT_LINK_STOPPED,     /* run stopped */
} agent_link_state_t;

typedef struct {
    agent_link_state_t state;
    int64_t since_ms;   /* wall clock: when this state began */
    int64_t contact_ms; /* wall clock: the last time the hub was heard (0: never) */
    char error[256];    /* the hub's or the link's words, English ("" when none) */
    /* filled by agent_link_read, not stored: */
    int running; /* `run` holds the data directory's daemon lock */
    long pid;    /* its pid (0: unknown) */
} agent_link_t;

/* What run keeps between ticks (zeroed before the first). */
typedef struct {
    agent_link_t last;  /* as last written */
    int64_t written_ms; /* wall clock of the last write (0: none) */
    int64_t contact_ms; /* last seen connected */
} agent_link_writer_t;

/* run, every tick: the uplink's state (sj_up_state_t) and last error;
 * writes the file when a person would see a change (see above). */
void agent_link_note(agent_link_writer_t *w, const char *data, int up_state, const char *error);
/* run, once when it stops. */
void agent_link_stopped(agent_link_writer_t *w, const char *data);
/* Reads the file (state NONE when there is none) and whether run runs. */
void agent_link_read(const char *data, agent_link_t *out);
/* The state in words: Chinese or English. */
const char *agent_link_words(agent_link_state_t state, int zh);

#endif
