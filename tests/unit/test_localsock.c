/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/localsock: whose a local socket's path can be.  The
 * ownership cases chown files to another uid, so they need root (as CI
 * runs); otherwise they are skipped. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/localsock.h"
#include "lib/util.h"

enum { OTHER = 65534 };

static void paths(void **state)
{
    struct kiln_error err;
    char longp[200];

    (void)state;
    assert_int_equal(localsock_path_ok("/run/kiln/kiln.sock", &err), 0);
    assert_int_equal(localsock_path_ok("run/kiln.sock", &err), -1);
    assert_non_null(strstr(err.text, "absolute"));
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(localsock_path_ok(longp, &err), -1);
    assert_non_null(strstr(err.text, "longer"));
    assert_int_equal(localsock_path_ok("/a\nb", &err), -1);
}

/* A listening socket at path; its descriptor. */
static int listen_at(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

static void live(void **state)
{
    char dir[] = "/tmp/kiln-ls-XXXXXX", path[64];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s", dir);
    assert_false(localsock_live(path));
    int fd = listen_at(path);
    assert_true(localsock_live(path));
    close(fd); /* the file stays, refusing: a server that died */
    assert_false(localsock_live(path));
    util_rm_rf(dir);
}

static void owners(void **state)
{
    char top[] = "/tmp/kiln-ls-XXXXXX", sub[64], sock[96];
    struct kiln_error err;

    (void)state;
    if (geteuid() != 0)
        skip();
    assert_non_null(mkdtemp(top)); /* root's, 0700, in sticky /tmp */
    snprintf(sub, sizeof(sub), "%s/run", top);
    snprintf(sock, sizeof(sock), "%s/kiln.sock", sub);
    assert_int_equal(mkdir(sub, 0755), 0);
    int fd = listen_at(sock);

    /* root's all the way: root's server. */
    assert_int_equal(localsock_owned(sock, 0, &err), 0);
    /* The socket is not the peer's. */
    assert_int_equal(localsock_owned(sock, OTHER, &err), -1);
    assert_non_null(strstr(err.text, "the server there runs as uid 65534"));
    /* Another user's server in a folder of theirs under root's: theirs. */
    assert_int_equal(chown(sub, OTHER, OTHER), 0);
    assert_int_equal(chown(sock, OTHER, OTHER), 0);
    assert_int_equal(localsock_owned(sock, OTHER, &err), 0);
    /* ... which a root server could not be. */
    assert_int_equal(localsock_owned(sock, 0, &err), -1);
    assert_non_null(strstr(err.text, "neither root nor the server's"));
    /* A folder anybody may write: anybody's socket could be there. */
    assert_int_equal(chown(sub, 0, 0), 0);
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(localsock_owned(sock, OTHER, &err), -1);
    assert_non_null(strstr(err.text, "writable by others (mode 777)"));
    /* Sticky, as /tmp: only root's or this user's entries count. */
    assert_int_equal(chmod(sub, 01777), 0);
    assert_int_equal(localsock_owned(sock, OTHER, &err), -1);
    assert_non_null(strstr(err.text, "anybody"));
    assert_int_equal(chown(sock, 0, 0), 0);
    assert_int_equal(localsock_owned(sock, 0, &err), 0);
    /* Not a socket; a link on the way. */
    char file[96], link[96], via[128];
    snprintf(file, sizeof(file), "%s/file", top);
    assert_int_equal(util_write_atomic(file, "x", 1, 0), 0);
    assert_int_equal(localsock_owned(file, 0, &err), -1);
    assert_non_null(strstr(err.text, "not a socket"));
    snprintf(link, sizeof(link), "%s/link", top);
    assert_int_equal(symlink(sub, link), 0);
    snprintf(via, sizeof(via), "%s/kiln.sock", link);
    assert_int_equal(localsock_owned(via, 0, &err), -1);
    assert_non_null(strstr(err.text, "symbolic link"));
    close(fd);
    util_rm_rf(top);
}

/* A connected client asks who is at the other end.  The folder's name is
 * long, as a build tree's is: the whole reason still fits. */
static void check_server(void **state)
{
    char dir[] = "/tmp/kiln-ls-a-rather-long-folder-name-as-in-a-build-tree-"
                 "of-the-tests-XXXXXX",
         path[128];
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    struct kiln_error err;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s", dir);
    int l = listen_at(path), c = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    assert_int_equal(connect(c, (struct sockaddr *)&un, sizeof(un)), 0);
    assert_int_equal(localsock_check_server(path, c, &err), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(localsock_check_server(path, c, &err), -1);
    assert_non_null(strstr(err.text, "nothing is sent there"));
    assert_non_null(strstr(err.text, "(mode 777), who could have put a socket "
                                     "of theirs there"));
    close(c);
    close(l);
    util_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        cmocka_unit_test(live),
        cmocka_unit_test(owners),
        cmocka_unit_test(check_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
