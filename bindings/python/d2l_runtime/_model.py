"""Model and Session: Python objects over d2l_model and d2l_session handles."""

from __future__ import annotations

import ctypes
import json
import os
import threading
import weakref
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _capi
from ._capi import D2LError

#: d2l_dtype code -> numpy dtype, and back.
DTYPES: dict[int, np.dtype] = {
    _capi.D2L_FLOAT32: np.dtype(np.float32),
    _capi.D2L_UINT8: np.dtype(np.uint8),
    _capi.D2L_INT32: np.dtype(np.int32),
    _capi.D2L_INT64: np.dtype(np.int64),
    _capi.D2L_BOOL: np.dtype(np.bool_),
}
CODES: dict[np.dtype, int] = {dt: code for code, dt in DTYPES.items()}


def _numpy_dtype(code: int) -> np.dtype:
    try:
        return DTYPES[code]
    except KeyError:
        raise D2LError(_capi.D2L_ERR_INTERNAL, "D2L_ERR_INTERNAL", f"libd2l returned unknown dtype code {code}") from None


def _prepare(array: Any, declared: np.dtype | None) -> tuple[np.ndarray, int]:
    """The C-contiguous array and d2l_dtype code to pass for `array`.

    The array is converted to the declared dtype only when that is safe (numpy's 'safe'
    casting, plus float64 -> float32 for float inputs). Otherwise it is passed with its
    own dtype, so that libd2l reports the mismatch.
    """
    a = np.asarray(array)
    if declared is not None and a.dtype != declared:
        if np.can_cast(a.dtype, declared, "safe") or (a.dtype.kind == "f" and declared.kind == "f"):
            a = a.astype(declared)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    code = CODES.get(a.dtype)
    if code is None:
        if a.dtype.kind == "f":
            # A float array for a non-float input (or an unknown index): present it as float32
            # so that libd2l names the mismatch.
            a = a.astype(np.float32)
            code = _capi.D2L_FLOAT32
        else:
            want = f"; the input takes {declared}" if declared is not None else ""
            raise TypeError(f"libd2l has no element type for numpy dtype {a.dtype}{want}")
    return np.ascontiguousarray(a), code


class _Handle:
    """A C pointer and the function that frees it; free() is idempotent."""

    __slots__ = ("ptr", "_free")

    def __init__(self, ptr, free):
        self.ptr = ptr
        self._free = free

    def free(self) -> None:
        ptr, self.ptr = self.ptr, None
        if ptr is not None:
            self._free(ptr)


class _Closable:
    """Lifetime helpers shared by Model and Session: `closed`, context manager, and
    release on garbage collection. Subclasses define `_handle` and `close()`."""

    _handle: _Handle

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        return self._handle.ptr is None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class Session(_Closable):
    """A d2l_session: the inputs, activations and outputs of runs of one model.

    Use it from one thread at a time. Inputs stay set between runs. A Model keeps its
    sessions' handles: closing the model closes its sessions first.
    """

    def __init__(self, model: "Model"):
        lib = _capi.lib()
        out = _capi.session_p()
        _capi.check(lib.d2l_session_create(model._ptr(), ctypes.byref(out)))
        self._lib = lib
        self._model = model
        self._shapes: dict[tuple[int, ...], Any] = {}
        self._views: dict[tuple, np.ndarray] = {}
        # (name, numpy dtype, d2l_dtype code) of each input, for run's fast path.
        self._input_plan = tuple(
            (name, dt, CODES[dt]) for name, dt in zip(model.input_names, model.input_dtypes) if dt in CODES
        )
        # Out-parameters of d2l_session_get_output, made once (runs are hot paths).
        self._out = (_capi.d2l_dtype(), ctypes.c_void_p(), _capi.int64_p(), ctypes.c_size_t())
        self._out_refs = tuple(ctypes.byref(x) for x in self._out)
        self._handle = _Handle(out, lib.d2l_session_free)
        model._sessions.add(self._handle)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the session. Calling it again does nothing."""
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.free()
            self._model._sessions.discard(handle)

    def _ptr(self):
        ptr = self._handle.ptr
        if ptr is None:
            raise ValueError("the session is closed" + (" (its model was closed)" if self._model.closed else ""))
        return ptr

    @property
    def model(self) -> "Model":
        return self._model

    # -- running --------------------------------------------------------------------------

    def set_threads(self, threads: int) -> None:
        """Number of threads the kernels use: 1 = the caller's thread only (the default),
        0 = one per processor."""
        threads = int(threads)
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads}")
        _capi.check(self._lib.d2l_session_set_threads(self._ptr(), threads))

    def _index(self, key: int | str) -> int:
        if isinstance(key, str):
            try:
                return self._model.input_names.index(key)
            except ValueError:
                raise KeyError(f"the model has no input {key!r}; its inputs are {list(self._model.input_names)}") from None
        return int(key)

    def set_input(self, key: int | str, array: Any) -> None:
        """Copies `array` into input `key` (an index or a name). The array is converted
        to the input's dtype when that is lossless (float64 -> float32 too), made
        C-contiguous, and passed with its shape; libd2l checks dtype and shape."""
        ptr = self._ptr()
        index = self._index(key)
        dtypes = self._model.input_dtypes
        declared = dtypes[index] if 0 <= index < len(dtypes) else None
        if type(array) is np.ndarray and array.dtype == declared and array.flags.c_contiguous:
            a, code = array, CODES[declared]          # the common case: pass it as it is
        else:
            a, code = _prepare(array, declared)
        if index < 0:
            # size_t cannot carry it; any index past the end gets libd2l's message.
            index = ctypes.c_size_t(-1).value
        _capi.check(self._lib.d2l_session_set_input(ptr, index, code, a.ctypes.data, self._shape(a.shape), a.ndim))

    def _shape(self, shape: tuple[int, ...]):
        """A C int64 array for `shape`, cached per shape (runs repeat shapes)."""
        cached = self._shapes.get(shape)
        if cached is None:
            if len(self._shapes) > 64:
                self._shapes.clear()
            array = (ctypes.c_int64 * max(len(shape), 1))(*shape)
            cached = self._shapes[shape] = (array, ctypes.cast(array, _capi.int64_p))
        return cached[1]

    def run(self, inputs: Mapping[str, Any] | Sequence[Any] | None = None) -> list[np.ndarray]:
        """Sets `inputs` (a dict name -> array, or a list by position; None keeps the inputs
        set so far), runs, and returns every output as a new numpy array."""
        ptr = self._ptr()
        if inputs is not None:
            model = self._model
            names = model._input_names
            fast = type(inputs) is dict and len(inputs) == len(names)
            if fast:
                # The common case, kept lean: a dict of C-contiguous arrays of the declared
                # dtypes. Anything else takes the checked path below.
                set_input = self._lib.d2l_session_set_input
                for index, (name, declared, code) in enumerate(self._input_plan):
                    a = inputs.get(name)
                    if type(a) is not np.ndarray or a.dtype != declared or not a.flags.c_contiguous:
                        fast = False
                        break
                    status = set_input(ptr, index, code, a.ctypes.data, self._shape(a.shape), a.ndim)
                    if status:
                        raise _capi.error(status)
            if not fast:
                for index, array in model._bind(inputs):
                    self.set_input(index, array)
        status = self._lib.d2l_session_run(ptr)
        if status:
            raise _capi.error(status)
        return [self.get_output(i) for i in range(len(self._model._output_names))]

    def get_output(self, index: int) -> np.ndarray:
        """Output `index` of the last successful run, copied into a new numpy array."""
        ptr = self._ptr()
        index = int(index)
        if index < 0:
            index = ctypes.c_size_t(-1).value
        dtype, data, shape, rank = self._out
        _capi.check(self._lib.d2l_session_get_output(ptr, index, *self._out_refs))
        key = (index, data.value, dtype.value, tuple(shape[: rank.value]))
        view = self._views.get(key)
        if view is None:
            # A numpy view of the borrowed output, only read right after get_output returned
            # this same pointer and shape (repeated runs at one shape reuse the buffer).
            dims, np_dtype = key[3], _numpy_dtype(dtype.value)
            nbytes = int(np.prod(dims, dtype=np.int64)) * np_dtype.itemsize
            if nbytes == 0 or not data.value:
                return np.empty(dims, dtype=np_dtype)
            raw = (ctypes.c_char * nbytes).from_address(data.value)
            view = np.frombuffer(raw, dtype=np_dtype).reshape(dims)
            if len(self._views) > 16:
                self._views.clear()
            self._views[key] = view
        return view.copy()


class Model(_Closable):
    """A loaded, validated ONNX model (a d2l_model), plus one lazily created Session that
    `run`, `classify` and `set_threads` use.

        with d2l_runtime.Model("lenet.onnx") as model:
            logits, = model.run({"x": images})
            model.classify(pixels, top_k=5)
    """

    def __init__(self, path: str | os.PathLike):
        lib = _capi.lib()
        out = _capi.model_p()
        _capi.check(lib.d2l_model_load_file(os.fsencode(path), ctypes.byref(out)))
        self._init(lib, out)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "Model":
        """Loads a model from memory. Models with external data files are refused
        (D2L_ERR_INVALID_MODEL); load those from their path."""
        lib = _capi.lib()
        if isinstance(data, bytes):
            buffer, size = data, len(data)
        else:
            view = memoryview(data).cast("B")
            size = view.nbytes
            buffer = bytes(view) if view.readonly or not view.c_contiguous else (ctypes.c_char * size).from_buffer(view)
        out = _capi.model_p()
        _capi.check(lib.d2l_model_load_memory(buffer, size, ctypes.byref(out)))
        self = cls.__new__(cls)
        self._init(lib, out)
        return self

    def _init(self, lib, ptr) -> None:
        self._lib = lib
        self._handle = _Handle(ptr, lib.d2l_model_free)
        self._sessions: set[_Handle] = set()
        self._session: Session | None = None
        self._session_lock = threading.Lock()
        self._input_names = self._names(lib.d2l_model_input_count, lib.d2l_model_input_name)
        self._output_names = self._names(lib.d2l_model_output_count, lib.d2l_model_output_name)
        self._input_shapes = self._shapes(len(self._input_names), lib.d2l_model_input_shape)
        self._output_shapes = self._shapes(len(self._output_names), lib.d2l_model_output_shape)
        self._input_dtypes = self._dtypes(len(self._input_names), lib.d2l_model_input_dtype)
        self._output_dtypes = self._dtypes(len(self._output_names), lib.d2l_model_output_dtype)
        metadata = {}
        for i in range(lib.d2l_model_metadata_count(ptr)):
            key = lib.d2l_model_metadata_key(ptr, i)
            value = lib.d2l_model_metadata(ptr, key)
            metadata[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace") if value is not None else ""
        self._metadata = metadata
        self._opset = int(lib.d2l_model_opset(ptr))

    def _names(self, count_fn, name_fn) -> tuple[str, ...]:
        ptr = self._handle.ptr
        return tuple(name_fn(ptr, i).decode("utf-8", "replace") for i in range(count_fn(ptr)))

    def _shapes(self, count: int, shape_fn) -> tuple[tuple[int | None, ...], ...]:
        shapes = []
        for i in range(count):
            dims = _capi.int64_p()
            rank = ctypes.c_size_t()
            _capi.check(shape_fn(self._handle.ptr, i, ctypes.byref(dims), ctypes.byref(rank)))
            shapes.append(tuple(None if dims[d] < 0 else int(dims[d]) for d in range(rank.value)))
        return tuple(shapes)

    def _dtypes(self, count: int, dtype_fn) -> tuple[np.dtype, ...]:
        dtypes = []
        for i in range(count):
            code = _capi.d2l_dtype()
            _capi.check(dtype_fn(self._handle.ptr, i, ctypes.byref(code)))
            dtypes.append(_numpy_dtype(code.value))
        return tuple(dtypes)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the model and every session created from it. Calling it again does
        nothing; using the model afterwards raises ValueError."""
        handle = getattr(self, "_handle", None)
        if handle is None or handle.ptr is None:
            return
        for session in list(self._sessions):
            session.free()
        self._sessions.clear()
        self._session = None
        handle.free()

    def _ptr(self):
        ptr = self._handle.ptr
        if ptr is None:
            raise ValueError("the model is closed")
        return ptr

    def __repr__(self) -> str:
        if self.closed:
            return "<d2l_runtime.Model (closed)>"
        ins = ", ".join(f"{n} {d}{list(s)}" for n, d, s in zip(self._input_names, self._input_dtypes, self._input_shapes))
        outs = ", ".join(self._output_names)
        return f"<d2l_runtime.Model opset {self._opset}: ({ins}) -> ({outs})>"

    # -- description ----------------------------------------------------------------------

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._output_names

    @property
    def input_shapes(self) -> tuple[tuple[int | None, ...], ...]:
        """Declared input shapes; None for a symbolic or unknown dimension (the batch)."""
        return self._input_shapes

    @property
    def output_shapes(self) -> tuple[tuple[int | None, ...], ...]:
        return self._output_shapes

    @property
    def input_dtypes(self) -> tuple[np.dtype, ...]:
        return self._input_dtypes

    @property
    def output_dtypes(self) -> tuple[np.dtype, ...]:
        return self._output_dtypes

    @property
    def metadata(self) -> dict[str, str]:
        """Every metadata_props entry, in file order (a new dict each time)."""
        return dict(self._metadata)

    @property
    def opset(self) -> int:
        """The default-domain opset the model imports."""
        return self._opset

    # -- running --------------------------------------------------------------------------

    def session(self) -> Session:
        """A new Session of this model (independent of the one `run` uses)."""
        self._ptr()
        return Session(self)

    def _default_session(self) -> Session:
        self._ptr()
        with self._session_lock:
            if self._session is None or self._session.closed:
                # A proxy, so that model -> session -> model is no reference cycle and
                # dropping the last reference to the model releases it at once.
                self._session = Session(weakref.proxy(self))
            return self._session

    def set_threads(self, threads: int) -> None:
        """Number of threads `run` uses (1 = the caller's thread, 0 = one per processor)."""
        self._default_session().set_threads(threads)

    def _bind(self, inputs: Mapping[str, Any] | Sequence[Any]) -> list[tuple[int, Any]]:
        """(index, array) for every model input, from a dict by name or a list by position."""
        names = self._input_names
        if isinstance(inputs, Mapping):
            unknown = [k for k in inputs if k not in names]
            if unknown:
                raise KeyError(f"unknown input name(s) {unknown}; the model's inputs are {list(names)}")
            missing = [n for n in names if n not in inputs]
            if missing:
                raise KeyError(f"missing input(s) {missing}; the model's inputs are {list(names)}")
            return [(i, inputs[n]) for i, n in enumerate(names)]
        if isinstance(inputs, np.ndarray) or not isinstance(inputs, Iterable) or isinstance(inputs, (str, bytes)):
            raise TypeError("inputs must be a dict name -> array or a list of arrays by position")
        arrays = list(inputs)
        if len(arrays) != len(names):
            raise ValueError(f"the model takes {len(names)} input(s) {list(names)}, got {len(arrays)}")
        return list(enumerate(arrays))

    def run(self, inputs: Mapping[str, Any] | Sequence[Any]) -> list[np.ndarray]:
        """Runs the model on `inputs` (a dict name -> array, or a list by position) and
        returns the outputs as new numpy arrays, in output order."""
        if inputs is None:
            raise TypeError("inputs must be a dict name -> array or a list of arrays by position")
        return self._default_session().run(inputs)

    # -- classification -------------------------------------------------------------------

    @property
    def labels(self) -> list[str] | None:
        """The class names of `d2l.labels`, or None when the model has none."""
        text = self._metadata.get("d2l.labels")
        if text is None:
            return None
        labels = json.loads(text)
        if not isinstance(labels, list):
            raise ValueError("metadata d2l.labels is not a JSON array")
        return [str(x) for x in labels]

    def _prepare_image(self, image: Any) -> np.ndarray:
        if len(self._input_names) != 1:
            raise ValueError(f"classify needs a model with one input; this one has {len(self._input_names)}")
        declared = self._input_shapes[0]
        a = np.asarray(image)
        if a.dtype == np.uint8 and self._input_dtypes[0] != np.uint8:
            a = self._normalize_pixels(a)
        elif a.dtype.kind in "iub" and a.dtype != self._input_dtypes[0]:
            raise TypeError(
                f"classify takes raw pixels as uint8 (0-255) or a prepared {self._input_dtypes[0]} array, got {a.dtype}"
            )
        if a.ndim == len(declared) - 1:
            a = a[np.newaxis]
        elif a.ndim == len(declared) and a.shape[0] != 1:
            raise ValueError(f"classify takes one image; got a batch of {a.shape[0]} (shape {a.shape})")
        elif a.ndim != len(declared):
            raise ValueError(f"image shape {a.shape} does not fit the model's input shape {_shape_text(declared)}")
        return a

    def _normalize_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Raw pixels (HxW or CxHxW, 0-255) -> the prepared CxHxW float32 input, per d2l.input."""
        text = self._metadata.get("d2l.input")
        if text is None:
            raise ValueError(
                "the model has no d2l.input metadata saying how raw pixels become inputs; "
                "pass a prepared float array instead"
            )
        spec = json.loads(text)
        layout = spec.get("layout", "NCHW")
        if layout != "NCHW":
            raise ValueError(f"d2l.input layout {layout!r} is not supported (only NCHW)")
        if pixels.ndim == 2:
            pixels = pixels[np.newaxis]
        if pixels.ndim != 3:
            raise ValueError(f"raw pixels must be HxW or CxHxW, got shape {pixels.shape}")
        channels, height, width = pixels.shape
        size = spec.get("size")
        if size is not None and tuple(int(s) for s in size) != (height, width):
            raise ValueError(
                f"the model takes {int(size[0])}x{int(size[1])} images (d2l.input size), got {height}x{width}; "
                "resize the image first"
            )
        lo, hi = (float(v) for v in spec.get("range", [0.0, 1.0]))
        mean = np.asarray(spec.get("mean", [0.0]), dtype=np.float64).reshape(-1)
        std = np.asarray(spec.get("std", [1.0]), dtype=np.float64).reshape(-1)
        for name, v in (("mean", mean), ("std", std)):
            if v.size not in (1, channels):
                raise ValueError(f"d2l.input {name} has {v.size} values; the image has {channels} channel(s)")
        x = pixels.astype(np.float64) / 255.0 * (hi - lo) + lo
        x = (x - mean[:, None, None]) / std[:, None, None]
        return x.astype(self._input_dtypes[0])

    def classify(self, image: Any, top_k: int = 5) -> list[tuple[str, float]]:
        """The top_k classes of one image, most probable first: [(label, probability), ...].

        `image` is raw pixels (uint8, HxW or CxHxW, 0-255), turned into the input as the
        model's d2l.input metadata says, or an already prepared float array of the input's
        shape, with or without the batch dimension. Probabilities are the softmax of
        output 0 in float64; ties keep the lower class index first. Labels come from
        d2l.labels (the class index as a string when absent).
        """
        top_k = int(top_k)
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        x = self._prepare_image(image)
        session = self._default_session()
        session.run([x])
        k = min(top_k, 1 << 20)
        indices = (ctypes.c_size_t * k)()
        probs = (ctypes.c_double * k)()
        names = (ctypes.c_char_p * k)()
        count = ctypes.c_size_t(0)
        lib = _capi.lib()
        _capi.check(lib.d2l_classify(session._ptr(), k, indices, probs, names, ctypes.byref(count)))
        result = []
        for j in range(count.value):
            i = int(indices[j])
            label = names[j].decode("utf-8", "replace") if names[j] is not None else str(i)
            result.append((label, float(probs[j])))
        return result

    # -- text generation ------------------------------------------------------------------

    def generate(self, prefix: str, num_tokens: int = 50, temperature: float = 0.0, seed: int = 0,
                 top_k: int = 0) -> str:
        """Text from a recurrent language model, as the book's predict_ch8: the prefix's
        tokens followed by `num_tokens` generated ones (d2l_generate). Temperature 0 is
        greedy; a positive temperature samples from the `top_k` most likely tokens (0 =
        all) with the SplitMix64 `seed`, giving the same text as the C API."""
        num_tokens, top_k, seed = int(num_tokens), int(top_k), int(seed)
        if num_tokens < 0:
            raise ValueError(f"num_tokens must be >= 0, got {num_tokens}")
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        if not 0 <= seed < 1 << 64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        session = self._default_session()
        lib = _capi.lib()
        out = ctypes.c_char_p()
        _capi.check(lib.d2l_generate(session._ptr(), str(prefix).encode("utf-8"), num_tokens,
                                     float(temperature), top_k, seed, ctypes.byref(out)))
        try:
            return (out.value or b"").decode("utf-8", "replace")
        finally:
            lib.d2l_text_free(out)


def _shape_text(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
