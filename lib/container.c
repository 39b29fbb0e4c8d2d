/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Containers: paths for OCI runtimes, image names for engines. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/container.h"

bool container_is_engine(const char *runtime)
{
    return !strcmp(runtime, "podman") || !strcmp(runtime, "docker");
}

bool container_runs_with(const char *container, const char *runtime)
{
    return container[0] == '/' ? !container_is_engine(runtime)
                               : container_is_engine(runtime);
}

bool container_pick(const char *container, const char *list, char *out,
                    size_t len)
{
    const char *p = list;

    while (p && *p) {
        size_t n = strcspn(p, ",");
        char name[32];
        snprintf(name, sizeof(name), "%.*s",
                 (int)(n < sizeof(name) ? n : sizeof(name) - 1), p);
        if (container_runs_with(container, name)) {
            snprintf(out, len, "%s", name);
            return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

bool container_path_ok(const char *path)
{
    size_t n = path ? strlen(path) : 0;

    if (n == 0 || n > 4095 || path[0] != '/')
        return false;
    for (const char *p = path; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr(":,=\"'\\", *p))
            return false;
        /* A ".." component: "/.." followed by "/" or the end. */
        if (p[0] == '/' && p[1] == '.' && p[2] == '.'
            && (p[3] == '/' || p[3] == '\0'))
            return false;
    }
    return true;
}

bool container_image_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 255 || !isalnum((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("./:_@-", *s))
            return false;
    return true;
}
