/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file, parsed by inih. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ini.h>

#include "lib/config.h"

static const struct {
    const char *section, *key;
    size_t offset;
} keys[] = {
    { "client", "server", offsetof(struct kiln_config, server) },
    { "server", "listen", offsetof(struct kiln_config, listen) },
    { "server", "worker_listen", offsetof(struct kiln_config, worker_listen) },
    { "server", "state", offsetof(struct kiln_config, state) },
    { "server", "log_level", offsetof(struct kiln_config, log_level) },
    { "server", "node_timeout", offsetof(struct kiln_config, node_timeout) },
    { "server", "kill_wait", offsetof(struct kiln_config, kill_wait) },
    { "worker", "spool", offsetof(struct kiln_config, spool) },
    { "worker", "name", offsetof(struct kiln_config, worker_name) },
    { "worker", "cpus", offsetof(struct kiln_config, worker_cpus) },
    { "worker", "log_level", offsetof(struct kiln_config, worker_log_level) },
};

struct parse_state {
    struct kiln_config *cfg;
    char bad[160];
};

static int on_value(void *arg, const char *section, const char *name,
                    const char *value)
{
    struct parse_state *ps = arg;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(keys[i].section, section) || strcmp(keys[i].key, name))
            continue;
        char **slot = (char **)((char *)ps->cfg + keys[i].offset);
        free(*slot);
        if (!(*slot = strdup(value)))
            return 0;
        return 1;
    }
    if (!ps->bad[0])
        snprintf(ps->bad, sizeof(ps->bad), "unknown setting '%s' in section '[%s]'",
                 name, section);
    return 0;
}

int config_load(const char *path, struct kiln_config *cfg, struct kiln_error *err)
{
    struct parse_state ps = { .cfg = cfg };
    int line;

    memset(cfg, 0, sizeof(*cfg));
    if (!path)
        path = getenv("KILN_CONFIG");
    if (!path) {
        if (access(KILN_DEFAULT_CONFIG, R_OK) < 0)
            return 0;
        path = KILN_DEFAULT_CONFIG;
    }
    line = ini_parse(path, on_value, &ps);
    if (line == -1)
        return errprintf(err, "cannot read config file '%s': %s", path,
                         strerror(errno));
    if (line != 0) {
        config_release(cfg);
        return errprintf(err, "config file '%s' line %d: %s", path, line,
                         ps.bad[0] ? ps.bad : "syntax error");
    }
    return 0;
}

void config_release(struct kiln_config *cfg)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char **slot = (char **)((char *)cfg + keys[i].offset);
        free(*slot);
        *slot = NULL;
    }
}
