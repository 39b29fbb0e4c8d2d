/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The EC2 Query API and the metadata service: see ec2.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <ini.h>
#include <libxml/parser.h>

#include "lib/sigv4.h"
#include "lib/util.h"
#include "server/ec2.h"

#define EC2_VERSION "2016-11-15"

struct body {
    char *s;
    size_t n;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t len = size * nmemb;

    if (b->n + len > (64u << 20)) { /* no answer of ours is that big */
        b->too_big = true;
        return 0;
    }
    char *ns = realloc(b->s, b->n + len + 1);
    if (!ns)
        return 0;
    memcpy(ns + b->n, p, len);
    b->s = ns;
    b->n += len;
    b->s[b->n] = '\0';
    return len;
}

/* One HTTP exchange: the answer's body (a new string) and *status, or
 * NULL with *status 0 and why in err when nothing came back. */
static char *http(const char *method, const char *url,
                  struct curl_slist *headers, const char *data, long timeout,
                  long *status, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    struct body b = { 0 };
    char ebuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;

    *status = 0;
    if (!c) {
        snprintf(err, errlen, "cannot start libcurl");
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (data) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else
        snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || b.too_big) {
        if (b.too_big)
            snprintf(err, errlen, "the answer is larger than 64 MiB");
        *status = 0;
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}

char *imds_get(const char *base, const char *path, long *status)
{
    char url[1024], hdr[256], err[256];
    struct curl_slist *h = NULL;
    char *token, *out;

    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    h = curl_slist_append(h, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    token = http("PUT", url, h, "", 2, status, err, sizeof(err));
    curl_slist_free_all(h);
    if (!token || *status != 200) {
        free(token);
        if (*status == 200)
            *status = 0;
        return NULL;
    }
    snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %.200s", token);
    free(token);
    snprintf(url, sizeof(url), "%s/%s", base, path);
    h = curl_slist_append(NULL, hdr);
    out = http("GET", url, h, NULL, 2, status, err, sizeof(err));
    curl_slist_free_all(h);
    if (out && *status != 200) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- credentials ---- */

struct profile_read {
    const char *want1, *want2; /* section names that are the profile */
    struct aws *a;
    bool found;
};

static int on_ini(void *arg, const char *section, const char *name,
                  const char *value)
{
    struct profile_read *p = arg;

    if (strcmp(section, p->want1) && (!p->want2 || strcmp(section, p->want2)))
        return 1;
    if (!strcmp(name, "aws_access_key_id") && !p->a->access_key[0])
        snprintf(p->a->access_key, sizeof(p->a->access_key), "%s", value);
    else if (!strcmp(name, "aws_secret_access_key") && !p->a->secret_key[0])
        snprintf(p->a->secret_key, sizeof(p->a->secret_key), "%s", value);
    else if (!strcmp(name, "aws_session_token") && !p->a->token[0])
        snprintf(p->a->token, sizeof(p->a->token), "%s", value);
    else if (!strcmp(name, "region") && !p->a->region[0])
        snprintf(p->a->region, sizeof(p->a->region), "%s", value);
    p->found = true;
    return 1;
}

static void from_file(struct aws *a, const char *env, const char *rel,
                      const char *s1, const char *s2)
{
    char path[4096];
    const char *home = getenv("HOME");
    struct profile_read p = { s1, s2, a, false };

    if (getenv(env))
        snprintf(path, sizeof(path), "%s", getenv(env));
    else if (home)
        snprintf(path, sizeof(path), "%s/%s", home, rel);
    else
        return;
    ini_parse(path, on_ini, &p);
}

/* The instance's role: its temporary keys from the metadata service. */
static int from_role(struct aws *a)
{
    long status;
    char path[512];
    char *role = imds_get(a->imds, "latest/meta-data/iam/security-credentials/",
                          &status);
    json_t *o;

    if (!role)
        return -1;
    role[strcspn(role, "\r\n")] = '\0';
    snprintf(path, sizeof(path), "latest/meta-data/iam/security-credentials/%s",
             role);
    free(role);
    char *text = imds_get(a->imds, path, &status);
    if (!text || !(o = json_loads(text, 0, NULL))) {
        free(text);
        return -1;
    }
    free(text);
    const char *ak = json_string_value(json_object_get(o, "AccessKeyId"));
    const char *sk = json_string_value(json_object_get(o, "SecretAccessKey"));
    const char *tk = json_string_value(json_object_get(o, "Token"));
    if (ak && sk) {
        snprintf(a->access_key, sizeof(a->access_key), "%s", ak);
        snprintf(a->secret_key, sizeof(a->secret_key), "%s", sk);
        snprintf(a->token, sizeof(a->token), "%s", tk ? tk : "");
    }
    json_decref(o);
    return ak && sk ? 0 : -1;
}

int aws_setup(struct aws *a, const char *region, const char *endpoint,
              struct kiln_error *err)
{
    const char *profile = getenv("AWS_PROFILE");
    char named[160];

    memset(a, 0, sizeof(*a));
    snprintf(a->imds, sizeof(a->imds), "%s",
             util_str_or(getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
                         "http://169.254.169.254"));
    a->imds[strcspn(a->imds, " ")] = '\0';
    if (a->imds[0] && a->imds[strlen(a->imds) - 1] == '/')
        a->imds[strlen(a->imds) - 1] = '\0';
    if (region)
        snprintf(a->region, sizeof(a->region), "%s", region);
    else if (getenv("AWS_REGION") || getenv("AWS_DEFAULT_REGION"))
        snprintf(a->region, sizeof(a->region), "%s",
                 getenv("AWS_REGION") ? getenv("AWS_REGION")
                                      : getenv("AWS_DEFAULT_REGION"));
    if (getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY")) {
        snprintf(a->access_key, sizeof(a->access_key), "%s",
                 getenv("AWS_ACCESS_KEY_ID"));
        snprintf(a->secret_key, sizeof(a->secret_key), "%s",
                 getenv("AWS_SECRET_ACCESS_KEY"));
        snprintf(a->token, sizeof(a->token), "%s",
                 util_str_or(getenv("AWS_SESSION_TOKEN"), ""));
    }
    profile = profile ? profile : "default";
    snprintf(named, sizeof(named), "profile %.140s", profile);
    if (!a->access_key[0])
        from_file(a, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", profile,
                  NULL);
    /* the config file names its sections "profile NAME" ("default"
     * alone); it may hold keys too, and the region */
    from_file(a, "AWS_CONFIG_FILE", ".aws/config",
              strcmp(profile, "default") ? named : "default", NULL);
    if (!a->access_key[0] || !a->secret_key[0]) {
        a->access_key[0] = a->secret_key[0] = a->token[0] = '\0';
        const char *off = getenv("AWS_EC2_METADATA_DISABLED");
        if ((off && !strcmp(off, "true")) || from_role(a) < 0)
            return errprintf(err,
                             "no AWS credentials: none in the environment "
                             "(AWS_ACCESS_KEY_ID), in profile '%s' of "
                             "~/.aws/credentials or ~/.aws/config, or from an "
                             "instance role",
                             profile);
    }
    if (!a->region[0])
        snprintf(a->region, sizeof(a->region), "us-east-1");
    if (endpoint)
        snprintf(a->endpoint, sizeof(a->endpoint), "%s", endpoint);
    else
        snprintf(a->endpoint, sizeof(a->endpoint),
                 "https://ec2.%s.amazonaws.com/", a->region);
    return 0;
}

/* ---- calls ---- */

xmlNodePtr xml_find(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr n = node ? node->children : NULL; n; n = n->next) {
        xmlNodePtr f;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!strcmp((const char *)n->name, name))
            return n;
        if ((f = xml_find(n, name)))
            return f;
    }
    return NULL;
}

char *xml_text(xmlNodePtr node, const char *name)
{
    xmlNodePtr n = xml_find(node, name);

    return n ? (char *)xmlNodeGetContent(n) : NULL;
}

static void add_param(char **body, size_t *len, size_t *cap, const char *k,
                      const char *v)
{
    size_t need = (strlen(k) + strlen(v)) * 3 + 4;

    if (*len + need >= *cap) {
        size_t ncap = (*len + need) * 2;
        char *nb = realloc(*body, ncap);
        if (!nb)
            return;
        *body = nb;
        *cap = ncap;
    }
    if (*len)
        (*body)[(*len)++] = '&';
    (*body)[*len] = '\0';
    sigv4_uri_encode(k, *body, *cap);
    strcat(*body, "=");
    sigv4_uri_encode(v, *body, *cap);
    *len = strlen(*body);
}

xmlDocPtr ec2_call(const struct aws *a, const char *action,
                   const json_t *params, char code[64], struct kiln_error *err)
{
    char *body = NULL, host[256], path[256] = "/", date[32], hdate[64],
         hhost[300], htoken[4200], auth[1024], hauth[1100], neterr[256];
    size_t len = 0, cap = 0;
    const char *key, *scheme_end = strstr(a->endpoint, "://");
    json_t *v;
    time_t now = time(NULL);
    struct tm tm;
    long status;

    code[0] = '\0';
    if (!scheme_end) {
        snprintf(code, 64, "InvalidEndpoint");
        errprintf(err, "invalid endpoint '%.100s'", a->endpoint);
        return NULL;
    }
    const char *h = scheme_end + 3, *slash = strchr(h, '/');
    snprintf(host, sizeof(host), "%.*s",
             slash ? (int)(slash - h) : (int)strlen(h), h);
    if (slash)
        snprintf(path, sizeof(path), "%s", slash);
    add_param(&body, &len, &cap, "Action", action);
    add_param(&body, &len, &cap, "Version", EC2_VERSION);
    json_object_foreach ((json_t *)params, key, v)
        if (json_is_string(v))
            add_param(&body, &len, &cap, key, json_string_value(v));
    if (!body) {
        snprintf(code, 64, "NoMemory");
        errprintf(err, "out of memory");
        return NULL;
    }
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(hdate, sizeof(hdate), "X-Amz-Date: %s", date);
    snprintf(hhost, sizeof(hhost), "Host: %s", host);
    snprintf(htoken, sizeof(htoken), "X-Amz-Security-Token: %s", a->token);
    const char *signed_headers[] = {
        hhost, hdate,
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", htoken
    };
    struct sigv4_request r = {
        .method = "POST",
        .path = path,
        .query = "",
        .headers = signed_headers,
        .nheaders = a->token[0] ? 4 : 3,
        .payload = body,
        .payload_len = strlen(body),
        .region = a->region,
        .service = "ec2",
        .amz_date = date,
    };
    if (sigv4_authorization(&r, a->access_key, a->secret_key, auth,
                            sizeof(auth))
        < 0) {
        free(body);
        snprintf(code, 64, "SigningError");
        errprintf(err, "cannot sign the request");
        return NULL;
    }
    snprintf(hauth, sizeof(hauth), "Authorization: %s", auth);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < r.nheaders; i++)
        hl = curl_slist_append(hl, signed_headers[i]);
    hl = curl_slist_append(hl, hauth);
    hl = curl_slist_append(hl, "Expect:");
    char *answer = http("POST", a->endpoint, hl, body, 60, &status, neterr,
                        sizeof(neterr));
    curl_slist_free_all(hl);
    free(body);
    if (!answer) {
        snprintf(code, 64, "NetworkError");
        errprintf(err, "%s: %s", a->endpoint, neterr);
        return NULL;
    }
    xmlDocPtr doc = xmlReadMemory(answer, (int)strlen(answer), "ec2.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    free(answer);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr error = root ? xml_find(root, "Error") : NULL;
    if (root && !strcmp((const char *)root->name, "Error"))
        error = root;
    if (error || status != 200 || !root) {
        char *c = error ? xml_text(error, "Code") : NULL;
        char *m = error ? xml_text(error, "Message") : NULL;
        snprintf(code, 64, "%s", c ? c : "HTTPError");
        errprintf(err, "%s (HTTP %ld)",
                  m ? m : (root ? "no message" : "not an XML answer"), status);
        util_utf8_fix(err->text, 0);
        xmlFree(c);
        xmlFree(m);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}
