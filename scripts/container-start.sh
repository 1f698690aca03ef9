#!/bin/sh
# Entry point of the application container: migrate, ensure the first admin, then run the
# FastCGI pool as the loanflow user and nginx (its workers as the same user, so both reach the
# socket) in the foreground.
set -eu
mkdir -p /run/loanflow /tmp/nginx/tmp
chown loanflow /run/loanflow
./loanctl migrate
./loanctl user ensure-admin
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
for f in nginx.conf security.conf fastcgi.conf; do
  sed -e "s|@USER_DIRECTIVE@|user loanflow;|" -e "s|@NGINX_WORKERS@|auto|" \
      -e "s|@RUN@|/run/loanflow|g" -e "s|@LOG@|/tmp|g" -e "s|@NGINX_DIR@|/tmp/nginx|g" \
      -e "s|@ROOT@|/srv/loanflow|g" -e "s|@PORT@|${PORT}|g" -e "s|@BENCH_PORT@|$((PORT + 1000))|g" \
      -e "s|@LISTEN@|0.0.0.0|g" -e "s|@MAX_BODY@|${MAX_BODY_BYTES:-65536}|g" -e "s|@KEEPALIVE@|1|g" \
      "nginx/$f.in" > "/tmp/nginx/$f"
done
exec nginx -p /tmp/nginx -c /tmp/nginx/nginx.conf -g 'daemon off;'
