"""The detection helpers of libd2l (C API version 3) on numpy arrays: the book's box_iou,
multibox_prior, nms and multibox_detection (Dive into Deep Learning 13.4).

Boxes are float32 corner format (x1, y1, x2, y2), shape [count, 4]. Inputs are converted
to C-contiguous float32 copies; shapes are checked here (ValueError), values by libd2l
(D2LError with status D2L_ERR_INVALID_ARGUMENT: NaN or infinite values, thresholds outside
[0, 1], sizes or ratios <= 0).
"""

from __future__ import annotations

import ctypes
from typing import Any, Sequence

import numpy as np

from . import _capi


def _boxes(name: str, value: Any) -> np.ndarray:
    a = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
    if a.ndim == 1 and a.size == 4:
        a = a.reshape(1, 4)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{name} must have shape [count, 4] (x1, y1, x2, y2), got {a.shape}")
    return a


def _floats(a: np.ndarray):
    return a.ctypes.data_as(_capi.float_p)


def box_iou(boxes1: Any, boxes2: Any) -> np.ndarray:
    """IoU of every pair, shape [len(boxes1), len(boxes2)] (float32); 0 for two
    zero-area boxes."""
    b1, b2 = _boxes("boxes1", boxes1), _boxes("boxes2", boxes2)
    out = np.empty((b1.shape[0], b2.shape[0]), dtype=np.float32)
    _capi.check(_capi.lib().d2l_box_iou(_floats(b1), b1.shape[0], _floats(b2), b2.shape[0], _floats(out)))
    return out


def multibox_prior(height: int, width: int, sizes: Sequence[float], ratios: Sequence[float]) -> np.ndarray:
    """The book's anchors for a height x width feature map: shape
    [height * width * (len(sizes) + len(ratios) - 1), 4], fractions of the image, pixel by
    pixel (row-major), the book's order within a pixel. (The book's function returns them
    with a leading batch axis of 1.)"""
    for name, v in (("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    s = np.ascontiguousarray(np.asarray(sizes, dtype=np.float32).reshape(-1))
    r = np.ascontiguousarray(np.asarray(ratios, dtype=np.float32).reshape(-1))
    if s.size == 0 or r.size == 0:
        raise ValueError("multibox_prior needs at least one size and one ratio")
    count = int(height) * int(width) * (s.size + r.size - 1)
    out = np.empty((count, 4), dtype=np.float32)
    _capi.check(_capi.lib().d2l_multibox_prior(int(height), int(width), _floats(s), s.size, _floats(r), r.size, _floats(out)))
    return out


def nms(boxes: Any, scores: Any, iou_threshold: float) -> np.ndarray:
    """Indices (int64) of the boxes non-maximum suppression keeps, by descending score
    (ties: lower index first)."""
    b = _boxes("boxes", boxes)
    s = np.ascontiguousarray(np.asarray(scores, dtype=np.float32).reshape(-1))
    if s.size != b.shape[0]:
        raise ValueError(f"nms: {b.shape[0]} boxes but {s.size} scores")
    keep = (ctypes.c_size_t * max(b.shape[0], 1))()
    kept = ctypes.c_size_t(0)
    _capi.check(_capi.lib().d2l_nms(_floats(b), _floats(s), b.shape[0], float(iou_threshold), keep, ctypes.byref(kept)))
    return np.array(keep[: kept.value], dtype=np.int64)


def multibox_detection(
    class_probs: Any, offsets: Any, anchors: Any, nms_threshold: float = 0.5, pos_threshold: float = 0.009999999
) -> np.ndarray:
    """The book's multibox_detection: rows (class, confidence, x1, y1, x2, y2) per anchor,
    kept boxes first by confidence, the others with class -1.

    Shapes as the book's: class_probs [batch, classes, anchors] (row 0 background) or
    [classes, anchors]; offsets [batch, anchors * 4] (or [anchors * 4] / [anchors, 4] for
    one image); anchors [1, anchors, 4] or [anchors, 4]. Returns [batch, anchors, 6], or
    [anchors, 6] for 2-D class_probs."""
    probs = np.asarray(class_probs, dtype=np.float32)
    single = probs.ndim == 2
    if single:
        probs = probs[np.newaxis]
    if probs.ndim != 3 or probs.shape[1] < 2:
        raise ValueError(f"class_probs must be [batch, classes >= 2, anchors], got {np.shape(class_probs)}")
    batch, classes, count = probs.shape
    a = np.asarray(anchors, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    a = _boxes("anchors", a)
    if a.shape[0] != count:
        raise ValueError(f"{count} anchors in class_probs but {a.shape[0]} in anchors")
    o = np.asarray(offsets, dtype=np.float32).reshape(batch, -1) if np.size(offsets) == batch * count * 4 else None
    if o is None:
        raise ValueError(f"offsets must hold batch x anchors x 4 = {batch * count * 4} values, got shape {np.shape(offsets)}")
    out = np.empty((batch, count, 6), dtype=np.float32)
    lib = _capi.lib()
    for i in range(batch):
        p_i, o_i, out_i = (np.ascontiguousarray(x) for x in (probs[i], o[i], out[i]))
        _capi.check(
            lib.d2l_multibox_detection(
                _floats(p_i), _floats(o_i), _floats(a), classes, count, float(nms_threshold), float(pos_threshold), _floats(out_i)
            )
        )
        out[i] = out_i
    return out[0] if single else out
