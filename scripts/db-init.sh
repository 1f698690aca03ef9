#!/bin/sh
# The PostgreSQL container's first-start script (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d/, which the postgres image runs once, on an empty volume, as the
# superuser). It creates the two roles of sql/011_roles.sql, neither a superuser:
#   loanflow_owner (DB_OWNER_PASSWORD)  owns the database and the schema; `loanctl migrate`
#   loanflow       (DB_PASSWORD)        the serving role: the workers and every other command
# The passwords travel as psql variables (quoted by psql), never inside the SQL text.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_pw="$DB_OWNER_PASSWORD" -v app_pw="$DB_PASSWORD" <<'SQL'
CREATE ROLE loanflow_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE loanflow LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_pw';
ALTER DATABASE loanflow OWNER TO loanflow_owner;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname loanflow \
     -c "ALTER SCHEMA public OWNER TO loanflow_owner" -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
