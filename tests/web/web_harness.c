/* web_harness: see web_harness.h. */
#include "web_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static int64_t
s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
web_server_start(web_server_t *s, char *const *argv)
{
    memset(s, 0, sizeof *s);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    s->pid = pid;
    char line[256];
    size_t n = 0;
    int64_t deadline = s_mono_ms() + WEB_READY_MS;
    while (n < sizeof line - 1) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int left = (int) (deadline - s_mono_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            break;
        }
        ssize_t got = read(fds[0], line + n, 1);
        if (got <= 0) {
            break;
        }
        if (line[n] == '\n') {
            break;
        }
        n++;
    }
    line[n] = '\0';
    close(fds[0]); /* the server writes nothing more to stdout */
    unsigned long port = 0;
    const char *colon = strrchr(line, ':');
    char *end = NULL;
    if (colon) {
        port = strtoul(colon + 1, &end, 10);
    }
    if (strncmp(line, "ready http://", 13) != 0 || !colon || !end || *end != '/' || port == 0
        || port > 65535) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("%s did not get ready: '%s'", argv[0], line);
    }
    s->port = (uint16_t) port;
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%lu/", port);
}

void
web_server_stop(web_server_t *s)
{
    if (s->pid <= 0) {
        return;
    }
    kill(s->pid, SIGTERM);
    int status = 0;
    int64_t deadline = s_mono_ms() + 5000;
    pid_t got;
    while ((got = waitpid(s->pid, &status, WNOHANG)) == 0 && s_mono_ms() < deadline) {
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
    if (got == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        s->pid = 0;
        fail_msg("the server did not stop on SIGTERM");
    }
    s->pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int
web_request(
    uint16_t port, const char *method, const char *target, const char *headers, web_resp_t *r)
{
    return web_request_body(port, method, target, headers, NULL, r);
}

int
web_request_body(uint16_t port,
                 const char *method,
                 const char *target,
                 const char *headers,
                 const char *body,
                 web_resp_t *r)
{
    memset(r, 0, sizeof *r);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[16384];
    char length[64] = "";
    if (body) {
        snprintf(length, sizeof length, "Content-Length: %zu\r\n", strlen(body));
    }
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s%s\r\n%s",
                     method, target, port, length, headers ? headers : "", body ? body : "");
    assert_true(n > 0 && (size_t) n < sizeof req);
    assert_int_equal(write(fd, req, (size_t) n), n);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (len + 4096 > cap) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            assert_non_null(grown);
            buf = grown;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        len += (size_t) got;
    }
    close(fd);
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    char *code_end = NULL;
    long code =
        strncmp(buf, "HTTP/1.", 7) == 0 && buf[8] == ' ' ? strtol(buf + 9, &code_end, 10) : 0;
    r->status = (int) code;
    if (!end || !code_end || *code_end != ' ' || code < 100 || code > 599) {
        free(buf);
        return -1;
    }
    *end = '\0';
    r->headers = buf;
    r->body_len = len - (size_t) (end + 4 - buf);
    r->body = malloc(r->body_len + 1);
    assert_non_null(r->body);
    memcpy(r->body, end + 4, r->body_len);
    r->body[r->body_len] = '\0';
    return 0;
}

int
web_header(const web_resp_t *r, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *line = strstr(r->headers, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ') {
                h++;
            }
            const char *e = strstr(h, "\r\n");
            size_t len = e ? (size_t) (e - h) : strlen(h);
            snprintf(out, size, "%.*s", (int) len, h);
            return 1;
        }
    }
    return 0;
}

void
web_resp_free(web_resp_t *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

char *
web_run(char *const *argv, int *status)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDERR_FILENO);
        }
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t got;
    while ((got = read(fds[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t) got;
        if (len + 4096 > cap) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            assert_non_null(grown);
            buf = grown;
        }
    }
    close(fds[0]);
    buf[len] = '\0';
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return buf;
}

void
web_user_add(
    const char *bin, const char *dir, const char *name, const char *role, const char *password)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "printf '%%s\\n' '%s' | '%s' --data '%s' user add %s --role %s >/dev/null 2>&1",
             password, bin, dir, name, role);
    int st = system(cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fail_msg("user add %s --role %s was refused", name, role);
    }
}
