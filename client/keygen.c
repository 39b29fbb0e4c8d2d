/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln keygen: CURVE key pairs for the server and the workers. */
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/keys.h"
#include "lib/log.h"

int cmd_keygen(int argc, char **argv)
{
    static struct {
        const char *dir;
        bool force;
    } o = { KILN_DEFAULT_KEYS, false };
    static const struct opt table[] = {
        { "dir", 0, OPT_STRING, offsetof(typeof(o), dir), "DIR",
          "where the keys are (default " KILN_DEFAULT_KEYS ")" },
        { "force", 0, OPT_FLAG, offsetof(typeof(o), force), NULL,
          "replace pairs that exist (workers with the old key are refused)" },
        OPT_END,
    };
    static const struct opt_cmd cmd = {
        "kiln keygen [--dir DIR] [--force] [NAME...]\n"
        "Make CURVE key pairs (NAME.key, secret, mode 0600; NAME.pub, public) for the\n"
        "server and its workers, in DIR.",
        table,
        "  no NAME    'server' and 'cluster': the server's pair, and one pair that\n"
        "             every worker may use (copy server.pub and cluster.key to them)\n"
        "  server     the server's pair; workers need its server.pub\n"
        "  cluster    a pair shared by all workers; the server accepts cluster.pub\n"
        "  NODE       one node's own pair, in DIR/workers: the server accepts\n"
        "             workers/NODE.pub for node NODE only; copy workers/NODE.key to\n"
        "             the node's DIR/workers",
        .anywhere = true,
        .local = true,
    };
    static char *defaults[] = { "server", "cluster" };
    char path[4096];
    struct kiln_error err;
    int first = optparse(argc, argv, &cmd, &o, NULL, "");
    const char *dir = o.dir;
    bool force = o.force;

    char **names = first < argc ? argv + first : defaults;
    int n = first < argc ? argc - first : 2;
    for (int i = 0; i < n; i++) {
        if (keys_generate(dir, names[i], force, path, sizeof(path), &err) < 0)
            die("%s", err.text);
        printf("%s\n", path);
    }
    return 0;
}
