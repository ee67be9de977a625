#!/usr/bin/env bash
# End-to-end tests of the real d2l-export binary on Tests/Fixtures/toolkit/export
# (tools/make-export-fixtures): convert every fixture and verify it through libd2l against
# PyTorch's outputs, inspect checkpoints and models, and check that bad input fails with a
# one-line message, a non-zero exit and no output file.
#   Tests/cli/test_export.sh [path/to/d2l-export]     (default .build/release/d2l-export)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tool=${1:-$root/.build/release/d2l-export}
fixtures=$root/Tests/Fixtures/toolkit/export
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
check() {  # check DESCRIPTION COMMAND...: the command must succeed
    local what=$1; shift
    if "$@" >"$tmp/out" 2>&1; then echo "ok   $what"; else echo "FAIL $what"; sed 's/^/     /' "$tmp/out"; failures=$((failures + 1)); fi
}
prints() {  # prints DESCRIPTION PATTERN COMMAND...: must succeed, printing PATTERN (grep -E)
    local what=$1 pattern=$2; shift 2
    if ! "$@" >"$tmp/out" 2>&1; then echo "FAIL $what (failed)"; sed 's/^/     /' "$tmp/out"; failures=$((failures + 1));
    elif grep -Eq -- "$pattern" "$tmp/out"; then echo "ok   $what";
    else echo "FAIL $what (no '$pattern' in:)"; sed 's/^/     /' "$tmp/out"; failures=$((failures + 1)); fi
}
refuses() {  # refuses DESCRIPTION PATTERN COMMAND...: must fail with one line holding PATTERN, no trace, no output file
    local what=$1 pattern=$2; shift 2
    rm -f "$tmp/bad.onnx"
    if "$@" >"$tmp/out" 2>"$tmp/err"; then echo "FAIL $what (succeeded)"; failures=$((failures + 1)); return; fi
    if ! grep -q -- "$pattern" "$tmp/err"; then
        echo "FAIL $what (no '$pattern' in:)"; sed 's/^/     /' "$tmp/err"; failures=$((failures + 1))
    elif [ "$(wc -l < "$tmp/err")" -ne 1 ] || grep -qiE "stack|backtrace|fatal error|Current stack" "$tmp/err"; then
        echo "FAIL $what (not one clean line:)"; sed 's/^/     /' "$tmp/err"; failures=$((failures + 1))
    elif [ -e "$tmp/bad.onnx" ] || ls -a "$tmp" | grep -q '^\.bad\.onnx\.tmp'; then
        echo "FAIL $what (left an output file)"; ls -la "$tmp"; failures=$((failures + 1))
    else echo "ok   $what"; fi
}

if [ ! -x "$tool" ]; then echo "no d2l-export binary at $tool (D2L_TARGET_CPU=native swift build -c release --product d2l-export)"; exit 1; fi

# Every fixture: convert (options from models.json), then verify against PyTorch's outputs.
while read -r name arch options; do
    # shellcheck disable=SC2086
    check "convert $name (--arch $arch $options)" "$tool" convert --arch "$arch" --input "$fixtures/$name.params" --output "$tmp/$name.onnx" $options
    check "verify $name against PyTorch" "$tool" verify "$tmp/$name.onnx" --reference "$fixtures/$name-ref"
done < <(python3 - "$fixtures/models.json" <<'PY'
import json, sys
for name, entry in json.load(open(sys.argv[1])).items():
    print(name, entry["arch"], " ".join(f"--{k} {v}" for k, v in entry["options"].items()))
PY
)

prints "convert reports what it read and wrote" \
    "wrote .*lenet-bn2.onnx: [0-9]+ bytes, opset 17" "$tool" convert --arch lenet-bn --input "$fixtures/lenet-bn.params" --output "$tmp/lenet-bn2.onnx"
cp "$tmp/out" "$tmp/convert.log"
for pattern in "read .*lenet-bn.params \(torch.save zip\): 30 tensors, 45334 values; dtypes float32, int64" \
               "loaded into lenet-bn: 44878 parameters" "input  x: float32 \[batch, 1, 28, 28\]" \
               "output logits: float32 \[batch, 10\]" "d2l.producer = d2l-export 0.1 from torch state_dict" \
               "d2l.task = classification" "max \|difference\| [0-9.]+e-(0[6-9]|[1-9][0-9])"; do
    check "convert printed /$pattern/" grep -Eq -- "$pattern" "$tmp/convert.log"
done
check "no temporary files left beside the outputs" bash -c "! ls -a '$tmp' | grep -q '\.tmp-'"
check "--no-fold-bn converts" "$tool" convert --arch resnet18 --input "$fixtures/resnet18-small.params" --output "$tmp/resnet-kept.onnx" --width-divisor 32 --image-size 32 --no-fold-bn
check "--no-fold-bn verifies" "$tool" verify "$tmp/resnet-kept.onnx" --reference "$fixtures/resnet18-small-ref"
prints "--no-fold-bn keeps BatchNormalization" "BatchNormalization" "$tool" inspect "$tmp/resnet-kept.onnx"
prints "legacy format converts" "torch.save legacy" "$tool" convert --arch densenet --input "$fixtures/densenet-small-legacy.params" --output "$tmp/legacy.onnx" --width-divisor 16 --image-size 32
check "legacy format verifies" "$tool" verify "$tmp/legacy.onnx" --reference "$fixtures/densenet-small-ref"
prints "fp16 converts, saying so" "float16 converted to float32" "$tool" convert --arch densenet --input "$fixtures/densenet-small-fp16.params" --output "$tmp/fp16.onnx" --width-divisor 16 --image-size 32
check "fp16 verifies against the fp16-rounded reference" "$tool" verify "$tmp/fp16.onnx" --reference "$fixtures/densenet-small-fp16-ref"
check "fp16 verifies loosely against the float32 reference" "$tool" verify "$tmp/fp16.onnx" --reference "$fixtures/densenet-small-ref" --tolerance 2e-2
prints "safetensors converts" "from safetensors" "$tool" convert --arch softmax --image-size 8 --input "$fixtures/tiny-softmax.safetensors" --output "$tmp/tiny.onnx"
check "safetensors verifies" "$tool" verify "$tmp/tiny.onnx" --reference "$fixtures/tiny-softmax-ref"
printf '["a","b","c","d","e","f","g","h","i","j"]' > "$tmp/labels.json"
check "--labels converts" "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/labelled.onnx" --labels "$tmp/labels.json"
prints "--labels are written" 'd2l.labels = \["a", "b"' "$tool" inspect "$tmp/labelled.onnx"
prints "vgg11's ratio is inferred" "ratio 32 inferred" "$tool" convert --arch vgg11 --input "$fixtures/vgg11-small.params" --output "$tmp/vgg.onnx" --image-size 32 --hidden 64

# inspect
prints "inspect a checkpoint: tensors" "^1\.num_batches_tracked +\[\]  int64" "$tool" inspect "$fixtures/lenet-bn.params"
prints "inspect a checkpoint: totals" "total: 30 tensors, 45334 values; dtypes float32, int64" "$tool" inspect "$fixtures/lenet-bn.params"
prints "inspect a model: inputs" "input  x: float32 \[batch, 1, 28, 28\]" "$tool" inspect "$tmp/lenet.onnx"
cp "$tmp/out" "$tmp/inspect.log"
for pattern in "output logits: float32 \[batch, 10\]" "opset: ai.onnx 17" "nodes: Conv×2, Sigmoid×4" "metadata d2l.labels = "; do
    check "inspect printed /$pattern/" grep -Eq -- "$pattern" "$tmp/inspect.log"
done
cp "$tmp/lenet.onnx" "$tmp/lenet-model.bin"
prints "inspect tells a model by content" "opset: ai.onnx 17" "$tool" inspect "$tmp/lenet-model.bin"

# verify failing
refuses "verify beyond the tolerance" "exceeds the tolerance" "$tool" verify "$tmp/lenet.onnx" --reference "$fixtures/lenet-bn-ref"
refuses "verify with a missing reference folder" "nowhere" "$tool" verify "$tmp/lenet.onnx" --reference "$tmp/nowhere"

# Bad input: a message, non-zero exit, no output file.
refuses "unknown --arch lists the valid ones" "valid names: softmax, mlp, mlp-block, lenet" \
    "$tool" convert --arch resnet99 --input "$fixtures/lenet.params" --output "$tmp/bad.onnx"
refuses "language models: not yet" "not yet" "$tool" convert --arch gru-lm --input "$fixtures/lenet.params" --output "$tmp/bad.onnx"
refuses "missing keys are listed" "missing keys: 1.weight; unexpected keys: 1.weights" \
    "$tool" convert --arch softmax --image-size 8 --input "$fixtures/tiny-renamed-key.params" --output "$tmp/bad.onnx"
refuses "mis-shaped keys are listed" "mis-shaped keys: 1.bias: checkpoint \[11\], model \[10\]" \
    "$tool" convert --arch softmax --image-size 8 --input "$fixtures/tiny-wrong-shape.params" --output "$tmp/bad.onnx"
refuses "the wrong architecture lists every key" "missing keys: 1.weight, 1.bias, 1.running_mean" \
    "$tool" convert --arch lenet-bn --input "$fixtures/lenet.params" --output "$tmp/bad.onnx"
refuses "a whole pickled module" "torch.save(net.state_dict(), path)" \
    "$tool" convert --arch softmax --image-size 8 --input "$fixtures/tiny-whole-module.pt" --output "$tmp/bad.onnx"
head -c 2000 "$fixtures/lenet.params" > "$tmp/truncated.params"
refuses "a truncated checkpoint" "truncated.params" "$tool" convert --arch lenet --input "$tmp/truncated.params" --output "$tmp/bad.onnx"
refuses "a missing checkpoint" "nowhere.params" "$tool" convert --arch lenet --input "$tmp/nowhere.params" --output "$tmp/bad.onnx"
refuses "an output folder that does not exist" "does not exist" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/missing/bad.onnx"
check "nothing was created in the missing folder" test ! -e "$tmp/missing"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$tmp/readonly" && chmod 555 "$tmp/readonly"
    refuses "an unwritable output folder" "not writable" \
        "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/readonly/bad.onnx"
fi
printf '["a","b"]' > "$tmp/two.json"
refuses "labels that do not match --num-classes" "must match" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --labels "$tmp/two.json" --num-classes 10
refuses "labels that do not match the checkpoint" "mis-shaped" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --labels "$tmp/two.json"
printf 'not json' > "$tmp/notjson.json"
refuses "labels that are not JSON" "JSON array" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --labels "$tmp/notjson.json"
refuses "an unsupported opset" "opset 9" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --opset 9
printf 'not a model' > "$tmp/corrupt.onnx"
refuses "inspect a corrupt model" "corrupt.onnx" "$tool" inspect "$tmp/corrupt.onnx"
refuses "verify a corrupt model" "corrupt.onnx" "$tool" verify "$tmp/corrupt.onnx" --reference "$fixtures/lenet-ref"

if [ $failures -ne 0 ]; then echo "$failures d2l-export test(s) failed"; exit 1; fi
echo "d2l-export: all tests passed"
