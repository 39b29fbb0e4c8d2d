/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file, parsed by inih. */
#include <errno.h>
#include <stdio.h>
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
    { "client", "keys", offsetof(struct kiln_config, client_keys) },
    { "client", "local", offsetof(struct kiln_config, client_local) },
    { "server", "local", offsetof(struct kiln_config, local) },
    { "server", "listen", offsetof(struct kiln_config, listen) },
    { "server", "worker_listen", offsetof(struct kiln_config, worker_listen) },
    { "server", "state", offsetof(struct kiln_config, state) },
    { "server", "log_level", offsetof(struct kiln_config, log_level) },
    { "server", "node_timeout", offsetof(struct kiln_config, node_timeout) },
    { "server", "kill_wait", offsetof(struct kiln_config, kill_wait) },
    { "server", "start_timeout", offsetof(struct kiln_config, start_timeout) },
    { "server", "advertise", offsetof(struct kiln_config, advertise) },
    { "server", "heartbeat", offsetof(struct kiln_config, heartbeat) },
    { "server", "max_jobs_per_user",
      offsetof(struct kiln_config, max_jobs_per_user) },
    { "server", "auth", offsetof(struct kiln_config, auth) },
    { "server", "keys", offsetof(struct kiln_config, keys) },
    { "server", "admin_group", offsetof(struct kiln_config, admin_group) },
    { "server", "private_jobs", offsetof(struct kiln_config, private_jobs) },
    { "worker", "auth", offsetof(struct kiln_config, worker_auth) },
    { "worker", "keys", offsetof(struct kiln_config, worker_keys) },
    { "worker", "key", offsetof(struct kiln_config, worker_key) },
    { "worker", "spool", offsetof(struct kiln_config, spool) },
    { "worker", "name", offsetof(struct kiln_config, worker_name) },
    { "worker", "cpus", offsetof(struct kiln_config, worker_cpus) },
    { "worker", "log_level", offsetof(struct kiln_config, worker_log_level) },
    { "worker", "ce", offsetof(struct kiln_config, worker_ce) },
    { "worker", "features", offsetof(struct kiln_config, worker_features) },
    { "worker", "runtimes", offsetof(struct kiln_config, worker_runtimes) },
};

struct parse_state {
    struct kiln_config *cfg;
    char bad[160];
};

/* "[queue NAME]" and "[ce NAME]" sections: collected as JSON for the
 * server, which checks them as it checks requests. */
static int declared_value(struct parse_state *ps, const char *section,
                          const char *name, const char *value)
{
    const char *kind = strncmp(section, "queue ", 6) == 0 ? "queue"
                       : strncmp(section, "ce ", 3) == 0  ? "ce"
                                                          : NULL;
    const char *obj = kind ? strchr(section, ' ') + 1 : NULL;
    json_t *k, *o, *v = NULL;

    if (!kind)
        return -1;
    if (!ps->cfg->declared && !(ps->cfg->declared = json_object()))
        return 0;
    if (!(k = json_object_get(ps->cfg->declared, kind)))
        json_object_set_new(ps->cfg->declared, kind, k = json_object());
    if (!(o = json_object_get(k, obj)))
        json_object_set_new(k, obj, o = json_object());
    if (!strcmp(kind, "queue") && !strcmp(name, "priority")) {
        char *end;
        long p = strtol(value, &end, 10);
        v = *value && !*end ? json_integer(p) : json_string(value);
    } else if (!strcmp(kind, "queue") && !strcmp(name, "ce")) {
        char *copy = strdup(value), *save = NULL;
        v = json_array();
        for (char *t = strtok_r(copy, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save))
            json_array_append_new(v, json_string(t));
        free(copy);
        name = "ces";
    } else if (!strcmp(kind, "ce") || !strcmp(name, "state")) {
        /* The server reads a [ce NAME]'s settings as kiln ce create's
         * options (lib/cespec.h). */
        v = json_string(value);
    } else {
        snprintf(ps->bad, sizeof(ps->bad),
                 "unknown setting '%s' in section '[%s]'", name, section);
        return 0;
    }
    json_object_set_new(o, name, v);
    return 1;
}

static int on_value(void *arg, const char *section, const char *name,
                    const char *value)
{
    struct parse_state *ps = arg;
    int rc;

    if ((rc = declared_value(ps, section, name, value)) >= 0)
        return rc;
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
        snprintf(ps->bad, sizeof(ps->bad),
                 "unknown setting '%s' in section '[%s]'", name, section);
    return 0;
}

int config_load(const char *path, struct kiln_config *cfg,
                struct kiln_error *err)
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
    json_decref(cfg->declared);
    cfg->declared = NULL;
}
