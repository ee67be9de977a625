#!/bin/sh
# test_examples.sh — end-to-end checks of the classify example (bindings/c/examples).
#
#     test_examples.sh CLASSIFY [REPO_ROOT]
#
# CLASSIFY is the program to test (bindings/c/build/classify, or the statically linked
# bindings/c/build/classify-static); REPO_ROOT defaults to the current directory.
# Prints one line per check ("ok - ..." / "FAIL - ...") and finishes with
# "N passed, M failed"; exits 1 when any check failed.
set -u

classify=${1:?usage: test_examples.sh CLASSIFY [REPO_ROOT]}
root=${2:-.}
model="$root/models/lenet-fashion.onnx"
dataset=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
tmp=$(mktemp -d "${TMPDIR:-/tmp}/d2l-c-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

passed=0
failed=0
check() { # check OK|FAIL DESCRIPTION
    if [ "$1" = OK ]; then
        passed=$((passed + 1)); echo "ok - $2"
    else
        failed=$((failed + 1)); echo "FAIL - $2"
    fi
}

# Runs classify with the given arguments; stdout, stderr and the exit status land in
# $tmp/out, $tmp/err and $status.
run() {
    "$classify" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

# The label of the first output line "1 LABEL PROBABILITY" (labels may hold spaces).
top_label() {
    sed -n '1s/^1 \(.*\) [0-9.e+-]*$/\1/p' "$tmp/out"
}

# Checks a successful run whose top-1 label must be $1; $2 describes the run.
expect_label() {
    if [ "$status" -ne 0 ]; then
        check FAIL "$2: exit status $status ($(cat "$tmp/err"))"
        return
    fi
    check OK "$2: exit status 0"
    lines=$(wc -l <"$tmp/out")
    [ "$lines" -eq "${3:-5}" ] && check OK "$2: prints ${3:-5} classes" \
        || check FAIL "$2: prints $lines lines, expected ${3:-5}"
    got=$(top_label)
    [ "$got" = "$1" ] && check OK "$2: top-1 is \"$1\"" \
        || check FAIL "$2: top-1 is \"$got\", expected \"$1\" (output: $(head -1 "$tmp/out"))"
}

# Checks a failing run: non-zero exit status and a message on stderr.
expect_failure() {
    if [ "$status" -ne 0 ] && [ -s "$tmp/err" ]; then
        check OK "$1: exit status $status, stderr: $(head -1 "$tmp/err")"
    else
        check FAIL "$1: exit status $status (expected non-zero with a message on stderr)"
    fi
}

# 1. Every sample PGM gets its label (file name <index>-<label>.pgm, '-' for ' ').
found=0
for image in "$root"/models/samples/*.pgm; do
    [ -e "$image" ] || continue
    found=$((found + 1))
    name=$(basename "$image" .pgm)
    label=$(echo "${name#*-}" | tr '-' ' ')
    # Fashion-MNIST's own class names keep their hyphen.
    [ "$label" = "t shirt" ] && label="t-shirt"
    run "$model" "$image"
    expect_label "$label" "classify $(basename "$image")"
done
[ "$found" -gt 0 ] && check OK "found $found sample images" || check FAIL "no samples in $root/models/samples"

# The probabilities printed form a descending list within [0, 1].
run "$model" "$root/models/samples/1-pullover.pgm" --top 10
if [ "$status" -eq 0 ] && awk '{p = $NF; if (p < 0 || p > 1 || (NR > 1 && p > last + 1e-12)) bad = 1; last = p; sum += p}
        END { exit !(NR == 10 && !bad && sum > 0.999 && sum < 1.001) }' "$tmp/out"; then
    check OK "--top 10: ten probabilities, descending, summing to 1"
else
    check FAIL "--top 10: $(cat "$tmp/out" "$tmp/err" | tr '\n' '|')"
fi

# 2. An image of the Fashion-MNIST test set, gzip'ed and plain (test image 0 is an ankle
#    boot, image 1 a pullover).
if [ -r "$dataset" ]; then
    run "$model" "$dataset" --index 0
    expect_label "ankle boot" "classify --index 0 $(basename "$dataset")"
    gzip -dc "$dataset" >"$tmp/t10k-images-idx3-ubyte"
    run "$model" "$tmp/t10k-images-idx3-ubyte" --index 1 --top 3
    expect_label "pullover" "classify --index 1 --top 3 (uncompressed IDX)" 3
    run "$model" "$dataset" --index 10000
    expect_failure "classify --index 10000 (out of range)"
else
    echo "skip - $dataset is absent (Debian package dataset-fashion-mnist)"
fi

# 3. Failures: exit status non-zero, a message on stderr.
run "$model" "$tmp/no-such-image.pgm"
expect_failure "missing image file"
run "$root/Tests/Fixtures/bad/random-bytes.onnx" "$root/models/samples/0-ankle-boot.pgm"
expect_failure "bad model file"
if grep -q "D2L_ERR_INVALID_MODEL" "$tmp/err"; then
    check OK "bad model file: stderr names the status and libd2l's message"
else
    check FAIL "bad model file: stderr lacks D2L_ERR_INVALID_MODEL: $(cat "$tmp/err")"
fi
run "$tmp/no-such-model.onnx" "$root/models/samples/0-ankle-boot.pgm"
expect_failure "missing model file"
printf 'P5\n28 28\n255\nshort' >"$tmp/truncated.pgm"
run "$model" "$tmp/truncated.pgm"
expect_failure "truncated PGM"
printf 'P2\n2 2\n255\n0 0 0 0\n' >"$tmp/ascii.pgm"
run "$model" "$tmp/ascii.pgm"
expect_failure "ASCII PGM (P2)"
printf 'P5\n2 2\n255\n\0\0\0\0' >"$tmp/small.pgm"
run "$model" "$tmp/small.pgm"
[ "$status" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 5 ] && check OK "a 2x2 image is resized to the model's 28x28" \
    || check FAIL "2x2 image: exit status $status ($(cat "$tmp/err"))"
run "$model"
expect_failure "missing argument"
run "$model" "$root/models/samples/0-ankle-boot.pgm" --top
expect_failure "--top without a number"
run "$model" "$root/models/samples/0-ankle-boot.pgm" --bogus
expect_failure "unknown option"

# 4. A PGM header with a comment and unusual whitespace still parses.
{
    printf 'P5\n# a comment line\n28\t28 # trailing comment\n  255\n'
    tail -c 784 "$root/models/samples/2-trouser.pgm"
} >"$tmp/commented.pgm"
run "$model" "$tmp/commented.pgm"
expect_label "trouser" "PGM header with comments"

# 5. PNG and JPEG (when this build reads them: `classify --help` lists its formats): the
#    samples' copies (tools/fixtures/make-sample-images; the label is the name up to the
#    first dot) get the PGM's label, RGB and larger ones included (made grayscale and
#    resized to 28x28); damaged files fail with a message naming them.
"$classify" --help >"$tmp/help" 2>&1
formats=$(sed -n 's/^image formats: //p' "$tmp/help")
[ -n "$formats" ] && check OK "--help lists the image formats ($formats)" || check FAIL "--help lists no image formats"
run "$model" "$root/models/samples/1-pullover.pgm" --top 10
cp "$tmp/out" "$tmp/pgm-probabilities"
for image in "$root"/models/samples/*.png "$root"/models/samples/*.jpg; do
    [ -e "$image" ] || continue
    name=$(basename "$image")
    label=$(echo "${name%%.*}" | sed 's/^[0-9]*-//' | tr '-' ' ')
    case "$image" in *.png) format=PNG ;; *) format=JPEG ;; esac
    run "$model" "$image"
    case ", $formats," in
    *", $format,"*) expect_label "$label" "classify $name" ;;
    *) expect_failure "classify $name ($format: not in this build)"
       grep -q "is a $format file" "$tmp/err" && check OK "$name: the message says the build lacks $format" \
           || check FAIL "$name: $(cat "$tmp/err")" ;;
    esac
done
case ", $formats," in
*", PNG,"*)
    run "$model" "$root/models/samples/1-pullover.png" --top 10
    cmp -s "$tmp/out" "$tmp/pgm-probabilities" && check OK "the PNG copy of a PGM gives the same probabilities" \
        || check FAIL "PNG and PGM of one image differ: $(head -2 "$tmp/out" | tr '\n' '|')"
    head -c 100 "$root/models/samples/1-pullover.png" >"$tmp/truncated.png"
    run "$model" "$tmp/truncated.png"
    expect_failure "truncated PNG"
    grep -q "truncated.png" "$tmp/err" && check OK "truncated PNG: the message names the file" \
        || check FAIL "truncated PNG: $(cat "$tmp/err")" ;;
esac
case ", $formats," in
*", JPEG,"*)
    head -c 300 "$root/models/samples/2-trouser.jpg" >"$tmp/truncated.jpg"
    run "$model" "$tmp/truncated.jpg"
    expect_failure "truncated JPEG"
    grep -q "truncated.jpg" "$tmp/err" && check OK "truncated JPEG: the message names the file" \
        || check FAIL "truncated JPEG: $(cat "$tmp/err")"
    printf '\377\330\377\340garbage that is not a JPEG stream' >"$tmp/garbage.jpg"
    run "$model" "$tmp/garbage.jpg"
    expect_failure "a JPEG signature followed by garbage" ;;
esac
printf 'just text\n' >"$tmp/text.jpg"
run "$model" "$tmp/text.jpg"
expect_failure "a text file named .jpg"
grep -q "not an image this build reads" "$tmp/err" && check OK "a text file: the message lists the formats" \
    || check FAIL "a text file: $(cat "$tmp/err")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
