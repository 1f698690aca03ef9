/*
 * Linear matching over the table. With a few dozen routes a scan of literal segments costs less
 * than a request's header parsing, and keeping the table a flat array keeps the access policy
 * readable in one screen; a trie would buy nothing measurable here.
 */
#include "router.h"

#include <string.h>

/* Matches one pattern against a path; fills params. 1 on match. */
static int pattern_match(const char *pat, const char *path, struct route_param *params,
                         int *nparams)
{
    int np = 0;
    while (*pat != '\0' && *path != '\0') {
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            if (close == NULL)
                return 0;
            const char *seg_end = strchr(path, '/');
            size_t len = seg_end ? (size_t)(seg_end - path) : strlen(path);
            if (len == 0 || np >= ROUTE_MAX_PARAMS)
                return 0;
            params[np].p = path;
            params[np].len = len;
            np++;
            pat = close + 1;
            path += len;
            continue;
        }
        if (*pat != *path)
            return 0;
        pat++;
        path++;
    }
    if (*pat != '\0' || *path != '\0')
        return 0;
    *nparams = np;
    return 1;
}

static void allow_add(char *allow, size_t allowlen, const char *method)
{
    if (allowlen == 0 || strstr(allow, method) != NULL)
        return;
    size_t used = strlen(allow);
    size_t need = strlen(method) + (used ? 2 : 0);
    if (used + need + 1 > allowlen)
        return;
    if (used) {
        memcpy(allow + used, ", ", 2);
        used += 2;
    }
    memcpy(allow + used, method, strlen(method) + 1);
}

enum route_result router_match(const struct route *table, const char *method, const char *path,
                               unsigned skip_flags, const struct route **out,
                               struct route_param *params, int *nparams, char *allow,
                               size_t allowlen)
{
    int path_known = 0;
    int is_head = strcmp(method, "HEAD") == 0;
    if (allowlen)
        allow[0] = '\0';
    *nparams = 0;
    for (const struct route *rt = table; rt->method != NULL; rt++) {
        if (rt->flags & skip_flags)
            continue;
        struct route_param tmp[ROUTE_MAX_PARAMS];
        int n = 0;
        if (!pattern_match(rt->pattern, path, tmp, &n))
            continue;
        if (!strcmp(rt->method, method) || (is_head && !strcmp(rt->method, "GET"))) {
            *out = rt;
            memcpy(params, tmp, sizeof(tmp[0]) * (size_t)n);
            *nparams = n;
            return ROUTE_FOUND;
        }
        path_known = 1;
    }
    if (!path_known)
        return ROUTE_NOT_FOUND;
    for (const struct route *rt = table; rt->method != NULL; rt++) {
        struct route_param tmp[ROUTE_MAX_PARAMS];
        int n;
        if (!(rt->flags & skip_flags) && pattern_match(rt->pattern, path, tmp, &n)) {
            allow_add(allow, allowlen, rt->method);
            if (!strcmp(rt->method, "GET"))
                allow_add(allow, allowlen, "HEAD");
        }
    }
    return ROUTE_METHOD_NOT_ALLOWED;
}

const char *router_role_name(enum role role)
{
    switch (role) {
    case ROLE_PUBLIC:
        return "public";
    case ROLE_APPLICANT:
        return "applicant";
    case ROLE_OFFICER:
        return "officer";
    case ROLE_ADMIN:
        return "admin";
    }
    return "unknown";
}
