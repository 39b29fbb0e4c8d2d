/* SPDX-License-Identifier: GPL-2.0-or-later */
/* #KILN and #SBATCH directive lines at the top of a batch script. */
#ifndef KILN_DIRECTIVE_H
#define KILN_DIRECTIVE_H

#include "lib/error.h"

/* Collect the arguments of the directive lines of script into a new
 * NULL-terminated vector whose element 0 is argv0, as getopt expects.
 * Directives are read, as Slurm does, from the lines before the first line
 * that is neither blank nor a comment; a line is a directive when it starts
 * with "#KILN" or "#SBATCH" followed by white space.  Arguments are split on
 * white space, with '...' and "..." quoting; a '#' that starts a word ends
 * the line.  Returns the vector (free with directive_free) and sets *argc,
 * or NULL with err set (unterminated quote) or errno ENOMEM. */
char **directive_parse(const char *script, const char *argv0, int *argc,
                       struct kiln_error *err);

void directive_free(char **argv);

#endif
