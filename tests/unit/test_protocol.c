/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The message tables the daemons dispatch from (server/request.c,
 * worker/worker.c) against doc/protocol.md: every message they take is
 * documented, with its direction and each field it may have, and every
 * documented message is taken by one of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/jsonfields.h"
#include "lib/proto.h"
#include "lib/util.h"
#include "server/server.h"
#include "worker/worker.h"

static char *doc;
static int failures;

/* Say every disagreement, then fail once. */
#define DISAGREE(...) (print_error(__VA_ARGS__), print_error("\n"), failures++)

/* The text of the section "### `type`", up to the next heading. */
static char *section(const char *type)
{
    char want[128], *start, *end;

    snprintf(want, sizeof(want), "\n### `%s`", type);
    if (!(start = strstr(doc, want)))
        return NULL;
    end = strstr(start + 1, "\n#");
    return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

static void check_rule(const struct proto_rule *r)
{
    char *text = section(r->type), field[96], row[96];

    if (!text) {
        DISAGREE("doc/protocol.md has no section for '%s'", r->type);
        return;
    }
    for (const struct json_field *f = r->fields; f && f->name; f++) {
        snprintf(field, sizeof(field), "`%s`", f->name);
        snprintf(row, sizeof(row), "| %s |", f->name);
        /* Client requests carry their version as the Versions section
         * says, without repeating it in each. */
        if (strcmp(f->name, "version") != 0 && !strstr(text, field)
            && !strstr(text, row))
            DISAGREE("doc/protocol.md '%s' does not name its field %s", r->type,
                     field);
    }
    if (r->dir == PROTO_WORKER_MSG && !strstr(text, "worker → server"))
        DISAGREE("doc/protocol.md '%s': not said to go worker → server",
                 r->type);
    if (r->dir == PROTO_SERVER_MSG && !strstr(text, "server → worker"))
        DISAGREE("doc/protocol.md '%s': not said to go server → worker",
                 r->type);
    if (r->dir == PROTO_RELAYED && !strstr(text, "worker → server → client"))
        DISAGREE("doc/protocol.md '%s': not said to be relayed to a client",
                 r->type);
    free(text);
}

static bool taken(const char *type)
{
    for (size_t i = 0; i < nrequests; i++)
        if (strcmp(requests[i].rule.type, type) == 0)
            return true;
    for (size_t i = 0; i < nworker_msgs; i++)
        if (strcmp(worker_msgs[i].rule.type, type) == 0)
            return true;
    /* The answer a client reads (client/conn.c). */
    return strcmp(type, "ok") == 0;
}

static void tables_match_doc(void **state)
{
    failures = 0;
    for (size_t i = 0; i < nrequests; i++)
        check_rule(&requests[i].rule);
    for (size_t i = 0; i < nworker_msgs; i++)
        check_rule(&worker_msgs[i].rule);
    for (char *p = strstr(doc, "\n### `"); p; p = strstr(p + 1, "\n### `")) {
        char name[64];
        if (sscanf(p, "\n### `%63[^`]`", name) == 1 && !taken(name))
            DISAGREE("doc/protocol.md documents '%s', which no daemon takes",
                     name);
    }
    assert_int_equal(failures, 0);
}

/* Each entry has the one handler its direction calls, and the roles are
 * those of doc/protocol.md "Authentication": queue.*, ce.* and policy.*
 * other than *.list and ce.show, and node.update, are for admins. */
static void handlers_and_roles(void **state)
{
    failures = 0;
    for (size_t i = 0; i < nrequests; i++) {
        const struct request *r = &requests[i];
        const char *t = r->rule.type;
        bool client = r->rule.dir == PROTO_CLIENT_REQ;
        bool admin = strcmp(t, "node.update") == 0
                     || ((!strncmp(t, "queue.", 6) || !strncmp(t, "ce.", 3)
                          || !strncmp(t, "policy.", 7))
                         && !strstr(t, ".list") && !strstr(t, ".show"));
        if (client != (r->client != NULL) || client == (r->node != NULL))
            DISAGREE("'%s': handler of the wrong kind", t);
        if (client && admin != (r->rule.role == PROTO_ADMIN))
            DISAGREE("'%s': role %d, admin is %d", t, r->rule.role, admin);
        if (!client
            && r->rule.role
                   != (strcmp(t, "node.hello") ? PROTO_NODE : PROTO_PEER))
            DISAGREE("'%s': a worker's message from an unwelcomed peer", t);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(requests[k].rule.type, t))
                DISAGREE("'%s' twice in the table", t);
    }
    for (size_t i = 0; i < nworker_msgs; i++)
        assert_non_null(worker_msgs[i].fn);
    assert_int_equal(failures, 0);
}

int main(void)
{
    char path[4096];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tables_match_doc),
        cmocka_unit_test(handlers_and_roles),
    };

    snprintf(path, sizeof(path), "%s/doc/protocol.md", KILN_SRCDIR);
    if (!(doc = util_read_file(path, 1 << 20, NULL)))
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(doc);
    return rc;
}
