/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Going into the background without losing the first line a daemon says.
 * No unit test: it forks and exits; the daemons exercise it. */
#ifndef KILN_DAEMON_H
#define KILN_DAEMON_H

#include <stdio.h>

/* Fork into the background; call before any thread (ZeroMQ) starts.  The
 * parent never returns: it waits for the child's ready line, copies it to
 * stdout and exits 0, or exits 1 pointing at the log if the child ends
 * first.  The child, in a new session with stderr appended to DIR/LOGNAME,
 * gets a stream on which to write that ready line (and then close). */
FILE *daemon_detach(const char *dir, const char *logname);

#endif
