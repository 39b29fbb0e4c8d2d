/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host lists in Slurm's syntax ("node[1-4,7],gpu01"): a thin wrapper over
 * libslurm's hostlist functions, which are the reference for the syntax,
 * with the checks they leave out.  Tested in test_hostlist. */
#ifndef KILN_HOSTLIST_H
#define KILN_HOSTLIST_H

#include <stdbool.h>
#include <jansson.h>

#include "lib/error.h"

enum { HOSTLIST_MAX = 65536 }; /* hosts in one list */

/* The hosts of list s, expanded, as a new JSON array of strings; or NULL
 * with err naming what is wrong. */
json_t *hostlist_expand(const char *s, struct kiln_error *err);

/* The compressed form of a JSON array of host names ("node[1-4]"), sorted
 * and without repeats, a new string the caller frees; NULL on ENOMEM or a
 * bad name. */
char *hostlist_compress(const json_t *hosts);

/* Is name in the expanded list hosts? */
bool hostlist_has(const json_t *hosts, const char *name);

#endif
