#!/usr/bin/env bash
# Runs the cmocka unit tests (no server). Prints each binary's TAP lines and, last, the totals as
# "unit: N passed, N failed". Exit status 1 when any test failed.
set -uo pipefail
pass=0; fail=0
for t in "$@"; do
  out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1); rc=$?
  echo "$out" | grep -E '^(not )?ok |^# ' || true
  p=$(echo "$out" | grep -cE '^ok ' || true)
  f=$(echo "$out" | grep -E '^not ok ' | grep -cv '# SKIP' || true)
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $t exited with $rc"; echo "$out" | tail -20; fi
  pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ]
