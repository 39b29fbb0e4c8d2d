/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The message decoder: whatever frames a peer sends (here over inproc, as
 * over TCP) are decoded as the server decodes a client's or a worker's,
 * and as a client decodes the server's; a job.submit body that decodes is
 * checked field by field.  Input: frame count, then each frame's 16-bit
 * length and bytes. */
#include <zmq.h>

#include "lib/jobspec.h"
#include "lib/proto.h"
#include "tests/fuzz/fuzz.h"

static void *ctx, *router, *dealer;

static void setup(void)
{
    ctx = zmq_ctx_new();
    router = zmq_socket(ctx, ZMQ_ROUTER);
    dealer = zmq_socket(ctx, ZMQ_DEALER);
    zmq_bind(router, "inproc://fuzz");
    zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "peer", 4);
    zmq_connect(dealer, "inproc://fuzz");
}

static void decode(void *from, void *to, int router_side, const uint8_t *data,
                   size_t size)
{
    size_t nframes = size ? data[0] % 7 + 1 : 1, off = 1;
    struct proto_msg m;
    struct kiln_error err;

    if (!router_side)
        zmq_send(from, "peer", 4, ZMQ_SNDMORE);
    for (size_t i = 0; i < nframes; i++) {
        size_t len =
            off + 2 <= size ? (size_t)(data[off] | data[off + 1] << 8) : 0;
        off += 2;
        if (off > size)
            off = size;
        if (len > size - off)
            len = size - off;
        zmq_send(from, data + off, len, i + 1 < nframes ? ZMQ_SNDMORE : 0);
        off += len;
    }
    if (proto_recv(to, router_side, &m, &err) == 1) {
        json_t *job = json_object_get(m.body, "job");
        struct jobspec js;
        if (job && jobspec_from_json(job, &js, &err) == 0)
            jobspec_release(&js);
        proto_msg_release(&m);
    }
    /* Whatever was left of a refused message goes. */
    zmq_msg_t rest;
    zmq_msg_init(&rest);
    while (zmq_msg_recv(&rest, to, ZMQ_DONTWAIT) >= 0)
        ;
    zmq_msg_close(&rest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx)
        setup();
    decode(dealer, router, 1, data, size);
    decode(router, dealer, 0, data, size);
    return 0;
}
