/*
 * Accounts in PostgreSQL: the statements on users and their sign-in state.
 */
#include "users.h"

#define USER_COLS                                                                                  \
    "id, name, email, role, disabled, "                                                            \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                   \
    "to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"


const struct db_stmt users_sql[AUTH_SQL_COUNT] = {
    [AUTH_USER_INSERT] = {"auth_user_insert",
     "INSERT INTO users (name, email, password_hash, role) VALUES ($1, $2, $3, $4) "
     "RETURNING " USER_COLS},
    [AUTH_USER_BY_EMAIL] = {"auth_user_by_email",
     "SELECT id, name, email, role, disabled, password_hash, "
     "coalesce(ceil(extract(epoch FROM locked_until - now())), 0)::bigint AS lock_left, "
     "token_version FROM users WHERE lower(email) = lower($1)"},
    [AUTH_LOGIN_FAILED] = {"auth_login_failed",
     "UPDATE users SET failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= now() "
     "THEN 1 ELSE failed_logins + 1 END, "
     "locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 "
     "ELSE failed_logins + 1 END) >= $2::int THEN now() + make_interval(mins => $3::int) "
     "WHEN locked_until <= now() THEN NULL ELSE locked_until END "
     "WHERE id = $1::bigint RETURNING failed_logins, locked_until > now()"},
    [AUTH_LOGIN_OK] = {"auth_login_ok",
     "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = now(), "
     "password_hash = coalesce($2, password_hash) WHERE id = $1::bigint RETURNING " USER_COLS},
    [AUTH_USERS_LIST] = {"auth_users_list",
     "SELECT " USER_COLS ", failed_logins, locked_until > now() FROM users "
     "ORDER BY created_at DESC, id DESC LIMIT $1::int OFFSET $2::int"},
    [AUTH_USER_LOCK_ROW] = {"auth_user_lock_row",
     "SELECT " USER_COLS " FROM users WHERE id = $1::bigint FOR UPDATE"},
    [AUTH_USER_UPDATE] = {"auth_user_update",
     "UPDATE users SET role = $2, disabled = $3::boolean, updated_at = now(), "
     "token_version = token_version + CASE WHEN $4::boolean THEN 1 ELSE 0 END "
     "WHERE id = $1::bigint RETURNING " USER_COLS ", token_version"},
};
const struct db_stmts users_statements = DB_STMTS("users", users_sql);
