"""Model.generate (d2l_generate) on the committed language-model fixtures (untrained
weights: determinism and properties, not text), its bad inputs, agreement with the
C example bindings/c/build/generate, and generation in chunks (identical to one call,
stopped by KeyboardInterrupt)."""

from __future__ import annotations

import ctypes
import itertools
import json
import math
import os
import re
import signal
import subprocess
import threading
import time

import numpy as np
import onnx
import pytest

import d2l_runtime
from d2l_runtime import D2LError, _capi, _model
from d2l_runtime._capi import D2L_ERR_INVALID_ARGUMENT, D2L_ERR_INVALID_MODEL, D2L_ERR_UNSUPPORTED

from conftest import FIXTURES, LENET, REPO

LMS = ["gru-lm-opset17", "lstm-lm-opset17", "rnn-lm-opset17"]
PREFIX = "time traveller"
GENERATE = REPO / "bindings" / "c" / "build" / "generate"


def lm_path(name: str):
    return FIXTURES / name / "model.onnx"


def edited(name: str, key: str, value: str | None, **more: str) -> bytes:
    """The fixture with metadata `key` set to `value` (removed when None), and the keys
    of `more` (dots written as underscores: d2l_task=...) set too."""
    changes = {key: value, **{k.replace("_", "."): v for k, v in more.items()}}
    m = onnx.load(str(lm_path(name)))
    props = [(p.key, p.value) for p in m.metadata_props if p.key not in changes]
    props += [(k, v) for k, v in changes.items() if v is not None]
    del m.metadata_props[:]
    for k, v in props:
        m.metadata_props.add(key=k, value=v)
    return m.SerializeToString()


def tokens(text: str) -> int:
    return len(text.replace("<unk>", "\0"))


@pytest.fixture(params=LMS)
def lm(request):
    with d2l_runtime.Model(lm_path(request.param)) as m:
        yield m


def test_greedy_is_deterministic(lm):
    a = lm.generate(PREFIX, 50)
    assert a == lm.generate(PREFIX, 50, seed=123)
    assert a.startswith(PREFIX)
    assert tokens(a) == len(PREFIX) + 50


def test_seeds(lm):
    s1 = lm.generate(PREFIX, 50, temperature=1.0, seed=7)
    assert s1 == lm.generate(PREFIX, 50, temperature=1.0, seed=7)
    assert s1 != lm.generate(PREFIX, 50, temperature=1.0, seed=8)
    assert lm.generate(PREFIX, 50, temperature=1.0, top_k=1, seed=99) == lm.generate(PREFIX, 50)


def test_zero_tokens_and_unknown_characters(lm):
    assert lm.generate(PREFIX, 0) == PREFIX
    assert lm.generate("ét€", 3).startswith("<unk>t<unk>")


def test_bad_arguments(lm):
    with pytest.raises(D2LError) as e:
        lm.generate(PREFIX, 5, top_k=1000, temperature=1.0)
    assert e.value.code == D2L_ERR_INVALID_ARGUMENT
    for t in (-1.0, float("nan")):  # what libd2l refuses, refused before the call
        with pytest.raises(ValueError, match="temperature"):
            lm.generate(PREFIX, 5, temperature=t)
    with pytest.raises(D2LError) as e:
        lm.generate("", 5)
    assert e.value.code == D2L_ERR_INVALID_ARGUMENT
    with pytest.raises(ValueError):
        lm.generate(PREFIX, -1)
    assert lm.generate(PREFIX, 10) == lm.generate(PREFIX, 10)  # still usable


@pytest.mark.parametrize(
    "value", [None, '{"a": 1}', '["<unk>", 3]', "not json", '["<unk>", "a",]', '["<unk>", "a"]']
)
def test_bad_vocabulary(value):
    with d2l_runtime.Model.from_bytes(edited("gru-lm-opset17", "d2l.vocab", value)) as m:
        with pytest.raises(D2LError) as e:
            m.generate(PREFIX, 5)
        assert e.value.code == D2L_ERR_INVALID_MODEL
        if value is None:
            assert "d2l.vocab" in e.value.message


def test_unpaired_recurrent_outputs():
    m = onnx.load(str(lm_path("gru-lm-opset17")))
    del m.graph.output[1]
    with d2l_runtime.Model.from_bytes(m.SerializeToString()) as model:
        with pytest.raises(D2LError) as e:
            model.generate(PREFIX, 5)
        assert e.value.code == D2L_ERR_INVALID_MODEL
        assert "pair up" in e.value.message


def test_not_a_language_model():
    with d2l_runtime.Model(LENET) as m:
        with pytest.raises(D2LError) as e:
            m.generate(PREFIX, 5)
        assert e.value.code == D2L_ERR_INVALID_MODEL


@pytest.mark.skipif(not GENERATE.exists(), reason="bindings/c/build/generate not built (make -C bindings/c)")
@pytest.mark.parametrize("name", LMS)
@pytest.mark.parametrize("temperature,top_k,seed", [(0.0, 0, 0), (1.0, 0, 42), (0.8, 5, 2**63 + 5)])
def test_python_and_c_agree(name, temperature, top_k, seed):
    args = [str(GENERATE), str(lm_path(name)), PREFIX, "40", "--temperature", repr(temperature),
            "--top-k", str(top_k), "--seed", str(seed)]
    c_text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    with d2l_runtime.Model(lm_path(name)) as m:
        assert m.generate(PREFIX, 40, temperature=temperature, seed=seed, top_k=top_k) + "\n" == c_text


def test_greedy_text_matches_predict_ch8():
    """Greedy generation equals the book's predict_ch8 in PyTorch for the same trained GRU
    (Tests/Fixtures/generate-gru-char, written by tools/fixtures/make-generation-fixtures)."""
    import json

    folder = FIXTURES / "generate-gru-char"
    cases = json.loads((folder / "expected.json").read_text())["cases"]
    assert len(cases) >= 2
    with d2l_runtime.Model(folder / "model.onnx") as model:
        for case in cases:
            assert model.generate(case["prefix"], num_tokens=case["num_tokens"], temperature=0.0) == case["text"]


# The dynamo exporter (torch.onnx.export(dynamo=True)) cannot keep `steps` symbolic, so
# tools/fixtures/make-fixtures also writes one-step exports, <lm>-1step-opset20, with the same
# weights as <lm>-opset17 (see its LM_STEP_SUFFIX and Tests/Fixtures/README.md). The GRU and
# LSTM <lm>-opset20 declare logits ['5*batch', 28] but their graphs run any number of steps;
# rnn-lm-opset20 is unrolled to exactly 5 steps.
DYNAMO_LMS = ["rnn-lm", "gru-lm", "lstm-lm", "lstm2-lm", "bigru-lm"]


@pytest.mark.parametrize("name", DYNAMO_LMS)
def test_dynamo_one_step_export_generates_the_legacy_text(name):
    with d2l_runtime.Model(lm_path(f"{name}-1step-opset20")) as dynamo, \
            d2l_runtime.Model(lm_path(f"{name}-opset17")) as legacy:
        assert dynamo.input_names[0] == "tokens" and len(dynamo.input_names) == len(legacy.input_names)
        greedy = legacy.generate(PREFIX, 50)
        assert tokens(greedy) == len(PREFIX) + 50
        # The untrained models' top-two logit gap stays above 7e-4 on this text (onnxruntime),
        # far above the exporters' float differences, so greedy text must be the same.
        assert dynamo.generate(PREFIX, 50) == greedy
        assert dynamo.generate("the time machine", 30) == legacy.generate("the time machine", 30)


@pytest.mark.parametrize("name", [n for n in DYNAMO_LMS if n != "rnn-lm"])
def test_dynamo_five_step_recurrent_op_exports_generate_the_legacy_text(name):
    with d2l_runtime.Model(lm_path(f"{name}-opset20")) as dynamo, \
            d2l_runtime.Model(lm_path(f"{name}-opset17")) as legacy:
        assert dynamo.generate(PREFIX, 50) == legacy.generate(PREFIX, 50)


def test_dynamo_unrolled_rnn_export_is_refused_for_generation():
    """rnn-lm-opset20 takes exactly 5 steps (tokens [batch, 5]); generation, which feeds one
    token at a time, refuses it and names the fixed dimension."""
    with d2l_runtime.Model(lm_path("rnn-lm-opset20")) as m:
        with pytest.raises(D2LError) as e:
            m.generate(PREFIX, 5)
        assert e.value.code == D2L_ERR_UNSUPPORTED
        assert "fixed dimension 1 = 5" in e.value.message


# -- argument checks (issue 14, item 6) ---------------------------------------------------


@pytest.fixture
def gru():
    with d2l_runtime.Model(lm_path("gru-lm-opset17")) as m:
        yield m


SIZE_MAX = _model.SIZE_MAX  # 2**64 - 1, or 2**32 - 1 in 32-bit builds


@pytest.mark.parametrize("kwargs", [
    dict(num_tokens=2**64), dict(num_tokens=2**64 + 3), dict(num_tokens=SIZE_MAX + 1), dict(num_tokens=-1),
    dict(top_k=2**64), dict(top_k=SIZE_MAX + 5, temperature=1.0), dict(top_k=-1),
    dict(seed=2**64), dict(seed=2**64 + 7, temperature=1.0), dict(seed=-1),
])
def test_integers_out_of_range_are_refused_not_wrapped(gru, kwargs):
    name = next(iter(kwargs))
    hi = "2**64 - 1" if name == "seed" else _model._bound(SIZE_MAX)  # seed is a uint64_t, the others size_t
    with pytest.raises(ValueError, match=re.escape(f"{name} must be in [0, {hi}]")):
        gru.generate(PREFIX, **{"num_tokens": 5, **kwargs})


@pytest.mark.parametrize("name", ["num_tokens", "top_k", "seed"])
@pytest.mark.parametrize("value", [3.5, 3.0, "3", None, np.float64(3)])
def test_non_integers_are_refused(gru, name, value):
    with pytest.raises(TypeError, match=f"{name} must be an integer"):
        gru.generate(PREFIX, **{"num_tokens": 5, name: value})


def test_numpy_integers_are_integers(gru):
    assert gru.generate(PREFIX, np.int64(20), seed=np.uint64(2**64 - 1), top_k=np.int32(3),
                        temperature=np.float32(1.0)) == gru.generate(PREFIX, 20, seed=2**64 - 1, top_k=3,
                                                                     temperature=1.0)


def test_counts_libd2l_refuses_are_its_errors(gru):
    # size_t holds these, so they reach libd2l (one call, not chunks) and come back as its error.
    counts = [SIZE_MAX, (SIZE_MAX + 1) // 2] + ([2**40 + 1] if ctypes.sizeof(ctypes.c_void_p) >= 8 else [])
    for n in counts:
        with pytest.raises(D2LError, match="too large") as e:
            gru.generate(PREFIX, n)
        assert e.value.code == D2L_ERR_INVALID_ARGUMENT


@pytest.mark.parametrize("t", [float("inf"), -float("inf"), 1e39, -1e-30, -0.5])
def test_bad_temperatures(gru, t):
    with pytest.raises(ValueError, match="temperature"):
        gru.generate(PREFIX, 5, temperature=t)


@pytest.mark.parametrize("t", ["1.0", None, 1j])
def test_temperature_must_be_a_real_number(gru, t):
    with pytest.raises(TypeError, match="temperature must be a real number"):
        gru.generate(PREFIX, 5, temperature=t)


@pytest.mark.parametrize("prefix", [None, 5, 3.5, ["time"], memoryview(b"time")])
def test_prefix_must_be_text(gru, prefix):
    with pytest.raises(TypeError, match="prefix must be a str"):
        gru.generate(prefix, 5)


def test_bytes_prefixes_are_utf8(gru):
    want = gru.generate("time", 20)
    assert gru.generate(b"time", 20) == want
    assert gru.generate(bytearray(b"time"), 20) == want
    assert gru.generate("ét€".encode(), 3) == gru.generate("ét€", 3)
    for bad in (b"ti\xffme", b"\xc3"):
        with pytest.raises(ValueError, match="UTF-8"):
            gru.generate(bad, 5)
    with pytest.raises(ValueError, match="Unicode"):
        gru.generate("ti\ud800me", 5)


@pytest.mark.parametrize("prefix", ["ti\0me", b"ti\0me", "\0", "time\0"])
def test_nul_in_prefix_is_refused(gru, prefix):
    with pytest.raises(ValueError, match="prefix contains a NUL character"):
        gru.generate(prefix, 5)


# -- generation in chunks -----------------------------------------------------------------

# 28 distinct words without spaces: a word-lm vocabulary for the gru-lm weights (28 logits).
WORDS = ["<unk>", "the", "time", "traveller", "for", "so", "it", "will", "be", "convenient", "to",
         "speak", "of", "him", "was", "expounding", "a", "recondite", "matter", "us", "his", "grey",
         "eyes", "shone", "and", "twinkled", "usually", "pale"]
WORD_PREFIX = "the  time traveller zyzzyva "  # double space, an unknown word, a trailing space


def direct(model, prefix: str, n: int, temperature: float = 0.0, top_k: int = 0, seed: int = 0) -> str:
    """One d2l_generate call through the raw C API, on a session of its own."""
    lib = _capi.lib()
    with model.session() as s:
        out = ctypes.c_char_p()
        _capi.check(lib.d2l_generate(s._ptr(), prefix.encode(), n, temperature, top_k, seed, ctypes.byref(out)))
        try:
            return out.value.decode()
        finally:
            lib.d2l_text_free(out)


def address(p) -> int | None:
    return ctypes.cast(p, ctypes.c_void_p).value


class Recorder:
    """Wraps the library's d2l_generate and d2l_text_free (monkeypatched on the CDLL):
    records every call, the texts allocated and freed; `interrupt_at` (1-based) raises
    KeyboardInterrupt right after that call returned, as Ctrl-C during it would."""

    def __init__(self, monkeypatch, interrupt_at: int | None = None):
        lib = _capi.lib()
        self.calls: list[tuple[bytes, int, int]] = []
        self.allocated: list[int] = []
        self.freed: list[int | None] = []
        real_generate, real_free = lib.d2l_generate, lib.d2l_text_free

        def generate(session, prefix, n, temperature, top_k, seed, out_ref):
            status = real_generate(session, prefix, n, temperature, top_k, seed, out_ref)
            self.calls.append((prefix, n, seed))
            if status == _capi.D2L_OK:
                self.allocated.append(address(out_ref._obj))
            if len(self.calls) == interrupt_at:
                raise KeyboardInterrupt
            return status

        def free(text):
            self.freed.append(address(text))
            real_free(text)

        monkeypatch.setattr(lib, "d2l_generate", generate)
        monkeypatch.setattr(lib, "d2l_text_free", free)

    def reset(self) -> None:
        self.calls.clear()
        self.allocated.clear()
        self.freed.clear()

    def no_leaks(self) -> bool:
        return sorted(self.allocated) == sorted(p for p in self.freed if p is not None) and all(self.allocated)


def json_list(items) -> str:
    return json.dumps(items)


MODELS = {name: (lambda name=name: d2l_runtime.Model(lm_path(name)), PREFIX) for name in LMS}
MODELS["word-lm"] = (lambda: d2l_runtime.Model.from_bytes(
    edited("gru-lm-opset17", "d2l.vocab", json_list(WORDS), d2l_task="word-lm")), WORD_PREFIX)
MODELS["char-lm-unknown-prefix"] = (lambda: d2l_runtime.Model(lm_path("lstm-lm-opset17")), "ét€ <unk>x")


# greedy; seeded sampling with top_k; hot sampling (generates "<unk>") from a seed whose
# SplitMix64 state wraps around 2**64 at once.
SETTINGS = [(0.0, 0, 0), (1.0, 5, 42), (3.0, 0, 2**64 - 1)]
COUNTS = [0, 1, 63, 64, 65, 300]
POLICIES = {
    "default": None,
    "64 each": lambda done, length, seconds: 64,
    "1, 7, 2, 64, 3": "cycle",
}


@pytest.fixture(params=list(MODELS))
def any_lm(request):
    load, prefix = MODELS[request.param]
    with load() as m:
        yield m, prefix


def set_policy(monkeypatch, policy):
    if policy == "cycle":
        sizes = itertools.cycle([1, 7, 2, 64, 3])
        monkeypatch.setattr(_model, "_chunk_size", lambda done, length, seconds: next(sizes))
    elif policy is not None:
        monkeypatch.setattr(_model, "_chunk_size", policy)


def expected_calls(policy, n: int) -> int | None:
    if policy == "64 each":
        return max(1, math.ceil(n / 64))
    return 1 if n <= 64 and policy is None else None


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("temperature,top_k,seed", SETTINGS)
def test_chunks_give_the_text_of_one_call(any_lm, monkeypatch, policy, temperature, top_k, seed):
    model, prefix = any_lm
    want = {n: direct(model, prefix, n, temperature, top_k, seed) for n in COUNTS}
    set_policy(monkeypatch, POLICIES[policy])
    rec = Recorder(monkeypatch)
    for n in COUNTS:
        rec.reset()
        got = model.generate(prefix, n, temperature=temperature, top_k=top_k, seed=seed)
        assert got == want[n], (n, got, want[n])
        calls = expected_calls(policy, n)
        if calls is not None:
            assert len(rec.calls) == calls, (n, rec.calls)
        if n > 64:
            assert len(rec.calls) >= 2  # chunked: no fallback to one call
        assert rec.calls[0][0] == prefix.encode()  # the first call has the caller's prefix
        assert rec.no_leaks()


def test_chunk_seeds_and_prefixes(monkeypatch):
    """Each call continues from the text so far, "<unk>" fed back as one unknown
    character, with the seed advanced by the draws made: seed + done * 0x9E3779B97F4A7C15."""
    monkeypatch.setattr(_model, "_chunk_size", lambda done, length, seconds: 64)
    seed = 2**64 - 3
    with d2l_runtime.Model(lm_path("gru-lm-opset17")) as m:
        want = direct(m, PREFIX, 200, 3.0, 0, seed)
        assert "<unk>" in want[len(PREFIX):]
        rec = Recorder(monkeypatch)
        assert m.generate(PREFIX, 200, temperature=3.0, seed=seed) == want
    assert [(n, s) for _, n, s in rec.calls] == [
        (64, seed), (64, (seed + 64 * 0x9E3779B97F4A7C15) % 2**64),
        (64, (seed + 128 * 0x9E3779B97F4A7C15) % 2**64), (8, (seed + 192 * 0x9E3779B97F4A7C15) % 2**64)]
    for (prefix, _, _), done in zip(rec.calls[1:], (64, 128, 192)):
        text = prefix.decode()
        assert "<unk>" not in text and len(text) == len(PREFIX) + done
        assert want.startswith(text.replace("\ufffd", "<unk>"))


def test_default_chunk_sizes():
    assert _model._chunk_size(0, 0, 0.0) == 64
    # While the text is short: about _CHUNK_SECONDS a call (less the re-reading).
    assert _model._chunk_size(64, 78, 1e-5) == int(_model._CHUNK_SECONDS / 1e-5) - 78
    # Never fewer tokens than the text has (re-reading at most doubles the work) ...
    assert _model._chunk_size(10**6, 10**6 + 14, 1e-5) == 10**6 + 14
    # ... nor fewer than 64.
    assert _model._chunk_size(64, 20, 10.0) == 64


@pytest.mark.parametrize("vocab,task", [
    (["<unk>", " ", "e", "t", "a", "i", "n", "o", "s", "h", "r", "d", "l", "m", "u", "c", "f", "w", "g", "y",
      "p", "b", "v", "k", "<", ">", "j", "q"], None),   # '<', 'u', 'n', 'k', '>' spell "<unk>"
    (["<unk>", " ", "e", "t", "a", "i", "n", "o", "s", "h", "r", "d", "l", "m", "u", "c", "f", "w", "g", "y",
      "p", "b", "v", "k", "x", "th", "j", "q"], None),  # a two-character token
    (["<unk>", " ", "e", "t", "a", "i", "n", "o", "s", "h", "r", "d", "l", "m", "u", "c", "f", "w", "g", "y",
      "p", "b", "v", "k", "x", "e", "j", "q"], None),   # a duplicate token
    (WORDS[:-1] + ["two words"], "word-lm"),             # a word with a space
])
def test_vocabularies_that_cannot_be_read_back_get_one_call(monkeypatch, vocab, task):
    data = edited("gru-lm-opset17", "d2l.vocab", json_list(vocab), d2l_task=task)
    with d2l_runtime.Model.from_bytes(data) as m:
        want = [direct(m, PREFIX, 300, *setting) for setting in SETTINGS]
        rec = Recorder(monkeypatch)
        for (temperature, top_k, seed), text in zip(SETTINGS, want):
            rec.reset()
            assert m.generate(PREFIX, 300, temperature=temperature, top_k=top_k, seed=seed) == text
            assert len(rec.calls) == 1 and rec.no_leaks()


def test_single_character_unknown_token_is_read_back_as_itself(monkeypatch):
    vocab = ["?", " ", "e", "t", "a", "i", "n", "o", "s", "h", "r", "d", "l", "m", "u", "c", "f", "w", "g", "y",
             "p", "b", "v", "k", "x", "z", "j", "q"]
    monkeypatch.setattr(_model, "_chunk_size", lambda done, length, seconds: 64)
    with d2l_runtime.Model.from_bytes(edited("gru-lm-opset17", "d2l.vocab", json_list(vocab))) as m:
        want = direct(m, "time ét€", 300, 3.0, 0, 5)
        rec = Recorder(monkeypatch)
        assert m.generate("time ét€", 300, temperature=3.0, seed=5) == want
        assert len(rec.calls) == 5 and rec.no_leaks()


def test_keyboard_interrupt_between_chunks_propagates_and_frees(monkeypatch):
    monkeypatch.setattr(_model, "_chunk_size", lambda done, length, seconds: 64)
    with d2l_runtime.Model(lm_path("lstm-lm-opset17")) as m:
        want = direct(m, PREFIX, 1000, 1.0, 0, 3)
        rec = Recorder(monkeypatch, interrupt_at=2)
        with pytest.raises(KeyboardInterrupt):
            m.generate(PREFIX, 1000, temperature=1.0, seed=3)
        assert len(rec.calls) == 2  # stopped after the second chunk
        assert len(rec.allocated) == 2 and rec.no_leaks()
        monkeypatch.undo()
        assert m.generate(PREFIX, 1000, temperature=1.0, seed=3) == want  # the model is still usable


def test_errors_free_too(monkeypatch):
    with d2l_runtime.Model(lm_path("gru-lm-opset17")) as m:
        rec = Recorder(monkeypatch)
        with pytest.raises(D2LError):
            m.generate("", 300)
        assert rec.allocated == [] and rec.freed == [None]


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or threading.current_thread() is not threading.main_thread(),
                    reason="needs SIGINT in the main thread")
def test_ctrl_c_stops_a_long_generation():
    """A real SIGINT 0.3 s into a generation that one call would take many seconds for
    (2 million tokens, about 10 s here): KeyboardInterrupt within a second or so."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    try:
        with d2l_runtime.Model(lm_path("rnn-lm-opset17")) as m:
            start = time.perf_counter()
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                m.generate(PREFIX, 2_000_000)
            elapsed = time.perf_counter() - start
            timer.join()
            assert elapsed < 5.0, elapsed
            assert m.generate(PREFIX, 100) == direct(m, PREFIX, 100)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
