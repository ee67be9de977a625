"""The onnxruntime-compatible surface of Model and Session: get_inputs() / get_outputs()
(NodeArg: name, shape with dim_param names, onnxruntime's type strings, from
d2l_model_*_dim_names), run(output_names, input_feed) beside run(inputs), and
input_index / output_index (d2l_model_*_index). Compared with onnxruntime itself where it
is installed."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import d2l_runtime
from d2l_runtime import NodeArg

from conftest import FIXTURES, LENET, make_model

LM = FIXTURES / "gru-lm-opset17" / "model.onnx"


def typed_identities() -> bytes:
    """One identity per element type libd2l runs, with fixed, named and unnamed dims."""
    types = [("f", TensorProto.FLOAT), ("u", TensorProto.UINT8), ("i", TensorProto.INT32), ("l", TensorProto.INT64),
             ("b", TensorProto.BOOL)]
    inputs = [helper.make_tensor_value_info(n, t, ["n", None, 3]) for n, t in types]
    outputs = [helper.make_tensor_value_info(f"{n}_out", t, ["n", None, 3]) for n, t in types]
    nodes = [helper.make_node("Identity", [n], [f"{n}_out"]) for n, _ in types]
    return make_model(inputs, outputs, nodes)


def test_get_inputs_and_outputs_of_lenet(lenet):
    (x,) = lenet.get_inputs()
    assert (x.name, x.shape, x.type) == ("x", ["batch", 1, 28, 28], "tensor(float)")
    (y,) = lenet.get_outputs()
    assert (y.name, y.shape, y.type) == ("logits", ["batch", 10], "tensor(float)")
    assert repr(x) == "NodeArg(name='x', type='tensor(float)', shape=['batch', 1, 28, 28])"
    assert lenet.get_inputs() == [x] and lenet.get_inputs() is not lenet.get_inputs()
    s = lenet.session()
    assert s.get_inputs() == [x] and s.get_outputs() == [y]


def test_get_inputs_types_and_dims():
    with d2l_runtime.Model.from_bytes(typed_identities()) as m:
        got = [(a.name, a.shape, a.type) for a in m.get_inputs()]
        assert got == [
            ("f", ["n", None, 3], "tensor(float)"),
            ("u", ["n", None, 3], "tensor(uint8)"),
            ("i", ["n", None, 3], "tensor(int32)"),
            ("l", ["n", None, 3], "tensor(int64)"),
            ("b", ["n", None, 3], "tensor(bool)"),
        ]
        assert [a.name for a in m.get_outputs()] == ["f_out", "u_out", "i_out", "l_out", "b_out"]
        assert m.input_shapes[0] == (None, None, 3)  # the older description is unchanged


@pytest.mark.parametrize("path", [LENET, LM], ids=lambda p: p.parent.name)
def test_node_args_equal_onnxruntimes(path):
    ort = pytest.importorskip("onnxruntime")
    reference = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with d2l_runtime.Model(path) as m:
        for ours, theirs in ((m.get_inputs(), reference.get_inputs()), (m.get_outputs(), reference.get_outputs())):
            assert [(a.name, a.shape, a.type) for a in ours] == [(a.name, a.shape, a.type) for a in theirs]
            assert [str(a) for a in ours] == [str(a) for a in theirs]


def test_node_args_of_typed_identities_equal_onnxruntimes():
    ort = pytest.importorskip("onnxruntime")
    data = typed_identities()
    reference = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    with d2l_runtime.Model.from_bytes(data) as m:
        assert [str(a) for a in m.get_inputs()] == [str(a) for a in reference.get_inputs()]
        assert [str(a) for a in m.get_outputs()] == [str(a) for a in reference.get_outputs()]


def lm_feed(m):
    return {"tokens": np.array([[3, 1, 4]], np.int64).T.copy(), "h": np.zeros((1, 3, 32), np.float32)}


def test_run_output_names_and_input_feed():
    with d2l_runtime.Model(LM) as m:
        feed = lm_feed(m)
        logits, h_out = m.run(feed)
        for got in (m.run(None, feed), m.run(output_names=None, input_feed=feed), m.run(None, feed, None),
                    m.run(input_feed=feed)):
            assert len(got) == 2
            np.testing.assert_array_equal(got[0], logits)
            np.testing.assert_array_equal(got[1], h_out)
        (only,) = m.run(["h_out"], feed)
        np.testing.assert_array_equal(only, h_out)
        swapped = m.run(("h_out", "logits"), feed)
        np.testing.assert_array_equal(swapped[0], h_out)
        np.testing.assert_array_equal(swapped[1], logits)
        twice = m.run(["logits", "logits"], input_feed=feed)
        np.testing.assert_array_equal(twice[1], logits)
        assert m.run([], feed) == []
        # The feed may be a list by position, as run(inputs) takes.
        np.testing.assert_array_equal(m.run(["logits"], [feed["tokens"], feed["h"]])[0], logits)


def test_run_matches_onnxruntime():
    ort = pytest.importorskip("onnxruntime")
    reference = ort.InferenceSession(str(LM), providers=["CPUExecutionProvider"])
    with d2l_runtime.Model(LM) as m:
        feed = lm_feed(m)
        for names in (None, ["h_out"], ["h_out", "logits"]):
            ours, theirs = m.run(names, feed), reference.run(names, feed)
            assert len(ours) == len(theirs)
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_run_refusals():
    with d2l_runtime.Model(LM) as m:
        feed = lm_feed(m)
        with pytest.raises(KeyError, match="no output 'nope'.*'logits', 'h_out'"):
            m.run(["logits", "nope"], feed)
        with pytest.raises(KeyError, match="no output 'tokens'"):
            m.run(["tokens"], feed)  # an input is no output
        with pytest.raises(KeyError, match="NUL"):
            m.run(["logits\0x"], feed)
        with pytest.raises(TypeError, match="list of output names"):
            m.run("logits", feed)
        with pytest.raises(TypeError, match="output names must be str"):
            m.run([0], feed)
        with pytest.raises(TypeError, match="run_options"):
            m.run(None, feed, object())
        with pytest.raises(TypeError, match="needs input_feed"):
            m.run(feed, output_names=["logits"])
        with pytest.raises(TypeError, match="twice"):
            m.run(["logits"], feed, output_names=["h_out"])
        with pytest.raises(TypeError, match="inputs must be"):
            m.run(None)
        with pytest.raises(KeyError, match="missing input"):
            m.run(None, {"tokens": feed["tokens"]})
        with pytest.raises(KeyError, match="unknown input"):
            m.run(None, {**feed, "extra": feed["h"]})


def test_session_run_forms():
    with d2l_runtime.Model(LM) as m:
        s = m.session()
        feed = lm_feed(m)
        logits, h_out = s.run(feed)
        (again,) = s.run(["h_out"], feed)
        np.testing.assert_array_equal(again, h_out)
        kept = s.run()  # the inputs set so far
        np.testing.assert_array_equal(kept[0], logits)
        np.testing.assert_array_equal(s.run(None, feed)[1], h_out)
        with pytest.raises(KeyError, match="no output"):
            s.run(["h"], feed)


def test_input_and_output_index():
    with d2l_runtime.Model(LM) as m:
        assert (m.input_index("tokens"), m.input_index("h")) == (0, 1)
        assert (m.output_index("logits"), m.output_index("h_out")) == (0, 1)
        with pytest.raises(KeyError, match="no input 'x'; its inputs are 'tokens', 'h'"):
            m.input_index("x")
        with pytest.raises(TypeError):
            m.output_index(0)


def test_node_arg_value_semantics():
    a = NodeArg("x", ("batch", 3), "tensor(float)")
    assert a.shape == ["batch", 3]
    assert a == NodeArg("x", ["batch", 3], "tensor(float)") and hash(a) == hash(NodeArg("x", ["batch", 3], "tensor(float)"))
    assert a != NodeArg("x", ["batch", 4], "tensor(float)")
    assert (a == "x") is False
