/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error text for people: a fixed buffer filled by errprintf().  Tested
 * through every module whose messages the unit tests check. */
#ifndef KILN_ERROR_H
#define KILN_ERROR_H

struct kiln_error {
    char text[512]; /* two paths of a UNIX socket and the why fit */
};

/* Format into err->text (err may be NULL) and return -1, so a check and its
 * message fit on one line: return errprintf(err, "bad '%s'", s);
 * errno is preserved. */
int errprintf(struct kiln_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
