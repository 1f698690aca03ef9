#!/usr/bin/env bash
# make test: unit tests (no server), then the whole stack in a temporary folder on spare ports
# (never var/ or :5003), then every API and browser test through nginx. The stack is torn down
# whatever happens. The last line is the total: "N passed, N failed".
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/test-output"
rm -rf "$OUT"; mkdir -p "$OUT"
pass=0; fail=0

count_tap() {  # adds the "# pass N" / "# fail N" of a node TAP file to the totals
  local p f
  p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ -z "$p" ]; then fail=$((fail + 1)); echo "not ok - $1 produced no summary"; fi
}

# A port nobody listens on, below the kernel's ephemeral range (ip_local_port_range): a port in
# that range can be the local end of any outgoing connection at the moment nginx binds it.
EPHEMERAL_LOW=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "${EPHEMERAL_LOW:-0}" -gt 21000 ] 2>/dev/null || EPHEMERAL_LOW=32768
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % (EPHEMERAL_LOW - 20000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

echo "== unit tests"
scripts/unit.sh "$@" | tee "$OUT/unit.txt"
line=$(tail -1 "$OUT/unit.txt")
up=$(echo "$line" | sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed.*/\1/p')
uf=$(echo "$line" | sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed.*/\2/p')
pass=$((pass + ${up:-0})); fail=$((fail + ${uf:-1}))

echo "== fuzzing the submit parser and validators (${FUZZ_SECONDS:=20} s)"
mkdir -p build/fuzz-corpus && cp tests/fuzz/corpus/* build/fuzz-corpus/
if build/fuzz_submit -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -artifact_prefix="$OUT/" build/fuzz-corpus \
    > "$OUT/fuzz.txt" 2>&1; then
  echo "ok - fuzz_submit: $(grep -E 'stat::number_of_executed_units' "$OUT/fuzz.txt" | awk '{print $2}') inputs, no crash"
  pass=$((pass + 1))
else
  echo "not ok - fuzz_submit found a crash:"; tail -40 "$OUT/fuzz.txt"
  cp crash-* leak-* "$OUT/" 2>/dev/null || true
  fail=$((fail + 1))
fi

TMP=$(mktemp -d /tmp/loanflow-test.XXXXXX)
chmod 755 "$TMP"
# Providers time out after half a second in tests (3 s by default), so the sandbox's timeout
# identities answer quickly.
export STACK_DIR="$TMP" APP_ENV=test TEST_ROUTES=1 SEED_COUNT=0 LOG_LEVEL=info PROVIDER_TIMEOUT_MS=500
PORT=$(free_port); BENCH_PORT=$(free_port); GATEWAY_PORT=$(free_port)
while [ "$BENCH_PORT" = "$PORT" ]; do BENCH_PORT=$(free_port); done
while [ "$GATEWAY_PORT" = "$PORT" ] || [ "$GATEWAY_PORT" = "$BENCH_PORT" ]; do GATEWAY_PORT=$(free_port); done
export PORT BENCH_PORT GATEWAY_PORT
# The sandbox payment gateway moves a payout a step every 100 ms (300 by default).
export GATEWAY_SANDBOX_DELAY_MS=100
cleanup() {
  scripts/stack.sh stop >/dev/null 2>&1 || true
  mkdir -p "$OUT/logs"; cp -r "$TMP/log/." "$OUT/logs/" 2>/dev/null || true
  rm -rf "$TMP" "$(readlink -f "$TMP/pg" 2>/dev/null)" 2>/dev/null || true
}
trap cleanup EXIT

echo "== starting the test stack on 127.0.0.1:$PORT in $TMP"
if ! scripts/stack.sh start > "$OUT/stack.txt" 2>&1; then
  cat "$OUT/stack.txt"
  echo "$pass passed, $((fail + 1)) failed"
  exit 1
fi
set -a; . "$TMP/stack.env"; set +a
# The tests' sql() helper sets rows up as the schema's owner (tests/api/lib.mjs); the serving
# role is DATABASE_URL, as the workers and loanctl use it.
TEST_OWNER_DATABASE_URL=$(scripts/stack.sh owner-url)
export TEST_OWNER_DATABASE_URL
export BASE_URL="http://127.0.0.1:$PORT" ROOT
export ADMIN_EMAIL="${ADMIN_EMAIL:-admin@example.com}" ADMIN_PASSWORD="${ADMIN_PASSWORD:-admin12345}"

echo "== API tests through nginx"
for f in tests/api/*.test.mjs; do
  name=$(basename "$f" .test.mjs)
  node --test --test-reporter=tap "$f" > "$OUT/api-$name.tap" 2>&1
  count_tap "$OUT/api-$name.tap"
  grep -E '^(not ok|# (pass|fail) )' "$OUT/api-$name.tap" | sed "s/^/$name: /"
  grep -B2 -A25 -E '^\s*not ok' "$OUT/api-$name.tap" | head -80
done

if [ -d tests/browser ] && ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  echo "== browser tests (headless Chromium)"
  export TEST_OUTPUT="$OUT"
  for f in tests/browser/*.test.mjs; do
    name=$(basename "$f" .test.mjs)
    node --test --test-reporter=tap "$f" > "$OUT/browser-$name.tap" 2>&1
    count_tap "$OUT/browser-$name.tap"
    grep -E '^(not ok|# (pass|fail) )' "$OUT/browser-$name.tap" | sed "s/^/browser $name: /"
  done
fi

echo
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
