#!/bin/sh
# test_static.sh — checks a classify linked without the shared Swift runtime.
#
#     test_static.sh CLASSIFY [REPO_ROOT] [LIBD2L_SO]
#
# Without LIBD2L_SO, CLASSIFY must be linked against libd2l-static.a: ldd must show
# neither libd2l nor any Swift library. With LIBD2L_SO (a libd2l.so built with
# `-Xswiftc -static-stdlib`), CLASSIFY links that library, and the library must need
# nothing but libc, libm, libstdc++, libgcc_s and libprotobuf-c.
# Either way CLASSIFY must classify a sample image correctly.
# Prints one line per check and "N passed, M failed"; exits 1 when a check failed.
set -u

classify=${1:?usage: test_static.sh CLASSIFY [REPO_ROOT] [LIBD2L_SO]}
root=${2:-.}
library=${3:-}
passed=0
failed=0
check() { # check OK|FAIL DESCRIPTION
    if [ "$1" = OK ]; then
        passed=$((passed + 1)); echo "ok - $2"
    else
        failed=$((failed + 1)); echo "FAIL - $2"
    fi
}

# The library names (sonames) that ldd lists for $1, one per line.
needed() {
    ldd "$1" 2>&1 | awk '$1 != "statically" && $1 != "not" { sub(/^\t*/, ""); print $1 }'
}

if [ -z "$library" ]; then
    deps=$(needed "$classify")
    if echo "$deps" | grep -q -e 'libd2l' -e 'libswift' -e 'libdispatch' -e 'libBlocksRuntime'; then
        check FAIL "$(basename "$classify") needs no libd2l or Swift shared library: $(echo $deps)"
    else
        check OK "$(basename "$classify") needs no libd2l or Swift shared library ($(echo $deps))"
    fi
else
    if needed "$classify" | grep -q "^libd2l.so"; then
        resolved=$(ldd "$classify" | awk '$1 == "libd2l.so" { print $3 }')
        [ "$resolved" = "$library" ] && check OK "$(basename "$classify") loads $library" \
            || check FAIL "$(basename "$classify") loads libd2l.so from '$resolved', not $library"
    else
        check FAIL "$(basename "$classify") does not link libd2l.so"
    fi
    deps=$(needed "$library")
    extra=$(echo "$deps" | grep -v -e '^linux-vdso' -e '^/lib.*/ld-linux' -e '^ld-linux' \
        -e '^libc\.so' -e '^libm\.so' -e '^libstdc++\.so' -e '^libgcc_s\.so' -e '^libprotobuf-c\.so')
    [ -z "$extra" ] && check OK "$library needs only libc, libm, libstdc++, libgcc_s, libprotobuf-c ($(echo $deps))" \
        || check FAIL "$library also needs: $(echo $extra)"
fi

out=$("$classify" "$root/models/lenet-fashion.onnx" "$root/models/samples/1-pullover.pgm" --top 1 2>&1)
status=$?
[ "$status" -eq 0 ] && check OK "$(basename "$classify") runs (exit status 0)" \
    || check FAIL "$(basename "$classify") exit status $status: $out"
case "$out" in
"1 pullover "*) check OK "$(basename "$classify"): 1-pullover.pgm is a pullover" ;;
*) check FAIL "$(basename "$classify"): 1-pullover.pgm gives '$out'" ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
