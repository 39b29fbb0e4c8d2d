/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln-ec2: the EC2 provider's calls, in a program of its own so that
 * kiln links neither libcurl nor libxml2.
 *
 *   kiln-ec2 call            one operation: its JSON on stdin (see
 *                            server/provider_ec2.c), {"result": ...} or
 *                            {"error": {"code", "message"}} on stdout
 *   kiln-ec2 metadata PATH   a value of the instance metadata service
 *                            (IMDSv2) at $KILN_METADATA_URL or
 *                            169.254.169.254: exit 0 and the value, 1 when
 *                            it is not there (404), 2 when there is no
 *                            service */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <libxml/parser.h>

#include "lib/base64.h"
#include "lib/util.h"
#include "server/ec2.h"

static json_t *failure(const char *code, const char *message)
{
    return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message",
                     message);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void param(json_t *p, const char *key, const char *value)
{
    if (value)
        json_object_set_new(p, key, json_string(value));
}

static void paramf(json_t *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void paramf(json_t *p, const char *key, const char *fmt, ...)
{
    char v[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    param(p, key, v);
}

/* The script an instance runs at its first boot (cloud-init runs user
 * data that starts with #!).  Every value in it was checked to hold no
 * quote (lib/cespec, the server's own names and keys). */
static char *user_data(const json_t *w)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return NULL;
    fprintf(f,
            "#!/bin/sh\n"
            "# Kiln: this instance joins compute environment %s.\n"
            "root=\"${KILN_INSTANCE_ROOT:-}\"\n"
            "keys=\"$root/etc/kiln/keys\"\n"
            "spool=\"$root/var/spool/kiln\"\n"
            "mkdir -p \"$keys\" \"$spool\"\n",
            str(w, "ce"));
    if (str(w, "server_key"))
        fprintf(f, "printf 'public = %%s\\n' '%s' >\"$keys/server.pub\"\n",
                str(w, "server_key"));
    fprintf(f,
            "export KILN_JOIN_TOKEN='%s'\n"
            "exec kiln worker --server '%s' --ce '%s' --auth '%s' \\\n"
            "    --keys \"$keys\" --spool \"$spool\" \\\n"
            "    --metadata \"${KILN_METADATA_URL:-http://169.254.169.254}\"\n",
            str(w, "join"), str(w, "server"), str(w, "ce"), str(w, "auth"));
    fclose(f);
    return text;
}

/* Tag number ++*k of the instances: key = value. */
static void tag(json_t *p, size_t *k, const char *key, const char *value)
{
    char tk[64], tv[64];

    ++*k;
    snprintf(tk, sizeof(tk), "TagSpecification.1.Tag.%zu.Key", *k);
    snprintf(tv, sizeof(tv), "TagSpecification.1.Tag.%zu.Value", *k);
    param(p, tk, key);
    param(p, tv, value);
}

static bool capacity_short(const char *code)
{
    return !strcmp(code, "InsufficientInstanceCapacity")
           || !strcmp(code, "InsufficientCapacity")
           || !strcmp(code, "Unsupported")
           || !strcmp(code, "InsufficientFreeAddressesInSubnet");
}

/* With a spot price strategy, the cheapest per vCPU of the candidates,
 * by DescribeSpotPriceHistory; else the first. */
static const json_t *pick_type(const struct aws *a, const json_t *conf,
                               const json_t *cands)
{
    const json_t *cr = json_object_get(conf, "computeResources");
    const char *strategy = str(cr, "allocationStrategy");
    const json_t *best = json_array_get(cands, 0), *c;
    double best_price = INFINITY;
    size_t i;

    if (!strategy || strncmp(strategy, "SPOT_", 5)
        || json_array_size(cands) < 2)
        return best;
    json_t *p = json_object();
    char k[64], start[32], code[64];
    struct kiln_error err;
    time_t now = time(NULL) - 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_array_foreach (cands, i, c) {
        snprintf(k, sizeof(k), "InstanceType.%zu", i + 1);
        param(p, k, str(c, "name"));
    }
    param(p, "ProductDescription.1", "Linux/UNIX");
    param(p, "StartTime", start);
    xmlDocPtr doc = ec2_call(a, "DescribeSpotPriceHistory", p, code, &err);
    json_decref(p);
    xmlNodePtr set =
        doc ? xml_find(xmlDocGetRootElement(doc), "spotPriceHistorySet") : NULL;
    for (xmlNodePtr it = set ? set->children : NULL; it; it = it->next) {
        char *t = xml_text(it, "instanceType"), *pr = xml_text(it, "spotPrice");
        json_array_foreach (cands, i, c)
            if (t && pr && !strcmp(t, str(c, "name"))) {
                double per =
                    atof(pr)
                    / (double)json_integer_value(json_object_get(c, "vcpus"));
                if (per < best_price) {
                    best_price = per;
                    best = c;
                }
            }
        xmlFree(t);
        xmlFree(pr);
    }
    xmlFreeDoc(doc);
    return best;
}

static json_t *launch(const struct aws *a, const json_t *req)
{
    const json_t *conf = json_object_get(req, "conf"),
                 *args = json_object_get(req, "args"),
                 *cr = json_object_get(conf, "computeResources"),
                 *subnets = json_object_get(cr, "subnets"),
                 *lt = json_object_get(cr, "launchTemplate"), *v;
    const json_t *type =
        pick_type(a, conf, json_object_get(args, "candidates"));
    char *script = user_data(json_object_get(args, "worker"));
    char *ud = script ? base64_encode(script, strlen(script)) : NULL;
    json_t *list = json_array(), *out = NULL;
    const char *key;
    size_t i, k;

    free(script);
    if (!ud || !type) {
        free(ud);
        json_decref(list);
        return failure("InternalError", "no instance type to launch");
    }
    size_t tries = subnets ? json_array_size(subnets) : 1;
    for (size_t s = 0; s < tries && !json_array_size(list); s++) {
        json_t *p = json_object();
        char code[64];
        struct kiln_error err;
        param(p, "ImageId", str(cr, "imageId"));
        param(p, "InstanceType", str(type, "name"));
        param(p, "MinCount", "1");
        paramf(p, "MaxCount", "%lld",
               (long long)json_integer_value(json_object_get(args, "count")));
        /* the same launch and subnet again is the same request */
        paramf(p, "ClientToken", "%s-%zu", str(args, "launch"), s);
        if (subnets)
            param(p, "SubnetId", json_string_value(json_array_get(subnets, s)));
        json_array_foreach (json_object_get(cr, "securityGroupIds"), i, v) {
            char sk[48];
            snprintf(sk, sizeof(sk), "SecurityGroupId.%zu", i + 1);
            param(p, sk, json_string_value(v));
        }
        param(p, "KeyName", str(cr, "ec2KeyPair"));
        if (str(cr, "instanceRole"))
            param(p,
                  strncmp(str(cr, "instanceRole"), "arn:", 4)
                      ? "IamInstanceProfile.Name"
                      : "IamInstanceProfile.Arn",
                  str(cr, "instanceRole"));
        param(p, "UserData", ud);
        if (lt) {
            param(p, "LaunchTemplate.LaunchTemplateId",
                  str(lt, "launchTemplateId"));
            param(p, "LaunchTemplate.LaunchTemplateName",
                  str(lt, "launchTemplateName"));
            param(p, "LaunchTemplate.Version", str(lt, "version"));
        }
        param(p, "TagSpecification.1.ResourceType", "instance");
        k = 0;
        char name[128];
        snprintf(name, sizeof(name), "kiln-%s", str(req, "ce"));
        tag(p, &k, "kiln:server", str(req, "server_id"));
        tag(p, &k, "kiln:ce", str(req, "ce"));
        tag(p, &k, "kiln:launch", str(args, "launch"));
        tag(p, &k, "Name", name);
        json_object_foreach ((json_t *)json_object_get(cr, "tags"), key, v)
            tag(p, &k, key, json_string_value(v));
        if (json_is_true(json_object_get(args, "spot"))) {
            double price = json_number_value(json_object_get(type, "price"));
            long bid = (long)json_integer_value(json_object_get(args, "bid"));
            param(p, "InstanceMarketOptions.MarketType", "spot");
            param(p, "InstanceMarketOptions.SpotOptions.SpotInstanceType",
                  "one-time");
            param(p,
                  "InstanceMarketOptions.SpotOptions."
                  "InstanceInterruptionBehavior",
                  "terminate");
            if (price > 0)
                paramf(p, "InstanceMarketOptions.SpotOptions.MaxPrice", "%.4f",
                       price * (double)(bid ? bid : 100) / 100.0);
        }
        xmlDocPtr doc = ec2_call(a, "RunInstances", p, code, &err);
        json_decref(p);
        if (!doc) {
            json_decref(out);
            out = failure(code, err.text);
            if (capacity_short(code))
                continue; /* the next subnet */
            break;
        }
        xmlNodePtr set = xml_find(xmlDocGetRootElement(doc), "instancesSet");
        for (xmlNodePtr it = set ? set->children : NULL; it; it = it->next) {
            char *id = xml_text(it, "instanceId"),
                 *t = xml_text(it, "instanceType"),
                 *life = xml_text(it, "instanceLifecycle"),
                 *ip = xml_text(it, "privateIpAddress");
            if (id)
                json_array_append_new(
                    list, json_pack("{s:s, s:s, s:b, s:s}", "id", id, "type",
                                    t ? t : str(type, "name"), "spot",
                                    life && !strcmp(life, "spot"), "address",
                                    ip ? ip : ""));
            xmlFree(id);
            xmlFree(t);
            xmlFree(life);
            xmlFree(ip);
        }
        xmlFreeDoc(doc);
    }
    free(ud);
    if (json_array_size(list)) {
        json_decref(out);
        return json_pack("{s:{s:o}}", "result", "instances", list);
    }
    json_decref(list);
    return out ? out : failure("InternalError", "RunInstances made nothing");
}

static json_t *describe(const struct aws *a, const json_t *req)
{
    json_t *list = json_array();
    char *next = NULL, code[64];
    struct kiln_error err;

    do {
        json_t *p = json_object();
        param(p, "Filter.1.Name", "tag:kiln:server");
        param(p, "Filter.1.Value.1", str(req, "server_id"));
        param(p, "Filter.2.Name", "tag:kiln:ce");
        param(p, "Filter.2.Value.1", str(req, "ce"));
        param(p, "Filter.3.Name", "instance-state-name");
        param(p, "Filter.3.Value.1", "pending");
        param(p, "Filter.3.Value.2", "running");
        param(p, "Filter.3.Value.3", "stopping");
        param(p, "Filter.3.Value.4", "stopped");
        param(p, "MaxResults", "1000");
        param(p, "NextToken", next);
        xmlFree(next);
        next = NULL;
        xmlDocPtr doc = ec2_call(a, "DescribeInstances", p, code, &err);
        json_decref(p);
        if (!doc) {
            json_decref(list);
            return failure(code, err.text);
        }
        xmlNodePtr root = xmlDocGetRootElement(doc);
        xmlNodePtr res = xml_find(root, "reservationSet");
        for (xmlNodePtr r = res ? res->children : NULL; r; r = r->next) {
            xmlNodePtr set = xml_find(r, "instancesSet");
            for (xmlNodePtr it = set ? set->children : NULL; it;
                 it = it->next) {
                char *id = xml_text(it, "instanceId"),
                     *t = xml_text(it, "instanceType"),
                     *life = xml_text(it, "instanceLifecycle");
                char launch[64] = "";
                xmlNodePtr tags = xml_find(it, "tagSet");
                for (xmlNodePtr tg = tags ? tags->children : NULL; tg;
                     tg = tg->next) {
                    char *k = xml_text(tg, "key"), *v = xml_text(tg, "value");
                    if (k && v && !strcmp(k, "kiln:launch"))
                        snprintf(launch, sizeof(launch), "%s", v);
                    xmlFree(k);
                    xmlFree(v);
                }
                if (id)
                    json_array_append_new(
                        list, json_pack("{s:s, s:s, s:s, s:b}", "id", id,
                                        "launch", launch, "type", t ? t : "",
                                        "spot", life && !strcmp(life, "spot")));
                xmlFree(id);
                xmlFree(t);
                xmlFree(life);
            }
        }
        /* the reservations' own nextToken is the answer's last child */
        for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
            if (n->type == XML_ELEMENT_NODE
                && !strcmp((const char *)n->name, "nextToken"))
                next = (char *)xmlNodeGetContent(n);
        xmlFreeDoc(doc);
    } while (next && *next);
    xmlFree(next);
    return json_pack("{s:{s:o}}", "result", "instances", list);
}

static json_t *terminate(const struct aws *a, const json_t *req)
{
    json_t *ids = json_object_get(json_object_get(req, "args"), "ids"), *v;
    json_t *p = json_object();
    char k[32], code[64];
    struct kiln_error err;
    size_t i;

    json_array_foreach (ids, i, v) {
        snprintf(k, sizeof(k), "InstanceId.%zu", i + 1);
        param(p, k, json_string_value(v));
    }
    xmlDocPtr doc = ec2_call(a, "TerminateInstances", p, code, &err);
    json_decref(p);
    if (!doc && strcmp(code, "InvalidInstanceID.NotFound"))
        return failure(code, err.text);
    xmlFreeDoc(doc);
    return json_pack("{s:{}}", "result");
}

static int call(void)
{
    json_error_t jerr;
    json_t *req = json_loadf(stdin, 0, &jerr), *out;
    struct aws a;
    struct kiln_error err;

    if (!req) {
        out = failure("InternalError", jerr.text);
    } else {
        const json_t *k = json_object_get(json_object_get(req, "conf"), "kiln");
        const char *kind = str(req, "kind");
        if (aws_setup(&a, str(k, "region"), str(k, "endpoint"), &err) < 0)
            out = failure("NoCredentials", err.text);
        else if (!strcmp(util_str_or(kind, ""), "launch"))
            out = launch(&a, req);
        else if (!strcmp(util_str_or(kind, ""), "describe"))
            out = describe(&a, req);
        else if (!strcmp(util_str_or(kind, ""), "terminate"))
            out = terminate(&a, req);
        else
            out = failure("InternalError", "unknown operation");
        explicit_bzero(&a, sizeof(a));
    }
    json_dumpf(out, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(out);
    json_decref(req);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    if (argc == 2 && !strcmp(argv[1], "call")) {
        rc = call();
    } else if (argc == 3 && !strcmp(argv[1], "metadata")) {
        long status = 0;
        const char *base =
            util_str_or(getenv("KILN_METADATA_URL"), "http://169.254.169.254");
        char *v = imds_get(base, argv[2], &status);
        if (v) {
            fputs(v, stdout);
            free(v);
            rc = 0;
        } else {
            rc = status == 404 ? 1 : 2;
        }
    } else {
        fprintf(stderr, "usage: kiln-ec2 call | kiln-ec2 metadata PATH\n");
    }
    xmlCleanupParser();
    curl_global_cleanup();
    return rc;
}
