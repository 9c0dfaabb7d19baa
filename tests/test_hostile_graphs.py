"""Crafted graph files of issue 24 (tests/fixtures/make_hostile_graphs.py), each run as a user
would: a subprocess under a 4 GB address-space limit and 60 s.  Each exits 0, 1 or 2, never by a
signal; a refusal is one clear line; an accepted file's counts equal TensorFlow's parse."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from make_hostile_graphs import CASES, CONTROLS, write_all  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 4 << 30
RAW = {c for c in CONTROLS if ord(c) < 32 or 0x7F <= ord(c) < 0xA0}  # ESC, BEL, 0x85, 0x9b, NUL...
FAST = [name for name, case in CASES.items() if not case.slow]
SLOW = [name for name, case in CASES.items() if case.slow]
# Refused in one line naming the node, as TensorFlow's importer refuses them.
REFUSED = {"own_ids": "holds '::'", "digit_index": "not written in the digits 0-9",
           "digit_index_in_function": "not written in the digits 0-9"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_all(tmp_path_factory.mktemp("hostile"))


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def rnngraph(*args, timeout: int = 60) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess under the 4 GB address-space limit; fail if it runs past ``timeout``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, "-m", "rnngraph", *map(str, args)], capture_output=True,
                          timeout=timeout, preexec_fn=_limit, env=env, text=True,
                          encoding="utf-8", errors="replace")


def _check(result: subprocess.CompletedProcess, case: str) -> None:
    assert result.returncode in (0, 1, 2), (case, result.returncode, result.stderr[-500:])
    if result.returncode:
        # One error line, last; before it only rnngraph's own notes (what the drawing leaves out).
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("rnngraph: error: ")]
        assert errors == lines[-1:] and all(line.startswith("rnngraph: ") for line in lines), \
            (case, lines)
        assert "Traceback" not in result.stderr and "Error:" not in lines[-1], (case, lines)
        if case in REFUSED:
            assert REFUSED[case] in lines[-1]
    else:
        assert case not in REFUSED, case


def _commands(path: Path, out: Path) -> dict:
    return {"inspect": ["inspect", path], "json": ["inspect", "--json", path],
            "html": ["inspect", path, "--render", out / f"{path.stem}.html"],
            "explain": ["explain", "--file", path, "rnn"]}


@pytest.mark.parametrize("case", FAST)
def test_crafted_file_summary_exits_cleanly(case, files):
    result = rnngraph("inspect", "--json", files[case])
    _check(result, case)


@pytest.mark.slow
@pytest.mark.parametrize("case", FAST + SLOW)
@pytest.mark.parametrize("command", ["inspect", "html", "explain"])
def test_crafted_file_every_command_exits_cleanly(case, command, files, tmp_path):
    result = rnngraph(*_commands(files[case], tmp_path)[command])
    _check(result, case)


@pytest.mark.slow
@pytest.mark.dot
@pytest.mark.parametrize("case", FAST + SLOW)
def test_crafted_file_draws_valid_svg(case, files, tmp_path):
    import xml.dom.minidom

    out = tmp_path / f"{case}.svg"
    result = rnngraph("inspect", files[case], "--render", out)
    _check(result, case)
    if result.returncode == 0:
        xml.dom.minidom.parse(str(out))  # valid XML whatever the names held


def test_call_bomb_is_expanded_within_the_budget_and_says_so(files, tmp_path):
    """Before: 10**8 leaf calls; inspect grew to 3.7 GB and died of a segmentation fault."""
    result = rnngraph("inspect", "--json", files["call_bomb_7k"])
    _check(result, "call_bomb_7k")
    data = json.loads(result.stdout)
    assert data["unexpanded_calls"] > 0
    assert any("not expanded" in note for note in data["notes"])
    text = rnngraph("inspect", files["call_bomb_7k"]).stdout
    assert "function calls drawn as boxes, not expanded" in text


def _library_cycles(graph_def) -> list:
    """The recursion groups of a library, found independently of rnngraph (Tarjan-free: closure)."""
    calls = {f.signature.name: {n.attr["f"].func.name for n in f.node_def if "f" in n.attr}
             for f in graph_def.library.function}
    reach = {f: set(c) for f, c in calls.items()}
    changed = True
    while changed:
        changed = False
        for f in reach:
            more = set().union(*(reach.get(g, set()) for g in reach[f])) - reach[f]
            if more:
                reach[f] |= more
                changed = True
    groups = {frozenset(g for g in reach if g in reach[f] and f in reach[g]) | {f}
              for f in reach if f in reach[f]}
    return sorted(sorted(g) for g in groups)


@pytest.mark.parametrize("case,expected", [("self_recursive", [["f"]]),
                                           ("mutual_recursive", [["f", "g", "h"]])])
def test_recursion_is_reported_by_every_command(case, expected, files, tmp_path):
    """Before: a self-calling function was silently cut (and made `run` die of a signal)."""
    graph_def = CASES[case].make()
    assert _library_cycles(graph_def) == expected
    data = json.loads(rnngraph("inspect", "--json", files[case]).stdout)
    assert data["recursion"] == expected
    word = "calls itself" if len(expected[0]) == 1 else "call each other"
    assert word in rnngraph("inspect", files[case]).stdout
    explained = rnngraph("explain", "--file", files[case], "rnn")
    assert explained.returncode == 0 and "Recursion: function" in explained.stdout
    page = tmp_path / "page.html"
    assert rnngraph("inspect", files[case], "--render", page).returncode == 0
    assert "recursion" in page.read_text(encoding="utf-8")


def test_names_never_reach_the_terminal_raw(files):
    """Before: ESC, BEL, C1 controls, NUL, VT and FF were printed raw by explain --file."""
    for args in (["inspect", files["control_names"]],
                 ["explain", "--file", files["control_names"], "concat"]):
        result = rnngraph(*args)
        assert result.returncode == 0
        assert not RAW & set(result.stdout + result.stderr), args


@pytest.mark.tf
@pytest.mark.parametrize("case", [c for c in FAST if c not in REFUSED])
def test_counts_equal_tensorflows_parse(case, files):
    """Every node the file holds is counted (before: a function body's key equal to a real
    top-level name merged two nodes; inspect said 3 where the file has 4)."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(files[case].read_bytes())
    data = json.loads(rnngraph("inspect", "--json", files[case]).stdout)
    assert data["nodes"] == len(graph_def.node)
    assert data["file_nodes"] == {"graph": len(graph_def.node), "functions": sum(
        len(f.node_def) for f in graph_def.library.function)}
    assert data["recursion"] == _library_cycles(graph_def)


def test_node_names_like_rnngraphs_own_ids_stay_nodes():
    """Before: a node named cluster_a shared its id with the cluster of scope a (the page's
    id table merged them); a body node keyed like a real node merged the two."""
    from rnngraph.draw.dot import RenderOptions, to_dot
    from rnngraph.draw.scene import scene_data
    from rnngraph.graphdef import protos
    from rnngraph.graphdef.walk import top_level_nodes, walk

    graph_def = protos.GraphDef()
    graph_def.node.add(name="in", op="Placeholder")
    for name in ("cluster_a", "a/b", "a/c", "legend", "scope_a"):
        graph_def.node.add(name=name, op="Relu", input=["in"])
    graph = walk(graph_def)
    assert len(top_level_nodes(graph)) == len(graph_def.node)
    dot = to_dot(graph, RenderOptions())
    assert '"cluster_a" [' in dot and 'subgraph "cluster::a" {' in dot
    scene = scene_data(graph, RenderOptions(), sorted(graph.nodes))
    assert [row[0] for row in scene["boxes"]].count("cluster_a") == 1 and "a" in scene["scopes"]
    assert all(not key.startswith("cluster_") for key in scene["ids"] if key != "cluster_a")
