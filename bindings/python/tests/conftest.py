"""Shared paths and helpers for the d2l_runtime tests."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

REPO = Path(__file__).resolve().parents[3]
HEADER = REPO / "include" / "d2l.h"
FIXTURES = REPO / "Tests" / "Fixtures"
BAD = FIXTURES / "bad"
MODELS = REPO / "models"
LENET = MODELS / "lenet-fashion.onnx"
SAMPLES = MODELS / "samples"
VALID_TINY = BAD / "valid-tiny.onnx"

#: Fixture folders the suite must find (new ones are picked up too).
REQUIRED_FIXTURES = ["mlp-opset17", "mlp-opset20", "lenet-opset17", "lenet-opset20"]


def fixture_dirs() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("*/model.onnx"))


def load_pb(path: Path) -> np.ndarray:
    """A TensorProto .pb file (the ONNX test-data format) as a numpy array."""
    return numpy_helper.to_array(onnx.load_tensor(str(path)))


def read_pgm(path: Path) -> np.ndarray:
    """A binary (P5) PGM with maxval <= 255, as a uint8 HxW array."""
    data = Path(path).read_bytes()
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        m = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, pos)
        assert m is not None, f"{path}: truncated PGM header"
        tokens.append(m.group(2))
        pos = m.end()
    magic, width, height, maxval = tokens[0], int(tokens[1]), int(tokens[2]), int(tokens[3])
    assert magic == b"P5", f"{path}: not a binary PGM (magic {magic!r})"
    assert 0 < maxval <= 255, f"{path}: maxval {maxval} is not 8-bit"
    pos += 1  # the single whitespace byte after maxval
    pixels = np.frombuffer(data, dtype=np.uint8, count=width * height, offset=pos)
    assert len(data) - pos == width * height, f"{path}: {len(data) - pos} pixel bytes, expected {width * height}"
    return pixels.reshape(height, width).copy()


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.pgm"))


def sample_label(path: Path) -> str:
    """The label part of `<index>-<label>.pgm` (spaces written as '-')."""
    return path.stem.split("-", 1)[1]


def make_model(inputs, outputs, nodes, metadata=None, initializers=(), opset=17) -> bytes:
    """A small ONNX model, checked by onnx.checker, serialized."""
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.fixture
def lenet():
    import d2l_runtime

    with d2l_runtime.Model(LENET) as model:
        yield model


@pytest.fixture
def tiny():
    import d2l_runtime

    with d2l_runtime.Model(VALID_TINY) as model:
        yield model


@pytest.fixture(scope="session")
def samples() -> np.ndarray:
    """The sample images as a float32 batch [N, 1, 28, 28] scaled to [0, 1]."""
    images = [read_pgm(p) for p in sample_files()]
    return (np.stack(images)[:, None].astype(np.float32) / 255.0).astype(np.float32)
