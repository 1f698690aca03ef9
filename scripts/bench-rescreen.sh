#!/usr/bin/env bash
# make bench's re-screening benchmark (docs/screening.md, "Ongoing monitoring": 100,000 customers
# re-screened when a new sanctions list version is loaded). bench.sh runs it before the day-end;
# it also runs alone, against the stack of STACK_DIR (started here, and stopped after, when it is
# not running).
#
# In a scratch database of the stack's cluster (loanflow_rescreen_bench: `stack.sh
# bench-db-create` with BENCH_DB, migrated by `loanctl migrate` as the owner with the serving role
# granted, dropped at the end) so the development data is never touched:
#   1. tests/bench/rescreen_subjects.sql generates BENCH_RESCREEN_SUBJECTS (default 100,000) open
#      applications with names of ten cultures, dates of birth and countries; then VACUUM ANALYZE;
#   2. `loanctl sanctions load data/sanctions/sample_sdn.csv` as version 1 of "OFAC SDN" (a first
#      version: its 40 invented entries screened against everyone);
#   3. the shipped OFAC list (data/sanctions/ofac_sdn_2024-05-03.csv.gz) as version 2 of the same
#      name: every entry is new, the worst case;
#   4. a copy of it with 10 individuals' remarks changed (an alt. DOB added) as version 3: the
#      usual update, 10 changed entries.
# Each load is the real command, as the serving role; the figures are the ones it prints
# (`rescreened E changed entries against S subjects: H new matches in T ms`, T measured inside
# the re-screening, after the version's transaction) and the load's wall time from outside.
#
# BENCH_RESCREEN_KEEP=1 keeps the database afterwards, until `BENCH_DB=loanflow_rescreen_bench
# scripts/stack.sh bench-db-drop` or the next run.
#
# Writes bench-output/rescreen.txt (everything printed), rescreen.rows (rows of make bench's
# table) and rescreen.notes (its notes), which bench.sh puts in results.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export STACK_DIR="${STACK_DIR:-$ROOT/var}"
N="${BENCH_RESCREEN_SUBJECTS:-100000}"
DB=loanflow_rescreen_bench
LIST_NAME="OFAC SDN"
V1="$ROOT/data/sanctions/sample_sdn.csv"
V2="$ROOT/data/sanctions/ofac_sdn_2024-05-03.csv.gz"
OUT="$ROOT/bench-output"; mkdir -p "$OUT"
LOGF="$OUT/rescreen.txt"
V3="$OUT/rescreen_v3_sdn.csv"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RESCREEN_SUBJECTS must be a positive number" >&2; exit 2; }

started=0
if ! scripts/stack.sh status >/dev/null 2>&1; then
  scripts/stack.sh start
  started=1
fi
set -a; . "$STACK_DIR/stack.env"; set +a
cleanup() {
  if [ "${BENCH_RESCREEN_KEEP:-0}" = 1 ]; then
    echo "kept the database $DB (BENCH_RESCREEN_KEEP=1): scripts/stack.sh pg-super $DB; BENCH_DB=$DB scripts/stack.sh bench-db-drop" >&2
  else
    BENCH_DB=$DB scripts/stack.sh bench-db-drop >/dev/null 2>&1 || true
  fi
  rm -f "$V3"
  [ "$started" = 1 ] && scripts/stack.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

say() { printf '%s\n' "$*" | tee -a "$LOGF" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
: > "$LOGF"; rm -f "$OUT/rescreen.rows" "$OUT/rescreen.notes"

BENCH_DB=$DB scripts/stack.sh bench-db-create >/dev/null
OWNER_URL=$(scripts/stack.sh owner-url "$DB")
APP_URL=$(printf '%s' "$DATABASE_URL" | sed "s|^postgresql:///loanflow?|postgresql:///$DB?|")
[ "$APP_URL" != "$DATABASE_URL" ] || { echo "cannot aim DATABASE_URL at $DB: $DATABASE_URL" >&2; exit 1; }
# loanctl as the serving role in the scratch database: no cache (REDIS_URL, EPOCH_FILE empty),
# so the stack's caches are not bumped by these loads.
bench_loanctl() {
  LOANFLOW_STACK_ENV="$STACK_DIR/stack.env" DATABASE_URL="$APP_URL" REDIS_URL= EPOCH_FILE= \
    ./loanctl "$@"
}
MIGRATE_DATABASE_URL="$OWNER_URL" bench_loanctl migrate >>"$LOGF" 2>&1 \
  || { tail -5 "$LOGF" >&2; exit 1; }

say "== re-screening: $N open applications in $DB, three versions of \"$LIST_NAME\""
t0=$(now)
scripts/stack.sh pg-super "$DB" -qAt -v n="$N" < tests/bench/rescreen_subjects.sql \
  | tee -a "$LOGF" >&2
t1=$(now)
psql -X -qAt -v ON_ERROR_STOP=1 "$OWNER_URL" -c "VACUUM ANALYZE" >>"$LOGF" 2>&1
say "generation $(secs "$t0" "$t1") s, VACUUM ANALYZE $(secs "$t1" "$(now)") s"

# Version 3: the shipped list with the remarks of 10 individuals (spread over the file) changed.
zcat "$V2" | awk -v want=10 '
  /^[0-9]+,"[^"]*","individual",/ && /\."\r$/ && ++m % 500 == 0 && n < want {
    sub(/\."\r$/, "; alt. DOB 01 Jan 1961.\"\r"); n++
  }
  { if ($0 == "\032") printf "%s", $0; else print }  # the end-of-file byte stays last
  END { if (n != want) { print "changed " n " entries, not " want > "/dev/stderr"; exit 1 } }' > "$V3"

# One load by the real command, timed from outside; prints "WALL_S E S H T".
load() {
  local file=$1 a b out line
  a=$(now)
  out=$(bench_loanctl sanctions load "$file" --name "$LIST_NAME")
  b=$(now)
  printf '%s\n' "$out" >>"$LOGF"
  line=$(printf '%s\n' "$out" | grep '^rescreened ') \
    || { echo "no re-screening line from loading $file: $out" >&2; exit 1; }
  printf '%s %s\n' "$(secs "$a" "$b")" \
    "$(printf '%s\n' "$line" | sed -E 's/^rescreened ([0-9]+) changed entries against ([0-9]+) subjects: ([0-9]+) new matches in ([0-9]+) ms$/\1 \2 \3 \4/')"
}
report() {  # report LABEL WALL_S E S H T
  say "rescreen subjects=$4 entries=$3 hits=$5 ms=$6 ($1; the whole load ${2} s)"
}
load "$V1" > "$OUT/rescreen.load"; read -r W1 E1 S1 H1 T1 < "$OUT/rescreen.load"
report "version 1, sample_sdn.csv: a first version, every entry" "$W1" "$E1" "$S1" "$H1" "$T1"
load "$V2" > "$OUT/rescreen.load"; read -r W2 E2 S2 H2 T2 < "$OUT/rescreen.load"
report "version 2, the full OFAC list: every entry new" "$W2" "$E2" "$S2" "$H2" "$T2"
load "$V3" > "$OUT/rescreen.load"; read -r W3 E3 S3 H3 T3 < "$OUT/rescreen.load"
rm -f "$OUT/rescreen.load"
report "version 3, 10 entries changed" "$W3" "$E3" "$S3" "$H3" "$T3"
AGAIN=$(bench_loanctl sanctions load "$V3" --name "$LIST_NAME")
printf '%s\n' "$AGAIN" >>"$LOGF"
printf '%s\n' "$AGAIN" | grep -q 'is already the active list' \
  || { echo "loading version 3 again did not say it is already active: $AGAIN" >&2; exit 1; }
ALERTS=$(psql -X -qAt "$OWNER_URL" -c "SELECT count(*) || ' alerts, ' || count(DISTINCT application_id) || ' applications, ' || count(*) FILTER (WHERE level = 'block') || ' block' FROM screening_alerts")
say "in all: $ALERTS"

{
  echo "| re-screening $S2 customers, every entry of the OFAC list new ($E2 entries, one run) | — | $T2 | — | — |"
  echo "| re-screening $S3 customers, 10 entries changed (one run) | — | $T3 | — | — |"
} > "$OUT/rescreen.rows"
{
  echo "- re-screening when \`loanctl sanctions load\` activates a new version ($S2 generated open applications of ten name cultures): the full OFAC list over the 40-entry sample, every entry new, rescreen subjects=$S2 entries=$E2 hits=$H2 ms=$T2 (the whole load ${W2} s); 10 entries changed, rescreen subjects=$S3 entries=$E3 hits=$H3 ms=$T3 (the whole load ${W3} s); a first version (the sample, $E1 entries) $T1 ms with $H1 matches; in all $ALERTS"
} > "$OUT/rescreen.notes"
