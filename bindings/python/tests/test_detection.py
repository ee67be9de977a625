"""d2l_runtime's detection helpers against the book's PyTorch functions
(Tests/Fixtures/toolkit/detection/detection.json, made by tools/fixtures/make-detection-fixtures)."""

import json
from pathlib import Path

import numpy as np
import pytest

import d2l_runtime

FIXTURES = json.loads((Path(__file__).resolve().parents[3] / "Tests/Fixtures/toolkit/detection/detection.json").read_text())


def floats(values):
    return np.array([float("nan") if v == "nan" else v for v in values], dtype=np.float32)


@pytest.mark.parametrize("case", FIXTURES["box_iou"], ids=lambda c: c["name"])
def test_box_iou(case):
    got = d2l_runtime.box_iou(floats(case["boxes1"]).reshape(-1, 4), floats(case["boxes2"]).reshape(-1, 4))
    want = floats(case["iou"]).reshape(case["count1"], case["count2"])
    # The book divides 0 by 0 for two zero-area boxes (NaN); libd2l gives 0.
    want = np.where(np.isnan(want), 0, want)
    np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("case", FIXTURES["multibox_prior"], ids=lambda c: c["name"])
def test_multibox_prior(case):
    got = d2l_runtime.multibox_prior(case["height"], case["width"], case["sizes"], case["ratios"])
    assert got.shape == (case["anchor_count"], 4)
    if "anchors" in case:
        np.testing.assert_allclose(got.reshape(-1), floats(case["anchors"]), atol=1e-6)
    else:
        rows = np.array(case["sample"]["indices"])
        np.testing.assert_allclose(got[rows].reshape(-1), floats(case["sample"]["values"]), atol=1e-6)


@pytest.mark.parametrize("case", FIXTURES["nms"], ids=lambda c: c["name"])
def test_nms(case):
    keep = d2l_runtime.nms(floats(case["boxes"]).reshape(-1, 4), floats(case["scores"]), case["iou_threshold"])
    assert keep.tolist() == case["keep"]


@pytest.mark.parametrize("case", FIXTURES["multibox_detection"], ids=lambda c: c["name"])
def test_multibox_detection(case):
    b, c, a = case["batch"], case["classes"], case["anchor_count"]
    got = d2l_runtime.multibox_detection(
        floats(case["cls_probs"]).reshape(b, c, a), floats(case["offsets"]).reshape(b, a * 4),
        floats(case["anchors"]).reshape(1, a, 4), case["nms_threshold"], case["pos_threshold"])
    np.testing.assert_allclose(got, floats(case["output"]).reshape(b, a, 6), atol=2e-6)


def test_errors_are_d2l_errors_or_value_errors():
    with pytest.raises(d2l_runtime.D2LError, match="boxes1"):
        d2l_runtime.box_iou([[0, 0, np.nan, 1]], [[0, 0, 1, 1]])
    with pytest.raises(d2l_runtime.D2LError, match="iou_threshold"):
        d2l_runtime.nms([[0, 0, 1, 1]], [0.5], 2.0)
    with pytest.raises(d2l_runtime.D2LError, match="ratios"):
        d2l_runtime.multibox_prior(2, 2, [0.5], [-1])
    with pytest.raises(ValueError, match=r"\[count, 4\]"):
        d2l_runtime.box_iou(np.zeros((2, 3)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="scores"):
        d2l_runtime.nms(np.zeros((2, 4)), [0.1], 0.5)
    with pytest.raises(ValueError, match="classes >= 2"):
        d2l_runtime.multibox_detection(np.zeros((1, 1, 3)), np.zeros(12), np.zeros((3, 4)))
