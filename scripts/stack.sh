#!/usr/bin/env bash
# The local Loanflow stack: PostgreSQL 15, Redis, the loanflow master and its workers, and nginx,
# all under one folder (STACK_DIR, default var/), on 127.0.0.1:PORT (default 5003).
#
#   stack.sh run      start in the foreground; Ctrl-C stops every process, keeps the data
#   stack.sh start    start in the background and return when GET / answers
#   stack.sh stop     stop every process of the stack
#   stack.sh status   show what runs
#
# The sandbox payment gateway (`loanctl gateway-sandbox`, RazorpayX's payout API on
# 127.0.0.1:GATEWAY_PORT) runs when GATEWAY_PROVIDER=sandbox, the default: started before the
# workers and nginx, its state journaled under $STACK_DIR/gateway/, its log in
# $LOG/gateway-sandbox.log. A small supervisor (`stack.sh gateway-supervise`, a process of its
# own in both run and start mode) restarts it within a second when it dies, unless
# `stack.sh gateway-kill` took it down on purpose ($RUN/gateway.down, for fault tests), until
# `stack.sh gateway-start`.
#
# Services run in sessions of their own, so Ctrl-C reaches only this script, whose trap stops
# them in order (nginx first, then the workers drain, then Redis and PostgreSQL).
#
# PostgreSQL refuses to run as root: when started by root the cluster runs as the `postgres`
# user, in a folder that user can reach (the checkout may sit in a home it cannot traverse).
# It listens on a Unix socket only, in a folder only its own user can enter (0700; root, which
# runs the workers here, passes by privilege; nginx never needs it). pg_hba.conf, rewritten at
# every start: the `postgres` superuser by peer authentication (this script, as the cluster's
# OS user), the two application roles by scram-sha-256 with passwords generated into
# $STACK_DIR/secrets like JWT_SECRET; nothing else gets in.
#
# Two roles (sql/011_roles.sql): loanflow_owner owns the database and the schema and runs
# `loanctl migrate` (MIGRATE_DATABASE_URL, given to that one command only, never in stack.env);
# loanflow, the serving role in DATABASE_URL, owns nothing and may only SELECT and INSERT on
# the append-only tables, so neither the workers nor loanctl can rewrite or unguard the audit
# trail. `stack.sh owner-url` prints the owner's URL for an operator (and the test suite).
#
# Redis is a pure cache: no RDB snapshot, no append-only file (--save "" --appendonly no), so
# cached application documents never reach the disk; a restart starts it empty.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/var}"
PORT="${PORT:-5003}"
BENCH_PORT="${BENCH_PORT:-$((PORT + 1000))}"
# The sandbox payment gateway's loopback port (loanctl gateway-sandbox).
GATEWAY_PORT="${GATEWAY_PORT:-$((PORT + 2000))}"
LISTEN="${LISTEN:-127.0.0.1}"
APP_ENV="${APP_ENV:-development}"
SEED_COUNT="${SEED_COUNT:-500}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

RUN="$STACK_DIR/run"
LOG="$STACK_DIR/log"
NGINX_DIR="$STACK_DIR/nginx"
PGSOCK="$STACK_DIR/pgsock"
cmd="${1:-status}"

say() { printf 'stack: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
# A process that exited but is not yet reaped (a zombie: the init of some containers reaps late)
# is not alive.
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ "$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
alive() { [ -f "$1" ] && pid_alive "$(cat "$1" 2>/dev/null)"; }

as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the cluster lives: $STACK_DIR/pg, or, when root and the postgres user cannot reach the
# stack folder, a folder under /var/lib/loanflow linked from $STACK_DIR/pg.
pg_data_dir() {
  if [ -L "$STACK_DIR/pg" ] || [ -d "$STACK_DIR/pg" ]; then
    readlink -f "$STACK_DIR/pg"
    return
  fi
  if is_root && ! runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null; then
    local id; id=$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-12)
    local d="/var/lib/loanflow/$id/pg"
    mkdir -p "$d"
    chown -R postgres:postgres "/var/lib/loanflow/$id"
    chmod 755 /var/lib/loanflow "/var/lib/loanflow/$id"
    ln -sfn "$d" "$STACK_DIR/pg"
    echo "$d"
  else
    mkdir -p "$STACK_DIR/pg"
    echo "$STACK_DIR/pg"
  fi
}

pg_sock_dir() {
  # The socket folder: the server's user only (0700). Our processes reach it as that user, or
  # as root.
  local d="$PGSOCK"
  if is_root && ! runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null; then
    d="$(dirname "$(pg_data_dir)")/sock"
  fi
  mkdir -p "$d"
  if is_root; then chown postgres:postgres "$d"; fi
  chmod 700 "$d"
  echo "$d"
}

# The benchmarks' scratch database, beside loanflow in the cluster: the day-end's
# (scripts/bench-cob.sh) by default, another by BENCH_DB (scripts/bench-rescreen.sh).
BENCH_DB="${BENCH_DB:-loanflow_cob_bench}"
[[ "$BENCH_DB" =~ ^loanflow_[a-z_]+_bench$ ]] || { echo "stack: BENCH_DB must be loanflow_*_bench" >&2; exit 2; }

pg_os_user() { if is_root; then echo postgres; else id -un; fi; }

# The database roles' generated passwords (hex: safe in a URL and in SQL quotes).
pg_password() { secret_file "pg_$1_password" 24; }
owner_url() {  # owner_url [DATABASE]
  echo "postgresql:///${1:-loanflow}?host=$(pg_sock_dir)&user=loanflow_owner&password=$(pg_password owner)"
}

write_pg_auth() {  # write_pg_auth DATA_DIR
  local data=$1
  {
    echo "# Written by scripts/stack.sh at every start. Unix socket only (listen_addresses='')."
    echo "local  all       postgres                  peer map=stack"
    echo "local  loanflow  loanflow_owner,loanflow   scram-sha-256"
    # make bench's day-end benchmark (scripts/bench-cob.sh): a scratch database it creates and drops.
    echo "local  $BENCH_DB  loanflow_owner,loanflow   scram-sha-256"
  } > "$data/pg_hba.conf"
  printf 'stack  %s  postgres\n' "$(pg_os_user)" > "$data/pg_ident.conf"
  chmod 600 "$data/pg_hba.conf" "$data/pg_ident.conf"
  if is_root; then chown postgres:postgres "$data/pg_hba.conf" "$data/pg_ident.conf"; fi
}

secret_file() {
  # A secret generated once per stack (48 random bytes, or $2), kept under the stack folder.
  local f="$STACK_DIR/secrets/$1"
  if [ ! -s "$f" ]; then
    mkdir -p "$STACK_DIR/secrets"; chmod 700 "$STACK_DIR/secrets"
    head -c "${2:-48}" /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f"
    chmod 600 "$f"
  fi
  cat "$f"
}

start_postgres() {
  local data sock
  data=$(pg_data_dir); sock=$(pg_sock_dir)
  if [ ! -s "$data/PG_VERSION" ]; then
    say "initdb $data"
    is_root && chown postgres:postgres "$data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=reject -E UTF8 \
      --locale=C.UTF-8 >"$LOG/initdb.log" 2>&1 \
      || { cat "$LOG/initdb.log" >&2; die "initdb failed"; }
  fi
  local extra=()
  if [ "$APP_ENV" = test ]; then
    extra=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
  fi
  write_pg_auth "$data"
  touch "$LOG/postgres.log"; if is_root; then chown postgres:postgres "$LOG/postgres.log"; fi
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$LOG/postgres.log" -w -t 60 \
    -o "-k $sock -c listen_addresses='' -c max_connections=200 -c shared_buffers=256MB ${extra[*]}" start >/dev/null \
    || { tail -20 "$LOG/postgres.log" >&2; die "PostgreSQL did not start"; }
  # The owner and serving roles (their passwords set at every start, from the secrets) and the
  # database, owned by the owner. A database of an older stack, owned by loanflow, is handed to
  # the owner (REASSIGN OWNED also moves the database itself), so the serving role owns nothing.
  local psql=(as_pg "$PG_BIN/psql" -X -h "$sock" -U postgres -qAt -v ON_ERROR_STOP=1)
  local r
  for r in loanflow_owner loanflow; do
    if [ "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname='$r'")" != 1 ]; then
      "${psql[@]}" -d postgres -c "CREATE ROLE $r LOGIN" >/dev/null
    fi
  done
  # The passwords go on standard input, not on a command line.
  printf "ALTER ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '%s';\n" \
    loanflow_owner "$(pg_password owner)" loanflow "$(pg_password app)" \
    | "${psql[@]}" -d postgres >/dev/null
  if [ "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname='loanflow'")" != 1 ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE loanflow OWNER loanflow_owner" >/dev/null
  fi
  "${psql[@]}" -d loanflow -c "REASSIGN OWNED BY loanflow TO loanflow_owner" >/dev/null
}

stop_postgres() {
  local data
  [ -e "$STACK_DIR/pg" ] || return 0
  data=$(readlink -f "$STACK_DIR/pg")
  if [ -f "$data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

# redis-server's arguments, one a line (`stack.sh redis-args` prints them). A pure cache in every
# APP_ENV: it holds application documents (personal data), so nothing is persisted.
redis_args() {
  printf '%s\n' --port 0 --unixsocket "$RUN/redis.sock" --unixsocketperm 700 \
    --dir "$STACK_DIR/redis" --save "" --appendonly no --daemonize no \
    --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" --maxmemory 256mb \
    --maxmemory-policy volatile-lru
}

start_redis() {
  # A snapshot an older stack wrote is removed.
  mkdir -p "$STACK_DIR/redis"
  rm -f "$STACK_DIR/redis/dump.rdb"
  local args=()
  mapfile -t args < <(redis_args)
  setsid redis-server "${args[@]}" </dev/null >>"$LOG/redis.log" 2>&1 &
  echo $! > "$RUN/redis.pid"
  for _ in $(seq 1 50); do [ -S "$RUN/redis.sock" ] && return 0; sleep 0.1; done
  die "Redis did not start (see $LOG/redis.log)"
}

load_reference_data() {
  # The sanctions list: SANCTIONS_FILE, else the real OFAC SDN list shipped in data/sanctions/.
  # `loanctl sanctions ensure` loads it only when no list is active or it is newer than the
  # active one, so a list an operator loaded is never replaced by a restart; it ends by naming
  # the active list(s), which the start-up output repeats.
  # A SANCTIONS_FILE of another name than the active lists' joins them (--beside): the
  # operator asked for it, and one more list never screens less.
  local list="${SANCTIONS_FILE:-}" beside=()
  [ -z "$list" ] || beside=(--beside)
  [ -n "$list" ] || list=$(ls "$ROOT"/data/sanctions/ofac_sdn_*.csv.gz 2>/dev/null | tail -1 || true)
  [ -n "$list" ] || die "no sanctions list: data/sanctions/ofac_sdn_*.csv.gz is missing and SANCTIONS_FILE is unset"
  local out
  if ! out=$("$ROOT/loanctl" sanctions ensure "$list" "${beside[@]}" 2>&1); then
    printf '%s\n' "$out" >>"$LOG/migrate.log"
    tail -5 "$LOG/migrate.log" >&2; die "loading the sanctions list $list failed"
  fi
  printf '%s\n' "$out" >>"$LOG/migrate.log"
  printf '%s\n' "$out" | grep -E '^(sanctions ensure|active sanctions list):' | while IFS= read -r l; do say "$l"; done
  # Market reference data (GET /data, base rates for pricing): MARKET_FILE, else the sample.
  local market="${MARKET_FILE:-$ROOT/data/market/sample.csv}"
  "$ROOT/loanctl" market load "$market" >>"$LOG/migrate.log" 2>&1 \
    || { tail -5 "$LOG/migrate.log" >&2; die "loading the market data $market failed"; }
  if [ "${SEED_COUNT:-0}" -gt 0 ]; then
    local n
    n=$(psql -X -qAt "$DATABASE_URL" -c "SELECT count(*) FROM loan_applications" 2>/dev/null || echo 0)
    if [ "$n" = 0 ]; then
      say "seeding $SEED_COUNT sample applications"
      "$ROOT/loanctl" seed --count "$SEED_COUNT" >>"$LOG/migrate.log" 2>&1 || die "seeding failed"
    fi
  fi
}

gateway_enabled() { [ "${GATEWAY_PROVIDER:-sandbox}" = sandbox ]; }
gateway_healthy() { curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$GATEWAY_PORT/sandbox/health" 2>/dev/null; }

# Starts the sandbox gateway and waits until it answers. 1 when it does not (the caller says
# what to do: do_start stops, the supervisor tries again a second later).
start_gateway() {
  gateway_enabled || return 0
  stop_pidfile "$RUN/gateway.pid" TERM 5  # one left over from a killed stack
  mkdir -p "$STACK_DIR/gateway"; chmod 700 "$STACK_DIR/gateway"
  setsid "$ROOT/loanctl" gateway-sandbox --journal "$STACK_DIR/gateway/journal.jsonl" \
    </dev/null >>"$LOG/gateway-sandbox.log" 2>&1 &
  echo $! > "$RUN/gateway.pid"
  for _ in $(seq 1 100); do
    gateway_healthy && return 0
    kill -0 "$(cat "$RUN/gateway.pid")" 2>/dev/null || break
    sleep 0.05
  done
  tail -5 "$LOG/gateway-sandbox.log" >&2
  return 1
}

# The supervisor's loop: one per stack (its pid in $RUN/gateway-supervisor.pid, which it
# writes itself and whose loss ends it), restarting a dead sandbox unless it is held down.
supervise_gateway() {
  echo $$ > "$RUN/gateway-supervisor.pid"
  trap 'exit 0' TERM INT
  while [ "$(cat "$RUN/gateway-supervisor.pid" 2>/dev/null)" = "$$" ]; do
    if [ ! -e "$RUN/gateway.down" ] && ! alive "$RUN/gateway.pid"; then
      say "$(date -u +%FT%TZ) the gateway sandbox is not running: restarting it"
      start_gateway || say "the gateway sandbox did not start; trying again"
    fi
    sleep 1 & wait $!
  done
}

start_gateway_supervisor() {
  gateway_enabled || return 0
  setsid "$ROOT/scripts/stack.sh" gateway-supervise </dev/null >>"$LOG/gateway-supervisor.log" 2>&1 &
  for _ in $(seq 1 50); do alive "$RUN/gateway-supervisor.pid" && return 0; sleep 0.05; done
  say "the gateway supervisor did not start (see $LOG/gateway-supervisor.log)"
}

start_notifier() {
  NOTIFY_SINK="$LOG/notifications.jsonl" setsid "$ROOT/loanctl" notifier </dev/null >>"$LOG/notifier.log" 2>&1 &
  echo $! > "$RUN/notifier.pid"
}

# The day-end scheduler (`loanctl cob --daily COB_AT`, India time): development and production
# only; the test suite runs its day-ends itself (simulated time), and a scheduled one firing
# mid-suite would move the business date under it.
start_cob_scheduler() {
  [ "$APP_ENV" = test ] && return 0
  setsid "$ROOT/loanctl" cob --daily "${COB_AT:-23:30}" </dev/null >>"$LOG/cob.log" 2>&1 &
  echo $! > "$RUN/cob.pid"
}

write_env() {
  # KEY='value' lines: sourced by this script, read by loanctl (which strips the quotes). It
  # holds secrets, so it is created private (umask) rather than made private afterwards.
  local sock; sock=$(pg_sock_dir)
  local old_umask; old_umask=$(umask); umask 077
  {
    printf "%s='%s'\n" APP_ENV "$APP_ENV"
    printf "%s='%s'\n" DATABASE_URL "postgresql:///loanflow?host=$sock&user=loanflow&password=$(pg_password app)"
    printf "%s='%s'\n" REDIS_URL "unix:$RUN/redis.sock"
    printf "%s='%s'\n" FCGI_SOCKET "$RUN/loanflow.sock"
    printf "%s='%s'\n" FCGI_AUTH_SOCKET "$RUN/loanflow-auth.sock"
    printf "%s='%s'\n" LOG_FILE "$LOG/loanflow.log"
    printf "%s='%s'\n" EPOCH_FILE "$RUN/data.epoch"
    printf "%s='%s'\n" TEMPLATE_DIR "$ROOT/templates"
    printf "%s='%s'\n" LOANFLOW_SQL_DIR "$ROOT/sql"
    printf "%s='%s'\n" JWT_SECRET "${JWT_SECRET:-$(secret_file jwt_secret)}"
    # The key sealing Aadhaar, PAN and account numbers: losing it loses them, so it is kept
    # with the stack's data (back up $STACK_DIR/secrets with the database).
    printf "%s='%s'\n" PII_KEY "${PII_KEY:-$(secret_file pii_key 32)}"
    [ -z "${PII_KEY_PREVIOUS:-}" ] || printf "%s='%s'\n" PII_KEY_PREVIOUS "$PII_KEY_PREVIOUS"
    printf "%s='%s'\n" EKYC_PROVIDER "${EKYC_PROVIDER:-sandbox}"
    printf "%s='%s'\n" BUREAU_PROVIDER "${BUREAU_PROVIDER:-sandbox}"
    [ -z "${PROVIDER_TIMEOUT_MS:-}" ] || printf "%s='%s'\n" PROVIDER_TIMEOUT_MS "$PROVIDER_TIMEOUT_MS"
    # Lending: the key countersigning agreements (Ed25519 seed), and the payment gateway. Its
    # API key and webhook secret are generated per stack like the others.
    printf "%s='%s'\n" SIGNING_KEY "${SIGNING_KEY:-$(secret_file signing_key 32)}"
    printf "%s='%s'\n" GATEWAY_PROVIDER "${GATEWAY_PROVIDER:-sandbox}"
    printf "%s='%s'\n" GATEWAY_URL "${GATEWAY_URL:-http://127.0.0.1:$GATEWAY_PORT}"
    printf "%s='%s'\n" GATEWAY_PORT "$GATEWAY_PORT"
    printf "%s='%s'\n" GATEWAY_KEY_ID "${GATEWAY_KEY_ID:-rzp_test_loanflow}"
    printf "%s='%s'\n" GATEWAY_KEY_SECRET "${GATEWAY_KEY_SECRET:-$(secret_file gateway_key_secret 24)}"
    printf "%s='%s'\n" GATEWAY_WEBHOOK_SECRET "${GATEWAY_WEBHOOK_SECRET:-whsec_$(secret_file gateway_webhook_secret 24)}"
    printf "%s='%s'\n" GATEWAY_WEBHOOK_URL "http://127.0.0.1:$PORT/webhooks/gateway"
    # The sandbox's behaviour (loanctl gateway-sandbox), when chosen at start.
    local v
    for v in GATEWAY_SANDBOX_DELAY_MS GATEWAY_SANDBOX_DUPLICATE_RATE GATEWAY_SANDBOX_SHUFFLE \
             GATEWAY_SANDBOX_RETRY_MS GATEWAY_SANDBOX_RETRY_FOR_S GATEWAY_SANDBOX_WEBHOOK_TIMEOUT_MS; do
      [ -z "${!v:-}" ] || printf "%s='%s'\n" "$v" "${!v}"
    done
    printf "%s='%s'\n" PORT "$PORT"
    printf "%s='%s'\n" BENCH_PORT "$BENCH_PORT"
    printf "%s='%s'\n" STACK_DIR "$STACK_DIR"
  } > "$STACK_DIR/stack.env"
  chmod 600 "$STACK_DIR/stack.env"
  umask "$old_umask"
}

load_env() {
  set -a; . "$STACK_DIR/stack.env"; set +a
}

start_loanflow() {
  local to_stderr=$1
  if [ "$to_stderr" = 1 ]; then
    LOG_STDERR=1 setsid "$ROOT/loanflow" </dev/null &
  else
    LOG_STDERR=0 setsid "$ROOT/loanflow" </dev/null >>"$LOG/loanflow.stderr" 2>&1 &
  fi
  echo $! > "$RUN/loanflow.pid"
  for _ in $(seq 1 100); do
    [ -S "$RUN/loanflow.sock" ] && return 0
    kill -0 "$(cat "$RUN/loanflow.pid")" 2>/dev/null || break
    sleep 0.05
  done
  cat "$LOG/loanflow.stderr" >&2 2>/dev/null || true
  die "loanflow did not start"
}

render_nginx() {
  mkdir -p "$NGINX_DIR/tmp"
  local user_directive="" keepalive=2
  local app_workers="${WORKERS:-$(( 2 * $(nproc) ))}"
  # keepalive x nginx workers must stay below the number of app workers (libfcgi holds a kept
  # connection for its whole life).
  keepalive=$(( app_workers / 2 )); (( keepalive >= 1 )) || keepalive=1
  if is_root; then user_directive="user root root;"; fi
  # Strict-Transport-Security and the benchmark server follow APP_ENV and COOKIE_SECURE.
  USER_DIRECTIVE="$user_directive" NGINX_WORKERS=1 RUN="$RUN" LOG="$LOG" NGINX_DIR="$NGINX_DIR" \
    ROOT="$ROOT" PORT="$PORT" BENCH_PORT="$BENCH_PORT" LISTEN="$LISTEN" \
    MAX_BODY="${MAX_BODY_BYTES:-65536}" KEEPALIVE="$keepalive" APP_ENV="$APP_ENV" \
    COOKIE_SECURE="${COOKIE_SECURE:-}" "$ROOT/scripts/nginx-render.sh" "$ROOT/nginx" "$NGINX_DIR"
  nginx -t -q -e "$LOG/nginx-error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
    || die "nginx configuration invalid"
}

start_nginx() {
  render_nginx
  setsid nginx -e "$LOG/nginx-error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -g 'daemon off;' \
    </dev/null >>"$LOG/nginx-error.log" 2>&1 &
  echo $! > "$RUN/nginx.master"
}

wait_healthy() {
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "the stack did not become healthy on :$PORT (see $LOG/)"
}

stop_pidfile() {  # stop_pidfile FILE SIGNAL TIMEOUT_S
  local f=$1 sig=$2 t=$3
  alive "$f" || { rm -f "$f"; return 0; }
  local pid; pid=$(cat "$f")
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((t * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

do_stop() {
  stop_pidfile "$RUN/nginx.master" QUIT 10
  stop_pidfile "$RUN/notifier.pid" TERM 10
  stop_pidfile "$RUN/cob.pid" TERM 10
  stop_pidfile "$RUN/loanflow.pid" TERM 15
  stop_pidfile "$RUN/gateway-supervisor.pid" TERM 5
  stop_pidfile "$RUN/gateway.pid" TERM 5
  rm -f "$RUN/gateway.down"
  stop_pidfile "$RUN/hello.pid" TERM 5
  stop_pidfile "$RUN/redis.pid" TERM 10
  stop_postgres
}

do_start() {
  local foreground=$1
  mkdir -p "$RUN" "$LOG"
  chmod 755 "$STACK_DIR" 2>/dev/null || true
  if alive "$RUN/loanflow.pid"; then die "already running (make stop first)"; fi
  [ -x "$ROOT/loanflow" ] || die "build first: make"
  start_postgres
  start_redis
  write_env
  load_env
  # Migrations as the owner; its URL reaches this one command only.
  MIGRATE_DATABASE_URL="$(owner_url)" "$ROOT/loanctl" migrate >"$LOG/migrate.log" 2>&1 \
    || { cat "$LOG/migrate.log" >&2; die "migrations failed"; }
  "$ROOT/loanctl" user ensure-admin >/dev/null
  load_reference_data
  rm -f "$RUN/gateway.down"
  start_gateway || die "the gateway sandbox did not start on 127.0.0.1:$GATEWAY_PORT (see $LOG/gateway-sandbox.log)"
  start_gateway_supervisor
  start_loanflow "$foreground"
  start_notifier
  start_cob_scheduler
  start_nginx
  wait_healthy
  if [ -x "$ROOT/scripts/stack-extra.sh" ]; then "$ROOT/scripts/stack-extra.sh" "$STACK_DIR"; fi
  say "Loanflow is up: http://$LISTEN:$PORT/  (admin: ${ADMIN_EMAIL:-admin@example.com}; logs in $LOG/)"
}

case "$cmd" in
  run)
    trap 'say "stopping"; do_stop; say "stopped; data kept in $STACK_DIR"; exit 0' INT TERM
    do_start 1
    say "serving in the foreground; Ctrl-C stops the stack"
    while alive "$RUN/loanflow.pid" && alive "$RUN/nginx.master"; do sleep 1 & wait $!; done
    say "a stack process exited; stopping the rest"
    do_stop
    exit 1
    ;;
  start)
    do_start 0
    ;;
  stop)
    do_stop
    say "stopped"
    ;;
  status)
    rc=0
    for p in nginx.master loanflow.pid redis.pid; do
      if alive "$RUN/$p"; then echo "${p%%.*}: running (pid $(cat "$RUN/$p"))"; else echo "${p%%.*}: stopped"; rc=3; fi
    done
    if [ -e "$STACK_DIR/pg" ] && [ -f "$(readlink -f "$STACK_DIR/pg")/postmaster.pid" ]; then
      echo "postgres: running (pid $(head -1 "$(readlink -f "$STACK_DIR/pg")/postmaster.pid"))"
    else echo "postgres: stopped"; rc=3; fi
    if [ -f "$STACK_DIR/stack.env" ] && grep -q "^GATEWAY_PROVIDER='sandbox'" "$STACK_DIR/stack.env"; then
      if alive "$RUN/gateway.pid"; then echo "gateway-sandbox: running (pid $(cat "$RUN/gateway.pid"), :$GATEWAY_PORT)"
      elif [ -e "$RUN/gateway.down" ]; then echo "gateway-sandbox: held down (stack.sh gateway-start)"
      else echo "gateway-sandbox: stopped"; rc=3; fi
      if alive "$RUN/gateway-supervisor.pid"; then echo "gateway-supervisor: running (pid $(cat "$RUN/gateway-supervisor.pid"))"
      else echo "gateway-supervisor: stopped"; rc=3; fi
    fi
    if curl -fsS "http://127.0.0.1:$PORT/" 2>/dev/null; then echo; else echo "health: no answer on :$PORT"; rc=3; fi
    exit $rc
    ;;
  # Fault injection for the test suite (tests/api/faults.test.mjs) and operators alike.
  pg-stop)     stop_postgres ;;
  pg-start)    start_postgres ;;
  redis-stop)  stop_pidfile "$RUN/redis.pid" TERM 10 ;;
  redis-start) start_redis ;;
  reload)      kill -HUP "$(cat "$RUN/loanflow.pid")" ;;
  workers)     pgrep -P "$(cat "$RUN/loanflow.pid")" | tr '\n' ' '; echo ;;
  master-pid)  cat "$RUN/loanflow.pid" ;;
  app-term)    kill -TERM "$(cat "$RUN/loanflow.pid")" ;;
  app-wait)    pid=$(cat "$RUN/loanflow.pid"); for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done; exit 1 ;;
  app-start)   load_env; start_loanflow 0 ;;
  notifier-kill)  kill -9 "$(cat "$RUN/notifier.pid")" ;;
  notifier-start) load_env; start_notifier ;;
  # The gateway sandbox: gateway-kill holds it down (SIGKILL, a crash; the supervisor leaves it
  # down) until gateway-start, which lets the supervisor bring it back, or starts it itself when
  # no supervisor runs.
  gateway-kill)
    touch "$RUN/gateway.down"
    if alive "$RUN/gateway.pid"; then
      pid=$(cat "$RUN/gateway.pid"); kill -9 "$pid"
      for _ in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.05; done
    fi ;;
  gateway-start)
    load_env; rm -f "$RUN/gateway.down"
    if alive "$RUN/gateway-supervisor.pid"; then
      for _ in $(seq 1 100); do alive "$RUN/gateway.pid" && gateway_healthy && exit 0; sleep 0.1; done
      die "the gateway sandbox did not come back (see $LOG/gateway-sandbox.log)"
    fi
    alive "$RUN/gateway.pid" || start_gateway || die "the gateway sandbox did not start" ;;
  gateway-supervise) load_env; supervise_gateway ;;
  gateway-pid) cat "$RUN/gateway.pid" ;;
  owner-url)   owner_url "${2:-}" ;;
  # The day-end benchmark's scratch database (scripts/bench-cob.sh): bench-db-create makes it
  # afresh, empty and owned by the owner like loanflow (pg_hba.conf rewritten and reloaded, for a
  # cluster started before it admitted it); bench-db-drop drops it; pg-super DATABASE [psql
  # args…] is psql as the cluster's superuser (peer), for its generation (session_replication_role
  # needs a superuser). SQL goes on standard input: the cluster's user may not reach the checkout.
  bench-db-create)
    data=$(pg_data_dir); write_pg_auth "$data"
    as_pg "$PG_BIN/pg_ctl" -D "$data" reload >/dev/null
    psql_su=(as_pg "$PG_BIN/psql" -X -h "$(pg_sock_dir)" -U postgres -qAt -v ON_ERROR_STOP=1 -d postgres)
    "${psql_su[@]}" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB OWNER loanflow_owner" >/dev/null
    as_pg "$PG_BIN/psql" -X -h "$(pg_sock_dir)" -U postgres -qAt -v ON_ERROR_STOP=1 -d "$BENCH_DB" \
      -c "ALTER SCHEMA public OWNER TO loanflow_owner" -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC" >/dev/null
    echo "$BENCH_DB" ;;
  bench-db-drop)
    as_pg "$PG_BIN/psql" -X -h "$(pg_sock_dir)" -U postgres -qAt -v ON_ERROR_STOP=1 -d postgres \
      -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null ;;
  pg-super)
    [ -n "${2:-}" ] || die "usage: stack.sh pg-super DATABASE [psql args…]"
    db=$2; shift 2
    as_pg "$PG_BIN/psql" -X -h "$(pg_sock_dir)" -U postgres -v ON_ERROR_STOP=1 -d "$db" "$@" ;;
  redis-args)  redis_args ;;
  *)
    echo "usage: stack.sh run|start|stop|status|pg-stop|pg-start|redis-stop|redis-start|reload|workers|gateway-kill|gateway-start|gateway-pid|owner-url [DB]|bench-db-create|bench-db-drop|pg-super DB|redis-args" >&2; exit 2 ;;
esac
