#!/bin/sh
# Renders the nginx configuration templates (nginx/*.conf.in) into OUT_DIR, replacing each
# @NAME@ with the environment variable of that name. One renderer for the local stack
# (scripts/stack.sh) and the container (scripts/container-start.sh), so what production gets is
# decided in one place, and the tests can render it for any environment
# (tests/api/security_deploy.test.mjs):
#
#   * Strict-Transport-Security (security.conf) when the session cookie is Secure: COOKIE_SECURE
#     when it is set (1/true/yes/on), else APP_ENV=production, the same rule as the workers'
#     configuration. Browsers then refuse plain HTTP for the host for a year.
#   * the benchmark server on 127.0.0.1:BENCH_PORT (bench.conf: the baselines and the service
#     without the per-address rate limits) only outside production.
#
#   USER_DIRECTIVE NGINX_WORKERS RUN LOG NGINX_DIR ROOT PORT BENCH_PORT LISTEN MAX_BODY KEEPALIVE
#   APP_ENV COOKIE_SECURE   nginx-render.sh TEMPLATE_DIR OUT_DIR
set -eu
tpl=$1 out=$2
mkdir -p "$out"

secure=0
case "${COOKIE_SECURE:-}" in
  1|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss]|[Oo][Nn]) secure=1 ;;
  0|[Ff][Aa][Ll][Ss][Ee]|[Nn][Oo]|[Oo][Ff][Ff]) secure=0 ;;
  "") [ "${APP_ENV:-development}" = production ] && secure=1 ;;
  *) echo "nginx-render: COOKIE_SECURE must be 1 or 0, got \"$COOKIE_SECURE\"" >&2; exit 1 ;;
esac
hsts=""
[ "$secure" = 0 ] || hsts='add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;'
bench=""
[ "${APP_ENV:-development}" = production ] || bench="include $NGINX_DIR/bench.conf;"

for f in nginx.conf security.conf fastcgi.conf bench.conf; do
  sed -e "s|@USER_DIRECTIVE@|${USER_DIRECTIVE:-}|g" -e "s|@NGINX_WORKERS@|$NGINX_WORKERS|g" \
      -e "s|@RUN@|$RUN|g" -e "s|@LOG@|$LOG|g" -e "s|@NGINX_DIR@|$NGINX_DIR|g" \
      -e "s|@ROOT@|$ROOT|g" -e "s|@PORT@|$PORT|g" -e "s|@BENCH_PORT@|$BENCH_PORT|g" \
      -e "s|@LISTEN@|$LISTEN|g" -e "s|@MAX_BODY@|$MAX_BODY|g" -e "s|@KEEPALIVE@|$KEEPALIVE|g" \
      -e "s|@HSTS@|$hsts|g" -e "s|@BENCH_SERVER@|$bench|g" \
      "$tpl/$f.in" > "$out/$f"
done
