/* SPDX-License-Identifier: GPL-2.0-or-later */
/* #KILN and #SBATCH directive lines at the top of a batch script. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/directive.h"

static const char *prefixes[] = { "#KILN", "#SBATCH", NULL };

void directive_free(char **argv)
{
    if (argv) {
        for (char **p = argv; *p; p++)
            free(*p);
        free(argv);
    }
}

static int push(char ***argv, int *n, int *cap, char *s)
{
    if (!s)
        return -1;
    if (*n + 2 > *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        char **nv = realloc(*argv, ncap * sizeof(**argv));
        if (!nv) {
            free(s);
            return -1;
        }
        *argv = nv;
        *cap = ncap;
    }
    (*argv)[(*n)++] = s;
    (*argv)[*n] = NULL;
    return 0;
}

/* Split line[0..len) into words appended to argv.  Returns 0, -1 on
 * ENOMEM, -2 on an unterminated quote. */
static int split(const char *line, size_t len, char ***argv, int *n, int *cap)
{
    size_t i = 0;

    for (;;) {
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i >= len || line[i] == '#')
            return 0;
        char *word = malloc(len - i + 1);
        size_t w = 0;
        char quote = 0;
        if (!word)
            return -1;
        for (; i < len; i++) {
            char c = line[i];
            if (quote) {
                if (c == quote)
                    quote = 0;
                else
                    word[w++] = c;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (isspace((unsigned char)c)) {
                break;
            } else {
                word[w++] = c;
            }
        }
        if (quote) {
            free(word);
            return -2;
        }
        word[w] = '\0';
        if (push(argv, n, cap, word) < 0)
            return -1;
    }
}

char **directive_parse(const char *script, const char *argv0, int *argc,
                       struct kiln_error *err)
{
    char **argv = NULL;
    int n = 0, cap = 0, lineno = 0;
    const char *line = script;

    if (push(&argv, &n, &cap, strdup(argv0)) < 0)
        goto nomem;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        size_t skip = 0;
        lineno++;
        while (skip < len && isspace((unsigned char)line[skip]))
            skip++;
        if (skip < len && line[skip] != '#')
            break; /* the first command ends the directives */
        for (const char **p = prefixes; *p && skip < len; p++) {
            size_t pl = strlen(*p);
            if (len - skip > pl && strncmp(line + skip, *p, pl) == 0
                && isspace((unsigned char)line[skip + pl])) {
                int rc =
                    split(line + skip + pl, len - skip - pl, &argv, &n, &cap);
                if (rc == -1)
                    goto nomem;
                if (rc == -2) {
                    errprintf(err, "line %d: unterminated quote in directive",
                              lineno);
                    directive_free(argv);
                    errno = EINVAL;
                    return NULL;
                }
                break;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    *argc = n;
    return argv;
nomem:
    directive_free(argv);
    errprintf(err, "out of memory");
    errno = ENOMEM;
    return NULL;
}
