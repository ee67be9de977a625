"""NodeArg: a graph input or output as onnxruntime's InferenceSession.get_inputs() and
get_outputs() describe it, so that code written for onnxruntime reads d2l models alike."""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: numpy dtype -> onnxruntime's type string, for the element types libd2l runs.
ORT_TYPES: dict[np.dtype, str] = {
    np.dtype(np.float32): "tensor(float)",
    np.dtype(np.uint8): "tensor(uint8)",
    np.dtype(np.int32): "tensor(int32)",
    np.dtype(np.int64): "tensor(int64)",
    np.dtype(np.bool_): "tensor(bool)",
}


class NodeArg:
    """A graph input or output: ``name``; ``shape``, a list with an int for each fixed
    dimension, the ``dim_param`` name (a str, e.g. ``"batch"``) for a named symbolic one and
    None for one with neither (as onnxruntime's NodeArg.shape); ``type``, onnxruntime's
    type string (``"tensor(float)"``, ``"tensor(int64)"``, ``"tensor(uint8)"``,
    ``"tensor(int32)"``, ``"tensor(bool)"``)."""

    __slots__ = ("name", "shape", "type")

    def __init__(self, name: str, shape: Sequence[int | str | None], type: str):
        self.name = name
        self.shape = list(shape)
        self.type = type

    @classmethod
    def of(cls, name: str, dims: Sequence[int | None], dim_names: Sequence[str | None], dtype: np.dtype) -> "NodeArg":
        """From a declared shape (None: symbolic or unknown), its dimension names and dtype."""
        shape = [d if d is not None else n for d, n in zip(dims, dim_names)]
        return cls(name, shape, ORT_TYPES[np.dtype(dtype)])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NodeArg):
            return NotImplemented
        return (self.name, self.shape, self.type) == (other.name, other.shape, other.type)

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.shape), self.type))

    def __repr__(self) -> str:
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"
