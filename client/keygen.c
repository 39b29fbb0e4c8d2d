/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln keygen: CURVE key pairs for the server and the workers. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "lib/keys.h"
#include "lib/log.h"

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: kiln keygen [--dir DIR] [--force] [NAME...]\n"
        "Make CURVE key pairs (NAME.key, secret, mode 0600; NAME.pub, public) for the\n"
        "server and its workers, in DIR (default %s).\n"
        "  no NAME    'server' and 'cluster': the server's pair, and one pair that\n"
        "             every worker may use (copy server.pub and cluster.key to them)\n"
        "  server     the server's pair; workers need its server.pub\n"
        "  cluster    a pair shared by all workers; the server accepts cluster.pub\n"
        "  NODE       one node's own pair, in DIR/workers: the server accepts\n"
        "             workers/NODE.pub for node NODE only; copy workers/NODE.key to\n"
        "             the node's DIR/workers\n"
        "  --force    replace pairs that exist (workers with the old key are refused)\n",
        KILN_DEFAULT_KEYS);
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    static char *defaults[] = { "server", "cluster" };
    const char *dir = KILN_DEFAULT_KEYS;
    char path[4096];
    struct kiln_error err;
    bool force = false;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'f': force = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    char **names = optind < argc ? argv + optind : defaults;
    int n = optind < argc ? argc - optind : 2;
    for (int i = 0; i < n; i++) {
        if (keys_generate(dir, names[i], force, path, sizeof(path), &err) < 0)
            die("%s", err.text);
        printf("%s\n", path);
    }
    return 0;
}
