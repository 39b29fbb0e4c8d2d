/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rawsend ENDPOINT [--size N] [--sign] [--ttl N] [--delay S] [--twice]
 * FRAME...: send the frames as one message from a DEALER and print the answer's frames, for tests of
 * what a daemon does with malformed, oversized or replayed input.
 *   --size N   adds a frame of N bytes of 'x'
 *   --sign     adds a MUNGE credential frame for the frames "" TYPE BODY,
 *              as kiln does
 *   --ttl N    signs, with a credential that lives N seconds
 *   --delay S  waits S seconds between signing and sending
 *   --twice    sends the same message again (a replay) and prints both
 *              answers, separated by "--"
 *   --id RID   connects with this routing id
 *   --key FILE connects with this CURVE key pair (a worker's), not a new one
 *   --listen S prints the frames of whatever comes in S seconds, instead
 *              of one answer
 * With KILN_KEYS set to a folder with the server's server.pub, it speaks
 * CURVE to the server, as kiln does.
 * Exits 0 when every answer came within 3 s, 1 otherwise. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include <munge.h>

#include "lib/auth.h"
#include "lib/keys.h"
#include "lib/zsock.h"

static int answer(void *s)
{
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    int more = 1;

    if (zmq_poll(&it, 1, 3000) != 1)
        return 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, s, 0);
        printf("%.*s\n", (int)zmq_msg_size(&m), (char *)zmq_msg_data(&m));
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return 0;
}

int main(int argc, char **argv)
{
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, rc = 0, nframes = 0;
    const char *frames[64];
    size_t sizes[64];
    char *big = NULL, *cred = NULL;
    bool sign = false, twice = false;
    int ttl = 0, delay = 0;

    if (argc < 3) {
        fprintf(
            stderr,
            "usage: rawsend ENDPOINT [--size N] [--sign] [--ttl N] [--delay S] "
            "[--twice] FRAME...\n");
        return 2;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    /* Options that shape the connection come first. */
    const char *own_key = NULL;
    int listen_s = 0;
    for (int i = 2; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--id"))
            zmq_setsockopt(s, ZMQ_ROUTING_ID, argv[i + 1], strlen(argv[i + 1]));
        else if (!strcmp(argv[i], "--key"))
            own_key = argv[i + 1];
        else if (!strcmp(argv[i], "--listen"))
            listen_s = atoi(argv[i + 1]);
    }
    struct kiln_error kerr;
    struct curve_key own;
    if (own_key && keys_read(own_key, true, &own, &kerr) < 0) {
        fprintf(stderr, "rawsend: %s\n", kerr.text);
        return 2;
    }
    if (getenv("KILN_KEYS")
        && zsock_client_keys(s, getenv("KILN_KEYS"), own_key ? &own : NULL,
                             &kerr)
               < 0) {
        fprintf(stderr, "rawsend: %s\n", kerr.text);
        return 2;
    }
    if (zmq_connect(s, argv[1]) < 0)
        return 2;
    for (int i = 2; i < argc && nframes < 63; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            size_t n = strtoul(argv[++i], NULL, 10);
            big = malloc(n);
            memset(big, 'x', n);
            frames[nframes] = big;
            sizes[nframes++] = n;
        } else if (!strcmp(argv[i], "--sign")) {
            sign = true;
        } else if (!strcmp(argv[i], "--ttl") && i + 1 < argc) {
            sign = true;
            ttl = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--delay") && i + 1 < argc) {
            delay = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--twice")) {
            twice = true;
        } else if ((!strcmp(argv[i], "--id") || !strcmp(argv[i], "--key")
                    || !strcmp(argv[i], "--listen"))
                   && i + 1 < argc) {
            i++; /* taken above */
        } else {
            frames[nframes] = argv[i];
            sizes[nframes++] = strlen(argv[i]);
        }
    }
    if (sign && nframes >= 3) {
        unsigned char digest[AUTH_DIGEST_LEN];
        struct kiln_error err;
        auth_digest(frames[1], frames[2], sizes[2], digest);
        if (ttl > 0) {
            munge_ctx_t c = munge_ctx_create();
            munge_ctx_set(c, MUNGE_OPT_TTL, ttl);
            if (munge_encode(&cred, c, digest, AUTH_DIGEST_LEN)
                != EMUNGE_SUCCESS)
                cred = NULL;
            munge_ctx_destroy(c);
            snprintf(err.text, sizeof(err.text), "munge_encode failed");
        } else {
            cred = auth_sign(digest, &err);
        }
        if (!cred) {
            fprintf(stderr, "rawsend: %s\n", err.text);
            return 2;
        }
        frames[nframes] = cred;
        sizes[nframes++] = strlen(cred);
    }
    if (delay > 0)
        sleep((unsigned)delay);
    for (int round = 0; round < (twice ? 2 : 1); round++) {
        if (round)
            printf("--\n");
        for (int i = 0; i < nframes; i++)
            zmq_send(s, frames[i], sizes[i], i + 1 < nframes ? ZMQ_SNDMORE : 0);
        if (!listen_s)
            rc |= answer(s);
    }
    /* --listen S: print the type of every message that comes in S s. */
    for (double end = listen_s; listen_s && end > 0; end -= 0.1) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) >= 0) {
            int more = zmq_msg_more(&m);
            if (zmq_msg_size(&m))
                printf("got %.*s\n",
                       (int)(zmq_msg_size(&m) < 64 ? zmq_msg_size(&m) : 64),
                       (char *)zmq_msg_data(&m));
            if (!more)
                printf("--\n");
        }
        zmq_msg_close(&m);
        fflush(stdout);
        usleep(100000);
    }
    free(cred);
    free(big);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}
