/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's local socket: a UNIX socket on the server's own host where
 * the kernel, not MUNGE, says who a client is (SO_PEERCRED), and the
 * socket's path says whose server it is.  A command on the head node, a
 * workflow engine submitting a job at a time, skips the CURVE handshake and
 * both MUNGE round trips.  Tested in tests/unit/test_localsock.c and
 * t5005. */
#ifndef KILN_LOCALSOCK_H
#define KILN_LOCALSOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"

#define KILN_DEFAULT_LOCAL "/run/kiln/kiln.sock"

/* Is path a usable socket path: absolute, short enough for a sockaddr_un,
 * no newline?  0, or -1 with err naming what is wrong. */
int localsock_path_ok(const char *path, struct kiln_error *err);

/* Does a server answer on path now?  (A socket file left by one that
 * died refuses the connection.) */
bool localsock_live(const char *path);

/* Could only owner (or root) have put path where it is: path owner's,
 * every folder above it root's or owner's, none of them writable by others
 * but a sticky one (/tmp), and what is in such a one root's or this
 * user's?  0, or -1 with err naming the first that fails. */
int localsock_owned(const char *path, uid_t owner, struct kiln_error *err);

/* A client connected on fd to path, before it sends anything: is the
 * server at the other end the owner of path (localsock_owned), so that
 * no other user could stand in for it?  0, or -1 with err saying why not. */
int localsock_check_server(const char *path, int fd, struct kiln_error *err);

#endif
