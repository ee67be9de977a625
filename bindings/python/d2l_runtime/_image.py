"""Images for Model.classify and Model.detect: the layouts raw pixels come in, and the
H x W x C uint8 bytes that d2l_session_set_image_u8 takes (which does the rest: channel
conversion, resizing and normalisation, as the model's d2l.input says)."""

from __future__ import annotations

import numpy as np

#: The channel counts an image may have: gray, RGB, RGBA (alpha is dropped by libd2l).
CHANNELS = (1, 3, 4)

LAYOUTS = (None, "HWC", "CHW")


def float_pixels(image: np.ndarray) -> np.ndarray:
    """A float image on the 0-255 scale as uint8: rounded to the nearest level (halves
    up). ValueError when a value is not finite or outside [0, 255]."""
    if image.size and not np.isfinite(image).all():
        raise ValueError("a raw float image must hold finite pixel values (0-255)")
    lo, hi = (float(image.min()), float(image.max())) if image.size else (0.0, 0.0)
    if lo < 0 or hi > 255:
        raise ValueError(
            f"a float image that is not a prepared input (shape {image.shape}) is read as raw pixels on the "
            f"0-255 scale, but its values span [{lo:g}, {hi:g}]; scale it to 0-255, or pass the prepared input"
        )
    return np.floor(image.astype(np.float64) + 0.5).astype(np.uint8)


def pixels_hwc(image: np.ndarray, layout: str | None = None) -> np.ndarray:
    """Raw pixels (uint8, or float on the 0-255 scale) as a C-contiguous H x W x C uint8
    array, C in (1, 3, 4).

    HxW is grayscale. A 3-D array is HxWxC when its last axis has 1, 3 or 4 entries and its
    first has not (what PIL and imageio give), CxHxW when its first axis has and its last
    has not; when both could be channels (a 3x5x3 array) the layout is ambiguous and
    `layout` ("HWC" or "CHW") must say which it is (ValueError otherwise)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be None, 'HWC' or 'CHW', not {layout!r}")
    a = float_pixels(image) if image.dtype.kind == "f" else image
    if a.dtype != np.uint8:
        raise TypeError(f"raw pixels must be uint8 (0-255) or float on the 0-255 scale, not {a.dtype}")
    if a.ndim == 2 and layout is None:
        a = a[:, :, None]
    elif a.ndim == 3:
        if layout is None:
            first, last = a.shape[0] in CHANNELS, a.shape[2] in CHANNELS
            if first and last:
                raise ValueError(
                    f"image shape {a.shape} is ambiguous: both HxWxC and CxHxW fit; pass layout='HWC' or layout='CHW'"
                )
            if not first and not last:
                raise ValueError(
                    f"image shape {a.shape} has no channel axis of 1, 3 or 4 entries (HxWxC or CxHxW) at either end"
                )
            layout = "CHW" if first else "HWC"
        if layout == "CHW":
            a = np.transpose(a, (1, 2, 0))
    else:
        raise ValueError(
            f"raw pixels must be HxW, HxWxC or CxHxW (C = 1, 3 or 4){'' if layout is None else f' for layout {layout!r}'}, "
            f"got shape {a.shape}"
        )
    if a.shape[2] not in CHANNELS:
        raise ValueError(f"an image has 1, 3 or 4 channels (gray, RGB, RGBA), this one {a.shape[2]} (shape {image.shape})")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"the image is empty (shape {image.shape})")
    return np.ascontiguousarray(a)
