/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The providers' thread: a queue of operations in, a queue of results
 * out, and a pipe that wakes the server's loop when a result is ready. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/log.h"
#include "server/provider.h"

struct provider_pool {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct op *todo, *done; /* FIFO lists */
    bool stopping;
    int pipe[2]; /* one byte per result */
};

void op_free(struct op *op)
{
    if (!op)
        return;
    json_decref(op->conf);
    json_decref(op->args);
    json_decref(op->result);
    free(op);
}

void op_fail(struct op *op, const char *code, const char *fmt, ...)
{
    va_list ap;

    op->status = -1;
    snprintf(op->code, sizeof(op->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(op->message, sizeof(op->message), fmt, ap);
    va_end(ap);
}

static const struct provider *provider_for(enum ce_provider p)
{
    switch (p) {
    case CE_LOCAL: return &provider_local;
    case CE_EC2: return &provider_ec2;
    case CE_EXEC: return &provider_exec;
    default: return NULL;
    }
}

static void append(struct op **list, struct op *op)
{
    op->next = NULL;
    while (*list)
        list = &(*list)->next;
    *list = op;
}

static void *pool_main(void *arg)
{
    struct provider_pool *p = arg;

    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        struct op *op = p->todo;
        if (!op) {
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        p->todo = op->next;
        pthread_mutex_unlock(&p->lock);
        const struct provider *prov = provider_for(op->spec.provider);
        if (prov)
            prov->run(op);
        else
            op_fail(op, "NoProvider", "the %s provider is not built in",
                    cespec_provider_name(op->spec.provider));
        pthread_mutex_lock(&p->lock);
        append(&p->done, op);
        ssize_t w = write(p->pipe[1], "", 1);
        (void)w; /* a full pipe already wakes the loop */
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct provider_pool *provider_pool_start(void)
{
    struct provider_pool *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, pool_main, p) != 0) {
        close(p->pipe[0]);
        close(p->pipe[1]);
        free(p);
        return NULL;
    }
    return p;
}

int provider_pool_fd(const struct provider_pool *p)
{
    return p->pipe[0];
}

void provider_pool_submit(struct provider_pool *p, struct op *op)
{
    pthread_mutex_lock(&p->lock);
    append(&p->todo, op);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

struct op *provider_pool_take(struct provider_pool *p)
{
    char buf[64];
    struct op *op;

    while (read(p->pipe[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&p->lock);
    if ((op = p->done))
        p->done = op->next;
    pthread_mutex_unlock(&p->lock);
    if (op)
        op->next = NULL;
    return op;
}

static void free_list(struct op *op)
{
    while (op) {
        struct op *next = op->next;
        op_free(op);
        op = next;
    }
}

void provider_pool_stop(struct provider_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    free_list(p->todo);
    free_list(p->done);
    close(p->pipe[0]);
    close(p->pipe[1]);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}
