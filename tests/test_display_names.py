"""Function-body nodes are shown to people by their display name, never by walk's ``::`` key.

``rnn/while/body::/basic_rnn_cell/MatMul`` is shown ``rnn/while ▸ body ▸ basic_rnn_cell/MatMul``
in explain's prose, drawing labels, tooltips and notes, and the page's panel; JSON findings and
DOM ids keep the key.  Each display form resolves back to exactly one node.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnngraph.graphdef.names import SEPARATOR, display_name, display_text, key_of
from rnngraph.graphdef.walk import RESERVED

KERAS = Path(__file__).parent / "fixtures" / "keras"
# TensorFlow's node names (tensorflow/core/framework/node_def_util.cc, kNodeNameRegexp).
_TF_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\-/>]*")


@pytest.mark.parametrize("key, shown", [
    ("rnn/while/body::/basic_rnn_cell/MatMul", "rnn/while ▸ body ▸ basic_rnn_cell/MatMul"),
    ("rnn/while/body::/::retval_add", "rnn/while ▸ body ▸ result add"),
    ("rnn/while/cond::/Less", "rnn/while ▸ cond ▸ Less"),
    ("a/body::/b/If/then_branch::/c", "a ▸ body ▸ b/If ▸ then_branch ▸ c"),
    ("while/body::", "while ▸ body"),
    ("rnn/while/Merge", "rnn/while/Merge"),
])
def test_display_name_and_back(key, shown):
    shown = shown.replace(" ▸ ", SEPARATOR).replace("result ", "result\u00a0")
    assert display_name(key) == shown
    assert key_of(shown) == key
    assert RESERVED not in shown
    if RESERVED in key:  # never a name TensorFlow could give a node
        assert not _TF_NAME.fullmatch(shown) and SEPARATOR in shown


def test_display_text_rewrites_every_key_in_prose():
    text = ("Recognised: rnn cell rnn/while/body::/basic_rnn_cell; X_t "
            "(rnn/while/body::/TensorArrayV2Read/TensorListGetItem), body while/body::.")
    assert display_text(text) == (
        "Recognised: rnn cell rnn/while ▸ body ▸ basic_rnn_cell; X_t "
        "(rnn/while ▸ body ▸ TensorArrayV2Read/TensorListGetItem), body while ▸ body."
    ).replace(" ▸ ", SEPARATOR)
    assert display_text("no keys here: rnn/while/Merge") == "no keys here: rnn/while/Merge"


def _named(text: str) -> list:
    """Return the display names in ``text`` (caller ▸ role ▸ name)."""
    part = r"[A-Za-z0-9_.\-/>]+"
    sep = re.escape(SEPARATOR)
    return re.findall(rf"{part}(?:{sep}(?:result\u00a0)?{part})+", text)


def _resolve_each(graph, text: str) -> None:
    """Each display name in ``text`` is exactly one node's (or a function body's scope)."""
    shown = {display_name(n): n for n in graph.nodes}
    assert len(shown) == graph.number_of_nodes()  # no two nodes shown alike
    for name in _named(text):
        name = name.rstrip(".")
        key = key_of(name)
        assert key in graph or any(n.startswith(key + "/") for n in graph), name
        if key in graph:
            assert shown[name] == key


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("topic", ["rnn", "lstm", "gru", "while_loop", "tensor_array", "dynamic"])
def test_v2_explanations_show_no_keys(walked, built, topic):
    from rnngraph.explain import explain, render_json, render_markdown, render_text
    from rnngraph.model.spec import ModelSpec

    def build(spec):
        changed = {k: v for k, v in spec.as_dict().items() if v != ModelSpec().as_dict()[k]}
        return built(**changed)

    expl = explain(topic, ModelSpec(control_flow="v2"), build=build)
    for text in (render_text(expl), render_markdown(expl)):
        assert RESERVED not in text, [line for line in text.splitlines() if RESERVED in line][:3]
    assert SEPARATOR in render_text(expl)  # the body's nodes are named, by display name
    spec = expl.spec
    graph = walked(**{k: v for k, v in spec.items() if v != ModelSpec().as_dict()[k]})
    _resolve_each(graph, render_text(expl))
    json_text = render_json(expl)
    assert RESERVED in json_text  # findings are data: they keep the keys


@pytest.mark.parametrize("name", ["k2-lstm.frozen.pbtxt", "k2-gru.frozen.pbtxt",
                                  "hand-gru-while-v2.pbtxt"])
def test_keras_explanations_show_no_keys(name):
    from rnngraph.explain import explain_file, render_text
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk

    graph = walk(load_graph_def(str(KERAS / name))[0])
    assert any(RESERVED in n for n in graph)
    for topic in ("rnn", "while_loop"):
        text = render_text(explain_file(topic, str(KERAS / name)))
        assert RESERVED not in text, (name, topic)
        _resolve_each(graph, text)


@pytest.mark.parametrize("path", [KERAS / "hand-gru-while-v2.pbtxt", KERAS / "k2-lstm.frozen.pbtxt",
                                  Path(__file__).parent / "fixtures" / "tflite" / "keras3_lstm.tflite"],
                         ids=lambda p: p.name)
def test_inspect_shows_no_keys(path, capsys):
    """inspect's text (the loop condition, cells, calls) shows display names, --json the keys."""
    from rnngraph.cli import main
    from rnngraph.graphdef.loaders import load_graph_def
    from rnngraph.graphdef.walk import walk

    graph = walk(load_graph_def(str(path))[0])
    assert any(RESERVED in n for n in graph)
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert RESERVED not in text
    if path.suffix == ".tflite":  # its loop condition is a node in the cond function (it had the key)
        assert f"cond{SEPARATOR}" in text
    _resolve_each(graph, text)


def _svg_text(svg: str) -> list:
    """Return what the SVG shows people: its texts and tooltips (not the ids in <title>)."""
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg) + re.findall(r'xlink:title="([^"]*)"', svg)


@pytest.mark.dot
@pytest.mark.parametrize("name", ["k2-lstm.frozen.pbtxt", "hand-gru-while-v2.pbtxt"])
@pytest.mark.parametrize("focus", [None, "while_loop", "cell"])
def test_drawings_show_no_keys(name, focus):
    from rnngraph.api import inspect

    graph = inspect(str(KERAS / name))
    svg = graph._drawn("svg", graph.options(focus=focus)).decode("utf-8")
    shown = _svg_text(svg)
    assert shown and not [t for t in shown if RESERVED in t], [t for t in shown if RESERVED in t][:3]
    assert any(SEPARATOR.strip() in t for t in shown)
    assert RESERVED in svg  # the ids (<title>, DOM) keep the keys


def test_the_page_panel_gets_each_body_node_display_name():
    from rnngraph.api import inspect

    graph = inspect(str(KERAS / "hand-gru-while-v2.pbtxt"))
    page = graph._drawn("html", graph.options())
    page = page.decode("utf-8") if isinstance(page, bytes) else page
    body = sorted(n for n in graph.networkx if RESERVED in n)[0]
    assert f'"v":"{display_name(body)}"' in page  # what the panel and search show
    assert f'"n":"{body}"' in page  # the key: ids, links and the URL keep it
