"""explain --verify: passes for the real cells, fails for deliberately wrong NumPy cells.

The wrong cells (missing bias, missing forget bias, swapped gates, missing peepholes) are
the mistakes zero biases and a zero initial state used to hide; each must fail on every
cell kind it applies to and on stacked cells, where a wrong cell in one layer must show in
that layer's final state.
"""

from __future__ import annotations

import copy

import pytest

from rnngraph.explain.verify import MIN_STEPS, TOLERANCE, numpy_step, verify_built
from rnngraph.model.spec import ModelSpec

pytestmark = pytest.mark.tf
_DEFAULTS = ModelSpec().as_dict()


@pytest.fixture(scope="module")
def build(built):
    def get(spec):
        return built(**{k: v for k, v in spec.as_dict().items() if v != _DEFAULTS[k]})
    return get


def _check(spec: dict, build, step=numpy_step) -> dict:
    model = ModelSpec(**spec)
    return verify_built(build(model), build, step=step)


REAL = [
    {"cell": "rnn"},
    {"cell": "lstm", "activation": "relu"},
    {"cell": "lstm-peephole", "control_flow": "v2", "sequence_length": True},
    {"cell": "gru", "kind": "static", "layers": 3, "dropout": 0.5},
    {"cell": "lstm", "layers": 3, "dropout": 0.5},
    {"cell": "gru", "projection": 2, "sequence_length": True},
    {"cell": "lstm", "kind": "static", "sequence_length": True},
    {"cell": "rnn", "kind": "static", "static_inputs": "list", "head": "mnist"},
]


@pytest.mark.parametrize("spec", REAL, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_real_cells_pass(spec, build):
    result = _check(spec, build)
    assert result["ok"], result["rows"]
    assert result["steps"] >= MIN_STEPS
    layers = spec.get("layers", 1)
    per_layer = 2 if spec["cell"].startswith("lstm") else 1
    state_rows = [r for r in result["rows"] if r.startswith("final state")]
    assert len(state_rows) == layers * per_layer
    assert "random non-zero values" in result["summary"]


def test_dropout_masks_are_recorded(build):
    for spec in ({"cell": "lstm", "layers": 3, "dropout": 0.5},
                 {"cell": "gru", "kind": "static", "layers": 3, "dropout": 0.5}):
        summary = _check(spec, build)["summary"]
        assert "dropout on with keep probability 0.6, the masks recorded from the run" in summary
    v2 = _check({"cell": "rnn", "control_flow": "v2", "dropout": 0.5}, build)
    assert v2["ok"] and "dropout not exercised" in v2["summary"]


def _wrong(mistake: str, only_layer=None):
    """Return a NumPy step with one mistake (in one layer of a stack if ``only_layer``)."""
    def step(cell, w, x, state):
        if only_layer is not None and f"cell_{only_layer}/" not in cell.scope:
            return numpy_step(cell, w, x, state)
        cell, w = copy.deepcopy(cell), dict(w)
        if mistake == "bias":
            w["bias"] = w["bias"] * 0.0
        elif mistake == "forget bias":
            cell.forget_bias = None
        elif mistake == "peepholes":
            w = {k: v for k, v in w.items() if not k.startswith("peep_")}
        elif mistake == "swapped gates":
            a, b = ("i", "f") if cell.kind == "lstm" else ("r", "u")
            cell.gate_nodes[a], cell.gate_nodes[b] = cell.gate_nodes[b], cell.gate_nodes[a]
        return numpy_step(cell, w, x, state)
    return step


WRONG = [(cell, mistake) for cell, mistakes in {
    "rnn": ["bias"], "lstm": ["bias", "forget bias", "swapped gates"],
    "lstm-peephole": ["bias", "forget bias", "swapped gates", "peepholes"],
    "gru": ["bias", "swapped gates"]}.items() for mistake in mistakes]


@pytest.mark.parametrize("cell, mistake", WRONG)
def test_wrong_cells_fail(cell, mistake, build):
    result = _check({"cell": cell}, build, step=_wrong(mistake))
    assert not result["ok"] and result["max_abs_diff"] > 100 * TOLERANCE


@pytest.mark.parametrize("cell, mistake", [("lstm-peephole", "peepholes"), ("gru", "swapped gates"),
                                           ("lstm", "forget bias"), ("rnn", "bias")])
def test_wrong_cell_in_one_layer_of_a_stack_fails_in_that_layer(cell, mistake, build):
    spec = {"cell": cell, "layers": 3}
    right = _check(spec, build)
    assert right["ok"]
    result = _check(spec, build, step=_wrong(mistake, only_layer=1))
    assert not result["ok"]
    rows = {r.split(" (")[0]: float(r.rsplit("= ", 1)[1]) for r in result["rows"]
            if r.startswith("final state")}
    assert all(v < TOLERANCE for k, v in rows.items() if k.startswith("final state layer 1"))
    assert any(v > 100 * TOLERANCE for k, v in rows.items() if k.startswith("final state layer 2"))


def test_verify_leaves_the_callers_graph_as_it_was(build):
    """Before: setting random weights added assign ops to the built graph, so a later walk of the
    same (cached) graph counted 8 more nodes and the explain goldens depended on test order."""
    model = build(ModelSpec(cell="lstm", steps=3))
    before = sorted(n.name for n in model.graph.as_graph_def().node)
    assert verify_built(model, build)["ok"]
    assert sorted(n.name for n in model.graph.as_graph_def().node) == before
