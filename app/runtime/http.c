/*
 * Request accessors and response writers over libfcgi. A response is assembled in the arena and
 * written with one FCGX_PutStr, so a handler that fails half-way never leaves a partial response:
 * http_send refuses a second response for the same request (and logs it as a fault).
 *
 * Headers are added in one place, http_add_header, which refuses any control byte in a value
 * (and anything but token characters in a name): whatever a handler puts there, often decoded
 * from the request (a path in Location), can never end a header line and start another
 * (response splitting). Values that carry request text are percent-encoded first
 * (http_url_encode), so a refusal is a bug caught, not a user's request lost.
 */
#include "http.h"

#include <fcgiapp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

const char *http_param(http_req *r, const char *name)
{
    if (r->fcgi == NULL)
        return NULL;
    return FCGX_GetParam(name, r->fcgi->envp);
}

const char *http_route_param(http_req *r, int i)
{
    if (i < 0 || i >= r->nparams)
        return NULL;
    return arena_strndup(r->pool, r->params[i].p, r->params[i].len);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long http_url_decode(const char *in, size_t len, char *out, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int h = hexval((unsigned char)in[i + 1]), l = hexval((unsigned char)in[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            if (c == '\0')
                return -1;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        } else if (c == '\0') {
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

int http_parse_urlencoded(arena *a, const char *s, struct http_kv **out)
{
    int n = 0, cap = 1;
    for (const char *p = s; *p; p++)
        if (*p == '&')
            cap++;
    struct http_kv *kv = arena_alloc(a, sizeof(*kv) * (size_t)cap);
    if (kv == NULL)
        return -1;
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            size_t vlen = eq ? len - klen - 1 : 0;
            char *k = arena_alloc(a, klen + 1);
            char *v = arena_alloc(a, vlen + 1);
            if (k == NULL || v == NULL)
                return -1;
            if (http_url_decode(p, klen, k, 1) < 0)
                return -1;
            if (http_url_decode(eq ? eq + 1 : p + len, vlen, v, 1) < 0)
                return -1;
            kv[n].key = k;
            kv[n].value = v;
            n++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    *out = kv;
    return n;
}

static int load_query(http_req *r)
{
    if (r->qs != NULL)
        return r->nqs;
    if (r->query == NULL || r->query[0] == '\0') {
        r->qs = arena_alloc(r->pool, sizeof(struct http_kv));
        r->nqs = 0;
        return 0;
    }
    r->nqs = http_parse_urlencoded(r->pool, r->query, &r->qs);
    if (r->nqs < 0)
        r->qs = arena_alloc(r->pool, sizeof(struct http_kv));
    return r->nqs;
}

int http_query_valid(http_req *r)
{
    return load_query(r) < 0 ? -1 : 0;
}

const char *http_query(http_req *r, const char *key)
{
    if (load_query(r) <= 0)
        return NULL;
    for (int i = 0; i < r->nqs; i++)
        if (!strcmp(r->qs[i].key, key))
            return r->qs[i].value;
    return NULL;
}

const char *http_form(http_req *r, const char *key)
{
    for (int i = 0; i < r->nform; i++)
        if (!strcmp(r->form[i].key, key))
            return r->form[i].value;
    return NULL;
}

const char *http_cookie(http_req *r, const char *name)
{
    const char *h = http_param(r, "HTTP_COOKIE");
    size_t nlen = strlen(name);
    while (h != NULL && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len > nlen && !strncmp(h, name, nlen) && h[nlen] == '=')
            return arena_strndup(r->pool, h + nlen + 1, len - nlen - 1);
        h = end;
    }
    return NULL;
}

int http_header_value_ok(const char *value)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* RFC 9110 token characters. */
static int header_name_ok(const char *name)
{
    if (name[0] == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *p) != NULL))
            return 0;
    return 1;
}

int http_add_header(http_req *r, const char *name, const char *value)
{
    if (name == NULL || value == NULL || !header_name_ok(name) || !http_header_value_ok(value)) {
        log_msg(LOG_ERROR, "request %s: header %s refused: a control byte or a bad name",
                r->request_id ? r->request_id : "-",
                name != NULL && header_name_ok(name) ? name : "(invalid name)");
        r->error_detail = "a response header with a control byte was refused";
        return -1;
    }
    struct http_header *h = arena_alloc(r->pool, sizeof(*h));
    if (h == NULL)
        return -1;
    h->name = arena_strdup(r->pool, name);
    h->value = arena_strdup(r->pool, value);
    if (h->name == NULL || h->value == NULL)
        return -1;
    h->next = r->headers;
    r->headers = h;
    return 0;
}

const char *http_url_encode(arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = arena_alloc(a, 3 * len + 1);
    if (out == NULL)
        return "";
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

int http_send(http_req *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->responded) {
        log_msg(LOG_ERROR, "second response for request %s ignored",
                r->request_id ? r->request_id : "-");
        return r->status;
    }
    r->responded = 1;
    r->status = status;
    int head_only = r->method != NULL && !strcmp(r->method, "HEAD");
    if (status == 304 || status == 204)
        head_only = 1;

    size_t hlen = 64 + strlen(content_type ? content_type : "");
    for (struct http_header *h = r->headers; h; h = h->next)
        hlen += strlen(h->name) + strlen(h->value) + 4;
    char *buf = arena_alloc(r->pool, hlen + (head_only ? 0 : len) + 1);
    if (buf == NULL)
        return status;
    int n = snprintf(buf, hlen, "Status: %d %s\r\n", status, http_reason(status));
    if (content_type && status != 304 && status != 204)
        n += snprintf(buf + n, hlen - (size_t)n, "Content-Type: %s\r\n", content_type);
    for (struct http_header *h = r->headers; h; h = h->next)
        n += snprintf(buf + n, hlen - (size_t)n, "%s: %s\r\n", h->name, h->value);
    buf[n++] = '\r';
    buf[n++] = '\n';
    if (!head_only && len) {
        memcpy(buf + n, body, len);
        n += (int)len;
    }
    r->bytes = head_only ? 0 : len;
    if (r->fcgi != NULL)
        FCGX_PutStr(buf, n, r->fcgi->out);
    return status;
}

int http_send_json_etag(http_req *r, const char *json, const char *cache_control)
{
    unsigned char h[12];
    char hex[25], etag[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)json, strlen(json), NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(etag, sizeof(etag), "\"%s\"", hex);
    http_add_header(r, "ETag", etag);
    http_add_header(r, "Cache-Control", cache_control);
    const char *inm = http_param(r, "HTTP_IF_NONE_MATCH");
    if (inm != NULL && (strstr(inm, etag) != NULL || !strcmp(inm, "*")))
        return http_send(r, 304, NULL, "", 0);
    return http_send(r, 200, "application/json", json, strlen(json));
}

int http_send_json(http_req *r, int status, json_object *o)
{
    size_t len;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    int rc = http_send(r, status, "application/json", s, len);
    json_object_put(o);
    return rc;
}

int http_error_fields(http_req *r, int status, const char *code, const char *message,
                      json_object *fields)
{
    json_object *err = json_object_new_object();
    json_object_object_add(err, "status", json_object_new_int(status));
    json_object_object_add(err, "code", json_object_new_string(code));
    json_object_object_add(err, "message", json_object_new_string(message));
    if (fields != NULL)
        json_object_object_add(err, "fields", fields);
    if (r->request_id != NULL)
        json_object_object_add(err, "request_id", json_object_new_string(r->request_id));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", err);
    return http_send_json(r, status, o);
}

int http_error(http_req *r, int status, const char *code, const char *message)
{
    return http_error_fields(r, status, code, message, NULL);
}

int http_fault(http_req *r, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    /* Keep the detail on one line for the JSON log. */
    for (char *p = detail; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    r->error_detail = arena_strdup(r->pool, detail);
    return http_error(r, 500, "internal_error",
                      "The server could not complete the request; quote the request id when "
                      "reporting it.");
}

int http_redirect(http_req *r, const char *location)
{
    if (http_add_header(r, "Location", location) != 0)
        http_add_header(r, "Location", "/");
    return http_send(r, 303, "text/plain; charset=utf-8", "", 0);
}
