"""Model and Session: Python objects over d2l_model and d2l_session handles."""

from __future__ import annotations

import ctypes
import json
import math
import numbers
import operator
import os
import threading
import time
import weakref
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _capi
from ._capi import D2LError
from ._image import pixels_hwc
from ._nodearg import NodeArg

#: d2l_dtype code -> numpy dtype, and back.
DTYPES: dict[int, np.dtype] = {
    _capi.D2L_FLOAT32: np.dtype(np.float32),
    _capi.D2L_UINT8: np.dtype(np.uint8),
    _capi.D2L_INT32: np.dtype(np.int32),
    _capi.D2L_INT64: np.dtype(np.int64),
    _capi.D2L_BOOL: np.dtype(np.bool_),
}
CODES: dict[np.dtype, int] = {dt: code for code, dt in DTYPES.items()}

#: The largest size_t and uint64_t: Python ints are checked against these before ctypes
#: sees them (ctypes would silently keep only the low bits: 2**64 + 3 becomes 3).
SIZE_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_size_t))) - 1
UINT64_MAX = (1 << 64) - 1


def _bound(v: int) -> str:
    """`v` as text, 2**64 - 1 style for the big all-ones bounds."""
    if v >= 1 << 16 and (v + 1) & v == 0:
        return f"2**{v.bit_length()} - 1"
    return str(v)


def _integer(name: str, value: Any, lo: int, hi: int) -> int:
    """`value` as a Python int in [lo, hi]: TypeError for non-integers (3.5, "3", None;
    bools and numpy integers are integers), ValueError outside the range."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} ({value!r})") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in [{lo}, {_bound(hi)}], got {v}")
    return v


def _c_index(value: Any) -> int:
    """An input or output index for a size_t parameter: any integer; those that size_t
    cannot hold (negative, > SIZE_MAX) become SIZE_MAX, which libd2l reports as out of
    range like any index past the end (never wrapped onto a valid index)."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"an input or output index must be an integer or a name, not {type(value).__name__}") from None
    return v if 0 <= v <= SIZE_MAX else SIZE_MAX


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


#: run's marker for "not given" (None means something for both call forms).
_UNSET: Any = object()


def _run_arguments(first: Any, input_feed: Any, run_options: Any, output_names: Any) -> tuple[Any, Any]:
    """(output names or None for every output, inputs) from run's call forms: d2l's
    ``run(inputs)`` and onnxruntime's ``run(output_names, input_feed[, run_options])``
    (``output_names=`` / ``input_feed=`` as keywords too). A given input_feed selects
    onnxruntime's form."""
    if run_options is not None:
        raise TypeError("run_options is not supported (pass None)")
    if input_feed is None:
        if output_names is not _UNSET:
            raise TypeError("output_names needs input_feed: run(output_names, input_feed)")
        return None, None if first is _UNSET else first
    if output_names is not _UNSET:
        if first is not _UNSET and first is not None:
            raise TypeError("run() got the output names twice (positionally and as output_names=)")
        first = output_names
    names = None if first is _UNSET else first
    if names is None:
        return None, input_feed
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(f"output_names must be None or a list of output names, not {type(names).__name__}")
    names = list(names)
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"output names must be str, not {type(n).__name__} ({n!r})")
    return names, input_feed


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

    def get_inputs(self) -> list[NodeArg]:
        """The model's inputs as onnxruntime's NodeArgs (see Model.get_inputs)."""
        return self._model.get_inputs()

    def get_outputs(self) -> list[NodeArg]:
        """The model's outputs as onnxruntime's NodeArgs (see Model.get_outputs)."""
        return self._model.get_outputs()

    # -- running --------------------------------------------------------------------------

    def set_threads(self, threads: int) -> None:
        """Number of threads the kernels use: 1 = the caller's thread only (the default),
        0 = one per processor. An integer (TypeError otherwise); negative or beyond size_t:
        ValueError; above 256: D2LError from libd2l."""
        threads = _integer("threads", threads, 0, SIZE_MAX)  # libd2l refuses more than 256
        _capi.check(self._lib.d2l_session_set_threads(self._ptr(), threads))

    def _index(self, key: int | str) -> int:
        if isinstance(key, str):
            try:
                return self._model.input_names.index(key)
            except ValueError:
                raise KeyError(f"the model has no input {key!r}; its inputs are {list(self._model.input_names)}") from None
        return _c_index(key)

    def set_input(self, key: int | str, array: Any) -> None:
        """Copies `array` into input `key` (an index or a name). The array is converted
        to the input's dtype when that is lossless (float64 -> float32 too), made
        C-contiguous, and passed with its shape; libd2l checks dtype and shape. An index
        out of range (negative ones and those size_t cannot hold included) is libd2l's
        D2LError; a non-integer index is a TypeError."""
        ptr = self._ptr()
        index = self._index(key)
        dtypes = self._model.input_dtypes
        declared = dtypes[index] if index < len(dtypes) else None
        if type(array) is np.ndarray and array.dtype == declared and array.flags.c_contiguous:
            a, code = array, CODES[declared]          # the common case: pass it as it is
        else:
            a, code = _prepare(array, declared)
        _capi.check(self._lib.d2l_session_set_input(ptr, index, code, a.ctypes.data, self._shape(a.shape), a.ndim))

    def set_image(self, key: int | str, image: Any, layout: str | None = None) -> None:
        """Sets input `key` (an index or a name; a float32 [N, C, H, W] input) from one image
        of raw pixels through d2l_session_set_image_u8, as the model's d2l.input says
        (channels converted, resized with PIL's bilinear filter, scaled and normalised; see
        Model.classify), as a batch of one. `image` is uint8 (0-255), or float on the
        0-255 scale (rounded to the nearest level), HxW, HxWxC or CxHxW with C = 1, 3 or 4;
        `layout` ("HWC" or "CHW") settles a shape that fits both (ValueError otherwise).
        libd2l's errors (an input that takes no images, malformed d2l.input) are D2LError."""
        ptr = self._ptr()
        index = self._index(key)
        pixels = pixels_hwc(np.asarray(image), layout)
        height, width, channels = pixels.shape
        _capi.check(self._lib.d2l_session_set_image_u8(
            ptr, index, pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), height, width, channels))

    def _shape(self, shape: tuple[int, ...]):
        """A C int64 array for `shape`, cached per shape (runs repeat shapes)."""
        cached = self._shapes.get(shape)
        if cached is None:
            if len(self._shapes) > 64:
                self._shapes.clear()
            array = (ctypes.c_int64 * max(len(shape), 1))(*shape)
            cached = self._shapes[shape] = (array, ctypes.cast(array, _capi.int64_p))
        return cached[1]

    def run(self, inputs: Any = _UNSET, input_feed: Mapping[str, Any] | Sequence[Any] | None = None,
            run_options: None = None, *, output_names: Sequence[str] | None = _UNSET) -> list[np.ndarray]:
        """Sets `inputs` (a dict name -> array, or a list by position; None keeps the inputs
        set so far), runs, and returns every output as a new numpy array.

        onnxruntime's form works too: ``run(output_names, input_feed)`` sets `input_feed`
        (as `inputs`) and returns the outputs named in `output_names`, in that order (None:
        every output). An unknown output name raises KeyError (before anything runs)."""
        wanted, inputs = _run_arguments(inputs, input_feed, run_options, output_names)
        ptr = self._ptr()
        indices = None if wanted is None else [self._model.output_index(n) for n in wanted]
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
        if indices is None:
            indices = range(len(self._model._output_names))
        return [self.get_output(i) for i in indices]

    def get_output(self, index: int) -> np.ndarray:
        """Output `index` of the last successful run, copied into a new numpy array. An
        index out of range (negative included) is libd2l's D2LError."""
        ptr = self._ptr()
        index = _c_index(index)
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
        encoded = os.fsencode(path)
        if b"\0" in encoded:
            raise ValueError("embedded null byte in the model path")  # as open() says
        out = _capi.model_p()
        _capi.check(lib.d2l_model_load_file(encoded, ctypes.byref(out)))
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
        self._input_dim_names = self._dim_names(len(self._input_names), lib.d2l_model_input_dim_names)
        self._output_dim_names = self._dim_names(len(self._output_names), lib.d2l_model_output_dim_names)
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

    def _dim_names(self, count: int, names_fn) -> tuple[tuple[str | None, ...], ...]:
        result = []
        for i in range(count):
            names = ctypes.POINTER(ctypes.c_char_p)()
            rank = ctypes.c_size_t()
            _capi.check(names_fn(self._handle.ptr, i, ctypes.byref(names), ctypes.byref(rank)))
            result.append(tuple(None if names[d] is None else names[d].decode("utf-8", "replace")
                                for d in range(rank.value)))
        return tuple(result)

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

    def get_inputs(self) -> list[NodeArg]:
        """The inputs as onnxruntime's ``InferenceSession.get_inputs()`` gives them: NodeArgs
        with ``name``, ``shape`` (ints for fixed dimensions, the dim_param name for symbolic
        ones, None for unnamed ones: ``['batch', 1, 28, 28]``) and ``type``
        (``'tensor(float)'``). A new list each call."""
        return [NodeArg.of(n, s, d, t) for n, s, d, t in
                zip(self._input_names, self._input_shapes, self._input_dim_names, self._input_dtypes)]

    def get_outputs(self) -> list[NodeArg]:
        """The outputs as NodeArgs, as get_inputs."""
        return [NodeArg.of(n, s, d, t) for n, s, d, t in
                zip(self._output_names, self._output_shapes, self._output_dim_names, self._output_dtypes)]

    def input_index(self, name: str) -> int:
        """The index of the input named `name` (d2l_model_input_index). KeyError, with
        libd2l's message naming the inputs, when there is none."""
        return self._lookup(self._lib.d2l_model_input_index, name, "input")

    def output_index(self, name: str) -> int:
        """The index of the output named `name` (d2l_model_output_index). KeyError, with
        libd2l's message naming the outputs, when there is none."""
        return self._lookup(self._lib.d2l_model_output_index, name, "output")

    def _lookup(self, index_fn, name: str, kind: str) -> int:
        if not isinstance(name, str):
            raise TypeError(f"an {kind} name must be a str, not {type(name).__name__}")
        encoded = name.encode("utf-8", "surrogateescape")
        if b"\0" in encoded:  # a C string would end there and could name another value
            raise KeyError(f"the model has no {kind} {name!r} (names hold no NUL character)")
        out = ctypes.c_size_t()
        status = index_fn(self._ptr(), encoded, ctypes.byref(out))
        if status:
            raise KeyError(_capi.last_error())
        return int(out.value)

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

    def run(self, inputs: Any = _UNSET, input_feed: Mapping[str, Any] | Sequence[Any] | None = None,
            run_options: None = None, *, output_names: Sequence[str] | None = _UNSET) -> list[np.ndarray]:
        """Runs the model on `inputs` (a dict name -> array, or a list by position) and
        returns the outputs as new numpy arrays, in output order.

        onnxruntime's form works too: ``run(None, {"x": x})`` returns every output,
        ``run(["y"], {"x": x})`` the named ones in that order (KeyError for an unknown
        name); `run_options` must be None."""
        names, feed = _run_arguments(inputs, input_feed, run_options, output_names)
        if feed is None:
            raise TypeError("inputs must be a dict name -> array or a list of arrays by position")
        if names is None:
            return self._default_session().run(feed)
        return self._default_session().run(names, feed)

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

    def _prepared(self, a: np.ndarray) -> np.ndarray | None:
        """`a` with a batch dimension when it has the input's shape, with or without the
        batch (every fixed dimension equal), else None."""
        declared = self._input_shapes[0]
        if a.ndim == len(declared) - 1:
            a = a[np.newaxis]
        elif a.ndim != len(declared):
            return None
        if any(d is not None and d != n for d, n in zip(declared[1:], a.shape[1:])):
            return None
        return a

    def _set_image(self, session: Session, image: Any, layout: str | None) -> tuple[int, int]:
        """Sets input 0 of `session` from one image (see classify) and returns its height
        and width in pixels."""
        if len(self._input_names) != 1:
            raise ValueError(f"classify needs a model with one input; this one has {len(self._input_names)}")
        declared, dtype = self._input_shapes[0], self._input_dtypes[0]
        a = np.asarray(image)
        if not (a.dtype == np.uint8 and dtype != np.uint8):  # uint8 for a float input: raw pixels
            if a.dtype.kind != "f" and a.dtype != dtype:
                raise TypeError(f"classify takes raw pixels as uint8 (0-255) or float, or a prepared {dtype} array, got {a.dtype}")
            prepared = self._prepared(a)
            if prepared is not None:
                if prepared.shape[0] != 1:
                    raise ValueError(f"classify takes one image; got a batch of {prepared.shape[0]} (shape {a.shape})")
                session.set_input(0, prepared)
                return (int(prepared.shape[-2]), int(prepared.shape[-1])) if prepared.ndim >= 3 else (1, 1)
            if a.dtype.kind != "f" or a.ndim not in (2, 3):
                # Not of the input's shape, and no image either.
                raise ValueError(f"image shape {a.shape} does not fit the model's input shape {_shape_text(declared)}")
        pixels = pixels_hwc(a, layout)
        session.set_image(0, pixels, "HWC")
        return int(pixels.shape[0]), int(pixels.shape[1])

    def classify(self, image: Any, top_k: int = 5, layout: str | None = None) -> list[tuple[str, float]]:
        """The top_k classes of one image, most probable first: [(label, probability), ...].

        `image` is one of:

        - a prepared input: a float array of the input's shape, with or without the batch
          dimension (every fixed dimension equal; a batch other than 1 is a ValueError),
          used as it is (converted to float32);
        - raw pixels: uint8 (0-255), or float on the same 0-255 scale (rounded to the
          nearest level; values outside [0, 255] are a ValueError: a float image already
          scaled to [0, 1] but not of the input's shape is not guessed at), as HxW
          (grayscale), HxWxC (what PIL and imageio give) or CxHxW with C = 1, 3 or 4 (RGBA:
          alpha dropped). A 3-D array is HxWxC when its last axis has 1, 3 or 4 entries and
          its first has not, CxHxW in the opposite case; when both fit, `layout` ("HWC" or
          "CHW") must say (ValueError otherwise). The pixels go through
          d2l_session_set_image_u8, which makes the input as the model's d2l.input metadata
          says, exactly as the C example does: colour becomes grayscale for a one-channel
          model (PIL's L), grayscale is repeated for a three-channel one, an image of
          another size is resized to the model's (d2l.input's "size", else the input's
          fixed height and width; PIL's bilinear filter), and pixels are scaled to
          "range", then (x - mean[c]) / std[c] (without d2l.input: range [0, 1], mean 0,
          std 1). Malformed d2l.input is libd2l's D2LError (D2L_ERR_INVALID_MODEL).

        Probabilities are the softmax of output 0 in float64 (d2l_classify); ties keep the
        lower class index first. Labels come from d2l.labels (the class index as a string
        when absent). `top_k` is an integer in [1, SIZE_MAX] (TypeError / ValueError
        otherwise), capped at the class count.
        """
        top_k = _integer("top_k", top_k, 1, SIZE_MAX)
        session = self._default_session()
        self._set_image(session, image, layout)
        _capi.check(self._lib.d2l_session_run(session._ptr()))
        k = min(top_k, 1 << 20)
        indices = (ctypes.c_size_t * k)()
        probs = (ctypes.c_double * k)()
        names = (ctypes.c_char_p * k)()
        count = ctypes.c_size_t(0)
        _capi.check(self._lib.d2l_classify(session._ptr(), k, indices, probs, names, ctypes.byref(count)))
        result = []
        for j in range(count.value):
            i = int(indices[j])
            label = names[j].decode("utf-8", "replace") if names[j] is not None else str(i)
            result.append((label, float(probs[j])))
        return result

    # -- detection ------------------------------------------------------------------------

    def detect(self, image: Any, threshold: float = 0.9, nms_threshold: float = 0.5,
               layout: str | None = None) -> list[tuple[str, float, tuple[float, float, float, float]]]:
        """Objects in one image with a detector exported by `d2l-cli train tiny-ssd` (d2l.task
        "detection"; outputs `anchors`, `class_probs`, `offsets`): the book's predict
        (13.7.3) through d2l_multibox_detection, then every box of a class whose confidence
        reaches `threshold`, most confident first: [(label, confidence, (x1, y1, x2, y2)), ...]
        with corners in pixels of `image`.

        `image` is raw pixels as for `classify` (uint8 or 0-255 float HxW, HxWxC or CxHxW, of
        any size: d2l_session_set_image_u8 resizes it to the model's d2l.input "size", as
        detect.c does), or a prepared float array of the input's shape."""
        if self._metadata.get("d2l.task") != "detection":
            raise ValueError(f"detect needs a detector (d2l.task 'detection'); this model's d2l.task is {self._metadata.get('d2l.task')!r}")
        from ._detection import multibox_detection

        session = self._default_session()
        height, width = self._set_image(session, image, layout)
        outputs = dict(zip(self._output_names, session.run(None)))
        missing = [n for n in ("anchors", "class_probs", "offsets") if n not in outputs]
        if missing:
            raise ValueError(f"the detector has no output(s) {missing}; its outputs are {list(self._output_names)}")
        rows = multibox_detection(outputs["class_probs"], outputs["offsets"], outputs["anchors"], nms_threshold)[0]
        names = self.labels or []
        found = []
        for cls, conf, x1, y1, x2, y2 in rows.tolist():
            if cls < 0 or conf < threshold:
                continue
            label = names[int(cls)] if int(cls) < len(names) else str(int(cls))
            found.append((label, float(conf), (x1 * width, y1 * height, x2 * width, y2 * height)))
        return found

    # -- text generation ------------------------------------------------------------------

    def generate(self, prefix: str, num_tokens: int = 50, temperature: float = 0.0, seed: int = 0,
                 top_k: int = 0) -> str:
        """Text from a recurrent language model, as the book's predict_ch8: the prefix's
        tokens followed by `num_tokens` generated ones (d2l_generate). Temperature 0 is
        greedy; a positive temperature samples from the `top_k` most likely tokens (0 =
        all) with the SplitMix64 `seed`, giving the same text as the C API.

        `prefix` is a str (bytes are decoded as UTF-8; invalid UTF-8, a NUL character or
        any other type is refused). `num_tokens` and `top_k` are integers in [0, SIZE_MAX]
        (size_t: 2**64 - 1 in 64-bit builds), `seed` in [0, 2**64 - 1]; `temperature` a
        real number >= 0, finite as a float32. Bad values raise TypeError or ValueError
        before libd2l is called (never wrapped: 2**64 + 3 tokens is not 3); libd2l reports
        the rest (an empty prefix, top_k above the vocabulary size, num_tokens above its
        limit) as D2LError.

        A long generation is made of several d2l_generate calls, each continuing from the
        text so far with the SplitMix64 state advanced past the draws already made, so
        that Ctrl-C (KeyboardInterrupt) stops it between calls, within about max(0.5 s, the
        time it has run so far); the text is identical to one call's. Vocabularies that do
        not allow it get one call (see _Continuation and _generate_in_chunks).
        """
        data = _prefix_bytes(prefix)
        num_tokens = _integer("num_tokens", num_tokens, 0, SIZE_MAX)
        top_k = _integer("top_k", top_k, 0, SIZE_MAX)
        seed = _integer("seed", seed, 0, UINT64_MAX)
        temperature = _temperature(temperature)
        session = self._default_session()
        return _generate_in_chunks(self._lib, self._ptr(), session._ptr(), data, num_tokens, temperature, top_k, seed)


def _prefix_bytes(prefix: Any) -> bytes:
    """The UTF-8 bytes to pass for a generation prefix: a str, or bytes / bytearray holding
    UTF-8. TypeError for anything else (None, numbers); ValueError for invalid UTF-8, lone
    surrogates or a NUL character (a C string would end there)."""
    if isinstance(prefix, (bytes, bytearray)):
        try:
            prefix = bytes(prefix).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"prefix is not valid UTF-8: {e}") from None
    elif not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str (or UTF-8 bytes), not {type(prefix).__name__}")
    if "\0" in prefix:
        raise ValueError("prefix contains a NUL character")
    try:
        return prefix.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"prefix is not valid Unicode: {e}") from None


def _temperature(value: Any) -> float:
    """A generation temperature: a real number, not NaN, >= 0 and finite as the float32
    that d2l_generate takes (what libd2l itself refuses, raised here as ValueError)."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"temperature must be a real number, not {type(value).__name__} ({value!r})")
    t = float(value)
    if math.isnan(t):
        raise ValueError("temperature must be a number >= 0 (0 = greedy), got nan")
    if t < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {t!r}")
    if math.isinf(ctypes.c_float(t).value):
        raise ValueError(f"temperature must be finite as a float32 (at most about 3.4e38), got {t!r}")
    return t


#: SplitMix64's increment: its state after n draws from `seed` is seed + n * GOLDEN mod 2**64
#: (Sources/D2LRuntime/Generation/Sampler.swift adds it before every output).
SPLITMIX64_GOLDEN = 0x9E3779B97F4A7C15

#: libd2l refuses num_tokens above its maxTensorElements (Sources/D2LRuntime/Core/
#: CheckedMath.swift: 2**40 in 64-bit builds, Int.max >> 4 in 32-bit ones). Above it
#: generate makes the one call, so that libd2l's error comes back as it would.
_MAX_TOKENS = (1 << 40) if ctypes.sizeof(ctypes.c_void_p) >= 8 else ((1 << 31) - 1) >> 4

#: Tokens generated by the first call; then calls of about _CHUNK_SECONDS (see _chunk_size).
_FIRST_CHUNK = 64
_CHUNK_SECONDS = 0.5


def _chunk_size(done: int, length: int, seconds_per_step: float) -> int:
    """Tokens the next d2l_generate call generates, after `done` generated so far, when
    the text so far has `length` tokens (each call steps the model over them again) and a
    step took `seconds_per_step` last time.

    About _CHUNK_SECONDS per call while the text is short, and never fewer tokens than the
    text already has: re-reading the text then costs at most as much as generating, so a
    long generation takes at most about twice one call's time (short ones: one re-read of
    the first chunk), and Ctrl-C is honoured within about max(_CHUNK_SECONDS, the time the
    generation has run so far). (A fixed cap such as 1024 tokens a call would make the
    re-reading quadratic: 10**5 tokens would step the model about 5 * 10**6 times.)
    """
    if done == 0:
        return _FIRST_CHUNK
    budget = int(_CHUNK_SECONDS / max(seconds_per_step, 1e-9))
    return max(_FIRST_CHUNK, budget - length, length)


class _Continuation:
    """How to hand the text of a generation so far back to d2l_generate as a prefix that
    the runtime tokenizes into exactly the token ids generated so far, for a model whose
    vocabulary allows it (`of` returns None otherwise). Follows Sources/D2LRuntime/
    Generation/Vocabulary.swift: d2l.task "word-lm" splits on spaces and joins with
    single spaces, anything else maps each Unicode scalar to a token and concatenates;
    unknown characters or words map to index 0 ("<unk>"); duplicates: the first wins."""

    def __init__(self, words: bool, unk: str | None, stand_in: str | None):
        self.words = words
        self._unk = unk
        self._stand_in = stand_in

    @classmethod
    def of(cls, lib, model_ptr) -> "_Continuation | None":
        raw = lib.d2l_model_metadata(model_ptr, b"d2l.vocab")
        if raw is None:
            return None  # the call reports it
        try:
            tokens = json.loads(raw.decode("utf-8"))
        except ValueError:
            return None
        if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) and t for t in tokens):
            return None  # libd2l refuses these, or an empty token could not be read back
        if len(set(tokens)) != len(tokens) or any("\0" in t for t in tokens):
            return None  # a later duplicate reads back as the first; a NUL ends the C string
        try:
            for t in tokens:
                t.encode("utf-8")
        except UnicodeEncodeError:
            return None  # lone surrogates (libd2l refuses the vocabulary)
        if lib.d2l_model_metadata(model_ptr, b"d2l.task") == b"word-lm":
            # Tokens without spaces, joined by single spaces: splitting on spaces gives
            # them back exactly.
            return None if any(" " in t for t in tokens) else cls(True, None, None)
        chars = set(tokens[1:])
        if any(len(t) != 1 for t in tokens[1:]):
            return None  # a multi-character token reads back as several
        unk = tokens[0]
        if len(unk) == 1:
            return cls(False, None, None)  # every token is one character: the text itself
        # The text holds tokens[0] (e.g. "<unk>") where an unknown character or token 0
        # was: the prefix has one character outside the vocabulary there instead. Finding
        # tokens[0] left to right reads the text back exactly when tokens[0] holds a
        # character that is no token (as '<' in "<unk>"): a run of one-character tokens
        # can then never spell it, nor overlap the start of a real occurrence.
        if all(c in chars for c in unk):
            return None
        stand_in = next(c for c in map(chr, [0xFFFD, *range(0xE000, 0xF900)]) if c not in chars)
        return cls(False, unk, stand_in)

    def prefix(self, text: str) -> str:
        """The prefix for `text`, a stretch of generated text that starts at a token."""
        return text if self._unk is None else text.replace(self._unk, self._stand_in)

    def length(self, prefix: str) -> int:
        """The number of tokens in `prefix` (a result of `prefix`)."""
        return prefix.count(" ") + 1 if self.words else len(prefix)


def _generate_once(lib, session_ptr, prefix: bytes, num_tokens: int, temperature: float, top_k: int,
                   seed: int) -> str:
    """One d2l_generate call; its text is freed with d2l_text_free whatever happens,
    KeyboardInterrupt included."""
    out = ctypes.c_char_p()
    try:
        _capi.check(lib.d2l_generate(session_ptr, prefix, num_tokens, temperature, top_k, seed, ctypes.byref(out)))
        return (out.value or b"").decode("utf-8", "replace")
    finally:
        lib.d2l_text_free(out)  # NULL when the call failed: accepted


def _generate_in_chunks(lib, model_ptr, session_ptr, prefix: bytes, num_tokens: int, temperature: float,
                        top_k: int, seed: int) -> str:
    """d2l_generate(prefix, num_tokens, ...)'s text, made by several calls when it is long.

    libd2l runs the model over the prefix token by token, then generates each token from
    the state after the previous one, one SplitMix64 draw per token when sampling (none
    when greedy). So generating n tokens from the text of k generated ones, with the seed
    advanced by k draws, does exactly what the one call does for tokens k+1 .. k+n,
    provided the runtime tokenizes that text into the very ids generated so far: see
    _Continuation, which refuses vocabularies where that is not guaranteed; those, and
    counts libd2l refuses, get one call (not interruptible). Ctrl-C during a call takes
    effect when it returns.
    """
    first = min(num_tokens, _chunk_size(0, 0, 0.0))
    resume = _Continuation.of(lib, model_ptr) if first < num_tokens <= _MAX_TOKENS else None
    if resume is None:
        return _generate_once(lib, session_ptr, prefix, num_tokens, temperature, top_k, seed)
    start = time.perf_counter()
    text = _generate_once(lib, session_ptr, prefix, first, temperature, top_k, seed)
    done = first
    known = resume.prefix(text)
    length = resume.length(known)
    # Steps of the first call: the prefix's tokens but the first, then `first` tokens.
    seconds_per_step = (time.perf_counter() - start) / max(length - 1, 1)
    while done < num_tokens:
        count = min(num_tokens - done, _chunk_size(done, length, seconds_per_step))
        start = time.perf_counter()
        out = _generate_once(lib, session_ptr, known.encode("utf-8"), count, temperature, top_k,
                             (seed + done * SPLITMIX64_GOLDEN) & UINT64_MAX)
        seconds_per_step = (time.perf_counter() - start) / max(length - 1 + count, 1)
        if not out.startswith(text):
            # Cannot happen for the vocabularies _Continuation accepts; stay correct anyway.
            return _generate_once(lib, session_ptr, prefix, num_tokens, temperature, top_k, seed)
        new = out[len(text):]
        text = out
        known += resume.prefix(new)
        length += count
        done += count
    return text


def _shape_text(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
