#!/bin/sh
# test_pkgconfig.sh — a user's program built from the pkg-config line of lib/pkgconfig/d2l.pc
# (tools/cross-build --check builds it twice: --static with -static, and dynamically
# against lib/libd2l.so) loads a model and prints the library's version.
#
#     test_pkgconfig.sh APP_STATIC APP_SHARED [REPO_ROOT]
#
# Prints one line per check and "N passed, M failed"; exits 1 when a check failed.
set -u
static=${1:?usage: test_pkgconfig.sh APP_STATIC APP_SHARED [REPO_ROOT]}
shared=${2:?usage: test_pkgconfig.sh APP_STATIC APP_SHARED [REPO_ROOT]}
root=${3:-.}
passed=0
failed=0
for app in "$static" "$shared"; do
    if output=$("$app" "$root/models/lenet-fashion.onnx" 2>&1) && echo "$output" | grep -q '^libd2l [0-9.]* ([a-z0-9-]*): 1 input(s)$'; then
        passed=$((passed + 1)); echo "ok - $(basename "$app"): $output"
    else
        failed=$((failed + 1)); echo "FAIL - $(basename "$app"): $output"
    fi
    if output=$("$app" "$root/Tests/Fixtures/bad/truncated.onnx" 2>&1); then
        failed=$((failed + 1)); echo "FAIL - $(basename "$app") accepted a truncated model: $output"
    else
        passed=$((passed + 1)); echo "ok - $(basename "$app") refuses a truncated model: $output"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
