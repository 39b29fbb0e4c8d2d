/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A spot instance's interruption notice: with --metadata, the worker asks
 * the instance metadata service for spot/instance-action every few
 * seconds (through the kiln-ec2 helper, whose output it reads without
 * waiting), and tells the server once, with node.interrupted, when the
 * notice is there: the server then requeues the jobs here and replaces
 * the capacity, before the two minutes are over. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "worker/worker.h"

enum { SPOT_EVERY = 5 }; /* seconds between two looks */

static void start_look(struct worker *w)
{
    struct spot *sp = &w->spot;
    char helper[PATH_MAX], env[300];
    posix_spawn_file_actions_t fa;
    int fds[2];

    if (util_helper_path("kiln-ec2", helper, sizeof(helper)) < 0
        || pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return;
    snprintf(env, sizeof(env), "KILN_METADATA_URL=%s", w->metadata);
    char *const argv[] = { helper, "metadata",
                           "latest/meta-data/spot/instance-action", NULL };
    char *const envp[] = { env, NULL };
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (posix_spawn(&sp->pid, helper, &fa, NULL, argv, envp) != 0) {
        close(fds[0]);
        sp->pid = 0;
    } else {
        sp->fd = fds[0];
        sp->n = 0;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
}

void spot_init(struct worker *w)
{
    w->spot.fd = -1;
    w->spot.next = util_monotonic() + 1;
}

int spot_poll_item(struct worker *w, zmq_pollitem_t *item)
{
    if (w->spot.fd < 0)
        return 0;
    *item = (zmq_pollitem_t){ NULL, w->spot.fd, ZMQ_POLLIN, 0 };
    return 1;
}

double spot_next(const struct worker *w, double next)
{
    if (!w->metadata[0] || w->spot.noticed || w->spot.fd >= 0)
        return next;
    return w->spot.next < next ? w->spot.next : next;
}

void spot_tick(struct worker *w, double now)
{
    if (w->metadata[0] && w->welcomed && !w->spot.noticed && w->spot.fd < 0
        && now >= w->spot.next) {
        w->spot.next = now + SPOT_EVERY;
        start_look(w);
    }
}

void spot_readable(struct worker *w)
{
    struct spot *sp = &w->spot;
    ssize_t r;

    while ((r = read(sp->fd, sp->buf + sp->n, sizeof(sp->buf) - 1 - sp->n)) > 0)
        sp->n += (size_t)r;
    if (r < 0 && errno == EAGAIN && sp->n < sizeof(sp->buf) - 1)
        return;
    close(sp->fd);
    sp->fd = -1;
    sp->pid = 0; /* reaped with the other children */
    sp->buf[sp->n] = '\0';
    /* The helper prints the notice only when it is there (HTTP 200). */
    json_t *notice = sp->n ? json_loads(sp->buf, 0, NULL) : NULL;
    if (!notice)
        return;
    sp->noticed = true;
    const char *when = json_string_value(json_object_get(notice, "time"));
    log_msg(LOG_WARNING,
            "spot interruption notice: this instance is reclaimed at %s",
            when ? when : "?");
    worker_send(w, "node.interrupted",
                json_pack("{s:i, s:s}", "version", KILN_PROTO_VERSION, "time",
                          when ? when : ""));
    json_decref(notice);
}
