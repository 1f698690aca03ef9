#!/bin/sh
# Entry point of the application container: migrate as the schema's owner, ensure the first
# admin, then run the FastCGI pool as the loanflow user and nginx (its workers as the same user,
# so both reach the socket) in the foreground.
#
# MIGRATE_DATABASE_URL (the owner, loanflow_owner) is used by `loanctl migrate` alone and unset
# before anything else starts: the workers and the other commands hold only DATABASE_URL, the
# serving role, which owns nothing and cannot touch the append-only tables' triggers
# (sql/011_roles.sql). nginx is rendered by the same scripts/nginx-render.sh as the local stack:
# in production (the default here) with Strict-Transport-Security and without the benchmark
# server.
set -eu
mkdir -p /run/loanflow /tmp/nginx/tmp
chown loanflow /run/loanflow
./loanctl migrate
unset MIGRATE_DATABASE_URL
# The first admin's password reaches loanctl on standard input (production never creates an
# admin from the environment itself); an existing admin is kept, unless its password is still
# the development default, which stops the start.
printf '%s\n' "${ADMIN_PASSWORD:-}" | ./loanctl user ensure-admin
# The sanctions list: the shipped OFAC SDN list (or SANCTIONS_FILE) when no list is active or it
# is newer than the active one; an operator's list is kept.
if [ -n "${SANCTIONS_FILE:-}" ]; then
  ./loanctl sanctions ensure "$SANCTIONS_FILE" --beside
else
  ./loanctl sanctions ensure "$(ls data/sanctions/ofac_sdn_*.csv.gz | tail -1)"
fi
# Market data (GET /data, and the base rates pricing uses) from MARKET_FILE.
./loanctl market load "${MARKET_FILE:-data/market/sample.csv}"
su -s /bin/sh loanflow -c 'exec ./loanflow' &
for _ in $(seq 1 50); do [ -S "$FCGI_SOCKET" ] && break; sleep 0.1; done
# Inside the container nginx listens on every interface of the container; docker-compose.yml
# publishes it on the host's loopback only.
USER_DIRECTIVE="user loanflow;" NGINX_WORKERS=auto RUN=/run/loanflow LOG=/tmp NGINX_DIR=/tmp/nginx \
  ROOT=/srv/loanflow PORT="$PORT" BENCH_PORT="$((PORT + 1000))" LISTEN=0.0.0.0 \
  MAX_BODY="${MAX_BODY_BYTES:-65536}" KEEPALIVE=1 APP_ENV="${APP_ENV:-production}" \
  COOKIE_SECURE="${COOKIE_SECURE:-}" ./nginx-render.sh nginx /tmp/nginx
exec nginx -p /tmp/nginx -c /tmp/nginx/nginx.conf -g 'daemon off;'
