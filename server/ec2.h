/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The EC2 Query API, for the kiln-ec2 helper: credentials from the
 * standard chain, requests signed with SigV4 (lib/sigv4) and sent with
 * libcurl, answers read with libxml2, and the instance metadata service
 * (IMDSv2).  Secrets are never printed. */
#ifndef KILN_EC2_H
#define KILN_EC2_H

#include <stdbool.h>
#include <jansson.h>
#include <libxml/tree.h>

#include "lib/error.h"

struct aws {
    char access_key[128];
    char secret_key[256];
    char token[4096]; /* a session's, or "" */
    char region[64];
    char endpoint[512]; /* https://ec2.REGION.amazonaws.com/ or a given one */
    char imds[256];     /* the metadata service's base URL */
};

/* Credentials and region: the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION), then the profile
 * (AWS_PROFILE, or "default") of ~/.aws/credentials and ~/.aws/config
 * (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), then the instance's role
 * through IMDSv2.  region and endpoint, when given, win.  0, or -1 with
 * err (code NoCredentials). */
int aws_setup(struct aws *a, const char *region, const char *endpoint,
              struct kiln_error *err);

/* One EC2 action: params is an object of strings (the query parameters
 * but Action and Version).  Returns the answer's document, or NULL with
 * code (AWS's error code, or NetworkError) and err set. */
xmlDocPtr ec2_call(const struct aws *a, const char *action,
                   const json_t *params, char code[64], struct kiln_error *err);

/* The text of the first element called name under node (any depth), or
 * NULL; the caller frees it with xmlFree. */
char *xml_text(xmlNodePtr node, const char *name);
/* The first element called name under node (any depth). */
xmlNodePtr xml_find(xmlNodePtr node, const char *name);

/* GET path (e.g. "latest/meta-data/instance-id") from the metadata
 * service at base, with an IMDSv2 session token.  The body as a new
 * string, or NULL with *status set (404: not there; 0: no service). */
char *imds_get(const char *base, const char *path, long *status);

#endif
