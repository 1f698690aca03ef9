#!/usr/bin/env bash
# make bench's day-end benchmark (issue 14: 1,000,000 active loans, one day-end ≤ 60 s; a day
# with nothing due costs proportionally less). bench.sh runs it last; it also runs alone, against
# the stack of STACK_DIR (started here, and stopped after, when it is not running).
#
# In a scratch database of the stack's cluster (loanflow_cob_bench: `stack.sh bench-db-create`,
# migrated by `loanctl migrate` as the owner with the serving role granted, dropped at the end)
# so the development data is never touched:
#   1. tests/bench/cob_portfolio.sql generates BENCH_COB_LOANS (default 1,000,000) active loans
#      with their schedules, as they stand before the day-end of COB_DAY, the last day-end being
#      the day before; then VACUUM ANALYZE;
#   2. `loanctl cob --date COB_DAY` (the real command, as the serving role), timed: a normal day,
#      1/28 of the loans due (due days are the 1st–28th), reminders for the 1st of the next month,
#      the delinquent loans' days past due advancing;
#   3. `loanctl cob --date COB_DAY+1`, the 29th: nothing is due (reminders for the 2nd still go).
# COB_DAY is a 28th in a 30-day month, so that the next day is one day-end later and has nothing
# due, and three days later is a due day (the normal day's reminders).
#
# BENCH_COB_KEEP=1 keeps the database afterwards (to profile the day-end in it), until
# `scripts/stack.sh bench-db-drop` or the next run.
#
# Writes bench-output/cob.txt (everything printed), cob.rows (rows of make bench's table) and
# cob.notes (its notes), which bench.sh puts in results.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export STACK_DIR="${STACK_DIR:-$ROOT/var}"
N="${BENCH_COB_LOANS:-1000000}"
DAY=2026-11-28
NEXT=2026-11-29
DB=loanflow_cob_bench
OUT="$ROOT/bench-output"; mkdir -p "$OUT"
LOGF="$OUT/cob.txt"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_COB_LOANS must be a positive number" >&2; exit 2; }

started=0
if ! scripts/stack.sh status >/dev/null 2>&1; then
  scripts/stack.sh start
  started=1
fi
set -a; . "$STACK_DIR/stack.env"; set +a
cleanup() {
  if [ "${BENCH_COB_KEEP:-0}" = 1 ]; then
    echo "kept the database $DB (BENCH_COB_KEEP=1): scripts/stack.sh pg-super $DB; scripts/stack.sh bench-db-drop" >&2
  else
    scripts/stack.sh bench-db-drop >/dev/null 2>&1 || true
  fi
  [ "$started" = 1 ] && scripts/stack.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

say() { printf '%s\n' "$*" | tee -a "$LOGF" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
: > "$LOGF"; rm -f "$OUT/cob.rows" "$OUT/cob.notes"

scripts/stack.sh bench-db-create >/dev/null
OWNER_URL=$(scripts/stack.sh owner-url "$DB")
APP_URL=$(printf '%s' "$DATABASE_URL" | sed "s|^postgresql:///loanflow?|postgresql:///$DB?|")
[ "$APP_URL" != "$DATABASE_URL" ] || { echo "cannot aim DATABASE_URL at $DB: $DATABASE_URL" >&2; exit 1; }
# loanctl as the serving role in the scratch database: no cache (REDIS_URL, EPOCH_FILE empty),
# so the stack's caches are not bumped by these day-ends.
bench_loanctl() {
  LOANFLOW_STACK_ENV="$STACK_DIR/stack.env" DATABASE_URL="$APP_URL" REDIS_URL= EPOCH_FILE= \
    ./loanctl "$@"
}
MIGRATE_DATABASE_URL="$OWNER_URL" bench_loanctl migrate >>"$LOGF" 2>&1 \
  || { tail -5 "$LOGF" >&2; exit 1; }

say "== the day-end: $N active loans in $DB, day-ends of $DAY (a normal day) and $NEXT (nothing due)"
t0=$(now)
scripts/stack.sh pg-super "$DB" -qAt -v n="$N" -v d="$DAY" < tests/bench/cob_portfolio.sql \
  | tee -a "$LOGF" >&2
t1=$(now)
psql -X -qAt -v ON_ERROR_STOP=1 "$OWNER_URL" -c "VACUUM ANALYZE" >>"$LOGF" 2>&1
t2=$(now)
GEN_S=$(secs "$t0" "$t1"); VAC_S=$(secs "$t1" "$t2")
SIZE=$(psql -X -qAt "$OWNER_URL" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
say "generation ${GEN_S} s, VACUUM ANALYZE ${VAC_S} s, database $SIZE"

# One day-end by the real command, timed from outside; prints its JSON line.
cob_day() {
  local day=$1 a b json
  a=$(now)
  json=$(bench_loanctl cob --date "$day")
  b=$(now)
  printf '%s\n' "$json" >>"$LOGF"
  [ "$(printf '%s\n' "$json" | wc -l)" = 1 ] || { echo "expected one day-end, got: $json" >&2; exit 1; }
  printf '%s %s\n' "$(secs "$a" "$b")" "$json"
}
counts() {  # the day-end's own figures
  jq -r '"loans_active \(.loans_active), loans_overdue \(.loans_overdue), penal_levied \(.penal_levied), reminders \(.reminders), notices \(.notices); \(.seconds) s inside cob_day"' <<<"$1"
}
cob_day "$DAY" > "$OUT/cob.day"
read -r DUE_S DUE_JSON < "$OUT/cob.day"
say "day-end $DAY (normal day): ${DUE_S} s — $(counts "$DUE_JSON")"
cob_day "$NEXT" > "$OUT/cob.day"
read -r NONE_S NONE_JSON < "$OUT/cob.day"
rm -f "$OUT/cob.day"
say "day-end $NEXT (nothing due): ${NONE_S} s — $(counts "$NONE_JSON")"
T_ALL=$(secs "$t0" "$(now)")
say "whole benchmark (generation, vacuum, both day-ends): ${T_ALL} s"

ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
{
  echo "| cob_day_due ($N loans, one run) | — | $(ms "$DUE_S") | — | — |"
  echo "| cob_day_nothing_due ($N loans, one run) | — | $(ms "$NONE_S") | — | — |"
} > "$OUT/cob.rows"
{
  echo "- the day-end (\`loanctl cob\`, one transaction) of $N active loans ($SIZE database, generated in ${GEN_S} s + VACUUM ANALYZE ${VAC_S} s): a normal day $DAY ${DUE_S} s (target ≤ 60 s at 1,000,000) — $(counts "$DUE_JSON"); nothing due $NEXT ${NONE_S} s — $(counts "$NONE_JSON")"
} > "$OUT/cob.notes"
