/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error text for people. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "lib/error.h"
#include "lib/util.h"

int errprintf(struct kiln_error *err, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
        /* A "%.64s" may cut a character in two: the text goes into JSON. */
        util_utf8_fix(err->text, 0);
    }
    errno = saved;
    return -1;
}
