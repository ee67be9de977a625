"""The ctypes declarations against include/d2l.h, and the raw C functions with NULL
pointers, out-of-range indices and untouched out-parameters."""

from __future__ import annotations

import ctypes
import re
from ctypes import POINTER, byref, c_char_p, c_int, c_int64, c_size_t, c_void_p

import numpy as np
import pytest

import d2l_runtime
from d2l_runtime import _capi

from conftest import HEADER, LENET, VALID_TINY

OK = _capi.D2L_OK
INVALID_ARGUMENT = _capi.D2L_ERR_INVALID_ARGUMENT

SENTINEL_ADDRESS = 0xD2D2D2D0
SENTINEL_SIZE = 987654321
SENTINEL_DTYPE = -77


def header_declarations() -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, [parameter declarations]) for every function in d2l.h."""
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"#[^\n]*", "", text)
    # Declaration attributes (D2L_API, D2L_NODISCARD, D2L_DEPRECATED("...")) are not types.
    text = re.sub(r"\bD2L_DEPRECATED\([^)]*\)|\bD2L_API\b|\bD2L_NODISCARD\b", "", text)
    found = {}
    for m in re.finditer(r"([A-Za-z_][\w\s\*]*?)\b(d2l_\w+)\s*\(([^)]*)\)\s*;", text):
        params = [p.strip() for p in " ".join(m.group(3).split()).split(",")]
        if params == ["void"]:
            params = []
        found[m.group(2)] = (" ".join(m.group(1).split()), params)
    return found


def c_type_for(decl: str):
    """The ctypes type a C declaration (a return type or a parameter) must map to."""
    decl = re.sub(r"\b(const|struct)\b", "", decl)
    stars = decl.count("*")
    words = decl.replace("*", " ").split()
    base = words[0]
    scalar = {
        "int": c_int,
        "int64_t": c_int64,
        "size_t": c_size_t,
        "d2l_status": c_int,
        "d2l_dtype": c_int,
        "float": ctypes.c_float,
        "double": ctypes.c_double,
        "uint64_t": ctypes.c_uint64,
        "uint8_t": ctypes.c_uint8,
    }
    handles = {"d2l_model": _capi.model_p, "d2l_session": _capi.session_p}
    if base == "void":
        t = None if stars == 0 else c_void_p
        stars = max(stars - 1, 0)
    elif base == "char":
        assert stars >= 1
        t, stars = c_char_p, stars - 1
    elif base in handles:
        assert stars >= 1
        t, stars = handles[base], stars - 1
    else:
        t = scalar[base]
    for _ in range(stars):
        t = POINTER(t)
    return t


def test_header_parses():
    decls = header_declarations()
    assert "d2l_session_get_output" in decls and "d2l_api_version" in decls
    assert len(decls) >= 25


def test_every_header_function_is_declared_once_in_capi():
    decls = header_declarations()
    assert set(decls) == set(_capi.FUNCTIONS), (
        f"missing in _capi: {sorted(set(decls) - set(_capi.FUNCTIONS))}, "
        f"not in d2l.h: {sorted(set(_capi.FUNCTIONS) - set(decls))}"
    )


@pytest.mark.parametrize("name", sorted(header_declarations()))
def test_declaration_matches_header(name):
    ret, params = header_declarations()[name]
    restype, argtypes = _capi.FUNCTIONS[name]
    assert restype == c_type_for(ret), f"{name}: restype {restype} for C {ret!r}"
    assert len(argtypes) == len(params), f"{name}: {len(argtypes)} argtypes for {params}"
    for ctype, param in zip(argtypes, params):
        # Drop the parameter name: the last identifier of the declaration.
        type_part = re.sub(r"\b\w+$", "", param).strip()
        expected = c_type_for(type_part)
        if expected is c_void_p or ctype is c_void_p:
            assert ctype is expected, f"{name}: {param!r} declared as {ctype}"
        else:
            assert ctype == expected, f"{name}: {param!r} declared as {ctype}, expected {expected}"
    fn = getattr(_capi.lib(), name)
    assert fn.restype == restype and list(fn.argtypes) == list(argtypes)


def test_api_version_and_version_string():
    lib = _capi.lib()
    assert lib.d2l_api_version() >= _capi.API_VERSION == 3
    assert d2l_runtime.api_version() == lib.d2l_api_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", d2l_runtime.version())
    assert d2l_runtime.library_path().is_file()


KERNEL_ISAS = {"avx512", "avx2", "sse2", "neon", "neon-vfpv3", "scalar"}


def test_kernel_isa():
    isa = d2l_runtime.kernel_isa()
    assert isa in KERNEL_ISAS
    assert _capi.lib().d2l_kernel_isa().decode() == isa


def _kernel_isa_under(cap: str) -> str:
    import os
    import subprocess
    import sys

    env = dict(os.environ, D2L_KERNEL_ISA=cap)
    code = "import d2l_runtime; print(d2l_runtime.kernel_isa())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_kernel_isa_cap():
    """D2L_KERNEL_ISA caps the variant; what the CPU cannot honour falls back to its best."""
    import os
    import platform

    best = _kernel_isa_under("")
    assert best in KERNEL_ISAS
    assert _kernel_isa_under("scalar") == "scalar"
    assert _kernel_isa_under("no-such-variant") == best
    if platform.machine() == "x86_64":
        assert _kernel_isa_under("sse2") == "sse2"
        assert _kernel_isa_under("neon") == best
        order = ["avx512", "avx2", "sse2"]
        for cap in order:
            got = _kernel_isa_under(cap)
            # At most the cap, at most the best.
            assert order.index(got) >= max(order.index(cap), order.index(best)), (cap, got, best)
    if os.environ.get("D2L_KERNEL_ISA"):
        assert d2l_runtime.kernel_isa() == _kernel_isa_under(os.environ["D2L_KERNEL_ISA"])


def test_older_library_is_refused():
    with pytest.raises(d2l_runtime.LibraryError, match="older"):
        _capi.check_api_version(0, "libd2l.so")
    with pytest.raises(d2l_runtime.LibraryError, match="older"):
        _capi.check_api_version(1, "libd2l.so")  # no d2l_generate / d2l_classify
    with pytest.raises(d2l_runtime.LibraryError, match="older"):
        _capi.check_api_version(2, "libd2l.so")  # no d2l_kernel_isa
    _capi.check_api_version(3)
    _capi.check_api_version(4)  # newer libraries only add functions


def test_library_without_a_function_is_refused():
    class Fake:
        pass

    fake = Fake()
    for name in list(_capi.FUNCTIONS)[:-1]:
        setattr(fake, name, type("Fn", (), {})())
    with pytest.raises(d2l_runtime.LibraryError, match=list(_capi.FUNCTIONS)[-1]):
        _capi.declare(fake, "fake.so")


@pytest.mark.parametrize(
    "code,name",
    [
        (0, "D2L_OK"),
        (1, "D2L_ERR_INVALID_ARGUMENT"),
        (2, "D2L_ERR_IO"),
        (3, "D2L_ERR_INVALID_MODEL"),
        (4, "D2L_ERR_UNSUPPORTED"),
        (5, "D2L_ERR_SHAPE"),
        (6, "D2L_ERR_OUT_OF_MEMORY"),
        (7, "D2L_ERR_INTERNAL"),
        (8, "D2L_ERR_UNKNOWN"),
        (-1, "D2L_ERR_UNKNOWN"),
        (12345, "D2L_ERR_UNKNOWN"),
    ],
)
def test_status_string(code, name):
    assert _capi.lib().d2l_status_string(code).decode() == name
    assert getattr(_capi, name, code) == code


def test_last_error_is_never_null():
    assert isinstance(_capi.lib().d2l_last_error(), bytes)


# -- raw calls ----------------------------------------------------------------------------


def sentinel_ptr(t):
    return ctypes.cast(c_void_p(SENTINEL_ADDRESS), t)


def address(p) -> int | None:
    return ctypes.cast(p, c_void_p).value


def expect_invalid(code, fragment=""):
    assert code == INVALID_ARGUMENT, f"status {code} ({_capi.lib().d2l_status_string(code)})"
    message = _capi.last_error()
    assert message, "no d2l_last_error message"
    assert fragment.lower() in message.lower(), message


@pytest.fixture
def raw_model():
    lib = _capi.lib()
    out = _capi.model_p()
    assert lib.d2l_model_load_file(str(VALID_TINY).encode(), byref(out)) == OK
    yield out
    lib.d2l_model_free(out)


@pytest.fixture
def raw_session(raw_model):
    lib = _capi.lib()
    out = _capi.session_p()
    assert lib.d2l_session_create(raw_model, byref(out)) == OK
    yield out
    lib.d2l_session_free(out)


def test_raw_load_file_null():
    lib = _capi.lib()
    out = sentinel_ptr(_capi.model_p)
    expect_invalid(lib.d2l_model_load_file(None, byref(out)), "path")
    assert address(out) == SENTINEL_ADDRESS
    expect_invalid(lib.d2l_model_load_file(str(VALID_TINY).encode(), None), "out_model")


def test_raw_load_file_failure_leaves_out_param():
    lib = _capi.lib()
    out = sentinel_ptr(_capi.model_p)
    assert lib.d2l_model_load_file(b"/nonexistent/model.onnx", byref(out)) == _capi.D2L_ERR_IO
    assert address(out) == SENTINEL_ADDRESS


def test_raw_load_memory_null():
    lib = _capi.lib()
    data = VALID_TINY.read_bytes()
    out = sentinel_ptr(_capi.model_p)
    expect_invalid(lib.d2l_model_load_memory(None, len(data), byref(out)), "data")
    assert address(out) == SENTINEL_ADDRESS
    expect_invalid(lib.d2l_model_load_memory(data, len(data), None), "out_model")
    assert lib.d2l_model_load_memory(data[:100], 100, byref(out)) == _capi.D2L_ERR_INVALID_MODEL
    assert address(out) == SENTINEL_ADDRESS


def test_raw_free_accepts_null():
    lib = _capi.lib()
    lib.d2l_model_free(None)
    lib.d2l_session_free(None)


def test_raw_getters_with_null_model(raw_model):
    lib = _capi.lib()
    assert lib.d2l_model_input_count(None) == 0
    assert lib.d2l_model_output_count(None) == 0
    assert lib.d2l_model_input_name(None, 0) is None
    assert lib.d2l_model_output_name(None, 0) is None
    assert lib.d2l_model_metadata(None, b"d2l.labels") is None
    assert lib.d2l_model_metadata(raw_model, None) is None
    assert lib.d2l_model_metadata(raw_model, b"no.such.key") is None
    assert lib.d2l_model_metadata_count(None) == 0
    assert lib.d2l_model_metadata_key(None, 0) is None
    assert lib.d2l_model_opset(None) == 0


def test_raw_getters_in_range_and_out_of_range(raw_model):
    lib = _capi.lib()
    assert lib.d2l_model_input_count(raw_model) == 1
    assert lib.d2l_model_output_count(raw_model) == 1
    assert lib.d2l_model_input_name(raw_model, 0) == b"x"
    assert lib.d2l_model_output_name(raw_model, 0) == b"y"
    assert lib.d2l_model_input_name(raw_model, 1) is None
    assert lib.d2l_model_output_name(raw_model, 1) is None
    assert lib.d2l_model_input_name(raw_model, 2**63) is None
    n = lib.d2l_model_metadata_count(raw_model)
    assert lib.d2l_model_metadata_key(raw_model, n) is None
    assert lib.d2l_model_opset(raw_model) == 17


@pytest.mark.parametrize("which", ["input", "output"])
def test_raw_shape_null_and_range(raw_model, which):
    lib = _capi.lib()
    fn = getattr(lib, f"d2l_model_{which}_shape")
    shape = sentinel_ptr(_capi.int64_p)
    rank = c_size_t(SENTINEL_SIZE)

    def untouched():
        assert address(shape) == SENTINEL_ADDRESS and rank.value == SENTINEL_SIZE

    expect_invalid(fn(None, 0, byref(shape), byref(rank)), "model")
    untouched()
    expect_invalid(fn(raw_model, 0, None, byref(rank)))
    untouched()
    expect_invalid(fn(raw_model, 0, byref(shape), None))
    untouched()
    expect_invalid(fn(raw_model, 1, byref(shape), byref(rank)), "out of range")
    untouched()
    assert fn(raw_model, 0, byref(shape), byref(rank)) == OK
    assert [shape[i] for i in range(rank.value)] == ([1, 4] if which == "input" else [1, 3])


@pytest.mark.parametrize("which", ["input", "output"])
def test_raw_dtype_null_and_range(raw_model, which):
    lib = _capi.lib()
    fn = getattr(lib, f"d2l_model_{which}_dtype")
    dtype = c_int(SENTINEL_DTYPE)
    expect_invalid(fn(None, 0, byref(dtype)), "model")
    assert dtype.value == SENTINEL_DTYPE
    expect_invalid(fn(raw_model, 0, None))
    expect_invalid(fn(raw_model, 1, byref(dtype)), "out of range")
    assert dtype.value == SENTINEL_DTYPE
    assert fn(raw_model, 0, byref(dtype)) == OK and dtype.value == _capi.D2L_FLOAT32


def test_raw_session_create_null(raw_model):
    lib = _capi.lib()
    out = sentinel_ptr(_capi.session_p)
    expect_invalid(lib.d2l_session_create(None, byref(out)), "model")
    assert address(out) == SENTINEL_ADDRESS
    expect_invalid(lib.d2l_session_create(raw_model, None), "out_session")


def test_raw_set_threads(raw_session):
    lib = _capi.lib()
    expect_invalid(lib.d2l_session_set_threads(None, 1), "session")
    expect_invalid(lib.d2l_session_set_threads(raw_session, 257))
    assert lib.d2l_session_set_threads(raw_session, 2) == OK
    assert lib.d2l_session_set_threads(raw_session, 1) == OK


def set_input(session, index, dtype, data, shape, rank=None):
    lib = _capi.lib()
    shape_arr = None if shape is None else (c_int64 * max(len(shape), 1))(*shape)
    return lib.d2l_session_set_input(
        session,
        index,
        dtype,
        data,
        None if shape_arr is None else ctypes.cast(shape_arr, _capi.int64_p),
        len(shape) if rank is None else rank,
    )


def test_raw_set_input_null_and_bad_values(raw_session):
    x = np.array([[1, 2, 3, 4]], dtype=np.float32)
    data = x.ctypes.data
    f32 = _capi.D2L_FLOAT32
    expect_invalid(set_input(None, 0, f32, data, [1, 4]), "session")
    expect_invalid(set_input(raw_session, 0, f32, None, [1, 4]), "data")
    expect_invalid(set_input(raw_session, 0, f32, data, None, rank=2), "shape")
    expect_invalid(set_input(raw_session, 1, f32, data, [1, 4]), "out of range")
    expect_invalid(set_input(raw_session, 0, 3, data, [1, 4]))  # int8: not a d2l_dtype
    expect_invalid(set_input(raw_session, 0, _capi.D2L_INT64, np.zeros((1, 4), np.int64).ctypes.data, [1, 4]), "int64")
    assert set_input(raw_session, 0, f32, data, [1, 4, 1]) == _capi.D2L_ERR_SHAPE
    assert set_input(raw_session, 0, f32, data, [1, 5]) == _capi.D2L_ERR_SHAPE
    assert set_input(raw_session, 0, f32, data, [-1, 4]) == _capi.D2L_ERR_SHAPE
    # Nothing was set: running fails.
    expect_invalid(_capi.lib().d2l_session_run(raw_session))
    assert set_input(raw_session, 0, f32, data, [1, 4]) == OK
    assert _capi.lib().d2l_session_run(raw_session) == OK


def test_raw_run_null():
    expect_invalid(_capi.lib().d2l_session_run(None), "session")


def test_raw_get_output_null_and_untouched(raw_session):
    lib = _capi.lib()
    dtype = c_int(SENTINEL_DTYPE)
    data = c_void_p(SENTINEL_ADDRESS)
    shape = sentinel_ptr(_capi.int64_p)
    rank = c_size_t(SENTINEL_SIZE)
    outs = [byref(dtype), byref(data), byref(shape), byref(rank)]

    def untouched():
        assert dtype.value == SENTINEL_DTYPE
        assert data.value == SENTINEL_ADDRESS
        assert address(shape) == SENTINEL_ADDRESS
        assert rank.value == SENTINEL_SIZE

    expect_invalid(lib.d2l_session_get_output(None, 0, *outs), "session")
    untouched()
    expect_invalid(lib.d2l_session_get_output(raw_session, 0, *outs), "run")  # no run yet
    untouched()
    x = np.array([[1, 2, 3, 4]], dtype=np.float32)
    assert set_input(raw_session, 0, _capi.D2L_FLOAT32, x.ctypes.data, [1, 4]) == OK
    assert lib.d2l_session_run(raw_session) == OK
    for i in range(4):
        args = list(outs)
        args[i] = None
        expect_invalid(lib.d2l_session_get_output(raw_session, 0, *args))
        untouched()
    expect_invalid(lib.d2l_session_get_output(raw_session, 1, *outs), "out of range")
    untouched()
    assert lib.d2l_session_get_output(raw_session, 0, *outs) == OK
    assert dtype.value == _capi.D2L_FLOAT32 and rank.value == 2
    assert [shape[0], shape[1]] == [1, 3]
    y = np.ctypeslib.as_array(ctypes.cast(data, POINTER(ctypes.c_float)), shape=(1, 3))
    np.testing.assert_array_equal(y, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("which", ["input", "output"])
def test_raw_index_null_and_untouched(raw_model, which):
    lib = _capi.lib()
    fn = getattr(lib, f"d2l_model_{which}_index")
    name = lib.d2l_model_input_name(raw_model, 0) if which == "input" else lib.d2l_model_output_name(raw_model, 0)
    index = c_size_t(SENTINEL_SIZE)
    expect_invalid(fn(None, name, byref(index)), "model")
    expect_invalid(fn(raw_model, None, byref(index)), "name is NULL")
    expect_invalid(fn(raw_model, name, None), "out_index")
    expect_invalid(fn(raw_model, b"no such value", byref(index)), "no such value")
    assert index.value == SENTINEL_SIZE
    assert fn(raw_model, name, byref(index)) == OK and index.value == 0


@pytest.mark.parametrize("which", ["input", "output"])
def test_raw_dim_names(which):
    lib = _capi.lib()
    model = _capi.model_p()
    assert lib.d2l_model_load_file(str(LENET).encode(), byref(model)) == OK
    try:
        fn = getattr(lib, f"d2l_model_{which}_dim_names")
        names = sentinel_ptr(POINTER(c_char_p))
        rank = c_size_t(SENTINEL_SIZE)
        expect_invalid(fn(None, 0, byref(names), byref(rank)), "model")
        expect_invalid(fn(model, 0, None, byref(rank)))
        expect_invalid(fn(model, 0, byref(names), None))
        expect_invalid(fn(model, 1, byref(names), byref(rank)), "out of range")
        assert address(names) == SENTINEL_ADDRESS and rank.value == SENTINEL_SIZE
        assert fn(model, 0, byref(names), byref(rank)) == OK
        want = [b"batch", None, None, None] if which == "input" else [b"batch", None]
        assert [names[i] for i in range(rank.value)] == want
    finally:
        lib.d2l_model_free(model)


def test_raw_set_image_and_classify_row():
    """d2l_session_set_image_u8 and d2l_classify_row through ctypes on lenet-fashion: a
    batch of the three samples set with set_input; each row is that sample's d2l_classify
    after set_image_u8 (the same preparation: p / 255 at 28x28); errors write nothing."""
    from conftest import read_pgm, sample_files

    lib = _capi.lib()
    model, session = _capi.model_p(), _capi.session_p()
    assert lib.d2l_model_load_file(str(LENET).encode(), byref(model)) == OK
    assert lib.d2l_session_create(model, byref(session)) == OK
    try:
        images = [read_pgm(p) for p in sample_files()[:3]]
        u8 = POINTER(ctypes.c_uint8)
        k = 10
        indices, probs, labels, count = (c_size_t * k)(), (ctypes.c_double * k)(), (c_char_p * k)(), c_size_t()
        alone = []
        for img in images:
            assert lib.d2l_session_set_image_u8(session, 0, img.ctypes.data_as(u8), 28, 28, 1) == OK
            assert lib.d2l_session_run(session) == OK
            assert lib.d2l_classify(session, k, indices, probs, labels, byref(count)) == OK
            alone.append([(int(indices[j]), float(probs[j]), labels[j]) for j in range(count.value)])
        batch = (np.stack(images)[:, None].astype(np.float64) / 255.0).astype(np.float32)
        assert set_input(session, 0, _capi.D2L_FLOAT32, batch.ctypes.data, list(batch.shape)) == OK
        assert lib.d2l_session_run(session) == OK
        for row, want in enumerate(alone):
            assert lib.d2l_classify_row(session, row, k, indices, probs, labels, byref(count)) == OK
            got = [(int(indices[j]), float(probs[j]), labels[j]) for j in range(count.value)]
            assert [(i, lab) for i, _, lab in got] == [(i, lab) for i, _, lab in want]
            np.testing.assert_allclose([p for _, p, _ in got], [p for _, p, _ in want], rtol=0, atol=1e-6)
        count.value = SENTINEL_SIZE
        expect_invalid(lib.d2l_classify_row(session, 3, k, indices, probs, labels, byref(count)), "3 rows")
        expect_invalid(lib.d2l_classify_row(None, 0, k, indices, probs, labels, byref(count)), "session")
        assert count.value == SENTINEL_SIZE
        pixels = np.zeros((28, 28), np.uint8)
        expect_invalid(lib.d2l_session_set_image_u8(None, 0, pixels.ctypes.data_as(u8), 28, 28, 1), "session")
        expect_invalid(lib.d2l_session_set_image_u8(session, 0, None, 28, 28, 1), "pixels")
        expect_invalid(lib.d2l_session_set_image_u8(session, 0, pixels.ctypes.data_as(u8), 28, 28, 2), "channels")
        expect_invalid(lib.d2l_session_set_image_u8(session, 0, pixels.ctypes.data_as(u8), 0, 28, 1), "at least 1")
        # The batch set before the errors is still the input.
        assert lib.d2l_session_run(session) == OK
        assert lib.d2l_classify_row(session, 2, k, indices, probs, labels, byref(count)) == OK
    finally:
        lib.d2l_session_free(session)
        lib.d2l_model_free(model)


def test_errors_are_per_thread():
    import threading

    lib = _capi.lib()
    assert lib.d2l_session_run(None) == INVALID_ARGUMENT
    main_message = _capi.last_error()
    seen = {}

    def other():
        seen["before"] = _capi.last_error()
        lib.d2l_model_load_file(b"/nonexistent/other-thread.onnx", byref(_capi.model_p()))
        seen["after"] = _capi.last_error()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen["before"] == ""
    assert "other-thread" in seen["after"]
    assert _capi.last_error() == main_message


def test_model_wrapper_reads_lenet_description():
    with d2l_runtime.Model(LENET) as m:
        assert m.input_names == ("x",)
        assert m.output_names == ("logits",)
        assert m.input_shapes == ((None, 1, 28, 28),)
        assert m.output_shapes == ((None, 10),)
        assert m.input_dtypes == (np.dtype(np.float32),)
        assert m.output_dtypes == (np.dtype(np.float32),)
        assert m.opset == 17
