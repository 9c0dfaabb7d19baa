"""The package tree is the pipeline: each stage imports only from the stages before it."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rnngraph"

# Stage of every top-level module or sub-package; a module may import from its own folder and
# from lower stages only (stage 0, the foundation, and stage 6, the entry points, are shared).
# trace/ runs what the earlier stages build and reuses train's device check: it comes after them.
STAGES = {
    "errors": 0, "files": 0, "__init__": 0,
    "model": 1, "graphdef": 1,
    "recognise": 2,
    "draw": 3, "explain": 3,
    "growth": 4, "train": 4,
    "trace": 5,
    "gallery": 6, "commands": 6, "cli": 6, "api": 6, "notebook": 6, "__main__": 6,
}


def _modules() -> dict:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        out[".".join(("rnngraph",) + parts)] = path
    return out


def _imports(name: str, path: Path) -> list:
    """Return [(imported module, [names])] of every import in ``path``, lazy ones included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return [(m, n) for m, n in found if m == "rnngraph" or m.startswith("rnngraph.")]


def _stage(module: str) -> tuple:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    if top not in STAGES:
        raise AssertionError(f"{module}: not assigned to a stage in tests/test_architecture.py")
    return top, STAGES[top]


def _edges():
    modules = _modules()
    for name, path in modules.items():
        for target, names in _imports(name, path):
            # `from rnngraph.draw import focus` imports the module rnngraph.draw.focus
            targets = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules] or [target]
            for t in targets:
                yield name, t, names


def test_every_module_belongs_to_a_stage():
    for name in _modules():
        _stage(name)


def test_stages_import_only_from_earlier_stages():
    wrong = []
    for src, dst, _ in _edges():
        (top_a, a), (top_b, b) = _stage(src), _stage(dst)
        if b > a or (a == b and top_a != top_b and a not in (0, max(STAGES.values()))):
            wrong.append(f"{src} imports {dst}")
    assert not wrong, "\n".join(wrong)


def test_no_private_names_across_folders():
    wrong = []
    for src, dst, names in _edges():
        if _stage(src)[0] != _stage(dst)[0]:
            wrong += [f"{src} imports {dst}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = nx.DiGraph()
    modules = _modules()
    for src, dst, _ in _edges():
        if dst in modules and src != dst and not dst.endswith("__init__"):
            graph.add_edge(src, dst)
    # a package's __init__ re-exporting its own modules is not a cycle of stages
    graph.remove_nodes_from([m for m in list(graph) if m.count(".") == 1 and (PACKAGE / m.split(".")[1]).is_dir()])
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, cycles


@pytest.mark.parametrize("name", ["rnngraph.draw.dot", "rnngraph.recognise.cells"])
def test_the_checks_can_fail(name):
    """The import scanner sees the imports it has to check (so the tests above are not vacuous)."""
    targets = {t for s, t, _ in _edges() if s == name}
    assert any(t.startswith("rnngraph.") for t in targets)
