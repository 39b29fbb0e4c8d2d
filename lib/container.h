/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What kind of container a job names, and which runtimes run it: a
 * directory (OCI bundle or root file system) runs with an OCI runtime,
 * runc or crun; an image name with an engine, Podman or Docker.  Pure;
 * tested in test_features. */
#ifndef KILN_CONTAINER_H
#define KILN_CONTAINER_H

#include <stdbool.h>

/* Is name an OCI runtime (runc, crun) or an engine (podman, docker)? */
bool container_is_engine(const char *runtime);

/* Does the job's container (a path, or an image name) run with runtime? */
bool container_runs_with(const char *container, const char *runtime);

/* The first of list (comma separated) that runs container, copied into
 * out; false if none does. */
bool container_pick(const char *container, const char *list, char *out,
                    size_t len);

/* May path be given to a container runtime or engine as a mount's source
 * or destination?  Absolute, at most 4095 bytes, no ".." component, and
 * none of the characters that Podman's and Docker's -v and --mount split
 * on or quote with (: , = " ' \\) nor control characters: a user's path
 * can then never become another option. */
bool container_path_ok(const char *path);

/* Is s a valid image name ([registry/]name[:tag][@digest])? */
bool container_image_ok(const char *s);

#endif
