#!/usr/bin/env bash
# The wheel end to end: tools/build-wheel, its name, listing and WHEEL tag, then a fresh
# virtual environment (no system site-packages; numpy comes from the package index), the
# wheel installed into it and, from a folder outside the checkout with neither D2L_LIBRARY
# nor PYTHONPATH set, LeNet (models/lenet-fashion.onnx) classifying the sample images
# through the installed package, which must load its bundled libd2l.so.
#
#   bindings/python/tests/test_wheel.sh [LIBRARY]
#
# LIBRARY goes to tools/build-wheel --library (default: its own, what tools/install
# --library-only installs, built now); an aarch64 LIBRARY (tools/cross-build aarch64's) on
# another machine gives a wheel that is only built and checked. Prints the time it took.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
started=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test_wheel: FAIL: $*" >&2; exit 1; }

arch=$(uname -m)
[ "$arch" = arm64 ] && arch=aarch64
# A library of another architecture (tools/cross-build aarch64's) gives its own wheel, which
# is built and checked here but cannot run.
if [ -n "${1:-}" ] && readelf -h "$1" | grep -q 'Machine:.*AArch64'; then library_arch=aarch64; else library_arch=$arch; fi
[ -z "${1:-}" ] || readelf -h "$1" | grep -qE 'Machine:.*(AArch64|X86-64)' || fail "$1 is neither an x86-64 nor an aarch64 library"
tag="py3-none-linux_$library_arch"

wheel=$("$root/tools/build-wheel" ${1:+--library "$1"} --out "$work/dist")
case "$(basename "$wheel")" in
    d2l_runtime-*-"$tag".whl) ;;
    *) fail "wheel $(basename "$wheel") is not tagged $tag" ;;
esac
# (Into a file: with pipefail, grep -q closing the pipe early would fail the lister. Python's
# zipfile rather than unzip, which a fresh machine may lack.)
python3 -c 'import sys, zipfile; print("\n".join(" " + n for n in zipfile.ZipFile(sys.argv[1]).namelist()))' "$wheel" > "$work/listing"
grep -qE ' d2l_runtime/libd2l\.so$' "$work/listing" || fail "no d2l_runtime/libd2l.so in $(cat "$work/listing")"
grep -qE ' d2l_runtime/libprotobuf-c\.so\.1$' "$work/listing" || fail "libprotobuf-c.so.1 is not bundled: $(cat "$work/listing")"
found=$(python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read(next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))).decode())' "$wheel" | sed -n 's/^Tag: //p')
[ "$found" = "$tag" ] || fail "WHEEL says Tag: $found, expected $tag"
if [ "$library_arch" != "$arch" ]; then
    echo "test_wheel: $(basename "$wheel") built and checked (tag, bundled libraries); not run on $arch"
    exit 0
fi

# No pip inside the environment (Debian's python3 has ensurepip only with python3-venv): this
# machine's pip installs into it.
python3 -m venv --without-pip "$work/venv"
python3 -m pip --python "$work/venv/bin/python" install -q --disable-pip-version-check "$wheel"

mkdir "$work/elsewhere"
cd "$work/elsewhere"
env -u D2L_LIBRARY -u PYTHONPATH -u LD_LIBRARY_PATH "$work/venv/bin/python" - "$root" <<'EOF'
import sys
from pathlib import Path

import numpy as np

import d2l_runtime

root = Path(sys.argv[1])
package = Path(d2l_runtime.__file__).resolve().parent
assert root not in package.parents, f"d2l_runtime imported from the checkout: {package}"
assert d2l_runtime.library_path() == package / "libd2l.so", d2l_runtime.library_path()
assert d2l_runtime.version() == d2l_runtime.__version__, (d2l_runtime.version(), d2l_runtime.__version__)
# The bundled protobuf-c, not the system's, serves libd2l.so.
maps = Path("/proc/self/maps").read_text()
loaded = {line.split()[-1] for line in maps.splitlines() if "libprotobuf-c.so" in line}
assert loaded == {str(package / "libprotobuf-c.so.1")}, loaded


def read_pgm(path):
    """A binary PGM (P5, 8-bit, no comments): HxW uint8 pixels."""
    data = path.read_bytes()
    magic, width, height, maxval = data.split(maxsplit=4)[:4]
    assert magic == b"P5" and int(maxval) <= 255, path
    count = int(width) * int(height)
    return np.frombuffer(data[-count:], np.uint8).reshape(int(height), int(width))


samples = sorted((root / "models" / "samples").glob("*.pgm"))
assert len(samples) >= 3, samples
with d2l_runtime.Model(root / "models" / "lenet-fashion.onnx") as model:
    for path in samples:
        label, probability = model.classify(read_pgm(path), top_k=1)[0]
        expected = path.stem.split("-", 1)[1].replace("-", " ")
        assert label == expected and 0.0 < probability <= 1.0, (path.name, label, probability)
        print(f"  {path.name}: {label} ({probability:.3f})")
print(f"  {d2l_runtime.library_path()} (libd2l {d2l_runtime.version()}, {d2l_runtime.kernel_isa()})")
EOF
echo "test_wheel: $(basename "$wheel") installed and ran LeNet in $(( $(date +%s) - started )) s"
