#!/bin/sh
# test_exports.sh — libd2l.so exports exactly the functions include/d2l.h declares (D2L_API),
# and Sources/D2LSharedLibrary/libd2l.map, the version script, lists exactly those.
#
#     test_exports.sh LIBD2L_SO [REPO_ROOT]
#
# Prints one line per check and "N passed, M failed"; exits 1 when a check failed.
set -u
library=${1:?usage: test_exports.sh LIBD2L_SO [REPO_ROOT]}
root=${2:-.}
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # check DESCRIPTION FILE_A FILE_B
    if cmp -s "$2" "$3"; then
        passed=$((passed + 1)); echo "ok - $1"
    else
        failed=$((failed + 1)); echo "FAIL - $1"; diff "$2" "$3" | sed 's/^/    /'
    fi
}
grep -oE '^D2L_API[^(]*\bd2l_[a-z0-9_]+\(' "$root/include/d2l.h" | grep -oE 'd2l_[a-z0-9_]+\($' | tr -d '(' | sort > "$tmp/header"
sed -n '/global:/,/local:/p' "$root/Sources/D2LSharedLibrary/libd2l.map" | grep -oE '^ *d2l_[a-z0-9_]+;' | tr -d ' ;' | sort > "$tmp/map"
${NM:-nm} -D --defined-only -g "$library" | awk '{print $3}' | sort > "$tmp/exported"
if [ -s "$tmp/header" ]; then passed=$((passed + 1)); echo "ok - include/d2l.h declares $(wc -l < "$tmp/header") D2L_API functions"
else failed=$((failed + 1)); echo "FAIL - no D2L_API function found in include/d2l.h"; fi
check "libd2l.map lists exactly the header's functions (< header, > map)" "$tmp/header" "$tmp/map"
check "$(basename "$library") exports exactly the header's functions (< header, > exported)" "$tmp/header" "$tmp/exported"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
