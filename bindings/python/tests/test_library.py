"""Finding and loading libd2l: D2L_LIBRARY, next to the package, the checkout's build folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import d2l_runtime
from d2l_runtime import _capi

from conftest import REPO

PACKAGE_DIR = Path(d2l_runtime.__file__).resolve().parent


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.pop("D2L_LIBRARY", None)
    full.update(env)
    full["PYTHONPATH"] = str(PACKAGE_DIR.parent) + os.pathsep + full.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)


def test_default_search_order():
    paths = _capi.candidate_paths()
    assert paths[0] == PACKAGE_DIR / "libd2l.so"
    assert paths[-2:] == [REPO / ".build" / "release" / "libd2l.so", REPO / ".build" / "debug" / "libd2l.so"]


def test_finds_the_build_folder_without_env(monkeypatch):
    monkeypatch.delenv("D2L_LIBRARY", raising=False)
    found = _capi.find_library()
    assert found in _capi.candidate_paths() and found.is_file()


def test_not_found_lists_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.delenv("D2L_LIBRARY", raising=False)
    places = [tmp_path / "a" / "libd2l.so", tmp_path / "b" / "libd2l.so"]
    monkeypatch.setattr(_capi, "candidate_paths", lambda: places)
    with pytest.raises(d2l_runtime.LibraryError) as info:
        _capi.find_library()
    text = str(info.value)
    assert "D2L_LIBRARY" in text
    for p in places:
        assert str(p) in text


def test_env_naming_a_missing_file(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "libd2l.so"
    monkeypatch.setenv("D2L_LIBRARY", str(missing))
    with pytest.raises(d2l_runtime.LibraryError, match="D2L_LIBRARY"):
        _capi.find_library()
    result = run_python("import d2l_runtime; d2l_runtime.Model('x.onnx')", D2L_LIBRARY=str(missing))
    assert result.returncode != 0
    assert "LibraryError" in result.stderr and str(missing) in result.stderr


def test_env_naming_a_file_that_is_not_a_library(tmp_path):
    fake = tmp_path / "libd2l.so"
    fake.write_text("not an ELF file")
    result = run_python("import d2l_runtime; d2l_runtime.api_version()", D2L_LIBRARY=str(fake))
    assert result.returncode != 0
    assert "LibraryError" in result.stderr and "cannot load" in result.stderr


def test_env_is_used(tmp_path):
    real = d2l_runtime.library_path().resolve()
    link = tmp_path / "custom-name.so"
    link.symlink_to(real)
    result = run_python(
        "import d2l_runtime; print(d2l_runtime.library_path()); print(d2l_runtime.api_version())",
        D2L_LIBRARY=str(link),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines == [str(link), str(d2l_runtime.API_VERSION)] and d2l_runtime.API_VERSION == 3


def test_import_does_not_need_the_library(tmp_path):
    missing = tmp_path / "libd2l.so"
    result = run_python("import d2l_runtime; print(d2l_runtime.API_VERSION)", D2L_LIBRARY=str(missing))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
