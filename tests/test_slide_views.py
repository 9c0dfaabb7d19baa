"""The loop and TensorArray focus views fit a 16:9 slide over the cell kinds and forms, and keep
every node their caption and notes name.

The gallery test checks the committed figures (a plain RNN); these build the other variants
(LSTM, GRU, two layers, sequence_length, peepholes, control flow v2), draw them with Graphviz
and read the SVG's size and smallest font, as ``rnngraph gallery`` writes under each figure.
"""

from __future__ import annotations

import re
import shutil

import pytest

from rnngraph.draw.dot import RenderOptions, to_dot
from rnngraph.draw.focus import focus_view
from rnngraph.draw.layout import Layout
from rnngraph.draw.statements import graphviz_title
from rnngraph.gallery import SLIDE, SLIDE_TEXT_PX, svg_size
from rnngraph.recognise import recognise

pytestmark = [pytest.mark.tf, pytest.mark.dot, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz dot")]

_VARIANTS = {
    "lstm": dict(cell="lstm"),
    "gru": dict(cell="gru"),
    "two layers": dict(layers=2),
    "sequence_length": dict(sequence_length=True),
    "peepholes": dict(cell="lstm-peephole"),
    "v2": dict(control_flow="v2"),
    "v2 lstm": dict(control_flow="v2", cell="lstm"),
    "v2 gru two layers": dict(control_flow="v2", cell="gru", layers=2),
}


def _drawn(graph, topic: str):
    """Return (view, layout, SVG text) of ``topic``'s focus view as ``render --focus`` draws it."""
    from rnngraph.draw.output import run_graphviz

    view = focus_view(graph, topic)
    options = RenderOptions(focus_nodes=frozenset(view.nodes), annotations=view.annotations,
                            labels=view.labels, title=f"t\nfocus: {topic}", folds=view.folds,
                            rankdir=view.rankdir, notes_beside=view.notes_beside,
                            after=tuple(view.after))
    return view, Layout(graph, options), run_graphviz(to_dot(graph, options), "svg").decode("utf-8")


def _boxes_in(svg: str) -> set:
    return set(re.findall(r"<title>([^<]*)</title>", svg))


def _fits(svg: str) -> tuple:
    width, height, font = svg_size(svg)
    scale = min(1.0, SLIDE[0] / width, SLIDE[1] / height)
    return font * scale >= SLIDE_TEXT_PX, (round(width), round(height), round(font * scale, 1))


def _shown(layout, svg: str, node: str) -> bool:
    """Whether ``node`` is in the SVG: as its own box, or inside a box that folds it (its tooltip)."""
    import html

    box = layout.box_of.get(node)
    if box is None:
        return False
    titles = {html.unescape(t) for t in _boxes_in(svg)}
    return graphviz_title(box) in titles


@pytest.mark.parametrize("name", sorted(_VARIANTS))
@pytest.mark.parametrize("topic", ["while_loop", "tensor_array"])
def test_loop_views_fit_a_slide_and_draw_what_they_name(walked, name, topic):
    graph = walked(kind="dynamic", steps=2, **_VARIANTS[name])
    view, layout, svg = _drawn(graph, topic)
    fits, size = _fits(svg)
    assert fits, (name, topic, size)
    # Every note is drawn, beside its node or beside the box its node is folded into.
    for node in view.annotations:
        assert _shown(layout, svg, node), (name, topic, node)
    found = recognise(graph)
    if topic == "while_loop":
        for loop in found.while_loops:
            if loop.control_flow == "v1":  # the caption: Enter … Exit for each loop variable
                for var in loop.loop_vars:
                    for node in (var.enter, var.merge, var.switch, var.identity,
                                 var.next_iteration, var.exit):
                        assert node is None or layout.box_of.get(node) == node, (name, node)
            else:  # the While, its two functions, and every loop variable by name
                assert layout.box_of.get(loop.name) == loop.name
                assert loop.cond_function in svg and loop.body_function in svg
                for var in loop.loop_vars:
                    assert _shown(layout, svg, var.identity), (name, var.identity)
    else:  # the caption: scattered into one array, read per step, written into another, gathered
        for ta in found.tensor_arrays:
            if ta.role == "unused":
                continue
            named = [ta.name, *ta.reads, *ta.writes, ta.unstack, ta.stack]
            for node in filter(None, named):
                assert _shown(layout, svg, node), (name, ta.name, node)


def test_seven_loop_variables_are_the_known_limit(walked):
    """Seven loop variables (two LSTM layers) make a v1 loop's view taller than a slide (the
    README says so): if this starts to fit, move the variant into _VARIANTS."""
    _, _, svg = _drawn(walked(kind="dynamic", steps=2, cell="lstm", layers=2), "while_loop")
    fits, size = _fits(svg)
    assert not fits and size[1] > SLIDE[1], size
