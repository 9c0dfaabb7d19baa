"""Shared fixtures: markers for outside things, golden files, cached TF graphs."""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

import pytest

# rnngraph imports TensorFlow with tf-keras behind tf.keras (model/tfcompat.py); a test that
# imports TensorFlow first (LiteRT, Keras files) must get the same switch, whatever the order.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _no_global_seed_left_behind():
    """Keras' set_random_seed (Keras 3 and tf_keras) seeds Python, NumPy, TensorFlow's eager
    context and Keras' own generators for the whole process: a later test (training, resume,
    cached builds) would draw other initial values, and TF1 graphs built after it get op seeds.
    Put every one back after each test, whatever the test (a diff test once leaked into 20)."""
    import numpy as np

    state = random.getstate(), np.random.get_state()
    yield
    random.setstate(state[0])
    np.random.set_state(state[1])
    if "tensorflow" in sys.modules:  # only where a test imported it: never import it here
        sys.modules["tensorflow"].random.set_seed(None)
    if "tf_keras" in sys.modules:  # tf_keras keeps its own generator, which its initializers use
        try:
            from tf_keras.src import backend
        except ImportError:
            pass
        else:
            backend._SEED_GENERATOR.generator = None
    if "keras" in sys.modules:  # Keras 3 records the seed in its global state
        try:
            from keras.src.backend.common import global_state
        except ImportError:
            pass
        else:
            global_state.set_global_attribute("global_random_seed", None)
            global_state.set_global_attribute("global_seed_generator", None)


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")


def _have_tf() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def pytest_collection_modifyitems(config, items):
    no_tf = not _have_tf()
    no_dot = shutil.which("dot") is None
    for item in items:
        if no_tf and "tf" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="TensorFlow is not installed"))
        if no_dot and "dot" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="Graphviz dot is not installed"))


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/NAME, or rewrite it under --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update or not path.exists():
            if not update and os.environ.get("CI"):
                pytest.fail(f"golden file {path} is missing; run pytest --update-golden")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path}; review and run pytest --update-golden"

    return check


_BUILT: dict = {}


@pytest.fixture(scope="session")
def built():
    """Return a function spec-kwargs -> BuiltGraph, caching each graph for the session."""
    from rnngraph.model.builder import build_graph
    from rnngraph.model.spec import ModelSpec

    def get(**kwargs):
        key = tuple(sorted(kwargs.items()))
        if key not in _BUILT:
            _BUILT[key] = build_graph(ModelSpec(**kwargs))
        return _BUILT[key]

    return get


@pytest.fixture(scope="session")
def walked(built):
    """Return a function spec-kwargs -> networkx graph of the built graph (cached)."""
    from rnngraph.graphdef.walk import walk

    cache: dict = {}

    def get(**kwargs):
        key = tuple(sorted(kwargs.items()))
        if key not in cache:
            cache[key] = walk(built(**kwargs))
        return cache[key]

    return get


@pytest.fixture(autouse=True, scope="session")
def _private_build_cache(tmp_path_factory):
    """Keep the tests' cached builds (rnngraph.model.cache) out of the user's ~/.cache."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old
