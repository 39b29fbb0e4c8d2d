/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rawsend ENDPOINT [--size N] FRAME...: send the frames as one message from
 * a DEALER and print the answer's frames, for tests of what a daemon does
 * with malformed or oversized input.  --size N adds a frame of N bytes of
 * 'x'.  Exits 0 when an answer came within 3 s, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int main(int argc, char **argv)
{
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, rc = 1, nframes = 0;
    const char *frames[64];
    size_t sizes[64];
    char *big = NULL;

    if (argc < 3) {
        fprintf(stderr, "usage: rawsend ENDPOINT [--size N] FRAME...\n");
        return 2;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_connect(s, argv[1]) < 0)
        return 2;
    for (int i = 2; i < argc && nframes < 64; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            size_t n = strtoul(argv[++i], NULL, 10);
            big = malloc(n);
            memset(big, 'x', n);
            frames[nframes] = big;
            sizes[nframes++] = n;
        } else {
            frames[nframes] = argv[i];
            sizes[nframes++] = strlen(argv[i]);
        }
    }
    for (int i = 0; i < nframes; i++)
        zmq_send(s, frames[i], sizes[i], i + 1 < nframes ? ZMQ_SNDMORE : 0);
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&it, 1, 3000) == 1) {
        int more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            zmq_msg_recv(&m, s, 0);
            printf("%.*s\n", (int)zmq_msg_size(&m), (char *)zmq_msg_data(&m));
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        rc = 0;
    }
    free(big);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}
