"""The reference fixtures of Tests/Fixtures/* (PyTorch outputs): every test_data_set_*
runs through Model.run within 1e-5, from the path and (single-file models) from bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import d2l_runtime
from d2l_runtime import _capi

from conftest import FIXTURES, REQUIRED_FIXTURES, fixture_dirs, load_pb

ATOL = 1e-5


def uses_external_data(folder: Path) -> bool:
    proto = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    return any(
        t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer
    )


def cases() -> list[tuple[Path, Path]]:
    return [(d, s) for d in fixture_dirs() for s in sorted(d.glob("test_data_set_*"))]


def case_id(case) -> str:
    return f"{case[0].name}/{case[1].name}"


def test_fixture_folders_present():
    names = [d.name for d in fixture_dirs()]
    for required in REQUIRED_FIXTURES:
        assert required in names, f"{FIXTURES / required} is missing"
    for d in fixture_dirs():
        assert list(d.glob("test_data_set_*")), f"{d} has no test_data_set_*"
    assert uses_external_data(FIXTURES / "mlp-opset20") and uses_external_data(FIXTURES / "lenet-opset20")
    assert not uses_external_data(FIXTURES / "mlp-opset17") and not uses_external_data(FIXTURES / "lenet-opset17")


def check_data_set(model: d2l_runtime.Model, data_set: Path) -> None:
    inputs = [load_pb(p) for p in sorted(data_set.glob("input_*.pb"))]
    expected = [load_pb(p) for p in sorted(data_set.glob("output_*.pb"))]
    assert inputs and expected
    outs = model.run(inputs)
    assert len(outs) == len(expected)
    for got, want in zip(outs, expected):
        assert got.dtype == want.dtype
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    # By name as well.
    named = model.run(dict(zip(model.input_names, inputs)))
    for got, want in zip(named, outs):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", cases(), ids=case_id)
def test_fixture_from_path(case):
    folder, data_set = case
    with d2l_runtime.Model(folder / "model.onnx") as model:
        check_data_set(model, data_set)


@pytest.mark.parametrize("case", [c for c in cases() if not uses_external_data(c[0])], ids=case_id)
def test_fixture_from_bytes(case):
    folder, data_set = case
    with d2l_runtime.Model.from_bytes((folder / "model.onnx").read_bytes()) as model:
        check_data_set(model, data_set)


@pytest.mark.parametrize("folder", [d for d in fixture_dirs() if not uses_external_data(d)], ids=lambda d: d.name)
def test_from_bytes_accepts_bytearray_and_memoryview(folder):
    data = (folder / "model.onnx").read_bytes()
    data_set = sorted(folder.glob("test_data_set_*"))[0]
    for buffer in (bytearray(data), memoryview(data), memoryview(bytearray(data))):
        with d2l_runtime.Model.from_bytes(buffer) as model:
            check_data_set(model, data_set)


@pytest.mark.parametrize("folder", [d for d in fixture_dirs() if uses_external_data(d)], ids=lambda d: d.name)
def test_from_bytes_refuses_external_data(folder):
    with pytest.raises(d2l_runtime.D2LError) as info:
        d2l_runtime.Model.from_bytes((folder / "model.onnx").read_bytes())
    err = info.value
    assert err.code == _capi.D2L_ERR_INVALID_MODEL
    assert err.status == "D2L_ERR_INVALID_MODEL"
    assert "external" in err.message.lower()


@pytest.mark.parametrize("folder", fixture_dirs(), ids=lambda d: d.name)
def test_description_matches_onnx(folder):
    proto = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    initializers = {t.name for t in proto.graph.initializer}
    graph_inputs = [i for i in proto.graph.input if i.name not in initializers]

    def shape(value_info):
        return tuple(
            d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim
        )

    def dtype(value_info):
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(value_info.type.tensor_type.elem_type))

    with d2l_runtime.Model(folder / "model.onnx") as model:
        assert model.input_names == tuple(i.name for i in graph_inputs)
        assert model.output_names == tuple(o.name for o in proto.graph.output)
        assert model.input_shapes == tuple(shape(i) for i in graph_inputs)
        assert model.output_shapes == tuple(shape(o) for o in proto.graph.output)
        assert model.input_dtypes == tuple(dtype(i) for i in graph_inputs)
        assert model.output_dtypes == tuple(dtype(o) for o in proto.graph.output)
        assert model.opset == next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
        assert list(model.metadata.items()) == [(p.key, p.value) for p in proto.metadata_props]
        # PyTorch exports (tools/fixtures/make-fixtures) have a symbolic batch; the onnx-built
        # recurrent-* and int64-extremes fixtures have fixed shapes.
        if not folder.name.startswith(("recurrent-", "int64-")):
            assert None in model.input_shapes[0]
