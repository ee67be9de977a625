"""Model.classify: the trained LeNet on the sample images, and the pixel preparation
(libd2l's d2l_session_set_image_u8; its exact values: test_image_input.py), softmax, top-k
order and labels on small hand-made models."""

from __future__ import annotations

import json
import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import d2l_runtime

from conftest import LENET, read_pgm, sample_files, sample_label, make_model

FASHION = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]


def softmax64(x):
    x = np.asarray(x, np.float64).reshape(-1)
    e = np.exp(x - x.max())
    return e / e.sum()


def test_samples_present():
    assert len(sample_files()) >= 3


def test_lenet_metadata(lenet):
    md = lenet.metadata
    assert json.loads(md["d2l.labels"]) == FASHION
    assert lenet.labels == FASHION
    assert json.loads(md["d2l.input"]) == {"layout": "NCHW", "range": [0, 1], "mean": [0.0], "std": [1.0]}
    assert md["d2l.task"] == "classification"
    assert list(md) == [p.key for p in onnx.load(str(LENET)).metadata_props]
    md["d2l.task"] = "changed"
    assert lenet.metadata["d2l.task"] == "classification"  # a copy


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_lenet_classifies_sample(lenet, path):
    pixels = read_pgm(path)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    top = lenet.classify(pixels, top_k=5)
    assert len(top) == 5
    label, p = top[0]
    assert label.replace(" ", "-") == sample_label(path), top
    probs = [q for _, q in top]
    assert all(isinstance(q, float) and 0.0 <= q <= 1.0 for q in probs)
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) <= 1.0 + 1e-12
    assert len({lab for lab, _ in top}) == 5
    everything = lenet.classify(pixels, top_k=10)
    assert everything[:5] == top
    assert sum(q for _, q in everything) == pytest.approx(1.0, abs=1e-12)
    assert sorted(lab for lab, _ in everything) == sorted(FASHION)


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_classify_input_forms_agree(lenet, path):
    pixels = read_pgm(path)
    expected = lenet.classify(pixels, top_k=10)
    prepared = pixels.astype(np.float32) / 255.0
    (logits,) = lenet.run({"x": prepared[None, None]})
    probs = softmax64(logits)
    order = np.argsort(-probs, kind="stable")
    manual = [(FASHION[i], float(probs[i])) for i in order]
    for got in (
        lenet.classify(pixels[None], top_k=10),  # CxHxW
        lenet.classify(prepared[None], top_k=10),  # prepared, no batch
        lenet.classify(prepared[None, None], top_k=10),  # prepared, with batch
        lenet.classify(prepared[None, None].astype(np.float64), top_k=10),
    ):
        assert [lab for lab, _ in got] == [lab for lab, _ in expected]
        np.testing.assert_allclose([q for _, q in got], [q for _, q in expected], rtol=0, atol=1e-6)
    assert [lab for lab, _ in expected] == [lab for lab, _ in manual]
    np.testing.assert_allclose([q for _, q in expected], [q for _, q in manual], rtol=0, atol=1e-6)


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_classify_takes_colour_images_as_pil_gives_them(lenet, path):
    """HxWx3 and HxWx4 uint8 (PIL's and imageio's layout) and 3xHxW: a gray image in
    every channel gives the grayscale result exactly; a tinted one keeps the label."""
    pixels = read_pgm(path)
    expected = lenet.classify(pixels, top_k=10)
    rgb = np.stack([pixels] * 3, axis=-1)
    rgba = np.concatenate([rgb, np.full_like(pixels, 255)[..., None]], axis=-1)
    for image in (rgb, rgba, np.transpose(rgb, (2, 0, 1)), pixels[..., None][:, :, [0]].reshape(28, 28)):
        assert lenet.classify(image, top_k=10) == expected
    tinted = np.stack([np.minimum(255, pixels * 1.15), pixels * 0.95, pixels * 0.8], axis=-1).astype(np.uint8)
    assert lenet.classify(tinted)[0][0] == expected[0][0]
    # PIL's L: (19595 R + 38470 G + 7471 B + 2**15) >> 16, through the library's input.
    r, g, b = (tinted[..., c].astype(np.uint32) for c in range(3))
    gray = ((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16).astype(np.uint8)
    assert lenet.classify(tinted, top_k=10) == lenet.classify(gray, top_k=10)


def test_classify_top_k_bounds(lenet):
    pixels = read_pgm(sample_files()[0])
    assert len(lenet.classify(pixels, top_k=1)) == 1
    assert len(lenet.classify(pixels)) == 5
    assert len(lenet.classify(pixels, top_k=100)) == 10
    with pytest.raises(ValueError):
        lenet.classify(pixels, top_k=0)
    size_max = d2l_runtime._model.SIZE_MAX
    assert len(lenet.classify(pixels, top_k=size_max)) == 10  # size_t's largest: capped
    for k in (2**64, 2**64 + 3, size_max + 1, -1):  # 2**64 + 3 would wrap to 3
        with pytest.raises(ValueError, match=re.escape(f"top_k must be in [1, {d2l_runtime._model._bound(size_max)}]")):
            lenet.classify(pixels, top_k=k)
    for k in (3.5, 3.0, "3", None):
        with pytest.raises(TypeError, match="top_k must be an integer"):
            lenet.classify(pixels, top_k=k)
    assert len(lenet.classify(pixels, top_k=np.int64(3))) == 3


def test_classify_rejects_bad_images(lenet):
    with pytest.raises(ValueError, match="batch"):
        lenet.classify(np.zeros((2, 1, 28, 28), np.float32))
    with pytest.raises(TypeError, match="uint8"):
        lenet.classify(np.zeros((28, 28), np.int64))
    with pytest.raises(ValueError):
        lenet.classify(np.zeros((28,), np.uint8))
    with pytest.raises(ValueError):
        lenet.classify(np.zeros((1, 1, 1, 28, 28), np.float32))
    with pytest.raises(ValueError, match="does not fit the model's input shape"):
        lenet.classify(np.zeros((1, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match="channel axis"):
        lenet.classify(np.zeros((2, 28, 2), np.uint8))
    with pytest.raises(ValueError, match="ambiguous"):
        lenet.classify(np.zeros((3, 28, 3), np.uint8))
    with pytest.raises(ValueError, match="0-255 scale"):
        lenet.classify(np.full((28, 28, 1), 256.0))  # a raw float image (not the input's shape)
    with pytest.raises(ValueError, match="finite"):
        lenet.classify(np.full((28, 28, 1), np.nan, np.float32))
    with pytest.raises(ValueError, match="layout"):
        lenet.classify(np.zeros((28, 28), np.uint8), layout="NHWC")


def test_classify_resizes_to_the_model(lenet):
    """An image of another size is resized to the input's fixed 28x28 by libd2l
    (d2l_session_set_image_u8; its exact values: test_image_input.py)."""
    pixels = read_pgm(sample_files()[0])
    assert lenet.classify(np.zeros((14, 14), np.uint8), top_k=10) == lenet.classify(np.zeros((28, 28), np.uint8), top_k=10)
    big = np.kron(pixels, np.ones((3, 3), np.uint8))  # 84x84, each pixel three times
    assert big.shape == (84, 84)
    assert lenet.classify(big)[0][0] == lenet.classify(pixels)[0][0]


def with_metadata(path, **entries) -> bytes:
    proto = onnx.load(str(path))
    props = {p.key: p.value for p in proto.metadata_props}
    props.update(entries)
    props = {k: v for k, v in props.items() if v is not None}
    del proto.metadata_props[:]
    helper.set_model_props(proto, props)
    return proto.SerializeToString()


def test_classify_with_d2l_input_size():
    """d2l.input's "size" equal to the input's: images of other sizes are resized to it; a
    "size" that differs from the fixed input is the model's error."""
    spec = {"layout": "NCHW", "range": [0, 1], "mean": [0.0], "std": [1.0], "size": [28, 28]}
    with d2l_runtime.Model.from_bytes(with_metadata(LENET, **{"d2l.input": json.dumps(spec)})) as m:
        pixels = read_pgm(sample_files()[0])
        assert m.classify(pixels)[0][0] == sample_label(sample_files()[0]).replace("-", " ")
        assert m.classify(np.zeros((32, 32), np.uint8)) == m.classify(np.zeros((28, 28), np.uint8))
        assert m.classify(np.zeros((1, 28, 27), np.uint8)) == m.classify(np.zeros((28, 28), np.uint8))
    spec["size"] = [32, 32]
    with d2l_runtime.Model.from_bytes(with_metadata(LENET, **{"d2l.input": json.dumps(spec)})) as m:
        with pytest.raises(d2l_runtime.D2LError, match="differs from the fixed height and width") as info:
            m.classify(np.zeros((32, 32), np.uint8))
        assert info.value.status == "D2L_ERR_INVALID_MODEL"


def test_classify_without_labels_reports_indices():
    with d2l_runtime.Model.from_bytes(with_metadata(LENET, **{"d2l.labels": None})) as m:
        assert "d2l.labels" not in m.metadata and m.labels is None
        pixels = read_pgm(sample_files()[0])
        top = m.classify(pixels, top_k=10)
        assert sorted(lab for lab, _ in top) == sorted(str(i) for i in range(10))
        assert FASHION[int(top[0][0])].replace(" ", "-") == sample_label(sample_files()[0])


def test_classify_without_d2l_input_scales_pixels_to_0_1():
    """Without d2l.input raw pixels become p / 255 (range [0, 1], mean 0, std 1), as the C
    example always did."""
    with d2l_runtime.Model.from_bytes(with_metadata(LENET, **{"d2l.input": None})) as m:
        pixels = read_pgm(sample_files()[0])
        raw = m.classify(pixels, top_k=10)
        prepared = m.classify(pixels.astype(np.float32)[None] / 255, top_k=10)
        assert [lab for lab, _ in raw] == [lab for lab, _ in prepared]
        np.testing.assert_allclose([p for _, p in raw], [p for _, p in prepared], rtol=0, atol=1e-6)


def flatten_model(channels, height, width, metadata) -> bytes:
    """x float[n, C, H, W] -> Flatten -> y [n, C*H*W]: output 0 is the prepared input."""
    return make_model(
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", channels, height, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", channels * height * width])],
        [helper.make_node("Flatten", ["x"], ["y"], axis=1)],
        metadata,
    )


def test_pixel_preparation_follows_d2l_input():
    spec = {"layout": "NCHW", "range": [-1, 1], "mean": [0.1, 0.2, 0.3], "std": [0.5, 0.25, 2.0]}
    pixels = np.array([[[0, 255]], [[51, 102]], [[200, 17]]], dtype=np.uint8)  # C=3, H=1, W=2
    with d2l_runtime.Model.from_bytes(flatten_model(3, 1, 2, {"d2l.input": json.dumps(spec)})) as m:
        x = pixels.astype(np.float64) / 255.0 * 2.0 - 1.0
        x = (x - np.array(spec["mean"])[:, None, None]) / np.array(spec["std"])[:, None, None]
        (y,) = m.run({"x": x[None].astype(np.float32)})
        probs = softmax64(y)
        top = m.classify(pixels, top_k=6)
        order = np.argsort(-probs, kind="stable")
        assert [lab for lab, _ in top] == [str(i) for i in order]
        np.testing.assert_allclose([p for _, p in top], probs[order], rtol=0, atol=1e-12)
        # A grayscale image is repeated in the three channels, as the C example does.
        gray = np.array([[40, 220]], dtype=np.uint8)
        assert m.classify(gray, top_k=6) == m.classify(np.stack([gray] * 3), top_k=6)
        with pytest.raises(ValueError, match="channel axis"):
            m.classify(np.zeros((2, 1, 2), np.uint8))  # two channels: no image
        # A float image on the 0-255 scale (not the input's shape) is raw pixels too.
        hwc = np.transpose(pixels, (1, 2, 0))
        assert m.classify(np.minimum(hwc.astype(np.float64) + 0.4, 255), top_k=6, layout="HWC") == top  # rounded
    spec["mean"] = [0.1, 0.2]
    with d2l_runtime.Model.from_bytes(flatten_model(3, 1, 2, {"d2l.input": json.dumps(spec)})) as m:
        with pytest.raises(d2l_runtime.D2LError, match='2 "mean" values for a 3-channel input') as info:
            m.classify(pixels)  # mean has two values; the input three channels
        assert info.value.status == "D2L_ERR_INVALID_MODEL"


def test_single_value_mean_std_broadcast_and_ties():
    spec = {"layout": "NCHW", "range": [0, 1], "mean": [0.5], "std": [0.5]}
    labels = ["a", "b", "c", "d", "e", "f"]
    md = {"d2l.input": json.dumps(spec), "d2l.labels": json.dumps(labels)}
    with d2l_runtime.Model.from_bytes(flatten_model(3, 1, 2, md)) as m:
        # Equal pixels give equal logits: ties keep the lower index first.
        top = m.classify(np.full((3, 1, 2), 7, np.uint8), top_k=6)
        assert [lab for lab, _ in top] == labels
        for _, p in top:
            assert p == pytest.approx(1 / 6, abs=1e-12)
        pixels = np.array([[[10, 255]], [[255, 0]], [[10, 10]]], dtype=np.uint8)
        top = m.classify(pixels, top_k=3)
        assert [lab for lab, _ in top] == ["b", "c", "a"]


def test_unsupported_layout():
    spec = {"layout": "NHWC", "range": [0, 1], "mean": [0.0], "std": [1.0]}
    with d2l_runtime.Model.from_bytes(flatten_model(1, 2, 2, {"d2l.input": json.dumps(spec)})) as m:
        with pytest.raises(d2l_runtime.D2LError, match="NHWC") as info:
            m.classify(np.zeros((2, 2), np.uint8))
        assert info.value.status == "D2L_ERR_INVALID_MODEL"


def test_classify_needs_one_input():
    two = make_model(
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [helper.make_node("Add", ["a", "b"], ["y"])],
    )
    with d2l_runtime.Model.from_bytes(two) as m:
        assert m.input_names == ("a", "b")
        (y,) = m.run([np.ones((1, 3)), np.full((1, 3), 2.0)])
        np.testing.assert_array_equal(y, [[3, 3, 3]])
        (y,) = m.run({"b": np.ones((1, 3)), "a": np.zeros((1, 3))})
        np.testing.assert_array_equal(y, [[1, 1, 1]])
        with pytest.raises(ValueError, match="one input"):
            m.classify(np.zeros((1, 3), np.float32))
