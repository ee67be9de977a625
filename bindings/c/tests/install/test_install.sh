#!/usr/bin/env bash
# test_install.sh — checks a libd2l installed by tools/install the way its users meet it: with
# the Swift toolchain hidden (a tmpfs mounted over it in a private mount namespace, so
# nothing can load from it), C and C++ programs are built with pkg-config and with CMake,
# against the shared and the static library, and run; the tools run; the files are what
# the installation promises (SONAME, no Swift libraries needed, only the header's
# functions exported, relocatable pkg-config and CMake files).
#
#     test_install.sh PREFIX [REPO_ROOT]
#
# Needs root or unprivileged user namespaces (unshare), gcc, g++, pkg-config and cmake.
# Prints one line per check and "N passed, M failed"; exits 1 when a check failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "${1:?usage: test_install.sh PREFIX [REPO_ROOT]}" && pwd)
root=$(cd "${2:-$here/../../../..}" && pwd)

if [ "${D2L_TOOLCHAIN_HIDDEN:-}" != 1 ]; then
    # Re-run inside a mount namespace with the toolchain's folder (the one holding
    # usr/bin/swift) covered by an empty tmpfs.
    swift=$(command -v swift || true)
    [ -n "$swift" ] || { echo "test_install.sh: no swift on PATH: nothing to hide (run it where the toolchain is installed)" >&2; exit 2; }
    toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$swift")")")")
    for flags in -m -rm; do
        if unshare "$flags" true 2>/dev/null; then
            exec unshare "$flags" env D2L_TOOLCHAIN_HIDDEN=1 D2L_HIDDEN_TOOLCHAIN="$toolchain" \
                sh -c 'mount -t tmpfs tmpfs "$D2L_HIDDEN_TOOLCHAIN" && exec "$0" "$@"' "$0" "$prefix" "$root"
        fi
    done
    echo "test_install.sh: cannot hide the toolchain: unshare -m (root) and unshare -rm both fail" >&2
    exit 2
fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; [ -z "${2:-}" ] || echo "$2" | sed 's/^/    /'; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    local description=$1 output
    shift
    if output=$("$@" 2>&1); then ok "$description"; else fail "$description" "$output"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the toolchain is really hidden ----------------------------------------------------
if [ -z "$(ls -A "$D2L_HIDDEN_TOOLCHAIN")" ] && ! command -v swiftc >/dev/null; then
    ok "the Swift toolchain ($D2L_HIDDEN_TOOLCHAIN) is hidden"
else
    fail "the Swift toolchain ($D2L_HIDDEN_TOOLCHAIN) is still visible"
fi

# ---- the installed files ------------------------------------------------------------------
library=$(readlink -f "$prefix/lib/libd2l.so")
dynamic=$(readelf -d "$library" 2>&1)
if echo "$dynamic" | grep -q 'SONAME.*\[libd2l\.so\.0\]' && [ "$(readlink "$prefix/lib/libd2l.so.0")" = "$(basename "$library")" ]; then
    ok "lib/libd2l.so -> libd2l.so.0 -> $(basename "$library"), SONAME libd2l.so.0"
else
    fail "SONAME or links of lib/libd2l.so" "$(ls -l "$prefix/lib"; echo "$dynamic" | grep SONAME)"
fi
if echo "$dynamic" | grep NEEDED | grep -q swift; then
    fail "libd2l.so needs no Swift library" "$(echo "$dynamic" | grep NEEDED)"
else
    ok "libd2l.so needs no Swift library: $(echo "$dynamic" | grep NEEDED | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')"
fi
check "libd2l.so exports exactly the header's functions" sh "$root/bindings/c/tests/test_exports.sh" "$library" "$root"
if nm -g --defined-only "$prefix/lib/libd2l.a" 2>/dev/null | awk 'NF == 3 {print $3}' | grep -qv '^d2l_'; then
    fail "libd2l.a defines only d2l_* globals" "$(nm -g --defined-only "$prefix/lib/libd2l.a" | awk 'NF == 3 {print $3}' | grep -v '^d2l_' | head -5)"
else
    ok "libd2l.a defines only d2l_* globals"
fi
cmp -s "$prefix/include/d2l.h" "$root/include/d2l.h" && ok "include/d2l.h is the repository's" || fail "include/d2l.h differs from the repository's"

# ---- pkg-config: C and C++, shared and static (-static: nothing loaded at run time) --------
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
if version=$(pkg-config --modversion d2l 2>&1) && [ "$version" = "$(sh "$root/tools/dev/libd2l-version")" ]; then
    ok "pkg-config --modversion d2l: $version"
else
    fail "pkg-config --modversion d2l" "$version"
fi
apps=()
build() { # build NAME COMMAND...
    local name=$1 output
    shift
    if output=$("$@" -o "$tmp/$name" 2>&1); then ok "build $name: $*"; apps+=("$tmp/$name"); else fail "build $name: $*" "$output"; fi
}
# shellcheck disable=SC2046
build app-pc-c-shared gcc -std=c11 -Wall -Werror "$here/app.c" $(pkg-config --cflags --libs d2l)
# shellcheck disable=SC2046
build app-pc-c-static gcc -std=c11 -Wall -Werror "$here/app.c" $(pkg-config --cflags --static --libs d2l) -static
# shellcheck disable=SC2046
build app-pc-cpp-shared g++ -std=c++17 -Wall -Werror "$here/app.cpp" $(pkg-config --cflags --libs d2l)
# shellcheck disable=SC2046
build app-pc-cpp-static g++ -std=c++17 -Wall -Werror "$here/app.cpp" $(pkg-config --cflags --static --libs d2l) -static

# ---- CMake: find_package(d2l), d2l::d2l and d2l::d2l_static -------------------------------
# A copy of the installation elsewhere: the CMake and pkg-config files must be relocatable.
cp -a "$prefix" "$tmp/moved-prefix"
if output=$(cmake -S "$here" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$tmp/moved-prefix" -DCMAKE_BUILD_TYPE=Release 2>&1 \
            && cmake --build "$tmp/cmake" 2>&1); then
    ok "cmake: find_package(d2l) in a moved copy of the prefix, 4 programs built"
    for name in c-shared c-static cpp-shared cpp-static; do apps+=("$tmp/cmake/app-cmake-$name"); done
else
    fail "cmake: find_package(d2l) and the build" "$(echo "$output" | tail -20)"
fi
# find_package asking for a newer version than the installed one is refused.
sed 's/find_package(d2l 0.1 /find_package(d2l 9.0 /' "$here/CMakeLists.txt" > "$tmp/CMakeLists.txt"
cp "$here/app.c" "$here/app.cpp" "$tmp/"
if cmake -S "$tmp" -B "$tmp/cmake-too-new" -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/too-new.log" 2>&1; then
    fail "find_package(d2l 9.0) refuses libd2l $version"
else
    ok "find_package(d2l 9.0) refuses libd2l $version"
fi

# ---- the programs, with the toolchain hidden ---------------------------------------------
for app in "${apps[@]}"; do
    case "$app" in
        *static*) if ldd "$app" >/dev/null 2>&1 && ldd "$app" 2>&1 | grep -q libd2l; then fail "$(basename "$app") is linked against libd2l.so"; fi ;;
    esac
done
LD_LIBRARY_PATH=$prefix/lib sh "$root/bindings/c/tests/test_pkgconfig.sh" "$root" "${apps[@]}" > "$tmp/apps.log" 2>&1
status=$?
while IFS= read -r line; do
    case "$line" in
        "ok - "*) ok "${line#ok - }" ;;
        "FAIL - "*) fail "${line#FAIL - }" ;;
    esac
done < <(grep -E '^(ok|FAIL) - ' "$tmp/apps.log")
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || fail "test_pkgconfig.sh failed" "$(cat "$tmp/apps.log")"
for app in app-pc-cpp-shared app-pc-cpp-static; do
    if output=$(LD_LIBRARY_PATH=$prefix/lib "$tmp/$app" "$root/models/lenet-fashion.onnx" 2>&1) && echo "$output" | grep -q '^output 0: \[1, 10\]$'; then
        ok "$app runs LeNet: $(echo "$output" | tail -1)"
    else
        fail "$app runs LeNet" "$output"
    fi
done

# ---- the tools ------------------------------------------------------------------------------
for tool in d2l-cli d2l-export; do
    if output=$("$prefix/bin/$tool" --version 2>&1) && echo "$output" | grep -q "$version"; then
        ok "bin/$tool --version: $output"
    else
        fail "bin/$tool --version" "$output"
    fi
done
if output=$("$prefix/bin/d2l-export" inspect "$root/models/lenet-fashion.onnx" 2>&1) && echo "$output" | grep -qi conv; then
    ok "bin/d2l-export inspect models/lenet-fashion.onnx"
else
    fail "bin/d2l-export inspect models/lenet-fashion.onnx" "$(echo "$output" | head -5)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
