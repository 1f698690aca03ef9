/*
 * The route table is const data: one row per method and path pattern, naming the handler, the
 * least role that may call it and what the shared checks must enforce before the handler runs.
 * router_match() is a pure function so that 404-versus-405 and parameter capture are unit-tested
 * without a server.
 */
#ifndef LOANFLOW_ROUTER_H
#define LOANFLOW_ROUTER_H

#include <stddef.h>

struct http_req;

/* Roles are cumulative: each may do all that the ones below it may. */
enum role { ROLE_PUBLIC = 0, ROLE_APPLICANT = 1, ROLE_OFFICER = 2, ROLE_ADMIN = 3 };

enum route_flags {
    ROUTE_JSON = 1u << 0, /* a body, when present, must be application/json */
    ROUTE_PAGE = 1u << 1, /* HTML page: unauthenticated callers are sent to /login */
    ROUTE_FORM = 1u << 2, /* urlencoded form body with a CSRF token */
    ROUTE_TEST = 1u << 3, /* exists only with TEST_ROUTES=1 */
};

#define ROUTE_MAX_PARAMS 4

struct route {
    const char *method;  /* "GET", "POST", "PATCH", … */
    const char *pattern; /* literal segments and {name} parameters, e.g. /loan/{id}/approve */
    int (*handler)(struct http_req *r);
    enum role role;
    unsigned flags;
};

struct route_param {
    const char *p; /* borrowed: points into the matched path */
    size_t len;
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_METHOD_NOT_ALLOWED };

/*
 * Finds the row for method and path in a table ended by a row with a NULL method. HEAD matches a
 * GET row. On ROUTE_FOUND, *out is the row and params[0..*nparams) the captured parameters. On
 * ROUTE_METHOD_NOT_ALLOWED, allow receives the comma-separated methods of the path ("GET, HEAD").
 * Rows with a flag in skip_flags are ignored. Parameters never match an empty segment.
 */
enum route_result router_match(const struct route *table, const char *method, const char *path,
                               unsigned skip_flags, const struct route **out,
                               struct route_param *params, int *nparams, char *allow,
                               size_t allowlen);

const char *router_role_name(enum role role);

#endif
