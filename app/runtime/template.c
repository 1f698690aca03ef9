/*
 * The renderer walks the source directly with a recursive descent over sections; parsing is so
 * cheap next to a database round trip that caching a token list would buy nothing measurable,
 * so only the file contents are cached. Output goes to a growable buffer taken from the arena.
 */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct buf {
    arena *a;
    char *p;
    size_t len, cap;
    int failed;
};

static void buf_put(void *ud, const char *s, size_t n)
{
    struct buf *b = ud;
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = arena_alloc(b->a, cap);
        if (np == NULL) {
            b->failed = 1;
            return;
        }
        if (b->len)
            memcpy(np, b->p, b->len);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void template_escape(const char *s, size_t n, void (*put)(void *ud, const char *p, size_t n),
                     void *ud)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            break;
        }
        if (rep) {
            put(ud, s + start, i - start);
            put(ud, rep, strlen(rep));
            start = i + 1;
        }
    }
    put(ud, s + start, n - start);
}

struct scope {
    json_object *obj;
    const struct scope *up;
};

/* Resolves a dotted path against the scope chain; borrowed result or NULL. */
static json_object *lookup(const struct scope *sc, const char *name, size_t n)
{
    if (n == 1 && name[0] == '.')
        return sc->obj;
    for (; sc != NULL; sc = sc->up) {
        json_object *cur = sc->obj;
        const char *p = name, *end = name + n;
        int ok = 1;
        while (p < end && ok) {
            const char *dot = memchr(p, '.', (size_t)(end - p));
            size_t len = dot ? (size_t)(dot - p) : (size_t)(end - p);
            char key[128];
            if (len >= sizeof(key) || cur == NULL || !json_object_is_type(cur, json_type_object)) {
                ok = 0;
                break;
            }
            memcpy(key, p, len);
            key[len] = '\0';
            json_object *next;
            if (!json_object_object_get_ex(cur, key, &next)) {
                ok = 0;
                break;
            }
            cur = next;
            p += len + (dot ? 1 : 0);
        }
        if (ok)
            return cur;
    }
    return NULL;
}

static int truthy(json_object *v)
{
    if (v == NULL)
        return 0;
    switch (json_object_get_type(v)) {
    case json_type_null:
        return 0;
    case json_type_boolean:
        return json_object_get_boolean(v);
    case json_type_int:
        return json_object_get_int64(v) != 0;
    case json_type_double:
        return json_object_get_double(v) != 0;
    case json_type_string:
        return json_object_get_string_len(v) > 0;
    case json_type_array:
        return json_object_array_length(v) > 0;
    case json_type_object:
        return 1;
    }
    return 0;
}

static void put_value(struct buf *b, json_object *v, int raw)
{
    if (v == NULL || json_object_is_type(v, json_type_null))
        return;
    const char *s;
    size_t n;
    if (json_object_is_type(v, json_type_string)) {
        s = json_object_get_string(v);
        n = (size_t)json_object_get_string_len(v);
    } else {
        s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        n = strlen(s);
    }
    if (raw)
        buf_put(b, s, n);
    else
        template_escape(s, n, buf_put, b);
}

/* JSON for a <script type="application/json"> block: "<", ">" and "&" become \u escapes so the
 * data can never close the script element or open a comment. */
static void put_json(struct buf *b, json_object *v)
{
    const char *s =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t start = 0, n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '<'   ? "\\u003c"
                          : s[i] == '>' ? "\\u003e"
                          : s[i] == '&' ? "\\u0026"
                                        : NULL;
        if (rep) {
            buf_put(b, s + start, i - start);
            buf_put(b, rep, 6);
            start = i + 1;
        }
    }
    buf_put(b, s + start, n - start);
}

static const char *template_dir = "templates";

void template_set_dir(const char *dir)
{
    template_dir = dir;
}

struct cached {
    char name[64];
    char *src;
};
static struct cached cache[32];

static const char *load(const char *name)
{
    for (int i = 0; i < 32 && cache[i].src; i++)
        if (!strcmp(cache[i].name, name))
            return cache[i].src;
    char path[512];
    if (strlen(name) >= sizeof(cache[0].name) || strchr(name, '/') || strstr(name, ".."))
        return NULL;
    snprintf(path, sizeof(path), "%s/%s.html", template_dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        log_msg(LOG_ERROR, "template %s not found", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *src = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (src == NULL || fread(src, 1, (size_t)n, f) != (size_t)n) {
        free(src);
        fclose(f);
        return NULL;
    }
    fclose(f);
    src[n] = '\0';
    for (int i = 0; i < 32; i++) {
        if (cache[i].src == NULL) {
            snprintf(cache[i].name, sizeof(cache[i].name), "%s", name);
            cache[i].src = src; /* kept for the life of the worker */
            return src;
        }
    }
    log_msg(LOG_WARN, "template cache full; %s is read on every use", name);
    return src; /* leaks one copy per use only when over 32 templates: never today */
}

static int render(struct buf *b, const char *p, const char *end, const struct scope *sc, int depth);

/* Finds the matching {{/tag}} for a section opened just before p, skipping nested sections of
 * any kind. Sets *else_at to an {{else}} at this level when wanted. NULL when unbalanced. */
static const char *find_close(const char *p, const char *end, const char **else_at)
{
    int level = 0;
    if (else_at)
        *else_at = NULL;
    while (p < end) {
        const char *open = strstr(p, "{{");
        if (open == NULL || open >= end)
            return NULL;
        const char *close = strstr(open, "}}");
        if (close == NULL || close >= end)
            return NULL;
        if (open[2] == '#')
            level++;
        else if (open[2] == '/') {
            if (level == 0)
                return open;
            level--;
        } else if (level == 0 && else_at && close - open == 6 && !strncmp(open + 2, "else", 4))
            *else_at = open;
        p = close + 2;
    }
    return NULL;
}

static int render(struct buf *b, const char *p, const char *end, const struct scope *sc, int depth)
{
    if (depth > 16)
        return -1;
    while (p < end) {
        const char *open = strstr(p, "{{");
        if (open == NULL || open >= end) {
            buf_put(b, p, (size_t)(end - p));
            return 0;
        }
        buf_put(b, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (close == NULL || close > end)
            return -1;
        const char *tag = open + 2;
        size_t tlen = (size_t)(close - tag);
        while (tlen && *tag == ' ') {
            tag++;
            tlen--;
        }
        while (tlen && tag[tlen - 1] == ' ')
            tlen--;
        const char *after = close + 2;
        if (tlen > 6 && !strncmp(tag, "#each ", 6)) {
            const char *body_end = find_close(after, end, NULL);
            if (body_end == NULL)
                return -1;
            json_object *list = lookup(sc, tag + 6, tlen - 6);
            if (list && json_object_is_type(list, json_type_array)) {
                size_t n = json_object_array_length(list);
                for (size_t i = 0; i < n; i++) {
                    struct scope inner = {json_object_array_get_idx(list, i), sc};
                    if (render(b, after, body_end, &inner, depth + 1) != 0)
                        return -1;
                }
            }
            p = strstr(body_end, "}}") + 2;
        } else if (tlen > 4 && !strncmp(tag, "#if ", 4)) {
            const char *else_at;
            const char *body_end = find_close(after, end, &else_at);
            if (body_end == NULL)
                return -1;
            int t = truthy(lookup(sc, tag + 4, tlen - 4));
            if (t && render(b, after, else_at ? else_at : body_end, sc, depth + 1) != 0)
                return -1;
            if (!t && else_at && render(b, else_at + 8, body_end, sc, depth + 1) != 0)
                return -1;
            p = strstr(body_end, "}}") + 2;
        } else if (tlen > 2 && !strncmp(tag, "> ", 2)) {
            char name[64];
            size_t nl = tlen - 2;
            if (nl >= sizeof(name))
                return -1;
            memcpy(name, tag + 2, nl);
            name[nl] = '\0';
            const char *src = load(name);
            if (src == NULL || render(b, src, src + strlen(src), sc, depth + 1) != 0)
                return -1;
            p = after;
        } else if (tlen > 4 && !strncmp(tag, "raw ", 4)) {
            put_value(b, lookup(sc, tag + 4, tlen - 4), 1);
            p = after;
        } else if (tlen > 5 && !strncmp(tag, "json ", 5)) {
            json_object *v = lookup(sc, tag + 5, tlen - 5);
            if (v == NULL)
                buf_put(b, "null", 4);
            else
                put_json(b, v);
            p = after;
        } else if (tlen > 0 && tag[0] != '#' && tag[0] != '/') {
            put_value(b, lookup(sc, tag, tlen), 0);
            p = after;
        } else {
            return -1;
        }
    }
    return 0;
}

char *template_render_string(arena *a, const char *src, json_object *ctx, size_t *len)
{
    struct buf b = {a, NULL, 0, 0, 0};
    struct scope top = {ctx, NULL};
    if (render(&b, src, src + strlen(src), &top, 0) != 0 || b.failed)
        return NULL;
    if (b.p == NULL) {
        b.p = arena_strdup(a, "");
    }
    *len = b.len;
    return b.p;
}

char *template_render(arena *a, const char *name, json_object *ctx, size_t *len)
{
    const char *src = load(name);
    if (src == NULL)
        return NULL;
    char *out = template_render_string(a, src, ctx, len);
    if (out == NULL)
        log_msg(LOG_ERROR, "template %s is malformed", name);
    return out;
}
