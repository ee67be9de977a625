"""Bad model files (Tests/Fixtures/bad/expected.tsv) and bad input at run time: every
failure is a D2LError with the right status and a message that names the problem, or a
Python error for misuse of the Python objects, never a crash."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import numpy as np
import pytest

import d2l_runtime
from d2l_runtime import D2LError, _capi

from conftest import BAD, LENET, VALID_TINY, make_model


def expected_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (BAD / "expected.tsv").read_text().splitlines():
        if not line.strip():
            continue
        name, status, substring = (line.split("\t") + ["", ""])[:3]
        rows.append((name, status, substring))
    return rows


def first_failure(load):
    """Runs the README's procedure: load; session; input 0 = zeros of its declared shape
    (symbolic dims as 1); run. Returns the first D2LError, or the outputs."""
    try:
        model = load()
    except D2LError as e:
        return e
    with model:
        try:
            with model.session() as session:
                shape = tuple(1 if d is None else d for d in model.input_shapes[0])
                session.set_input(0, np.zeros(shape, dtype=model.input_dtypes[0]))
                return session.run()
        except D2LError as e:
            return e


def test_expected_tsv_covers_every_model_file():
    listed = {row[0] for row in expected_rows()}
    files = {p.name for p in BAD.glob("*.onnx")}
    assert files == listed, f"not in expected.tsv: {sorted(files - listed)}; missing files: {sorted(listed - files)}"
    assert len(listed) >= 20


def check(result, status, substring, name):
    if status == "D2L_OK":
        assert not isinstance(result, D2LError), f"{name}: {result!r}"
        return
    assert isinstance(result, D2LError), f"{name}: expected {status}, but every step succeeded"
    assert result.status == status, f"{name}: got {result!r}, expected {status} containing {substring!r}"
    assert result.code == getattr(_capi, status)
    assert substring.lower() in result.message.lower(), f"{name}: message {result.message!r} lacks {substring!r}"


@pytest.mark.parametrize("row", expected_rows(), ids=lambda r: r[0])
def test_bad_model_from_path(row):
    name, status, substring = row
    check(first_failure(lambda: d2l_runtime.Model(BAD / name)), status, substring, name)


@pytest.mark.parametrize("row", expected_rows(), ids=lambda r: r[0])
def test_bad_model_from_bytes(row):
    name, status, substring = row
    if name.startswith("external-"):
        # No folder to read the data from: refused for needing external data.
        status, substring = "D2L_ERR_INVALID_MODEL", "external"
    data = (BAD / name).read_bytes()
    check(first_failure(lambda: d2l_runtime.Model.from_bytes(data)), status, substring, name)


def test_valid_tiny_runs():
    for load in (lambda: d2l_runtime.Model(VALID_TINY), lambda: d2l_runtime.Model.from_bytes(VALID_TINY.read_bytes())):
        with load() as model:
            (y,) = model.run({"x": np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)})
            assert y.dtype == np.float32 and y.shape == (1, 3)
            np.testing.assert_array_equal(y, [[1.0, 0.0, 0.0]])


def test_nonexistent_file_is_io_error(tmp_path):
    path = tmp_path / "no-such-model.onnx"
    with pytest.raises(D2LError) as info:
        d2l_runtime.Model(path)
    assert info.value.code == _capi.D2L_ERR_IO == 2
    assert info.value.status == "D2L_ERR_IO"
    assert "no-such-model.onnx" in info.value.message
    assert "D2L_ERR_IO" in str(info.value)


def test_directory_is_io_error(tmp_path):
    with pytest.raises(D2LError) as info:
        d2l_runtime.Model(tmp_path)
    assert info.value.status in ("D2L_ERR_IO", "D2L_ERR_INVALID_MODEL"), repr(info.value)


def test_d2lerror_attributes():
    with pytest.raises(D2LError) as info:
        d2l_runtime.Model.from_bytes(b"")
    err = info.value
    assert isinstance(err, Exception)
    assert isinstance(err.code, int) and err.code == 3
    assert err.status == "D2L_ERR_INVALID_MODEL"
    assert isinstance(err.message, str) and "empty" in err.message.lower()


# -- bad input at run time -------------------------------------------------------------


def expect(status, fn, *args, contains=None):
    with pytest.raises(D2LError) as info:
        fn(*args)
    assert info.value.status == status, repr(info.value)
    assert info.value.code == getattr(_capi, status)
    assert info.value.message
    if contains is not None:
        assert contains.lower() in info.value.message.lower(), info.value.message
    return info.value


def test_wrong_rank(tiny, lenet):
    expect("D2L_ERR_SHAPE", tiny.run, {"x": np.zeros((4,), np.float32)}, contains="rank")
    expect("D2L_ERR_SHAPE", tiny.run, {"x": np.zeros((1, 1, 4), np.float32)}, contains="rank")
    expect("D2L_ERR_SHAPE", lenet.run, {"x": np.zeros((1, 28, 28), np.float32)}, contains="rank")
    expect("D2L_ERR_SHAPE", lenet.run, {"x": np.float32(1.0)})


def test_wrong_fixed_dimension(tiny, lenet):
    expect("D2L_ERR_SHAPE", tiny.run, {"x": np.zeros((1, 5), np.float32)})
    expect("D2L_ERR_SHAPE", tiny.run, {"x": np.zeros((2, 4), np.float32)})  # valid-tiny's batch is fixed at 1
    expect("D2L_ERR_SHAPE", lenet.run, {"x": np.zeros((1, 1, 28, 27), np.float32)})
    expect("D2L_ERR_SHAPE", lenet.run, {"x": np.zeros((1, 3, 28, 28), np.float32)})
    expect("D2L_ERR_SHAPE", lenet.run, {"x": np.zeros((0, 1, 28, 28), np.float32)})  # symbolic dims are >= 1


def test_wrong_dtype_low_level(tiny):
    with tiny.session() as s:
        expect("D2L_ERR_INVALID_ARGUMENT", s.set_input, 0, np.zeros((1, 4), np.int64), contains="int64")
        expect("D2L_ERR_INVALID_ARGUMENT", s.set_input, "x", np.zeros((1, 4), np.int32), contains="int32")
        # The failed set_input left no input behind.
        expect("D2L_ERR_INVALID_ARGUMENT", s.run)


def test_wrong_dtype_through_run(tiny, lenet):
    expect("D2L_ERR_INVALID_ARGUMENT", tiny.run, {"x": np.array([[1, 2, 3, 4]], dtype=np.int64)}, contains="int64")
    expect("D2L_ERR_INVALID_ARGUMENT", lenet.run, [np.zeros((1, 1, 28, 28), np.int32)])
    with pytest.raises(TypeError):
        tiny.run({"x": np.array([["a", "b", "c", "d"]])})
    with pytest.raises(TypeError):
        tiny.run({"x": np.zeros((1, 4), np.complex64)})


def test_lossless_conversions(tiny):
    want = [[1.0, 0.0, 0.0]]
    for x in (
        np.array([[1.0, 2.0, 3.0, 4.0]]),  # float64 -> float32
        np.array([[1, 2, 3, 4]], dtype=np.uint8),
        np.array([[1, 2, 3, 4]], dtype=np.int16),
        np.array([[1, 2, 3, 4]], dtype=np.float16),
        np.array([[1, 2, 3, 4]], dtype=">f4"),  # big-endian
        np.asfortranarray(np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)),
        np.array([[1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0]], dtype=np.float32)[:, ::2],  # strided view
        [[1.0, 2.0, 3.0, 4.0]],  # nested lists
    ):
        (y,) = tiny.run({"x": x})
        np.testing.assert_array_equal(y, want, err_msg=repr(x))


def int64_identity_model() -> bytes:
    from onnx import TensorProto, helper

    return make_model(
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("out", TensorProto.INT64, ["n"])],
        [helper.make_node("Identity", ["ids"], ["out"])],
    )


def test_float_for_int64_input_is_reported_by_the_library():
    with d2l_runtime.Model.from_bytes(int64_identity_model()) as m:
        assert m.input_dtypes == (np.dtype(np.int64),)
        assert m.input_shapes == ((None,),)
        for x in (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0]), np.array([1.5, 2.5])):
            expect("D2L_ERR_INVALID_ARGUMENT", m.run, [x], contains="int64")
        (y,) = m.run([np.array([7, -3, 2**40], np.int64)])
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, [7, -3, 2**40])
        (y,) = m.run([np.array([1, 2], np.int32)])  # int32 -> int64 is lossless
        np.testing.assert_array_equal(y, [1, 2])
        with pytest.raises(TypeError, match="uint64"):  # no d2l dtype and no lossless conversion
            m.run([np.array([1, 2], np.uint64)])


def test_missing_and_unknown_input_names(tiny):
    with pytest.raises(KeyError, match="missing"):
        tiny.run({})
    with pytest.raises(KeyError, match="unknown"):
        tiny.run({"x": np.zeros((1, 4), np.float32), "z": np.zeros((1, 4), np.float32)})
    with pytest.raises(KeyError, match="unknown"):
        tiny.run({"X": np.zeros((1, 4), np.float32)})
    with pytest.raises(ValueError):
        tiny.run([])
    with pytest.raises(ValueError):
        tiny.run([np.zeros((1, 4), np.float32)] * 2)
    with pytest.raises(TypeError):
        tiny.run(np.zeros((1, 4), np.float32))
    with tiny.session() as s, pytest.raises(KeyError):
        s.set_input("nope", np.zeros((1, 4), np.float32))


def test_input_index_out_of_range(tiny):
    with tiny.session() as s:
        expect("D2L_ERR_INVALID_ARGUMENT", s.set_input, 1, np.zeros((1, 4), np.float32), contains="out of range")
        expect("D2L_ERR_INVALID_ARGUMENT", s.set_input, 1000, np.zeros((1, 4), np.float32), contains="out of range")
        expect("D2L_ERR_INVALID_ARGUMENT", s.set_input, -1, np.zeros((1, 4), np.float32), contains="out of range")


def test_run_before_inputs_set(tiny):
    with tiny.session() as s:
        expect("D2L_ERR_INVALID_ARGUMENT", s.run)
        expect("D2L_ERR_INVALID_ARGUMENT", s.get_output, 0, contains="run")


def test_output_index_out_of_range(tiny):
    with tiny.session() as s:
        outs = s.run({"x": np.array([[1, 2, 3, 4]], np.float32)})
        np.testing.assert_array_equal(outs[0], [[1, 0, 0]])
        expect("D2L_ERR_INVALID_ARGUMENT", s.get_output, 1, contains="out of range")
        expect("D2L_ERR_INVALID_ARGUMENT", s.get_output, -1)
        np.testing.assert_array_equal(s.get_output(0), [[1, 0, 0]])


def test_session_keeps_inputs_between_runs(tiny):
    with tiny.session() as s:
        s.set_input("x", np.array([[1, 2, 3, 4]], np.float32))
        first = s.run()
        second = s.run()
        np.testing.assert_array_equal(first[0], second[0])
        # A failed set_input keeps the previous input.
        expect("D2L_ERR_SHAPE", s.set_input, 0, np.zeros((1, 5), np.float32))
        np.testing.assert_array_equal(s.run()[0], [[1, 0, 0]])


def test_outputs_are_copies(lenet, samples):
    (a,) = lenet.run({"x": samples[:1]})
    keep = a.copy()
    assert a.flags.owndata and a.flags.writeable and a.flags.c_contiguous
    lenet.run({"x": samples[1:2]})
    np.testing.assert_array_equal(a, keep)
    a[...] = 0  # writable, and not the library's memory
    (b,) = lenet.run({"x": samples[:1]})
    np.testing.assert_array_equal(b, keep)


def test_set_threads_bad_values(lenet):
    expect("D2L_ERR_INVALID_ARGUMENT", lenet.set_threads, 257)
    with pytest.raises(ValueError):
        lenet.set_threads(-1)
    # size_t would keep the low bits: 2**64 would be 0 (one thread per processor), 2**64 + 1 one.
    size_max = d2l_runtime._model.SIZE_MAX
    for threads in (2**64, 2**64 + 1, size_max + 1):
        with pytest.raises(ValueError, match=re.escape(f"threads must be in [0, {d2l_runtime._model._bound(size_max)}]")):
            lenet.set_threads(threads)
    for threads in (1.5, 2.0, "2", None):
        with pytest.raises(TypeError, match="threads must be an integer"):
            lenet.set_threads(threads)
    lenet.set_threads(np.int64(2))
    lenet.set_threads(1)


def test_indices_size_t_cannot_hold_are_out_of_range_not_wrapped(tiny):
    x = np.array([[1, 2, 3, 4]], np.float32)
    with tiny.session() as s:
        for index in (2**64, 2**64 + 1, -(2**64)):  # would wrap onto input 0 / 1
            expect("D2L_ERR_INVALID_ARGUMENT", s.set_input, index, x, contains="out of range")
        with pytest.raises(TypeError, match="index"):
            s.set_input(0.0, x)
        s.set_input(np.int64(0), x)
        s.run()
        for index in (2**64, 2**64 + 1, -1):
            expect("D2L_ERR_INVALID_ARGUMENT", s.get_output, index, contains="out of range")
        with pytest.raises(TypeError, match="index"):
            s.get_output(0.5)
        np.testing.assert_array_equal(s.get_output(np.uint8(0)), [[1, 0, 0]])


def test_nul_in_model_path_is_refused():
    with pytest.raises(ValueError, match="null byte"):
        d2l_runtime.Model(str(VALID_TINY) + "\0ignored")


# -- lifetime -----------------------------------------------------------------------------


def test_use_after_close_raises():
    model = d2l_runtime.Model(VALID_TINY)
    session = model.session()
    x = {"x": np.zeros((1, 4), np.float32)}
    model.run(x)
    model.close()
    assert model.closed and session.closed
    with pytest.raises(ValueError, match="closed"):
        model.run(x)
    with pytest.raises(ValueError, match="closed"):
        model.classify(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="closed"):
        model.set_threads(1)
    with pytest.raises(ValueError, match="closed"):
        model.session()
    with pytest.raises(ValueError, match="closed"):
        session.run(x)
    with pytest.raises(ValueError, match="closed"):
        session.get_output(0)
    with pytest.raises(ValueError, match="closed"):
        d2l_runtime.Session(model)
    model.close()
    session.close()
    assert "closed" in repr(model)


def test_session_close_is_idempotent_and_leaves_model_usable(tiny):
    session = tiny.session()
    session.close()
    session.close()
    with pytest.raises(ValueError, match="closed"):
        session.run({"x": np.zeros((1, 4), np.float32)})
    np.testing.assert_array_equal(tiny.run({"x": np.array([[1, 2, 3, 4]], np.float32)})[0], [[1, 0, 0]])


def test_context_managers_close():
    with d2l_runtime.Model(VALID_TINY) as model:
        with model.session() as session:
            session.run({"x": np.zeros((1, 4), np.float32)})
        assert session.closed and not model.closed
    assert model.closed


def test_garbage_collection_releases():
    for _ in range(50):
        model = d2l_runtime.Model(LENET)
        s = model.session()
        s.run({"x": np.zeros((2, 1, 28, 28), np.float32)})
        model.run({"x": np.zeros((1, 1, 28, 28), np.float32)})
        # Drop the model first, then the session; and a reference cycle.
        del model
        del s
        cyc = d2l_runtime.Model(VALID_TINY)
        cyc.self_ref = cyc
        cyc_s = cyc.session()
        cyc_s.self_ref = cyc_s
        del cyc, cyc_s
    gc.collect()


def test_dropping_the_last_reference_releases_without_gc():
    import weakref

    gc.disable()
    try:
        model = d2l_runtime.Model(VALID_TINY)
        model.run({"x": np.zeros((1, 4), np.float32)})  # creates the model's own session
        model.set_threads(2)
        handle = model._handle
        ref = weakref.ref(model)
        del model
        assert ref() is None, "the model is kept alive by a reference cycle"
        assert handle.ptr is None
    finally:
        gc.enable()


def test_user_session_keeps_model_alive():
    model = d2l_runtime.Model(VALID_TINY)
    session = model.session()
    handle = model._handle
    del model
    gc.collect()
    assert handle.ptr is not None
    np.testing.assert_array_equal(session.run({"x": np.array([[1, 2, 3, 4]], np.float32)})[0], [[1, 0, 0]])
    assert not session.model.closed
    session.model.close()
    assert session.closed and handle.ptr is None
