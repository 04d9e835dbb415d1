/*
 * h_web.c — the web page, from the files compiled into the binary
 * (embedded_web: maps/web and MapLibre GL JS from npm), so that `lomsong
 * serve` needs no file and no network to show it:
 *
 *   GET /             index.html
 *   GET /web/{file}   the page's scripts, styles, icon, manifest and MapLibre
 *   GET /sw.js        the service worker, at the root so that its scope is
 *                     the whole site (a worker's scope is its own directory)
 *
 * Each answer has a strong ETag (a 304 when If-None-Match has it), is
 * revalidated on every use (Cache-Control: no-cache: a 304 costs nothing,
 * and a new build is seen at once), is sent gzip'd when the client takes it
 * (the copies were compressed at build time), and carries a strict
 * Content-Security-Policy: only this origin, blob: for MapLibre's workers,
 * data: for images.  The service worker's cache is named after a hash of
 * every embedded file, written into sw.js here, so a new build replaces the
 * cached page on the devices that have it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "embed.h"
#include "handlers.h"
#include "log.h"

#define WEB_MAX_FILES 64
#define SW_VERSION_MARK "__LOMSONG_WEB_VERSION__"

static const char csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

struct web_file {
    const char *name, *type;
    const char *data, *gz; /* gz: the gzip'd copy, or NULL */
    size_t len, gz_len;
    char etag[24], etag_gz[28]; /* "\"<16 hex>\"" and "\"<16 hex>-gz\"" */
};

static struct {
    struct web_file files[WEB_MAX_FILES];
    int n;
    char version[17];
    char *sw; /* sw.js with the version written in; NULL when there is no sw.js */
    size_t sw_len;
    char sw_etag[24];
} web;

static pthread_once_t web_once = PTHREAD_ONCE_INIT;

/* FNV-1a, 64 bits: a content hash for ETags and the cache version (not a
 * security measure). */
static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_SEED 0xcbf29ce484222325ULL

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The Content-Type of a file we serve, by its extension; NULL: not served. */
static const char *type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".webmanifest", "application/manifest+json"},
        {".json", "application/json"},
        {".png", "image/png"},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(types); i++)
        if (ends_with(name, types[i].ext))
            return types[i].type;
    return NULL;
}

static struct web_file *find(const char *name)
{
    for (int i = 0; i < web.n; i++)
        if (strcmp(web.files[i].name, name) == 0)
            return &web.files[i];
    return NULL;
}

/* Builds the table once: files, their gzip'd copies, ETags, the version. */
static void web_init(void)
{
    uint64_t all = FNV_SEED;
    for (const ls_embedded *e = embedded_web; e->name; e++) {
        if (ends_with(e->name, ".gz") || !type_of(e->name))
            continue;
        if (web.n == WEB_MAX_FILES) {
            log_error("web: more than %d embedded files; %s and later ones are not served",
                      WEB_MAX_FILES, e->name);
            break;
        }
        struct web_file *f = &web.files[web.n++];
        f->name = e->name;
        f->type = type_of(e->name);
        f->data = e->data;
        f->len = e->len;
        uint64_t h = fnv(FNV_SEED, e->data, e->len);
        all = fnv(all, (const char *)&h, sizeof(h));
        snprintf(f->etag, sizeof(f->etag), "\"%016llx\"", (unsigned long long)h);
        snprintf(f->etag_gz, sizeof(f->etag_gz), "\"%016llx-gz\"", (unsigned long long)h);
    }
    for (const ls_embedded *e = embedded_web; e->name; e++) {
        size_t n = strlen(e->name);
        if (!ends_with(e->name, ".gz") || n <= 3 || n - 3 >= 128)
            continue;
        char base[128];
        memcpy(base, e->name, n - 3);
        base[n - 3] = '\0';
        struct web_file *f = find(base);
        /* A compressed copy that is not smaller is not worth the header. */
        if (f && e->len < f->len) {
            f->gz = e->data;
            f->gz_len = e->len;
        }
    }
    snprintf(web.version, sizeof(web.version), "%016llx", (unsigned long long)all);

    /* sw.js with the version written over its mark (same length or not). */
    const struct web_file *sw = find("sw.js");
    const char *mark = sw ? strstr(sw->data, SW_VERSION_MARK) : NULL;
    if (sw && mark) {
        size_t pre = (size_t)(mark - sw->data), ml = strlen(SW_VERSION_MARK);
        size_t vl = strlen(web.version);
        web.sw_len = sw->len - ml + vl;
        web.sw = malloc(web.sw_len + 1); /* lives as long as the process */
        if (web.sw) {
            memcpy(web.sw, sw->data, pre);
            memcpy(web.sw + pre, web.version, vl);
            memcpy(web.sw + pre + vl, mark + ml, sw->len - pre - ml);
            web.sw[web.sw_len] = '\0';
            snprintf(web.sw_etag, sizeof(web.sw_etag), "\"%016llx\"",
                     (unsigned long long)fnv(FNV_SEED, web.sw, web.sw_len));
        }
    }
}

/* 1 when the Accept-Encoding header accepts gzip (a token gzip or *, with
 * no q=0). */
static int takes_gzip(const char *ae)
{
    while (ae && *ae) {
        size_t n = strcspn(ae, ",");
        const char *tok = ae;
        while (tok < ae + n && (*tok == ' ' || *tok == '\t'))
            tok++;
        size_t tl = strcspn(tok, ",; \t");
        if (tok + tl > ae + n)
            tl = (size_t)(ae + n - tok);
        if ((tl == 4 && strncasecmp(tok, "gzip", 4) == 0) || (tl == 1 && *tok == '*')) {
            const char *q = strstr(tok, "q=");
            int zero = 0;
            if (q && q < ae + n) {
                zero = 1;
                for (const char *d = q + 2; d < ae + n && *d != ' ' && *d != ';'; d++)
                    if (*d != '0' && *d != '.')
                        zero = 0;
            }
            if (!zero)
                return 1;
        }
        ae += n;
        if (*ae == ',')
            ae++;
    }
    return 0;
}

/* 1 when If-None-Match names `etag` (or is *); W/ prefixes are ignored
 * (the weak comparison RFC 9110 asks for with If-None-Match). */
static int not_modified(const char *inm, const char *etag)
{
    if (!inm)
        return 0;
    size_t el = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ",");
        const char *end = p + n;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - p) == el && strncmp(p, etag, el) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* The common answer: body, type, ETag, 304, gzip, caching and CSP. */
static ls_status serve(api_request *rq, const char *type, const char *data, size_t len,
                       const char *etag, const char *gz, size_t gz_len, const char *gz_etag)
{
    int use_gz = gz && takes_gzip(api_header(rq, "Accept-Encoding"));
    const char *tag = use_gz ? gz_etag : etag;
    api_add_header(rq, "ETag", tag);
    api_add_header(rq, "Cache-Control", "no-cache");
    api_add_header(rq, "Content-Security-Policy", csp);
    api_add_header(rq, "Referrer-Policy", "no-referrer");
    if (gz)
        api_add_header(rq, "Vary", "Accept-Encoding");
    if (not_modified(api_header(rq, "If-None-Match"), tag))
        return api_reply(rq, 304, type, "", 0);
    if (use_gz) {
        api_add_header(rq, "Content-Encoding", "gzip");
        return api_reply(rq, 200, type, gz, gz_len);
    }
    return api_reply(rq, 200, type, data, len);
}

static ls_status serve_file(api_request *rq, const struct web_file *f)
{
    return serve(rq, f->type, f->data, f->len, f->etag, f->gz, f->gz_len, f->etag_gz);
}

ls_status api_h_web_index(api_request *rq)
{
    pthread_once(&web_once, web_init);
    const struct web_file *f = find("index.html");
    if (!f)
        return api_fail(rq, LS_ENOTFOUND, "this build carries no web page");
    return serve_file(rq, f);
}

ls_status api_h_web_sw(api_request *rq)
{
    pthread_once(&web_once, web_init);
    if (!web.sw)
        return api_fail(rq, LS_ENOTFOUND, "this build carries no service worker");
    return serve(rq, "text/javascript; charset=utf-8", web.sw, web.sw_len, web.sw_etag, NULL, 0,
                 NULL);
}

ls_status api_h_web_file(api_request *rq)
{
    pthread_once(&web_once, web_init);
    const char *name = rq->params[0];
    size_t n = strlen(name);
    /* Names are plain file names: no directory, no dot file, no "..". */
    if (n == 0 || n > 100 || name[0] == '.' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
        return api_fail(rq, LS_ENOTFOUND, "there is no such file in the web page");
    const struct web_file *f = find(name);
    /* The service worker is served at /sw.js only: from /web/ its scope
     * would be /web/ and it would not see the page. */
    if (!f || strcmp(name, "sw.js") == 0)
        return api_fail(rq, LS_ENOTFOUND, "there is no file %s in the web page", name);
    return serve_file(rq, f);
}
