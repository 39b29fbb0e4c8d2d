/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host lists in Slurm's syntax ("node[1-4,7],gpu01"): a thin wrapper over
 * libslurm's hostlist functions, which are the reference for the syntax,
 * with the checks they leave out.  Tested in test_hostlist. */
#ifndef KILN_HOSTLIST_H
#define KILN_HOSTLIST_H

#include <stdbool.h>

#include "lib/error.h"

enum { HOSTLIST_MAX = 65536 }; /* hosts in one list */

/* A parsed list: kept in libslurm's compressed form, so that "n[1-65536]"
 * costs a few bytes, not 65,536 names. */
struct hostlist;

/* Parse s, or return NULL with err naming what is wrong. */
struct hostlist *hostlist_parse(const char *s, struct kiln_error *err);
void hostlist_free(struct hostlist *hl);
int hostlist_count(const struct hostlist *hl);

/* The compressed form of names[0..n-1] ("node[1-4]"), sorted and without
 * repeats, as Slurm prints host lists: a new string, NULL on ENOMEM. */
char *hostlist_compress(const char *const *names, int n);

/* Every name of s, in its order (a NULL-terminated array of new strings,
 * *n of them), or NULL with err set: a bad list, or more than max. */
char **hostlist_expand(const char *s, int max, int *n, struct kiln_error *err);
void hostlist_names_free(char **names);

/* Is name in hl? */
bool hostlist_has(const struct hostlist *hl, const char *name);

#endif
