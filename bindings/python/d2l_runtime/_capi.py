"""The ctypes declarations of libd2l's C API (include/d2l.h), in one place.

Every function of include/d2l.h is declared in ``FUNCTIONS`` below with its restype and
argtypes; nothing else in the package calls ``ctypes.CDLL`` or sets argtypes.  The
library is found and loaded on first use (see ``find_library``), and its
``d2l_api_version()`` is checked against ``API_VERSION``, the version of the header these
declarations were written for.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_int64, c_size_t, c_uint64, c_void_p
from pathlib import Path

#: The D2L_API_VERSION of the include/d2l.h these declarations follow.
API_VERSION = 3

#: Environment variable naming the library file to load.
LIBRARY_ENV = "D2L_LIBRARY"
LIBRARY_NAME = "libd2l.so"
#: The SONAME of an installed libd2l (tools/install), asked of the dynamic loader by name.
SYSTEM_SONAME = "libd2l.so.0"

# d2l_status values (stable).
D2L_OK = 0
D2L_ERR_INVALID_ARGUMENT = 1
D2L_ERR_IO = 2
D2L_ERR_INVALID_MODEL = 3
D2L_ERR_UNSUPPORTED = 4
D2L_ERR_SHAPE = 5
D2L_ERR_OUT_OF_MEMORY = 6
D2L_ERR_INTERNAL = 7

# d2l_dtype values (ONNX TensorProto.DataType codes).
D2L_FLOAT32 = 1
D2L_UINT8 = 2
D2L_INT32 = 6
D2L_INT64 = 7
D2L_BOOL = 9


class d2l_model(ctypes.Structure):
    """Opaque ``struct d2l_model``; only pointers to it are used."""


class d2l_session(ctypes.Structure):
    """Opaque ``struct d2l_session``; only pointers to it are used."""


d2l_status = c_int
d2l_dtype = c_int
model_p = POINTER(d2l_model)
session_p = POINTER(d2l_session)
int64_p = POINTER(c_int64)
float_p = POINTER(c_float)

#: name -> (restype, argtypes), in header order. Keep in step with include/d2l.h.
FUNCTIONS = {
    # Library information and errors
    "d2l_api_version": (c_int, []),
    "d2l_version_string": (c_char_p, []),
    "d2l_kernel_isa": (c_char_p, []),
    "d2l_status_string": (c_char_p, [d2l_status]),
    "d2l_last_error": (c_char_p, []),
    # Models
    "d2l_model_load_file": (d2l_status, [c_char_p, POINTER(model_p)]),
    "d2l_model_load_memory": (d2l_status, [c_void_p, c_size_t, POINTER(model_p)]),
    "d2l_model_free": (None, [model_p]),
    "d2l_model_input_count": (c_size_t, [model_p]),
    "d2l_model_output_count": (c_size_t, [model_p]),
    "d2l_model_input_name": (c_char_p, [model_p, c_size_t]),
    "d2l_model_output_name": (c_char_p, [model_p, c_size_t]),
    "d2l_model_input_shape": (d2l_status, [model_p, c_size_t, POINTER(int64_p), POINTER(c_size_t)]),
    "d2l_model_output_shape": (d2l_status, [model_p, c_size_t, POINTER(int64_p), POINTER(c_size_t)]),
    "d2l_model_input_dtype": (d2l_status, [model_p, c_size_t, POINTER(d2l_dtype)]),
    "d2l_model_output_dtype": (d2l_status, [model_p, c_size_t, POINTER(d2l_dtype)]),
    # Name lookups and dimension names (API version 3): pass a POINTER(c_char_p)() by
    # reference to the dim_names functions; its entries are bytes, or None.
    "d2l_model_input_index": (d2l_status, [model_p, c_char_p, POINTER(c_size_t)]),
    "d2l_model_output_index": (d2l_status, [model_p, c_char_p, POINTER(c_size_t)]),
    "d2l_model_input_dim_names": (d2l_status, [model_p, c_size_t, POINTER(POINTER(c_char_p)), POINTER(c_size_t)]),
    "d2l_model_output_dim_names": (d2l_status, [model_p, c_size_t, POINTER(POINTER(c_char_p)), POINTER(c_size_t)]),
    "d2l_model_metadata": (c_char_p, [model_p, c_char_p]),
    "d2l_model_metadata_count": (c_size_t, [model_p]),
    "d2l_model_metadata_key": (c_char_p, [model_p, c_size_t]),
    "d2l_model_opset": (c_int64, [model_p]),
    # Sessions
    "d2l_session_create": (d2l_status, [model_p, POINTER(session_p)]),
    "d2l_session_free": (None, [session_p]),
    "d2l_session_set_threads": (d2l_status, [session_p, c_size_t]),
    "d2l_session_set_input": (d2l_status, [session_p, c_size_t, d2l_dtype, c_void_p, int64_p, c_size_t]),
    "d2l_session_set_image_u8": (d2l_status, [session_p, c_size_t, POINTER(ctypes.c_uint8), c_size_t, c_size_t, c_size_t]),
    "d2l_session_run": (d2l_status, [session_p]),
    "d2l_session_get_output": (
        d2l_status,
        [session_p, c_size_t, POINTER(d2l_dtype), POINTER(c_void_p), POINTER(int64_p), POINTER(c_size_t)],
    ),
    # Text generation and classification (API version 2). Pass d2l_generate a c_char_p()
    # by reference and hand that same object to d2l_text_free.
    "d2l_generate": (d2l_status, [session_p, c_char_p, c_size_t, c_float, c_size_t, c_uint64, POINTER(c_char_p)]),
    "d2l_text_free": (None, [c_char_p]),
    "d2l_classify": (
        d2l_status,
        [session_p, c_size_t, POINTER(c_size_t), POINTER(c_double), POINTER(c_char_p), POINTER(c_size_t)],
    ),
    "d2l_classify_row": (
        d2l_status,
        [session_p, c_size_t, c_size_t, POINTER(c_size_t), POINTER(c_double), POINTER(c_char_p), POINTER(c_size_t)],
    ),
    # Object detection helpers (API version 3)
    "d2l_box_iou": (d2l_status, [float_p, c_size_t, float_p, c_size_t, float_p]),
    "d2l_multibox_prior": (d2l_status, [c_size_t, c_size_t, float_p, c_size_t, float_p, c_size_t, float_p]),
    "d2l_nms": (d2l_status, [float_p, float_p, c_size_t, c_float, POINTER(c_size_t), POINTER(c_size_t)]),
    "d2l_multibox_detection": (
        d2l_status,
        [float_p, float_p, float_p, c_size_t, c_size_t, c_float, c_float, float_p],
    ),
}


class LibraryError(OSError):
    """libd2l could not be found or loaded, or is older than this package needs."""


class D2LError(Exception):
    """A libd2l call returned a status other than D2L_OK.

    Attributes: ``code`` (the d2l_status value, an int), ``status`` (its name from
    d2l_status_string, e.g. ``"D2L_ERR_SHAPE"``) and ``message`` (d2l_last_error()).
    """

    def __init__(self, code: int, status: str, message: str):
        super().__init__(code, status, message)
        self.code = int(code)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{self.status}: {self.message}" if self.message else self.status

    def __repr__(self) -> str:
        return f"D2LError(code={self.code}, status={self.status!r}, message={self.message!r})"


def _checkout_root(package: Path) -> Path | None:
    """The d2l checkout the package folder belongs to (ROOT/bindings/python/d2l_runtime, with
    ROOT/Package.swift and bindings/python/pyproject.toml), or None for an installed package
    (site-packages, also a virtual environment inside a checkout)."""
    python = package.parent
    root = python.parent.parent
    if (
        python.name == "python"
        and python.parent.name == "bindings"
        and (python / "pyproject.toml").is_file()
        and (root / "Package.swift").is_file()
    ):
        return root
    return None


def candidate_paths(package: Path | None = None) -> list[Path]:
    """The files looked for, in order, after $D2L_LIBRARY and before the system's library
    path: the copy bundled in the package (what tools/build-wheel puts there), then, only when
    the package is imported from a d2l checkout, its SwiftPM build folder (.build/release,
    then .build/debug). `package` defaults to this package's folder."""
    package = Path(__file__).resolve().parent if package is None else package
    paths = [package / LIBRARY_NAME]
    root = _checkout_root(package)
    if root is not None:
        paths += [root / ".build" / "release" / LIBRARY_NAME, root / ".build" / "debug" / LIBRARY_NAME]
    return paths


def system_names() -> list[str]:
    """The names the dynamic loader is asked for, last: what ``ctypes.util.find_library("d2l")``
    finds (ldconfig's cache, the compiler's library path), then SYSTEM_SONAME (a copy that
    tools/install put in /usr/local/lib, found through ldconfig's cache or LD_LIBRARY_PATH)."""
    found = ctypes.util.find_library("d2l")
    return [found, SYSTEM_SONAME] if found and found != SYSTEM_SONAME else [SYSTEM_SONAME]


class _LinkMap(ctypes.Structure):
    """The head of glibc's ``struct link_map`` (<link.h>)."""

    _fields_ = [("l_addr", c_size_t), ("l_name", c_char_p)]


_RTLD_DI_LINKMAP = 2  # <dlfcn.h>


def _loaded_path(lib: ctypes.CDLL) -> Path | None:
    """The file the dynamic loader opened for `lib` (dlinfo RTLD_DI_LINKMAP), or None."""
    for libc in (None, "libdl.so.2"):  # glibc >= 2.34 has dlinfo in libc, older ones in libdl
        try:
            dlinfo = ctypes.CDLL(libc).dlinfo
        except (OSError, AttributeError):
            continue
        dlinfo.restype = c_int
        dlinfo.argtypes = [c_void_p, c_int, c_void_p]
        linkmap = POINTER(_LinkMap)()
        if dlinfo(lib._handle, _RTLD_DI_LINKMAP, ctypes.byref(linkmap)) == 0 and linkmap and linkmap.contents.l_name:
            return Path(os.fsdecode(linkmap.contents.l_name))
        return None
    return None


def _not_found_advice(root: Path | None) -> str:
    if root is not None:
        return (
            f"This d2l_runtime is imported from the d2l checkout {root}: build the library there with "
            f"`swift build -c release --product d2l` (it goes to .build/release/{LIBRARY_NAME}), "
            f"or set {LIBRARY_ENV} to the path of a {LIBRARY_NAME}."
        )
    return (
        f"Set {LIBRARY_ENV} to the path of a {LIBRARY_NAME}, install libd2l into the system's library path "
        f"(`tools/install` in a d2l checkout; {SYSTEM_SONAME} must be in ldconfig's cache or on LD_LIBRARY_PATH), "
        f"or install the d2l_runtime wheel, which bundles the library (`tools/build-wheel` in a d2l checkout)."
    )


def find_library() -> Path:
    """The path of the libd2l.so to load: $D2L_LIBRARY if set, else the first of
    candidate_paths() that exists, else the first of system_names() the dynamic loader
    opens (which loads it; its path then comes from the loader). Raises LibraryError listing
    everything tried, with advice that fits how the package was installed."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise LibraryError(f"{LIBRARY_ENV}={env} does not name a file (unset it to search the default places)")
        return path
    tried = [f"${LIBRARY_ENV} (not set)"]
    for path in candidate_paths():
        if path.is_file():
            return path
        tried.append(f"{path} (no such file)")
    for name in system_names():
        try:
            found = ctypes.CDLL(name)
        except OSError as e:
            tried.append(f"{name} from the system's library path ({e})")
            continue
        return _loaded_path(found) or Path(name)
    where = "\n".join(f"  {t}" for t in tried)
    advice = _not_found_advice(_checkout_root(Path(__file__).resolve().parent))
    raise LibraryError(f"cannot find {LIBRARY_NAME}. Tried, in order:\n{where}\n{advice}")


def check_api_version(found: int, path: object = "libd2l") -> None:
    """Raises LibraryError when the library's API version is older than API_VERSION.
    (Newer libraries are fine: the C API only grows.)"""
    if found < API_VERSION:
        raise LibraryError(
            f"{path} has API version {found}, older than the version {API_VERSION} that d2l_runtime needs; "
            "rebuild or update libd2l"
        )


def declare(lib: ctypes.CDLL, path: object = "libd2l") -> ctypes.CDLL:
    """Sets restype and argtypes on `lib` for every function in FUNCTIONS."""
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryError(f"{path} has no function {name}: it is not a matching libd2l") from None
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_lib_path: Path | None = None


def _load_bundled_dependencies(library: Path) -> None:
    """For the copy bundled in a wheel: first loads the libraries tools/build-wheel put
    beside it (libprotobuf-c.so.1), so that the dynamic linker takes them for libd2l.so's
    DT_NEEDED entries instead of looking for system copies."""
    folder = library.resolve().parent
    if folder != Path(__file__).resolve().parent:
        return
    for dependency in sorted(folder.glob("lib*.so.*")):
        if not dependency.name.startswith("libd2l."):
            ctypes.CDLL(str(dependency), mode=ctypes.RTLD_GLOBAL)


def load(path: str | os.PathLike | None = None) -> ctypes.CDLL:
    """Loads libd2l (once), declares its functions and checks its API version."""
    global _lib, _lib_path
    if _lib is not None and path is None:
        return _lib
    with _lock:
        if _lib is not None and path is None:
            return _lib
        where = Path(path) if path is not None else find_library()
        try:
            _load_bundled_dependencies(where)
            lib = ctypes.CDLL(str(where))
        except OSError as e:
            hint = ""
            if "libprotobuf-c.so" in str(e):
                hint = " (libd2l needs the system's protobuf-c library: on Debian and Ubuntu `apt install libprotobuf-c1`)"
            raise LibraryError(f"cannot load {where}: {e}{hint}") from e
        declare(lib, where)
        check_api_version(lib.d2l_api_version(), where)
        _lib, _lib_path = lib, where
        return lib


def lib() -> ctypes.CDLL:
    """The loaded library (loading it on first use)."""
    return _lib if _lib is not None else load()


def library_path() -> Path:
    """The path of the loaded library (loading it on first use)."""
    lib()
    assert _lib_path is not None
    return _lib_path


def _text(b: bytes | None) -> str:
    return "" if b is None else b.decode("utf-8", "replace")


def status_string(code: int) -> str:
    return _text(lib().d2l_status_string(code))


def last_error() -> str:
    return _text(lib().d2l_last_error())


def error(code: int) -> D2LError:
    """The D2LError for a failed call's status (reads this thread's last error)."""
    return D2LError(code, status_string(code), last_error())


def check(code: int) -> None:
    """Raises D2LError unless `code` is D2L_OK."""
    if code != D2L_OK:
        raise error(code)
