"""Finding and loading libd2l, in order: D2L_LIBRARY, the copy bundled in the package, the
checkout's build folder (only for a package imported from a checkout), the system's library
path; and the message when none is there. Layouts of an installed package and of a checkout
are made in temporary folders with copies of the package's sources and links to the real
library; each load runs in a fresh interpreter."""

from __future__ import annotations

import os
import shutil
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
    monkeypatch.setattr(_capi, "system_names", lambda: ["libd2l-absent-for-test.so.0"])
    with pytest.raises(d2l_runtime.LibraryError) as info:
        _capi.find_library()
    text = str(info.value)
    assert "D2L_LIBRARY" in text
    for p in places:
        assert str(p) in text
    assert "libd2l-absent-for-test.so.0" in text


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


# --- the search order, in layouts made in temporary folders ------------------------------

ABSENT = "libd2l-absent-for-test.so.0"


def real_library() -> Path:
    return d2l_runtime.library_path().resolve()


def copy_package(site: Path) -> Path:
    """The package's sources (no library) copied into `site`/d2l_runtime."""
    package = site / "d2l_runtime"
    package.mkdir(parents=True)
    for source in PACKAGE_DIR.glob("*.py"):
        shutil.copy(source, package / source.name)
    return package


def make_checkout(root: Path) -> Path:
    """A d2l checkout's shape: ROOT/Package.swift and ROOT/bindings/python/{pyproject.toml,d2l_runtime}."""
    (root / "bindings" / "python").mkdir(parents=True)
    (root / "Package.swift").write_text("// swift-tools-version:6.0\n")
    shutil.copy(PACKAGE_DIR.parent / "pyproject.toml", root / "bindings" / "python" / "pyproject.toml")
    return copy_package(root / "bindings" / "python")


def link(path: Path, target: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


LOAD = """
import sys
from d2l_runtime import _capi
if {no_system}:
    _capi.system_names = lambda: [{absent!r}]
try:
    print(_capi.library_path()); print(_capi.lib().d2l_api_version())
except _capi.LibraryError as e:
    print("LibraryError:", e); sys.exit(3)
"""


def load_from(site: Path, no_system: bool = True, **env) -> subprocess.CompletedProcess:
    """Loads the library in a fresh interpreter that imports d2l_runtime from `site`, with
    D2L_LIBRARY and PYTHONPATH unset (unless given in `env`; an LD_LIBRARY_PATH given goes
    before the current one); with `no_system`, the system's library path offers only a name
    that does not exist."""
    full = {k: v for k, v in os.environ.items() if k not in ("D2L_LIBRARY", "PYTHONPATH")}
    if "LD_LIBRARY_PATH" in env and os.environ.get("LD_LIBRARY_PATH"):
        env["LD_LIBRARY_PATH"] += os.pathsep + os.environ["LD_LIBRARY_PATH"]
    full.update(env)
    full["PYTHONPATH"] = str(site)
    code = LOAD.format(no_system=no_system, absent=ABSENT)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, cwd=site, timeout=120)


def loaded(result: subprocess.CompletedProcess) -> Path:
    assert result.returncode == 0, result.stdout + result.stderr
    path, api = result.stdout.split("\n")[:2]
    assert int(api) >= d2l_runtime.API_VERSION
    return Path(path)


def test_candidates_of_a_checkout(tmp_path):
    package = make_checkout(tmp_path / "d2l")
    root = tmp_path / "d2l"
    assert _capi.candidate_paths(package) == [
        package / "libd2l.so",
        root / ".build" / "release" / "libd2l.so",
        root / ".build" / "debug" / "libd2l.so",
    ]


def test_candidates_of_an_installed_package(tmp_path):
    site = tmp_path / "venv" / "lib" / "python3" / "site-packages"
    assert _capi.candidate_paths(copy_package(site)) == [site / "d2l_runtime" / "libd2l.so"]


def test_an_installed_package_inside_a_checkout_is_not_a_checkout(tmp_path):
    # A virtual environment made inside a checkout: Package.swift is above the package, the
    # checkout's build folder is not the installed package's library.
    root = tmp_path / "d2l"
    make_checkout(root)
    site = root / ".venv" / "lib" / "python3" / "site-packages"
    assert _capi.candidate_paths(copy_package(site)) == [site / "d2l_runtime" / "libd2l.so"]
    link(root / ".build" / "release" / "libd2l.so", real_library())
    result = load_from(site)
    assert result.returncode == 3, result.stdout + result.stderr
    assert str(root / ".build") not in result.stdout


def test_checkout_release_then_debug(tmp_path):
    root = tmp_path / "d2l"
    make_checkout(root)
    debug = link(root / ".build" / "debug" / "libd2l.so", real_library())
    assert loaded(load_from(root / "bindings" / "python")) == debug
    release = link(root / ".build" / "release" / "libd2l.so", real_library())
    assert loaded(load_from(root / "bindings" / "python")) == release


def test_bundled_copy_comes_before_the_checkout_build(tmp_path):
    root = tmp_path / "d2l"
    package = make_checkout(root)
    link(root / ".build" / "release" / "libd2l.so", real_library())
    bundled = link(package / "libd2l.so", real_library())
    assert loaded(load_from(root / "bindings" / "python")) == bundled


def test_env_comes_before_the_bundled_copy(tmp_path):
    site = tmp_path / "site"
    link(copy_package(site) / "libd2l.so", real_library())
    chosen = link(tmp_path / "elsewhere" / "libd2l.so", real_library())
    assert loaded(load_from(site, D2L_LIBRARY=str(chosen))) == chosen


def test_a_bundled_copy_that_does_not_load_is_reported_not_skipped(tmp_path):
    site = tmp_path / "site"
    bundled = copy_package(site) / "libd2l.so"
    bundled.write_text("not an ELF file")
    system = link(tmp_path / "lib" / "libd2l.so.0", real_library())
    result = load_from(site, no_system=False, LD_LIBRARY_PATH=str(system.parent))
    assert result.returncode == 3 and f"cannot load {bundled}" in result.stdout


def test_system_library_path_last(tmp_path):
    # An installed package without a bundled copy finds libd2l.so.0 through the dynamic
    # loader (here LD_LIBRARY_PATH; ldconfig's cache for /usr/local/lib); its path is the
    # file the loader opened.
    site = tmp_path / "site"
    package = copy_package(site)
    system = link(tmp_path / "lib" / "libd2l.so.0", real_library())
    assert loaded(load_from(site, no_system=False, LD_LIBRARY_PATH=str(system.parent))) == system
    bundled = link(package / "libd2l.so", real_library())
    assert loaded(load_from(site, no_system=False, LD_LIBRARY_PATH=str(system.parent))) == bundled


def test_system_names():
    names = _capi.system_names()
    assert names[-1] == "libd2l.so.0" and len(names) == len(set(names)) and 1 <= len(names) <= 2


def test_not_found_in_an_installed_package(tmp_path):
    site = tmp_path / "site"
    package = copy_package(site)
    result = load_from(site)
    assert result.returncode == 3, result.stdout + result.stderr
    text = result.stdout
    tried = text.split("Tried, in order:\n", 1)[1].splitlines()
    assert tried[:3] == [
        "  $D2L_LIBRARY (not set)",
        f"  {package / 'libd2l.so'} (no such file)",
        f"  {ABSENT} from the system's library path ({ABSENT}: cannot open shared object file: No such file or directory)",
    ]
    advice = tried[3]
    assert "D2L_LIBRARY" in advice and "tools/install" in advice and "tools/build-wheel" in advice and "wheel" in advice
    assert "swift build" not in text and ".build" not in text


def test_not_found_in_a_checkout(tmp_path):
    root = tmp_path / "d2l"
    package = make_checkout(root)
    result = load_from(root / "bindings" / "python")
    assert result.returncode == 3, result.stdout + result.stderr
    text = result.stdout
    tried = text.split("Tried, in order:\n", 1)[1].splitlines()
    assert tried[1:4] == [
        f"  {package / 'libd2l.so'} (no such file)",
        f"  {root / '.build' / 'release' / 'libd2l.so'} (no such file)",
        f"  {root / '.build' / 'debug' / 'libd2l.so'} (no such file)",
    ]
    assert ABSENT in tried[4]
    assert f"checkout {root}" in tried[5] and "`swift build -c release --product d2l`" in tried[5]
    assert "tools/build-wheel" not in text


def test_package_version_is_the_library_version():
    # tools/build-wheel refuses to bundle a library of another version; the checkout's own
    # library, package and pyproject.toml agree.
    tomllib = pytest.importorskip("tomllib")

    project = tomllib.loads((PACKAGE_DIR.parent / "pyproject.toml").read_text())["project"]
    assert project["version"] == d2l_runtime.__version__ == d2l_runtime.version()


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_a_missing_protobuf_c_is_named_with_its_package(tmp_path):
    # A library that needs a libprotobuf-c no machine has (SONAME libprotobuf-c.so.99: an
    # empty stand-in, linked against, then removed).
    (tmp_path / "empty.c").write_text("int d2l_fake_dependency;\n")
    stand_in = tmp_path / "libprotobuf-c.so"
    cc = ["cc", "-shared", "-fPIC"]
    subprocess.run([*cc, "-Wl,-soname,libprotobuf-c.so.99", "-o", stand_in, tmp_path / "empty.c"], check=True)
    library = tmp_path / "libd2l.so"
    subprocess.run(
        [*cc, "-o", library, tmp_path / "empty.c", f"-L{tmp_path}", "-Wl,--no-as-needed", "-lprotobuf-c"], check=True
    )
    stand_in.unlink()
    with pytest.raises(d2l_runtime.LibraryError) as info:
        _capi.load(library)
    text = str(info.value)
    assert f"cannot load {library}: libprotobuf-c.so.99: cannot open shared object file" in text
    assert "apt install libprotobuf-c1" in text
