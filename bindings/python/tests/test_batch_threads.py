"""The symbolic batch dimension (re-planning when the batch changes), kernel threads, and
sessions used from several Python threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import d2l_runtime

from conftest import FIXTURES, LENET, load_pb

ATOL = 1e-5


def per_image(model_path, images):
    with d2l_runtime.Model(model_path) as m:
        return np.concatenate([m.run({"x": img[None]})[0] for img in images])


@pytest.mark.parametrize("path", [LENET, FIXTURES / "lenet-opset17" / "model.onnx", FIXTURES / "lenet-opset20" / "model.onnx"], ids=lambda p: p.parent.name + "/" + p.name)
def test_batch_1_then_3_then_1(path, samples):
    assert len(samples) >= 3
    images = samples[:3]
    singles = per_image(path, images)
    with d2l_runtime.Model(path) as m:
        assert m.input_shapes[0][0] is None
        (a,) = m.run({"x": images[:1]})
        (b,) = m.run({"x": images})
        (c,) = m.run({"x": images[2:3]})
        (d,) = m.run({"x": images[::-1].copy()})
        (e,) = m.run({"x": images[:1]})
    assert a.shape == (1, 10) and b.shape == (3, 10) and c.shape == (1, 10)
    np.testing.assert_allclose(a, singles[:1], rtol=0, atol=ATOL)
    np.testing.assert_allclose(b, singles, rtol=0, atol=ATOL)
    np.testing.assert_allclose(c, singles[2:3], rtol=0, atol=ATOL)
    np.testing.assert_allclose(d, singles[::-1], rtol=0, atol=ATOL)
    np.testing.assert_array_equal(e, a)


def test_fixture_batch_matches_single_rows():
    data_set = FIXTURES / "lenet-opset17" / "test_data_set_0"
    x = load_pb(data_set / "input_0.pb")
    want = load_pb(data_set / "output_0.pb")
    with d2l_runtime.Model(FIXTURES / "lenet-opset17" / "model.onnx") as m:
        for i in range(x.shape[0]):
            (row,) = m.run([x[i : i + 1]])
            np.testing.assert_allclose(row, want[i : i + 1], rtol=0, atol=ATOL)
        (all_rows,) = m.run([x])
        np.testing.assert_allclose(all_rows, want, rtol=0, atol=ATOL)


@pytest.mark.parametrize("threads", [2, 4, 0])
def test_threads_give_the_same_results(threads, samples):
    batch = np.concatenate([samples] * 4)  # enough rows to split
    with d2l_runtime.Model(LENET) as m:
        m.set_threads(1)
        (one,) = m.run({"x": batch})
        m.set_threads(threads)
        (many,) = m.run({"x": batch})
        (again,) = m.run({"x": batch[:1]})
        m.set_threads(1)
        (back,) = m.run({"x": batch})
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-5)
    np.testing.assert_allclose(again, one[:1], rtol=0, atol=1e-5)  # other GEMM paths round differently
    np.testing.assert_array_equal(back, one)


def test_threads_on_fixtures():
    for name in ("mlp-opset17", "lenet-opset20"):
        folder = FIXTURES / name
        for data_set in sorted(folder.glob("test_data_set_*")):
            x = load_pb(data_set / "input_0.pb")
            want = load_pb(data_set / "output_0.pb")
            with d2l_runtime.Model(folder / "model.onnx") as m:
                m.set_threads(2)
                (got,) = m.run([x])
            np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def test_sessions_in_parallel_python_threads(samples):
    with d2l_runtime.Model(LENET) as m:
        (want,) = m.run({"x": samples})
        results, errors = {}, []

        def work(k):
            try:
                with m.session() as s:
                    for _ in range(20):
                        (got,) = s.run({"x": samples})
                    results[k] = got
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    assert len(results) == 4
    for got in results.values():
        np.testing.assert_array_equal(got, want)
