/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Going into the background without losing the first line a daemon says. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/daemon.h"
#include "lib/log.h"

FILE *daemon_detach(const char *dir, const char *logname)
{
    char logpath[4096], line[1024];
    int fds[2], logfd, null;
    pid_t pid;

    snprintf(logpath, sizeof(logpath), "%s/%s", dir, logname);
    if ((logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644))
        < 0)
        die("cannot open log file '%s': %s", logpath, strerror(errno));
    if (pipe(fds) < 0 || (pid = fork()) < 0)
        die("cannot detach: %s", strerror(errno));
    if (pid > 0) {
        FILE *f = fdopen(fds[0], "r");
        close(fds[1]);
        if (f && fgets(line, sizeof(line), f)) {
            fputs(line, stdout);
            exit(0);
        }
        fprintf(stderr, "kiln: the daemon failed to start; see %s\n", logpath);
        exit(1);
    }
    close(fds[0]);
    setsid();
    if ((null = open("/dev/null", O_RDWR)) >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    dup2(logfd, STDERR_FILENO);
    close(logfd);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return fdopen(fds[1], "w");
}
