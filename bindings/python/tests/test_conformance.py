"""onnx's backend node tests of the operators libd2l supports, one pytest case each.

A thin wrapper over tools/dev/onnx-conformance (see tools/dev/conformance/README.md): the same
collection (supported-ops.txt, excluded.tsv, automatic "needs op Y" exclusions) and the
same check (d2l_runtime.Model(path), inputs by position, onnx's backend tolerance).
Excluded tests are skipped with their reason. Runs in this process (the script itself
forks one child per test).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")

SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "dev" / "onnx-conformance"


def _load_runner():
    loader = importlib.machinery.SourceFileLoader("onnx_conformance", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


conformance = _load_runner()

try:
    conformance.check_onnx_version()
    CASES = conformance.collect()
    SETUP_ERROR = None
except conformance.SetupError as e:
    CASES, SETUP_ERROR = [], str(e)

if SETUP_ERROR is not None:
    pytest.skip(f"ONNX conformance: {SETUP_ERROR}", allow_module_level=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node(case):
    if case.excluded:
        pytest.skip(case.excluded)
    conformance.check(case)


def test_collection():
    """The runner covers tests of every supported op, and excluded.tsv names only covered tests."""
    missing = set(conformance.read_ops()) - {c.op for c in CASES}
    assert not missing, f"supported ops without a node test: {sorted(missing)}"
    stale = conformance.stale_exclusions(CASES, conformance.read_excluded())
    assert not stale, f"excluded.tsv lists tests that are not covered (or are excluded automatically): {stale}"
