"""d2l_runtime: Python bindings (ctypes) for libd2l, the d2l ONNX inference runtime.

    import d2l_runtime
    with d2l_runtime.Model("lenet.onnx") as model:
        outs = model.run({"x": images})          # list of numpy arrays
        logits, = model.run(["logits"], {"x": images})   # onnxruntime's form; get_inputs() too
        model.classify(pixels, top_k=5)          # [(label, probability), ...]
    d2l_runtime.nms(boxes, scores, 0.5)          # the book's detection helpers on numpy arrays

The library is found through $D2L_LIBRARY (a path to libd2l.so), else the libd2l.so bundled
in the package (the wheel's, tools/build-wheel), else, for a package imported from a d2l
checkout, its SwiftPM build folder (.build/release, then .build/debug), else the system's
library path (libd2l.so.0, as tools/install installs it). It is loaded on first use; its API
version is checked then.
"""

from ._capi import API_VERSION, D2LError, LibraryError
from ._detection import box_iou, multibox_detection, multibox_prior, nms
from ._model import Model, Session
from ._nodearg import NodeArg

__all__ = [
    "API_VERSION",
    "D2LError",
    "LibraryError",
    "Model",
    "NodeArg",
    "Session",
    "api_version",
    "box_iou",
    "kernel_isa",
    "library_path",
    "multibox_detection",
    "multibox_prior",
    "nms",
    "version",
]

__version__ = "0.1.0"


def api_version() -> int:
    """The API version of the loaded libd2l (d2l_api_version())."""
    from . import _capi

    return int(_capi.lib().d2l_api_version())


def version() -> str:
    """The version of the loaded libd2l (d2l_version_string()), e.g. "0.1.0"."""
    from . import _capi

    return _capi.lib().d2l_version_string().decode()


def kernel_isa() -> str:
    """The kernel variant the loaded libd2l runs (d2l_kernel_isa()): "avx512", "avx2",
    "sse2", "neon", "neon-vfpv3" (armv7 NEON without FMA) or "scalar". Set D2L_KERNEL_ISA before the library loads to cap it."""
    from . import _capi

    return _capi.lib().d2l_kernel_isa().decode()


def library_path():
    """The path of the loaded libd2l.so (loading it if needed)."""
    from . import _capi

    return _capi.library_path()
