"""Model.generate (d2l_generate) on the committed language-model fixtures (untrained
weights: determinism and properties, not text), its bad inputs, and agreement with the
C example bindings/c/build/generate."""

from __future__ import annotations

import subprocess

import numpy as np
import onnx
import pytest

import d2l_runtime
from d2l_runtime import D2LError
from d2l_runtime._capi import D2L_ERR_INVALID_ARGUMENT, D2L_ERR_INVALID_MODEL, D2L_ERR_UNSUPPORTED

from conftest import FIXTURES, LENET, REPO

LMS = ["gru-lm-opset17", "lstm-lm-opset17", "rnn-lm-opset17"]
PREFIX = "time traveller"
GENERATE = REPO / "bindings" / "c" / "build" / "generate"


def lm_path(name: str):
    return FIXTURES / name / "model.onnx"


def edited(name: str, key: str, value: str | None) -> bytes:
    m = onnx.load(str(lm_path(name)))
    props = [(p.key, p.value) for p in m.metadata_props if p.key != key]
    if value is not None:
        props.append((key, value))
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
    for kwargs in [dict(top_k=1000, temperature=1.0), dict(temperature=-1.0), dict(temperature=float("nan"))]:
        with pytest.raises(D2LError) as e:
            lm.generate(PREFIX, 5, **kwargs)
        assert e.value.code == D2L_ERR_INVALID_ARGUMENT
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
