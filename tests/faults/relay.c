/* relay: a loopback TCP relay that misbehaves on command, for the link-fault
 * scenario (tests/faults/faults_link.c, docs/PROTOCOL.md "Testing the contract").
 *
 *   relay LISTEN_PORT TARGET_PORT CONTROL_FILE
 *
 * Listens on 127.0.0.1:LISTEN_PORT; each accepted connection gets its own
 * connection to 127.0.0.1:TARGET_PORT and bytes are copied both ways. The
 * first word of CONTROL_FILE (re-read when the file changes; write a new
 * file and rename it over, so the relay never sees half a word) sets the
 * mode:
 *
 *   pass       copy both ways (also when the file is missing or empty)
 *   stall      copy nothing, read nothing, accept nothing; every socket stays
 *              open, so the kernel buffers fill and the senders block
 *   reset      close every connection with SO_LINGER {1, 0} (an RST to both
 *              ends) and reset each new one at once
 *   blackhole  read and discard everything from both ends, forward nothing;
 *              a connection that was black-holed stays so for good (a byte
 *              stream with a hole in it cannot be resumed, and a real path
 *              that drops packets leaves half-open connections behind). When
 *              one end closes, the other is NOT told: it sees a silent peer
 *              until its own timeouts notice.
 *
 * Prints "ready" once listening and "mode NAME" after each change (stdout,
 * flushed), so a test can wait for the relay to obey. Stops on SIGTERM or
 * SIGINT. Single-threaded poll loop; at most MAX_PAIRS connections. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PAIRS 256
#define BUF_BYTES 65536
#define POLL_MS   10

typedef enum { M_PASS = 0, M_STALL, M_RESET, M_BLACKHOLE } s_mode_t;

static const char *const s_mode_names[] = {"pass", "stall", "reset", "blackhole"};

/* One direction of a pair: bytes read from `from`, not yet written to the other end. */
typedef struct {
    char buf[BUF_BYTES];
    size_t len;
} s_dir_t;

typedef struct {
    int fd[2];    /* 0: the accepted client, 1: the connection to the target; -1 closed */
    int stuck;    /* black-holed for good */
    s_dir_t d[2]; /* d[i]: read from fd[i], to be written to fd[1 - i] */
} s_pair_t;

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
}

static int
s_port(const char *text)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    return end && !*end && v > 0 && v < 65536 ? (int) v : -1;
}

static void
s_close_rst(int fd)
{
    if (fd < 0) {
        return;
    }
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

static void
s_pair_close(s_pair_t *p, int rst)
{
    for (int i = 0; i < 2; i++) {
        if (rst) {
            s_close_rst(p->fd[i]);
        } else if (p->fd[i] >= 0) {
            close(p->fd[i]);
        }
        p->fd[i] = -1;
    }
    p->d[0].len = p->d[1].len = 0;
    p->stuck = 0;
}

static int
s_pair_open(const s_pair_t *p)
{
    return p->fd[0] >= 0 || p->fd[1] >= 0;
}

/* Connects to the target (blocking: loopback answers at once, or refuses). */
static int
s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t) port);
    if (connect(fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Reads the control file when it changed; returns the mode to be in. */
static s_mode_t
s_read_mode(const char *path, s_mode_t cur, struct stat *seen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return cur;
    }
    if (st.st_ino == seen->st_ino && st.st_size == seen->st_size
        && st.st_mtim.tv_sec == seen->st_mtim.tv_sec
        && st.st_mtim.tv_nsec == seen->st_mtim.tv_nsec) {
        return cur;
    }
    *seen = st;
    FILE *f = fopen(path, "r");
    if (!f) {
        return cur;
    }
    char word[32] = "";
    int got = fscanf(f, "%31s", word);
    fclose(f);
    if (got != 1) {
        return M_PASS;
    }
    for (int m = 0; m < 4; m++) {
        if (strcmp(word, s_mode_names[m]) == 0) {
            return (s_mode_t) m;
        }
    }
    fprintf(stdout, "unknown mode '%s' ignored\n", word);
    fflush(stdout);
    return cur;
}

/* Moves bytes of one pair as far as the sockets allow. Returns -1 when the
 * pair is finished (closed). */
static int
s_pump(s_pair_t *p, const struct pollfd *pf0, const struct pollfd *pf1)
{
    const struct pollfd *pf[2] = {pf0, pf1};
    for (int i = 0; i < 2; i++) {
        int from = p->fd[i];
        if (from < 0 || !pf[i] || !(pf[i]->revents & (POLLIN | POLLHUP | POLLERR))) {
            continue;
        }
        s_dir_t *d = &p->d[i];
        char junk[BUF_BYTES];
        char *dst = p->stuck ? junk : d->buf + d->len;
        size_t room = p->stuck ? sizeof junk : sizeof d->buf - d->len;
        if (room == 0) {
            continue;
        }
        ssize_t n = read(from, dst, room);
        if (n > 0) {
            if (!p->stuck) {
                d->len += (size_t) n;
            }
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            /* One end went away. A working pair passes that on; a black-holed
             * one keeps the other end open and silent. */
            if (p->stuck) {
                close(p->fd[i]);
                p->fd[i] = -1;
            } else {
                s_pair_close(p, 0);
                return -1;
            }
        }
    }
    if (p->stuck) {
        return s_pair_open(p) ? 0 : -1;
    }
    for (int i = 0; i < 2; i++) {
        s_dir_t *d = &p->d[i];
        int to = p->fd[1 - i];
        if (d->len == 0 || to < 0) {
            continue;
        }
        ssize_t n = write(to, d->buf, d->len);
        if (n > 0) {
            memmove(d->buf, d->buf + n, d->len - (size_t) n);
            d->len -= (size_t) n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            s_pair_close(p, 0);
            return -1;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: relay LISTEN_PORT TARGET_PORT CONTROL_FILE\n");
        return 2;
    }
    int lport = s_port(argv[1]), tport = s_port(argv[2]);
    const char *control = argv[3];
    if (lport < 0 || tport < 0) {
        fprintf(stderr, "relay: ports must be 1..65535\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t) lport);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || bind(lfd, (struct sockaddr *) &a, sizeof a) != 0 || listen(lfd, 64) != 0) {
        fprintf(stderr, "relay: cannot listen on port %d: %s\n", lport, strerror(errno));
        return 1;
    }
    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);

    static s_pair_t pairs[MAX_PAIRS];
    for (int i = 0; i < MAX_PAIRS; i++) {
        pairs[i].fd[0] = pairs[i].fd[1] = -1;
    }
    struct stat seen;
    memset(&seen, 0, sizeof seen);
    s_mode_t mode = s_read_mode(control, M_PASS, &seen);
    printf("ready\nmode %s\n", s_mode_names[mode]);
    fflush(stdout);

    while (!s_stop) {
        s_mode_t want = s_read_mode(control, mode, &seen);
        if (want != mode) {
            mode = want;
            for (int i = 0; i < MAX_PAIRS; i++) {
                if (!s_pair_open(&pairs[i])) {
                    continue;
                }
                if (mode == M_RESET) {
                    s_pair_close(&pairs[i], 1);
                } else if (mode == M_BLACKHOLE) {
                    pairs[i].stuck = 1;
                    pairs[i].d[0].len = pairs[i].d[1].len = 0;
                }
            }
            printf("mode %s\n", s_mode_names[mode]);
            fflush(stdout);
        }

        struct pollfd pfd[1 + 2 * MAX_PAIRS];
        int owner[1 + 2 * MAX_PAIRS]; /* pair index * 2 + side */
        nfds_t n = 0;
        if (mode != M_STALL) {
            pfd[n].fd = lfd;
            pfd[n].events = POLLIN;
            owner[n++] = -1;
        }
        for (int i = 0; mode != M_STALL && i < MAX_PAIRS; i++) {
            s_pair_t *p = &pairs[i];
            for (int s = 0; s < 2; s++) {
                if (p->fd[s] < 0) {
                    continue;
                }
                short ev = 0;
                if (p->stuck || p->d[s].len < BUF_BYTES) {
                    ev |= POLLIN;
                }
                if (!p->stuck && p->d[1 - s].len > 0) {
                    ev |= POLLOUT;
                }
                pfd[n].fd = p->fd[s];
                pfd[n].events = ev;
                owner[n++] = i * 2 + s;
            }
        }
        int r = poll(pfd, n, POLL_MS);
        if (r < 0) {
            continue; /* EINTR */
        }
        if (n > 0 && owner[0] == -1 && (pfd[0].revents & POLLIN)) {
            int c;
            while ((c = accept(lfd, NULL, NULL)) >= 0) {
                if (mode == M_RESET) {
                    s_close_rst(c);
                    continue;
                }
                int slot = -1;
                for (int i = 0; i < MAX_PAIRS && slot < 0; i++) {
                    slot = s_pair_open(&pairs[i]) ? -1 : i;
                }
                if (slot < 0) {
                    s_close_rst(c);
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
                s_pair_t *p = &pairs[slot];
                p->d[0].len = p->d[1].len = 0;
                p->fd[0] = c;
                p->stuck = mode == M_BLACKHOLE;
                p->fd[1] = p->stuck ? -1 : s_connect(tport);
                if (!p->stuck && p->fd[1] < 0) {
                    s_close_rst(c); /* the target is down: so is the relay */
                    p->fd[0] = -1;
                }
            }
        }
        if (mode == M_STALL) {
            continue;
        }
        /* Collect each pair's two pollfds, then pump it once. */
        const struct pollfd *by_side[MAX_PAIRS][2];
        memset(by_side, 0, sizeof by_side);
        for (nfds_t k = 0; k < n; k++) {
            if (owner[k] >= 0) {
                by_side[owner[k] / 2][owner[k] % 2] = &pfd[k];
            }
        }
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (s_pair_open(&pairs[i]) && (by_side[i][0] || by_side[i][1])) {
                (void) s_pump(&pairs[i], by_side[i][0], by_side[i][1]);
            }
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++) {
        s_pair_close(&pairs[i], 0);
    }
    close(lfd);
    return 0;
}
