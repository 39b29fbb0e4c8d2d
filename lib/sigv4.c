/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AWS Signature Version 4: see sigv4.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "lib/sigv4.h"

static void hex_of(const unsigned char *d, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];

    SHA256(data, len, d);
    hex_of(d, sizeof(d), hex);
}

static void hmac(const void *key, size_t klen, const char *msg,
                 unsigned char out[32])
{
    unsigned int n = 32;

    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg),
         out, &n);
}

int sigv4_uri_encode(const char *s, char *out, size_t len)
{
    size_t n = strlen(out);

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            if (n + 1 >= len)
                return -1;
            out[n++] = (char)c;
        } else {
            if (n + 3 >= len)
                return -1;
            snprintf(out + n, 4, "%%%02X", c);
            n += 3;
        }
    }
    out[n] = '\0';
    return 0;
}

/* A growing string. */
struct buf {
    char *s;
    size_t n, cap;
    int failed;
};

static void put(struct buf *b, const char *s, size_t len)
{
    if (b->failed)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->failed = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, len);
    b->n += len;
    b->s[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* s[0..len) %-decoded ('+' stays: SigV4 does not read forms) into a new
 * string. */
static char *decode(const char *s, size_t len)
{
    char *out = malloc(len + 1), *o = out;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval((unsigned char)s[i + 1]) >= 0
            && hexval((unsigned char)s[i + 2]) >= 0) {
            *o++ = (char)(hexval((unsigned char)s[i + 1]) * 16
                          + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* One query parameter, encoded as SigV4 wants. */
struct param {
    char *name, *value;
};

static int by_param(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s, size_t len)
{
    char *raw = decode(s, len), *out;
    size_t cap;

    if (!raw)
        return NULL;
    cap = strlen(raw) * 3 + 1;
    if ((out = malloc(cap))) {
        out[0] = '\0';
        sigv4_uri_encode(raw, out, cap);
    }
    free(raw);
    return out;
}

static void canonical_query(struct buf *b, const char *q)
{
    size_t n = 0, cap = 1;
    struct param *p;

    for (const char *c = q; *c; c++)
        cap += *c == '&';
    if (!*q || !(p = calloc(cap, sizeof(*p)))) {
        b->failed = *q ? 1 : b->failed;
        return;
    }
    for (const char *s = q; *s;) {
        const char *amp = strchr(s, '&'), *end = amp ? amp : s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (end > s) {
            p[n].name = encoded(s, (size_t)((eq ? eq : end) - s));
            p[n].value =
                eq ? encoded(eq + 1, (size_t)(end - eq - 1)) : strdup("");
            if (!p[n].name || !p[n].value)
                b->failed = 1;
            n++;
        }
        s = amp ? amp + 1 : end;
    }
    if (!b->failed)
        qsort(p, n, sizeof(*p), by_param);
    for (size_t i = 0; i < n; i++) {
        if (!b->failed) {
            if (i)
                puts_(b, "&");
            puts_(b, p[i].name);
            puts_(b, "=");
            puts_(b, p[i].value);
        }
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

/* A header as signed: lowercase name, value trimmed with inner runs of
 * spaces made one. */
struct header {
    char name[128];
    char *value;
};

static int by_header(const void *a, const void *b)
{
    return strcmp(((const struct header *)a)->name,
                  ((const struct header *)b)->name);
}

static char *trimmed(const char *v)
{
    char *out = malloc(strlen(v) + 1), *o = out;
    int space = 0;

    if (!out)
        return NULL;
    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }
        if (space && o > out)
            *o++ = ' ';
        space = 0;
        *o++ = *v;
    }
    *o = '\0';
    return out;
}

char *sigv4_canonical_request(const struct sigv4_request *r, char *signed_names,
                              size_t len)
{
    struct header *h = calloc(r->nheaders ? r->nheaders : 1, sizeof(*h));
    struct buf b = { 0 };
    char hash[65];
    size_t nh = 0, used = 0;

    if (!h)
        return NULL;
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *colon = strchr(r->headers[i], ':');
        size_t n = colon ? (size_t)(colon - r->headers[i]) : 0;
        if (!colon || n == 0 || n >= sizeof(h[0].name))
            b.failed = 1;
        else {
            for (size_t k = 0; k < n; k++)
                h[nh].name[k] = (char)tolower((unsigned char)r->headers[i][k]);
            if (!(h[nh].value = trimmed(colon + 1)))
                b.failed = 1;
            nh++;
        }
    }
    qsort(h, nh, sizeof(*h), by_header);
    puts_(&b, r->method);
    puts_(&b, "\n");
    puts_(&b, r->path && *r->path ? r->path : "/");
    puts_(&b, "\n");
    canonical_query(&b, r->query ? r->query : "");
    puts_(&b, "\n");
    signed_names[0] = '\0';
    for (size_t i = 0; i < nh; i++) {
        /* the same name again: its values joined with commas */
        if (i && !strcmp(h[i].name, h[i - 1].name)) {
            b.n--; /* the newline */
            puts_(&b, ",");
        } else {
            puts_(&b, h[i].name);
            puts_(&b, ":");
            used += (size_t)snprintf(signed_names + used,
                                     used < len ? len - used : 0, "%s%s",
                                     used ? ";" : "", h[i].name);
        }
        puts_(&b, h[i].value);
        puts_(&b, "\n");
    }
    puts_(&b, "\n");
    puts_(&b, signed_names);
    puts_(&b, "\n");
    sigv4_sha256_hex(r->payload ? r->payload : "", r->payload_len, hash);
    puts_(&b, hash);
    for (size_t i = 0; i < nh; i++)
        free(h[i].value);
    free(h);
    if (b.failed || used >= len) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int sigv4_authorization(const struct sigv4_request *r, const char *access_key,
                        const char *secret_key, char *out, size_t len)
{
    char names[1024], hash[65], scope[256], *sts, sig[65], date[9];
    unsigned char k[32], k2[32];
    char *creq = sigv4_canonical_request(r, names, sizeof(names));
    size_t slen;
    int n;

    if (!creq || strlen(r->amz_date) != 16)
        goto fail;
    snprintf(date, sizeof(date), "%.8s", r->amz_date);
    snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, r->region,
             r->service);
    sigv4_sha256_hex(creq, strlen(creq), hash);
    slen = strlen(r->amz_date) + strlen(scope) + strlen(hash) + 32;
    if (!(sts = malloc(slen)))
        goto fail;
    snprintf(sts, slen, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amz_date, scope,
             hash);
    /* kSecret = "AWS4" + secret; then date, region, service, the word. */
    size_t klen = strlen(secret_key) + 5;
    char *ksecret = malloc(klen);
    if (!ksecret) {
        free(sts);
        goto fail;
    }
    snprintf(ksecret, klen, "AWS4%s", secret_key);
    hmac(ksecret, strlen(ksecret), date, k);
    OPENSSL_cleanse(ksecret, klen);
    free(ksecret);
    hmac(k, 32, r->region, k2);
    hmac(k2, 32, r->service, k);
    hmac(k, 32, "aws4_request", k2);
    hmac(k2, 32, sts, k);
    OPENSSL_cleanse(k2, sizeof(k2));
    hex_of(k, 32, sig);
    free(sts);
    free(creq);
    n = snprintf(out, len,
                 "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                 "Signature=%s",
                 access_key, scope, names, sig);
    return n < 0 || (size_t)n >= len ? -1 : 0;
fail:
    free(creq);
    return -1;
}
