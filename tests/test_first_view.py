"""The page's first view shows the cell's gates, legible, for every cell form rnngraph recognises.

Headless Chromium opens each page as a user would; the gate nodes (the split
that makes them and each gate's activation, as the recogniser names them)
must be drawn inside the view with labels of at least 10 px on screen.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_html import _open, chromium  # noqa: F401 (the module's one Chromium)

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# On-screen rectangle and font size (px) of each box drawn now, by its box id.
_GEOMETRY = """
var view = document.querySelector('#rg-view').getBoundingClientRect(), out = {};
document.querySelectorAll('#rg-view svg.rg-graph g.node').forEach(function (g) {
  var r = g.getBoundingClientRect(), t = g.querySelector('text');
  var px = t ? parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a : 0;
  out[g.getAttribute('data-box')] = {
    inside: r.left >= view.left && r.top >= view.top && r.right <= view.right && r.bottom <= view.bottom,
    px: px, text: Array.from(g.querySelectorAll('text')).map(function (x) { return x.textContent; })};
});
return out;
"""


def _keras(name: str = "k2-lstm.frozen.pbtxt"):
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk

    return walk(load_graph_def(FIXTURES / "keras" / name)[0])


def _gate_nodes(graph) -> dict:
    """Return {node: gate names} of the first cell's split and gate activations."""
    from rnngraph.recognise import recognise

    cell = recognise(graph).cells[0]
    nodes: dict = {}
    for gate, info in cell.gate_nodes.items():
        nodes.setdefault(info["slice"].rpartition(":")[0], []).append(gate)
        nodes.setdefault(info["activation"], []).append(gate)
    return nodes


CASES = {
    "dynamic-lstm-v1": dict(kind="dynamic", cell="lstm", steps=2),
    "static-lstm": dict(kind="static", cell="lstm", steps=3),
    "dynamic-gru-v2": dict(kind="dynamic", cell="gru", steps=2, control_flow="v2"),
    "keras-lstm": "k2-lstm.frozen.pbtxt",
    "keras-3-gru": "k3-gru.frozen.pbtxt",  # the candidate's tanh far below the split: still in view
}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("case", [pytest.param(c, marks=[] if isinstance(CASES[c], str)
                                                 else [pytest.mark.tf]) for c in CASES])
def test_first_view_shows_the_gates_legibly(case, request, tmp_path, chromium):  # noqa: F811
    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.html import render_html

    if isinstance(CASES[case], str):
        graph = _keras(CASES[case])
    else:  # built by TensorFlow (the walked fixture imports it the way rnngraph does)
        graph = request.getfixturevalue("walked")(**CASES[case])
    gates = _gate_nodes(graph)
    assert len(gates) >= 2, gates  # the split and the activations (one for both GRU gates)
    path = tmp_path / f"{case}.html"
    path.write_text(render_html(graph, RenderOptions(title=case)), encoding="utf-8")
    _open(chromium, path.as_uri())
    shots = os.environ.get("RNNGRAPH_SHOTS")  # keep the screenshots to look at
    if shots:
        chromium.save_screenshot(str(Path(shots) / f"{case}.png"))
    drawn = chromium.execute_script(_GEOMETRY)
    for node, names in gates.items():
        assert node in drawn, (case, node, "not drawn as its own box")
        box = drawn[node]
        assert box["inside"], (case, node, "outside the first view")
        assert box["px"] >= 10, (case, node, box["px"])
        label = " ".join(box["text"])
        assert all(g in label for g in names), (case, node, label)  # the gate is named


@pytest.mark.browser
@pytest.mark.slow
def test_at_fit_the_minimap_steps_aside(tmp_path, chromium):  # noqa: F811
    from rnngraph.draw.dot import RenderOptions
    from rnngraph.draw.html import render_html

    path = tmp_path / "fit.html"
    path.write_text(render_html(_keras(), RenderOptions(title="fit")), encoding="utf-8")
    _open(chromium, path.as_uri())
    mini = "return getComputedStyle(document.querySelector('#rg-view svg.rg-mini')).display"
    assert chromium.execute_script(mini) != "none"  # zoomed in on the gates: the minimap helps
    chromium.execute_script("document.getElementById('rg-fit').click();")
    assert chromium.execute_script(mini) == "none"  # the whole drawing in view: it would cover it


@pytest.mark.tf
def test_every_step_copy_names_its_gates(walked):
    """Split outputs carry gate names in every copy of an unrolled LSTM, not only the first."""
    from rnngraph.draw.roles import structure_labels

    graph = walked(kind="static", cell="lstm", steps=4)
    splits = sorted(n for n, d in graph.nodes(data=True) if d["op"] == "Split")
    assert len(splits) == 4
    labels = structure_labels(graph)
    assert all(labels.get(s) == ["outputs i, j, f, o"] for s in splits), splits
    gates = [lines[0] for n, lines in labels.items() if graph.nodes[n]["op"] in ("Sigmoid", "Tanh")]
    assert sorted(gates) == sorted(["gate i", "gate j", "gate f", "gate o"] * 4)
