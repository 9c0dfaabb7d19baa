"""Issue 24: a poisoned build cache changes no file outside the cache and never serves a wrong picture.

The fast tests craft entries with the cache's own writer around made-up GraphDef bytes (no
TensorFlow); the slow ones run `rnngraph render` in a child process under a 4 GB address-space
limit and a 60 s timeout, as an attacker's victim would.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.make_hostile_run import poison_cache

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 4 << 30


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """Return (cache module, a list collecting its notes) with the cache in ``tmp_path``."""
    from rnngraph.model import cache as module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    module._noted.clear()
    notes: list = []
    return module, notes


def _spec(kind="dynamic"):
    from rnngraph.model.spec import ModelSpec

    return ModelSpec(kind=kind, steps=2)


def _graph_bytes(name: str) -> bytes:
    from rnngraph.graphdef.protos import GraphDef

    graph = GraphDef()
    graph.node.add(name=name, op="NoOp")
    return graph.SerializeToString()


def _parse(data: bytes):
    from rnngraph.graphdef.protos import GraphDef

    return GraphDef.FromString(data)


def test_an_entry_written_by_the_cache_is_served(cache):
    module, notes = cache
    spec = _spec()
    module._store(spec, _graph_bytes("mine"), notes.append)
    assert module.load_cached(spec, parse=_parse, say=notes.append) == _graph_bytes("mine")
    folder = module.cache_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 == stat.S_IMODE(folder.parent.stat().st_mode)
    assert notes == [] and [p.name for p in folder.iterdir()] == [module.cache_path(spec).name]


def test_a_symlink_entry_to_a_secret_is_replaced_not_followed(cache, tmp_path):
    module, notes = cache
    spec = _spec()
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:secret\n")
    secret.chmod(0o600)
    entry = module.cache_path(spec)
    entry.parent.mkdir(parents=True, mode=0o700)
    entry.parent.parent.chmod(0o700)
    poison_cache(entry, "symlink-to-secret", secret=secret)
    assert module.load_cached(spec, parse=_parse, say=notes.append) is None
    assert notes == [f"ignoring cache entry {entry.name}: it is a symbolic link; building again"]
    module._store(spec, _graph_bytes("mine"), notes.append)
    assert secret.read_bytes() == b"root:secret\n" and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert not entry.is_symlink() and module.load_cached(spec, say=notes.append) == _graph_bytes("mine")


@pytest.mark.parametrize("kind, reason", [
    ("fifo", "it is not a regular file"),
    ("directory", "it is not a regular file"),
    ("huge-sparse", "it is a symbolic link"),
    ("garbage-valid-digest", "it is not a rnngraph build (old format, or another file)"),
    ("truncated", "its header is truncated"),
])
def test_a_hostile_entry_is_not_served(cache, kind, reason):
    module, notes = cache
    spec = _spec()
    entry = module.cache_path(spec)
    module._store(spec, _graph_bytes("mine"), notes.append)
    poison_cache(entry, kind, other=entry.read_bytes())
    assert module.load_cached(spec, parse=_parse, say=notes.append) is None
    assert notes == [f"ignoring cache entry {entry.name}: {reason}; building again"]


def test_a_huge_regular_entry_is_refused_by_its_size_before_reading(cache, monkeypatch):
    module, notes = cache
    spec = _spec()
    entry = module.cache_path(spec)
    module._store(spec, _graph_bytes("mine"), notes.append)
    with open(entry, "r+b") as handle:
        handle.truncate(5 << 30)  # sparse: nothing is written
    monkeypatch.setattr(os, "read", lambda *a: pytest.fail("read an oversized entry"))
    assert module.load_cached(spec, say=notes.append) is None
    assert notes == [f"ignoring cache entry {entry.name}: it is {5 << 30} bytes, more than the "
                     f"{module.MAX_ENTRY} an entry may hold; building again"]


def test_another_models_entry_under_this_key_is_not_served(cache):
    module, notes = cache
    dynamic, static = _spec("dynamic"), _spec("static")
    module._store(static, _graph_bytes("static"), notes.append)
    poison_cache(module.cache_path(dynamic), "other-model",
                 other=module.cache_path(static).read_bytes())
    assert module.load_cached(dynamic, say=notes.append) is None
    assert notes[-1].endswith("it records another model or other versions than this key; "
                              "building again")


def test_a_valid_header_around_garbage_is_not_served(cache):
    module, notes = cache
    spec = _spec()
    module._store(spec, b"\x0a\xff\xff\xff\x0f not a GraphDef", notes.append)  # digest matches
    assert module.load_cached(spec, parse=_parse, say=notes.append) is None
    assert notes[-1].endswith("its GraphDef does not parse; building again")


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o757])
def test_a_cache_folder_others_can_write_is_not_used(cache, mode):
    module, notes = cache
    spec = _spec()
    module._store(spec, _graph_bytes("mine"), notes.append)
    module.cache_dir().chmod(mode)
    assert module.load_cached(spec, say=notes.append) is None
    module._store(spec, _graph_bytes("theirs"), notes.append)  # not written either
    module.cache_dir().chmod(0o700)
    assert module.load_cached(spec, say=notes.append) == _graph_bytes("mine")
    assert notes == [f"not using the build cache {module.cache_dir()}: other users can write to it "
                     f"(mode {mode:04o}); building without it (make it yours with mode 700 to use it)"]


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def render(tmp_path: Path, kind: str, out: Path):
    """Run `rnngraph render KIND --steps 2 --format json` in a child: 4 GB, 60 s."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    return subprocess.run([sys.executable, "-m", "rnngraph", "render", kind, "--steps", "2",
                           "--format", "json", "-o", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, preexec_fn=_limited)


@pytest.mark.tf
@pytest.mark.slow
def test_render_with_a_poisoned_cache(tmp_path, monkeypatch):
    from rnngraph.model.cache import cache_path
    from rnngraph.model.spec import ModelSpec

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    dynamic = cache_path(ModelSpec(kind="dynamic", steps=2))
    static = cache_path(ModelSpec(kind="static", steps=2))
    assert render(tmp_path, "static", tmp_path / "s.json").returncode == 0 and static.is_file()

    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:secret\n")
    secret.chmod(0o600)
    # (The other poisons are read in-process above; each case here costs a TensorFlow build.)
    cases = [("symlink-to-secret", {"secret": secret}), ("fifo", {}), ("huge-sparse", {}),
             ("other-model", {"other": static.read_bytes()})]
    for kind, extra in cases:
        poison_cache(dynamic, kind, **extra)
        out = tmp_path / f"{kind}.json"
        done = render(tmp_path, "dynamic", out)
        assert done.returncode == 0, (kind, done.stderr)
        notes = [line for line in done.stderr.splitlines() if line.startswith("rnngraph: note:")]
        assert len(notes) == 1 and "ignoring cache entry" in notes[0], (kind, done.stderr)
        names = {node["id"] for node in json.loads(out.read_text(encoding="utf-8"))["nodes"]}
        assert any("/while/" in name for name in names), kind  # dynamic_rnn's loop, not static's copies
        assert dynamic.is_file() and not dynamic.is_symlink()
    assert secret.read_bytes() == b"root:secret\n" and stat.S_IMODE(secret.stat().st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a file to another user needs root")
def test_an_entry_or_a_folder_of_another_user_is_not_used(cache):
    module, notes = cache
    spec = _spec()
    module._store(spec, _graph_bytes("mine"), notes.append)
    entry = module.cache_path(spec)
    os.chown(entry, 12345, -1)
    assert module.load_cached(spec, say=notes.append) is None
    assert notes == [f"ignoring cache entry {entry.name}: it belongs to user id 12345, not you; "
                     f"building again"]
    os.chown(entry, 0, -1)
    os.chown(module.cache_dir(), 12345, -1)
    assert module.load_cached(spec, say=notes.append) is None
    assert notes[-1] == (f"not using the build cache {module.cache_dir()}: it belongs to user id "
                         f"12345, not you; building without it (make it yours with mode 700 to use it)")
