#!/bin/sh
# test_pkgconfig.sh — a user's programs (install/app.c, install/app.cpp) built against an
# installed or cross-built libd2l (with the pkg-config line of lib/pkgconfig/d2l.pc, or with
# CMake; statically and against lib/libd2l.so) load a model and print the library's version,
# and refuse a truncated model.
#
#     test_pkgconfig.sh REPO_ROOT APP...
#
# Prints one line per check and "N passed, M failed"; exits 1 when a check failed.
set -u
root=${1:?usage: test_pkgconfig.sh REPO_ROOT APP...}
shift
[ $# -gt 0 ] || { echo "usage: test_pkgconfig.sh REPO_ROOT APP..." >&2; exit 2; }
passed=0
failed=0
for app in "$@"; do
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
