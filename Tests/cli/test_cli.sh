#!/usr/bin/env bash
# End-to-end tests of the real d2l-cli binary: train a small model for one epoch on a
# subset of Fashion-MNIST, check the files it writes, evaluate the export through
# libd2l (Swift and C), and check that bad input fails with a message and no traceback.
#   Tests/cli/test_cli.sh [path/to/d2l-cli]     (default .build/release/d2l-cli)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${1:-$root/.build/release/d2l-cli}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() {  # check DESCRIPTION COMMAND...: the command must succeed
    local what=$1; shift
    if "$@" >"$tmp/out" 2>&1; then echo "ok   $what"; else echo "FAIL $what"; sed 's/^/     /' "$tmp/out"; failures=$((failures + 1)); fi
}
refuses() {  # refuses DESCRIPTION PATTERN COMMAND...: must fail, printing PATTERN
    local what=$1 pattern=$2; shift 2
    if "$@" >"$tmp/out" 2>&1; then echo "FAIL $what (succeeded)"; failures=$((failures + 1));
    elif grep -q -- "$pattern" "$tmp/out"; then echo "ok   $what";
    else echo "FAIL $what (no '$pattern' in:)"; sed 's/^/     /' "$tmp/out"; failures=$((failures + 1)); fi
}

check "train softmax for one epoch on 2000 images" \
    "$cli" train softmax --epochs 1 --subset 2000 --test-subset 500 --out "$tmp/run"
cp "$tmp/out" "$tmp/train.out"
for f in metrics.csv curves.svg checkpoint.safetensors model.onnx; do
    check "wrote $f" test -s "$tmp/run/$f"
done
check "metrics.csv has the header and one epoch" \
    bash -c "head -1 '$tmp/run/metrics.csv' | grep -qx 'epoch,train_loss,train_acc,test_acc,examples_per_sec' && [ \$(wc -l < '$tmp/run/metrics.csv') -eq 2 ]"
check "the export matches the toolkit through libd2l" \
    bash -c "grep -Eq 'export check: .* max \\|difference\\| ([0-9.]+e-(0[6-9]|[1-9][0-9])|0\\.00e\\+00)' '$tmp/train.out'"
check "the minibatch loss went down (first quarter mean > last quarter mean)" \
    bash -c "grep -E 'minibatch loss: first quarter mean' '$tmp/train.out' | awk '{ if (\$6 + 0 > \$10 + 0) ok = 1 } END { exit !ok }'"
check "eval through libd2l" "$cli" eval "$tmp/run/model.onnx" --subset 500
if [ -x "$root/bindings/c/build/evaluate" ]; then
    check "evaluate from C" "$root/bindings/c/build/evaluate" "$tmp/run/model.onnx" \
        /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
fi
refuses "unknown model names the valid ones" "lenet" "$cli" train resnet99 --epochs 1 --out "$tmp/bad"
refuses "bad batch size" "batch size" "$cli" train softmax --batch-size 0 --out "$tmp/bad"
refuses "missing data folder" "fashion-mnist\|Fashion-MNIST" "$cli" train softmax --data "$tmp/nowhere" --out "$tmp/bad"
refuses "eval of a missing model" "nowhere.onnx" "$cli" eval "$tmp/nowhere.onnx"
printf 'not a model' > "$tmp/bad.onnx"
refuses "eval of a corrupt model" "bad.onnx" "$cli" eval "$tmp/bad.onnx"
if [ $failures -ne 0 ]; then echo "$failures d2l-cli test(s) failed"; exit 1; fi
echo "d2l-cli: all tests passed"
