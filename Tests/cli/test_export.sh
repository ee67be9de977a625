#!/usr/bin/env bash
# End-to-end tests of the real d2l-export binary on Tests/Fixtures/toolkit/export
# (tools/fixtures/make-export-fixtures): convert every fixture and verify it through libd2l against
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
check "--version prints the version and the kernel variant" bash -c "'$tool' --version | grep -Eqx '[0-9]+\.[0-9]+(\.[0-9]+)? \(kernels: [a-z0-9_]+\)'"

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
               "output logits: float32 \[batch, 10\]" "d2l.producer = d2l-export 0.1.0 from torch state_dict" \
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

# Language models: the char-level GRU trained in PyTorch (gru-lm.params); greedy generation
# through libd2l from C (bindings/c/build/generate, when built) prints predict_ch8's text.
generate=$root/bindings/c/build/generate
expected_text() {  # expected_text PREFIX: predict_ch8's text in gru-lm.expected.json
    python3 -c 'import json, sys; print(next(c["text"] for c in json.load(open(sys.argv[1]))["cases"] if c["prefix"] == sys.argv[2]))' \
        "$fixtures/gru-lm.expected.json" "$1"
}
prints "convert gru-lm with --vocab" "wrote .*gru-lm.onnx: [0-9]+ bytes, opset 17" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/gru-lm.onnx" --vocab "$fixtures/gru-lm.vocab.json"
cp "$tmp/out" "$tmp/lm.log"
for pattern in "vocabulary: 28 tokens from .*gru-lm.vocab.json" "loaded into gru-lm: [0-9]+ parameters, all 6 keys matched" \
               "hidden 64, 1 layer, one direction inferred" "input  tokens: int64 \[batch, steps\]" "input  h0: float32 \[1, batch, 64\]" \
               "d2l.task = char-lm" 'd2l.vocab = \["<unk>"," ","e"' "d2l.producer = d2l-export 0.1.0 from torch state_dict" \
               "max \|difference\| [0-9.]+e-(0[6-9]|[1-9][0-9])"; do
    check "convert gru-lm printed /$pattern/" grep -Eq -- "$pattern" "$tmp/lm.log"
done
prints "inspect a language-model checkpoint" "^rnn\.weight_hh_l0 +\[192, 64\]  float32" "$tool" inspect "$fixtures/gru-lm.params"
prints "inspect a language model" "metadata d2l.task = char-lm" "$tool" inspect "$tmp/gru-lm.onnx"
if [ -x "$generate" ]; then
    for prefix in "time traveller" "traveller"; do
        want=$(expected_text "$prefix")
        got=$("$generate" "$tmp/gru-lm.onnx" "$prefix" 50 2>&1)
        if [ "$got" = "$want" ]; then echo "ok   C generate '$prefix' 50 prints predict_ch8's text"
        else echo "FAIL C generate '$prefix' 50: got '$got', predict_ch8 '$want'"; failures=$((failures + 1)); fi
    done
else
    echo "skip C generation ($generate not built: make -C bindings/c examples)"
fi
corpus=""
for candidate in "${D2L_DATA_DIR:-}/timemachine.txt" "$root/data/timemachine.txt"; do
    if [ -f "$candidate" ]; then corpus=$candidate; break; fi
done
if [ -n "$corpus" ]; then
    check "convert gru-lm with --vocab-corpus" "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" \
        --output "$tmp/gru-lm-corpus.onnx" --vocab-corpus "$corpus" --token char
    "$tool" inspect "$tmp/gru-lm.onnx" | grep "d2l.vocab" > "$tmp/vocab1"
    "$tool" inspect "$tmp/gru-lm-corpus.onnx" | grep "d2l.vocab" > "$tmp/vocab2"
    check "--vocab-corpus rebuilds the same vocabulary as gru-lm.vocab.json" cmp -s "$tmp/vocab1" "$tmp/vocab2"
    if [ -x "$generate" ]; then
        want=$(expected_text "time traveller")
        got=$("$generate" "$tmp/gru-lm-corpus.onnx" "time traveller" 50 2>&1)
        if [ "$got" = "$want" ]; then echo "ok   C generate from the --vocab-corpus model prints predict_ch8's text"
        else echo "FAIL C generate from the --vocab-corpus model: got '$got', predict_ch8 '$want'"; failures=$((failures + 1)); fi
    fi
    refuses "word tokens: a vocabulary of the wrong size, both numbers" "the vocabulary has [0-9]* tokens but .* predicts 28" \
        "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx" --vocab-corpus "$corpus" --token word
else
    echo "skip --vocab-corpus (no timemachine.txt in \$D2L_DATA_DIR or data/)"
fi
python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))[:27], open(sys.argv[2], "w"))' "$fixtures/gru-lm.vocab.json" "$tmp/short.json"
refuses "a vocabulary of the wrong size: both numbers" "the vocabulary has 27 tokens but .* predicts 28 (linear.weight has 28 rows)" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx" --vocab "$tmp/short.json"
refuses "the wrong recurrent cell" "a checkpoint of --arch gru-lm?" \
    "$tool" convert --arch lstm-lm --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx" --vocab "$fixtures/gru-lm.vocab.json"
refuses "a classifier's checkpoint as a language model" "not a checkpoint of the book's RNNModel" \
    "$tool" convert --arch gru-lm --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --vocab "$fixtures/gru-lm.vocab.json"
refuses "--vocab and --vocab-corpus together" "not both" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx" --vocab "$fixtures/gru-lm.vocab.json" --vocab-corpus "$tmp/short.json"
refuses "a vocabulary that is not a token list" "JSON array of strings" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx" --vocab "$fixtures/models.json"
refuses "--token other than char or word" "expected char or word" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx" --vocab "$fixtures/gru-lm.vocab.json" --token byte
refuses "a language model's vocabulary for a folder that does not exist" "does not exist" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/missing/bad.onnx" --vocab-corpus "$tmp/short.json"

# verify failing
refuses "verify beyond the tolerance" "exceeds the tolerance" "$tool" verify "$tmp/lenet.onnx" --reference "$fixtures/lenet-bn-ref"
refuses "verify with a missing reference folder" "nowhere" "$tool" verify "$tmp/lenet.onnx" --reference "$tmp/nowhere"

# Bad input: a message, non-zero exit, no output file.
refuses "unknown --arch lists the valid ones" "valid names: softmax, mlp, mlp-block, lenet" \
    "$tool" convert --arch resnet99 --input "$fixtures/lenet.params" --output "$tmp/bad.onnx"
refuses "a language model needs a vocabulary" "needs the vocabulary" "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx"
refuses "missing keys are listed" "missing keys: 1.weight; unexpected keys: 1.weights" \
    "$tool" convert --arch softmax --image-size 8 --input "$fixtures/tiny-renamed-key.params" --output "$tmp/bad.onnx"
refuses "mis-shaped keys are listed" "mis-shaped keys: 1.bias: checkpoint \[11\], model \[10\]" \
    "$tool" convert --arch softmax --image-size 8 --input "$fixtures/tiny-wrong-shape.params" --output "$tmp/bad.onnx"
refuses "the wrong architecture: counts, the first keys of each kind, the architecture the keys are" \
    "keys: 26 missing, 6 unexpected, 2 mis-shaped; missing keys: 1.weight, 1.bias, 1.running_mean, 1.running_var, 1.num_batches_tracked … and 21 more; .*its keys look like those of --arch lenet$" \
    "$tool" convert --arch lenet-bn --input "$fixtures/lenet.params" --output "$tmp/bad.onnx"
refuses "LeNet's checkpoint as an MLP: counts, '… more', named lenet" \
    "keys: 2 missing, 8 unexpected; missing keys: 1.weight, 1.bias; unexpected keys: 0.weight, 0.bias, 7.weight, 7.bias, 9.weight … and 3 more; its keys look like those of --arch lenet$" \
    "$tool" convert --arch mlp --input "$fixtures/lenet.params" --output "$tmp/bad.onnx"
refuses "ResNet-18's checkpoint as an MLP: counts, '… more', named resnet18" \
    "keys: 4 missing, 127 unexpected; .*… and 122 more; its keys look like those of --arch resnet18$" \
    "$tool" convert --arch mlp --input "$fixtures/resnet18-small.params" --output "$tmp/bad.onnx"
refuses "the book's ResNet-18 as torchvision's: named resnet18" "its keys look like those of --arch resnet18$" \
    "$tool" convert --arch torchvision-resnet18 --input "$fixtures/resnet18-small.params" --output "$tmp/bad.onnx"
refuses "a language model's checkpoint as a classifier: named gru-lm" "its keys look like those of --arch gru-lm$" \
    "$tool" convert --arch softmax --input "$fixtures/gru-lm.params" --output "$tmp/bad.onnx"
"$tool" convert --arch mlp --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --verbose >"$tmp/out" 2>"$tmp/err"
check "--verbose lists every key below the message" \
    bash -c "[ \$(grep -c '^error: ' '$tmp/err') -eq 1 ] && grep -qx '  unexpected keys: 0.weight, 0.bias, 7.weight, 7.bias, 9.weight, 9.bias, 11.weight, 11.bias' '$tmp/err' && grep -qx '  keys: 2 missing, 8 unexpected' '$tmp/err'"
check "--verbose left no output file" test ! -e "$tmp/bad.onnx"
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
# Files that cannot be checkpoints or models are refused from their type or first bytes,
# in one line, without reading them whole or blocking (issue 14, item 4).
refuses "inspect /dev/zero" "not a regular file" timeout 20 "$tool" inspect /dev/zero
mkfifo "$tmp/pipe"
refuses "inspect a FIFO nobody writes to" "FIFO" timeout 20 "$tool" inspect "$tmp/pipe"
refuses "inspect a directory" "directory" timeout 20 "$tool" inspect "$tmp"
truncate -s 2G "$tmp/zeros.params"
refuses "inspect 2 GiB of zeros" "not a PyTorch checkpoint .*2147483648 bytes" timeout 20 "$tool" inspect "$tmp/zeros.params"
refuses "convert 2 GiB of zeros" "not a PyTorch checkpoint" timeout 20 "$tool" convert --arch lenet --input "$tmp/zeros.params" --output "$tmp/bad.onnx"
truncate -s 2047M "$tmp/zeros.onnx"
refuses "inspect 2 GiB of zeros named .onnx" "not an ONNX model" timeout 20 "$tool" inspect "$tmp/zeros.onnx"
rm -f "$tmp/zeros.params" "$tmp/zeros.onnx"
refuses "--labels /dev/zero" "not a regular file" timeout 20 \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --labels /dev/zero

# What a killed run left beside the output (its process is gone) is removed by the next write.
sleep 0.01 & dead=$!; wait $dead
touch "$tmp/.swept.onnx.tmp-$dead-1" "$tmp/.swept.onnx.tmp-$dead-1.check-2.onnx" "$tmp/.swept.onnx.tmp-1-3"
check "convert beside a killed run's temporary files" "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/swept.onnx"
check "the killed run's files are removed, a live process's kept" \
    test ! -e "$tmp/.swept.onnx.tmp-$dead-1" -a ! -e "$tmp/.swept.onnx.tmp-$dead-1.check-2.onnx" -a -e "$tmp/.swept.onnx.tmp-1-3"

# Sizes far beyond the checkpoint or the platform: refused before anything is allocated
# (they used to abort in the allocator or trap on an overflowing product).
refuses "--image-size far beyond the checkpoint" "would hold more than .* but .*lenet.params holds 61706" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --image-size 20000
refuses "--image-size whose square overflows" "the image size must be at most 65536, got 3037000500" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --image-size 3037000500
refuses "--num-classes beyond the limit" "the number of classes must be at most" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --num-classes 10000000000
refuses "--in-channels beyond the limit" "the number of input channels must be at most" \
    "$tool" convert --arch lenet --input "$fixtures/lenet.params" --output "$tmp/bad.onnx" --in-channels 100000000
refuses "--hidden beyond the limit" "the hidden width must be at most" \
    "$tool" convert --arch mlp --input "$fixtures/mlp.params" --output "$tmp/bad.onnx" --hidden 10000000000
refuses "a language model's --hidden beyond the checkpoint" "would hold more than .* check --hidden and --layers" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --vocab "$fixtures/gru-lm.vocab.json" --output "$tmp/bad.onnx" --hidden 10000000
refuses "a language model's --layers beyond the limit" "the number of layers must be at most 1024" \
    "$tool" convert --arch gru-lm --input "$fixtures/gru-lm.params" --vocab "$fixtures/gru-lm.vocab.json" --output "$tmp/bad.onnx" --layers 100000
refuses "a check that cannot fit in memory" "would need about .* GiB of memory; choose a smaller --image-size or pass --no-check" \
    "$tool" convert --arch resnet18 --input "$fixtures/resnet18-small.params" --output "$tmp/bad.onnx" --width-divisor 32 --image-size 60000

# The bad-model corpus: inspect and verify answer every file cleanly (bad_models.sh).
source "$root/Tests/cli/bad_models.sh"
bad_models_clean "inspect on every bad model" "$tool" inspect --
bad_models_clean "verify on every bad model" "$tool" verify -- --reference "$tmp/no-reference"

if [ $failures -ne 0 ]; then echo "$failures d2l-export test(s) failed"; exit 1; fi
echo "d2l-export: all tests passed"
