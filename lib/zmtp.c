/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ZMTP 3.0 for one DEALER connection: the greeting, the NULL, PLAIN and
 * CURVE handshakes, frames (each a CurveZMQ MESSAGE box under CURVE), and
 * the answer to the peer's PING.  Every length the peer sends is checked
 * before it is used; every wait has a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/localsock.h"
#include "lib/zmtp.h"

enum {
    F_MORE = 1,
    F_LONG = 2,
    F_COMMAND = 4,
    MAX_COMMAND = 8192, /* handshake commands are small */
};

struct zmtp {
    int fd;
    const struct zmtp_security *sec;
    enum zmtp_mechanism mech; /* sec's, or NULL taken by accept_null */
    unsigned char *in;        /* bytes read and not yet taken */
    size_t have, start, cap;
    unsigned char *msg; /* the frames of the message zmtp_recv returned, */
    size_t msg_len, msg_cap;
    bool partial;       /* or of one still coming in (a deadline cut it) */
    unsigned char *out; /* frames not yet sent: one write a message */
    size_t out_len, out_cap;
    /* CURVE */
    unsigned char cn_public[32], cn_secret[32], cn_server[32], cn_cookie[96];
    unsigned char precom[crypto_box_BEFORENMBYTES];
    uint64_t cn_nonce, peer_nonce;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* What is left of a deadline, for poll: -1 for none. */
static int left(double deadline)
{
    if (deadline < 0)
        return -1;
    double l = deadline - now_ms();
    return l <= 0 ? 0 : (int)l + 1;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int write_all(struct zmtp *z, const void *buf, size_t len,
                     double deadline, struct kiln_error *err)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = send(z->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return errprintf(err, "cannot send to the server: %s",
                             strerror(errno));
        struct pollfd pf = { z->fd, POLLOUT, 0 };
        int r = poll(&pf, 1, left(deadline));
        if (r == 0)
            return errprintf(err, "the server took nothing for too long");
        if (r < 0 && errno != EINTR)
            return errprintf(err, "poll: %s", strerror(errno));
    }
    return 0;
}

/* Read more from the socket: 1, 0 when the deadline passed, -1 with err
 * set when the connection ended or failed. */
static int read_more(struct zmtp *z, double deadline, struct kiln_error *err)
{
    if (z->start > 0 && z->start == z->have)
        z->start = z->have = 0;
    if (z->have == z->cap) {
        if (z->start > 0) {
            if (z->have > z->start) /* (no buffer yet at the first) */
                memmove(z->in, z->in + z->start, z->have - z->start);
            z->have -= z->start;
            z->start = 0;
        } else {
            size_t cap = z->cap ? z->cap * 2 : 65536;
            unsigned char *grown = realloc(z->in, cap);
            if (!grown)
                return errprintf(err, "out of memory");
            z->in = grown;
            z->cap = cap;
        }
    }
    for (;;) {
        ssize_t n = recv(z->fd, z->in + z->have, z->cap - z->have, 0);
        if (n > 0) {
            z->have += (size_t)n;
            return 1;
        }
        if (n == 0)
            return errprintf(err, "the server closed the connection");
        if (errno != EAGAIN && errno != EINTR)
            return errprintf(err, "cannot read from the server: %s",
                             strerror(errno));
        struct pollfd pf = { z->fd, POLLIN, 0 };
        int r = poll(&pf, 1, left(deadline));
        if (r == 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return errprintf(err, "poll: %s", strerror(errno));
    }
}

/* Make sure len bytes are buffered: 1, 0 at the deadline, -1 on error. */
static int need(struct zmtp *z, size_t len, double deadline,
                struct kiln_error *err)
{
    while (z->have - z->start < len) {
        /* Room for a whole frame: grow once rather than read in pieces. */
        if (z->cap - z->start < len) {
            if (z->have > z->start) /* (no buffer yet at the first) */
                memmove(z->in, z->in + z->start, z->have - z->start);
            z->have -= z->start;
            z->start = 0;
            if (z->cap < len) {
                unsigned char *grown = realloc(z->in, len);
                if (!grown)
                    return errprintf(err, "out of memory");
                z->in = grown;
                z->cap = len;
            }
        }
        int r = read_more(z, deadline, err);
        if (r <= 0)
            return r;
    }
    return 1;
}

/* The next frame: 1 with its flags, body and length (valid until the next
 * read), 0 at the deadline, -1 on error.  Frames above max are refused
 * before they are read. */
static int read_frame(struct zmtp *z, int *flags, const unsigned char **body,
                      size_t *len, size_t max, double deadline,
                      struct kiln_error *err)
{
    int r;

    if ((r = need(z, 2, deadline, err)) <= 0)
        return r;
    const unsigned char *p = z->in + z->start;
    size_t head = p[0] & F_LONG ? 9 : 2;
    if (p[0] & ~(F_MORE | F_LONG | F_COMMAND))
        return errprintf(err, "the server broke the protocol (frame flags %#x)",
                         p[0]);
    if ((r = need(z, head, deadline, err)) <= 0)
        return r;
    p = z->in + z->start;
    uint64_t size = head == 9 ? get64(p + 1) : p[1];
    if (size > max)
        return errprintf(err,
                         "the server sent a frame of %llu bytes, above "
                         "the limit of %zu",
                         (unsigned long long)size, max);
    if ((r = need(z, head + (size_t)size, deadline, err)) <= 0)
        return r;
    p = z->in + z->start;
    *flags = p[0];
    *body = p + head;
    *len = (size_t)size;
    z->start += head + (size_t)size;
    return 1;
}

/* Append a frame of a then b to what goes out with the next flush. */
static int send_frame(struct zmtp *z, int flags, const void *a, size_t alen,
                      const void *b, size_t blen, struct kiln_error *err)
{
    size_t len = alen + blen, need = z->out_len + 9 + len;
    unsigned char *p;

    if (need > z->out_cap) {
        size_t cap = need * 2;
        unsigned char *grown = realloc(z->out, cap);
        if (!grown)
            return errprintf(err, "out of memory");
        z->out = grown;
        z->out_cap = cap;
    }
    p = z->out + z->out_len;
    *p = (unsigned char)flags;
    if (len > 255) {
        *p++ |= F_LONG;
        put64(p, len);
        p += 8;
    } else {
        p[1] = (unsigned char)len;
        p += 2;
    }
    if (alen) /* an empty frame may come without a buffer */
        memcpy(p, a, alen);
    if (blen)
        memcpy(p + alen, b, blen);
    z->out_len = (size_t)(p - z->out) + len;
    return 0;
}

/* Send what send_frame gathered, in one write. */
static int flush(struct zmtp *z, double deadline, struct kiln_error *err)
{
    int rc = write_all(z, z->out, z->out_len, deadline, err);

    z->out_len = 0;
    return rc;
}

/* Socket-Type DEALER, as ZMTP metadata: a name of 1-255 bytes after its
 * length, and a value after its 4-byte length. */
static size_t metadata(unsigned char *out)
{
    static const char name[] = "Socket-Type", value[] = "DEALER";
    size_t n = 0;

    out[n++] = sizeof(name) - 1;
    memcpy(out + n, name, sizeof(name) - 1);
    n += sizeof(name) - 1;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = sizeof(value) - 1;
    memcpy(out + n, value, sizeof(value) - 1);
    return n + sizeof(value) - 1;
}

/* A handshake command from the server, named name: its data, or an
 * ERROR's reason in err. */
static int read_command(struct zmtp *z, const char *name,
                        const unsigned char **data, size_t *len,
                        double deadline, struct kiln_error *err)
{
    const unsigned char *body;
    size_t blen, nl = strlen(name);
    int flags,
        r = read_frame(z, &flags, &body, &blen, MAX_COMMAND, deadline, err);

    if (r == 0)
        return errprintf(err, "the server did not finish the handshake");
    if (r < 0)
        return -1;
    if (!(flags & F_COMMAND) || blen < 1 || body[0] >= blen)
        return errprintf(err, "the server broke the handshake");
    if (body[0] == 5 && !memcmp(body + 1, "ERROR", 5)) {
        size_t rl = blen > 6 ? body[6] : 0;
        if (rl > blen - 7)
            rl = blen - 7;
        return errprintf(err, "the server refused the handshake: %.*s", (int)rl,
                         (const char *)body + 7);
    }
    if (body[0] != nl || memcmp(body + 1, name, nl))
        return errprintf(err, "the server broke the handshake (%.*s for %s)",
                         (int)body[0], (const char *)body + 1, name);
    *data = body + 1 + nl;
    *len = blen - 1 - nl;
    return 0;
}

static int send_command(struct zmtp *z, const char *name, const void *data,
                        size_t len, double deadline, struct kiln_error *err)
{
    unsigned char head[16];
    size_t nl = strlen(name);

    head[0] = (unsigned char)nl;
    memcpy(head + 1, name, nl);
    return send_frame(z, F_COMMAND, head, nl + 1, data, len, err) < 0
               ? -1
               : flush(z, deadline, err);
}

static const char *mechanism_name(enum zmtp_mechanism m)
{
    return m == ZMTP_CURVE ? "CURVE" : m == ZMTP_PLAIN ? "PLAIN" : "NULL";
}

/* The greeting, in two steps as libzmq takes it: the signature and the
 * major version, which make the server send all of its greeting, then the
 * rest of ours once its mechanism is known to match (a server whose
 * mechanism is not ours closes the connection as soon as it reads ours). */
static int greet(struct zmtp *z, double deadline, struct kiln_error *err)
{
    unsigned char g[64] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0 };
    const char *mech = mechanism_name(z->mech);

    if (write_all(z, g, 11, deadline, err) < 0)
        return -1;
    int r = need(z, 64, deadline, err);
    if (r <= 0)
        return r < 0 ? -1 : errprintf(err, "the server did not greet in time");
    const unsigned char *p = z->in + z->start;
    if (p[0] != 0xff || !(p[9] & 1) || p[10] < 3)
        return errprintf(err, "the peer is no ZeroMQ 3 server");
    char theirs[21] = "";
    memcpy(theirs, p + 12, 20);
    z->start += 64;
    if (strcmp(theirs, mech) && z->sec->accept_null && !strcmp(theirs, "NULL"))
        mech = mechanism_name(z->mech = ZMTP_NULL);
    if (strcmp(theirs, mech)) {
        errprintf(err, "the server speaks %s and this client %s: %s", theirs,
                  mech,
                  !strcmp(theirs, "CURVE")
                      ? "this host has no server.pub for it"
                      : "this host has a server.pub, and the server "
                        "runs without CURVE (--auth none?)");
        return -2;
    }
    memcpy(g + 12, mech, strlen(mech));
    return write_all(z, g + 11, sizeof(g) - 11, deadline, err);
}

static int handshake_null(struct zmtp *z, double deadline,
                          struct kiln_error *err)
{
    unsigned char md[64];
    const unsigned char *data;
    size_t len;

    if (send_command(z, "READY", md, metadata(md), deadline, err) < 0)
        return -1;
    return read_command(z, "READY", &data, &len, deadline, err);
}

static int handshake_plain(struct zmtp *z, double deadline,
                           struct kiln_error *err)
{
    unsigned char hello[512], md[64];
    const unsigned char *data;
    size_t ul = strlen(z->sec->user), pl = strlen(z->sec->password), len;

    if (ul > 255 || pl > 255)
        return errprintf(err, "PLAIN user or password above 255 bytes");
    hello[0] = (unsigned char)ul;
    memcpy(hello + 1, z->sec->user, ul);
    hello[1 + ul] = (unsigned char)pl;
    memcpy(hello + 2 + ul, z->sec->password, pl);
    if (send_command(z, "HELLO", hello, 2 + ul + pl, deadline, err) < 0
        || read_command(z, "WELCOME", &data, &len, deadline, err) < 0
        || send_command(z, "INITIATE", md, metadata(md), deadline, err) < 0)
        return -1;
    return read_command(z, "READY", &data, &len, deadline, err);
}

/* A CurveZMQ nonce: a 16-byte prefix and an 8-byte counter, or a 8-byte
 * prefix and 16 bytes the peer chose. */
static void nonce(unsigned char n[24], const char *prefix, const void *rest,
                  size_t restlen)
{
    size_t pl = 24 - restlen;
    memcpy(n, prefix, pl);
    memcpy(n + pl, rest, restlen);
}

static int handshake_curve(struct zmtp *z, double deadline,
                           struct kiln_error *err)
{
    unsigned char hello[194] = { 1, 0 }, n[24], shortn[8], zeros[64] = { 0 };
    const unsigned char *data;
    size_t len;

    /* HELLO: version, padding, C', and Box[64 zeros](C'->S). */
    crypto_box_keypair(z->cn_public, z->cn_secret);
    memcpy(hello + 74, z->cn_public, 32);
    put64(shortn, z->cn_nonce);
    memcpy(hello + 106, shortn, 8);
    nonce(n, "CurveZMQHELLO---", shortn, 8);
    if (crypto_box_easy(hello + 114, zeros, 64, n, z->sec->server_key,
                        z->cn_secret)
        != 0)
        return errprintf(err, "CURVE: cannot make HELLO");
    z->cn_nonce++;
    if (send_command(z, "HELLO", hello, sizeof(hello), deadline, err) < 0
        || read_command(z, "WELCOME", &data, &len, deadline, err) < 0)
        return -1;
    /* WELCOME: Box[S' + cookie](S->C'), which only the server can make. */
    unsigned char welcome[128];
    if (len != 16 + 144)
        return errprintf(err, "the server broke the handshake (WELCOME)");
    nonce(n, "WELCOME-", data, 16);
    if (crypto_box_open_easy(welcome, data + 16, 144, n, z->sec->server_key,
                             z->cn_secret)
        != 0)
        return errprintf(err, "the server's WELCOME is not from the key in "
                              "server.pub (is it this server's?)");
    memcpy(z->cn_server, welcome, 32);
    memcpy(z->cn_cookie, welcome + 32, 96);
    if (crypto_box_beforenm(z->precom, z->cn_server, z->cn_secret) != 0)
        return errprintf(err, "CURVE: bad server key");
    /* INITIATE: cookie, and Box[C + vouch + metadata](C'->S'), where the
     * vouch, Box[C',S](C->S'), binds this client's key to this session. */
    unsigned char vouch_n[16], vouch_plain[64], vouch[80];
    unsigned char plain[128 + 64], initiate[96 + 8 + 16 + sizeof(plain)];
    randombytes_buf(vouch_n, sizeof(vouch_n));
    memcpy(vouch_plain, z->cn_public, 32);
    memcpy(vouch_plain + 32, z->sec->server_key, 32);
    nonce(n, "VOUCH---", vouch_n, 16);
    if (crypto_box_easy(vouch, vouch_plain, 64, n, z->cn_server,
                        z->sec->secret_key)
        != 0)
        return errprintf(err, "CURVE: cannot make the vouch");
    memcpy(plain, z->sec->public_key, 32);
    memcpy(plain + 32, vouch_n, 16);
    memcpy(plain + 48, vouch, 80);
    size_t plen = 128 + metadata(plain + 128);
    memcpy(initiate, z->cn_cookie, 96);
    put64(shortn, z->cn_nonce);
    memcpy(initiate + 96, shortn, 8);
    nonce(n, "CurveZMQINITIATE", shortn, 8);
    crypto_box_easy_afternm(initiate + 104, plain, plen, n, z->precom);
    z->cn_nonce++;
    if (send_command(z, "INITIATE", initiate, 104 + 16 + plen, deadline, err)
            < 0
        || read_command(z, "READY", &data, &len, deadline, err) < 0)
        return -1;
    /* READY: Box[metadata](S'->C'). */
    unsigned char md[MAX_COMMAND];
    if (len < 8 + 16 || len - 8 - 16 > sizeof(md))
        return errprintf(err, "the server broke the handshake (READY)");
    nonce(n, "CurveZMQREADY---", data, 8);
    if (crypto_box_open_easy_afternm(md, data + 8, len - 8, n, z->precom) != 0)
        return errprintf(err, "the server's READY does not open");
    z->peer_nonce = get64(data);
    return 0;
}

/* host:port, [v6]:port, or ipc://path, connected without blocking. */
static int open_socket(const char *endpoint, double deadline, bool once,
                       struct kiln_error *err)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    char host[256], *colon;
    int fd = -1;

    if (!strncmp(endpoint, "ipc://", 6)) {
        if (strlen(endpoint + 6) >= sizeof(un.sun_path))
            return errprintf(err, "socket path too long: %s", endpoint);
        strcpy(un.sun_path, endpoint + 6);
    } else if (!strncmp(endpoint, "tcp://", 6)
               && strlen(endpoint + 6) < sizeof(host)
               && (colon = strrchr(strcpy(host, endpoint + 6), ':'))) {
        *colon = '\0';
        char *h = host;
        if (h[0] == '[' && colon[-1] == ']') {
            h++;
            colon[-1] = '\0';
        }
        int rc = getaddrinfo(h, colon + 1, &hints, &ai);
        if (rc != 0)
            return errprintf(err, "cannot resolve %s: %s", endpoint,
                             gai_strerror(rc));
    } else {
        return errprintf(err,
                         "invalid server address '%s': want "
                         "tcp://HOST:PORT or ipc://PATH",
                         endpoint);
    }
    for (;;) {
        const struct sockaddr *sa = ai ? ai->ai_addr : (struct sockaddr *)&un;
        socklen_t salen = ai ? ai->ai_addrlen : sizeof(un);
        fd = socket(ai ? ai->ai_family : AF_UNIX,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        if (connect(fd, sa, salen) == 0)
            goto connected;
        if (errno == EINPROGRESS) {
            struct pollfd pf = { fd, POLLOUT, 0 };
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            if (poll(&pf, 1, left(deadline)) == 1
                && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0
                && soerr == 0)
                goto connected;
            errno = soerr ? soerr : ETIMEDOUT;
        }
        int saved = errno;
        close(fd);
        fd = -1;
        errno = saved;
        /* Not listening (yet): again in 100 ms, as libzmq would. */
        if ((errno != ECONNREFUSED && errno != ENOENT) || left(deadline) < 100
            || once)
            break;
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    errprintf(err, "cannot connect to %s: %s", endpoint, strerror(errno));
    freeaddrinfo(ai);
    return -1;
connected:
    freeaddrinfo(ai);
    if (!strncmp(endpoint, "tcp://", 6))
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
    return fd;
}

struct zmtp *zmtp_connect(const char *endpoint, const struct zmtp_security *sec,
                          int timeout_ms, struct kiln_error *err)
{
    double deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    struct zmtp *z = calloc(1, sizeof(*z));
    int rc = -1, stage = EHOSTUNREACH;

    if (!z) {
        errprintf(err, "out of memory");
        return NULL;
    }
    z->fd = -1;
    z->sec = sec;
    z->mech = sec->mechanism;
    z->cn_nonce = 1;
    if (sodium_init() < 0) {
        errprintf(err, "cannot start libsodium");
        goto out;
    }
    if ((z->fd = open_socket(endpoint, deadline, sec->once, err)) < 0)
        goto out;
    /* Not a byte to a UNIX socket that another user could have put in
     * the server's place (a token, a job's script). */
    if (!strncmp(endpoint, "ipc://", 6)
        && localsock_check_server(endpoint + 6, z->fd, err) < 0) {
        stage = EPERM;
        goto out;
    }
    if ((rc = greet(z, deadline, err)) < 0) {
        if (rc == -2)
            stage = EPROTONOSUPPORT;
        goto out;
    }
    stage = EACCES;
    rc = z->mech == ZMTP_CURVE   ? handshake_curve(z, deadline, err)
         : z->mech == ZMTP_PLAIN ? handshake_plain(z, deadline, err)
                                 : handshake_null(z, deadline, err);
out:
    if (rc < 0) {
        zmtp_close(z);
        errno = stage;
        return NULL;
    }
    return z;
}

/* One frame of a message, boxed when the connection speaks CURVE. */
static int send_data(struct zmtp *z, int more, int command, const void *data,
                     size_t len, double deadline, struct kiln_error *err)
{
    if (z->mech != ZMTP_CURVE)
        return send_frame(z, (more ? F_MORE : 0) | (command ? F_COMMAND : 0),
                          data, len, NULL, 0, err);
    unsigned char *box = malloc(16 + 8 + 16 + 1 + len),
                  *plain = malloc(1 + len);
    unsigned char n[24];
    int rc = -1;

    if (!box || !plain) {
        errprintf(err, "out of memory");
        goto out;
    }
    plain[0] = (unsigned char)((more ? 1 : 0) | (command ? 2 : 0));
    if (len)
        memcpy(plain + 1, data, len);
    memcpy(box, "\x07MESSAGE", 8);
    put64(box + 8, z->cn_nonce);
    nonce(n, "CurveZMQMESSAGEC", box + 8, 8);
    crypto_box_easy_afternm(box + 16, plain, 1 + len, n, z->precom);
    z->cn_nonce++;
    rc = send_frame(z, 0, box, 16 + 16 + 1 + len, NULL, 0, err);
out:
    free(box);
    free(plain);
    return rc;
}

int zmtp_send(struct zmtp *z, const struct proto_frame *fr, int n,
              int timeout_ms, struct kiln_error *err)
{
    double deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

    for (int i = 0; i < n; i++)
        if (send_data(z, i + 1 < n, 0, fr[i].data, fr[i].len, deadline, err)
            < 0)
            return -1;
    return flush(z, deadline, err);
}

/* The peer's PING (ZMTP 3.1): PONG with its context. */
static int on_command(struct zmtp *z, const unsigned char *c, size_t len,
                      double deadline, struct kiln_error *err)
{
    if (len >= 7 && c[0] == 4 && !memcmp(c + 1, "PING", 4)) {
        unsigned char pong[5 + 16] = "\x04PONG";
        size_t ctx = len - 7 > 16 ? 16 : len - 7;
        memcpy(pong + 5, c + 7, ctx);
        return send_data(z, 0, 1, pong, 5 + ctx, deadline, err) < 0
                   ? -1
                   : flush(z, deadline, err);
    }
    return 0; /* PONG and the rest need nothing */
}

static int keep(struct zmtp *z, const unsigned char *data, size_t len,
                size_t max_bytes, struct kiln_error *err)
{
    if (z->msg_len + len > max_bytes + 1024)
        return errprintf(err,
                         "the server's message is above the limit of "
                         "%zu bytes",
                         max_bytes);
    if (z->msg_len + sizeof(size_t) + len > z->msg_cap) {
        size_t cap = (z->msg_len + sizeof(size_t) + len) * 2;
        unsigned char *grown = realloc(z->msg, cap);
        if (!grown)
            return errprintf(err, "out of memory");
        z->msg = grown;
        z->msg_cap = cap;
    }
    memcpy(z->msg + z->msg_len, &len, sizeof(len));
    memcpy(z->msg + z->msg_len + sizeof(len), data, len);
    z->msg_len += sizeof(len) + len;
    return 0;
}

int zmtp_recv(struct zmtp *z, struct proto_frame *fr, int max, int *n,
              size_t max_bytes, int timeout_ms, struct kiln_error *err)
{
    double deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    size_t frame_max = max_bytes + 64;
    bool more = true;

    if (!z->partial)
        z->msg_len = 0;
    z->partial = true; /* until its last frame is in */
    while (more) {
        const unsigned char *body;
        size_t len;
        int flags;
        int r = read_frame(z, &flags, &body, &len, frame_max, deadline, err);
        if (r <= 0)
            return r; /* the frames so far stay, for the next call */
        if (z->mech != ZMTP_CURVE) {
            if (flags & F_COMMAND) {
                if (on_command(z, body, len, deadline, err) < 0)
                    return -1;
                continue;
            }
            if (keep(z, body, len, max_bytes, err) < 0)
                return -1;
            more = flags & F_MORE;
            continue;
        }
        /* CURVE: each frame a MESSAGE box, its nonce above the last. */
        unsigned char n24[24];
        if (len < 8 + 8 + 16 + 1 || memcmp(body, "\x07MESSAGE", 8))
            return errprintf(err, "the server broke the protocol (no MESSAGE)");
        uint64_t nn = get64(body + 8);
        if (nn <= z->peer_nonce)
            return errprintf(err, "the server repeated a nonce");
        nonce(n24, "CurveZMQMESSAGES", body + 8, 8);
        unsigned char *plain = malloc(len - 32);
        if (!plain)
            return errprintf(err, "out of memory");
        if (crypto_box_open_easy_afternm(plain, body + 16, len - 16, n24,
                                         z->precom)
            != 0) {
            free(plain);
            return errprintf(err, "a message from the server does not open");
        }
        z->peer_nonce = nn;
        int rc = plain[0] & 2
                     ? on_command(z, plain + 1, len - 33, deadline, err)
                     : keep(z, plain + 1, len - 33, max_bytes, err);
        if (!(plain[0] & 2))
            more = plain[0] & 1;
        free(plain);
        if (rc < 0)
            return -1;
    }
    z->partial = false;
    /* The frames, from z->msg. */
    int k = 0;
    for (size_t off = 0; off < z->msg_len; k++) {
        size_t len;
        memcpy(&len, z->msg + off, sizeof(len));
        if (k < max)
            fr[k] = (struct proto_frame){ z->msg + off + sizeof(len), len };
        off += sizeof(len) + len;
    }
    *n = k;
    return 1;
}

int zmtp_fd(const struct zmtp *z)
{
    return z->fd;
}

enum zmtp_mechanism zmtp_mechanism(const struct zmtp *z)
{
    return z->mech;
}

bool zmtp_buffered(struct zmtp *z)
{
    size_t got = z->have - z->start;
    const unsigned char *p = z->in + z->start;

    if (got < 2 || (p[0] & F_LONG && got < 9))
        return false;
    uint64_t size = p[0] & F_LONG ? get64(p + 1) : p[1];
    return size <= got - (p[0] & F_LONG ? 9 : 2);
}

void zmtp_close(struct zmtp *z)
{
    if (!z)
        return;
    if (z->fd >= 0)
        close(z->fd);
    sodium_memzero(z->cn_secret, sizeof(z->cn_secret));
    sodium_memzero(z->precom, sizeof(z->precom));
    free(z->in);
    free(z->msg);
    free(z->out);
    free(z);
}
