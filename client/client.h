/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the user commands share: the command table's functions, the
 * connection to the server, option handling, and table output. */
#ifndef KILN_CLIENT_H
#define KILN_CLIENT_H

#include <stdbool.h>
#include <getopt.h>
#include <jansson.h>

/* The options every connecting command takes (--server, --config):
 * client/optparse gives them these codes and client_common_opt() takes
 * them. */
enum { OPT_SERVER = 1000, OPT_CONFIG };

/* Handle a common option; returns true if c was one. */
bool client_common_opt(int c, const char *arg);

/* Send a request and wait for its answer.  body is consumed; "version" is
 * added.  Returns the "ok" body (caller owns it), or dies with a clear
 * message: unreachable server (with its address), or the server's error. */
json_t *client_request(const char *type, json_t *body);

/* As client_request, but returns NULL and fills err_text (if not NULL)
 * when the server answers with an error; still dies when unreachable.
 * timeout_ms < 0 uses the default (KILN_TIMEOUT seconds, or 5). */
json_t *client_request_ex(const char *type, json_t *body, int timeout_ms,
                          char *err_text, size_t len);

/* Send a request on z (client_socket) with a MUNGE credential when one
 * can be made; body is consumed, "version" added.  Dies if it cannot. */
struct zmtp;
void client_send(struct zmtp *z, const char *type, json_t *body);

/* The next message from the server, waiting at most timeout_ms (-1: for
 * ever): 1 with *m filled (proto_msg_release it), 0 when none came.  Dies
 * when the connection is lost or the message is malformed. */
struct proto_msg;
int client_recv(struct proto_msg *m, int timeout_ms);

/* Die saying why no credential went with the request, when the server
 * refused it for want of one (an error body). */
void client_check_refusal(const json_t *body);

/* The connection, for commands that stream (kiln exec). */
struct zmtp *client_socket(void);

/* The address the commands use, once resolved. */
const char *client_server(void);

/* Print o as indented JSON on stdout. */
void client_print_json(const json_t *o);

/* An aligned text table. */
struct table;
/* headers may be NULL: the first row added is the header. */
struct table *table_create(int ncols, const char *const *headers);
void table_add(struct table *t, ...); /* ncols strings (at most 64) */
void table_add_row(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *f);
void table_destroy(struct table *t);

/* A field of o: the string ("" if absent), the number (0 if absent). */
const char *jstr(const json_t *o, const char *key);
/* A job as job.show or job.wait answers it: -1 while it is not final;
 * else the exit status of a command that waited for it (lib/jobstate),
 * after saying on stderr why it failed.  id names it there. */
int client_job_status(const json_t *job, long long id);
double jnum(const json_t *o, const char *key);

/* Parse options that are only the common ones plus --json (json may be
 * NULL); returns optind.  Prints usage on -h. */
int parse_simple(int argc, char **argv, bool *json, const char *usage);

/* kiln submit's work: parse the options and script of argv, submit, and
 * say so unless quiet.  Returns the job id; *wait is set by --wait. */
json_int_t submit_main(int argc, char **argv, bool quiet, bool *wait);

/* Commands. */
int cmd_submit(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_hold(int argc, char **argv);
int cmd_terminate(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_nodes(int argc, char **argv);
int cmd_jobqueue(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_ce(int argc, char **argv);
int cmd_node(int argc, char **argv);
int node_show(int argc, char **argv); /* kiln node show */
int cmd_jobdef(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_why(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_container_exec(int argc, char **argv);

/* The prefix for messages: "kiln submit" etc. */
extern const char *client_prog;

#endif
