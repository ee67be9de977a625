#!/usr/bin/env bash
# Runs every d2l-book section in --quick mode, as a reader would from the README's table:
# each must exit 0, print "all N checks passed" (its own checks: estimates, falling
# losses, ...), write the figures it names, and print every line of
# Tests/Fixtures/book/SECTION.expected: the book's PyTorch outputs in the book format,
# made by tools/fixtures/make-book-fixtures.
#   Tests/cli/test_book.sh [PATH/TO/d2l-book] [SECTION...]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
book=$(realpath "${1:-$root/.build/release/d2l-book}")
shift || true
fixtures="$root/Tests/Fixtures/book"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

listed=$("$book" list | awk '{print $2}')
[ -n "$listed" ] || { echo "FAIL: d2l-book list printed nothing"; exit 1; }
sections=${*:-$listed}

# Every reference file belongs to a listed section (a renamed section must take its file along).
for f in "$fixtures"/*.expected; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .expected)
    grep -qxF "$name" <<<"$listed" || fail "$f names no section of d2l-book list"
done

# missing_lines LOG EXPECTED: the lines of EXPECTED (blank ones aside) that LOG does not hold.
missing_lines() {
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        grep -qxF -- "$line" "$1" || printf '%s\n' "$line"
    done < "$2"
}

# The check can fail: a line a section does not print is reported, one it prints is not.
first=$(head -n 1 <<<"$listed")
"$book" "$first" --quick --out "$work/self" > "$work/self.log" 2>&1
printf '%s\n%s\n' "$(head -n 1 "$work/self.log")" "a line no section prints" > "$work/self.expected"
[ "$(missing_lines "$work/self.log" "$work/self.expected")" = "a line no section prints" ] \
    || fail "the expected-line check does not tell printed from missing lines"

# The README's table names every section (tools/dev/book-table prints it).
for name in $listed; do
    grep -qF "\`d2l-book $name\`" "$root/README.md" || fail "README.md's table of the book lacks d2l-book $name (tools/dev/book-table)"
done

# An unknown section is one clear error.
if "$book" no-such-section > "$work/unknown.log" 2>&1; then fail "an unknown section succeeded"; fi
grep -q "no section named" "$work/unknown.log" || fail "unknown section: $(cat "$work/unknown.log")"

# The data folder. 13.6 and 13.7 read DATA/banana-detection: without one, a small set from
# tools/make-bananas (40 + 10 images, about 2 s) goes into a work folder beside links to
# everything else in DATA (timemachine.txt, Fashion-MNIST, ...), and every section reads that.
data="${D2L_DATA_DIR:-$root/data}"
banana_sections="object-detection-dataset single-shot-multibox-detection"
needs_bananas=false
for s in $sections; do case " $banana_sections " in *" $s "*) needs_bananas=true ;; esac; done
if $needs_bananas && [ ! -f "$data/banana-detection/bananas_train/label.csv" ]; then
    mkdir -p "$work/data"
    for entry in "$data"/*; do
        [ -e "$entry" ] && ln -s "$(realpath "$entry")" "$work/data/$(basename "$entry")"
    done
    start=$(date +%s%N)
    if python3 "$root/tools/make-bananas" --train 40 --val 10 --out "$work/data/banana-detection" > "$work/bananas.log" 2>&1; then
        printf '  %-34s ok (%d ms)\n' "(tools/make-bananas 40 + 10)" $(( ($(date +%s%N) - start) / 1000000 ))
    else
        fail "tools/make-bananas could not write a banana set:"; tail -n 5 "$work/bananas.log"
    fi
    data="$work/data"
fi

for s in $sections; do
    log="$work/$s.log"
    before=$failures
    start=$(date +%s%N)
    if ! D2L_DATA_DIR="$data" "$book" "$s" --quick --out "$work/out" > "$log" 2>&1; then
        fail "$s exited with an error:"; tail -n 20 "$log"; continue
    fi
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    grep -qE "^all [0-9]+ checks passed$" "$log" || { fail "$s: its checks did not all pass"; tail -n 20 "$log"; }
    while IFS= read -r path; do
        [ -s "$path" ] || fail "$s: figure $path is missing or empty"
    done < <(sed -n 's/^figure: //p' "$log")
    if [ -f "$fixtures/$s.expected" ]; then
        while IFS= read -r line; do
            fail "$s: does not print the book's line: $line"
        done < <(missing_lines "$log" "$fixtures/$s.expected")
    fi
    [ "$failures" -eq "$before" ] && printf '  %-34s ok (%d ms)\n' "$s" "$ms"
done

if [ "$failures" -ne 0 ]; then echo "d2l-book: $failures failure(s)"; exit 1; fi
echo "d2l-book: every section ran and printed what the book prints"
