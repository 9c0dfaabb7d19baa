"""The build cache: a model built before is drawn without TensorFlow, byte for byte the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_cache_lives_under_xdg_cache_home(monkeypatch, tmp_path):
    from rnngraph.model.cache import cache_dir, cache_path
    from rnngraph.model.spec import ModelSpec

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "rnngraph" / "graphs"
    a, b = cache_path(ModelSpec(steps=2)), cache_path(ModelSpec(steps=3))
    assert a.parent == cache_dir() and a != b and a == cache_path(ModelSpec(steps=2))
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "rnngraph" / "graphs"


def test_importing_the_cache_does_not_import_tensorflow():
    code = ("import sys, rnngraph.model.cache as c; from rnngraph.model.spec import ModelSpec; "
            "c.load_cached(ModelSpec()); assert 'tensorflow' not in sys.modules, 'tf imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.tf
@pytest.mark.slow
def test_a_cached_build_is_read_back_and_a_corrupt_one_rebuilt(monkeypatch, tmp_path):
    from rnngraph.draw.html import render_html
    from rnngraph.graphdef.protos import GraphDef
    from rnngraph.graphdef.walk import walk
    from rnngraph.model.cache import cache_path, graph_def_for, load_cached
    from rnngraph.model.spec import ModelSpec

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = ModelSpec(kind="dynamic", steps=2)
    fresh, built = graph_def_for(spec)
    assert built is not None and cache_path(spec).is_file()
    cached, again = graph_def_for(spec)
    assert again is None  # read back, not built
    assert cached == fresh == built.graph_def().SerializeToString(deterministic=True)
    assert render_html(walk(built)) == render_html(walk(GraphDef.FromString(cached)))
    assert graph_def_for(spec, use_cache=False)[1] is not None  # --no-cache builds

    good = cache_path(spec).read_bytes()
    cache_path(spec).write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit flipped: a miss
    assert load_cached(spec) is None
    cache_path(spec).write_bytes(b"\xff not a graph")  # not ours: a miss, built and replaced
    assert load_cached(spec) is None
    assert graph_def_for(spec)[1] is not None and load_cached(spec) is not None


def _render(tmp_path: Path, out: Path, *extra: str) -> bool:
    """Run ``rnngraph render`` in a fresh process; return whether it imported TensorFlow."""
    code = ("import sys; from rnngraph.cli import main; rc = main(sys.argv[1:]); "
            "print('tensorflow' in sys.modules); sys.exit(rc)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code, "render", "dynamic", "--control-flow", "v2",
                           "--format", out.suffix[1:], "-o", str(out), *extra], check=True,
                          cwd=ROOT, env=env, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.tf
@pytest.mark.slow
def test_cached_and_fresh_builds_give_the_same_bytes(tmp_path):
    # A fresh process builds (and caches); the next one reads the cache, without TensorFlow.
    assert _render(tmp_path, tmp_path / "fresh.html") is True
    assert _render(tmp_path, tmp_path / "cached.html") is False
    assert (tmp_path / "fresh.html").read_bytes() == (tmp_path / "cached.html").read_bytes()
    assert _render(tmp_path, tmp_path / "cached.dot") is False
