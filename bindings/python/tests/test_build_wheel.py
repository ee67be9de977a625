"""tools/build-wheel: the wheel's tag, contents and records, and what it refuses (a library
that needs the Swift runtime, of another version or API, not ELF). Fake libraries are
compiled with the C compiler; an aarch64 one is a copy with its ELF e_machine changed.
(bindings/python/tests/test_wheel.sh installs a real wheel and runs a model through it.)"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import d2l_runtime

from conftest import REPO

BUILD_WHEEL = REPO / "tools" / "build-wheel"
VERSION = d2l_runtime.__version__
CC = shutil.which("cc") or shutil.which("gcc")

pytestmark = pytest.mark.skipif(CC is None or shutil.which("readelf") is None, reason="needs cc and readelf")


def fake_library(folder: Path, version: str = VERSION, api: int = d2l_runtime.API_VERSION, needs: str = "") -> Path:
    """A shared library with d2l_version_string and d2l_api_version; `needs` names another
    library (made empty here) it links against, e.g. swiftCore for libswiftCore.so."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "fake.c"
    source.write_text(
        f'const char *d2l_version_string(void) {{ return "{version}"; }}\n'
        f"int d2l_api_version(void) {{ return {api}; }}\n"
    )
    link = []
    if needs:
        (folder / "empty.c").write_text("int d2l_fake_dependency;\n")
        subprocess.run([CC, "-shared", "-fPIC", "-o", folder / f"lib{needs}.so", folder / "empty.c"], check=True)
        link = [f"-L{folder}", "-Wl,--no-as-needed", f"-l{needs}"]
    library = folder / "libd2l.so"
    subprocess.run([CC, "-shared", "-fPIC", "-o", library, source, *link], check=True)
    return library


def build_wheel(library: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, BUILD_WHEEL, "--library", library, "--out", out], capture_output=True, text=True, timeout=120
    )


def as_aarch64(library: Path, into: Path) -> Path:
    """A copy of `library` whose ELF header says EM_AARCH64 (183)."""
    data = bytearray(library.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")
    into.parent.mkdir(parents=True, exist_ok=True)
    into.write_bytes(data)
    return into


def check_wheel(path: Path, library: Path, tag: str) -> None:
    assert path.name == f"d2l_runtime-{VERSION}-{tag}.whl"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        dist_info = f"d2l_runtime-{VERSION}.dist-info"
        expected_py = sorted(f"d2l_runtime/{p.name}" for p in (REPO / "bindings/python/d2l_runtime").glob("*.py"))
        assert sorted(n for n in names if n.endswith(".py")) == expected_py
        assert z.read("d2l_runtime/libd2l.so") == library.read_bytes()
        assert (z.getinfo("d2l_runtime/libd2l.so").external_attr >> 16) & 0o777 == 0o755
        wheel = z.read(f"{dist_info}/WHEEL").decode().splitlines()
        assert f"Tag: {tag}" in wheel and "Root-Is-Purelib: false" in wheel
        metadata = z.read(f"{dist_info}/METADATA").decode()
        assert f"\nVersion: {VERSION}\n" in metadata and "\nRequires-Dist: numpy\n" in metadata
        # RECORD: every other file with its sha256 and size, itself last without one.
        rows = [line.split(",") for line in z.read(f"{dist_info}/RECORD").decode().splitlines()]
        assert rows[-1] == [f"{dist_info}/RECORD", "", ""]
        assert sorted(r[0] for r in rows) == sorted(names)
        for name, digest, size in rows[:-1]:
            data = z.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(data)), name


def test_x86_64_or_host_wheel(tmp_path):
    library = fake_library(tmp_path / "lib")
    result = build_wheel(library, tmp_path / "dist")
    assert result.returncode == 0, result.stderr
    wheel = Path(result.stdout.strip())
    arch = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[__import__("platform").machine()]
    check_wheel(wheel, library, f"py3-none-linux_{arch}")
    assert f"d2l_version_string() = {VERSION}" in result.stderr
    # Reproducible: the same inputs give the same bytes.
    again = build_wheel(library, tmp_path / "dist2")
    assert Path(again.stdout.strip()).read_bytes() == wheel.read_bytes()


@pytest.mark.skipif(__import__("platform").machine() != "x86_64", reason="makes an aarch64 copy of an x86-64 library")
def test_aarch64_library_gives_an_aarch64_wheel(tmp_path):
    library = as_aarch64(fake_library(tmp_path / "x86"), tmp_path / "aarch64" / "libd2l.so")
    result = build_wheel(library, tmp_path / "dist")
    assert result.returncode == 0, result.stderr
    check_wheel(Path(result.stdout.strip()), library, "py3-none-linux_aarch64")
    assert "not run on this x86_64 machine" in result.stderr
    # Of another version: the string is not in the file.
    other = as_aarch64(fake_library(tmp_path / "x86-other", version="9.8.7"), tmp_path / "aarch64-other" / "libd2l.so")
    result = build_wheel(other, tmp_path / "dist-other")
    assert result.returncode == 1 and f"does not contain the version string {VERSION}" in result.stderr
    assert not (tmp_path / "dist-other").exists()


def test_refuses_a_library_that_needs_the_swift_runtime(tmp_path):
    library = fake_library(tmp_path / "lib", needs="swiftCore")
    result = build_wheel(library, tmp_path / "dist")
    assert result.returncode == 1 and result.stdout == ""
    assert "needs libswiftCore.so" in result.stderr and "tools/install --library-only" in result.stderr
    assert not (tmp_path / "dist").exists()


def test_refuses_another_version(tmp_path):
    result = build_wheel(fake_library(tmp_path / "lib", version="9.8.7"), tmp_path / "dist")
    assert result.returncode == 1
    assert f"is libd2l 9.8.7 but the d2l_runtime package is version {VERSION}" in result.stderr


def test_refuses_an_older_api(tmp_path):
    result = build_wheel(fake_library(tmp_path / "lib", api=d2l_runtime.API_VERSION - 1), tmp_path / "dist")
    assert result.returncode == 1 and "older than" in result.stderr


def test_refuses_what_is_not_a_library(tmp_path):
    text = tmp_path / "libd2l.so"
    text.write_text("not an ELF file")
    result = build_wheel(text, tmp_path / "dist")
    assert result.returncode == 1 and "is not an ELF file" in result.stderr
    result = build_wheel(tmp_path / "missing.so", tmp_path / "dist")
    assert result.returncode == 1 and "does not exist" in result.stderr
