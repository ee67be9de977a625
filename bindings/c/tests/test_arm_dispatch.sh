#!/bin/sh
# test_arm_dispatch.sh — on armv7, libd2l picks its kernel variant from AT_HWCAP: a program
# run under qemu-arm as three CPUs reports "neon" (Cortex-A15: NEON and VFPv4),
# "neon-vfpv3" (Cortex-A8: NEON without FMA) and "scalar" (Cortex-R5F: VFPv3-D16, no
# NEON, as Debian armhf's baseline allows).
#
#     test_arm_dispatch.sh APP [REPO_ROOT]
#
# APP is an armv7 program that prints "libd2l VERSION (VARIANT): ..." for a model
# (tools/cross-build's tests/app-static). Prints one line per check and "N passed, M failed".
set -u
app=${1:?usage: test_arm_dispatch.sh APP [REPO_ROOT]}
root=${2:-.}
passed=0
failed=0
for case in cortex-a15:neon cortex-a8:neon-vfpv3 cortex-r5f:scalar; do
    cpu=${case%%:*}
    want=${case#*:}
    output=$(qemu-arm-static -cpu "$cpu" "$app" "$root/models/lenet-fashion.onnx" 2>&1)
    if echo "$output" | grep -q "($want)"; then
        passed=$((passed + 1)); echo "ok - $cpu runs the $want kernels: $output"
    else
        failed=$((failed + 1)); echo "FAIL - $cpu should run the $want kernels: $output"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
