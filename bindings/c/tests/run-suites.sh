#!/bin/sh
# run-suites.sh — runs test suites, each of which ends its output with "N passed, M failed",
# and sums them up.
#
#     run-suites.sh "COMMAND 1" "COMMAND 2" ...
#
# Every suite runs even when an earlier one fails. The last line printed is the total,
# "N passed, M failed"; the exit status is 1 when a check failed, a suite exited non-zero
# or a suite did not print its summary line.
set -u

total_passed=0
total_failed=0
broken=0
summary=""
log=$(mktemp "${TMPDIR:-/tmp}/d2l-c-suite.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM

for suite in "$@"; do
    echo "=== $suite"
    sh -c "$suite" >"$log" 2>&1
    status=$?
    cat "$log"
    last=$(tail -n 1 "$log")
    # The summary line: "N passed, M failed" and nothing else.
    passed=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
    failed=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
    if [ -z "$passed" ]; then
        broken=1
        summary="$summary
  BROKEN (exit status $status, no summary line): $suite"
        continue
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then broken=1; fi
    summary="$summary
  $passed passed, $failed failed (exit status $status): $suite"
done

echo "=== summary$summary"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ "$broken" -eq 0 ]
