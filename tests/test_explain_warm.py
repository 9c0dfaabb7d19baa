"""explain from a cached build reads only the GraphDef: a warm run imports no TensorFlow (nor NumPy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnngraph.explain import TOPICS, explain, render_text
from rnngraph.model.spec import ModelSpec

pytestmark = [pytest.mark.tf, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent

# Every topic through the command line in one fresh process; the prose must be what the
# TensorFlow-built graph gave, and TensorFlow must not have been imported.
_WARM = """
import contextlib, io, sys
from rnngraph.cli import main
out = {}
for topic in sys.argv[1:]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["explain", topic]) == 0
    out[topic] = buffer.getvalue()
print(repr((sorted(m for m in sys.modules if m.partition(".")[0] in ("tensorflow", "numpy")), out)))
"""


def test_warm_explain_imports_no_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cold = {topic: render_text(explain(topic, ModelSpec())) for topic in TOPICS}  # builds, fills the cache
    assert list((tmp_path / "rnngraph" / "graphs").glob("*.pb"))
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", _WARM, *TOPICS], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    imported, warm = eval(result.stdout)  # noqa: S307 - our own repr
    assert imported == []
    assert warm == cold


def test_verify_still_runs_tensorflow(monkeypatch, tmp_path):
    """--verify needs the built graph (TensorFlow), even when the GraphDef is cached."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from rnngraph.explain import topics

    seen = []
    monkeypatch.setattr("rnngraph.explain.verify.verify_built",
                        lambda built, build=None: seen.append(type(built).__name__) or
                        {"ok": True, "max_abs_diff": 0.0, "tolerance": 1e-5})
    explain("rnn", ModelSpec(), verify=True)
    assert seen == ["BuiltGraph"]
    assert topics.cached_graph_def(ModelSpec()).node  # the cache path gives the same GraphDef type walk reads
