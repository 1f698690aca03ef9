/*
 * The route table: method, path, handler, the least role allowed, and the body the shared checks
 * expect. Roles are cumulative (applicant < officer < admin). This table is the access policy;
 * tests/api walks it for every kind of caller.
 */
#include "routes.h"

#include "audit.h"

/* clang-format off */
static const struct route table[] = {
    /* method   path                        handler                  role             flags */
    {"GET",   "/",                          health_get,              ROLE_PUBLIC,     0},

    {"POST",  "/register",                  auth_register,           ROLE_PUBLIC,     ROUTE_JSON},
    {"POST",  "/login",                     auth_login,              ROLE_PUBLIC,     ROUTE_JSON},
    {"POST",  "/logout",                    auth_logout,             ROLE_APPLICANT,  ROUTE_JSON},
    {"GET",   "/login",                     auth_login_page,         ROLE_PUBLIC,     0},
    {"POST",  "/session",                   auth_session_form,       ROLE_PUBLIC,     ROUTE_FORM},
    {"POST",  "/session/end",               auth_session_end_form,   ROLE_APPLICANT,  ROUTE_FORM},

    {"GET",   "/admin/users",               admin_users_list,        ROLE_ADMIN,      0},
    {"POST",  "/admin/users",               admin_users_create,      ROLE_ADMIN,      ROUTE_JSON},
    {"PATCH", "/admin/users/{id}",          admin_users_update,      ROLE_ADMIN,      ROUTE_JSON},

    {"POST",  "/__test/echo",               testing_echo,            ROLE_PUBLIC,     ROUTE_JSON | ROUTE_TEST},
    {"GET",   "/__test/sleep",              testing_sleep,           ROLE_PUBLIC,     ROUTE_TEST},
    {"GET",   "/__test/db",                 testing_db,              ROLE_PUBLIC,     ROUTE_TEST},
    {NULL, NULL, NULL, ROLE_PUBLIC, 0},
};
/* clang-format on */

static const struct db_stmt *const statements[] = {
    testing_statements,
    auth_statements,
    audit_statements,
    NULL,
};

const struct route *routes_table(void)
{
    return table;
}

const struct db_stmt *const *routes_statements(void)
{
    return statements;
}

int routes_db_error(http_req *r, const PGresult *res)
{
    if (res == NULL)
        return http_error(r, 503, "database_unavailable",
                          "The database is unavailable; try again shortly");
    return http_fault(r, "database error %s: %s", db_sqlstate(res), PQresultErrorMessage(res));
}
