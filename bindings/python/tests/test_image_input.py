"""Session.set_image (d2l_session_set_image_u8) against Tests/Fixtures/image-input
(tools/fixtures/make-image-input-fixtures: the input numpy computes by docs/FORMAT.md's
d2l.input rule, checked there against PIL's resize): identity models, so the output is the
prepared input. Then the layouts and kinds of images Model.classify and Model.detect take,
and the errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import TensorProto, helper

import d2l_runtime

from conftest import FIXTURES, LENET, load_pb, make_model

IMAGE_INPUT = FIXTURES / "image-input"
MANIFEST = json.loads((IMAGE_INPUT / "manifest.json").read_text())


def identity(dims, metadata=None, dtype=TensorProto.FLOAT) -> bytes:
    return make_model([helper.make_tensor_value_info("x", dtype, dims)], [helper.make_tensor_value_info("y", dtype, dims)],
                      [helper.make_node("Identity", ["x"], ["y"])], metadata)


def test_manifest_lists_the_fixtures():
    names = {case["name"] for case in MANIFEST}
    assert len(names) >= 7
    assert names == {p.name[: -len(".onnx")] for p in IMAGE_INPUT.glob("*.onnx")}


@pytest.mark.parametrize("case", MANIFEST, ids=lambda c: c["name"])
def test_set_image_matches_the_reference(case):
    pixels = load_pb(IMAGE_INPUT / f"{case['name']}.pixels.pb")
    expected = load_pb(IMAGE_INPUT / f"{case['name']}.expected.pb")
    assert pixels.dtype == np.uint8 and list(pixels.shape) == case["image"]
    with d2l_runtime.Model(IMAGE_INPUT / f"{case['name']}.onnx") as m:
        s = m.session()
        s.set_image(0, pixels)
        (y,) = s.run()
        assert y.shape == expected.shape
        np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6)
        # The same pixels in the other layouts and as 0-255 floats give the same input.
        forms = [(np.transpose(pixels, (2, 0, 1)), "CHW"), (pixels.astype(np.float32), "HWC"),
                 (pixels.astype(np.float64) + 0.3, "HWC")]
        if pixels.shape[2] == 1:
            forms.append((pixels[:, :, 0], None))
        for image, layout in forms:
            s.set_image("x", np.minimum(image, 255), layout=layout)
            np.testing.assert_array_equal(s.run()[0], y)


def test_classify_uses_set_image():
    """classify's raw-pixel path is set_image: the ankle boot sample (56x56 RGB) through
    lenet-fashion, as its fixture's prepared input gives it."""
    pixels = load_pb(IMAGE_INPUT / "ankle-boot-rgb-56.pixels.pb")
    prepared = load_pb(IMAGE_INPUT / "ankle-boot-rgb-56.expected.pb")
    with d2l_runtime.Model(LENET) as m:
        raw = m.classify(pixels, top_k=10)
        assert raw == m.classify(prepared, top_k=10)
        assert raw == m.classify(prepared[0], top_k=10)  # without the batch
        assert raw[0][0] == "ankle boot"
        rgba = np.concatenate([pixels, np.zeros_like(pixels[:, :, :1])], axis=2)
        assert m.classify(rgba, top_k=10) == raw  # alpha is dropped


def test_set_image_keeps_the_previous_input_on_error():
    with d2l_runtime.Model.from_bytes(identity(["n", 1, 2, 2])) as m:
        s = m.session()
        s.set_image(0, np.array([[0, 51], [102, 255]], np.uint8))
        (before,) = s.run()
        np.testing.assert_allclose(before, [[[[0, 0.2], [0.4, 1]]]], atol=1e-7)  # p / 255 without d2l.input
        with pytest.raises(ValueError, match="channel axis"):
            s.set_image(0, np.zeros((2, 2, 2), np.uint8))
        with pytest.raises(ValueError, match="0-255"):
            s.set_image(0, np.full((2, 2), -1.0))
        with pytest.raises(TypeError, match="uint8"):
            s.set_image(0, np.zeros((2, 2), np.int16))
        with pytest.raises(ValueError, match="empty"):
            s.set_image(0, np.zeros((0, 2), np.uint8))
        with pytest.raises(d2l_runtime.D2LError, match="out of range") as info:
            s.set_image(1, np.zeros((2, 2), np.uint8))
        assert info.value.status == "D2L_ERR_INVALID_ARGUMENT"
        with pytest.raises(KeyError, match="no input 'z'"):
            s.set_image("z", np.zeros((2, 2), np.uint8))
        np.testing.assert_array_equal(s.run()[0], before)


@pytest.mark.parametrize("dims, dtype, status, message", [
    (["n", 1, 2, 2], TensorProto.INT64, "D2L_ERR_INVALID_ARGUMENT", "float32"),
    (["n", 4], TensorProto.FLOAT, "D2L_ERR_INVALID_ARGUMENT", r"\[N, C, H, W\]"),
    ([2, 1, 2, 2], TensorProto.FLOAT, "D2L_ERR_SHAPE", "batch of 2"),
    (["n", 2, 2, 2], TensorProto.FLOAT, None, None),  # a gray image fills two channels
])
def test_set_image_needs_an_image_input(dims, dtype, status, message):
    with d2l_runtime.Model.from_bytes(identity(dims, dtype=dtype)) as m:
        s = m.session()
        if status is None:
            s.set_image(0, np.array([[1, 2], [3, 4]], np.uint8))
            (y,) = s.run()
            np.testing.assert_array_equal(y[0, 0], y[0, 1])
            with pytest.raises(d2l_runtime.D2LError, match="2 channels"):
                s.set_image(0, np.zeros((2, 2, 3), np.uint8))
            return
        with pytest.raises(d2l_runtime.D2LError, match=message) as info:
            s.set_image(0, np.zeros((2, 2), np.uint8))
        assert info.value.status == status


@pytest.mark.parametrize("text, message", [
    ("[0, 1]", "not a JSON object"),
    ('{"range": [0]}', '"range"'),
    ('{"std": [0]}', '"std"'),
    ('{"size": [2, 0]}', '"size"'),
    ('{"layout": "NHWC"}', "NHWC"),
    ('{"range": [0, 1]} x', "text after"),
])
def test_malformed_d2l_input_is_the_models_error(text, message):
    with d2l_runtime.Model.from_bytes(identity(["n", 1, 2, 2], {"d2l.input": text})) as m:
        with pytest.raises(d2l_runtime.D2LError, match=message) as info:
            m.session().set_image(0, np.zeros((2, 2), np.uint8))
        assert info.value.status == "D2L_ERR_INVALID_MODEL"


def test_layouts():
    """HxWxC (last axis 1, 3 or 4, first not), CxHxW (the opposite), HxW; ambiguous shapes
    need layout=."""
    rgb = np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3) * 5
    spec = {"range": [0, 255]}
    with d2l_runtime.Model.from_bytes(identity(["n", 3, "h", "w"], {"d2l.input": json.dumps(spec)})) as m:
        s = m.session()
        s.set_image(0, rgb)
        (y,) = s.run()
        np.testing.assert_array_equal(y[0], np.transpose(rgb, (2, 0, 1)))
        s.set_image(0, np.transpose(rgb, (2, 0, 1)))
        np.testing.assert_array_equal(s.run()[0], y)
        square = rgb[:, :3]  # 2x3x3: HxWxC by the rule (first axis 2 is no channel count)
        s.set_image(0, square)
        np.testing.assert_array_equal(s.run()[0][0], np.transpose(square, (2, 0, 1)))
        cube = np.arange(27, dtype=np.uint8).reshape(3, 3, 3)
        with pytest.raises(ValueError, match="ambiguous"):
            s.set_image(0, cube)
        s.set_image(0, cube, layout="CHW")
        np.testing.assert_array_equal(s.run()[0][0], cube)
        s.set_image(0, cube, layout="HWC")
        np.testing.assert_array_equal(s.run()[0][0], np.transpose(cube, (2, 0, 1)))
        with pytest.raises(ValueError, match="layout"):
            s.set_image(0, cube, layout="hwc")


def fake_detector() -> bytes:
    """A 'detector' whose outputs are constants (two anchors, one class besides the
    background): what Model.detect and detect.c do around the model, checked by hand."""
    anchors = helper.make_tensor("a", TensorProto.FLOAT, [1, 2, 4], [0.1, 0.2, 0.5, 0.6, 0.5, 0.5, 0.9, 0.9])
    probs = helper.make_tensor("p", TensorProto.FLOAT, [1, 2, 2], [0.05, 0.9, 0.95, 0.1])
    offsets = helper.make_tensor("o", TensorProto.FLOAT, [1, 8], [0.0] * 8)
    nodes = [helper.make_node("Constant", [], ["anchors"], value=anchors),
             helper.make_node("Constant", [], ["class_probs"], value=probs),
             helper.make_node("Constant", [], ["offsets"], value=offsets),
             helper.make_node("ReduceMean", ["x"], ["mean"], keepdims=0)]
    spec = {"layout": "NCHW", "range": [0, 1], "mean": [0, 0, 0], "std": [1, 1, 1], "size": [8, 8]}
    return make_model(
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("anchors", TensorProto.FLOAT, [1, 2, 4]),
         helper.make_tensor_value_info("class_probs", TensorProto.FLOAT, [1, 2, 2]),
         helper.make_tensor_value_info("offsets", TensorProto.FLOAT, [1, 8]),
         helper.make_tensor_value_info("mean", TensorProto.FLOAT, [])],
        nodes, {"d2l.task": "detection", "d2l.labels": '["banana"]', "d2l.input": json.dumps(spec)})


def test_detect_takes_images_of_any_size(tmp_path):
    """Model.detect resizes through set_image and gives boxes in pixels of the image it was
    given; detect.c (when built) prints the same."""
    data = fake_detector()
    image = (np.arange(16 * 20 * 3) % 251).astype(np.uint8).reshape(16, 20, 3)
    with d2l_runtime.Model.from_bytes(data) as m:
        found = m.detect(image, threshold=0.5)
        assert len(found) == 1
        label, confidence, box = found[0]
        assert label == "banana" and confidence == pytest.approx(0.95, abs=1e-6)
        np.testing.assert_allclose(box, (0.1 * 20, 0.2 * 16, 0.5 * 20, 0.6 * 16), atol=1e-5)
        small = m.detect(np.zeros((8, 8, 3), np.uint8), threshold=0.5)  # the model's own size
        np.testing.assert_allclose(small[0][2], (0.8, 1.6, 4.0, 4.8), atol=1e-5)
        assert m.detect(image.astype(np.float32), threshold=0.5) == found  # 0-255 floats
    detect_c = FIXTURES.parents[1] / "bindings" / "c" / "build" / "detect"
    if not detect_c.exists():
        pytest.skip("bindings/c/build/detect is not built (make -C bindings/c examples)")
    import subprocess

    from PIL import Image

    (tmp_path / "model.onnx").write_bytes(data)
    Image.fromarray(image).save(tmp_path / "image.png")
    out = subprocess.run([str(detect_c), str(tmp_path / "model.onnx"), str(tmp_path / "image.png"), "--threshold", "0.5"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "banana" and float(out[1]) == pytest.approx(0.95, abs=1e-4)
    np.testing.assert_allclose([float(v) for v in out[2:]], box, atol=0.06)
