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
check "--version prints the version and the kernel variant" bash -c "'$cli' --version | grep -Eqx '[0-9]+\.[0-9]+(\.[0-9]+)? \(kernels: [a-z0-9_]+\)'"

# Output users read: singular counts, a plain line per epoch in a pipe, a live line with
# elapsed time, ETA and throughput on a terminal, curves with markers and axis labels.
check "one epoch is '1 epoch'" grep -q "on 2000 images, 1 epoch, batch" "$tmp/train.out"
check "a one-epoch run's curves.svg marks each series' single point" \
    bash -c "[ \$(grep -c '<g class=\"markers\"[^>]*><circle ' '$tmp/run/curves.svg') -eq 3 ]"
check "curves.svg labels both axes (epoch; loss / accuracy)" \
    bash -c "grep -q '>epoch</text>' '$tmp/run/curves.svg' && grep -q '>loss / accuracy</text>' '$tmp/run/curves.svg'"
"$cli" train softmax --epochs 2 --subset 600 --test-subset 100 --out "$tmp/piped" 2>&1 | cat > "$tmp/piped.out"
check "into a pipe: no carriage return" bash -c "! grep -q \$'\\r' '$tmp/piped.out'"
check "into a pipe: one line per epoch, with the elapsed time" \
    bash -c "[ \$(grep -Ec '^epoch [12] 3/3 elapsed [0-9]+:[0-9]{2} loss [0-9.]+, train acc' '$tmp/piped.out') -eq 2 ] && [ \$(grep -c '^epoch ' '$tmp/piped.out') -eq 2 ]"
if script -q -e -c true /dev/null >/dev/null 2>&1; then
    script -q -e -c "'$cli' train softmax --epochs 1 --subset 600 --test-subset 100 --out '$tmp/tty'" /dev/null > "$tmp/tty.out" 2>&1
    check "on a terminal: the epoch's line is redrawn in place" grep -q $'\r''epoch 1 \[' "$tmp/tty.out"
    check "on a terminal: elapsed time, ETA and examples/s" \
        grep -Eq 'epoch 1 \[[=> ]+\] [0-9]+/3 elapsed [0-9]+:[0-9]{2} ETA [0-9]+:[0-9]{2} [0-9]+ examples/s loss' "$tmp/tty.out"
else
    echo "skip the terminal progress line (no util-linux script to run under a terminal)"
fi

# eval resizes Fashion-MNIST to the model's input size: d2l.input's "size", else the
# input's fixed height and width (the export of a 32×32 model, with its size dropped).
check "train softmax at 32×32" "$cli" train softmax --epochs 1 --subset 2000 --test-subset 500 --resize 32 --out "$tmp/r32"
r32_acc=$(tail -1 "$tmp/r32/metrics.csv" | cut -d, -f4)
same_accuracy='/^test accuracy/ && /resized to 32×32/ { got = $3 } END { exit !(got != "" && want > 0.5 && (got - want)^2 < 1e-6) }'
"$cli" eval "$tmp/r32/model.onnx" --subset 500 > "$tmp/r32.eval" 2>&1
check "eval a 32×32 model on 28×28 Fashion-MNIST: resized, the run's test accuracy" awk -v want="$r32_acc" "$same_accuracy" "$tmp/r32.eval"
if python3 -c "import onnx" 2>/dev/null; then
    python3 - "$tmp/r32/model.onnx" "$tmp/r32-nosize.onnx" <<'PY'
import json, sys, onnx
m = onnx.load(sys.argv[1])
for p in m.metadata_props:
    if p.key == "d2l.input":
        d = json.loads(p.value); d.pop("size"); p.value = json.dumps(d)
onnx.save(m, sys.argv[2])
PY
    "$cli" eval "$tmp/r32-nosize.onnx" --subset 500 > "$tmp/nosize.eval" 2>&1
    check "eval a model that declares only its fixed 32×32 input: resized, the same accuracy" \
        awk -v want="$r32_acc" "$same_accuracy" "$tmp/nosize.eval"
    refuses "eval --resize none keeps the images as they are (and names the shapes)" "must have shape \[?, 1, 32, 32\], got \[256, 1, 28, 28\]" \
        "$cli" eval "$tmp/r32-nosize.onnx" --subset 500 --resize none
else
    echo "skip eval of a model without d2l.input size (python3 has no onnx)"
fi
check "eval --resize 32 resizes as asked" bash -c "'$cli' eval '$tmp/r32/model.onnx' --subset 500 --resize 32x32 | grep -q 'resized to 32×32'"
refuses "eval --resize that is not a size" "expected auto, none, N or HxW" "$cli" eval "$tmp/r32/model.onnx" --resize big
if [ -x "$root/bindings/c/build/evaluate" ]; then
    check "evaluate from C" "$root/bindings/c/build/evaluate" "$tmp/run/model.onnx" \
        /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
fi
refuses "unknown model names every trainable one (classifiers, language models, tiny-ssd)" "lenet.*densenet.*rnn-lm, gru-lm, lstm-lm.*tiny-ssd" \
    "$cli" train resnet99 --epochs 1 --out "$tmp/bad"
check "train --help names the language models' and tiny-ssd's data, not only Fashion-MNIST" \
    bash -c "'$cli' train --help | tr -s ' \n' ' ' | grep -q 'The Time Machine' && '$cli' train --help | grep -q 'tiny-ssd'"
refuses "missing data folder" "fashion-mnist\|Fashion-MNIST" "$cli" train softmax --data "$tmp/nowhere" --out "$tmp/bad"
refuses "eval of a missing model" "nowhere.onnx" "$cli" eval "$tmp/nowhere.onnx"
printf 'not a model' > "$tmp/bad.onnx"
refuses "eval of a corrupt model" "bad.onnx" "$cli" eval "$tmp/bad.onnx"

# Bad options: exit 1, exactly one line on stderr (matching PATTERN), nothing written.
bad_option() {  # bad_option DESCRIPTION PATTERN ARGS... (run with --out a folder that must not appear)
    local what=$1 pattern=$2; shift 2
    local out="$tmp/never" rc
    "$cli" train "$@" --out "$out" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
    if [ $rc -ne 1 ]; then echo "FAIL $what (exit $rc, not 1)"; sed 's/^/     /' "$tmp/stderr"; failures=$((failures + 1));
    elif [ "$(wc -l < "$tmp/stderr")" -ne 1 ]; then echo "FAIL $what (stderr is not one line:)"; sed 's/^/     /' "$tmp/stderr"; failures=$((failures + 1));
    elif ! grep -q -- "$pattern" "$tmp/stderr"; then echo "FAIL $what (no '$pattern' in:)"; sed 's/^/     /' "$tmp/stderr"; failures=$((failures + 1));
    elif [ -e "$out" ]; then echo "FAIL $what (wrote $out)"; failures=$((failures + 1));
    else echo "ok   $what"; fi
}
bad_option "--subset -1" "--subset must be ≥ 1" softmax --subset -1
bad_option "--subset 0" "--subset must be ≥ 1" softmax --subset 0
bad_option "--test-subset 0" "--test-subset must be ≥ 1" softmax --test-subset 0
bad_option "--threads 100000" "--threads must be in 1…1024" softmax --threads 100000
bad_option "--threads 0" "--threads must be in 1…1024" softmax --threads 0
bad_option "--epochs 0" "--epochs must be ≥ 1" softmax --epochs 0
bad_option "--epochs -3" "--epochs must be ≥ 1" softmax --epochs -3
bad_option "--resize 100000" "--resize must be in 1…4096" resnet18 --resize 100000
bad_option "--resize 0" "--resize must be in 1…4096" resnet18 --resize 0
bad_option "--resize 4096 does not fit in memory" "GiB, more than this machine's" resnet18 --resize 4096
bad_option "--batch-size 0" "--batch-size must be ≥ 1" softmax --batch-size 0
bad_option "--batch-size too large for memory" "GiB, more than this machine's" softmax --batch-size 1000000000
bad_option "--lr nan" "--lr must be a finite number > 0" softmax --lr nan
bad_option "--lr -1" "--lr must be a finite number > 0" softmax --lr -1
bad_option "--lr 0" "--lr must be a finite number > 0" softmax --lr 0
bad_option "--seed -1 (unparseable)" "'--seed <seed>'" softmax --seed -1
bad_option "--epochs ten (unparseable)" "'--epochs <epochs>'" softmax --epochs ten
bad_option "language model --epochs 0" "--epochs must be ≥ 1" gru-lm --epochs 0
bad_option "language model --threads 100000" "--threads must be in 1…1024" gru-lm --threads 100000
bad_option "language model --lr inf" "--lr must be a finite number > 0" gru-lm --lr inf
bad_option "language model --batch-size 0" "--batch-size must be ≥ 1" gru-lm --batch-size 0
bad_option "language model --steps 0" "--steps must be ≥ 1" gru-lm --steps 0
bad_option "language model --hidden 1000000 does not fit in memory" "GiB, more than this machine's" gru-lm --hidden 1000000

# --out that cannot be written: one line naming it, exit 1, nothing written.
bad_out() {  # bad_out DESCRIPTION OUT PATTERN [MODEL]
    local what=$1 out=$2 pattern=$3 model=${4:-softmax} rc
    "$cli" train "$model" --epochs 1 --subset 10 --out "$out" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
    if [ $rc -ne 1 ] || [ "$(wc -l < "$tmp/stderr")" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/stderr"; then
        echo "FAIL $what (exit $rc, stderr:)"; sed 's/^/     /' "$tmp/stderr"; failures=$((failures + 1))
    else echo "ok   $what"; fi
}
printf 'keep' > "$tmp/afile"
bad_out "--out is a file" "$tmp/afile" "cannot write to '$tmp/afile': it is a file"
bad_out "--out is a file (language model)" "$tmp/afile" "cannot write to '$tmp/afile': it is a file" gru-lm
bad_out "--out under a file" "$tmp/afile/run" "cannot write to '$tmp/afile/run'"
check "the file --out named is unchanged" bash -c "[ \"\$(cat '$tmp/afile')\" = keep ]"
if [ "$(id -u)" -eq 0 ]; then
    bad_out "--out in a folder that cannot be written" "/proc/d2l-cli-test/run" "cannot write to '/proc/d2l-cli-test/run'"
else
    mkdir "$tmp/readonly" && chmod 555 "$tmp/readonly"
    bad_out "--out in a folder that cannot be written" "$tmp/readonly/run" "cannot write to '$tmp/readonly/run'"
    check "nothing written in the read-only folder" bash -c "[ -z \"\$(ls -A '$tmp/readonly')\" ]"
fi

# A new run does not overwrite a checkpoint without --force.
cp "$tmp/run/checkpoint.safetensors" "$tmp/saved.safetensors"
bad_out "a new run over a checkpoint needs --force" "$tmp/run" "checkpoint.safetensors exists.*--force"
check "the checkpoint is unchanged" cmp "$tmp/run/checkpoint.safetensors" "$tmp/saved.safetensors"
check "--force starts over" "$cli" train softmax --epochs 1 --subset 100 --test-subset 50 --out "$tmp/run" --force
check "--force is in the help" bash -c "'$cli' train --help | grep -q -- '--force'"

# --resume: 1 epoch, then resumed to 3, ends with the checkpoint of an uninterrupted 3-epoch run.
small=(softmax --subset 300 --test-subset 100 --batch-size 64)
check "train 3 epochs uninterrupted" "$cli" train "${small[@]}" --epochs 3 --out "$tmp/whole"
check "train 1 epoch" "$cli" train "${small[@]}" --epochs 1 --out "$tmp/part"
check "resume it to 3 epochs" "$cli" train "${small[@]}" --epochs 3 --out "$tmp/part" --resume
check "the resumed checkpoint is the uninterrupted one's" cmp "$tmp/whole/checkpoint.safetensors" "$tmp/part/checkpoint.safetensors"
check "metrics.csv continues: epochs 1, 2, 3" bash -c "[ \"\$(cut -d, -f1 '$tmp/part/metrics.csv' | tr '\n' ' ')\" = 'epoch 1 2 3 ' ]"
refuses_one_line() {  # refuses_one_line DESCRIPTION PATTERN ARGS...
    local what=$1 pattern=$2 rc; shift 2
    "$cli" train "$@" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
    if [ $rc -ne 1 ] || [ "$(wc -l < "$tmp/stderr")" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/stderr"; then
        echo "FAIL $what (exit $rc, stderr:)"; sed 's/^/     /' "$tmp/stderr"; failures=$((failures + 1))
    else echo "ok   $what"; fi
}
cp "$tmp/part/checkpoint.safetensors" "$tmp/saved.safetensors"
refuses_one_line "resuming a finished run" "finished (3 epochs of 3)" "${small[@]}" --epochs 3 --out "$tmp/part" --resume
refuses_one_line "resuming with another model" "another run (arch softmax there, lenet here" lenet --subset 300 --test-subset 100 --batch-size 64 --epochs 4 --out "$tmp/part" --resume
refuses_one_line "resuming with another learning rate" "lr 0.1 there, 0.5 here" "${small[@]}" --lr 0.5 --epochs 4 --out "$tmp/part" --resume
check "refused resumes leave the checkpoint" cmp "$tmp/part/checkpoint.safetensors" "$tmp/saved.safetensors"
refuses_one_line "resuming without a checkpoint" "does not exist" "${small[@]}" --epochs 2 --out "$tmp/empty" --resume
check "nothing written for it" test ! -e "$tmp/empty"
# Language models: the epoch count continues.
lm=(gru-lm --hidden 8 --steps 5 --batch-size 4 --max-tokens 1000 --data "$root/data/timemachine.txt")
check "language model: 1 epoch" "$cli" train "${lm[@]}" --epochs 1 --out "$tmp/lm"
cp "$tmp/out" "$tmp/lm.out"
check "language model: '1 epoch of N minibatches', 'trained 1 epoch'" \
    bash -c "grep -Eq ', 1 epoch of [0-9]+ minibatches,' '$tmp/lm.out' && grep -q '^trained 1 epoch in' '$tmp/lm.out'"
check "language model: a one-epoch run's curves.svg marks its point and labels perplexity" \
    bash -c "grep -q '<g class=\"markers\"[^>]*><circle ' '$tmp/lm/curves.svg' && grep -q '>perplexity</text>' '$tmp/lm/curves.svg'"
check "language model: resumed to 2 epochs" "$cli" train "${lm[@]}" --epochs 2 --out "$tmp/lm" --resume
check "language model: metrics.csv has epochs 1, 2" bash -c "[ \"\$(cut -d, -f1 '$tmp/lm/metrics.csv' | tr '\n' ' ')\" = 'epoch 1 2 ' ]"
check "language model: uninterrupted 2 epochs" "$cli" train "${lm[@]}" --epochs 2 --out "$tmp/lm-whole"
check "language model: the resumed checkpoint is the uninterrupted one's" cmp "$tmp/lm/checkpoint.safetensors" "$tmp/lm-whole/checkpoint.safetensors"

# augment: the book's apply() figure, 3 × 3 cells of SIZE + the 2-pixel margins, as PNG.
sample="$root/models/samples/1-pullover.rgb.jpg"
check "augment a JPEG with the book's pipeline" "$cli" augment "$sample" --out "$tmp/grid.png" --augment book --size 64
check "the grid is a PNG of 3 × 3 cells of 64 × 64" bash -c "[ \"\$(head -c 8 '$tmp/grid.png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ] && [ \"\$(od -An -tu1 -j16 -N8 '$tmp/grid.png' | awk '{ print \$3 * 256 + \$4, \$7 * 256 + \$8 }')\" = '200 200' ]"
check "augment again with the same seed: the same bytes" bash -c "'$cli' augment '$sample' --out '$tmp/grid2.png' --augment book --size 64 && cmp '$tmp/grid.png' '$tmp/grid2.png'"
check "another seed: other copies" bash -c "'$cli' augment '$sample' --out '$tmp/grid3.png' --augment book --size 64 --seed 1 && ! cmp -s '$tmp/grid.png' '$tmp/grid3.png'"
check "augment a PNG with flips keeps its size (3 × 28 + 8)" bash -c "'$cli' augment '$root/models/samples/1-pullover.png' --out '$tmp/flip.png' --augment flip && [ \"\$(od -An -tu1 -j16 -N8 '$tmp/flip.png' | awk '{ print \$3 * 256 + \$4, \$7 * 256 + \$8 }')\" = '92 92' ]"
refuses "augment: an unknown pipeline names the known ones" "finetune-train" "$cli" augment "$sample" --out "$tmp/never.png" --augment nope
printf 'not an image' > "$tmp/fake.jpg"
refuses "augment: a file that is no image is named" "fake.jpg" "$cli" augment "$tmp/fake.jpg" --out "$tmp/never.png"
check "augment: nothing written for refused runs" bash -c "[ ! -e '$tmp/never.png' ]"

# Image folders and fine-tuning (the book's 13.2 on Fashion-MNIST pictures): a LeNet that
# PyTorch trained on classes 2–9 (tools/fixtures/make-finetune-folder) is fine-tuned on
# 64×64 PNG/JPEG t-shirts and trousers; the same budget from scratch stays near chance.
ft=$root/Tests/Fixtures/images/finetune
last_test_acc() { tail -1 "$1/metrics.csv" | cut -d, -f4; }
check "finetune lenet from a PyTorch state_dict on an image folder" \
    "$cli" finetune --arch lenet --from "$ft/lenet-fashion-2to9.pth" --data "$ft/folder" --out "$tmp/ft" \
    --epochs 3 --batch-size 16 --lr 0.01
cp "$tmp/out" "$tmp/ft.out"
for f in metrics.csv curves.svg checkpoint.safetensors model.onnx; do check "finetune wrote $f" test -s "$tmp/ft/$f"; done
check "finetune: the new head has the folder's 2 classes, the rest loaded" grep -q "8 classes; new output layer '11' for 2" "$tmp/ft.out"
check "finetune: the export matches the toolkit through libd2l" \
    bash -c "grep -Eq 'export check: .* max \\|difference\\| ([0-9.]+e-(0[6-9]|[1-9][0-9])|0\\.00e\\+00)' '$tmp/ft.out'"
check "finetune: model.onnx has the class folders as d2l.labels and the input size" \
    bash -c "grep -aq '\[\"t-shirt\", \"trouser\"\]' '$tmp/ft/model.onnx' && grep -aq '\"size\": \[28, 28\]' '$tmp/ft/model.onnx'"
check "train lenet from scratch on the same folder with the same budget" \
    "$cli" train lenet --data "$ft/folder" --out "$tmp/scratch" --epochs 3 --batch-size 16
check "fine-tuning beats scratch (test accuracy ≥ 0.75 and 0.15 above scratch's)" \
    awk -v f="$(last_test_acc "$tmp/ft")" -v s="$(last_test_acc "$tmp/scratch")" 'BEGIN { exit !(f >= 0.75 && f >= s + 0.15) }'
check "finetune with --workers 0 repeats the run exactly (augmentation seeded per image)" \
    bash -c "'$cli' finetune --arch lenet --from '$ft/lenet-fashion-2to9.pth' --data '$ft/folder' --out '$tmp/ft0' --epochs 3 --batch-size 16 --lr 0.01 --workers 0 && diff <(cut -d, -f1-4 '$tmp/ft/metrics.csv') <(cut -d, -f1-4 '$tmp/ft0/metrics.csv')"
check "eval --list on the folder through libd2l" "$cli" eval "$tmp/ft/model.onnx" --data "$ft/folder" --list
grep -P '\t' "$tmp/out" > "$tmp/swift.top1"
check "eval listed all 64 test images" bash -c "[ \$(wc -l < '$tmp/swift.top1') -eq 64 ]"
if [ -x "$root/bindings/c/build/classify" ]; then
    check "classify.c gives every image Swift's top-1" bash -c "while IFS=\$'\\t' read -r path label top; do \
        c=\$('$root/bindings/c/build/classify' '$tmp/ft/model.onnx' \"\$path\" --top 1 | awk '{ print \$2 }'); \
        [ \"\$c\" = \"\$top\" ] || { echo \"\$path: C \$c, Swift \$top\"; exit 1; }; done < '$tmp/swift.top1'"
fi
check "Python's Model.classify gives every image Swift's top-1" python3 -c "
import sys
from PIL import Image
import numpy as np
import d2l_runtime
m = d2l_runtime.Model('$tmp/ft/model.onnx')
for line in open('$tmp/swift.top1'):
    path, label, top = line.rstrip('\n').split('\t')
    image = np.asarray(Image.open(path).convert('L').resize((28, 28), Image.BILINEAR))
    got = m.classify(image, top_k=1)[0][0]
    if got != top: sys.exit(f'{path}: Python {got}, Swift {top}')
"
check "finetune again from the toolkit checkpoint of that run (its classes, its normalisation)" \
    bash -c "'$cli' finetune --arch lenet --from '$tmp/ft/checkpoint.safetensors' --data '$ft/folder' --out '$tmp/ft2' --epochs 1 --batch-size 16 --lr 0.01 | grep -q '2 classes; new output layer'"
check "train on an image folder with the book's augmentation" \
    "$cli" train lenet --data "$ft/folder" --out "$tmp/aug" --epochs 1 --batch-size 32 --augment book
one_line_refusal() {  # one_line_refusal DESCRIPTION PATTERN COMMAND...: exit 1, one stderr line with PATTERN
    local what=$1 pattern=$2 rc; shift 2
    "$@" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
    if [ $rc -ne 1 ] || [ "$(wc -l < "$tmp/stderr")" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/stderr"; then
        echo "FAIL $what (exit $rc; stderr:)"; sed 's/^/     /' "$tmp/stderr"; failures=$((failures + 1))
    else echo "ok   $what"; fi
}
one_line_refusal "finetune --from a checkpoint of another architecture: one line naming the keys" \
    "does not fit resnet18.*missing keys: 0.0.weight.*its keys look like those of --arch lenet" \
    "$cli" finetune --arch resnet18 --from "$ft/lenet-fashion-2to9.pth" --data "$ft/folder" --out "$tmp/never-ft"
one_line_refusal "finetune --from the toolkit checkpoint of another architecture (softmax)" \
    "does not fit lenet" \
    "$cli" finetune --arch lenet --from "$tmp/run/checkpoint.safetensors" --data "$ft/folder" --out "$tmp/never-ft"
one_line_refusal "finetune at an input size the checkpoint does not fit: the mis-shaped key" \
    "mis-shaped keys: 7.weight" \
    "$cli" finetune --arch lenet --from "$ft/lenet-fashion-2to9.pth" --data "$ft/folder" --out "$tmp/never-ft" --image-size 32
one_line_refusal "finetune --from a missing file names it" "nowhere.pth" \
    "$cli" finetune --arch lenet --from "$tmp/nowhere.pth" --data "$ft/folder" --out "$tmp/never-ft"
one_line_refusal "finetune on a folder without train/ and test/" "needs the folders" \
    "$cli" finetune --arch lenet --from "$ft/lenet-fashion-2to9.pth" --data "$ft/folder/train" --out "$tmp/never-ft"
one_line_refusal "train --augment with an unknown pipeline names the known ones" "none, flip, book" \
    "$cli" train lenet --data "$ft/folder" --out "$tmp/never-ft" --augment nope
check "nothing written for refused fine-tuning runs" bash -c "[ ! -e '$tmp/never-ft' ]"

# Object detection (the book's 13.7): TinySSD on a small generated banana set (tools/make-bananas,
# the book's layout), its export through libd2l, then detect.c and Python's Model.detect.
check "make a small banana set (tools/make-bananas)" python3 "$root/tools/make-bananas" --train 32 --val 4 --size 64 --out "$tmp/bananas"
check "train tiny-ssd for one epoch" "$cli" train tiny-ssd --data "$tmp/bananas" --epochs 1 --batch-size 16 --out "$tmp/ssd"
cp "$tmp/out" "$tmp/ssd.out"
for f in metrics.csv curves.svg checkpoint.safetensors model.onnx; do check "tiny-ssd wrote $f" test -s "$tmp/ssd/$f"; done
check "tiny-ssd: metrics.csv has the book's columns and one epoch" \
    bash -c "head -1 '$tmp/ssd/metrics.csv' | grep -qx 'epoch,loss,class_err,bbox_mae,examples_per_sec' && [ \$(wc -l < '$tmp/ssd/metrics.csv') -eq 2 ]"
check "tiny-ssd: reports the top box's hits on bananas_val (4 images)" \
    grep -q "^validation: the top box finds the object (IoU ≥ 0.5) in [0-4] of 4 images" "$tmp/ssd.out"
check "tiny-ssd: the export (anchors, class probabilities, offsets) matches the toolkit through libd2l" \
    bash -c "grep -Eq 'export check: .* max \\|difference\\| ([0-9.]+e-(0[5-9]|[1-9][0-9])|0\\.00e\\+00)' '$tmp/ssd.out'"
if [ -x "$root/bindings/c/build/detect" ]; then
    check "detect.c finds boxes and draws them" bash -c "'$root/bindings/c/build/detect' '$tmp/ssd/model.onnx' '$tmp/bananas/bananas_val/images/0.png' --threshold 0 --out '$tmp/boxes.ppm' > '$tmp/detect.txt' && [ -s '$tmp/detect.txt' ] && head -c 2 '$tmp/boxes.ppm' | grep -q P6"
    check "detect.c and Python's Model.detect give the same boxes" python3 -c "
import numpy as np
from PIL import Image
import d2l_runtime
m = d2l_runtime.Model('$tmp/ssd/model.onnx')
image = np.asarray(Image.open('$tmp/bananas/bananas_val/images/0.png').convert('RGB'))
found = m.detect(image, threshold=0)
c = [line.split() for line in open('$tmp/detect.txt')]
assert len(found) == len(c) > 0, (len(found), len(c))
for (label, conf, box), row in zip(found, c):
    assert row[0] == label and abs(float(row[1]) - conf) < 1e-4, (row, label, conf)
    assert all(abs(float(v) - b) < 0.06 for v, b in zip(row[2:], box)), (row, box)
"
    refuses "detect.c on a classifier says it is not a detector" "not a detector" "$root/bindings/c/build/detect" "$tmp/ft/model.onnx" "$tmp/bananas/bananas_val/images/0.png"
fi
refuses "train tiny-ssd on a folder without bananas_train names label.csv" "label.csv" "$cli" train tiny-ssd --data "$tmp/nowhere" --out "$tmp/never-ssd"

# The bad-model corpus: eval and generate answer every file cleanly (bad_models.sh).
source "$root/Tests/cli/bad_models.sh"
bad_models_clean "eval on every bad model" "$cli" eval --
bad_models_clean "generate on every bad model" "$cli" generate -- "time" 5

if [ $failures -ne 0 ]; then echo "$failures d2l-cli test(s) failed"; exit 1; fi
echo "d2l-cli: all tests passed"
